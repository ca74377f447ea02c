/* Planning and running the fast convolution and dense steps. A convolution
 * qualifies when it is 1-D or 2-D with zero padding, one group or
 * depthwise; everything else keeps its reference kernel. Weights are packed
 * once here, into the blocked layout of kernels/x86_conv.inc. The layout
 * pass (plan.c) then says whether input and output are blocked, and
 * rt_fastconv_layout() picks how the step runs:
 *  - direct: blocked input read in place (no padding needed; depthwise
 *    checks its border taps itself);
 *  - packed: an input that needs padding, or is NCHW, is packed per image
 *    into scratch (4 or 8 floats a pixel for few-channel stems);
 *  - Winograd F(2x2, 3x3) for 3x3 stride-1 layers on blocked data;
 *  - the reduction in chunks over several rows when a group's weights
 *    would not stay in L2.
 * Output rows (or tile groups) are spread over the context's thread pool,
 * row-major, so each thread keeps its band of rows from layer to layer. */
#include "runtime/fastconv.h"
#include "runtime/kernels/ref.h"
#include "runtime/pool.h"
#include "runtime/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

rt_isa rt_cpu_isa(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return RT_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return RT_ISA_AVX2;
#endif
    return RT_ISA_REF;
}

/* The per-core L2 cache in bytes, read once from sysfs (Linux); 1 MiB
 * when it cannot be read. The blocking of the kernels is sized from it at
 * plan time: the CPU changes between machines, the build does not. */
static int64_t l2_bytes(void) {
    static _Atomic int64_t cached;
    int64_t v = cached;
    if (v) return v;
    v = 1 << 20;
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cache/index2/size", "r");
    if (f) {
        long long n = 0;
        char unit = 0;
        if (fscanf(f, "%lld%c", &n, &unit) >= 1 && n > 0) {
            int64_t b = unit == 'K' ? n << 10 : unit == 'M' ? n << 20 : n;
            if (b >= (128 << 10) && b <= (64 << 20)) v = b;
        }
        fclose(f);
    }
    cached = v;
    return v;
}

/* Session memory for packed weights. Large buffers are 2 MiB aligned and
 * asked for transparent huge pages: packing writes each once, and with
 * 4 KiB pages the page faults took about a third of a ResNet-50 session's
 * creation. */
static float *packed_alloc(ck_session *s, int64_t n) {
    const size_t huge = (size_t)2 << 20;
    if (n < 0 || n > ((int64_t)1 << 40)) return NULL;
    size_t bytes = (size_t)n * sizeof(float);
    if (bytes < 2 * huge) return rt_owned(s, n);
    bytes = (bytes + huge - 1) / huge * huge;
    float *p = aligned_alloc(huge, bytes);
    if (!p) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice: failure changes nothing */
#endif
    return rt_adopt(s, p, n) ? p : NULL;
}

typedef struct isa_fns {
    bool (*supported)(int, int);
    void (*conv)(const rt_fconv *, const float *, const float *, const float *, const float *,
                 float *, int64_t, int64_t, int64_t);
    void (*dw)(const rt_fconv *, const float *, const float *, const float *, const float *,
               float *, int64_t, int64_t);
    void (*pack)(const rt_fconv *, const float *, float *, int64_t, int64_t);
    void (*wino)(const rt_fconv *, const float *, const float *, const float *, const float *,
                 float *, float *, int64_t, int64_t);
} isa_fns;

static const isa_fns avx512 = {rt_avx512_conv_supported, rt_avx512_conv_task, rt_avx512_dw_task,
                               rt_avx512_pack_input, rt_avx512_wino_task};
static const isa_fns avx2 = {rt_avx2_conv_supported, rt_avx2_conv_task, rt_avx2_dw_task,
                             rt_avx2_pack_input, rt_avx2_wino_task};

static const isa_fns *fns_of(int vw) {
    return vw == 16 ? &avx512 : &avx2;
}

/* The register tile: the least padded work, then the most FMAs per load. */
static bool pick_tile(const isa_fns *f, rt_fconv *p, int threads) {
    static const int shapes[][2] = {{2, 14}, {4, 7}, {2, 12}, {4, 6},  {3, 9}, {3, 8},
                                    {3, 7},  {2, 8}, {1, 28}, {1, 14}, {4, 4}, {2, 7},
                                    {2, 6},  {3, 4}, {1, 8},  {2, 4},  {1, 4}};
    int64_t ob0 = ck_ceildiv(p->o, p->vw);
    double best = -1;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        int ocb = shapes[i][0], tw = shapes[i][1];
        if (!f->supported(ocb, tw) || ocb * tw > (p->vw == 16 ? 28 : 14)) continue;
        int64_t obp = ck_ceildiv(ob0, ocb) * ocb, owp = ck_ceildiv(p->ow, tw) * tw;
        double eff = (double)(ob0 * p->ow) / (double)(obp * owp);
        double reuse = (double)(ocb * tw) / (double)(ocb + tw);
        /* keep enough rows x groups to feed every thread */
        double par = (double)(obp / ocb * p->oh) >= 4.0 * threads ? 1.0 : 0.7;
        double score = eff * reuse * par;
        if (score > best) {
            best = score;
            p->ocb = ocb;
            p->tw = tw;
        }
    }
    return best > 0;
}

typedef struct job {
    const rt_fconv *p;
    const isa_fns *f;
    const float *x, *wb, *bias, *res;
    float *xb, *y, *scratch;
} job;

static void pack_one(void *a, int64_t t, int thread) {
    (void)thread;
    const job *j = a;
    j->f->pack(j->p, j->x, j->xb, t % j->p->cb, t / j->p->cb);
}

static void conv_one(void *a, int64_t t, int thread) {
    (void)thread;
    const job *j = a;
    const rt_fconv *p = j->p;
    /* row-major: a thread's static share of the tasks is a band of rows */
    int64_t oh0 = t / p->ngroups * p->rpt;
    int64_t oh1 = oh0 + p->rpt < p->oh ? oh0 + p->rpt : p->oh;
    j->f->conv(p, j->xb, j->wb, j->bias, j->res, j->y, t % p->ngroups, oh0, oh1);
}

static void dw_one(void *a, int64_t t, int thread) {
    (void)thread;
    const job *j = a;
    const rt_fconv *p = j->p;
    int64_t oh0 = t / p->cb * p->rpt, oh1 = oh0 + p->rpt < p->oh ? oh0 + p->rpt : p->oh;
    for (int64_t oh = oh0; oh < oh1; oh++)
        j->f->dw(p, j->xb, j->wb, j->bias, j->res, j->y, t % p->cb, oh);
}

static void wino_one(void *a, int64_t t, int thread) {
    const job *j = a;
    const rt_fconv *p = j->p;
    j->f->wino(p, j->x, j->wb, j->bias, j->res, j->y, j->scratch + thread * p->wsz, t % p->ngroups,
               t / p->ngroups);
}

/* One image n: in[0], out[0] and in[1] (the residual) are the step's whole
 * buffers; a by-image step's one-image buffers have image stride 0. */
void rt_fastconv_run_image(const rt_step *st, const float *const *in, float *const *out,
                           float *scratch, rt_pool *pool, int64_t n) {
    const rt_fconv *p = &st->u.conv.fc;
    job j = {.p = p, .f = fns_of(p->vw), .wb = st->w[3], .bias = st->w[4], .scratch = scratch};
    j.x = in[0] + (p->x1 ? 0 : n * p->xns);
    j.y = out[0] + (p->y1 ? 0 : n * p->yns);
    j.res = p->res ? in[1] + (p->r1 ? 0 : n * p->yns) : NULL;
    if (p->wino) {
        rt_pool_run(pool, p->ntg * p->ngroups, wino_one, &j);
        return;
    }
    if (p->direct) {
        j.xb = (float *)j.x; /* read only */
    } else {
        j.xb = scratch;
        rt_pool_run(pool, p->cb * p->ihp, pack_one, &j);
    }
    if (p->depthwise)
        rt_pool_run(pool, p->cb * ck_ceildiv(p->oh, p->rpt), dw_one, &j);
    else
        rt_pool_run(pool, p->ngroups * ck_ceildiv(p->oh, p->rpt), conv_one, &j);
}

static void fast_conv_run(const rt_step *st, const float *const *in, float *const *out,
                          float *scratch, rt_pool *pool) {
    const rt_fconv *p = &st->u.conv.fc;
    int64_t nimg = st->u.conv.x.n;
    for (int64_t k = 0; k < nimg; k++)
        rt_fastconv_run_image(st, in, out, scratch, pool, p->rev ? nimg - 1 - k : k);
    /* an activation the output stage cannot do (zero-preserving when the
     * output is blocked: the layout pass sees to it) */
    if (st->post.act != CK_ACT_NONE && !p->clamp)
        rt_act_apply(&st->post, out[0], out[0], nimg * p->yns);
}

bool rt_fastconv_is(const rt_step *st) {
    return st->fn_mt == fast_conv_run;
}

/* A clamp the output stage can apply, from an activation. */
bool rt_act_clamp(const rt_act *a, float *lo, float *hi) {
    switch (a->act) {
    case CK_ACT_RELU:
        *lo = 0.0f, *hi = INFINITY;
        return true;
    case CK_ACT_RELU6:
    case CK_ACT_CLIP:
        *lo = a->alpha, *hi = a->beta;
        return !(a->alpha > a->beta);
    default:
        return false;
    }
}

/* Winograd F(m x m, 3x3) for a 3x3 stride-1 layer on blocked input: the
 * weights become U = G g G^T per (output, input) channel pair, packed as
 * (m+2)^2 1x1 convolutions [(m+2)^2][ob][cb][VW ic][VW oc]. F(4x4) (2.25
 * multiplies per output against F(2x2)'s 4) where the tiles fill the map
 * and its fp32 error stays inside the fast kernels' 1e-5 bar (see
 * wino_f4_ok); F(2x2) otherwise. False: the direct kernel stays (also when
 * memory runs out: s->oom_plan). */

/* G v of one column v = (g0, g1, g2) for F(2x2, 3x3) (a = 4: G rows 1 0 0 /
 * .5 .5 .5 / .5 -.5 .5 / 0 0 1) and F(4x4, 3x3) (a = 6, points 0, +-1, +-2
 * and infinity: 1/4 0 0 / -1/6 -1/6 -1/6 / -1/6 1/6 -1/6 / 1/24 1/12 1/6 /
 * 1/24 -1/12 1/6 / 0 0 1). Written out, not as a matrix product: a
 * session's creation transforms every 3x3 filter of its Winograd layers
 * (1.2 M of them in ResNet-50), and the table-driven product was a quarter
 * of that time. */
static inline void wino_g(int a, double g0, double g1, double g2, double *o, int os) {
    if (a == 4) {
        double s = 0.5 * (g0 + g2), h = 0.5 * g1;
        o[0] = g0, o[os] = s + h, o[2 * os] = s - h, o[3 * os] = g2;
        return;
    }
    double s = -(g0 + g2) * (1.0 / 6), t = g1 * (1.0 / 6);
    double p = g0 * (1.0 / 24) + g2 * (1.0 / 6), q = g1 * (1.0 / 12);
    o[0] = 0.25 * g0, o[os] = s - t, o[2 * os] = s + t;
    o[3 * os] = p + q, o[4 * os] = p - q, o[5 * os] = g2;
}

/* U = G g G^T of one 3x3 filter g, a x a values (a = 4 or 6) */
static void wino_filter(int a, const float *g, double *u) {
    double t[6 * 3]; /* G g: a rows of 3 */
    for (int l = 0; l < 3; l++) wino_g(a, g[l], g[3 + l], g[6 + l], t + l, 3);
    for (int i = 0; i < a; i++) wino_g(a, t[i * 3], t[i * 3 + 1], t[i * 3 + 2], u + i * a, 1);
}

/* F(4x4) where it pays and stays accurate. Measured on ResNet-50 (1 thread,
 * AMD Zen 4): 0.98-1.04 ms against F(2x2)'s 1.11-1.17 on the 56x56 and 28x28
 * maps; slower on 14x14 (1.65-1.77 against 1.17-1.21 ms) and 7x7 (2.3
 * against 1.9 ms), where 16 or 4 tiles cannot amortise the transformed
 * weights (36 instead of 16 per filter: 9.4 MB for 256 -> 256) and the
 * tiles compute up to 31% outputs past the map. So: at least 36 tiles,
 * at most a quarter of the outputs wasted, at most 256 input channels
 * (bench/winograd_error.py: 3e-6 .. 9e-6 relative for C = 64 .. 512
 * against a float64 direct convolution, growing with C). */
static bool wino_f4_ok(const rt_fconv *p) {
    int64_t oh4 = ck_ceildiv(p->oh, 4) * 4, ow4 = ck_ceildiv(p->ow, 4) * 4;
    return p->c <= 256 && oh4 * ow4 >= 36 * 16 && 4 * p->oh * p->ow >= 3 * oh4 * ow4;
}

static bool plan_winograd(ck_session *s, rt_step *st) {
    rt_fconv *p = &st->u.conv.fc;
    if (!p->out_blocked || p->depthwise || p->kh != 3 || p->kw != 3 || p->sh != 1 || p->sw != 1 ||
        p->dh != 1 || p->dw != 1 || p->c < 16 || p->o < 16 || (!st->w[0] && !st->w0raw))
        return false;
    /* a 7x7 map is 16 F(2x2) tiles: with 1 thread as fast as the direct
     * kernel, with 2 slower (ResNet-50's two 512-channel 7x7 layers, step
     * minima: 2.36-2.59 against 2.20-2.26 ms) */
    if (p->oh * p->ow < 64) return false;
    rt_fconv q = *p;
    const isa_fns *f = fns_of(q.vw);
    q.wm = wino_f4_ok(&q) ? 4 : 2;
    const int a = (int)q.wm + 2, nx = a * a;
    q.tiles_w = ck_ceildiv(q.ow, q.wm);
    q.ntiles = ck_ceildiv(q.oh, q.wm) * q.tiles_w;
    /* the register tile for the 1x1 reductions over tiles */
    rt_fconv v = q;
    v.ow = q.ntiles, v.oh = 1;
    if (!pick_tile(f, &v, s->threads)) return false;
    q.ocb = v.ocb, q.tw = v.tw;
    q.ob = ck_ceildiv(ck_ceildiv(q.o, q.vw), q.ocb) * q.ocb;
    q.ngroups = q.ob / q.ocb;
    q.wob = q.cb * q.vw * q.vw;
    /* tiles per task: V and M within 3/4 of the L2, enough tasks.
     * Fewer, larger tile groups read the transformed weights (16/9 of the
     * direct ones) fewer times: on 7x7 maps that is what bounds the layer */
    int64_t per = nx * (q.cb + q.ocb) * q.vw, k = (l2_bytes() / 4 * 3 / 4 / per) / q.tw;
    if (k < 1) k = 1;
    q.tb = k * q.tw;
    if (q.tb > ck_ceildiv(q.ntiles, q.tw) * q.tw) q.tb = ck_ceildiv(q.ntiles, q.tw) * q.tw;
    while (q.tb > q.tw && ck_ceildiv(q.ntiles, q.tb) * q.ngroups < 4 * s->threads) q.tb -= q.tw;
    q.ntg = ck_ceildiv(q.ntiles, q.tb);
    q.wsz = per * q.tb;
    int64_t nu = nx * q.ob * q.wob;
    float *u = packed_alloc(s, nu), *bb = rt_owned(s, q.ob * q.vw);
    if (!u || !bb) {
        rt_release(s, u);
        s->oom_plan = true;
        return false;
    }
    memset(bb, 0, (size_t)(q.ob * q.vw) * sizeof *bb);
    memcpy(bb, st->w[4], (size_t)q.o * sizeof *bb); /* the direct plan's blocks may be fewer */
    rt_release(s, st->w[4]);
    st->w[3] = u;
    st->w[4] = bb;
    q.wino = true;
    q.direct = false;
    *p = q;
    st->scratch = s->threads * q.wsz;
    return true;
}

/* The direct kernels' weights [ob][cb][kh][kw][VW ic][VW oc]: allocated
 * when the layout pass knows the step is not Winograd (a Winograd layer
 * packs once), filled by rt_fastconv_pack_all. */
static bool pack_direct(ck_session *s, rt_step *st) {
    rt_fconv *p = &st->u.conv.fc;
    float *wb = packed_alloc(s, p->ob * p->wob);
    if (!wb) {
        s->oom_plan = true;
        return false;
    }
    st->w[3] = wb;
    return true;
}

/* Output block ob of a direct step's packed weights, one (output block,
 * input block) pair at a time (its K * VW * VW floats stay in L1 while the
 * source is read in order). */
/* Weight i of a dense step: decoded (w[0]) or as the file holds it
 * (w0raw: float32 little-endian, maybe unaligned). */
static inline float wsrc(const rt_step *st, int64_t i) {
    if (st->w[0]) return st->w[0][i];
    float f;
    memcpy(&f, st->w0raw + 4 * i, sizeof f);
    return f;
}

static void fill_direct(rt_step *st, int64_t ob) {
    const rt_fconv *p = &st->u.conv.fc;
    const int64_t vw = p->vw, K = p->kh * p->kw, bs = K * vw * vw;
    float *wb = (float *)st->w[3];
    for (int64_t cb = 0; cb < p->cb; cb++) {
        float *d = wb + (ob * p->cb + cb) * bs;
        int64_t on = p->o - ob * vw < vw ? p->o - ob * vw : vw;
        int64_t cn = p->c - cb * vw < vw ? p->c - cb * vw : vw;
        if (on < vw || cn < vw) memset(d, 0, (size_t)bs * sizeof *d);
        for (int64_t oc = 0; oc < on; oc++) {
            const int64_t src = ((ob * vw + oc) * p->c + cb * vw) * K;
            for (int64_t ic = 0; ic < cn; ic++)
                for (int64_t k = 0; k < K; k++)
                    d[(k * vw + ic) * vw + oc] = wsrc(st, src + ic * K + k);
        }
    }
}

/* Output block ob of a Winograd step's transformed weights: per input
 * block, its (m+2)^2 VW x VW tiles are made in t (in L1; the destinations
 * lie a power-of-two-ish stride apart and would share cache sets) while
 * the source rows are read in order. t: (m+2)^2 * VW * VW floats. */
static void fill_wino(rt_step *st, int64_t ob, float *t) {
    const rt_fconv *q = &st->u.conv.fc;
    const int a = (int)q->wm + 2, nx = a * a;
    const int64_t vw = q->vw, bs = vw * vw;
    float *u = (float *)st->w[3];
    for (int64_t cb = 0; cb < q->cb; cb++) {
        int64_t on = q->o - ob * vw < vw ? q->o - ob * vw : vw;
        int64_t cn = q->c - cb * vw < vw ? q->c - cb * vw : vw;
        if (on < vw || cn < vw) memset(t, 0, (size_t)(nx * bs) * sizeof *t);
        /* an input channel's filters for the block's VW output channels at
         * once: each of the (m+2)^2 tiles then gets a contiguous row of VW */
        for (int64_t ic = 0; ic < cn; ic++) {
            double r[16][36];
            for (int64_t oc = 0; oc < on; oc++) {
                float g[9];
                const int64_t src = ((ob * vw + oc) * q->c + cb * vw + ic) * 9;
                for (int k = 0; k < 9; k++) g[k] = wsrc(st, src + k);
                wino_filter(a, g, r[oc]);
            }
            for (int xi = 0; xi < nx; xi++) {
                float *row = t + xi * bs + ic * vw;
                for (int64_t oc = 0; oc < on; oc++) row[oc] = (float)r[oc][xi];
            }
        }
        for (int xi = 0; xi < nx; xi++)
            memcpy(u + (xi * q->ob + ob) * q->wob + cb * bs, t + xi * bs, (size_t)bs * sizeof *t);
    }
}

typedef struct fill_job {
    ck_session *s;
    int64_t *steps; /* per task: step index << 32 | output block */
    float *tbuf;    /* per thread: 36 * 16 * 16 floats */
} fill_job;

static void fill_one(void *a, int64_t t, int thread) {
    const fill_job *j = a;
    rt_step *st = &j->s->steps[j->steps[t] >> 32];
    int64_t ob = j->steps[t] & 0xffffffff;
    if (st->u.conv.fc.wino)
        fill_wino(st, ob, j->tbuf + (int64_t)thread * 36 * 16 * 16);
    else
        fill_direct(st, ob);
}

/* Fills the packed weights of every dense fast conv step (allocated by the
 * layout pass), one task per output block, on the session's thread count:
 * packing and its first touches of the memory were most of a session's
 * creation. Before the fusion pass, which folds batch norms into them. */
bool rt_fastconv_pack_all(ck_session *s) {
    int64_t n = 0;
    for (int i = 0; i < s->n_steps; i++) {
        const rt_step *st = &s->steps[i];
        if (rt_fastconv_is(st) && !st->u.conv.fc.depthwise && (st->w[0] || st->w0raw))
            n += st->u.conv.fc.ob;
    }
    if (!n) return true;
    int threads = s->threads > 1 ? s->threads : 1;
    fill_job j = {.s = s};
    j.steps = malloc((size_t)n * sizeof *j.steps);
    j.tbuf = malloc((size_t)threads * 36 * 16 * 16 * sizeof *j.tbuf);
    rt_pool *pool = threads > 1 && n > 1 ? rt_pool_new(threads) : NULL;
    bool ok = j.steps && j.tbuf;
    for (int i = 0, k = 0; ok && i < s->n_steps; i++) {
        const rt_step *st = &s->steps[i];
        if (!rt_fastconv_is(st) || st->u.conv.fc.depthwise || (!st->w[0] && !st->w0raw)) continue;
        for (int64_t ob = 0; ob < st->u.conv.fc.ob; ob++) j.steps[k++] = (int64_t)i << 32 | ob;
    }
    if (ok) rt_pool_run(pool, n, fill_one, &j);
    rt_pool_free(pool);
    free(j.steps);
    free(j.tbuf);
    return ok;
}

bool rt_fastconv_layout(ck_session *s, rt_step *st, bool in_blocked, bool out_blocked) {
    rt_fconv *p = &st->u.conv.fc;
    const rt_geom *x = &st->u.conv.x, *y = &st->u.conv.y;
    int64_t vw = p->vw, tw = p->depthwise ? 8 : p->tw;
    p->in_blocked = in_blocked;
    p->out_blocked = out_blocked;
    int64_t owp = ck_ceildiv(p->ow, tw) * tw;
    int64_t rows = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
    int64_t cols = (owp - 1) * p->sw + (p->kw - 1) * p->dw + 1;
    /* read in place when every valid output pixel's taps are inside the
     * image; a width tail's extra pixels read past the row (their results
     * are dropped; the session's arena has slack after its last buffer) */
    p->direct = in_blocked && p->pt == 0 && p->pl == 0 && rows <= p->h &&
                (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1 <= p->w;
    /* the depthwise kernel checks its taps at the borders instead */
    if (p->depthwise) p->direct = in_blocked;
    if (p->direct) {
        p->ihp = p->h, p->iwp = p->w;
    } else {
        p->ihp = rows > p->pt + p->h ? rows : p->pt + p->h;
        p->iwp = cols > p->pl + p->w ? cols : p->pl + p->w;
    }
    /* stems (3 channels from NCHW): 4 floats a pixel instead of a whole
     * block keep the packed rows a tile reads in L1 */
    p->xpix = vw;
    if (!in_blocked && !p->depthwise && p->c * 2 <= vw) p->xpix = p->c <= 4 ? 4 : 8;
    p->xcb = p->ihp * p->iwp * p->xpix;
    p->xrs = p->iwp * p->xpix;
    if (in_blocked) {
        p->xcs = p->h * p->w * vw;
        p->xns = p->cb * p->xcs;
    } else {
        p->xcs = x->sc, p->xns = x->sn;
    }
    if (out_blocked) {
        p->ycs = p->oh * p->ow * vw;
        p->yns = ck_ceildiv(p->o, vw) * p->ycs;
    } else {
        p->ycs = y->sc, p->yns = y->sn;
    }
    st->scratch = p->direct ? 0 : p->cb * p->xcb;
    /* a group's weights past a quarter of the L2 (deep layers on small
     * maps): chunks of the reduction, each over several rows, so weights
     * are not re-read from memory for every output row (needs the blocked
     * output for the partial sums) */
    p->kc = p->cb, p->rpt = 1;
    int64_t blk = (int64_t)p->ocb * p->kh * p->kw * vw * vw;
    int64_t wl2 = l2_bytes() / 4 / 4; /* floats: a quarter of the L2 */
    if (!p->depthwise && out_blocked && p->cb * blk > wl2) {
        p->kc = wl2 / blk > 0 ? wl2 / blk : 1;
        p->rpt = ck_ceildiv(16, ck_ceildiv(p->ow, p->tw));
        while (p->rpt > 1 && p->ngroups * ck_ceildiv(p->oh, p->rpt) < 4 * s->threads) p->rpt--;
        if (p->rpt > p->oh) p->rpt = p->oh;
    } else if (!p->depthwise && p->ob * p->wob > p->cb * p->h * p->w * vw) {
        /* more weights than input (deep layers on small maps, MobileNetV2's
         * 7x7 and 14x14 1x1 layers): a task runs several rows, so each
         * thread reads a group's weights once for all of them instead of
         * sweeping every group's weights per row; enough tasks stay for the
         * threads */
        p->rpt = p->oh;
        while (p->rpt > 1 && p->ngroups * ck_ceildiv(p->oh, p->rpt) < 4 * s->threads)
            p->rpt = (p->rpt + 1) / 2;
    }
    if (p->depthwise) {
        /* a depthwise task: rows of one channel block, at least 64 pixels
         * (a 7-pixel row is one tile: a task per row cost as much as the
         * row), enough tasks for the threads */
        p->rpt = ck_ceildiv(64, p->ow);
        while (p->rpt > 1 && p->cb * ck_ceildiv(p->oh, p->rpt) < 8 * s->threads) p->rpt--;
        if (p->rpt > p->oh) p->rpt = p->oh;
    }
    if (in_blocked && plan_winograd(s, st)) return true;
    if (s->oom_plan) return false;
    return p->depthwise || pack_direct(s, st);
}

int64_t rt_fast_packed_floats(const rt_step *st) {
    if (rt_fastlinear_is(st)) {
        const rt_flin *l = &st->u.lin.fl;
        return 2 * l->npair * l->vw * (l->k + 1);
    }
    const rt_fconv *p = &st->u.conv.fc;
    if (p->wino) return p->ob * ((p->wm + 2) * (p->wm + 2) * p->wob + p->vw);
    return p->depthwise ? p->cb * (p->kh * p->kw + 1) * p->vw : p->ob * (p->wob + p->vw);
}

int64_t rt_fastconv_overread(const rt_step *st) {
    const rt_fconv *p = &st->u.conv.fc;
    if (!p->direct || p->depthwise) return 0;
    int64_t tw = p->tw;
    return (tw * p->sw + p->kw * p->dw) * p->vw;
}

/* a*b well inside int64: the fast kernels address pixels with plain
 * arithmetic, so an absurd geometry (a dilation of 2^62 with padding to
 * match) runs on the reference kernel instead. */
static bool modest(int64_t a, int64_t b) {
    int64_t r;
    return ck_mul(a, b, &r) && r >= 0 && r < ((int64_t)1 << 40);
}

bool rt_fastconv_plan(ck_session *s, rt_step *st, rt_isa isa, int threads) {
    if (st->kind != RT_K_CONV || isa == RT_ISA_REF || st->u.conv.prepad) return false;
    const rt_geom *x = &st->u.conv.x, *y = &st->u.conv.y;
    if (!rt_geom_nchw2d(x) || !rt_geom_nchw2d(y) || st->u.conv.k[0] != 1 || st->u.conv.s[0] != 1)
        return false;
    int64_t C = x->c, O = y->c, G = st->u.conv.groups;
    bool dw = G == C && O == C && G > 1;
    if (G != 1 && !dw) return false;
    rt_fconv p = {.vw = isa == RT_ISA_AVX512 ? 16 : 8, .depthwise = dw};
    const isa_fns *f = fns_of(p.vw);
    if (!f->supported(1, 4)) return false; /* built without that ISA */
    p.c = C, p.o = O, p.h = x->sp[1], p.w = x->sp[2], p.oh = y->sp[1], p.ow = y->sp[2];
    p.kh = st->u.conv.k[1], p.kw = st->u.conv.k[2], p.sh = st->u.conv.s[1], p.sw = st->u.conv.s[2],
    p.dh = st->u.conv.d[1], p.dw = st->u.conv.d[2];
    p.pt = st->u.conv.pb[1], p.pl = st->u.conv.pb[2];
    if (p.oh <= 0 || p.ow <= 0 || p.pt < 0 || p.pl < 0) return false;
    if (!modest(p.kh, p.dh) || !modest(p.kw, p.dw) || !modest(ck_sat_add(p.oh, 16), p.sh) ||
        !modest(ck_sat_add(p.ow, 16), p.sw) || !modest(p.pt, 1) || !modest(p.pl, 1) ||
        !modest(p.h, 1) || !modest(p.w, 1))
        return false;
    p.clamp = rt_act_clamp(&st->post, &p.lo, &p.hi);
    p.cb = ck_ceildiv(C, p.vw);
    if (dw) {
        p.tw = 8;
        p.ocb = 1;
    } else if (!pick_tile(f, &p, threads)) {
        return false;
    }
    const float *w = st->w[0], *b = st->u.conv.has_bias ? st->w[1] : NULL;
    int64_t K = p.kh * p.kw;
    if (dw) {
        float *wb = rt_owned(s, p.cb * K * p.vw), *bb = rt_owned(s, p.cb * p.vw);
        if (!wb || !bb) return false;
        memset(wb, 0, (size_t)(p.cb * K * p.vw) * sizeof *wb);
        memset(bb, 0, (size_t)(p.cb * p.vw) * sizeof *bb);
        for (int64_t c = 0; c < C; c++) {
            for (int64_t k = 0; k < K; k++)
                wb[((c / p.vw) * K + k) * p.vw + c % p.vw] = w[c * K + k];
            if (b) bb[c] = b[c];
        }
        st->w[3] = wb;
        st->w[4] = bb;
    } else {
        p.ob = ck_ceildiv(ck_ceildiv(O, p.vw), p.ocb) * p.ocb;
        p.ngroups = p.ob / p.ocb;
        p.wob = p.cb * K * p.vw * p.vw;
        /* the weights are packed by the layout pass (pack_direct or
         * plan_winograd), which knows which kernel runs the step */
        float *bb = rt_owned(s, p.ob * p.vw);
        if (!bb) return false;
        memset(bb, 0, (size_t)(p.ob * p.vw) * sizeof *bb);
        for (int64_t o = 0; b && o < O; o++) bb[o] = b[o];
        st->w[3] = NULL;
        st->w[4] = bb;
    }
    st->u.conv.fc = p;
    st->fn_mt = fast_conv_run;
    return true; /* the layout pass (plan.c) sets layouts, geometry and scratch */
}

/* Folds y = x * sc + sh (an inference batch norm after the convolution)
 * into the packed weights and bias. */
void rt_fastconv_fold_affine(rt_step *a, const float *sc, const float *sh) {
    rt_fconv *p = &a->u.conv.fc;
    float *wb = (float *)a->w[3], *bb = (float *)a->w[4];
    const int64_t vw = p->vw, K = p->kh * p->kw;
    /* the weights are runs of VW output channels: per block of output
     * channels (depthwise: of channels), `run` such runs */
    int64_t nblk = p->depthwise ? p->cb : p->ob, run = p->depthwise ? K : p->wob / vw;
    int64_t sets = p->wino ? (p->wm + 2) * (p->wm + 2) : 1; /* Winograd: (m+2)^2 [ob] sets */
    for (int64_t set = 0; set < sets; set++)
        for (int64_t blk = 0; blk < nblk; blk++) {
            float f[64];
            for (int64_t l = 0; l < vw; l++) {
                int64_t o = blk * vw + l;
                f[l] = o < p->o ? sc[o] : 1.0f; /* padded channels stay zero */
            }
            float *w = wb + (set * nblk + blk) * run * vw;
            for (int64_t r = 0; r < run; r++)
                for (int64_t l = 0; l < vw; l++) w[r * vw + l] *= f[l];
        }
    for (int64_t o = 0; o < p->o; o++) bb[o] = bb[o] * sc[o] + sh[o];
}

void rt_fastconv_name(const rt_step *st, char *buf, size_t n) {
    const rt_fconv *p = &st->u.conv.fc;
    char tile[16] = "", act[48] = "";
    if (!p->depthwise) snprintf(tile, sizeof tile, " %dx%d", p->ocb, p->tw);
    if (p->wino) snprintf(tile, sizeof tile, " %dx%d %dx%d", (int)p->wm, (int)p->wm, p->ocb, p->tw);
    char chunk[32] = "";
    if (!p->wino && !p->depthwise && p->kc < p->cb)
        snprintf(chunk, sizeof chunk, " kchunk=%lld", (long long)p->kc);
    if (p->clamp && p->lo == 0.0f && p->hi == INFINITY)
        snprintf(act, sizeof act, " +relu");
    else if (p->clamp)
        snprintf(act, sizeof act, " +clip(%g,%g)", (double)p->lo, (double)p->hi);
    const char *kind = p->depthwise ? "dwconv" : p->wino ? "winograd" : "conv";
    snprintf(buf, n, "%s %s%s %s->%s%s%s%s%s", p->vw == 16 ? "avx512" : "avx2", kind, tile,
             p->in_blocked ? "blocked" : "nchw", p->out_blocked ? "blocked" : "nchw", chunk,
             p->res ? " +residual" : "", act, p->by_image ? " by image" : "");
}

/* ---- dense layers ---------------------------------------------------------------- */

typedef struct ljob {
    const rt_step *st;
    const float *x;
    float *y;
} ljob;

static void linear_one(void *a, int64_t t, int thread) {
    (void)thread;
    const ljob *j = a;
    const rt_flin *p = &j->st->u.lin.fl;
    (p->vw == 16 ? rt_avx512_linear_task : rt_avx2_linear_task)(p, j->x, j->st->w[3], j->st->w[4],
                                                                j->y, t);
}

static void fast_linear_run(const rt_step *st, const float *const *in, float *const *out,
                            float *scratch, rt_pool *pool) {
    (void)scratch;
    const rt_flin *p = &st->u.lin.fl;
    ljob j = {st, in[0], out[0]};
    rt_pool_run(pool, p->npair * p->mgrp, linear_one, &j);
    if (st->post.act != CK_ACT_NONE) rt_act_apply(&st->post, out[0], out[0], p->m * p->n);
}

bool rt_fastlinear_plan(ck_session *s, rt_step *st, rt_isa isa) {
    if (st->kind != RT_K_LINEAR || isa == RT_ISA_REF || st->u.lin.trans_a ||
        st->u.lin.alpha != 1.0f || st->u.lin.beta != 1.0f || st->u.lin.bias_rows > 1)
        return false;
    rt_flin p = {.vw = isa == RT_ISA_AVX512 ? 16 : 8};
    if (!(p.vw == 16 ? rt_avx512_conv_supported : rt_avx2_conv_supported)(1, 4)) return false;
    p.m = st->u.lin.m, p.k = st->u.lin.k, p.n = st->u.lin.n;
    if (p.m <= 0 || p.k <= 0 || p.n <= 0) return false;
    p.mr = p.m >= 4 ? 4 : 1;
    p.mgrp = ck_ceildiv(p.m, p.mr);
    p.npair = ck_ceildiv(p.n, 2 * p.vw);
    int64_t np = 2 * p.npair * p.vw;
    float *wp = rt_owned(s, np * p.k), *bp = rt_owned(s, np);
    if (!wp || !bp) return false;
    memset(wp, 0, (size_t)(np * p.k) * sizeof *wp);
    memset(bp, 0, (size_t)np * sizeof *bp);
    const float *w = st->w[0], *b = st->w[1];
    for (int64_t n = 0; n < p.n; n++) {
        float *col = wp + (n / p.vw) * p.k * p.vw + n % p.vw;
        for (int64_t k = 0; k < p.k; k++)
            col[k * p.vw] = st->u.lin.w_kn ? w[k * p.n + n] : w[n * p.k + k];
        if (b && st->u.lin.bias_rows) bp[n] = b[st->u.lin.bias_cols == 1 ? 0 : n];
    }
    st->w[3] = wp;
    st->w[4] = bp;
    st->u.lin.fl = p;
    st->fn_mt = fast_linear_run;
    return true;
}

bool rt_fastlinear_is(const rt_step *st) {
    return st->fn_mt == fast_linear_run;
}
