/* Structured diagnostics. The library fills them; only the CLI renders. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
#define CK_X_NAME(e, s) s,
    CK_CODES(CK_X_NAME)
#undef CK_X_NAME
};

const char *ck_code_name(ck_code c) {
    return (unsigned)c < CK_CODE_COUNT ? code_names[c] : "unknown";
}

const char *ck_dialect_name(ck_dialect d) {
    switch (d) {
    case CK_DIALECT_PYTORCH:
        return "pytorch";
    case CK_DIALECT_KERAS:
        return "keras";
    case CK_DIALECT_ONNX:
        return "onnx";
    default:
        return "none";
    }
}

void ck_diag_clear(ck_diag *dg) {
    free(dg->layer);
    free(dg->op);
    free(dg->axis);
    free(dg->message);
    free(dg->formula);
    free(dg->input);
    free(dg->shrink);
    free(dg->file);
    for (int i = 0; i < dg->n_notes; i++) free(dg->notes[i]);
    free(dg->notes);
    for (int i = 0; i < dg->n_fixes; i++) free(dg->fixes[i]);
    free(dg->fixes);
    memset(dg, 0, sizeof *dg);
}

void ck_diags_free(ck_diags *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) ck_diag_clear(&d->v[i]);
    free(d->v);
    *d = (ck_diags){0};
}

int ck_diags_errors(const ck_diags *d) {
    int n = 0;
    for (int i = 0; d && i < d->n; i++) n += d->v[i].severity == CK_SEV_ERROR;
    return n;
}

/* NULL when there is no list (the public entry points give their callees
 * one, so this only keeps a stray internal call from crashing) or no memory. */
static ck_diag *push(ck_diags *d) {
    if (!d) return NULL;
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 8;
        ck_diag *v = realloc(d->v, (size_t)cap * sizeof *v);
        if (!v) return NULL;
        d->v = v;
        d->cap = cap;
    }
    ck_diag *dg = &d->v[d->n++];
    memset(dg, 0, sizeof *dg);
    return dg;
}

ck_diag *ck_diag_vadd(ck_diags *d, ck_severity sev, ck_code code, const char *layer, const char *op,
                      const char *fmt, va_list ap) {
    ck_diag *dg = push(d);
    if (!dg) return NULL;
    dg->severity = sev;
    dg->code = code;
    dg->layer = ck_strdup(layer);
    dg->op = ck_strdup(op);
    ck_str s = {0};
    ck_str_vaddf(&s, fmt, ap);
    dg->message = ck_str_take(&s);
    return dg;
}

ck_diag *ck_diag_add(ck_diags *d, ck_severity sev, ck_code code, const char *layer, const char *op,
                     const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ck_diag *dg = ck_diag_vadd(d, sev, code, layer, op, fmt, ap);
    va_end(ap);
    return dg;
}

ck_diag *ck_diag_parse(ck_diags *d, const char *file, int line, int col, const char *fmt, ...) {
    ck_diag *dg = push(d);
    if (!dg) return NULL;
    dg->severity = CK_SEV_ERROR;
    dg->code = CK_PARSE_ERROR;
    dg->file = ck_strdup(file);
    dg->line = line;
    dg->col = col;
    ck_str s = {0};
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(&s, fmt, ap);
    va_end(ap);
    dg->message = ck_str_take(&s);
    return dg;
}

static void push_line(char ***v, int *n, ck_str *s) {
    char *t = ck_str_take(s);
    if (!t) return;
    char **p = realloc(*v, (size_t)(*n + 1) * sizeof *p);
    if (!p) {
        free(t);
        return;
    }
    *v = p;
    p[(*n)++] = t;
}

void ck_diag_note(ck_diag *dg, const char *fmt, ...) {
    if (!dg) return;
    ck_str s = {0};
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(&s, fmt, ap);
    va_end(ap);
    push_line(&dg->notes, &dg->n_notes, &s);
}

void ck_diag_fix(ck_diag *dg, const char *fmt, ...) {
    if (!dg) return;
    ck_str s = {0};
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(&s, fmt, ap);
    va_end(ap);
    push_line(&dg->fixes, &dg->n_fixes, &s);
}

void ck_diag_set(char **field, const char *fmt, ...) {
    ck_str s = {0};
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(&s, fmt, ap);
    va_end(ap);
    free(*field);
    *field = ck_str_take(&s);
}
