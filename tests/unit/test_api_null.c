/* The public API with NULL arguments. Every optional argument (a ck_diags,
 * a ck_limits, options, a name used only in messages) may be NULL and the
 * call still works, its status unchanged; a NULL object or out-pointer the
 * call needs gives CK_EUSAGE (getters: an empty result), never a crash.
 *
 * Each case runs in a child process, so a crash is one failed check naming
 * the case and the other cases still run; under ASan a leak in the child
 * (a local diagnostics list not freed) fails its case too. The last check
 * reads include/convkit.h and fails when a CK_API function is not called
 * here, so the promise covers functions added later. */
#include "convkit.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Inside a case: a failed expectation prints and ends the case. */
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: %s\n", __FILE__, __LINE__, #cond);                           \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
            *len = fread(buf, 1, (size_t)n, f);
            buf[*len] = 0;
        }
    }
    fclose(f);
    return buf;
}

static const char *const CNN = "examples/chain.cnn"; /* fails at its 7x7 input */
static const char *const ONNX = "tests/oracle/networks/chain.onnx";
static const char *const KERAS = "tests/keras/json/k2_seq_cnn.json";
static const char *const NPY = "tests/oracle/networks/reference/chain.input.npy";

/* examples/chain.cnn at 1x3x32x32, checked: a valid graph. */
static ck_graph *valid_chain(void) {
    ck_graph *g = NULL;
    ck_shape s = {4, {1, 3, 32, 32}};
    if (ck_load_file(CNN, NULL, &g, NULL) != CK_OK || ck_graph_set_input_shape(g, 0, &s) != CK_OK ||
        ck_check(g, NULL) != CK_OK) {
        ck_graph_free(g);
        return NULL;
    }
    return g;
}

/* ---- core ------------------------------------------------------------------ */

static bool case_core(void) {
    EXPECT(ck_version() && !strcmp(ck_version(), CONVKIT_VERSION_STRING));
    EXPECT(!strcmp(ck_code_name(CK_CODE_COUNT), "unknown"));
    EXPECT(!strcmp(ck_dialect_name((ck_dialect)99), "none"));
    ck_diags_free(NULL);
    EXPECT(ck_diags_errors(NULL) == 0);
    ck_limits l = ck_limits_resolve(NULL);
    EXPECT(l.max_nodes > 0 && l.max_file_bytes > 0 && l.max_sizes > 0);
    char buf[32] = "x";
    EXPECT(ck_shape_str(NULL, buf, sizeof buf) == buf && buf[0] == 0);
    ck_shape s = {2, {1, 2}};
    EXPECT(ck_shape_str(&s, NULL, 10) == NULL);
    EXPECT(!ck_parse_shape(NULL, &s));
    EXPECT(!ck_parse_shape("1x2", NULL));
    return true;
}

/* ---- loaders --------------------------------------------------------------- */

static bool case_load_file(void) {
    ck_graph *g = (ck_graph *)1;
    EXPECT(ck_load_file(CNN, NULL, &g, NULL) == CK_OK && g);
    ck_graph_free(g);
    EXPECT(ck_load_file(ONNX, NULL, &g, NULL) == CK_OK && g);
    ck_graph_free(g);
    EXPECT(ck_load_file(KERAS, NULL, &g, NULL) == CK_OK && g);
    ck_graph_free(g);
    EXPECT(ck_load_file("tests/no/such/model.onnx", NULL, &g, NULL) == CK_EIO && !g);
    g = (ck_graph *)1;
    EXPECT(ck_load_file(NULL, NULL, &g, NULL) == CK_EUSAGE && !g);
    EXPECT(ck_load_file(CNN, NULL, NULL, NULL) == CK_EUSAGE);
    ck_limits tiny = {.max_file_bytes = 16};
    EXPECT(ck_load_file(ONNX, &tiny, &g, NULL) == CK_EPARSE && !g);
    return true;
}

/* One in-memory loader on a file's bytes: NULL name, limits and diags. */
typedef ck_status (*mem_loader)(const void *, size_t, const char *, const ck_limits *, ck_graph **,
                                ck_diags *);

static bool mem_case(mem_loader load, const char *path) {
    size_t n = 0;
    char *b = slurp(path, &n);
    EXPECT(b);
    ck_graph *g = NULL;
    ck_status st = load(b, n, NULL, NULL, &g, NULL);
    free(b); /* the graph keeps no pointer into the bytes */
    EXPECT(st == CK_OK && g);
    EXPECT(ck_graph_num_layers(g) > 0);
    ck_graph_free(g);
    g = (ck_graph *)1;
    EXPECT(load(NULL, 10, "x", NULL, &g, NULL) == CK_EUSAGE && !g);
    g = (ck_graph *)1;
    EXPECT(load(NULL, 0, "x", NULL, &g, NULL) == CK_EPARSE && !g); /* empty: no model */
    EXPECT(load("x", 1, NULL, NULL, NULL, NULL) == CK_EUSAGE);
    /* bad bytes: a parse error reported by status alone */
    static const char junk[] = "\x01\x02{ not a model";
    EXPECT(load(junk, sizeof junk - 1, NULL, NULL, &g, NULL) == CK_EPARSE && !g);
    return true;
}

static bool case_load_memory(void) {
    EXPECT(mem_case(ck_load_memory, CNN));
    EXPECT(mem_case(ck_load_memory, ONNX));
    EXPECT(mem_case(ck_load_memory, KERAS));
    /* the size limit applies to memory too */
    ck_limits tiny = {.max_file_bytes = 4};
    ck_graph *g = NULL;
    ck_diags d = {0};
    EXPECT(ck_load_memory("input: [1, 3]\n", 14, "m.cnn", &tiny, &g, &d) == CK_EPARSE && !g);
    EXPECT(d.n == 1 && d.v[0].code == CK_LIMIT_EXCEEDED && !strcmp(d.v[0].file, "m.cnn"));
    ck_diags_free(&d);
    return true;
}

static bool case_load_onnx_memory(void) {
    EXPECT(ck_load_onnx_memory(NULL, 0, NULL, NULL, NULL, NULL) == CK_EUSAGE);
    return mem_case(ck_load_onnx_memory, ONNX);
}

static bool case_load_keras_json(void) {
    EXPECT(ck_load_keras_json(NULL, 0, NULL, NULL, NULL, NULL) == CK_EUSAGE);
    return mem_case(ck_load_keras_json, KERAS);
}

static bool case_parse_cnn(void) {
    size_t n = 0;
    char *t = slurp(CNN, &n);
    EXPECT(t);
    ck_graph *g = NULL;
    ck_status st = ck_parse_cnn(t, n, NULL, NULL, &g, NULL);
    free(t);
    EXPECT(st == CK_OK && g);
    ck_graph_free(g);
    static const char bad[] = "conv1 = Conv2d(3, 16, kernel_size=3\n";
    EXPECT(ck_parse_cnn(bad, sizeof bad - 1, NULL, NULL, &g, NULL) == CK_EPARSE && !g);
    g = (ck_graph *)1;
    EXPECT(ck_parse_cnn(NULL, 4, NULL, NULL, &g, NULL) == CK_EUSAGE && !g);
    EXPECT(ck_parse_cnn(NULL, 0, NULL, NULL, &g, NULL) == CK_EPARSE && !g); /* empty: no layers */
    EXPECT(ck_parse_cnn("x = ReLU()\n", 11, NULL, NULL, NULL, NULL) == CK_EUSAGE);
    return true;
}

/* ---- graphs and checking --------------------------------------------------- */

static bool case_graph_null(void) {
    ck_graph_free(NULL);
    EXPECT(ck_graph_limits(NULL).max_nodes == ck_limits_resolve(NULL).max_nodes);
    ck_limits l = {.max_nodes = 7};
    ck_graph_set_limits(NULL, &l);
    EXPECT(ck_graph_dialect(NULL) == CK_DIALECT_NONE);
    EXPECT(ck_graph_num_inputs(NULL) == 0);
    EXPECT(ck_graph_input_name(NULL, 0) == NULL);
    EXPECT(ck_graph_input_shape(NULL, 0).rank == 0);
    ck_shape s = {4, {1, 3, 8, 8}};
    EXPECT(ck_graph_set_input_shape(NULL, 0, &s) == CK_EUSAGE);
    EXPECT(!ck_graph_input_channels_last(NULL, 0));
    EXPECT(ck_check(NULL, NULL) == CK_EUSAGE);
    EXPECT(ck_graph_num_layers(NULL) == 0);
    EXPECT(ck_graph_layer(NULL, 0).name == NULL);
    EXPECT(ck_graph_totals(NULL).macs == 0);
    return true;
}

static bool case_graph(void) {
    ck_graph *g = NULL;
    EXPECT(ck_load_file(CNN, NULL, &g, NULL) == CK_OK);
    ck_graph_set_limits(g, NULL);
    EXPECT(ck_graph_limits(g).max_nodes == ck_limits_resolve(NULL).max_nodes);
    EXPECT(ck_graph_set_input_shape(g, 0, NULL) == CK_EUSAGE);
    EXPECT(ck_graph_dialect(g) == CK_DIALECT_PYTORCH && ck_graph_num_inputs(g) == 1);
    EXPECT(ck_graph_input_name(g, 0) && !ck_graph_input_channels_last(g, 0));
    /* the file's own 7x7 input fails conv3: the status alone says so */
    EXPECT(ck_check(g, NULL) == CK_EINVALID);
    EXPECT(ck_graph_layer(g, 3).state == CK_LAYER_FAILED);
    ck_shape s = {4, {1, 3, 32, 32}};
    EXPECT(ck_graph_set_input_shape(g, 0, &s) == CK_OK && ck_check(g, NULL) == CK_OK);
    ck_layer_info li = ck_graph_layer(g, 1);
    EXPECT(li.n_inputs == 1 && !strcmp(li.inputs[0], "conv1"));
    EXPECT(ck_graph_totals(g).macs > 0);
    /* a missing input shape: usage, said by status alone */
    ck_shape none = {0};
    EXPECT(ck_graph_set_input_shape(g, 0, &none) == CK_OK && ck_check(g, NULL) == CK_EUSAGE);
    ck_graph_free(g);
    return true;
}

/* ---- analyses -------------------------------------------------------------- */

static bool case_sizes(void) {
    ck_graph *g = valid_chain();
    EXPECT(g);
    ck_sizes s;
    EXPECT(ck_solve_sizes(g, 0, 1, 64, &s, NULL) == CK_OK && s.square.min == 15);
    char *r = ck_runs_str(&s.square.valid, s.hi), *f = ck_size_fn_str(&s.axes[0].fn);
    EXPECT(r && f);
    free(r);
    free(f);
    ck_sizes_free(&s);
    EXPECT(ck_solve_sizes(g, 0, 9, 1, &s, NULL) == CK_EUSAGE); /* a bad range */
    EXPECT(ck_solve_sizes(NULL, 0, 1, 64, &s, NULL) == CK_EUSAGE);
    EXPECT(ck_solve_sizes(g, 0, 1, 64, NULL, NULL) == CK_EUSAGE);
    ck_sizes_free(NULL);
    EXPECT(ck_runs_str(NULL, 10) == NULL);
    EXPECT(ck_size_fn_str(NULL) == NULL);
    ck_graph_free(g);
    return true;
}

static bool case_fixes(void) {
    ck_graph *g = NULL;
    EXPECT(ck_load_file(CNN, NULL, &g, NULL) == CK_OK && ck_check(g, NULL) == CK_EINVALID);
    ck_fixes f;
    EXPECT(ck_find_fixes(g, &f, NULL) == CK_OK && f.n > 0);
    char *t = ck_fix_str(&f.v[0]);
    EXPECT(t);
    free(t);
    ck_fixes_free(&f);
    ck_fixes_free(NULL);
    EXPECT(ck_fix_str(NULL) == NULL);
    EXPECT(ck_find_fixes(NULL, &f, NULL) == CK_EUSAGE);
    EXPECT(ck_find_fixes(g, NULL, NULL) == CK_EUSAGE);
    EXPECT(ck_attach_fixes(g, NULL) == CK_OK); /* nothing to attach them to */
    ck_diags d = {0};
    EXPECT(ck_attach_fixes(NULL, &d) == CK_EUSAGE);
    ck_graph_free(g);
    return true;
}

static bool case_write_cnn(void) {
    ck_graph *g = valid_chain();
    EXPECT(g);
    char *text = NULL;
    EXPECT(ck_graph_write_cnn(g, NULL, &text, NULL) == CK_OK && text);
    free(text);
    EXPECT(ck_graph_write_cnn(NULL, NULL, &text, NULL) == CK_EUSAGE && !text);
    EXPECT(ck_graph_write_cnn(g, "c", NULL, NULL) == CK_EUSAGE);
    ck_graph_free(g);
    /* an ONNX graph cannot be written: said by status alone */
    EXPECT(ck_load_file(ONNX, NULL, &g, NULL) == CK_OK);
    EXPECT(ck_graph_write_cnn(g, NULL, &text, NULL) == CK_EUSAGE && !text);
    ck_graph_free(g);
    return true;
}

static bool case_write_source(void) {
    ck_graph *g = valid_chain();
    EXPECT(g);
    char *text = NULL;
    EXPECT(!ck_graph_has_source(g) && !ck_graph_has_source(NULL));
    EXPECT(ck_graph_write_source(g, &text, NULL) == CK_EUSAGE && !text); /* .cnn: no code */
    EXPECT(ck_graph_write_source(NULL, &text, NULL) == CK_EUSAGE && !text);
    EXPECT(ck_graph_write_source(g, NULL, NULL) == CK_EUSAGE);
    ck_graph_free(g);
    const char code[] = "import keras\nm = keras.Sequential([keras.Input(shape=(8, 8, 3)), "
                        "keras.layers.Conv2D(4, 3)])\n";
    EXPECT(ck_load_memory(code, sizeof code - 1, NULL, NULL, &g, NULL) == CK_OK && g);
    EXPECT(ck_graph_has_source(g));
    EXPECT(ck_graph_write_source(g, &text, NULL) == CK_OK && text && !strcmp(text, code));
    free(text);
    ck_graph_free(g);
    return true;
}

static bool case_check_as(void) {
    ck_graph *g = valid_chain();
    EXPECT(g);
    ck_dialect_diffs d;
    EXPECT(ck_check_as(g, CK_DIALECT_KERAS, &d) == CK_OK);
    ck_dialect_diffs_free(&d);
    ck_dialect_diffs_free(NULL);
    EXPECT(ck_check_as(NULL, CK_DIALECT_KERAS, &d) == CK_EUSAGE);
    EXPECT(ck_check_as(g, CK_DIALECT_KERAS, NULL) == CK_EUSAGE);
    ck_graph_free(g);
    return true;
}

static bool case_rf(void) {
    ck_graph *g = valid_chain();
    EXPECT(g);
    ck_rf_table *t = NULL;
    ck_rf rf;
    EXPECT(ck_rf_analyze(g, &t) == CK_OK && t);
    EXPECT(ck_rf_layer(t, 3, &rf) == CK_OK && rf.axis[0].kind == CK_RF_LOCAL);
    EXPECT(ck_rf_layer(t, 0, NULL) == CK_EUSAGE);
    EXPECT(ck_rf_layer(NULL, 0, &rf) == CK_EUSAGE);
    EXPECT(ck_rf_operand(t, 1, 0, &rf) == CK_OK);
    EXPECT(ck_rf_operand(t, 1, 0, NULL) == CK_EUSAGE);
    EXPECT(ck_rf_operand(NULL, 1, 0, &rf) == CK_EUSAGE);
    ck_rf_table_free(t);
    ck_rf_table_free(NULL);
    EXPECT(ck_rf_analyze(NULL, &t) == CK_EUSAGE);
    EXPECT(ck_rf_analyze(g, NULL) == CK_EUSAGE);
    EXPECT(ck_receptive_field(g, 3, &rf) == CK_OK);
    EXPECT(ck_receptive_field(NULL, 3, &rf) == CK_EUSAGE);
    EXPECT(ck_receptive_field(g, 3, NULL) == CK_EUSAGE);
    ck_graph_free(g);
    return true;
}

/* ---- tensors and .npy ------------------------------------------------------ */

static bool case_tensors(void) {
    ck_tensor_f32 *t = (ck_tensor_f32 *)1;
    ck_shape s = {2, {2, 3}};
    EXPECT(ck_tensor_f32_new(NULL, &t) == CK_EUSAGE && !t);
    EXPECT(ck_tensor_f32_new(&s, NULL) == CK_EUSAGE);
    EXPECT(ck_tensor_f32_new(&s, &t) == CK_OK && ck_tensor_f32_numel(t) == 6);
    ck_tensor_f32_fill_normal(t, 1);
    ck_tensor_f32_fill_normal(NULL, 1);
    EXPECT(ck_tensor_f32_numel(NULL) == 0);
    ck_tensor_f32_free(t);
    ck_tensor_f32_free(NULL);
    return true;
}

static bool case_npy(void) {
    ck_tensor_f32 *t = NULL;
    EXPECT(ck_npy_read(NPY, &t, NULL) == CK_OK && t);
    char dir[] = "/tmp/ck_api_null_XXXXXX", path[64];
    EXPECT(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/x.npy", dir);
    EXPECT(ck_npy_write(path, t, NULL) == CK_OK);
    EXPECT(ck_npy_write(NULL, t, NULL) == CK_EUSAGE);
    EXPECT(ck_npy_write(path, NULL, NULL) == CK_EUSAGE);
    EXPECT(ck_npy_write("/tmp/no/such/dir/x.npy", t, NULL) == CK_EIO);
    ck_tensor_f32_free(t);
    EXPECT(ck_npy_read(path, &t, NULL) == CK_OK);
    ck_tensor_f32_free(t);
    unlink(path);
    rmdir(dir);
    t = (ck_tensor_f32 *)1;
    EXPECT(ck_npy_read(NULL, &t, NULL) == CK_EUSAGE);
    EXPECT(ck_npy_read(NPY, NULL, NULL) == CK_EUSAGE);
    EXPECT(ck_npy_read("tests/no/such.npy", &t, NULL) == CK_EIO && !t);
    size_t n = 0;
    char *b = slurp(NPY, &n);
    EXPECT(b);
    EXPECT(ck_npy_parse(b, n, NULL, &t, NULL) == CK_OK && t);
    ck_tensor_f32_free(t);
    EXPECT(ck_npy_parse(b, n / 2, NULL, &t, NULL) == CK_EPARSE && !t); /* truncated */
    EXPECT(ck_npy_parse(b, n, NULL, NULL, NULL) == CK_EUSAGE);
    EXPECT(ck_npy_parse(NULL, n, NULL, &t, NULL) == CK_EUSAGE && !t);
    EXPECT(ck_npy_parse(NULL, 0, NULL, &t, NULL) == CK_EPARSE && !t); /* empty */
    free(b);
    return true;
}

/* ---- sessions -------------------------------------------------------------- */

static bool case_session_null(void) {
    ck_session *s = (ck_session *)1;
    EXPECT(ck_session_new(NULL, NULL, &s, NULL) == CK_EUSAGE && !s);
    ck_session_free(NULL);
    EXPECT(ck_session_num_inputs(NULL) == 0 && ck_session_num_outputs(NULL) == 0);
    EXPECT(ck_session_input_name(NULL, 0) == NULL && ck_session_output_name(NULL, 0) == NULL);
    EXPECT(ck_session_input_shape(NULL, 0).rank == 0 && ck_session_output_shape(NULL, 0).rank == 0);
    EXPECT(ck_session_describe(NULL).steps == 0);
    EXPECT(ck_session_memory_plan(NULL).steps == 0);
    ck_session_ctx *c = (ck_session_ctx *)1;
    EXPECT(ck_session_ctx_new(NULL, &c) == CK_EUSAGE);
    ck_session_ctx_free(NULL);
    ck_step_info si;
    EXPECT(ck_session_step(NULL, 0, &si) == CK_EUSAGE);
    float x = 0, *out[1] = {&x};
    const float *in[1] = {&x};
    EXPECT(ck_session_run(NULL, NULL, in, out) == CK_EUSAGE);
    double secs[1];
    EXPECT(ck_session_run_profiled(NULL, NULL, in, out, secs) == CK_EUSAGE);
    ck_tensor_f32 t = {{1, {1}}, &x};
    EXPECT(ck_session_check_input(NULL, 0, &t, NULL) == CK_EUSAGE);
    return true;
}

static bool case_session(void) {
    ck_graph *g = NULL;
    ck_session *s = NULL;
    /* an unchecked graph: usage, said by status alone */
    EXPECT(ck_load_file(ONNX, NULL, &g, NULL) == CK_OK);
    EXPECT(ck_session_new(g, NULL, &s, NULL) == CK_EUSAGE && !s);
    ck_shape is = {4, {1, 3, 32, 32}};
    EXPECT(ck_graph_set_input_shape(g, 0, &is) == CK_OK && ck_check(g, NULL) == CK_OK);
    EXPECT(ck_session_new(g, NULL, NULL, NULL) == CK_EUSAGE);
    EXPECT(ck_session_new(g, NULL, &s, NULL) == CK_OK && s);
    EXPECT(ck_session_num_inputs(s) == 1 && ck_session_num_outputs(s) == 1);
    EXPECT(ck_session_input_name(s, 0) && ck_session_output_name(s, 0));
    EXPECT(ck_session_describe(s).steps > 0 && ck_session_memory_plan(s).steps > 0);
    ck_step_info si;
    EXPECT(ck_session_step(s, 0, &si) == CK_OK);
    EXPECT(ck_session_step(s, 0, NULL) == CK_EUSAGE);
    ck_session_ctx *c = NULL;
    EXPECT(ck_session_ctx_new(s, NULL) == CK_EUSAGE);
    EXPECT(ck_session_ctx_new(s, &c) == CK_OK && c);
    ck_shape os = ck_session_output_shape(s, 0);
    is = ck_session_input_shape(s, 0);
    ck_tensor_f32 *x = NULL, *y = NULL;
    EXPECT(ck_tensor_f32_new(&is, &x) == CK_OK && ck_tensor_f32_new(&os, &y) == CK_OK);
    EXPECT(ck_session_check_input(s, 0, x, NULL) == CK_OK);
    EXPECT(ck_session_check_input(s, 0, y, NULL) == CK_EINVALID); /* the wrong shape */
    EXPECT(ck_session_check_input(s, 0, NULL, NULL) == CK_EUSAGE);
    const float *in[1] = {x->data}, *no_in[1] = {NULL};
    float *out[1] = {y->data}, *no_out[1] = {NULL};
    EXPECT(ck_session_run(s, c, in, out) == CK_OK);
    EXPECT(ck_session_run(s, NULL, in, out) == CK_EUSAGE);
    EXPECT(ck_session_run(s, c, NULL, out) == CK_EUSAGE);
    EXPECT(ck_session_run(s, c, in, NULL) == CK_EUSAGE);
    EXPECT(ck_session_run(s, c, no_in, out) == CK_EUSAGE);
    EXPECT(ck_session_run(s, c, in, no_out) == CK_EUSAGE);
    /* the profile is what run_profiled is for: required */
    EXPECT(ck_session_run_profiled(s, c, in, out, NULL) == CK_EUSAGE);
    ck_tensor_f32_free(x);
    ck_tensor_f32_free(y);
    ck_session_ctx_free(c);
    ck_session_free(s);
    ck_graph_free(g);
    return true;
}

/* ---- layer vocabulary, sources and reports --------------------------------- */

static bool case_vocabulary(void) {
    char *t = ck_layer_types(CK_DIALECT_PYTORCH);
    EXPECT(t && strstr(t, "Conv2d\n"));
    ck_free(t);
    ck_free(ck_layer_types(CK_DIALECT_NONE));
    ck_free(NULL);
    EXPECT(ck_graph_set_layer_source(NULL, 0, "a.py:1", "a.py:2") == CK_EUSAGE);
    ck_graph *g = NULL;
    EXPECT(ck_load_file(CNN, NULL, &g, NULL) == CK_OK);
    EXPECT(ck_graph_set_layer_source(g, 0, NULL, NULL) == CK_OK);
    EXPECT(ck_graph_set_layer_source(g, 3, "net.py:3", NULL) == CK_OK);
    ck_diags d = {0};
    EXPECT(ck_check(g, &d) == CK_EINVALID && d.n == 1 && d.v[0].n_notes > 0);
    ck_diags_free(&d);
    ck_graph_free(g);
    return true;
}

static bool case_reports(void) {
    ck_graph *g = NULL;
    char *out = (char *)1;
    /* chain at its own 7x7 input: invalid, reported all the same */
    EXPECT(ck_load_file(CNN, NULL, &g, NULL) == CK_OK);
    static const ck_report_kind kinds[] = {CK_REPORT_CHECK, CK_REPORT_SUMMARY, CK_REPORT_SIZES,
                                           CK_REPORT_FIX};
    for (int k = 0; k < 4; k++) {
        ck_status st = ck_report(g, kinds[k], CK_FORMAT_TEXT, NULL, &out);
        EXPECT((st == CK_OK || st == CK_EINVALID) && out);
        ck_free(out);
        EXPECT(ck_report(NULL, kinds[k], CK_FORMAT_TEXT, NULL, &out) == CK_EUSAGE && !out);
        EXPECT(ck_report(g, kinds[k], CK_FORMAT_JSON, NULL, NULL) == CK_EUSAGE);
    }
    EXPECT(ck_report_fixes(g, NULL, NULL, NULL, CK_FORMAT_TEXT, NULL, &out) == CK_EINVALID && out);
    ck_free(out);
    EXPECT(ck_report_fixes(NULL, NULL, NULL, NULL, CK_FORMAT_JSON, NULL, &out) == CK_EUSAGE &&
           !out);
    EXPECT(ck_report_fixes(g, NULL, NULL, NULL, CK_FORMAT_JSON, NULL, NULL) == CK_EUSAGE);
    EXPECT(ck_report_failure(NULL, NULL, CK_FORMAT_JSON, false, &out) == CK_OK && out);
    ck_free(out);
    EXPECT(ck_report_failure(NULL, NULL, CK_FORMAT_TEXT, false, NULL) == CK_EUSAGE);
    char *s = ck_diags_text(NULL, false);
    EXPECT(s && !strcmp(s, ""));
    ck_free(s);
    s = ck_diags_json(NULL);
    EXPECT(s && !strncmp(s, "[]", 2)); /* an empty array */
    ck_free(s);
    EXPECT(ck_fix_json(NULL) == NULL);
    EXPECT(ck_inputs_json(NULL) == NULL);
    s = ck_inputs_json(g);
    EXPECT(s && s[0] == '[');
    ck_free(s);
    ck_diags d = {0};
    EXPECT(ck_diags_append(NULL, CK_SEV_ERROR, CK_INVALID_CONFIG, NULL, NULL, "m") == NULL);
    ck_diag *dg = ck_diags_append(&d, CK_SEV_ERROR, CK_INVALID_CONFIG, NULL, NULL, "m");
    EXPECT(dg && d.n == 1);
    EXPECT(ck_diag_append_note(dg, "a note") && d.v[0].n_notes == 1);
    EXPECT(!ck_diag_append_note(NULL, "a note"));
    ck_diags_free(&d);
    ck_graph_free(g);
    return true;
}

/* ---- coverage: every CK_API function of the header is called above --------- */

static int uncovered(void) {
    size_t hn = 0, sn = 0;
    char *h = slurp("include/convkit.h", &hn), *src = slurp(__FILE__, &sn);
    if (!h || !src) {
        fprintf(stderr, "  cannot read include/convkit.h or %s\n", __FILE__);
        free(h);
        free(src);
        return -1;
    }
    int missing = 0, found = 0;
    for (char *p = strstr(h, "\nCK_API "); p; p = strstr(p + 1, "\nCK_API ")) {
        char *paren = strchr(p, '(');
        if (!paren) break;
        char *e = paren;
        while (e > p && e[-1] == ' ') e--;
        char *b = e;
        while (b > p && (b[-1] == '_' || (b[-1] >= 'a' && b[-1] <= 'z') ||
                         (b[-1] >= 'A' && b[-1] <= 'Z') || (b[-1] >= '0' && b[-1] <= '9')))
            b--;
        char name[128], call[136];
        snprintf(name, sizeof name, "%.*s", (int)(e - b), b);
        snprintf(call, sizeof call, "%s(", name);
        found++;
        /* called here: the name followed by '(' somewhere past this function */
        const char *after = strstr(src, "---- core");
        if (!after || !strstr(after, call)) {
            fprintf(stderr, "  %s is public but not called with NULL arguments here\n", name);
            missing++;
        }
    }
    free(h);
    free(src);
    return found >= 60 ? missing : -1;
}

int main(void) {
    static const struct {
        const char *name;
        bool (*fn)(void);
    } cases[] = {
        {"core", case_core},
        {"load_file", case_load_file},
        {"load_memory", case_load_memory},
        {"load_onnx_memory", case_load_onnx_memory},
        {"load_keras_json", case_load_keras_json},
        {"parse_cnn", case_parse_cnn},
        {"graph_null", case_graph_null},
        {"graph", case_graph},
        {"sizes", case_sizes},
        {"fixes", case_fixes},
        {"write_cnn", case_write_cnn},
        {"write_source", case_write_source},
        {"check_as", case_check_as},
        {"rf", case_rf},
        {"tensors", case_tensors},
        {"npy", case_npy},
        {"session_null", case_session_null},
        {"session", case_session},
        {"vocabulary", case_vocabulary},
        {"reports", case_reports},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) exit(cases[i].fn() ? 0 : 1); /* exit: leak checks run */
        int ws = 0;
        bool waited = pid > 0 && waitpid(pid, &ws, 0) == pid;
        CHECK(waited && WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "case %s: %s %d", cases[i].name,
              !waited                ? "could not run"
              : WIFSIGNALED(ws)      ? "crashed with signal"
              : WEXITSTATUS(ws) == 1 ? "failed (above), exit"
                                     : "exit status",
              !waited           ? 0
              : WIFSIGNALED(ws) ? WTERMSIG(ws)
                                : WEXITSTATUS(ws));
    }
    int un = uncovered();
    CHECK(un == 0, "%d public functions not covered (-1: the header could not be read)", un);
    return TEST_DONE("api_null");
}
