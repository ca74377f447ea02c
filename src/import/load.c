/* ck_load_file: reads a model file and picks the reader from its content. */
#include "import/import.h"
#include "core/blob.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int64_t max_file(const ck_limits *lim) {
    return ck_limits_resolve(lim).max_file_bytes;
}

/* Reads a whole file; NUL-terminates. */
static ck_status read_file(const char *path, const ck_limits *lim, char **data, size_t *len,
                           ck_diags *d) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        ck_diag *dg = ck_diag_parse(d, path, 0, 0, "cannot open %s: %s", path, strerror(errno));
        (void)dg;
        return CK_EIO;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return CK_ENOMEM;
    }
    for (;;) {
        if (n == cap || (int64_t)n > max_file(lim)) {
            if ((int64_t)n > max_file(lim) || (int64_t)cap >= max_file(lim)) {
                free(buf);
                fclose(f);
                ck_diag *dg = ck_diag_parse(d, path, 0, 0, "%s is larger than the %lld-byte limit",
                                            path, (long long)max_file(lim));
                if (dg) dg->code = CK_LIMIT_EXCEEDED;
                return CK_EPARSE;
            }
            size_t nc = cap * 2;
            char *nb = realloc(buf, nc + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return CK_ENOMEM;
            }
            buf = nb;
            cap = nc;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        ck_diag_parse(d, path, 0, 0, "cannot read %s", path);
        return CK_EIO;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return CK_OK;
}

typedef enum { KIND_CNN, KIND_JSON, KIND_ONNX, KIND_H5, KIND_KERAS_ZIP } kind;

static kind detect(const char *p, size_t n) {
    /* HDF5's signature (at 0, or after a user block of 512 * 2^k bytes) and
     * a zip's local header: Keras .h5 and .keras files */
    for (size_t at = 0; at + 8 <= n && at <= 4096; at = at ? at * 2 : 512)
        if (!memcmp(p + at, "\x89HDF\r\n\x1a\n", 8)) return KIND_H5;
    if (n >= 4 && !memcmp(p, "PK\x03\x04", 4)) return KIND_KERAS_ZIP;
    size_t i = 0;
    if (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB) i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    if (i < n && (p[i] == '{' || p[i] == '[')) return KIND_JSON;
    /* Text specs are printable; ONNX protobuf starts with field tags and holds
     * control bytes. */
    for (size_t k = 0; k < n && k < 4096; k++) {
        unsigned char c = (unsigned char)p[k];
        if (c == 0 || (c < 9) || (c > 13 && c < 32)) return KIND_ONNX;
    }
    return KIND_CNN;
}

/* `name` for the diagnostics of a model read from memory. */
static const char *mem_name(const char *name, kind k) {
    if (name) return name;
    return k == KIND_ONNX        ? "<onnx>"
           : k == KIND_JSON      ? "<keras json>"
           : k == KIND_H5        ? "<keras h5>"
           : k == KIND_KERAS_ZIP ? "<keras archive>"
                                 : "<text>";
}

/* Reads bytes that are whole in memory: the size limit, then the reader of
 * kind k. `d` is never NULL here. */
static ck_status load_bytes(const char *bytes, size_t len, const char *name, kind k,
                            const ck_limits *lim, ck_graph **out, ck_diags *d) {
    if ((uint64_t)len > (uint64_t)max_file(lim)) {
        const char *nm = mem_name(name, k);
        ck_diag *dg = ck_diag_parse(d, nm, 0, 0, "%s is larger than the %lld-byte limit", nm,
                                    (long long)max_file(lim));
        if (dg) dg->code = CK_LIMIT_EXCEEDED;
        return CK_EPARSE;
    }
    switch (k) {
    case KIND_JSON:
        return ck_load_keras(bytes, len, name, lim, out, d);
    case KIND_ONNX:
        return ck_load_onnx((const uint8_t *)bytes, len, name, lim, out, d);
    case KIND_H5:
        return ck_load_h5((const uint8_t *)bytes, len, mem_name(name, k), lim, out, d);
    case KIND_KERAS_ZIP:
        return ck_load_keras_archive((const uint8_t *)bytes, len, mem_name(name, k), lim, out, d);
    default:
        return ck_parse_cnn(bytes, len, name, lim, out, d);
    }
}

/* The public in-memory entry points: argument checks, then load_bytes on
 * the caller's diagnostics or on a local list dropped afterwards. */
static ck_status load_public(const void *bytes, size_t len, const char *name, int k,
                             const ck_limits *lim, ck_graph **out, ck_diags *diags) {
    if (!out) return CK_EUSAGE;
    *out = NULL;
    if (!bytes && len) return CK_EUSAGE;
    if (!bytes) bytes = ""; /* nothing to read: the reader says the model is empty */
    ck_diags local = {0};
    kind kk = k >= 0 ? (kind)k : detect(bytes, len);
    ck_status st = load_bytes(bytes, len, name, kk, lim, out, diags ? diags : &local);
    ck_diags_free(&local);
    return st;
}

ck_status ck_load_memory(const void *bytes, size_t len, const char *name, const ck_limits *lim,
                         ck_graph **out, ck_diags *diags) {
    return load_public(bytes, len, name, -1, lim, out, diags);
}

ck_status ck_load_onnx_memory(const void *bytes, size_t len, const char *name, const ck_limits *lim,
                              ck_graph **out, ck_diags *diags) {
    return load_public(bytes, len, name, KIND_ONNX, lim, out, diags);
}

ck_status ck_load_keras_json(const void *bytes, size_t len, const char *name, const ck_limits *lim,
                             ck_graph **out, ck_diags *diags) {
    return load_public(bytes, len, name, KIND_JSON, lim, out, diags);
}

ck_status ck_load_file(const char *path, const ck_limits *lim, ck_graph **out, ck_diags *diags) {
    if (!out) return CK_EUSAGE;
    *out = NULL;
    if (!path) return CK_EUSAGE;
    ck_diags local = {0};
    ck_diags *d = diags ? diags : &local;
    char *data;
    size_t len;
    ck_status st;
    ck_blob *map = NULL;
    char head[4096];
    size_t hn = 0;
    /* ONNX is mapped, not read: its weights stay in the file until a run */
    if (ck_blob_map(path, &map) == 0 &&
        ck_blob_read(map, 0, head, hn = map->n < sizeof head ? map->n : sizeof head) &&
        detect(head, hn) == KIND_ONNX) {
        if ((uint64_t)map->n > (uint64_t)max_file(lim)) {
            ck_diag *dg = ck_diag_parse(d, path, 0, 0, "%s is larger than the %lld-byte limit",
                                        path, (long long)max_file(lim));
            if (dg) dg->code = CK_LIMIT_EXCEEDED;
            st = CK_EPARSE;
        } else {
            st = ck_load_onnx_blob(map, path, lim, out, d);
        }
    } else if ((st = read_file(path, lim, &data, &len, d)) == CK_OK) {
        st = load_bytes(data, len, path, detect(data, len), lim, out, d);
        free(data);
    }
    ck_blob_release(map);
    ck_diags_free(&local);
    return st;
}
