/* Table-driven rule tests for layers and edges the oracle corpus does not
 * cover: norms, padding layers, layout ops, joins, overflow, limits. */
#include "convkit.h"
#include "test.h"

#include <string.h>

typedef struct {
    const char *spec;  /* .cnn text */
    const char *want;  /* "[1, 2, 3]" output of the last layer, or an error code */
    const char *layer; /* for errors: the failing layer (optional) */
} tcase;

static const tcase cases[] = {
    /* norms */
    {"input: [2, 16, 8, 8]\nbn = BatchNorm2d(16)\n", "[2, 16, 8, 8]", NULL},
    {"input: [2, 8, 8, 8]\nbn = BatchNorm2d(16)\n", "channel_mismatch", "bn"},
    {"input: [2, 16, 8]\nbn = BatchNorm2d(16)\n", "rank_mismatch", "bn"},
    {"input: [2, 16]\nbn = BatchNorm1d(16)\n", "[2, 16]", NULL},
    {"input: [1, 32, 4, 4]\ngn = GroupNorm(8, 32)\n", "[1, 32, 4, 4]", NULL},
    {"input: [1, 32, 4, 4]\ngn = GroupNorm(6, 32)\n", "invalid_config", "gn"},
    {"input: [1, 16, 4, 4]\ngn = GroupNorm(8, 32)\n", "channel_mismatch", "gn"},
    {"input: [1, 10, 64]\nln = LayerNorm(64)\n", "[1, 10, 64]", NULL},
    {"input: [1, 10, 64]\nln = LayerNorm((10, 64))\n", "[1, 10, 64]", NULL},
    {"input: [1, 10, 32]\nln = LayerNorm(64)\n", "feature_mismatch", "ln"},
    {"input: [3, 8, 8]\nin = InstanceNorm2d(3)\n", "[3, 8, 8]", NULL},
    /* padding layers: (left, right, top, bottom) */
    {"input: [1, 3, 8, 8]\np = ZeroPad2d((1, 2, 3, 4))\n", "[1, 3, 15, 11]", NULL},
    {"input: [1, 3, 8, 8]\np = ReflectionPad2d(2)\n", "[1, 3, 12, 12]", NULL},
    {"input: [1, 3, 2, 8]\np = ReflectionPad2d(2)\n", "invalid_padding", "p"},
    {"input: [1, 3, 2, 8]\np = ReplicationPad2d(5)\n", "[1, 3, 12, 18]", NULL},
    {"input: [1, 3, 4, 4]\np = ConstantPad2d(-2, 0.0)\n", "output_too_small", "p"},
    {"input: [1, 3, 10]\np = ConstantPad1d((2, 3), 1.5)\n", "[1, 3, 15]", NULL},
    /* activations, layout */
    {"input: [1, 10]\ns = Softmax(dim=1)\n", "[1, 10]", NULL},
    {"input: [1, 10]\ns = Softmax(dim=2)\n", "rank_mismatch", "s"},
    {"input: [1, 8, 4, 4]\np = PReLU(8)\n", "[1, 8, 4, 4]", NULL},
    {"input: [1, 8, 4, 4]\np = PReLU(3)\n", "channel_mismatch", "p"},
    {"input: [1, 400]\nu = Unflatten(1, (16, 5, 5))\n", "[1, 16, 5, 5]", NULL},
    {"input: [1, 400]\nu = Unflatten(1, (16, -1, 5))\n", "[1, 16, 5, 5]", NULL},
    {"input: [1, 400]\nu = Unflatten(1, (16, 5, 4))\n", "reshape_mismatch", "u"},
    {"input: [2, 3, 4, 5]\nf = Flatten(0, 2)\n", "[24, 5]", NULL},
    {"input: [2, 3, 4, 5]\nf = Flatten(start_dim=2)\n", "[2, 3, 20]", NULL},
    {"input: [1, 2, 3]\nd = Dropout(p=1.5)\n", "invalid_config", "d"},
    {"input: [1, 2, 3]\nd = Dropout2d(0.2)\ni = Identity()\n", "[1, 2, 3]", NULL},
    /* adaptive pooling with None, 3-D pooling, 1-D */
    {"input: [1, 3, 7, 9]\na = AdaptiveAvgPool2d((None, 4))\n", "[1, 3, 7, 4]", NULL},
    {"input: [1, 3, 8, 8, 8]\nm = MaxPool3d(2)\n", "[1, 3, 4, 4, 4]", NULL},
    {"input: [1, 3, 9]\nm = AvgPool1d(3, stride=2, ceil_mode=True)\n", "[1, 3, 4]", NULL},
    {"input: [1, 3, 4, 4]\nu = Upsample(scale_factor=2, mode='bilinear')\n", "[1, 3, 8, 8]", NULL},
    {"input: [1, 3, 4, 4]\nu = Upsample(size=(5, 7))\n", "[1, 3, 5, 7]", NULL},
    /* joins */
    {"input a: [1, 8, 4, 4]\ninput b: [1, 8, 4, 4]\ns = add(a, b)\n", "[1, 8, 4, 4]", NULL},
    {"input a: [1, 8, 4, 4]\ninput b: [1, 8, 1, 1]\ns = mul(a, b)\n", "[1, 8, 4, 4]", NULL},
    {"input a: [1, 8, 4, 4]\ninput b: [1, 8, 5, 4]\ns = add(a, b)\n", "skip_mismatch", "s"},
    {"input a: [1, 8, 4, 4]\ninput b: [1, 3, 4, 4]\nc = cat(a, b, dim=1)\n", "[1, 11, 4, 4]", NULL},
    {"input a: [1, 8, 4, 4]\ninput b: [1, 3, 4, 4]\nc = cat([a, b], dim=-1)\n", "skip_mismatch",
     "c"},
    /* transposed convolution, forward output_size */
    {"input: [1, 16, 4, 4]\nup = ConvTranspose2d(16, 8, 3, stride=2)(input, output_size=[10, "
     "10])\n",
     "[1, 8, 10, 10]", NULL},
    {"input: [1, 16, 4, 4]\nup = ConvTranspose2d(16, 8, 3, stride=2)(input, output_size=[12, "
     "12])\n",
     "invalid_output_size", "up"},
    {"input: [1, 4, 5]\nc = ConvTranspose1d(4, 2, 3, stride=2, output_padding=1)\n", "[1, 2, 12]",
     NULL},
    /* overflow: never wrapped arithmetic */
    {"input: [1, 3, 4611686018427387904, 8]\nc = Conv2d(3, 8, 3, padding=4611686018427387904)\n",
     "invalid_config", "c"},
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 4611686018427387904)\n", "output_too_small", "c"},
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3, dilation=4611686018427387904)\n", "invalid_config",
     "c"},
    {"input: [1, 3, 9223372036854775807]\nc = ConvTranspose1d(3, 3, 2, "
     "stride=9223372036854775807)\n",
     "invalid_config", "c"},
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3, stride=0)\n", "invalid_config", "c"},
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8, -3)\n", "invalid_config", "c"},
    {"input: [1, 3, 8, 8]\nm = MaxPool2d(0)\n", "invalid_config", "m"},
    {"input: [1, 3, 8, 8]\nu = Upsample(scale_factor=1e300)\n", "invalid_config", "u"},
    /* argument errors name the argument */
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3, strides=2)\n", "invalid_config", "c"},
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8)\n", "invalid_config", "c"},
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 'x')\n", "invalid_config", "c"},
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3, padding_mode='mirror')\n", "invalid_config", "c"},
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8, (3, 3, 3))\n", "invalid_config", "c"},
    /* unknown layer types stop propagation there */
    {"input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3)\nx = FancyAttention(8)\nr = ReLU()\n",
     "unsupported_op", "x"},
    /* empty input */
    {"input: [1, 3, 0, 8]\nm = MaxPool2d(2)\n", "empty_input", "m"},
};

/* Cost rules: params, MACs on the right grid, and pooling/elementwise ops. */
static const struct {
    const char *spec;
    int64_t params, macs, ops;
} costs[] = {
    {"input: [1, 3, 32, 32]\nc = Conv2d(3, 16, 3, stride=2)\n", 448, 16 * 15 * 15 * 27, 0},
    {"input: [1, 32, 112, 112]\nc = Conv2d(32, 32, 3, padding=1, groups=32)\n", 32 * 9 + 32,
     32 * 112 * 112 * 9, 0},
    {"input: [1, 8, 10, 10]\nc = Conv2d(8, 16, 3, groups=4, bias=False)\n", 16 * 2 * 9,
     16 * 8 * 8 * 2 * 9, 0},
    {"input: [1, 16, 4, 4]\nc = ConvTranspose2d(16, 8, 2, stride=2)\n", 16 * 8 * 4 + 8,
     16 * 4 * 4 * 8 * 4, 0},
    {"input: [1, 8, 4, 4]\nm = MaxPool2d(2)\n", 0, 0, 8 * 2 * 2 * 4},
    {"input: [1, 8, 4, 4]\nr = ReLU()\n", 0, 0, 128},
    {"input: [1, 400]\nfc = Linear(400, 120)\n", 400 * 120 + 120, 400 * 120, 0},
    {"input: [1, 16, 8, 8]\nbn = BatchNorm2d(16)\n", 32, 0, 2 * 16 * 64},
    {"input: [1, 8, 8, 3]\nc = DepthwiseConv2D(3, depth_multiplier=2, padding=\"same\")\n",
     3 * 2 * 9 + 6, 8 * 8 * 6 * 9, 0},
};

int main(void) {
    char got[512];
    for (size_t i = 0; i < sizeof costs / sizeof *costs; i++) {
        ck_graph *g = NULL;
        ck_diags d = {0};
        ck_status st = ck_parse_cnn(costs[i].spec, strlen(costs[i].spec), "cost", NULL, &g, &d);
        if (st == CK_OK) st = ck_check(g, &d);
        ck_layer_info li = st == CK_OK ? ck_graph_layer(g, 0) : (ck_layer_info){0};
        CHECK(st == CK_OK && li.params == costs[i].params && li.macs == costs[i].macs &&
                  li.ops == costs[i].ops,
              "cost %zu: params %lld macs %lld ops %lld, want %lld %lld %lld", i,
              (long long)li.params, (long long)li.macs, (long long)li.ops,
              (long long)costs[i].params, (long long)costs[i].macs, (long long)costs[i].ops);
        ck_diags_free(&d);
        ck_graph_free(g);
    }
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const tcase *t = &cases[i];
        ck_graph *g = NULL;
        ck_diags d = {0};
        ck_status st = ck_parse_cnn(t->spec, strlen(t->spec), "case", NULL, &g, &d);
        got[0] = 0;
        const char *layer = NULL;
        if (st == CK_OK) st = ck_check(g, &d);
        if (st == CK_OK) {
            ck_layer_info li = ck_graph_layer(g, ck_graph_num_layers(g) - 1);
            ck_shape_str(&li.output, got, sizeof got);
        } else {
            for (int k = 0; k < d.n; k++)
                if (d.v[k].severity == CK_SEV_ERROR) {
                    snprintf(got, sizeof got, "%s", ck_code_name(d.v[k].code));
                    layer = d.v[k].layer;
                    break;
                }
        }
        CHECK(!strcmp(got, t->want), "case %zu: want %s, got %s (%s)", i, t->want, got,
              d.n ? d.v[0].message : "");
        if (t->layer)
            CHECK(layer && !strcmp(layer, t->layer), "case %zu: failing layer %s, want %s", i,
                  layer, t->layer);
        ck_diags_free(&d);
        ck_graph_free(g);
    }
    /* the parser's own errors carry line and column */
    const char *bad[] = {"input: [1, 3]\nc = Conv2d(3, 8, 3\n",
                         "input: [1, 3]\nc = = Conv2d()\n",
                         "input: [1, 3]\nc = Conv2d(3, 8, 'x)\n",
                         "input: [1, 3]\nc = Conv2d(3, 8, 3) r\n",
                         "input: [1, 3]\nc = Conv2d(3, 8, 3)(nothere)\n",
                         "input: [1, 3]\nc = Conv2D(3, 3)\nd = Conv2d(3, 3, 3)\n",
                         "input: [1, 3]\nc = Conv2d("
                         "(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
                         ")\n",
                         "input: [1, 3]\nc = Conv2d(kernel_size=3, 3, 8)\n",
                         "",
                         "# only a comment\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_graph *g = NULL;
        ck_diags d = {0};
        ck_status st = ck_parse_cnn(bad[i], strlen(bad[i]), "bad.cnn", NULL, &g, &d);
        CHECK(st == CK_EPARSE && g == NULL && d.n >= 1 && d.v[0].code == CK_PARSE_ERROR &&
                  d.v[0].line >= 1,
              "bad spec %zu: status %d, %d diagnostics", i, (int)st, d.n);
        ck_diags_free(&d);
    }
    return TEST_DONE("ops");
}
