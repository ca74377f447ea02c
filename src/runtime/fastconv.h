/* Fast kernels: channel-blocked direct convolution for AVX-512 and AVX2, and
 * the pooling / elementwise kernels that keep activations in the blocked
 * layout between convolutions. Chosen at plan time from what the CPU
 * reports (cpuid), never from build flags. The reference kernels stay the
 * oracle they are tested against.
 *
 * The blocked activation layout: [N][ceil(C/VW)][H][W][VW] (oneDNN's
 * nChw16c / nChw8c). Padded channels always hold zeros: the kernels that
 * write blocked data make them zero (zero weights and bias) or keep them so
 * (only ops with f(0) = 0 run on blocked data). */
#ifndef CK_FASTCONV_H
#define CK_FASTCONV_H

#include <stdbool.h>
#include <stdint.h>

/* The geometry a fast conv step was planned with (2-D, one group or
 * depthwise). Sizes in floats unless noted. */
typedef struct rt_fconv {
    int vw; /* vector width: 16 (AVX-512) or 8 (AVX2) */
    bool depthwise;
    bool in_blocked, out_blocked; /* activation layouts of input and output */
    bool direct;                  /* blocked input read in place: no padding to add */
    bool res;                     /* output stage adds a residual (step input 1, output layout) */
    bool clamp;                   /* output stage clamps to [lo, hi] (ReLU, ReLU6, Hardtanh) */
    bool rev;                     /* images of a batch in reverse order (plan.c) */
    float lo, hi;
    /* Winograd F(m x m, 3x3), m = wm (2 or 4; 3x3, stride 1, blocked input):
     * m x m output tiles, tb tiles per task; per task the (m+2)^2 transformed
     * inputs V [(m+2)^2][cb][tb][VW] and products M [(m+2)^2][ocb][tb][VW]
     * live in the thread's scratch */
    bool wino;
    int64_t wm;
    int64_t tiles_w, ntiles, tb, ntg, wsz; /* wsz: scratch floats per thread */
    int ocb, tw; /* register tile: output-channel blocks x output pixels */
    int64_t c, o, h, w, oh, ow;
    int64_t cb, ob, ngroups; /* input / output channel blocks, task groups over ob */
    int64_t kc, rpt;         /* input blocks per reduction chunk; output rows per task */
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
    int64_t ihp, iwp; /* padded input rows and columns (packed input) */
    int64_t xcb, xrs; /* the input the tiles read: floats per channel block and per row */
    int64_t xpix;     /* ... and per pixel: VW, or 4/8 for a packed few-channel input (stems) */
    int64_t xcs, xns; /* the step's input: channel (NCHW) or block (blocked) stride, image stride */
    int64_t ycs, yns; /* the output: channel (NCHW) or block (blocked) stride, image stride */
    int64_t wob;      /* floats per packed output-channel block of weights */
    /* in the session's by-image prefix (plan.c): run image by image by the
     * session, its input, output and residual strides 0 where the session
     * keeps one image of that buffer (x1, y1, r1) */
    bool by_image, x1, y1, r1;
} rt_fconv;

/* Blocked pooling: a max or average window per output pixel and VW channels. */
typedef struct rt_bpool {
    int vw;
    bool max, include_pad;
    int64_t nb;  /* images x channel blocks */
    bool x1, y1; /* in the by-image prefix: the input / output holds one image */
    int64_t h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pbh, pbw;
} rt_bpool;

/* A dense layer y[M, N] = x[M, K] W + b with W packed as [N/VW][K][VW]
 * (N padded to whole pairs of blocks, zeros). */
typedef struct rt_flin {
    int vw, mr;                   /* vector width, rows per task (1 or 4) */
    int64_t m, k, n, npair, mgrp; /* npair: pairs of output blocks; mgrp: row groups */
} rt_flin;

struct ck_session;
/* Fills the packed weights of the dense fast conv steps (allocated by the
 * layout pass) on the session's threads; false when memory ran out. */
bool rt_fastconv_pack_all(struct ck_session *s);
/* Image `n` of a fast conv step, in[] and out[] pointing at the whole
 * buffers (a by-image step's one-image buffers at image 0). A post
 * activation its output stage cannot do is left to the caller: the whole
 * step applies it after the batch, and the by-image prefix admits no such
 * step (plan.c by_image). */
struct rt_step;
struct rt_pool;
void rt_fastconv_run_image(const struct rt_step *st, const float *const *in, float *const *out,
                           float *scratch, struct rt_pool *pool, int64_t n);

/* ISA entry points (kernels/x86_avx512_conv.c, kernels/x86_avx2_conv.c) */
#define RT_FCONV_DECL(P)                                                                           \
    bool P##conv_supported(int ocb, int tw);                                                       \
    void P##conv_task(const rt_fconv *p, const float *xb, const float *wb, const float *bias,      \
                      const float *res, float *y, int64_t g, int64_t oh0, int64_t oh1);            \
    void P##dw_task(const rt_fconv *p, const float *xb, const float *wb, const float *bias,        \
                    const float *res, float *y, int64_t cb, int64_t oh);                           \
    void P##wino_task(const rt_fconv *p, const float *x, const float *u, const float *bias,        \
                      const float *res, float *y, float *ws, int64_t g, int64_t tg);               \
    void P##pack_input(const rt_fconv *p, const float *x, float *xb, int64_t cb, int64_t h);       \
    void P##bpool_task(const rt_bpool *p, const float *x, float *y, int64_t nb, int64_t oh);       \
    void P##bgpool(int64_t hw, int64_t c, int max, const float *x, float *y);                      \
    void P##baffine(int64_t hw, const float *sc, const float *sh, const float *x, float *y);       \
    void P##bbinary(int op, int64_t n, const float *a, const float *b, float *y);                  \
    void P##linear_task(const rt_flin *p, const float *x, const float *wp, const float *bias,      \
                        float *y, int64_t t);
RT_FCONV_DECL(rt_avx512_)
RT_FCONV_DECL(rt_avx2_)

#endif
