/* convkit sizes: which input sizes every layer accepts. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: convkit sizes MODEL [--input SHAPE] [--range A:B] [--json]\n"
    "\n"
    "Checks every input size in the range with the static shape pass and reports\n"
    "the smallest valid input (per spatial axis and square), every valid size,\n"
    "the clean sizes (no layer drops pixels to floor()), which layer rejects the\n"
    "others, and the output size as a function of the input size.\n"
    "\n"
    "  --input SHAPE   the input (batch and channels are held; spatial axes vary)\n"
    "  --range A:B     sizes to scan, default 1:1024\n"
    "  --json          one JSON object: range, min_square, valid_square, clean_square,\n"
    "                  axes (name, min, next, valid, clean, output), failures\n"
    "exit status: 0 some size is valid, 1 none in the range, 2 bad usage or unreadable file\n";

typedef struct sizes_opts {
    int64_t lo, hi;
    bool bad_range;
} sizes_opts;

static bool parse_range(const char *v, sizes_opts *so) {
    char *end;
    long long a = strtoll(v, &end, 10);
    if (*end != ':') return false;
    long long b = strtoll(end + 1, &end, 10);
    if (*end) return false;
    so->lo = a;
    so->hi = b;
    return true;
}

static bool extra(const char *opt, const char *val, void *ctx) {
    sizes_opts *so = ctx;
    if (!strcmp(opt, "--range")) {
        if (!parse_range(val, so)) so->bad_range = true;
        return true;
    }
    return false;
}

int cmd_sizes(int argc, char **argv) {
    cli_opts o;
    sizes_opts so = {.lo = 1, .hi = 1024};
    static const char *const takes[] = {"--range", NULL};
    int rc = cli_parse(argc, argv, &o, takes, extra, &so, usage);
    if (rc) return rc < 0 ? 0 : rc;
    ck_diags d = {0};
    if (so.bad_range || so.lo < 1 || so.hi < so.lo)
        cli_diag(&d, CK_INVALID_CONFIG, NULL, NULL, "%s",
                 "--range must be A:B with 1 <= A <= B (e.g. 1:1024)");
    int code = 0;
    ck_graph *g = d.n ? NULL : cli_load(&o, &d, &code);
    if (!g) {
        cli_fail(&o, &d, EXIT_USAGE);
        ck_diags_free(&d);
        return EXIT_USAGE;
    }
    ck_format fmt = o.json ? CK_FORMAT_JSON : CK_FORMAT_TEXT;
    /* the text report has no diagnostics; a scan that cannot run prints them on stderr */
    ck_report_options ro = {.model = o.model, .lo = so.lo, .hi = so.hi, .color = cli_color(stderr)};
    char *text = NULL;
    ck_status st = ck_report(g, CK_REPORT_SIZES, fmt, &ro, &text);
    ck_graph_free(g);
    return cli_print_report(st, text, fmt);
}
