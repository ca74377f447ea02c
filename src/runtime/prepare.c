/* Step builders: for each layer, everything its kernel needs, resolved once
 * when the session is built (pads from the shared window helpers, output
 * sizes from the checked graph, weights, index and weight tables), and every
 * check that could fail. A kernel never re-derives a size. */
#include "ops/onnx_shape_ops.h"
#include "runtime/kernels/ref.h"

#include <math.h>
#include <string.h>

static ck_diag *perr(rt_wctx *w, const ck_node *n, ck_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ck_diag *perr(rt_wctx *w, const ck_node *n, ck_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ck_diag *dg = ck_diag_vadd(w->d, CK_SEV_ERROR, code, n->name, n->type, fmt, ap);
    va_end(ap);
    return dg;
}

static bool oom(rt_wctx *w) {
    w->oom = true;
    return false;
}

/* The parameters or scratch a layer would allocate hold at most as many
 * elements as a tensor may (ck_limits.max_elements): a checked shape bounds
 * the tensors, not a kernel's or a depth multiplier's product. */
static bool fits(rt_wctx *w, const ck_node *n, int64_t count, const char *what) {
    if (count >= 0 && count <= w->g->lim.max_elements) return true;
    perr(w, n, CK_LIMIT_EXCEEDED,
         "%s: its %s would hold more than the %lld elements a tensor may have (raise it with "
         "--max-elements)",
         n->name, what, (long long)w->g->lim.max_elements);
    return false;
}

static const ck_shape *in_shape(const rt_wctx *w, const rt_step *st, int k) {
    return &w->s->vals[st->in[k]].shape;
}

static const ck_shape *out_shape(const rt_wctx *w, const rt_step *st, int k) {
    return &w->s->vals[st->out[k]].shape;
}

/* ---- reading ONNX attribute-like inputs (known at check time) ------------ */

static bool absent_in(const ck_graph *g, const ck_node *n, int k) {
    return k >= n->n_in || ck_onnx_val_absent(&g->vals[n->in[k]]);
}

static const int64_t *known_ints(const ck_graph *g, const ck_node *n, int k, int64_t *cnt) {
    return k < n->n_in ? ck_val_ints(g, &g->vals[n->in[k]], cnt) : NULL;
}

static bool known_nums(const ck_graph *g, const ck_node *n, int k, double *out, int max, int *cnt) {
    return k < n->n_in && ck_val_nums(g, &g->vals[n->in[k]], out, max, cnt);
}

/* ---- weights -------------------------------------------------------------- */

/* ONNX weight input k (0 = ONNX input 1) with `want` elements; NULL after a
 * diagnostic. `optional` weights may be absent (returns NULL, no error). */
static const float *onnx_weight(rt_wctx *w, const ck_node *n, int k, int64_t want, const char *role,
                                bool optional, bool *failed) {
    if (k >= n->n_params || n->params[k] < 0) {
        if (optional) return NULL;
        perr(w, n, CK_UNSUPPORTED,
             "%s: its %s (input %d) is not an initializer or Constant; convkit runs layers whose "
             "weights are stored in the model",
             n->name, role, k + 1);
        *failed = true;
        return NULL;
    }
    const ck_tensor *t = &w->g->tensors[n->params[k]];
    int64_t cnt;
    if (!ck_shape_numel(&t->shape, &cnt) || cnt != want) {
        char buf[160];
        perr(w, n, CK_INVALID_CONFIG, "%s: its %s '%s' %s has %lld values; the layer needs %lld",
             n->name, role, t->name, ck_shape_str(&t->shape, buf, sizeof buf), (long long)cnt,
             (long long)want);
        *failed = true;
        return NULL;
    }
    const float *p = rt_tensor_data(w, n->params[k], n, role);
    if (!p) *failed = true;
    w->s->weight_bytes += 4 * want;
    return p;
}

/* A generated parameter adopted by the session; NULL after a diagnostic. */
static float *gen(rt_wctx *w, const ck_node *n, const char *name, const ck_shape *fw, int kind,
                  double bound, bool *failed) {
    float *p = rt_param(w, n, name, fw, kind, bound);
    if (p && !rt_adopt(w->s, p, rt_numel(fw))) {
        w->oom = true;
        p = NULL;
    }
    if (!p) *failed = true;
    w->s->weight_bytes += 4 * rt_numel(fw);
    return p;
}

/* Keras kernel [k..., A, B] -> [B, A, k...] (conv, transposed, pointwise) or,
 * for a depthwise kernel [k..., C, M], -> [C, M, k...]; malloc'd. */
static float *from_keras(rt_wctx *w, const float *src, int64_t K, int64_t A, int64_t B,
                         bool depthwise) {
    int64_t total = K * A * B;
    float *dst = malloc((size_t)(total > 0 ? total : 1) * sizeof *dst);
    if (!dst) {
        w->oom = true;
        return NULL;
    }
    for (int64_t kk = 0; kk < K; kk++)
        for (int64_t a = 0; a < A; a++)
            for (int64_t b = 0; b < B; b++) {
                float v = src[(kk * A + a) * B + b];
                if (depthwise)
                    dst[(a * B + b) * K + kk] = v;
                else
                    dst[(b * A + a) * K + kk] = v;
            }
    return dst;
}

/* Hands conv weights in the internal layout ([O, C/groups, K], or [C,
 * O/groups, K] transposed) to the session: as they are, or packed
 * [K][C][O/groups] for the channels-last kernels (then p is freed: one copy
 * is kept either way). */
static const float *own_conv_weight(rt_wctx *w, float *p, int64_t C, int64_t O, int64_t G,
                                    int64_t K, bool transposed, bool pack, bool *failed) {
    int64_t cg = C / G, og = O / G, total = C * og * K;
    if (!p) {
        *failed = true;
        return NULL;
    }
    if (!pack) {
        if (rt_adopt(w->s, p, total)) return p;
        w->oom = *failed = true;
        return NULL;
    }
    float *q = rt_owned(w->s, total);
    if (!q) {
        free(p);
        w->oom = *failed = true;
        return NULL;
    }
    for (int64_t g = 0; g < G; g++)
        for (int64_t ci = 0; ci < cg; ci++)
            for (int64_t oi = 0; oi < og; oi++)
                for (int64_t t = 0; t < K; t++) {
                    int64_t c = g * cg + ci, o = g * og + oi;
                    float v = transposed ? p[(c * og + oi) * K + t] : p[(o * cg + ci) * K + t];
                    q[(t * C + c) * og + oi] = v;
                }
    free(p);
    return q;
}

static ck_shape shp(int rank, const int64_t *d) {
    ck_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) s.d[i] = d[i];
    return s;
}

/* Keras kernel shape [k..., A, B]. */
static ck_shape keras_kshape(const ck_attrs *a, int64_t A, int64_t B) {
    ck_shape s = {.rank = a->nsp + 2};
    for (int i = 0; i < a->nsp; i++) s.d[i] = a->kernel[i];
    s.d[a->nsp] = A;
    s.d[a->nsp + 1] = B;
    return s;
}

/* PyTorch weight shape [A, B, k...]. */
static ck_shape torch_kshape(const ck_attrs *a, int64_t A, int64_t B) {
    ck_shape s = {.rank = a->nsp + 2, .d = {A, B}};
    for (int i = 0; i < a->nsp; i++) s.d[2 + i] = a->kernel[i];
    return s;
}

/* A Keras kernel generated (or supplied), in the internal layout; malloc'd. */
static float *keras_kernel(rt_wctx *w, const ck_node *n, const char *name, int64_t K, int64_t A,
                           int64_t B, bool depthwise) {
    ck_shape fw = keras_kshape(&n->a, A, B);
    if (!depthwise && strcmp(name, "pointwise_kernel") == 0)
        for (int i = 0; i < n->a.nsp; i++) fw.d[i] = 1;
    double lim = sqrt(6.0 / (double)((A + B) * K));
    float *raw = rt_param(w, n, name, &fw, 0, lim);
    if (!raw) return NULL;
    float *p = from_keras(w, raw, K, A, B, depthwise);
    free(raw);
    w->s->weight_bytes += 4 * K * A * B;
    return p;
}

/* ---- activations ------------------------------------------------------------ */

void rt_act_init(rt_act *r, const ck_attrs *a, const ck_shape *x) {
    memset(r, 0, sizeof *r);
    r->act = a->act == CK_ACT_NONE ? CK_ACT_IDENTITY : a->act;
    ck_act_params(a, &r->alpha, &r->beta);
    r->outer = 1;
    r->len = rt_numel(x);
    r->inner = 1;
    switch (r->act) {
    case CK_ACT_SOFTMAX:
    case CK_ACT_LOG_SOFTMAX: {
        int rank = x->rank, ax = ck_softmax_axis(a, rank);
        if (rank == 0) {
            r->len = 1;
            break;
        }
        r->outer = 1;
        r->inner = 1;
        for (int i = 0; i < ax; i++) r->outer *= x->d[i];
        for (int i = ax + 1; i < rank; i++) r->inner *= x->d[i];
        r->len = x->d[ax];
        break;
    }
    default:
        break;
    }
}

static bool fused_act(const ck_node *n, rt_step *st, const ck_shape *y) {
    if (n->a.act != CK_ACT_NONE && n->a.act != CK_ACT_IDENTITY) rt_act_init(&st->post, &n->a, y);
    return true;
}

/* ---- convolutions ----------------------------------------------------------- */

static bool check_nsp(rt_wctx *w, const ck_node *n, int nsp) {
    if (nsp >= 1 && nsp <= CK_MAX_SP) return true;
    perr(w, n, CK_UNSUPPORTED, "%s: %d spatial axes; convkit runs 1-D to 3-D layers", n->name, nsp);
    return false;
}

/* Builds an index map for one axis of a pad: out o reads o - pb, with the
 * border rule outside [0, in). */
static int64_t *pad_axis_map(int64_t in, int64_t out, int64_t pb, ck_border border) {
    int64_t *m = malloc((size_t)(out ? out : 1) * sizeof *m);
    if (!m) return NULL;
    for (int64_t o = 0; o < out; o++) {
        int64_t i = o - pb;
        if ((i < 0 || i >= in) && in == 0) {
            i = -1; /* nothing to repeat (the checker refuses it; stay in bounds) */
        } else if (i < 0 || i >= in) {
            switch (border) {
            case CK_BORDER_ZEROS:
                i = -1;
                break;
            case CK_BORDER_REPLICATE:
                i = i < 0 ? 0 : in - 1;
                break;
            case CK_BORDER_CIRCULAR:
                i = ((i % in) + in) % in;
                break;
            case CK_BORDER_REFLECT: {
                int64_t per = 2 * (in - 1);
                if (per == 0) {
                    i = 0;
                    break;
                }
                i = ((i % per) + per) % per;
                if (i >= in) i = per - i;
                break;
            }
            }
        }
        m[o] = i;
    }
    return m;
}

/* A pad/crop of x (shape xs) by pb/pe per tensor axis into p. */
static bool build_padmap(rt_wctx *w, rt_step *st, rt_padmap *p, const ck_shape *xs,
                         const int64_t *pb, const int64_t *pe, ck_border border, double value) {
    memset(p, 0, sizeof *p);
    p->rank = xs->rank;
    p->in = *xs;
    p->out = *xs;
    p->value = (float)value;
    for (int a = 0; a < xs->rank; a++) {
        p->out.d[a] = xs->d[a] + pb[a] + pe[a];
        if (pb[a] == 0 && pe[a] == 0) continue;
        p->map[a] = pad_axis_map(xs->d[a], p->out.d[a], pb[a], border);
        if (!p->map[a]) return oom(w);
    }
    (void)st;
    return true;
}

static void padmap_free(rt_padmap *p) {
    for (int a = 0; a < CK_MAX_RANK; a++) {
        free(p->map[a]);
        p->map[a] = NULL;
    }
}

static bool build_conv(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_attrs *a = &n->a;
    int nsp = a->nsp;
    if (!check_nsp(w, n, nsp)) return false;
    const ck_shape *X = in_shape(w, st, 0), *Y = out_shape(w, st, 0);
    bool sep = n->op == CK_OP_SEPARABLE_CONV;
    st->kind = sep ? RT_K_SEPARABLE : RT_K_CONV; /* set first: rt_step_free keys on it */
    st->u.conv.x = rt_geom_of(a, X, nsp);
    st->u.conv.y = rt_geom_of(a, Y, nsp);
    int64_t C = st->u.conv.x.c, O = st->u.conv.y.c;
    int64_t G = (a->groups && !sep) ? a->groups : C;
    int64_t M = a->depth_multiplier > 0 ? a->depth_multiplier : 1;
    st->u.conv.groups = G;
    st->u.conv.mult = M;
    int64_t pb[CK_MAX_RANK] = {0}, pe[CK_MAX_RANK] = {0}, K = 1;
    bool prepad = a->border != CK_BORDER_ZEROS;
    for (int s = 0; s < 3; s++) st->u.conv.k[s] = st->u.conv.s[s] = st->u.conv.d[s] = 1;
    for (int i = 0; i < nsp; i++) {
        int slot = 3 - nsp + i, ax = ck_spatial_axis(a, X->rank, nsp, i);
        int64_t b, e;
        if (!ck_resolve_pads(a, i, X->d[ax], &b, &e)) {
            perr(w, n, CK_INVALID_CONFIG, "%s: the padding arithmetic overflows", n->name);
            return false;
        }
        st->u.conv.k[slot] = a->kernel[i];
        st->u.conv.s[slot] = a->stride[i];
        st->u.conv.d[slot] = a->dilation[i];
        st->u.conv.pb[slot] = prepad ? 0 : b;
        pb[ax] = b;
        pe[ax] = e;
        K = ck_sat_mul(K, a->kernel[i]);
    }
    /* the weights (and a separable layer's depthwise output) before any is made */
    int64_t CM = ck_sat_mul(C, M),
            ysp =
                ck_sat_mul(ck_sat_mul(st->u.conv.y.sp[0], st->u.conv.y.sp[1]), st->u.conv.y.sp[2]);
    if (!fits(w, n, ck_sat_mul(ck_sat_mul(O, C / (G ? G : 1)), K), "weights") ||
        (sep && (!fits(w, n, ck_sat_mul(CM, ck_sat_add(K, O)), "weights") ||
                 !fits(w, n, ck_sat_mul(ck_sat_mul(st->u.conv.x.n, CM), ysp), "depthwise output"))))
        return false;
    if (prepad) {
        /* PyTorch applies padding_mode with F.pad, then convolves unpadded */
        if (!build_padmap(w, st, &st->u.conv.pad, X, pb, pe, a->border, 0.0)) return false;
        st->u.conv.prepad = true;
        st->u.conv.xp = rt_geom_of(a, &st->u.conv.pad.out, nsp);
        st->scratch = rt_numel(&st->u.conv.pad.out);
    }
    bool failed = false;
    st->u.conv.has_bias = a->bias;
    /* Keras weights are generated here, so they can be packed for the
     * channels-last kernels; ONNX and PyTorch tensors are channels first */
    bool nhwc =
        a->dialect == CK_DIALECT_KERAS && !prepad && st->u.conv.x.sc == 1 && st->u.conv.y.sc == 1;
    if (sep) {
        /* Keras SeparableConv: depthwise [k, C, M], pointwise [1, C*M, O] */
        st->w[0] = own_conv_weight(w, keras_kernel(w, n, "depthwise_kernel", K, C, M, true), C, CM,
                                   C, K, false, nhwc, &failed);
        st->w[1] = own_conv_weight(w, keras_kernel(w, n, "pointwise_kernel", 1, CM, O, false), CM,
                                   O, 1, 1, false, nhwc, &failed);
        ck_shape bs = {.rank = 1, .d = {O}};
        if (a->bias) st->w[2] = gen(w, n, "bias", &bs, 1, 0.0, &failed);
        st->scratch = ck_sat_mul(ck_sat_mul(st->u.conv.x.n, CM), ysp);
        if (nhwc) st->kind = RT_K_SEPARABLE_NHWC;
    } else {
        ck_shape bs = {.rank = 1, .d = {O}};
        if (a->dialect == CK_DIALECT_ONNX) {
            /* a dense layer's weights as the file holds them, when the fast
             * kernels may pack them from there (rt_prep_conv decodes them
             * otherwise): no decoded copy, which was an eighth of a
             * ResNet-50 session's creation (ONNX raw data is not aligned) */
            int64_t want = O * (C / G) * K;
            if (G == 1 && w->s->isa != RT_ISA_REF && n->n_params > 0)
                st->w0raw = rt_tensor_raw_f32(w, n->params[0], want);
            if (!st->w0raw) st->w[0] = onnx_weight(w, n, 0, want, "weight W", false, &failed);
            st->w[1] = onnx_weight(w, n, 1, O, "bias B", true, &failed);
            st->u.conv.has_bias = st->w[1] != NULL;
        } else if (a->dialect == CK_DIALECT_KERAS) {
            float *p = a->groups == 0 ? keras_kernel(w, n, "depthwise_kernel", K, C, M, true)
                                      : keras_kernel(w, n, "kernel", K, C / G, O, false);
            st->w[0] = own_conv_weight(w, p, C, O, G, K, false, nhwc, &failed);
            if (a->bias) st->w[1] = gen(w, n, "bias", &bs, 1, 0.0, &failed);
            if (nhwc) st->kind = RT_K_CONV_NHWC;
        } else {
            /* kaiming_uniform(a=sqrt(5)): bound 1/sqrt(fan_in), the bias too */
            ck_shape ws = torch_kshape(a, O, C / G);
            double bound = 1.0 / sqrt((double)((C / G) * K));
            st->w[0] = gen(w, n, "weight", &ws, 0, bound, &failed);
            if (a->bias) st->w[1] = gen(w, n, "bias", &bs, 0, bound, &failed);
        }
    }
    return !failed && fused_act(n, st, Y);
}

bool rt_prep_tconv(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_attrs *a = &n->a;
    int nsp = a->nsp;
    if (!check_nsp(w, n, nsp)) return false;
    const ck_shape *X = in_shape(w, st, 0), *Y = out_shape(w, st, 0);
    st->u.conv.x = rt_geom_of(a, X, nsp);
    st->u.conv.y = rt_geom_of(a, Y, nsp);
    int64_t C = st->u.conv.x.c, O = st->u.conv.y.c, G = a->groups ? a->groups : 1, K = 1;
    st->u.conv.groups = G;
    bool onnx = a->dialect == CK_DIALECT_ONNX;
    for (int s = 0; s < 3; s++) st->u.conv.k[s] = st->u.conv.s[s] = st->u.conv.d[s] = 1;
    for (int i = 0; i < nsp; i++) {
        int slot = 3 - nsp + i, ax = ck_spatial_axis(a, X->rank, nsp, i);
        int64_t pb, pe;
        if (!ck_tconv_pads(a, i, X->d[ax], &pb, &pe)) {
            perr(w, n, CK_INVALID_CONFIG, "%s: the size arithmetic overflows", n->name);
            return false;
        }
        st->u.conv.k[slot] = a->kernel[i];
        st->u.conv.s[slot] = a->stride[i];
        st->u.conv.d[slot] = a->dilation[i];
        st->u.conv.pb[slot] = pb;
        K = ck_sat_mul(K, a->kernel[i]);
    }
    if (!fits(w, n, ck_sat_mul(ck_sat_mul(C, O / G), K), "weights")) return false;
    bool failed = false;
    ck_shape bs = {.rank = 1, .d = {O}};
    st->u.conv.has_bias = a->bias;
    if (onnx) {
        st->w[0] = onnx_weight(w, n, 0, C * (O / G) * K, "weight W", false, &failed);
        st->w[1] = onnx_weight(w, n, 1, O, "bias B", true, &failed);
        st->u.conv.has_bias = st->w[1] != NULL;
    } else if (a->dialect == CK_DIALECT_KERAS) {
        /* Keras Conv*Transpose kernel [k, filters, in] */
        bool nhwc = st->u.conv.x.sc == 1 && st->u.conv.y.sc == 1;
        st->w[0] = own_conv_weight(w, keras_kernel(w, n, "kernel", K, O, C, false), C, O, G, K,
                                   true, nhwc, &failed);
        if (a->bias) st->w[1] = gen(w, n, "bias", &bs, 1, 0.0, &failed);
        st->kind = nhwc ? RT_K_TCONV_NHWC : RT_K_TCONV;
    } else {
        /* torch takes fan_in from weight dim 1: out/groups * kernel */
        ck_shape ws = torch_kshape(a, C, O / G);
        double bound = 1.0 / sqrt((double)((O / G) * K));
        st->w[0] = gen(w, n, "weight", &ws, 0, bound, &failed);
        if (a->bias) st->w[1] = gen(w, n, "bias", &bs, 0, bound, &failed);
    }
    if (st->kind == RT_K_NONE) st->kind = RT_K_TCONV;
    return !failed && fused_act(n, st, Y);
}

/* ---- pooling ------------------------------------------------------------------ */

bool rt_prep_pool(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_attrs *a = &n->a;
    int nsp = a->nsp;
    if (!check_nsp(w, n, nsp)) return false;
    const ck_shape *X = in_shape(w, st, 0), *Y = out_shape(w, st, 0);
    st->u.pool.x = rt_geom_of(a, X, nsp);
    st->u.pool.y = rt_geom_of(a, Y, nsp);
    for (int s = 0; s < 3; s++) st->u.pool.k[s] = st->u.pool.s[s] = st->u.pool.d[s] = 1;
    for (int i = 0; i < nsp; i++) {
        int slot = 3 - nsp + i, ax = ck_spatial_axis(a, X->rank, nsp, i);
        if (!ck_resolve_pads(a, i, X->d[ax], &st->u.pool.pb[slot], &st->u.pool.pe[slot])) {
            perr(w, n, CK_INVALID_CONFIG, "%s: the padding arithmetic overflows", n->name);
            return false;
        }
        st->u.pool.k[slot] = a->kernel[i];
        st->u.pool.s[slot] = a->stride[i];
        st->u.pool.d[slot] = a->dilation[i];
    }
    st->u.pool.max = n->op == CK_OP_MAX_POOL;
    st->u.pool.include_pad = a->count_include_pad;
    st->kind = RT_K_POOL;
    return true;
}

/* Adaptive and global pooling, and area resizing (`area`): bins of about
 * in/out pixels. */
static bool bins(rt_wctx *w, const ck_node *n, rt_step *st, bool area) {
    ck_attrs t = n->a;
    const ck_shape *X = in_shape(w, st, 0), *Y = out_shape(w, st, 0);
    bool global = n->op == CK_OP_GLOBAL_AVG_POOL || n->op == CK_OP_GLOBAL_MAX_POOL;
    if (!t.nsp || area) t.nsp = (area && t.dialect == CK_DIALECT_KERAS) ? t.nsp : X->rank - 2;
    if (!check_nsp(w, n, t.nsp)) return false;
    st->u.apool.x = rt_geom_of(&t, X, t.nsp);
    if (global && Y->rank == 2) {
        /* [N, C] */
        st->u.apool.y =
            (rt_geom){.n = Y->d[0], .c = Y->d[1], .sp = {1, 1, 1}, .sn = Y->d[1], .sc = 1};
    } else {
        st->u.apool.y = rt_geom_of(&t, Y, t.nsp);
    }
    st->u.apool.max = n->op == CK_OP_ADAPTIVE_MAX_POOL || n->op == CK_OP_GLOBAL_MAX_POOL;
    st->kind = RT_K_APOOL;
    return true;
}

bool rt_prep_adaptive(rt_wctx *w, const ck_node *n, rt_step *st) {
    return bins(w, n, st, false);
}

/* ---- resampling ------------------------------------------------------------ */

static float cubic_w(float x, float A) {
    x = fabsf(x);
    if (x <= 1.0f) return ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f;
    if (x < 2.0f) return ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A;
    return 0.0f;
}

static int64_t clampi(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Source coordinate of output index o per ONNX coordinate_transformation_mode
 * (PyTorch's and TF's modes are instances of these). ratio = 1/scale; len
 * the resized length the mapping uses (ONNX: in * scale, which need not be
 * whole; else out); roi the crop [start, end] of tf_crop_and_resize. */
static double src_coord(ck_coord c, int64_t o, int64_t in, int64_t out, double ratio, double len,
                        const double *roi) {
    switch (c) {
    case CK_COORD_ALIGN_CORNERS:
        return len > 1 ? (double)o * (double)(in - 1) / (len - 1) : 0.0;
    case CK_COORD_ASYMMETRIC:
        return (double)o * ratio;
    case CK_COORD_PYTORCH_HALF_PIXEL:
        return out > 1 ? ((double)o + 0.5) * ratio - 0.5 : 0.0;
    case CK_COORD_TF_HALF_PIXEL_FOR_NN:
        return ((double)o + 0.5) * ratio;
    case CK_COORD_TF_CROP_AND_RESIZE: {
        double s = roi ? roi[0] : 0.0, e = roi ? roi[1] : 1.0;
        double x = len > 1 ? (double)o * (e - s) * (double)(in - 1) / (len - 1)
                           : (e - s) * (double)(in - 1) / 2;
        return x + s * (double)(in - 1);
    }
    default:
        return ((double)o + 0.5) * ratio - 0.5;
    }
}

/* ONNX nearest_mode on a source coordinate. */
static int64_t nearest_of(int mode, double x) {
    double f = floor(x);
    switch (mode) {
    case 2:
        return (int64_t)f;
    case 3:
        return (int64_t)ceil(x);
    case 1:
        return (int64_t)(x - f == 0.5 ? f + 1 : floor(x + 0.5));
    default:
        return (int64_t)(x - f == 0.5 ? f : floor(x + 0.5));
    }
}

/* Taps and weights of one axis. scale > 0 is the scale the framework maps
 * coordinates with (PyTorch's scale_factor, ONNX scales); 0 = out/in. */
static bool resample_axis(rt_resample *r, const ck_attrs *a, int64_t in, int64_t out, double scale,
                          const double *roi) {
    bool torch = a->dialect == CK_DIALECT_PYTORCH;
    ck_interp m = a->interp;
    r->taps = m == CK_INTERP_LINEAR ? 2 : m == CK_INTERP_CUBIC ? 4 : 1;
    r->idx = malloc((size_t)(out ? out : 1) * (size_t)r->taps * sizeof *r->idx);
    r->wt = malloc((size_t)(out ? out : 1) * (size_t)r->taps * sizeof *r->wt);
    if (!r->idx || !r->wt) return false;
    /* PyTorch computes coordinates in float: area_pixel_compute_scale and
     * nearest_idx in aten/src/ATen/native/UpSample.h */
    float fr = (scale > 0) ? (float)(1.0 / scale) : (float)in / (float)out;
    double ratio = (scale > 0) ? 1.0 / scale : (double)in / (double)out;
    bool ac = a->coord == CK_COORD_ALIGN_CORNERS || (torch && a->align_corners);
    float far = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
    /* ONNX maps coordinates with the resized length in * scale */
    double len = a->dialect == CK_DIALECT_ONNX && scale > 0 ? (double)in * scale : (double)out;
    bool crop = a->coord == CK_COORD_TF_CROP_AND_RESIZE && a->dialect == CK_DIALECT_ONNX;
    for (int64_t o = 0; o < out; o++) {
        int64_t *ix = r->idx + o * r->taps;
        float *wt = r->wt + o * r->taps;
        double xs = src_coord(a->coord, o, in, out, ratio, len, roi);
        if (crop && (xs < 0 || xs > (double)(in - 1))) {
            /* outside the crop's input: the extrapolation value (the kernel) */
            for (int k = 0; k < r->taps; k++) ix[k] = -1, wt[k] = 0.0f;
            continue;
        }
        if (m == CK_INTERP_NEAREST || m == CK_INTERP_NEAREST_EXACT) {
            int64_t i;
            if (torch && m == CK_INTERP_NEAREST) {
                i = out == in ? o : out == 2 * in ? o >> 1 : (int64_t)floorf((float)o * fr);
            } else if (torch) {
                i = (int64_t)floorf((float)(((double)o + 0.5) * fr));
            } else if (a->dialect == CK_DIALECT_KERAS) {
                i = (int64_t)floor(xs);
            } else {
                i = nearest_of(a->resize.nearest, xs);
            }
            ix[0] = clampi(i, 0, in - 1);
            wt[0] = 1.0f;
        } else if (m == CK_INTERP_LINEAR) {
            float src;
            if (torch) {
                src = ac ? far * (float)o : fr * ((float)o + 0.5f) - 0.5f;
                if (src < 0) src = 0;
            } else {
                double x = xs;
                x = x < 0 ? 0 : x > (double)(in - 1) ? (double)(in - 1) : x;
                src = (float)x;
            }
            int64_t i0 = (int64_t)src;
            if (i0 > in - 1) i0 = in - 1;
            float l1 = src - (float)i0;
            ix[0] = i0;
            ix[1] = i0 < in - 1 ? i0 + 1 : i0;
            wt[0] = 1.0f - l1;
            wt[1] = l1;
        } else {
            /* cubic: PyTorch and ONNX use A = -0.75 (ONNX: cubic_coeff_a),
             * TensorFlow (Keras) -0.5 */
            float A = a->dialect == CK_DIALECT_KERAS  ? -0.5f
                      : a->dialect == CK_DIALECT_ONNX ? (float)a->resize.cubic_a
                                                      : -0.75f;
            float src;
            if (torch)
                src = ac ? far * (float)o : fr * ((float)o + 0.5f) - 0.5f;
            else
                src = (float)xs;
            float f = floorf(src), t = src - f, sum = 0.0f;
            bool excl = a->dialect == CK_DIALECT_ONNX && a->resize.exclude_outside;
            for (int k = 0; k < 4; k++) {
                int64_t at = (int64_t)f - 1 + k;
                ix[k] = clampi(at, 0, in - 1);
                wt[k] = excl && (at < 0 || at > in - 1) ? 0.0f : cubic_w(t + 1.0f - (float)k, A);
                sum += wt[k];
            }
            /* exclude_outside: the taps left share the weight */
            for (int k = 0; excl && sum != 0.0f && k < 4; k++) wt[k] /= sum;
        }
    }
    return true;
}

bool rt_prep_resize(rt_wctx *w, const ck_node *n, rt_step *st) {
    ck_attrs t = n->a;
    const ck_shape *X = in_shape(w, st, 0), *Y = out_shape(w, st, 0);
    if (t.interp == CK_INTERP_AREA) return bins(w, n, st, true);
    bool onnx = n->op == CK_OP_ONNX_RESIZE;
    if (t.dialect != CK_DIALECT_KERAS) t.nsp = X->rank - 2;
    if (!check_nsp(w, n, t.nsp)) return false;
    /* tf_crop_and_resize: the roi (input 1) holds the crop's starts, then
     * its ends, per axis resized (all, or ONNX axes) */
    double roi[CK_MAX_SP][2];
    bool roi_of[CK_MAX_SP] = {false};
    if (onnx && t.coord == CK_COORD_TF_CROP_AND_RESIZE) {
        double v[2 * CK_MAX_RANK];
        int cnt = 0, na = t.n_axes > 0 ? t.n_axes : X->rank;
        if (absent_in(w->g, n, 1) || !known_nums(w->g, n, 1, v, 2 * CK_MAX_RANK, &cnt) ||
            cnt != 2 * na) {
            perr(w, n, CK_UNSUPPORTED,
                 "%s: tf_crop_and_resize needs its roi (input 1) as a known constant of %d "
                 "values",
                 n->name, 2 * na);
            return false;
        }
        for (int i = 0; i < na; i++) {
            int ax = t.n_axes > 0 ? (int)(t.axes[i] < 0 ? t.axes[i] + X->rank : t.axes[i]) : i;
            if (ax < 2 || ax - 2 >= t.nsp) continue;
            roi[ax - 2][0] = v[i];
            roi[ax - 2][1] = v[na + i];
            roi_of[ax - 2] = true;
        }
    }
    st->u.resize.extrapolation = (float)t.resize.extrapolation;
    st->kind = RT_K_RESIZE;
    st->u.resize.x = rt_geom_of(&t, X, t.nsp);
    st->u.resize.y = rt_geom_of(&t, Y, t.nsp);
    double scale[CK_MAX_SP] = {0, 0, 0};
    if (onnx) {
        /* the scales input (Upsample: input 1; Resize: input 2, sizes at 3) */
        int ks = (t.resize.scales_input == 1 || n->n_in == 2) ? 1 : 2;
        double v[CK_MAX_RANK];
        int cnt = 0;
        if (!absent_in(w->g, n, ks) && known_nums(w->g, n, ks, v, CK_MAX_RANK, &cnt)) {
            int axes[CK_MAX_RANK];
            for (int i = 0; i < cnt; i++)
                axes[i] = t.n_axes > 0 ? (int)(t.axes[i] < 0 ? t.axes[i] + X->rank : t.axes[i]) : i;
            for (int i = 0; i < cnt; i++)
                if (axes[i] >= 2 && axes[i] - 2 < t.nsp) scale[axes[i] - 2] = v[i];
        }
    } else if (t.has_scale && !(t.dialect == CK_DIALECT_PYTORCH && t.recompute_scale)) {
        for (int i = 0; i < t.nsp; i++) scale[i] = t.scale[i];
    }
    int64_t ny;
    bool empty = !ck_shape_numel(Y, &ny) || ny == 0;
    for (int s = 0; s < 3; s++) {
        rt_resample *r = &st->u.resize.ax[s];
        int i = s - (3 - t.nsp);
        int64_t in = st->u.resize.x.sp[s], out = st->u.resize.y.sp[s];
        if (i < 0) {
            r->taps = 1;
            r->idx = calloc(1, sizeof *r->idx);
            r->wt = malloc(sizeof *r->wt);
            if (!r->idx || !r->wt) return oom(w);
            r->wt[0] = 1.0f;
            continue;
        }
        /* an empty output is never computed: no taps for its other axes,
         * which may be huge */
        if (!resample_axis(r, &t, in, empty ? 0 : out, scale[i], roi_of[i] ? roi[i] : NULL))
            return oom(w);
    }
    st->kind = RT_K_RESIZE;
    return true;
}

/* ---- padding and cropping ------------------------------------------------------ */

bool rt_prep_pad(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_attrs *a = &n->a;
    const ck_shape *X = in_shape(w, st, 0);
    int64_t pb[CK_MAX_RANK] = {0}, pe[CK_MAX_RANK] = {0};
    double value = a->pad_value;
    if (n->op == CK_OP_ONNX_PAD) {
        int64_t np;
        const int64_t *pads = known_ints(w->g, n, 1, &np);
        int axes[CK_MAX_RANK], na = X->rank;
        for (int i = 0; i < X->rank; i++) axes[i] = i;
        if (!absent_in(w->g, n, 3)) {
            int64_t c;
            const int64_t *av = known_ints(w->g, n, 3, &c);
            if (!av || c > CK_MAX_RANK) pads = NULL;
            na = av ? (int)c : 0;
            for (int i = 0; av && i < na; i++) axes[i] = (int)(av[i] < 0 ? av[i] + X->rank : av[i]);
        }
        if (!pads || np != 2 * (int64_t)na) {
            perr(w, n, CK_UNSUPPORTED, "%s: its pads are not known constants", n->name);
            return false;
        }
        for (int i = 0; i < na; i++) {
            pb[axes[i]] = pads[i];
            pe[axes[i]] = pads[na + i];
        }
        double cv;
        int nc;
        if (!absent_in(w->g, n, 2) && known_nums(w->g, n, 2, &cv, 1, &nc) && nc == 1) value = cv;
    } else {
        int sign = n->op == CK_OP_CROP ? -1 : 1;
        for (int i = 0; i < a->nsp; i++) {
            int ax = ck_spatial_axis(a, X->rank, a->nsp, i);
            if (ax < 0 || ax >= X->rank) continue;
            pb[ax] = sign * a->pad_begin[i];
            pe[ax] = sign * a->pad_end[i];
        }
    }
    st->kind = RT_K_PAD;
    if (!build_padmap(w, st, &st->u.pad, X, pb, pe, a->border, value)) return false;
    if (!ck_shape_eq(&st->u.pad.out, out_shape(w, st, 0))) {
        perr(w, n, CK_INVALID_CONFIG, "%s: the padded shape disagrees with the checked shape",
             n->name);
        return false;
    }
    st->kind = RT_K_PAD;
    return true;
}

/* ---- normalisation ----------------------------------------------------------------- */

/* The feature (channel) axis of a norm, as the norm shape rules read it. */
static int feature_axis(const ck_node *n, const ck_shape *x) {
    const ck_attrs *a = &n->a;
    if (a->dialect == CK_DIALECT_KERAS) return a->axis < 0 ? x->rank + a->axis : a->axis;
    if (n->op == CK_OP_INSTANCE_NORM && a->dialect == CK_DIALECT_PYTORCH && x->rank == a->nsp + 1)
        return 0; /* unbatched */
    return a->channels_last ? x->rank - 1 : (x->rank == 1 ? 0 : 1);
}

static void split_axis(const ck_shape *x, int ax, int64_t *outer, int64_t *len, int64_t *inner) {
    *outer = *inner = 1;
    for (int i = 0; i < ax; i++) *outer *= x->d[i];
    for (int i = ax + 1; i < x->rank; i++) *inner *= x->d[i];
    *len = x->d[ax];
}

/* Affine parameters gamma/beta of `count` values: ONNX inputs, else named
 * per framework with defaults 1 and 0. NULL data (no affine) is allowed. */
static bool norm_params(rt_wctx *w, const ck_node *n, rt_step *st, const ck_shape *ps,
                        bool *failed) {
    int64_t count = rt_numel(ps);
    if (n->a.dialect == CK_DIALECT_ONNX) {
        st->w[0] = onnx_weight(w, n, 0, count, "scale", false, failed);
        /* LayerNormalization's B is optional */
        st->w[1] = onnx_weight(w, n, 1, count, "bias B", n->op == CK_OP_LAYER_NORM, failed);
    } else if (n->a.affine) {
        bool k = n->a.dialect == CK_DIALECT_KERAS;
        st->w[0] = gen(w, n, k ? "gamma" : "weight", ps, 1, 1.0, failed);
        st->w[1] = gen(w, n, k ? "beta" : "bias", ps, 1, 0.0, failed);
    }
    return !*failed;
}

bool rt_prep_batch_norm(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_attrs *a = &n->a;
    const ck_shape *X = in_shape(w, st, 0);
    int ax = feature_axis(n, X);
    int64_t C;
    split_axis(X, ax, &st->u.affine.outer, &C, &st->u.affine.inner);
    st->u.affine.c = C;
    bool failed = false, keras = a->dialect == CK_DIALECT_KERAS;
    const float *g = NULL, *b = NULL, *mean = NULL, *var = NULL;
    float *tmp[4] = {NULL, NULL, NULL, NULL};
    ck_shape cs = {.rank = 1, .d = {C}};
    if (a->dialect == CK_DIALECT_ONNX) {
        g = onnx_weight(w, n, 0, C, "scale", false, &failed);
        b = onnx_weight(w, n, 1, C, "bias B", false, &failed);
        mean = onnx_weight(w, n, 2, C, "input_mean", false, &failed);
        var = onnx_weight(w, n, 3, C, "input_var", false, &failed);
    } else {
        /* generated or supplied statistics are folded below and not kept */
        if (a->affine) {
            g = tmp[0] = rt_param(w, n, keras ? "gamma" : "weight", &cs, 1, 1.0);
            b = tmp[1] = rt_param(w, n, keras ? "beta" : "bias", &cs, 1, 0.0);
            failed |= !g || !b;
        }
        mean = tmp[2] = rt_param(w, n, keras ? "moving_mean" : "running_mean", &cs, 1, 0.0);
        var = tmp[3] = rt_param(w, n, keras ? "moving_variance" : "running_var", &cs, 1, 1.0);
        failed |= !mean || !var;
    }
    float *sc = failed ? NULL : rt_owned(w->s, C), *sh = failed ? NULL : rt_owned(w->s, C);
    if (!failed && (!sc || !sh)) w->oom = failed = true;
    if (failed) {
        for (int i = 0; i < 4; i++) free(tmp[i]);
        return false;
    }
    for (int64_t c = 0; c < C; c++) {
        double inv = 1.0 / sqrt((double)var[c] + a->eps);
        double gv = g ? g[c] : 1.0, bv = b ? b[c] : 0.0;
        sc[c] = (float)(gv * inv);
        sh[c] = (float)(bv - (double)mean[c] * gv * inv);
    }
    for (int i = 0; i < 4; i++) free(tmp[i]);
    st->w[0] = sc;
    st->w[1] = sh;
    st->kind = RT_K_AFFINE;
    return fused_act(n, st, X);
}

bool rt_prep_group_norm(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_attrs *a = &n->a;
    const ck_shape *X = in_shape(w, st, 0);
    int ax = feature_axis(n, X);
    int64_t C = X->d[ax], G = n->op == CK_OP_GROUP_NORM ? a->num_groups : C;
    if (G <= 0 || C % G) {
        perr(w, n, CK_INVALID_CONFIG, "%s: %lld channels do not split into %lld groups", n->name,
             (long long)C, (long long)G);
        return false;
    }
    st->u.norm.outer = ax > 0 ? X->d[0] : 1;
    st->u.norm.p = 1;
    for (int i = 1; i < ax; i++) st->u.norm.p *= X->d[i];
    st->u.norm.inner = 1;
    for (int i = ax + 1; i < X->rank; i++) st->u.norm.inner *= X->d[i];
    st->u.norm.groups = G;
    st->u.norm.cpg = C / G;
    st->u.norm.eps = (float)a->eps;
    ck_shape cs = {.rank = 1, .d = {C}};
    bool failed = false;
    if (!norm_params(w, n, st, &cs, &failed)) return false;
    st->kind = RT_K_GROUP_NORM;
    return fused_act(n, st, X);
}

bool rt_prep_layer_norm(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_attrs *a = &n->a;
    const ck_shape *X = in_shape(w, st, 0);
    ck_shape ps;
    if (a->shape_rank > 0) {
        /* PyTorch: the trailing normalized_shape */
        ps = shp(a->shape_rank, a->shape);
        st->u.norm.cpg = rt_numel(&ps);
        st->u.norm.inner = 1;
        st->u.norm.outer = st->u.norm.cpg ? rt_numel(X) / st->u.norm.cpg : 0;
    } else {
        int ax = a->axis < 0 ? X->rank + a->axis : a->axis;
        if (ax < 0 || ax >= X->rank) {
            perr(w, n, CK_RANK_MISMATCH, "%s: axis %d is outside the %d-D input", n->name, a->axis,
                 X->rank);
            return false;
        }
        split_axis(X, ax, &st->u.norm.outer, &st->u.norm.cpg, &st->u.norm.inner);
        ps = (ck_shape){.rank = 1, .d = {st->u.norm.cpg}};
    }
    st->u.norm.eps = (float)a->eps;
    bool failed = false;
    if (!norm_params(w, n, st, &ps, &failed)) return false;
    st->kind = RT_K_LAYER_NORM;
    return fused_act(n, st, X);
}

/* ---- activations ------------------------------------------------------------------- */

/* PReLU slopes broadcast against x (right-aligned): a contiguous run of
 * non-1 axes equal to x's becomes index (i / cstride) % nslope; any other
 * pattern is expanded to one slope per element. */
static bool prelu_slopes(rt_wctx *w, const ck_node *n, rt_act *r, const float *sl,
                         const ck_shape *ss, const ck_shape *x) {
    int off = x->rank - ss->rank, first = -1, last = -1;
    bool simple = off >= 0;
    for (int i = 0; simple && i < ss->rank; i++)
        if (ss->d[i] != 1) {
            if (ss->d[i] != x->d[i + off] || (last >= 0 && last != i - 1 + off)) simple = false;
            if (first < 0) first = i + off;
            last = i + off;
        }
    if (simple) {
        r->slope = sl;
        r->nslope = rt_numel(ss) > 0 ? rt_numel(ss) : 1;
        r->cstride = 1;
        for (int i = last + 1; last >= 0 && i < x->rank; i++) r->cstride *= x->d[i];
        if (first < 0) r->nslope = 1;
        return true;
    }
    if (off < 0) {
        perr(w, n, CK_CHANNEL_MISMATCH, "%s: the slope has more axes than the input", n->name);
        return false;
    }
    for (int i = 0; i < ss->rank; i++)
        if (ss->d[i] != 1 && ss->d[i] != x->d[i + off]) {
            perr(w, n, CK_CHANNEL_MISMATCH,
                 "%s: the slope's axis %d (%lld) does not broadcast to the input's %lld", n->name,
                 i, (long long)ss->d[i], (long long)x->d[i + off]);
            return false;
        }
    int64_t N = rt_numel(x);
    float *e = rt_owned(w->s, N);
    if (!e) return oom(w);
    int64_t idx[CK_MAX_RANK] = {0};
    for (int64_t i = 0; i < N; i++) {
        int64_t o = 0;
        for (int k = 0; k < ss->rank; k++) o = o * ss->d[k] + (ss->d[k] == 1 ? 0 : idx[k + off]);
        e[i] = sl[o];
        for (int k = x->rank - 1; k >= 0; k--) {
            if (++idx[k] < x->d[k]) break;
            idx[k] = 0;
        }
    }
    r->slope = e;
    r->nslope = N;
    r->cstride = 1;
    return true;
}

bool rt_prep_act(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_attrs *a = &n->a;
    const ck_shape *X = in_shape(w, st, 0);
    rt_act_init(&st->u.act, a, X);
    st->kind = RT_K_ACT;
    if (a->act != CK_ACT_PRELU) return true;
    bool failed = false;
    if (a->dialect == CK_DIALECT_ONNX) {
        if (n->n_params < 1 || n->params[0] < 0) {
            perr(w, n, CK_UNSUPPORTED, "%s: the slope is not an initializer", n->name);
            return false;
        }
        const ck_tensor *t = &w->g->tensors[n->params[0]];
        const float *sl = onnx_weight(w, n, 0, rt_numel(&t->shape), "slope", false, &failed);
        return !failed && prelu_slopes(w, n, &st->u.act, sl, &t->shape, X);
    }
    ck_shape ss, bs; /* the parameter's shape, and how it broadcasts */
    const char *name = "weight";
    double init = a->alpha;
    if (a->dialect == CK_DIALECT_KERAS) {
        /* one alpha per element (batch excluded), 1 along shared_axes */
        ss = *X;
        ss.rank = X->rank - 1;
        for (int i = 1; i < X->rank; i++) ss.d[i - 1] = X->d[i];
        for (int i = 0; i < a->n_axes; i++)
            if (a->axes[i] >= 1 && a->axes[i] <= ss.rank) ss.d[a->axes[i] - 1] = 1;
        name = "alpha";
        init = 0.0;
        bs = ss;
    } else {
        /* PyTorch: num_parameters slopes on the channel axis (dim 1) */
        int64_t np = a->num_features > 0 ? a->num_features : 1;
        ss = bs = (ck_shape){.rank = 1, .d = {np}};
        if (np > 1 && X->rank >= 2) {
            bs.rank = X->rank - 1;
            for (int i = 0; i < bs.rank; i++) bs.d[i] = i == 0 ? np : 1;
        }
    }
    const float *sl = gen(w, n, name, &ss, 1, init, &failed);
    return !failed && prelu_slopes(w, n, &st->u.act, sl, &bs, X);
}

/* ---- dense -------------------------------------------------------------------------- */

static bool prep_linear(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_attrs *a = &n->a;
    const ck_shape *X = in_shape(w, st, 0), *Y = out_shape(w, st, 0);
    int64_t K = a->trans_a ? X->d[0] : X->d[X->rank - 1];
    int64_t N = Y->d[Y->rank - 1];
    int64_t M = a->trans_a ? X->d[1] : (K ? rt_numel(X) / K : 0);
    st->u.lin.m = M;
    st->u.lin.k = K;
    st->u.lin.n = N;
    st->u.lin.trans_a = a->trans_a;
    st->u.lin.alpha = st->u.lin.beta = 1.0f;
    if (!fits(w, n, ck_sat_mul(K, N), "weights")) return false;
    bool failed = false;
    if (a->dialect == CK_DIALECT_ONNX) {
        if (n->op == CK_OP_LINEAR) { /* Gemm's scales (MatMul has none) */
            st->u.lin.alpha = (float)a->gemm.alpha;
            st->u.lin.beta = (float)a->gemm.beta;
        }
        st->u.lin.w_kn = !a->trans_b; /* Gemm B [K, N] unless transB; MatMul B [K, N] */
        st->w[0] = onnx_weight(w, n, 0, K * N, "weight B", false, &failed);
        if (n->op == CK_OP_LINEAR && n->n_params > 1 && n->params[1] >= 0) {
            const ck_tensor *c = &w->g->tensors[n->params[1]];
            int64_t r = 1, cc = 1;
            if (c->shape.rank == 1) cc = c->shape.d[0];
            if (c->shape.rank == 2) r = c->shape.d[0], cc = c->shape.d[1];
            if (c->shape.rank > 2 || (r != 1 && r != M) || (cc != 1 && cc != N)) {
                char buf[160];
                perr(w, n, CK_FEATURE_MISMATCH, "%s: C %s does not broadcast to [%lld, %lld]",
                     n->name, ck_shape_str(&c->shape, buf, sizeof buf), (long long)M, (long long)N);
                return false;
            }
            st->w[1] = onnx_weight(w, n, 1, r * cc, "bias C", false, &failed);
            st->u.lin.bias_rows = r;
            st->u.lin.bias_cols = cc;
        }
    } else if (a->dialect == CK_DIALECT_KERAS) {
        ck_shape ks = {.rank = 2, .d = {K, N}};
        st->u.lin.w_kn = true;
        st->w[0] = gen(w, n, "kernel", &ks, 0, sqrt(6.0 / (double)(K + N)), &failed);
        if (a->bias) {
            ck_shape bs = {.rank = 1, .d = {N}};
            st->w[1] = gen(w, n, "bias", &bs, 1, 0.0, &failed);
            st->u.lin.bias_rows = 1;
            st->u.lin.bias_cols = N;
        }
    } else {
        ck_shape ws = {.rank = 2, .d = {N, K}};
        double bound = K > 0 ? 1.0 / sqrt((double)K) : 0.0;
        st->w[0] = gen(w, n, "weight", &ws, 0, bound, &failed);
        if (a->bias) {
            ck_shape bs = {.rank = 1, .d = {N}};
            st->w[1] = gen(w, n, "bias", &bs, 0, bound, &failed);
            st->u.lin.bias_rows = 1;
            st->u.lin.bias_cols = N;
        }
    }
    st->kind = RT_K_LINEAR;
    return !failed && fused_act(n, st, Y);
}

/* ONNX MatMul: a 2-D constant B is a linear layer; otherwise numpy's
 * batched matmul (B a data input or a constant of another rank). */
bool rt_prep_matmul(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_tensor *wt =
        (n->n_params > 0 && n->params[0] >= 0) ? &w->g->tensors[n->params[0]] : NULL;
    if (wt && wt->shape.rank == 2) return prep_linear(w, n, st);
    const ck_shape *A = in_shape(w, st, 0), *Y = out_shape(w, st, 0);
    const ck_shape *B = wt ? &wt->shape : in_shape(w, st, 1);
    bool failed = false;
    if (wt) st->w[0] = onnx_weight(w, n, 0, rt_numel(B), "B", false, &failed);
    if (failed) return false;
    st->u.mm.k = A->d[A->rank - 1];
    st->u.mm.m = A->rank >= 2 ? A->d[A->rank - 2] : 1;
    st->u.mm.n = B->rank >= 2 ? B->d[B->rank - 1] : 1;
    int nb = Y->rank - (A->rank >= 2) - (B->rank >= 2);
    st->u.mm.nb = nb < 0 ? 0 : nb;
    st->u.mm.ob = (ck_shape){.rank = st->u.mm.nb};
    st->u.mm.batch = 1;
    int ba = A->rank > 2 ? A->rank - 2 : 0, bb = B->rank > 2 ? B->rank - 2 : 0;
    int64_t asz = st->u.mm.m * st->u.mm.k, bsz = st->u.mm.k * st->u.mm.n;
    for (int i = st->u.mm.nb - 1, ia = ba - 1, ib = bb - 1; i >= 0; i--, ia--, ib--) {
        st->u.mm.ob.d[i] = Y->d[i];
        st->u.mm.batch *= Y->d[i];
        st->u.mm.sa[i] = (ia >= 0 && A->d[ia] != 1) ? asz : 0;
        st->u.mm.sb[i] = (ib >= 0 && B->d[ib] != 1) ? bsz : 0;
        if (ia >= 0) asz *= A->d[ia];
        if (ib >= 0) bsz *= B->d[ib];
    }
    st->kind = RT_K_MATMUL;
    return true;
}

/* ---- joins ----------------------------------------------------------------------- */

/* Broadcast strides of the step's inputs (and a Python number: one more
 * operand, all strides 0) to the output shape. */
static bool bcast_strides(rt_wctx *w, rt_step *st, int n_ops) {
    const ck_shape *Y = out_shape(w, st, 0);
    int64_t *s = calloc((size_t)n_ops * CK_MAX_RANK, sizeof *s);
    if (!s) return oom(w);
    st->u.bin.strides = s;
    st->u.bin.out = *Y;
    for (int k = 0; k < st->n_in; k++)
        ck_nd_bcast_strides(Y, in_shape(w, st, k), s + (size_t)k * CK_MAX_RANK);
    return true;
}

bool rt_prep_binary(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_shape *Y = out_shape(w, st, 0);
    st->kind = RT_K_BINARY; /* set first: rt_step_free keys on it */
    st->u.bin.op = ck_op_bin(n->op, &n->a);
    if (!bcast_strides(w, st, st->n_in + 1)) return false;
    if (n->a.has_scalar) { /* x * 0.5, 1 - x: the number as one more operand */
        float *v = rt_owned(w->s, 1);
        if (!v) return oom(w);
        *v = (float)n->a.scalar;
        st->w[0] = v;
        st->u.bin.scalar = n->a.scalar_first ? 2 : 1;
    }
    return fused_act(n, st, Y);
}

bool rt_prep_where(rt_wctx *w, const ck_node *n, rt_step *st) {
    (void)n;
    st->kind = RT_K_WHERE;
    return bcast_strides(w, st, 3);
}

bool rt_prep_expand(rt_wctx *w, const ck_node *n, rt_step *st) {
    (void)n;
    st->u.expand.in = *in_shape(w, st, 0);
    st->u.expand.out = *out_shape(w, st, 0);
    st->kind = RT_K_EXPAND;
    return true;
}

/* Tile: a pad step whose index maps wrap around */
bool rt_prep_tile(rt_wctx *w, const ck_node *n, rt_step *st) {
    (void)n;
    const ck_shape *X = in_shape(w, st, 0), *Y = out_shape(w, st, 0);
    rt_padmap *p = &st->u.pad;
    st->kind = RT_K_PAD;
    memset(p, 0, sizeof *p);
    p->rank = Y->rank;
    p->out = *Y;
    p->in = (ck_shape){.rank = Y->rank};
    for (int a = 0; a < Y->rank; a++) {
        int ix = a - (Y->rank - X->rank);
        p->in.d[a] = ix >= 0 ? X->d[ix] : 1;
    }
    return ck_tile_maps(&p->in, Y, p->map) || oom(w);
}

/* A rule context for node n of the checked graph: what the shared readers
 * of known inputs (slices, scatter offsets) take. */
typedef struct node_ctx {
    ck_ctx c;
    const ck_val *in[64];
    ck_diags d;
} node_ctx;

static void node_ctx_init(node_ctx *nc, const ck_graph *g, const ck_node *n) {
    memset(nc, 0, sizeof *nc);
    for (int k = 0; k < n->n_in && k < 64; k++) nc->in[k] = &g->vals[n->in[k]];
    nc->c = (ck_ctx){.g = g,
                     .n = n,
                     .d = &nc->d,
                     .n_in = n->n_in < 64 ? n->n_in : 64,
                     .in = nc->in,
                     .fail_axis = -1};
}

bool rt_prep_scatter_nd(rt_wctx *w, const ck_node *n, rt_step *st) {
    node_ctx nc;
    node_ctx_init(&nc, w->g, n);
    st->kind = RT_K_SCATTER;
    st->u.scatter.off = ck_scatter_offsets(&nc.c, &st->u.scatter.n, &st->u.scatter.slice);
    st->u.scatter.total = rt_numel(out_shape(w, st, 0));
    st->u.scatter.reduction = n->a.scatter.reduction;
    if (!st->u.scatter.off) {
        perr(w, n, CK_UNSUPPORTED, "%s: its indices are not known constants", n->name);
        return false;
    }
    return true;
}

static int norm_axis(int ax, int rank) {
    return ax < 0 ? ax + rank : ax;
}

bool rt_prep_concat(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_shape *Y = out_shape(w, st, 0);
    int ax = norm_axis(n->a.axis, Y->rank);
    int64_t len;
    split_axis(Y, ax, &st->u.cat.outer, &len, &st->u.cat.inner);
    st->kind = RT_K_CONCAT;
    st->u.cat.parts = malloc((size_t)st->n_in * sizeof *st->u.cat.parts);
    if (!st->u.cat.parts) return oom(w);
    for (int k = 0; k < st->n_in; k++) st->u.cat.parts[k] = in_shape(w, st, k)->d[ax];
    st->kind = RT_K_CONCAT;
    return true;
}

bool rt_prep_split(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_shape *X = in_shape(w, st, 0);
    int ax = norm_axis(n->a.axis, X->rank);
    int64_t len;
    split_axis(X, ax, &st->u.cat.outer, &len, &st->u.cat.inner);
    st->kind = RT_K_SPLIT;
    st->u.cat.parts = malloc((size_t)st->n_out * sizeof *st->u.cat.parts);
    if (!st->u.cat.parts) return oom(w);
    for (int k = 0; k < st->n_out; k++) st->u.cat.parts[k] = out_shape(w, st, k)->d[ax];
    st->kind = RT_K_SPLIT;
    return true;
}

/* ---- layout ----------------------------------------------------------------------- */

bool rt_prep_transpose(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_shape *X = in_shape(w, st, 0);
    int64_t *perm = st->u.tr.perm;
    /* the permutation as the transpose rule reads it */
    int r = ck_transpose_perm(&n->a, X->rank, perm);
    for (int i = 0; i < r && i < CK_MAX_RANK; i++)
        if (perm[i] < 0) perm[i] += X->rank;
    st->u.tr.in = *X;
    st->kind = RT_K_TRANSPOSE;
    return true;
}

bool rt_prep_slice(rt_wctx *w, const ck_node *n, rt_step *st) {
    node_ctx nc;
    node_ctx_init(&nc, w->g, n);
    st->u.slice.in = *in_shape(w, st, 0);
    bool ok = ck_slice_params(&nc.c, &st->u.slice.in, &st->u.slice.out, st->u.slice.start,
                              st->u.slice.step);
    ck_diags_free(&nc.d);
    if (!ok || !ck_shape_eq(&st->u.slice.out, out_shape(w, st, 0))) {
        perr(w, n, CK_UNSUPPORTED, "%s: its starts and ends are not known constants", n->name);
        return false;
    }
    st->kind = RT_K_SLICE;
    return true;
}

bool rt_prep_gather(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_shape *X = in_shape(w, st, 0);
    int64_t ni;
    const int64_t *iv = known_ints(w->g, n, 1, &ni);
    if (!iv) {
        perr(w, n, CK_UNSUPPORTED, "%s: its indices are not known constants", n->name);
        return false;
    }
    int ax = norm_axis(n->a.axis, X->rank);
    int64_t len;
    split_axis(X, ax, &st->u.gather.outer, &len, &st->u.gather.inner);
    st->u.gather.axis_len = len;
    st->u.gather.nidx = ni;
    st->kind = RT_K_GATHER;
    st->u.gather.idx = malloc((size_t)(ni ? ni : 1) * sizeof *st->u.gather.idx);
    if (!st->u.gather.idx) return oom(w);
    for (int64_t i = 0; i < ni; i++) st->u.gather.idx[i] = iv[i] < 0 ? iv[i] + len : iv[i];
    st->kind = RT_K_GATHER;
    return true;
}

bool rt_prep_reduce(rt_wctx *w, const ck_node *n, rt_step *st) {
    const ck_shape *X = in_shape(w, st, 0);
    st->u.reduce.op = n->a.reduce.op;
    st->u.reduce.in = *X;
    if (n->op == CK_OP_TORCH_REDUCE) {
        /* the axes ck_torch_attrs resolved (rt_prep_torch) */
        for (int i = 0; i < n->a.n_axes; i++)
            if (n->a.axes[i] >= 0 && n->a.axes[i] < X->rank) st->u.reduce.red[n->a.axes[i]] = true;
    } else if (absent_in(w->g, n, 1)) {
        for (int i = 0; i < X->rank; i++) st->u.reduce.red[i] = true;
    } else {
        int64_t na;
        const int64_t *av = known_ints(w->g, n, 1, &na);
        if (!av) {
            perr(w, n, CK_UNSUPPORTED, "%s: its axes are not known constants", n->name);
            return false;
        }
        for (int64_t i = 0; i < na; i++) {
            int ax = norm_axis((int)av[i], X->rank);
            if (ax >= 0 && ax < X->rank) st->u.reduce.red[ax] = true;
        }
    }
    if (st->u.reduce.op == CK_REDUCE_LOGSUMEXP) st->scratch = rt_numel(out_shape(w, st, 0));
    st->kind = RT_K_REDUCE;
    return true;
}

/* ConstantOfShape: the fill value everywhere */
bool rt_prep_fill_constant(rt_wctx *w, const ck_node *n, rt_step *st) {
    st->u.fill.count = rt_numel(out_shape(w, st, 0));
    st->u.fill.start = (float)n->a.fill.value;
    st->kind = RT_K_FILL;
    return true;
}

/* Range: start + i * delta */
bool rt_prep_fill_range(rt_wctx *w, const ck_node *n, rt_step *st) {
    st->u.fill.count = rt_numel(out_shape(w, st, 0));
    double s, d;
    int c1, c2;
    if (!known_nums(w->g, n, 0, &s, 1, &c1) || !known_nums(w->g, n, 2, &d, 1, &c2)) {
        perr(w, n, CK_UNSUPPORTED, "%s: start and delta are not known constants", n->name);
        return false;
    }
    st->u.fill.start = (float)s;
    st->u.fill.delta = (float)d;
    st->kind = RT_K_FILL;
    return true;
}

/* ---- dispatch --------------------------------------------------------------------- */

static bool no_kernel(rt_wctx *w, const ck_node *n) {
    perr(w, n, CK_UNSUPPORTED_OP, "%s: convkit has no kernel for the %s layer '%s' (op %s)",
         n->name, ck_dialect_name(n->a.dialect), n->type, ck_op_name(n->op));
    return false;
}

bool rt_prep_none(rt_wctx *w, const ck_node *n, rt_step *st) {
    (void)st;
    return no_kernel(w, n);
}

/* A PyTorch functional call (getitem, F.pad, permute, transpose,
 * mean/sum/amax/amin) runs as the op it wraps, with the sizes its arguments name resolved by
 * the rule check used (ck_torch_attrs). */
bool rt_prep_torch(rt_wctx *w, const ck_node *n, rt_step *st) {
    node_ctx nc;
    node_ctx_init(&nc, w->g, n);
    ck_node m = *n;
    bool ok;
    if (n->op == CK_OP_TORCH_GETITEM) {
        /* x[...]: a slice whose dropped axes stay as size 1 */
        st->u.slice.in = *in_shape(w, st, 0);
        ok = ck_getitem_slice(&nc.c, &st->u.slice.out, st->u.slice.start, st->u.slice.step) &&
             rt_numel(&st->u.slice.out) == rt_numel(out_shape(w, st, 0));
        ck_diags_free(&nc.d);
        if (!ok) {
            perr(w, n, CK_UNSUPPORTED, "%s: its indices are not known", n->name);
            return false;
        }
        st->kind = RT_K_SLICE;
        return true;
    }
    ok = ck_torch_attrs(&nc.c, &m.a);
    ck_diags_free(&nc.d);
    if (!ok) {
        perr(w, n, CK_UNSUPPORTED, "%s: the sizes its arguments name are not known", n->name);
        return false;
    }
    switch (n->op) {
    case CK_OP_TORCH_PAD:
        m.op = CK_OP_PAD;
        return rt_prep_pad(w, &m, st);
    case CK_OP_TORCH_PERMUTE:
    case CK_OP_TORCH_TRANSPOSE:
        m.op = CK_OP_TRANSPOSE;
        return rt_prep_transpose(w, &m, st);
    case CK_OP_TORCH_REDUCE:
        return rt_prep_reduce(w, &m, st);
    default:
        return no_kernel(w, n);
    }
}

/* A view reaches its builder only when its input holds no data to share. */
bool rt_prep_view(rt_wctx *w, const ck_node *n, rt_step *st) {
    (void)st;
    return no_kernel(w, n);
}

bool rt_prep_conv(rt_wctx *w, const ck_node *n, rt_step *st) {
    if (!build_conv(w, n, st)) return false;
    bool fast = rt_fastconv_plan(w->s, st, w->s->isa, w->s->threads);
    if (st->w0raw && (!fast || st->u.conv.fc.depthwise)) {
        /* the reference kernel reads decoded floats (build_conv checked the
         * count: the tensor's own) */
        bool failed = false;
        int64_t want = 0;
        ck_shape_numel(&w->g->tensors[n->params[0]].shape, &want);
        st->w0raw = NULL;
        st->w[0] = onnx_weight(w, n, 0, want, "weight W", false, &failed);
        if (failed) return false;
    }
    return true;
}

bool rt_prep_linear(rt_wctx *w, const ck_node *n, rt_step *st) {
    if (!prep_linear(w, n, st)) return false;
    rt_fastlinear_plan(w->s, st, w->s->isa);
    return true;
}

typedef bool (*rt_builder)(rt_wctx *w, const ck_node *n, rt_step *st);

static const rt_builder builders[CK_OP_COUNT] = {
#define CK_OP(id, stem, name, rf, prep, flags) [CK_OP_##id] = rt_prep_##prep,
#include "ops/ops.def"
#undef CK_OP
};

static const rt_kernel kernels[RT_K_COUNT] = {
#define RT_K_KERNEL(kind, kernel) [RT_K_##kind] = kernel,
    RT_KINDS(RT_K_KERNEL)
#undef RT_K_KERNEL
};

bool rt_prepare(rt_wctx *w, const ck_node *n, rt_step *st) {
    if ((unsigned)n->op >= CK_OP_COUNT) return no_kernel(w, n);
    if (!builders[n->op](w, n, st)) return false;
    if (st->kind <= RT_K_NONE || st->kind >= RT_K_COUNT) return no_kernel(w, n);
    st->fn = kernels[st->kind];
    /* an elementwise op writes over its input when the planner lets it */
    st->inplace = (ck_op_flags(n->op) & CK_OPF_INPLACE) && st->n_in > 0 &&
                  ck_shape_eq(in_shape(w, st, 0), out_shape(w, st, 0)) &&
                  !(n->a.has_scalar && n->a.scalar_first); /* the number is written first */
    return true;
}

bool rt_node_is_view(const ck_graph *g, const ck_node *n) {
    if (ck_op_flags(n->op) & CK_OPF_VIEW) return true;
    /* ReduceX with no axes and noop_with_empty_axes */
    return n->op == CK_OP_ONNX_REDUCE && n->a.reduce.noop_with_empty_axes && absent_in(g, n, 1);
}

int rt_node_data_inputs(const ck_node *n) {
    unsigned f = ck_op_flags(n->op);
    if (f & CK_OPF_NO_DATA) return 0;
    if (f & CK_OPF_DATA1) return n->n_in < 1 ? n->n_in : 1;
    if (f & CK_OPF_DATA2) return n->n_in < 2 ? n->n_in : 2;
    return n->n_in;
}

void rt_step_free(rt_step *st) {
    free(st->in);
    free(st->out);
    if (st->kind == RT_K_CONV) padmap_free(&st->u.conv.pad);
    if (st->kind == RT_K_PAD) padmap_free(&st->u.pad);
    if (st->kind == RT_K_RESIZE)
        for (int i = 0; i < 3; i++) {
            free(st->u.resize.ax[i].idx);
            free(st->u.resize.ax[i].wt);
        }
    if (st->kind == RT_K_BINARY || st->kind == RT_K_WHERE) free(st->u.bin.strides);
    if (st->kind == RT_K_CONCAT || st->kind == RT_K_SPLIT) free(st->u.cat.parts);
    if (st->kind == RT_K_GATHER) free(st->u.gather.idx);
    if (st->kind == RT_K_SCATTER) free(st->u.scatter.off);
    for (int i = 0; i < 4; i++) free(st->own[i]);
    memset(st, 0, sizeof *st);
}
