/* Explicit padding layers (constant, reflect, replicate, circular) and
 * Keras cropping. Both act on the trailing nsp spatial axes. */
#include "ops/ops.h"

static bool pad_like(ck_ctx *c, int sign) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int nsp = a->nsp;
    bool torch = a->dialect == CK_DIALECT_PYTORCH;
    if (torch ? (x->rank < nsp + (a->border == CK_BORDER_ZEROS ? 0 : 1) ||
                 (a->border != CK_BORDER_ZEROS && x->rank > nsp + 2))
              : x->rank != nsp + 2) {
        char buf[160];
        ck_shape_str(x, buf, sizeof buf);
        ck_fail(c, CK_RANK_MISMATCH, "%s pads %d spatial axes; its input %s is %d-D", c->n->type,
                nsp, buf, x->rank);
        return false;
    }
    ck_shape y = *x;
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(a, x->rank, nsp, i);
        int64_t in = x->d[ax], pb = a->pad_begin[i], pe = a->pad_end[i], out;
        const char *an = ck_axis_name(nsp, i);
        if (sign > 0 && a->border == CK_BORDER_REPLICATE && in == 0 && (pb > 0 || pe > 0)) {
            /* PyTorch and ONNX Runtime refuse it too: no pixel to repeat */
            ck_fail(c, CK_INVALID_PADDING,
                    "replicate (edge) padding (%lld, %lld) needs at least one input pixel; the "
                    "input %s is 0",
                    (long long)pb, (long long)pe, an);
            ck_fail_axis(c, ax, an, in);
            return false;
        }
        if (sign > 0 && a->border == CK_BORDER_REFLECT && (pb >= in || pe >= in)) {
            ck_fail(c, CK_INVALID_PADDING,
                    "reflect padding (%lld, %lld) must be smaller than the input %s %lld",
                    (long long)pb, (long long)pe, an, (long long)in);
            ck_fail_axis(c, ax, an, in);
            return false;
        }
        if (sign > 0 && a->border == CK_BORDER_CIRCULAR && (pb > in || pe > in)) {
            ck_fail(c, CK_INVALID_PADDING,
                    "circular padding (%lld, %lld) wraps around the %lld-pixel %s more than once",
                    (long long)pb, (long long)pe, (long long)in, an);
            return false;
        }
        if (sign > 0 && a->border != CK_BORDER_ZEROS && (pb < 0 || pe < 0)) {
            ck_fail(c, CK_INVALID_PADDING,
                    "negative %s padding is only allowed for constant padding", an);
            return false;
        }
        if (!ck_add(pb, pe, &out) || !ck_mul(out, sign, &out) || !ck_add(in, out, &out)) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: the size arithmetic overflows", c->n->type);
            return false;
        }
        if (out <= 0 || (sign < 0 && (pb < 0 || pe < 0))) {
            ck_diag *dg = ck_fail(c, CK_OUTPUT_TOO_SMALL,
                                  "output %s would be %lld: %s %lld + %lld from %lld pixels", an,
                                  (long long)out, sign > 0 ? "padding" : "cropping", (long long)pb,
                                  (long long)pe, (long long)in);
            if (dg)
                ck_diag_set(&dg->formula, "%s = %lld %s %lld %s %lld = %lld", an, (long long)in,
                            sign > 0 ? "+" : "-", (long long)pb, sign > 0 ? "+" : "-",
                            (long long)pe, (long long)out);
            ck_fail_axis(c, ax, an, out);
            return false;
        }
        y.d[ax] = out;
    }
    c->out[0]->shape = y;
    return true;
}

static bool pad_shape(ck_ctx *c) {
    return pad_like(c, 1);
}
static bool crop_shape(ck_ctx *c) {
    return pad_like(c, -1);
}
static void copy_cost(const ck_ctx *c, ck_cost *k) {
    k->ops = 0, (void)c;
}

const ck_op ck_op_pad = {pad_shape, copy_cost, NULL};
const ck_op ck_op_crop = {crop_shape, copy_cost, NULL};
