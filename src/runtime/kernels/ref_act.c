/* Reference activations. The switch is per call, outside the element loop:
 * each activation has its own loop. */
#include "runtime/kernels/ref.h"

#include <math.h>

static float gelu_erf(float x) {
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

static float gelu_tanh(float x) {
    const float k = 0.79788456080286536f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

static float sigmoidf(float x) {
    return 1.0f / (1.0f + expf(-x));
}

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
    float a = r->alpha, b = r->beta;
    switch (r->act) {
    case CK_ACT_NONE:
    case CK_ACT_IDENTITY:
        if (x != y)
            for (int64_t i = 0; i < n; i++) y[i] = x[i];
        break;
    case CK_ACT_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f);
        break;
    case CK_ACT_RELU6:
    case CK_ACT_CLIP:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i];
            y[i] = v < a ? a : v > b ? b : v;
        }
        break;
    case CK_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] >= 0.0f ? x[i] : x[i] * a;
        break;
    case CK_ACT_ELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : a * expm1f(x[i]);
        break;
    case CK_ACT_SELU:
        for (int64_t i = 0; i < n; i++) y[i] = b * (x[i] > 0.0f ? x[i] : a * expm1f(x[i]));
        break;
    case CK_ACT_GELU:
        if (b != 0.0f)
            for (int64_t i = 0; i < n; i++) y[i] = gelu_tanh(x[i]);
        else
            for (int64_t i = 0; i < n; i++) y[i] = gelu_erf(x[i]);
        break;
    case CK_ACT_SILU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * sigmoidf(x[i]);
        break;
    case CK_ACT_HARDSWISH:
        for (int64_t i = 0; i < n; i++) {
            float t = x[i] + 3.0f;
            t = t < 0.0f ? 0.0f : t > 6.0f ? 6.0f : t;
            y[i] = x[i] * t / 6.0f;
        }
        break;
    case CK_ACT_HARDSIGMOID:
        for (int64_t i = 0; i < n; i++) {
            float t = a * x[i] + b;
            y[i] = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
        }
        break;
    case CK_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++) y[i] = sigmoidf(x[i]);
        break;
    case CK_ACT_TANH:
        for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
        break;
    case CK_ACT_SOFTPLUS:
        /* PyTorch: x when beta*x > threshold, else log1p(exp(beta*x)) / beta */
        for (int64_t i = 0; i < n; i++) {
            float t = a * x[i];
            y[i] = t > b ? x[i] : (fmaxf(t, 0.0f) + log1pf(expf(-fabsf(t)))) / a;
        }
        break;
    case CK_ACT_SOFTSIGN:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + fabsf(x[i]));
        break;
    case CK_ACT_EXP:
        for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
        break;
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
    }
}

void rt_ref_act(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    rt_act_apply(&st->u.act, in[0], out[0], st->u.act.outer * st->u.act.len * st->u.act.inner);
}
