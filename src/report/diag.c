/* Diagnostics, fixes, layers and shapes as the reports write them: text
 * and JSON. */
#include "analyze/analyze.h"
#include "ops/ops.h"
#include "report/report.h"

#include <string.h>

static const char *sev_name(ck_severity s) {
    return s == CK_SEV_ERROR ? "error" : s == CK_SEV_WARNING ? "warning" : "note";
}

/* ---- text ----------------------------------------------------------------- */

static void diag_text(ck_str *s, const ck_diag *dg, bool color) {
    const char *on = "", *off = "";
    if (color) {
        on = dg->severity == CK_SEV_ERROR ? "\033[1;31m" : "\033[1;33m";
        off = "\033[0m";
    }
    const char *msg = dg->message ? dg->message : "";
    if (dg->file && dg->line > 0)
        ck_str_addf(s, "%s:%d:%d: %s%s%s: %s\n", dg->file, dg->line, dg->col, on,
                    sev_name(dg->severity), off, msg);
    else if (dg->layer)
        ck_str_addf(s, "%s%s%s: %s%s%s%s: %s\n", on, sev_name(dg->severity), off, dg->layer,
                    dg->op ? " (" : "", dg->op ? dg->op : "", dg->op ? ")" : "", msg);
    else
        ck_str_addf(s, "%s%s%s: %s\n", on, sev_name(dg->severity), off, msg);
    if (dg->input) ck_str_addf(s, "  %s\n", dg->input);
    if (dg->formula) ck_str_addf(s, "  %s\n", dg->formula);
    if (dg->shrink) ck_str_addf(s, "  %s\n", dg->shrink);
    for (int i = 0; i < dg->n_notes; i++) ck_str_addf(s, "  %s\n", dg->notes[i]);
    if (dg->n_fixes) {
        ck_str_add(s, "fixes, each re-checked on the whole network:\n");
        for (int i = 0; i < dg->n_fixes; i++) ck_str_addf(s, "  %s\n", dg->fixes[i]);
    }
}

void ck_rp_diags_text(ck_str *s, const ck_diags *d, bool color) {
    /* errors first, then warnings */
    for (int pass = 0; d && pass < 2; pass++)
        for (int i = 0; i < d->n; i++)
            if ((d->v[i].severity == CK_SEV_ERROR) == (pass == 0)) diag_text(s, &d->v[i], color);
}

const char *ck_rp_state_text(ck_layer_state st, const ck_shape *s, char *buf, size_t n,
                             const char *not_reached) {
    return st == CK_LAYER_OK       ? ck_shape_str(s, buf, n)
           : st == CK_LAYER_FAILED ? "FAILED"
                                   : not_reached;
}

/* ---- JSON ----------------------------------------------------------------- */

void ck_rp_add_json(ck_str *s, json_t *o) {
    char *t = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (t) {
        ck_str_add(s, t);
        ck_str_add(s, "\n");
        free(t);
    } else {
        s->oom = true;
    }
    json_decref(o);
}

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

json_t *ck_rp_shape_json(const ck_shape *s) {
    json_t *a = json_array();
    for (int i = 0; i < s->rank; i++) json_array_append_new(a, json_integer(s->d[i]));
    return a;
}

/* An argument value as JSON: numbers, true/false, strings, null, and
 * tuples and lists as arrays. */
static json_t *value_json(const ck_value *v) {
    if (!v) return json_null();
    switch (v->kind) {
    case CK_V_BOOL:
        return json_boolean(v->i);
    case CK_V_INT:
        return json_integer(v->i);
    case CK_V_FLOAT:
        return json_real(v->f);
    case CK_V_STR:
        return json_string(v->s ? v->s : "");
    case CK_V_LIST: {
        json_t *a = json_array();
        for (int i = 0; i < v->n; i++) json_array_append_new(a, value_json(&v->items[i]));
        return a;
    }
    default:
        return json_null();
    }
}

/* The named arguments of `layer` in the fixed graph. */
static json_t *named_args_json(const ck_fix *f, int n, char *const *names) {
    json_t *o = json_object();
    int ni = f->graph ? ck_graph_node_named(f->graph, f->layer) : -1;
    const ck_node *node = ni >= 0 ? &f->graph->nodes[ni] : NULL;
    for (int k = 0; node && node->fe && k < n; k++)
        json_object_set_new(
            o, names[k],
            value_json(ck_args_get(&node->args, ck_param_index(node->fe, names[k]), names[k])));
    return o;
}

/* Every argument given to the layer `name` of the fixed graph (an inserted one). */
static json_t *all_args_json(const ck_fix *f, const char *name) {
    json_t *o = json_object();
    int ni = f->graph && name ? ck_graph_node_named(f->graph, name) : -1;
    const ck_node *node = ni >= 0 ? &f->graph->nodes[ni] : NULL;
    const char *const *params = node && node->fe ? node->fe->params : NULL;
    for (int i = 0; params && params[i]; i++) {
        const ck_value *v = ck_args_get(&node->args, i, params[i]);
        if (v) json_object_set_new(o, params[i], value_json(v));
    }
    return o;
}

static const char *fix_kind_name(ck_fix_kind k) {
    switch (k) {
    case CK_FIX_INPUT:
        return "input";
    case CK_FIX_LAYER:
        return "layer";
    case CK_FIX_UPSTREAM:
        return "upstream";
    default:
        return "insert";
    }
}

json_t *ck_rp_fix_json(const ck_fix *f) {
    json_t *e = json_object();
    json_object_set_new(e, "kind", json_string(fix_kind_name(f->kind)));
    json_object_set_new(e, "layer", str_or_null(f->layer));
    json_object_set_new(e, "change", str_or_null(f->change));
    json_object_set_new(e, "why", str_or_null(f->why));
    json_object_set_new(e, "output_shape", ck_rp_shape_json(&f->output));
    if (f->kind == CK_FIX_INPUT) {
        json_t *a = json_object();
        ck_shape in = ck_graph_input_shape(f->graph, 0);
        json_object_set_new(a, "input", ck_rp_shape_json(&in));
        json_object_set_new(e, "args", a);
    } else if (f->kind == CK_FIX_INSERT) {
        json_object_set_new(e, "args", all_args_json(f, f->insert_name));
        json_object_set_new(e, "insert_name", str_or_null(f->insert_name));
        json_object_set_new(e, "insert_type", str_or_null(f->insert_type));
        json_object_set_new(e, "layer_args", named_args_json(f, f->n_args, f->args));
    } else {
        json_object_set_new(e, "args", named_args_json(f, f->n_args, f->args));
    }
    return e;
}

static json_t *diag_json(const ck_diag *dg, const ck_fixes *fixes) {
    json_t *o = json_object();
    json_object_set_new(o, "severity", json_string(sev_name(dg->severity)));
    json_object_set_new(o, "code", json_string(ck_code_name(dg->code)));
    json_object_set_new(o, "layer", str_or_null(dg->layer));
    json_object_set_new(o, "op", str_or_null(dg->op));
    json_object_set_new(o, "axis", str_or_null(dg->axis));
    json_object_set_new(o, "message", str_or_null(dg->message));
    json_object_set_new(o, "formula", str_or_null(dg->formula));
    json_object_set_new(o, "input", str_or_null(dg->input));
    json_object_set_new(o, "shrink", str_or_null(dg->shrink));
    json_t *notes = json_array();
    for (int i = 0; i < dg->n_notes; i++) json_array_append_new(notes, json_string(dg->notes[i]));
    json_object_set_new(o, "notes", notes);
    json_t *fx = json_array();
    for (int i = 0; i < dg->n_fixes; i++) json_array_append_new(fx, json_string(dg->fixes[i]));
    json_object_set_new(o, "fixes", fx);
    /* the structured form where it is known; a diagnostic without fixes has none */
    if (fixes || dg->n_fixes == 0) {
        json_t *det = json_array();
        for (int i = 0; fixes && i < fixes->n; i++)
            json_array_append_new(det, ck_rp_fix_json(&fixes->v[i]));
        json_object_set_new(o, "fix_details", det);
    }
    if (dg->file) {
        json_object_set_new(o, "file", json_string(dg->file));
        json_object_set_new(o, "line", json_integer(dg->line));
        json_object_set_new(o, "col", json_integer(dg->col));
    }
    return o;
}

json_t *ck_rp_diags_json(const ck_diags *d, int at, const ck_fixes *fixes) {
    json_t *a = json_array();
    for (int i = 0; d && i < d->n; i++)
        json_array_append_new(a, diag_json(&d->v[i], i == at ? fixes : NULL));
    return a;
}

const char *ck_rp_state_name(ck_layer_state st) {
    switch (st) {
    case CK_LAYER_OK:
        return "ok";
    case CK_LAYER_FAILED:
        return "failed";
    default:
        return "not_reached";
    }
}

json_t *ck_rp_layer_json(const ck_layer_info *li) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(li->name));
    json_object_set_new(o, "op", json_string(li->type));
    json_object_set_new(o, "canonical_op", json_string(li->op));
    json_t *ins = json_array();
    for (int k = 0; k < li->n_inputs; k++) json_array_append_new(ins, json_string(li->inputs[k]));
    json_object_set_new(o, "inputs", ins);
    json_object_set_new(o, "status", json_string(ck_rp_state_name(li->state)));
    json_object_set_new(o, "output_shape",
                        li->state == CK_LAYER_OK ? ck_rp_shape_json(&li->output) : json_null());
    json_object_set_new(o, "params", json_integer(li->params));
    json_object_set_new(o, "macs", json_integer(li->macs));
    json_object_set_new(o, "ops", json_integer(li->ops));
    if (li->line) json_object_set_new(o, "line", json_integer(li->line));
    return o;
}

json_t *ck_rp_inputs_json(const ck_graph *g) {
    json_t *a = json_array();
    for (int i = 0; i < ck_graph_num_inputs(g); i++) {
        json_t *o = json_object();
        ck_shape s = ck_graph_input_shape(g, i);
        json_object_set_new(o, "name", json_string(ck_graph_input_name(g, i)));
        json_object_set_new(o, "shape", ck_rp_shape_json(&s));
        json_object_set_new(
            o, "layout",
            json_string(ck_graph_input_channels_last(g, i) ? "channels_last" : "channels_first"));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *ck_rp_doc_json(const char *model, const ck_graph *g, const ck_shape *input) {
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string(model));
    json_object_set_new(j, "dialect", json_string(ck_dialect_name(ck_graph_dialect(g))));
    json_object_set_new(j, "input", ck_rp_shape_json(input));
    return j;
}

void ck_rp_failure(ck_str *s, const char *model, const ck_diags *d, ck_format fmt, bool color) {
    if (fmt != CK_FORMAT_JSON) {
        ck_rp_diags_text(s, d, color);
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string(model ? model : ""));
    json_object_set_new(j, "ok", json_false());
    json_object_set_new(j, "layers", json_array());
    json_object_set_new(j, "diagnostics", ck_rp_diags_json(d, -1, NULL));
    ck_rp_add_json(s, j);
}
