/* Reference data movement: padding and cropping through per-axis index
 * maps, transpose, slice, gather, reductions and fills. */
#include "runtime/kernels/ref.h"

#include <math.h>
#include <string.h>

static void strides_of(const ck_shape *s, int64_t *st) {
    int64_t p = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        st[i] = p;
        p *= s->d[i];
    }
}

/* One output sub-tensor at axis `ax`; x is NULL inside the constant border. */
static void pad_rec(const rt_padmap *p, int ax, const int64_t *xs, const int64_t *ys,
                    const float *x, float *y) {
    int64_t n = p->out.d[ax];
    const int64_t *map = p->map[ax];
    if (ax == p->rank - 1) {
        for (int64_t o = 0; o < n; o++) {
            int64_t i = map ? map[o] : o;
            y[o] = (x && i >= 0) ? x[i] : p->value;
        }
        return;
    }
    for (int64_t o = 0; o < n; o++) {
        int64_t i = map ? map[o] : o;
        pad_rec(p, ax + 1, xs, ys, (x && i >= 0) ? x + i * xs[ax] : NULL, y + o * ys[ax]);
    }
}

void rt_padmap_apply(const rt_padmap *p, const float *x, float *y) {
    int64_t xs[CK_MAX_RANK], ys[CK_MAX_RANK];
    strides_of(&p->in, xs);
    strides_of(&p->out, ys);
    if (p->rank == 0) {
        y[0] = x[0];
        return;
    }
    pad_rec(p, 0, xs, ys, x, y);
}

void rt_ref_pad(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    rt_padmap_apply(&st->u.pad, in[0], out[0]);
}

/* Visits every output index of `s` in C order, with the input offset
 * accumulated through `xst` (input element strides per output axis). */
static void gather_nd(const ck_shape *s, const int64_t *xst, const int64_t *x0off, const float *x,
                      float *y) {
    int r = s->rank;
    if (r == 0) {
        y[0] = x[x0off ? x0off[0] : 0];
        return;
    }
    int64_t idx[CK_MAX_RANK] = {0}, rows = 1, n = s->d[r - 1], xs = xst[r - 1];
    for (int i = 0; i + 1 < r; i++) rows *= s->d[i];
    int64_t base0 = x0off ? x0off[0] : 0;
    for (int64_t q = 0; q < rows; q++) {
        int64_t off = base0;
        for (int i = 0; i + 1 < r; i++) off += idx[i] * xst[i];
        float *yr = y + q * n;
        const float *xr = x + off;
        for (int64_t j = 0; j < n; j++) yr[j] = xr[j * xs];
        for (int i = r - 2; i >= 0; i--) {
            if (++idx[i] < s->d[i]) break;
            idx[i] = 0;
        }
    }
}

void rt_ref_transpose(const rt_step *st, const float *const *in, float *const *out,
                      float *scratch) {
    (void)scratch;
    const ck_shape *xs = &st->u.tr.in;
    int64_t xst[CK_MAX_RANK], pst[CK_MAX_RANK];
    strides_of(xs, xst);
    ck_shape ys = {.rank = xs->rank};
    for (int i = 0; i < xs->rank; i++) {
        ys.d[i] = xs->d[st->u.tr.perm[i]];
        pst[i] = xst[st->u.tr.perm[i]];
    }
    gather_nd(&ys, pst, NULL, in[0], out[0]);
}

void rt_ref_slice(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    int64_t xst[CK_MAX_RANK], sst[CK_MAX_RANK], off = 0;
    strides_of(&st->u.slice.in, xst);
    for (int i = 0; i < st->u.slice.in.rank; i++) {
        /* one element along an axis: its step is never taken (and may be
         * huge: ONNX clamps nothing) */
        sst[i] = st->u.slice.out.d[i] > 1 ? xst[i] * st->u.slice.step[i] : 0;
        off += st->u.slice.start[i] * xst[i];
    }
    gather_nd(&st->u.slice.out, sst, &off, in[0], out[0]);
}

void rt_ref_gather(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    int64_t A = st->u.gather.axis_len, I = st->u.gather.inner, K = st->u.gather.nidx;
    for (int64_t o = 0; o < st->u.gather.outer; o++)
        for (int64_t j = 0; j < K; j++)
            memcpy(out[0] + (o * K + j) * I, in[0] + (o * A + st->u.gather.idx[j]) * I,
                   (size_t)I * sizeof(float));
}

void rt_ref_reduce(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    const ck_shape *xs = &st->u.reduce.in;
    int r = xs->rank;
    ck_reduce op = st->u.reduce.op;
    /* output strides per input axis (0 on reduced axes) */
    int64_t ost[CK_MAX_RANK], p = 1, onum = 1, cnt = 1;
    for (int i = r - 1; i >= 0; i--) {
        if (st->u.reduce.red[i]) {
            ost[i] = 0;
            cnt *= xs->d[i];
        } else {
            ost[i] = p;
            p *= xs->d[i];
        }
    }
    onum = p;
    float *y = out[0];
    float init = (op == CK_REDUCE_MAX || op == CK_REDUCE_LOGSUMEXP) ? -INFINITY
                 : op == CK_REDUCE_MIN                              ? INFINITY
                 : op == CK_REDUCE_PROD                             ? 1.0f
                                                                    : 0.0f;
    for (int64_t i = 0; i < onum; i++) y[i] = init;
    int64_t total = 1;
    for (int i = 0; i < r; i++) total *= xs->d[i];
    int pass_count = op == CK_REDUCE_LOGSUMEXP ? 2 : 1;
    /* log-sum-exp: pass 1 finds the max, pass 2 sums exp(x - max) */
    float *mx = op == CK_REDUCE_LOGSUMEXP ? scratch : NULL;
    for (int pass = 0; pass < pass_count; pass++) {
        if (pass == 1) {
            for (int64_t i = 0; i < onum; i++) {
                mx[i] = y[i];
                y[i] = 0.0f;
            }
        }
        int64_t idx[CK_MAX_RANK] = {0};
        for (int64_t e = 0; e < total; e++) {
            int64_t o = 0;
            for (int i = 0; i < r; i++) o += idx[i] * ost[i];
            float v = in[0][e];
            switch (op) {
            case CK_REDUCE_MAX:
                if (v > y[o] || isnan(v)) y[o] = v;
                break;
            case CK_REDUCE_MIN:
                if (v < y[o] || isnan(v)) y[o] = v;
                break;
            case CK_REDUCE_PROD:
                y[o] *= v;
                break;
            case CK_REDUCE_L1:
                y[o] += fabsf(v);
                break;
            case CK_REDUCE_L2:
            case CK_REDUCE_SUMSQUARE:
                y[o] += v * v;
                break;
            case CK_REDUCE_LOGSUMEXP:
                if (pass == 0) {
                    if (v > y[o]) y[o] = v;
                } else {
                    y[o] += expf(v - mx[o]);
                }
                break;
            default:
                y[o] += v;
                break;
            }
            for (int i = r - 1; i >= 0; i--) {
                if (++idx[i] < xs->d[i]) break;
                idx[i] = 0;
            }
        }
    }
    for (int64_t i = 0; i < onum; i++) {
        switch (op) {
        case CK_REDUCE_MEAN:
            y[i] = cnt ? y[i] / (float)cnt : NAN;
            break;
        case CK_REDUCE_L2:
            y[i] = sqrtf(y[i]);
            break;
        case CK_REDUCE_LOGSUM:
            y[i] = logf(y[i]);
            break;
        case CK_REDUCE_LOGSUMEXP:
            y[i] = logf(y[i]) + mx[i];
            break;
        default:
            break;
        }
    }
}

void rt_ref_fill(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)in;
    (void)scratch;
    for (int64_t i = 0; i < st->u.fill.count; i++)
        out[0][i] = st->u.fill.start + (float)i * st->u.fill.delta;
}
