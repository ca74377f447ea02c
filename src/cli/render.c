/* Rendering diagnostics and layer records as text and JSON. */
#include "cli/cli.h"

#include <string.h>
#include <unistd.h>

static const char *sev_name(ck_severity s) {
    return s == CK_SEV_ERROR ? "error" : s == CK_SEV_WARNING ? "warning" : "note";
}

void render_diag_text(FILE *f, const ck_diag *dg, bool color) {
    const char *on = "", *off = "";
    if (color) {
        on = dg->severity == CK_SEV_ERROR ? "\033[1;31m" : "\033[1;33m";
        off = "\033[0m";
    }
    if (dg->file && dg->line > 0)
        fprintf(f, "%s:%d:%d: %s%s%s: %s\n", dg->file, dg->line, dg->col, on,
                sev_name(dg->severity), off, dg->message ? dg->message : "");
    else if (dg->layer)
        fprintf(f, "%s%s%s: %s%s%s%s: %s\n", on, sev_name(dg->severity), off, dg->layer,
                dg->op ? " (" : "", dg->op ? dg->op : "", dg->op ? ")" : "",
                dg->message ? dg->message : "");
    else
        fprintf(f, "%s%s%s: %s\n", on, sev_name(dg->severity), off, dg->message ? dg->message : "");
    if (dg->input) fprintf(f, "  %s\n", dg->input);
    if (dg->formula) fprintf(f, "  %s\n", dg->formula);
    if (dg->shrink) fprintf(f, "  %s\n", dg->shrink);
    for (int i = 0; i < dg->n_notes; i++) fprintf(f, "  %s\n", dg->notes[i]);
    if (dg->n_fixes) {
        fprintf(f, "fixes, each re-checked on the whole network:\n");
        for (int i = 0; i < dg->n_fixes; i++) fprintf(f, "  %s\n", dg->fixes[i]);
    }
}

void render_diags_text(FILE *f, const ck_diags *d) {
    bool color = isatty(fileno(f)) && !getenv("NO_COLOR");
    /* errors first, then warnings */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < d->n; i++)
            if ((d->v[i].severity == CK_SEV_ERROR) == (pass == 0))
                render_diag_text(f, &d->v[i], color);
}

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

json_t *diag_json(const ck_diag *dg) {
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
    json_t *fixes = json_array();
    for (int i = 0; i < dg->n_fixes; i++) json_array_append_new(fixes, json_string(dg->fixes[i]));
    json_object_set_new(o, "fixes", fixes);
    if (dg->file) {
        json_object_set_new(o, "file", json_string(dg->file));
        json_object_set_new(o, "line", json_integer(dg->line));
        json_object_set_new(o, "col", json_integer(dg->col));
    }
    return o;
}

json_t *diags_json(const ck_diags *d) {
    json_t *a = json_array();
    for (int i = 0; i < d->n; i++) json_array_append_new(a, diag_json(&d->v[i]));
    return a;
}

json_t *shape_json(const ck_shape *s) {
    json_t *a = json_array();
    for (int i = 0; i < s->rank; i++) json_array_append_new(a, json_integer(s->d[i]));
    return a;
}

json_t *layer_json(const ck_layer_info *li) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(li->name));
    json_object_set_new(o, "op", json_string(li->type));
    json_object_set_new(o, "canonical_op", json_string(li->op));
    json_t *ins = json_array();
    for (int k = 0; k < li->n_inputs; k++) json_array_append_new(ins, json_string(li->inputs[k]));
    json_object_set_new(o, "inputs", ins);
    json_object_set_new(o, "status", json_string(layer_state_name(li->state)));
    json_object_set_new(o, "output_shape",
                        li->state == CK_LAYER_OK ? shape_json(&li->output) : json_null());
    json_object_set_new(o, "params", json_integer(li->params));
    json_object_set_new(o, "macs", json_integer(li->macs));
    json_object_set_new(o, "ops", json_integer(li->ops));
    if (li->line) json_object_set_new(o, "line", json_integer(li->line));
    return o;
}

void print_json(json_t *o) {
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(o);
}

json_t *failure_json(const cli_opts *o, const ck_diags *d) {
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string(o->model));
    json_object_set_new(j, "ok", json_false());
    json_object_set_new(j, "layers", json_array());
    json_object_set_new(j, "diagnostics", diags_json(d));
    return j;
}
