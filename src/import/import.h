/* Importers: each turns one file format into a ck_graph. */
#ifndef CK_IMPORT_H
#define CK_IMPORT_H

#include "graph/graph.h"

/* ONNX protobuf bytes. `path` names the file in diagnostics and locates
 * external-data files (relative to its directory); may be NULL. */
ck_status ck_load_onnx(const uint8_t *data, size_t len, const char *path, const ck_limits *lim,
                       ck_graph **out, ck_diags *diags);
/* The same from a blob (a mapped file): the weights stay in it, undecoded,
 * and the graph holds a reference while any tensor is a view into it. */
struct ck_blob;
ck_status ck_load_onnx_blob(struct ck_blob *blob, const char *path, const ck_limits *lim,
                            ck_graph **out, ck_diags *diags);
/* Keras model JSON (to_json(), TF.js model.json, Keras 3 config.json). */
ck_status ck_load_keras(const char *text, size_t len, const char *path, const ck_limits *lim,
                        ck_graph **out, ck_diags *diags);

/* Keras model-building Python code as pasted (Sequential, model.add, the
 * functional API); see pykeras.c. ck_pykeras_detect() tells such text from
 * a .cnn spec, and ck_parse_cnn() hands it over. */
bool ck_pykeras_detect(const char *text, size_t len);
ck_status ck_load_pykeras(const char *text, size_t len, const char *path, const ck_limits *lim,
                          ck_graph **out, ck_diags *diags);

/* A Keras HDF5 model file (model.save("m.h5"): model_config + model_weights)
 * and a Keras 3 .keras archive (config.json + model.weights.h5), with their
 * weights as graph tensors "<layer>/<param>" in Keras's layouts; see h5.c. */
ck_status ck_load_h5(const uint8_t *data, size_t len, const char *path, const ck_limits *lim,
                     ck_graph **out, ck_diags *diags);
ck_status ck_load_keras_archive(const uint8_t *data, size_t len, const char *path,
                                const ck_limits *lim, ck_graph **out, ck_diags *diags);
/* Names the axes of input `in` that Keras code or a config leaves open
 * (None: bit k of `open`; the batch, axis 0, stays 1) as symbols, so check
 * solves over their sizes as for an ONNX model's symbolic dims: the spatial
 * axes of the channels-last input by name (height, width, ...), others
 * d<k>. False when out of memory. */
bool ck_graph_keras_symbols(ck_graph *g, int in, unsigned open);
/* The tensor holding Keras weight `param` ("kernel", "gamma", ...) of layer
 * `layer` read from a model file, or -1. */
int ck_graph_keras_weight(const ck_graph *g, const char *layer, const char *param);
/* Member `member` of a zip archive in memory, at most max_bytes inflated;
 * *out is malloc'd (NUL-terminated). CK_EIO when there is no such member. */
ck_status ck_zip_member(const uint8_t *data, size_t len, const char *member, int64_t max_bytes,
                        const char *path, uint8_t **out, size_t *out_len, ck_diags *diags);

#endif
