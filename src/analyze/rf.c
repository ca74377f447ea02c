/* Receptive fields (Araujo, Norris & Sim, Distill 2019) as one pass over a
 * checked graph. Every value carries, per spatial axis of the network input,
 * the tensor axis that holds it and its paths (size r, jump j, start). Window
 * parameters come from the canonical attributes and pads from
 * ck_resolve_pads; input and output sizes come from the checked shapes, so no
 * output-size formula is repeated here. Each op's rule is the rf column of
 * its registry line (src/ops/ops.def): an op cannot be left without one. */
#include "graph/graph.h"
#include "ops/onnx_shape_ops.h"
#include "ops/ops.h"

#include <math.h>
#include <string.h>

typedef struct rf_ax {
    ck_rf_kind kind;
    int ax; /* tensor axis that carries this input axis; -1 when it was merged away */
    bool more;
    int n;
    ck_rf_path *p;
} rf_ax;

typedef struct rf_val {
    rf_ax a[CK_RF_MAX_AXES];
} rf_val;

struct ck_rf_table {
    const ck_graph *g;
    int nsp;
    rf_val *v; /* one per graph value */
    bool oom;
};

/* ---- paths ------------------------------------------------------------- */

static bool near(double a, double b) {
    double m = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= 1e-9 * m;
}

static void ax_clear(rf_ax *x) {
    free(x->p);
    *x = (rf_ax){.kind = CK_RF_NONE, .ax = -1};
}

static void ax_set(rf_ax *x, ck_rf_kind kind) {
    int ax = x->ax;
    ax_clear(x);
    x->kind = kind;
    x->ax = ax;
}

/* Adds a path; one with the same jump and start (an aligned path) merges,
 * keeping the larger size. */
static void ax_add(ck_rf_table *t, rf_ax *x, const ck_rf_path *p) {
    for (int i = 0; i < x->n; i++) {
        ck_rf_path *q = &x->p[i];
        if (q->input == p->input && near(q->jump, p->jump) && near(q->start, p->start)) {
            if (p->size > q->size) q->size = p->size;
            return;
        }
    }
    if (x->n == CK_RF_MAX_PATHS) {
        x->more = true;
        return;
    }
    ck_rf_path *np = realloc(x->p, (size_t)(x->n + 1) * sizeof *np);
    if (!np) {
        t->oom = true;
        return;
    }
    x->p = np;
    x->p[x->n++] = *p;
}

static void ax_copy(ck_rf_table *t, rf_ax *dst, const rf_ax *src) {
    ax_clear(dst);
    dst->kind = src->kind;
    dst->ax = src->ax;
    dst->more = src->more;
    for (int i = 0; i < src->n; i++) ax_add(t, dst, &src->p[i]);
}

static void val_copy(ck_rf_table *t, rf_val *dst, const rf_val *src) {
    for (int q = 0; q < CK_RF_MAX_AXES; q++) ax_copy(t, &dst->a[q], &src->a[q]);
}

static void val_set(rf_val *v, ck_rf_kind kind) {
    for (int q = 0; q < CK_RF_MAX_AXES; q++) {
        ax_clear(&v->a[q]);
        v->a[q].kind = kind;
    }
}

static bool has_data(const ck_rf_table *t, const rf_val *v) {
    for (int q = 0; q < t->nsp; q++)
        if (v->a[q].kind != CK_RF_NONE) return true;
    return false;
}

/* The network axis held by tensor axis `tx`, or -1. */
static int net_axis(const ck_rf_table *t, const rf_val *v, int tx) {
    for (int q = 0; q < t->nsp; q++)
        if (v->a[q].ax == tx && v->a[q].kind != CK_RF_NONE) return q;
    return -1;
}

/* Every element now sees the whole input along this axis. */
static void make_global(rf_ax *x) {
    if (x->kind == CK_RF_LOCAL) ax_set(x, CK_RF_GLOBAL);
}

/* ---- per-op rules ------------------------------------------------------- */

static const ck_shape *in_shape(const ck_rf_table *t, const ck_node *n, int k) {
    return &t->g->vals[n->in[k]].shape;
}
static const ck_shape *out_shape(const ck_rf_table *t, const ck_node *n, int k) {
    return &t->g->vals[n->out[k]].shape;
}

/* A window of extent `ext` with stride s and front padding pb (Araujo eq. 1-3):
 * r += (ext-1)*j, start += ((ext-1)/2 - pb)*j, j *= s. */
static void window_paths(rf_ax *x, int64_t ext, double s, double pb) {
    for (int i = 0; i < x->n; i++) {
        ck_rf_path *p = &x->p[i];
        p->size += ((double)ext - 1.0) * p->jump;
        p->start += (((double)ext - 1.0) / 2.0 - pb) * p->jump;
        p->jump *= s;
    }
}

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Convolution, pooling windows, transposed convolution. */
static void rule_window(ck_rf_table *t, const ck_node *n, rf_val *o, bool transposed,
                        bool mixes_channels) {
    const ck_attrs *a = &n->a;
    const ck_shape *x = in_shape(t, n, 0);
    int nsp = a->nsp;
    for (int i = 0; i < nsp; i++) {
        int tx = ck_spatial_axis(a, x->rank, nsp, i);
        int q = net_axis(t, o, tx);
        if (q < 0 || o->a[q].kind != CK_RF_LOCAL) continue;
        rf_ax *ax = &o->a[q];
        int64_t k = a->kernel[i], s = a->stride[i], d = a->dilation[i], ext, pb, pe;
        if (s <= 0 || !ck_window_extent(k, d, &ext)) {
            ax_set(ax, CK_RF_UNKNOWN);
            continue;
        }
        if (!transposed) {
            if (!ck_resolve_pads(a, i, x->d[tx], &pb, &pe)) {
                ax_set(ax, CK_RF_UNKNOWN);
                continue;
            }
            window_paths(ax, ext, (double)s, (double)pb);
            continue;
        }
        /* Equivalent to a stride-1 convolution over the input with s-1 zeros
         * between pixels: jump j/s, and output o's window centre lies at
         * (o + pb - (ext-1)/2) / s input pixels. Of its k taps those that
         * land on real pixels are s/gcd(s,d) taps apart, so the widest span
         * of real input pixels is floor((k-1)*g/s) * d/g. */
        int64_t pe_unused;
        if (!ck_tconv_pads(a, i, x->d[tx], &pb, &pe_unused)) {
            ax_set(ax, CK_RF_UNKNOWN);
            continue;
        }
        int64_t g = gcd64(d, s), span;
        if (d <= 0 || !ck_sub(k, 1, &span) || !ck_mul(span, g, &span) ||
            !ck_mul(span / s, d / g, &span)) {
            ax_set(ax, CK_RF_UNKNOWN);
            continue;
        }
        for (int p = 0; p < ax->n; p++) {
            ck_rf_path *pp = &ax->p[p];
            pp->size += (double)span * pp->jump;
            pp->jump /= (double)s;
            pp->start += ((double)pb - ((double)ext - 1.0) / 2.0) * pp->jump;
        }
    }
    if (mixes_channels) {
        /* an input axis that a transpose moved onto the channels is summed over */
        int cax = ck_channel_axis(a, x->rank, nsp);
        int64_t C = x->d[cax];
        bool depthwise = a->groups == 0 || a->groups == C;
        int q = net_axis(t, o, cax);
        if (q >= 0 && C > 1 && !depthwise) make_global(&o->a[q]);
    }
}

static void rule_global_pool(ck_rf_table *t, const ck_node *n, rf_val *o) {
    const ck_shape *x = in_shape(t, n, 0);
    ck_attrs a = n->a;
    a.nsp = a.nsp ? a.nsp : x->rank - 2;
    for (int i = 0; i < a.nsp; i++) {
        int q = net_axis(t, o, ck_spatial_axis(&a, x->rank, a.nsp, i));
        if (q >= 0) make_global(&o->a[q]);
    }
    if (!a.keepdims)
        for (int q = 0; q < t->nsp; q++) o->a[q].ax = -1;
}

/* Bins of PyTorch adaptive pooling: [floor(i*in/out), ceil((i+1)*in/out)).
 * With in = q*out + r, bin i is q + ceil(frac(i*in/out) + r/out) wide; the
 * largest fraction is (out - g)/out, g = gcd(in, out), so the widest bin is
 * q (r = 0), q + 1 (r = g) or q + 2. */
static int64_t widest_bin(int64_t in, int64_t out) {
    if (out <= 0 || in <= 0) return 0;
    int64_t q = in / out, r = in % out;
    return r == 0 ? q : ck_sat_add(q, r == gcd64(in, out) ? 1 : 2);
}

/* Adaptive pooling and area resizing: bins of about in/out pixels. */
static void bins_paths(rf_ax *x, int64_t in, int64_t out) {
    if (out == 1 && in > 1) {
        make_global(x);
        return;
    }
    int64_t w = widest_bin(in, out);
    if (w <= 0) {
        ax_set(x, CK_RF_UNKNOWN);
        return;
    }
    double ratio = (double)in / (double)out;
    for (int i = 0; i < x->n; i++) {
        ck_rf_path *p = &x->p[i];
        p->size += ((double)w - 1.0) * p->jump;
        p->start += (ratio / 2.0 - 0.5) * p->jump;
        p->jump *= ratio;
    }
}

static void rule_adaptive(ck_rf_table *t, const ck_node *n, rf_val *o) {
    const ck_attrs *a = &n->a;
    const ck_shape *x = in_shape(t, n, 0), *y = out_shape(t, n, 0);
    for (int i = 0; i < a->nsp; i++) {
        int tx = ck_spatial_axis(a, x->rank, a->nsp, i);
        int q = net_axis(t, o, tx);
        if (q >= 0 && o->a[q].kind == CK_RF_LOCAL) bins_paths(&o->a[q], x->d[tx], y->d[tx]);
    }
}

/* Resize: output pixel o samples input coordinate c(o) (the coordinate
 * transformation mode) with 1, 2 or 4 taps per axis. */
static void rule_resize(ck_rf_table *t, const ck_node *n, rf_val *o) {
    const ck_shape *x = in_shape(t, n, 0), *y = out_shape(t, n, 0);
    ck_attrs a = n->a;
    a.nsp = y->rank - 2;
    for (int i = 0; i < a.nsp && i < CK_MAX_SP; i++) {
        int tx = ck_spatial_axis(&a, x->rank, a.nsp, i);
        int q = net_axis(t, o, tx);
        if (q < 0 || o->a[q].kind != CK_RF_LOCAL) continue;
        rf_ax *ax = &o->a[q];
        int64_t in = x->d[tx], out = y->d[tx];
        if (in == out) continue;
        if (a.interp == CK_INTERP_AREA) {
            bins_paths(ax, in, out);
            continue;
        }
        int taps = a.interp == CK_INTERP_LINEAR ? 2 : a.interp == CK_INTERP_CUBIC ? 4 : 1;
        double ratio = (double)in / (double)out, off;
        switch (a.coord) {
        case CK_COORD_HALF_PIXEL:
        case CK_COORD_PYTORCH_HALF_PIXEL:
            off = ratio / 2.0 - 0.5; /* c(o) = (o + 0.5) * in/out - 0.5 */
            break;
        case CK_COORD_TF_HALF_PIXEL_FOR_NN:
            off = ratio / 2.0; /* c(o) = (o + 0.5) * in/out */
            break;
        case CK_COORD_ALIGN_CORNERS: /* c(o) = o * (in-1)/(out-1) */
            ratio = out > 1 ? ((double)in - 1.0) / ((double)out - 1.0) : 0.0;
            off = 0.0;
            break;
        case CK_COORD_ASYMMETRIC:
            off = 0.0; /* c(o) = o * in/out */
            break;
        default: /* tf_crop_and_resize samples a region given at run time */
            ax_set(ax, CK_RF_UNKNOWN);
            continue;
        }
        for (int p = 0; p < ax->n; p++) {
            ck_rf_path *pp = &ax->p[p];
            pp->size += ((double)taps - 1.0) * pp->jump;
            pp->start += off * pp->jump;
            pp->jump *= ratio;
        }
    }
}

/* Known integer contents of a value (ONNX pads, axes), or NULL. */
static const int64_t *known_ints(const ck_graph *g, int vi, int64_t *n) {
    const ck_val *v = &g->vals[vi];
    if (v->kval) {
        *n = v->nkval;
        return v->kval;
    }
    if (v->tensor >= 0) {
        const ck_tensor *tt = &g->tensors[v->tensor];
        if (tt->i64 && ck_shape_numel(&tt->shape, n)) return tt->i64;
    }
    return NULL;
}

static bool absent(const ck_graph *g, const ck_node *n, int k) {
    return k >= n->n_in || strcmp(g->vals[n->in[k]].name, CK_ONNX_ABSENT) == 0;
}

/* The entries of a PyTorch functional argument (view's shape, pad's pads,
 * permute's dims) as the check read them: references replaced by the
 * referenced values' contents. False when one is not known. */
static bool dyn_ints(const ck_graph *g, const ck_node *n, const ck_dynlist *dl, int64_t *out,
                     int max, int *cnt) {
    int k = 0;
    for (int i = 0; i < dl->n; i++) {
        if (dl->ref[i] == 0) {
            if (k >= max) return false;
            out[k++] = dl->lit[i];
            continue;
        }
        int in = dl->ref[i] - 1;
        int64_t c;
        const int64_t *v = in < n->n_in ? known_ints(g, n->in[in], &c) : NULL;
        if (!v) return false;
        for (int64_t j = 0; j < c; j++) {
            if (k >= max) return false;
            out[k++] = v[j];
        }
    }
    *cnt = k;
    return true;
}

/* Every axis that still follows the input becomes unknown. */
static void all_unknown(const ck_rf_table *t, rf_val *o) {
    for (int q = 0; q < t->nsp; q++)
        if (o->a[q].kind == CK_RF_LOCAL) ax_set(&o->a[q], CK_RF_UNKNOWN);
}

/* Padding moves element 0 by pb pixels of its input; cropping (sign -1)
 * the other way. */
static void shift_axis(rf_ax *x, int64_t pb, int sign) {
    if (x->kind != CK_RF_LOCAL) return;
    for (int i = 0; i < x->n; i++) x->p[i].start -= (double)sign * (double)pb * x->p[i].jump;
}

/* Merges operand path sets into one axis state. */
static void merge(ck_rf_table *t, rf_ax *res, const rf_ax *x, int oax) {
    if (x->kind == CK_RF_NONE || res->kind == CK_RF_UNKNOWN) return;
    if (x->kind == CK_RF_UNKNOWN) {
        ax_set(res, CK_RF_UNKNOWN);
        return;
    }
    if (res->kind == CK_RF_NONE) {
        ax_copy(t, res, x);
        res->ax = oax;
        return;
    }
    if (res->ax >= 0 && oax >= 0 &&
        res->ax != oax) { /* one operand's height meets another's width */
        ax_set(res, CK_RF_UNKNOWN);
        return;
    }
    if (res->ax < 0) res->ax = oax;
    if (x->kind == CK_RF_GLOBAL || res->kind == CK_RF_GLOBAL) {
        ax_set(res, CK_RF_GLOBAL);
        return;
    }
    res->more |= x->more;
    for (int i = 0; i < x->n; i++) ax_add(t, res, &x->p[i]);
}

/* Elementwise ops and concatenation: each output element reads the same
 * position of every operand (trailing axes aligned, as broadcasting does).
 * cat_axis >= 0: the axis concatenated along. */
static void join_operands(ck_rf_table *t, const ck_node *n, rf_val *o, int cat_axis) {
    const ck_graph *g = t->g;
    const ck_shape *y = out_shape(t, n, 0);
    for (int q = 0; q < t->nsp; q++) {
        rf_ax res = {.kind = CK_RF_NONE, .ax = -1};
        for (int k = 0; k < n->n_in; k++) {
            const rf_ax *x = &t->v[n->in[k]].a[q];
            if (x->kind == CK_RF_NONE) continue;
            const ck_shape *xs = &g->vals[n->in[k]].shape;
            int oax = x->ax >= 0 ? x->ax + (y->rank - xs->rank) : -1;
            if (oax >= y->rank) oax = -1;
            rf_ax tmp = {.kind = x->kind, .ax = x->ax, .more = x->more, .n = x->n, .p = x->p};
            if (oax >= 0 && x->kind == CK_RF_LOCAL &&
                ((xs->d[x->ax] == 1 && y->d[oax] > 1) || oax == cat_axis)) {
                /* one pixel broadcast over the axis, or operands placed side by
                 * side along it: the output grid is no longer the operand's */
                tmp = (rf_ax){.kind = CK_RF_UNKNOWN, .ax = oax};
            }
            merge(t, &res, &tmp, oax);
        }
        ax_clear(&o->a[q]);
        o->a[q] = res;
    }
}

/* The rules that follow input 0 start from its paths; data that arrives
 * only through another operand is not modelled. False: o is unknown. */
static bool from_input(ck_rf_table *t, const ck_node *n, rf_val *o) {
    const rf_val *x = &t->v[n->in[0]];
    if (!has_data(t, x)) {
        val_set(o, CK_RF_UNKNOWN);
        return false;
    }
    val_copy(t, o, x);
    return true;
}

/* Axis tx of the input moves to where the permutation puts it. */
static void permute_axes(const ck_rf_table *t, rf_val *o, int r, const int64_t *perm) {
    for (int q = 0; q < t->nsp; q++) {
        rf_ax *x = &o->a[q];
        if (x->ax < 0) continue;
        int u = -1;
        for (int k = 0; k < r; k++) {
            int64_t from = perm[k] < 0 ? perm[k] + r : perm[k];
            if (from == x->ax) u = k;
        }
        x->ax = u;
        if (u < 0 && x->kind == CK_RF_LOCAL) ax_set(x, CK_RF_UNKNOWN);
    }
}

/* Reduced axes become global (or go away without keepdims). */
static void reduce_axes(const ck_rf_table *t, const ck_node *n, rf_val *o, const bool *red,
                        bool keepdims) {
    const ck_shape *x = in_shape(t, n, 0);
    for (int q = 0; q < t->nsp; q++) {
        rf_ax *a = &o->a[q];
        if (a->ax < 0) continue;
        int tx = a->ax, before = 0;
        for (int i = 0; i < tx; i++) before += red[i];
        if (red[tx] && x->d[tx] > 1) make_global(a);
        a->ax = red[tx] && !keepdims ? -1 : keepdims ? tx : tx - before;
    }
}

/* ---- the rules of the registry's rf column (src/ops/ops.def) -------------- */

/* Shape arithmetic: no data flows through (never called: CK_OPF_NO_DATA). */
static void rf_none(ck_rf_table *t, const ck_node *n, rf_val *o) {
    (void)t, (void)n, (void)o;
}

/* An op whose spatial mapping is not modelled. */
static void rf_unknown(ck_rf_table *t, const ck_node *n, rf_val *o) {
    (void)n;
    (void)t;
    val_set(o, CK_RF_UNKNOWN);
}

/* Elementwise ops, norms, identity, cast. */
static void rf_join(ck_rf_table *t, const ck_node *n, rf_val *o) {
    join_operands(t, n, o, -1);
}

static void rf_concat(ck_rf_table *t, const ck_node *n, rf_val *o) {
    int r = out_shape(t, n, 0)->rank;
    join_operands(t, n, o, n->a.axis < 0 ? n->a.axis + r : n->a.axis);
}

/* PReLU slopes arrive as constant operands; softmax sees its whole axis. */
static void rf_activation(ck_rf_table *t, const ck_node *n, rf_val *o) {
    join_operands(t, n, o, -1);
    if (n->a.act != CK_ACT_SOFTMAX && n->a.act != CK_ACT_LOG_SOFTMAX) return;
    int r = in_shape(t, n, 0)->rank, axis = ck_softmax_axis(&n->a, r);
    if (axis < 0 || axis >= r) return;
    int q = net_axis(t, o, axis);
    if (q >= 0 && in_shape(t, n, 0)->d[axis] > 1) make_global(&o->a[q]);
}

static void rf_window(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (from_input(t, n, o)) rule_window(t, n, o, false, true);
}

static void rf_tconv(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (from_input(t, n, o)) rule_window(t, n, o, true, true);
}

static void rf_pool(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (from_input(t, n, o)) rule_window(t, n, o, false, false);
}

static void rf_global_pool(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (from_input(t, n, o)) rule_global_pool(t, n, o);
}

static void rf_adaptive(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (from_input(t, n, o)) rule_adaptive(t, n, o);
}

static void rf_resize(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (from_input(t, n, o)) rule_resize(t, n, o);
}

/* Explicit pads (sign 1) or crops (sign -1) of the layer's spatial axes. */
static void pad_attrs(ck_rf_table *t, const ck_node *n, rf_val *o, int sign) {
    const ck_attrs *a = &n->a;
    const ck_shape *x = in_shape(t, n, 0);
    for (int i = 0; i < a->nsp; i++) {
        int q = net_axis(t, o, ck_spatial_axis(a, x->rank, a->nsp, i));
        if (q >= 0) shift_axis(&o->a[q], a->pad_begin[i], sign);
    }
}

static void rf_pad(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (from_input(t, n, o)) pad_attrs(t, n, o, 1);
}

static void rf_crop(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (from_input(t, n, o)) pad_attrs(t, n, o, -1);
}

/* ONNX Pad: pads (and axes) are inputs, [begin per axis..., end per axis...] */
static void rf_onnx_pad(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (!from_input(t, n, o)) return;
    const ck_graph *g = t->g;
    const ck_shape *x = in_shape(t, n, 0);
    int64_t np = 0, na = x->rank;
    const int64_t *pads = absent(g, n, 1) ? NULL : known_ints(g, n->in[1], &np);
    const int64_t *axes = NULL;
    if (!absent(g, n, 3)) {
        axes = known_ints(g, n->in[3], &na);
        if (!axes) pads = NULL;
    }
    if (!pads || np % 2 || np / 2 != na) {
        all_unknown(t, o);
        return;
    }
    for (int64_t i = 0; i < na; i++) {
        int64_t tx = axes ? axes[i] : i;
        if (tx < 0) tx += x->rank;
        int q = tx >= 0 && tx < x->rank ? net_axis(t, o, (int)tx) : -1;
        if (q >= 0) shift_axis(&o->a[q], pads[i], 1);
    }
}

/* F.pad: (begin, end) pairs from the last axis backwards. */
static void rf_torch_pad(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (!from_input(t, n, o)) return;
    const ck_shape *x = in_shape(t, n, 0);
    int64_t v[2 * CK_MAX_RANK];
    int cnt = 0;
    if (!dyn_ints(t->g, n, &n->a.dyn, v, 2 * CK_MAX_RANK, &cnt) || cnt % 2 || cnt / 2 > x->rank) {
        all_unknown(t, o);
        return;
    }
    for (int j = 0; j < cnt / 2; j++) {
        int q = net_axis(t, o, x->rank - 1 - j);
        if (q >= 0) shift_axis(&o->a[q], v[2 * j], 1);
    }
}

/* Reshape-like ops keep an axis when the elements before it and its size are
 * unchanged. A spatial axis merged into a feature vector (rank <= 2) is seen
 * whole by what follows; any other regrouping is not modelled. */
static void rf_reshape(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (!from_input(t, n, o)) return;
    const ck_shape *x = in_shape(t, n, 0), *y = out_shape(t, n, 0);
    int64_t px[CK_MAX_RANK + 1], py[CK_MAX_RANK + 1];
    bool ok = true;
    px[0] = py[0] = 1;
    for (int i = 0; i < x->rank; i++) ok &= ck_mul(px[i], x->d[i], &px[i + 1]);
    for (int i = 0; i < y->rank; i++) ok &= ck_mul(py[i], y->d[i], &py[i + 1]);
    for (int q = 0; q < t->nsp; q++) {
        rf_ax *a = &o->a[q];
        if (a->kind == CK_RF_NONE || a->ax < 0) continue;
        int tx = a->ax, u = -1;
        for (int k = 0; ok && k < y->rank && u < 0; k++)
            if (py[k] == px[tx] && y->d[k] == x->d[tx]) u = k;
        if (x->d[tx] == 1) /* a single position: no grid left to follow */
            a->ax = -1;
        else if (u >= 0)
            a->ax = u;
        else if (y->rank <= 2) {
            make_global(a);
            a->ax = -1;
        } else
            ax_set(a, CK_RF_UNKNOWN);
    }
}

static void rf_transpose(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (!from_input(t, n, o)) return;
    int r = in_shape(t, n, 0)->rank;
    int64_t perm[CK_MAX_RANK];
    if (ck_transpose_perm(&n->a, r, perm) != r)
        all_unknown(t, o);
    else
        permute_axes(t, o, r, perm);
}

/* permute(x, dims): dims as the check read them */
static void rf_torch_permute(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (!from_input(t, n, o)) return;
    int r = in_shape(t, n, 0)->rank, cnt = 0;
    int64_t perm[CK_MAX_RANK];
    if (!dyn_ints(t->g, n, &n->a.dyn, perm, CK_MAX_RANK, &cnt) || cnt != r)
        all_unknown(t, o);
    else
        permute_axes(t, o, r, perm);
}

/* transpose(x, dim0, dim1): the two axes swap */
static void rf_torch_transpose(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (!from_input(t, n, o)) return;
    int r = in_shape(t, n, 0)->rank, cnt = 0;
    int64_t d[2], perm[CK_MAX_RANK];
    if (!dyn_ints(t->g, n, &n->a.dyn, d, 2, &cnt) || cnt != 2 || r < 1) {
        all_unknown(t, o);
        return;
    }
    for (int i = 0; i < r; i++) perm[i] = i;
    int64_t d0 = d[0] < 0 ? d[0] + r : d[0], d1 = d[1] < 0 ? d[1] + r : d[1];
    if (d0 < 0 || d0 >= r || d1 < 0 || d1 >= r) {
        all_unknown(t, o);
        return;
    }
    perm[d0] = d1;
    perm[d1] = d0;
    permute_axes(t, o, r, perm);
}

/* Linear sums over the last axis. */
static void rf_last_axis(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (!from_input(t, n, o)) return;
    const ck_shape *x = in_shape(t, n, 0);
    int last = x->rank - 1;
    int q = net_axis(t, o, last);
    if (q < 0) return;
    if (x->d[last] > 1) make_global(&o->a[q]);
    o->a[q].ax = -1; /* the axis now holds features */
}

/* MatMul by a constant is a linear layer; by data, not modelled. */
static void rf_matmul(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (n->n_in > 1 && has_data(t, &t->v[n->in[1]])) {
        if (from_input(t, n, o)) val_set(o, CK_RF_UNKNOWN);
        return;
    }
    rf_last_axis(t, n, o);
}

/* ONNX Reduce*: axes from input 1 (none: every axis, or nothing with
 * noop_with_empty_axes) */
static void rf_onnx_reduce(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (!from_input(t, n, o)) return;
    const ck_graph *g = t->g;
    const ck_shape *x = in_shape(t, n, 0);
    bool red[CK_MAX_RANK] = {0};
    if (absent(g, n, 1)) {
        if (n->a.reduce.noop_with_empty_axes) return;
        for (int i = 0; i < x->rank; i++) red[i] = true;
    } else {
        int64_t na;
        const int64_t *axes = known_ints(g, n->in[1], &na);
        if (!axes) {
            val_set(o, CK_RF_UNKNOWN);
            return;
        }
        for (int64_t i = 0; i < na; i++) {
            int64_t ax = axes[i] < 0 ? axes[i] + x->rank : axes[i];
            if (ax >= 0 && ax < x->rank) red[ax] = true;
        }
    }
    reduce_axes(t, n, o, red, n->a.keepdims);
}

/* mean/sum/amax/amin over dims (none: every axis) */
static void rf_torch_reduce(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (!from_input(t, n, o)) return;
    const ck_shape *x = in_shape(t, n, 0);
    bool red[CK_MAX_RANK] = {0};
    int64_t v[CK_MAX_RANK];
    int cnt = 0;
    if (!n->a.dyn.given) {
        for (int i = 0; i < x->rank; i++) red[i] = true;
    } else if (!dyn_ints(t->g, n, &n->a.dyn, v, CK_MAX_RANK, &cnt)) {
        val_set(o, CK_RF_UNKNOWN);
        return;
    }
    for (int i = 0; i < cnt; i++) {
        int64_t ax = v[i] < 0 ? v[i] + x->rank : v[i];
        if (ax >= 0 && ax < x->rank) red[ax] = true;
    }
    reduce_axes(t, n, o, red, n->a.keepdims);
}

/* Slice, Split, Gather: an axis they leave as it was passes through. */
static void same_size(ck_rf_table *t, const ck_node *n, int k, rf_val *o) {
    const ck_shape *x = in_shape(t, n, 0), *y = out_shape(t, n, k);
    for (int q = 0; q < t->nsp; q++) {
        rf_ax *a = &o->a[q];
        if (a->kind == CK_RF_NONE || a->ax < 0) continue;
        if (y->rank != x->rank || y->d[a->ax] != x->d[a->ax]) ax_set(a, CK_RF_UNKNOWN);
    }
}

static void rf_same_size(ck_rf_table *t, const ck_node *n, rf_val *o) {
    if (from_input(t, n, o)) same_size(t, n, 0, o);
}

typedef void (*rf_rule)(ck_rf_table *t, const ck_node *n, rf_val *o);

static const rf_rule rules[CK_OP_COUNT] = {
#define CK_OP(id, stem, name, rf, prep, flags) [CK_OP_##id] = rf_##rf,
#include "ops/ops.def"
#undef CK_OP
};

static void rf_node(ck_rf_table *t, const ck_node *n) {
    const ck_graph *g = t->g;
    bool data = false;
    for (int k = 0; k < n->n_in; k++) data |= has_data(t, &t->v[n->in[k]]);
    bool ok = n->state == CK_LAYER_OK;
    for (int k = 0; k < n->n_out; k++) ok &= g->vals[n->out[k]].state == CK_VAL_OK;
    for (int k = 0; k < n->n_in; k++) ok &= g->vals[n->in[k]].state == CK_VAL_OK;
    if (!data || (ck_op_flags(n->op) & CK_OPF_NO_DATA)) return;
    if (!ok || n->n_out == 0 || (unsigned)n->op >= CK_OP_COUNT) {
        for (int k = 0; k < n->n_out; k++) val_set(&t->v[n->out[k]], CK_RF_UNKNOWN);
        return;
    }
    rules[n->op](t, n, &t->v[n->out[0]]);
    /* the other outputs: pieces of input 0 (split, chunk), else not modelled */
    bool pieces = ck_op_flags(n->op) & CK_OPF_PIECES;
    for (int k = 1; k < n->n_out; k++) {
        rf_val *ok_ = &t->v[n->out[k]];
        if (pieces && from_input(t, n, ok_))
            same_size(t, n, k, ok_);
        else
            val_set(ok_, CK_RF_UNKNOWN);
    }
}

/* ---- the pass ------------------------------------------------------------ */

void ck_rf_table_free(ck_rf_table *t) {
    if (!t) return;
    if (t->v)
        for (int i = 0; i < t->g->n_vals; i++)
            for (int q = 0; q < CK_RF_MAX_AXES; q++) free(t->v[i].a[q].p);
    free(t->v);
    free(t);
}

ck_status ck_rf_analyze(const ck_graph *g, ck_rf_table **out) {
    if (!out) return CK_EUSAGE;
    *out = NULL;
    if (!g) return CK_EUSAGE;
    ck_rf_table *t = calloc(1, sizeof *t);
    if (!t) return CK_ENOMEM;
    t->g = g;
    t->v = calloc((size_t)(g->n_vals ? g->n_vals : 1), sizeof *t->v);
    if (!t->v) {
        free(t);
        return CK_ENOMEM;
    }
    for (int i = 0; i < g->n_vals; i++)
        for (int q = 0; q < CK_RF_MAX_AXES; q++) t->v[i].a[q].ax = -1;
    /* the network's spatial axes: all but batch and channels of each input */
    for (int i = 0; i < g->n_inputs; i++) {
        const ck_val *v = &g->vals[g->inputs[i]];
        int nsp = v->state == CK_VAL_OK ? v->shape.rank - 2 : 0;
        if (nsp > CK_RF_MAX_AXES) nsp = CK_RF_MAX_AXES;
        if (nsp > t->nsp) t->nsp = nsp;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const ck_val *v = &g->vals[g->inputs[i]];
        rf_val *rv = &t->v[g->inputs[i]];
        int nsp = v->state == CK_VAL_OK ? v->shape.rank - 2 : 0;
        if (nsp > CK_RF_MAX_AXES) nsp = CK_RF_MAX_AXES;
        ck_attrs a = {.channels_last = v->channels_last};
        for (int q = 0; q < nsp; q++) {
            rv->a[q].kind = CK_RF_LOCAL;
            rv->a[q].ax = ck_spatial_axis(&a, v->shape.rank, nsp, q);
            ck_rf_path p = {.size = 1, .jump = 1, .start = 0, .input = i};
            ax_add(t, &rv->a[q], &p);
        }
    }
    for (int i = 0; i < g->n_nodes && !t->oom; i++) rf_node(t, &g->nodes[i]);
    if (t->oom) {
        ck_rf_table_free(t);
        return CK_ENOMEM;
    }
    *out = t;
    return CK_OK;
}

static void fill(const ck_rf_table *t, const rf_val *v, ck_rf *out) {
    memset(out, 0, sizeof *out);
    out->nsp = t->nsp;
    for (int q = 0; q < t->nsp; q++) {
        ck_rf_axis *a = &out->axis[q];
        a->name = ck_axis_name(t->nsp, q);
        a->kind = v ? v->a[q].kind : CK_RF_UNKNOWN;
        if (a->kind != CK_RF_LOCAL) continue;
        a->n_paths = v->a[q].n;
        a->more_paths = v->a[q].more;
        memcpy(a->paths, v->a[q].p, (size_t)a->n_paths * sizeof *a->paths);
    }
}

ck_status ck_rf_layer(const ck_rf_table *t, int layer, ck_rf *out) {
    if (!t || !out || layer < 0 || layer >= t->g->n_nodes) return CK_EUSAGE;
    const ck_node *n = &t->g->nodes[layer];
    fill(t, n->n_out > 0 ? &t->v[n->out[0]] : NULL, out);
    return CK_OK;
}

ck_status ck_rf_operand(const ck_rf_table *t, int layer, int k, ck_rf *out) {
    if (!t || !out || layer < 0 || layer >= t->g->n_nodes) return CK_EUSAGE;
    const ck_node *n = &t->g->nodes[layer];
    if (k < 0 || k >= n->n_in) return CK_EUSAGE;
    fill(t, &t->v[n->in[k]], out);
    return CK_OK;
}

ck_status ck_receptive_field(const ck_graph *g, int layer, ck_rf *out) {
    if (!g || !out) return CK_EUSAGE;
    ck_rf_table *t;
    ck_status st = ck_rf_analyze(g, &t);
    if (st != CK_OK) return st;
    st = ck_rf_layer(t, layer, out);
    ck_rf_table_free(t);
    return st;
}
