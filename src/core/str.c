/* Growable strings and small string helpers. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

static bool reserve(ck_str *s, size_t extra) {
    if (s->oom) return false;
    size_t need = s->n + extra + 1;
    if (need <= s->cap) return true;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < need) cap *= 2;
    char *p = realloc(s->p, cap);
    if (!p) {
        s->oom = true;
        return false;
    }
    s->p = p;
    s->cap = cap;
    return true;
}

void ck_str_vaddf(ck_str *s, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || !reserve(s, (size_t)n)) return;
    vsnprintf(s->p + s->n, (size_t)n + 1, fmt, ap);
    s->n += (size_t)n;
}

void ck_str_addf(ck_str *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(s, fmt, ap);
    va_end(ap);
}

void ck_str_add(ck_str *s, const char *t) {
    size_t n = strlen(t);
    if (!reserve(s, n)) return;
    memcpy(s->p + s->n, t, n + 1);
    s->n += n;
}

void ck_str_shape(ck_str *s, const ck_shape *sh) {
    ck_str_add(s, "[");
    for (int i = 0; i < sh->rank; i++) ck_str_addf(s, "%s%lld", i ? ", " : "", (long long)sh->d[i]);
    ck_str_add(s, "]");
}

char *ck_str_take(ck_str *s) {
    if (s->oom) {
        free(s->p);
        *s = (ck_str){0};
        return NULL;
    }
    if (!s->p && !reserve(s, 0)) return NULL;
    s->p[s->n] = 0;
    char *p = s->p;
    *s = (ck_str){0};
    return p;
}

void ck_str_free(ck_str *s) {
    free(s->p);
    *s = (ck_str){0};
}

char *ck_strdup(const char *s) {
    return s ? ck_strndup(s, strlen(s)) : NULL;
}

char *ck_strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *ck_sprintf(const char *fmt, ...) {
    ck_str s = {0};
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(&s, fmt, ap);
    va_end(ap);
    return ck_str_take(&s);
}

char *ck_shape_str(const ck_shape *s, char *buf, size_t n) {
    size_t off = 0;
    if (!buf || n == 0) return buf;
    buf[0] = 0;
    if (!s) return buf;
    off += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < s->rank && i < CK_MAX_RANK && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? ", " : "", (long long)s->d[i]);
    if (off < n) snprintf(buf + off, n - off, "]");
    return buf;
}

bool ck_shape_numel(const ck_shape *s, int64_t *out) {
    int64_t p = 1;
    for (int i = 0; i < s->rank; i++)
        if (!ck_mul(p, s->d[i], &p)) return false;
    *out = p;
    return true;
}

bool ck_shape_eq(const ck_shape *a, const ck_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

bool ck_parse_shape(const char *text, ck_shape *out) {
    if (!text || !out) return false;
    ck_shape s = {0};
    const char *p = text;
    while (*p == ' ') p++;
    bool bracket = (*p == '[' || *p == '(');
    if (bracket) p++;
    for (;;) {
        while (*p == ' ') p++;
        if (bracket && (*p == ']' || *p == ')') && s.rank == 0) break;
        char *end;
        if (*p < '0' || *p > '9') return false;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || v > INT64_MAX / 2) return false;
        if (s.rank == CK_MAX_RANK) return false;
        s.d[s.rank++] = v;
        p = end;
        while (*p == ' ') p++;
        if (*p == 'x' || *p == 'X' || *p == ',' || *p == '*') {
            p++;
            continue;
        }
        break;
    }
    if (bracket) {
        if (*p != ']' && *p != ')') return false;
        p++;
    }
    while (*p == ' ') p++;
    if (*p || s.rank == 0) return false;
    *out = s;
    return true;
}
