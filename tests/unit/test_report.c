/* The reports the library renders (ck_report): every kind in every format
 * it has, on the seed chain at 7x7 (invalid) and 32x32 (valid); the JSON
 * documents parse and carry the fields DESIGN.md promises; the text carries
 * the explanation; formats a kind lacks are refused; the graph reported on
 * is left as it was, also with several threads reporting at once; and the
 * structured fixes (fix_details) give the exact arguments to write. */
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"check", "summary", "sizes", "fix"};
static const char *const fmt_names[] = {"text", "json", "md", "svg"};

static ck_graph *load_chain(int side) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_file("examples/chain.cnn", NULL, &g, &d);
    CHECK(st == CK_OK && g, "load examples/chain.cnn: %d", (int)st);
    ck_diags_free(&d);
    if (!g) return NULL;
    ck_shape s = {4, {1, 3, side, side}};
    CHECK(ck_graph_set_input_shape(g, 0, &s) == CK_OK, "set input %dx%d", side, side);
    return g;
}

static ck_graph *parse(const char *text) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(ck_parse_cnn(text, strlen(text), "t.cnn", NULL, &g, &d) == CK_OK && g, "parse: %s", text);
    ck_diags_free(&d);
    return g;
}

static bool has_keys(json_t *o, const char *const *keys) {
    bool ok = json_is_object(o);
    for (int i = 0; ok && keys[i]; i++) {
        ok = json_object_get(o, keys[i]) != NULL;
        if (!ok) fprintf(stderr, "  missing \"%s\"\n", keys[i]);
    }
    return ok;
}

static bool has(const char *text, const char *part) {
    return text && strstr(text, part);
}

/* The DESIGN.md / README fields of each JSON document. */
static void check_json(ck_report_kind kind, const char *text, bool valid) {
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    CHECK(j, "%s JSON parses: %s", kind_names[kind], err.text);
    if (!j) return;
    static const char *const top[] = {"model", "dialect", "input", "ok", NULL};
    CHECK(has_keys(j, top), "%s JSON top fields", kind_names[kind]);
    CHECK(json_is_boolean(json_object_get(j, "ok")) &&
              json_boolean_value(json_object_get(j, "ok")) == valid,
          "%s ok is %d", kind_names[kind], valid);
    CHECK(!strcmp(json_string_value(json_object_get(j, "model")), "chain.cnn"),
          "model is the name given");
    json_t *diags = json_object_get(j, "diagnostics");
    CHECK(json_is_array(diags), "%s has diagnostics", kind_names[kind]);
    static const char *const dkeys[] = {"severity", "code",  "layer", "op",          "axis",
                                        "message",  "fixes", "notes", "fix_details", NULL};
    for (size_t i = 0; i < json_array_size(diags); i++)
        CHECK(has_keys(json_array_get(diags, i), dkeys), "%s diagnostic %zu fields",
              kind_names[kind], i);
    if (kind == CK_REPORT_CHECK || kind == CK_REPORT_SUMMARY) {
        static const char *const lkeys[] = {
            "name",         "op",     "canonical_op", "inputs", "status",
            "output_shape", "params", "macs",         "ops",    NULL};
        json_t *layers = json_object_get(j, "layers");
        CHECK(json_array_size(layers) == 4, "%s lists 4 layers", kind_names[kind]);
        for (size_t i = 0; i < json_array_size(layers); i++)
            CHECK(has_keys(json_array_get(layers, i), lkeys), "layer %zu fields", i);
        CHECK(json_is_array(json_object_get(j, "inputs")), "inputs");
    }
    if (kind == CK_REPORT_SUMMARY) {
        static const char *const skeys[] = {"totals", NULL};
        CHECK(has_keys(j, skeys), "summary totals");
        json_t *l0 = json_array_get(json_object_get(j, "layers"), 0);
        CHECK(json_object_get(l0, "receptive_field"), "summary receptive_field");
    }
    if (kind == CK_REPORT_SIZES) {
        static const char *const zkeys[] = {"range",        "min_square",   "next_square",
                                            "valid_square", "clean_square", "square_output",
                                            "failures",     "axes",         NULL};
        CHECK(has_keys(j, zkeys), "sizes fields");
        CHECK(json_integer_value(json_object_get(j, "min_square")) == 15, "min_square 15");
        json_t *ax = json_array_get(json_object_get(j, "axes"), 0);
        static const char *const akeys[] = {"name", "min", "valid", NULL};
        CHECK(has_keys(ax, akeys), "sizes axis fields");
    }
    if (kind == CK_REPORT_FIX) {
        static const char *const fkeys[] = {"fixes", "checks", "written", NULL};
        CHECK(has_keys(j, fkeys), "fix fields");
        CHECK(json_array_size(json_object_get(j, "fixes")) == (valid ? 0u : 4u), "fix count");
    }
    if (kind == CK_REPORT_CHECK && !valid) {
        json_t *d0 = json_array_get(diags, 0);
        CHECK(!strcmp(json_string_value(json_object_get(d0, "code")), "output_too_small"),
              "the chain fails with output_too_small");
        CHECK(json_array_size(json_object_get(d0, "fixes")) == 4 &&
                  json_array_size(json_object_get(d0, "fix_details")) == 4,
              "four fixes, as text and as details");
    }
    json_decref(j);
}

static void check_text(ck_report_kind kind, ck_format fmt, const char *text, bool valid) {
    const char *k = kind_names[kind];
    if (fmt == CK_FORMAT_SVG) {
        CHECK(!strncmp(text, "<svg", 4) || !strncmp(text, "<?xml", 5), "SVG document");
        CHECK(has(text, "</svg>\n"), "SVG closes");
        return;
    }
    if (fmt == CK_FORMAT_MD) {
        CHECK(has(text, "| Layer (type) |"), "Markdown table");
        return;
    }
    switch (kind) {
    case CK_REPORT_CHECK:
        CHECK(has(text, "model: chain.cnn (pytorch)\n"), "check names the model");
        CHECK(has(text, valid ? "ok: 4 layers, output [1, 64, 3, 3]\n" : "invalid: 1 error\n"),
              "check verdict");
        break;
    case CK_REPORT_SUMMARY:
        CHECK(has(text, "Total params: "), "summary totals");
        break;
    case CK_REPORT_SIZES:
        CHECK(has(text, "out = floor((in - 15) / 8) + 1"), "sizes formula");
        break;
    case CK_REPORT_FIX:
        CHECK(has(text, valid ? "is valid: output [1, 64, 3, 3]; nothing to fix" : "(4 fixes from"),
              "fix verdict");
        break;
    }
    if (!valid && (kind == CK_REPORT_CHECK || kind == CK_REPORT_FIX)) {
        CHECK(has(text, "error: conv3 (Conv2d): output height would be 0"), "%s error line", k);
        CHECK(has(text, "  height = floor((1 + 0 + 0 - 1*(3-1) - 1) / 2) + 1 = floor(-2 / 2) + 1 "
                        "= 0\n"),
              "%s formula line", k);
        CHECK(has(text, "  height shrank: input 7 -> conv1 3 -> conv2 1 -> conv3 0\n"),
              "%s shrink line", k);
        CHECK(has(text, "  conv3: padding=1 (output [1, 64, 1, 1]; the smallest padding that "
                        "fits)\n"),
              "%s fix line", k);
    }
}

static ck_layer_state *states_of(const ck_graph *g) {
    int n = ck_graph_num_layers(g);
    ck_layer_state *s = calloc((size_t)n + 1, sizeof *s);
    for (int i = 0; s && i < n; i++) s[i] = ck_graph_layer(g, i).state;
    return s;
}

static void every_kind_and_format(int side) {
    bool valid = side == 32;
    ck_graph *g = load_chain(side);
    if (!g) return;
    ck_diags d = {0};
    CHECK(ck_check(g, &d) == (valid ? CK_OK : CK_EINVALID), "check at %d", side);
    ck_diags_free(&d);
    ck_layer_state *before = states_of(g);
    ck_layer_info last0 = ck_graph_layer(g, 3);
    ck_report_options opt = {.model = "chain.cnn"};
    for (int k = CK_REPORT_CHECK; k <= CK_REPORT_FIX; k++)
        for (int f = CK_FORMAT_TEXT; f <= CK_FORMAT_SVG; f++) {
            bool has_fmt = f <= CK_FORMAT_JSON || k == CK_REPORT_SUMMARY;
            char *out = (char *)"unset";
            ck_status st = ck_report(g, (ck_report_kind)k, (ck_format)f, &opt, &out);
            if (!has_fmt) {
                CHECK(st == CK_EUSAGE && !out, "%s has no %s format", kind_names[k], fmt_names[f]);
                continue;
            }
            /* sizes: some size in the range is valid at either input */
            ck_status want = valid || k == CK_REPORT_SIZES ? CK_OK : CK_EINVALID;
            CHECK(st == want && out, "%s %s at %d: status %d", kind_names[k], fmt_names[f], side,
                  (int)st);
            if (!out) continue;
            if (f == CK_FORMAT_JSON)
                check_json((ck_report_kind)k, out, k == CK_REPORT_SIZES || valid);
            else
                check_text((ck_report_kind)k, (ck_format)f, out, valid);
            ck_free(out);
        }
    /* the graph is as it was: the reports checked their own copies */
    ck_layer_state *after = states_of(g);
    CHECK(before && after && !memcmp(before, after, 4 * sizeof *before),
          "layer states unchanged at %d", side);
    ck_layer_info last1 = ck_graph_layer(g, 3);
    CHECK(last0.state == last1.state && !memcmp(&last0.output, &last1.output, sizeof last0.output),
          "last layer's result unchanged");
    ck_shape in = ck_graph_input_shape(g, 0);
    CHECK(in.rank == 4 && in.d[2] == side && in.d[3] == side, "input shape unchanged");
    free(before);
    free(after);
    ck_graph_free(g);
}

/* opt NULL: the defaults, the model named by the graph's source */
static void null_options(void) {
    ck_graph *g = load_chain(7);
    if (!g) return;
    char *out = NULL;
    CHECK(ck_report(g, CK_REPORT_CHECK, CK_FORMAT_TEXT, NULL, &out) == CK_EINVALID && out,
          "check, opt NULL");
    CHECK(has(out, "model: examples/chain.cnn (pytorch)\n"), "the source name: %s", out);
    CHECK(has(out, "fixes, each re-checked on the whole network:\n"), "fixes by default");
    CHECK(!has(out, "\033["), "no colour by default");
    ck_free(out);
    ck_report_options opt = {.no_fixes = true, .color = true};
    CHECK(ck_report(g, CK_REPORT_CHECK, CK_FORMAT_TEXT, &opt, &out) == CK_EINVALID && out,
          "check, no_fixes");
    CHECK(!has(out, "fixes, each re-checked"), "no_fixes skips the search");
    CHECK(has(out, "\033[1;31merror\033[0m: conv3"), "colour on the error header");
    ck_free(out);
    opt = (ck_report_options){.lo = 10, .hi = 20};
    CHECK(ck_report(g, CK_REPORT_SIZES, CK_FORMAT_JSON, &opt, &out) == CK_OK && out, "sizes 10:20");
    CHECK(has(out, "\"range\": [\n    10,\n    20\n  ]"), "the range scanned");
    ck_free(out);
    opt = (ck_report_options){.as = CK_DIALECT_KERAS};
    CHECK(ck_report(g, CK_REPORT_CHECK, CK_FORMAT_JSON, &opt, &out) == CK_EINVALID && out,
          "check --as keras");
    CHECK(has(out, "\"as\": {\n    \"dialect\": \"keras\""), "the --as section");
    ck_free(out);
    ck_graph_free(g);
}

static void refusals(void) {
    ck_graph *g = load_chain(7);
    if (!g) return;
    char *out = (char *)"unset";
    CHECK(ck_report(g, (ck_report_kind)99, CK_FORMAT_TEXT, NULL, &out) == CK_EUSAGE && !out,
          "unknown kind");
    out = (char *)"unset";
    CHECK(ck_report(g, CK_REPORT_CHECK, (ck_format)42, NULL, &out) == CK_EUSAGE && !out,
          "unknown format");
    CHECK(ck_report(NULL, CK_REPORT_CHECK, CK_FORMAT_TEXT, NULL, &out) == CK_EUSAGE && !out,
          "NULL graph");
    CHECK(ck_report(g, CK_REPORT_CHECK, CK_FORMAT_TEXT, NULL, NULL) == CK_EUSAGE, "NULL out");
    /* a scan that cannot run: the failure in the format asked for */
    ck_report_options bad = {.lo = 20, .hi = 10};
    CHECK(ck_report(g, CK_REPORT_SIZES, CK_FORMAT_JSON, &bad, &out) == CK_EUSAGE && out,
          "bad range");
    CHECK(has(out, "\"ok\": false") && has(out, "\"layers\": []") && has(out, "is not 1 <= A <= B"),
          "the failure object: %s", out);
    ck_free(out);
    ck_graph_free(g);
    /* an input without a shape: check cannot run */
    g = parse("conv1 = Conv2d(3, 8, 3)\n");
    if (!g) return;
    CHECK(ck_report(g, CK_REPORT_CHECK, CK_FORMAT_TEXT, NULL, &out) == CK_EUSAGE && out,
          "no input shape");
    CHECK(has(out, "error: input (input): the input 'input' has no shape"), "why: %s", out);
    ck_free(out);
    ck_graph_free(g);
}

static void failure_and_diags(void) {
    ck_diags d = {0};
    ck_diag *dg = ck_diags_append(&d, CK_SEV_ERROR, CK_INVALID_CONFIG, "x", "input", "bad input");
    CHECK(dg && ck_diag_append_note(dg, "a note"), "append");
    ck_diags_append(&d, CK_SEV_WARNING, CK_NOTE, NULL, NULL, "a warning");
    char *out = NULL;
    CHECK(ck_report_failure("m.cnn", &d, CK_FORMAT_JSON, false, &out) == CK_OK && out, "failure");
    CHECK(!strcmp(out, "{\n  \"model\": \"m.cnn\",\n  \"ok\": false,\n  \"layers\": [],\n"
                       "  \"diagnostics\": [\n    {\n      \"severity\": \"error\","
                       "\n      \"code\": \"invalid_config\",\n      \"layer\": \"x\",\n"
                       "      \"op\": \"input\",\n      \"axis\": null,\n      \"message\": "
                       "\"bad input\",\n      \"formula\": null,\n      \"input\": null,\n"
                       "      \"shrink\": null,\n      \"notes\": [\n        \"a note\"\n"
                       "      ],\n      \"fixes\": [],\n      \"fix_details\": []\n    },\n"
                       "    {\n      \"severity\": \"warning\",\n      \"code\": \"note\",\n"
                       "      \"layer\": null,\n      \"op\": null,\n      \"axis\": null,\n"
                       "      \"message\": \"a warning\",\n      \"formula\": null,\n"
                       "      \"input\": null,\n      \"shrink\": null,\n      \"notes\": [],\n"
                       "      \"fixes\": [],\n      \"fix_details\": []\n    }\n  ]\n}\n"),
          "failure JSON:\n%s", out);
    ck_free(out);
    CHECK(ck_report_failure("m.cnn", &d, CK_FORMAT_TEXT, false, &out) == CK_OK && out, "text");
    CHECK(!strcmp(out, "error: x (input): bad input\n  a note\nwarning: a warning\n"), "text: %s",
          out);
    ck_free(out);
    char *t = ck_diags_text(&d, true);
    CHECK(has(t, "\033[1;31merror\033[0m: x (input): bad input\n") &&
              has(t, "\033[1;33mwarning\033[0m: a warning\n"),
          "colours: %s", t);
    ck_free(t);
    t = ck_diags_json(NULL);
    CHECK(t && !strcmp(t, "[]\n"), "no diagnostics: %s", t);
    ck_free(t);
    t = ck_diags_text(NULL, false);
    CHECK(t && !*t, "no diagnostics as text");
    ck_free(t);
    ck_diags_free(&d);
}

/* The fix with this change in a fix report's JSON, or NULL. */
static json_t *fix_named(json_t *doc, const char *change) {
    json_t *fixes = json_object_get(doc, "fixes");
    for (size_t i = 0; i < json_array_size(fixes); i++) {
        json_t *f = json_array_get(fixes, i);
        const char *c = json_string_value(json_object_get(f, "change"));
        if (c && !strcmp(c, change)) return f;
    }
    return NULL;
}

/* v written compactly is `want`; says what it is when not (unless quiet). */
static bool json_matches(json_t *v, const char *want, bool quiet) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    bool ok = s && !strcmp(s, want);
    if (!ok && !quiet) fprintf(stderr, "  got %s, want %s\n", s ? s : "(null)", want);
    free(s);
    return ok;
}

static bool json_is(json_t *v, const char *want) {
    return json_matches(v, want, false);
}

static void fix_details(void) {
    /* LeNet at 64x64: Linear(400, 10) receives 16 * 13 * 13 = 2704 features */
    ck_graph *g = parse("input: [1, 3, 64, 64]\n"
                        "conv1 = Conv2d(3, 6, 5)\n"
                        "pool1 = MaxPool2d(2)\n"
                        "conv2 = Conv2d(6, 16, 5)\n"
                        "pool2 = MaxPool2d(2)\n"
                        "flatten = Flatten()\n"
                        "fc = Linear(400, 10)\n");
    if (!g) return;
    char *out = NULL;
    CHECK(ck_report(g, CK_REPORT_FIX, CK_FORMAT_JSON, NULL, &out) == CK_EINVALID && out, "fix");
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    CHECK(j, "fix JSON parses");
    json_t *f = fix_named(j, "in_features=2704");
    CHECK(f, "the in_features fix:\n%s", out);
    if (f) {
        CHECK(json_is(json_object_get(f, "kind"), "\"layer\""), "kind layer");
        CHECK(json_is(json_object_get(f, "layer"), "\"fc\""), "layer fc");
        CHECK(json_is(json_object_get(f, "args"), "{\"in_features\":2704}"), "args");
    }
    f = fix_named(j, "insert flatten_pool = AdaptiveAvgPool2d((5, 5)) before flatten");
    CHECK(f, "the adaptive pooling fix");
    if (f) {
        CHECK(json_is(json_object_get(f, "args"), "{\"output_size\":[5,5]}"), "inserted args");
        CHECK(json_is(json_object_get(f, "insert_name"), "\"flatten_pool\""), "insert_name");
        CHECK(json_is(json_object_get(f, "insert_type"), "\"AdaptiveAvgPool2d\""), "insert_type");
        CHECK(json_is(json_object_get(f, "layer_args"), "{}"), "flatten itself unchanged");
    }
    json_decref(j);
    ck_free(out);
    /* the check report carries the same objects under the diagnostic */
    CHECK(ck_report(g, CK_REPORT_CHECK, CK_FORMAT_JSON, NULL, &out) == CK_EINVALID && out, "check");
    j = out ? json_loads(out, 0, NULL) : NULL;
    json_t *d0 = json_array_get(json_object_get(j, "diagnostics"), 0);
    json_t *det = json_object_get(d0, "fix_details");
    CHECK(json_array_size(det) == json_array_size(json_object_get(d0, "fixes")) &&
              json_array_size(det) > 0,
          "one detail per fix");
    bool found = false;
    for (size_t i = 0; i < json_array_size(det); i++)
        found |= json_matches(json_object_get(json_array_get(det, i), "args"),
                              "{\"in_features\":2704}", true);
    CHECK(found, "in_features in fix_details");
    json_decref(j);
    ck_free(out);
    ck_graph_free(g);

    /* padding: the chain at 7x7; the input fix gives the shape */
    g = load_chain(7);
    if (!g) return;
    CHECK(ck_report(g, CK_REPORT_CHECK, CK_FORMAT_JSON, NULL, &out) == CK_EINVALID && out, "check");
    j = out ? json_loads(out, 0, NULL) : NULL;
    det = json_object_get(json_array_get(json_object_get(j, "diagnostics"), 0), "fix_details");
    CHECK(json_array_size(det) == 4, "four details");
    CHECK(json_is(json_object_get(json_array_get(det, 0), "args"), "{\"input\":[1,3,15,15]}"),
          "input args");
    json_t *p = json_array_get(det, 1);
    CHECK(json_is(json_object_get(p, "change"), "\"padding=1\"") &&
              json_is(json_object_get(p, "layer"), "\"conv3\"") &&
              json_is(json_object_get(p, "args"), "{\"padding\":1}"),
          "padding args");
    CHECK(json_is(json_object_get(json_array_get(det, 2), "args"), "{\"kernel_size\":1}"),
          "kernel args");
    CHECK(json_is(json_object_get(json_array_get(det, 3), "kind"), "\"upstream\"") &&
              json_is(json_object_get(json_array_get(det, 3), "args"), "{\"padding\":2}"),
          "upstream padding args");
    json_decref(j);
    ck_free(out);
    /* the same object from ck_find_fixes + ck_fix_json */
    ck_fixes fx = {0};
    CHECK(ck_find_fixes(g, &fx, NULL) == CK_OK && fx.n == 4, "find fixes");
    if (fx.n == 4) {
        CHECK(fx.v[1].n_args == 1 && !strcmp(fx.v[1].args[0], "padding"), "ck_fix.args");
        char *t = ck_fix_json(&fx.v[1]);
        CHECK(has(t, "\"args\": {\n    \"padding\": 1\n  }"), "ck_fix_json: %s", t);
        ck_free(t);
    }
    /* ck_report_fixes: given fixes, and a written file */
    ck_diags wd = {0};
    ck_report_options opt = {.model = "chain.cnn"};
    CHECK(ck_report_fixes(g, &fx, "out.cnn", &wd, CK_FORMAT_TEXT, &opt, &out) == CK_EINVALID && out,
          "report_fixes");
    CHECK(has(out, "(4 fixes from") &&
              has(out, "wrote out.cnn with the first fix; check it: convkit check out.cnn\n"),
          "written: %s", out);
    ck_free(out);
    ck_fixes_free(&fx);
    ck_graph_free(g);

    /* an ONNX-free insertion that also edits the layer: 'same' with a stride */
    g = parse("input: [1, 3, 28, 28]\nconv = Conv2d(3, 16, 3, stride=2, padding='same')\n");
    if (!g) return;
    CHECK(ck_report(g, CK_REPORT_FIX, CK_FORMAT_JSON, NULL, &out) == CK_EINVALID && out, "fix");
    j = out ? json_loads(out, 0, NULL) : NULL;
    f = fix_named(j, "insert conv_pad = ZeroPad2d((0, 1, 0, 1)) before conv and set padding=0");
    CHECK(f, "ZeroPad fix:\n%s", out);
    if (f) {
        CHECK(json_is(json_object_get(f, "args"), "{\"padding\":[0,1,0,1]}"), "ZeroPad2d args");
        CHECK(json_is(json_object_get(f, "layer_args"), "{\"padding\":0}"), "conv's padding");
    }
    json_decref(j);
    ck_free(out);
    ck_graph_free(g);
}

/* Several threads report on one graph at once and agree with one thread. */
typedef struct job {
    const ck_graph *g;
    ck_report_kind kind;
    char *out;
} job;

static void *run_job(void *p) {
    job *jb = p;
    ck_report(jb->g, jb->kind, CK_FORMAT_JSON, NULL, &jb->out);
    return NULL;
}

static void threads(void) {
    ck_graph *g = load_chain(7);
    if (!g) return;
    char *want[4] = {0};
    for (int k = 0; k < 4; k++) ck_report(g, (ck_report_kind)k, CK_FORMAT_JSON, NULL, &want[k]);
    enum { N = 8 };
    job jobs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (job){.g = g, .kind = (ck_report_kind)(i % 4)};
        CHECK(pthread_create(&th[i], NULL, run_job, &jobs[i]) == 0, "thread %d", i);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        bool same = jobs[i].out && want[i % 4] && !strcmp(jobs[i].out, want[i % 4]);
        CHECK(same, "thread %d agrees (%s)", i, kind_names[i % 4]);
        ck_free(jobs[i].out);
    }
    for (int k = 0; k < 4; k++) ck_free(want[k]);
    ck_graph_free(g);
}

int main(void) {
    every_kind_and_format(7);
    every_kind_and_format(32);
    null_options();
    refusals();
    failure_and_diags();
    fix_details();
    threads();
    return TEST_DONE("report");
}
