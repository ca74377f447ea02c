/* The sizes report: which input sizes every layer accepts, the clean ones,
 * who rejects the rest, and the output size as a function of the input. */
#include "report/report.h"

#include <string.h>
#include <time.h>

json_t *ck_rp_runs_json(const ck_runs *r) {
    json_t *a = json_array();
    for (int i = 0; i < r->n; i++)
        json_array_append_new(
            a, json_pack("[II]", (json_int_t)r->v[i].first, (json_int_t)r->v[i].last));
    return a;
}

static json_t *failures_json(int n, const ck_size_failure *f) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "layer", json_string(f[i].layer));
        json_object_set_new(o, "code", json_string(ck_code_name(f[i].code)));
        json_object_set_new(o, "sizes", ck_rp_runs_json(&f[i].sizes));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *fn_json(const ck_size_fn *f) {
    json_t *o = json_object();
    json_object_set_new(o, "output_axis",
                        f->out_axis >= 0 ? json_integer(f->out_axis) : json_null());
    if (f->found) {
        char *s = ck_size_fn_str(f);
        json_object_set_new(o, "formula", json_string(s));
        free(s);
        json_object_set_new(o, "add", json_integer(f->add));
        json_object_set_new(o, "div", json_integer(f->div));
        json_object_set_new(o, "mul", json_integer(f->mul));
        json_object_set_new(o, "base", json_integer(f->base));
    } else {
        json_object_set_new(o, "formula", json_null());
    }
    return o;
}

static json_t *values_json(const ck_size_fn *f, const int64_t *out, int64_t lo, int64_t hi) {
    json_t *table = json_array();
    for (int64_t n = lo; n <= hi && out && f->out_axis >= 0; n++)
        if (out[n - lo] >= 0)
            json_array_append_new(table, json_pack("[II]", (json_int_t)n, (json_int_t)out[n - lo]));
    return table;
}

static json_t *opt_int(int64_t v) {
    return v >= 0 ? json_integer(v) : json_null();
}

static void runs_line(ck_str *out, const char *label, const ck_runs *r, int64_t hi) {
    char *s = ck_runs_str(r, hi);
    ck_str_addf(out, "  %-16s %s\n", label, s ? s : "");
    free(s);
}

static void failures_text(ck_str *out, int n, const ck_size_failure *f, int64_t hi) {
    if (!n) return;
    ck_str_add(out, "  rejected by:\n");
    for (int i = 0; i < n && i < 12; i++) {
        char *s = ck_runs_str(&f[i].sizes, hi);
        ck_str_addf(out, "    %-28s %-18s sizes %s\n", f[i].layer, ck_code_name(f[i].code),
                    s ? s : "");
        free(s);
    }
    if (n > 12) ck_str_addf(out, "    ... %d more layers\n", n - 12);
}

/* The output as a function of the input, or its table when there is no
 * closed form. */
static void fn_text(ck_str *o, const ck_size_fn *f, const int64_t *out, const ck_runs *valid,
                    int64_t lo, int64_t hi) {
    if (!valid->n) return;
    bool from_min = valid->n == 1 && valid->v[0].last == hi;
    if (f->found) {
        char *s = ck_size_fn_str(f);
        if (f->out_axis < 0)
            ck_str_addf(o, "  output           does not depend on this size\n");
        else if (from_min)
            ck_str_addf(o, "  output axis %d    %s for in >= %lld\n", f->out_axis, s,
                        (long long)valid->v[0].first);
        else
            ck_str_addf(o, "  output axis %d    %s for every valid in\n", f->out_axis, s);
        free(s);
        return;
    }
    if (!out) return;
    ck_str_addf(o, "  output axis %d (no closed form):", f->out_axis);
    int shown = 0;
    for (int64_t n = lo; n <= hi && shown < 16; n++) {
        int64_t v = out[n - lo];
        if (v < 0) continue;
        int64_t m = n;
        while (m + 1 <= hi && out[m + 1 - lo] == v) m++;
        if (m > n)
            ck_str_addf(o, "%s %lld-%lld -> %lld", shown ? "," : "", (long long)n, (long long)m,
                        (long long)v);
        else
            ck_str_addf(o, "%s %lld -> %lld", shown ? "," : "", (long long)n, (long long)v);
        shown++;
        n = m;
    }
    ck_str_addf(o, "%s\n", shown == 16 ? ", ... (--json lists all)" : "");
}

static json_t *sizes_json(const char *model, const ck_graph *g, const ck_sizes *sz,
                          const ck_diags *d) {
    json_t *j = ck_rp_doc_json(model, g, &sz->given);
    json_object_set_new(j, "ok", json_boolean(sz->square.valid.n > 0));
    json_object_set_new(j, "range", json_pack("[II]", (json_int_t)sz->lo, (json_int_t)sz->hi));
    json_object_set_new(j, "min_square", opt_int(sz->square.min));
    json_object_set_new(j, "next_square", opt_int(sz->square.next));
    json_object_set_new(j, "valid_square", ck_rp_runs_json(&sz->square.valid));
    json_object_set_new(j, "clean_square", ck_rp_runs_json(&sz->square.clean));
    json_t *sqo = fn_json(&sz->square.fn);
    json_object_set_new(sqo, "values", values_json(&sz->square.fn, sz->square.out, sz->lo, sz->hi));
    json_object_set_new(j, "square_output", sqo);
    json_object_set_new(j, "failures", failures_json(sz->square.n_fail, sz->square.fail));
    json_t *axes = json_array();
    for (int k = 0; k < sz->n_axes; k++) {
        const ck_sizes_axis *a = &sz->axes[k];
        json_t *ax = json_object();
        json_object_set_new(ax, "name", json_string(a->name));
        json_object_set_new(ax, "tensor_axis", json_integer(a->tensor_axis));
        json_object_set_new(ax, "current", json_integer(a->current));
        json_object_set_new(ax, "min", opt_int(a->min));
        json_object_set_new(ax, "next", opt_int(a->next));
        json_object_set_new(ax, "valid", ck_rp_runs_json(&a->valid));
        json_object_set_new(ax, "clean", ck_rp_runs_json(&a->clean));
        json_t *fo = fn_json(&a->fn);
        json_object_set_new(fo, "values", values_json(&a->fn, a->out, sz->lo, sz->hi));
        json_object_set_new(ax, "output", fo);
        json_object_set_new(ax, "failures", failures_json(a->n_fail, a->fail));
        json_array_append_new(axes, ax);
    }
    json_object_set_new(j, "axes", axes);
    json_object_set_new(j, "checks", json_integer(sz->checks));
    json_object_set_new(j, "diagnostics", ck_rp_diags_json(d, -1, NULL));
    return j;
}

/* One axis (or all together): smallest, next, valid, clean, output, failures. */
static void axis_text(ck_str *s, const ck_sizes *sz, const ck_sizes_axis *a, bool next) {
    if (a->min >= 0)
        ck_str_addf(s, "  %-16s %lld\n", "smallest valid", (long long)a->min);
    else
        ck_str_addf(s, "  %-16s none in %lld-%lld\n", "smallest valid", (long long)sz->lo,
                    (long long)sz->hi);
    if (next && a->next >= 0 && a->next != a->current)
        ck_str_addf(s, "  %-16s %lld (the given %s is %lld)\n", "next valid", (long long)a->next,
                    a->name, (long long)a->current);
    runs_line(s, "valid", &a->valid, sz->hi);
    runs_line(s, "clean", &a->clean, sz->hi);
    fn_text(s, &a->fn, a->out, &a->valid, sz->lo, sz->hi);
    failures_text(s, a->n_fail, a->fail, sz->hi);
}

static void sizes_text(ck_str *s, const char *model, const ck_graph *g, const ck_sizes *sz,
                       double ms) {
    char buf[256];
    ck_str_addf(s, "model: %s (%s), input %s\n", model, ck_dialect_name(ck_graph_dialect(g)),
                ck_shape_str(&sz->given, buf, sizeof buf));
    ck_str_addf(s, "scanned sizes %lld-%lld: %lld shape checks in %.1f ms\n\n", (long long)sz->lo,
                (long long)sz->hi, (long long)sz->checks, ms);
    ck_str_addf(s, "%s:\n",
                sz->n_axes == 1   ? "length"
                : sz->n_axes == 2 ? "square N x N"
                                  : "cube N x N x N");
    axis_text(s, sz, &sz->square, false);
    for (int k = 0; sz->n_axes > 1 && k < sz->n_axes; k++) {
        const ck_sizes_axis *a = &sz->axes[k];
        ck_str_addf(s, "\n%s (", a->name);
        for (int m = 0, first = 1; m < sz->n_axes; m++)
            if (m != k) {
                ck_str_addf(s, "%s%s held at %lld", first ? "" : ", ", sz->axes[m].name,
                            (long long)sz->axes[m].current);
                first = 0;
            }
        ck_str_add(s, "):\n");
        axis_text(s, sz, a, true);
    }
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

ck_status ck_rp_sizes(const ck_graph *g, const ck_rp_request *r, ck_str *s) {
    const ck_report_options *o = &r->opt;
    int64_t lo = o->lo, hi = o->hi;
    if (lo == 0 && hi == 0) lo = 1, hi = 1024;
    ck_diags d = {0};
    ck_sizes sz;
    double t0 = now_ms();
    ck_status st = ck_solve_sizes(g, o->input, lo, hi, &sz, &d);
    double ms = now_ms() - t0;
    if (st != CK_OK) {
        if (st != CK_ENOMEM) ck_rp_failure(s, o->model, &d, r->fmt, o->color);
        ck_diags_free(&d);
        return st;
    }
    if (r->fmt == CK_FORMAT_JSON)
        ck_rp_add_json(s, sizes_json(o->model, g, &sz, &d));
    else
        sizes_text(s, o->model, g, &sz, ms);
    st = sz.square.valid.n > 0 ? CK_OK : CK_EINVALID;
    ck_sizes_free(&sz);
    ck_diags_free(&d);
    return st;
}
