/* Layout ops: flatten, unflatten, reshape, transpose. */
#include "ops/ops.h"

#include <string.h>

static int wrap_dim(int d, int rank) {
    return d < 0 ? d + rank : d;
}

static bool flatten_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    ck_shape y = {0};
    if (a->dialect == CK_DIALECT_ONNX) { /* ONNX: always 2-D around axis */
        int ax = wrap_dim(a->axis, x->rank);
        if (ax < 0 || ax > x->rank) {
            ck_fail(c, CK_RANK_MISMATCH, "%s: axis %d is out of range for a %d-D input", c->n->type,
                    a->axis, x->rank);
            return false;
        }
        y.rank = 2;
        y.d[0] = y.d[1] = 1;
        for (int i = 0; i < x->rank; i++)
            y.d[i < ax ? 0 : 1] = ck_sat_mul(y.d[i < ax ? 0 : 1], x->d[i]);
        c->out[0]->shape = y;
        return true;
    }
    if (a->dialect == CK_DIALECT_KERAS) { /* Keras: everything after the batch */
        if (x->rank < 1) {
            ck_fail(c, CK_RANK_MISMATCH, "%s needs a batched input", c->n->type);
            return false;
        }
        y.rank = 2;
        y.d[0] = x->d[0];
        y.d[1] = 1;
        for (int i = 1; i < x->rank; i++) y.d[1] = ck_sat_mul(y.d[1], x->d[i]);
        c->out[0]->shape = y;
        return true;
    }
    int r = x->rank ? x->rank : 1;
    int s = wrap_dim(a->start_dim, r), e = wrap_dim(a->end_dim, r);
    if (s < 0 || s >= r || e < 0 || e >= r) {
        ck_fail(c, CK_RANK_MISMATCH, "%s(start_dim=%d, end_dim=%d) does not fit a %d-D input",
                c->n->type, a->start_dim, a->end_dim, x->rank);
        return false;
    }
    if (s > e) {
        ck_fail(c, CK_INVALID_CONFIG, "%s: start_dim %d comes after end_dim %d", c->n->type, s, e);
        return false;
    }
    for (int i = 0; i < s; i++) y.d[y.rank++] = x->d[i];
    int64_t p = 1;
    for (int i = s; i <= e && i < x->rank; i++) p = ck_sat_mul(p, x->d[i]);
    y.d[y.rank++] = p;
    for (int i = e + 1; i < x->rank; i++) y.d[y.rank++] = x->d[i];
    c->out[0]->shape = y;
    return true;
}

const ck_op ck_op_flatten = {flatten_shape, NULL, ck_eval_copy};

/* Fills -1 (and ONNX 0) entries of a target shape for `numel` elements. */
static bool resolve_target(ck_ctx *c, const ck_shape *x, const int64_t *t, int n, int lead,
                           ck_shape *y) {
    /* ONNX: a 0 copies the input's axis, unless allowzero (then it is 0) */
    bool onnx = c->n->a.dialect == CK_DIALECT_ONNX && !c->n->a.reshape.allowzero;
    int64_t numel = ck_numel_sat(x), known = 1;
    int infer = -1;
    if (n + lead > CK_MAX_RANK) {
        ck_fail(c, CK_LIMIT_EXCEEDED, "%s: the target has more than %d axes", c->n->type,
                CK_MAX_RANK);
        return false;
    }
    y->rank = 0;
    for (int i = 0; i < lead; i++) {
        y->d[y->rank++] = x->d[i];
        known = ck_sat_mul(known, x->d[i]);
    }
    for (int i = 0; i < n; i++) {
        int64_t v = t[i];
        if (v == 0 && onnx) {
            if (i >= x->rank) {
                ck_fail(c, CK_RESHAPE_MISMATCH,
                        "%s: target entry %d is 0 (copy) but the input has only %d axes",
                        c->n->type, i, x->rank);
                return false;
            }
            v = x->d[i];
        }
        if (v == -1) {
            if (infer >= 0) {
                ck_fail(c, CK_INVALID_CONFIG, "%s: only one target entry may be -1", c->n->type);
                return false;
            }
            infer = y->rank;
            y->d[y->rank++] = 1;
            continue;
        }
        if (v < 0) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: target entry %lld is negative", c->n->type,
                    (long long)v);
            return false;
        }
        y->d[y->rank++] = v;
        known = ck_sat_mul(known, v);
    }
    char xs[160], ts[160];
    ck_shape_str(x, xs, sizeof xs);
    if (infer >= 0) {
        if (known == 0 && numel == 0 && c->n->a.reshape.allowzero) {
            ck_fail(c, CK_RESHAPE_MISMATCH,
                    "%s: with allowzero a target may not hold both 0 and -1 (the -1 is "
                    "undetermined)",
                    c->n->type);
            return false;
        }
        if (known == 0 || numel % known != 0) {
            ck_shape_str(y, ts, sizeof ts);
            ck_fail(c, CK_RESHAPE_MISMATCH,
                    "%s cannot reshape %s (%lld elements) to %s with -1: %lld is not a multiple of "
                    "%lld",
                    c->n->type, xs, (long long)numel, ts, (long long)numel, (long long)known);
            return false;
        }
        y->d[infer] = numel / known;
    } else if (known != numel) {
        ck_shape_str(y, ts, sizeof ts);
        ck_fail(c, CK_RESHAPE_MISMATCH,
                "%s cannot reshape %s (%lld elements) to %s (%lld elements)", c->n->type, xs,
                (long long)numel, ts, (long long)known);
        return false;
    }
    return true;
}

static bool reshape_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    const int64_t *t = a->shape;
    int n = a->shape_rank;
    if (a->dialect == CK_DIALECT_ONNX && n == 0) {
        int64_t cnt;
        if (!(t = ck_known_ints(c, 1, &cnt))) {
            ck_fail(c, CK_UNSUPPORTED,
                    "%s: the target shape is computed at run time and convkit cannot fold it",
                    c->n->type);
            return false;
        }
        if (cnt > CK_MAX_RANK) {
            ck_fail(c, CK_LIMIT_EXCEEDED, "%s: a %lld-D target shape; at most %d axes", c->n->type,
                    (long long)cnt, CK_MAX_RANK);
            return false;
        }
        n = (int)cnt;
    }
    ck_shape y;
    /* Keras targets leave out the batch axis */
    if (!resolve_target(c, x, t, n, a->dialect == CK_DIALECT_KERAS ? 1 : 0, &y)) return false;
    c->out[0]->shape = y;
    return true;
}

const ck_op ck_op_reshape = {reshape_shape, NULL, ck_eval_copy};

static bool unflatten_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int d = wrap_dim(a->axis, x->rank);
    if (d < 0 || d >= x->rank) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: dim %d is out of range for a %d-D input", c->n->type,
                a->axis, x->rank);
        return false;
    }
    if (x->rank - 1 + a->shape_rank > CK_MAX_RANK) {
        ck_fail(c, CK_LIMIT_EXCEEDED, "%s: more than %d axes", c->n->type, CK_MAX_RANK);
        return false;
    }
    ck_shape part = {.rank = 1, .d = {x->d[d]}}, out;
    if (!resolve_target(c, &part, a->shape, a->shape_rank, 0, &out)) return false;
    ck_shape y = {0};
    for (int i = 0; i < d; i++) y.d[y.rank++] = x->d[i];
    for (int i = 0; i < out.rank; i++) y.d[y.rank++] = out.d[i];
    for (int i = d + 1; i < x->rank; i++) y.d[y.rank++] = x->d[i];
    c->out[0]->shape = y;
    return true;
}

const ck_op ck_op_unflatten = {unflatten_shape, NULL, ck_eval_copy};

int ck_transpose_perm(const ck_attrs *a, int rank, int64_t *perm) {
    int n = a->perm_rank;
    if (n == 0) { /* ONNX default: reverse */
        for (int i = 0; i < rank && i < CK_MAX_RANK; i++) perm[i] = rank - 1 - i;
        return rank;
    }
    if (a->dialect == CK_DIALECT_KERAS) { /* Keras Permute: 1-based, batch excluded */
        if (n + 1 > CK_MAX_RANK) return n + 1;
        perm[0] = 0;
        for (int i = 0; i < n; i++) perm[i + 1] = a->perm[i];
        return n + 1;
    }
    memcpy(perm, a->perm, (size_t)n * sizeof *perm);
    return n;
}

static bool transpose_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    int64_t perm[CK_MAX_RANK];
    int n = ck_transpose_perm(&c->n->a, x->rank, perm);
    if (n != x->rank) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: the permutation has %d entries but the input is %d-D",
                c->n->type, n, x->rank);
        return false;
    }
    bool seen[CK_MAX_RANK] = {0};
    ck_shape y = {.rank = n};
    for (int i = 0; i < n; i++) {
        int64_t p = perm[i] < 0 ? perm[i] + n : perm[i];
        if (p < 0 || p >= n || seen[p]) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: %lld is not a valid permutation entry", c->n->type,
                    (long long)perm[i]);
            return false;
        }
        seen[p] = true;
        y.d[i] = x->d[p];
    }
    c->out[0]->shape = y;
    return true;
}

static bool transpose_eval(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    ck_known k;
    int64_t perm[CK_MAX_RANK], xst[CK_MAX_RANK], st[CK_MAX_RANK];
    if (!ck_in_known(c, 0, &k)) return false;
    ck_transpose_perm(&c->n->a, x->rank, perm);
    void *y = ck_out_known(c, 0, k.t);
    if (!y) return false;
    ck_nd_strides(x, xst);
    for (int i = 0; i < x->rank; i++) st[i] = xst[perm[i] < 0 ? perm[i] + x->rank : perm[i]];
    ck_nd_gather_strided(&c->out[0]->shape, st, 0, ck_nd_size(k.t), k.p, y);
    return true;
}

const ck_op ck_op_transpose = {transpose_shape, NULL, transpose_eval};
