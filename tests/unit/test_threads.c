/* Const means read-only: 8 threads share one loaded and checked graph
 * (examples/resnet50.cnn at a small input) and one session, plus one
 * failing graph (examples/chain.cnn at its 7x7 input) for the fix search.
 * Each thread, many times over, reads every layer and the totals, computes
 * the receptive fields, solves sizes over a small range, checks under
 * another framework's rules, writes the graph as .cnn, finds fixes, renders
 * the check and summary reports, and runs the session with its own context; every result must be
 * identical (bit for bit) to the one computed before the threads started.
 *
 * `make tsan` runs it under ThreadSanitizer, where any data race fails it.
 * CK_THREADS_ITERS sets the iterations per thread (default 200; the heavy
 * steps run every HEAVY_EVERY-th iteration). */
#include "convkit.h"
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define HEAVY_EVERY 20

/* ---- fingerprints: FNV-1a over everything a call returns ---------------- */

typedef struct {
    uint64_t h;
} fp;

static void fp_bytes(fp *f, const void *p, size_t n) {
    const unsigned char *b = p;
    if (!f->h) f->h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) f->h = (f->h ^ b[i]) * 1099511628211ull;
}
static void fp_str(fp *f, const char *s) {
    fp_bytes(f, s ? s : "(null)", strlen(s ? s : "(null)") + 1);
}
static void fp_i64(fp *f, int64_t v) {
    fp_bytes(f, &v, sizeof v);
}
static void fp_shape(fp *f, const ck_shape *s) {
    fp_i64(f, s->rank);
    for (int i = 0; i < s->rank && i < CK_MAX_RANK; i++) fp_i64(f, s->d[i]);
}

/* The steps each thread repeats. */
enum { LAYERS, RF, SIZES, CHECK_AS, WRITE, FIXES, REPORT, RUN, N_STEPS };
static const char *const step_names[N_STEPS] = {"layers", "rf",    "sizes",  "check_as",
                                                "write",  "fixes", "report", "run"};

typedef struct {
    const ck_graph *g;   /* valid: resnet50 */
    const ck_graph *bad; /* invalid: chain at 7x7 */
    const ck_session *s;
    const float *input;
    int64_t out_numel;
    uint64_t want[N_STEPS]; /* single-threaded results */
    int iters;
} shared;

static uint64_t step_layers(const ck_graph *g) {
    fp f = {0};
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        fp_str(&f, li.name);
        fp_str(&f, li.type);
        fp_str(&f, li.op);
        fp_str(&f, li.output_name);
        for (int k = 0; k < li.n_inputs; k++) fp_str(&f, li.inputs[k]);
        fp_i64(&f, li.state);
        fp_shape(&f, &li.output);
        fp_i64(&f, li.params);
        fp_i64(&f, li.macs);
        fp_i64(&f, li.ops);
        fp_i64(&f, li.line);
    }
    ck_totals t = ck_graph_totals(g);
    fp_bytes(&f, &t, sizeof t);
    for (int i = 0; i < ck_graph_num_inputs(g); i++) {
        fp_str(&f, ck_graph_input_name(g, i));
        ck_shape s = ck_graph_input_shape(g, i);
        fp_shape(&f, &s);
    }
    ck_limits l = ck_graph_limits(g);
    fp_bytes(&f, &l, sizeof l);
    return f.h;
}

static void fp_rf(fp *f, const ck_rf *rf) {
    fp_i64(f, rf->nsp);
    for (int a = 0; a < rf->nsp && a < CK_RF_MAX_AXES; a++) {
        const ck_rf_axis *x = &rf->axis[a];
        fp_str(f, x->name);
        fp_i64(f, x->kind);
        fp_i64(f, x->n_paths);
        fp_i64(f, x->more_paths);
        for (int p = 0; p < x->n_paths && p < CK_RF_MAX_PATHS; p++) {
            fp_bytes(f, &x->paths[p].size, sizeof(double) * 3);
            fp_i64(f, x->paths[p].input);
        }
    }
}

static uint64_t step_rf(const ck_graph *g) {
    fp f = {0};
    ck_rf_table *t = NULL;
    if (ck_rf_analyze(g, &t) != CK_OK) return 1;
    for (int i = 0; i < ck_graph_num_layers(g); i++) {
        ck_rf rf;
        if (ck_rf_layer(t, i, &rf) == CK_OK) fp_rf(&f, &rf);
        ck_layer_info li = ck_graph_layer(g, i);
        for (int k = 0; k < li.n_inputs; k++)
            if (ck_rf_operand(t, i, k, &rf) == CK_OK) fp_rf(&f, &rf);
    }
    ck_rf_table_free(t);
    return f.h;
}

static void fp_runs(fp *f, const ck_runs *r) {
    fp_i64(f, r->n);
    for (int i = 0; i < r->n; i++) fp_bytes(f, &r->v[i], sizeof r->v[i]);
}

static void fp_axis(fp *f, const ck_sizes *s, const ck_sizes_axis *a) {
    fp_str(f, a->name);
    fp_i64(f, a->tensor_axis);
    fp_i64(f, a->current);
    fp_i64(f, a->min);
    fp_i64(f, a->next);
    fp_runs(f, &a->valid);
    fp_runs(f, &a->clean);
    fp_bytes(f, &a->fn, sizeof a->fn);
    for (int64_t n = s->lo; a->out && n <= s->hi; n++) fp_i64(f, a->out[n - s->lo]);
    for (int i = 0; i < a->n_fail; i++) {
        fp_str(f, a->fail[i].layer);
        fp_i64(f, a->fail[i].code);
        fp_runs(f, &a->fail[i].sizes);
    }
}

static uint64_t step_sizes(const ck_graph *g) {
    ck_sizes s;
    if (ck_solve_sizes(g, 0, 24, 40, &s, NULL) != CK_OK) return 1;
    fp f = {0};
    fp_axis(&f, &s, &s.square);
    for (int i = 0; i < s.n_axes; i++) fp_axis(&f, &s, &s.axes[i]);
    fp_i64(&f, s.checks);
    ck_sizes_free(&s);
    return f.h;
}

static uint64_t step_check_as(const ck_graph *g) {
    ck_dialect_diffs d;
    if (ck_check_as(g, CK_DIALECT_KERAS, &d) != CK_OK) return 1;
    fp f = {0};
    fp_i64(&f, d.n);
    for (int i = 0; i < d.n; i++) {
        fp_str(&f, d.v[i].layer);
        fp_shape(&f, &d.v[i].out_a);
        fp_shape(&f, &d.v[i].out_b);
        fp_str(&f, d.v[i].error_b);
    }
    fp_i64(&f, d.ok_a);
    fp_i64(&f, d.ok_b);
    ck_dialect_diffs_free(&d);
    return f.h;
}

static uint64_t step_write(const ck_graph *g) {
    char *text = NULL;
    if (ck_graph_write_cnn(g, "threads", &text, NULL) != CK_OK) return 1;
    fp f = {0};
    fp_str(&f, text);
    free(text);
    return f.h;
}

static uint64_t step_fixes(const ck_graph *bad) {
    ck_fixes fx;
    if (ck_find_fixes(bad, &fx, NULL) != CK_OK) return 1;
    fp f = {0};
    fp_i64(&f, fx.n);
    for (int i = 0; i < fx.n; i++) {
        char *t = ck_fix_str(&fx.v[i]);
        fp_str(&f, t);
        free(t);
        fp_i64(&f, ck_graph_num_layers(fx.v[i].graph));
    }
    fp_i64(&f, fx.checks);
    ck_fixes_free(&fx);
    return f.h;
}

/* The check report (JSON) and the summary (text), as the CLI prints them:
 * each checks its own copy of the graph. */
static uint64_t step_report(const ck_graph *g) {
    fp f = {0};
    char *out = NULL;
    if (ck_report(g, CK_REPORT_CHECK, CK_FORMAT_JSON, NULL, &out) != CK_OK) return 1;
    fp_str(&f, out);
    ck_free(out);
    if (ck_report(g, CK_REPORT_SUMMARY, CK_FORMAT_TEXT, NULL, &out) != CK_OK) return 1;
    fp_str(&f, out);
    ck_free(out);
    return f.h;
}

static uint64_t step_run(const shared *sh, ck_session_ctx *c, float *out) {
    const float *in[1] = {sh->input};
    float *outs[1] = {out};
    if (ck_session_run(sh->s, c, in, outs) != CK_OK) return 1;
    fp f = {0};
    fp_bytes(&f, out, (size_t)sh->out_numel * sizeof *out);
    return f.h;
}

static uint64_t step(const shared *sh, int k, ck_session_ctx *c, float *out) {
    switch (k) {
    case LAYERS:
        return step_layers(sh->g);
    case RF:
        return step_rf(sh->g);
    case SIZES:
        return step_sizes(sh->g);
    case CHECK_AS:
        return step_check_as(sh->g);
    case WRITE:
        return step_write(sh->g);
    case FIXES:
        return step_fixes(sh->bad);
    case REPORT:
        return step_report(sh->g);
    default:
        return step_run(sh, c, out);
    }
}

typedef struct {
    const shared *sh;
    int id;
    int runs[N_STEPS], wrong[N_STEPS];
    bool setup_failed;
} job;

static void *worker(void *arg) {
    job *j = arg;
    const shared *sh = j->sh;
    ck_session_ctx *c = NULL;
    float *out = malloc((size_t)sh->out_numel * sizeof *out);
    if (!out || ck_session_ctx_new(sh->s, &c) != CK_OK) {
        j->setup_failed = true;
        free(out);
        return NULL;
    }
    for (int it = 0; it < sh->iters; it++) {
        /* the cheap reads every time; the heavy steps in turn, staggered
         * across threads so that different steps overlap */
        for (int k = 0; k < N_STEPS; k++) {
            bool cheap = k == LAYERS || k == RF || k == WRITE;
            if (!cheap && (it + j->id + k) % HEAVY_EVERY != 0) continue;
            j->runs[k]++;
            if (step(sh, k, c, out) != sh->want[k]) j->wrong[k]++;
        }
    }
    ck_session_ctx_free(c);
    free(out);
    return NULL;
}

int main(void) {
    const char *e = getenv("CK_THREADS_ITERS");
    shared sh = {.iters = e && atoi(e) > 0 ? atoi(e) : 200};
    ck_graph *g = NULL, *bad = NULL;
    ck_shape small = {4, {1, 3, 32, 32}};
    CHECK(ck_load_file("examples/resnet50.cnn", NULL, &g, NULL) == CK_OK, "load resnet50.cnn");
    CHECK(ck_load_file("examples/chain.cnn", NULL, &bad, NULL) == CK_OK, "load chain.cnn");
    if (!g || !bad) goto out;
    CHECK(ck_graph_set_input_shape(g, 0, &small) == CK_OK && ck_check(g, NULL) == CK_OK,
          "resnet50 at 32x32 is valid");
    CHECK(ck_check(bad, NULL) == CK_EINVALID, "chain at 7x7 is invalid");
    ck_session *s = NULL;
    /* one thread per context: the 8 callers are the concurrency under test
     * (the pool inside a context has its own tests), and TSan stays fast */
    ck_session_options opt = {.seed = 7, .threads = 1};
    CHECK(ck_session_new(g, &opt, &s, NULL) == CK_OK, "session");
    if (!s) goto out;
    ck_shape os = ck_session_output_shape(s, 0);
    ck_tensor_f32 *x = NULL, *y = NULL;
    ck_shape is = ck_session_input_shape(s, 0);
    CHECK(ck_tensor_f32_new(&is, &x) == CK_OK && ck_tensor_f32_new(&os, &y) == CK_OK, "tensors");
    if (x && y) {
        ck_tensor_f32_fill_normal(x, 3);
        sh.g = g;
        sh.bad = bad;
        sh.s = s;
        sh.input = x->data;
        sh.out_numel = ck_tensor_f32_numel(y);

        /* the single-threaded results */
        ck_session_ctx *c = NULL;
        CHECK(ck_session_ctx_new(s, &c) == CK_OK, "context");
        for (int k = 0; c && k < N_STEPS; k++) {
            sh.want[k] = step(&sh, k, c, y->data);
            CHECK(sh.want[k] != 1, "%s fails single-threaded", step_names[k]);
            CHECK(step(&sh, k, c, y->data) == sh.want[k], "%s differs between two runs",
                  step_names[k]);
        }
        ck_session_ctx_free(c);

        pthread_t th[THREADS];
        job jobs[THREADS];
        bool started[THREADS];
        for (int i = 0; i < THREADS; i++) {
            jobs[i] = (job){.sh = &sh, .id = i};
            started[i] = pthread_create(&th[i], NULL, worker, &jobs[i]) == 0;
            CHECK(started[i], "thread %d", i);
        }
        int runs[N_STEPS] = {0};
        for (int i = 0; i < THREADS; i++) {
            if (started[i]) pthread_join(th[i], NULL);
            CHECK(!jobs[i].setup_failed, "thread %d: no context", i);
            for (int k = 0; k < N_STEPS; k++) {
                runs[k] += jobs[i].runs[k];
                CHECK(jobs[i].wrong[k] == 0, "thread %d: %s differed %d of %d times", i,
                      step_names[k], jobs[i].wrong[k], jobs[i].runs[k]);
            }
        }
        for (int k = 0; k < N_STEPS; k++) {
            printf("  %-9s %5d runs over %d threads\n", step_names[k], runs[k], THREADS);
            CHECK(runs[k] >= THREADS, "%s ran %d times", step_names[k], runs[k]);
        }
    }
    ck_tensor_f32_free(x);
    ck_tensor_f32_free(y);
    ck_session_free(s);
out:
    ck_graph_free(g);
    ck_graph_free(bad);
    return TEST_DONE("threads");
}
