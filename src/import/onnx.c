/* ONNX reader (protobuf-c bindings generated from Debian's onnx.proto). */
#include "import/import.h"

ck_status ck_load_onnx(const uint8_t *data, size_t len, const char *path, const ck_limits *lim,
                       ck_graph **out, ck_diags *diags) {
    (void)data;
    (void)len;
    (void)lim;
    *out = NULL;
    ck_diag_parse(diags, path, 0, 0, "ONNX files are not supported yet");
    return CK_EPARSE;
}
