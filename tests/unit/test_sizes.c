/* The input-size solver against the oracle: for every network the importers
 * read with dynamic height/width, the valid square sizes 1..300 and the
 * smallest valid size equal PyTorch's sweep (the oracle networks/NAME.json);
 * the layer that rejects each run of sizes matches PyTorch's failing module;
 * the size formulas and the compact printing on hand-made networks. */
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static ck_graph *load(const char *path, const char *input) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_file(path, NULL, &g, &d);
    ck_diags_free(&d);
    if (st != CK_OK) return NULL;
    if (input) {
        ck_shape s;
        ck_parse_shape(input, &s);
        ck_graph_set_input_shape(g, 0, &s);
    }
    return g;
}

static ck_graph *parse(const char *text) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_parse_cnn(text, strlen(text), "t.cnn", NULL, &g, &d);
    ck_diags_free(&d);
    return g;
}

static bool runs_equal_json(const ck_runs *r, json_t *a) {
    if ((size_t)r->n != json_array_size(a)) return false;
    for (int i = 0; i < r->n; i++) {
        json_t *p = json_array_get(a, (size_t)i);
        if (r->v[i].first != json_integer_value(json_array_get(p, 0)) ||
            r->v[i].last != json_integer_value(json_array_get(p, 1)))
            return false;
    }
    return true;
}

/* "conv3 (Conv2d): output_too_small" -> [[7, 14]] against our failures. */
static void check_failures(const char *net, const ck_sizes *sz, json_t *fbm) {
    const char *key;
    json_t *runs;
    json_object_foreach(fbm, key, runs) {
        char mod[128];
        const char *sp = strchr(key, ' ');
        const char *colon = strrchr(key, ':');
        if (!sp || !colon || (size_t)(sp - key) >= sizeof mod) continue;
        memcpy(mod, key, (size_t)(sp - key));
        mod[sp - key] = 0;
        const char *code = colon + 2;
        /* every size PyTorch rejects in this module we reject with the same
         * code, at that layer (or, for the model's own forward, at a join) */
        bool good = true;
        size_t i;
        json_t *run;
        json_array_foreach(runs, i, run) {
            for (int64_t n = json_integer_value(json_array_get(run, 0));
                 n <= json_integer_value(json_array_get(run, 1)); n++) {
                bool found = false;
                for (int f = 0; f < sz->square.n_fail && !found; f++) {
                    const ck_size_failure *sf = &sz->square.fail[f];
                    if (strcmp(ck_code_name(sf->code), code) != 0) continue;
                    if (strcmp(mod, "<root>") != 0 && strcmp(sf->layer, mod) != 0) continue;
                    for (int k = 0; k < sf->sizes.n; k++)
                        if (n >= sf->sizes.v[k].first && n <= sf->sizes.v[k].last) found = true;
                }
                if (!found) good = false;
            }
        }
        CHECK(good, "%s: PyTorch's failures '%s' are not ours", net, key);
    }
}

static void oracle_net(const char *name, const char *model, const char *input, bool layer_names) {
    char path[256];
    snprintf(path, sizeof path, "tests/oracle/networks/%s.json", name);
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    CHECK(o, "%s: %s", path, je.text);
    if (!o) return;
    ck_graph *g = load(model, input);
    CHECK(g, "%s loads", model);
    if (!g) {
        json_decref(o);
        return;
    }
    ck_sizes sz;
    ck_diags d = {0};
    ck_status st = ck_solve_sizes(g, 0, 1, 300, &sz, &d);
    CHECK(st == CK_OK, "%s: solve_sizes status %d", model, st);
    if (st == CK_OK) {
        int64_t min = json_integer_value(json_object_get(o, "min_valid_size"));
        CHECK(sz.square.min == min, "%s: min square %lld, PyTorch %lld", model,
              (long long)sz.square.min, (long long)min);
        CHECK(runs_equal_json(&sz.square.valid, json_object_get(o, "valid_sizes")),
              "%s: valid square sizes differ from PyTorch's", model);
        if (layer_names) check_failures(model, &sz, json_object_get(o, "failures_by_module"));
        /* minimal: one smaller fails */
        if (sz.square.min > 1) {
            ck_shape s = sz.given;
            for (int k = 0; k < sz.n_axes; k++) s.d[sz.axes[k].tensor_axis] = sz.square.min - 1;
            ck_graph_set_input_shape(g, 0, &s);
            ck_diags d2 = {0};
            CHECK(ck_check(g, &d2) == CK_EINVALID, "%s: %lld should fail", model,
                  (long long)sz.square.min - 1);
            ck_diags_free(&d2);
        }
        CHECK(sz.checks == 3 * 300, "%s: %lld checks", model, (long long)sz.checks);
        ck_sizes_free(&sz);
    }
    ck_diags_free(&d);
    ck_graph_free(g);
    json_decref(o);
}

static void formula(const char *text, const char *want_square, const char *want_valid) {
    ck_graph *g = parse(text);
    CHECK(g, "parse %s", text);
    if (!g) return;
    ck_sizes sz;
    ck_diags d = {0};
    ck_status st = ck_solve_sizes(g, 0, 1, 1024, &sz, &d);
    CHECK(st == CK_OK, "solve");
    if (st == CK_OK) {
        char *f = ck_size_fn_str(&sz.square.fn);
        char *v = ck_runs_str(&sz.square.valid, sz.hi);
        CHECK(!strcmp(f, want_square), "formula '%s', want '%s'", f, want_square);
        CHECK(!strcmp(v, want_valid), "valid '%s', want '%s'", v, want_valid);
        /* the formula reproduces every valid size's output */
        const ck_size_fn *fn = &sz.square.fn;
        bool holds = fn->found;
        for (int64_t n = 1; n <= 1024 && holds && fn->out_axis >= 0; n++) {
            int64_t o = sz.square.out[n - 1];
            if (o < 0) continue;
            int64_t q = n + fn->add;
            int64_t fl = q >= 0 ? q / fn->div : -((-q + fn->div - 1) / fn->div);
            holds = fl * fn->mul + fn->base == o;
        }
        CHECK(holds, "%s does not reproduce the outputs", f);
        free(f);
        free(v);
        ck_sizes_free(&sz);
    }
    ck_diags_free(&d);
    ck_graph_free(g);
}

int main(void) {
    oracle_net("chain", "examples/chain.cnn", "1x3x32x32", true);
    oracle_net("unet", "examples/unet.cnn", "1x3x64x64", true);
    oracle_net("chain", "tests/oracle/networks/chain.onnx", "1x3x32x32", false);
    oracle_net("unet", "tests/oracle/networks/unet.onnx", "1x3x64x64", false);
    oracle_net("resnet18", "tests/oracle/networks/resnet18.onnx", "1x3x224x224", false);
    oracle_net("mobilenet_v2", "tests/oracle/networks/mobilenet_v2.onnx", "1x3x224x224", false);
    oracle_net("squeezenet1_0", "tests/oracle/networks/squeezenet1_0.onnx", "1x3x224x224", false);

    formula("input: [1, 3, 32, 32]\n"
            "conv1 = Conv2d(3, 16, kernel_size=3, stride=2)\n"
            "conv2 = Conv2d(16, 32, kernel_size=3, stride=2)\n"
            "conv3 = Conv2d(32, 64, kernel_size=3, stride=2)\n",
            "out = floor((in - 15) / 8) + 1", "15-1024");
    formula("input: [1, 3, 32, 32]\nc = Conv2d(3, 8, 3, padding=1)\n", "out = in", "1-1024");
    formula("input: [1, 3, 32, 32]\nc = Conv2d(3, 8, 5)\n", "out = in - 4", "5-1024");
    formula("input: [1, 3, 32, 32]\nu = ConvTranspose2d(3, 8, 2, stride=2)\n", "out = 2 * in",
            "1-1024");
    formula("input: [1, 3, 32, 32]\np = MaxPool2d(2)\nu = Upsample(scale_factor=2)\n",
            "out = 2 * floor(in / 2)", "2-1024");
    formula("input: [1, 3, 32, 32]\np = AdaptiveAvgPool2d((7, 7))\n", "out = 7", "1-1024");
    formula("input: [1, 3, 32, 32]\n"
            "a = MaxPool2d(2)\n"
            "b = Upsample(scale_factor=2)\n"
            "c = add(b, input)\n",
            "out = in", "every 2 from 2");
    /* 1-D: length */
    formula("input: [1, 4, 100]\nc = Conv1d(4, 4, 7, stride=3, dilation=2)\n",
            "out = floor((in - 13) / 3) + 1", "13-1024");

    /* sparse valid sets: a Keras U-Net (a pooling stem, three levels joined
     * by concatenation, an upsampling head; tests/keras/gen_json.py) valid
     * at 16-17, 32-33, ... */
    {
        ck_graph *g = load("tests/keras/json/k2_unet.json", NULL);
        ck_sizes sz;
        ck_diags d = {0};
        CHECK(g && ck_solve_sizes(g, 0, 1, 1024, &sz, &d) == CK_OK, "keras unet sizes");
        if (g) {
            char *f = ck_size_fn_str(&sz.square.fn);
            char *v = ck_runs_str(&sz.square.valid, sz.hi);
            CHECK(!strcmp(f, "out = 2 * floor(in / 2)"), "keras unet formula '%s'", f);
            CHECK(!strcmp(v, "16-17 and every 16 after"), "keras unet valid '%s'", v);
            free(f);
            free(v);
            ck_sizes_free(&sz);
        }
        ck_diags_free(&d);
        ck_graph_free(g);
    }

    /* compact printing */
    ck_run rv[] = {{3, 3}, {5, 9}};
    ck_runs r = {2, rv};
    char *s = ck_runs_str(&r, 100);
    CHECK(!strcmp(s, "3, 5-9"), "runs '%s'", s);
    free(s);
    ck_run pv[] = {{16, 19}, {32, 35}, {48, 51}, {64, 64}};
    ck_runs p = {4, pv};
    s = ck_runs_str(&p, 64);
    CHECK(!strcmp(s, "16-19 and every 16 after"), "runs '%s'", s);
    free(s);
    ck_run qv[] = {{16, 16}, {32, 32}, {48, 48}};
    ck_runs q = {3, qv};
    s = ck_runs_str(&q, 100);
    CHECK(!strcmp(s, "every 16 from 16 to 48"), "runs '%s'", s);
    free(s);

    /* bad ranges and inputs */
    ck_graph *g = parse("input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3)\n");
    ck_sizes sz;
    ck_diags d = {0};
    CHECK(ck_solve_sizes(g, 0, 0, 10, &sz, &d) == CK_EUSAGE && d.n == 1, "range from 0");
    CHECK(ck_solve_sizes(g, 0, 10, 5, &sz, &d) == CK_EUSAGE, "empty range");
    CHECK(ck_solve_sizes(g, 1, 1, 5, &sz, &d) == CK_EUSAGE, "no input 1");
    ck_diags_free(&d);
    ck_graph_free(g);
    g = parse("input: [1, 10]\nfc = Linear(10, 2)\n");
    CHECK(ck_solve_sizes(g, 0, 1, 5, &sz, &d) == CK_EUSAGE && d.n == 1 &&
              strstr(d.v[0].message, "no spatial axes"),
          "rank-2 input has no spatial axes");
    ck_diags_free(&d);
    ck_graph_free(g);
    return TEST_DONE("sizes");
}
