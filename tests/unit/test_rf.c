/* Receptive fields, jumps and start offsets (ck_rf_*) against values worked
 * out by hand with Araujo et al.'s recurrences, and against their Distill
 * table where a network of tests/oracle/networks matches one of its rows. */
#include "convkit.h"
#include "test.h"

#include <math.h>
#include <string.h>

static ck_graph *load_text(const char *text) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_parse_cnn(text, strlen(text), "t.cnn", NULL, &g, &d);
    if (g) ck_check(g, &d);
    for (int i = 0; i < d.n; i++)
        if (d.v[i].severity == CK_SEV_ERROR && !g) fprintf(stderr, "%s\n", d.v[i].message);
    ck_diags_free(&d);
    return g;
}

static ck_graph *load_onnx(const char *name, int64_t side) {
    char path[256];
    snprintf(path, sizeof path, "tests/oracle/networks/%s.onnx", name);
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_load_file(path, NULL, &g, &d);
    if (g) {
        ck_shape s = {.rank = 4, .d = {1, 3, side, side}};
        ck_graph_set_input_shape(g, 0, &s);
        ck_diags_free(&d);
        ck_check(g, &d);
    }
    ck_diags_free(&d);
    return g;
}

static int find(const ck_graph *g, const char *name) {
    for (int i = 0; i < ck_graph_num_layers(g); i++)
        if (!strcmp(ck_graph_layer(g, i).name, name)) return i;
    return -1;
}

static bool eq(double a, double b) {
    return fabs(a - b) < 1e-9;
}

/* Layer `name` has one aligned path per axis, the same on every axis. */
static void expect(ck_rf_table *t, const ck_graph *g, const char *name, double size, double jump,
                   double start) {
    ck_rf rf;
    int i = find(g, name);
    CHECK(i >= 0 && ck_rf_layer(t, i, &rf) == CK_OK, "%s: no such layer", name);
    if (i < 0) return;
    ck_rf_layer(t, i, &rf);
    CHECK(rf.nsp > 0, "%s: no spatial axes", name);
    for (int q = 0; q < rf.nsp; q++) {
        const ck_rf_axis *a = &rf.axis[q];
        bool good = a->kind == CK_RF_LOCAL && a->n_paths == 1 && eq(a->paths[0].size, size) &&
                    eq(a->paths[0].jump, jump) && eq(a->paths[0].start, start);
        CHECK(good, "%s %s: want r=%g j=%g start=%g, got kind %d paths %d r=%g j=%g start=%g", name,
              a->name, size, jump, start, a->kind, a->n_paths, a->n_paths ? a->paths[0].size : -1,
              a->n_paths ? a->paths[0].jump : -1, a->n_paths ? a->paths[0].start : -1);
    }
}

static void expect_kind(ck_rf_table *t, const ck_graph *g, const char *name, ck_rf_kind kind) {
    ck_rf rf;
    int i = find(g, name);
    CHECK(i >= 0, "%s: no such layer", name);
    if (i < 0) return;
    ck_rf_layer(t, i, &rf);
    for (int q = 0; q < rf.nsp; q++)
        CHECK(rf.axis[q].kind == kind, "%s %s: kind %d, want %d", name, rf.axis[q].name,
              rf.axis[q].kind, kind);
}

static ck_rf_table *analyze(const ck_graph *g) {
    ck_rf_table *t = NULL;
    CHECK(g && ck_rf_analyze(g, &t) == CK_OK && t, "ck_rf_analyze failed");
    return t;
}

/* VGG-style stacks of 3x3 stride-1 convolutions: r = 1 + 2L, jump 1, and
 * padding 1 keeps pixel 0 centred on input pixel 0. */
static void test_vgg_stack(void) {
    ck_graph *g = load_text("input: [1, 3, 32, 32]\n"
                            "c1 = Conv2d(3, 8, 3, padding=1)\n"
                            "r1 = ReLU()\n"
                            "c2 = Conv2d(8, 8, 3, padding=1)\n"
                            "c3 = Conv2d(8, 8, 3, padding=1)\n"
                            "c4 = Conv2d(8, 8, 3, padding=1)\n"
                            "c5 = Conv2d(8, 8, 3)\n");
    ck_rf_table *t = analyze(g);
    if (!t) return;
    expect(t, g, "c1", 3, 1, 0);
    expect(t, g, "r1", 3, 1, 0); /* elementwise ops pass through */
    expect(t, g, "c2", 5, 1, 0);
    expect(t, g, "c3", 7, 1, 0);
    expect(t, g, "c4", 9, 1, 0);
    expect(t, g, "c5", 11, 1, 1); /* unpadded: pixel 0 sits one pixel in */
    ck_rf_table_free(t);
    ck_graph_free(g);
}

/* The seed chain: 3x3 stride-2 convolutions, r = 3, 7, 15 and jump 2, 4, 8;
 * at 7x7 conv3 fails and is unknown, the layers before it are not. */
static void test_chain(void) {
    ck_graph *g = load_text("input: [1, 3, 32, 32]\n"
                            "conv1 = Conv2d(3, 16, 3, stride=2)\n"
                            "relu1 = ReLU()\n"
                            "conv2 = Conv2d(16, 32, 3, stride=2)\n"
                            "conv3 = Conv2d(32, 64, 3, stride=2)\n");
    ck_rf_table *t = analyze(g);
    if (!t) return;
    expect(t, g, "conv1", 3, 2, 1);
    expect(t, g, "conv2", 7, 4, 3);
    expect(t, g, "conv3", 15, 8, 7);
    ck_rf_table_free(t);
    ck_shape s = {.rank = 4, .d = {1, 3, 7, 7}};
    ck_graph_set_input_shape(g, 0, &s);
    ck_diags d = {0};
    CHECK(ck_check(g, &d) == CK_EINVALID, "7x7 should fail");
    ck_diags_free(&d);
    t = analyze(g);
    expect(t, g, "conv2", 7, 4, 3);
    expect_kind(t, g, "conv3", CK_RF_UNKNOWN);
    ck_rf out;
    CHECK(ck_rf_layer(t, 99, &out) == CK_EUSAGE, "layer out of range");
    CHECK(ck_rf_operand(t, 0, 5, &out) == CK_EUSAGE, "operand out of range");
    ck_rf_table_free(t);
    CHECK(ck_receptive_field(g, 0, &out) == CK_OK && out.axis[0].paths[0].size == 3,
          "one-shot ck_receptive_field");
    CHECK(!strcmp(out.axis[0].name, "height") && !strcmp(out.axis[1].name, "width"), "axis names");
    ck_graph_free(g);
}

/* Dilation widens the kernel to d*(k-1)+1 (Araujo eq. with k_eff). */
static void test_dilation(void) {
    ck_graph *g = load_text("input: [1, 1, 64]\n"
                            "a = Conv1d(1, 4, 3, dilation=2, padding=2)\n"
                            "b = Conv1d(4, 4, 3, dilation=4, padding=4)\n"
                            "c = Conv1d(4, 4, 2, stride=2, dilation=3)\n"
                            "p = MaxPool1d(3, stride=1, dilation=2)\n");
    ck_rf_table *t = analyze(g);
    if (!t) return;
    expect(t, g, "a", 5, 1, 0);
    expect(t, g, "b", 13, 1, 0);
    expect(t, g, "c", 16, 2, 1.5); /* k_eff 4: start + (3/2 - 0) */
    expect(t, g, "p", 24, 2, 5.5); /* k_eff 5 */
    ck_rf rf;
    ck_rf_layer(t, 0, &rf);
    CHECK(rf.nsp == 1 && !strcmp(rf.axis[0].name, "length"), "1-D axis is length");
    ck_rf_table_free(t);
    ck_graph_free(g);
}

/* Pooling windows, 'same' padding resolved for the input size, adaptive
 * bins, and global pooling / flatten / linear seeing the whole input. */
static void test_pooling(void) {
    ck_graph *g = load_text("input: [1, 3, 28, 28]\n"
                            "p1 = MaxPool2d(2)\n"
                            "p2 = AvgPool2d(3, stride=2, padding=1)\n"
                            "a1 = AdaptiveAvgPool2d(7)\n"
                            "a2 = AdaptiveAvgPool2d(4)\n"
                            "a3 = AdaptiveAvgPool2d(1)\n"
                            "f = Flatten()\n"
                            "fc = Linear(3, 10)\n");
    ck_rf_table *t = analyze(g);
    if (!t) return;
    expect(t, g, "p1", 2, 2, 0.5);
    expect(t, g, "p2", 6, 4, 0.5); /* 2 + 2*2; start 0.5 + (1 - 1)*2 */
    expect(t, g, "a1", 6, 4, 0.5); /* 7 -> 7: one-pixel bins */
    /* 7 -> 4: bins [0,2) [1,4) [3,6) [5,7), the widest 3; jump 7/4 */
    expect(t, g, "a2", 6 + 2 * 4, 4 * 1.75, 0.5 + (1.75 / 2 - 0.5) * 4);
    expect_kind(t, g, "a3", CK_RF_GLOBAL);
    expect_kind(t, g, "f", CK_RF_GLOBAL);
    expect_kind(t, g, "fc", CK_RF_GLOBAL);
    ck_rf_table_free(t);
    ck_graph_free(g);

    /* Keras, channels last: 'same' with stride 2 pads (0, 1) at 8 pixels and
     * (1, 1) at 9 (ceil(in/s) outputs), so pixel 0 moves with the input size. */
    const char *keras = "c = Conv2D(8, 3, strides=2, padding=\"same\")\n"
                        "p = MaxPooling2D(2)\n"
                        "gp = GlobalAveragePooling2D()\n";
    char text[512];
    snprintf(text, sizeof text, "input: [1, 8, 8, 3]\n%s", keras);
    g = load_text(text);
    t = analyze(g);
    if (t) {
        expect(t, g, "c", 3, 2, 1);
        expect(t, g, "p", 5, 4, 2);
        expect_kind(t, g, "gp", CK_RF_GLOBAL);
        ck_rf_table_free(t);
    }
    ck_graph_free(g);
    snprintf(text, sizeof text, "input: [1, 9, 9, 3]\n%s", keras);
    g = load_text(text);
    t = analyze(g);
    if (t) {
        expect(t, g, "c", 3, 2, 0);
        ck_rf_table_free(t);
    }
    ck_graph_free(g);
}

/* Padding layers move pixel 0 into the padding, cropping moves it back in. */
static void test_pad_crop(void) {
    ck_graph *g = load_text("input: [1, 8, 8, 3]\n"
                            "z = ZeroPadding2D(padding=(2, 1))\n"
                            "c = Conv2D(4, 3)\n"
                            "k = Cropping2D(cropping=((1, 0), (0, 0)))\n");
    ck_rf_table *t = analyze(g);
    if (!t) return;
    ck_rf rf;
    ck_rf_layer(t, find(g, "z"), &rf);
    CHECK(rf.axis[0].paths[0].start == -2 && rf.axis[1].paths[0].start == -1, "padded: -2, -1");
    ck_rf_layer(t, find(g, "k"), &rf);
    CHECK(rf.axis[0].paths[0].start == 0 && rf.axis[1].paths[0].start == 0 &&
              rf.axis[0].paths[0].size == 3,
          "cropped: start %g x %g", rf.axis[0].paths[0].start, rf.axis[1].paths[0].start);
    ck_rf_table_free(t);
    ck_graph_free(g);
}

/* Transposed convolution: jump / stride; only the taps that land on real
 * input pixels widen the field (a 2x2 stride-2 up-convolution adds none). */
static void test_transposed(void) {
    ck_graph *g = load_text("input: [1, 3, 32, 32]\n"
                            "down = Conv2d(3, 8, 3, stride=2, padding=1)\n"
                            "up2 = ConvTranspose2d(8, 8, 2, stride=2)\n"
                            "up3 = ConvTranspose2d(8, 8, 3, stride=2, padding=1)(down)\n"
                            "up4 = ConvTranspose2d(8, 8, 4, stride=2, padding=1)(down)\n"
                            "c = Conv2d(8, 8, 3, padding=1)(up2)\n"
                            "t1 = ConvTranspose2d(8, 8, 3)(down)\n"
                            "td = ConvTranspose2d(8, 8, 3, stride=2, dilation=2)(down)\n");
    ck_rf_table *t = analyze(g);
    if (!t) return;
    expect(t, g, "down", 3, 2, 0);
    expect(t, g, "up2", 3, 1, -0.5);
    expect(t, g, "up3", 5, 1, 0);    /* taps 2 apart: 1 extra input step */
    expect(t, g, "up4", 5, 1, -0.5); /* (1 - 3/2) * 1 */
    expect(t, g, "c", 5, 1, -0.5);   /* a plain conv after it: + 2*1 */
    expect(t, g, "t1", 7, 2, -2);    /* stride 1: as a 3x3 conv with padding 2 */
    expect(t, g, "td", 7, 1, -2);    /* dilation 2 stride 2: every tap on a pixel */
    ck_rf_table_free(t);
    ck_graph_free(g);

    /* fractional jumps: up-sampling a full-resolution input */
    g = load_text("input: [1, 3, 8, 8]\n"
                  "up = ConvTranspose2d(3, 3, 2, stride=2)\n"
                  "c = Conv2d(3, 3, 2)\n"
                  "n = Upsample(scale_factor=2, mode='nearest')(up)\n"
                  "b = Upsample(scale_factor=2, mode='bilinear')(up)\n");
    t = analyze(g);
    if (t) {
        expect(t, g, "up", 1, 0.5, -0.25);
        expect(t, g, "c", 1.5, 0.5, 0); /* the mean over output pixels of 1 and 2 */
        expect(t, g, "n", 1, 0.25, -0.25);
        expect(t, g, "b", 1.5, 0.25, -0.25 - 0.25 * 0.5);
        ck_rf_table_free(t);
    }
    ck_graph_free(g);
}

/* Several paths: residual adds merge aligned paths (largest size), each
 * operand keeps its own value, and misaligned branches are listed apart. */
static void test_paths(void) {
    ck_graph *g = load_text("input: [1, 8, 16, 16]\n"
                            "c1 = Conv2d(8, 8, 3, padding=1)\n"
                            "c2 = Conv2d(8, 8, 3, padding=1)\n"
                            "res = add(c2, input)\n"
                            "a = Conv2d(8, 8, 2, stride=2)(res)\n"
                            "b = Conv2d(8, 8, 3, stride=2, padding=1)(res)\n"
                            "bad = add(a, b)\n"
                            "cc = cat(a, b, dim=1)\n"
                            "after = Conv2d(16, 8, 3, padding=1)(cc)\n");
    ck_rf_table *t = analyze(g);
    if (!t) return;
    expect(t, g, "res", 5, 1, 0);
    ck_rf rf;
    int i = find(g, "res");
    ck_rf_operand(t, i, 0, &rf);
    CHECK(rf.axis[0].paths[0].size == 5, "operand 0 of res: 5");
    ck_rf_operand(t, i, 1, &rf);
    CHECK(rf.axis[0].kind == CK_RF_LOCAL && rf.axis[0].paths[0].size == 1,
          "operand 1 of res is the input: 1");
    const char *joins[] = {"bad", "cc", "after"};
    double sizes[][2] = {{6, 7}, {6, 7}, {10, 11}};
    for (int k = 0; k < 3; k++) {
        i = find(g, joins[k]);
        ck_rf_layer(t, i, &rf);
        for (int q = 0; q < 2; q++) {
            const ck_rf_axis *a = &rf.axis[q];
            CHECK(a->kind == CK_RF_LOCAL && a->n_paths == 2, "%s: two unaligned paths, got %d",
                  joins[k], a->n_paths);
            if (a->n_paths != 2) continue;
            CHECK(a->paths[0].size == sizes[k][0] && a->paths[0].start == 0.5 &&
                      a->paths[1].size == sizes[k][1] && a->paths[1].start == 0 &&
                      a->paths[0].jump == 2 && a->paths[1].jump == 2,
                  "%s: paths %g@%g %g@%g", joins[k], a->paths[0].size, a->paths[0].start,
                  a->paths[1].size, a->paths[1].start);
        }
    }
    ck_rf_table_free(t);
    ck_graph_free(g);
}

/* examples/unet.cnn: the up-path is aligned with each skip it is joined to. */
static void test_unet(void) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_load_file("examples/unet.cnn", NULL, &g, &d);
    CHECK(g && ck_check(g, &d) == CK_OK, "unet.cnn checks");
    ck_diags_free(&d);
    ck_rf_table *t = analyze(g);
    if (!t) {
        ck_graph_free(g);
        return;
    }
    expect(t, g, "enc4.relu2", 68, 8, 3.5);
    expect(t, g, "bottleneck.conv2", 140, 16, 7.5);
    expect(t, g, "up4", 140, 8, 3.5);
    expect(t, g, "cat4", 140, 8, 3.5);
    int i = find(g, "cat4");
    ck_rf rf;
    ck_rf_operand(t, i, 1, &rf);
    CHECK(rf.axis[0].paths[0].size == 68, "cat4's skip operand: 68");
    /* back at full resolution: aligned, every pixel sees 140 + ... */
    expect(t, g, "head", 140 + 4 * 8 + 4 * 4 + 4 * 2 + 4 * 1, 1, 0);
    ck_rf_table_free(t);
    ck_graph_free(g);
}

/* Torchvision networks exported to ONNX, worked out layer by layer.
 * ResNet-18: conv1 7, maxpool 11 (jump 4), then +2*jump per 3x3 conv, the
 * stride-2 conv of each stage doubling the jump: 435 at the last conv.
 * AlexNet: 195 at pool5 (the last layer before the classifier, where Araujo
 * et al.'s table reads 195 for AlexNet); its conv5 is 163. MobileNet-v2: one
 * 3x3 depthwise conv per block, 491 at the last conv. VGG-11: 150 at pool5. */
static void test_networks(void) {
    ck_graph *g = load_onnx("resnet18", 224);
    ck_rf_table *t = analyze(g);
    if (t) {
        expect(t, g, "/conv1/Conv", 7, 2, 0);
        expect(t, g, "/maxpool/MaxPool", 11, 4, 0);
        expect(t, g, "/layer1/layer1.1/conv2/Conv", 43, 4, 0);
        expect(t, g, "/layer2/layer2.0/downsample/downsample.0/Conv", 43, 8, 0);
        expect(t, g, "/layer4/layer4.1/conv2/Conv", 435, 32, 0);
        expect(t, g, "/layer4/layer4.1/Add", 435, 32, 0);
        int i = find(g, "/layer4/layer4.1/Add");
        ck_rf rf;
        ck_rf_operand(t, i, 1, &rf);
        CHECK(rf.axis[1].paths[0].size == 307, "shortcut into the last add: 307, got %g",
              rf.axis[1].paths[0].size);
        expect_kind(t, g, "/avgpool/GlobalAveragePool", CK_RF_GLOBAL);
        expect_kind(t, g, "/fc/Gemm", CK_RF_GLOBAL);
        ck_rf_table_free(t);
    }
    ck_graph_free(g);

    g = load_onnx("alexnet", 224);
    t = analyze(g);
    if (t) {
        expect(t, g, "/features/features.0/Conv", 11, 4, 3);
        expect(t, g, "/features/features.10/Conv", 163, 16, 15); /* conv5 */
        expect(t, g, "/features/features.12/MaxPool", 195, 32, 31);
        expect_kind(t, g, "/Flatten", CK_RF_GLOBAL);
        ck_rf_table_free(t);
    }
    ck_graph_free(g);

    g = load_onnx("mobilenet_v2", 224);
    t = analyze(g);
    if (t) {
        expect(t, g, "/features/features.18/features.18.0/Conv", 491, 32, 0);
        ck_rf_table_free(t);
    }
    ck_graph_free(g);

    g = load_onnx("vgg11", 224);
    t = analyze(g);
    if (t) {
        expect(t, g, "/features/features.20/MaxPool", 150, 32, 15.5);
        ck_rf_table_free(t);
    }
    ck_graph_free(g);
}

/* A graph that was never checked has no shapes: every layer is unknown. */
static void test_unchecked(void) {
    const char *text = "input: [1, 3, 8, 8]\nc = Conv2d(3, 3, 3)\n";
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_parse_cnn(text, strlen(text), "t.cnn", NULL, &g, &d);
    ck_diags_free(&d);
    ck_rf rf;
    CHECK(g && ck_receptive_field(g, 0, &rf) == CK_OK && rf.nsp == 0,
          "unchecked graph: no spatial axes known");
    ck_rf_table *t;
    CHECK(ck_rf_analyze(NULL, &t) == CK_EUSAGE, "NULL graph");
    ck_graph_free(g);
}

int main(void) {
    test_vgg_stack();
    test_chain();
    test_dilation();
    test_pooling();
    test_pad_crop();
    test_transposed();
    test_paths();
    test_unet();
    test_networks();
    test_unchecked();
    return TEST_DONE("test_rf");
}
