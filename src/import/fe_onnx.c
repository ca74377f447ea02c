/* ONNX operator names and attributes -> canonical attributes. */
#include "ops/ops.h"

const ck_frontend ck_fe_onnx[] = {{0}};
