/* The Keras JSON reader on hand-written models: every container and
 * inbound_nodes layout, nested and shared layers, Keras 1 forms, None
 * dimensions, Lambda and custom layers, and malformed input (syntax errors,
 * missing keys, wrong types, cycles, undefined layers, nesting and size
 * limits, truncated and corrupted real files) that must give a diagnostic,
 * never a crash. */
#include "convkit.h"
#include "import/import.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct res {
    ck_status st;
    ck_graph *g;
    ck_diags d;
} res;

static res load(const char *text, const ck_limits *lim) {
    res r = {0};
    r.st = ck_load_keras(text, strlen(text), "t.json", lim, &r.g, &r.d);
    return r;
}

static void done(res *r) {
    ck_graph_free(r->g);
    ck_diags_free(&r->d);
}

static const ck_diag *first_err(const ck_diags *d) {
    for (int i = 0; i < d->n; i++)
        if (d->v[i].severity == CK_SEV_ERROR) return &d->v[i];
    return NULL;
}

static int layer(const ck_graph *g, const char *name) {
    for (int i = 0; g && i < ck_graph_num_layers(g); i++)
        if (strcmp(ck_graph_layer(g, i).name, name) == 0) return i;
    return -1;
}

static bool out_is(const ck_graph *g, const char *name, const char *want) {
    int i = layer(g, name);
    if (i < 0) return false;
    ck_layer_info li = ck_graph_layer(g, i);
    char b[128];
    return li.state == CK_LAYER_OK && strcmp(ck_shape_str(&li.output, b, sizeof b), want) == 0;
}

/* Loading fails with `code`; the first error names `lay` (if given). */
static void bad(const char *text, const ck_limits *lim, ck_code code, const char *lay,
                const char *why) {
    res r = load(text, lim);
    const ck_diag *e = first_err(&r.d);
    bool ok = r.st != CK_OK && r.g == NULL && e && e->code == code &&
              (!lay || (e->layer && strcmp(e->layer, lay) == 0));
    CHECK(ok, "%s: want %s%s%s, got status %d, %s at %s: %s", why, ck_code_name(code),
          lay ? " at " : "", lay ? lay : "", (int)r.st, e ? ck_code_name(e->code) : "no error",
          e && e->layer ? e->layer : "-", e && e->message ? e->message : "");
    done(&r);
}

/* Loads and checks; returns the result for further checks. */
static res load_check(const char *text, const char *why) {
    res r = load(text, NULL);
    CHECK(r.st == CK_OK && r.g, "%s: load failed: %s", why,
          r.d.n && r.d.v[0].message ? r.d.v[0].message : "?");
    if (r.g) {
        ck_diags_free(&r.d);
        r.st = ck_check(r.g, &r.d);
    }
    return r;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[len] = 0;
    *n = (size_t)len;
    return b;
}

#define SEQ(layers)                                                                                \
    "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": [" layers "]}}"
#define FUNC(layers, in, out)                                                                      \
    "{\"class_name\": \"Functional\", \"config\": {\"name\": \"m\", \"layers\": [" layers          \
    "], \"input_layers\": " in ", \"output_layers\": " out "}}"
#define INPUT(name, shape)                                                                         \
    "{\"class_name\": \"InputLayer\", \"name\": \"" name                                           \
    "\", \"config\": {\"batch_input_shape\": " shape ", \"name\": \"" name                         \
    "\"}, \"inbound_nodes\": []}"
#define LAYER(cls, name, cfg, inbound)                                                             \
    "{\"class_name\": \"" cls "\", \"name\": \"" name "\", \"config\": " cfg                       \
    ", \"inbound_nodes\": " inbound "}"

static void containers(void) {
    /* Keras 1 bare-list Sequential with batch_input_shape on the first layer */
    res r = load_check("{\"class_name\": \"Sequential\", \"config\": [{\"class_name\": \"Dense\", "
                       "\"config\": {\"name\": \"d1\", \"output_dim\": 4, \"batch_input_shape\": "
                       "[null, 10]}}, {\"class_name\": \"Dropout\", \"config\": {\"name\": \"dr\", "
                       "\"p\": 0.5}}]}",
                       "keras1 list");
    CHECK(r.st == CK_OK && ck_graph_num_inputs(r.g) == 1 &&
              strcmp(ck_graph_input_name(r.g, 0), "input") == 0 && out_is(r.g, "d1", "[1, 4]") &&
              out_is(r.g, "dr", "[1, 4]"),
          "keras1 list Sequential");
    done(&r);
    /* Keras 1 Dense(input_dim) without batch_input_shape */
    r = load_check(SEQ("{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"output_dim\": "
                       "3, \"input_dim\": 7}}"),
                   "input_dim");
    CHECK(out_is(r.g, "d", "[1, 3]"), "Keras 1 input_dim");
    done(&r);
    /* Keras 3 Sequential without InputLayer: build_input_shape */
    r = load_check("{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": "
                   "[{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 2}}], "
                   "\"build_input_shape\": [null, 5]}}",
                   "build_input_shape");
    CHECK(out_is(r.g, "d", "[1, 2]"), "build_input_shape");
    done(&r);
    /* HDF5 model_config kept as a JSON string */
    r = load_check(
        "{\"model_config\": \"{\\\"class_name\\\": \\\"Sequential\\\", \\\"config\\\": "
        "[{\\\"class_name\\\": \\\"Flatten\\\", \\\"config\\\": {\\\"name\\\": \\\"f\\\", "
        "\\\"batch_input_shape\\\": [null, 2, 3]}}]}\"}",
        "model_config string");
    CHECK(out_is(r.g, "f", "[1, 6]"), "model_config string");
    done(&r);
    /* TF.js modelTopology without model_config */
    r = load_check("{\"format\": \"layers-model\", \"modelTopology\": {\"class_name\": "
                   "\"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"Flatten\", "
                   "\"config\": {\"name\": \"f\", \"batch_input_shape\": [null, 2, 3]}}]}}}",
                   "tfjs");
    CHECK(out_is(r.g, "f", "[1, 6]"), "tfjs modelTopology");
    done(&r);
    /* SavedModel wrappers: TensorShape and __tuple__, flat inbound nodes */
    r = load_check(
        FUNC("{\"name\": \"in\", \"class_name\": \"InputLayer\", \"config\": {\"name\": \"in\", "
             "\"batch_input_shape\": {\"class_name\": \"TensorShape\", \"items\": [null, 9, 9, "
             "1]}}, \"inbound_nodes\": []}, {\"name\": \"c\", \"class_name\": \"Conv2D\", "
             "\"config\": {\"name\": null, \"filters\": 2, \"kernel_size\": {\"class_name\": "
             "\"__tuple__\", \"items\": [3, 3]}, \"strides\": {\"class_name\": \"__tuple__\", "
             "\"items\": [2, 2]}, \"padding\": \"valid\"}, \"inbound_nodes\": [[\"in\", 0, 0]]}",
             "[[\"in\", 0, 0]]", "[[\"c\", 0, 0]]"),
        "savedmodel");
    CHECK(out_is(r.g, "c", "[1, 4, 4, 2]"), "SavedModel wrappers");
    done(&r);
}

static void functional(void) {
    /* shared layer called twice; Keras 3 args with a list for Add */
    const char *k3 = FUNC(
        INPUT("in", "[null, 4]") ", " LAYER(
            "Dense", "d", "{\"units\": 4}",
            "[{\"args\": [{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, "
            "4], \"keras_history\": [\"in\", 0, 0]}}], \"kwargs\": {}}, {\"args\": "
            "[{\"class_name\": "
            "\"__keras_tensor__\", \"config\": {\"keras_history\": [\"d\", 0, 0]}}], \"kwargs\": "
            "{}}]") ", " LAYER("Add", "a", "{}",
                               "[{\"args\": [[{\"class_name\": \"__keras_tensor__\", \"config\": "
                               "{\"keras_history\": [\"d\", 0, 0]}}, {\"class_name\": "
                               "\"__keras_tensor__\", \"config\": {\"keras_history\": [\"d\", 1, "
                               "0]}}]], \"kwargs\": {}}]"),
        "[\"in\", 0, 0]", "[\"a\", 0, 0]");
    res r = load_check(k3, "shared layer");
    CHECK(r.st == CK_OK && out_is(r.g, "d", "[1, 4]") && out_is(r.g, "d:1", "[1, 4]") &&
              out_is(r.g, "a", "[1, 4]"),
          "shared layer calls d and d:1 feed Add");
    if (r.g) {
        ck_layer_info li = ck_graph_layer(r.g, layer(r.g, "a"));
        CHECK(li.n_inputs == 2 && strcmp(li.inputs[0], "d") == 0 &&
                  strcmp(li.inputs[1], "d:1") == 0,
              "Add reads d and d:1");
    }
    done(&r);
    /* layers listed out of order: emitted in dependency order */
    r = load_check(FUNC(LAYER("Dense", "b", "{\"units\": 3}", "[[[\"a\", 0, 0, {}]]]") ", " INPUT(
                            "in", "[null, 2]") ", " LAYER("Dense", "a", "{\"units\": 5}",
                                                          "[[[\"in\", 0, 0, {}]]]"),
                        "[[\"in\", 0, 0]]", "[[\"b\", 0, 0]]"),
                   "out of order");
    CHECK(out_is(r.g, "a", "[1, 5]") && out_is(r.g, "b", "[1, 3]"), "out-of-order layers");
    done(&r);
    /* nested Sequential (no InputLayer) called with node index 0 */
    r = load_check(
        FUNC(INPUT("in",
                   "[null, 6]") ", {\"class_name\": \"Sequential\", \"name\": \"seq\", "
                                "\"config\": {\"name\": \"seq\", \"layers\": [{\"class_name\": "
                                "\"Dense\", \"config\": {\"name\": \"d\", \"units\": 2}}]}, "
                                "\"inbound_nodes\": [[[\"in\", 0, 0, {}]]]}",
             "[[\"in\", 0, 0]]", "[[\"seq\", 0, 0]]"),
        "nested sequential");
    CHECK(out_is(r.g, "seq/d", "[1, 2]") && out_is(r.g, "seq", "[1, 2]"), "nested Sequential");
    if (r.g && layer(r.g, "seq") >= 0)
        CHECK(strcmp(ck_graph_layer(r.g, layer(r.g, "seq")).type, "Sequential") == 0,
              "nested model node keeps its class name");
    done(&r);
    /* Keras 1 Merge(mode='concat') */
    r = load_check(
        FUNC(INPUT("x", "[null, 3]") ", " INPUT("y", "[null, 5]") ", " LAYER(
                 "Merge", "m", "{\"mode\": \"concat\", \"concat_axis\": -1, \"name\": \"m\"}",
                 "[[[\"x\", 0, 0], [\"y\", 0, 0]]]"),
             "[[\"x\", 0, 0], [\"y\", 0, 0]]", "[[\"m\", 0, 0]]"),
        "merge");
    CHECK(out_is(r.g, "m", "[1, 8]"), "Keras 1 Merge concat");
    done(&r);
}

static void layers_and_dims(void) {
    /* unknown class -> unsupported_op; downstream not reached */
    res r = load_check(
        SEQ(INPUT(
            "in",
            "[null, 8, 8, 3]") ", {\"class_name\": \"Conv2D\", "
                               "\"config\": {\"name\": \"c\", \"filters\": 4, \"kernel_size\": "
                               "3}}, "
                               "{\"class_name\": \"PixelShuffler\", \"config\": {\"name\": "
                               "\"ps\"}}, "
                               "{\"class_name\": \"Flatten\", \"config\": {\"name\": \"f\"}}"),
        "custom layer");
    const ck_diag *e = first_err(&r.d);
    CHECK(r.st == CK_EINVALID && out_is(r.g, "c", "[1, 6, 6, 4]") && e &&
              e->code == CK_UNSUPPORTED_OP && e->layer && strcmp(e->layer, "ps") == 0 &&
              ck_graph_layer(r.g, layer(r.g, "f")).state == CK_LAYER_NOT_REACHED,
          "custom layer stops at ps");
    done(&r);
    /* Lambda: shape-preserving with a warning; a literal output_shape stops */
    r = load_check(SEQ("{\"class_name\": \"Lambda\", \"config\": {\"name\": \"l\", \"function\": "
                       "[\"\\u0000bytes\", null, null], \"function_type\": \"lambda\", "
                       "\"output_shape\": null, \"arguments\": {}, \"batch_input_shape\": [null, "
                       "4, 4, 3]}}"),
                   "lambda");
    bool warned = false;
    for (int i = 0; i < r.d.n; i++) warned |= r.d.v[i].severity == CK_SEV_WARNING;
    CHECK(r.st == CK_OK && out_is(r.g, "l", "[1, 4, 4, 3]") && warned, "Lambda shape-preserving");
    done(&r);
    r = load_check(SEQ("{\"class_name\": \"Lambda\", \"config\": {\"name\": \"l\", "
                       "\"output_shape\": [10], \"batch_input_shape\": [null, 4]}}"),
                   "lambda output_shape");
    e = first_err(&r.d);
    CHECK(e && e->code == CK_UNSUPPORTED_OP && e->layer && strcmp(e->layer, "l") == 0,
          "Lambda with output_shape is unsupported_op");
    done(&r);
    /* wrong config types -> invalid_config at the layer, at check time */
    r = load_check(
        SEQ(INPUT(
            "in",
            "[null, 8, 8, 3]") ", {\"class_name\": \"Conv2D\", \"config\": "
                               "{\"name\": \"c\", \"filters\": \"many\", \"kernel_size\": 3}}"),
        "wrong type");
    e = first_err(&r.d);
    CHECK(e && e->code == CK_INVALID_CONFIG && e->layer && strcmp(e->layer, "c") == 0,
          "filters: 'many' is invalid_config at c");
    done(&r);
    /* unknown config keys are notes, not errors */
    r = load_check(
        SEQ(INPUT("in", "[null, 8, 8, 3]") ", {\"class_name\": \"Conv2D\", \"config\": "
                                           "{\"name\": \"c\", \"filters\": 2, \"kernel_size\": 3, "
                                           "\"future_option\": 1}}"),
        "unknown key");
    CHECK(r.st == CK_OK && out_is(r.g, "c", "[1, 6, 6, 2]"), "unknown config key tolerated");
    done(&r);
    /* None spatial dims: 0 and a symbol each; --input replaces them */
    r = load(SEQ(INPUT(
                 "in",
                 "[null, null, null, 3]") ", {\"class_name\": \"Conv2D\", \"config\": "
                                          "{\"name\": \"c\", \"filters\": 2, \"kernel_size\": 3}}"),
             NULL);
    CHECK(r.st == CK_OK && r.g, "None dims load");
    if (r.g) {
        ck_shape s = ck_graph_input_shape(r.g, 0);
        char b[64];
        CHECK(strcmp(ck_shape_str(&s, b, sizeof b), "[1, 0, 0, 3]") == 0, "None dims -> 0: %s", b);
        CHECK(ck_graph_input_channels_last(r.g, 0), "Keras input is channels-last");
        /* the open axes are symbols (check solves over them, as for ONNX) */
        const char *h = ck_graph_symbol(r.g, 0, 1), *w = ck_graph_symbol(r.g, 0, 2);
        CHECK(h && !strcmp(h, "height") && w && !strcmp(w, "width") &&
                  !ck_graph_symbol(r.g, 0, 0) && !ck_graph_symbol(r.g, 0, 3),
              "None dims: symbols height and width (%s, %s)", h ? h : "-", w ? w : "-");
        ck_shape in = {.rank = 4, .d = {1, 32, 32, 3}};
        ck_graph_set_input_shape(r.g, 0, &in);
        ck_diags_free(&r.d);
        r.st = ck_check(r.g, &r.d);
        CHECK(r.st == CK_OK && out_is(r.g, "c", "[1, 30, 30, 2]") && !ck_graph_symbol(r.g, 0, 1),
              "None dims via --input");
    }
    done(&r);
    /* no input shape anywhere: the input is declared without a shape */
    r = load(SEQ("{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", \"units\": 2}}"), NULL);
    CHECK(r.st == CK_OK && r.g && ck_graph_input_shape(r.g, 0).rank == 0, "no input shape");
    done(&r);
    /* channels_first model: the input is channels-first */
    r = load(SEQ("{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"c\", \"filters\": 2, "
                 "\"kernel_size\": 3, \"data_format\": \"channels_first\", \"batch_input_shape\": "
                 "[null, 3, 8, 8]}}"),
             NULL);
    CHECK(r.g && !ck_graph_input_channels_last(r.g, 0), "channels_first input");
    if (r.g) {
        ck_diags_free(&r.d);
        ck_check(r.g, &r.d);
        CHECK(out_is(r.g, "c", "[1, 2, 6, 6]"), "channels_first conv");
    }
    done(&r);
}

static void malformed(void) {
    res r = load("{\"class_name\": \"Sequential\",\n  \"config\": [}", NULL);
    const ck_diag *e = first_err(&r.d);
    CHECK(r.st == CK_EPARSE && e && e->code == CK_PARSE_ERROR && e->line == 2 && e->col > 0 &&
              e->file && strcmp(e->file, "t.json") == 0,
          "syntax error has file:line:col (%d:%d)", e ? e->line : -1, e ? e->col : -1);
    done(&r);
    bad("", NULL, CK_PARSE_ERROR, NULL, "empty text");
    bad("[1, 2, 3]", NULL, CK_PARSE_ERROR, NULL, "a list");
    bad("{\"class_name\": \"Sequential\"}", NULL, CK_PARSE_ERROR, NULL, "no config");
    bad("{\"class_name\": 5, \"config\": []}", NULL, CK_PARSE_ERROR, NULL,
        "class_name not a string");
    bad("{\"class_name\": \"Sequential\", \"config\": {\"layers\": 5}}", NULL, CK_PARSE_ERROR, NULL,
        "layers not a list");
    bad(SEQ("5"), NULL, CK_PARSE_ERROR, NULL, "layer not an object");
    bad(SEQ("{\"config\": {\"name\": \"x\"}}"), NULL, CK_PARSE_ERROR, "x", "no class_name");
    bad(SEQ(INPUT("in", "[null, \"a\"]")), NULL, CK_PARSE_ERROR, "in", "shape entry a string");
    bad(SEQ(INPUT("in", "5")), NULL, CK_PARSE_ERROR, "in", "shape not a list");
    bad(SEQ(INPUT("in", "[null, 1, 1, 1, 1, 1, 1, 1, 1, 1]")), NULL, CK_LIMIT_EXCEEDED, "in",
        "rank 10");
    bad(FUNC(INPUT("in", "[null, 2]") ", " LAYER("Dense", "b", "{\"units\": 1}",
                                                 "[[[\"nowhere\", 0, 0, {}]]]"),
             "[[\"in\", 0, 0]]", "[[\"b\", 0, 0]]"),
        NULL, CK_PARSE_ERROR, "b", "undefined layer");
    bad(FUNC(INPUT("in", "[null, 2]") ", " LAYER(
                 "Dense", "a", "{\"units\": 1}",
                 "[[[\"b\", 0, 0, {}]]]") ", " LAYER("Dense", "b", "{\"units\": 1}",
                                                     "[[[\"a\", 0, 0, {}]]]"),
             "[[\"in\", 0, 0]]", "[[\"b\", 0, 0]]"),
        NULL, CK_PARSE_ERROR, NULL, "cycle");
    bad(FUNC(INPUT("in", "[null, 2]") ", " LAYER("Dense", "a", "{\"units\": 1}",
                                                 "[[[\"a\", 0, 0, {}]]]"),
             "[[\"in\", 0, 0]]", "[[\"a\", 0, 0]]"),
        NULL, CK_PARSE_ERROR, "a", "self loop");
    bad(FUNC(INPUT("in", "[null, 2]") ", " LAYER(
                 "Dense", "a", "{\"units\": 1}",
                 "[[[\"in\", 0, 0, {}]]]") ", " LAYER("Dense", "b", "{\"units\": 1}",
                                                      "[[[\"a\", 3, 0, {}]]]"),
             "[[\"in\", 0, 0]]", "[[\"b\", 0, 0]]"),
        NULL, CK_PARSE_ERROR, "b", "node index out of range");
    bad(FUNC(INPUT("in", "[null, 2]") ", " LAYER("Dense", "a", "{\"units\": 1}", "\"x\""),
             "[[\"in\", 0, 0]]", "[[\"a\", 0, 0]]"),
        NULL, CK_PARSE_ERROR, "a", "inbound_nodes a string");
    bad(FUNC(INPUT("in", "[null, 2]") ", " LAYER("Dense", "a", "{\"units\": 1}", "[[[1, 0, 0]]]"),
             "[[\"in\", 0, 0]]", "[[\"a\", 0, 0]]"),
        NULL, CK_PARSE_ERROR, "a", "inbound layer name a number");
    bad(FUNC(INPUT("in", "[null, 2]") ", " LAYER(
                 "Dense", "a", "{\"units\": 1}",
                 "[[[\"in\", 0, 0, {}]]]") ", " LAYER("Dense", "a", "{\"units\": 1}",
                                                      "[[[\"in\", 0, 0, {}]]]"),
             "[[\"in\", 0, 0]]", "[[\"a\", 0, 0]]"),
        NULL, CK_PARSE_ERROR, "a", "duplicate layer name");
    bad(SEQ(INPUT("in", "[null, 2]") ", {\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", "
                                     "\"units\": 1}}, {\"class_name\": \"Dense\", \"config\": "
                                     "{\"name\": \"d\", \"units\": 1}}"),
        NULL, CK_INVALID_CONFIG, "d", "duplicate name in a Sequential");
    /* nesting limits */
    char deep[4096];
    size_t k = 0;
    k += (size_t)snprintf(deep, sizeof deep, "{\"class_name\": \"Sequential\", \"config\": [");
    for (int i = 0; i < 100; i++) deep[k++] = '[';
    for (int i = 0; i < 100; i++) deep[k++] = ']';
    snprintf(deep + k, sizeof deep - k, "]}");
    bad(deep, NULL, CK_LIMIT_EXCEEDED, NULL, "nesting 100 > 64");
    ck_limits lim = {.max_depth = 3};
    bad(SEQ(INPUT("in", "[null, 2]")), &lim, CK_LIMIT_EXCEEDED, NULL, "max_depth 3");
    /* layer count limit */
    size_t n;
    char *big = slurp("tests/keras/json/k2_unet.json", &n);
    CHECK(big != NULL, "read k2_unet.json");
    if (big) {
        ck_limits few = {.max_nodes = 10};
        bad(big, &few, CK_LIMIT_EXCEEDED, NULL, "max_nodes 10");
        free(big);
    }
}

/* Truncations and byte corruptions of whole models (Keras 3 with a nested
 * Sequential, Keras 2 functional, TF.js, Keras 1; tests/keras/gen_json.py):
 * a diagnostic or a graph, never a crash (run under ASan by `make asan`). */
static void robustness(void) {
    const char *files[] = {
        "tests/keras/json/k3_nested.json", "tests/keras/json/k2_cropping_unet.json",
        "tests/keras/json/tfjs_seq.json", "tests/keras/json/k1_th_seq.json", NULL};
    int truncated_ok = 0, truncated = 0, flipped = 0, flips = 0;
    for (int fi = 0; files[fi]; fi++) {
        size_t n;
        char *buf = slurp(files[fi], &n);
        CHECK(buf != NULL, "read %s", files[fi]);
        if (!buf) continue;
        for (size_t cut = 0; cut < n; cut += 1 + n / 97) {
            ck_graph *g = NULL;
            ck_diags d = {0};
            ck_status st = ck_load_keras(buf, cut, files[fi], NULL, &g, &d);
            truncated++;
            truncated_ok +=
                st == CK_EPARSE && !g && first_err(&d) && first_err(&d)->code == CK_PARSE_ERROR;
            ck_graph_free(g);
            ck_diags_free(&d);
        }
        static const char subst[] = "\"{}[],:0-x\\n";
        for (size_t pos = 0; pos < n; pos += 1 + n / 131) {
            char *copy = malloc(n + 1);
            if (!copy) break;
            memcpy(copy, buf, n + 1);
            copy[pos] = subst[pos % (sizeof subst - 1)];
            ck_graph *g = NULL;
            ck_diags d = {0};
            ck_status st = ck_load_keras(copy, n, files[fi], NULL, &g, &d);
            if (st == CK_OK && g) {
                ck_diags_free(&d);
                ck_check(g, &d);
            }
            flips++;
            flipped += (st == CK_OK) == (g != NULL) && (st == CK_OK || first_err(&d));
            ck_graph_free(g);
            ck_diags_free(&d);
            free(copy);
        }
        free(buf);
    }
    CHECK(truncated_ok == truncated, "every truncation is a parse_error (%d of %d)", truncated_ok,
          truncated);
    CHECK(flipped == flips && flips > 400, "corrupted copies give a graph or an error (%d of %d)",
          flipped, flips);
}

int main(void) {
    containers();
    functional();
    layers_and_dims();
    malformed();
    robustness();
    return TEST_DONE("keras_import");
}
