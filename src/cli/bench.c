/* convkit bench: times the forward pass of any model for a user. The model is
 * loaded, checked and turned into a session once; the session then runs
 * WARMUP untimed and RUNS timed passes over one seeded random input, and the
 * median, min and max wall time of one pass are reported. With --profile,
 * profiled passes (ck_session_run_profiled) follow and give each step's
 * median time, its kernel and its rate. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: convkit bench MODEL [--input SHAPE] [--threads N] [--runs N] [--warmup N]\n"
    "                     [--kernels K] [--seed N] [--profile] [--json]\n"
    "\n"
    "Times the forward pass on the CPU (float32): builds the session once, runs it\n"
    "WARMUP times untimed, then RUNS times on a seeded random input, and reports the\n"
    "median, min and max milliseconds of one pass.\n"
    "\n"
    "  --input SHAPE   input shape, 1x3x224x224 or [1,3,224,224]; NAME=SHAPE for a named\n"
    "                  input; needed when the model declares no input shape\n"
    "  --threads N     threads of the forward pass (default: the CPUs online)\n"
    "  --kernels K     auto (the best the CPU has), ref, avx2 or avx512 (never above the CPU)\n"
    "  --runs N        timed passes (default 10)\n"
    "  --warmup N      untimed passes before them (default 2)\n"
    "  --seed N        seed of the random input and of the default initialisation of\n"
    "                  models without weights (.cnn, Keras JSON); default 0\n"
    "  --weights-dir D folder of ONNX external data (default: the model's folder)\n"
    "  --profile       then RUNS more passes (at most 1000) timed step by step: per step\n"
    "                  (execution order) its layer, type, kernel, median ms, % of the sum\n"
    "                  of the step medians and GFLOP/s; steps folded into a convolution\n"
    "                  are listed with the kernel 'folded into LAYER'\n"
    "  --json          print one JSON object (model, ok, input, inputs, threads, kernels,\n"
    "                  runs, warmup, median_ms, min_ms, max_ms, mean_ms, times_ms, macs,\n"
    "                  memory, diagnostics; with --profile also profile: runs, total_ms,\n"
    "                  steps_ms, and steps, each index, layer, type, kernel, flops,\n"
    "                  median_ms, pct, gflops)\n"
    "exit status: 0 ran, 1 invalid model, 2 bad usage, unreadable file or missing weights\n";

#define MAX_RUNS 1000000
#define MAX_PROFILE_RUNS 1000

typedef struct bench_opts {
    long threads, runs, warmup; /* threads 0: the CPUs online */
    ck_kernels kernels;
    uint64_t seed;
    const char *weights_dir;
    bool profile;
    const char *bad; /* an option error, reported once cli_parse knows --json */
} bench_opts;

static bool parse_count(const char *s, long lo, long hi, long *out) {
    if (!s || !*s || s[0] == '-' || s[0] == '+') return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool bench_extra(const char *opt, const char *val, void *ctx) {
    bench_opts *b = ctx;
    long v = 0;
    if (!strcmp(opt, "--threads")) {
        if (parse_count(val, 1, 256, &v))
            b->threads = v;
        else if (!b->bad)
            b->bad = "--threads takes a whole number from 1 to 256";
    } else if (!strcmp(opt, "--kernels")) {
        if (!parse_kernels(val, &b->kernels) && !b->bad)
            b->bad = "--kernels takes auto, ref, avx2 or avx512";
    } else if (!strcmp(opt, "--runs")) {
        if (parse_count(val, 1, MAX_RUNS, &v))
            b->runs = v;
        else if (!b->bad)
            b->bad = "--runs takes a whole number from 1 to 1000000";
    } else if (!strcmp(opt, "--warmup")) {
        if (parse_count(val, 0, MAX_RUNS, &v))
            b->warmup = v;
        else if (!b->bad)
            b->bad = "--warmup takes a whole number from 0 to 1000000";
    } else if (!strcmp(opt, "--seed")) {
        char *end;
        errno = 0;
        unsigned long long s = val && *val && val[0] != '-' ? strtoull(val, &end, 0) : 0;
        if (val && *val && val[0] != '-' && !*end && !errno)
            b->seed = s;
        else if (!b->bad)
            b->bad = "--seed takes a non-negative integer";
    } else if (!strcmp(opt, "--weights-dir")) {
        b->weights_dir = val;
    } else if (!strcmp(opt, "--profile")) {
        b->profile = true;
    } else {
        return false;
    }
    return true;
}

static const char *kernels_name(ck_kernels k) {
    return k == CK_KERNELS_AVX512 ? "avx512" : k == CK_KERNELS_AVX2 ? "avx2" : "ref";
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median of v[0..n), which it sorts */
static double median_sorted(double *v, long n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* --profile: each step of the session and its median time over the
 * profiled passes. */
typedef struct step_prof {
    ck_step_info info;
    double median_ms;
} step_prof;

typedef struct profile {
    long runs;
    int n;            /* steps */
    step_prof *steps; /* in execution order */
    double total_ms;  /* median over the passes of the sum of their step times */
    double steps_ms;  /* sum of the step medians (what pct is of) */
} profile;

/* Runs `runs` profiled passes. false when out of memory. */
static bool profile_run(const ck_session *s, ck_session_ctx *ctx, const float *const *ip,
                        float *const *op, long runs, profile *p) {
    int n = ck_session_describe(s).steps;
    p->runs = runs;
    p->n = n;
    p->steps = calloc((size_t)(n ? n : 1), sizeof *p->steps);
    double *sec = malloc((size_t)(n ? n : 1) * (size_t)runs * sizeof *sec);
    double *col = malloc((size_t)runs * sizeof *col);
    bool ok = p->steps && sec && col;
    for (int i = 0; ok && i < n; i++) ok = ck_session_step(s, i, &p->steps[i].info) == CK_OK;
    for (long r = 0; ok && r < runs; r++)
        ok = ck_session_run_profiled(s, ctx, ip, op, sec + r * n) == CK_OK;
    if (ok) {
        for (long r = 0; r < runs; r++) {
            col[r] = 0;
            for (int i = 0; i < n; i++) col[r] += sec[r * n + i];
        }
        p->total_ms = 1e3 * median_sorted(col, runs);
        p->steps_ms = 0;
        for (int i = 0; i < n; i++) {
            for (long r = 0; r < runs; r++) col[r] = sec[r * n + i];
            p->steps[i].median_ms = 1e3 * median_sorted(col, runs);
            p->steps_ms += p->steps[i].median_ms;
        }
    }
    free(sec);
    free(col);
    return ok;
}

static double step_pct(const profile *p, int i) {
    return p->steps_ms > 0 ? 100.0 * p->steps[i].median_ms / p->steps_ms : 0;
}

/* GFLOP/s of step i at its median; < 0 when it does no counted arithmetic */
static double step_gflops(const profile *p, int i) {
    const step_prof *st = &p->steps[i];
    if (st->info.flops <= 0 || st->median_ms <= 0) return -1;
    return (double)st->info.flops / (st->median_ms * 1e6);
}

static json_t *profile_json(const profile *p) {
    json_t *j = json_object();
    json_object_set_new(j, "runs", json_integer(p->runs));
    json_object_set_new(j, "total_ms", json_real(p->total_ms));
    json_object_set_new(j, "steps_ms", json_real(p->steps_ms));
    json_t *a = json_array();
    for (int i = 0; i < p->n; i++) {
        const step_prof *st = &p->steps[i];
        json_t *e = json_object();
        json_object_set_new(e, "index", json_integer(i));
        json_object_set_new(e, "layer", json_string(st->info.layer));
        json_object_set_new(e, "type", json_string(st->info.type));
        json_object_set_new(e, "kernel", json_string(st->info.kernel));
        json_object_set_new(e, "flops", json_integer(st->info.flops));
        json_object_set_new(e, "median_ms", json_real(st->median_ms));
        json_object_set_new(e, "pct", json_real(step_pct(p, i)));
        double gf = step_gflops(p, i);
        json_object_set_new(e, "gflops", gf >= 0 ? json_real(gf) : json_null());
        json_array_append_new(a, e);
    }
    json_object_set_new(j, "steps", a);
    return j;
}

static int max_int(int a, int b) {
    return a > b ? a : b;
}

static void profile_print(const profile *p) {
    int wl = 5, wt = 4, wk = 6;
    for (int i = 0; i < p->n; i++) {
        wl = max_int(wl, (int)strlen(p->steps[i].info.layer));
        wt = max_int(wt, (int)strlen(p->steps[i].info.type));
        wk = max_int(wk, (int)strlen(p->steps[i].info.kernel));
    }
    printf("\nprofile: median of %ld profiled runs per step, in execution order; %% of the sum "
           "of the step medians\n",
           p->runs);
    printf("%4s  %-*s  %-*s  %-*s  %9s  %6s  %8s\n", "step", wl, "layer", wt, "type", wk, "kernel",
           "ms", "%", "GFLOP/s");
    for (int i = 0; i < p->n; i++) {
        const step_prof *st = &p->steps[i];
        char gf[32] = "-";
        double g = step_gflops(p, i);
        if (g >= 0) snprintf(gf, sizeof gf, "%.2f", g);
        printf("%4d  %-*s  %-*s  %-*s  %9.3f  %6.1f  %8s\n", i, wl, st->info.layer, wt,
               st->info.type, wk, st->info.kernel, st->median_ms, step_pct(p, i), gf);
    }
    printf("sum of the step medians: %.3f ms; median profiled run: %.3f ms\n", p->steps_ms,
           p->total_ms);
}

int cmd_bench(int argc, char **argv) {
    static const char *const takes[] = {"--threads",     "--runs",    "--warmup", "--seed",
                                        "--weights-dir", "--kernels", NULL};
    bench_opts b = {.threads = 0, .runs = 10, .warmup = 2};
    cli_opts o;
    int code = EXIT_USAGE;
    ck_graph *g = NULL;
    ck_session *s = NULL;
    ck_session_ctx *ctx = NULL;
    ck_tensor_f32 *in[CLI_MAX_IO] = {0}, *out[CLI_MAX_IO] = {0};
    double *times = NULL, *sorted = NULL;
    profile prof = {0};
    ck_diags d = {0};

    int rc = cli_parse(argc, argv, &o, takes, bench_extra, &b, usage);
    if (rc) return rc < 0 ? 0 : rc;
    if (b.bad) return cli_usage_error(&o, usage, "%s", b.bad);

    g = cli_load(&o, &d, &code);
    if (!g) {
        code = cli_fail(&o, &d, code);
        goto done;
    }
    int ni = ck_graph_num_inputs(g);
    if (ni > CLI_MAX_IO) {
        code = cli_usage_error(&o, usage, "%s", "the model has more than 16 inputs");
        goto done;
    }
    for (int i = 0; i < ni; i++) {
        ck_shape sh = ck_graph_input_shape(g, i);
        bool declared = sh.rank > 0;
        for (int k = 0; k < sh.rank; k++) declared &= sh.d[k] > 0;
        if (!declared) {
            char msg[256];
            snprintf(msg, sizeof msg,
                     "the model does not declare the shape of input '%s'; give --input SHAPE",
                     ck_graph_input_name(g, i));
            code = cli_usage_error(&o, usage, "%s", msg);
            goto done;
        }
    }
    ck_status st = ck_check(g, &d);
    if (st != CK_OK) {
        code = cli_fail(&o, &d, st == CK_EUSAGE ? EXIT_USAGE : EXIT_INVALID);
        goto done;
    }
    ck_session_options so = {.seed = b.seed,
                             .weights_dir = b.weights_dir,
                             .threads = (int)b.threads,
                             .kernels = b.kernels};
    st = ck_session_new(g, &so, &s, &d);
    if (st != CK_OK) {
        code = cli_fail(&o, &d, st == CK_EINVALID ? EXIT_INVALID : EXIT_USAGE);
        goto done;
    }
    /* what the planner chose: the threads and kernels that really ran */
    ck_session_info info = ck_session_describe(s);
    const float *ip[CLI_MAX_IO];
    float *op[CLI_MAX_IO];
    const char *oom = cli_session_tensors(s, b.seed, in, out, ip, op);
    if (oom) {
        code = cli_usage_error(&o, usage, "%s", oom);
        goto done;
    }
    times = malloc((size_t)b.runs * sizeof *times);
    sorted = malloc((size_t)b.runs * sizeof *sorted);
    if (!times || !sorted || ck_session_ctx_new(s, &ctx) != CK_OK) {
        code = cli_usage_error(&o, usage, "%s", "out of memory for the activations");
        goto done;
    }
    for (long r = 0; r < b.warmup; r++) ck_session_run(s, ctx, ip, op);
    for (long r = 0; r < b.runs; r++) {
        double t0 = cli_now_ms();
        ck_session_run(s, ctx, ip, op);
        times[r] = cli_now_ms() - t0;
    }
    memcpy(sorted, times, (size_t)b.runs * sizeof *sorted);
    qsort(sorted, (size_t)b.runs, sizeof *sorted, cmp_double);
    long n = b.runs;
    double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    double sum = 0;
    for (long r = 0; r < n; r++) sum += times[r];
    double mean = sum / (double)n;
    ck_totals tot = ck_graph_totals(g);
    ck_session_memory m = ck_session_memory_plan(s);
    if (b.profile && !profile_run(s, ctx, ip, op,
                                  b.runs < MAX_PROFILE_RUNS ? b.runs : MAX_PROFILE_RUNS, &prof)) {
        code = cli_usage_error(&o, usage, "%s", "out of memory for the profile");
        goto done;
    }

    if (o.json) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(o.model));
        json_object_set_new(j, "dialect", json_string(ck_dialect_name(ck_graph_dialect(g))));
        json_object_set_new(j, "ok", json_true());
        ck_shape s0 = ck_session_input_shape(s, 0);
        json_object_set_new(j, "input", cli_shape_json(&s0));
        json_object_set_new(j, "inputs", cli_json_of(ck_inputs_json(g)));
        json_object_set_new(j, "threads", json_integer(info.threads));
        json_object_set_new(j, "kernels", json_string(kernels_name(info.kernels)));
        json_object_set_new(j, "fast_steps", json_integer(info.fast_steps));
        json_object_set_new(j, "folded_steps", json_integer(info.folded_steps));
        json_object_set_new(j, "steps", json_integer(info.steps));
        json_object_set_new(j, "runs", json_integer(b.runs));
        json_object_set_new(j, "warmup", json_integer(b.warmup));
        json_object_set_new(j, "seed", json_integer((json_int_t)b.seed));
        json_object_set_new(j, "median_ms", json_real(median));
        json_object_set_new(j, "min_ms", json_real(sorted[0]));
        json_object_set_new(j, "max_ms", json_real(sorted[n - 1]));
        json_object_set_new(j, "mean_ms", json_real(mean));
        json_t *jt = json_array();
        for (long r = 0; r < n; r++) json_array_append_new(jt, json_real(times[r]));
        json_object_set_new(j, "times_ms", jt);
        json_object_set_new(j, "macs", json_integer(tot.macs));
        json_t *jm = json_object();
        json_object_set_new(jm, "activation_bytes", json_integer(m.activation_bytes));
        json_object_set_new(jm, "scratch_bytes", json_integer(m.scratch_bytes));
        json_object_set_new(jm, "weight_bytes", json_integer(m.weight_bytes));
        json_object_set_new(j, "memory", jm);
        json_object_set_new(j, "diagnostics", cli_json_of(ck_diags_json(&d)));
        if (b.profile) json_object_set_new(j, "profile", profile_json(&prof));
        cli_print_json(j);
    } else {
        char buf[160];
        cli_print_diags(stderr, &d); /* warnings */
        printf("model: %s (%s)\n", o.model, ck_dialect_name(ck_graph_dialect(g)));
        for (int i = 0; i < ni; i++) {
            ck_shape sh = ck_session_input_shape(s, i);
            printf("input %s %s: seeded normal (seed %llu)\n", ck_session_input_name(s, i),
                   ck_shape_str(&sh, buf, sizeof buf), (unsigned long long)b.seed);
        }
        printf("threads: %d; kernels: %s (%d of %d steps fast, %d folded); %ld timed runs after "
               "%ld warmup\n",
               info.threads, kernels_name(info.kernels), info.fast_steps, info.steps,
               info.folded_steps, b.runs, b.warmup);
        printf("time per run: median %.3f ms, min %.3f ms, max %.3f ms (mean %.3f ms)\n", median,
               sorted[0], sorted[n - 1], mean);
        if (tot.macs > 0 && median > 0)
            printf("%.4g M multiply-adds per run: %.3g GMAC/s at the median\n",
                   (double)tot.macs / 1e6, (double)tot.macs / 1e6 / median);
        if (b.profile) profile_print(&prof);
    }
    code = EXIT_VALID;

done:
    for (int i = 0; i < CLI_MAX_IO; i++) {
        ck_tensor_f32_free(in[i]);
        ck_tensor_f32_free(out[i]);
    }
    free(times);
    free(sorted);
    free(prof.steps);
    ck_session_ctx_free(ctx);
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
    return code;
}
