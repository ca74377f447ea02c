/* PyTorch module names and constructor arguments -> canonical attributes.
 * Argument lists follow torch 1.13's constructor signatures so that
 * positional arguments and pasted print(model) text bind the same way. */
#include "ops/ops.h"

#include <string.h>

/* ---- shared pieces ------------------------------------------------------ */

static bool positive(ck_build *b, const char *what, const int64_t *v, int n) {
    for (int i = 0; i < n; i++)
        if (v[i] <= 0) {
            ck_build_fail(b, CK_INVALID_CONFIG, "%s: %s must be positive, got %lld", b->fe->name,
                          what, (long long)v[i]);
            return false;
        }
    return true;
}

static bool border_from(ck_build *b, const char *mode, ck_border *out) {
    if (!strcmp(mode, "zeros") || !strcmp(mode, "constant"))
        *out = CK_BORDER_ZEROS;
    else if (!strcmp(mode, "reflect"))
        *out = CK_BORDER_REFLECT;
    else if (!strcmp(mode, "replicate"))
        *out = CK_BORDER_REPLICATE;
    else if (!strcmp(mode, "circular"))
        *out = CK_BORDER_CIRCULAR;
    else {
        ck_build_fail(
            b, CK_INVALID_CONFIG,
            "%s: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got '%s'",
            b->fe->name, mode);
        return false;
    }
    return true;
}

/* padding as int, tuple, 'same' or 'valid'. */
static bool conv_padding(ck_build *b, bool strings_ok) {
    ck_attrs *a = b->a;
    const ck_value *v = ck_arg(b, "padding");
    if (v && v->kind == CK_V_STR) {
        if (!strings_ok) {
            ck_build_fail(b, CK_INVALID_PADDING, "%s does not accept padding='%s'", b->fe->name,
                          v->s);
            return false;
        }
        if (!strcmp(v->s, "valid")) {
            a->pad_mode = CK_PAD_VALID;
        } else if (!strcmp(v->s, "same")) {
            /* with a stride PyTorch refuses it: the conv rule says so */
            a->pad_mode = CK_PAD_SAME_TORCH;
        } else {
            ck_build_fail(b, CK_INVALID_PADDING,
                          "invalid padding string '%s', should be one of 'same', 'valid'", v->s);
            return false;
        }
        return true;
    }
    int64_t p[CK_MAX_SP] = {0};
    if (!ck_arg_ints(b, "padding", a->nsp, p)) return false;
    for (int i = 0; i < a->nsp; i++) a->pad_begin[i] = a->pad_end[i] = p[i];
    return true;
}

/* ---- convolutions ------------------------------------------------------- */

/* torch's _ConvNd constructor checks, in its order. */
static bool check_groups(ck_build *b) {
    const ck_attrs *a = b->a;
    if (a->groups <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: groups must be a positive integer, got %lld",
                      b->fe->name, (long long)a->groups);
        return false;
    }
    if (a->in_ch % a->groups) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "in_channels must be divisible by groups: %lld %% %lld = %lld",
                      (long long)a->in_ch, (long long)a->groups, (long long)(a->in_ch % a->groups));
        return false;
    }
    if (a->out_ch % a->groups) {
        ck_build_fail(
            b, CK_INVALID_CONFIG, "out_channels must be divisible by groups: %lld %% %lld = %lld",
            (long long)a->out_ch, (long long)a->groups, (long long)(a->out_ch % a->groups));
        return false;
    }
    return true;
}

static bool build_conv(ck_build *b) {
    ck_attrs *a = b->a;
    int n = a->nsp;
    const char *pm = "zeros";
    if (!ck_arg_int(b, "in_channels", &a->in_ch) || !ck_arg_int(b, "out_channels", &a->out_ch) ||
        !ck_arg_ints(b, "kernel_size", n, a->kernel) || !ck_arg_ints(b, "stride", n, a->stride) ||
        !ck_arg_ints(b, "dilation", n, a->dilation) || !ck_arg_int(b, "groups", &a->groups) ||
        !ck_arg_bool(b, "bias", &a->bias) || !ck_arg_str(b, "padding_mode", &pm))
        return false;
    if (!positive(b, "kernel_size", a->kernel, n) || !positive(b, "stride", a->stride, n) ||
        !positive(b, "dilation", a->dilation, n))
        return false;
    if (a->in_ch <= 0 || a->out_ch <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "%s: in_channels and out_channels must be positive, got %lld and %lld",
                      b->fe->name, (long long)a->in_ch, (long long)a->out_ch);
        return false;
    }
    if (!check_groups(b)) return false;
    if (!conv_padding(b, true)) return false;
    return border_from(b, pm, &a->border);
}

static bool build_tconv(ck_build *b) {
    ck_attrs *a = b->a;
    int n = a->nsp;
    const char *pm = "zeros";
    if (!ck_arg_int(b, "in_channels", &a->in_ch) || !ck_arg_int(b, "out_channels", &a->out_ch) ||
        !ck_arg_ints(b, "kernel_size", n, a->kernel) || !ck_arg_ints(b, "stride", n, a->stride) ||
        !ck_arg_ints(b, "output_padding", n, a->out_pad) ||
        !ck_arg_ints(b, "dilation", n, a->dilation) || !ck_arg_int(b, "groups", &a->groups) ||
        !ck_arg_bool(b, "bias", &a->bias) || !ck_arg_str(b, "padding_mode", &pm))
        return false;
    if (!positive(b, "kernel_size", a->kernel, n) || !positive(b, "stride", a->stride, n) ||
        !positive(b, "dilation", a->dilation, n))
        return false;
    if (!check_groups(b)) return false;
    if (strcmp(pm, "zeros") != 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s supports only padding_mode='zeros', got '%s'",
                      b->fe->name, pm);
        return false;
    }
    if (!conv_padding(b, false)) return false;
    for (int i = 0; i < n; i++)
        if (a->out_pad[i] < 0) {
            ck_build_fail(b, CK_INVALID_OUTPUT_SIZE, "%s: negative output_padding %lld",
                          b->fe->name, (long long)a->out_pad[i]);
            return false;
        }
    /* forward(x, output_size=[h, w]) */
    for (int i = 0; b->fwd && i < b->fwd->nkw; i++) {
        if (strcmp(b->fwd->kw_names[i], "output_size") != 0) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "%s.forward() got an unexpected keyword argument '%s'", b->fe->name,
                          b->fwd->kw_names[i]);
            return false;
        }
        const ck_value *v = &b->fwd->kw[i];
        if (v->kind == CK_V_NONE) continue;
        if (ck_value_has_ref(b, v)) { /* output_size=skip.shape[2:]: read when checked */
            if (!ck_value_dyn(b, "output_size", v, &a->dyn)) return false;
            a->has_size = true;
            continue;
        }
        if (v->kind != CK_V_LIST || (v->n != n && v->n != n + 2)) {
            ck_build_fail(b, CK_INVALID_OUTPUT_SIZE, "%s: output_size needs %d or %d entries",
                          b->fe->name, n, n + 2);
            return false;
        }
        for (int k = 0; k < n; k++) {
            const ck_value *it = &v->items[v->n - n + k];
            if (it->kind != CK_V_INT) {
                ck_build_fail(b, CK_INVALID_OUTPUT_SIZE, "%s: output_size entries must be integers",
                              b->fe->name);
                return false;
            }
            a->size[k] = it->i;
        }
        a->has_size = true;
    }
    return true;
}

/* ---- pooling ------------------------------------------------------------ */

static bool build_pool(ck_build *b) {
    ck_attrs *a = b->a;
    int n = a->nsp;
    if (!ck_arg_ints(b, "kernel_size", n, a->kernel)) return false;
    memcpy(a->stride, a->kernel, sizeof a->stride); /* stride defaults to kernel_size */
    int64_t p[CK_MAX_SP] = {0};
    if (!ck_arg_ints(b, "stride", n, a->stride) || !ck_arg_ints(b, "padding", n, p) ||
        !ck_arg_bool(b, "ceil_mode", &a->ceil_mode) ||
        !ck_arg_bool(b, "count_include_pad", &a->count_include_pad))
        return false;
    if (ck_param_index(b->fe, "dilation") >= 0 && !ck_arg_ints(b, "dilation", n, a->dilation))
        return false;
    if (!positive(b, "kernel_size", a->kernel, n) || !positive(b, "stride", a->stride, n) ||
        !positive(b, "dilation", a->dilation, n))
        return false;
    const ck_value *dv = ck_arg(b, "divisor_override");
    if (dv && dv->kind == CK_V_INT && dv->i <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: divisor_override must be positive", b->fe->name);
        return false;
    }
    for (int i = 0; i < n; i++) a->pad_begin[i] = a->pad_end[i] = p[i];
    return true;
}

static bool build_adaptive(ck_build *b) {
    ck_attrs *a = b->a;
    const ck_value *v = ck_arg(b, "output_size");
    int n = a->nsp;
    if (v->kind == CK_V_INT) {
        for (int i = 0; i < n; i++) a->size[i] = v->i;
    } else if (v->kind == CK_V_LIST && v->n == n) {
        for (int i = 0; i < n; i++) {
            if (v->items[i].kind == CK_V_NONE)
                a->size[i] = -1;
            else if (v->items[i].kind == CK_V_INT)
                a->size[i] = v->items[i].i;
            else
                goto bad;
        }
    } else if (v->kind == CK_V_NONE) {
        for (int i = 0; i < n; i++) a->size[i] = -1;
    } else {
        goto bad;
    }
    for (int i = 0; i < n; i++)
        if (a->size[i] < -1) {
            ck_build_fail(b, CK_INVALID_CONFIG, "%s: output_size %lld is negative", b->fe->name,
                          (long long)a->size[i]);
            return false;
        }
    a->has_size = true;
    return true;
bad:
    ck_build_fail(b, CK_INVALID_CONFIG, "%s: output_size must be an int, None or a tuple of %d",
                  b->fe->name, n);
    return false;
}

/* ---- resize --------------------------------------------------------------- */

static bool build_upsample(ck_build *b) {
    ck_attrs *a = b->a;
    const char *mode = "nearest";
    if (!ck_arg_str(b, "mode", &mode)) return false;
    if (!strcmp(mode, "nearest"))
        a->interp = CK_INTERP_NEAREST;
    else if (!strcmp(mode, "nearest-exact"))
        a->interp = CK_INTERP_NEAREST_EXACT;
    else if (!strcmp(mode, "linear"))
        a->interp = CK_INTERP_LINEAR, a->nsp = 1;
    else if (!strcmp(mode, "bilinear"))
        a->interp = CK_INTERP_LINEAR, a->nsp = 2;
    else if (!strcmp(mode, "trilinear"))
        a->interp = CK_INTERP_LINEAR, a->nsp = 3;
    else if (!strcmp(mode, "bicubic"))
        a->interp = CK_INTERP_CUBIC, a->nsp = 2;
    else if (!strcmp(mode, "area"))
        a->interp = CK_INTERP_AREA;
    else {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: unknown mode '%s'", b->fe->name, mode);
        return false;
    }
    const ck_value *al = ck_arg(b, "align_corners");
    if (al && al->kind != CK_V_NONE) {
        if (a->interp == CK_INTERP_NEAREST || a->interp == CK_INTERP_NEAREST_EXACT ||
            a->interp == CK_INTERP_AREA) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "align_corners can only be set with the interpolating modes linear, "
                          "bilinear, bicubic, trilinear (mode is '%s')",
                          mode);
            return false;
        }
        if (!ck_arg_bool(b, "align_corners", &a->align_corners)) return false;
    }
    a->coord = a->align_corners                   ? CK_COORD_ALIGN_CORNERS
               : (a->interp == CK_INTERP_NEAREST) ? CK_COORD_ASYMMETRIC
                                                  : CK_COORD_HALF_PIXEL;
    const ck_value *sz = ck_arg(b, "size"), *sc = ck_arg(b, "scale_factor");
    bool has_sz = sz && sz->kind != CK_V_NONE, has_sc = sc && sc->kind != CK_V_NONE;
    if (has_sz && has_sc) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "%s: only one of size or scale_factor should be defined", b->fe->name);
        return false;
    }
    if (!has_sz && !has_sc) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: either size or scale_factor should be defined",
                      b->fe->name);
        return false;
    }
    const ck_value *v = has_sz ? sz : sc;
    int cnt = v->kind == CK_V_LIST ? v->n : 1;
    if (cnt > CK_MAX_SP || cnt < 1) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: %s has %d entries", b->fe->name,
                      has_sz ? "size" : "scale_factor", cnt);
        return false;
    }
    a->size_rank = v->kind == CK_V_LIST ? cnt : 0; /* 0: broadcast to every axis */
    for (int i = 0; i < CK_MAX_SP; i++) {
        const ck_value *it = v->kind == CK_V_LIST ? &v->items[i < cnt ? i : cnt - 1] : v;
        if (has_sz) {
            if (it->kind != CK_V_INT) {
                ck_build_fail(b, CK_INVALID_CONFIG, "%s: size entries must be integers",
                              b->fe->name);
                return false;
            }
            a->size[i] = it->i;
        } else {
            if (it->kind != CK_V_INT && it->kind != CK_V_FLOAT) {
                ck_build_fail(b, CK_INVALID_CONFIG, "%s: scale_factor entries must be numbers",
                              b->fe->name);
                return false;
            }
            a->scale[i] = it->kind == CK_V_INT ? (double)it->i : it->f;
        }
    }
    a->has_size = has_sz;
    a->has_scale = has_sc;
    if (!ck_arg_bool(b, "recompute_scale_factor", &a->recompute_scale)) return false;
    return true;
}

/* ---- padding layers: (left, right, top, bottom, front, back) ------------- */

static bool build_padlayer(ck_build *b, ck_border border) {
    ck_attrs *a = b->a;
    int n = a->nsp;
    a->border = border;
    const ck_value *v = ck_arg(b, "padding");
    int64_t p[2 * CK_MAX_SP];
    if (v->kind == CK_V_INT) {
        for (int i = 0; i < 2 * n; i++) p[i] = v->i;
    } else if (v->kind == CK_V_LIST && v->n == 2 * n) {
        for (int i = 0; i < 2 * n; i++) {
            if (v->items[i].kind != CK_V_INT) goto bad;
            p[i] = v->items[i].i;
        }
    } else {
        goto bad;
    }
    /* PyTorch lists the last axis first */
    for (int i = 0; i < n; i++) {
        a->pad_begin[n - 1 - i] = p[2 * i];
        a->pad_end[n - 1 - i] = p[2 * i + 1];
    }
    if (!ck_arg_float(b, "value", &a->pad_value)) return false;
    return true;
bad:
    ck_build_fail(b, CK_INVALID_CONFIG, "%s: padding must be an int or a %d-tuple", b->fe->name,
                  2 * n);
    return false;
}

static bool build_zeropad(ck_build *b) {
    return build_padlayer(b, CK_BORDER_ZEROS);
}
static bool build_reflectpad(ck_build *b) {
    return build_padlayer(b, CK_BORDER_REFLECT);
}
static bool build_replicatepad(ck_build *b) {
    return build_padlayer(b, CK_BORDER_REPLICATE);
}

/* ---- norms -------------------------------------------------------------- */

static bool build_batchnorm(ck_build *b) {
    ck_attrs *a = b->a;
    if (b->fe->op == CK_OP_BATCH_NORM) a->track_stats = true;
    if (!ck_arg_int(b, "num_features", &a->num_features) || !ck_arg_float(b, "eps", &a->eps) ||
        !ck_arg_bool(b, "affine", &a->affine) ||
        !ck_arg_bool(b, "track_running_stats", &a->track_stats) ||
        !ck_arg_bool(b, "training", &a->training))
        return false;
    if (a->num_features <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: num_features must be positive, got %lld",
                      b->fe->name, (long long)a->num_features);
        return false;
    }
    return true;
}

static bool build_instancenorm(ck_build *b) {
    b->a->affine = false;
    b->a->track_stats = false;
    return build_batchnorm(b);
}

static bool build_groupnorm(ck_build *b) {
    ck_attrs *a = b->a;
    if (!ck_arg_int(b, "num_groups", &a->num_groups) ||
        !ck_arg_int(b, "num_channels", &a->num_features) || !ck_arg_float(b, "eps", &a->eps) ||
        !ck_arg_bool(b, "affine", &a->affine))
        return false;
    if (a->num_groups <= 0 || a->num_features % a->num_groups) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "num_channels must be divisible by num_groups: %lld %% %lld",
                      (long long)a->num_features, (long long)a->num_groups);
        return false;
    }
    return true;
}

static bool build_layernorm(ck_build *b) {
    ck_attrs *a = b->a;
    if (!ck_arg_int_list(b, "normalized_shape", CK_MAX_RANK, a->shape, &a->shape_rank) ||
        !ck_arg_float(b, "eps", &a->eps) || !ck_arg_bool(b, "elementwise_affine", &a->affine))
        return false;
    return true;
}

/* ---- activations -------------------------------------------------------- */

#define ACT(fn, kind)                                                                              \
    static bool fn(ck_build *b) {                                                                  \
        b->a->act = kind;                                                                          \
        return true;                                                                               \
    }
ACT(build_relu, CK_ACT_RELU)
ACT(build_relu6, CK_ACT_RELU6)
ACT(build_silu, CK_ACT_SILU)
ACT(build_hardswish, CK_ACT_HARDSWISH)
ACT(build_sigmoid, CK_ACT_SIGMOID)
ACT(build_tanh, CK_ACT_TANH)
ACT(build_softsign, CK_ACT_SOFTSIGN)
ACT(build_selu, CK_ACT_SELU)

static bool build_hardsigmoid(ck_build *b) {
    b->a->act = CK_ACT_HARDSIGMOID;
    b->a->alpha = 1.0 / 6.0;
    b->a->beta = 0.5;
    return true;
}

static bool build_leaky(ck_build *b) {
    b->a->act = CK_ACT_LEAKY_RELU;
    b->a->alpha = 0.01;
    return ck_arg_float(b, "negative_slope", &b->a->alpha);
}

static bool build_elu(ck_build *b) {
    b->a->act = CK_ACT_ELU;
    b->a->alpha = 1.0;
    return ck_arg_float(b, "alpha", &b->a->alpha);
}

static bool build_gelu(ck_build *b) {
    const char *ap = "none";
    b->a->act = CK_ACT_GELU;
    if (!ck_arg_str(b, "approximate", &ap)) return false;
    if (strcmp(ap, "none") && strcmp(ap, "tanh")) {
        ck_build_fail(b, CK_INVALID_CONFIG, "GELU: approximate must be 'none' or 'tanh', got '%s'",
                      ap);
        return false;
    }
    b->a->beta = strcmp(ap, "tanh") == 0;
    return true;
}

static bool build_prelu(ck_build *b) {
    b->a->act = CK_ACT_PRELU;
    b->a->num_features = 1;
    b->a->alpha = 0.25;
    return ck_arg_int(b, "num_parameters", &b->a->num_features) &&
           ck_arg_float(b, "init", &b->a->alpha);
}

static bool build_hardtanh(ck_build *b) {
    b->a->act = CK_ACT_CLIP;
    b->a->alpha = -1;
    b->a->beta = 1;
    return ck_arg_float(b, "min_val", &b->a->alpha) && ck_arg_float(b, "max_val", &b->a->beta);
}

static bool build_mish(ck_build *b) {
    b->a->act = CK_ACT_MISH;
    return true;
}

static bool build_celu(ck_build *b) {
    b->a->act = CK_ACT_CELU;
    b->a->alpha = 1.0;
    return ck_arg_float(b, "alpha", &b->a->alpha);
}

static bool build_softplus(ck_build *b) {
    b->a->act = CK_ACT_SOFTPLUS;
    b->a->alpha = 1;
    b->a->beta = 20;
    return ck_arg_float(b, "beta", &b->a->alpha) && ck_arg_float(b, "threshold", &b->a->beta);
}

static bool build_softmax_any(ck_build *b, ck_act act) {
    ck_attrs *a = b->a;
    a->act = act;
    int64_t d = 1;
    const ck_value *v = ck_arg(b, "dim");
    if (!v || v->kind == CK_V_NONE) {
        /* PyTorch's implicit dim: 0 for 0-, 1- and 3-D inputs, else 1; the
         * rule is applied at check time from the rank. */
        a->axis = 1;
        a->implicit_dim = true;
        return true;
    }
    if (!ck_arg_int(b, "dim", &d)) return false;
    a->axis = (int)d;
    return true;
}

static bool build_softmax(ck_build *b) {
    return build_softmax_any(b, CK_ACT_SOFTMAX);
}
static bool build_logsoftmax(ck_build *b) {
    return build_softmax_any(b, CK_ACT_LOG_SOFTMAX);
}

static bool build_dropout(ck_build *b) {
    b->a->p = 0.5;
    if (!ck_arg_float(b, "p", &b->a->p)) return false;
    if (b->a->p < 0 || b->a->p > 1) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "%s: dropout probability has to be between 0 and 1, but got %g", b->fe->name,
                      b->a->p);
        return false;
    }
    return true;
}

static bool build_nothing(ck_build *b) {
    (void)b;
    return true;
}

/* ---- dense and layout ----------------------------------------------------- */

static bool build_linear(ck_build *b) {
    ck_attrs *a = b->a;
    if (!ck_arg_int(b, "in_features", &a->in_features) ||
        !ck_arg_int(b, "out_features", &a->out_features) || !ck_arg_bool(b, "bias", &a->bias))
        return false;
    if (a->in_features <= 0 || a->out_features <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "Linear: in_features and out_features must be positive, got %lld and %lld",
                      (long long)a->in_features, (long long)a->out_features);
        return false;
    }
    return true;
}

/* ---- moving data between channels and pixels ------------------------------ */

/* PixelShuffle(upscale_factor), PixelUnshuffle(downscale_factor): an r x r
 * block, channels in CRD order (channel c's block is c*r*r ... c*r*r+r*r-1) */
static bool build_block(ck_build *b, const char *name) {
    ck_attrs *a = b->a;
    int64_t r = 0;
    if (!ck_arg_int(b, name, &r)) return false;
    if (r <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: %s must be positive, got %lld", b->fe->name, name,
                      (long long)r);
        return false;
    }
    a->nsp = 2;
    for (int i = 0; i < 2; i++) a->kernel[i] = a->stride[i] = r;
    a->space.crd = true;
    return true;
}

static bool build_pixel_shuffle(ck_build *b) {
    return build_block(b, "upscale_factor");
}

static bool build_pixel_unshuffle(ck_build *b) {
    return build_block(b, "downscale_factor");
}

static bool build_channel_shuffle(ck_build *b) {
    if (!ck_arg_int(b, "groups", &b->a->groups)) return false;
    if (b->a->groups <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: groups must be positive, got %lld", b->fe->name,
                      (long long)b->a->groups);
        return false;
    }
    return true;
}

static bool build_flatten(ck_build *b) {
    int64_t s = 1, e = -1;
    if (!ck_arg_int(b, "start_dim", &s) || !ck_arg_int(b, "end_dim", &e)) return false;
    b->a->start_dim = (int)s;
    b->a->end_dim = (int)e;
    return true;
}

static bool build_unflatten(ck_build *b) {
    int64_t d = 0;
    if (!ck_arg_int(b, "dim", &d) ||
        !ck_arg_int_list(b, "unflattened_size", CK_MAX_RANK, b->a->shape, &b->a->shape_rank))
        return false;
    b->a->axis = (int)d;
    return true;
}

/* functional joins: add(a, b), mul(a, b), cat(a, b, dim=1) */
static bool build_cat(ck_build *b) {
    int64_t d = 0;
    if (!ck_arg_int(b, "dim", &d)) return false;
    b->a->axis = (int)d;
    return true;
}

/* ---- functional calls: view(x, [n, -1]), interpolate(x, size=s), ... ------ */

/* The tensor a functional call works on: its first argument, which must name
 * the call's first input. */
static bool fn_input(ck_build *b) {
    if (ck_arg_ref(b, ck_arg(b, "input")) == 1) return true;
    ck_build_fail(b, CK_INVALID_CONFIG,
                  "%s: the first argument must name the tensor it works on (an earlier layer or "
                  "input)",
                  b->fe->name);
    return false;
}

static bool build_fsize(ck_build *b) {
    return fn_input(b) && ck_arg_dyn(b, "dim", &b->a->dyn);
}

/* index: i, or a list with one item per axis: i (an index), None (all of the
 * axis) or [start, stop] / [start, stop, step] (a slice); entries may name
 * values. Stored as (start, stop, step) triples, step CK_DYN_SELECT for an
 * index. */
static bool index_item(ck_build *b, const ck_value *it, ck_dynlist *dl) {
    static const ck_value none = {.kind = CK_V_NONE};
    if (dl->n + 3 > CK_DYN_MAX) {
        ck_build_fail(b, CK_LIMIT_EXCEEDED, "getitem: at most %d indices", CK_DYN_MAX / 3);
        return false;
    }
    if (it->kind == CK_V_LIST) {
        if (it->n < 2 || it->n > 3) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "getitem: a slice is [start, stop] or [start, stop, step], got %d "
                          "entries",
                          it->n);
            return false;
        }
        for (int k = 0; k < 3; k++)
            if (!ck_dyn_push(b, "index", k < it->n ? &it->items[k] : &none, dl)) return false;
        return true;
    }
    if (it->kind == CK_V_NONE) {
        for (int k = 0; k < 3; k++)
            if (!ck_dyn_push(b, "index", &none, dl)) return false;
        return true;
    }
    const ck_value sel = {.kind = CK_V_INT, .i = CK_DYN_SELECT};
    return ck_dyn_push(b, "index", it, dl) && ck_dyn_push(b, "index", &none, dl) &&
           ck_dyn_push(b, "index", &sel, dl);
}

static bool build_fgetitem(ck_build *b) {
    if (!fn_input(b)) return false;
    const ck_value *v = ck_arg(b, "index");
    ck_dynlist *dl = &b->a->dyn;
    memset(dl, 0, sizeof *dl);
    dl->given = true;
    if (v->kind != CK_V_LIST) return index_item(b, v, dl);
    for (int i = 0; i < v->n; i++)
        if (!index_item(b, &v->items[i], dl)) return false;
    return true;
}

static bool build_fview(ck_build *b) {
    return fn_input(b) && ck_arg_dyn(b, "shape", &b->a->dyn);
}

/* F.interpolate: nn.Upsample's rules; a size naming other values is read
 * when the layer is checked. */
static bool build_finterp(ck_build *b) {
    if (!fn_input(b)) return false;
    const ck_value *sz = ck_arg(b, "size");
    bool dyn = false;
    if (sz && sz->kind == CK_V_LIST)
        for (int i = 0; i < sz->n; i++) dyn |= sz->items[i].kind == CK_V_STR;
    if (sz && sz->kind == CK_V_STR) dyn = true;
    if (!dyn) return build_upsample(b);
    if (!ck_arg_dyn(b, "size", &b->a->dyn)) return false;
    /* the other arguments as nn.Upsample reads them, with a placeholder size */
    static const ck_value one = {.kind = CK_V_INT, .i = 1};
    const ck_value *arg[16] = {0};
    int np = 0;
    while (b->fe->params[np] && np < 16) np++;
    for (int i = 0; i < np; i++) arg[i] = b->arg[i];
    arg[ck_param_index(b->fe, "size")] = &one;
    ck_build b2 = *b;
    b2.arg = arg;
    bool ok = build_upsample(&b2);
    b->failed = b2.failed;
    return ok;
}

static bool build_fpad(ck_build *b) {
    ck_attrs *a = b->a;
    const char *mode = "constant";
    if (!fn_input(b) || !ck_arg_dyn(b, "pad", &a->dyn) || !ck_arg_str(b, "mode", &mode))
        return false;
    if (!strcmp(mode, "constant"))
        a->border = CK_BORDER_ZEROS;
    else if (!strcmp(mode, "reflect"))
        a->border = CK_BORDER_REFLECT;
    else if (!strcmp(mode, "replicate"))
        a->border = CK_BORDER_REPLICATE;
    else if (!strcmp(mode, "circular"))
        a->border = CK_BORDER_CIRCULAR;
    else {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got "
                      "'%s'",
                      mode);
        return false;
    }
    const ck_value *v = ck_arg(b, "value");
    if (v && v->kind != CK_V_NONE && !ck_arg_float(b, "value", &a->pad_value)) return false;
    return true;
}

static bool build_fpermute(ck_build *b) {
    return fn_input(b) && ck_arg_dyn(b, "dims", &b->a->dyn);
}

static bool build_ftranspose(ck_build *b) {
    ck_dynlist d1;
    if (!fn_input(b) || !ck_arg_dyn(b, "dim0", &b->a->dyn) || !ck_arg_dyn(b, "dim1", &d1))
        return false;
    if (b->a->dyn.n != 1 || d1.n != 1) {
        ck_build_fail(b, CK_INVALID_CONFIG, "transpose: dim0 and dim1 must be integers");
        return false;
    }
    b->a->dyn.lit[1] = d1.lit[0];
    b->a->dyn.ref[1] = d1.ref[0];
    b->a->dyn.n = 2;
    return true;
}

static bool build_freduce(ck_build *b) {
    static const struct {
        const char *name;
        ck_reduce op;
    } ops[] = {{"mean", CK_REDUCE_MEAN},
               {"sum", CK_REDUCE_SUM},
               {"amax", CK_REDUCE_MAX},
               {"amin", CK_REDUCE_MIN}};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(b->fe->name, ops[i].name)) b->a->reduce.op = ops[i].op;
    b->a->keepdims = false;
    return fn_input(b) && ck_arg_dyn(b, "dim", &b->a->dyn) &&
           ck_arg_bool(b, "keepdim", &b->a->keepdims);
}

static bool build_ferror(ck_build *b) {
    const char *s = NULL;
    return fn_input(b) && ck_arg_str(b, "code", &s) && ck_arg_str(b, "message", &s);
}

static bool build_fchunk(ck_build *b) {
    int64_t k = 0, d = 0;
    if (!fn_input(b) || !ck_arg_int(b, "chunks", &k) || !ck_arg_int(b, "dim", &d)) return false;
    b->a->chunks = k;
    b->a->axis = (int)d;
    return true;
}

static bool build_fsplit(ck_build *b) {
    int64_t d = 0;
    if (!fn_input(b) || !ck_arg_dyn(b, "split_size_or_sections", &b->a->dyn) ||
        !ck_arg_int(b, "dim", &d))
        return false;
    b->a->axis = (int)d;
    return true;
}

/* torch.flatten: start_dim defaults to 0 (nn.Flatten's to 1) */
static bool build_fflatten(ck_build *b) {
    int64_t s = 0, e = -1;
    if (!fn_input(b) || !ck_arg_int(b, "start_dim", &s) || !ck_arg_int(b, "end_dim", &e))
        return false;
    b->a->start_dim = (int)s;
    b->a->end_dim = (int)e;
    return true;
}

/* add(a, b), mul(x, scalar=0.5), sub(x, scalar=1, scalar_first=True) */
static bool build_join(ck_build *b) {
    const ck_value *v = ck_arg(b, "scalar");
    if (!v || v->kind == CK_V_NONE) return true;
    b->a->has_scalar = true;
    return ck_arg_float(b, "scalar", &b->a->scalar) &&
           ck_arg_bool(b, "scalar_first", &b->a->scalar_first);
}

/* ---- the table ---------------------------------------------------------- */

static const char *const p_conv[] = {
    "in_channels", "out_channels", "kernel_size", "stride",       "padding",
    "dilation",    "groups",       "bias",        "padding_mode", NULL};
static const char *const p_tconv[] = {"in_channels", "out_channels",   "kernel_size", "stride",
                                      "padding",     "output_padding", "groups",      "bias",
                                      "dilation",    "padding_mode",   NULL};
static const char *const p_maxpool[] = {"kernel_size",    "stride",    "padding", "dilation",
                                        "return_indices", "ceil_mode", NULL};
static const char *const p_avgpool1[] = {"kernel_size",       "stride", "padding", "ceil_mode",
                                         "count_include_pad", NULL};
static const char *const p_avgpool[] = {
    "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override", NULL};
static const char *const p_adapt[] = {"output_size", "return_indices", NULL};
static const char *const p_upsample[] = {"size",          "scale_factor",           "mode",
                                         "align_corners", "recompute_scale_factor", NULL};
static const char *const p_pad[] = {"padding", NULL};
static const char *const p_cpad[] = {"padding", "value", NULL};
/* training=True: the module's mode (convkit's, as Python's convkit.check
 * writes it; not a constructor argument) */
static const char *const p_bn[] = {"num_features",        "eps",      "momentum", "affine",
                                   "track_running_stats", "training", NULL};
static const char *const p_gn[] = {"num_groups", "num_channels", "eps", "affine", NULL};
static const char *const p_ln[] = {"normalized_shape", "eps", "elementwise_affine", NULL};
static const char *const p_none[] = {"inplace", NULL};
static const char *const p_leaky[] = {"negative_slope", "inplace", NULL};
static const char *const p_elu[] = {"alpha", "inplace", NULL};
static const char *const p_gelu[] = {"approximate", NULL};
static const char *const p_prelu[] = {"num_parameters", "init", NULL};
static const char *const p_hardtanh[] = {"min_val", "max_val", "inplace", NULL};
static const char *const p_softplus[] = {"beta", "threshold", NULL};
static const char *const p_celu[] = {"alpha", "inplace", NULL};
static const char *const p_softmax[] = {"dim", NULL};
static const char *const p_dropout[] = {"p", "inplace", NULL};
static const char *const p_identity[] = {"args", NULL};
static const char *const p_linear[] = {"in_features", "out_features", "bias", NULL};
static const char *const p_flatten[] = {"start_dim", "end_dim", NULL};
static const char *const p_unflatten[] = {"dim", "unflattened_size", NULL};
static const char *const p_pshuffle[] = {"upscale_factor", NULL};
static const char *const p_punshuffle[] = {"downscale_factor", NULL};
static const char *const p_cshuffle[] = {"groups", NULL};
static const char *const p_join[] = {"alpha", "scalar", "scalar_first", NULL};
static const char *const p_fsize[] = {"input", "dim", NULL};
static const char *const p_fgetitem[] = {"input", "index", NULL};
static const char *const p_fview[] = {"input", "shape", NULL};
static const char *const p_finterp[] = {
    "input",     "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor",
    "antialias", NULL};
static const char *const p_fpad[] = {"input", "pad", "mode", "value", NULL};
static const char *const p_fpermute[] = {"input", "dims", NULL};
static const char *const p_ftranspose[] = {"input", "dim0", "dim1", NULL};
static const char *const p_freduce[] = {"input", "dim", "keepdim", "dtype", NULL};
static const char *const p_fflatten[] = {"input", "start_dim", "end_dim", NULL};
static const char *const p_ferror[] = {"input", "code", "message", NULL};
static const char *const p_fchunk[] = {"input", "chunks", "dim", NULL};
static const char *const p_fsplit[] = {"input", "split_size_or_sections", "dim", NULL};
static const char *const p_cat[] = {"dim", NULL};

/* the arguments the fix search edits, as PyTorch names them */
static const ck_knobs k_conv = {.pad = "padding",
                                .stride = "stride",
                                .kernel = "kernel_size",
                                .dilation = "dilation",
                                .in_ch = "in_channels"};
static const ck_knobs k_tconv = {.pad = "padding",
                                 .stride = "stride",
                                 .kernel = "kernel_size",
                                 .dilation = "dilation",
                                 .in_ch = "in_channels",
                                 .out_pad = "output_padding"};
static const ck_knobs k_pool = {.pad = "padding",
                                .stride = "stride",
                                .kernel = "kernel_size",
                                .dilation = "dilation",
                                .ceil = "ceil_mode"};
static const ck_knobs k_avgpool = {
    .pad = "padding", .stride = "stride", .kernel = "kernel_size", .ceil = "ceil_mode"};
static const ck_knobs k_norm = {.in_ch = "num_features"};
static const ck_knobs k_linear = {.features = "in_features"};

#define PT(name, op, nsp, params, req, build)                                                      \
    { name, CK_DIALECT_PYTORCH, CK_OP_##op, nsp, params, req, build, false, NULL }
/* a layer whose arguments the fix search may change (knobs: their names) */
#define PTK(name, op, nsp, params, req, build, knobs)                                              \
    { name, CK_DIALECT_PYTORCH, CK_OP_##op, nsp, params, req, build, false, &knobs }
/* a call of PyTorch's functional API: its inputs are the values its arguments name */
#define PF(name, op, params, req, build)                                                           \
    { name, CK_DIALECT_PYTORCH, CK_OP_##op, 0, params, req, build, true, NULL }

const ck_frontend ck_fe_pytorch[] = {
    PTK("Conv1d", CONV, 1, p_conv, 3, build_conv, k_conv),
    PTK("Conv2d", CONV, 2, p_conv, 3, build_conv, k_conv),
    PTK("Conv3d", CONV, 3, p_conv, 3, build_conv, k_conv),
    PTK("ConvTranspose1d", CONV_TRANSPOSE, 1, p_tconv, 3, build_tconv, k_tconv),
    PTK("ConvTranspose2d", CONV_TRANSPOSE, 2, p_tconv, 3, build_tconv, k_tconv),
    PTK("ConvTranspose3d", CONV_TRANSPOSE, 3, p_tconv, 3, build_tconv, k_tconv),
    PTK("MaxPool1d", MAX_POOL, 1, p_maxpool, 1, build_pool, k_pool),
    PTK("MaxPool2d", MAX_POOL, 2, p_maxpool, 1, build_pool, k_pool),
    PTK("MaxPool3d", MAX_POOL, 3, p_maxpool, 1, build_pool, k_pool),
    PTK("AvgPool1d", AVG_POOL, 1, p_avgpool1, 1, build_pool, k_avgpool),
    PTK("AvgPool2d", AVG_POOL, 2, p_avgpool, 1, build_pool, k_avgpool),
    PTK("AvgPool3d", AVG_POOL, 3, p_avgpool, 1, build_pool, k_avgpool),
    PT("AdaptiveAvgPool1d", ADAPTIVE_AVG_POOL, 1, p_adapt, 1, build_adaptive),
    PT("AdaptiveAvgPool2d", ADAPTIVE_AVG_POOL, 2, p_adapt, 1, build_adaptive),
    PT("AdaptiveAvgPool3d", ADAPTIVE_AVG_POOL, 3, p_adapt, 1, build_adaptive),
    PT("AdaptiveMaxPool1d", ADAPTIVE_MAX_POOL, 1, p_adapt, 1, build_adaptive),
    PT("AdaptiveMaxPool2d", ADAPTIVE_MAX_POOL, 2, p_adapt, 1, build_adaptive),
    PT("AdaptiveMaxPool3d", ADAPTIVE_MAX_POOL, 3, p_adapt, 1, build_adaptive),
    PT("Upsample", RESIZE, 0, p_upsample, 0, build_upsample),
    PT("ZeroPad1d", PAD, 1, p_pad, 1, build_zeropad),
    PT("ZeroPad2d", PAD, 2, p_pad, 1, build_zeropad),
    PT("ZeroPad3d", PAD, 3, p_pad, 1, build_zeropad),
    PT("ConstantPad1d", PAD, 1, p_cpad, 2, build_zeropad),
    PT("ConstantPad2d", PAD, 2, p_cpad, 2, build_zeropad),
    PT("ConstantPad3d", PAD, 3, p_cpad, 2, build_zeropad),
    PT("ReflectionPad1d", PAD, 1, p_pad, 1, build_reflectpad),
    PT("ReflectionPad2d", PAD, 2, p_pad, 1, build_reflectpad),
    PT("ReflectionPad3d", PAD, 3, p_pad, 1, build_reflectpad),
    PT("ReplicationPad1d", PAD, 1, p_pad, 1, build_replicatepad),
    PT("ReplicationPad2d", PAD, 2, p_pad, 1, build_replicatepad),
    PT("ReplicationPad3d", PAD, 3, p_pad, 1, build_replicatepad),
    PTK("BatchNorm1d", BATCH_NORM, 1, p_bn, 1, build_batchnorm, k_norm),
    PTK("BatchNorm2d", BATCH_NORM, 2, p_bn, 1, build_batchnorm, k_norm),
    PTK("BatchNorm3d", BATCH_NORM, 3, p_bn, 1, build_batchnorm, k_norm),
    PTK("InstanceNorm1d", INSTANCE_NORM, 1, p_bn, 1, build_instancenorm, k_norm),
    PTK("InstanceNorm2d", INSTANCE_NORM, 2, p_bn, 1, build_instancenorm, k_norm),
    PTK("InstanceNorm3d", INSTANCE_NORM, 3, p_bn, 1, build_instancenorm, k_norm),
    PT("GroupNorm", GROUP_NORM, 0, p_gn, 2, build_groupnorm),
    PT("LayerNorm", LAYER_NORM, 0, p_ln, 1, build_layernorm),
    PT("ReLU", ACTIVATION, 0, p_none, 0, build_relu),
    PT("ReLU6", ACTIVATION, 0, p_none, 0, build_relu6),
    PT("LeakyReLU", ACTIVATION, 0, p_leaky, 0, build_leaky),
    PT("PReLU", ACTIVATION, 0, p_prelu, 0, build_prelu),
    PT("ELU", ACTIVATION, 0, p_elu, 0, build_elu),
    PT("SELU", ACTIVATION, 0, p_none, 0, build_selu),
    PT("GELU", ACTIVATION, 0, p_gelu, 0, build_gelu),
    PT("SiLU", ACTIVATION, 0, p_none, 0, build_silu),
    PT("Hardswish", ACTIVATION, 0, p_none, 0, build_hardswish),
    PT("Hardsigmoid", ACTIVATION, 0, p_none, 0, build_hardsigmoid),
    PT("Hardtanh", ACTIVATION, 0, p_hardtanh, 0, build_hardtanh),
    PT("Sigmoid", ACTIVATION, 0, p_none, 0, build_sigmoid),
    PT("Tanh", ACTIVATION, 0, p_none, 0, build_tanh),
    PT("Softsign", ACTIVATION, 0, p_none, 0, build_softsign),
    PT("Softplus", ACTIVATION, 0, p_softplus, 0, build_softplus),
    PT("Mish", ACTIVATION, 0, p_identity, 0, build_mish),
    PT("CELU", ACTIVATION, 0, p_celu, 0, build_celu),
    PT("Softmax", ACTIVATION, 0, p_softmax, 0, build_softmax),
    PT("LogSoftmax", ACTIVATION, 0, p_softmax, 0, build_logsoftmax),
    PT("Dropout", IDENTITY, 0, p_dropout, 0, build_dropout),
    PT("Dropout1d", IDENTITY, 0, p_dropout, 0, build_dropout),
    PT("Dropout2d", IDENTITY, 0, p_dropout, 0, build_dropout),
    PT("Dropout3d", IDENTITY, 0, p_dropout, 0, build_dropout),
    PT("AlphaDropout", IDENTITY, 0, p_dropout, 0, build_dropout),
    PT("Identity", IDENTITY, 0, p_identity, 0, build_nothing),
    PT("Flatten", FLATTEN, 0, p_flatten, 0, build_flatten),
    PT("Unflatten", UNFLATTEN, 0, p_unflatten, 2, build_unflatten),
    PT("PixelShuffle", DEPTH_TO_SPACE, 2, p_pshuffle, 1, build_pixel_shuffle),
    PT("PixelUnshuffle", SPACE_TO_DEPTH, 2, p_punshuffle, 1, build_pixel_unshuffle),
    PT("ChannelShuffle", CHANNEL_SHUFFLE, 0, p_cshuffle, 1, build_channel_shuffle),
    PTK("Linear", LINEAR, 0, p_linear, 2, build_linear, k_linear),
    PT("add", ADD, 0, p_join, 0, build_join),
    PT("sub", SUB, 0, p_join, 0, build_join),
    PT("mul", MUL, 0, p_join, 0, build_join),
    PT("div", DIV, 0, p_join, 0, build_join),
    PT("floordiv", FLOORDIV, 0, p_join, 0, build_join),
    PT("mod", MOD, 0, p_join, 0, build_join),
    PT("pow", POW, 0, p_join, 0, build_join),
    PT("eq", EQUAL, 0, p_join, 0, build_join),
    PT("lt", LESS, 0, p_join, 0, build_join),
    PT("le", LESS_EQUAL, 0, p_join, 0, build_join),
    PT("gt", GREATER, 0, p_join, 0, build_join),
    PT("ge", GREATER_EQUAL, 0, p_join, 0, build_join),
    PT("logical_and", AND, 0, p_join, 0, build_join),
    PT("logical_or", OR, 0, p_join, 0, build_join),
    PT("logical_xor", XOR, 0, p_join, 0, build_join),
    PT("where", WHERE, 0, p_none, 0, build_nothing),
    PT("cat", CONCAT, 0, p_cat, 0, build_cat),
    PT("concat", CONCAT, 0, p_cat, 0, build_cat),
    PF("size", TORCH_SIZE, p_fsize, 1, build_fsize),
    PF("getitem", TORCH_GETITEM, p_fgetitem, 2, build_fgetitem),
    PF("view", TORCH_VIEW, p_fview, 2, build_fview),
    PF("reshape", TORCH_VIEW, p_fview, 2, build_fview),
    PF("interpolate", TORCH_INTERPOLATE, p_finterp, 1, build_finterp),
    PF("pad", TORCH_PAD, p_fpad, 2, build_fpad),
    PF("permute", TORCH_PERMUTE, p_fpermute, 2, build_fpermute),
    PF("transpose", TORCH_TRANSPOSE, p_ftranspose, 3, build_ftranspose),
    PF("mean", TORCH_REDUCE, p_freduce, 1, build_freduce),
    PF("sum", TORCH_REDUCE, p_freduce, 1, build_freduce),
    PF("amax", TORCH_REDUCE, p_freduce, 1, build_freduce),
    PF("amin", TORCH_REDUCE, p_freduce, 1, build_freduce),
    PF("flatten", FLATTEN, p_fflatten, 1, build_fflatten),
    PF("chunk", TORCH_PIECES, p_fchunk, 2, build_fchunk),
    PF("error", TORCH_ERROR, p_ferror, 1, build_ferror),
    PF("squeeze", TORCH_SQUEEZE, p_fsize, 1, build_fsize),
    PF("unsqueeze", TORCH_UNSQUEEZE, p_fsize, 2, build_fsize),
    PF("split", TORCH_PIECES, p_fsplit, 2, build_fsplit),
    {0},
};
