/* convkit fix: verified fixes for the first failure, and --write. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: convkit fix MODEL [--input SHAPE] [--write FILE] [--json]\n"
    "\n"
    "Explains the first failure and lists fixes, best first. Each fix is applied\n"
    "to a copy of the network and re-checked on every layer; only fixes that make\n"
    "the whole network valid are listed, with the output they give.\n"
    "\n"
    "  --input SHAPE   input shape, 1x3x224x224 or [1,3,224,224]\n"
    "  --write FILE    write the network with the first fix applied: Keras model code\n"
    "                  as the same code with only the changed arguments edited, other\n"
    "                  PyTorch and Keras models as .cnn ('convkit check FILE' accepts\n"
    "                  both)\n"
    "  --json          one JSON object: model, ok, diagnostics, fixes (kind, layer,\n"
    "                  change, why, output_shape, args: the new argument\n"
    "                  values), checks, written\n"
    "exit status: 0 the model is valid (nothing to fix), 1 it is invalid, 2 bad usage\n"
    "or unreadable file, or --write failed\n";

static bool extra(const char *opt, const char *val, void *ctx) {
    if (!strcmp(opt, "--write")) {
        *(const char **)ctx = val;
        return true;
    }
    return false;
}

/* Writes the first fix's network: model code as an edit of that code,
 * else .cnn; false (with a diagnostic) on failure. */
static bool write_fixed(const char *path, const char *model, const ck_fix *f, ck_diags *d) {
    char *text = NULL;
    ck_status st = CK_EUSAGE;
    if (ck_graph_has_source(f->graph)) {
        ck_diags sd = {0};
        st = ck_graph_write_source(f->graph, &text, &sd);
        if (st != CK_OK && st != CK_ENOMEM) {
            ck_diag *w = ck_diags_append(
                d, CK_SEV_WARNING, CK_UNSUPPORTED, NULL, NULL,
                "the fix cannot be written as an edit of the code, so the file holds the fixed "
                "network as .cnn (convkit reads it; Python does not)");
            for (int i = 0; w && i < sd.n; i++) ck_diag_append_note(w, sd.v[i].message);
        }
        ck_diags_free(&sd);
        if (st == CK_ENOMEM) return false;
    }
    if (st != CK_OK) {
        char *fs = ck_fix_str(f);
        char *comment = cli_format("%s with a fix by convkit fix:\n%s", model, fs ? fs : "");
        st = ck_graph_write_cnn(f->graph, comment ? comment : "", &text, d);
        ck_free(fs);
        free(comment);
    }
    if (st != CK_OK) return false;
    FILE *o = fopen(path, "w");
    bool ok = o && fputs(text, o) >= 0;
    int err = errno;
    if (o && fclose(o) != 0) ok = false, err = errno;
    if (!ok) cli_diag(d, CK_INVALID_CONFIG, NULL, NULL, "cannot write %s: %s", path, strerror(err));
    ck_free(text);
    return ok;
}

int cmd_fix(int argc, char **argv) {
    cli_opts o;
    const char *write = NULL;
    static const char *const takes[] = {"--write", NULL};
    int rc = cli_parse(argc, argv, &o, takes, extra, &write, usage);
    if (rc) return rc < 0 ? 0 : rc;
    ck_diags d = {0};
    int code;
    ck_status st;
    ck_graph *g = cli_load_checked(&o, &d, &st, &code);
    if (!g) {
        ck_diags_free(&d);
        return code;
    }
    /* the fixes are found here, once, so that --write writes the first one
     * the report lists */
    ck_fixes fx = {0};
    if (st != CK_OK) ck_find_fixes(g, &fx, &d);
    ck_diags_free(&d);
    int ret = st == CK_OK ? EXIT_VALID : EXIT_INVALID;
    bool written = false;
    ck_diags wd = {0};
    if (write && fx.n > 0) {
        written = write_fixed(write, o.model, &fx.v[0], &wd);
        if (!written) ret = EXIT_USAGE;
    } else if (write && st != CK_OK) {
        cli_diag(&wd, CK_INVALID_CONFIG, NULL, NULL, "no verified fix to write; %s was not written",
                 write);
    }
    ck_format fmt = o.json ? CK_FORMAT_JSON : CK_FORMAT_TEXT;
    ck_report_options ro = {.model = o.model, .color = cli_color(stdout)};
    char *text = NULL;
    st = ck_report_fixes(g, &fx, written ? write : NULL, &wd, fmt, &ro, &text);
    int pr = cli_print_report(st, text, fmt);
    if (!o.json) cli_print_diags(stderr, &wd);
    ck_fixes_free(&fx);
    ck_diags_free(&wd);
    ck_graph_free(g);
    /* the report's status says whether the model is valid (a model with
     * symbolic sizes is checked at every size there) */
    return pr == EXIT_USAGE || ret == EXIT_USAGE ? EXIT_USAGE : pr;
}
