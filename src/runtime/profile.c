/* What a step is, for profiles (ck_session_step): the kernel that runs it.
 * Its arithmetic is its layer's cost rule (session.c), the count summary
 * shows; nothing here derives it again from the step's geometry. */
#include "runtime/kernels/ref.h"

#include <stdio.h>

void rt_step_kernel_name(const rt_step *st, char *buf, size_t n) {
    if (!st->fn_mt) {
        snprintf(buf, n, "ref");
        return;
    }
    if (rt_fastconv_is(st))
        rt_fastconv_name(st, buf, n);
    else if (rt_fastlinear_is(st))
        snprintf(buf, n, "%s linear %dx%d", st->u.lin.fl.vw == 16 ? "avx512" : "avx2",
                 st->u.lin.fl.mr, 2 * st->u.lin.fl.vw);
    else
        rt_blocked_name(st, buf, n);
}
