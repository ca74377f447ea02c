/* Peak FP32 throughput, measured (peak.c, the one file built with ISA flags). */
#ifndef BENCH_PEAK_H
#define BENCH_PEAK_H

/* GFLOP/s of `threads` threads each running `iters` iterations of 16
 * independent FMAs on 512-bit (avx512 != 0) or 256-bit vectors; the results
 * are added to *sink so that nothing is optimised away. Call only when the
 * CPU has the ISA (AVX-512F, or AVX2 + FMA). */
double peak_gflops(int avx512, int threads, long iters, float *sink);

#endif
