/* Shared read-only bytes (blob.h). */
#include "core/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int ck_blob_map(const char *path, ck_blob **out) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat sb;
    int e = fstat(fd, &sb) != 0                               ? errno
            : !S_ISREG(sb.st_mode) || sb.st_size <= 0         ? ENODEV
            : (uint64_t)sb.st_size > (uint64_t)(SIZE_MAX / 2) ? EFBIG
                                                              : 0;
    if (e) {
        close(fd);
        return e; /* empty files and pipes are read, not mapped */
    }
    size_t n = (size_t)sb.st_size;
    void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    e = errno;
    if (m == MAP_FAILED) {
        close(fd);
        return e ? e : ENOMEM;
    }
    ck_blob *b = calloc(1, sizeof *b);
    if (!b) {
        munmap(m, n);
        close(fd);
        return ENOMEM;
    }
    b->p = m;
    b->n = n;
    b->map = m;
    b->fd = fd;
    b->refs = 1;
    *out = b;
    return 0;
}

ck_blob *ck_blob_adopt(void *heap, size_t n) {
    ck_blob *b = calloc(1, sizeof *b);
    if (!b) {
        free(heap);
        return NULL;
    }
    b->p = heap;
    b->n = n;
    b->heap = heap;
    b->fd = -1;
    b->refs = 1;
    return b;
}

ck_blob *ck_blob_copy(const void *p, size_t n) {
    void *h = malloc(n ? n : 1);
    if (!h) return NULL;
    if (n) memcpy(h, p, n);
    return ck_blob_adopt(h, n);
}

bool ck_blob_read(const ck_blob *b, size_t off, void *dst, size_t n) {
    if (b->fd < 0) {
        memcpy(dst, b->p + off, n);
        return true;
    }
    while (n > 0) {
        ssize_t r = pread(b->fd, dst, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false; /* an error, or the file shrank */
        dst = (uint8_t *)dst + r;
        off += (size_t)r;
        n -= (size_t)r;
    }
    return true;
}

void ck_blob_done_reading(ck_blob *b) {
    if (b && b->fd >= 0) {
        close(b->fd);
        b->fd = -1;
    }
}

ck_blob *ck_blob_retain(ck_blob *b) {
    if (b) __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void ck_blob_release(ck_blob *b) {
    if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    if (b->map) munmap(b->map, b->n);
    if (b->fd >= 0) close(b->fd);
    free(b->heap);
    free(b);
}
