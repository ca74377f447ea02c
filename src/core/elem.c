/* The tensor element decoder (elem.h). */
#include "core/elem.h"

#include <math.h>
#include <string.h>

const char *ck_elem_name(int t) {
    static const char *const n[] = {"UNDEFINED",  "FLOAT",   "UINT8",  "INT8",   "UINT16",
                                    "INT16",      "INT32",   "INT64",  "STRING", "BOOL",
                                    "FLOAT16",    "DOUBLE",  "UINT32", "UINT64", "COMPLEX64",
                                    "COMPLEX128", "BFLOAT16"};
    return (t >= 0 && t < (int)(sizeof n / sizeof *n)) ? n[t] : "unknown";
}

int ck_elem_size(int t) {
    switch (t) {
    case CK_E_UINT8:
    case CK_E_INT8:
    case CK_E_BOOL:
        return 1;
    case CK_E_UINT16:
    case CK_E_INT16:
    case CK_E_FLOAT16:
    case CK_E_BFLOAT16:
        return 2;
    case CK_E_FLOAT:
    case CK_E_INT32:
    case CK_E_UINT32:
        return 4;
    case CK_E_INT64:
    case CK_E_UINT64:
    case CK_E_DOUBLE:
    case CK_E_COMPLEX64:
        return 8;
    case CK_E_COMPLEX128:
        return 16;
    default:
        return 0;
    }
}

bool ck_elem_is_float(int t) {
    return t == CK_E_FLOAT || t == CK_E_FLOAT16 || t == CK_E_BFLOAT16 || t == CK_E_DOUBLE;
}

bool ck_elem_is_int(int t) {
    return t == CK_E_UINT8 || t == CK_E_INT8 || t == CK_E_UINT16 || t == CK_E_INT16 ||
           t == CK_E_INT32 || t == CK_E_INT64 || t == CK_E_UINT32 || t == CK_E_UINT64 ||
           t == CK_E_BOOL;
}

bool ck_elem_decodable(int t) {
    return ck_elem_is_float(t) || ck_elem_is_int(t);
}

float ck_half_to_float(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0    ? ldexpf((float)m, -24)
              : e == 31 ? (m ? NAN : INFINITY)
                        : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

float ck_bf16_to_float(uint16_t h) {
    uint32_t u = (uint32_t)h << 16; /* the high half of a float */
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint64_t ck_elem_load(const uint8_t *p, int size, bool big) {
    uint64_t v = 0;
    for (int i = 0; i < size; i++) v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
    return v;
}

/* The signed value of the low `bytes` bytes of u. */
static int64_t sign_extend(uint64_t u, int bytes) {
    if (bytes >= 8) return (int64_t)u;
    int sh = 64 - 8 * bytes;
    return (int64_t)(u << sh) >> sh;
}

static uint64_t low_bits(uint64_t u, int bytes) {
    return bytes >= 8 ? u : u & ((UINT64_C(1) << (8 * bytes)) - 1);
}

float ck_elem_f32(int t, uint64_t bits, bool *exact) {
    bool ok = true;
    float f = 0;
    switch (t) {
    case CK_E_FLOAT: {
        uint32_t u = (uint32_t)bits;
        memcpy(&f, &u, 4);
        break;
    }
    case CK_E_FLOAT16:
        f = ck_half_to_float((uint16_t)bits);
        break;
    case CK_E_BFLOAT16:
        f = ck_bf16_to_float((uint16_t)bits);
        break;
    case CK_E_DOUBLE: {
        double d;
        memcpy(&d, &bits, 8);
        f = (float)d;
        ok = isnan(d) || (double)f == d;
        break;
    }
    case CK_E_BOOL:
        f = (bits & 0xff) ? 1.0f : 0.0f;
        break;
    case CK_E_UINT8:
    case CK_E_UINT16:
    case CK_E_UINT32:
    case CK_E_UINT64: {
        uint64_t u = low_bits(bits, ck_elem_size(t));
        f = (float)u;
        /* (float)u may round up to 2^64, which uint64 cannot hold */
        ok = f < 1.8446744073709552e19f && (uint64_t)f == u;
        break;
    }
    case CK_E_INT8:
    case CK_E_INT16:
    case CK_E_INT32:
    case CK_E_INT64: {
        int64_t v = sign_extend(bits, ck_elem_size(t));
        f = (float)v;
        /* (float)v may round up to 2^63, which int64 cannot hold */
        ok = f < 9.2233720368547758e18f && (int64_t)f == v;
        break;
    }
    default:
        ok = false;
        break;
    }
    if (exact) *exact = ok;
    return f;
}

bool ck_elem_i64(int t, uint64_t bits, int64_t *out) {
    if (!ck_elem_is_int(t)) return false;
    int size = ck_elem_size(t);
    if (t == CK_E_BOOL) {
        *out = (bits & 0xff) != 0;
    } else if (t == CK_E_UINT8 || t == CK_E_UINT16 || t == CK_E_UINT32 || t == CK_E_UINT64) {
        uint64_t u = low_bits(bits, size);
        if (u > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)u;
    } else {
        *out = sign_extend(bits, size);
    }
    return true;
}

bool ck_host_little_endian(void) {
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

int64_t ck_decode_f32(int t, const uint8_t *src, int64_t n, bool big, float *dst) {
    int size = ck_elem_size(t);
    if (n <= 0 || !size) return -1;
    if (t == CK_E_FLOAT && big == !ck_host_little_endian()) {
        memcpy(dst, src, (size_t)n * 4); /* the common case: float32 as stored */
        return -1;
    }
    int64_t first = -1;
    for (int64_t i = 0; i < n; i++) {
        bool exact;
        dst[i] = ck_elem_f32(t, ck_elem_load(src + (size_t)i * (size_t)size, size, big), &exact);
        if (!exact && first < 0) first = i;
    }
    return first;
}

bool ck_decode_i64(int t, const uint8_t *src, int64_t n, bool big, int64_t *dst) {
    int size = ck_elem_size(t);
    if (!ck_elem_is_int(t)) return false;
    for (int64_t i = 0; i < n; i++)
        if (!ck_elem_i64(t, ck_elem_load(src + (size_t)i * (size_t)size, size, big), &dst[i]))
            return false;
    return true;
}
