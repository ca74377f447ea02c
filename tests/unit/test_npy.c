/* NumPy .npy reading and writing: format versions, dtypes converted or
 * refused, Fortran order, malformed files, atomic writes. */
#include "convkit.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An .npy image: preamble for `version`, the header text, then data. */
static size_t build(unsigned char *buf, int version, const char *header, const void *data,
                    size_t n) {
    size_t hl = strlen(header), pre = version == 1 ? 10 : 12;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)version;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(buf + pre, header, hl);
    if (n) memcpy(buf + pre + hl, data, n);
    return pre + hl + n;
}

static unsigned char img[1 << 16];

static ck_status parse(int version, const char *header, const void *data, size_t n,
                       ck_tensor_f32 **t, ck_diags *d) {
    size_t len = build(img, version, header, data, n);
    return ck_npy_parse(img, len, "t.npy", t, d);
}

static bool has(const ck_diags *d, const char *text) {
    for (int i = 0; i < d->n; i++)
        if (d->v[i].message && strstr(d->v[i].message, text)) return true;
    return false;
}

static void versions_and_dtypes(void) {
    float f[6] = {1, -2, 3.5f, 0.25f, -0.5f, 6};
    for (int v = 1; v <= 3; v++) {
        ck_tensor_f32 *t = NULL;
        ck_diags d = {0};
        CHECK(parse(v, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", f, sizeof f,
                    &t, &d) == CK_OK,
              "version %d.0 reads", v);
        CHECK(t && t->shape.rank == 2 && t->shape.d[0] == 2 && t->shape.d[1] == 3 &&
                  !memcmp(t->data, f, sizeof f),
              "version %d.0 data", v);
        ck_tensor_f32_free(t);
        ck_diags_free(&d);
    }
    ck_tensor_f32 *t = NULL;
    ck_diags d = {0};
    /* big-endian float32 */
    unsigned char be[8] = {0x3f, 0x80, 0, 0, 0xc0, 0x00, 0, 0};
    CHECK(parse(1, "{\"descr\": \">f4\", \"fortran_order\": False, \"shape\": (2,)}", be, 8, &t,
                &d) == CK_OK &&
              t->data[0] == 1.0f && t->data[1] == -2.0f,
          ">f4 is converted");
    ck_tensor_f32_free(t);
    /* float64, exact and not */
    double dv[2] = {0.5, -3.0};
    CHECK(parse(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", dv, 16, &t, &d) ==
                  CK_OK &&
              t->data[1] == -3.0f,
          "exact float64 is converted");
    ck_tensor_f32_free(t);
    dv[0] = 0.1;
    CHECK(parse(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", dv, 16, &t, &d) ==
                  CK_EPARSE &&
              !t && has(&d, "element 0 is not exactly representable as float32"),
          "inexact float64 is refused");
    ck_diags_free(&d);
    /* integers, bool, float16 */
    int64_t iv[3] = {-5, 16777216, 7};
    CHECK(parse(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", iv, 24, &t, &d) ==
                  CK_OK &&
              t->data[0] == -5.0f && t->data[1] == 16777216.0f,
          "small int64 converted");
    ck_tensor_f32_free(t);
    iv[2] = ((int64_t)1 << 60) + 1;
    CHECK(parse(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", iv, 24, &t, &d) ==
                  CK_EPARSE &&
              has(&d, "element 2 is not exactly"),
          "2^60+1 refused");
    ck_diags_free(&d);
    unsigned char u8[3] = {0, 200, 255};
    CHECK(parse(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", u8, 3, &t, &d) ==
                  CK_OK &&
              t->data[2] == 255.0f,
          "uint8");
    ck_tensor_f32_free(t);
    CHECK(parse(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", u8, 3, &t, &d) ==
                  CK_OK &&
              t->data[0] == 0.0f && t->data[1] == 1.0f,
          "bool");
    ck_tensor_f32_free(t);
    uint16_t h[2] = {0x3c00, 0xc000}; /* 1.0, -2.0 */
    CHECK(parse(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", h, 4, &t, &d) ==
                  CK_OK &&
              t->data[0] == 1.0f && t->data[1] == -2.0f,
          "float16");
    ck_tensor_f32_free(t);
    int16_t i16[2] = {-300, 12};
    CHECK(parse(1, "{'descr': '<i2', 'fortran_order': False, 'shape': (1, 2), }", i16, 4, &t, &d) ==
                  CK_OK &&
              t->data[0] == -300.0f,
          "int16");
    ck_tensor_f32_free(t);
    /* scalar */
    float one = 4.0f;
    CHECK(parse(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", &one, 4, &t, &d) ==
                  CK_OK &&
              t->shape.rank == 0 && t->data[0] == 4.0f,
          "0-d array");
    ck_tensor_f32_free(t);
    ck_diags_free(&d);
}

static void fortran(void) {
    /* [[0, 1, 2], [3, 4, 5]] stored column by column */
    float f[6] = {0, 3, 1, 4, 2, 5};
    ck_tensor_f32 *t = NULL;
    ck_diags d = {0};
    CHECK(parse(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f, sizeof f, &t,
                &d) == CK_OK,
          "Fortran order reads");
    for (int i = 0; t && i < 6; i++) CHECK(t->data[i] == (float)i, "Fortran element %d", i);
    ck_tensor_f32_free(t);
    ck_diags_free(&d);
}

static void malformed(void) {
    float f[4] = {0};
    ck_tensor_f32 *t = NULL;
    struct {
        int version;
        const char *header;
        size_t n;
        const char *want;
    } bad[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 16, "truncated"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 16, "needs 8 bytes"},
        {1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, "dtype '<c8'"},
        {1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16, "dtype '|O'"},
        {1, "{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", 12, "dtype '<U3'"},
        {1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4, "structured"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4, "non-negative"},
        {1, "{'descr': '<f4', 'shape': (1,), }", 4, "lacks"},
        {1, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", 4, "neither"},
        {1, "['<f4']", 4, "does not start"},
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", 4,
         "more than 8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_diags d = {0};
        ck_status st = parse(bad[i].version, bad[i].header, f, bad[i].n, &t, &d);
        CHECK(st == CK_EPARSE && !t && has(&d, bad[i].want) && d.v[0].file,
              "case %zu: want '%s', got %d %s", i, bad[i].want, st, d.n ? d.v[0].message : "");
        ck_diags_free(&d);
    }
    ck_diags d = {0};
    CHECK(ck_npy_parse("PK\x03\x04zipzipzip", 12, "x.npz", &t, &d) == CK_EPARSE &&
              has(&d, "not a NumPy .npy file"),
          "not npy");
    ck_diags_free(&d);
    size_t len = build(img, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f, 4);
    img[6] = 4;
    CHECK(ck_npy_parse(img, len, "v4.npy", &t, &d) == CK_EPARSE && has(&d, "version 4.0"),
          "version 4.0 refused");
    ck_diags_free(&d);
    img[6] = 1;
    img[8] = 0xff; /* header longer than the file */
    CHECK(ck_npy_parse(img, len, "h.npy", &t, &d) == CK_EPARSE && has(&d, "header claims"),
          "header length past the end");
    ck_diags_free(&d);
}

static void files(void) {
    char dir[] = "/tmp/convkit-npy-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    ck_shape s = {.rank = 3, .d = {2, 1, 3}};
    ck_tensor_f32 *t = NULL, *u = NULL;
    CHECK(ck_tensor_f32_new(&s, &t) == CK_OK, "new");
    for (int i = 0; i < 6; i++) t->data[i] = (float)i * 0.5f - 1.0f;
    ck_diags d = {0};
    CHECK(ck_npy_write(path, t, &d) == CK_OK, "write");
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && sb.st_size % 64 == 24, "data starts on a 64-byte boundary");
    CHECK(ck_npy_read(path, &u, &d) == CK_OK && u->shape.rank == 3 && u->shape.d[2] == 3 &&
              !memcmp(u->data, t->data, 6 * sizeof(float)),
          "round trip");
    ck_tensor_f32_free(u);
    /* 1-D and 0-D headers as numpy writes them */
    ck_tensor_f32 *v = NULL;
    ck_shape s1 = {.rank = 1, .d = {5}};
    ck_tensor_f32_new(&s1, &v);
    CHECK(ck_npy_write(path, v, &d) == CK_OK, "write 1-D");
    FILE *f = fopen(path, "rb");
    char head[128] = {0};
    if (f) {
        CHECK(fread(head, 1, 100, f) == 100, "read back");
        fclose(f);
    }
    CHECK(strstr(head + 10, "'shape': (5,), }") != NULL, "1-D shape written as (5,)");
    ck_tensor_f32_free(v);
    /* unwritable: nothing appears */
    snprintf(path, sizeof path, "%s/missing/b.npy", dir);
    CHECK(ck_npy_write(path, t, &d) == CK_EIO && has(&d, "cannot create"), "unwritable");
    CHECK(stat(path, &sb) != 0, "no file after a failed write");
    snprintf(path, sizeof path, "%s/none.npy", dir);
    CHECK(ck_npy_read(path, &u, &d) == CK_EIO && !u && has(&d, "cannot open"), "missing file");
    CHECK(ck_npy_read(dir, &u, &d) == CK_EIO && has(&d, "not a regular file"), "a folder");
    /* the oracle references were written by numpy 1.24 */
    CHECK(ck_npy_read("tests/oracle/networks/reference/chain.input.npy", &u, &d) == CK_OK &&
              u->shape.rank == 4 && u->shape.d[1] == 3 && u->shape.d[3] == 32,
          "numpy's own file");
    ck_tensor_f32_free(u);
    ck_tensor_f32_free(t);
    ck_diags_free(&d);
    snprintf(path, sizeof path, "%s/a.npy", dir);
    unlink(path);
    rmdir(dir);
    /* deterministic normal values */
    ck_tensor_f32 *a = NULL, *b = NULL;
    ck_shape big = {.rank = 1, .d = {10001}};
    ck_tensor_f32_new(&big, &a);
    ck_tensor_f32_new(&big, &b);
    ck_tensor_f32_fill_normal(a, 7);
    ck_tensor_f32_fill_normal(b, 7);
    double m = 0, v2 = 0;
    for (int i = 0; i < 10001; i++) m += a->data[i];
    m /= 10001;
    for (int i = 0; i < 10001; i++) v2 += (a->data[i] - m) * (a->data[i] - m);
    v2 /= 10001;
    CHECK(!memcmp(a->data, b->data, 10001 * sizeof(float)), "same seed, same values");
    CHECK(fabs(m) < 0.05 && fabs(v2 - 1) < 0.05, "standard normal: mean %g var %g", m, v2);
    ck_tensor_f32_fill_normal(b, 8);
    CHECK(memcmp(a->data, b->data, 10001 * sizeof(float)) != 0, "another seed differs");
    ck_tensor_f32_free(a);
    ck_tensor_f32_free(b);
    ck_shape neg = {.rank = 1, .d = {-1}};
    CHECK(ck_tensor_f32_new(&neg, &a) == CK_EUSAGE && !a, "negative dim refused");
}

int main(void) {
    versions_and_dtypes();
    fortran();
    malformed();
    files();
    return TEST_DONE("npy");
}
