/* Absurd sizes through every op of the registry (src/ops/ops.def):
 * dimensions, kernels, strides, dilations, pads, factors and feature counts
 * near INT64_MAX, zero and negative, as .cnn (PyTorch and Keras names) and
 * as one-node ONNX models. Each must give a diagnostic from a short list
 * (never a crash, never a wrapped size), and the passes after the check
 * (totals, fix search, receptive fields, the size solver, a session) must
 * survive it; under UBSan (make asan) any signed overflow aborts this test.
 * Every op id must be reached by some row. */
#include "convkit.h"
#include "ops/ops.h"
#include "test_onnx_util.h"
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
    /* the rest of the registry: one row at least for every op */
    "input: [1, 8, 8, 3]\nc = SeparableConv2D(16, {V}, depth_multiplier=2)\n",
    "input: [1, 8, 8, 3]\nc = SeparableConv2D(16, 3, depth_multiplier={V})\n",
    "input: [1, {V}, {V}, 3]\np = GlobalAveragePooling2D()\n",
    "input: [1, {V}, 8, 3]\np = GlobalMaxPooling2D(keepdims=True)\n",
    "input: [1, 3, {V}, 8]\np = AdaptiveMaxPool2d((8, {V}))\n",
    "input: [1, 1, {V}, 3]\np = AdaptiveAvgPool2d((8, 1))\n",
    "input: [1, 1, {V}, {V}]\np = AdaptiveAvgPool2d(({V}, 7))\n",
    "input: [1, 3, {V}, 8]\nn = InstanceNorm2d(3)\n",
    "input: [1, 3, {V}, 8]\nn = LayerNorm([{V}, 8])\n",
    "input: [{V}, {V}]\na = ReLU()\n",
    "input: [1, {V}]\na = Softmax(dim={V})\n",
    "input: [{V}, 3]\nd = Dropout(0.5)\n",
    "input: [1, 8, 8, 3]\np = Permute(({V}, 1, 2))\n",
    "input: [1, 3, {V}, 8]\na = sub(input, input)\n",
    "input: [1, 3, {V}, 8]\na = mul(input, scalar={V})\n",
    "input: [1, 3, {V}, 8]\na = div(input, input)\n",
    "input: [{V}, 8, 3]\na = Maximum()(input, input)\n",
    "input: [{V}, 8, 3]\na = Minimum()(input, input)\n",
    "input: [{V}, 8, 3]\na = Average()(input, input)\n",
    "input: [1, {V}]\ns = size(input, 1)\nq = floordiv(s, scalar={V})\n",
    "input: [1, {V}]\ns = size(input, 1)\nm = mod(s, scalar={V})\n",
    "input: [1, {V}]\ns = size(input, 1)\nq = mul(s, scalar={V})\nr = add(q, s)\n",
    "input: [1, {V}, 3, 3]\np = PixelShuffle({V})\n",
    "input: [1, 4, {V}, {V}]\np = PixelShuffle(2)\n",
    "input: [1, {V}, 4, 4]\np = PixelUnshuffle({V})\n",
    "input: [1, 3, {V}, 6]\np = PixelUnshuffle(3)\n",
    "input: [1, {V}, 3, 3]\np = ChannelShuffle({V})\n",
    "input: [1, 6, {V}, 3]\np = ChannelShuffle(3)\n",
    /* PyTorch functional calls with sizes computed from other values */
    "input: [1, 3, {V}, 8]\ns = size(input, {V})\n",
    "input: [1, 3, {V}, 8]\ns = size(input)\ng = getitem(s, [[{V}, {V}, {V}]])\n",
    "input: [1, 3, {V}, 8]\ng = getitem(input, [None, None, [{V}, {V}, {V}]])\n",
    "input: [1, 3, {V}, 8]\ns = size(input, 2)\nv = view(input, [s, {V}, -1])\n",
    "input: [1, 3, 8, 8]\nv = reshape(input, [{V}, -1])\n",
    "input: [1, 3, 8, 8]\ni = interpolate(input, size=[{V}, {V}])\n",
    "input: [1, 3, {V}, 8]\ni = interpolate(input, scale_factor={V})\n",
    "input: [1, 3, {V}, 8]\np = pad(input, [{V}, {V}, 1, 1])\n",
    "input: [1, 3, {V}, 8]\np = permute(input, [0, 1, 3, {V}])\n",
    "input: [1, 3, {V}, 8]\nt = transpose(input, {V}, 1)\n",
    "input: [1, 3, {V}, 8]\nm = mean(input, dim=[{V}], keepdim=True)\n",
    "input: [1, {V}, 8]\nc = chunk(input, {V}, dim=1)\n",
    "input: [1, {V}, 8]\nc = split(input, [{V}, {V}], dim=1)\n",
    "input: [1, 1, {V}, 8]\nq = squeeze(input, dim={V})\nu = unsqueeze(q, dim={V})\n",
    "input: [1, {V}]\ne = error(input, code='output_too_small', message='m')\n",
    "input: [1, {V}]\nz = MysteryLayer({V})\n",
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
    case CK_UNSUPPORTED_OP: /* the row of a layer type convkit does not know */
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

static bool seen[CK_OP_COUNT];
static int runs;

/* The passes that read a checked graph, on whatever the check left. */
static void survive(ck_graph *g, ck_status st, ck_diags *d, const char *what) {
    for (int i = 0; i < g->n_nodes; i++)
        if ((unsigned)g->nodes[i].op < CK_OP_COUNT) seen[g->nodes[i].op] = true;
    /* what passes has sane sizes; the analyses survive too */
    for (int i = 0; st == CK_OK && i < ck_graph_num_layers(g); i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        for (int k = 0; k < li.output.rank; k++)
            CHECK(li.output.d[k] >= 0, "negative size in %s: %s", li.name, what);
        CHECK(li.params >= 0 && li.macs >= 0 && li.ops >= 0, "cost of %s wraps: %s", li.name, what);
    }
    ck_totals tot = ck_graph_totals(g);
    CHECK(tot.params >= 0 && tot.macs >= 0 && tot.activation_bytes >= 0,
          "totals saturate, never wrap: %s", what);
    ck_fixes f;
    ck_diags fd = {0};
    CHECK(ck_find_fixes(g, &f, &fd) == CK_OK, "fix search: %s", what);
    ck_fixes_free(&f);
    ck_diags_free(&fd);
    ck_rf rf;
    for (int i = 0; i < ck_graph_num_layers(g); i++)
        CHECK(ck_receptive_field(g, i, &rf) == CK_OK, "receptive field of layer %d: %s", i, what);
    ck_sizes sz;
    ck_diags sd = {0};
    if (ck_graph_num_inputs(g) > 0 && ck_solve_sizes(g, 0, 1, 8, &sz, &sd) == CK_OK)
        ck_sizes_free(&sz);
    ck_diags_free(&sd);
    if (st == CK_OK) { /* the runtime refuses what it cannot hold, and builds the rest */
        ck_session *s = NULL;
        ck_diags rd = {0};
        ck_session_options opt = {.threads = 1};
        ck_status rs = ck_session_new(g, &opt, &s, &rd);
        CHECK(rs == CK_OK || rs == CK_EINVALID || rs == CK_EUSAGE || rs == CK_EIO, "session %d: %s",
              (int)rs, what);
        ck_session_free(s);
        ck_diags_free(&rd);
    }
    for (int i = 0; i < d->n; i++)
        CHECK(allowed(d->v[i].code), "code %s for %s", ck_code_name(d->v[i].code), what);
    runs++;
}

/* ---- ONNX: one node with the value in its input's dims or its attributes ---- */

enum { N_ONNX = 26 };

static const char *const onnx_ops[N_ONNX] = {
    "Shape",        "Gather", "Unsqueeze",  "Squeeze", "Slice",    "Cast",      "ConstantOfShape",
    "Range",        "Split",  "ReduceMean", "MatMul",  "Concat",   "Identity",  "Add",
    "Sub",          "Mul",    "Div",        "Resize",  "Pad",      "Transpose", "DepthToSpace",
    "SpaceToDepth", "Where",  "Expand",     "Tile",    "ScatterND"};

static uint8_t *onnx_case(int k, int64_t V, size_t *len) {
    tb *b = tb_new(13);
    int64_t x2[2] = {1, V}, x4[4] = {1, 1, V, 2}, xb[4] = {1, V, 2, 2};
    const char *op = onnx_ops[k];
    Onnx__NodeProto *n = NULL;
    switch (k) {
    case 0: /* Shape(start=V) */
        tb_input(b, "X", 4, x4);
        n = tb_node(b, op, "n", TB_L("X"), TB_L("Y"));
        tb_attr_int(b, n, "start", V);
        break;
    case 1: /* Gather(X, [V]) */
        tb_input(b, "X", 2, x2);
        tb_init_i64(b, "I", 1, &V);
        n = tb_node(b, op, "n", TB_L("X", "I"), TB_L("Y"));
        tb_attr_int(b, n, "axis", 1);
        break;
    case 2: /* Unsqueeze(X, axes=[V]) */
    case 3: /* Squeeze(X, axes=[V]) */
        tb_input(b, "X", 2, x2);
        tb_init_i64(b, "A", 1, &V);
        n = tb_node(b, op, "n", TB_L("X", "A"), TB_L("Y"));
        break;
    case 4: { /* Slice(X, [V], [V], [1], [V]) */
        int64_t one = 1;
        tb_input(b, "X", 2, x2);
        tb_init_i64(b, "S", 1, &V);
        tb_init_i64(b, "E", 1, &V);
        tb_init_i64(b, "A", 1, &one);
        tb_init_i64(b, "T", 1, &V);
        n = tb_node(b, op, "n", TB_L("X", "S", "E", "A", "T"), TB_L("Y"));
        break;
    }
    case 5: /* Cast of [1, V] */
        tb_input(b, "X", 2, x2);
        n = tb_node(b, op, "n", TB_L("X"), TB_L("Y"));
        tb_attr_int(b, n, "to", 7);
        break;
    case 6: { /* ConstantOfShape([V, V]) */
        int64_t sh[2] = {V, V};
        tb_init_i64(b, "S", 2, sh);
        n = tb_node(b, op, "n", TB_L("S"), TB_L("Y"));
        break;
    }
    case 7: { /* Range(V, V, V) and Range(0, V, 1) */
        int64_t z = 0, one = 1;
        tb_init_i64(b, "S", 1, k == 7 && V % 2 ? &V : &z);
        tb_init_i64(b, "L", 1, &V);
        tb_init_i64(b, "D", 1, V % 2 ? &V : &one);
        n = tb_node(b, op, "n", TB_L("S", "L", "D"), TB_L("Y"));
        break;
    }
    case 8: { /* Split(X, [V, V]) */
        int64_t sp[2] = {V, V};
        tb_input(b, "X", 2, x2);
        tb_init_i64(b, "P", 2, sp);
        n = tb_node(b, op, "n", TB_L("X", "P"), TB_L("Y", "Z"));
        tb_attr_int(b, n, "axis", 1);
        tb_output(b, "Z");
        break;
    }
    case 9: /* ReduceMean(axes=[V]) */
        tb_input(b, "X", 4, x4);
        n = tb_node(b, op, "n", TB_L("X"), TB_L("Y"));
        tb_attr_ints(b, n, "axes", 1, &V);
        break;
    case 10: { /* MatMul([1, V], [V, 3]) */
        int64_t w[2] = {V, 3};
        tb_input(b, "X", 2, x2);
        tb_input(b, "W", 2, w);
        n = tb_node(b, op, "n", TB_L("X", "W"), TB_L("Y"));
        break;
    }
    case 11: /* Concat of [1, V] twice */
    case 13:
    case 14:
    case 15:
    case 16: /* Add, Sub, Mul, Div of [1, V] and [1, V] */
        tb_input(b, "X", 2, x2);
        n = tb_node(b, op, "n", TB_L("X", "X"), TB_L("Y"));
        if (k == 11) tb_attr_int(b, n, "axis", 1);
        break;
    case 12: /* Identity of [1, V] */
        tb_input(b, "X", 2, x2);
        n = tb_node(b, op, "n", TB_L("X"), TB_L("Y"));
        break;
    case 17: { /* Resize to sizes [1, 1, V, V] */
        int64_t sz[4] = {1, 1, V, V};
        tb_input(b, "X", 4, x4);
        tb_init_i64(b, "Z", 4, sz);
        n = tb_node(b, op, "n", TB_L("X", "", "", "Z"), TB_L("Y"));
        break;
    }
    case 18: { /* Pad by V */
        int64_t p[8] = {0, 0, V, 0, 0, 0, V, 1};
        tb_input(b, "X", 4, x4);
        tb_init_i64(b, "P", 8, p);
        n = tb_node(b, op, "n", TB_L("X", "P"), TB_L("Y"));
        break;
    }
    case 19: { /* Transpose(perm=[V, 0]) */
        int64_t perm[2] = {V, 0};
        tb_input(b, "X", 2, x2);
        n = tb_node(b, op, "n", TB_L("X"), TB_L("Y"));
        tb_attr_ints(b, n, "perm", 2, perm);
        break;
    }
    case 22: /* Where of [1, 1, V, 2] three times */
        tb_input(b, "X", 4, x4);
        n = tb_node(b, op, "n", TB_L("X", "X", "X"), TB_L("Y"));
        break;
    case 23:   /* Expand to [V, 1, V, 2] */
    case 24: { /* Tile by [1, V, 1, V] */
        int64_t e[4] = {V, 1, V, 2}, t[4] = {1, V, 1, V};
        tb_input(b, "X", 4, x4);
        tb_init_i64(b, "S", 4, k == 23 ? e : t);
        n = tb_node(b, op, "n", TB_L("X", "S"), TB_L("Y"));
        break;
    }
    case 25: { /* ScatterND at index [V] of [1, V] */
        int64_t ush[2] = {1, V};
        tb_input(b, "X", 2, x2);
        Onnx__TensorProto *t = tb_init_i64(b, "I", 1, &V);
        t->n_dims = 2; /* [1, 1] */
        t->dims = tb_alloc(b, 2 * sizeof *t->dims);
        t->dims[0] = t->dims[1] = 1;
        tb_input(b, "U", 2, ush);
        n = tb_node(b, op, "n", TB_L("X", "I", "U"), TB_L("Y"));
        break;
    }
    default: /* DepthToSpace, SpaceToDepth with blocksize V on [1, V, 2, 2] */
        tb_input(b, "X", 4, xb);
        n = tb_node(b, op, "n", TB_L("X"), TB_L("Y"));
        tb_attr_int(b, n, "blocksize", V);
        break;
    }
    tb_output(b, "Y");
    uint8_t *bytes = tb_pack(b, len);
    tb_free(b);
    return bytes;
}

/* ONNX ops the rows above do not reach by name */
static const char *const onnx_more[] = {
    "Size", "Max",   "Min",  "Mean",        "GlobalAveragePool", "GlobalMaxPool",
    "Pow",  "Equal", "Less", "LessOrEqual", "Greater",           "GreaterOrEqual",
    "And",  "Or",    "Xor",  "Mod"};

static uint8_t *onnx_join(const char *op, int64_t V, size_t *len) {
    tb *b = tb_new(13);
    int64_t x4[4] = {1, 2, V, V};
    tb_input(b, "X", 4, x4);
    if (!strncmp(op, "Global", 6))
        tb_node(b, op, "n", TB_L("X"), TB_L("Y"));
    else
        tb_node(b, op, "n", TB_L("X", "X"), TB_L("Y"));
    tb_output(b, "Y");
    uint8_t *bytes = tb_pack(b, len);
    tb_free(b);
    return bytes;
}

static void run_onnx(uint8_t *bytes, size_t len, const char *what) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_onnx_memory(bytes, len, what, NULL, &g, &d);
    free(bytes);
    CHECK(st == CK_OK || st == CK_EPARSE || st == CK_EINVALID || st == CK_EUSAGE,
          "load status %d: %s", st, what);
    if (g) {
        st = ck_check(g, &d);
        CHECK(st == CK_OK || st == CK_EINVALID || st == CK_EUSAGE, "check %d: %s", st, what);
        survive(g, st, &d, what);
    }
    ck_diags_free(&d);
    ck_graph_free(g);
}

int main(void) {
    size_t nt = sizeof templates / sizeof *templates, nv = sizeof values / sizeof *values;
    for (size_t t = 0; t < nt; t++)
        for (size_t v = 0; v < nv; v++) {
            char *text = fill(templates[t], values[v]);
            ck_graph *g = NULL;
            ck_diags d = {0};
            ck_status st = ck_parse_cnn(text, strlen(text), "o.cnn", NULL, &g, &d);
            CHECK(st == CK_OK || st == CK_EPARSE, "parse status %d: %s", st, text);
            if (g) {
                st = ck_check(g, &d);
                CHECK(st == CK_OK || st == CK_EINVALID || st == CK_EUSAGE, "check %d: %s", st,
                      text);
                survive(g, st, &d, text);
            } else {
                for (int i = 0; i < d.n; i++)
                    CHECK(allowed(d.v[i].code), "code %s for %s", ck_code_name(d.v[i].code), text);
            }
            ck_diags_free(&d);
            ck_graph_free(g);
            free(text);
        }
    for (int k = 0; k < N_ONNX; k++)
        for (size_t v = 0; v < nv; v++) {
            char what[96];
            snprintf(what, sizeof what, "ONNX %s with %s", onnx_ops[k], values[v]);
            size_t len;
            uint8_t *bytes = onnx_case(k, strtoll(values[v], NULL, 10), &len);
            run_onnx(bytes, len, what);
        }
    for (size_t k = 0; k < sizeof onnx_more / sizeof *onnx_more; k++)
        for (size_t v = 0; v < nv; v++) {
            char what[96];
            snprintf(what, sizeof what, "ONNX %s with %s", onnx_more[k], values[v]);
            size_t len;
            uint8_t *bytes = onnx_join(onnx_more[k], strtoll(values[v], NULL, 10), &len);
            run_onnx(bytes, len, what);
        }
    CHECK(runs > (int)(nt * nv), "every row ran (%d)", runs);
    for (int op = 0; op < CK_OP_COUNT; op++)
        CHECK(seen[op], "no row reaches op %s (id %d): add one", ck_op_name((ck_op_id)op), op);
    return TEST_DONE("overflow");
}
