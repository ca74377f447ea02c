/* Shared pieces of the op table: diagnostics from rules, layout helpers,
 * the window arithmetic (the only copy of the conv/pool formulas), typed
 * argument getters for frontends, and the name registry. */
#include "ops/ops.h"

#include <math.h>
#include <string.h>

static ck_diag *report(ck_ctx *c, ck_severity sev, ck_code code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static ck_diag *report(ck_ctx *c, ck_severity sev, ck_code code, const char *fmt, va_list ap) {
    return ck_diag_vadd(c->d, sev, code, c->n->name, c->n->type, fmt, ap);
}

ck_diag *ck_fail(ck_ctx *c, ck_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    c->err = report(c, CK_SEV_ERROR, code, fmt, ap);
    va_end(ap);
    return c->err;
}

ck_diag *ck_warn(ck_ctx *c, ck_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ck_diag *dg = report(c, CK_SEV_WARNING, code, fmt, ap);
    va_end(ap);
    return dg;
}

void ck_warn_dropped(ck_ctx *c, int nsp, const int64_t *dropped, const int64_t *in) {
    ck_str s = {0};
    for (int i = 0; i < nsp; i++)
        if (dropped[i] > 0)
            ck_str_addf(&s, "%s%lld of %lld on the %s axis", s.n ? ", " : "", (long long)dropped[i],
                        (long long)in[i], ck_axis_name(nsp, i));
    if (s.n) ck_warn(c, CK_PIXELS_DROPPED, "floor() drops input pixels no window covers: %s", s.p);
    ck_str_free(&s);
}

void ck_fail_axis(ck_ctx *c, int tensor_axis, const char *name, int64_t value) {
    c->fail_axis = tensor_axis;
    c->fail_value = value;
    if (c->err && name) ck_diag_set(&c->err->axis, "%s", name);
}

int ck_channel_axis(const ck_attrs *a, int rank, int nsp) {
    return a->channels_last ? rank - 1 : rank - nsp - 1;
}

int ck_spatial_axis(const ck_attrs *a, int rank, int nsp, int i) {
    return a->channels_last ? rank - 1 - nsp + i : rank - nsp + i;
}

const char *ck_axis_name(int nsp, int i) {
    static const char *const n1[] = {"length"};
    static const char *const n2[] = {"height", "width"};
    static const char *const n3[] = {"depth", "height", "width"};
    if (nsp == 1 && i == 0) return n1[0];
    if (nsp == 2 && i >= 0 && i < 2) return n2[i];
    if (nsp == 3 && i >= 0 && i < 3) return n3[i];
    return "spatial";
}

void ck_attrs_init(ck_attrs *a, ck_dialect d, int nsp) {
    memset(a, 0, sizeof *a);
    a->dialect = d;
    a->channels_last = (d == CK_DIALECT_KERAS);
    a->nsp = nsp;
    for (int i = 0; i < CK_MAX_SP; i++) {
        a->kernel[i] = 1;
        a->stride[i] = 1;
        a->dilation[i] = 1;
        a->size[i] = -1;
        a->scale[i] = 1.0;
    }
    a->groups = 1;
    a->depth_multiplier = 1;
    a->bias = true;
    a->count_include_pad = true;
    a->start_dim = 1;
    a->end_dim = -1;
    a->eps = 1e-5;
    a->affine = true;
    a->axis = 1;
}

/* ---- window arithmetic -------------------------------------------------- */

bool ck_window_extent(int64_t k, int64_t d, int64_t *out) {
    int64_t t;
    return ck_sub(k, 1, &t) && ck_mul(t, d, &t) && ck_add(t, 1, out);
}

bool ck_resolve_pads(const ck_attrs *a, int i, int64_t in, int64_t *pb, int64_t *pe) {
    int64_t ext;
    if (!ck_window_extent(a->kernel[i], a->dilation[i], &ext)) return false;
    switch (a->pad_mode) {
    case CK_PAD_EXPLICIT:
        *pb = a->pad_begin[i];
        *pe = a->pad_end[i];
        return true;
    case CK_PAD_VALID:
        *pb = *pe = 0;
        return true;
    case CK_PAD_CAUSAL:
        *pe = 0;
        return ck_sub(ext, 1, pb);
    case CK_PAD_SAME_TORCH: {
        /* PyTorch: total = d*(k-1), left = total/2, the odd pixel at the end */
        int64_t total;
        if (!ck_sub(ext, 1, &total)) return false;
        *pb = total / 2;
        return ck_sub(total, *pb, pe);
    }
    case CK_PAD_SAME_UPPER:
    case CK_PAD_SAME_LOWER: {
        /* out = ceil(in/s); total = max((out-1)*s + ext - in, 0) */
        int64_t s = a->stride[i], out = ck_ceildiv(in, s), t;
        if (!ck_sub(out, 1, &t) || !ck_mul(t, s, &t) || !ck_add(t, ext, &t) || !ck_sub(t, in, &t))
            return false;
        if (t < 0) t = 0;
        int64_t small = t / 2;
        if (a->pad_mode == CK_PAD_SAME_UPPER) {
            *pb = small;
            return ck_sub(t, small, pe);
        }
        *pe = small;
        return ck_sub(t, small, pb);
    }
    }
    return false;
}

bool ck_window_out(ck_window *w, int64_t *out, ck_str *f) {
    int64_t num, ext, o;
    if (!ck_window_extent(w->k, w->d, &ext)) return false;
    if (!ck_add(w->in, w->pb, &num) || !ck_add(num, w->pe, &num)) return false;
    w->padded = num;
    if (!ck_sub(num, ext, &num)) return false;
    /* num = in + pb + pe - d*(k-1) - 1 */
    o = w->ceil_mode ? ck_ceildiv(num, w->s) : ck_floordiv(num, w->s);
    if (!ck_add(o, 1, &o)) return false;
    bool dropped = false;
    w->dropped = 0;
    /* Only when windows touch or overlap: with a kernel smaller than the
     * stride every gap is skipped by design, not by floor(). */
    if (!w->ceil_mode && num >= 0 && ext >= w->s) {
        int64_t left = num % w->s; /* padded pixels after the last window */
        if (left > w->pe && !ck_sub(left, w->pe, &w->dropped)) return false;
    }
    int64_t counted = o; /* before a window starting in the padding is dropped */
    if (w->ceil_mode && w->torch_ceil_drop) {
        int64_t start, lim;
        if (!ck_sub(o, 1, &start) || !ck_mul(start, w->s, &start) || !ck_add(w->in, w->pb, &lim))
            return false;
        if (start >= lim) {
            if (!ck_sub(o, 1, &o)) return false;
            dropped = true;
        }
    }
    if (f) {
        const char *fn = w->ceil_mode ? "ceil" : "floor";
        ck_str_addf(
            f,
            "%s((%lld + %lld + %lld - %lld*(%lld-1) - 1) / %lld) + 1 = %s(%lld / %lld) + 1 = %lld",
            fn, (long long)w->in, (long long)w->pb, (long long)w->pe, (long long)w->d,
            (long long)w->k, (long long)w->s, fn, (long long)num, (long long)w->s,
            (long long)counted);
        if (dropped)
            ck_str_addf(f, ", minus the last window, which would start in the right padding = %lld",
                        (long long)o);
    }
    *out = o;
    return true;
}

bool ck_tconv_pads(const ck_attrs *a, int i, int64_t in, int64_t *pb, int64_t *pe) {
    *pb = a->pad_begin[i];
    *pe = a->pad_end[i];
    if (a->dialect == CK_DIALECT_ONNX &&
        (a->has_size || a->pad_mode == CK_PAD_SAME_UPPER || a->pad_mode == CK_PAD_SAME_LOWER)) {
        /* ONNX: output_shape fixes the total padding (negative pads only
         * matter to the runtime); auto_pad SAME_* without it pads
         * max(d*(k-1)+1 - s, 0), independent of the input. */
        int64_t full, ext, total;
        if (!ck_tconv_out(in, a->kernel[i], a->stride[i], a->dilation[i], 0, 0, a->out_pad[i],
                          &full, NULL) ||
            !ck_window_extent(a->kernel[i], a->dilation[i], &ext))
            return false;
        if (a->has_size) {
            if (!ck_sub(full, a->size[i], &total)) return false;
        } else {
            if (!ck_sub(ext, a->stride[i], &total)) return false;
            if (total < 0) total = 0;
        }
        /* the spec's total/2 rounds down (the reference's //): an output_shape
         * past the full output puts its extra pixel at the end */
        if (a->pad_mode == CK_PAD_SAME_UPPER) {
            *pb = ck_floordiv(total, 2);
            if (!ck_sub(total, *pb, pe)) return false;
        } else {
            *pe = ck_floordiv(total, 2);
            if (!ck_sub(total, *pe, pb)) return false;
        }
    } else if (a->pad_mode == CK_PAD_VALID) {
        *pb = *pe = 0;
    }
    return true;
}

bool ck_tconv_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, int64_t op,
                  int64_t *out, ck_str *f) {
    int64_t t, ext;
    if (!ck_window_extent(k, d, &ext)) return false;
    if (!ck_sub(in, 1, &t) || !ck_mul(t, s, &t) || !ck_sub(t, pb, &t) || !ck_sub(t, pe, &t) ||
        !ck_add(t, ext, &t) || !ck_add(t, op, &t))
        return false;
    if (f)
        ck_str_addf(f, "(%lld-1)*%lld - %lld - %lld + %lld*(%lld-1) + %lld + 1 = %lld",
                    (long long)in, (long long)s, (long long)pb, (long long)pe, (long long)d,
                    (long long)k, (long long)op, (long long)t);
    *out = t;
    return true;
}

int64_t ck_sat_mul(int64_t a, int64_t b) {
    int64_t r;
    return ck_mul(a, b, &r) ? r : INT64_MAX;
}

int64_t ck_sat_add(int64_t a, int64_t b) {
    int64_t r;
    return ck_add(a, b, &r) ? r : INT64_MAX;
}

int64_t ck_numel_sat(const ck_shape *s) {
    int64_t p = 1;
    for (int i = 0; i < s->rank; i++) p = ck_sat_mul(p, s->d[i]);
    return p;
}

int64_t ck_kernel_numel(const ck_attrs *a) {
    int64_t p = 1;
    for (int i = 0; i < a->nsp; i++) p = ck_sat_mul(p, a->kernel[i]);
    return p;
}

char *ck_shape_dup(const ck_shape *s) {
    ck_str t = {0};
    ck_str_shape(&t, s);
    return ck_str_take(&t);
}

bool ck_check_rank(ck_ctx *c, const ck_shape *x, int nsp, bool unbatched_ok, const char *what) {
    if (x->rank == nsp + 2 || (unbatched_ok && x->rank == nsp + 1)) return true;
    char buf[160];
    ck_shape_str(x, buf, sizeof buf);
    if (unbatched_ok)
        ck_fail(c, CK_RANK_MISMATCH,
                "%s expects a %d-D (unbatched) or %d-D (batched) input, but its input %s is %d-D",
                what, nsp + 1, nsp + 2, buf, x->rank);
    else
        ck_fail(c, CK_RANK_MISMATCH,
                "%s expects a %d-D input (batch, channels and %d spatial axes), but its input %s "
                "is %d-D",
                what, nsp + 2, nsp, buf, x->rank);
    return false;
}

/* ---- argument getters --------------------------------------------------- */

ck_diag *ck_build_fail(ck_build *b, ck_code code, const char *fmt, ...) {
    ck_str s = {0};
    va_list ap;
    va_start(ap, fmt);
    ck_str_vaddf(&s, fmt, ap);
    va_end(ap);
    char *msg = ck_str_take(&s);
    ck_diag *dg = NULL;
    if (!b->failed)
        dg = ck_diag_add(b->d, CK_SEV_ERROR, code, b->layer, b->type, "%s", msg ? msg : "");
    free(msg);
    b->failed = true;
    return dg;
}

int ck_param_index(const ck_frontend *fe, const char *name) {
    for (int i = 0; fe->params && fe->params[i]; i++)
        if (strcmp(fe->params[i], name) == 0) return i;
    return -1;
}

const ck_value *ck_arg(const ck_build *b, const char *name) {
    int i = ck_param_index(b->fe, name);
    return i < 0 ? NULL : b->arg[i];
}

static bool bad_type(ck_build *b, const char *name, const ck_value *v, const char *want) {
    ck_str s = {0};
    ck_value_str(&s, v);
    char *t = ck_str_take(&s);
    ck_build_fail(b, CK_INVALID_CONFIG, "%s: %s must be %s, got %s", b->fe->name, name, want,
                  t ? t : "?");
    free(t);
    return false;
}

bool ck_arg_int(ck_build *b, const char *name, int64_t *out) {
    const ck_value *v = ck_arg(b, name);
    if (!v || v->kind == CK_V_NONE) return true;
    if (v->kind == CK_V_INT) {
        *out = v->i;
        return true;
    }
    /* JSON and print(model) write 2.0 where an int is meant */
    if (v->kind == CK_V_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9e15) {
        *out = (int64_t)v->f;
        return true;
    }
    /* Keras writes (2,) or [2] for a 1-D size */
    if (v->kind == CK_V_LIST && v->n == 1 && v->items[0].kind == CK_V_INT) {
        *out = v->items[0].i;
        return true;
    }
    return bad_type(b, name, v, "an integer");
}

bool ck_arg_float(ck_build *b, const char *name, double *out) {
    const ck_value *v = ck_arg(b, name);
    if (!v || v->kind == CK_V_NONE) return true;
    if (v->kind == CK_V_FLOAT)
        *out = v->f;
    else if (v->kind == CK_V_INT)
        *out = (double)v->i;
    else
        return bad_type(b, name, v, "a number");
    return true;
}

bool ck_arg_bool(ck_build *b, const char *name, bool *out) {
    const ck_value *v = ck_arg(b, name);
    if (!v || v->kind == CK_V_NONE) return true;
    if (v->kind == CK_V_BOOL || v->kind == CK_V_INT)
        *out = v->i != 0;
    else if (v->kind == CK_V_STR && v->bare && strcmp(v->s, "true") == 0)
        *out = true;
    else if (v->kind == CK_V_STR && v->bare && strcmp(v->s, "false") == 0)
        *out = false;
    else
        return bad_type(b, name, v, "True or False");
    return true;
}

bool ck_arg_str(ck_build *b, const char *name, const char **out) {
    const ck_value *v = ck_arg(b, name);
    if (!v || v->kind == CK_V_NONE) return true;
    if (v->kind != CK_V_STR) return bad_type(b, name, v, "a string");
    *out = v->s;
    return true;
}

bool ck_arg_ints(ck_build *b, const char *name, int n, int64_t *out) {
    const ck_value *v = ck_arg(b, name);
    if (!v || v->kind == CK_V_NONE) return true;
    if (v->kind == CK_V_INT) {
        for (int i = 0; i < n; i++) out[i] = v->i;
        return true;
    }
    if (v->kind == CK_V_LIST) {
        if (v->n == 1 && n > 1 && v->items[0].kind == CK_V_INT) {
            for (int i = 0; i < n; i++) out[i] = v->items[0].i;
            return true;
        }
        if (v->n != n) {
            ck_str s = {0};
            ck_value_str(&s, v);
            char *t = ck_str_take(&s);
            ck_build_fail(b, CK_INVALID_CONFIG,
                          "%s: %s needs %d value%s (one per spatial axis), got %s", b->fe->name,
                          name, n, n == 1 ? "" : "s", t ? t : "?");
            free(t);
            return false;
        }
        for (int i = 0; i < n; i++) {
            const ck_value *it = &v->items[i];
            if (it->kind == CK_V_INT)
                out[i] = it->i;
            else if (it->kind == CK_V_FLOAT && it->f == floor(it->f) && fabs(it->f) < 9e15)
                out[i] = (int64_t)it->f;
            else
                return bad_type(b, name, v, "an integer or a tuple of integers");
        }
        return true;
    }
    if (v->kind == CK_V_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9e15) {
        for (int i = 0; i < n; i++) out[i] = (int64_t)v->f;
        return true;
    }
    return bad_type(b, name, v, "an integer or a tuple of integers");
}

bool ck_arg_int_list(ck_build *b, const char *name, int max, int64_t *out, int *count) {
    const ck_value *v = ck_arg(b, name);
    if (!v || v->kind == CK_V_NONE) return true;
    if (v->kind == CK_V_INT) {
        out[0] = v->i;
        *count = 1;
        return true;
    }
    if (v->kind != CK_V_LIST) return bad_type(b, name, v, "a tuple of integers");
    if (v->n > max) {
        ck_build_fail(b, CK_LIMIT_EXCEEDED, "%s: %s has %d entries; at most %d are supported",
                      b->fe->name, name, v->n, max);
        return false;
    }
    for (int i = 0; i < v->n; i++) {
        if (v->items[i].kind == CK_V_INT)
            out[i] = v->items[i].i;
        else if (v->items[i].kind == CK_V_NONE)
            out[i] = -1;
        else
            return bad_type(b, name, v, "a tuple of integers");
    }
    *count = v->n;
    return true;
}

int ck_arg_ref(const ck_build *b, const ck_value *v) {
    if (!v || v->kind != CK_V_STR || !v->bare || !v->s || !b->g) return 0;
    for (int k = 0; k < b->n_in; k++)
        if (strcmp(b->g->vals[b->in[k]].name, v->s) == 0) return k + 1;
    return 0;
}

bool ck_dyn_push(ck_build *b, const char *name, const ck_value *it, ck_dynlist *out) {
    if (out->n >= CK_DYN_MAX) {
        ck_build_fail(b, CK_LIMIT_EXCEEDED, "%s: %s has more than %d entries", b->fe->name, name,
                      CK_DYN_MAX);
        return false;
    }
    int r = ck_arg_ref(b, it);
    if (it->kind == CK_V_INT || it->kind == CK_V_NONE || r > 0) {
        out->lit[out->n] = it->kind == CK_V_INT ? it->i : CK_DYN_NONE;
        out->ref[out->n] = (int8_t)r;
        out->n++;
        return true;
    }
    if (it->kind == CK_V_STR && it->bare) {
        ck_build_fail(b, CK_INVALID_CONFIG, "%s: %s names '%s', which is not an input of %s",
                      b->fe->name, name, it->s, b->layer);
        return false;
    }
    return bad_type(b, name, it, "integers or sizes of earlier values");
}

bool ck_value_has_ref(const ck_build *b, const ck_value *v) {
    if (!v) return false;
    if (v->kind == CK_V_LIST) {
        for (int i = 0; i < v->n; i++)
            if (ck_value_has_ref(b, &v->items[i])) return true;
        return false;
    }
    return ck_arg_ref(b, v) > 0;
}

bool ck_arg_dyn(ck_build *b, const char *name, ck_dynlist *out) {
    return ck_value_dyn(b, name, ck_arg(b, name), out);
}

bool ck_value_dyn(ck_build *b, const char *name, const ck_value *v, ck_dynlist *out) {
    memset(out, 0, sizeof *out);
    if (!v || v->kind == CK_V_NONE) return true;
    out->given = true;
    if (v->kind != CK_V_LIST) return ck_dyn_push(b, name, v, out);
    for (int i = 0; i < v->n; i++)
        if (!ck_dyn_push(b, name, &v->items[i], out)) return false;
    return true;
}

bool ck_dyn_resolve(ck_ctx *c, const ck_dynlist *dl, int64_t *out, int max, int *n,
                    const char *what) {
    int k = 0;
    for (int i = 0; i < dl->n; i++) {
        if (dl->ref[i] == 0) {
            if (k >= max) goto many;
            out[k++] = dl->lit[i];
            continue;
        }
        int in = dl->ref[i] - 1;
        int64_t cnt;
        const int64_t *v = ck_known_ints(c, in, &cnt);
        if (!v || c->in[in]->shape.rank > 1) {
            ck_fail(c, CK_UNSUPPORTED,
                    "%s: %s uses '%s', whose value convkit cannot compute before running (only "
                    "sizes of tensors and integer arithmetic on them are known)",
                    c->n->type, what, c->in[in]->name);
            return false;
        }
        for (int64_t j = 0; j < cnt; j++) {
            if (k >= max) goto many;
            out[k++] = v[j];
        }
    }
    *n = k;
    return true;
many:
    ck_fail(c, CK_LIMIT_EXCEEDED, "%s: %s has more than %d entries", c->n->type, what, max);
    return false;
}

bool ck_call_shape(ck_ctx *c, ck_op_id op, const ck_attrs *a, int n_in) {
    ck_node tmp = *c->n;
    tmp.a = *a;
    ck_ctx c2 = *c;
    c2.n = &tmp;
    c2.n_in = n_in < c->n_in ? n_in : c->n_in;
    bool ok = ck_op_get(op)->shape(&c2);
    c->err = c2.err;
    c->fail_axis = c2.fail_axis;
    c->fail_value = c2.fail_value;
    return ok;
}

void ck_call_cost(const ck_ctx *c, ck_op_id op, const ck_attrs *a, int n_in, ck_cost *k) {
    const ck_op *rules = ck_op_get(op);
    if (!rules->cost) return;
    ck_node tmp = *c->n;
    tmp.a = *a;
    ck_ctx c2 = *c;
    c2.n = &tmp;
    c2.n_in = n_in < c->n_in ? n_in : c->n_in;
    rules->cost(&c2, k);
}

/* ---- registry ----------------------------------------------------------- */

char *ck_layer_types(ck_dialect dialect) {
    const ck_frontend *t = dialect == CK_DIALECT_PYTORCH ? ck_fe_pytorch
                           : dialect == CK_DIALECT_KERAS ? ck_fe_keras
                           : dialect == CK_DIALECT_ONNX  ? ck_fe_onnx
                                                         : NULL;
    ck_str s = {0};
    ck_str_add(&s, "");
    for (; t && t->name; t++)
        if (!t->functional) ck_str_addf(&s, "%s\n", t->name);
    return ck_str_take(&s);
}

static const ck_frontend *find_in(const ck_frontend *t, const char *name) {
    for (; t->name; t++)
        if (strcmp(t->name, name) == 0) return t;
    return NULL;
}

const ck_frontend *ck_frontend_find(ck_dialect d, const char *name) {
    if (!name) return NULL;
    if (d == CK_DIALECT_PYTORCH) return find_in(ck_fe_pytorch, name);
    if (d == CK_DIALECT_KERAS) return find_in(ck_fe_keras, name);
    if (d == CK_DIALECT_ONNX) return find_in(ck_fe_onnx, name);
    const ck_frontend *f = find_in(ck_fe_pytorch, name);
    if (!f) f = find_in(ck_fe_keras, name);
    if (!f) f = find_in(ck_fe_onnx, name);
    return f;
}

bool ck_frontend_known(ck_dialect d, const char *name) {
    return ck_frontend_find(d, name) != NULL;
}

/* ---- the unknown op ----------------------------------------------------- */

static bool unknown_shape(ck_ctx *c) {
    ck_fail(c, CK_UNSUPPORTED_OP, "convkit does not know the %s layer type '%s'; shapes stop here",
            ck_dialect_name(c->n->a.dialect), c->n->type);
    return false;
}

const ck_op ck_op_unknown = {unknown_shape, NULL, NULL};
