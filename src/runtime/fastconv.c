/* Planning and running the fast convolution steps. A step qualifies when it
 * is a 1-D or 2-D convolution on NCHW data with zero padding, one group or
 * depthwise; everything else keeps its reference kernel. Weights are packed
 * once here, into the blocked layout of kernels/x86_conv.inc. At run time an
 * image is packed into scratch (zero-padded, channel-blocked), then output
 * rows are spread over the context's thread pool. */
#include "runtime/fastconv.h"
#include "runtime/kernels/ref.h"
#include "runtime/pool.h"
#include "runtime/runtime.h"

#include <stdio.h>
#include <string.h>

rt_isa rt_cpu_isa(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return RT_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return RT_ISA_AVX2;
#endif
    return RT_ISA_REF;
}

typedef struct isa_fns {
    bool (*supported)(int, int);
    void (*conv)(const rt_fconv *, const float *, const float *, const float *, float *, int64_t,
                 int64_t, int64_t);
    void (*dw)(const rt_fconv *, const float *, const float *, const float *, float *, int64_t,
               int64_t, int64_t);
    void (*pack)(const rt_fconv *, const float *, float *, int64_t, int64_t, int64_t);
} isa_fns;

static const isa_fns avx512 = {rt_avx512_conv_supported, rt_avx512_conv_task, rt_avx512_dw_task,
                               rt_avx512_pack_input};
static const isa_fns avx2 = {rt_avx2_conv_supported, rt_avx2_conv_task, rt_avx2_dw_task,
                             rt_avx2_pack_input};

static const isa_fns *fns_of(int vw) {
    return vw == 16 ? &avx512 : &avx2;
}

static int64_t cdiv(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

/* The register tile: the least padded work, then the most FMAs per load. */
static bool pick_tile(const isa_fns *f, rt_fconv *p, int threads) {
    static const int shapes[][2] = {{2, 14}, {4, 7}, {2, 12}, {4, 6}, {2, 8}, {1, 14},
                                    {4, 4},  {2, 7}, {2, 6},  {1, 8}, {2, 4}, {1, 4}};
    int64_t ob0 = cdiv(p->o, p->vw);
    double best = -1;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        int ocb = shapes[i][0], tw = shapes[i][1];
        if (!f->supported(ocb, tw) || ocb * tw > (p->vw == 16 ? 28 : 14)) continue;
        int64_t obp = cdiv(ob0, ocb) * ocb, owp = cdiv(p->ow, tw) * tw;
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
    const float *x, *wb, *bias;
    float *xb, *y;
    int64_t n;
} job;

static void pack_one(void *a, int64_t cb) {
    const job *j = a;
    j->f->pack(j->p, j->x, j->xb, j->n, cb, cb + 1);
}

static void conv_one(void *a, int64_t t) {
    const job *j = a;
    j->f->conv(j->p, j->xb, j->wb, j->bias, j->y, j->n, t / j->p->oh, t % j->p->oh);
}

static void dw_one(void *a, int64_t t) {
    const job *j = a;
    j->f->dw(j->p, j->xb, j->wb, j->bias, j->y, j->n, t / j->p->oh, t % j->p->oh);
}

static void fast_conv_run(const rt_step *st, const float *const *in, float *const *out,
                          float *scratch, rt_pool *pool) {
    const rt_fconv *p = &st->u.conv.fc;
    job j = {.p = p,
             .f = fns_of(p->vw),
             .x = in[0],
             .wb = st->w[3],
             .bias = st->w[4],
             .xb = scratch,
             .y = out[0]};
    for (j.n = 0; j.n < st->u.conv.x.n; j.n++) {
        rt_pool_run(pool, p->cb, pack_one, &j);
        if (p->depthwise)
            rt_pool_run(pool, p->cb * p->oh, dw_one, &j);
        else
            rt_pool_run(pool, p->ngroups * p->oh, conv_one, &j);
    }
    if (st->post.act != CK_ACT_NONE && !p->relu) {
        int64_t n = st->u.conv.y.n * p->yns;
        rt_act_apply(&st->post, out[0], out[0], n);
    }
}

static bool nchw(const rt_geom *g) {
    return g->sp[0] == 1 && g->ss[2] == 1 && (g->sp[1] == 1 || g->ss[1] == g->sp[2]) &&
           g->sc == g->sp[1] * g->sp[2] && g->sn == g->c * g->sc;
}

bool rt_fastconv_plan(ck_session *s, rt_step *st, rt_isa isa, int threads) {
    if (st->fn != rt_ref_conv || isa == RT_ISA_REF || st->u.conv.prepad) return false;
    const rt_geom *x = &st->u.conv.x, *y = &st->u.conv.y;
    if (!nchw(x) || !nchw(y) || st->u.conv.k[0] != 1 || st->u.conv.s[0] != 1) return false;
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
    p.relu = st->post.act == CK_ACT_RELU;
    p.cb = cdiv(C, p.vw);
    if (dw) {
        p.tw = 8;
        p.ocb = 1;
    } else if (!pick_tile(f, &p, threads)) {
        return false;
    }
    int64_t tw = dw ? 8 : p.tw;
    int64_t owp = cdiv(p.ow, tw) * tw;
    p.ihp = (p.oh - 1) * p.sh + (p.kh - 1) * p.dh + 1;
    if (p.ihp < p.pt + p.h) p.ihp = p.pt + p.h;
    p.iwp = (owp - 1) * p.sw + (p.kw - 1) * p.dw + 1;
    if (p.iwp < p.pl + p.w) p.iwp = p.pl + p.w;
    p.xcb = p.ihp * p.iwp * p.vw;
    p.xcs = x->sc, p.xns = x->sn, p.ycs = y->sc, p.yns = y->sn;
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
        p.ob = cdiv(cdiv(O, p.vw), p.ocb) * p.ocb;
        p.ngroups = p.ob / p.ocb;
        p.wob = p.cb * K * p.vw * p.vw;
        int64_t nw = p.ob * p.wob;
        float *wb = rt_owned(s, nw), *bb = rt_owned(s, p.ob * p.vw);
        if (!wb || !bb) return false;
        memset(wb, 0, (size_t)nw * sizeof *wb);
        memset(bb, 0, (size_t)(p.ob * p.vw) * sizeof *bb);
        for (int64_t o = 0; o < O; o++) {
            for (int64_t c = 0; c < C; c++)
                for (int64_t k = 0; k < K; k++)
                    wb[(((o / p.vw) * p.cb + c / p.vw) * K + k) * p.vw * p.vw + (c % p.vw) * p.vw +
                       o % p.vw] = w[(o * C + c) * K + k];
            if (b) bb[o] = b[o];
        }
        st->w[3] = wb;
        st->w[4] = bb;
    }
    st->u.conv.fc = p;
    st->scratch = p.cb * p.xcb;
    st->fn_mt = fast_conv_run;
    return true;
}

/* ---- whole-network fusion ---------------------------------------------------- */

/* A step whose work was folded into the convolution before it: it runs in
 * place on that convolution's output, so there is nothing left to do. */
static void folded(const rt_step *st, const float *const *in, float *const *out, float *scratch,
                   rt_pool *pool) {
    (void)st, (void)in, (void)out, (void)scratch, (void)pool;
}

/* Step j reads exactly the value step i wrote, in place (same storage). */
static bool chained(const ck_session *s, const rt_step *a, const rt_step *b) {
    return b->n_in >= 1 && b->inplace && b->post.act == CK_ACT_NONE && !b->fn_mt &&
           s->vals[b->in[0]].store == s->vals[a->out[0]].store;
}

static void fold_affine(rt_step *a, const rt_step *bn) {
    rt_fconv *p = &a->u.conv.fc;
    const float *sc = bn->w[0], *sh = bn->w[1];
    float *wb = (float *)a->w[3], *bb = (float *)a->w[4];
    int64_t K = p->kh * p->kw, nw = p->depthwise ? p->cb * K * p->vw : p->ob * p->wob;
    for (int64_t i = 0; i < nw; i++) {
        int64_t blk = p->depthwise ? i / (K * p->vw) : i / p->wob;
        int64_t o = blk * p->vw + i % p->vw;
        if (o < p->o) wb[i] *= sc[o];
    }
    for (int64_t o = 0; o < p->o; o++) bb[o] = bb[o] * sc[o] + sh[o];
}

void rt_fastconv_fuse(ck_session *s) {
    for (int i = 0; i + 1 < s->n_steps; i++) {
        rt_step *a = &s->steps[i];
        if (a->fn_mt != fast_conv_run || a->post.act != CK_ACT_NONE || a->u.conv.fc.relu ||
            a->n_out != 1)
            continue;
        const rt_fconv *p = &a->u.conv.fc;
        int j = i + 1;
        rt_step *b = &s->steps[j];
        if (b->fn == rt_ref_affine && chained(s, a, b) && b->u.affine.c == p->o &&
            b->u.affine.inner == p->oh * p->ow && b->u.affine.outer == a->u.conv.y.n) {
            fold_affine(a, b);
            b->fn_mt = folded;
            b->folded = true;
            b->folded_into = i;
            if (++j >= s->n_steps) continue;
            b = &s->steps[j];
        }
        if (b->fn == rt_ref_act && b->u.act.act == CK_ACT_RELU && chained(s, a, b)) {
            a->u.conv.fc.relu = true;
            b->fn_mt = folded;
            b->folded = true;
            b->folded_into = i;
        }
    }
}

void rt_fastconv_name(const rt_step *st, char *buf, size_t n) {
    const rt_fconv *p = &st->u.conv.fc;
    const char *isa = p->vw == 16 ? "avx512" : "avx2";
    if (p->depthwise)
        snprintf(buf, n, "%s dwconv nchw->nchw%s", isa, p->relu ? " +relu" : "");
    else
        snprintf(buf, n, "%s conv %dx%d nchw->nchw%s", isa, p->ocb, p->tw, p->relu ? " +relu" : "");
}
