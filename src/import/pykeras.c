/* Keras model-building code as people paste it: a small Python subset.
 *
 * What is read: `Sequential([...])` and `Sequential()` + `model.add(...)`,
 * the functional API (`x = layers.Conv2D(32, 3)(inputs)`, calls nested in
 * calls, `layers.add([x, y])`, `layers.Add()([x, y])`), `Input(shape=...,
 * batch_size=...)`, `Model(inputs, outputs)`, models called as layers,
 * module prefixes (`tf.keras.layers.`, `keras.`, `layers.`, bare names),
 * variables, integer arithmetic, `def` functions (called, or run with their
 * defaults when the file never calls them), `for` loops over a range or a
 * literal list, `if` on values known in the file, `with` and `try` bodies.
 * Everything else (imports, compile, fit, data loading, prints, classes,
 * loops over data) is evaluated to "unknown" and listed in one note, never
 * an error.
 *
 * Layer names follow Keras: a layer without `name=` is named from the
 * snake_case of its class with a per-name counter (conv2d, conv2d_1,
 * max_pooling2d, re_lu), counted at construction as Keras counts them in a
 * fresh session. An Input() is input_1 with tf.keras (Keras 2) and
 * input_layer with Keras 3 (a file that never mentions tensorflow).
 *
 * Where each layer's arguments and each input's shape are written is kept
 * (import/srcmap.h), so that `fix --write` can write the fixed network back
 * as an edit of this text (ck_graph_write_source).
 *
 * The code is not executed: every statement is evaluated by this file's
 * interpreter, which knows only the names above. Limits: the nesting of
 * brackets and calls (max_depth), layers (max_nodes), string lengths
 * (max_string), and a budget of evaluation steps, all checked before the
 * work they bound. */
#include "import/import.h"
#include "import/srcmap.h"
#include "ops/ops.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- arena ----------------------------------------------------------------- */

typedef struct achunk {
    struct achunk *next;
    size_t used, cap;
    max_align_t data[];
} achunk;

/* ---- tokens ---------------------------------------------------------------- */

typedef enum { TK_END, TK_NAME, TK_INT, TK_FLOAT, TK_STR, TK_OP } tkind;

typedef struct ptok {
    tkind k;
    const char *p; /* source text */
    int n;
    int line, col;
    int64_t i;
    double f;
    char *s; /* decoded string (arena) */
    bool fstr;
    char op[4];
} ptok;

/* A logical line: tokens [t0, t0 + nt). */
typedef struct pline {
    int t0, nt, indent, line;
} pline;

/* ---- values ---------------------------------------------------------------- */

typedef enum {
    PV_UNKNOWN = 0,
    PV_NONE,
    PV_BOOL,
    PV_INT,
    PV_FLOAT,
    PV_STR,
    PV_LIST,
    PV_TUPLE,
    PV_DICT,
    PV_PATH,   /* a name the file does not define: keras.layers.Conv2D, np.load */
    PV_TENSOR, /* a value in the model graph */
    PV_LAYER,  /* a layer object */
    PV_MODEL,
    PV_FUNC,
    PV_METHOD, /* obj.name, to be called */
} pvkind;

typedef struct pv pv;
typedef struct player player;
typedef struct pmodel pmodel;

struct pv {
    pvkind k;
    int64_t i;
    double f;
    const char *s; /* STR, PATH, METHOD name */
    int n;         /* LIST, TUPLE, DICT */
    pv **items;
    const char **keys; /* DICT */
    int tensor;        /* TENSOR: IR value */
    player *layer;
    pmodel *model;
    int func; /* FUNC: index */
    pv *self; /* METHOD */
};

/* Where an input's shape is written: token ranges [t0, t1), t1 == 0 none. */
typedef struct shsrc {
    int t0, t1;                             /* the value */
    int first;                              /* the declared axis of its first size */
    int dt0[CK_MAX_RANK], dt1[CK_MAX_RANK]; /* each declared axis's own tokens */
    int c0, c1;                             /* the call */
    unsigned open;                          /* bit k: axis k written None */
} shsrc;

/* A constructor call as written (tokens). */
typedef struct psrc {
    int callee, open, close; /* close == 0: not from a call in the text */
    int npos, nkw;
    int *pt0, *pt1; /* positional arguments */
    const char **kwn;
    int *kt0, *kt1; /* keyword values */
} psrc;

struct player {
    const char *type; /* Keras class name */
    const char *name;
    ck_args args; /* constructor arguments for the frontend */
    psrc src;
    const char *why_not; /* why an edit of its call would not change this layer alone */
    shsrc in_src;        /* where in_shape is written */
    int line, col;
    int calls;
    int last_out; /* IR value of the last call, -1 */
    bool is_input_layer;
    ck_shape in_shape; /* input_shape= & co; rank 0: none */
    bool has_in_shape;
    player *next_all;
};

typedef enum { PM_SEQ, PM_FUNC } pmkind;

struct pmodel {
    pmkind kind;
    const char *name;
    int line;
    /* SEQ */
    int n_layers, cap_layers;
    pv **layers;             /* PV_LAYER, PV_MODEL or an input PV_TENSOR */
    int built_in, built_out; /* IR values of the standalone build, -1 */
    /* FUNC */
    int n_in, n_out;
    int *in, *out; /* IR values */
    int calls;
    pmodel *next_all;
};

/* IR: the graph as the code builds it; only the part the chosen model
 * reaches becomes the ck_graph. */
typedef struct irval {
    const char *name;
    int node; /* producing IR node, -1 for an input */
    int input;
} irval;

typedef struct irnode {
    const char *name, *type;
    const ck_args *args;
    int n_in;
    int *in;
    int out;
    int line, col;
    player *L;     /* the layer object; NULL for a node without one */
    int at0, at1;  /* tokens of the operand expression of the applying call; at1 == 0: none */
    bool replayed; /* a copy of another node (a model called again) */
} irnode;

typedef struct irinput {
    const char *name;
    ck_shape shape;
    int val;
    shsrc src;
    int site; /* first token of the call that declares it, -1 none */
} irinput;

typedef struct pfunc {
    const char *name;
    int header; /* line index of `def` */
    int body_lo, body_hi;
    int n_params;
    const char **params;
    pv **defaults; /* NULL: no default */
    bool called;
} pfunc;

typedef struct pvar {
    const char *name;
    pv *v;
} pvar;

typedef struct scope {
    int n, cap;
    pvar *v;
} scope;

typedef struct counter {
    const char *name;
    int n;
} counter;

typedef struct px {
    const char *text, *file;
    size_t len;
    ck_diags *d;
    ck_limits lim;
    achunk *arena;
    bool oom, failed;
    /* tokens and lines */
    ptok *t;
    int nt, ct;
    pline *L;
    int nl, cl;
    /* evaluation */
    int pos, end; /* token cursor within the current statement */
    int skip;     /* >0: parse only, no effects */
    int depth;    /* expression / call nesting */
    int64_t steps, max_steps;
    scope globals;
    scope *cur;
    int call_depth;
    bool returning, breaking, continuing;
    pv *ret;
    int effects; /* grows with every model-building effect */
    /* names */
    counter *cnt;
    int ncnt, ccnt;
    bool keras3;
    /* IR */
    irval *iv;
    int niv, civ;
    irnode *in;
    int nin, cin;
    irinput *inp;
    int ninp, cinp;
    /* objects */
    player *layers;
    pmodel *models;
    pmodel *chosen; /* compiled / fitted / summarised last */
    pmodel *last_model;
    int n_models;
    pfunc *funcs;
    int nf, cf;
    /* notes */
    int *skipped;
    int nskip, cskip;
    int if_guess_line;
    int dropped_line;
    const char *dropped_arg, *dropped_layer;
    /* the operand tokens of the call now applying a layer (apply_layer) */
    int app_t0, app_t1;
} px;

static pv UNK = {.k = PV_UNKNOWN};

static void *amem(px *P, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!n) n = sizeof(max_align_t);
    achunk *c = P->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = malloc(sizeof *c + cap);
        if (!c) {
            P->oom = P->failed = true;
            return NULL;
        }
        c->next = P->arena;
        c->used = 0;
        c->cap = cap;
        P->arena = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

static char *adup(px *P, const char *s, size_t n) {
    char *r = amem(P, n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = 0;
    }
    return r;
}

static const char *afmt(px *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *afmt(px *P, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    if ((size_t)n < sizeof buf) return adup(P, buf, (size_t)n);
    char *r = amem(P, (size_t)n + 1);
    if (!r) return NULL;
    va_start(ap, fmt);
    vsnprintf(r, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return r;
}

/* Grows an array to hold one more element; false on OOM or past `limit`. */
static bool grow(px *P, void **v, int *cap, int n, size_t size) {
    if (n < *cap) return true;
    int nc = *cap ? *cap * 2 : 16;
    void *nv = realloc(*v, (size_t)nc * size);
    if (!nv) {
        P->oom = P->failed = true;
        return false;
    }
    *v = nv;
    *cap = nc;
    return true;
}

/* ---- diagnostics ----------------------------------------------------------- */

static bool perr_at(px *P, int line, int col, ck_code code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool perr_at(px *P, int line, int col, ck_code code, const char *fmt, ...) {
    if (P->failed) return false;
    P->failed = true;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ck_diag *dg = ck_diag_parse(P->d, P->file, line, col, "%s", buf);
    if (dg) dg->code = code;
    return false;
}

static const ptok *tk(const px *P) {
    static const ptok end = {.k = TK_END};
    return P->pos < P->end ? &P->t[P->pos] : &end;
}

/* The position of the current token (or of the statement's last one). */
static void here(const px *P, int *line, int *col) {
    int i = P->pos < P->end ? P->pos : P->end - 1;
    if (i < 0 || i >= P->nt) {
        *line = 1, *col = 1;
        return;
    }
    *line = P->t[i].line;
    *col = P->t[i].col;
}

static bool perr(px *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool perr(px *P, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int line, col;
    here(P, &line, &col);
    return perr_at(P, line, col, CK_PARSE_ERROR, "%s", buf);
}

static bool is_op(const px *P, const char *op) {
    const ptok *t = tk(P);
    return t->k == TK_OP && strcmp(t->op, op) == 0;
}

static bool is_kw(const px *P, const char *w) {
    const ptok *t = tk(P);
    return t->k == TK_NAME && (int)strlen(w) == t->n && strncmp(t->p, w, (size_t)t->n) == 0;
}

static bool expect_op(px *P, const char *op) {
    if (is_op(P, op)) {
        P->pos++;
        return true;
    }
    const ptok *t = tk(P);
    if (t->k == TK_END) return perr(P, "expected '%s', found the end of the statement", op);
    return perr(P, "expected '%s', found '%.*s'", op, t->n > 40 ? 40 : t->n, t->p);
}

/* ---- lexer ----------------------------------------------------------------- */

static bool push_tok(px *P, const ptok *t) {
    if (!grow(P, (void **)&P->t, &P->ct, P->nt, sizeof *P->t)) return false;
    P->t[P->nt++] = *t;
    return true;
}

static bool push_line(px *P, int t0, int indent, int line) {
    if (P->nt == t0) return true;
    if (!grow(P, (void **)&P->L, &P->cl, P->nl, sizeof *P->L)) return false;
    P->L[P->nl++] = (pline){.t0 = t0, .nt = P->nt - t0, .indent = indent, .line = line};
    return true;
}

/* Decodes the body of a string literal. */
static char *decode_str(px *P, const char *s, size_t n, bool raw) {
    char *r = amem(P, n + 1);
    if (!r) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' && !raw && i + 1 < n) {
            char e = s[++i];
            switch (e) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case '\n':
                continue;
            default:
                c = e;
                break;
            }
        }
        r[k++] = c;
    }
    r[k] = 0;
    return r;
}

static bool lex(px *P) {
    const char *s = P->text;
    size_t n = P->len, i = 0;
    int line = 1, col = 1, depth = 0;
    bool at_start = true;
    int indent = 0, line_t0 = 0, line_no = 1;
    if (n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        i = 3;
#define ADV()                                                                                      \
    do {                                                                                           \
        if (s[i] == '\n') {                                                                        \
            line++;                                                                                \
            col = 1;                                                                               \
        } else {                                                                                   \
            col++;                                                                                 \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
    while (i < n) {
        char c = s[i];
        if (at_start && depth == 0) {
            /* indentation of a new logical line */
            int ind = 0;
            while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f')) {
                ind = s[i] == '\t' ? (ind / 8 + 1) * 8 : ind + 1;
                ADV();
            }
            if (i >= n) break;
            if (s[i] == '\n' || s[i] == '\r' || s[i] == '#') {
                while (i < n && s[i] != '\n') ADV();
                if (i < n) ADV();
                continue;
            }
            indent = ind;
            at_start = false;
            line_t0 = P->nt;
            line_no = line;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
            ADV();
            continue;
        }
        if (c == '#') {
            while (i < n && s[i] != '\n') ADV();
            continue;
        }
        if (c == '\\' && i + 1 < n && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
            ADV();
            if (s[i] == '\r') ADV();
            if (i < n && s[i] == '\n') ADV();
            continue;
        }
        if (c == '\n') {
            ADV();
            if (depth == 0) {
                if (!push_line(P, line_t0, indent, line_no)) return false;
                at_start = true;
            }
            continue;
        }
        ptok t = {.line = line, .col = col, .p = s + i};
        if (c == 0) return perr_at(P, line, col, CK_PARSE_ERROR, "unexpected NUL byte");
        /* string prefixes: r, b, u, f and pairs */
        size_t q = i;
        bool raw = false, fs = false;
        while (q < n && q - i < 2 && strchr("rRbBuUfF", s[q])) {
            if (s[q] == 'r' || s[q] == 'R') raw = true;
            if (s[q] == 'f' || s[q] == 'F') fs = true;
            q++;
        }
        if (q < n && (s[q] == '\'' || s[q] == '"') && (q == i || isalpha((unsigned char)c))) {
            while (i < q) ADV();
            char qc = s[i];
            bool triple = i + 2 < n && s[i + 1] == qc && s[i + 2] == qc;
            int ql = triple ? 3 : 1;
            for (int k = 0; k < ql; k++) ADV();
            size_t b = i;
            for (;;) {
                if (i >= n || (!triple && s[i] == '\n'))
                    return perr_at(P, t.line, t.col, CK_PARSE_ERROR, "unterminated string");
                if (s[i] == '\\' && i + 1 < n) {
                    ADV();
                    ADV();
                    continue;
                }
                if (s[i] == qc && (!triple || (i + 2 < n && s[i + 1] == qc && s[i + 2] == qc)))
                    break;
                ADV();
            }
            size_t e = i;
            for (int k = 0; k < ql; k++) ADV();
            if (e - b > (size_t)P->lim.max_string)
                return perr_at(P, t.line, t.col, CK_LIMIT_EXCEEDED,
                               "a string longer than %d characters (raise the limit with "
                               "--max-string)",
                               P->lim.max_string);
            t.k = TK_STR;
            t.s = decode_str(P, s + b, e - b, raw);
            if (!t.s) return false;
            t.fstr = fs;
            t.n = (int)(s + i - t.p);
            if (!push_tok(P, &t)) return false;
            continue;
        }
        if (isalpha((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80) {
            while (i < n &&
                   (isalnum((unsigned char)s[i]) || s[i] == '_' || (unsigned char)s[i] >= 0x80))
                ADV();
            t.k = TK_NAME;
            t.n = (int)(s + i - t.p);
            if (t.n > P->lim.max_string)
                return perr_at(P, t.line, t.col, CK_LIMIT_EXCEEDED,
                               "a name longer than %d characters", P->lim.max_string);
            if (!push_tok(P, &t)) return false;
            continue;
        }
        if (isdigit((unsigned char)c) ||
            (c == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
            char buf[96];
            size_t k = 0;
            bool isf = false;
            while (i < n &&
                   (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' ||
                    ((s[i] == '+' || s[i] == '-') && k > 0 &&
                     (buf[k - 1] == 'e' || buf[k - 1] == 'E') && !(k > 1 && buf[1] == 'x')))) {
                if (k + 1 >= sizeof buf)
                    return perr_at(P, t.line, t.col, CK_PARSE_ERROR, "number too long");
                if (s[i] != '_') buf[k++] = s[i];
                if (s[i] == '.' || ((s[i] == 'e' || s[i] == 'E') && !(k > 1 && buf[1] == 'x')))
                    isf = true;
                ADV();
            }
            buf[k] = 0;
            char *e;
            errno = 0;
            bool octal = false; /* 012: Python 3 has no C octal literals (00 is 0) */
            if (isf) {
                t.k = TK_FLOAT;
                t.f = strtod(buf, &e);
            } else {
                t.k = TK_INT;
                t.i = strtoll(buf, &e, 0);
                octal = buf[0] == '0' && k > 1 && isdigit((unsigned char)buf[1]) && t.i != 0;
            }
            if (*e || octal || errno == ERANGE)
                return perr_at(P, t.line, t.col, CK_PARSE_ERROR,
                               "malformed or out-of-range number '%s'", buf);
            t.n = (int)(s + i - t.p);
            if (!push_tok(P, &t)) return false;
            continue;
        }
        static const char *const ops3[] = {"**=", "//=", "...", ">>=", "<<=", NULL};
        static const char *const ops2[] = {"**", "//", "==", "!=", "<=", ">=", "+=",
                                           "-=", "*=", "/=", "%=", "->", ":=", "<<",
                                           ">>", "&=", "|=", "^=", "@=", NULL};
        const char *op = NULL;
        for (int k = 0; ops3[k] && !op; k++)
            if (i + 3 <= n && !strncmp(s + i, ops3[k], 3)) op = ops3[k];
        for (int k = 0; ops2[k] && !op; k++)
            if (i + 2 <= n && !strncmp(s + i, ops2[k], 2)) op = ops2[k];
        if (!op && strchr("()[]{},:.;=+-*/%<>@&|^~", c)) {
            t.op[0] = c;
        } else if (op) {
            memcpy(t.op, op, strlen(op));
        } else {
            return perr_at(P, line, col, CK_PARSE_ERROR, "unexpected character '%c'",
                           c >= 32 && c < 127 ? c : '?');
        }
        t.k = TK_OP;
        t.n = (int)strlen(t.op);
        if (strchr("([{", t.op[0]) && t.n == 1) {
            if (++depth > P->lim.max_depth)
                return perr_at(P, line, col, CK_LIMIT_EXCEEDED,
                               "brackets nested deeper than %d levels", P->lim.max_depth);
        } else if (strchr(")]}", t.op[0]) && t.n == 1) {
            if (depth > 0) depth--;
        }
        for (int k = 0; k < t.n; k++) ADV();
        if (!push_tok(P, &t)) return false;
    }
#undef ADV
    if (!at_start && !push_line(P, line_t0, indent, line_no)) return false;
    return true;
}

/* ---- scopes ---------------------------------------------------------------- */

static pv *lookup(px *P, const char *name) {
    for (scope *s = P->cur;; s = &P->globals) {
        for (int i = s->n - 1; i >= 0; i--)
            if (!strcmp(s->v[i].name, name)) return s->v[i].v;
        if (s == &P->globals) return NULL;
    }
}

static bool bind(px *P, const char *name, pv *v) {
    if (P->skip) return true;
    scope *s = P->cur;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].name, name)) {
            s->v[i].v = v;
            return true;
        }
    if (!grow(P, (void **)&s->v, &s->cap, s->n, sizeof *s->v)) return false;
    s->v[s->n++] = (pvar){.name = name, .v = v};
    return true;
}

/* ---- value helpers --------------------------------------------------------- */

static pv *mk(px *P, pvkind k) {
    pv *v = amem(P, sizeof *v);
    if (v) v->k = k;
    return v ? v : &UNK;
}

static pv *mk_int(px *P, int64_t i) {
    pv *v = mk(P, PV_INT);
    if (v != &UNK) v->i = i;
    return v;
}

static pv *mk_seq(px *P, pvkind k, int n) {
    pv *v = mk(P, k);
    if (v == &UNK) return v;
    v->n = n;
    v->items = amem(P, (size_t)(n ? n : 1) * sizeof *v->items);
    if (!v->items) return &UNK;
    return v;
}

static bool is_seq(const pv *v) {
    return v->k == PV_LIST || v->k == PV_TUPLE;
}

static bool truthy(const pv *v, bool *known) {
    *known = true;
    switch (v->k) {
    case PV_NONE:
        return false;
    case PV_BOOL:
    case PV_INT:
        return v->i != 0;
    case PV_FLOAT:
        return v->f != 0;
    case PV_STR:
        return v->s[0] != 0;
    case PV_LIST:
    case PV_TUPLE:
    case PV_DICT:
        return v->n != 0;
    case PV_UNKNOWN:
    case PV_PATH:
        *known = false;
        return false;
    default:
        return true;
    }
}

/* The last component of a dotted path. */
static const char *last_comp(const char *s) {
    const char *d = strrchr(s, '.');
    return d ? d + 1 : s;
}

/* ---- Keras names ----------------------------------------------------------- */

/* tf.keras's to_snake_case: (.)([A-Z][a-z0-9]+) -> \1_\2, then
 * ([a-z])([A-Z]) -> \1_\2, lower case. Conv2D -> conv2d,
 * BatchNormalization -> batch_normalization, Conv2DTranspose ->
 * conv2d_transpose, MaxPooling2D -> max_pooling2d, ReLU -> re_lu. */
static const char *snake(px *P, const char *cls) {
    size_t n = strlen(cls);
    char *a = amem(P, 2 * n + 1), *b = amem(P, 4 * n + 1);
    if (!a || !b) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && isupper((unsigned char)cls[i]) && i + 1 < n &&
            (islower((unsigned char)cls[i + 1]) || isdigit((unsigned char)cls[i + 1])))
            a[k++] = '_';
        a[k++] = cls[i];
    }
    a[k] = 0;
    /* a regex replaces non-overlapping matches left to right: a match
     * consumes its capital, so "ABc" inserts once */
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        b[m++] = (char)tolower((unsigned char)a[i]);
        if (islower((unsigned char)a[i]) && i + 1 < k && isupper((unsigned char)a[i + 1]))
            b[m++] = '_';
    }
    b[m] = 0;
    /* the first rule ran on the original string: it never inserts twice */
    char *c = amem(P, m + 1);
    if (!c) return NULL;
    size_t w = 0;
    for (size_t i = 0; i < m; i++)
        if (!(b[i] == '_' && w > 0 && c[w - 1] == '_')) c[w++] = b[i];
    c[w] = 0;
    return c;
}

/* Keras's unique name: base, base_1, base_2, ... */
static const char *auto_name(px *P, const char *base) {
    if (!base) return NULL;
    for (int i = 0; i < P->ncnt; i++)
        if (!strcmp(P->cnt[i].name, base)) {
            int k = P->cnt[i].n++;
            return afmt(P, "%s_%d", base, k);
        }
    if (!grow(P, (void **)&P->cnt, &P->ccnt, P->ncnt, sizeof *P->cnt)) return NULL;
    P->cnt[P->ncnt++] = (counter){.name = base, .n = 1};
    return base;
}

/* The name of an Input() or InputLayer without name=: input_1, input_2 in
 * tf.keras (numbered from 1), input_layer, input_layer_1 in Keras 3. */
static const char *input_name(px *P) {
    if (P->keras3) return auto_name(P, "input_layer");
    const char *n = auto_name(P, "input");
    if (!n) return NULL;
    return afmt(P, "input_%d", n[5] == '_' ? atoi(n + 6) + 1 : 1);
}

/* ---- arguments ------------------------------------------------------------- */

typedef struct pargs {
    int npos, nkw;
    pv *pos[64];
    const char *kwn[64];
    pv *kw[64];
    /* where they are: tokens [t0, t1) of each value (t1 == 0: not in the
     * text), the callee's first token and the parentheses */
    int pt0[64], pt1[64], kt0[64], kt1[64];
    int callee, open, close;
} pargs;

/* The value of argument (pos, name) as arg() finds it, with its tokens. */
static pv *arg_at(const pargs *a, int pos, const char *name, int *t0, int *t1) {
    *t0 = *t1 = 0;
    if (name)
        for (int i = 0; i < a->nkw; i++)
            if (!strcmp(a->kwn[i], name)) {
                *t0 = a->kt0[i], *t1 = a->kt1[i];
                return a->kw[i];
            }
    if (pos >= 0 && pos < a->npos) {
        *t0 = a->pt0[pos], *t1 = a->pt1[pos];
        return a->pos[pos];
    }
    return NULL;
}

static pv *arg(const pargs *a, int pos, const char *name) {
    if (name)
        for (int i = 0; i < a->nkw; i++)
            if (!strcmp(a->kwn[i], name)) return a->kw[i];
    if (pos >= 0 && pos < a->npos) return a->pos[pos];
    return NULL;
}

/* pv -> ck_value; false when the value cannot be a constructor argument. */
static bool to_cv(px *P, const pv *v, ck_value *out, int depth) {
    memset(out, 0, sizeof *out);
    if (depth > 64) return false;
    switch (v->k) {
    case PV_NONE:
        out->kind = CK_V_NONE;
        return true;
    case PV_BOOL:
        out->kind = CK_V_BOOL;
        out->i = v->i;
        return true;
    case PV_INT:
        out->kind = CK_V_INT;
        out->i = v->i;
        return true;
    case PV_FLOAT:
        out->kind = CK_V_FLOAT;
        out->f = v->f;
        return true;
    case PV_STR:
    case PV_PATH: /* activation=tf.nn.relu -> 'relu' */
        out->kind = CK_V_STR;
        out->s = ck_strdup(v->k == PV_STR ? v->s : last_comp(v->s));
        if (!out->s) P->oom = P->failed = true;
        return out->s != NULL;
    case PV_LAYER: /* activation=LeakyReLU() */
        out->kind = CK_V_STR;
        out->s = ck_strdup(v->layer->type);
        if (!out->s) P->oom = P->failed = true;
        return out->s != NULL;
    case PV_LIST:
    case PV_TUPLE:
        out->kind = CK_V_LIST;
        out->is_tuple = v->k == PV_TUPLE;
        if (!v->n) return true;
        out->items = calloc((size_t)v->n, sizeof *out->items);
        if (!out->items) {
            P->oom = P->failed = true;
            return false;
        }
        for (int i = 0; i < v->n; i++) {
            if (!to_cv(P, v->items[i], &out->items[i], depth + 1)) {
                ck_value_free(out);
                return false;
            }
            out->n = i + 1;
        }
        return true;
    default:
        return false;
    }
}

/* Constructor keywords that name the layer, declare the model input, or
 * never change a shape. */
static bool skip_kw(const char *k) {
    static const char *const skip[] = {"name",
                                       "trainable",
                                       "dtype",
                                       "input_shape",
                                       "batch_input_shape",
                                       "batch_shape",
                                       "batch_size",
                                       "input_dim",
                                       "input_length",
                                       "weights",
                                       "autocast",
                                       "seed",
                                       "input_dtype",
                                       "sparse",
                                       "ragged",
                                       "W_regularizer",
                                       "b_regularizer",
                                       "init",
                                       NULL};
    for (int i = 0; skip[i]; i++)
        if (!strcmp(k, skip[i])) return true;
    static const char *const suffix[] = {"_initializer", "_regularizer", "_constraint", NULL};
    size_t n = strlen(k);
    for (int i = 0; suffix[i]; i++) {
        size_t m = strlen(suffix[i]);
        if (n > m && !strcmp(k + n - m, suffix[i])) return true;
    }
    return false;
}

/* The items of a literal list or tuple in tokens [t0, t1): their token
 * ranges in i0/i1; -1 when the range is not one bracketed literal. */
static int split_items(const px *P, int t0, int t1, int *i0, int *i1, int cap) {
    if (t0 < 0 || t1 - t0 < 2 || t1 > P->nt) return -1;
    const ptok *a = &P->t[t0], *b = &P->t[t1 - 1];
    if (a->k != TK_OP || b->k != TK_OP || a->n != 1 || b->n != 1 ||
        !((a->op[0] == '(' && b->op[0] == ')') || (a->op[0] == '[' && b->op[0] == ']')))
        return -1;
    int n = 0, d = 0, st = t0 + 1;
    for (int i = t0 + 1; i < t1 - 1; i++) {
        const ptok *t = &P->t[i];
        if (t->k == TK_OP && t->n == 1 && strchr("([{", t->op[0])) {
            d++;
        } else if (t->k == TK_OP && t->n == 1 && strchr(")]}", t->op[0])) {
            if (--d < 0) return -1; /* (a)(b): not one literal */
        } else if (d == 0 && t->k == TK_OP && !strcmp(t->op, ",")) {
            if (n >= cap) return -1;
            i0[n] = st, i1[n] = i, n++;
            st = i + 1;
        }
    }
    if (d != 0) return -1;
    if (st < t1 - 1) {
        if (n >= cap) return -1;
        i0[n] = st, i1[n] = t1 - 1, n++;
    }
    return n;
}

/* input_shape / batch_input_shape / batch_shape / shape (+ batch_size) and
 * Keras 1 input_dim (+ input_length); *src: where the sizes are written. */
static bool read_in_shape(px *P, const pargs *a, bool shape_kw, ck_shape *s, bool *has,
                          shsrc *src) {
    *has = false;
    shsrc S = {.c0 = a->callee, .c1 = a->close ? a->close + 1 : 0};
    int t0, t1;
    const pv *v = arg_at(a, -1, "batch_input_shape", &t0, &t1);
    if (!v) v = arg_at(a, -1, "batch_shape", &t0, &t1);
    bool batch = v != NULL;
    if (!v) v = arg_at(a, shape_kw ? 0 : -1, shape_kw ? "shape" : "input_shape", &t0, &t1);
    if (!v && shape_kw) v = arg_at(a, -1, "input_shape", &t0, &t1);
    if (v && v->k != PV_NONE) {
        bool scalar = v->k == PV_INT;
        if (scalar) {
            pv *t = mk_seq(P, PV_TUPLE, 1);
            if (t == &UNK) return false;
            t->items[0] = (pv *)v;
            v = t;
        }
        if (!is_seq(v) || v->n + !batch > CK_MAX_RANK)
            return perr(P, "the input shape must be a tuple of at most %d sizes",
                        CK_MAX_RANK - !batch);
        s->rank = v->n + !batch;
        int k = 0;
        if (!batch) {
            int b0, b1;
            const pv *bs = arg_at(a, -1, "batch_size", &b0, &b1);
            s->d[k++] = bs && bs->k == PV_INT && bs->i > 0 ? bs->i : 1;
            if (bs) S.dt0[0] = b0, S.dt1[0] = b1;
        }
        for (int i = 0; i < v->n; i++, k++) {
            const pv *e = v->items[i];
            if (e->k == PV_INT && e->i >= 0)
                s->d[k] = e->i;
            else if (e->k == PV_NONE || e->k == PV_UNKNOWN)
                s->d[k] = k == 0 ? 1 : 0, S.open |= 1u << k;
            else
                return perr(P, "input shape entry %d must be a non-negative integer or None", i);
        }
        S.t0 = t0, S.t1 = t1, S.first = !batch;
        int i0[CK_MAX_RANK], i1[CK_MAX_RANK];
        int m = scalar ? -1 : split_items(P, t0, t1, i0, i1, CK_MAX_RANK);
        if (scalar && t1) {
            S.dt0[S.first] = t0, S.dt1[S.first] = t1;
        } else if (m == v->n) {
            for (int i = 0; i < m; i++) S.dt0[S.first + i] = i0[i], S.dt1[S.first + i] = i1[i];
        }
        *has = true;
        if (src) *src = S;
        return true;
    }
    int d0, d1, l0, l1;
    const pv *dim = arg_at(a, -1, "input_dim", &d0, &d1);
    if (dim && dim->k == PV_INT && dim->i > 0) {
        const pv *len = arg_at(a, -1, "input_length", &l0, &l1);
        s->rank = 0;
        s->d[s->rank++] = 1;
        if (len && len->k == PV_INT && len->i > 0) {
            S.dt0[s->rank] = l0, S.dt1[s->rank] = l1;
            s->d[s->rank++] = len->i;
        }
        S.dt0[s->rank] = d0, S.dt1[s->rank] = d1;
        s->d[s->rank++] = dim->i;
        S.first = 1;
        *has = true;
        if (src) *src = S;
    }
    return true;
}

/* ---- IR -------------------------------------------------------------------- */

static int ir_val(px *P, const char *name, int node, int input) {
    if (!name) return -1;
    if (!grow(P, (void **)&P->iv, &P->civ, P->niv, sizeof *P->iv)) return -1;
    P->iv[P->niv] = (irval){.name = name, .node = node, .input = input};
    return P->niv++;
}

static int ir_input(px *P, const char *name, const ck_shape *s) {
    if (!name || !grow(P, (void **)&P->inp, &P->cinp, P->ninp, sizeof *P->inp)) return -1;
    int v = ir_val(P, name, -1, P->ninp);
    if (v < 0) return -1;
    P->inp[P->ninp] = (irinput){.name = name, .shape = *s, .val = v, .site = -1};
    P->ninp++;
    P->effects++;
    return v;
}

/* A node reading IR values in[0..n). Returns its output value or -1. */
static int ir_node(px *P, const char *name, const char *type, const ck_args *args, int n,
                   const int *in, int line, int col) {
    if (!name) return -1;
    if (P->nin >= P->lim.max_nodes) {
        perr_at(P, line, col, CK_LIMIT_EXCEEDED,
                "more than %d layers (raise the limit with --max-nodes)", P->lim.max_nodes);
        return -1;
    }
    if (!grow(P, (void **)&P->in, &P->cin, P->nin, sizeof *P->in)) return -1;
    int *ins = amem(P, (size_t)(n ? n : 1) * sizeof *ins);
    if (!ins) return -1;
    memcpy(ins, in, (size_t)n * sizeof *ins);
    int v = ir_val(P, name, P->nin, -1);
    if (v < 0) return -1;
    P->in[P->nin] = (irnode){.name = name,
                             .type = type,
                             .args = args,
                             .n_in = n,
                             .in = ins,
                             .out = v,
                             .line = line,
                             .col = col};
    P->nin++;
    P->effects++;
    return v;
}

/* ---- layers and models ----------------------------------------------------- */

static const char *const merge_fns[][2] = {{"add", "Add"},
                                           {"subtract", "Subtract"},
                                           {"multiply", "Multiply"},
                                           {"average", "Average"},
                                           {"maximum", "Maximum"},
                                           {"minimum", "Minimum"},
                                           {"concatenate", "Concatenate"},
                                           {NULL, NULL}};

static bool is_layer_class(const char *nm, const char *path) {
    if (ck_frontend_known(CK_DIALECT_KERAS, nm)) return true;
    if (!strcmp(nm, "InputLayer") || !strcmp(nm, "Merge")) return true;
    /* a class from a Keras module convkit does not know: an unsupported_op node */
    return isupper((unsigned char)nm[0]) && (strstr(path, "layers.") || strstr(path, "keras."));
}

static pv *new_layer(px *P, const char *cls, const pargs *a, int line, int col) {
    if (P->skip) return &UNK;
    player *L = amem(P, sizeof *L);
    if (!L) return &UNK;
    L->type = cls;
    L->line = line;
    L->col = col;
    L->last_out = -1;
    L->is_input_layer = !strcmp(cls, "InputLayer");
    const pv *nm = arg(a, -1, "name");
    if (nm && nm->k == PV_STR) {
        L->name = nm->s;
    } else if (L->is_input_layer) {
        L->name = input_name(P);
    } else {
        L->name = auto_name(P, snake(P, cls));
    }
    if (!L->name) return &UNK;
    if (!read_in_shape(P, a, L->is_input_layer, &L->in_shape, &L->has_in_shape, &L->in_src))
        return &UNK;
    /* where the call is, to edit its arguments */
    L->src = (psrc){
        .callee = a->callee, .open = a->open, .close = a->close, .npos = a->npos, .nkw = a->nkw};
    if (a->close) {
        L->src.pt0 = amem(P, (size_t)(a->npos + 1) * sizeof(int));
        L->src.pt1 = amem(P, (size_t)(a->npos + 1) * sizeof(int));
        L->src.kt0 = amem(P, (size_t)(a->nkw + 1) * sizeof(int));
        L->src.kt1 = amem(P, (size_t)(a->nkw + 1) * sizeof(int));
        L->src.kwn = amem(P, (size_t)(a->nkw + 1) * sizeof(char *));
        if (!L->src.pt0 || !L->src.pt1 || !L->src.kt0 || !L->src.kt1 || !L->src.kwn) return &UNK;
        memcpy(L->src.pt0, a->pt0, (size_t)a->npos * sizeof(int));
        memcpy(L->src.pt1, a->pt1, (size_t)a->npos * sizeof(int));
        memcpy(L->src.kt0, a->kt0, (size_t)a->nkw * sizeof(int));
        memcpy(L->src.kt1, a->kt1, (size_t)a->nkw * sizeof(int));
        memcpy(L->src.kwn, a->kwn, (size_t)a->nkw * sizeof(char *));
    }
    const char *merge_cls = NULL;
    if (!strcmp(cls, "Merge")) { /* Keras 1 Merge(mode=...) */
        const pv *mode = arg(a, -1, "mode");
        static const char *const mm[][2] = {
            {"sum", "Add"},     {"mul", "Multiply"},       {"ave", "Average"},
            {"max", "Maximum"}, {"concat", "Concatenate"}, {NULL, NULL}};
        for (int i = 0; mm[i][0] && mode && mode->k == PV_STR; i++)
            if (!strcmp(mode->s, mm[i][0])) merge_cls = mm[i][1];
        if (merge_cls) L->type = merge_cls;
        L->why_not = "it comes from Keras 1's merge(), whose arguments convkit renames";
    }
    for (int i = 0; i < a->npos && !L->is_input_layer && !merge_cls; i++) {
        ck_value cv;
        if (!to_cv(P, a->pos[i], &cv, 0)) {
            if (P->failed) return &UNK;
            P->dropped_line = line, P->dropped_layer = L->name, P->dropped_arg = "positional";
            L->why_not = "a positional argument of its call cannot be evaluated from the file";
            ck_args_free(&L->args);
            memset(&L->args, 0, sizeof L->args);
            break;
        }
        if (!ck_args_push_pos(&L->args, cv)) {
            P->oom = P->failed = true;
            return &UNK;
        }
    }
    for (int i = 0; i < a->nkw && !L->is_input_layer; i++) {
        const char *k = a->kwn[i];
        if (skip_kw(k)) continue;
        if (merge_cls && strcmp(k, "concat_axis") != 0) continue;
        ck_value cv;
        if (!to_cv(P, a->kw[i], &cv, 0)) {
            if (P->failed) return &UNK;
            P->dropped_line = line, P->dropped_layer = L->name, P->dropped_arg = k;
            continue;
        }
        if (!ck_args_push_kw(&L->args, merge_cls ? "axis" : k, cv)) {
            P->oom = P->failed = true;
            return &UNK;
        }
    }
    L->next_all = P->layers;
    P->layers = L;
    P->effects++;
    pv *v = mk(P, PV_LAYER);
    if (v != &UNK) v->layer = L;
    return v;
}

/* Flattens tensors in v (a tensor, or lists/tuples/dicts of them) into out. */
static bool tensors_of(const pv *v, int *out, int *n, int cap, int depth) {
    if (depth > 32) return false;
    if (v->k == PV_TENSOR) {
        if (*n >= cap) return false;
        out[(*n)++] = v->tensor;
        return true;
    }
    if (is_seq(v) || v->k == PV_DICT) {
        for (int i = 0; i < v->n; i++)
            if (!tensors_of(v->items[i], out, n, cap, depth + 1)) return false;
        return true;
    }
    return false;
}

static pv *tensor_pv(px *P, int val) {
    if (val < 0) return &UNK;
    pv *v = mk(P, PV_TENSOR);
    if (v != &UNK) v->tensor = val;
    return v;
}

static pv *apply_model(px *P, pmodel *M, const pv *x, const char *prefix, int line, int col);

/* Calls layer L on the tensors in x. */
static pv *apply_layer(px *P, player *L, const pv *x, const char *prefix, int line, int col) {
    if (P->skip) return &UNK;
    int in[64], n = 0;
    if (!tensors_of(x, in, &n, 64, 0) || n == 0) {
        if (x->k == PV_UNKNOWN) return &UNK; /* built on something the file does not define */
        perr_at(P, line, col, CK_PARSE_ERROR,
                "%s (%s) is called on something that is not a tensor of the model; call it on "
                "an Input() or on another layer's output",
                L->name, L->type);
        return &UNK;
    }
    if (L->is_input_layer) return tensor_pv(P, in[0]);
    const char *name = L->calls == 0 ? afmt(P, "%s%s", prefix, L->name)
                                     : afmt(P, "%s%s:%d", prefix, L->name, L->calls);
    L->calls++;
    int out = ir_node(P, name, L->type, &L->args, n, in, line, col);
    if (out >= 0) {
        irnode *nd = &P->in[P->nin - 1];
        nd->L = L;
        nd->at0 = P->app_t0;
        nd->at1 = P->app_t1;
    }
    L->last_out = out;
    return tensor_pv(P, out);
}

/* The input of a Sequential built on its own. */
static int seq_input(px *P, pmodel *M, int *first) {
    *first = 0;
    if (M->n_layers == 0) return -1;
    pv *f = M->layers[0];
    if (f->k == PV_TENSOR) {
        *first = 1;
        return f->tensor;
    }
    ck_shape s = {0};
    const char *name = "input";
    shsrc src = {0};
    int site = -1;
    if (f->k == PV_LAYER) {
        if (f->layer->has_in_shape) {
            s = f->layer->in_shape;
            src = f->layer->in_src;
            site = f->layer->src.close ? f->layer->src.callee : -1;
        }
        if (f->layer->is_input_layer) {
            *first = 1;
            name = f->layer->name;
        }
    } else if (f->k == PV_MODEL && f->model->kind == PM_FUNC && f->model->n_in == 1) {
        const irval *iv = &P->iv[f->model->in[0]];
        if (iv->input >= 0) {
            s = P->inp[iv->input].shape;
            src = P->inp[iv->input].src;
            site = P->inp[iv->input].site;
        }
    }
    /* a second standalone build (a nested Sequential is prefixed) */
    for (int i = 0; i < P->ninp; i++)
        if (!strcmp(P->inp[i].name, name)) {
            name = afmt(P, "%s_input", M->name);
            break;
        }
    int v = ir_input(P, name, &s);
    if (v >= 0) {
        P->inp[P->ninp - 1].src = src;
        P->inp[P->ninp - 1].site = site;
    }
    return v;
}

/* Runs the Sequential's layers on value `cur`. */
static int seq_chain(px *P, pmodel *M, int first, int cur, const char *prefix, int line, int col) {
    for (int i = first; i < M->n_layers && cur >= 0; i++) {
        pv *l = M->layers[i];
        pv *x = tensor_pv(P, cur);
        pv *y =
            l->k == PV_LAYER ? apply_layer(P, l->layer, x, prefix, line, col)
            : l->k == PV_MODEL
                ? apply_model(P, l->model, x, afmt(P, "%s%s/", prefix, l->model->name), line, col)
                : &UNK;
        if (P->failed) return -1;
        if (y->k != PV_TENSOR) {
            if (is_seq(y) && y->n > 0 && y->items[0]->k == PV_TENSOR) {
                cur = y->items[0]->tensor;
                continue;
            }
            perr_at(P, line, col, CK_PARSE_ERROR,
                    "layer %d of Sequential '%s' is not a layer convkit can place", i, M->name);
            return -1;
        }
        cur = y->tensor;
    }
    return cur;
}

static bool seq_build(px *P, pmodel *M) {
    if (M->built_out >= 0) return true;
    int first;
    int in = seq_input(P, M, &first);
    if (in < 0) {
        if (!P->failed)
            perr_at(P, M->line, 1, CK_PARSE_ERROR, "Sequential model '%s' has no layers", M->name);
        return false;
    }
    M->built_in = in;
    M->built_out = seq_chain(P, M, first, in, "", M->line, 1);
    return M->built_out >= 0;
}

/* Replays functional model M's nodes on new inputs, names prefixed. */
static pv *apply_func(px *P, pmodel *M, const int *in, int n, const char *prefix, int line,
                      int col) {
    if (n != M->n_in) {
        perr_at(P, line, col, CK_PARSE_ERROR, "model '%s' takes %d input%s but is called on %d",
                M->name, M->n_in, M->n_in == 1 ? "" : "s", n);
        return &UNK;
    }
    int *map = calloc((size_t)P->niv + 1, sizeof *map);
    if (!map) {
        P->oom = P->failed = true;
        return &UNK;
    }
    for (int i = 0; i < P->niv; i++) map[i] = -1;
    for (int i = 0; i < n; i++) map[M->in[i]] = in[i];
    /* the nodes of M: those between its inputs and its outputs */
    int nv = P->niv, nn = P->nin;
    char *need = calloc((size_t)nv + 1, 1);
    if (!need) {
        free(map);
        P->oom = P->failed = true;
        return &UNK;
    }
    for (int i = 0; i < M->n_out; i++) need[M->out[i]] = 1;
    for (int k = nn - 1; k >= 0; k--) {
        const irnode *nd = &P->in[k];
        if (!need[nd->out] || map[nd->out] >= 0) continue;
        for (int j = 0; j < nd->n_in; j++) need[nd->in[j]] = 1;
    }
    for (int k = 0; k < nn && !P->failed; k++) {
        irnode nd = P->in[k];
        if (!need[nd.out] || map[nd.out] >= 0) continue;
        int ins[64], m = 0;
        bool ok = true;
        for (int j = 0; j < nd.n_in && m < 64; j++) {
            if (map[nd.in[j]] < 0) ok = false;
            ins[m++] = map[nd.in[j]];
        }
        if (!ok) continue;
        map[nd.out] =
            ir_node(P, afmt(P, "%s%s", prefix, nd.name), nd.type, nd.args, m, ins, nd.line, nd.col);
        if (map[nd.out] >= 0) {
            irnode *c = &P->in[P->nin - 1];
            c->L = nd.L, c->at0 = nd.at0, c->at1 = nd.at1, c->replayed = true;
        }
    }
    pv *r = &UNK;
    if (!P->failed) {
        r = M->n_out == 1 ? tensor_pv(P, map[M->out[0]]) : mk_seq(P, PV_LIST, M->n_out);
        for (int i = 0; M->n_out > 1 && r != &UNK && i < M->n_out; i++)
            r->items[i] = tensor_pv(P, map[M->out[i]]);
        for (int i = 0; i < M->n_out; i++)
            if (map[M->out[i]] < 0 && !P->failed)
                perr_at(P, line, col, CK_PARSE_ERROR,
                        "model '%s': output %d does not depend on its inputs", M->name, i);
    }
    free(need);
    free(map);
    return r;
}

static pv *apply_model(px *P, pmodel *M, const pv *x, const char *prefix, int line, int col) {
    if (P->skip) return &UNK;
    int in[64], n = 0;
    if (!tensors_of(x, in, &n, 64, 0) || n == 0) {
        if (x->k == PV_UNKNOWN) return &UNK;
        perr_at(P, line, col, CK_PARSE_ERROR,
                "model '%s' is called on something that is not a "
                "tensor of the model",
                M->name);
        return &UNK;
    }
    if (!prefix) return &UNK;
    const char *pre =
        M->calls == 0 ? prefix : afmt(P, "%.*s:%d/", (int)strlen(prefix) - 1, prefix, M->calls);
    M->calls++;
    if (!pre) return &UNK;
    if (M->kind == PM_SEQ) {
        if (n != 1) {
            perr_at(P, line, col, CK_PARSE_ERROR, "Sequential model '%s' called on %d inputs",
                    M->name, n);
            return &UNK;
        }
        int first = 0;
        if (M->n_layers && (M->layers[0]->k == PV_TENSOR ||
                            (M->layers[0]->k == PV_LAYER && M->layers[0]->layer->is_input_layer)))
            first = 1;
        return tensor_pv(P, seq_chain(P, M, first, in[0], pre, line, col));
    }
    return apply_func(P, M, in, n, pre, line, col);
}

static pmodel *new_model(px *P, pmkind kind, const pargs *a, int line) {
    pmodel *M = amem(P, sizeof *M);
    if (!M) return NULL;
    M->kind = kind;
    M->line = line;
    M->built_in = M->built_out = -1;
    const pv *nm = arg(a, -1, "name");
    if (nm && nm->k == PV_STR)
        M->name = nm->s;
    else
        M->name = auto_name(P, kind == PM_SEQ ? "sequential" : P->keras3 ? "functional" : "model");
    if (!M->name) return NULL;
    M->next_all = P->models;
    P->models = M;
    P->last_model = M;
    P->n_models++;
    P->effects++;
    return M;
}

static bool seq_add(px *P, pmodel *M, pv *l) {
    if (P->skip) return true;
    if (l->k != PV_LAYER && l->k != PV_MODEL && l->k != PV_TENSOR) return true;
    if (!grow(P, (void **)&M->layers, &M->cap_layers, M->n_layers, sizeof *M->layers)) return false;
    M->layers[M->n_layers++] = l;
    P->effects++;
    return true;
}

/* ---- expressions ----------------------------------------------------------- */

static pv *expr(px *P);
static pv *ternary(px *P);

static bool step(px *P) {
    if (++P->steps > P->max_steps) {
        int line, col;
        here(P, &line, &col);
        return perr_at(P, line, col, CK_LIMIT_EXCEEDED,
                       "the code takes more than %lld evaluation steps to build the model",
                       (long long)P->max_steps);
    }
    return true;
}

/* Skips a balanced bracket group starting at the current '(' '[' or '{'. */
static bool skip_group(px *P) {
    int d = 0;
    do {
        const ptok *t = tk(P);
        if (t->k == TK_END) return perr(P, "unbalanced brackets");
        if (t->k == TK_OP && t->n == 1 && strchr("([{", t->op[0])) d++;
        if (t->k == TK_OP && t->n == 1 && strchr(")]}", t->op[0])) d--;
        P->pos++;
    } while (d > 0);
    return true;
}

/* Call arguments after '(' up to and including ')'. */
static bool call_args(px *P, pargs *a) {
    a->open = P->pos - 1;
    while (!is_op(P, ")")) {
        if (tk(P)->k == TK_END) return perr(P, "expected ')'");
        if (is_op(P, "*") || is_op(P, "**")) { /* *args, **kwargs: unknown */
            P->pos++;
            pv *v = ternary(P);
            (void)v;
            a->npos = 64; /* mark: arguments not known */
        } else if (tk(P)->k == TK_NAME && P->pos + 1 < P->end && P->t[P->pos + 1].k == TK_OP &&
                   !strcmp(P->t[P->pos + 1].op, "=")) {
            const ptok *nt = tk(P);
            const char *k = adup(P, nt->p, (size_t)nt->n);
            P->pos += 2;
            int t0 = P->pos;
            pv *v = ternary(P);
            if (!k || P->failed) return false;
            if (a->nkw >= 64) return perr(P, "more than 64 keyword arguments");
            a->kt0[a->nkw] = t0;
            a->kt1[a->nkw] = P->pos;
            a->kwn[a->nkw] = k;
            a->kw[a->nkw++] = v;
        } else {
            int t0 = P->pos;
            pv *v = ternary(P);
            if (P->failed) return false;
            if (is_kw(P, "for")) { /* a generator argument */
                while (!is_op(P, ")") && tk(P)->k != TK_END) {
                    if (is_op(P, "(") || is_op(P, "[") || is_op(P, "{")) {
                        if (!skip_group(P)) return false;
                    } else {
                        P->pos++;
                    }
                }
                v = &UNK;
            }
            if (a->npos >= 64) return perr(P, "more than 64 positional arguments");
            a->pt0[a->npos] = t0;
            a->pt1[a->npos] = P->pos;
            a->pos[a->npos++] = v;
        }
        if (is_op(P, ","))
            P->pos++;
        else if (!is_op(P, ")"))
            return expect_op(P, ")");
    }
    a->close = P->pos;
    P->pos++;
    return true;
}

static pv *builtin(px *P, const char *nm, const pargs *a) {
    if (!strcmp(nm, "range")) {
        int64_t lo = 0, hi = 0, st = 1;
        for (int i = 0; i < a->npos; i++)
            if (a->pos[i]->k != PV_INT) return &UNK;
        if (a->npos == 1)
            hi = a->pos[0]->i;
        else if (a->npos >= 2)
            lo = a->pos[0]->i, hi = a->pos[1]->i;
        if (a->npos == 3) st = a->pos[2]->i;
        if (a->npos < 1 || a->npos > 3 || st == 0) return &UNK;
        int64_t cnt = st > 0 ? (hi > lo ? (hi - lo + st - 1) / st : 0)
                             : (lo > hi ? (lo - hi - st - 1) / -st : 0);
        if (cnt > 65536) {
            int line, col;
            here(P, &line, &col);
            perr_at(P, line, col, CK_LIMIT_EXCEEDED,
                    "range() of %lld values; convkit unrolls at most 65536", (long long)cnt);
            return &UNK;
        }
        pv *r = mk_seq(P, PV_LIST, (int)cnt);
        for (int64_t i = 0; r != &UNK && i < cnt; i++) r->items[i] = mk_int(P, lo + i * st);
        return r;
    }
    const pv *x = a->npos ? a->pos[0] : &UNK;
    if (!strcmp(nm, "len") && (is_seq(x) || x->k == PV_DICT)) return mk_int(P, x->n);
    if (!strcmp(nm, "len") && x->k == PV_STR) return mk_int(P, (int64_t)strlen(x->s));
    if (!strcmp(nm, "int") && x->k == PV_INT) return (pv *)x;
    if (!strcmp(nm, "int") && x->k == PV_FLOAT && isfinite(x->f) && fabs(x->f) < 9e18)
        return mk_int(P, (int64_t)x->f);
    if (!strcmp(nm, "float") && (x->k == PV_INT || x->k == PV_FLOAT)) {
        pv *r = mk(P, PV_FLOAT);
        if (r != &UNK) r->f = x->k == PV_INT ? (double)x->i : x->f;
        return r;
    }
    if ((!strcmp(nm, "tuple") || !strcmp(nm, "list")) && is_seq(x)) {
        pv *r = mk_seq(P, nm[0] == 't' ? PV_TUPLE : PV_LIST, x->n);
        for (int i = 0; r != &UNK && i < x->n; i++) r->items[i] = x->items[i];
        return r;
    }
    if ((!strcmp(nm, "max") || !strcmp(nm, "min")) && a->npos >= 2) {
        int64_t best = 0;
        for (int i = 0; i < a->npos; i++) {
            if (a->pos[i]->k != PV_INT) return &UNK;
            if (i == 0 || (nm[1] == 'a' ? a->pos[i]->i > best : a->pos[i]->i < best))
                best = a->pos[i]->i;
        }
        return mk_int(P, best);
    }
    if (!strcmp(nm, "image_data_format")) { /* keras.backend.image_data_format() */
        pv *r = mk(P, PV_STR);
        if (r != &UNK) r->s = "channels_last";
        return r;
    }
    return &UNK;
}

static pv *call_func(px *P, int fi, const pargs *a, int line, int col);

/* callee(args) */
static pv *do_call(px *P, pv *f, const pargs *a, int line, int col) {
    if (a->npos >= 64) return &UNK; /* *args */
    if (f->k == PV_LAYER) {
        if (a->npos) P->app_t0 = a->pt0[0], P->app_t1 = a->pt1[0];
        pv *r = apply_layer(P, f->layer, a->npos ? a->pos[0] : &UNK, "", line, col);
        P->app_t0 = P->app_t1 = 0;
        return r;
    }
    if (f->k == PV_MODEL)
        return apply_model(P, f->model, a->npos ? a->pos[0] : &UNK, afmt(P, "%s/", f->model->name),
                           line, col);
    if (f->k == PV_FUNC) return call_func(P, f->func, a, line, col);
    if (f->k == PV_METHOD) {
        pv *self = f->self;
        const char *m = f->s;
        if (self->k == PV_MODEL) {
            pmodel *M = self->model;
            if (!strcmp(m, "add") && M->kind == PM_SEQ) {
                if (a->npos >= 1) seq_add(P, M, a->pos[0]);
                return &UNK;
            }
            if (!strcmp(m, "compile") || !strcmp(m, "fit") || !strcmp(m, "summary") ||
                !strcmp(m, "fit_generator") || !strcmp(m, "save") || !strcmp(m, "build")) {
                if (!P->skip) P->chosen = M;
                if (!strcmp(m, "build") && M->kind == PM_SEQ && M->n_layers > 0 && !P->skip &&
                    M->layers[0]->k == PV_LAYER && !M->layers[0]->layer->has_in_shape) {
                    /* model.build((None, 28, 28, 1)) */
                    pargs b = {.nkw = 1,
                               .kwn = {"batch_input_shape"},
                               .kw = {a->pos[0]},
                               .kt0 = {a->pt0[0]},
                               .kt1 = {a->pt1[0]},
                               .callee = a->callee,
                               .close = a->close};
                    if (a->npos >= 1)
                        read_in_shape(P, &b, false, &M->layers[0]->layer->in_shape,
                                      &M->layers[0]->layer->has_in_shape,
                                      &M->layers[0]->layer->in_src);
                }
            }
            return &UNK;
        }
        if (self->k == PV_LIST && !strcmp(m, "append") && a->npos == 1 && !P->skip) {
            pv **it = amem(P, (size_t)(self->n + 1) * sizeof *it);
            if (!it) return &UNK;
            memcpy(it, self->items, (size_t)self->n * sizeof *it);
            it[self->n++] = a->pos[0];
            self->items = it;
        }
        return &UNK;
    }
    if (f->k != PV_PATH) return &UNK;
    const char *nm = last_comp(f->s);
    if (!strcmp(nm, "Sequential")) {
        if (P->skip) return &UNK;
        pmodel *M = new_model(P, PM_SEQ, a, line);
        if (!M) return &UNK;
        const pv *ls = arg(a, 0, "layers");
        if (ls && is_seq(ls))
            for (int i = 0; i < ls->n; i++)
                if (!seq_add(P, M, ls->items[i])) return &UNK;
        pv *v = mk(P, PV_MODEL);
        if (v != &UNK) v->model = M;
        return v;
    }
    if (!strcmp(nm, "Model") || !strcmp(nm, "Functional")) {
        if (P->skip) return &UNK;
        const pv *iv = arg(a, 0, "inputs"), *ov = arg(a, 1, "outputs");
        if (!iv) iv = arg(a, -1, "input");
        if (!ov) ov = arg(a, -1, "output");
        int ins[64], ni = 0, outs[64], no = 0;
        if (!iv || !ov || !tensors_of(iv, ins, &ni, 64, 0) || !tensors_of(ov, outs, &no, 64, 0) ||
            ni == 0 || no == 0) {
            if ((iv && iv->k == PV_UNKNOWN) || (ov && ov->k == PV_UNKNOWN)) return &UNK;
            perr_at(P, line, col, CK_PARSE_ERROR,
                    "Model(inputs, outputs): the inputs and outputs must be tensors built in the "
                    "file (Input() and layer calls)");
            return &UNK;
        }
        pmodel *M = new_model(P, PM_FUNC, a, line);
        if (!M) return &UNK;
        M->in = amem(P, (size_t)ni * sizeof *M->in);
        M->out = amem(P, (size_t)no * sizeof *M->out);
        if (!M->in || !M->out) return &UNK;
        memcpy(M->in, ins, (size_t)ni * sizeof *ins);
        memcpy(M->out, outs, (size_t)no * sizeof *outs);
        M->n_in = ni;
        M->n_out = no;
        pv *v = mk(P, PV_MODEL);
        if (v != &UNK) v->model = M;
        return v;
    }
    if (!strcmp(nm, "Input")) {
        if (P->skip) return &UNK;
        ck_shape s = {0};
        bool has;
        shsrc src = {0};
        if (!read_in_shape(P, a, true, &s, &has, &src)) return &UNK;
        const pv *n = arg(a, -1, "name");
        const char *name = n && n->k == PV_STR ? n->s : input_name(P);
        for (int i = 0; name && i < P->ninp; i++)
            if (!strcmp(P->inp[i].name, name)) {
                perr_at(P, line, col, CK_PARSE_ERROR, "two inputs are named '%s'", name);
                return &UNK;
            }
        int iv = ir_input(P, name, &s);
        if (iv >= 0) {
            P->inp[P->ninp - 1].src = src;
            P->inp[P->ninp - 1].site = a->close ? a->callee : -1;
        }
        return tensor_pv(P, iv);
    }
    if (!strcmp(nm, "merge") && a->npos >= 1) { /* Keras 1 merge([a, b], mode=...) */
        pv *L = new_layer(P, "Merge", a, line, col);
        P->app_t0 = a->pt0[0], P->app_t1 = a->pt1[0];
        pv *r = L->k == PV_LAYER ? apply_layer(P, L->layer, a->pos[0], "", line, col) : &UNK;
        P->app_t0 = P->app_t1 = 0;
        return r;
    }
    for (int i = 0; merge_fns[i][0]; i++)
        if (!strcmp(nm, merge_fns[i][0]) && (strstr(f->s, "layers") || !strchr(f->s, '.'))) {
            if (a->npos < 1) return &UNK;
            pargs b = *a;
            b.npos = 0; /* the list is the call's input, the rest configures */
            pv *L = new_layer(P, merge_fns[i][1], &b, line, col);
            P->app_t0 = a->pt0[0], P->app_t1 = a->pt1[0];
            pv *r = L->k == PV_LAYER ? apply_layer(P, L->layer, a->pos[0], "", line, col) : &UNK;
            P->app_t0 = P->app_t1 = 0;
            return r;
        }
    if (is_layer_class(nm, f->s)) return new_layer(P, nm, a, line, col);
    if (!strchr(f->s, '.') || !strcmp(f->s, "K.image_data_format") ||
        strstr(f->s, "backend.image_data_format"))
        return builtin(P, nm, a);
    return &UNK;
}

static pv *atom(px *P);

static pv *attr(px *P, pv *v, const char *name) {
    if (v->k == PV_PATH) {
        pv *r = mk(P, PV_PATH);
        if (r != &UNK) r->s = afmt(P, "%s.%s", v->s, name);
        if (r != &UNK && !r->s) return &UNK;
        return r;
    }
    if (v->k == PV_MODEL) {
        pmodel *M = v->model;
        if (!strcmp(name, "output") || !strcmp(name, "outputs") || !strcmp(name, "input") ||
            !strcmp(name, "inputs")) {
            if (P->skip) return &UNK;
            bool out = name[0] == 'o', many = name[strlen(name) - 1] == 's';
            if (M->kind == PM_SEQ) {
                if (!seq_build(P, M)) return &UNK;
                pv *t = tensor_pv(P, out ? M->built_out : M->built_in);
                if (!many) return t;
                pv *l = mk_seq(P, PV_LIST, 1);
                if (l != &UNK) l->items[0] = t;
                return l;
            }
            int n = out ? M->n_out : M->n_in, *vals = out ? M->out : M->in;
            if (!many && n == 1) return tensor_pv(P, vals[0]);
            pv *l = mk_seq(P, PV_LIST, n);
            for (int i = 0; l != &UNK && i < n; i++) l->items[i] = tensor_pv(P, vals[i]);
            return l;
        }
        if (!strcmp(name, "layers") && M->kind == PM_SEQ) {
            pv *l = mk_seq(P, PV_LIST, M->n_layers);
            for (int i = 0; l != &UNK && i < M->n_layers; i++) l->items[i] = M->layers[i];
            return l;
        }
        if (!strcmp(name, "name")) {
            pv *s = mk(P, PV_STR);
            if (s != &UNK) s->s = M->name;
            return s;
        }
    }
    if (v->k == PV_LAYER && !strcmp(name, "output")) return tensor_pv(P, v->layer->last_out);
    if (v->k == PV_LAYER && !strcmp(name, "name")) {
        pv *s = mk(P, PV_STR);
        if (s != &UNK) s->s = v->layer->name;
        return s;
    }
    if (v->k == PV_MODEL || v->k == PV_LIST) {
        pv *m = mk(P, PV_METHOD);
        if (m != &UNK) m->self = v, m->s = adup(P, name, strlen(name));
        return m;
    }
    return &UNK;
}

static pv *subscript(pv *v, pv *ix) {
    if (is_seq(v) && ix->k == PV_INT) {
        int64_t i = ix->i < 0 ? ix->i + v->n : ix->i;
        if (i >= 0 && i < v->n) return v->items[i];
        return &UNK;
    }
    if (v->k == PV_DICT && ix->k == PV_STR) {
        for (int i = 0; i < v->n; i++)
            if (v->keys[i] && !strcmp(v->keys[i], ix->s)) return v->items[i];
    }
    return &UNK;
}

/* A ':' at this bracket level before the closing ']'. */
static bool slice_ahead(const px *P) {
    int d = 0;
    for (int i = P->pos; i < P->end; i++) {
        const ptok *t = &P->t[i];
        if (t->k != TK_OP) continue;
        if (t->n == 1 && strchr("([{", t->op[0])) d++;
        if (t->n == 1 && strchr(")]}", t->op[0])) {
            if (d == 0) return false;
            d--;
        }
        if (d == 0 && !strcmp(t->op, ":")) return true;
    }
    return false;
}

static pv *slice(px *P, pv *v, const pv *lo, const pv *hi) {
    if (!is_seq(v) || (lo && lo->k != PV_INT) || (hi && hi->k != PV_INT)) return &UNK;
    int64_t a = lo ? lo->i : 0, b = hi ? hi->i : v->n;
    if (a < 0) a += v->n;
    if (b < 0) b += v->n;
    a = a < 0 ? 0 : a > v->n ? v->n : a;
    b = b < a ? a : b > v->n ? v->n : b;
    pv *r = mk_seq(P, v->k, (int)(b - a));
    for (int64_t i = a; r != &UNK && i < b; i++) r->items[i - a] = v->items[i];
    return r;
}

static pv *primary(px *P) {
    if (++P->depth > P->lim.max_depth * 4) {
        perr_at(P, tk(P)->line, tk(P)->col, CK_LIMIT_EXCEEDED,
                "expressions nested deeper than %d levels", P->lim.max_depth * 4);
        return &UNK;
    }
    int start = P->pos;
    pv *v = atom(P);
    while (!P->failed) {
        const ptok *t = tk(P);
        int line = t->line, col = t->col;
        if (is_op(P, "(")) {
            P->pos++;
            pargs *a = calloc(1, sizeof *a);
            if (!a) {
                P->oom = P->failed = true;
                break;
            }
            a->callee = start;
            if (!call_args(P, a)) {
                free(a);
                break;
            }
            if (!step(P)) {
                free(a);
                break;
            }
            /* report a call at its callee's position */
            (void)line;
            v = do_call(P, v, a, v->k == PV_PATH ? line : line, col);
            free(a);
        } else if (is_op(P, "[")) {
            P->pos++;
            pv *ix = &UNK;
            if (is_op(P, ":") || (!is_op(P, "]") && slice_ahead(P))) {
                /* a[lo:hi] with integer bounds */
                pv *lo = is_op(P, ":") ? NULL : ternary(P), *hi = NULL;
                bool ok = is_op(P, ":");
                if (ok) P->pos++;
                if (ok && !is_op(P, "]") && !is_op(P, ":")) hi = ternary(P);
                while (!is_op(P, "]") && tk(P)->k != TK_END) {
                    ok = false;
                    P->pos++;
                }
                if (!expect_op(P, "]")) break;
                v = ok ? slice(P, v, lo, hi) : &UNK;
                continue;
            } else {
                ix = ternary(P);
                if (is_op(P, ":") || is_op(P, ",")) {
                    ix = &UNK;
                    while (!is_op(P, "]") && tk(P)->k != TK_END) {
                        if (is_op(P, "(") || is_op(P, "[") || is_op(P, "{")) {
                            if (!skip_group(P)) break;
                        } else {
                            P->pos++;
                        }
                    }
                }
            }
            if (!expect_op(P, "]")) break;
            v = subscript(v, ix);
        } else if (is_op(P, ".")) {
            P->pos++;
            if (tk(P)->k != TK_NAME) {
                perr(P, "expected a name after '.'");
                break;
            }
            char nm[256];
            snprintf(nm, sizeof nm, "%.*s", tk(P)->n > 255 ? 255 : tk(P)->n, tk(P)->p);
            P->pos++;
            v = attr(P, v, nm);
        } else {
            break;
        }
    }
    P->depth--;
    return P->failed ? &UNK : v;
}

/* f-string: {name} fields are replaced by known values */
static pv *fstring(px *P, const char *s) {
    ck_str o = {0};
    bool known = true;
    for (const char *p = s; *p; p++) {
        if (*p == '{' && p[1] == '{') {
            ck_str_add(&o, "{");
            p++;
        } else if (*p == '}' && p[1] == '}') {
            ck_str_add(&o, "}");
            p++;
        } else if (*p == '{') {
            const char *e = strchr(p, '}');
            if (!e) break;
            char nm[128];
            size_t n = (size_t)(e - p - 1);
            if (n >= sizeof nm) n = sizeof nm - 1;
            memcpy(nm, p + 1, n);
            nm[n] = 0;
            pv *v = lookup(P, nm);
            if (v && v->k == PV_INT)
                ck_str_addf(&o, "%lld", (long long)v->i);
            else if (v && v->k == PV_STR)
                ck_str_add(&o, v->s);
            else
                known = false;
            p = e;
        } else {
            char c[2] = {*p, 0};
            ck_str_add(&o, c);
        }
    }
    pv *r = &UNK;
    if (known) {
        r = mk(P, PV_STR);
        if (r != &UNK) r->s = adup(P, o.p ? o.p : "", o.n);
        if (r != &UNK && !r->s) r = &UNK;
    }
    ck_str_free(&o);
    return r;
}

static pv *atom(px *P) {
    const ptok *t = tk(P);
    switch (t->k) {
    case TK_INT:
        P->pos++;
        return mk_int(P, t->i);
    case TK_FLOAT: {
        P->pos++;
        pv *v = mk(P, PV_FLOAT);
        if (v != &UNK) v->f = t->f;
        return v;
    }
    case TK_STR: {
        /* adjacent literals concatenate */
        ck_str o = {0};
        bool f = false;
        while (tk(P)->k == TK_STR) {
            ck_str_add(&o, tk(P)->s);
            f |= tk(P)->fstr;
            P->pos++;
        }
        pv *v = &UNK;
        if (f) {
            v = fstring(P, o.p ? o.p : "");
        } else {
            v = mk(P, PV_STR);
            if (v != &UNK) v->s = adup(P, o.p ? o.p : "", o.n);
            if (v != &UNK && !v->s) v = &UNK;
        }
        ck_str_free(&o);
        return v;
    }
    case TK_NAME: {
        char nm[256];
        snprintf(nm, sizeof nm, "%.*s", t->n > 255 ? 255 : t->n, t->p);
        P->pos++;
        if (!strcmp(nm, "None")) return mk(P, PV_NONE);
        if (!strcmp(nm, "__name__")) { /* the file runs as a script */
            pv *v = mk(P, PV_STR);
            if (v != &UNK) v->s = "__main__";
            return v;
        }
        if (!strcmp(nm, "True") || !strcmp(nm, "False")) {
            pv *v = mk(P, PV_BOOL);
            if (v != &UNK) v->i = nm[0] == 'T';
            return v;
        }
        if (!strcmp(nm, "lambda")) { /* lambda x: ... -> unknown */
            int d = 0;
            while (tk(P)->k != TK_END) {
                if (d == 0 && (is_op(P, ",") || is_op(P, ")") || is_op(P, "]") || is_op(P, "}")))
                    break;
                if (is_op(P, "(") || is_op(P, "[") || is_op(P, "{")) d++;
                if (is_op(P, ")") || is_op(P, "]") || is_op(P, "}")) d--;
                P->pos++;
            }
            return &UNK;
        }
        pv *v = lookup(P, nm);
        if (v) return v;
        v = mk(P, PV_PATH);
        if (v != &UNK) v->s = adup(P, nm, strlen(nm));
        return v != &UNK && v->s ? v : &UNK;
    }
    case TK_OP:
        if (is_op(P, "(") || is_op(P, "[")) {
            bool paren = is_op(P, "(");
            const char *close = paren ? ")" : "]";
            P->pos++;
            pv *items[256];
            int n = 0;
            bool comma = false, comp = false;
            while (!is_op(P, close) && !P->failed) {
                if (tk(P)->k == TK_END) {
                    perr(P, "expected '%s'", close);
                    return &UNK;
                }
                pv *e = ternary(P);
                if (P->failed) return &UNK;
                if (is_kw(P, "for")) { /* a comprehension: unknown */
                    comp = true;
                    int d = 0;
                    while (tk(P)->k != TK_END && !(d == 0 && is_op(P, close))) {
                        if (is_op(P, "(") || is_op(P, "[") || is_op(P, "{")) d++;
                        if (is_op(P, ")") || is_op(P, "]") || is_op(P, "}")) d--;
                        P->pos++;
                    }
                    break;
                }
                if (n >= 256) {
                    perr(P, "a literal list of more than 256 items");
                    return &UNK;
                }
                items[n++] = e;
                if (is_op(P, ",")) {
                    comma = true;
                    P->pos++;
                } else if (!is_op(P, close)) {
                    expect_op(P, close);
                    return &UNK;
                }
            }
            if (!expect_op(P, close)) return &UNK;
            if (comp) return &UNK;
            if (paren && n == 1 && !comma) return items[0];
            pv *v = mk_seq(P, paren ? PV_TUPLE : PV_LIST, n);
            for (int i = 0; v != &UNK && i < n; i++) v->items[i] = items[i];
            return v;
        }
        if (is_op(P, "{")) {
            P->pos++;
            pv *vals[256];
            const char *keys[256];
            int n = 0;
            while (!is_op(P, "}") && !P->failed) {
                if (tk(P)->k == TK_END) {
                    perr(P, "expected '}'");
                    return &UNK;
                }
                if (is_op(P, "**")) P->pos++;
                pv *k = ternary(P);
                pv *v = k;
                if (is_op(P, ":")) {
                    P->pos++;
                    v = ternary(P);
                }
                if (P->failed) return &UNK;
                if (is_kw(P, "for")) {
                    P->pos--;
                    while (!is_op(P, "}") && tk(P)->k != TK_END) P->pos++;
                    P->pos++;
                    return &UNK;
                }
                if (n < 256) {
                    keys[n] = k->k == PV_STR ? k->s : NULL;
                    vals[n++] = v;
                }
                if (is_op(P, ","))
                    P->pos++;
                else if (!is_op(P, "}")) {
                    expect_op(P, "}");
                    return &UNK;
                }
            }
            if (!expect_op(P, "}")) return &UNK;
            pv *d = mk_seq(P, PV_DICT, n);
            if (d == &UNK) return d;
            d->keys = amem(P, (size_t)(n ? n : 1) * sizeof *d->keys);
            if (!d->keys) return &UNK;
            for (int i = 0; i < n; i++) d->items[i] = vals[i], d->keys[i] = keys[i];
            return d;
        }
        if (is_op(P, "...")) {
            P->pos++;
            return &UNK;
        }
        break;
    default:
        break;
    }
    if (t->k == TK_END)
        perr(P, "expected a value, found the end of the statement");
    else
        perr(P, "expected a value, found '%.*s'", t->n > 40 ? 40 : t->n, t->p);
    return &UNK;
}

static pv *arith(px *P, const char *op, pv *a, pv *b) {
    if (a->k == PV_INT && b->k == PV_INT) {
        int64_t x = a->i, y = b->i, r = 0;
        bool ok = true;
        if (!strcmp(op, "+"))
            ok = ck_add(x, y, &r);
        else if (!strcmp(op, "-"))
            ok = ck_sub(x, y, &r);
        else if (!strcmp(op, "*"))
            ok = ck_mul(x, y, &r);
        else if (!strcmp(op, "//") || !strcmp(op, "%")) {
            if (y == 0 || (x == INT64_MIN && y == -1)) return &UNK;
            r = op[0] == '/' ? ck_floordiv(x, y) : x - ck_floordiv(x, y) * y;
        } else if (!strcmp(op, "**")) {
            if (y < 0 || y > 62) return &UNK;
            r = 1;
            for (int64_t i = 0; i < y && ok; i++) ok = ck_mul(r, x, &r);
        } else if (!strcmp(op, "/")) {
            if (y == 0) return &UNK;
            pv *v = mk(P, PV_FLOAT);
            if (v != &UNK) v->f = (double)x / (double)y;
            return v;
        } else {
            return &UNK;
        }
        return ok ? mk_int(P, r) : &UNK;
    }
    if ((a->k == PV_INT || a->k == PV_FLOAT) && (b->k == PV_INT || b->k == PV_FLOAT)) {
        double x = a->k == PV_INT ? (double)a->i : a->f, y = b->k == PV_INT ? (double)b->i : b->f;
        double r;
        if (!strcmp(op, "+"))
            r = x + y;
        else if (!strcmp(op, "-"))
            r = x - y;
        else if (!strcmp(op, "*"))
            r = x * y;
        else if (!strcmp(op, "/") && y != 0)
            r = x / y;
        else if (!strcmp(op, "**"))
            r = pow(x, y);
        else
            return &UNK;
        pv *v = mk(P, PV_FLOAT);
        if (v != &UNK) v->f = r;
        return v;
    }
    if (!strcmp(op, "+") && a->k == PV_STR && b->k == PV_STR) {
        pv *v = mk(P, PV_STR);
        if (v != &UNK) v->s = afmt(P, "%s%s", a->s, b->s);
        return v != &UNK && v->s ? v : &UNK;
    }
    if (!strcmp(op, "+") && is_seq(a) && is_seq(b) && a->k == b->k) {
        pv *v = mk_seq(P, a->k, a->n + b->n);
        for (int i = 0; v != &UNK && i < a->n; i++) v->items[i] = a->items[i];
        for (int i = 0; v != &UNK && i < b->n; i++) v->items[a->n + i] = b->items[i];
        return v;
    }
    if (!strcmp(op, "*") && is_seq(a) && b->k == PV_INT && b->i >= 0 &&
        (int64_t)a->n * b->i <= 4096) {
        pv *v = mk_seq(P, a->k, (int)(a->n * b->i));
        for (int i = 0; v != &UNK && i < v->n; i++) v->items[i] = a->items[i % a->n];
        return v;
    }
    return &UNK;
}

static pv *unary(px *P);

static pv *power(px *P) {
    pv *v = primary(P);
    if (is_op(P, "**")) {
        P->pos++;
        pv *e = unary(P);
        v = arith(P, "**", v, e);
    }
    return v;
}

static pv *unary(px *P) {
    if (is_op(P, "-") || is_op(P, "+") || is_op(P, "~")) {
        bool neg = is_op(P, "-"), inv = is_op(P, "~");
        P->pos++;
        if (++P->depth > P->lim.max_depth * 4) {
            perr_at(P, tk(P)->line, tk(P)->col, CK_LIMIT_EXCEEDED,
                    "expressions nested deeper than %d levels", P->lim.max_depth * 4);
            return &UNK;
        }
        pv *v = unary(P);
        P->depth--;
        if (inv) return &UNK;
        if (!neg) return v;
        if (v->k == PV_INT && v->i != INT64_MIN) return mk_int(P, -v->i);
        if (v->k == PV_FLOAT) {
            pv *r = mk(P, PV_FLOAT);
            if (r != &UNK) r->f = -v->f;
            return r;
        }
        return &UNK;
    }
    return power(P);
}

static pv *term(px *P) {
    pv *v = unary(P);
    while (!P->failed &&
           (is_op(P, "*") || is_op(P, "/") || is_op(P, "//") || is_op(P, "%") || is_op(P, "@"))) {
        char op[4];
        memcpy(op, tk(P)->op, sizeof op);
        P->pos++;
        pv *r = unary(P);
        v = arith(P, op, v, r);
    }
    return v;
}

static pv *sum(px *P) {
    pv *v = term(P);
    while (!P->failed && (is_op(P, "+") || is_op(P, "-"))) {
        char op[4];
        memcpy(op, tk(P)->op, sizeof op);
        int line = tk(P)->line, col = tk(P)->col;
        P->pos++;
        pv *r = term(P);
        if (v->k == PV_TENSOR && r->k == PV_TENSOR && !P->skip) {
            /* x + y on tensors: an Add (Subtract) layer */
            pargs none = {0};
            pv *L = new_layer(P, op[0] == '+' ? "Add" : "Subtract", &none, line, col);
            pv *pair = mk_seq(P, PV_LIST, 2);
            if (L->k != PV_LAYER || pair == &UNK) return &UNK;
            pair->items[0] = v;
            pair->items[1] = r;
            v = apply_layer(P, L->layer, pair, "", line, col);
            continue;
        }
        v = arith(P, op, v, r);
    }
    return v;
}

static pv *bits(px *P) {
    pv *v = sum(P);
    while (!P->failed &&
           (is_op(P, "|") || is_op(P, "&") || is_op(P, "^") || is_op(P, "<<") || is_op(P, ">>"))) {
        P->pos++;
        sum(P);
        v = &UNK;
    }
    return v;
}

static bool pv_eq(const pv *a, const pv *b, bool *known) {
    *known = true;
    if (a->k == PV_INT && b->k == PV_INT) return a->i == b->i;
    if ((a->k == PV_INT || a->k == PV_FLOAT) && (b->k == PV_INT || b->k == PV_FLOAT))
        return (a->k == PV_INT ? (double)a->i : a->f) == (b->k == PV_INT ? (double)b->i : b->f);
    if (a->k == PV_STR && b->k == PV_STR) return !strcmp(a->s, b->s);
    if (a->k == PV_NONE || b->k == PV_NONE) {
        if (a->k == PV_UNKNOWN || b->k == PV_UNKNOWN) *known = false;
        return a->k == b->k;
    }
    if (a->k == PV_BOOL && b->k == PV_BOOL) return a->i == b->i;
    *known = false;
    return false;
}

static pv *bool_pv(px *P, bool b) {
    pv *v = mk(P, PV_BOOL);
    if (v != &UNK) v->i = b;
    return v;
}

static pv *comparison(px *P) {
    pv *v = bits(P);
    for (;;) {
        char op[8] = {0};
        if (is_op(P, "==") || is_op(P, "!=") || is_op(P, "<") || is_op(P, ">") || is_op(P, "<=") ||
            is_op(P, ">=")) {
            memcpy(op, tk(P)->op, 4);
            P->pos++;
        } else if (is_kw(P, "in")) {
            strcpy(op, "in");
            P->pos++;
        } else if (is_kw(P, "is")) {
            P->pos++;
            strcpy(op, "==");
            if (is_kw(P, "not")) {
                P->pos++;
                strcpy(op, "!=");
            }
        } else if (is_kw(P, "not") && P->pos + 1 < P->end && P->t[P->pos + 1].k == TK_NAME &&
                   P->t[P->pos + 1].n == 2 && !strncmp(P->t[P->pos + 1].p, "in", 2)) {
            P->pos += 2;
            strcpy(op, "notin");
        } else {
            return v;
        }
        pv *r = bits(P);
        if (P->failed) return &UNK;
        bool known = true, res = false;
        if (!strcmp(op, "==") || !strcmp(op, "!=")) {
            res = pv_eq(v, r, &known) == (op[0] == '=');
        } else if (!strcmp(op, "in") || !strcmp(op, "notin")) {
            known = is_seq(r);
            for (int i = 0; known && i < r->n && !res; i++) {
                bool k2;
                res = pv_eq(v, r->items[i], &k2);
                known &= k2;
            }
            if (op[0] == 'n') res = !res;
        } else if ((v->k == PV_INT || v->k == PV_FLOAT) && (r->k == PV_INT || r->k == PV_FLOAT)) {
            double x = v->k == PV_INT ? (double)v->i : v->f,
                   y = r->k == PV_INT ? (double)r->i : r->f;
            res = !strcmp(op, "<")    ? x < y
                  : !strcmp(op, ">")  ? x > y
                  : !strcmp(op, "<=") ? x <= y
                                      : x >= y;
        } else {
            known = false;
        }
        v = known ? bool_pv(P, res) : &UNK;
    }
}

static pv *not_expr(px *P) {
    if (is_kw(P, "not")) {
        P->pos++;
        if (++P->depth > P->lim.max_depth * 4) {
            perr_at(P, tk(P)->line, tk(P)->col, CK_LIMIT_EXCEEDED,
                    "expressions nested deeper than %d levels", P->lim.max_depth * 4);
            return &UNK;
        }
        pv *v = not_expr(P);
        P->depth--;
        bool known, t = truthy(v, &known);
        return known ? bool_pv(P, !t) : &UNK;
    }
    return comparison(P);
}

static pv *and_or(px *P, bool is_or) {
    pv *v = is_or ? and_or(P, false) : not_expr(P);
    while (!P->failed && is_kw(P, is_or ? "or" : "and")) {
        P->pos++;
        bool known, t = truthy(v, &known);
        bool decided = known && (is_or ? t : !t);
        if (decided) P->skip++;
        pv *r = is_or ? and_or(P, false) : not_expr(P);
        if (decided) {
            P->skip--;
            continue;
        }
        v = known ? r : &UNK;
    }
    return v;
}

/* a if c else b: a is evaluated first, as the text reads (its layers are
 * created even when c is false; Keras would not create them) */
static pv *ternary(px *P) {
    pv *v = and_or(P, true);
    if (!P->failed && is_kw(P, "if")) {
        P->pos++;
        pv *c = and_or(P, true);
        if (!is_kw(P, "else")) {
            perr(P, "expected 'else' in a conditional expression");
            return &UNK;
        }
        P->pos++;
        bool known, t = truthy(c, &known);
        if (known && t) P->skip++;
        pv *e = ternary(P);
        if (known && t) P->skip--;
        return !known ? &UNK : t ? v : e;
    }
    return v;
}

/* A comma-separated expression list (a tuple when there is a comma). */
static pv *expr(px *P) {
    pv *v = ternary(P);
    if (!is_op(P, ",")) return v;
    pv *items[256];
    int n = 0;
    items[n++] = v;
    while (is_op(P, ",") && !P->failed) {
        P->pos++;
        if (tk(P)->k == TK_END || is_op(P, "=") || is_op(P, ":")) break;
        if (n >= 256) {
            perr(P, "more than 256 values in a tuple");
            return &UNK;
        }
        items[n++] = ternary(P);
    }
    pv *t = mk_seq(P, PV_TUPLE, n);
    for (int i = 0; t != &UNK && i < n; i++) t->items[i] = items[i];
    return t;
}

/* ---- statements ------------------------------------------------------------ */

static bool exec_block(px *P, int lo, int hi);

static void skipped(px *P, int line) {
    if (P->skip) return;
    if (P->nskip && P->skipped[P->nskip - 1] == line) return;
    if (!grow(P, (void **)&P->skipped, &P->cskip, P->nskip, sizeof *P->skipped)) return;
    P->skipped[P->nskip++] = line;
}

/* The end of the block headed by line li: the next line not indented deeper. */
static int block_end(const px *P, int li, int hi) {
    int j = li + 1;
    while (j < hi && P->L[j].indent > P->L[li].indent) j++;
    return j;
}

/* Binds a for-loop or assignment target: NAME or NAME, NAME (in parens). */
static bool assign_target(px *P, int t0, int t1, pv *v) {
    /* strip enclosing parens or brackets */
    while (t1 - t0 >= 2 && P->t[t0].k == TK_OP && strchr("([", P->t[t0].op[0]) &&
           P->t[t1 - 1].k == TK_OP && strchr(")]", P->t[t1 - 1].op[0]))
        t0++, t1--;
    int names[64], n = 0;
    for (int i = t0; i < t1; i++) {
        const ptok *t = &P->t[i];
        if (t->k == TK_OP && !strcmp(t->op, ",")) continue;
        if (t->k != TK_NAME || (i + 1 < t1 && strcmp(P->t[i + 1].op, ",") != 0))
            return true; /* attribute or subscript targets: no binding */
        if (n < 64) names[n++] = i;
    }
    bool comma = false;
    for (int i = t0; i < t1; i++)
        if (P->t[i].k == TK_OP && !strcmp(P->t[i].op, ",")) comma = true;
    if (n == 1 && !comma) {
        const ptok *t = &P->t[names[0]];
        const char *nm = adup(P, t->p, (size_t)t->n);
        return nm && bind(P, nm, v);
    }
    for (int i = 0; i < n; i++) {
        const ptok *t = &P->t[names[i]];
        const char *nm = adup(P, t->p, (size_t)t->n);
        pv *e = is_seq(v) && i < v->n ? v->items[i] : &UNK;
        if (!nm || !bind(P, nm, e)) return false;
    }
    return true;
}

/* Evaluates the whole token range as one expression. */
static pv *eval_range(px *P, int t0, int t1) {
    int save_pos = P->pos, save_end = P->end;
    P->pos = t0;
    P->end = t1;
    pv *v = expr(P);
    if (!P->failed && P->pos < P->end) {
        const ptok *t = tk(P);
        perr(P, "unexpected '%.*s'", t->n > 40 ? 40 : t->n, t->p);
    }
    P->pos = save_pos;
    P->end = save_end;
    return v;
}

/* A simple statement in tokens [t0, t1). */
static bool exec_simple(px *P, int t0, int t1) {
    if (t0 >= t1) return true;
    const ptok *f = &P->t[t0];
    int line = f->line;
    if (!step(P)) return false;
    if (f->k == TK_NAME) {
        static const char *const kw[] = {"import", "from",  "pass",  "global", "nonlocal", "del",
                                         "assert", "raise", "print", "yield",  NULL};
        for (int i = 0; kw[i]; i++)
            if ((int)strlen(kw[i]) == f->n && !strncmp(f->p, kw[i], (size_t)f->n) &&
                !(i == 8 && t0 + 1 < t1 && P->t[t0 + 1].k == TK_OP &&
                  !strcmp(P->t[t0 + 1].op, "="))) {
                if (i != 2) skipped(P, line);
                return true;
            }
        if (f->n == 6 && !strncmp(f->p, "return", 6)) {
            P->ret = t0 + 1 < t1 ? eval_range(P, t0 + 1, t1) : &UNK;
            P->returning = true;
            return !P->failed;
        }
        if ((f->n == 5 && !strncmp(f->p, "break", 5)) ||
            (f->n == 8 && !strncmp(f->p, "continue", 8))) {
            if (f->n == 5)
                P->breaking = true;
            else
                P->continuing = true;
            return true;
        }
    }
    /* assignment: targets = ... = value, or augmented */
    int eq[16], neq = 0, aug = -1, d = 0;
    for (int i = t0; i < t1; i++) {
        const ptok *t = &P->t[i];
        if (t->k != TK_OP) continue;
        if (t->n == 1 && strchr("([{", t->op[0])) d++;
        if (t->n == 1 && strchr(")]}", t->op[0])) d--;
        if (d != 0) continue;
        if (!strcmp(t->op, "=") && neq < 16) eq[neq++] = i;
        if (t->n >= 2 && t->op[t->n - 1] == '=' && strchr("+-*/%&|^@<>", t->op[0]) &&
            strcmp(t->op, "<=") && strcmp(t->op, ">=") && aug < 0 && !neq)
            aug = i;
        if (!strcmp(t->op, ":") && !neq && aug < 0) {
            /* annotated assignment x: int = 3 */
        }
    }
    int effects = P->effects;
    if (aug >= 0) {
        pv *r = eval_range(P, aug + 1, t1);
        if (P->failed) return false;
        if (aug == t0 + 1 && P->t[t0].k == TK_NAME) {
            const char *nm = adup(P, P->t[t0].p, (size_t)P->t[t0].n);
            pv *cur = nm ? lookup(P, nm) : NULL;
            char op[4] = {0};
            memcpy(op, P->t[aug].op, (size_t)P->t[aug].n - 1);
            pv *v = cur ? arith(P, op, cur, r) : &UNK;
            if (nm && !bind(P, nm, v)) return false;
            if (v->k == PV_UNKNOWN && P->effects == effects) skipped(P, line);
        } else if (P->effects == effects) {
            skipped(P, line);
        }
        return true;
    }
    if (neq) {
        pv *v = eval_range(P, eq[neq - 1] + 1, t1);
        if (P->failed) return false;
        int s = t0;
        for (int k = 0; k < neq; k++) {
            /* x: int = v */
            int e = eq[k];
            for (int i = s; i < e; i++)
                if (P->t[i].k == TK_OP && !strcmp(P->t[i].op, ":")) e = i;
            if (!assign_target(P, s, e, v)) return false;
            s = eq[k] + 1;
        }
        if ((v->k == PV_UNKNOWN || v->k == PV_PATH) && P->effects == effects) skipped(P, line);
        return true;
    }
    pv *v = eval_range(P, t0, t1);
    if (P->failed) return false;
    if (P->effects == effects && !(v->k == PV_STR && P->t[t0].k == TK_STR)) skipped(P, line);
    return true;
}

/* Simple statements of one line (split at ';'). */
static bool exec_line_tokens(px *P, int t0, int t1) {
    int s = t0, d = 0;
    for (int i = t0; i <= t1; i++) {
        if (i < t1 && P->t[i].k == TK_OP && P->t[i].n == 1) {
            if (strchr("([{", P->t[i].op[0])) d++;
            if (strchr(")]}", P->t[i].op[0])) d--;
        }
        if (i == t1 || (d == 0 && P->t[i].k == TK_OP && !strcmp(P->t[i].op, ";"))) {
            if (!exec_simple(P, s, i)) return false;
            if (P->returning || P->breaking || P->continuing) return true;
            s = i + 1;
        }
    }
    return true;
}

/* The ':' that ends a compound statement's header on line li; -1 if none. */
static int header_colon(const px *P, int li) {
    int d = 0, t0 = P->L[li].t0, t1 = t0 + P->L[li].nt;
    bool lam = false;
    for (int i = t0; i < t1; i++) {
        const ptok *t = &P->t[i];
        if (t->k == TK_NAME && t->n == 6 && !strncmp(t->p, "lambda", 6)) lam = true;
        if (t->k != TK_OP) continue;
        if (t->n == 1 && strchr("([{", t->op[0])) d++;
        if (t->n == 1 && strchr(")]}", t->op[0])) d--;
        if (d == 0 && !strcmp(t->op, ":")) {
            if (lam) {
                lam = false;
                continue;
            }
            return i;
        }
    }
    return -1;
}

/* Runs a compound statement's body: the rest of its header line, or the
 * indented lines [lo, hi). */
static bool exec_body(px *P, int li, int lo, int hi) {
    int c = header_colon(P, li);
    int t1 = P->L[li].t0 + P->L[li].nt;
    if (c >= 0 && c + 1 < t1) return exec_line_tokens(P, c + 1, t1);
    return exec_block(P, lo, hi);
}

static bool word_is(const ptok *t, const char *w) {
    return t->k == TK_NAME && t->n == (int)strlen(w) && !strncmp(t->p, w, (size_t)t->n);
}

static bool exec_def(px *P, int li, int hi) {
    int t0 = P->L[li].t0, t1 = t0 + P->L[li].nt;
    if (t0 + 2 >= t1 || P->t[t0 + 1].k != TK_NAME) {
        skipped(P, P->L[li].line);
        return true;
    }
    if (P->skip) return true;
    if (!grow(P, (void **)&P->funcs, &P->cf, P->nf, sizeof *P->funcs)) return false;
    pfunc *F = &P->funcs[P->nf];
    memset(F, 0, sizeof *F);
    F->name = adup(P, P->t[t0 + 1].p, (size_t)P->t[t0 + 1].n);
    F->header = li;
    F->body_lo = li + 1;
    F->body_hi = hi;
    F->params = amem(P, 64 * sizeof *F->params);
    F->defaults = amem(P, 64 * sizeof *F->defaults);
    if (!F->name || !F->params || !F->defaults) return false;
    /* parameters: NAME [: annotation] [= default], *args, **kw */
    P->pos = t0 + 2;
    P->end = t1;
    if (!expect_op(P, "(")) return false;
    while (!is_op(P, ")") && !P->failed) {
        if (tk(P)->k == TK_END) return perr(P, "expected ')' closing the parameters");
        if (is_op(P, "*") || is_op(P, "**") || is_op(P, "/")) {
            P->pos++;
            if (is_op(P, ",")) {
                P->pos++;
                continue;
            }
        }
        if (tk(P)->k != TK_NAME) return perr(P, "expected a parameter name");
        const char *pn = adup(P, tk(P)->p, (size_t)tk(P)->n);
        P->pos++;
        if (is_op(P, ":")) {
            P->pos++;
            P->skip++;
            ternary(P);
            P->skip--;
        }
        pv *dv = NULL;
        if (is_op(P, "=")) {
            P->pos++;
            dv = ternary(P);
        }
        if (F->n_params < 64) {
            F->params[F->n_params] = pn;
            F->defaults[F->n_params++] = dv;
        }
        if (is_op(P, ","))
            P->pos++;
        else if (!is_op(P, ")"))
            return expect_op(P, ")");
    }
    if (P->failed) return false;
    P->nf++;
    pv *fv = mk(P, PV_FUNC);
    if (fv == &UNK) return false;
    fv->func = P->nf - 1;
    return bind(P, F->name, fv);
}

static pv *call_func(px *P, int fi, const pargs *a, int line, int col) {
    if (P->skip) return &UNK;
    if (P->call_depth >= P->lim.max_depth) {
        perr_at(P, line, col, CK_LIMIT_EXCEEDED, "function calls nested deeper than %d levels",
                P->lim.max_depth);
        return &UNK;
    }
    pfunc *F = &P->funcs[fi];
    F->called = true;
    scope sc = {0}, *saved = P->cur;
    P->cur = &sc;
    bool ok = true;
    for (int i = 0; i < F->n_params && ok; i++) {
        pv *v = arg(a, i, F->params[i]);
        if (!v) v = F->defaults[i] ? F->defaults[i] : &UNK;
        ok = bind(P, F->params[i], v);
    }
    /* the caller's scope was a function too: its variables are not visible */
    int save_pos = P->pos, save_end = P->end;
    P->call_depth++;
    if (ok) ok = exec_block(P, F->body_lo, F->body_hi);
    P->call_depth--;
    P->pos = save_pos;
    P->end = save_end;
    pv *r = P->returning ? P->ret : &UNK;
    P->returning = false;
    P->ret = NULL;
    free(sc.v);
    P->cur = saved;
    return ok ? (r ? r : &UNK) : &UNK;
}

static bool exec_for(px *P, int li, int hi) {
    int t0 = P->L[li].t0, t1 = t0 + P->L[li].nt;
    int c = header_colon(P, li);
    int in_at = -1, d = 0;
    for (int i = t0 + 1; i < (c >= 0 ? c : t1); i++) {
        if (P->t[i].k == TK_OP && P->t[i].n == 1 && strchr("([{", P->t[i].op[0])) d++;
        if (P->t[i].k == TK_OP && P->t[i].n == 1 && strchr(")]}", P->t[i].op[0])) d--;
        if (d == 0 && word_is(&P->t[i], "in")) {
            in_at = i;
            break;
        }
    }
    if (c < 0 || in_at < 0) {
        skipped(P, P->L[li].line);
        return true;
    }
    int effects = P->effects;
    pv *it = eval_range(P, in_at + 1, c);
    if (P->failed) return false;
    if (!is_seq(it)) {
        skipped(P, P->L[li].line);
        return true;
    }
    for (int k = 0; k < it->n; k++) {
        if (!assign_target(P, t0 + 1, in_at, it->items[k])) return false;
        if (!exec_body(P, li, li + 1, hi)) return false;
        P->continuing = false;
        if (P->breaking || P->returning) break;
    }
    P->breaking = false;
    if (P->effects == effects) skipped(P, P->L[li].line);
    return true;
}

static bool exec_block(px *P, int lo, int hi) {
    int i = lo;
    while (i < hi && !P->failed) {
        int j = block_end(P, i, hi);
        const ptok *f = &P->t[P->L[i].t0];
        int line = P->L[i].line;
        if (word_is(f, "def")) {
            if (!exec_def(P, i, j)) return false;
        } else if (word_is(f, "async") || word_is(f, "class") || word_is(f, "while")) {
            skipped(P, line);
        } else if (f->k == TK_OP && !strcmp(f->op, "@")) {
            skipped(P, line);
        } else if (word_is(f, "for")) {
            if (!exec_for(P, i, j)) return false;
        } else if (word_is(f, "if")) {
            /* the chain if / elif / else at this indentation */
            bool done = false, guessed = false;
            int k = i;
            for (;;) {
                const ptok *h = &P->t[P->L[k].t0];
                int kend = block_end(P, k, hi);
                int c = header_colon(P, k);
                bool take = false;
                if (word_is(h, "else")) {
                    take = !done;
                } else if (c > P->L[k].t0 + 1) {
                    pv *cv = eval_range(P, P->L[k].t0 + 1, c);
                    if (P->failed) return false;
                    bool known, t = truthy(cv, &known);
                    if (!known && !done) { /* the first branch the file cannot decide */
                        t = true;
                        guessed = true;
                        if (!P->if_guess_line) P->if_guess_line = P->L[k].line;
                    }
                    take = !done && t;
                }
                if (take) {
                    done = true;
                    if (!exec_body(P, k, k + 1, kend)) return false;
                    if (P->returning || P->breaking || P->continuing) return true;
                }
                if (kend < hi && P->L[kend].indent == P->L[i].indent &&
                    (word_is(&P->t[P->L[kend].t0], "elif") ||
                     word_is(&P->t[P->L[kend].t0], "else"))) {
                    k = kend;
                    continue;
                }
                j = kend;
                break;
            }
            (void)guessed;
        } else if (word_is(f, "with") || word_is(f, "try") || word_is(f, "else") ||
                   word_is(f, "finally")) {
            if (!exec_body(P, i, i + 1, j)) return false;
        } else if (word_is(f, "except") || word_is(f, "elif")) {
            /* handlers run only on errors */
        } else if (P->L[i].indent < P->L[lo].indent) {
            break;
        } else {
            if (!exec_line_tokens(P, P->L[i].t0, P->L[i].t0 + P->L[i].nt)) return false;
        }
        if (P->returning || P->breaking || P->continuing) return true;
        i = j;
    }
    return !P->failed;
}

/* ---- detection ------------------------------------------------------------- */

static bool has_word(const char *s, size_t n, const char *w) {
    size_t m = strlen(w);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(s + i, w, m)) return true;
    return false;
}

/* The first place at or after `from` where w stands in s[0..n) as a whole
 * name (not preceded by a letter, digit or _: Input( but not
 * Conv3DInput(), or n. */
static size_t find_name(const char *s, size_t n, const char *w, size_t from) {
    size_t m = strlen(w);
    for (size_t i = from; i + m <= n; i++)
        if (!memcmp(s + i, w, m) &&
            (i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_')))
            return i;
    return n;
}

static bool has_name(const char *s, size_t n, const char *w) {
    return find_name(s, n, w, 0) < n;
}

/* "Sequential(" in the line's code followed, maybe on the next lines, by
 * a list: Keras, not a pasted PyTorch print(model) whose entries start
 * with "(0):". code[0..m) is line l with its strings blanked. */
static bool seq_list(const char *code, size_t m, const char *l, const char *end) {
    for (size_t i = find_name(code, m, "Sequential(", 0); i < m;
         i = find_name(code, m, "Sequential(", i + 1)) {
        const char *q = l + i + 11;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
        if (q < end && *q == '[') return true;
    }
    return false;
}

bool ck_pykeras_detect(const char *text, size_t len) {
    if (len > (1u << 20)) len = 1u << 20;
    bool keras = false, torch = false, cnn = false;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        size_t b = i;
        while (b < e && (text[b] == ' ' || text[b] == '\t')) b++;
        size_t n = e - b;
        const char *l = text + b;
        if (n && l[0] != '#') {
            /* .cnn declarations: input: [1, 3, 32, 32], input x: ..., output: a */
            if ((n > 6 && !memcmp(l, "input:", 6)) || (n > 6 && !memcmp(l, "input ", 6)) ||
                (n > 7 && !memcmp(l, "output:", 7)))
                cnn = true;
            if ((n > 7 && !memcmp(l, "import ", 7)) || (n > 5 && !memcmp(l, "from ", 5)))
                keras |= has_word(l, n, "keras");
            /* the code outside strings and comments: a .cnn argument
             * activation='Input(' says nothing of the language */
            char code[1024];
            size_t m = n < sizeof code ? n : sizeof code;
            char q = 0;
            for (size_t k = 0; k < m; k++) {
                char ch = l[k];
                if (q) {
                    code[k] = ' ';
                    if (ch == '\\' && k + 1 < m)
                        code[++k] = ' ';
                    else if (ch == q)
                        q = 0;
                } else if (ch == '#') {
                    m = k;
                } else {
                    if (ch == '\'' || ch == '"') q = ch;
                    code[k] = ch;
                }
            }
            if (has_word(code, m, "torch") || has_word(code, m, "nn.Module")) torch = true;
            /* what only Keras code writes */
            if (has_word(code, m, ".add(") || has_name(code, m, "Sequential()") ||
                has_name(code, m, "Sequential(layers") || has_name(code, m, "Input(") ||
                has_name(code, m, "Model(") || seq_list(code, m, l, text + len))
                keras = true;
        }
        i = e + 1;
    }
    return keras && !cnn && !torch;
}

/* ---- graph ----------------------------------------------------------------- */

static pmodel *pick_model(px *P) {
    if (P->chosen) return P->chosen;
    if (P->last_model) return P->last_model;
    return NULL;
}

static ck_status build_srcmap(px *P, const char *need, ck_graph *g);

/* Emits the IR nodes that the outputs reach into g. */
static ck_status emit(px *P, const int *outs, int n_out, ck_graph *g) {
    char *need = calloc((size_t)P->niv + 1, 1);
    if (!need) return CK_ENOMEM;
    for (int i = 0; i < n_out; i++) need[outs[i]] = 1;
    for (int k = P->nin - 1; k >= 0; k--)
        if (need[P->in[k].out])
            for (int j = 0; j < P->in[k].n_in; j++) need[P->in[k].in[j]] = 1;
    ck_status st = CK_OK;
    for (int i = 0; i < P->ninp && st == CK_OK; i++) {
        const irinput *in = &P->inp[i];
        if (!need[in->val]) continue;
        if (ck_graph_add_input(g, in->name, &in->shape, true) < 0 ||
            !ck_graph_keras_symbols(g, g->n_inputs - 1, in->src.open))
            st = CK_ENOMEM;
    }
    for (int k = 0; k < P->nin && st == CK_OK; k++) {
        const irnode *nd = &P->in[k];
        if (!need[nd->out]) continue;
        const char *ins[64];
        for (int j = 0; j < nd->n_in && j < 64; j++) ins[j] = P->iv[nd->in[j]].name;
        if (ck_graph_find_val(g, nd->name) >= 0) {
            perr_at(P, nd->line, nd->col, CK_PARSE_ERROR,
                    "two layers are named '%s'; Keras refuses a model whose layer names are not "
                    "unique",
                    nd->name);
            st = CK_EPARSE;
            break;
        }
        ck_layer_spec sp = {.dialect = CK_DIALECT_KERAS,
                            .type = nd->type,
                            .name = nd->name,
                            .args = nd->args,
                            .n_inputs = nd->n_in,
                            .inputs = ins,
                            .line = nd->line};
        int before = P->d->n;
        if (ck_graph_add_layer(g, &sp, P->d) < 0) {
            for (int q = before; q < P->d->n; q++)
                if (!P->d->v[q].file) {
                    P->d->v[q].file = ck_strdup(P->file);
                    P->d->v[q].line = nd->line;
                    P->d->v[q].col = nd->col;
                }
            st = P->d->n == before ? CK_ENOMEM : CK_EPARSE;
        }
    }
    for (int i = 0; i < n_out && st == CK_OK; i++) {
        int v = ck_graph_find_val(g, P->iv[outs[i]].name);
        if (v >= 0) ck_graph_mark_output(g, v);
    }
    if (st == CK_OK) st = build_srcmap(P, need, g);
    free(need);
    return st;
}

/* ---- where things are written ----------------------------------------------- */

/* Bytes of tokens [t0, t1); hi == 0 when there are none. */
static ck_span tok_span(const px *P, int t0, int t1) {
    if (t0 < 0 || t1 <= t0 || t1 > P->nt) return (ck_span){0, 0};
    const ptok *a = &P->t[t0], *b = &P->t[t1 - 1];
    return (ck_span){(size_t)(a->p - P->text), (size_t)(b->p + b->n - P->text)};
}

static int cmp_int_ptr(const void *a, const void *b);

/* How many of the sorted sites equal `site`. */
static int site_count(const int *sites, int n, int site) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (sites[mid] < site)
            lo = mid + 1;
        else
            hi = mid;
    }
    int k = 0;
    while (lo + k < n && sites[lo + k] == site) k++;
    return k;
}

/* The source map of the emitted graph: the text, each layer's call and
 * each input's shape, and why an edit would not stay local. */
static ck_status build_srcmap(px *P, const char *need, ck_graph *g) {
    ck_srcmap *m = ck_srcmap_new(P->text, P->len, P->file, &P->lim, ck_load_pykeras);
    if (!m) return CK_ENOMEM;
    /* constructor sites: a call that runs more than once builds several layers */
    int n_layers = 0;
    for (player *L = P->layers; L; L = L->next_all) n_layers++, L->calls = 0;
    int *sites = malloc((size_t)(n_layers + P->ninp + 1) * sizeof *sites);
    if (!sites) {
        ck_srcmap_release(m);
        return CK_ENOMEM;
    }
    int ns = 0;
    for (player *L = P->layers; L; L = L->next_all)
        if (L->src.close) sites[ns++] = L->src.callee;
    qsort(sites, (size_t)ns, sizeof *sites, cmp_int_ptr);
    for (int k = 0; k < P->nin; k++)
        if (need[P->in[k].out] && P->in[k].L) P->in[k].L->calls++;
    ck_status st = CK_OK;
    for (int k = 0; k < P->nin && st == CK_OK; k++) {
        const irnode *nd = &P->in[k];
        if (!need[nd->out]) continue;
        const player *L = nd->L;
        const char *why = NULL;
        ck_src_call c = {.line = L ? L->line : nd->line};
        ck_span pos[64], kw[64], in[64];
        int sc = L && L->src.close ? site_count(sites, ns, L->src.callee) : 0;
        if (!L || !L->src.close)
            why = "it is not built by a layer call in the text";
        else if (L->why_not)
            why = L->why_not;
        else if (nd->replayed)
            why = afmt(P, "it belongs to a model that the code calls more than once");
        else if (sc > 1)
            why = afmt(P,
                       "the call at line %d builds %d layers (a loop, or a function called "
                       "more than once)",
                       L->line, sc);
        else if (L->calls > 1)
            why = afmt(P, "it is one layer object that the code calls %d times", L->calls);
        if (L && L->src.close) {
            const psrc *S = &L->src;
            c.callee = tok_span(P, S->callee, S->open);
            c.open = (size_t)(P->t[S->open].p - P->text);
            c.npos = S->npos < 64 ? S->npos : 64;
            c.nkw = S->nkw < 64 ? S->nkw : 64;
            for (int i = 0; i < c.npos; i++) pos[i] = tok_span(P, S->pt0[i], S->pt1[i]);
            for (int i = 0; i < c.nkw; i++) kw[i] = tok_span(P, S->kt0[i], S->kt1[i]);
            c.pos = pos;
            c.kw = kw;
            c.kw_names = S->kwn;
        }
        if (nd->at1 && nd->n_in >= 1 && nd->n_in <= 64) {
            int i0[64], i1[64];
            if (nd->n_in == 1) {
                in[0] = tok_span(P, nd->at0, nd->at1);
                c.n_in = 1;
            } else if (split_items(P, nd->at0, nd->at1, i0, i1, 64) == nd->n_in) {
                for (int i = 0; i < nd->n_in; i++) in[i] = tok_span(P, i0[i], i1[i]);
                c.n_in = nd->n_in;
            }
            c.in = c.n_in ? in : NULL;
        }
        if (!ck_srcmap_add_layer(m, nd->name, nd->type, nd->args, &c, why)) st = CK_ENOMEM;
    }
    /* inputs: the call that declares one must run once */
    ns = 0;
    for (int i = 0; i < P->ninp; i++)
        if (P->inp[i].site >= 0) sites[ns++] = P->inp[i].site;
    qsort(sites, (size_t)ns, sizeof *sites, cmp_int_ptr);
    for (int i = 0; i < P->ninp && st == CK_OK; i++) {
        const irinput *in = &P->inp[i];
        if (!need[in->val]) continue;
        const shsrc *S = &in->src;
        ck_src_shape sh = {.whole = tok_span(P, S->t0, S->t1),
                           .first = S->first,
                           .call = tok_span(P, S->c0, S->c1),
                           .open = S->open};
        for (int k = 0; k < CK_MAX_RANK; k++) sh.dim[k] = tok_span(P, S->dt0[k], S->dt1[k]);
        if (S->c1 > 0 && S->c0 >= 0 && S->c0 < P->nt) sh.line = P->t[S->c0].line;
        int sc = in->site >= 0 ? site_count(sites, ns, in->site) : 0;
        const char *why = sc > 1 ? afmt(P,
                                        "the call at line %d declares %d inputs (a loop, or a "
                                        "function called more than once)",
                                        sh.line, sc)
                                 : NULL;
        if (!ck_srcmap_add_input(m, in->name, &in->shape, in->site >= 0 ? &sh : NULL, why))
            st = CK_ENOMEM;
    }
    free(sites);
    if (st != CK_OK || P->oom) {
        ck_srcmap_release(m);
        return CK_ENOMEM;
    }
    g->srcmap = ck_srcmap_ref(m);
    return CK_OK;
}

/* "1-4, 7, 30-35" */
static void line_runs(ck_str *s, const int *v, int n) {
    int shown = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && v[j + 1] <= v[j] + 1) j++;
        if (shown == 12) {
            ck_str_add(s, ", ...");
            return;
        }
        if (v[j] > v[i])
            ck_str_addf(s, "%s%d-%d", shown ? ", " : "", v[i], v[j]);
        else
            ck_str_addf(s, "%s%d", shown ? ", " : "", v[i]);
        shown++;
        i = j + 1;
    }
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_int_ptr(const void *a, const void *b) {
    return cmp_int(a, b);
}

ck_status ck_load_pykeras(const char *text, size_t len, const char *file, const ck_limits *lim,
                          ck_graph **out, ck_diags *d) {
    *out = NULL;
    px P = {.text = text, .len = len, .file = file ? file : "<text>", .d = d};
    P.lim = ck_limits_resolve(lim);
    P.max_steps = 1000000 + 100 * (int64_t)P.lim.max_nodes;
    P.cur = &P.globals;
    P.keras3 = !has_word(text, len, "tensorflow") && !has_word(text, len, "tf.keras");
    ck_status st = CK_EPARSE;
    ck_graph *g = NULL;
    if (!lex(&P)) goto done;
    if (!exec_block(&P, 0, P.nl)) goto done;
    /* functions the file defines but never calls: run them with their
     * defaults (a file that only defines build_model()) */
    if (!P.last_model && !P.chosen)
        for (int i = 0; i < P.nf && !P.failed; i++)
            if (!P.funcs[i].called) {
                pargs a = {0};
                pv *r = call_func(&P, i, &a, P.L[P.funcs[i].header].line, 1);
                if (r->k == PV_MODEL) P.chosen = r->model;
            }
    if (P.failed) goto done;
    pmodel *M = pick_model(&P);
    int outs[64], n_out = 0;
    if (M && M->kind == PM_SEQ) {
        if (!seq_build(&P, M)) goto done;
        outs[n_out++] = M->built_out;
    } else if (M) {
        for (int i = 0; i < M->n_out && i < 64; i++) outs[n_out++] = M->out[i];
    } else if (P.nin > 0) {
        outs[n_out++] = P.in[P.nin - 1].out; /* layers called on Input()s without Model() */
    } else {
        ck_diag_parse(d, P.file, 1, 1,
                      "no Keras model found: expected Sequential([...]), model.add(...) or "
                      "Model(inputs, outputs) built from Input() and layer calls");
        goto done;
    }
    g = ck_graph_new(CK_DIALECT_KERAS, P.file);
    if (!g) {
        st = CK_ENOMEM;
        goto done;
    }
    ck_graph_set_limits(g, lim);
    st = emit(&P, outs, n_out, g);
    if (st != CK_OK) {
        if (st == CK_EPARSE && !P.failed && ck_diags_errors(d) == 0) st = CK_ENOMEM;
        goto done;
    }
    if (P.n_models > 1 && M) {
        ck_str s = {0};
        int k = 0;
        for (pmodel *m = P.models; m; m = m->next_all)
            if (m != M) ck_str_addf(&s, "%s%s", k++ ? ", " : "", m->name);
        ck_graph_warn(
            g, CK_NOTE, M->name, "the file builds %d models; convkit checks '%s' (%s), not %s",
            P.n_models, M->name,
            P.chosen == M ? "the one compiled, fitted or summarised last" : "the last one built",
            s.p ? s.p : "");
        ck_str_free(&s);
    }
    if (P.dropped_layer)
        ck_graph_warn(g, CK_NOTE, P.dropped_layer,
                      "line %d: a %s argument of %s could not be evaluated from the file and was "
                      "left out",
                      P.dropped_line, P.dropped_arg, P.dropped_layer);
    if (P.if_guess_line)
        ck_graph_warn(g, CK_NOTE, NULL,
                      "line %d: the condition cannot be evaluated without running the code; "
                      "convkit took its first branch",
                      P.if_guess_line);
    if (P.nskip) {
        qsort(P.skipped, (size_t)P.nskip, sizeof *P.skipped, cmp_int);
        ck_str s = {0};
        line_runs(&s, P.skipped, P.nskip);
        ck_graph_warn(g, CK_NOTE, NULL,
                      "skipped %d statement%s that do%s not build the model (imports, compile, "
                      "fit, data, prints): line%s %s",
                      P.nskip, P.nskip == 1 ? "" : "s", P.nskip == 1 ? "es" : "",
                      P.nskip == 1 ? "" : "s", s.p ? s.p : "");
        ck_str_free(&s);
    }
    *out = g;
    g = NULL;
    st = CK_OK;
done:
    if (P.oom) st = CK_ENOMEM;
    ck_graph_free(g);
    for (player *L = P.layers; L; L = L->next_all) ck_args_free(&L->args);
    for (pmodel *m = P.models; m; m = m->next_all) free(m->layers);
    free(P.globals.v);
    free(P.t);
    free(P.L);
    free(P.cnt);
    free(P.iv);
    free(P.in);
    free(P.inp);
    free(P.funcs);
    free(P.skipped);
    while (P.arena) {
        achunk *n = P.arena->next;
        free(P.arena);
        P.arena = n;
    }
    return st;
}
