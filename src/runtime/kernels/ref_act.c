/* Reference activations: softmax and log-softmax over an axis and PReLU's
 * slopes here, every elementwise function the shared kernel of ops/nd.h
 * (one loop per function, the switch outside it). */
#include "runtime/kernels/ref.h"

#include <math.h>

/* softmax / log-softmax over the middle axis of [outer, len, inner] */
static void softmax(const rt_act *r, const float *x, float *y, bool logsm) {
    for (int64_t o = 0; o < r->outer; o++)
        for (int64_t i = 0; i < r->inner; i++) {
            const float *xs = x + o * r->len * r->inner + i;
            float *ys = y + o * r->len * r->inner + i;
            float mx = -INFINITY;
            for (int64_t k = 0; k < r->len; k++)
                if (xs[k * r->inner] > mx) mx = xs[k * r->inner];
            double sum = 0;
            for (int64_t k = 0; k < r->len; k++) sum += exp((double)xs[k * r->inner] - mx);
            if (logsm) {
                float ls = (float)log(sum) + mx;
                for (int64_t k = 0; k < r->len; k++) ys[k * r->inner] = xs[k * r->inner] - ls;
            } else {
                for (int64_t k = 0; k < r->len; k++)
                    ys[k * r->inner] = (float)(exp((double)xs[k * r->inner] - mx) / sum);
            }
        }
}

void rt_act_apply(const rt_act *r, const float *x, float *y, int64_t n) {
    switch (r->act) {
    case CK_ACT_PRELU: {
        /* slope index = (i / cstride) % nslope */
        int64_t cs = r->cstride, ns = r->nslope;
        for (int64_t i = 0; i < n; i++) {
            float s = r->slope[(i / cs) % ns];
            y[i] = x[i] >= 0.0f ? x[i] : x[i] * s;
        }
        break;
    }
    case CK_ACT_SOFTMAX:
        softmax(r, x, y, false);
        break;
    case CK_ACT_LOG_SOFTMAX:
        softmax(r, x, y, true);
        break;
    default: /* elementwise: the shared kernel */
        ck_nd_unary(r->act, r->alpha, r->beta, CK_ND_F32, x, y, n);
        break;
    }
}

void rt_ref_act(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    rt_act_apply(&st->u.act, in[0], out[0], st->u.act.outer * st->u.act.len * st->u.act.inner);
}
