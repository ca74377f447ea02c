/* The fix report: the first failure explained, with the fixes that make
 * the whole network valid (each applied to a copy and re-checked), and the
 * outcome of writing the first one (fix --write). */
#include "analyze/analyze.h"
#include "report/report.h"

static void fix_text(ck_str *s, const ck_rp_request *r, const ck_graph *g, ck_status st,
                     const ck_diags *d, const ck_fixes *fx, ck_status fst) {
    char buf[256];
    if (st == CK_OK) {
        ck_layer_info last = ck_graph_layer(g, ck_graph_num_layers(g) - 1);
        ck_str_addf(s, "%s is valid: output %s; nothing to fix\n", r->opt.model,
                    ck_shape_str(&last.output, buf, sizeof buf));
    } else {
        ck_rp_diags_text(s, d, r->opt.color);
        if (fx->n == 0 && fst == CK_OK)
            ck_str_addf(s, "no verified fix found (%lld shape checks)\n", (long long)fx->checks);
        else
            ck_str_addf(s, "(%d fixes from %lld shape checks)\n", fx->n, (long long)fx->checks);
    }
    if (r->written)
        ck_str_addf(s, "wrote %s with the first fix; check it: convkit check %s\n", r->written,
                    r->written);
}

static json_t *fix_json(const ck_rp_request *r, const ck_graph *g, ck_status st, const ck_diags *d,
                        int at, const ck_fixes *fx) {
    ck_shape s0 = ck_graph_input_shape(g, 0);
    json_t *j = ck_rp_doc_json(r->opt.model, g, &s0);
    json_object_set_new(j, "ok", json_boolean(st == CK_OK));
    json_object_set_new(j, "diagnostics", ck_rp_diags_json(d, at, fx));
    json_t *arr = json_array();
    for (int i = 0; i < fx->n; i++) json_array_append_new(arr, ck_rp_fix_json(&fx->v[i]));
    json_object_set_new(j, "fixes", arr);
    json_object_set_new(j, "checks", json_integer(fx->checks));
    json_object_set_new(j, "written", r->written ? json_string(r->written) : json_null());
    if (r->write_errors && r->write_errors->n)
        json_object_set_new(j, "write_errors", ck_rp_diags_json(r->write_errors, -1, NULL));
    return j;
}

ck_status ck_rp_fix(const ck_graph *g, ck_diags *d, ck_status st, const ck_rp_request *r,
                    ck_str *s) {
    ck_fixes own = {0};
    const ck_fixes *fx = r->fixes ? r->fixes : &own;
    ck_status fst = CK_OK;
    if (st != CK_OK && !r->fixes) fst = ck_find_fixes(g, &own, d);
    int at = ck_fixes_attach(fx, d);
    if (r->fmt == CK_FORMAT_JSON)
        ck_rp_add_json(s, fix_json(r, g, st, d, at, fx));
    else
        fix_text(s, r, g, st, d, fx, fst);
    ck_fixes_free(&own);
    return st;
}
