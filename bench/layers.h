/* The issue-6 layer set of bench/bench.c and its FLOP count: 2 x the
 * multiply-adds of convkit's own cost rule (src/ops), the count `convkit
 * summary` prints and the step profile (ck_session_step) reports.
 * tests/unit/test_flops.c includes this file and checks that the three
 * agree, so the benchmark never counts FLOPs a second way. */
#ifndef CK_BENCH_LAYERS_H
#define CK_BENCH_LAYERS_H

#include "convkit.h"

#include <stdio.h>
#include <string.h>

typedef struct layer_spec {
    const char *name;
    int C, O, k, s, p, d, g, H, W;
} layer_spec;

static const layer_spec LAYERS[] = {
    {"resnet50 conv1 7x7 s2 3->64 @224", 3, 64, 7, 2, 3, 1, 1, 224, 224},
    {"resnet50 3x3 64->64 @56", 64, 64, 3, 1, 1, 1, 1, 56, 56},
    {"resnet50 1x1 256->64 @56", 256, 64, 1, 1, 0, 1, 1, 56, 56},
    {"resnet50 1x1 64->256 @56", 64, 256, 1, 1, 0, 1, 1, 56, 56},
    {"resnet50 3x3 s2 128->128 @56", 128, 128, 3, 2, 1, 1, 1, 56, 56},
    {"resnet50 3x3 256->256 @14", 256, 256, 3, 1, 1, 1, 1, 14, 14},
    {"resnet50 3x3 512->512 @7", 512, 512, 3, 1, 1, 1, 1, 7, 7},
    {"vgg 3x3 64->64 @112", 64, 64, 3, 1, 1, 1, 1, 112, 112},
    {"mobilenetv2 dw 3x3 32 @112", 32, 32, 3, 1, 1, 1, 32, 112, 112},
    {"mobilenetv2 dw 3x3 s2 144 @56", 144, 144, 3, 2, 1, 1, 144, 56, 56},
    {"mobilenetv2 1x1 32->16 @112", 32, 16, 1, 1, 0, 1, 1, 112, 112},
    {"dilated 3x3 d2 256->256 @28", 256, 256, 3, 1, 2, 2, 1, 28, 28},
};
enum { N_LAYERS = sizeof LAYERS / sizeof LAYERS[0] };

/* The layer as PyTorch's Conv2d in a .cnn line. */
static inline void bench_conv_text(const layer_spec *l, char *buf, size_t n) {
    snprintf(buf, n,
             "conv = Conv2d(%d, %d, kernel_size=%d, stride=%d, padding=%d, dilation=%d, "
             "groups=%d, bias=False)\n",
             l->C, l->O, l->k, l->s, l->p, l->d, l->g);
}

/* The layer alone as a .cnn network, batch 1. */
static inline void bench_layer_cnn(const layer_spec *l, char *buf, size_t n) {
    char conv[256];
    bench_conv_text(l, conv, sizeof conv);
    snprintf(buf, n, "input: [1, %d, %d, %d]\n%s", l->C, l->H, l->W, conv);
}

/* FLOPs of the layer: 2 x the multiply-adds of convkit's cost rule for it
 * (padding taps included); -1 when convkit rejects the layer. */
static inline double bench_layer_flops(const layer_spec *l) {
    char text[512];
    bench_layer_cnn(l, text, sizeof text);
    ck_graph *g = NULL;
    double f = -1;
    if (ck_parse_cnn(text, strlen(text), l->name, NULL, &g, NULL) == CK_OK &&
        ck_check(g, NULL) == CK_OK)
        f = 2.0 * (double)ck_graph_totals(g).macs;
    ck_graph_free(g);
    return f;
}

#endif
