/* Whole networks through the fast kernels against the reference kernels,
 * built to hit every place where a planner that keeps activations
 * channel-blocked between layers ([N][C/VW][H][W][VW], padded channels
 * zero) must convert, and every fusion into a convolution's output stage
 * (batch norm, ReLU / ReLU6 / clip, residual Add): conv chains, ResNet
 * basic and bottleneck blocks with the downsample branch before and after
 * the main one and Add operands in both orders, pools on blocked data and
 * on the input, global pooling and Flatten heads (views of a conv's output
 * must see NCHW order), MobileNetV2 blocks with depthwise convs, concats at
 * unaligned channel offsets, resampling and transposed convs, grouped and
 * reflect-padded convs (reference kernels between fast ones), batch norms
 * and elementwise ops away from any conv, and (ONNX built in memory)
 * networks with several outputs, one of them a conv that also feeds others.
 *
 * Channel counts are mostly not multiples of 8 or 16, spatial sizes odd,
 * batches 1 and 2. Each network runs with the reference kernels and with
 * every fast ISA the CPU has, at 1 and 3 threads. Every run starts with
 * the context's activation and scratch memory set to NaN, and each context
 * first runs an all-NaN input, so that a kernel reading a float that no
 * step of the run wrote (a padded channel lane left unset, a stale buffer)
 * turns the output into NaN even where it multiplies it by a zero weight.
 * Outputs must agree within max|fast - ref| <= 1e-5 * max(1, max|ref|).
 * Weights are this file's own (non-zero biases, gains that make ReLU6 and
 * clips saturate, batch-norm statistics far from the identity with
 * negative scales, all different per layer and channel).
 *
 * Through ck_session_describe() and ck_session_step() only weak structural
 * facts are checked (they must hold with and without layout planning): the
 * reference plan is all "ref" and folds nothing; a fast plan of a network
 * with an ungrouped NCHW conv has a fast step and some step names its ISA
 * (an AVX2 plan never names avx512); a step "folded into X" names a conv
 * layer that an earlier, unfolded step runs, and such steps number
 * folded_steps; the steps' FLOPs add up to the same total under every
 * plan. Kernel strings are never compared whole. */
#include "convkit.h"
#include "import/import.h"
#include "runtime/runtime.h"
#include "test_onnx_util.h"
#include "test.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_IO 8

static ck_kernels cpu_best(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f")                                 ? CK_KERNELS_AVX512
           : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? CK_KERNELS_AVX2
                                                                             : CK_KERNELS_REF;
}

static const char *kernels_name(ck_kernels k) {
    return k == CK_KERNELS_AVX512 ? "avx512" : k == CK_KERNELS_AVX2 ? "avx2" : "ref";
}

/* ---- parameters --------------------------------------------------------- */

static uint64_t mix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_str(const char *s, uint64_t h) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* A uniform number in [0, 1) for element i of a parameter. */
static double unit(uint64_t seed, int64_t i) {
    return (double)(mix64(seed + (uint64_t)i * 0x9E3779B97F4A7C15ull) >> 11) * 0x1.0p-53;
}

typedef enum pkind { P_WEIGHT, P_BIAS, P_GAMMA, P_MEAN, P_VAR } pkind;

/* Every parameter differs per layer and per channel: convolution and
 * linear weights with a gain large enough that ReLU6 and clips saturate,
 * non-zero biases (their padded lanes must stay zero), batch-norm
 * statistics far from the identity with negative scales. */
static void gen_param(const char *layer, const char *param, pkind kind, int64_t n, int64_t fan_in,
                      float *out) {
    uint64_t seed = hash_str(param, hash_str(layer, 0xcbf29ce484222325ull));
    for (int64_t i = 0; i < n; i++) {
        double u = unit(seed, i);
        switch (kind) {
        case P_WEIGHT: {
            double a = sqrt(3.0) * 2.0 / sqrt((double)(fan_in > 0 ? fan_in : 1));
            out[i] = (float)((2 * u - 1) * a);
            break;
        }
        case P_BIAS:
            out[i] = (float)(u - 0.5);
            break;
        case P_GAMMA:
            out[i] = (float)(3 * u - 1);
            break;
        case P_MEAN:
            out[i] = (float)(u - 0.5);
            break;
        case P_VAR:
            out[i] = (float)(0.25 + 1.5 * u);
            break;
        }
    }
}

#define PBUF_FLOATS (1 << 18)
static float pbuf[PBUF_FLOATS];

static const float *params(void *user, const char *layer, const char *param,
                           const ck_shape *shape) {
    (void)user;
    int64_t n = 1;
    for (int i = 0; i < shape->rank; i++) n *= shape->d[i];
    if (n <= 0 || n > PBUF_FLOATS) return NULL;
    pkind kind;
    int64_t fan_in = 1;
    if (!strcmp(param, "running_mean") || !strcmp(param, "moving_mean"))
        kind = P_MEAN;
    else if (!strcmp(param, "running_var") || !strcmp(param, "moving_variance"))
        kind = P_VAR;
    else if (!strcmp(param, "bias") || !strcmp(param, "beta"))
        kind = P_BIAS;
    else if (!strcmp(param, "gamma") || (!strcmp(param, "weight") && shape->rank == 1))
        kind = P_GAMMA;
    else if (shape->rank >= 2) {
        kind = P_WEIGHT;
        /* PyTorch [out, in/groups, k...]; Keras kernels [k..., in, out] */
        fan_in = !strcmp(param, "kernel") ? n / shape->d[shape->rank - 1] : n / shape->d[0];
    } else
        return NULL;
    gen_param(layer, param, kind, n, fan_in, pbuf);
    return pbuf;
}

/* ---- running and comparing ---------------------------------------------- */

typedef struct outs {
    int n;
    ck_tensor_f32 *y[MAX_IO];
} outs;

static void outs_free(outs *o) {
    for (int i = 0; i < o->n; i++) ck_tensor_f32_free(o->y[i]);
    o->n = 0;
}

static int find_layer(const ck_graph *g, const char *name) {
    for (int i = 0; i < ck_graph_num_layers(g); i++)
        if (!strcmp(ck_graph_layer(g, i).name, name)) return i;
    return -1;
}

static bool is_conv_op(const char *op) {
    return !strcmp(op, "conv") || !strcmp(op, "conv_transpose") || !strcmp(op, "separable_conv");
}

static int n_checks_structural, n_runs;

/* Structural facts of a plan that hold with and without layout planning.
 * Returns the plan's FLOPs (sum over steps). */
static int64_t check_plan(const char *name, const ck_graph *g, const ck_session *s, ck_kernels want,
                          int threads, bool expect_fast) {
    int before = t_pass + t_fail;
    ck_session_info si = ck_session_describe(s);
    CHECK(si.kernels == want && si.threads == threads, "%s: planned %s/%d threads, want %s/%d",
          name, kernels_name(si.kernels), si.threads, kernels_name(want), threads);
    CHECK(si.steps > 0 && si.fast_steps >= 0 && si.folded_steps >= 0 &&
              si.fast_steps + si.folded_steps <= si.steps,
          "%s: %d steps, %d fast, %d folded", name, si.steps, si.fast_steps, si.folded_steps);
    if (want == CK_KERNELS_REF)
        CHECK(si.fast_steps == 0 && si.folded_steps == 0,
              "%s: reference plan has %d fast and %d folded steps", name, si.fast_steps,
              si.folded_steps);
    else if (expect_fast)
        CHECK(si.fast_steps > 0, "%s: %s plan of a network with an ungrouped conv has no fast step",
              name, kernels_name(want));
    int64_t flops = 0;
    int folded = 0, isa_named = 0;
    for (int i = 0; i < si.steps; i++) {
        ck_step_info in;
        memset(&in, 0, sizeof in);
        if (ck_session_step(s, i, &in) != CK_OK) {
            CHECK(false, "%s: ck_session_step(%d) fails", name, i);
            continue;
        }
        CHECK(in.layer && in.type && in.kernel[0], "%s: step %d is not described", name, i);
        CHECK(in.flops >= 0, "%s: step %d has %lld flops", name, i, (long long)in.flops);
        flops += in.flops;
        if (want == CK_KERNELS_REF)
            CHECK(!strcmp(in.kernel, "ref"), "%s: reference plan step %d (%s) runs '%s'", name, i,
                  in.layer ? in.layer : "?", in.kernel);
        if (want == CK_KERNELS_AVX2)
            CHECK(!strstr(in.kernel, "avx512"), "%s: avx2 plan step %d runs '%s'", name, i,
                  in.kernel);
        if (strstr(in.kernel, kernels_name(want)) && want != CK_KERNELS_REF) isa_named++;
        if (strncmp(in.kernel, "folded into ", 12) != 0) continue;
        folded++;
        const char *into = in.kernel + 12;
        int li = find_layer(g, into);
        CHECK(li >= 0 && is_conv_op(ck_graph_layer(g, li).op),
              "%s: step %d (%s) is '%s', which is not a conv layer", name, i,
              in.layer ? in.layer : "?", in.kernel);
        CHECK(in.layer && strcmp(in.layer, into) != 0, "%s: step %d (%s) is folded into itself",
              name, i, into);
        bool earlier = false;
        for (int j = 0; j < i && !earlier; j++) {
            ck_step_info e;
            if (ck_session_step(s, j, &e) == CK_OK && e.layer && !strcmp(e.layer, into) &&
                strncmp(e.kernel, "folded into ", 12) != 0)
                earlier = true;
        }
        CHECK(earlier, "%s: step %d (%s) is folded into %s, which no earlier step runs", name, i,
              in.layer ? in.layer : "?", into);
    }
    CHECK(folded == si.folded_steps, "%s: %d steps say 'folded into', describe says %d", name,
          folded, si.folded_steps);
    if (want != CK_KERNELS_REF && si.fast_steps > 0)
        CHECK(isa_named > 0, "%s: a %s plan with %d fast steps names no %s kernel", name,
              kernels_name(want), si.fast_steps, kernels_name(want));
    ck_step_info dummy;
    CHECK(ck_session_step(s, si.steps, &dummy) == CK_EUSAGE &&
              ck_session_step(s, -1, &dummy) == CK_EUSAGE,
          "%s: ck_session_step out of range is not CK_EUSAGE", name);
    n_checks_structural += t_pass + t_fail - before;
    return flops;
}

static void fill_nan(ck_tensor_f32 *t) {
    int64_t n = ck_tensor_f32_numel(t);
    for (int64_t i = 0; i < n; i++) t->data[i] = NAN;
}

/* A run may assume nothing about the memory of its context (aligned_alloc
 * gives it uninitialised, and activation buffers are shared by values of
 * different shapes and layouts): every activation and scratch float becomes
 * NaN before a run, so that a kernel reading a float no step of this run
 * wrote (a padded channel lane left unset, a stale buffer) makes the output
 * NaN, even where it multiplies that float by a zero weight. The sizes are
 * the public memory plan's; the two pointers are the context's own
 * (runtime/runtime.h): if the context changes, change this with it. */
static void poison_ctx(const ck_session *s, ck_session_ctx *c) {
    ck_session_memory m = ck_session_memory_plan(s);
    for (int64_t i = 0; i < m.activation_bytes / (int64_t)sizeof(float); i++) c->arena[i] = NAN;
    for (int64_t i = 0; i < m.scratch_bytes / (int64_t)sizeof(float); i++) c->scratch[i] = NAN;
}

/* Builds a session, checks its plan, runs it on the poison input and then
 * on x with the same context. Returns false when it could not run. */
static bool run_one(const char *name, const ck_graph *g, ck_kernels k, int threads,
                    bool expect_fast, ck_tensor_f32 *const *x, ck_tensor_f32 *const *poison,
                    outs *o, int64_t *flops) {
    ck_session_options opt = {.seed = 7, .threads = threads, .kernels = k, .params = params};
    ck_session *s = NULL;
    ck_diags d = {0};
    ck_status st = ck_session_new(g, &opt, &s, &d);
    CHECK(st == CK_OK, "%s: %s session: %s", name, kernels_name(k),
          d.n ? d.v[d.n - 1].message : "?");
    ck_diags_free(&d);
    o->n = 0;
    if (st != CK_OK) return false;
    ck_kernels best = cpu_best(), want = k > best ? best : k;
    *flops = check_plan(name, g, s, want, threads, expect_fast);
    bool ok = true;
    int ni = ck_session_num_inputs(s), no = ck_session_num_outputs(s);
    CHECK(ni <= MAX_IO && no >= 1 && no <= MAX_IO, "%s: %d inputs, %d outputs", name, ni, no);
    if (ni > MAX_IO || no < 1 || no > MAX_IO) ok = false;
    for (int i = 0; ok && i < no; i++) {
        ck_shape os = ck_session_output_shape(s, i);
        if (ck_tensor_f32_new(&os, &o->y[i]) != CK_OK) {
            CHECK(false, "%s: output %d tensor", name, i);
            ok = false;
            break;
        }
        o->n++;
    }
    ck_session_ctx *c = NULL;
    if (ok && ck_session_ctx_new(s, &c) != CK_OK) ok = false;
    if (ok) {
        const float *in[MAX_IO];
        float *out[MAX_IO];
        for (int i = 0; i < ni; i++) in[i] = poison[i]->data;
        for (int i = 0; i < no; i++) out[i] = o->y[i]->data;
        poison_ctx(s, c);
        st = ck_session_run(s, c, in, out);
        CHECK(st == CK_OK, "%s: %s poison run", name, kernels_name(k));
        for (int i = 0; i < ni; i++) in[i] = x[i]->data;
        for (int i = 0; i < no; i++) fill_nan(o->y[i]);
        poison_ctx(s, c);
        st = ck_session_run(s, c, in, out);
        CHECK(st == CK_OK, "%s: %s run", name, kernels_name(k));
        ok = st == CK_OK;
        n_runs += 2;
    }
    ck_session_ctx_free(c);
    ck_session_free(s);
    if (!ok) outs_free(o);
    return ok;
}

/* max|y - ref| / max(1, max|ref|); NaN counts as infinite. */
static double rel_error(const ck_tensor_f32 *y, const ck_tensor_f32 *ref) {
    int64_t n = ck_tensor_f32_numel(ref);
    if (n != ck_tensor_f32_numel(y)) return INFINITY;
    double err = 0, mx = 1;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)y->data[i] - ref->data[i]);
        if (!(e <= err)) err = isnan(e) ? INFINITY : e;
        if (fabs(ref->data[i]) > mx) mx = fabs(ref->data[i]);
    }
    return err / mx;
}

static int n_nets, n_bad;

static void compare_graph(const char *name, ck_graph *g, bool expect_fast) {
    n_nets++;
    int fails_before = t_fail;
    int ni = ck_graph_num_inputs(g);
    ck_tensor_f32 *x[MAX_IO] = {0}, *poison[MAX_IO] = {0};
    CHECK(ni >= 1 && ni <= MAX_IO, "%s: %d inputs", name, ni);
    if (ni < 1 || ni > MAX_IO) return;
    bool ok = true;
    for (int i = 0; i < ni; i++) {
        ck_shape is = ck_graph_input_shape(g, i);
        if (ck_tensor_f32_new(&is, &x[i]) != CK_OK || ck_tensor_f32_new(&is, &poison[i]) != CK_OK)
            ok = false;
        if (x[i]) ck_tensor_f32_fill_normal(x[i], 11 + (uint64_t)i);
        if (poison[i]) fill_nan(poison[i]);
    }
    CHECK(ok, "%s: input tensors", name);
    outs ref = {0};
    int64_t ref_flops = 0;
    if (ok) ok = run_one(name, g, CK_KERNELS_REF, 1, expect_fast, x, poison, &ref, &ref_flops);
    /* the oracle itself: finite and not all zero */
    for (int i = 0; ok && i < ref.n; i++) {
        int64_t n = ck_tensor_f32_numel(ref.y[i]);
        bool finite = true, nonzero = false;
        for (int64_t e = 0; e < n; e++) {
            finite &= isfinite(ref.y[i]->data[e]) != 0;
            nonzero |= ref.y[i]->data[e] != 0;
        }
        CHECK(finite && nonzero, "%s: reference output %d is %s", name, i,
              finite ? "all zero" : "not finite");
    }
    double worst = 0;
    char worst_at[64] = "-";
    static const ck_kernels kinds[] = {CK_KERNELS_REF, CK_KERNELS_AVX2, CK_KERNELS_AVX512};
    ck_kernels best = cpu_best();
    for (size_t ki = 0; ok && ki < sizeof kinds / sizeof *kinds; ki++) {
        if (kinds[ki] > best) continue;
        for (int threads = 1; threads <= 3; threads += 2) {
            if (kinds[ki] == CK_KERNELS_REF && threads == 1) continue; /* the oracle */
            outs y = {0};
            int64_t flops = 0;
            if (!run_one(name, g, kinds[ki], threads, expect_fast, x, poison, &y, &flops)) continue;
            CHECK(flops == ref_flops, "%s: %s/%d plan does %lld flops, the reference plan %lld",
                  name, kernels_name(kinds[ki]), threads, (long long)flops, (long long)ref_flops);
            CHECK(y.n == ref.n, "%s: %d outputs, reference %d", name, y.n, ref.n);
            for (int i = 0; i < y.n && i < ref.n; i++) {
                CHECK(ck_shape_eq(&y.y[i]->shape, &ref.y[i]->shape), "%s: output %d shape", name,
                      i);
                double e = rel_error(y.y[i], ref.y[i]);
                CHECK(e <= 1e-5, "%s: %s, %d threads, output %d: max error %g (relative)", name,
                      kernels_name(kinds[ki]), threads, i, e);
                if (!(e <= worst)) {
                    worst = e;
                    snprintf(worst_at, sizeof worst_at, "%s/%d out %d", kernels_name(kinds[ki]),
                             threads, i);
                }
            }
            outs_free(&y);
        }
    }
    if (t_fail > fails_before) n_bad++;
    printf("  %-26s %d out  max err %-10.3g %-16s%s\n", name, ref.n, worst, worst_at,
           t_fail > fails_before ? "  FAILED" : "");
    outs_free(&ref);
    for (int i = 0; i < ni; i++) {
        ck_tensor_f32_free(x[i]);
        ck_tensor_f32_free(poison[i]);
    }
}

static void compare_cnn(const char *name, const char *spec, bool expect_fast) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_parse_cnn(spec, strlen(spec), name, NULL, &g, &d);
    if (st == CK_OK) st = ck_check(g, &d);
    CHECK(st == CK_OK, "%s: does not check: %s\n%s", name, d.n ? d.v[0].message : "?", spec);
    ck_diags_free(&d);
    if (st == CK_OK) compare_graph(name, g, expect_fast);
    ck_graph_free(g);
}

/* ---- .cnn networks ------------------------------------------------------ */

typedef struct net {
    const char *name;
    /* has an ungrouped NCHW conv, so a fast plan must have a fast step
     * (false only for Keras channels-last, which runs reference kernels) */
    bool fast;
    const char *spec;
} net;

static const net nets[] = {
    /* conv chains */
    {"chain", true,
     "input: [1, 5, 15, 15]\n"
     "c1 = Conv2d(5, 24, 3, padding=1)\n"
     "c2 = Conv2d(24, 13, 1)\n"
     "c3 = Conv2d(13, 33, 3, stride=2, padding=1)\n"
     "c4 = Conv2d(33, 17, 3, padding=2, dilation=2)\n"
     "c5 = Conv2d(17, 16, 1, bias=False)\n"
     "c6 = Conv2d(16, 40, 3, stride=2)\n"
     "c7 = Conv2d(40, 32, 1)\n"
     "c8 = Conv2d(32, 3, 3, padding=1)\n"},
    {"chain_b2_aligned", true,
     "input: [2, 16, 9, 9]\n"
     "c1 = Conv2d(16, 32, 3, padding=1)\n"
     "r1 = ReLU()\n"
     "c2 = Conv2d(32, 16, 1)\n"
     "r2 = ReLU()\n"
     "c3 = Conv2d(16, 48, 3, stride=2, padding=1)\n"
     "c4 = Conv2d(48, 8, 3, padding=2, dilation=2)\n"},
    {"stem7x7", true,
     "input: [2, 3, 17, 17]\n"
     "conv1 = Conv2d(3, 24, kernel_size=7, stride=2, padding=3, bias=False)\n"
     "bn1 = BatchNorm2d(24)\n"
     "relu = ReLU(inplace=True)\n"
     "maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)\n"
     "c2 = Conv2d(24, 33, 3, padding=1)\n"
     "bn2 = BatchNorm2d(33)\n"
     "r2 = ReLU()\n"},
    {"conv_bn_relu6", true,
     "input: [1, 13, 9, 9]\n"
     "c1 = Conv2d(13, 40, 3, padding=1, bias=False)\n"
     "bn1 = BatchNorm2d(40)\n"
     "r1 = ReLU6()\n"
     "c2 = Conv2d(40, 17, 1)\n"
     "bn2 = BatchNorm2d(17)\n"
     "r2 = ReLU6(inplace=True)\n"
     "c3 = Conv2d(17, 16, 3, padding=1)\n"
     "r3 = ReLU6()\n"
     "c4 = Conv2d(16, 5, 1)\n"},
    {"hardtanh", true,
     "input: [2, 17, 9, 9]\n"
     "c1 = Conv2d(17, 24, 3, padding=1)\n"
     "h1 = Hardtanh(-1, 2)\n"
     "c2 = Conv2d(24, 5, 3, padding=1)\n"
     "bn2 = BatchNorm2d(5)\n"
     "h2 = Hardtanh(-1, 2)\n"
     "c3 = Conv2d(5, 32, 1)\n"
     "h3 = Hardtanh(min_val=-0.5, max_val=0.25)\n"
     "c4 = Conv2d(32, 13, 3, padding=1)\n"
     "h4 = Hardtanh(0.0, 6.0)\n"},
    {"acts_unfused", true,
     "input: [1, 13, 15, 15]\n"
     "c1 = Conv2d(13, 24, 3, padding=1)\n"
     "a1 = LeakyReLU(0.1)\n"
     "c2 = Conv2d(24, 17, 3, stride=2, padding=1)\n"
     "bn2 = BatchNorm2d(17)\n"
     "a2 = Sigmoid()\n"
     "c3 = Conv2d(17, 16, 1)\n"
     "a3 = Tanh()\n"
     "c4 = Conv2d(16, 33, 3, padding=1)\n"
     "a4 = GELU()\n"
     "c5 = Conv2d(33, 8, 1)\n"
     "bn5 = BatchNorm2d(8)\n"
     "a5 = SiLU()\n"
     "c6 = Conv2d(8, 5, 3, padding=1)\n"
     "a6 = Hardswish()\n"},
    {"acts_param", true,
     "input: [2, 5, 9, 9]\n"
     "c1 = Conv2d(5, 24, 3, padding=1)\n"
     "a1 = ELU(alpha=0.5)\n"
     "c2 = Conv2d(24, 17, 3, padding=1)\n"
     "a2 = PReLU(num_parameters=17)\n"
     "c3 = Conv2d(17, 13, 1)\n"
     "bn3 = BatchNorm2d(13)\n"
     "a3 = LeakyReLU(negative_slope=0.2, inplace=True)\n"
     "c4 = Conv2d(13, 33, 1)\n"
     "a4 = GELU(approximate='tanh')\n"
     "c5 = Conv2d(33, 13, 3, padding=1)\n"
     "a5 = Softmax(dim=1)\n"},
    {"bn_out_shared", true,
     "input: [1, 24, 9, 9]\n"
     "c1 = Conv2d(24, 24, 3, padding=1)\n"
     "bn1 = BatchNorm2d(24)\n"
     "r1 = ReLU()\n"
     "c2 = Conv2d(24, 24, 3, padding=1)\n"
     "s = add(c2, bn1)\n"},
    {"conv_out_shared", true,
     "input: [1, 13, 9, 9]\n"
     "c1 = Conv2d(13, 17, 3, padding=1)\n"
     "bn1 = BatchNorm2d(17)\n"
     "r1 = ReLU()\n"
     "c2 = Conv2d(17, 17, 1)(c1)\n"
     "s = add(r1, c2)\n"
     "c3 = Conv2d(17, 5, 3, padding=1)\n"},
    {"relu_in_shared", true,
     "input: [2, 16, 7, 7]\n"
     "c1 = Conv2d(16, 24, 3, padding=1)\n"
     "r1 = ReLU()\n"
     "c2 = Conv2d(24, 24, 1)\n"
     "j = cat(c2, c1, dim=1)\n"
     "c3 = Conv2d(48, 13, 3, padding=1)\n"},
    {"bn_relu6_shared", true,
     "input: [1, 17, 9, 9]\n"
     "c1 = Conv2d(17, 33, 1, bias=False)\n"
     "bn1 = BatchNorm2d(33)\n"
     "r1 = ReLU6()\n"
     "c2 = Conv2d(33, 17, 1)\n"
     "c3 = Conv2d(33, 17, 3, padding=1)(bn1)\n"
     "s = sub(c2, c3)\n"},

    /* residual blocks */
    {"basic_ds_after", true,
     "input: [2, 13, 9, 9]\n"
     "conv1 = Conv2d(13, 24, 3, stride=2, padding=1, bias=False)\n"
     "bn1 = BatchNorm2d(24)\n"
     "relu1 = ReLU(inplace=True)\n"
     "conv2 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "bn2 = BatchNorm2d(24)\n"
     "downsample.0 = Conv2d(13, 24, 1, stride=2, bias=False)(input)\n"
     "downsample.1 = BatchNorm2d(24)\n"
     "add = add(bn2, downsample.1)\n"
     "relu2 = ReLU(inplace=True)\n"
     "c3 = Conv2d(24, 13, 1)\n"},
    {"basic_ds_before", true,
     "input: [1, 17, 15, 15]\n"
     "downsample.0 = Conv2d(17, 33, 1, stride=2, bias=False)\n"
     "downsample.1 = BatchNorm2d(33)\n"
     "conv1 = Conv2d(17, 33, 3, stride=2, padding=1, bias=False)(input)\n"
     "bn1 = BatchNorm2d(33)\n"
     "relu1 = ReLU()\n"
     "conv2 = Conv2d(33, 33, 3, padding=1, bias=False)\n"
     "bn2 = BatchNorm2d(33)\n"
     "add = add(downsample.1, bn2)\n"
     "relu2 = ReLU()\n"},
    {"basic_chain3", true,
     "input: [1, 16, 9, 9]\n"
     "stem = Conv2d(16, 24, 3, padding=1)\n"
     "b1.conv1 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "b1.bn1 = BatchNorm2d(24)\n"
     "b1.relu1 = ReLU()\n"
     "b1.conv2 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "b1.bn2 = BatchNorm2d(24)\n"
     "b1.add = add(b1.bn2, stem)\n"
     "b1.relu2 = ReLU()\n"
     "b2.conv1 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "b2.bn1 = BatchNorm2d(24)\n"
     "b2.relu1 = ReLU()\n"
     "b2.conv2 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "b2.bn2 = BatchNorm2d(24)\n"
     "b2.add = add(b1.relu2, b2.bn2)\n"
     "b2.relu2 = ReLU()\n"
     "b3.conv1 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "b3.bn1 = BatchNorm2d(24)\n"
     "b3.relu1 = ReLU6()\n"
     "b3.conv2 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "b3.bn2 = BatchNorm2d(24)\n"
     "b3.add = add(b3.bn2, b2.relu2)\n"},
    {"basic_chain3_b2_32", true,
     "input: [2, 32, 7, 7]\n"
     "b1.conv1 = Conv2d(32, 32, 3, padding=1, bias=False)\n"
     "b1.bn1 = BatchNorm2d(32)\n"
     "b1.relu1 = ReLU()\n"
     "b1.conv2 = Conv2d(32, 32, 3, padding=1, bias=False)\n"
     "b1.bn2 = BatchNorm2d(32)\n"
     "b1.add = add(input, b1.bn2)\n"
     "b1.relu2 = ReLU()\n"
     "b2.conv1 = Conv2d(32, 32, 3, padding=1, bias=False)\n"
     "b2.bn1 = BatchNorm2d(32)\n"
     "b2.relu1 = ReLU()\n"
     "b2.conv2 = Conv2d(32, 32, 3, padding=1, bias=False)\n"
     "b2.bn2 = BatchNorm2d(32)\n"
     "b2.add = add(b2.bn2, b1.relu2)\n"
     "b2.relu2 = ReLU()\n"
     "b3.conv1 = Conv2d(32, 48, 3, stride=2, padding=1, bias=False)\n"
     "b3.bn1 = BatchNorm2d(48)\n"
     "b3.relu1 = ReLU()\n"
     "b3.conv2 = Conv2d(48, 48, 3, padding=1, bias=False)\n"
     "b3.bn2 = BatchNorm2d(48)\n"
     "b3.ds.0 = Conv2d(32, 48, 1, stride=2, bias=False)(b2.relu2)\n"
     "b3.ds.1 = BatchNorm2d(48)\n"
     "b3.add = add(b3.ds.1, b3.bn2)\n"
     "b3.relu2 = ReLU()\n"},
    {"bottleneck", true,
     "input: [2, 24, 9, 9]\n"
     "l.0.conv1 = Conv2d(24, 13, 1, bias=False)\n"
     "l.0.bn1 = BatchNorm2d(13)\n"
     "l.0.relu1 = ReLU(inplace=True)\n"
     "l.0.conv2 = Conv2d(13, 13, 3, stride=2, padding=1, bias=False)\n"
     "l.0.bn2 = BatchNorm2d(13)\n"
     "l.0.relu2 = ReLU(inplace=True)\n"
     "l.0.conv3 = Conv2d(13, 40, 1, bias=False)\n"
     "l.0.bn3 = BatchNorm2d(40)\n"
     "l.0.downsample.0 = Conv2d(24, 40, 1, stride=2, bias=False)(input)\n"
     "l.0.downsample.1 = BatchNorm2d(40)\n"
     "l.0.add = add(l.0.bn3, l.0.downsample.1)\n"
     "l.0.relu3 = ReLU(inplace=True)\n"
     "l.1.conv1 = Conv2d(40, 13, 1, bias=False)(l.0.relu3)\n"
     "l.1.bn1 = BatchNorm2d(13)\n"
     "l.1.relu1 = ReLU(inplace=True)\n"
     "l.1.conv2 = Conv2d(13, 13, 3, padding=1, bias=False)\n"
     "l.1.bn2 = BatchNorm2d(13)\n"
     "l.1.relu2 = ReLU(inplace=True)\n"
     "l.1.conv3 = Conv2d(13, 40, 1, bias=False)\n"
     "l.1.bn3 = BatchNorm2d(40)\n"
     "l.1.add = add(l.0.relu3, l.1.bn3)\n"
     "l.1.relu3 = ReLU(inplace=True)\n"
     "avgpool = AdaptiveAvgPool2d((1, 1))\n"
     "flatten = Flatten(1)\n"
     "fc = Linear(40, 10)\n"},
    {"bottleneck_ds_before", true,
     "input: [1, 33, 7, 7]\n"
     "ds.0 = Conv2d(33, 64, 1, bias=False)\n"
     "ds.1 = BatchNorm2d(64)\n"
     "conv1 = Conv2d(33, 16, 1, bias=False)(input)\n"
     "bn1 = BatchNorm2d(16)\n"
     "relu1 = ReLU()\n"
     "conv2 = Conv2d(16, 16, 3, padding=1, bias=False)\n"
     "bn2 = BatchNorm2d(16)\n"
     "relu2 = ReLU()\n"
     "conv3 = Conv2d(16, 64, 1, bias=False)\n"
     "bn3 = BatchNorm2d(64)\n"
     "add = add(ds.1, bn3)\n"
     "relu3 = ReLU()\n"},
    {"add_two_convs", true,
     "input: [1, 5, 9, 9]\n"
     "a = Conv2d(5, 17, 3, padding=1)\n"
     "b = Conv2d(5, 17, 1)(input)\n"
     "s = add(a, b)\n"
     "c = Conv2d(17, 24, 3, padding=1)\n"
     "d = Conv2d(24, 24, 1)\n"
     "e = Conv2d(24, 24, 3, padding=1)(c)\n"
     "t = add(e, d)\n"},
    {"add_three", true,
     "input: [2, 13, 7, 7]\n"
     "a = Conv2d(13, 13, 3, padding=1)\n"
     "b = Conv2d(13, 13, 1)(input)\n"
     "s = add(a, input, b)\n"
     "r = ReLU()\n"
     "c = Conv2d(13, 17, 1)\n"},
    {"identity_reused", true,
     "input: [1, 24, 7, 7]\n"
     "x = Conv2d(24, 24, 1)\n"
     "c1 = Conv2d(24, 24, 3, padding=1)\n"
     "bn1 = BatchNorm2d(24)\n"
     "s = add(bn1, x)\n"
     "r = ReLU()\n"
     "j = cat(r, x, dim=1)\n"
     "c2 = Conv2d(48, 17, 1)\n"},
    {"add_is_output", true,
     "input: [2, 17, 9, 9]\n"
     "c1 = Conv2d(17, 17, 3, padding=1)\n"
     "bn1 = BatchNorm2d(17)\n"
     "r1 = ReLU()\n"
     "c2 = Conv2d(17, 17, 3, padding=1)\n"
     "bn2 = BatchNorm2d(17)\n"
     "s = add(input, bn2)\n"},

    /* pooling */
    {"pools_blocked", true,
     "input: [1, 13, 17, 17]\n"
     "c1 = Conv2d(13, 24, 3, padding=1)\n"
     "p1 = MaxPool2d(3, 2, 1)\n"
     "c2 = Conv2d(24, 17, 3, padding=1)\n"
     "p2 = AvgPool2d(3, 2, 1)\n"
     "c3 = Conv2d(17, 33, 1)\n"
     "p3 = AvgPool2d(3, 2, 1, count_include_pad=False)\n"
     "c4 = Conv2d(33, 16, 1)\n"},
    {"pools_ceil", true,
     "input: [2, 5, 15, 15]\n"
     "c1 = Conv2d(5, 16, 3, padding=1)\n"
     "p1 = MaxPool2d(2)\n"
     "c2 = Conv2d(16, 24, 3, padding=1)\n"
     "p2 = AvgPool2d(2, ceil_mode=True)\n"
     "c3 = Conv2d(24, 13, 1)\n"
     "p3 = AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)\n"
     "c4 = Conv2d(13, 17, 3, padding=1)\n"
     "p4 = MaxPool2d(3, 2, 1, ceil_mode=True)\n"
     "c5 = Conv2d(17, 8, 1)\n"},
    {"pools_negative", true,
     "input: [1, 17, 9, 9]\n"
     "c1 = Conv2d(17, 40, 3, padding=1)\n"
     "bn1 = BatchNorm2d(40)\n"
     "p1 = MaxPool2d(3, 1, 1)\n"
     "c2 = Conv2d(40, 24, 1)\n"
     "p2 = AvgPool2d(3, 1, 1, ceil_mode=True, count_include_pad=True)\n"
     "p3 = MaxPool2d(2, ceil_mode=True)\n"},
    {"pool_on_input", true,
     "input: [1, 13, 15, 15]\n"
     "p0 = MaxPool2d(3, 2, 1)\n"
     "c1 = Conv2d(13, 24, 3, padding=1)\n"
     "r = ReLU()\n"
     "c2 = Conv2d(24, 5, 1)\n"},
    {"avgpool_on_input", true,
     "input: [2, 17, 9, 9]\n"
     "p0 = AvgPool2d(3, 2, 1, count_include_pad=False)\n"
     "c1 = Conv2d(17, 17, 3, padding=1)\n"
     "p1 = AvgPool2d(3, 2, 1)\n"
     "c2 = Conv2d(17, 24, 1)\n"},

    /* heads and views */
    {"gap_linear", true,
     "input: [2, 13, 9, 9]\n"
     "c1 = Conv2d(13, 33, 3, padding=1, bias=False)\n"
     "bn1 = BatchNorm2d(33)\n"
     "r1 = ReLU()\n"
     "pool = AdaptiveAvgPool2d(1)\n"
     "flat = Flatten()\n"
     "fc = Linear(33, 10)\n"},
    {"gap_linear_32", true,
     "input: [1, 5, 7, 7]\n"
     "c1 = Conv2d(5, 32, 3, padding=1)\n"
     "r1 = ReLU()\n"
     "pool = AdaptiveAvgPool2d((1, 1))\n"
     "flat = Flatten(1)\n"
     "fc = Linear(32, 5)\n"},
    {"gap_max_no_linear", true,
     "input: [2, 17, 7, 7]\n"
     "c1 = Conv2d(17, 24, 3, padding=1)\n"
     "pool = AdaptiveMaxPool2d(1)\n"
     "flat = Flatten()\n"},
    {"adaptive_2x3", true,
     "input: [1, 13, 9, 9]\n"
     "c1 = Conv2d(13, 17, 3, padding=1)\n"
     "pool = AdaptiveAvgPool2d((2, 3))\n"
     "c2 = Conv2d(17, 24, 1)\n"
     "flat = Flatten()\n"
     "fc = Linear(144, 7)\n"},
    {"flatten_conv_linear", true,
     "input: [2, 5, 7, 9]\n"
     "c1 = Conv2d(5, 13, 3, padding=1)\n"
     "flat = Flatten()\n"
     "fc = Linear(819, 10)\n"},
    {"flatten_conv_output", true,
     "input: [2, 5, 7, 9]\n"
     "c1 = Conv2d(5, 16, 3, stride=2, padding=1)\n"
     "r1 = ReLU()\n"
     "flat = Flatten()\n"},
    {"flatten_sp_conv1d", true,
     "input: [1, 13, 7, 9]\n"
     "c1 = Conv2d(13, 24, 3, padding=1)\n"
     "flat = Flatten(2)\n"
     "c2 = Conv1d(24, 17, 3, padding=1)\n"},
    {"unflatten_same", true,
     "input: [1, 13, 7, 9]\n"
     "c1 = Conv2d(13, 17, 3, padding=1)\n"
     "flat = Flatten()\n"
     "un = Unflatten(1, (17, 7, 9))\n"
     "c2 = Conv2d(17, 24, 3, padding=1)\n"},
    {"unflatten_mixed", true,
     "input: [2, 13, 7, 9]\n"
     "c1 = Conv2d(13, 17, 3, padding=1)\n"
     "flat = Flatten()\n"
     "un = Unflatten(1, (7, 17, 9))\n"
     "c2 = Conv2d(7, 16, 3, padding=1)\n"},
    {"views_between", true,
     "input: [1, 17, 9, 9]\n"
     "c1 = Conv2d(17, 24, 3, padding=1)\n"
     "d1 = Dropout(0.1)\n"
     "bn1 = BatchNorm2d(24)\n"
     "i1 = Identity()\n"
     "r1 = ReLU()\n"
     "c2 = Conv2d(24, 13, 3, padding=1)\n"
     "d2 = Dropout2d(0.2)\n"},

    /* depthwise: MobileNetV2 inverted residuals */
    {"mbv2_144", true,
     "input: [1, 16, 15, 15]\n"
     "stem = Conv2d(16, 24, 3, stride=2, padding=1, bias=False)\n"
     "stem_bn = BatchNorm2d(24)\n"
     "stem_relu = ReLU6(inplace=True)\n"
     "b1.expand = Conv2d(24, 144, 1, bias=False)\n"
     "b1.bn1 = BatchNorm2d(144)\n"
     "b1.relu1 = ReLU6(inplace=True)\n"
     "b1.dw = Conv2d(144, 144, 3, padding=1, groups=144, bias=False)\n"
     "b1.bn2 = BatchNorm2d(144)\n"
     "b1.relu2 = ReLU6(inplace=True)\n"
     "b1.project = Conv2d(144, 24, 1, bias=False)\n"
     "b1.bn3 = BatchNorm2d(24)\n"
     "b1.add = add(stem_relu, b1.bn3)\n"
     "b2.expand = Conv2d(24, 144, 1, bias=False)\n"
     "b2.bn1 = BatchNorm2d(144)\n"
     "b2.relu1 = ReLU6(inplace=True)\n"
     "b2.dw = Conv2d(144, 144, 3, stride=2, padding=1, groups=144, bias=False)\n"
     "b2.bn2 = BatchNorm2d(144)\n"
     "b2.relu2 = ReLU6(inplace=True)\n"
     "b2.project = Conv2d(144, 32, 1, bias=False)\n"
     "b2.bn3 = BatchNorm2d(32)\n"
     "b3.dw = Conv2d(32, 32, 3, padding=1, groups=32, bias=False)\n"
     "b3.bn1 = BatchNorm2d(32)\n"
     "b3.relu1 = ReLU6(inplace=True)\n"
     "b3.project = Conv2d(32, 32, 1, bias=False)\n"
     "b3.bn2 = BatchNorm2d(32)\n"
     "b3.add = add(b3.bn2, b2.bn3)\n"
     "head = Conv2d(32, 40, 1, bias=False)\n"
     "head_bn = BatchNorm2d(40)\n"
     "head_relu = ReLU6(inplace=True)\n"
     "pool = AdaptiveAvgPool2d(1)\n"
     "flat = Flatten(1)\n"
     "fc = Linear(40, 10)\n"},
    {"mbv2_13", true,
     "input: [2, 13, 9, 9]\n"
     "b1.dw = Conv2d(13, 13, 3, padding=1, groups=13, bias=False)\n"
     "b1.bn1 = BatchNorm2d(13)\n"
     "b1.relu1 = ReLU6()\n"
     "b1.project = Conv2d(13, 13, 1, bias=False)\n"
     "b1.bn2 = BatchNorm2d(13)\n"
     "b1.add = add(input, b1.bn2)\n"
     "b2.expand = Conv2d(13, 78, 1, bias=False)\n"
     "b2.bn1 = BatchNorm2d(78)\n"
     "b2.relu1 = ReLU6()\n"
     "b2.dw = Conv2d(78, 78, 3, stride=2, padding=1, groups=78, bias=False)\n"
     "b2.bn2 = BatchNorm2d(78)\n"
     "b2.relu2 = ReLU6()\n"
     "b2.project = Conv2d(78, 17, 1, bias=False)\n"
     "b2.bn3 = BatchNorm2d(17)\n"
     "b3.dw = Conv2d(17, 17, 3, stride=2, padding=1, groups=17)\n"
     "b3.relu = ReLU()\n"},
    {"dw_chain", true,
     "input: [1, 13, 17, 17]\n"
     "dw1 = Conv2d(13, 13, 3, stride=2, padding=1, groups=13)\n"
     "c1 = Conv2d(13, 32, 1)\n"
     "dw2 = Conv2d(32, 32, 3, padding=1, groups=32)\n"
     "bn2 = BatchNorm2d(32)\n"
     "r2 = ReLU()\n"
     "dw3 = Conv2d(32, 32, 3, stride=2, padding=1, groups=32, bias=False)\n"
     "c3 = Conv2d(32, 5, 1)\n"},

    /* joins, resampling, reference convs between fast ones */
    {"concat_unaligned", true,
     "input: [1, 5, 9, 9]\n"
     "a = Conv2d(5, 13, 3, padding=1)\n"
     "b = Conv2d(5, 24, 1)(input)\n"
     "c = Conv2d(5, 16, 3, padding=1)(input)\n"
     "j = cat(a, b, c, dim=1)\n"
     "d = Conv2d(53, 17, 3, padding=1)\n"
     "e = Conv2d(17, 3, 1)\n"},
    {"concat_aligned", true,
     "input: [2, 13, 7, 7]\n"
     "a = Conv2d(13, 16, 3, padding=1)\n"
     "b = Conv2d(13, 32, 1)(input)\n"
     "j = cat([a, b], dim=1)\n"
     "d = Conv2d(48, 8, 3, padding=1)\n"
     "e = Conv2d(8, 16, 1)\n"
     "k = cat(d, e, dim=1)\n"
     "f = Conv2d(24, 13, 1)\n"},
    {"concat_with_input", true,
     "input: [1, 5, 9, 9]\n"
     "a = Conv2d(5, 17, 3, padding=1)\n"
     "r = ReLU()\n"
     "j = cat(input, r, dim=1)\n"
     "b = Conv2d(22, 24, 3, padding=1)\n"
     "k = cat(b, input, a, dim=1)\n"
     "c = Conv2d(46, 8, 1)\n"},
    {"unet_tconv", true,
     "input: [1, 5, 14, 14]\n"
     "e1 = Conv2d(5, 13, 3, padding=1)\n"
     "r1 = ReLU()\n"
     "p1 = MaxPool2d(2)\n"
     "e2 = Conv2d(13, 24, 3, padding=1)\n"
     "r2 = ReLU()\n"
     "up = ConvTranspose2d(24, 17, kernel_size=2, stride=2)\n"
     "j = cat(up, r1, dim=1)\n"
     "d1 = Conv2d(30, 13, 3, padding=1)\n"
     "r3 = ReLU()\n"
     "t2 = ConvTranspose2d(13, 8, 3, stride=2, padding=1, output_padding=1)\n"
     "d2 = Conv2d(8, 5, 3, padding=1)\n"},
    {"upsample", true,
     "input: [2, 13, 7, 7]\n"
     "c1 = Conv2d(13, 17, 3, padding=1)\n"
     "u1 = Upsample(scale_factor=2, mode='nearest')\n"
     "c2 = Conv2d(17, 24, 3, padding=1)\n"
     "u2 = Upsample(scale_factor=2, mode='bilinear', align_corners=False)\n"
     "c3 = Conv2d(24, 5, 3, stride=2, padding=1)\n"
     "u3 = Upsample(size=(9, 9), mode='bilinear', align_corners=True)\n"
     "c4 = Conv2d(5, 8, 1)\n"},
    {"grouped_between", true,
     "input: [1, 16, 9, 9]\n"
     "c1 = Conv2d(16, 24, 3, padding=1)\n"
     "r1 = ReLU()\n"
     "g1 = Conv2d(24, 40, 3, padding=1, groups=2)\n"
     "bn1 = BatchNorm2d(40)\n"
     "r2 = ReLU()\n"
     "c2 = Conv2d(40, 26, 1)\n"
     "g2 = Conv2d(26, 34, 3, stride=2, padding=1, groups=2, bias=False)\n"
     "r3 = ReLU()\n"
     "c3 = Conv2d(34, 5, 1)\n"},
    {"padded_between", true,
     "input: [1, 13, 9, 9]\n"
     "c1 = Conv2d(13, 17, 3, padding=1)\n"
     "c2 = Conv2d(17, 24, 3, padding=1, padding_mode='reflect')\n"
     "bn2 = BatchNorm2d(24)\n"
     "r2 = ReLU()\n"
     "z = ZeroPad2d((1, 2, 0, 1))\n"
     "c3 = Conv2d(24, 13, 3)\n"
     "rp = ReflectionPad2d(1)\n"
     "c4 = Conv2d(13, 16, 3)\n"},

    /* batch norms and elementwise ops away from convs */
    {"bn_after_add_pool", true,
     "input: [1, 17, 9, 9]\n"
     "a = Conv2d(17, 24, 3, padding=1)\n"
     "b = Conv2d(17, 24, 1)(input)\n"
     "s = add(a, b)\n"
     "bn = BatchNorm2d(24)\n"
     "r = ReLU()\n"
     "p = MaxPool2d(2)\n"
     "bn2 = BatchNorm2d(24)\n"
     "c = Conv2d(24, 13, 1)\n"
     "p2 = AvgPool2d(3, 1, 1)\n"
     "bn3 = BatchNorm2d(13)\n"
     "r3 = ReLU6()\n"},
    {"bn_on_input", true,
     "input: [2, 5, 9, 9]\n"
     "bn0 = BatchNorm2d(5)\n"
     "c1 = Conv2d(5, 13, 3, padding=1)\n"
     "r1 = ReLU()\n"},
    {"mul_sub", true,
     "input: [2, 13, 7, 7]\n"
     "a = Conv2d(13, 17, 3, padding=1)\n"
     "b = Conv2d(13, 17, 1)(input)\n"
     "m = mul(a, b)\n"
     "c = Conv2d(13, 17, 3, padding=1)(input)\n"
     "d = sub(m, c)\n"
     "e = Conv2d(17, 13, 1)\n"
     "f = sub(input, e)\n"
     "g = Conv2d(13, 24, 1)\n"
     "g2 = Conv2d(13, 24, 1)(input)\n"
     "g3 = Sigmoid()\n"
     "h = div(g, g3)\n"},
    {"se_block", true,
     "input: [1, 24, 9, 9]\n"
     "c1 = Conv2d(24, 40, 3, padding=1)\n"
     "r1 = ReLU()\n"
     "pool = AdaptiveAvgPool2d(1)\n"
     "fc1 = Conv2d(40, 13, 1)\n"
     "r2 = ReLU()\n"
     "fc2 = Conv2d(13, 40, 1)\n"
     "sg = Sigmoid()\n"
     "m = mul(r1, sg)\n"
     "c2 = Conv2d(40, 17, 1)\n"},
    {"norms", true,
     "input: [2, 13, 9, 9]\n"
     "c1 = Conv2d(13, 24, 3, padding=1)\n"
     "gn = GroupNorm(4, 24)\n"
     "r1 = ReLU()\n"
     "c2 = Conv2d(24, 17, 3, padding=1)\n"
     "inorm = InstanceNorm2d(17, affine=True)\n"
     "c3 = Conv2d(17, 16, 1)\n"},
    {"conv1d", true,
     "input: [2, 13, 17]\n"
     "c1 = Conv1d(13, 24, 3, padding=1)\n"
     "bn1 = BatchNorm1d(24)\n"
     "r1 = ReLU()\n"
     "c2 = Conv1d(24, 17, 3, stride=2)\n"
     "p = MaxPool1d(2)\n"
     "c3 = Conv1d(17, 16, 1)\n"},
    {"add_broadcast", true,
     "input: [2, 13, 9, 9]\n"
     "c1 = Conv2d(13, 24, 3, padding=1)\n"
     "pool = AdaptiveAvgPool2d(1)\n"
     "c2 = Conv2d(24, 24, 1)\n"
     "c3 = Conv2d(13, 24, 3, padding=1)(input)\n"
     "bn3 = BatchNorm2d(24)\n"
     "s = add(bn3, c2)\n"
     "r = ReLU()\n"
     "c4 = Conv2d(24, 17, 1)\n"
     "c5 = Conv2d(24, 17, 1)(c2)\n"
     "t = add(c4, c5)\n"},
    {"add_self", true,
     "input: [1, 17, 7, 7]\n"
     "c1 = Conv2d(17, 24, 3, padding=1)\n"
     "bn1 = BatchNorm2d(24)\n"
     "s = add(bn1, bn1)\n"
     "r = ReLU()\n"
     "c2 = Conv2d(24, 13, 1)\n"
     "m = mul(c2, c2)\n"
     "j = cat(m, m, dim=1)\n"
     "c3 = Conv2d(26, 5, 3, padding=1)\n"},
    {"fanout_flatten_linear", true,
     "input: [2, 13, 5, 7]\n"
     "c1 = Conv2d(13, 17, 3, padding=1)\n"
     "flat = Flatten()\n"
     "fc = Linear(595, 24)\n"
     "un = Unflatten(1, (24, 1, 1))\n"
     "c2 = Conv2d(17, 24, 3, padding=1)(c1)\n"
     "s = add(c2, un)\n"
     "c3 = Conv2d(24, 5, 1)\n"},
    {"conv_to_1x1_flatten", true,
     "input: [2, 13, 7, 7]\n"
     "c1 = Conv2d(13, 40, 7)\n"
     "bn1 = BatchNorm2d(40)\n"
     "r1 = ReLU()\n"
     "flat = Flatten()\n"
     "fc = Linear(40, 10)\n"},
    {"fpn_upsample_add", true,
     "input: [1, 5, 15, 15]\n"
     "c1 = Conv2d(5, 24, 3, padding=1)\n"
     "r1 = ReLU()\n"
     "c2 = Conv2d(24, 33, 3, stride=2, padding=1)\n"
     "r2 = ReLU()\n"
     "lat = Conv2d(33, 24, 1)\n"
     "up = Upsample(size=(15, 15), mode='nearest')\n"
     "s = add(up, r1)\n"
     "c3 = Conv2d(24, 13, 3, padding=1)\n"},
    {"pool_residual", true,
     "input: [1, 17, 9, 9]\n"
     "c1 = Conv2d(17, 24, 3, padding=1)\n"
     "p = AvgPool2d(3, 1, 1, count_include_pad=False)\n"
     "s = add(p, c1)\n"
     "m = MaxPool2d(3, 1, 1)(s)\n"
     "t = sub(m, s)\n"
     "c2 = Conv2d(24, 13, 1)\n"},
    {"same_even_dwmult", true,
     "input: [1, 13, 9, 9]\n"
     "c1 = Conv2d(13, 17, 2, padding='same')\n"
     "c2 = Conv2d(17, 24, 4, padding='same', bias=False)\n"
     "dm = Conv2d(24, 48, 3, padding=1, groups=24)\n"
     "c3 = Conv2d(48, 13, 1)\n"
     "cp = ConstantPad2d((1, 0, 2, 1), 0.5)\n"
     "c4 = Conv2d(13, 5, 3)\n"},
    {"layernorm", true,
     "input: [2, 5, 9, 9]\n"
     "c1 = Conv2d(5, 17, 3, padding=1)\n"
     "ln = LayerNorm([17, 9, 9])\n"
     "c2 = Conv2d(17, 13, 1)\n"
     "ln2 = LayerNorm(9)\n"
     "c3 = Conv2d(13, 16, 3, padding=1)\n"
     "sm = LogSoftmax(dim=1)\n"},
    {"resnet_mini", true,
     "input: [1, 3, 41, 41]\n"
     "conv1 = Conv2d(3, 24, kernel_size=7, stride=2, padding=3, bias=False)\n"
     "bn1 = BatchNorm2d(24)\n"
     "relu = ReLU(inplace=True)\n"
     "maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)\n"
     "layer1.0.conv1 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "layer1.0.bn1 = BatchNorm2d(24)\n"
     "layer1.0.relu1 = ReLU(inplace=True)\n"
     "layer1.0.conv2 = Conv2d(24, 24, 3, padding=1, bias=False)\n"
     "layer1.0.bn2 = BatchNorm2d(24)\n"
     "layer1.0.add = add(layer1.0.bn2, maxpool)\n"
     "layer1.0.relu2 = ReLU(inplace=True)\n"
     "layer2.0.conv1 = Conv2d(24, 40, 3, stride=2, padding=1, bias=False)\n"
     "layer2.0.bn1 = BatchNorm2d(40)\n"
     "layer2.0.relu1 = ReLU(inplace=True)\n"
     "layer2.0.conv2 = Conv2d(40, 40, 3, padding=1, bias=False)\n"
     "layer2.0.bn2 = BatchNorm2d(40)\n"
     "layer2.0.downsample.0 = Conv2d(24, 40, 1, stride=2, bias=False)(layer1.0.relu2)\n"
     "layer2.0.downsample.1 = BatchNorm2d(40)\n"
     "layer2.0.add = add(layer2.0.bn2, layer2.0.downsample.1)\n"
     "layer2.0.relu2 = ReLU(inplace=True)\n"
     "layer2.1.conv1 = Conv2d(40, 40, 3, padding=1, bias=False)\n"
     "layer2.1.bn1 = BatchNorm2d(40)\n"
     "layer2.1.relu1 = ReLU(inplace=True)\n"
     "layer2.1.conv2 = Conv2d(40, 40, 3, padding=1, bias=False)\n"
     "layer2.1.bn2 = BatchNorm2d(40)\n"
     "layer2.1.add = add(layer2.1.bn2, layer2.0.relu2)\n"
     "layer2.1.relu2 = ReLU(inplace=True)\n"
     "avgpool = AdaptiveAvgPool2d((1, 1))\n"
     "flatten = Flatten(1)\n"
     "fc = Linear(40, 10)\n"},
    {"keras_nhwc", false,
     "input: [2, 9, 9, 13]\n"
     "c1 = Conv2D(24, 3, padding='same', use_bias=False)\n"
     "bn1 = BatchNormalization()\n"
     "r1 = ReLU()\n"
     "c2 = Conv2D(24, 3, padding='same')\n"
     "bn2 = BatchNormalization()\n"
     "s = Add()(bn2, r1)\n"
     "r2 = ReLU(max_value=6.0)\n"
     "p = MaxPooling2D(3, strides=2, padding='same')\n"
     "dw = DepthwiseConv2D(3, padding='same')\n"
     "c3 = Conv2D(17, 1, activation='relu')\n"
     "g = GlobalAveragePooling2D()\n"
     "d = Dense(5)\n"},
    {"keras_nchw", true,
     "input: [1, 13, 9, 9]\n"
     "c1 = Conv2D(24, 3, padding='same', data_format='channels_first', activation='relu')\n"
     "c2 = Conv2D(17, 3, strides=2, padding='same', data_format='channels_first')\n"
     "bn2 = BatchNormalization(axis=1)\n"
     "r2 = ReLU(max_value=6.0)\n"
     "c3 = Conv2D(24, 1, data_format='channels_first', activation='sigmoid')\n"
     "f = Flatten(data_format='channels_first')\n"
     "d = Dense(5)\n"},
    {"two_inputs", true,
     "input a: [1, 13, 9, 9]\n"
     "input b: [1, 5, 9, 9]\n"
     "ca = Conv2d(13, 17, 3, padding=1)(a)\n"
     "cb = Conv2d(5, 17, 1)(b)\n"
     "s = add(ca, cb)\n"
     "r = ReLU()\n"
     "j = cat(r, b, dim=1)\n"
     "c = Conv2d(22, 8, 3, padding=1)\n"},
};

/* ---- ONNX networks (several outputs, Max, Reshape, Clip) ---------------- */

static void ox_init(tb *b, const char *name, int rank, const int64_t *dims, pkind kind,
                    int64_t fan_in) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) abort();
    gen_param(name, "onnx", kind, n, fan_in, v);
    tb_init(b, name, rank, dims, v);
    free(v);
}

static void ox_conv(tb *b, const char *name, const char *x, const char *y, int64_t cin,
                    int64_t cout, int64_t k, int64_t stride, int64_t pad, int64_t group,
                    bool bias) {
    char w[96], bb[96];
    snprintf(w, sizeof w, "%s.W", name);
    snprintf(bb, sizeof bb, "%s.B", name);
    ox_init(b, w, 4, TB_D(cout, cin / group, k, k), P_WEIGHT, cin / group * k * k);
    if (bias) ox_init(b, bb, 1, TB_D(cout), P_BIAS, 1);
    Onnx__NodeProto *n = tb_node(b, "Conv", name, bias ? TB_L(x, w, bb) : TB_L(x, w), TB_L(y));
    tb_attr_ints(b, n, "kernel_shape", 2, TB_D(k, k));
    tb_attr_ints(b, n, "strides", 2, TB_D(stride, stride));
    tb_attr_ints(b, n, "pads", 4, TB_D(pad, pad, pad, pad));
    tb_attr_ints(b, n, "dilations", 2, TB_D(1, 1));
    tb_attr_int(b, n, "group", group);
}

static void ox_bn(tb *b, const char *name, const char *x, const char *y, int64_t c) {
    static const char *const suffix[4] = {"scale", "B", "mean", "var"};
    static const pkind kinds[4] = {P_GAMMA, P_BIAS, P_MEAN, P_VAR};
    char p[4][96];
    for (int i = 0; i < 4; i++) {
        snprintf(p[i], sizeof p[i], "%s.%s", name, suffix[i]);
        ox_init(b, p[i], 1, TB_D(c), kinds[i], 1);
    }
    Onnx__NodeProto *n =
        tb_node(b, "BatchNormalization", name, TB_L(x, p[0], p[1], p[2], p[3]), TB_L(y));
    tb_attr_float(b, n, "epsilon", 1e-5f);
}

static void ox_clip(tb *b, const char *name, const char *x, const char *y, float lo, float hi) {
    char a[96], c[96];
    snprintf(a, sizeof a, "%s.min", name);
    snprintf(c, sizeof c, "%s.max", name);
    tb_init(b, a, 0, NULL, &lo);
    tb_init(b, c, 0, NULL, &hi);
    tb_node(b, "Clip", name, TB_L(x, a, c), TB_L(y));
}

static void ox_gemm(tb *b, const char *name, const char *x, const char *y, int64_t k, int64_t n) {
    char w[96], bb[96];
    snprintf(w, sizeof w, "%s.W", name);
    snprintf(bb, sizeof bb, "%s.B", name);
    ox_init(b, w, 2, TB_D(n, k), P_WEIGHT, k);
    ox_init(b, bb, 1, TB_D(n), P_BIAS, 1);
    Onnx__NodeProto *nd = tb_node(b, "Gemm", name, TB_L(x, w, bb), TB_L(y));
    tb_attr_int(b, nd, "transB", 1);
}

static void compare_onnx(const char *name, tb *b) {
    size_t len = 0;
    uint8_t *bytes = tb_pack(b, &len);
    tb_free(b);
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_onnx(bytes, len, name, NULL, &g, &d);
    free(bytes);
    if (st == CK_OK) st = ck_check(g, &d);
    CHECK(st == CK_OK, "%s: does not load: %s", name, d.n ? d.v[0].message : "?");
    ck_diags_free(&d);
    if (st == CK_OK) compare_graph(name, g, true);
    ck_graph_free(g);
}

static void onnx_nets(void) {
    /* a conv that is a network output and feeds a ReLU, a conv and a
     * residual Add; three outputs */
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 13, 9, 9));
    ox_conv(b, "c1", "x", "c1", 13, 24, 3, 1, 1, 1, true);
    tb_node(b, "Relu", "r1", TB_L("c1"), TB_L("r1"));
    ox_conv(b, "c2", "r1", "c2", 24, 17, 1, 1, 0, 1, true);
    ox_bn(b, "bn2", "c2", "bn2", 17);
    ox_conv(b, "c3", "c1", "c3", 24, 24, 3, 1, 1, 1, false);
    ox_bn(b, "bn3", "c3", "bn3", 24);
    tb_node(b, "Add", "s", TB_L("bn3", "c1"), TB_L("s"));
    tb_output(b, "c1");
    tb_output(b, "bn2");
    tb_output(b, "s");
    compare_onnx("onnx_conv_is_output", b);

    /* the same with the outputs in the other order and a ReLU after the
     * residual; the output conv's ReLU is read by a pool */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(2, 5, 7, 7));
    ox_conv(b, "c1", "x", "c1", 5, 16, 3, 1, 1, 1, true);
    ox_bn(b, "bn1", "c1", "bn1", 16);
    tb_node(b, "Relu", "r1", TB_L("bn1"), TB_L("r1"));
    ox_conv(b, "c2", "r1", "c2", 16, 16, 3, 1, 1, 1, true);
    tb_node(b, "Add", "s", TB_L("r1", "c2"), TB_L("s"));
    tb_node(b, "Relu", "r2", TB_L("s"), TB_L("r2"));
    Onnx__NodeProto *mp = tb_node(b, "MaxPool", "mp", TB_L("r1"), TB_L("mp"));
    tb_attr_ints(b, mp, "kernel_shape", 2, TB_D(3, 3));
    tb_attr_ints(b, mp, "strides", 2, TB_D(2, 2));
    tb_attr_ints(b, mp, "pads", 4, TB_D(1, 1, 1, 1));
    tb_output(b, "r2");
    tb_output(b, "mp");
    tb_output(b, "r1");
    compare_onnx("onnx_outputs_mixed", b);

    /* Max of two convs; Reshape and Flatten + Gemm of a conv's output */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(2, 5, 7, 7));
    ox_conv(b, "ca", "x", "ca", 5, 24, 3, 1, 1, 1, true);
    ox_conv(b, "cb", "x", "cb", 5, 24, 1, 1, 0, 1, true);
    tb_node(b, "Max", "m", TB_L("ca", "cb"), TB_L("m"));
    ox_conv(b, "cc", "m", "cc", 24, 17, 3, 2, 1, 1, true);
    tb_init_i64(b, "shape", 3, TB_D(2, 4, 68));
    tb_node(b, "Reshape", "rs", TB_L("cc", "shape"), TB_L("rs"));
    Onnx__NodeProto *fl = tb_node(b, "Flatten", "fl", TB_L("cc"), TB_L("fl"));
    tb_attr_int(b, fl, "axis", 1);
    ox_gemm(b, "fc", "fl", "fc", 17 * 4 * 4, 10);
    tb_output(b, "rs");
    tb_output(b, "fc");
    compare_onnx("onnx_max_reshape_gemm", b);

    /* Clip as ReLU6 and as a general clip after conv + BN; Sub and Mul of
     * convs; a global pool head */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 17, 9, 9));
    ox_conv(b, "c1", "x", "c1", 17, 40, 3, 1, 1, 1, false);
    ox_bn(b, "bn1", "c1", "bn1", 40);
    ox_clip(b, "clip1", "bn1", "clip1", 0.0f, 6.0f);
    ox_conv(b, "c2", "clip1", "c2", 40, 33, 1, 1, 0, 1, true);
    ox_clip(b, "clip2", "c2", "clip2", -1.0f, 2.0f);
    ox_conv(b, "c3", "x", "c3", 17, 33, 3, 1, 1, 1, true);
    tb_node(b, "Sub", "sub", TB_L("clip2", "c3"), TB_L("sub"));
    tb_node(b, "Mul", "mul", TB_L("sub", "c3"), TB_L("mul"));
    ox_conv(b, "c4", "mul", "c4", 33, 13, 1, 1, 0, 1, true);
    tb_node(b, "GlobalAveragePool", "gap", TB_L("c4"), TB_L("gap"));
    Onnx__NodeProto *f2 = tb_node(b, "Flatten", "flat", TB_L("gap"), TB_L("flat"));
    tb_attr_int(b, f2, "axis", 1);
    ox_gemm(b, "fc", "flat", "fc", 13, 5);
    tb_output(b, "fc");
    tb_output(b, "c4");
    compare_onnx("onnx_clip_sub_mul", b);

    /* constant operands of Add and Mul: per channel (broadcast, either
     * side) and of the full shape */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 13, 9, 9));
    ox_conv(b, "c1", "x", "c1", 13, 24, 3, 1, 1, 1, true);
    ox_init(b, "k1", 4, TB_D(1, 24, 1, 1), P_BIAS, 1);
    tb_node(b, "Add", "a", TB_L("c1", "k1"), TB_L("a"));
    tb_node(b, "Relu", "r", TB_L("a"), TB_L("r"));
    ox_conv(b, "c2", "r", "c2", 24, 17, 1, 1, 0, 1, true);
    ox_init(b, "k2", 3, TB_D(17, 1, 1), P_GAMMA, 1);
    tb_node(b, "Mul", "m", TB_L("k2", "c2"), TB_L("m"));
    ox_init(b, "k3", 4, TB_D(1, 17, 9, 9), P_BIAS, 1);
    tb_node(b, "Add", "s", TB_L("m", "k3"), TB_L("s"));
    ox_conv(b, "c3", "s", "c3", 17, 5, 3, 2, 1, 1, true);
    tb_output(b, "c3");
    compare_onnx("onnx_const_operands", b);

    /* depthwise conv whose output is an output, also feeding a 1x1 conv */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 32, 9, 9));
    ox_conv(b, "dw", "x", "dw", 32, 32, 3, 2, 1, 32, true);
    ox_clip(b, "r6", "dw", "r6", 0.0f, 6.0f);
    ox_conv(b, "pw", "r6", "pw", 32, 13, 1, 1, 0, 1, true);
    ox_conv(b, "pw2", "dw", "pw2", 32, 13, 1, 1, 0, 1, false);
    tb_node(b, "Add", "s", TB_L("pw2", "pw"), TB_L("s"));
    tb_output(b, "dw");
    tb_output(b, "s");
    compare_onnx("onnx_dw_output", b);
}

int main(void) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_kernels best = cpu_best();
    printf("layout: reference vs fast kernels (best on this CPU: %s), 1 and 3 threads\n",
           kernels_name(best));
    printf("  %-26s outputs, max |fast - ref| / max(1, max|ref|), where\n", "network");
    for (size_t i = 0; i < sizeof nets / sizeof *nets; i++)
        compare_cnn(nets[i].name, nets[i].spec, nets[i].fast);
    onnx_nets();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("%d networks (%d disagree), %d session runs, %d structural checks, %.2f s\n", n_nets,
           n_bad, n_runs, n_checks_structural, secs);
    CHECK(n_nets >= (int)(sizeof nets / sizeof *nets), "only %d networks ran", n_nets);
    return TEST_DONE("runtime_layout");
}
