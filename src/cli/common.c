/* Option parsing and model loading shared by the subcommands. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_usage_json(const char *message) {
    json_t *j = json_object();
    json_object_set_new(j, "ok", json_false());
    json_object_set_new(j, "error", json_string("usage"));
    json_object_set_new(j, "message", json_string(message));
    cli_print_json(j);
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *cli_format(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

ck_diag *cli_diag(ck_diags *d, ck_code code, const char *layer, const char *op, const char *fmt,
                  ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    ck_diag *dg = ck_diags_append(d, CK_SEV_ERROR, code, layer, op, msg ? msg : "");
    free(msg);
    return dg;
}

int cli_usage_error(const cli_opts *o, const char *usage, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    if (o->json)
        cli_usage_json(msg ? msg : "");
    else
        fprintf(stderr, "convkit: %s\n\n%s", msg ? msg : "", usage);
    free(msg);
    return EXIT_USAGE;
}

static bool parse_input_opt(cli_opts *o, const char *val) {
    if (o->n_inputs == 16) return false;
    const char *eq = strchr(val, '=');
    const char *shape = val;
    o->input_names[o->n_inputs] = NULL;
    if (eq && eq != val && !strchr("[(", val[0])) {
        static char names[16][128];
        size_t n = (size_t)(eq - val);
        if (n >= sizeof names[0]) return false;
        memcpy(names[o->n_inputs], val, n);
        names[o->n_inputs][n] = 0;
        o->input_names[o->n_inputs] = names[o->n_inputs];
        shape = eq + 1;
    }
    if (!ck_parse_shape(shape, &o->inputs[o->n_inputs])) return false;
    o->n_inputs++;
    return true;
}

/* --max-NAME N: a resource limit (ck_limits), positive. */
static bool parse_limit(cli_opts *o, const char *name, const char *val) {
    char *end;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (errno || end == val || *end || v <= 0) return false;
    if (!strcmp(name, "--max-file-bytes"))
        o->lim.max_file_bytes = v;
    else if (!strcmp(name, "--max-elements"))
        o->lim.max_elements = v;
    else if (!strcmp(name, "--max-sizes"))
        o->lim.max_sizes = v;
    else if (v > INT32_MAX)
        return false;
    else if (!strcmp(name, "--max-nodes"))
        o->lim.max_nodes = (int)v;
    else if (!strcmp(name, "--max-depth"))
        o->lim.max_depth = (int)v;
    else if (!strcmp(name, "--max-string"))
        o->lim.max_string = (int)v;
    else
        return false;
    return true;
}

int cli_parse(int argc, char **argv, cli_opts *o, const char *const *takes_value,
              cli_extra_fn extra, void *ctx, const char *usage) {
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) o->json |= !strcmp(argv[i], "--json");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return -1;
        }
        if (a[0] == '-' && a[1]) {
            const char *val = NULL;
            char name[64];
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a) : strlen(a);
            if (n >= sizeof name) n = sizeof name - 1;
            memcpy(name, a, n);
            name[n] = 0;
            bool needs = !strcmp(name, "--input") || !strcmp(name, "--format") ||
                         !strncmp(name, "--max-", 6);
            for (int k = 0; takes_value && takes_value[k]; k++)
                needs |= !strcmp(name, takes_value[k]);
            if (needs) {
                if (eq)
                    val = eq + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else
                    return cli_usage_error(o, usage, "%s needs a value", name);
            }
            if (!strcmp(name, "--json"))
                o->json = true;
            else if (!strcmp(name, "--input")) {
                if (!parse_input_opt(o, val))
                    return cli_usage_error(
                        o, usage, "--input '%s' is not a shape like 1x3x224x224 or [1,3,224,224]",
                        val);
            } else if (!strcmp(name, "--format"))
                o->format = val;
            else if (!strncmp(name, "--max-", 6)) {
                if (!parse_limit(o, name, val))
                    return cli_usage_error(
                        o, usage,
                        "%s needs a positive whole number (got '%s'); the limits "
                        "are --max-file-bytes, --max-nodes, --max-depth, "
                        "--max-string, --max-elements, --max-sizes",
                        name, val);
            } else if (!extra || !extra(name, val, ctx))
                return cli_usage_error(o, usage, "unknown option '%s'", a);
            continue;
        }
        if (o->model)
            return cli_usage_error(o, usage, "more than one MODEL given ('%s' and '%s')", o->model,
                                   a);
        o->model = a;
    }
    if (!o->model) return cli_usage_error(o, usage, "no MODEL given");
    return 0;
}

ck_graph *cli_load(const cli_opts *o, ck_diags *d, int *exit_code) {
    ck_graph *g = NULL;
    ck_status st = ck_load_file(o->model, &o->lim, &g, d);
    if (st != CK_OK || !g) {
        *exit_code = EXIT_USAGE;
        return NULL;
    }
    for (int i = 0; i < o->n_inputs; i++) {
        int idx = i;
        if (o->input_names[i]) {
            idx = -1;
            for (int k = 0; k < ck_graph_num_inputs(g); k++)
                if (!strcmp(ck_graph_input_name(g, k), o->input_names[i])) idx = k;
            if (idx < 0) {
                cli_diag(d, CK_INVALID_CONFIG, o->input_names[i], "input",
                         "--input names '%s', but the model's inputs are %s%s", o->input_names[i],
                         ck_graph_input_name(g, 0), ck_graph_num_inputs(g) > 1 ? ", ..." : "");
                ck_graph_free(g);
                *exit_code = EXIT_USAGE;
                return NULL;
            }
        }
        if (idx >= ck_graph_num_inputs(g)) {
            cli_diag(d, CK_INVALID_CONFIG, "input", "input",
                     "--input is given %d times but the model has %d input(s)", o->n_inputs,
                     ck_graph_num_inputs(g));
            ck_graph_free(g);
            *exit_code = EXIT_USAGE;
            return NULL;
        }
        ck_graph_set_input_shape(g, idx, &o->inputs[i]);
    }
    *exit_code = 0;
    return g;
}

ck_graph *cli_load_checked(const cli_opts *o, ck_diags *d, ck_status *st, int *exit_code) {
    ck_graph *g = cli_load(o, d, exit_code);
    if (g) {
        *st = ck_check(g, d);
        if (*st == CK_EUSAGE) {
            ck_graph_free(g);
            g = NULL;
            *exit_code = EXIT_USAGE;
        }
    }
    if (!g) cli_fail(o, d, *exit_code);
    return g;
}

bool cli_color(FILE *f) {
    return isatty(fileno(f)) && !getenv("NO_COLOR");
}

int cli_fail(const cli_opts *o, const ck_diags *d, int code) {
    FILE *f = o->json ? stdout : stderr;
    char *text = NULL;
    ck_report_failure(o->model, d, o->json ? CK_FORMAT_JSON : CK_FORMAT_TEXT, cli_color(f), &text);
    if (text) fputs(text, f);
    ck_free(text);
    return code;
}

int cli_print_report(ck_status st, char *text, ck_format fmt) {
    bool made = st == CK_OK || st == CK_EINVALID;
    if (text)
        fputs(text, made || fmt == CK_FORMAT_JSON ? stdout : stderr);
    else if (st == CK_ENOMEM)
        fputs("convkit: out of memory\n", stderr);
    ck_free(text);
    return st == CK_OK ? EXIT_VALID : st == CK_EINVALID ? EXIT_INVALID : EXIT_USAGE;
}

void cli_print_json(json_t *o) {
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(o);
}

json_t *cli_shape_json(const ck_shape *s) {
    json_t *a = json_array();
    for (int i = 0; i < s->rank; i++) json_array_append_new(a, json_integer(s->d[i]));
    return a;
}

json_t *cli_json_of(char *text) {
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    ck_free(text);
    return j ? j : json_null();
}

void cli_print_diags(FILE *f, const ck_diags *d) {
    char *text = ck_diags_text(d, cli_color(f));
    if (text) fputs(text, f);
    ck_free(text);
}

double cli_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

const char *cli_session_tensors(const ck_session *s, uint64_t seed, ck_tensor_f32 **in,
                                ck_tensor_f32 **out, const float **ip, float **op) {
    if (ck_session_num_outputs(s) > CLI_MAX_IO) return "the model has more than 16 outputs";
    for (int i = 0; i < ck_session_num_inputs(s); i++) {
        if (!in[i]) {
            ck_shape shape = ck_session_input_shape(s, i);
            if (ck_tensor_f32_new(&shape, &in[i]) != CK_OK) return "out of memory for the input";
            ck_tensor_f32_fill_normal(in[i], seed + 0x9E3779B97F4A7C15ull * (uint64_t)i);
        }
        ip[i] = in[i]->data;
    }
    for (int i = 0; i < ck_session_num_outputs(s); i++) {
        ck_shape shape = ck_session_output_shape(s, i);
        if (ck_tensor_f32_new(&shape, &out[i]) != CK_OK) return "out of memory for the output";
        op[i] = out[i]->data;
    }
    return NULL;
}
