/* Reference pooling: max/avg windows, adaptive bins, global pooling (an
 * adaptive pool to 1x1x1) and area resizing (adaptive average). */
#include "runtime/kernels/ref.h"
#include "runtime/kernels/window.h"

#include <math.h>

void rt_ref_pool(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    const rt_geom *gx = &st->u.pool.x, *gy = &st->u.pool.y;
    const int64_t *k = st->u.pool.k, *s = st->u.pool.s, *d = st->u.pool.d;
    const int64_t *pb = st->u.pool.pb, *pe = st->u.pool.pe;
    bool mx = st->u.pool.max, inc = st->u.pool.include_pad;
    for (int64_t n = 0; n < gx->n; n++)
        for (int64_t c = 0; c < gx->c; c++) {
            const float *xc = in[0] + n * gx->sn + c * gx->sc;
            float *yc = out[0] + n * gy->sn + c * gy->sc;
            for (int64_t od = 0; od < gy->sp[0]; od++) {
                int64_t a0, a1, ca;
                rt_window(od, gx->sp[0], k[0], s[0], d[0], pb[0], pe[0], inc, &a0, &a1, &ca);
                for (int64_t oh = 0; oh < gy->sp[1]; oh++) {
                    int64_t b0, b1, cb;
                    rt_window(oh, gx->sp[1], k[1], s[1], d[1], pb[1], pe[1], inc, &b0, &b1, &cb);
                    for (int64_t ow = 0; ow < gy->sp[2]; ow++) {
                        int64_t c0, c1, cc;
                        rt_window(ow, gx->sp[2], k[2], s[2], d[2], pb[2], pe[2], inc, &c0, &c1,
                                  &cc);
                        float acc = mx ? -INFINITY : 0.0f;
                        for (int64_t i = a0; i < a1; i++) {
                            const float *xd = xc + (od * s[0] - pb[0] + i * d[0]) * gx->ss[0];
                            for (int64_t j = b0; j < b1; j++) {
                                const float *xh = xd + (oh * s[1] - pb[1] + j * d[1]) * gx->ss[1];
                                for (int64_t l = c0; l < c1; l++) {
                                    float v = xh[(ow * s[2] - pb[2] + l * d[2]) * gx->ss[2]];
                                    if (mx) {
                                        /* NaN propagates, as in PyTorch */
                                        if (v > acc || isnan(v)) acc = v;
                                    } else {
                                        acc += v;
                                    }
                                }
                            }
                        }
                        if (!mx) {
                            int64_t div = ca * cb * cc;
                            acc = div > 0 ? acc / (float)div : 0.0f;
                        }
                        yc[od * gy->ss[0] + oh * gy->ss[1] + ow * gy->ss[2]] = acc;
                    }
                }
            }
        }
}

/* PyTorch's adaptive bins: [floor(i*in/out), ceil((i+1)*in/out)). */
static void bin(int64_t i, int64_t in, int64_t out, int64_t *a, int64_t *b) {
    *a = (i * in) / out;
    *b = ((i + 1) * in + out - 1) / out;
}

void rt_ref_adaptive_pool(const rt_step *st, const float *const *in, float *const *out,
                          float *scratch) {
    (void)scratch;
    const rt_geom *gx = &st->u.apool.x, *gy = &st->u.apool.y;
    bool mx = st->u.apool.max;
    for (int64_t n = 0; n < gx->n; n++)
        for (int64_t c = 0; c < gx->c; c++) {
            const float *xc = in[0] + n * gx->sn + c * gx->sc;
            float *yc = out[0] + n * gy->sn + c * gy->sc;
            for (int64_t od = 0; od < gy->sp[0]; od++) {
                int64_t d0, d1;
                bin(od, gx->sp[0], gy->sp[0], &d0, &d1);
                for (int64_t oh = 0; oh < gy->sp[1]; oh++) {
                    int64_t h0, h1;
                    bin(oh, gx->sp[1], gy->sp[1], &h0, &h1);
                    for (int64_t ow = 0; ow < gy->sp[2]; ow++) {
                        int64_t w0, w1;
                        bin(ow, gx->sp[2], gy->sp[2], &w0, &w1);
                        float acc = mx ? -INFINITY : 0.0f;
                        for (int64_t i = d0; i < d1; i++)
                            for (int64_t j = h0; j < h1; j++)
                                for (int64_t l = w0; l < w1; l++) {
                                    float v = xc[i * gx->ss[0] + j * gx->ss[1] + l * gx->ss[2]];
                                    if (mx) {
                                        if (v > acc || isnan(v)) acc = v;
                                    } else {
                                        acc += v;
                                    }
                                }
                        if (!mx) {
                            int64_t cnt = (d1 - d0) * (h1 - h0) * (w1 - w0);
                            /* PyTorch's mean of an empty input is NaN */
                            acc = cnt > 0 ? acc / (float)cnt : NAN;
                        }
                        yc[od * gy->ss[0] + oh * gy->ss[1] + ow * gy->ss[2]] = acc;
                    }
                }
            }
        }
}
