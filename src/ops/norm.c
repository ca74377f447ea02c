/* Normalisation layers: batch, instance, group and layer norm. */
#include "ops/ops.h"

static bool norm_rank(ck_ctx *c, const ck_shape *x) {
    const ck_attrs *a = &c->n->a;
    if (a->dialect != CK_DIALECT_PYTORCH || a->nsp == 0) {
        if (x->rank < 2) {
            ck_fail(c, CK_RANK_MISMATCH, "%s needs at least a 2-D input, got %d-D", c->n->type,
                    x->rank);
            return false;
        }
        return true;
    }
    /* BatchNorm1d: 2-D or 3-D; BatchNorm2d: 4-D; BatchNorm3d: 5-D.
     * InstanceNormNd also takes the unbatched form. */
    bool inst = c->n->op == CK_OP_INSTANCE_NORM;
    bool ok =
        x->rank == a->nsp + 2 || (a->nsp == 1 && x->rank == 2) || (inst && x->rank == a->nsp + 1);
    if (!ok) {
        ck_fail(c, CK_RANK_MISMATCH, "%s expects a %d-D input, but the input is %d-D", c->n->type,
                a->nsp + 2, x->rank);
        return false;
    }
    return true;
}

static int feature_axis(const ck_attrs *a, const ck_shape *x) {
    if (a->dialect == CK_DIALECT_KERAS) {
        int ax = a->axis < 0 ? x->rank + a->axis : a->axis;
        return ax;
    }
    return a->channels_last ? x->rank - 1 : (x->rank == 1 ? 0 : 1);
}

/* PyTorch normalises with statistics of the input itself (InstanceNorm
 * without track_running_stats or in training mode, GroupNorm always, even in
 * eval mode; BatchNorm in training mode or without track_running_stats) and
 * refuses a group or channel holding a single value: "Expected more than 1
 * spatial element when training" / "more than 1 value per channel". */
static bool stats_ok(ck_ctx *c, const ck_shape *x, int ax, int64_t C) {
    const ck_attrs *a = &c->n->a;
    bool inst = c->n->op == CK_OP_INSTANCE_NORM, group = c->n->op == CK_OP_GROUP_NORM;
    bool batch = c->n->op == CK_OP_BATCH_NORM && a->dialect == CK_DIALECT_PYTORCH &&
                 (a->training || !a->track_stats);
    if (!(inst && (!a->track_stats || a->training)) && !group && !batch) return true;
    int64_t per = 1, sp = 1;
    for (int i = ax + 1; i < x->rank; i++) sp = ck_sat_mul(sp, x->d[i]);
    if (group) {
        per = ck_sat_mul(sp, a->num_groups > 0 ? C / a->num_groups : C);
        if (ax > 0) per = ck_sat_mul(per, x->d[0]);
    } else if (batch) {
        per = ax > 0 ? ck_sat_mul(sp, x->d[0]) : sp; /* the batch and every pixel */
    } else
        per = sp;
    if (per != 1) return true;
    char buf[160];
    ck_shape_str(x, buf, sizeof buf);
    if (batch) {
        ck_diag *dg = ck_fail(c, CK_OUTPUT_TOO_SMALL,
                              "%s %s normalises each channel over the batch and its pixels, and "
                              "the input %s holds 1 value per channel (PyTorch: expected more "
                              "than 1 value per channel when training)",
                              c->n->type,
                              a->training ? "in training mode" : "without running statistics", buf);
        if (dg)
            ck_diag_note(dg, "%s",
                         a->training ? "model.eval() normalises with the running statistics "
                                       "instead; in training, a batch of 2 or more"
                                     : "track_running_stats=False: it always uses the batch's "
                                       "statistics, even in eval mode");
        if (x->rank > ax + 1)
            ck_fail_axis(c, x->rank - 1, ck_axis_name(x->rank - ax - 1, x->rank - ax - 2), 1);
        return false;
    }
    ck_diag *dg =
        inst ? ck_fail(c, CK_OUTPUT_TOO_SMALL,
                       "%s normalises each channel over its own %s pixels, and the input %s has 1 "
                       "(PyTorch: expected more than 1 spatial element)",
                       c->n->type, x->rank - ax - 1 == 1 ? "length" : "spatial", buf)
             : ck_fail(c, CK_OUTPUT_TOO_SMALL,
                       "%s normalises each of its %lld groups over its own values, and each group "
                       "of the input %s holds 1 (PyTorch: expected more than 1 value per channel)",
                       c->n->type, (long long)a->num_groups, buf);
    if (dg)
        ck_diag_note(dg, "%s",
                     inst ? "InstanceNorm keeps no running statistics unless "
                            "track_running_stats=True, so it cannot normalise one value"
                          : "GroupNorm always normalises with the input's statistics");
    if (dg && a->torch_rules)
        ck_diag_note(dg, "this ONNX model was exported by PyTorch, whose forward raises here even "
                         "in eval mode (InstanceNorm2d, or GroupNorm exported as "
                         "InstanceNormalization); ONNX itself would output the bias");
    if (x->rank > ax + 1)
        ck_fail_axis(c, x->rank - 1, ck_axis_name(x->rank - ax - 1, x->rank - ax - 2), 1);
    return false;
}

static bool channels_norm_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    if (!norm_rank(c, x)) return false;
    int ax = feature_axis(a, x);
    /* unbatched InstanceNorm: channels are axis 0 */
    if (c->n->op == CK_OP_INSTANCE_NORM && a->dialect == CK_DIALECT_PYTORCH &&
        x->rank == a->nsp + 1)
        ax = 0;
    if (ax < 0 || ax >= x->rank) {
        ck_fail(c, CK_RANK_MISMATCH, "%s: axis %d is outside the %d-D input", c->n->type, a->axis,
                x->rank);
        return false;
    }
    int64_t C = x->d[ax];
    if (a->num_features > 0 && C != a->num_features &&
        (c->n->op != CK_OP_INSTANCE_NORM || a->affine || a->dialect != CK_DIALECT_PYTORCH)) {
        char buf[160];
        ck_shape_str(x, buf, sizeof buf);
        ck_diag *dg = ck_fail(
            c, CK_CHANNEL_MISMATCH,
            "%s expects %lld channels (num_features=%lld), but its input %s has %lld", c->n->type,
            (long long)a->num_features, (long long)a->num_features, buf, (long long)C);
        (void)dg;
        ck_fail_axis(c, ax, "channels", C);
        return false;
    }
    if (c->n->op == CK_OP_GROUP_NORM && a->num_groups > 0 && C % a->num_groups != 0) {
        ck_fail(c, CK_CHANNEL_MISMATCH, "%s: %lld channels do not split into %lld groups",
                c->n->type, (long long)C, (long long)a->num_groups);
        return false;
    }
    if ((a->dialect == CK_DIALECT_PYTORCH || a->torch_rules) && !stats_ok(c, x, ax, C))
        return false;
    c->out[0]->shape = *x;
    return true;
}

static void channels_norm_cost(const ck_ctx *c, ck_cost *k) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int ax = feature_axis(a, x);
    if (c->n->op == CK_OP_INSTANCE_NORM && a->dialect == CK_DIALECT_PYTORCH &&
        x->rank == a->nsp + 1)
        ax = 0;
    int64_t C = (ax >= 0 && ax < x->rank) ? x->d[ax] : 0;
    bool affine = a->affine;
    k->params = affine ? ck_sat_mul(2, C) : 0;
    /* Keras counts moving_mean and moving_variance too (the non-trainable
     * parameters of model.summary(), stored in its files) */
    if (c->n->op == CK_OP_BATCH_NORM && a->dialect == CK_DIALECT_KERAS)
        k->params = ck_sat_add(k->params, ck_sat_mul(2, C));
    k->ops = ck_sat_mul(ck_numel_sat(x), 2);
}

const ck_op ck_op_batch_norm = {channels_norm_shape, channels_norm_cost, NULL};
const ck_op ck_op_instance_norm = {channels_norm_shape, channels_norm_cost, NULL};
const ck_op ck_op_group_norm = {channels_norm_shape, channels_norm_cost, NULL};

static bool layer_norm_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int n = a->shape_rank;
    if (n == 0) { /* Keras: the last axis */
        c->out[0]->shape = *x;
        return true;
    }
    bool ok = x->rank >= n;
    /* ONNX: the axes from `axis` on are the normalized ones */
    if (ok && a->dialect == CK_DIALECT_ONNX && a->axis >= 0) ok = x->rank - a->axis == n;
    for (int i = 0; ok && i < n; i++) ok = x->d[x->rank - n + i] == a->shape[i];
    if (!ok) {
        char buf[160], want[160];
        ck_shape_str(x, buf, sizeof buf);
        ck_shape ns = {.rank = n};
        for (int i = 0; i < n; i++) ns.d[i] = a->shape[i];
        ck_shape_str(&ns, want, sizeof want);
        ck_fail(c, CK_FEATURE_MISMATCH,
                "%s normalizes over the trailing axes %s, but its input is %s", c->n->type, want,
                buf);
        return false;
    }
    c->out[0]->shape = *x;
    return true;
}

static void layer_norm_cost(const ck_ctx *c, ck_cost *k) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    int64_t m = 1;
    if (a->shape_rank == 0) m = x->rank ? x->d[x->rank - 1] : 1;
    for (int i = 0; i < a->shape_rank; i++) m = ck_sat_mul(m, a->shape[i]);
    k->params = a->affine ? ck_sat_mul(2, m) : 0;
    k->ops = ck_sat_mul(ck_numel_sat(x), 4);
}

const ck_op ck_op_layer_norm = {layer_norm_shape, layer_norm_cost, NULL};
