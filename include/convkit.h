/*
 * convkit: exact shape rules, checking, explanation and execution of
 * convolutional networks.
 *
 * Ownership: every object returned through an out-pointer belongs to the
 * caller and is released with its matching ck_*_free(). Strings inside a
 * diagnostic or a layer record belong to the object that holds them.
 * The library keeps no pointer to a caller's argument after the call
 * returns, except where a function says so (a session reads its graph).
 *
 * Errors: no function prints, exits or aborts because of its input. Each
 * returns a ck_status and, where a ck_diags is given, appends structured
 * diagnostics (code, layer, axis, numbers, message) that callers render.
 *
 * NULL: every `ck_diags *` argument may be NULL (the status still says what
 * happened; the diagnostics are dropped), and so may every `const ck_limits
 * *` (the defaults), every options pointer and every name used only in
 * messages. A NULL object or out-pointer that a function needs gives
 * CK_EUSAGE (or an empty result: 0, NULL, a rank-0 shape, from the getters);
 * the free functions accept NULL.
 *
 * Threads: functions taking a `const` object only read it, so any number of
 * threads may call them on one graph or session at once, as long as no
 * thread changes that object (ck_check, ck_graph_set_*) meanwhile.
 */
#ifndef CONVKIT_H
#define CONVKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the library's public symbols: the shared library is built with
 * -fvisibility=hidden, so only declarations carrying CK_API are exported. */
#if defined(__GNUC__) || defined(__clang__)
#define CK_API __attribute__((visibility("default")))
#else
#define CK_API
#endif

/* The library's version. The Makefile reads these three lines for the
 * shared library's names and convkit.pc; nothing else types the version. */
#define CONVKIT_VERSION_MAJOR 0
#define CONVKIT_VERSION_MINOR 1
#define CONVKIT_VERSION_PATCH 0
#define CK_VERSION_STR_(x) #x
#define CK_VERSION_XSTR_(x) CK_VERSION_STR_(x)
/* "0.1.0" */
#define CONVKIT_VERSION_STRING                                                                     \
    CK_VERSION_XSTR_(CONVKIT_VERSION_MAJOR)                                                        \
    "." CK_VERSION_XSTR_(CONVKIT_VERSION_MINOR) "." CK_VERSION_XSTR_(CONVKIT_VERSION_PATCH)

/* The version of the library actually loaded (CONVKIT_VERSION_STRING when it
 * was built); a static string. */
CK_API const char *ck_version(void);

#define CK_MAX_RANK 8

typedef enum ck_status {
    CK_OK = 0,
    CK_EINVALID, /* the model is invalid (diagnostics say why) */
    CK_EPARSE,   /* the model text or file could not be read as a model */
    CK_EIO,      /* a file could not be opened or read */
    CK_ENOMEM,
    CK_EUSAGE, /* a caller-side argument is wrong */
} ck_status;

/* The diagnostic vocabulary (shared with the oracle corpus). */
#define CK_CODES(X)                                                                                \
    X(OUTPUT_TOO_SMALL, "output_too_small")                                                        \
    X(CHANNEL_MISMATCH, "channel_mismatch")                                                        \
    X(FEATURE_MISMATCH, "feature_mismatch")                                                        \
    X(SKIP_MISMATCH, "skip_mismatch")                                                              \
    X(RESHAPE_MISMATCH, "reshape_mismatch")                                                        \
    X(INVALID_PADDING, "invalid_padding")                                                          \
    X(INVALID_OUTPUT_SIZE, "invalid_output_size")                                                  \
    X(RANK_MISMATCH, "rank_mismatch")                                                              \
    X(EMPTY_INPUT, "empty_input")                                                                  \
    X(INVALID_CONFIG, "invalid_config")                                                            \
    X(UNSUPPORTED, "unsupported")                                                                  \
    X(UNSUPPORTED_OP, "unsupported_op")                                                            \
    X(PARSE_ERROR, "parse_error")                                                                  \
    X(LIMIT_EXCEEDED, "limit_exceeded")                                                            \
    X(PIXELS_DROPPED, "pixels_dropped")                                                            \
    X(NOTE, "note")

typedef enum ck_code {
#define CK_X_ENUM(e, s) CK_##e,
    CK_CODES(CK_X_ENUM)
#undef CK_X_ENUM
        CK_CODE_COUNT
} ck_code;

CK_API const char *ck_code_name(ck_code c);

typedef enum ck_severity { CK_SEV_ERROR = 0, CK_SEV_WARNING, CK_SEV_NOTE } ck_severity;

typedef struct ck_shape {
    int rank;
    int64_t d[CK_MAX_RANK];
} ck_shape;

/* One diagnostic. Every string is owned by the diagnostic; NULL when absent. */
typedef struct ck_diag {
    ck_severity severity;
    ck_code code;
    char *layer;   /* node name, e.g. "conv3" or "/features/features.3/MaxPool" */
    char *op;      /* the framework's name of the layer, e.g. "Conv2d" */
    char *axis;    /* "height", "width", "depth", "length", "channels", "features", ... */
    char *message; /* one line: what is wrong, with the numbers */
    char *formula; /* the rule with the numbers substituted, if one applies */
    char *input;   /* "input [1, 32, 1, 1] comes from conv2" */
    char *shrink;  /* "input 7 -> conv1 3 -> conv2 1 -> conv3 0" */
    char *file;    /* parse errors: file name, line and column (1-based) */
    int line, col;
    int n_notes;
    char **notes; /* extra explanation lines */
    int n_fixes;
    char **fixes; /* verified fixes, best first */
} ck_diag;

typedef struct ck_diags {
    int n, cap;
    ck_diag *v;
} ck_diags;

CK_API void ck_diags_free(ck_diags *d);
/* Number of diagnostics of severity error. */
CK_API int ck_diags_errors(const ck_diags *d);

typedef enum ck_dialect {
    CK_DIALECT_NONE = 0,
    CK_DIALECT_PYTORCH,
    CK_DIALECT_KERAS,
    CK_DIALECT_ONNX,
} ck_dialect;

CK_API const char *ck_dialect_name(ck_dialect d);

/* ---- graphs ------------------------------------------------------------- */

typedef struct ck_graph ck_graph;

/* Resource bounds for untrusted models, checked before the work they bound.
 * Zero means the default. A graph keeps the limits it was read with; its
 * analyses (sizes) and sessions (runtime) apply them too. */
typedef struct ck_limits {
    int64_t max_file_bytes; /* model file size, default 1 GiB */
    int max_nodes;          /* layers, default 100000 */
    int max_depth;          /* nesting of brackets, JSON or Keras models, default 64 */
    int max_string;         /* length of a layer, value or type name, default 65536 */
    int64_t max_elements;   /* elements of any tensor the runtime allocates, default 2^31 */
    int64_t max_sizes;      /* sizes one `sizes` scan checks, default 1000000 */
} ck_limits;

/* `lim` with every zero field set to its default (lim may be NULL). */
CK_API ck_limits ck_limits_resolve(const ck_limits *lim);

/* Loaders. Every loader stores a new graph in *out, which the caller owns
 * and releases with ck_graph_free(); on failure *out is NULL, the status
 * says why and diags (when given) holds the diagnostics. `out` is required
 * (CK_EUSAGE when NULL); `lim` may be NULL (the defaults); `diags` may be
 * NULL. The loaders never keep a pointer to their arguments: the bytes and
 * the name may be released as soon as the call returns. */

/* Reads a model file: .cnn text, ONNX protobuf or Keras JSON, told apart by
 * content. ONNX external data is located relative to the file's folder. */
CK_API ck_status ck_load_file(const char *path, const ck_limits *lim, ck_graph **out,
                              ck_diags *diags);

/* The same from `len` bytes in memory (they need no terminating NUL; NULL
 * only with len 0, an empty model), the format told from the content as
 * ck_load_file() does. `name` (may be NULL)
 * names the model in diagnostics and becomes the graph's source; for an
 * ONNX model it is also the path its external data files are relative to
 * (NULL: the current directory). lim->max_file_bytes bounds len. */
CK_API ck_status ck_load_memory(const void *bytes, size_t len, const char *name,
                                const ck_limits *lim, ck_graph **out, ck_diags *diags);
/* ONNX ModelProto bytes, whatever they look like. */
CK_API ck_status ck_load_onnx_memory(const void *bytes, size_t len, const char *name,
                                     const ck_limits *lim, ck_graph **out, ck_diags *diags);
/* Keras model JSON text (model.to_json(), a TF.js model.json, a Keras 3
 * config.json), `len` bytes. */
CK_API ck_status ck_load_keras_json(const void *bytes, size_t len, const char *name,
                                    const ck_limits *lim, ck_graph **out, ck_diags *diags);

/* Parses .cnn text. `filename` is used only in diagnostics. */
CK_API ck_status ck_parse_cnn(const char *text, size_t len, const char *filename,
                              const ck_limits *lim, ck_graph **out, ck_diags *diags);

CK_API void ck_graph_free(ck_graph *g);
/* The limits the graph was read with (resolved), and a way to change them. */
CK_API ck_limits ck_graph_limits(const ck_graph *g);
CK_API void ck_graph_set_limits(ck_graph *g, const ck_limits *lim);

CK_API ck_dialect ck_graph_dialect(const ck_graph *g);
CK_API int ck_graph_num_inputs(const ck_graph *g);
CK_API const char *ck_graph_input_name(const ck_graph *g, int i);
/* The declared input shape; rank 0 when the model does not declare one. */
CK_API ck_shape ck_graph_input_shape(const ck_graph *g, int i);
/* Replaces the shape of input i (used for --input and by the size solver). */
CK_API ck_status ck_graph_set_input_shape(ck_graph *g, int i, const ck_shape *s);
/* True when input i is laid out channels-last (Keras NHWC). */
CK_API bool ck_graph_input_channels_last(const ck_graph *g, int i);

/* ---- checking ----------------------------------------------------------- */

typedef enum ck_layer_state {
    CK_LAYER_OK = 0,
    CK_LAYER_FAILED,      /* this layer's rule rejected its inputs */
    CK_LAYER_NOT_REACHED, /* an input comes from a failed or unreached layer */
} ck_layer_state;

/* Per-layer record after ck_check(). Pointers stay valid until the graph is
 * freed or checked again. */
typedef struct ck_layer_info {
    const char *name;
    const char *type;        /* framework name, e.g. "Conv2d", "Conv2D", "Conv" */
    const char *op;          /* canonical op name, e.g. "conv" */
    const char *output_name; /* the value it produces (what later layers' inputs name) */
    int n_inputs;
    const char *const *inputs; /* names of the values it reads */
    ck_layer_state state;
    ck_shape output; /* first output; valid when state == CK_LAYER_OK */
    int64_t params;  /* learnable parameters */
    int64_t macs;    /* multiply-accumulates */
    int64_t ops;     /* other elementwise/comparison operations (pooling, activations, adds) */
    int line;        /* source line in a .cnn file, 0 otherwise */
} ck_layer_info;

/* Propagates shapes through every layer. Returns CK_OK when every layer is
 * valid, CK_EINVALID when some layer failed (diags holds one error per
 * failing layer; independent branches are still checked). */
CK_API ck_status ck_check(ck_graph *g, ck_diags *diags);

CK_API int ck_graph_num_layers(const ck_graph *g);
CK_API ck_layer_info ck_graph_layer(const ck_graph *g, int i);

/* Totals after ck_check() over the layers that were checked. */
typedef struct ck_totals {
    int64_t params, macs, ops;
    int64_t activation_bytes; /* sum of all layer outputs, float32 */
    int64_t param_bytes;      /* float32 */
    int64_t input_bytes;
} ck_totals;
CK_API ck_totals ck_graph_totals(const ck_graph *g);

/* ---- input sizes ------------------------------------------------------- */

/* An inclusive run of sizes [first, last]. */
typedef struct ck_run {
    int64_t first, last;
} ck_run;

typedef struct ck_runs {
    int n;
    ck_run *v;
} ck_runs;

/* The output size along one axis as a function of the input size n:
 * out = floor((n + add) / div) * mul + base, exact for every valid n scanned. */
typedef struct ck_size_fn {
    bool found; /* false: no such closed form; see ck_sizes_axis.table */
    int64_t add, div, mul, base;
    int out_axis; /* the output tensor axis that follows this input axis; -1: none varies */
} ck_size_fn;

/* Why sizes fail: the first failing layer and code, over runs of sizes. */
typedef struct ck_size_failure {
    char *layer;
    ck_code code;
    ck_runs sizes;
} ck_size_failure;

typedef struct ck_sizes_axis {
    const char *name; /* "height", "width", "depth", "length"; "square" for all together */
    int tensor_axis;  /* index in the input shape; -1 for square */
    int64_t current;  /* the size in the given input (square: the largest spatial size) */
    int64_t min;      /* smallest valid size with the other axes held; -1 if none in range */
    int64_t next;     /* smallest valid size >= current; -1 if none in range */
    ck_runs valid, clean;
    ck_size_fn fn;
    int64_t *out; /* output size at fn.out_axis per scanned size (index n - lo); -1 invalid */
    int n_fail;
    ck_size_failure *fail;
} ck_sizes_axis;

typedef struct ck_sizes {
    int64_t lo, hi;       /* the range scanned */
    int input;            /* which network input was varied */
    ck_shape given;       /* that input's shape as given */
    ck_sizes_axis square; /* every spatial axis set to the same n (N x N, N x N x N) */
    int n_axes;
    ck_sizes_axis axes[CK_MAX_RANK]; /* one spatial axis varied, the others held */
    int64_t checks;                  /* shape checks run */
} ck_sizes;

/* Scans input sizes lo..hi of input `input` (spatial axes only; batch and
 * channels held at the given shape) by running the shape check at each size. */
CK_API ck_status ck_solve_sizes(const ck_graph *g, int input, int64_t lo, int64_t hi, ck_sizes *out,
                                ck_diags *diags);
CK_API void ck_sizes_free(ck_sizes *s);
/* Writes runs compactly: "15-1024", "every 16 from 16 to 1024", "3, 5-9". */
CK_API char *ck_runs_str(const ck_runs *r, int64_t hi);
/* Writes a size function as "out = floor((in - 15) / 8) + 1". */
CK_API char *ck_size_fn_str(const ck_size_fn *f);

/* ---- fixes -------------------------------------------------------------- */

typedef enum ck_fix_kind {
    CK_FIX_INPUT = 0, /* a different input shape */
    CK_FIX_LAYER,     /* changed arguments of one layer */
    CK_FIX_UPSTREAM,  /* changed arguments of a layer before the failing one */
    CK_FIX_INSERT,    /* a layer inserted in front of one */
} ck_fix_kind;

/* One fix, applied to a copy of the network and re-checked end to end. */
typedef struct ck_fix {
    ck_fix_kind kind;
    char *layer;     /* the layer changed or inserted before; NULL for the input */
    char *change;    /* "padding=1", "input [1, 3, 15, 15]", "insert AdaptiveAvgPool2d(...)" */
    char *why;       /* "smallest input every layer accepts", ...; may be NULL */
    ck_shape output; /* the network's output with the fix */
    ck_graph *graph; /* the fixed, checked network (owned) */
    /* What the fix edits, for tools that rewrite the model's source (the
     * values are graph's; ck_fix_json writes them): */
    int n_args;
    char **args;       /* names of the arguments of `layer` that the fix changes (owned) */
    char *insert_name; /* INSERT: the new layer's name and type in graph; NULL otherwise */
    char *insert_type;
} ck_fix;

typedef struct ck_fixes {
    int n;
    ck_fix *v;      /* best first */
    int64_t checks; /* shape checks run by the search */
} ck_fixes;

/* Searches fixes for the first failure of g (checked as it is): the input
 * size, the failing layer's padding/stride/kernel/dilation/ceil_mode, the
 * downsampling layers upstream, channel and feature counts, inserted
 * pooling or padding. Only fixes that make the whole network valid are kept.
 * A valid network gives no fixes. */
CK_API ck_status ck_find_fixes(const ck_graph *g, ck_fixes *out, ck_diags *diags);
CK_API void ck_fixes_free(ck_fixes *f);
/* "conv3: padding=1 (output [1, 64, 1, 1])" */
CK_API char *ck_fix_str(const ck_fix *f);
/* Runs the fix search and attaches the fixes, as text, to the first error
 * in diags (which must come from ck_check of g). */
CK_API ck_status ck_attach_fixes(const ck_graph *g, ck_diags *diags);

/* Writes a PyTorch- or Keras-dialect graph as .cnn text that ck_parse_cnn
 * reads back to the same network. ONNX graphs give CK_EUSAGE. */
CK_API ck_status ck_graph_write_cnn(const ck_graph *g, const char *comment, char **out,
                                    ck_diags *diags);

/* True when g was read from model-building code convkit can edit (Keras
 * code pasted as written: a .py file, or a .cnn file holding it). The
 * graphs derived from it (ck_graph_clone, the fixed graphs of
 * ck_find_fixes) share its text. */
CK_API bool ck_graph_has_source(const ck_graph *g);

/* Writes the code g was read from with g's changes as edits of that text:
 * an argument whose value differs between the code and g is replaced where
 * the call writes it, or added after the call's last argument; a changed
 * input size is replaced in its own item of the shape tuple; a layer g
 * inserts in front of a layer call's operand wraps that operand (with the
 * module prefix the file uses). Every other byte is kept. The result is
 * read back and must give g's layers, arguments and input shapes.
 * CK_EUSAGE when g keeps no code (ck_graph_has_source false); CK_EINVALID,
 * with an unsupported diagnostic naming the layer, when a change cannot be
 * written as such an edit (a layer built by a line that runs several
 * times, a shape the code does not declare). *out: NUL-terminated, released
 * with ck_free(); NULL on failure. */
CK_API ck_status ck_graph_write_source(const ck_graph *g, char **out, ck_diags *diags);

/* ---- the same network under another framework's rules ------------------ */

/* One layer whose result differs between the model's own framework (a)
 * and another (b). Strings are owned. */
typedef struct ck_dialect_diff {
    char *layer, *type;
    ck_layer_state state_a, state_b;
    ck_shape out_a, out_b;
    char *error_a, *error_b; /* the failure message, when that side failed */
} ck_dialect_diff;

typedef struct ck_dialect_diffs {
    ck_dialect a, b;
    int n;
    ck_dialect_diff *v;
    int not_reached_b; /* layers (b) does not reach after a difference */
    bool ok_a, ok_b;
} ck_dialect_diffs;

/* Checks g under dialect `as`: the shape rules of convolutions, pooling,
 * resizing and padding follow that framework (ceil_mode and its dropped
 * last window, 'same' with a stride, pooling padding limits), the layers'
 * arguments and layout stay. Lists every layer whose output or validity
 * differs. */
CK_API ck_status ck_check_as(const ck_graph *g, ck_dialect as, ck_dialect_diffs *out);
CK_API void ck_dialect_diffs_free(ck_dialect_diffs *d);

/* Formats a shape as "[1, 3, 224, 224]" into buf; returns buf. */
CK_API char *ck_shape_str(const ck_shape *s, char *buf, size_t n);

/* Parses "1x3x224x224" or "[1, 3, 224, 224]". Returns false on bad text. */
CK_API bool ck_parse_shape(const char *text, ck_shape *out);

/* ---- running ------------------------------------------------------------ */

/* A float32 tensor in C (row-major) order. Owned by the caller; released
 * with ck_tensor_f32_free(). */
typedef struct ck_tensor_f32 {
    ck_shape shape;
    float *data; /* numel floats */
} ck_tensor_f32;

/* Allocates a zero-filled tensor of `shape`. CK_EUSAGE on a bad shape,
 * CK_ENOMEM when the size overflows or memory runs out. */
CK_API ck_status ck_tensor_f32_new(const ck_shape *shape, ck_tensor_f32 **out);
CK_API void ck_tensor_f32_free(ck_tensor_f32 *t);
CK_API int64_t ck_tensor_f32_numel(const ck_tensor_f32 *t);
/* Fills t with standard normal values drawn from `seed` (deterministic on
 * every platform). */
CK_API void ck_tensor_f32_fill_normal(ck_tensor_f32 *t, uint64_t seed);

/* NumPy .npy files (format versions 1.0, 2.0 and 3.0). Reading accepts
 * float32 in either byte order and Fortran order (converted to C order);
 * float16, bool and integer data are converted, float64 and wide integers
 * only when every value is exactly representable as float32; anything else
 * is a diagnostic naming the file and the dtype. */
CK_API ck_status ck_npy_read(const char *path, ck_tensor_f32 **out, ck_diags *d);
/* The same from bytes in memory; `name` is used only in diagnostics. */
CK_API ck_status ck_npy_parse(const void *bytes, size_t len, const char *name, ck_tensor_f32 **out,
                              ck_diags *d);
/* Writes `<f4`, C order, version 1.0 (2.0 when the header needs it). The
 * file appears whole or not at all (written beside it, then renamed). */
CK_API ck_status ck_npy_write(const char *path, const ck_tensor_f32 *t, ck_diags *d);

/* A session runs one checked graph at the input shapes it was checked with.
 * ck_session_new() does everything that can fail: it validates every layer,
 * resolves the weights (ONNX initializers, external data files, or the
 * seeded default initialisation of PyTorch/Keras for models without
 * weights), chooses the kernels and plans the activation buffers.
 * ck_session_run() then only computes.
 *
 * A session is immutable once built: several threads may run it at once,
 * each with its own ck_session_ctx (the activation memory of one run). The
 * session reads weight data that the graph holds (ONNX initializers)
 * without copying it, so the graph must outlive the session; data the
 * session creates or reads from external files it owns. */
typedef struct ck_session ck_session;
typedef struct ck_session_ctx ck_session_ctx;

/* Supplies a parameter for a model without weights (.cnn, Keras JSON).
 * `param` and `shape` are the framework's own: PyTorch state_dict names and
 * layouts ("weight" [out, in/groups, kH, kW], "bias", "running_mean", ...),
 * Keras weight names and layouts ("kernel" [kH, kW, in, out],
 * "depthwise_kernel", "gamma", "moving_variance", ...). Return numel(shape)
 * floats, which the session copies, or NULL for the seeded default. */
typedef const float *(*ck_param_fn)(void *user, const char *layer, const char *param,
                                    const ck_shape *shape);

/* Kernel families. The reference kernels are plain C; the others are picked
 * from what the CPU reports, never above it. */
typedef enum ck_kernels {
    CK_KERNELS_AUTO = 0,
    CK_KERNELS_REF,
    CK_KERNELS_AVX2,
    CK_KERNELS_AVX512,
} ck_kernels;

typedef struct ck_session_options {
    uint64_t seed;           /* seeded initialisation of weight-less models */
    const char *weights_dir; /* ONNX external data is relative to this; NULL: the model's folder */
    ck_param_fn params;      /* optional */
    void *params_user;
    int threads;        /* threads per context; 0: the CPUs online */
    ck_kernels kernels; /* which kernels may run; CK_KERNELS_AUTO: the best the CPU has */
} ck_session_options;

/* Builds a session for g, which ck_check() must have accepted. On failure
 * *out is NULL and d holds one error per layer that cannot run (missing or
 * truncated weights, unsupported attribute combinations), naming the layer
 * and the value. `opt` may be NULL. */
CK_API ck_status ck_session_new(const ck_graph *g, const ck_session_options *opt, ck_session **out,
                                ck_diags *d);
CK_API void ck_session_free(ck_session *s);

CK_API int ck_session_num_inputs(const ck_session *s);
CK_API int ck_session_num_outputs(const ck_session *s);
/* What the planner chose: the kernel family in use (never above the CPU),
 * threads per context, steps, how many run a fast kernel, and how many
 * (batch norms, ReLUs) were folded into the convolution before them. */
typedef struct ck_session_info {
    ck_kernels kernels;
    int threads, steps, fast_steps, folded_steps;
} ck_session_info;
CK_API ck_session_info ck_session_describe(const ck_session *s);
CK_API const char *ck_session_input_name(const ck_session *s, int i);
CK_API const char *ck_session_output_name(const ck_session *s, int i);
CK_API ck_shape ck_session_input_shape(const ck_session *s, int i);
CK_API ck_shape ck_session_output_shape(const ck_session *s, int i);

/* Checks that t fits input i (shape), with a diagnostic naming the input,
 * the expected and the given shape. */
CK_API ck_status ck_session_check_input(const ck_session *s, int i, const ck_tensor_f32 *t,
                                        ck_diags *d);

/* Memory of one run, planned once. */
typedef struct ck_session_memory {
    int64_t activation_bytes;   /* the activation arena: planned buffers, reused by liveness */
    int64_t scratch_bytes;      /* per-layer temporaries (padded inputs, ...) */
    int64_t naive_bytes;        /* every layer output in its own buffer (ck_totals) */
    int64_t weight_bytes;       /* parameters read by the kernels */
    int64_t owned_weight_bytes; /* of those, held by the session (not borrowed from the graph) */
    int buffers;                /* distinct activation buffers */
    int steps;                  /* kernels per run */
} ck_session_memory;
CK_API ck_session_memory ck_session_memory_plan(const ck_session *s);

/* The memory for one run at a time; one per thread. */
CK_API ck_status ck_session_ctx_new(const ck_session *s, ck_session_ctx **out);
CK_API void ck_session_ctx_free(ck_session_ctx *c);

/* Runs the network. inputs[i] holds numel(ck_session_input_shape(s, i))
 * floats in C order; outputs[i] receives numel(ck_session_output_shape(s, i))
 * floats. Nothing is checked here beyond NULL pointers (CK_EUSAGE): every
 * other check happened in ck_session_new(). Except for an ONNX model whose
 * weights are graph inputs (ONNX's node tests give W, B, scale, ... so):
 * its session builds its steps in each run, once those values are known,
 * and a run can then also return CK_ENOMEM, or CK_EINVALID when the values
 * make a layer invalid; such a session reports no steps. */
CK_API ck_status ck_session_run(const ck_session *s, ck_session_ctx *ctx,
                                const float *const *inputs, float *const *outputs);

/* Per-step profile. A session runs ck_session_describe(s).steps steps; step
 * i runs one layer (or a layout conversion), with the kernel named in
 * `kernel` ("avx512 conv 2x14 blocked->blocked", "ref", "folded into conv1").
 * ck_session_run_profiled() is ck_session_run() that also stores each step's
 * wall time in seconds in step_seconds[i] (0 for steps with nothing to do). */
typedef struct ck_step_info {
    const char *layer; /* the graph layer (owned by the graph) */
    const char *type;  /* its layer type as written in the model */
    char kernel[96];
    int64_t flops; /* multiply-adds x 2 of a convolution or linear step, else 0 */
} ck_step_info;
CK_API ck_status ck_session_step(const ck_session *s, int i, ck_step_info *out);
CK_API ck_status ck_session_run_profiled(const ck_session *s, ck_session_ctx *ctx,
                                         const float *const *inputs, float *const *outputs,
                                         double *step_seconds);

/* ---- receptive fields --------------------------------------------------- */

/* Receptive field, effective stride (jump) and start offset of every layer,
 * after Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional
 * Neural Networks", Distill 2019. Along each spatial axis of the network
 * input, one element of a layer's output sees `size` input pixels, its
 * neighbours are `jump` input pixels apart, and element 0 is centred on input
 * coordinate `start` (pixel centres at 0, 1, ...; negative: in the padding).
 * A window layer (kernel k, stride s, dilation d, padding pb in front) maps
 * r, j, start to r + (d*(k-1))*j, j*s, start + (d*(k-1)/2 - pb)*j. A
 * transposed convolution divides the jump by its stride (fractional jumps)
 * and adds the widest span of its own input that one output pixel reads, so
 * a 2x2 stride-2 up-convolution adds nothing. After fractional jumps `size`
 * is the mean over output positions and may be fractional. Normalisation
 * statistics are not counted. */

#define CK_RF_MAX_AXES 3
#define CK_RF_MAX_PATHS 8

typedef enum ck_rf_kind {
    CK_RF_NONE = 0, /* no spatial input reaches it (constants, shape tensors, 2-D inputs) */
    CK_RF_LOCAL,    /* each element sees a window: paths[] */
    CK_RF_GLOBAL,   /* each element sees the whole input (global pooling, flatten) */
    CK_RF_UNKNOWN,  /* the layer failed or was not reached, or convkit does not model its op */
} ck_rf_kind;

/* Paths from the input that reach a layer with the same jump and start are
 * one entry (size: the largest of them); paths with different ones are
 * not aligned and are listed apart. */
typedef struct ck_rf_path {
    double size, jump, start;
    int input; /* the graph input the path starts from */
} ck_rf_path;

typedef struct ck_rf_axis {
    const char *name; /* "height", "width", "depth", "length" */
    ck_rf_kind kind;
    int n_paths;     /* LOCAL: 1 when aligned, more when not */
    bool more_paths; /* more than CK_RF_MAX_PATHS alignments; the rest are left out */
    ck_rf_path paths[CK_RF_MAX_PATHS];
} ck_rf_axis;

typedef struct ck_rf {
    int nsp; /* spatial axes of the network input; 0: none */
    ck_rf_axis axis[CK_RF_MAX_AXES];
} ck_rf;

/* Receptive fields of every value of a checked graph, computed in one pass.
 * The table reads the graph when asked: it is valid until the graph is
 * freed or checked again. */
typedef struct ck_rf_table ck_rf_table;
CK_API ck_status ck_rf_analyze(const ck_graph *g, ck_rf_table **out);
CK_API void ck_rf_table_free(ck_rf_table *t);
/* Layer i's (first) output. CK_EUSAGE for an index out of range. */
CK_API ck_status ck_rf_layer(const ck_rf_table *t, int layer, ck_rf *out);
/* The value layer i reads as its input k: one path into a join (add, concat). */
CK_API ck_status ck_rf_operand(const ck_rf_table *t, int layer, int k, ck_rf *out);
/* ck_rf_analyze + ck_rf_layer for one layer. */
CK_API ck_status ck_receptive_field(const ck_graph *g, int layer, ck_rf *out);

/* ---- layer vocabulary and sources --------------------------------------- */

/* The layer types a dialect knows (PyTorch: "Conv2d", "BatchNorm2d", ...;
 * not its functional calls such as view or interpolate), one per line.
 * Released with ck_free(); NULL on OOM. */
CK_API char *ck_layer_types(ck_dialect dialect);

/* Where layer i comes from, for bindings that build a graph from code (the
 * Python package: "net.py:14: self.fc = nn.Linear(400, 10)" for the line that
 * constructed the module, "net.py:30: x = self.fc(x)" for the forward() line
 * that called it). Every error on the layer then carries the notes "defined
 * at ..." and "called at ...". Either string may be NULL; both are copied. */
CK_API ck_status ck_graph_set_layer_source(ck_graph *g, int layer, const char *defined,
                                           const char *called);

/* ---- reports ----------------------------------------------------------- */

/* The documents convkit prints (`convkit check`, `summary`, `sizes`, `fix`:
 * text, JSON, Markdown, SVG), rendered by the library so that the command
 * line and every binding print the same bytes. Every string returned here
 * is NUL-terminated, belongs to the caller and is released with ck_free(). */

typedef enum ck_report_kind {
    CK_REPORT_CHECK = 0, /* text, JSON */
    CK_REPORT_SUMMARY,   /* text (the table), JSON, Markdown, SVG */
    CK_REPORT_SIZES,     /* text, JSON */
    CK_REPORT_FIX,       /* text, JSON */
} ck_report_kind;

typedef enum ck_format {
    CK_FORMAT_TEXT = 0, /* what the CLI prints by default (summary: the table) */
    CK_FORMAT_JSON,     /* --json: one JSON object */
    CK_FORMAT_MD,       /* summary --format md */
    CK_FORMAT_SVG,      /* summary --format svg */
} ck_format;

typedef struct ck_report_options {
    /* the name printed as the model (CLI: the path); NULL: the graph's source name */
    const char *model;
    /* CHECK: also check under this framework's rules (check --as); NONE: no */
    ck_dialect as;
    /* SIZES: the range scanned; 0, 0: the default 1..1024 */
    int64_t lo, hi;
    /* SIZES: which network input is varied */
    int input;
    /* TEXT: ANSI colours on diagnostic headers (the CLI passes isatty && !NO_COLOR) */
    bool color;
    /* CHECK: skip the fix search (faster); default false = fixes attached as today */
    bool no_fixes;
} ck_report_options;

/* Runs the analysis of `convkit <kind>` on g at its current input shapes and
 * renders it exactly as the CLI prints it (stdout bytes). g is not modified:
 * the report checks its own copy, so several threads may report on one graph
 * at once. *out receives the text, released with ck_free(); it is set also
 * when the model is invalid. Returns CK_OK for a valid model (SIZES: some
 * size in the range is valid), CK_EINVALID for an invalid one, CK_EUSAGE for
 * a format the kind does not have (e.g. SVG for SIZES; *out is NULL), CK_ENOMEM.
 * When the analysis cannot run at all (an input without a shape, a bad size
 * range: what ck_check or ck_solve_sizes refuse with CK_EUSAGE) that status is
 * returned and *out holds ck_report_failure()'s output in fmt (the CLI prints
 * the text one on stderr). opt may be NULL.
 *
 * The JSON of CHECK and FIX gives every diagnostic, beside `fixes` (the
 * text of each fix), `fix_details`: one ck_fix_json() object per fix. */
CK_API ck_status ck_report(const ck_graph *g, ck_report_kind kind, ck_format fmt,
                           const ck_report_options *opt, char **out);

/* The FIX report for fixes already found (ck_find_fixes on g; NULL: the
 * report searches) and for the outcome of writing the first one as .cnn
 * (`convkit fix --write`): `written` is the file written or NULL, and
 * write_errors (may be NULL) says why it was not. The text then ends with
 * "wrote FILE with the first fix; ...", the JSON has `written` and
 * `write_errors`; the text of write_errors is not included (the CLI prints
 * ck_diags_text of it on stderr). Otherwise as ck_report(g, CK_REPORT_FIX, ...). */
CK_API ck_status ck_report_fixes(const ck_graph *g, const ck_fixes *fixes, const char *written,
                                 const ck_diags *write_errors, ck_format fmt,
                                 const ck_report_options *opt, char **out);

/* The output of a model that could not be read: its diagnostics as text
 * (CK_FORMAT_JSON: the one JSON object {model, ok:false, layers:[],
 * diagnostics} that every --json subcommand prints then; any other format:
 * the text). d may be NULL (no diagnostics). */
CK_API ck_status ck_report_failure(const char *model, const ck_diags *d, ck_format fmt, bool color,
                                   char **out);

/* Diagnostics as the CLI prints them (errors first, then warnings), and as
 * the JSON array of the reports (`fix_details` is [] for a diagnostic without
 * fixes and left out for one whose fixes are known only as text). NULL on
 * out of memory; d may be NULL (nothing: "" and "[]"). */
CK_API char *ck_diags_text(const ck_diags *d, bool color);
CK_API char *ck_diags_json(const ck_diags *d);

/* One fix as a JSON object: kind ("input", "layer", "upstream", "insert"),
 * layer, change, why, output_shape, and args: the changed arguments of
 * `layer` with their new values as JSON ({"padding": 1}, {"in_features":
 * 2704}, {"kernel_size": [1, 1]}); for an input fix {"input": [shape]}; for
 * an insertion the new layer's arguments, with insert_name, insert_type and
 * layer_args (what changes on `layer` itself). */
CK_API char *ck_fix_json(const ck_fix *f);

/* The graph's inputs as every JSON report lists them: [{name, shape, layout}]. */
CK_API char *ck_inputs_json(const ck_graph *g);

/* Appends a diagnostic (for callers that report their own problems in the
 * same form, e.g. a command-line option): every string is copied; layer, op
 * may be NULL. Returns it for ck_diag_append_note, or NULL (d NULL, out of
 * memory). */
CK_API ck_diag *ck_diags_append(ck_diags *d, ck_severity sev, ck_code code, const char *layer,
                                const char *op, const char *message);
/* Adds an explanation line to a diagnostic; false when dg is NULL or out of memory. */
CK_API bool ck_diag_append_note(ck_diag *dg, const char *note);

/* Releases memory the library returned: the strings of ck_report,
 * ck_report_fixes, ck_report_failure, ck_diags_text, ck_diags_json,
 * ck_fix_json, ck_inputs_json, ck_runs_str, ck_size_fn_str, ck_fix_str,
 * ck_layer_types, and the text of ck_graph_write_cnn and
 * ck_graph_write_source. Plain free() semantics; NULL is fine. */
CK_API void ck_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
