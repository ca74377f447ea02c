/* The fast convolution kernels (AVX-512, AVX2; blocked direct and
 * depthwise) against the reference kernels, on shapes that hit every edge:
 * channel-block tails on both sides, 1..3 strides and dilations, odd sizes,
 * width tails of the register tile, padding larger than the kernel's
 * reach, 1-D layers, batches, fused and unfused activations, 1 and 3
 * threads. Each ISA runs only where the CPU has it. */
#include "convkit.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* layers that take a fast kernel: convolutions and dense layers, and 2-D
 * pooling between them (blocked) */
static int convs_of(const ck_graph *g) {
    int n = 0;
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        const char *op = ck_graph_layer(g, i).op;
        n += !strcmp(op, "conv") || !strcmp(op, "linear") || !strcmp(op, "max_pool");
    }
    return n;
}

static ck_kernels cpu_best(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f")                                 ? CK_KERNELS_AVX512
           : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? CK_KERNELS_AVX2
                                                                             : CK_KERNELS_REF;
}

/* Batch-norm statistics that are not the identity, so folding them into
 * the convolution's weights is really exercised. */
static float bn_buf[4][4096];
static const float *bn_params(void *user, const char *layer, const char *param,
                              const ck_shape *shape) {
    (void)user, (void)layer;
    int64_t n = shape->rank == 1 ? shape->d[0] : 0;
    int which = !strcmp(param, "running_mean")                  ? 0
                : !strcmp(param, "running_var")                 ? 1
                : !strcmp(param, "weight") && shape->rank == 1  ? 2
                : !strcmp(param, "bias") && strstr(layer, "bn") ? 3
                                                                : -1;
    if (which < 0 || n <= 0 || n > 4096) return NULL;
    for (int64_t i = 0; i < n; i++) {
        float t = (float)((i * 37 + which * 11) % 17) / 17.0f;
        bn_buf[which][i] = which == 1 ? 0.5f + t : which == 2 ? 0.5f + 1.5f * t : t - 0.5f;
    }
    return bn_buf[which];
}

static int expect_folds = 0;
static const char *expect_kernel = NULL;        /* a step's kernel must name this */
static ck_kernels expect_isa = CK_KERNELS_AUTO; /* ... with these kernels (AUTO: any fast) */

static ck_tensor_f32 *run(ck_graph *g, ck_kernels k, int threads, const ck_tensor_f32 *x) {
    ck_session_options o = {.seed = 7, .threads = threads, .kernels = k, .params = bn_params};
    ck_session *s = NULL;
    ck_diags d = {0};
    ck_tensor_f32 *y = NULL;
    if (ck_session_new(g, &o, &s, &d) == CK_OK) {
        /* the kernels asked for are the ones planned (unless the CPU lacks
         * them), and every convolution here takes the fast path */
        ck_session_info si = ck_session_describe(s);
        ck_kernels want = k > cpu_best() ? cpu_best() : k;
        CHECK(si.kernels == want && si.threads == threads, "planned %d/%d threads %d", si.kernels,
              want, si.threads);
        int fast = want == CK_KERNELS_REF ? 0 : convs_of(g);
        CHECK(si.fast_steps == fast, "%d fast steps, want %d: %s", si.fast_steps, fast,
              ck_graph_layer(g, 0).type);
        int folds = want == CK_KERNELS_REF ? 0 : expect_folds;
        CHECK(si.folded_steps == folds, "%d folded steps, want %d", si.folded_steps, folds);
        if (expect_kernel && want != CK_KERNELS_REF &&
            (expect_isa == CK_KERNELS_AUTO || want == expect_isa)) {
            bool found = false;
            for (int i = 0; i < si.steps; i++) {
                ck_step_info info;
                if (ck_session_step(s, i, &info) == CK_OK && strstr(info.kernel, expect_kernel))
                    found = true;
            }
            CHECK(found, "no step runs '%s'", expect_kernel);
        }
        ck_shape os = ck_session_output_shape(s, 0);
        ck_session_ctx *c = NULL;
        if (ck_tensor_f32_new(&os, &y) == CK_OK && ck_session_ctx_new(s, &c) == CK_OK) {
            const float *in[1] = {x->data};
            float *out[1] = {y->data};
            if (ck_session_run(s, c, in, out) != CK_OK) {
                ck_tensor_f32_free(y);
                y = NULL;
            }
        }
        ck_session_ctx_free(c);
    }
    ck_session_free(s);
    ck_diags_free(&d);
    return y;
}

static void compare_folds(const char *spec, int folds) {
    expect_folds = folds;
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_parse_cnn(spec, strlen(spec), "fast.cnn", NULL, &g, &d);
    if (st == CK_OK) st = ck_check(g, &d);
    CHECK(st == CK_OK, "spec checks: %s", spec);
    ck_diags_free(&d);
    if (st != CK_OK) {
        ck_graph_free(g);
        return;
    }
    ck_shape is = ck_graph_input_shape(g, 0);
    ck_tensor_f32 *x = NULL;
    ck_tensor_f32_new(&is, &x);
    ck_tensor_f32_fill_normal(x, 11);
    ck_tensor_f32 *ref = run(g, CK_KERNELS_REF, 1, x);
    CHECK(ref != NULL, "reference run: %s", spec);
    static const ck_kernels ks[] = {CK_KERNELS_AVX2, CK_KERNELS_AVX512};
    for (int ki = 0; ref && ki < 2; ki++)
        for (int threads = 1; threads <= 3; threads += 2) {
            ck_tensor_f32 *y = run(g, ks[ki], threads, x);
            CHECK(y != NULL, "run: %s", spec);
            if (!y) continue;
            int64_t n = ck_tensor_f32_numel(ref);
            double err = 0, mx = 1;
            for (int64_t i = 0; i < n; i++) {
                double e = fabs((double)y->data[i] - ref->data[i]);
                if (e > err) err = e;
                if (fabs(ref->data[i]) > mx) mx = fabs(ref->data[i]);
            }
            CHECK(err <= 1e-5 * mx, "%s, %d threads: max error %g (scale %g)\n%s",
                  ki ? "avx512" : "avx2", threads, err, mx, spec);
            ck_tensor_f32_free(y);
        }
    ck_tensor_f32_free(ref);
    ck_tensor_f32_free(x);
    ck_graph_free(g);
}

int main(void) {
    static const char *const specs[] = {
        "input: [1, 64, 56, 56]\nc = Conv2d(64, 64, 3, padding=1)\nr = ReLU()\n",
        "input: [1, 3, 37, 41]\nc = Conv2d(3, 64, 7, stride=2, padding=3)\n",
        "input: [2, 17, 13, 9]\nc = Conv2d(17, 33, 3, stride=2, padding=1)\n",
        "input: [1, 16, 16, 16]\nc = Conv2d(16, 16, 1)\n",
        "input: [1, 40, 15, 23]\nc = Conv2d(40, 70, 1, stride=2, bias=False)\n",
        "input: [1, 8, 20, 20]\nc = Conv2d(8, 24, 3, padding=2, dilation=2)\n",
        "input: [1, 8, 20, 19]\nc = Conv2d(8, 5, (3, 5), stride=(1, 3), padding=(0, 2), "
        "dilation=(3, 1))\n",
        "input: [1, 8, 9, 9]\nc = Conv2d(8, 8, 3, padding=4)\n",
        "input: [1, 7, 12, 12]\nc = Conv2d(7, 1, 2, padding='same')\n",
        "input: [1, 32, 7, 7]\nc = Conv2d(32, 512, 3, padding=1)\n",
        "input: [1, 256, 14, 14]\nc = Conv2d(256, 24, 3, padding=1)\n",
        "input: [1, 32, 112, 112]\nc = Conv2d(32, 32, 3, padding=1, groups=32)\n",
        "input: [1, 13, 11, 17]\nc = Conv2d(13, 13, 3, stride=2, padding=1, groups=13)\n",
        "input: [2, 40, 9, 9]\nc = Conv2d(40, 40, 5, padding=2, dilation=1, groups=40, "
        "bias=False)\n",
        "input: [1, 24, 10, 10]\nc = Conv2d(24, 24, 3, stride=3, dilation=2, padding=3, "
        "groups=24)\n",
        "input: [1, 12, 50]\nc = Conv1d(12, 20, 5, stride=2, padding=2)\n",
        "input: [3, 5, 31]\nc = Conv1d(5, 5, 3, groups=5, dilation=2)\n",
        "input: [1, 3, 32, 32]\nc1 = Conv2d(3, 16, 3, stride=2)\nc2 = Conv2d(16, 32, 3, stride=2)\n"
        "c3 = Conv2d(32, 64, 3, stride=2)\n",
        "input: [1, 6, 10, 10]\nc = Conv2D(20, 3, padding='same', data_format='channels_first', "
        "activation='relu')\n",
        "input: [1, 6, 10, 10]\nc = Conv2D(20, 3, strides=2, data_format='channels_first', "
        "activation='elu')\n",
    };
    /* the first spec's ReLU folds into its convolution */
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) compare_folds(specs[i], i == 0);
    /* conv -> BN -> ReLU chains fold; so do residual adds (with the network
     * input as the residual, in NCHW, and with a residual computed by an
     * earlier conv) and the ReLU after them */
    compare_folds("input: [2, 16, 20, 20]\nc1 = Conv2d(16, 32, 3, padding=1, bias=False)\n"
                  "bn1 = BatchNorm2d(32)\nr1 = ReLU()\nc2 = Conv2d(32, 32, 3, groups=32, "
                  "padding=1)\nbn2 = BatchNorm2d(32)\nr2 = ReLU()\nc3 = Conv2d(32, 8, 1)\n"
                  "bn3 = BatchNorm2d(8)\n",
                  5);
    compare_folds(
        "input: [1, 16, 9, 9]\nc1 = Conv2d(16, 16, 3, padding=1)\nbn1 = "
        "BatchNorm2d(16)\nj = add(bn1, input)\nr = ReLU()\nc2 = Conv2d(16, 16, 1)(input)\n"
        "s = add(c2, r)\n",
        4);
    /* dense layers: one row (1 x 2 blocks), 4-row groups with a tail, a 3-D
     * input, Keras's [K, N] kernel, output columns not a multiple of 2 blocks,
     * a fused ReLU */
    compare_folds("input: [1, 37]\nfc = Linear(37, 45)\n", 0);
    compare_folds("input: [5, 37]\nfc = Linear(37, 45)\n", 0);
    compare_folds("input: [4, 3, 6]\nfc = Linear(6, 70, bias=False)\n", 0);
    compare_folds("input: [6, 20]\nd = Dense(33, activation='relu')\n", 0);
    /* Winograd F(2x2, 3x3): 3x3 stride-1 layers between blocked layers, with
     * odd output sizes (half tiles), channel tails, no/asymmetric padding,
     * batch norm folded into the transformed weights, a fused residual and
     * ReLU, many tile groups and a small map (maps under 64 outputs, a
     * ResNet's 7x7, run direct: fastconv.c plan_winograd) */
    expect_kernel = "winograd";
    compare_folds("input: [1, 17, 9, 11]\np = Conv2d(17, 33, 1)\nc = Conv2d(33, 40, 3, padding=1)\n"
                  "b = BatchNorm2d(40)\nr = ReLU()\nq = Conv2d(40, 8, 1)\n",
                  2);
    compare_folds("input: [2, 16, 11, 12]\np = Conv2d(16, 16, 1)\nc = Conv2d(16, 24, 3)\n"
                  "q = Conv2d(24, 5, 1)\n",
                  0);
    compare_folds("input: [1, 32, 12, 9]\np = Conv2d(32, 32, 1)\nc = Conv2d(32, 32, 3, "
                  "padding=(2, 0))\nq = Conv2d(32, 5, 1)\n",
                  0);
    compare_folds(
        "input: [1, 64, 56, 56]\np = Conv2d(64, 64, 1)\nc = Conv2d(64, 64, 3, padding=1, "
        "bias=False)\nb = BatchNorm2d(64)\nj = add(b, p)\nr = ReLU()\nq = Conv2d(64, 16, 1)\n",
        3);
    compare_folds("input: [1, 256, 9, 9]\np = Conv2d(256, 256, 1)\nc = Conv2d(256, 256, 3, "
                  "padding=1)\nq = Conv2d(256, 10, 1)\n",
                  0);
    /* depthwise 3x3 in whole-row 8-pixel tiles: rows narrower than a tile,
     * a width that is no multiple of 8 (the last tile overlaps), stride 2,
     * a fused residual */
    expect_kernel = NULL;
    compare_folds("input: [1, 40, 7, 7]\np = Conv2d(40, 40, 1)\nc = Conv2d(40, 40, 3, padding=1, "
                  "groups=40)\nr = ReLU6()\nq = Conv2d(40, 4, 1)\n",
                  1);
    compare_folds("input: [2, 16, 9, 21]\np = Conv2d(16, 16, 1)\nc = Conv2d(16, 16, 3, padding=1, "
                  "groups=16)\nj = add(c, p)\nd = Conv2d(16, 16, 3, stride=2, padding=1, "
                  "groups=16)\nq = Conv2d(16, 4, 1)\n",
                  1);
    /* a batch's leading layers image by image (plan.c, by_image): an
     * inverted residual block, its expansion and depthwise buffers one image
     * each, its residual read across the prefix, the outputs of the prefix
     * (the projection and the map the next block reads) for every image;
     * then a layer with more weights than an image of its output ends it */
    expect_kernel = "by image";
    compare_folds(
        "input: [3, 16, 14, 12]\np = Conv2d(16, 16, 1)\ne = Conv2d(16, 96, 1)\n"
        "b = BatchNorm2d(96)\nr = ReLU6()\nd = Conv2d(96, 96, 3, padding=1, groups=96)\n"
        "r2 = ReLU6()\nq = Conv2d(96, 16, 1)\nj = add(q, p)\nd2 = Conv2d(16, 16, 3, "
        "stride=2, padding=1, groups=16)\nw = Conv2d(16, 800, 1)\nz = Conv2d(800, 4, 1)\n",
        4);
    compare_folds("input: [2, 3, 33, 31]\ns = Conv2d(3, 32, 3, stride=2, padding=1)\nr = ReLU()\n"
                  "d = Conv2d(32, 32, 3, padding=1, groups=32)\nq = Conv2d(32, 16, 1)\n",
                  1);
    /* ... a max pool inside it (one image in, one out), its output the
     * residual of the next layer */
    compare_folds("input: [2, 3, 40, 36]\ns = Conv2d(3, 32, 3, stride=2, padding=1)\nr = ReLU()\n"
                  "m = MaxPool2d(3, stride=2, padding=1)\np = Conv2d(32, 32, 1)\nj = add(p, m)\n"
                  "q = Conv2d(32, 16, 1)\n",
                  2);
    expect_kernel = NULL;
    /* Winograd F(4x4, 3x3) on maps of at least 36 tiles: tails of the 4x4
     * tiles on both axes, a channel tail, batch norm, residual and ReLU
     * fused, asymmetric padding */
    expect_kernel = "winograd 4x4";
    compare_folds("input: [1, 40, 27, 23]\np = Conv2d(40, 40, 1)\ne = Conv2d(40, 24, 1)\n"
                  "c = Conv2d(40, 24, 3, padding=1, bias=False)(p)\nb = BatchNorm2d(24)\n"
                  "j = add(b, e)\nr = ReLU()\nq = Conv2d(24, 5, 1)\n",
                  3);
    compare_folds("input: [2, 16, 30, 26]\np = Conv2d(16, 16, 1)\nc = Conv2d(16, 32, 3, "
                  "padding=(2, 0))\nq = Conv2d(32, 5, 1)\n",
                  0);
    expect_kernel = NULL;
    /* 3-block register tiles (96 and 144 channels: 6 and 9 blocks of 16 with
     * AVX-512), a channel tail in the last block, a clamp, a stride */
    if (cpu_best() == CK_KERNELS_AVX512) {
        expect_kernel = " 3x";
        expect_isa = CK_KERNELS_AVX512;
        compare_folds("input: [1, 24, 9, 17]\np = Conv2d(24, 24, 1)\nc = Conv2d(24, 144, 1)\n"
                      "r = ReLU6()\nq = Conv2d(144, 4, 1)\n",
                      1);
        compare_folds("input: [2, 16, 7, 16]\np = Conv2d(16, 16, 1)\nc = Conv2d(16, 40, 3, "
                      "stride=2, padding=1)\nq = Conv2d(40, 5, 1)\n",
                      0);
        expect_kernel = NULL;
        expect_isa = CK_KERNELS_AUTO;
    }
    /* the 1 x 28 tile of one output block (16 channels or fewer): a row of
     * 55 (a whole tile and one of 27 pixels), a channel tail (12 of 16), a
     * residual and a clamp */
    if (cpu_best() == CK_KERNELS_AVX512) {
        expect_kernel = " 1x28";
        expect_isa = CK_KERNELS_AVX512;
        compare_folds("input: [1, 12, 5, 55]\np = Conv2d(12, 12, 1)\nc = Conv2d(12, 12, 1)\n"
                      "j = add(c, p)\nr = ReLU6()\nq = Conv2d(12, 4, 1)\n",
                      2);
        expect_kernel = NULL;
        expect_isa = CK_KERNELS_AUTO;
    }
    /* deep layers: the reduction in chunks (partial sums kept in the blocked
     * output, residual and clamp on the last chunk), several rows per task */
    if (cpu_best() == CK_KERNELS_AVX512) {
        /* a group's weights past a quarter of the L2 (read at plan time)
         * chunk: these are past it for an L2 of up to 3 MiB (AVX2's smaller
         * blocks need more) */
        expect_kernel = "kchunk=";
        expect_isa = CK_KERNELS_AVX512;
        compare_folds(
            "input: [1, 520, 9, 9]\np = Conv2d(520, 520, 1)\nc = Conv2d(520, 72, 3, stride=2, "
            "padding=1, bias=False)\nb = BatchNorm2d(72)\nr = ReLU()\nq = Conv2d(72, 8, 1)\n",
            2);
        compare_folds("input: [2, 456, 7, 7]\np = Conv2d(456, 456, 1)\nc = Conv2d(456, 456, 3, "
                      "padding=2, dilation=2)\nj = add(c, p)\nr = ReLU()\nq = Conv2d(456, 8, 1)\n",
                      2);
        compare_folds("input: [1, 1100, 5, 5]\np = Conv2d(1100, 1100, 1)\nc = Conv2d(1100, 48, 1)\n"
                      "q = Conv2d(48, 4, 1)\n",
                      0);
    }
    expect_kernel = NULL;
    expect_isa = CK_KERNELS_AUTO;
    return TEST_DONE("runtime_fast");
}
