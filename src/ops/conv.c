/* Convolutions: conv (1-D to 3-D, grouped, depthwise), transposed
 * convolution, and Keras's separable convolution. */
#include "ops/ops.h"

#include <string.h>

/* "the 3-pixel kernel" / "the 3-pixel kernel dilated by 2 (5 pixels)" */
static void kernel_phrase(ck_str *s, int64_t k, int64_t d) {
    int64_t ext;
    if (d == 1 || !ck_window_extent(k, d, &ext))
        ck_str_addf(s, "the %lld-pixel kernel", (long long)k);
    else
        ck_str_addf(s, "the %lld-pixel kernel dilated by %lld (%lld pixels)", (long long)k,
                    (long long)d, (long long)ext);
}

/* Reports output_too_small for spatial axis i with its formula. */
static void fail_window(ck_ctx *c, const ck_shape *x, int nsp, int i, ck_window *w, int64_t out,
                        const char *unit) {
    ck_str m = {0};
    const char *ax = ck_axis_name(nsp, i);
    ck_str_addf(&m, "output %s would be %lld — ", ax, (long long)out);
    kernel_phrase(&m, w->k, w->d);
    ck_str_addf(&m, " does not fit in the %lld-pixel input", (long long)w->in);
    if (w->pb || w->pe) ck_str_addf(&m, " padded to %lld", (long long)w->padded);
    if (w->s > 1 && out <= 0) ck_str_addf(&m, " (stride %lld)", (long long)w->s);
    char *msg = ck_str_take(&m);
    ck_diag *dg = ck_fail(c, CK_OUTPUT_TOO_SMALL, "%s", msg ? msg : "output too small");
    free(msg);
    (void)unit;
    ck_str f = {0};
    ck_str_addf(&f, "%s = ", ax);
    int64_t tmp;
    ck_window_out(w, &tmp, &f);
    if (dg)
        dg->formula = ck_str_take(&f);
    else
        ck_str_free(&f);
    ck_fail_axis(c, ck_spatial_axis(&c->n->a, x->rank, nsp, i), ax, out);
}

static void fail_overflow(ck_ctx *c, const char *what) {
    ck_fail(c, CK_INVALID_CONFIG, "%s: the size arithmetic overflows 64-bit integers", what);
}

/* PyTorch applies padding_mode other than zeros with F.pad before the
 * convolution; F.pad has its own limits. */
static bool check_border(ck_ctx *c, const ck_shape *x, int nsp, const int64_t *pb,
                         const int64_t *pe) {
    const ck_attrs *a = &c->n->a;
    if (a->border == CK_BORDER_ZEROS || a->dialect != CK_DIALECT_PYTORCH) return true;
    if (a->border == CK_BORDER_CIRCULAR && x->rank == nsp + 1) {
        ck_fail(c, CK_UNSUPPORTED,
                "PyTorch 1.13 cannot apply padding_mode='circular' to an unbatched %d-D input; add "
                "the batch axis",
                x->rank);
        return false;
    }
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(a, x->rank, nsp, i);
        int64_t in = x->d[ax];
        int64_t p = pb[i] > pe[i] ? pb[i] : pe[i];
        if (a->border == CK_BORDER_REFLECT && p >= in) {
            ck_diag *dg = ck_fail(c, CK_INVALID_PADDING,
                                  "reflect padding of %lld must be smaller than the input %s %lld",
                                  (long long)p, ck_axis_name(nsp, i), (long long)in);
            (void)dg;
            ck_fail_axis(c, ax, ck_axis_name(nsp, i), in);
            return false;
        }
        if (a->border == CK_BORDER_CIRCULAR && p > in) {
            ck_fail(c, CK_INVALID_PADDING,
                    "circular padding of %lld wraps around the %lld-pixel input %s more than once",
                    (long long)p, (long long)in, ck_axis_name(nsp, i));
            ck_fail_axis(c, ax, ck_axis_name(nsp, i), in);
            return false;
        }
    }
    return true;
}

static void channel_note(ck_diag *dg, int64_t want, int64_t got, bool channels_last) {
    if (!dg) return;
    if (want == 3 && got == 1)
        ck_diag_note(
            dg, "a 1-channel (grayscale) image is fed to a layer built for 3-channel RGB input");
    else if (want == 1 && got == 3)
        ck_diag_note(
            dg, "a 3-channel (RGB) image is fed to a layer built for 1-channel grayscale input");
    else if (got > 16 && want <= 4)
        ck_diag_note(dg, "the input's %s axis holds %lld: the data may be laid out %s",
                     channels_last ? "last" : "second", (long long)got,
                     channels_last ? "channels-first (NCHW) for a channels-last model"
                                   : "channels-last (NHWC) for a channels-first model");
}

/* Checks input channels against in_ch/groups; returns the group count used. */
static bool check_channels(ck_ctx *c, const ck_shape *x, int nsp, int64_t *groups, int64_t *cin) {
    const ck_attrs *a = &c->n->a;
    int cax = ck_channel_axis(a, x->rank, nsp);
    int64_t C = x->d[cax];
    int64_t g = a->groups ? a->groups : C;
    if (a->in_ch > 0 && C != a->in_ch) {
        char buf[160];
        ck_shape_str(x, buf, sizeof buf);
        ck_diag *dg =
            ck_fail(c, CK_CHANNEL_MISMATCH,
                    "%s expects %lld input channels (in_channels=%lld), but its input %s has %lld",
                    c->n->type, (long long)a->in_ch, (long long)a->in_ch, buf, (long long)C);
        ck_fail_axis(c, cax, "channels", C);
        channel_note(dg, a->in_ch, C, a->channels_last);
        return false;
    }
    if (C == 0) { /* a zero-size dimension, like an empty spatial axis */
        char buf[160];
        ck_shape_str(x, buf, sizeof buf);
        ck_fail(c, CK_EMPTY_INPUT, "%s: its input %s has 0 channels", c->n->type, buf);
        ck_fail_axis(c, cax, "channels", C);
        return false;
    }
    if (g <= 0 || C % g != 0) {
        ck_fail(c, CK_CHANNEL_MISMATCH, "the input's %lld channels do not split into %lld groups",
                (long long)C, (long long)g);
        ck_fail_axis(c, cax, "channels", C);
        return false;
    }
    *groups = g;
    *cin = C;
    return true;
}

static bool conv_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int nsp = a->nsp;
    if (a->dialect == CK_DIALECT_PYTORCH && a->pad_mode != CK_PAD_EXPLICIT &&
        a->pad_mode != CK_PAD_VALID)
        for (int i = 0; i < nsp; i++)
            if (a->stride[i] != 1) {
                ck_diag *dg = ck_fail(c, CK_INVALID_PADDING,
                                      "padding='same' is not supported for strided convolutions "
                                      "in PyTorch (stride %lld)",
                                      (long long)a->stride[i]);
                if (dg)
                    ck_diag_note(dg, "TensorFlow/Keras 'same' would give out = ceil(in / stride) "
                                     "by padding (out-1)*stride + dilation*(kernel-1) + 1 - in "
                                     "pixels, extra pixel at the end");
                return false;
            }
    bool torch = a->dialect == CK_DIALECT_PYTORCH;
    if (!ck_check_rank(c, x, nsp, torch, c->n->type)) return false;
    int64_t pb[CK_MAX_SP], pe[CK_MAX_SP];
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(a, x->rank, nsp, i);
        if (!ck_resolve_pads(a, i, x->d[ax], &pb[i], &pe[i])) {
            fail_overflow(c, c->n->type);
            return false;
        }
    }
    if (!check_border(c, x, nsp, pb, pe)) return false;
    /* PyTorch's F.pad (padding_mode other than zeros) crops on negative
     * padding; the convolution itself refuses it. */
    bool crop_ok = torch && a->border != CK_BORDER_ZEROS;
    for (int i = 0; i < nsp && !crop_ok; i++)
        if (pb[i] < 0 || pe[i] < 0) {
            ck_fail(c, CK_INVALID_PADDING,
                    "negative padding (%lld, %lld) on the %s axis is not supported",
                    (long long)pb[i], (long long)pe[i], ck_axis_name(nsp, i));
            return false;
        }
    int64_t g, C;
    if (!check_channels(c, x, nsp, &g, &C)) return false;
    ck_shape y = *x;
    int64_t dropped[CK_MAX_SP] = {0}, insz[CK_MAX_SP] = {0};
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(a, x->rank, nsp, i);
        ck_window w = {.in = x->d[ax],
                       .k = a->kernel[i],
                       .s = a->stride[i],
                       .d = a->dilation[i],
                       .pb = pb[i],
                       .pe = pe[i]};
        int64_t out, ext, padded;
        if (!ck_window_out(&w, &out, NULL) || !ck_window_extent(w.k, w.d, &ext) ||
            !ck_add(w.in, w.pb, &padded) || !ck_add(padded, w.pe, &padded)) {
            fail_overflow(c, c->n->type);
            return false;
        }
        if (x->d[ax] == 0 && !torch) {
            ck_fail(c, CK_EMPTY_INPUT, "the input's %s is 0", ck_axis_name(nsp, i));
            return false;
        }
        /* PyTorch refuses a kernel larger than the padded input; for the others
         * any output <= 0 is the error (the same condition for floor). */
        if (padded < ext || out <= 0) {
            fail_window(c, x, nsp, i, &w, out, "pixel");
            return false;
        }
        dropped[i] = w.dropped;
        insz[i] = w.in;
        y.d[ax] = out;
    }
    ck_warn_dropped(c, nsp, dropped, insz);
    int cax = ck_channel_axis(a, x->rank, nsp);
    y.d[cax] = a->out_ch > 0 ? a->out_ch : ck_sat_mul(C, a->depth_multiplier);
    (void)g;
    c->out[0]->shape = y;
    return true;
}

static void conv_cost(const ck_ctx *c, ck_cost *k) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape, *y = &c->out[0]->shape;
    int64_t C = x->d[ck_channel_axis(a, x->rank, a->nsp)];
    int64_t g = a->groups ? a->groups : C;
    int64_t O = y->d[ck_channel_axis(a, y->rank, a->nsp)];
    int64_t per_out = ck_sat_mul(C / g, ck_kernel_numel(a));
    k->params = ck_sat_add(ck_sat_mul(O, per_out), a->bias ? O : 0);
    k->macs = ck_sat_mul(ck_numel_sat(y), per_out);
}

const ck_op ck_op_conv = {conv_shape, conv_cost, NULL};

/* ---- transposed convolution -------------------------------------------- */

static bool tconv_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int nsp = a->nsp;
    if (a->dyn.given) { /* forward(x, output_size=skip.shape[2:]): the sizes as they are now */
        ck_attrs t = *a;
        int64_t v[CK_MAX_RANK];
        int n = 0;
        if (!ck_dyn_resolve(c, &a->dyn, v, CK_MAX_RANK, &n, "output_size")) return false;
        if (n != nsp && n != nsp + 2) {
            ck_fail(c, CK_INVALID_OUTPUT_SIZE, "%s: output_size needs %d or %d entries, got %d",
                    c->n->type, nsp, nsp + 2, n);
            return false;
        }
        for (int i = 0; i < nsp; i++) t.size[i] = v[n - nsp + i];
        t.dyn.given = false;
        return ck_call_shape(c, CK_OP_CONV_TRANSPOSE, &t, 1);
    }
    bool torch = a->dialect == CK_DIALECT_PYTORCH;
    if (!ck_check_rank(c, x, nsp, torch, c->n->type)) return false;
    int64_t op[CK_MAX_SP];
    memcpy(op, a->out_pad, sizeof op);
    /* PyTorch: a forward output_size is checked (and turned into
     * output_padding) before anything else looks at the input. */
    if (torch && a->has_size) {
        int64_t lo[CK_MAX_SP], hi[CK_MAX_SP];
        bool bad = false;
        for (int i = 0; i < nsp; i++) {
            int ax = ck_spatial_axis(a, x->rank, nsp, i);
            if (!ck_tconv_out(x->d[ax], a->kernel[i], a->stride[i], a->dilation[i], a->pad_begin[i],
                              a->pad_end[i], 0, &lo[i], NULL)) {
                fail_overflow(c, c->n->type);
                return false;
            }
            hi[i] = ck_sat_add(lo[i], ck_sat_add(a->stride[i], -1));
            if (a->size[i] < lo[i] || a->size[i] > hi[i] || !ck_sub(a->size[i], lo[i], &op[i]))
                bad = true;
        }
        if (bad) {
            ck_str m = {0};
            ck_str_add(&m, "requested an output size of [");
            for (int i = 0; i < nsp; i++)
                ck_str_addf(&m, "%s%lld", i ? ", " : "", (long long)a->size[i]);
            ck_str_add(&m, "], but this input allows sizes from [");
            for (int i = 0; i < nsp; i++)
                ck_str_addf(&m, "%s%lld", i ? ", " : "", (long long)lo[i]);
            ck_str_add(&m, "] to [");
            for (int i = 0; i < nsp; i++)
                ck_str_addf(&m, "%s%lld", i ? ", " : "", (long long)hi[i]);
            ck_str_add(&m, "] (min = (in-1)*stride - 2*padding + dilation*(kernel-1) + 1, max = "
                           "min + stride - 1)");
            char *msg = ck_str_take(&m);
            ck_fail(c, CK_INVALID_OUTPUT_SIZE, "%s", msg ? msg : "");
            free(msg);
            return false;
        }
    }
    for (int i = 0; i < nsp; i++)
        if (a->pad_mode == CK_PAD_EXPLICIT && (a->pad_begin[i] < 0 || a->pad_end[i] < 0)) {
            ck_fail(c, CK_INVALID_PADDING,
                    "negative padding (%lld, %lld) on the %s axis is not supported",
                    (long long)a->pad_begin[i], (long long)a->pad_end[i], ck_axis_name(nsp, i));
            return false;
        }
    int64_t g, C;
    if (!check_channels(c, x, nsp, &g, &C)) return false;
    if (torch) {
        for (int i = 0; i < nsp; i++) {
            int64_t m = a->stride[i] > a->dilation[i] ? a->stride[i] : a->dilation[i];
            if (op[i] >= m) {
                ck_fail(c, CK_INVALID_OUTPUT_SIZE,
                        "output_padding %lld on the %s axis must be smaller than max(stride, "
                        "dilation) = max(%lld, %lld) = %lld",
                        (long long)op[i], ck_axis_name(nsp, i), (long long)a->stride[i],
                        (long long)a->dilation[i], (long long)m);
                return false;
            }
        }
    }
    ck_shape y = *x;
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(a, x->rank, nsp, i);
        int64_t in = x->d[ax], k = a->kernel[i], s = a->stride[i], d = a->dilation[i];
        int64_t pb, pe, out;
        ck_str f = {0};
        if (!ck_tconv_pads(a, i, in, &pb, &pe)) {
            fail_overflow(c, c->n->type);
            return false;
        }
        if (!ck_tconv_out(in, k, s, d, pb, pe, op[i], &out, &f)) {
            ck_str_free(&f);
            fail_overflow(c, c->n->type);
            return false;
        }
        if (out <= 0) {
            const char *an = ck_axis_name(nsp, i);
            ck_diag *dg = ck_fail(c, CK_OUTPUT_TOO_SMALL,
                                  "output %s would be %lld — padding %lld + %lld removes more than "
                                  "the %lld pixels the transposed convolution produces",
                                  an, (long long)out, (long long)pb, (long long)pe,
                                  (long long)ck_sat_add(ck_sat_add(out, pb), pe));
            if (dg) {
                ck_str ff = {0};
                ck_str_addf(&ff, "%s = %s", an, f.p ? f.p : "");
                dg->formula = ck_str_take(&ff);
            }
            ck_str_free(&f);
            ck_fail_axis(c, ax, an, out);
            return false;
        }
        ck_str_free(&f);
        y.d[ax] = out;
    }
    y.d[ck_channel_axis(a, x->rank, nsp)] = a->out_ch > 0 ? a->out_ch : C;
    c->out[0]->shape = y;
    return true;
}

/* Counted on the input grid: every input pixel scatters one kernel. */
static void tconv_cost(const ck_ctx *c, ck_cost *k) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape, *y = &c->out[0]->shape;
    int64_t C = x->d[ck_channel_axis(a, x->rank, a->nsp)];
    int64_t O = y->d[ck_channel_axis(a, y->rank, a->nsp)];
    int64_t g = a->groups ? a->groups : C;
    int64_t per_in = ck_sat_mul(O / g, ck_kernel_numel(a));
    k->params = ck_sat_add(ck_sat_mul(C, per_in), a->bias ? O : 0);
    k->macs = ck_sat_mul(ck_numel_sat(x), per_in);
}

const ck_op ck_op_conv_transpose = {tconv_shape, tconv_cost, NULL};

/* ---- Keras separable convolution: depthwise then 1x1 ------------------- */

static bool sep_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    if (!conv_shape(c)) return false; /* the depthwise part decides the spatial size */
    ck_shape y = c->out[0]->shape;
    y.d[ck_channel_axis(a, y.rank, a->nsp)] = a->out_ch;
    c->out[0]->shape = y;
    return true;
}

static void sep_cost(const ck_ctx *c, ck_cost *k) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape, *y = &c->out[0]->shape;
    int64_t C = x->d[ck_channel_axis(a, x->rank, a->nsp)];
    int64_t mid = ck_sat_mul(C, a->depth_multiplier);
    int64_t sp = ck_numel_sat(y) / (a->out_ch > 0 ? a->out_ch : 1);
    k->params =
        ck_sat_add(ck_sat_add(ck_sat_mul(mid, ck_kernel_numel(a)), ck_sat_mul(mid, a->out_ch)),
                   a->bias ? a->out_ch : 0);
    k->macs =
        ck_sat_mul(sp, ck_sat_add(ck_sat_mul(mid, ck_kernel_numel(a)), ck_sat_mul(mid, a->out_ch)));
}

const ck_op ck_op_separable_conv = {sep_shape, sep_cost, NULL};
