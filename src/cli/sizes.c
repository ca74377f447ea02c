/* convkit sizes: which input sizes every layer accepts. */
#include "cli/cli.h"
#include "core/core.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: convkit sizes MODEL [--input SHAPE] [--range A:B] [--json]\n"
    "\n"
    "Checks every input size in the range with the static shape pass and reports\n"
    "the smallest valid input (per spatial axis and square), every valid size,\n"
    "the clean sizes (no layer drops pixels to floor()), which layer rejects the\n"
    "others, and the output size as a function of the input size.\n"
    "\n"
    "  --input SHAPE   the input (batch and channels are held; spatial axes vary)\n"
    "  --range A:B     sizes to scan, default 1:1024\n"
    "  --json          one JSON object: range, min_square, valid_square, clean_square,\n"
    "                  axes (name, min, next, valid, clean, output), failures\n"
    "exit status: 0 some size is valid, 1 none in the range, 2 bad usage or unreadable file\n";

typedef struct sizes_opts {
    int64_t lo, hi;
    bool bad_range;
} sizes_opts;

static bool parse_range(const char *v, sizes_opts *so) {
    char *end;
    long long a = strtoll(v, &end, 10);
    if (*end != ':') return false;
    long long b = strtoll(end + 1, &end, 10);
    if (*end) return false;
    so->lo = a;
    so->hi = b;
    return true;
}

static bool extra(const char *opt, const char *val, void *ctx) {
    sizes_opts *so = ctx;
    if (!strcmp(opt, "--range")) {
        if (!parse_range(val, so)) so->bad_range = true;
        return true;
    }
    return false;
}

static json_t *runs_json(const ck_runs *r) {
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
        json_object_set_new(o, "sizes", runs_json(&f[i].sizes));
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

static void print_runs_line(const char *label, const ck_runs *r, int64_t hi) {
    char *s = ck_runs_str(r, hi);
    printf("  %-16s %s\n", label, s);
    free(s);
}

static void print_failures(int n, const ck_size_failure *f, int64_t hi) {
    if (!n) return;
    printf("  rejected by:\n");
    for (int i = 0; i < n && i < 12; i++) {
        char *s = ck_runs_str(&f[i].sizes, hi);
        printf("    %-28s %-18s sizes %s\n", f[i].layer, ck_code_name(f[i].code), s);
        free(s);
    }
    if (n > 12) printf("    ... %d more layers\n", n - 12);
}

/* The output as a function of the input, or its table when there is no
 * closed form. */
static void print_fn(const ck_size_fn *f, const int64_t *out, const ck_runs *valid, int64_t lo,
                     int64_t hi) {
    if (!valid->n) return;
    bool from_min = valid->n == 1 && valid->v[0].last == hi;
    if (f->found) {
        char *s = ck_size_fn_str(f);
        if (f->out_axis < 0)
            printf("  output           does not depend on this size\n");
        else if (from_min)
            printf("  output axis %d    %s for in >= %lld\n", f->out_axis, s,
                   (long long)valid->v[0].first);
        else
            printf("  output axis %d    %s for every valid in\n", f->out_axis, s);
        free(s);
        return;
    }
    if (!out) return;
    printf("  output axis %d (no closed form):", f->out_axis);
    int shown = 0;
    for (int64_t n = lo; n <= hi && shown < 16; n++) {
        int64_t v = out[n - lo];
        if (v < 0) continue;
        int64_t m = n;
        while (m + 1 <= hi && out[m + 1 - lo] == v) m++;
        if (m > n)
            printf("%s %lld-%lld -> %lld", shown ? "," : "", (long long)n, (long long)m,
                   (long long)v);
        else
            printf("%s %lld -> %lld", shown ? "," : "", (long long)n, (long long)v);
        shown++;
        n = m;
    }
    printf("%s\n", shown == 16 ? ", ... (--json lists all)" : "");
}

int cmd_sizes(int argc, char **argv) {
    cli_opts o;
    sizes_opts so = {.lo = 1, .hi = 1024};
    static const char *const takes[] = {"--range", NULL};
    int rc = cli_parse(argc, argv, &o, takes, extra, &so, usage);
    if (rc) return rc < 0 ? 0 : rc;
    ck_diags d = {0};
    if (so.bad_range || so.lo < 1 || so.hi < so.lo) {
        ck_diag_add(&d, CK_SEV_ERROR, CK_INVALID_CONFIG, NULL, NULL,
                    "--range must be A:B with 1 <= A <= B (e.g. 1:1024)");
    }
    int code = 0;
    ck_graph *g = d.n ? NULL : cli_load(&o, &d, &code);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_sizes sz;
    ck_status st = g ? ck_solve_sizes(g, 0, so.lo, so.hi, &sz, &d) : CK_EUSAGE;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (st != CK_OK) {
        if (o.json)
            print_json(failure_json(&o, &d));
        else
            render_diags_text(stderr, &d);
        ck_diags_free(&d);
        ck_graph_free(g);
        return EXIT_USAGE;
    }
    char buf[256];
    if (o.json) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(o.model));
        json_object_set_new(j, "dialect", json_string(ck_dialect_name(ck_graph_dialect(g))));
        json_object_set_new(j, "input", shape_json(&sz.given));
        json_object_set_new(j, "ok", json_boolean(sz.square.valid.n > 0));
        json_object_set_new(j, "range", json_pack("[II]", (json_int_t)sz.lo, (json_int_t)sz.hi));
        json_object_set_new(j, "min_square", opt_int(sz.square.min));
        json_object_set_new(j, "next_square", opt_int(sz.square.next));
        json_object_set_new(j, "valid_square", runs_json(&sz.square.valid));
        json_object_set_new(j, "clean_square", runs_json(&sz.square.clean));
        json_t *sqo = fn_json(&sz.square.fn);
        json_object_set_new(sqo, "values", values_json(&sz.square.fn, sz.square.out, sz.lo, sz.hi));
        json_object_set_new(j, "square_output", sqo);
        json_object_set_new(j, "failures", failures_json(sz.square.n_fail, sz.square.fail));
        json_t *axes = json_array();
        for (int k = 0; k < sz.n_axes; k++) {
            const ck_sizes_axis *a = &sz.axes[k];
            json_t *ax = json_object();
            json_object_set_new(ax, "name", json_string(a->name));
            json_object_set_new(ax, "tensor_axis", json_integer(a->tensor_axis));
            json_object_set_new(ax, "current", json_integer(a->current));
            json_object_set_new(ax, "min", opt_int(a->min));
            json_object_set_new(ax, "next", opt_int(a->next));
            json_object_set_new(ax, "valid", runs_json(&a->valid));
            json_object_set_new(ax, "clean", runs_json(&a->clean));
            json_t *fo = fn_json(&a->fn);
            json_object_set_new(fo, "values", values_json(&a->fn, a->out, sz.lo, sz.hi));
            json_object_set_new(ax, "output", fo);
            json_object_set_new(ax, "failures", failures_json(a->n_fail, a->fail));
            json_array_append_new(axes, ax);
        }
        json_object_set_new(j, "axes", axes);
        json_object_set_new(j, "checks", json_integer(sz.checks));
        json_object_set_new(j, "diagnostics", diags_json(&d));
        print_json(j);
    } else {
        printf("model: %s (%s), input %s\n", o.model, ck_dialect_name(ck_graph_dialect(g)),
               ck_shape_str(&sz.given, buf, sizeof buf));
        printf("scanned sizes %lld-%lld: %lld shape checks in %.1f ms\n\n", (long long)sz.lo,
               (long long)sz.hi, (long long)sz.checks, ms);
        const char *sq = sz.n_axes == 1   ? "length"
                         : sz.n_axes == 2 ? "square N x N"
                                          : "cube N x N x N";
        printf("%s:\n", sq);
        if (sz.square.min >= 0)
            printf("  %-16s %lld\n", "smallest valid", (long long)sz.square.min);
        else
            printf("  %-16s none in %lld-%lld\n", "smallest valid", (long long)sz.lo,
                   (long long)sz.hi);
        print_runs_line("valid", &sz.square.valid, sz.hi);
        print_runs_line("clean", &sz.square.clean, sz.hi);
        print_fn(&sz.square.fn, sz.square.out, &sz.square.valid, sz.lo, sz.hi);
        print_failures(sz.square.n_fail, sz.square.fail, sz.hi);
        if (sz.n_axes > 1)
            for (int k = 0; k < sz.n_axes; k++) {
                const ck_sizes_axis *a = &sz.axes[k];
                printf("\n%s (", a->name);
                for (int m = 0, first = 1; m < sz.n_axes; m++)
                    if (m != k) {
                        printf("%s%s held at %lld", first ? "" : ", ", sz.axes[m].name,
                               (long long)sz.axes[m].current);
                        first = 0;
                    }
                printf("):\n");
                if (a->min >= 0)
                    printf("  %-16s %lld\n", "smallest valid", (long long)a->min);
                else
                    printf("  %-16s none in %lld-%lld\n", "smallest valid", (long long)sz.lo,
                           (long long)sz.hi);
                if (a->next >= 0 && a->next != a->current)
                    printf("  %-16s %lld (the given %s is %lld)\n", "next valid",
                           (long long)a->next, a->name, (long long)a->current);
                print_runs_line("valid", &a->valid, sz.hi);
                print_runs_line("clean", &a->clean, sz.hi);
                print_fn(&a->fn, a->out, &a->valid, sz.lo, sz.hi);
                print_failures(a->n_fail, a->fail, sz.hi);
            }
    }
    int ret = sz.square.valid.n > 0 ? EXIT_VALID : EXIT_INVALID;
    ck_sizes_free(&sz);
    ck_diags_free(&d);
    ck_graph_free(g);
    return ret;
}
