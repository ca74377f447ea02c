/* The summary report: a torchinfo-style table of layers, shapes,
 * parameters, MACs, receptive fields and memory; also as JSON, Markdown and
 * (svg.c) an SVG picture. */
#include "report/report.h"

#include <math.h>
#include <string.h>

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

/* 435, 3.5, -0.25 */
static void add_num(ck_str *s, double v) {
    if (v == floor(v) && fabs(v) < 1e15)
        ck_str_addf(s, "%lld", (long long)v);
    else
        ck_str_addf(s, "%.6g", v);
}

enum { RF_SIZE, RF_JUMP, RF_START };

/* One axis: "435", "6, 7" (one entry per alignment), "global", "?", "-". */
static void axis_text(ck_str *s, const ck_rf_axis *a, int what) {
    switch (a->kind) {
    case CK_RF_NONE:
        ck_str_add(s, "-");
        return;
    case CK_RF_UNKNOWN:
        ck_str_add(s, "?");
        return;
    case CK_RF_GLOBAL:
        ck_str_add(s, what == RF_SIZE ? "global" : "-");
        return;
    case CK_RF_LOCAL:
        for (int i = 0; i < a->n_paths; i++) {
            const ck_rf_path *p = &a->paths[i];
            if (i) ck_str_add(s, ", ");
            add_num(s, what == RF_SIZE ? p->size : what == RF_JUMP ? p->jump : p->start);
        }
        if (a->more_paths) ck_str_add(s, ", ...");
        return;
    }
}

/* All axes: one text when they agree, else "h x w". Caller frees. */
static char *rf_text(const ck_rf *rf, int what) {
    ck_str s = {0};
    if (rf->nsp == 0) return ck_strdup("-");
    char *first = NULL;
    bool same = true;
    for (int q = 0; q < rf->nsp; q++) {
        ck_str a = {0};
        axis_text(&a, &rf->axis[q], what);
        if (q) ck_str_add(&s, " x ");
        ck_str_add(&s, a.p ? a.p : "");
        if (!q)
            first = ck_str_take(&a);
        else
            same &= first && a.p && !strcmp(first, a.p);
        ck_str_free(&a);
    }
    if (same) {
        ck_str_free(&s);
        return first;
    }
    free(first);
    return ck_str_take(&s);
}

static bool rf_aligned(const ck_rf *rf) {
    for (int q = 0; q < rf->nsp; q++)
        if (rf->axis[q].kind == CK_RF_LOCAL && (rf->axis[q].n_paths > 1 || rf->axis[q].more_paths))
            return false;
    return true;
}

static bool rf_has_data(const ck_rf *rf) {
    for (int q = 0; q < rf->nsp; q++)
        if (rf->axis[q].kind != CK_RF_NONE) return true;
    return false;
}

/* The three cells of a layer. At a join of aligned paths of different
 * sizes, the size cell also lists each operand's ("435 (paths 435, 307)"). */
static void rf_cells(const ck_graph *g, const ck_rf_table *rt, int layer, const char *dash,
                     char **cell) {
    ck_rf rf;
    if (!rt || ck_rf_layer(rt, layer, &rf) != CK_OK ||
        ck_graph_layer(g, layer).state != CK_LAYER_OK) {
        for (int k = 0; k < 3; k++) cell[k] = ck_strdup(dash);
        return;
    }
    for (int k = 0; k < 3; k++) cell[k] = rf_text(&rf, k);
    ck_str s = {0};
    ck_str_add(&s, cell[RF_SIZE] ? cell[RF_SIZE] : "");
    if (!rf_aligned(&rf)) {
        ck_str_add(&s, " (not aligned)");
    } else {
        ck_layer_info li = ck_graph_layer(g, layer);
        int n = 0;
        bool differ = false;
        char *prev = NULL;
        ck_str paths = {0};
        for (int k = 0; k < li.n_inputs; k++) {
            ck_rf o;
            if (ck_rf_operand(rt, layer, k, &o) != CK_OK || !rf_has_data(&o)) continue;
            char *t = rf_text(&o, RF_SIZE);
            ck_str_addf(&paths, "%s%s", n++ ? ", " : "", t ? t : "?");
            if (prev && t && strcmp(prev, t)) differ = true;
            free(prev);
            prev = t;
        }
        free(prev);
        if (n > 1 && differ) ck_str_addf(&s, " (paths %s)", paths.p);
        ck_str_free(&paths);
    }
    free(cell[RF_SIZE]);
    cell[RF_SIZE] = ck_str_take(&s);
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

/* Layers a failure kept from being checked: the totals leave them out. */
static int not_reached(const ck_graph *g) {
    int n = 0;
    for (int i = 0; i < ck_graph_num_layers(g); i++) n += ck_graph_layer(g, i).state != CK_LAYER_OK;
    return n;
}

static void rule(ck_str *s, char c, int n) {
    for (int i = 0; i < n; i++) ck_str_addf(s, "%c", c);
    ck_str_add(s, "\n");
}

static void table(ck_str *out, const char *model, const ck_graph *g, const ck_rf_table *rt,
                  bool md) {
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
    /* receptive field cells first: their widths size the columns */
    char *(*rc)[3] = calloc(n > 0 ? (size_t)n : 1, sizeof *rc);
    if (!rc) return;
    int wrf = 15, wj = 4, ws = 5;
    for (int i = 0; i < n; i++) {
        rf_cells(g, rt, i, md ? "" : "--", rc[i]);
        int l0 = (int)strlen(rc[i][0]), l1 = (int)strlen(rc[i][1]), l2 = (int)strlen(rc[i][2]);
        if (l0 > wrf) wrf = l0;
        if (l1 > wj) wj = l1;
        if (l2 > ws) ws = l2;
    }
    int wshape = 20;
    int total_w = wname + wshape + 15 + 15 + 15 + 6 + wrf + wj + ws + 6 + (chain ? 0 : 24);
    if (md) {
        ck_str_addf(
            out,
            "| Layer (type) | Output shape | Params | MACs | Other ops | Receptive field | Jump "
            "| Start |%s\n",
            chain ? "" : " Connected to |");
        ck_str_addf(out, "|---|---|---:|---:|---:|---:|---:|---:|%s\n", chain ? "" : "---|");
    } else {
        ck_str_addf(out, "model: %s (%s)\n", model, ck_dialect_name(ck_graph_dialect(g)));
        rule(out, '=', total_w);
        ck_str_addf(out, "%-*s  %-*s  %13s  %13s  %13s  %*s  %*s  %*s%s\n", wname, "Layer (type)",
                    wshape, "Output Shape", "Param #", "MACs", "Other ops", wrf, "Receptive field",
                    wj, "Jump", ws, "Start", chain ? "" : "  Connected to");
        rule(out, '=', total_w);
    }
    for (int i = 0; i < ck_graph_num_inputs(g); i++) {
        ck_shape s = ck_graph_input_shape(g, i);
        char nm[160];
        snprintf(nm, sizeof nm, "%s (Input)", ck_graph_input_name(g, i));
        if (md)
            ck_str_addf(out, "| %s | %s | | | | | | |%s\n", nm, ck_shape_str(&s, d, sizeof d),
                        chain ? "" : " |");
        else
            ck_str_addf(out, "%-*s  %-*s\n", wname, nm, wshape, ck_shape_str(&s, d, sizeof d));
    }
    for (int i = 0; i < n; i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        char nm[200], conn[256] = "";
        snprintf(nm, sizeof nm, "%s (%s)", li.name, li.type);
        const char *shape = ck_rp_state_text(li.state, &li.output, d, sizeof d, "--");
        size_t off = 0;
        for (int k = 0; k < li.n_inputs && off < sizeof conn - 1; k++)
            off += (size_t)snprintf(conn + off, sizeof conn - off, "%s%s", k ? ", " : "",
                                    li.inputs[k]);
        bool known = li.state == CK_LAYER_OK;
        if (md)
            ck_str_addf(out, "| %s | %s | %s | %s | %s | %s | %s | %s |%s%s%s\n", nm, shape,
                        known ? commas(li.params, a, sizeof a) : "",
                        known ? commas(li.macs, b, sizeof b) : "",
                        known ? commas(li.ops, c, sizeof c) : "", rc[i][0], rc[i][1], rc[i][2],
                        chain ? "" : " ", chain ? "" : conn, chain ? "" : " |");
        else
            ck_str_addf(out, "%-*s  %-*s  %13s  %13s  %13s  %*s  %*s  %*s%s%s\n", wname, nm, wshape,
                        shape, known ? commas(li.params, a, sizeof a) : "--",
                        known ? commas(li.macs, b, sizeof b) : "--",
                        known ? commas(li.ops, c, sizeof c) : "--", wrf, rc[i][0], wj, rc[i][1], ws,
                        rc[i][2], chain ? "" : "  ", chain ? "" : conn);
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) free(rc[i][k]);
    free(rc);
    ck_totals t = ck_graph_totals(g);
    int unreached = not_reached(g);
    double mb = 1024.0 * 1024.0;
    if (md) {
        ck_str_addf(out, "\n| Total | |\n|---|---:|\n");
        if (unreached)
            ck_str_addf(out, "| Partial | %d layer%s not reached |\n", unreached,
                        unreached == 1 ? "" : "s");
        ck_str_addf(out, "| Params | %s |\n| MACs | %s (%s) |\n| Other ops | %s |\n",
                    commas(t.params, a, sizeof a), commas(t.macs, b, sizeof b),
                    human(t.macs, c, sizeof c), commas(t.ops, d, sizeof d));
        ck_str_addf(
            out,
            "| Input size (MB) | %.2f |\n| Activations (MB) | %.2f |\n| Params size (MB) | %.2f "
            "|\n",
            t.input_bytes / mb, t.activation_bytes / mb, t.param_bytes / mb);
        ck_str_addf(out, "| Estimated total size (MB) | %.2f |\n",
                    (t.input_bytes + t.activation_bytes + t.param_bytes) / mb);
        return;
    }
    rule(out, '=', total_w);
    if (unreached)
        ck_str_addf(out,
                    "partial: %d layer%s not reached (downstream of a failure); the totals "
                    "count only the layers checked\n",
                    unreached, unreached == 1 ? "" : "s");
    ck_str_addf(out, "Total params: %s\n", commas(t.params, a, sizeof a));
    ck_str_addf(out, "Total MACs: %s (%s)\n", commas(t.macs, a, sizeof a),
                human(t.macs, b, sizeof b));
    ck_str_addf(out, "Total other ops: %s (%s)\n", commas(t.ops, a, sizeof a),
                human(t.ops, b, sizeof b));
    rule(out, '-', total_w);
    ck_str_addf(out, "Input size (MB): %.2f\n", t.input_bytes / mb);
    ck_str_addf(out, "Forward activations (MB): %.2f\n", t.activation_bytes / mb);
    ck_str_addf(out, "Params size (MB): %.2f\n", t.param_bytes / mb);
    ck_str_addf(out, "Estimated total size (MB): %.2f\n",
                (t.input_bytes + t.activation_bytes + t.param_bytes) / mb);
    rule(out, '=', total_w);
}

/* ---- JSON ----------------------------------------------------------------- */

static json_t *num_json(double v) {
    if (v == floor(v) && fabs(v) < 9e15) return json_integer((json_int_t)v);
    return json_real(v);
}

static const char *kind_name(ck_rf_kind k) {
    switch (k) {
    case CK_RF_LOCAL:
        return "local";
    case CK_RF_GLOBAL:
        return "global";
    case CK_RF_UNKNOWN:
        return "unknown";
    default:
        return "none";
    }
}

/* "size", "jump", "start": one number per axis when every axis is local and
 * aligned, else null; "axes" has every path. */
static json_t *rf_json(const ck_graph *g, const ck_rf *rf) {
    json_t *o = json_object();
    const char *status = "none";
    bool any_unknown = false, any_global = false, all_local = rf->nsp > 0;
    for (int q = 0; q < rf->nsp; q++) {
        any_unknown |= rf->axis[q].kind == CK_RF_UNKNOWN;
        any_global |= rf->axis[q].kind == CK_RF_GLOBAL;
        all_local &= rf->axis[q].kind == CK_RF_LOCAL;
    }
    if (any_unknown)
        status = "unknown";
    else if (!rf_aligned(rf))
        status = "not_aligned";
    else if (any_global)
        status = "global";
    else if (all_local)
        status = "local";
    json_object_set_new(o, "status", json_string(status));
    const char *keys[] = {"size", "jump", "start"};
    for (int k = 0; k < 3; k++) {
        if (strcmp(status, "local")) {
            json_object_set_new(o, keys[k], json_null());
            continue;
        }
        json_t *arr = json_array();
        for (int q = 0; q < rf->nsp; q++) {
            const ck_rf_path *p = &rf->axis[q].paths[0];
            json_array_append_new(arr, num_json(k == 0 ? p->size : k == 1 ? p->jump : p->start));
        }
        json_object_set_new(o, keys[k], arr);
    }
    json_t *axes = json_array();
    for (int q = 0; q < rf->nsp; q++) {
        const ck_rf_axis *a = &rf->axis[q];
        json_t *ax = json_object();
        json_object_set_new(ax, "axis", json_string(a->name));
        json_object_set_new(ax, "kind", json_string(kind_name(a->kind)));
        json_t *paths = json_array();
        for (int i = 0; i < a->n_paths; i++) {
            json_t *p = json_object();
            json_object_set_new(p, "size", num_json(a->paths[i].size));
            json_object_set_new(p, "jump", num_json(a->paths[i].jump));
            json_object_set_new(p, "start", num_json(a->paths[i].start));
            json_object_set_new(p, "input", json_string(ck_graph_input_name(g, a->paths[i].input)));
            json_array_append_new(paths, p);
        }
        json_object_set_new(ax, "paths", paths);
        if (a->more_paths) json_object_set_new(ax, "more_paths", json_true());
        json_array_append_new(axes, ax);
    }
    json_object_set_new(o, "axes", axes);
    return o;
}

/* The layer's receptive field, and at a join each operand's. */
static json_t *layer_rf_json(const ck_graph *g, const ck_rf_table *rt, int i) {
    ck_rf rf;
    if (!rt || ck_rf_layer(rt, i, &rf) != CK_OK) return json_null();
    json_t *o = rf_json(g, &rf);
    ck_layer_info li = ck_graph_layer(g, i);
    json_t *ops = json_array();
    for (int k = 0; k < li.n_inputs; k++) {
        ck_rf r;
        if (ck_rf_operand(rt, i, k, &r) != CK_OK || !rf_has_data(&r)) continue;
        json_t *x = json_object(), *v = rf_json(g, &r);
        json_object_set_new(x, "input", json_string(li.inputs[k]));
        json_object_update(x, v);
        json_decref(v);
        json_array_append_new(ops, x);
    }
    if (json_array_size(ops) > 1)
        json_object_set_new(o, "operands", ops);
    else
        json_decref(ops);
    return o;
}

static json_t *summary_json(const char *model, const ck_graph *g, const ck_rf_table *rt, bool ok,
                            const ck_diags *dg) {
    ck_shape s0 = ck_graph_input_shape(g, 0);
    json_t *j = ck_rp_doc_json(model, g, &s0);
    json_object_set_new(j, "inputs", ck_rp_inputs_json(g));
    json_object_set_new(j, "ok", json_boolean(ok));
    json_t *layers = json_array();
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        json_t *lj = ck_rp_layer_json(&li);
        json_object_set_new(lj, "receptive_field", layer_rf_json(g, rt, i));
        json_array_append_new(layers, lj);
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
    /* a failure stops its downstream: those layers are not counted */
    json_object_set_new(tot, "partial", json_boolean(not_reached(g) > 0));
    json_object_set_new(tot, "not_reached", json_integer(not_reached(g)));
    json_object_set_new(j, "totals", tot);
    json_object_set_new(j, "diagnostics", ck_rp_diags_json(dg, -1, NULL));
    return j;
}

ck_status ck_rp_summary(const ck_graph *g, ck_diags *d, ck_status st, const ck_rp_request *r,
                        ck_str *s) {
    /* receptive fields are extra: without them (out of memory) the rest still renders */
    ck_rf_table *rt = NULL;
    ck_rf_analyze(g, &rt);
    const char *model = r->opt.model;
    if (r->fmt == CK_FORMAT_JSON) {
        ck_rp_add_json(s, summary_json(model, g, rt, st == CK_OK, d));
    } else if (r->fmt == CK_FORMAT_SVG) {
        ck_rp_svg(s, model, g, d, rt);
    } else {
        table(s, model, g, rt, r->fmt == CK_FORMAT_MD);
        /* symbolic sizes: the note says at which size the table is */
        if (ck_diags_errors(d) || r->sym) {
            ck_str_add(s, "\n");
            ck_rp_diags_text(s, d, r->opt.color);
        }
    }
    ck_rf_table_free(rt);
    return st;
}
