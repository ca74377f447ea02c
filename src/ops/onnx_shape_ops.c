/* ONNX-only ops: shape-tensor ops (their contents computed by the constant
 * evaluator, ops/ops.h), and wrappers that read ONNX's attribute-like
 * inputs before calling the canonical op. See onnx_shape_ops.h for the
 * attribute use. */
#include "ops/onnx_shape_ops.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

bool ck_onnx_val_absent(const ck_val *v) {
    if (strcmp(v->name, CK_ONNX_ABSENT) == 0) return true;
    int64_t n;
    return v->tensor >= 0 && ck_shape_numel(&v->shape, &n) && n == 0;
}

/* True when input k is absent: not bound, or ck_onnx_val_absent. */
static bool absent(const ck_ctx *c, int k) {
    return k >= c->n_in || ck_onnx_val_absent(c->in[k]);
}

/* "[1, 3, 224, 224]" of input k into buf. */
static const char *shp(const ck_ctx *c, int k, char *buf, size_t n) {
    return ck_shape_str(&c->in[k]->shape, buf, n);
}

/* Normalises axis `a` for rank r (ONNX: -r <= a < r). */
static bool norm_axis(ck_ctx *c, int64_t a, int r, int *out, const char *what) {
    if (a < -r || a >= r) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: %s %lld is out of range for a %d-D input", c->n->type,
                what, (long long)a, r);
        return false;
    }
    *out = (int)(a < 0 ? a + r : a);
    return true;
}

static bool unknown_input(ck_ctx *c, int k, const char *what) {
    ck_fail(c, CK_UNSUPPORTED,
            "%s: %s (input %d, '%s') is computed at run time from values convkit does not know; "
            "its shape "
            "cannot be folded",
            c->n->type, what, k, k < c->n_in ? c->in[k]->name : "?");
    return false;
}

static void out_int(ck_ctx *c, int k) {
    if (k < c->n_out) c->out[k]->dtype = CK_I64;
}

/* ---- Shape ---------------------------------------------------------------- */

static bool shape_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    int r = x->rank;
    int64_t s = c->n->a.dims.start, e = c->n->a.dims.end;
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = s < 0 ? 0 : s > r ? r : s;
    e = e < 0 ? 0 : e > r ? r : e;
    int64_t n = e > s ? e - s : 0;
    c->out[0]->shape = (ck_shape){.rank = 1, .d = {n}};
    out_int(c, 0);
    return true;
}

/* the sizes of axes [start, end) */
static bool shape_eval(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    int64_t *y = ck_out_known(c, 0, CK_ND_I64);
    if (!y) return false;
    int64_t s = c->n->a.dims.start, n = c->out[0]->shape.d[0];
    if (s < 0) s += x->rank;
    s = s < 0 ? 0 : s > x->rank ? x->rank : s;
    memcpy(y, &x->d[s], (size_t)n * sizeof *y);
    return true;
}

static void shape_cost(const ck_ctx *c, ck_cost *k) {
    (void)c;
    k->ops = 0;
}

const ck_op ck_op_onnx_shape = {shape_shape, shape_cost, shape_eval};

/* ---- Size: the element count, a 0-D int64 ------------------------------------ */

static bool size_shape(ck_ctx *c) {
    int64_t n;
    if (!ck_shape_numel(&c->in[0]->shape, &n)) {
        ck_fail(c, CK_LIMIT_EXCEEDED, "%s: the element count overflows", c->n->type);
        return false;
    }
    c->out[0]->shape = (ck_shape){0};
    out_int(c, 0);
    return true;
}

static bool size_eval(ck_ctx *c) {
    int64_t *y = ck_out_known(c, 0, CK_ND_I64);
    return y && ck_shape_numel(&c->in[0]->shape, y);
}

const ck_op ck_op_onnx_size = {size_shape, shape_cost, size_eval};

/* ---- Gather --------------------------------------------------------------- */

static bool gather_shape(ck_ctx *c) {
    if (c->n_in < 2) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs data and indices inputs", c->n->type);
        return false;
    }
    const ck_shape *x = &c->in[0]->shape, *ix = &c->in[1]->shape;
    int ax;
    if (x->rank < 1) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: the data input must have rank >= 1, got a scalar",
                c->n->type);
        return false;
    }
    if (!norm_axis(c, c->n->a.axis, x->rank, &ax, "axis")) return false;
    if (x->rank - 1 + ix->rank > CK_MAX_RANK) {
        ck_fail(c, CK_LIMIT_EXCEEDED, "%s: the output would have more than %d axes", c->n->type,
                CK_MAX_RANK);
        return false;
    }
    int64_t dim = x->d[ax], ni;
    const int64_t *iv = ck_known_ints(c, 1, &ni);
    if (iv)
        for (int64_t i = 0; i < ni; i++)
            if (iv[i] < -dim || iv[i] >= dim) {
                char buf[160];
                ck_fail(c, CK_INVALID_CONFIG,
                        "%s: index %lld is out of range for axis %d of size %lld (data %s)",
                        c->n->type, (long long)iv[i], ax, (long long)dim,
                        shp(c, 0, buf, sizeof buf));
                return false;
            }
    ck_shape y = {0};
    for (int i = 0; i < ax; i++) y.d[y.rank++] = x->d[i];
    for (int i = 0; i < ix->rank; i++) y.d[y.rank++] = ix->d[i];
    for (int i = ax + 1; i < x->rank; i++) y.d[y.rank++] = x->d[i];
    c->out[0]->shape = y;
    return true;
}

/* Gather's indices made non-negative (checked in range by its shape rule);
 * malloc'd, NULL when unknown. */
int64_t *ck_gather_indices(const ck_ctx *c, int64_t dim, int64_t *n) {
    const int64_t *iv = ck_known_ints(c, 1, n);
    if (!iv) return NULL;
    int64_t *idx = malloc((size_t)(*n ? *n : 1) * sizeof *idx);
    if (!idx) return NULL;
    for (int64_t i = 0; i < *n; i++) idx[i] = iv[i] < 0 ? iv[i] + dim : iv[i];
    return idx;
}

static bool gather_eval(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    ck_known d;
    int ax = c->n->a.axis < 0 ? c->n->a.axis + x->rank : c->n->a.axis;
    int64_t outer, inner, ni;
    if (!ck_in_known(c, 0, &d)) return false;
    int64_t *idx = ck_gather_indices(c, x->d[ax], &ni);
    void *y = idx ? ck_out_known(c, 0, d.t) : NULL;
    if (y) {
        ck_nd_outer_inner(x, ax, &outer, &inner);
        ck_nd_take(outer, x->d[ax], inner, idx, ni, ck_nd_size(d.t), d.p, y);
    }
    free(idx);
    return y != NULL;
}

const ck_op ck_op_onnx_gather = {gather_shape, shape_cost, gather_eval};

/* ---- Unsqueeze / Squeeze ---------------------------------------------------- */

static bool unsqueeze_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    int64_t na;
    const int64_t *axes = ck_known_ints(c, 1, &na);
    if (absent(c, 1)) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs axes", c->n->type);
        return false;
    }
    if (!axes) return unknown_input(c, 1, "axes");
    int64_t r;
    if (!ck_add(x->rank, na, &r) || r > CK_MAX_RANK) {
        ck_fail(c, CK_LIMIT_EXCEEDED,
                "%s: the output would have %lld axes; at most %d are supported", c->n->type,
                (long long)r, CK_MAX_RANK);
        return false;
    }
    bool ins[CK_MAX_RANK] = {0};
    for (int64_t i = 0; i < na; i++) {
        int a;
        if (!norm_axis(c, axes[i], (int)r, &a, "axis")) return false;
        if (ins[a]) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: axis %lld is listed twice", c->n->type,
                    (long long)axes[i]);
            return false;
        }
        ins[a] = true;
    }
    ck_shape y = {.rank = (int)r};
    for (int i = 0, k = 0; i < r; i++) y.d[i] = ins[i] ? 1 : x->d[k++];
    c->out[0]->shape = y;
    return true;
}

const ck_op ck_op_onnx_unsqueeze = {unsqueeze_shape, shape_cost, ck_eval_copy};

static bool squeeze_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    bool drop[CK_MAX_RANK] = {0};
    if (absent(c, 1)) {
        for (int i = 0; i < x->rank; i++) drop[i] = x->d[i] == 1;
    } else {
        int64_t na;
        const int64_t *axes = ck_known_ints(c, 1, &na);
        if (!axes) return unknown_input(c, 1, "axes");
        for (int64_t i = 0; i < na; i++) {
            int a;
            if (!norm_axis(c, axes[i], x->rank, &a, "axis")) return false;
            if (x->d[a] != 1) {
                char buf[160];
                ck_fail(c, CK_RESHAPE_MISMATCH, "%s: axis %d of the input %s has size %lld, not 1",
                        c->n->type, a, shp(c, 0, buf, sizeof buf), (long long)x->d[a]);
                ck_fail_axis(c, a, NULL, x->d[a]);
                return false;
            }
            drop[a] = true;
        }
    }
    ck_shape y = {0};
    for (int i = 0; i < x->rank; i++)
        if (!drop[i]) y.d[y.rank++] = x->d[i];
    c->out[0]->shape = y;
    return true;
}

const ck_op ck_op_onnx_squeeze = {squeeze_shape, shape_cost, ck_eval_copy};

/* ---- Slice ------------------------------------------------------------------ */

/* Reads Slice's starts/ends/axes/steps and resolves them for input x:
 * out[a] the sliced size, beg[a] and step[a] where it starts and how it
 * steps (0 and 1 on axes not sliced). */
bool ck_slice_params(ck_ctx *c, const ck_shape *x, ck_shape *out, int64_t *beg, int64_t *step) {
    int64_t ns, ne, na = 0, nst = 0;
    if (absent(c, 1) || absent(c, 2)) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs starts and ends", c->n->type);
        return false;
    }
    const int64_t *st = ck_known_ints(c, 1, &ns), *en = ck_known_ints(c, 2, &ne), *ax = NULL,
                  *sp = NULL;
    if (!st) return unknown_input(c, 1, "starts");
    if (!en) return unknown_input(c, 2, "ends");
    if (!absent(c, 3) && !(ax = ck_known_ints(c, 3, &na))) return unknown_input(c, 3, "axes");
    if (!absent(c, 4) && !(sp = ck_known_ints(c, 4, &nst))) return unknown_input(c, 4, "steps");
    if (ns != ne || (ax && na != ns) || (sp && nst != ns)) {
        ck_fail(
            c, CK_INVALID_CONFIG,
            "%s: starts, ends, axes and steps must have the same length (%lld, %lld, %lld, %lld)",
            c->n->type, (long long)ns, (long long)ne, (long long)(ax ? na : ns),
            (long long)(sp ? nst : ns));
        return false;
    }
    if (!ax && ns > x->rank) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: %lld starts for a %d-D input", c->n->type, (long long)ns,
                x->rank);
        return false;
    }
    *out = *x;
    bool seen[CK_MAX_RANK] = {0};
    for (int i = 0; i < x->rank; i++) beg[i] = 0, step[i] = 1;
    for (int64_t i = 0; i < ns; i++) {
        int a = (int)i;
        if (ax && !norm_axis(c, ax[i], x->rank, &a, "axis")) return false;
        if (seen[a]) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: axis %d is sliced twice", c->n->type, a);
            return false;
        }
        seen[a] = true;
        int64_t s = sp ? sp[i] : 1, dim = x->d[a], b = st[i], e = en[i];
        if (s == 0) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: steps must not be 0 (axis %d)", c->n->type, a);
            return false;
        }
        if (b < 0) b += dim; /* still negative: clamped below */
        if (e < 0) e += dim;
        int64_t len;
        if (s > 0) {
            b = b < 0 ? 0 : b > dim ? dim : b;
            e = e < 0 ? 0 : e > dim ? dim : e;
            len = e > b ? (e - b - 1) / s + 1 : 0; /* ceil((e - b) / s) without overflow */
        } else {
            b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            len = b > e ? (s == INT64_MIN ? 1 : (b - e - 1) / -s + 1) : 0;
        }
        out->d[a] = len;
        beg[a] = b;
        step[a] = s;
    }
    return true;
}

static bool slice_shape(ck_ctx *c) {
    int64_t beg[CK_MAX_RANK], step[CK_MAX_RANK];
    return ck_slice_params(c, &c->in[0]->shape, &c->out[0]->shape, beg, step);
}

static bool slice_eval(ck_ctx *c) {
    ck_known x;
    ck_shape y;
    int64_t beg[CK_MAX_RANK], step[CK_MAX_RANK], st[CK_MAX_RANK], off;
    if (!ck_in_known(c, 0, &x) || !ck_slice_params(c, &c->in[0]->shape, &y, beg, step))
        return false;
    void *out = ck_out_known(c, 0, x.t);
    if (!out) return false;
    ck_nd_slice_strides(&c->in[0]->shape, &y, beg, step, st, &off);
    ck_nd_gather_strided(&y, st, off, ck_nd_size(x.t), x.p, out);
    return true;
}

const ck_op ck_op_onnx_slice = {slice_shape, shape_cost, slice_eval};

/* ---- Cast, ConstantOfShape, Range ------------------------------------------ */

static bool cast_shape(ck_ctx *c) {
    c->out[0]->shape = c->in[0]->shape;
    c->out[0]->dtype = (ck_dtype)c->n->a.cast.to;
    return true;
}

static bool cast_eval(ck_ctx *c) {
    ck_known x;
    ck_nd_type t;
    if (!ck_in_known(c, 0, &x) || !ck_dtype_nd(c->out[0]->dtype, &t)) return false;
    void *y = ck_out_known(c, 0, t);
    return y && ck_nd_cast(x.t, t, c->out[0]->dtype == CK_BOOL, x.n, x.p, y);
}

const ck_op ck_op_onnx_cast = {cast_shape, shape_cost, cast_eval};

static bool cos_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    if (x->rank != 1) {
        char buf[160];
        ck_fail(c, CK_RANK_MISMATCH, "%s: the shape input must be 1-D, got %s", c->n->type,
                shp(c, 0, buf, sizeof buf));
        return false;
    }
    int64_t n;
    const int64_t *v = ck_known_ints(c, 0, &n);
    if (!v) return unknown_input(c, 0, "the shape");
    if (n > CK_MAX_RANK) {
        ck_fail(c, CK_LIMIT_EXCEEDED, "%s: %lld axes; at most %d are supported", c->n->type,
                (long long)n, CK_MAX_RANK);
        return false;
    }
    ck_shape y = {.rank = (int)n};
    for (int64_t i = 0; i < n; i++) {
        if (v[i] < 0) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: dimension %lld of the requested shape is %lld",
                    c->n->type, (long long)i, (long long)v[i]);
            return false;
        }
        y.d[i] = v[i];
    }
    c->out[0]->shape = y;
    c->out[0]->dtype = c->n->a.fill.is_int ? CK_I64 : CK_F32;
    return true;
}

static bool cos_eval(ck_ctx *c) {
    bool is_int = c->n->a.fill.is_int;
    double fv = c->n->a.fill.value; /* an integer fill only where the double holds it */
    if (is_int && !(fabs(fv) < 9e15)) return false;
    void *y = ck_out_known(c, 0, is_int ? CK_ND_I64 : CK_ND_F32);
    return y && ck_nd_fill(is_int ? CK_ND_I64 : CK_ND_F32, c->out[0]->nkval, fv, 0.0,
                           is_int ? (int64_t)fv : 0, 0, y);
}

const ck_op ck_op_onnx_constant_of_shape = {cos_shape, shape_cost, cos_eval};

static bool range_shape(ck_ctx *c) {
    double v[3];
    int n;
    for (int k = 0; k < 3; k++) {
        if (k >= c->n_in) {
            ck_fail(c, CK_INVALID_CONFIG, "%s needs start, limit and delta", c->n->type);
            return false;
        }
        if (!ck_known_nums(c, k, &v[k], 1, &n) || n != 1)
            return unknown_input(c, k, k == 0 ? "start" : k == 1 ? "limit" : "delta");
    }
    if (v[2] == 0) {
        ck_fail(c, CK_INVALID_CONFIG, "%s: delta must not be 0", c->n->type);
        return false;
    }
    int64_t cnt[3], len, q;
    const int64_t *iv[3];
    for (int k = 0; k < 3; k++) iv[k] = ck_known_ints(c, k, &cnt[k]);
    if (iv[0] && iv[1] && iv[2]) {
        /* integers: max(ceil((limit - start) / delta), 0), exactly */
        int64_t d;
        if (!ck_sub(iv[1][0], iv[0][0], &d) || (iv[2][0] == -1 && d == INT64_MIN)) {
            ck_fail(c, CK_LIMIT_EXCEEDED, "%s: the element count overflows", c->n->type);
            return false;
        }
        q = d / iv[2][0];
        if (d % iv[2][0] != 0 && (d < 0) == (iv[2][0] < 0)) q++; /* q < INT64_MAX here */
        len = q < 0 ? 0 : q;
    } else {
        double f = ceil((v[1] - v[0]) / v[2]);
        if (!(f < 9e15)) {
            ck_fail(c, CK_LIMIT_EXCEEDED, "%s: %g elements", c->n->type, f);
            return false;
        }
        len = f < 0 ? 0 : (int64_t)f;
    }
    c->out[0]->shape = (ck_shape){.rank = 1, .d = {len}};
    return true;
}

static bool range_eval(ck_ctx *c) {
    ck_known s, d;
    if (!ck_in_known(c, 0, &s) || !ck_in_known(c, 2, &d) || s.t != d.t) return false;
    void *y = ck_out_known(c, 0, s.t);
    if (!y) return false;
    if (s.t == CK_ND_I64)
        return ck_nd_fill(CK_ND_I64, c->out[0]->nkval, 0, 0, *(const int64_t *)s.p,
                          *(const int64_t *)d.p, y);
    return ck_nd_fill(CK_ND_F32, c->out[0]->nkval, *(const float *)s.p, *(const float *)d.p, 0, 0,
                      y);
}

const ck_op ck_op_onnx_range = {range_shape, shape_cost, range_eval};

/* ---- Split ---------------------------------------------------------------- */

static bool split_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    int ax;
    if (x->rank < 1) {
        ck_fail(c, CK_RANK_MISMATCH, "%s cannot split a scalar", c->n->type);
        return false;
    }
    if (!norm_axis(c, c->n->a.axis, x->rank, &ax, "axis")) return false;
    int64_t dim = x->d[ax], parts[64];
    int nout = c->n_out;
    if (nout > 64) {
        ck_fail(c, CK_LIMIT_EXCEEDED, "%s: %d outputs; at most 64 are supported", c->n->type, nout);
        return false;
    }
    if (!absent(c, 1)) {
        int64_t ns;
        const int64_t *sv = ck_known_ints(c, 1, &ns);
        if (!sv) return unknown_input(c, 1, "split");
        if (ns != nout) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: split has %lld entries but the node has %d outputs",
                    c->n->type, (long long)ns, nout);
            return false;
        }
        int64_t sum = 0;
        for (int i = 0; i < nout; i++) {
            if (sv[i] < 0 || !ck_add(sum, sv[i], &sum)) {
                ck_fail(c, CK_INVALID_CONFIG, "%s: split sizes must be non-negative", c->n->type);
                return false;
            }
            parts[i] = sv[i];
        }
        if (sum != dim) {
            char buf[160];
            ck_fail(c, CK_RESHAPE_MISMATCH,
                    "%s: the split sizes add up to %lld but axis %d of the input %s is %lld",
                    c->n->type, (long long)sum, ax, shp(c, 0, buf, sizeof buf), (long long)dim);
            ck_fail_axis(c, ax, NULL, dim);
            return false;
        }
    } else {
        /* equal parts; the last one smaller when the axis does not divide (opset 18) */
        int64_t each = ck_ceildiv(dim, nout ? nout : 1), left = dim;
        for (int i = 0; i < nout; i++) {
            parts[i] = left < each ? left : each;
            left -= parts[i];
        }
    }
    for (int i = 0; i < nout; i++) {
        ck_shape y = *x;
        y.d[ax] = parts[i];
        c->out[i]->shape = y;
        c->out[i]->dtype = c->in[0]->dtype;
    }
    return true;
}

static bool split_eval(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    ck_known d;
    int ax = c->n->a.axis < 0 ? c->n->a.axis + x->rank : c->n->a.axis;
    int64_t outer, inner, parts[64];
    void *out[64];
    if (!ck_in_known(c, 0, &d) || c->n_out > 64) return false;
    for (int k = 0; k < c->n_out; k++) {
        parts[k] = c->out[k]->shape.d[ax];
        if (!(out[k] = ck_out_known(c, k, d.t))) return false;
    }
    ck_nd_outer_inner(x, ax, &outer, &inner);
    ck_nd_split(outer, inner, c->n_out, parts, ck_nd_size(d.t), d.p, out);
    return true;
}

const ck_op ck_op_onnx_split = {split_shape, shape_cost, split_eval};

/* ---- Reduce* -------------------------------------------------------------- */

/* The axes a Reduce* node reduces (red[] per axis of x); *noop when it
 * passes its input through (no axes and noop_with_empty_axes). */
static bool reduce_axes(ck_ctx *c, const ck_shape *x, bool *red, bool *noop) {
    *noop = false;
    for (int i = 0; i < x->rank; i++) red[i] = false;
    if (absent(c, 1)) {
        *noop = c->n->a.reduce.noop_with_empty_axes;
        for (int i = 0; i < x->rank; i++) red[i] = !*noop;
        return true;
    }
    int64_t na;
    const int64_t *axes = ck_known_ints(c, 1, &na);
    if (!axes) return unknown_input(c, 1, "axes");
    for (int64_t i = 0; i < na; i++) {
        int ax;
        if (!norm_axis(c, axes[i], x->rank, &ax, "axis")) return false;
        red[ax] = true;
    }
    return true;
}

static bool reduce_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    bool red[CK_MAX_RANK], noop;
    if (!reduce_axes(c, x, red, &noop)) return false;
    ck_shape y = {0};
    for (int i = 0; i < x->rank; i++) {
        if (!red[i])
            y.d[y.rank++] = x->d[i];
        else if (c->n->a.keepdims)
            y.d[y.rank++] = 1;
    }
    c->out[0]->shape = y;
    return true;
}

static bool reduce_eval(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    bool red[CK_MAX_RANK], noop;
    ck_known d;
    if (!ck_in_known(c, 0, &d) || !reduce_axes(c, x, red, &noop)) return false;
    if (noop) return ck_eval_copy(c);
    void *y = ck_out_known(c, 0, d.t);
    if (!y) return false;
    void *scratch = malloc((size_t)(c->out[0]->nkval ? c->out[0]->nkval : 1) * ck_nd_size(d.t));
    bool ok = scratch && ck_nd_reduce(c->n->a.reduce.op, d.t, x, red, d.p, y, scratch);
    free(scratch);
    return ok;
}

static void reduce_cost(const ck_ctx *c, ck_cost *k) {
    k->ops = ck_numel_sat(&c->in[0]->shape);
}

const ck_op ck_op_onnx_reduce = {reduce_shape, reduce_cost, reduce_eval};

/* ---- MatMul ----------------------------------------------------------------- */

static const ck_tensor *matmul_weight(const ck_ctx *c) {
    const ck_node *n = c->n;
    if (n->n_params < 1 || n->params[0] < 0) return NULL;
    return &c->g->tensors[n->params[0]];
}

static bool matmul_shape(ck_ctx *c) {
    const ck_tensor *w = matmul_weight(c);
    if (w && w->shape.rank == 2) return ck_op_get(CK_OP_LINEAR)->shape(c);
    const ck_shape *A = &c->in[0]->shape, *B;
    if (w)
        B = &w->shape;
    else if (c->n_in >= 2)
        B = &c->in[1]->shape;
    else {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs two inputs", c->n->type);
        return false;
    }
    if (A->rank < 1 || B->rank < 1) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: both operands need rank >= 1", c->n->type);
        return false;
    }
    int64_t K = A->d[A->rank - 1], Kb = B->rank == 1 ? B->d[0] : B->d[B->rank - 2];
    char as[160], bs[160];
    if (K != Kb) {
        ck_shape_str(A, as, sizeof as);
        ck_shape_str(B, bs, sizeof bs);
        ck_diag *dg = ck_fail(c, CK_FEATURE_MISMATCH,
                              "%s: %s @ %s: the inner dimensions %lld and %lld differ", c->n->type,
                              as, bs, (long long)K, (long long)Kb);
        if (dg) ck_diag_set(&dg->axis, "features");
        ck_fail_axis(c, A->rank - 1, "features", K);
        return false;
    }
    /* batch axes broadcast like numpy */
    int ba = A->rank > 2 ? A->rank - 2 : 0, bb = B->rank > 2 ? B->rank - 2 : 0;
    int nb = ba > bb ? ba : bb;
    ck_shape y = {0};
    for (int i = 0; i < nb; i++) {
        int ia = i - (nb - ba), ib = i - (nb - bb);
        int64_t da = ia >= 0 ? A->d[ia] : 1, db = ib >= 0 ? B->d[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            ck_shape_str(A, as, sizeof as);
            ck_shape_str(B, bs, sizeof bs);
            ck_fail(c, CK_SKIP_MISMATCH,
                    "%s: the batch axes of %s and %s do not broadcast (%lld vs %lld)", c->n->type,
                    as, bs, (long long)da, (long long)db);
            return false;
        }
        y.d[y.rank++] = da == 1 ? db : da;
    }
    if (A->rank >= 2) y.d[y.rank++] = A->d[A->rank - 2];
    if (B->rank >= 2) y.d[y.rank++] = B->d[B->rank - 1];
    c->out[0]->shape = y;
    return true;
}

static void matmul_cost(const ck_ctx *c, ck_cost *k) {
    const ck_tensor *w = matmul_weight(c);
    if (w && w->shape.rank == 2) {
        if (ck_op_get(CK_OP_LINEAR)->cost) ck_op_get(CK_OP_LINEAR)->cost(c, k);
        return;
    }
    const ck_shape *A = &c->in[0]->shape;
    k->macs = ck_sat_mul(ck_numel_sat(&c->out[0]->shape), A->rank ? A->d[A->rank - 1] : 1);
    if (w) k->params = ck_numel_sat(&w->shape);
}

const ck_op ck_op_onnx_matmul = {matmul_shape, matmul_cost, NULL};

/* ---- Resize / Upsample ------------------------------------------------------ */

/* Fills t (a copy of the node's attributes) from the scales/sizes inputs. */
static bool resize_attrs(ck_ctx *c, ck_attrs *t) {
    const ck_shape *x = &c->in[0]->shape;
    int r = x->rank;
    *t = c->n->a;
    int k_scales, k_sizes = -1;
    if (t->resize.scales_input == 1 || c->n_in == 2) /* Upsample; Resize of opset 10 */
        k_scales = 1;
    else {
        k_scales = 2;
        k_sizes = 3;
    }
    bool has_scales = !absent(c, k_scales), has_sizes = k_sizes >= 0 && !absent(c, k_sizes);
    if (!has_scales && !has_sizes) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs scales or sizes", c->n->type);
        return false;
    }
    if (has_scales && has_sizes) {
        ck_fail(c, CK_INVALID_CONFIG, "%s: only one of scales and sizes may be given", c->n->type);
        return false;
    }
    if (r < 3 || r > CK_MAX_SP + 2) {
        char buf[160];
        ck_fail(c, CK_RANK_MISMATCH,
                "%s: convkit resizes 3-D to 5-D inputs (N, C and 1 to 3 spatial axes), got %s",
                c->n->type, shp(c, 0, buf, sizeof buf));
        return false;
    }
    /* axes (opset 18): the entries of scales/sizes are for these axes */
    int axes[CK_MAX_RANK], na = r;
    if (t->n_axes > 0) {
        na = t->n_axes;
        for (int i = 0; i < na; i++)
            if (!norm_axis(c, t->axes[i], r, &axes[i], "axes entry")) return false;
    } else
        for (int i = 0; i < r; i++) axes[i] = i;
    double v[CK_MAX_RANK];
    int64_t sz[CK_MAX_RANK]; /* sizes are int64: read them as they are */
    int n = 0;
    int k = has_sizes ? k_sizes : k_scales;
    int64_t cnt;
    const int64_t *iv = has_sizes ? ck_known_ints(c, k, &cnt) : NULL;
    if (iv && cnt <= CK_MAX_RANK) {
        n = (int)cnt;
        for (int i = 0; i < n; i++) v[i] = (double)(sz[i] = iv[i]);
    } else if (has_sizes || !ck_known_nums(c, k, v, CK_MAX_RANK, &n)) {
        return unknown_input(c, k, has_sizes ? "sizes" : "scales");
    }
    if (n != na) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: %s has %d entries but the input %s has %d axes",
                c->n->type, has_sizes ? "sizes" : "scales", n, "to resize", na);
        return false;
    }
    t->nsp = r - 2;
    t->n_axes = 0;
    t->has_size = has_sizes;
    t->has_scale = has_scales;
    for (int i = 0; i < t->nsp; i++) {
        t->size[i] = x->d[2 + i];
        t->scale[i] = 1.0;
    }
    for (int i = 0; i < na; i++) {
        int a = axes[i];
        if (a < 2) {
            bool same = has_sizes ? sz[i] == x->d[a] : v[i] == 1.0;
            if (!same) {
                ck_fail(
                    c, CK_UNSUPPORTED,
                    "%s: %s[%d] = %g would resize the %s axis; convkit resizes only spatial axes",
                    c->n->type, has_sizes ? "sizes" : "scales", i, v[i],
                    a == 0 ? "batch" : "channel");
                return false;
            }
            continue;
        }
        if (has_sizes) {
            if (sz[i] < 0) {
                ck_fail(c, CK_INVALID_CONFIG, "%s: sizes[%d] = %lld is negative", c->n->type, i,
                        (long long)sz[i]);
                return false;
            }
            t->size[a - 2] = sz[i];
        } else {
            if (!(v[i] > 0)) {
                ck_fail(c, CK_INVALID_CONFIG, "%s: scales[%d] = %g must be positive", c->n->type, i,
                        v[i]);
                return false;
            }
            t->scale[a - 2] = v[i];
        }
    }
    return true;
}

static bool oresize_shape(ck_ctx *c) {
    ck_attrs t;
    if (!resize_attrs(c, &t)) return false;
    return ck_call_shape(c, CK_OP_RESIZE, &t, 1);
}

static void oresize_cost(const ck_ctx *c, ck_cost *k) {
    ck_attrs t = c->n->a;
    t.nsp = c->in[0]->shape.rank - 2;
    ck_call_cost(c, CK_OP_RESIZE, &t, 1, k);
}

const ck_op ck_op_onnx_resize = {oresize_shape, oresize_cost, NULL};

/* ---- Pad -------------------------------------------------------------------- */

static bool pad_attrs(ck_ctx *c, ck_attrs *t) {
    const ck_shape *x = &c->in[0]->shape;
    int r = x->rank;
    *t = c->n->a;
    if (absent(c, 1)) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs pads", c->n->type);
        return false;
    }
    int64_t np;
    const int64_t *pads = ck_known_ints(c, 1, &np);
    if (!pads) return unknown_input(c, 1, "pads");
    int axes[CK_MAX_RANK], na = r;
    if (!absent(c, 3)) {
        int64_t n;
        const int64_t *av = ck_known_ints(c, 3, &n);
        if (!av) return unknown_input(c, 3, "axes");
        if (n > CK_MAX_RANK) n = CK_MAX_RANK + 1;
        na = (int)n;
        for (int i = 0; i < na && i < CK_MAX_RANK; i++)
            if (!norm_axis(c, av[i], r, &axes[i], "axes entry")) return false;
    } else
        for (int i = 0; i < r; i++) axes[i] = i;
    if (np % 2 || np / 2 != na || na > CK_MAX_RANK) {
        char buf[160];
        ck_fail(c, CK_RANK_MISMATCH,
                "%s: pads has %lld entries; the input %s needs %d (begin and end per axis)",
                c->n->type, (long long)np, shp(c, 0, buf, sizeof buf), 2 * na);
        return false;
    }
    double cv;
    int nc;
    if (!absent(c, 2) && ck_known_nums(c, 2, &cv, 1, &nc) && nc == 1) t->pad_value = cv;
    int64_t pb[CK_MAX_RANK] = {0}, pe[CK_MAX_RANK] = {0};
    for (int i = 0; i < na; i++) {
        pb[axes[i]] = pads[i];
        pe[axes[i]] = pads[na + i];
    }
    int first = r - CK_MAX_SP > 2 ? r - CK_MAX_SP : 2;
    if (r < 3) first = r; /* no spatial axes */
    for (int a = 0; a < first; a++)
        if (pb[a] || pe[a]) {
            ck_fail(
                c, CK_UNSUPPORTED,
                "%s pads axis %d by (%lld, %lld); convkit pads only the spatial axes (2 and up)",
                c->n->type, a, (long long)pb[a], (long long)pe[a]);
            return false;
        }
    t->nsp = r - first;
    for (int i = 0; i < t->nsp; i++) {
        t->pad_begin[i] = pb[first + i];
        t->pad_end[i] = pe[first + i];
    }
    return true;
}

static bool opad_shape(ck_ctx *c) {
    ck_attrs t;
    if (!pad_attrs(c, &t)) return false;
    if (t.nsp == 0) return ck_op_get(CK_OP_IDENTITY)->shape(c);
    return ck_call_shape(c, CK_OP_PAD, &t, 1);
}

static void opad_cost(const ck_ctx *c, ck_cost *k) {
    ck_attrs t = c->n->a;
    int r = c->in[0]->shape.rank;
    t.nsp = r > 2 ? (r - 2 > CK_MAX_SP ? CK_MAX_SP : r - 2) : 0;
    if (t.nsp) ck_call_cost(c, CK_OP_PAD, &t, 1, k);
}

const ck_op ck_op_onnx_pad = {opad_shape, opad_cost, NULL};
