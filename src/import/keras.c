/* Keras model JSON reader (jansson). */
#include "import/import.h"

ck_status ck_load_keras(const char *text, size_t len, const char *path, const ck_limits *lim,
                        ck_graph **out, ck_diags *diags) {
    (void)text;
    (void)len;
    (void)lim;
    *out = NULL;
    ck_diag_parse(diags, path, 0, 0, "Keras JSON files are not supported yet");
    return CK_EPARSE;
}
