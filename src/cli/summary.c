/* convkit summary: a torchinfo-style table of layers, shapes, parameters,
 * MACs, receptive fields and memory; also as JSON, Markdown and an SVG
 * picture. */
#include "cli/cli.h"

#include <string.h>

static const char usage[] =
    "usage: convkit summary MODEL [--input SHAPE] [--format table|json|md|svg] [--json]\n"
    "\n"
    "One row per layer: name (type), output shape, parameters, multiply-accumulates\n"
    "(MACs) and other operations (comparisons, additions, activations), then totals\n"
    "and memory in MB (float32). Transposed convolutions are counted on their input\n"
    "grid; grouped and depthwise convolutions per group.\n"
    "\n"
    "Receptive field, Jump, Start: the input pixels one output pixel sees, the\n"
    "input pixels between neighbouring output pixels, and the input coordinate\n"
    "output pixel 0 is centred on (Araujo et al., Distill 2019); one value, or\n"
    "height x width where they differ. 'global': the whole input (global pooling,\n"
    "flatten). At a join the paths that meet are listed; paths with a different\n"
    "jump or start are 'not aligned'.\n"
    "--format svg draws the network as the data flows through it.\n"
    "exit status: 0 valid, 1 invalid model, 2 bad usage or unreadable file\n";

int cmd_summary(int argc, char **argv) {
    cli_opts o;
    int rc = cli_parse(argc, argv, &o, NULL, NULL, NULL, usage);
    if (rc) return rc < 0 ? 0 : rc;
    static const struct {
        const char *name;
        ck_format fmt;
    } formats[] = {{"table", CK_FORMAT_TEXT},
                   {"json", CK_FORMAT_JSON},
                   {"md", CK_FORMAT_MD},
                   {"svg", CK_FORMAT_SVG}};
    const char *f = o.format ? o.format : (o.json ? "json" : "table");
    int k = 0;
    while (k < 4 && strcmp(f, formats[k].name)) k++;
    if (k == 4) {
        fprintf(stderr, "convkit: --format must be table, json, md or svg (got '%s')\n", f);
        return EXIT_USAGE;
    }
    ck_format fmt = formats[k].fmt;
    if (fmt == CK_FORMAT_JSON) o.json = true;
    ck_diags d = {0};
    int code;
    ck_status st;
    ck_graph *g = cli_load_checked(&o, &d, &st, &code);
    ck_diags_free(&d);
    if (!g) return code;
    ck_report_options ro = {.model = o.model, .color = cli_color(stdout)};
    char *text = NULL;
    st = ck_report(g, CK_REPORT_SUMMARY, fmt, &ro, &text);
    ck_graph_free(g);
    return cli_print_report(st, text, fmt);
}
