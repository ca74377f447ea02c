/* Writes a graph back as .cnn text: the input declarations, then one
 * `name = Layer(args)(inputs)` line per layer with the arguments as the
 * user (or the Keras config) gave them, so `fix --write` output reads like
 * the model it came from and `check` accepts it. */
#include "analyze/analyze.h"
#include "ops/ops.h"

#include <ctype.h>
#include <string.h>

/* .cnn names are letters, digits, '_' and '.'; Keras nesting writes '/'. */
static char *clean_name(const char *s) {
    char *r = ck_strdup(s);
    if (!r) return NULL;
    for (char *p = r; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.') *p = '_';
    if (!isalpha((unsigned char)r[0]) && r[0] != '_') {
        char *q = ck_sprintf("l_%s", r);
        free(r);
        r = q;
    }
    return r;
}

/* A word the .cnn reader takes as a layer type: [A-Za-z_][A-Za-z0-9_.]*. */
static bool cnn_word(const char *t) {
    if (!t || !(isalpha((unsigned char)t[0]) || t[0] == '_')) return false;
    for (const char *p = t; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.')) return false;
    return true;
}

static bool is_join_type(const char *t) {
    static const char *const j[] = {"add", "sub",    "mul",         "div",
                                    "cat", "concat", "concatenate", NULL};
    for (int i = 0; j[i]; i++)
        if (!strcmp(j[i], t)) return true;
    return false;
}

/* A value as the spec reader reads it back: bare words (ceil_mode=true,
 * mode=nearest as print(model) writes them) stay bare, a string holding a
 * single quote is written in double quotes. */
static void write_value(ck_str *s, const ck_value *v) {
    if (v->kind == CK_V_STR && v->s) {
        if (v->bare)
            ck_str_add(s, v->s);
        else
            ck_str_addf(s, strchr(v->s, '\'') ? "\"%s\"" : "'%s'", v->s);
    } else if (v->kind == CK_V_LIST) {
        ck_str_add(s, v->is_tuple ? "(" : "[");
        for (int i = 0; i < v->n; i++) {
            if (i) ck_str_add(s, ", ");
            write_value(s, &v->items[i]);
        }
        if (v->is_tuple && v->n == 1) ck_str_add(s, ",");
        ck_str_add(s, v->is_tuple ? ")" : "]");
    } else {
        ck_value_str(s, v);
    }
}

/* The arguments the frontend binds, in the order given; bookkeeping keys of
 * JSON configs (initializers, names) are dropped. */
static void write_args(ck_str *s, const ck_node *n, bool *first) {
    for (int i = 0; i < n->args.npos; i++) {
        ck_str_add(s, *first ? "" : ", ");
        write_value(s, &n->args.pos[i]);
        *first = false;
    }
    for (int i = 0; i < n->args.nkw; i++) {
        if (n->fe && ck_param_index(n->fe, n->args.kw_names[i]) < 0) continue;
        const ck_value *v = &n->args.kw[i];
        ck_str_addf(s, "%s%s=", *first ? "" : ", ", n->args.kw_names[i]);
        write_value(s, v);
        *first = false;
    }
}

static ck_status write_cnn(const ck_graph *g, const char *comment, char **out, ck_diags *d) {
    if (g->dialect != CK_DIALECT_PYTORCH && g->dialect != CK_DIALECT_KERAS) {
        ck_diag_add(d, CK_SEV_ERROR, CK_UNSUPPORTED, NULL, NULL,
                    "a %s model cannot be written as .cnn (its layers carry weights); apply the "
                    "fix in the code that exports it",
                    ck_dialect_name(g->dialect));
        return CK_EUSAGE;
    }
    ck_str s = {0};
    char **names = calloc((size_t)(g->n_vals ? g->n_vals : 1), sizeof *names);
    if (!names) return CK_ENOMEM;
    ck_status st = CK_OK;
    if (comment) {
        for (const char *p = comment; *p;) {
            const char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            ck_str_addf(&s, "# %.*s\n", (int)len, p);
            p += len + (e ? 1 : 0);
        }
    }
    for (int i = 0; i < g->n_vals; i++)
        if (!(names[i] = clean_name(g->vals[i].name))) st = CK_ENOMEM;
    char buf[256];
    for (int i = 0; i < g->n_inputs && st == CK_OK; i++) {
        const ck_shape *sh = &g->declared[i];
        int v = g->inputs[i];
        bool plain = g->n_inputs == 1 && !strcmp(names[v], "input");
        /* no declared shape: leave the line out, as the spec it came from did
         * ("input: []" does not read back) */
        if (plain && sh->rank == 0) continue;
        if (sh->rank == 0) {
            ck_diag_add(d, CK_SEV_ERROR, CK_UNSUPPORTED, g->vals[v].name, NULL,
                        "input '%s' has no declared shape, which a named .cnn input needs: "
                        "give it with --input",
                        g->vals[v].name);
            st = CK_EUSAGE;
            break;
        }
        if (plain)
            ck_str_add(&s, "input: ");
        else
            ck_str_addf(&s, "input %s: ", names[v]);
        ck_str_addf(&s, "%s\n", ck_shape_str(sh, buf, sizeof buf));
    }
    for (int ni = 0; ni < g->n_nodes && st == CK_OK; ni++) {
        const ck_node *n = &g->nodes[ni];
        if (n->n_out == 0) continue;
        const char *name = names[n->out[0]];
        if (n->n_out > 1) {
            ck_diag_add(d, CK_SEV_ERROR, CK_UNSUPPORTED, n->name, n->type,
                        "%s has %d outputs; .cnn layers have one", n->name, n->n_out);
            st = CK_EUSAGE;
            break;
        }
        /* a type only the other framework knows (Conv2d in Keras code) would
         * make the file read as a mix of both */
        ck_dialect other = g->dialect == CK_DIALECT_KERAS ? CK_DIALECT_PYTORCH : CK_DIALECT_KERAS;
        if (!ck_frontend_known(g->dialect, n->type) && ck_frontend_known(other, n->type)) {
            ck_diag_add(d, CK_SEV_ERROR, CK_UNSUPPORTED, n->name, n->type,
                        "%s: %s is a %s layer name, unknown to %s; .cnn would read the file as "
                        "mixing both frameworks",
                        n->name, n->type, ck_dialect_name(other), ck_dialect_name(g->dialect));
            st = CK_EUSAGE;
            break;
        }
        /* pasted code may name any class or keyword: MaxPoolingξ(stridξs=2) */
        bool words = cnn_word(n->type);
        for (int k = 0; words && k < n->args.nkw; k++) words = cnn_word(n->args.kw_names[k]);
        for (int k = 0; words && k < n->fwd.nkw; k++) words = cnn_word(n->fwd.kw_names[k]);
        if (!words) {
            ck_diag_add(d, CK_SEV_ERROR, CK_UNSUPPORTED, n->name, n->type,
                        "%s: its type or an argument name is not a word .cnn can write", n->name);
            st = CK_EUSAGE;
            break;
        }
        bool first = true;
        if (is_join_type(n->type)) {
            ck_str_addf(&s, "%s = %s(", name, n->type);
            for (int k = 0; k < n->n_in; k++) {
                ck_str_addf(&s, "%s%s", first ? "" : ", ", names[n->in[k]]);
                first = false;
            }
            for (int k = 0; k < n->args.nkw; k++) {
                ck_str_addf(&s, ", %s=", n->args.kw_names[k]);
                write_value(&s, &n->args.kw[k]);
            }
            ck_str_add(&s, ")\n");
            continue;
        }
        ck_str_addf(&s, "%s = %s(", name, n->type);
        write_args(&s, n, &first);
        ck_str_add(&s, ")(");
        for (int k = 0; k < n->n_in; k++) ck_str_addf(&s, "%s%s", k ? ", " : "", names[n->in[k]]);
        for (int k = 0; k < n->fwd.nkw; k++) {
            ck_str_addf(&s, "%s%s=", n->n_in || k ? ", " : "", n->fwd.kw_names[k]);
            write_value(&s, &n->fwd.kw[k]);
        }
        ck_str_add(&s, ")\n");
    }
    for (int i = 0; i < g->n_vals; i++) free(names[i]);
    free(names);
    if (st != CK_OK) {
        ck_str_free(&s);
        return st;
    }
    *out = ck_str_take(&s);
    return *out ? CK_OK : CK_ENOMEM;
}

ck_status ck_graph_write_cnn(const ck_graph *g, const char *comment, char **out, ck_diags *d) {
    if (!out) return CK_EUSAGE;
    *out = NULL;
    if (!g) return CK_EUSAGE;
    ck_diags local = {0};
    ck_status st = write_cnn(g, comment, out, d ? d : &local);
    ck_diags_free(&local);
    return st;
}
