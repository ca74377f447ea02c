/* ONNX exports of small PyTorch modules (tests/oracle/runtime/onnx, written
 * by gen_runtime.py): the ONNX-only ops (Resize, Pad, Slice, Gather, Split,
 * Reduce*, Transpose, MatMul, Gemm, Clip, constants) through the importer
 * and the runtime, against PyTorch's output. */
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void run_case(const char *name) {
    char path[512];
    ck_diags d = {0};
    ck_tensor_f32 *x = NULL, *ref = NULL;
    snprintf(path, sizeof path, "tests/oracle/runtime/onnx/%s.input.npy", name);
    CHECK(ck_npy_read(path, &x, &d) == CK_OK, "%s: input", name);
    snprintf(path, sizeof path, "tests/oracle/runtime/onnx/%s.output.npy", name);
    CHECK(ck_npy_read(path, &ref, &d) == CK_OK, "%s: output", name);
    snprintf(path, sizeof path, "tests/oracle/runtime/onnx/%s.onnx", name);
    ck_graph *g = NULL;
    ck_session *s = NULL;
    ck_status st = ck_load_file(path, NULL, &g, &d);
    if (st == CK_OK) st = ck_check(g, &d);
    CHECK(st == CK_OK, "%s: does not check: %s", name, d.n ? d.v[d.n - 1].message : "");
    if (st == CK_OK) {
        st = ck_session_new(g, NULL, &s, &d);
        CHECK(st == CK_OK, "%s: session: %s", name, d.n ? d.v[d.n - 1].message : "");
    }
    if (s && x && ref) {
        ck_shape os = ck_session_output_shape(s, 0);
        ck_tensor_f32 *y = NULL;
        ck_tensor_f32_new(&os, &y);
        ck_session_ctx *c = NULL;
        ck_session_ctx_new(s, &c);
        const float *ins[1] = {x->data};
        float *outs[1] = {y->data};
        CHECK(ck_session_run(s, c, ins, outs) == CK_OK, "%s: run", name);
        int64_t n = ck_tensor_f32_numel(y);
        CHECK(n == ck_tensor_f32_numel(ref), "%s: output size %lld, PyTorch %lld", name,
              (long long)n, (long long)ck_tensor_f32_numel(ref));
        double worst = 0, scale = 1;
        for (int64_t i = 0; i < n && n == ck_tensor_f32_numel(ref); i++) {
            scale = fmax(scale, fabs(ref->data[i]));
            double e = fabs((double)y->data[i] - ref->data[i]);
            if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
        }
        CHECK(worst <= 1e-4 * scale, "%s: max abs error %g", name, worst);
        printf("  %-22s %.3g\n", name, worst / scale);
        ck_session_ctx_free(c);
        ck_tensor_f32_free(y);
    }
    ck_session_free(s);
    ck_graph_free(g);
    ck_tensor_f32_free(x);
    ck_tensor_f32_free(ref);
    ck_diags_free(&d);
}

int main(void) {
    json_error_t je;
    json_t *idx = json_load_file("tests/oracle/runtime/onnx/index.json", 0, &je);
    CHECK(idx != NULL, "cannot read tests/oracle/runtime/onnx/index.json");
    size_t i;
    json_t *c;
    printf("worst error per ONNX case (max abs error / max(1, max|ref|)):\n");
    json_array_foreach(json_object_get(idx, "cases"), i, c) run_case(json_string_value(c));
    CHECK(json_array_size(json_object_get(idx, "cases")) >= 20, "too few ONNX cases");
    json_decref(idx);
    return TEST_DONE("runtime_onnx");
}
