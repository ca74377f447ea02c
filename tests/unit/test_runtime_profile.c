/* The per-step profile API: ck_session_step (layer, type, kernel, flops)
 * and ck_session_run_profiled. Kernel strings are matched by prefix only
 * ("ref", "avx512 conv", "folded into "): their details change with the
 * planner. */
#include "convkit.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static bool starts(const char *s, const char *prefix) {
    return !strncmp(s, prefix, strlen(prefix));
}

static ck_kernels cpu_best(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f")                                 ? CK_KERNELS_AVX512
           : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? CK_KERNELS_AVX2
                                                                             : CK_KERNELS_REF;
}

/* What a layer of a test network computes: convolutions give their input
 * channels per group and kernel size (flops from the checked output
 * shape), Linear layers M, K, N; everything else 0 flops. */
typedef struct expect {
    const char *layer;
    int cg, kh, kw;          /* convolution; kh 0: not one */
    int64_t m, k, n;         /* linear; m 0: not one */
    const char *folded_into; /* with fast kernels: "folded into <this>" */
    bool fast_conv;          /* with fast kernels: "<isa> conv..." */
} expect;

typedef struct net {
    const char *spec;
    expect e[12];
} net;

static const net NETS[] = {
    {"input: [2, 16, 20, 18]\n"
     "c1 = Conv2d(16, 32, 3, stride=2, padding=1, bias=False)\n"
     "bn1 = BatchNorm2d(32)\n"
     "r1 = ReLU()\n"
     "c2 = Conv2d(32, 32, (3, 5), padding=2, dilation=2, groups=4)\n"
     "dw = Conv2d(32, 32, 3, padding=1, groups=32)\n"
     "r2 = ReLU()\n"
     "pool = AdaptiveAvgPool2d(1)\n"
     "flat = Flatten()\n"
     "fc = Linear(32, 10)\n",
     {{"c1", 16, 3, 3, 0, 0, 0, NULL, true},
      {"bn1", 0, 0, 0, 0, 0, 0, "c1", false},
      {"r1", 0, 0, 0, 0, 0, 0, "c1", false},
      {"c2", 8, 3, 5, 0, 0, 0, NULL, false},
      {"dw", 1, 3, 3, 0, 0, 0, NULL, false},
      {"fc", 0, 0, 0, 2, 32, 10, NULL, false},
      {0}}},
    /* a residual block whose add reads the network input */
    {"input: [1, 24, 15, 15]\n"
     "conv1 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "bn1 = BatchNorm2d(24)\n"
     "relu1 = ReLU()\n"
     "conv2 = Conv2d(24, 24, 1, bias=False)\n"
     "bn2 = BatchNorm2d(24)\n"
     "sum = add(bn2, input)\n"
     "relu2 = ReLU()\n"
     "conv3 = Conv2d(24, 40, 1, stride=2)\n",
     {{"conv1", 24, 3, 3, 0, 0, 0, NULL, true},
      {"bn1", 0, 0, 0, 0, 0, 0, "conv1", false},
      {"relu1", 0, 0, 0, 0, 0, 0, "conv1", false},
      {"conv2", 24, 1, 1, 0, 0, 0, NULL, true},
      {"bn2", 0, 0, 0, 0, 0, 0, "conv2", false},
      {"conv3", 24, 1, 1, 0, 0, 0, NULL, true},
      {0}}},
    {"input: [3, 40]\nfc1 = Linear(40, 64)\nr = ReLU()\nfc2 = Linear(64, 5)\n",
     {{"fc1", 0, 0, 0, 3, 40, 64, NULL, false}, {"fc2", 0, 0, 0, 3, 64, 5, NULL, false}, {0}}},
};

static const expect *find(const net *nt, const char *layer) {
    for (const expect *e = nt->e; e->layer; e++)
        if (!strcmp(e->layer, layer)) return e;
    return NULL;
}

static int64_t expected_flops(const ck_graph *g, const expect *e) {
    if (!e) return 0;
    if (e->m) return 2 * e->m * e->k * e->n;
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        if (strcmp(li.name, e->layer)) continue;
        const ck_shape *y = &li.output; /* [N, O, OH, OW] */
        return 2 * y->d[0] * y->d[1] * e->cg * e->kh * e->kw * y->d[2] * y->d[3];
    }
    return -1;
}

/* the graph layer called `name`, or -1 */
static int graph_layer(const ck_graph *g, const char *name) {
    for (int i = 0; i < ck_graph_num_layers(g); i++)
        if (!strcmp(ck_graph_layer(g, i).name, name)) return i;
    return -1;
}

static void check_steps(const net *nt, const ck_graph *g, const ck_session *s, ck_kernels want) {
    ck_session_info si = ck_session_describe(s);
    CHECK(si.steps > 0, "no steps");
    int folded = 0;
    int64_t *flops = calloc((size_t)ck_graph_num_layers(g), sizeof *flops);
    for (int i = 0; i < si.steps; i++) {
        ck_step_info in;
        memset(&in, 0x5a, sizeof in);
        CHECK(ck_session_step(s, i, &in) == CK_OK, "step %d", i);
        if (!in.layer || !in.type) {
            CHECK(false, "step %d: no layer or type", i);
            continue;
        }
        CHECK(memchr(in.kernel, 0, sizeof in.kernel) && in.kernel[0], "step %d: kernel string", i);
        int li = graph_layer(g, in.layer);
        CHECK(li >= 0, "step %d: layer '%s' is not in the graph", i, in.layer);
        if (li < 0) continue;
        CHECK(!strcmp(ck_graph_layer(g, li).type, in.type), "step %d (%s): type %s, want %s", i,
              in.layer, in.type, ck_graph_layer(g, li).type);
        CHECK(in.flops >= 0, "step %d: flops %lld", i, (long long)in.flops);
        flops[li] += in.flops;
        const expect *e = find(nt, in.layer);
        folded += starts(in.kernel, "folded into ");
        if (want == CK_KERNELS_REF) {
            CHECK(!strcmp(in.kernel, "ref"), "step %d (%s): kernel '%s' with ref kernels", i,
                  in.layer, in.kernel);
            continue;
        }
        const char *isa = want == CK_KERNELS_AVX512 ? "avx512 " : "avx2 ";
        if (e && e->fast_conv) {
            char pre[32];
            snprintf(pre, sizeof pre, "%sconv", isa);
            CHECK(starts(in.kernel, pre), "step %d (%s): kernel '%s', want '%s...'", i, in.layer,
                  in.kernel, pre);
        } else if (e && e->folded_into) {
            char want_k[96];
            snprintf(want_k, sizeof want_k, "folded into %s", e->folded_into);
            CHECK(!strcmp(in.kernel, want_k), "step %d (%s): kernel '%s', want '%s'", i, in.layer,
                  in.kernel, want_k);
        } else if (e && e->kh) {
            /* other convolutions: a fast kernel of the planned ISA or ref */
            CHECK((starts(in.kernel, isa) && strstr(in.kernel, "conv")) ||
                      !strcmp(in.kernel, "ref"),
                  "step %d (%s): kernel '%s'", i, in.layer, in.kernel);
        }
    }
    CHECK(folded == si.folded_steps, "%d steps say folded, describe() says %d", folded,
          si.folded_steps);
    if (want == CK_KERNELS_REF) CHECK(si.folded_steps == 0, "folds with ref kernels");
    /* every layer's flops, summed over its steps */
    for (int li = 0; li < ck_graph_num_layers(g); li++) {
        ck_layer_info l = ck_graph_layer(g, li);
        int64_t want_f = expected_flops(g, find(nt, l.name));
        CHECK(flops[li] == want_f, "%s (%s): %lld flops, want %lld", l.name, l.type,
              (long long)flops[li], (long long)want_f);
    }
    free(flops);

    /* misuse */
    ck_step_info in;
    CHECK(ck_session_step(s, -1, &in) == CK_EUSAGE, "step -1");
    CHECK(ck_session_step(s, si.steps, &in) == CK_EUSAGE, "step past the end");
    CHECK(ck_session_step(s, 0, NULL) == CK_EUSAGE, "NULL info");
    CHECK(ck_session_step(NULL, 0, &in) == CK_EUSAGE, "NULL session");
}

static void check_profiled(const ck_session *s) {
    ck_session_info si = ck_session_describe(s);
    ck_shape is = ck_session_input_shape(s, 0), os = ck_session_output_shape(s, 0);
    ck_tensor_f32 *x = NULL, *y0 = NULL, *y1 = NULL;
    ck_session_ctx *c = NULL;
    double *sec = calloc((size_t)si.steps, sizeof *sec);
    if (ck_tensor_f32_new(&is, &x) != CK_OK || ck_tensor_f32_new(&os, &y0) != CK_OK ||
        ck_tensor_f32_new(&os, &y1) != CK_OK || ck_session_ctx_new(s, &c) != CK_OK || !sec) {
        CHECK(false, "out of memory");
        goto done;
    }
    ck_tensor_f32_fill_normal(x, 5);
    const float *in[1] = {x->data};
    float *out0[1] = {y0->data}, *out1[1] = {y1->data};
    CHECK(ck_session_run(s, c, in, out0) == CK_OK, "run");
    for (int rep = 0; rep < 3; rep++) {
        memset(y1->data, 0xff, (size_t)ck_tensor_f32_numel(y1) * sizeof(float));
        for (int i = 0; i < si.steps; i++) sec[i] = -1;
        double t0 = now_s();
        ck_status st = ck_session_run_profiled(s, c, in, out1, sec);
        double wall = now_s() - t0;
        CHECK(st == CK_OK, "run_profiled: %d", (int)st);
        CHECK(!memcmp(y0->data, y1->data, (size_t)ck_tensor_f32_numel(y0) * sizeof(float)),
              "profiled output differs from ck_session_run's");
        double sum = 0;
        bool nonneg = true;
        for (int i = 0; i < si.steps; i++) {
            nonneg &= sec[i] >= 0;
            sum += sec[i];
        }
        CHECK(nonneg, "a step time is negative or unset");
        CHECK(sum <= wall, "step times sum to %g s, the call took %g s", sum, wall);
        CHECK(sum > 0, "no time measured at all");
    }
    CHECK(ck_session_run_profiled(s, c, in, out1, NULL) == CK_EUSAGE, "NULL step_seconds");
    CHECK(ck_session_run_profiled(NULL, c, in, out1, sec) == CK_EUSAGE, "NULL session");
    CHECK(ck_session_run_profiled(s, NULL, in, out1, sec) == CK_EUSAGE, "NULL context");
    CHECK(ck_session_run_profiled(s, c, NULL, out1, sec) == CK_EUSAGE, "NULL inputs");
    CHECK(ck_session_run_profiled(s, c, in, NULL, sec) == CK_EUSAGE, "NULL outputs");
done:
    free(sec);
    ck_session_ctx_free(c);
    ck_tensor_f32_free(x);
    ck_tensor_f32_free(y0);
    ck_tensor_f32_free(y1);
}

int main(void) {
    ck_kernels best = cpu_best();
    for (size_t ni = 0; ni < sizeof NETS / sizeof *NETS; ni++) {
        const net *nt = &NETS[ni];
        ck_graph *g = NULL;
        ck_diags d = {0};
        ck_status st = ck_parse_cnn(nt->spec, strlen(nt->spec), "profile.cnn", NULL, &g, &d);
        if (st == CK_OK) st = ck_check(g, &d);
        CHECK(st == CK_OK, "spec checks:\n%s", nt->spec);
        ck_diags_free(&d);
        for (const expect *e = nt->e; st == CK_OK && e->layer; e++)
            CHECK(graph_layer(g, e->layer) >= 0, "no layer %s", e->layer);
        static const ck_kernels ks[] = {CK_KERNELS_REF, CK_KERNELS_AUTO};
        for (int ki = 0; st == CK_OK && ki < 2; ki++)
            for (int threads = 1; threads <= 2; threads++) {
                ck_session_options o = {.seed = 3, .threads = threads, .kernels = ks[ki]};
                ck_session *s = NULL;
                if (ck_session_new(g, &o, &s, &d) != CK_OK) {
                    CHECK(false, "session:\n%s", nt->spec);
                    ck_diags_free(&d);
                    continue;
                }
                ck_kernels want = ks[ki] == CK_KERNELS_REF ? CK_KERNELS_REF : best;
                CHECK(ck_session_describe(s).kernels == want, "planned kernels %d, want %d",
                      (int)ck_session_describe(s).kernels, (int)want);
                check_steps(nt, g, s, want);
                check_profiled(s);
                ck_session_free(s);
            }
        ck_graph_free(g);
    }
    return TEST_DONE("runtime_profile");
}
