/* A structural check of an HDF5 file image before libhdf5 reads it; see
 * h5check.c. */
#ifndef CK_H5CHECK_H
#define CK_H5CHECK_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

/* True when every structure libhdf5 can reach from the root group of the
 * image is well formed and inside the image (see h5check.c for the list).
 * False with the reason in why[0..cap) otherwise: libhdf5 must not open
 * the image then. `max_depth` bounds the nesting of groups. */
bool ck_h5_check(const uint8_t *data, size_t len, int max_depth, char *why, size_t cap);

#endif
