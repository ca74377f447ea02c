/* Resizing: PyTorch Upsample / F.interpolate, Keras UpSampling, ONNX
 * Resize and Upsample. out = floor(in * scale) or the given size. */
#include "ops/ops.h"

#include <math.h>

static const char *mode_name(const ck_attrs *a, int nsp) {
    switch (a->interp) {
    case CK_INTERP_NEAREST:
        return "nearest";
    case CK_INTERP_NEAREST_EXACT:
        return "nearest-exact";
    case CK_INTERP_CUBIC:
        return "bicubic";
    case CK_INTERP_AREA:
        return "area";
    case CK_INTERP_LINEAR:
        return nsp == 1 ? "linear" : nsp == 2 ? "bilinear" : "trilinear";
    }
    return "?";
}

static bool resize_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int nsp = a->nsp ? a->nsp : x->rank - 2;
    bool torch = a->dialect == CK_DIALECT_PYTORCH;
    if (torch) {
        /* F.interpolate: the mode decides the rank it accepts. */
        int want = 0;
        if (a->interp == CK_INTERP_LINEAR) want = a->nsp + 2;
        if (a->interp == CK_INTERP_CUBIC) want = 4;
        if (want && x->rank != want) {
            ck_fail(c, CK_RANK_MISMATCH, "%s mode '%s' needs a %d-D input, but the input is %d-D",
                    c->n->type, mode_name(a, a->nsp), want, x->rank);
            return false;
        }
        if (x->rank < 3 || x->rank > 5) {
            ck_fail(c, CK_RANK_MISMATCH, "%s supports only 3-D, 4-D and 5-D inputs (got %d-D)",
                    c->n->type, x->rank);
            return false;
        }
        nsp = x->rank - 2;
        if (a->has_size && a->size_rank && a->size_rank != nsp) {
            ck_fail(c, CK_RANK_MISMATCH,
                    "%s: size has %d entries but the input has %d spatial axes", c->n->type,
                    a->size_rank, nsp);
            return false;
        }
        if (a->has_scale && a->size_rank && a->size_rank != nsp) {
            ck_fail(c, CK_RANK_MISMATCH,
                    "%s: scale_factor has %d entries but the input has %d spatial axes", c->n->type,
                    a->size_rank, nsp);
            return false;
        }
    } else if (x->rank != nsp + 2) {
        ck_fail(c, CK_RANK_MISMATCH, "%s expects a %d-D input, got %d-D", c->n->type, nsp + 2,
                x->rank);
        return false;
    }
    if (nsp > CK_MAX_SP || nsp < 1) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: %d spatial axes are not supported", c->n->type, nsp);
        return false;
    }
    ck_attrs t = *a;
    t.nsp = nsp;
    ck_shape y = *x;
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(&t, x->rank, nsp, i);
        int64_t in = x->d[ax], out;
        if (a->has_size) {
            out = a->size[i];
        } else {
            double o = floor((double)in * a->scale[i]);
            if (!(o < 9.2e18 && o > -9.2e18)) { /* also NaN */
                ck_fail(c, CK_INVALID_CONFIG, "%s: scale %g makes the %s overflow", c->n->type,
                        a->scale[i], ck_axis_name(nsp, i));
                return false;
            }
            out = (int64_t)o;
        }
        if (out <= 0 || in <= 0) {
            ck_diag *dg =
                ck_fail(c, CK_OUTPUT_TOO_SMALL, "output %s would be %lld from an input %s of %lld",
                        ck_axis_name(nsp, i), (long long)out, ck_axis_name(nsp, i), (long long)in);
            if (dg && !a->has_size)
                ck_diag_set(&dg->formula, "%s = floor(%lld * %g) = %lld", ck_axis_name(nsp, i),
                            (long long)in, a->scale[i], (long long)out);
            ck_fail_axis(c, ax, ck_axis_name(nsp, i), out);
            return false;
        }
        y.d[ax] = out;
    }
    c->out[0]->shape = y;
    return true;
}

static void resize_cost(const ck_ctx *c, ck_cost *k) {
    const ck_attrs *a = &c->n->a;
    int nsp = c->out[0]->shape.rank - 2;
    int64_t taps = 1;
    for (int i = 0; i < nsp; i++)
        taps = ck_sat_mul(taps, a->interp == CK_INTERP_LINEAR  ? 2
                                : a->interp == CK_INTERP_CUBIC ? 4
                                                               : 1);
    k->ops = ck_sat_mul(ck_numel_sat(&c->out[0]->shape), taps);
}

const ck_op ck_op_resize = {resize_shape, resize_cost, NULL};
