/* ONNX reader: ModelProto bytes -> ck_graph.
 *
 * Parsing uses the protobuf-c bindings the build generates from Debian's
 * onnx.proto (build/gen/onnx/onnx.pb-c.h). The reader then
 *   1. turns initializers into tensors (dims always; float32/float64/float16
 *      data as f32, integer data as i64; external data only recorded),
 *   2. declares the graph inputs that are not initializers (a dim_param is a
 *      symbol: stored as 0 with a warning; --input fills it),
 *   3. adds the nodes in topological order: Constant nodes and Identity of a
 *      constant fold into constant values; older opsets' attribute forms of
 *      axes/pads/scales/starts become constant inputs (the newest opset's
 *      form); weight inputs of Conv/Gemm/BatchNormalization/... are passed
 *      as tensor indices, every other input as a value,
 *   4. marks the graph outputs.
 * Every problem is a diagnostic naming the node and the value; the reader
 * never prints, exits or aborts. Weights kept as external data are not
 * read here: checking needs only dims.
 */
#include "import/import.h"
#include "ops/onnx_shape_ops.h"
#include "ops/ops.h"

#include "onnx/onnx.pb-c.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define CK_ONNX_MAX_INT_DATA 4096 /* integer tensors larger than this keep dims only */

enum {
    OT_FLOAT = 1,
    OT_UINT8 = 2,
    OT_INT8 = 3,
    OT_UINT16 = 4,
    OT_INT16 = 5,
    OT_INT32 = 6,
    OT_INT64 = 7,
    OT_STRING = 8,
    OT_BOOL = 9,
    OT_FLOAT16 = 10,
    OT_DOUBLE = 11,
    OT_UINT32 = 12,
    OT_UINT64 = 13,
    OT_COMPLEX64 = 14,
    OT_COMPLEX128 = 15,
    OT_BFLOAT16 = 16,
};

static const char *onnx_type_name(int t) {
    static const char *const n[] = {"UNDEFINED",  "FLOAT",   "UINT8",  "INT8",   "UINT16",
                                    "INT16",      "INT32",   "INT64",  "STRING", "BOOL",
                                    "FLOAT16",    "DOUBLE",  "UINT32", "UINT64", "COMPLEX64",
                                    "COMPLEX128", "BFLOAT16"};
    return (t >= 0 && t < (int)(sizeof n / sizeof *n)) ? n[t] : "unknown";
}

static ck_dtype map_dtype(int t) {
    switch (t) {
    case OT_FLOAT:
        return CK_F32;
    case OT_INT64:
        return CK_I64;
    case OT_INT32:
        return CK_I32;
    case OT_DOUBLE:
        return CK_F64;
    case OT_UINT8:
        return CK_U8;
    case OT_BOOL:
        return CK_BOOL;
    default:
        return CK_OTHER;
    }
}

/* Bytes per element of the fixed-width types, 0 for the others. */
static int elem_size(int t) {
    switch (t) {
    case OT_UINT8:
    case OT_INT8:
    case OT_BOOL:
        return 1;
    case OT_UINT16:
    case OT_INT16:
    case OT_FLOAT16:
    case OT_BFLOAT16:
        return 2;
    case OT_FLOAT:
    case OT_INT32:
    case OT_UINT32:
        return 4;
    case OT_INT64:
    case OT_UINT64:
    case OT_DOUBLE:
    case OT_COMPLEX64:
        return 8;
    case OT_COMPLEX128:
        return 16;
    default:
        return 0;
    }
}

static bool is_int_type(int t) {
    return t == OT_UINT8 || t == OT_INT8 || t == OT_UINT16 || t == OT_INT16 || t == OT_INT32 ||
           t == OT_INT64 || t == OT_UINT32 || t == OT_UINT64 || t == OT_BOOL;
}

/* ---- a string -> int hash map (value names, node names) ----------------- */

typedef struct smap {
    size_t cap, n;
    const char **keys; /* borrowed */
    int *vals;
} smap;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void smap_free(smap *m) {
    free(m->keys);
    free(m->vals);
    *m = (smap){0};
}

static int smap_get(const smap *m, const char *k) {
    if (!m->cap || !k) return -1;
    for (size_t i = hash_str(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) return -1;
        if (strcmp(m->keys[i], k) == 0) return m->vals[i];
    }
}

/* Inserts or replaces; false on OOM. */
static bool smap_put(smap *m, const char *k, int v) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64;
        const char **nk = calloc(nc, sizeof *nk);
        int *nv = calloc(nc, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i]) continue;
            size_t j = hash_str(m->keys[i]) & (nc - 1);
            while (nk[j]) j = (j + 1) & (nc - 1);
            nk[j] = m->keys[i];
            nv[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = nk;
        m->vals = nv;
        m->cap = nc;
    }
    size_t i = hash_str(k) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k) != 0) i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) m->n++;
    m->keys[i] = k;
    m->vals[i] = v;
    return true;
}

/* ---- the reader's state ------------------------------------------------- */

typedef struct rd {
    ck_graph *g;
    ck_diags *d;
    const char *path;
    int64_t opset;
    smap vals;    /* value name -> value index in g */
    smap names;   /* node names used */
    smap dropped; /* outputs convkit does not compute -> node index */
    int absent;   /* value index of the CK_ONNX_ABSENT placeholder, -1 until needed */
    char **owned; /* strings kept alive for smap keys */
    int n_owned, cap_owned;
    bool oom;
} rd;

static const char *keep(rd *r, char *s) {
    if (!s) {
        r->oom = true;
        return NULL;
    }
    if (r->n_owned == r->cap_owned) {
        int nc = r->cap_owned ? r->cap_owned * 2 : 64;
        char **p = realloc(r->owned, (size_t)nc * sizeof *p);
        if (!p) {
            free(s);
            r->oom = true;
            return NULL;
        }
        r->owned = p;
        r->cap_owned = nc;
    }
    r->owned[r->n_owned++] = s;
    return s;
}

static ck_diag *err(rd *r, ck_code code, const char *layer, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static ck_diag *err(rd *r, ck_code code, const char *layer, const char *op, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ck_diag *dg = ck_diag_vadd(r->d, CK_SEV_ERROR, code, layer, op, fmt, ap);
    va_end(ap);
    if (dg && r->path && !dg->file) dg->file = ck_strdup(r->path);
    return dg;
}

/* Registers value v under its own name (the graph owns the string). */
static bool reg_val(rd *r, int v) {
    if (v < 0) return false;
    if (!smap_put(&r->vals, r->g->vals[v].name, v)) {
        r->oom = true;
        return false;
    }
    return true;
}

/* ---- protobuf wire-format scan, only to say where a bad file breaks ----- */

static bool varint(const uint8_t *p, size_t n, size_t *i, uint64_t *out) {
    uint64_t v = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (*i >= n) return false;
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Expected wire type of the known fields of ModelProto (m) and GraphProto (g),
 * -1 for unknown fields. */
static int model_wt(uint64_t f) {
    switch (f) {
    case 1:
    case 5:
        return 0;
    case 2:
    case 3:
    case 4:
    case 6:
    case 7:
    case 8:
    case 14:
    case 20:
    case 25:
        return 2;
    default:
        return -1;
    }
}
static int graph_wt(uint64_t f) {
    switch (f) {
    case 1:
    case 2:
    case 5:
    case 10:
    case 11:
    case 12:
    case 13:
    case 14:
    case 15:
        return 2;
    default:
        return -1;
    }
}

/* Returns the offset of the first malformed byte of the message at
 * p[0..n), or -1. `what` receives a short description. */
static long wire_scan(const uint8_t *p, size_t n, size_t base, int (*wt_of)(uint64_t), int depth,
                      char *what, size_t wn) {
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        uint64_t key, len;
        if (!varint(p, n, &i, &key)) {
            snprintf(what, wn, "a field key runs past the end of the data");
            return (long)(base + start);
        }
        uint64_t field = key >> 3;
        int wt = (int)(key & 7);
        if (field == 0) {
            snprintf(what, wn, "field number 0 is not valid");
            return (long)(base + start);
        }
        int want = wt_of ? wt_of(field) : -1;
        if (want >= 0 && want != wt) {
            snprintf(what, wn, "field %llu has wire type %d where the ONNX schema says %d",
                     (unsigned long long)field, wt, want);
            return (long)(base + start);
        }
        switch (wt) {
        case 0:
            if (!varint(p, n, &i, &len)) {
                snprintf(what, wn, "the integer of field %llu is truncated",
                         (unsigned long long)field);
                return (long)(base + start);
            }
            break;
        case 1:
        case 5: {
            size_t w = wt == 1 ? 8 : 4;
            if (n - i < w) {
                snprintf(what, wn, "field %llu is truncated", (unsigned long long)field);
                return (long)(base + start);
            }
            i += w;
            break;
        }
        case 2:
            if (!varint(p, n, &i, &len) || len > n - i) {
                snprintf(what, wn,
                         "field %llu claims more bytes than the data holds (truncated file?)",
                         (unsigned long long)field);
                return (long)(base + start);
            }
            if (depth == 0 && field == 7) {
                long at = wire_scan(p + i, (size_t)len, base + i, graph_wt, 1, what, wn);
                if (at >= 0) return at;
            }
            i += (size_t)len;
            break;
        default:
            snprintf(what, wn, "wire type %d of field %llu is not valid here", wt,
                     (unsigned long long)field);
            return (long)(base + start);
        }
    }
    return -1;
}

/* ---- tensors ------------------------------------------------------------ */

static float half_to_float(uint16_t h) {
    int s = (h >> 15) & 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 0x400), e - 25);
    return s ? -v : v;
}

static uint64_t rd_le(const uint8_t *p, int w) {
    uint64_t v = 0;
    for (int i = w - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int64_t int_elem(const uint8_t *p, int t) {
    switch (t) {
    case OT_UINT8:
    case OT_BOOL:
        return p[0];
    case OT_INT8:
        return (int8_t)p[0];
    case OT_UINT16:
        return (uint16_t)rd_le(p, 2);
    case OT_INT16:
        return (int16_t)rd_le(p, 2);
    case OT_INT32:
        return (int32_t)rd_le(p, 4);
    case OT_UINT32:
        return (uint32_t)rd_le(p, 4);
    default:
        return (int64_t)rd_le(p, 8);
    }
}

/* True when `loc` is a plain relative path that stays beside the model. */
static bool safe_location(const char *loc) {
    if (!loc || !loc[0] || loc[0] == '/' || loc[0] == '\\') return false;
    if (strchr(loc, ':') || strchr(loc, '\\'))
        return false; /* drive letters, URLs, Windows paths */
    const char *p = loc;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if ((n == 2 && p[0] == '.' && p[1] == '.') || n == 0) return false;
        if (!e) break;
        p = e + 1;
    }
    return true;
}

static bool parse_i64(const char *s, int64_t *out) {
    if (!s || !*s) return false;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        if (!ck_mul(v, 10, &v) || !ck_add(v, *p - '0', &v)) return false;
    }
    *out = v;
    return true;
}

/* Converts a TensorProto to a ck_tensor. `owner` names the initializer or
 * node in diagnostics. Returns false (with a diagnostic) on malformed data. */
static bool read_tensor(rd *r, const Onnx__TensorProto *tp, const char *name, const char *owner,
                        const char *op, ck_tensor *t) {
    memset(t, 0, sizeof *t);
    int dt = tp->has_data_type ? tp->data_type : 0;
    t->onnx_type = dt;
    t->dtype = map_dtype(dt);
    if (tp->n_dims > CK_MAX_RANK) {
        err(r, CK_LIMIT_EXCEEDED, owner, op,
            "tensor '%s' has %zu dimensions; convkit supports at most %d", name, tp->n_dims,
            CK_MAX_RANK);
        return false;
    }
    t->shape.rank = (int)tp->n_dims;
    int64_t numel = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0) {
            err(r, CK_PARSE_ERROR, owner, op,
                "tensor '%s' has a negative dimension %lld (axis %zu)", name,
                (long long)tp->dims[i], i);
            return false;
        }
        t->shape.d[i] = tp->dims[i];
        if (!ck_mul(numel, tp->dims[i], &numel)) {
            err(r, CK_LIMIT_EXCEEDED, owner, op, "tensor '%s': the element count overflows", name);
            return false;
        }
    }
    t->name = ck_strdup(name);
    if (!t->name) {
        r->oom = true;
        return false;
    }
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        const char *loc = NULL;
        int64_t off = 0, len = -1;
        for (size_t i = 0; i < tp->n_external_data; i++) {
            const Onnx__StringStringEntryProto *e = tp->external_data[i];
            if (!e || !e->key) continue;
            if (strcmp(e->key, "location") == 0)
                loc = e->value;
            else if (strcmp(e->key, "offset") == 0 && !parse_i64(e->value, &off)) {
                err(r, CK_PARSE_ERROR, owner, op,
                    "tensor '%s': external data offset '%s' is not a byte count", name,
                    e->value ? e->value : "");
                return false;
            } else if (strcmp(e->key, "length") == 0 && !parse_i64(e->value, &len)) {
                err(r, CK_PARSE_ERROR, owner, op,
                    "tensor '%s': external data length '%s' is not a byte count", name,
                    e->value ? e->value : "");
                return false;
            }
        }
        if (!loc || !loc[0]) {
            err(r, CK_PARSE_ERROR, owner, op,
                "tensor '%s' is stored as external data but names no location", name);
            return false;
        }
        if (!safe_location(loc)) {
            /* Shapes need only dims: keep checking, but never read the file. */
            ck_graph_warn(
                r->g, CK_INVALID_CONFIG, owner,
                "tensor '%s': external data location '%s' is not a relative path beside the model "
                "(absolute paths and '..' are refused); its values will not be read",
                name, loc);
            return true;
        }
        int es = elem_size(dt);
        int64_t want;
        if (es && len >= 0 && ck_mul(numel, es, &want) && want != len) {
            err(r, CK_PARSE_ERROR, owner, op,
                "tensor '%s' of %lld %s values needs %lld bytes, but its external data length is "
                "%lld",
                name, (long long)numel, onnx_type_name(dt), (long long)want, (long long)len);
            return false;
        }
        int64_t bytes = -1;
        if (len < 0 && es && !ck_mul(numel, es, &bytes)) {
            err(r, CK_PARSE_ERROR, owner, op,
                "tensor '%s' of %lld %s values needs more bytes than a file can hold", name,
                (long long)numel, onnx_type_name(dt));
            return false;
        }
        t->ext_path = ck_strdup(loc);
        t->ext_offset = off;
        t->ext_length = len >= 0 ? len : bytes;
        if (!t->ext_path) r->oom = true;
        return !r->oom;
    }

    /* inline data: raw_data or the typed field */
    size_t have = 0;
    const char *field = NULL;
    if (tp->has_raw_data && tp->raw_data.len > 0) {
        int es = elem_size(dt);
        if (!es) {
            err(r, CK_PARSE_ERROR, owner, op, "tensor '%s' of type %s cannot use raw_data", name,
                onnx_type_name(dt));
            return false;
        }
        int64_t want;
        if (!ck_mul(numel, es, &want) || (uint64_t)want != tp->raw_data.len) {
            err(r, CK_PARSE_ERROR, owner, op,
                "tensor '%s' of shape %lld elements of %s needs %lld bytes of raw_data, but has "
                "%zu",
                name, (long long)numel, onnx_type_name(dt), (long long)want, tp->raw_data.len);
            return false;
        }
        const uint8_t *p = tp->raw_data.data;
        if (dt == OT_FLOAT || dt == OT_DOUBLE || dt == OT_FLOAT16) {
            t->f32 = malloc((size_t)(numel ? numel : 1) * sizeof *t->f32);
            if (!t->f32) {
                r->oom = true;
                return false;
            }
            for (int64_t i = 0; i < numel; i++) {
                if (dt == OT_FLOAT) {
                    uint32_t u = (uint32_t)rd_le(p + 4 * i, 4);
                    memcpy(&t->f32[i], &u, 4);
                } else if (dt == OT_DOUBLE) {
                    uint64_t u = rd_le(p + 8 * i, 8);
                    double dv;
                    memcpy(&dv, &u, 8);
                    t->f32[i] = (float)dv;
                } else {
                    t->f32[i] = half_to_float((uint16_t)rd_le(p + 2 * i, 2));
                }
            }
        } else if (is_int_type(dt) && numel <= CK_ONNX_MAX_INT_DATA) {
            t->i64 = malloc((size_t)(numel ? numel : 1) * sizeof *t->i64);
            if (!t->i64) {
                r->oom = true;
                return false;
            }
            for (int64_t i = 0; i < numel; i++) t->i64[i] = int_elem(p + (size_t)es * i, dt);
        }
        return true;
    }
    if (tp->n_float_data)
        have = tp->n_float_data, field = "float_data";
    else if (tp->n_int32_data)
        have = tp->n_int32_data, field = "int32_data";
    else if (tp->n_int64_data)
        have = tp->n_int64_data, field = "int64_data";
    else if (tp->n_double_data)
        have = tp->n_double_data, field = "double_data";
    else if (tp->n_uint64_data)
        have = tp->n_uint64_data, field = "uint64_data";
    else if (tp->n_string_data)
        have = tp->n_string_data, field = "string_data";
    if (!field) return true; /* dims only: the values are not in this file */
    size_t want = (size_t)numel;
    if (dt == OT_COMPLEX64 || dt == OT_COMPLEX128) want *= 2;
    if (have != want) {
        err(r, CK_PARSE_ERROR, owner, op,
            "tensor '%s' has %lld elements but its %s holds %zu values", name, (long long)numel,
            field, have);
        return false;
    }
    if (tp->n_float_data && dt == OT_FLOAT) {
        t->f32 = malloc((size_t)(numel ? numel : 1) * sizeof *t->f32);
        if (!t->f32) {
            r->oom = true;
            return false;
        }
        memcpy(t->f32, tp->float_data, (size_t)numel * sizeof *t->f32);
    } else if (tp->n_double_data && dt == OT_DOUBLE) {
        t->f32 = malloc((size_t)(numel ? numel : 1) * sizeof *t->f32);
        if (!t->f32) {
            r->oom = true;
            return false;
        }
        for (int64_t i = 0; i < numel; i++) t->f32[i] = (float)tp->double_data[i];
    } else if (tp->n_int32_data && dt == OT_FLOAT16) {
        t->f32 = malloc((size_t)(numel ? numel : 1) * sizeof *t->f32);
        if (!t->f32) {
            r->oom = true;
            return false;
        }
        for (int64_t i = 0; i < numel; i++) t->f32[i] = half_to_float((uint16_t)tp->int32_data[i]);
    } else if (is_int_type(dt) && numel <= CK_ONNX_MAX_INT_DATA &&
               (tp->n_int32_data || tp->n_int64_data || tp->n_uint64_data)) {
        t->i64 = malloc((size_t)(numel ? numel : 1) * sizeof *t->i64);
        if (!t->i64) {
            r->oom = true;
            return false;
        }
        for (int64_t i = 0; i < numel; i++)
            t->i64[i] = tp->n_int64_data   ? tp->int64_data[i]
                        : tp->n_int32_data ? tp->int32_data[i]
                                           : (int64_t)tp->uint64_data[i];
    }
    return true;
}

/* Adds tensor t as a constant value named `name`. */
static int add_const(rd *r, ck_tensor *t, const char *name) {
    int ti = ck_graph_add_tensor(r->g, t);
    if (ti < 0) {
        r->oom = true;
        return -1;
    }
    int v = ck_graph_add_const(r->g, name, ti);
    if (v < 0 || !reg_val(r, v)) {
        r->oom = true;
        return -1;
    }
    return v;
}

/* A constant 1-D tensor made from an attribute (opset-old forms). */
static int synth_const(rd *r, const char *name, const int64_t *iv, const float *fv, size_t n) {
    ck_tensor t = {0};
    t.name = ck_strdup(name);
    t.shape.rank = 1;
    t.shape.d[0] = (int64_t)n;
    if (iv) {
        t.dtype = CK_I64;
        t.onnx_type = OT_INT64;
        t.i64 = malloc((n ? n : 1) * sizeof *t.i64);
        if (t.i64 && n) memcpy(t.i64, iv, n * sizeof *t.i64);
    } else {
        t.dtype = CK_F32;
        t.onnx_type = OT_FLOAT;
        t.f32 = malloc((n ? n : 1) * sizeof *t.f32);
        if (t.f32 && n) memcpy(t.f32, fv, n * sizeof *t.f32);
    }
    if (!t.name || (!t.i64 && !t.f32)) {
        ck_tensor_free(&t);
        r->oom = true;
        return -1;
    }
    return add_const(r, &t, name);
}

static int absent_val(rd *r) {
    if (r->absent >= 0) return r->absent;
    ck_tensor t = {0};
    t.name = ck_strdup(CK_ONNX_ABSENT);
    t.dtype = CK_OTHER;
    t.shape.rank = 1;
    t.shape.d[0] = 0;
    if (!t.name) {
        r->oom = true;
        return -1;
    }
    r->absent = add_const(r, &t, CK_ONNX_ABSENT);
    return r->absent;
}

/* ---- graph inputs --------------------------------------------------------- */

static bool read_input(rd *r, const Onnx__ValueInfoProto *vi) {
    const char *name = vi->name;
    ck_shape s = {0};
    ck_str syms = {0};
    const Onnx__TypeProto *tp = vi->type;
    if (tp && tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
        tp->value_case != ONNX__TYPE_PROTO__VALUE__NOT_SET) {
        ck_graph_warn(r->g, CK_UNSUPPORTED, name,
                      "input '%s' is not a tensor (a sequence, map or optional); convkit treats it "
                      "as a tensor "
                      "of unknown shape",
                      name);
    } else if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type &&
               tp->tensor_type->shape) {
        const Onnx__TensorShapeProto *sh = tp->tensor_type->shape;
        if (sh->n_dim > CK_MAX_RANK) {
            err(r, CK_LIMIT_EXCEEDED, name, "input",
                "input '%s' has %zu dimensions; convkit supports at most %d", name, sh->n_dim,
                CK_MAX_RANK);
            return false;
        }
        s.rank = (int)sh->n_dim;
        for (size_t i = 0; i < sh->n_dim; i++) {
            const Onnx__TensorShapeProto__Dimension *dm = sh->dim[i];
            if (dm && dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
                if (dm->dim_value < 0) {
                    err(r, CK_PARSE_ERROR, name, "input",
                        "input '%s' declares a negative dimension %lld (axis %zu)", name,
                        (long long)dm->dim_value, i);
                    return false;
                }
                s.d[i] = dm->dim_value;
            } else {
                s.d[i] = 0;
                const char *p =
                    (dm && dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                     dm->dim_param && dm->dim_param[0])
                        ? dm->dim_param
                        : "?";
                ck_str_addf(&syms, "%s%s (axis %zu)", syms.n ? ", " : "", p, i);
            }
        }
    }
    if (syms.n)
        ck_graph_warn(
            r->g, CK_NOTE, name,
            "input '%s' has symbolic dimensions %s; they count as 0 until --input gives the shape",
            name, syms.p);
    ck_str_free(&syms);
    int v = ck_graph_add_input(r->g, name, &s, false);
    if (v < 0 || !reg_val(r, v)) {
        r->oom = true;
        return false;
    }
    return true;
}

/* ---- attributes --------------------------------------------------------- */

static char *bytes_str(const ProtobufCBinaryData *b) {
    return ck_strndup(b->data ? (const char *)b->data : "", b->data ? b->len : 0);
}

/* Converts one attribute into a keyword value. Returns false when it has
 * no scalar/list form (graphs, type protos): such attributes are left out. */
static bool attr_value(const Onnx__AttributeProto *at, ck_value *v, bool *oom) {
    memset(v, 0, sizeof *v);
    int type = at->has_type ? (int)at->type : 0;
    if (!type) { /* IR v1: guess from the field in use */
        if (at->has_f)
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        else if (at->has_i)
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        else if (at->has_s)
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
        else if (at->t)
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
        else if (at->n_floats)
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
        else if (at->n_ints)
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        else if (at->n_strings)
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    }
    switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        v->kind = CK_V_FLOAT;
        v->f = at->f;
        return true;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        v->kind = CK_V_INT;
        v->i = at->i;
        return true;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        v->kind = CK_V_STR;
        v->s = bytes_str(&at->s);
        if (!v->s) *oom = true;
        return v->s != NULL;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        /* a one-element tensor (ConstantOfShape value) reads as a scalar */
        const Onnx__TensorProto *t = at->t;
        if (!t) return false;
        int dt = t->has_data_type ? t->data_type : 0;
        if (t->n_float_data == 1)
            v->kind = CK_V_FLOAT, v->f = t->float_data[0];
        else if (t->n_double_data == 1)
            v->kind = CK_V_FLOAT, v->f = t->double_data[0];
        else if (t->n_int64_data == 1)
            v->kind = CK_V_INT, v->i = t->int64_data[0];
        else if (t->n_int32_data == 1 && dt != OT_FLOAT16)
            v->kind = CK_V_INT, v->i = t->int32_data[0];
        else if (t->has_raw_data && elem_size(dt) && t->raw_data.len == (size_t)elem_size(dt)) {
            const uint8_t *p = t->raw_data.data;
            if (dt == OT_FLOAT) {
                uint32_t u = (uint32_t)rd_le(p, 4);
                float f;
                memcpy(&f, &u, 4);
                v->kind = CK_V_FLOAT, v->f = f;
            } else if (dt == OT_DOUBLE) {
                uint64_t u = rd_le(p, 8);
                double f;
                memcpy(&f, &u, 8);
                v->kind = CK_V_FLOAT, v->f = f;
            } else if (dt == OT_FLOAT16) {
                v->kind = CK_V_FLOAT, v->f = half_to_float((uint16_t)rd_le(p, 2));
            } else if (is_int_type(dt)) {
                v->kind = CK_V_INT, v->i = int_elem(p, dt);
            } else
                return false;
        } else
            return false;
        /* an integer tensor holding float data: converted only when it fits
         * (NaN and |x| >= 2^63 stay floats, which the layer then refuses) */
        if (v->kind == CK_V_FLOAT && is_int_type(dt) && v->f >= -9223372036854775808.0 &&
            v->f < 9223372036854775808.0)
            v->kind = CK_V_INT, v->i = (int64_t)v->f;
        return true;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: {
        size_t n = type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS ? at->n_floats
                   : type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS ? at->n_ints
                                                                         : at->n_strings;
        if (n > INT_MAX / 2) return false;
        v->kind = CK_V_LIST;
        v->items = calloc(n ? n : 1, sizeof *v->items);
        if (!v->items) {
            *oom = true;
            return false;
        }
        v->n = (int)n;
        for (size_t i = 0; i < n; i++) {
            ck_value *it = &v->items[i];
            if (type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS)
                it->kind = CK_V_FLOAT, it->f = at->floats[i];
            else if (type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)
                it->kind = CK_V_INT, it->i = at->ints[i];
            else {
                it->kind = CK_V_STR;
                it->s = bytes_str(&at->strings[i]);
                if (!it->s) {
                    *oom = true;
                    ck_value_free(v);
                    return false;
                }
            }
        }
        return true;
    }
    default:
        return false;
    }
}

/* ---- per-op import policy ------------------------------------------------ */

/* Ops whose inputs from `first` on are weights (passed as tensor indices).
 * `must` = the first weight must be a constant for shapes to be known. */
typedef struct weight_policy {
    const char *op;
    int first;
    bool must;
} weight_policy;

static const weight_policy weight_ops[] = {
    {"Conv", 1, true},
    {"ConvTranspose", 1, true},
    {"Gemm", 1, true},
    {"BatchNormalization", 1, false},
    {"InstanceNormalization", 1, false},
    {"LayerNormalization", 1, false},
    {"GroupNormalization", 1, false},
    {"PRelu", 1, false},
    {"Clip", 1, false},
    {NULL, 0, false},
};

static const weight_policy *find_weight_policy(const char *op) {
    for (const weight_policy *p = weight_ops; p->op; p++)
        if (strcmp(p->op, op) == 0) return p;
    return NULL;
}

/* Attribute forms of older opsets that become constant inputs: the node's
 * attribute `attr` moves to input position `pos`. */
typedef struct attr_input {
    const char *op, *attr;
    int pos;
    bool floats;
} attr_input;

static const attr_input attr_inputs[] = {
    {"Squeeze", "axes", 1, false},
    {"Unsqueeze", "axes", 1, false},
    {"Slice", "starts", 1, false},
    {"Slice", "ends", 2, false},
    {"Slice", "axes", 3, false},
    {"Split", "split", 1, false},
    {"Pad", "pads", 1, false},
    {"Upsample", "scales", 1, true},
    {"Reshape", "shape", 1, false},
    {"ReduceMean", "axes", 1, false},
    {"ReduceMax", "axes", 1, false},
    {"ReduceMin", "axes", 1, false},
    {"ReduceSum", "axes", 1, false},
    {"ReduceProd", "axes", 1, false},
    {"ReduceL1", "axes", 1, false},
    {"ReduceL2", "axes", 1, false},
    {"ReduceLogSum", "axes", 1, false},
    {"ReduceLogSumExp", "axes", 1, false},
    {"ReduceSumSquare", "axes", 1, false},
    {NULL, NULL, 0, false},
};

static bool is_attr_input(const char *op, const char *attr) {
    for (const attr_input *a = attr_inputs; a->op; a++)
        if (strcmp(a->op, op) == 0 && strcmp(a->attr, attr) == 0) return true;
    return false;
}

/* Ops that convkit models with one output although ONNX declares more
 * (training statistics, masks, indices). */
static bool single_output(const char *op) {
    return strcmp(op, "Dropout") == 0 || strcmp(op, "BatchNormalization") == 0 ||
           strcmp(op, "MaxPool") == 0 || strcmp(op, "LayerNormalization") == 0;
}

static bool std_domain(const char *d) {
    return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

/* ---- Constant nodes fold into constants ---------------------------------- */

static bool fold_constant(rd *r, const Onnx__NodeProto *n, const char *name) {
    const char *out = n->output[0];
    ck_tensor t = {0};
    const Onnx__AttributeProto *at = NULL;
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i] && n->attribute[i]->name &&
            strncmp(n->attribute[i]->name, "value", 5) == 0)
            at = n->attribute[i];
    if (!at) {
        err(r, CK_INVALID_CONFIG, name, "Constant", "Constant node %s has no value attribute",
            name);
        return false;
    }
    const char *an = at->name;
    if (strcmp(an, "value") == 0 && at->t) {
        if (!read_tensor(r, at->t, out, name, "Constant", &t)) {
            ck_tensor_free(&t);
            return false;
        }
    } else if (strcmp(an, "value_float") == 0 || strcmp(an, "value_floats") == 0) {
        bool one = strcmp(an, "value_float") == 0;
        size_t cnt = one ? 1 : at->n_floats;
        t.name = ck_strdup(out);
        t.dtype = CK_F32;
        t.onnx_type = OT_FLOAT;
        t.shape.rank = one ? 0 : 1;
        t.shape.d[0] = (int64_t)cnt;
        t.f32 = malloc((cnt ? cnt : 1) * sizeof *t.f32);
        if (!t.name || !t.f32) {
            ck_tensor_free(&t);
            r->oom = true;
            return false;
        }
        if (one)
            t.f32[0] = at->f;
        else if (cnt)
            memcpy(t.f32, at->floats, cnt * sizeof *t.f32);
    } else if (strcmp(an, "value_int") == 0 || strcmp(an, "value_ints") == 0) {
        bool one = strcmp(an, "value_int") == 0;
        size_t cnt = one ? 1 : at->n_ints;
        t.name = ck_strdup(out);
        t.dtype = CK_I64;
        t.onnx_type = OT_INT64;
        t.shape.rank = one ? 0 : 1;
        t.shape.d[0] = (int64_t)cnt;
        t.i64 = malloc((cnt ? cnt : 1) * sizeof *t.i64);
        if (!t.name || !t.i64) {
            ck_tensor_free(&t);
            r->oom = true;
            return false;
        }
        if (one)
            t.i64[0] = at->i;
        else if (cnt)
            memcpy(t.i64, at->ints, cnt * sizeof *t.i64);
    } else {
        /* value_string(s), sparse_value: keep a shapeless placeholder */
        t.name = ck_strdup(out);
        t.dtype = CK_OTHER;
        if (!t.name) {
            r->oom = true;
            return false;
        }
        ck_graph_warn(r->g, CK_UNSUPPORTED, name,
                      "Constant %s uses %s, which convkit does not read", name, an);
    }
    return add_const(r, &t, out) >= 0;
}

/* ---- nodes ---------------------------------------------------------------- */

/* Unique layer name: node.name, else "<op_type>_<index>". */
static const char *node_name(rd *r, const Onnx__NodeProto *n, size_t idx) {
    char *nm = (n->name && n->name[0])
                   ? ck_strdup(n->name)
                   : ck_sprintf("%s_%zu", n->op_type ? n->op_type : "node", idx);
    if (!nm) {
        r->oom = true;
        return NULL;
    }
    for (int k = 1; smap_get(&r->names, nm) >= 0; k++) {
        char *alt = ck_sprintf("%s_%d", nm, k);
        free(nm);
        if (!(nm = alt)) {
            r->oom = true;
            return NULL;
        }
    }
    const char *kept = keep(r, nm);
    if (kept && !smap_put(&r->names, kept, 1)) r->oom = true;
    return kept;
}

/* Checks that every named input is defined; reports the first that is not. */
static bool inputs_defined(rd *r, const Onnx__NodeProto *n, const char *name, const char *type) {
    for (size_t i = 0; i < n->n_input; i++) {
        const char *in = n->input[i];
        if (!in || !in[0] || smap_get(&r->vals, in) >= 0) continue;
        int dn = smap_get(&r->dropped, in);
        if (dn >= 0)
            err(r, CK_UNSUPPORTED, name, type,
                "%s reads '%s', an extra output of %s that convkit does not compute", name, in,
                r->g->nodes[dn].name);
        else
            err(r, CK_INVALID_CONFIG, name, type,
                "%s (%s) reads '%s' (input %zu), which no node, graph input or initializer defines",
                name, type, in, i);
        return false;
    }
    return true;
}

static bool add_node(rd *r, const Onnx__NodeProto *n, size_t idx) {
    const char *op = n->op_type ? n->op_type : "";
    bool std = std_domain(n->domain);
    char *typebuf = NULL;
    const char *type = op;
    if (!std) {
        typebuf = ck_sprintf("%s.%s", n->domain, op);
        if (!typebuf) {
            r->oom = true;
            return false;
        }
        type = typebuf;
    }
    const char *name = node_name(r, n, idx);
    if (!name) {
        free(typebuf);
        return false;
    }
    bool ok = false;
    ck_args args = {0};
    const char **ins = NULL, **outs = NULL;
    int *params = NULL;
    char **synth_names = NULL;
    int n_synth = 0;

    if (!inputs_defined(r, n, name, type)) goto done;
    for (size_t i = 0; i < n->n_output; i++) {
        const char *o = n->output[i];
        if (o && o[0] && smap_get(&r->vals, o) >= 0) {
            err(r, CK_INVALID_CONFIG, name, type, "%s (%s) writes '%s', which is already defined",
                name, type, o);
            goto done;
        }
    }

    if (std && strcmp(op, "Constant") == 0 && n->n_output >= 1 && n->output[0] && n->output[0][0]) {
        ok = fold_constant(r, n, name);
        goto done;
    }
    if (std && strcmp(op, "Identity") == 0 && n->n_input == 1 && n->n_output == 1 && n->output[0] &&
        n->output[0][0]) {
        int v = smap_get(&r->vals, n->input[0]);
        if (v >= 0 && r->g->vals[v].tensor >= 0) {
            int a = ck_graph_add_const(r->g, n->output[0], r->g->vals[v].tensor);
            ok = a >= 0 && reg_val(r, a);
            if (!ok) r->oom = true;
            goto done;
        }
    }

    /* attributes -> keyword arguments; older opsets' attribute inputs -> constants */
    size_t n_in = n->n_input;
    size_t cap_in = n_in + 4;
    ins = calloc(cap_in, sizeof *ins);
    synth_names = calloc(4, sizeof *synth_names);
    if (!ins || !synth_names) {
        r->oom = true;
        goto done;
    }
    for (size_t i = 0; i < n_in; i++) ins[i] = n->input[i];
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *at = n->attribute[i];
        if (!at || !at->name) continue;
        if (at->ref_attr_name && at->ref_attr_name[0]) continue;
        if (std && is_attr_input(op, at->name)) {
            const attr_input *ai = attr_inputs;
            while (!(strcmp(ai->op, op) == 0 && strcmp(ai->attr, at->name) == 0)) ai++;
            if ((size_t)ai->pos < n_in && ins[ai->pos] && ins[ai->pos][0])
                continue; /* input wins */
            if (n_synth == 4) continue;
            char *sn = ck_sprintf("%s:%s", name, at->name);
            if (!sn) {
                r->oom = true;
                goto done;
            }
            synth_names[n_synth++] = sn;
            int v;
            if (ai->floats)
                v = synth_const(r, sn, NULL, at->floats, at->n_floats);
            else
                v = synth_const(r, sn, at->ints, NULL, at->n_ints);
            if (v < 0) goto done;
            while (n_in <= (size_t)ai->pos) ins[n_in++] = NULL;
            ins[ai->pos] = r->g->vals[v].name;
            continue;
        }
        ck_value v;
        bool oom = false;
        if (!attr_value(at, &v, &oom)) {
            if (oom) {
                r->oom = true;
                goto done;
            }
            continue;
        }
        if (!ck_args_push_kw(&args, at->name, v)) {
            r->oom = true;
            goto done;
        }
    }
    if (std && (strcmp(op, "Softmax") == 0 || strcmp(op, "LogSoftmax") == 0 ||
                strcmp(op, "Hardmax") == 0)) {
        ck_value ov = {.kind = CK_V_INT, .i = r->opset};
        if (!ck_args_push_kw(&args, "opset", ov)) {
            r->oom = true;
            goto done;
        }
    }

    /* data inputs and weight tensors */
    while (n_in > 0 && (!ins[n_in - 1] || !ins[n_in - 1][0])) n_in--;
    const weight_policy *wp = std ? find_weight_policy(op) : NULL;
    bool matmul_const = false;
    if (std && strcmp(op, "MatMul") == 0 && n_in == 2) {
        int v = smap_get(&r->vals, ins[1]);
        matmul_const = v >= 0 && r->g->vals[v].tensor >= 0;
    }
    int first_w = wp ? wp->first : matmul_const ? 1 : 0;
    int n_data = 0, n_params = 0;
    const char **data = calloc(n_in + 1, sizeof *data);
    params = calloc(n_in + 1, sizeof *params);
    if (!data || !params) {
        free(data);
        r->oom = true;
        goto done;
    }
    for (size_t i = 0; i < n_in; i++) {
        const char *in = ins[i];
        bool present = in && in[0];
        if (first_w && (int)i >= first_w) {
            int v = present ? smap_get(&r->vals, in) : -1;
            params[n_params++] = (v >= 0) ? r->g->vals[v].tensor : -1;
            continue;
        }
        if (!present) {
            int a = absent_val(r);
            if (a < 0) {
                free(data);
                goto done;
            }
            in = r->g->vals[a].name;
        }
        data[n_data++] = in;
    }
    free(ins);
    ins = data;

    /* outputs */
    int n_out = (int)n->n_output;
    if (n_out > 1 && std && single_output(op)) {
        for (int i = 1; i < n_out; i++)
            if (n->output[i] && n->output[i][0] &&
                !smap_put(&r->dropped, n->output[i], r->g->n_nodes)) {
                r->oom = true;
                goto done;
            }
        n_out = 1;
    }
    outs = calloc((size_t)(n_out ? n_out : 1), sizeof *outs);
    if (!outs) {
        r->oom = true;
        goto done;
    }
    for (int i = 0; i < n_out; i++) {
        const char *o = n->output[i];
        if (!o || !o[0]) {
            o = keep(r, ck_sprintf("%s:%d", name, i));
            if (!o) goto done;
        }
        outs[i] = o;
    }

    ck_layer_spec sp = {.dialect = CK_DIALECT_ONNX,
                        .type = type,
                        .name = name,
                        .args = &args,
                        .n_inputs = n_data,
                        .inputs = ins,
                        .n_outputs = n_out,
                        .outputs = n_out ? outs : NULL,
                        .n_params = n_params,
                        .params = params,
                        .lenient = true};
    if (n_out == 0) {
        /* a node without outputs: give it one named like the node */
        sp.n_outputs = 0;
        sp.outputs = NULL;
    }
    int ni = ck_graph_add_layer(r->g, &sp, r->d);
    if (ni < 0) {
        if (r->d->n == 0 || r->d->v[r->d->n - 1].layer == NULL ||
            strcmp(r->d->v[r->d->n - 1].layer, name) != 0)
            err(r, CK_INVALID_CONFIG, name, type, "%s (%s) could not be added to the graph", name,
                type);
        goto done;
    }
    const ck_node *nd = &r->g->nodes[ni];
    for (int i = 0; i < nd->n_out; i++)
        if (!reg_val(r, nd->out[i])) goto done;
    ok = true;

done:
    if (ins) free((void *)ins);
    free(outs);
    free(params);
    for (int i = 0; i < n_synth; i++) free(synth_names[i]);
    free(synth_names);
    ck_args_free(&args);
    free(typebuf);
    return ok && !r->oom;
}

/* ---- topological order ----------------------------------------------------- */

/* Fills order[] with node indices so that producers come first. Keeps the
 * file's order when it is already topological (the ONNX rule). */
static bool topo_order(rd *r, const Onnx__GraphProto *gp, size_t *order) {
    size_t nn = gp->n_node;
    smap prod = {0};
    bool ok = false;
    int *indeg = NULL, *head = NULL, *next = NULL, *to = NULL;
    size_t *queue = NULL;
    for (size_t i = 0; i < nn; i++) {
        const Onnx__NodeProto *n = gp->node[i];
        for (size_t k = 0; k < n->n_output; k++)
            if (n->output[k] && n->output[k][0] && smap_get(&r->vals, n->output[k]) < 0 &&
                !smap_put(&prod, n->output[k], (int)i)) {
                r->oom = true;
                goto out;
            }
    }
    bool sorted = true;
    size_t n_edges = 0;
    for (size_t i = 0; i < nn; i++) {
        const Onnx__NodeProto *n = gp->node[i];
        for (size_t k = 0; k < n->n_input; k++) {
            int p = n->input[k] && n->input[k][0] ? smap_get(&prod, n->input[k]) : -1;
            if (p < 0 || p == (int)i) continue;
            n_edges++;
            if ((size_t)p > i) sorted = false;
        }
    }
    for (size_t i = 0; i < nn; i++) order[i] = i;
    if (sorted) {
        ok = true;
        goto out;
    }
    indeg = calloc(nn + 1, sizeof *indeg);
    head = malloc((nn + 1) * sizeof *head);
    next = malloc((n_edges + 1) * sizeof *next);
    to = malloc((n_edges + 1) * sizeof *to);
    queue = malloc((nn + 1) * sizeof *queue);
    if (!indeg || !head || !next || !to || !queue) {
        r->oom = true;
        goto out;
    }
    for (size_t i = 0; i < nn; i++) head[i] = -1;
    size_t e = 0;
    for (size_t i = 0; i < nn; i++) {
        const Onnx__NodeProto *n = gp->node[i];
        for (size_t k = 0; k < n->n_input; k++) {
            int p = n->input[k] && n->input[k][0] ? smap_get(&prod, n->input[k]) : -1;
            if (p < 0 || p == (int)i) continue;
            to[e] = (int)i;
            next[e] = head[p];
            head[p] = (int)e;
            e++;
            indeg[i]++;
        }
    }
    size_t qh = 0, qt = 0, cnt = 0;
    for (size_t i = 0; i < nn; i++)
        if (indeg[i] == 0) queue[qt++] = i;
    while (qh < qt) {
        size_t i = queue[qh++];
        order[cnt++] = i;
        for (int k = head[i]; k >= 0; k = next[k])
            if (--indeg[to[k]] == 0) queue[qt++] = (size_t)to[k];
    }
    if (cnt < nn) {
        for (size_t i = 0; i < nn; i++)
            if (indeg[i] > 0) {
                const Onnx__NodeProto *n = gp->node[i];
                err(r, CK_INVALID_CONFIG, n->name && n->name[0] ? n->name : n->op_type, n->op_type,
                    "the graph has a cycle: node %s (%s) depends on its own output",
                    n->name && n->name[0] ? n->name : "(unnamed)", n->op_type ? n->op_type : "?");
                break;
            }
        goto out;
    }
    ok = true;
out:
    smap_free(&prod);
    free(indeg);
    free(head);
    free(next);
    free(to);
    free(queue);
    return ok;
}

/* ---- the entry point ------------------------------------------------------- */

ck_status ck_load_onnx(const uint8_t *data, size_t len, const char *path, const ck_limits *lim,
                       ck_graph **out, ck_diags *diags) {
    *out = NULL;
    const char *file = path ? path : "<onnx>";
    int max_nodes = ck_limits_resolve(lim).max_nodes;
    if (lim && lim->max_file_bytes > 0 && (uint64_t)len > (uint64_t)lim->max_file_bytes) {
        ck_diag *dg = ck_diag_parse(diags, file, 0, 0, "%s is larger than the %lld-byte limit",
                                    file, (long long)lim->max_file_bytes);
        if (dg) dg->code = CK_LIMIT_EXCEEDED;
        return CK_EPARSE;
    }
    if (!data || len == 0) {
        ck_diag_parse(diags, file, 0, 0, "%s is empty; an ONNX model holds at least a graph", file);
        return CK_EPARSE;
    }
    char what[160] = "";
    long bad = wire_scan(data, len, 0, model_wt, 0, what, sizeof what);
    if (bad >= 0) {
        ck_diag_parse(diags, file, 0, 0, "%s is not a valid ONNX protobuf: at byte %ld, %s", file,
                      bad, what);
        return CK_EPARSE;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, data);
    if (!m) {
        ck_diag_parse(diags, file, 0, 0,
                      "%s is not a valid ONNX protobuf (a nested message is truncated or has a "
                      "wrong field type)",
                      file);
        return CK_EPARSE;
    }
    ck_status st = CK_EPARSE;
    rd r = {.d = diags, .path = path, .absent = -1, .opset = 0};
    size_t *order = NULL;
    const Onnx__GraphProto *gp = m->graph;
    if (!gp) {
        ck_diag_parse(diags, file, 0, 0,
                      "%s holds no graph (ModelProto field 7); is it an ONNX model?", file);
        goto out;
    }
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (o && std_domain(o->domain) && o->has_version) r.opset = o->version;
    }
    if (gp->n_node > (size_t)max_nodes) {
        ck_diag *dg = ck_diag_parse(diags, file, 0, 0, "%s has %zu nodes; the limit is %d", file,
                                    gp->n_node, max_nodes);
        if (dg) dg->code = CK_LIMIT_EXCEEDED;
        goto out;
    }
    r.g = ck_graph_new(CK_DIALECT_ONNX, path);
    if (r.g) ck_graph_set_limits(r.g, lim);
    if (!r.g) {
        st = CK_ENOMEM;
        goto out;
    }
    if (r.opset == 0)
        ck_graph_warn(r.g, CK_NOTE, NULL,
                      "%s imports no default-domain opset; reading it as opset 13", file);
    else if (r.opset < 7 || r.opset > 18)
        ck_graph_warn(
            r.g, CK_NOTE, NULL,
            "%s uses opset %lld; convkit follows opsets 7 to 18 and reads it with their rules",
            file, (long long)r.opset);
    if (r.opset == 0) r.opset = 13;

    /* initializers */
    smap inits = {0};
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp || !tp->name || !tp->name[0]) {
            err(&r, CK_PARSE_ERROR, NULL, "initializer", "initializer %zu has no name", i);
            smap_free(&inits);
            goto out;
        }
        if (smap_get(&r.vals, tp->name) >= 0) {
            err(&r, CK_INVALID_CONFIG, tp->name, "initializer", "two initializers are named '%s'",
                tp->name);
            smap_free(&inits);
            goto out;
        }
        ck_tensor t;
        if (!read_tensor(&r, tp, tp->name, tp->name, "initializer", &t)) {
            ck_tensor_free(&t);
            smap_free(&inits);
            goto out;
        }
        if (add_const(&r, &t, tp->name) < 0) {
            smap_free(&inits);
            goto out;
        }
    }
    for (size_t i = 0; i < gp->n_sparse_initializer; i++) {
        const Onnx__SparseTensorProto *sp = gp->sparse_initializer[i];
        if (!sp || !sp->values || !sp->values->name) continue;
        ck_tensor t = {0};
        t.name = ck_strdup(sp->values->name);
        t.onnx_type = sp->values->has_data_type ? sp->values->data_type : 0;
        t.dtype = map_dtype(t.onnx_type);
        if (sp->n_dims > CK_MAX_RANK || !t.name) {
            ck_tensor_free(&t);
            err(&r, CK_LIMIT_EXCEEDED, sp->values->name, "initializer",
                "sparse initializer '%s' has more than %d dimensions", sp->values->name,
                CK_MAX_RANK);
            smap_free(&inits);
            goto out;
        }
        t.shape.rank = (int)sp->n_dims;
        for (size_t k = 0; k < sp->n_dims; k++) t.shape.d[k] = sp->dims[k] < 0 ? 0 : sp->dims[k];
        ck_graph_warn(r.g, CK_NOTE, t.name,
                      "sparse initializer '%s': convkit reads its dims, not its values", t.name);
        if (add_const(&r, &t, sp->values->name) < 0) {
            smap_free(&inits);
            goto out;
        }
    }
    smap_free(&inits);

    /* graph inputs (an input that is also an initializer is a constant) */
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi || !vi->name || !vi->name[0]) {
            err(&r, CK_PARSE_ERROR, NULL, "input", "graph input %zu has no name", i);
            goto out;
        }
        int v = smap_get(&r.vals, vi->name);
        if (v >= 0) {
            if (r.g->vals[v].tensor >= 0) continue;
            err(&r, CK_INVALID_CONFIG, vi->name, "input", "the graph input '%s' is declared twice",
                vi->name);
            goto out;
        }
        if (!read_input(&r, vi)) goto out;
    }

    /* nodes */
    order = malloc((gp->n_node + 1) * sizeof *order);
    if (!order) {
        st = CK_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < gp->n_node; i++)
        if (!gp->node[i]) {
            err(&r, CK_PARSE_ERROR, NULL, "node", "node %zu is empty", i);
            goto out;
        }
    if (!topo_order(&r, gp, order)) {
        if (r.oom)
            st = CK_ENOMEM;
        else
            st = CK_EINVALID;
        goto out;
    }
    for (size_t i = 0; i < gp->n_node; i++) {
        if (!add_node(&r, gp->node[order[i]], order[i])) {
            if (r.oom) st = CK_ENOMEM;
            goto out;
        }
    }

    /* graph outputs */
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vo = gp->output[i];
        const char *on = vo && vo->name ? vo->name : "";
        int v = smap_get(&r.vals, on);
        if (v < 0) {
            int dn = smap_get(&r.dropped, on);
            if (dn >= 0) {
                ck_graph_warn(
                    r.g, CK_UNSUPPORTED, r.g->nodes[dn].name,
                    "graph output '%s' is an extra output of %s that convkit does not compute", on,
                    r.g->nodes[dn].name);
                continue;
            }
            err(&r, CK_INVALID_CONFIG, on, "output",
                "the graph output '%s' is not produced by any node", on);
            goto out;
        }
        ck_graph_mark_output(r.g, v);
    }
    if (r.oom) {
        st = CK_ENOMEM;
        goto out;
    }
    st = CK_OK;
    *out = r.g;
    r.g = NULL;

out:
    if (r.oom && st == CK_EPARSE) st = CK_ENOMEM;
    if (st == CK_ENOMEM) ck_diag_parse(diags, file, 0, 0, "out of memory while reading %s", file);
    ck_graph_free(r.g);
    free(order);
    smap_free(&r.vals);
    smap_free(&r.names);
    smap_free(&r.dropped);
    for (int i = 0; i < r.n_owned; i++) free(r.owned[i]);
    free(r.owned);
    onnx__model_proto__free_unpacked(m, NULL);
    return st;
}
