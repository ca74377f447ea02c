/* The constant evaluator's shared part (ops/ops.h, "known contents"): where
 * a value's contents come from, where an eval rule writes them, and the
 * rule of the ops whose output holds the input's elements in the same
 * order (views). Each op's own rule lives beside its shape rule and
 * computes with the kernels of ops/nd.h. */
#include "ops/ops.h"

#include <string.h>

int64_t ck_fold_limit(const ck_graph *g) {
    int64_t lim = g ? g->lim.max_elements : CK_FOLD_MAX;
    return lim > 0 && lim < CK_FOLD_MAX ? lim : CK_FOLD_MAX;
}

bool ck_dtype_nd(ck_dtype d, ck_nd_type *t) {
    switch (d) {
    case CK_F32:
    case CK_F64:
        *t = CK_ND_F32;
        return true;
    case CK_I64:
    case CK_I32:
    case CK_U8:
    case CK_BOOL:
        *t = CK_ND_I64;
        return true;
    default:
        return false;
    }
}

bool ck_val_known(const ck_graph *g, const ck_val *v, ck_known *out) {
    if (v->kval) {
        *out = (ck_known){CK_ND_I64, v->nkval, v->kval};
        return true;
    }
    if (v->kflt) {
        *out = (ck_known){CK_ND_F32, v->nkval, v->kflt};
        return true;
    }
    if (v->tensor < 0) return false;
    const ck_tensor *t = &g->tensors[v->tensor];
    int64_t n;
    if (!ck_shape_numel(&t->shape, &n) || t->from_input) return false;
    if (t->i64) {
        *out = (ck_known){CK_ND_I64, n, t->i64};
        return true;
    }
    if (t->f32) {
        *out = (ck_known){CK_ND_F32, n, t->f32};
        return true;
    }
    return false;
}

const int64_t *ck_val_ints(const ck_graph *g, const ck_val *v, int64_t *n) {
    ck_known kn;
    if (!ck_val_known(g, v, &kn) || kn.t != CK_ND_I64) return NULL;
    *n = kn.n;
    return kn.p;
}

bool ck_val_nums(const ck_graph *g, const ck_val *v, double *out, int max, int *n) {
    ck_known kn;
    if (!ck_val_known(g, v, &kn) || kn.n > max) return false;
    for (int64_t i = 0; i < kn.n; i++)
        out[i] = kn.t == CK_ND_I64 ? (double)((const int64_t *)kn.p)[i]
                                   : (double)((const float *)kn.p)[i];
    *n = (int)kn.n;
    return true;
}

bool ck_in_known(const ck_ctx *c, int k, ck_known *out) {
    return k >= 0 && k < c->n_in && ck_val_known(c->g, c->in[k], out);
}

const int64_t *ck_known_ints(const ck_ctx *c, int k, int64_t *n) {
    return k >= 0 && k < c->n_in ? ck_val_ints(c->g, c->in[k], n) : NULL;
}

bool ck_known_nums(const ck_ctx *c, int k, double *out, int max, int *n) {
    return k >= 0 && k < c->n_in && ck_val_nums(c->g, c->in[k], out, max, n);
}

void ck_val_forget(ck_val *v) {
    if (v->tensor < 0) {
        free(v->kval);
        free(v->kflt);
    }
    v->kval = NULL;
    v->kflt = NULL;
    v->nkval = 0;
}

void *ck_out_known(ck_ctx *c, int k, ck_nd_type t) {
    if (k < 0 || k >= c->n_out) return NULL;
    ck_val *o = c->out[k];
    int64_t n;
    if (!ck_shape_numel(&o->shape, &n) || n > ck_fold_limit(c->g)) return NULL;
    if (c->fold_left) {
        if (n > *c->fold_left) return NULL;
        *c->fold_left -= n;
    }
    ck_val_forget(o);
    /* every eval rule writes every element (or fails and forgets them) */
    void *p = malloc((size_t)(n ? n : 1) * ck_nd_size(t));
    if (!p) return NULL;
    if (t == CK_ND_I64)
        o->kval = p;
    else
        o->kflt = p;
    o->nkval = n;
    /* the contents' type is the value's */
    ck_nd_type have;
    if (!ck_dtype_nd(o->dtype, &have) || have != t) o->dtype = t == CK_ND_I64 ? CK_I64 : CK_F32;
    return p;
}

void ck_set_kval(ck_val *o, const int64_t *v, int64_t n) {
    ck_val_forget(o);
    if (n < 0 || n > CK_FOLD_MAX) return;
    o->kval = malloc((size_t)(n ? n : 1) * sizeof *o->kval);
    if (!o->kval) return;
    if (n) memcpy(o->kval, v, (size_t)n * sizeof *v);
    o->nkval = n;
}

/* Views (Identity, Flatten, Reshape, Squeeze, ...): the same elements in the
 * same order, on every output. */
bool ck_eval_copy(ck_ctx *c) {
    ck_known x;
    if (!ck_in_known(c, 0, &x)) return false;
    for (int k = 0; k < c->n_out; k++) {
        void *y = ck_out_known(c, k, x.t);
        if (!y || c->out[k]->nkval != x.n) {
            ck_val_forget(c->out[k]);
            return false;
        }
        memcpy(y, x.p, (size_t)x.n * ck_nd_size(x.t));
    }
    return true;
}
