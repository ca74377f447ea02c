/* Importers: each turns one file format into a ck_graph. */
#ifndef CK_IMPORT_H
#define CK_IMPORT_H

#include "graph/graph.h"

/* ONNX protobuf bytes. `path` names the file in diagnostics and locates
 * external-data files (relative to its directory); may be NULL. */
ck_status ck_load_onnx(const uint8_t *data, size_t len, const char *path, const ck_limits *lim,
                       ck_graph **out, ck_diags *diags);
/* Keras model JSON (to_json(), TF.js model.json, Keras 3 config.json). */
ck_status ck_load_keras(const char *text, size_t len, const char *path, const ck_limits *lim,
                        ck_graph **out, ck_diags *diags);

#endif
