/* Keras model JSON against its truth: read it, feed the truth's input
 * shapes, check, and compare layer by layer with its .truth.json (output
 * shape per layer name, the failing layer's error class, the layers
 * downstream of the error not reached). Two sets: tests/keras/json (written
 * for these tests by tests/keras/gen_json.py, the truth from Keras's shape
 * formulas), and the real models of ../shared/oracle/keras (third-party
 * files, never copied into the repository; beside it in CI), read when
 * that folder is there. */
#include "convkit.h"
#include "graph/graph.h"
#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int find_layer(const ck_graph *g, const char *name) {
    for (int i = 0; i < ck_graph_num_layers(g); i++)
        if (strcmp(ck_graph_layer(g, i).name, name) == 0) return i;
    return -1;
}

static int find_input(const ck_graph *g, const char *name) {
    for (int i = 0; i < ck_graph_num_inputs(g); i++)
        if (strcmp(ck_graph_input_name(g, i), name) == 0) return i;
    return -1;
}

static bool shape_from_json(const json_t *a, ck_shape *s) {
    if (!json_is_array(a) || json_array_size(a) > CK_MAX_RANK) return false;
    s->rank = (int)json_array_size(a);
    for (int i = 0; i < s->rank; i++) s->d[i] = json_integer_value(json_array_get(a, (size_t)i));
    return true;
}

static bool shape_eq(const ck_shape *a, const ck_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

static const ck_diag *error_for(const ck_diags *d, const char *layer) {
    for (int i = 0; i < d->n; i++)
        if (d->v[i].severity == CK_SEV_ERROR && d->v[i].layer && strcmp(d->v[i].layer, layer) == 0)
            return &d->v[i];
    return NULL;
}

/* Node index of the truth's first error, -1 if none. */
static int first_error_layer(const ck_graph *g, const json_t *truth) {
    const json_t *fe = json_object_get(truth, "first_error");
    const char *n = json_string_value(json_object_get(fe, "name"));
    return n ? find_layer(g, n) : -1;
}

/* True when node `from` reads (transitively) the output of node `target`. */
static bool depends_on(const ck_graph *g, int from, int target) {
    if (target < 0) return false;
    int *stack = malloc((size_t)(g->n_nodes + 1) * sizeof *stack);
    char *seen = calloc((size_t)g->n_nodes + 1, 1);
    int sp = 0;
    bool found = false;
    if (!stack || !seen) goto out;
    stack[sp++] = from;
    seen[from] = 1;
    while (sp > 0 && !found) {
        const ck_node *n = &g->nodes[stack[--sp]];
        for (int k = 0; k < n->n_in; k++) {
            int p = g->vals[n->in[k]].producer;
            if (p < 0 || seen[p]) continue;
            if (p == target) found = true;
            seen[p] = 1;
            stack[sp++] = p;
        }
    }
out:
    free(stack);
    free(seen);
    return found;
}

/* Checks one model; returns the number of mismatching records. */
static int check_model(const char *json_path, const char *truth_path, int *n_records) {
    json_error_t je;
    json_t *truth = json_load_file(truth_path, 0, &je);
    CHECK(truth != NULL, "%s: cannot read: %s", truth_path, je.text);
    if (!truth) return 1;
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_file(json_path, NULL, &g, &d);
    CHECK(st == CK_OK && g, "%s: load failed (status %d): %s", json_path, (int)st,
          d.n ? d.v[0].message : "?");
    int bad = 0;
    *n_records = 0;
    if (!g) {
        ck_diags_free(&d);
        json_decref(truth);
        return 1;
    }
    CHECK(ck_graph_dialect(g) == CK_DIALECT_KERAS, "%s: dialect", json_path);
    /* input shapes from the truth (it replaces None dims) */
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(truth, "input_shapes"), k, v) {
        int i = find_input(g, k);
        ck_shape s;
        CHECK(i >= 0, "%s: no graph input named '%s'", json_path, k);
        if (i >= 0 && shape_from_json(v, &s)) {
            ck_shape decl = ck_graph_input_shape(g, i);
            bool had_none = false;
            for (int a = 0; a < decl.rank; a++) had_none |= decl.d[a] == 0;
            if (!had_none)
                CHECK(shape_eq(&decl, &s), "%s: declared input '%s' differs from the truth",
                      json_path, k);
            ck_graph_set_input_shape(g, i, &s);
        }
    }
    ck_diags_free(&d);
    st = ck_check(g, &d);
    bool truth_ok = json_is_true(json_object_get(truth, "ok"));
    CHECK((st == CK_OK) == truth_ok, "%s: check status %d, truth ok=%d", json_path, (int)st,
          truth_ok);
    bad += (st == CK_OK) != truth_ok;
    json_t *layers = json_object_get(truth, "layers");
    size_t i;
    json_array_foreach(layers, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *cls = json_string_value(json_object_get(v, "class_name"));
        json_t *os = json_object_get(v, "output_shape");
        const char *err = json_string_value(json_object_get(v, "error"));
        (*n_records)++;
        ck_shape want = {0};
        if (cls && strncmp(cls, "InputLayer", 10) == 0) {
            int in = find_input(g, name);
            bool ok = in >= 0 && shape_from_json(os, &want);
            if (ok) {
                ck_shape got = ck_graph_input_shape(g, in);
                ok = shape_eq(&got, &want);
            }
            CHECK(ok, "%s: input '%s' missing or wrong shape", json_path, name);
            bad += !ok;
            continue;
        }
        int li = find_layer(g, name);
        CHECK(li >= 0, "%s: no layer named '%s' (%s)", json_path, name, cls);
        if (li < 0) {
            bad++;
            continue;
        }
        ck_layer_info info = ck_graph_layer(g, li);
        bool ok;
        char gb[128], wb[128];
        if (os && shape_from_json(os, &want)) {
            ok = info.state == CK_LAYER_OK && shape_eq(&info.output, &want);
            CHECK(ok, "%s: %s (%s): got %s state %d, want %s", json_path, name, cls,
                  ck_shape_str(&info.output, gb, sizeof gb), (int)info.state,
                  ck_shape_str(&want, wb, sizeof wb));
        } else if (err) {
            const ck_diag *dg = error_for(&d, name);
            ok = info.state == CK_LAYER_FAILED && dg && strcmp(ck_code_name(dg->code), err) == 0;
            CHECK(ok, "%s: %s (%s): want error %s, got state %d code %s (%s)", json_path, name, cls,
                  err, (int)info.state, dg ? ck_code_name(dg->code) : "none",
                  dg && dg->message ? dg->message : "");
        } else {
            /* The truth generator stops at the first error in Keras order and
             * marks every later layer "skipped", also on branches that do not
             * read the failed layer. convkit checks independent branches:
             * such a layer may be OK, but only if it does not depend on the
             * failed layer. */
            ok = info.state == CK_LAYER_NOT_REACHED ||
                 (info.state == CK_LAYER_OK && !depends_on(g, li, first_error_layer(g, truth)));
            CHECK(ok, "%s: %s (%s): want not reached (or an independent branch), got state %d",
                  json_path, name, cls, (int)info.state);
        }
        bad += !ok;
    }
    /* the first error is the truth's first error */
    json_t *fe = json_object_get(truth, "first_error");
    if (json_is_object(fe)) {
        const char *fname = json_string_value(json_object_get(fe, "name"));
        const ck_diag *first = NULL;
        for (int e = 0; e < d.n && !first; e++)
            if (d.v[e].severity == CK_SEV_ERROR) first = &d.v[e];
        bool ok = first && first->layer && fname && strcmp(first->layer, fname) == 0;
        CHECK(ok, "%s: first error at %s, want %s", json_path,
              first && first->layer ? first->layer : "none", fname ? fname : "?");
        bad += !ok;
    }
    /* a graph output exists for every model output */
    json_t *mo = json_object_get(truth, "model_outputs");
    if (json_is_array(mo) && truth_ok) {
        bool ok = (int)json_array_size(mo) == g->n_outputs;
        for (int o = 0; ok && o < g->n_outputs; o++) {
            ck_shape want;
            ok = shape_from_json(json_array_get(mo, (size_t)o), &want) &&
                 shape_eq(&g->vals[g->outputs[o]].shape, &want);
        }
        CHECK(ok, "%s: model outputs differ (%d graph outputs)", json_path, g->n_outputs);
        bad += !ok;
    }
    ck_diags_free(&d);
    ck_graph_free(g);
    json_decref(truth);
    return bad;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Checks every model of dir that has a truth file; returns how many. */
static int check_dir(const char *dir, int *files_ok) {
    DIR *dp = opendir(dir);
    if (!dp) return -1;
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0) continue;
        if (l > 11 && strcmp(e->d_name + l - 11, ".truth.json") == 0) continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char jp[512], tp[512];
        snprintf(jp, sizeof jp, "%s/%s", dir, names[i]);
        snprintf(tp, sizeof tp, "%s/%.*s.truth.json", dir, (int)(strlen(names[i]) - 5), names[i]);
        int records = 0;
        int bad = check_model(jp, tp, &records);
        printf("  %-55s %3d/%3d records match\n", names[i], records - bad, records);
        *files_ok += bad == 0;
        free(names[i]);
    }
    return n;
}

int main(void) {
    int ok_own = 0, ok_real = 0;
    int own = check_dir("tests/keras/json", &ok_own);
    printf("own Keras files: %d of %d match layer by layer\n", ok_own, own);
    CHECK(own >= 12, "expected the 12 files of tests/keras/json, found %d", own);
    const char *shared = "../shared/oracle/keras";
    int real = check_dir(shared, &ok_real);
    if (real < 0) {
        printf("skipped the real Keras models: %s is not here (third-party files, beside the "
               "repository in CI)\n",
               shared);
    } else {
        printf("real Keras files: %d of %d match layer by layer\n", ok_real, real);
        CHECK(real >= 42, "expected the 42 files of %s, found %d", shared, real);
    }
    return TEST_DONE("keras_oracle");
}
