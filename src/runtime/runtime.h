/* The runtime's internal model: a session is a list of steps (one kernel
 * call each) over session values (the graph values that carry float data at
 * run time), each value living in a storage (an arena buffer, a graph input,
 * or constant data). Everything here is decided by ck_session_new();
 * ck_session_run() only resolves pointers and calls the kernels. */
#ifndef CK_RUNTIME_H
#define CK_RUNTIME_H

#include "graph/graph.h"
#include "ops/nd.h"
#include "ops/ops.h"
#include "runtime/fastconv.h"

struct rt_pool;

/* The instruction sets kernels are built for; the planner picks the best
 * the CPU reports (cpuid), or a lower one the caller asks for. */
typedef enum rt_isa { RT_ISA_REF = 0, RT_ISA_AVX2, RT_ISA_AVX512 } rt_isa;
rt_isa rt_cpu_isa(void);

#define RT_ALIGN_FLOATS 16 /* arena buffers start on 64-byte boundaries */

/* A tensor seen by a window op as N x C x D x H x W with element strides.
 * Axes the layer does not have are size 1 with stride 0; a 2-D layer uses
 * slots 1 and 2, a 1-D layer slot 2. */
typedef struct rt_geom {
    int64_t n, c, sp[3];
    int64_t sn, sc, ss[3];
} rt_geom;

/* Per-axis index maps of a pad/crop: out index o of axis a reads input index
 * map[a][o], or the constant when it is -1. */
typedef struct rt_padmap {
    int rank;
    ck_shape in, out;
    int64_t *map[CK_MAX_RANK]; /* owned by the step */
    float value;
} rt_padmap;

/* Resampling tables for one spatial axis: each output index reads `taps`
 * input indices idx[o*taps + t] with weights wt[o*taps + t]. */
typedef struct rt_resample {
    int taps;
    int64_t *idx; /* owned */
    float *wt;    /* owned */
} rt_resample;

/* The op of a binary step: the shared kernel's (ops/nd.h). */
typedef ck_nd_bin rt_bin;
#define RT_ADD CK_BIN_ADD
#define RT_SUB CK_BIN_SUB
#define RT_MUL CK_BIN_MUL

/* An activation with its parameters resolved (defaults filled in). */
typedef struct rt_act {
    ck_act act;
    float alpha, beta;
    /* softmax / log-softmax: the tensor as outer x axis x inner */
    int64_t outer, len, inner;
    /* PReLU: slope per channel (n slopes; 1 = shared), channel stride */
    const float *slope;
    int64_t nslope, cstride;
} rt_act;

typedef struct rt_step rt_step;
typedef void (*rt_kernel)(const rt_step *st, const float *const *in, float *const *out,
                          float *scratch);

/* What a step computes: one kind per reference kernel (kernels/ref.h),
 * which the kind names. Everything after the builder (the layout planner,
 * the fast kernels, profiles, freeing) asks a step its kind. */
#define RT_KINDS(K)                                                                                \
    K(CONV, rt_ref_conv)                                                                           \
    K(CONV_NHWC, rt_ref_conv_nhwc)                                                                 \
    K(TCONV, rt_ref_conv_transpose)                                                                \
    K(TCONV_NHWC, rt_ref_conv_transpose_nhwc)                                                      \
    K(SEPARABLE, rt_ref_separable)                                                                 \
    K(SEPARABLE_NHWC, rt_ref_separable_nhwc)                                                       \
    K(POOL, rt_ref_pool)                                                                           \
    K(APOOL, rt_ref_adaptive_pool)                                                                 \
    K(RESIZE, rt_ref_resize)                                                                       \
    K(PAD, rt_ref_pad)                                                                             \
    K(AFFINE, rt_ref_affine)                                                                       \
    K(GROUP_NORM, rt_ref_group_norm)                                                               \
    K(LAYER_NORM, rt_ref_layer_norm)                                                               \
    K(ACT, rt_ref_act)                                                                             \
    K(LINEAR, rt_ref_linear)                                                                       \
    K(MATMUL, rt_ref_matmul)                                                                       \
    K(BINARY, rt_ref_binary)                                                                       \
    K(WHERE, rt_ref_where)                                                                         \
    K(EXPAND, rt_ref_expand)                                                                       \
    K(SCATTER, rt_ref_scatter)                                                                     \
    K(CONCAT, rt_ref_concat)                                                                       \
    K(SPLIT, rt_ref_split)                                                                         \
    K(TRANSPOSE, rt_ref_transpose)                                                                 \
    K(SLICE, rt_ref_slice)                                                                         \
    K(GATHER, rt_ref_gather)                                                                       \
    K(REDUCE, rt_ref_reduce)                                                                       \
    K(FILL, rt_ref_fill)

typedef enum rt_kind {
    RT_K_NONE = 0, /* not built yet */
#define RT_K_ENUM(kind, kernel) RT_K_##kind,
    RT_KINDS(RT_K_ENUM)
#undef RT_K_ENUM
        RT_K_COUNT
} rt_kind;

#define RT_MAX_W 6

struct rt_step {
    rt_kind kind;
    rt_kernel fn; /* the reference kernel of its kind */
    /* a kernel that splits its work over the context's thread pool; when set
     * it runs instead of fn (fn stays the reference the step was built as) */
    void (*fn_mt)(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                  struct rt_pool *pool);
    int node; /* graph node index */
    int n_in, n_out;
    int *in; /* session value indices (data inputs only) */
    int *out;
    int64_t scratch;          /* floats of scratch this step needs */
    bool inplace;             /* out[0] may share in[0]'s storage */
    bool empty;               /* every output has no elements: the step is not run */
    const float *w[RT_MAX_W]; /* weights / per-channel parameters */
    /* a dense fast conv's weights as the model file holds them (float32,
     * little-endian, maybe unaligned), read by the packers instead of a
     * decoded copy in w[0] (prepare.c); NULL otherwise */
    const uint8_t *w0raw;
    rt_act post;     /* fused activation applied to out[0] (CK_ACT_NONE: none) */
    bool folded;     /* its work was folded into the step before (fn_mt is a no-op) */
    int folded_into; /* that step's index */
    struct {         /* a pooling/elementwise step run on blocked data (plan.c) */
        int vw;
        int64_t n, c, hw, floats; /* images, channels, pixels per image, floats per tensor */
        rt_bpool pool;
    } blk;
    union {
        struct { /* conv, conv_transpose, separable_conv */
            rt_geom x, y;
            int64_t groups, k[3], s[3], d[3], pb[3];
            bool prepad; /* PyTorch padding_mode: pad into scratch first */
            rt_padmap pad;
            rt_geom xp;   /* the padded input in scratch */
            int64_t mult; /* separable: depth multiplier */
            bool has_bias;
            rt_fconv fc; /* fast kernels (fn_mt): w[3] packed weights, w[4] packed bias */
        } conv;
        struct { /* max_pool, avg_pool */
            rt_geom x, y;
            int64_t k[3], s[3], d[3], pb[3], pe[3];
            bool max, include_pad;
        } pool;
        struct { /* adaptive and global pooling, area resize */
            rt_geom x, y;
            bool max;
        } apool;
        struct {
            rt_geom x, y;
            rt_resample ax[3]; /* a first index -1: the output is extrapolation */
            float extrapolation;
        } resize;
        rt_padmap pad;
        struct { /* batch norm as per-channel scale and shift */
            int64_t outer, c, inner;
        } affine;
        struct { /* group/instance norm: [outer=B, p=P, groups*cpg, inner=Q], stats per
                    (b, group); layer norm: [outer, cpg=M, inner], stats over M */
            int64_t outer, p, groups, cpg, inner;
            float eps;
        } norm;
        rt_act act;
        struct { /* linear: y[M, N] = x[M, K] W + b */
            int64_t m, k, n;
            bool w_kn;                    /* weight stored [K, N] (else [N, K]) */
            bool trans_a;                 /* x stored [K, M] */
            int64_t bias_rows, bias_cols; /* bias broadcast shape: 0 = none */
            float alpha, beta;            /* ONNX Gemm: y = alpha * x W + beta * C */
            rt_flin fl; /* fast kernel (fn_mt): w[3] packed weights, w[4] packed bias */
        } lin;
        struct { /* batched matmul of two data inputs */
            int64_t m, k, n, batch;
            ck_shape ob;                              /* output batch shape */
            int64_t sa[CK_MAX_RANK], sb[CK_MAX_RANK]; /* batch strides (0 = broadcast) */
            int nb;
        } mm;
        struct { /* binary ops, where */
            rt_bin op;
            ck_shape out;
            int64_t *strides; /* per operand x CK_MAX_RANK broadcast strides (owned) */
            int scalar;       /* 1: w[0] holds a Python number after the inputs, 2: before */
        } bin;
        struct { /* concat / split: the tensor as outer x (sum of parts) x inner */
            int64_t outer, inner;
            int64_t *parts; /* per input (concat) or output (split) axis sizes, owned */
        } cat;
        struct {
            ck_shape in;
            int64_t perm[CK_MAX_RANK];
        } tr;
        struct { /* slice: start and step per axis */
            ck_shape in, out;
            int64_t start[CK_MAX_RANK], step[CK_MAX_RANK];
        } slice;
        struct {
            int64_t outer, axis_len, inner, nidx;
            int64_t *idx; /* owned */
        } gather;
        struct {
            ck_shape in;
            bool red[CK_MAX_RANK];
            ck_reduce op;
        } reduce;
        struct { /* Expand: input 0 broadcast to out */
            ck_shape in, out;
        } expand;
        struct { /* ScatterND: n slices of `slice` floats at element offsets off */
            int64_t n, slice, total, *off; /* off owned */
            int reduction;                 /* ck_attrs.scatter.reduction */
        } scatter;
        struct { /* ConstantOfShape (delta 0), Range */
            float start, delta;
            int64_t count;
        } fill;
    } u;
    /* owned buffers freed with the step */
    void *own[4];
};

/* Where a value's floats live during a run. */
typedef enum rt_where { RT_ARENA = 0, RT_INPUT, RT_CONST } rt_where;

typedef struct rt_store {
    rt_where where;
    int64_t floats;    /* size */
    int64_t offset;    /* arena offset in floats */
    int input;         /* graph input number */
    const float *data; /* constant data */
    int def, last;     /* step that writes it, last step that reads it */
    int slot;
    bool one_image; /* made and used up by the by-image prefix: holds one image */
} rt_store;

typedef struct rt_val {
    int gval; /* graph value index */
    ck_shape shape;
    int64_t numel;
    int store;
} rt_val;

struct ck_session {
    const ck_graph *g; /* must outlive the session (its weights are borrowed) */
    int threads;       /* per context pool */
    rt_isa isa;        /* the kernels chosen */
    int n_steps;
    rt_step *steps;
    int n_vals, cap_vals;
    rt_val *vals;
    int n_stores, cap_stores;
    rt_store *stores;
    int n_inputs, n_outputs;
    int *inputs, *outputs; /* session value indices */
    char **in_names, **out_names;
    int64_t arena_floats, scratch_floats;
    int64_t arena_slack; /* floats after the last buffer that fast kernels may read */
    bool oom_plan;       /* memory ran out while planning fast kernels */
    /* steps [0, img_steps) run image by image, img_n images (plan.c) */
    int img_steps;
    int64_t img_n;
    int max_io;
    int n_slots;
    int64_t naive_bytes, weight_bytes, owned_weight_bytes;
    /* weight data the session owns */
    int n_owned, cap_owned;
    float **owned;
    int64_t *owned_n;      /* floats of each */
    const float **pending; /* to be freed by rt_release_pending() */
    int n_pending, cap_pending;
};

struct ck_session_ctx {
    const ck_session *s;
    struct rt_pool *pool;
    float *arena;
    float *scratch;
    const float **inp;
    float **outp;
};

/* Replaces a reference conv step's kernel with a fast one when the CPU and
 * the layer allow; packs its weights into s. The layout pass
 * (rt_plan_network) then sets its layouts through rt_fastconv_layout().
 * False: the step keeps fn. */
bool rt_fastconv_plan(ck_session *s, rt_step *st, rt_isa isa, int threads);
bool rt_fastconv_is(const rt_step *st);
/* The same for a dense layer (Linear, Dense, Gemm without scales). */
bool rt_fastlinear_plan(ck_session *s, rt_step *st, rt_isa isa);
bool rt_fastlinear_is(const rt_step *st);
/* Sets a fast conv step's activation layouts (blocked or NCHW) and the
 * geometry and scratch that follow from them. */
bool rt_fastconv_layout(ck_session *s, rt_step *st, bool in_blocked, bool out_blocked);
/* Floats of a fast conv or dense step's packed weights and bias. */
int64_t rt_fast_packed_floats(const rt_step *st);
/* Floats a fast conv step may read past the end of its blocked input. */
int64_t rt_fastconv_overread(const rt_step *st);
/* Folds y = x * sc[c] + sh[c] after a fast conv into its packed weights and bias. */
void rt_fastconv_fold_affine(rt_step *st, const float *sc, const float *sh);
/* The kernel a fast step runs, as ck_session_step() reports it. */
void rt_fastconv_name(const rt_step *st, char *buf, size_t n);
/* The [lo, hi] clamp that activation a is (ReLU, ReLU6, Clip), if it is one. */
bool rt_act_clamp(const rt_act *a, float *lo, float *hi);

/* Whole-network planning after every step is built (plan.c): keeps
 * activations in the blocked layout between the layers that can take it,
 * and folds batch norms, clamps and residual adds into the convolutions
 * before them. False on out-of-memory. */
bool rt_plan_network(ck_session *s);
/* The kernel of a pooling/elementwise step that runs on blocked data. */
void rt_blocked_name(const rt_step *st, char *buf, size_t n);
/* A step of the by-image prefix (a fast conv or a blocked pooling) on
 * image n of its buffers. */
void rt_step_run_image(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                       struct rt_pool *pool, int64_t n);
/* st runs the blocked pooling kernel */
bool rt_blocked_pool_is(const rt_step *st);

/* For profiles: what runs step st (its flops are its layer's cost rule). */
void rt_step_kernel_name(const rt_step *st, char *buf, size_t n);

/* ---- geometry (geom.c) -------------------------------------------------- */

/* The window-op view of `shape` for a layer with attrs a and nsp spatial axes. */
rt_geom rt_geom_of(const ck_attrs *a, const ck_shape *shape, int nsp);
/* g is a 1-D or 2-D tensor in C-order NCHW (what the blocked kernels take). */
bool rt_geom_nchw2d(const rt_geom *g);
int64_t rt_numel(const ck_shape *s);

/* ---- weights (weights.c) ------------------------------------------------ */

typedef struct rt_wctx {
    const ck_graph *g;
    const ck_session_options *opt;
    ck_session *s;
    ck_diags *d;
    const float **loaded; /* per graph tensor: data read from external files */
    char *dir;            /* folder external data is relative to */
    bool io, oom;         /* a weight file was missing or short; memory ran out */
} rt_wctx;

/* The float data of ONNX initializer `tensor` (borrowed or read from its
 * external file once); NULL after a diagnostic naming layer and tensor. */
const float *rt_tensor_data(rt_wctx *w, int tensor, const ck_node *n, const char *role);
/* The bytes of tensor `tensor` when they are `want` float32 little-endian
 * values in the model (raw_data, not external) on a little-endian host:
 * read in place, with no copy; NULL otherwise (no diagnostic). */
const uint8_t *rt_tensor_raw_f32(rt_wctx *w, int tensor, int64_t want);
/* A parameter of a weight-less model: the user's callback, else the seeded
 * default. `fw` is the framework layout the callback sees; the returned data
 * is in that layout, malloc'd (the caller frees or adopts it). kind: 0
 * uniform(-bound, bound), 1 constant `bound`. */
float *rt_param(rt_wctx *w, const ck_node *n, const char *param, const ck_shape *fw, int kind,
                double bound);
/* Marks p (a weight replaced by a packed copy) to be freed, if the session
 * owns it, by rt_release_pending(): one pass over the owned list for all of
 * them. False on out-of-memory. */
bool rt_release(ck_session *s, const float *p);
void rt_release_pending(ck_session *s);
/* Session-owned memory for n floats (freed with the session). */
float *rt_owned(ck_session *s, int64_t n);
/* Hands malloc'd p (n floats) to the session; false (p freed) on OOM. */
bool rt_adopt(ck_session *s, float *p, int64_t n);

/* ---- the step builders (prepare.c) -------------------------------------- */

/* Fills st for node n (inputs and outputs already bound): the step builder
 * of the node's op (the prep column of src/ops/ops.def), then the kernel of
 * the kind it chose. False after a diagnostic naming the layer. */
bool rt_prepare(rt_wctx *w, const ck_node *n, rt_step *st);
/* The step builders the registry names, rt_prep_<prep>. */
#define CK_OP(id, stem, name, rf, prep, flags)                                                     \
    bool rt_prep_##prep(rt_wctx *w, const ck_node *n, rt_step *st);
#include "ops/ops.def"
#undef CK_OP
/* Node n's output is its first input reinterpreted (no step runs). */
bool rt_node_is_view(const ck_graph *g, const ck_node *n);
/* How many leading inputs of n carry data at run time; the others
 * (ONNX shapes, scales, pads, axes; PyTorch sizes) were read when checked. */
int rt_node_data_inputs(const ck_node *n);
void rt_step_free(rt_step *st);

/* Fills an activation from attrs for a tensor of `shape` (axis resolution
 * for softmax, PyTorch/ONNX/Keras defaults). */
void rt_act_init(rt_act *r, const ck_attrs *a, const ck_shape *shape);

#endif
