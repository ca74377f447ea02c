/* The seed documents' examples (examples/ + tests/seeds_map.txt) against the
 * frameworks' true answers in tests/oracle/seeds_cases.json: output shape or
 * error class, failing module, and every traced layer's shape. */
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static bool shape_from_json(json_t *a, ck_shape *s) {
    if (!json_is_array(a) || json_array_size(a) > CK_MAX_RANK) return false;
    s->rank = (int)json_array_size(a);
    for (int i = 0; i < s->rank; i++) s->d[i] = json_integer_value(json_array_get(a, (size_t)i));
    return true;
}

static int find_layer(const ck_graph *g, const char *name) {
    for (int i = 0; i < ck_graph_num_layers(g); i++)
        if (!strcmp(ck_graph_layer(g, i).name, name)) return i;
    return -1;
}

int main(void) {
    json_error_t je;
    json_t *root = json_load_file("tests/oracle/seeds_cases.json", 0, &je);
    CHECK(root != NULL, "cannot read seeds_cases.json: %s", je.text);
    if (!root) return TEST_DONE("seeds");
    json_t *cases = json_object_get(root, "cases");
    FILE *map = fopen("tests/seeds_map.txt", "r");
    CHECK(map != NULL, "cannot read tests/seeds_map.txt");
    char line[512];
    int mapped = 0;
    while (map && fgets(line, sizeof line, map)) {
        char id[128], path[256];
        if (line[0] == '#' || sscanf(line, "%127s %255s", id, path) != 2) continue;
        json_t *c = NULL;
        for (size_t i = 0; i < json_array_size(cases); i++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(cases, i), "id")), id))
                c = json_array_get(cases, i);
        CHECK(c != NULL, "%s: no such case", id);
        if (!c) continue;
        mapped++;
        ck_graph *g = NULL;
        ck_diags d = {0};
        ck_status st = ck_load_file(path, NULL, &g, &d);
        CHECK(st == CK_OK, "%s: cannot load %s", id, path);
        if (st != CK_OK) {
            ck_diags_free(&d);
            continue;
        }
        ck_shape in;
        shape_from_json(json_object_get(c, "input_shape"), &in);
        ck_graph_set_input_shape(g, 0, &in);
        st = ck_check(g, &d);
        json_t *os = json_object_get(c, "output_shape");
        bool degenerate = json_is_true(json_object_get(c, "degenerate"));
        const char *err =
            degenerate ? "output_too_small" : json_string_value(json_object_get(c, "error"));
        if (os && !err) {
            ck_shape want, got = ck_graph_layer(g, ck_graph_num_layers(g) - 1).output;
            shape_from_json(os, &want);
            char a[128], b[128];
            CHECK(st == CK_OK && got.rank == want.rank &&
                      !memcmp(got.d, want.d, sizeof(int64_t) * (size_t)got.rank),
                  "%s (%s): want %s, got %s", id, path, ck_shape_str(&want, a, sizeof a),
                  st == CK_OK ? ck_shape_str(&got, b, sizeof b)
                              : (d.n ? d.v[d.n - 1].message : "?"));
        } else {
            const ck_diag *e = NULL;
            for (int i = 0; i < d.n && !e; i++)
                if (d.v[i].severity == CK_SEV_ERROR) e = &d.v[i];
            CHECK(st == CK_EINVALID && e && !strcmp(ck_code_name(e->code), err),
                  "%s (%s): want %s, got %s", id, path, err,
                  e ? ck_code_name(e->code) : "no error");
            const char *fm = json_string_value(json_object_get(c, "failing_module"));
            if (e && fm && strcmp(fm, "<root>") != 0)
                CHECK(e->layer && !strcmp(e->layer, fm), "%s: failing layer %s, want %s", id,
                      e->layer, fm);
        }
        json_t *trace = json_object_get(c, "trace");
        for (size_t i = 0; i < json_array_size(trace); i++) {
            json_t *t = json_array_get(trace, i);
            const char *mod = json_string_value(json_object_get(t, "module"));
            int li = find_layer(g, mod);
            CHECK(li >= 0, "%s: no layer named %s", id, mod);
            if (li < 0) continue;
            ck_shape want, got = ck_graph_layer(g, li).output;
            shape_from_json(json_object_get(t, "output_shape"), &want);
            CHECK(ck_graph_layer(g, li).state == CK_LAYER_OK && got.rank == want.rank &&
                      !memcmp(got.d, want.d, sizeof(int64_t) * (size_t)got.rank),
                  "%s: layer %s shape differs from the trace", id, mod);
        }
        ck_diags_free(&d);
        ck_graph_free(g);
    }
    if (map) fclose(map);
    CHECK(mapped == (int)json_array_size(cases), "%d of %zu seed cases have an example", mapped,
          json_array_size(cases));
    json_decref(root);
    return TEST_DONE("seeds");
}
