/* The fix search: for each kind of failure, the fixes listed make the whole
 * network valid (re-checked here independently from the fix's own graph and
 * from the .cnn text it writes), and the ones claimed minimal are: one step
 * smaller still fails. */
#include "convkit.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static ck_graph *parse(const char *text) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_parse_cnn(text, strlen(text), "t.cnn", NULL, &g, &d);
    ck_diags_free(&d);
    return g;
}

static bool valid_text(const char *text) {
    ck_graph *g = parse(text);
    if (!g) return false;
    ck_diags d = {0};
    bool ok = ck_check(g, &d) == CK_OK;
    ck_diags_free(&d);
    ck_graph_free(g);
    return ok;
}

/* The fixes of `text`; checks every one is valid on its own graph and
 * after a round trip through .cnn (PyTorch/Keras). */
static ck_fixes fixes_of(const char *text) {
    ck_fixes f = {0};
    ck_graph *g = parse(text);
    CHECK(g, "parse: %s", text);
    if (!g) return f;
    ck_diags d = {0};
    CHECK(ck_check(g, &d) == CK_EINVALID, "the network should fail: %s", text);
    ck_diags_free(&d);
    CHECK(ck_find_fixes(g, &f, &d) == CK_OK, "search");
    for (int i = 0; i < f.n; i++) {
        ck_diags d2 = {0};
        CHECK(ck_check(f.v[i].graph, &d2) == CK_OK, "fix '%s' does not check", f.v[i].change);
        ck_diags_free(&d2);
        char *t = NULL;
        CHECK(ck_graph_write_cnn(f.v[i].graph, "x", &t, &d2) == CK_OK, "write");
        if (t) {
            ck_graph *r = parse(t);
            CHECK(r, "written .cnn parses: %s", t);
            if (r) {
                CHECK(ck_check(r, &d2) == CK_OK, "written .cnn of '%s' checks:\n%s", f.v[i].change,
                      t);
                int nl = ck_graph_num_layers(r);
                ck_layer_info li = ck_graph_layer(r, nl - 1);
                CHECK(!memcmp(&li.output, &f.v[i].output, sizeof li.output),
                      "written .cnn gives the same output");
            }
            ck_graph_free(r);
        }
        free(t);
        ck_diags_free(&d2);
    }
    ck_diags_free(&d);
    ck_graph_free(g);
    return f;
}

static const ck_fix *find(const ck_fixes *f, const char *layer, const char *change) {
    for (int i = 0; i < f->n; i++)
        if (((!layer && !f->v[i].layer) ||
             (layer && f->v[i].layer && !strcmp(layer, f->v[i].layer))) &&
            strstr(f->v[i].change, change))
            return &f->v[i];
    return NULL;
}

#define HAS(f, layer, change)                                                                      \
    CHECK(find(&(f), layer, change), "missing fix %s: %s", layer ? layer : "input", change)
#define HASNT(f, layer, change)                                                                    \
    CHECK(!find(&(f), layer, change), "unexpected fix %s: %s", layer ? layer : "input", change)

static const char chain[] = "conv1 = Conv2d(3, 16, kernel_size=3, stride=2)\n"
                            "relu1 = ReLU()\n"
                            "conv2 = Conv2d(16, 32, kernel_size=3, stride=2)\n"
                            "conv3 = Conv2d(32, 64, kernel_size=3, stride=2)\n";

static char *with_input(const char *shape, const char *body) {
    size_t n = strlen(shape) + strlen(body) + 16;
    char *r = malloc(n);
    if (r) snprintf(r, n, "input: %s\n%s", shape, body);
    return r;
}

int main(void) {
    /* output_too_small: input size, padding, kernel, upstream padding */
    char *t = with_input("[1, 3, 7, 7]", chain);
    ck_fixes f = fixes_of(t);
    HAS(f, NULL, "input of at least 15x15");
    HAS(f, "conv3", "padding=1");
    HAS(f, "conv3", "kernel_size=1");
    HAS(f, "conv2", "padding=2");
    HASNT(f, "conv3", "stride="); /* stride cannot help a 3-pixel kernel on 1 pixel */
    CHECK(f.n > 0 && f.v[0].kind == CK_FIX_INPUT, "the input size is listed first");
    const ck_fix *x = find(&f, NULL, "input of at least 15x15");
    CHECK(x && x->output.d[2] == 1 && x->output.d[3] == 1, "output 1x1 at 15x15");
    ck_fixes_free(&f);
    free(t);
    /* minimal: 14x14 fails, conv2 padding=1 fails */
    t = with_input("[1, 3, 14, 14]", chain);
    CHECK(!valid_text(t), "14x14 fails");
    free(t);
    t = with_input("[1, 3, 7, 7]",
                   "conv1 = Conv2d(3, 16, 3, stride=2)\nconv2 = Conv2d(16, 32, 3, stride=2, "
                   "padding=1)\nconv3 = Conv2d(32, 64, 3, stride=2)\n");
    CHECK(!valid_text(t), "conv2 padding=1 is not enough");
    free(t);

    /* nearest valid input at or above: the U-Net accepts multiples of 16 */
    f = fixes_of("input: [1, 1, 42, 42]\n"
                 "p1 = MaxPool2d(2)\n"
                 "p2 = MaxPool2d(2)\n"
                 "u2 = Upsample(scale_factor=2)\n"
                 "c2 = cat(u2, p1, dim=1)\n"
                 "u1 = Upsample(scale_factor=2)\n"
                 "c1 = cat(u1, input, dim=1)\n");
    HAS(f, NULL, "input 4x4");
    HAS(f, NULL, "input 44x44"); /* the nearest multiple of 4 above 42 */
    ck_fixes_free(&f);

    /* stride: the largest stride that fits */
    f = fixes_of("input: [1, 3, 9, 9]\nconv = Conv2d(3, 8, 3, stride=4)\nc2 = Conv2d(8, 8, 3)\n");
    HAS(f, "conv", "stride=3"); /* upstream of c2: the largest stride that works */
    HASNT(f, "conv", "stride=2");
    ck_fixes_free(&f);

    /* pooling: ceil_mode keeps the partial window */
    f = fixes_of("input: [1, 3, 1, 1]\npool = MaxPool2d(2)\n");
    HAS(f, "pool", "ceil_mode=True");
    HAS(f, "pool", "padding=1");
    ck_fixes_free(&f);

    /* dilation: the largest dilation that fits */
    f = fixes_of("input: [1, 3, 6, 6]\nconv = Conv2d(3, 8, 3, dilation=3)\n");
    HAS(f, "conv", "dilation=2");
    ck_fixes_free(&f);

    /* channels: grayscale into RGB */
    f = fixes_of("input: [1, 1, 32, 32]\nconv = Conv2d(3, 8, 3)\n");
    HAS(f, "conv", "in_channels=1");
    const ck_fix *g3 = find(&f, NULL, "input with 3 channels");
    CHECK(g3 && g3->why && strstr(g3->why, "grayscale"), "grayscale explained");
    ck_fixes_free(&f);
    /* channels-last data into a channels-first model */
    f = fixes_of("input: [1, 32, 32, 3]\nconv = Conv2d(3, 8, 3)\n");
    HAS(f, NULL, "input [1, 3, 32, 32]");
    HASNT(f, "conv", "in_channels=32");
    ck_fixes_free(&f);
    /* BatchNorm num_features */
    f = fixes_of("input: [1, 3, 8, 8]\nconv = Conv2d(3, 16, 3)\nbn = BatchNorm2d(32)\n");
    HAS(f, "bn", "num_features=16");
    ck_fixes_free(&f);

    /* Linear after Flatten: in_features, AdaptiveAvgPool2d, the input size */
    static const char lenet[] = "c1 = Conv2d(3, 6, 5)\n"
                                "p1 = MaxPool2d(2)\n"
                                "c2 = Conv2d(6, 16, 5)\n"
                                "p2 = MaxPool2d(2)\n"
                                "flat = Flatten()\n"
                                "fc1 = Linear(16 * 5 * 5, 120)\n"
                                "fc2 = Linear(120, 10)\n";
    t = with_input("[1, 3, 64, 64]", lenet);
    f = fixes_of(t);
    HAS(f, "fc1", "in_features=2704");
    HAS(f, "flat", "AdaptiveAvgPool2d((5, 5))");
    HAS(f, NULL, "input 32x32");
    ck_fixes_free(&f);
    free(t);

    /* skip connection one pixel off: output_padding, or pad the branch */
    f = fixes_of("input: [1, 8, 16, 16]\n"
                 "down = Conv2d(8, 8, 3, stride=2, padding=1)\n"
                 "up = ConvTranspose2d(8, 8, 3, stride=2, padding=1)\n"
                 "join = add(up, input)\n");
    HAS(f, "up", "output_padding=1");
    HAS(f, "join", "ZeroPad2d((0, 1, 0, 1))");
    HAS(f, NULL, "input 17x17");
    ck_fixes_free(&f);
    f = fixes_of("input: [1, 8, 15, 15]\n"
                 "down = Conv2d(8, 8, 3, stride=2, padding=1)\n"
                 "up = ConvTranspose2d(8, 8, 2, stride=2)\n"
                 "join = add(up, input)\n");
    HAS(f, "join", "ZeroPad2d((0, 1, 0, 1))"); /* the input is the smaller operand here */
    HASNT(f, "up", "output_padding");
    ck_fixes_free(&f);

    /* PyTorch padding='same' with stride 2: TF's explicit padding */
    f = fixes_of("input: [1, 3, 28, 28]\nconv = Conv2d(3, 16, 3, stride=2, padding='same')\n");
    const ck_fix *sp = find(&f, "conv", "ZeroPad2d((0, 1, 0, 1))");
    CHECK(sp && sp->output.d[2] == 14 && sp->why && strstr(sp->why, "PyTorch refuses"),
          "same with stride: ZeroPad then padding=0, output ceil(28/2)=14");
    ck_fixes_free(&f);
    f = fixes_of("input: [1, 3, 27, 27]\nconv = Conv2d(3, 16, 3, stride=2, padding='same')\n");
    const ck_fix *sp2 = find(&f, "conv", "padding=1");
    CHECK(sp2 && sp2->output.d[2] == 14, "symmetric TF padding at 27: padding=1 gives 14");
    ck_fixes_free(&f);
    /* pool padding over kernel/2 */
    f = fixes_of("input: [1, 3, 8, 8]\npool = MaxPool2d(2, padding=2)\n");
    HAS(f, "pool", "padding=1");
    ck_fixes_free(&f);

    /* missing batch axis */
    f = fixes_of("input: [16, 8, 8]\nbn = BatchNorm2d(16)\n");
    HAS(f, NULL, "input [1, 16, 8, 8]");
    ck_fixes_free(&f);

    /* Keras: padding='same' */
    f = fixes_of("input: [1, 4, 4, 3]\nconv = Conv2D(16, 5)\n");
    HAS(f, "conv", "padding='same'");
    HAS(f, NULL, "input of at least 5x5");
    ck_fixes_free(&f);

    /* integer arithmetic in arguments: 16 * 5 * 5, 64 // 2 + 1 */
    ck_graph *ga = parse("input: [1, 400]\nfc = Linear(16 * 5 * 5, 64 // 2 + 2 * 3 - 1)\n");
    ck_diags da = {0};
    CHECK(ga && ck_check(ga, &da) == CK_OK, "arithmetic parses");
    if (ga) {
        ck_layer_info li = ck_graph_layer(ga, 0);
        CHECK(li.output.d[1] == 37, "64 // 2 + 2 * 3 - 1 = 37, got %lld",
              (long long)li.output.d[1]);
    }
    ck_graph_free(ga);
    static const char *const bad[] = {"input: [1, 4]\nfc = Linear(4 *, 2)\n",
                                      "input: [1, 4]\nfc = Linear(4 // 0, 2)\n",
                                      "input: [1, 4]\nfc = Linear(4 / 2, 2)\n",
                                      "input: [1, 4]\nfc = Linear(9223372036854775807 * 2, 2)\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_graph *gb = NULL;
        CHECK(ck_parse_cnn(bad[i], strlen(bad[i]), "t.cnn", NULL, &gb, &da) == CK_EPARSE && !gb,
              "bad arithmetic refused: %s", bad[i]);
    }
    CHECK(da.n == 4 && strstr(da.v[1].message, "division by zero") &&
              strstr(da.v[3].message, "overflow"),
          "arithmetic errors named");
    ck_diags_free(&da);

    /* a valid network has nothing to fix */
    ck_graph *g = parse("input: [1, 3, 8, 8]\nconv = Conv2d(3, 8, 3)\n");
    ck_diags d = {0};
    CHECK(ck_find_fixes(g, &f, &d) == CK_OK && f.n == 0, "valid: no fixes");
    ck_fixes_free(&f);
    ck_graph_free(g);

    /* ONNX: pads on the chain export, and no .cnn writing */
    g = NULL;
    ck_load_file("tests/oracle/networks/chain.onnx", NULL, &g, &d);
    CHECK(g, "chain.onnx loads");
    if (g) {
        ck_shape s = {4, {1, 3, 7, 7}};
        ck_graph_set_input_shape(g, 0, &s);
        CHECK(ck_find_fixes(g, &f, &d) == CK_OK && f.n > 0, "onnx fixes");
        HAS(f, NULL, "input of at least 15x15");
        bool pads = false;
        for (int i = 0; i < f.n; i++) pads |= strstr(f.v[i].change, "pads=[1, 1, 1, 1]") != NULL;
        CHECK(pads, "onnx: pads=[1, 1, 1, 1] on the last conv");
        char *txt = NULL;
        CHECK(f.n && ck_graph_write_cnn(f.v[0].graph, NULL, &txt, &d) == CK_EUSAGE && !txt,
              "onnx graphs are not written as .cnn");
        ck_fixes_free(&f);
        ck_graph_free(g);
    }
    ck_diags_free(&d);
    return TEST_DONE("fix");
}
