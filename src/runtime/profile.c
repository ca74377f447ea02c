/* What a step is, for profiles (ck_session_step): the kernel that runs it
 * and the arithmetic it does. */
#include "runtime/kernels/ref.h"

#include <stdio.h>

static int64_t spatial(const rt_geom *g) {
    return g->sp[0] * g->sp[1] * g->sp[2];
}

int64_t rt_step_flops(const rt_step *st) {
    if (st->kind == RT_K_CONV || st->kind == RT_K_CONV_NHWC) {
        const rt_geom *x = &st->u.conv.x, *y = &st->u.conv.y;
        int64_t k = st->u.conv.k[0] * st->u.conv.k[1] * st->u.conv.k[2];
        return 2 * y->n * y->c * (x->c / st->u.conv.groups) * k * spatial(y);
    }
    if (st->kind == RT_K_TCONV || st->kind == RT_K_TCONV_NHWC) {
        const rt_geom *x = &st->u.conv.x, *y = &st->u.conv.y;
        int64_t k = st->u.conv.k[0] * st->u.conv.k[1] * st->u.conv.k[2];
        return 2 * x->n * x->c * (y->c / st->u.conv.groups) * k * spatial(x);
    }
    if (st->kind == RT_K_SEPARABLE || st->kind == RT_K_SEPARABLE_NHWC) {
        const rt_geom *x = &st->u.conv.x, *y = &st->u.conv.y;
        int64_t k = st->u.conv.k[0] * st->u.conv.k[1] * st->u.conv.k[2],
                cm = x->c * st->u.conv.mult;
        return 2 * y->n * spatial(y) * (cm * k + cm * y->c);
    }
    if (st->kind == RT_K_LINEAR) return 2 * st->u.lin.m * st->u.lin.k * st->u.lin.n;
    if (st->kind == RT_K_MATMUL) return 2 * st->u.mm.batch * st->u.mm.m * st->u.mm.k * st->u.mm.n;
    return 0;
}

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
