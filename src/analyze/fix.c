/* The fix search. For the first failure of a network, candidate changes are
 * made to a copy of the network (the layer's own arguments, rebuilt through
 * its frontend, so a fix is exactly what the user would write) and each copy
 * is re-checked end to end; only changes that make every layer valid are
 * kept. Searches that claim "smallest" or "largest" walk the values in order
 * and stop at the first that works, so the claim holds by construction. */
#include "analyze/analyze.h"
#include "ops/ops.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct search {
    ck_graph *base; /* shape-only copy of the network, checked */
    ck_probe p0;    /* its first failure */
    ck_fixes *out;
    const char *ins_name, *ins_type; /* the layer insert_fix is inserting */
} search;

void ck_fixes_free(ck_fixes *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) {
        free(f->v[i].layer);
        free(f->v[i].change);
        free(f->v[i].why);
        ck_graph_free(f->v[i].graph);
        for (int k = 0; k < f->v[i].n_args; k++) free(f->v[i].args[k]);
        free(f->v[i].args);
        free(f->v[i].insert_name);
        free(f->v[i].insert_type);
    }
    free(f->v);
    memset(f, 0, sizeof *f);
}

char *ck_fix_str(const ck_fix *f) {
    if (!f) return NULL;
    ck_str s = {0};
    char buf[256];
    if (f->layer && f->kind != CK_FIX_INSERT) ck_str_addf(&s, "%s: ", f->layer);
    ck_str_add(&s, f->change ? f->change : "");
    ck_str_addf(&s, " (output %s", ck_shape_str(&f->output, buf, sizeof buf));
    if (f->why) ck_str_addf(&s, "; %s", f->why);
    ck_str_add(&s, ")");
    return ck_str_take(&s);
}

int ck_graph_node_named(const ck_graph *g, const char *name) {
    for (int i = 0; name && i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

static bool value_same(const ck_value *a, const ck_value *b) {
    if (!a || !b) return a == b;
    if (a->kind != b->kind || a->n != b->n || a->is_tuple != b->is_tuple) return false;
    switch (a->kind) {
    case CK_V_BOOL:
    case CK_V_INT:
        return a->i == b->i;
    case CK_V_FLOAT:
        return a->f == b->f;
    case CK_V_STR:
        return !strcmp(a->s ? a->s : "", b->s ? b->s : "");
    case CK_V_LIST:
        for (int i = 0; i < a->n; i++)
            if (!value_same(&a->items[i], &b->items[i])) return false;
        return true;
    default:
        return true;
    }
}

/* f->args: the parameters of f->layer whose values differ between the
 * network searched and the fixed one (what the user edits). */
static void record_args(const search *s, ck_fix *f) {
    int a = ck_graph_node_named(s->base, f->layer), b = ck_graph_node_named(f->graph, f->layer);
    if (a < 0 || b < 0 || !f->graph->nodes[b].fe) return;
    const ck_node *na = &s->base->nodes[a], *nb = &f->graph->nodes[b];
    const char *const *params = nb->fe->params;
    for (int i = 0; params && params[i]; i++) {
        if (value_same(ck_args_get(&na->args, i, params[i]), ck_args_get(&nb->args, i, params[i])))
            continue;
        char **v = realloc(f->args, (size_t)(f->n_args + 1) * sizeof *v);
        if (!v) return;
        f->args = v;
        if ((v[f->n_args] = ck_strdup(params[i]))) f->n_args++;
    }
}

/* Checks a candidate; keeps it (taking ownership of g) when the whole
 * network is valid and the same change is not listed yet. */
static bool keep(search *s, ck_graph *g, ck_fix_kind kind, const char *layer, const char *why,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static bool keep(search *s, ck_graph *g, ck_fix_kind kind, const char *layer, const char *why,
                 const char *fmt, ...) {
    if (!g) return false;
    ck_probe p;
    ck_probe_graph(g, &p, NULL);
    s->out->checks++;
    if (!p.ok) {
        ck_graph_free(g);
        return false;
    }
    ck_str c = {0};
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(&c, fmt, ap);
    va_end(ap);
    for (int i = 0; i < s->out->n; i++) {
        const ck_fix *f = &s->out->v[i];
        if (!strcmp(f->change, c.p ? c.p : "") &&
            ((!f->layer && !layer) || (f->layer && layer && !strcmp(f->layer, layer)))) {
            ck_str_free(&c);
            ck_graph_free(g);
            return true;
        }
    }
    ck_fix *v = realloc(s->out->v, (size_t)(s->out->n + 1) * sizeof *v);
    if (!v) {
        ck_str_free(&c);
        ck_graph_free(g);
        return false;
    }
    s->out->v = v;
    ck_fix *f = &v[s->out->n++];
    *f = (ck_fix){.kind = kind, .output = p.out, .graph = g};
    f->layer = layer ? ck_strdup(layer) : NULL;
    f->why = why ? ck_strdup(why) : NULL;
    f->change = ck_str_take(&c);
    if (kind == CK_FIX_INSERT) {
        f->insert_name = ck_strdup(s->ins_name);
        f->insert_type = ck_strdup(s->ins_type);
    }
    record_args(s, f);
    return true;
}

/* ---- editing arguments ----------------------------------------------------- */

static ck_value v_int(int64_t i) {
    return (ck_value){.kind = CK_V_INT, .i = i};
}

static ck_value v_bool(bool b) {
    return (ck_value){.kind = CK_V_BOOL, .i = b};
}

static ck_value v_str(const char *s) {
    return (ck_value){.kind = CK_V_STR, .s = ck_strdup(s)};
}

/* n ints as the framework writes them: PyTorch and Keras collapse equal
 * values to one int and write tuples; ONNX attributes are lists. */
static ck_value v_ints(const ck_node *n, int cnt, const int64_t *x) {
    bool onnx = n->a.dialect == CK_DIALECT_ONNX;
    bool same = true;
    for (int i = 1; i < cnt; i++) same &= x[i] == x[0];
    if (!onnx && same) return v_int(x[0]);
    ck_value v = {.kind = CK_V_LIST, .is_tuple = !onnx, .n = cnt};
    v.items = calloc((size_t)cnt, sizeof *v.items);
    if (!v.items) return (ck_value){0};
    for (int i = 0; i < cnt; i++) v.items[i] = v_int(x[i]);
    return v;
}

/* Sets a parameter of node ni (where it was given positionally, in place)
 * and rebuilds the layer. False when the layer has no such parameter. */
static bool set_arg(ck_graph *g, int ni, const char *name, ck_value v) {
    ck_node *n = &g->nodes[ni];
    int idx = (n->fe && name) ? ck_param_index(n->fe, name) : -1;
    if (idx < 0 || (v.kind == CK_V_LIST && !v.items) || (v.kind == CK_V_STR && !v.s)) {
        ck_value_free(&v);
        return false;
    }
    if (!ck_args_set(&n->args, idx < n->args.npos ? idx : -1, name, v)) return false;
    ck_graph_rebuild_node(g, ni);
    return true;
}

static bool has_param(const ck_node *n, const char *name) {
    return name && n->fe && ck_param_index(n->fe, name) >= 0;
}

/* What the layer's framework calls the arguments a fix changes: its
 * frontend entry says (NULL names: the layer has no such argument). */
static const ck_knobs *knobs_of(const ck_node *n) {
    static const ck_knobs none;
    return n->fe && n->fe->knobs ? n->fe->knobs : &none;
}

static bool is_window(const ck_node *n) {
    return n->op == CK_OP_CONV || n->op == CK_OP_MAX_POOL || n->op == CK_OP_AVG_POOL ||
           n->op == CK_OP_SEPARABLE_CONV;
}

static bool is_pool(const ck_node *n) {
    return n->op == CK_OP_MAX_POOL || n->op == CK_OP_AVG_POOL;
}

/* The spatial index (0..nsp-1) of tensor axis `ax` of node n's input. */
static int spatial_index(const ck_graph *g, const ck_node *n, int ax) {
    if (n->n_in == 0 || ax < 0) return -1;
    int rank = g->vals[n->in[0]].shape.rank;
    for (int i = 0; i < n->a.nsp; i++)
        if (ck_spatial_axis(&n->a, rank, n->a.nsp, i) == ax) return i;
    return -1;
}

static void attr_text(ck_str *s, const char *name, const ck_value *v) {
    ck_str_addf(s, "%s=", name);
    ck_value_str(s, v);
}

/* Tries node ni with `field` (one value per spatial axis) changed on the
 * axes that share the failing axis's value; `vals` from `from` stepping by
 * `step` while within [lo, hi]. Keeps the first that makes the network
 * valid. `pads` writes ONNX begin+end lists. */
enum { WALK_MAX = 64 };

/* floor(sqrt(q)) for q >= 0, exact */
static int64_t isqrt(int64_t q) {
    if (q <= 0) return 0;
    int64_t r = (int64_t)sqrt((double)q);
    while (r > 0 && (r > 3037000499 || r * r > q)) r--;
    while (r < 3037000499 && (r + 1) * (r + 1) <= q) r++;
    return r;
}

static bool walk_values(search *s, int ni, const char *name, const int64_t *cur, int axis_i,
                        int64_t from, int64_t to, int step, bool pads, ck_fix_kind kind,
                        const char *why) {
    const ck_node *n0 = &s->base->nodes[ni];
    int nsp = n0->a.nsp;
    if (!has_param(n0, name) || nsp <= 0 || axis_i < 0) return false;
    /* at most WALK_MAX candidates: absurd values (a 2^62 kernel) cannot make
     * the search run for ever */
    for (int64_t it = 0, v = from; it < WALK_MAX && (step > 0 ? v <= to : v >= to);
         it++, v = ck_sat_add(v, step)) {
        int64_t x[2 * CK_MAX_SP];
        for (int i = 0; i < nsp; i++) x[i] = cur[i] == cur[axis_i] ? v : cur[i];
        int cnt = nsp;
        if (pads) {
            for (int i = 0; i < nsp; i++) x[nsp + i] = x[i];
            cnt = 2 * nsp;
        }
        ck_graph *g = ck_graph_clone(s->base, false);
        if (!g) return false;
        ck_node *n = &g->nodes[ni];
        ck_value val = v_ints(n, cnt, x);
        ck_str t = {0};
        attr_text(&t, name, &val);
        bool set = set_arg(g, ni, name, val);
        if (set && pads && has_param(n, "auto_pad")) set_arg(g, ni, "auto_pad", v_str("NOTSET"));
        bool ok = set && keep(s, g, kind, n0->name, why, "%s", t.p ? t.p : "");
        if (!set) ck_graph_free(g);
        ck_str_free(&t);
        if (ok) return true;
    }
    return false;
}

/* Padding, ceil_mode, stride, kernel and dilation of one window layer along
 * the failing axis. */
static void window_fixes(search *s, int ni, int axis_i, ck_fix_kind kind, bool all) {
    const ck_node *n = &s->base->nodes[ni];
    const ck_knobs *k = knobs_of(n);
    int nsp = n->a.nsp;
    if (axis_i < 0 || axis_i >= nsp) return;
    int64_t ext = 1;
    ck_window_extent(n->a.kernel[axis_i], n->a.dilation[axis_i], &ext);
    if (n->a.dialect == CK_DIALECT_KERAS) {
        if (n->a.pad_mode == CK_PAD_VALID) {
            ck_graph *g = ck_graph_clone(s->base, false);
            if (g && set_arg(g, ni, k->pad, v_str("same")))
                keep(s, g, kind, n->name, "'same' pads so that out = ceil(in / stride)",
                     "%s='same'", k->pad);
            else
                ck_graph_free(g);
        }
    } else if (n->a.pad_mode == CK_PAD_EXPLICIT || n->a.pad_mode == CK_PAD_VALID) {
        int64_t cur[CK_MAX_SP];
        for (int i = 0; i < nsp; i++)
            cur[i] = n->a.pad_mode == CK_PAD_VALID ? 0 : n->a.pad_begin[i];
        walk_values(s, ni, k->pad, cur, axis_i, ck_sat_add(cur[axis_i], 1),
                    ck_sat_add(cur[axis_i], ext), 1, n->a.dialect == CK_DIALECT_ONNX, kind,
                    "the smallest padding that fits");
    }
    if (is_pool(n) && !n->a.ceil_mode && has_param(n, k->ceil)) {
        ck_graph *g = ck_graph_clone(s->base, false);
        bool onnx = n->a.dialect == CK_DIALECT_ONNX;
        if (g && set_arg(g, ni, k->ceil, onnx ? v_int(1) : v_bool(true)))
            keep(s, g, kind, n->name, "the last partial window is kept",
                 onnx ? "ceil_mode=1" : "ceil_mode=True");
        else
            ck_graph_free(g);
    }
    if (!all) return;
    walk_values(s, ni, k->stride, n->a.stride, axis_i, ck_sat_add(n->a.stride[axis_i], -1), 1, -1,
                false, kind, "the largest stride that fits");
    /* ONNX convolutions take their kernel from the weights: no knob names it */
    walk_values(s, ni, k->kernel, n->a.kernel, axis_i, ck_sat_add(n->a.kernel[axis_i], -1), 1, -1,
                false, kind, "the largest kernel that fits");
    walk_values(s, ni, k->dilation, n->a.dilation, axis_i, ck_sat_add(n->a.dilation[axis_i], -1), 1,
                -1, false, kind, "the largest dilation that fits");
}

/* The downsampling layers on the path from the input to the failing layer,
 * nearest first: stride 1 or more padding there. */
static void upstream_fixes(search *s, int fail, int ax) {
    const ck_graph *g = s->base;
    int v = g->nodes[fail].n_in ? g->nodes[fail].in[0] : -1;
    int seen = 0;
    while (v >= 0 && g->vals[v].producer >= 0 && seen < 8) {
        int pi = g->vals[v].producer;
        const ck_node *p = &g->nodes[pi];
        if (p->n_in == 0) break;
        if (g->vals[p->in[0]].shape.rank != g->vals[v].shape.rank) break; /* axis changes meaning */
        if (is_window(p)) {
            int i = spatial_index(g, p, ax);
            if (i >= 0 && p->a.stride[i] > 1) {
                seen++;
                const ck_knobs *k = knobs_of(p);
                walk_values(s, pi, k->stride, p->a.stride, i, ck_sat_add(p->a.stride[i], -1), 1, -1,
                            false, CK_FIX_UPSTREAM, "the largest stride here that fits");
                window_fixes(s, pi, i, CK_FIX_UPSTREAM, false);
            }
        }
        v = p->in[0];
    }
}

/* ---- input size ----------------------------------------------------------- */

static bool in_runs(const ck_runs *r, int64_t n) {
    for (int i = 0; i < r->n; i++)
        if (n >= r->v[i].first && n <= r->v[i].last) return true;
    return false;
}

static void size_text(ck_str *t, const ck_sizes *sz, const ck_shape *s) {
    for (int k = 0; k < sz->n_axes; k++)
        ck_str_addf(t, "%s%lld", k ? "x" : "", (long long)s->d[sz->axes[k].tensor_axis]);
}

static void input_fixes(search *s) {
    const ck_graph *g = s->base;
    int axes[CK_MAX_RANK];
    if (g->n_inputs == 0 || ck_input_spatial_axes(g, 0, axes) == 0) return;
    ck_shape given = g->declared[0];
    int64_t cur = 0;
    for (int k = 0; k < given.rank; k++)
        if (k != 0 && given.d[k] > cur) cur = given.d[k];
    int64_t hi = ck_sat_mul(cur, 2) > 1024 ? ck_sat_mul(cur, 2) : 1024;
    /* bounded work: an absurd declared input (2^62 pixels) must not make
     * every `check` scan a million sizes per axis */
    if (hi > 65536) hi = 65536;
    if (hi > g->lim.max_sizes) hi = g->lim.max_sizes;
    ck_sizes sz;
    ck_diags d = {0};
    if (ck_solve_sizes(g, 0, 1, hi, &sz, &d) != CK_OK) {
        ck_diags_free(&d);
        return;
    }
    ck_diags_free(&d);
    if (sz.square.min < 0 && ck_graph_has_symbols(g)) {
        /* no size of the open (symbolic) axes alone: every spatial axis may
         * change, as for a model without symbols (None, 2, 1) */
        ck_graph *c = ck_graph_clone(g, false);
        ck_sizes all;
        if (c && ck_graph_set_input_shape(c, 0, &given) == CK_OK &&
            ck_solve_sizes(c, 0, 1, hi, &all, &d) == CK_OK) {
            all.checks += sz.checks;
            ck_sizes_free(&sz);
            sz = all;
        }
        ck_diags_free(&d);
        ck_graph_free(c);
    }
    s->out->checks += sz.checks;
    const ck_runs *valid = &sz.square.valid;
    if (sz.square.min >= 0) {
        ck_shape sh = given;
        for (int k = 0; k < sz.n_axes; k++) sh.d[sz.axes[k].tensor_axis] = sz.square.min;
        ck_str why = {0};
        char *runs = ck_runs_str(valid, hi);
        ck_str_add(&why, "the smallest input every layer accepts");
        if (valid->n != 1 || valid->v[0].last != hi) ck_str_addf(&why, "; valid sizes: %s", runs);
        free(runs);
        ck_str t = {0};
        size_text(&t, &sz, &sh);
        ck_graph *c = ck_graph_clone(g, false);
        if (c) ck_graph_set_input_shape(c, 0, &sh);
        bool open = valid->n == 1 && valid->v[0].last == hi;
        if (open)
            keep(s, c, CK_FIX_INPUT, NULL, why.p, "input of at least %s", t.p);
        else
            keep(s, c, CK_FIX_INPUT, NULL, why.p, "input %s", t.p);
        ck_str_free(&why);
        ck_str_free(&t);
    }
    /* the nearest valid input at or above the given one, per axis */
    ck_shape sh = given;
    bool found = true;
    for (int k = 0; k < sz.n_axes && found; k++) {
        int64_t n = given.d[sz.axes[k].tensor_axis];
        while (n <= hi && !in_runs(valid, n)) n++;
        found = n <= hi;
        sh.d[sz.axes[k].tensor_axis] = n;
    }
    bool is_min = true;
    for (int k = 0; k < sz.n_axes; k++) is_min &= sh.d[sz.axes[k].tensor_axis] == sz.square.min;
    if (found && !is_min && memcmp(&sh, &given, sizeof sh) != 0) {
        ck_str t = {0}, w = {0};
        size_text(&t, &sz, &sh);
        size_text(&w, &sz, &given);
        ck_str why = {0};
        ck_str_addf(&why, "the nearest valid size at or above %s", w.p);
        ck_graph *c = ck_graph_clone(g, false);
        if (c) ck_graph_set_input_shape(c, 0, &sh);
        keep(s, c, CK_FIX_INPUT, NULL, why.p, "input %s", t.p);
        ck_str_free(&t);
        ck_str_free(&w);
        ck_str_free(&why);
    }
    ck_sizes_free(&sz);
}

/* ---- channels, features, joins --------------------------------------------- */

static void channel_fixes(search *s, int ni) {
    const ck_graph *g = s->base;
    const ck_node *n = &g->nodes[ni];
    int64_t have = n->fail_value;
    int64_t want = n->a.in_ch > 0 ? n->a.in_ch : n->a.num_features;
    const ck_knobs *k = knobs_of(n);
    const char *param = k->in_ch;
    /* channels-last data for a channels-first model, or the reverse: move the
     * axis that holds the expected count */
    bool layout = false;
    if (want > 0 && g->n_inputs > 0 && g->declared[0].rank >= 3) {
        ck_shape sh = g->declared[0];
        bool cl = g->vals[g->inputs[0]].channels_last;
        int cax = cl ? sh.rank - 1 : 1, other = cl ? 1 : sh.rank - 1;
        if (sh.d[cax] == have && sh.d[other] == want) {
            ck_shape t = sh;
            int64_t c = t.d[other];
            if (cl) {
                memmove(&t.d[1], &t.d[2], (size_t)(t.rank - 2) * sizeof t.d[0]);
                t.d[t.rank - 1] = c;
            } else {
                memmove(&t.d[2], &t.d[1], (size_t)(t.rank - 2) * sizeof t.d[0]);
                t.d[1] = c;
            }
            char buf[256];
            ck_graph *c2 = ck_graph_clone(g, false);
            if (c2) ck_graph_set_input_shape(c2, 0, &t);
            layout = keep(s, c2, CK_FIX_INPUT, NULL,
                          cl ? "the data is channels-first; the model reads channels-last "
                               "(x.transpose(0, 2, 3, 1) in NumPy)"
                             : "the data is channels-last; the model reads channels-first "
                               "(x.permute(0, 3, 1, 2) in PyTorch)",
                          "input %s", ck_shape_str(&t, buf, sizeof buf));
        }
    }
    if (param && has_param(n, param) && have > 0 && !layout) {
        ck_graph *c = ck_graph_clone(g, false);
        if (c && set_arg(c, ni, param, v_int(have)))
            keep(s, c, CK_FIX_LAYER, n->name, "match the channels that reach it", "%s=%lld", param,
                 (long long)have);
        else
            ck_graph_free(c);
    }
    /* or feed the channels the layer expects */
    if (want > 0 && g->n_inputs > 0 && !layout) {
        ck_shape sh = g->declared[0];
        bool cl = g->vals[g->inputs[0]].channels_last;
        int cax = cl ? sh.rank - 1 : 1;
        if (sh.rank >= 2 && sh.d[cax] == have) {
            sh.d[cax] = want;
            const char *why = want == 3 && have == 1
                                  ? "the image is grayscale and the layer expects RGB: convert "
                                    "it to RGB or repeat the channel 3 times"
                              : want == 1 && have == 3
                                  ? "the image is RGB and the layer expects grayscale: convert "
                                    "it to 1 channel"
                                  : "the channel count the layer expects";
            char buf[256];
            ck_graph *c = ck_graph_clone(g, false);
            if (c) ck_graph_set_input_shape(c, 0, &sh);
            keep(s, c, CK_FIX_INPUT, NULL, why, "input with %lld channels %s", (long long)want,
                 ck_shape_str(&sh, buf, sizeof buf));
        }
    }
}

/* Inserts `type(arg)` named `name` in front of node `before` (reading its
 * input `slot`) in graph c, and keeps the fix if the network is then valid.
 * Takes ownership of c and arg. */
static bool insert_fix(search *s, ck_graph *c, int before, int slot, ck_dialect dialect,
                       const char *type, const char *name, ck_value arg, const char *layer,
                       const char *why, const char *where) {
    ck_str call = {0};
    ck_str_addf(&call, "%s(", type);
    ck_value_str(&call, &arg);
    ck_str_add(&call, ")");
    ck_args args = {0};
    bool pushed = ck_args_push_pos(&args, arg);
    ck_diags d = {0};
    ck_layer_spec sp = {.dialect = dialect,
                        .type = type,
                        .name = name,
                        .args = &args,
                        .line = c ? c->nodes[before].line : 0};
    bool ok = false;
    if (c && pushed && ck_graph_insert_layer(c, before, slot, &sp, &d) >= 0) {
        s->ins_name = name;
        s->ins_type = type;
        ok = keep(s, c, CK_FIX_INSERT, layer, why, "insert %s = %s %s", name, call.p, where);
        s->ins_name = s->ins_type = NULL;
    } else
        ck_graph_free(c);
    ck_diags_free(&d);
    ck_args_free(&args);
    ck_str_free(&call);
    return ok;
}

static void feature_fixes(search *s, int ni) {
    const ck_graph *g = s->base;
    const ck_node *n = &g->nodes[ni];
    int64_t have = n->fail_value, want = n->a.in_features;
    const ck_knobs *k = knobs_of(n);
    if (has_param(n, k->features) && have > 0) {
        ck_graph *c = ck_graph_clone(g, false);
        if (c && set_arg(c, ni, k->features, v_int(have)))
            keep(s, c, CK_FIX_LAYER, n->name, "the features the input produces at this size",
                 "%s=%lld", k->features, (long long)have);
        else
            ck_graph_free(c);
    }
    /* AdaptiveAvgPool before the Flatten: in_features no longer depends on
     * the input size */
    int v = n->in[0];
    int fi = g->vals[v].producer;
    if (fi < 0 || g->nodes[fi].op != CK_OP_FLATTEN || n->a.dialect != CK_DIALECT_PYTORCH ||
        want <= 0)
        return;
    const ck_shape *x = &g->vals[g->nodes[fi].in[0]].shape;
    if (x->rank < 3 || x->rank > 5) return;
    int nsp = x->rank - 2;
    int64_t C = x->d[1];
    if (C <= 0 || want % C != 0) return;
    int64_t q = want / C, side = isqrt(q);
    int64_t size[3];
    if (nsp == 2 && side * side == q)
        size[0] = size[1] = side;
    else if (nsp == 1)
        size[0] = q;
    else if (nsp == 2)
        size[0] = q, size[1] = 1;
    else
        return;
    static const char *const names[] = {"AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
                                        "AdaptiveAvgPool3d"};
    ck_value sv = {.kind = CK_V_LIST, .is_tuple = true, .n = nsp};
    sv.items = calloc((size_t)nsp, sizeof *sv.items);
    if (!sv.items) return;
    for (int i = 0; i < nsp; i++) sv.items[i] = v_int(size[i]);
    char name[300], where[320];
    snprintf(name, sizeof name, "%s_pool", g->nodes[fi].name);
    snprintf(where, sizeof where, "before %s", g->nodes[fi].name);
    insert_fix(s, ck_graph_clone(g, false), fi, 0, CK_DIALECT_PYTORCH, names[nsp - 1], name, sv,
               g->nodes[fi].name, "in_features then holds for every input size", where);
}

/* Branches that disagree: a transposed convolution's output_padding, or a
 * zero-pad on the smaller operand. */
static void join_fixes(search *s, int ni) {
    const ck_graph *g = s->base;
    const ck_node *n = &g->nodes[ni];
    if (n->n_in < 2) return;
    const ck_shape *a = &g->vals[n->in[0]].shape, *b = &g->vals[n->in[1]].shape;
    if (a->rank != b->rank || a->rank < 3 || a->rank > 5) return;
    bool cl = g->vals[n->in[0]].channels_last;
    int nsp = a->rank - 2;
    int64_t diff[3];
    int small = -1;
    for (int i = 0; i < nsp; i++) {
        int ax = cl ? 1 + i : 2 + i;
        if (!ck_sub(a->d[ax], b->d[ax], &diff[i])) return;
        int sm = diff[i] > 0 ? 1 : diff[i] < 0 ? 0 : -1;
        if (sm >= 0 && small >= 0 && sm != small) return; /* each operand smaller somewhere */
        if (sm >= 0) small = sm;
        if (diff[i] < 0) diff[i] = -diff[i];
    }
    if (small < 0) return;
    int sv = n->in[small];
    int pi = g->vals[sv].producer;
    /* a transposed convolution that can reach the size with output_padding */
    if (pi >= 0 && g->nodes[pi].op == CK_OP_CONV_TRANSPOSE) {
        const ck_node *p = &g->nodes[pi];
        const ck_knobs *k = knobs_of(p);
        int64_t op[CK_MAX_SP];
        bool fits = has_param(p, k->out_pad);
        for (int i = 0; i < nsp && fits; i++) {
            fits = ck_add(p->a.out_pad[i], diff[i], &op[i]);
            if (!fits) break;
            int64_t lim = p->a.stride[i] > p->a.dilation[i] ? p->a.stride[i] : p->a.dilation[i];
            fits = op[i] < lim || p->a.dialect != CK_DIALECT_PYTORCH;
        }
        if (fits) {
            ck_graph *c = ck_graph_clone(g, false);
            ck_value v = v_ints(p, nsp, op);
            ck_str t = {0};
            attr_text(&t, k->out_pad, &v);
            if (c && set_arg(c, pi, k->out_pad, v))
                keep(s, c, CK_FIX_UPSTREAM, p->name, "the upsampled branch matches its skip", "%s",
                     t.p);
            else
                ck_graph_free(c);
            ck_str_free(&t);
        }
    }
    /* zero-pad the smaller operand at the end of each axis */
    const char *type = NULL;
    ck_value pv = {.kind = CK_V_LIST, .is_tuple = true};
    if (n->a.dialect == CK_DIALECT_PYTORCH) {
        /* (left, right, top, bottom, front, back): last axis first */
        static const char *const t[] = {"ZeroPad1d", "ZeroPad2d", "ZeroPad3d"};
        type = t[nsp - 1];
        pv.n = 2 * nsp;
        pv.items = calloc((size_t)pv.n, sizeof *pv.items);
        if (!pv.items) return;
        for (int i = 0; i < nsp; i++) {
            pv.items[2 * i] = v_int(0);
            pv.items[2 * i + 1] = v_int(diff[nsp - 1 - i]);
        }
    } else if (n->a.dialect == CK_DIALECT_KERAS) {
        static const char *const t[] = {"ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"};
        type = t[nsp - 1];
        pv.n = nsp;
        pv.items = calloc((size_t)nsp, sizeof *pv.items);
        if (!pv.items) return;
        for (int i = 0; i < nsp; i++) {
            int64_t two[2] = {0, diff[i]};
            pv.items[i] = (ck_value){.kind = CK_V_LIST, .is_tuple = true, .n = 2};
            pv.items[i].items = calloc(2, sizeof(ck_value));
            if (pv.items[i].items) {
                pv.items[i].items[0] = v_int(two[0]);
                pv.items[i].items[1] = v_int(two[1]);
            }
        }
    } else {
        return;
    }
    char name[300], where[600];
    snprintf(name, sizeof name, "%s_pad", g->vals[sv].name);
    snprintf(where, sizeof where, "on operand %d (%s) of %s", small, g->vals[sv].name, n->name);
    insert_fix(s, ck_graph_clone(g, false), ni, small, n->a.dialect, type, name, pv, n->name,
               "pads the smaller branch to the larger one", where);
}

/* PyTorch refuses padding='same' with a stride: the explicit padding
 * TensorFlow would use at this input size, symmetric or via ZeroPad. */
static void same_stride_fixes(search *s, int ni) {
    const ck_graph *g = s->base;
    const ck_node *n = &g->nodes[ni];
    if (n->a.dialect != CK_DIALECT_PYTORCH || n->n_in == 0) return;
    const ck_value *pv = ck_args_get(
        &n->args, has_param(n, "padding") ? ck_param_index(n->fe, "padding") : -1, "padding");
    if (!pv || pv->kind != CK_V_STR || strcmp(pv->s, "same") != 0) return;
    /* rebuild with padding=0 to get the layer's attributes, then resolve
     * TF's 'same' pads with the shared rule */
    ck_graph *c = ck_graph_clone(g, false);
    if (!c || !set_arg(c, ni, "padding", v_int(0))) {
        ck_graph_free(c);
        return;
    }
    ck_attrs a = c->nodes[ni].a;
    a.pad_mode = CK_PAD_SAME_UPPER;
    const ck_shape *x = &g->vals[n->in[0]].shape;
    int nsp = a.nsp;
    int64_t pb[CK_MAX_SP], pe[CK_MAX_SP];
    bool sym = true;
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(&a, x->rank, nsp, i);
        if (ax < 0 || ax >= x->rank || !ck_resolve_pads(&a, i, x->d[ax], &pb[i], &pe[i])) {
            ck_graph_free(c);
            return;
        }
        sym &= pb[i] == pe[i];
    }
    ck_str why = {0};
    ck_str_add(&why, "PyTorch refuses padding='same' with stride > 1 because the padding would "
                     "depend on the input size; TensorFlow pads ");
    for (int i = 0; i < nsp; i++)
        ck_str_addf(&why, "%s%s %lld+%lld", i ? ", " : "", ck_axis_name(nsp, i), (long long)pb[i],
                    (long long)pe[i]);
    ck_str_add(&why, " here");
    if (sym) {
        ck_value v = v_ints(&c->nodes[ni], nsp, pb);
        ck_str t = {0};
        attr_text(&t, "padding", &v);
        if (set_arg(c, ni, "padding", v))
            keep(s, c, CK_FIX_LAYER, n->name, why.p, "%s", t.p);
        else
            ck_graph_free(c);
        ck_str_free(&t);
    } else {
        static const char *const t[] = {"ZeroPad1d", "ZeroPad2d", "ZeroPad3d"};
        ck_value p = {.kind = CK_V_LIST, .is_tuple = true, .n = 2 * nsp};
        p.items = calloc((size_t)p.n, sizeof *p.items);
        if (!p.items) {
            ck_graph_free(c);
            ck_str_free(&why);
            return;
        }
        for (int i = 0; i < nsp; i++) {
            p.items[2 * i] = v_int(pb[nsp - 1 - i]);
            p.items[2 * i + 1] = v_int(pe[nsp - 1 - i]);
        }
        char name[300], where[320];
        snprintf(name, sizeof name, "%s_pad", n->name);
        snprintf(where, sizeof where, "before %s and set padding=0", n->name);
        insert_fix(s, c, ni, 0, CK_DIALECT_PYTORCH, t[nsp - 1], name, p, n->name, why.p, where);
    }
    ck_str_free(&why);
}

/* Pool padding over kernel/2 and other padding values a framework refuses:
 * the largest padding it accepts. */
static void padding_limit_fixes(search *s, int ni) {
    const ck_node *n = &s->base->nodes[ni];
    if (!is_window(n) || n->a.pad_mode != CK_PAD_EXPLICIT) return;
    const ck_knobs *k = knobs_of(n);
    for (int i = 0; i < n->a.nsp; i++) {
        int64_t cur[CK_MAX_SP];
        for (int j = 0; j < n->a.nsp; j++) cur[j] = n->a.pad_begin[j];
        int64_t less = ck_sat_add(cur[i], -1), half = n->a.kernel[i] / 2;
        int64_t start = less < half ? less : half;
        if (walk_values(s, ni, k->pad, cur, i, start, 0, -1, n->a.dialect == CK_DIALECT_ONNX,
                        CK_FIX_LAYER, "the largest padding the layer accepts"))
            return;
    }
}

static void output_padding_fixes(search *s, int ni) {
    const ck_node *n = &s->base->nodes[ni];
    if (n->op != CK_OP_CONV_TRANSPOSE) return;
    const ck_knobs *k = knobs_of(n);
    for (int i = 0; i < n->a.nsp; i++)
        if (n->a.out_pad[i] > 0 &&
            walk_values(s, ni, k->out_pad, n->a.out_pad, i, ck_sat_add(n->a.out_pad[i], -1), 0, -1,
                        false, CK_FIX_LAYER, "the largest output_padding the layer accepts"))
            return;
}

/* A reshape whose element count disagrees: a target that holds what
 * arrives (keeping the channel count), or the Dense/Linear before it sized
 * to the target. */
static void reshape_fixes(search *s, int ni) {
    const ck_graph *g = s->base;
    const ck_node *n = &g->nodes[ni];
    if (n->n_in == 0) return;
    const ck_shape *x = &g->vals[n->in[0]].shape;
    int64_t have = 1, want = 1;
    for (int i = 1; i < x->rank; i++)
        if (!ck_mul(have, x->d[i], &have)) return;
    const char *tp = n->a.dialect == CK_DIALECT_KERAS     ? "target_shape"
                     : n->a.dialect == CK_DIALECT_PYTORCH ? "unflattened_size"
                                                          : NULL;
    int r = n->a.shape_rank;
    if (!tp || !has_param(n, tp) || r < 2 || r > 3) return;
    for (int i = 0; i < r; i++)
        if (n->a.shape[i] <= 0 || !ck_mul(want, n->a.shape[i], &want)) return;
    /* keep the last (Keras) or first (PyTorch) axis: the channels */
    bool keras = n->a.dialect == CK_DIALECT_KERAS;
    int64_t c = keras ? n->a.shape[r - 1] : n->a.shape[0];
    if (c > 0 && have % c == 0) {
        int64_t q = have / c, side = isqrt(q);
        int64_t t[3];
        bool ok = r == 2 || side * side == q;
        if (r == 2)
            t[0] = keras ? q : c, t[1] = keras ? c : q;
        else if (keras)
            t[0] = t[1] = side, t[2] = c;
        else
            t[0] = c, t[1] = t[2] = side;
        if (ok) {
            ck_graph *cg = ck_graph_clone(g, false);
            ck_value v = v_ints(n, r, t);
            if (v.kind == CK_V_INT) { /* a shape stays a tuple */
                ck_value_free(&v);
                v = (ck_value){.kind = CK_V_LIST, .is_tuple = true, .n = r};
                v.items = calloc((size_t)r, sizeof *v.items);
                for (int i = 0; v.items && i < r; i++) v.items[i] = v_int(t[i]);
            }
            ck_str txt = {0};
            attr_text(&txt, tp, &v);
            if (cg && set_arg(cg, ni, tp, v))
                keep(s, cg, CK_FIX_LAYER, n->name, "the shape the arriving elements fill", "%s",
                     txt.p);
            else
                ck_graph_free(cg);
            ck_str_free(&txt);
        }
    }
    /* the Dense/Linear before it produces the target's element count */
    int pi = g->vals[n->in[0]].producer;
    /* through the layers that keep the element count (BatchNorm, activations) */
    while (pi >= 0 && g->nodes[pi].n_in > 0 &&
           (g->nodes[pi].op == CK_OP_ACTIVATION || g->nodes[pi].op == CK_OP_BATCH_NORM ||
            g->nodes[pi].op == CK_OP_IDENTITY))
        pi = g->vals[g->nodes[pi].in[0]].producer;
    if (pi >= 0 && g->nodes[pi].op == CK_OP_LINEAR) {
        const ck_node *p = &g->nodes[pi];
        const char *units = p->a.dialect == CK_DIALECT_KERAS ? "units" : "out_features";
        if (has_param(p, units)) {
            ck_graph *cg = ck_graph_clone(g, false);
            if (cg && set_arg(cg, pi, units, v_int(want)))
                keep(s, cg, CK_FIX_UPSTREAM, p->name, "it then produces what the reshape needs",
                     "%s=%lld", units, (long long)want);
            else
                ck_graph_free(cg);
        }
    }
}

static void rank_fixes(search *s) {
    const ck_graph *g = s->base;
    if (g->n_inputs == 0) return;
    ck_shape sh = g->declared[0];
    if (sh.rank >= CK_MAX_RANK) return;
    memmove(&sh.d[1], &sh.d[0], (size_t)sh.rank * sizeof sh.d[0]);
    sh.d[0] = 1;
    sh.rank++;
    char buf[256];
    ck_graph *c = ck_graph_clone(g, false);
    if (c) ck_graph_set_input_shape(c, 0, &sh);
    keep(s, c, CK_FIX_INPUT, NULL, "the layers expect a batch axis first", "input %s",
         ck_shape_str(&sh, buf, sizeof buf));
}

ck_status ck_find_fixes(const ck_graph *g0, ck_fixes *out, ck_diags *diags) {
    (void)diags;
    if (!out) return CK_EUSAGE;
    memset(out, 0, sizeof *out);
    if (!g0) return CK_EUSAGE;
    search s = {.out = out};
    s.base = ck_graph_clone(g0, false);
    if (!s.base) return CK_ENOMEM;
    ck_probe_graph(s.base, &s.p0, NULL);
    out->checks++;
    if (s.p0.ok || s.p0.fail_node < 0) {
        ck_graph_free(s.base);
        return CK_OK;
    }
    int ni = s.p0.fail_node;
    const ck_node *n = &s.base->nodes[ni];
    int axis_i = spatial_index(s.base, n, s.p0.fail_axis);
    switch (s.p0.code) {
    case CK_OUTPUT_TOO_SMALL:
        input_fixes(&s);
        if (is_window(n)) window_fixes(&s, ni, axis_i, CK_FIX_LAYER, true);
        if (axis_i >= 0 || is_window(n)) upstream_fixes(&s, ni, s.p0.fail_axis);
        break;
    case CK_CHANNEL_MISMATCH:
        channel_fixes(&s, ni);
        break;
    case CK_FEATURE_MISMATCH:
        feature_fixes(&s, ni);
        input_fixes(&s);
        break;
    case CK_SKIP_MISMATCH:
        input_fixes(&s);
        join_fixes(&s, ni);
        break;
    case CK_INVALID_PADDING:
        same_stride_fixes(&s, ni);
        padding_limit_fixes(&s, ni);
        break;
    case CK_INVALID_OUTPUT_SIZE:
        output_padding_fixes(&s, ni);
        input_fixes(&s);
        break;
    case CK_RANK_MISMATCH:
        rank_fixes(&s);
        break;
    case CK_RESHAPE_MISMATCH:
        reshape_fixes(&s, ni);
        input_fixes(&s);
        break;
    case CK_EMPTY_INPUT:
        input_fixes(&s);
        break;
    default:
        break;
    }
    ck_graph_free(s.base);
    return CK_OK;
}

int ck_first_error(const ck_diags *d) {
    for (int i = 0; d && i < d->n; i++)
        if (d->v[i].severity == CK_SEV_ERROR) return i;
    return -1;
}

int ck_fixes_attach(const ck_fixes *f, ck_diags *d) {
    int first = ck_first_error(d);
    for (int i = 0; first >= 0 && i < f->n; i++) {
        char *t = ck_fix_str(&f->v[i]);
        if (t) ck_diag_fix(&d->v[first], "%s", t);
        free(t);
    }
    return first;
}

ck_status ck_attach_fixes(const ck_graph *g, ck_diags *diags) {
    if (!g) return CK_EUSAGE;
    if (ck_first_error(diags) < 0) return CK_OK;
    ck_fixes f;
    ck_status st = ck_find_fixes(g, &f, diags);
    if (st != CK_OK) return st;
    ck_fixes_attach(&f, diags);
    ck_fixes_free(&f);
    return CK_OK;
}
