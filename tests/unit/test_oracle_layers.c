/* Every PyTorch row of tests/oracle/layers.jsonl: the layer's constructor
 * text becomes a .cnn spec; the checked output shape, or the first error's
 * class, must equal what PyTorch 1.13 did. */
#include "convkit.h"
#include "test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAXOPS 32

static struct {
    char op[32];
    int pass, total;
} per_op[MAXOPS];

static void tally(const char *op, bool ok) {
    int i = 0;
    while (i < MAXOPS && per_op[i].op[0] && strcmp(per_op[i].op, op)) i++;
    if (i == MAXOPS) return;
    snprintf(per_op[i].op, sizeof per_op[i].op, "%s", op);
    per_op[i].total++;
    per_op[i].pass += ok;
}

static void append_value(char *buf, size_t n, json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    strncat(buf, s ? s : "null", n - strlen(buf) - 1);
    free(s);
}

int main(void) {
    FILE *f = fopen("tests/oracle/layers.jsonl", "r");
    CHECK(f != NULL, "cannot open tests/oracle/layers.jsonl");
    if (!f) return TEST_DONE("oracle_layers");
    char line[65536];
    int shown = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *r = json_loads(line, 0, &je);
        if (!r) continue;
        const char *fw = json_string_value(json_object_get(r, "framework"));
        if (!fw || strcmp(fw, "pytorch") != 0) {
            json_decref(r);
            continue;
        }
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *op = json_string_value(json_object_get(r, "op"));
        const char *code = json_string_value(json_object_get(r, "code"));
        json_t *in = json_object_get(r, "input_shape");
        char text[8192] = "input: ";
        append_value(text, sizeof text, in);
        strncat(text, "\n", sizeof text - strlen(text) - 1);
        if (strncmp(code, "nn.Sequential(", 14) == 0) {
            strncat(text, code, sizeof text - strlen(text) - 1);
        } else {
            strncat(text, "layer = ", sizeof text - strlen(text) - 1);
            strncat(text, code, sizeof text - strlen(text) - 1);
            json_t *fk = json_object_get(r, "forward_kwargs");
            if (fk && json_object_size(fk)) {
                strncat(text, "(input", sizeof text - strlen(text) - 1);
                const char *k;
                json_t *v;
                json_object_foreach(fk, k, v) {
                    strncat(text, ", ", sizeof text - strlen(text) - 1);
                    strncat(text, k, sizeof text - strlen(text) - 1);
                    strncat(text, "=", sizeof text - strlen(text) - 1);
                    append_value(text, sizeof text, v);
                }
                strncat(text, ")", sizeof text - strlen(text) - 1);
            }
        }
        strncat(text, "\n", sizeof text - strlen(text) - 1);

        ck_graph *g = NULL;
        ck_diags d = {0};
        ck_status st = ck_parse_cnn(text, strlen(text), id, NULL, &g, &d);
        char got[256] = "";
        if (st == CK_OK) {
            st = ck_check(g, &d);
            if (st == CK_OK) {
                ck_layer_info li = ck_graph_layer(g, ck_graph_num_layers(g) - 1);
                ck_shape_str(&li.output, got, sizeof got);
            }
        }
        if (!got[0]) {
            for (int i = 0; i < d.n; i++)
                if (d.v[i].severity == CK_SEV_ERROR) {
                    snprintf(got, sizeof got, "%s: %s", ck_code_name(d.v[i].code), d.v[i].message);
                    break;
                }
            if (!got[0]) snprintf(got, sizeof got, "status %d", (int)st);
        }
        char want[256] = "";
        json_t *os = json_object_get(r, "output_shape");
        if (os) {
            want[0] = 0;
            char *s = json_dumps(os, JSON_COMPACT);
            /* "[1,3]" -> "[1, 3]" to match ck_shape_str */
            size_t o = 0;
            for (const char *p = s; *p && o < sizeof want - 2; p++) {
                want[o++] = *p;
                if (*p == ',') want[o++] = ' ';
            }
            want[o] = 0;
            free(s);
        } else {
            snprintf(want, sizeof want, "%s", json_string_value(json_object_get(r, "error")));
        }
        bool ok = os ? strcmp(got, want) == 0
                     : strncmp(got, want, strlen(want)) == 0 && got[strlen(want)] == ':';
        tally(op, ok);
        if (ok || shown < 400) {
            char *ins = ok ? NULL : json_dumps(in, JSON_COMPACT);
            CHECK(ok, "%s %s on %s: want %s, got %s", id, code, ins ? ins : "?", want, got);
            free(ins);
        } else {
            t_fail++; /* counted; the first 400 are printed */
        }
        if (!ok) shown++;
        ck_diags_free(&d);
        ck_graph_free(g);
        json_decref(r);
    }
    fclose(f);
    for (int i = 0; i < MAXOPS && per_op[i].op[0]; i++)
        printf("  %-20s %4d / %4d\n", per_op[i].op, per_op[i].pass, per_op[i].total);
    return TEST_DONE("oracle_layers");
}
