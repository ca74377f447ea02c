/* The check report: shapes through every layer, each failure explained with
 * its verified fixes, and (--as) the layers whose result differs under
 * another framework's rules. */
#include "analyze/analyze.h"
#include "report/report.h"

#include <string.h>

static void check_text(ck_str *s, const char *model, const ck_graph *g, const ck_diags *d,
                       ck_status st, bool color) {
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
        ck_str_addf(s, "  %-*s  %-*s  %s\n", (int)wname, ck_graph_input_name(g, i), (int)wtype,
                    "Input", ck_shape_str(&sh, buf, sizeof buf));
    }
    int unreached = 0;
    for (int i = 0; i < n; i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        unreached += li.state == CK_LAYER_NOT_REACHED;
        ck_str_addf(s, "  %-*s  %-*s  %s\n", (int)wname, li.name, (int)wtype, li.type,
                    ck_rp_state_text(li.state, &li.output, buf, sizeof buf, "not reached"));
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
    if (st == CK_OK) {
        ck_layer_info last = ck_graph_layer(g, n - 1);
        ck_str_addf(s, "ok: %d layer%s, output %s\n", n, n == 1 ? "" : "s",
                    ck_shape_str(&last.output, buf, sizeof buf));
    } else {
        int e = ck_diags_errors(d);
        ck_str_addf(s, "invalid: %d error%s\n", e, e == 1 ? "" : "s");
    }
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
        json_t *layers = json_array();
        for (int i = 0; i < ck_graph_num_layers(g); i++) {
            ck_layer_info li = ck_graph_layer(g, i);
            json_array_append_new(layers, ck_rp_layer_json(&li));
        }
        json_object_set_new(j, "layers", layers);
        json_object_set_new(j, "diagnostics", ck_rp_diags_json(d, at, &fx));
        if (have_df) json_object_set_new(j, "as", diffs_json(&df));
        ck_rp_add_json(s, j);
    } else {
        check_text(s, o->model, g, d, st, o->color);
        if (have_df) diffs_text(s, &df);
    }
    ck_dialect_diffs_free(&df);
    ck_fixes_free(&fx);
    return st;
}
