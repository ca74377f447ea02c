/* The convkit command: shared option handling and renderers. */
#ifndef CK_CLI_H
#define CK_CLI_H

#include "convkit.h"

#include <jansson.h>
#include <stdio.h>

enum { EXIT_VALID = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

typedef struct cli_opts {
    const char *model;
    int n_inputs;
    const char *input_names[16];
    ck_shape inputs[16];
    bool json;
    const char *format;
    ck_limits lim;
} cli_opts;

/* Parses the options every model subcommand shares. Unknown options are
 * returned in *rest for the subcommand (NULL-terminated). Returns false
 * after printing a usage error. */
typedef bool (*cli_extra_fn)(const char *opt, const char *val, void *ctx);
int cli_parse(int argc, char **argv, cli_opts *o, const char *const *takes_value,
              cli_extra_fn extra, void *ctx, const char *usage);

/* A usage error: text on stderr, or the one JSON object with --json.
 * Returns EXIT_USAGE. */
int cli_usage_error(const cli_opts *o, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints the diagnostics of a model that could not be used (text or the one
 * JSON object) and returns code. */
int cli_fail(const cli_opts *o, const ck_diags *d, int code);
double cli_now_ms(void); /* monotonic clock */

/* Inputs and outputs a command handles at most (arrays of this size). */
#define CLI_MAX_IO 16

/* The tensors a session run needs: inputs the caller left NULL are filled
 * with seeded normal values (one stream per input, so `run --seed` and
 * `bench --seed` see the same data), outputs are allocated; ip/op point at
 * their data (CLI_MAX_IO entries; the caller has checked the inputs' count
 * while reading them). NULL on success, else what went wrong (too many
 * outputs, out of memory). */
const char *cli_session_tensors(const ck_session *s, uint64_t seed, ck_tensor_f32 **in,
                                ck_tensor_f32 **out, const float **ip, float **op);

/* Loads MODEL and applies --input. Returns the graph, or NULL after filling d. */
ck_graph *cli_load(const cli_opts *o, ck_diags *d, int *exit_code);

/* cli_load + ck_check. On NULL the failure has been printed (text or the one
 * JSON object) and *exit_code says how to exit. */
ck_graph *cli_load_checked(const cli_opts *o, ck_diags *d, ck_status *st, int *exit_code);

void render_diag_text(FILE *f, const ck_diag *dg, bool color);
void render_diags_text(FILE *f, const ck_diags *d);
json_t *diag_json(const ck_diag *dg);
json_t *diags_json(const ck_diags *d);
json_t *shape_json(const ck_shape *s);
json_t *layer_json(const ck_layer_info *li);
/* Prints one JSON object, newline-terminated, and frees it. */
void print_json(json_t *o);
/* The JSON printed when the model cannot be read at all. */
json_t *failure_json(const cli_opts *o, const ck_diags *d);
const char *layer_state_name(ck_layer_state s);

json_t *inputs_json(const ck_graph *g);
int cmd_check(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_sizes(int argc, char **argv);
/* "auto", "ref", "avx2", "avx512" (run.c; bench shares it) */
bool parse_kernels(const char *s, ck_kernels *k);
/* summary --format svg (svg.c) */
void svg_summary(FILE *f, const char *model, const ck_graph *g, const ck_diags *d,
                 const ck_rf_table *rt);
int cmd_fix(int argc, char **argv);
/* convkit bench: times the forward pass (bench.c) */
int cmd_bench(int argc, char **argv);

#endif
