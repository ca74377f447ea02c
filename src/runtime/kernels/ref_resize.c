/* Reference resampling: every mode (nearest, linear, cubic) is a separable
 * weighted sum whose per-axis taps and weights the step builder computed;
 * this kernel only gathers (and writes the extrapolation value where a
 * tf_crop_and_resize crop leaves the input). */
#include "runtime/kernels/ref.h"

void rt_ref_resize(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    const rt_geom *gx = &st->u.resize.x, *gy = &st->u.resize.y;
    const rt_resample *ax = st->u.resize.ax;
    int td = ax[0].taps, th = ax[1].taps, tw = ax[2].taps;
    for (int64_t n = 0; n < gx->n; n++)
        for (int64_t c = 0; c < gx->c; c++) {
            const float *xc = in[0] + n * gx->sn + c * gx->sc;
            float *yc = out[0] + n * gy->sn + c * gy->sc;
            for (int64_t od = 0; od < gy->sp[0]; od++) {
                const int64_t *id = ax[0].idx + od * td;
                const float *wd = ax[0].wt + od * td;
                for (int64_t oh = 0; oh < gy->sp[1]; oh++) {
                    const int64_t *ih = ax[1].idx + oh * th;
                    const float *wh = ax[1].wt + oh * th;
                    for (int64_t ow = 0; ow < gy->sp[2]; ow++) {
                        const int64_t *iw = ax[2].idx + ow * tw;
                        const float *ww = ax[2].wt + ow * tw;
                        float acc = 0.0f;
                        if (id[0] < 0 || ih[0] < 0 || iw[0] < 0) { /* outside a crop */
                            yc[od * gy->ss[0] + oh * gy->ss[1] + ow * gy->ss[2]] =
                                st->u.resize.extrapolation;
                            continue;
                        }
                        for (int a = 0; a < td; a++) {
                            const float *xd = xc + id[a] * gx->ss[0];
                            float sa = 0.0f;
                            for (int b = 0; b < th; b++) {
                                const float *xh = xd + ih[b] * gx->ss[1];
                                float sb = 0.0f;
                                for (int l = 0; l < tw; l++) sb += ww[l] * xh[iw[l] * gx->ss[2]];
                                sa += wh[b] * sb;
                            }
                            acc += wd[a] * sa;
                        }
                        yc[od * gy->ss[0] + oh * gy->ss[1] + ow * gy->ss[2]] = acc;
                    }
                }
            }
        }
}
