/* Shared by the analyses that re-check a network many times (input-size
 * solver, fix search, framework diff). */
#ifndef CK_ANALYZE_H
#define CK_ANALYZE_H

#include "graph/graph.h"

/* The outcome of one shape check, without the rendered diagnostics. */
typedef struct ck_probe {
    bool ok;
    bool clean;    /* ok and no layer drops pixels to floor() */
    int fail_node; /* first failing node, -1 when ok */
    ck_code code;  /* its diagnostic code */
    int fail_axis; /* the tensor axis named by the failure (input 0 of the node), -1 if none */
    ck_shape out;  /* the network's first output when ok */
} ck_probe;

/* Checks g as it is (ck_check) and summarises. diags may be NULL. */
void ck_probe_graph(ck_graph *g, ck_probe *p, ck_diags *diags);
/* Checks g with input `input` set to shape s. */
void ck_probe_input(ck_graph *g, int input, const ck_shape *s, ck_probe *p);
/* The value index of the network's first output. */
int ck_graph_output_val(const ck_graph *g);
/* The spatial axes of input `input` (tensor axis indices, in depth/height/
 * width order); returns their count (0 for rank <= 2). */
int ck_input_spatial_axes(const ck_graph *g, int input, int *axes);
/* The spatial axis name for spatial axis i of nsp. */
const char *ck_spatial_name(int nsp, int i);
/* The index of the node called `name`, -1 if none (a linear search). */
int ck_graph_node_named(const ck_graph *g, const char *name);
/* The index of the first error in d, -1 if none. */
int ck_first_error(const ck_diags *d);
/* Adds the text of each fix (ck_fix_str) to the first error in d; returns
 * that error's index, -1 if there is none. */
int ck_fixes_attach(const ck_fixes *f, ck_diags *d);

/* ---- the input-size solver (sizes.c) --------------------------------------- */

/* Sees each graph the solver checks: scan 0 is the square scan, k + 1 the
 * scan of its axis k; n the size. Returning false stops the scan
 * (ck_solve_sizes_visit then fails with CK_ENOMEM). */
typedef struct ck_scan_visitor {
    bool (*visit)(void *ctx, int scan, int64_t n, const ck_graph *g);
    void *ctx;
} ck_scan_visitor;

/* ck_solve_sizes, showing every checked graph to vis (may be NULL). An
 * input with symbolic axes (ck_graph_symbol) is scanned with its other
 * symbolic axes (the batch) at 1, only its symbolic spatial axes varied
 * and, for the per-axis scans, held at the smallest valid square size. */
ck_status ck_solve_sizes_visit(const ck_graph *g, int input, int64_t lo, int64_t hi, ck_sizes *out,
                               ck_diags *d, const ck_scan_visitor *vis);
/* The closed form out = floor((in + add) / div) * mul + base through the
 * points (x ascending), written from x[0] on; .found false when none holds. */
ck_size_fn ck_fit_size_fn(const int64_t *x, const int64_t *y, int n);
/* f at x; false when not found or on overflow. */
bool ck_size_fn_at(const ck_size_fn *f, int64_t x, int64_t *y);
/* The function's right-hand side with `in` as the variable
 * ("floor((H - 1) / 32) + 1"); malloc'd, NULL when not found. */
char *ck_size_fn_expr(const ck_size_fn *f, const char *in);

/* ---- symbolic input sizes (symbolic.c) ---------------------------------------- */

/* A model whose input sizes are symbols (ONNX dim_param) checked without
 * them given: the size solver's scans, and each layer's output written as
 * expressions of the symbols. */
typedef struct ck_symbolic {
    int input;         /* the input whose sizes vary (the first with symbols) */
    bool valid;        /* some scanned size is valid (only the batch symbolic: the declared
                          sizes are) */
    bool spatial;      /* some spatial axis is symbolic (the expressions follow them) */
    ck_sizes sizes;    /* the scans (ck_solve_sizes_visit) */
    ck_shape instance; /* the sizes the layers are shown at: the smallest valid square */
    char *input_expr[CK_MAX_RANK]; /* the input's axes: its symbols, or numbers */
    int n_layers;
    /* per layer, CK_MAX_RANK entries: the expression of each output axis
     * (a number where its size is fixed; "?" where no expression holds; NULL
     * past the rank or where the layer fails) and whether it varies */
    char **expr;
    bool *varies;
} ck_symbolic;

/* True when an input of g has symbolic axes. */
bool ck_graph_has_symbols(const ck_graph *g);
/* Scans g's symbolic input over lo..hi (the other inputs' symbols at 1)
 * and fits the expressions. */
ck_status ck_symbolic_solve(const ck_graph *g, int64_t lo, int64_t hi, ck_symbolic *out,
                            ck_diags *d);
void ck_symbolic_free(ck_symbolic *s);
/* A copy of g with every input at the sizes s shows (the symbolic input at
 * s->instance, the others' symbols at 1), not yet checked. */
ck_graph *ck_symbolic_instance(const ck_graph *g, const ck_symbolic *s);

#endif
