/* Every case of tests/oracle/numerics and tests/oracle/runtime/numerics
 * (PyTorch 1.13 forward passes of single layers and small Sequentials): the
 * constructor text becomes a .cnn spec, the state_dict tensors are handed to
 * the session through the parameter callback, and the output must match
 * PyTorch's within 1e-4 * max(1, max|ref|). Prints the worst error per op. */
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tcase {
    json_t *hdr;
    float *bin;
    size_t nbin;
} tcase;

/* The tensor of the case named `name` with shape `shape`, or NULL. */
static const float *find_tensor(const tcase *c, const char *name, const ck_shape *shape) {
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(c->hdr, "tensors"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "name")), name) != 0) continue;
        json_t *sh = json_object_get(t, "shape");
        if ((int)json_array_size(sh) != shape->rank) return NULL;
        for (int k = 0; k < shape->rank; k++)
            if (json_integer_value(json_array_get(sh, (size_t)k)) != shape->d[k]) return NULL;
        size_t off = (size_t)json_integer_value(json_object_get(t, "offset_bytes")) / 4;
        return c->bin + off;
    }
    return NULL;
}

static int missing_params;

/* state_dict names: "weight" for the single layer, "1.weight" inside a
 * Sequential (layer named "1"). */
static const float *params(void *user, const char *layer, const char *param,
                           const ck_shape *shape) {
    char name[128];
    if (strcmp(layer, "layer") == 0)
        snprintf(name, sizeof name, "%s", param);
    else
        snprintf(name, sizeof name, "%s.%s", layer, param);
    const float *p = find_tensor(user, name, shape);
    if (!p) missing_params++;
    return p;
}

static bool same_shape(const ck_shape *a, const ck_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

static ck_shape json_shape(json_t *a) {
    ck_shape s = {.rank = (int)json_array_size(a)};
    for (int i = 0; i < s.rank; i++) s.d[i] = json_integer_value(json_array_get(a, (size_t)i));
    return s;
}

/* "nn.Conv2d(3, 6, kernel_size=3)  # comment" -> the call up to its ')' */
static void call_text(const char *code, char *out, size_t n) {
    int depth = 0;
    size_t k = 0;
    for (const char *p = code; *p && k + 1 < n; p++) {
        out[k++] = *p;
        if (*p == '(') depth++;
        if (*p == ')' && --depth == 0) break;
    }
    out[k] = 0;
}

#define MAXOPS 96
static struct {
    char op[32];
    double worst;
    char where[64];
} per_op[MAXOPS];

static void tally(const char *op, double err, const char *name) {
    int i = 0;
    while (i < MAXOPS && per_op[i].op[0] && strcmp(per_op[i].op, op)) i++;
    if (i == MAXOPS) return;
    if (!per_op[i].op[0] || err > per_op[i].worst) {
        snprintf(per_op[i].where, sizeof per_op[i].where, "%s", name);
        per_op[i].worst = err;
    }
    snprintf(per_op[i].op, sizeof per_op[i].op, "%s", op);
}

static void run_case(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    json_error_t je;
    tcase c = {.hdr = json_load_file(path, 0, &je)};
    CHECK(c.hdr != NULL, "%s: cannot read %s", name, path);
    if (!c.hdr) return;
    snprintf(path, sizeof path, "%s/%s", dir,
             json_string_value(json_object_get(c.hdr, "data_file")));
    FILE *f = fopen(path, "rb");
    size_t total = (size_t)json_integer_value(json_object_get(c.hdr, "total_bytes"));
    c.bin = malloc(total);
    c.nbin = f && c.bin ? fread(c.bin, 1, total, f) : 0;
    if (f) fclose(f);
    CHECK(c.nbin == total, "%s: short data file", name);
    const char *op = json_string_value(json_object_get(c.hdr, "op"));
    char call[1024], text[2048];
    call_text(json_string_value(json_object_get(c.hdr, "code")), call, sizeof call);
    json_t *tensors = json_object_get(c.hdr, "tensors");
    json_t *tin = json_array_get(tensors, 0),
           *tout = json_array_get(tensors, json_array_size(tensors) - 1);
    ck_shape xs = json_shape(json_object_get(tin, "shape"));
    ck_shape ys = json_shape(json_object_get(tout, "shape"));
    char xsb[160];
    ck_shape_str(&xs, xsb, sizeof xsb);
    int k = snprintf(text, sizeof text, "input: %s\n", xsb);
    if (strncmp(call, "nn.Sequential(", 14) == 0) {
        snprintf(text + k, sizeof text - (size_t)k, "%s\n", call);
    } else {
        k += snprintf(text + k, sizeof text - (size_t)k, "layer = %s", call);
        json_t *fk = json_object_get(c.hdr, "forward_kwargs");
        if (fk && json_object_size(fk)) {
            k += snprintf(text + k, sizeof text - (size_t)k, "(input");
            const char *key;
            json_t *v;
            json_object_foreach(fk, key, v) {
                char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                k += snprintf(text + k, sizeof text - (size_t)k, ", %s=%s", key, s ? s : "");
                free(s);
            }
            k += snprintf(text + k, sizeof text - (size_t)k, ")");
        }
        snprintf(text + k, sizeof text - (size_t)k, "\n");
    }
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_parse_cnn(text, strlen(text), name, NULL, &g, &d);
    if (st == CK_OK) st = ck_check(g, &d);
    CHECK(st == CK_OK, "%s: the spec does not check: %s", name, d.n ? d.v[d.n - 1].message : text);
    ck_session *s = NULL;
    missing_params = 0;
    ck_session_options opt = {.params = params, .params_user = &c};
    if (st == CK_OK) {
        st = ck_session_new(g, &opt, &s, &d);
        CHECK(st == CK_OK, "%s: session: %s", name, d.n ? d.v[d.n - 1].message : "?");
    }
    size_t nparams = json_array_size(tensors) - 2;
    CHECK(missing_params == 0, "%s: %d parameters not found by name and shape", name,
          missing_params);
    (void)nparams;
    if (s) {
        ck_shape so = ck_session_output_shape(s, 0);
        CHECK(same_shape(&so, &ys), "%s: output shape differs", name);
        int64_t n = 1;
        for (int i = 0; i < ys.rank; i++) n *= ys.d[i];
        float *y = calloc((size_t)n, sizeof *y);
        const float *ref = c.bin + json_integer_value(json_object_get(tout, "offset_bytes")) / 4;
        const float *x = c.bin + json_integer_value(json_object_get(tin, "offset_bytes")) / 4;
        ck_session_ctx *ctx = NULL;
        CHECK(ck_session_ctx_new(s, &ctx) == CK_OK, "%s: ctx", name);
        const float *ins[1] = {x};
        float *outs[1] = {y};
        CHECK(ck_session_run(s, ctx, ins, outs) == CK_OK, "%s: run", name);
        double worst = 0, scale = 1;
        for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(ref[i]));
        for (int64_t i = 0; i < n; i++) {
            double e = fabs((double)y[i] - ref[i]);
            if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
        }
        CHECK(worst <= 1e-4 * scale, "%s: max abs error %g > %g", name, worst, 1e-4 * scale);
        tally(op, worst / scale, name);
        ck_session_ctx_free(ctx);
        free(y);
    }
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
    free(c.bin);
    json_decref(c.hdr);
}

static int run_dir(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/index.json", dir);
    json_error_t je;
    json_t *idx = json_load_file(path, 0, &je);
    CHECK(idx != NULL, "cannot read %s", path);
    size_t i;
    json_t *c;
    int cases = 0;
    json_array_foreach(json_object_get(idx, "cases"), i, c) {
        run_case(dir, json_string_value(json_object_get(c, "name")));
        cases++;
    }
    json_decref(idx);
    return cases;
}

int main(void) {
    int n = run_dir("tests/oracle/numerics");
    CHECK(n == 43, "expected 43 numerics cases, found %d", n);
    n = run_dir("tests/oracle/runtime/numerics");
    CHECK(n >= 60, "expected the runtime numerics cases, found %d", n);
    printf("worst error per op (max abs error / max(1, max|ref|)):\n");
    for (int k = 0; k < MAXOPS && per_op[k].op[0]; k++)
        printf("  %-20s %.3g  (%s)\n", per_op[k].op, per_op[k].worst, per_op[k].where);
    return TEST_DONE("runtime_numerics");
}
