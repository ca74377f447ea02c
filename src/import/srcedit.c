/* A changed network written back as an edit of the code it was read from
 * (`convkit fix --write` on pasted Keras code).
 *
 * The reader of model-building code (pykeras.c) keeps the text and, for
 * each layer, the arguments it was built with and where each one is
 * written; for each input, where its shape is written (srcmap.h). Given a
 * graph derived from that one (a fix: ck_find_fixes' graphs are clones),
 * ck_graph_write_source compares every layer's arguments and every input's
 * declared shape with what the text says and edits only what differs:
 *
 *  - an argument given in the call (positionally or by keyword) gets the
 *    new value in place of the old text; one the call leaves to its
 *    default is added after the call's last argument (`, padding='same'`);
 *  - an input size is replaced in its own tuple item (`input_shape=(7, 7,
 *    1)` -> `(8, 8, 1)`), or the whole shape value when its sizes are not
 *    written one by one (`shape=dims`);
 *  - a layer the graph inserts in front of a layer's operand (a
 *    ZeroPadding2D on one branch of an Add) wraps that operand's text:
 *    `layers.add([x, y])` -> `layers.add([layers.ZeroPadding2D(...,
 *    name='x_pad')(x), y])`, with the module prefix the file uses.
 *
 * Every other byte stays as it was: comments, spacing, quotes (a new string
 * takes the quote the file uses most), line breaks. The edited text is
 * read again and must give the graph's layers (types, inputs, arguments)
 * and input shapes, so an edit of a line that builds other layers too (a
 * loop, a function called twice) is refused instead of written; such
 * cases are also refused up front with the reason (srcmap: why_not). */
#include "core/ref.h"
#include "graph/graph.h"
#include "import/import.h"
#include "import/srcmap.h"
#include "ops/ops.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct src_layer {
    char *name, *type;
    ck_args args;
    ck_span callee;
    size_t open;
    int npos, nkw;
    ck_span *pos;
    char **kw_names;
    ck_span *kw;
    int n_in;
    ck_span *in; /* NULL: operands unknown */
    int line;
    char *why_not;
} src_layer;

typedef struct src_input {
    char *name;
    ck_shape shape;
    bool written;
    ck_src_shape sh;
    char *why_not;
} src_input;

struct ck_srcmap {
    ck_ref ref; /* first: a graph holds the map as this */
    char *text;
    size_t len;
    char *file;
    ck_limits lim;
    ck_src_reader reread; /* the reader that made the map: checks an edit */
    int n_layers, cap_layers;
    src_layer *layers;
    int n_inputs, cap_inputs;
    src_input *inputs;
};

static void destroy(ck_ref *r);

ck_srcmap *ck_srcmap_new(const char *text, size_t len, const char *file, const ck_limits *lim,
                         ck_src_reader reread) {
    ck_srcmap *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    ck_ref_init(&m->ref, destroy);
    m->text = malloc(len + 1);
    m->file = ck_strdup(file ? file : "<text>");
    if (!m->text || !m->file) {
        free(m->text);
        free(m->file);
        free(m);
        return NULL;
    }
    if (len) memcpy(m->text, text, len);
    m->text[len] = 0;
    m->len = len;
    m->lim = ck_limits_resolve(lim);
    m->reread = reread;
    return m;
}

static void layer_free(src_layer *L) {
    free(L->name);
    free(L->type);
    ck_args_free(&L->args);
    free(L->pos);
    for (int i = 0; i < L->nkw; i++) free(L->kw_names[i]);
    free(L->kw_names);
    free(L->kw);
    free(L->in);
    free(L->why_not);
}

static bool grow(void **v, int *cap, int n, size_t size) {
    if (n < *cap) return true;
    int c = *cap ? *cap * 2 : 16;
    void *p = realloc(*v, (size_t)c * size);
    if (!p) return false;
    *v = p;
    *cap = c;
    return true;
}

bool ck_srcmap_add_layer(ck_srcmap *m, const char *name, const char *type, const ck_args *args,
                         const ck_src_call *c, const char *why_not) {
    if (!grow((void **)&m->layers, &m->cap_layers, m->n_layers, sizeof *m->layers)) return false;
    src_layer *L = &m->layers[m->n_layers];
    memset(L, 0, sizeof *L);
    bool ok = (L->name = ck_strdup(name)) && (L->type = ck_strdup(type ? type : "")) &&
              ck_args_copy(&L->args, args);
    L->callee = c->callee;
    L->open = c->open;
    L->line = c->line;
    if (ok && why_not) ok = (L->why_not = ck_strdup(why_not)) != NULL;
    if (ok && c->npos > 0) {
        ok = (L->pos = malloc((size_t)c->npos * sizeof *L->pos)) != NULL;
        if (ok) memcpy(L->pos, c->pos, (size_t)c->npos * sizeof *L->pos), L->npos = c->npos;
    }
    if (ok && c->nkw > 0) {
        L->kw_names = calloc((size_t)c->nkw, sizeof *L->kw_names);
        L->kw = malloc((size_t)c->nkw * sizeof *L->kw);
        ok = L->kw_names && L->kw;
        for (int i = 0; ok && i < c->nkw; i++) {
            ok = (L->kw_names[i] = ck_strdup(c->kw_names[i])) != NULL;
            L->kw[i] = c->kw[i];
            L->nkw = i + 1;
        }
    }
    if (ok && c->in && c->n_in > 0) {
        ok = (L->in = malloc((size_t)c->n_in * sizeof *L->in)) != NULL;
        if (ok) memcpy(L->in, c->in, (size_t)c->n_in * sizeof *L->in), L->n_in = c->n_in;
    }
    m->n_layers++;
    return ok;
}

bool ck_srcmap_add_input(ck_srcmap *m, const char *name, const ck_shape *declared,
                         const ck_src_shape *sh, const char *why_not) {
    if (!grow((void **)&m->inputs, &m->cap_inputs, m->n_inputs, sizeof *m->inputs)) return false;
    src_input *in = &m->inputs[m->n_inputs];
    memset(in, 0, sizeof *in);
    in->shape = *declared;
    in->written = sh != NULL;
    if (sh) in->sh = *sh;
    bool ok = (in->name = ck_strdup(name)) != NULL;
    if (ok && why_not) ok = (in->why_not = ck_strdup(why_not)) != NULL;
    m->n_inputs++;
    return ok;
}

ck_ref *ck_srcmap_ref(ck_srcmap *m) {
    return m ? &m->ref : NULL;
}

void ck_srcmap_release(ck_srcmap *m) {
    ck_ref_release(ck_srcmap_ref(m));
}

static void destroy(ck_ref *r) {
    ck_srcmap *m = (ck_srcmap *)(void *)r; /* the map's first member */
    for (int i = 0; i < m->n_layers; i++) layer_free(&m->layers[i]);
    for (int i = 0; i < m->n_inputs; i++) {
        free(m->inputs[i].name);
        free(m->inputs[i].why_not);
    }
    free(m->layers);
    free(m->inputs);
    free(m->text);
    free(m->file);
    free(m);
}

/* ---- values as Python writes them ------------------------------------------------ */

static bool value_eq(const ck_value *a, const ck_value *b) {
    if (!a || !b) return a == b;
    bool an = a->kind == CK_V_INT || a->kind == CK_V_BOOL,
         bn = b->kind == CK_V_INT || b->kind == CK_V_BOOL;
    if (an && bn) return a->i == b->i;
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case CK_V_FLOAT:
        return a->f == b->f || (isnan(a->f) && isnan(b->f));
    case CK_V_STR:
        return !strcmp(a->s ? a->s : "", b->s ? b->s : "");
    case CK_V_LIST:
        if (a->n != b->n) return false;
        for (int i = 0; i < a->n; i++)
            if (!value_eq(&a->items[i], &b->items[i])) return false;
        return true;
    default:
        return true;
    }
}

static void py_value(ck_str *s, const ck_value *v, char quote) {
    switch (v->kind) {
    case CK_V_NONE:
        ck_str_add(s, "None");
        break;
    case CK_V_BOOL:
        ck_str_add(s, v->i ? "True" : "False");
        break;
    case CK_V_INT:
        ck_str_addf(s, "%lld", (long long)v->i);
        break;
    case CK_V_FLOAT: {
        char buf[40];
        if (isnan(v->f)) {
            ck_str_add(s, "float('nan')");
            break;
        }
        if (isinf(v->f)) {
            ck_str_add(s, v->f > 0 ? "float('inf')" : "-float('inf')");
            break;
        }
        for (int p = 1; p <= 17; p++) { /* the shortest text that reads back */
            snprintf(buf, sizeof buf, "%.*g", p, v->f);
            if (strtod(buf, NULL) == v->f) break;
        }
        ck_str_add(s, buf);
        if (!strpbrk(buf, ".eE")) ck_str_add(s, ".0");
        break;
    }
    case CK_V_STR: {
        char q[2] = {quote, 0};
        ck_str_add(s, q);
        for (const char *p = v->s ? v->s : ""; *p; p++) {
            if (*p == quote || *p == '\\') ck_str_add(s, "\\");
            if (*p == '\n') {
                ck_str_add(s, "\\n");
                continue;
            }
            char c[2] = {*p, 0};
            ck_str_add(s, c);
        }
        ck_str_add(s, q);
        break;
    }
    case CK_V_LIST:
        ck_str_add(s, v->is_tuple ? "(" : "[");
        for (int i = 0; i < v->n; i++) {
            if (i) ck_str_add(s, ", ");
            py_value(s, &v->items[i], quote);
        }
        if (v->is_tuple && v->n == 1) ck_str_add(s, ",");
        ck_str_add(s, v->is_tuple ? ")" : "]");
        break;
    default:
        ck_str_add(s, "None");
    }
}

/* The quote the file's strings use most. */
static char file_quote(const ck_srcmap *m) {
    size_t one = 0, two = 0;
    for (size_t i = 0; i < m->len; i++) {
        one += m->text[i] == '\'';
        two += m->text[i] == '"';
    }
    return two > one ? '"' : '\'';
}

/* ---- edits ------------------------------------------------------------------------ */

typedef struct edit {
    size_t lo, hi; /* replaced bytes; lo == hi: an insertion */
    char *text;
    int order; /* insertions at one place keep their order */
} edit;

typedef struct edits {
    int n, cap;
    edit *v;
    bool oom;
} edits;

static void add_edit(edits *e, size_t lo, size_t hi, char *text) {
    if (!text || !grow((void **)&e->v, &e->cap, e->n, sizeof *e->v)) {
        free(text);
        e->oom = true;
        return;
    }
    e->v[e->n] = (edit){.lo = lo, .hi = hi, .text = text, .order = e->n};
    e->n++;
}

static int by_pos(const void *a, const void *b) {
    const edit *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

static void edits_free(edits *e) {
    for (int i = 0; i < e->n; i++) free(e->v[i].text);
    free(e->v);
}

static ck_diag *refuse(ck_diags *d, const char *layer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ck_diag *refuse(ck_diags *d, const char *layer, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ck_diag *dg = ck_diag_vadd(d, CK_SEV_ERROR, CK_UNSUPPORTED, layer, NULL, fmt, ap);
    va_end(ap);
    return dg;
}

static const src_layer *find_layer(const ck_srcmap *m, const char *name) {
    for (int i = 0; i < m->n_layers; i++)
        if (!strcmp(m->layers[i].name, name)) return &m->layers[i];
    return NULL;
}

static const src_input *find_input(const ck_srcmap *m, const char *name) {
    for (int i = 0; i < m->n_inputs; i++)
        if (!strcmp(m->inputs[i].name, name)) return &m->inputs[i];
    return NULL;
}

static char *take_str(ck_str *s) {
    char *t = ck_str_take(s);
    return t ? t : ck_strdup("");
}

/* The changed arguments of node n (read from layer L of the text). */
static bool edit_layer(const ck_srcmap *m, const ck_node *n, const src_layer *L, char quote,
                       edits *e, ck_diags *d) {
    const char *const *params = n->fe ? n->fe->params : NULL;
    size_t after = L->open + 1; /* after the last argument written */
    bool any_arg = L->npos + L->nkw > 0;
    for (int i = 0; i < L->npos; i++)
        if (L->pos[i].hi > after) after = L->pos[i].hi;
    for (int i = 0; i < L->nkw; i++)
        if (L->kw[i].hi > after) after = L->kw[i].hi;
    for (int i = 0; params && params[i]; i++) {
        const ck_value *old = ck_args_get(&L->args, i, params[i]);
        const ck_value *now = ck_args_get(&n->args, i, params[i]);
        if (value_eq(old, now)) continue;
        if (L->why_not) {
            refuse(d, n->name, "%s: the fix changes %s, but %s; edit the code by hand", n->name,
                   params[i], L->why_not);
            return false;
        }
        if (!now) {
            refuse(d, n->name, "%s: the fix drops the argument %s, which convkit does not write",
                   n->name, params[i]);
            return false;
        }
        ck_str v = {0};
        py_value(&v, now, quote);
        ck_span at = {0, 0};
        if (i < L->npos && i < L->args.npos) {
            at = L->pos[i];
        } else {
            for (int k = 0; k < L->nkw; k++)
                if (!strcmp(L->kw_names[k], params[i])) at = L->kw[k];
        }
        if (at.hi) {
            add_edit(e, at.lo, at.hi, take_str(&v));
        } else if (old) {
            ck_str_free(&v);
            refuse(d, n->name, "%s: %s is not written in its call at line %d", n->name, params[i],
                   L->line);
            return false;
        } else {
            ck_str t = {0};
            ck_str_addf(&t, "%s%s=%s", any_arg ? ", " : "", params[i], v.p ? v.p : "");
            ck_str_free(&v);
            add_edit(e, after, after, take_str(&t));
            any_arg = true;
        }
    }
    (void)m;
    return true;
}

/* The module prefix the file writes layer classes with ("layers.",
 * "tf.keras.layers."), taken from the call next to the edit, else any
 * call of the file; "" when the file writes bare names and imports `cls`. */
static bool dotted_prefix(const ck_srcmap *m, const src_layer *L, char *out, size_t cap) {
    if (!L || !L->callee.hi || L->callee.hi <= L->callee.lo) return false;
    const char *c = m->text + L->callee.lo;
    size_t dot = L->callee.hi - L->callee.lo;
    while (dot > 0 && c[dot - 1] != '.') dot--;
    /* a module that holds layer classes: layers., keras.layers., tf.keras.layers. */
    if (dot < 7 || dot + 1 > cap || memcmp(c + dot - 7, "layers.", 7) != 0) return false;
    memcpy(out, c, dot);
    out[dot] = 0;
    return true;
}

static bool class_prefix(const ck_srcmap *m, const src_layer *near, const char *cls, char *out,
                         size_t cap) {
    if (dotted_prefix(m, near, out, cap)) return true;
    for (int i = 0; i < m->n_layers; i++)
        if (dotted_prefix(m, &m->layers[i], out, cap)) return true;
    /* bare names: only when an import line names the class */
    size_t k = strlen(cls);
    for (const char *p = m->text; k && (p = strstr(p, cls)) != NULL; p += k) {
        const char *ls = p;
        while (ls > m->text && ls[-1] != '\n') ls--;
        while (*ls == ' ' || *ls == '\t') ls++;
        if (!strncmp(ls, "from ", 5) || !strncmp(ls, "import ", 7)) {
            out[0] = 0;
            return true;
        }
    }
    return false;
}

/* Node n is not in the text: a layer inserted in front of one operand of
 * the node that reads it. */
static bool edit_insert(const ck_srcmap *m, const ck_graph *g, int ni, char quote, edits *e,
                        ck_diags *d) {
    const ck_node *n = &g->nodes[ni];
    int out = n->n_out ? n->out[0] : -1;
    for (int k = 0; out >= 0 && k < g->n_nodes; k++) {
        const ck_node *b = &g->nodes[k];
        for (int s = 0; s < b->n_in; s++) {
            if (b->in[s] != out) continue;
            const src_layer *B = find_layer(m, b->name);
            if (!B || !B->in || s >= B->n_in || !B->in[s].hi) {
                refuse(d, n->name,
                       "%s: the fix inserts %s in front of %s, whose operands are not written "
                       "as a call's argument convkit can wrap (a Sequential, or x + y)",
                       n->name, n->type, b->name);
                return false;
            }
            if (B->why_not) {
                refuse(d, n->name, "%s: the fix inserts %s in front of %s, but %s", n->name,
                       n->type, b->name, B->why_not);
                return false;
            }
            char prefix[256];
            if (!class_prefix(m, B, n->type, prefix, sizeof prefix)) {
                refuse(d, n->name,
                       "%s: the fix inserts a %s, which the file neither imports nor can reach "
                       "through a layers module",
                       n->name, n->type);
                return false;
            }
            ck_str t = {0};
            ck_str_addf(&t, "%s%s(", prefix, n->type);
            bool first = true;
            for (int i = 0; i < n->args.npos; i++) {
                ck_str_add(&t, first ? "" : ", ");
                py_value(&t, &n->args.pos[i], quote);
                first = false;
            }
            for (int i = 0; i < n->args.nkw; i++) {
                ck_str_addf(&t, "%s%s=", first ? "" : ", ", n->args.kw_names[i]);
                py_value(&t, &n->args.kw[i], quote);
                first = false;
            }
            ck_str_addf(&t, "%sname=%c%s%c)(", first ? "" : ", ", quote, n->name, quote);
            char *head = take_str(&t);
            add_edit(e, B->in[s].lo, B->in[s].lo, head);
            add_edit(e, B->in[s].hi, B->in[s].hi, ck_strdup(")"));
            return true;
        }
    }
    refuse(d, n->name, "%s: a layer convkit cannot place in the code", n->name);
    return false;
}

/* Axis k of input i stays as the code leaves it open (None): the fixed
 * network keeps it open (a symbol, or no size). An input fix gives it the
 * size the fix was verified at, and that size is written. */
static bool axis_open(const src_input *in, const ck_graph *g, int i, int k) {
    bool open = in->written ? (in->sh.open >> k) & 1u : in->shape.d[k] == 0;
    return open && (g->declared[i].d[k] == 0 || ck_graph_symbol(g, i, k));
}

/* The changed sizes of input i. */
static bool edit_input(const ck_srcmap *m, const ck_graph *g, int i, edits *e, ck_diags *d) {
    const char *name = g->vals[g->inputs[i]].name;
    const ck_shape *now = &g->declared[i];
    const src_input *in = find_input(m, name);
    if (!in) {
        refuse(d, name, "input '%s' is not in the code", name);
        return false;
    }
    const ck_shape *was = &in->shape;
    bool same = now->rank == was->rank;
    for (int k = 0; same && k < now->rank; k++)
        same = now->d[k] == was->d[k] || axis_open(in, g, i, k); /* None stays None */
    if (same || now->rank == 0) return true;
    const ck_src_shape *sh = &in->sh;
    if (!in->written) {
        refuse(d, name,
               "the input shape of '%s' changes, but the code does not declare it (it came from "
               "--input): give the new shape there",
               name);
        return false;
    }
    if (now->rank != was->rank) {
        refuse(d, name, "the input '%s' has %d dimensions in the fix and %d in the code", name,
               now->rank, was->rank);
        return false;
    }
    if (in->why_not) {
        refuse(d, name, "the input shape of '%s' changes, but %s", name, in->why_not);
        return false;
    }
    bool each = true;
    for (int k = 0; k < now->rank; k++)
        if (now->d[k] != was->d[k] && !axis_open(in, g, i, k) && !sh->dim[k].hi) each = false;
    if (each) {
        for (int k = 0; k < now->rank; k++) {
            if (now->d[k] == was->d[k] || axis_open(in, g, i, k)) continue;
            char *t = ck_sprintf("%lld", (long long)now->d[k]);
            add_edit(e, sh->dim[k].lo, sh->dim[k].hi, t);
        }
        return true;
    }
    if (!sh->whole.hi || (sh->first == 1 && now->d[0] != was->d[0])) {
        refuse(d, name, "the input shape of '%s' is not written where convkit can change it", name);
        return false;
    }
    ck_str t = {0};
    ck_str_add(&t, "(");
    for (int k = sh->first; k < now->rank; k++) {
        if (k > sh->first) ck_str_add(&t, ", ");
        if (k == 0 || axis_open(in, g, i, k))
            ck_str_add(&t, "None");
        else
            ck_str_addf(&t, "%lld", (long long)now->d[k]);
    }
    ck_str_add(&t, now->rank - sh->first == 1 ? ",)" : ")");
    add_edit(e, sh->whole.lo, sh->whole.hi, take_str(&t));
    return true;
}

/* ---- reading it back ------------------------------------------------------------ */

static bool same_network(const ck_graph *g, const ck_graph *r, ck_diags *d) {
    for (int i = 0; i < g->n_inputs; i++) {
        const char *nm = g->vals[g->inputs[i]].name;
        int j = -1;
        for (int k = 0; k < r->n_inputs; k++)
            if (!strcmp(r->vals[r->inputs[k]].name, nm)) j = k;
        const ck_shape *a = &g->declared[i], *b = j >= 0 ? &r->declared[j] : NULL;
        bool ok = b && a->rank == b->rank;
        for (int k = 0; ok && k < a->rank; k++) ok = a->d[k] == b->d[k] || b->d[k] == 0;
        if (!ok) {
            refuse(d, nm, "the edited code does not declare input '%s' as the fixed network does",
                   nm);
            return false;
        }
    }
    if (r->n_nodes != g->n_nodes) {
        refuse(d, NULL, "the edited code builds %d layers, the fixed network has %d", r->n_nodes,
               g->n_nodes);
        return false;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const ck_node *a = &g->nodes[i];
        const ck_node *b = NULL;
        for (int k = 0; k < r->n_nodes && !b; k++)
            if (!strcmp(r->nodes[k].name, a->name)) b = &r->nodes[k];
        bool ok = b && !strcmp(a->type, b->type) && a->n_in == b->n_in && a->fe == b->fe;
        for (int k = 0; ok && k < a->n_in; k++)
            ok = !strcmp(g->vals[a->in[k]].name, r->vals[b->in[k]].name);
        const char *const *params = a->fe ? a->fe->params : NULL;
        for (int k = 0; ok && params && params[k]; k++)
            ok = value_eq(ck_args_get(&a->args, k, params[k]), ck_args_get(&b->args, k, params[k]));
        if (!ok) {
            refuse(d, a->name,
                   "%s: the edited code does not build this layer as the fixed network has it "
                   "(the line that builds it builds other layers too)",
                   a->name);
            return false;
        }
    }
    return true;
}

/* ---- the public functions ------------------------------------------------------- */

bool ck_graph_has_source(const ck_graph *g) {
    return g && g->srcmap;
}

ck_status ck_graph_write_source(const ck_graph *g, char **out, ck_diags *diags) {
    if (!out) return CK_EUSAGE;
    *out = NULL;
    ck_diags local = {0};
    ck_diags *d = diags ? diags : &local;
    if (!g) return CK_EUSAGE;
    const ck_srcmap *m = (const ck_srcmap *)(const void *)g->srcmap;
    if (!m) {
        refuse(d, NULL,
               "the model was not read from code convkit can edit (Keras model-building "
               "code); write it as .cnn instead");
        ck_diags_free(&local);
        return CK_EUSAGE;
    }
    if (m->len > INT_MAX) {
        refuse(d, NULL, "the code is too large to write back (%zu bytes)", m->len);
        ck_diags_free(&local);
        return CK_EINVALID;
    }
    char quote = file_quote(m);
    edits e = {0};
    bool ok = true;
    for (int i = 0; ok && i < g->n_inputs; i++) ok = edit_input(m, g, i, &e, d);
    for (int i = 0; ok && i < g->n_nodes; i++) {
        const src_layer *L = find_layer(m, g->nodes[i].name);
        ok = L ? edit_layer(m, &g->nodes[i], L, quote, &e, d) : edit_insert(m, g, i, quote, &e, d);
    }
    ck_status st = ok ? CK_OK : CK_EINVALID;
    if (e.oom) st = CK_ENOMEM;
    ck_str s = {0};
    if (st == CK_OK) {
        if (e.n) qsort(e.v, (size_t)e.n, sizeof *e.v, by_pos);
        size_t at = 0;
        for (int i = 0; i < e.n && st == CK_OK; i++) {
            if (e.v[i].lo < at || e.v[i].hi > m->len) {
                refuse(d, NULL, "two changes of the fix overlap in the code");
                st = CK_EINVALID;
                break;
            }
            ck_str_addf(&s, "%.*s%s", (int)(e.v[i].lo - at), m->text + at, e.v[i].text);
            at = e.v[i].hi;
        }
        if (st == CK_OK) ck_str_addf(&s, "%.*s", (int)(m->len - at), m->text + at);
    }
    edits_free(&e);
    char *text = st == CK_OK ? ck_str_take(&s) : (ck_str_free(&s), NULL);
    if (st == CK_OK && !text) st = CK_ENOMEM;
    /* read back: the same layers, arguments and inputs */
    if (st == CK_OK) {
        ck_graph *r = NULL;
        ck_diags rd = {0};
        ck_status rs = m->reread(text, strlen(text), m->file, &m->lim, &r, &rd);
        if (rs == CK_ENOMEM) {
            st = CK_ENOMEM;
        } else if (rs != CK_OK) {
            ck_diag *dg = refuse(d, NULL, "the edited code does not read back: %s",
                                 rd.n && rd.v[0].message ? rd.v[0].message : "?");
            (void)dg;
            st = CK_EINVALID;
        } else if (!same_network(g, r, d)) {
            st = CK_EINVALID;
        }
        ck_graph_free(r);
        ck_diags_free(&rd);
    }
    if (st != CK_OK) {
        free(text);
        text = NULL;
    }
    *out = text;
    ck_diags_free(&local);
    return st;
}
