/* AVX-512 instantiation of the blocked kernels (x86_conv.inc). Only this
 * file is built with -mavx512f; it runs only when cpuid says so. */
#include "runtime/fastconv.h"
#include "runtime/kernels/window.h"

#include <math.h>
#include <string.h>

#define FN(name) rt_avx512_##name

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#define VW 16
typedef __m512 vec;
#define VZERO() _mm512_setzero_ps()
#define VSET1(x) _mm512_set1_ps(x)
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_store_ps(p, v)
#define VSTOREU(p, v) _mm512_storeu_ps(p, v)
#define VBCAST(p) _mm512_set1_ps(*(p))
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
/* c + a * broadcast(*p) as one FMA with an embedded broadcast: the tile
 * then needs no register for the broadcast value, so a 4 x 7 tile (28
 * accumulators and 4 weight vectors) fits the 32 registers without a spill
 * (gcc kept the broadcast in a register and spilled an accumulator). Under
 * AddressSanitizer the checked intrinsic form runs (same values). */
#if defined(__SANITIZE_ADDRESS__)
#define CK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CK_ASAN 1
#endif
#endif
#ifdef CK_ASAN
#define VFMA_BCAST(a, p, c) _mm512_fmadd_ps(a, _mm512_set1_ps(*(p)), c)
#else
static inline __m512 vfma_bcast(__m512 a, const float *p, __m512 c) {
    __asm__("vfmadd231ps %2%{1to16%}, %1, %0" : "+v"(c) : "v"(a), "m"(*p));
    return c;
}
#define VFMA_BCAST(a, p, c) vfma_bcast(a, p, c)
#endif
#define VADD(a, b) _mm512_add_ps(a, b)
#define VSUB(a, b) _mm512_sub_ps(a, b)
#define VMUL(a, b) _mm512_mul_ps(a, b)
#define VDIV(a, b) _mm512_div_ps(a, b)
#define VMIN(a, b) _mm512_min_ps(a, b) /* b when either is NaN */
#define VMAX(a, b) _mm512_max_ps(a, b)
/* max that keeps a NaN from either side (acc sticky, v taken) */
#define VMAXNAN(acc, v)                                                                            \
    _mm512_mask_mov_ps(_mm512_max_ps(v, acc), _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v)

#include "runtime/kernels/x86_conv.inc"

#else
#include "runtime/kernels/x86_stub.inc"
#endif
