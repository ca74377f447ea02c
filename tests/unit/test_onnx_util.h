/* Builds small ONNX models in memory with the protobuf-c structs (the same
 * bindings the reader uses) for the ONNX tests. Every allocation goes into
 * the builder's list and is released by tb_free(). */
#ifndef CK_TEST_ONNX_UTIL_H
#define CK_TEST_ONNX_UTIL_H

#include "onnx/onnx.pb-c.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TB_MAX 256

typedef struct tb {
    Onnx__ModelProto m;
    Onnx__GraphProto g;
    Onnx__OperatorSetIdProto os;
    Onnx__OperatorSetIdProto *osp[1];
    Onnx__NodeProto *nodes[TB_MAX];
    Onnx__TensorProto *inits[TB_MAX];
    Onnx__ValueInfoProto *ins[TB_MAX], *outs[TB_MAX];
    void **mem;
    int n_mem, cap_mem;
} tb;

static inline void *tb_alloc(tb *b, size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) abort(); /* test code only */
    if (b->n_mem == b->cap_mem) {
        b->cap_mem = b->cap_mem ? b->cap_mem * 2 : 64;
        b->mem = realloc(b->mem, (size_t)b->cap_mem * sizeof *b->mem);
        if (!b->mem) abort();
    }
    b->mem[b->n_mem++] = p;
    return p;
}

static inline char *tb_str(tb *b, const char *s) {
    char *p = tb_alloc(b, strlen(s) + 1);
    memcpy(p, s, strlen(s) + 1);
    return p;
}

static inline tb *tb_new(int64_t opset) {
    tb *b = calloc(1, sizeof *b);
    if (!b) abort();
    onnx__model_proto__init(&b->m);
    onnx__graph_proto__init(&b->g);
    onnx__operator_set_id_proto__init(&b->os);
    b->m.has_ir_version = 1;
    b->m.ir_version = 7;
    b->os.domain = tb_str(b, "");
    b->os.has_version = 1;
    b->os.version = opset;
    b->osp[0] = &b->os;
    b->m.n_opset_import = 1;
    b->m.opset_import = b->osp;
    b->m.graph = &b->g;
    b->g.name = tb_str(b, "test");
    b->g.node = b->nodes;
    b->g.initializer = b->inits;
    b->g.input = b->ins;
    b->g.output = b->outs;
    return b;
}

static inline void tb_free(tb *b) {
    for (int i = 0; i < b->n_mem; i++) free(b->mem[i]);
    free(b->mem);
    free(b);
}

/* A tensor value info; dims < 0 are symbolic ("s<axis>"). rank < 0: no shape. */
static inline Onnx__ValueInfoProto *tb_vi(tb *b, const char *name, int rank, const int64_t *dims) {
    Onnx__ValueInfoProto *vi = tb_alloc(b, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = tb_str(b, name);
    Onnx__TypeProto *tp = tb_alloc(b, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = tb_alloc(b, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = 1;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = tb_alloc(b, sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        sh->n_dim = (size_t)rank;
        sh->dim = tb_alloc(b, (size_t)(rank ? rank : 1) * sizeof *sh->dim);
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = tb_alloc(b, sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else {
                char buf[32];
                snprintf(buf, sizeof buf, "s%d", i);
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = tb_str(b, buf);
            }
            sh->dim[i] = d;
        }
        tt->shape = sh;
    }
    return vi;
}

static inline void tb_input(tb *b, const char *name, int rank, const int64_t *dims) {
    b->ins[b->g.n_input++] = tb_vi(b, name, rank, dims);
}

static inline void tb_output(tb *b, const char *name) {
    b->outs[b->g.n_output++] = tb_vi(b, name, -1, NULL);
}

static inline Onnx__TensorProto *tb_tensor(tb *b, const char *name, int dtype, int rank,
                                           const int64_t *dims) {
    Onnx__TensorProto *t = tb_alloc(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = tb_str(b, name);
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)rank;
    t->dims = tb_alloc(b, (size_t)(rank ? rank : 1) * sizeof *t->dims);
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
    return t;
}

/* Float initializer with dims only (no data), or with float_data. */
static inline Onnx__TensorProto *tb_init(tb *b, const char *name, int rank, const int64_t *dims,
                                         const float *data) {
    Onnx__TensorProto *t = tb_tensor(b, name, 1, rank, dims);
    if (data) {
        size_t n = 1;
        for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
        t->n_float_data = n;
        t->float_data = tb_alloc(b, n * sizeof(float));
        memcpy(t->float_data, data, n * sizeof(float));
    }
    b->inits[b->g.n_initializer++] = t;
    return t;
}

static inline Onnx__TensorProto *tb_init_i64(tb *b, const char *name, int n, const int64_t *v) {
    int64_t d[1] = {n};
    Onnx__TensorProto *t = tb_tensor(b, name, 7, 1, d);
    t->n_int64_data = (size_t)n;
    t->int64_data = tb_alloc(b, (size_t)(n ? n : 1) * sizeof(int64_t));
    if (n) memcpy(t->int64_data, v, (size_t)n * sizeof(int64_t));
    b->inits[b->g.n_initializer++] = t;
    return t;
}

static inline Onnx__TensorProto *tb_init_f32(tb *b, const char *name, int n, const float *v) {
    int64_t d[1] = {n};
    return tb_init(b, name, 1, d, v);
}

/* inputs and outputs: NULL-terminated lists of names ("" = absent). */
static inline Onnx__NodeProto *tb_node(tb *b, const char *op, const char *name,
                                       const char *const *in, const char *const *out) {
    Onnx__NodeProto *n = tb_alloc(b, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = tb_str(b, op);
    n->name = tb_str(b, name ? name : "");
    size_t ni = 0, no = 0;
    while (in && in[ni]) ni++;
    while (out && out[no]) no++;
    n->n_input = ni;
    n->input = tb_alloc(b, (ni ? ni : 1) * sizeof *n->input);
    for (size_t i = 0; i < ni; i++) n->input[i] = tb_str(b, in[i]);
    n->n_output = no;
    n->output = tb_alloc(b, (no ? no : 1) * sizeof *n->output);
    for (size_t i = 0; i < no; i++) n->output[i] = tb_str(b, out[i]);
    n->attribute = tb_alloc(b, 32 * sizeof *n->attribute);
    b->nodes[b->g.n_node++] = n;
    return n;
}

static inline Onnx__AttributeProto *tb_attr(tb *b, Onnx__NodeProto *n, const char *name,
                                            Onnx__AttributeProto__AttributeType type) {
    Onnx__AttributeProto *a = tb_alloc(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = tb_str(b, name);
    a->has_type = 1;
    a->type = type;
    n->attribute[n->n_attribute++] = a;
    return a;
}

static inline void tb_attr_int(tb *b, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = tb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

static inline void tb_attr_float(tb *b, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = tb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

static inline void tb_attr_ints(tb *b, Onnx__NodeProto *n, const char *name, int cnt,
                                const int64_t *v) {
    Onnx__AttributeProto *a = tb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)cnt;
    a->ints = tb_alloc(b, (size_t)(cnt ? cnt : 1) * sizeof *a->ints);
    if (cnt) memcpy(a->ints, v, (size_t)cnt * sizeof *v);
}

static inline void tb_attr_floats(tb *b, Onnx__NodeProto *n, const char *name, int cnt,
                                  const float *v) {
    Onnx__AttributeProto *a = tb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = (size_t)cnt;
    a->floats = tb_alloc(b, (size_t)(cnt ? cnt : 1) * sizeof *a->floats);
    if (cnt) memcpy(a->floats, v, (size_t)cnt * sizeof *v);
}

static inline void tb_attr_str(tb *b, Onnx__NodeProto *n, const char *name, const char *s) {
    Onnx__AttributeProto *a = tb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(s);
    a->s.data = (uint8_t *)tb_str(b, s);
}

static inline void tb_attr_tensor(tb *b, Onnx__NodeProto *n, const char *name,
                                  Onnx__TensorProto *t) {
    Onnx__AttributeProto *a = tb_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
}

/* Serialises the model; the caller frees the bytes. */
static inline uint8_t *tb_pack(tb *b, size_t *len) {
    size_t n = onnx__model_proto__get_packed_size(&b->m);
    uint8_t *p = malloc(n ? n : 1);
    if (!p) abort();
    *len = onnx__model_proto__pack(&b->m, p);
    return p;
}

#define TB_L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define TB_D(...) ((const int64_t[]){__VA_ARGS__})

#endif
