/* Shape propagation over the whole graph: every layer's rule in order, a
 * failure stopping only its own downstream, and the explanation of each
 * failure (where the input came from, how the failing axis shrank). */
#include "graph/graph.h"
#include "ops/ops.h"

#include <string.h>

static void val_reset(ck_val *v) {
    ck_val_forget(v);
    v->state = CK_VAL_UNKNOWN;
}

/* A constant's contents are its tensor's decoded data (integers, small
 * floats), as far as the evaluator folds. */
static void const_contents(const ck_graph *g, ck_val *v, const ck_tensor *t) {
    int64_t n;
    if (t->from_input || !ck_shape_numel(&t->shape, &n) || n > ck_fold_limit(g)) return;
    if (t->i64)
        v->kval = t->i64;
    else if (t->f32)
        v->kflt = t->f32;
    else
        return;
    v->nkval = n;
}

/* True when every output of n has known contents. */
static bool outputs_known(const ck_graph *g, const ck_node *n) {
    for (int k = 0; k < n->n_out; k++) {
        const ck_val *o = &g->vals[n->out[k]];
        if (!o->kval && !o->kflt) return false;
    }
    return n->n_out > 0;
}

static ck_diag *copy_diag(ck_diags *d, const ck_diag *src) {
    ck_diag *dg = ck_diag_add(d, src->severity, src->code, src->layer, src->op, "%s",
                              src->message ? src->message : "");
    if (!dg) return NULL;
    if (src->axis) dg->axis = ck_strdup(src->axis);
    if (src->formula) dg->formula = ck_strdup(src->formula);
    for (int i = 0; i < src->n_notes; i++) ck_diag_note(dg, "%s", src->notes[i]);
    return dg;
}

/* "input [1, 32, 1, 1] comes from conv2" */
static void explain_input(const ck_graph *g, const ck_node *n, ck_diag *dg) {
    if (!dg || n->n_in == 0 || dg->input) return;
    const ck_val *v = &g->vals[n->in[0]];
    if (v->state != CK_VAL_OK) return;
    ck_str s = {0};
    ck_str_add(&s, n->n_in > 1 ? "inputs " : "input ");
    for (int i = 0; i < n->n_in; i++) {
        const ck_val *u = &g->vals[n->in[i]];
        if (i) ck_str_add(&s, ", ");
        ck_str_shape(&s, &u->shape);
        const char *verb = n->n_in > 1 ? "from" : "comes from";
        if (u->producer >= 0)
            ck_str_addf(&s, " %s %s", verb, g->nodes[u->producer].name);
        else if (u->input_index >= 0)
            ck_str_addf(&s, " is the network input '%s'", u->name);
        else
            ck_str_addf(&s, " is the constant %s", u->name);
    }
    dg->input = ck_str_take(&s);
}

/* Follows a value back to the network input along one tensor axis (through
 * each producer's first input) and writes the layers that changed it:
 * "input 7 -> conv1 3 -> conv2 1". False when the path leaves the axis. */
static bool shrink_path(const ck_graph *g, const ck_val *v, int axis, ck_str *s) {
    const char *names[64];
    int64_t dims[64];
    int cnt = 0;
    int rank = v->shape.rank;
    bool cl = v->channels_last;
    if (axis < 0 || axis >= rank) return false;
    for (;;) {
        if (v->state != CK_VAL_OK || v->shape.rank != rank || v->channels_last != cl || cnt == 64)
            return false;
        if (v->producer < 0) {
            if (v->input_index < 0) return false;
            names[cnt] = "input";
            dims[cnt++] = v->shape.d[axis];
            break;
        }
        const ck_node *p = &g->nodes[v->producer];
        names[cnt] = p->name;
        dims[cnt++] = v->shape.d[axis];
        if (p->n_in == 0) return false;
        v = &g->vals[p->in[0]];
    }
    ck_str_addf(s, "%s %lld", names[cnt - 1], (long long)dims[cnt - 1]);
    int64_t prev = dims[cnt - 1];
    for (int i = cnt - 2; i >= 0; i--) {
        if (dims[i] == prev) continue;
        ck_str_addf(s, " -> %s %lld", names[i], (long long)dims[i]);
        prev = dims[i];
    }
    return true;
}

static void explain_shrink(const ck_graph *g, const ck_node *n, ck_diag *dg, int axis,
                           int64_t failed) {
    if (!dg || axis < 0 || n->n_in == 0) return;
    /* a chain explains how a spatial size shrank; channel and feature counts
     * are set by one layer, named in the message */
    if (dg->axis && (!strcmp(dg->axis, "channels") || !strcmp(dg->axis, "features"))) return;
    const char *an = dg->axis ? dg->axis : "size";
    if (dg->code == CK_SKIP_MISMATCH) {
        /* one path per operand: the branches that disagree */
        for (int i = 0; i < n->n_in; i++) {
            ck_str s = {0};
            if (shrink_path(g, &g->vals[n->in[i]], axis, &s))
                ck_diag_note(dg, "operand %d %s: %s", i, an, s.p);
            ck_str_free(&s);
        }
        return;
    }
    ck_str s = {0};
    ck_str_addf(&s, "%s shrank: ", an);
    if (shrink_path(g, &g->vals[n->in[0]], axis, &s)) {
        ck_str_addf(&s, " -> %s %lld", n->name, (long long)failed);
        dg->shrink = ck_str_take(&s);
    } else {
        ck_str_free(&s);
    }
}

static ck_status check_graph(ck_graph *g, ck_diags *d) {
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].in_names && !ck_node_set_in_names(g, &g->nodes[i])) return CK_ENOMEM;
    for (int i = 0; i < g->warnings.n; i++) copy_diag(d, &g->warnings.v[i]);
    for (int i = 0; i < g->n_vals; i++) val_reset(&g->vals[i]);
    bool ok = true;
    int64_t fold_left = CK_FOLD_TOTAL;
    for (int i = 0; i < g->n_inputs; i++) {
        ck_val *v = &g->vals[g->inputs[i]];
        v->shape = g->declared[i];
        if (v->shape.rank == 0 && !(g->scalar && g->scalar[i])) {
            ck_diag_add(
                d, CK_SEV_ERROR, CK_INVALID_CONFIG, v->name, "input",
                "the input '%s' has no shape; declare it (input: [1, 3, 224, 224]) or pass --input",
                v->name);
            return CK_EUSAGE;
        }
        v->state = CK_VAL_OK;
        v->dtype = CK_F32;
    }
    for (int i = 0; i < g->n_vals; i++) {
        ck_val *v = &g->vals[i];
        if (v->tensor < 0) continue;
        const ck_tensor *t = &g->tensors[v->tensor];
        v->shape = t->shape;
        v->dtype = t->dtype;
        v->state = CK_VAL_OK;
        const_contents(g, v, t);
    }
    for (int ni = 0; ni < g->n_nodes; ni++) {
        ck_node *n = &g->nodes[ni];
        n->params_count = n->macs = n->ops = 0;
        bool reached = true;
        for (int k = 0; k < n->n_in; k++)
            if (g->vals[n->in[k]].state != CK_VAL_OK) reached = false;
        for (int k = 0; k < n->n_out; k++) {
            ck_val *o = &g->vals[n->out[k]];
            o->state = CK_VAL_FAILED;
            o->shape = (ck_shape){0};
            o->channels_last = n->a.channels_last;
            /* an op computes in its first input's type unless its rule says */
            o->dtype = n->n_in > 0 ? g->vals[n->in[0]].dtype : CK_F32;
        }
        if (!reached) {
            n->state = CK_LAYER_NOT_REACHED;
            continue;
        }
        const ck_val *ins[64];
        ck_val *outs[64];
        for (int k = 0; k < n->n_in && k < 64; k++) ins[k] = &g->vals[n->in[k]];
        for (int k = 0; k < n->n_out && k < 64; k++) outs[k] = &g->vals[n->out[k]];
        ck_ctx c = {.g = g,
                    .n = n,
                    .d = d,
                    .n_in = n->n_in,
                    .in = ins,
                    .n_out = n->n_out,
                    .out = outs,
                    .fold_left = &fold_left};
        c.fail_axis = -1;
        bool good;
        if (n->config_error) {
            c.err = copy_diag(d, n->config_error);
            good = false;
        } else if (n->n_in == 0 || n->n_out == 0) {
            /* every op's shape rule reads in[0] and writes out[0] */
            c.err = n->n_in == 0 ? ck_fail(&c, CK_INVALID_CONFIG,
                                           "%s reads no input; name the value it takes, like "
                                           "%s(...)(x)",
                                           n->name, n->type)
                                 : ck_fail(&c, CK_INVALID_CONFIG, "%s produces no output", n->name);
            good = false;
        } else {
            good = ck_op_get(n->op)->shape(&c);
        }
        if (good) {
            const ck_op *rules = ck_op_get(n->op);
            n->state = CK_LAYER_OK;
            for (int k = 0; k < n->n_out; k++) g->vals[n->out[k]].state = CK_VAL_OK;
            /* the constant evaluator: outputs computed from known inputs */
            if (rules->eval && !rules->eval(&c))
                for (int k = 0; k < n->n_out; k++) ck_val_forget(&g->vals[n->out[k]]);
            if (rules->cost) {
                ck_cost cost = {0};
                rules->cost(&c, &cost);
                n->params_count = cost.params;
                n->macs = cost.macs;
                n->ops = cost.ops;
            }
            /* a folded layer never runs: arithmetic on sizes, not on data */
            if (outputs_known(g, n)) n->macs = n->ops = 0;
        } else {
            ok = false;
            n->state = CK_LAYER_FAILED;
            if (!c.err) c.err = ck_fail(&c, CK_INVALID_CONFIG, "%s rejected its input", n->type);
            n->fail_axis = c.fail_axis;
            n->fail_value = c.fail_value;
            n->fail_code = c.err ? c.err->code : CK_INVALID_CONFIG;
            explain_input(g, n, c.err);
            explain_shrink(g, n, c.err, c.fail_axis, c.fail_value);
            if (c.err && n->src_def) ck_diag_note(c.err, "defined at %s", n->src_def);
            if (c.err && n->src_call) ck_diag_note(c.err, "called at %s", n->src_call);
        }
    }
    return ok ? CK_OK : CK_EINVALID;
}

ck_status ck_check(ck_graph *g, ck_diags *d) {
    if (!g) return CK_EUSAGE;
    ck_diags local = {0};
    ck_status st = check_graph(g, d ? d : &local);
    ck_diags_free(&local);
    return st;
}

int ck_graph_num_layers(const ck_graph *g) {
    return g ? g->n_nodes : 0;
}

/* Reads only: in_names is kept current by whoever changes a node's inputs. */
ck_layer_info ck_graph_layer(const ck_graph *g, int i) {
    ck_layer_info li = {0};
    if (!g || i < 0 || i >= g->n_nodes) return li;
    const ck_node *n = &g->nodes[i];
    li.name = n->name;
    li.type = n->type;
    li.op = ck_op_name(n->op);
    li.output_name = n->n_out > 0 ? g->vals[n->out[0]].name : n->name;
    li.n_inputs = n->in_names ? n->n_in : 0;
    li.inputs = n->in_names;
    li.state = n->state;
    if (n->n_out > 0 && g->vals[n->out[0]].state == CK_VAL_OK) li.output = g->vals[n->out[0]].shape;
    li.params = n->params_count;
    li.macs = n->macs;
    li.ops = n->ops;
    li.line = n->line;
    return li;
}

ck_totals ck_graph_totals(const ck_graph *g) {
    ck_totals t = {0};
    if (!g) return t;
    for (int i = 0; i < g->n_nodes; i++) {
        const ck_node *n = &g->nodes[i];
        /* saturating: a hostile model's counts can pass INT64_MAX */
        t.params = ck_sat_add(t.params, n->params_count);
        t.macs = ck_sat_add(t.macs, n->macs);
        t.ops = ck_sat_add(t.ops, n->ops);
        if (n->state != CK_LAYER_OK) continue;
        for (int k = 0; k < n->n_out; k++) {
            int64_t e;
            if (ck_shape_numel(&g->vals[n->out[k]].shape, &e))
                t.activation_bytes = ck_sat_add(t.activation_bytes, ck_sat_mul(4, e));
        }
    }
    for (int i = 0; i < g->n_inputs; i++) {
        int64_t e;
        if (ck_shape_numel(&g->declared[i], &e))
            t.input_bytes = ck_sat_add(t.input_bytes, ck_sat_mul(4, e));
    }
    t.param_bytes = ck_sat_mul(4, t.params);
    return t;
}
