/* ONNX operator names and attributes -> canonical attributes.
 *
 * The importer (src/import/onnx.c) passes every ONNX attribute as a keyword
 * argument (INT -> int, INTS -> list of int, FLOAT -> float, STRING -> str)
 * and the weight inputs of Conv, ConvTranspose, Gemm, BatchNormalization,
 * InstanceNormalization, PRelu and Clip (and MatMul with a constant B) as
 * tensor indices in b->params, in ONNX input order from input 1 on (-1 =
 * absent or not a constant). Every other input is a value; ONNX-only ops and
 * wrappers are in src/ops/onnx_shape_ops.c.
 *
 * The spatial rank (a->nsp) comes from kernel_shape or the weight's rank;
 * where neither exists it stays 0 and the op takes it from the input
 * (rank - 2). Checks here are the ones the ONNX specification states and
 * that hold at any input size (attribute lengths, pads with auto_pad,
 * kernel_shape vs weight dims); input-dependent checks are the ops'.
 */
#include "ops/onnx_shape_ops.h"
#include "ops/ops.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- shared pieces ------------------------------------------------------ */

/* The tensor bound to weight input `k` (0 = ONNX input 1), or NULL. */
static const ck_tensor *param(const ck_build *b, int k) {
    if (k < 0 || k >= b->n_params || !b->params || b->params[k] < 0 ||
        b->params[k] >= b->g->n_tensors)
        return NULL;
    return &b->g->tensors[b->params[k]];
}

static void shape_text(ck_str *s, const ck_shape *sh) {
    ck_str_shape(s, sh);
}

/* An INTS attribute that must have exactly `n` entries (strides, dilations). */
static bool ints_exact(ck_build *b, const char *name, int n, int64_t *out, int64_t min) {
    const ck_value *v = ck_arg(b, name);
    if (!v) return true;
    int64_t tmp[2 * CK_MAX_SP];
    int cnt = 0;
    if (!ck_arg_int_list(b, name, 2 * CK_MAX_SP, tmp, &cnt)) return false;
    if (cnt != n) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "%s: %s has %d value%s but the kernel has %d spatial axes (needs %d)",
                      b->type, name, cnt, cnt == 1 ? "" : "s",
                      n / (strcmp(name, "pads") == 0 ? 2 : 1), n);
        return false;
    }
    for (int i = 0; i < n; i++)
        if (tmp[i] < min) {
            ck_build_fail(b, min > 0 ? CK_INVALID_CONFIG : CK_INVALID_PADDING,
                          "%s: %s[%d] = %lld; every entry must be at least %lld", b->type, name, i,
                          (long long)tmp[i], (long long)min);
            return false;
        }
    memcpy(out, tmp, (size_t)n * sizeof *out);
    return true;
}

/* The importer's mark of a PyTorch export (ops/attrs.h, torch_rules). */
static bool torch_rules(ck_build *b) {
    int64_t t = 0;
    if (!ck_arg_int(b, "torch_rules", &t)) return false;
    b->a->torch_rules = t != 0;
    return true;
}

/* strides, dilations, pads, auto_pad for a window op with nsp axes. */
static bool window_attrs(ck_build *b, int nsp, bool dilations) {
    ck_attrs *a = b->a;
    const char *ap = "NOTSET";
    if (!ck_arg_str(b, "auto_pad", &ap)) return false;
    if (!strcmp(ap, "NOTSET") || !ap[0])
        a->pad_mode = CK_PAD_EXPLICIT;
    else if (!strcmp(ap, "SAME_UPPER"))
        a->pad_mode = CK_PAD_SAME_UPPER;
    else if (!strcmp(ap, "SAME_LOWER"))
        a->pad_mode = CK_PAD_SAME_LOWER;
    else if (!strcmp(ap, "VALID"))
        a->pad_mode = CK_PAD_VALID;
    else {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "%s: auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '%s'",
                      b->type, ap);
        return false;
    }
    int64_t pads[2 * CK_MAX_SP] = {0};
    if (!ints_exact(b, "pads", 2 * nsp, pads, 0)) return false;
    if (a->pad_mode != CK_PAD_EXPLICIT && ck_arg(b, "pads")) {
        bool nonzero = false;
        for (int i = 0; i < 2 * nsp; i++) nonzero |= pads[i] != 0;
        if (nonzero) {
            ck_str s = {0};
            for (int i = 0; i < 2 * nsp; i++)
                ck_str_addf(&s, "%s%lld", i ? ", " : "", (long long)pads[i]);
            ck_diag *dg = ck_build_fail(
                b, CK_INVALID_CONFIG,
                "%s: pads [%s] cannot be used together with auto_pad=%s (ONNX: the pads "
                "attribute cannot be used simultaneously with auto_pad)",
                b->type, s.p ? s.p : "", ap);
            if (dg) ck_diag_fix(dg, "remove pads, or set auto_pad=NOTSET");
            ck_str_free(&s);
            return false;
        }
    }
    for (int i = 0; i < nsp; i++) {
        a->pad_begin[i] = pads[i];
        a->pad_end[i] = pads[nsp + i];
    }
    if (!ints_exact(b, "strides", nsp, a->stride, 1)) return false;
    if (dilations && !ints_exact(b, "dilations", nsp, a->dilation, 1)) return false;
    return true;
}

static bool kernel_attr(ck_build *b, int64_t *k, int *n) {
    *n = -1;
    if (!ck_arg(b, "kernel_shape")) return true;
    int cnt = 0;
    if (!ck_arg_int_list(b, "kernel_shape", CK_MAX_SP, k, &cnt)) return false;
    if (cnt < 1) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: kernel_shape is empty", b->type);
        return false;
    }
    for (int i = 0; i < cnt; i++)
        if (k[i] < 1) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "%s: kernel_shape[%d] = %lld; kernel sizes must be positive", b->type, i,
                          (long long)k[i]);
            return false;
        }
    *n = cnt;
    return true;
}

/* ---- Conv, ConvTranspose -------------------------------------------------- */

static bool conv_any(ck_build *b, bool transpose) {
    ck_attrs *a = b->a;
    const ck_tensor *w = param(b, 0);
    if (!w) {
        ck_build_fail(
            b, CK_UNSUPPORTED,
            "%s: the weight W (input 1) is not an initializer or Constant, so its shape is unknown",
            b->type);
        return false;
    }
    int64_t ks[CK_MAX_SP];
    int nk;
    if (!kernel_attr(b, ks, &nk)) return false;
    int nsp = nk >= 0 ? nk : w->shape.rank - 2;
    if (nsp < 1) {
        ck_str s = {0};
        shape_text(&s, &w->shape);
        ck_build_fail(b, CK_RANK_MISMATCH,
                      "%s: the weight '%s' %s has rank %d; it needs [%s, k1, ...] (rank >= 3)",
                      b->type, w->name, s.p ? s.p : "", w->shape.rank,
                      transpose ? "C_in, C_out/group" : "C_out, C_in/group");
        ck_str_free(&s);
        return false;
    }
    if (nsp > CK_MAX_SP) {
        ck_build_fail(b, CK_UNSUPPORTED, "%s: %d spatial axes; convkit supports 1-D to 3-D",
                      b->type, nsp);
        return false;
    }
    a->nsp = nsp;
    /* the ONNX order of checks: pads with auto_pad, then ranks, then channels */
    if (!window_attrs(b, nsp, true)) return false;
    if (w->shape.rank != nsp + 2) {
        ck_str s = {0};
        shape_text(&s, &w->shape);
        ck_build_fail(b, CK_RANK_MISMATCH,
                      "%s: the weight '%s' %s has %d spatial axes, but kernel_shape has %d (the "
                      "weight must be "
                      "%d-D)",
                      b->type, w->name, s.p ? s.p : "", w->shape.rank - 2, nsp, nsp + 2);
        ck_str_free(&s);
        return false;
    }
    for (int i = 0; i < nsp; i++) {
        int64_t wk = w->shape.d[2 + i];
        if (nk >= 0 && ks[i] != wk) {
            ck_str s = {0};
            shape_text(&s, &w->shape);
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "%s: kernel_shape[%d] = %lld but the weight '%s' %s has %lld there",
                          b->type, i, (long long)ks[i], w->name, s.p ? s.p : "", (long long)wk);
            ck_str_free(&s);
            return false;
        }
        a->kernel[i] = nk >= 0 ? ks[i] : wk;
        if (a->kernel[i] < 1) {
            ck_build_fail(b, CK_INVALID_CONFIG, "%s: the weight '%s' has an empty kernel axis %d",
                          b->type, w->name, i);
            return false;
        }
    }
    if (!ck_arg_int(b, "group", &a->groups)) return false;
    if (a->groups < 1) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: group must be a positive integer, got %lld",
                      b->type, (long long)a->groups);
        return false;
    }
    int64_t w0 = w->shape.d[0], w1 = w->shape.d[1], prod;
    if (!ck_mul(w1, a->groups, &prod)) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: weight dim 1 x group overflows", b->type);
        return false;
    }
    if (transpose) {
        a->in_ch = w0;
        a->out_ch = prod;
        if (a->in_ch % a->groups) {
            ck_build_fail(
                b, CK_INVALID_CONFIG,
                "%s: the weight '%s' has %lld input channels, which group=%lld does not divide",
                b->type, w->name, (long long)w0, (long long)a->groups);
            return false;
        }
    } else {
        /* ONNX does not ask M to be divisible by group (onnx 1.12 and the
         * oracle accept M = 8 with group = 3) */
        a->out_ch = w0;
        a->in_ch = prod;
    }
    const ck_tensor *bias = param(b, 1);
    a->bias = bias != NULL;
    if (bias && (bias->shape.rank != 1 || bias->shape.d[0] != a->out_ch)) {
        ck_str s = {0};
        shape_text(&s, &bias->shape);
        ck_build_fail(b, CK_CHANNEL_MISMATCH,
                      "%s: the bias '%s' %s must be 1-D with %lld entries (one per output channel)",
                      b->type, bias->name, s.p ? s.p : "", (long long)a->out_ch);
        ck_str_free(&s);
        return false;
    }
    if (transpose) {
        if (!ints_exact(b, "output_padding", nsp, a->out_pad, 0)) return false;
        const ck_value *os = ck_arg(b, "output_shape");
        if (os) {
            int64_t sz[CK_MAX_SP + 2];
            int cnt = 0;
            if (!ck_arg_int_list(b, "output_shape", CK_MAX_SP + 2, sz, &cnt)) return false;
            int off = cnt == nsp + 2 ? 2 : 0;
            if (cnt != nsp && cnt != nsp + 2) {
                ck_build_fail(b, CK_INVALID_CONFIG,
                              "%s: output_shape has %d entries; it needs %d (one per spatial axis)",
                              b->type, cnt, nsp);
                return false;
            }
            for (int i = 0; i < nsp; i++) {
                if (sz[off + i] < 1) {
                    ck_build_fail(b, CK_INVALID_OUTPUT_SIZE,
                                  "%s: output_shape[%d] = %lld must be positive", b->type, i,
                                  (long long)sz[off + i]);
                    return false;
                }
                a->size[i] = sz[off + i];
            }
            a->has_size = true;
        }
    }
    return true;
}

static bool build_conv(ck_build *b) {
    return conv_any(b, false);
}
static bool build_conv_transpose(ck_build *b) {
    return conv_any(b, true);
}

/* ---- pooling ---------------------------------------------------------------- */

static bool pool_any(ck_build *b, bool avg) {
    ck_attrs *a = b->a;
    int64_t ks[CK_MAX_SP];
    int nk;
    if (!kernel_attr(b, ks, &nk)) return false;
    if (nk < 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s needs kernel_shape", b->type);
        return false;
    }
    a->nsp = nk;
    memcpy(a->kernel, ks, (size_t)nk * sizeof *ks);
    if (!window_attrs(b, nk, true)) return false;
    int64_t ceil = 0, cip = 0, so = 0;
    if (!ck_arg_int(b, "ceil_mode", &ceil) || !ck_arg_int(b, "storage_order", &so) ||
        !torch_rules(b))
        return false;
    if (ceil != 0 && ceil != 1) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: ceil_mode must be 0 or 1, got %lld", b->type,
                      (long long)ceil);
        return false;
    }
    a->ceil_mode = ceil == 1;
    if (avg) {
        if (!ck_arg_int(b, "count_include_pad", &cip)) return false;
        a->count_include_pad = cip != 0;
    }
    return true;
}

static bool build_maxpool(ck_build *b) {
    return pool_any(b, false);
}
static bool build_avgpool(ck_build *b) {
    return pool_any(b, true);
}

static bool build_global_pool(ck_build *b) {
    b->a->keepdims = true;
    b->a->nsp = 0;
    return true;
}

/* ---- dense ------------------------------------------------------------------ */

static bool build_gemm(ck_build *b) {
    ck_attrs *a = b->a;
    int64_t ta = 0, tb = 0;
    a->gemm.alpha = a->gemm.beta = 1.0; /* y = alpha * A B + beta * C */
    if (!ck_arg_int(b, "transA", &ta) || !ck_arg_int(b, "transB", &tb) ||
        !ck_arg_float(b, "alpha", &a->gemm.alpha) || !ck_arg_float(b, "beta", &a->gemm.beta))
        return false;
    a->trans_a = ta != 0;
    a->trans_b = tb != 0;
    const ck_tensor *w = param(b, 0);
    if (!w) {
        ck_build_fail(b, CK_UNSUPPORTED,
                      "%s: B (input 1) is not an initializer or Constant, so its shape is unknown",
                      b->type);
        return false;
    }
    if (w->shape.rank != 2) {
        ck_str s = {0};
        shape_text(&s, &w->shape);
        ck_build_fail(b, CK_RANK_MISMATCH, "%s: B '%s' %s must be 2-D", b->type, w->name,
                      s.p ? s.p : "");
        ck_str_free(&s);
        return false;
    }
    a->in_features = a->trans_b ? w->shape.d[1] : w->shape.d[0];
    a->out_features = a->trans_b ? w->shape.d[0] : w->shape.d[1];
    const ck_tensor *c = param(b, 1);
    a->bias = c != NULL;
    if (c) {
        /* C must broadcast to [M, N] */
        bool okc = c->shape.rank <= 2;
        if (okc && c->shape.rank >= 1) {
            int64_t n = c->shape.d[c->shape.rank - 1];
            okc = n == 1 || n == a->out_features;
        }
        if (!okc) {
            ck_str s = {0};
            shape_text(&s, &c->shape);
            ck_build_fail(b, CK_FEATURE_MISMATCH, "%s: C '%s' %s does not broadcast to [M, %lld]",
                          b->type, c->name, s.p ? s.p : "", (long long)a->out_features);
            ck_str_free(&s);
            return false;
        }
    }
    return true;
}

static bool build_matmul(ck_build *b) {
    ck_attrs *a = b->a;
    const ck_tensor *w = param(b, 0);
    a->bias = false;
    if (w && w->shape.rank == 2) {
        a->in_features = w->shape.d[0];
        a->out_features = w->shape.d[1];
    }
    return true;
}

/* ---- elementwise and activations ----------------------------------------- */

static bool set_act(ck_build *b, ck_act act) {
    b->a->act = act;
    return true;
}
static bool build_relu(ck_build *b) {
    return set_act(b, CK_ACT_RELU);
}
static bool build_sigmoid(ck_build *b) {
    return set_act(b, CK_ACT_SIGMOID);
}
static bool build_tanh(ck_build *b) {
    return set_act(b, CK_ACT_TANH);
}
static bool build_hardswish(ck_build *b) {
    return set_act(b, CK_ACT_HARDSWISH);
}
static bool build_softplus(ck_build *b) {
    return set_act(b, CK_ACT_SOFTPLUS);
}
static bool build_softsign(ck_build *b) {
    return set_act(b, CK_ACT_SOFTSIGN);
}
static bool build_exp(ck_build *b) {
    return set_act(b, CK_ACT_EXP);
}

/* the elementwise math functions: ONNX name -> function */
static bool build_math(ck_build *b) {
    static const struct {
        const char *name;
        ck_act act;
    } fns[] = {{"Neg", CK_ACT_NEG},     {"Abs", CK_ACT_ABS},
               {"Sqrt", CK_ACT_SQRT},   {"Reciprocal", CK_ACT_RECIPROCAL},
               {"Floor", CK_ACT_FLOOR}, {"Ceil", CK_ACT_CEIL},
               {"Round", CK_ACT_ROUND}, {"Sign", CK_ACT_SIGN},
               {"Log", CK_ACT_LOG},     {"Erf", CK_ACT_ERF},
               {"Sin", CK_ACT_SIN},     {"Cos", CK_ACT_COS},
               {"Not", CK_ACT_NOT},     {"Mish", CK_ACT_MISH}};
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        if (!strcmp(b->fe->name, fns[i].name)) return set_act(b, fns[i].act);
    return set_act(b, CK_ACT_IDENTITY);
}

static bool build_celu(ck_build *b) {
    b->a->act = CK_ACT_CELU;
    b->a->alpha = 1.0;
    return ck_arg_float(b, "alpha", &b->a->alpha);
}

static bool build_thresholded_relu(ck_build *b) {
    b->a->act = CK_ACT_THRESHOLDED_RELU;
    b->a->alpha = 1.0;
    return ck_arg_float(b, "alpha", &b->a->alpha);
}

static bool build_scatter(ck_build *b) {
    const char *r = "none";
    static const char *const names[] = {"none", "add", "mul", "max", "min"};
    if (!ck_arg_str(b, "reduction", &r)) return false;
    for (int i = 0; i < 5; i++)
        if (!strcmp(r, names[i])) {
            b->a->scatter.reduction = i;
            return true;
        }
    ck_build_fail(b, CK_INVALID_CONFIG,
                  "%s: reduction must be none, add, mul, max or min, got '%s'", b->type, r);
    return false;
}

static bool build_mod(ck_build *b) {
    int64_t f = 0;
    if (!ck_arg_int(b, "fmod", &f)) return false;
    b->a->mod.fmod = f != 0;
    return true;
}

static bool build_leaky(ck_build *b) {
    b->a->act = CK_ACT_LEAKY_RELU;
    b->a->alpha = 0.01;
    return ck_arg_float(b, "alpha", &b->a->alpha);
}

static bool build_elu(ck_build *b) {
    b->a->act = CK_ACT_ELU;
    b->a->alpha = 1.0;
    return ck_arg_float(b, "alpha", &b->a->alpha);
}

static bool build_selu(ck_build *b) {
    b->a->act = CK_ACT_SELU;
    b->a->alpha = 1.67326319217681884765625;
    b->a->beta = 1.05070102214813232421875;
    return ck_arg_float(b, "alpha", &b->a->alpha) && ck_arg_float(b, "gamma", &b->a->beta);
}

static bool build_hardsigmoid(ck_build *b) {
    b->a->act = CK_ACT_HARDSIGMOID;
    b->a->alpha = 0.2;
    b->a->beta = 0.5;
    return ck_arg_float(b, "alpha", &b->a->alpha) && ck_arg_float(b, "beta", &b->a->beta);
}

static bool build_gelu(ck_build *b) {
    const char *ap = "none";
    b->a->act = CK_ACT_GELU;
    if (!ck_arg_str(b, "approximate", &ap)) return false;
    if (strcmp(ap, "none") && strcmp(ap, "tanh")) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: approximate must be 'none' or 'tanh', got '%s'",
                      b->type, ap);
        return false;
    }
    b->a->beta = strcmp(ap, "tanh") == 0 ? 1.0 : 0.0;
    return true;
}

/* Clip: min/max attributes (opset < 11) or constant inputs 1 and 2. */
static bool build_clip(ck_build *b) {
    ck_attrs *a = b->a;
    a->act = CK_ACT_CLIP;
    a->alpha = -INFINITY;
    a->beta = INFINITY;
    if (!ck_arg_float(b, "min", &a->alpha) || !ck_arg_float(b, "max", &a->beta)) return false;
    for (int k = 0; k < 2; k++) {
        const ck_tensor *t = param(b, k);
        if (!t) continue;
        double v;
        if (t->f32)
            v = t->f32[0];
        else if (t->i64)
            v = (double)t->i64[0];
        else
            continue;
        if (k == 0)
            a->alpha = v;
        else
            a->beta = v;
    }
    /* min 0 and max 6 is ReLU6 */
    if (a->alpha == 0.0 && a->beta == 6.0) a->act = CK_ACT_RELU6;
    return true;
}

static bool build_prelu(ck_build *b) {
    ck_attrs *a = b->a;
    a->act = CK_ACT_PRELU;
    const ck_tensor *t = param(b, 0);
    a->num_features = 0;
    if (t) {
        /* slope [C], [C, 1, 1] or a scalar: per channel when it has C entries */
        int64_t n;
        if (ck_shape_numel(&t->shape, &n) && n > 1) a->num_features = n;
    }
    return true;
}

static bool build_softmax(ck_build *b) {
    ck_attrs *a = b->a;
    int64_t opset = 13, axis;
    if (!ck_arg_int(b, "opset", &opset)) return false;
    axis = opset >= 13 ? -1 : 1;
    if (!ck_arg_int(b, "axis", &axis)) return false;
    a->axis = (int)axis;
    a->act = strcmp(b->type, "LogSoftmax") == 0 ? CK_ACT_LOG_SOFTMAX : CK_ACT_SOFTMAX;
    return true;
}

static bool build_nothing(ck_build *b) {
    (void)b;
    return true;
}

/* ---- normalisation -------------------------------------------------------- */

static bool norm_features(ck_build *b) {
    ck_attrs *a = b->a;
    if (!torch_rules(b)) return false;
    a->eps = 1e-5;
    if (!ck_arg_float(b, "epsilon", &a->eps)) return false;
    a->nsp = 0;
    const ck_tensor *s = param(b, 0);
    a->num_features = 0;
    if (s) {
        if (s->shape.rank != 1) {
            ck_str t = {0};
            shape_text(&t, &s->shape);
            ck_build_fail(b, CK_RANK_MISMATCH, "%s: scale '%s' %s must be 1-D", b->type, s->name,
                          t.p ? t.p : "");
            ck_str_free(&t);
            return false;
        }
        a->num_features = s->shape.d[0];
    }
    /* the other per-channel inputs must agree with scale */
    for (int k = 1; k < b->n_params; k++) {
        const ck_tensor *t = param(b, k);
        if (!t || !s) continue;
        if (t->shape.rank != 1 || t->shape.d[0] != a->num_features) {
            ck_str u = {0};
            shape_text(&u, &t->shape);
            ck_build_fail(b, CK_CHANNEL_MISMATCH,
                          "%s: input %d '%s' %s must have %lld entries like scale", b->type, k + 1,
                          t->name, u.p ? u.p : "", (long long)a->num_features);
            ck_str_free(&u);
            return false;
        }
    }
    /* a scale made by a Constant node (PyTorch's GroupNorm exports ones and
     * zeros, its affine weight and bias in the Mul and Add after) is no
     * parameter */
    a->affine = !s || !s->from_node;
    return true;
}

/* LayerNormalization: over the axes from `axis` on, whose sizes Scale
 * holds (PyTorch's LayerNorm(normalized_shape) at opset 17) */
static bool build_layernorm(ck_build *b) {
    ck_attrs *a = b->a;
    int64_t axis = -1, stash = 1;
    a->eps = 1e-5;
    if (!ck_arg_int(b, "axis", &axis) || !ck_arg_float(b, "epsilon", &a->eps) ||
        !ck_arg_int(b, "stash_type", &stash))
        return false;
    const ck_tensor *s = param(b, 0);
    if (!s) {
        ck_build_fail(b, CK_UNSUPPORTED,
                      "%s: Scale (input 1) is not an initializer or Constant, so the normalized "
                      "shape is unknown",
                      b->type);
        return false;
    }
    if (s->shape.rank < 1 || (axis < 0 && -axis != s->shape.rank)) {
        char buf[160];
        ck_build_fail(b, CK_RANK_MISMATCH,
                      "%s: Scale %s must hold the sizes of the normalized axes (axis %lld)",
                      b->type, ck_shape_str(&s->shape, buf, sizeof buf), (long long)axis);
        return false;
    }
    a->axis = (int)axis;
    a->shape_rank = s->shape.rank;
    for (int i = 0; i < s->shape.rank; i++) a->shape[i] = s->shape.d[i];
    a->affine = !s->from_node;
    return true;
}

static bool build_batchnorm(ck_build *b) {
    int64_t training = 0;
    if (!ck_arg_int(b, "training_mode", &training)) return false;
    return norm_features(b);
}

/* ---- shapes ------------------------------------------------------------- */

static bool build_flatten(ck_build *b) {
    int64_t ax = 1;
    if (!ck_arg_int(b, "axis", &ax)) return false;
    b->a->axis = (int)ax;
    return true;
}

static bool build_concat(ck_build *b) {
    int64_t ax = 0;
    if (!ck_arg(b, "axis")) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s needs the axis attribute", b->type);
        return false;
    }
    if (!ck_arg_int(b, "axis", &ax)) return false;
    b->a->axis = (int)ax;
    return true;
}

static bool build_reshape(ck_build *b) {
    int64_t az = 0;
    if (!ck_arg_int(b, "allowzero", &az)) return false;
    b->a->reshape.allowzero = az != 0;
    b->a->shape_rank = 0; /* the target is input 1, read at check time */
    return true;
}

static bool build_transpose(ck_build *b) {
    ck_attrs *a = b->a;
    a->perm_rank = 0; /* absent perm: reverse the axes */
    if (!ck_arg(b, "perm")) return true;
    int cnt = 0;
    if (!ck_arg_int_list(b, "perm", CK_MAX_RANK, a->perm, &cnt)) return false;
    a->perm_rank = cnt;
    return true;
}

static bool build_axis0(ck_build *b) {
    int64_t ax = 0;
    if (!ck_arg_int(b, "axis", &ax)) return false;
    b->a->axis = (int)ax;
    return true;
}

/* ---- DepthToSpace, SpaceToDepth: blocksize x blocksize pixel blocks ------ */

static bool block_attrs(ck_build *b, bool crd) {
    ck_attrs *a = b->a;
    int64_t bs = 0;
    if (!ck_arg_int(b, "blocksize", &bs)) return false;
    if (bs <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: blocksize must be positive, got %lld%s", b->type,
                      (long long)bs, ck_arg(b, "blocksize") ? "" : " (the attribute is required)");
        return false;
    }
    a->nsp = 2;
    for (int i = 0; i < 2; i++) a->kernel[i] = a->stride[i] = bs;
    a->space.crd = crd;
    return true;
}

static bool build_depth_to_space(ck_build *b) {
    const char *mode = "DCR";
    if (!ck_arg_str(b, "mode", &mode)) return false;
    if (strcmp(mode, "DCR") && strcmp(mode, "CRD")) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: mode must be DCR or CRD, got '%s'", b->type, mode);
        return false;
    }
    return block_attrs(b, !strcmp(mode, "CRD"));
}

static bool build_space_to_depth(ck_build *b) {
    return block_attrs(b, false);
}

static bool build_shape(ck_build *b) {
    int64_t s = 0, e = INT_MAX;
    if (!ck_arg_int(b, "start", &s) || !ck_arg_int(b, "end", &e)) return false;
    b->a->dims.start = (int)(s < INT_MIN ? INT_MIN : s > INT_MAX ? INT_MAX : s);
    b->a->dims.end = (int)(e < INT_MIN ? INT_MIN : e > INT_MAX ? INT_MAX : e);
    return true;
}

static bool build_constant_of_shape(ck_build *b) {
    const ck_value *v = ck_arg(b, "value");
    b->a->fill.value = 0.0;
    b->a->fill.is_int = false;
    if (!v) return true;
    if (v->kind == CK_V_INT) {
        b->a->fill.value = (double)v->i;
        b->a->fill.is_int = true;
    } else if (v->kind == CK_V_FLOAT) {
        b->a->fill.value = v->f;
    }
    return true;
}

static bool build_cast(ck_build *b) {
    int64_t to = 1;
    if (!ck_arg_int(b, "to", &to)) return false;
    ck_dtype d;
    switch (to) {
    case 1:
        d = CK_F32;
        break;
    case 7:
        d = CK_I64;
        break;
    case 6:
        d = CK_I32;
        break;
    case 11:
        d = CK_F64;
        break;
    case 2:
        d = CK_U8;
        break;
    case 9:
        d = CK_BOOL;
        break;
    default:
        d = CK_OTHER;
        break;
    }
    b->a->cast.to = d;
    return true;
}

static bool build_reduce(ck_build *b) {
    int64_t kd = 1, noop = 0;
    if (!ck_arg_int(b, "keepdims", &kd) || !ck_arg_int(b, "noop_with_empty_axes", &noop))
        return false;
    b->a->keepdims = kd != 0;
    b->a->reduce.noop_with_empty_axes = noop != 0;
    static const struct {
        const char *name;
        ck_reduce op;
    } ops[] = {{"ReduceMean", CK_REDUCE_MEAN},
               {"ReduceMax", CK_REDUCE_MAX},
               {"ReduceMin", CK_REDUCE_MIN},
               {"ReduceSum", CK_REDUCE_SUM},
               {"ReduceProd", CK_REDUCE_PROD},
               {"ReduceL1", CK_REDUCE_L1},
               {"ReduceL2", CK_REDUCE_L2},
               {"ReduceLogSum", CK_REDUCE_LOGSUM},
               {"ReduceLogSumExp", CK_REDUCE_LOGSUMEXP},
               {"ReduceSumSquare", CK_REDUCE_SUMSQUARE}};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(b->fe->name, ops[i].name)) b->a->reduce.op = ops[i].op;
    return true;
}

/* ---- resizing and padding (values read at check time by the wrappers) ---- */

static bool build_resize(ck_build *b) {
    ck_attrs *a = b->a;
    const char *mode = "nearest", *ctm = "half_pixel", *kar = "stretch";
    const char *nm = "round_prefer_floor";
    int64_t excl = 0;
    a->resize.cubic_a = -0.75;
    a->resize.extrapolation = 0.0;
    if (!ck_arg_str(b, "mode", &mode) || !ck_arg_str(b, "coordinate_transformation_mode", &ctm) ||
        !ck_arg_str(b, "keep_aspect_ratio_policy", &kar) || !ck_arg_str(b, "nearest_mode", &nm) ||
        !ck_arg_float(b, "cubic_coeff_a", &a->resize.cubic_a) ||
        !ck_arg_int(b, "exclude_outside", &excl) ||
        !ck_arg_float(b, "extrapolation_value", &a->resize.extrapolation))
        return false;
    a->resize.exclude_outside = excl != 0;
    /* Upsample reads (X, scales); Resize (X, roi, scales, sizes) */
    bool upsample = !strcmp(b->fe->name, "Upsample");
    a->resize.scales_input = upsample ? 1 : 2;
    if (upsample) ctm = "asymmetric", nm = "floor";
    static const char *const modes[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    a->resize.nearest = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(nm, modes[i])) a->resize.nearest = i;
    if (a->resize.nearest < 0) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "%s: nearest_mode must be round_prefer_floor, round_prefer_ceil, floor or "
                      "ceil, got '%s'",
                      b->type, nm);
        return false;
    }
    if (!strcmp(mode, "nearest"))
        a->interp = CK_INTERP_NEAREST;
    else if (!strcmp(mode, "linear") || !strcmp(mode, "bilinear") || !strcmp(mode, "trilinear"))
        a->interp = CK_INTERP_LINEAR;
    else if (!strcmp(mode, "cubic"))
        a->interp = CK_INTERP_CUBIC;
    else {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: mode must be nearest, linear or cubic, got '%s'",
                      b->type, mode);
        return false;
    }
    static const struct {
        const char *n;
        ck_coord c;
    } coords[] = {{"half_pixel", CK_COORD_HALF_PIXEL},
                  {"align_corners", CK_COORD_ALIGN_CORNERS},
                  {"asymmetric", CK_COORD_ASYMMETRIC},
                  {"pytorch_half_pixel", CK_COORD_PYTORCH_HALF_PIXEL},
                  {"tf_half_pixel_for_nn", CK_COORD_TF_HALF_PIXEL_FOR_NN},
                  {"tf_crop_and_resize", CK_COORD_TF_CROP_AND_RESIZE},
                  {"half_pixel_symmetric", CK_COORD_HALF_PIXEL}};
    bool found = false;
    for (size_t i = 0; i < sizeof coords / sizeof *coords; i++)
        if (!strcmp(ctm, coords[i].n)) {
            a->coord = coords[i].c;
            found = true;
        }
    if (!found) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: unknown coordinate_transformation_mode '%s'",
                      b->type, ctm);
        return false;
    }
    a->align_corners = a->coord == CK_COORD_ALIGN_CORNERS;
    if (strcmp(kar, "stretch")) {
        ck_build_fail(b, CK_UNSUPPORTED,
                      "%s: keep_aspect_ratio_policy '%s' is not supported (only 'stretch')",
                      b->type, kar);
        return false;
    }
    if (ck_arg(b, "axes")) {
        int cnt = 0;
        if (!ck_arg_int_list(b, "axes", CK_MAX_RANK, a->axes, &cnt)) return false;
        a->n_axes = cnt;
    }
    /* opset 7 Upsample height_scale/width_scale (opset 1 form) are not read */
    a->nsp = 0;
    return true;
}

static bool build_pad(ck_build *b) {
    ck_attrs *a = b->a;
    const char *mode = "constant";
    if (!ck_arg_str(b, "mode", &mode)) return false;
    if (!strcmp(mode, "constant"))
        a->border = CK_BORDER_ZEROS;
    else if (!strcmp(mode, "reflect"))
        a->border = CK_BORDER_REFLECT;
    else if (!strcmp(mode, "edge"))
        a->border = CK_BORDER_REPLICATE;
    else if (!strcmp(mode, "wrap"))
        a->border = CK_BORDER_CIRCULAR;
    else {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "%s: mode must be constant, reflect, edge or wrap, got '%s'", b->type, mode);
        return false;
    }
    a->pad_value = 0.0;
    if (!ck_arg_float(b, "value", &a->pad_value)) return false;
    a->nsp = 0;
    return true;
}

/* ---- the table ------------------------------------------------------------ */

static const char *const p_none[] = {NULL};
static const char *const p_conv[] = {"kernel_shape", "strides", "dilations", "pads",
                                     "auto_pad",     "group",   NULL};
static const char *const p_tconv[] = {"kernel_shape",   "strides",      "dilations",
                                      "pads",           "auto_pad",     "group",
                                      "output_padding", "output_shape", NULL};
static const char *const p_maxpool[] = {"kernel_shape",  "strides",     "dilations",
                                        "pads",          "auto_pad",    "ceil_mode",
                                        "storage_order", "torch_rules", NULL};
static const char *const p_avgpool[] = {"kernel_shape", "strides",   "dilations",         "pads",
                                        "auto_pad",     "ceil_mode", "count_include_pad", NULL};
static const char *const p_gemm[] = {"alpha", "beta", "transA", "transB", "broadcast", NULL};
static const char *const p_binary[] = {"broadcast", "axis", "consumed_inputs", NULL};
static const char *const p_axis[] = {"axis", NULL};
static const char *const p_alpha[] = {"alpha", NULL};
static const char *const p_selu[] = {"alpha", "gamma", NULL};
static const char *const p_hsig[] = {"alpha", "beta", NULL};
static const char *const p_gelu[] = {"approximate", NULL};
static const char *const p_clip[] = {"min", "max", NULL};
static const char *const p_softmax[] = {"axis", "opset", NULL};
static const char *const p_bn[] = {"epsilon", "momentum",        "spatial", "training_mode",
                                   "is_test", "consumed_inputs", NULL};
static const char *const p_in[] = {"epsilon", "torch_rules", NULL};
static const char *const p_ln[] = {"axis", "epsilon", "stash_type", NULL};
static const char *const p_dropout[] = {"ratio", "seed", "is_test", NULL};
static const char *const p_reshape[] = {"allowzero", NULL};
static const char *const p_transpose[] = {"perm", NULL};
static const char *const p_shape[] = {"start", "end", NULL};
static const char *const p_d2s[] = {"blocksize", "mode", NULL};
static const char *const p_s2d[] = {"blocksize", NULL};
static const char *const p_cos[] = {"value", NULL};
static const char *const p_cast[] = {"to", "saturate", NULL};
static const char *const p_split[] = {"axis", "num_outputs", NULL};
static const char *const p_reduce[] = {"keepdims", "noop_with_empty_axes", NULL};
static const char *const p_resize[] = {"mode",
                                       "coordinate_transformation_mode",
                                       "cubic_coeff_a",
                                       "exclude_outside",
                                       "extrapolation_value",
                                       "nearest_mode",
                                       "antialias",
                                       "axes",
                                       "keep_aspect_ratio_policy",
                                       NULL};
static const char *const p_upsample[] = {"mode", NULL};
static const char *const p_pad[] = {"mode", "value", NULL};
static const char *const p_mod[] = {"fmod", NULL};
static const char *const p_scatter[] = {"reduction", NULL};

/* the attributes the fix search edits, as ONNX names them (a Conv's kernel
 * comes from its weight: not one) */
static const ck_knobs k_conv = {.pad = "pads", .stride = "strides", .dilation = "dilations"};
static const ck_knobs k_tconv = {
    .pad = "pads", .stride = "strides", .dilation = "dilations", .out_pad = "output_padding"};
static const ck_knobs k_pool = {.pad = "pads",
                                .stride = "strides",
                                .kernel = "kernel_shape",
                                .dilation = "dilations",
                                .ceil = "ceil_mode"};

#define OX(name, op, params, nreq, build)                                                          \
    { name, CK_DIALECT_ONNX, CK_OP_##op, 0, params, nreq, build, false, NULL }
/* an operator whose attributes the fix search may change (knobs: their names) */
#define OXK(name, op, params, nreq, build, knobs)                                                  \
    { name, CK_DIALECT_ONNX, CK_OP_##op, 0, params, nreq, build, false, &knobs }

const ck_frontend ck_fe_onnx[] = {
    OXK("Conv", CONV, p_conv, 0, build_conv, k_conv),
    OXK("ConvTranspose", CONV_TRANSPOSE, p_tconv, 0, build_conv_transpose, k_tconv),
    OXK("MaxPool", MAX_POOL, p_maxpool, 0, build_maxpool, k_pool),
    OXK("AveragePool", AVG_POOL, p_avgpool, 0, build_avgpool, k_pool),
    OX("GlobalAveragePool", GLOBAL_AVG_POOL, p_none, 0, build_global_pool),
    OX("GlobalMaxPool", GLOBAL_MAX_POOL, p_none, 0, build_global_pool),
    OX("Gemm", LINEAR, p_gemm, 0, build_gemm),
    OX("MatMul", ONNX_MATMUL, p_none, 0, build_matmul),
    OX("Add", ADD, p_binary, 0, build_nothing),
    OX("Sub", SUB, p_binary, 0, build_nothing),
    OX("Mul", MUL, p_binary, 0, build_nothing),
    OX("Div", DIV, p_binary, 0, build_nothing),
    OX("Sum", ADD, p_none, 0, build_nothing),
    OX("Max", MAX, p_binary, 0, build_nothing),
    OX("Min", MIN, p_binary, 0, build_nothing),
    OX("Mean", MEAN, p_binary, 0, build_nothing),
    OX("Pow", POW, p_none, 0, build_nothing),
    OX("Mod", MOD, p_mod, 0, build_mod),
    OX("Equal", EQUAL, p_none, 0, build_nothing),
    OX("Less", LESS, p_none, 0, build_nothing),
    OX("LessOrEqual", LESS_EQUAL, p_none, 0, build_nothing),
    OX("Greater", GREATER, p_none, 0, build_nothing),
    OX("GreaterOrEqual", GREATER_EQUAL, p_none, 0, build_nothing),
    OX("And", AND, p_none, 0, build_nothing),
    OX("Or", OR, p_none, 0, build_nothing),
    OX("Xor", XOR, p_none, 0, build_nothing),
    OX("Where", WHERE, p_none, 0, build_nothing),
    OX("Expand", EXPAND, p_none, 0, build_nothing),
    OX("Tile", TILE, p_none, 0, build_nothing),
    OX("ScatterND", SCATTER_ND, p_scatter, 0, build_scatter),
    OX("Concat", CONCAT, p_axis, 0, build_concat),
    OX("Flatten", FLATTEN, p_axis, 0, build_flatten),
    OX("Reshape", RESHAPE, p_reshape, 0, build_reshape),
    OX("Transpose", TRANSPOSE, p_transpose, 0, build_transpose),
    OX("Relu", ACTIVATION, p_none, 0, build_relu),
    OX("LeakyRelu", ACTIVATION, p_alpha, 0, build_leaky),
    OX("Elu", ACTIVATION, p_alpha, 0, build_elu),
    OX("Selu", ACTIVATION, p_selu, 0, build_selu),
    OX("Clip", ACTIVATION, p_clip, 0, build_clip),
    OX("Sigmoid", ACTIVATION, p_none, 0, build_sigmoid),
    OX("Tanh", ACTIVATION, p_none, 0, build_tanh),
    OX("HardSigmoid", ACTIVATION, p_hsig, 0, build_hardsigmoid),
    OX("HardSwish", ACTIVATION, p_none, 0, build_hardswish),
    OX("Gelu", ACTIVATION, p_gelu, 0, build_gelu),
    OX("Softplus", ACTIVATION, p_none, 0, build_softplus),
    OX("Softsign", ACTIVATION, p_none, 0, build_softsign),
    OX("Exp", ACTIVATION, p_none, 0, build_exp),
    OX("Neg", ACTIVATION, p_none, 0, build_math),
    OX("Abs", ACTIVATION, p_none, 0, build_math),
    OX("Sqrt", ACTIVATION, p_none, 0, build_math),
    OX("Reciprocal", ACTIVATION, p_none, 0, build_math),
    OX("Floor", ACTIVATION, p_none, 0, build_math),
    OX("Ceil", ACTIVATION, p_none, 0, build_math),
    OX("Round", ACTIVATION, p_none, 0, build_math),
    OX("Sign", ACTIVATION, p_none, 0, build_math),
    OX("Log", ACTIVATION, p_none, 0, build_math),
    OX("Erf", ACTIVATION, p_none, 0, build_math),
    OX("Sin", ACTIVATION, p_none, 0, build_math),
    OX("Cos", ACTIVATION, p_none, 0, build_math),
    OX("Not", ACTIVATION, p_none, 0, build_math),
    OX("Mish", ACTIVATION, p_none, 0, build_math),
    OX("Celu", ACTIVATION, p_alpha, 0, build_celu),
    OX("ThresholdedRelu", ACTIVATION, p_alpha, 0, build_thresholded_relu),
    OX("PRelu", ACTIVATION, p_none, 0, build_prelu),
    OX("Softmax", ACTIVATION, p_softmax, 0, build_softmax),
    OX("LogSoftmax", ACTIVATION, p_softmax, 0, build_softmax),
    OX("BatchNormalization", BATCH_NORM, p_bn, 0, build_batchnorm),
    OX("InstanceNormalization", INSTANCE_NORM, p_in, 0, norm_features),
    OX("LayerNormalization", LAYER_NORM, p_ln, 0, build_layernorm),
    OX("Dropout", IDENTITY, p_dropout, 0, build_nothing),
    OX("Identity", IDENTITY, p_none, 0, build_nothing),
    OX("Pad", ONNX_PAD, p_pad, 0, build_pad),
    OX("Resize", ONNX_RESIZE, p_resize, 0, build_resize),
    OX("Upsample", ONNX_RESIZE, p_upsample, 0, build_resize),
    OX("DepthToSpace", DEPTH_TO_SPACE, p_d2s, 0, build_depth_to_space),
    OX("SpaceToDepth", SPACE_TO_DEPTH, p_s2d, 0, build_space_to_depth),
    OX("Shape", ONNX_SHAPE, p_shape, 0, build_shape),
    OX("Size", ONNX_SIZE, p_none, 0, build_nothing),
    OX("Gather", ONNX_GATHER, p_axis, 0, build_axis0),
    OX("Unsqueeze", ONNX_UNSQUEEZE, p_none, 0, build_nothing),
    OX("Squeeze", ONNX_SQUEEZE, p_none, 0, build_nothing),
    OX("Slice", ONNX_SLICE, p_none, 0, build_nothing),
    OX("Cast", ONNX_CAST, p_cast, 0, build_cast),
    OX("ConstantOfShape", ONNX_CONSTANT_OF_SHAPE, p_cos, 0, build_constant_of_shape),
    OX("Range", ONNX_RANGE, p_none, 0, build_nothing),
    OX("Split", ONNX_SPLIT, p_split, 0, build_axis0),
    OX("ReduceMean", ONNX_REDUCE, p_reduce, 0, build_reduce),
    OX("ReduceMax", ONNX_REDUCE, p_reduce, 0, build_reduce),
    OX("ReduceMin", ONNX_REDUCE, p_reduce, 0, build_reduce),
    OX("ReduceSum", ONNX_REDUCE, p_reduce, 0, build_reduce),
    OX("ReduceProd", ONNX_REDUCE, p_reduce, 0, build_reduce),
    OX("ReduceL1", ONNX_REDUCE, p_reduce, 0, build_reduce),
    OX("ReduceL2", ONNX_REDUCE, p_reduce, 0, build_reduce),
    OX("ReduceLogSum", ONNX_REDUCE, p_reduce, 0, build_reduce),
    OX("ReduceLogSumExp", ONNX_REDUCE, p_reduce, 0, build_reduce),
    OX("ReduceSumSquare", ONNX_REDUCE, p_reduce, 0, build_reduce),
    {0},
};
