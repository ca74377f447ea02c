/* Reference joins: elementwise binary ops with numpy broadcasting (any
 * number of operands, folded left to right), where, concatenation and
 * split: the shared kernels of ops/nd.h on float32 data. */
#include "runtime/kernels/ref.h"

#include <string.h>

void rt_ref_binary(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    const void *ops[65];
    int n = 0;
    if (st->u.bin.scalar == 2) ops[n++] = st->w[0];
    for (int k = 0; k < st->n_in && n < 64; k++) ops[n++] = in[k];
    if (st->u.bin.scalar == 1) ops[n++] = st->w[0];
    /* the number's strides are the zeros after the inputs' */
    int64_t st2[65 * CK_MAX_RANK];
    const int64_t *strides = st->u.bin.strides;
    if (st->u.bin.scalar == 2) {
        memset(st2, 0, CK_MAX_RANK * sizeof *st2);
        memcpy(st2 + CK_MAX_RANK, strides, (size_t)st->n_in * CK_MAX_RANK * sizeof *st2);
        strides = st2;
    }
    ck_nd_binary(st->u.bin.op, CK_ND_F32, CK_ND_F32, &st->u.bin.out, n, strides, ops, out[0]);
    if (st->post.act != CK_ACT_NONE)
        rt_act_apply(&st->post, out[0], out[0], rt_numel(&st->u.bin.out));
}

void rt_ref_where(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    const int64_t *s = st->u.bin.strides;
    ck_nd_where(&st->u.bin.out, CK_ND_F32, in[0], s, sizeof(float), in[1], s + CK_MAX_RANK, in[2],
                s + 2 * CK_MAX_RANK, out[0]);
}

void rt_ref_concat(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    ck_nd_concat(st->u.cat.outer, st->u.cat.inner, st->n_in, st->u.cat.parts, sizeof(float),
                 (const void *const *)in, out[0]);
}

void rt_ref_split(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    ck_nd_split(st->u.cat.outer, st->u.cat.inner, st->n_out, st->u.cat.parts, sizeof(float), in[0],
                (void *const *)out);
}
