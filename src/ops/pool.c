/* Pooling: max/avg windows, global and adaptive pooling. */
#include "ops/ops.h"

#include <string.h>

/* PyTorch 1.13's max_pool1d without autograd (torch.no_grad(), inference
 * mode) returns an empty tensor where the window leaves 0 positions, and
 * the layer after it raises; with autograd it raises here. */
static void no_grad_note(ck_ctx *c, ck_diag *dg) {
    const char *next = NULL;
    for (int i = 0; i < c->g->n_nodes && !next; i++)
        for (int k = 0; k < c->g->nodes[i].n_in; k++)
            if (c->g->nodes[i].in[k] == c->n->out[0]) next = c->g->nodes[i].name;
    ck_diag_note(dg,
                 "PyTorch in inference mode (torch.no_grad()) does not raise here: MaxPool1d then "
                 "returns an empty tensor of length 0, and %s%s%s raises instead",
                 next ? "the next layer, " : "the layer after it", next ? next : "",
                 next ? "," : "");
}

static bool window_pool_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int nsp = a->nsp;
    bool torch = a->dialect == CK_DIALECT_PYTORCH;
    /* what the frameworks cannot express (reached when a model is checked
     * under another framework's rules, check --as) */
    if (torch && a->pad_mode != CK_PAD_EXPLICIT && a->pad_mode != CK_PAD_VALID) {
        ck_fail(c, CK_UNSUPPORTED, "PyTorch pooling layers have no padding='same'");
        return false;
    }
    if (a->dialect == CK_DIALECT_KERAS && a->ceil_mode) {
        ck_fail(c, CK_UNSUPPORTED, "Keras pooling layers have no ceil_mode");
        return false;
    }
    if (!ck_check_rank(c, x, nsp, torch, c->n->type)) return false;
    for (int i = 0; i < x->rank; i++)
        if (x->d[i] == 0 && (i > 0 || x->rank == nsp + 1)) {
            char buf[160];
            ck_shape_str(x, buf, sizeof buf);
            ck_fail(c, CK_EMPTY_INPUT, "%s cannot pool the input %s: axis %d is empty", c->n->type,
                    buf, i);
            return false;
        }
    int64_t pb[CK_MAX_SP], pe[CK_MAX_SP];
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(a, x->rank, nsp, i);
        if (!ck_resolve_pads(a, i, x->d[ax], &pb[i], &pe[i])) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: the size arithmetic overflows", c->n->type);
            return false;
        }
        if (pb[i] < 0 || pe[i] < 0) {
            ck_fail(c, CK_INVALID_PADDING, "negative padding (%lld, %lld) on the %s axis",
                    (long long)pb[i], (long long)pe[i], ck_axis_name(nsp, i));
            return false;
        }
    }
    /* PyTorch: padding must be at most half the (undilated) kernel. */
    if (torch)
        for (int i = 0; i < nsp; i++)
            if (pb[i] > a->kernel[i] / 2 || pe[i] > a->kernel[i] / 2) {
                ck_fail(c, CK_INVALID_PADDING,
                        "padding %lld on the %s axis is more than half the kernel size %lld "
                        "(PyTorch requires padding <= kernel_size / 2 = %lld)",
                        (long long)(pb[i] > pe[i] ? pb[i] : pe[i]), ck_axis_name(nsp, i),
                        (long long)a->kernel[i], (long long)(a->kernel[i] / 2));
                return false;
            }
    bool same = a->pad_mode == CK_PAD_SAME_UPPER || a->pad_mode == CK_PAD_SAME_LOWER;
    ck_shape y = *x;
    int64_t dropped[CK_MAX_SP] = {0}, insz[CK_MAX_SP] = {0};
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(a, x->rank, nsp, i);
        ck_window w = {.in = x->d[ax],
                       .k = a->kernel[i],
                       .s = a->stride[i],
                       .d = a->dilation[i],
                       .pb = pb[i],
                       .pe = pe[i],
                       .ceil_mode = a->ceil_mode && !same,
                       .torch_ceil_drop = torch};
        int64_t out;
        if (!ck_window_out(&w, &out, NULL)) {
            ck_fail(c, CK_INVALID_CONFIG, "%s: the size arithmetic overflows", c->n->type);
            return false;
        }
        if (out <= 0) {
            const char *an = ck_axis_name(nsp, i);
            ck_str m = {0};
            ck_str_addf(&m, "output %s would be %lld — the %lld-pixel window", an, (long long)out,
                        (long long)w.k);
            if (w.d > 1) ck_str_addf(&m, " dilated by %lld", (long long)w.d);
            ck_str_addf(&m, " does not fit in the %lld-pixel input", (long long)w.in);
            if (w.pb || w.pe) ck_str_addf(&m, " padded to %lld", (long long)w.padded);
            char *msg = ck_str_take(&m);
            ck_diag *dg = ck_fail(c, CK_OUTPUT_TOO_SMALL, "%s", msg ? msg : "");
            free(msg);
            ck_str f = {0};
            ck_str_addf(&f, "%s = ", an);
            int64_t t;
            ck_window_out(&w, &t, &f);
            if (dg)
                dg->formula = ck_str_take(&f);
            else
                ck_str_free(&f);
            ck_fail_axis(c, ax, an, out);
            if (dg && out == 0 && nsp == 1 && c->n->op == CK_OP_MAX_POOL &&
                (torch || a->torch_rules))
                no_grad_note(c, dg);
            return false;
        }
        dropped[i] = w.dropped;
        insz[i] = w.in;
        y.d[ax] = out;
    }
    ck_warn_dropped(c, nsp, dropped, insz);
    c->out[0]->shape = y;
    return true;
}

static void window_pool_cost(const ck_ctx *c, ck_cost *k) {
    k->ops = ck_sat_mul(ck_numel_sat(&c->out[0]->shape), ck_kernel_numel(&c->n->a));
}

const ck_op ck_op_max_pool = {window_pool_shape, window_pool_cost, NULL};
const ck_op ck_op_avg_pool = {window_pool_shape, window_pool_cost, NULL};

/* ---- global pooling ----------------------------------------------------- */

static bool global_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int nsp = a->nsp ? a->nsp : x->rank - 2;
    if (x->rank < 3 || (a->nsp && x->rank != nsp + 2)) {
        char buf[160];
        ck_shape_str(x, buf, sizeof buf);
        ck_fail(c, CK_RANK_MISMATCH,
                "%s expects a %s input (batch, channels, spatial axes), got %s", c->n->type,
                a->nsp ? (nsp == 1   ? "3-D"
                          : nsp == 2 ? "4-D"
                                     : "5-D")
                       : "3-D or higher",
                buf);
        return false;
    }
    ck_attrs t = *a;
    t.nsp = nsp;
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(&t, x->rank, nsp, i);
        if (x->d[ax] == 0) {
            ck_fail(c, CK_EMPTY_INPUT, "%s cannot pool an empty %s axis", c->n->type,
                    ck_axis_name(nsp, i));
            return false;
        }
    }
    ck_shape y = *x;
    if (a->keepdims) {
        for (int i = 0; i < nsp; i++) y.d[ck_spatial_axis(&t, x->rank, nsp, i)] = 1;
    } else {
        y.rank = 2;
        y.d[0] = x->d[0];
        y.d[1] = x->d[ck_channel_axis(&t, x->rank, nsp)];
    }
    c->out[0]->shape = y;
    return true;
}

static void global_cost(const ck_ctx *c, ck_cost *k) {
    k->ops = ck_numel_sat(&c->in[0]->shape);
}

const ck_op ck_op_global_avg_pool = {global_shape, global_cost, NULL};
const ck_op ck_op_global_max_pool = {global_shape, global_cost, NULL};

/* ---- adaptive pooling (PyTorch bins: start = floor(i*in/out), end = ceil((i+1)*in/out)) --- */

static bool adaptive_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int nsp = a->nsp;
    if (!ck_check_rank(c, x, nsp, true, c->n->type)) return false;
    int first = x->rank == nsp + 2 ? 1 : 0; /* the batch may be empty */
    /* PyTorch averages to 1x1 with a plain mean, which accepts empty axes */
    bool mean = c->n->op == CK_OP_ADAPTIVE_AVG_POOL;
    for (int i = 0; i < nsp; i++) mean &= a->size[i] == 1;
    for (int i = first; i < x->rank && !mean; i++)
        if (x->d[i] == 0) {
            char buf[160];
            ck_shape_str(x, buf, sizeof buf);
            ck_fail(c, CK_EMPTY_INPUT, "%s needs a non-empty input, but axis %d of %s is 0",
                    c->n->type, i, buf);
            return false;
        }
    ck_shape y = *x;
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(a, x->rank, nsp, i);
        if (a->size[i] >= 0) y.d[ax] = a->size[i];
        if (y.d[ax] == 0) {
            ck_fail(c, CK_OUTPUT_TOO_SMALL, "%s: output %s is 0", c->n->type, ck_axis_name(nsp, i));
            return false;
        }
    }
    c->out[0]->shape = y;
    return true;
}

static void adaptive_cost(const ck_ctx *c, ck_cost *k) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape, *y = &c->out[0]->shape;
    int64_t reads = 1;
    for (int i = 0; i < a->nsp; i++) {
        int ax = ck_spatial_axis(a, x->rank, a->nsp, i);
        int64_t in = x->d[ax], out = y->d[ax], sum = 0;
        if (out > 100000 || out <= 0) {
            sum = out > 0 ? out : 0;
        } else {
            /* bin j is [floor(j*in/out), ceil((j+1)*in/out)); with in = q*out + r
             * its width is q + ceil((j+1)*r/out) - floor(j*r/out), and j*r <
             * out*out stays small: the huge input never meets a product */
            int64_t q = in / out, r = in % out, lo = 0, t;
            for (int64_t j1 = 1; j1 <= out; j1++) { /* bin j1 - 1 */
                if (!ck_mul(j1, r, &t)) break;
                sum = ck_sat_add(sum, ck_sat_add(q, ck_sat_add(ck_ceildiv(t, out), -lo)));
                lo = ck_floordiv(t, out);
            }
        }
        reads = ck_sat_mul(reads, sum);
    }
    int64_t rest = 1;
    for (int i = 0; i < x->rank; i++) {
        bool sp = false;
        for (int s = 0; s < a->nsp; s++) sp |= ck_spatial_axis(a, x->rank, a->nsp, s) == i;
        if (!sp) rest = ck_sat_mul(rest, x->d[i]);
    }
    k->ops = ck_sat_mul(reads, rest);
}

const ck_op ck_op_adaptive_avg_pool = {adaptive_shape, adaptive_cost, NULL};
const ck_op ck_op_adaptive_max_pool = {adaptive_shape, adaptive_cost, NULL};
