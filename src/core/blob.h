/* Read-only bytes shared by reference: a model file mapped into memory
 * (or a heap copy), which a graph holds while its tensors are views into
 * it. Retain and release are atomic: graphs cloned in several threads may
 * share one blob. */
#ifndef CK_BLOB_H
#define CK_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ck_blob ck_blob;
struct ck_blob {
    const uint8_t *p;
    size_t n;
    /* private */
    void *map;  /* mmap'd region (munmap on the last release), or NULL */
    void *heap; /* malloc'd bytes (freed on the last release), or NULL */
    int fd;     /* the mapped file, open until ck_blob_done_reading(); -1 */
    long refs;  /* accessed atomically */
};

/* Maps the regular file at `path` read-only; *out holds one reference.
 * Returns 0, or an errno value (ENODEV for something that is not a regular
 * file, which the caller may read another way). */
int ck_blob_map(const char *path, ck_blob **out);
/* A blob owning malloc'd `heap` of n bytes (freed with it even when this
 * fails); NULL on out-of-memory. */
ck_blob *ck_blob_adopt(void *heap, size_t n);
/* A blob holding a copy of p[0..n); NULL on out-of-memory. */
ck_blob *ck_blob_copy(const void *p, size_t n);
/* Copies bytes [off, off + n) (which must lie inside b) to dst. A mapped
 * file is read with pread, not through the mapping, so that the pages a
 * reader looks at are not mapped into the process: reading the structure
 * of a model leaves its weights untouched. False on an I/O error. */
bool ck_blob_read(const ck_blob *b, size_t off, void *dst, size_t n);
/* Closes the file behind a mapping (ck_blob_read then copies from the
 * mapping); the mapping stays. Not thread-safe: call it while one owner
 * holds b, when loading is done. */
void ck_blob_done_reading(ck_blob *b);
/* Another reference to b (b may be NULL). */
ck_blob *ck_blob_retain(ck_blob *b);
/* Drops a reference; the last one unmaps or frees (b may be NULL). */
void ck_blob_release(ck_blob *b);

#endif
