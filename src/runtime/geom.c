/* Tensor geometry shared by the step builders, the fast kernels and the
 * layout planner: element counts and the N x C x D x H x W view of a
 * checked shape. */
#include "runtime/runtime.h"

/* Sizes come from checked shapes; the product saturates rather than wraps
 * (a session refuses tensors above its element limit before this matters). */
int64_t rt_numel(const ck_shape *s) {
    return ck_numel_sat(s);
}

bool rt_geom_nchw2d(const rt_geom *g) {
    return g->sp[0] == 1 && g->ss[2] == 1 && (g->sp[1] == 1 || g->ss[1] == g->sp[2]) &&
           g->sc == ck_sat_mul(g->sp[1], g->sp[2]) && g->sn == ck_sat_mul(g->c, g->sc);
}

rt_geom rt_geom_of(const ck_attrs *a, const ck_shape *s, int nsp) {
    rt_geom g = {.n = 1, .c = 1, .sp = {1, 1, 1}};
    int r = s->rank;
    int64_t st[CK_MAX_RANK], p = 1;
    for (int i = r - 1; i >= 0; i--) {
        st[i] = p;
        p = ck_sat_mul(p, s->d[i]); /* strides of a checked shape; saturate, never wrap */
    }
    bool used[CK_MAX_RANK] = {0};
    int cax = ck_channel_axis(a, r, nsp);
    if (cax >= 0 && cax < r) {
        g.c = s->d[cax];
        g.sc = st[cax];
        used[cax] = true;
    }
    for (int i = 0; i < nsp; i++) {
        int ax = ck_spatial_axis(a, r, nsp, i), slot = 3 - nsp + i;
        if (ax < 0 || ax >= r) continue;
        g.sp[slot] = s->d[ax];
        g.ss[slot] = st[ax];
        used[ax] = true;
    }
    for (int i = 0; i < r; i++)
        if (!used[i]) { /* the batch axis (absent for PyTorch's unbatched form) */
            g.n = s->d[i];
            g.sn = st[i];
        }
    return g;
}
