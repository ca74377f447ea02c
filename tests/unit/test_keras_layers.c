/* Keras layer rules through the .cnn format with Keras names: one case per
 * rule branch with literal expected shapes (computed with Keras's own
 * conv_output_length / deconv_output_length), the error class for the
 * invalid ones, and every Keras view of tests/oracle/layers.jsonl (rows with
 * a tf_keras_equivalent block). */
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Parses and checks `spec`; returns the graph (NULL on a parse error). */
static ck_graph *run(const char *spec, ck_diags *d, ck_status *st) {
    ck_graph *g = NULL;
    *st = ck_parse_cnn(spec, strlen(spec), "test.cnn", NULL, &g, d);
    if (*st != CK_OK || !g) return NULL;
    *st = ck_check(g, d);
    return g;
}

static int find_layer(const ck_graph *g, const char *name) {
    for (int i = 0; i < ck_graph_num_layers(g); i++)
        if (strcmp(ck_graph_layer(g, i).name, name) == 0) return i;
    return -1;
}

static const char *first_error(const ck_diags *d, const char **layer) {
    for (int i = 0; i < d->n; i++)
        if (d->v[i].severity == CK_SEV_ERROR) {
            if (layer) *layer = d->v[i].layer;
            return ck_code_name(d->v[i].code);
        }
    return NULL;
}

static void shape(const char *spec, const char *layer, int rank, ...) {
    ck_shape want = {.rank = rank};
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++) want.d[i] = va_arg(ap, int);
    va_end(ap);
    ck_diags d = {0};
    ck_status st;
    ck_graph *g = run(spec, &d, &st);
    char gb[128] = "?", wb[128];
    ck_shape_str(&want, wb, sizeof wb);
    bool ok = false;
    if (g) {
        int li = find_layer(g, layer);
        if (li >= 0) {
            ck_layer_info in = ck_graph_layer(g, li);
            ck_shape_str(&in.output, gb, sizeof gb);
            ok = in.state == CK_LAYER_OK && ck_shape_str(&in.output, gb, sizeof gb) &&
                 strcmp(gb, wb) == 0;
        }
    }
    const char *el = NULL;
    const char *ec = first_error(&d, &el);
    CHECK(ok, "%s-> %s: got %s, want %s (%s %s: %s)", spec, layer, gb, wb, ec ? ec : "no error",
          el ? el : "", d.n ? d.v[0].message : "");
    ck_graph_free(g);
    ck_diags_free(&d);
}

static void fails(const char *spec, const char *layer, const char *code) {
    ck_diags d = {0};
    ck_status st;
    ck_graph *g = run(spec, &d, &st);
    const char *el = NULL;
    const char *ec = first_error(&d, &el);
    bool ok = ec && strcmp(ec, code) == 0 && el && strcmp(el, layer) == 0;
    CHECK(ok, "%s-> want %s at %s, got %s at %s (%s)", spec, code, layer, ec ? ec : "no error",
          el ? el : "-", d.n ? d.v[0].message : "");
    ck_graph_free(g);
    ck_diags_free(&d);
}

static void unit_cases(void) {
    /* Conv2D: valid = floor((in - d(k-1) - 1)/s) + 1, same = ceil(in/s) */
    shape("input: [1, 28, 28, 3]\nc = Conv2D(16, 3, strides=2, padding=\"same\")\n", "c", 4, 1, 14,
          14, 16);
    shape("input: [1, 28, 28, 3]\nc = Conv2D(16, (3, 3))\n", "c", 4, 1, 26, 26, 16);
    shape("input: [1, 10, 10, 3]\nc = Conv2D(8, 3, dilation_rate=2)\n", "c", 4, 1, 6, 6, 8);
    shape("input: [1, 10, 11, 3]\nc = Conv2D(8, 5, padding='same', strides=3)\n", "c", 4, 1, 4, 4,
          8);
    shape("input: [1, 10, 11, 3]\nc = Conv2D(8, (5, 2), strides=(3, 2))\n", "c", 4, 1, 2, 5, 8);
    shape("input: [1, 3, 10, 10]\nc = Conv2D(8, 3, data_format='channels_first')\n", "c", 4, 1, 8,
          8, 8);
    shape("input: [1, 8, 8, 4]\nc = Conv2D(6, 3, groups=2, activation='relu', use_bias=False)\n",
          "c", 4, 1, 6, 6, 6);
    shape("input: [1, 28, 28, 3]\nc = Conv2D(16, 3, 1, 'same', None, 1, 1, 'relu')\n", "c", 4, 1,
          28, 28, 16);
    shape("input: [1, 10, 2]\nc = Conv1D(4, 3, padding='causal', dilation_rate=2)\n", "c", 3, 1, 10,
          4);
    shape("input: [1, 11, 2]\nc = Conv1D(4, 3, strides=2)\n", "c", 3, 1, 5, 4);
    shape("input: [1, 11, 2]\nc = Conv1D(4, 3, strides=2, padding='same')\n", "c", 3, 1, 6, 4);
    shape("input: [1, 5, 6, 7, 1]\nc = Conv3D(2, 3)\n", "c", 5, 1, 3, 4, 5, 2);
    fails("input: [1, 2, 2, 3]\nc = Conv2D(16, 3)\n", "c", "output_too_small");
    fails("input: [1, 8, 8, 3]\nc = Conv2D(6, 3, groups=4)\n", "c", "invalid_config");
    fails("input: [1, 8, 8, 3]\nc = Conv2D(6, 3, groups=2)\n", "c", "channel_mismatch");
    fails("input: [1, 9, 9, 3]\nc = Conv2D(8, 3, strides=2, dilation_rate=2)\n", "c",
          "unsupported");
    fails("input: [1, 9, 9, 3]\nc = Conv2D(8, 3, padding='causal')\n", "c", "invalid_config");
    fails("input: [1, 9, 9, 3]\nc = Conv2D(8, 3, padding='full')\n", "c", "invalid_padding");
    fails("input: [1, 9, 9, 3]\nc = Conv2D(8, 0)\n", "c", "invalid_config");
    fails("input: [1, 9, 9, 3]\nc = Conv2D(8, 3, strides=0)\n", "c", "invalid_config");
    fails("input: [1, 9, 9, 3]\nc = Conv2D(0, 3)\n", "c", "invalid_config");
    fails("input: [1, 9, 9, 3]\nc = Conv2D(8, 3, data_format='nhwc')\n", "c", "invalid_config");
    fails("input: [1, 9, 9, 3]\nc = Conv2D(kernel_size=3)\n", "c", "invalid_config");
    fails("input: [1, 9, 9, 3]\nc = Conv2D(8, (3, 3, 3))\n", "c", "invalid_config");
    fails("input: [1, 9, 3]\nc = Conv2D(8, 3)\n", "c", "rank_mismatch");

    /* Conv2DTranspose: Keras deconv_output_length */
    shape("input: [1, 7, 7, 4]\nt = Conv2DTranspose(8, 3, strides=2, padding='same')\n", "t", 4, 1,
          14, 14, 8);
    shape("input: [1, 7, 7, 4]\nt = Conv2DTranspose(8, 3, strides=2)\n", "t", 4, 1, 15, 15, 8);
    shape("input: [1, 7, 7, 4]\nt = Conv2DTranspose(8, 1, strides=3)\n", "t", 4, 1, 21, 21, 8);
    shape("input: [1, 7, 7, 4]\nt = Conv2DTranspose(8, 2, strides=3, padding='same')\n", "t", 4, 1,
          21, 21, 8);
    shape("input: [1, 7, 7, 4]\nt = Conv2DTranspose(8, 3, strides=2, padding='same', "
          "output_padding=1)\n",
          "t", 4, 1, 14, 14, 8);
    shape("input: [1, 7, 7, 4]\nt = Conv2DTranspose(8, 4, strides=2, padding='same', "
          "output_padding=0)\n",
          "t", 4, 1, 12, 12, 8);
    shape("input: [1, 7, 7, 4]\nt = Conv2DTranspose(8, 3, strides=3, output_padding=2)\n", "t", 4,
          1, 23, 23, 8);
    shape("input: [1, 5, 6, 4]\nt = Conv2DTranspose(8, (3, 5), dilation_rate=2)\n", "t", 4, 1, 9,
          14, 8);
    shape("input: [1, 5, 2]\nt = Conv1DTranspose(4, 3, strides=2, padding='same')\n", "t", 3, 1, 10,
          4);
    shape("input: [1, 2, 3, 4, 1]\nt = Conv3DTranspose(2, 2, strides=2)\n", "t", 5, 1, 4, 6, 8, 2);
    shape("input: [1, 4, 7, 7]\nt = Conv2DTranspose(8, 3, strides=2, padding='same', "
          "data_format='channels_first')\n",
          "t", 4, 1, 8, 14, 14);
    fails("input: [1, 7, 7, 4]\nt = Conv2DTranspose(8, 3, strides=2, output_padding=2)\n", "t",
          "invalid_output_size");

    /* depthwise and separable */
    shape("input: [1, 8, 8, 4]\nd = DepthwiseConv2D(3, depth_multiplier=2)\n", "d", 4, 1, 6, 6, 8);
    shape("input: [1, 9, 9, 5]\nd = DepthwiseConv2D(3, strides=2, padding='same')\n", "d", 4, 1, 5,
          5, 5);
    shape("input: [1, 8, 8, 4]\ns = SeparableConv2D(16, 3, padding='same')\n", "s", 4, 1, 8, 8, 16);
    shape("input: [1, 9, 9, 4]\ns = SeparableConv2D(16, 3, strides=2)\n", "s", 4, 1, 4, 4, 16);
    shape("input: [1, 10, 4]\ns = SeparableConv1D(6, 3, depth_multiplier=2)\n", "s", 3, 1, 8, 6);

    /* pooling: strides default to pool_size */
    shape("input: [1, 9, 9, 3]\np = MaxPooling2D()\n", "p", 4, 1, 4, 4, 3);
    shape("input: [1, 9, 9, 3]\np = MaxPooling2D(3, strides=2, padding='same')\n", "p", 4, 1, 5, 5,
          3);
    shape("input: [1, 9, 10, 3]\np = MaxPooling2D((3, 2))\n", "p", 4, 1, 3, 5, 3);
    shape("input: [1, 9, 10, 3]\np = AveragePooling2D(pool_size=(2, 2), strides=1)\n", "p", 4, 1, 8,
          9, 3);
    shape("input: [1, 10, 4]\np = AveragePooling1D(pool_size=3)\n", "p", 3, 1, 3, 4);
    shape("input: [1, 10, 4]\np = MaxPooling1D(2, padding='same', strides=3)\n", "p", 3, 1, 4, 4);
    shape("input: [1, 4, 6, 8, 2]\np = MaxPooling3D()\n", "p", 5, 1, 2, 3, 4, 2);
    shape("input: [1, 3, 9, 9]\np = MaxPool2D(data_format='channels_first')\n", "p", 4, 1, 3, 4, 4);
    fails("input: [1, 1, 1, 3]\np = MaxPooling2D((2, 2))\n", "p", "output_too_small");
    fails("input: [1, 8, 8, 3]\np = MaxPooling2D(0)\n", "p", "invalid_config");
    shape("input: [1, 7, 7, 32]\ng = GlobalAveragePooling2D()\n", "g", 2, 1, 32);
    shape("input: [1, 7, 7, 32]\ng = GlobalAveragePooling2D(keepdims=True)\n", "g", 4, 1, 1, 1, 32);
    shape("input: [1, 32, 7, 7]\ng = GlobalMaxPooling2D(data_format='channels_first')\n", "g", 2, 1,
          32);
    shape("input: [1, 10, 4]\ng = GlobalMaxPooling1D()\n", "g", 2, 1, 4);
    shape("input: [1, 3, 4, 5, 6]\ng = GlobalAveragePooling3D()\n", "g", 2, 1, 6);

    /* resampling, padding, cropping */
    shape("input: [1, 4, 5, 3]\nu = UpSampling2D()\n", "u", 4, 1, 8, 10, 3);
    shape("input: [1, 4, 5, 3]\nu = UpSampling2D(size=(2, 3), interpolation='bilinear')\n", "u", 4,
          1, 8, 15, 3);
    shape("input: [1, 4, 2]\nu = UpSampling1D(3)\n", "u", 3, 1, 12, 2);
    shape("input: [1, 2, 3, 4, 1]\nu = UpSampling3D()\n", "u", 5, 1, 4, 6, 8, 1);
    shape("input: [1, 5, 5, 3]\nz = ZeroPadding2D(((1, 2), (3, 4)))\n", "z", 4, 1, 8, 12, 3);
    shape("input: [1, 5, 5, 3]\nz = ZeroPadding2D(2)\n", "z", 4, 1, 9, 9, 3);
    shape("input: [1, 5, 5, 3]\nz = ZeroPadding2D((1, 2))\n", "z", 4, 1, 7, 9, 3);
    shape("input: [1, 5, 5, 3]\nz = ZeroPadding2D()\n", "z", 4, 1, 7, 7, 3);
    shape("input: [1, 3, 5, 5]\nz = ZeroPadding2D(1, data_format='channels_first')\n", "z", 4, 1, 3,
          7, 7);
    shape("input: [1, 5, 3]\nz = ZeroPadding1D((1, 2))\n", "z", 3, 1, 8, 3);
    shape("input: [1, 2, 2, 2, 3]\nz = ZeroPadding3D()\n", "z", 5, 1, 4, 4, 4, 3);
    shape("input: [1, 8, 8, 3]\nk = Cropping2D(((1, 1), (2, 2)))\n", "k", 4, 1, 6, 4, 3);
    shape("input: [1, 8, 8, 3]\nk = Cropping2D(1)\n", "k", 4, 1, 6, 6, 3);
    shape("input: [1, 10, 3]\nk = Cropping1D((1, 2))\n", "k", 3, 1, 7, 3);
    shape("input: [1, 10, 3]\nk = Cropping1D()\n", "k", 3, 1, 8, 3);
    fails("input: [1, 8, 8, 3]\nk = Cropping2D(4)\n", "k", "output_too_small");
    fails("input: [1, 8, 8, 3]\nz = ZeroPadding2D(-1)\n", "z", "invalid_config");

    /* normalisation, activations, regularisers: shape-preserving */
    const char *keep[] = {"BatchNormalization()",
                          "BatchNormalization(axis=-1, momentum=0.9)",
                          "LayerNormalization()",
                          "Activation('softmax')",
                          "Activation('relu')",
                          "ReLU()",
                          "ReLU(max_value=6.0)",
                          "LeakyReLU(0.2)",
                          "LeakyReLU(alpha=0.1)",
                          "ELU()",
                          "Softmax()",
                          "PReLU()",
                          "Dropout(0.5)",
                          "SpatialDropout2D(0.2)",
                          "GaussianNoise(0.1)",
                          "GaussianDropout(0.1)",
                          "AlphaDropout(0.1)",
                          "Activation('hard_sigmoid')",
                          "Activation('swish')",
                          NULL};
    for (int i = 0; keep[i]; i++) {
        char spec[256];
        /* the Conv2D makes the file Keras: ReLU, Dropout, ... exist in PyTorch too */
        snprintf(spec, sizeof spec, "input: [1, 5, 6, 3]\nc = Conv2D(7, 1)\nx = %s\n", keep[i]);
        shape(spec, "x", 4, 1, 5, 6, 7);
    }
    fails("input: [1, 5, 6, 3]\nc = Conv2D(7, 1)\nx = Dropout(1.5)\n", "x", "invalid_config");
    shape("input: [1, 5, 6, 8]\nx = GroupNormalization(groups=4)\n", "x", 4, 1, 5, 6, 8);
    fails("input: [1, 5, 6, 8]\nx = GroupNormalization(groups=3)\n", "x", "channel_mismatch");
    shape("input: [1, 5, 6, 8]\nx = UnitNormalization()\n", "x", 4, 1, 5, 6, 8);
    shape("input: [1, 5, 6, 8]\nx = ThresholdedReLU(1.0)\n", "x", 4, 1, 5, 6, 8);

    /* dense and shape layers */
    shape("input: [1, 4, 4, 8]\nf = Flatten()\n", "f", 2, 1, 128);
    shape("input: [1, 128]\nd = Dense(10)\n", "d", 2, 1, 10);
    shape("input: [1, 5, 7]\nd = Dense(10, activation='relu')\n", "d", 3, 1, 5, 10);
    shape("input: [1, 4, 4, 8]\nf = Flatten()\nd = Dense(units=3)\n", "d", 2, 1, 3);
    fails("input: [1, 4]\nd = Dense(0)\n", "d", "invalid_config");
    shape("input: [1, 128]\nr = Reshape((4, 4, 8))\n", "r", 4, 1, 4, 4, 8);
    shape("input: [1, 128]\nr = Reshape((-1, 8))\n", "r", 3, 1, 16, 8);
    fails("input: [1, 128]\nr = Reshape((5, 5))\n", "r", "reshape_mismatch");
    fails("input: [1, 128]\nr = Reshape((-1, -1))\n", "r", "invalid_config");
    shape("input: [1, 3, 5]\np = Permute((2, 1))\n", "p", 3, 1, 5, 3);
    shape("input: [1, 3, 5, 7]\np = Permute((3, 1, 2))\n", "p", 4, 1, 7, 3, 5);
    fails("input: [1, 3, 5]\np = Permute((1, 1))\n", "p", "invalid_config");

    /* merges */
    shape("input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(8, 1)(input)\ns = Add()(a, b)\n", "s",
          4, 1, 4, 4, 8);
    shape(
        "input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(8, 1)(input)\ns = Subtract()([a, b])\n",
        "s", 4, 1, 4, 4, 8);
    shape(
        "input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(8, 1)(input)\ns = Multiply()([a, b])\n",
        "s", 4, 1, 4, 4, 8);
    shape("input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(8, 1)(input)\ns = Average()([a, b])\n",
          "s", 4, 1, 4, 4, 8);
    shape("input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(8, 1)(input)\ns = Maximum()([a, b])\n",
          "s", 4, 1, 4, 4, 8);
    shape("input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(8, 1)(input)\ns = Minimum()([a, b])\n",
          "s", 4, 1, 4, 4, 8);
    shape("input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(5, 1)(input)\nc = Concatenate()([a, "
          "b])\n",
          "c", 4, 1, 4, 4, 13);
    shape("input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(8, 1)(input)\nc = Concatenate(axis=1)("
          "[a, b])\n",
          "c", 4, 1, 8, 4, 8);
    fails("input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(8, 2)(input)\ns = Add()([a, b])\n",
          "s", "skip_mismatch");
    fails("input: [1, 4, 4, 3]\na = Conv2D(8, 1)\nb = Conv2D(8, 2)(input)\nc = Concatenate()([a, "
          "b])\n",
          "c", "skip_mismatch");

    /* Keras 1 names and arguments */
    shape("input: [1, 10, 10, 3]\nc = Convolution2D(8, 3, 3, border_mode='same', subsample=(2, "
          "2))\n",
          "c", 4, 1, 5, 5, 8);
    shape("input: [1, 3, 10, 10]\nc = Convolution2D(8, 3, 3, dim_ordering='th')\n", "c", 4, 1, 8, 8,
          8);
    shape("input: [1, 11, 2]\nc = Convolution1D(4, 3, subsample_length=2)\n", "c", 3, 1, 5, 4);
    shape("input: [1, 10, 10, 1]\nc = AtrousConvolution2D(4, 3, 3, atrous_rate=(2, 2))\n", "c", 4,
          1, 6, 6, 4);
    shape("input: [1, 4, 5, 6, 1]\nc = Convolution3D(2, 3, 3, 3)\n", "c", 5, 1, 2, 3, 4, 2);
    shape("input: [1, 7, 7, 2]\nt = Deconvolution2D(4, 3, 3, output_shape=(None, 14, 14, 4), "
          "subsample=(2, 2), border_mode='same')\n",
          "t", 4, 1, 14, 14, 4);
    shape("input: [1, 5, 5, 1]\nc = Convolution2D(4, 3, 3, border_mode='full')\n", "c", 4, 1, 7, 7,
          4);
    shape("input: [1, 5, 5, 1]\np = MaxPooling2D(border_mode='same')\n", "p", 4, 1, 3, 3, 1);
    shape("input: [1, 10, 2]\np = MaxPooling1D(pool_length=3, stride=1)\n", "p", 3, 1, 8, 2);
    shape("input: [1, 10]\nd = Dense(output_dim=4)\n", "d", 2, 1, 4);
    shape("input: [1, 10]\nd = Dropout(p=0.5)\n", "d", 2, 1, 10);
    shape("input: [1, 3, 10, 10]\nz = ZeroPadding2D((1, 1, 2, 2), dim_ordering='th')\n", "z", 4, 1,
          3, 12, 14);

    /* boundaries and channels_first variants */
    shape("input: [1, 4, 4, 8]\nd = Dense(10)\n", "d", 4, 1, 4, 4, 10);
    fails("input: [1, 128]\nr = Reshape((-1, 5))\n", "r", "reshape_mismatch");
    shape("input: [1, 3, 8, 8]\nk = Cropping2D(((1, 0), (0, 2)), data_format='channels_first')\n",
          "k", 4, 1, 3, 7, 6);
    shape("input: [1, 3, 4, 5]\nu = UpSampling2D(data_format='channels_first')\n", "u", 4, 1, 3, 8,
          10);
    shape("input: [1, 1, 1, 2]\np = MaxPooling2D(3, padding='same')\n", "p", 4, 1, 1, 1, 2);
    shape("input: [1, 1, 1, 2]\nc = Conv2D(4, 5, padding='same')\n", "c", 4, 1, 1, 1, 4);
    shape("input: [1, 2, 10]\nc = Conv1D(4, 3, data_format='channels_first')\n", "c", 3, 1, 4, 8);
    shape("input: [1, 4, 10]\ng = GlobalAveragePooling1D(data_format='channels_first')\n", "g", 2,
          1, 4);
    shape("input: [1, 3, 3, 1]\nc = Conv2D(2, 3)\n", "c", 4, 1, 1, 1, 2);
    fails("input: [1, 4, 4, 1]\nc = Conv2D(2, 3, dilation_rate=2)\n", "c", "output_too_small");
    fails("input: [1, 8, 8, 3]\nc = Conv2D(4, 3)\nd = Conv2D(4, 3)\ne = Conv2D(4, 3)\nf = "
          "Conv2D(4, 3)\n",
          "f", "output_too_small");

    /* prefixes pasted from Python */
    shape("input: [1, 28, 28, 3]\nc = layers.Conv2D(16, 3)\n", "c", 4, 1, 26, 26, 16);
    shape("input: [1, 28, 28, 3]\nc = tf.keras.layers.Conv2D(16, 3)\n", "c", 4, 1, 26, 26, 16);
}

/* layers.jsonl rows with a tf_keras_equivalent block. */
static void oracle_views(void) {
    FILE *f = fopen("tests/oracle/layers.jsonl", "r");
    CHECK(f != NULL, "cannot open tests/oracle/layers.jsonl");
    if (!f) return;
    char line[65536];
    int total = 0, pass = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, "tf_keras_equivalent")) continue;
        json_error_t je;
        json_t *r = json_loads(line, 0, &je);
        json_t *k = json_object_get(r, "tf_keras_equivalent");
        if (!k) {
            json_decref(r);
            continue;
        }
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *code = json_string_value(json_object_get(k, "keras_code"));
        json_t *in = json_object_get(k, "keras_input_shape_nhwc");
        json_t *out = json_object_get(k, "output_shape_nhwc");
        const char *err =
            json_string_value(json_object_get(json_object_get(k, "spec_result"), "error"));
        const char *pfx = "tf.keras.layers.";
        if (code && strncmp(code, pfx, strlen(pfx)) == 0) code += strlen(pfx);
        char *ins = json_dumps(in, JSON_COMPACT);
        char spec[4096];
        snprintf(spec, sizeof spec, "input: %s\nlayer = %s\n", ins ? ins : "[]", code ? code : "");
        free(ins);
        bool nonpos = false;
        for (size_t i = 0; i < json_array_size(out); i++)
            nonpos |= json_integer_value(json_array_get(out, i)) <= 0;
        if (!err && nonpos) err = "output_too_small";
        ck_diags d = {0};
        ck_status st;
        ck_graph *g = run(spec, &d, &st);
        bool ok = false;
        char got[128] = "";
        if (g && err) {
            const char *el = NULL;
            const char *ec = first_error(&d, &el);
            snprintf(got, sizeof got, "%s", ec ? ec : "no error");
            ok = ec && strcmp(ec, err) == 0;
        } else if (g) {
            ck_layer_info li = ck_graph_layer(g, 0);
            ck_shape want = {.rank = (int)json_array_size(out)};
            for (int i = 0; i < want.rank && i < CK_MAX_RANK; i++)
                want.d[i] = json_integer_value(json_array_get(out, (size_t)i));
            char wb[128];
            ck_shape_str(&want, wb, sizeof wb);
            if (li.state == CK_LAYER_OK)
                ck_shape_str(&li.output, got, sizeof got);
            else
                snprintf(got, sizeof got, "%s",
                         first_error(&d, NULL) ? first_error(&d, NULL) : "?");
            ok = li.state == CK_LAYER_OK && strcmp(got, wb) == 0;
        } else {
            snprintf(got, sizeof got, "parse error: %s", d.n ? d.v[0].message : "?");
        }
        CHECK(ok, "layers.jsonl %s: %s -> got %s", id ? id : "?", code ? code : "?", got);
        total++;
        pass += ok;
        ck_graph_free(g);
        ck_diags_free(&d);
        json_decref(r);
    }
    fclose(f);
    printf("layers.jsonl Keras views: %d of %d pass\n", pass, total);
    CHECK(total >= 126, "expected 126 Keras views, found %d", total);
}

int main(void) {
    unit_cases();
    oracle_views();
    return TEST_DONE("keras_layers");
}
