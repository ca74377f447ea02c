/* The reports' internals: one renderer per document (check, summary, sizes,
 * fix, the SVG picture) writing into a ck_str, and the pieces they share
 * (diagnostics as text and JSON, layer and shape JSON). Nothing here prints:
 * ck_report() hands the text to the caller. */
#ifndef CK_REPORT_H
#define CK_REPORT_H

#include "core/core.h"

#include <jansson.h>

/* One report to render: the public arguments, resolved. */
typedef struct ck_rp_request {
    ck_report_kind kind;
    ck_format fmt;
    ck_report_options opt;        /* opt.model is never NULL here */
    const ck_fixes *fixes;        /* FIX: found by the caller; NULL: search */
    const char *written;          /* FIX: the file the first fix was written to */
    const ck_diags *write_errors; /* FIX: why it was not written */
    /* CHECK of a model with symbolic input sizes: the scans and each
     * layer's output as expressions (analyze/analyze.h); NULL otherwise */
    const struct ck_symbolic *sym;
} ck_rp_request;

/* The renderers of check, summary and fix get a checked copy g of the
 * graph, its diagnostics d (theirs to extend) and the check's status st
 * (CK_OK or CK_EINVALID), and return the report's status; sizes gets the
 * graph itself and renders the failure of a scan that cannot run. Each
 * leaves s->oom set when memory ran out. */
ck_status ck_rp_check(const ck_graph *g, ck_diags *d, ck_status st, const ck_rp_request *r,
                      ck_str *s);
ck_status ck_rp_summary(const ck_graph *g, ck_diags *d, ck_status st, const ck_rp_request *r,
                        ck_str *s);
ck_status ck_rp_fix(const ck_graph *g, ck_diags *d, ck_status st, const ck_rp_request *r,
                    ck_str *s);
ck_status ck_rp_sizes(const ck_graph *g, const ck_rp_request *r, ck_str *s);
/* summary --format svg: the checked graph g, its diagnostics, receptive fields (may be NULL) */
void ck_rp_svg(ck_str *s, const char *model, const ck_graph *g, const ck_diags *d,
               const ck_rf_table *rt);

/* The output of a model that cannot be used: the diagnostics as text, or
 * the one JSON object {model, ok: false, layers: [], diagnostics}. */
void ck_rp_failure(ck_str *s, const char *model, const ck_diags *d, ck_format fmt, bool color);

/* ---- text ----------------------------------------------------------------- */

/* Errors first, then warnings and notes. d may be NULL. */
void ck_rp_diags_text(ck_str *s, const ck_diags *d, bool color);

/* ---- JSON ----------------------------------------------------------------- */

/* Appends o as every report prints JSON (JSON_INDENT(2) |
 * JSON_PRESERVE_ORDER, newline-terminated) and releases o. */
void ck_rp_add_json(ck_str *s, json_t *o);
/* Every diagnostic; `fixes` (may be NULL) are the structured fixes whose
 * text diagnostic `at` carries (its fix_details). */
json_t *ck_rp_diags_json(const ck_diags *d, int at, const ck_fixes *fixes);
json_t *ck_rp_fix_json(const ck_fix *f);
json_t *ck_rp_shape_json(const ck_shape *s);
/* Runs of sizes as [[first, last], ...] */
json_t *ck_rp_runs_json(const ck_runs *r);
json_t *ck_rp_layer_json(const ck_layer_info *li);
json_t *ck_rp_inputs_json(const ck_graph *g);
/* "ok", "failed", "not_reached" */
const char *ck_rp_state_name(ck_layer_state st);
/* The top of every report's document: model, dialect, input (the shape given). */
json_t *ck_rp_doc_json(const char *model, const ck_graph *g, const ck_shape *input);

/* "[1, 64, 1, 1]", "FAILED" or what a layer that was not reached shows */
const char *ck_rp_state_text(ck_layer_state st, const ck_shape *s, char *buf, size_t n,
                             const char *not_reached);

#endif
