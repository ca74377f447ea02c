/* The op registry (src/ops/ops.def) and the frontend rows that name its ops:
 * every id has a name and rules; every frontend row names a valid id, and
 * the arguments its knobs give the fix search are parameters of that row;
 * the registry's flags agree with what the runtime does (a view shares its
 * input's floats; the PyTorch functional calls the registry lets run give
 * the values of the layers they stand for). */
#include "ops/ops.h"
#include "test.h"

#include <math.h>
#include <string.h>

static void check_rows(const ck_frontend *t, const char *table) {
    int rows = 0;
    for (; t->name; t++, rows++) {
        CHECK((unsigned)t->op < CK_OP_COUNT && t->op != CK_OP_UNKNOWN, "%s %s: op id %d", table,
              t->name, (int)t->op);
        CHECK(t->build != NULL, "%s %s: no builder", table, t->name);
        if (!t->knobs) continue;
        const char *k[] = {t->knobs->pad,  t->knobs->stride, t->knobs->kernel,   t->knobs->dilation,
                           t->knobs->ceil, t->knobs->in_ch,  t->knobs->features, t->knobs->out_pad};
        for (size_t i = 0; i < sizeof k / sizeof *k; i++)
            if (k[i])
                CHECK(ck_param_index(t, k[i]) >= 0,
                      "%s %s: the fix search would edit '%s', which is not one of its arguments",
                      table, t->name, k[i]);
    }
    CHECK(rows > 10, "%s: %d rows", table, rows);
}

/* Runs .cnn text on a seeded input; the output floats (caller frees). */
static float *run(const char *text, int64_t *n) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    float *y = NULL;
    *n = 0;
    ck_status st = ck_parse_cnn(text, strlen(text), "r.cnn", NULL, &g, &d);
    if (st == CK_OK) st = ck_check(g, &d);
    ck_session *s = NULL;
    if (st == CK_OK) st = ck_session_new(g, NULL, &s, &d);
    CHECK(st == CK_OK, "%s: %s", text, d.n ? d.v[d.n - 1].message : "?");
    if (s) {
        ck_shape xs = ck_session_input_shape(s, 0), ys = ck_session_output_shape(s, 0);
        int64_t nx = 1, ny = 1;
        for (int i = 0; i < xs.rank; i++) nx *= xs.d[i];
        for (int i = 0; i < ys.rank; i++) ny *= ys.d[i];
        float *x = malloc((size_t)nx * sizeof *x);
        y = malloc((size_t)ny * sizeof *y);
        for (int64_t i = 0; i < nx; i++) x[i] = (float)sin(0.37 * (double)i);
        ck_session_ctx *ctx = NULL;
        const float *ins[1] = {x};
        float *outs[1] = {y};
        CHECK(ck_session_ctx_new(s, &ctx) == CK_OK && ck_session_run(s, ctx, ins, outs) == CK_OK,
              "run: %s", text);
        ck_session_ctx_free(ctx);
        free(x);
        *n = ny;
    }
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
    return y;
}

static void same_values(const char *a, const char *b) {
    int64_t na, nb;
    float *ya = run(a, &na), *yb = run(b, &nb);
    CHECK(ya && yb && na == nb && na > 0, "both run with the same size: %s / %s", a, b);
    int64_t bad = 0;
    for (int64_t i = 0; ya && yb && i < na && na == nb; i++) bad += ya[i] != yb[i];
    CHECK(bad == 0, "%lld values differ: %s / %s", (long long)bad, a, b);
    free(ya);
    free(yb);
}

int main(void) {
    for (int op = 0; op < CK_OP_COUNT; op++) {
        CHECK(ck_op_name((ck_op_id)op) && ck_op_name((ck_op_id)op)[0], "op %d has no name", op);
        CHECK(ck_op_get((ck_op_id)op) && ck_op_get((ck_op_id)op)->shape, "op %s has no shape rule",
              ck_op_name((ck_op_id)op));
        unsigned f = ck_op_flags((ck_op_id)op);
        CHECK(!((f & CK_OPF_DATA1) && (f & CK_OPF_NO_DATA)), "op %s: both data flags",
              ck_op_name((ck_op_id)op));
    }
    CHECK(ck_op_flags(CK_OP_FLATTEN) & CK_OPF_VIEW, "Flatten is a view");
    CHECK(!strcmp(ck_op_name(CK_OP_ONNX_PAD), ck_op_name(CK_OP_PAD)), "wrappers share the name");
    check_rows(ck_fe_pytorch, "pytorch");
    check_rows(ck_fe_keras, "keras");
    check_rows(ck_fe_onnx, "onnx");

    /* functional calls run as the layers they stand for */
    same_values(
        "input: [1, 3, 4, 6]\nc = Conv2d(3, 4, 3, padding=1)\n"
        "i = interpolate(c, scale_factor=2)\n",
        "input: [1, 3, 4, 6]\nc = Conv2d(3, 4, 3, padding=1)\nu = Upsample(scale_factor=2)\n");
    same_values("input: [2, 3, 4, 6]\nc = Conv2d(3, 4, 3, padding=1)\ns = size(c, 0)\n"
                "v = view(c, [s, -1])\nl = Linear(96, 5)\n",
                "input: [2, 3, 4, 6]\nc = Conv2d(3, 4, 3, padding=1)\nf = Flatten()\n"
                "l = Linear(96, 5)\n");
    same_values("input: [1, 3, 4, 6]\nc = Conv2d(3, 4, 3, padding=1)\n"
                "u = unsqueeze(c, dim=0)\nq = squeeze(u, dim=0)\nr = ReLU()(q)\n",
                "input: [1, 3, 4, 6]\nc = Conv2d(3, 4, 3, padding=1)\nr = ReLU()\n");
    same_values("input: [1, 4, 4, 6]\nk = chunk(input, 2, dim=1)\na = add(k.0, k.1)\n",
                "input: [1, 4, 4, 6]\nk = split(input, [2, 2], dim=1)\na = add(k.0, k.1)\n");
    return TEST_DONE("registry");
}
