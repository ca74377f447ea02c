/* Elementwise activations (shape-preserving), softmax over an axis,
 * PReLU's parameters, and identity layers (Dropout, Identity). */
#include "ops/ops.h"

int ck_softmax_axis(const ck_attrs *a, int rank) {
    /* PyTorch's implicit dim (_get_softmax_dim): 0 for 0-, 1- and 3-D inputs, else 1 */
    if (a->dialect == CK_DIALECT_PYTORCH && a->implicit_dim)
        return (rank == 0 || rank == 1 || rank == 3) ? 0 : 1;
    return a->axis < 0 ? a->axis + rank : a->axis;
}

static bool act_shape(ck_ctx *c) {
    const ck_attrs *a = &c->n->a;
    const ck_shape *x = &c->in[0]->shape;
    if ((a->act == CK_ACT_SOFTMAX || a->act == CK_ACT_LOG_SOFTMAX) &&
        !(a->implicit_dim && a->dialect == CK_DIALECT_PYTORCH)) {
        int ax = a->axis;
        if (ax < -x->rank || ax >= (x->rank ? x->rank : 1)) {
            ck_fail(c, CK_RANK_MISMATCH, "%s: dim %d is out of range for a %d-D input", c->n->type,
                    ax, x->rank);
            return false;
        }
    }
    const ck_tensor *slope = a->dialect == CK_DIALECT_ONNX && a->act == CK_ACT_PRELU &&
                                     c->n->n_params > 0 && c->n->params[0] >= 0
                                 ? &c->g->tensors[c->n->params[0]]
                                 : NULL;
    if (slope) {
        /* ONNX: the slope broadcasts to the input numpy-style (PyTorch's
         * per-channel slope is exported as [C, 1, 1]) */
        const ck_shape *ss = &slope->shape;
        int off = x->rank - ss->rank;
        for (int i = 0; i < ss->rank; i++)
            if (off < 0 || (ss->d[i] != 1 && ss->d[i] != x->d[i + off])) {
                char bs[160], bx[160];
                ck_fail(c, CK_CHANNEL_MISMATCH,
                        "%s: the slope %s does not broadcast to the input %s (numpy rules: "
                        "aligned at the last axis, each size equal or 1)",
                        c->n->type, ck_shape_str(ss, bs, sizeof bs),
                        ck_shape_str(x, bx, sizeof bx));
                return false;
            }
    } else if (a->act == CK_ACT_PRELU && a->num_features > 1) {
        int ax = a->channels_last ? x->rank - 1 : (x->rank >= 2 ? 1 : 0);
        if (x->rank == 0 || x->d[ax] != a->num_features) {
            ck_fail(c, CK_CHANNEL_MISMATCH,
                    "%s has %lld parameters (one per channel), but the input has %lld channels",
                    c->n->type, (long long)a->num_features, (long long)(x->rank ? x->d[ax] : 0));
            return false;
        }
    }
    c->out[0]->shape = *x;
    if (a->act == CK_ACT_NOT) c->out[0]->dtype = CK_BOOL;
    return true;
}

/* Elementwise functions of known contents (softmax and PReLU are not folded). */
static bool act_eval(ck_ctx *c) {
    ck_known x;
    float alpha, beta;
    if (!ck_in_known(c, 0, &x)) return false;
    ck_act_params(&c->n->a, &alpha, &beta);
    void *y = ck_out_known(c, 0, x.t);
    return y && ck_nd_unary(c->n->a.act, alpha, beta, x.t, x.p, y, x.n);
}

static void act_cost(const ck_ctx *c, ck_cost *k) {
    const ck_attrs *a = &c->n->a;
    k->ops = ck_numel_sat(&c->in[0]->shape);
    if (a->act == CK_ACT_PRELU) k->params = a->num_features > 0 ? a->num_features : 1;
}

const ck_op ck_op_activation = {act_shape, act_cost, act_eval};

static bool identity_shape(ck_ctx *c) {
    for (int i = 0; i < c->n_out; i++) c->out[i]->shape = c->in[0]->shape;
    return true;
}

const ck_op ck_op_identity = {identity_shape, NULL, ck_eval_copy};
