/* convkit check: shapes through every layer, each failure explained. */
#include "cli/cli.h"

#include <string.h>

static const char usage[] =
    "usage: convkit check MODEL [--input SHAPE] [--json]\n"
    "\n"
    "Propagates shapes through every layer and reports each failing layer:\n"
    "which axis, the formula with the numbers, and how the axis shrank.\n"
    "\n"
    "  --input SHAPE   input shape, 1x3x224x224 or [1,3,224,224]; NAME=SHAPE for\n"
    "                  a named input; repeat for several inputs\n"
    "  --json          print one JSON object (model, dialect, input, ok, layers, diagnostics)\n"
    "  --as FRAMEWORK  also check under pytorch, keras or onnx rules and list every layer\n"
    "                  whose output differs (ceil_mode pooling, 'same' with a stride, ...)\n"
    "  --max-nodes N   refuse models with more than N layers (default 100000); also\n"
    "                  --max-file-bytes, --max-depth, --max-string, --max-elements,\n"
    "                  --max-sizes (see README, Limits)\n"
    "exit status: 0 valid, 1 invalid model, 2 bad usage or unreadable file\n";

static bool extra(const char *opt, const char *val, void *ctx) {
    if (strcmp(opt, "--as") != 0) return false;
    *(const char **)ctx = val;
    return true;
}

static bool parse_dialect(const char *s, ck_dialect *d) {
    if (!strcmp(s, "pytorch") || !strcmp(s, "torch"))
        *d = CK_DIALECT_PYTORCH;
    else if (!strcmp(s, "keras") || !strcmp(s, "tensorflow") || !strcmp(s, "tf"))
        *d = CK_DIALECT_KERAS;
    else if (!strcmp(s, "onnx"))
        *d = CK_DIALECT_ONNX;
    else
        return false;
    return true;
}

int cmd_check(int argc, char **argv) {
    cli_opts o;
    const char *as = NULL;
    static const char *const takes[] = {"--as", NULL};
    int rc = cli_parse(argc, argv, &o, takes, extra, &as, usage);
    if (rc) return rc < 0 ? 0 : rc;
    ck_dialect as_d = CK_DIALECT_NONE;
    if (as && !parse_dialect(as, &as_d)) {
        if (o.json)
            cli_usage_json("--as must be pytorch, keras or onnx");
        else
            fprintf(stderr, "convkit: --as must be pytorch, keras or onnx (got '%s')\n", as);
        return EXIT_USAGE;
    }
    ck_diags d = {0};
    int code;
    ck_status st;
    ck_graph *g = cli_load_checked(&o, &d, &st, &code);
    ck_diags_free(&d);
    if (!g) return code;
    ck_format fmt = o.json ? CK_FORMAT_JSON : CK_FORMAT_TEXT;
    ck_report_options ro = {.model = o.model, .as = as_d, .color = cli_color(stdout)};
    char *text = NULL;
    st = ck_report(g, CK_REPORT_CHECK, fmt, &ro, &text);
    ck_graph_free(g);
    return cli_print_report(st, text, fmt);
}
