/* Whole networks: the ONNX oracle networks shipped with weights against
 * PyTorch's reference outputs (tests/oracle/networks/reference), runs from
 * several threads with separate contexts, the activation plan of deep
 * networks (ResNet-50 at 224), and the graph-only ONNX files whose external
 * weights are absent. */
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static ck_graph *load_checked(const char *path, const ck_shape *in, ck_diags *d) {
    ck_graph *g = NULL;
    if (ck_load_file(path, NULL, &g, d) != CK_OK) return NULL;
    if (in) ck_graph_set_input_shape(g, 0, in);
    if (ck_check(g, d) != CK_OK) {
        ck_graph_free(g);
        return NULL;
    }
    return g;
}

static int64_t numel(const ck_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->d[i];
    return n;
}

typedef struct job {
    const ck_session *s;
    const float *x;
    float *y;
    ck_status st;
} job;

static void *run_job(void *p) {
    job *j = p;
    ck_session_ctx *c = NULL;
    j->st = ck_session_ctx_new(j->s, &c);
    if (j->st == CK_OK) {
        const float *ins[1] = {j->x};
        float *outs[1] = {j->y};
        for (int r = 0; r < 2 && j->st == CK_OK; r++) j->st = ck_session_run(j->s, c, ins, outs);
    }
    ck_session_ctx_free(c);
    return NULL;
}

/* One reference pair: max abs error within 1e-4 + 1e-3*|ref| per element
 * (numpy.allclose with the suggested tolerance). */
static void reference(const char *name, bool threads) {
    char path[256];
    ck_diags d = {0};
    ck_tensor_f32 *x = NULL, *ref = NULL;
    snprintf(path, sizeof path, "tests/oracle/networks/reference/%s.input.npy", name);
    CHECK(ck_npy_read(path, &x, &d) == CK_OK, "%s: cannot read %s", name, path);
    snprintf(path, sizeof path, "tests/oracle/networks/reference/%s.output.npy", name);
    CHECK(ck_npy_read(path, &ref, &d) == CK_OK, "%s: cannot read %s", name, path);
    snprintf(path, sizeof path, "tests/oracle/networks/%s.onnx", name);
    ck_graph *g = x ? load_checked(path, &x->shape, &d) : NULL;
    CHECK(g != NULL, "%s: does not load and check: %s", name, d.n ? d.v[d.n - 1].message : "");
    ck_session *s = NULL;
    if (g)
        CHECK(ck_session_new(g, NULL, &s, &d) == CK_OK, "%s: session: %s", name,
              d.n ? d.v[d.n - 1].message : "");
    if (s && ref) {
        ck_shape os = ck_session_output_shape(s, 0);
        int64_t n = numel(&os);
        CHECK(n == ck_tensor_f32_numel(ref), "%s: output size", name);
        float *y = calloc((size_t)n, sizeof *y);
        job j = {.s = s, .x = x->data, .y = y};
        run_job(&j);
        CHECK(j.st == CK_OK, "%s: run", name);
        double worst = 0, worst_rel = 0, mref = 0;
        bool close = true;
        for (int64_t i = 0; i < n && n == ck_tensor_f32_numel(ref); i++) {
            double r = ref->data[i], e = fabs(y[i] - r);
            mref = fmax(mref, fabs(r));
            if (!(e <= 1e-4 + 1e-3 * fabs(r))) close = false;
            worst = fmax(worst, e);
        }
        worst_rel = worst / fmax(1.0, mref);
        CHECK(close, "%s: output differs from PyTorch's (max abs error %g)", name, worst);
        CHECK(worst_rel <= 1e-3, "%s: max error %g relative to max|ref| %g", name, worst, mref);
        ck_session_memory m = ck_session_memory_plan(s);
        printf("%-14s max abs error %.3g (max|ref| %.3g, relative %.3g); activations %lld bytes "
               "in %d buffers (naive %lld)\n",
               name, worst, mref, worst_rel, (long long)m.activation_bytes, m.buffers,
               (long long)m.naive_bytes);
        CHECK(m.activation_bytes < m.naive_bytes, "%s: the plan saves nothing", name);
        if (threads) {
            /* separate contexts on four threads give the same bits */
            enum { T = 4 };
            pthread_t th[T];
            job js[T];
            float *ys[T];
            for (int t = 0; t < T; t++) {
                ys[t] = calloc((size_t)n, sizeof *ys[t]);
                js[t] = (job){.s = s, .x = x->data, .y = ys[t]};
                pthread_create(&th[t], NULL, run_job, &js[t]);
            }
            for (int t = 0; t < T; t++) {
                pthread_join(th[t], NULL);
                CHECK(js[t].st == CK_OK && memcmp(ys[t], y, (size_t)n * sizeof *y) == 0,
                      "%s: thread %d differs", name, t);
                free(ys[t]);
            }
        }
        free(y);
    }
    ck_session_free(s);
    ck_graph_free(g);
    ck_tensor_f32_free(x);
    ck_tensor_f32_free(ref);
    ck_diags_free(&d);
}

/* Graph-only ONNX files: their weights are external and not shipped; a
 * session names the layer, the tensor and the missing file. */
static void missing_weights(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "tests/oracle/networks/%s.onnx", name);
    ck_diags d = {0};
    ck_shape in = {.rank = 4, .d = {1, 3, 224, 224}};
    ck_graph *g = load_checked(path, &in, &d);
    CHECK(g != NULL, "%s: does not check", name);
    ck_session *s = NULL;
    ck_diags sd = {0};
    snprintf(path, sizeof path, "tests/oracle/networks/weights/%s.onnx.data", name);
    FILE *f = fopen(path, "rb");
    if (f) { /* the weights were exported locally: they must run */
        fclose(f);
        CHECK(g && ck_session_new(g, NULL, &s, &sd) == CK_OK, "%s: session with weights", name);
    } else if (g) {
        ck_status st = ck_session_new(g, NULL, &s, &sd);
        CHECK(st == CK_EIO && !s, "%s: missing external data gives CK_EIO, got %d", name, st);
        CHECK(sd.n > 0 && sd.v[0].layer && strstr(sd.v[0].message, "weights/") &&
                  strstr(sd.v[0].message, "cannot be opened"),
              "%s: diagnostic names the file: %s", name, sd.n ? sd.v[0].message : "");
    }
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
    ck_diags_free(&sd);
}

/* ResNet-50 as a .cnn spec (tests/oracle/runtime/resnet50.cnn): the plan's
 * peak activation memory against one buffer per layer output. */
static void resnet50_plan(void) {
    ck_diags d = {0};
    ck_graph *g = load_checked("tests/oracle/runtime/resnet50.cnn", NULL, &d);
    CHECK(g != NULL, "resnet50.cnn does not check: %s", d.n ? d.v[d.n - 1].message : "");
    ck_session *s = NULL;
    if (g) CHECK(ck_session_new(g, NULL, &s, &d) == CK_OK, "resnet50 session");
    if (s) {
        ck_session_memory m = ck_session_memory_plan(s);
        ck_totals t = ck_graph_totals(g);
        printf("resnet50@224   activations %lld bytes in %d buffers + scratch %lld; naive sum %lld "
               "bytes (%.1fx); %d kernels; weights %lld bytes\n",
               (long long)m.activation_bytes, m.buffers, (long long)m.scratch_bytes,
               (long long)m.naive_bytes, (double)m.naive_bytes / (double)m.activation_bytes,
               m.steps, (long long)m.weight_bytes);
        CHECK(m.naive_bytes == t.activation_bytes, "naive sum %lld != ck_totals %lld",
              (long long)m.naive_bytes, (long long)t.activation_bytes);
        CHECK(t.params == 25557032, "resnet50 has %lld parameters, torchvision 25557032",
              (long long)t.params);
        /* weights are held once: fast kernels keep their packed copy only
         * (batch norms folded; their C-sized scale/shift stay). Winograd
         * layers hold 4x4 (F(2x2)) or 6x6 (F(4x4), the six 64- and
         * 128-channel layers) instead of 3x3 taps: the 13 3x3 stride-1
         * layers' 7.1 M weights become 13.9 M */
        ck_session_info si = ck_session_describe(s);
        int64_t cap =
            si.kernels == CK_KERNELS_REF ? 4 * t.params * 11 / 10 : 4 * t.params * 135 / 100;
        CHECK(m.owned_weight_bytes < cap, "resnet50 holds %lld weight bytes",
              (long long)m.owned_weight_bytes);
        /* the largest tensors are 112x112x64 and 56x56x256 (3.2 MB): a handful live */
        CHECK(m.activation_bytes <= 5 * 3211264, "resnet50 activations %lld",
              (long long)m.activation_bytes);
    }
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
}

/* A chain holds at most a few buffers whatever its depth. */
static void chain_plan(void) {
    char text[8192];
    int k = snprintf(text, sizeof text, "input: [1, 8, 32, 32]\n");
    for (int i = 0; i < 30; i++)
        k += snprintf(text + k, sizeof text - (size_t)k,
                      "c%d = Conv2d(8, 8, 3, padding=1)\nb%d = BatchNorm2d(8)\nr%d = ReLU()\n", i,
                      i, i);
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(ck_parse_cnn(text, strlen(text), "chain", NULL, &g, &d) == CK_OK &&
              ck_check(g, &d) == CK_OK,
          "deep chain checks");
    /* reference kernels: NCHW buffers of exactly the tensor size */
    ck_session *s = NULL;
    ck_session_options ref = {.kernels = CK_KERNELS_REF};
    CHECK(ck_session_new(g, &ref, &s, &d) == CK_OK, "deep chain session");
    ck_session_memory m = ck_session_memory_plan(s);
    CHECK(m.buffers == 2, "a 90-layer chain uses %d buffers, want 2", m.buffers);
    CHECK(m.activation_bytes == 2 * 8 * 32 * 32 * 4, "chain arena %lld",
          (long long)m.activation_bytes);
    CHECK(m.steps == 90, "one kernel per layer: %d", m.steps);
    ck_session_free(s);
    /* fast kernels: blocked buffers pad 8 channels to one block of up to 16 */
    s = NULL;
    CHECK(ck_session_new(g, NULL, &s, &d) == CK_OK, "deep chain session");
    m = ck_session_memory_plan(s);
    CHECK(m.buffers == 2, "a 90-layer chain uses %d buffers, want 2", m.buffers);
    CHECK(m.activation_bytes <= 2 * 16 * 32 * 32 * 4, "chain arena %lld",
          (long long)m.activation_bytes);
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
}

int main(void) {
    reference("chain", false);
    reference("unet", true);
    reference("squeezenet1_0", false);
    missing_weights("resnet18");
    missing_weights("mobilenet_v2");
    resnet50_plan();
    chain_plan();
    return TEST_DONE("runtime_networks");
}
