/* One FLOP count (issue 14): the op's cost rule (src/ops, the MACs a layer
 * reports) is what `convkit summary` prints, what the step profile
 * (ck_session_step) reports, and what bench/bench.c divides its times by
 * (bench/layers.h, included here). For the benchmark's layers and for whole
 * networks, with the reference and the fast kernels (whose steps fold batch
 * norms and activations into convolutions), the three must be the same
 * number. */
#include "../../bench/layers.h"
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Per-layer MACs as the summary's JSON gives them; NULL on error. */
static int64_t *summary_macs(const ck_graph *g, int64_t *total) {
    char *text = NULL;
    if (ck_report(g, CK_REPORT_SUMMARY, CK_FORMAT_JSON, NULL, &text) != CK_OK) return NULL;
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_free(text);
    if (!j) return NULL;
    json_t *layers = json_object_get(j, "layers");
    int n = ck_graph_num_layers(g);
    int64_t *m = calloc((size_t)n + 1, sizeof *m);
    for (int i = 0; m && i < n && i < (int)json_array_size(layers); i++)
        m[i] = json_integer_value(json_object_get(json_array_get(layers, (size_t)i), "macs"));
    *total = json_integer_value(json_object_get(json_object_get(j, "totals"), "macs"));
    json_decref(j);
    return m;
}

static int layer_index(const ck_graph *g, const char *name) {
    for (int i = 0; i < ck_graph_num_layers(g); i++)
        if (!strcmp(ck_graph_layer(g, i).name, name)) return i;
    return -1;
}

/* Checks g's three counts agree; returns 2 x its total MACs. */
static double agree(const char *what, ck_graph *g) {
    ck_diags d = {0};
    if (ck_check(g, &d) != CK_OK) {
        CHECK(false, "%s: check: %s", what, d.n ? d.v[0].message : "?");
        ck_diags_free(&d);
        return -1;
    }
    int n = ck_graph_num_layers(g);
    int64_t sum_total = -1;
    int64_t *sm = summary_macs(g, &sum_total);
    CHECK(sm != NULL, "%s: summary JSON", what);
    if (!sm) return -1;
    ck_totals t = ck_graph_totals(g);
    CHECK(sum_total == t.macs, "%s: summary total %lld, graph total %lld", what,
          (long long)sum_total, (long long)t.macs);
    for (int i = 0; i < n; i++)
        CHECK(sm[i] == ck_graph_layer(g, i).macs, "%s: layer %s: summary %lld, layer %lld", what,
              ck_graph_layer(g, i).name, (long long)sm[i], (long long)ck_graph_layer(g, i).macs);
    const ck_kernels kinds[2] = {CK_KERNELS_REF, CK_KERNELS_AUTO};
    for (int k = 0; k < 2; k++) {
        ck_session_options o = {.kernels = kinds[k], .threads = 1, .seed = 1};
        ck_session *s = NULL;
        if (ck_session_new(g, &o, &s, &d) != CK_OK) {
            CHECK(false, "%s: session: %s", what, d.n ? d.v[0].message : "?");
            continue;
        }
        int64_t *per = calloc((size_t)n + 1, sizeof *per), steps_total = 0;
        ck_session_info si = ck_session_describe(s);
        for (int st = 0; st < si.steps; st++) {
            ck_step_info in;
            if (ck_session_step(s, st, &in) != CK_OK) continue;
            int li = layer_index(g, in.layer);
            CHECK(li >= 0, "%s: step %d names no layer", what, st);
            if (li >= 0) per[li] += in.flops;
            steps_total += in.flops;
        }
        /* every layer that runs: its steps' flops are 2 x its MACs (layers
         * folded into views or constants run no step and count nothing) */
        for (int i = 0; i < n; i++) {
            ck_layer_info li = ck_graph_layer(g, i);
            if (per[i] == 0 && li.macs == 0) continue;
            CHECK(per[i] == 2 * li.macs,
                  "%s (%s kernels): layer %s: profile %lld flops, summary "
                  "%lld MACs",
                  what, k ? "auto" : "ref", li.name, (long long)per[i], (long long)li.macs);
        }
        CHECK(steps_total == 2 * t.macs, "%s (%s kernels): profile %lld flops, summary %lld MACs",
              what, k ? "auto" : "ref", (long long)steps_total, (long long)t.macs);
        free(per);
        ck_session_free(s);
    }
    free(sm);
    ck_diags_free(&d);
    return 2.0 * (double)t.macs;
}

static ck_graph *parse(const char *text) {
    ck_graph *g = NULL;
    if (ck_parse_cnn(text, strlen(text), "net", NULL, &g, NULL) != CK_OK) return NULL;
    return g;
}

int main(void) {
    /* the benchmark's layers: bench_layer_flops is the same count */
    for (int i = 0; i < N_LAYERS; i++) {
        const layer_spec *l = &LAYERS[i];
        char text[512];
        bench_layer_cnn(l, text, sizeof text);
        ck_graph *g = parse(text);
        CHECK(g != NULL, "%s parses", l->name);
        if (!g) continue;
        double f = agree(l->name, g);
        CHECK(f > 0 && f == bench_layer_flops(l), "%s: bench counts %.0f FLOPs, convkit %.0f",
              l->name, bench_layer_flops(l), f);
        /* padding taps count: the direct-convolution formula */
        int OH = (l->H + 2 * l->p - l->d * (l->k - 1) - 1) / l->s + 1;
        int OW = (l->W + 2 * l->p - l->d * (l->k - 1) - 1) / l->s + 1;
        double direct = 2.0 * l->O * (l->C / l->g) * l->k * l->k * (double)OH * OW;
        CHECK(f == direct, "%s: %.0f FLOPs, 2*O*(C/g)*K*K*OH*OW = %.0f", l->name, f, direct);
        ck_graph_free(g);
    }

    /* networks: convolutions with batch norms and activations folded into
     * them by the fast kernels, grouped and transposed convolutions, linear
     * layers, 1-D and 3-D convolutions */
    const char *nets[] = {
        "input: [2, 16, 20, 18]\n"
        "c1 = Conv2d(16, 32, 3, stride=2, padding=1, bias=False)\n"
        "bn1 = BatchNorm2d(32)\nr1 = ReLU()\n"
        "c2 = Conv2d(32, 32, (3, 5), padding=2, dilation=2, groups=4)\n"
        "dw = Conv2d(32, 32, 3, padding=1, groups=32)\n"
        "up = ConvTranspose2d(32, 8, 3, stride=2, padding=1, output_padding=1)\n"
        "pool = AdaptiveAvgPool2d(1)\nflat = Flatten()\nfc = Linear(8, 10)\n",
        "input: [1, 24, 15, 15]\n"
        "conv1 = Conv2d(24, 24, 3, padding=1, bias=False)\nbn1 = BatchNorm2d(24)\n"
        "relu1 = ReLU()\nconv2 = Conv2d(24, 24, 1, bias=False)\nbn2 = BatchNorm2d(24)\n"
        "sum = add(bn2, input)\nrelu2 = ReLU()\nconv3 = Conv2d(24, 40, 1, stride=2)\n",
        "input: [3, 40]\nfc1 = Linear(40, 64)\nr = ReLU()\nfc2 = Linear(64, 5)\n",
        "input: [2, 3, 50]\nc = Conv1d(3, 8, 5, padding=2)\n",
        "input: [1, 4, 6, 8, 8]\nc = Conv3d(4, 6, 3, padding=1, stride=(1, 2, 2))\n",
    };
    for (size_t i = 0; i < sizeof nets / sizeof *nets; i++) {
        ck_graph *g = parse(nets[i]);
        CHECK(g != NULL, "net %zu parses", i);
        if (!g) continue;
        char what[32];
        snprintf(what, sizeof what, "net %zu", i);
        agree(what, g);
        ck_graph_free(g);
    }
    const char *files[] = {"bench/models/resnet18.cnn", "bench/models/mobilenet_v2.cnn",
                           "examples/unet.cnn"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        ck_graph *g = NULL;
        if (ck_load_file(files[i], NULL, &g, NULL) != CK_OK) {
            CHECK(false, "cannot load %s", files[i]);
            continue;
        }
        ck_shape in = ck_graph_input_shape(g, 0);
        if (in.rank == 0) {
            ck_shape s = {4, {1, 3, 224, 224}};
            ck_graph_set_input_shape(g, 0, &s);
        }
        agree(files[i], g);
        ck_graph_free(g);
    }
    return TEST_DONE("flops");
}
