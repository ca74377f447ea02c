/* Reference convolutions on the N x C x D x H x W view (1-D and 2-D layers
 * use size-1 leading spatial axes), any layout through strides.
 *
 * Loop order: output channel, input channel, kernel tap, then output rows;
 * for each tap the range of output positions whose input lies inside the
 * (padded) input is computed once, so the innermost loop has no bounds
 * checks and is a plain multiply-add over a row. */
#include "runtime/kernels/ref.h"

#include <string.h>

/* Output positions o in [0, out) with 0 <= o*s - p + t < in, for tap offset t. */
static void tap_range(int64_t in, int64_t out, int64_t s, int64_t p, int64_t t, int64_t *lo,
                      int64_t *hi) {
    int64_t a = ck_ceildiv(p - t, s), b = ck_floordiv(in - 1 + p - t, s) + 1;
    *lo = a < 0 ? 0 : a;
    *hi = b > out ? out : b;
}

/* y-plane (one output channel of one sample) = value. */
static void fill_plane(float *y, const rt_geom *g, float v) {
    for (int64_t d = 0; d < g->sp[0]; d++)
        for (int64_t h = 0; h < g->sp[1]; h++) {
            float *row = y + d * g->ss[0] + h * g->ss[1];
            if (g->ss[2] == 1)
                for (int64_t w = 0; w < g->sp[2]; w++) row[w] = v;
            else
                for (int64_t w = 0; w < g->sp[2]; w++) row[w * g->ss[2]] = v;
        }
}

/* y-plane += wv * x-plane sampled by the tap (kd, kh, kw). */
static void conv_tap(float *y, const rt_geom *gy, const float *x, const rt_geom *gx, float wv,
                     const int64_t *s, const int64_t *p, const int64_t *t) {
    int64_t lo[3], hi[3];
    for (int i = 0; i < 3; i++) {
        tap_range(gx->sp[i], gy->sp[i], s[i], p[i], t[i], &lo[i], &hi[i]);
        if (lo[i] >= hi[i]) return;
    }
    int64_t xs = s[2] * gx->ss[2], ys = gy->ss[2], n = hi[2] - lo[2];
    for (int64_t od = lo[0]; od < hi[0]; od++) {
        int64_t id = od * s[0] - p[0] + t[0];
        for (int64_t oh = lo[1]; oh < hi[1]; oh++) {
            int64_t ih = oh * s[1] - p[1] + t[1];
            float *yr = y + od * gy->ss[0] + oh * gy->ss[1] + lo[2] * ys;
            const float *xr =
                x + id * gx->ss[0] + ih * gx->ss[1] + (lo[2] * s[2] - p[2] + t[2]) * gx->ss[2];
            if (xs == 1 && ys == 1)
                for (int64_t w = 0; w < n; w++) yr[w] += wv * xr[w];
            else
                for (int64_t w = 0; w < n; w++) yr[w * ys] += wv * xr[w * xs];
        }
    }
}

/* Direct grouped convolution: x (geometry gx) -> y (gy), weights
 * [O, C/groups, kD, kH, kW], pads pb. */
static void conv_direct(const float *x, const rt_geom *gx, float *y, const rt_geom *gy,
                        const float *w, const float *b, int64_t groups, const int64_t *k,
                        const int64_t *s, const int64_t *dil, const int64_t *pb) {
    int64_t O = gy->c, cg = gx->c / groups, og = O / groups;
    int64_t kn = k[0] * k[1] * k[2];
    for (int64_t n = 0; n < gx->n; n++)
        for (int64_t o = 0; o < O; o++) {
            float *yo = y + n * gy->sn + o * gy->sc;
            fill_plane(yo, gy, b ? b[o] : 0.0f);
            int64_t g = o / og;
            for (int64_t ci = 0; ci < cg; ci++) {
                const float *xc = x + n * gx->sn + (g * cg + ci) * gx->sc;
                const float *wk = w + (o * cg + ci) * kn;
                for (int64_t kd = 0; kd < k[0]; kd++)
                    for (int64_t kh = 0; kh < k[1]; kh++)
                        for (int64_t kw = 0; kw < k[2]; kw++) {
                            int64_t t[3] = {kd * dil[0], kh * dil[1], kw * dil[2]};
                            conv_tap(yo, gy, xc, gx, wk[(kd * k[1] + kh) * k[2] + kw], s, pb, t);
                        }
            }
        }
}

static void post(const rt_step *st, float *y, int64_t n) {
    if (st->post.act != CK_ACT_NONE) rt_act_apply(&st->post, y, y, n);
}

static int64_t geom_numel(const rt_geom *g) {
    return g->n * g->c * g->sp[0] * g->sp[1] * g->sp[2];
}

void rt_ref_conv(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    const float *x = in[0];
    const rt_geom *gx = &st->u.conv.x;
    if (st->u.conv.prepad) {
        rt_padmap_apply(&st->u.conv.pad, x, scratch);
        x = scratch;
        gx = &st->u.conv.xp;
    }
    conv_direct(x, gx, out[0], &st->u.conv.y, st->w[0], st->u.conv.has_bias ? st->w[1] : NULL,
                st->u.conv.groups, st->u.conv.k, st->u.conv.s, st->u.conv.d, st->u.conv.pb);
    post(st, out[0], geom_numel(&st->u.conv.y));
}

typedef void (*conv_fn)(const float *x, const rt_geom *gx, float *y, const rt_geom *gy,
                        const float *w, const float *b, int64_t groups, const int64_t *k,
                        const int64_t *s, const int64_t *dil, const int64_t *pb);

static void conv_nhwc(const float *x, const rt_geom *gx, float *y, const rt_geom *gy,
                      const float *wp, const float *b, int64_t groups, const int64_t *k,
                      const int64_t *s, const int64_t *dil, const int64_t *pb);

/* Keras SeparableConv: depthwise (multiplier m) into scratch (channels
 * first or last, like the layer), then 1x1. */
static void separable(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                      conv_fn conv, bool nhwc) {
    const rt_geom *gx = &st->u.conv.x, *gy = &st->u.conv.y;
    int64_t mid = gx->c * st->u.conv.mult;
    int64_t sp = gy->sp[0] * gy->sp[1] * gy->sp[2];
    rt_geom gm = {.n = gx->n, .c = mid, .sp = {gy->sp[0], gy->sp[1], gy->sp[2]}};
    int64_t px = nhwc ? mid : 1; /* floats per pixel step */
    gm.ss[2] = px;
    gm.ss[1] = gy->sp[2] * px;
    gm.ss[0] = gy->sp[1] * gy->sp[2] * px;
    gm.sc = nhwc ? 1 : sp;
    gm.sn = mid * sp;
    conv(in[0], gx, scratch, &gm, st->w[0], NULL, gx->c, st->u.conv.k, st->u.conv.s, st->u.conv.d,
         st->u.conv.pb);
    static const int64_t one[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
    conv(scratch, &gm, out[0], gy, st->w[1], st->u.conv.has_bias ? st->w[2] : NULL, 1, one, one,
         one, zero);
    post(st, out[0], geom_numel(gy));
}

void rt_ref_separable(const rt_step *st, const float *const *in, float *const *out,
                      float *scratch) {
    separable(st, in, out, scratch, conv_direct, false);
}

/* Transposed convolution as a scatter: input pixel i adds w * x[i] at
 * output i*s - pb + t. Weights [C, O/groups, kD, kH, kW]. */
void rt_ref_conv_transpose(const rt_step *st, const float *const *in, float *const *out,
                           float *scratch) {
    (void)scratch;
    const rt_geom *gx = &st->u.conv.x, *gy = &st->u.conv.y;
    const int64_t *k = st->u.conv.k, *s = st->u.conv.s, *dil = st->u.conv.d, *pb = st->u.conv.pb;
    const float *w = st->w[0], *b = st->u.conv.has_bias ? st->w[1] : NULL;
    int64_t groups = st->u.conv.groups, cg = gx->c / groups, og = gy->c / groups;
    int64_t kn = k[0] * k[1] * k[2];
    for (int64_t n = 0; n < gx->n; n++) {
        for (int64_t o = 0; o < gy->c; o++)
            fill_plane(out[0] + n * gy->sn + o * gy->sc, gy, b ? b[o] : 0.0f);
        for (int64_t c = 0; c < gx->c; c++) {
            int64_t g = c / cg;
            const float *xc = in[0] + n * gx->sn + c * gx->sc;
            for (int64_t oi = 0; oi < og; oi++) {
                int64_t o = g * og + oi;
                float *yo = out[0] + n * gy->sn + o * gy->sc;
                const float *wk = w + (c * og + oi) * kn;
                for (int64_t kd = 0; kd < k[0]; kd++)
                    for (int64_t kh = 0; kh < k[1]; kh++)
                        for (int64_t kw = 0; kw < k[2]; kw++) {
                            float wv = wk[(kd * k[1] + kh) * k[2] + kw];
                            int64_t t[3] = {kd * dil[0], kh * dil[1], kw * dil[2]};
                            /* input range whose target o = i*s - pb + t lies in [0, out) */
                            int64_t lo[3], hi[3];
                            bool empty = false;
                            for (int a = 0; a < 3; a++) {
                                int64_t l = ck_ceildiv(pb[a] - t[a], s[a]);
                                int64_t h = ck_floordiv(gy->sp[a] - 1 + pb[a] - t[a], s[a]) + 1;
                                lo[a] = l < 0 ? 0 : l;
                                hi[a] = h > gx->sp[a] ? gx->sp[a] : h;
                                empty |= lo[a] >= hi[a];
                            }
                            if (empty) continue;
                            int64_t ys = s[2] * gy->ss[2], xs = gx->ss[2], cnt = hi[2] - lo[2];
                            for (int64_t id = lo[0]; id < hi[0]; id++) {
                                int64_t od = id * s[0] - pb[0] + t[0];
                                for (int64_t ih = lo[1]; ih < hi[1]; ih++) {
                                    int64_t oh = ih * s[1] - pb[1] + t[1];
                                    const float *xr =
                                        xc + id * gx->ss[0] + ih * gx->ss[1] + lo[2] * xs;
                                    float *yr = yo + od * gy->ss[0] + oh * gy->ss[1] +
                                                (lo[2] * s[2] - pb[2] + t[2]) * gy->ss[2];
                                    for (int64_t i = 0; i < cnt; i++) yr[i * ys] += wv * xr[i * xs];
                                }
                            }
                        }
            }
        }
    }
    post(st, out[0], geom_numel(gy));
}

/* ---- channels-last (Keras NHWC) --------------------------------------------
 * Strided plane loops would step C floats per pixel; here the innermost
 * loop runs over output channels instead, with weights packed per tap as
 * [tap][C_in][O/groups] so that loop is contiguous. */

static void conv_nhwc(const float *x, const rt_geom *gx, float *y, const rt_geom *gy,
                      const float *wp, const float *b, int64_t groups, const int64_t *k,
                      const int64_t *s, const int64_t *dil, const int64_t *pb) {
    int64_t C = gx->c, O = gy->c, cg = C / groups, og = O / groups;
    for (int64_t n = 0; n < gx->n; n++)
        for (int64_t od = 0; od < gy->sp[0]; od++)
            for (int64_t oh = 0; oh < gy->sp[1]; oh++)
                for (int64_t ow = 0; ow < gy->sp[2]; ow++) {
                    float *yp = y + n * gy->sn + od * gy->ss[0] + oh * gy->ss[1] + ow * gy->ss[2];
                    for (int64_t o = 0; o < O; o++) yp[o] = b ? b[o] : 0.0f;
                    for (int64_t kd = 0; kd < k[0]; kd++) {
                        int64_t id = od * s[0] - pb[0] + kd * dil[0];
                        if (id < 0 || id >= gx->sp[0]) continue;
                        for (int64_t kh = 0; kh < k[1]; kh++) {
                            int64_t ih = oh * s[1] - pb[1] + kh * dil[1];
                            if (ih < 0 || ih >= gx->sp[1]) continue;
                            for (int64_t kw = 0; kw < k[2]; kw++) {
                                int64_t iw = ow * s[2] - pb[2] + kw * dil[2];
                                if (iw < 0 || iw >= gx->sp[2]) continue;
                                const float *xp = x + n * gx->sn + id * gx->ss[0] + ih * gx->ss[1] +
                                                  iw * gx->ss[2];
                                const float *wt = wp + ((kd * k[1] + kh) * k[2] + kw) * C * og;
                                for (int64_t g = 0; g < groups; g++) {
                                    float *yg = yp + g * og;
                                    for (int64_t ci = 0; ci < cg; ci++) {
                                        float xv = xp[g * cg + ci];
                                        const float *wr = wt + (g * cg + ci) * og;
                                        for (int64_t oi = 0; oi < og; oi++) yg[oi] += xv * wr[oi];
                                    }
                                }
                            }
                        }
                    }
                }
}

void rt_ref_conv_nhwc(const rt_step *st, const float *const *in, float *const *out,
                      float *scratch) {
    (void)scratch;
    conv_nhwc(in[0], &st->u.conv.x, out[0], &st->u.conv.y, st->w[0],
              st->u.conv.has_bias ? st->w[1] : NULL, st->u.conv.groups, st->u.conv.k, st->u.conv.s,
              st->u.conv.d, st->u.conv.pb);
    post(st, out[0], geom_numel(&st->u.conv.y));
}

void rt_ref_separable_nhwc(const rt_step *st, const float *const *in, float *const *out,
                           float *scratch) {
    separable(st, in, out, scratch, conv_nhwc, true);
}

/* Transposed, channels last: each input pixel scatters into the output
 * pixels its taps reach; weights packed [tap][C_in][O/groups]. */
void rt_ref_conv_transpose_nhwc(const rt_step *st, const float *const *in, float *const *out,
                                float *scratch) {
    (void)scratch;
    const rt_geom *gx = &st->u.conv.x, *gy = &st->u.conv.y;
    const int64_t *k = st->u.conv.k, *s = st->u.conv.s, *dil = st->u.conv.d, *pb = st->u.conv.pb;
    const float *wp = st->w[0], *b = st->u.conv.has_bias ? st->w[1] : NULL;
    int64_t groups = st->u.conv.groups, C = gx->c, O = gy->c, cg = C / groups, og = O / groups;
    for (int64_t n = 0; n < gy->n; n++)
        for (int64_t od = 0; od < gy->sp[0]; od++)
            for (int64_t oh = 0; oh < gy->sp[1]; oh++)
                for (int64_t ow = 0; ow < gy->sp[2]; ow++) {
                    float *yp =
                        out[0] + n * gy->sn + od * gy->ss[0] + oh * gy->ss[1] + ow * gy->ss[2];
                    for (int64_t o = 0; o < O; o++) yp[o] = b ? b[o] : 0.0f;
                }
    for (int64_t n = 0; n < gx->n; n++)
        for (int64_t id = 0; id < gx->sp[0]; id++)
            for (int64_t ih = 0; ih < gx->sp[1]; ih++)
                for (int64_t iw = 0; iw < gx->sp[2]; iw++) {
                    const float *xp =
                        in[0] + n * gx->sn + id * gx->ss[0] + ih * gx->ss[1] + iw * gx->ss[2];
                    for (int64_t kd = 0; kd < k[0]; kd++) {
                        int64_t od = id * s[0] - pb[0] + kd * dil[0];
                        if (od < 0 || od >= gy->sp[0]) continue;
                        for (int64_t kh = 0; kh < k[1]; kh++) {
                            int64_t oh = ih * s[1] - pb[1] + kh * dil[1];
                            if (oh < 0 || oh >= gy->sp[1]) continue;
                            for (int64_t kw = 0; kw < k[2]; kw++) {
                                int64_t ow = iw * s[2] - pb[2] + kw * dil[2];
                                if (ow < 0 || ow >= gy->sp[2]) continue;
                                float *yp = out[0] + n * gy->sn + od * gy->ss[0] + oh * gy->ss[1] +
                                            ow * gy->ss[2];
                                const float *wt = wp + ((kd * k[1] + kh) * k[2] + kw) * C * og;
                                for (int64_t g = 0; g < groups; g++) {
                                    float *yg = yp + g * og;
                                    for (int64_t ci = 0; ci < cg; ci++) {
                                        float xv = xp[g * cg + ci];
                                        const float *wr = wt + (g * cg + ci) * og;
                                        for (int64_t oi = 0; oi < og; oi++) yg[oi] += xv * wr[oi];
                                    }
                                }
                            }
                        }
                    }
                }
    post(st, out[0], geom_numel(gy));
}
