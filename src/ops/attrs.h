/* The canonical attribute form every importer normalises to.
 * One struct for all ops: a field means the same thing in every op that
 * uses it, whatever framework the layer came from. A parameter only one op
 * has lives in that op's own named member at the end (ck_attrs.cast,
 * .fill, ...), so no field is read under another meaning. */
#ifndef CK_ATTRS_H
#define CK_ATTRS_H

#include "convkit.h"

#define CK_MAX_SP 3 /* spatial axes: 1-D, 2-D, 3-D */

typedef enum ck_pad_mode {
    CK_PAD_EXPLICIT = 0, /* pad_begin/pad_end as given */
    CK_PAD_SAME_UPPER,   /* TF/ONNX 'same': out = ceil(in/s), odd pixel at the end */
    CK_PAD_SAME_LOWER,   /* odd pixel at the beginning */
    CK_PAD_VALID,        /* no padding */
    CK_PAD_SAME_TORCH,   /* PyTorch padding='same' (stride 1 only): odd pixel at the end */
    CK_PAD_CAUSAL,       /* Keras Conv1D causal: pad_begin = d*(k-1) */
} ck_pad_mode;

typedef enum ck_border {
    CK_BORDER_ZEROS = 0, /* constant (value in pad_value) */
    CK_BORDER_REFLECT,
    CK_BORDER_REPLICATE,
    CK_BORDER_CIRCULAR,
} ck_border;

typedef enum ck_interp {
    CK_INTERP_NEAREST = 0,
    CK_INTERP_NEAREST_EXACT,
    CK_INTERP_LINEAR, /* linear, bilinear, trilinear: by spatial rank */
    CK_INTERP_CUBIC,
    CK_INTERP_AREA,
} ck_interp;

/* ONNX Resize coordinate_transformation_mode and friends. */
typedef enum ck_coord {
    CK_COORD_HALF_PIXEL = 0, /* PyTorch align_corners=False */
    CK_COORD_ALIGN_CORNERS,
    CK_COORD_ASYMMETRIC, /* PyTorch nearest */
    CK_COORD_PYTORCH_HALF_PIXEL,
    CK_COORD_TF_HALF_PIXEL_FOR_NN,
    CK_COORD_TF_CROP_AND_RESIZE,
} ck_coord;

/* Activations, standalone or fused into a layer (Keras activation='relu'). */
typedef enum ck_act {
    CK_ACT_NONE = 0,
    CK_ACT_RELU,
    CK_ACT_RELU6,
    CK_ACT_LEAKY_RELU, /* alpha */
    CK_ACT_ELU,        /* alpha */
    CK_ACT_SELU,
    CK_ACT_GELU, /* approximate: beta != 0 means tanh */
    CK_ACT_SILU,
    CK_ACT_HARDSWISH,
    CK_ACT_HARDSIGMOID, /* alpha, beta (ONNX defaults 0.2, 0.5; PyTorch 1/6, 1/2) */
    CK_ACT_SIGMOID,
    CK_ACT_TANH,
    CK_ACT_SOFTPLUS,
    CK_ACT_SOFTSIGN,
    CK_ACT_CLIP, /* min in alpha, max in beta */
    CK_ACT_PRELU,
    CK_ACT_SOFTMAX,     /* over axis */
    CK_ACT_LOG_SOFTMAX, /* over axis */
    CK_ACT_EXP,
    CK_ACT_IDENTITY,
    /* elementwise math (ONNX Neg, Abs, ...; PyTorch torch.neg, ...) */
    CK_ACT_NEG,
    CK_ACT_ABS,
    CK_ACT_SQRT,
    CK_ACT_RECIPROCAL,
    CK_ACT_FLOOR,
    CK_ACT_CEIL,
    CK_ACT_ROUND, /* half to even */
    CK_ACT_SIGN,
    CK_ACT_LOG,
    CK_ACT_ERF,
    CK_ACT_SIN,
    CK_ACT_COS,
    CK_ACT_NOT, /* logical not: 1 where the input is 0 */
    CK_ACT_MISH,
    CK_ACT_CELU,             /* alpha */
    CK_ACT_THRESHOLDED_RELU, /* x where x > alpha, else 0 */
} ck_act;

/* A reduction (ONNX Reduce*, PyTorch mean/sum/amax/amin). */
typedef enum ck_reduce {
    CK_REDUCE_MEAN = 0,
    CK_REDUCE_MAX,
    CK_REDUCE_MIN,
    CK_REDUCE_SUM,
    CK_REDUCE_PROD,
    CK_REDUCE_L1,
    CK_REDUCE_L2,
    CK_REDUCE_LOGSUM,
    CK_REDUCE_LOGSUMEXP,
    CK_REDUCE_SUMSQUARE,
} ck_reduce;

/* A PyTorch functional argument whose entries may be computed from other
 * values of the graph: x.view(x.size(0), -1), F.interpolate(x,
 * size=skip.shape[2:]), F.pad(x, [dx // 2, dx - dx // 2]). Entry i is lit[i]
 * when ref[i] is 0, else the known contents of the layer's input ref[i] - 1
 * (one entry for a 0-D value, all of them for a 1-D value), read when the
 * layer is checked (ck_dyn_resolve). CK_DYN_NONE stands for Python's None. */
#define CK_DYN_MAX 24
#define CK_DYN_NONE INT64_MIN
#define CK_DYN_SELECT (INT64_MIN + 1) /* getitem: the step of a plain index */
typedef struct ck_dynlist {
    bool given; /* the argument was given (not None) */
    int n;
    int64_t lit[CK_DYN_MAX];
    int8_t ref[CK_DYN_MAX];
} ck_dynlist;

typedef struct ck_attrs {
    ck_dialect dialect;
    bool channels_last; /* NHWC-style layout of this layer's tensors */

    /* window ops: convolution, pooling */
    int nsp; /* number of spatial axes the layer works on (0: any) */
    int64_t kernel[CK_MAX_SP], stride[CK_MAX_SP], dilation[CK_MAX_SP];
    int64_t pad_begin[CK_MAX_SP], pad_end[CK_MAX_SP];
    int64_t out_pad[CK_MAX_SP]; /* transposed convolution output_padding */
    ck_pad_mode pad_mode;
    bool ceil_mode;
    bool count_include_pad;
    ck_border border; /* padding_mode / pad mode */
    double pad_value;

    /* channels */
    int64_t in_ch, out_ch, groups; /* 0 = inferred from the input */
    int64_t depth_multiplier;      /* Keras depthwise / separable */
    bool bias;

    /* output sizes: adaptive pooling, upsample size, transposed conv output_size,
     * -1 entry = keep the input size (PyTorch None) */
    bool has_size;
    int64_t size[CK_MAX_SP];
    bool has_scale;
    double scale[CK_MAX_SP];
    /* PyTorch: how many entries size or scale_factor had (0: one value for
     * every spatial axis) */
    int size_rank;
    bool recompute_scale;
    ck_interp interp;
    ck_coord coord;
    bool align_corners;

    /* dense layers */
    int64_t in_features, out_features; /* in_features 0 = take what arrives (Keras) */

    /* axes */
    int axis;               /* concat / softmax / flatten (ONNX) / norm / split / gather */
    int start_dim, end_dim; /* Flatten */
    bool keepdims;          /* a reduction keeps the reduced axes as size 1 */
    /* the axes an op works on, given as a list (ONNX Resize axes; 0: all) */
    int n_axes;
    int64_t axes[CK_MAX_RANK];

    /* target shape: Reshape / Unflatten (-1 infer, 0 copy per ONNX), LayerNorm normalized_shape */
    int shape_rank;
    int64_t shape[CK_MAX_RANK];
    /* Transpose / Permute: the permutation as the framework writes it (0: ONNX's reverse) */
    int perm_rank;
    int64_t perm[CK_MAX_RANK];

    /* norms */
    int64_t num_groups, num_features;
    double eps;
    bool affine;
    bool track_stats; /* PyTorch track_running_stats: eval mode uses stored statistics */
    bool training;    /* PyTorch module in training mode (.cnn training=True): a batch or
                         instance norm normalises with the input's own statistics */

    /* activations and scalars */
    ck_act act;        /* the activation of an activation op, or a fused one */
    double alpha;      /* the activation's: leaky slope, elu alpha, clip min, hardsigmoid alpha */
    double beta;       /* the activation's: clip max, hardsigmoid beta, gelu approximate */
    bool implicit_dim; /* PyTorch Softmax(dim=None): the dim follows from the input's rank */
    double p;          /* dropout rate */

    /* ONNX Gemm */
    bool trans_a, trans_b;

    /* PyTorch functional ops: the list argument that may come from other
     * values (view's shape, interpolate's size, pad's pads, getitem's index
     * as (start, stop, step) triples with step 0 for a plain index, size's
     * dim, permute's dims, a reduction's dims) */
    ck_dynlist dyn;
    /* an elementwise op with a Python number as one operand: x * 0.5, 1 - x */
    bool has_scalar, scalar_first;
    double scalar;

    /* An ONNX model exported by PyTorch: the refusals PyTorch's own forward
     * makes (InstanceNorm over one value, MaxPool1d's empty output) apply
     * too, as to a PyTorch layer. */
    bool torch_rules;

    /* ---- parameters of one op each ---- */
    struct { /* ONNX Gemm: y = alpha * A B + beta * C */
        double alpha, beta;
    } gemm;
    struct {    /* ONNX Cast */
        int to; /* the ck_dtype of the output */
    } cast;
    struct { /* ONNX ConstantOfShape */
        double value;
        bool is_int; /* an integer fill: the output is int64 with known contents */
    } fill;
    struct { /* ONNX Shape: the dims [start, end) (end INT_MAX: to the last) */
        int start, end;
    } dims;
    struct { /* ONNX Reduce*, PyTorch mean/sum/amax/amin */
        ck_reduce op;
        bool noop_with_empty_axes; /* ONNX: no axes means no reduction */
    } reduce;
    struct {                  /* ONNX Resize and Upsample */
        int scales_input;     /* the input that holds scales (Upsample 1, Resize 2; sizes next) */
        int nearest;          /* nearest_mode: 0 round_prefer_floor, 1 round_prefer_ceil,
                                 2 floor, 3 ceil */
        double cubic_a;       /* cubic_coeff_a */
        bool exclude_outside; /* cubic taps outside the input get weight 0 */
        double extrapolation; /* tf_crop_and_resize: the value outside the input */
    } resize;
    int64_t chunks;     /* torch.chunk: the number of pieces asked for */
    struct {            /* ONNX Reshape */
        bool allowzero; /* a 0 in the target is a zero-size axis, not a copy */
    } reshape;
    struct {           /* ONNX ScatterND */
        int reduction; /* 0 none (write), 1 add, 2 mul, 3 max, 4 min */
    } scatter;
    struct {       /* ONNX Mod */
        bool fmod; /* the remainder takes the dividend's sign (C fmod), else the divisor's */
    } mod;
    struct {      /* depth_to_space, space_to_depth (the block is kernel = stride on 2 axes) */
        bool crd; /* channel c's block offsets are channels c*r*r + o (PyTorch, ONNX mode
                     CRD); else o*C + c (ONNX DepthToSpace DCR, SpaceToDepth) */
    } space;
} ck_attrs;

#endif
