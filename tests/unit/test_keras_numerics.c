/* A Keras file's weights reach the runtime as the C API hands weights in:
 * tests/keras/numerics/num.h5 (weights set with python3-h5py by
 * tests/keras/gen_numerics.py: Conv2D, BatchNormalization,
 * DepthwiseConv2D, SeparableConv2D, MaxPooling2D, Conv2DTranspose, Conv2D
 * with a stride, Flatten, Dense) runs to the same output as num.cnn, the
 * same architecture written as .cnn, whose session receives those weights
 * (num.weights/<layer>.<param>.npy) through ck_session_options.params.
 * Compared with the reference kernels and with the fastest the CPU has, at
 * 1 and 3 threads, within the fast kernels' bar: max |a - b| <= 1e-5 *
 * max |b|. (tests/cli/keras_numerics.sh compares the same file with
 * PyTorch.) */
#include "convkit.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIR "tests/keras/numerics"

typedef struct wts {
    int calls, missing, wrong_shape;
    ck_tensor_f32 *held[64];
    int n;
} wts;

static const float *give(void *user, const char *layer, const char *param, const ck_shape *shape) {
    wts *w = user;
    w->calls++;
    char path[512];
    snprintf(path, sizeof path, DIR "/num.weights/%s.%s.npy", layer, param);
    ck_tensor_f32 *t = NULL;
    if (ck_npy_read(path, &t, NULL) != CK_OK || w->n >= 64) {
        w->missing++;
        fprintf(stderr, "no weights for %s/%s\n", layer, param);
        ck_tensor_f32_free(t);
        return NULL;
    }
    bool same = t->shape.rank == shape->rank;
    for (int i = 0; same && i < shape->rank; i++) same = t->shape.d[i] == shape->d[i];
    if (!same) {
        w->wrong_shape++;
        char a[64], b[64];
        fprintf(stderr, "%s/%s: file %s, session asks %s\n", layer, param,
                ck_shape_str(&t->shape, a, sizeof a), ck_shape_str(shape, b, sizeof b));
        ck_tensor_f32_free(t);
        return NULL;
    }
    w->held[w->n++] = t;
    return t->data;
}

/* Runs g on x with the given kernels and threads; the output (owned). */
static ck_tensor_f32 *run(ck_graph *g, const ck_tensor_f32 *x, ck_kernels k, int threads, wts *w) {
    ck_session_options o = {.kernels = k, .threads = threads};
    if (w) o.params = give, o.params_user = w;
    ck_session *s = NULL;
    ck_diags d = {0};
    ck_status st = ck_session_new(g, &o, &s, &d);
    CHECK(st == CK_OK, "session: %s", d.n ? d.v[0].message : "?");
    ck_diags_free(&d);
    if (!s) return NULL;
    ck_shape os = ck_session_output_shape(s, 0);
    ck_tensor_f32 *y = NULL;
    ck_session_ctx *ctx = NULL;
    if (ck_tensor_f32_new(&os, &y) == CK_OK && ck_session_ctx_new(s, &ctx) == CK_OK) {
        const float *in[1] = {x->data};
        float *out[1] = {y->data};
        CHECK(ck_session_run(s, ctx, in, out) == CK_OK, "run");
    }
    ck_session_ctx_free(ctx);
    ck_session_free(s);
    return y;
}

static ck_graph *load(const char *path) {
    ck_graph *g = NULL;
    ck_diags d = {0};
    CHECK(ck_load_file(path, NULL, &g, &d) == CK_OK && g, "%s: %s", path,
          d.n ? d.v[0].message : "?");
    ck_diags_free(&d);
    if (g) {
        CHECK(ck_check(g, &d) == CK_OK, "%s does not check", path);
        ck_diags_free(&d);
    }
    return g;
}

int main(void) {
    ck_graph *h5 = load(DIR "/num.h5"), *cnn = load(DIR "/num.cnn");
    ck_tensor_f32 *x = NULL;
    CHECK(ck_npy_read(DIR "/num.x.npy", &x, NULL) == CK_OK, "num.x.npy");
    if (!h5 || !cnn || !x) return TEST_DONE("keras_numerics");
    static const ck_kernels ks[] = {CK_KERNELS_REF, CK_KERNELS_AUTO};
    static const char *const kn[] = {"reference kernels", "fastest kernels"};
    for (int ki = 0; ki < 2; ki++)
        for (int threads = 1; threads <= 3; threads += 2) {
            wts w = {0};
            ck_tensor_f32 *a = run(h5, x, ks[ki], threads, NULL);
            ck_tensor_f32 *b = run(cnn, x, ks[ki], threads, &w);
            CHECK(w.missing == 0 && w.wrong_shape == 0 && w.calls == 17,
                  "%s: the callback gave %d of %d arrays (17 expected)", kn[ki],
                  w.calls - w.missing - w.wrong_shape, w.calls);
            if (a && b) {
                int64_t n = ck_tensor_f32_numel(a);
                CHECK(n == ck_tensor_f32_numel(b) && n == 5, "output sizes %lld, %lld",
                      (long long)n, (long long)ck_tensor_f32_numel(b));
                double err = 0, mx = 0;
                for (int64_t i = 0; i < n; i++) {
                    err = fmax(err, fabs((double)a->data[i] - b->data[i]));
                    mx = fmax(mx, fabs((double)b->data[i]));
                }
                printf("%s, %d thread%s: max |h5 - cnn+params| = %g (max |y| %g)\n", kn[ki],
                       threads, threads > 1 ? "s" : "", err, mx);
                CHECK(mx > 1 && err <= 1e-5 * mx, "%s, %d threads: error %g, scale %g", kn[ki],
                      threads, err, mx);
            }
            ck_tensor_f32_free(a);
            ck_tensor_f32_free(b);
            for (int i = 0; i < w.n; i++) ck_tensor_f32_free(w.held[i]);
        }
    ck_tensor_f32_free(x);
    ck_graph_free(h5);
    ck_graph_free(cnn);
    return TEST_DONE("keras_numerics");
}
