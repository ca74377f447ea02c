/* Parsed argument values: Python literals from .cnn text, JSON from Keras
 * configs, attributes from ONNX nodes. */
#include "core/core.h"

#include <string.h>

void ck_value_free(ck_value *v) {
    if (!v) return;
    free(v->s);
    for (int i = 0; i < v->n; i++) ck_value_free(&v->items[i]);
    free(v->items);
    *v = (ck_value){0};
}

bool ck_value_copy(ck_value *dst, const ck_value *src) {
    *dst = *src;
    dst->s = NULL;
    dst->items = NULL;
    dst->n = 0;
    if (src->s && !(dst->s = ck_strdup(src->s))) return false;
    if (src->n) {
        dst->items = calloc((size_t)src->n, sizeof *dst->items);
        if (!dst->items) {
            ck_value_free(dst);
            return false;
        }
        dst->n = src->n;
        for (int i = 0; i < src->n; i++)
            if (!ck_value_copy(&dst->items[i], &src->items[i])) {
                ck_value_free(dst);
                return false;
            }
    }
    return true;
}

const char *ck_vkind_name(ck_vkind k) {
    switch (k) {
    case CK_V_NONE:
        return "None";
    case CK_V_BOOL:
        return "bool";
    case CK_V_INT:
        return "int";
    case CK_V_FLOAT:
        return "float";
    case CK_V_STR:
        return "str";
    case CK_V_LIST:
        return "tuple";
    }
    return "?";
}

void ck_value_str(ck_str *s, const ck_value *v) {
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
    case CK_V_FLOAT:
        ck_str_addf(s, "%.17g", v->f);
        break;
    case CK_V_STR:
        ck_str_addf(s, "'%s'", v->s ? v->s : "");
        break;
    case CK_V_LIST:
        ck_str_add(s, v->is_tuple ? "(" : "[");
        for (int i = 0; i < v->n; i++) {
            if (i) ck_str_add(s, ", ");
            ck_value_str(s, &v->items[i]);
        }
        if (v->is_tuple && v->n == 1) ck_str_add(s, ",");
        ck_str_add(s, v->is_tuple ? ")" : "]");
        break;
    }
}

void ck_args_free(ck_args *a) {
    if (!a) return;
    for (int i = 0; i < a->npos; i++) ck_value_free(&a->pos[i]);
    for (int i = 0; i < a->nkw; i++) {
        ck_value_free(&a->kw[i]);
        free(a->kw_names[i]);
    }
    free(a->pos);
    free(a->kw);
    free(a->kw_names);
    free(a->kw_line);
    free(a->kw_col);
    *a = (ck_args){0};
}

bool ck_args_push_pos(ck_args *a, ck_value v) {
    ck_value *p = realloc(a->pos, (size_t)(a->npos + 1) * sizeof *p);
    if (!p) {
        ck_value_free(&v);
        return false;
    }
    a->pos = p;
    a->pos[a->npos++] = v;
    return true;
}

bool ck_args_push_kw(ck_args *a, const char *name, ck_value v) {
    ck_value *p = realloc(a->kw, (size_t)(a->nkw + 1) * sizeof *p);
    if (p) a->kw = p;
    char **q = realloc(a->kw_names, (size_t)(a->nkw + 1) * sizeof *q);
    if (q) a->kw_names = q;
    char *nm = ck_strdup(name);
    if (!p || !q || !nm) {
        free(nm);
        ck_value_free(&v);
        return false;
    }
    a->kw[a->nkw] = v;
    a->kw_names[a->nkw] = nm;
    a->nkw++;
    return true;
}

bool ck_args_copy(ck_args *dst, const ck_args *src) {
    *dst = (ck_args){0};
    if (!src) return true;
    for (int i = 0; i < src->npos; i++) {
        ck_value v;
        if (!ck_value_copy(&v, &src->pos[i]) || !ck_args_push_pos(dst, v)) goto fail;
    }
    for (int i = 0; i < src->nkw; i++) {
        ck_value v;
        if (!ck_value_copy(&v, &src->kw[i]) || !ck_args_push_kw(dst, src->kw_names[i], v))
            goto fail;
    }
    return true;
fail:
    ck_args_free(dst);
    return false;
}

bool ck_args_set(ck_args *a, int pos_index, const char *name, ck_value v) {
    if (pos_index >= 0 && pos_index < a->npos) {
        ck_value_free(&a->pos[pos_index]);
        a->pos[pos_index] = v;
        return true;
    }
    for (int i = 0; i < a->nkw; i++)
        if (strcmp(a->kw_names[i], name) == 0) {
            ck_value_free(&a->kw[i]);
            a->kw[i] = v;
            return true;
        }
    return ck_args_push_kw(a, name, v);
}

const ck_value *ck_args_get(const ck_args *a, int pos_index, const char *name) {
    if (!a) return NULL;
    if (pos_index >= 0 && pos_index < a->npos) return &a->pos[pos_index];
    for (int i = 0; i < a->nkw; i++)
        if (strcmp(a->kw_names[i], name) == 0) return &a->kw[i];
    return NULL;
}
