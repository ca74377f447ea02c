/* One member of a zip archive in memory (the config.json and
 * model.weights.h5 of a Keras 3 .keras file), read with libzip.
 *
 * libzip rather than minizip: measured on the .keras files of the oracle
 * corpus (README, "Keras files"), it reads a member from a memory buffer
 * with its own source type (minizip needs a hand-written I/O table),
 * checks the archive's consistency and each member's CRC, and reports
 * every failure as an error code instead of leaving a short read to the
 * caller. Untrusted input: the member's declared size is checked against
 * the limit before its buffer is allocated, and a member whose data
 * inflates past its declared size fails libzip's own size check. */
#include "import/import.h"

#include <zip.h>

ck_status ck_zip_member(const uint8_t *data, size_t len, const char *member, int64_t max_bytes,
                        const char *path, uint8_t **out, size_t *out_len, ck_diags *d) {
    *out = NULL;
    *out_len = 0;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (!src) {
        zip_error_fini(&ze);
        return CK_ENOMEM;
    }
    zip_t *z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (!z) {
        ck_diag_parse(d, path, 0, 0, "%s: not a readable zip archive (%s)", path,
                      zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return CK_EPARSE;
    }
    ck_status st = CK_EPARSE;
    zip_stat_t zs;
    zip_stat_init(&zs);
    zip_int64_t idx = zip_name_locate(z, member, 0);
    zip_file_t *zf = NULL;
    uint8_t *buf = NULL;
    if (idx < 0) {
        ck_diag_parse(d, path, 0, 0, "%s: the archive has no member '%s'", path, member);
        st = CK_EIO;
        goto done;
    }
    if (zip_stat_index(z, (zip_uint64_t)idx, 0, &zs) < 0 || !(zs.valid & ZIP_STAT_SIZE)) {
        ck_diag_parse(d, path, 0, 0, "%s: the size of '%s' cannot be read", path, member);
        goto done;
    }
    if (zs.size > (zip_uint64_t)max_bytes || zs.size > (zip_uint64_t)SIZE_MAX - 1) {
        ck_diag *dg = ck_diag_parse(d, path, 0, 0,
                                    "%s: '%s' inflates to %llu bytes, past the %lld-byte limit "
                                    "(raise it with --max-file-bytes)",
                                    path, member, (unsigned long long)zs.size,
                                    (long long)max_bytes);
        if (dg) dg->code = CK_LIMIT_EXCEEDED;
        goto done;
    }
    size_t size = (size_t)zs.size;
    buf = malloc(size + 1);
    if (!buf) {
        st = CK_ENOMEM;
        goto done;
    }
    zf = zip_fopen_index(z, (zip_uint64_t)idx, 0);
    zip_int64_t got = zf ? zip_fread(zf, buf, zs.size) : -1;
    /* one more byte must not come: the member is exactly its declared size */
    uint8_t extra;
    if (got != (zip_int64_t)zs.size || (zf && zip_fread(zf, &extra, 1) != 0)) {
        ck_diag_parse(d, path, 0, 0, "%s: '%s' cannot be inflated (%s)", path, member,
                      zf ? zip_error_strerror(zip_file_get_error(zf))
                         : zip_error_strerror(zip_get_error(z)));
        goto done;
    }
    buf[size] = 0;
    *out = buf;
    *out_len = size;
    buf = NULL;
    st = CK_OK;
done:
    if (zf) zip_fclose(zf);
    free(buf);
    zip_discard(z);
    zip_error_fini(&ze);
    return st;
}
