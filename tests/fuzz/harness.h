/* The bodies of the fuzz harnesses, shared by the libFuzzer entry points
 * (tests/fuzz/fuzz_*.c) and the regression test that replays the committed
 * inputs without libFuzzer (tests/unit/test_fuzz_regress.c).
 *
 * Each ck_fuzz_<name>() feeds one input to the library the way the CLI
 * would, then reads every string and number the library handed back so
 * that ASan sees any dangling or unterminated result. The library must
 * never crash, hang, leak or trip a sanitizer; a harness aborts only on a
 * broken contract that no diagnostic can excuse (a status that disagrees
 * with the diagnostics, or a written .cnn that does not read back). */
#ifndef CK_FUZZ_HARNESS_H
#define CK_FUZZ_HARNESS_H

#include "convkit.h"
#include "import/import.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A broken contract: report it and stop, so that libFuzzer saves the input. */
#define CK_FUZZ_REQUIRE(cond)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz contract broken: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Limits the harnesses read with: small enough that the fuzzer explores
 * instead of building huge graphs, the library defaults otherwise. */
static const ck_limits ck_fuzz_limits = {.max_file_bytes = 1 << 20, .max_nodes = 2000};

static volatile size_t ck_fuzz_sink;

static inline void ck_fuzz_touch(const char *s) {
    if (s) ck_fuzz_sink += strlen(s);
}

static inline void ck_fuzz_touch_diags(const ck_diags *d) {
    for (int i = 0; i < d->n; i++) {
        const ck_diag *g = &d->v[i];
        CK_FUZZ_REQUIRE(g->code >= 0 && g->code < CK_CODE_COUNT);
        ck_fuzz_touch(ck_code_name(g->code));
        ck_fuzz_touch(g->layer);
        ck_fuzz_touch(g->op);
        ck_fuzz_touch(g->axis);
        ck_fuzz_touch(g->message);
        ck_fuzz_touch(g->formula);
        ck_fuzz_touch(g->input);
        ck_fuzz_touch(g->shrink);
        ck_fuzz_touch(g->file);
        for (int k = 0; k < g->n_notes; k++) ck_fuzz_touch(g->notes[k]);
        for (int k = 0; k < g->n_fixes; k++) ck_fuzz_touch(g->fixes[k]);
    }
}

/* A failing status comes with at least one error that says why. */
static inline void ck_fuzz_status_explained(ck_status st, const ck_diags *d) {
    if (st == CK_EINVALID || st == CK_EPARSE) CK_FUZZ_REQUIRE(ck_diags_errors(d) > 0);
}

static inline void ck_fuzz_touch_shape(const ck_shape *s) {
    char buf[256];
    CK_FUZZ_REQUIRE(s->rank >= 0 && s->rank <= CK_MAX_RANK);
    ck_fuzz_touch(ck_shape_str(s, buf, sizeof buf));
}

/* Everything a renderer reads from a checked graph. */
static inline void ck_fuzz_touch_graph(const ck_graph *g) {
    ck_fuzz_touch(ck_dialect_name(ck_graph_dialect(g)));
    for (int i = 0; i < ck_graph_num_inputs(g); i++) {
        ck_fuzz_touch(ck_graph_input_name(g, i));
        ck_shape s = ck_graph_input_shape(g, i);
        ck_fuzz_touch_shape(&s);
        ck_fuzz_sink += ck_graph_input_channels_last(g, i);
    }
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        ck_fuzz_touch(li.name);
        ck_fuzz_touch(li.type);
        ck_fuzz_touch(li.op);
        ck_fuzz_touch(li.output_name);
        for (int k = 0; k < li.n_inputs; k++) ck_fuzz_touch(li.inputs[k]);
        if (li.state == CK_LAYER_OK) ck_fuzz_touch_shape(&li.output);
        ck_fuzz_sink += (size_t)li.params + (size_t)li.macs + (size_t)li.ops;
    }
    ck_totals t = ck_graph_totals(g);
    ck_fuzz_sink += (size_t)t.params + (size_t)t.macs + (size_t)t.activation_bytes;
}

/* A model small enough to build a session for and run in a moment. */
static inline int ck_fuzz_small(const ck_graph *g) {
    ck_totals t = ck_graph_totals(g);
    return t.params >= 0 && t.params < (1 << 20) && t.macs >= 0 && t.macs < (1 << 22) &&
           t.activation_bytes >= 0 && t.activation_bytes < (16 << 20) && t.input_bytes >= 0 &&
           t.input_bytes < (4 << 20);
}

static inline void ck_fuzz_run_graph(const ck_graph *g);

/* Checks a graph the importer accepted, reads the results, and runs the
 * network when it is valid and small. */
static inline void ck_fuzz_check_graph(ck_graph *g) {
    ck_diags d = {0};
    ck_status st = ck_check(g, &d);
    ck_fuzz_status_explained(st, &d);
    ck_fuzz_touch_diags(&d);
    ck_fuzz_touch_graph(g);
    ck_diags_free(&d);
    if (st == CK_OK && ck_fuzz_small(g)) ck_fuzz_run_graph(g);
}

/* Builds a session (weights: initializers, the seeded defaults) and runs it
 * once on seeded random inputs. Only for checked graphs that ck_fuzz_small()
 * accepts. */
static inline void ck_fuzz_run_graph(const ck_graph *g) {
    /* 2 threads on every machine: the coverage, and so a fixed seed's
     * path, must not depend on the CPUs online (CI's machine is not ours) */
    ck_session_options opt = {.seed = 1, .weights_dir = "/nonexistent/convkit-fuzz", .threads = 2};
    ck_session *s = NULL;
    ck_diags d = {0};
    ck_status st = ck_session_new(g, &opt, &s, &d);
    ck_fuzz_status_explained(st, &d);
    ck_fuzz_touch_diags(&d);
    ck_diags_free(&d);
    if (st != CK_OK) {
        CK_FUZZ_REQUIRE(s == NULL);
        return;
    }
    int ni = ck_session_num_inputs(s), no = ck_session_num_outputs(s);
    float **in = calloc((size_t)ni + 1, sizeof *in), **outp = calloc((size_t)no + 1, sizeof *outp);
    ck_session_ctx *ctx = NULL;
    int ok = in && outp && ck_session_ctx_new(s, &ctx) == CK_OK;
    for (int i = 0; ok && i < ni; i++) {
        ck_shape sh = ck_session_input_shape(s, i);
        ck_tensor_f32 *t = NULL;
        ok = ck_tensor_f32_new(&sh, &t) == CK_OK;
        if (ok) {
            ck_tensor_f32_fill_normal(t, 1);
            in[i] = t->data; /* steal the buffer */
            free(t);
        }
        ck_fuzz_touch(ck_session_input_name(s, i));
    }
    for (int i = 0; ok && i < no; i++) {
        ck_shape sh = ck_session_output_shape(s, i);
        ck_tensor_f32 *t = NULL;
        ok = ck_tensor_f32_new(&sh, &t) == CK_OK;
        if (ok) {
            outp[i] = t->data;
            free(t);
        }
        ck_fuzz_touch(ck_session_output_name(s, i));
    }
    if (ok) {
        ck_session_memory m = ck_session_memory_plan(s);
        ck_fuzz_sink += (size_t)m.activation_bytes;
        ck_session_run(s, ctx, (const float *const *)in, outp);
    }
    for (int i = 0; in && i < ni; i++) free(in[i]);
    for (int i = 0; outp && i < no; i++) free(outp[i]);
    free(in);
    free(outp);
    ck_session_ctx_free(ctx);
    ck_session_free(s);
}

/* ---- the harnesses ------------------------------------------------------ */

/* .cnn text: parse, check, run small valid networks (seeded weights). */
static inline int ck_fuzz_cnn(const uint8_t *data, size_t size) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_parse_cnn((const char *)data, size, "fuzz.cnn", &ck_fuzz_limits, &g, &d);
    ck_fuzz_status_explained(st, &d);
    ck_fuzz_touch_diags(&d);
    CK_FUZZ_REQUIRE((st == CK_OK) == (g != NULL));
    if (g) ck_fuzz_check_graph(g);
    ck_graph_free(g);
    ck_diags_free(&d);
    return 0;
}

/* ONNX protobuf bytes: read, check, and run small models (initializers). */
static inline int ck_fuzz_onnx(const uint8_t *data, size_t size) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_onnx(data, size, "fuzz.onnx", &ck_fuzz_limits, &g, &d);
    ck_fuzz_status_explained(st, &d);
    ck_fuzz_touch_diags(&d);
    CK_FUZZ_REQUIRE((st == CK_OK) == (g != NULL));
    if (g) ck_fuzz_check_graph(g);
    ck_graph_free(g);
    ck_diags_free(&d);
    return 0;
}

/* Keras model JSON: read, check, run small valid networks. */
static inline int ck_fuzz_keras(const uint8_t *data, size_t size) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_keras((const char *)data, size, "fuzz.json", &ck_fuzz_limits, &g, &d);
    ck_fuzz_status_explained(st, &d);
    ck_fuzz_touch_diags(&d);
    CK_FUZZ_REQUIRE((st == CK_OK) == (g != NULL));
    if (g) ck_fuzz_check_graph(g);
    ck_graph_free(g);
    ck_diags_free(&d);
    return 0;
}

/* Keras model files with weights: HDF5 (.h5) and zip (.keras) bytes, told
 * apart by content as ck_load_memory does; a graph that loads is checked
 * and its weights are read back through the names a session asks for. */
static inline int ck_fuzz_kfile(const uint8_t *data, size_t size) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_memory(data, size, "fuzz.h5", &ck_fuzz_limits, &g, &d);
    ck_fuzz_status_explained(st, &d);
    ck_fuzz_touch_diags(&d);
    CK_FUZZ_REQUIRE((st == CK_OK) == (g != NULL));
    if (g) {
        for (int i = 0; i < g->n_nodes; i++) {
            int t = ck_graph_keras_weight(g, g->nodes[i].name, "kernel");
            if (t >= 0) ck_fuzz_touch_shape(&g->tensors[t].shape);
        }
        ck_fuzz_check_graph(g);
    }
    ck_graph_free(g);
    ck_diags_free(&d);
    return 0;
}

/* NumPy .npy bytes. */
static inline int ck_fuzz_npy(const uint8_t *data, size_t size) {
    ck_tensor_f32 *t = NULL;
    ck_diags d = {0};
    ck_status st = ck_npy_parse(data, size, "fuzz.npy", &t, &d);
    ck_fuzz_status_explained(st, &d);
    ck_fuzz_touch_diags(&d);
    CK_FUZZ_REQUIRE((st == CK_OK) == (t != NULL));
    if (t) {
        int64_t n = ck_tensor_f32_numel(t);
        CK_FUZZ_REQUIRE(n >= 0);
        ck_fuzz_touch_shape(&t->shape);
        /* every value is readable */
        float acc = 0;
        for (int64_t i = 0; i < n; i++) acc += t->data[i];
        ck_fuzz_sink += acc != 0;
    }
    ck_tensor_f32_free(t);
    ck_diags_free(&d);
    return 0;
}

/* The analyses on a parsed .cnn graph: check, sizes, fixes, receptive
 * fields, the other framework's rules, and the written spec read back. */
static inline void ck_fuzz_sizes(const ck_graph *g) {
    for (int i = 0; i < ck_graph_num_inputs(g) && i < 2; i++) {
        ck_sizes sz;
        ck_diags d = {0};
        ck_status st = ck_solve_sizes(g, i, 1, 48, &sz, &d);
        ck_fuzz_touch_diags(&d);
        if (st == CK_OK) {
            ck_sizes_axis *ax[CK_MAX_RANK + 1];
            int n = 0;
            ax[n++] = &sz.square;
            for (int k = 0; k < sz.n_axes && k < CK_MAX_RANK; k++) ax[n++] = &sz.axes[k];
            for (int k = 0; k < n; k++) {
                char *s1 = ck_runs_str(&ax[k]->valid, sz.hi);
                char *s2 = ck_runs_str(&ax[k]->clean, sz.hi);
                char *s3 = ck_size_fn_str(&ax[k]->fn);
                ck_fuzz_touch(s1);
                ck_fuzz_touch(s2);
                ck_fuzz_touch(s3);
                free(s1);
                free(s2);
                free(s3);
                ck_fuzz_touch(ax[k]->name);
                for (int f = 0; f < ax[k]->n_fail; f++) {
                    ck_fuzz_touch(ax[k]->fail[f].layer);
                    char *s4 = ck_runs_str(&ax[k]->fail[f].sizes, sz.hi);
                    ck_fuzz_touch(s4);
                    free(s4);
                }
            }
        }
        ck_sizes_free(&sz);
        ck_diags_free(&d);
    }
}

static inline void ck_fuzz_roundtrip(const ck_graph *g, ck_status st0);

/* Pasted Keras code: `fix --write` writes the fixed network as an edit of
 * the code; what it writes reads back to a network that checks. */
static inline void ck_fuzz_source(const ck_graph *g) {
    char *text = NULL;
    ck_diags d = {0};
    ck_status st = ck_graph_write_source(g, &text, &d);
    ck_fuzz_status_explained(st, &d);
    ck_fuzz_touch_diags(&d);
    ck_diags_free(&d);
    CK_FUZZ_REQUIRE((st == CK_OK) == (text != NULL));
    if (!text) return;
    ck_graph *r = NULL;
    ck_diags rd = {0};
    ck_status sr = ck_parse_cnn(text, strlen(text), "written.py", NULL, &r, &rd);
    if (sr != CK_OK) fprintf(stderr, "written code does not read back:\n%s\n", text);
    CK_FUZZ_REQUIRE(sr == CK_OK);
    ck_diags_free(&rd);
    CK_FUZZ_REQUIRE(ck_check(r, &rd) == CK_OK);
    ck_diags_free(&rd);
    ck_graph_free(r);
    ck_free(text);
}

static inline void ck_fuzz_fixes(const ck_graph *g) {
    ck_fixes fx;
    ck_diags d = {0};
    if (ck_find_fixes(g, &fx, &d) == CK_OK) {
        for (int i = 0; i < fx.n; i++) {
            char *s = ck_fix_str(&fx.v[i]);
            ck_fuzz_touch(s);
            free(s);
            ck_fuzz_touch(fx.v[i].why);
            /* a fix is a network that checks */
            CK_FUZZ_REQUIRE(fx.v[i].graph != NULL);
            ck_graph *c = fx.v[i].graph;
            ck_diags dc = {0};
            CK_FUZZ_REQUIRE(ck_check(c, &dc) == CK_OK);
            ck_diags_free(&dc);
            /* `fix --write` writes the first */
            if (i == 0) ck_fuzz_roundtrip(c, CK_OK);
            if (i == 0 && ck_graph_has_source(c)) ck_fuzz_source(c);
        }
    }
    ck_fixes_free(&fx);
    ck_diags_free(&d);
}

static inline void ck_fuzz_rf(const ck_graph *g) {
    ck_rf_table *t = NULL;
    if (ck_rf_analyze(g, &t) != CK_OK) return;
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        ck_rf r;
        if (ck_rf_layer(t, i, &r) == CK_OK) {
            CK_FUZZ_REQUIRE(r.nsp >= 0 && r.nsp <= CK_RF_MAX_AXES);
            for (int a = 0; a < r.nsp; a++) ck_fuzz_touch(r.axis[a].name);
        }
        ck_layer_info li = ck_graph_layer(g, i);
        for (int k = 0; k < li.n_inputs; k++) ck_fuzz_sink += ck_rf_operand(t, i, k, &r);
    }
    ck_rf_table_free(t);
}

/* The written spec reads back to a network that checks the same way. */
static inline void ck_fuzz_roundtrip(const ck_graph *g, ck_status st0) {
    char *text = NULL;
    ck_diags d = {0};
    ck_status st = ck_graph_write_cnn(g, "fuzz", &text, &d);
    ck_fuzz_touch_diags(&d);
    ck_diags_free(&d);
    if (st != CK_OK) {
        free(text);
        return;
    }
    CK_FUZZ_REQUIRE(text != NULL);
    ck_graph *g2 = NULL;
    ck_diags d2 = {0};
    ck_status st2 = ck_parse_cnn(text, strlen(text), "written.cnn", NULL, &g2, &d2);
    if (st2 != CK_OK) {
        fprintf(stderr, "written spec does not read back:\n%s\n", text);
        for (int i = 0; i < d2.n; i++) fprintf(stderr, "  %s\n", d2.v[i].message);
    }
    CK_FUZZ_REQUIRE(st2 == CK_OK);
    ck_diags dc = {0};
    ck_status sc = ck_check(g2, &dc);
    CK_FUZZ_REQUIRE(ck_graph_num_layers(g2) == ck_graph_num_layers(g));
    /* A valid network (what `fix --write` writes) reads back the same. An
     * invalid one may lose what made it invalid: arguments the frontend
     * does not bind are not written. */
    if (st0 == CK_OK && sc != CK_OK) fprintf(stderr, "written spec:\n%s\n", text);
    CK_FUZZ_REQUIRE(st0 != CK_OK || sc == CK_OK);
    for (int i = 0; st0 == CK_OK && i < ck_graph_num_layers(g); i++) {
        ck_layer_info a = ck_graph_layer(g, i), b = ck_graph_layer(g2, i);
        CK_FUZZ_REQUIRE(a.state == b.state);
        if (a.state == CK_LAYER_OK) {
            CK_FUZZ_REQUIRE(a.output.rank == b.output.rank);
            for (int k = 0; k < a.output.rank; k++) CK_FUZZ_REQUIRE(a.output.d[k] == b.output.d[k]);
        }
    }
    ck_diags_free(&dc);
    ck_graph_free(g2);
    ck_diags_free(&d2);
    free(text);
}

static inline int ck_fuzz_pipeline(const uint8_t *data, size_t size) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_parse_cnn((const char *)data, size, "fuzz.cnn", &ck_fuzz_limits, &g, &d);
    ck_diags_free(&d);
    if (!g) return 0;
    /* the analyses are quadratic in the layers at worst; keep runs short */
    if (ck_graph_num_layers(g) > 64) {
        ck_graph_free(g);
        return 0;
    }
    st = ck_check(g, &d);
    ck_fuzz_status_explained(st, &d);
    ck_fuzz_touch_diags(&d);
    ck_diags_free(&d);
    ck_fuzz_touch_graph(g);
    ck_fuzz_rf(g);
    ck_fuzz_sizes(g);
    ck_fuzz_fixes(g);
    ck_dialect other =
        ck_graph_dialect(g) == CK_DIALECT_KERAS ? CK_DIALECT_PYTORCH : CK_DIALECT_KERAS;
    const ck_dialect as[2] = {other, CK_DIALECT_ONNX};
    for (int k = 0; k < 2; k++) {
        ck_dialect_diffs dd;
        if (ck_check_as(g, as[k], &dd) == CK_OK) {
            for (int i = 0; i < dd.n; i++) {
                ck_fuzz_touch(dd.v[i].layer);
                ck_fuzz_touch(dd.v[i].type);
                ck_fuzz_touch(dd.v[i].error_a);
                ck_fuzz_touch(dd.v[i].error_b);
            }
        }
        ck_dialect_diffs_free(&dd);
    }
    ck_fuzz_roundtrip(g, st);
    /* ck_check after the analyses: they worked on copies */
    st = ck_check(g, &d);
    ck_fuzz_status_explained(st, &d);
    ck_diags_free(&d);
    ck_graph_free(g);
    return 0;
}

#endif
