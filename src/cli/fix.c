/* convkit fix: verified fixes for the first failure, and --write. */
#include "cli/cli.h"
#include "core/core.h"

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
    "  --write FILE    write the network with the first fix applied as .cnn\n"
    "                  (PyTorch and Keras models; 'convkit check FILE' accepts it)\n"
    "  --json          one JSON object: model, ok, diagnostics, fixes (kind, layer,\n"
    "                  change, why, output_shape), checks, written\n"
    "exit status: 0 the model is valid (nothing to fix), 1 it is invalid, 2 bad usage\n"
    "or unreadable file, or --write failed\n";

static bool extra(const char *opt, const char *val, void *ctx) {
    if (!strcmp(opt, "--write")) {
        *(const char **)ctx = val;
        return true;
    }
    return false;
}

static const char *kind_name(ck_fix_kind k) {
    switch (k) {
    case CK_FIX_INPUT:
        return "input";
    case CK_FIX_LAYER:
        return "layer";
    case CK_FIX_UPSTREAM:
        return "upstream";
    default:
        return "insert";
    }
}

/* Writes the first fix's network; false (with a diagnostic) on failure. */
static bool write_fixed(const char *path, const char *model, const ck_fix *f, ck_diags *d) {
    char *fs = ck_fix_str(f);
    char *comment = ck_sprintf("%s with a fix by convkit fix:\n%s", model, fs ? fs : "");
    char *text = NULL;
    ck_status st = ck_graph_write_cnn(f->graph, comment, &text, d);
    free(fs);
    free(comment);
    if (st != CK_OK) return false;
    FILE *o = fopen(path, "w");
    bool ok = o && fputs(text, o) >= 0;
    if (o && fclose(o) != 0) ok = false;
    if (!ok)
        ck_diag_add(d, CK_SEV_ERROR, CK_INVALID_CONFIG, NULL, NULL, "cannot write %s: %s", path,
                    strerror(errno));
    free(text);
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
    ck_fixes fx = {0};
    ck_status fst = st == CK_OK ? CK_OK : ck_find_fixes(g, &fx, &d);
    ck_diag *first = NULL;
    for (int i = 0; i < d.n && !first; i++)
        if (d.v[i].severity == CK_SEV_ERROR) first = &d.v[i];
    for (int i = 0; first && i < fx.n; i++) {
        char *t = ck_fix_str(&fx.v[i]);
        if (t) ck_diag_fix(first, "%s", t);
        free(t);
    }
    int ret = st == CK_OK ? EXIT_VALID : EXIT_INVALID;
    bool written = false;
    ck_diags wd = {0};
    if (write && fx.n > 0) {
        written = write_fixed(write, o.model, &fx.v[0], &wd);
        if (!written) ret = EXIT_USAGE;
    } else if (write && st != CK_OK) {
        ck_diag_add(&wd, CK_SEV_ERROR, CK_INVALID_CONFIG, NULL, NULL,
                    "no verified fix to write; %s was not written", write);
    }
    char buf[256];
    if (o.json) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(o.model));
        json_object_set_new(j, "dialect", json_string(ck_dialect_name(ck_graph_dialect(g))));
        ck_shape s0 = ck_graph_input_shape(g, 0);
        json_object_set_new(j, "input", shape_json(&s0));
        json_object_set_new(j, "ok", json_boolean(st == CK_OK));
        json_object_set_new(j, "diagnostics", diags_json(&d));
        json_t *arr = json_array();
        for (int i = 0; i < fx.n; i++) {
            const ck_fix *f = &fx.v[i];
            json_t *e = json_object();
            json_object_set_new(e, "kind", json_string(kind_name(f->kind)));
            json_object_set_new(e, "layer", f->layer ? json_string(f->layer) : json_null());
            json_object_set_new(e, "change", json_string(f->change));
            json_object_set_new(e, "why", f->why ? json_string(f->why) : json_null());
            json_object_set_new(e, "output_shape", shape_json(&f->output));
            json_array_append_new(arr, e);
        }
        json_object_set_new(j, "fixes", arr);
        json_object_set_new(j, "checks", json_integer(fx.checks));
        json_object_set_new(j, "written", written ? json_string(write) : json_null());
        if (wd.n) json_object_set_new(j, "write_errors", diags_json(&wd));
        print_json(j);
    } else {
        if (st == CK_OK) {
            ck_layer_info last = ck_graph_layer(g, ck_graph_num_layers(g) - 1);
            printf("%s is valid: output %s; nothing to fix\n", o.model,
                   ck_shape_str(&last.output, buf, sizeof buf));
        } else {
            render_diags_text(stdout, &d);
            if (fx.n == 0 && fst == CK_OK)
                printf("no verified fix found (%lld shape checks)\n", (long long)fx.checks);
            else
                printf("(%d fixes from %lld shape checks)\n", fx.n, (long long)fx.checks);
        }
        if (written)
            printf("wrote %s with the first fix; check it: convkit check %s\n", write, write);
        render_diags_text(stderr, &wd);
    }
    ck_fixes_free(&fx);
    ck_diags_free(&d);
    ck_diags_free(&wd);
    ck_graph_free(g);
    return ret;
}
