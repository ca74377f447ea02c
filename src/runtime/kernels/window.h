/* Which taps of a window (pooling, convolution) fall inside the input: one
 * definition for the reference and the fast kernels. */
#ifndef CK_WINDOW_H
#define CK_WINDOW_H

#include "core/core.h"

/* Window taps of one axis for output o: taps j in [j0, j1) read input
 * positions o*s - pb + j*d inside [0, in); `cnt` is the divisor share of
 * this axis (PyTorch: the window clipped to the padded input when padding
 * counts, else to the input). */
static inline void rt_window(int64_t o, int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb,
                             int64_t pe, bool include_pad, int64_t *j0, int64_t *j1, int64_t *cnt) {
    int64_t start = o * s - pb;
    int64_t a = ck_ceildiv(-start, d), b = ck_floordiv(in - 1 - start, d) + 1;
    *j0 = a < 0 ? 0 : a;
    *j1 = b > k ? k : b;
    if (*j1 < *j0) *j1 = *j0;
    if (include_pad) {
        /* taps inside [-pb, in + pe) */
        int64_t c = ck_floordiv(in + pe - 1 - start, d) + 1;
        *cnt = c > k ? k : c;
    } else {
        *cnt = *j1 - *j0;
    }
}

#endif
