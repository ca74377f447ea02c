/* Joins of several values: elementwise binary ops with broadcasting, and
 * concatenation along an axis. */
#include "ops/ops.h"

#include <math.h>

/* Names the axis of a tensor in the node's layout for messages. */
static const char *axis_word(const ck_attrs *a, int rank, int ax) {
    if (rank >= 3) {
        int nsp = rank - 2;
        if (ax == ck_channel_axis(a, rank, nsp)) return "channels";
        for (int i = 0; i < nsp; i++)
            if (ax == ck_spatial_axis(a, rank, nsp, i)) return ck_axis_name(nsp, i);
        if (ax == 0) return "batch";
    }
    return NULL;
}

/* Python's integer arithmetic on known sizes (x.size(2) - y.size(2), d // 2):
 * the PyTorch dialect's add, sub, mul, floordiv and mod of 0-D/1-D integer
 * values keep their contents, so shapes computed from them fold. */
static void python_kval(ck_ctx *c) {
    ck_op_id op = c->n->op;
    const ck_attrs *a = &c->n->a;
    if (a->dialect != CK_DIALECT_PYTORCH || c->n_in < 1 || c->n_in > 2 || op == CK_OP_DIV) return;
    if (op != CK_OP_ADD && op != CK_OP_SUB && op != CK_OP_MUL && op != CK_OP_FLOORDIV &&
        op != CK_OP_MOD)
        return;
    int64_t cnt[2] = {1, 1}, sv = 0;
    const int64_t *v[2] = {&sv, &sv};
    if (a->has_scalar) {
        if (c->n_in != 1 || a->scalar != floor(a->scalar) || fabs(a->scalar) > 9.0e15) return;
        sv = (int64_t)a->scalar;
    }
    for (int k = 0; k < c->n_in; k++) {
        int slot = (a->has_scalar && a->scalar_first) ? 1 : k;
        if (c->in[k]->shape.rank > 1 || !(v[slot] = ck_known_ints(c, k, &cnt[slot]))) return;
    }
    if (cnt[0] != cnt[1] && cnt[0] != 1 && cnt[1] != 1) return;
    int64_t n = cnt[0] > cnt[1] ? cnt[0] : cnt[1], r[CK_MAX_KVAL];
    if (n > CK_MAX_KVAL) return;
    for (int64_t i = 0; i < n; i++) {
        int64_t x = v[0][cnt[0] == 1 ? 0 : i], y = v[1][cnt[1] == 1 ? 0 : i];
        bool ok = true;
        if (op == CK_OP_ADD)
            ok = ck_add(x, y, &r[i]);
        else if (op == CK_OP_SUB)
            ok = ck_sub(x, y, &r[i]);
        else if (op == CK_OP_MUL)
            ok = ck_mul(x, y, &r[i]);
        else if (y == 0 || (x == INT64_MIN && y == -1))
            ok = false;
        else { /* floor division and a remainder with the divisor's sign */
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) q--, m += y;
            r[i] = op == CK_OP_FLOORDIV ? q : m;
        }
        if (!ok) return;
    }
    c->out[0]->dtype = CK_I64;
    ck_set_kval(c->out[0], r, n);
}

static bool binary_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    ck_shape y = c->in[0]->shape;
    for (int k = 1; k < c->n_in; k++) {
        const ck_shape *b = &c->in[k]->shape;
        int r = y.rank > b->rank ? y.rank : b->rank;
        ck_shape z = {.rank = r};
        for (int i = 0; i < r; i++) {
            int ia = i - (r - y.rank), ib = i - (r - b->rank);
            int64_t da = ia >= 0 ? y.d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
            if (da != db && da != 1 && db != 1) {
                const char *w = axis_word(a, r, i);
                ck_diag *dg = ck_fail(c, CK_SKIP_MISMATCH,
                                      "%s cannot combine sizes %lld and %lld on axis %d%s%s%s",
                                      c->n->type, (long long)da, (long long)db, i, w ? " (" : "",
                                      w ? w : "", w ? ")" : "");
                if (dg && w) ck_diag_set(&dg->axis, "%s", w);
                c->fail_axis = (r == c->in[0]->shape.rank) ? i : -1;
                c->fail_value = da;
                return false;
            }
            z.d[i] = da == 1 ? db : da;
        }
        y = z;
    }
    c->out[0]->shape = y;
    python_kval(c);
    return true;
}

static void binary_cost(const ck_ctx *c, ck_cost *k) {
    if (c->out[0]->kval) return; /* arithmetic on sizes, not on data */
    k->ops = ck_sat_mul(ck_numel_sat(&c->out[0]->shape), c->n_in > 1 ? c->n_in - 1 : 1);
}

const ck_op ck_op_add = {binary_shape, binary_cost};
const ck_op ck_op_sub = {binary_shape, binary_cost};
const ck_op ck_op_mul = {binary_shape, binary_cost};
const ck_op ck_op_div = {binary_shape, binary_cost};
const ck_op ck_op_max = {binary_shape, binary_cost};
const ck_op ck_op_min = {binary_shape, binary_cost};
const ck_op ck_op_mean = {binary_shape, binary_cost};
const ck_op ck_op_floordiv = {binary_shape, binary_cost};
const ck_op ck_op_mod = {binary_shape, binary_cost};

static bool concat_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int r = x->rank;
    int ax = a->axis < 0 ? a->axis + r : a->axis;
    if (ax < 0 || ax >= r) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: axis %d is out of range for %d-D inputs", c->n->type,
                a->axis, r);
        return false;
    }
    ck_shape y = *x;
    for (int k = 1; k < c->n_in; k++) {
        const ck_shape *b = &c->in[k]->shape;
        if (b->rank != r) {
            ck_fail(c, CK_SKIP_MISMATCH, "%s: operand %d is %d-D but operand 0 is %d-D", c->n->type,
                    k, b->rank, r);
            return false;
        }
        for (int i = 0; i < r; i++) {
            if (i == ax) continue;
            if (b->d[i] != x->d[i]) {
                const char *w = axis_word(a, r, i);
                ck_diag *dg = ck_fail(c, CK_SKIP_MISMATCH,
                                      "%s joins along axis %d, so every other axis must agree, but "
                                      "axis %d%s%s%s is %lld in operand 0 and %lld in operand %d",
                                      c->n->type, ax, i, w ? " (" : "", w ? w : "", w ? ")" : "",
                                      (long long)x->d[i], (long long)b->d[i], k);
                if (dg && w) ck_diag_set(&dg->axis, "%s", w);
                c->fail_axis = i;
                c->fail_value = x->d[i];
                return false;
            }
        }
        y.d[ax] = ck_sat_add(y.d[ax], b->d[ax]);
    }
    c->out[0]->shape = y;
    return true;
}

const ck_op ck_op_concat = {concat_shape, NULL};
