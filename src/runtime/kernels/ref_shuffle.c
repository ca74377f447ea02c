/* Steps of the ops that move data between channels and pixels
 * (src/ops/shuffle.c). Each is a transpose of a 6-D (channel shuffle: 4-D)
 * view of its input, so the transpose kernel runs it; what these builders
 * decide is that view and its permutation, from the frameworks' own
 * definitions:
 *   depth_to_space, CRD (PyTorch pixel_shuffle, ONNX mode CRD):
 *     [N, C/r^2, r, r, H, W] -> perm [0, 1, 4, 2, 5, 3]
 *   depth_to_space, DCR (ONNX DepthToSpace's default):
 *     [N, r, r, C/r^2, H, W] -> perm [0, 3, 4, 1, 5, 2]
 *   each giving [N, C/r^2, H, r, W, r] = [N, C/r^2, H*r, W*r];
 *   space_to_depth: [N, C, H/r, r, W/r, r] -> perm [0, 1, 3, 5, 2, 4] (CRD,
 *     PyTorch pixel_unshuffle) or [0, 3, 5, 1, 2, 4] (ONNX SpaceToDepth);
 *   channel_shuffle: [N, g, C/g, rest] -> perm [0, 2, 1, 3].
 * N is the product of the axes before the channels (1 for PyTorch's 3-D
 * form). */
#include "runtime/runtime.h"

#include <string.h>

/* The product of x's axes [from, to), saturating (a checked shape). */
static int64_t span(const ck_shape *x, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++) p = ck_sat_mul(p, x->d[i]);
    return p;
}

static bool transpose_view(rt_step *st, int rank, const int64_t *dims, const int *perm) {
    st->u.tr.in = (ck_shape){.rank = rank};
    for (int i = 0; i < rank; i++) {
        st->u.tr.in.d[i] = dims[i];
        st->u.tr.perm[i] = perm[i];
    }
    st->kind = RT_K_TRANSPOSE;
    return true;
}

bool rt_prep_depth_to_space(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_shape *x = &w->s->vals[st->in[0]].shape;
    int r = x->rank;
    int64_t b = n->a.kernel[0], C = x->d[r - 3], H = x->d[r - 2], W = x->d[r - 1];
    int64_t N = span(x, 0, r - 3), c = C / ck_sat_mul(b, b);
    if (n->a.space.crd) {
        static const int perm[6] = {0, 1, 4, 2, 5, 3};
        return transpose_view(st, 6, (int64_t[6]){N, c, b, b, H, W}, perm);
    }
    static const int perm[6] = {0, 3, 4, 1, 5, 2};
    return transpose_view(st, 6, (int64_t[6]){N, b, b, c, H, W}, perm);
}

bool rt_prep_space_to_depth(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_shape *x = &w->s->vals[st->in[0]].shape;
    int r = x->rank;
    int64_t b = n->a.kernel[0], C = x->d[r - 3], H = x->d[r - 2], W = x->d[r - 1];
    int64_t dims[6] = {span(x, 0, r - 3), C, H / b, b, W / b, b};
    static const int crd[6] = {0, 1, 3, 5, 2, 4}, dcr[6] = {0, 3, 5, 1, 2, 4};
    return transpose_view(st, 6, dims, n->a.space.crd ? crd : dcr);
}

bool rt_prep_channel_shuffle(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_shape *x = &w->s->vals[st->in[0]].shape;
    int64_t g = n->a.groups;
    int64_t dims[4] = {x->d[0], g, x->d[1] / g, span(x, 2, x->rank)};
    static const int perm[4] = {0, 2, 1, 3};
    return transpose_view(st, 4, dims, perm);
}
