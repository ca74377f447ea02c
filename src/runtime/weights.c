/* Weights for a session: ONNX initializers (inline data decoded once into
 * session memory, or borrowed from the graph and its mapped file when it is
 * float32 already; external data read once), and for models without
 * weights the user's callback or the seeded default initialisation. Every
 * element type goes through the one decoder (core/elem.h). */
#include "core/elem.h"
#include "runtime/rng.h"
#include "import/import.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool rt_adopt(ck_session *s, float *p, int64_t n) {
    if (!p) return false;
    if (s->n_owned == s->cap_owned) {
        int c = s->cap_owned ? s->cap_owned * 2 : 16;
        float **q = realloc(s->owned, (size_t)c * sizeof *q);
        if (q) s->owned = q;
        int64_t *qn = q ? realloc(s->owned_n, (size_t)c * sizeof *qn) : NULL;
        if (qn) s->owned_n = qn;
        if (!q || !qn) {
            free(p);
            return false;
        }
        s->cap_owned = c;
    }
    s->owned_n[s->n_owned] = n;
    s->owned[s->n_owned++] = p;
    s->owned_weight_bytes += 4 * n;
    return true;
}

bool rt_release(ck_session *s, const float *p) {
    if (!p) return true;
    if (s->n_pending == s->cap_pending) {
        int c = s->cap_pending ? 2 * s->cap_pending : 64;
        const float **q = realloc(s->pending, (size_t)c * sizeof *q);
        if (!q) return false;
        s->pending = q;
        s->cap_pending = c;
    }
    s->pending[s->n_pending++] = p;
    return true;
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (const float *const *)a, y = (uintptr_t) * (const float *const *)b;
    return (x > y) - (x < y);
}

void rt_release_pending(ck_session *s) {
    if (!s->n_pending) return;
    qsort(s->pending, (size_t)s->n_pending, sizeof *s->pending, cmp_ptr);
    int k = 0;
    for (int i = 0; i < s->n_owned; i++) {
        const float *p = s->owned[i];
        if (bsearch(&p, s->pending, (size_t)s->n_pending, sizeof *s->pending, cmp_ptr)) {
            free(s->owned[i]);
            s->owned_weight_bytes -= 4 * s->owned_n[i];
            continue;
        }
        s->owned[k] = s->owned[i];
        s->owned_n[k++] = s->owned_n[i];
    }
    s->n_owned = k;
    free(s->pending);
    s->pending = NULL;
    s->n_pending = s->cap_pending = 0;
}

float *rt_owned(ck_session *s, int64_t n) {
    if (n < 0 || n > ((int64_t)1 << 40)) return NULL;
    float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    return rt_adopt(s, p, n) ? p : NULL;
}

static ck_diag *werr(rt_wctx *w, const ck_node *n, ck_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ck_diag *werr(rt_wctx *w, const ck_node *n, ck_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ck_diag *dg =
        ck_diag_vadd(w->d, CK_SEV_ERROR, code, n ? n->name : NULL, n ? n->type : NULL, fmt, ap);
    va_end(ap);
    return dg;
}

/* A relative path that stays inside the model's folder (the importer
 * refuses the others too; checked again because the file is opened here). */
static bool safe_path(const char *p) {
    if (!p || !p[0] || p[0] == '/' || strchr(p, '\\') || strchr(p, ':')) return false;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 2 && s[0] == '.' && s[1] == '.')) return false;
        if (!e) break;
        s = e + 1;
    }
    return true;
}

/* The floats of tensor t, decoded from `bytes` (numel elements of its ONNX
 * type, little-endian) into session memory; a float32 view that is aligned
 * is borrowed as it is (the graph outlives the session). */
static const float *decode(rt_wctx *w, const ck_tensor *t, const uint8_t *bytes, int64_t numel,
                           bool borrow) {
    if (borrow && t->onnx_type == CK_E_FLOAT && (uintptr_t)bytes % _Alignof(float) == 0 &&
        ck_host_little_endian())
        return (const float *)(const void *)bytes;
    float *dst = rt_owned(w->s, numel);
    if (!dst) {
        w->oom = true;
        return NULL;
    }
    ck_decode_f32(t->onnx_type, bytes, numel, false, dst);
    return dst;
}

/* The element count and byte size of t's data; false (after a diagnostic)
 * for a type convkit does not decode. */
static bool data_size(rt_wctx *w, const ck_tensor *t, const ck_node *n, int64_t *numel,
                      int64_t *bytes) {
    if (!ck_elem_decodable(t->onnx_type) || !ck_shape_numel(&t->shape, numel) ||
        !ck_mul(*numel, ck_elem_size(t->onnx_type), bytes)) {
        werr(w, n, CK_UNSUPPORTED,
             "%s: tensor '%s' has ONNX data type %s; convkit reads float, integer and bool "
             "tensors",
             n->name, t->name, ck_elem_name(t->onnx_type));
        return false;
    }
    return true;
}

/* Reads external data of tensor t into session memory. */
static const float *read_external(rt_wctx *w, const ck_tensor *t, const ck_node *n) {
    int64_t numel, want;
    if (!data_size(w, t, n, &numel, &want)) return NULL;
    if (!safe_path(t->ext_path)) {
        werr(w, n, CK_INVALID_CONFIG,
             "%s: tensor '%s' names external data '%s', which is not a relative path inside the "
             "model's folder",
             n->name, t->name, t->ext_path);
        return NULL;
    }
    char *path = ck_sprintf("%s/%s", w->dir, t->ext_path);
    if (!path) return NULL;
    const float *res = NULL;
    unsigned char *raw = NULL;
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (!f) {
        ck_diag *dg = werr(w, n, CK_PARSE_ERROR,
                           "%s: the weights of '%s' are in the external data file %s, which "
                           "cannot be opened: %s",
                           n->name, t->name, path, strerror(errno));
        if (dg)
            ck_diag_note(dg, "ONNX models saved with external data need their data file beside "
                             "the model (the path is relative to the model's folder)");
        w->io = true;
        goto out;
    }
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        werr(w, n, CK_PARSE_ERROR, "%s: the external data %s is not a regular file", n->name, path);
        w->io = true;
        goto out;
    }
    int64_t end = 0;
    if (t->ext_offset < 0 || !ck_add(t->ext_offset, want, &end) || end > (int64_t)sb.st_size) {
        werr(w, n, CK_PARSE_ERROR,
             "%s: tensor '%s' needs bytes %lld to %lld of %s, but the file has only %lld bytes "
             "(truncated)",
             n->name, t->name, (long long)t->ext_offset, (long long)end, path,
             (long long)sb.st_size);
        w->io = true;
        goto out;
    }
    raw = malloc((size_t)(want ? want : 1));
    if (!raw) {
        w->oom = true;
        goto out;
    }
    if (fseeko(f, (off_t)t->ext_offset, SEEK_SET) != 0 ||
        fread(raw, 1, (size_t)want, f) != (size_t)want) {
        werr(w, n, CK_PARSE_ERROR, "%s: cannot read the external data of '%s' from %s", n->name,
             t->name, path);
        w->io = true;
        goto out;
    }
    res = decode(w, t, raw, numel, false);
out:
    free(raw);
    if (f) fclose(f);
    free(path);
    return res;
}

/* Integer shape constants as floats, in session memory. */
static const float *from_i64(rt_wctx *w, const ck_tensor *t) {
    int64_t numel;
    if (!ck_shape_numel(&t->shape, &numel)) return NULL;
    float *f = rt_owned(w->s, numel);
    if (!f) {
        w->oom = true;
        return NULL;
    }
    for (int64_t i = 0; i < numel; i++) f[i] = (float)t->i64[i];
    return f;
}

const uint8_t *rt_tensor_raw_f32(rt_wctx *w, int ti, int64_t want) {
    if (ti < 0 || ti >= w->g->n_tensors) return NULL;
    const ck_tensor *t = &w->g->tensors[ti];
    int64_t numel, bytes;
    if (!ck_host_little_endian() || t->f32 || !t->raw || t->onnx_type != CK_E_FLOAT ||
        !ck_shape_numel(&t->shape, &numel) || numel != want || !ck_mul(numel, 4, &bytes) ||
        bytes != t->raw_len)
        return NULL;
    return t->raw;
}

const float *rt_tensor_data(rt_wctx *w, int ti, const ck_node *n, const char *role) {
    if (ti < 0 || ti >= w->g->n_tensors) {
        werr(w, n, CK_UNSUPPORTED,
             "%s: its %s is computed at run time, not stored in the model; convkit runs layers "
             "whose weights are initializers, Constants or graph inputs",
             n->name, role);
        return NULL;
    }
    const ck_tensor *t = &w->g->tensors[ti];
    if (t->f32) return t->f32;
    if (w->loaded[ti]) return w->loaded[ti];
    int64_t numel, bytes;
    if (t->raw) {
        if (!data_size(w, t, n, &numel, &bytes)) return NULL;
        if (bytes != t->raw_len) {
            werr(w, n, CK_PARSE_ERROR, "%s: tensor '%s' holds %lld bytes; its shape needs %lld",
                 n->name, t->name, (long long)t->raw_len, (long long)bytes);
            return NULL;
        }
        return w->loaded[ti] = decode(w, t, t->raw, numel, true);
    }
    if (t->i64) return w->loaded[ti] = from_i64(w, t);
    if (t->ext_path) return w->loaded[ti] = read_external(w, t, n);
    ck_diag *dg =
        werr(w, n, CK_PARSE_ERROR, "%s: the values of its %s '%s' are not in the model file",
             n->name, role, t->name);
    if (dg) {
        if (t->from_input)
            ck_diag_note(dg, "they are the graph input '%s', given when the model runs", t->name);
        else
            ck_diag_note(dg, "the tensor has dims but no data (or data convkit refused to read)");
    }
    w->io = true;
    return NULL;
}

/* ---- parameters of models without weights ------------------------------ */

float *rt_param(rt_wctx *w, const ck_node *n, const char *param, const ck_shape *fw, int kind,
                double bound) {
    int64_t numel;
    if (!ck_shape_numel(fw, &numel) || numel > ((int64_t)1 << 40)) {
        werr(w, n, CK_LIMIT_EXCEEDED, "%s: the parameter '%s' is too large", n->name, param);
        return NULL;
    }
    float *p = malloc((size_t)(numel ? numel : 1) * sizeof *p);
    if (!p) {
        w->oom = true;
        return NULL;
    }
    const float *user =
        w->opt && w->opt->params ? w->opt->params(w->opt->params_user, n->name, param, fw) : NULL;
    int kw = user || w->g->dialect != CK_DIALECT_KERAS
                 ? -1
                 : ck_graph_keras_weight(w->g, n->name, param);
    if (kw >= 0) { /* the weights of a Keras .h5 / .keras file */
        const ck_tensor *t = &w->g->tensors[kw];
        if (!ck_shape_eq(&t->shape, fw)) {
            char a[160], b[160];
            werr(w, n, CK_INVALID_CONFIG,
                 "%s: the file's weight '%s' is %s, but the layer as configured needs %s", n->name,
                 t->name, ck_shape_str(&t->shape, a, sizeof a), ck_shape_str(fw, b, sizeof b));
            free(p);
            return NULL;
        }
        user = t->f32;
    }
    if (user) {
        memcpy(p, user, (size_t)numel * sizeof *p);
    } else if (kind == 1) {
        for (int64_t i = 0; i < numel; i++) p[i] = (float)bound;
    } else {
        /* one stream per (seed, layer, parameter): independent of layer order */
        uint64_t st =
            (w->opt ? w->opt->seed : 0) ^ rt_hash(n->name) * 0x9E3779B97F4A7C15ull ^ rt_hash(param);
        for (int64_t i = 0; i < numel; i++)
            p[i] = (float)((2.0 * rt_rand_uniform(&st) - 1.0) * bound);
    }
    return p;
}
