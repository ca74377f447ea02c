/* Fully connected layers on the last axis: Linear, Dense, Gemm. */
#include "ops/ops.h"

#include <string.h>

/* When the input comes from a Flatten, say what it multiplied. */
static void flatten_note(ck_ctx *c, ck_diag *dg) {
    const ck_val *v = c->in[0];
    if (!dg || v->producer < 0) return;
    const ck_node *p = &c->g->nodes[v->producer];
    if (p->op != CK_OP_FLATTEN || p->n_in == 0) return;
    const ck_shape *s = &c->g->vals[p->in[0]].shape;
    int st = p->a.start_dim < 0 ? s->rank + p->a.start_dim : p->a.start_dim;
    int en = p->a.end_dim < 0 ? s->rank + p->a.end_dim : p->a.end_dim;
    if (p->a.dialect == CK_DIALECT_ONNX) {
        st = p->a.axis < 0 ? s->rank + p->a.axis : p->a.axis;
        en = s->rank - 1;
    }
    if (st < 0 || en >= s->rank || st > en) return;
    ck_str t = {0};
    int64_t prod = 1;
    for (int i = st; i <= en; i++) {
        ck_str_addf(&t, "%s%lld", i > st ? "*" : "", (long long)s->d[i]);
        prod = ck_sat_mul(prod, s->d[i]);
    }
    char buf[160];
    ck_shape_str(s, buf, sizeof buf);
    ck_diag_note(dg, "%s flattens %s into %s = %lld features", p->name, buf, t.p ? t.p : "",
                 (long long)prod);
    ck_str_free(&t);
}

static bool linear_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    if (x->rank < 1) {
        ck_fail(c, CK_RANK_MISMATCH, "%s needs at least a 1-D input", c->n->type);
        return false;
    }
    /* ONNX Gemm with transA reads a 2-D input as [features, rows] */
    if (a->trans_a && x->rank != 2) {
        ck_fail(c, CK_RANK_MISMATCH, "%s with transA=1 needs a 2-D input, got %d-D", c->n->type,
                x->rank);
        return false;
    }
    int fax = a->trans_a ? 0 : x->rank - 1;
    int64_t f = x->d[fax];
    if (a->in_features > 0 && f != a->in_features) {
        char buf[160];
        ck_shape_str(x, buf, sizeof buf);
        int64_t rows = 1;
        for (int i = 0; i + 1 < x->rank; i++) rows = ck_sat_mul(rows, x->d[i]);
        ck_diag *dg = ck_fail(
            c, CK_FEATURE_MISMATCH,
            "%s expects %lld input features (in_features=%lld), but its input %s has %lld",
            c->n->type, (long long)a->in_features, (long long)a->in_features, buf, (long long)f);
        if (dg) {
            ck_diag_set(&dg->axis, "features");
            ck_diag_set(&dg->formula, "(%lldx%lld) @ (%lldx%lld): %lld != %lld", (long long)rows,
                        (long long)f, (long long)a->in_features, (long long)a->out_features,
                        (long long)f, (long long)a->in_features);
        }
        flatten_note(c, dg);
        ck_fail_axis(c, fax, "features", f);
        return false;
    }
    ck_shape y = *x;
    if (a->trans_a) y.d[0] = x->d[1];
    y.d[x->rank - 1] = a->out_features;
    c->out[0]->shape = y;
    return true;
}

static void linear_cost(const ck_ctx *c, ck_cost *k) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int64_t f = x->d[a->trans_a ? 0 : x->rank - 1];
    k->params = ck_sat_add(ck_sat_mul(f, a->out_features), a->bias ? a->out_features : 0);
    k->macs = ck_sat_mul(ck_numel_sat(&c->out[0]->shape), f);
}

const ck_op ck_op_linear = {linear_shape, linear_cost, NULL};
