/* Fast convolution: channel-blocked direct kernels for AVX-512 and AVX2,
 * chosen at plan time from what the CPU reports (cpuid), never from build
 * flags. The reference kernels stay the oracle they are tested against. */
#ifndef CK_FASTCONV_H
#define CK_FASTCONV_H

#include <stdbool.h>
#include <stdint.h>

/* The geometry a fast conv step was planned with (2-D, one group or
 * depthwise). Sizes in floats unless noted. */
typedef struct rt_fconv {
    int vw; /* vector width: 16 (AVX-512) or 8 (AVX2) */
    bool depthwise, relu;
    int ocb, tw; /* register tile: output-channel blocks x output pixels */
    int64_t c, o, h, w, oh, ow;
    int64_t cb, ob, ngroups; /* input / output channel blocks, task groups over ob */
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
    int64_t ihp, iwp; /* padded input rows and columns */
    int64_t xcb;      /* floats per packed input channel block */
    int64_t xcs, xns; /* NCHW input channel and image strides */
    int64_t ycs, yns; /* NCHW output channel and image strides */
    int64_t wob;      /* floats per packed output-channel block of weights */
} rt_fconv;

/* ISA entry points (kernels/x86_avx512_conv.c, kernels/x86_avx2_conv.c) */
#define RT_FCONV_DECL(P)                                                                           \
    bool P##conv_supported(int ocb, int tw);                                                       \
    void P##conv_task(const rt_fconv *p, const float *xb, const float *wb, const float *bias,      \
                      float *y, int64_t n, int64_t g, int64_t oh);                                 \
    void P##dw_task(const rt_fconv *p, const float *xb, const float *wb, const float *bias,        \
                    float *y, int64_t n, int64_t cb, int64_t oh);                                  \
    void P##pack_input(const rt_fconv *p, const float *x, float *xb, int64_t n, int64_t cb0,       \
                       int64_t cb1);
RT_FCONV_DECL(rt_avx512_)
RT_FCONV_DECL(rt_avx2_)

#endif
