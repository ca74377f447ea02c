/* The op table. An op (CK_OP_CONV, CK_OP_MAX_POOL, ...: one line of the
 * registry, src/ops/ops.def) owns its shape rule and cost rule; a frontend
 * entry maps a framework's layer name (Conv2d, Conv2D, Conv) and its
 * argument names onto that op's id and canonical attributes. Every pass
 * reads these tables; no formula lives elsewhere. */
#ifndef CK_OPS_H
#define CK_OPS_H

#include "ops/ir.h"
#include "ops/nd.h"

/* Context of one shape-rule call. */
typedef struct ck_ctx {
    const ck_graph *g;
    const ck_node *n;
    ck_diags *d;
    int n_in;
    const ck_val *const *in;
    int n_out;
    ck_val *const *out;
    ck_diag *err;       /* the diagnostic the rule reported, if any */
    int fail_axis;      /* tensor axis of input 0 that failed, -1 if none */
    int64_t fail_value; /* the size that axis would have had */
    int64_t *fold_left; /* elements the constant evaluator may still store in
                           this check (NULL: no bound but the per-value one) */
} ck_ctx;

typedef struct ck_cost {
    int64_t params, macs, ops;
} ck_cost;

/* The rules of one op (ck_op_get). Its name, receptive-field rule, runtime
 * step builder and flags are columns of its registry line. */
typedef struct ck_op {
    /* Sets out[i]->shape (and kval for shape tensors). On failure reports one
     * error with ck_fail() and returns false. */
    bool (*shape)(ck_ctx *c);
    /* Parameters and operation counts, after a successful shape call. */
    void (*cost)(const ck_ctx *c, ck_cost *cost);
    /* The constant evaluator's rule (NULL: the op is never folded): after a
     * successful shape call, computes the contents of the outputs from the
     * known contents of the inputs (ck_in_known) into ck_out_known. Returns
     * false, leaving them unknown, when an input it reads is not known, an
     * output is larger than the fold limit, or the result is not defined
     * (an integer overflow, a division by zero). Never reports. */
    bool (*eval)(ck_ctx *c);
} ck_op;

/* The rules of op `id` (never NULL for an id below CK_OP_COUNT). */
const ck_op *ck_op_get(ck_op_id id);
/* The canonical name reports show ("conv"; wrappers share their op's name). */
const char *ck_op_name(ck_op_id id);
/* CK_OPF_* of the op's registry line. */
unsigned ck_op_flags(ck_op_id id);

/* Binding state while a frontend entry normalises one layer's arguments. */
typedef struct ck_build {
    const struct ck_frontend *fe;
    ck_attrs *a;
    const ck_value *const *arg; /* by parameter index; NULL = not given */
    const ck_args *fwd;         /* forward keyword arguments, may be NULL */
    const char *layer;
    const char *type;
    ck_graph *g;
    int n_params;
    const int *params; /* tensor indices (ONNX initializers) */
    int n_in;
    const int *in; /* the layer's input values (references in functional arguments) */
    ck_diags *d;   /* collects the (first) configuration error */
    bool failed;
} ck_build;

/* The names a framework gives the arguments the fix search edits (NULL:
 * the layer has no such argument). A frontend entry points at one. */
typedef struct ck_knobs {
    const char *pad, *stride, *kernel, *dilation, *ceil;
    const char *in_ch;    /* the input channels: in_channels, num_features */
    const char *features; /* a dense layer's input features */
    const char *out_pad;  /* a transposed convolution's output padding */
} ck_knobs;

typedef struct ck_frontend {
    const char *name; /* as the framework writes it */
    ck_dialect dialect;
    ck_op_id op;
    int nsp;                    /* spatial rank implied by the name (Conv2d: 2), 0 if none */
    const char *const *params;  /* parameter names in positional order, NULL-terminated */
    int n_required;             /* leading parameters that must be given */
    bool (*build)(ck_build *b); /* fills b->a; on error calls ck_build_fail and returns false */
    /* A function call of PyTorch's functional API (view, interpolate, size,
     * getitem): its inputs are the earlier values its arguments name, not the
     * previous layer's output. */
    bool functional;
    const ck_knobs *knobs; /* the arguments a fix may change; NULL: none */
} ck_frontend;

/* Looks up a layer name in a dialect (DIALECT_NONE: any dialect, pytorch first). */
const ck_frontend *ck_frontend_find(ck_dialect dialect, const char *name);
/* True when `name` is a known layer name in `dialect`. */
bool ck_frontend_known(ck_dialect dialect, const char *name);

/* The canonical ops. Attribute use (ck_attrs):
 *  conv            nsp, kernel/stride/dilation, pads+pad_mode, border, in_ch, out_ch, groups, bias.
 *                  in_ch 0: taken from the input (Keras builds its kernel from the input);
 *                  groups 0: depthwise (groups = input channels, out = C_in * depth_multiplier)
 *                  PyTorch checks (pool/conv padding rules, output_padding < max(s, d)) apply
 *                  only to dialect PYTORCH; ONNX and Keras follow their own specifications.
 *  conv_transpose  as conv plus out_pad; has_size+size = forward output_size (PyTorch: must lie
 *                  in [min, min+s-1]) or ONNX output_shape (pads derived per the ONNX spec,
 *                  split by pad_mode SAME_UPPER vs other). ONNX auto_pad SAME_* without
 *                  output_shape: out = in*s. Keras: the frontend turns deconv_output_length into
 *                  explicit pads + out_pad at build time.
 *                  Weight layout for in_ch/out_ch: in_ch = channels read, out_ch = produced.
 *  separable_conv  Keras SeparableConv: depthwise (depth_multiplier) then 1x1 to out_ch
 *  max_pool, avg_pool  kernel/stride/dilation, pads+pad_mode, ceil_mode, count_include_pad
 *  global_avg_pool, global_max_pool  keepdims (ONNX/keepdims=True keeps 1x1 spatial axes)
 *  adaptive_avg_pool, adaptive_max_pool  size[] (-1 keeps the input size)
 *  resize          has_size+size or has_scale+scale (size_rank: entries given, 0 = one for
 *                  every axis), interp, coord, align_corners
 *  pad             pad_begin/pad_end on the nsp trailing spatial axes, border, pad_value
 *  crop            pad_begin/pad_end = pixels cropped (Keras Cropping)
 *  batch_norm, instance_norm  num_features (0: any); group_norm num_groups+num_features;
 *  layer_norm      shape[] = normalized_shape (shape_rank 0: last axis, Keras)
 *  activation      act (+alpha, beta; axis or implicit_dim for softmax); PReLU: num_features
 *                  parameters (Keras: axes[] = shared_axes)
 *  identity        Dropout, Identity, Keras noise layers
 *  linear          in_features (0: any), out_features, bias; on the last axis; ONNX Gemm:
 *                  trans_a, trans_b, gemm.alpha, gemm.beta
 *  flatten         start_dim, end_dim (ONNX dialect: axis, always 2-D)
 *  unflatten       axis, shape[]
 *  reshape         shape[] (Keras: without batch; ONNX: 0 copies, -1 infers)
 *  transpose       perm[] (ck_transpose_perm: ONNX none = reverse, Keras 1-based)
 *  depth_to_space, space_to_depth  the r x r block as kernel = stride on nsp = 2 axes,
 *                  space.crd = the channel order (src/ops/shuffle.c)
 *  channel_shuffle groups
 *  add, sub, mul, div, max, min, mean  broadcasting (Keras dialect: equal shapes)
 *  concat          axis
 *  floordiv, mod   Python's // and % (PyTorch dialect), on tensors or on known sizes;
 *                  ONNX Mod: mod.fmod takes the dividend's sign
 *  pow             broadcasting
 *  add ... xor     has_scalar: the other operand is the number `scalar` (first when
 *                  scalar_first); PyTorch dialect: known integer contents are computed
 *  equal, less, less_equal, greater, greater_equal, and, or, xor
 *                  broadcasting; the output is a bool (0 or 1)
 *  where           (cond, x, y) broadcast together; x's type
 *  expand          (x, shape): x and the shape broadcast both ways (ONNX Expand)
 *  tile            (x, repeats): one count per axis
 *  scatter_nd      (data, updates, indices), indices last; scatter.reduction
 *  activation      also the elementwise math of ONNX (neg ... cos, not) and mish, celu,
 *                  thresholded relu (src/ops/nd.c computes them)
 *
 * PyTorch functional calls (src/ops/torch_fn.c; the list argument in dyn):
 *  torch_size      size(x) (1-D) or size(x, dim) (0-D): integers with known contents
 *  torch_getitem   s[i], s[a:b], x[:, :, a:b]: dyn holds (start, stop, step) per axis,
 *                  step 0 for a plain index
 *  torch_view      view/reshape(x, shape): the canonical reshape with dyn as the target
 *  torch_interpolate  F.interpolate: Upsample's attributes, size from dyn when given
 *  torch_pad       F.pad: pads in dyn (last axis first), border, pad_value
 *  torch_permute, torch_transpose  dims in dyn
 *  torch_reduce    reduce.op (mean/sum/amax/amin) over dyn (none: every axis), keepdims
 *  torch_pieces    chunk (chunks) or split (dyn = sizes) along axis; one
 *                  output per piece, named <layer>.0, <layer>.1, ...
 *  torch_squeeze, torch_unsqueeze  dim in dyn (squeeze: none = every axis of size 1)
 *  torch_error     error(x, code, message): always fails with that code and message (a
 *                  failure the Python package saw PyTorch raise where it cannot trace)
 */
/* Frontend tables, one per dialect file (src/import/fe_*.c), each ending
 * with an entry whose name is NULL. */
extern const ck_frontend ck_fe_pytorch[], ck_fe_keras[], ck_fe_onnx[];

/* ---- helpers for shape rules ------------------------------------------- */

/* Reports the rule's error for the current node. The returned diagnostic can
 * be given an axis, formula, notes. */
ck_diag *ck_fail(ck_ctx *c, ck_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Names the failing spatial axis: sets the diagnostic's axis and the axis
 * the shrink chain follows. */
void ck_fail_axis(ck_ctx *c, int tensor_axis, const char *name, int64_t value);
ck_diag *ck_warn(ck_ctx *c, ck_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Index of the channel axis and of spatial axis i (0-based, in H, W order)
 * for a tensor of rank `rank` in this node's layout, with nsp spatial axes. */
int ck_channel_axis(const ck_attrs *a, int rank, int nsp);
int ck_spatial_axis(const ck_attrs *a, int rank, int nsp, int i);
/* "height", "width", "depth", "length" for spatial axis i of nsp. */
const char *ck_axis_name(int nsp, int i);

/* ---- the shared window arithmetic (the only copy of these formulas) ---- */

typedef struct ck_window {
    int64_t in, k, s, d, pb, pe;
    bool ceil_mode;
    bool torch_ceil_drop; /* PyTorch: drop a last window that starts in the right padding */
    int64_t dropped;      /* out: input pixels at the end that no window covers (floor) */
    int64_t padded;       /* out: in + pb + pe */
} ck_window;

/* Resolves pad_mode into explicit pads for one axis of input size `in`. */
bool ck_resolve_pads(const ck_attrs *a, int i, int64_t in, int64_t *pb, int64_t *pe);
/* out = floor_or_ceil((in + pb + pe - d*(k-1) - 1) / s) + 1. False on overflow.
 * `formula` (may be NULL) receives the formula with the numbers. */
bool ck_window_out(ck_window *w, int64_t *out, ck_str *formula);
/* Effective kernel d*(k-1)+1. */
bool ck_window_extent(int64_t k, int64_t d, int64_t *out);
/* The pads a transposed convolution applies on spatial axis i: explicit,
 * or derived from ONNX output_shape / auto_pad SAME_*. False on overflow. */
bool ck_tconv_pads(const ck_attrs *a, int i, int64_t in, int64_t *pb, int64_t *pe);
/* Transposed: (in-1)*s - pb - pe + d*(k-1) + out_pad + 1. */
bool ck_tconv_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, int64_t op,
                  int64_t *out, ck_str *formula);

/* One warning per layer for the input pixels floor() leaves uncovered;
 * dropped[i] per spatial axis, in[i] the input sizes. */
void ck_warn_dropped(ck_ctx *c, int nsp, const int64_t *dropped, const int64_t *in);

/* Saturating helpers for cost rules (costs are informative, never an error). */
int64_t ck_sat_mul(int64_t a, int64_t b);
int64_t ck_sat_add(int64_t a, int64_t b);
int64_t ck_numel_sat(const ck_shape *s);
/* Product of the kernel sizes over nsp axes. */
int64_t ck_kernel_numel(const ck_attrs *a);
/* The input's shape written as text into a diagnostic-friendly string. */
char *ck_shape_dup(const ck_shape *s);
/* Rank check shared by the window ops: PyTorch accepts nsp+1 (unbatched) or
 * nsp+2, the others nsp+2. Reports rank_mismatch and returns false. */
bool ck_check_rank(ck_ctx *c, const ck_shape *x, int nsp, bool unbatched_ok, const char *what);

/* The permutation a transpose layer applies to a rank-`rank` input, as its
 * framework writes it (ONNX without perm reverses the axes; Keras Permute is
 * 1-based and keeps the batch first) into perm[CK_MAX_RANK]. Returns its
 * length, which a valid layer has equal to `rank`; entries may still be
 * negative (Python style) or invalid: the transpose rule checks them. */
int ck_transpose_perm(const ck_attrs *a, int rank, int64_t *perm);

/* The attributes of a PyTorch functional call (TORCH_* op) with the sizes
 * its arguments name resolved, as its kernel runs it: F.pad's pads on
 * t->nsp trailing axes, permute's and transpose's perm (perm_rank 0: none),
 * a reduction's axes in ascending order (n_axes); other ops' as they are.
 * False, with a diagnostic in c, when a size is not known. */
bool ck_torch_attrs(ck_ctx *c, ck_attrs *t);

/* A PyTorch getitem x[...] as a slice of every axis of x: start[] and
 * step[], and the sliced shape with each axis a plain index drops kept as
 * size 1 (the same elements in the same order as the result). False, with
 * a diagnostic in c, when an index is not known or out of range. */
bool ck_getitem_slice(ck_ctx *c, ck_shape *kept, int64_t *start, int64_t *step);

/* The axis a softmax normalises over for a rank-`rank` input (PyTorch's
 * implicit dim when none was given), possibly out of range. */
int ck_softmax_axis(const ck_attrs *a, int rank);

/* ---- known contents: the constant evaluator ----------------------------
 *
 * Every value whose inputs are known when the model is checked (constants,
 * the sizes of tensors, anything computed from them: ONNX Shape -> Gather
 * -> Concat chains, pads built by ConstantOfShape / Concat / Reshape /
 * Slice / Transpose / Cast, grids built by Range / Expand / Where, PyTorch's
 * x.size(0)) gets its contents (ck_val.kval or kflt), computed by the op's
 * eval rule with the shared kernels of ops/nd.h: integer and bool tensors
 * as int64, float tensors as float32, up to ck_fold_limit() elements each.
 * Ops whose shapes depend on values (Reshape, Expand, Tile, Slice, Pad,
 * Resize, ConstantOfShape, Range, ...) read those contents; the runtime
 * takes a value with known contents as a constant and never computes it. */

/* Outputs of more elements than this are not folded (nor more than
 * ck_limits.max_elements), nor, in one check, more than CK_FOLD_TOTAL
 * elements in all (a hostile model's thousand large constants). */
#define CK_FOLD_MAX (1 << 20)
#define CK_FOLD_TOTAL (1 << 24)
/* PyTorch functional arguments built from sizes: at most this many entries. */
#define CK_MAX_KVAL 64

/* The known contents of a value: n elements of type t at p. */
typedef struct ck_known {
    ck_nd_type t;
    int64_t n;
    const void *p;
} ck_known;

/* The largest output the evaluator computes in graph g. */
int64_t ck_fold_limit(const ck_graph *g);
/* Known contents of value v of graph g (its computed contents, or a
 * constant's decoded data); false when unknown. */
bool ck_val_known(const ck_graph *g, const ck_val *v, ck_known *out);
/* The same as integers (NULL when unknown or float), and as at most max
 * numbers of either kind. */
const int64_t *ck_val_ints(const ck_graph *g, const ck_val *v, int64_t *n);
bool ck_val_nums(const ck_graph *g, const ck_val *v, double *out, int max, int *n);
/* ck_val_known of input k of the rule's node. */
bool ck_in_known(const ck_ctx *c, int k, ck_known *out);
/* Known integer contents of input k; NULL when unknown (or float). */
const int64_t *ck_known_ints(const ck_ctx *c, int k, int64_t *n);
/* Known numbers of input k (integers or floats, at most max of them) as
 * doubles; false when unknown or more than max. */
bool ck_known_nums(const ck_ctx *c, int k, double *out, int max, int *n);
/* Storage for the contents of output k, whose shape is set: as many
 * elements of type t as it has, owned by the value. NULL when it has more
 * than the fold limit (or memory runs out): the value stays unknown. */
void *ck_out_known(ck_ctx *c, int k, ck_nd_type t);
/* Stores known integer contents on a value (at most the fold limit). */
void ck_set_kval(ck_val *o, const int64_t *v, int64_t n);
/* Forgets a value's computed contents (a constant's stay its tensor's). */
void ck_val_forget(ck_val *v);
/* The eval rule of the views: output k holds input 0's elements, in order. */
bool ck_eval_copy(ck_ctx *c);
/* The storage type of a dtype's contents: int64 for integers and bools,
 * float32 for floats; false for other types. */
bool ck_dtype_nd(ck_dtype d, ck_nd_type *t);
/* Calls op's shape (cost) rule for the current node with overlaid attributes
 * and only the first n_in inputs: how a wrapper that reads some arguments
 * from other values reuses the canonical rule without repeating it. */
bool ck_call_shape(ck_ctx *c, ck_op_id op, const ck_attrs *a, int n_in);
void ck_call_cost(const ck_ctx *c, ck_op_id op, const ck_attrs *a, int n_in, ck_cost *k);

/* ---- helpers for frontend builders ------------------------------------- */

ck_diag *ck_build_fail(ck_build *b, ck_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parameter index by name in the frontend's list, -1 if absent. */
int ck_param_index(const ck_frontend *fe, const char *name);
/* The argument bound to parameter `name`, or NULL. */
const ck_value *ck_arg(const ck_build *b, const char *name);
/* Typed getters: return false (after reporting invalid_config naming the
 * argument and its value) when the value has the wrong type. When the
 * argument is absent *out keeps its current (default) value. */
bool ck_arg_int(ck_build *b, const char *name, int64_t *out);
bool ck_arg_float(ck_build *b, const char *name, double *out);
bool ck_arg_bool(ck_build *b, const char *name, bool *out);
bool ck_arg_str(ck_build *b, const char *name, const char **out);
/* An int or a tuple/list of `n` ints (PyTorch `_pair`), broadcast to n. */
bool ck_arg_ints(ck_build *b, const char *name, int n, int64_t *out);
/* A list of ints of any length up to max; *count receives the length. */
bool ck_arg_int_list(ck_build *b, const char *name, int max, int64_t *out, int *count);

/* The input (1-based) that argument value v names: a bare name in a PyTorch
 * functional call such as view(x, [n, -1]); 0 when v names no input. */
int ck_arg_ref(const ck_build *b, const ck_value *v);
/* Argument `name` as a list whose entries are ints, None or references to
 * earlier values; one int, None or reference counts as a list of one.
 * Absent or None leaves out->given false. */
bool ck_arg_dyn(ck_build *b, const char *name, ck_dynlist *out);
/* The same for a value given elsewhere (a forward() keyword argument). */
bool ck_value_dyn(ck_build *b, const char *name, const ck_value *v, ck_dynlist *out);
/* True when v (or an item of it) names a value rather than being a literal. */
bool ck_value_has_ref(const ck_build *b, const ck_value *v);
/* Appends one entry (an int, None or a reference) to a dynamic list. */
bool ck_dyn_push(ck_build *b, const char *name, const ck_value *it, ck_dynlist *out);
/* The entries of dl with references replaced by the referenced values'
 * known contents. Reports `unsupported` (naming `what` and the value) and
 * returns false when a value's contents are not known or are too many. */
bool ck_dyn_resolve(ck_ctx *c, const ck_dynlist *dl, int64_t *out, int max, int *n,
                    const char *what);

/* Tile's index maps from `in` (seen with the output's rank) to `out`:
 * output o of axis a reads o mod the input size (NULL: the same index);
 * malloc'd, false on out-of-memory. */
bool ck_tile_maps(const ck_shape *in, const ck_shape *out, int64_t **map);
/* ScatterND's element offsets (one per index tuple) and slice size, from
 * the known indices of the rule's node (src/ops/expand.c); malloc'd, NULL
 * when the indices are not known. */
int64_t *ck_scatter_offsets(const ck_ctx *c, int64_t *n_slices, int64_t *slice);

/* The elementwise op a binary node computes (add ... xor; ONNX Mod's fmod). */
ck_nd_bin ck_op_bin(ck_op_id op, const ck_attrs *a);

/* Default attribute values (stride 1, dilation 1, groups 1, bias true, ...). */
void ck_attrs_init(ck_attrs *a, ck_dialect d, int nsp);

#endif
