/*
 * convkit: exact shape rules, checking, explanation and execution of
 * convolutional networks.
 *
 * Ownership: every object returned through an out-pointer belongs to the
 * caller and is released with its matching ck_*_free(). Strings inside a
 * diagnostic or a layer record belong to the object that holds them.
 *
 * Errors: no function prints, exits or aborts because of its input. Each
 * returns a ck_status and, where a ck_diags is given, appends structured
 * diagnostics (code, layer, axis, numbers, message) that callers render.
 */
#ifndef CONVKIT_H
#define CONVKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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

const char *ck_code_name(ck_code c);

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

void ck_diags_free(ck_diags *d);
/* Number of diagnostics of severity error. */
int ck_diags_errors(const ck_diags *d);

typedef enum ck_dialect {
    CK_DIALECT_NONE = 0,
    CK_DIALECT_PYTORCH,
    CK_DIALECT_KERAS,
    CK_DIALECT_ONNX,
} ck_dialect;

const char *ck_dialect_name(ck_dialect d);

/* ---- graphs ------------------------------------------------------------- */

typedef struct ck_graph ck_graph;

/* Resource bounds applied while reading untrusted models. Zero means default. */
typedef struct ck_limits {
    int64_t max_file_bytes; /* default 1 GiB */
    int max_nodes;          /* default 100000 */
    int max_depth;          /* nesting of brackets or JSON, default 64 */
} ck_limits;

/* Reads a model file: .cnn text, ONNX protobuf or Keras JSON, told apart by
 * content. On failure *out is NULL and diags says why. */
ck_status ck_load_file(const char *path, const ck_limits *lim, ck_graph **out, ck_diags *diags);

/* Parses .cnn text. `filename` is used only in diagnostics. */
ck_status ck_parse_cnn(const char *text, size_t len, const char *filename, const ck_limits *lim,
                       ck_graph **out, ck_diags *diags);

void ck_graph_free(ck_graph *g);

ck_dialect ck_graph_dialect(const ck_graph *g);
int ck_graph_num_inputs(const ck_graph *g);
const char *ck_graph_input_name(const ck_graph *g, int i);
/* The declared input shape; rank 0 when the model does not declare one. */
ck_shape ck_graph_input_shape(const ck_graph *g, int i);
/* Replaces the shape of input i (used for --input and by the size solver). */
ck_status ck_graph_set_input_shape(ck_graph *g, int i, const ck_shape *s);
/* True when input i is laid out channels-last (Keras NHWC). */
bool ck_graph_input_channels_last(const ck_graph *g, int i);

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
    const char *type; /* framework name, e.g. "Conv2d", "Conv2D", "Conv" */
    const char *op;   /* canonical op name, e.g. "conv" */
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
ck_status ck_check(ck_graph *g, ck_diags *diags);

int ck_graph_num_layers(const ck_graph *g);
ck_layer_info ck_graph_layer(const ck_graph *g, int i);

/* Totals after ck_check() over the layers that were checked. */
typedef struct ck_totals {
    int64_t params, macs, ops;
    int64_t activation_bytes; /* sum of all layer outputs, float32 */
    int64_t param_bytes;      /* float32 */
    int64_t input_bytes;
} ck_totals;
ck_totals ck_graph_totals(const ck_graph *g);

/* Formats a shape as "[1, 3, 224, 224]" into buf; returns buf. */
char *ck_shape_str(const ck_shape *s, char *buf, size_t n);

/* Parses "1x3x224x224" or "[1, 3, 224, 224]". Returns false on bad text. */
bool ck_parse_shape(const char *text, ck_shape *out);

#ifdef __cplusplus
}
#endif
#endif
