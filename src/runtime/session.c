/* Sessions: the plan (which layers run, with which kernels and weights, in
 * which buffers) and the run loop.
 *
 * Planning, in graph order (importers add nodes topologically):
 *  1. a layer runs when one of its outputs is a float graph output or feeds
 *     a layer that runs, unless the constant evaluator computed its outputs
 *     when the graph was checked (shape chains, pads, grids): they are
 *     constants;
 *  2. views (Flatten, Reshape, Squeeze, Identity, Dropout, ...) share their
 *     input's storage; elementwise layers whose input dies with them write
 *     in place;
 *  3. every other output gets an arena buffer. A buffer is free again after
 *     the last layer that reads any value stored in it; new outputs take the
 *     smallest free buffer that fits (else grow the largest free one, else
 *     add one), so a chain network holds about two buffers.
 */
#include "ops/onnx_shape_ops.h"
#include "runtime/kernels/ref.h"
#include "runtime/pool.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int add_store(ck_session *s, rt_store st) {
    if (s->n_stores == s->cap_stores) {
        int c = s->cap_stores ? 2 * s->cap_stores : 64;
        rt_store *q = realloc(s->stores, (size_t)c * sizeof *q);
        if (!q) return -1;
        s->stores = q;
        s->cap_stores = c;
    }
    s->stores[s->n_stores] = st;
    return s->n_stores++;
}

static int add_val(ck_session *s, int gval, const ck_shape *shape, int store) {
    if (s->n_vals == s->cap_vals) {
        int c = s->cap_vals ? 2 * s->cap_vals : 64;
        rt_val *q = realloc(s->vals, (size_t)c * sizeof *q);
        if (!q) return -1;
        s->vals = q;
        s->cap_vals = c;
    }
    rt_val *v = &s->vals[s->n_vals];
    v->gval = gval;
    v->shape = *shape;
    v->numel = rt_numel(shape);
    v->store = store;
    return s->n_vals++;
}

/* Layers whose output is their input reinterpreted (same floats, C order),
 * and the inputs that carry data: what the op registry says (prepare.c). */
static bool is_view(const ck_graph *g, const ck_node *n) {
    return rt_node_is_view(g, n);
}

static int data_inputs(const ck_node *n) {
    return rt_node_data_inputs(n);
}

/* The session value for graph value gv read by node n: a graph input, a
 * constant, or known integers turned into floats. -1 after a diagnostic. */
static int source_val(rt_wctx *w, const ck_node *n, int gv, int *vmap, int *input_store) {
    const ck_graph *g = w->g;
    ck_session *s = w->s;
    const ck_val *v = &g->vals[gv];
    if (vmap[gv] >= 0) return vmap[gv];
    int64_t numel;
    if (!ck_shape_numel(&v->shape, &numel) || numel > g->lim.max_elements) {
        char buf[160];
        ck_diag_add(w->d, CK_SEV_ERROR, CK_LIMIT_EXCEEDED, n->name, n->type,
                    "%s: its input '%s' %s has more than the %lld elements a tensor may have "
                    "(raise it with --max-elements)",
                    n->name, v->name, ck_shape_str(&v->shape, buf, sizeof buf),
                    (long long)g->lim.max_elements);
        return -1;
    }
    rt_store st = {.floats = numel, .def = -1, .last = -1, .slot = -1};
    if (v->input_index >= 0) {
        int k = v->input_index;
        if (input_store[k] < 0) {
            st.where = RT_INPUT;
            st.input = k;
            input_store[k] = add_store(s, st);
            if (input_store[k] < 0) goto nomem;
        }
        return vmap[gv] = add_val(s, gv, &v->shape, input_store[k]);
    }
    st.where = RT_CONST;
    const ck_tensor *t = v->tensor >= 0 ? &g->tensors[v->tensor] : NULL;
    if (t && (t->f32 || t->raw || t->i64 || t->ext_path || t->from_input)) {
        st.data = rt_tensor_data(w, v->tensor, n, "constant input");
        if (!st.data) return -1;
    } else {
        /* contents the constant evaluator computed when the graph was checked */
        ck_known kn;
        if (!ck_val_known(g, v, &kn) || kn.n != numel) {
            ck_diag_add(w->d, CK_SEV_ERROR, CK_UNSUPPORTED, n->name, n->type,
                        "%s: its input '%s' is %s computed at run time; convkit computes only "
                        "float data",
                        n->name, v->name, v->dtype == CK_F32 ? "a value" : "an integer tensor");
            return -1;
        }
        float *f = rt_owned(s, numel);
        if (!f) goto nomem;
        ck_nd_cast(kn.t, CK_ND_F32, false, numel, kn.p, f);
        st.data = f;
    }
    int si = add_store(s, st);
    if (si < 0) goto nomem;
    return vmap[gv] = add_val(s, gv, &v->shape, si);
nomem:
    w->oom = true;
    return -1;
}

/* ---- buffer assignment ---------------------------------------------------- */

static int64_t round_up(int64_t n) {
    return (n + RT_ALIGN_FLOATS - 1) / RT_ALIGN_FLOATS * RT_ALIGN_FLOATS;
}

/* The buffers of the by-image prefix (steps [0, img_steps), plan.c), whose
 * steps run for image 0, then image 1, ...: a buffer the prefix makes and
 * uses up itself holds one image (each image's pass replays the same
 * lifetimes, so they share slots as usual); one it makes for later steps or
 * the outputs is reserved from the prefix's start (every pass writes it),
 * and one made before it and read in it stays until the prefix's end. The
 * prefix is dropped when a buffer does not split into images. */
static bool one_image(const ck_session *s, int v) {
    return s->stores[s->vals[v].store].one_image;
}

static void by_image_buffers(ck_session *s) {
    if (!s->img_steps) return;
    int t0 = s->steps[0].node, t1 = s->steps[s->img_steps - 1].node;
    for (int i = 0; i < s->n_stores; i++) {
        const rt_store *st = &s->stores[i];
        if (st->where == RT_ARENA && st->def >= t0 && st->def <= t1 && st->last <= t1 &&
            st->floats % s->img_n) {
            for (int k = 0; k < s->img_steps; k++) s->steps[k].u.conv.fc.by_image = false;
            s->img_steps = 0, s->img_n = 0;
            return;
        }
    }
    for (int i = 0; i < s->n_stores; i++) {
        rt_store *st = &s->stores[i];
        if (st->where != RT_ARENA) continue;
        if (st->def >= t0 && st->def <= t1) {
            if (st->last <= t1) {
                st->one_image = true;
                st->floats /= s->img_n;
            } else {
                st->def = t0;
            }
        } else if (st->def < t0 && st->last >= t0 && st->last < t1) {
            st->last = t1;
        }
    }
    for (int k = 0; k < s->img_steps; k++) {
        rt_step *st = &s->steps[k];
        if (rt_blocked_pool_is(st)) {
            st->blk.pool.x1 = one_image(s, st->in[0]);
            st->blk.pool.y1 = one_image(s, st->out[0]);
            continue;
        }
        if (!rt_fastconv_is(st) || st->folded) continue;
        rt_fconv *p = &st->u.conv.fc;
        p->x1 = one_image(s, st->in[0]);
        p->y1 = one_image(s, st->out[0]);
        p->r1 = p->res && one_image(s, st->in[1]);
    }
}

static bool assign_buffers(ck_session *s, int n_nodes) {
    int64_t *size = NULL;
    bool *busy = NULL;
    int n_slots = 0, cap = 0;
    bool ok = true;
    /* stores in definition order; defined and freed per node index */
    for (int t = 0; t < n_nodes && ok; t++) {
        for (int i = 0; i < s->n_stores; i++) {
            rt_store *st = &s->stores[i];
            if (st->where != RT_ARENA || st->def != t) continue;
            int64_t need = round_up(st->floats);
            int best = -1, largest = -1;
            for (int k = 0; k < n_slots; k++) {
                if (busy[k]) continue;
                if (size[k] >= need && (best < 0 || size[k] < size[best])) best = k;
                if (largest < 0 || size[k] > size[largest]) largest = k;
            }
            if (best < 0 && largest >= 0) {
                best = largest;
                size[best] = need;
            }
            if (best < 0) {
                if (n_slots == cap) {
                    int c = cap ? 2 * cap : 16;
                    int64_t *ns = realloc(size, (size_t)c * sizeof *ns);
                    if (!ns) {
                        ok = false;
                        break;
                    }
                    size = ns;
                    bool *nb = realloc(busy, (size_t)c * sizeof *nb);
                    if (!nb) {
                        ok = false;
                        break;
                    }
                    busy = nb;
                    cap = c;
                }
                best = n_slots++;
                size[best] = need;
            }
            busy[best] = true;
            st->slot = best;
        }
        for (int i = 0; i < s->n_stores; i++) {
            rt_store *st = &s->stores[i];
            if (st->where == RT_ARENA && st->slot >= 0 && st->last == t) busy[st->slot] = false;
        }
    }
    if (ok) {
        int64_t *off = malloc((size_t)(n_slots ? n_slots : 1) * sizeof *off);
        if (!off) ok = false;
        int64_t total = 0;
        for (int k = 0; ok && k < n_slots; k++) {
            off[k] = total;
            total += size[k];
        }
        for (int i = 0; ok && i < s->n_stores; i++)
            if (s->stores[i].where == RT_ARENA) s->stores[i].offset = off[s->stores[i].slot];
        s->arena_floats = total;
        s->n_slots = n_slots;
        free(off);
    }
    free(size);
    free(busy);
    return ok;
}

/* ---- building ---------------------------------------------------------------- */

static char *model_dir(const char *source) {
    const char *slash = source ? strrchr(source, '/') : NULL;
    if (!slash) return ck_strdup(".");
    if (slash == source) return ck_strdup("/");
    return ck_strndup(source, (size_t)(slash - source));
}

void ck_session_free(ck_session *s) {
    if (!s) return;
    for (int i = 0; i < s->n_steps; i++) rt_step_free(&s->steps[i]);
    free(s->steps);
    free(s->vals);
    free(s->stores);
    free(s->inputs);
    free(s->outputs);
    for (int i = 0; s->in_names && i < s->n_inputs; i++) free(s->in_names[i]);
    for (int i = 0; s->out_names && i < s->n_outputs; i++) free(s->out_names[i]);
    free(s->in_names);
    free(s->out_names);
    for (int i = 0; i < s->n_owned; i++) free(s->owned[i]);
    free(s->owned_n);
    free(s->pending);
    free(s->owned);
    free(s);
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* ---- weights given at run time ------------------------------------------
 * An ONNX model may declare weights as graph inputs (ONNX's node tests give
 * W, B, scale, mean and var so): the importer binds such a layer to a tensor
 * with the input's shape and no values (from_input). A session of such a
 * graph has its inputs and outputs but no steps; each run copies the graph
 * with those tensors set to the run's inputs, checks the copy (a layer may
 * read a weight's values when it is built: Clip's bounds) and runs a
 * session of it: weights are packed per run. */

static bool weights_at_run(const ck_graph *g) {
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].from_input) return true;
    return false;
}

/* The session's inputs and float outputs, without steps. */
static bool io_only(ck_session *s, const ck_graph *g) {
    s->inputs = malloc(((size_t)g->n_inputs + 1) * sizeof *s->inputs);
    s->in_names = calloc((size_t)g->n_inputs + 1, sizeof *s->in_names);
    s->outputs = malloc(((size_t)g->n_outputs + 1) * sizeof *s->outputs);
    s->out_names = calloc((size_t)g->n_outputs + 1, sizeof *s->out_names);
    if (!s->inputs || !s->in_names || !s->outputs || !s->out_names) return false;
    s->n_inputs = g->n_inputs;
    for (int i = 0; i < g->n_inputs; i++) {
        int gv = g->inputs[i];
        if ((s->inputs[i] = add_val(s, gv, &g->vals[gv].shape, -1)) < 0 ||
            !(s->in_names[i] = ck_strdup(g->vals[gv].name)))
            return false;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int gv = g->outputs[i], k = s->n_outputs;
        if (g->vals[gv].dtype != CK_F32) continue;
        if ((s->outputs[k] = add_val(s, gv, &g->vals[gv].shape, -1)) < 0 ||
            !(s->out_names[k] = ck_strdup(g->vals[gv].name)))
            return false;
        s->n_outputs++;
    }
    s->max_io = 1;
    return true;
}

static ck_status session_new(const ck_graph *g, const ck_session_options *opt, ck_session **out,
                             ck_diags *d);

/* One run of a session whose weights are inputs (see above). */
static ck_status run_with_weights(const ck_session *s, const float *const *inputs,
                                  float *const *outputs) {
    ck_graph *c = ck_graph_clone(s->g, true);
    ck_session *in = NULL;
    ck_session_ctx *ctx = NULL;
    ck_diags d = {0};
    ck_status st = c ? CK_OK : CK_ENOMEM;
    for (int i = 0; st == CK_OK && i < c->n_tensors; i++) {
        ck_tensor *t = &c->tensors[i];
        int v = t->from_input ? ck_graph_find_val(c, t->name) : -1;
        int k = v >= 0 ? c->vals[v].input_index : -1;
        int64_t n = 0;
        if (!t->from_input) continue;
        if (k < 0 || !ck_shape_numel(&t->shape, &n) ||
            !ck_shape_eq(&t->shape, &s->vals[s->inputs[k]].shape)) {
            st = CK_EINVALID;
            break;
        }
        if (!(t->f32 = malloc((size_t)(n ? n : 1) * sizeof *t->f32))) {
            st = CK_ENOMEM;
            break;
        }
        memcpy(t->f32, inputs[k], (size_t)n * sizeof *t->f32);
        t->from_input = false;
    }
    for (int ni = 0; st == CK_OK && ni < c->n_nodes; ni++) {
        const ck_node *n = &c->nodes[ni];
        for (int k = 0; k < n->n_params; k++)
            if (n->params[k] >= 0 && s->g->tensors[n->params[k]].from_input) {
                ck_graph_rebuild_node(c, ni);
                break;
            }
    }
    if (st == CK_OK && ck_check(c, &d) != CK_OK) st = CK_EINVALID;
    ck_session_options o = {.threads = s->threads,
                            .kernels = s->isa == RT_ISA_AVX512 ? CK_KERNELS_AVX512
                                       : s->isa == RT_ISA_AVX2 ? CK_KERNELS_AVX2
                                                               : CK_KERNELS_REF};
    if (st == CK_OK) st = session_new(c, &o, &in, &d);
    if (st == CK_OK && in->n_outputs != s->n_outputs) st = CK_EINVALID;
    if (st == CK_OK) st = ck_session_ctx_new(in, &ctx);
    if (st == CK_OK) st = ck_session_run(in, ctx, inputs, outputs);
    ck_session_ctx_free(ctx);
    ck_session_free(in);
    ck_graph_free(c);
    ck_diags_free(&d);
    return st;
}

static ck_status session_new(const ck_graph *g, const ck_session_options *opt, ck_session **out,
                             ck_diags *d) {
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].state != CK_LAYER_OK) {
            ck_diag_add(d, CK_SEV_ERROR, CK_INVALID_CONFIG, g->nodes[i].name, g->nodes[i].type,
                        "%s has not passed ck_check(); a session needs a graph whose every layer "
                        "is valid",
                        g->nodes[i].name);
            return CK_EUSAGE;
        }
    for (int i = 0; i < g->n_inputs; i++)
        if (g->vals[g->inputs[i]].state != CK_VAL_OK) {
            ck_diag_add(d, CK_SEV_ERROR, CK_INVALID_CONFIG, g->vals[g->inputs[i]].name, "input",
                        "the input '%s' has no checked shape; call ck_check() first",
                        g->vals[g->inputs[i]].name);
            return CK_EUSAGE;
        }
    ck_session_options defaults = {0};
    if (!opt) opt = &defaults;
    ck_session *s = calloc(1, sizeof *s);
    int nv = g->n_vals, nn = g->n_nodes;
    bool *needed = calloc((size_t)nv + 1, sizeof *needed);
    bool *runs = calloc((size_t)nn + 1, sizeof *runs);
    int *last = malloc(((size_t)nv + 1) * sizeof *last);
    int *vmap = malloc(((size_t)nv + 1) * sizeof *vmap);
    int *input_store = malloc(((size_t)g->n_inputs + 1) * sizeof *input_store);
    rt_wctx w = {.g = g, .opt = opt, .s = s, .d = d};
    w.loaded = calloc((size_t)g->n_tensors + 1, sizeof *w.loaded);
    w.dir = opt->weights_dir ? ck_strdup(opt->weights_dir) : model_dir(g->source);
    ck_status st = CK_OK;
    int errors = ck_diags_errors(d);
    if (!s || !needed || !runs || !last || !vmap || !input_store || !w.loaded || !w.dir) {
        st = CK_ENOMEM;
        goto done;
    }
    s->g = g;
    s->threads = opt->threads > 0 ? opt->threads : online_cpus();
    {
        rt_isa cpu = rt_cpu_isa();
        rt_isa want = opt->kernels == CK_KERNELS_REF      ? RT_ISA_REF
                      : opt->kernels == CK_KERNELS_AVX2   ? RT_ISA_AVX2
                      : opt->kernels == CK_KERNELS_AVX512 ? RT_ISA_AVX512
                                                          : cpu;
        s->isa = want < cpu ? want : cpu; /* never above what the CPU has */
    }
    if (weights_at_run(g)) {
        if (!io_only(s, g)) st = CK_ENOMEM;
        goto done;
    }
    for (int i = 0; i < nv; i++) last[i] = -1, vmap[i] = -1;
    for (int i = 0; i < g->n_inputs; i++) input_store[i] = -1;

    /* 1. what runs */
    int n_float_out = 0;
    for (int i = 0; i < g->n_outputs; i++) {
        const ck_val *v = &g->vals[g->outputs[i]];
        if (v->dtype == CK_F32) {
            needed[g->outputs[i]] = true;
            n_float_out++;
        }
    }
    if (!n_float_out) {
        ck_diag_add(d, CK_SEV_ERROR, CK_UNSUPPORTED, NULL, NULL,
                    "the model has no float output to compute");
        st = CK_EINVALID;
        goto done;
    }
    for (int ni = nn - 1; ni >= 0; ni--) {
        const ck_node *n = &g->nodes[ni];
        for (int k = 0; k < n->n_out; k++) runs[ni] |= needed[n->out[k]];
        if (!runs[ni]) continue;
        /* outputs the constant evaluator computed are constants */
        bool folded = n->n_out > 0;
        for (int k = 0; k < n->n_out; k++)
            folded &= g->vals[n->out[k]].kval != NULL || g->vals[n->out[k]].kflt != NULL;
        if (folded) {
            runs[ni] = false;
            continue;
        }
        for (int k = 0; k < data_inputs(n); k++) needed[n->in[k]] = true;
    }
    for (int ni = 0; ni < nn; ni++) {
        const ck_node *n = &g->nodes[ni];
        if (!runs[ni]) continue;
        for (int k = 0; k < data_inputs(n); k++) last[n->in[k]] = ni;
    }
    for (int i = 0; i < g->n_outputs; i++) last[g->outputs[i]] = INT_MAX;

    /* 2. steps and storage */
    s->steps = calloc((size_t)nn + 1, sizeof *s->steps);
    if (!s->steps) {
        st = CK_ENOMEM;
        goto done;
    }
    for (int ni = 0; ni < nn && !w.oom; ni++) {
        const ck_node *n = &g->nodes[ni];
        if (!runs[ni]) continue;
        int nd = data_inputs(n);
        int ins[64];
        bool bad = false;
        for (int k = 0; k < nd && k < 64; k++) {
            int gv = n->in[k];
            ins[k] = vmap[gv] >= 0 ? vmap[gv] : source_val(&w, n, gv, vmap, input_store);
            if (ins[k] < 0) bad = true;
        }
        if (bad) continue;
        for (int k = 0; k < n->n_out; k++) {
            const ck_val *ov = &g->vals[n->out[k]];
            int64_t numel;
            if (!ck_shape_numel(&ov->shape, &numel) || numel > g->lim.max_elements) {
                char buf[160];
                ck_diag_add(d, CK_SEV_ERROR, CK_LIMIT_EXCEEDED, n->name, n->type,
                            "%s: its output %s has more than the %lld elements a tensor may "
                            "have (raise it with --max-elements)",
                            n->name, ck_shape_str(&ov->shape, buf, sizeof buf),
                            (long long)g->lim.max_elements);
                bad = true;
            }
        }
        if (bad) continue;
        if (is_view(g, n) && nd >= 1) {
            rt_store *src = &s->stores[s->vals[ins[0]].store];
            for (int k = 0; k < n->n_out; k++) {
                int gv = n->out[k];
                if (last[gv] > src->last) src->last = last[gv];
                vmap[gv] = add_val(s, gv, &g->vals[gv].shape, s->vals[ins[0]].store);
                if (vmap[gv] < 0) w.oom = true;
                src = &s->stores[s->vals[ins[0]].store];
            }
            continue;
        }
        rt_step *stp = &s->steps[s->n_steps++];
        stp->node = ni;
        stp->n_in = nd;
        stp->n_out = n->n_out;
        stp->in = malloc((size_t)(nd ? nd : 1) * sizeof *stp->in);
        stp->out = malloc((size_t)(n->n_out ? n->n_out : 1) * sizeof *stp->out);
        if (!stp->in || !stp->out) {
            w.oom = true;
            break;
        }
        memcpy(stp->in, ins, (size_t)nd * sizeof *ins);
        for (int k = 0; k < n->n_out; k++) {
            int gv = n->out[k];
            stp->out[k] = vmap[gv] = add_val(s, gv, &g->vals[gv].shape, -1);
            if (vmap[gv] < 0) w.oom = true;
        }
        if (w.oom) break;
        if (!rt_prepare(&w, n, stp)) {
            rt_step_free(stp);
            s->n_steps--;
            for (int k = 0; k < n->n_out; k++) vmap[n->out[k]] = -1;
            continue;
        }
        /* nothing to compute; the kernel's loops over the other axes could
         * still run for long (a [1, 1, 0, 2^40] resize) */
        stp->empty = true;
        for (int k = 0; k < n->n_out; k++)
            if (s->vals[stp->out[k]].numel) stp->empty = false;
        if (nd > s->max_io) s->max_io = nd;
        if (n->n_out > s->max_io) s->max_io = n->n_out;
        if (stp->scratch > s->scratch_floats) s->scratch_floats = stp->scratch;
        /* in place: operand 0 is an arena value that no later layer reads and
         * no other operand shares (unless it is read element for element) */
        int in0 = nd > 0 ? s->vals[stp->in[0]].store : -1;
        const rt_val *o0 = &s->vals[stp->out[0]];
        bool inplace = stp->inplace && in0 >= 0 && s->stores[in0].where == RT_ARENA &&
                       s->stores[in0].last == ni && s->vals[stp->in[0]].numel == o0->numel;
        for (int k = 1; inplace && k < nd; k++)
            if (s->vals[stp->in[k]].store == in0 &&
                !ck_shape_eq(&s->vals[stp->in[k]].shape, &o0->shape))
                inplace = false;
        stp->inplace = inplace;
        for (int k = 0; k < n->n_out; k++) {
            rt_val *ov = &s->vals[stp->out[k]];
            int gl = last[ov->gval] < 0 ? ni : last[ov->gval];
            if (k == 0 && inplace) {
                ov->store = in0;
                if (gl > s->stores[in0].last) s->stores[in0].last = gl;
                continue;
            }
            rt_store ns = {.where = RT_ARENA, .floats = ov->numel, .def = ni, .last = gl};
            ov->store = add_store(s, ns);
            if (ov->store < 0) w.oom = true;
        }
    }
    if (w.oom) {
        st = CK_ENOMEM;
        goto done;
    }
    if (ck_diags_errors(d) > errors) {
        st = w.io ? CK_EIO : CK_EINVALID;
        goto done;
    }

    /* blocked layout between layers; batch norms, clamps and residual adds
     * folded into the fast convolutions */
    if (!rt_plan_network(s)) {
        st = CK_ENOMEM;
        goto done;
    }

    /* 3. buffers; the naive plan for comparison */
    by_image_buffers(s);
    if (!assign_buffers(s, nn)) {
        st = CK_ENOMEM;
        goto done;
    }
    for (int i = 0; i < s->n_vals; i++)
        if (g->vals[s->vals[i].gval].producer >= 0) s->naive_bytes += 4 * s->vals[i].numel;

    /* 4. inputs and outputs */
    s->n_inputs = g->n_inputs;
    s->inputs = malloc(((size_t)g->n_inputs + 1) * sizeof *s->inputs);
    s->in_names = calloc((size_t)g->n_inputs + 1, sizeof *s->in_names);
    s->outputs = malloc((size_t)n_float_out * sizeof *s->outputs);
    s->out_names = calloc((size_t)n_float_out, sizeof *s->out_names);
    if (!s->inputs || !s->in_names || !s->outputs || !s->out_names) {
        st = CK_ENOMEM;
        goto done;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        int gv = g->inputs[i];
        if (vmap[gv] < 0) { /* an input no layer reads */
            rt_store is = {.where = RT_INPUT, .input = i, .floats = 0, .def = -1, .last = -1};
            int si = input_store[i] >= 0 ? input_store[i] : add_store(s, is);
            vmap[gv] = si < 0 ? -1 : add_val(s, gv, &g->vals[gv].shape, si);
            if (vmap[gv] < 0) {
                st = CK_ENOMEM;
                goto done;
            }
        }
        s->inputs[i] = vmap[gv];
        s->in_names[i] = ck_strdup(g->vals[gv].name);
        if (!s->in_names[i]) {
            st = CK_ENOMEM;
            goto done;
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int gv = g->outputs[i];
        if (g->vals[gv].dtype != CK_F32) continue;
        if (vmap[gv] < 0) {
            /* a graph output that is a graph input or a constant */
            ck_node as_output = {.name = g->vals[gv].name, .type = "output"};
            if (source_val(&w, &as_output, gv, vmap, input_store) < 0) {
                st = w.oom ? CK_ENOMEM : CK_EINVALID;
                goto done;
            }
        }
        int k = s->n_outputs++;
        s->outputs[k] = vmap[gv];
        s->out_names[k] = ck_strdup(g->vals[gv].name);
        if (!s->out_names[k]) {
            st = CK_ENOMEM;
            goto done;
        }
    }
    if (s->max_io < 1) s->max_io = 1;

done:
    free(needed);
    free(runs);
    free(last);
    free(vmap);
    free(input_store);
    free(w.loaded);
    free(w.dir);
    if (st != CK_OK) {
        if (st == CK_ENOMEM)
            ck_diag_add(d, CK_SEV_ERROR, CK_LIMIT_EXCEEDED, NULL, NULL,
                        "out of memory while building the session");
        ck_session_free(s);
        return st;
    }
    *out = s;
    return CK_OK;
}

ck_status ck_session_new(const ck_graph *g, const ck_session_options *opt, ck_session **out,
                         ck_diags *d) {
    if (!out) return CK_EUSAGE;
    *out = NULL;
    if (!g) return CK_EUSAGE;
    ck_diags local = {0};
    ck_status st = session_new(g, opt, out, d ? d : &local);
    ck_diags_free(&local);
    return st;
}

/* ---- queries ---------------------------------------------------------------- */

int ck_session_num_inputs(const ck_session *s) {
    return s ? s->n_inputs : 0;
}
int ck_session_num_outputs(const ck_session *s) {
    return s ? s->n_outputs : 0;
}
const char *ck_session_input_name(const ck_session *s, int i) {
    return (s && i >= 0 && i < s->n_inputs) ? s->in_names[i] : NULL;
}
const char *ck_session_output_name(const ck_session *s, int i) {
    return (s && i >= 0 && i < s->n_outputs) ? s->out_names[i] : NULL;
}
ck_shape ck_session_input_shape(const ck_session *s, int i) {
    return (s && i >= 0 && i < s->n_inputs) ? s->vals[s->inputs[i]].shape : (ck_shape){0};
}
ck_shape ck_session_output_shape(const ck_session *s, int i) {
    return (s && i >= 0 && i < s->n_outputs) ? s->vals[s->outputs[i]].shape : (ck_shape){0};
}

ck_status ck_session_check_input(const ck_session *s, int i, const ck_tensor_f32 *t, ck_diags *d) {
    if (!s || !t || i < 0 || i >= s->n_inputs) return CK_EUSAGE;
    ck_shape want = ck_session_input_shape(s, i);
    if (ck_shape_eq(&want, &t->shape)) return CK_OK;
    char a[160], b[160];
    ck_diag *dg = ck_diag_add(d, CK_SEV_ERROR, CK_RANK_MISMATCH, s->in_names[i], "input",
                              "the input '%s' must have shape %s, but the tensor has shape %s",
                              s->in_names[i], ck_shape_str(&want, a, sizeof a),
                              ck_shape_str(&t->shape, b, sizeof b));
    if (dg && want.rank == t->shape.rank) dg->code = CK_CHANNEL_MISMATCH;
    return CK_EINVALID;
}

ck_session_memory ck_session_memory_plan(const ck_session *s) {
    ck_session_memory m = {0};
    if (!s) return m;
    m.activation_bytes = 4 * s->arena_floats;
    m.scratch_bytes = 4 * s->scratch_floats;
    m.naive_bytes = s->naive_bytes;
    m.weight_bytes = s->weight_bytes;
    m.owned_weight_bytes = s->owned_weight_bytes;
    m.buffers = s->n_slots;
    m.steps = s->n_steps;
    return m;
}

/* ---- running ------------------------------------------------------------------- */

ck_status ck_session_ctx_new(const ck_session *s, ck_session_ctx **out) {
    if (!s || !out) return CK_EUSAGE;
    *out = NULL;
    ck_session_ctx *c = calloc(1, sizeof *c);
    if (!c) return CK_ENOMEM;
    c->s = s;
    size_t ab = (size_t)round_up(s->arena_floats + s->arena_slack + 1) * sizeof(float);
    size_t sb = (size_t)round_up(s->scratch_floats ? s->scratch_floats : 1) * sizeof(float);
    c->arena = aligned_alloc(64, ab);
    c->scratch = aligned_alloc(64, sb);
    c->inp = calloc((size_t)s->max_io, sizeof *c->inp);
    c->outp = calloc((size_t)s->max_io, sizeof *c->outp);
    c->pool = rt_pool_new(s->threads);
    if (!c->arena || !c->scratch || !c->inp || !c->outp || !c->pool) {
        ck_session_ctx_free(c);
        return CK_ENOMEM;
    }
    /* fast kernels may read the slack after the last buffer (results dropped) */
    memset(c->arena, 0, ab);
    return (*out = c), CK_OK;
}

void ck_session_ctx_free(ck_session_ctx *c) {
    if (!c) return;
    free(c->arena);
    free(c->scratch);
    free(c->inp);
    free(c->outp);
    rt_pool_free(c->pool);
    free(c);
}

static float *where(const ck_session *s, const ck_session_ctx *c, const float *const *inputs,
                    int v) {
    const rt_store *st = &s->stores[s->vals[v].store];
    switch (st->where) {
    case RT_INPUT:
        return (float *)inputs[st->input]; /* read only: inputs never run in place */
    case RT_CONST:
        return (float *)st->data;
    default:
        return c->arena + st->offset;
    }
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The context's in/out pointers for step st. */
static void bind(const ck_session *s, ck_session_ctx *ctx, const float *const *inputs,
                 const rt_step *st) {
    for (int k = 0; k < st->n_in; k++) ctx->inp[k] = where(s, ctx, inputs, st->in[k]);
    for (int k = 0; k < st->n_out; k++) ctx->outp[k] = where(s, ctx, inputs, st->out[k]);
}

static ck_status run(const ck_session *s, ck_session_ctx *ctx, const float *const *inputs,
                     float *const *outputs, double *step_seconds) {
    if (!s || !ctx || ctx->s != s || (s->n_inputs && !inputs) || (s->n_outputs && !outputs))
        return CK_EUSAGE;
    for (int i = 0; i < s->n_inputs; i++)
        if (!inputs[i]) return CK_EUSAGE;
    for (int i = 0; i < s->n_outputs; i++)
        if (!outputs[i]) return CK_EUSAGE;
    if (!s->n_steps && weights_at_run(s->g)) return run_with_weights(s, inputs, outputs);
    /* the by-image prefix (plan.c): its steps for each image in turn */
    for (int i = 0; step_seconds && i < s->img_steps; i++) step_seconds[i] = 0;
    for (int64_t n = 0; n < s->img_n; n++)
        for (int i = 0; i < s->img_steps; i++) {
            const rt_step *st = &s->steps[i];
            if (st->folded) continue;
            double t0 = step_seconds ? now_s() : 0;
            bind(s, ctx, inputs, st);
            rt_step_run_image(st, ctx->inp, ctx->outp, ctx->scratch, ctx->pool, n);
            if (step_seconds) step_seconds[i] += now_s() - t0;
        }
    for (int i = s->img_steps; i < s->n_steps; i++) {
        const rt_step *st = &s->steps[i];
        if (step_seconds) step_seconds[i] = 0;
        if (st->empty) continue;
        double t0 = step_seconds ? now_s() : 0;
        bind(s, ctx, inputs, st);
        if (st->fn_mt)
            st->fn_mt(st, ctx->inp, ctx->outp, ctx->scratch, ctx->pool);
        else
            st->fn(st, ctx->inp, ctx->outp, ctx->scratch);
        if (step_seconds) step_seconds[i] = now_s() - t0;
    }
    for (int i = 0; i < s->n_outputs; i++) {
        const rt_val *v = &s->vals[s->outputs[i]];
        memcpy(outputs[i], where(s, ctx, inputs, s->outputs[i]), (size_t)v->numel * sizeof(float));
    }
    return CK_OK;
}

ck_status ck_session_run(const ck_session *s, ck_session_ctx *ctx, const float *const *inputs,
                         float *const *outputs) {
    return run(s, ctx, inputs, outputs, NULL);
}

ck_status ck_session_run_profiled(const ck_session *s, ck_session_ctx *ctx,
                                  const float *const *inputs, float *const *outputs,
                                  double *step_seconds) {
    if (!step_seconds) return CK_EUSAGE;
    return run(s, ctx, inputs, outputs, step_seconds);
}

ck_status ck_session_step(const ck_session *s, int i, ck_step_info *out) {
    if (!s || !out || i < 0 || i >= s->n_steps) return CK_EUSAGE;
    const rt_step *st = &s->steps[i];
    const ck_node *n = &s->g->nodes[st->node];
    out->layer = n->name;
    out->type = n->type;
    out->flops = ck_sat_mul(2, n->macs); /* the layer's cost rule: summary's MACs, x 2 */
    if (st->folded)
        snprintf(out->kernel, sizeof out->kernel, "folded into %s",
                 s->g->nodes[s->steps[st->folded_into].node].name);
    else
        rt_step_kernel_name(st, out->kernel, sizeof out->kernel);
    return CK_OK;
}

ck_session_info ck_session_describe(const ck_session *s) {
    ck_session_info i = {0};
    if (!s) return i;
    i.kernels = s->isa == RT_ISA_AVX512 ? CK_KERNELS_AVX512
                : s->isa == RT_ISA_AVX2 ? CK_KERNELS_AVX2
                                        : CK_KERNELS_REF;
    i.threads = s->threads;
    i.steps = s->n_steps;
    for (int k = 0; k < s->n_steps; k++) {
        i.folded_steps += s->steps[k].folded;
        i.fast_steps += s->steps[k].fn_mt != NULL && !s->steps[k].folded;
    }
    return i;
}
