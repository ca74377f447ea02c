/* Keras layer names and config keys -> canonical attributes.
 *
 * One table serves the Keras JSON importer (a layer's config dict becomes
 * keyword arguments) and the .cnn text format (a user writes
 * `Conv2D(32, (3, 3), strides=2, padding="same")`), so each entry's
 * parameter list starts with the Keras 2/3 constructor signature in
 * positional order; Keras 1 spellings (nb_filter, border_mode, subsample,
 * dim_ordering, output_dim, p, ...) follow as keyword-only aliases, and the
 * Keras 1 class names (Convolution2D, ...) have their own entries with the
 * Keras 1 positional order.
 *
 * Keras rules applied here (keras/utils/conv_utils.py; Keras 3
 * keras/src/ops/operation_utils.py):
 *  - channels_last unless data_format='channels_first' or dim_ordering='th';
 *  - padding 'same' -> SAME_UPPER (out = ceil(in/s)), 'valid' -> VALID,
 *    'causal' (1-D only) -> CAUSAL, Keras 1 'full' -> d*(k-1) on both sides;
 *  - pooling strides default to pool_size;
 *  - a convolution takes its input channels from the input (in_ch 0);
 *  - Conv*Transpose: deconv_output_length is turned into explicit pads and
 *    output padding for the shared transposed formula (see tconv_pads).
 * No window formula lives here: the ops evaluate them (src/ops/common.c). */
#include "graph/graph.h"
#include "ops/ops.h"

#include <math.h>
#include <string.h>
#include <strings.h>

/* ---- shared argument readers -------------------------------------------- */

/* True when the argument is present and not None. */
static bool given(const ck_build *b, const char *name) {
    const ck_value *v = ck_arg(b, name);
    return v && v->kind != CK_V_NONE;
}

/* data_format ('channels_last' / 'channels_first') or Keras 1 dim_ordering
 * ('tf' / 'th' / 'default'). */
static bool read_layout(ck_build *b) {
    const char *df = NULL, *dim = NULL;
    if (!ck_arg_str(b, "data_format", &df) || !ck_arg_str(b, "dim_ordering", &dim)) return false;
    b->a->channels_last = true;
    if (df) {
        if (strcasecmp(df, "channels_first") == 0)
            b->a->channels_last = false;
        else if (strcasecmp(df, "channels_last") != 0) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "%s: data_format must be 'channels_last' or 'channels_first', got '%s'",
                          b->fe->name, df);
            return false;
        }
    } else if (dim) {
        if (strcmp(dim, "th") == 0)
            b->a->channels_last = false;
        else if (strcmp(dim, "tf") != 0 && strcmp(dim, "default") != 0) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "%s: dim_ordering must be 'tf', 'th' or 'default', got '%s'", b->fe->name,
                          dim);
            return false;
        }
    }
    return true;
}

enum { PAD_CAUSAL_OK = 1, PAD_FULL_OK = 2 };

/* padding / border_mode -> pad_mode. 'full' (Keras 1, Theano) becomes
 * explicit pads of d*(k-1) on both sides, so call this after the kernel and
 * dilation are known. */
static bool read_padding(ck_build *b, int allow) {
    const char *p = NULL;
    if (!ck_arg_str(b, "border_mode", &p)) return false;
    if (!p) allow &= ~PAD_FULL_OK; /* 'full' is a Keras 1 border_mode only */
    if (!ck_arg_str(b, "padding", &p)) return false;
    ck_attrs *a = b->a;
    if (!p || strcasecmp(p, "valid") == 0) {
        a->pad_mode = CK_PAD_VALID;
    } else if (strcasecmp(p, "same") == 0) {
        a->pad_mode = CK_PAD_SAME_UPPER;
    } else if (strcasecmp(p, "causal") == 0) {
        if (!(allow & PAD_CAUSAL_OK)) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "%s: padding='causal' is only supported by 1-D convolutions "
                          "(Conv1D, SeparableConv1D)",
                          b->fe->name);
            return false;
        }
        a->pad_mode = CK_PAD_CAUSAL;
    } else if (strcasecmp(p, "full") == 0 && (allow & PAD_FULL_OK)) {
        a->pad_mode = CK_PAD_EXPLICIT;
        for (int i = 0; i < a->nsp; i++) {
            int64_t ext;
            if (!ck_window_extent(a->kernel[i], a->dilation[i], &ext) ||
                !ck_sub(ext, 1, &a->pad_begin[i])) {
                ck_build_fail(b, CK_LIMIT_EXCEEDED, "%s: kernel %lld with dilation %lld overflows",
                              b->fe->name, (long long)a->kernel[i], (long long)a->dilation[i]);
                return false;
            }
            a->pad_end[i] = a->pad_begin[i];
        }
    } else {
        ck_build_fail(b, CK_INVALID_PADDING, "%s: padding must be 'valid', 'same'%s, got '%s'",
                      b->fe->name, (allow & PAD_CAUSAL_OK) ? " or 'causal'" : "", p);
        return false;
    }
    return true;
}

/* Every entry of v[0..n) must be >= lo. */
static bool check_min(ck_build *b, const char *what, const int64_t *v, int n, int64_t lo) {
    for (int i = 0; i < n; i++)
        if (v[i] < lo) {
            ck_str s = {0};
            for (int k = 0; k < n; k++) ck_str_addf(&s, "%s%lld", k ? ", " : "", (long long)v[k]);
            char *t = ck_str_take(&s);
            ck_build_fail(b, CK_INVALID_CONFIG, "%s: %s must be %s, got (%s)", b->fe->name, what,
                          lo > 0 ? "positive" : "non-negative", t ? t : "?");
            free(t);
            return false;
        }
    return true;
}

/* Keras activation name -> ck_act. Unknown names (custom or newer
 * activations) leave shapes unchanged; they get a warning. */
static bool set_act(ck_build *b, const char *name) {
    ck_attrs *a = b->a;
    if (!name) return true;
    char k[32];
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < sizeof k; p++)
        if (*p != '_') k[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    k[n] = 0;
    static const struct {
        const char *name;
        ck_act act;
        double alpha, beta;
    } map[] = {
        {"linear", CK_ACT_NONE, 0, 0},
        {"none", CK_ACT_NONE, 0, 0},
        {"relu", CK_ACT_RELU, 0, 0},
        {"relu6", CK_ACT_RELU6, 0, 0},
        {"sigmoid", CK_ACT_SIGMOID, 0, 0},
        {"tanh", CK_ACT_TANH, 0, 0},
        {"softmax", CK_ACT_SOFTMAX, 0, 0},
        {"logsoftmax", CK_ACT_LOG_SOFTMAX, 0, 0},
        {"elu", CK_ACT_ELU, 1.0, 0},
        {"selu", CK_ACT_SELU, 0, 0},
        {"softplus", CK_ACT_SOFTPLUS, 0, 0},
        {"softsign", CK_ACT_SOFTSIGN, 0, 0},
        {"hardsigmoid", CK_ACT_HARDSIGMOID, 0.2, 0.5},
        {"hardswish", CK_ACT_HARDSWISH, 0, 0},
        {"hardsilu", CK_ACT_HARDSWISH, 0, 0},
        {"swish", CK_ACT_SILU, 0, 0},
        {"silu", CK_ACT_SILU, 0, 0},
        {"gelu", CK_ACT_GELU, 0, 0},
        {"exponential", CK_ACT_EXP, 0, 0},
        {"leakyrelu", CK_ACT_LEAKY_RELU, 0.2, 0},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(k, map[i].name) == 0) {
            a->act = map[i].act;
            a->alpha = map[i].alpha;
            a->beta = map[i].beta;
            if (a->act == CK_ACT_SOFTMAX || a->act == CK_ACT_LOG_SOFTMAX) a->axis = -1;
            return true;
        }
    ck_graph_warn(b->g, CK_UNSUPPORTED, b->layer,
                  "%s: activation '%s' is not known to convkit; it is taken as shape-preserving",
                  b->fe->name, name);
    a->act = CK_ACT_NONE;
    return true;
}

static bool read_act(ck_build *b) {
    const char *s = NULL;
    if (!ck_arg_str(b, "activation", &s)) return false;
    return set_act(b, s);
}

/* Keras 2 use_bias / Keras 1 bias. */
static bool read_bias(ck_build *b) {
    return ck_arg_bool(b, "bias", &b->a->bias) && ck_arg_bool(b, "use_bias", &b->a->bias);
}

/* An int, or one entry per spatial axis, or one (begin, end) pair per axis:
 * ZeroPadding / Cropping. A 1-D layer's 2-tuple is (begin, end); a 2-D
 * layer's 2-tuple is symmetric per axis; Keras 1 also wrote a 2-D 4-tuple
 * (top, bottom, left, right). */
static bool read_pairs(ck_build *b, const char *name, int64_t *beg, int64_t *end) {
    const ck_value *v = ck_arg(b, name);
    int nsp = b->a->nsp;
    if (!v || v->kind == CK_V_NONE) return true;
    int64_t x;
    if (v->kind == CK_V_INT || v->kind == CK_V_FLOAT) {
        if (!ck_arg_int(b, name, &x)) return false;
        for (int i = 0; i < nsp; i++) beg[i] = end[i] = x;
        return check_min(b, name, beg, nsp, 0);
    }
    bool ok = v->kind == CK_V_LIST;
    if (ok && nsp == 1 && v->n == 2 && v->items[0].kind == CK_V_INT &&
        v->items[1].kind == CK_V_INT) {
        beg[0] = v->items[0].i;
        end[0] = v->items[1].i;
    } else if (ok && nsp == 2 && v->n == 4) {
        for (int i = 0; i < 4; i++) ok = ok && v->items[i].kind == CK_V_INT;
        if (ok) {
            beg[0] = v->items[0].i, end[0] = v->items[1].i;
            beg[1] = v->items[2].i, end[1] = v->items[3].i;
        }
    } else if (ok && v->n == nsp) {
        for (int i = 0; ok && i < nsp; i++) {
            const ck_value *it = &v->items[i];
            if (it->kind == CK_V_INT)
                beg[i] = end[i] = it->i;
            else if (it->kind == CK_V_LIST && it->n == 2 && it->items[0].kind == CK_V_INT &&
                     it->items[1].kind == CK_V_INT) {
                beg[i] = it->items[0].i;
                end[i] = it->items[1].i;
            } else
                ok = false;
        }
    } else if (ok && nsp == 1 && v->n == 1 && v->items[0].kind == CK_V_INT) {
        beg[0] = end[0] = v->items[0].i;
    } else {
        ok = false;
    }
    if (!ok) {
        ck_str s = {0};
        ck_value_str(&s, v);
        char *t = ck_str_take(&s);
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "%s: %s must be an int, %d ints or %d (begin, end) pairs, got %s",
                      b->fe->name, name, nsp, nsp, t ? t : "?");
        free(t);
        return false;
    }
    return check_min(b, name, beg, nsp, 0) && check_min(b, name, end, nsp, 0);
}

/* ---- convolutions ------------------------------------------------------- */

/* Kernel, strides, dilation under Keras 2 and Keras 1 names. */
static bool read_conv_window(ck_build *b) {
    ck_attrs *a = b->a;
    int n = a->nsp;
    if (!ck_arg_ints(b, "kernel_size", n, a->kernel)) return false;
    /* Keras 1: Convolution1D filter_length; 2D nb_row/nb_col; 3D kernel_dim1..3 */
    if (!ck_arg_int(b, "filter_length", &a->kernel[0])) return false;
    if (!ck_arg_int(b, "nb_row", &a->kernel[0]) || !ck_arg_int(b, "nb_col", &a->kernel[1]))
        return false;
    if (!ck_arg_int(b, "kernel_dim1", &a->kernel[0]) ||
        !ck_arg_int(b, "kernel_dim2", &a->kernel[1]) ||
        !ck_arg_int(b, "kernel_dim3", &a->kernel[2]))
        return false;
    if (!ck_arg_ints(b, "strides", n, a->stride) || !ck_arg_ints(b, "subsample", n, a->stride) ||
        !ck_arg_int(b, "subsample_length", &a->stride[0]))
        return false;
    if (!ck_arg_ints(b, "dilation_rate", n, a->dilation) ||
        !ck_arg_ints(b, "atrous_rate", n, a->dilation))
        return false;
    if (!check_min(b, "kernel_size", a->kernel, n, 1) ||
        !check_min(b, "strides", a->stride, n, 1) ||
        !check_min(b, "dilation_rate", a->dilation, n, 1))
        return false;
    bool strided = false, dilated = false;
    for (int i = 0; i < n; i++) {
        strided |= a->stride[i] > 1;
        dilated |= a->dilation[i] > 1;
    }
    if (strided && dilated) {
        ck_build_fail(b, CK_UNSUPPORTED,
                      "%s: strides > 1 is not supported together with dilation_rate > 1 (Keras "
                      "refuses this combination)",
                      b->fe->name);
        return false;
    }
    return true;
}

/* filters (Keras 2) or nb_filter (Keras 1); must be given and positive. */
static bool read_filters(ck_build *b) {
    int64_t f = 0;
    bool has = given(b, "filters") || given(b, "nb_filter");
    if (!ck_arg_int(b, "filters", &f) || !ck_arg_int(b, "nb_filter", &f)) return false;
    if (!has) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s is missing the required argument 'filters'",
                      b->fe->name);
        return false;
    }
    if (f <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: filters must be positive, got %lld", b->fe->name,
                      (long long)f);
        return false;
    }
    b->a->out_ch = f;
    return true;
}

static bool build_conv(ck_build *b) {
    ck_attrs *a = b->a;
    a->in_ch = 0;
    a->groups = 1;
    if (!read_layout(b) || !read_filters(b) || !read_conv_window(b)) return false;
    if (!read_padding(b, (a->nsp == 1 ? PAD_CAUSAL_OK : 0) | PAD_FULL_OK)) return false;
    if (!ck_arg_int(b, "groups", &a->groups)) return false;
    if (a->groups <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: groups must be positive, got %lld", b->fe->name,
                      (long long)a->groups);
        return false;
    }
    if (a->out_ch % a->groups != 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: filters (%lld) must be divisible by groups (%lld)",
                      b->fe->name, (long long)a->out_ch, (long long)a->groups);
        return false;
    }
    return read_bias(b) && read_act(b);
}

/* DepthwiseConv1D/2D: groups = input channels, out = C_in * depth_multiplier.
 * Keras >= 2.13 writes groups: 1 into the config; it is not used. */
static bool build_depthwise(ck_build *b) {
    ck_attrs *a = b->a;
    a->in_ch = 0;
    a->out_ch = 0;
    a->groups = 0;
    if (!read_layout(b) || !read_conv_window(b) || !read_padding(b, 0)) return false;
    if (!ck_arg_int(b, "depth_multiplier", &a->depth_multiplier)) return false;
    if (a->depth_multiplier <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: depth_multiplier must be positive, got %lld",
                      b->fe->name, (long long)a->depth_multiplier);
        return false;
    }
    return read_bias(b) && read_act(b);
}

static bool build_separable(ck_build *b) {
    ck_attrs *a = b->a;
    a->in_ch = 0;
    if (!read_layout(b) || !read_filters(b) || !read_conv_window(b)) return false;
    if (!read_padding(b, a->nsp == 1 ? PAD_CAUSAL_OK : 0)) return false;
    if (!ck_arg_int(b, "depth_multiplier", &a->depth_multiplier)) return false;
    if (a->depth_multiplier <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: depth_multiplier must be positive, got %lld",
                      b->fe->name, (long long)a->depth_multiplier);
        return false;
    }
    return read_bias(b) && read_act(b);
}

/* Keras deconv_output_length, as explicit pads + output padding for
 *   out = (in-1)*s - pb - pe + d*(k-1) + out_pad + 1        (ck_tconv_out)
 * With k_eff = d*(k-1) + 1:
 *  output_padding None:  valid: in*s + max(k_eff - s, 0)
 *                        same:  in*s
 *                        full:  in*s - (s + k_eff - 2)
 *  output_padding p:     (in-1)*s + k_eff - 2*pad + p,  pad = k_eff//2 (same),
 *                        0 (valid), k_eff - 1 (full).
 * Every case is (in-1)*s + k_eff - (pb + pe) + out_pad with pads that do not
 * depend on `in`, so the shared formula evaluates it exactly. */
/* False when the sizes overflow int64. */
static bool tconv_pads(ck_attrs *a, int i, int mode, bool has_op, int64_t op) {
    int64_t ext, ext1, s = a->stride[i];
    if (!ck_window_extent(a->kernel[i], a->dilation[i], &ext) || !ck_sub(ext, 1, &ext1))
        return false;
    a->pad_begin[i] = a->pad_end[i] = a->out_pad[i] = 0;
    if (has_op) {
        int64_t pad = mode == 1 ? ext / 2 : mode == 2 ? ext1 : 0;
        a->pad_begin[i] = a->pad_end[i] = pad;
        a->out_pad[i] = op;
        return true;
    }
    if (mode == 2) { /* full */
        a->pad_begin[i] = a->pad_end[i] = ext1;
        return true;
    }
    /* valid: (in-1)*s + max(k_eff, s); same: (in-1)*s + s */
    int64_t total = 0;
    if (mode == 1 && !ck_sub(ext, s, &total)) return false;
    if (mode == 0 && ext < s && !ck_sub(s, ext, &a->out_pad[i])) return false;
    if (mode == 1 && total < 0) {
        a->out_pad[i] = -total; /* > -s */
        total = 0;
    }
    a->pad_begin[i] = total / 2;
    return ck_sub(total, total / 2, &a->pad_end[i]);
}

static bool build_conv_transpose(ck_build *b) {
    ck_attrs *a = b->a;
    int n = a->nsp;
    a->in_ch = 0;
    if (!read_layout(b) || !read_filters(b) || !read_conv_window(b)) return false;
    const char *p = NULL;
    if (!ck_arg_str(b, "border_mode", &p)) return false;
    bool k1 = p != NULL; /* 'full' is a Keras 1 border_mode only */
    if (!ck_arg_str(b, "padding", &p)) return false;
    int mode;
    if (!p || strcasecmp(p, "valid") == 0)
        mode = 0;
    else if (strcasecmp(p, "same") == 0)
        mode = 1;
    else if (k1 && strcasecmp(p, "full") == 0)
        mode = 2;
    else {
        ck_build_fail(b, CK_INVALID_PADDING, "%s: padding must be 'valid' or 'same', got '%s'",
                      b->fe->name, p);
        return false;
    }
    int64_t op[CK_MAX_SP] = {0};
    bool has_op = given(b, "output_padding");
    if (!ck_arg_ints(b, "output_padding", n, op)) return false;
    if (has_op) {
        if (!check_min(b, "output_padding", op, n, 0)) return false;
        for (int i = 0; i < n; i++)
            if (op[i] >= a->stride[i]) {
                ck_build_fail(b, CK_INVALID_OUTPUT_SIZE,
                              "%s: output_padding %lld must be smaller than the stride %lld "
                              "(along the %s)",
                              b->fe->name, (long long)op[i], (long long)a->stride[i],
                              ck_axis_name(n, i));
                return false;
            }
    }
    for (int i = 0; i < n; i++) {
        if (a->kernel[i] > ((int64_t)1 << 40) || a->dilation[i] > ((int64_t)1 << 20) ||
            a->stride[i] > ((int64_t)1 << 40)) {
            ck_build_fail(b, CK_LIMIT_EXCEEDED, "%s: kernel, stride or dilation too large",
                          b->fe->name);
            return false;
        }
        if (!tconv_pads(a, i, mode, has_op, op[i])) {
            ck_build_fail(b, CK_LIMIT_EXCEEDED,
                          "%s: kernel %lld, dilation %lld and stride %lld overflow 64-bit sizes",
                          b->fe->name, (long long)a->kernel[i], (long long)a->dilation[i],
                          (long long)a->stride[i]);
            return false;
        }
    }
    a->pad_mode = CK_PAD_EXPLICIT;
    /* Keras 1 Deconvolution2D: the output shape is given (batch included,
     * in the layer's own layout). */
    const ck_value *os = ck_arg(b, "output_shape");
    if (os && os->kind == CK_V_LIST) {
        if (os->n != n + 2) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "%s: output_shape needs %d entries (batch, spatial and channels), got %d",
                          b->fe->name, n + 2, os->n);
            return false;
        }
        int first = a->channels_last ? 1 : 2;
        for (int i = 0; i < n; i++) {
            const ck_value *it = &os->items[first + i];
            if (it->kind != CK_V_INT || it->i <= 0) {
                ck_build_fail(b, CK_INVALID_CONFIG,
                              "%s: output_shape entries must be positive integers", b->fe->name);
                return false;
            }
            a->size[i] = it->i;
        }
        /* The pads above stay: they give Keras 2's length for the same
         * layer, which is what output_shape normally says; has_size asks the
         * op for the exact requested size. */
        a->has_size = true;
    }
    return read_bias(b) && read_act(b);
}

/* ---- pooling ------------------------------------------------------------ */

static bool build_pool(ck_build *b) {
    ck_attrs *a = b->a;
    int n = a->nsp;
    for (int i = 0; i < n; i++) a->kernel[i] = 2;
    if (!read_layout(b)) return false;
    if (!ck_arg_ints(b, "pool_size", n, a->kernel) || !ck_arg_int(b, "pool_length", &a->kernel[0]))
        return false;
    for (int i = 0; i < n; i++) a->stride[i] = a->kernel[i];
    if (!ck_arg_ints(b, "strides", n, a->stride) || !ck_arg_int(b, "stride", &a->stride[0]))
        return false;
    if (!check_min(b, "pool_size", a->kernel, n, 1) || !check_min(b, "strides", a->stride, n, 1))
        return false;
    a->count_include_pad = false; /* TF averages over the valid pixels only */
    return read_padding(b, 0);
}

static bool build_global_pool(ck_build *b) {
    return read_layout(b) && ck_arg_bool(b, "keepdims", &b->a->keepdims);
}

/* ---- resampling, padding, cropping -------------------------------------- */

static bool build_upsample(ck_build *b) {
    ck_attrs *a = b->a;
    int n = a->nsp;
    int64_t size[CK_MAX_SP] = {2, 2, 2};
    if (!read_layout(b) || !ck_arg_ints(b, "size", n, size) || !ck_arg_int(b, "length", &size[0]))
        return false;
    if (!check_min(b, "size", size, n, 1)) return false;
    a->has_scale = true;
    for (int i = 0; i < n; i++) a->scale[i] = (double)size[i];
    const char *m = NULL;
    if (!ck_arg_str(b, "interpolation", &m)) return false;
    a->interp = CK_INTERP_NEAREST;
    a->coord = CK_COORD_ASYMMETRIC;
    if (m && strcasecmp(m, "nearest") != 0) {
        a->coord = CK_COORD_HALF_PIXEL;
        if (strcasecmp(m, "bilinear") == 0)
            a->interp = CK_INTERP_LINEAR;
        else if (strcasecmp(m, "bicubic") == 0)
            a->interp = CK_INTERP_CUBIC;
        else if (strcasecmp(m, "area") == 0)
            a->interp = CK_INTERP_AREA;
        else {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "%s: interpolation must be 'nearest', 'bilinear', 'bicubic' or 'area', "
                          "got '%s'",
                          b->fe->name, m);
            return false;
        }
    }
    return true;
}

/* Keras 3 Resizing(height, width, interpolation='bilinear'). */
static bool build_resizing(ck_build *b) {
    ck_attrs *a = b->a;
    if (!read_layout(b) || !ck_arg_int(b, "height", &a->size[0]) ||
        !ck_arg_int(b, "width", &a->size[1]))
        return false;
    if (!check_min(b, "height and width", a->size, 2, 1)) return false;
    a->has_size = true;
    a->interp = CK_INTERP_LINEAR;
    a->coord = CK_COORD_HALF_PIXEL;
    const char *m = NULL;
    if (!ck_arg_str(b, "interpolation", &m)) return false;
    if (m && strcasecmp(m, "nearest") == 0)
        a->interp = CK_INTERP_NEAREST;
    else if (m && strcasecmp(m, "bicubic") == 0)
        a->interp = CK_INTERP_CUBIC;
    else if (m && strcasecmp(m, "area") == 0)
        a->interp = CK_INTERP_AREA;
    bool crop = false;
    if (!ck_arg_bool(b, "crop_to_aspect_ratio", &crop)) return false;
    if (crop)
        ck_graph_warn(b->g, CK_UNSUPPORTED, b->layer,
                      "%s: crop_to_aspect_ratio is not applied by convkit run; shapes are exact",
                      b->fe->name);
    return true;
}

static bool build_zero_pad(ck_build *b) {
    ck_attrs *a = b->a;
    for (int i = 0; i < a->nsp; i++) a->pad_begin[i] = a->pad_end[i] = 1;
    a->pad_mode = CK_PAD_EXPLICIT;
    a->border = CK_BORDER_ZEROS;
    a->pad_value = 0;
    return read_layout(b) && read_pairs(b, "padding", a->pad_begin, a->pad_end);
}

static bool build_crop(ck_build *b) {
    ck_attrs *a = b->a;
    for (int i = 0; i < a->nsp; i++) a->pad_begin[i] = a->pad_end[i] = a->nsp == 1 ? 1 : 0;
    return read_layout(b) && read_pairs(b, "cropping", a->pad_begin, a->pad_end);
}

/* ---- normalisation, activations, regularisers -------------------------- */

static bool build_batch_norm(ck_build *b) {
    ck_attrs *a = b->a;
    int64_t axis = -1;
    a->num_features = 0;
    a->eps = 1e-3;
    if (!ck_arg_int(b, "axis", &axis) || !ck_arg_float(b, "epsilon", &a->eps)) return false;
    bool center = true, scale = true;
    if (!ck_arg_bool(b, "center", &center) || !ck_arg_bool(b, "scale", &scale)) return false;
    a->affine = center || scale;
    a->axis = (int)axis;
    a->channels_last = axis != 1;
    return true;
}

/* Keras 3 GroupNormalization(groups=32, axis=-1, epsilon=1e-3, ...). */
static bool build_group_norm(ck_build *b) {
    ck_attrs *a = b->a;
    int64_t axis = -1, groups = 32;
    a->num_features = 0;
    a->eps = 1e-3;
    if (!ck_arg_int(b, "groups", &groups) || !ck_arg_int(b, "axis", &axis) ||
        !ck_arg_float(b, "epsilon", &a->eps))
        return false;
    if (groups <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: groups must be positive, got %lld", b->fe->name,
                      (long long)groups);
        return false;
    }
    bool center = true, scale = true;
    if (!ck_arg_bool(b, "center", &center) || !ck_arg_bool(b, "scale", &scale)) return false;
    a->affine = center || scale;
    a->num_groups = groups;
    a->axis = (int)axis;
    a->channels_last = axis != 1;
    return true;
}

static bool build_layer_norm(ck_build *b) {
    ck_attrs *a = b->a;
    int64_t axis = -1;
    a->eps = 1e-3;
    a->shape_rank = 0;
    const ck_value *v = ck_arg(b, "axis");
    if (v && v->kind == CK_V_LIST) {
        if (v->n != 1 || v->items[0].kind != CK_V_INT) {
            ck_build_fail(b, CK_UNSUPPORTED,
                          "%s: normalising over several axes is not supported by convkit",
                          b->fe->name);
            return false;
        }
        axis = v->items[0].i;
    } else if (!ck_arg_int(b, "axis", &axis)) {
        return false;
    }
    bool center = true, scale = true;
    if (!ck_arg_float(b, "epsilon", &a->eps) || !ck_arg_bool(b, "center", &center) ||
        !ck_arg_bool(b, "scale", &scale))
        return false;
    a->affine = center || scale;
    a->axis = (int)axis;
    return true;
}

static bool build_activation(ck_build *b) {
    const char *s = NULL;
    if (!ck_arg_str(b, "activation", &s)) return false;
    if (!s) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "Activation is missing the required argument 'activation'");
        return false;
    }
    if (!set_act(b, s)) return false;
    if (b->a->act == CK_ACT_NONE) b->a->act = CK_ACT_IDENTITY;
    return true;
}

/* ReLU(max_value=None, negative_slope=0, threshold=0). */
static bool build_relu(ck_build *b) {
    ck_attrs *a = b->a;
    double maxv = -1, slope = 0, thr = 0;
    bool has_max = given(b, "max_value");
    if (!ck_arg_float(b, "max_value", &maxv) || !ck_arg_float(b, "negative_slope", &slope) ||
        !ck_arg_float(b, "threshold", &thr))
        return false;
    if ((has_max && maxv < 0) || slope < 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: max_value and negative_slope must be >= 0",
                      b->fe->name);
        return false;
    }
    a->act = CK_ACT_RELU;
    if (slope != 0) {
        a->act = CK_ACT_LEAKY_RELU;
        a->alpha = slope;
    } else if (has_max && maxv == 6.0) {
        a->act = CK_ACT_RELU6;
    } else if (has_max) {
        a->act = CK_ACT_CLIP;
        a->alpha = 0;
        a->beta = maxv;
    }
    if (thr != 0 || (slope != 0 && has_max))
        ck_graph_warn(b->g, CK_UNSUPPORTED, b->layer,
                      "%s: threshold / max_value with negative_slope are not applied by convkit "
                      "run; shapes are exact",
                      b->fe->name);
    return true;
}

static bool build_leaky(ck_build *b) {
    ck_attrs *a = b->a;
    a->act = CK_ACT_LEAKY_RELU;
    a->alpha = 0.3;
    return ck_arg_float(b, "alpha", &a->alpha) && ck_arg_float(b, "negative_slope", &a->alpha);
}

static bool build_elu(ck_build *b) {
    b->a->act = CK_ACT_ELU;
    b->a->alpha = 1.0;
    return ck_arg_float(b, "alpha", &b->a->alpha);
}

static bool build_softmax(ck_build *b) {
    int64_t axis = -1;
    if (!ck_arg_int(b, "axis", &axis)) return false;
    b->a->act = CK_ACT_SOFTMAX;
    b->a->axis = (int)axis;
    return true;
}

/* PReLU: Keras learns one alpha per element of the input (batch excluded)
 * except along shared_axes (1-based), which share theirs. The shared axes
 * are passed in axes[] for the cost rule. */
static bool build_prelu(ck_build *b) {
    ck_attrs *a = b->a;
    a->act = CK_ACT_PRELU;
    a->num_features = 0;
    int n = 0;
    if (!ck_arg_int_list(b, "shared_axes", CK_MAX_RANK - 1, a->axes, &n)) return false;
    for (int i = 0; i < n; i++)
        if (a->axes[i] < 1) {
            ck_build_fail(b, CK_INVALID_CONFIG, "PReLU: shared_axes must be 1-based axes, got %lld",
                          (long long)a->axes[i]);
            return false;
        }
    a->n_axes = n;
    return true;
}

static bool build_dropout(ck_build *b) {
    ck_attrs *a = b->a;
    if (!ck_arg_float(b, "rate", &a->p) || !ck_arg_float(b, "p", &a->p)) return false;
    if (a->p < 0 || a->p > 1) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: rate must lie in [0, 1], got %g", b->fe->name,
                      a->p);
        return false;
    }
    return read_layout(b);
}

static bool build_noop(ck_build *b) {
    (void)b;
    return true;
}

/* Shape-preserving layers whose values convkit's runtime does not compute. */
static bool build_shape_only(ck_build *b) {
    ck_graph_warn(b->g, CK_UNSUPPORTED, b->layer,
                  "%s is checked as shape-preserving; convkit run does not apply it", b->fe->name);
    return true;
}

/* Lambda: the Python function cannot be run. Shape-preserving unless a
 * literal output_shape is given. */
static bool build_lambda(ck_build *b) {
    const ck_value *os = ck_arg(b, "output_shape");
    if (os && os->kind == CK_V_LIST) {
        ck_str s = {0};
        ck_value_str(&s, os);
        char *t = ck_str_take(&s);
        ck_build_fail(b, CK_UNSUPPORTED_OP,
                      "Lambda declares output_shape %s; convkit cannot run its Python function, "
                      "so shapes stop here",
                      t ? t : "?");
        free(t);
        return false;
    }
    ck_graph_warn(b->g, CK_UNSUPPORTED, b->layer,
                  "Lambda: its Python function cannot be read; it is taken as shape-preserving");
    return true;
}

/* ---- dense and shape layers --------------------------------------------- */

static bool build_dense(ck_build *b) {
    ck_attrs *a = b->a;
    bool has = given(b, "units") || given(b, "output_dim");
    int64_t u = 0;
    if (!ck_arg_int(b, "units", &u) || !ck_arg_int(b, "output_dim", &u)) return false;
    if (!has) {
        ck_build_fail(b, CK_INVALID_CONFIG, "Dense is missing the required argument 'units'");
        return false;
    }
    if (u <= 0) {
        ck_build_fail(b, CK_INVALID_CONFIG, "Dense: units must be positive, got %lld",
                      (long long)u);
        return false;
    }
    a->in_features = 0;
    a->out_features = u;
    return read_bias(b) && read_act(b);
}

static bool build_flatten(ck_build *b) {
    b->a->start_dim = 1;
    b->a->end_dim = -1;
    return read_layout(b);
}

static bool build_reshape(ck_build *b) {
    ck_attrs *a = b->a;
    int n = 0;
    if (!given(b, "target_shape")) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "Reshape is missing the required argument 'target_shape'");
        return false;
    }
    if (!ck_arg_int_list(b, "target_shape", CK_MAX_RANK - 1, a->shape, &n)) return false;
    int unknown = 0;
    for (int i = 0; i < n; i++) {
        if (a->shape[i] == -1)
            unknown++;
        else if (a->shape[i] <= 0) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "Reshape: target_shape entries must be positive or -1, got %lld",
                          (long long)a->shape[i]);
            return false;
        }
    }
    if (unknown > 1) {
        ck_build_fail(b, CK_INVALID_CONFIG, "Reshape: target_shape can only have one -1 entry");
        return false;
    }
    a->shape_rank = n;
    return true;
}

/* Permute(dims): 1-based axes without the batch, kept as written (the
 * transpose op reads them so in the Keras dialect). */
static bool build_permute(ck_build *b) {
    ck_attrs *a = b->a;
    int64_t d[CK_MAX_RANK];
    int n = 0;
    if (!given(b, "dims")) {
        ck_build_fail(b, CK_INVALID_CONFIG, "Permute is missing the required argument 'dims'");
        return false;
    }
    if (!ck_arg_int_list(b, "dims", CK_MAX_RANK - 1, d, &n)) return false;
    bool seen[CK_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) {
        if (d[i] < 1 || d[i] > n || seen[d[i]]) {
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "Permute: dims must be a permutation of 1..%d, got %lld at position %d",
                          n, (long long)d[i], i);
            return false;
        }
        seen[d[i]] = true;
    }
    a->perm_rank = n;
    for (int i = 0; i < n; i++) a->perm[i] = d[i];
    return true;
}

static bool build_concat(ck_build *b) {
    int64_t axis = -1;
    if (!ck_arg_int(b, "axis", &axis) || !ck_arg_int(b, "concat_axis", &axis)) return false;
    b->a->axis = (int)axis;
    return true;
}

/* ---- parameter lists (Keras 2/3 positional order, then Keras 1 aliases) -- */

#define K_INIT                                                                                     \
    "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",            \
        "activity_regularizer", "kernel_constraint", "bias_constraint"
#define K1_CONV "nb_filter", "border_mode", "subsample", "dim_ordering", "bias"

static const char *const p_conv1d[] = {
    "filters",       "kernel_size",   "strides",          "padding",     "data_format",
    "dilation_rate", "groups",        "activation",       "use_bias",    K_INIT,
    K1_CONV,         "filter_length", "subsample_length", "atrous_rate", NULL};
static const char *const p_conv[] = {
    "filters", "kernel_size", "strides",     "padding",     "data_format", "dilation_rate",
    "groups",  "activation",  "use_bias",    K_INIT,        K1_CONV,       "nb_row",
    "nb_col",  "atrous_rate", "kernel_dim1", "kernel_dim2", "kernel_dim3", NULL};
static const char *const p_tconv[] = {
    "filters",       "kernel_size", "strides",      "padding", "output_padding", "data_format",
    "dilation_rate", "activation",  "use_bias",     K_INIT,    "groups",         K1_CONV,
    "nb_row",        "nb_col",      "output_shape", NULL};
static const char *const p_depthwise[] = {"kernel_size",
                                          "strides",
                                          "padding",
                                          "depth_multiplier",
                                          "data_format",
                                          "dilation_rate",
                                          "activation",
                                          "use_bias",
                                          "depthwise_initializer",
                                          "bias_initializer",
                                          "depthwise_regularizer",
                                          "bias_regularizer",
                                          "activity_regularizer",
                                          "depthwise_constraint",
                                          "bias_constraint",
                                          "groups",
                                          "filters",
                                          NULL};
static const char *const p_separable[] = {"filters",
                                          "kernel_size",
                                          "strides",
                                          "padding",
                                          "data_format",
                                          "dilation_rate",
                                          "depth_multiplier",
                                          "activation",
                                          "use_bias",
                                          "depthwise_initializer",
                                          "pointwise_initializer",
                                          "bias_initializer",
                                          "depthwise_regularizer",
                                          "pointwise_regularizer",
                                          "bias_regularizer",
                                          "activity_regularizer",
                                          "depthwise_constraint",
                                          "pointwise_constraint",
                                          "bias_constraint",
                                          "groups",
                                          K1_CONV,
                                          "nb_row",
                                          "nb_col",
                                          NULL};
/* Keras 1 positional orders */
static const char *const p_k1_conv1d[] = {"nb_filter",
                                          "filter_length",
                                          "init",
                                          "activation",
                                          "weights",
                                          "border_mode",
                                          "subsample_length",
                                          "W_regularizer",
                                          "b_regularizer",
                                          "activity_regularizer",
                                          "W_constraint",
                                          "b_constraint",
                                          "bias",
                                          "input_dim",
                                          "input_length",
                                          NULL};
static const char *const p_k1_atrous1d[] = {"nb_filter",
                                            "filter_length",
                                            "init",
                                            "activation",
                                            "weights",
                                            "border_mode",
                                            "subsample_length",
                                            "atrous_rate",
                                            "W_regularizer",
                                            "b_regularizer",
                                            "activity_regularizer",
                                            "W_constraint",
                                            "b_constraint",
                                            "bias",
                                            NULL};
static const char *const p_k1_conv2d[] = {
    "nb_filter",    "nb_row",        "nb_col",        "init",
    "activation",   "weights",       "border_mode",   "subsample",
    "dim_ordering", "W_regularizer", "b_regularizer", "activity_regularizer",
    "W_constraint", "b_constraint",  "bias",          NULL};
static const char *const p_k1_atrous2d[] = {"nb_filter",
                                            "nb_row",
                                            "nb_col",
                                            "init",
                                            "activation",
                                            "weights",
                                            "border_mode",
                                            "subsample",
                                            "atrous_rate",
                                            "dim_ordering",
                                            "W_regularizer",
                                            "b_regularizer",
                                            "activity_regularizer",
                                            "W_constraint",
                                            "b_constraint",
                                            "bias",
                                            NULL};
static const char *const p_k1_conv3d[] = {"nb_filter",
                                          "kernel_dim1",
                                          "kernel_dim2",
                                          "kernel_dim3",
                                          "init",
                                          "activation",
                                          "weights",
                                          "border_mode",
                                          "subsample",
                                          "dim_ordering",
                                          "W_regularizer",
                                          "b_regularizer",
                                          "activity_regularizer",
                                          "W_constraint",
                                          "b_constraint",
                                          "bias",
                                          NULL};
static const char *const p_k1_deconv2d[] = {"nb_filter",
                                            "nb_row",
                                            "nb_col",
                                            "output_shape",
                                            "init",
                                            "activation",
                                            "weights",
                                            "border_mode",
                                            "subsample",
                                            "dim_ordering",
                                            "W_regularizer",
                                            "b_regularizer",
                                            "activity_regularizer",
                                            "W_constraint",
                                            "b_constraint",
                                            "bias",
                                            NULL};
static const char *const p_k1_separable2d[] = {"nb_filter",
                                               "nb_row",
                                               "nb_col",
                                               "init",
                                               "activation",
                                               "weights",
                                               "border_mode",
                                               "subsample",
                                               "depth_multiplier",
                                               "dim_ordering",
                                               "depthwise_regularizer",
                                               "pointwise_regularizer",
                                               "b_regularizer",
                                               "activity_regularizer",
                                               "depthwise_constraint",
                                               "pointwise_constraint",
                                               "b_constraint",
                                               "bias",
                                               NULL};

static const char *const p_pool1d[] = {"pool_size",   "strides", "padding",     "data_format",
                                       "pool_length", "stride",  "border_mode", NULL};
static const char *const p_pool[] = {"pool_size",   "strides",      "padding", "data_format",
                                     "border_mode", "dim_ordering", NULL};
static const char *const p_gpool[] = {"data_format", "keepdims", "dim_ordering", NULL};
static const char *const p_up1d[] = {"size", "length", NULL};
static const char *const p_up2d[] = {"size", "data_format", "interpolation", "dim_ordering", NULL};
static const char *const p_up3d[] = {"size", "data_format", "dim_ordering", NULL};
static const char *const p_resizing[] = {"height",
                                         "width",
                                         "interpolation",
                                         "crop_to_aspect_ratio",
                                         "pad_to_aspect_ratio",
                                         "fill_mode",
                                         "fill_value",
                                         "data_format",
                                         NULL};
static const char *const p_zpad1d[] = {"padding", NULL};
static const char *const p_zpad[] = {"padding", "data_format", "dim_ordering", NULL};
static const char *const p_crop1d[] = {"cropping", NULL};
static const char *const p_crop[] = {"cropping", "data_format", "dim_ordering", NULL};
static const char *const p_bn[] = {"axis",
                                   "momentum",
                                   "epsilon",
                                   "center",
                                   "scale",
                                   "beta_initializer",
                                   "gamma_initializer",
                                   "moving_mean_initializer",
                                   "moving_variance_initializer",
                                   "beta_regularizer",
                                   "gamma_regularizer",
                                   "beta_constraint",
                                   "gamma_constraint",
                                   "mode",
                                   NULL};
static const char *const p_ln[] = {"axis",
                                   "epsilon",
                                   "center",
                                   "scale",
                                   "rms_scaling",
                                   "beta_initializer",
                                   "gamma_initializer",
                                   "beta_regularizer",
                                   "gamma_regularizer",
                                   "beta_constraint",
                                   "gamma_constraint",
                                   NULL};
static const char *const p_gn[] = {"groups",
                                   "axis",
                                   "epsilon",
                                   "center",
                                   "scale",
                                   "beta_initializer",
                                   "gamma_initializer",
                                   "beta_regularizer",
                                   "gamma_regularizer",
                                   "beta_constraint",
                                   "gamma_constraint",
                                   NULL};
static const char *const p_unitnorm[] = {"axis", NULL};
static const char *const p_threshold[] = {"theta", NULL};
static const char *const p_activation[] = {"activation", NULL};
static const char *const p_relu[] = {"max_value", "negative_slope", "threshold", NULL};
static const char *const p_leaky[] = {"alpha", "negative_slope", NULL};
static const char *const p_elu[] = {"alpha", NULL};
static const char *const p_softmax[] = {"axis", NULL};
static const char *const p_prelu[] = {"alpha_initializer", "alpha_regularizer", "alpha_constraint",
                                      "shared_axes", NULL};
static const char *const p_dropout[] = {"rate", "noise_shape", "seed", "p", NULL};
static const char *const p_sdropout[] = {"rate", "data_format", "seed", "p", NULL};
static const char *const p_gnoise[] = {"stddev", "seed", "sigma", NULL};
static const char *const p_gdropout[] = {"rate", "seed", "p", NULL};
static const char *const p_actreg[] = {"l1", "l2", NULL};
static const char *const p_masking[] = {"mask_value", NULL};
static const char *const p_rescaling[] = {"scale", "offset", NULL};
static const char *const p_normalization[] = {"axis", "mean", "variance", "invert", NULL};
static const char *const p_random[] = {
    "factor",     "height_factor", "width_factor", "mode", "fill_mode", "interpolation",
    "fill_value", "value_range",   "data_format",  "seed", NULL};
static const char *const p_lambda[] = {"function",  "output_shape",        "mask",
                                       "arguments", "function_type",       "output_shape_type",
                                       "module",    "output_shape_module", "mask_type",
                                       NULL};
static const char *const p_flatten[] = {"data_format", NULL};
static const char *const p_dense[] = {"units",      "activation", "use_bias", K_INIT,
                                      "output_dim", "init",       "bias",     NULL};
static const char *const p_reshape[] = {"target_shape", NULL};
static const char *const p_permute[] = {"dims", NULL};
static const char *const p_concat[] = {"axis", "concat_axis", NULL};
static const char *const p_none[] = {NULL};

/* the arguments the fix search edits, as Keras names them */
static const ck_knobs k_conv = {
    .pad = "padding", .stride = "strides", .kernel = "kernel_size", .dilation = "dilation_rate"};
static const ck_knobs k_tconv = {.pad = "padding",
                                 .stride = "strides",
                                 .kernel = "kernel_size",
                                 .dilation = "dilation_rate",
                                 .out_pad = "output_padding"};
static const ck_knobs k_pool = {.pad = "padding", .stride = "strides", .kernel = "pool_size"};
/* Keras 1 (a kernel given as nb_row, nb_col is no single knob) */
static const ck_knobs k1_conv = {.pad = "border_mode", .stride = "subsample"};
static const ck_knobs k1_atrous2d = {
    .pad = "border_mode", .stride = "subsample", .dilation = "atrous_rate"};
static const ck_knobs k1_conv1d = {
    .pad = "border_mode", .stride = "subsample_length", .kernel = "filter_length"};
static const ck_knobs k1_atrous1d = {.pad = "border_mode",
                                     .stride = "subsample_length",
                                     .kernel = "filter_length",
                                     .dilation = "atrous_rate"};

#define K CK_DIALECT_KERAS

const ck_frontend ck_fe_keras[] = {
    /* convolutions */
    {"Conv1D", K, CK_OP_CONV, 1, p_conv1d, 2, build_conv, false, &k_conv},
    {"Conv2D", K, CK_OP_CONV, 2, p_conv, 2, build_conv, false, &k_conv},
    {"Conv3D", K, CK_OP_CONV, 3, p_conv, 2, build_conv, false, &k_conv},
    {"Convolution1D", K, CK_OP_CONV, 1, p_k1_conv1d, 2, build_conv, false, &k1_conv1d},
    {"Convolution2D", K, CK_OP_CONV, 2, p_k1_conv2d, 3, build_conv, false, &k1_conv},
    {"Convolution3D", K, CK_OP_CONV, 3, p_k1_conv3d, 4, build_conv, false, &k1_conv},
    {"AtrousConvolution1D", K, CK_OP_CONV, 1, p_k1_atrous1d, 2, build_conv, false, &k1_atrous1d},
    {"AtrousConvolution2D", K, CK_OP_CONV, 2, p_k1_atrous2d, 3, build_conv, false, &k1_atrous2d},
    {"Conv1DTranspose", K, CK_OP_CONV_TRANSPOSE, 1, p_tconv, 2, build_conv_transpose, false,
     &k_tconv},
    {"Conv2DTranspose", K, CK_OP_CONV_TRANSPOSE, 2, p_tconv, 2, build_conv_transpose, false,
     &k_tconv},
    {"Conv3DTranspose", K, CK_OP_CONV_TRANSPOSE, 3, p_tconv, 2, build_conv_transpose, false,
     &k_tconv},
    {"Deconvolution2D", K, CK_OP_CONV_TRANSPOSE, 2, p_k1_deconv2d, 3, build_conv_transpose, false,
     &k1_conv},
    {"DepthwiseConv1D", K, CK_OP_CONV, 1, p_depthwise, 1, build_depthwise, false, &k_conv},
    {"DepthwiseConv2D", K, CK_OP_CONV, 2, p_depthwise, 1, build_depthwise, false, &k_conv},
    {"SeparableConv1D", K, CK_OP_SEPARABLE_CONV, 1, p_separable, 2, build_separable, false,
     &k_conv},
    {"SeparableConv2D", K, CK_OP_SEPARABLE_CONV, 2, p_separable, 2, build_separable, false,
     &k_conv},
    {"SeparableConvolution2D", K, CK_OP_SEPARABLE_CONV, 2, p_k1_separable2d, 3, build_separable,
     false, &k1_conv},
    /* pooling */
    {"MaxPooling1D", K, CK_OP_MAX_POOL, 1, p_pool1d, 0, build_pool, false, &k_pool},
    {"MaxPooling2D", K, CK_OP_MAX_POOL, 2, p_pool, 0, build_pool, false, &k_pool},
    {"MaxPooling3D", K, CK_OP_MAX_POOL, 3, p_pool, 0, build_pool, false, &k_pool},
    {"AveragePooling1D", K, CK_OP_AVG_POOL, 1, p_pool1d, 0, build_pool, false, &k_pool},
    {"AveragePooling2D", K, CK_OP_AVG_POOL, 2, p_pool, 0, build_pool, false, &k_pool},
    {"AveragePooling3D", K, CK_OP_AVG_POOL, 3, p_pool, 0, build_pool, false, &k_pool},
    {"MaxPool1D", K, CK_OP_MAX_POOL, 1, p_pool1d, 0, build_pool, false, &k_pool},
    {"MaxPool2D", K, CK_OP_MAX_POOL, 2, p_pool, 0, build_pool, false, &k_pool},
    {"MaxPool3D", K, CK_OP_MAX_POOL, 3, p_pool, 0, build_pool, false, &k_pool},
    {"AvgPool1D", K, CK_OP_AVG_POOL, 1, p_pool1d, 0, build_pool, false, &k_pool},
    {"AvgPool2D", K, CK_OP_AVG_POOL, 2, p_pool, 0, build_pool, false, &k_pool},
    {"AvgPool3D", K, CK_OP_AVG_POOL, 3, p_pool, 0, build_pool, false, &k_pool},
    {"GlobalAveragePooling1D", K, CK_OP_GLOBAL_AVG_POOL, 1, p_gpool, 0, build_global_pool, false,
     NULL},
    {"GlobalAveragePooling2D", K, CK_OP_GLOBAL_AVG_POOL, 2, p_gpool, 0, build_global_pool, false,
     NULL},
    {"GlobalAveragePooling3D", K, CK_OP_GLOBAL_AVG_POOL, 3, p_gpool, 0, build_global_pool, false,
     NULL},
    {"GlobalMaxPooling1D", K, CK_OP_GLOBAL_MAX_POOL, 1, p_gpool, 0, build_global_pool, false, NULL},
    {"GlobalMaxPooling2D", K, CK_OP_GLOBAL_MAX_POOL, 2, p_gpool, 0, build_global_pool, false, NULL},
    {"GlobalMaxPooling3D", K, CK_OP_GLOBAL_MAX_POOL, 3, p_gpool, 0, build_global_pool, false, NULL},
    {"GlobalAvgPool1D", K, CK_OP_GLOBAL_AVG_POOL, 1, p_gpool, 0, build_global_pool, false, NULL},
    {"GlobalAvgPool2D", K, CK_OP_GLOBAL_AVG_POOL, 2, p_gpool, 0, build_global_pool, false, NULL},
    {"GlobalAvgPool3D", K, CK_OP_GLOBAL_AVG_POOL, 3, p_gpool, 0, build_global_pool, false, NULL},
    {"GlobalMaxPool1D", K, CK_OP_GLOBAL_MAX_POOL, 1, p_gpool, 0, build_global_pool, false, NULL},
    {"GlobalMaxPool2D", K, CK_OP_GLOBAL_MAX_POOL, 2, p_gpool, 0, build_global_pool, false, NULL},
    {"GlobalMaxPool3D", K, CK_OP_GLOBAL_MAX_POOL, 3, p_gpool, 0, build_global_pool, false, NULL},
    /* resampling, padding, cropping */
    {"UpSampling1D", K, CK_OP_RESIZE, 1, p_up1d, 0, build_upsample, false, NULL},
    {"UpSampling2D", K, CK_OP_RESIZE, 2, p_up2d, 0, build_upsample, false, NULL},
    {"UpSampling3D", K, CK_OP_RESIZE, 3, p_up3d, 0, build_upsample, false, NULL},
    {"Resizing", K, CK_OP_RESIZE, 2, p_resizing, 2, build_resizing, false, NULL},
    {"ZeroPadding1D", K, CK_OP_PAD, 1, p_zpad1d, 0, build_zero_pad, false, NULL},
    {"ZeroPadding2D", K, CK_OP_PAD, 2, p_zpad, 0, build_zero_pad, false, NULL},
    {"ZeroPadding3D", K, CK_OP_PAD, 3, p_zpad, 0, build_zero_pad, false, NULL},
    {"Cropping1D", K, CK_OP_CROP, 1, p_crop1d, 0, build_crop, false, NULL},
    {"Cropping2D", K, CK_OP_CROP, 2, p_crop, 0, build_crop, false, NULL},
    {"Cropping3D", K, CK_OP_CROP, 3, p_crop, 0, build_crop, false, NULL},
    /* normalisation */
    {"BatchNormalization", K, CK_OP_BATCH_NORM, 0, p_bn, 0, build_batch_norm, false, NULL},
    {"LayerNormalization", K, CK_OP_LAYER_NORM, 0, p_ln, 0, build_layer_norm, false, NULL},
    {"GroupNormalization", K, CK_OP_GROUP_NORM, 0, p_gn, 0, build_group_norm, false, NULL},
    {"UnitNormalization", K, CK_OP_IDENTITY, 0, p_unitnorm, 0, build_shape_only, false, NULL},
    /* activations */
    {"Activation", K, CK_OP_ACTIVATION, 0, p_activation, 1, build_activation, false, NULL},
    {"ReLU", K, CK_OP_ACTIVATION, 0, p_relu, 0, build_relu, false, NULL},
    {"LeakyReLU", K, CK_OP_ACTIVATION, 0, p_leaky, 0, build_leaky, false, NULL},
    {"ELU", K, CK_OP_ACTIVATION, 0, p_elu, 0, build_elu, false, NULL},
    {"Softmax", K, CK_OP_ACTIVATION, 0, p_softmax, 0, build_softmax, false, NULL},
    {"PReLU", K, CK_OP_ACTIVATION, 0, p_prelu, 0, build_prelu, false, NULL},
    {"ThresholdedReLU", K, CK_OP_IDENTITY, 0, p_threshold, 0, build_shape_only, false, NULL},
    /* shape-preserving at inference */
    {"Dropout", K, CK_OP_IDENTITY, 0, p_dropout, 0, build_dropout, false, NULL},
    {"SpatialDropout1D", K, CK_OP_IDENTITY, 1, p_sdropout, 0, build_dropout, false, NULL},
    {"SpatialDropout2D", K, CK_OP_IDENTITY, 2, p_sdropout, 0, build_dropout, false, NULL},
    {"SpatialDropout3D", K, CK_OP_IDENTITY, 3, p_sdropout, 0, build_dropout, false, NULL},
    {"AlphaDropout", K, CK_OP_IDENTITY, 0, p_dropout, 0, build_dropout, false, NULL},
    {"GaussianDropout", K, CK_OP_IDENTITY, 0, p_gdropout, 0, build_dropout, false, NULL},
    {"GaussianNoise", K, CK_OP_IDENTITY, 0, p_gnoise, 0, build_noop, false, NULL},
    {"ActivityRegularization", K, CK_OP_IDENTITY, 0, p_actreg, 0, build_noop, false, NULL},
    {"Masking", K, CK_OP_IDENTITY, 0, p_masking, 0, build_noop, false, NULL},
    {"Identity", K, CK_OP_IDENTITY, 0, p_none, 0, build_noop, false, NULL},
    {"RandomFlip", K, CK_OP_IDENTITY, 0, p_random, 0, build_noop, false, NULL},
    {"RandomRotation", K, CK_OP_IDENTITY, 0, p_random, 0, build_noop, false, NULL},
    {"RandomZoom", K, CK_OP_IDENTITY, 0, p_random, 0, build_noop, false, NULL},
    {"RandomTranslation", K, CK_OP_IDENTITY, 0, p_random, 0, build_noop, false, NULL},
    {"RandomContrast", K, CK_OP_IDENTITY, 0, p_random, 0, build_noop, false, NULL},
    {"RandomBrightness", K, CK_OP_IDENTITY, 0, p_random, 0, build_noop, false, NULL},
    {"Rescaling", K, CK_OP_IDENTITY, 0, p_rescaling, 0, build_shape_only, false, NULL},
    {"Normalization", K, CK_OP_IDENTITY, 0, p_normalization, 0, build_shape_only, false, NULL},
    {"Lambda", K, CK_OP_IDENTITY, 0, p_lambda, 0, build_lambda, false, NULL},
    /* dense and shape layers */
    {"Dense", K, CK_OP_LINEAR, 0, p_dense, 0, build_dense, false, NULL},
    {"Flatten", K, CK_OP_FLATTEN, 0, p_flatten, 0, build_flatten, false, NULL},
    {"Reshape", K, CK_OP_RESHAPE, 0, p_reshape, 0, build_reshape, false, NULL},
    {"Permute", K, CK_OP_TRANSPOSE, 0, p_permute, 0, build_permute, false, NULL},
    /* merges */
    {"Add", K, CK_OP_ADD, 0, p_none, 0, build_noop, false, NULL},
    {"Subtract", K, CK_OP_SUB, 0, p_none, 0, build_noop, false, NULL},
    {"Multiply", K, CK_OP_MUL, 0, p_none, 0, build_noop, false, NULL},
    {"Average", K, CK_OP_MEAN, 0, p_none, 0, build_noop, false, NULL},
    {"Maximum", K, CK_OP_MAX, 0, p_none, 0, build_noop, false, NULL},
    {"Minimum", K, CK_OP_MIN, 0, p_none, 0, build_noop, false, NULL},
    {"Concatenate", K, CK_OP_CONCAT, 0, p_concat, 0, build_concat, false, NULL},
    {NULL, 0, CK_OP_UNKNOWN, 0, NULL, 0, NULL, false, NULL},
};
