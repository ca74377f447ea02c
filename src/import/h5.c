/* Keras model files with their weights: the HDF5 file of Keras 1 and 2
 * (`model.save("m.h5")`) and the `.keras` archive of Keras 3, read with
 * Debian's libhdf5 from the bytes in memory (the core driver and a file
 * image: nothing is written or opened on disk).
 *
 * HDF5 (keras/saving/legacy/hdf5_format.py in Keras 2, legacy_h5_format.py
 * in Keras 3): the root attribute `model_config` holds the JSON that
 * `model.to_json()` writes, which ck_load_keras() reads, so the layers and
 * their names are those of the JSON path. The group `model_weights` (or
 * the root, for a file of `save_weights`) lists its layers in the
 * attribute `layer_names`; group `model_weights/<layer>` lists its weights
 * in `weight_names` ("conv2d_1/kernel:0", Keras 1 "convolution2d_1_W:0",
 * Keras 3 "conv2d/kernel"), each a dataset at `<layer>/<weight name>`. A
 * list attribute larger than HDF5's 64 KiB header limit is split into
 * `layer_names0`, `layer_names1`, ...
 *
 * .keras (keras/src/saving/saving_lib.py): a zip holding `config.json` and
 * `model.weights.h5`, whose datasets are `layers/<key>/vars/<i>`: <key> is
 * the snake_case of the layer's class with a per-container counter
 * (conv2d, conv2d_1, ...) in the order of model.layers, nested models under
 * their own key (`layers/sequential/layers/conv2d/vars/0`), the variables
 * numbered in the layer's order.
 *
 * Each weight becomes a graph tensor named `<layer>/<param>` in Keras's
 * layout and naming (kernel [kh, kw, in, out], depthwise_kernel, bias,
 * gamma, beta, moving_mean, moving_variance, ...), which a session reads
 * through ck_graph_keras_weight() as it reads a ck_param_fn's arrays.
 *
 * Untrusted input: the file size limit is applied before anything is read;
 * each dataset's type (floating point of 2, 4 or 8 bytes), rank (at most
 * CK_MAX_RANK) and element count (max_elements, and all weights together at
 * most max_elements) are checked before its buffer is allocated, and a
 * dataset that claims more values than its stored bytes can hold (beyond
 * deflate's 1032:1) is refused. Before libhdf5 sees the bytes, h5check.c
 * walks every structure it can reach and refuses a damaged or hostile
 * image (libhdf5 1.10 trusts the sizes and names it decodes). libhdf5 is
 * not thread-safe in Debian's
 * serial build, so every call into it holds one lock, and its error
 * printing is switched off while convkit reads (and restored after). */
#include "import/h5check.h"
#include "import/import.h"

#include <hdf5.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct hctx {
    const char *path;
    ck_diags *d;
    ck_limits lim;
    size_t file_len;
    int64_t total; /* weight elements read */
    ck_graph *g;
    bool failed, oom;
    bool k1;       /* Keras 1 layouts */
    int n_weights; /* datasets stored */
} hctx;

static ck_diag *herr(hctx *c, ck_code code, const char *layer, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ck_diag *herr(hctx *c, ck_code code, const char *layer, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* the report prints the layer before the message: "conv2d: ..." once */
    const char *m = buf;
    size_t ln = layer ? strlen(layer) : 0;
    if (ln && !strncmp(m, layer, ln) && m[ln] == ':' && m[ln + 1] == ' ') m += ln + 2;
    ck_diag *dg = ck_diag_add(c->d, CK_SEV_ERROR, code, layer, NULL, "%s", m);
    if (dg && c->path) ck_diag_set(&dg->file, "%s", c->path);
    c->failed = true;
    return dg;
}

/* ---- HDF5 access --------------------------------------------------------------- */

typedef struct h5guard {
    H5E_auto2_t fn;
    void *data;
} h5guard;

static void h5_enter(h5guard *gd) {
    pthread_mutex_lock(&h5_lock);
    H5Eget_auto2(H5E_DEFAULT, &gd->fn, &gd->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void h5_leave(h5guard *gd) {
    H5Eset_auto2(H5E_DEFAULT, gd->fn, gd->data);
    pthread_mutex_unlock(&h5_lock);
}

/* Opens an HDF5 image held in memory; < 0 when libhdf5 refuses it. */
static hid_t open_image(const uint8_t *data, size_t len) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    hid_t f = -1;
    if (H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 &&
        H5Pset_file_image(fapl, (void *)(uintptr_t)data, len) >= 0)
        f = H5Fopen("convkit-image.h5", H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

/* The number of elements of a dataspace; -1 when it is not simple or
 * exceeds int64. */
static int64_t space_numel(hid_t sp, int *rank, hsize_t *dims) {
    int r = H5Sget_simple_extent_ndims(sp);
    if (r < 0 || r > CK_MAX_RANK) return -1;
    if (H5Sget_simple_extent_dims(sp, dims, NULL) < 0) return -1;
    int64_t n = 1;
    for (int i = 0; i < r; i++)
        if (dims[i] > (hsize_t)INT64_MAX || !ck_mul(n, (int64_t)dims[i], &n)) return -1;
    *rank = r;
    return n;
}

/* A string attribute of obj (fixed or variable length, scalar or one
 * element); malloc'd, NULL when absent or not a string (*bad says which). */
static char *attr_string(hctx *c, hid_t obj, const char *name, bool *bad) {
    *bad = false;
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) {
        *bad = true;
        return NULL;
    }
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a), m = -1;
    char *out = NULL;
    int rank;
    hsize_t dims[CK_MAX_RANK];
    if (t < 0 || sp < 0 || H5Tget_class(t) != H5T_STRING || space_numel(sp, &rank, dims) != 1) {
        *bad = true;
        goto done;
    }
    m = H5Tcopy(H5T_C_S1);
    /* libhdf5 converts no strings between ASCII and UTF-8: read in the
     * file's character set; fixed-length strings are NUL padded */
    if (m < 0 || H5Tset_cset(m, H5Tget_cset(t)) < 0 || H5Tset_strpad(m, H5T_STR_NULLPAD) < 0)
        goto done;
    if (H5Tis_variable_str(t) > 0) {
        char *p = NULL;
        if (H5Tset_size(m, H5T_VARIABLE) < 0 || H5Aread(a, m, &p) < 0 || !p) {
            *bad = true;
            goto done;
        }
        out = strlen(p) <= c->file_len ? ck_strdup(p) : NULL;
        if (!out) *bad = true;
        H5free_memory(p);
    } else {
        size_t n = H5Tget_size(t);
        if (n == 0 || n > c->file_len) {
            *bad = true;
            goto done;
        }
        out = malloc(n + 1);
        if (!out) {
            c->oom = c->failed = true;
            goto done;
        }
        if (H5Tset_size(m, n) < 0 || H5Aread(a, m, out) < 0) {
            free(out);
            out = NULL;
            *bad = true;
            goto done;
        }
        out[n] = 0;
    }
done:
    if (m >= 0) H5Tclose(m);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return out;
}

typedef struct strlist {
    int n, cap;
    char **v;
} strlist;

static void strlist_free(strlist *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static bool strlist_push(hctx *c, strlist *l, const char *s, size_t n) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            c->oom = c->failed = true;
            return false;
        }
        l->v = v;
        l->cap = cap;
    }
    /* fixed-length strings are NUL padded */
    size_t k = 0;
    while (k < n && s[k]) k++;
    if (!(l->v[l->n] = ck_strndup(s, k))) {
        c->oom = c->failed = true;
        return false;
    }
    l->n++;
    return true;
}

/* Appends the strings of one list attribute (a 1-D array of fixed or
 * variable-length strings; an empty float array is an empty list).
 * 0: absent, 1: read, -1: malformed (diagnosed). */
static int attr_list1(hctx *c, hid_t obj, const char *objname, const char *name, strlist *l) {
    if (H5Aexists(obj, name) <= 0) return 0;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) {
        herr(c, CK_PARSE_ERROR, objname, "%s: attribute '%s' cannot be read", objname, name);
        return -1;
    }
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a), m = -1;
    int rc = -1, rank = 0;
    hsize_t dims[CK_MAX_RANK];
    int64_t n = sp >= 0 ? space_numel(sp, &rank, dims) : -1;
    if (t < 0 || n < 0 || rank > 1) {
        herr(c, CK_PARSE_ERROR, objname, "%s: attribute '%s' is not a list of names", objname,
             name);
        goto done;
    }
    if (n == 0) {
        rc = 1;
        goto done;
    }
    if (H5Tget_class(t) != H5T_STRING) {
        herr(c, CK_PARSE_ERROR, objname, "%s: attribute '%s' holds %s values, not names", objname,
             name, H5Tget_class(t) == H5T_FLOAT ? "floating-point" : "non-string");
        goto done;
    }
    if (n > (int64_t)c->lim.max_nodes * 16) {
        herr(c, CK_LIMIT_EXCEEDED, objname,
             "%s: attribute '%s' lists %lld names, more than the layer limit allows", objname, name,
             (long long)n);
        goto done;
    }
    m = H5Tcopy(H5T_C_S1);
    if (m < 0 || H5Tset_cset(m, H5Tget_cset(t)) < 0) {
        herr(c, CK_PARSE_ERROR, objname, "%s: attribute '%s' has an unknown character set", objname,
             name);
        goto done;
    }
    if (H5Tis_variable_str(t) > 0) {
        char **p = calloc((size_t)n, sizeof *p);
        if (!p || H5Tset_size(m, H5T_VARIABLE) < 0 || H5Aread(a, m, p) < 0) {
            if (p)
                herr(c, CK_PARSE_ERROR, objname, "%s: attribute '%s' cannot be read", objname,
                     name);
            else
                c->oom = c->failed = true;
            free(p);
            goto done;
        }
        rc = 1;
        for (int64_t i = 0; i < n; i++) {
            size_t len = p[i] ? strlen(p[i]) : 0;
            if (rc == 1 && len > (size_t)c->lim.max_string) {
                herr(c, CK_LIMIT_EXCEEDED, objname, "%s: a name in '%s' is longer than %d bytes",
                     objname, name, c->lim.max_string);
                rc = -1;
            }
            if (rc == 1 && !strlist_push(c, l, p[i] ? p[i] : "", len)) rc = -1;
            if (p[i]) H5free_memory(p[i]);
        }
        free(p);
    } else {
        size_t sz = H5Tget_size(t);
        if (sz == 0 || sz > (size_t)c->lim.max_string || (uint64_t)n * sz > c->file_len) {
            herr(c, CK_PARSE_ERROR, objname, "%s: attribute '%s' has names of %zu bytes", objname,
                 name, sz);
            goto done;
        }
        char *buf = malloc((size_t)n * sz);
        if (!buf) {
            c->oom = c->failed = true;
            goto done;
        }
        if (H5Tset_size(m, sz) < 0 || H5Tset_strpad(m, H5T_STR_NULLPAD) < 0 ||
            H5Aread(a, m, buf) < 0) {
            herr(c, CK_PARSE_ERROR, objname, "%s: attribute '%s' cannot be read", objname, name);
            free(buf);
            goto done;
        }
        rc = 1;
        for (int64_t i = 0; i < n && rc == 1; i++)
            if (!strlist_push(c, l, buf + i * (int64_t)sz, sz)) rc = -1;
        free(buf);
    }
done:
    if (m >= 0) H5Tclose(m);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return rc;
}

/* A list attribute, or its chunks name0, name1, ... */
static int attr_list(hctx *c, hid_t obj, const char *objname, const char *name, strlist *l) {
    int rc = attr_list1(c, obj, objname, name, l);
    if (rc != 0) return rc;
    for (int k = 0; k < 4096; k++) {
        char nm[96];
        snprintf(nm, sizeof nm, "%s%d", name, k);
        int r = attr_list1(c, obj, objname, nm, l);
        if (r < 0) return -1;
        if (r == 0) return k ? 1 : 0;
    }
    return 1;
}

/* Reads dataset `path` under `loc` as float32; NULL after a diagnostic. */
static float *read_dataset(hctx *c, hid_t loc, const char *path, const char *layer,
                           const char *shown, ck_shape *shape) {
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0) {
        herr(c, CK_PARSE_ERROR, layer,
             "%s: the weight '%s' is listed but the file has no such "
             "dataset",
             layer, shown);
        return NULL;
    }
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    if (ds < 0) {
        herr(c, CK_PARSE_ERROR, layer, "%s: '%s' is not a dataset", layer, shown);
        return NULL;
    }
    float *out = NULL;
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    int rank = 0;
    hsize_t dims[CK_MAX_RANK];
    int64_t n = sp >= 0 ? space_numel(sp, &rank, dims) : -1;
    size_t esz = t >= 0 ? H5Tget_size(t) : 0;
    if (t < 0 || H5Tget_class(t) != H5T_FLOAT || (esz != 2 && esz != 4 && esz != 8)) {
        herr(c, CK_PARSE_ERROR, layer,
             "%s: the weight '%s' is not floating point (convkit reads float16, float32 and "
             "float64 weights)",
             layer, shown);
        goto done;
    }
    if (n < 0) {
        herr(c, CK_LIMIT_EXCEEDED, layer, "%s: the weight '%s' has more than %d dimensions", layer,
             shown, CK_MAX_RANK);
        goto done;
    }
    if (n > c->lim.max_elements || c->total + n > c->lim.max_elements) {
        herr(c, CK_LIMIT_EXCEEDED, layer,
             "%s: the weight '%s' has %lld values, past the limit of %lld weight values in one "
             "model (raise it with --max-elements)",
             layer, shown, (long long)n, (long long)c->lim.max_elements);
        goto done;
    }
    /* stored bytes against declared values: a truncated or inflated dataset */
    hsize_t stored = H5Dget_storage_size(ds);
    hid_t dcpl = H5Dget_create_plist(ds);
    int nfilters = dcpl >= 0 ? H5Pget_nfilters(dcpl) : 0;
    if (dcpl >= 0) H5Pclose(dcpl);
    uint64_t need = (uint64_t)n * esz;
    if (n > 0 && (nfilters > 0 ? stored == 0 || need / 1032 > stored : stored < need)) {
        herr(c, CK_PARSE_ERROR, layer,
             "%s: the weight '%s' declares %lld values (%llu bytes) but the file stores %llu "
             "bytes for it",
             layer, shown, (long long)n, (unsigned long long)need, (unsigned long long)stored);
        goto done;
    }
    out = malloc((size_t)(n ? n : 1) * sizeof *out);
    if (!out) {
        c->oom = c->failed = true;
        goto done;
    }
    if (n > 0 && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        herr(c, CK_PARSE_ERROR, layer, "%s: the values of the weight '%s' cannot be read", layer,
             shown);
        free(out);
        out = NULL;
        goto done;
    }
    c->total += n;
    shape->rank = rank;
    for (int i = 0; i < rank; i++) shape->d[i] = (int64_t)dims[i];
done:
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Dclose(ds);
    return out;
}

/* ---- weights -> graph tensors ------------------------------------------------- */

static int find_node(const ck_graph *g, const char *name) {
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, name)) return i;
    return -1;
}

static bool has_type(const ck_node *n, const char *part) {
    return n->type && strstr(n->type, part) != NULL;
}

static bool arg_bool(const ck_node *n, const char *name, bool def) {
    const ck_value *v = ck_args_get(&n->args, -1, name);
    return v && (v->kind == CK_V_BOOL || v->kind == CK_V_INT) ? v->i != 0 : def;
}

/* Keras's order of a layer's weights. */
static int param_names(const ck_node *n, const char **v) {
    int k = 0;
    bool bias = arg_bool(n, "use_bias", arg_bool(n, "bias", true));
    if (has_type(n, "Separable")) {
        v[k++] = "depthwise_kernel";
        v[k++] = "pointwise_kernel";
        if (bias) v[k++] = "bias";
    } else if (has_type(n, "Depthwise")) {
        v[k++] = "depthwise_kernel";
        if (bias) v[k++] = "bias";
    } else if (has_type(n, "Conv") || has_type(n, "Deconv") || !strcmp(n->type, "Dense")) {
        v[k++] = "kernel";
        if (bias) v[k++] = "bias";
    } else if (!strcmp(n->type, "BatchNormalization")) {
        if (arg_bool(n, "scale", true)) v[k++] = "gamma";
        if (arg_bool(n, "center", true)) v[k++] = "beta";
        v[k++] = "moving_mean";
        v[k++] = "moving_variance";
    } else if (has_type(n, "Normalization")) {
        if (arg_bool(n, "scale", true)) v[k++] = "gamma";
        if (arg_bool(n, "center", true)) v[k++] = "beta";
    } else if (!strcmp(n->type, "PReLU")) {
        v[k++] = "alpha";
    }
    return k;
}

/* "conv2d_1/kernel:0" -> "kernel" when it is a Keras parameter name. */
static const char *named_param(const char *w, char *buf, size_t cap) {
    static const char *const known[] = {"kernel",
                                        "bias",
                                        "gamma",
                                        "beta",
                                        "moving_mean",
                                        "moving_variance",
                                        "depthwise_kernel",
                                        "pointwise_kernel",
                                        "alpha",
                                        NULL};
    const char *s = strrchr(w, '/');
    s = s ? s + 1 : w;
    size_t n = strcspn(s, ":");
    if (n >= cap) return NULL;
    memcpy(buf, s, n);
    buf[n] = 0;
    for (int i = 0; known[i]; i++)
        if (!strcmp(buf, known[i])) return buf;
    return NULL;
}

/* Keras 1 with Theano ordering stored kernels [out, in, k...]; Keras 2
 * reads them as [k..., in, out] (its preprocess_weights_for_loading). */
static bool k1_th_kernel(hctx *c, const ck_node *n, float **data, ck_shape *s) {
    if (!c->k1 || n->a.channels_last || s->rank < 3 || has_type(n, "Dense")) return true;
    int r = s->rank, nsp = r - 2;
    int64_t O = s->d[0], I = s->d[1], K = 1;
    for (int i = 0; i < nsp; i++) K *= s->d[2 + i];
    int64_t total = O * I * K;
    float *src = *data, *dst = malloc((size_t)(total > 0 ? total : 1) * sizeof *dst);
    if (!dst) {
        c->oom = c->failed = true;
        return false;
    }
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++)
            for (int64_t k = 0; k < K; k++) dst[(k * I + i) * O + o] = src[(o * I + i) * K + k];
    ck_shape t = {.rank = r};
    for (int i = 0; i < nsp; i++) t.d[i] = s->d[2 + i];
    t.d[nsp] = I;
    t.d[nsp + 1] = O;
    free(src);
    *data = dst;
    *s = t;
    return true;
}

/* Stores one weight of node ni as tensor "<node>/<param>". */
static bool store(hctx *c, int ni, const char *param, float *data, const ck_shape *s,
                  const char *shown) {
    ck_node *n = &c->g->nodes[ni];
    ck_shape sh = *s;
    if (!strcmp(param, "kernel") && !k1_th_kernel(c, n, &data, &sh)) {
        free(data);
        return false;
    }
    char *name = ck_sprintf("%s/%s", n->name, param);
    if (!name) {
        free(data);
        c->oom = c->failed = true;
        return false;
    }
    if (ck_graph_keras_weight(c->g, n->name, param) >= 0) {
        herr(c, CK_PARSE_ERROR, n->name, "%s: the file holds two '%s' weights (the second is '%s')",
             n->name, param, shown);
        free(name);
        free(data);
        return false;
    }
    ck_tensor t = {.name = name, .dtype = CK_F32, .shape = sh, .f32 = data};
    if (ck_graph_add_tensor(c->g, &t) < 0) {
        c->oom = c->failed = true;
        return false;
    }
    c->n_weights++;
    return true;
}

/* The node a weight belongs to: the layer itself, or, for a nested model's
 * group, the layer the weight name's path names inside it. */
static int weight_node(hctx *c, const char *layer, const char *wname) {
    int ni = find_node(c->g, layer);
    if (ni >= 0) return ni;
    /* "inner/conv2d/kernel:0" under group "outer" -> node "outer/inner/conv2d" */
    const char *last = strrchr(wname, '/');
    if (!last) return -1;
    for (const char *p = wname; p < last;) {
        char *cand = ck_sprintf("%s/%.*s", layer, (int)(last - p), p);
        if (!cand) return -1;
        ni = find_node(c->g, cand);
        free(cand);
        if (ni >= 0) return ni;
        const char *s = strchr(p, '/');
        if (!s || s >= last) break;
        p = s + 1;
    }
    return -1;
}

/* model_weights of a Keras 1/2/3 HDF5 file. */
static bool read_legacy_weights(hctx *c, hid_t f) {
    hid_t root = H5Lexists(f, "model_weights", H5P_DEFAULT) > 0
                     ? H5Gopen2(f, "model_weights", H5P_DEFAULT)
                     : H5Gopen2(f, "/", H5P_DEFAULT);
    if (root < 0) {
        herr(c, CK_PARSE_ERROR, NULL, "the group 'model_weights' cannot be opened");
        return false;
    }
    strlist layers = {0};
    int rc = attr_list(c, root, "model_weights", "layer_names", &layers);
    if (rc == 0)
        ck_graph_warn(c->g, CK_NOTE, NULL,
                      "the file has no weights (no 'model_weights' group with 'layer_names'): "
                      "`convkit run` uses seeded weights");
    for (int li = 0; rc > 0 && li < layers.n && !c->failed; li++) {
        const char *ln = layers.v[li];
        if (H5Lexists(root, ln, H5P_DEFAULT) <= 0) {
            herr(c, CK_PARSE_ERROR, ln,
                 "%s: listed in layer_names, but model_weights has no "
                 "group '%s'",
                 ln, ln);
            break;
        }
        hid_t lg = H5Gopen2(root, ln, H5P_DEFAULT);
        if (lg < 0) {
            herr(c, CK_PARSE_ERROR, ln, "%s: model_weights/%s is not a group", ln, ln);
            break;
        }
        strlist wn = {0};
        int wrc = attr_list(c, lg, ln, "weight_names", &wn);
        int counts[64] = {0}; /* positional index per node (the first 64 nodes of a group) */
        int nodes[64], nn = 0;
        for (int wi = 0; wrc > 0 && wi < wn.n && !c->failed; wi++) {
            char *shown = ck_sprintf("model_weights/%s/%s", ln, wn.v[wi]);
            if (!shown) {
                c->oom = c->failed = true;
                break;
            }
            int ni = weight_node(c, ln, wn.v[wi]);
            if (ni < 0) {
                herr(c, CK_PARSE_ERROR, ln,
                     "%s: the file holds the weight '%s' for a layer the model config does not "
                     "have",
                     ln, shown);
                free(shown);
                break;
            }
            ck_shape s = {0};
            float *data = read_dataset(c, lg, wn.v[wi], c->g->nodes[ni].name, shown, &s);
            if (!data) {
                free(shown);
                break;
            }
            int slot = -1;
            for (int k = 0; k < nn; k++)
                if (nodes[k] == ni) slot = k;
            if (slot < 0 && nn < 64) nodes[slot = nn++] = ni;
            int pos = slot >= 0 ? counts[slot]++ : 0;
            char buf[64];
            const char *param = named_param(wn.v[wi], buf, sizeof buf);
            const char *order[8];
            int np = param_names(&c->g->nodes[ni], order);
            if (!param && pos < np) param = order[pos];
            char posname[32];
            if (!param) {
                snprintf(posname, sizeof posname, "weight_%d", pos);
                param = posname;
            }
            store(c, ni, param, data, &s, shown);
            free(shown);
        }
        if (wrc < 0) c->failed = true;
        strlist_free(&wn);
        H5Gclose(lg);
    }
    if (rc < 0) c->failed = true;
    strlist_free(&layers);
    H5Gclose(root);
    return !c->failed;
}

/* ---- Keras 3 .keras weights --------------------------------------------------- */

/* Keras 3's naming.to_snake_case of a class name (the keys of
 * model.weights.h5). */
static char *snake_case(const char *cls) {
    size_t n = strlen(cls);
    char *a = malloc(2 * n + 1), *b = malloc(4 * n + 1);
    if (!a || !b) {
        free(a);
        free(b);
        return NULL;
    }
    size_t k = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(cls[i] == '_' || (cls[i] >= '0' && cls[i] <= '9') ||
              (cls[i] >= 'a' && cls[i] <= 'z') || (cls[i] >= 'A' && cls[i] <= 'Z')))
            continue;
        if (k > 0 && cls[i] >= 'A' && cls[i] <= 'Z' && i + 1 < n && cls[i + 1] >= 'a' &&
            cls[i + 1] <= 'z')
            a[k++] = '_';
        a[k++] = cls[i];
    }
    for (size_t i = 0; i < k; i++) {
        char ch = a[i];
        b[m++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        if (ch >= 'a' && ch <= 'z' && i + 1 < k && a[i + 1] >= 'A' && a[i + 1] <= 'Z') b[m++] = '_';
    }
    b[m] = 0;
    /* the two rules never insert two underscores in a row */
    size_t w = 0;
    for (size_t i = 0; i < m; i++)
        if (!(b[i] == '_' && w > 0 && b[w - 1] == '_')) b[w++] = b[i];
    b[w] = 0;
    free(a);
    return b;
}

typedef struct keyctr {
    int n, cap;
    char **names;
    int *count;
} keyctr;

static void keyctr_free(keyctr *k) {
    for (int i = 0; i < k->n; i++) free(k->names[i]);
    free(k->names);
    free(k->count);
}

/* base, base_1, ... per container. */
static char *unique_key(keyctr *k, const char *base) {
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->names[i], base)) return ck_sprintf("%s_%d", base, ++k->count[i]);
    if (k->n == k->cap) {
        int cap = k->cap ? k->cap * 2 : 16;
        char **nv = realloc(k->names, (size_t)cap * sizeof *nv);
        if (!nv) return NULL;
        k->names = nv;
        int *nc = realloc(k->count, (size_t)cap * sizeof *nc);
        if (!nc) return NULL;
        k->count = nc;
        k->cap = cap;
    }
    if (!(k->names[k->n] = ck_strdup(base))) return NULL;
    k->count[k->n++] = 0;
    return ck_strdup(base);
}

static const char *jstr(const json_t *o, const char *key) {
    return json_is_object(o) ? json_string_value(json_object_get(o, key)) : NULL;
}

static bool is_model_cls(const json_t *layer) {
    const char *cls = jstr(layer, "class_name");
    const json_t *cfg = json_object_get(layer, "config");
    return (cls &&
            (!strcmp(cls, "Sequential") || !strcmp(cls, "Functional") || !strcmp(cls, "Model"))) ||
           (json_is_object(cfg) && json_is_array(json_object_get(cfg, "layers")));
}

/* Reads `<h5 prefix>layers/<key>/vars/<i>` for every layer of model `m`
 * whose graph nodes are named `<name prefix><layer name>`. */
static bool k3_model(hctx *c, hid_t f, const json_t *m, const char *hpre, const char *npre,
                     int depth) {
    if (depth > c->lim.max_depth) {
        herr(c, CK_LIMIT_EXCEEDED, NULL, "models nested deeper than %d levels", c->lim.max_depth);
        return false;
    }
    const json_t *cfg = json_object_get(m, "config");
    const json_t *layers = json_is_array(cfg) ? cfg : json_object_get(cfg, "layers");
    bool seq = json_is_array(cfg) ||
               !strcmp(jstr(m, "class_name") ? jstr(m, "class_name") : "", "Sequential");
    if (!json_is_array(layers)) return true;
    keyctr keys = {0};
    bool ok = true;
    for (size_t i = 0; ok && !c->failed && i < json_array_size(layers); i++) {
        const json_t *L = json_array_get(layers, i);
        const char *cls = jstr(L, "class_name");
        const char *name = jstr(json_object_get(L, "config"), "name");
        if (!name) name = jstr(L, "name");
        if (!cls || !name) continue;
        if (seq && !strcmp(cls, "InputLayer")) continue; /* Sequential.layers leaves it out */
        char *base = snake_case(cls);
        char *key = base ? unique_key(&keys, base) : NULL;
        free(base);
        char *gpath = key ? ck_sprintf("%slayers/%s", hpre, key) : NULL;
        free(key);
        if (!gpath) {
            c->oom = c->failed = true;
            ok = false;
            break;
        }
        if (is_model_cls(L)) {
            char *hp = ck_sprintf("%s/", gpath), *np = ck_sprintf("%s%s/", npre, name);
            ok = hp && np && k3_model(c, f, L, hp, np, depth + 1);
            if (!hp || !np) c->oom = c->failed = true;
            free(hp);
            free(np);
            free(gpath);
            continue;
        }
        char *vpath = ck_sprintf("%s/vars", gpath);
        char *node = ck_sprintf("%s%s", npre, name);
        if (!vpath || !node) {
            c->oom = c->failed = true;
            ok = false;
        }
        int ni = node ? find_node(c->g, node) : -1;
        if (ok && ni >= 0 && H5Lexists(f, gpath, H5P_DEFAULT) > 0 &&
            H5Lexists(f, vpath, H5P_DEFAULT) > 0) {
            const char *order[8];
            int np = param_names(&c->g->nodes[ni], order);
            for (int k = 0; ok && k < 64; k++) {
                char ds[32];
                snprintf(ds, sizeof ds, "%d", k);
                char *dpath = ck_sprintf("%s/%s", vpath, ds);
                if (!dpath) {
                    c->oom = c->failed = true;
                    ok = false;
                    break;
                }
                if (H5Lexists(f, dpath, H5P_DEFAULT) <= 0) {
                    free(dpath);
                    break;
                }
                ck_shape s = {0};
                float *data = read_dataset(c, f, dpath, node, dpath, &s);
                char pn[32];
                snprintf(pn, sizeof pn, "weight_%d", k);
                if (!data || !store(c, ni, k < np ? order[k] : pn, data, &s, dpath)) ok = false;
                free(dpath);
            }
        }
        free(vpath);
        free(node);
        free(gpath);
    }
    keyctr_free(&keys);
    return ok && !c->failed;
}

/* ---- checks ------------------------------------------------------------------- */

/* Every layer's parameters, as the configuration counts them, must be the
 * file's: checked at the declared input shape (layers the check cannot
 * reach are left to the session, which compares each array's shape). */
static void check_counts(hctx *c) {
    ck_graph *g = ck_graph_clone(c->g, false);
    if (!g) return;
    ck_diags tmp = {0};
    ck_check(g, &tmp);
    ck_diags_free(&tmp);
    for (int i = 0; i < g->n_nodes && !c->failed; i++) {
        const ck_node *n = &g->nodes[i];
        if (n->state != CK_LAYER_OK) continue;
        int64_t file = 0;
        int nw = 0;
        ck_str list = {0};
        size_t plen = strlen(n->name);
        for (int t = 0; t < c->g->n_tensors; t++) {
            const ck_tensor *tt = &c->g->tensors[t];
            if (strncmp(tt->name, n->name, plen) || tt->name[plen] != '/' ||
                strchr(tt->name + plen + 1, '/'))
                continue;
            int64_t k;
            if (!ck_shape_numel(&tt->shape, &k)) k = 0;
            file += k;
            ck_str_addf(&list, "%s%s ", nw++ ? ", " : "", tt->name + plen + 1);
            ck_str_shape(&list, &tt->shape);
        }
        if (nw && file != n->params_count) {
            herr(c, CK_INVALID_CONFIG, n->name,
                 "%s: the file holds %lld parameters for this layer (%s), but its configuration "
                 "has %lld",
                 n->name, (long long)file, list.p ? list.p : "", (long long)n->params_count);
        }
        ck_str_free(&list);
    }
    ck_graph_free(g);
}

/* ---- entry points ------------------------------------------------------------- */

static ck_status finish(hctx *c, ck_graph **out) {
    if (!c->failed) check_counts(c);
    if (c->failed) {
        ck_graph_free(c->g);
        c->g = NULL;
        return c->oom ? CK_ENOMEM : CK_EPARSE;
    }
    *out = c->g;
    return CK_OK;
}

ck_status ck_load_h5(const uint8_t *data, size_t len, const char *path, const ck_limits *lim,
                     ck_graph **out, ck_diags *d) {
    *out = NULL;
    hctx c = {
        .path = path ? path : "<hdf5>", .d = d, .lim = ck_limits_resolve(lim), .file_len = len};
    char why[256];
    if (!ck_h5_check(data, len, c.lim.max_depth, why, sizeof why)) {
        ck_diag_parse(d, c.path, 0, 0, "%s: cannot open it as an HDF5 file: %s", c.path, why);
        return CK_EPARSE;
    }
    h5guard gd;
    h5_enter(&gd);
    hid_t f = open_image(data, len);
    ck_status st = CK_EPARSE;
    char *cfg = NULL, *ver = NULL;
    if (f < 0) {
        ck_diag_parse(d, c.path, 0, 0,
                      "%s: libhdf5 cannot open it as an HDF5 file (truncated or damaged)", c.path);
        goto done;
    }
    bool bad;
    cfg = attr_string(&c, f, "model_config", &bad);
    if (!cfg) {
        if (c.oom) {
            st = CK_ENOMEM;
            goto done;
        }
        ck_diag_parse(d, c.path, 0, 0,
                      bad ? "%s: the 'model_config' attribute is not a JSON string"
                          : "%s: an HDF5 file without a 'model_config' attribute: a weights-only "
                            "file (model.save_weights) holds no architecture; convkit reads "
                            "files written by model.save()",
                      c.path);
        goto done;
    }
    ver = attr_string(&c, f, "keras_version", &bad);
    c.k1 = ver && ver[0] == '1';
    st = ck_load_keras(cfg, strlen(cfg), c.path, lim, &c.g, d);
    if (st != CK_OK) goto done;
    read_legacy_weights(&c, f);
    st = finish(&c, out);
done:
    free(cfg);
    free(ver);
    if (f >= 0) H5Fclose(f);
    h5_leave(&gd);
    return st;
}

ck_status ck_load_keras_archive(const uint8_t *data, size_t len, const char *path,
                                const ck_limits *lim, ck_graph **out, ck_diags *d) {
    *out = NULL;
    hctx c = {.path = path ? path : "<keras>", .d = d, .lim = ck_limits_resolve(lim)};
    uint8_t *cfg = NULL, *wts = NULL;
    size_t cfg_len = 0, wts_len = 0;
    ck_status st =
        ck_zip_member(data, len, "config.json", c.lim.max_file_bytes, c.path, &cfg, &cfg_len, d);
    if (st != CK_OK) return st;
    st = ck_load_keras((const char *)cfg, cfg_len, c.path, lim, &c.g, d);
    if (st != CK_OK) {
        free(cfg);
        return st;
    }
    st = ck_zip_member(data, len, "model.weights.h5", c.lim.max_file_bytes, c.path, &wts, &wts_len,
                       d);
    if (st == CK_EIO) { /* no member: an architecture-only archive */
        ck_graph_warn(c.g, CK_NOTE, NULL,
                      "the archive has no model.weights.h5: `convkit run` uses seeded weights");
        free(cfg);
        *out = c.g;
        return CK_OK;
    }
    if (st != CK_OK) {
        free(cfg);
        ck_graph_free(c.g);
        return st;
    }
    c.file_len = wts_len;
    json_error_t je;
    json_t *root = json_loadb((const char *)cfg, cfg_len, 0, &je);
    char why[256];
    bool sound = ck_h5_check(wts, wts_len, c.lim.max_depth, why, sizeof why);
    h5guard gd;
    h5_enter(&gd);
    hid_t f = sound ? open_image(wts, wts_len) : -1;
    if (!sound)
        herr(&c, CK_PARSE_ERROR, NULL, "%s: model.weights.h5 cannot be read as HDF5: %s", c.path,
             why);
    else if (f < 0)
        herr(&c, CK_PARSE_ERROR, NULL,
             "%s: model.weights.h5 is not an HDF5 file libhdf5 can open (truncated or damaged)",
             c.path);
    else if (root)
        k3_model(&c, f, root, "", "", 0);
    if (f >= 0) H5Fclose(f);
    h5_leave(&gd);
    json_decref(root);
    free(cfg);
    free(wts);
    return finish(&c, out);
}

int ck_graph_keras_weight(const ck_graph *g, const char *layer, const char *param) {
    if (!g || !layer || !param) return -1;
    size_t ln = strlen(layer);
    for (int i = 0; i < g->n_tensors; i++) {
        const char *n = g->tensors[i].name;
        if (n && g->tensors[i].f32 && !strncmp(n, layer, ln) && n[ln] == '/' &&
            !strcmp(n + ln + 1, param))
            return i;
    }
    return -1;
}
