/* The public report API: which kind has which format, the shared steps
 * (a checked copy of the graph, the output of a model that cannot be used),
 * and the small diagnostics helpers bindings and the CLI use. */
#include "analyze/analyze.h"
#include "report/report.h"

#include <string.h>

static bool has_format(ck_report_kind kind, ck_format fmt) {
    switch (fmt) {
    case CK_FORMAT_TEXT:
    case CK_FORMAT_JSON:
        return kind == CK_REPORT_CHECK || kind == CK_REPORT_SUMMARY || kind == CK_REPORT_SIZES ||
               kind == CK_REPORT_FIX;
    case CK_FORMAT_MD:
    case CK_FORMAT_SVG:
        return kind == CK_REPORT_SUMMARY;
    }
    return false;
}

/* The note that says where a model with symbolic sizes was checked. */
static void symbolic_note(const ck_graph *g, const ck_symbolic *sy, ck_diags *d) {
    const ck_sizes *z = &sy->sizes;
    char buf[256];
    ck_str t = {0};
    ck_str_addf(&t, "input '%s' [", ck_graph_input_name(g, sy->input));
    for (int a = 0; a < sy->instance.rank; a++)
        ck_str_addf(&t, "%s%s", a ? ", " : "", sy->input_expr[a] ? sy->input_expr[a] : "?");
    if (!sy->spatial) {
        /* only the batch is a symbol: checked at 1, the sizes as declared */
        ck_str_addf(&t, "] has a symbolic batch: checked at %s",
                    ck_shape_str(&sy->instance, buf, sizeof buf));
        ck_diag_add(d, CK_SEV_NOTE, CK_NOTE, ck_graph_input_name(g, sy->input), "input", "%s",
                    t.p ? t.p : "");
        ck_str_free(&t);
        return;
    }
    ck_str_addf(&t, "] has symbolic sizes: every size %lld-%lld was checked", (long long)z->lo,
                (long long)z->hi);
    if (z->n_axes > 1) ck_str_add(&t, " (all the symbolic axes together, then each alone)");
    if (sy->valid && z->square.min >= 1)
        ck_str_addf(&t, "; the layers are shown at %s, the smallest valid",
                    ck_shape_str(&sy->instance, buf, sizeof buf));
    else if (sy->valid)
        ck_str_addf(&t, "; the layers are shown at %s",
                    ck_shape_str(&sy->instance, buf, sizeof buf));
    else if (z->square.min >= 1)
        /* every layer's rule passes, a rule of the whole model does not
         * (Keras: a Dense fed by an open size) */
        ck_str_addf(&t,
                    "; every layer accepts the sizes below, but the model is invalid at "
                    "all of them (the error): the layers are shown at %s",
                    ck_shape_str(&sy->instance, buf, sizeof buf));
    else
        ck_str_addf(&t, "; no size is valid: the layers are shown at %s",
                    ck_shape_str(&sy->instance, buf, sizeof buf));
    ck_diag_add(d, CK_SEV_NOTE, CK_NOTE, ck_graph_input_name(g, sy->input), "input", "%s",
                t.p ? t.p : "");
    ck_str_free(&t);
}

/* Check, summary and fix: the renderer gets a checked copy of g, or the
 * failure is rendered when g cannot be checked (an input without a shape).
 * A model with symbolic input sizes is checked at every size by the size
 * solver and shown at the smallest valid one; it is valid when some size
 * is. */
static ck_status checked(const ck_graph *g, const ck_rp_request *r0, ck_str *s) {
    ck_rp_request rq = *r0;
    const ck_rp_request *r = &rq;
    ck_diags d = {0};
    ck_symbolic sy;
    bool symbolic = ck_graph_has_symbols(g);
    ck_graph *c;
    if (symbolic) {
        int64_t lo = r->opt.lo, hi = r->opt.hi;
        if (lo == 0 && hi == 0) lo = 1, hi = 1024;
        ck_status sst = ck_symbolic_solve(g, lo, hi, &sy, &d);
        if (sst != CK_OK) {
            if (sst != CK_ENOMEM) ck_rp_failure(s, r->opt.model, &d, r->fmt, r->opt.color);
            ck_diags_free(&d);
            return sst;
        }
        c = ck_symbolic_instance(g, &sy);
        rq.sym = &sy;
    } else {
        c = ck_graph_clone(g, false);
    }
    if (!c) {
        if (symbolic) ck_symbolic_free(&sy);
        ck_diags_free(&d);
        return CK_ENOMEM;
    }
    ck_status st = ck_check(c, &d);
    if (symbolic) {
        symbolic_note(g, &sy, &d);
        if (st == CK_OK || st == CK_EINVALID) st = sy.valid ? CK_OK : CK_EINVALID;
    }
    if (st != CK_OK && st != CK_EINVALID)
        ck_rp_failure(s, r->opt.model, &d, r->fmt, r->opt.color);
    else if (r->kind == CK_REPORT_CHECK)
        st = ck_rp_check(c, &d, st, r, s);
    else if (r->kind == CK_REPORT_SUMMARY)
        st = ck_rp_summary(c, &d, st, r, s);
    else
        st = ck_rp_fix(c, &d, st, r, s);
    ck_diags_free(&d);
    ck_graph_free(c);
    if (symbolic) ck_symbolic_free(&sy);
    return st;
}

/* Hands s over as *out: the report's status, or CK_ENOMEM. */
static ck_status finish(ck_str *s, ck_status st, char **out) {
    if (st == CK_ENOMEM || s->oom) {
        ck_str_free(s);
        return CK_ENOMEM;
    }
    *out = ck_str_take(s);
    return *out ? st : CK_ENOMEM;
}

static ck_status render(const ck_graph *g, ck_rp_request *r, const ck_report_options *opt,
                        char **out) {
    if (out) *out = NULL;
    if (!g || !out || !has_format(r->kind, r->fmt)) return CK_EUSAGE;
    if (opt) r->opt = *opt;
    if (!r->opt.model) r->opt.model = g->source ? g->source : "";
    ck_str s = {0};
    ck_status st = r->kind == CK_REPORT_SIZES ? ck_rp_sizes(g, r, &s) : checked(g, r, &s);
    return finish(&s, st, out);
}

ck_status ck_report(const ck_graph *g, ck_report_kind kind, ck_format fmt,
                    const ck_report_options *opt, char **out) {
    ck_rp_request r = {.kind = kind, .fmt = fmt};
    return render(g, &r, opt, out);
}

ck_status ck_report_fixes(const ck_graph *g, const ck_fixes *fixes, const char *written,
                          const ck_diags *write_errors, ck_format fmt, const ck_report_options *opt,
                          char **out) {
    ck_rp_request r = {.kind = CK_REPORT_FIX,
                       .fmt = fmt,
                       .fixes = fixes,
                       .written = written,
                       .write_errors = write_errors};
    return render(g, &r, opt, out);
}

ck_status ck_report_failure(const char *model, const ck_diags *d, ck_format fmt, bool color,
                            char **out) {
    if (!out) return CK_EUSAGE;
    *out = NULL;
    ck_str s = {0};
    ck_rp_failure(&s, model, d, fmt, color);
    return finish(&s, CK_OK, out);
}

/* A JSON value as its own document (the reports' JSON layout). */
static char *json_text(json_t *j) {
    ck_str s = {0};
    ck_rp_add_json(&s, j);
    return ck_str_take(&s);
}

char *ck_diags_text(const ck_diags *d, bool color) {
    ck_str s = {0};
    ck_rp_diags_text(&s, d, color);
    return ck_str_take(&s);
}

char *ck_diags_json(const ck_diags *d) {
    return json_text(ck_rp_diags_json(d, -1, NULL));
}

char *ck_fix_json(const ck_fix *f) {
    return f ? json_text(ck_rp_fix_json(f)) : NULL;
}

char *ck_inputs_json(const ck_graph *g) {
    return g ? json_text(ck_rp_inputs_json(g)) : NULL;
}

ck_diag *ck_diags_append(ck_diags *d, ck_severity sev, ck_code code, const char *layer,
                         const char *op, const char *message) {
    return d ? ck_diag_add(d, sev, code, layer, op, "%s", message ? message : "") : NULL;
}

bool ck_diag_append_note(ck_diag *dg, const char *note) {
    if (!dg || !note) return false;
    int n = dg->n_notes;
    ck_diag_note(dg, "%s", note);
    return dg->n_notes > n;
}

void ck_free(void *p) {
    free(p);
}
