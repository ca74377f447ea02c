/* The graph's data: weight tensors, values (tensors flowing between
 * layers), nodes (layers) and the graph that holds them. The op rules read
 * it (a rule's context is a node of a graph); src/graph builds and checks
 * it (graph/graph.h). */
#ifndef CK_IR_H
#define CK_IR_H

#include "core/core.h"
#include "ops/attrs.h"
#include "ops/op_id.h"

typedef enum ck_dtype { CK_F32 = 0, CK_I64, CK_I32, CK_F64, CK_U8, CK_BOOL, CK_OTHER } ck_dtype;

/* Float tensors up to this many elements are constants shape rules read
 * (Resize scales, Clip bounds, Pad values): the ONNX reader decodes them
 * when it reads the model, and clones without weights keep them. */
#define CK_TENSOR_SMALL_FLOATS 64

/* A weight tensor (ONNX initializer). Data may be absent (external data not
 * present): shape checks only need dims. */
typedef struct ck_tensor {
    char *name;
    ck_dtype dtype;
    int onnx_type; /* the raw ONNX data_type, for diagnostics */
    ck_shape shape;
    float *f32;     /* owned, float data when loaded */
    int64_t *i64;   /* owned, integer data (shape constants) */
    char *ext_path; /* external data file, relative to the model */
    int64_t ext_offset, ext_length;
    /* Inline data left undecoded: raw_len bytes of onnx_type elements,
     * little-endian, a view into the graph's blob (the mapped model file);
     * the runtime decodes it (core/elem.h). NULL when none. */
    const uint8_t *raw;
    int64_t raw_len;
    /* Its values are those of the graph input of the same name, given at
     * run time (ONNX weights declared as graph inputs); shape only here. */
    bool from_input;
    /* Made by an ONNX Constant node: a constant of the computation (an
     * exporter's ones and zeros, a Python number), not a learned weight,
     * so it is no parameter. */
    bool from_node;
} ck_tensor;

typedef enum ck_vstate { CK_VAL_UNKNOWN = 0, CK_VAL_OK, CK_VAL_FAILED } ck_vstate;

typedef struct ck_val {
    char *name;
    int producer;    /* node index, -1 for a graph input or a constant */
    int input_index; /* graph input number, -1 otherwise */
    ck_vstate state;
    ck_shape shape;
    bool channels_last;
    ck_dtype dtype;
    /* Known contents (the constant evaluator, ops/ops.h): kval for integer
     * and bool values, kflt for float values, nkval elements; both NULL when
     * not known. Owned, except a constant's, which are its tensor's data. */
    int64_t *kval;
    float *kflt;
    int64_t nkval;
    int tensor; /* index into graph tensors when this value is a constant, else -1 */
} ck_val;

struct ck_frontend;

typedef struct ck_node {
    char *name;
    char *type; /* framework name as written ("Conv2d", "Conv2D", "Conv") */
    const struct ck_frontend *fe;
    ck_op_id op;
    ck_attrs a;
    int n_in, n_out;
    int *in;  /* value indices of data inputs */
    int *out; /* value indices */
    int n_params;
    int *params; /* tensor indices of weights (ONNX initializers), -1 if absent */
    int line;
    /* Where a binding says the layer comes from (the Python package: the line
     * that constructed the module, the forward() line that called it); each
     * error on the layer shows them as notes. NULL when not given. */
    char *src_def, *src_call;
    /* The arguments as written (kept so fixes can edit them and rebuild the
     * layer, and so the graph can be written back as .cnn). */
    ck_args args, fwd;
    bool lenient;
    /* A problem found when the layer was constructed (framework constructors
     * raise these at any input size); reported when the node is checked. */
    ck_diag *config_error;
    /* results of ck_check() */
    ck_layer_state state;
    int fail_axis;      /* tensor axis of input 0 that failed, -1 if none */
    int64_t fail_value; /* the size that axis would have had */
    ck_code fail_code;
    int64_t params_count, macs, ops;
    /* names of the values in[] reads, for ck_layer_info: kept current
     * whenever in[] changes (never filled by a reader, so const reads of a
     * graph write nothing) */
    const char **in_names;
} ck_node;

struct ck_graph {
    ck_dialect dialect;
    char *source; /* file name */
    /* Model-building code the graph was read from, and where each layer's
     * arguments are in it (import/srcmap.h: a ck_srcmap headed by this
     * reference count); shared by clones. NULL when not read from such
     * code. */
    struct ck_ref *srcmap;
    int n_nodes, cap_nodes;
    ck_node *nodes;
    int n_vals, cap_vals;
    ck_val *vals;
    int n_inputs;
    int *inputs;        /* value indices of graph inputs */
    ck_shape *declared; /* declared input shapes (rank 0 = none) */
    /* The names of the declared inputs' symbolic axes (ONNX dim_param):
     * sym[i * CK_MAX_RANK + a] for axis a of input i (its declared size is
     * 0), NULL where the size is a number; sym is NULL when no axis is
     * symbolic. Owned; an input's names go when its shape is set. */
    char **sym;
    /* scalar[i]: input i is declared a scalar (rank 0 is its shape, not a
     * shape left out); NULL when no input is. */
    bool *scalar;
    int n_outputs;
    int *outputs;
    int n_tensors, cap_tensors;
    ck_tensor *tensors;
    struct ck_blob *blob; /* the bytes tensors' raw views point into (held), or NULL */
    ck_diags warnings;    /* import warnings, re-emitted by ck_check */
    ck_limits lim;        /* resolved */
    /* name -> index hash tables (open addressing, -1 empty) so that building
     * a graph stays linear in its size */
    int val_cap, node_cap;
    int *val_ix, *node_ix;
};

#endif
