/* Ops that only the ONNX dialect needs, and ONNX forms of canonical ops.
 *
 * Two kinds live in src/ops/onnx_shape_ops.c:
 *
 * 1. Shape-tensor ops. PyTorch exports `x.view(x.size(0), -1)` as
 *    Shape -> Gather -> Unsqueeze -> Concat -> Reshape, and `F.interpolate(x,
 *    size=y.shape[2:])` as Shape -> Slice -> Concat -> Resize. These ops
 *    compute the output shape, and their eval rules the contents (the
 *    constant evaluator, ops/ops.h), so any such chain folds at check time.
 *
 * 2. Wrappers, named like the canonical op they call. ONNX passes some
 *    attributes as inputs (Resize scales/sizes, Pad pads from opset 11). The
 *    wrapper reads those inputs (their known contents) at check time,
 *    overlays them on a copy of the node's attributes and calls the
 *    canonical op's own shape and cost rules with only the data input; no
 *    formula is repeated. ONNX's arithmetic, Concat and Identity are the
 *    canonical ops themselves.
 *
 * The importer (src/import/onnx.c) rewrites the attribute forms of older
 * opsets (Squeeze/Unsqueeze/Reduce* axes, Slice starts/ends/axes, Split
 * split, Pad pads, Upsample scales) into constant inputs, so these ops read
 * only inputs; the input positions are the ONNX operator's, with absent
 * optional inputs bound to the CK_ONNX_ABSENT placeholder.
 *
 * Attribute use of the ONNX-only ops (ck_attrs fields):
 *   Shape            dims.start, dims.end (end INT_MAX = to the end)
 *   Gather, Split    axis
 *   ConstantOfShape  fill.value, fill.is_int (the fill is an integer type)
 *   Cast             cast.to = the target ck_dtype
 *   Reduce*          reduce.op, keepdims, reduce.noop_with_empty_axes
 *   Resize, Upsample resize.scales_input, axes/n_axes (opset 18), interp, coord
 *   MatMul           in_features/out_features when B is an initializer (params[0])
 */
#ifndef CK_ONNX_SHAPE_OPS_H
#define CK_ONNX_SHAPE_OPS_H

#include "ops/ops.h"

/* shape-tensor ops */
extern const ck_op ck_op_onnx_shape, ck_op_onnx_size, ck_op_onnx_gather, ck_op_onnx_unsqueeze,
    ck_op_onnx_squeeze;
extern const ck_op ck_op_onnx_slice, ck_op_onnx_cast, ck_op_onnx_constant_of_shape;
extern const ck_op ck_op_onnx_range, ck_op_onnx_split, ck_op_onnx_reduce, ck_op_onnx_matmul;

/* wrappers around canonical ops */
extern const ck_op ck_op_onnx_resize, ck_op_onnx_pad;

/* Slice's starts/ends/axes/steps read and resolved for input x: out the
 * sliced shape, beg[a] and step[a] where each axis starts and how it steps
 * (0 and 1 on axes not sliced). False after reporting why. */
bool ck_slice_params(ck_ctx *c, const ck_shape *x, ck_shape *out, int64_t *beg, int64_t *step);
/* Gather's known indices made non-negative for an axis of size dim
 * (malloc'd); NULL when unknown. */
int64_t *ck_gather_indices(const ck_ctx *c, int64_t dim, int64_t *n);
/* True when v stands for an absent optional input: the placeholder below,
 * or an empty constant (PyTorch writes an empty `scales` next to `sizes`). */
bool ck_onnx_val_absent(const ck_val *v);

/* Name of the placeholder value bound to an absent optional input that is
 * followed by a present one (Resize(X, "", scales)). It holds an empty
 * tensor of dtype CK_OTHER. */
#define CK_ONNX_ABSENT "<absent>"

#endif
