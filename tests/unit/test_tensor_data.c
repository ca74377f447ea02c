/* Tensor data (issues 14 and 17): one decoder for every element type the
 * readers accept, used the same way by ONNX inline initializers (raw_data
 * and the typed fields), Constant nodes, external data and .npy files;
 * weights left in the mapped model file until a session needs them; and
 * weights given as graph inputs.
 *
 * Per type, a model X + Cast(C) is run with X = 0, C stored five ways, at
 * two sizes (4 hand-picked values: the small-constant paths; 5000 values:
 * the paths of weights), and the output must be the reference value of
 * every element, computed here from its bytes without the library. */
#include "convkit.h"
#include "core/blob.h"
#include "core/elem.h"
#include "graph/graph.h"
#include "test.h"
#include "test_onnx_util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[64];

/* ---- the reference: an element's value from its bytes ------------------ */

typedef struct dtype {
    int t;
    const char *name, *npy; /* the .npy descr, NULL when numpy has none */
} dtype;

static const dtype TYPES[] = {
    {CK_E_FLOAT, "FLOAT", "<f4"},      {CK_E_FLOAT16, "FLOAT16", "<f2"},
    {CK_E_BFLOAT16, "BFLOAT16", NULL}, {CK_E_DOUBLE, "DOUBLE", "<f8"},
    {CK_E_INT8, "INT8", "|i1"},        {CK_E_INT16, "INT16", "<i2"},
    {CK_E_INT32, "INT32", "<i4"},      {CK_E_INT64, "INT64", "<i8"},
    {CK_E_UINT8, "UINT8", "|u1"},      {CK_E_UINT16, "UINT16", "<u2"},
    {CK_E_UINT32, "UINT32", "<u4"},    {CK_E_UINT64, "UINT64", "<u8"},
    {CK_E_BOOL, "BOOL", "|b1"},
};
enum { N_TYPES = sizeof TYPES / sizeof TYPES[0] };

static int size_of(int t) {
    switch (t) {
    case CK_E_INT8:
    case CK_E_UINT8:
    case CK_E_BOOL:
        return 1;
    case CK_E_FLOAT16:
    case CK_E_BFLOAT16:
    case CK_E_INT16:
    case CK_E_UINT16:
        return 2;
    case CK_E_FLOAT:
    case CK_E_INT32:
    case CK_E_UINT32:
        return 4;
    default:
        return 8;
    }
}

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* IEEE half by its definition: (-1)^s * 2^(e-15) * 1.m, subnormals 2^-14 * 0.m */
static float ref_half(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0    ? m / 1024.0 * pow(2, -14)
               : e == 31 ? (m ? NAN : INFINITY)
                         : (1 + m / 1024.0) * pow(2, e - 15);
    return (float)(s ? -v : v);
}

static float ref_value(int t, const uint8_t *p) {
    uint64_t u = le(p, size_of(t));
    switch (t) {
    case CK_E_FLOAT: {
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, 4);
        return f;
    }
    case CK_E_FLOAT16:
        return ref_half((uint16_t)u);
    case CK_E_BFLOAT16: {
        uint32_t w = (uint32_t)u << 16;
        float f;
        memcpy(&f, &w, 4);
        return f;
    }
    case CK_E_DOUBLE: {
        double d;
        memcpy(&d, &u, 8);
        return (float)d;
    }
    case CK_E_INT8:
        return (float)(int8_t)u;
    case CK_E_INT16:
        return (float)(int16_t)u;
    case CK_E_INT32:
        return (float)(int32_t)u;
    case CK_E_INT64:
        return (float)(int64_t)u;
    case CK_E_BOOL:
        return u ? 1.0f : 0.0f;
    default: /* unsigned */
        return (float)u;
    }
}

static bool same(float a, float b) {
    return (isnan(a) && isnan(b)) || a == b;
}

/* ---- test values ---------------------------------------------------------- */

/* 4 hand-picked values per type (little-endian bytes), edges included. */
static void hand_values(int t, uint8_t *b) {
    static const uint64_t F32[4] = {0x3fc00000u, 0xc0100000u, 0x7f7fffffu, 0x7fc00000u};
    static const uint64_t F16[4] = {0x3c00, 0xc000, 0x7bff, 0x0001};
    static const uint64_t BF16[4] = {0x3f80, 0xc040, 0x7f80, 0x0001};
    static const uint64_t I8[4] = {0x80, 0xff, 0x00, 0x7f};
    static const uint64_t I16[4] = {0x8000, 0xfffb, 0x0007, 0x7fff};
    static const uint64_t I32[4] = {0x80000000u, 0xfffffff9u, 9, 0x7fffffffu};
    static const uint64_t I64[4] = {0xffffff0000000000ull, 0xfffffffffffffffdull, 5,
                                    0x0020000000000001ull};
    static const uint64_t U64[4] = {0, 0xffffffffffffffffull, 3, 0x8000000000000000ull};
    static const uint64_t BOOLS[4] = {0, 1, 1, 0};
    double dbl[4] = {0.1, -1e300, 3.5, 16777217.0};
    const uint64_t *v = t == CK_E_FLOAT                       ? F32
                        : t == CK_E_FLOAT16                   ? F16
                        : t == CK_E_BFLOAT16                  ? BF16
                        : t == CK_E_INT8 || t == CK_E_UINT8   ? I8
                        : t == CK_E_INT16 || t == CK_E_UINT16 ? I16
                        : t == CK_E_INT32 || t == CK_E_UINT32 ? I32
                        : t == CK_E_INT64                     ? I64
                        : t == CK_E_UINT64                    ? U64
                        : t == CK_E_BOOL                      ? BOOLS
                                                              : NULL;
    int n = size_of(t);
    for (int i = 0; i < 4; i++) {
        uint64_t u;
        if (v)
            u = v[i];
        else
            memcpy(&u, &dbl[i], 8);
        for (int k = 0; k < n; k++) b[i * n + k] = (uint8_t)(u >> (8 * k));
    }
}

/* n pseudo-random values: any bit pattern, except float NaN/Inf exponents
 * (the run adds 0.0, so they would pass too, but keep the data ordinary) and
 * BOOL bytes other than 0/1. */
static void random_values(int t, uint8_t *b, int64_t n) {
    uint64_t s = 0x9E3779B97F4A7C15ull ^ (uint64_t)t;
    int sz = size_of(t);
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint64_t u = s;
        if (t == CK_E_FLOAT) u &= ~(0x40000000ull); /* exponent < 255 */
        if (t == CK_E_FLOAT16) u &= ~(0x4000ull);
        if (t == CK_E_BFLOAT16) u &= ~(0x4000ull);
        if (t == CK_E_DOUBLE) u &= ~(0x4000000000000000ull);
        if (t == CK_E_BOOL) u &= 1;
        for (int k = 0; k < sz; k++) b[i * sz + k] = (uint8_t)(u >> (8 * k));
    }
}

/* ---- models ------------------------------------------------------------ */

typedef enum way { W_RAW, W_RAW_FILE, W_TYPED, W_CONSTANT, W_EXTERNAL, N_WAYS } way;
static const char *const WAY[N_WAYS] = {"raw_data (memory)", "raw_data (mapped file)",
                                        "typed field", "Constant node", "external data"};

/* Fills tensor p's typed field with the n values at b (ONNX's onnx.proto:
 * int32_data holds the narrow types, BOOL and the 16-bit floats' bits). */
static void typed_field(tb *b, Onnx__TensorProto *p, int t, const uint8_t *v, int64_t n) {
    int sz = size_of(t);
    if (t == CK_E_FLOAT) {
        p->n_float_data = (size_t)n;
        p->float_data = tb_alloc(b, (size_t)n * 4);
        memcpy(p->float_data, v, (size_t)n * 4);
    } else if (t == CK_E_DOUBLE) {
        p->n_double_data = (size_t)n;
        p->double_data = tb_alloc(b, (size_t)n * 8);
        memcpy(p->double_data, v, (size_t)n * 8);
    } else if (t == CK_E_INT64) {
        p->n_int64_data = (size_t)n;
        p->int64_data = tb_alloc(b, (size_t)n * 8);
        for (int64_t i = 0; i < n; i++) p->int64_data[i] = (int64_t)le(v + i * 8, 8);
    } else if (t == CK_E_UINT32 || t == CK_E_UINT64) {
        p->n_uint64_data = (size_t)n;
        p->uint64_data = tb_alloc(b, (size_t)n * 8);
        for (int64_t i = 0; i < n; i++) p->uint64_data[i] = le(v + i * sz, sz);
    } else {
        p->n_int32_data = (size_t)n;
        p->int32_data = tb_alloc(b, (size_t)n * 4);
        for (int64_t i = 0; i < n; i++) {
            uint64_t u = le(v + i * sz, sz);
            p->int32_data[i] = t == CK_E_INT8    ? (int8_t)u
                               : t == CK_E_INT16 ? (int16_t)u
                               : t == CK_E_INT32 ? (int32_t)u
                                                 : (int32_t)u; /* unsigned, bool, 16-bit bits */
        }
    }
}

static bool write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* X [n] float + Cast(C, to=FLOAT): C of type t holding the n values at v,
 * stored as `w`. Returns the loaded graph or NULL. */
static ck_graph *cast_model(int t, const uint8_t *v, int64_t n, way w, const char *tag) {
    tb *b = tb_new(13);
    int sz = size_of(t);
    tb_input(b, "X", 1, TB_D(n));
    Onnx__TensorProto *c = tb_tensor(b, "C", t, 1, TB_D(n));
    if (w == W_TYPED) {
        typed_field(b, c, t, v, n);
    } else if (w == W_EXTERNAL) {
        c->has_data_location = 1;
        c->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        c->n_external_data = 3;
        c->external_data = tb_alloc(b, 3 * sizeof *c->external_data);
        const char *kv[3][2] = {{"location", "w.bin"}, {"offset", "16"}, {"length", NULL}};
        char len[32];
        snprintf(len, sizeof len, "%lld", (long long)(n * sz));
        kv[2][1] = len;
        for (int i = 0; i < 3; i++) {
            Onnx__StringStringEntryProto *e = tb_alloc(b, sizeof *e);
            onnx__string_string_entry_proto__init(e);
            e->key = tb_str(b, kv[i][0]);
            e->value = tb_str(b, kv[i][1]);
            c->external_data[i] = e;
        }
    } else {
        c->has_raw_data = 1;
        c->raw_data.len = (size_t)(n * sz);
        c->raw_data.data = tb_alloc(b, (size_t)(n * sz));
        memcpy(c->raw_data.data, v, (size_t)(n * sz));
    }
    if (w == W_CONSTANT) {
        Onnx__NodeProto *k = tb_node(b, "Constant", "const", NULL, TB_L("C"));
        tb_attr_tensor(b, k, "value", c);
    } else {
        b->inits[b->g.n_initializer++] = c;
    }
    Onnx__NodeProto *cast = tb_node(b, "Cast", "cast", TB_L("C"), TB_L("Cf"));
    tb_attr_int(b, cast, "to", CK_E_FLOAT);
    tb_node(b, "Add", "add", TB_L("X", "Cf"), TB_L("Y"));
    tb_output(b, "Y");
    size_t len;
    uint8_t *bytes = tb_pack(b, &len);
    tb_free(b);
    ck_graph *g = NULL;
    ck_diags d = {0};
    char path[128];
    snprintf(path, sizeof path, "%s/%s.onnx", g_dir, tag);
    ck_status st;
    if (w == W_RAW || w == W_TYPED || w == W_CONSTANT) {
        st = ck_load_onnx_memory(bytes, len, tag, NULL, &g, &d);
    } else {
        if (w == W_EXTERNAL) {
            char bin[128];
            snprintf(bin, sizeof bin, "%s/w.bin", g_dir);
            uint8_t *f = calloc(1, (size_t)(16 + n * sz));
            memcpy(f + 16, v, (size_t)(n * sz));
            CHECK(write_file(bin, f, (size_t)(16 + n * sz)), "%s: write w.bin", tag);
            free(f);
        }
        CHECK(write_file(path, bytes, len), "%s: write the model", tag);
        st = ck_load_file(path, NULL, &g, &d);
    }
    free(bytes);
    CHECK(st == CK_OK, "%s: load: %s", tag, d.n ? d.v[0].message : "?");
    ck_diags_free(&d);
    return g;
}

/* Runs g with X = 0; y receives the n outputs. */
static bool run_zero(ck_graph *g, int64_t n, float *y, const char *tag) {
    ck_diags d = {0};
    ck_session *s = NULL;
    ck_session_ctx *c = NULL;
    float *x = calloc((size_t)n, sizeof *x);
    bool ok = ck_check(g, &d) == CK_OK && ck_session_new(g, NULL, &s, &d) == CK_OK &&
              ck_session_ctx_new(s, &c) == CK_OK;
    CHECK(ok, "%s: check/session: %s", tag, d.n ? d.v[0].message : "?");
    if (ok) {
        const float *in[1] = {x};
        float *out[1] = {y};
        ok = ck_session_run(s, c, in, out) == CK_OK;
        CHECK(ok, "%s: run", tag);
    }
    ck_session_ctx_free(c);
    ck_session_free(s);
    ck_diags_free(&d);
    free(x);
    return ok;
}

static void test_types_every_way(void) {
    for (int ti = 0; ti < N_TYPES; ti++) {
        const dtype *dt = &TYPES[ti];
        for (int big = 0; big < 2; big++) {
            int64_t n = big ? 5000 : 4;
            int sz = size_of(dt->t);
            uint8_t *v = malloc((size_t)(n * sz));
            float *y = malloc((size_t)n * sizeof *y);
            if (big)
                random_values(dt->t, v, n);
            else
                hand_values(dt->t, v);
            for (int w = 0; w < N_WAYS; w++) {
                char tag[96];
                snprintf(tag, sizeof tag, "%s x%lld, %s", dt->name, (long long)n, WAY[w]);
                ck_graph *g = cast_model(dt->t, v, n, (way)w, tag);
                if (!g) continue;
                if (run_zero(g, n, y, tag)) {
                    int64_t bad = 0, first = -1;
                    for (int64_t i = 0; i < n; i++)
                        if (!same(y[i], ref_value(dt->t, v + i * sz))) {
                            bad++;
                            if (first < 0) first = i;
                        }
                    CHECK(bad == 0, "%s: %lld values differ; element %lld is %g, expected %g", tag,
                          (long long)bad, (long long)first, first >= 0 ? y[first] : 0.0,
                          first >= 0 ? ref_value(dt->t, v + first * sz) : 0.0);
                }
                ck_graph_free(g);
            }
            free(v);
            free(y);
        }
    }
}

/* ---- the decoder itself, and .npy through it ---------------------------- */

static void test_decoder(void) {
    for (int t = 0; t <= 17; t++) {
        bool numeric =
            t != 0 && t != CK_E_STRING && t != CK_E_COMPLEX64 && t != CK_E_COMPLEX128 && t != 17;
        CHECK(ck_elem_decodable(t) == numeric, "decodable(%d)", t);
        CHECK(strcmp(ck_elem_name(t), "unknown") != (t == 17), "name(%d) = %s", t, ck_elem_name(t));
        if (numeric) CHECK(ck_elem_size(t) == size_of(t), "size(%s)", ck_elem_name(t));
    }
    bool exact;
    CHECK(ck_elem_f32(CK_E_FLOAT16, 0x3555, &exact) == ref_half(0x3555) && exact, "half 1/3");
    CHECK(ck_elem_f32(CK_E_BFLOAT16, 0xbf80, &exact) == -1.0f && exact, "bf16 -1");
    uint64_t d01;
    double tenth = 0.1;
    memcpy(&d01, &tenth, 8);
    CHECK(ck_elem_f32(CK_E_DOUBLE, d01, &exact) == 0.1f && !exact, "0.1 is rounded");
    CHECK(ck_elem_f32(CK_E_INT64, (1ull << 53) + 1, &exact) == 9007199254740992.0f && !exact,
          "2^53 + 1 is rounded");
    CHECK(ck_elem_f32(CK_E_INT8, 0xff, &exact) == -1.0f && exact, "int8 -1");
    CHECK(ck_elem_f32(CK_E_INT8, 0xffffff80u, &exact) == -128.0f, "int32_data bits of int8 -128");
    int64_t i;
    CHECK(ck_elem_i64(CK_E_UINT16, 0xffff, &i) && i == 65535, "uint16 max");
    CHECK(ck_elem_i64(CK_E_INT16, 0x8000, &i) && i == -32768, "int16 min");
    CHECK(!ck_elem_i64(CK_E_UINT64, 1ull << 63, &i), "uint64 above INT64_MAX");
    CHECK(!ck_elem_i64(CK_E_FLOAT, 0, &i), "a float is not an integer");
    CHECK(ck_elem_i64(CK_E_BOOL, 2, &i) && i == 1, "bool");
    /* byte order */
    const uint8_t be[4] = {0x3f, 0x80, 0x00, 0x00}, lo[4] = {0x00, 0x00, 0x80, 0x3f};
    float f[2];
    CHECK(ck_decode_f32(CK_E_FLOAT, be, 1, true, f) < 0 && f[0] == 1.0f, "big-endian float");
    CHECK(ck_decode_f32(CK_E_FLOAT, lo, 1, false, f) < 0 && f[0] == 1.0f, "little-endian float");
    const uint8_t dd[16] = {0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f};
    CHECK(ck_decode_f32(CK_E_DOUBLE, dd, 2, false, f) == 0, "first rounded element");
    int64_t iv[2];
    const uint8_t u64[16] = {0, 0, 0, 0, 0, 0, 0, 0x80};
    CHECK(!ck_decode_i64(CK_E_UINT64, u64, 1, false, iv), "uint64 above INT64_MAX");
    CHECK(!ck_decode_i64(CK_E_DOUBLE, dd, 1, false, iv), "doubles are not integers");

    /* .npy: the same decoder gives the same floats as ONNX's path */
    for (int ti = 0; ti < N_TYPES; ti++) {
        const dtype *dt = &TYPES[ti];
        if (!dt->npy) continue;
        int sz = size_of(dt->t);
        for (int endian = 0; endian < 2; endian++) {
            if (endian && sz == 1) continue;
            uint8_t v[64], hdr[128];
            hand_values(dt->t, v);
            if (endian) /* big-endian copy */
                for (int e = 0; e < 4; e++)
                    for (int k = 0; k < sz / 2; k++) {
                        uint8_t tmp = v[e * sz + k];
                        v[e * sz + k] = v[e * sz + sz - 1 - k];
                        v[e * sz + sz - 1 - k] = tmp;
                    }
            char descr[8];
            snprintf(descr, sizeof descr, "%c%s", endian ? '>' : dt->npy[0], dt->npy + 1);
            char dict[96];
            int dl = snprintf(dict, sizeof dict,
                              "{'descr': '%s', 'fortran_order': False, 'shape': (4,), }", descr);
            int total = 10 + dl + 1, pad = (64 - total % 64) % 64;
            memcpy(hdr, "\x93NUMPY\x01\x00", 8);
            hdr[8] = (uint8_t)(dl + pad + 1);
            hdr[9] = 0;
            memcpy(hdr + 10, dict, (size_t)dl);
            memset(hdr + 10 + dl, ' ', (size_t)pad);
            hdr[10 + dl + pad] = '\n';
            size_t hl = (size_t)(11 + dl + pad), fl = hl + (size_t)(4 * sz);
            uint8_t *file = malloc(fl);
            memcpy(file, hdr, hl);
            memcpy(file + hl, v, (size_t)(4 * sz));
            ck_tensor_f32 *t = NULL;
            ck_diags d = {0};
            ck_status st = ck_npy_parse(file, fl, descr, &t, &d);
            float want[4];
            int64_t rounded = ck_decode_f32(dt->t, v, 4, endian, want);
            if (rounded >= 0) {
                CHECK(st != CK_OK, ".npy %s: an element that float32 rounds is refused", descr);
            } else {
                CHECK(st == CK_OK, ".npy %s: %s", descr, d.n ? d.v[0].message : "?");
                for (int e = 0; st == CK_OK && e < 4; e++)
                    CHECK(same(t->data[e], want[e]), ".npy %s element %d: %g, decoder %g", descr, e,
                          t->data[e], want[e]);
            }
            ck_tensor_f32_free(t);
            ck_diags_free(&d);
            free(file);
        }
    }
}

/* ---- weights stay in the file ------------------------------------------- */

/* Resident bytes of the mapping that holds address p (/proc/self/smaps). */
static long mapped_rss(const void *p) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512];
    bool in = false;
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ')) {
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        if (in && sscanf(line, "Rss: %ld kB", &kb) == 1) break;
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/* A 16 MB float initializer W read with ck_load_file: checking, the
 * summary and the size solver read none of it; a session decodes it once
 * (or borrows it from the mapping when it is aligned float32). */
static void test_weights_stay_in_file(void) {
    const int64_t n = 4 << 20;
    float *w = malloc((size_t)n * sizeof *w);
    for (int64_t i = 0; i < n; i++) w[i] = (float)(i % 1000) * 0.5f;
    bool seen[2] = {false, false}; /* an aligned and an unaligned payload */
    for (int name_len = 1; name_len <= 8 && !(seen[0] && seen[1]); name_len++) {
        char wname[16];
        memset(wname, 'W', (size_t)name_len);
        wname[name_len] = 0;
        tb *b = tb_new(13);
        tb_input(b, "X", 1, TB_D(n));
        Onnx__TensorProto *c = tb_tensor(b, wname, CK_E_FLOAT, 1, TB_D(n));
        c->has_raw_data = 1;
        c->raw_data.len = (size_t)n * 4;
        c->raw_data.data = (uint8_t *)w;
        b->inits[b->g.n_initializer++] = c;
        tb_node(b, "Add", "add", TB_L("X", wname), TB_L("Y"));
        tb_output(b, "Y");
        size_t len;
        uint8_t *bytes = tb_pack(b, &len);
        c->raw_data.data = NULL;
        tb_free(b);
        char path[128];
        snprintf(path, sizeof path, "%s/big%d.onnx", g_dir, name_len);
        CHECK(write_file(path, bytes, len), "write %s", path);
        free(bytes);
        ck_graph *g = NULL;
        ck_diags d = {0};
        if (ck_load_file(path, NULL, &g, &d) != CK_OK) {
            CHECK(false, "load %s: %s", path, d.n ? d.v[0].message : "?");
            ck_diags_free(&d);
            continue;
        }
        const ck_tensor *t = &g->tensors[0];
        CHECK(t->raw && !t->f32 && g->blob && t->raw_len == n * 4,
              "W is a view into the mapped file, not decoded");
        char *rep = NULL, *sum = NULL;
        CHECK(ck_check(g, &d) == CK_OK, "check");
        CHECK(ck_report(g, CK_REPORT_CHECK, CK_FORMAT_TEXT, NULL, &rep) == CK_OK, "check report");
        CHECK(ck_report(g, CK_REPORT_SUMMARY, CK_FORMAT_JSON, NULL, &sum) == CK_OK, "summary");
        ck_free(rep);
        ck_free(sum);
        long rss = mapped_rss(t->raw);
        CHECK(rss >= 0 && rss < n * 4 / 8,
              "checking and the summary map %ld bytes of the 16 MB of weights", rss);
        bool aligned = (uintptr_t)t->raw % 4 == 0;
        seen[aligned] = true;
        ck_session *s = NULL;
        ck_session_ctx *cx = NULL;
        float *x = calloc((size_t)n, sizeof *x), *y = malloc((size_t)n * sizeof *y);
        if (ck_session_new(g, NULL, &s, &d) == CK_OK && ck_session_ctx_new(s, &cx) == CK_OK) {
            ck_session_memory m = ck_session_memory_plan(s);
            CHECK(m.owned_weight_bytes == (aligned ? 0 : n * 4),
                  "%s W: the session holds %lld bytes of it", aligned ? "aligned" : "unaligned",
                  (long long)m.owned_weight_bytes);
            const float *in[1] = {x};
            float *out[1] = {y};
            CHECK(ck_session_run(s, cx, in, out) == CK_OK && !memcmp(y, w, (size_t)n * 4),
                  "X + W from the mapping");
        } else {
            CHECK(false, "session: %s", d.n ? d.v[0].message : "?");
        }
        free(x);
        free(y);
        ck_session_ctx_free(cx);
        ck_session_free(s);
        /* the graph holds the mapping: a clone with weights shares it */
        ck_graph *cl = ck_graph_clone(g, true), *cn = ck_graph_clone(g, false);
        ck_graph_free(g);
        CHECK(cl && cl->tensors[0].raw && cl->tensors[0].raw[4] == ((uint8_t *)w)[4],
              "a clone with weights keeps the view alive after the original is freed");
        CHECK(cn && !cn->tensors[0].raw && !cn->blob, "a clone without weights has no view");
        ck_graph_free(cl);
        ck_graph_free(cn);
        ck_diags_free(&d);
    }
    CHECK(seen[0] && seen[1], "both an aligned and an unaligned payload were tried");
    free(w);
}

/* ---- weights given as graph inputs -------------------------------------- */

/* Conv(X, W, B) with W and B graph inputs, then Clip(min, max) with the
 * bounds as initializers, then BatchNormalization with its four
 * parameters as graph inputs. */
static void test_weights_as_inputs(void) {
    tb *b = tb_new(13);
    tb_input(b, "X", 4, TB_D(1, 2, 4, 4));
    tb_input(b, "W", 4, TB_D(3, 2, 3, 3));
    tb_input(b, "B", 1, TB_D(3));
    tb_input(b, "scale", 1, TB_D(3));
    tb_input(b, "bias", 1, TB_D(3));
    tb_input(b, "mean", 1, TB_D(3));
    tb_input(b, "var", 1, TB_D(3));
    Onnx__NodeProto *cv = tb_node(b, "Conv", "conv", TB_L("X", "W", "B"), TB_L("c"));
    tb_attr_ints(b, cv, "pads", 4, TB_D(1, 1, 1, 1));
    tb_node(b, "BatchNormalization", "bn", TB_L("c", "scale", "bias", "mean", "var"), TB_L("Y"));
    tb_output(b, "Y");
    size_t len;
    uint8_t *bytes = tb_pack(b, &len);
    tb_free(b);
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(ck_load_onnx_memory(bytes, len, "inputs.onnx", NULL, &g, &d) == CK_OK, "load: %s",
          d.n ? d.v[0].message : "?");
    free(bytes);
    if (!g) return;
    CHECK(ck_check(g, &d) == CK_OK, "check takes W's shape from the declared input: %s",
          d.n ? d.v[0].message : "?");
    ck_layer_info li = ck_graph_layer(g, ck_graph_num_layers(g) - 1);
    CHECK(li.output.rank == 4 && li.output.d[1] == 3 && li.output.d[2] == 4, "output [1, 3, 4, 4]");
    ck_session *s = NULL;
    ck_session_ctx *cx = NULL;
    CHECK(ck_session_new(g, NULL, &s, &d) == CK_OK && ck_session_ctx_new(s, &cx) == CK_OK,
          "session: %s", d.n ? d.v[0].message : "?");
    CHECK(s && ck_session_num_inputs(s) == 7, "7 inputs");
    float x[32], w[54], bias[3], sc[3], bb[3], mu[3], var[3], y[48];
    for (int rep = 0; s && cx && rep < 2; rep++) { /* two runs, other weights: packed per run */
        for (int i = 0; i < 32; i++) x[i] = (float)((i * 7 + rep) % 11) - 5.0f;
        for (int i = 0; i < 54; i++) w[i] = (float)((i * 5 + 3 * rep) % 9) * 0.25f - 1.0f;
        for (int o = 0; o < 3; o++) {
            bias[o] = 0.5f * (float)(o - rep);
            sc[o] = 1.0f + (float)o + (float)rep;
            bb[o] = -0.25f * (float)o;
            mu[o] = 0.125f * (float)(o + rep);
            var[o] = 0.5f + (float)o;
        }
        const float *in[7] = {x, w, bias, sc, bb, mu, var};
        float *out[1] = {y};
        CHECK(ck_session_run(s, cx, in, out) == CK_OK, "run %d", rep);
        double worst = 0;
        for (int o = 0; o < 3; o++)
            for (int oy = 0; oy < 4; oy++)
                for (int ox = 0; ox < 4; ox++) {
                    double acc = bias[o];
                    for (int c = 0; c < 2; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = oy + ky - 1, ix = ox + kx - 1;
                                if (iy < 0 || iy >= 4 || ix < 0 || ix >= 4) continue;
                                acc += (double)x[(c * 4 + iy) * 4 + ix] *
                                       w[((o * 2 + c) * 3 + ky) * 3 + kx];
                            }
                    double want = (acc - mu[o]) / sqrt(var[o] + 1e-5) * sc[o] + bb[o];
                    double e = fabs(want - y[(o * 4 + oy) * 4 + ox]);
                    if (e > worst) worst = e;
                }
        CHECK(worst < 1e-4, "run %d: conv + batch norm with weights given at run time: error %g",
              rep, worst);
    }
    ck_session_ctx_free(cx);
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);

    /* Clip's bounds and Gemm's B as inputs: a bound read when the layer is
     * built follows each run's value */
    b = tb_new(13);
    tb_input(b, "A", 2, TB_D(2, 3));
    tb_input(b, "Bm", 2, TB_D(3, 2));
    tb_input(b, "lo", 1, TB_D(1));
    tb_node(b, "Gemm", "gemm", TB_L("A", "Bm"), TB_L("g"));
    tb_node(b, "PRelu", "prelu", TB_L("g", "lo"), TB_L("Y"));
    tb_output(b, "Y");
    bytes = tb_pack(b, &len);
    tb_free(b);
    g = NULL;
    CHECK(ck_load_onnx_memory(bytes, len, "gemm.onnx", NULL, &g, &d) == CK_OK, "load gemm");
    free(bytes);
    s = NULL;
    cx = NULL;
    if (g && ck_check(g, &d) == CK_OK && ck_session_new(g, NULL, &s, &d) == CK_OK &&
        ck_session_ctx_new(s, &cx) == CK_OK) {
        float a[6] = {1, -2, 3, -4, 5, -6}, bm[6] = {1, 0, 0, 1, 1, 1}, yy[4];
        for (int rep = 0; rep < 2; rep++) {
            float slope = rep ? 0.5f : 0.0f;
            const float *in[3] = {a, bm, &slope};
            float *out[1] = {yy};
            CHECK(ck_session_run(s, cx, in, out) == CK_OK, "gemm run");
            /* A @ B = [[1+3, -2+3], [-4-6, 5-6]] = [[4, 1], [-10, -1]] */
            float want[4] = {4, 1, -10 * slope, -1 * slope};
            CHECK(!memcmp(yy, want, sizeof want), "Gemm + PRelu with slope %g: %g %g %g %g", slope,
                  yy[0], yy[1], yy[2], yy[3]);
        }
    } else {
        CHECK(false, "gemm session: %s", d.n ? d.v[0].message : "?");
    }
    ck_session_ctx_free(cx);
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
}

/* ---- bad data is a diagnostic -------------------------------------------- */

/* X [3] + C, C of type t with the given dims and `raw` bytes of raw_data
 * (zeros); the packed model (the caller frees it). */
static uint8_t *add_model(int t, int rank, const int64_t *dims, size_t raw, size_t *len) {
    tb *b = tb_new(13);
    tb_input(b, "X", 1, TB_D(3));
    Onnx__TensorProto *c = tb_tensor(b, "C", t, rank, dims);
    c->has_raw_data = 1;
    c->raw_data.len = raw;
    c->raw_data.data = tb_alloc(b, raw + 1);
    b->inits[b->g.n_initializer++] = c;
    tb_node(b, "Add", "add", TB_L("X", "C"), TB_L("Y"));
    tb_output(b, "Y");
    uint8_t *bytes = tb_pack(b, len);
    tb_free(b);
    return bytes;
}

static void test_bad_data(void) {
    /* raw_data one byte short, for every type */
    for (int ti = 0; ti < N_TYPES; ti++) {
        int sz = size_of(TYPES[ti].t);
        size_t len;
        uint8_t *bytes = add_model(TYPES[ti].t, 1, TB_D(3), (size_t)(3 * sz - 1), &len);
        ck_graph *g = NULL;
        ck_diags d = {0};
        CHECK(ck_load_onnx_memory(bytes, len, "short.onnx", NULL, &g, &d) == CK_EPARSE && !g &&
                  d.n && strstr(d.v[0].message, "raw_data"),
              "%s: short raw_data: %s", TYPES[ti].name, d.n ? d.v[0].message : "no diagnostic");
        ck_diags_free(&d);
        /* every truncation: a model (cut at a field boundary) or a diagnostic */
        int silent = 0;
        for (size_t k = 1; k < len; k++) {
            ck_status st = ck_load_onnx_memory(bytes, k, "cut.onnx", NULL, &g, &d);
            if (st != CK_OK && (g || !d.n)) silent++;
            ck_graph_free(g);
            g = NULL;
            ck_diags_free(&d);
        }
        CHECK(silent == 0, "%s: %d truncations failed without a diagnostic", TYPES[ti].name,
              silent);
        free(bytes);
    }
    /* absurd dims: the element count overflows */
    size_t len;
    uint8_t *bytes = add_model(CK_E_FLOAT, 3, TB_D(1ll << 40, 1ll << 40, 16), 4, &len);
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(ck_load_onnx_memory(bytes, len, "huge.onnx", NULL, &g, &d) != CK_OK && !g && d.n,
          "absurd dims: %s", d.n ? d.v[0].message : "no diagnostic");
    ck_diags_free(&d);
    free(bytes);
    /* an external file shorter than the tensor */
    uint8_t v[32] = {0};
    ck_graph *ge = cast_model(CK_E_FLOAT, v, 4, W_EXTERNAL, "ext_ok");
    char bin[128];
    snprintf(bin, sizeof bin, "%s/w.bin", g_dir);
    CHECK(write_file(bin, v, 20), "shorten w.bin");
    if (ge) {
        ck_session *s = NULL;
        bool io = ck_check(ge, &d) == CK_OK && ck_session_new(ge, NULL, &s, &d) == CK_EIO && !s;
        bool said = false;
        for (int i = 0; i < d.n; i++) said |= strstr(d.v[i].message, "(truncated)") != NULL;
        CHECK(io && said, "short external data: %s", d.n ? d.v[0].message : "no diagnostic");
        ck_graph_free(ge);
        ck_diags_free(&d);
    }
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/ck_tensor_data_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_decoder();
    test_types_every_way();
    test_weights_stay_in_file();
    test_weights_as_inputs();
    test_bad_data();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return TEST_DONE("tensor_data");
}
