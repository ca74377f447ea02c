/* The ops that move data between channels and pixels against
 * tests/oracle/shuffle (tests/oracle/gen/gen_shuffle.py): every row of
 * layers.jsonl (PyTorch PixelShuffle, PixelUnshuffle and ChannelShuffle as
 * .cnn; ONNX DepthToSpace and SpaceToDepth as one-node models) must give
 * the framework's output shape or error class (`spec_result` where onnx
 * 1.12 does not check what the operator definition requires), and every
 * case of numerics.jsonl must run to exactly the reference values. Also:
 * their cost (pure data movement) and receptive fields (a window of
 * kernel = stride = block, or its transpose). */
#include "convkit.h"
#include "test_onnx_util.h"
#include "test.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static int json_dims(json_t *arr, int64_t *out, int max) {
    int n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (n < max) out[n] = json_integer_value(v);
        n++;
    }
    return n;
}

/* The graph a row describes: a .cnn spec (PyTorch) or a one-node ONNX model. */
static ck_status load_row(json_t *row, ck_graph **g, ck_diags *d) {
    const char *fw = json_string_value(json_object_get(row, "framework"));
    const char *id = json_string_value(json_object_get(row, "id"));
    if (!id) id = json_string_value(json_object_get(row, "name"));
    int64_t in[8];
    int rank = json_dims(json_object_get(row, "input_shape"), in, 8);
    if (!strcmp(fw, "pytorch")) {
        char text[512];
        ck_shape s = {.rank = rank};
        for (int i = 0; i < rank && i < 8; i++) s.d[i] = in[i];
        char sb[160];
        snprintf(text, sizeof text, "input: %s\nlayer = %s\n", ck_shape_str(&s, sb, sizeof sb),
                 json_string_value(json_object_get(row, "code")));
        return ck_parse_cnn(text, strlen(text), id, NULL, g, d);
    }
    tb *b = tb_new(13);
    tb_input(b, "X", rank, in);
    Onnx__NodeProto *n =
        tb_node(b, json_string_value(json_object_get(row, "op")), id, TB_L("X"), TB_L("Y"));
    tb_output(b, "Y");
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(row, "attributes"), key, v) {
        if (json_is_integer(v))
            tb_attr_int(b, n, key, json_integer_value(v));
        else if (json_is_string(v))
            tb_attr_str(b, n, key, json_string_value(v));
    }
    size_t len;
    uint8_t *bytes = tb_pack(b, &len);
    tb_free(b);
    ck_status st = ck_load_onnx_memory(bytes, len, id, NULL, g, d);
    free(bytes);
    return st;
}

static void shape_text(char *buf, size_t n, const int64_t *d, int rank) {
    ck_shape s = {.rank = rank};
    for (int i = 0; i < rank && i < 8; i++) s.d[i] = d[i];
    ck_shape_str(&s, buf, n);
}

static int rows, by_fw[2];

static void layer_row(json_t *row) {
    const char *id = json_string_value(json_object_get(row, "id"));
    json_t *spec = json_object_get(row, "spec_result");
    json_t *src = spec ? spec : row;
    const char *want_err = json_string_value(json_object_get(src, "error"));
    char want[256], got[512] = "";
    int64_t exp[8];
    int re = want_err ? 0 : json_dims(json_object_get(src, "output_shape"), exp, 8);
    if (want_err)
        snprintf(want, sizeof want, "%s", want_err);
    else
        shape_text(want, sizeof want, exp, re);
    ck_graph *g = NULL;
    ck_diags d = {0};
    bool ok = false;
    ck_status st = load_row(row, &g, &d);
    if (st == CK_OK) st = ck_check(g, &d);
    if (st == CK_OK) {
        ck_layer_info li = ck_graph_layer(g, ck_graph_num_layers(g) - 1);
        ck_shape_str(&li.output, got, sizeof got);
        ok = !want_err && !strcmp(got, want);
        /* pure data movement: nothing computed, nothing learned */
        CHECK(li.params == 0 && li.macs == 0 && li.ops == 0, "%s: cost %lld/%lld/%lld", id,
              (long long)li.params, (long long)li.macs, (long long)li.ops);
    } else {
        for (int i = 0; i < d.n && !got[0]; i++)
            if (d.v[i].severity == CK_SEV_ERROR)
                snprintf(got, sizeof got, "%s: %s", ck_code_name(d.v[i].code), d.v[i].message);
        ok = want_err && !strncmp(got, want_err, strlen(want_err)) && got[strlen(want_err)] == ':';
    }
    char *ins = json_dumps(json_object_get(row, "input_shape"), JSON_COMPACT);
    CHECK(ok, "%s %s on %s: want %s, got %s", id,
          json_string_value(json_object_get(row, "code"))
              ? json_string_value(json_object_get(row, "code"))
              : json_string_value(json_object_get(row, "op")),
          ins ? ins : "?", want, got);
    free(ins);
    rows++;
    by_fw[!strcmp(json_string_value(json_object_get(row, "framework")), "onnx")]++;
    ck_diags_free(&d);
    ck_graph_free(g);
}

static int cases;

static void numerics_row(json_t *row) {
    const char *name = json_string_value(json_object_get(row, "name"));
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = load_row(row, &g, &d);
    if (st == CK_OK) st = ck_check(g, &d);
    CHECK(st == CK_OK, "%s: does not check: %s", name, d.n ? d.v[0].message : "?");
    ck_session *s = NULL;
    if (st == CK_OK) {
        st = ck_session_new(g, NULL, &s, &d);
        CHECK(st == CK_OK, "%s: session: %s", name, d.n ? d.v[d.n - 1].message : "?");
    }
    if (s) {
        json_t *xin = json_object_get(row, "input"), *yref = json_object_get(row, "output");
        size_t nx = json_array_size(xin), ny = json_array_size(yref);
        float *x = calloc(nx ? nx : 1, sizeof *x), *y = calloc(ny ? ny : 1, sizeof *y);
        for (size_t i = 0; i < nx; i++) x[i] = (float)json_real_value(json_array_get(xin, i));
        int64_t exp[8];
        int re = json_dims(json_object_get(row, "output_shape"), exp, 8);
        ck_shape so = ck_session_output_shape(s, 0);
        bool same = so.rank == re;
        for (int i = 0; same && i < re; i++) same = so.d[i] == exp[i];
        CHECK(same, "%s: output shape", name);
        ck_session_ctx *ctx = NULL;
        CHECK(ck_session_ctx_new(s, &ctx) == CK_OK, "%s: ctx", name);
        const float *ins[1] = {x};
        float *outs[1] = {y};
        CHECK(ck_session_run(s, ctx, ins, outs) == CK_OK, "%s: run", name);
        size_t wrong = 0;
        for (size_t i = 0; i < ny; i++)
            wrong += y[i] != (float)json_real_value(json_array_get(yref, i));
        CHECK(wrong == 0, "%s: %zu of %zu values differ from the reference", name, wrong, ny);
        ck_session_ctx_free(ctx);
        free(x);
        free(y);
        cases++;
    }
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
}

static void each_line(const char *path, void (*fn)(json_t *)) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s (run from the repository root)", path);
    if (!f) return;
    static char line[1 << 17];
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *r = json_loads(line, 0, &je);
        CHECK(r != NULL, "%s: bad line: %s", path, je.text);
        if (r) fn(r);
        json_decref(r);
    }
    fclose(f);
}

/* One path of the receptive field of the last layer of `text` on axis 1
 * (width): size, jump, start. */
static void rf_of(const char *text, double *size, double *jump, double *start) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    *size = *jump = *start = -1;
    if (ck_parse_cnn(text, strlen(text), "rf.cnn", NULL, &g, &d) == CK_OK &&
        ck_check(g, &d) == CK_OK) {
        ck_rf rf;
        if (ck_receptive_field(g, ck_graph_num_layers(g) - 1, &rf) == CK_OK && rf.nsp == 2 &&
            rf.axis[1].kind == CK_RF_LOCAL && rf.axis[1].n_paths == 1) {
            *size = rf.axis[1].paths[0].size;
            *jump = rf.axis[1].paths[0].jump;
            *start = rf.axis[1].paths[0].start;
        }
    }
    ck_diags_free(&d);
    ck_graph_free(g);
}

int main(void) {
    each_line("tests/oracle/shuffle/layers.jsonl", layer_row);
    CHECK(rows >= 400 && by_fw[0] >= 250 && by_fw[1] >= 100, "%d rows (%d PyTorch, %d ONNX)", rows,
          by_fw[0], by_fw[1]);
    each_line("tests/oracle/shuffle/numerics.jsonl", numerics_row);
    CHECK(cases == 12, "expected 12 numerics cases, ran %d", cases);

    /* receptive fields: PixelUnshuffle(2) reads a 2x2 window with stride 2;
     * PixelShuffle(2) spreads one input pixel over 2x2 (jump 1/2, centred);
     * ChannelShuffle keeps the grid */
    double s, j, st;
    rf_of("input: [1, 4, 8, 8]\na = PixelUnshuffle(2)\n", &s, &j, &st);
    CHECK(s == 2 && j == 2 && st == 0.5, "PixelUnshuffle rf: size %g jump %g start %g", s, j, st);
    rf_of("input: [1, 4, 8, 8]\na = PixelShuffle(2)\n", &s, &j, &st);
    CHECK(s == 1 && j == 0.5 && st == -0.25, "PixelShuffle rf: size %g jump %g start %g", s, j, st);
    rf_of("input: [1, 4, 8, 8]\na = Conv2d(4, 8, 3)\nb = ChannelShuffle(2)\n", &s, &j, &st);
    CHECK(s == 3 && j == 1 && st == 1, "ChannelShuffle rf: size %g jump %g start %g", s, j, st);
    rf_of("input: [1, 4, 8, 8]\na = PixelUnshuffle(2)\nb = PixelShuffle(2)\n", &s, &j, &st);
    CHECK(s == 2 && j == 1 && st == 0, "unshuffle then shuffle rf: size %g jump %g start %g", s, j,
          st);
    return TEST_DONE("oracle_shuffle");
}
