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

#endif
