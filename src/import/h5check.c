/* The structure of an HDF5 file, checked before libhdf5 reads it.
 *
 * libhdf5 1.10 trusts the sizes, offsets and names it decodes from a file:
 * a hostile .h5 or .keras makes it allocate sizes read from the file,
 * copy attribute names that have no terminating NUL (a heap overflow in
 * H5O's attribute decoder) or walk past a global heap collection. convkit
 * therefore walks every structure libhdf5 can reach from the root group
 * first, with the file format specification's layouts (HDF5 File Format
 * Specification, version 0 superblock and version 1 object headers: what
 * h5py writes with its default `libver`, and every Keras file seen), and
 * hands the image to libhdf5 only when each one is well formed:
 *
 *  - the superblock (version 0 or 1, at offset 0, 4- or 8-byte offsets and
 *    lengths, its end-of-file address within the image);
 *  - every object header reachable through groups (version 1: the message
 *    count, each message's size and alignment inside its chunk, chunks
 *    linked by continuation messages inside the image and never twice);
 *  - each message libhdf5 decodes, from a fixed list: dataspace (rank at
 *    most 32), datatype (integers, IEEE half/single/double floats,
 *    strings, references, opaque tags and variable-length sequences of
 *    them, nested at most 8 deep), fill values, data layout (compact or
 *    contiguous, the stored bytes covering the elements), attributes (the
 *    name NUL-terminated inside its field, datatype and dataspace inside
 *    theirs, the data inside the message, every variable-length element's
 *    global heap object present and large enough), symbol tables,
 *    modification times and comments; any other message (shared
 *    messages, new-style links, dense attribute storage, chunked or
 *    external storage, filters) is refused;
 *  - groups: the local heap (its data and free list inside the image),
 *    the version 1 B-tree (node type, levels decreasing to 0, entries at
 *    most 2K, the whole node as libhdf5 reads it inside the image, keys
 *    naming NUL-terminated strings of the heap) and its symbol table nodes
 *    (entries at most 2K, names in the heap, hard links only);
 *  - global heap collections (each object inside the collection).
 *
 * An address is given one kind of structure only (libhdf5's metadata cache
 * keys its entries by address), every address and size is checked for
 * overflow, and a budget bounds the work by the image's size. Nothing here
 * allocates more than the list of structures seen. */
#include "import/h5check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define UNDEF UINT64_MAX

enum { K_OHDR = 1, K_CHUNK, K_HEAP, K_HEAPDATA, K_BTREE, K_SNOD, K_GCOL, K_DATA };

typedef struct seen {
    uint64_t addr;
    int kind;
} seen;

typedef struct h5v {
    const uint8_t *p;
    uint64_t n;   /* image bytes */
    uint64_t eof; /* end of the HDF5 data: min(image, superblock's end of file) */
    int so, sl;   /* size of offsets, of lengths */
    int leaf_k, node_k;
    int max_depth;
    int64_t budget;
    seen *s; /* open addressing, capacity cap (a power of two) */
    size_t ns, cap;
    bool oom;
    uint64_t gc_addr; /* the global heap collection whose objects gc lists (id, size) */
    uint64_t *gc;
    size_t gc_n, gc_cap;
    char *why;
    size_t why_cap;
    bool failed;
} h5v;

static bool fail(h5v *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(h5v *v, const char *fmt, ...) {
    if (!v->failed && v->why && v->why_cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->why, v->why_cap, fmt, ap);
        va_end(ap);
    }
    v->failed = true;
    return false;
}

/* ---- reading ----------------------------------------------------------------- */

/* Little-endian unsigned of `size` bytes at p[off]; false past `end`. */
static bool get(const uint8_t *p, uint64_t end, uint64_t off, int size, uint64_t *out) {
    *out = 0;
    if (off > end || (uint64_t)size > end - off) return false;
    uint64_t x = 0;
    for (int i = size - 1; i >= 0; i--) x = (x << 8) | p[off + (uint64_t)i];
    *out = x;
    return true;
}

/* An address (size of offsets); all ones is the undefined address. */
static bool geta(const h5v *v, const uint8_t *p, uint64_t end, uint64_t off, uint64_t *out) {
    if (!get(p, end, off, v->so, out)) return false;
    if (v->so < 8 && *out == (UINT64_C(1) << (8 * v->so)) - 1) *out = UNDEF;
    return true;
}

/* A range [addr, addr + size) inside the HDF5 data. */
static bool inside(const h5v *v, uint64_t addr, uint64_t size) {
    return addr != UNDEF && addr <= v->eof && size <= v->eof - addr;
}

static bool spend(h5v *v, int64_t units) {
    v->budget -= units;
    if (v->budget < 0) return fail(v, "the structure takes more work than the file's size allows");
    return true;
}

/* Records that `addr` holds a structure of `kind`: 1 new, 0 already
 * checked as that kind, -1 (failed) when it is another kind's address. */
static int mark(h5v *v, uint64_t addr, int kind) {
    if (v->ns * 2 >= v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        seen *t = calloc(cap, sizeof *t);
        if (!t) {
            v->oom = true;
            fail(v, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < v->cap; i++)
            if (v->s[i].kind) {
                size_t h = (size_t)(v->s[i].addr * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (cap - 1);
                while (t[h].kind) h = (h + 1) & (cap - 1);
                t[h] = v->s[i];
            }
        free(v->s);
        v->s = t;
        v->cap = cap;
    }
    size_t h = (size_t)(addr * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (v->cap - 1);
    while (v->s[h].kind) {
        if (v->s[h].addr == addr) {
            if (v->s[h].kind == kind) return 0;
            fail(v, "address %llu holds two different structures", (unsigned long long)addr);
            return -1;
        }
        h = (h + 1) & (v->cap - 1);
    }
    v->s[h] = (seen){.addr = addr, .kind = kind};
    v->ns++;
    return 1;
}

static uint64_t align8(uint64_t x) {
    return (x + 7) & ~(uint64_t)7;
}

/* ---- datatypes and dataspaces ------------------------------------------------ */

typedef struct dtype {
    int cls;
    uint64_t size; /* bytes one element takes in the file */
    bool vlen;
    uint64_t base_size; /* vlen: the bytes of one element of the sequence */
} dtype;

/* A datatype message in b[0..len); *used: its encoded size. */
static bool check_dtype(h5v *v, const uint8_t *b, uint64_t len, int depth, dtype *t,
                        uint64_t *used) {
    if (depth > 8) return fail(v, "datatypes nested deeper than 8 levels");
    uint64_t size;
    if (len < 8 || !get(b, len, 4, 4, &size)) return fail(v, "a datatype message is truncated");
    int cls = b[0] & 15, ver = b[0] >> 4;
    uint32_t bits = (uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16;
    if (ver < 1 || ver > 3) return fail(v, "datatype version %d", ver);
    *t = (dtype){.cls = cls, .size = size};
    uint64_t off = 8;
    switch (cls) {
    case 0: /* fixed-point */
    {
        uint64_t bo, bp;
        if (!get(b, len, 8, 2, &bo) || !get(b, len, 10, 2, &bp))
            return fail(v, "an integer datatype is truncated");
        if ((size != 1 && size != 2 && size != 4 && size != 8) || bo != 0 || bp != 8 * size)
            return fail(v, "an integer datatype of %llu bytes with %llu bits at offset %llu",
                        (unsigned long long)size, (unsigned long long)bp, (unsigned long long)bo);
        off += 4;
        break;
    }
    case 1: { /* floating point: IEEE half, single or double only */
        uint64_t bo, bp, bias;
        if (len < 20 || !get(b, len, 8, 2, &bo) || !get(b, len, 10, 2, &bp) ||
            !get(b, len, 16, 4, &bias))
            return fail(v, "a floating-point datatype is truncated");
        int el = b[12], es = b[13], ml = b[14], ms = b[15];
        static const int ieee[3][6] = {
            {2, 10, 5, 0, 10, 15}, {4, 23, 8, 0, 23, 127}, {8, 52, 11, 0, 52, 1023}};
        bool ok = false;
        for (int i = 0; i < 3; i++)
            ok |= size == (uint64_t)ieee[i][0] && bo == 0 && bp == 8 * size && el == ieee[i][1] &&
                  es == ieee[i][2] && ml == ieee[i][3] && ms == ieee[i][4] &&
                  bias == (uint64_t)ieee[i][5];
        /* byte order little or big, sign at the top bit, IEEE normalisation */
        ok &= (bits & 0x40) == 0 && ((bits >> 8) & 0xff) == 8 * size - 1 && ((bits >> 4) & 3) == 2;
        if (!ok)
            return fail(v, "a floating-point datatype that is not IEEE half, single or double");
        off += 12;
        break;
    }
    case 3: /* string: padding (bits 0-3) and character set (bits 4-7) */
        if (size == 0) return fail(v, "a string datatype of 0 bytes");
        if ((bits & 15) > 2 || ((bits >> 4) & 15) > 1)
            return fail(v, "a string datatype with padding %u and character set %u", bits & 15,
                        (bits >> 4) & 15);
        break;
    case 9: { /* variable-length sequence or string of a base type */
        dtype base;
        uint64_t bu;
        if (!check_dtype(v, b + off, len - off, depth + 1, &base, &bu)) return false;
        if (base.vlen) return fail(v, "a variable-length type of variable-length elements");
        off += bu;
        if (base.cls != 0 && base.cls != 3)
            return fail(v, "a variable-length type of class %d elements", base.cls);
        /* type (bits 0-3: sequence, string), padding (4-7), character set (8-11) */
        if ((bits & 15) > 1 || ((bits >> 4) & 15) > 2 || ((bits >> 8) & 15) > 1)
            return fail(v, "a variable-length type with fields 0x%x", bits & 0xfff);
        /* length, global heap collection, object index: libhdf5 sizes an
         * attribute's data by the declared size, then reads this many */
        if (size != 4 + (uint64_t)v->so + 4)
            return fail(v, "a variable-length datatype of %llu bytes (its elements take %d)",
                        (unsigned long long)size, 4 + v->so + 4);
        t->vlen = true;
        t->base_size = base.size;
        break;
    }
    default:
        return fail(v, "datatype class %d (convkit reads integers, floats and strings)", cls);
    }
    if (t->size == 0 || t->size > v->n)
        return fail(v, "a datatype of %llu bytes", (unsigned long long)t->size);
    *used = off;
    return true;
}

/* A dataspace message; *nelmts: its element count (0 for a null space). */
static bool check_space(h5v *v, const uint8_t *b, uint64_t len, uint64_t *nelmts) {
    if (len < 4) return fail(v, "a dataspace message is truncated");
    int ver = b[0], rank = b[1], flags = b[2];
    uint64_t off;
    bool null = false;
    if (ver == 1) {
        off = 8;
    } else if (ver == 2) {
        if (b[3] > 2) return fail(v, "dataspace type %d", b[3]);
        null = b[3] == 2;
        off = 4;
    } else {
        return fail(v, "dataspace version %d", ver);
    }
    if (rank > 32) return fail(v, "a dataspace of rank %d (HDF5 allows 32)", rank);
    if (flags & ~1) return fail(v, "dataspace flags 0x%x", flags);
    if (null && rank) return fail(v, "a null dataspace with dimensions");
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) {
        uint64_t d;
        if (!get(b, len, off + (uint64_t)i * (uint64_t)v->sl, v->sl, &d))
            return fail(v, "a dataspace's dimensions run past its message");
        if (d != 0 && n > UINT64_MAX / d) return fail(v, "a dataspace whose size overflows");
        n *= d;
    }
    off += (uint64_t)rank * (uint64_t)v->sl;
    if (flags & 1) {
        for (int i = 0; i < rank; i++) {
            uint64_t m;
            if (!get(b, len, off + (uint64_t)i * (uint64_t)v->sl, v->sl, &m))
                return fail(v, "a dataspace's maximum dimensions run past its message");
        }
    }
    *nelmts = null ? 0 : n;
    return true;
}

/* The bytes n elements of type t take, within `limit`. */
static bool data_bytes(h5v *v, const dtype *t, uint64_t n, uint64_t limit, uint64_t *out) {
    if (n != 0 && t->size > limit / n)
        return fail(v, "%llu elements of %llu bytes do not fit in %llu bytes",
                    (unsigned long long)n, (unsigned long long)t->size, (unsigned long long)limit);
    *out = n * t->size;
    return true;
}

/* ---- global heap --------------------------------------------------------------- */

/* The size of object `idx` of the global heap collection at `addr`. Each
 * collection is checked whole when it is first read; the object table of
 * the last one is kept (attributes list their strings in one collection). */
static bool check_gcol(h5v *v, uint64_t addr, uint64_t idx, uint64_t *osize) {
    if (addr != v->gc_addr) {
        uint64_t csize;
        if (!inside(v, addr, 16) || memcmp(v->p + addr, "GCOL", 4) != 0 || v->p[addr + 4] != 1)
            return fail(v, "a variable-length value points to %llu, which is no global heap",
                        (unsigned long long)addr);
        if (!get(v->p, v->eof, addr + 8, v->sl, &csize) || csize < 8 + (uint64_t)v->sl ||
            !inside(v, addr, csize))
            return fail(v, "a global heap collection at %llu runs past the end of the file",
                        (unsigned long long)addr);
        if (mark(v, addr, K_GCOL) < 0) return false;
        /* objects as libhdf5's H5HG deserializer walks them: index,
         * references, reserved, size, data padded to 8; index 0 is free
         * space (its size covers its header); a tail too small for a
         * header is free space */
        const uint64_t hdr = 8 + (uint64_t)v->sl;
        uint64_t p = 8 + (uint64_t)v->sl;
        v->gc_addr = UNDEF;
        v->gc_n = 0;
        while (p < csize) {
            if (!spend(v, 1)) return false;
            if (hdr > csize - p) break;
            uint64_t id, sz, need;
            get(v->p + addr, csize, p, 2, &id);
            get(v->p + addr, csize, p + 8, v->sl, &sz);
            if (id == 0) {
                need = sz;
                if (need < hdr || need > csize - p)
                    return fail(v, "the free space of the global heap at %llu is damaged",
                                (unsigned long long)addr);
            } else {
                if (sz > csize - p - hdr || align8(sz) > csize - p - hdr)
                    return fail(v, "global heap object %llu at %llu runs past its collection",
                                (unsigned long long)id, (unsigned long long)(addr + p));
                need = hdr + align8(sz);
                if (v->gc_n == v->gc_cap) {
                    size_t cap = v->gc_cap ? 2 * v->gc_cap : 64;
                    uint64_t *t = realloc(v->gc, cap * 2 * sizeof *t);
                    if (!t) {
                        v->oom = true;
                        return fail(v, "out of memory");
                    }
                    v->gc = t;
                    v->gc_cap = cap;
                }
                v->gc[2 * v->gc_n] = id;
                v->gc[2 * v->gc_n + 1] = sz;
                v->gc_n++;
            }
            p += need;
        }
        v->gc_addr = addr;
    }
    /* libhdf5 keeps the last of equal indices */
    for (size_t i = v->gc_n; i-- > 0;)
        if (v->gc[2 * i] == idx) {
            *osize = v->gc[2 * i + 1];
            return spend(v, 1 + (int64_t)(v->gc_n >> 4));
        }
    return fail(v,
                "a variable-length value names object %llu of the global heap at %llu, "
                "which has none",
                (unsigned long long)idx, (unsigned long long)addr);
}

/* n variable-length elements (length, collection address, object index). */
static bool check_vlen_data(h5v *v, const uint8_t *b, uint64_t len, uint64_t n, uint64_t base) {
    uint64_t es = 4 + (uint64_t)v->so + 4;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t cnt, at, idx, osize = 0;
        if (!spend(v, 1)) return false;
        if (!get(b, len, i * es, 4, &cnt) || !geta(v, b, len, i * es + 4, &at) ||
            !get(b, len, i * es + 4 + (uint64_t)v->so, 4, &idx))
            return fail(v, "variable-length data runs past its attribute");
        if (cnt == 0 && (at == 0 || at == UNDEF)) continue;
        if (!check_gcol(v, at, idx, &osize)) return false;
        /* libhdf5 copies the whole heap object into a buffer of cnt elements */
        if (cnt > UINT64_MAX / base || cnt * base != osize)
            return fail(v,
                        "a variable-length value of %llu elements of %llu bytes in a heap "
                        "object of %llu bytes",
                        (unsigned long long)cnt, (unsigned long long)base,
                        (unsigned long long)osize);
    }
    return true;
}

/* ---- messages ------------------------------------------------------------------ */

static bool check_attr(h5v *v, const uint8_t *b, uint64_t len) {
    if (len < 8) return fail(v, "an attribute message is truncated");
    int ver = b[0], flags = b[1];
    uint64_t nsz, tsz, ssz, off;
    get(b, len, 2, 2, &nsz);
    get(b, len, 4, 2, &tsz);
    get(b, len, 6, 2, &ssz);
    bool pad = ver == 1;
    if (ver == 1 || ver == 2) {
        off = 8;
    } else if (ver == 3) {
        if (len < 9 || b[8] > 1) return fail(v, "an attribute's name encoding is unknown");
        off = 9;
    } else {
        return fail(v, "attribute message version %d", ver);
    }
    if (ver >= 2 && flags) return fail(v, "an attribute with a shared datatype or dataspace");
    if (ver == 1 && flags) return fail(v, "an attribute message's reserved byte is %d", flags);
    uint64_t nfield = pad ? align8(nsz) : nsz, tfield = pad ? align8(tsz) : tsz,
             sfield = pad ? align8(ssz) : ssz;
    if (nsz == 0 || nfield > len - off || b[off + nsz - 1] != 0)
        return fail(v, "an attribute's name is not NUL-terminated inside its message");
    off += nfield;
    dtype t;
    uint64_t used, nel;
    if (tfield > len - off || !check_dtype(v, b + off, tsz, 0, &t, &used)) {
        if (!v->failed) fail(v, "an attribute's datatype runs past its message");
        return false;
    }
    off += tfield;
    if (sfield > len - off || !check_space(v, b + off, ssz, &nel)) {
        if (!v->failed) fail(v, "an attribute's dataspace runs past its message");
        return false;
    }
    off += sfield;
    uint64_t need = 0;
    if (!data_bytes(v, &t, nel, len - off, &need)) return false;
    if (t.vlen) return check_vlen_data(v, b + off, need, nel, t.base_size);
    return true;
}

static bool check_fill_new(h5v *v, const uint8_t *b, uint64_t len) {
    if (len < 1) return fail(v, "a fill value message is truncated");
    int ver = b[0];
    uint64_t off, sz;
    bool defined;
    if (ver == 1 || ver == 2) {
        if (len < 4) return fail(v, "a fill value message is truncated");
        if (b[1] > 3 || b[2] > 2 || b[3] > 2)
            return fail(v, "fill value message fields out of range");
        defined = b[3] != 0;
        off = 4;
        if (ver == 1 || defined) {
            if (!get(b, len, off, 4, &sz)) return fail(v, "a fill value message is truncated");
            off += 4;
            if (sz > len - off) return fail(v, "a fill value runs past its message");
        }
    } else if (ver == 3) {
        if (len < 2 || (b[1] & 0xc0)) return fail(v, "fill value flags 0x%x", len < 2 ? 0 : b[1]);
        if (b[1] & 0x20) {
            if (!get(b, len, 2, 4, &sz) || sz > len - 6)
                return fail(v, "a fill value runs past its message");
        }
    } else {
        return fail(v, "fill value message version %d", ver);
    }
    return true;
}

typedef struct ohdr {
    bool has_stab, has_type, has_space, has_layout;
    uint64_t btree, heap;
    dtype t;
    uint64_t nelmts;
    /* layout */
    int lclass;
    uint64_t laddr, lsize;
} ohdr;

static bool check_layout(h5v *v, const uint8_t *b, uint64_t len, ohdr *o) {
    if (len < 2) return fail(v, "a layout message is truncated");
    int ver = b[0];
    if (ver == 3) {
        o->lclass = b[1];
        if (b[1] == 0) { /* compact */
            uint64_t sz;
            if (!get(b, len, 2, 2, &sz) || sz > len - 4)
                return fail(v, "compact data runs past its layout message");
            o->laddr = UNDEF;
            o->lsize = sz;
        } else if (b[1] == 1) { /* contiguous */
            if (!geta(v, b, len, 2, &o->laddr) ||
                !get(b, len, 2 + (uint64_t)v->so, v->sl, &o->lsize))
                return fail(v, "a layout message is truncated");
        } else {
            return fail(v,
                        "%s storage (convkit reads compact and contiguous datasets, as Keras "
                        "writes them)",
                        b[1] == 2 ? "chunked" : "unknown");
        }
    } else if (ver == 1 || ver == 2) {
        int rank = b[1];
        if (len < 8 || rank < 1 || rank > 33) return fail(v, "a layout message is malformed");
        o->lclass = b[2];
        if (b[2] == 2 || b[2] > 2) return fail(v, "chunked or unknown storage in a layout message");
        uint64_t off = 8, addr = UNDEF;
        if (b[2] == 1) {
            if (!geta(v, b, len, off, &addr)) return fail(v, "a layout message is truncated");
            off += (uint64_t)v->so;
        }
        uint64_t n = 1;
        for (int i = 0; i < rank; i++) {
            uint64_t d;
            if (!get(b, len, off + 4 * (uint64_t)i, 4, &d))
                return fail(v, "a layout message is truncated");
            if (d && n > UINT64_MAX / d) return fail(v, "a layout whose size overflows");
            n *= d;
        }
        off += 4 * (uint64_t)rank;
        o->laddr = addr;
        o->lsize = n;
        if (b[2] == 0) {
            uint64_t sz;
            if (!get(b, len, off, 4, &sz) || sz > len - off - 4)
                return fail(v, "compact data runs past its layout message");
            o->lsize = sz;
        }
    } else {
        return fail(v, "layout message version %d", ver);
    }
    o->has_layout = true;
    return true;
}

/* One message of an object header. */
static bool check_msg(h5v *v, int type, const uint8_t *b, uint64_t len, ohdr *o) {
    switch (type) {
    case 0x00: /* nil */
    case 0x0e: /* modification time (old) */
        return true;
    case 0x01:
        if (o->has_space) return fail(v, "an object with two dataspaces");
        o->has_space = true;
        return check_space(v, b, len, &o->nelmts);
    case 0x03: {
        uint64_t used;
        if (o->has_type) return fail(v, "an object with two datatypes");
        o->has_type = true;
        return check_dtype(v, b, len, 0, &o->t, &used);
    }
    case 0x04: { /* fill value (old) */
        uint64_t sz;
        if (!get(b, len, 0, 4, &sz) || sz > len - 4)
            return fail(v, "a fill value runs past its message");
        return true;
    }
    case 0x05:
        return check_fill_new(v, b, len);
    case 0x08:
        if (o->has_layout) return fail(v, "an object with two layouts");
        return check_layout(v, b, len, o);
    case 0x0c:
        return check_attr(v, b, len);
    case 0x0d: /* comment */
        if (!len || !memchr(b, 0, len)) return fail(v, "a comment is not NUL-terminated");
        return true;
    case 0x11:
        if (o->has_stab) return fail(v, "an object with two symbol tables");
        if (!geta(v, b, len, 0, &o->btree) || !geta(v, b, len, v->so, &o->heap))
            return fail(v, "a symbol table message is truncated");
        o->has_stab = true;
        return true;
    case 0x12: /* modification time (new) */
        if (len < 8 || b[0] != 1) return fail(v, "a modification time message is malformed");
        return true;
    default:
        return fail(v,
                    "object header message type %d (convkit reads files as h5py writes them "
                    "by default: no shared messages, new-style groups, dense attributes, "
                    "external or filtered storage)",
                    type);
    }
}

/* ---- groups -------------------------------------------------------------------- */

static bool check_object(h5v *v, uint64_t addr, int depth);

typedef struct lheap {
    uint64_t data, size;
} lheap;

/* A local heap and its free list. */
static bool check_heap(h5v *v, uint64_t addr, lheap *h) {
    uint64_t hsz = 8 + 2 * (uint64_t)v->sl + (uint64_t)v->so, fl;
    if (!inside(v, addr, hsz) || memcmp(v->p + addr, "HEAP", 4) != 0 || v->p[addr + 4] != 0)
        return fail(v, "a group's local heap at %llu is missing or damaged",
                    (unsigned long long)addr);
    get(v->p, v->eof, addr + 8, v->sl, &h->size);
    get(v->p, v->eof, addr + 8 + (uint64_t)v->sl, v->sl, &fl);
    geta(v, v->p, v->eof, addr + 8 + 2 * (uint64_t)v->sl, &h->data);
    if (h->size == 0 || !inside(v, h->data, h->size))
        return fail(v, "a local heap's data at %llu runs past the end of the file",
                    (unsigned long long)h->data);
    int m = mark(v, addr, K_HEAP);
    if (m < 0) return false;
    if (m == 0) return true;
    if (h->data != addr + hsz && mark(v, h->data, K_HEAPDATA) < 0) return false;
    /* the free list: blocks of (next offset, size) inside the data; libhdf5
     * ends it with offset 1 (H5HL_FREE_NULL) and follows it without a loop
     * check, so at most one block per 2L bytes */
    uint64_t at = fl, left = h->size / (2 * (uint64_t)v->sl) + 1;
    while (at != 1 && at != UNDEF && !(v->sl == 4 && at == UINT32_MAX)) {
        uint64_t next, size;
        if (left-- == 0 || !spend(v, 1)) return fail(v, "a local heap's free list loops");
        if (at >= h->size || 2 * (uint64_t)v->sl > h->size - at)
            return fail(v, "a local heap's free list leaves its data");
        get(v->p, v->eof, h->data + at, v->sl, &next);
        get(v->p, v->eof, h->data + at + (uint64_t)v->sl, v->sl, &size);
        if (size < 2 * (uint64_t)v->sl || size > h->size - at)
            return fail(v, "a local heap's free block runs past its data");
        at = next;
    }
    return true;
}

/* A NUL-terminated name at offset `off` of heap h. */
static bool heap_name(h5v *v, const lheap *h, uint64_t off) {
    if (off >= h->size || !memchr(v->p + h->data + off, 0, (size_t)(h->size - off)))
        return fail(v, "a group names a link with no NUL-terminated name in its heap");
    return true;
}

static bool check_snod(h5v *v, uint64_t addr, const lheap *h, int depth) {
    uint64_t es = 2 * (uint64_t)v->so + 8 + 16, size = 8 + 2 * (uint64_t)v->leaf_k * es, nsym;
    if (!inside(v, addr, size) || memcmp(v->p + addr, "SNOD", 4) != 0 || v->p[addr + 4] != 1)
        return fail(v, "a group's symbol table node at %llu is missing or damaged",
                    (unsigned long long)addr);
    int m = mark(v, addr, K_SNOD);
    if (m <= 0) return m == 0 ? fail(v, "a symbol table node is listed twice") : false;
    get(v->p, v->eof, addr + 6, 2, &nsym);
    if (nsym > 2 * (uint64_t)v->leaf_k) return fail(v, "a symbol table node with too many entries");
    for (uint64_t i = 0; i < nsym; i++) {
        uint64_t e = addr + 8 + i * es, name, obj, cache;
        geta(v, v->p, v->eof, e, &name);
        geta(v, v->p, v->eof, e + (uint64_t)v->so, &obj);
        get(v->p, v->eof, e + 2 * (uint64_t)v->so, 4, &cache);
        if (!heap_name(v, h, name)) return false;
        if (cache > 1) return fail(v, "a soft link in a group (convkit follows hard links only)");
        if (!check_object(v, obj, depth + 1)) return false;
    }
    return true;
}

static bool check_btree(h5v *v, uint64_t addr, const lheap *h, int level, int depth, int hops) {
    uint64_t k = (uint64_t)v->node_k;
    uint64_t size =
        8 + 2 * (uint64_t)v->so + 2 * k * (uint64_t)v->so + (2 * k + 1) * (uint64_t)v->sl;
    if (hops > 64) return fail(v, "a group's B-tree is deeper than 64 levels");
    if (!inside(v, addr, size) || memcmp(v->p + addr, "TREE", 4) != 0)
        return fail(v, "a group's B-tree node at %llu is missing or damaged",
                    (unsigned long long)addr);
    int m = mark(v, addr, K_BTREE);
    if (m <= 0) return m == 0 ? fail(v, "a B-tree node is reached twice") : false;
    const uint8_t *b = v->p + addr;
    uint64_t used, sib;
    get(b, size, 6, 2, &used);
    if (b[4] != 0) return fail(v, "a group's B-tree holds node type %d", b[4]);
    if (level >= 0 && b[5] != level)
        return fail(v, "a B-tree node's level is %d, not %d", b[5], level);
    if (used > 2 * k)
        return fail(v, "a B-tree node with %llu entries (at most %llu)", (unsigned long long)used,
                    (unsigned long long)(2 * k));
    for (int s = 0; s < 2; s++) {
        geta(v, b, size, 8 + (uint64_t)s * (uint64_t)v->so, &sib);
        if (sib != UNDEF && !inside(v, sib, size))
            return fail(v, "a B-tree sibling outside the file");
    }
    uint64_t off = 8 + 2 * (uint64_t)v->so, step = (uint64_t)v->sl + (uint64_t)v->so;
    for (uint64_t i = 0; i <= used; i++) {
        uint64_t key;
        get(b, size, off + i * step, v->sl, &key);
        /* key 0 (the left-most) may be the empty name at offset 0 */
        if (!heap_name(v, h, key)) return false;
    }
    for (uint64_t i = 0; i < used; i++) {
        uint64_t child;
        if (!spend(v, 1)) return false;
        geta(v, b, size, off + i * step + (uint64_t)v->sl, &child);
        bool ok = b[5] == 0 ? check_snod(v, child, h, depth)
                            : check_btree(v, child, h, b[5] - 1, depth, hops + 1);
        if (!ok) return false;
    }
    return true;
}

/* ---- object headers ------------------------------------------------------------ */

static bool check_object(h5v *v, uint64_t addr, int depth) {
    if (depth > v->max_depth) return fail(v, "groups nested deeper than %d levels", v->max_depth);
    if (!inside(v, addr, 16))
        return fail(v, "an object header at %llu is outside the file", (unsigned long long)addr);
    int m = mark(v, addr, K_OHDR);
    if (m <= 0) return m == 0; /* a hard link to an object already checked */
    const uint8_t *h = v->p + addr;
    uint64_t nmsg, size;
    if (h[0] != 1)
        return fail(v, "object header version %d at %llu (convkit reads version 1)", h[0],
                    (unsigned long long)addr);
    get(h, 16, 2, 2, &nmsg);
    get(h, 16, 8, 4, &size);
    ohdr o = {0};
    uint64_t chunk = addr + 16, clen = size, seen_msgs = 0;
    int chunks = 0;
    while (chunk != UNDEF) {
        if (++chunks > 4096 || !spend(v, 1))
            return fail(v, "an object header with too many chunks");
        if (!inside(v, chunk, clen) || (clen & 7))
            return fail(v,
                        "an object header chunk at %llu (%llu bytes) is outside the file or "
                        "unaligned",
                        (unsigned long long)chunk, (unsigned long long)clen);
        if (chunks > 1 && mark(v, chunk, K_CHUNK) <= 0) {
            if (!v->failed) fail(v, "an object header chunk is linked twice");
            return false;
        }
        uint64_t next = UNDEF, next_len = 0, p = 0;
        const uint8_t *c = v->p + chunk;
        while (p < clen) {
            uint64_t type, msz;
            if (clen - p < 8) return fail(v, "an object header chunk ends inside a message header");
            get(c, clen, p, 2, &type);
            get(c, clen, p + 2, 2, &msz);
            int flags = c[p + 4];
            if (msz > clen - p - 8 || (msz & 7))
                return fail(v, "an object header message runs past its chunk");
            if (!spend(v, 1 + (int64_t)(msz >> 6))) return false;
            if (flags & 0x02) return fail(v, "a shared object header message");
            seen_msgs++;
            if (type == 0x10) { /* continuation */
                if (next != UNDEF) return fail(v, "two continuation messages in one chunk");
                if (!geta(v, c + p + 8, msz, 0, &next) ||
                    !get(c + p + 8, msz, (uint64_t)v->so, v->sl, &next_len))
                    return fail(v, "a continuation message is truncated");
                if (next == UNDEF || next_len == 0)
                    return fail(v, "a continuation message points nowhere");
            } else if (!check_msg(v, (int)type, c + p + 8, msz, &o)) {
                return false;
            }
            p += 8 + msz;
        }
        chunk = next;
        clen = next_len;
    }
    if (seen_msgs != nmsg)
        return fail(v, "an object header counts %llu messages but holds %llu",
                    (unsigned long long)nmsg, (unsigned long long)seen_msgs);
    if (o.has_layout || o.has_type || o.has_space) { /* a dataset */
        if (!o.has_layout || !o.has_type || !o.has_space)
            return fail(v, "a dataset without its datatype, dataspace or layout");
        uint64_t need = 0;
        if (!data_bytes(v, &o.t, o.nelmts, UINT64_MAX, &need)) return false;
        if (o.lclass == 1 && o.laddr != UNDEF) {
            if (o.lsize < need || !inside(v, o.laddr, o.lsize))
                return fail(v,
                            "a dataset's %llu stored bytes at %llu are outside the file or "
                            "fewer than its %llu elements need",
                            (unsigned long long)o.lsize, (unsigned long long)o.laddr,
                            (unsigned long long)o.nelmts);
            if (need && mark(v, o.laddr, K_DATA) < 0) return false;
        } else if (o.lclass == 0 && o.lsize < need) {
            return fail(v, "a compact dataset stores fewer bytes than its elements need");
        }
    }
    if (o.has_stab) {
        lheap hp;
        if (!check_heap(v, o.heap, &hp)) return false;
        if (!check_btree(v, o.btree, &hp, -1, depth, 0)) return false;
    }
    return true;
}

bool ck_h5_check(const uint8_t *data, size_t len, int max_depth, char *why, size_t cap) {
    h5v v = {.p = data,
             .n = len,
             .max_depth = max_depth > 0 ? max_depth : 64,
             .why = why,
             .why_cap = cap,
             .gc_addr = UNDEF};
    if (why && cap) why[0] = 0;
    /* work: a few units per byte of the file, plenty for any real one */
    v.budget = 1000 + 4 * (int64_t)(len < INT64_MAX / 8 ? len : INT64_MAX / 8);
    if (len < 56 || memcmp(data, "\x89HDF\r\n\x1a\n", 8) != 0)
        return fail(&v, "no HDF5 superblock at the start of the file");
    int ver = data[8];
    if (ver > 1)
        return fail(&v,
                    "superblock version %d (convkit reads versions 0 and 1, what h5py writes "
                    "by default)",
                    ver);
    if (data[9] != 0 || data[10] != 0 || data[12] != 0)
        return fail(&v, "superblock field versions %d/%d/%d", data[9], data[10], data[12]);
    v.so = data[13];
    v.sl = data[14];
    if ((v.so != 4 && v.so != 8) || (v.sl != 4 && v.sl != 8))
        return fail(&v, "offsets of %d and lengths of %d bytes", v.so, v.sl);
    uint64_t lk, nk;
    get(data, len, 16, 2, &lk);
    get(data, len, 18, 2, &nk);
    if (lk == 0 || nk == 0 || lk > 1024 || nk > 1024)
        return fail(&v, "group node sizes %llu/%llu", (unsigned long long)lk,
                    (unsigned long long)nk);
    v.leaf_k = (int)lk;
    v.node_k = (int)nk;
    uint64_t off = 24 + (ver == 1 ? 4 : 0), base, fs, eof, drv;
    v.eof = len;
    if (!geta(&v, data, len, off, &base) || !geta(&v, data, len, off + (uint64_t)v.so, &fs) ||
        !geta(&v, data, len, off + 2 * (uint64_t)v.so, &eof) ||
        !geta(&v, data, len, off + 3 * (uint64_t)v.so, &drv))
        return fail(&v, "the superblock is truncated");
    if (base != 0) return fail(&v, "a base address of %llu", (unsigned long long)base);
    if (fs != UNDEF || drv != UNDEF)
        return fail(&v, "a free-space or driver block in the superblock");
    if (eof > len)
        return fail(&v, "the file is truncated: its superblock says %llu bytes, the file has %zu",
                    (unsigned long long)eof, len);
    v.eof = eof;
    off += 4 * (uint64_t)v.so;
    /* the root group's symbol table entry */
    uint64_t root, cache;
    if (!geta(&v, data, v.eof, off + (uint64_t)v.so, &root) ||
        !get(data, v.eof, off + 2 * (uint64_t)v.so, 4, &cache) ||
        off + 2 * (uint64_t)v.so + 8 + 16 > v.eof)
        return fail(&v, "the superblock is truncated");
    if (cache > 1)
        return fail(&v, "the root group's entry has cache type %llu", (unsigned long long)cache);
    bool ok = check_object(&v, root, 0);
    if (ok && cache == 1) {
        /* libhdf5 reads the root group's cached B-tree and heap addresses too */
        uint64_t bt, hp;
        lheap h;
        geta(&v, data, v.eof, off + 2 * (uint64_t)v.so + 8, &bt);
        geta(&v, data, v.eof, off + 3 * (uint64_t)v.so + 8, &hp);
        int mb = -1;
        for (size_t i = 0; i < v.cap && mb < 0; i++)
            if (v.s[i].kind == K_BTREE && v.s[i].addr == bt) mb = 1;
        ok = check_heap(&v, hp, &h) && (mb == 1 || check_btree(&v, bt, &h, -1, 0, 0));
    }
    free(v.s);
    free(v.gc);
    return ok && !v.failed;
}
