/* Every ONNX row of tests/oracle/layers.jsonl, built as a one-node ONNX
 * model in memory, serialised, read back with ck_load_onnx and checked.
 * Truth: `spec_result` where present (onnx 1.12 defects, see the oracle
 * README), else the row's output_shape or error class. Rows marked
 * `onnx_partial_shape` (ConvTranspose with output_shape; onnx 1.12 drops
 * dims) follow the specification: the spatial output is output_shape. */
#include "graph/graph.h"
#include "import/import.h"
#include "test_onnx_util.h"
#include "test.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define NOPS 4
static const char *const op_names[NOPS] = {"Conv", "ConvTranspose", "MaxPool", "AveragePool"};
static int op_pass[NOPS], op_fail[NOPS];

static int op_index(const char *op) {
    for (int i = 0; i < NOPS; i++)
        if (!strcmp(op_names[i], op)) return i;
    return -1;
}

static int json_dims(json_t *arr, int64_t *out, int max) {
    int n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (n < max) out[n] = json_integer_value(v);
        n++;
    }
    return n;
}

static void shape_text(char *buf, size_t n, const int64_t *d, int rank) {
    size_t off = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? ", " : "", (long long)d[i]);
    if (off < n) snprintf(buf + off, n - off, "]");
}

/* The spec answer for a ConvTranspose row with output_shape. */
static void partial_expect(json_t *row, int64_t *exp, int *rank) {
    json_t *at = json_object_get(row, "attributes");
    int64_t in[8], w[8], os[8];
    int ri = json_dims(json_object_get(row, "input_shape"), in, 8);
    json_dims(json_object_get(row, "weight_shape"), w, 8);
    int no = json_dims(json_object_get(at, "output_shape"), os, 8);
    json_t *g = json_object_get(at, "group");
    int64_t group = g ? json_integer_value(g) : 1;
    exp[0] = in[0];
    exp[1] = w[1] * group;
    for (int i = 0; i < no; i++) exp[2 + i] = os[i];
    *rank = ri;
}

static int run_row(json_t *row, int idx) {
    const char *op = json_string_value(json_object_get(row, "op"));
    const char *id = json_string_value(json_object_get(row, "id"));
    json_t *at = json_object_get(row, "attributes");
    int64_t in[8], w[8];
    int ri = json_dims(json_object_get(row, "input_shape"), in, 8);
    json_t *ws = json_object_get(row, "weight_shape");
    int rw = ws ? json_dims(ws, w, 8) : 0;

    /* expected */
    const char *exp_err = NULL;
    int64_t exp[8];
    int re = 0;
    json_t *spec = json_object_get(row, "spec_result");
    json_t *src = spec ? spec : row;
    if (json_object_get(src, "error"))
        exp_err = json_string_value(json_object_get(src, "error"));
    else if (!spec && json_object_get(row, "onnx_partial_shape"))
        partial_expect(row, exp, &re);
    else
        re = json_dims(json_object_get(src, "output_shape"), exp, 8);

    /* the model: X -> op(W, B) -> Y. Vary the encodings across rows. */
    tb *b = tb_new(json_integer_value(json_object_get(row, "opset"))
                       ? json_integer_value(json_object_get(row, "opset"))
                       : 13);
    tb_input(b, "X", ri, in);
    Onnx__NodeProto *n;
    if (rw) {
        float *data = NULL;
        int64_t cnt = 1;
        for (int i = 0; i < rw; i++) cnt *= w[i];
        if (idx % 5 == 0 && cnt < 100000)
            data = calloc((size_t)cnt, sizeof *data); /* float_data present */
        Onnx__TensorProto *t = tb_init(b, "W", rw, w, data);
        free(data);
        if (idx % 7 == 0 && !t->n_float_data) { /* raw_data of zeros */
            t->has_raw_data = 1;
            t->raw_data.len = (size_t)cnt * 4;
            t->raw_data.data = tb_alloc(b, t->raw_data.len);
        }
        if (idx % 3 == 0) tb_input(b, "W", rw, w); /* old exporters list weights as inputs */
        n = tb_node(b, op, id, TB_L("X", "W"), TB_L("Y"));
    } else {
        n = tb_node(b, op, id, TB_L("X"), TB_L("Y"));
    }
    tb_output(b, "Y");
    const char *key;
    json_t *v;
    json_object_foreach(at, key, v) {
        if (json_is_integer(v))
            tb_attr_int(b, n, key, json_integer_value(v));
        else if (json_is_string(v))
            tb_attr_str(b, n, key, json_string_value(v));
        else if (json_is_array(v)) {
            int64_t vals[16];
            int cnt = json_dims(v, vals, 16);
            tb_attr_ints(b, n, key, cnt, vals);
        }
    }
    size_t len;
    uint8_t *bytes = tb_pack(b, &len);
    tb_free(b);

    ck_graph *g = NULL;
    ck_diags d = {0};
    char got[256] = "", want[256] = "";
    bool ok = false;
    ck_status st = ck_load_onnx(bytes, len, id, NULL, &g, &d);
    free(bytes);
    if (st != CK_OK) {
        snprintf(got, sizeof got, "load failed: %s", d.n ? d.v[0].message : "?");
    } else {
        ck_diags cd = {0};
        ck_status cs = ck_check(g, &cd);
        const ck_diag *e = NULL;
        for (int i = 0; i < cd.n && !e; i++)
            if (cd.v[i].severity == CK_SEV_ERROR) e = &cd.v[i];
        if (cs == CK_OK && g->n_outputs == 1) {
            const ck_val *y = &g->vals[g->outputs[0]];
            shape_text(got, sizeof got, y->shape.d, y->shape.rank);
            if (!exp_err && y->shape.rank == re) {
                ok = true;
                for (int i = 0; i < re; i++) ok &= y->shape.d[i] == exp[i];
            }
        } else if (e) {
            snprintf(got, sizeof got, "%s: %s", ck_code_name(e->code),
                     e->message ? e->message : "");
            ok = exp_err && !strcmp(ck_code_name(e->code), exp_err);
        } else {
            snprintf(got, sizeof got, "status %d without an error diagnostic", (int)cs);
        }
        ck_diags_free(&cd);
    }
    if (exp_err)
        snprintf(want, sizeof want, "%s", exp_err);
    else
        shape_text(want, sizeof want, exp, re);
    CHECK(ok, "%s %s: want %s, got %s", id, op, want, got);
    if (!ok) {
        char *a = json_dumps(at, JSON_COMPACT);
        char ins[128];
        shape_text(ins, sizeof ins, in, ri);
        fprintf(stderr, "    %s attrs %s input %s\n", id, a ? a : "", ins);
        free(a);
    }
    ck_graph_free(g);
    ck_diags_free(&d);
    return ok;
}

int main(void) {
    FILE *f = fopen("tests/oracle/layers.jsonl", "r");
    CHECK(f != NULL, "cannot open tests/oracle/layers.jsonl (run from the repository root)");
    if (!f) return TEST_DONE("test_onnx_layers");
    char *line = NULL;
    size_t cap = 0;
    int idx = 0;
    while (getline(&line, &cap, f) > 0) {
        json_error_t je;
        json_t *row = json_loads(line, 0, &je);
        if (!row) continue;
        const char *fw = json_string_value(json_object_get(row, "framework"));
        if (fw && !strcmp(fw, "onnx")) {
            const char *op = json_string_value(json_object_get(row, "op"));
            int k = op ? op_index(op) : -1;
            int ok = run_row(row, idx++);
            if (k >= 0) {
                if (ok)
                    op_pass[k]++;
                else
                    op_fail[k]++;
            }
        }
        json_decref(row);
    }
    free(line);
    fclose(f);
    for (int k = 0; k < NOPS; k++)
        printf("  %-14s %4d passed, %4d failed\n", op_names[k], op_pass[k], op_fail[k]);
    CHECK(idx == 890, "expected 890 ONNX rows, read %d", idx);
    return TEST_DONE("test_onnx_layers");
}
