/* Data moved by shape: Expand (broadcast to a shape), Tile (repeat along
 * each axis) and ScatterND (updates written at indexed positions). The
 * shape, the repeats and the indices are inputs read when the model is
 * checked: known constants, or folded by the constant evaluator (detection
 * heads build their grids from Range, Expand and Where). */
#include "ops/ops.h"

#include <string.h>

static void copy_cost(const ck_ctx *c, ck_cost *k) {
    (void)c;
    k->ops = 0; /* data movement */
}

static bool need_known(ck_ctx *c, int k, const char *what) {
    ck_fail(c, CK_UNSUPPORTED,
            "%s: %s (input %d, '%s') is computed at run time from values convkit does not know; "
            "the output shape cannot be folded",
            c->n->type, what, k, k < c->n_in ? c->in[k]->name : "?");
    return false;
}

/* ---- Expand ------------------------------------------------------------- */

/* ONNX Expand: x and the shape broadcast both ways (a 1 in the shape keeps
 * x's size). */
static bool expand_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    int64_t n;
    if (c->n_in < 2) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs the data and the shape", c->n->type);
        return false;
    }
    const int64_t *t = ck_known_ints(c, 1, &n);
    if (!t) return need_known(c, 1, "the shape");
    if (n > CK_MAX_RANK) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: a %lld-D shape for the %d-D input", c->n->type,
                (long long)n, x->rank);
        return false;
    }
    int r = (int)n > x->rank ? (int)n : x->rank;
    ck_shape y = {.rank = r};
    for (int i = 0; i < r; i++) {
        int ix = i - (r - x->rank), it = i - (r - (int)n);
        int64_t dx = ix >= 0 ? x->d[ix] : 1, dt = it >= 0 ? t[it] : 1;
        if (dt < 0 || (dx != dt && dx != 1 && dt != 1)) {
            char buf[160];
            ck_fail(c, CK_RESHAPE_MISMATCH,
                    "%s cannot expand the input %s to size %lld on axis %d (its size there is "
                    "%lld; only a size of 1 grows)",
                    c->n->type, ck_shape_str(x, buf, sizeof buf), (long long)dt, i, (long long)dx);
            if (ix >= 0) ck_fail_axis(c, ix, NULL, dx);
            return false;
        }
        y.d[i] = dx == 1 ? dt : dx;
    }
    c->out[0]->shape = y;
    return true;
}

static bool expand_eval(ck_ctx *c) {
    ck_known x;
    int64_t st[CK_MAX_RANK];
    if (!ck_in_known(c, 0, &x)) return false;
    void *y = ck_out_known(c, 0, x.t);
    if (!y) return false;
    ck_nd_bcast_strides(&c->out[0]->shape, &c->in[0]->shape, st);
    ck_nd_gather_strided(&c->out[0]->shape, st, 0, ck_nd_size(x.t), x.p, y);
    return true;
}

const ck_op ck_op_expand = {expand_shape, copy_cost, expand_eval};

/* ---- Tile --------------------------------------------------------------- */

/* ONNX Tile: one repeat count per axis. */
static bool tile_shape(ck_ctx *c) {
    const ck_shape *x = &c->in[0]->shape;
    int64_t n;
    if (c->n_in < 2) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs the data and the repeats", c->n->type);
        return false;
    }
    const int64_t *rep = ck_known_ints(c, 1, &n);
    if (!rep) return need_known(c, 1, "repeats");
    if (n != x->rank) {
        char buf[160];
        ck_fail(c, CK_RANK_MISMATCH, "%s: %lld repeats for the %d-D input %s", c->n->type,
                (long long)n, x->rank, ck_shape_str(x, buf, sizeof buf));
        return false;
    }
    ck_shape y = {.rank = (int)n};
    for (int i = 0; i < y.rank; i++) {
        int ix = i - (y.rank - x->rank);
        int64_t d = ix >= 0 ? x->d[ix] : 1;
        if (rep[i] < 0) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: repeats[%d] = %lld is negative", c->n->type, i,
                    (long long)rep[i]);
            return false;
        }
        if (!ck_mul(d, rep[i], &y.d[i])) {
            ck_fail(c, CK_LIMIT_EXCEEDED, "%s: axis %d would hold more than 2^63 elements",
                    c->n->type, i);
            return false;
        }
    }
    c->out[0]->shape = y;
    return true;
}

/* The index maps of a tile: output o of axis a reads o mod the input size.
 * False on out-of-memory. */
bool ck_tile_maps(const ck_shape *in, const ck_shape *out, int64_t **map) {
    for (int a = 0; a < out->rank; a++) {
        int ix = a - (out->rank - in->rank);
        int64_t d = ix >= 0 ? in->d[ix] : 1;
        map[a] = NULL;
        if (d == out->d[a]) continue;
        if (!(map[a] = malloc((size_t)(out->d[a] ? out->d[a] : 1) * sizeof **map))) return false;
        for (int64_t o = 0; o < out->d[a]; o++) map[a][o] = o % d;
    }
    return true;
}

static bool tile_eval(ck_ctx *c) {
    ck_known x;
    int64_t *map[CK_MAX_RANK] = {0};
    const ck_shape *y = &c->out[0]->shape;
    if (!ck_in_known(c, 0, &x)) return false;
    /* the input seen with the output's rank (leading axes of size 1) */
    ck_shape in = {.rank = y->rank};
    for (int a = 0; a < y->rank; a++) {
        int ix = a - (y->rank - c->in[0]->shape.rank);
        in.d[a] = ix >= 0 ? c->in[0]->shape.d[ix] : 1;
    }
    void *out = ck_out_known(c, 0, x.t);
    bool ok = out && ck_tile_maps(&in, y, map);
    if (ok) {
        int64_t zero = 0;
        ck_nd_map(&in, y, map, ck_nd_size(x.t), &zero, x.p, out);
    }
    for (int a = 0; a < CK_MAX_RANK; a++) free(map[a]);
    return ok;
}

const ck_op ck_op_tile = {tile_shape, copy_cost, tile_eval};

/* ---- ScatterND ---------------------------------------------------------- */

/* Inputs: data, updates, indices (the importer puts ONNX's indices last:
 * only the first two carry data). indices [..., q] address slices of data
 * from axis q on; updates are indices.shape[:-1] + data.shape[q:]. */
static bool scatter_shape(ck_ctx *c) {
    if (c->n_in != 3) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs data, indices and updates", c->n->type);
        return false;
    }
    const ck_shape *x = &c->in[0]->shape, *u = &c->in[1]->shape, *ix = &c->in[2]->shape;
    char bx[160], bu[160], bi[160];
    int64_t last = ix->rank ? ix->d[ix->rank - 1] : -1;
    if (ix->rank < 1 || last < 1 || last > x->rank) {
        ck_fail(c, CK_RANK_MISMATCH,
                "%s: the indices %s must end in an axis of 1 to %d entries (the data %s)",
                c->n->type, ck_shape_str(ix, bi, sizeof bi), x->rank,
                ck_shape_str(x, bx, sizeof bx));
        return false;
    }
    int q = (int)last;
    bool fits = u->rank == ix->rank - 1 + x->rank - q;
    for (int i = 0; fits && i < ix->rank - 1; i++) fits = u->d[i] == ix->d[i];
    for (int i = q, j = ix->rank - 1; fits && i < x->rank; i++, j++) fits = u->d[j] == x->d[i];
    if (!fits) {
        ck_fail(c, CK_RESHAPE_MISMATCH,
                "%s: the updates %s do not match the indices %s and the data %s (they must be "
                "indices.shape[:-1] + data.shape[%d:])",
                c->n->type, ck_shape_str(u, bu, sizeof bu), ck_shape_str(ix, bi, sizeof bi),
                ck_shape_str(x, bx, sizeof bx), q);
        return false;
    }
    int64_t n;
    const int64_t *iv = ck_known_ints(c, 2, &n);
    for (int64_t i = 0; iv && i < n; i++) {
        int64_t dim = x->d[(int)(i % q)];
        if (iv[i] < -dim || iv[i] >= dim) {
            ck_fail(c, CK_INVALID_CONFIG,
                    "%s: index %lld is out of range for axis %lld of size %lld (data %s)",
                    c->n->type, (long long)iv[i], (long long)(i % q), (long long)dim,
                    ck_shape_str(x, bx, sizeof bx));
            return false;
        }
    }
    c->out[0]->shape = *x;
    return true;
}

/* The element offsets ScatterND writes at (one per index tuple, in order)
 * and the elements of each slice; malloc'd, NULL when the indices are not
 * known. */
int64_t *ck_scatter_offsets(const ck_ctx *c, int64_t *n_slices, int64_t *slice) {
    const ck_shape *x = &c->in[0]->shape;
    int64_t n, st[CK_MAX_RANK];
    const int64_t *iv = ck_known_ints(c, 2, &n);
    int q = (int)c->in[2]->shape.d[c->in[2]->shape.rank - 1];
    if (!iv) return NULL;
    ck_nd_strides(x, st);
    *slice = st[q - 1];
    *n_slices = n / q;
    int64_t *off = malloc((size_t)(*n_slices ? *n_slices : 1) * sizeof *off);
    if (off) ck_nd_scatter_offsets(x, iv, *n_slices, q, off);
    return off;
}

static bool scatter_eval(ck_ctx *c) {
    ck_known d, u;
    int64_t n, slice;
    if (!ck_in_known(c, 0, &d) || !ck_in_known(c, 1, &u) || d.t != u.t) return false;
    int64_t *off = ck_scatter_offsets(c, &n, &slice);
    void *y = off ? ck_out_known(c, 0, d.t) : NULL;
    bool ok = y != NULL;
    if (y) {
        memcpy(y, d.p, (size_t)d.n * ck_nd_size(d.t));
        ok = ck_nd_scatter(n, off, slice, d.t, c->n->a.scatter.reduction, u.p, y);
    }
    free(off);
    return ok;
}

const ck_op ck_op_scatter_nd = {scatter_shape, copy_cost, scatter_eval};
