/* Reference kernels on plain n-d arrays: the code that computes the ops
 * whose values are data movement, elementwise arithmetic, comparisons,
 * reductions and fills. Two callers share every one of them:
 *
 *   - the runtime's reference steps (src/runtime/kernels/ref_*.c), on
 *     float32 data;
 *   - the constant evaluator (src/ops/eval.c), which computes at check time
 *     every value whose inputs are known (shape arithmetic, pads, grids), on
 *     int64 elements (integer and bool tensors; bool is 0/1) and float32
 *     elements (float tensors).
 *
 * So a value folded when a model is checked is computed by the same code as
 * the one a run computes. Shapes and parameters are resolved by the caller;
 * the kernels never fail on float32 data. On int64 data the arithmetic is
 * checked: an overflow, a division by zero or an undefined conversion
 * returns false (the evaluator then leaves the value unknown). Data
 * movement works on elements of any size (es bytes). */
#ifndef CK_ND_H
#define CK_ND_H

#include "ops/attrs.h"

#include "core/core.h"

typedef enum ck_nd_type { CK_ND_F32 = 0, CK_ND_I64 } ck_nd_type;

static inline size_t ck_nd_size(ck_nd_type t) {
    return t == CK_ND_F32 ? sizeof(float) : sizeof(int64_t);
}

/* The elements before and after axis ax of shape s (a tensor seen as
 * [outer, s->d[ax], inner]). */
void ck_nd_outer_inner(const ck_shape *s, int ax, int64_t *outer, int64_t *inner);
/* C-order element strides of shape s. */
void ck_nd_strides(const ck_shape *s, int64_t *st);
/* The strides with which an operand of shape `in` is read at each axis of
 * the broadcast shape `out` (numpy rules: 0 where it has size 1 or no axis). */
void ck_nd_bcast_strides(const ck_shape *out, const ck_shape *in, int64_t *st);

/* ---- data movement ------------------------------------------------------ */

/* y[i] = x[off + sum_a i_a * xst[a]] for every index i of `out` in C order:
 * transpose (permuted strides), slice (start and step), expand (stride 0). */
void ck_nd_gather_strided(const ck_shape *out, const int64_t *xst, int64_t off, size_t es,
                          const void *x, void *y);
/* The strides and offset with which ck_nd_gather_strided reads the slice
 * of a tensor of shape `in` that starts at start[a] with step step[a] on
 * each axis and has shape `out`. */
void ck_nd_slice_strides(const ck_shape *in, const ck_shape *out, const int64_t *start,
                         const int64_t *step, int64_t *st, int64_t *off);
/* Per-axis index maps: output index o of axis a reads input index
 * map[a][o] (map[a] NULL: o itself), or the element `fill` where the index
 * is -1 (pad, crop, tile). */
void ck_nd_map(const ck_shape *in, const ck_shape *out, int64_t *const *map, size_t es,
               const void *fill, const void *x, void *y);
/* Gather along an axis: x as [outer, len, inner], y as [outer, nidx, inner]
 * with y[o, j] = x[o, idx[j]] (idx in [0, len)). */
void ck_nd_take(int64_t outer, int64_t len, int64_t inner, const int64_t *idx, int64_t nidx,
                size_t es, const void *x, void *y);
/* Concatenation of n parts [outer, parts[k], inner] along the middle axis,
 * and its inverse. */
void ck_nd_concat(int64_t outer, int64_t inner, int n, const int64_t *parts, size_t es,
                  const void *const *in, void *y);
void ck_nd_split(int64_t outer, int64_t inner, int n, const int64_t *parts, size_t es,
                 const void *x, void *const *out);
/* y = cond ? a : b with numpy broadcasting to `out` (strides per operand
 * from ck_nd_bcast_strides); cond holds elements of type ct. */
void ck_nd_where(const ck_shape *out, ck_nd_type ct, const void *cond, const int64_t *cs, size_t es,
                 const void *a, const int64_t *as, const void *b, const int64_t *bs, void *y);
/* ScatterND: y (already a copy of the data) gets the n slices of `slice`
 * elements of upd at element offsets off[i]. */
/* The element offsets in x of n index tuples of q entries each (an entry
 * below 0 counts from the end of its axis; all in range). */
void ck_nd_scatter_offsets(const ck_shape *x, const int64_t *idx, int64_t n, int q, int64_t *off);
/* Writes (reduction 0) or combines (1 add, 2 mul, 3 max, 4 min) the n
 * slices of upd, in order, into y at the offsets. False on int64
 * overflow. */
bool ck_nd_scatter(int64_t n, const int64_t *off, int64_t slice, ck_nd_type t, int reduction,
                   const void *upd, void *y);

/* ---- arithmetic ------------------------------------------------------------ */

typedef enum ck_nd_bin {
    CK_BIN_ADD = 0,
    CK_BIN_SUB,
    CK_BIN_MUL,
    CK_BIN_DIV, /* floats; integers truncate (ONNX Div) */
    CK_BIN_MAX,
    CK_BIN_MIN,
    CK_BIN_MEAN,
    CK_BIN_FLOORDIV, /* Python's a // b */
    CK_BIN_MOD,      /* the remainder with the divisor's sign (Python %, ONNX Mod fmod=0) */
    CK_BIN_FMOD,     /* the remainder with the dividend's sign (C fmod, ONNX Mod fmod=1) */
    CK_BIN_POW,
    /* comparisons and logic: the result is a bool (0 or 1) */
    CK_BIN_EQ,
    CK_BIN_LT,
    CK_BIN_LE,
    CK_BIN_GT,
    CK_BIN_GE,
    CK_BIN_AND,
    CK_BIN_OR,
    CK_BIN_XOR,
} ck_nd_bin;

/* True for the ops whose result is a bool. */
static inline bool ck_nd_bin_is_bool(ck_nd_bin op) {
    return op >= CK_BIN_EQ;
}

/* y = in[0] op in[1] op ... (folded left to right; MEAN divides the sum by
 * n_in) with numpy broadcasting to `out`; strides: n_in x CK_MAX_RANK from
 * ck_nd_bcast_strides. Operands have type t; y has type t, or for the bool
 * ops (two operands) type `yt`. y may be in[0] (same shape and type).
 * False on int64 overflow or division by zero. */
bool ck_nd_binary(ck_nd_bin op, ck_nd_type t, ck_nd_type yt, const ck_shape *out, int n_in,
                  const int64_t *strides, const void *const *in, void *y);

/* Elementwise functions (ck_act: activations and math) with their
 * parameters resolved (ck_act_params). Softmax, log-softmax and PReLU are
 * not elementwise: the runtime computes them. int64 elements support
 * identity, relu, neg, abs, sign, not, floor, ceil and round. */
bool ck_nd_unary(ck_act act, float alpha, float beta, ck_nd_type t, const void *x, void *y,
                 int64_t n);
/* The parameters an activation computes with: the layer's, or its
 * framework's defaults (SELU's constants, Softplus's beta and threshold). */
void ck_act_params(const ck_attrs *a, float *alpha, float *beta);

/* Reduction of the axes red[] of x (shape `in`) into y (the other axes, in
 * order); scratch holds as many elements as y (log-sum-exp). */
bool ck_nd_reduce(ck_reduce op, ck_nd_type t, const ck_shape *in, const bool *red, const void *x,
                  void *y, void *scratch);
/* y[i] = start + i * delta for i < n (Range, and ConstantOfShape with delta 0). */
bool ck_nd_fill(ck_nd_type t, int64_t n, double start, double delta, int64_t istart, int64_t idelta,
                void *y);
/* Converts n elements from type `from` to type `to`: float to integer
 * truncates toward zero (false when out of range or NaN); `to_bool` makes
 * every nonzero 1. */
bool ck_nd_cast(ck_nd_type from, ck_nd_type to, bool to_bool, int64_t n, const void *x, void *y);

#endif
