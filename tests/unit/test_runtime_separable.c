/* Keras SeparableConv2D through the runtime against a direct computation
 * of its definition: a depthwise convolution (depth multiplier M; output
 * channel c * M + m) followed by a 1x1 convolution and the bias, with
 * 'same' and 'valid' padding, strides, channels first and last. The
 * weights come through the parameter callback in Keras's own layouts
 * (depthwise_kernel [kh, kw, C, M], pointwise_kernel [1, 1, C*M, O]). */
#include "convkit.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { C = 5, M = 2, O = 7, H = 9, W = 8, K = 3 };

static float dw[K * K * C * M], pw[C * M * O], bias[O];

static const float *params(void *user, const char *layer, const char *param,
                           const ck_shape *shape) {
    (void)user, (void)layer, (void)shape;
    if (!strcmp(param, "depthwise_kernel")) return dw;
    if (!strcmp(param, "pointwise_kernel")) return pw;
    if (!strcmp(param, "bias")) return bias;
    return NULL;
}

/* x as [H][W][C] (whatever the layout the model reads) */
static float xin[H * W * C];

static void expected(int stride, bool same, int oh, int ow, float *y /* [oh][ow][O] */) {
    int pt = 0, pl = 0;
    if (same) { /* TensorFlow's 'same': total pad max((o-1)*s + k - in, 0), the extra at the end */
        int th = (oh - 1) * stride + K - H, tw = (ow - 1) * stride + K - W;
        pt = th > 0 ? th / 2 : 0;
        pl = tw > 0 ? tw / 2 : 0;
    }
    for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++) {
            double mid[C * M];
            for (int c = 0; c < C; c++)
                for (int m = 0; m < M; m++) {
                    double acc = 0;
                    for (int a = 0; a < K; a++)
                        for (int b = 0; b < K; b++) {
                            int ih = i * stride - pt + a, iw = j * stride - pl + b;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                            acc += (double)xin[(ih * W + iw) * C + c] *
                                   dw[((a * K + b) * C + c) * M + m];
                        }
                    mid[c * M + m] = acc;
                }
            for (int o = 0; o < O; o++) {
                double acc = bias[o];
                for (int q = 0; q < C * M; q++) acc += mid[q] * pw[q * O + o];
                y[(i * ow + j) * O + o] = (float)acc;
            }
        }
}

static void one(bool first, int stride, bool same) {
    char text[256];
    if (first)
        snprintf(text, sizeof text,
                 "input: [1, %d, %d, %d]\ns = SeparableConv2D(%d, %d, strides=%d, padding='%s', "
                 "depth_multiplier=%d, data_format='channels_first')\n",
                 C, H, W, O, K, stride, same ? "same" : "valid", M);
    else
        snprintf(text, sizeof text,
                 "input: [1, %d, %d, %d]\ns = SeparableConv2D(%d, %d, strides=%d, padding='%s', "
                 "depth_multiplier=%d)\n",
                 H, W, C, O, K, stride, same ? "same" : "valid", M);
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_parse_cnn(text, strlen(text), "sep.cnn", NULL, &g, &d);
    if (st == CK_OK) st = ck_check(g, &d);
    CHECK(st == CK_OK, "%s: %s", text, d.n ? d.v[0].message : "");
    ck_session *s = NULL;
    ck_session_options opt = {.params = params, .threads = 2};
    if (st == CK_OK) st = ck_session_new(g, &opt, &s, &d);
    CHECK(st == CK_OK, "session: %s", d.n ? d.v[d.n - 1].message : "");
    if (st == CK_OK) {
        ck_shape ys = ck_session_output_shape(s, 0);
        int oh = (int)(first ? ys.d[2] : ys.d[1]), ow = (int)(first ? ys.d[3] : ys.d[2]);
        float x[H * W * C], y[H * W * O], want[H * W * O];
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                for (int c = 0; c < C; c++)
                    x[first ? (c * H + i) * W + j : (i * W + j) * C + c] = xin[(i * W + j) * C + c];
        ck_session_ctx *cx = NULL;
        CHECK(ck_session_ctx_new(s, &cx) == CK_OK, "ctx");
        const float *in[1] = {x};
        float *out[1] = {y};
        CHECK(cx && ck_session_run(s, cx, in, out) == CK_OK, "run");
        expected(stride, same, oh, ow, want);
        double err = 0, mx = 1;
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (int o = 0; o < O; o++) {
                    float got = y[first ? (o * oh + i) * ow + j : (i * ow + j) * O + o];
                    float w = want[(i * ow + j) * O + o];
                    if (fabs((double)got - w) > err) err = fabs((double)got - w);
                    if (fabs(w) > mx) mx = fabs(w);
                }
        CHECK(err <= 1e-5 * mx, "%s: max error %g", text, err);
        printf("  %-14s stride %d %-5s %dx%d  max error %.3g\n",
               first ? "channels_first" : "channels_last", stride, same ? "same" : "valid", oh, ow,
               err);
        ck_session_ctx_free(cx);
    }
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
}

int main(void) {
    for (int i = 0; i < K * K * C * M; i++) dw[i] = (float)((i * 37) % 23) / 23.0f - 0.5f;
    for (int i = 0; i < C * M * O; i++) pw[i] = (float)((i * 53) % 29) / 29.0f - 0.5f;
    for (int i = 0; i < O; i++) bias[i] = 0.1f * (float)i - 0.3f;
    for (int i = 0; i < H * W * C; i++) xin[i] = (float)((i * 71) % 31) / 31.0f - 0.5f;
    for (int first = 0; first < 2; first++)
        for (int stride = 1; stride <= 2; stride++)
            for (int same = 0; same < 2; same++) one(first, stride, same);
    return TEST_DONE("runtime_separable");
}
