/* The .cnn text format: layer calls in PyTorch or Keras constructor syntax,
 * an input declaration, functional joins, and pasted print(model) output.
 * Two passes: parse every statement, then pick the dialect from the layer
 * names and build the graph. */
#include "import/import.h"
#include "ops/ops.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef enum {
    T_EOF,
    T_NL,
    T_NAME,
    T_INT,
    T_FLOAT,
    T_STR,
    T_PUNCT, /* one of ( ) [ ] , = : - { } * + / */
} tkind;

typedef struct {
    tkind k;
    const char *p; /* start in the text */
    size_t n;
    int line, col;
    int64_t i;
    double f;
    char c; /* punctuation */
} token;

typedef struct {
    const char *text;
    size_t len, pos;
    int line, col;
    const char *file;
    ck_diags *d;
    token t;   /* current token */
    int depth; /* bracket depth: newlines inside brackets are ignored */
    int max_depth;
    bool failed;
} lexer;

static bool perr(lexer *L, const token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool perr(lexer *L, const token *t, const char *fmt, ...) {
    if (L->failed) return false;
    L->failed = true;
    ck_str s = {0};
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(&s, fmt, ap);
    va_end(ap);
    char *m = ck_str_take(&s);
    ck_diag_parse(L->d, L->file, t->line, t->col, "%s", m ? m : "syntax error");
    free(m);
    return false;
}

static void describe(const token *t, char *buf, size_t n) {
    switch (t->k) {
    case T_EOF:
        snprintf(buf, n, "end of file");
        break;
    case T_NL:
        snprintf(buf, n, "end of line");
        break;
    case T_PUNCT:
        snprintf(buf, n, "'%c'", t->c);
        break;
    default:
        snprintf(buf, n, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p);
        break;
    }
}

static bool expected(lexer *L, const char *what) {
    char buf[64];
    describe(&L->t, buf, sizeof buf);
    return perr(L, &L->t, "expected %s, found %s", what, buf);
}

static void advance_char(lexer *L) {
    if (L->text[L->pos] == '\n') {
        L->line++;
        L->col = 1;
    } else {
        L->col++;
    }
    L->pos++;
}

/* Reads the next token into L->t. */
static bool next(lexer *L) {
    for (;;) {
        char ch = L->pos < L->len ? L->text[L->pos] : 0;
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f') {
            advance_char(L);
        } else if (ch == '#') {
            while (L->pos < L->len && L->text[L->pos] != '\n') advance_char(L);
        } else if (ch == '\\' && L->pos + 1 < L->len && L->text[L->pos + 1] == '\n') {
            advance_char(L);
            advance_char(L);
        } else if (ch == '\n' && L->depth > 0) {
            advance_char(L);
        } else {
            break;
        }
    }
    token t = {.line = L->line, .col = L->col, .p = L->text + L->pos};
    if (L->pos >= L->len) {
        t.k = T_EOF;
        L->t = t;
        return true;
    }
    unsigned char ch = (unsigned char)L->text[L->pos];
    if (ch == 0) return perr(L, &t, "unexpected NUL byte");
    if (ch == '\n') {
        t.k = T_NL;
        advance_char(L);
    } else if (ch == '`') {
        /* `0`, `features.0`: a name that is not an identifier (the layers of a
         * top-level nn.Sequential are named 0, 1, ...) */
        advance_char(L);
        t.p = L->text + L->pos;
        while (L->pos < L->len && L->text[L->pos] != '`' && L->text[L->pos] != '\n')
            advance_char(L), t.n++;
        if (L->pos >= L->len || L->text[L->pos] != '`' || t.n == 0)
            return perr(L, &t, "a name in backquotes must end with ` on the same line");
        advance_char(L);
        t.k = T_NAME;
        if (t.n > 4096) return perr(L, &t, "name longer than 4096 characters");
    } else if (isalpha(ch) || ch == '_') {
        while (L->pos < L->len && (isalnum((unsigned char)L->text[L->pos]) ||
                                   L->text[L->pos] == '_' || L->text[L->pos] == '.' ||
                                   (L->text[L->pos] == '-' && L->pos + 1 < L->len &&
                                    isalpha((unsigned char)L->text[L->pos + 1]) && t.n > 0 &&
                                    !strncmp(t.p, "nearest", 7))))
            advance_char(L), t.n++;
        t.k = T_NAME;
        if (t.n > 4096) return perr(L, &t, "name longer than 4096 characters");
    } else if (isdigit(ch) ||
               (ch == '.' && L->pos + 1 < L->len && isdigit((unsigned char)L->text[L->pos + 1]))) {
        const char *s = L->text + L->pos;
        char *end;
        bool isf = false;
        size_t k = 0;
        while (L->pos + k < L->len &&
               (isalnum((unsigned char)s[k]) || s[k] == '.' || s[k] == '_' ||
                ((s[k] == '+' || s[k] == '-') && k > 0 && (s[k - 1] == 'e' || s[k - 1] == 'E')))) {
            if (s[k] == '.' || s[k] == 'e' || s[k] == 'E') isf = true;
            if (s[k] == 'x' && k > 0) break; /* 1x3x224 shapes */
            k++;
        }
        char buf[128];
        if (k >= sizeof buf) return perr(L, &t, "number too long");
        memcpy(buf, s, k);
        buf[k] = 0;
        errno = 0;
        if (isf) {
            t.f = strtod(buf, &end);
            t.k = T_FLOAT;
        } else {
            long long v = strtoll(buf, &end, 10);
            t.i = v;
            t.k = T_INT;
        }
        if (*end || errno == ERANGE)
            return perr(L, &t, "malformed or out-of-range number '%s'", buf);
        for (size_t j = 0; j < k; j++) advance_char(L);
        t.n = k;
    } else if (ch == '\'' || ch == '"') {
        char q = (char)ch;
        advance_char(L);
        t.p = L->text + L->pos;
        while (L->pos < L->len && L->text[L->pos] != q && L->text[L->pos] != '\n')
            advance_char(L), t.n++;
        if (L->pos >= L->len || L->text[L->pos] != q) return perr(L, &t, "unterminated string");
        advance_char(L);
        t.k = T_STR;
    } else if (strchr("()[],=:-{}*+/", (int)ch)) {
        t.k = T_PUNCT;
        t.c = (char)ch;
        t.n = 1;
        if (ch == '(' || ch == '[' || ch == '{') {
            if (++L->depth > L->max_depth)
                return perr(L, &t, "brackets nested deeper than %d levels", L->max_depth);
        }
        if ((ch == ')' || ch == ']' || ch == '}') && L->depth > 0) L->depth--;
        advance_char(L);
    } else {
        return perr(L, &t, "unexpected character '%c'", ch >= 32 && ch < 127 ? ch : '?');
    }
    L->t = t;
    return true;
}

static bool is_punct(const lexer *L, char c) {
    return L->t.k == T_PUNCT && L->t.c == c;
}
static bool expect(lexer *L, char c, const char *what) {
    if (!is_punct(L, c)) return expected(L, what);
    return next(L);
}
static bool name_is(const lexer *L, const char *s) {
    return L->t.k == T_NAME && L->t.n == strlen(s) && !strncmp(L->t.p, s, L->t.n);
}

/* ---- values ----------------------------------------------------------- */

static bool parse_value(lexer *L, ck_value *v);

static bool parse_seq(lexer *L, ck_value *v, char close) {
    v->kind = CK_V_LIST;
    v->is_tuple = close == ')';
    bool comma = false;
    while (!is_punct(L, close)) {
        ck_value it = {0};
        if (!parse_value(L, &it)) return false;
        ck_value *items = realloc(v->items, (size_t)(v->n + 1) * sizeof *items);
        if (!items) {
            ck_value_free(&it);
            return perr(L, &L->t, "out of memory");
        }
        v->items = items;
        v->items[v->n++] = it;
        comma = false;
        if (is_punct(L, ',')) {
            comma = true;
            if (!next(L)) return false;
        } else if (!is_punct(L, close)) {
            char buf[4] = {'\'', close, '\'', 0};
            return expected(L, close == ')' ? "',' or ')'" : buf[0] ? "',' or ']'" : "','");
        }
    }
    (void)comma;
    return next(L);
}

/* Integer arithmetic as people write it in constructors: Linear(16 * 5 * 5,
 * 120), 2 ** k is not supported; * and // bind tighter than + and -. */
static bool parse_int_term(lexer *L, int64_t *acc) {
    for (;;) {
        bool mul = is_punct(L, '*'), div = is_punct(L, '/');
        if (!mul && !div) return true;
        token op = L->t;
        if (!next(L)) return false;
        if (div) {
            if (!is_punct(L, '/')) return expected(L, "'//' (integer division)");
            if (!next(L)) return false;
        }
        if (L->t.k != T_INT) return expected(L, "an integer");
        int64_t r = L->t.i;
        if (div && r == 0) return perr(L, &op, "division by zero");
        if (mul ? !ck_mul(*acc, r, acc) : false) return perr(L, &op, "integer overflow");
        if (div) *acc = ck_floordiv(*acc, r);
        if (!next(L)) return false;
    }
}

static bool parse_int_expr(lexer *L, ck_value *v) {
    int64_t acc = v->i;
    if (!parse_int_term(L, &acc)) return false;
    while (is_punct(L, '+') || is_punct(L, '-')) {
        token op = L->t;
        bool plus = is_punct(L, '+');
        if (!next(L)) return false;
        if (L->t.k != T_INT) return expected(L, "an integer");
        int64_t r = L->t.i;
        if (!next(L)) return false;
        if (!parse_int_term(L, &r)) return false;
        if (!(plus ? ck_add(acc, r, &acc) : ck_sub(acc, r, &acc)))
            return perr(L, &op, "integer overflow");
    }
    v->i = acc;
    return true;
}

static bool parse_value1(lexer *L, ck_value *v);

/* On failure v is freed and empty: callers own nothing of a failed value. */
static bool parse_value(lexer *L, ck_value *v) {
    if (!parse_value1(L, v)) {
        ck_value_free(v);
        return false;
    }
    if (v->kind == CK_V_INT) return parse_int_expr(L, v);
    return true;
}

static bool parse_value1(lexer *L, ck_value *v) {
    memset(v, 0, sizeof *v);
    token t = L->t;
    int sign = 1;
    if (is_punct(L, '-')) {
        sign = -1;
        if (!next(L)) return false;
        t = L->t;
        if (t.k != T_INT && t.k != T_FLOAT &&
            !(t.k == T_NAME && (t.n == 3 && !strncmp(t.p, "inf", 3))))
            return expected(L, "a number after '-'");
    }
    switch (t.k) {
    case T_INT:
        v->kind = CK_V_INT;
        v->i = sign * t.i;
        return next(L);
    case T_FLOAT:
        v->kind = CK_V_FLOAT;
        v->f = sign * t.f;
        return next(L);
    case T_STR:
        v->kind = CK_V_STR;
        if (!(v->s = ck_strndup(t.p, t.n))) return perr(L, &t, "out of memory");
        return next(L);
    case T_NAME:
        if (t.n == 4 && !strncmp(t.p, "True", 4))
            v->kind = CK_V_BOOL, v->i = 1;
        else if (t.n == 5 && !strncmp(t.p, "False", 5))
            v->kind = CK_V_BOOL, v->i = 0;
        else if (t.n == 4 && !strncmp(t.p, "None", 4))
            v->kind = CK_V_NONE;
        else if (t.n == 3 && !strncmp(t.p, "inf", 3))
            v->kind = CK_V_FLOAT, v->f = sign * INFINITY;
        else {
            /* a bare word: print(model) writes mode=nearest, padding=same */
            v->kind = CK_V_STR;
            v->bare = true;
            if (!(v->s = ck_strndup(t.p, t.n))) return perr(L, &t, "out of memory");
            if (!next(L)) return false;
            /* torch.Size([1, 2]) or similar wrappers: take the inner value */
            if (is_punct(L, '(')) {
                ck_value_free(v);
                if (!next(L)) return false;
                if (!parse_value(L, v)) return false;
                return expect(L, ')', "')'");
            }
            return true;
        }
        return next(L);
    case T_PUNCT:
        if (t.c == '(' || t.c == '[') {
            if (!next(L)) return false;
            return parse_seq(L, v, t.c == '(' ? ')' : ']');
        }
        break;
    default:
        break;
    }
    return expected(L, "a value (number, string, True/False/None, tuple or list)");
}

/* ---- statements ---------------------------------------------------------- */

typedef struct stmt {
    char *name;
    char *type; /* last component of a dotted name */
    ck_args args;
    ck_args fwd;
    int n_inputs;
    char **inputs;
    bool explicit_inputs;
    int line, col;
} stmt;

typedef struct {
    stmt *v;
    int n, cap;
    /* inputs */
    int n_in;
    char *in_names[16];
    ck_shape in_shapes[16];
    int in_line[16];
    /* output: a, b (default: the last layer) */
    int n_out;
    char *out_names[16];
    int out_line;
    int max_nodes;
} program;

static void stmt_free(stmt *s) {
    free(s->name);
    free(s->type);
    ck_args_free(&s->args);
    ck_args_free(&s->fwd);
    for (int i = 0; i < s->n_inputs; i++) free(s->inputs[i]);
    free(s->inputs);
}

static void program_free(program *p) {
    for (int i = 0; i < p->n; i++) stmt_free(&p->v[i]);
    free(p->v);
    for (int i = 0; i < p->n_in; i++) free(p->in_names[i]);
    for (int i = 0; i < p->n_out; i++) free(p->out_names[i]);
}

static stmt *push_stmt(lexer *L, program *p) {
    if (p->n >= p->max_nodes) {
        perr(L, &L->t, "more than %d layers (raise the limit with --max-nodes)", p->max_nodes);
        if (L->d->n) L->d->v[L->d->n - 1].code = CK_LIMIT_EXCEEDED;
        return NULL;
    }
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        stmt *v = realloc(p->v, (size_t)cap * sizeof *v);
        if (!v) {
            perr(L, &L->t, "out of memory");
            return NULL;
        }
        p->v = v;
        p->cap = cap;
    }
    stmt *s = &p->v[p->n++];
    memset(s, 0, sizeof *s);
    return s;
}

static char *tok_str(const token *t) {
    return ck_strndup(t->p, t->n);
}

/* A layer type is a Python name: "Unflatte0.5n" is not nn.Unflatten. */
static bool is_type_name(const char *s) {
    return isalpha((unsigned char)s[0]) || s[0] == '_';
}

static char *last_component(const token *t) {
    size_t k = t->n;
    while (k > 0 && t->p[k - 1] != '.') k--;
    return ck_strndup(t->p + k, t->n - k);
}

/* Arguments of a call, after '(' up to and including ')'. */
static bool parse_args(lexer *L, ck_args *a) {
    while (!is_punct(L, ')')) {
        /* keyword? NAME '=' */
        if (L->t.k == T_NAME) {
            lexer save = *L;
            token nt = L->t;
            if (!next(L)) return false;
            if (is_punct(L, '=')) {
                if (!next(L)) return false;
                ck_value v;
                if (!parse_value(L, &v)) return false;
                char *k = tok_str(&nt);
                bool ok = k && ck_args_push_kw(a, k, v);
                free(k);
                if (!ok) return perr(L, &nt, "out of memory");
                goto sep;
            }
            *L = save; /* a bare word value */
        }
        {
            if (a->nkw > 0) return perr(L, &L->t, "positional argument follows keyword argument");
            ck_value v;
            if (!parse_value(L, &v)) return false;
            if (!ck_args_push_pos(a, v)) return perr(L, &L->t, "out of memory");
        }
    sep:
        if (is_punct(L, ',')) {
            if (!next(L)) return false;
        } else if (!is_punct(L, ')')) {
            return expected(L, "',' or ')'");
        }
    }
    return next(L);
}

/* Elementwise joins that take a Python number for one operand: x * 0.5, 1 - x. */
static bool takes_scalar(const char *type) {
    static const char *const j[] = {"add", "sub", "mul", "div", "floordiv", "mod", NULL};
    for (int i = 0; j[i]; i++)
        if (!strcmp(type, j[i])) return true;
    return false;
}

/* Moves positional bare names of `a` (a list [a, b] is flattened) into the
 * statement's inputs and its keyword arguments into *kw. A number operand of
 * add/sub/mul/div/floordiv/mod becomes the keyword scalar= (with
 * scalar_first=True when it comes first). */
static bool take_inputs(lexer *L, stmt *s, ck_args *a, ck_args *kw, const token *at) {
    s->explicit_inputs = true;
    for (int i = 0; i < a->npos; i++) {
        ck_value *v = &a->pos[i];
        if ((v->kind == CK_V_INT || v->kind == CK_V_FLOAT) && takes_scalar(s->type) && kw) {
            if (ck_args_get(kw, -1, "scalar"))
                return perr(L, at, "%s() takes at most one number operand", s->type);
            ck_value sv = *v, fv = {.kind = CK_V_BOOL, .i = 1};
            *v = (ck_value){0};
            if (!ck_args_push_kw(kw, "scalar", sv) ||
                (i == 0 && !ck_args_push_kw(kw, "scalar_first", fv)))
                return perr(L, at, "out of memory");
            continue;
        }
        int cnt = v->kind == CK_V_LIST ? v->n : 1;
        for (int k = 0; k < cnt; k++) {
            ck_value *it = v->kind == CK_V_LIST ? &v->items[k] : v;
            if (it->kind != CK_V_STR || !it->bare)
                return perr(
                    L, at,
                    "the inputs of %s must be names of earlier layers or inputs, like %s(a, b)",
                    s->name ? s->name : "a layer", s->type);
            char **in = realloc(s->inputs, (size_t)(s->n_inputs + 1) * sizeof *in);
            if (!in) return perr(L, at, "out of memory");
            s->inputs = in;
            if (!(s->inputs[s->n_inputs++] = ck_strdup(it->s))) return perr(L, at, "out of memory");
        }
    }
    for (int i = 0; i < a->nkw; i++) {
        if (!ck_args_push_kw(kw, a->kw_names[i], a->kw[i])) return perr(L, at, "out of memory");
        a->kw[i] = (ck_value){0};
    }
    return true;
}

/* After '(' of the inputs call (`Layer(...)(a, output_size=[..])`) or of a
 * functional join (`cat(a, b, dim=1)`). */
static bool parse_inputs_call(lexer *L, stmt *s, ck_args *kw) {
    token at = L->t;
    ck_args a = {0};
    bool ok = parse_args(L, &a) && take_inputs(L, s, &a, kw, &at);
    ck_args_free(&a);
    return ok;
}

static bool is_join(const char *type) {
    static const char *const j[] = {"add", "sub", "mul",    "div",         "floordiv",
                                    "mod", "cat", "concat", "concatenate", NULL};
    for (int i = 0; j[i]; i++)
        if (!strcmp(type, j[i])) return true;
    return false;
}

static bool parse_module(lexer *L, program *p, const char *prefix, const char *key);

/* Contents of a printed container after its '(' : entries "(key): Module". */
static bool parse_printed_entries(lexer *L, program *p, const char *prefix) {
    while (L->t.k == T_NL)
        if (!next(L)) return false; /* a lexer error leaves the token as it was */
    while (!is_punct(L, ')')) {
        if (L->t.k == T_NL) {
            if (!next(L)) return false;
            continue;
        }
        if (!expect(L, '(', "'(' starting an entry like (0): Conv2d(...)")) return false;
        token k1 = L->t;
        if (k1.k != T_NAME && k1.k != T_INT) return expected(L, "an entry name like 0 or features");
        if (!next(L)) return false;
        int64_t lo = k1.i, hi = k1.i;
        bool range = false;
        if (k1.k == T_INT && is_punct(L, '-')) { /* (0-2): 3 x Block(...) */
            if (!next(L)) return false;
            if (L->t.k != T_INT) return expected(L, "the end of an entry range");
            hi = L->t.i;
            range = true;
            if (!next(L)) return false;
        }
        if (!expect(L, ')', "')'") || !expect(L, ':', "':'")) return false;
        if (range) {
            if (L->t.k == T_INT && L->t.i == hi - lo + 1) {
                if (!next(L)) return false;
                if (!(L->t.k == T_NAME && L->t.n == 1 && L->t.p[0] == 'x'))
                    return expected(L, "'x'");
                if (!next(L)) return false;
            }
            if (hi < lo || hi - lo > 10000) return perr(L, &k1, "bad entry range");
            lexer save = *L;
            for (int64_t r = lo; r <= hi; r++) {
                *L = save;
                char key[32];
                snprintf(key, sizeof key, "%lld", (long long)r);
                if (!parse_module(L, p, prefix, key)) return false;
            }
        } else {
            char *key = tok_str(&k1);
            bool ok = key && parse_module(L, p, prefix, key);
            free(key);
            if (!ok) return false;
        }
        while (L->t.k == T_NL)
            if (!next(L)) return false;
    }
    return next(L);
}

/* A module: `Type(args)` (a layer) or `Type(` entries `)` (a container).
 * key == NULL for a top-level statement. */
static bool parse_module(lexer *L, program *p, const char *prefix, const char *key) {
    if (L->t.k != T_NAME) return expected(L, "a layer like Conv2d(...)");
    token tn = L->t;
    char *type = last_component(&tn);
    if (!type) return perr(L, &tn, "out of memory");
    if (!is_type_name(type)) {
        perr(L, &tn, "'%.*s' is not a layer type like Conv2d", (int)tn.n, tn.p);
        goto fail;
    }
    if (is_join(type)) { /* its inputs are names: only `name = cat(a, b)` reads them */
        perr(L, &tn, "%s() joins named values; write it as name = %s(a, b)", type, type);
        goto fail;
    }
    if (!next(L)) goto fail;
    if (!is_punct(L, '(')) {
        expected(L, "'(' after the layer name");
        goto fail;
    }
    int depth_before = L->depth;
    if (!next(L)) goto fail;
    /* printed container?  "(name):" follows, possibly after newlines */
    {
        lexer save = *L;
        bool container = false;
        while (L->t.k == T_NL && next(L)) {
        }
        if (is_punct(L, '(')) {
            if (next(L) && (L->t.k == T_NAME || L->t.k == T_INT) && next(L)) {
                if (is_punct(L, '-') || is_punct(L, ')')) {
                    if (is_punct(L, '-')) next(L), next(L);
                    if (is_punct(L, ')') && next(L) && is_punct(L, ':')) container = true;
                }
            }
        }
        L->failed = save.failed;
        *L = save;
        if (container && key && strcmp(type, "Sequential") && strcmp(type, "ModuleList") &&
            strcmp(type, "ModuleDict")) {
            /* a module of the user's own whose forward() print(model) does not show (a
             * ResNet block adds its shortcut): not to be read as a chain (issue 16) */
            perr(L, &tn,
                 "'%s' is a module whose forward() the printed text does not show (it may add a "
                 "shortcut or branch); convkit reads only nn.Sequential containers as chains. "
                 "Check the live module with the Python package, convkit.check(model, "
                 "input_size=...), or export it to ONNX",
                 type);
            goto fail;
        }
        if (container || (!strcmp(type, "Sequential") && is_punct(L, ')'))) {
            char *pre = key ? (prefix && *prefix ? ck_sprintf("%s%s.", prefix, key)
                                                 : ck_sprintf("%s.", key))
                            : ck_strdup(prefix ? prefix : "");
            if (!pre) goto fail;
            /* Sequential with printed entries */
            L->depth = depth_before; /* newlines are significant again inside */
            bool ok = parse_printed_entries(L, p, pre);
            free(pre);
            free(type);
            return ok;
        }
    }
    if (!strcmp(type, "Sequential") || !strcmp(type, "ModuleList")) {
        /* nn.Sequential(nn.Conv2d(...), nn.ReLU()): positional modules */
        char *pre =
            key ? (prefix && *prefix ? ck_sprintf("%s%s.", prefix, key) : ck_sprintf("%s.", key))
                : ck_strdup(prefix ? prefix : "");
        int idx = 0;
        while (pre && !is_punct(L, ')')) {
            char k[32];
            snprintf(k, sizeof k, "%d", idx++);
            if (!parse_module(L, p, pre, k)) {
                free(pre);
                goto fail;
            }
            if (is_punct(L, ','))
                next(L);
            else if (!is_punct(L, ')')) {
                free(pre);
                expected(L, "',' or ')'");
                goto fail;
            }
        }
        free(pre);
        free(type);
        return !L->failed && next(L);
    }
    stmt *s = push_stmt(L, p);
    if (!s) goto fail;
    s->type = type;
    s->line = tn.line;
    s->col = tn.col;
    if (key) s->name = ck_sprintf("%s%s", prefix ? prefix : "", key);
    if (!parse_args(L, &s->args)) return false;
    return true;
fail:
    free(type);
    return false;
}

static bool parse_input_decl(lexer *L, program *p) {
    token at = L->t;
    if (!next(L)) return false;
    char *name = NULL;
    if (L->t.k == T_NAME) {
        name = tok_str(&L->t);
        if (!next(L)) {
            free(name);
            return false;
        }
    } else {
        name = ck_strdup("input");
    }
    if (!name) return perr(L, &at, "out of memory");
    if (p->n_in == 16) {
        free(name);
        return perr(L, &at, "more than 16 inputs");
    }
    for (int i = 0; i < p->n_in; i++)
        if (!strcmp(p->in_names[i], name)) {
            perr(L, &at, "the input '%s' is declared twice", name);
            free(name);
            return false;
        }
    p->in_names[p->n_in] = name;
    p->in_line[p->n_in] = at.line;
    ck_shape *sh = &p->in_shapes[p->n_in++];
    if (!expect(L, ':', "':' after input")) return false;
    /* [1, 3, 16, 16] or (..) or 1x3x16x16 */
    memset(sh, 0, sizeof *sh);
    if (is_punct(L, '[') || is_punct(L, '(')) {
        ck_value v;
        token vt = L->t;
        if (!parse_value(L, &v)) return false;
        bool ok = v.kind == CK_V_LIST && v.n >= 1 && v.n <= CK_MAX_RANK;
        for (int i = 0; ok && i < v.n; i++) {
            if (v.items[i].kind == CK_V_INT && v.items[i].i >= 0)
                sh->d[i] = v.items[i].i;
            else if (v.items[i].kind == CK_V_NONE)
                sh->d[i] = i == 0 ? 1 : 0;
            else
                ok = false;
        }
        sh->rank = ok ? v.n : 0;
        ck_value_free(&v);
        if (!ok)
            return perr(L, &vt,
                        "expected a shape like [1, 3, 224, 224] with 1 to %d non-negative sizes",
                        CK_MAX_RANK);
    } else if (L->t.k == T_INT) {
        token vt = L->t;
        /* 1x3x16x16 lexes as INT NAME(x3x16x16): re-read the raw text */
        size_t s0 = (size_t)(L->t.p - L->text), e = s0;
        while (e < L->len && (isdigit((unsigned char)L->text[e]) || L->text[e] == 'x')) e++;
        char buf[256];
        if (e - s0 >= sizeof buf) return perr(L, &vt, "shape too long");
        memcpy(buf, L->text + s0, e - s0);
        buf[e - s0] = 0;
        if (!ck_parse_shape(buf, sh)) return perr(L, &vt, "expected a shape like 1x3x224x224");
        while (L->pos < e) advance_char(L);
        if (!next(L)) return false;
    } else {
        return expected(L, "a shape like [1, 3, 224, 224]");
    }
    return true;
}

/* output: a, b -- the values the network returns (default: the last layer). */
static bool parse_output_decl(lexer *L, program *p) {
    token at = L->t;
    if (p->n_out) return perr(L, &at, "the outputs are declared twice");
    if (!next(L) || !expect(L, ':', "':' after output")) return false;
    p->out_line = at.line;
    for (;;) {
        if (L->t.k != T_NAME) return expected(L, "the name of a layer or input");
        if (p->n_out == 16) return perr(L, &L->t, "more than 16 outputs");
        if (!(p->out_names[p->n_out++] = tok_str(&L->t))) return perr(L, &L->t, "out of memory");
        if (!next(L)) return false;
        if (!is_punct(L, ',')) return true;
        if (!next(L)) return false;
    }
}

/* PyTorch's functional calls (view, interpolate, size, ...): their inputs are
 * the values their arguments name, found when the graph is built. */
static bool is_functional(const char *type) {
    const ck_frontend *fe = ck_frontend_find(CK_DIALECT_PYTORCH, type);
    return fe && fe->functional;
}

static bool parse_statement(lexer *L, program *p) {
    if (name_is(L, "output")) {
        lexer save = *L;
        next(L);
        bool decl = is_punct(L, ':');
        L->failed = save.failed;
        *L = save;
        if (decl) return parse_output_decl(L, p);
    }
    if (name_is(L, "input")) {
        lexer save = *L;
        next(L);
        bool decl = is_punct(L, ':') || L->t.k == T_NAME;
        L->failed = save.failed;
        *L = save;
        if (decl) return parse_input_decl(L, p);
    }
    if (L->t.k != T_NAME)
        return expected(L, "a layer line like conv1 = Conv2d(3, 16, 3) or input: [1, 3, 32, 32]");
    lexer save = *L;
    token nt = L->t;
    if (!next(L)) return false;
    if (!is_punct(L, '=')) {
        /* a bare module: pasted print(model) or a layer without a name */
        *L = save;
        int before = p->n;
        if (!parse_module(L, p, "", NULL)) return false;
        /* unnamed top-level layers are numbered like a Sequential */
        for (int i = before; i < p->n; i++)
            if (!p->v[i].name && !(p->v[i].name = ck_sprintf("%d", i)))
                return perr(L, &nt, "out of memory");
        return true;
    }
    if (!next(L)) return false;
    if (L->t.k != T_NAME) return expected(L, "a layer call after '='");
    token tt = L->t;
    char *type = last_component(&tt);
    if (!type) return perr(L, &tt, "out of memory");
    if (!is_type_name(type)) {
        free(type);
        return perr(L, &tt, "'%.*s' is not a layer type like Conv2d", (int)tt.n, tt.p);
    }
    if (!strcmp(type, "Sequential")) {
        free(type);
        char *pre = tok_str(&nt);
        bool ok = pre && parse_module(L, p, "", pre);
        free(pre);
        return ok;
    }
    stmt *s = push_stmt(L, p);
    if (!s) {
        free(type);
        return false;
    }
    s->type = type;
    s->name = tok_str(&nt);
    s->line = nt.line;
    s->col = nt.col;
    if (!next(L)) return false;
    if (!expect(L, '(', "'(' after the layer name")) return false;
    if (is_join(s->type)) {
        /* add(a, b), cat([a, b], dim=1): names are inputs */
        if (!parse_inputs_call(L, s, &s->args)) return false;
        if (s->n_inputs < 2 && !(s->n_inputs == 1 && ck_args_get(&s->args, -1, "scalar")))
            return perr(L, &tt, "%s() needs at least two inputs", s->type);
        return true;
    }
    if (!parse_args(L, &s->args)) return false;
    if (is_functional(s->type)) {
        s->explicit_inputs = true; /* filled from the arguments in pass 2 */
        return true;
    }
    if (is_punct(L, '(')) {
        if (!next(L)) return false;
        if (!parse_inputs_call(L, s, &s->fwd)) return false;
    }
    return true;
}

/* Functional calls with several outputs (chunk, split with sizes) name them
 * <layer>.0, <layer>.1, ...; the count comes from the arguments. 0 for one
 * output named like the layer. */
static int piece_count(const stmt *s) {
    const ck_value *v = NULL;
    if (!strcmp(s->type, "chunk"))
        v = ck_args_get(&s->args, 1, "chunks");
    else if (!strcmp(s->type, "split"))
        v = ck_args_get(&s->args, 1, "split_size_or_sections");
    else
        return 0;
    if (v && v->kind == CK_V_INT && s->type[0] == 'c')
        return v->i > 0 && v->i <= 64 ? (int)v->i : 0;
    if (v && v->kind == CK_V_LIST && s->type[0] == 's') return v->n > 0 && v->n <= 64 ? v->n : 0;
    return 0;
}

/* Adds the values that the bare names in v name to the statement's inputs
 * (each once, in the order they appear). */
static bool collect_refs(const ck_graph *g, stmt *s, const ck_value *v) {
    if (v->kind == CK_V_LIST) {
        for (int i = 0; i < v->n; i++)
            if (!collect_refs(g, s, &v->items[i])) return false;
        return true;
    }
    if (v->kind != CK_V_STR || !v->bare || ck_graph_find_val(g, v->s) < 0) return true;
    for (int i = 0; i < s->n_inputs; i++)
        if (!strcmp(s->inputs[i], v->s)) return true;
    char **in = realloc(s->inputs, (size_t)(s->n_inputs + 1) * sizeof *in);
    if (!in) return false;
    s->inputs = in;
    return (s->inputs[s->n_inputs++] = ck_strdup(v->s)) != NULL;
}

/* ---- pass 2: dialect and graph ------------------------------------------ */

static const char *const shared_names[] = {"ReLU",  "Dropout", "Flatten", "Softmax", "LeakyReLU",
                                           "PReLU", "ELU",     "add",     "mul",     "cat",
                                           "sub",   "div",     "concat",  NULL};

static bool is_shared(const char *t) {
    for (int i = 0; shared_names[i]; i++)
        if (!strcmp(shared_names[i], t)) return true;
    return false;
}

static ck_dialect pick_dialect(const program *p, const char *file, ck_diags *d) {
    int pt_line = 0, k_line = 0;
    const char *pt_name = NULL, *k_name = NULL;
    for (int i = 0; i < p->n; i++) {
        const char *t = p->v[i].type;
        if (is_shared(t)) continue;
        bool inp = ck_frontend_known(CK_DIALECT_PYTORCH, t),
             ink = ck_frontend_known(CK_DIALECT_KERAS, t);
        if (inp && !ink && !pt_name) pt_name = t, pt_line = p->v[i].line;
        if (ink && !inp && !k_name) k_name = t, k_line = p->v[i].line;
    }
    if (pt_name && k_name) {
        ck_diag_parse(d, file, k_line > pt_line ? k_line : pt_line, 1,
                      "the file mixes PyTorch names (%s, line %d) and Keras names (%s, line %d); "
                      "one file uses one framework's layers",
                      pt_name, pt_line, k_name, k_line);
        return CK_DIALECT_NONE;
    }
    return k_name ? CK_DIALECT_KERAS : CK_DIALECT_PYTORCH;
}

/* Keras: input_shape=(28, 28, 1) on the first layer declares the input
 * (bit k of *open: axis k is None). Returns the index of an entry that is
 * no size (a negative number, a string; *bad points at it), else -1. */
static int keras_input_shape(const stmt *s, ck_shape *out, unsigned *open, const ck_value **bad) {
    for (int i = 0; i < s->args.nkw; i++) {
        bool batch = !strcmp(s->args.kw_names[i], "batch_input_shape") ||
                     !strcmp(s->args.kw_names[i], "batch_shape");
        if (strcmp(s->args.kw_names[i], "input_shape") != 0 && !batch) continue;
        const ck_value *v = &s->args.kw[i];
        if (v->kind != CK_V_LIST || v->n + !batch > CK_MAX_RANK) return -1;
        ck_shape sh = {.rank = v->n + !batch};
        if (!batch) sh.d[0] = 1;
        for (int k = 0; k < v->n; k++) {
            const ck_value *it = &v->items[k];
            if ((it->kind == CK_V_INT && it->i < 0) ||
                (it->kind != CK_V_INT && it->kind != CK_V_NONE)) {
                *bad = it;
                return k;
            }
            sh.d[k + !batch] = it->kind == CK_V_INT                         ? it->i
                               : (it->kind == CK_V_NONE && k == 0 && batch) ? 1
                                                                            : 0;
            if (it->kind == CK_V_NONE && k + !batch > 0) *open |= 1u << (k + !batch);
        }
        *out = sh;
        return -1;
    }
    return -1;
}

static ck_status parse_cnn(const char *text, size_t len, const char *filename, const ck_limits *lim,
                           ck_graph **out, ck_diags *diags);

ck_status ck_parse_cnn(const char *text, size_t len, const char *filename, const ck_limits *lim,
                       ck_graph **out, ck_diags *diags) {
    if (out) *out = NULL;
    if (!out || (!text && len)) return CK_EUSAGE;
    ck_diags local = {0};
    ck_status st = parse_cnn(text ? text : "", len, filename, lim, out, diags ? diags : &local);
    ck_diags_free(&local);
    return st;
}

static ck_status parse_cnn(const char *text, size_t len, const char *filename, const ck_limits *lim,
                           ck_graph **out, ck_diags *diags) {
    *out = NULL;
    if (!filename) filename = "<text>";
    if (ck_pykeras_detect(text, len)) return ck_load_pykeras(text, len, filename, lim, out, diags);
    lexer L = {.text = text, .len = len, .line = 1, .col = 1, .file = filename, .d = diags};
    ck_limits rl = ck_limits_resolve(lim);
    L.max_depth = rl.max_depth;
    program p = {0};
    p.max_nodes = rl.max_nodes;
    ck_status st = CK_EPARSE;
    ck_graph *g = NULL;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        L.pos = 3;
    if (!next(&L)) goto done;
    for (;;) {
        while (L.t.k == T_NL)
            if (!next(&L)) goto done;
        if (L.t.k == T_EOF) break;
        if (!parse_statement(&L, &p)) goto done;
        if (L.t.k != T_NL && L.t.k != T_EOF) {
            expected(&L, "end of line");
            goto done;
        }
    }
    if (p.n == 0) {
        ck_diag_parse(diags, filename, L.line, 1,
                      "no layers: expected lines like conv1 = Conv2d(3, 16, 3)");
        goto done;
    }
    ck_dialect dialect = pick_dialect(&p, filename, diags);
    if (dialect == CK_DIALECT_NONE) goto done;
    g = ck_graph_new(dialect, filename);
    if (g) ck_graph_set_limits(g, lim);
    if (!g) {
        st = CK_ENOMEM;
        goto done;
    }
    bool cl = dialect == CK_DIALECT_KERAS;
    if (p.n_in == 0) {
        ck_shape sh = {0};
        const ck_value *bv = NULL;
        unsigned open = 0;
        int bad = cl ? keras_input_shape(&p.v[0], &sh, &open, &bv) : -1;
        if (bad >= 0) {
            ck_str t = {0};
            ck_value_str(&t, bv);
            ck_diag_parse(diags, filename, p.v[0].line, 1,
                          "%s: input shape entry %d is %s; sizes are non-negative integers or None",
                          p.v[0].name, bad, t.p ? t.p : "?");
            ck_str_free(&t);
            goto done;
        }
        if (ck_graph_add_input(g, "input", &sh, cl) < 0 ||
            !ck_graph_keras_symbols(g, g->n_inputs - 1, open))
            goto oom;
    }
    for (int i = 0; i < p.n_in; i++)
        if (ck_graph_add_input(g, p.in_names[i], &p.in_shapes[i], cl) < 0) goto oom;
    const char *prev = ck_graph_input_name(g, 0);
    for (int i = 0; i < p.n; i++) {
        stmt *s = &p.v[i];
        if (is_functional(s->type) && s->n_inputs == 0) {
            for (int k = 0; k < s->args.npos; k++)
                if (!collect_refs(g, s, &s->args.pos[k])) goto oom;
            for (int k = 0; k < s->args.nkw; k++)
                if (!collect_refs(g, s, &s->args.kw[k])) goto oom;
            if (s->n_inputs == 0) {
                ck_diag_parse(diags, filename, s->line, s->col,
                              "%s: %s() reads no earlier layer or input; name the tensor it "
                              "works on, like %s(x, ...)",
                              s->name, s->type, s->type);
                goto done;
            }
        }
        if (!is_functional(s->type) && s->explicit_inputs)
            for (int k = 0; k < s->fwd.nkw; k++) /* forward(x, output_size=s) reads s too */
                if (!collect_refs(g, s, &s->fwd.kw[k])) goto oom;
        const char *one[1] = {prev};
        const char *const *ins = s->explicit_inputs ? (const char *const *)s->inputs : one;
        int n_in = s->explicit_inputs ? s->n_inputs : 1;
        for (int k = 0; k < n_in; k++)
            if (ck_graph_find_val(g, ins[k]) < 0) {
                ck_diag_parse(diags, filename, s->line, s->col,
                              "%s reads '%s', which is neither an input nor an earlier layer",
                              s->name, ins[k]);
                goto done;
            }
        int pieces = piece_count(s);
        char *piece_names[64] = {0};
        for (int k = 0; k < pieces; k++)
            if (!(piece_names[k] = ck_sprintf("%s.%d", s->name, k))) {
                for (int j = 0; j < k; j++) free(piece_names[j]);
                goto oom;
            }
        ck_layer_spec sp = {.dialect = dialect,
                            .n_outputs = pieces,
                            .outputs = (const char *const *)piece_names,
                            .type = s->type,
                            .name = s->name,
                            .args = &s->args,
                            .fwd = &s->fwd,
                            .n_inputs = n_in,
                            .inputs = ins,
                            .line = s->line};
        int before = diags->n;
        int added = ck_graph_add_layer(g, &sp, diags);
        for (int k = 0; k < pieces; k++) free(piece_names[k]);
        if (added < 0) {
            for (int k = before; k < diags->n; k++)
                if (!diags->v[k].file) {
                    diags->v[k].file = ck_strdup(filename);
                    diags->v[k].line = s->line;
                    diags->v[k].col = s->col;
                }
            if (diags->n == before) goto oom;
            goto done;
        }
        prev = s->name;
    }
    if (p.n_out == 0) ck_graph_mark_output(g, g->nodes[g->n_nodes - 1].out[0]);
    for (int i = 0; i < p.n_out; i++) {
        int v = ck_graph_find_val(g, p.out_names[i]);
        if (v < 0) {
            ck_diag_parse(diags, filename, p.out_line, 1,
                          "output: '%s' is neither an input nor a layer", p.out_names[i]);
            goto done;
        }
        ck_graph_mark_output(g, v);
    }
    *out = g;
    g = NULL;
    st = CK_OK;
    goto done;
oom:
    st = CK_ENOMEM;
done:
    ck_graph_free(g);
    program_free(&p);
    return st;
}
