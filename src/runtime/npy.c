/* NumPy .npy reading and writing (format versions 1.0, 2.0, 3.0).
 *
 * A file is the magic "\x93NUMPY", a version (major, minor), the header
 * length (uint16 for 1.0, uint32 for 2.0 and 3.0, little-endian), a Python
 * dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then
 * the raw data. Values are decoded byte by byte by the decoder every reader
 * shares (core/elem.h), so the host's byte order does not matter. */
#include "core/core.h"
#include "core/elem.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAX_FLOATS ((int64_t)1 << 40)

static ck_status fail(ck_diags *d, ck_status st, ck_code code, const char *name, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
static ck_status fail(ck_diags *d, ck_status st, ck_code code, const char *name, const char *fmt,
                      ...) {
    ck_str s = {0};
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(&s, fmt, ap);
    va_end(ap);
    ck_diag *dg = ck_diag_parse(d, name, 0, 0, "%s: %s", name, s.p ? s.p : "");
    if (dg) dg->code = code;
    ck_str_free(&s);
    return st;
}

/* ---- the header dict ---------------------------------------------------- */

typedef struct hdr {
    const char *p, *end;
    char descr[32];
    bool has_descr, has_fortran, has_shape, fortran;
    ck_shape shape;
} hdr;

static void ws(hdr *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static bool lit(hdr *h, char c) {
    ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return true;
    }
    return false;
}

/* A quoted string ('...' or "...") without escapes, into buf. */
static bool str(hdr *h, char *buf, size_t n) {
    ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return false;
    char q = *h->p++;
    size_t k = 0;
    while (h->p < h->end && *h->p != q) {
        if (k + 1 >= n || *h->p == '\\') return false;
        buf[k++] = *h->p++;
    }
    if (h->p >= h->end) return false;
    h->p++;
    buf[k] = 0;
    return true;
}

static const char *parse_header(hdr *h) {
    if (!lit(h, '{')) return "the header does not start with '{'";
    for (;;) {
        if (lit(h, '}')) break;
        char key[32];
        if (!str(h, key, sizeof key)) return "expected a quoted key in the header";
        if (!lit(h, ':')) return "expected ':' after a header key";
        if (!strcmp(key, "descr")) {
            ws(h);
            if (h->p < h->end && *h->p == '[')
                return "structured dtypes (a list in 'descr') are not supported; save a plain "
                       "float32 array";
            if (!str(h, h->descr, sizeof h->descr)) return "'descr' is not a dtype string";
            h->has_descr = true;
        } else if (!strcmp(key, "fortran_order")) {
            ws(h);
            if (h->end - h->p >= 4 && !strncmp(h->p, "True", 4)) {
                h->fortran = true;
                h->p += 4;
            } else if (h->end - h->p >= 5 && !strncmp(h->p, "False", 5)) {
                h->fortran = false;
                h->p += 5;
            } else {
                return "'fortran_order' is neither True nor False";
            }
            h->has_fortran = true;
        } else if (!strcmp(key, "shape")) {
            if (!lit(h, '(')) return "'shape' is not a tuple";
            h->shape.rank = 0;
            for (;;) {
                if (lit(h, ')')) break;
                ws(h);
                if (h->p >= h->end || *h->p < '0' || *h->p > '9')
                    return "'shape' holds something other than non-negative integers";
                int64_t v = 0;
                while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
                    if (!ck_mul(v, 10, &v) || !ck_add(v, *h->p - '0', &v))
                        return "a 'shape' entry overflows";
                    h->p++;
                }
                if (h->p < h->end && *h->p == 'L') h->p++; /* Python 2 long */
                if (h->shape.rank == CK_MAX_RANK) return "'shape' has more than 8 axes";
                h->shape.d[h->shape.rank++] = v;
                if (lit(h, ')')) break;
                if (!lit(h, ',')) return "expected ',' or ')' in 'shape'";
            }
            h->has_shape = true;
        } else {
            return "the header has a key other than 'descr', 'fortran_order' and 'shape'";
        }
        if (lit(h, '}')) break;
        if (!lit(h, ',')) return "expected ',' between header entries";
    }
    if (!h->has_descr || !h->has_fortran || !h->has_shape)
        return "the header lacks 'descr', 'fortran_order' or 'shape'";
    return NULL;
}

/* ---- element decoding: the shared decoder (core/elem.h) ---------------- */

/* The element type of a .npy dtype: kind letter and item size. */
static int npy_elem(char kind, int size) {
    switch (kind) {
    case 'f':
        return size == 2 ? CK_E_FLOAT16 : size == 4 ? CK_E_FLOAT : size == 8 ? CK_E_DOUBLE : 0;
    case 'i':
        return size == 1   ? CK_E_INT8
               : size == 2 ? CK_E_INT16
               : size == 4 ? CK_E_INT32
               : size == 8 ? CK_E_INT64
                           : 0;
    case 'u':
        return size == 1   ? CK_E_UINT8
               : size == 2 ? CK_E_UINT16
               : size == 4 ? CK_E_UINT32
               : size == 8 ? CK_E_UINT64
                           : 0;
    case 'b':
        return size == 1 ? CK_E_BOOL : 0;
    default:
        return 0;
    }
}

ck_status ck_npy_parse(const void *bytes, size_t len, const char *name, ck_tensor_f32 **out,
                       ck_diags *d) {
    if (!out) return CK_EUSAGE;
    *out = NULL;
    if (!bytes && len) return CK_EUSAGE;
    if (!name) name = "<npy>";
    const unsigned char *b = bytes;
    if (!b || len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return fail(d, CK_EPARSE, CK_PARSE_ERROR, name,
                    "not a NumPy .npy file (it does not start with \\x93NUMPY)");
    int major = b[6], minor = b[7];
    if ((major < 1 || major > 3) || minor != 0)
        return fail(d, CK_EPARSE, CK_PARSE_ERROR, name,
                    "NumPy format version %d.%d is not supported (1.0, 2.0 and 3.0 are)", major,
                    minor);
    size_t hl, pre = major == 1 ? 10 : 12;
    if (len < pre)
        return fail(d, CK_EPARSE, CK_PARSE_ERROR, name, "the file ends inside its preamble");
    hl = (size_t)ck_elem_load(b + 8, major == 1 ? 2 : 4, false);
    if (hl > len - pre)
        return fail(d, CK_EPARSE, CK_PARSE_ERROR, name,
                    "the header claims %zu bytes but the file has only %zu after the preamble", hl,
                    len - pre);
    hdr h = {.p = (const char *)b + pre, .end = (const char *)b + pre + hl};
    const char *why = parse_header(&h);
    if (why) return fail(d, CK_EPARSE, CK_PARSE_ERROR, name, "%s", why);

    /* descr: byte order, kind, item size */
    const char *ds = h.descr;
    bool big = false;
    if (ds[0] == '<' || ds[0] == '|' || ds[0] == '=')
        ds++;
    else if (ds[0] == '>')
        big = true, ds++;
    int size = 0;
    /* the item size: one or two digits after the kind letter */
    if (ds[0] && ds[1] >= '0' && ds[1] <= '9') {
        size = ds[1] - '0';
        if (ds[2] >= '0' && ds[2] <= '9') size = size * 10 + (ds[2] - '0');
        if (ds[size >= 10 ? 3 : 2]) size = 0;
    }
    int et = npy_elem(ds[0], size);
    if (!et)
        return fail(d, CK_EPARSE, CK_UNSUPPORTED, name,
                    "dtype '%s' cannot be read as float32 (float16/32/64, integers and bool can); "
                    "save the array with .astype(numpy.float32)",
                    h.descr);
    int64_t n, bytes_needed;
    if (!ck_shape_numel(&h.shape, &n) || n > NPY_MAX_FLOATS || !ck_mul(n, size, &bytes_needed))
        return fail(d, CK_EPARSE, CK_LIMIT_EXCEEDED, name, "the shape holds too many elements");
    size_t avail = len - pre - hl;
    if ((uint64_t)bytes_needed != avail) {
        char sh[160];
        ck_shape_str(&h.shape, sh, sizeof sh);
        return fail(d, CK_EPARSE, CK_PARSE_ERROR, name,
                    "shape %s of '%s' needs %lld bytes of data, but the file has %zu%s", sh,
                    h.descr, (long long)bytes_needed, avail,
                    (uint64_t)bytes_needed > avail ? " (truncated)" : "");
    }
    ck_tensor_f32 *t;
    ck_status st = ck_tensor_f32_new(&h.shape, &t);
    if (st != CK_OK) return st;
    const unsigned char *data = b + pre + hl;
    /* Fortran order: element (i0, .., ir-1) is stored at sum i_k * prod(d_0..d_k-1) */
    int r = h.shape.rank;
    int64_t fst[CK_MAX_RANK], idx[CK_MAX_RANK] = {0}, p = 1;
    for (int i = 0; i < r; i++) {
        fst[i] = p;
        p *= h.shape.d[i];
    }
    for (int64_t e = 0; e < n; e++) {
        int64_t src = e;
        if (h.fortran) {
            src = 0;
            for (int i = 0; i < r; i++) src += idx[i] * fst[i];
            for (int i = r - 1; i >= 0; i--) {
                if (++idx[i] < h.shape.d[i]) break;
                idx[i] = 0;
            }
        }
        bool exact;
        t->data[e] =
            ck_elem_f32(et, ck_elem_load(data + (size_t)src * (size_t)size, size, big), &exact);
        if (!exact) {
            ck_tensor_f32_free(t);
            return fail(d, CK_EPARSE, CK_UNSUPPORTED, name,
                        "dtype '%s': element %lld is not exactly representable as float32; "
                        "convert the array with .astype(numpy.float32) if rounding is intended",
                        h.descr, (long long)e);
        }
    }
    *out = t;
    return CK_OK;
}

ck_status ck_npy_read(const char *path, ck_tensor_f32 **out, ck_diags *d) {
    if (!out || !path) return CK_EUSAGE;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return fail(d, CK_EIO, CK_PARSE_ERROR, path, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return fail(d, CK_EIO, CK_PARSE_ERROR, path, "not a regular file");
    }
    if ((uint64_t)sb.st_size > (uint64_t)NPY_MAX_FLOATS * 8) {
        fclose(f);
        return fail(d, CK_EIO, CK_LIMIT_EXCEEDED, path, "the file is too large");
    }
    size_t len = (size_t)sb.st_size;
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return CK_ENOMEM;
    }
    size_t got = fread(buf, 1, len, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || got != len) {
        free(buf);
        return fail(d, CK_EIO, CK_PARSE_ERROR, path, "cannot read the file");
    }
    ck_status st = ck_npy_parse(buf, len, path, out, d);
    free(buf);
    return st;
}

/* ---- writing --------------------------------------------------------------- */

ck_status ck_npy_write(const char *path, const ck_tensor_f32 *t, ck_diags *d) {
    if (!path || !t || t->shape.rank < 0 || t->shape.rank > CK_MAX_RANK) return CK_EUSAGE;
    int64_t n;
    if (!ck_shape_numel(&t->shape, &n)) return CK_EUSAGE;
    ck_str h = {0};
    ck_str_add(&h, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < t->shape.rank; i++)
        ck_str_addf(&h, "%s%lld", i ? ", " : "", (long long)t->shape.d[i]);
    ck_str_add(&h, t->shape.rank == 1 ? ",), }" : "), }");
    if (h.oom) {
        ck_str_free(&h);
        return CK_ENOMEM;
    }
    /* pad with spaces so that the data starts on a 64-byte boundary */
    size_t pre = h.n + 1 + 10 > 65535 ? 12 : 10;
    while ((pre + h.n + 1) % 64) ck_str_add(&h, " ");
    ck_str_add(&h, "\n");
    if (h.oom) {
        ck_str_free(&h);
        return CK_ENOMEM;
    }
    unsigned char head[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', pre == 10 ? 1 : 2, 0};
    for (size_t i = 0; i < pre - 8; i++) head[8 + i] = (unsigned char)(h.n >> (8 * i));

    char *tmp = NULL;
    int fd = -1;
    for (int k = 0; k < 100 && fd < 0; k++) {
        free(tmp);
        tmp = ck_sprintf("%s.part%ld-%d", path, (long)getpid(), k);
        if (!tmp) break;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        int e = errno;
        free(tmp);
        ck_str_free(&h);
        return fail(d, CK_EIO, CK_PARSE_ERROR, path, "cannot create the file: %s", strerror(e));
    }
    FILE *f = fdopen(fd, "wb");
    bool ok = f != NULL;
    if (!f) close(fd);
    if (ok) ok = fwrite(head, 1, pre, f) == pre && fwrite(h.p, 1, h.n, f) == h.n;
    unsigned char buf[4096];
    for (int64_t i = 0; ok && i < n;) {
        size_t k = 0;
        for (; k + 4 <= sizeof buf && i < n; i++, k += 4) {
            uint32_t u;
            memcpy(&u, &t->data[i], 4);
            for (int j = 0; j < 4; j++) buf[k + j] = (unsigned char)(u >> (8 * j));
        }
        ok = fwrite(buf, 1, k, f) == k;
    }
    int e = 0;
    if (f) {
        if (fflush(f) != 0) ok = false;
        e = errno;
        if (fclose(f) != 0) ok = false;
    }
    if (ok && rename(tmp, path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok) unlink(tmp);
    free(tmp);
    ck_str_free(&h);
    if (!ok)
        return fail(d, CK_EIO, CK_PARSE_ERROR, path, "cannot write the file: %s",
                    strerror(e ? e : EIO));
    return CK_OK;
}
