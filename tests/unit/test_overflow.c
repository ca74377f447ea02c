/* Absurd sizes through every op family's rule: dimensions, kernels,
 * strides, dilations, pads and feature counts near INT64_MAX, zero and
 * negative. Each must give a diagnostic from a short list (never a crash,
 * never a wrapped size); under UBSan (make asan) any signed overflow in the
 * arithmetic aborts this test. */
#include "convkit.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static const char *const values[] = {
    "9223372036854775807", "4611686018427387904", "3037000500", "0", "-1", "-4611686018427387904"};

/* "{V}" in the template is replaced by each value. */
static const char *const templates[] = {
    "input: [1, 3, 8, 8]\nc = Conv2d(3, 8, {V})\n",
    "input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3, stride={V})\n",
    "input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3, padding={V})\n",
    "input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3, dilation={V})\n",
    "input: [1, 3, 8, 8]\nc = Conv2d(3, {V}, 3)\n",
    "input: [1, 3, 8, 8]\nc = Conv2d({V}, 8, 3)\n",
    "input: [1, 3, 8, 8]\nc = Conv2d(3, 6, 3, groups={V})\n",
    "input: [1, 3, 8, 8]\nc = Conv2d(3, 8, 3, padding={V}, padding_mode='reflect')\n",
    "input: [1, 3, {V}, 8]\nc = Conv2d(3, 8, 3, padding=1)\n",
    "input: [1, 3, {V}, {V}]\nc = Conv2d(3, 8, 3, stride=2, padding=1)\n",
    "input: [{V}, 3, 8, 8]\nc = Conv2d(3, 8, 3)\n",
    "input: [1, 3, 8, 8]\nc = ConvTranspose2d(3, 8, {V}, stride=2)\n",
    "input: [1, 3, 8, 8]\nc = ConvTranspose2d(3, 8, 3, stride={V})\n",
    "input: [1, 3, 8, 8]\nc = ConvTranspose2d(3, 8, 3, stride=2, padding={V})\n",
    "input: [1, 3, 8, 8]\nc = ConvTranspose2d(3, 8, 3, stride=2, dilation={V})\n",
    "input: [1, 3, 8, 8]\nc = ConvTranspose2d(3, 8, 3, stride=2, output_padding={V})\n",
    "input: [1, 3, {V}, 8]\nc = ConvTranspose2d(3, 8, 3, stride=2)\n",
    "input: [1, 3, 8, 8]\nc = ConvTranspose2d(3, 8, 3, stride=2)(input, output_size=[{V}, {V}])\n",
    "input: [1, 3, 8, 8]\np = MaxPool2d({V})\n",
    "input: [1, 3, 8, 8]\np = MaxPool2d(2, stride={V})\n",
    "input: [1, 3, 8, 8]\np = MaxPool2d(3, padding={V})\n",
    "input: [1, 3, 8, 8]\np = MaxPool2d(3, dilation={V}, ceil_mode=True)\n",
    "input: [1, 3, {V}, 8]\np = AvgPool2d(2, ceil_mode=True)\n",
    "input: [1, 3, 8, 8]\np = AdaptiveAvgPool2d(({V}, 2))\n",
    "input: [1, 3, 8, 8]\nu = Upsample(size=({V}, {V}))\n",
    "input: [1, 3, 8, 8]\nu = Upsample(scale_factor={V})\n",
    "input: [1, 3, {V}, 8]\nu = Upsample(scale_factor=2)\n",
    "input: [1, 3, 8, 8]\nz = ZeroPad2d({V})\n",
    "input: [1, 3, 8, 8]\nz = ReflectionPad2d({V})\n",
    "input: [1, 3, {V}, {V}]\nz = ZeroPad2d(4611686018427387904)\n",
    "input: [1, 3, 8, 8]\nb = BatchNorm2d({V})\n",
    "input: [1, 6, 8, 8]\nb = GroupNorm({V}, 6)\n",
    "input: [1, {V}]\nfc = Linear({V}, 10)\n",
    "input: [1, 10]\nfc = Linear(10, {V})\n",
    "input: [{V}, {V}]\nfc = Linear({V}, {V})\n",
    "input: [1, 3, {V}, {V}]\nf = Flatten()\n",
    "input: [1, 12]\nu = Unflatten(1, ({V}, 4))\n",
    "input: [1, 3, {V}, 8]\na = add(input, input)\n",
    "input: [1, 3, {V}, {V}]\nc = cat(input, input, dim=1)\n",
    "input: [1, {V}, 8, 8]\nc = cat(input, input, dim=1)\n",
    "input: [1, 8, 8, 3]\nc = Conv2D(16, {V}, strides=2, padding='same')\n",
    "input: [1, 8, 8, 3]\nc = Conv2D(16, 3, strides={V}, padding='same')\n",
    "input: [1, {V}, {V}, 3]\nc = Conv2D(16, 3, strides=2, padding='same')\n",
    "input: [1, 8, 8, 3]\nc = Conv2DTranspose(16, 3, strides={V}, padding='same')\n",
    "input: [1, 8, 8, 3]\nr = Reshape(({V}, {V}, 3))\n",
    "input: [1, 8, 8, 3]\nc = Cropping2D({V})\n",
    "input: [1, 8, 8, 3]\nu = UpSampling2D({V})\n",
};

static bool allowed(ck_code c) {
    switch (c) {
    case CK_OUTPUT_TOO_SMALL:
    case CK_INVALID_CONFIG:
    case CK_INVALID_PADDING:
    case CK_INVALID_OUTPUT_SIZE:
    case CK_CHANNEL_MISMATCH:
    case CK_FEATURE_MISMATCH:
    case CK_RESHAPE_MISMATCH:
    case CK_SKIP_MISMATCH:
    case CK_EMPTY_INPUT:
    case CK_LIMIT_EXCEEDED:
    case CK_UNSUPPORTED:
    case CK_RANK_MISMATCH:
    case CK_PARSE_ERROR:
    case CK_PIXELS_DROPPED:
    case CK_NOTE:
        return true;
    default:
        return false;
    }
}

static char *fill(const char *t, const char *v) {
    size_t n = strlen(t) + 8 * strlen(v) + 1;
    char *r = malloc(n), *o = r;
    for (const char *p = t; *p;) {
        if (!strncmp(p, "{V}", 3)) {
            o += snprintf(o, n - (size_t)(o - r), "%s", v);
            p += 3;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return r;
}

int main(void) {
    int runs = 0;
    for (size_t t = 0; t < sizeof templates / sizeof *templates; t++)
        for (size_t v = 0; v < sizeof values / sizeof *values; v++) {
            char *text = fill(templates[t], values[v]);
            ck_graph *g = NULL;
            ck_diags d = {0};
            ck_status st = ck_parse_cnn(text, strlen(text), "o.cnn", NULL, &g, &d);
            CHECK(st == CK_OK || st == CK_EPARSE, "parse status %d: %s", st, text);
            if (g) {
                st = ck_check(g, &d);
                CHECK(st == CK_OK || st == CK_EINVALID || st == CK_EUSAGE, "check %d: %s", st,
                      text);
                /* what passes has sane sizes; the analyses survive too */
                for (int i = 0; st == CK_OK && i < ck_graph_num_layers(g); i++) {
                    ck_layer_info li = ck_graph_layer(g, i);
                    for (int k = 0; k < li.output.rank; k++)
                        CHECK(li.output.d[k] >= 0, "negative size in %s: %s", li.name, text);
                }
                ck_totals tot = ck_graph_totals(g);
                CHECK(tot.params >= 0 && tot.macs >= 0 && tot.activation_bytes >= 0,
                      "totals saturate, never wrap: %s", text);
                ck_fixes f;
                ck_diags fd = {0};
                CHECK(ck_find_fixes(g, &f, &fd) == CK_OK, "fix search: %s", text);
                ck_fixes_free(&f);
                ck_diags_free(&fd);
            }
            for (int i = 0; i < d.n; i++)
                CHECK(allowed(d.v[i].code), "code %s for %s", ck_code_name(d.v[i].code), text);
            ck_diags_free(&d);
            ck_graph_free(g);
            free(text);
            runs++;
        }
    CHECK(runs == (int)(sizeof templates / sizeof *templates * (sizeof values / sizeof *values)),
          "all ran");
    return TEST_DONE("overflow");
}
