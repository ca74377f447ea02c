/* Joins of several values: elementwise binary ops, comparisons and where
 * with broadcasting, and concatenation along an axis. */
#include "ops/ops.h"

#include <math.h>
#include <string.h>

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
    ck_nd_bin op = ck_op_bin(c->n->op, a);
    if (ck_nd_bin_is_bool(op)) {
        c->out[0]->dtype = CK_BOOL;
    } else if (c->n->op != CK_OP_WHERE) {
        /* integers with a float (or PyTorch's true division) give a float */
        ck_nd_type t;
        bool flt = (op == CK_BIN_DIV && a->dialect == CK_DIALECT_PYTORCH) ||
                   (a->has_scalar && a->scalar != floor(a->scalar));
        for (int k = 0; k < c->n_in; k++)
            if (ck_dtype_nd(c->in[k]->dtype, &t) && t == CK_ND_F32) flt = true;
        ck_nd_type have;
        if (flt && (!ck_dtype_nd(c->out[0]->dtype, &have) || have != CK_ND_F32))
            c->out[0]->dtype = CK_F32;
    }
    python_kval(c);
    return true;
}

/* An operand that is a stored weight (an ONNX initializer: GroupNorm's
 * affine weight and bias after InstanceNormalization, a learned scale) is
 * a parameter; constants the graph makes are not. */
static void binary_cost(const ck_ctx *c, ck_cost *k) {
    k->ops = ck_sat_mul(ck_numel_sat(&c->out[0]->shape), c->n_in > 1 ? c->n_in - 1 : 1);
    for (int i = 0; i < c->n_in; i++) {
        int t = c->in[i]->tensor;
        if (t >= 0 && !c->g->tensors[t].from_node)
            k->params = ck_sat_add(k->params, ck_numel_sat(&c->in[i]->shape));
    }
}

ck_nd_bin ck_op_bin(ck_op_id op, const ck_attrs *a) {
    switch (op) {
    case CK_OP_SUB:
        return CK_BIN_SUB;
    case CK_OP_MUL:
        return CK_BIN_MUL;
    case CK_OP_DIV:
        return CK_BIN_DIV;
    case CK_OP_MAX:
        return CK_BIN_MAX;
    case CK_OP_MIN:
        return CK_BIN_MIN;
    case CK_OP_MEAN:
        return CK_BIN_MEAN;
    case CK_OP_FLOORDIV:
        return CK_BIN_FLOORDIV;
    case CK_OP_MOD:
        return a->mod.fmod ? CK_BIN_FMOD : CK_BIN_MOD;
    case CK_OP_POW:
        return CK_BIN_POW;
    case CK_OP_EQUAL:
        return CK_BIN_EQ;
    case CK_OP_LESS:
        return CK_BIN_LT;
    case CK_OP_LESS_EQUAL:
        return CK_BIN_LE;
    case CK_OP_GREATER:
        return CK_BIN_GT;
    case CK_OP_GREATER_EQUAL:
        return CK_BIN_GE;
    case CK_OP_AND:
        return CK_BIN_AND;
    case CK_OP_OR:
        return CK_BIN_OR;
    case CK_OP_XOR:
        return CK_BIN_XOR;
    default:
        return CK_BIN_ADD;
    }
}

/* The known operands of a binary node as one type (integers become floats
 * beside a float, or for PyTorch's true division), the Python number of a
 * `scalar` argument included; tmp[] receives converted copies. */
static bool operands(ck_ctx *c, ck_nd_bin op, ck_known *k, ck_shape *sh, void **tmp, int *n,
                     ck_nd_type *t) {
    const ck_attrs *a = &c->n->a;
    int m = 0, at = 0;
    static const ck_shape scalar_shape = {0};
    if (c->n_in + 1 > 8) return false;
    bool flt = op == CK_BIN_DIV && a->dialect == CK_DIALECT_PYTORCH;
    for (int i = 0; i < c->n_in + (a->has_scalar ? 1 : 0); i++) {
        bool scalar = a->has_scalar && (a->scalar_first ? i == 0 : i == c->n_in);
        if (scalar) {
            sh[m] = scalar_shape;
            k[m] = (ck_known){CK_ND_F32, 1, NULL}; /* filled below */
            flt |= a->scalar != floor(a->scalar) || fabs(a->scalar) > 9e15;
        } else {
            if (!ck_in_known(c, at, &k[m])) return false;
            sh[m] = c->in[at++]->shape;
            flt |= k[m].t == CK_ND_F32;
        }
        m++;
    }
    *t = flt ? CK_ND_F32 : CK_ND_I64;
    for (int i = 0; i < m; i++) {
        if (k[i].p && k[i].t == *t) continue;
        if (!(tmp[i] = malloc((size_t)(k[i].n ? k[i].n : 1) * ck_nd_size(*t)))) return false;
        if (!k[i].p) { /* the scalar */
            if (*t == CK_ND_F32)
                *(float *)tmp[i] = (float)a->scalar;
            else
                *(int64_t *)tmp[i] = (int64_t)a->scalar;
        } else if (!ck_nd_cast(k[i].t, *t, false, k[i].n, k[i].p, tmp[i])) {
            return false;
        }
        k[i] = (ck_known){*t, k[i].n, tmp[i]};
    }
    *n = m;
    return true;
}

static bool binary_eval(ck_ctx *c) {
    if (c->out[0]->kval) return true; /* Python's arithmetic on sizes did it */
    ck_nd_bin op = ck_op_bin(c->n->op, &c->n->a);
    ck_known k[8];
    ck_shape sh[8];
    void *tmp[8] = {0};
    const void *p[8];
    int64_t st[8][CK_MAX_RANK];
    int n = 0;
    ck_nd_type t;
    bool ok = operands(c, op, k, sh, tmp, &n, &t);
    ck_nd_type yt = ck_nd_bin_is_bool(op) ? CK_ND_I64 : t;
    void *y = ok ? ck_out_known(c, 0, yt) : NULL;
    if (y) {
        for (int i = 0; i < n; i++) {
            ck_nd_bcast_strides(&c->out[0]->shape, &sh[i], st[i]);
            p[i] = k[i].p;
        }
        ok = ck_nd_binary(op, t, yt, &c->out[0]->shape, n, st[0], p, y);
    }
    for (int i = 0; i < 8; i++) free(tmp[i]);
    return y && ok;
}

const ck_op ck_op_add = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_sub = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_mul = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_div = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_max = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_min = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_mean = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_floordiv = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_mod = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_pow = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_equal = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_less = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_less_equal = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_greater = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_greater_equal = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_and = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_or = {binary_shape, binary_cost, binary_eval};
const ck_op ck_op_xor = {binary_shape, binary_cost, binary_eval};

/* where(cond, x, y): the three broadcast together; x's type */
static bool where_shape(ck_ctx *c) {
    if (c->n_in != 3) {
        ck_fail(c, CK_INVALID_CONFIG, "%s needs a condition and two values (3 inputs), got %d",
                c->n->type, c->n_in);
        return false;
    }
    if (!binary_shape(c)) return false;
    c->out[0]->dtype = c->in[1]->dtype;
    return true;
}

static bool where_eval(ck_ctx *c) {
    ck_known k[3];
    int64_t st[3][CK_MAX_RANK];
    for (int i = 0; i < 3; i++) {
        if (!ck_in_known(c, i, &k[i])) return false;
        ck_nd_bcast_strides(&c->out[0]->shape, &c->in[i]->shape, st[i]);
    }
    if (k[1].t != k[2].t) return false;
    void *y = ck_out_known(c, 0, k[1].t);
    if (!y) return false;
    ck_nd_where(&c->out[0]->shape, k[0].t, k[0].p, st[0], ck_nd_size(k[1].t), k[1].p, st[1], k[2].p,
                st[2], y);
    return true;
}

static void where_cost(const ck_ctx *c, ck_cost *k) {
    k->ops = ck_numel_sat(&c->out[0]->shape);
}

const ck_op ck_op_where = {where_shape, where_cost, where_eval};

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

static bool concat_eval(ck_ctx *c) {
    const ck_shape *y = &c->out[0]->shape;
    int ax = c->n->a.axis < 0 ? c->n->a.axis + y->rank : c->n->a.axis;
    ck_known k;
    const void *p[64];
    int64_t parts[64], outer, inner;
    ck_nd_type t = CK_ND_I64;
    if (c->n_in > 64) return false;
    for (int i = 0; i < c->n_in; i++) {
        if (!ck_in_known(c, i, &k) || (i && k.t != t)) return false;
        t = k.t;
        p[i] = k.p;
        parts[i] = c->in[i]->shape.d[ax];
    }
    void *out = ck_out_known(c, 0, t);
    if (!out) return false;
    ck_nd_outer_inner(y, ax, &outer, &inner);
    ck_nd_concat(outer, inner, c->n_in, parts, ck_nd_size(t), p, out);
    return true;
}

const ck_op ck_op_concat = {concat_shape, NULL, concat_eval};
