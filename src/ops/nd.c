/* Reference kernels on plain n-d arrays, shared by the runtime's reference
 * steps (float32) and the constant evaluator (int64 and float32): see nd.h.
 * Index arithmetic runs on checked shapes (the caller bounded every
 * element count), so it is plain; int64 element arithmetic is checked. */
#include "ops/nd.h"

#include <math.h>
#include <string.h>

void ck_nd_outer_inner(const ck_shape *s, int ax, int64_t *outer, int64_t *inner) {
    *outer = *inner = 1;
    for (int i = 0; i < ax; i++) *outer *= s->d[i];
    for (int i = ax + 1; i < s->rank; i++) *inner *= s->d[i];
}

void ck_nd_strides(const ck_shape *s, int64_t *st) {
    int64_t p = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        st[i] = p;
        p *= s->d[i];
    }
}

void ck_nd_bcast_strides(const ck_shape *out, const ck_shape *in, int64_t *st) {
    int r = out->rank;
    int64_t p = 1;
    for (int i = r - 1; i >= 0; i--) {
        int ia = i - (r - in->rank);
        st[i] = 0;
        if (ia < 0) continue;
        st[i] = in->d[ia] == 1 ? 0 : p;
        p *= in->d[ia];
    }
}

static void frow(ck_nd_bin op, float *y, const float *x, int64_t xs, int64_t n);
static bool irow(ck_nd_bin op, int64_t *y, const int64_t *x, int64_t xs, int64_t n);

/* ---- data movement ------------------------------------------------------ */

/* y[j] = x[j * xs] for j < n, elements of es bytes. */
static void copy_strided(void *y, const void *x, int64_t xs, int64_t n, size_t es) {
    if (es == sizeof(float)) {
        const float *s = x;
        float *d = y;
        if (xs == 1)
            memmove(d, s, (size_t)n * es);
        else
            for (int64_t j = 0; j < n; j++) d[j] = s[j * xs];
    } else if (es == sizeof(int64_t)) {
        const int64_t *s = x;
        int64_t *d = y;
        if (xs == 1)
            memmove(d, s, (size_t)n * es);
        else
            for (int64_t j = 0; j < n; j++) d[j] = s[j * xs];
    } else {
        for (int64_t j = 0; j < n; j++)
            memcpy((char *)y + (size_t)j * es, (const char *)x + (size_t)(j * xs) * es, es);
    }
}

/* Steps idx (over the leading rank-1 axes of s) to the next row. */
static void next_row(const ck_shape *s, int64_t *idx) {
    for (int i = s->rank - 2; i >= 0; i--) {
        if (++idx[i] < s->d[i]) break;
        idx[i] = 0;
    }
}

static int64_t row_count(const ck_shape *s) {
    int64_t rows = 1;
    for (int i = 0; i + 1 < s->rank; i++) rows *= s->d[i];
    return rows;
}

static int64_t row_offset(const ck_shape *s, const int64_t *idx, const int64_t *st) {
    int64_t off = 0;
    for (int i = 0; i + 1 < s->rank; i++) off += idx[i] * st[i];
    return off;
}

void ck_nd_gather_strided(const ck_shape *out, const int64_t *xst, int64_t off, size_t es,
                          const void *x, void *y) {
    const char *xb = x;
    char *yb = y;
    int r = out->rank;
    if (r == 0) {
        memcpy(yb, xb + (size_t)off * es, es);
        return;
    }
    int64_t idx[CK_MAX_RANK] = {0}, rows = row_count(out), n = out->d[r - 1];
    for (int64_t q = 0; q < rows; q++) {
        int64_t o = off + row_offset(out, idx, xst);
        copy_strided(yb + (size_t)(q * n) * es, xb + (size_t)o * es, xst[r - 1], n, es);
        next_row(out, idx);
    }
}

void ck_nd_slice_strides(const ck_shape *in, const ck_shape *out, const int64_t *start,
                         const int64_t *step, int64_t *st, int64_t *off) {
    int64_t xst[CK_MAX_RANK];
    ck_nd_strides(in, xst);
    *off = 0;
    for (int i = 0; i < in->rank; i++) {
        /* one element along an axis: its step is never taken (and may be
         * huge: ONNX clamps nothing) */
        st[i] = out->d[i] > 1 ? xst[i] * step[i] : 0;
        *off += start[i] * xst[i];
    }
}

typedef struct map_job {
    const ck_shape *out;
    int64_t *const *map;
    int64_t xs[CK_MAX_RANK], ys[CK_MAX_RANK];
    size_t es;
    const void *fill;
} map_job;

/* One output sub-tensor at axis `ax`; x is NULL inside the fill. */
static void map_rec(const map_job *j, int ax, const char *x, char *y) {
    int64_t n = j->out->d[ax];
    const int64_t *m = j->map[ax];
    size_t es = j->es;
    if (ax == j->out->rank - 1) {
        if (es == sizeof(float) && x) {
            const float *xf = (const float *)x;
            float *yf = (float *)y, fv;
            memcpy(&fv, j->fill, sizeof fv);
            for (int64_t o = 0; o < n; o++) {
                int64_t i = m ? m[o] : o;
                yf[o] = i >= 0 ? xf[i] : fv;
            }
            return;
        }
        for (int64_t o = 0; o < n; o++) {
            int64_t i = m ? m[o] : o;
            memcpy(y + (size_t)o * es, (x && i >= 0) ? x + (size_t)i * es : j->fill, es);
        }
        return;
    }
    for (int64_t o = 0; o < n; o++) {
        int64_t i = m ? m[o] : o;
        map_rec(j, ax + 1, (x && i >= 0) ? x + (size_t)(i * j->xs[ax]) * es : NULL,
                y + (size_t)(o * j->ys[ax]) * es);
    }
}

void ck_nd_map(const ck_shape *in, const ck_shape *out, int64_t *const *map, size_t es,
               const void *fill, const void *x, void *y) {
    if (out->rank == 0) {
        memcpy(y, x, es);
        return;
    }
    map_job j = {.out = out, .map = map, .es = es, .fill = fill};
    ck_nd_strides(in, j.xs);
    ck_nd_strides(out, j.ys);
    map_rec(&j, 0, x, y);
}

void ck_nd_take(int64_t outer, int64_t len, int64_t inner, const int64_t *idx, int64_t nidx,
                size_t es, const void *x, void *y) {
    const char *xb = x;
    char *yb = y;
    size_t row = (size_t)inner * es;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < nidx; j++)
            memcpy(yb + (size_t)(o * nidx + j) * row, xb + (size_t)(o * len + idx[j]) * row, row);
}

void ck_nd_concat(int64_t outer, int64_t inner, int n, const int64_t *parts, size_t es,
                  const void *const *in, void *y) {
    int64_t total = 0;
    for (int k = 0; k < n; k++) total += parts[k];
    char *yb = y;
    for (int64_t o = 0; o < outer; o++) {
        int64_t off = 0;
        for (int k = 0; k < n; k++) {
            int64_t len = parts[k] * inner;
            memcpy(yb + (size_t)(o * total * inner + off) * es,
                   (const char *)in[k] + (size_t)(o * len) * es, (size_t)len * es);
            off += len;
        }
    }
}

void ck_nd_split(int64_t outer, int64_t inner, int n, const int64_t *parts, size_t es,
                 const void *x, void *const *out) {
    int64_t total = 0;
    for (int k = 0; k < n; k++) total += parts[k];
    const char *xb = x;
    for (int64_t o = 0; o < outer; o++) {
        int64_t off = 0;
        for (int k = 0; k < n; k++) {
            int64_t len = parts[k] * inner;
            memcpy((char *)out[k] + (size_t)(o * len) * es,
                   xb + (size_t)(o * total * inner + off) * es, (size_t)len * es);
            off += len;
        }
    }
}

static bool truth(ck_nd_type t, const void *p, int64_t i) {
    return t == CK_ND_F32 ? ((const float *)p)[i] != 0.0f : ((const int64_t *)p)[i] != 0;
}

void ck_nd_where(const ck_shape *out, ck_nd_type ct, const void *cond, const int64_t *cs, size_t es,
                 const void *a, const int64_t *as, const void *b, const int64_t *bs, void *y) {
    int r = out->rank;
    int64_t idx[CK_MAX_RANK] = {0}, rows = row_count(out), n = r ? out->d[r - 1] : 1;
    int64_t c1 = r ? cs[r - 1] : 0, a1 = r ? as[r - 1] : 0, b1 = r ? bs[r - 1] : 0;
    char *yb = y;
    for (int64_t q = 0; q < rows; q++) {
        int64_t co = row_offset(out, idx, cs), ao = row_offset(out, idx, as),
                bo = row_offset(out, idx, bs);
        for (int64_t j = 0; j < n; j++) {
            bool c = truth(ct, cond, co + j * c1);
            const char *src = c ? (const char *)a + (size_t)(ao + j * a1) * es
                                : (const char *)b + (size_t)(bo + j * b1) * es;
            memcpy(yb + (size_t)(q * n + j) * es, src, es);
        }
        next_row(out, idx);
    }
}

void ck_nd_scatter_offsets(const ck_shape *x, const int64_t *idx, int64_t n, int q, int64_t *off) {
    int64_t st[CK_MAX_RANK];
    ck_nd_strides(x, st);
    for (int64_t i = 0; i < n; i++) {
        off[i] = 0;
        for (int a = 0; a < q; a++) {
            int64_t v = idx[i * q + a];
            off[i] += (v < 0 ? v + x->d[a] : v) * st[a];
        }
    }
}

bool ck_nd_scatter(int64_t n, const int64_t *off, int64_t slice, ck_nd_type t, int reduction,
                   const void *upd, void *y) {
    static const ck_nd_bin how[] = {CK_BIN_ADD, CK_BIN_ADD, CK_BIN_MUL, CK_BIN_MAX, CK_BIN_MIN};
    size_t es = ck_nd_size(t);
    for (int64_t i = 0; i < n; i++) {
        char *yr = (char *)y + (size_t)off[i] * es;
        const char *ur = (const char *)upd + (size_t)(i * slice) * es;
        if (reduction <= 0 || reduction > 4)
            memcpy(yr, ur, (size_t)slice * es);
        else if (t == CK_ND_F32)
            frow(how[reduction], (float *)yr, (const float *)ur, 1, slice);
        else if (!irow(how[reduction], (int64_t *)yr, (const int64_t *)ur, 1, slice))
            return false;
    }
    return true;
}

/* ---- elementwise binary ------------------------------------------------------ */

static float fmod_py(float a, float b) {
    float m = fmodf(a, b);
    if (m != 0.0f && ((m < 0.0f) != (b < 0.0f))) m += b;
    return m;
}

/* y[i] op= x[i * xs] for a row of n floats. */
static void frow(ck_nd_bin op, float *y, const float *x, int64_t xs, int64_t n) {
    switch (op) {
    case CK_BIN_ADD:
    case CK_BIN_MEAN:
        for (int64_t i = 0; i < n; i++) y[i] += x[i * xs];
        break;
    case CK_BIN_SUB:
        for (int64_t i = 0; i < n; i++) y[i] -= x[i * xs];
        break;
    case CK_BIN_MUL:
        for (int64_t i = 0; i < n; i++) y[i] *= x[i * xs];
        break;
    case CK_BIN_DIV:
        for (int64_t i = 0; i < n; i++) y[i] /= x[i * xs];
        break;
    case CK_BIN_MAX:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i * xs];
            y[i] = (v > y[i] || isnan(v)) ? v : y[i];
        }
        break;
    case CK_BIN_MIN:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i * xs];
            y[i] = (v < y[i] || isnan(v)) ? v : y[i];
        }
        break;
    case CK_BIN_FLOORDIV:
        for (int64_t i = 0; i < n; i++) y[i] = floorf(y[i] / x[i * xs]);
        break;
    case CK_BIN_MOD:
        for (int64_t i = 0; i < n; i++) y[i] = fmod_py(y[i], x[i * xs]);
        break;
    case CK_BIN_FMOD:
        for (int64_t i = 0; i < n; i++) y[i] = fmodf(y[i], x[i * xs]);
        break;
    case CK_BIN_POW:
        for (int64_t i = 0; i < n; i++) y[i] = powf(y[i], x[i * xs]);
        break;
    default:
        break;
    }
}

static bool ipow(int64_t a, int64_t b, int64_t *r) {
    if (b < 0) { /* integer power with a negative exponent: ONNX leaves it undefined */
        if (a == 1 || a == -1) {
            *r = (b % 2 == 0) ? 1 : a;
            return true;
        }
        return false;
    }
    int64_t acc = 1;
    for (int64_t k = 0; k < b; k++) {
        if (!ck_mul(acc, a, &acc)) return false;
        if (acc == 0 || acc == 1) break;
    }
    *r = acc;
    return true;
}

/* The integer op on one pair; false when it overflows or divides by zero. */
static bool iop(ck_nd_bin op, int64_t a, int64_t b, int64_t *r) {
    switch (op) {
    case CK_BIN_ADD:
        return ck_add(a, b, r);
    case CK_BIN_SUB:
        return ck_sub(a, b, r);
    case CK_BIN_MUL:
        return ck_mul(a, b, r);
    case CK_BIN_MAX:
        *r = a > b ? a : b;
        return true;
    case CK_BIN_MIN:
        *r = a < b ? a : b;
        return true;
    case CK_BIN_POW:
        return ipow(a, b, r);
    case CK_BIN_DIV:
    case CK_BIN_FLOORDIV:
    case CK_BIN_MOD:
    case CK_BIN_FMOD: {
        if (b == 0 || (a == INT64_MIN && b == -1)) return false;
        int64_t q = a / b, m = a % b;
        if (op == CK_BIN_DIV) {
            *r = q;
        } else if (op == CK_BIN_FMOD) {
            *r = m;
        } else {
            if (m != 0 && ((m < 0) != (b < 0))) q--, m += b;
            *r = op == CK_BIN_FLOORDIV ? q : m;
        }
        return true;
    }
    default:
        return false;
    }
}

static bool irow(ck_nd_bin op, int64_t *y, const int64_t *x, int64_t xs, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!iop(op, y[i], x[i * xs], &y[i])) return false;
    return true;
}

/* A comparison or logic op from the order of a and b (-1, 0, 1; 2 when
 * unordered: a NaN) and their truth values. */
static bool bool_of(ck_nd_bin op, int ord, bool ta, bool tb) {
    switch (op) {
    case CK_BIN_EQ:
        return ord == 0;
    case CK_BIN_LT:
        return ord == -1;
    case CK_BIN_LE:
        return ord == -1 || ord == 0;
    case CK_BIN_GT:
        return ord == 1;
    case CK_BIN_GE:
        return ord == 1 || ord == 0;
    case CK_BIN_AND:
        return ta && tb;
    case CK_BIN_OR:
        return ta || tb;
    default:
        return ta != tb;
    }
}

static bool fcmp(ck_nd_bin op, float a, float b) {
    int ord = a < b ? -1 : a > b ? 1 : a == b ? 0 : 2;
    return bool_of(op, ord, a != 0.0f, b != 0.0f);
}

static bool icmp(ck_nd_bin op, int64_t a, int64_t b) {
    return bool_of(op, a < b ? -1 : a > b, a != 0, b != 0);
}

/* A bool op of two operands, written as type yt. */
static void bool_pairs(ck_nd_bin op, ck_nd_type t, ck_nd_type yt, const ck_shape *out,
                       const int64_t *sa, const int64_t *sb, const void *a, const void *b,
                       void *y) {
    int r = out->rank;
    int64_t idx[CK_MAX_RANK] = {0}, rows = row_count(out), n = r ? out->d[r - 1] : 1;
    int64_t a1 = r ? sa[r - 1] : 0, b1 = r ? sb[r - 1] : 0;
    for (int64_t q = 0; q < rows; q++) {
        int64_t ao = row_offset(out, idx, sa), bo = row_offset(out, idx, sb);
        for (int64_t j = 0; j < n; j++) {
            int64_t ia = ao + j * a1, ib = bo + j * b1, o = q * n + j;
            bool v = t == CK_ND_F32 ? fcmp(op, ((const float *)a)[ia], ((const float *)b)[ib])
                                    : icmp(op, ((const int64_t *)a)[ia], ((const int64_t *)b)[ib]);
            if (yt == CK_ND_F32)
                ((float *)y)[o] = v ? 1.0f : 0.0f;
            else
                ((int64_t *)y)[o] = v;
        }
        next_row(out, idx);
    }
}

bool ck_nd_binary(ck_nd_bin op, ck_nd_type t, ck_nd_type yt, const ck_shape *out, int n_in,
                  const int64_t *strides, const void *const *in, void *y) {
    if (ck_nd_bin_is_bool(op)) {
        if (n_in != 2) return false;
        bool_pairs(op, t, yt, out, strides, strides + CK_MAX_RANK, in[0], in[1], y);
        return true;
    }
    if (yt != t || (t == CK_ND_I64 && op == CK_BIN_MEAN)) return false;
    int r = out->rank;
    int64_t inner = r ? out->d[r - 1] : 1, rows = row_count(out);
    size_t es = ck_nd_size(t);
    /* operand 0 first: when it runs in place (y == in[0]) it is read before
     * anything overwrites it, element by element */
    for (int k = 0; k < n_in; k++) {
        const int64_t *str = strides + (size_t)k * CK_MAX_RANK;
        int64_t xs = r ? str[r - 1] : 0, idx[CK_MAX_RANK] = {0};
        for (int64_t q = 0; q < rows; q++) {
            int64_t off = row_offset(out, idx, str);
            char *yr = (char *)y + (size_t)(q * inner) * es;
            const char *xr = (const char *)in[k] + (size_t)off * es;
            if (k == 0) {
                if (!(xr == yr && xs == 1)) copy_strided(yr, xr, xs, inner, es);
            } else if (t == CK_ND_F32) {
                frow(op, (float *)yr, (const float *)xr, xs, inner);
            } else if (!irow(op, (int64_t *)yr, (const int64_t *)xr, xs, inner)) {
                return false;
            }
            next_row(out, idx);
        }
    }
    if (op == CK_BIN_MEAN) {
        float inv = 1.0f / (float)n_in, *f = y;
        for (int64_t i = 0; i < rows * inner; i++) f[i] *= inv;
    }
    return true;
}

/* ---- elementwise functions ----------------------------------------------------- */

void ck_act_params(const ck_attrs *a, float *alpha, float *beta) {
    *alpha = (float)a->alpha;
    *beta = (float)a->beta;
    switch (a->act) {
    case CK_ACT_RELU6:
        *alpha = 0.0f;
        *beta = 6.0f;
        break;
    case CK_ACT_SELU:
        if (a->alpha == 0 && a->beta == 0) {
            *alpha = 1.67326319217681884765625f;
            *beta = 1.05070102214813232421875f;
        }
        break;
    case CK_ACT_SOFTPLUS:
        *alpha = a->alpha != 0 ? (float)a->alpha : 1.0f;
        *beta = a->beta != 0 ? (float)a->beta : INFINITY;
        break;
    case CK_ACT_CELU:
        *alpha = a->alpha != 0 ? (float)a->alpha : 1.0f;
        break;
    default:
        break;
    }
}

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

/* PyTorch: x when beta*x > threshold, else log1p(exp(beta*x)) / beta */
static float softplusf(float x, float beta, float threshold) {
    float t = beta * x;
    return t > threshold ? x : (fmaxf(t, 0.0f) + log1pf(expf(-fabsf(t)))) / beta;
}

static float signf(float x) {
    return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x; /* 0 and NaN stay */
}

static bool funary(ck_act act, float a, float b, const float *x, float *y, int64_t n) {
    switch (act) {
    case CK_ACT_NONE:
    case CK_ACT_IDENTITY:
        if (x != y) memmove(y, x, (size_t)n * sizeof *y);
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
    case CK_ACT_CELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = fmaxf(x[i], 0.0f) + fminf(0.0f, a * expm1f(x[i] / a));
        break;
    case CK_ACT_SELU:
        for (int64_t i = 0; i < n; i++) y[i] = b * (x[i] > 0.0f ? x[i] : a * expm1f(x[i]));
        break;
    case CK_ACT_THRESHOLDED_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > a ? x[i] : 0.0f;
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
    case CK_ACT_MISH:
        /* x * tanh(softplus(x)), softplus as PyTorch's F.softplus (threshold 20) */
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * tanhf(softplusf(x[i], 1.0f, 20.0f));
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
        for (int64_t i = 0; i < n; i++) y[i] = softplusf(x[i], a, b);
        break;
    case CK_ACT_SOFTSIGN:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + fabsf(x[i]));
        break;
    case CK_ACT_EXP:
        for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
        break;
    case CK_ACT_NEG:
        for (int64_t i = 0; i < n; i++) y[i] = -x[i];
        break;
    case CK_ACT_ABS:
        for (int64_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
        break;
    case CK_ACT_SQRT:
        for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
        break;
    case CK_ACT_RECIPROCAL:
        for (int64_t i = 0; i < n; i++) y[i] = 1.0f / x[i];
        break;
    case CK_ACT_FLOOR:
        for (int64_t i = 0; i < n; i++) y[i] = floorf(x[i]);
        break;
    case CK_ACT_CEIL:
        for (int64_t i = 0; i < n; i++) y[i] = ceilf(x[i]);
        break;
    case CK_ACT_ROUND:
        for (int64_t i = 0; i < n; i++) y[i] = nearbyintf(x[i]);
        break;
    case CK_ACT_SIGN:
        for (int64_t i = 0; i < n; i++) y[i] = signf(x[i]);
        break;
    case CK_ACT_LOG:
        for (int64_t i = 0; i < n; i++) y[i] = logf(x[i]);
        break;
    case CK_ACT_ERF:
        for (int64_t i = 0; i < n; i++) y[i] = erff(x[i]);
        break;
    case CK_ACT_SIN:
        for (int64_t i = 0; i < n; i++) y[i] = sinf(x[i]);
        break;
    case CK_ACT_COS:
        for (int64_t i = 0; i < n; i++) y[i] = cosf(x[i]);
        break;
    case CK_ACT_NOT:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] == 0.0f ? 1.0f : 0.0f;
        break;
    default: /* softmax, log-softmax, PReLU: not elementwise */
        return false;
    }
    return true;
}

static bool iunary(ck_act act, const int64_t *x, int64_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        int64_t v = x[i];
        switch (act) {
        case CK_ACT_NONE:
        case CK_ACT_IDENTITY:
        case CK_ACT_FLOOR:
        case CK_ACT_CEIL:
        case CK_ACT_ROUND:
            break;
        case CK_ACT_RELU:
            v = v > 0 ? v : 0;
            break;
        case CK_ACT_NEG:
            if (!ck_sub(0, v, &v)) return false;
            break;
        case CK_ACT_ABS:
            if (v < 0 && !ck_sub(0, v, &v)) return false;
            break;
        case CK_ACT_SIGN:
            v = v > 0 ? 1 : v < 0 ? -1 : 0;
            break;
        case CK_ACT_NOT:
            v = v == 0;
            break;
        default:
            return false;
        }
        y[i] = v;
    }
    return true;
}

bool ck_nd_unary(ck_act act, float alpha, float beta, ck_nd_type t, const void *x, void *y,
                 int64_t n) {
    if (t == CK_ND_F32) return funary(act, alpha, beta, x, y, n);
    return iunary(act, x, y, n);
}

/* ---- reductions, fills, casts ----------------------------------------------------- */

static void freduce(ck_reduce op, const ck_shape *xs, const int64_t *ost, int64_t cnt, int64_t onum,
                    const float *x, float *y, float *mx) {
    int r = xs->rank;
    float init = (op == CK_REDUCE_MAX || op == CK_REDUCE_LOGSUMEXP) ? -INFINITY
                 : op == CK_REDUCE_MIN                              ? INFINITY
                 : op == CK_REDUCE_PROD                             ? 1.0f
                                                                    : 0.0f;
    for (int64_t i = 0; i < onum; i++) y[i] = init;
    int64_t total = 1;
    for (int i = 0; i < r; i++) total *= xs->d[i];
    int passes = op == CK_REDUCE_LOGSUMEXP ? 2 : 1;
    /* log-sum-exp: pass 1 finds the max, pass 2 sums exp(x - max) */
    for (int pass = 0; pass < passes; pass++) {
        if (pass == 1)
            for (int64_t i = 0; i < onum; i++) {
                mx[i] = y[i];
                y[i] = 0.0f;
            }
        int64_t idx[CK_MAX_RANK] = {0};
        for (int64_t e = 0; e < total; e++) {
            int64_t o = 0;
            for (int i = 0; i < r; i++) o += idx[i] * ost[i];
            float v = x[e];
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

static bool ireduce(ck_reduce op, const ck_shape *xs, const int64_t *ost, int64_t onum,
                    const int64_t *x, int64_t *y) {
    int r = xs->rank;
    int64_t init = op == CK_REDUCE_MAX    ? INT64_MIN
                   : op == CK_REDUCE_MIN  ? INT64_MAX
                   : op == CK_REDUCE_PROD ? 1
                                          : 0;
    if (op != CK_REDUCE_MAX && op != CK_REDUCE_MIN && op != CK_REDUCE_PROD && op != CK_REDUCE_SUM &&
        op != CK_REDUCE_L1 && op != CK_REDUCE_SUMSQUARE)
        return false;
    for (int64_t i = 0; i < onum; i++) y[i] = init;
    int64_t total = 1, idx[CK_MAX_RANK] = {0};
    for (int i = 0; i < r; i++) total *= xs->d[i];
    for (int64_t e = 0; e < total; e++) {
        int64_t o = 0, v = x[e];
        for (int i = 0; i < r; i++) o += idx[i] * ost[i];
        bool ok = true;
        switch (op) {
        case CK_REDUCE_MAX:
            y[o] = v > y[o] ? v : y[o];
            break;
        case CK_REDUCE_MIN:
            y[o] = v < y[o] ? v : y[o];
            break;
        case CK_REDUCE_PROD:
            ok = ck_mul(y[o], v, &y[o]);
            break;
        case CK_REDUCE_L1:
            ok = (v >= 0 || ck_sub(0, v, &v)) && ck_add(y[o], v, &y[o]);
            break;
        case CK_REDUCE_SUMSQUARE:
            ok = ck_mul(v, v, &v) && ck_add(y[o], v, &y[o]);
            break;
        default:
            ok = ck_add(y[o], v, &y[o]);
            break;
        }
        if (!ok) return false;
        for (int i = r - 1; i >= 0; i--) {
            if (++idx[i] < xs->d[i]) break;
            idx[i] = 0;
        }
    }
    return true;
}

bool ck_nd_reduce(ck_reduce op, ck_nd_type t, const ck_shape *in, const bool *red, const void *x,
                  void *y, void *scratch) {
    int r = in->rank;
    /* output strides per input axis (0 on reduced axes) */
    int64_t ost[CK_MAX_RANK], p = 1, cnt = 1;
    for (int i = r - 1; i >= 0; i--) {
        if (red[i]) {
            ost[i] = 0;
            cnt *= in->d[i];
        } else {
            ost[i] = p;
            p *= in->d[i];
        }
    }
    if (t == CK_ND_F32) {
        freduce(op, in, ost, cnt, p, x, y, scratch);
        return true;
    }
    return ireduce(op, in, ost, p, x, y);
}

bool ck_nd_fill(ck_nd_type t, int64_t n, double start, double delta, int64_t istart, int64_t idelta,
                void *y) {
    if (t == CK_ND_F32) {
        float s = (float)start, d = (float)delta, *f = y;
        for (int64_t i = 0; i < n; i++) f[i] = s + (float)i * d;
        return true;
    }
    int64_t *v = y, cur = istart;
    for (int64_t i = 0; i < n; i++) {
        v[i] = cur;
        if (i + 1 < n && !ck_add(cur, idelta, &cur)) return false;
    }
    return true;
}

bool ck_nd_cast(ck_nd_type from, ck_nd_type to, bool to_bool, int64_t n, const void *x, void *y) {
    for (int64_t i = 0; i < n; i++) {
        if (from == CK_ND_F32) {
            float v = ((const float *)x)[i];
            if (to_bool) v = v != 0.0f;
            if (to == CK_ND_F32) {
                ((float *)y)[i] = v;
                continue;
            }
            /* truncation toward zero, only where the result is defined */
            if (!(v > -9.2233720368547758e18f && v < 9.2233720368547758e18f)) return false;
            ((int64_t *)y)[i] = (int64_t)v;
        } else {
            int64_t v = ((const int64_t *)x)[i];
            if (to_bool) v = v != 0;
            if (to == CK_ND_F32)
                ((float *)y)[i] = (float)v;
            else
                ((int64_t *)y)[i] = v;
        }
    }
    return true;
}
