/* Reference joins: elementwise binary ops with numpy broadcasting (any
 * number of operands, folded left to right), concatenation and split. */
#include "runtime/kernels/ref.h"

#include <math.h>
#include <string.h>

/* y[i] op= x[i * xs] for a row of n elements; the op switch is per row. */
static void row(rt_bin op, float *y, const float *x, int64_t xs, int64_t n, bool first) {
    if (first) {
        if (xs == 1)
            memmove(y, x, (size_t)n * sizeof *y);
        else
            for (int64_t i = 0; i < n; i++) y[i] = x[i * xs];
        return;
    }
    switch (op) {
    case RT_ADD:
    case RT_MEAN:
        for (int64_t i = 0; i < n; i++) y[i] += x[i * xs];
        break;
    case RT_SUB:
        for (int64_t i = 0; i < n; i++) y[i] -= x[i * xs];
        break;
    case RT_MUL:
        for (int64_t i = 0; i < n; i++) y[i] *= x[i * xs];
        break;
    case RT_DIV:
        for (int64_t i = 0; i < n; i++) y[i] /= x[i * xs];
        break;
    case RT_MAX:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i * xs];
            y[i] = (v > y[i] || isnan(v)) ? v : y[i];
        }
        break;
    case RT_MIN:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i * xs];
            y[i] = (v < y[i] || isnan(v)) ? v : y[i];
        }
        break;
    }
}

void rt_ref_binary(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    const ck_shape *s = &st->u.bin.out;
    int r = s->rank;
    int64_t inner = r ? s->d[r - 1] : 1, rows = 1;
    for (int i = 0; i + 1 < r; i++) rows *= s->d[i];
    /* Operand 0 first: when it runs in place (out[0] == in[0]) it is read
     * before anything overwrites it, element by element. */
    for (int k = 0; k < st->n_in; k++) {
        const int64_t *str = st->u.bin.strides + (size_t)k * CK_MAX_RANK;
        int64_t xs = r ? str[r - 1] : 0;
        int64_t idx[CK_MAX_RANK] = {0};
        for (int64_t q = 0; q < rows; q++) {
            int64_t off = 0;
            for (int i = 0; i + 1 < r; i++) off += idx[i] * str[i];
            float *y = out[0] + q * inner;
            const float *x = in[k] + off;
            if (!(k == 0 && x == y && xs == 1)) row(st->u.bin.op, y, x, xs, inner, k == 0);
            for (int i = r - 2; i >= 0; i--) {
                if (++idx[i] < s->d[i]) break;
                idx[i] = 0;
            }
        }
    }
    if (st->u.bin.op == RT_MEAN) {
        int64_t n = rows * inner;
        float inv = 1.0f / (float)st->n_in;
        for (int64_t i = 0; i < n; i++) out[0][i] *= inv;
    }
    if (st->post.act != CK_ACT_NONE) rt_act_apply(&st->post, out[0], out[0], rows * inner);
}

void rt_ref_concat(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    int64_t total = 0, inner = st->u.cat.inner;
    for (int k = 0; k < st->n_in; k++) total += st->u.cat.parts[k];
    for (int64_t o = 0; o < st->u.cat.outer; o++) {
        int64_t off = 0;
        for (int k = 0; k < st->n_in; k++) {
            int64_t len = st->u.cat.parts[k] * inner;
            memcpy(out[0] + (o * total) * inner + off, in[k] + o * len,
                   (size_t)len * sizeof(float));
            off += len;
        }
    }
}

void rt_ref_split(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    int64_t total = 0, inner = st->u.cat.inner;
    for (int k = 0; k < st->n_out; k++) total += st->u.cat.parts[k];
    for (int64_t o = 0; o < st->u.cat.outer; o++) {
        int64_t off = 0;
        for (int k = 0; k < st->n_out; k++) {
            int64_t len = st->u.cat.parts[k] * inner;
            memcpy(out[k] + o * len, in[0] + (o * total) * inner + off,
                   (size_t)len * sizeof(float));
            off += len;
        }
    }
}
