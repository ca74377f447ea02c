/* The session API on bad input: ONNX external data present, missing,
 * truncated or outside the model's folder; unchecked graphs; misuse of the
 * run call. Also: the seeded default initialisation, and Keras channels-last
 * layers against the same PyTorch layers (same weights through the
 * parameter callback). */
#include "convkit.h"
#include "test.h"
#include "test_onnx_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static bool has(const ck_diags *d, const char *text) {
    for (int i = 0; i < d->n; i++)
        if (d->v[i].message && strstr(d->v[i].message, text)) return true;
    return false;
}

/* y = x @ W^T + b with W [3, 2] and b [3] stored in `location`. */
static void write_model(const char *location) {
    tb *b = tb_new(13);
    tb_input(b, "x", 2, TB_D(1, 2));
    const char *names[2] = {"W", "B"};
    const int64_t dims[2][2] = {{3, 2}, {3, 0}};
    const char *offs[2] = {"0", "24"}, *lens[2] = {"24", "12"};
    for (int k = 0; k < 2; k++) {
        Onnx__TensorProto *t = tb_init(b, names[k], k ? 1 : 2, dims[k], NULL);
        t->has_data_location = 1;
        t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        t->n_external_data = 3;
        t->external_data = tb_alloc(b, 3 * sizeof *t->external_data);
        const char *kv[3][2] = {{"location", location}, {"offset", offs[k]}, {"length", lens[k]}};
        for (int i = 0; i < 3; i++) {
            Onnx__StringStringEntryProto *e = tb_alloc(b, sizeof *e);
            onnx__string_string_entry_proto__init(e);
            e->key = tb_str(b, kv[i][0]);
            e->value = tb_str(b, kv[i][1]);
            t->external_data[i] = e;
        }
    }
    Onnx__NodeProto *n = tb_node(b, "Gemm", "fc", TB_L("x", "W", "B"), TB_L("y"));
    tb_attr_int(b, n, "transB", 1);
    tb_output(b, "y");
    size_t len;
    uint8_t *p = tb_pack(b, &len);
    char path[128];
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, len, f);
        fclose(f);
    }
    free(p);
    tb_free(b);
}

static void write_data(const char *rel, size_t bytes) {
    const float v[9] = {1, 2, 3, 4, 5, 6, 0.5f, -1, 2};
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(v, 1, bytes, f);
        fclose(f);
    }
}

static ck_status session_for(const char *weights_dir, ck_session **s, ck_diags *d,
                             ck_graph **gout) {
    char path[128];
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    ck_graph *g = NULL;
    ck_status st = ck_load_file(path, NULL, &g, d);
    if (st == CK_OK) st = ck_check(g, d);
    ck_session_options opt = {.weights_dir = weights_dir};
    if (st == CK_OK) st = ck_session_new(g, &opt, s, d);
    *gout = g;
    return st;
}

static void external_data(void) {
    char sub[96];
    snprintf(sub, sizeof sub, "%s/weights", dir);
    mkdir(sub, 0755);
    write_model("weights/m.data");
    write_data("weights/m.data", 36);
    ck_session *s = NULL;
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(session_for(NULL, &s, &d, &g) == CK_OK, "external data read: %s",
          d.n ? d.v[d.n - 1].message : "");
    if (s) {
        float x[2] = {1, -1}, y[3] = {0};
        const float *in[1] = {x};
        float *out[1] = {y};
        ck_session_ctx *c = NULL;
        ck_session_ctx_new(s, &c);
        CHECK(ck_session_run(s, c, in, out) == CK_OK, "run");
        /* rows of W: (1,2) (3,4) (5,6); b = (0.5, -1, 2) */
        CHECK(y[0] == -0.5f && y[1] == -2.0f && y[2] == 1.0f, "y = %g %g %g", y[0], y[1], y[2]);
        ck_session_memory m = ck_session_memory_plan(s);
        /* read once; a fast dense kernel keeps only its packed copy (W and b
         * padded to two vector blocks of output columns: [2 * vw][2 + 1]) */
        ck_session_info si = ck_session_describe(s);
        int vw = si.kernels == CK_KERNELS_AVX512 ? 16 : 8;
        int64_t want = si.fast_steps ? 4 * 2 * vw * 3 : 36;
        CHECK(m.owned_weight_bytes == want,
              "external weights are read once into the session (%lld, want %lld)",
              (long long)m.owned_weight_bytes, (long long)want);
        /* misuse of run: no error paths beyond NULL pointers */
        CHECK(ck_session_run(s, c, NULL, out) == CK_EUSAGE, "NULL inputs");
        const float *nin[1] = {NULL};
        CHECK(ck_session_run(s, c, nin, out) == CK_EUSAGE, "NULL input 0");
        CHECK(ck_session_run(s, NULL, in, out) == CK_EUSAGE, "NULL ctx");
        ck_tensor_f32 *t = NULL;
        ck_shape bad = {.rank = 2, .d = {1, 3}};
        ck_tensor_f32_new(&bad, &t);
        ck_diags e = {0};
        CHECK(ck_session_check_input(s, 0, t, &e) == CK_EINVALID &&
                  has(&e, "must have shape [1, 2], but the tensor has shape [1, 3]"),
              "check_input names both shapes");
        ck_diags_free(&e);
        ck_tensor_f32_free(t);
        ck_session_ctx_free(c);
    }
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);

    /* truncated: the bias needs bytes 24..36 */
    write_data("weights/m.data", 30);
    s = NULL;
    CHECK(session_for(NULL, &s, &d, &g) == CK_EIO && !s, "truncated data: CK_EIO");
    CHECK(has(&d, "needs bytes 24 to 36") && has(&d, "only 30 bytes (truncated)"),
          "truncated named: %s", d.n ? d.v[d.n - 1].message : "");
    CHECK(d.n && d.v[d.n - 1].layer && !strcmp(d.v[d.n - 1].layer, "fc"), "names the layer");
    ck_graph_free(g);
    ck_diags_free(&d);

    /* missing */
    char path[128];
    snprintf(path, sizeof path, "%s/weights/m.data", dir);
    unlink(path);
    CHECK(session_for(NULL, &s, &d, &g) == CK_EIO && !s, "missing data: CK_EIO");
    CHECK(has(&d, "weights/m.data, which cannot be opened"), "missing file named: %s",
          d.n ? d.v[d.n - 1].message : "");
    ck_graph_free(g);
    ck_diags_free(&d);

    /* weights_dir points elsewhere */
    write_data("m.data", 36);
    write_model("m.data");
    char other[96];
    snprintf(other, sizeof other, "%s", dir);
    CHECK(session_for(other, &s, &d, &g) == CK_OK, "weights_dir");
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);

    /* '..' is refused by the importer (warning) and the runtime (error) */
    write_model("../m.data");
    s = NULL;
    CHECK(session_for(NULL, &s, &d, &g) == CK_EIO && !s, "'..' location refused");
    CHECK(has(&d, "not in the model file"), "refusal explained: %s",
          d.n ? d.v[d.n - 1].message : "");
    ck_graph_free(g);
    ck_diags_free(&d);
    snprintf(path, sizeof path, "%s/m.data", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    unlink(path);
    rmdir(sub);
}

static ck_graph *cnn(const char *text, ck_diags *d) {
    ck_graph *g = NULL;
    if (ck_parse_cnn(text, strlen(text), "t.cnn", NULL, &g, d) != CK_OK) return NULL;
    ck_check(g, d);
    return g;
}

static void unchecked(void) {
    ck_diags d = {0};
    ck_graph *g = cnn("input: [1, 3, 4, 4]\nconv = Conv2d(3, 8, 5)\n", &d);
    ck_session *s = NULL;
    CHECK(g && ck_session_new(g, NULL, &s, &d) == CK_EUSAGE && !s &&
              has(&d, "has not passed ck_check()"),
          "a failed check refuses the session");
    ck_graph_free(g);
    ck_diags_free(&d);
    CHECK(ck_session_new(NULL, NULL, &s, &d) == CK_EUSAGE, "NULL graph");
}

/* PyTorch default init: Linear weights and bias in +-1/sqrt(in_features). */
static void seeded_init(void) {
    ck_diags d = {0};
    ck_graph *g = cnn("input: [1, 100]\nfc = Linear(100, 50)\n", &d);
    float x[100] = {0}, y[3][50];
    x[7] = 1.0f;
    for (int r = 0; r < 3; r++) {
        ck_session_options opt = {.seed = r == 2 ? 5u : 4u};
        ck_session *s = NULL;
        CHECK(ck_session_new(g, &opt, &s, &d) == CK_OK, "linear session");
        ck_session_ctx *c = NULL;
        ck_session_ctx_new(s, &c);
        const float *in[1] = {x};
        float *out[1] = {y[r]};
        ck_session_run(s, c, in, out);
        ck_session_ctx_free(c);
        ck_session_free(s);
    }
    bool bounded = true;
    for (int i = 0; i < 50; i++) bounded &= fabsf(y[0][i]) <= 0.2f;
    CHECK(bounded, "W[:, 7] + b within 2/sqrt(100)");
    CHECK(!memcmp(y[0], y[1], sizeof y[0]), "same seed, same weights");
    CHECK(memcmp(y[0], y[2], sizeof y[0]) != 0, "another seed, other weights");
    ck_graph_free(g);
    ck_diags_free(&d);
}

/* ---- Keras channels-last against PyTorch ------------------------------------ */

typedef struct wsrc {
    float w[4096], wk[4096]; /* PyTorch layout, Keras layout */
    float b[64];
    int nw;
} wsrc;

static const float *give(void *u, const char *layer, const char *param, const ck_shape *s) {
    wsrc *w = u;
    (void)layer;
    (void)s;
    if (!strcmp(param, "weight")) return w->w;
    if (!strcmp(param, "kernel") || !strcmp(param, "depthwise_kernel")) return w->wk;
    if (!strcmp(param, "bias")) return w->b;
    return NULL;
}

/* Runs a one-layer spec with the weights of ws on x; y receives the output. */
static bool run1(const char *text, wsrc *ws, const float *x, float *y, int64_t ny) {
    ck_diags d = {0};
    ck_graph *g = cnn(text, &d);
    ck_session *s = NULL;
    ck_session_options opt = {.params = give, .params_user = ws};
    bool ok = g && ck_session_new(g, &opt, &s, &d) == CK_OK;
    if (ok) {
        ck_shape os = ck_session_output_shape(s, 0);
        int64_t n = 1;
        for (int i = 0; i < os.rank; i++) n *= os.d[i];
        ok = n == ny;
        ck_session_ctx *c = NULL;
        ck_session_ctx_new(s, &c);
        const float *in[1] = {x};
        float *out[1] = {y};
        if (ok) ck_session_run(s, c, in, out);
        ck_session_ctx_free(c);
    }
    if (!ok) printf("run1 failed: %s\n%s", d.n ? d.v[d.n - 1].message : "", text);
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
    return ok;
}

/* x NCHW [1, C, H, W] -> NHWC */
static void to_nhwc(const float *x, float *y, int C, int H, int W) {
    for (int c = 0; c < C; c++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++) y[(h * W + w) * C + c] = x[(c * H + h) * W + w];
}

static double diff_nhwc(const float *nchw, const float *nhwc, int C, int H, int W) {
    double e = 0;
    for (int c = 0; c < C; c++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++)
                e = fmax(e, fabs(nchw[(c * H + h) * W + w] - nhwc[(h * W + w) * C + c]));
    return e;
}

static void keras_vs_torch(void) {
    static wsrc ws;
    static float x[3 * 7 * 7], xh[3 * 7 * 7], y1[4096], y2[4096];
    ck_shape xs = {.rank = 1, .d = {147}};
    ck_tensor_f32 *rx = NULL;
    ck_tensor_f32_new(&xs, &rx);
    ck_tensor_f32_fill_normal(rx, 11);
    memcpy(x, rx->data, sizeof x);
    ck_tensor_f32_free(rx);
    to_nhwc(x, xh, 3, 7, 7);
    for (int i = 0; i < 4096; i++) ws.w[i] = (float)sin(i * 0.37) * 0.5f;
    for (int i = 0; i < 64; i++) ws.b[i] = (float)cos(i * 1.3);

    /* Conv2d(3, 4, 3, stride 2, pad 1) == Conv2D(4, 3, strides=2, 'same') on 7x7 */
    for (int o = 0; o < 4; o++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 9; k++) ws.wk[(k * 3 + c) * 4 + o] = ws.w[(o * 3 + c) * 9 + k];
    bool ok =
        run1("input: [1, 3, 7, 7]\nc = Conv2d(3, 4, 3, stride=2, padding=1)\n", &ws, x, y1, 64) &&
        run1("input: [1, 7, 7, 3]\nc = Conv2D(4, 3, strides=2, padding=\"same\")\n", &ws, xh, y2,
             64);
    CHECK(ok && diff_nhwc(y1, y2, 4, 4, 4) < 1e-5, "Conv2D NHWC == Conv2d NCHW");

    /* depthwise, multiplier 2: Conv2d(3, 6, 3, groups=3) == DepthwiseConv2D(3, depth_multiplier=2)
     */
    for (int c = 0; c < 3; c++)
        for (int m = 0; m < 2; m++)
            for (int k = 0; k < 9; k++) ws.wk[(k * 3 + c) * 2 + m] = ws.w[(c * 2 + m) * 9 + k];
    ok =
        run1("input: [1, 3, 7, 7]\nc = Conv2d(3, 6, 3, groups=3)\n", &ws, x, y1, 150) &&
        run1("input: [1, 7, 7, 3]\nc = DepthwiseConv2D(3, depth_multiplier=2)\n", &ws, xh, y2, 150);
    CHECK(ok && diff_nhwc(y1, y2, 6, 5, 5) < 1e-5, "DepthwiseConv2D NHWC == grouped Conv2d");

    /* ConvTranspose2d(3, 2, 2, stride=2) == Conv2DTranspose(2, 2, strides=2) */
    for (int c = 0; c < 3; c++)
        for (int o = 0; o < 2; o++)
            for (int k = 0; k < 4; k++) ws.wk[(k * 2 + o) * 3 + c] = ws.w[(c * 2 + o) * 4 + k];
    ok = run1("input: [1, 3, 7, 7]\nc = ConvTranspose2d(3, 2, 2, stride=2)\n", &ws, x, y1, 392) &&
         run1("input: [1, 7, 7, 3]\nc = Conv2DTranspose(2, 2, strides=2)\n", &ws, xh, y2, 392);
    CHECK(ok && diff_nhwc(y1, y2, 2, 14, 14) < 1e-5, "Conv2DTranspose NHWC == ConvTranspose2d");

    /* pooling and global pooling on NHWC */
    ok = run1("input: [1, 3, 7, 7]\np = MaxPool2d(2)\n", &ws, x, y1, 27) &&
         run1("input: [1, 7, 7, 3]\np = MaxPooling2D(2)\n", &ws, xh, y2, 27);
    CHECK(ok && diff_nhwc(y1, y2, 3, 3, 3) == 0, "MaxPooling2D NHWC");
    ok = run1("input: [1, 3, 7, 7]\np = AdaptiveAvgPool2d(1)\n", &ws, x, y1, 3) &&
         run1("input: [1, 7, 7, 3]\np = GlobalAveragePooling2D()\n", &ws, xh, y2, 3);
    CHECK(ok && fabs(y1[0] - y2[0]) + fabs(y1[2] - y2[2]) < 1e-6, "GlobalAveragePooling2D NHWC");

    /* Dense on the last axis: Keras kernel [in, out] */
    for (int i = 0; i < 3; i++)
        for (int o = 0; o < 5; o++) ws.wk[i * 5 + o] = ws.w[o * 3 + i];
    ok = run1("input: [1, 7, 7, 3]\nfc = Linear(3, 5)\n", &ws, xh, y1, 245) &&
         run1("input: [1, 7, 7, 3]\nfc = Dense(5)\n", &ws, xh, y2, 245);
    double e = 0;
    for (int i = 0; ok && i < 245; i++) e = fmax(e, fabs(y1[i] - y2[i]));
    CHECK(ok && e < 1e-5, "Dense == Linear on the last axis (%g)", e);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/convkit-rt-XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    external_data();
    rmdir(dir);
    unchecked();
    seeded_init();
    keras_vs_torch();
    return TEST_DONE("runtime_api");
}
