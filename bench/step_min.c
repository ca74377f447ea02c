/* Per-step minimum times of a convkit session over N profiled runs
 * (ck_session_run_profiled), and their sum: a comparison that holds on a
 * machine other processes share, where medians of whole runs do not (a
 * step interrupted by another process is not the minimum). bench/ort/
 * ort_profile.js prints the same for ONNX Runtime's nodes (bench/README.md).
 *
 *   build/bench/step_min MODEL THREADS RUNS [NxCxHxW]   (every step: STEP_MIN_ALL=1)
 */
#include "convkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: step_min MODEL THREADS RUNS [NxCxHxW]\n");
        return 2;
    }
    ck_graph *g = NULL;
    ck_diags d = {0};
    int threads = atoi(argv[2]), runs = atoi(argv[3]);
    if (ck_load_file(argv[1], NULL, &g, &d) != CK_OK) {
        fprintf(stderr, "step_min: cannot read %s\n", argv[1]);
        return 1;
    }
    if (argc > 4) {
        ck_shape s = {4, {0}};
        long long v[4];
        if (sscanf(argv[4], "%lldx%lldx%lldx%lld", &v[0], &v[1], &v[2], &v[3]) != 4) return 2;
        for (int i = 0; i < 4; i++) s.d[i] = v[i];
        ck_graph_set_input_shape(g, 0, &s);
    }
    ck_session_options so = {.seed = 1, .threads = threads};
    ck_session *s = NULL;
    ck_session_ctx *c = NULL;
    if (ck_check(g, &d) != CK_OK || ck_session_new(g, &so, &s, &d) != CK_OK ||
        ck_session_ctx_new(s, &c) != CK_OK) {
        fprintf(stderr, "step_min: %s\n", d.n && d.v[0].message ? d.v[0].message : "no session");
        return 1;
    }
    ck_shape is = ck_session_input_shape(s, 0), os = ck_session_output_shape(s, 0);
    ck_tensor_f32 *x = NULL, *y = NULL;
    if (ck_tensor_f32_new(&is, &x) != CK_OK || ck_tensor_f32_new(&os, &y) != CK_OK) return 1;
    ck_tensor_f32_fill_normal(x, 3);
    int n = ck_session_describe(s).steps;
    double *sec = calloc((size_t)n, sizeof *sec), *mn = malloc((size_t)n * sizeof *mn);
    if (!sec || !mn) return 1;
    for (int i = 0; i < n; i++) mn[i] = 1e30;
    const float *in[1] = {x->data};
    float *out[1] = {y->data};
    double best = 1e30;
    for (int r = 0; r < runs + 2; r++) {
        double t0 = now_s();
        ck_session_run_profiled(s, c, in, out, sec);
        double t = now_s() - t0;
        if (r < 2) continue; /* warm-up */
        best = t < best ? t : best;
        for (int i = 0; i < n; i++) mn[i] = sec[i] < mn[i] ? sec[i] : mn[i];
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
        ck_step_info info;
        if (ck_session_step(s, i, &info) != CK_OK || (mn[i] == 0 && !info.flops)) continue;
        sum += mn[i];
        if (getenv("STEP_MIN_ALL") || info.flops)
            printf("%3d %-44.44s %-56.56s %8.3f ms %7.1f GF/s\n", i, info.layer, info.kernel,
                   mn[i] * 1e3, info.flops ? (double)info.flops / mn[i] / 1e9 : 0.0);
    }
    printf("%s, %d threads: sum of step minima %.3f ms; best run %.3f ms (%d runs)\n", argv[1],
           threads, sum * 1e3, best * 1e3, runs);
    free(sec);
    free(mn);
    ck_tensor_f32_free(x);
    ck_tensor_f32_free(y);
    ck_session_ctx_free(c);
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
    return 0;
}
