/* convkit summary: a torchinfo-style table of layers, shapes, parameters,
 * MACs and memory; also as JSON and Markdown. */
#include "cli/cli.h"

#include <string.h>

static const char usage[] =
    "usage: convkit summary MODEL [--input SHAPE] [--format table|json|md] [--json]\n"
    "\n"
    "One row per layer: name (type), output shape, parameters, multiply-accumulates\n"
    "(MACs) and other operations (comparisons, additions, activations), then totals\n"
    "and memory in MB (float32). Transposed convolutions are counted on their input\n"
    "grid; grouped and depthwise convolutions per group.\n"
    "exit status: 0 valid, 1 invalid model, 2 bad usage or unreadable file\n";

/* 1234567 -> "1,234,567" */
static const char *commas(int64_t v, char *buf, size_t n) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v));
    size_t len = strlen(tmp), o = 0;
    if (v < 0 && o < n - 1) buf[o++] = '-';
    for (size_t i = 0; i < len && o < n - 1; i++) {
        if (i && (len - i) % 3 == 0 && o < n - 1) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

/* 1.23G, 45.6M, 789.0K */
static const char *human(int64_t v, char *buf, size_t n) {
    double x = (double)v;
    if (x >= 1e9)
        snprintf(buf, n, "%.2fG", x / 1e9);
    else if (x >= 1e6)
        snprintf(buf, n, "%.2fM", x / 1e6);
    else if (x >= 1e3)
        snprintf(buf, n, "%.2fK", x / 1e3);
    else
        snprintf(buf, n, "%lld", (long long)v);
    return buf;
}

static bool is_chain(const ck_graph *g) {
    const char *prev = ck_graph_input_name(g, 0);
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        if (li.n_inputs != 1 || strcmp(li.inputs[0], prev) != 0) return false;
        prev = li.name;
    }
    return true;
}

static void print_table(const cli_opts *o, const ck_graph *g, bool md) {
    int n = ck_graph_num_layers(g);
    bool chain = is_chain(g);
    char a[64], b[64], c[64], d[256];
    int wname = 12;
    for (int i = 0; i < n; i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        int w = (int)(strlen(li.name) + strlen(li.type) + 3);
        if (w > wname) wname = w;
    }
    if (wname > 60) wname = 60;
    int wshape = 20;
    int total_w = wname + wshape + 15 + 15 + 15 + 6 + (chain ? 0 : 24);
    if (md) {
        printf("| Layer (type) | Output shape | Params | MACs | Other ops |%s\n",
               chain ? "" : " Connected to |");
        printf("|---|---|---:|---:|---:|%s\n", chain ? "" : "---|");
    } else {
        printf("model: %s (%s)\n", o->model, ck_dialect_name(ck_graph_dialect(g)));
        for (int i = 0; i < total_w; i++) putchar('=');
        printf("\n%-*s  %-*s  %13s  %13s  %13s%s\n", wname, "Layer (type)", wshape, "Output Shape",
               "Param #", "MACs", "Other ops", chain ? "" : "  Connected to");
        for (int i = 0; i < total_w; i++) putchar('=');
        putchar('\n');
    }
    for (int i = 0; i < ck_graph_num_inputs(g); i++) {
        ck_shape s = ck_graph_input_shape(g, i);
        char nm[160];
        snprintf(nm, sizeof nm, "%s (Input)", ck_graph_input_name(g, i));
        if (md)
            printf("| %s | %s | | | |%s\n", nm, ck_shape_str(&s, d, sizeof d), chain ? "" : " |");
        else
            printf("%-*s  %-*s  %13s  %13s  %13s\n", wname, nm, wshape,
                   ck_shape_str(&s, d, sizeof d), "", "", "");
    }
    for (int i = 0; i < n; i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        char nm[200], conn[256] = "";
        snprintf(nm, sizeof nm, "%s (%s)", li.name, li.type);
        const char *shape = li.state == CK_LAYER_OK       ? ck_shape_str(&li.output, d, sizeof d)
                            : li.state == CK_LAYER_FAILED ? "FAILED"
                                                          : "--";
        size_t off = 0;
        for (int k = 0; k < li.n_inputs && off < sizeof conn - 1; k++)
            off += (size_t)snprintf(conn + off, sizeof conn - off, "%s%s", k ? ", " : "",
                                    li.inputs[k]);
        bool known = li.state == CK_LAYER_OK;
        if (md)
            printf("| %s | %s | %s | %s | %s |%s%s%s\n", nm, shape,
                   known ? commas(li.params, a, sizeof a) : "",
                   known ? commas(li.macs, b, sizeof b) : "",
                   known ? commas(li.ops, c, sizeof c) : "", chain ? "" : " ", chain ? "" : conn,
                   chain ? "" : " |");
        else
            printf("%-*s  %-*s  %13s  %13s  %13s%s%s\n", wname, nm, wshape, shape,
                   known ? commas(li.params, a, sizeof a) : "--",
                   known ? commas(li.macs, b, sizeof b) : "--",
                   known ? commas(li.ops, c, sizeof c) : "--", chain ? "" : "  ",
                   chain ? "" : conn);
    }
    ck_totals t = ck_graph_totals(g);
    double mb = 1024.0 * 1024.0;
    if (md) {
        printf("\n| Total | |\n|---|---:|\n");
        printf("| Params | %s |\n| MACs | %s (%s) |\n| Other ops | %s |\n",
               commas(t.params, a, sizeof a), commas(t.macs, b, sizeof b),
               human(t.macs, c, sizeof c), commas(t.ops, d, sizeof d));
        printf("| Input size (MB) | %.2f |\n| Activations (MB) | %.2f |\n| Params size (MB) | %.2f "
               "|\n",
               t.input_bytes / mb, t.activation_bytes / mb, t.param_bytes / mb);
        printf("| Estimated total size (MB) | %.2f |\n",
               (t.input_bytes + t.activation_bytes + t.param_bytes) / mb);
        return;
    }
    for (int i = 0; i < total_w; i++) putchar('=');
    printf("\nTotal params: %s\n", commas(t.params, a, sizeof a));
    printf("Total MACs: %s (%s)\n", commas(t.macs, a, sizeof a), human(t.macs, b, sizeof b));
    printf("Total other ops: %s (%s)\n", commas(t.ops, a, sizeof a), human(t.ops, b, sizeof b));
    for (int i = 0; i < total_w; i++) putchar('-');
    printf("\nInput size (MB): %.2f\n", t.input_bytes / mb);
    printf("Forward activations (MB): %.2f\n", t.activation_bytes / mb);
    printf("Params size (MB): %.2f\n", t.param_bytes / mb);
    printf("Estimated total size (MB): %.2f\n",
           (t.input_bytes + t.activation_bytes + t.param_bytes) / mb);
    for (int i = 0; i < total_w; i++) putchar('=');
    putchar('\n');
}

static json_t *summary_json(const cli_opts *o, const ck_graph *g, bool ok, const ck_diags *dg) {
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string(o->model));
    json_object_set_new(j, "dialect", json_string(ck_dialect_name(ck_graph_dialect(g))));
    ck_shape s0 = ck_graph_input_shape(g, 0);
    json_object_set_new(j, "input", shape_json(&s0));
    json_object_set_new(j, "inputs", inputs_json(g));
    json_object_set_new(j, "ok", json_boolean(ok));
    json_t *layers = json_array();
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        json_array_append_new(layers, layer_json(&li));
    }
    json_object_set_new(j, "layers", layers);
    ck_totals t = ck_graph_totals(g);
    json_t *tot = json_object();
    json_object_set_new(tot, "params", json_integer(t.params));
    json_object_set_new(tot, "macs", json_integer(t.macs));
    json_object_set_new(tot, "ops", json_integer(t.ops));
    json_object_set_new(tot, "input_bytes", json_integer(t.input_bytes));
    json_object_set_new(tot, "activation_bytes", json_integer(t.activation_bytes));
    json_object_set_new(tot, "param_bytes", json_integer(t.param_bytes));
    json_object_set_new(j, "totals", tot);
    json_object_set_new(j, "diagnostics", diags_json(dg));
    return j;
}

int cmd_summary(int argc, char **argv) {
    cli_opts o;
    int rc = cli_parse(argc, argv, &o, NULL, NULL, NULL, usage);
    if (rc) return rc < 0 ? 0 : rc;
    const char *fmt = o.format ? o.format : (o.json ? "json" : "table");
    if (strcmp(fmt, "table") && strcmp(fmt, "json") && strcmp(fmt, "md")) {
        fprintf(stderr, "convkit: --format must be table, json or md (got '%s')\n", fmt);
        return EXIT_USAGE;
    }
    if (!strcmp(fmt, "json")) o.json = true;
    ck_diags d = {0};
    int code;
    ck_status st;
    ck_graph *g = cli_load_checked(&o, &d, &st, &code);
    if (!g) {
        ck_diags_free(&d);
        return code;
    }
    if (o.json) {
        print_json(summary_json(&o, g, st == CK_OK, &d));
    } else {
        print_table(&o, g, !strcmp(fmt, "md"));
        if (ck_diags_errors(&d)) {
            putchar('\n');
            render_diags_text(stdout, &d);
        }
    }
    ck_diags_free(&d);
    ck_graph_free(g);
    return st == CK_OK ? EXIT_VALID : EXIT_INVALID;
}
