/* Reference data movement: padding and cropping through per-axis index
 * maps, transpose, slice, gather, reductions and fills, each the shared
 * kernel of ops/nd.h on float32 data. */
#include "runtime/kernels/ref.h"

#include <string.h>

void rt_padmap_apply(const rt_padmap *p, const float *x, float *y) {
    ck_nd_map(&p->in, &p->out, p->map, sizeof(float), &p->value, x, y);
}

void rt_ref_pad(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    rt_padmap_apply(&st->u.pad, in[0], out[0]);
}

void rt_ref_transpose(const rt_step *st, const float *const *in, float *const *out,
                      float *scratch) {
    (void)scratch;
    const ck_shape *xs = &st->u.tr.in;
    int64_t xst[CK_MAX_RANK], pst[CK_MAX_RANK];
    ck_nd_strides(xs, xst);
    ck_shape ys = {.rank = xs->rank};
    for (int i = 0; i < xs->rank; i++) {
        ys.d[i] = xs->d[st->u.tr.perm[i]];
        pst[i] = xst[st->u.tr.perm[i]];
    }
    ck_nd_gather_strided(&ys, pst, 0, sizeof(float), in[0], out[0]);
}

void rt_ref_slice(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    int64_t sst[CK_MAX_RANK], off;
    ck_nd_slice_strides(&st->u.slice.in, &st->u.slice.out, st->u.slice.start, st->u.slice.step, sst,
                        &off);
    ck_nd_gather_strided(&st->u.slice.out, sst, off, sizeof(float), in[0], out[0]);
}

void rt_ref_gather(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    ck_nd_take(st->u.gather.outer, st->u.gather.axis_len, st->u.gather.inner, st->u.gather.idx,
               st->u.gather.nidx, sizeof(float), in[0], out[0]);
}

void rt_ref_reduce(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    ck_nd_reduce(st->u.reduce.op, CK_ND_F32, &st->u.reduce.in, st->u.reduce.red, in[0], out[0],
                 scratch);
}

void rt_ref_expand(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    int64_t xst[CK_MAX_RANK];
    ck_nd_bcast_strides(&st->u.expand.out, &st->u.expand.in, xst);
    ck_nd_gather_strided(&st->u.expand.out, xst, 0, sizeof(float), in[0], out[0]);
}

/* ScatterND: the data, then each update slice at its offset */
void rt_ref_scatter(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)scratch;
    int64_t total = st->u.scatter.total;
    if (out[0] != in[0]) memcpy(out[0], in[0], (size_t)total * sizeof(float));
    ck_nd_scatter(st->u.scatter.n, st->u.scatter.off, st->u.scatter.slice, CK_ND_F32,
                  st->u.scatter.reduction, in[1], out[0]);
}

void rt_ref_fill(const rt_step *st, const float *const *in, float *const *out, float *scratch) {
    (void)in;
    (void)scratch;
    ck_nd_fill(CK_ND_F32, st->u.fill.count, st->u.fill.start, st->u.fill.delta, 0, 0, out[0]);
}
