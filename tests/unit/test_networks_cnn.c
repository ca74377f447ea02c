/* The oracle's whole-network sweeps (tests/oracle/networks/{chain,unet}.json:
 * PyTorch at every square size 1..300 and the non-square probes) against
 * the same networks written as .cnn files in examples/. */
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <string.h>

static void run_record(const char *net, ck_graph *g, json_t *r, int *agree) {
    ck_shape in = {.rank = 4,
                   .d = {1, 3, json_integer_value(json_object_get(r, "h")),
                         json_integer_value(json_object_get(r, "w"))}};
    ck_graph_set_input_shape(g, 0, &in);
    ck_diags d = {0};
    ck_status st = ck_check(g, &d);
    bool ok = json_is_true(json_object_get(r, "ok"));
    bool good;
    char got[256] = "";
    if (ok) {
        json_t *os = json_object_get(r, "output_shape");
        ck_shape out = ck_graph_layer(g, ck_graph_num_layers(g) - 1).output;
        good = st == CK_OK && out.rank == (int)json_array_size(os);
        for (int i = 0; good && i < out.rank; i++)
            good = out.d[i] == json_integer_value(json_array_get(os, (size_t)i));
        ck_shape_str(&out, got, sizeof got);
    } else {
        const char *err = json_string_value(json_object_get(r, "error"));
        const char *mod = json_string_value(json_object_get(r, "failing_module"));
        const ck_diag *e = NULL;
        for (int i = 0; i < d.n && !e; i++)
            if (d.v[i].severity == CK_SEV_ERROR) e = &d.v[i];
        good = st == CK_EINVALID && e && !strcmp(ck_code_name(e->code), err);
        if (good && strcmp(mod, "<root>") != 0) good = e->layer && !strcmp(e->layer, mod);
        snprintf(got, sizeof got, "%s at %s", e ? ck_code_name(e->code) : "ok",
                 e && e->layer ? e->layer : "?");
    }
    CHECK(good, "%s %lldx%lld: PyTorch %s, convkit %s", net, (long long)in.d[2], (long long)in.d[3],
          ok ? "ok" : json_string_value(json_object_get(r, "error")), got);
    *agree += good;
    ck_diags_free(&d);
}

static void sweep(const char *net, const char *truth, const char *spec) {
    json_error_t je;
    json_t *root = json_load_file(truth, 0, &je);
    CHECK(root != NULL, "%s: %s", truth, je.text);
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(ck_load_file(spec, NULL, &g, &d) == CK_OK, "cannot load %s", spec);
    ck_diags_free(&d);
    if (!root || !g) return;
    int agree = 0, total = 0;
    const char *keys[] = {"square", "non_square"};
    for (int k = 0; k < 2; k++) {
        json_t *recs = json_object_get(root, keys[k]);
        for (size_t i = 0; i < json_array_size(recs); i++, total++)
            run_record(net, g, json_array_get(recs, i), &agree);
    }
    printf("  %-8s %d / %d sizes agree with PyTorch\n", net, agree, total);
    ck_graph_free(g);
    json_decref(root);
}

int main(void) {
    sweep("chain", "tests/oracle/networks/chain.json", "examples/chain.cnn");
    sweep("unet", "tests/oracle/networks/unet.json", "examples/unet.cnn");
    return TEST_DONE("networks_cnn");
}
