/* ck_load_file: reads a model file and picks the reader from its content. */
#include "import/import.h"

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

typedef enum { KIND_CNN, KIND_JSON, KIND_ONNX } kind;

static kind detect(const char *p, size_t n) {
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

ck_status ck_load_file(const char *path, const ck_limits *lim, ck_graph **out, ck_diags *diags) {
    *out = NULL;
    char *data;
    size_t len;
    ck_status st = read_file(path, lim, &data, &len, diags);
    if (st != CK_OK) return st;
    switch (detect(data, len)) {
    case KIND_JSON:
        st = ck_load_keras(data, len, path, lim, out, diags);
        break;
    case KIND_ONNX:
        st = ck_load_onnx((const uint8_t *)data, len, path, lim, out, diags);
        break;
    default:
        st = ck_parse_cnn(data, len, path, lim, out, diags);
        break;
    }
    free(data);
    return st;
}
