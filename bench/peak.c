/* Peak FP32 throughput of this machine, measured: every thread runs a loop of
 * independent fused multiply-adds on registers (no memory traffic): 16
 * accumulator chains with AVX-512 (32 registers), 12 with AVX2 (16
 * registers, so nothing spills), enough to hide the FMA latency on every
 * current x86 core (4-5 cycles x 2 FMA ports = at most 10 chains needed).
 * One FMA on a W-lane vector is 2*W flops.
 *
 * The only file of the harness built with ISA flags (-mavx2 -mfma
 * -mavx512f); its functions are called only when cpuid says the ISA is
 * there (bench.c checks __builtin_cpu_supports first). */
#include "peak.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Each loop iteration: 16 FMAs. The accumulators feed back into
 * themselves, so no iteration can be removed; the sum at the end is
 * returned so that the loop is not dead. */
#define FMA16(fma, a)                                                                              \
    do {                                                                                           \
        a##0 = fma(a##0, x, y);                                                                    \
        a##1 = fma(a##1, x, y);                                                                    \
        a##2 = fma(a##2, x, y);                                                                    \
        a##3 = fma(a##3, x, y);                                                                    \
        a##4 = fma(a##4, x, y);                                                                    \
        a##5 = fma(a##5, x, y);                                                                    \
        a##6 = fma(a##6, x, y);                                                                    \
        a##7 = fma(a##7, x, y);                                                                    \
        a##8 = fma(a##8, x, y);                                                                    \
        a##9 = fma(a##9, x, y);                                                                    \
        a##10 = fma(a##10, x, y);                                                                  \
        a##11 = fma(a##11, x, y);                                                                  \
        a##12 = fma(a##12, x, y);                                                                  \
        a##13 = fma(a##13, x, y);                                                                  \
        a##14 = fma(a##14, x, y);                                                                  \
        a##15 = fma(a##15, x, y);                                                                  \
    } while (0)

/* AVX2 has 16 vector registers: 12 chains + the two operands, no spills */
#define FMA12(fma, a)                                                                              \
    do {                                                                                           \
        a##0 = fma(a##0, x, y);                                                                    \
        a##1 = fma(a##1, x, y);                                                                    \
        a##2 = fma(a##2, x, y);                                                                    \
        a##3 = fma(a##3, x, y);                                                                    \
        a##4 = fma(a##4, x, y);                                                                    \
        a##5 = fma(a##5, x, y);                                                                    \
        a##6 = fma(a##6, x, y);                                                                    \
        a##7 = fma(a##7, x, y);                                                                    \
        a##8 = fma(a##8, x, y);                                                                    \
        a##9 = fma(a##9, x, y);                                                                    \
        a##10 = fma(a##10, x, y);                                                                  \
        a##11 = fma(a##11, x, y);                                                                  \
    } while (0)

static float fma_loop_avx512(long iters, float seed) {
    __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(seed * 1e-7f);
    /* distinct start values: the chains cannot be merged into one */
    __m512 a0 = _mm512_set1_ps(seed + 0.0f), a1 = _mm512_set1_ps(seed + 1.0f), a2 = _mm512_set1_ps(seed + 2.0f), a3 = _mm512_set1_ps(seed + 3.0f),
           a4 = _mm512_set1_ps(seed + 4.0f), a5 = _mm512_set1_ps(seed + 5.0f), a6 = _mm512_set1_ps(seed + 6.0f), a7 = _mm512_set1_ps(seed + 7.0f),
           a8 = _mm512_set1_ps(seed + 8.0f), a9 = _mm512_set1_ps(seed + 9.0f), a10 = _mm512_set1_ps(seed + 10.0f), a11 = _mm512_set1_ps(seed + 11.0f),
           a12 = _mm512_set1_ps(seed + 12.0f), a13 = _mm512_set1_ps(seed + 13.0f), a14 = _mm512_set1_ps(seed + 14.0f), a15 = _mm512_set1_ps(seed + 15.0f);
    for (long i = 0; i < iters; i++) FMA16(_mm512_fmadd_ps, a);
    __m512 s = _mm512_add_ps(
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                      _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7))),
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                      _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
    return _mm512_reduce_add_ps(s);
}

static float fma_loop_avx2(long iters, float seed) {
    __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(seed * 1e-7f);
    /* distinct start values: the chains cannot be merged into one */
    __m256 a0 = _mm256_set1_ps(seed + 0.0f), a1 = _mm256_set1_ps(seed + 1.0f),
           a2 = _mm256_set1_ps(seed + 2.0f), a3 = _mm256_set1_ps(seed + 3.0f),
           a4 = _mm256_set1_ps(seed + 4.0f), a5 = _mm256_set1_ps(seed + 5.0f),
           a6 = _mm256_set1_ps(seed + 6.0f), a7 = _mm256_set1_ps(seed + 7.0f),
           a8 = _mm256_set1_ps(seed + 8.0f), a9 = _mm256_set1_ps(seed + 9.0f),
           a10 = _mm256_set1_ps(seed + 10.0f), a11 = _mm256_set1_ps(seed + 11.0f);
    for (long i = 0; i < iters; i++) FMA12(_mm256_fmadd_ps, a);
    __m256 s = _mm256_add_ps(
        _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                      _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7))),
        _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float v[8];
    _mm256_storeu_ps(v, s);
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}

typedef struct job {
    int avx512;
    long iters;
    float out;
    double t0, t1; /* this thread's loop, seconds */
    pthread_barrier_t *start;
} job;

static void *worker(void *p) {
    job *j = p;
    pthread_barrier_wait(j->start);
    j->t0 = now_s();
    j->out = j->avx512 ? fma_loop_avx512(j->iters, 1.0f) : fma_loop_avx2(j->iters, 1.0f);
    j->t1 = now_s();
    return NULL;
}

double peak_gflops(int avx512, int threads, long iters, float *sink) {
    enum { MAXT = 64 };
    if (threads < 1) threads = 1;
    if (threads > MAXT) threads = MAXT;
    pthread_t tid[MAXT];
    job jobs[MAXT];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){avx512, iters, 0.0f, 0.0, 0.0, &start};
        if (pthread_create(&tid[t], NULL, worker, &jobs[t]) != 0) {
            fprintf(stderr, "bench: cannot start a thread\n");
            exit(1);
        }
    }
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&start);
    /* from the first thread's start to the last one's end */
    double t0 = jobs[0].t0, t1 = jobs[0].t1;
    for (int t = 0; t < threads; t++) {
        *sink += jobs[t].out;
        t0 = jobs[t].t0 < t0 ? jobs[t].t0 : t0;
        t1 = jobs[t].t1 > t1 ? jobs[t].t1 : t1;
    }
    double dt = t1 - t0;
    /* per iteration: 16 FMAs on 16 lanes, or 12 on 8 */
    double flops = (double)threads * (double)iters * (avx512 ? 16.0 * 16.0 : 12.0 * 8.0) * 2.0;
    return flops / dt / 1e9;
}
