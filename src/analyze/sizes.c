/* The input-size solver. Every size in the range is checked with the static
 * shape pass (the same rules `check` uses, so the answer is exact for any
 * graph the checker supports: skips, U-Nets, transposed convolutions), and
 * the results are summarised: valid and clean runs, the smallest and the
 * next valid size, the failing layer per run of sizes, and the output size
 * as a closed form fitted to (and verified on) every valid size. */
#include "analyze/analyze.h"
#include "ops/ops.h"

#include <string.h>

static bool runs_push(ck_runs *r, int64_t n) {
    int64_t prev;
    if (r->n && ck_sub(n, 1, &prev) && r->v[r->n - 1].last == prev) {
        r->v[r->n - 1].last = n;
        return true;
    }
    ck_run *p = realloc(r->v, (size_t)(r->n + 1) * sizeof *p);
    if (!p) return false;
    r->v = p;
    r->v[r->n++] = (ck_run){n, n};
    return true;
}

static void runs_free(ck_runs *r) {
    free(r->v);
    *r = (ck_runs){0};
}

static void failures_free(int n, ck_size_failure *f) {
    for (int i = 0; i < n; i++) {
        free(f[i].layer);
        runs_free(&f[i].sizes);
    }
    free(f);
}

static void axis_free(ck_sizes_axis *a) {
    runs_free(&a->valid);
    runs_free(&a->clean);
    free(a->out);
    failures_free(a->n_fail, a->fail);
    memset(a, 0, sizeof *a);
}

void ck_sizes_free(ck_sizes *s) {
    if (!s) return;
    for (int i = 0; i < s->n_axes; i++) axis_free(&s->axes[i]);
    axis_free(&s->square);
    memset(s, 0, sizeof *s);
}

/* ---- the closed form ----------------------------------------------------- */

/* a mod b in [0, b) for b > 0 */
static int64_t fmod_pos(int64_t a, int64_t b) {
    int64_t r = a % b;
    return r < 0 ? ck_sat_add(r, b) : r; /* r in (-b, 0): no overflow */
}

/* floor((x + add) / div) * mul + base; false on overflow (div > 0). */
static bool fn_at(const ck_size_fn *f, int64_t x, int64_t *y) {
    int64_t t;
    return ck_add(x, f->add, &t) && ck_mul(ck_floordiv(t, f->div), f->mul, &t) &&
           ck_add(t, f->base, y);
}

/* base such that the function passes through (x, y); false on overflow. */
static bool fn_base(ck_size_fn *f, int64_t x, int64_t y) {
    int64_t t;
    return ck_add(x, f->add, &t) && ck_mul(ck_floordiv(t, f->div), f->mul, &t) &&
           ck_sub(y, t, &f->base);
}

static bool fn_holds(const ck_size_fn *f, const int64_t *x, const int64_t *y, int n) {
    for (int i = 0; i < n; i++) {
        int64_t v;
        if (x[i] > INT64_MAX / 4 || y[i] < 0) return false;
        if (!fn_at(f, x[i], &v) || v != y[i]) return false;
    }
    return true;
}

/* Fits out = floor((in + add) / div) * mul + base to the points. The step
 * (mul) and period (div) come from the jumps between consecutive sizes; a
 * sparse set (a U-Net's multiples of 16) is tried as a line through its ends.
 * The result is kept only when it reproduces every point. */
static ck_size_fn fit(const int64_t *x, const int64_t *y, int n) {
    ck_size_fn f = {0};
    f.div = 1;
    f.mul = 1;
    if (n == 0) return f;
    bool constant = true;
    for (int i = 1; i < n; i++)
        if (y[i] != y[0]) constant = false;
    if (constant) {
        f.mul = 0;
        f.base = y[0];
        f.found = true;
        return f;
    }
    int64_t step = 0, period = 0, last_jump = -1;
    bool ok = true;
    for (int i = 1; i < n && ok; i++) {
        int64_t dx, dy, gap;
        if (!ck_sub(x[i], x[i - 1], &dx) || dx != 1) continue;
        if (!ck_sub(y[i], y[i - 1], &dy)) ok = false;
        if (!ok || dy == 0) continue;
        if (step == 0)
            step = dy;
        else if (dy != step)
            ok = false;
        if (last_jump >= 0) {
            if (!ck_sub(x[i], last_jump, &gap))
                ok = false;
            else if (period == 0)
                period = gap;
            else if (gap != period)
                ok = false;
        }
        last_jump = x[i];
    }
    if (ok && step > 0 && last_jump >= 0) {
        if (period == 0) period = 1; /* a single jump: only a unit period is provable */
        f.div = period;
        f.mul = step;
        f.add = fmod_pos(-last_jump, period);
        f.found = fn_base(&f, x[0], y[0]) && fn_holds(&f, x, y, n);
        if (f.found) return f;
    }
    /* a line through the first and last point */
    int64_t dx, dy;
    if (!ck_sub(x[n - 1], x[0], &dx) || !ck_sub(y[n - 1], y[0], &dy)) dx = dy = 0;
    if (dx > 0 && dy > 0 && dy % dx == 0) {
        f = (ck_size_fn){.found = false, .add = 0, .div = 1, .mul = dy / dx};
        f.found = fn_base(&f, x[0], y[0]) && fn_holds(&f, x, y, n);
        if (f.found) return f;
    } else if (dx > 0 && dy > 0 && dx % dy == 0) {
        f = (ck_size_fn){.found = false, .div = dx / dy, .mul = 1};
        f.add = fmod_pos(-x[0], f.div);
        f.found = fn_base(&f, x[0], y[0]) && fn_holds(&f, x, y, n);
        if (f.found) return f;
    }
    /* a step function seen only at sparse sizes (a U-Net valid at 16, 17,
     * 32, 33, ...): search small periods and offsets */
    for (int64_t div = 2; div <= 128; div++)
        for (int64_t add = 0; add < div; add++) {
            int64_t t0, t1, dq;
            if (!ck_add(x[0], add, &t0) || !ck_add(x[n - 1], add, &t1) ||
                !ck_sub(ck_floordiv(t1, div), ck_floordiv(t0, div), &dq))
                continue;
            if (dq == 0 || dy % dq != 0) continue;
            f = (ck_size_fn){.div = div, .add = add, .mul = dy / dq};
            if (f.mul <= 0 || !fn_base(&f, x[0], y[0])) continue;
            if (fn_holds(&f, x, y, n)) {
                f.found = true;
                return f;
            }
        }
    f = (ck_size_fn){0};
    return f;
}

char *ck_size_fn_expr(const ck_size_fn *f, const char *in) {
    ck_str s = {0};
    if (!f->found) return NULL;
    if (f->mul == 0) {
        ck_str_addf(&s, "%lld", (long long)f->base);
        return ck_str_take(&s);
    }
    if (f->div == 1) {
        /* a line: mul*in + base */
        int64_t b = ck_sat_add(f->base, ck_sat_mul(f->add, f->mul));
        if (f->mul != 1) ck_str_addf(&s, "%lld * ", (long long)f->mul);
        ck_str_add(&s, in);
        if (b) ck_str_addf(&s, " %c %lld", b < 0 ? '-' : '+', (long long)(b < 0 ? -b : b));
        return ck_str_take(&s);
    }
    if (f->mul != 1) ck_str_addf(&s, "%lld * ", (long long)f->mul);
    if (f->add)
        ck_str_addf(&s, "floor((%s %c %lld) / %lld)", in, f->add < 0 ? '-' : '+',
                    (long long)llabs(f->add), (long long)f->div);
    else
        ck_str_addf(&s, "floor(%s / %lld)", in, (long long)f->div);
    if (f->base) ck_str_addf(&s, " %c %lld", f->base < 0 ? '-' : '+', (long long)llabs(f->base));
    return ck_str_take(&s);
}

char *ck_size_fn_str(const ck_size_fn *f) {
    if (!f) return NULL;
    if (!f->found) return ck_strdup("no closed form");
    char *e = ck_size_fn_expr(f, "in");
    char *r = e ? ck_sprintf("out = %s", e) : NULL;
    free(e);
    return r;
}

/* Writes the function in the form anchored at the smallest valid size m:
 * floor((in - a) / div) * mul + out(m), so that it reads like the window
 * formula ("floor((in - 15) / 8) + 1"). */
static ck_size_fn anchor_fn(ck_size_fn f, int64_t m) {
    if (!f.found || f.mul != 1 || f.div == 1) return f;
    ck_size_fn g = f;
    int64_t t, u;
    if (!ck_add(m, f.add, &t)) return f;
    t = ck_floordiv(t, f.div);
    if (!ck_mul(t, f.div, &u) || !ck_sub(f.add, u, &g.add) || !ck_add(f.base, t, &g.base)) return f;
    return g;
}

bool ck_size_fn_at(const ck_size_fn *f, int64_t x, int64_t *y) {
    return f->found && fn_at(f, x, y);
}

ck_size_fn ck_fit_size_fn(const int64_t *x, const int64_t *y, int n) {
    return n > 0 ? anchor_fn(fit(x, y, n), x[0]) : (ck_size_fn){0};
}

/* ---- compact printing of size sets --------------------------------------- */

char *ck_runs_str(const ck_runs *r, int64_t hi) {
    if (!r) return NULL;
    ck_str s = {0};
    if (r->n == 0) return ck_strdup("none");
    /* a periodic set: runs of equal length at a constant period */
    if (r->n >= 3) {
        /* runs of sizes: 1 <= first <= last, so differences cannot overflow */
        int64_t len = ck_sat_add(r->v[0].last, -r->v[0].first);
        int64_t per = ck_sat_add(r->v[1].first, -r->v[0].first);
        bool periodic = per > ck_sat_add(len, 1);
        for (int i = 1; i < r->n && periodic; i++) {
            if (ck_sat_add(r->v[i].first, -r->v[i - 1].first) != per) periodic = false;
            /* the last run may be cut by the end of the range */
            if (ck_sat_add(r->v[i].last, -r->v[i].first) != len &&
                !(i == r->n - 1 && r->v[i].last == hi))
                periodic = false;
        }
        if (periodic) {
            bool open = ck_sat_add(r->v[r->n - 1].first, per) > hi;
            if (len == 0)
                ck_str_addf(&s, "every %lld from %lld", (long long)per, (long long)r->v[0].first);
            else
                ck_str_addf(&s, "%lld-%lld and every %lld after", (long long)r->v[0].first,
                            (long long)r->v[0].last, (long long)per);
            if (!open) ck_str_addf(&s, " to %lld", (long long)r->v[r->n - 1].last);
            return ck_str_take(&s);
        }
    }
    for (int i = 0; i < r->n; i++) {
        if (i == 8 && r->n > 10) {
            ck_str_addf(&s, ", ... (%d runs), %lld-%lld", r->n, (long long)r->v[r->n - 1].first,
                        (long long)r->v[r->n - 1].last);
            break;
        }
        if (i) ck_str_add(&s, ", ");
        if (r->v[i].first == r->v[i].last)
            ck_str_addf(&s, "%lld", (long long)r->v[i].first);
        else
            ck_str_addf(&s, "%lld-%lld", (long long)r->v[i].first, (long long)r->v[i].last);
    }
    return ck_str_take(&s);
}

/* ---- the scan ------------------------------------------------------------ */

static bool add_failure(ck_sizes_axis *sc, const ck_graph *g, const ck_probe *p, int64_t n) {
    const char *layer = p->fail_node >= 0 ? g->nodes[p->fail_node].name : "input";
    for (int i = 0; i < sc->n_fail; i++)
        if (sc->fail[i].code == p->code && !strcmp(sc->fail[i].layer, layer))
            return runs_push(&sc->fail[i].sizes, n);
    ck_size_failure *f = realloc(sc->fail, (size_t)(sc->n_fail + 1) * sizeof *f);
    if (!f) return false;
    sc->fail = f;
    ck_size_failure *nf = &sc->fail[sc->n_fail];
    *nf = (ck_size_failure){.code = p->code};
    if (!(nf->layer = ck_strdup(layer))) return false;
    sc->n_fail++;
    return runs_push(&nf->sizes, n);
}

/* The output axis that follows the input axis: the one that varies over the
 * valid sizes, preferring the same index when the ranks agree. */
static int pick_out_axis(const ck_shape *outs, int64_t count, int in_axis, int in_rank) {
    int rank = -1;
    int64_t first = -1;
    for (int64_t i = 0; i < count; i++)
        if (outs[i].rank) {
            if (rank < 0) {
                rank = outs[i].rank;
                first = i;
            } else if (outs[i].rank != rank) {
                return -1;
            }
        }
    if (rank < 0) return -1;
    int best = -1;
    for (int ax = 0; ax < rank; ax++) {
        bool varies = false;
        for (int64_t i = first; i < count && !varies; i++)
            if (outs[i].rank && outs[i].d[ax] != outs[first].d[ax]) varies = true;
        if (!varies) continue;
        if (rank == in_rank && ax == in_axis) return ax;
        if (best < 0) best = ax;
    }
    /* nothing varies: the same axis holds a constant (adaptive pooling) */
    if (best < 0 && rank == in_rank) best = in_axis;
    return best;
}

/* Checks every size lo..hi with the given axes set to it; fills `a`; shows
 * each checked graph to the visitor (scan: 0 square, k + 1 axis k). */
static ck_status run_scan(ck_graph *g, int input, const ck_shape *given, const int *axes,
                          int n_axes, int64_t lo, int64_t hi, ck_sizes_axis *a, int64_t *checks,
                          const ck_scan_visitor *vis, int scan) {
    int64_t count; /* hi - lo < max_sizes: solve_sizes checked it */
    if (!ck_sub(hi, lo, &count) || !ck_add(count, 1, &count)) return CK_EUSAGE;
    ck_shape *outs = calloc((size_t)count, sizeof *outs);
    int64_t *x = malloc((size_t)count * sizeof *x);
    int64_t *y = malloc((size_t)count * sizeof *y);
    a->out = malloc((size_t)count * sizeof *a->out);
    ck_status st = CK_ENOMEM;
    if (!outs || !x || !y || !a->out) goto done;
    a->min = a->next = -1;
    for (int64_t n = lo, i = 0; i < count; n++, i++) {
        ck_shape s = *given;
        for (int k = 0; k < n_axes; k++) s.d[axes[k]] = n;
        ck_probe p;
        ck_probe_input(g, input, &s, &p);
        (*checks)++;
        if (vis && !vis->visit(vis->ctx, scan, n, g)) goto done;
        if (p.ok) {
            outs[i] = p.out;
            if (!runs_push(&a->valid, n)) goto done;
            if (p.clean && !runs_push(&a->clean, n)) goto done;
            if (a->min < 0) a->min = n;
            if (a->next < 0 && n >= a->current) a->next = n;
        } else if (!add_failure(a, g, &p, n)) {
            goto done;
        }
    }
    int out_axis = pick_out_axis(outs, count, axes[n_axes - 1], given->rank);
    int m = 0;
    for (int64_t i = 0, n = lo; i < count; i++, n++) {
        a->out[i] = -1;
        if (!outs[i].rank) continue;
        int64_t v = out_axis >= 0 ? outs[i].d[out_axis] : 0;
        a->out[i] = v;
        x[m] = n;
        y[m++] = v;
    }
    if (out_axis >= 0)
        a->fn = anchor_fn(fit(x, y, m), a->min);
    else
        a->fn = (ck_size_fn){.found = m > 0, .div = 1, .mul = 0};
    a->fn.out_axis = out_axis;
    st = CK_OK;
done:
    free(outs);
    free(x);
    free(y);
    return st;
}

/* The input as scanned: a symbolic axis (no --input) that is not spatial
 * (the batch) is 1; when spatial axes are symbolic only they vary (a video
 * model's fixed frames stay). Returns the axes that vary. */
static int scan_axes(const ck_graph *g, int input, ck_shape *given, int *axes) {
    int sp[CK_MAX_RANK], nsp = ck_input_spatial_axes(g, input, sp), n = 0;
    bool spatial[CK_MAX_RANK] = {false}, any = false;
    for (int k = 0; k < nsp; k++) spatial[sp[k]] = true;
    for (int a = 0; a < given->rank; a++) {
        if (!ck_graph_symbol(g, input, a)) continue;
        if (spatial[a])
            any = true;
        else
            given->d[a] = 1;
    }
    for (int k = 0; k < nsp; k++)
        if (!any || ck_graph_symbol(g, input, sp[k])) axes[n++] = sp[k];
    return n;
}

static ck_status solve_sizes(const ck_graph *g0, int input, int64_t lo, int64_t hi, ck_sizes *out,
                             ck_diags *d, const ck_scan_visitor *vis) {
    ck_shape given = g0->declared[input];
    if (given.rank == 0) {
        ck_diag_add(d, CK_SEV_ERROR, CK_INVALID_CONFIG, g0->vals[g0->inputs[input]].name, "input",
                    "the input '%s' has no shape; declare it or pass --input",
                    g0->vals[g0->inputs[input]].name);
        return CK_EUSAGE;
    }
    if (lo < 1 || hi < lo) {
        ck_diag_add(d, CK_SEV_ERROR, CK_INVALID_CONFIG, NULL, NULL,
                    "the size range %lld:%lld is not 1 <= A <= B", (long long)lo, (long long)hi);
        return CK_EUSAGE;
    }
    int64_t span;
    if (!ck_sub(hi, lo, &span) || span >= g0->lim.max_sizes) {
        ck_diag_add(d, CK_SEV_ERROR, CK_LIMIT_EXCEEDED, NULL, NULL,
                    "the range %lld:%lld has %lld sizes; the limit is %lld (raise it with "
                    "--max-sizes)",
                    (long long)lo, (long long)hi, (long long)ck_sat_add(span, 1),
                    (long long)g0->lim.max_sizes);
        return CK_EUSAGE;
    }
    int axes[CK_MAX_RANK];
    int nsp = scan_axes(g0, input, &given, axes);
    if (nsp == 0) {
        ck_diag_add(d, CK_SEV_ERROR, CK_INVALID_CONFIG, g0->vals[g0->inputs[input]].name, "input",
                    "the input %s has no spatial axes to vary (rank %d)",
                    g0->vals[g0->inputs[input]].name, given.rank);
        return CK_EUSAGE;
    }
    ck_graph *g = ck_graph_clone(g0, false);
    if (!g) return CK_ENOMEM;
    out->lo = lo;
    out->hi = hi;
    out->input = input;
    /* square: all spatial axes together, from the largest given size */
    out->square.name = "square";
    out->square.tensor_axis = -1;
    for (int k = 0; k < nsp; k++)
        if (given.d[axes[k]] > out->square.current) out->square.current = given.d[axes[k]];
    ck_status st =
        run_scan(g, input, &given, axes, nsp, lo, hi, &out->square, &out->checks, vis, 0);
    /* symbolic sizes: each axis is scanned with the others held at the
     * smallest valid square size (the largest scanned when none is) */
    bool symbolic = false;
    for (int k = 0; k < nsp; k++) symbolic |= ck_graph_symbol(g0, input, axes[k]) != NULL;
    if (symbolic) {
        int64_t hold = out->square.min >= 1 ? out->square.min : hi;
        for (int k = 0; k < nsp; k++) given.d[axes[k]] = hold;
        out->square.current = hold;
    }
    out->given = given;
    for (int k = 0; k < nsp && st == CK_OK; k++) {
        ck_sizes_axis *a = &out->axes[k];
        int sp[CK_MAX_RANK], all = ck_input_spatial_axes(g0, input, sp), i = 0;
        while (i < all && sp[i] != axes[k]) i++;
        out->n_axes = k + 1;
        a->name = ck_spatial_name(all, i);
        a->tensor_axis = axes[k];
        a->current = given.d[axes[k]];
        st = run_scan(g, input, &given, &axes[k], 1, lo, hi, a, &out->checks, vis, k + 1);
    }
    ck_graph_free(g);
    if (st != CK_OK) ck_sizes_free(out);
    return st;
}

ck_status ck_solve_sizes_visit(const ck_graph *g, int input, int64_t lo, int64_t hi, ck_sizes *out,
                               ck_diags *d, const ck_scan_visitor *vis) {
    if (!out) return CK_EUSAGE;
    memset(out, 0, sizeof *out);
    if (!g || input < 0 || input >= g->n_inputs) return CK_EUSAGE;
    ck_diags local = {0};
    ck_status st = solve_sizes(g, input, lo, hi, out, d ? d : &local, vis);
    ck_diags_free(&local);
    return st;
}

ck_status ck_solve_sizes(const ck_graph *g, int input, int64_t lo, int64_t hi, ck_sizes *out,
                         ck_diags *d) {
    return ck_solve_sizes_visit(g, input, lo, hi, out, d, NULL);
}
