/* tests/oracle/networks/NAME.onnx: every network reads (most keep their weights
 * as external data that is not present), and gives PyTorch's answer at
 * every size its truth file lists: the same output shape, or the same error
 * class at the same module. ONNX node names carry the module path
 * ("/features/features.3/MaxPool" -> "features.3"; "/Concat" -> "<root>").
 * Files exported with a fixed 224x224 input are checked only there. */
#include "graph/graph.h"
#include "import/import.h"
#include "test.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* "/layer1/layer1.0/conv1/Conv" -> "layer1.0.conv1"; "/Concat" -> "<root>". */
static void module_of(const char *node, char *out, size_t n) {
    char comp[16][128];
    int nc = 0;
    const char *p = node;
    if (*p == '/') p++;
    while (*p && nc < 16) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= sizeof comp[0]) len = sizeof comp[0] - 1;
        memcpy(comp[nc], p, len);
        comp[nc][len] = 0;
        nc++;
        if (!e) break;
        p = e + 1;
    }
    /* the last component is the op (MaxPool, Conv, Concat_1) */
    out[0] = 0;
    for (int i = 0; i + 1 < nc; i++) {
        size_t ol = strlen(out), cl = strlen(comp[i]);
        bool full = ol && strncmp(comp[i], out, ol) == 0 && comp[i][ol] == '.';
        size_t at = full ? 0 : ol;
        if (!full && ol && at + 1 < n) out[at++] = '.';
        if (at + cl >= n) cl = n - at - 1;
        memcpy(out + at, comp[i], cl);
        out[at + cl] = 0;
    }
    if (!out[0]) snprintf(out, n, "<root>");
}

static bool check_record(ck_graph *g, json_t *rec, const char *net, char *why, size_t wn) {
    int64_t h = json_integer_value(json_object_get(rec, "h")),
            w = json_integer_value(json_object_get(rec, "w"));
    ck_shape s = {.rank = 4, .d = {1, 3, h, w}};
    ck_graph_set_input_shape(g, 0, &s);
    ck_diags d = {0};
    ck_status st = ck_check(g, &d);
    bool want_ok = json_is_true(json_object_get(rec, "ok"));
    bool good = false;
    const ck_diag *e = NULL;
    for (int i = 0; i < d.n && !e; i++)
        if (d.v[i].severity == CK_SEV_ERROR) e = &d.v[i];
    if (want_ok) {
        json_t *os = json_object_get(rec, "output_shape");
        if (st == CK_OK && g->n_outputs >= 1) {
            const ck_val *y = &g->vals[g->outputs[0]];
            good = (size_t)y->shape.rank == json_array_size(os);
            for (int i = 0; good && i < y->shape.rank; i++)
                good = y->shape.d[i] == json_integer_value(json_array_get(os, (size_t)i));
            char buf[128];
            ck_shape_str(&y->shape, buf, sizeof buf);
            snprintf(why, wn, "%s %lldx%lld: got %s", net, (long long)h, (long long)w, buf);
        } else {
            snprintf(why, wn, "%s %lldx%lld: want ok, got %s at %s: %s", net, (long long)h,
                     (long long)w, e ? ck_code_name(e->code) : "?", e && e->layer ? e->layer : "?",
                     e && e->message ? e->message : "");
        }
    } else {
        const char *cls = json_string_value(json_object_get(rec, "error"));
        const char *mod = json_string_value(json_object_get(rec, "failing_module"));
        char m[256] = "";
        if (e && e->layer) module_of(e->layer, m, sizeof m);
        good = e && cls && mod && !strcmp(ck_code_name(e->code), cls) && !strcmp(m, mod);
        snprintf(why, wn, "%s %lldx%lld: want %s at %s, got %s at %s (%s): %s", net, (long long)h,
                 (long long)w, cls ? cls : "?", mod ? mod : "?",
                 e ? ck_code_name(e->code) : (st == CK_OK ? "ok" : "?"), m,
                 e && e->layer ? e->layer : "", e && e->message ? e->message : "");
    }
    ck_diags_free(&d);
    return good;
}

static void run_net(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "tests/oracle/networks/%s.json", name);
    json_error_t je;
    json_t *truth = json_load_file(path, 0, &je);
    CHECK(truth != NULL, "%s: %s", path, je.text);
    if (!truth) return;
    json_t *onnx = json_object_get(truth, "onnx");
    bool dynamic = json_is_true(json_object_get(onnx, "dynamic_spatial_axes"));
    snprintf(path, sizeof path, "tests/oracle/networks/%s",
             json_string_value(json_object_get(onnx, "path")));
    ck_graph *g = NULL;
    ck_diags d = {0};
    ck_status st = ck_load_file(path, NULL, &g, &d);
    CHECK(st == CK_OK && g, "%s does not read: %s", path, d.n ? d.v[0].message : "?");
    ck_diags_free(&d);
    if (!g) {
        json_decref(truth);
        return;
    }
    CHECK(ck_graph_num_inputs(g) == 1, "%s: %d inputs", path, ck_graph_num_inputs(g));
    int pass = 0, fail = 0, shown = 0;
    const char *lists[2] = {"square", "non_square"};
    for (int l = 0; l < 2; l++) {
        json_t *recs = json_object_get(truth, lists[l]);
        size_t i;
        json_t *rec;
        json_array_foreach(recs, i, rec) {
            int64_t h = json_integer_value(json_object_get(rec, "h")),
                    w = json_integer_value(json_object_get(rec, "w"));
            if (!dynamic && (h != 224 || w != 224)) continue;
            char why[1024];
            bool ok = check_record(g, rec, name, why, sizeof why);
            if (ok)
                pass++;
            else {
                fail++;
                if (shown++ < 5) CHECK(ok, "%s", why);
            }
        }
    }
    if (fail > shown) CHECK(false, "%s: %d more failures not shown", name, fail - shown);
    t_pass += pass;
    printf("  %-14s %4d passed, %4d failed%s\n", name, pass, fail,
           dynamic ? "" : " (224x224 only)");
    ck_graph_free(g);
    json_decref(truth);
}

int main(void) {
    char m[256];
    module_of("/features/features.3/MaxPool", m, sizeof m);
    CHECK(!strcmp(m, "features.3"), "module_of: %s", m);
    module_of("/layer1/layer1.0/conv1/Conv", m, sizeof m);
    CHECK(!strcmp(m, "layer1.0.conv1"), "module_of: %s", m);
    module_of("/Concat_1", m, sizeof m);
    CHECK(!strcmp(m, "<root>"), "module_of: %s", m);
    const char *nets[] = {"chain",    "unet",         "alexnet",      "vgg11",
                          "resnet18", "mobilenet_v2", "squeezenet1_0"};
    for (size_t i = 0; i < sizeof nets / sizeof *nets; i++) run_net(nets[i]);
    return TEST_DONE("test_onnx_networks");
}
