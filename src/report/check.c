/* The check report: shapes through every layer, each failure explained with
 * its verified fixes, and (--as) the layers whose result differs under
 * another framework's rules. */
#include "analyze/analyze.h"
#include "report/report.h"

#include <string.h>

/* ---- symbolic input sizes -------------------------------------------------- */

/* Layer i's output as written with the symbols: "[N, 64, floor((H - 1) / 2)
 * + 1, ...]"; NULL when the layer has no expressions. */
static char *layer_expr_text(const ck_symbolic *sy, int i, int rank) {
    if (!sy || i >= sy->n_layers || !sy->expr[i * CK_MAX_RANK]) return NULL;
    ck_str t = {0};
    ck_str_add(&t, "[");
    for (int a = 0; a < rank; a++)
        ck_str_addf(&t, "%s%s", a ? ", " : "", sy->expr[i * CK_MAX_RANK + a]);
    ck_str_add(&t, "]");
    return ck_str_take(&t);
}

static const char *symbol_of(const ck_symbolic *sy, const ck_sizes_axis *a) {
    const char *e = sy->input_expr[a->tensor_axis];
    return e ? e : a->name;
}

/* valid_sizes: the size solver's runs over the symbols */
static json_t *valid_sizes_json(const ck_graph *g, const ck_symbolic *sy) {
    const ck_sizes *z = &sy->sizes;
    json_t *o = json_object();
    json_object_set_new(o, "input", json_string(ck_graph_input_name(g, sy->input)));
    json_object_set_new(o, "range", json_pack("[II]", (json_int_t)z->lo, (json_int_t)z->hi));
    json_t *syms = json_array();
    for (int k = 0; k < z->n_axes; k++)
        json_array_append_new(syms, json_string(symbol_of(sy, &z->axes[k])));
    json_object_set_new(o, "symbols", syms);
    json_object_set_new(o, "square", ck_rp_runs_json(&z->square.valid));
    json_object_set_new(o, "smallest_square",
                        z->square.min >= 1 ? json_integer(z->square.min) : json_null());
    json_t *axes = json_array();
    for (int k = 0; k < z->n_axes; k++) {
        const ck_sizes_axis *a = &z->axes[k];
        json_t *ax = json_object();
        json_object_set_new(ax, "symbol", json_string(symbol_of(sy, a)));
        json_object_set_new(ax, "tensor_axis", json_integer(a->tensor_axis));
        json_object_set_new(ax, "others_held_at", json_integer(z->square.current));
        json_object_set_new(ax, "valid", ck_rp_runs_json(&a->valid));
        json_array_append_new(axes, ax);
    }
    json_object_set_new(o, "axes", axes);
    return o;
}

/* "H = W valid 32-1024 every 32" and one line per symbol */
static void valid_sizes_text(ck_str *s, const ck_symbolic *sy) {
    const ck_sizes *z = &sy->sizes;
    ck_str lab = {0};
    for (int k = 0; k < z->n_axes; k++)
        ck_str_addf(&lab, "%s%s", k ? " = " : "", symbol_of(sy, &z->axes[k]));
    char *r = ck_runs_str(&z->square.valid, z->hi);
    ck_str_addf(s, "valid sizes (%lld-%lld scanned):\n  %-24s %s\n", (long long)z->lo,
                (long long)z->hi, lab.p ? lab.p : "", r ? r : "");
    free(r);
    ck_str_free(&lab);
    for (int k = 0; z->n_axes > 1 && k < z->n_axes; k++) {
        ck_str l = {0};
        ck_str_addf(&l, "%s (others %lld)", symbol_of(sy, &z->axes[k]),
                    (long long)z->square.current);
        r = ck_runs_str(&z->axes[k].valid, z->hi);
        ck_str_addf(s, "  %-24s %s\n", l.p ? l.p : "", r ? r : "");
        free(r);
        ck_str_free(&l);
    }
}

static void check_text(ck_str *s, const char *model, const ck_graph *g, const ck_diags *d,
                       ck_status st, bool color, const ck_symbolic *sy) {
    char buf[256];
    ck_str_addf(s, "model: %s (%s)\n", model, ck_dialect_name(ck_graph_dialect(g)));
    int n = ck_graph_num_layers(g);
    size_t wname = 5, wtype = 4;
    for (int i = 0; i < n; i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        if (strlen(li.name) > wname) wname = strlen(li.name);
        if (strlen(li.type) > wtype) wtype = strlen(li.type);
    }
    if (wname > 48) wname = 48;
    for (int i = 0; i < ck_graph_num_inputs(g); i++) {
        ck_shape sh = ck_graph_input_shape(g, i);
        ck_str in = {0};
        if (sy && i == sy->input) {
            ck_str_add(&in, "[");
            for (int a = 0; a < sh.rank; a++)
                ck_str_addf(&in, "%s%s", a ? ", " : "", sy->input_expr[a]);
            ck_str_add(&in, "]");
        }
        ck_str_addf(s, "  %-*s  %-*s  %s\n", (int)wname, ck_graph_input_name(g, i), (int)wtype,
                    "Input", in.p ? in.p : ck_shape_str(&sh, buf, sizeof buf));
        ck_str_free(&in);
    }
    int unreached = 0;
    for (int i = 0; i < n; i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        unreached += li.state == CK_LAYER_NOT_REACHED;
        char *e = li.state == CK_LAYER_OK ? layer_expr_text(sy, i, li.output.rank) : NULL;
        ck_str_addf(s, "  %-*s  %-*s  %s\n", (int)wname, li.name, (int)wtype, li.type,
                    e ? e : ck_rp_state_text(li.state, &li.output, buf, sizeof buf, "not reached"));
        free(e);
    }
    ck_str_add(s, "\n");
    ck_rp_diags_text(s, d, color);
    if (unreached) {
        ck_str_add(s, "not reached (downstream of a failure): ");
        int shown = 0;
        for (int i = 0; i < n; i++) {
            ck_layer_info li = ck_graph_layer(g, i);
            if (li.state != CK_LAYER_NOT_REACHED) continue;
            if (shown == 12) {
                ck_str_addf(s, ", ... (%d in all)", unreached);
                break;
            }
            ck_str_addf(s, "%s%s", shown++ ? ", " : "", li.name);
        }
        ck_str_add(s, "\n");
    }
    if (sy && sy->spatial) valid_sizes_text(s, sy);
    if (st == CK_OK) {
        ck_layer_info last = ck_graph_layer(g, n - 1);
        char *e = layer_expr_text(sy, n - 1, last.output.rank);
        ck_str_addf(s, "ok: %s%d layer%s, output %s\n",
                    sy && sy->spatial ? "valid at some size; " : "", n, n == 1 ? "" : "s",
                    e ? e : ck_shape_str(&last.output, buf, sizeof buf));
        free(e);
    } else if (sy && sy->spatial && ck_diags_errors(d) == 0) {
        ck_str_add(s, "invalid: no size scanned is valid\n");
    } else {
        int e = ck_diags_errors(d);
        ck_str_addf(s, "invalid: %d error%s\n", e, e == 1 ? "" : "s");
    }
}

/* The network's outputs: name, shape (null where not reached), and with
 * symbolic sizes the expressions of their axes. */
static json_t *outputs_json(const ck_graph *g, const ck_symbolic *sy) {
    json_t *a = json_array();
    for (int i = 0; i < g->n_outputs; i++) {
        const ck_val *v = &g->vals[g->outputs[i]];
        json_t *o = json_object();
        bool ok = v->state == CK_VAL_OK;
        json_object_set_new(o, "name", json_string(v->name));
        json_object_set_new(o, "shape", ok ? ck_rp_shape_json(&v->shape) : json_null());
        int p = v->producer;
        if (sy && ok && p >= 0 && p < sy->n_layers && g->nodes[p].out[0] == g->outputs[i] &&
            sy->expr[p * CK_MAX_RANK]) {
            json_t *e = json_array(), *sh = json_array();
            for (int k = 0; k < v->shape.rank; k++) {
                json_array_append_new(e, json_string(sy->expr[p * CK_MAX_RANK + k]));
                json_array_append_new(sh, sy->varies[p * CK_MAX_RANK + k]
                                              ? json_null()
                                              : json_integer(v->shape.d[k]));
            }
            json_object_set_new(o, "shape", sh);
            json_object_set_new(o, "expr", e);
        }
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *diffs_json(const ck_dialect_diffs *df) {
    json_t *o = json_object();
    json_object_set_new(o, "dialect", json_string(ck_dialect_name(df->b)));
    json_object_set_new(o, "ok", json_boolean(df->ok_b));
    json_t *a = json_array();
    for (int i = 0; i < df->n; i++) {
        const ck_dialect_diff *r = &df->v[i];
        json_t *e = json_object();
        json_object_set_new(e, "layer", json_string(r->layer));
        json_object_set_new(e, "type", json_string(r->type));
        json_object_set_new(e, "state", json_string(ck_rp_state_name(r->state_a)));
        json_object_set_new(e, "output_shape",
                            r->state_a == CK_LAYER_OK ? ck_rp_shape_json(&r->out_a) : json_null());
        json_object_set_new(e, "error", r->error_a ? json_string(r->error_a) : json_null());
        json_object_set_new(e, "as_state", json_string(ck_rp_state_name(r->state_b)));
        json_object_set_new(e, "as_output_shape",
                            r->state_b == CK_LAYER_OK ? ck_rp_shape_json(&r->out_b) : json_null());
        json_object_set_new(e, "as_error", r->error_b ? json_string(r->error_b) : json_null());
        json_array_append_new(a, e);
    }
    json_object_set_new(o, "differences", a);
    json_object_set_new(o, "not_reached", json_integer(df->not_reached_b));
    return o;
}

static void diffs_text(ck_str *s, const ck_dialect_diffs *df) {
    char ba[256], bb[256];
    const char *na = ck_dialect_name(df->a), *nb = ck_dialect_name(df->b);
    ck_str_addf(s, "\nunder %s rules: ", nb);
    if (df->n == 0) {
        ck_str_addf(s, "every layer gives the same result as under %s rules\n", na);
        return;
    }
    ck_str_addf(s, "%d layer%s differ%s from %s\n", df->n, df->n == 1 ? "" : "s",
                df->n == 1 ? "s" : "", na);
    for (int i = 0; i < df->n; i++) {
        const ck_dialect_diff *r = &df->v[i];
        ck_str_addf(s, "  %s (%s): %s %s, %s %s\n", r->layer, r->type, na,
                    ck_rp_state_text(r->state_a, &r->out_a, ba, sizeof ba, "not reached"), nb,
                    ck_rp_state_text(r->state_b, &r->out_b, bb, sizeof bb, "not reached"));
        if (r->error_a) ck_str_addf(s, "    %s: %s\n", na, r->error_a);
        if (r->error_b) ck_str_addf(s, "    %s: %s\n", nb, r->error_b);
    }
    if (df->not_reached_b)
        ck_str_addf(s, "  (%d later layers not reached under %s rules)\n", df->not_reached_b, nb);
    ck_str_addf(s, "under %s rules the model is %s\n", nb, df->ok_b ? "valid" : "invalid");
}

ck_status ck_rp_check(const ck_graph *g, ck_diags *d, ck_status st, const ck_rp_request *r,
                      ck_str *s) {
    const ck_report_options *o = &r->opt;
    ck_fixes fx = {0};
    int at = -1;
    if (st == CK_EINVALID && !o->no_fixes && ck_first_error(d) >= 0 &&
        ck_find_fixes(g, &fx, d) == CK_OK)
        at = ck_fixes_attach(&fx, d);
    ck_dialect_diffs df = {0};
    bool have_df = o->as != CK_DIALECT_NONE && ck_check_as(g, o->as, &df) == CK_OK;
    if (r->fmt == CK_FORMAT_JSON) {
        ck_shape s0 = ck_graph_input_shape(g, 0);
        json_t *j = ck_rp_doc_json(o->model, g, &s0);
        json_object_set_new(j, "inputs", ck_rp_inputs_json(g));
        json_object_set_new(j, "ok", json_boolean(st == CK_OK));
        const ck_symbolic *sy = r->sym;
        if (sy) {
            json_t *ie = json_array();
            for (int a = 0; a < s0.rank; a++)
                json_array_append_new(ie, json_string(sy->input_expr[a] ? sy->input_expr[a] : ""));
            json_object_set_new(j, "input_expr", ie);
            json_object_set_new(j, "valid_sizes", valid_sizes_json(g, sy));
        }
        json_t *layers = json_array();
        for (int i = 0; i < ck_graph_num_layers(g); i++) {
            ck_layer_info li = ck_graph_layer(g, i);
            json_t *lj = ck_rp_layer_json(&li);
            if (sy && li.state == CK_LAYER_OK && i < sy->n_layers && sy->expr[i * CK_MAX_RANK]) {
                /* integers where the size is fixed, null where symbolic */
                json_t *os = json_array(), *oe = json_array();
                for (int a = 0; a < li.output.rank; a++) {
                    bool v = sy->varies[i * CK_MAX_RANK + a];
                    json_array_append_new(os, v ? json_null() : json_integer(li.output.d[a]));
                    json_array_append_new(oe, json_string(sy->expr[i * CK_MAX_RANK + a]));
                }
                json_object_set_new(lj, "output_shape", os);
                json_object_set_new(lj, "output_expr", oe);
            }
            json_array_append_new(layers, lj);
        }
        json_object_set_new(j, "layers", layers);
        json_object_set_new(j, "outputs", outputs_json(g, sy));
        json_object_set_new(j, "diagnostics", ck_rp_diags_json(d, at, &fx));
        if (have_df) json_object_set_new(j, "as", diffs_json(&df));
        ck_rp_add_json(s, j);
    } else {
        check_text(s, o->model, g, d, st, o->color, r->sym);
        if (have_df) diffs_text(s, &df);
    }
    ck_dialect_diffs_free(&df);
    ck_fixes_free(&fx);
    return st;
}
