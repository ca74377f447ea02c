#include "core/ref.h"

#include <stddef.h>

void ck_ref_init(ck_ref *r, void (*destroy)(ck_ref *r)) {
    atomic_init(&r->n, 1);
    r->destroy = destroy;
}

ck_ref *ck_ref_hold(ck_ref *r) {
    if (r) atomic_fetch_add(&r->n, 1);
    return r;
}

void ck_ref_release(ck_ref *r) {
    if (r && atomic_fetch_sub(&r->n, 1) == 1) r->destroy(r);
}
