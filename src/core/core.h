/* Internal core: checked dimension arithmetic, growable strings, parsed
 * argument values and diagnostics construction. */
#ifndef CK_CORE_H
#define CK_CORE_H

#include "convkit.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* ---- checked int64 arithmetic: return false on overflow ---------------- */

static inline bool ck_add(int64_t a, int64_t b, int64_t *r) {
    return !__builtin_add_overflow(a, b, r);
}
static inline bool ck_sub(int64_t a, int64_t b, int64_t *r) {
    return !__builtin_sub_overflow(a, b, r);
}
static inline bool ck_mul(int64_t a, int64_t b, int64_t *r) {
    return !__builtin_mul_overflow(a, b, r);
}
/* Floor and ceil division for b > 0 (true mathematical floor, not C truncation). */
static inline int64_t ck_floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}
static inline int64_t ck_ceildiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && a > 0) ? q + 1 : q;
}
/* Product of dims; false on overflow. */
bool ck_shape_numel(const ck_shape *s, int64_t *out);
bool ck_shape_eq(const ck_shape *a, const ck_shape *b);

/* ---- strings ------------------------------------------------------------ */

typedef struct ck_str {
    char *p;
    size_t n, cap;
    bool oom;
} ck_str;

void ck_str_addf(ck_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ck_str_vaddf(ck_str *s, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void ck_str_add(ck_str *s, const char *t);
void ck_str_shape(ck_str *s, const ck_shape *sh);
/* Returns the string (caller owns) and resets s. Never NULL unless OOM. */
char *ck_str_take(ck_str *s);
void ck_str_free(ck_str *s);
char *ck_strdup(const char *s);
char *ck_strndup(const char *s, size_t n);
char *ck_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- parsed argument values (Python literals, JSON, ONNX attributes) --- */

typedef enum ck_vkind {
    CK_V_NONE = 0,
    CK_V_BOOL,
    CK_V_INT,
    CK_V_FLOAT,
    CK_V_STR,
    CK_V_LIST, /* tuple or list */
} ck_vkind;

typedef struct ck_value {
    ck_vkind kind;
    bool is_tuple; /* written with ( ) rather than [ ] */
    bool bare;     /* a bare identifier taken as a string (print(model) writes mode=nearest) */
    int64_t i;     /* BOOL and INT */
    double f;      /* FLOAT */
    char *s;       /* STR */
    int n;         /* LIST */
    struct ck_value *items;
} ck_value;

void ck_value_free(ck_value *v);
bool ck_value_copy(ck_value *dst, const ck_value *src);
/* Writes the value as Python literal text. */
void ck_value_str(ck_str *s, const ck_value *v);
const char *ck_vkind_name(ck_vkind k);

/* A call's arguments: positional then keyword. */
typedef struct ck_args {
    int npos;
    ck_value *pos;
    int nkw;
    char **kw_names;
    ck_value *kw;
    int *kw_line, *kw_col; /* positions for diagnostics (optional) */
} ck_args;

void ck_args_free(ck_args *a);
bool ck_args_push_pos(ck_args *a, ck_value v);
bool ck_args_push_kw(ck_args *a, const char *name, ck_value v);
/* Deep copy; src may be NULL (empty result). */
bool ck_args_copy(ck_args *dst, const ck_args *src);
/* Sets parameter `name` (positional slot pos_index when given that way,
 * else a keyword), taking ownership of v. */
bool ck_args_set(ck_args *a, int pos_index, const char *name, ck_value v);
/* The value bound to a parameter, positionally or by keyword, or NULL. */
const ck_value *ck_args_get(const ck_args *a, int pos_index, const char *name);

/* ---- diagnostics -------------------------------------------------------- */

/* Appends a diagnostic and returns it for the caller to fill further
 * (strings set through it are owned by the list). NULL on OOM. */
ck_diag *ck_diag_add(ck_diags *d, ck_severity sev, ck_code code, const char *layer, const char *op,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* ck_diag_add with a va_list, for callers that wrap it. */
ck_diag *ck_diag_vadd(ck_diags *d, ck_severity sev, ck_code code, const char *layer, const char *op,
                      const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
void ck_diag_note(ck_diag *dg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ck_diag_fix(ck_diag *dg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ck_diag_set(char **field, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A parse error at file:line:col. */
ck_diag *ck_diag_parse(ck_diags *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void ck_diag_clear(ck_diag *dg);

#endif
