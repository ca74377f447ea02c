/* AVX2 + FMA instantiation of the blocked direct convolution (x86_conv.inc).
 * Only this file is built with -mavx2 -mfma; it runs only when cpuid says so. */
#include "runtime/fastconv.h"

#include <string.h>

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#define VW 8
typedef __m256 vec;
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_store_ps(p, v)
#define VBCAST(p) _mm256_set1_ps(*(p))
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define FN(name) rt_avx2_##name

#include "runtime/kernels/x86_conv.inc"

#else
/* not an AVX2 build target: the planner never selects these */
bool rt_avx2_conv_supported(int ocb, int tw) {
    (void)ocb, (void)tw;
    return false;
}
void rt_avx2_conv_task(const rt_fconv *p, const float *xb, const float *wb, const float *bias,
                       float *y, int64_t n, int64_t g, int64_t oh) {
    (void)p, (void)xb, (void)wb, (void)bias, (void)y, (void)n, (void)g, (void)oh;
}
void rt_avx2_dw_task(const rt_fconv *p, const float *xb, const float *wb, const float *bias,
                     float *y, int64_t n, int64_t cb, int64_t oh) {
    (void)p, (void)xb, (void)wb, (void)bias, (void)y, (void)n, (void)cb, (void)oh;
}
void rt_avx2_pack_input(const rt_fconv *p, const float *x, float *xb, int64_t n, int64_t cb0,
                        int64_t cb1) {
    (void)p, (void)x, (void)xb, (void)n, (void)cb0, (void)cb1;
}
#endif
