/* convkit check: shapes through every layer, each failure explained. */
#include "cli/cli.h"

#include <string.h>

static const char usage[] =
    "usage: convkit check MODEL [--input SHAPE] [--json]\n"
    "\n"
    "Propagates shapes through every layer and reports each failing layer:\n"
    "which axis, the formula with the numbers, and how the axis shrank.\n"
    "\n"
    "  --input SHAPE   input shape, 1x3x224x224 or [1,3,224,224]; NAME=SHAPE for\n"
    "                  a named input; repeat for several inputs\n"
    "  --json          print one JSON object (model, dialect, input, ok, layers, diagnostics)\n"
    "  --as FRAMEWORK  also check under pytorch, keras or onnx rules and list every layer\n"
    "                  whose output differs (ceil_mode pooling, 'same' with a stride, ...)\n"
    "  --max-nodes N   refuse models with more than N layers (default 100000); also\n"
    "                  --max-file-bytes, --max-depth, --max-string, --max-elements,\n"
    "                  --max-sizes (see README, Limits)\n"
    "exit status: 0 valid, 1 invalid model, 2 bad usage or unreadable file\n";

json_t *inputs_json(const ck_graph *g) {
    json_t *a = json_array();
    for (int i = 0; i < ck_graph_num_inputs(g); i++) {
        json_t *o = json_object();
        ck_shape s = ck_graph_input_shape(g, i);
        json_object_set_new(o, "name", json_string(ck_graph_input_name(g, i)));
        json_object_set_new(o, "shape", shape_json(&s));
        json_object_set_new(
            o, "layout",
            json_string(ck_graph_input_channels_last(g, i) ? "channels_last" : "channels_first"));
        json_array_append_new(a, o);
    }
    return a;
}

static void print_text(const cli_opts *o, const ck_graph *g, const ck_diags *d, ck_status st) {
    char buf[256];
    printf("model: %s (%s)\n", o->model, ck_dialect_name(ck_graph_dialect(g)));
    int n = ck_graph_num_layers(g);
    size_t wname = 5, wtype = 4;
    for (int i = 0; i < n; i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        if (strlen(li.name) > wname) wname = strlen(li.name);
        if (strlen(li.type) > wtype) wtype = strlen(li.type);
    }
    if (wname > 48) wname = 48;
    for (int i = 0; i < ck_graph_num_inputs(g); i++) {
        ck_shape s = ck_graph_input_shape(g, i);
        printf("  %-*s  %-*s  %s\n", (int)wname, ck_graph_input_name(g, i), (int)wtype, "Input",
               ck_shape_str(&s, buf, sizeof buf));
    }
    int unreached = 0;
    for (int i = 0; i < n; i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        const char *out = li.state == CK_LAYER_OK       ? ck_shape_str(&li.output, buf, sizeof buf)
                          : li.state == CK_LAYER_FAILED ? "FAILED"
                                                        : "not reached";
        unreached += li.state == CK_LAYER_NOT_REACHED;
        printf("  %-*s  %-*s  %s\n", (int)wname, li.name, (int)wtype, li.type, out);
    }
    putchar('\n');
    render_diags_text(stdout, d);
    if (unreached) {
        printf("not reached (downstream of a failure): ");
        int shown = 0;
        for (int i = 0; i < n; i++) {
            ck_layer_info li = ck_graph_layer(g, i);
            if (li.state != CK_LAYER_NOT_REACHED) continue;
            if (shown == 12) {
                printf(", ... (%d in all)", unreached);
                break;
            }
            printf("%s%s", shown++ ? ", " : "", li.name);
        }
        putchar('\n');
    }
    if (st == CK_OK) {
        const ck_graph *gg = g;
        ck_layer_info last = ck_graph_layer(gg, n - 1);
        printf("ok: %d layer%s, output %s\n", n, n == 1 ? "" : "s",
               ck_shape_str(&last.output, buf, sizeof buf));
    } else {
        printf("invalid: %d error%s\n", ck_diags_errors(d), ck_diags_errors(d) == 1 ? "" : "s");
    }
}

static bool extra(const char *opt, const char *val, void *ctx) {
    if (strcmp(opt, "--as") != 0) return false;
    *(const char **)ctx = val;
    return true;
}

static bool parse_dialect(const char *s, ck_dialect *d) {
    if (!strcmp(s, "pytorch") || !strcmp(s, "torch"))
        *d = CK_DIALECT_PYTORCH;
    else if (!strcmp(s, "keras") || !strcmp(s, "tensorflow") || !strcmp(s, "tf"))
        *d = CK_DIALECT_KERAS;
    else if (!strcmp(s, "onnx"))
        *d = CK_DIALECT_ONNX;
    else
        return false;
    return true;
}

static const char *side_text(ck_layer_state st, const ck_shape *s, char *buf, size_t n) {
    return st == CK_LAYER_OK       ? ck_shape_str(s, buf, n)
           : st == CK_LAYER_FAILED ? "FAILED"
                                   : "not reached";
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
        json_object_set_new(e, "state", json_string(layer_state_name(r->state_a)));
        json_object_set_new(e, "output_shape",
                            r->state_a == CK_LAYER_OK ? shape_json(&r->out_a) : json_null());
        json_object_set_new(e, "error", r->error_a ? json_string(r->error_a) : json_null());
        json_object_set_new(e, "as_state", json_string(layer_state_name(r->state_b)));
        json_object_set_new(e, "as_output_shape",
                            r->state_b == CK_LAYER_OK ? shape_json(&r->out_b) : json_null());
        json_object_set_new(e, "as_error", r->error_b ? json_string(r->error_b) : json_null());
        json_array_append_new(a, e);
    }
    json_object_set_new(o, "differences", a);
    json_object_set_new(o, "not_reached", json_integer(df->not_reached_b));
    return o;
}

static void print_diffs(const ck_dialect_diffs *df) {
    char ba[256], bb[256];
    const char *na = ck_dialect_name(df->a), *nb = ck_dialect_name(df->b);
    printf("\nunder %s rules: ", nb);
    if (df->n == 0) {
        printf("every layer gives the same result as under %s rules\n", na);
        return;
    }
    printf("%d layer%s differ%s from %s\n", df->n, df->n == 1 ? "" : "s", df->n == 1 ? "s" : "",
           na);
    for (int i = 0; i < df->n; i++) {
        const ck_dialect_diff *r = &df->v[i];
        printf("  %s (%s): %s %s, %s %s\n", r->layer, r->type, na,
               side_text(r->state_a, &r->out_a, ba, sizeof ba), nb,
               side_text(r->state_b, &r->out_b, bb, sizeof bb));
        if (r->error_a) printf("    %s: %s\n", na, r->error_a);
        if (r->error_b) printf("    %s: %s\n", nb, r->error_b);
    }
    if (df->not_reached_b)
        printf("  (%d later layers not reached under %s rules)\n", df->not_reached_b, nb);
    printf("under %s rules the model is %s\n", nb, df->ok_b ? "valid" : "invalid");
}

int cmd_check(int argc, char **argv) {
    cli_opts o;
    const char *as = NULL;
    static const char *const takes[] = {"--as", NULL};
    int rc = cli_parse(argc, argv, &o, takes, extra, &as, usage);
    if (rc) return rc < 0 ? 0 : rc;
    ck_dialect as_d = CK_DIALECT_NONE;
    if (as && !parse_dialect(as, &as_d)) {
        if (o.json) {
            json_t *j = json_object();
            json_object_set_new(j, "ok", json_false());
            json_object_set_new(j, "error", json_string("usage"));
            json_object_set_new(j, "message", json_string("--as must be pytorch, keras or onnx"));
            print_json(j);
        } else {
            fprintf(stderr, "convkit: --as must be pytorch, keras or onnx (got '%s')\n", as);
        }
        return EXIT_USAGE;
    }
    ck_diags d = {0};
    int code;
    ck_status st;
    ck_graph *g = cli_load_checked(&o, &d, &st, &code);
    if (!g) {
        ck_diags_free(&d);
        return code;
    }
    if (st == CK_EINVALID) ck_attach_fixes(g, &d);
    ck_dialect_diffs df = {0};
    bool have_df = as_d != CK_DIALECT_NONE && ck_check_as(g, as_d, &df) == CK_OK;
    if (o.json) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(o.model));
        json_object_set_new(j, "dialect", json_string(ck_dialect_name(ck_graph_dialect(g))));
        ck_shape s0 = ck_graph_input_shape(g, 0);
        json_object_set_new(j, "input", shape_json(&s0));
        json_object_set_new(j, "inputs", inputs_json(g));
        json_object_set_new(j, "ok", json_boolean(st == CK_OK));
        json_t *layers = json_array();
        for (int i = 0; i < ck_graph_num_layers(g); i++) {
            ck_layer_info li = ck_graph_layer(g, i);
            json_array_append_new(layers, layer_json(&li));
        }
        json_object_set_new(j, "layers", layers);
        json_object_set_new(j, "diagnostics", diags_json(&d));
        if (have_df) json_object_set_new(j, "as", diffs_json(&df));
        print_json(j);
    } else {
        print_text(&o, g, &d, st);
        if (have_df) print_diffs(&df);
    }
    ck_dialect_diffs_free(&df);
    ck_diags_free(&d);
    ck_graph_free(g);
    return st == CK_OK ? EXIT_VALID : EXIT_INVALID;
}
