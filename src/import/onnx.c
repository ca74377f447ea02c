/* ONNX reader: ModelProto bytes (a blob: the mapped file, or a copy of
 * bytes in memory) -> ck_graph.
 *
 * The reader walks the wire format itself and hands protobuf-c (the
 * bindings the build generates from Debian's onnx.proto,
 * build/gen/onnx/onnx.pb-c.h) a copy of the model without the initializers'
 * payloads (see "reading the model without its weights"). It then
 *   1. turns initializers into tensors: dims always; the payload as a view
 *      into the blob (ck_tensor.raw), decoded by a session when it runs
 *      (core/elem.h); integer tensors of up to CK_ONNX_MAX_INT_DATA and
 *      float tensors of up to CK_TENSOR_SMALL_FLOATS elements decoded now
 *      (shape rules read them); external data only recorded,
 *   2. declares the graph inputs that are not initializers (a dim_param is a
 *      symbol: stored as 0 with a warning; --input fills it),
 *   3. adds the nodes in topological order: Constant nodes and Identity of a
 *      constant fold into constant values; older opsets' attribute forms of
 *      axes/pads/scales/starts become constant inputs (the newest opset's
 *      form); weight inputs of Conv/Gemm/BatchNormalization/... are passed
 *      as tensor indices (a weight given as a graph input as a tensor with
 *      the input's shape, from_input), every other input as a value,
 *   4. marks the graph outputs.
 * Every problem is a diagnostic naming the node and the value; the reader
 * never prints, exits or aborts. Checking needs only dims: no weight byte is
 * read here.
 */
#include "import/import.h"
#include "core/blob.h"
#include "core/elem.h"
#include "ops/onnx_shape_ops.h"
#include "ops/ops.h"

#include "onnx/onnx.pb-c.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define CK_ONNX_MAX_INT_DATA 4096 /* integer tensors larger than this keep dims only */

/* Element types are ONNX's TensorProto.DataType numbers (core/elem.h). */
static ck_dtype map_dtype(int t) {
    switch (t) {
    case CK_E_FLOAT:
        return CK_F32;
    case CK_E_INT64:
        return CK_I64;
    case CK_E_INT32:
        return CK_I32;
    case CK_E_DOUBLE:
        return CK_F64;
    case CK_E_UINT8:
        return CK_U8;
    case CK_E_BOOL:
        return CK_BOOL;
    default:
        return CK_OTHER;
    }
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
    bool torch;   /* exported by PyTorch (producer_name): its forward's refusals apply too */
    smap vals;    /* value name -> value index in g */
    smap names;   /* node names used */
    smap dropped; /* outputs convkit does not compute -> node index */
    smap bound;   /* graph inputs read as weights -> their tensor (from_input) */
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

/* ---- reading the model without its weights --------------------------------
 * protobuf-c copies every bytes and repeated field when it unpacks a message
 * (protobuf-c 1.4 has no lazy or zero-copy mode): unpacking ResNet-50's
 * ModelProto (102 MB) alone took 55 ms and 200 MB (the file plus the copy).
 * So the reader walks the wire format itself. It copies the model without
 * the payloads of its initializers (raw_data, and float_data or double_data
 * stored packed: the same little-endian bytes) into a small buffer, checking
 * each field it passes against the schema's wire types so that a bad file
 * is reported with the byte where it breaks; hands that buffer to
 * protobuf-c; and keeps each payload as a view into the blob. A mapped file
 * is walked with pread (ck_blob_read), not through the mapping, so checking
 * never maps a page of weights into the process. */

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

/* Where an initializer's payload lies (field: 9 raw_data, 4 packed
 * float_data, 10 packed double_data; 0 when it stayed in the message). */
typedef struct payload {
    const uint8_t *p;
    size_t n;
    int field;
} payload;

typedef struct obuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} obuf;

static void ob_put(obuf *o, const void *p, size_t n) {
    if (o->oom || !n) return;
    if (n > o->cap - o->n) {
        size_t c = o->cap ? o->cap : 4096;
        while (c - o->n < n) {
            if (c > SIZE_MAX / 2) {
                o->oom = true;
                return;
            }
            c *= 2;
        }
        uint8_t *q = realloc(o->p, c);
        if (!q) {
            o->oom = true;
            return;
        }
        o->p = q;
        o->cap = c;
    }
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

static void ob_varint(obuf *o, uint64_t v) {
    uint8_t b[10];
    int k = 0;
    do {
        b[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b[k] |= 0x80;
        k++;
    } while (v);
    ob_put(o, b, (size_t)k);
}

/* Writes field `num` (wire type 2) holding b. */
static void ob_message(obuf *o, uint64_t num, const obuf *b) {
    ob_varint(o, num << 3 | 2);
    ob_varint(o, b->n);
    ob_put(o, b->p, b->n);
    o->oom |= b->oom;
}

/* The walk's state: the blob read through a window, the copy being made,
 * the payloads taken out, and what went wrong. */
#define WALK_WINDOW 16384

typedef struct walk {
    ck_blob *b;
    uint8_t *win;
    size_t win_off, win_n, win_cap; /* the window holds bytes [win_off, win_off + win_n) */
    payload *pl;                    /* per initializer, in file order */
    size_t n_pl, cap_pl;
    long bad;       /* offset of a malformed field, or -1 */
    char what[160]; /* what is wrong there */
    bool io, oom;
} walk;

/* Bytes [off, off + n) of the blob (the caller keeps them inside it): a
 * pointer valid until the next call, or NULL when reading failed. */
static const uint8_t *walk_get(walk *w, size_t off, size_t n) {
    if (off >= w->win_off && off - w->win_off <= w->win_n && n <= w->win_n - (off - w->win_off))
        return w->win + (off - w->win_off);
    size_t want = n > WALK_WINDOW ? n : WALK_WINDOW;
    if (want > w->b->n - off) want = w->b->n - off;
    if (want > w->win_cap) {
        uint8_t *q = realloc(w->win, want);
        if (!q) {
            w->oom = true;
            return NULL;
        }
        w->win = q;
        w->win_cap = want;
    }
    w->win_n = 0;
    if (!ck_blob_read(w->b, off, w->win, want)) {
        w->io = true;
        return NULL;
    }
    w->win_off = off;
    w->win_n = want;
    return w->win;
}

/* A varint at [*at, end): 1, 0 when it runs past end, -1 on a read error. */
static int walk_varint(walk *w, size_t *at, size_t end, uint64_t *v) {
    size_t n = end - *at < 10 ? end - *at : 10, i = 0;
    if (n == 0) return 0;
    const uint8_t *p = walk_get(w, *at, n);
    if (!p) return -1;
    if (!varint(p, n, &i, v)) return 0;
    *at += i;
    return 1;
}

/* One field of a message: its number, wire type, the value's bytes (for
 * wire type 2 those after the length) and the extent [start, end) of key and
 * value, as offsets in the blob. */
typedef struct wfield {
    uint64_t num;
    int wt;
    size_t start, val, len, end;
} wfield;

static bool walk_bad(walk *w, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool walk_bad(walk *w, size_t at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->what, sizeof w->what, fmt, ap);
    va_end(ap);
    w->bad = (long)at;
    return false;
}

/* The field at *at of a message ending at `end`, checked against the wire
 * types wt_of gives (NULL: any). False when it is malformed (w->bad) or
 * cannot be read (w->io). */
static bool next_field(walk *w, size_t *at, size_t end, int (*wt_of)(uint64_t), wfield *f) {
    uint64_t key, v;
    f->start = *at;
    int r = walk_varint(w, at, end, &key);
    if (r <= 0) return r == 0 && walk_bad(w, f->start, "a field key runs past the end of the data");
    f->num = key >> 3;
    f->wt = (int)(key & 7);
    if (f->num == 0) return walk_bad(w, f->start, "field number 0 is not valid");
    int want = wt_of ? wt_of(f->num) : -1;
    if (want >= 0 && want != f->wt)
        return walk_bad(w, f->start, "field %llu has wire type %d where the ONNX schema says %d",
                        (unsigned long long)f->num, f->wt, want);
    switch (f->wt) {
    case 0:
        f->val = *at;
        r = walk_varint(w, at, end, &v);
        if (r <= 0)
            return r == 0 && walk_bad(w, f->start, "the integer of field %llu is truncated",
                                      (unsigned long long)f->num);
        f->len = *at - f->val;
        break;
    case 1:
    case 5: {
        size_t n = f->wt == 1 ? 8 : 4;
        if (end - *at < n)
            return walk_bad(w, f->start, "field %llu is truncated", (unsigned long long)f->num);
        f->val = *at;
        f->len = n;
        *at += n;
        break;
    }
    case 2:
        r = walk_varint(w, at, end, &v);
        if (r < 0) return false;
        if (r == 0 || v > end - *at)
            return walk_bad(w, f->start,
                            "field %llu claims more bytes than the data holds (truncated file?)",
                            (unsigned long long)f->num);
        f->val = *at;
        f->len = (size_t)v;
        *at += (size_t)v;
        break;
    default:
        return walk_bad(w, f->start, "wire type %d of field %llu is not valid here", f->wt,
                        (unsigned long long)f->num);
    }
    f->end = *at;
    return true;
}

static bool copy_field(walk *w, obuf *o, const wfield *f) {
    const uint8_t *p = walk_get(w, f->start, f->end - f->start);
    if (!p) return false;
    ob_put(o, p, f->end - f->start);
    return !o->oom;
}

/* Copies the TensorProto at [start, end) into o without its payload, which
 * goes to pl. A packed float_data or double_data is taken out only when it
 * is the field's single occurrence (packed fields may come in pieces). */
static bool walk_tensor(walk *w, size_t start, size_t end, obuf *o, payload *pl) {
    int packed[2] = {0, 0}, other[2] = {0, 0}; /* float_data, double_data */
    wfield f;
    *pl = (payload){0};
    for (size_t at = start; at < end;) {
        if (!next_field(w, &at, end, NULL, &f)) return false;
        if (f.num == 4 || f.num == 10) {
            int k = f.num == 10;
            if (f.wt == 2)
                packed[k]++;
            else
                other[k]++;
        }
    }
    for (size_t at = start; at < end;) {
        if (!next_field(w, &at, end, NULL, &f)) return false;
        bool take = f.wt == 2 && (f.num == 9 || (f.num == 4 && packed[0] == 1 && !other[0]) ||
                                  (f.num == 10 && packed[1] == 1 && !other[1]));
        if (!take) {
            if (!copy_field(w, o, &f)) return false;
        } else if (pl->field != 9 || f.num == 9) { /* raw_data wins */
            *pl = (payload){.p = w->b->p + f.val, .n = f.len, .field = (int)f.num};
        }
    }
    return true;
}

static bool walk_graph(walk *w, size_t start, size_t end, obuf *o) {
    wfield f;
    for (size_t at = start; at < end;) {
        if (!next_field(w, &at, end, graph_wt, &f)) return false;
        if (f.num != 5) {
            if (!copy_field(w, o, &f)) return false;
            continue;
        }
        if (w->n_pl == w->cap_pl) {
            size_t c = w->cap_pl ? 2 * w->cap_pl : 64;
            payload *q = realloc(w->pl, c * sizeof *q);
            if (!q) {
                w->oom = true;
                return false;
            }
            w->pl = q;
            w->cap_pl = c;
        }
        obuf t = {0};
        bool ok = walk_tensor(w, f.val, f.end, &t, &w->pl[w->n_pl]);
        if (ok) {
            w->n_pl++;
            ob_message(o, 5, &t);
        }
        free(t.p);
        if (!ok || o->oom) return false;
    }
    return true;
}

/* The ModelProto of blob w->b without its initializers' payloads, into o.
 * False when it is malformed (w->bad), unreadable (w->io) or memory ran out
 * (w->oom or o->oom). */
static bool walk_model(walk *w, obuf *o) {
    wfield f;
    for (size_t at = 0; at < w->b->n;) {
        if (!next_field(w, &at, w->b->n, model_wt, &f)) return false;
        if (f.num != 7) {
            if (!copy_field(w, o, &f)) return false;
            continue;
        }
        obuf g = {0};
        bool ok = walk_graph(w, f.val, f.end, &g);
        if (ok) ob_message(o, 7, &g);
        free(g.p);
        if (!ok || o->oom) return false;
    }
    return true;
}

/* ---- tensors ------------------------------------------------------------ */

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

/* The typed fields of a TensorProto. */
typedef enum typed_field { TF_FLOAT, TF_INT32, TF_INT64, TF_DOUBLE, TF_UINT64 } typed_field;

/* The element type of the values typed field f holds for a tensor of type
 * dt: int32_data holds the narrow integers, BOOL and the bits of FLOAT16
 * and BFLOAT16; uint64_data UINT32 and UINT64 (ONNX's onnx.proto). */
static int field_type(typed_field f, int dt) {
    switch (f) {
    case TF_FLOAT:
        return CK_E_FLOAT;
    case TF_DOUBLE:
        return CK_E_DOUBLE;
    case TF_INT64:
        return CK_E_INT64;
    case TF_UINT64:
        return dt == CK_E_UINT32 ? CK_E_UINT32 : CK_E_UINT64;
    default:
        return (dt == CK_E_INT16 || dt == CK_E_INT8 || dt == CK_E_UINT16 || dt == CK_E_UINT8 ||
                dt == CK_E_BOOL || dt == CK_E_FLOAT16 || dt == CK_E_BFLOAT16)
                   ? dt
                   : CK_E_INT32;
    }
}

/* Value i of typed field f as element bits (core/elem.h). */
static uint64_t field_bits(const Onnx__TensorProto *tp, typed_field f, size_t i) {
    switch (f) {
    case TF_FLOAT: {
        uint32_t u;
        memcpy(&u, &tp->float_data[i], 4);
        return u;
    }
    case TF_DOUBLE: {
        uint64_t u;
        memcpy(&u, &tp->double_data[i], 8);
        return u;
    }
    case TF_INT64:
        return (uint64_t)tp->int64_data[i];
    case TF_UINT64:
        return tp->uint64_data[i];
    default:
        return (uint32_t)tp->int32_data[i];
    }
}

/* Decodes the values of a tensor of type dt stored as elements of type et:
 * `raw` bytes (little-endian), else typed field f of tp. Integer tensors up
 * to CK_ONNX_MAX_INT_DATA elements become t->i64 (shape constants). A `view`
 * (raw bytes in the model file) is kept as t->raw, and only small float
 * tensors are decoded now; other data (protobuf-c's memory, freed after
 * reading) is decoded whole. */
static void decode_values(rd *r, ck_tensor *t, int dt, int et, int64_t numel, const uint8_t *raw,
                          const Onnx__TensorProto *tp, typed_field f, bool view) {
    int es = ck_elem_size(et);
    size_t cnt = (size_t)(numel ? numel : 1);
    if (ck_elem_is_int(dt) && ck_elem_is_int(et) && numel <= CK_ONNX_MAX_INT_DATA) {
        if (!(t->i64 = malloc(cnt * sizeof *t->i64))) {
            r->oom = true;
            return;
        }
        for (int64_t i = 0; i < numel; i++) {
            uint64_t b = raw ? ck_elem_load(raw + (size_t)i * (size_t)es, es, false)
                             : field_bits(tp, f, (size_t)i);
            if (!ck_elem_i64(et, b, &t->i64[i])) { /* a UINT64 above INT64_MAX */
                free(t->i64);
                t->i64 = NULL;
                break;
            }
        }
    }
    if (view) {
        t->raw = raw;
        t->raw_len = numel * es;
        if (!ck_elem_is_float(dt) || numel > CK_TENSOR_SMALL_FLOATS) return;
    } else if (t->i64) {
        return;
    }
    if (!(t->f32 = malloc(cnt * sizeof *t->f32))) {
        r->oom = true;
        return;
    }
    if (raw)
        ck_decode_f32(et, raw, numel, false, t->f32);
    else
        for (int64_t i = 0; i < numel; i++)
            t->f32[i] = ck_elem_f32(et, field_bits(tp, f, (size_t)i), NULL);
}

/* Converts a TensorProto to a ck_tensor. `owner` names the initializer or
 * node in diagnostics; `pl` is the payload taken out of an initializer
 * (NULL for tensors inside nodes). Returns false (with a diagnostic) on
 * malformed data. */
static bool read_tensor(rd *r, const Onnx__TensorProto *tp, const payload *pl, const char *name,
                        const char *owner, const char *op, ck_tensor *t) {
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
        int es = ck_elem_size(dt);
        int64_t want;
        if (es && len >= 0 && ck_mul(numel, es, &want) && want != len) {
            err(r, CK_PARSE_ERROR, owner, op,
                "tensor '%s' of %lld %s values needs %lld bytes, but its external data length is "
                "%lld",
                name, (long long)numel, ck_elem_name(dt), (long long)want, (long long)len);
            return false;
        }
        int64_t bytes = -1;
        if (len < 0 && es && !ck_mul(numel, es, &bytes)) {
            err(r, CK_PARSE_ERROR, owner, op,
                "tensor '%s' of %lld %s values needs more bytes than a file can hold", name,
                (long long)numel, ck_elem_name(dt));
            return false;
        }
        t->ext_path = ck_strdup(loc);
        t->ext_offset = off;
        t->ext_length = len >= 0 ? len : bytes;
        if (!t->ext_path) r->oom = true;
        return !r->oom;
    }

    /* inline data: raw bytes (raw_data, or a packed float_data or
     * double_data the reader took out of the message: the same bytes), else
     * a typed field */
    const uint8_t *raw = NULL;
    size_t raw_n = 0;
    bool view = false;
    int64_t want_vals = numel;
    if (dt == CK_E_COMPLEX64 || dt == CK_E_COMPLEX128) want_vals *= 2; /* real, imaginary */
    if (pl && pl->field == 9) {
        raw = pl->p, raw_n = pl->n, view = true;
    } else if (tp->has_raw_data) {
        raw = tp->raw_data.data, raw_n = tp->raw_data.len;
    } else if (pl && pl->field) {
        int fe = pl->field == 4 ? CK_E_FLOAT : CK_E_DOUBLE;
        size_t fs = (size_t)ck_elem_size(fe);
        const char *field = pl->field == 4 ? "float_data" : "double_data";
        if (pl->n % fs || pl->n / fs != (uint64_t)want_vals) {
            err(r, CK_PARSE_ERROR, owner, op,
                "tensor '%s' has %lld elements but its %s holds %zu%s values", name,
                (long long)numel, field, pl->n / fs, pl->n % fs ? " and a part of" : "");
            return false;
        }
        if (dt != fe) return true; /* COMPLEX: dims only */
        raw = pl->p, raw_n = pl->n, view = true;
    }
    if (raw && raw_n > 0) {
        int es = ck_elem_size(dt);
        if (!es) {
            err(r, CK_PARSE_ERROR, owner, op, "tensor '%s' of type %s cannot use raw_data", name,
                ck_elem_name(dt));
            return false;
        }
        int64_t want;
        if (!ck_mul(numel, es, &want) || (uint64_t)want != raw_n) {
            err(r, CK_PARSE_ERROR, owner, op,
                "tensor '%s' of shape %lld elements of %s needs %lld bytes of raw_data, but has "
                "%zu",
                name, (long long)numel, ck_elem_name(dt), (long long)want, raw_n);
            return false;
        }
        if (ck_elem_decodable(dt)) decode_values(r, t, dt, dt, numel, raw, NULL, TF_FLOAT, view);
        return !r->oom;
    }
    typed_field f = TF_FLOAT;
    size_t have = 0;
    const char *field = NULL;
    if (tp->n_float_data)
        f = TF_FLOAT, have = tp->n_float_data, field = "float_data";
    else if (tp->n_int32_data)
        f = TF_INT32, have = tp->n_int32_data, field = "int32_data";
    else if (tp->n_int64_data)
        f = TF_INT64, have = tp->n_int64_data, field = "int64_data";
    else if (tp->n_double_data)
        f = TF_DOUBLE, have = tp->n_double_data, field = "double_data";
    else if (tp->n_uint64_data)
        f = TF_UINT64, have = tp->n_uint64_data, field = "uint64_data";
    else if (tp->n_string_data)
        have = tp->n_string_data, field = "string_data";
    if (!field) return true; /* dims only: the values are not in this file */
    if (have != (uint64_t)want_vals) {
        err(r, CK_PARSE_ERROR, owner, op,
            "tensor '%s' has %lld elements but its %s holds %zu values", name, (long long)numel,
            field, have);
        return false;
    }
    if (tp->n_string_data || !ck_elem_decodable(dt)) return true;
    decode_values(r, t, dt, field_type(f, dt), numel, NULL, tp, f, false);
    return !r->oom;
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
        t.onnx_type = CK_E_INT64;
        t.i64 = malloc((n ? n : 1) * sizeof *t.i64);
        if (t.i64 && n) memcpy(t.i64, iv, n * sizeof *t.i64);
    } else {
        t.dtype = CK_F32;
        t.onnx_type = CK_E_FLOAT;
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
    /* each open axis is a symbol: its dim_param, else d<axis> */
    const Onnx__TensorShapeProto *sh =
        tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type
            ? tp->tensor_type->shape
            : NULL;
    int in = r->g->vals[v].input_index;
    if (sh && sh->n_dim == 0 && !ck_graph_set_scalar_input(r->g, in)) { /* a declared scalar */
        r->oom = true;
        return false;
    }
    for (size_t i = 0; sh && i < sh->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *dm = sh->dim[i];
        if (dm && dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) continue;
        char auto_name[24];
        snprintf(auto_name, sizeof auto_name, "d%zu", i);
        const char *p =
            (dm && dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
             dm->dim_param && dm->dim_param[0])
                ? dm->dim_param
                : auto_name;
        if (!ck_graph_set_symbol(r->g, in, (int)i, p)) {
            r->oom = true;
            return false;
        }
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
        int dt = t->has_data_type ? t->data_type : 0, et;
        uint64_t bits;
        if (t->n_float_data == 1)
            et = CK_E_FLOAT, bits = field_bits(t, TF_FLOAT, 0);
        else if (t->n_double_data == 1)
            et = CK_E_DOUBLE, bits = field_bits(t, TF_DOUBLE, 0);
        else if (t->n_int64_data == 1)
            et = CK_E_INT64, bits = field_bits(t, TF_INT64, 0);
        else if (t->n_int32_data == 1)
            et = field_type(TF_INT32, dt), bits = field_bits(t, TF_INT32, 0);
        else if (t->n_uint64_data == 1)
            et = field_type(TF_UINT64, dt), bits = field_bits(t, TF_UINT64, 0);
        else if (t->has_raw_data && ck_elem_decodable(dt) &&
                 t->raw_data.len == (size_t)ck_elem_size(dt))
            et = dt, bits = ck_elem_load(t->raw_data.data, ck_elem_size(dt), false);
        else
            return false;
        int64_t iv;
        if (ck_elem_is_int(et) && ck_elem_i64(et, bits, &iv)) {
            v->kind = CK_V_INT, v->i = iv;
        } else if (et == CK_E_DOUBLE) {
            double d;
            memcpy(&d, &bits, 8);
            v->kind = CK_V_FLOAT, v->f = d;
        } else {
            v->kind = CK_V_FLOAT, v->f = ck_elem_f32(et, bits, NULL);
        }
        /* an integer tensor holding float data: converted only when it fits
         * (NaN and |x| >= 2^63 stay floats, which the layer then refuses) */
        if (v->kind == CK_V_FLOAT && ck_elem_is_int(dt) && v->f >= -9223372036854775808.0 &&
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
        if (!read_tensor(r, at->t, NULL, out, name, "Constant", &t)) {
            ck_tensor_free(&t);
            return false;
        }
    } else if (strcmp(an, "value_float") == 0 || strcmp(an, "value_floats") == 0) {
        bool one = strcmp(an, "value_float") == 0;
        size_t cnt = one ? 1 : at->n_floats;
        t.name = ck_strdup(out);
        t.dtype = CK_F32;
        t.onnx_type = CK_E_FLOAT;
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
        t.onnx_type = CK_E_INT64;
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
    t.from_node = true;
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

/* The tensor a layer reads when it takes graph input v as a weight (ONNX's
 * node tests give W, B, scale, mean and var as inputs): the input's declared
 * shape, so that shapes check, and from_input, so that a session takes the
 * values from the run's inputs. One per input; -1 on out-of-memory. */
static int input_tensor(rd *r, int v) {
    const char *name = r->g->vals[v].name;
    int ti = smap_get(&r->bound, name);
    if (ti >= 0) return ti;
    ck_tensor t = {0};
    t.name = ck_strdup(name);
    t.dtype = CK_F32;
    t.onnx_type = CK_E_FLOAT;
    t.shape = r->g->declared[r->g->vals[v].input_index];
    t.from_input = true;
    if (!t.name || (ti = ck_graph_add_tensor(r->g, &t)) < 0 ||
        !smap_put(&r->bound, r->g->tensors[ti].name, ti)) {
        r->oom = true;
        return -1;
    }
    return ti;
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
    /* a PyTorch export: PyTorch's refusals of its InstanceNorm and
     * MaxPool1d hold for these layers too (ops/attrs.h, torch_rules) */
    if (std && r->torch &&
        (strcmp(op, "InstanceNormalization") == 0 || strcmp(op, "MaxPool") == 0)) {
        ck_value tv = {.kind = CK_V_INT, .i = 1};
        if (!ck_args_push_kw(&args, "torch_rules", tv)) {
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
            int ti = v < 0 ? -1 : r->g->vals[v].tensor;
            if (v >= 0 && ti < 0 && r->g->vals[v].input_index >= 0 && (ti = input_tensor(r, v)) < 0)
                goto done;
            params[n_params++] = ti;
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
    /* ScatterND (data, indices, updates): convkit reads the updates second,
     * so that the inputs carrying data come first (ops.def) */
    if (std && strcmp(op, "ScatterND") == 0 && n_data == 3) {
        const char *t = ins[1];
        ins[1] = ins[2];
        ins[2] = t;
    }

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

/* The size limit and the empty model, before any byte is read. */
static bool size_ok(size_t len, const char *file, const ck_limits *lim, ck_diags *diags) {
    if (lim && lim->max_file_bytes > 0 && (uint64_t)len > (uint64_t)lim->max_file_bytes) {
        ck_diag *dg = ck_diag_parse(diags, file, 0, 0, "%s is larger than the %lld-byte limit",
                                    file, (long long)lim->max_file_bytes);
        if (dg) dg->code = CK_LIMIT_EXCEEDED;
        return false;
    }
    if (len == 0) {
        ck_diag_parse(diags, file, 0, 0, "%s is empty; an ONNX model holds at least a graph", file);
        return false;
    }
    return true;
}

ck_status ck_load_onnx(const uint8_t *data, size_t len, const char *path, const ck_limits *lim,
                       ck_graph **out, ck_diags *diags) {
    *out = NULL;
    if (!size_ok(data ? len : 0, path ? path : "<onnx>", lim, diags)) return CK_EPARSE;
    /* the graph's tensors are views into its own copy of the bytes */
    ck_blob *b = ck_blob_copy(data, len);
    if (!b) {
        ck_diag_parse(diags, path ? path : "<onnx>", 0, 0, "out of memory while reading %s",
                      path ? path : "<onnx>");
        return CK_ENOMEM;
    }
    ck_status st = ck_load_onnx_blob(b, path, lim, out, diags);
    ck_blob_release(b);
    return st;
}

ck_status ck_load_onnx_blob(ck_blob *blob, const char *path, const ck_limits *lim, ck_graph **out,
                            ck_diags *diags) {
    *out = NULL;
    const char *file = path ? path : "<onnx>";
    size_t len = blob->n;
    int max_nodes = ck_limits_resolve(lim).max_nodes;
    if (!size_ok(len, file, lim, diags)) return CK_EPARSE;
    walk wk = {.b = blob, .bad = -1};
    obuf slim = {0};
    bool walked = walk_model(&wk, &slim);
    free(wk.win);
    if (!walked) {
        if (wk.bad >= 0)
            ck_diag_parse(diags, file, 0, 0, "%s is not a valid ONNX protobuf: at byte %ld, %s",
                          file, wk.bad, wk.what);
        else if (wk.io)
            ck_diag_parse(diags, file, 0, 0, "cannot read %s: %s", file, strerror(errno));
        else
            ck_diag_parse(diags, file, 0, 0, "out of memory while reading %s", file);
        free(slim.p);
        free(wk.pl);
        return wk.bad >= 0 ? CK_EPARSE : wk.io ? CK_EIO : CK_ENOMEM;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, slim.n, slim.p);
    free(slim.p);
    if (!m) {
        free(wk.pl);
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
    r.torch = m->producer_name && strcmp(m->producer_name, "pytorch") == 0;
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
    if (wk.n_pl != gp->n_initializer) { /* both count the initializer fields, in order */
        ck_diag_parse(diags, file, 0, 0, "%s: %zu initializers read, %zu found", file,
                      gp->n_initializer, wk.n_pl);
        goto out;
    }
    r.g = ck_graph_new(CK_DIALECT_ONNX, path);
    if (r.g) ck_graph_set_limits(r.g, lim);
    if (!r.g) {
        st = CK_ENOMEM;
        goto out;
    }
    r.g->blob = ck_blob_retain(blob);
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
        if (!read_tensor(&r, tp, i < wk.n_pl ? &wk.pl[i] : NULL, tp->name, tp->name, "initializer",
                         &t)) {
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
    /* the graph holds the bytes only while a tensor is a view into them */
    bool views = false;
    for (int i = 0; i < r.g->n_tensors && !views; i++) views = r.g->tensors[i].raw != NULL;
    if (!views) {
        ck_blob_release(r.g->blob);
        r.g->blob = NULL;
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
    smap_free(&r.bound);
    for (int i = 0; i < r.n_owned; i++) free(r.owned[i]);
    free(r.owned);
    onnx__model_proto__free_unpacked(m, NULL);
    free(wk.pl);
    ck_blob_done_reading(blob); /* the mapping stays; the file is read no more */
    return st;
}
