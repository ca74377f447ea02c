/* The ops of shape arithmetic and detection heads (issue 16) against
 * tests/oracle/fold/cases.jsonl (tests/oracle/gen/gen_fold.py: one-node
 * ONNX models, PyTorch's answers). A "fold" case has every input an
 * initializer: the constant evaluator must compute the output when the
 * model is checked (integers exactly) and a run must give the same values;
 * a "run" case takes its float inputs at run time. A case whose answer is
 * an error must fail the check with that code. (A Cast after the op, in a
 * run case with a bool output, is the graph's last node: the fold check
 * then looks at the Cast, which folds too.) */
#include "analyze/analyze.h"
#include "convkit.h"
#include "ops/ops.h"
#include "test.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *b64(const char *s, size_t *len) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    uint8_t *out = malloc(n / 4 * 3 + 3);
    uint32_t acc = 0;
    int bits = 0;
    *len = 0;
    for (size_t i = 0; out && i < n && s[i] != '='; i++) {
        const char *p = strchr(abc, s[i]);
        if (!p) continue;
        acc = (acc << 6) | (uint32_t)(p - abc);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*len)++] = (uint8_t)(acc >> bits);
        }
    }
    return out;
}

static bool near(double got, double want) {
    if (isnan(want)) return isnan(got);
    return fabs(got - want) <= 1e-5 + 1e-5 * fabs(want);
}

/* The output's known contents agree with `want`. */
static bool folded_ok(const ck_graph *g, int v, const json_t *want, const char *id) {
    ck_known k;
    if (!ck_val_known(g, &g->vals[v], &k)) {
        CHECK(false, "%s: the output was not folded", id);
        return false;
    }
    if ((size_t)k.n != json_array_size(want)) {
        CHECK(false, "%s: %lld folded values, want %zu", id, (long long)k.n, json_array_size(want));
        return false;
    }
    int bad = 0;
    for (int64_t i = 0; i < k.n; i++) {
        const json_t *w = json_array_get(want, (size_t)i);
        if (k.t == CK_ND_I64)
            bad += !json_is_integer(w) || ((const int64_t *)k.p)[i] != json_integer_value(w);
        else
            bad += !near(((const float *)k.p)[i], json_number_value(w));
    }
    CHECK(bad == 0, "%s: %d folded values differ", id, bad);
    return bad == 0;
}

static void run_case(const ck_graph *g, const json_t *c, const char *id) {
    const json_t *want = json_object_get(c, "values"), *ins = json_object_get(c, "inputs");
    ck_session *s = NULL;
    ck_diags d = {0};
    ck_session_options opt = {.threads = 1, .kernels = CK_KERNELS_REF};
    ck_status st = ck_session_new(g, &opt, &s, &d);
    CHECK(st == CK_OK, "%s: session: %s", id, d.n ? d.v[0].message : "");
    ck_diags_free(&d);
    if (st != CK_OK) return;
    /* the graph inputs, in the model's order: the float inputs of the case */
    const float *inputs[8] = {0};
    float *bufs[8] = {0};
    int k = 0;
    for (size_t i = 0; i < json_array_size(ins) && k < 8; i++) {
        const json_t *in = json_array_get(ins, i);
        if (json_integer_value(json_object_get(in, "type")) != 1) continue;
        const json_t *v = json_object_get(in, "values");
        if (k >= ck_session_num_inputs(s)) break;
        bufs[k] = malloc((json_array_size(v) + 1) * sizeof(float));
        for (size_t j = 0; j < json_array_size(v); j++)
            bufs[k][j] = (float)json_number_value(json_array_get(v, j));
        inputs[k] = bufs[k];
        k++;
    }
    ck_shape os = ck_session_output_shape(s, 0);
    int64_t n = 1;
    for (int i = 0; i < os.rank; i++) n *= os.d[i];
    float *y = malloc((size_t)(n + 1) * sizeof *y);
    float *outs[1] = {y};
    ck_session_ctx *ctx = NULL;
    CHECK(k == ck_session_num_inputs(s), "%s: %d inputs given, the session has %d", id, k,
          ck_session_num_inputs(s));
    if (ck_session_ctx_new(s, &ctx) == CK_OK && k == ck_session_num_inputs(s) &&
        ck_session_run(s, ctx, inputs, outs) == CK_OK) {
        int bad = (size_t)n != json_array_size(want);
        for (int64_t i = 0; !bad && i < n; i++)
            bad += !near(y[i], json_number_value(json_array_get(want, (size_t)i)));
        CHECK(bad == 0, "%s: %d run values differ from PyTorch's", id, bad);
    } else {
        CHECK(false, "%s: the run failed", id);
    }
    ck_session_ctx_free(ctx);
    ck_session_free(s);
    free(y);
    for (int i = 0; i < 8; i++) free(bufs[i]);
}

static void one(const json_t *c) {
    const char *id = json_string_value(json_object_get(c, "id"));
    const char *kind = json_string_value(json_object_get(c, "kind"));
    size_t len;
    uint8_t *bytes = b64(json_string_value(json_object_get(c, "model")), &len);
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_onnx_memory(bytes, len, id, NULL, &g, &d);
    free(bytes);
    CHECK(st == CK_OK, "%s: load", id);
    if (st == CK_OK) st = ck_check(g, &d);
    const json_t *err = json_object_get(c, "error");
    if (err) {
        const char *code = json_is_string(err) ? json_string_value(err) : NULL;
        bool found = false;
        for (int i = 0; i < d.n; i++)
            found |= d.v[i].severity == CK_SEV_ERROR &&
                     (!code || !strcmp(ck_code_name(d.v[i].code), code));
        CHECK(st == CK_EINVALID && found, "%s (%s): PyTorch raises (%s); convkit %s", id,
              json_string_value(json_object_get(c, "op")), code ? code : "any error",
              st == CK_OK ? "accepts it" : "reports another code");
    } else if (g && st == CK_OK) {
        int v = ck_graph_output_val(g);
        const json_t *shape = json_object_get(c, "shape");
        bool same = v >= 0 && g->vals[v].shape.rank == (int)json_array_size(shape);
        for (int i = 0; same && i < g->vals[v].shape.rank; i++)
            same = g->vals[v].shape.d[i] == json_integer_value(json_array_get(shape, (size_t)i));
        CHECK(same, "%s (%s): output shape", id, json_string_value(json_object_get(c, "op")));
        /* folded when the op has an eval rule and its float inputs are the
         * small constants checking decodes (larger ones are weights) */
        bool small = true;
        const json_t *ins = json_object_get(c, "inputs");
        for (size_t i = 0; i < json_array_size(ins); i++) {
            const json_t *in = json_array_get(ins, i);
            small &= json_integer_value(json_object_get(in, "type")) != 1 ||
                     json_array_size(json_object_get(in, "values")) <= CK_TENSOR_SMALL_FLOATS;
        }
        bool foldable = g->vals[v].producer >= 0 &&
                        ck_op_get(g->nodes[g->vals[v].producer].op)->eval != NULL && small;
        if (same && !strcmp(kind, "fold") && foldable)
            folded_ok(g, v, json_object_get(c, "values"), id);
        if (same && g->vals[v].dtype == CK_F32) run_case(g, c, id);
    } else {
        CHECK(false, "%s (%s): check failed: %s", id, json_string_value(json_object_get(c, "op")),
              d.n ? d.v[0].message : "");
    }
    ck_diags_free(&d);
    ck_graph_free(g);
}

int main(void) {
    FILE *f = fopen("tests/oracle/fold/cases.jsonl", "r");
    CHECK(f != NULL, "open tests/oracle/fold/cases.jsonl");
    char *line = NULL;
    size_t cap = 0;
    int cases = 0;
    while (f && getline(&line, &cap, f) > 0) {
        json_t *c = json_loads(line, 0, NULL);
        CHECK(c != NULL, "case %d is JSON", cases);
        if (c) one(c);
        json_decref(c);
        cases++;
    }
    free(line);
    if (f) fclose(f);
    CHECK(cases >= 200, "%d cases", cases);
    return TEST_DONE("oracle_fold");
}
