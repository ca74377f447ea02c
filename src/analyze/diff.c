/* One architecture under two frameworks' rules: the window arithmetic is
 * shared, the rules that differ (PyTorch's dropped last ceil window, its
 * refusal of 'same' with a stride and of pool padding over kernel/2, Keras
 * without ceil_mode, resize rounding) live in the ops keyed by the layer's
 * dialect. Switching that key on the layers whose rules differ, and
 * re-checking, shows where the frameworks disagree. */
#include "analyze/analyze.h"
#include "ops/ops.h"

#include <string.h>

void ck_dialect_diffs_free(ck_dialect_diffs *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        free(d->v[i].layer);
        free(d->v[i].type);
        free(d->v[i].error_a);
        free(d->v[i].error_b);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

/* The layers whose attributes mean the same in every framework and whose
 * rules differ. Layout ops (reshape, flatten) keep their own dialect: their
 * attributes are framework-specific (Keras excludes the batch axis). */
static bool rules_differ(const ck_node *n) {
    return n->op == CK_OP_CONV || n->op == CK_OP_CONV_TRANSPOSE || n->op == CK_OP_SEPARABLE_CONV ||
           n->op == CK_OP_MAX_POOL || n->op == CK_OP_AVG_POOL || n->op == CK_OP_RESIZE ||
           n->op == CK_OP_PAD;
}

static const char *error_of(const ck_diags *d, const char *layer) {
    for (int i = 0; i < d->n; i++)
        if (d->v[i].severity == CK_SEV_ERROR && d->v[i].layer && !strcmp(d->v[i].layer, layer))
            return d->v[i].message;
    return NULL;
}

ck_status ck_check_as(const ck_graph *g, ck_dialect as, ck_dialect_diffs *out) {
    if (!out) return CK_EUSAGE;
    memset(out, 0, sizeof *out);
    if (!g) return CK_EUSAGE;
    out->a = g->dialect;
    out->b = as;
    ck_graph *ga = ck_graph_clone(g, false), *gb = ck_graph_clone(g, false);
    ck_status st = CK_ENOMEM;
    ck_diags da = {0}, db = {0};
    if (!ga || !gb) goto done;
    for (int i = 0; i < gb->n_nodes; i++)
        if (rules_differ(&gb->nodes[i])) gb->nodes[i].a.dialect = as;
    ck_status sa = ck_check(ga, &da), sb = ck_check(gb, &db);
    if (sa == CK_EUSAGE || sb == CK_EUSAGE) {
        st = CK_EUSAGE;
        goto done;
    }
    out->ok_a = sa == CK_OK;
    out->ok_b = sb == CK_OK;
    for (int i = 0; i < g->n_nodes; i++) {
        const ck_node *na = &ga->nodes[i], *nb = &gb->nodes[i];
        ck_shape oa = {0}, ob = {0};
        if (na->state == CK_LAYER_OK && na->n_out) oa = ga->vals[na->out[0]].shape;
        if (nb->state == CK_LAYER_OK && nb->n_out) ob = gb->vals[nb->out[0]].shape;
        if (na->state == nb->state && !memcmp(&oa, &ob, sizeof oa)) continue;
        /* downstream of a difference both sides are moot */
        if (nb->state == CK_LAYER_NOT_REACHED || na->state == CK_LAYER_NOT_REACHED) {
            out->not_reached_b += nb->state == CK_LAYER_NOT_REACHED;
            continue;
        }
        /* a layer fed different shapes reports its own difference only if
         * its rules differ or it fails; shape changes that merely flow
         * through are not new differences */
        bool fed_same = true;
        for (int k = 0; k < na->n_in; k++)
            fed_same &=
                !memcmp(&ga->vals[na->in[k]].shape, &gb->vals[nb->in[k]].shape, sizeof(ck_shape));
        if (!fed_same && na->state == nb->state) continue;
        ck_dialect_diff *v = realloc(out->v, (size_t)(out->n + 1) * sizeof *v);
        if (!v) goto done;
        out->v = v;
        ck_dialect_diff *r = &v[out->n++];
        *r =
            (ck_dialect_diff){.state_a = na->state, .state_b = nb->state, .out_a = oa, .out_b = ob};
        r->layer = ck_strdup(na->name);
        r->type = ck_strdup(na->type);
        const char *ea = na->state == CK_LAYER_FAILED ? error_of(&da, na->name) : NULL;
        const char *eb = nb->state == CK_LAYER_FAILED ? error_of(&db, nb->name) : NULL;
        r->error_a = ea ? ck_strdup(ea) : NULL;
        r->error_b = eb ? ck_strdup(eb) : NULL;
    }
    st = CK_OK;
done:
    ck_diags_free(&da);
    ck_diags_free(&db);
    ck_graph_free(ga);
    ck_graph_free(gb);
    if (st != CK_OK) ck_dialect_diffs_free(out);
    return st;
}
