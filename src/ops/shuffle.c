/* Data movement between the channels and the pixels, and within the
 * channels: depth_to_space (PyTorch PixelShuffle, ONNX DepthToSpace),
 * space_to_depth (PyTorch PixelUnshuffle, ONNX SpaceToDepth) and
 * channel_shuffle (PyTorch ChannelShuffle).
 *
 * The block of r x r pixels is the canonical window: kernel = stride = r
 * on the two trailing (height, width) axes, so receptive fields follow the
 * window rules (space_to_depth reads one r x r window per output pixel;
 * depth_to_space is a transposed convolution with kernel = stride = r).
 * Attributes: nsp 2, kernel/stride, space.crd (the channel order); channel
 * shuffle: groups. Element order is the runtime's business
 * (src/runtime/kernels/ref_shuffle.c); the shapes are:
 *   depth_to_space  [*, C, H, W] -> [*, C/r^2, H*r, W*r]
 *   space_to_depth  [*, C, H, W] -> [*, C*r^2, H/r, W/r]
 * (PyTorch: any number of leading axes, at least 3-D; ONNX: exactly 4-D)
 *   channel_shuffle [N, C, *] -> the same shape, C divisible by groups. */
#include "ops/ops.h"

static void fail_overflow(ck_ctx *c) {
    ck_fail(c, CK_INVALID_CONFIG, "%s: the size arithmetic overflows 64-bit integers", c->n->type);
}

/* The input's rank (PyTorch: at least channels, height, width; ONNX:
 * exactly 4-D) and the block: r and r*r. */
static bool block_of(ck_ctx *c, const ck_shape *x, int64_t *r, int64_t *rr) {
    char buf[160];
    *r = c->n->a.kernel[0];
    if (!ck_mul(*r, *r, rr) || *rr <= 0) {
        fail_overflow(c);
        return false;
    }
    if (c->n->a.dialect == CK_DIALECT_PYTORCH) {
        if (x->rank >= 3) return true;
        ck_fail(c, CK_RANK_MISMATCH,
                "%s expects an input of at least 3 dimensions (channels, height, width), but its "
                "input %s is %d-D",
                c->n->type, ck_shape_str(x, buf, sizeof buf), x->rank);
        return false;
    }
    if (x->rank == 4) return true;
    ck_fail(c, CK_RANK_MISMATCH,
            "%s expects a 4-D input (batch, channels, height, width), but its input %s is %d-D",
            c->n->type, ck_shape_str(x, buf, sizeof buf), x->rank);
    return false;
}

static bool depth_to_space_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int64_t r, rr;
    if (!block_of(c, x, &r, &rr)) return false;
    int cax = ck_channel_axis(a, x->rank, 2);
    int64_t C = x->d[cax];
    if (C % rr != 0) {
        char buf[160];
        ck_diag *dg = ck_fail(
            c, CK_CHANNEL_MISMATCH,
            "%s turns each group of %lld x %lld = %lld channels into a block of pixels, but its "
            "input %s has %lld channels, which %lld does not divide",
            c->n->type, (long long)r, (long long)r, (long long)rr, ck_shape_str(x, buf, sizeof buf),
            (long long)C, (long long)rr);
        if (dg)
            ck_diag_set(&dg->formula, "channels = %lld / (%lld*%lld)", (long long)C, (long long)r,
                        (long long)r);
        ck_fail_axis(c, cax, "channels", C);
        return false;
    }
    ck_shape y = *x;
    y.d[cax] = C / rr;
    for (int i = 0; i < 2; i++) {
        int ax = ck_spatial_axis(a, x->rank, 2, i);
        if (!ck_mul(x->d[ax], r, &y.d[ax])) {
            fail_overflow(c);
            return false;
        }
    }
    c->out[0]->shape = y;
    return true;
}

static bool space_to_depth_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int64_t r, rr;
    if (!block_of(c, x, &r, &rr)) return false;
    ck_shape y = *x;
    for (int i = 0; i < 2; i++) {
        int ax = ck_spatial_axis(a, x->rank, 2, i);
        if (x->d[ax] % r != 0) {
            const char *an = ck_axis_name(2, i);
            char buf[160];
            ck_diag *dg = ck_fail(
                c, CK_RESHAPE_MISMATCH,
                "%s gathers blocks of %lld x %lld pixels into channels, but the %s of its input "
                "%s is %lld, which %lld does not divide",
                c->n->type, (long long)r, (long long)r, an, ck_shape_str(x, buf, sizeof buf),
                (long long)x->d[ax], (long long)r);
            if (dg)
                ck_diag_set(&dg->formula, "%s = %lld / %lld leaves %lld", an, (long long)x->d[ax],
                            (long long)r, (long long)(x->d[ax] % r));
            ck_fail_axis(c, ax, an, x->d[ax] / r);
            return false;
        }
        y.d[ax] = x->d[ax] / r;
    }
    int cax = ck_channel_axis(a, x->rank, 2);
    if (!ck_mul(x->d[cax], rr, &y.d[cax])) {
        fail_overflow(c);
        return false;
    }
    /* PyTorch 1.13's pixel_unshuffle returns an empty input as it is, once
     * the sizes have passed its checks */
    if (a->dialect == CK_DIALECT_PYTORCH && ck_numel_sat(x) == 0) y = *x;
    c->out[0]->shape = y;
    return true;
}

/* PyTorch's channel_shuffle: axis 1 holds the channels, always. */
static bool channel_shuffle_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    char buf[160];
    if (x->rank < 3) {
        ck_fail(c, CK_RANK_MISMATCH,
                "%s expects an input of more than 2 dimensions (batch, channels, ...), but its "
                "input %s is %d-D",
                c->n->type, ck_shape_str(x, buf, sizeof buf), x->rank);
        return false;
    }
    int64_t C = x->d[1], g = a->groups;
    if (g <= 0 || C % g != 0) {
        ck_fail(c, CK_CHANNEL_MISMATCH,
                "%s shuffles %lld groups of channels, but the %lld channels of its input %s do "
                "not split into %lld groups",
                c->n->type, (long long)g, (long long)C, ck_shape_str(x, buf, sizeof buf),
                (long long)g);
        ck_fail_axis(c, 1, "channels", C);
        return false;
    }
    c->out[0]->shape = *x;
    return true;
}

/* Pure data movement: nothing computed (as transpose and pad). */
static void move_cost(const ck_ctx *c, ck_cost *k) {
    (void)c;
    k->ops = 0;
}

const ck_op ck_op_depth_to_space = {depth_to_space_shape, move_cost, NULL};
const ck_op ck_op_space_to_depth = {space_to_depth_shape, move_cost, NULL};
const ck_op ck_op_channel_shuffle = {channel_shuffle_shape, move_cost, NULL};
