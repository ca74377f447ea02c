/* Symbolic input sizes: a model whose input declares its sizes as symbols
 * (ONNX dim_param: [N, 3, H, W]) checked without the sizes given. The
 * input-size solver scans the symbolic spatial axes (every square size,
 * then each axis with the others held at the smallest valid square; when
 * no square size in the range is valid, up to the first valid doubling of
 * it, for networks that need long inputs), the batch at 1; the check shows
 * the layers at that smallest valid size, and
 * each layer's output axes as expressions of the symbols, fitted to the
 * scanned sizes and verified on every one of them:
 *   - an axis that follows one symbol: the solver's closed form in it,
 *     "floor((H - 1) / 32) + 1";
 *   - one that follows several (a flattened map): the product of closed
 *     forms times a constant, "512 * (floor((H - 1) / 32) + 1) * (...)";
 *   - one that follows the batch: "N" (or "k * N");
 *   - "?" where no such expression reproduces the scanned sizes. */
#include "analyze/analyze.h"
#include "ops/ops.h"

#include <string.h>

/* One recorded layer output: its rank (-1: the layer failed or was not
 * reached) and sizes. */
typedef struct rec_shape {
    int8_t rank;
    int64_t d[CK_MAX_RANK];
} rec_shape;

typedef struct recorder {
    int n_layers, n_scans;
    int64_t lo, hi; /* the sizes recorded (hi may be below the scan's end) */
    rec_shape *v;   /* [scan][size - lo][layer] */
} recorder;

/* The record budget: scans x sizes x layers entries at most. */
enum { REC_MAX = 1 << 19 };

static rec_shape *at(const recorder *r, int scan, int64_t n, int layer) {
    int64_t span = r->hi - r->lo + 1;
    return &r->v[((int64_t)scan * span + (n - r->lo)) * r->n_layers + layer];
}

static bool visit(void *ctx, int scan, int64_t n, const ck_graph *g) {
    recorder *r = ctx;
    if (n < r->lo || n > r->hi || scan >= r->n_scans) return true;
    for (int i = 0; i < r->n_layers && i < g->n_nodes; i++) {
        ck_layer_info li = ck_graph_layer(g, i);
        rec_shape *e = at(r, scan, n, i);
        e->rank = li.state == CK_LAYER_OK ? (int8_t)li.output.rank : -1;
        memcpy(e->d, li.output.d, sizeof e->d);
    }
    return true;
}

bool ck_graph_has_symbols(const ck_graph *g) {
    for (int i = 0; g && i < g->n_inputs; i++)
        for (int a = 0; a < g->declared[i].rank; a++)
            if (ck_graph_symbol(g, i, a)) return true;
    return false;
}

static int first_symbolic(const ck_graph *g) {
    for (int i = 0; i < g->n_inputs; i++)
        for (int a = 0; a < g->declared[i].rank; a++)
            if (ck_graph_symbol(g, i, a)) return i;
    return -1;
}

/* g with every input but `keep` given: their symbols at 1. */
static ck_graph *others_at_one(const ck_graph *g, int keep) {
    ck_graph *c = ck_graph_clone(g, false);
    for (int i = 0; c && i < c->n_inputs; i++) {
        if (i == keep) continue;
        ck_shape s = c->declared[i];
        bool any = false;
        for (int a = 0; a < s.rank; a++)
            if (ck_graph_symbol(c, i, a)) s.d[a] = 1, any = true;
        if (any) ck_graph_set_input_shape(c, i, &s);
    }
    return c;
}

ck_graph *ck_symbolic_instance(const ck_graph *g, const ck_symbolic *s) {
    ck_graph *c = others_at_one(g, s->input);
    if (c) ck_graph_set_input_shape(c, s->input, &s->instance);
    return c;
}

void ck_symbolic_free(ck_symbolic *s) {
    if (!s) return;
    ck_sizes_free(&s->sizes);
    for (int i = 0; i < CK_MAX_RANK; i++) free(s->input_expr[i]);
    for (int i = 0; s->expr && i < s->n_layers * CK_MAX_RANK; i++) free(s->expr[i]);
    free(s->expr);
    free(s->varies);
    memset(s, 0, sizeof *s);
}

/* ---- fitting ------------------------------------------------------------------- */

typedef struct series {
    int n;
    int64_t *x, *y;
} series;

/* The sizes of axis `ax` of layer L's output in one scan, where it passed. */
static void collect(const recorder *r, int scan, int L, int ax, series *s) {
    s->n = 0;
    for (int64_t n = r->lo; n <= r->hi; n++) {
        const rec_shape *e = at(r, scan, n, L);
        if (e->rank <= ax) continue;
        s->x[s->n] = n;
        s->y[s->n++] = e->d[ax];
    }
}

static bool varies(const series *s) {
    for (int i = 1; i < s->n; i++)
        if (s->y[i] != s->y[0]) return true;
    return false;
}

static int64_t gcd64(int64_t a, int64_t b) {
    if (a < 0) a = ck_sat_mul(a, -1);
    if (b < 0) b = ck_sat_mul(b, -1);
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* "(e)" when e is a sum or a difference. */
static void add_factor(ck_str *s, const char *e) {
    bool sum = strstr(e, " + ") || strstr(e, " - ");
    ck_str_addf(s, sum ? "(%s)" : "%s", e);
}

/* True when every point of the square scan is k * prod fj(n). */
static bool product_holds(const series *sq, int64_t k, const ck_size_fn *f, int m) {
    for (int i = 0; i < sq->n; i++) {
        int64_t v = k, t;
        for (int j = 0; j < m; j++)
            if (!ck_size_fn_at(&f[j], sq->x[i], &t) || !ck_mul(v, t, &v)) return false;
        if (v != sq->y[i]) return false;
    }
    return true;
}

/* The expression of one output axis from the scans (series s[0] square,
 * s[1 + j] axis j) in the axes' symbols; NULL when no form holds. */
static char *fit_axis(series *s, int n_axes, const char *const *sym, int64_t at_hold) {
    int dep[CK_MAX_RANK], m = 0;
    for (int j = 0; j < n_axes; j++)
        if (varies(&s[1 + j])) dep[m++] = j;
    if (m == 0) return NULL;
    ck_size_fn f[CK_MAX_RANK];
    int64_t g[CK_MAX_RANK];
    int64_t k = 1;
    for (int q = 0; q < m; q++) {
        series *a = &s[1 + dep[q]];
        /* the factor: the axis's series divided by its common divisor */
        g[q] = 0;
        for (int i = 0; i < a->n; i++) g[q] = gcd64(g[q], a->y[i]);
        if (g[q] == 0) return NULL;
        int64_t *y = malloc((size_t)a->n * sizeof *y);
        if (!y) return NULL;
        for (int i = 0; i < a->n; i++) y[i] = a->y[i] / (m > 1 ? g[q] : 1);
        f[q] = ck_fit_size_fn(a->x, y, a->n);
        free(y);
        if (!f[q].found) return NULL;
    }
    if (m > 1) {
        /* v = prod A_q / c^(m-1), c the value at the held sizes, A_q = g_q a_q */
        int64_t c = at_hold, num = 1, den = 1;
        for (int q = 0; q < m; q++)
            if (!ck_mul(num, g[q], &num)) return NULL;
        for (int q = 1; q < m; q++)
            if (!ck_mul(den, c, &den)) return NULL;
        if (den == 0 || num % den != 0) return NULL;
        k = num / den;
    }
    if (!product_holds(&s[0], k, f, m)) return NULL;
    ck_str out = {0};
    if (k != 1) ck_str_addf(&out, "%lld * ", (long long)k);
    for (int q = 0; q < m; q++) {
        char *e = ck_size_fn_expr(&f[q], sym[dep[q]]);
        if (!e) {
            ck_str_free(&out);
            return NULL;
        }
        if (q) ck_str_add(&out, " * ");
        if (m > 1 || k != 1)
            add_factor(&out, e);
        else
            ck_str_add(&out, e);
        free(e);
    }
    return ck_str_take(&out);
}

/* ---- the solve --------------------------------------------------------------------- */

/* The batch-like symbols (not scanned): which layer axes follow them, from
 * a second check with those axes at 2. */
static bool batch_probe(const ck_graph *g, ck_symbolic *s, ck_graph **probe) {
    ck_shape b = s->instance;
    bool any = false;
    for (int a = 0; a < b.rank; a++) {
        bool scanned = false;
        for (int k = 0; k < s->sizes.n_axes; k++) scanned |= s->sizes.axes[k].tensor_axis == a;
        if (ck_graph_symbol(g, s->input, a) && !scanned) b.d[a] = 2, any = true;
    }
    *probe = NULL;
    if (!any) return true;
    ck_graph *c = others_at_one(g, s->input);
    if (!c) return false;
    ck_graph_set_input_shape(c, s->input, &b);
    ck_check(c, NULL);
    *probe = c;
    return true;
}

static const char *batch_symbol(const ck_graph *g, const ck_symbolic *s) {
    for (int a = 0; a < s->instance.rank; a++) {
        bool scanned = false;
        for (int k = 0; k < s->sizes.n_axes; k++) scanned |= s->sizes.axes[k].tensor_axis == a;
        const char *n = ck_graph_symbol(g, s->input, a);
        if (n && !scanned) return n;
    }
    return "N";
}

/* The smallest doubling of hi (up to 16 hi and the scan limit: the scan
 * that follows checks every size below it) at which the square size is
 * valid, when none in the scanned range is; else hi. */
static int64_t beyond(const ck_graph *g, const ck_sizes *z, int64_t hi) {
    if (z->square.valid.n > 0 || z->n_axes == 0) return hi;
    int64_t lim = ck_sat_mul(hi, 16);
    if (lim > g->lim.max_sizes) lim = g->lim.max_sizes;
    ck_graph *c = ck_graph_clone(g, false);
    int64_t found = hi;
    for (int64_t n = hi; c && n <= lim / 2 && found == hi;) {
        n *= 2;
        ck_shape s = z->given;
        for (int k = 0; k < z->n_axes; k++) s.d[z->axes[k].tensor_axis] = n;
        ck_probe p;
        ck_probe_input(c, z->input, &s, &p);
        if (p.ok) found = n;
    }
    ck_graph_free(c);
    return found;
}

/* Keras builds a Dense layer's kernel from its input's static shape: the
 * last axis must not follow the sizes the input leaves open ("The last
 * dimension of the inputs to a Dense layer should be defined. Found
 * None."), which a Flatten of an open map does. Such a model is invalid at
 * every size. */
static void keras_defined_features(const ck_graph *g, ck_symbolic *s, const ck_graph *inst,
                                   ck_diags *d) {
    if (g->dialect != CK_DIALECT_KERAS || !s->spatial) return;
    for (int L = 0; L < g->n_nodes; L++) {
        const ck_node *n = &g->nodes[L];
        if (n->op != CK_OP_LINEAR || n->n_in < 1) continue;
        const ck_val *x = &inst->vals[n->in[0]];
        int last = x->shape.rank - 1;
        if (x->state != CK_VAL_OK || last < 0) continue;
        const char *e = NULL;
        if (x->producer >= 0 && x->producer < s->n_layers &&
            s->varies[x->producer * CK_MAX_RANK + last])
            e = s->expr[x->producer * CK_MAX_RANK + last];
        else if (x->producer < 0 && x->input_index == s->input &&
                 ck_graph_symbol(g, s->input, last))
            e = ck_graph_symbol(g, s->input, last);
        if (!e) continue;
        ck_diag *dg = ck_diag_add(d, CK_SEV_ERROR, CK_FEATURE_MISMATCH, n->name, n->type,
                                  "%s needs the last axis of its input defined to build its "
                                  "kernel, but it is %s, which follows the input's open sizes "
                                  "(Keras: the last dimension of the inputs to a Dense layer "
                                  "should be defined, found None)",
                                  n->type, e);
        if (dg) {
            ck_diag_set(&dg->axis, "features");
            ck_diag_note(dg, "give the input fixed sizes (Input(shape=(64, 64, 3))), or pool "
                             "before it (GlobalAveragePooling2D instead of Flatten)");
        }
        s->valid = false;
    }
}

ck_status ck_symbolic_solve(const ck_graph *g, int64_t lo, int64_t hi, ck_symbolic *out,
                            ck_diags *d) {
    if (!out) return CK_EUSAGE;
    memset(out, 0, sizeof *out);
    if (!g || (out->input = first_symbolic(g)) < 0) return CK_EUSAGE;
    ck_graph *g1 = others_at_one(g, out->input);
    if (!g1) return CK_ENOMEM;
    int nsp_all = g->declared[out->input].rank;
    recorder r = {.n_layers = g->n_nodes, .n_scans = 1 + (nsp_all > 2 ? nsp_all - 2 : 0), .lo = lo};
    int64_t budget = REC_MAX / ((int64_t)r.n_scans * (r.n_layers ? r.n_layers : 1));
    r.hi = hi < lo + budget - 1 ? hi : lo + budget - 1;
    if (r.hi > lo + 255) r.hi = lo + 255;
    ck_status st = CK_ENOMEM;
    series s[1 + CK_MAX_RANK] = {0};
    ck_graph *inst = NULL, *probe = NULL;
    if (r.hi < lo) r.hi = lo;
    int64_t span = r.hi - lo + 1;
    r.v = calloc((size_t)(r.n_scans * span * (r.n_layers ? r.n_layers : 1)), sizeof *r.v);
    out->n_layers = g->n_nodes;
    out->expr = calloc((size_t)(out->n_layers ? out->n_layers : 1) * CK_MAX_RANK, sizeof(char *));
    out->varies = calloc((size_t)(out->n_layers ? out->n_layers : 1) * CK_MAX_RANK, sizeof(bool));
    for (int j = 0; j < 1 + CK_MAX_RANK; j++) {
        s[j].x = malloc((size_t)span * sizeof *s[j].x);
        s[j].y = malloc((size_t)span * sizeof *s[j].y);
        if (!s[j].x || !s[j].y) goto done;
    }
    if (!r.v || !out->expr || !out->varies) goto done;
    for (int64_t i = 0; i < r.n_scans * span * r.n_layers; i++) r.v[i].rank = -1;
    ck_scan_visitor vis = {visit, &r};
    st = ck_solve_sizes_visit(g1, out->input, lo, hi, &out->sizes, d, &vis);
    if (st != CK_OK) goto done;
    /* no square size valid in the range: a network that needs long inputs
     * (audio, 1-D) may be valid further on; look at doubling sizes and,
     * where one is, scan up to it */
    int64_t far = beyond(g1, &out->sizes, hi);
    if (far > hi) {
        ck_sizes_free(&out->sizes);
        for (int64_t i = 0; i < r.n_scans * span * r.n_layers; i++) r.v[i].rank = -1;
        st = ck_solve_sizes_visit(g1, out->input, lo, far, &out->sizes, d, &vis);
        if (st != CK_OK) goto done;
    }
    out->instance = out->sizes.given;
    out->valid = out->sizes.square.valid.n > 0;
    for (int k = 0; k < out->sizes.n_axes; k++) out->valid |= out->sizes.axes[k].valid.n > 0;
    /* the input's expression */
    for (int a = 0; a < out->instance.rank; a++) {
        const char *n = ck_graph_symbol(g, out->input, a);
        out->input_expr[a] = n ? ck_strdup(n) : ck_sprintf("%lld", (long long)out->instance.d[a]);
    }
    /* the layers at the instance, and at batch 2 */
    st = CK_ENOMEM;
    inst = ck_symbolic_instance(g, out);
    if (!inst || !batch_probe(g, out, &probe)) goto done;
    bool inst_ok = ck_check(inst, NULL) == CK_OK;
    const char *sym[CK_MAX_RANK], *bsym = batch_symbol(g, out);
    int na = out->sizes.n_axes;
    for (int k = 0; k < na; k++)
        sym[k] = ck_graph_symbol(g, out->input, out->sizes.axes[k].tensor_axis);
    /* only the batch is symbolic: the sizes are the declared ones, and so is
     * the verdict (the scans still say which others would do) */
    out->spatial = na > 0 && sym[0] != NULL;
    if (!out->spatial) {
        out->valid = inst_ok;
        na = 0;
    }
    for (int L = 0; L < out->n_layers; L++) {
        ck_layer_info li = ck_graph_layer(inst, L), lb = {0};
        if (li.state != CK_LAYER_OK) continue;
        if (probe) lb = ck_graph_layer(probe, L);
        for (int ax = 0; ax < li.output.rank; ax++) {
            for (int j = 0; j <= na && j < r.n_scans; j++) collect(&r, j, L, ax, &s[j]);
            char *e =
                na ? fit_axis(s, na < r.n_scans ? na : r.n_scans - 1, sym, li.output.d[ax]) : NULL;
            bool v = e != NULL;
            if (!e) {
                /* no spatial dependence found: fixed, unless some scan varied */
                bool any = false;
                for (int j = 0; na && j <= na && j < r.n_scans; j++) any |= varies(&s[j]);
                e = any ? ck_strdup("?") : ck_sprintf("%lld", (long long)li.output.d[ax]);
                v = any;
            }
            /* the batch: a size that doubles at batch 2 follows it */
            int64_t b1 = li.output.d[ax];
            if (probe && lb.state == CK_LAYER_OK && lb.output.rank == li.output.rank &&
                lb.output.d[ax] != b1) {
                char *t;
                if (lb.output.d[ax] == ck_sat_mul(b1, 2) && !v)
                    t = b1 == 1 ? ck_sprintf("%s", bsym)
                                : ck_sprintf("%lld * %s", (long long)b1, bsym);
                else if (lb.output.d[ax] == ck_sat_mul(b1, 2)) {
                    ck_str m = {0};
                    ck_str_addf(&m, "%s * ", bsym);
                    add_factor(&m, e);
                    t = ck_str_take(&m);
                } else
                    t = ck_strdup("?");
                free(e);
                e = t;
                v = true;
            }
            out->expr[L * CK_MAX_RANK + ax] = e;
            out->varies[L * CK_MAX_RANK + ax] = v;
            if (!e) goto done;
        }
    }
    keras_defined_features(g, out, inst, d);
    st = CK_OK;
done:
    for (int j = 0; j < 1 + CK_MAX_RANK; j++) {
        free(s[j].x);
        free(s[j].y);
    }
    free(r.v);
    ck_graph_free(inst);
    ck_graph_free(probe);
    ck_graph_free(g1);
    if (st != CK_OK) ck_symbolic_free(out);
    return st;
}
