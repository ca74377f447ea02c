/* A reference count heading an object that its last release destroys. It
 * lets a lower layer hold an object of a higher one without knowing its
 * type: a graph (src/graph) shares the source map of the code it was read
 * from (src/import/srcedit.c) with its clones. Atomic: clones made in
 * several threads may share one object. */
#ifndef CK_REF_H
#define CK_REF_H

#include <stdatomic.h>

typedef struct ck_ref {
    atomic_int n;
    void (*destroy)(struct ck_ref *r); /* frees the object r heads */
} ck_ref;

/* r with one reference, destroyed by `destroy` */
void ck_ref_init(ck_ref *r, void (*destroy)(ck_ref *r));
/* another reference to r (NULL: NULL) */
ck_ref *ck_ref_hold(ck_ref *r);
/* drops one; the last destroys the object (NULL: nothing) */
void ck_ref_release(ck_ref *r);

#endif
