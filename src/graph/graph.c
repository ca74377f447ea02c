/* Graph construction: values, tensors, and layers bound through the
 * frontend tables. */
#include "graph/graph.h"
#include "core/blob.h"
#include "core/ref.h"
#include "ops/ops.h"

#include <string.h>

void ck_tensor_free(ck_tensor *t) {
    if (!t) return;
    free(t->name);
    free(t->f32);
    free(t->i64);
    free(t->ext_path);
    memset(t, 0, sizeof *t);
}

ck_limits ck_limits_resolve(const ck_limits *lim) {
    ck_limits r = lim ? *lim : (ck_limits){0};
    if (r.max_file_bytes <= 0) r.max_file_bytes = (int64_t)1 << 30;
    if (r.max_nodes <= 0) r.max_nodes = 100000;
    if (r.max_depth <= 0) r.max_depth = 64;
    if (r.max_string <= 0) r.max_string = 65536;
    if (r.max_elements <= 0) r.max_elements = (int64_t)1 << 31;
    if (r.max_sizes <= 0) r.max_sizes = 1000000;
    return r;
}

ck_limits ck_graph_limits(const ck_graph *g) {
    return g ? g->lim : ck_limits_resolve(NULL);
}

void ck_graph_set_limits(ck_graph *g, const ck_limits *lim) {
    if (g) g->lim = ck_limits_resolve(lim);
}

ck_graph *ck_graph_new(ck_dialect dialect, const char *source) {
    ck_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->lim = ck_limits_resolve(NULL);
    g->dialect = dialect;
    g->source = ck_strdup(source ? source : "");
    if (!g->source) {
        free(g);
        return NULL;
    }
    return g;
}

static void node_free(ck_node *n) {
    free(n->name);
    free(n->type);
    free(n->in);
    free(n->out);
    free(n->params);
    free(n->in_names);
    free(n->src_def);
    free(n->src_call);
    ck_args_free(&n->args);
    ck_args_free(&n->fwd);
    if (n->config_error) {
        ck_diag_clear(n->config_error);
        free(n->config_error);
    }
}

void ck_graph_free(ck_graph *g) {
    if (!g) return;
    ck_ref_release(g->srcmap);
    for (int i = 0; i < g->n_nodes; i++) node_free(&g->nodes[i]);
    for (int i = 0; i < g->n_vals; i++) {
        free(g->vals[i].name);
        ck_val_forget(&g->vals[i]); /* a constant's contents are its tensor's */
    }
    for (int i = 0; i < g->n_tensors; i++) ck_tensor_free(&g->tensors[i]);
    ck_blob_release(g->blob);
    ck_diags_free(&g->warnings);
    free(g->nodes);
    free(g->vals);
    free(g->tensors);
    free(g->inputs);
    free(g->declared);
    for (int i = 0; g->sym && i < g->n_inputs * CK_MAX_RANK; i++) free(g->sym[i]);
    free(g->sym);
    free(g->scalar);
    free(g->outputs);
    free(g->source);
    free(g->val_ix);
    free(g->node_ix);
    free(g);
}

static bool grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return true;
    int c = *cap ? *cap * 2 : 16;
    while (c < need) c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q) return false;
    memset((char *)q + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
    *p = q;
    *cap = c;
    return true;
}

/* ---- name indexes ----------------------------------------------------- */

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static const char *val_name(const ck_graph *g, int i) {
    return g->vals[i].name;
}
static const char *node_name(const ck_graph *g, int i) {
    return g->nodes[i].name;
}

/* The slot holding `name`, or the empty slot where it would go. */
static int ix_slot(const ck_graph *g, const int *ix, int cap, const char *name,
                   const char *(*nm)(const ck_graph *, int)) {
    int m = cap - 1;
    int k = (int)(name_hash(name) & (uint64_t)m);
    while (ix[k] >= 0 && strcmp(nm(g, ix[k]), name) != 0) k = (k + 1) & m;
    return k;
}

/* Sets name -> i (replacing an entry of the same name); grows at half load. */
static bool ix_put(ck_graph *g, int **ix, int *cap, int count, int i,
                   const char *(*nm)(const ck_graph *, int)) {
    if (2 * (count + 1) > *cap) {
        int nc = *cap ? *cap * 2 : 64;
        while (2 * (count + 1) > nc) nc *= 2;
        int *n = malloc((size_t)nc * sizeof *n);
        if (!n) return false;
        for (int k = 0; k < nc; k++) n[k] = -1;
        for (int k = 0; k < *cap; k++)
            if ((*ix)[k] >= 0) n[ix_slot(g, n, nc, nm(g, (*ix)[k]), nm)] = (*ix)[k];
        free(*ix);
        *ix = n;
        *cap = nc;
    }
    (*ix)[ix_slot(g, *ix, *cap, nm(g, i), nm)] = i;
    return true;
}

static int ix_get(const ck_graph *g, const int *ix, int cap, const char *name,
                  const char *(*nm)(const ck_graph *, int)) {
    if (!cap) return -1;
    return ix[ix_slot(g, ix, cap, name, nm)];
}

/* Rebuilds both indexes (after a clone or a node insertion). */
static bool reindex(ck_graph *g) {
    free(g->val_ix);
    free(g->node_ix);
    g->val_ix = g->node_ix = NULL;
    g->val_cap = g->node_cap = 0;
    for (int i = 0; i < g->n_vals; i++)
        if (!ix_put(g, &g->val_ix, &g->val_cap, i, i, val_name)) return false;
    for (int i = 0; i < g->n_nodes; i++)
        if (!ix_put(g, &g->node_ix, &g->node_cap, i, i, node_name)) return false;
    return true;
}

/* The newest value of that name (a name may be reused). */
int ck_graph_find_val(const ck_graph *g, const char *name) {
    return ix_get(g, g->val_ix, g->val_cap, name, val_name);
}

int ck_graph_add_val(ck_graph *g, const char *name, int producer) {
    if (!grow((void **)&g->vals, &g->cap_vals, g->n_vals + 1, sizeof *g->vals)) return -1;
    ck_val *v = &g->vals[g->n_vals];
    memset(v, 0, sizeof *v);
    v->name = ck_strdup(name);
    if (!v->name) return -1;
    v->producer = producer;
    v->input_index = -1;
    v->tensor = -1;
    if (!ix_put(g, &g->val_ix, &g->val_cap, g->n_vals, g->n_vals, val_name)) {
        free(v->name);
        return -1;
    }
    return g->n_vals++;
}

int ck_graph_add_input(ck_graph *g, const char *name, const ck_shape *declared,
                       bool channels_last) {
    int v = ck_graph_add_val(g, name, -1);
    if (v < 0) return -1;
    int *in = realloc(g->inputs, (size_t)(g->n_inputs + 1) * sizeof *in);
    if (!in) return -1;
    g->inputs = in;
    ck_shape *dc = realloc(g->declared, (size_t)(g->n_inputs + 1) * sizeof *dc);
    if (!dc) return -1;
    g->declared = dc;
    if (g->sym) {
        char **sy = realloc(g->sym, (size_t)(g->n_inputs + 1) * CK_MAX_RANK * sizeof *sy);
        if (!sy) return -1;
        g->sym = sy;
        memset(&sy[g->n_inputs * CK_MAX_RANK], 0, CK_MAX_RANK * sizeof *sy);
    }
    if (g->scalar) {
        bool *sc = realloc(g->scalar, (size_t)(g->n_inputs + 1) * sizeof *sc);
        if (!sc) return -1;
        g->scalar = sc;
        sc[g->n_inputs] = false;
    }
    g->inputs[g->n_inputs] = v;
    g->declared[g->n_inputs] = declared ? *declared : (ck_shape){0};
    g->vals[v].input_index = g->n_inputs;
    g->vals[v].channels_last = channels_last;
    g->n_inputs++;
    return v;
}

bool ck_graph_set_symbol(ck_graph *g, int input, int axis, const char *name) {
    if (input < 0 || input >= g->n_inputs || axis < 0 || axis >= CK_MAX_RANK) return false;
    if (!g->sym && !(g->sym = calloc((size_t)g->n_inputs * CK_MAX_RANK, sizeof *g->sym)))
        return false;
    char **at = &g->sym[input * CK_MAX_RANK + axis];
    free(*at);
    return (*at = ck_strdup(name)) != NULL;
}

bool ck_graph_set_scalar_input(ck_graph *g, int input) {
    if (input < 0 || input >= g->n_inputs) return false;
    if (!g->scalar && !(g->scalar = calloc((size_t)g->n_inputs, sizeof *g->scalar))) return false;
    g->scalar[input] = true;
    return true;
}

const char *ck_graph_symbol(const ck_graph *g, int input, int axis) {
    if (!g->sym || input < 0 || input >= g->n_inputs || axis < 0 || axis >= CK_MAX_RANK)
        return NULL;
    return g->sym[input * CK_MAX_RANK + axis];
}

int ck_graph_add_tensor(ck_graph *g, ck_tensor *t) {
    if (!grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1, sizeof *g->tensors)) {
        ck_tensor_free(t);
        return -1;
    }
    g->tensors[g->n_tensors] = *t;
    memset(t, 0, sizeof *t);
    return g->n_tensors++;
}

int ck_graph_add_const(ck_graph *g, const char *name, int tensor) {
    int v = ck_graph_add_val(g, name, -1);
    if (v < 0) return -1;
    g->vals[v].tensor = tensor;
    return v;
}

void ck_graph_mark_output(ck_graph *g, int v) {
    int *o = realloc(g->outputs, (size_t)(g->n_outputs + 1) * sizeof *o);
    if (!o) return;
    g->outputs = o;
    g->outputs[g->n_outputs++] = v;
}

void ck_graph_warn(ck_graph *g, ck_code code, const char *layer, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ck_diag_vadd(&g->warnings, code == CK_NOTE ? CK_SEV_NOTE : CK_SEV_WARNING, code, layer, NULL,
                 fmt, ap);
    va_end(ap);
}

ck_dialect ck_graph_dialect(const ck_graph *g) {
    return g ? g->dialect : CK_DIALECT_NONE;
}
int ck_graph_num_inputs(const ck_graph *g) {
    return g ? g->n_inputs : 0;
}
const char *ck_graph_input_name(const ck_graph *g, int i) {
    return (g && i >= 0 && i < g->n_inputs) ? g->vals[g->inputs[i]].name : NULL;
}
ck_shape ck_graph_input_shape(const ck_graph *g, int i) {
    return (g && i >= 0 && i < g->n_inputs) ? g->declared[i] : (ck_shape){0};
}
bool ck_graph_input_channels_last(const ck_graph *g, int i) {
    return (g && i >= 0 && i < g->n_inputs) ? g->vals[g->inputs[i]].channels_last : false;
}
ck_status ck_graph_set_input_shape(ck_graph *g, int i, const ck_shape *s) {
    if (!g || i < 0 || i >= g->n_inputs || !s || s->rank < 0 || s->rank > CK_MAX_RANK)
        return CK_EUSAGE;
    g->declared[i] = *s;
    for (int a = 0; g->sym && a < CK_MAX_RANK; a++) {
        free(g->sym[i * CK_MAX_RANK + a]);
        g->sym[i * CK_MAX_RANK + a] = NULL;
    }
    /* import warnings about this input's shape (symbolic dims) are moot now */
    const char *name = g->vals[g->inputs[i]].name;
    int k = 0;
    for (int j = 0; j < g->warnings.n; j++) {
        ck_diag *w = &g->warnings.v[j];
        if (w->layer && !strcmp(w->layer, name))
            ck_diag_clear(w);
        else
            g->warnings.v[k++] = *w;
    }
    g->warnings.n = k;
    return CK_OK;
}

/* Keras layer configs carry bookkeeping keys that never affect shapes. */
static const char *const keras_ignored[] = {"name",
                                            "trainable",
                                            "dtype",
                                            "kernel_initializer",
                                            "bias_initializer",
                                            "depthwise_initializer",
                                            "pointwise_initializer",
                                            "kernel_regularizer",
                                            "bias_regularizer",
                                            "activity_regularizer",
                                            "depthwise_regularizer",
                                            "pointwise_regularizer",
                                            "kernel_constraint",
                                            "bias_constraint",
                                            "depthwise_constraint",
                                            "pointwise_constraint",
                                            "input_shape",
                                            "batch_input_shape",
                                            "batch_size",
                                            "input_dim",
                                            "input_length",
                                            "init",
                                            "W_regularizer",
                                            "b_regularizer",
                                            "W_constraint",
                                            "b_constraint",
                                            "weights",
                                            "seed",
                                            "noise_shape",
                                            "lora_rank",
                                            "lora_alpha",
                                            "quantization_config",
                                            "beta_initializer",
                                            "gamma_initializer",
                                            "moving_mean_initializer",
                                            "moving_variance_initializer",
                                            "beta_regularizer",
                                            "gamma_regularizer",
                                            "beta_constraint",
                                            "gamma_constraint",
                                            "synchronized",
                                            "renorm",
                                            "renorm_clipping",
                                            "renorm_momentum",
                                            "virtual_batch_size",
                                            "adjustment",
                                            "momentum",
                                            "fused",
                                            "mode",
                                            "interpolation_order",
                                            NULL};
static const char *const torch_ignored[] = {"device", "dtype", "inplace", NULL};

static bool in_list(const char *const *l, const char *s) {
    for (; *l; l++)
        if (strcmp(*l, s) == 0) return true;
    return false;
}

/* Binds positional and keyword arguments to the frontend's parameter list. */
static bool bind_args(const ck_frontend *fe, const ck_node *n, bool warn, const ck_value **bound,
                      int nparams, ck_build *b) {
    const ck_args *a = &n->args;
    if (a->npos > nparams) {
        ck_build_fail(b, CK_INVALID_CONFIG,
                      "%s takes at most %d positional argument%s but %d %s given", fe->name,
                      nparams, nparams == 1 ? "" : "s", a->npos, a->npos == 1 ? "was" : "were");
        return false;
    }
    for (int i = 0; i < a->npos; i++) bound[i] = &a->pos[i];
    for (int i = 0; i < a->nkw; i++) {
        const char *k = a->kw_names[i];
        int idx = ck_param_index(fe, k);
        if (idx < 0) {
            if (fe->dialect == CK_DIALECT_KERAS && in_list(keras_ignored, k)) continue;
            if (fe->dialect == CK_DIALECT_PYTORCH && in_list(torch_ignored, k)) continue;
            if (n->lenient) {
                if (warn)
                    ck_graph_warn(b->g, CK_NOTE, n->name,
                                  "%s: argument '%s' is not used by convkit", fe->name, k);
                continue;
            }
            ck_build_fail(b, CK_INVALID_CONFIG, "%s got an unexpected keyword argument '%s'",
                          fe->name, k);
            return false;
        }
        if (bound[idx]) {
            ck_build_fail(b, CK_INVALID_CONFIG, "%s got multiple values for argument '%s'",
                          fe->name, k);
            return false;
        }
        bound[idx] = &a->kw[i];
    }
    for (int i = 0; i < fe->n_required; i++)
        if (!bound[i]) {
            ck_build_fail(b, CK_INVALID_CONFIG, "%s is missing the required argument '%s'",
                          fe->name, fe->params[i]);
            return false;
        }
    return true;
}

/* Normalises node ni's arguments into its attributes through its frontend;
 * an argument problem becomes the node's config_error. */
static void bind_node(ck_graph *g, int ni, bool warn) {
    ck_node *n = &g->nodes[ni];
    const ck_frontend *fe = n->fe;
    ck_dialect dialect = n->a.dialect;
    if (n->config_error) {
        ck_diag_clear(n->config_error);
        free(n->config_error);
        n->config_error = NULL;
    }
    ck_attrs_init(&n->a, dialect, fe ? fe->nsp : 0);
    if (!fe) return;
    ck_diags cfg = {0};
    int np = 0;
    while (fe->params && fe->params[np]) np++;
    const ck_value *bound[64] = {0};
    ck_build b = {.fe = fe,
                  .a = &n->a,
                  .arg = bound,
                  .fwd = n->fwd.npos || n->fwd.nkw ? &n->fwd : NULL,
                  .layer = n->name,
                  .type = n->type,
                  .g = g,
                  .n_params = n->n_params,
                  .params = n->params,
                  .n_in = n->n_in,
                  .in = n->in,
                  .d = &cfg};
    if (np <= 64 && bind_args(fe, n, warn, bound, np, &b) && fe->build) fe->build(&b);
    n = &g->nodes[ni];
    if (cfg.n > 0) {
        n->config_error = malloc(sizeof *n->config_error);
        if (n->config_error) {
            *n->config_error = cfg.v[0];
            cfg.v[0] = (ck_diag){0};
        }
    }
    ck_diags_free(&cfg);
}

bool ck_node_set_in_names(const ck_graph *g, ck_node *n) {
    if (n->n_in == 0) return true;
    if (!n->in_names) {
        n->in_names = malloc((size_t)n->n_in * sizeof *n->in_names);
        if (!n->in_names) return false;
    }
    for (int k = 0; k < n->n_in; k++) n->in_names[k] = g->vals[n->in[k]].name;
    return true;
}

ck_status ck_graph_set_layer_source(ck_graph *g, int layer, const char *defined,
                                    const char *called) {
    if (!g || layer < 0 || layer >= g->n_nodes) return CK_EUSAGE;
    ck_node *n = &g->nodes[layer];
    char *d = defined ? ck_strdup(defined) : NULL, *c = called ? ck_strdup(called) : NULL;
    if ((defined && !d) || (called && !c)) {
        free(d);
        free(c);
        return CK_ENOMEM;
    }
    free(n->src_def);
    free(n->src_call);
    n->src_def = d;
    n->src_call = c;
    return CK_OK;
}

void ck_graph_rebuild_node(ck_graph *g, int ni) {
    if (ni >= 0 && ni < g->n_nodes) bind_node(g, ni, false);
}

int ck_graph_add_layer(ck_graph *g, const ck_layer_spec *sp, ck_diags *d) {
    if (g->n_nodes >= 10000000) return -1;
    size_t nl = strlen(sp->name), tl = strlen(sp->type);
    if (nl > (size_t)g->lim.max_string || tl > (size_t)g->lim.max_string) {
        ck_diag_add(d, CK_SEV_ERROR, CK_LIMIT_EXCEEDED, NULL, NULL,
                    "a layer %s is %zu characters long; the limit is %d (raise it with "
                    "--max-string)",
                    nl > tl ? "name" : "type", nl > tl ? nl : tl, g->lim.max_string);
        return -1;
    }
    for (int i = 0; i < sp->n_inputs; i++)
        if (sp->inputs[i] && strlen(sp->inputs[i]) > (size_t)g->lim.max_string) {
            ck_diag_add(d, CK_SEV_ERROR, CK_LIMIT_EXCEEDED, NULL, NULL,
                        "an input name of layer #%d is %zu characters long; the limit is %d "
                        "(raise it with --max-string)",
                        g->n_nodes + 1, strlen(sp->inputs[i]), g->lim.max_string);
            return -1;
        }
    int dup = ix_get(g, g->node_ix, g->node_cap, sp->name, node_name);
    if (dup >= 0) {
        ck_diag_add(d, CK_SEV_ERROR, CK_INVALID_CONFIG, sp->name, sp->type,
                    "the layer name '%s' is used twice (first at line %d)", sp->name,
                    g->nodes[dup].line);
        return -1;
    }
    int in_idx[64];
    if (sp->n_inputs > 64) {
        ck_diag_add(d, CK_SEV_ERROR, CK_LIMIT_EXCEEDED, sp->name, sp->type,
                    "%s has %d inputs; at most 64 are supported", sp->name, sp->n_inputs);
        return -1;
    }
    int n_in = 0;
    for (int i = 0; i < sp->n_inputs; i++) {
        if (!sp->inputs[i] || !sp->inputs[i][0]) continue;
        int v = ck_graph_find_val(g, sp->inputs[i]);
        if (v < 0) {
            ck_diag_add(d, CK_SEV_ERROR, CK_INVALID_CONFIG, sp->name, sp->type,
                        "%s reads '%s', which no earlier layer or input defines", sp->name,
                        sp->inputs[i]);
            return -1;
        }
        in_idx[n_in++] = v;
    }
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes)) return -1;
    int ni = g->n_nodes;
    ck_node *n = &g->nodes[ni];
    memset(n, 0, sizeof *n);
    n->name = ck_strdup(sp->name);
    n->type = ck_strdup(sp->type);
    n->line = sp->line;
    n->in = malloc((size_t)(n_in ? n_in : 1) * sizeof *n->in);
    n->params = malloc((size_t)(sp->n_params ? sp->n_params : 1) * sizeof *n->params);
    int n_out = sp->n_outputs ? sp->n_outputs : 1;
    n->out = malloc((size_t)n_out * sizeof *n->out);
    if (!n->name || !n->type || !n->in || !n->out || !n->params) {
        node_free(n);
        return -1;
    }
    memcpy(n->in, in_idx, (size_t)n_in * sizeof *n->in);
    n->n_in = n_in;
    if (!ck_node_set_in_names(g, n)) {
        node_free(n);
        return -1;
    }
    for (int i = 0; i < sp->n_params; i++) n->params[i] = sp->params[i];
    n->n_params = sp->n_params;
    if (!ix_put(g, &g->node_ix, &g->node_cap, ni, ni, node_name)) {
        node_free(n);
        return -1;
    }
    g->n_nodes++;

    n->lenient = sp->lenient;
    n->a.dialect = sp->dialect;
    if (!ck_args_copy(&n->args, sp->args) || !ck_args_copy(&n->fwd, sp->fwd)) return -1;
    n->fe = ck_frontend_find(sp->dialect, sp->type);
    n->op = n->fe ? n->fe->op : CK_OP_UNKNOWN;
    bind_node(g, ni, true);
    n = &g->nodes[ni];
    for (int i = 0; i < n_out; i++) {
        const char *on =
            (sp->n_outputs && sp->outputs && sp->outputs[i]) ? sp->outputs[i] : sp->name;
        int v = ck_graph_add_val(g, on, ni);
        if (v < 0) return -1;
        n = &g->nodes[ni];
        n->out[i] = v;
        n->n_out = i + 1;
    }
    return ni;
}

/* ---- copies and edits (fix search) -------------------------------------- */

static bool copy_ints(int **dst, const int *src, int n) {
    *dst = malloc((size_t)(n ? n : 1) * sizeof **dst);
    if (!*dst) return false;
    if (n) memcpy(*dst, src, (size_t)n * sizeof **dst);
    return true;
}

static bool clone_node(ck_node *d, const ck_node *s) {
    memset(d, 0, sizeof *d);
    d->name = ck_strdup(s->name);
    d->type = ck_strdup(s->type);
    d->fe = s->fe;
    d->op = s->op;
    d->a = s->a;
    d->n_in = s->n_in;
    d->n_out = s->n_out;
    d->n_params = s->n_params;
    d->line = s->line;
    d->lenient = s->lenient;
    d->state = s->state;
    d->params_count = s->params_count;
    d->macs = s->macs;
    d->ops = s->ops;
    if (!d->name || !d->type || !copy_ints(&d->in, s->in, s->n_in) ||
        !copy_ints(&d->out, s->out, s->n_out) || !copy_ints(&d->params, s->params, s->n_params) ||
        !ck_args_copy(&d->args, &s->args) || !ck_args_copy(&d->fwd, &s->fwd))
        return false;
    if ((s->src_def && !(d->src_def = ck_strdup(s->src_def))) ||
        (s->src_call && !(d->src_call = ck_strdup(s->src_call))))
        return false;
    if (s->config_error) {
        ck_diags tmp = {0};
        const ck_diag *e = s->config_error;
        ck_diag *c = ck_diag_add(&tmp, e->severity, e->code, e->layer, e->op, "%s",
                                 e->message ? e->message : "");
        if (!c) return false;
        if (e->axis) c->axis = ck_strdup(e->axis);
        if (e->formula) c->formula = ck_strdup(e->formula);
        for (int i = 0; i < e->n_notes; i++) ck_diag_note(c, "%s", e->notes[i]);
        d->config_error = malloc(sizeof *d->config_error);
        if (!d->config_error) {
            ck_diags_free(&tmp);
            return false;
        }
        *d->config_error = tmp.v[0];
        tmp.v[0] = (ck_diag){0};
        ck_diags_free(&tmp);
    }
    return true;
}

static bool clone_tensor(ck_tensor *d, const ck_tensor *s, bool weights) {
    *d = *s;
    d->name = NULL;
    d->f32 = NULL;
    d->i64 = NULL;
    d->ext_path = NULL;
    if (!weights) d->raw = NULL, d->raw_len = 0;
    int64_t n = 0;
    if (!(d->name = ck_strdup(s->name))) return false;
    if (s->ext_path && !(d->ext_path = ck_strdup(s->ext_path))) return false;
    if (s->f32 || s->i64) {
        if (!ck_shape_numel(&s->shape, &n)) return false;
    }
    if (s->f32 && (weights || n <= CK_TENSOR_SMALL_FLOATS)) { /* weights, or shape constants */
        d->f32 = malloc((size_t)(n ? n : 1) * sizeof *d->f32);
        if (!d->f32) return false;
        memcpy(d->f32, s->f32, (size_t)n * sizeof *d->f32);
    }
    if (s->i64) {
        d->i64 = malloc((size_t)(n ? n : 1) * sizeof *d->i64);
        if (!d->i64) return false;
        memcpy(d->i64, s->i64, (size_t)n * sizeof *d->i64);
    }
    return true;
}

ck_graph *ck_graph_clone(const ck_graph *g, bool weights) {
    ck_graph *c = ck_graph_new(g->dialect, g->source);
    if (!c) return NULL;
    c->lim = g->lim;
    if (weights) c->blob = ck_blob_retain(g->blob);
    c->nodes = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *c->nodes);
    c->vals = calloc((size_t)(g->n_vals ? g->n_vals : 1), sizeof *c->vals);
    c->tensors = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *c->tensors);
    if (!c->nodes || !c->vals || !c->tensors) goto fail;
    c->cap_nodes = g->n_nodes ? g->n_nodes : 1;
    c->cap_vals = g->n_vals ? g->n_vals : 1;
    c->cap_tensors = g->n_tensors ? g->n_tensors : 1;
    for (int i = 0; i < g->n_tensors; i++) {
        c->n_tensors = i + 1;
        if (!clone_tensor(&c->tensors[i], &g->tensors[i], weights)) goto fail;
    }
    for (int i = 0; i < g->n_vals; i++) {
        const ck_val *s = &g->vals[i];
        ck_val *v = &c->vals[i];
        c->n_vals = i + 1;
        *v = *s;
        v->name = NULL;
        v->kval = NULL;
        v->kflt = NULL;
        v->nkval = 0;
        v->state = CK_VAL_UNKNOWN;
        if (!(v->name = ck_strdup(s->name))) goto fail;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        c->n_nodes = i + 1;
        if (!clone_node(&c->nodes[i], &g->nodes[i]) || !ck_node_set_in_names(c, &c->nodes[i]))
            goto fail;
    }
    if (!copy_ints(&c->inputs, g->inputs, g->n_inputs) ||
        !copy_ints(&c->outputs, g->outputs, g->n_outputs))
        goto fail;
    c->n_inputs = g->n_inputs;
    c->n_outputs = g->n_outputs;
    c->declared = malloc((size_t)(g->n_inputs ? g->n_inputs : 1) * sizeof *c->declared);
    if (!c->declared) goto fail;
    if (g->n_inputs) memcpy(c->declared, g->declared, (size_t)g->n_inputs * sizeof *c->declared);
    for (int i = 0; g->sym && i < g->n_inputs * CK_MAX_RANK; i++)
        if (g->sym[i] && !ck_graph_set_symbol(c, i / CK_MAX_RANK, i % CK_MAX_RANK, g->sym[i]))
            goto fail;
    for (int i = 0; g->scalar && i < g->n_inputs; i++)
        if (g->scalar[i] && !ck_graph_set_scalar_input(c, i)) goto fail;
    for (int i = 0; i < g->warnings.n; i++) {
        const ck_diag *w = &g->warnings.v[i];
        if (!ck_diag_add(&c->warnings, w->severity, w->code, w->layer, w->op, "%s",
                         w->message ? w->message : ""))
            goto fail;
    }
    if (!reindex(c)) goto fail;
    c->srcmap = ck_ref_hold(g->srcmap);
    return c;
fail:
    ck_graph_free(c);
    return NULL;
}

int ck_graph_insert_layer(ck_graph *g, int before, int slot, const ck_layer_spec *spec,
                          ck_diags *d) {
    if (before < 0 || before >= g->n_nodes || slot < 0 || slot >= g->nodes[before].n_in) return -1;
    int src = g->nodes[before].in[slot];
    ck_layer_spec sp = *spec;
    const char *in_name = g->vals[src].name;
    sp.inputs = &in_name;
    sp.n_inputs = 1;
    sp.n_outputs = 0;
    int ni = ck_graph_add_layer(g, &sp, d);
    if (ni < 0) return -1;
    /* the new node was appended; rotate it into place so the node order
     * stays topological, and renumber the producers that moved */
    ck_node tmp = g->nodes[ni];
    memmove(&g->nodes[before + 1], &g->nodes[before], (size_t)(ni - before) * sizeof tmp);
    g->nodes[before] = tmp;
    for (int i = 0; i < g->n_vals; i++) {
        ck_val *v = &g->vals[i];
        if (v->producer == ni)
            v->producer = before;
        else if (v->producer >= before)
            v->producer++;
    }
    g->nodes[before + 1].in[slot] = g->nodes[before].out[0];
    ck_node_set_in_names(g, &g->nodes[before + 1]); /* the same count: nothing to allocate */
    if (!reindex(g)) return -1;
    /* the value name lookup finds the newest value of a name first; the new
     * output is named like the new layer, so nothing else is captured */
    return before;
}
