/* The convkit command: option handling and model loading shared by the
 * subcommands. The reports come from the library (ck_report), so the command
 * line prints the same bytes as every binding; run and bench build their own
 * JSON documents with jansson. */
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

/* Parses the options every model subcommand shares; the others go to
 * `extra` (false: unknown). Returns 0, -1 after --help, or EXIT_USAGE after
 * printing a usage error. */
typedef bool (*cli_extra_fn)(const char *opt, const char *val, void *ctx);
int cli_parse(int argc, char **argv, cli_opts *o, const char *const *takes_value,
              cli_extra_fn extra, void *ctx, const char *usage);

/* A usage error: text and the usage on stderr, or the one JSON object with
 * --json. Returns EXIT_USAGE. */
int cli_usage_error(const cli_opts *o, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The JSON object of a usage error ({ok: false, error: "usage", message}) on stdout. */
void cli_usage_json(const char *message);
/* Prints the diagnostics of a model that could not be used (text on stderr
 * or the one JSON object) and returns code. */
int cli_fail(const cli_opts *o, const ck_diags *d, int code);
/* printf into a new string (free() it); NULL when out of memory. */
char *cli_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends an error diagnostic with a printf message (layer, op may be NULL). */
ck_diag *cli_diag(ck_diags *d, ck_code code, const char *layer, const char *op, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
/* ANSI colours on f: a terminal, and NO_COLOR unset. */
bool cli_color(FILE *f);
/* Prints a report of ck_report() in format fmt and releases it: on stdout,
 * or for a report that could not be made (a status other than CK_OK and
 * CK_EINVALID) its text on stderr (JSON: stdout). Returns the exit status. */
int cli_print_report(ck_status st, char *text, ck_format fmt);
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

/* ---- run and bench's JSON documents ---------------------------------------- */

/* Prints one JSON object the way the reports do, newline-terminated, and frees it. */
void cli_print_json(json_t *o);
json_t *cli_shape_json(const ck_shape *s);
/* A JSON value the library rendered (ck_diags_json, ck_inputs_json), which it
 * releases; null when there is none. */
json_t *cli_json_of(char *text);
/* Warnings of a run on stderr, as the reports print diagnostics. */
void cli_print_diags(FILE *f, const ck_diags *d);

int cmd_check(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_sizes(int argc, char **argv);
int cmd_fix(int argc, char **argv);
/* convkit run: the forward pass (run.c) */
int cmd_run(int argc, char **argv);
/* convkit bench: times the forward pass (bench.c) */
int cmd_bench(int argc, char **argv);
/* "auto", "ref", "avx2", "avx512" (run.c; bench shares it) */
bool parse_kernels(const char *s, ck_kernels *k);

#endif
