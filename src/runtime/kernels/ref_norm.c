/* Reference normalisation. Batch norm (inference) is a per-channel scale and
 * shift folded at build time; instance, group and layer norm compute their
 * statistics per run (two passes in double: mean, then biased variance). */
#include "runtime/kernels/ref.h"

#include <math.h>

/* y = x * scale[c] + shift[c] on [outer, C, inner]; may run in place. */
void rt_ref_affine(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    const float *sc = st->w[0], *sh = st->w[1];
    int64_t C = st->u.affine.c, inner = st->u.affine.inner;
    for (int64_t o = 0; o < st->u.affine.outer; o++)
        for (int64_t c = 0; c < C; c++) {
            const float *x = in[0] + (o * C + c) * inner;
            float *y = out[0] + (o * C + c) * inner;
            float a = sc[c], b = sh[c];
            for (int64_t i = 0; i < inner; i++) y[i] = x[i] * a + b;
        }
    if (st->post.act != CK_ACT_NONE)
        rt_act_apply(&st->post, out[0], out[0], st->u.affine.outer * C * inner);
}

/* Instance and group norm on [B, P, G, cpg, Q] (channels first: P = 1;
 * channels last: Q = 1): statistics per (b, g) over (P, cpg, Q); weights
 * per channel g*cpg + j. */
void rt_ref_group_norm(const rt_step *st, const float *const *in, float *const *out,
                       float *scratch) {
    (void)scratch;
    int64_t B = st->u.norm.outer, G = st->u.norm.groups, cpg = st->u.norm.cpg;
    int64_t Q = st->u.norm.inner, P = st->u.norm.p;
    int64_t C = G * cpg;
    const float *gam = st->w[0], *bet = st->w[1];
    double eps = st->u.norm.eps;
    for (int64_t b = 0; b < B; b++)
        for (int64_t g = 0; g < G; g++) {
            double sum = 0, sq = 0;
            int64_t cnt = P * cpg * Q;
            for (int64_t p = 0; p < P; p++)
                for (int64_t j = 0; j < cpg; j++) {
                    const float *x = in[0] + ((b * P + p) * C + g * cpg + j) * Q;
                    for (int64_t q = 0; q < Q; q++) sum += x[q];
                }
            double mean = cnt ? sum / (double)cnt : 0.0;
            for (int64_t p = 0; p < P; p++)
                for (int64_t j = 0; j < cpg; j++) {
                    const float *x = in[0] + ((b * P + p) * C + g * cpg + j) * Q;
                    for (int64_t q = 0; q < Q; q++) {
                        double t = x[q] - mean;
                        sq += t * t;
                    }
                }
            double inv = 1.0 / sqrt((cnt ? sq / (double)cnt : 0.0) + eps);
            for (int64_t p = 0; p < P; p++)
                for (int64_t j = 0; j < cpg; j++) {
                    int64_t c = g * cpg + j;
                    const float *x = in[0] + ((b * P + p) * C + c) * Q;
                    float *y = out[0] + ((b * P + p) * C + c) * Q;
                    float a = (float)inv * (gam ? gam[c] : 1.0f), m = (float)mean;
                    float sh = bet ? bet[c] : 0.0f;
                    for (int64_t q = 0; q < Q; q++) y[q] = (x[q] - m) * a + sh;
                }
        }
    if (st->post.act != CK_ACT_NONE) rt_act_apply(&st->post, out[0], out[0], B * P * C * Q);
}

/* Layer norm on [outer, M, inner]: statistics over M for each (outer,
 * inner); weights indexed by the position in M. */
void rt_ref_layer_norm(const rt_step *st, const float *const *in, float *const *out,
                       float *scratch) {
    (void)scratch;
    int64_t O = st->u.norm.outer, M = st->u.norm.cpg, I = st->u.norm.inner;
    const float *gam = st->w[0], *bet = st->w[1];
    double eps = st->u.norm.eps;
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++) {
            const float *x = in[0] + o * M * I + i;
            float *y = out[0] + o * M * I + i;
            double sum = 0, sq = 0;
            for (int64_t m = 0; m < M; m++) sum += x[m * I];
            double mean = sum / (double)M;
            for (int64_t m = 0; m < M; m++) {
                double t = x[m * I] - mean;
                sq += t * t;
            }
            float inv = (float)(1.0 / sqrt(sq / (double)M + eps)), mf = (float)mean;
            for (int64_t m = 0; m < M; m++)
                y[m * I] = (x[m * I] - mf) * inv * (gam ? gam[m] : 1.0f) + (bet ? bet[m] : 0.0f);
        }
    if (st->post.act != CK_ACT_NONE) rt_act_apply(&st->post, out[0], out[0], O * M * I);
}
