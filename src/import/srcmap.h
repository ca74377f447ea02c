/* The source text a graph was read from and where each layer's arguments
 * are in it, so that a changed network can be written back as an edit of
 * the user's own code (ck_graph_write_source). Filled by the reader of
 * pasted Keras code (pykeras.c); shared by a graph and its clones. */
#ifndef CK_SRCMAP_H
#define CK_SRCMAP_H

#include "core/core.h"

/* Bytes [lo, hi) of the text; hi == 0: not in the text. */
typedef struct ck_span {
    size_t lo, hi;
} ck_span;

/* One layer call as written: `Conv2D(32, (3, 3), padding='valid')`. */
typedef struct ck_src_call {
    ck_span callee; /* `layers.Conv2D` */
    size_t open;    /* the '(' of the constructor call */
    int npos;       /* positional arguments as written, in order */
    const ck_span *pos;
    int nkw;                     /* keyword arguments as written (every one, also those */
    const char *const *kw_names; /* the frontend does not read) */
    const ck_span *kw;
    int n_in;          /* operands of the call that applies the layer: `(x)`, */
    const ck_span *in; /* `([a, b])`, or the list of layers.add([a, b]); NULL: unknown */
    int line;
} ck_src_call;

/* Where an input's declared shape is written. */
typedef struct ck_src_shape {
    ck_span whole;            /* the value: `(28, 28, 1)`, `shape`, `784` */
    int first;                /* the declared axis the value's first size gives (0 or 1) */
    ck_span dim[CK_MAX_RANK]; /* each declared axis's own text, when it has one */
    unsigned open;            /* bit k: axis k is written None (any size); a 0 is a size */
    ck_span call;             /* the call that declares it, for a batch_size= added */
    int line;
} ck_src_shape;

typedef struct ck_srcmap ck_srcmap;

/* A reader of model-building code (ck_load_pykeras): the map keeps the one
 * that made it, and ck_graph_write_source reads its edited code back with
 * it to check the edit. */
typedef ck_status (*ck_src_reader)(const char *text, size_t len, const char *path,
                                   const ck_limits *lim, ck_graph **out, ck_diags *d);
/* A new map over a copy of text, made by `reread`; NULL on OOM. */
ck_srcmap *ck_srcmap_new(const char *text, size_t len, const char *file, const ck_limits *lim,
                         ck_src_reader reread);
/* Records layer `name`: the arguments it was built with (copied) and where
 * they are; why_not (copied; NULL: editable) says why an edit of its call
 * would not change this layer alone. False on OOM. */
bool ck_srcmap_add_layer(ck_srcmap *m, const char *name, const char *type, const ck_args *args,
                         const ck_src_call *call, const char *why_not);
/* Records graph input `name`, its declared shape and where it is written
 * (sh NULL: nowhere). */
bool ck_srcmap_add_input(ck_srcmap *m, const char *name, const ck_shape *declared,
                         const ck_src_shape *sh, const char *why_not);

/* the map's reference count, which a graph holds (ck_graph.srcmap) */
struct ck_ref *ck_srcmap_ref(ck_srcmap *m);
void ck_srcmap_release(ck_srcmap *m);

#endif
