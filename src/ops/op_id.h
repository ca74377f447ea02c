/* Op ids: the enum of the op registry (src/ops/ops.def) and the flags its
 * lines give. A node, a frontend entry and every pass name an op by its id;
 * what an id stands for is looked up in the tables built from ops.def. */
#ifndef CK_OP_ID_H
#define CK_OP_ID_H

typedef enum ck_op_id {
#define CK_OP(id, stem, name, rf, prep, flags) CK_OP_##id,
#include "ops/ops.def"
#undef CK_OP
    CK_OP_COUNT
} ck_op_id;

/* How the runtime treats an op's values (the flags column of ops.def). */
enum {
    CK_OPF_VIEW = 1 << 0,    /* its output is input 0's floats reinterpreted: never runs */
    CK_OPF_INPLACE = 1 << 1, /* elementwise: output 0 may overwrite input 0 (same shape) */
    CK_OPF_BLOCKED = 1 << 2, /* may run on the blocked layout (src/runtime/plan.c) */
    CK_OPF_DATA1 = 1 << 3,   /* only input 0 carries data; the others were read when checked */
    CK_OPF_NO_DATA = 1 << 4, /* no input carries data: its outputs are known when checked */
    CK_OPF_PIECES = 1 << 5,  /* several outputs, each a piece of input 0 along one axis */
    CK_OPF_DATA2 = 1 << 6,   /* only inputs 0 and 1 carry data; the others were read when checked */
};

#endif
