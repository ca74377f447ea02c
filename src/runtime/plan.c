/* Whole-network planning, after every step is built with its reference
 * kernel and the convolutions that qualify got fast kernels (fastconv.c).
 *
 * 1. Layout. Each arena buffer (store) holds NCHW or blocked data (see
 *    fastconv.h). Fast convolutions read and write either; pooling, batch
 *    norm, zero-preserving activations and same-shape add/sub/mul run on
 *    blocked data when all their operands are blocked; everything else
 *    (graph outputs, views that reshape, other layers) needs NCHW. Starting
 *    from "every candidate buffer blocked", buffers are demoted until every
 *    step is consistent; the convolutions then convert at the edges (they
 *    pack NCHW input and can write NCHW output), so no reorder steps exist.
 * 2. Fusion into a fast convolution's output stage, following the chain of
 *    steps that run in place on its output: a batch norm (folded into the
 *    packed weights and bias), a residual add (the other operand is read in
 *    the output stage; it must be complete before the convolution runs),
 *    and a clamp (ReLU, ReLU6, Hardtanh). Folded steps become no-ops. */
#include "runtime/kernels/ref.h"
#include "runtime/pool.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum kind { K_OTHER, K_CONV, K_FOLLOW, K_GPOOL } kind;

typedef struct bfns {
    void (*pool)(const rt_bpool *, const float *, float *, int64_t, int64_t);
    void (*gpool)(int64_t, int64_t, int, const float *, float *);
    void (*affine)(int64_t, const float *, const float *, const float *, float *);
    void (*binary)(int, int64_t, const float *, const float *, float *);
} bfns;

static const bfns b512 = {rt_avx512_bpool_task, rt_avx512_bgpool, rt_avx512_baffine,
                          rt_avx512_bbinary};
static const bfns b256 = {rt_avx2_bpool_task, rt_avx2_bgpool, rt_avx2_baffine, rt_avx2_bbinary};

static const bfns *bfns_of(int vw) {
    return vw == 16 ? &b512 : &b256;
}

/* Activations with f(0) = 0: they keep the padded channels zero. */
static bool zero_act(const rt_act *a) {
    switch (a->act) {
    case CK_ACT_NONE:
    case CK_ACT_IDENTITY:
    case CK_ACT_RELU:
    case CK_ACT_RELU6:
    case CK_ACT_LEAKY_RELU:
    case CK_ACT_ELU:
    case CK_ACT_SELU:
    case CK_ACT_GELU:
    case CK_ACT_SILU:
    case CK_ACT_HARDSWISH:
    case CK_ACT_TANH:
    case CK_ACT_SOFTSIGN:
        return true;
    case CK_ACT_CLIP:
        return a->alpha <= 0.0f && a->beta >= 0.0f;
    default:
        return false;
    }
}

static const ck_shape *shape_of(const ck_session *s, int v) {
    return &s->vals[v].shape;
}

static int store_of(const ck_session *s, int v) {
    return s->vals[v].store;
}

static kind kind_of(const ck_session *s, const rt_step *st) {
    if (rt_fastconv_is(st)) return K_CONV;
    /* the registry says which ops may run blocked; the step's kind and
     * geometry say whether this one can */
    if (!(ck_op_flags(s->g->nodes[st->node].op) & CK_OPF_BLOCKED)) return K_OTHER;
    if (st->n_out != 1 || st->n_in < 1) return K_OTHER;
    const ck_shape *y = shape_of(s, st->out[0]);
    if (y->rank != 4) return K_OTHER;
    if (st->kind == RT_K_ACT) {
        bool post = st->post.act == CK_ACT_NONE;
        return post && zero_act(&st->u.act) && ck_shape_eq(shape_of(s, st->in[0]), y) ? K_FOLLOW
                                                                                      : K_OTHER;
    }
    if (!zero_act(&st->post)) return K_OTHER;
    if (st->kind == RT_K_AFFINE)
        return st->u.affine.c == y->d[1] && st->u.affine.inner == y->d[2] * y->d[3] &&
                       st->u.affine.outer == y->d[0]
                   ? K_FOLLOW
                   : K_OTHER;
    if (st->kind == RT_K_BINARY) {
        rt_bin op = st->u.bin.op;
        if (st->n_in != 2 || (op != RT_ADD && op != RT_SUB && op != RT_MUL)) return K_OTHER;
        for (int k = 0; k < 2; k++)
            if (!ck_shape_eq(shape_of(s, st->in[k]), y)) return K_OTHER;
        return K_FOLLOW;
    }
    if (st->kind == RT_K_POOL) {
        bool two_d = st->u.pool.k[0] == 1 && st->u.pool.pb[0] == 0;
        return rt_geom_nchw2d(&st->u.pool.x) && two_d ? K_FOLLOW : K_OTHER;
    }
    if (st->kind == RT_K_APOOL) {
        const rt_geom *x = &st->u.apool.x, *g = &st->u.apool.y;
        bool one = g->sp[0] == 1 && g->sp[1] == 1 && g->sp[2] == 1 && g->sc == 1;
        return one && rt_geom_nchw2d(x) && shape_of(s, st->in[0])->rank == 4 ? K_GPOOL : K_OTHER;
    }
    return K_OTHER;
}

/* ---- blocked kernels of the pooling and elementwise steps ------------------- */

typedef struct bjob {
    const rt_step *st;
    const bfns *f;
    const float *const *in;
    float *const *out;
    const rt_bpool *bp; /* pooling: the step's, or one image of it */
} bjob;

enum { CHUNK = 1 << 14 }; /* floats per elementwise task */

static void post_act(const rt_step *st, float *y, int64_t n) {
    if (st->post.act != CK_ACT_NONE) rt_act_apply(&st->post, y, y, n);
}

static void act_one(void *a, int64_t t, int thread) {
    (void)thread;
    const bjob *j = a;
    int64_t i = t * CHUNK, n = j->st->blk.floats - i < CHUNK ? j->st->blk.floats - i : CHUNK;
    rt_act_apply(&j->st->u.act, j->in[0] + i, j->out[0] + i, n);
}

static void binary_one(void *a, int64_t t, int thread) {
    (void)thread;
    const bjob *j = a;
    const rt_step *st = j->st;
    int64_t i = t * CHUNK, n = st->blk.floats - i < CHUNK ? st->blk.floats - i : CHUNK;
    int op = st->u.bin.op == RT_ADD ? 0 : st->u.bin.op == RT_SUB ? 1 : 2;
    j->f->binary(op, n, j->in[0] + i, j->in[1] + i, j->out[0] + i);
    post_act(st, j->out[0] + i, n);
}

static void affine_one(void *a, int64_t t, int thread) {
    (void)thread;
    const bjob *j = a;
    const rt_step *st = j->st;
    int vw = st->blk.vw;
    int64_t cb = t % ck_ceildiv(st->blk.c, vw), off = t * st->blk.hw * vw;
    j->f->affine(st->blk.hw, st->w[2] + cb * vw, st->w[3] + cb * vw, j->in[0] + off,
                 j->out[0] + off);
    post_act(st, j->out[0] + off, st->blk.hw * vw);
}

static void pool_one(void *a, int64_t t, int thread) {
    (void)thread;
    const bjob *j = a;
    const rt_bpool *p = j->bp;
    j->f->pool(p, j->in[0], j->out[0], t % p->nb, t / p->nb); /* row-major */
}

static void gpool_one(void *a, int64_t t, int thread) {
    (void)thread;
    const bjob *j = a;
    const rt_step *st = j->st;
    int vw = st->blk.vw;
    int64_t ncb = ck_ceildiv(st->blk.c, vw), n = t / ncb, cb = t % ncb;
    int64_t nc = st->blk.c - cb * vw < vw ? st->blk.c - cb * vw : vw;
    j->f->gpool(st->blk.hw, nc, st->u.apool.max, j->in[0] + t * st->blk.hw * vw,
                j->out[0] + n * st->u.apool.y.sn + cb * vw);
}

static void run_blocked(const rt_step *st, const float *const *in, float *const *out,
                        float *scratch, rt_pool *pool, rt_task_fn fn, int64_t tasks) {
    (void)scratch;
    bjob j = {st, bfns_of(st->blk.vw), in, out, &st->blk.pool};
    rt_pool_run(pool, tasks, fn, &j);
}

static void b_act(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                  rt_pool *pool) {
    run_blocked(st, in, out, scratch, pool, act_one, ck_ceildiv(st->blk.floats, CHUNK));
}

static void b_binary(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                     rt_pool *pool) {
    run_blocked(st, in, out, scratch, pool, binary_one, ck_ceildiv(st->blk.floats, CHUNK));
}

static void b_affine(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                     rt_pool *pool) {
    run_blocked(st, in, out, scratch, pool, affine_one,
                st->blk.n * ck_ceildiv(st->blk.c, st->blk.vw));
}

static void b_pool(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                   rt_pool *pool) {
    run_blocked(st, in, out, scratch, pool, pool_one, st->blk.pool.nb * st->blk.pool.oh);
}

static void b_gpool(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                    rt_pool *pool) {
    run_blocked(st, in, out, scratch, pool, gpool_one,
                st->blk.n * ck_ceildiv(st->blk.c, st->blk.vw));
}

bool rt_blocked_pool_is(const rt_step *st) {
    return st->fn_mt == b_pool;
}

void rt_step_run_image(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                       rt_pool *pool, int64_t n) {
    if (!rt_blocked_pool_is(st)) {
        rt_fastconv_run_image(st, in, out, scratch, pool, n);
        return;
    }
    rt_bpool q = st->blk.pool;
    q.nb /= st->blk.n; /* one image's channel blocks */
    int64_t xs = q.nb * q.h * q.w * q.vw, ys = q.nb * q.oh * q.ow * q.vw;
    const float *x = in[0] + (q.x1 ? 0 : n * xs);
    float *y = out[0] + (q.y1 ? 0 : n * ys);
    bjob j = {st, bfns_of(st->blk.vw), &x, &y, &q};
    rt_pool_run(pool, q.nb * q.oh, pool_one, &j);
}

/* A step whose work was folded into the convolution before it. */
static void folded(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                   rt_pool *pool) {
    (void)st, (void)in, (void)out, (void)scratch, (void)pool;
}

/* Switches a pooling/elementwise step to its blocked kernel. */
static bool to_blocked(ck_session *s, rt_step *st, kind k, int vw) {
    const ck_shape *x = shape_of(s, st->in[0]);
    st->blk.vw = vw;
    st->blk.n = x->d[0];
    st->blk.c = x->d[1];
    st->blk.hw = x->d[2] * x->d[3];
    st->blk.floats = x->d[0] * ck_ceildiv(x->d[1], vw) * vw * st->blk.hw;
    if (k == K_GPOOL) {
        st->fn_mt = b_gpool;
    } else if (st->kind == RT_K_ACT) {
        st->fn_mt = b_act;
    } else if (st->kind == RT_K_BINARY) {
        st->fn_mt = b_binary;
    } else if (st->kind == RT_K_AFFINE) {
        /* scale and shift padded with zeros to whole blocks (w[2], w[3]) */
        int64_t cp = ck_ceildiv(st->blk.c, vw) * vw;
        float *sc = rt_owned(s, cp), *sh = rt_owned(s, cp);
        if (!sc || !sh) return false;
        memset(sc, 0, (size_t)cp * sizeof *sc);
        memset(sh, 0, (size_t)cp * sizeof *sh);
        memcpy(sc, st->w[0], (size_t)st->blk.c * sizeof *sc);
        memcpy(sh, st->w[1], (size_t)st->blk.c * sizeof *sh);
        st->w[2] = sc;
        st->w[3] = sh;
        st->fn_mt = b_affine;
    } else if (st->kind == RT_K_POOL) {
        const rt_geom *gx = &st->u.pool.x, *gy = &st->u.pool.y;
        rt_bpool *p = &st->blk.pool;
        *p = (rt_bpool){.vw = vw,
                        .max = st->u.pool.max,
                        .include_pad = st->u.pool.include_pad,
                        .nb = gx->n * ck_ceildiv(gx->c, vw),
                        .h = gx->sp[1],
                        .w = gx->sp[2],
                        .oh = gy->sp[1],
                        .ow = gy->sp[2],
                        .kh = st->u.pool.k[1],
                        .kw = st->u.pool.k[2],
                        .sh = st->u.pool.s[1],
                        .sw = st->u.pool.s[2],
                        .dh = st->u.pool.d[1],
                        .dw = st->u.pool.d[2],
                        .pt = st->u.pool.pb[1],
                        .pl = st->u.pool.pb[2],
                        .pbh = st->u.pool.pe[1],
                        .pbw = st->u.pool.pe[2]};
        st->fn_mt = b_pool;
    }
    return true;
}

/* ---- 1. layout ------------------------------------------------------------------ */

static bool demote(bool *blk, int store) {
    if (!blk[store]) return false;
    blk[store] = false;
    return true;
}

/* Per-plan lookups, so that planning stays near-linear in the layers. */
typedef struct plan {
    ck_session *s;
    kind *kinds;    /* per step */
    bool *gout;     /* per graph value: a graph output */
    int *last_read; /* per store: the last step that reads it (folded ones too) */
} plan;

static bool plan_layout(plan *pl, int vw) {
    ck_session *s = pl->s;
    kind *kinds = pl->kinds;
    int ns = s->n_stores;
    bool *blk = malloc((size_t)(ns ? ns : 1) * sizeof *blk);
    int *rep = malloc((size_t)(ns ? ns : 1) * sizeof *rep);
    if (!blk || !rep) {
        free(blk);
        free(rep);
        return false;
    }
    for (int i = 0; i < ns; i++) {
        blk[i] = s->stores[i].where == RT_ARENA;
        rep[i] = -1;
    }
    /* every value of a blocked store: the same rank-4 shape, not a graph output */
    for (int v = 0; v < s->n_vals; v++) {
        int st = s->vals[v].store;
        if (st < 0) continue;
        const ck_shape *sh = shape_of(s, v);
        if (sh->rank != 4 || (rep[st] >= 0 && !ck_shape_eq(sh, shape_of(s, rep[st]))))
            blk[st] = false;
        /* a few channels (an RGB image) in VW-float pixels would move 2-5x
         * the data: they stay NCHW, and a convolution reading them packs
         * 4 or 8 floats a pixel (a stem after a 1x1 or a normalisation) */
        if (sh->rank == 4 && sh->d[1] * 2 <= vw) blk[st] = false;
        if (rep[st] < 0) rep[st] = v;
        if (pl->gout[s->vals[v].gval]) blk[st] = false;
    }
    for (int i = 0; i < s->n_steps; i++) {
        rt_step *st = &s->steps[i];
        kinds[i] = kind_of(s, st);
        if (kinds[i] == K_OTHER) {
            for (int k = 0; k < st->n_in; k++) demote(blk, store_of(s, st->in[k]));
            for (int k = 0; k < st->n_out; k++) demote(blk, store_of(s, st->out[k]));
        } else if (kinds[i] == K_GPOOL) {
            demote(blk, store_of(s, st->out[0]));
        } else if (kinds[i] == K_CONV) {
            /* an activation that would make padded channels non-zero */
            const rt_fconv *p = &st->u.conv.fc;
            bool clamp_ok = !p->clamp || (p->lo <= 0.0f && p->hi >= 0.0f);
            if (!clamp_ok || (!p->clamp && !zero_act(&st->post)))
                demote(blk, store_of(s, st->out[0]));
        }
    }
    /* layout-following steps: all operands in one layout (passes alternate
     * direction, so a demotion runs down or up a chain in one pass) */
    for (bool changed = true, up = false; changed; up = !up) {
        changed = false;
        for (int n = 0; n < s->n_steps; n++) {
            int i = up ? s->n_steps - 1 - n : n;
            rt_step *st = &s->steps[i];
            if (kinds[i] != K_FOLLOW) continue;
            bool all = blk[store_of(s, st->out[0])];
            for (int k = 0; k < st->n_in; k++) all = all && blk[store_of(s, st->in[k])];
            if (all) continue;
            changed |= demote(blk, store_of(s, st->out[0]));
            for (int k = 0; k < st->n_in; k++) changed |= demote(blk, store_of(s, st->in[k]));
        }
    }
    bool ok = true;
    for (int i = 0; i < s->n_steps && ok; i++) {
        rt_step *st = &s->steps[i];
        if (kinds[i] == K_CONV)
            ok = rt_fastconv_layout(s, st, blk[store_of(s, st->in[0])],
                                    blk[store_of(s, st->out[0])]);
        else if ((kinds[i] == K_FOLLOW || kinds[i] == K_GPOOL) && blk[store_of(s, st->in[0])])
            ok = to_blocked(s, st, kinds[i], vw);
    }
    for (int i = 0; i < ns; i++)
        if (blk[i] && rep[i] >= 0) {
            const ck_shape *sh = shape_of(s, rep[i]);
            s->stores[i].floats = sh->d[0] * ck_ceildiv(sh->d[1], vw) * vw * sh->d[2] * sh->d[3];
        }
    free(blk);
    free(rep);
    return ok;
}

/* ---- 2. fusion ------------------------------------------------------------------ */

static bool reads_store(const ck_session *s, const rt_step *st, int store) {
    for (int k = 0; k < st->n_in; k++)
        if (store_of(s, st->in[k]) == store) return true;
    return false;
}

static bool writes_store(const ck_session *s, const rt_step *st, int store) {
    for (int k = 0; k < st->n_out; k++)
        if (store_of(s, st->out[k]) == store) return true;
    return false;
}

/* The next step after i that reads `store` (folded ones do nothing), or -1. */
static int next_reader(const ck_session *s, int i, int store) {
    for (int j = i + 1; j < s->n_steps; j++)
        if (!s->steps[j].folded && reads_store(s, &s->steps[j], store)) return j;
    return -1;
}

/* Step j runs in place on the value in `store` and does nothing else. */
static bool in_place_on(const ck_session *s, const rt_step *b, int store) {
    return b->n_in >= 1 && b->n_out == 1 && b->inplace && store_of(s, b->in[0]) == store &&
           store_of(s, b->out[0]) == store;
}

static void fold(rt_step *b, int into) {
    b->fn_mt = folded;
    b->folded = true;
    b->folded_into = into;
}

static bool is_output(const plan *pl, int v) {
    return pl->gout[pl->s->vals[v].gval];
}

/* Folds the residual add at step j, one of whose operands is the output of
 * conv step i, into i's output stage: i then reads the other operand and
 * writes the add's output. */
static bool fold_add(plan *pl, int i, int j) {
    ck_session *s = pl->s;
    rt_step *a = &s->steps[i], *b = &s->steps[j];
    if (b->kind != RT_K_BINARY || b->u.bin.op != RT_ADD || b->n_in != 2 || a->n_in != 1 ||
        b->n_out != 1)
        return false;
    float lo = 0, hi = 0;
    bool clamp = b->post.act != CK_ACT_NONE;
    if (clamp && !rt_act_clamp(&b->post, &lo, &hi)) return false;
    const ck_shape *ys = shape_of(s, b->out[0]);
    if (!ck_shape_eq(shape_of(s, b->in[0]), ys) || !ck_shape_eq(shape_of(s, b->in[1]), ys))
        return false;
    int sa = store_of(s, a->out[0]);
    int k = store_of(s, b->in[0]) == sa ? 0 : 1;
    int r = b->in[1 - k], sr = store_of(s, r), so = store_of(s, b->out[0]);
    /* the values the sum replaces must not be needed as they were */
    if (store_of(s, b->in[k]) != sa || sr == sa || store_of(s, a->in[0]) == so ||
        is_output(pl, a->out[0]) || is_output(pl, b->in[k]))
        return false;
    /* one layout on every side (the layout pass keeps an add's operands in one) */
    if ((b->fn_mt == b_binary) != a->u.conv.fc.out_blocked) return false;
    for (int t = i + 1; t < j; t++) {
        const rt_step *u = &s->steps[t];
        /* the residual is complete when a runs: nothing after a writes it
         * before the add (folded steps included: they ran inside a later
         * conv), and when the sum goes into its buffer nothing reads it */
        if (writes_store(s, u, sr)) return false;
        if (so == sr && !u->folded && reads_store(s, u, sr)) return false;
        /* the add is the only reader of a's output */
        if (!u->folded && reads_store(s, u, sa)) return false;
    }
    /* after the add, a's buffer may only be read as the add's output */
    if (so != sa && pl->last_read[sa] > j) return false;
    int *in = realloc(a->in, 2 * sizeof *in);
    if (!in) return false;
    a->in = in;
    a->in[1] = r;
    a->n_in = 2;
    a->out[0] = b->out[0];
    a->u.conv.fc.res = true;
    if (clamp) {
        a->u.conv.fc.clamp = true;
        a->u.conv.fc.lo = lo;
        a->u.conv.fc.hi = hi;
    }
    /* the add's output buffer is now written at a */
    rt_store *o = &s->stores[so];
    if (o->where == RT_ARENA && o->def > a->node) o->def = a->node;
    fold(b, i);
    return true;
}

static void fuse(plan *pl) {
    ck_session *s = pl->s;
    for (int st = 0; st < s->n_stores; st++) pl->last_read[st] = -1;
    for (int i = 0; i < s->n_steps; i++)
        for (int k = 0; k < s->steps[i].n_in; k++)
            pl->last_read[store_of(s, s->steps[i].in[k])] = i;
    for (int i = 0; i < s->n_steps; i++) {
        rt_step *a = &s->steps[i];
        if (!rt_fastconv_is(a) || a->n_out != 1 || a->post.act != CK_ACT_NONE) continue;
        rt_fconv *p = &a->u.conv.fc;
        int sa = store_of(s, a->out[0]);
        int j = next_reader(s, i, sa);
        if (j < 0) continue;
        rt_step *b = &s->steps[j];
        if (b->kind == RT_K_AFFINE && in_place_on(s, b, sa) && b->post.act == CK_ACT_NONE &&
            b->u.affine.c == p->o && b->u.affine.inner == p->oh * p->ow &&
            b->u.affine.outer == a->u.conv.y.n && !p->res && !p->clamp) {
            rt_fastconv_fold_affine(a, b->w[0], b->w[1]);
            fold(b, i);
            if ((j = next_reader(s, i, sa)) < 0) continue;
            b = &s->steps[j];
        }
        if (!p->clamp && !p->res && fold_add(pl, i, j)) {
            sa = store_of(s, a->out[0]);
            if ((j = next_reader(s, i, sa)) < 0) continue;
            b = &s->steps[j];
        }
        float lo, hi;
        if (!p->clamp && b->kind == RT_K_ACT && in_place_on(s, b, sa) &&
            rt_act_clamp(&b->u.act, &lo, &hi)) {
            p->clamp = true;
            p->lo = lo;
            p->hi = hi;
            fold(b, i);
        }
    }
}

/* A batch runs layer by layer, each layer image by image: the fast
 * convolutions alternate the direction, so that a layer starts with the
 * images the one before finished with, still in the cache (MobileNetV2 at
 * batch 8: its depthwise layers, which read each input value for 9 FMAs,
 * ran 2.5-5x slower per image than at batch 1 when every image came back
 * from L3). */
static void serpentine(ck_session *s) {
    bool rev = false;
    for (int i = s->img_steps; i < s->n_steps; i++) {
        rt_step *st = &s->steps[i];
        if (!rt_fastconv_is(st) || st->folded) continue;
        st->u.conv.fc.rev = rev;
        rev = !rev;
    }
}

/* A batch's leading convolutions run image by image: each image's
 * activations stay in the cache from one layer to the next, where layer by
 * layer a batch's activations go through memory (MobileNetV2 at batch 8:
 * 1-5 MB an image on its 112x112 and 56x56 layers). The prefix: the
 * leading fast convolutions (and the steps folded into them) whose packed
 * weights are smaller than an image of their output, as every image reads
 * them again, and the blocked poolings between them (a ResNet's max pool);
 * at least two convolutions. Buffers the prefix makes and uses up itself
 * then hold one image (session.c). */
static void by_image(ck_session *s) {
    s->img_steps = 0, s->img_n = 0;
    int k = 0, convs = 0;
    int64_t nimg = 0;
    for (; k < s->n_steps; k++) {
        rt_step *st = &s->steps[k];
        if (st->folded) continue;
        if (st->empty) break;
        if (rt_blocked_pool_is(st) && nimg && st->blk.n == nimg) continue;
        if (!rt_fastconv_is(st)) break;
        const rt_fconv *p = &st->u.conv.fc;
        if (!nimg) nimg = st->u.conv.x.n;
        if (st->u.conv.x.n != nimg || (st->post.act != CK_ACT_NONE && !p->clamp) ||
            rt_fast_packed_floats(st) >= p->yns)
            break;
        convs++;
    }
    if (nimg < 2 || convs < 2) return;
    s->img_steps = k, s->img_n = nimg;
    for (int i = 0; i < k; i++)
        if (rt_fastconv_is(&s->steps[i]) && !s->steps[i].folded)
            s->steps[i].u.conv.fc.by_image = true;
    /* a pooling step last in the prefix would only add a pass */
    while (s->img_steps > 0 &&
           (rt_blocked_pool_is(&s->steps[s->img_steps - 1]) || s->steps[s->img_steps - 1].folded))
        s->img_steps--;
}

void rt_blocked_name(const rt_step *st, char *buf, size_t n) {
    const char *isa = st->blk.vw == 16 ? "avx512" : "avx2";
    const char *what = st->fn_mt == b_gpool    ? "global-pool blocked->nchw"
                       : st->fn_mt == b_act    ? "act blocked"
                       : st->fn_mt == b_binary ? "binary blocked"
                       : st->fn_mt == b_affine ? "batchnorm blocked"
                       : st->fn_mt == b_pool
                           ? (st->u.pool.max ? "maxpool blocked" : "avgpool blocked")
                           : "?";
    snprintf(buf, n, "%s %s", isa, what);
}

/* Weights of step st that no kernel reads any more: a fast conv or dense
 * layer runs on its packed copy (w[3], w[4]). They are freed when the
 * session owns them and no other step shares them, so weights are held
 * once. */
static int64_t ref_floats(const rt_step *st, int k) {
    if (rt_fastconv_is(st)) {
        const rt_fconv *p = &st->u.conv.fc;
        return k == 0 ? p->o * (p->depthwise ? 1 : p->c) * p->kh * p->kw : p->o;
    }
    return k == 0 ? st->u.lin.k * st->u.lin.n : st->u.lin.bias_rows * st->u.lin.bias_cols;
}

static int cmp_wptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (const float *const *)a, y = (uintptr_t) * (const float *const *)b;
    return (x > y) - (x < y);
}

static bool drop_unpacked(ck_session *s) {
    /* every weight pointer of every step, sorted, to tell shared ones */
    size_t nw = (size_t)s->n_steps * RT_MAX_W;
    const float **all = malloc((nw ? nw : 1) * sizeof *all);
    if (!all) return false;
    for (int i = 0; i < s->n_steps; i++)
        for (int m = 0; m < RT_MAX_W; m++) all[(size_t)i * RT_MAX_W + m] = s->steps[i].w[m];
    qsort(all, nw, sizeof *all, cmp_wptr);
    bool ok = true;
    for (int i = 0; i < s->n_steps && ok; i++) {
        rt_step *st = &s->steps[i];
        if (!rt_fastconv_is(st) && !rt_fastlinear_is(st)) continue;
        for (int k = 0; k < 2; k++) {
            const float *p = st->w[k];
            if (!p) continue;
            const float **hit = bsearch(&p, all, nw, sizeof *all, cmp_wptr);
            bool shared = (hit > all && hit[-1] == p) || (hit + 1 < all + nw && hit[1] == p);
            if (shared) continue;
            s->weight_bytes -= 4 * ref_floats(st, k);
            ok = rt_release(s, p);
            st->w[k] = NULL;
        }
        s->weight_bytes += 4 * rt_fast_packed_floats(st);
    }
    free(all);
    return ok;
}

bool rt_plan_network(ck_session *s) {
    int vw = s->isa == RT_ISA_AVX512 ? 16 : s->isa == RT_ISA_AVX2 ? 8 : 0;
    if (vw) {
        plan pl = {.s = s};
        pl.kinds = malloc((size_t)(s->n_steps ? s->n_steps : 1) * sizeof *pl.kinds);
        pl.gout = calloc((size_t)s->g->n_vals + 1, sizeof *pl.gout);
        pl.last_read = malloc((size_t)(s->n_stores ? s->n_stores : 1) * sizeof *pl.last_read);
        bool ok = pl.kinds && pl.gout && pl.last_read;
        for (int o = 0; ok && o < s->g->n_outputs; o++) pl.gout[s->g->outputs[o]] = true;
        ok = ok && plan_layout(&pl, vw);
        ok = ok && rt_fastconv_pack_all(s);
        if (ok) fuse(&pl);
        if (ok) by_image(s);
        if (ok) serpentine(s);
        ok = ok && drop_unpacked(s);
        free(pl.kinds);
        free(pl.gout);
        free(pl.last_read);
        rt_release_pending(s);
        if (!ok) return false;
    }
    s->scratch_floats = 0;
    s->arena_slack = 0;
    for (int i = 0; i < s->n_steps; i++) {
        const rt_step *st = &s->steps[i];
        if (st->scratch > s->scratch_floats) s->scratch_floats = st->scratch;
        if (rt_fastconv_is(st) && rt_fastconv_overread(st) > s->arena_slack)
            s->arena_slack = rt_fastconv_overread(st);
    }
    return true;
}
