/* A program that uses convkit as an installed library: it is built by
 * tests/cli/install.sh with only the installed convkit.h and
 * `pkg-config --cflags --libs convkit` (shared, and --static), never with
 * the source tree's headers.
 *
 *   consumer KIND FILE [KIND FILE ...]     KIND: cnn, onnx or keras
 *
 * For each model it reads the file into memory itself, loads it from the
 * bytes (ck_load_memory, and the format's own loader), checks it, prints
 * its layers and diagnostics, picks a valid input size when the model's own
 * does not fit (ck_solve_sizes), builds a session and runs it on seeded
 * random input. Every optional argument is NULL (names, limits, options,
 * diagnostics) except the one list it prints. Exit 0 when every model ran. */
#include <convkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) free(buf);
        buf = nb;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void print_diags(const ck_diags *d) {
    for (int i = 0; i < d->n; i++) {
        const ck_diag *g = &d->v[i];
        printf("  %s [%s] %s%s%s\n",
               g->severity == CK_SEV_ERROR     ? "error"
               : g->severity == CK_SEV_WARNING ? "warning"
                                               : "note",
               ck_code_name(g->code), g->layer ? g->layer : "", g->layer ? ": " : "",
               g->message ? g->message : "");
    }
}

static void print_layers(const ck_graph *g) {
    char buf[160];
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        printf("  %-28s %-20s %-24s %lld MACs\n", li.name, li.type,
               li.state == CK_LAYER_OK       ? ck_shape_str(&li.output, buf, sizeof buf)
               : li.state == CK_LAYER_FAILED ? "FAILED"
                                             : "not reached",
               (long long)li.macs);
    }
    ck_totals t = ck_graph_totals(g);
    printf("  total: %lld params, %lld MACs\n", (long long)t.params, (long long)t.macs);
}

/* The model's input did not fit (or was symbolic): the smallest square size
 * from 1 to 256 at which every layer is valid. */
static int fit_input(ck_graph *g) {
    ck_sizes s;
    if (ck_solve_sizes(g, 0, 1, 256, &s, NULL) != CK_OK) return 1;
    ck_shape sh = s.given;
    int64_t n = s.square.min;
    for (int k = 0; k < s.n_axes; k++) sh.d[s.axes[k].tensor_axis] = n;
    ck_sizes_free(&s);
    char buf[160];
    printf("input: %s (the smallest size every layer accepts)\n",
           ck_shape_str(&sh, buf, sizeof buf));
    if (n < 1 || ck_graph_set_input_shape(g, 0, &sh) != CK_OK) return 1;
    return ck_check(g, NULL) == CK_OK ? 0 : 1;
}

static int run_session(const ck_graph *g) {
    ck_session *s = NULL;
    ck_session_ctx *c = NULL;
    if (ck_session_new(g, NULL, &s, NULL) != CK_OK || ck_session_ctx_new(s, &c) != CK_OK) {
        ck_session_free(s);
        printf("run: no session\n");
        return 1;
    }
    int ni = ck_session_num_inputs(s), no = ck_session_num_outputs(s), rc = 0;
    ck_tensor_f32 **x = calloc((size_t)ni + 1, sizeof *x), **y = calloc((size_t)no + 1, sizeof *y);
    const float **in = calloc((size_t)ni + 1, sizeof *in);
    float **out = calloc((size_t)no + 1, sizeof *out);
    if (!x || !y || !in || !out) rc = 1;
    for (int i = 0; !rc && i < ni; i++) {
        ck_shape sh = ck_session_input_shape(s, i);
        if (ck_tensor_f32_new(&sh, &x[i]) != CK_OK) rc = 1;
        if (!rc) {
            ck_tensor_f32_fill_normal(x[i], 1 + (uint64_t)i);
            in[i] = x[i]->data;
        }
    }
    for (int i = 0; !rc && i < no; i++) {
        ck_shape sh = ck_session_output_shape(s, i);
        if (ck_tensor_f32_new(&sh, &y[i]) != CK_OK) rc = 1;
        if (!rc) out[i] = y[i]->data;
    }
    if (!rc && ck_session_run(s, c, in, out) != CK_OK) rc = 1;
    for (int i = 0; !rc && i < no; i++) {
        double sum = 0;
        int64_t n = ck_tensor_f32_numel(y[i]);
        for (int64_t k = 0; k < n; k++) sum += y[i]->data[k];
        char buf[160];
        printf("run: output %s %s, sum %.6g\n", ck_session_output_name(s, i),
               ck_shape_str(&y[i]->shape, buf, sizeof buf), sum);
    }
    for (int i = 0; x && i < ni; i++) ck_tensor_f32_free(x[i]);
    for (int i = 0; y && i < no; i++) ck_tensor_f32_free(y[i]);
    free(x);
    free(y);
    free(in);
    free(out);
    ck_session_ctx_free(c);
    ck_session_free(s);
    printf("run: %s\n", rc ? "FAILED" : "ok");
    return rc;
}

static int one(const char *kind, const char *path) {
    ck_status (*load)(const void *, size_t, const char *, const ck_limits *, ck_graph **,
                      ck_diags *) = !strcmp(kind, "onnx")    ? ck_load_onnx_memory
                                    : !strcmp(kind, "keras") ? ck_load_keras_json
                                                             : NULL;
    size_t len = 0;
    char *bytes = read_all(path, &len);
    if (!bytes) {
        printf("%s: cannot read\n", path);
        return 1;
    }
    ck_graph *g = NULL, *g2 = NULL;
    ck_status st = ck_load_memory(bytes, len, NULL, NULL, &g, NULL);
    ck_status st2 = load ? load(bytes, len, NULL, NULL, &g2, NULL)
                         : ck_parse_cnn(bytes, len, NULL, NULL, &g2, NULL);
    free(bytes); /* the graphs keep no pointer into the bytes */
    printf("== %s (%s): load %s, %d layers, dialect %s\n", path, kind,
           st == CK_OK && st2 == CK_OK ? "ok" : "FAILED", ck_graph_num_layers(g),
           ck_dialect_name(ck_graph_dialect(g)));
    int rc = st != CK_OK || st2 != CK_OK || ck_graph_num_layers(g) != ck_graph_num_layers(g2);
    ck_graph_free(g2);
    if (rc) {
        ck_graph_free(g);
        return 1;
    }
    st = ck_check(g, NULL);
    printf("check: %s\n", st == CK_OK ? "ok" : "invalid");
    if (st != CK_OK) {
        ck_diags d = {0};
        ck_check(g, &d); /* again, for the diagnostics to print */
        print_diags(&d);
        ck_diags_free(&d);
        print_layers(g);
        rc = fit_input(g);
        printf("check: %s\n", rc ? "still invalid" : "ok");
    }
    if (!rc) {
        print_layers(g);
        rc = run_session(g);
    }
    ck_graph_free(g);
    return rc;
}

int main(int argc, char **argv) {
    printf("convkit %s (built against %s)\n", ck_version(), CONVKIT_VERSION_STRING);
    if (strcmp(ck_version(), CONVKIT_VERSION_STRING) != 0 || argc < 3 || argc % 2 == 0) {
        fprintf(stderr, "usage: consumer cnn|onnx|keras FILE ...\n");
        return 2;
    }
    int failed = 0;
    for (int i = 1; i + 1 < argc; i += 2) failed += one(argv[i], argv[i + 1]);
    printf("%d of %d models ran\n", (argc - 1) / 2 - failed, (argc - 1) / 2);
    return failed ? 1 : 0;
}
