/* Reference dense layers: Linear / Dense / Gemm / MatMul with a constant
 * matrix, and the batched MatMul of two data tensors. */
#include "runtime/kernels/ref.h"

#include <string.h>

void rt_ref_linear(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    int64_t M = st->u.lin.m, K = st->u.lin.k, N = st->u.lin.n;
    int64_t br = st->u.lin.bias_rows, bc = st->u.lin.bias_cols;
    const float *w = st->w[0], *b = st->w[1];
    const float *x = in[0];
    float *y = out[0];
    /* x[m, k] lives at xm*m + xk*k (transA reads a [K, M] matrix) */
    int64_t xm = st->u.lin.trans_a ? 1 : K, xk = st->u.lin.trans_a ? M : 1;
    float alpha = st->u.lin.alpha, beta = st->u.lin.beta;
    bool scaled = alpha != 1.0f || beta != 1.0f;
    for (int64_t m = 0; m < M; m++) {
        float *yr = y + m * N;
        for (int64_t n = 0; n < N; n++)
            yr[n] = (b && br && !scaled) ? b[(br == 1 ? 0 : m) * bc + (bc == 1 ? 0 : n)] : 0.0f;
        if (st->u.lin.w_kn) {
            /* row of x times [K, N]: axpy over the output row */
            for (int64_t k = 0; k < K; k++) {
                float xv = x[m * xm + k * xk];
                const float *wr = w + k * N;
                for (int64_t n = 0; n < N; n++) yr[n] += xv * wr[n];
            }
        } else {
            for (int64_t n = 0; n < N; n++) {
                const float *wr = w + n * K;
                float acc = 0.0f;
                if (xk == 1) {
                    const float *xr = x + m * xm;
                    for (int64_t k = 0; k < K; k++) acc += xr[k] * wr[k];
                } else {
                    for (int64_t k = 0; k < K; k++) acc += x[m * xm + k * xk] * wr[k];
                }
                yr[n] += acc;
            }
        }
        if (scaled)
            for (int64_t n = 0; n < N; n++)
                yr[n] = alpha * yr[n] +
                        ((b && br) ? beta * b[(br == 1 ? 0 : m) * bc + (bc == 1 ? 0 : n)] : 0.0f);
    }
    if (st->post.act != CK_ACT_NONE) rt_act_apply(&st->post, y, y, M * N);
}

/* numpy matmul: batch axes broadcast, A [.., M, K] @ B [.., K, N]. */
void rt_ref_matmul(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    int64_t M = st->u.mm.m, K = st->u.mm.k, N = st->u.mm.n;
    const float *A = in[0], *B = st->w[0] ? st->w[0] : in[1];
    int nb = st->u.mm.nb;
    int64_t idx[CK_MAX_RANK] = {0};
    for (int64_t bi = 0; bi < st->u.mm.batch; bi++) {
        int64_t oa = 0, ob = 0;
        for (int i = 0; i < nb; i++) {
            oa += idx[i] * st->u.mm.sa[i];
            ob += idx[i] * st->u.mm.sb[i];
        }
        const float *a = A + oa, *b = B + ob;
        float *y = out[0] + bi * M * N;
        memset(y, 0, (size_t)(M * N) * sizeof *y);
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++) {
                float av = a[m * K + k];
                const float *br = b + k * N;
                for (int64_t n = 0; n < N; n++) y[m * N + n] += av * br[n];
            }
        for (int i = nb - 1; i >= 0; i--) {
            if (++idx[i] < st->u.mm.ob.d[i]) break;
            idx[i] = 0;
        }
    }
}
