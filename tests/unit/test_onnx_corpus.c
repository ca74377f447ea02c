/* ONNX as PyTorch exports it (issue 16), against PyTorch's own answers:
 * the models of tests/onnx_corpus/small (narrow copies of the corpus of
 * tests/onnx_corpus/models.py, exported at opsets 11, 13 and 17 with
 * dynamic axes; tests/onnx_corpus/gen_small.py wrote them and truth.json,
 * PyTorch's output shape at every size scanned).
 *
 *  1. check at every square size and every size of each axis: valid exactly
 *     where PyTorch is, with PyTorch's output shape;
 *  2. the size solver: its valid runs are PyTorch's;
 *  3. check without the sizes (symbolic): valid_sizes, the exit status, an
 *     expression for every symbolic output axis; the parameter count is
 *     PyTorch's;
 *  4. sizes and check are one computation: for every ONNX model under tests/
 *     and every size 1..256 of each scan, the solver's verdict and output
 *     size are what a check of that size gives. */
#include "analyze/analyze.h"
#include "convkit.h"
#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SMALL "tests/onnx_corpus/small"

/* The network's first output after a check of g at input shape s: its
 * shape, or rank -1 when the check fails. */
static ck_shape check_at(const ck_graph *g, const ck_shape *s) {
    ck_graph *c = ck_graph_clone(g, false);
    ck_shape out = {.rank = -1};
    if (!c) return out;
    ck_graph_set_input_shape(c, 0, s);
    if (ck_check(c, NULL) == CK_OK) {
        int v = ck_graph_output_val(c);
        if (v >= 0) out = c->vals[v].shape;
    }
    ck_graph_free(c);
    return out;
}

static bool same_shape(const ck_shape *s, const json_t *want) {
    if (!json_is_array(want)) return s->rank < 0;
    if (s->rank != (int)json_array_size(want)) return false;
    for (int i = 0; i < s->rank; i++)
        if (s->d[i] != json_integer_value(json_array_get(want, (size_t)i))) return false;
    return true;
}

/* PyTorch's valid sizes of a scan as runs, compared with convkit's. */
static bool runs_equal(const json_t *scan, int hi, const ck_runs *r) {
    int k = 0;
    for (int n = 1; n <= hi; n++) {
        char key[16];
        snprintf(key, sizeof key, "%d", n);
        bool valid = json_is_array(json_object_get(scan, key));
        bool in = false;
        for (int i = 0; i < r->n; i++) in |= r->v[i].first <= n && n <= r->v[i].last;
        if (valid != in) return false;
        k += valid;
    }
    (void)k;
    return true;
}

static void one_model(const char *name, const json_t *t, int opset) {
    char path[256];
    snprintf(path, sizeof path, SMALL "/%s_op%d.onnx", name, opset);
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_file(path, NULL, &g, &d);
    CHECK(st == CK_OK && g, "load %s", path);
    ck_diags_free(&d);
    if (!g) return;
    const json_t *nom = json_object_get(t, "nominal");
    int hi = (int)json_integer_value(json_object_get(t, "range"));
    ck_shape nominal = {.rank = (int)json_array_size(nom)};
    for (int i = 0; i < nominal.rank; i++)
        nominal.d[i] = json_integer_value(json_array_get(nom, (size_t)i));
    int nsp = nominal.rank - 2;
    const json_t *sq = json_object_get(t, "square"), *axes = json_object_get(t, "axes");
    /* 1. check at every size */
    int agree = 0, total = 0;
    for (int scan = 0; scan <= nsp; scan++) {
        const json_t *truth = scan == 0 ? sq : json_array_get(axes, (size_t)(scan - 1));
        for (int n = 1; n <= hi; n++) {
            ck_shape s = nominal;
            for (int i = 0; i < nsp; i++)
                if (scan == 0 || i == scan - 1) s.d[2 + i] = n;
            char key[16];
            snprintf(key, sizeof key, "%d", n);
            ck_shape got = check_at(g, &s);
            bool ok = same_shape(&got, json_object_get(truth, key));
            agree += ok;
            total++;
            if (!ok)
                CHECK(false, "%s: check at size %d of scan %d: convkit rank %d, PyTorch %s", path,
                      n, scan, got.rank,
                      json_is_array(json_object_get(truth, key)) ? "valid" : "raises");
        }
    }
    CHECK(agree == total, "%s: check agrees with PyTorch at %d of %d sizes", path, agree, total);
    /* 2. the solver, with the nominal input given */
    ck_graph *c = ck_graph_clone(g, false);
    ck_graph_set_input_shape(c, 0, &nominal);
    ck_sizes sz;
    CHECK(ck_solve_sizes(c, 0, 1, hi, &sz, NULL) == CK_OK, "sizes %s", path);
    CHECK(runs_equal(sq, hi, &sz.square.valid), "%s: the square scan's valid sizes", path);
    for (int k = 0; k < sz.n_axes && k < nsp; k++)
        CHECK(runs_equal(json_array_get(axes, (size_t)k), hi, &sz.axes[k].valid),
              "%s: the valid sizes of axis %d", path, k);
    ck_sizes_free(&sz);
    /* parameters as PyTorch counts them (GroupNorm's affine weight and bias
     * in the Mul and Add after InstanceNormalization included), where the
     * export keeps them: the exporter folds a batch norm after a convolution
     * into its weights and bias (U-Net padded, DeepLab, YOLO), drops WaveNet's
     * last residual 1x1 (nothing reads it), and stores EDSR's mean, a buffer
     * PyTorch does not count, like any weight */
    static const char *const refolded[] = {"unet_padded", "deeplab_aspp", "yolov3_tiny",
                                           "wavenet",     "edsr",         NULL};
    bool kept = true;
    for (int i = 0; refolded[i]; i++) kept &= strcmp(name, refolded[i]) != 0;
    if (kept && ck_check(c, NULL) == CK_OK)
        CHECK(ck_graph_totals(c).params == json_integer_value(json_object_get(t, "params")),
              "%s: %lld parameters, PyTorch %lld", path, (long long)ck_graph_totals(c).params,
              (long long)json_integer_value(json_object_get(t, "params")));
    ck_graph_free(c);
    /* 3. symbolic: the check report without sizes */
    char *text = NULL;
    st = ck_report(g, CK_REPORT_CHECK, CK_FORMAT_JSON, NULL, &text);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    bool any = false;
    for (int n = 1; n <= hi; n++) {
        char key[16];
        snprintf(key, sizeof key, "%d", n);
        any |= json_is_array(json_object_get(sq, key));
        for (int k = 0; k < nsp; k++)
            any |= json_is_array(json_object_get(json_array_get(axes, (size_t)k), key));
    }
    CHECK(j && (st == CK_OK) == any, "%s: symbolic check status %d, PyTorch %s", path, st,
          any ? "valid" : "invalid");
    const json_t *vs = json_object_get(j, "valid_sizes");
    CHECK(json_is_object(vs), "%s: valid_sizes", path);
    const json_t *vsq = json_object_get(vs, "square");
    ck_runs got = {0};
    ck_run buf[64];
    got.v = buf;
    for (size_t i = 0; i < json_array_size(vsq) && got.n < 64; i++) {
        const json_t *r = json_array_get(vsq, i);
        int64_t a = json_integer_value(json_array_get(r, 0)),
                b = json_integer_value(json_array_get(r, 1));
        if (a > hi) continue;
        buf[got.n++] = (ck_run){a, b < hi ? b : hi};
    }
    CHECK(runs_equal(sq, hi, &got), "%s: symbolic valid_sizes are PyTorch's", path);
    const json_t *layers = json_object_get(j, "layers");
    int missing = 0;
    for (size_t i = 0; i < json_array_size(layers); i++) {
        const json_t *l = json_array_get(layers, i), *os = json_object_get(l, "output_shape");
        bool symbolic = false;
        for (size_t k = 0; k < json_array_size(os); k++)
            symbolic |= json_is_null(json_array_get(os, k));
        const json_t *e = json_object_get(l, "output_expr");
        if (symbolic && !json_is_array(e)) missing++;
        for (size_t k = 0; json_is_array(e) && k < json_array_size(e); k++)
            if (!strcmp(json_string_value(json_array_get(e, k)), "?")) missing++;
    }
    CHECK(missing == 0, "%s: %d symbolic output axes without an expression", path, missing);
    json_decref(j);
    ck_free(text);
    ck_graph_free(g);
}

/* ---- 4. sizes and check: one computation ---------------------------------- */

static int models_seen;

static void agree_on(const char *path) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_file(path, NULL, &g, &d);
    ck_diags_free(&d);
    if (st != CK_OK || !g || ck_graph_num_inputs(g) < 1 || g->declared[0].rank < 3) {
        ck_graph_free(g);
        return;
    }
    ck_sizes sz;
    if (ck_solve_sizes(g, 0, 1, 256, &sz, NULL) != CK_OK) {
        ck_graph_free(g);
        return;
    }
    models_seen++;
    int bad = 0;
    for (int scan = 0; scan <= sz.n_axes; scan++) {
        const ck_sizes_axis *a = scan == 0 ? &sz.square : &sz.axes[scan - 1];
        for (int64_t n = 1; n <= 256; n++) {
            ck_shape s = sz.given;
            for (int k = 0; k < sz.n_axes; k++)
                if (scan == 0 || k == scan - 1) s.d[sz.axes[k].tensor_axis] = n;
            bool valid = false;
            for (int i = 0; i < a->valid.n; i++)
                valid |= a->valid.v[i].first <= n && n <= a->valid.v[i].last;
            ck_shape out = check_at(g, &s);
            if ((out.rank >= 0) != valid ||
                (valid && a->fn.out_axis >= 0 && out.d[a->fn.out_axis] != a->out[n - 1]))
                bad++;
        }
    }
    CHECK(bad == 0, "%s: sizes and check disagree at %d sizes", path, bad);
    ck_sizes_free(&sz);
    ck_graph_free(g);
}

static void walk(const char *dir) {
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) continue;
        size_t n = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            walk(p);
        else if (n > 5 && !strcmp(e->d_name + n - 5, ".onnx"))
            agree_on(p);
    }
    closedir(dp);
}

/* Only the batch symbolic: the declared sizes decide, the batch follows N. */
static void batch_only(int64_t side, bool valid) {
    ck_graph *g = NULL;
    CHECK(ck_load_file(SMALL "/srcnn_op13.onnx", NULL, &g, NULL) == CK_OK, "load srcnn");
    if (!g) return;
    ck_shape s = {.rank = 4, .d = {0, 1, side, side}};
    ck_graph_set_input_shape(g, 0, &s);
    CHECK(ck_graph_set_symbol(g, 0, 0, "N"), "symbol");
    char *text = NULL;
    ck_status st = ck_report(g, CK_REPORT_CHECK, CK_FORMAT_JSON, NULL, &text);
    CHECK(st == (valid ? CK_OK : CK_EINVALID), "batch-only symbolic at %lld: status %d",
          (long long)side, st);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    const json_t *out = json_object_get(json_array_get(json_object_get(j, "outputs"), 0), "expr");
    if (valid)
        CHECK(json_is_array(out) && !strcmp(json_string_value(json_array_get(out, 0)), "N") &&
                  !strcmp(json_string_value(json_array_get(out, 2)), "21"),
              "batch-only symbolic: the output is [N, 1, 21, 21]");
    json_decref(j);
    ck_free(text);
    ck_graph_free(g);
}

int main(void) {
    json_error_t err;
    json_t *truth = json_load_file(SMALL "/truth.json", 0, &err);
    CHECK(truth != NULL, "read " SMALL "/truth.json: %s", err.text);
    const char *name;
    json_t *t;
    json_object_foreach(truth, name, t) {
        for (int op = 11; op <= 17; op += op == 11 ? 2 : 4) one_model(name, t, op);
    }
    json_decref(truth);
    batch_only(33, true);
    batch_only(8, false);
    walk("tests");
    CHECK(models_seen >= 60, "sizes and check compared on %d ONNX models under tests/",
          models_seen);
    return TEST_DONE("onnx_corpus");
}
