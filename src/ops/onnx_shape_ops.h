/* Ops that only the ONNX dialect needs, and ONNX forms of canonical ops.
 *
 * Two kinds live in src/ops/onnx_shape_ops.c:
 *
 * 1. Shape-tensor ops. PyTorch exports `x.view(x.size(0), -1)` as
 *    Shape -> Gather -> Unsqueeze -> Concat -> Reshape, and `F.interpolate(x,
 *    size=y.shape[2:])` as Shape -> Slice -> Concat -> Resize. These ops
 *    compute the output shape and, when the contents are known integers
 *    (from input shapes or constants), the contents too (ck_val.kval), so the
 *    chain folds at check time. Contents are tracked for small 0-D/1-D
 *    integer tensors only (CK_ONNX_MAX_KVAL elements).
 *
 * 2. Wrappers, named like the canonical op they call. ONNX passes some
 *    attributes as inputs (Resize scales/sizes, Pad pads from opset 11). The
 *    wrapper reads those inputs (kval, or a constant tensor's data) at check
 *    time, overlays them on a copy of the node's attributes and calls the
 *    canonical op's own shape and cost rules with only the data input; no
 *    formula is repeated. The binary-op, Concat and Identity wrappers call the
 *    canonical rule unchanged and also carry kval through.
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

#define CK_ONNX_MAX_KVAL CK_MAX_KVAL

/* shape-tensor ops */
extern const ck_op ck_op_onnx_shape, ck_op_onnx_gather, ck_op_onnx_unsqueeze, ck_op_onnx_squeeze;
extern const ck_op ck_op_onnx_slice, ck_op_onnx_cast, ck_op_onnx_constant_of_shape;
extern const ck_op ck_op_onnx_range, ck_op_onnx_split, ck_op_onnx_reduce, ck_op_onnx_matmul;

/* wrappers around canonical ops */
extern const ck_op ck_op_onnx_concat, ck_op_onnx_identity;
extern const ck_op ck_op_onnx_add, ck_op_onnx_sub, ck_op_onnx_mul, ck_op_onnx_div;
extern const ck_op ck_op_onnx_resize, ck_op_onnx_pad;

/* Name of the placeholder value bound to an absent optional input that is
 * followed by a present one (Resize(X, "", scales)). It holds an empty
 * tensor of dtype CK_OTHER. */
#define CK_ONNX_ABSENT "<absent>"

#endif
