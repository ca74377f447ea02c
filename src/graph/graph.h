/* The graph: values (tensors flowing between layers) and nodes (layers),
 * whose data is ops/ir.h. Importers build it through ck_graph_add_layer();
 * the checker fills the per-value shapes and per-node results. */
#ifndef CK_GRAPH_H
#define CK_GRAPH_H

#include "core/core.h"
#include "ops/ir.h"

void ck_tensor_free(ck_tensor *t);

/* What an importer hands over for one layer. */
typedef struct ck_layer_spec {
    ck_dialect dialect;
    const char *type; /* "Conv2d" */
    const char *name; /* layer name; must be unique */
    const ck_args *args;
    const ck_args *fwd; /* forward-call keyword arguments, e.g. output_size (may be NULL) */
    int n_inputs;
    const char *const *inputs; /* value names; NULL entries are skipped (optional ONNX inputs) */
    int n_outputs;             /* 0 means one output named like the layer */
    const char *const *outputs;
    int n_params;
    const int *params; /* tensor indices (ONNX initializers), -1 = absent */
    int line;
    bool lenient; /* unknown keyword arguments are notes, not errors (JSON configs) */
} ck_layer_spec;

ck_graph *ck_graph_new(ck_dialect dialect, const char *source);
/* Declares a graph input value. */
int ck_graph_add_input(ck_graph *g, const char *name, const ck_shape *declared, bool channels_last);
/* Names axis `axis` of input `input` as a symbol (its declared size is 0
 * until a shape is given). False on out-of-memory. */
bool ck_graph_set_symbol(ck_graph *g, int input, int axis, const char *name);
/* Declares input `input` a scalar (its rank 0 is a shape). False on
 * out-of-memory. */
bool ck_graph_set_scalar_input(ck_graph *g, int input);
/* The symbol of axis `axis` of input `input`, or NULL when its size is a
 * number (or was given). */
const char *ck_graph_symbol(const ck_graph *g, int input, int axis);
/* Adds a tensor (takes ownership of *t's contents). Returns its index or -1. */
int ck_graph_add_tensor(ck_graph *g, ck_tensor *t);
/* Adds a value that holds a constant tensor. */
int ck_graph_add_const(ck_graph *g, const char *name, int tensor);
int ck_graph_find_val(const ck_graph *g, const char *name);
int ck_graph_add_val(ck_graph *g, const char *name, int producer);
/* Adds a layer. Unknown layer types become unsupported_op nodes; argument
 * problems become the node's config_error. Returns the node index, or -1 on
 * a structural error (undefined input value, duplicate name) with a
 * parse_error/invalid_config diagnostic in d. */
int ck_graph_add_layer(ck_graph *g, const ck_layer_spec *spec, ck_diags *d);
/* Marks value `v` as a graph output. */
void ck_graph_mark_output(ck_graph *g, int v);
/* Adds an import warning shown on every check. */
void ck_graph_warn(ck_graph *g, ck_code code, const char *layer, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Deep copy (for the fix search). Weight data is copied only when
 * `weights` is true (raw views then share g's blob); integer shape
 * constants always are. NULL on OOM. */
ck_graph *ck_graph_clone(const ck_graph *g, bool weights);
/* Rebuilds node `ni` from its (edited) args/fwd through its frontend:
 * new attributes and configuration error. */
void ck_graph_rebuild_node(ck_graph *g, int ni);
/* Points n->in_names at the names of the values n->in reads (allocating it
 * when absent). False on OOM. */
bool ck_node_set_in_names(const ck_graph *g, ck_node *n);
/* Inserts a new one-input layer in front of node `before`, reading the value
 * that node reads at input `slot`, and rewires that input to the new layer's
 * output. spec->inputs/n_inputs are ignored. Returns the new node index
 * (== before) or -1 with a diagnostic. */
int ck_graph_insert_layer(ck_graph *g, int before, int slot, const ck_layer_spec *spec,
                          ck_diags *d);

#endif
