/* The tables of the op registry (src/ops/ops.def) that the op layer owns:
 * each id's rules, canonical name and flags. */
#include "ops/ops.h"

#define CK_OP(id, stem, name, rf, prep, flags) extern const ck_op ck_op_##stem;
#include "ops/ops.def"
#undef CK_OP

static const ck_op *const rules[CK_OP_COUNT] = {
#define CK_OP(id, stem, name, rf, prep, flags) [CK_OP_##id] = &ck_op_##stem,
#include "ops/ops.def"
#undef CK_OP
};

static const char *const names[CK_OP_COUNT] = {
#define CK_OP(id, stem, name, rf, prep, flags) [CK_OP_##id] = name,
#include "ops/ops.def"
#undef CK_OP
};

static const unsigned flag_bits[CK_OP_COUNT] = {
#define CK_OP(id, stem, name, rf, prep, flags) [CK_OP_##id] = (flags),
#include "ops/ops.def"
#undef CK_OP
};

const ck_op *ck_op_get(ck_op_id id) {
    return (unsigned)id < CK_OP_COUNT ? rules[id] : rules[CK_OP_UNKNOWN];
}

const char *ck_op_name(ck_op_id id) {
    return (unsigned)id < CK_OP_COUNT ? names[id] : names[CK_OP_UNKNOWN];
}

unsigned ck_op_flags(ck_op_id id) {
    return (unsigned)id < CK_OP_COUNT ? flag_bits[id] : 0;
}
