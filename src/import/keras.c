/* Keras model JSON reader (jansson).
 *
 * Reads what Keras writes for an architecture: `model.to_json()` (Keras 1,
 * 2 and 3), a TF.js `model.json` (model under `modelTopology`, sometimes
 * under `modelTopology.model_config`), the `model_config` attribute of an
 * HDF5 file (an object, or the JSON text as a string), the root object of a
 * SavedModel `keras_metadata.pb`, and `config.json` of a Keras 3 `.keras`
 * archive. Sequential and functional models, nested models (their layers
 * are named `outer/inner`, the nested model itself becomes an identity node
 * named `outer`), and every inbound_nodes layout Keras writes: Keras 1/2
 * [[["layer", node, tensor, {kwargs}]]], one flat ["layer", node, tensor,
 * {}] per node (SavedModel metadata), Keras 3 {"args": [__keras_tensor__
 * ...], "kwargs": {}}.
 *
 * Layers are handed to ck_graph_add_layer() with their Keras class name, so
 * the Keras frontend table (fe_keras.c) normalises their configs; unknown
 * classes become unsupported_op nodes. Batch None becomes 1; other None
 * dimensions become 0 with a warning (the CLI's --input replaces them).
 *
 * Untrusted input: nesting deeper than ck_limits.max_depth and more layers
 * than max_nodes are refused with limit_exceeded; JSON errors carry their
 * line and column; structural errors (missing keys, wrong types, an
 * undefined layer, a cycle) name the layer. Nothing here prints or aborts. */
#include "import/import.h"
#include "ops/ops.h"

#include <jansson.h>
#include <stdarg.h>
#include <string.h>

typedef struct kctx {
    ck_graph *g;
    ck_diags *d;
    const char *path;
    int max_nodes, max_depth;
    int n_layers; /* layer entries seen, nested ones included */
    bool failed;  /* a diagnostic has been reported; stop */
    bool oom;
    bool default_cl; /* layout given to graph inputs */
    int model_depth; /* nested model recursion */
    char **pool;     /* owned strings */
    int n_pool, cap_pool;
} kctx;

/* ---- small helpers ------------------------------------------------------ */

static ck_diag *kerr(kctx *c, ck_code code, const char *layer, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ck_diag *kerr(kctx *c, ck_code code, const char *layer, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ck_diag *dg = ck_diag_vadd(c->d, CK_SEV_ERROR, code, layer, NULL, fmt, ap);
    va_end(ap);
    if (dg && c->path) ck_diag_set(&dg->file, "%s", c->path);
    c->failed = true;
    return dg;
}

/* Keeps a string alive until the import ends. NULL (and failed) on OOM. */
static const char *keep(kctx *c, char *s) {
    if (!s) {
        c->oom = c->failed = true;
        return NULL;
    }
    if (c->n_pool == c->cap_pool) {
        int cap = c->cap_pool ? c->cap_pool * 2 : 64;
        char **p = realloc(c->pool, (size_t)cap * sizeof *p);
        if (!p) {
            free(s);
            c->oom = c->failed = true;
            return NULL;
        }
        c->pool = p;
        c->cap_pool = cap;
    }
    c->pool[c->n_pool++] = s;
    return s;
}

static const char *jstr(const json_t *o, const char *key) {
    return json_is_object(o) ? json_string_value(json_object_get(o, key)) : NULL;
}

static bool streq(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

/* Nesting depth of the raw text, checked before jansson builds the tree
 * (jansson's own limit is 2048). */
static bool check_depth(kctx *c, const char *p, size_t n) {
    int depth = 0, line = 1, col = 1;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < n; i++, col++) {
        char ch = p[i];
        if (ch == '\n') {
            line++;
            col = 0;
        }
        if (in_str) {
            if (esc)
                esc = false;
            else if (ch == '\\')
                esc = true;
            else if (ch == '"')
                in_str = false;
            continue;
        }
        if (ch == '"')
            in_str = true;
        else if (ch == '{' || ch == '[') {
            if (++depth > c->max_depth) {
                ck_diag *dg = ck_diag_parse(c->d, c->path, line, col,
                                            "JSON nesting deeper than %d levels", c->max_depth);
                if (dg) dg->code = CK_LIMIT_EXCEEDED;
                c->failed = true;
                return false;
            }
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return true;
}

/* ---- JSON values -> argument values ------------------------------------- */

static bool to_value(kctx *c, const json_t *j, ck_value *out) {
    memset(out, 0, sizeof *out);
    switch (json_typeof(j)) {
    case JSON_NULL:
        out->kind = CK_V_NONE;
        return true;
    case JSON_TRUE:
    case JSON_FALSE:
        out->kind = CK_V_BOOL;
        out->i = json_is_true(j);
        return true;
    case JSON_INTEGER:
        out->kind = CK_V_INT;
        out->i = (int64_t)json_integer_value(j);
        return true;
    case JSON_REAL:
        out->kind = CK_V_FLOAT;
        out->f = json_real_value(j);
        return true;
    case JSON_STRING:
        out->kind = CK_V_STR;
        out->s = ck_strdup(json_string_value(j));
        if (!out->s) c->oom = c->failed = true;
        return out->s != NULL;
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        out->kind = CK_V_LIST;
        out->is_tuple = true;
        if (n == 0) return true;
        out->items = calloc(n, sizeof *out->items);
        if (!out->items) {
            c->oom = c->failed = true;
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            if (!to_value(c, json_array_get(j, i), &out->items[i])) {
                ck_value_free(out);
                return false;
            }
            out->n = (int)i + 1;
        }
        return true;
    }
    case JSON_OBJECT: {
        /* SavedModel metadata wraps tuples and shapes:
         * {"class_name": "__tuple__" | "TensorShape", "items": [...]} */
        const json_t *items = json_object_get(j, "items");
        if (json_is_array(items)) return to_value(c, items, out);
        /* a serialized object: keep its name (an activation given as a
         * layer or function object) */
        const char *cfg = jstr(j, "config");
        const char *cls = jstr(j, "class_name");
        const char *s = cfg ? cfg : cls;
        if (!s) {
            out->kind = CK_V_NONE;
            return true;
        }
        out->kind = CK_V_STR;
        out->s = ck_strdup(s);
        if (!out->s) c->oom = c->failed = true;
        return out->s != NULL;
    }
    }
    out->kind = CK_V_NONE;
    return true;
}

/* Config keys that never affect shapes and are not constructor arguments a
 * frontend needs. */
static bool skip_key(const char *k) {
    static const char *const skip[] = {"name",
                                       "trainable",
                                       "dtype",
                                       "batch_input_shape",
                                       "batch_shape",
                                       "batchInputShape",
                                       "input_shape",
                                       "inputShape",
                                       "batch_size",
                                       "input_dim",
                                       "input_length",
                                       "input_dtype",
                                       "sparse",
                                       "ragged",
                                       "autocast",
                                       "expects_training_arg",
                                       "stateful",
                                       "must_restore_from_config",
                                       "init",
                                       "weights",
                                       "build_config",
                                       "module",
                                       "registered_name",
                                       "shared_object_id",
                                       "W_learning_rate_multiplier",
                                       "b_learning_rate_multiplier",
                                       NULL};
    for (int i = 0; skip[i]; i++)
        if (strcmp(k, skip[i]) == 0) return true;
    static const char *const suffix[] = {"_initializer", "_regularizer", "_constraint", "_init",
                                         NULL};
    size_t n = strlen(k);
    for (int i = 0; suffix[i]; i++) {
        size_t m = strlen(suffix[i]);
        if (n > m && strcmp(k + n - m, suffix[i]) == 0) return true;
    }
    return false;
}

/* ---- input shapes ------------------------------------------------------- */

/* Reads a shape list (maybe wrapped in {"items": [...]}) into *s: batch None
 * -> 1, other None -> 0 (bit k of *open for axis k). Returns false (with an error)
 * on a malformed shape; *found says whether there was one. */
static bool read_shape(kctx *c, const char *layer, const json_t *j, bool with_batch, ck_shape *s,
                       unsigned *open) {
    if (json_is_object(j)) j = json_object_get(j, "items");
    if (!json_is_array(j)) {
        kerr(c, CK_PARSE_ERROR, layer, "%s: the input shape must be a list of dimensions", layer);
        return false;
    }
    size_t n = json_array_size(j) + (with_batch ? 0 : 1);
    if (n > CK_MAX_RANK) {
        kerr(c, CK_LIMIT_EXCEEDED, layer, "%s: input of rank %zu; at most %d is supported", layer,
             n, CK_MAX_RANK);
        return false;
    }
    s->rank = (int)n;
    int k = 0;
    if (!with_batch) s->d[k++] = 1;
    for (size_t i = 0; i < json_array_size(j); i++, k++) {
        const json_t *e = json_array_get(j, i);
        if (json_is_null(e)) {
            s->d[k] = k == 0 ? 1 : 0;
            if (k > 0) *open |= 1u << k;
        } else if (json_is_integer(e) && json_integer_value(e) >= 0) {
            s->d[k] = (int64_t)json_integer_value(e);
        } else {
            kerr(c, CK_PARSE_ERROR, layer,
                 "%s: input shape entry %zu must be a non-negative integer or null", layer, i);
            return false;
        }
    }
    return true;
}

/* The input shape a layer config declares (InputLayer, or the first layer
 * of a Sequential): batch_input_shape / batch_shape / input_shape (+
 * batch_size) / Keras 1 input_dim (+ input_length). *has is false when none. */
static bool config_shape(kctx *c, const char *layer, const json_t *cfg, ck_shape *s, bool *has,
                         unsigned *open) {
    static const char *const batch_keys[] = {"batch_input_shape", "batch_shape", "batchInputShape",
                                             NULL};
    *has = false;
    if (!json_is_object(cfg)) return true;
    for (int i = 0; batch_keys[i]; i++) {
        const json_t *v = json_object_get(cfg, batch_keys[i]);
        if (v && !json_is_null(v)) {
            *has = true;
            return read_shape(c, layer, v, true, s, open);
        }
    }
    const json_t *v = json_object_get(cfg, "input_shape");
    if (!v || json_is_null(v)) v = json_object_get(cfg, "inputShape");
    if (v && !json_is_null(v)) {
        *has = true;
        if (!read_shape(c, layer, v, false, s, open)) return false;
        const json_t *bs = json_object_get(cfg, "batch_size");
        if (json_is_integer(bs) && json_integer_value(bs) > 0) s->d[0] = json_integer_value(bs);
        return true;
    }
    const json_t *dim = json_object_get(cfg, "input_dim");
    if (json_is_integer(dim) && json_integer_value(dim) > 0) {
        *has = true;
        const json_t *len = json_object_get(cfg, "input_length");
        s->rank = 0;
        s->d[s->rank++] = 1;
        if (json_is_integer(len) && json_integer_value(len) > 0)
            s->d[s->rank++] = json_integer_value(len);
        else if (len && json_is_null(len)) {
            s->d[s->rank++] = 0;
            *open |= 1u << 1;
        }
        s->d[s->rank++] = json_integer_value(dim);
    }
    return true;
}

/* Declares a graph input. */
static const char *add_input(kctx *c, const char *name, const ck_shape *s, bool has,
                             unsigned open) {
    if (ck_graph_find_val(c->g, name) >= 0) {
        kerr(c, CK_PARSE_ERROR, name, "the input name '%s' is used twice", name);
        return NULL;
    }
    if (ck_graph_add_input(c->g, name, has ? s : NULL, c->default_cl) < 0) {
        c->oom = c->failed = true;
        return NULL;
    }
    /* [None, None, None, 3]: the open axes are symbols, checked at every
     * size as an ONNX model's symbolic dims are */
    if (!ck_graph_keras_symbols(c->g, c->g->n_inputs - 1, open)) {
        c->oom = c->failed = true;
        return NULL;
    }
    return keep(c, ck_strdup(name));
}

bool ck_graph_keras_symbols(ck_graph *g, int in, unsigned open) {
    ck_shape s = ck_graph_input_shape(g, in);
    int nsp = s.rank - 2;
    for (int k = 1; k < s.rank; k++) {
        if (!((open >> k) & 1u)) continue;
        char name[24];
        if (k <= nsp)
            snprintf(name, sizeof name, "%s", ck_axis_name(nsp, k - 1));
        else
            snprintf(name, sizeof name, "d%d", k);
        if (!ck_graph_set_symbol(g, in, k, name)) return false;
    }
    return true;
}

/* ---- layers ------------------------------------------------------------- */

typedef struct klayer {
    const json_t *j;   /* the layer entry */
    const json_t *cfg; /* its config */
    const char *cls;
    const char *name;
    bool is_input, is_model;
} klayer;

static bool is_model_class(const char *cls, const json_t *cfg) {
    if (streq(cls, "Sequential") || streq(cls, "Model") || streq(cls, "Functional")) return true;
    return json_is_object(cfg) && json_is_array(json_object_get(cfg, "layers"));
}

/* Fills a klayer from a layers[] entry; false with an error when malformed. */
static bool read_layer(kctx *c, const json_t *j, int index, const char *where, klayer *L) {
    memset(L, 0, sizeof *L);
    L->j = j;
    if (!json_is_object(j)) {
        kerr(c, CK_PARSE_ERROR, NULL, "%s: layer %d is not a JSON object", where, index);
        return false;
    }
    if (++c->n_layers > c->max_nodes) {
        kerr(c, CK_LIMIT_EXCEEDED, NULL, "the model has more than %d layers", c->max_nodes);
        return false;
    }
    L->cls = jstr(j, "class_name");
    L->cfg = json_object_get(j, "config");
    L->name = jstr(j, "name");
    if (!L->name) L->name = jstr(L->cfg, "name");
    if (!L->name) {
        char *n = ck_sprintf("%s_%d", L->cls ? L->cls : "layer", index);
        L->name = keep(c, n);
        if (!L->name) return false;
    }
    if (!L->name[0]) {
        kerr(c, CK_PARSE_ERROR, NULL, "%s: layer %d has an empty name", where, index);
        return false;
    }
    if (!L->cls) {
        kerr(c, CK_PARSE_ERROR, L->name, "%s: layer '%s' has no class_name string", where, L->name);
        return false;
    }
    if (L->cfg && !json_is_object(L->cfg) && !json_is_array(L->cfg)) {
        kerr(c, CK_PARSE_ERROR, L->name, "layer '%s': config must be a JSON object", L->name);
        return false;
    }
    L->is_input = streq(L->cls, "InputLayer");
    L->is_model = is_model_class(L->cls, L->cfg);
    return true;
}

/* Adds one (non-model) layer call as a graph node named `name`. */
static const char *emit_layer(kctx *c, const klayer *L, const char *name, int n_in,
                              const char *const *in) {
    ck_args args = {0};
    const char *cls = L->cls;
    bool merge = streq(cls, "Merge");
    if (merge) {
        /* Keras 1 Merge(mode=...) */
        const char *mode = jstr(L->cfg, "mode");
        if (streq(mode, "sum"))
            cls = "Add";
        else if (streq(mode, "mul"))
            cls = "Multiply";
        else if (streq(mode, "ave"))
            cls = "Average";
        else if (streq(mode, "max"))
            cls = "Maximum";
        else if (streq(mode, "concat"))
            cls = "Concatenate";
    }
    if (json_is_object(L->cfg)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)L->cfg, k, v) {
            if (skip_key(k)) continue;
            if (merge && strcmp(k, "concat_axis") != 0) continue;
            ck_value cv;
            if (!to_value(c, v, &cv) || !ck_args_push_kw(&args, k, cv)) {
                c->oom = c->failed = true;
                ck_args_free(&args);
                return NULL;
            }
        }
    }
    ck_layer_spec sp = {.dialect = CK_DIALECT_KERAS,
                        .type = cls,
                        .name = name,
                        .args = &args,
                        .n_inputs = n_in,
                        .inputs = in,
                        .lenient = true};
    int ni = ck_graph_add_layer(c->g, &sp, c->d);
    ck_args_free(&args);
    if (ni < 0) {
        if (ck_diags_errors(c->d) == 0) c->oom = true;
        c->failed = true;
        return NULL;
    }
    return c->g->nodes[ni].name;
}

/* The identity node that stands for a nested model's output. */
static const char *emit_model_node(kctx *c, const char *cls, const char *name, const char *in) {
    ck_layer_spec sp = {.dialect = CK_DIALECT_KERAS,
                        .type = "Identity",
                        .name = name,
                        .n_inputs = 1,
                        .inputs = &in,
                        .lenient = true};
    int ni = ck_graph_add_layer(c->g, &sp, c->d);
    if (ni < 0) {
        c->failed = true;
        return NULL;
    }
    ck_node *n = &c->g->nodes[ni];
    char *t = ck_strdup(cls);
    if (!t) {
        c->oom = c->failed = true;
        return NULL;
    }
    free(n->type);
    n->type = t;
    return n->name;
}

/* ---- models ------------------------------------------------------------- */

typedef struct kout {
    int n;
    const char **v;
} kout;

static bool emit_model(kctx *c, const json_t *model, const char *prefix, int n_in,
                       const char *const *in, kout *out);

/* Calls nested model L on inputs `in`; node `name`; outputs in *out (owned
 * array of n strings, first = the identity node). */
static bool call_model(kctx *c, const klayer *L, const char *name, int n_in, const char *const *in,
                       kout *out) {
    if (c->model_depth >= c->max_depth) {
        kerr(c, CK_LIMIT_EXCEEDED, name, "models nested deeper than %d levels", c->max_depth);
        return false;
    }
    const char *prefix = keep(c, ck_sprintf("%s/", name));
    if (!prefix) return false;
    c->model_depth++;
    kout inner = {0};
    bool ok = emit_model(c, L->j, prefix, n_in, in, &inner);
    c->model_depth--;
    if (!ok) {
        free(inner.v);
        return false;
    }
    if (inner.n == 0) {
        free(inner.v);
        kerr(c, CK_PARSE_ERROR, name, "nested model '%s' has no outputs", name);
        return false;
    }
    const char *id = emit_model_node(c, L->cls, name, inner.v[0]);
    if (!id) {
        free(inner.v);
        return false;
    }
    inner.v[0] = id;
    *out = inner;
    return true;
}

static bool out_push(kctx *c, kout *o, const char *v) {
    const char **p = realloc(o->v, (size_t)(o->n + 1) * sizeof *p);
    if (!p) {
        c->oom = c->failed = true;
        return false;
    }
    o->v = p;
    o->v[o->n++] = v;
    return true;
}

/* The input shape of a model's first InputLayer (Sequential whose first
 * layer is a whole model). */
static bool nested_input_shape(kctx *c, const json_t *model, ck_shape *s, bool *has,
                               unsigned *open) {
    *has = false;
    const json_t *cfg = json_object_get(model, "config");
    const json_t *layers = json_is_array(cfg) ? cfg : json_object_get(cfg, "layers");
    if (!json_is_array(layers) || json_array_size(layers) == 0) return true;
    const json_t *first = json_array_get(layers, 0);
    const json_t *fcfg = json_object_get(first, "config");
    if (streq(jstr(first, "class_name"), "InputLayer") ||
        !is_model_class(jstr(first, "class_name"), fcfg))
        return config_shape(c, jstr(fcfg, "name"), fcfg, s, has, open);
    return nested_input_shape(c, first, s, has, open);
}

/* The name of a nested model's own InputLayer, prefixed by the models that
 * hold it ("xception/input_1"): the input of a Sequential whose first layer
 * is that model. NULL when its first layer is no InputLayer. */
static char *nested_input_name(const json_t *model, const char *prefix, int depth) {
    const json_t *cfg = json_object_get(model, "config");
    const json_t *layers = json_is_array(cfg) ? cfg : json_object_get(cfg, "layers");
    const char *mname = jstr(cfg, "name");
    if (!mname) mname = jstr(model, "name");
    if (!mname || !json_is_array(layers) || json_array_size(layers) == 0 || depth > 64) return NULL;
    const json_t *first = json_array_get(layers, 0);
    const json_t *fcfg = json_object_get(first, "config");
    const char *fname = jstr(fcfg, "name");
    if (!fname) fname = jstr(first, "name");
    if (streq(jstr(first, "class_name"), "InputLayer"))
        return fname ? ck_sprintf("%s%s/%s", prefix, mname, fname) : NULL;
    if (!is_model_class(jstr(first, "class_name"), fcfg)) return NULL;
    char *pre = ck_sprintf("%s%s/", prefix, mname);
    char *r = pre ? nested_input_name(first, pre, depth + 1) : NULL;
    free(pre);
    return r;
}

static bool emit_sequential(kctx *c, const json_t *model, const char *prefix, int n_in,
                            const char *const *in, kout *out) {
    const json_t *cfg = json_object_get(model, "config");
    const json_t *layers = json_is_array(cfg) ? cfg : json_object_get(cfg, "layers");
    const char *mname = jstr(cfg, "name");
    if (!json_is_array(layers)) {
        kerr(c, CK_PARSE_ERROR, mname, "Sequential model%s%s: config has no 'layers' list",
             mname ? " " : "", mname ? mname : "");
        return false;
    }
    if (n_in > 1) {
        kerr(c, CK_PARSE_ERROR, mname, "Sequential model %s called on %d inputs", prefix, n_in);
        return false;
    }
    const char *cur = n_in == 1 ? in[0] : NULL;
    size_t n = json_array_size(layers);
    for (size_t i = 0; i < n; i++) {
        klayer L;
        if (!read_layer(c, json_array_get(layers, i), (int)i, "Sequential", &L)) return false;
        const char *name = keep(c, ck_sprintf("%s%s", prefix, L.name));
        if (!name) return false;
        if (L.is_input) {
            if (cur) continue; /* a nested Sequential's InputLayer stands for its caller's input */
            ck_shape s = {0};
            bool has;
            unsigned open = 0;
            bool ok = config_shape(c, name, L.cfg, &s, &has, &open);
            if (ok) cur = add_input(c, name, &s, has, open);
            if (!cur) return false;
            continue;
        }
        if (!cur) {
            /* no InputLayer: batch_input_shape on the first layer, or the
             * Sequential's build_input_shape; the input is named "input",
             * or after a nested model's own InputLayer */
            ck_shape s = {0};
            bool has = false;
            unsigned open = 0;
            bool ok = L.is_model ? nested_input_shape(c, L.j, &s, &has, &open)
                                 : config_shape(c, name, L.cfg, &s, &has, &open);
            if (ok && !has && json_is_object(cfg)) {
                const json_t *b = json_object_get(cfg, "build_input_shape");
                if (!b) b = json_object_get(json_object_get(model, "build_config"), "input_shape");
                if (b && !json_is_null(b)) {
                    has = true;
                    ok = read_shape(c, name, b, true, &s, &open);
                }
            }
            char *nested = ok && L.is_model ? nested_input_name(L.j, prefix, 0) : NULL;
            const char *iname =
                !ok ? NULL : keep(c, nested ? nested : ck_sprintf("%sinput", prefix));
            if (iname) cur = add_input(c, iname, &s, has, open);
            if (!cur) return false;
        }
        if (L.is_model) {
            kout o = {0};
            if (!call_model(c, &L, name, 1, &cur, &o)) return false;
            cur = o.v[0];
            free(o.v);
        } else {
            cur = emit_layer(c, &L, name, 1, &cur);
            if (!cur) return false;
        }
    }
    if (!cur) {
        kerr(c, CK_PARSE_ERROR, mname, "Sequential model%s%s has no layers", mname ? " " : "",
             mname ? mname : "");
        return false;
    }
    return out_push(c, out, cur);
}

/* ---- functional models -------------------------------------------------- */

typedef struct kref {
    const char *layer;
    int64_t node, tensor;
    int li;   /* layer index in scope */
    int call; /* call index of that layer, -1 for an input layer */
} kref;

typedef struct kcall {
    int layer;
    int k; /* the k-th call of that layer */
    int n_ref;
    kref *ref;
    int state; /* 0 new, 1 in progress, 2 done */
    kout out;
} kcall;

typedef struct kscope {
    int n;
    klayer *L;
    int *first_call, *n_calls; /* per layer */
    int64_t *min_node;         /* smallest node index any reference uses */
    const char **in_val;       /* per layer: bound value of an input layer */
    int n_calls_total;
    kcall *calls;
    /* name -> layer index */
    int hcap;
    int *hash;
} kscope;

static uint32_t hash_str(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int find_layer(const kscope *S, const char *name) {
    if (!name) return -1;
    for (uint32_t h = hash_str(name) & (uint32_t)(S->hcap - 1);;
         h = (h + 1) & (uint32_t)(S->hcap - 1)) {
        int i = S->hash[h];
        if (i < 0) return -1;
        if (strcmp(S->L[i].name, name) == 0) return i;
    }
}

static void scope_free(kscope *S) {
    if (S->calls)
        for (int i = 0; i < S->n_calls_total; i++) {
            free(S->calls[i].ref);
            free(S->calls[i].out.v);
        }
    free(S->calls);
    free(S->L);
    free(S->first_call);
    free(S->n_calls);
    free(S->min_node);
    free(S->in_val);
    free(S->hash);
}

static bool push_ref(kctx *c, kref **v, int *n, const char *layer, int64_t node, int64_t tensor) {
    kref *p = realloc(*v, (size_t)(*n + 1) * sizeof *p);
    if (!p) {
        c->oom = c->failed = true;
        return false;
    }
    *v = p;
    p[*n] = (kref){.layer = layer, .node = node, .tensor = tensor, .li = -1, .call = -1};
    (*n)++;
    return true;
}

/* ["layer", node, tensor(, kwargs)] -> ref. */
static bool parse_ref(kctx *c, const char *owner, const json_t *a, kref **v, int *n) {
    const char *ln = json_string_value(json_array_get(a, 0));
    const json_t *ni = json_array_get(a, 1), *ti = json_array_get(a, 2);
    if (!ln || (ni && !json_is_integer(ni)) || (ti && !json_is_integer(ti))) {
        kerr(c, CK_PARSE_ERROR, owner,
             "layer '%s': an inbound node must be [\"layer\", node_index, tensor_index]", owner);
        return false;
    }
    return push_ref(c, v, n, ln, ni ? json_integer_value(ni) : 0, ti ? json_integer_value(ti) : 0);
}

/* Keras 3: every __keras_tensor__ in args, in order. */
static bool collect_k3(kctx *c, const char *owner, const json_t *j, kref **v, int *n, int depth) {
    if (depth > 64) return true;
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            if (!collect_k3(c, owner, json_array_get(j, i), v, n, depth + 1)) return false;
        return true;
    }
    if (!json_is_object(j)) return true;
    if (streq(jstr(j, "class_name"), "__keras_tensor__")) {
        const json_t *h = json_object_get(json_object_get(j, "config"), "keras_history");
        if (!json_is_array(h)) {
            kerr(c, CK_PARSE_ERROR, owner, "layer '%s': a keras tensor without keras_history",
                 owner);
            return false;
        }
        return parse_ref(c, owner, h, v, n);
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)j, k, x) {
        if (!collect_k3(c, owner, x, v, n, depth + 1)) return false;
    }
    return true;
}

/* One inbound_nodes entry -> the refs of one call. */
static bool parse_node(kctx *c, const char *owner, const json_t *e, kref **v, int *n) {
    if (json_is_object(e)) { /* Keras 3 {"args": [...], "kwargs": {...}} */
        const json_t *args = json_object_get(e, "args");
        if (!collect_k3(c, owner, args, v, n, 0)) return false;
        if (*n == 0 && !collect_k3(c, owner, json_object_get(e, "kwargs"), v, n, 0)) return false;
        return true;
    }
    if (!json_is_array(e)) {
        kerr(c, CK_PARSE_ERROR, owner, "layer '%s': inbound_nodes entries must be lists", owner);
        return false;
    }
    if (json_is_string(json_array_get(e, 0))) return parse_ref(c, owner, e, v, n); /* flat */
    for (size_t i = 0; i < json_array_size(e); i++) {
        const json_t *r = json_array_get(e, i);
        if (!json_is_array(r)) {
            kerr(c, CK_PARSE_ERROR, owner,
                 "layer '%s': an inbound node must be [\"layer\", node_index, tensor_index]",
                 owner);
            return false;
        }
        if (!parse_ref(c, owner, r, v, n)) return false;
    }
    return true;
}

/* input_layers / output_layers: a ref, or lists (maybe nested) of refs. */
static bool collect_refs(kctx *c, const char *owner, const json_t *j, kref **v, int *n, int depth) {
    if (!json_is_array(j) || depth > 64) return true;
    if (json_is_string(json_array_get(j, 0))) return parse_ref(c, owner, j, v, n);
    for (size_t i = 0; i < json_array_size(j); i++)
        if (!collect_refs(c, owner, json_array_get(j, i), v, n, depth + 1)) return false;
    return true;
}

/* Resolves a ref's layer and call. */
static bool resolve(kctx *c, kscope *S, const char *owner, kref *r) {
    r->li = find_layer(S, r->layer);
    if (r->li < 0) {
        kerr(c, CK_PARSE_ERROR, owner, "layer '%s' reads '%s', which the model does not define",
             owner, r->layer);
        return false;
    }
    if (S->L[r->li].is_input) {
        r->call = -1;
        return true;
    }
    int64_t k = r->node;
    /* Keras numbers a nested model's calls from 1: its node 0 links its own
     * input to its output (Keras 2.2 and later, Keras 3). */
    if (S->L[r->li].is_model && S->min_node[r->li] >= 1) k--;
    if (k < 0 || k >= S->n_calls[r->li]) {
        kerr(c, CK_PARSE_ERROR, owner, "layer '%s' reads node %lld of '%s', which has %d call%s",
             owner, (long long)r->node, r->layer, S->n_calls[r->li],
             S->n_calls[r->li] == 1 ? "" : "s");
        return false;
    }
    r->call = S->first_call[r->li] + (int)k;
    return true;
}

/* The value a resolved ref names. */
static const char *ref_value(kctx *c, const kscope *S, const char *owner, const kref *r) {
    if (r->call < 0) {
        const char *v = S->in_val[r->li];
        if (!v)
            kerr(c, CK_PARSE_ERROR, owner, "layer '%s' reads input '%s', which is not bound", owner,
                 r->layer);
        return v;
    }
    const kcall *k = &S->calls[r->call];
    if (r->tensor < 0 || r->tensor >= k->out.n) {
        kerr(c, CK_PARSE_ERROR, owner, "layer '%s' reads output %lld of '%s', which has %d", owner,
             (long long)r->tensor, r->layer, k->out.n);
        return NULL;
    }
    return k->out.v[r->tensor];
}

static bool emit_call(kctx *c, kscope *S, const char *prefix, kcall *k) {
    const klayer *L = &S->L[k->layer];
    const char *name = k->k == 0 ? keep(c, ck_sprintf("%s%s", prefix, L->name))
                                 : keep(c, ck_sprintf("%s%s:%d", prefix, L->name, k->k));
    if (!name) return false;
    const char **in = calloc((size_t)(k->n_ref ? k->n_ref : 1), sizeof *in);
    if (!in) {
        c->oom = c->failed = true;
        return false;
    }
    for (int i = 0; i < k->n_ref; i++) {
        in[i] = ref_value(c, S, name, &k->ref[i]);
        if (!in[i]) {
            free(in);
            return false;
        }
    }
    bool ok;
    if (L->is_model) {
        ok = call_model(c, L, name, k->n_ref, in, &k->out);
    } else {
        const char *v = emit_layer(c, L, name, k->n_ref, in);
        ok = v && out_push(c, &k->out, v);
    }
    free(in);
    return ok;
}

static bool emit_functional(kctx *c, const json_t *model, const char *prefix, int n_in,
                            const char *const *in, kout *out) {
    const json_t *cfg = json_object_get(model, "config");
    const char *mname = jstr(cfg, "name");
    const json_t *layers = json_object_get(cfg, "layers");
    if (!json_is_array(layers)) {
        kerr(c, CK_PARSE_ERROR, mname, "model%s%s: config has no 'layers' list", mname ? " " : "",
             mname ? mname : "");
        return false;
    }
    kscope S = {0};
    bool ok = false;
    int n = (int)json_array_size(layers);
    kref *io = NULL;
    int n_io = 0;
    S.n = n;
    S.L = calloc((size_t)(n ? n : 1), sizeof *S.L);
    S.first_call = calloc((size_t)(n ? n : 1), sizeof *S.first_call);
    S.n_calls = calloc((size_t)(n ? n : 1), sizeof *S.n_calls);
    S.min_node = calloc((size_t)(n ? n : 1), sizeof *S.min_node);
    S.in_val = calloc((size_t)(n ? n : 1), sizeof *S.in_val);
    S.hcap = 16;
    while (S.hcap < 2 * n) S.hcap *= 2;
    S.hash = malloc((size_t)S.hcap * sizeof *S.hash);
    if (!S.L || !S.first_call || !S.n_calls || !S.min_node || !S.in_val || !S.hash) {
        c->oom = c->failed = true;
        goto done;
    }
    for (int i = 0; i < S.hcap; i++) S.hash[i] = -1;
    for (int i = 0; i < n; i++) {
        if (!read_layer(c, json_array_get(layers, i), i, mname ? mname : "model", &S.L[i]))
            goto done;
        if (find_layer(&S, S.L[i].name) >= 0) {
            kerr(c, CK_PARSE_ERROR, S.L[i].name, "the layer name '%s' is used twice", S.L[i].name);
            goto done;
        }
        uint32_t h = hash_str(S.L[i].name) & (uint32_t)(S.hcap - 1);
        while (S.hash[h] >= 0) h = (h + 1) & (uint32_t)(S.hcap - 1);
        S.hash[h] = i;
        S.min_node[i] = INT64_MAX;
        const json_t *ib = json_object_get(S.L[i].j, "inbound_nodes");
        if (ib && !json_is_array(ib)) {
            kerr(c, CK_PARSE_ERROR, S.L[i].name, "layer '%s': inbound_nodes must be a list",
                 S.L[i].name);
            goto done;
        }
        S.first_call[i] = S.n_calls_total;
        S.n_calls[i] = S.L[i].is_input ? 0 : (int)json_array_size(ib);
        S.n_calls_total += S.n_calls[i];
    }
    S.calls = calloc((size_t)(S.n_calls_total ? S.n_calls_total : 1), sizeof *S.calls);
    if (!S.calls) {
        c->oom = c->failed = true;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const json_t *ib = json_object_get(S.L[i].j, "inbound_nodes");
        for (int k = 0; k < S.n_calls[i]; k++) {
            kcall *kc = &S.calls[S.first_call[i] + k];
            kc->layer = i;
            kc->k = k;
            if (!parse_node(c, S.L[i].name, json_array_get(ib, (size_t)k), &kc->ref, &kc->n_ref))
                goto done;
            if (kc->n_ref == 0) {
                kerr(c, CK_PARSE_ERROR, S.L[i].name, "layer '%s': a call with no inputs",
                     S.L[i].name);
                goto done;
            }
        }
    }
    /* inputs and outputs */
    const json_t *il = json_object_get(cfg, "input_layers");
    const json_t *ol = json_object_get(cfg, "output_layers");
    if (!collect_refs(c, mname, il, &io, &n_io, 0)) goto done;
    int n_il = n_io;
    if (!collect_refs(c, mname, ol, &io, &n_io, 0)) goto done;
    /* smallest node index used per layer (nested-model numbering) */
    for (int i = 0; i < S.n_calls_total; i++)
        for (int r = 0; r < S.calls[i].n_ref; r++) {
            int li = find_layer(&S, S.calls[i].ref[r].layer);
            if (li >= 0 && S.calls[i].ref[r].node < S.min_node[li])
                S.min_node[li] = S.calls[i].ref[r].node;
        }
    for (int r = n_il; r < n_io; r++) {
        int li = find_layer(&S, io[r].layer);
        if (li >= 0 && io[r].node < S.min_node[li]) S.min_node[li] = io[r].node;
    }
    /* bind the inputs */
    if (n_il == 0) /* no input_layers: every InputLayer in order */
        for (int i = 0; i < n; i++)
            if (S.L[i].is_input && !push_ref(c, &io, &n_io, S.L[i].name, 0, 0)) goto done;
    if (n_il == 0 && io) { /* io is NULL when there is no ref at all */
        /* move the appended input refs to the front */
        int added = 0;
        for (int i = 0; i < n; i++) added += S.L[i].is_input;
        kref *tmp = malloc((size_t)(n_io ? n_io : 1) * sizeof *tmp);
        if (!tmp) {
            c->oom = c->failed = true;
            goto done;
        }
        memcpy(tmp, io + (n_io - added), (size_t)added * sizeof *tmp);
        memcpy(tmp + added, io, (size_t)(n_io - added) * sizeof *tmp);
        free(io);
        io = tmp;
        n_il = added;
    }
    if (in && n_in != n_il) {
        kerr(c, CK_PARSE_ERROR, mname, "model '%s' takes %d input%s but is called on %d",
             mname ? mname : prefix, n_il, n_il == 1 ? "" : "s", n_in);
        goto done;
    }
    for (int r = 0; r < n_il; r++) {
        int li = find_layer(&S, io[r].layer);
        if (li < 0 || !S.L[li].is_input) {
            kerr(c, CK_PARSE_ERROR, io[r].layer,
                 "model input '%s' is not an InputLayer of the model", io[r].layer);
            goto done;
        }
        if (in) {
            S.in_val[li] = in[r];
        } else {
            ck_shape s = {0};
            bool has;
            unsigned open = 0;
            const char *name = keep(c, ck_sprintf("%s%s", prefix, S.L[li].name));
            bool good = name && config_shape(c, name, S.L[li].cfg, &s, &has, &open);
            if (good) S.in_val[li] = add_input(c, name, &s, has, open);
            if (!S.in_val[li]) goto done;
        }
    }
    /* resolve every reference */
    for (int i = 0; i < S.n_calls_total; i++)
        for (int r = 0; r < S.calls[i].n_ref; r++)
            if (!resolve(c, &S, S.L[S.calls[i].layer].name, &S.calls[i].ref[r])) goto done;
    for (int r = n_il; r < n_io; r++)
        if (!resolve(c, &S, mname ? mname : "model outputs", &io[r])) goto done;
    /* emit in dependency order: depth-first, Keras order where it is valid */
    {
        int *stack = malloc((size_t)(S.n_calls_total ? S.n_calls_total : 1) * 2 * sizeof *stack);
        if (!stack) {
            c->oom = c->failed = true;
            goto done;
        }
        bool good = true;
        for (int s0 = 0; good && s0 < S.n_calls_total; s0++) {
            if (S.calls[s0].state) continue;
            int sp = 0;
            stack[sp++] = s0;
            stack[sp++] = 0;
            S.calls[s0].state = 1;
            while (good && sp > 0) {
                int ci = stack[sp - 2];
                int *next = &stack[sp - 1];
                kcall *kc = &S.calls[ci];
                if (*next < kc->n_ref) {
                    int dep = kc->ref[(*next)++].call;
                    if (dep < 0) continue;
                    if (S.calls[dep].state == 1) {
                        /* the cycle is the stack from dep to the top */
                        ck_str path = {0};
                        int from = sp - 2;
                        while (from > 0 && stack[from] != dep) from -= 2;
                        for (int q = from; q < sp; q += 2)
                            ck_str_addf(&path, "'%s' -> ", S.L[S.calls[stack[q]].layer].name);
                        ck_str_addf(&path, "'%s'", S.L[S.calls[dep].layer].name);
                        kerr(c, CK_PARSE_ERROR, S.L[kc->layer].name,
                             "inbound_nodes form a cycle: %s (each layer reads the next)",
                             path.p ? path.p : "?");
                        ck_str_free(&path);
                        good = false;
                    } else if (S.calls[dep].state == 0) {
                        S.calls[dep].state = 1;
                        stack[sp++] = dep;
                        stack[sp++] = 0;
                    }
                } else {
                    good = emit_call(c, &S, prefix, kc);
                    kc->state = 2;
                    sp -= 2;
                }
            }
        }
        free(stack);
        if (!good) goto done;
    }
    /* outputs */
    if (n_io == n_il) { /* no output_layers: the last call */
        if (S.n_calls_total == 0) {
            kerr(c, CK_PARSE_ERROR, mname, "model %s has no layers", mname ? mname : "");
            goto done;
        }
        const kout *o = &S.calls[S.n_calls_total - 1].out;
        if (o->n && !out_push(c, out, o->v[0])) goto done;
    }
    for (int r = n_il; r < n_io; r++) {
        const char *v = ref_value(c, &S, mname ? mname : "model outputs", &io[r]);
        if (!v || !out_push(c, out, v)) goto done;
    }
    ok = true;
done:
    free(io);
    scope_free(&S);
    return ok && !c->failed;
}

static bool emit_model(kctx *c, const json_t *model, const char *prefix, int n_in,
                       const char *const *in, kout *out) {
    const char *cls = jstr(model, "class_name");
    const json_t *cfg = json_object_get(model, "config");
    if (!cls || !cfg) {
        kerr(c, CK_PARSE_ERROR, NULL, "a Keras model needs 'class_name' and 'config'");
        return false;
    }
    if (streq(cls, "Sequential") || json_is_array(cfg))
        return emit_sequential(c, model, prefix, n_in, in, out);
    if (!json_is_object(cfg)) {
        kerr(c, CK_PARSE_ERROR, NULL, "model config must be a JSON object");
        return false;
    }
    const json_t *layers = json_object_get(cfg, "layers");
    if (!json_is_array(layers)) {
        kerr(c, CK_PARSE_ERROR, NULL, "%s model: config has no 'layers' list", cls);
        return false;
    }
    /* A "Model" without inbound_nodes anywhere is a Sequential written as a Model. */
    bool any_inbound = false;
    for (size_t i = 0; i < json_array_size(layers); i++)
        if (json_object_get(json_array_get(layers, i), "inbound_nodes")) any_inbound = true;
    if (!any_inbound) return emit_sequential(c, model, prefix, n_in, in, out);
    return emit_functional(c, model, prefix, n_in, in, out);
}

/* ---- entry -------------------------------------------------------------- */

/* Does any layer say channels_first? Then graph inputs are channels-first. */
static bool says_channels_first(const json_t *j, int depth) {
    if (depth > 128) return false;
    if (json_is_object(j)) {
        if (streq(jstr(j, "data_format"), "channels_first") || streq(jstr(j, "dim_ordering"), "th"))
            return true;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            if (json_is_object(v) || json_is_array(v))
                if (says_channels_first(v, depth + 1)) return true;
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            if (says_channels_first(json_array_get(j, i), depth + 1)) return true;
    }
    return false;
}

static json_t *parse_json(kctx *c, const char *text, size_t len) {
    if (!check_depth(c, text, len)) return NULL;
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_ALLOW_NUL, &err);
    if (!root) {
        /* jansson counts the column from 0 right after a newline */
        ck_diag_parse(c->d, c->path, err.line > 0 ? err.line : 1, err.column > 0 ? err.column : 1,
                      "invalid JSON: %s", err.text);
        c->failed = true;
    }
    return root;
}

ck_status ck_load_keras(const char *text, size_t len, const char *path, const ck_limits *lim,
                        ck_graph **out, ck_diags *diags) {
    *out = NULL;
    kctx c = {.d = diags, .path = path ? path : "<keras json>"};
    ck_limits rl = ck_limits_resolve(lim);
    c.max_nodes = rl.max_nodes;
    c.max_depth = rl.max_depth;
    json_t *root = parse_json(&c, text, len), *inner = NULL;
    if (!root) return CK_EPARSE;
    ck_status st = CK_EPARSE;
    const json_t *m = root;
    if (json_is_object(root) && json_object_get(root, "modelTopology")) {
        m = json_object_get(root, "modelTopology");
        if (json_object_get(m, "model_config")) m = json_object_get(m, "model_config");
    } else if (json_is_object(root) && json_object_get(root, "model_config")) {
        m = json_object_get(root, "model_config");
    }
    if (json_is_string(m)) { /* an HDF5 attribute copied as text */
        const char *s = json_string_value(m);
        inner = parse_json(&c, s, json_string_length(m));
        if (!inner) goto fail;
        m = inner;
    }
    if (!json_is_object(m) || !jstr(m, "class_name") || !json_object_get(m, "config")) {
        ck_diag_parse(diags, c.path, 1, 1,
                      "not a Keras model: expected an object with 'class_name' and 'config' "
                      "(model.to_json()), or 'modelTopology' (TF.js)");
        goto fail;
    }
    c.g = ck_graph_new(CK_DIALECT_KERAS, c.path);
    if (c.g) ck_graph_set_limits(c.g, lim);
    if (!c.g) {
        st = CK_ENOMEM;
        goto fail;
    }
    c.default_cl = !says_channels_first(m, 0);
    kout o = {0};
    bool ok = emit_model(&c, m, "", 0, NULL, &o);
    if (ok)
        for (int i = 0; i < o.n; i++) {
            int v = ck_graph_find_val(c.g, o.v[i]);
            if (v >= 0) ck_graph_mark_output(c.g, v);
        }
    free(o.v);
    if (!ok || c.failed) {
        if (c.oom) st = CK_ENOMEM;
        goto fail;
    }
    *out = c.g;
    c.g = NULL;
    st = CK_OK;
fail:
    ck_graph_free(c.g);
    for (int i = 0; i < c.n_pool; i++) free(c.pool[i]);
    free(c.pool);
    json_decref(inner);
    json_decref(root);
    return st;
}
