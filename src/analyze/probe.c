/* One shape check summarised: the primitive the input-size solver, the fix
 * search and the framework diff repeat many times. */
#include "analyze/analyze.h"
#include "ops/ops.h"

int ck_graph_output_val(const ck_graph *g) {
    if (g->n_outputs > 0) return g->outputs[0];
    if (g->n_nodes > 0 && g->nodes[g->n_nodes - 1].n_out > 0)
        return g->nodes[g->n_nodes - 1].out[0];
    return g->n_inputs > 0 ? g->inputs[0] : -1;
}

int ck_input_spatial_axes(const ck_graph *g, int input, int *axes) {
    if (input < 0 || input >= g->n_inputs) return 0;
    int rank = g->declared[input].rank;
    int nsp = rank - 2;
    if (nsp <= 0) return 0;
    if (nsp > 3) nsp = 3;
    ck_attrs a = {0};
    a.channels_last = g->vals[g->inputs[input]].channels_last;
    for (int i = 0; i < nsp; i++) axes[i] = ck_spatial_axis(&a, rank, nsp, i);
    return nsp;
}

const char *ck_spatial_name(int nsp, int i) {
    return ck_axis_name(nsp, i);
}

void ck_probe_graph(ck_graph *g, ck_probe *p, ck_diags *diags) {
    ck_diags local = {0};
    ck_diags *d = diags ? diags : &local;
    int first = d->n;
    ck_status st = ck_check(g, d);
    *p = (ck_probe){.ok = st == CK_OK, .fail_node = -1, .fail_axis = -1};
    p->clean = p->ok;
    for (int i = first; i < d->n; i++)
        if (d->v[i].code == CK_PIXELS_DROPPED) p->clean = false;
    if (st == CK_OK) {
        int ov = ck_graph_output_val(g);
        if (ov >= 0) p->out = g->vals[ov].shape;
    } else {
        for (int i = 0; i < g->n_nodes; i++)
            if (g->nodes[i].state == CK_LAYER_FAILED) {
                p->fail_node = i;
                p->code = g->nodes[i].fail_code;
                p->fail_axis = g->nodes[i].fail_axis;
                break;
            }
        if (p->fail_node < 0) p->code = CK_INVALID_CONFIG; /* e.g. an input without shape */
    }
    ck_diags_free(&local);
}

void ck_probe_input(ck_graph *g, int input, const ck_shape *s, ck_probe *p) {
    ck_graph_set_input_shape(g, input, s);
    ck_probe_graph(g, p, NULL);
}
