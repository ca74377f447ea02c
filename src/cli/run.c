/* convkit run: the forward pass. Everything that can fail (options, input
 * files, the shape check, weights) is settled before anything runs, and an
 * output file is written only after a successful run. */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: convkit run MODEL [--input x.npy|random:SHAPE] [-o y.npy] [--seed N] [--json]\n"
    "\n"
    "Runs the network on the CPU (float32) and reports or writes its output.\n"
    "\n"
    "  --input SRC     x.npy (NumPy float32, C or Fortran order; other exact dtypes are\n"
    "                  converted) or random:1x3x224x224 (seeded standard normal values);\n"
    "                  NAME=SRC for a named input; repeat for several inputs. Without it\n"
    "                  the model's declared input shape gets a random input.\n"
    "  -o, --output F  write output 0 (repeat for outputs 1, 2, ...) as .npy\n"
    "  --seed N        seed of random inputs and of the default initialisation of models\n"
    "                  without weights (.cnn, Keras JSON); default 0\n"
    "  --weights-dir D folder of ONNX external data (default: the model's folder)\n"
    "  --threads N     threads (default: the CPUs online)\n"
    "  --kernels K     auto (the best the CPU has), ref, avx2 or avx512 (never above the CPU)\n"
    "  --json          print one JSON object (model, ok, inputs, outputs, time_ms, memory,\n"
    "                  diagnostics)\n"
    "exit status: 0 ran, 1 invalid model or input shape, 2 bad usage, unreadable file or\n"
    "missing weights; no output file is written unless the run succeeded\n";

typedef struct run_opts {
    int n_in;
    const char *in_name[CLI_MAX_IO]; /* NULL: positional */
    const char *in_src[CLI_MAX_IO];
    int n_out;
    const char *out[CLI_MAX_IO];
    uint64_t seed;
    const char *weights_dir;
    int threads;        /* 0: the CPUs online */
    ck_kernels kernels; /* --kernels */
    const char *bad;    /* an option error, reported after cli_parse knows --json */
} run_opts;

bool parse_kernels(const char *s, ck_kernels *k) {
    if (!strcmp(s, "auto"))
        *k = CK_KERNELS_AUTO;
    else if (!strcmp(s, "ref"))
        *k = CK_KERNELS_REF;
    else if (!strcmp(s, "avx2"))
        *k = CK_KERNELS_AVX2;
    else if (!strcmp(s, "avx512"))
        *k = CK_KERNELS_AVX512;
    else
        return false;
    return true;
}

static bool parse_seed(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno || s[0] == '-') return false;
    *out = v;
    return true;
}

/* The options cli_parse does not know; --input here is a source, not a
 * shape, so it is taken out of argv before cli_parse sees it. */
static int take_run_opts(int argc, char **argv, run_opts *r, char **rest) {
    int n = 0;
    rest[n++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        bool is_in = !strncmp(a, "--input", len) && len == 7;
        bool is_out = (!strncmp(a, "--output", len) && len == 8) || !strcmp(a, "-o");
        bool is_seed = !strncmp(a, "--seed", len) && len == 6;
        bool is_wd = !strncmp(a, "--weights-dir", len) && len == 13;
        bool is_thr = !strncmp(a, "--threads", len) && len == 9;
        bool is_k = !strncmp(a, "--kernels", len) && len == 9;
        if (!is_in && !is_out && !is_seed && !is_wd && !is_thr && !is_k) {
            rest[n++] = argv[i];
            continue;
        }
        if (eq && a[0] == '-' && a[1] == '-')
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            r->bad = is_in     ? "--input needs a value"
                     : is_out  ? "-o needs a file name"
                     : is_seed ? "--seed needs a value"
                     : is_thr  ? "--threads needs a number"
                     : is_k    ? "--kernels needs auto, ref, avx2 or avx512"
                               : "--weights-dir needs a folder";
            continue;
        }
        if (is_in) {
            if (r->n_in == CLI_MAX_IO) {
                r->bad = "too many --input options";
                continue;
            }
            const char *e = strchr(val, '=');
            /* NAME=SRC, but not random:... or a path that holds '=' after a '/' */
            if (e && e != val && strncmp(val, "random:", 7) != 0 &&
                !memchr(val, '/', (size_t)(e - val))) {
                char *nm = strndup(val, (size_t)(e - val));
                if (!nm) return -1;
                r->in_name[r->n_in] = nm;
                r->in_src[r->n_in++] = e + 1;
            } else {
                r->in_name[r->n_in] = NULL;
                r->in_src[r->n_in++] = val;
            }
        } else if (is_out) {
            if (r->n_out == CLI_MAX_IO)
                r->bad = "too many -o options";
            else
                r->out[r->n_out++] = val;
        } else if (is_seed) {
            if (!parse_seed(val, &r->seed)) r->bad = "--seed takes a non-negative integer";
        } else if (is_thr) {
            uint64_t t;
            if (!parse_seed(val, &t) || t < 1 || t > 256)
                r->bad = "--threads takes a number from 1 to 256";
            else
                r->threads = (int)t;
        } else if (is_k) {
            if (!parse_kernels(val, &r->kernels))
                r->bad = "--kernels takes auto, ref, avx2 or avx512";
        } else {
            r->weights_dir = val;
        }
    }
    rest[n] = NULL;
    return n;
}

typedef struct stats {
    double min, max, mean;
    int64_t argmax, nonfinite;
} stats;

static stats stats_of(const ck_tensor_f32 *t) {
    stats s = {INFINITY, -INFINITY, 0, 0, 0};
    int64_t n = ck_tensor_f32_numel(t);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = t->data[i];
        if (!isfinite(v)) {
            s.nonfinite++;
            continue;
        }
        if (v < s.min) s.min = v;
        if (v > s.max) {
            s.max = v;
            s.argmax = i;
        }
        sum += v;
    }
    s.mean = n > s.nonfinite ? sum / (double)(n - s.nonfinite) : NAN;
    if (n == s.nonfinite) s.min = s.max = NAN;
    return s;
}

static json_t *num(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

int cmd_run(int argc, char **argv) {
    run_opts r = {0};
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return EXIT_USAGE;
    int rc = take_run_opts(argc, argv, &r, rest);
    cli_opts o;
    int code = EXIT_USAGE;
    ck_graph *g = NULL;
    ck_session *s = NULL;
    ck_session_ctx *ctx = NULL;
    ck_tensor_f32 *in[CLI_MAX_IO] = {0}, *out[CLI_MAX_IO] = {0};
    const char *in_desc[CLI_MAX_IO] = {0};
    ck_diags d = {0};
    if (rc < 0) goto done;
    rc = cli_parse(rc, rest, &o, NULL, NULL, NULL, usage);
    if (rc) {
        code = rc < 0 ? 0 : rc;
        goto done;
    }
    if (r.bad) {
        code = cli_usage_error(&o, usage, "%s", r.bad);
        goto done;
    }
    g = cli_load(&o, &d, &code);
    if (!g) {
        code = cli_fail(&o, &d, code);
        goto done;
    }
    int ni = ck_graph_num_inputs(g);
    if (r.n_in > ni) {
        char msg[160];
        snprintf(msg, sizeof msg, "--input is given %d times but the model has %d input(s)", r.n_in,
                 ni);
        code = cli_usage_error(&o, usage, "%s", msg);
        goto done;
    }
    if (ni > CLI_MAX_IO) {
        code = cli_usage_error(&o, usage, "%s", "the model has more than 16 inputs");
        goto done;
    }

    /* inputs: files are read now; random inputs get their shape now and
     * their values once the shape is final */
    const char *src[CLI_MAX_IO] = {0};
    for (int i = 0; i < r.n_in; i++) {
        int idx = i;
        if (r.in_name[i]) {
            idx = -1;
            for (int k = 0; k < ni; k++)
                if (!strcmp(ck_graph_input_name(g, k), r.in_name[i])) idx = k;
            if (idx < 0) {
                cli_diag(&d, CK_INVALID_CONFIG, r.in_name[i], "input",
                         "--input names '%s', but the model's inputs are %s%s", r.in_name[i],
                         ck_graph_input_name(g, 0), ni > 1 ? ", ..." : "");
                code = cli_fail(&o, &d, EXIT_USAGE);
                goto done;
            }
        }
        if (src[idx]) {
            code = cli_usage_error(&o, usage, "%s", "an input is given twice");
            goto done;
        }
        src[idx] = r.in_src[i];
    }
    for (int i = 0; i < ni; i++) {
        ck_shape shape = ck_graph_input_shape(g, i);
        const char *name = ck_graph_input_name(g, i);
        if (src[i] && !strncmp(src[i], "random:", 7)) {
            if (!ck_parse_shape(src[i] + 7, &shape)) {
                char msg[256];
                snprintf(msg, sizeof msg,
                         "--input '%s': expected random:SHAPE, e.g. random:1x3x224x224", src[i]);
                code = cli_usage_error(&o, usage, "%s", msg);
                goto done;
            }
            in_desc[i] = "random";
        } else if (src[i]) {
            if (ck_npy_read(src[i], &in[i], &d) != CK_OK) {
                code = cli_fail(&o, &d, EXIT_USAGE);
                goto done;
            }
            shape = in[i]->shape;
            in_desc[i] = src[i];
        } else {
            bool declared = shape.rank > 0;
            for (int k = 0; k < shape.rank; k++) declared &= shape.d[k] > 0;
            if (!declared) {
                char msg[256];
                snprintf(msg, sizeof msg,
                         "the model does not declare the shape of input '%s'; give --input x.npy "
                         "or --input random:SHAPE",
                         name);
                code = cli_usage_error(&o, usage, "%s", msg);
                goto done;
            }
            in_desc[i] = "random";
        }
        /* ONNX fixes its input dims unless they are symbolic (read as 0) */
        ck_shape decl = ck_graph_input_shape(g, i);
        if (ck_graph_dialect(g) == CK_DIALECT_ONNX && decl.rank > 0) {
            bool ok = decl.rank == shape.rank;
            for (int k = 0; ok && k < decl.rank; k++)
                ok = decl.d[k] == 0 || decl.d[k] == shape.d[k];
            if (!ok) {
                char a[CK_MAX_RANK * 24 + 8], b[160];
                size_t off = (size_t)snprintf(a, sizeof a, "[");
                for (int k = 0; k < decl.rank; k++) {
                    if (decl.d[k])
                        off += (size_t)snprintf(a + off, sizeof a - off, "%s%lld", k ? ", " : "",
                                                (long long)decl.d[k]);
                    else
                        off += (size_t)snprintf(a + off, sizeof a - off, "%s?", k ? ", " : "");
                }
                snprintf(a + off, sizeof a - off, "]");
                int ax = -1;
                for (int k = 0; decl.rank == shape.rank && k < decl.rank && ax < 0; k++)
                    if (decl.d[k] && decl.d[k] != shape.d[k]) ax = k;
                ck_diag *dg =
                    cli_diag(&d, ax == 1 ? CK_CHANNEL_MISMATCH : CK_RANK_MISMATCH, name, "input",
                             "the model's input '%s' has the fixed shape %s, but the given input "
                             "has shape %s",
                             name, a, ck_shape_str(&shape, b, sizeof b));
                if (dg && ax >= 0) {
                    char note[96];
                    snprintf(note, sizeof note, "axis %d must be %lld (? = any size)", ax,
                             (long long)decl.d[ax]);
                    ck_diag_append_note(dg, note);
                }
                code = cli_fail(&o, &d, EXIT_INVALID);
                goto done;
            }
        }
        if (ck_graph_set_input_shape(g, i, &shape) != CK_OK) {
            code = cli_usage_error(&o, usage, "%s", "the input shape has too many axes");
            goto done;
        }
    }
    ck_status st = ck_check(g, &d);
    if (st != CK_OK) {
        code = cli_fail(&o, &d, st == CK_EUSAGE ? EXIT_USAGE : EXIT_INVALID);
        goto done;
    }
    ck_session_options so = {
        .seed = r.seed, .weights_dir = r.weights_dir, .threads = r.threads, .kernels = r.kernels};
    st = ck_session_new(g, &so, &s, &d);
    if (st != CK_OK) {
        code = cli_fail(&o, &d, st == CK_EINVALID ? EXIT_INVALID : EXIT_USAGE);
        goto done;
    }
    int no = ck_session_num_outputs(s);
    if (r.n_out > no) {
        char msg[160];
        snprintf(msg, sizeof msg, "-o is given %d times but the model has %d output(s)", r.n_out,
                 no);
        code = cli_usage_error(&o, usage, "%s", msg);
        goto done;
    }
    const float *ip[CLI_MAX_IO];
    float *op[CLI_MAX_IO];
    const char *oom = cli_session_tensors(s, r.seed, in, out, ip, op);
    if (oom) {
        code = cli_usage_error(&o, usage, "%s", oom);
        goto done;
    }
    if (ck_session_ctx_new(s, &ctx) != CK_OK) {
        code = cli_usage_error(&o, usage, "%s", "out of memory for the activations");
        goto done;
    }
    double t0 = cli_now_ms();
    ck_session_run(s, ctx, ip, op);
    double ms = cli_now_ms() - t0;
    for (int i = 0; i < r.n_out; i++)
        if (ck_npy_write(r.out[i], out[i], &d) != CK_OK) {
            code = cli_fail(&o, &d, EXIT_USAGE);
            goto done;
        }

    ck_session_memory m = ck_session_memory_plan(s);
    char buf[160];
    if (o.json) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(o.model));
        json_object_set_new(j, "dialect", json_string(ck_dialect_name(ck_graph_dialect(g))));
        json_object_set_new(j, "ok", json_true());
        json_object_set_new(j, "seed", json_integer((json_int_t)r.seed));
        json_t *ja = json_array();
        for (int i = 0; i < ni; i++) {
            json_t *e = json_object();
            ck_shape sh = ck_session_input_shape(s, i);
            json_object_set_new(e, "name", json_string(ck_session_input_name(s, i)));
            json_object_set_new(e, "shape", cli_shape_json(&sh));
            json_object_set_new(e, "source", json_string(in_desc[i]));
            json_array_append_new(ja, e);
        }
        json_object_set_new(j, "inputs", ja);
        ja = json_array();
        for (int i = 0; i < no; i++) {
            json_t *e = json_object();
            ck_shape sh = ck_session_output_shape(s, i);
            stats t = stats_of(out[i]);
            json_object_set_new(e, "name", json_string(ck_session_output_name(s, i)));
            json_object_set_new(e, "shape", cli_shape_json(&sh));
            json_object_set_new(e, "file", i < r.n_out ? json_string(r.out[i]) : json_null());
            json_object_set_new(e, "min", num(t.min));
            json_object_set_new(e, "max", num(t.max));
            json_object_set_new(e, "mean", num(t.mean));
            json_object_set_new(e, "argmax", json_integer(t.argmax));
            json_object_set_new(e, "nonfinite", json_integer(t.nonfinite));
            json_array_append_new(ja, e);
        }
        json_object_set_new(j, "outputs", ja);
        json_object_set_new(j, "time_ms", json_real(ms));
        json_t *jm = json_object();
        json_object_set_new(jm, "activation_bytes", json_integer(m.activation_bytes));
        json_object_set_new(jm, "scratch_bytes", json_integer(m.scratch_bytes));
        json_object_set_new(jm, "naive_activation_bytes", json_integer(m.naive_bytes));
        json_object_set_new(jm, "buffers", json_integer(m.buffers));
        json_object_set_new(jm, "weight_bytes", json_integer(m.weight_bytes));
        json_object_set_new(j, "memory", jm);
        json_object_set_new(j, "diagnostics", cli_json_of(ck_diags_json(&d)));
        cli_print_json(j);
    } else {
        cli_print_diags(stderr, &d); /* warnings */
        printf("model: %s (%s)\n", o.model, ck_dialect_name(ck_graph_dialect(g)));
        for (int i = 0; i < ni; i++) {
            ck_shape sh = ck_session_input_shape(s, i);
            printf("input  %s %s: %s%s\n", ck_session_input_name(s, i),
                   ck_shape_str(&sh, buf, sizeof buf), in_desc[i],
                   strcmp(in_desc[i], "random") ? "" : " (seeded normal)");
        }
        for (int i = 0; i < no; i++) {
            ck_shape sh = ck_session_output_shape(s, i);
            stats t = stats_of(out[i]);
            printf("output %s %s: min %.6g, max %.6g (at %lld), mean %.6g",
                   ck_session_output_name(s, i), ck_shape_str(&sh, buf, sizeof buf), t.min, t.max,
                   (long long)t.argmax, t.mean);
            if (t.nonfinite) printf(", %lld non-finite", (long long)t.nonfinite);
            if (i < r.n_out) printf(" -> %s", r.out[i]);
            putchar('\n');
        }
        printf("time: %.2f ms; activations %.2f MB in %d buffers (%.2f MB unplanned)\n", ms,
               (double)m.activation_bytes / 1048576.0, m.buffers,
               (double)m.naive_bytes / 1048576.0);
    }
    code = EXIT_VALID;

done:
    for (int i = 0; i < CLI_MAX_IO; i++) {
        ck_tensor_f32_free(in[i]);
        ck_tensor_f32_free(out[i]);
        free((char *)r.in_name[i]);
    }
    ck_session_ctx_free(ctx);
    ck_session_free(s);
    ck_graph_free(g);
    ck_diags_free(&d);
    free(rest);
    return code;
}
