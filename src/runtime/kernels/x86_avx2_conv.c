/* AVX2 + FMA instantiation of the blocked kernels (x86_conv.inc). Only this
 * file is built with -mavx2 -mfma; it runs only when cpuid says so. */
#include "runtime/fastconv.h"
#include "runtime/kernels/window.h"

#include <math.h>
#include <string.h>

#define FN(name) rt_avx2_##name

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#define VW 8
typedef __m256 vec;
#define VZERO() _mm256_setzero_ps()
#define VSET1(x) _mm256_set1_ps(x)
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_store_ps(p, v)
#define VSTOREU(p, v) _mm256_storeu_ps(p, v)
#define VBCAST(p) _mm256_broadcast_ss(p)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VFMA_BCAST(a, p, c) VFMA(a, VBCAST(p), c) /* AVX2 has no embedded broadcast */
#define VADD(a, b) _mm256_add_ps(a, b)
#define VSUB(a, b) _mm256_sub_ps(a, b)
#define VMUL(a, b) _mm256_mul_ps(a, b)
#define VDIV(a, b) _mm256_div_ps(a, b)
#define VMIN(a, b) _mm256_min_ps(a, b) /* b when either is NaN */
#define VMAX(a, b) _mm256_max_ps(a, b)
/* max that keeps a NaN from either side (acc sticky, v taken) */
#define VMAXNAN(acc, v)                                                                            \
    _mm256_blendv_ps(_mm256_max_ps(v, acc), v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q))

#include "runtime/kernels/x86_conv.inc"

#else
#include "runtime/kernels/x86_stub.inc"
#endif
