/* PyTorch functional calls whose arguments may be computed from shapes:
 * x.size(), s[2:], x.view(x.size(0), -1), F.interpolate(x,
 * size=skip.shape[2:]), F.pad(x, [dx // 2, ...]), permute, transpose and
 * reductions. The integer values (sizes and arithmetic on them) carry their
 * contents (kval) through the check, so they are recomputed at every input
 * size; the tensor functions resolve their arguments from those contents and
 * then call the canonical op's own rule (view -> reshape, interpolate ->
 * resize, pad -> pad), so no formula is written twice. */
#include "ops/ops.h"

#include <string.h>

static void out_int(ck_ctx *c) {
    c->out[0]->dtype = CK_I64;
}

/* Python's index normalisation: -r <= i < r. */
static bool norm_dim(ck_ctx *c, int64_t d, int r, int *out, const char *what) {
    int rr = r ? r : 1;
    if (d < -rr || d >= rr) {
        ck_fail(c, CK_RANK_MISMATCH,
                "%s: %s %lld is out of range for a %d-D input (expected to be in range of [%d, "
                "%d])",
                c->n->type, what, (long long)d, r, -rr, rr - 1);
        return false;
    }
    *out = (int)(d < 0 ? d + rr : d);
    return true;
}

/* ---- size(x), size(x, dim) ------------------------------------------------ */

static bool size_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    const ck_dynlist *dl = &c->n->a.dyn;
    out_int(c);
    if (!dl->given) {
        c->out[0]->shape = (ck_shape){.rank = 1, .d = {x->rank}};
        ck_set_kval(c->out[0], x->d, x->rank);
        return true;
    }
    int64_t v[1];
    int n = 0, d;
    if (!ck_dyn_resolve(c, dl, v, 1, &n, "dim")) return false;
    if (!norm_dim(c, v[0], x->rank, &d, "dim")) return false;
    c->out[0]->shape = (ck_shape){.rank = 0};
    ck_set_kval(c->out[0], &x->d[d], 1);
    return true;
}

static void no_cost(const ck_ctx *c, ck_cost *k) {
    (void)c;
    k->ops = 0;
}

const ck_op ck_op_torch_size = {size_shape, no_cost, NULL};

/* ---- getitem: s[0], s[2:], x[:, :, a:b] ----------------------------------- */

/* One entry of the index triples: an int, None, or a 0-D known value. */
static bool index_entry(ck_ctx *c, const ck_dynlist *dl, int i, int64_t *out) {
    if (dl->ref[i] == 0) {
        *out = dl->lit[i];
        return true;
    }
    int in = dl->ref[i] - 1;
    int64_t cnt;
    const int64_t *v = ck_known_ints(c, in, &cnt);
    if (!v || cnt != 1) {
        ck_fail(c, CK_UNSUPPORTED,
                "%s: the index uses '%s', whose value convkit cannot compute before running",
                c->n->type, c->in[in]->name);
        return false;
    }
    *out = v[0];
    return true;
}

/* Python slice bounds on an axis of size d (positive step). */
static int64_t clamp_bound(int64_t v, int64_t d, int64_t dflt) {
    if (v == CK_DYN_NONE) return dflt;
    if (v < 0) v += d;
    return v < 0 ? 0 : v > d ? d : v;
}

/* x[...] as a slice of every axis: its start and step, and the sliced
 * shape with each axis a plain index drops kept as size 1 (drop[i]). */
static bool getitem_slice(ck_ctx *c, ck_shape *kept, int64_t *start, int64_t *step, bool *drop) {
    const ck_shape *x = &c->in[0]->shape;
    const ck_dynlist *dl = &c->n->a.dyn;
    int na = dl->n / 3;
    if (x->rank == 0) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: a 0-D value cannot be indexed", c->n->type);
        return false;
    }
    if (na > x->rank) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: too many indices (%d) for a %d-D value", c->n->type, na,
                x->rank);
        return false;
    }
    *kept = (ck_shape){.rank = x->rank};
    for (int i = 0; i < x->rank; i++) {
        int64_t d = x->d[i];
        start[i] = 0;
        step[i] = 1;
        drop[i] = false;
        kept->d[i] = d;
        if (i >= na) continue;
        int64_t a, b, s;
        if (!index_entry(c, dl, 3 * i, &a) || !index_entry(c, dl, 3 * i + 1, &b) ||
            !index_entry(c, dl, 3 * i + 2, &s))
            return false;
        if (s == CK_DYN_SELECT) { /* a plain index drops the axis */
            int64_t j = a < 0 ? a + d : a;
            if (a == CK_DYN_NONE || j < 0 || j >= d) {
                ck_fail(c, CK_RANK_MISMATCH,
                        "%s: index %lld is out of bounds for axis %d with size %lld", c->n->type,
                        (long long)a, i, (long long)d);
                return false;
            }
            start[i] = j;
            drop[i] = true;
            kept->d[i] = 1;
            continue;
        }
        if (s == CK_DYN_NONE) s = 1;
        if (s <= 0) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: step must be greater than zero, got %lld",
                    c->n->type, (long long)s);
            return false;
        }
        int64_t lo = clamp_bound(a, d, 0), hi = clamp_bound(b, d, d);
        int64_t span, len = hi > lo && ck_sub(hi, lo, &span) ? ck_ceildiv(span, s) : 0;
        start[i] = lo;
        step[i] = s;
        kept->d[i] = len;
    }
    return true;
}

bool ck_getitem_slice(ck_ctx *c, ck_shape *kept, int64_t *start, int64_t *step) {
    bool drop[CK_MAX_RANK];
    return getitem_slice(c, kept, start, step, drop);
}

static bool getitem_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    ck_shape kept, y = {0};
    int64_t start[CK_MAX_RANK], step[CK_MAX_RANK];
    bool drop[CK_MAX_RANK];
    if (!getitem_slice(c, &kept, start, step, drop)) return false;
    for (int i = 0; i < x->rank; i++)
        if (!drop[i]) y.d[y.rank++] = kept.d[i];
    c->out[0]->shape = y;
    c->out[0]->dtype = c->in[0]->dtype;
    int64_t cnt;
    const int64_t *v = ck_known_ints(c, 0, &cnt);
    if (v && x->rank == 1) { /* the contents of a sliced shape vector */
        int64_t r[CK_MAX_KVAL], n = 0;
        for (int64_t k = 0; k < kept.d[0] && n < CK_MAX_KVAL; k++)
            r[n++] = v[start[0] + k * step[0]];
        ck_set_kval(c->out[0], r, n);
    }
    return true;
}

const ck_op ck_op_torch_getitem = {getitem_shape, no_cost, NULL};

/* ---- view / reshape --------------------------------------------------------- */

static bool view_attrs(ck_ctx *c, ck_attrs *t) {
    *t = c->n->a;
    int n = 0;
    if (!ck_dyn_resolve(c, &c->n->a.dyn, t->shape, CK_MAX_RANK, &n, "the target shape"))
        return false;
    for (int i = 0; i < n; i++)
        if (t->shape[i] == CK_DYN_NONE) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: the target shape has None at entry %d", c->n->type,
                    i);
            return false;
        }
    t->shape_rank = n;
    return true;
}

static bool view_shape(ck_ctx *c) {
    ck_attrs t;
    return view_attrs(c, &t) && ck_call_shape(c, CK_OP_RESHAPE, &t, 1);
}

const ck_op ck_op_torch_view = {view_shape, NULL, NULL};

/* ---- interpolate -------------------------------------------------------------- */

static bool interp_shape(ck_ctx *c) {
    ck_attrs t = c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    if (t.dyn.given) {
        int64_t v[CK_MAX_RANK];
        int n = 0;
        if (!ck_dyn_resolve(c, &t.dyn, v, CK_MAX_RANK, &n, "size")) return false;
        int nsp = x->rank - 2;
        if (nsp < 1 || nsp > CK_MAX_SP) {
            char buf[160];
            ck_fail(c, CK_RANK_MISMATCH, "%s: expected a 3-D to 5-D input, got %s", c->n->type,
                    ck_shape_str(x, buf, sizeof buf));
            return false;
        }
        if (n != 1 && n != nsp) {
            ck_fail(c, CK_RANK_MISMATCH,
                    "%s: size has %d entries, but the input has %d spatial dimensions "
                    "(input is %d-D)",
                    c->n->type, n, nsp, x->rank);
            return false;
        }
        t.has_size = true;
        t.has_scale = false;
        t.size_rank = n == 1 ? 0 : n;
        for (int i = 0; i < CK_MAX_SP; i++) t.size[i] = v[n == 1 ? 0 : (i < n ? i : n - 1)];
    }
    return ck_call_shape(c, CK_OP_RESIZE, &t, 1);
}

static void interp_cost(const ck_ctx *c, ck_cost *k) {
    if (ck_op_get(CK_OP_RESIZE)->cost) ck_op_get(CK_OP_RESIZE)->cost(c, k);
}

const ck_op ck_op_torch_interpolate = {interp_shape, interp_cost, NULL};

/* ---- pad ------------------------------------------------------------------------ */

/* F.pad's pads as the pad rule reads them: t->nsp trailing axes (0: none). */
static bool fpad_attrs(ck_ctx *c, ck_attrs *t) {
    *t = c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int64_t v[2 * CK_MAX_RANK];
    int n = 0;
    if (!ck_dyn_resolve(c, &t->dyn, v, 2 * CK_MAX_RANK, &n, "pad")) return false;
    if (n % 2 != 0) {
        ck_fail(c, CK_INVALID_PADDING, "%s: padding length must be divisible by 2, got %d",
                c->n->type, n);
        return false;
    }
    if (n / 2 > x->rank) {
        ck_fail(c, CK_INVALID_PADDING,
                "%s: padding length %d is too large for a %d-D input (at most %d)", c->n->type, n,
                x->rank, 2 * x->rank);
        return false;
    }
    int nsp = n / 2;
    if (nsp > CK_MAX_SP) {
        ck_fail(c, CK_UNSUPPORTED, "%s: convkit pads at most %d trailing axes, got %d", c->n->type,
                CK_MAX_SP, nsp);
        return false;
    }
    /* F.pad lists (left, right) of the last axis first */
    t->nsp = nsp;
    for (int j = 0; j < nsp; j++) {
        t->pad_begin[nsp - 1 - j] = v[2 * j];
        t->pad_end[nsp - 1 - j] = v[2 * j + 1];
    }
    return true;
}

static bool fpad_shape(ck_ctx *c) {
    ck_attrs t;
    if (!fpad_attrs(c, &t)) return false;
    if (t.nsp == 0) {
        c->out[0]->shape = c->in[0]->shape;
        return true;
    }
    return ck_call_shape(c, CK_OP_PAD, &t, 1);
}

static void fpad_cost(const ck_ctx *c, ck_cost *k) {
    (void)c;
    k->ops = 0;
}

const ck_op ck_op_torch_pad = {fpad_shape, fpad_cost, NULL};

/* ---- permute(x, dims), transpose(x, dim0, dim1) ------------------------------------ */

static bool permute_attrs(ck_ctx *c, ck_attrs *t) {
    *t = c->n->a;
    int n = 0;
    if (!ck_dyn_resolve(c, &c->n->a.dyn, t->perm, CK_MAX_RANK, &n, "dims")) return false;
    t->perm_rank = n;
    return true;
}

static bool permute_shape(ck_ctx *c) {
    ck_attrs t;
    return permute_attrs(c, &t) && ck_call_shape(c, CK_OP_TRANSPOSE, &t, 1);
}

/* transpose(x, dim0, dim1) as a permutation (none for a 0-D x) */
static bool swap_attrs(ck_ctx *c, ck_attrs *t) {
    const ck_shape *x = &c->in[0]->shape;
    *t = c->n->a;
    int64_t v[2];
    int n = 0, d0, d1;
    if (!ck_dyn_resolve(c, &c->n->a.dyn, v, 2, &n, "dims")) return false;
    if (n != 2) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs two dims, got %d", c->n->type, n);
        return false;
    }
    if (!norm_dim(c, v[0], x->rank, &d0, "dim0") || !norm_dim(c, v[1], x->rank, &d1, "dim1"))
        return false;
    t->perm_rank = x->rank;
    for (int i = 0; i < x->rank; i++) t->perm[i] = i;
    if (x->rank) t->perm[d0] = d1, t->perm[d1] = d0;
    return true;
}

static bool swap_shape(ck_ctx *c) {
    ck_attrs t;
    if (!swap_attrs(c, &t)) return false;
    if (t.perm_rank == 0) {
        c->out[0]->shape = c->in[0]->shape;
        return true;
    }
    return ck_call_shape(c, CK_OP_TRANSPOSE, &t, 1);
}

const ck_op ck_op_torch_permute = {permute_shape, NULL, NULL};
const ck_op ck_op_torch_transpose = {swap_shape, NULL, NULL};

/* ---- reductions: mean, sum, amax, amin over dims ---------------------------------- */

/* The reduced axes, ascending, in t->axes (all of them without dims). */
static bool reduce_attrs(ck_ctx *c, ck_attrs *t) {
    const ck_shape *x = &c->in[0]->shape;
    *t = c->n->a;
    bool red[CK_MAX_RANK] = {0};
    if (!t->dyn.given) {
        for (int i = 0; i < x->rank; i++) red[i] = true;
    } else {
        int64_t v[CK_MAX_RANK];
        int n = 0;
        if (!ck_dyn_resolve(c, &t->dyn, v, CK_MAX_RANK, &n, "dim")) return false;
        for (int i = 0; i < n; i++) {
            int d;
            if (!norm_dim(c, v[i], x->rank, &d, "dim")) return false;
            if (red[d]) {
                ck_fail(c, CK_INVALID_CONFIG, "%s: dim %d appears multiple times in the list",
                        c->n->type, d);
                return false;
            }
            red[d] = true;
        }
    }
    t->n_axes = 0;
    for (int i = 0; i < x->rank; i++)
        if (red[i]) t->axes[t->n_axes++] = i;
    return true;
}

static bool reduce_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    ck_attrs t;
    if (!reduce_attrs(c, &t)) return false;
    ck_shape y = {0};
    for (int i = 0, k = 0; i < x->rank; i++) {
        bool r = k < t.n_axes && t.axes[k] == i;
        k += r;
        if (!r)
            y.d[y.rank++] = x->d[i];
        else if (t.keepdims)
            y.d[y.rank++] = 1;
    }
    c->out[0]->shape = y;
    return true;
}

static void reduce_cost(const ck_ctx *c, ck_cost *k) {
    k->ops = ck_numel_sat(&c->in[0]->shape);
}

const ck_op ck_op_torch_reduce = {reduce_shape, reduce_cost, NULL};

/* ---- squeeze(x[, dim]), unsqueeze(x, dim) ------------------------------------------ */

static bool squeeze_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    const ck_dynlist *dl = &c->n->a.dyn;
    bool drop[CK_MAX_RANK] = {0};
    if (!dl->given) {
        for (int i = 0; i < x->rank; i++) drop[i] = x->d[i] == 1;
    } else {
        int64_t v[CK_MAX_RANK];
        int n = 0, d;
        if (!ck_dyn_resolve(c, dl, v, CK_MAX_RANK, &n, "dim")) return false;
        for (int i = 0; i < n; i++) {
            if (!norm_dim(c, v[i], x->rank, &d, "dim")) return false;
            if (x->rank) drop[d] = x->d[d] == 1; /* a dim that is not 1 stays */
        }
    }
    ck_shape y = {0};
    for (int i = 0; i < x->rank; i++)
        if (!drop[i]) y.d[y.rank++] = x->d[i];
    c->out[0]->shape = y;
    c->out[0]->dtype = c->in[0]->dtype;
    int64_t cnt;
    const int64_t *kv = ck_known_ints(c, 0, &cnt);
    if (kv) ck_set_kval(c->out[0], kv, cnt);
    return true;
}

static bool unsqueeze_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    int64_t v[1];
    int n = 0, d;
    if (!ck_dyn_resolve(c, &c->n->a.dyn, v, 1, &n, "dim")) return false;
    if (x->rank >= CK_MAX_RANK) {
        ck_fail(c, CK_LIMIT_EXCEEDED, "%s: the output would have more than %d axes", c->n->type,
                CK_MAX_RANK);
        return false;
    }
    if (n != 1 || !norm_dim(c, v[0], x->rank + 1, &d, "dim")) {
        if (n != 1) ck_fail(c, CK_INVALID_CONFIG, "%s needs one dim", c->n->type);
        return false;
    }
    ck_shape y = {.rank = x->rank + 1};
    for (int i = 0, k = 0; i < y.rank; i++) y.d[i] = i == d ? 1 : x->d[k++];
    c->out[0]->shape = y;
    c->out[0]->dtype = c->in[0]->dtype;
    int64_t cnt;
    const int64_t *kv = ck_known_ints(c, 0, &cnt);
    if (kv) ck_set_kval(c->out[0], kv, cnt);
    return true;
}

const ck_op ck_op_torch_squeeze = {squeeze_shape, no_cost, NULL};
const ck_op ck_op_torch_unsqueeze = {unsqueeze_shape, no_cost, NULL};

/* ---- chunk(x, chunks, dim), split(x, [sizes], dim): several outputs ---------------- */

static bool pieces_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    const ck_attrs *a = &c->n->a;
    int d;
    if (!norm_dim(c, a->axis, x->rank, &d, "dim")) return false;
    int64_t len = x->d[d], sizes[CK_MAX_KVAL];
    int n = 0;
    bool chunk = a->dyn.n == 0;
    if (chunk) { /* torch.chunk: pieces of ceil(len / chunks), the last may be smaller */
        int64_t k = a->chunks, each = k > 0 ? ck_ceildiv(len, k) : 0;
        if (k <= 0) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: chunks must be greater than 0, got %lld", c->n->type,
                    (long long)k);
            return false;
        }
        for (int64_t at = 0, rest; each > 0 && at < len && n < CK_MAX_KVAL;) {
            if (!ck_sub(len, at, &rest)) break;
            sizes[n++] = rest < each ? rest : each;
            if (!ck_add(at, each, &at)) break;
        }
        if (len == 0) sizes[n++] = 0;
    } else {
        int64_t sum = 0;
        if (!ck_dyn_resolve(c, &a->dyn, sizes, CK_MAX_KVAL, &n, "split_size_or_sections"))
            return false;
        for (int i = 0; i < n; i++) sum = ck_sat_add(sum, sizes[i]);
        if (sum != len) {
            char buf[160];
            ck_diag *dg = ck_fail(
                c, CK_SKIP_MISMATCH,
                "%s expects split sizes that sum exactly to %lld (input %s along dim %d), "
                "but they sum to %lld",
                c->n->type, (long long)len, ck_shape_str(x, buf, sizeof buf), d, (long long)sum);
            (void)dg;
            c->fail_axis = d;
            c->fail_value = len;
            return false;
        }
    }
    if (n != c->n_out) {
        char buf[160];
        ck_fail(c, CK_RESHAPE_MISMATCH,
                "%s gives %d piece%s of the input %s along dim %d, but %d %s used (Python: not "
                "enough values to unpack)",
                c->n->type, n, n == 1 ? "" : "s", ck_shape_str(x, buf, sizeof buf), d, c->n_out,
                c->n_out == 1 ? "is" : "are");
        c->fail_axis = d;
        c->fail_value = len;
        return false;
    }
    for (int i = 0; i < n; i++) {
        c->out[i]->shape = *x;
        c->out[i]->shape.d[d] = sizes[i];
    }
    return true;
}

const ck_op ck_op_torch_pieces = {pieces_shape, no_cost, NULL};

/* ---- error(x, code=..., message=...): a failure a binding saw happen -------------- */

/* The Python package's fallback runs a model fx cannot trace on meta tensors;
 * when PyTorch raises between the layers it records, the graph ends in this
 * layer, so the failure is reported where it happened like any other. */
static bool error_shape(ck_ctx *c) {
    const ck_value *code = ck_args_get(&c->n->args, 1, "code");
    const ck_value *msg = ck_args_get(&c->n->args, 2, "message");
    ck_code k = CK_UNSUPPORTED;
    for (int i = 0; code && code->kind == CK_V_STR && i < CK_CODE_COUNT; i++)
        if (!strcmp(ck_code_name((ck_code)i), code->s)) k = (ck_code)i;
    ck_fail(c, k, "%s", msg && msg->kind == CK_V_STR ? msg->s : "the model failed here");
    return false;
}

const ck_op ck_op_torch_error = {error_shape, NULL, NULL};

/* ---- the attributes a kernel runs them with ----------------------------------------- */

bool ck_torch_attrs(ck_ctx *c, ck_attrs *t) {
    switch (c->n->op) {
    case CK_OP_TORCH_PAD:
        return fpad_attrs(c, t);
    case CK_OP_TORCH_PERMUTE:
        return permute_attrs(c, t);
    case CK_OP_TORCH_TRANSPOSE:
        return swap_attrs(c, t);
    case CK_OP_TORCH_REDUCE:
        return reduce_attrs(c, t);
    default:
        *t = c->n->a;
        return true;
    }
}
