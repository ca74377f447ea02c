/* The ONNX reader beyond single layers: folded shape chains, opset forms,
 * constants, symbols, external data, unknown ops, and malformed input
 * (truncated protobuf, wrong wire types, undefined inputs, cycles, limits,
 * random corruption) that must give a diagnostic and never crash. */
#include "graph/graph.h"
#include "import/import.h"
#include "test.h"
#include "test_onnx_util.h"

#include <stdio.h>
#include <string.h>

/* Packs, frees the builder, loads. */
static ck_status load(tb *b, ck_graph **g, ck_diags *d) {
    size_t len;
    uint8_t *p = tb_pack(b, &len);
    tb_free(b);
    ck_status st = ck_load_onnx(p, len, "mem.onnx", NULL, g, d);
    free(p);
    return st;
}

static const ck_diag *first_error(const ck_diags *d) {
    for (int i = 0; i < d->n; i++)
        if (d->v[i].severity == CK_SEV_ERROR) return &d->v[i];
    return NULL;
}

static bool has_diag(const ck_diags *d, ck_code code, const char *needle) {
    for (int i = 0; i < d->n; i++)
        if (d->v[i].code == code &&
            (!needle || (d->v[i].message && strstr(d->v[i].message, needle))))
            return true;
    return false;
}

/* Loads, checks, compares output 0 with want (rank n). */
static void expect_shape(const char *what, tb *b, int n, const int64_t *want) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = load(b, &g, &d);
    CHECK(st == CK_OK, "%s: load failed: %s", what, d.n ? d.v[0].message : "?");
    if (st == CK_OK) {
        ck_diags cd = {0};
        ck_status cs = ck_check(g, &cd);
        const ck_diag *e = first_error(&cd);
        CHECK(cs == CK_OK, "%s: check failed: %s at %s: %s", what, e ? ck_code_name(e->code) : "?",
              e && e->layer ? e->layer : "?", e && e->message ? e->message : "");
        if (cs == CK_OK) {
            const ck_val *y = &g->vals[g->outputs[0]];
            bool same = y->shape.rank == n;
            for (int i = 0; same && i < n; i++) same = y->shape.d[i] == want[i];
            char buf[128];
            ck_shape_str(&y->shape, buf, sizeof buf);
            CHECK(same, "%s: got %s", what, buf);
        }
        ck_diags_free(&cd);
    }
    ck_graph_free(g);
    ck_diags_free(&d);
}

/* Loads and checks; the first error must have this code (and layer). */
static void expect_check_error(const char *what, tb *b, ck_code code, const char *layer) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = load(b, &g, &d);
    CHECK(st == CK_OK, "%s: load failed: %s", what, d.n ? d.v[0].message : "?");
    if (st == CK_OK) {
        ck_diags cd = {0};
        ck_check(g, &cd);
        const ck_diag *e = first_error(&cd);
        CHECK(e && e->code == code && (!layer || (e->layer && !strcmp(e->layer, layer))),
              "%s: want %s at %s, got %s at %s: %s", what, ck_code_name(code), layer ? layer : "-",
              e ? ck_code_name(e->code) : "none", e && e->layer ? e->layer : "-",
              e && e->message ? e->message : "");
        ck_diags_free(&cd);
    }
    ck_graph_free(g);
    ck_diags_free(&d);
}

/* Load must fail with a diagnostic of this code whose message has needle. */
static void expect_load_error(const char *what, tb *b, ck_code code, const char *needle) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = load(b, &g, &d);
    CHECK(st != CK_OK && !g, "%s: loaded although it should not", what);
    CHECK(has_diag(&d, code, needle), "%s: want %s mentioning '%s', got %s: %s", what,
          ck_code_name(code), needle ? needle : "", d.n ? ck_code_name(d.v[0].code) : "none",
          d.n ? d.v[0].message : "");
    ck_graph_free(g);
    ck_diags_free(&d);
}

/* ---- shape chains ---------------------------------------------------------- */

/* x.view(x.size(0), -1) then Linear, as torch.onnx.export writes it. */
static void test_view_chain(int opset) {
    tb *b = tb_new(opset);
    tb_input(b, "x", 4, TB_D(2, 8, 5, 5));
    tb_init(b, "fc.weight", 2, TB_D(10, 200), NULL);
    tb_init(b, "fc.bias", 1, TB_D(10), NULL);
    Onnx__TensorProto *zero = tb_tensor(b, "", 7, 0, NULL);
    zero->n_int64_data = 1;
    zero->int64_data = tb_alloc(b, sizeof(int64_t));
    Onnx__NodeProto *c0 = tb_node(b, "Constant", "/Constant", NULL, TB_L("c0"));
    tb_attr_tensor(b, c0, "value", zero);
    tb_node(b, "Shape", "/Shape", TB_L("x"), TB_L("s"));
    tb_node(b, "Gather", "/Gather", TB_L("s", "c0"), TB_L("n"));
    if (opset >= 13) {
        tb_init_i64(b, "axes0", 1, TB_D(0));
        tb_node(b, "Unsqueeze", "/Unsqueeze", TB_L("n", "axes0"), TB_L("n1"));
    } else {
        Onnx__NodeProto *u = tb_node(b, "Unsqueeze", "/Unsqueeze", TB_L("n"), TB_L("n1"));
        tb_attr_ints(b, u, "axes", 1, TB_D(0));
    }
    tb_init_i64(b, "minus1", 1, TB_D(-1));
    Onnx__NodeProto *cc = tb_node(b, "Concat", "/Concat", TB_L("n1", "minus1"), TB_L("shape"));
    tb_attr_int(b, cc, "axis", 0);
    tb_node(b, "Reshape", "/Reshape", TB_L("x", "shape"), TB_L("flat"));
    Onnx__NodeProto *gm =
        tb_node(b, "Gemm", "/fc/Gemm", TB_L("flat", "fc.weight", "fc.bias"), TB_L("y"));
    tb_attr_int(b, gm, "transB", 1);
    tb_output(b, "y");
    char what[64];
    snprintf(what, sizeof what, "view chain opset %d", opset);
    expect_shape(what, b, 2, TB_D(2, 10));
}

/* The same chain whose Gemm expects the wrong size: feature_mismatch at the Gemm. */
static void test_view_chain_mismatch(void) {
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 8, 5, 5));
    tb_init(b, "fc.weight", 2, TB_D(10, 180), NULL);
    tb_node(b, "Shape", "/Shape", TB_L("x"), TB_L("s"));
    tb_init_i64(b, "i0", 1, TB_D(0));
    tb_node(b, "Gather", "/Gather", TB_L("s", "i0"), TB_L("n1"));
    tb_init_i64(b, "minus1", 1, TB_D(-1));
    Onnx__NodeProto *cc = tb_node(b, "Concat", "/Concat", TB_L("n1", "minus1"), TB_L("shape"));
    tb_attr_int(b, cc, "axis", 0);
    tb_node(b, "Reshape", "/Reshape", TB_L("x", "shape"), TB_L("flat"));
    Onnx__NodeProto *gm = tb_node(b, "Gemm", "/fc/Gemm", TB_L("flat", "fc.weight"), TB_L("y"));
    tb_attr_int(b, gm, "transB", 1);
    tb_output(b, "y");
    expect_check_error("view chain mismatch", b, CK_FEATURE_MISMATCH, "/fc/Gemm");
}

/* F.interpolate(x, size=skip.shape[2:]) then cat: Shape -> Slice -> Concat -> Resize(sizes). */
static void test_resize_sizes_chain(void) {
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 4, 7, 9));
    tb_input(b, "skip", 4, TB_D(1, 2, 14, 19));
    tb_node(b, "Shape", "/Shape", TB_L("skip"), TB_L("s"));
    tb_init_i64(b, "st", 1, TB_D(2));
    tb_init_i64(b, "en", 1, TB_D(INT64_MAX));
    tb_node(b, "Slice", "/Slice", TB_L("s", "st", "en"), TB_L("hw"));
    tb_init_i64(b, "nc", 2, TB_D(1, 4));
    Onnx__NodeProto *cc = tb_node(b, "Concat", "/Concat", TB_L("nc", "hw"), TB_L("sizes"));
    tb_attr_int(b, cc, "axis", 0);
    Onnx__NodeProto *rs = tb_node(b, "Resize", "/Resize", TB_L("x", "", "", "sizes"), TB_L("up"));
    tb_attr_str(b, rs, "mode", "nearest");
    Onnx__NodeProto *c2 = tb_node(b, "Concat", "/Concat_1", TB_L("up", "skip"), TB_L("y"));
    tb_attr_int(b, c2, "axis", 1);
    tb_output(b, "y");
    expect_shape("resize sizes chain", b, 4, TB_D(1, 6, 14, 19));
}

static void test_resize_forms(void) {
    /* opset 13 Resize(X, roi, scales) with an empty roi constant */
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 5, 6));
    tb_init_f32(b, "roi", 0, NULL);
    tb_init_f32(b, "scales", 4, (const float[]){1, 1, 2, 2.5f});
    Onnx__NodeProto *rs = tb_node(b, "Resize", "/up/Resize", TB_L("x", "roi", "scales"), TB_L("y"));
    tb_attr_str(b, rs, "mode", "linear");
    tb_output(b, "y");
    expect_shape("Resize scales", b, 4, TB_D(1, 3, 10, 15));

    /* opset 13 Resize(X, "", scales) */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 5, 6));
    tb_init_f32(b, "scales", 4, (const float[]){1, 1, 2, 2});
    tb_node(b, "Resize", "/up/Resize", TB_L("x", "", "scales"), TB_L("y"));
    tb_output(b, "y");
    expect_shape("Resize absent roi", b, 4, TB_D(1, 3, 10, 12));

    /* opset 10 Resize(X, scales) */
    b = tb_new(10);
    tb_input(b, "x", 4, TB_D(1, 3, 5, 6));
    tb_init_f32(b, "scales", 4, (const float[]){1, 1, 3, 3});
    tb_node(b, "Resize", NULL, TB_L("x", "scales"), TB_L("y"));
    tb_output(b, "y");
    expect_shape("Resize opset 10", b, 4, TB_D(1, 3, 15, 18));

    /* opset 9 Upsample(X, scales) from a Constant node */
    b = tb_new(9);
    tb_input(b, "x", 4, TB_D(1, 3, 5, 6));
    Onnx__TensorProto *sc = tb_tensor(b, "", 1, 1, TB_D(4));
    sc->n_float_data = 4;
    sc->float_data = tb_alloc(b, 4 * sizeof(float));
    sc->float_data[0] = sc->float_data[1] = 1;
    sc->float_data[2] = sc->float_data[3] = 2;
    Onnx__NodeProto *cn = tb_node(b, "Constant", NULL, NULL, TB_L("sc"));
    tb_attr_tensor(b, cn, "value", sc);
    tb_node(b, "Upsample", NULL, TB_L("x", "sc"), TB_L("y"));
    tb_output(b, "y");
    expect_shape("Upsample opset 9", b, 4, TB_D(1, 3, 10, 12));

    /* opset 7 Upsample with the scales attribute */
    b = tb_new(7);
    tb_input(b, "x", 4, TB_D(1, 3, 5, 6));
    Onnx__NodeProto *up = tb_node(b, "Upsample", NULL, TB_L("x"), TB_L("y"));
    tb_attr_floats(b, up, "scales", 4, (const float[]){1, 1, 2, 2});
    tb_output(b, "y");
    expect_shape("Upsample opset 7", b, 4, TB_D(1, 3, 10, 12));

    /* scaling the channel axis is outside what convkit models */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 5, 6));
    tb_init_f32(b, "scales", 4, (const float[]){1, 2, 2, 2});
    tb_node(b, "Resize", "/up/Resize", TB_L("x", "", "scales"), TB_L("y"));
    tb_output(b, "y");
    expect_check_error("Resize channel scale", b, CK_UNSUPPORTED, "/up/Resize");
}

static void test_pad_forms(void) {
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 5, 6));
    tb_init_i64(b, "pads", 8, TB_D(0, 0, 1, 2, 0, 0, 3, 4));
    Onnx__NodeProto *p = tb_node(b, "Pad", "/pad/Pad", TB_L("x", "pads"), TB_L("y"));
    tb_attr_str(b, p, "mode", "reflect");
    tb_output(b, "y");
    expect_shape("Pad opset 13", b, 4, TB_D(1, 3, 9, 12));

    b = tb_new(2);
    tb_input(b, "x", 4, TB_D(1, 3, 5, 6));
    p = tb_node(b, "Pad", NULL, TB_L("x"), TB_L("y"));
    tb_attr_ints(b, p, "pads", 8, TB_D(0, 0, 1, 1, 0, 0, 1, 1));
    tb_output(b, "y");
    expect_shape("Pad opset 2", b, 4, TB_D(1, 3, 7, 8));

    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 5, 6));
    tb_init_i64(b, "pads", 8, TB_D(0, 1, 0, 0, 0, 0, 0, 0));
    tb_node(b, "Pad", "/pad/Pad", TB_L("x", "pads"), TB_L("y"));
    tb_output(b, "y");
    expect_check_error("Pad channels", b, CK_UNSUPPORTED, "/pad/Pad");
}

static void test_misc_ops(void) {
    /* Squeeze (opset 11 attr, 13 input), Unsqueeze, Split, ReduceMean, Transpose, MatMul */
    tb *b = tb_new(11);
    tb_input(b, "x", 4, TB_D(2, 6, 1, 1));
    Onnx__NodeProto *sq = tb_node(b, "Squeeze", NULL, TB_L("x"), TB_L("y"));
    tb_attr_ints(b, sq, "axes", 2, TB_D(2, 3));
    tb_output(b, "y");
    expect_shape("Squeeze opset 11", b, 2, TB_D(2, 6));

    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(2, 6, 1, 1));
    tb_init_i64(b, "ax", 1, TB_D(-1));
    tb_node(b, "Squeeze", NULL, TB_L("x", "ax"), TB_L("y"));
    tb_output(b, "y");
    expect_shape("Squeeze opset 13", b, 3, TB_D(2, 6, 1));

    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(2, 6, 4, 4));
    tb_init_i64(b, "ax", 1, TB_D(1));
    tb_node(b, "Squeeze", "/sq", TB_L("x", "ax"), TB_L("y"));
    tb_output(b, "y");
    expect_check_error("Squeeze non-1 axis", b, CK_RESHAPE_MISMATCH, "/sq");

    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 6, 4, 4));
    tb_init_i64(b, "split", 2, TB_D(2, 4));
    Onnx__NodeProto *sp = tb_node(b, "Split", NULL, TB_L("x", "split"), TB_L("a", "c"));
    tb_attr_int(b, sp, "axis", 1);
    tb_output(b, "c");
    expect_shape("Split", b, 4, TB_D(1, 4, 4, 4));

    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 6, 4, 5));
    Onnx__NodeProto *rm = tb_node(b, "ReduceMean", NULL, TB_L("x"), TB_L("y"));
    tb_attr_ints(b, rm, "axes", 2, TB_D(2, 3));
    tb_attr_int(b, rm, "keepdims", 1);
    tb_output(b, "y");
    expect_shape("ReduceMean", b, 4, TB_D(1, 6, 1, 1));

    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 6, 4, 5));
    Onnx__NodeProto *tr = tb_node(b, "Transpose", NULL, TB_L("x"), TB_L("y"));
    tb_attr_ints(b, tr, "perm", 4, TB_D(0, 2, 3, 1));
    tb_output(b, "y");
    expect_shape("Transpose", b, 4, TB_D(1, 4, 5, 6));

    b = tb_new(13);
    tb_input(b, "a", 3, TB_D(2, 4, 8));
    tb_input(b, "c", 3, TB_D(2, 8, 3));
    tb_node(b, "MatMul", NULL, TB_L("a", "c"), TB_L("y"));
    tb_output(b, "y");
    expect_shape("MatMul activations", b, 3, TB_D(2, 4, 3));

    b = tb_new(13);
    tb_input(b, "a", 3, TB_D(2, 4, 8));
    tb_init(b, "w", 2, TB_D(8, 5), NULL);
    tb_node(b, "MatMul", NULL, TB_L("a", "w"), TB_L("y"));
    tb_output(b, "y");
    expect_shape("MatMul weight", b, 3, TB_D(2, 4, 5));

    b = tb_new(13);
    tb_input(b, "a", 2, TB_D(2, 7));
    tb_init(b, "w", 2, TB_D(8, 5), NULL);
    tb_node(b, "MatMul", "/mm", TB_L("a", "w"), TB_L("y"));
    tb_output(b, "y");
    expect_check_error("MatMul mismatch", b, CK_FEATURE_MISMATCH, "/mm");

    /* BatchNorm + Clip(min, max as inputs) + GlobalAveragePool + Flatten + Softmax + Dropout(2
     * outputs) */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 4, 6, 6));
    for (int i = 0; i < 4; i++) {
        static const char *const nm[] = {"bn.s", "bn.b", "bn.m", "bn.v"};
        tb_init(b, nm[i], 1, TB_D(4), NULL);
    }
    tb_node(b, "BatchNormalization", "/bn", TB_L("x", "bn.s", "bn.b", "bn.m", "bn.v"), TB_L("b1"));
    tb_init_f32(b, "lo", 0, NULL);
    b->inits[b->g.n_initializer - 1]->n_dims = 0; /* scalar */
    tb_node(b, "Clip", "/clip", TB_L("b1", "", "lo"), TB_L("b2"));
    tb_node(b, "GlobalAveragePool", "/gap", TB_L("b2"), TB_L("b3"));
    tb_node(b, "Flatten", "/flat", TB_L("b3"), TB_L("b4"));
    tb_node(b, "Dropout", "/drop", TB_L("b4"), TB_L("b5", "mask"));
    tb_node(b, "Softmax", "/sm", TB_L("b5"), TB_L("y"));
    tb_output(b, "y");
    expect_shape("bn clip gap flatten dropout softmax", b, 2, TB_D(1, 4));

    /* BatchNorm with the wrong channel count */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 4, 6, 6));
    for (int i = 0; i < 4; i++) {
        static const char *const nm[] = {"bn.s", "bn.b", "bn.m", "bn.v"};
        tb_init(b, nm[i], 1, TB_D(5), NULL);
    }
    tb_node(b, "BatchNormalization", "/bn", TB_L("x", "bn.s", "bn.b", "bn.m", "bn.v"), TB_L("y"));
    tb_output(b, "y");
    expect_check_error("BatchNorm channels", b, CK_CHANNEL_MISMATCH, "/bn");
}

/* ---- constants, symbols, unknown ops, data --------------------------------- */

static void test_constants_and_identity(void) {
    /* Identity of an initializer feeding a Conv bias (torch dedups shared constants) */
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_init(b, "w", 4, TB_D(4, 3, 3, 3), NULL);
    tb_init(b, "bias0", 1, TB_D(4), NULL);
    tb_node(b, "Identity", "Identity_0", TB_L("bias0"), TB_L("bias1"));
    Onnx__NodeProto *cv = tb_node(b, "Conv", "/conv/Conv", TB_L("x", "w", "bias1"), TB_L("y"));
    tb_attr_ints(b, cv, "pads", 4, TB_D(1, 1, 1, 1));
    tb_output(b, "y");
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(load(b, &g, &d) == CK_OK, "identity fold: load failed");
    if (g) {
        CHECK(ck_graph_num_layers(g) == 1, "identity fold: %d layers (the Identity should fold)",
              ck_graph_num_layers(g));
        CHECK(g->nodes[0].n_params == 2 && g->nodes[0].params[1] >= 0,
              "identity fold: the bias is not a param");
        ck_diags cd = {0};
        CHECK(ck_check(g, &cd) == CK_OK, "identity fold: check failed");
        CHECK(g->vals[g->outputs[0]].shape.d[1] == 4 && g->vals[g->outputs[0]].shape.d[2] == 8,
              "identity fold: wrong shape");
        ck_diags_free(&cd);
    }
    ck_graph_free(g);
    ck_diags_free(&d);

    /* Reshape target from a Constant node (value_ints) */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 4, 4));
    Onnx__NodeProto *cn = tb_node(b, "Constant", NULL, NULL, TB_L("shape"));
    tb_attr_ints(b, cn, "value_ints", 2, TB_D(0, -1));
    b->nodes[0]->attribute[0]->name = tb_str(b, "value_ints");
    tb_node(b, "Reshape", NULL, TB_L("x", "shape"), TB_L("y"));
    tb_output(b, "y");
    expect_shape("Reshape from Constant value_ints", b, 2, TB_D(1, 48));
}

static void test_initializer_data(void) {
    tb *b = tb_new(13);
    tb_input(b, "x", 2, TB_D(1, 3));
    tb_init(b, "w", 2, TB_D(2, 3), (const float[]){1, 2, 3, 4, 5, 6});
    Onnx__TensorProto *raw = tb_init(b, "braw", 1, TB_D(2), NULL);
    static const uint8_t bytes[8] = {0, 0, 0x80, 0x3f,
                                     0, 0, 0,    0x40}; /* 1.0f, 2.0f little-endian */
    raw->has_raw_data = 1;
    raw->raw_data.len = 8;
    raw->raw_data.data = tb_alloc(b, 8);
    memcpy(raw->raw_data.data, bytes, 8);
    tb_init_i64(b, "ints", 3, TB_D(7, -8, 9));
    Onnx__TensorProto *ext = tb_init(b, "wext", 2, TB_D(2, 3), NULL);
    ext->has_data_location = 1;
    ext->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    ext->n_external_data = 3;
    ext->external_data = tb_alloc(b, 3 * sizeof *ext->external_data);
    static const char *const kv[3][2] = {
        {"location", "weights/m.onnx.data"}, {"offset", "4096"}, {"length", "24"}};
    for (int i = 0; i < 3; i++) {
        Onnx__StringStringEntryProto *e = tb_alloc(b, sizeof *e);
        onnx__string_string_entry_proto__init(e);
        e->key = tb_str(b, kv[i][0]);
        e->value = tb_str(b, kv[i][1]);
        ext->external_data[i] = e;
    }
    Onnx__TensorProto *bad = tb_init(b, "wbad", 1, TB_D(2), NULL);
    bad->has_data_location = 1;
    bad->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    bad->n_external_data = 1;
    bad->external_data = tb_alloc(b, sizeof *bad->external_data);
    Onnx__StringStringEntryProto *e = tb_alloc(b, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = tb_str(b, "location");
    e->value = tb_str(b, "../../etc/passwd");
    bad->external_data[0] = e;
    Onnx__NodeProto *gm = tb_node(b, "Gemm", "/fc", TB_L("x", "w", "braw"), TB_L("y"));
    tb_attr_int(b, gm, "transB", 1);
    tb_output(b, "y");
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = load(b, &g, &d);
    CHECK(st == CK_OK, "initializer data: load failed: %s", d.n ? d.v[0].message : "");
    if (g) {
        const ck_tensor *t[5] = {0};
        for (int i = 0; i < g->n_tensors; i++) {
            const char *nm = g->tensors[i].name;
            if (!strcmp(nm, "w")) t[0] = &g->tensors[i];
            if (!strcmp(nm, "braw")) t[1] = &g->tensors[i];
            if (!strcmp(nm, "ints")) t[2] = &g->tensors[i];
            if (!strcmp(nm, "wext")) t[3] = &g->tensors[i];
            if (!strcmp(nm, "wbad")) t[4] = &g->tensors[i];
        }
        CHECK(t[0] && t[0]->f32 && t[0]->f32[5] == 6.0f, "float_data not read");
        CHECK(t[1] && t[1]->f32 && t[1]->f32[0] == 1.0f && t[1]->f32[1] == 2.0f,
              "raw_data not read");
        CHECK(t[2] && t[2]->i64 && t[2]->i64[1] == -8 && t[2]->dtype == CK_I64,
              "int64_data not read");
        CHECK(t[3] && !t[3]->f32 && t[3]->ext_path &&
                  !strcmp(t[3]->ext_path, "weights/m.onnx.data") && t[3]->ext_offset == 4096 &&
                  t[3]->ext_length == 24,
              "external data not recorded");
        CHECK(t[4] && !t[4]->ext_path, "an unsafe external location was kept");
        bool warned = false;
        for (int i = 0; i < g->warnings.n; i++)
            warned |= g->warnings.v[i].message &&
                      strstr(g->warnings.v[i].message, "../../etc/passwd") != NULL;
        CHECK(warned, "no warning names the unsafe external location");
        ck_diags cd = {0};
        CHECK(ck_check(g, &cd) == CK_OK, "initializer data: check failed");
        ck_diags_free(&cd);
    }
    ck_graph_free(g);
    ck_diags_free(&d);

    /* raw_data of the wrong length is a parse error naming the tensor */
    b = tb_new(13);
    tb_input(b, "x", 2, TB_D(1, 3));
    Onnx__TensorProto *w = tb_init(b, "w", 2, TB_D(2, 3), NULL);
    w->has_raw_data = 1;
    w->raw_data.len = 20;
    w->raw_data.data = tb_alloc(b, 20);
    tb_node(b, "MatMul", NULL, TB_L("x", "w"), TB_L("y"));
    tb_output(b, "y");
    expect_load_error("raw_data length", b, CK_PARSE_ERROR, "'w'");
}

static void test_symbols(void) {
    tb *b = tb_new(13);
    tb_input(b, "input", 4, TB_D(-1, 3, -1, -1));
    tb_init(b, "w", 4, TB_D(8, 3, 3, 3), NULL);
    tb_node(b, "Conv", "/conv/Conv", TB_L("input", "w"), TB_L("y"));
    tb_output(b, "y");
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(load(b, &g, &d) == CK_OK, "symbols: load failed");
    if (g) {
        ck_shape s = ck_graph_input_shape(g, 0);
        CHECK(s.rank == 4 && s.d[0] == 0 && s.d[1] == 3 && s.d[2] == 0,
              "symbols: declared shape wrong");
        bool named = false;
        for (int i = 0; i < g->warnings.n; i++)
            named |= g->warnings.v[i].message && strstr(g->warnings.v[i].message, "s2") != NULL;
        CHECK(named, "symbols: no warning names the symbol");
        ck_shape in = {.rank = 4, .d = {1, 3, 10, 12}};
        ck_graph_set_input_shape(g, 0, &in);
        ck_diags cd = {0};
        CHECK(ck_check(g, &cd) == CK_OK, "symbols: check after set_input_shape failed");
        CHECK(g->vals[g->outputs[0]].shape.d[3] == 10, "symbols: wrong width");
        ck_diags_free(&cd);
    }
    ck_graph_free(g);
    ck_diags_free(&d);
}

static void test_unknown_op(void) {
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_init(b, "w", 4, TB_D(4, 3, 3, 3), NULL);
    tb_node(b, "Conv", "/conv/Conv", TB_L("x", "w"), TB_L("c"));
    tb_node(b, "FancyOp", "/fancy", TB_L("c"), TB_L("f"));
    tb_node(b, "Relu", "/relu", TB_L("f"), TB_L("y"));
    tb_output(b, "y");
    Onnx__NodeProto *ms = tb_node(b, "FusedConv", "/ms", TB_L("c"), TB_L("z"));
    ms->domain = tb_str(b, "com.microsoft");
    tb_output(b, "z");
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(load(b, &g, &d) == CK_OK, "unknown op: load failed");
    if (g) {
        ck_diags cd = {0};
        CHECK(ck_check(g, &cd) == CK_EINVALID, "unknown op: check did not fail");
        const ck_diag *e = first_error(&cd);
        CHECK(e && e->code == CK_UNSUPPORTED_OP && e->layer && !strcmp(e->layer, "/fancy") &&
                  e->message && strstr(e->message, "FancyOp"),
              "unknown op: want unsupported_op at /fancy naming FancyOp, got %s",
              e && e->message ? e->message : "-");
        ck_layer_info conv = ck_graph_layer(g, 0), relu = ck_graph_layer(g, 2);
        CHECK(conv.state == CK_LAYER_OK && conv.output.d[1] == 4,
              "unknown op: upstream conv not reported");
        CHECK(relu.state == CK_LAYER_NOT_REACHED,
              "unknown op: downstream relu should be not reached");
        CHECK(has_diag(&cd, CK_UNSUPPORTED_OP, "com.microsoft"),
              "unknown op: other-domain op not named");
        ck_diags_free(&cd);
    }
    ck_graph_free(g);
    ck_diags_free(&d);
}

static void test_topo_and_names(void) {
    /* nodes out of order, unnamed nodes, a duplicate name */
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_node(b, "Relu", "", TB_L("a"), TB_L("y"));
    tb_node(b, "Relu", "dup", TB_L("x"), TB_L("a0"));
    tb_node(b, "Relu", "dup", TB_L("a0"), TB_L("a"));
    tb_output(b, "y");
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(load(b, &g, &d) == CK_OK, "topo: load failed: %s", d.n ? d.v[0].message : "");
    if (g) {
        CHECK(ck_graph_num_layers(g) == 3, "topo: %d layers", ck_graph_num_layers(g));
        CHECK(!strcmp(g->nodes[0].name, "dup") && !strcmp(g->nodes[2].name, "Relu_0"),
              "topo: order/names %s %s %s", g->nodes[0].name, g->nodes[1].name, g->nodes[2].name);
        ck_diags cd = {0};
        CHECK(ck_check(g, &cd) == CK_OK, "topo: check failed");
        ck_diags_free(&cd);
    }
    ck_graph_free(g);
    ck_diags_free(&d);
}

static void test_conv_config_errors(void) {
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_init(b, "w", 4, TB_D(4, 3, 3, 3), NULL);
    Onnx__NodeProto *cv = tb_node(b, "Conv", "/c", TB_L("x", "w"), TB_L("y"));
    tb_attr_ints(b, cv, "kernel_shape", 2, TB_D(5, 5));
    tb_output(b, "y");
    expect_check_error("kernel_shape vs weight", b, CK_INVALID_CONFIG, "/c");

    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_init(b, "w", 4, TB_D(4, 3, 3, 3), NULL);
    cv = tb_node(b, "Conv", "/c", TB_L("x", "w"), TB_L("y"));
    tb_attr_ints(b, cv, "strides", 1, TB_D(2));
    tb_output(b, "y");
    expect_check_error("strides length", b, CK_INVALID_CONFIG, "/c");

    /* a weight given as a graph input (ONNX's node tests): its declared shape */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_input(b, "w", 4, TB_D(4, 3, 3, 3));
    tb_node(b, "Conv", "/c", TB_L("x", "w"), TB_L("y"));
    tb_output(b, "y");
    expect_shape("weight given as an input", b, 4, TB_D(1, 4, 6, 6));

    /* a weight computed by a layer: its shape is unknown */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_input(b, "w0", 4, TB_D(4, 3, 3, 3));
    tb_node(b, "Relu", "/r", TB_L("w0"), TB_L("w"));
    tb_node(b, "Conv", "/c", TB_L("x", "w"), TB_L("y"));
    tb_output(b, "y");
    expect_check_error("weight not constant", b, CK_UNSUPPORTED, "/c");

    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_init(b, "w", 4, TB_D(4, 3, 3, 3), NULL);
    cv = tb_node(b, "Conv", "/c", TB_L("x", "w"), TB_L("y"));
    tb_attr_str(b, cv, "auto_pad", "SAME_SIDEWAYS");
    tb_output(b, "y");
    expect_check_error("bad auto_pad", b, CK_INVALID_CONFIG, "/c");
}

/* ---- malformed input ------------------------------------------------------- */

static uint8_t *small_model(size_t *len) {
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_init(b, "w", 4, TB_D(4, 3, 3, 3), (const float[108]){0});
    Onnx__NodeProto *cv = tb_node(b, "Conv", "/c", TB_L("x", "w"), TB_L("c"));
    tb_attr_ints(b, cv, "pads", 4, TB_D(1, 1, 1, 1));
    tb_node(b, "Relu", "/r", TB_L("c"), TB_L("y"));
    tb_output(b, "y");
    uint8_t *p = tb_pack(b, len);
    tb_free(b);
    return p;
}

/* Loads bytes; success or a diagnostic, never a crash; returns the status. */
static ck_status load_bytes(const uint8_t *p, size_t n, bool *diag_ok) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_onnx(p, n, "bad.onnx", NULL, &g, &d);
    *diag_ok = st == CK_OK ? g != NULL : (g == NULL && ck_diags_errors(&d) > 0);
    if (g) {
        ck_diags cd = {0};
        ck_check(g, &cd); /* must not crash either */
        ck_diags_free(&cd);
    }
    ck_graph_free(g);
    ck_diags_free(&d);
    return st;
}

static void test_malformed(void) {
    size_t len;
    uint8_t *p = small_model(&len);
    bool ok;
    CHECK(load_bytes(p, len, &ok) == CK_OK && ok, "the intact model does not load");
    int bad_trunc = 0, loaded = 0;
    for (size_t n = 0; n < len; n++) {
        ck_status st = load_bytes(p, n, &ok);
        if (!ok) bad_trunc++;
        if (st == CK_OK) loaded++;
    }
    CHECK(bad_trunc == 0, "%d truncations gave no diagnostic", bad_trunc);
    CHECK(loaded < (int)len / 2, "%d of %zu truncations loaded as valid models", loaded, len);

    /* a deterministic corruption fuzz: flip bytes, insert garbage */
    uint64_t s = 88172645463325252ull;
    int bad_fuzz = 0;
    uint8_t *q = malloc(len);
    for (int it = 0; it < 3000; it++) {
        memcpy(q, p, len);
        int flips = 1 + it % 4;
        for (int k = 0; k < flips; k++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            q[s % len] = (uint8_t)(s >> 32);
        }
        load_bytes(q, len, &ok);
        if (!ok) bad_fuzz++;
    }
    free(q);
    CHECK(bad_fuzz == 0, "%d corrupted files gave no diagnostic", bad_fuzz);

    /* a real export (graph only, external weights): truncations and corruptions */
    FILE *f = fopen("tests/oracle/networks/resnet18.onnx", "rb");
    CHECK(f != NULL, "cannot open resnet18.onnx");
    if (f) {
        uint8_t *r = malloc(1 << 16);
        size_t rn = fread(r, 1, 1 << 16, f);
        fclose(f);
        int bad = 0;
        for (size_t n = 0; n < rn; n += 13) {
            load_bytes(r, n, &ok);
            if (!ok) bad++;
        }
        uint8_t *c = malloc(rn);
        for (int it = 0; it < 1000; it++) {
            memcpy(c, r, rn);
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            c[s % rn] = (uint8_t)(s >> 40);
            load_bytes(c, rn, &ok);
            if (!ok) bad++;
        }
        CHECK(bad == 0, "resnet18.onnx: %d truncated/corrupted files gave no diagnostic", bad);
        free(c);
        free(r);
    }

    /* graph (field 7) written as a varint: wrong wire type, with the byte offset */
    const uint8_t wrong[] = {0x08, 0x07, 0x38, 0x01};
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(ck_load_onnx(wrong, sizeof wrong, "w.onnx", NULL, &g, &d) == CK_EPARSE && !g,
          "wrong wire type loaded");
    CHECK(d.n && d.v[0].code == CK_PARSE_ERROR && strstr(d.v[0].message, "byte 2") &&
              strstr(d.v[0].message, "wire type"),
          "wrong wire type: %s", d.n ? d.v[0].message : "no diagnostic");
    ck_diags_free(&d);

    /* a file that is not protobuf at all */
    const char *text = "conv1 = Conv2d(3, 16, 3)\n";
    CHECK(ck_load_onnx((const uint8_t *)text, strlen(text), "t.onnx", NULL, &g, &d) == CK_EPARSE &&
              !g,
          "text loaded as ONNX");
    CHECK(d.n && d.v[0].code == CK_PARSE_ERROR, "text: no parse_error");
    ck_diags_free(&d);
    CHECK(ck_load_onnx(NULL, 0, "e.onnx", NULL, &g, &d) == CK_EPARSE && d.n,
          "empty input: no diagnostic");
    ck_diags_free(&d);
    free(p);

    /* a node reading an undefined value */
    tb *b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_node(b, "Relu", "/r1", TB_L("x"), TB_L("a"));
    tb_node(b, "Add", "/add", TB_L("a", "ghost"), TB_L("y"));
    tb_output(b, "y");
    expect_load_error("undefined input", b, CK_INVALID_CONFIG, "'ghost'");

    /* two nodes writing the same value */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_node(b, "Relu", "/r1", TB_L("x"), TB_L("a"));
    tb_node(b, "Relu", "/r2", TB_L("x"), TB_L("a"));
    tb_output(b, "a");
    expect_load_error("duplicate output", b, CK_INVALID_CONFIG, "'a'");

    /* a cycle */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_node(b, "Add", "/a1", TB_L("x", "c"), TB_L("b"));
    tb_node(b, "Relu", "/a2", TB_L("b"), TB_L("c"));
    tb_output(b, "c");
    expect_load_error("cycle", b, CK_INVALID_CONFIG, "cycle");

    /* a graph output nobody produces */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_node(b, "Relu", "/r1", TB_L("x"), TB_L("a"));
    tb_output(b, "nowhere");
    expect_load_error("missing output", b, CK_INVALID_CONFIG, "'nowhere'");

    /* the node limit */
    b = tb_new(13);
    tb_input(b, "x", 4, TB_D(1, 3, 8, 8));
    tb_node(b, "Relu", "/r1", TB_L("x"), TB_L("a"));
    tb_node(b, "Relu", "/r2", TB_L("a"), TB_L("c"));
    tb_node(b, "Relu", "/r3", TB_L("c"), TB_L("y"));
    tb_output(b, "y");
    ck_limits lim = {.max_nodes = 2};
    uint8_t *bytes = tb_pack(b, &len);
    tb_free(b);
    CHECK(ck_load_onnx(bytes, len, "big.onnx", &lim, &g, &d) != CK_OK && !g,
          "node limit not enforced");
    CHECK(has_diag(&d, CK_LIMIT_EXCEEDED, NULL), "node limit: no limit_exceeded diagnostic");
    ck_diags_free(&d);
    free(bytes);

    /* a model without a graph */
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = 7;
    uint8_t buf[64];
    len = onnx__model_proto__pack(&m, buf);
    CHECK(ck_load_onnx(buf, len, "nograph.onnx", NULL, &g, &d) == CK_EPARSE && d.n &&
              strstr(d.v[0].message, "no graph"),
          "model without a graph: %s", d.n ? d.v[0].message : "no diagnostic");
    ck_diags_free(&d);
}

int main(void) {
    test_view_chain(11);
    test_view_chain(13);
    test_view_chain_mismatch();
    test_resize_sizes_chain();
    test_resize_forms();
    test_pad_forms();
    test_misc_ops();
    test_constants_and_identity();
    test_initializer_data();
    test_symbols();
    test_unknown_op();
    test_topo_and_names();
    test_conv_config_errors();
    test_malformed();
    return TEST_DONE("test_onnx_import");
}
