/* convkit benchmark harness (issue 6; see bench/README.md).
 *
 * Measures, side by side in one run and with interleaved repetitions:
 *   - the machine's peak FP32 rate (peak.c: FMA loops, AVX-512 and AVX2);
 *   - the issue-6 layer set (batch 1) for convkit twice (its convolution
 *     step alone, timed with ck_session_run_profiled() inside the network
 *     input -> 1x1 conv -> the layer -> 1x1 conv, i.e. in its own layouts
 *     with no conversion from or to NCHW; and a one-layer session, NCHW in
 *     and out), oneDNN's convolution primitive in its own layout choice and
 *     in nChw16c (reorders excluded), each also with the NCHW -> its layout
 *     -> NCHW reorders of source and destination included, and im2col +
 *     OpenBLAS sgemm;
 *   - ResNet-18, ResNet-50 and MobileNetV2 at 224x224, batch 1 and 8, for
 *     convkit (.cnn files) and PyTorch (bench/torch_models.py, a child
 *     process driven over a pipe, so its runs interleave with convkit's).
 * convkit runs in a process of its own (forked before oneDNN and OpenBLAS
 * start, driven over a pipe), its threads pinned one per CPU (--no-pin,
 * --convkit-in-process: see README for what each changes).
 * Every implementation of a layer gets the same input and weights and their
 * outputs are compared; each network runs on PyTorch's weights in convkit
 * too and the outputs are compared.
 *
 * FLOP count of a layer: 2 x the multiply-adds of convkit's own cost rule
 * (the count `convkit summary` and the step profile give):
 *   2 * N * O * (C / groups) * K_h * K_w * OH * OW, padding taps included.
 * GFLOP/s = that / median time; % of peak = GFLOP/s / the measured peak
 * (the faster of AVX-512 and AVX2) at the same thread count.
 *
 * Each sample of a layer is k back-to-back calls (k chosen once per
 * implementation so that a sample lasts about --sample-ms), the reported
 * time is the median over rounds of sample/k; in each round every
 * implementation gives one sample, in an order that rotates from round to
 * round, with a pause between samples so that spinning worker threads of
 * the previous library have gone to sleep and no other task runs. */
#include "convkit.h"
#include "layers.h"
#include "peak.h"

#include <cblas.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

void openblas_set_num_threads(int num_threads);

/* ---- small utilities ------------------------------------------------------ */

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void sleep_ms(double ms) {
    struct timespec t = {(time_t)(ms / 1e3), (long)(fmod(ms, 1e3) * 1e6)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static double cpu_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* CPU time of every thread of process `pid` (ns in /proc/PID/task/TID/schedstat,
 * summed), in ms; 0 when it cannot be read. */
static double proc_cpu_ms(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) return 0;
    double sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char f[128];
        snprintf(f, sizeof f, "/proc/%d/task/%.20s/schedstat", (int)pid, e->d_name);
        FILE *fp = fopen(f, "r");
        unsigned long long ns = 0;
        if (fp) {
            if (fscanf(fp, "%llu", &ns) != 1) ns = 0;
            fclose(fp);
        }
        sum += (double)ns / 1e6;
    }
    closedir(d);
    return sum;
}

static pid_t g_child;     /* the PyTorch process, 0 when none */
static pid_t g_ort_child; /* the ONNX Runtime process, 0 when none */
static pid_t g_ck_child;  /* convkit's process, 0 when none */
static bool g_in_child;   /* this is convkit's process */

static bool g_count_niced; /* --count-niced: niced tasks count as busy too */

/* Tasks running or runnable on the whole machine now, this one included:
 * with --count-niced the 4th field of /proc/loadavg; by default the threads
 * in state R whose nice value is 0 or less (/proc/PID/task/TID/stat), so
 * that background work started with `nice` (builds, fuzzers, test sweeps
 * of other users of a shared machine) does not hold the harness: such a
 * task gets 15/1024 of a CPU against ours. -1 when it cannot be read. */
static int runnable_tasks(void) {
    int r = -1, t;
    if (g_count_niced) {
        FILE *f = fopen("/proc/loadavg", "r");
        if (f) {
            if (fscanf(f, "%*f %*f %*f %d/%d", &r, &t) != 2) r = -1;
            fclose(f);
        }
        return r;
    }
    DIR *d = opendir("/proc");
    if (!d) return -1;
    r = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%.20s/task", e->d_name);
        DIR *td = opendir(path);
        if (!td) continue;
        struct dirent *te;
        while ((te = readdir(td)) != NULL) {
            if (te->d_name[0] == '.') continue;
            char sp[96], buf[512];
            snprintf(sp, sizeof sp, "/proc/%.20s/task/%.20s/stat", e->d_name, te->d_name);
            int fd = open(sp, O_RDONLY);
            if (fd < 0) continue;
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n <= 0) continue;
            buf[n] = 0;
            /* "pid (comm) S ..." : the state after the last ')', nice the
             * 19th field */
            char *q = strrchr(buf, ')');
            char st = 0;
            long nice = 0;
            if (q &&
                sscanf(q + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %ld",
                       &st, &nice) == 2 &&
                st == 'R' && nice <= 0)
                r++;
        }
        closedir(td);
    }
    closedir(d);
    return r;
}

static int g_settles, g_busy_settles; /* settle() calls; those that gave up waiting */

/* Waits at least `ms`, then until the worker threads of this process, of
 * convkit's, of the PyTorch child and of the ONNX Runtime child have
 * stopped spinning (OpenBLAS spins
 * for about 2^28 cycles after a call, libgomp for a few ms, PyTorch for
 * about 100 ms) and nothing else on the machine runs: a 5 ms window in
 * which each used under 0.25 ms of CPU and that starts and ends with no
 * other runnable task, at most 1 s in all. The next sample then has the
 * cores to itself. */
static void settle(double ms) {
    sleep_ms(ms);
    g_settles++;
    for (int i = 0; i < 200; i++) {
        int r0 = runnable_tasks();
        double c0 = cpu_ms(), k0 = g_child ? proc_cpu_ms(g_child) : 0,
               v0 = g_ck_child ? proc_cpu_ms(g_ck_child) : 0,
               o0 = g_ort_child ? proc_cpu_ms(g_ort_child) : 0;
        sleep_ms(5);
        double c1 = cpu_ms(), k1 = g_child ? proc_cpu_ms(g_child) : 0,
               v1 = g_ck_child ? proc_cpu_ms(g_ck_child) : 0,
               o1 = g_ort_child ? proc_cpu_ms(g_ort_child) : 0;
        int r1 = runnable_tasks();
        if (c1 - c0 < 0.25 && k1 - k0 < 0.25 && v1 - v0 < 0.25 && o1 - o0 < 0.25 && r0 <= 1 &&
            r1 <= 1)
            return;
    }
    g_busy_settles++;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (g_in_child) _exit(1); /* no atexit handlers: the parent's libraries are not ours */
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

static const char *kernels_name(ck_kernels k) {
    return k == CK_KERNELS_AVX512 ? "avx512" : k == CK_KERNELS_AVX2 ? "avx2" : "ref";
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(const double *v, int n) {
    double *s = xmalloc((size_t)n * sizeof *s);
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

static double min_of(const double *v, int n) {
    double m = v[0];
    for (int i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
    return m;
}

static double max_of(const double *v, int n) {
    double m = v[0];
    for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

/* max |a - b| / max(max |b|, 1e-30) */
static double rel_diff(const float *a, const float *b, int64_t n) {
    double d = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (e > d || e != e) d = e;
        if (fabs((double)b[i]) > m) m = fabs((double)b[i]);
    }
    return d / (m > 1e-30 ? m : 1e-30);
}

static double load_average(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

/* ---- threads, one per CPU ------------------------------------------------ */

/* --no-pin clears it; g_cpu: the CPUs the harness may use, at its start */
static bool g_pin = true;
static int g_cpu[CPU_SETSIZE], g_ncpu;
static int g_threads = 2; /* --threads: convkit's too */

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void cpus_init(void) {
    cpu_set_t all;
    g_ncpu = 0;
    if (sched_getaffinity(0, sizeof all, &all) != 0) return;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all)) g_cpu[g_ncpu++] = c;
}

/* Pins the threads of this process one per CPU: the main thread on the
 * first CPU, every other thread (the worker threads of convkit's pools, of
 * oneDNN's OpenMP team, of OpenBLAS; oldest first) on the next threads-1
 * CPUs in turn. A library's workers each get their own CPU; the libraries
 * never run at the same time. On this 2-vCPU virtual machine the scheduler
 * otherwise at times runs a woken worker on the main thread's CPU, and the
 * two take turns on one core until it moves (bench/README.md). Called again
 * whenever new threads may have appeared; a thread created by a pinned main
 * thread starts on the main thread's CPU until then. */
static void pin_threads(void) {
    int m = g_threads - 1 < g_ncpu - 1 ? g_threads - 1 : g_ncpu - 1;
    if (!g_pin || m < 1) return;
    int tid[256], n = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256)
        if (e->d_name[0] != '.') tid[n++] = atoi(e->d_name);
    closedir(d);
    qsort(tid, (size_t)n, sizeof *tid, cmp_int);
    for (int i = 0, j = 0; i < n; i++) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(tid[i] == getpid() ? g_cpu[0] : g_cpu[1 + j++ % m], &one);
        sched_setaffinity(tid[i], sizeof one, &one);
    }
}

/* the calling thread back on every CPU (a child that is not ours to pin) */
static void unpin_self(void) {
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int i = 0; i < g_ncpu; i++) CPU_SET(g_cpu[i], &all);
    if (g_ncpu) sched_setaffinity(0, sizeof all, &all);
}

/* ---- options ------------------------------------------------------------ */

typedef struct opts {
    int threads;      /* oneDNN, OpenBLAS, peak; PyTorch tries 1..threads */
    int layer_rounds; /* interleaved rounds per layer */
    int net_rounds;   /* interleaved rounds per network and batch */
    double sample_ms; /* target length of one layer sample */
    double settle_ms; /* pause between samples */
    const char *json; /* output file */
    const char *python;
    const char *torch_script;
    const char *models; /* folder of resnet18.cnn, mobilenet_v2.cnn */
    const char *resnet50;
    bool layers, nets, torch, torch_default_malloc;
    bool convkit_in_process; /* run convkit in the harness process (for comparison) */
    bool pin;                /* pin every thread of the harness and of convkit, one per CPU */
    const char *only;        /* only the layers whose name contains this */
    int batch8;
    const char *onnx_dir; /* NAME.onnx and NAME_b8.onnx (bench/onnx_models.py) */
    const char *ort_dir;  /* ort_serve.js, ort_run.js, node_modules/onnxruntime-node */
    const char *node;     /* the Node binary */
    const char *convkit_bin;
    bool ort;
    int proc_rounds; /* rounds of session creation and whole-process runs */
} opts;

static const char usage[] =
    "usage: bench [--threads N] [--layer-rounds N] [--net-rounds N] [--sample-ms MS]\n"
    "             [--settle-ms MS] [--json FILE] [--quick] [--no-layers] [--no-nets]\n"
    "             [--no-torch] [--no-batch8] [--torch-default-malloc] [--python PATH]\n"
    "             [--convkit-in-process] [--no-pin] [--layer TEXT]\n"
    "             [--onnx-dir DIR] [--ort-dir DIR] [--node PATH] [--convkit PATH] [--no-ort]\n"
    "             [--proc-rounds N] [--count-niced]\n"
    "see bench/README.md\n";

static int int_arg(const char *v, int lo, int hi, const char *name) {
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) die("%s takes a whole number from %d to %d", name, lo, hi);
    return (int)x;
}

static opts parse_opts(int argc, char **argv) {
    opts o = {.threads = 2,
              .layer_rounds = 11,
              .net_rounds = 5,
              .sample_ms = 25,
              .settle_ms = 20,
              .json = "build/bench/bench.json",
              .python = "/usr/bin/python3",
              .torch_script = "bench/torch_models.py",
              .models = "bench/models",
              .resnet50 = "tests/oracle/runtime/resnet50.cnn",
              .layers = true,
              .nets = true,
              .torch = true,
              .batch8 = 1,
              .pin = true,
              .onnx_dir = "build/bench/onnx",
              .ort_dir = "bench/ort",
              .node = "node",
              .convkit_bin = "build/convkit",
              .ort = true,
              .proc_rounds = 11};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--threads"))
            o.threads = int_arg(v, 1, 64, a), i++;
        else if (!strcmp(a, "--layer-rounds"))
            o.layer_rounds = int_arg(v, 1, 1000, a), i++;
        else if (!strcmp(a, "--net-rounds"))
            o.net_rounds = int_arg(v, 1, 1000, a), i++;
        else if (!strcmp(a, "--sample-ms"))
            o.sample_ms = int_arg(v, 1, 10000, a), i++;
        else if (!strcmp(a, "--settle-ms"))
            o.settle_ms = int_arg(v, 0, 10000, a), i++;
        else if (!strcmp(a, "--json") && v)
            o.json = v, i++;
        else if (!strcmp(a, "--python") && v)
            o.python = v, i++;
        else if (!strcmp(a, "--quick"))
            o.layer_rounds = 3, o.net_rounds = 1, o.sample_ms = 5, o.proc_rounds = 1;
        else if (!strcmp(a, "--no-layers"))
            o.layers = false;
        else if (!strcmp(a, "--no-nets"))
            o.nets = false;
        else if (!strcmp(a, "--no-torch"))
            o.torch = false;
        else if (!strcmp(a, "--no-batch8"))
            o.batch8 = 0;
        else if (!strcmp(a, "--torch-default-malloc"))
            o.torch_default_malloc = true;
        else if (!strcmp(a, "--convkit-in-process"))
            o.convkit_in_process = true;
        else if (!strcmp(a, "--no-pin"))
            o.pin = false;
        else if (!strcmp(a, "--layer") && v)
            o.only = v, i++;
        else if (!strcmp(a, "--onnx-dir") && v)
            o.onnx_dir = v, i++;
        else if (!strcmp(a, "--ort-dir") && v)
            o.ort_dir = v, i++;
        else if (!strcmp(a, "--node") && v)
            o.node = v, i++;
        else if (!strcmp(a, "--convkit") && v)
            o.convkit_bin = v, i++;
        else if (!strcmp(a, "--no-ort"))
            o.ort = false;
        else if (!strcmp(a, "--count-niced"))
            g_count_niced = true;
        else if (!strcmp(a, "--proc-rounds"))
            o.proc_rounds = int_arg(v, 1, 1000, a), i++;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            exit(0);
        } else {
            fprintf(stderr, "bench: unknown option '%s'\n%s", a, usage);
            exit(2);
        }
    }
    return o;
}

/* ---- the layer set of issue 6 --------------------------------------------- */

/* LAYERS, layer_spec and the FLOP count: bench/layers.h */

static int out_size(int in, int k, int s, int p, int d) {
    return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

static double layer_flops(const layer_spec *l) {
    double f = bench_layer_flops(l);
    if (f < 0) die("convkit rejects layer '%s'", l->name);
    return f;
}

/* ---- implementations of one layer ---------------------------------------- */

/* Implementations, in the order of a round. convkit runs twice, in its own
 * process (see "convkit's process" below): "convkit" is the convolution
 * step alone, timed by ck_session_run_profiled() inside the network
 * input -> pre (1x1, C->C) -> conv -> post (1x1, O->O), so that it reads and
 * writes activations in whatever layout convkit prefers and no conversion
 * from or to NCHW is counted; "convkit_nchw" is a one-layer session, NCHW
 * in and NCHW out (its time includes any conversion the session does
 * inside: the analogue of oneDNN+reorders). oneDNN runs twice: with every
 * activation layout left to it (format_tag_any: what it prefers on this
 * CPU) and with nChw16c forced (its classic blocked AVX-512 layout); the
 * faster of the two is "oneDNN" in the table. Each also runs with the
 * reorders from and to NCHW included. */
enum {
    IMPL_CONVKIT,
    IMPL_CONVKIT_NCHW,
    IMPL_DNNL_ANY,
    IMPL_DNNL_ANY_NCHW,
    IMPL_DNNL_16C,
    IMPL_DNNL_16C_NCHW,
    IMPL_IM2COL,
    N_IMPL
};
static const char *const IMPL_NAME[N_IMPL] = {"convkit",         "convkit_nchw", "onednn_any",
                                              "onednn_any_nchw", "onednn_16c",   "onednn_16c_nchw",
                                              "im2col_openblas"};

static bool impl_is_convkit(int impl) {
    return impl == IMPL_CONVKIT || impl == IMPL_CONVKIT_NCHW;
}

/* The input and weights of layer l: seeded normal values, the weights
 * scaled by 1/sqrt(fan-in). The parent (oneDNN, im2col) and convkit's
 * process each compute them from the same seed. */
static void layer_data(const layer_spec *l, uint64_t seed, float **x, float **w) {
    int64_t xn = (int64_t)l->C * l->H * l->W, wn = (int64_t)l->O * (l->C / l->g) * l->k * l->k;
    ck_shape xs = {4, {1, l->C, l->H, l->W}}, ws = {1, {wn}};
    ck_tensor_f32 *tx, *tw;
    if (ck_tensor_f32_new(&xs, &tx) != CK_OK || ck_tensor_f32_new(&ws, &tw) != CK_OK)
        die("out of memory");
    ck_tensor_f32_fill_normal(tx, seed);
    ck_tensor_f32_fill_normal(tw, seed + 1);
    float scale = 1.0f / sqrtf((float)(l->C / l->g * l->k * l->k));
    *x = xmalloc((size_t)xn * sizeof(float));
    *w = xmalloc((size_t)wn * sizeof(float));
    memcpy(*x, tx->data, (size_t)xn * sizeof(float));
    for (int64_t i = 0; i < wn; i++) (*w)[i] = tw->data[i] * scale;
    ck_tensor_f32_free(tx);
    ck_tensor_f32_free(tw);
}

typedef struct dnnl_var {
    bool ok;
    dnnl_primitive_t conv, r_src, r_dst; /* r_*: NULL when the layout is NCHW already */
    dnnl_memory_t m_src, m_w, m_dst, m_y;
    char *impl;
    const char *src_layout, *dst_layout;
    float *y; /* NCHW output of the reorder-included run */
} dnnl_var;

typedef struct layer_run {
    const layer_spec *l;
    int OH, OW;
    int64_t xn, yn, wn;
    float *x, *w;   /* NCHW input, [O, C/g, k, k] weights */
    float *y_ck[2]; /* NCHW outputs of convkit (IMPL_CONVKIT, IMPL_CONVKIT_NCHW) */
    float *y_ic;    /* and of im2col */
    /* oneDNN */
    dnnl_memory_t m_x;
    dnnl_var v[2]; /* format_tag_any, nChw16c */
    /* im2col */
    float *col;
} layer_run;

static dnnl_engine_t engine;
static dnnl_stream_t stream;

#define DNNL_OK(call)                                                                              \
    do {                                                                                           \
        dnnl_status_t st_ = (call);                                                                \
        if (st_ != dnnl_success) die("oneDNN: %s failed (status %d)", #call, (int)st_);            \
    } while (0)

static void exec2(dnnl_primitive_t p, dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    DNNL_OK(dnnl_primitive_execute(p, stream, 2, a));
}

static void reorder(const dnnl_memory_desc_t *from_md, const dnnl_memory_desc_t *to_md,
                    dnnl_primitive_t *out) {
    dnnl_primitive_desc_t pd;
    DNNL_OK(dnnl_reorder_primitive_desc_create(&pd, from_md, engine, to_md, engine, NULL));
    DNNL_OK(dnnl_primitive_create(out, pd));
    DNNL_OK(dnnl_primitive_desc_destroy(pd));
}

/* The name of md's layout among those oneDNN picks for activations. */
static const char *layout_name(const dnnl_memory_desc_t *md) {
    static const struct {
        dnnl_format_tag_t tag;
        const char *name;
    } tags[] = {{dnnl_nchw, "nchw"},
                {dnnl_nhwc, "nhwc"},
                {dnnl_nChw8c, "nChw8c"},
                {dnnl_nChw16c, "nChw16c"}};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        dnnl_memory_desc_t t;
        if (dnnl_memory_desc_init_by_tag(&t, md->ndims, md->dims, dnnl_f32, tags[i].tag) ==
                dnnl_success &&
            dnnl_memory_desc_equal(&t, md))
            return tags[i].name;
    }
    return "other";
}

/* oneDNN's direct convolution with activations in `tag` (format_tag_any:
 * the library's choice; a 3-channel input stays NCHW when forced), weights
 * always in the layout it asks for, reordered once outside every timing
 * (as a plan would). */
static void dnnl_var_setup(layer_run *r, dnnl_var *v, dnnl_format_tag_t tag) {
    const layer_spec *l = r->l;
    memset(v, 0, sizeof *v);
    v->y = xmalloc((size_t)r->yn * sizeof(float));
    dnnl_memory_desc_t x_md, y_md, src_a, w_a, dst_a, w_user;
    dnnl_dims_t xd = {1, l->C, l->H, l->W}, yd = {1, l->O, r->OH, r->OW};
    DNNL_OK(dnnl_memory_desc_init_by_tag(&x_md, 4, xd, dnnl_f32, dnnl_nchw));
    DNNL_OK(dnnl_memory_desc_init_by_tag(&y_md, 4, yd, dnnl_f32, dnnl_nchw));
    dnnl_format_tag_t stag = tag == dnnl_nChw16c && l->C % 16 ? dnnl_nchw : tag;
    DNNL_OK(dnnl_memory_desc_init_by_tag(&src_a, 4, xd, dnnl_f32, stag));
    DNNL_OK(dnnl_memory_desc_init_by_tag(&dst_a, 4, yd, dnnl_f32, tag));
    if (l->g == 1) {
        dnnl_dims_t wd = {l->O, l->C, l->k, l->k};
        DNNL_OK(dnnl_memory_desc_init_by_tag(&w_a, 4, wd, dnnl_f32, dnnl_format_tag_any));
        DNNL_OK(dnnl_memory_desc_init_by_tag(&w_user, 4, wd, dnnl_f32, dnnl_oihw));
    } else {
        dnnl_dims_t wd = {l->g, l->O / l->g, l->C / l->g, l->k, l->k};
        DNNL_OK(dnnl_memory_desc_init_by_tag(&w_a, 5, wd, dnnl_f32, dnnl_format_tag_any));
        DNNL_OK(dnnl_memory_desc_init_by_tag(&w_user, 5, wd, dnnl_f32, dnnl_goihw));
    }
    dnnl_dims_t strides = {l->s, l->s}, dil = {l->d - 1, l->d - 1}, pad = {l->p, l->p};
    dnnl_convolution_desc_t cd;
    DNNL_OK(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                       dnnl_convolution_direct, &src_a, &w_a, NULL,
                                                       &dst_a, strides, dil, pad, pad));
    dnnl_primitive_desc_t pd;
    if (dnnl_primitive_desc_create(&pd, &cd, NULL, engine, NULL) != dnnl_success) return;
    const char *impl = NULL;
    DNNL_OK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, (void *)&impl));
    v->impl = strdup(impl ? impl : "?");
    const dnnl_memory_desc_t *src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *w_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    v->src_layout = layout_name(src_md);
    v->dst_layout = layout_name(dst_md);
    DNNL_OK(dnnl_primitive_create(&v->conv, pd));
    /* an NCHW source is the input itself; an NCHW destination is v->y */
    bool src_nchw = dnnl_memory_desc_equal(src_md, &x_md);
    bool dst_nchw = dnnl_memory_desc_equal(dst_md, &y_md);
    DNNL_OK(dnnl_memory_create(&v->m_src, src_md, engine, src_nchw ? r->x : DNNL_MEMORY_ALLOCATE));
    DNNL_OK(dnnl_memory_create(&v->m_dst, dst_md, engine, dst_nchw ? v->y : DNNL_MEMORY_ALLOCATE));
    DNNL_OK(dnnl_memory_create(&v->m_y, &y_md, engine, v->y));
    DNNL_OK(dnnl_memory_create(&v->m_w, w_md, engine, DNNL_MEMORY_ALLOCATE));
    dnnl_memory_t m_wu;
    dnnl_primitive_t r_w;
    DNNL_OK(dnnl_memory_create(&m_wu, &w_user, engine, r->w));
    reorder(&w_user, w_md, &r_w);
    exec2(r_w, m_wu, v->m_w);
    DNNL_OK(dnnl_stream_wait(stream));
    DNNL_OK(dnnl_primitive_destroy(r_w));
    DNNL_OK(dnnl_memory_destroy(m_wu));
    if (!src_nchw) reorder(&x_md, src_md, &v->r_src);
    if (!dst_nchw) reorder(dst_md, &y_md, &v->r_dst);
    /* the source in its layout, once, for the reorder-free timing */
    if (v->r_src) exec2(v->r_src, r->m_x, v->m_src);
    DNNL_OK(dnnl_stream_wait(stream));
    DNNL_OK(dnnl_primitive_desc_destroy(pd));
    v->ok = true;
}

static void dnnl_var_free(dnnl_var *v) {
    if (v->ok) {
        dnnl_primitive_destroy(v->conv);
        if (v->r_src) dnnl_primitive_destroy(v->r_src);
        if (v->r_dst) dnnl_primitive_destroy(v->r_dst);
        dnnl_memory_destroy(v->m_src);
        dnnl_memory_destroy(v->m_dst);
        dnnl_memory_destroy(v->m_y);
        dnnl_memory_destroy(v->m_w);
    }
    free(v->impl);
    free(v->y);
}

/* The parent's side of a layer: data, oneDNN, im2col (convkit's side is
 * in convkit's process). */
static void layer_setup(layer_run *r, const layer_spec *l, uint64_t seed) {
    memset(r, 0, sizeof *r);
    r->l = l;
    r->OH = out_size(l->H, l->k, l->s, l->p, l->d);
    r->OW = out_size(l->W, l->k, l->s, l->p, l->d);
    r->xn = (int64_t)l->C * l->H * l->W;
    r->yn = (int64_t)l->O * r->OH * r->OW;
    r->wn = (int64_t)l->O * (l->C / l->g) * l->k * l->k;
    layer_data(l, seed, &r->x, &r->w);
    for (int v = 0; v < 2; v++) r->y_ck[v] = xmalloc((size_t)r->yn * sizeof(float));
    r->y_ic = xmalloc((size_t)r->yn * sizeof(float));

    dnnl_memory_desc_t x_md;
    dnnl_dims_t xd = {1, l->C, l->H, l->W};
    DNNL_OK(dnnl_memory_desc_init_by_tag(&x_md, 4, xd, dnnl_f32, dnnl_nchw));
    DNNL_OK(dnnl_memory_create(&r->m_x, &x_md, engine, r->x));
    dnnl_var_setup(r, &r->v[0], dnnl_format_tag_any);
    dnnl_var_setup(r, &r->v[1], dnnl_nChw16c);
    if (!r->v[0].ok) die("oneDNN has no convolution for '%s'", l->name);

    /* im2col: [C/g * k * k, OH * OW] per group; none for 1x1 stride 1 */
    if (!(l->k == 1 && l->s == 1 && l->p == 0))
        r->col = xmalloc((size_t)(l->C / l->g) * l->k * l->k * r->OH * r->OW * sizeof(float));
}

static void layer_free(layer_run *r) {
    free(r->x);
    free(r->w);
    for (int v = 0; v < 2; v++) free(r->y_ck[v]);
    free(r->y_ic);
    free(r->col);
    for (int i = 0; i < 2; i++) dnnl_var_free(&r->v[i]);
    dnnl_memory_destroy(r->m_x);
}

/* the convolution alone, in its layouts */
static void run_dnnl(dnnl_var *v) {
    dnnl_exec_arg_t a[3] = {
        {DNNL_ARG_SRC, v->m_src}, {DNNL_ARG_WEIGHTS, v->m_w}, {DNNL_ARG_DST, v->m_dst}};
    DNNL_OK(dnnl_primitive_execute(v->conv, stream, 3, a));
    DNNL_OK(dnnl_stream_wait(stream));
}

/* NCHW in, NCHW out: source reorder, convolution, destination reorder */
static void run_dnnl_nchw(layer_run *r, dnnl_var *v) {
    if (v->r_src) exec2(v->r_src, r->m_x, v->m_src);
    dnnl_exec_arg_t a[3] = {
        {DNNL_ARG_SRC, v->m_src}, {DNNL_ARG_WEIGHTS, v->m_w}, {DNNL_ARG_DST, v->m_dst}};
    DNNL_OK(dnnl_primitive_execute(v->conv, stream, 3, a));
    if (v->r_dst) exec2(v->r_dst, v->m_dst, v->m_y);
    DNNL_OK(dnnl_stream_wait(stream));
}

static void im2col(const float *x, int C, int H, int W, int k, int s, int p, int d, int OH, int OW,
                   float *col) {
    for (int c = 0; c < C; c++)
        for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++) {
                float *row = col + ((int64_t)(c * k + kh) * k + kw) * OH * OW;
                for (int oh = 0; oh < OH; oh++) {
                    int ih = oh * s - p + kh * d;
                    float *o = row + (int64_t)oh * OW;
                    if (ih < 0 || ih >= H) {
                        memset(o, 0, (size_t)OW * sizeof *o);
                        continue;
                    }
                    const float *xr = x + ((int64_t)c * H + ih) * W;
                    for (int ow = 0; ow < OW; ow++) {
                        int iw = ow * s - p + kw * d;
                        o[ow] = iw >= 0 && iw < W ? xr[iw] : 0.0f;
                    }
                }
            }
}

/* Caffe's scheme: per group, im2col then one sgemm W[O/g, K] x col[K, OH*OW]. */
static void run_im2col(layer_run *r) {
    const layer_spec *l = r->l;
    int cg = l->C / l->g, og = l->O / l->g, K = cg * l->k * l->k, N = r->OH * r->OW;
    for (int g = 0; g < l->g; g++) {
        const float *xg = r->x + (int64_t)g * cg * l->H * l->W;
        const float *b = xg;
        if (r->col) {
            im2col(xg, cg, l->H, l->W, l->k, l->s, l->p, l->d, r->OH, r->OW, r->col);
            b = r->col;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, og, N, K, 1.0f,
                    r->w + (int64_t)g * og * K, K, b, N, 0.0f, r->y_ic + (int64_t)g * og * N, N);
    }
}

static bool impl_ok(const layer_run *r, int impl) {
    return !(impl == IMPL_DNNL_16C || impl == IMPL_DNNL_16C_NCHW) || r->v[1].ok;
}

/* one call of an implementation that runs in this process */
static void run_impl(layer_run *r, int impl) {
    switch (impl) {
    case IMPL_DNNL_ANY:
        run_dnnl(&r->v[0]);
        break;
    case IMPL_DNNL_ANY_NCHW:
        run_dnnl_nchw(r, &r->v[0]);
        break;
    case IMPL_DNNL_16C:
        run_dnnl(&r->v[1]);
        break;
    case IMPL_DNNL_16C_NCHW:
        run_dnnl_nchw(r, &r->v[1]);
        break;
    case IMPL_IM2COL:
        run_im2col(r);
        break;
    default:
        die("run_impl: %d runs in convkit's process", impl);
    }
}

/* ---- networks ------------------------------------------------------------- */

typedef struct tensor_entry {
    char *name;
    int64_t n;
    float *data;
} tensor_entry;

typedef struct weights {
    int n;
    tensor_entry *v;
    int hits, misses;
} weights;

static void weights_free(weights *w) {
    for (int i = 0; i < w->n; i++) {
        free(w->v[i].name);
        free(w->v[i].data);
    }
    free(w->v);
    memset(w, 0, sizeof *w);
}

static bool read_exact(FILE *f, void *p, size_t n) {
    return fread(p, 1, n, f) == n;
}

/* bench/torch_models.py's export format */
static bool weights_read(const char *path, weights *w) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char magic[4];
    uint32_t count;
    bool ok = read_exact(f, magic, 4) && !memcmp(magic, "CKW1", 4) && read_exact(f, &count, 4) &&
              count < 100000;
    if (ok) {
        w->v = calloc(count, sizeof *w->v);
        ok = w->v != NULL;
    }
    for (uint32_t i = 0; ok && i < count; i++) {
        uint32_t len, rank;
        int64_t dims[8], n = 1;
        ok = read_exact(f, &len, 4) && len < 4096;
        if (!ok) break;
        char *name = xmalloc(len + 1);
        ok = read_exact(f, name, len) && read_exact(f, &rank, 4) && rank <= 8 &&
             read_exact(f, dims, rank * sizeof *dims);
        name[len] = 0;
        for (uint32_t k = 0; ok && k < rank; k++) n *= dims[k];
        float *data = ok ? xmalloc((size_t)n * sizeof *data) : NULL;
        ok = ok && read_exact(f, data, (size_t)n * sizeof *data);
        w->v[w->n++] = (tensor_entry){name, n, data};
    }
    fclose(f);
    if (!ok) weights_free(w);
    return ok;
}

static const float *net_param(void *user, const char *layer, const char *param,
                              const ck_shape *shape) {
    weights *w = user;
    char key[512];
    snprintf(key, sizeof key, "%s.%s", layer, param);
    int64_t n = 1;
    for (int i = 0; i < shape->rank; i++) n *= shape->d[i];
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->v[i].name, key) && w->v[i].n == n) {
            w->hits++;
            return w->v[i].data;
        }
    w->misses++;
    return NULL;
}

/* A convkit session of a .cnn network at batch `batch`. */
typedef struct net_session {
    ck_graph *g;
    ck_session *s;
    ck_session_ctx *ctx;
    ck_tensor_f32 *x, *y;
    int64_t macs;
} net_session;

static void net_open(net_session *n, const char *path, int batch, int threads, weights *w,
                     uint64_t seed) {
    memset(n, 0, sizeof *n);
    ck_diags d = {0};
    if (ck_load_file(path, NULL, &n->g, &d) != CK_OK) die("cannot read %s", path);
    ck_shape in = {4, {batch, 3, 224, 224}};
    if (ck_graph_set_input_shape(n->g, 0, &in) != CK_OK || ck_check(n->g, &d) != CK_OK)
        die("%s does not check at %lldx3x224x224", path, (long long)batch);
    n->macs = ck_graph_totals(n->g).macs;
    ck_session_options so = {
        .seed = seed, .params = w ? net_param : NULL, .params_user = w, .threads = threads};
    if (ck_session_new(n->g, &so, &n->s, &d) != CK_OK || ck_session_ctx_new(n->s, &n->ctx) != CK_OK)
        die("convkit cannot run %s: %s", path, d.n && d.v[0].message ? d.v[0].message : "?");
    ck_diags_free(&d);
    ck_shape ys = ck_session_output_shape(n->s, 0);
    if (ck_tensor_f32_new(&in, &n->x) != CK_OK || ck_tensor_f32_new(&ys, &n->y) != CK_OK)
        die("out of memory");
    ck_tensor_f32_fill_normal(n->x, seed + (uint64_t)batch);
}

static void net_run(net_session *n) {
    const float *in[1] = {n->x->data};
    float *out[1] = {n->y->data};
    ck_session_run(n->s, n->ctx, in, out);
}

static void net_close(net_session *n) {
    ck_tensor_f32_free(n->x);
    ck_tensor_f32_free(n->y);
    ck_session_ctx_free(n->ctx);
    ck_session_free(n->s);
    ck_graph_free(n->g);
}

/* ---- convkit's process -------------------------------------------------------- */

/* convkit runs in a process of its own: forked at the start, before the
 * harness initialises oneDNN or calls OpenBLAS, and driven over a pipe like
 * the PyTorch child (one text command, one "ok ..." line back, then raw
 * floats for "out"). Nothing else runs in it: no libgomp team, no OpenBLAS
 * threads (those of the parent are not forked), no oneDNN memory. It times
 * its own samples (clock_gettime around the calls), so the pipe is not in
 * any number. --convkit-in-process runs the same server in the harness
 * process instead (for comparison). */

typedef struct ck_layer {
    const layer_spec *l;
    int64_t xn, yn, wn;
    float *x, *w, *eye_c, *eye_o;
    /* [0]: input -> pre -> conv -> post (IMPL_CONVKIT); [1]: conv alone (IMPL_CONVKIT_NCHW) */
    ck_graph *g[2];
    ck_session *s[2];
    ck_session_ctx *c[2];
    float *y[2];
    double *sec;       /* step times of [0] */
    int mid[8], n_mid; /* the steps of layer "conv" in [0] */
    char kernel[2][256];
} ck_layer;

static int64_t shape_numel(const ck_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->d[i];
    return n;
}

/* weights: the layer's for "conv"; the identity for "pre" and "post", so
 * that the output of [0] is the layer's own and is checked like [1]'s */
static const float *ckl_param(void *user, const char *layer, const char *param,
                              const ck_shape *shape) {
    ck_layer *r = user;
    int64_t n = shape_numel(shape);
    if (strcmp(param, "weight")) return NULL;
    if (!strcmp(layer, "conv") && n == r->wn) return r->w;
    if (!strcmp(layer, "pre") && n == (int64_t)r->l->C * r->l->C) return r->eye_c;
    if (!strcmp(layer, "post") && n == (int64_t)r->l->O * r->l->O) return r->eye_o;
    return NULL;
}

static float *eye(int n) {
    float *e = calloc((size_t)n * (size_t)n, sizeof *e);
    if (!e) die("out of memory");
    for (int i = 0; i < n; i++) e[(int64_t)i * n + i] = 1.0f;
    return e;
}

/* the kernels of the steps of layer "conv" in session s, joined by " + ";
 * their indices in mid[] */
static int conv_steps(const ck_session *s, int *mid, int max, char *kernel, size_t kn) {
    int n = 0;
    kernel[0] = 0;
    for (int i = 0; i < ck_session_describe(s).steps; i++) {
        ck_step_info in;
        if (ck_session_step(s, i, &in) != CK_OK || strcmp(in.layer, "conv")) continue;
        if (n < max) mid[n] = i;
        size_t len = strlen(kernel);
        snprintf(kernel + len, kn - len, "%s%s", n ? " + " : "", in.kernel);
        n++;
    }
    return n;
}

static void ckl_setup(ck_layer *r, const layer_spec *l, uint64_t seed) {
    memset(r, 0, sizeof *r);
    r->l = l;
    int OH = out_size(l->H, l->k, l->s, l->p, l->d), OW = out_size(l->W, l->k, l->s, l->p, l->d);
    r->xn = (int64_t)l->C * l->H * l->W;
    r->yn = (int64_t)l->O * OH * OW;
    r->wn = (int64_t)l->O * (l->C / l->g) * l->k * l->k;
    layer_data(l, seed, &r->x, &r->w);
    r->eye_c = eye(l->C);
    r->eye_o = eye(l->O);
    /* PyTorch's Conv2d arguments */
    char conv[256], text[2][1024];
    bench_conv_text(l, conv, sizeof conv);
    snprintf(text[0], sizeof text[0],
             "input: [1, %d, %d, %d]\npre = Conv2d(%d, %d, 1, bias=False)\n%spost = Conv2d(%d, "
             "%d, 1, bias=False)\n",
             l->C, l->H, l->W, l->C, l->C, conv, l->O, l->O);
    snprintf(text[1], sizeof text[1], "input: [1, %d, %d, %d]\n%s", l->C, l->H, l->W, conv);
    for (int v = 0; v < 2; v++) {
        ck_diags d = {0};
        if (ck_parse_cnn(text[v], strlen(text[v]), l->name, NULL, &r->g[v], &d) != CK_OK ||
            ck_check(r->g[v], &d) != CK_OK)
            die("convkit rejects layer '%s': %s", l->name,
                d.n && d.v[0].message ? d.v[0].message : "?");
        ck_session_options so = {
            .seed = 0, .params = ckl_param, .params_user = r, .threads = g_threads};
        if (ck_session_new(r->g[v], &so, &r->s[v], &d) != CK_OK ||
            ck_session_ctx_new(r->s[v], &r->c[v]) != CK_OK)
            die("convkit cannot build a session for '%s': %s", l->name,
                d.n && d.v[0].message ? d.v[0].message : "?");
        ck_diags_free(&d);
        ck_shape ys = ck_session_output_shape(r->s[v], 0);
        if (ys.rank != 4 || ys.d[1] != l->O || ys.d[2] != OH || ys.d[3] != OW)
            die("convkit's output shape for '%s' differs", l->name);
        r->y[v] = xmalloc((size_t)r->yn * sizeof(float));
    }
    int mid1[8];
    r->n_mid = conv_steps(r->s[0], r->mid, 8, r->kernel[0], sizeof r->kernel[0]);
    if (r->n_mid < 1 || r->n_mid > 8 ||
        conv_steps(r->s[1], mid1, 8, r->kernel[1], sizeof r->kernel[1]) < 1)
        die("convkit runs no step for the convolution of '%s'", l->name);
    r->sec = xmalloc((size_t)ck_session_describe(r->s[0]).steps * sizeof *r->sec);
}

static void ckl_free(ck_layer *r) {
    for (int v = 0; v < 2; v++) {
        ck_session_ctx_free(r->c[v]);
        ck_session_free(r->s[v]);
        ck_graph_free(r->g[v]);
        free(r->y[v]);
    }
    free(r->x);
    free(r->w);
    free(r->eye_c);
    free(r->eye_o);
    free(r->sec);
    memset(r, 0, sizeof *r);
}

/* One call of variant v; for [0] returns the ms of its convolution steps. */
static double ckl_run(ck_layer *r, int v) {
    const float *in[1] = {r->x};
    float *out[1] = {r->y[v]};
    if (v == 1) {
        ck_session_run(r->s[1], r->c[1], in, out);
        return 0;
    }
    ck_session_run_profiled(r->s[0], r->c[0], in, out, r->sec);
    double t = 0;
    for (int i = 0; i < r->n_mid; i++) t += r->sec[r->mid[i]];
    return 1e3 * t;
}

typedef struct ck_server {
    ck_layer L;
    bool have_layer, have_net;
    net_session N;
    weights w;
    bool have_w;
} ck_server;

static void server_free(ck_server *sv) {
    if (sv->have_layer) ckl_free(&sv->L);
    if (sv->have_net) net_close(&sv->N);
    weights_free(&sv->w);
    memset(sv, 0, sizeof *sv);
}

/* Runs one command; the reply goes to out. false on "quit". */
static bool serve(ck_server *sv, const char *line, FILE *out) {
    char arg[600];
    int a = 0, b = 0;
    unsigned long long seed = 0;
    double ms = 0;
    if (!strcmp(line, "quit")) return false;
    if (sscanf(line, "layer %d %llu", &a, &seed) == 2 && a >= 0 && a < N_LAYERS) {
        if (sv->have_layer) ckl_free(&sv->L);
        ckl_setup(&sv->L, &LAYERS[a], seed);
        sv->have_layer = true;
        pin_threads();
        ck_session_info ci = ck_session_describe(sv->L.s[0]);
        fprintf(out, "ok\t%d\t%s\t%s\t%s\n", ci.threads, kernels_name(ci.kernels), sv->L.kernel[0],
                sv->L.kernel[1]);
    } else if (sv->have_layer && sscanf(line, "calib %d %lf", &a, &ms) == 2 && (a == 0 || a == 1)) {
        /* one call, then calls for a quarter of a sample: the calls per sample */
        ckl_run(&sv->L, a);
        int n = 0;
        double t0 = now_ms(), t;
        do {
            ckl_run(&sv->L, a);
            n++;
            t = now_ms() - t0;
        } while (t < ms / 4 && n < 100000);
        t /= n;
        int k = (int)ceil(ms / (t > 1e-4 ? t : 1e-4));
        fprintf(out, "ok %d\n", k < 1 ? 1 : k > 100000 ? 100000 : k);
    } else if (sv->have_layer && sscanf(line, "time %d %d", &a, &b) == 2 && (a == 0 || a == 1) &&
               b > 0) {
        double part = 0, t0 = now_ms();
        for (int k = 0; k < b; k++) part += ckl_run(&sv->L, a);
        double all = (now_ms() - t0) / b;
        fprintf(out, "ok %.9g %.9g\n", a == 0 ? part / b : all, all);
    } else if (sv->have_layer && sscanf(line, "out %d", &a) == 1 && (a == 0 || a == 1)) {
        fprintf(out, "ok %lld\n", (long long)sv->L.yn);
        fwrite(sv->L.y[a], sizeof(float), (size_t)sv->L.yn, out);
    } else if (sscanf(line, "weights %599s", arg) == 1) {
        weights_free(&sv->w);
        sv->have_w = strcmp(arg, "-") && weights_read(arg, &sv->w);
        fprintf(out, "ok %d\n", sv->have_w);
    } else if (sscanf(line, "net %599s %d %d", arg, &b, &a) == 3 && b > 0 && a > 0) {
        if (sv->have_net) net_close(&sv->N);
        sv->w.hits = sv->w.misses = 0;
        net_open(&sv->N, arg, b, a, sv->have_w ? &sv->w : NULL, 0);
        sv->have_net = true;
        pin_threads();
        net_run(&sv->N); /* warm */
        ck_session_info ci = ck_session_describe(sv->N.s);
        fprintf(out, "ok %d %d %s %d %d %d %lld\n", sv->have_w ? sv->w.misses : -1, ci.threads,
                kernels_name(ci.kernels), ci.steps, ci.fast_steps, ci.folded_steps,
                (long long)sv->N.macs);
    } else if (sv->have_net && !strcmp(line, "netrun")) {
        double t0 = now_ms();
        net_run(&sv->N);
        fprintf(out, "ok %.9g\n", now_ms() - t0);
    } else if (sv->have_net && sscanf(line, "netx %599s", arg) == 1) {
        ck_diags d = {0};
        ck_status st = ck_npy_write(arg, sv->N.x, &d);
        ck_diags_free(&d);
        fprintf(out, st == CK_OK ? "ok\n" : "error cannot write %s\n", arg);
    } else if (sv->have_net && sscanf(line, "netdiff %599s", arg) == 1) {
        ck_diags d = {0};
        ck_tensor_f32 *ty = NULL;
        double diff = NAN;
        if (ck_npy_read(arg, &ty, &d) == CK_OK &&
            ck_tensor_f32_numel(ty) == ck_tensor_f32_numel(sv->N.y))
            diff = rel_diff(sv->N.y->data, ty->data, ck_tensor_f32_numel(ty));
        ck_tensor_f32_free(ty);
        ck_diags_free(&d);
        fprintf(out, "ok %.9g\n", diff);
    } else if (sscanf(line, "create %599s %d", arg, &a) == 2 && a > 0) {
        /* session creation as `convkit run` does it: read the file, check
         * it, plan the session and pack its weights, make a context */
        ck_diags d = {0};
        ck_graph *g = NULL;
        ck_session *s = NULL;
        ck_session_ctx *cx = NULL;
        ck_session_options so = {.threads = a};
        /* one thread does this, unpinned like ONNX Runtime's (on a busy
         * machine a pinned thread cannot move off a CPU someone else holds) */
        unpin_self();
        double t0 = now_ms();
        bool ok = ck_load_file(arg, NULL, &g, &d) == CK_OK && ck_check(g, &d) == CK_OK &&
                  ck_session_new(g, &so, &s, &d) == CK_OK && ck_session_ctx_new(s, &cx) == CK_OK;
        double t = now_ms() - t0;
        ck_session_ctx_free(cx);
        ck_session_free(s);
        ck_graph_free(g);
        ck_diags_free(&d);
        pin_threads();
        if (ok)
            fprintf(out, "ok %.9g\n", t);
        else
            fprintf(out, "error cannot build a session of %s\n", arg);
    } else if (!strcmp(line, "netclose")) {
        if (sv->have_net) net_close(&sv->N);
        sv->have_net = false;
        fprintf(out, "ok\n");
    } else {
        fprintf(out, "error: unknown command '%s'\n", line);
    }
    return true;
}

typedef struct ck_client {
    bool local; /* --convkit-in-process */
    ck_server sv;
    FILE *to, *from;
    pid_t pid;
    char *mbuf; /* in process: the last reply */
    size_t mlen, mpos;
} ck_client;

static void ck_start(ck_client *c, bool local) {
    memset(c, 0, sizeof *c);
    c->local = local;
    if (local) return;
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) die("pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    c->pid = fork();
    if (c->pid < 0) die("fork: %s", strerror(errno));
    if (c->pid == 0) {
        g_in_child = true;
        close(to[1]);
        close(from[0]);
        FILE *in = fdopen(to[0], "r"), *out = fdopen(from[1], "w");
        if (!in || !out) _exit(1);
        char line[1024];
        while (fgets(line, sizeof line, in)) {
            line[strcspn(line, "\n")] = 0;
            if (!serve(&c->sv, line, out)) break;
            fflush(out);
        }
        server_free(&c->sv);
        fclose(out);
        _exit(0); /* no atexit handlers: the parent's libraries are not ours */
    }
    close(to[0]);
    close(from[1]);
    c->to = fdopen(to[1], "w");
    c->from = fdopen(from[0], "r");
    if (!c->to || !c->from) die("fdopen: %s", strerror(errno));
    g_ck_child = c->pid;
}

/* Sends one command; returns the reply after "ok" and a blank, and dies on
 * anything else (a harness bug, or convkit failed). */
static const char *ck_call(ck_client *c, char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *ck_call(ck_client *c, char *buf, size_t n, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c->local) {
        free(c->mbuf);
        c->mbuf = NULL;
        FILE *m = open_memstream(&c->mbuf, &c->mlen);
        if (!m) die("out of memory");
        serve(&c->sv, line, m);
        fclose(m);
        size_t k = strcspn(c->mbuf, "\n");
        snprintf(buf, n, "%.*s", (int)k, c->mbuf);
        c->mpos = k < c->mlen ? k + 1 : k;
    } else {
        fprintf(c->to, "%s\n", line);
        fflush(c->to);
        if (!fgets(buf, (int)n, c->from)) die("convkit's process stopped answering ('%s')", line);
        buf[strcspn(buf, "\n")] = 0;
    }
    if (strncmp(buf, "ok", 2) != 0) die("convkit's process: %s ('%s')", buf, line);
    return buf[2] ? buf + 3 : buf + 2;
}

/* the floats that follow an "out" reply */
static void ck_floats(ck_client *c, float *dst, int64_t n) {
    size_t bytes = (size_t)n * sizeof *dst;
    if (c->local) {
        if (c->mlen - c->mpos < bytes) die("convkit: short output");
        memcpy(dst, c->mbuf + c->mpos, bytes);
    } else if (fread(dst, 1, bytes, c->from) != bytes) {
        die("convkit's process: short output");
    }
}

static void ck_stop(ck_client *c) {
    if (c->local) {
        server_free(&c->sv);
        free(c->mbuf);
        return;
    }
    fputs("quit\n", c->to);
    fclose(c->to);
    fclose(c->from);
    waitpid(c->pid, NULL, 0);
    g_ck_child = 0;
}

/* ---- the PyTorch child ------------------------------------------------------ */

typedef struct torch_proc {
    pid_t pid;
    FILE *to, *from;
    bool ok;
} torch_proc;

/* Starts argv[0] as a child driven over a pipe (its stdin and stdout), on
 * every CPU (it places its own threads); `torch_malloc`: with glibc's
 * allocator fixed for PyTorch (below). */
static bool child_start(torch_proc *t, char *const *argv, bool torch_malloc) {
    memset(t, 0, sizeof *t);
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return false;
    t->pid = fork();
    if (t->pid < 0) return false;
    if (t->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        /* glibc's allocator, fixed in its fastest state for PyTorch: by
         * default a fresh process mmaps (and page-faults) every activation
         * over 128 KiB until some large free raises the threshold, which
         * makes PyTorch's latency depend on what ran before (MobileNetV2,
         * batch 1: 23 ms fresh, 11 ms after a batch-8 pass). convkit plans
         * its activation memory once and does not depend on this. */
        if (torch_malloc) {
            setenv("MALLOC_MMAP_THRESHOLD_", "33554432", 0);
            setenv("MALLOC_TRIM_THRESHOLD_", "268435456", 0);
        }
        unpin_self();
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    t->to = fdopen(in[1], "w");
    t->from = fdopen(out[0], "r");
    t->ok = t->to && t->from;
    return t->ok;
}

static bool torch_start(torch_proc *t, const opts *o) {
    if (access(o->python, X_OK) != 0 || access(o->torch_script, R_OK) != 0) return false;
    char *argv[] = {(char *)o->python, (char *)o->torch_script, "--serve", NULL};
    bool ok = child_start(t, argv, !o->torch_default_malloc);
    g_child = t->pid;
    return ok;
}

/* Sends one command; returns the reply after "ok " (or "" for a bare "ok")
 * in buf, or NULL (and the child is given up) on anything else. */
static const char *torch_cmd(torch_proc *t, char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *torch_cmd(torch_proc *t, char *buf, size_t n, const char *fmt, ...) {
    if (!t->ok) return NULL;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(t->to, fmt, ap);
    va_end(ap);
    fputc('\n', t->to);
    fflush(t->to);
    if (!fgets(buf, (int)n, t->from)) {
        fprintf(stderr, "bench: PyTorch stopped answering\n");
        t->ok = false;
        return NULL;
    }
    buf[strcspn(buf, "\n")] = 0;
    if (strncmp(buf, "ok", 2) != 0) {
        fprintf(stderr, "bench: PyTorch: %s\n", buf);
        return NULL;
    }
    return buf[2] == ' ' ? buf + 3 : buf + 2;
}

static void torch_stop(torch_proc *t) {
    if (t->to) {
        fputs("quit\n", t->to);
        fclose(t->to);
    }
    if (t->from) fclose(t->from);
    if (t->pid > 0) waitpid(t->pid, NULL, 0);
    if (t->pid == g_child) g_child = 0;
    if (t->pid == g_ort_child) g_ort_child = 0;
    memset(t, 0, sizeof *t);
}

/* ---- the ONNX Runtime child ------------------------------------------------- */

/* bench/ort/ort_serve.js under Node (onnxruntime-node from bench/ort/
 * node_modules), driven over a pipe like the PyTorch child (torch_cmd).
 * Not pinned: it places its own threads, as PyTorch does. */
static bool ort_start(torch_proc *t, const opts *o) {
    char mod[600], script[600];
    snprintf(mod, sizeof mod, "%s/node_modules/onnxruntime-node/package.json", o->ort_dir);
    snprintf(script, sizeof script, "%s/ort_serve.js", o->ort_dir);
    if (access(mod, R_OK) != 0 || access(script, R_OK) != 0) return false;
    char *argv[] = {(char *)o->node, script, NULL};
    bool ok = child_start(t, argv, false);
    g_ort_child = t->pid;
    return ok;
}

/* ---- whole processes ----------------------------------------------------------- */

/* Runs argv as a fresh process (stdout and stderr to /dev/null, every CPU
 * allowed); its wall time in ms from fork to exit, its peak resident set in
 * MiB; NAN when it fails. */
static double run_process(char *const *argv, double *rss_mib) {
    fflush(stdout);
    fflush(stderr);
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) return NAN;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        unpin_self();
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) return NAN;
    double t = now_ms() - t0;
    *rss_mib = (double)ru.ru_maxrss / 1024.0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : NAN;
}

/* ---- main --------------------------------------------------------------- */

typedef struct stat3 {
    double med, min, max;
} stat3;

static stat3 stats(const double *v, int n) {
    return (stat3){median_of(v, n), min_of(v, n), max_of(v, n)};
}

static json_t *jnum(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

static void set_threads(int n) {
    /* oneDNN runs on libgomp here (Debian's build): its thread count. The
     * symbol is looked up because the harness is not an OpenMP program. */
    void (*omp_set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (omp_set) omp_set(n);
    openblas_set_num_threads(n);
}

int main(int argc, char **argv) {
    opts o = parse_opts(argc, argv);
    g_threads = o.threads;
    double t_start = now_ms();
    signal(SIGPIPE, SIG_IGN); /* a child that died is reported, not fatal by signal */
    /* convkit's process first: before oneDNN or OpenBLAS do anything here */
    ck_client cc;
    g_pin = o.pin;
    cpus_init();
    ck_start(&cc, o.convkit_in_process);
    set_threads(o.threads);
    json_t *J = json_object();
    json_object_set_new(J, "threads", json_integer(o.threads));
    json_object_set_new(J, "convkit_process",
                        json_string(o.convkit_in_process ? "harness" : "own"));
    json_object_set_new(J, "threads_pinned", json_boolean(g_pin));
    double load0 = load_average();
    json_object_set_new(J, "load_average_start", jnum(load0));
    const dnnl_version_t *dv = dnnl_version();
    char dnnl_ver[64];
    snprintf(dnnl_ver, sizeof dnnl_ver, "%d.%d.%d", dv->major, dv->minor, dv->patch);
    json_object_set_new(J, "onednn_version", json_string(dnnl_ver));
    printf(
        "convkit bench: %d threads for convkit (%s), oneDNN %s, OpenBLAS and the peak%s; "
        "networks with 1 and %d threads for each of convkit, ONNX Runtime and PyTorch (those two "
        "not pinned)\n",
        o.threads, o.convkit_in_process ? "in this process" : "in its own process", dnnl_ver,
        g_pin ? " (each thread pinned to a CPU)" : "", o.threads);
    {
        char cpu[256] = "?";
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
                snprintf(cpu, sizeof cpu, "%s", strchr(line, ':') + 2);
                cpu[strcspn(cpu, "\n")] = 0;
                break;
            }
        if (f) fclose(f);
        printf("CPU: %s, %d CPUs\n", cpu, g_ncpu);
        json_object_set_new(J, "cpu", json_string(cpu));
    }
    printf("load average at start: %.2f%s\n", load0,
           load0 > 0.5 ? "  (WARNING: the machine is busy; numbers will be noisy)" : "");

    /* peak: best of 5 */
    float sink = 0;
    double pk512 = 0, pk2 = 0;
    bool has512 = __builtin_cpu_supports("avx512f"),
         has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    for (int i = 0; i < 5; i++) {
        if (has512) {
            double v = peak_gflops(1, o.threads, 20000000L, &sink);
            pk512 = v > pk512 ? v : pk512;
        }
        if (has2) {
            double v = peak_gflops(0, o.threads, 20000000L, &sink);
            pk2 = v > pk2 ? v : pk2;
        }
    }
    /* the machine's peak: the faster ISA (on cores that split 512-bit FMAs
     * in two, AVX2 reaches the same rate) */
    double peak = pk512 > pk2 ? pk512 : pk2;
    printf("peak FP32, measured (FMA loops, %d threads): AVX-512 %.1f GFLOP/s, AVX2 %.1f GFLOP/s "
           "(sink %g)\n\n",
           o.threads, pk512, pk2, (double)(sink * 0.0f));
    json_t *jp = json_object();
    json_object_set_new(jp, "avx512_gflops", has512 ? json_real(pk512) : json_null());
    json_object_set_new(jp, "avx2_gflops", has2 ? json_real(pk2) : json_null());
    json_object_set_new(jp, "threads", json_integer(o.threads));
    json_object_set_new(jp, "gflops", json_real(peak));
    json_object_set_new(J, "peak", jp);

    DNNL_OK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    DNNL_OK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));

    /* ---- layers ---- */
    json_t *jl = json_array();
    double ratios[N_LAYERS], ratios_nchw[N_LAYERS];
    int n_ratios = 0;
    char buf[1024];
    if (o.layers) {
        printf("Layers, batch 1: median ms of %d interleaved rounds; GFLOP = 2 x convkit's MACs "
               "(padding taps included); %% = of the %.0f GFLOP/s peak; convkit = its convolution "
               "step between two "
               "1x1 convolutions (its own layouts), convkit nchw = a one-layer session (NCHW in "
               "and out); oneDNN = the faster of its own layout choice and nChw16c\n\n",
               o.layer_rounds, peak);
        printf("| layer | MFLOP | convkit ms | kernel | GF/s | %% | convkit nchw ms | %% | oneDNN "
               "ms | layout | GF/s | %% | oneDNN+reorders ms | %% | im2col+BLAS ms | %% | "
               "convkit/oneDNN | check |\n");
        printf("|---|--:|--:|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|---|\n");
        fflush(stdout);
    }
    for (int li = 0; o.layers && li < N_LAYERS; li++) {
        const layer_spec *l = &LAYERS[li];
        if (o.only && !strstr(l->name, o.only)) continue;
        uint64_t seed = 1000 + (uint64_t)li;
        layer_run r;
        layer_setup(&r, l, seed);
        double flops = layer_flops(l);
        /* convkit's sessions: threads, kernel family, the convolution's kernels */
        const char *rep =
            ck_call(&cc, buf, sizeof buf, "layer %d %llu", li, (unsigned long long)seed);
        char ck_family[16] = "?", ck_kernel[2][256] = {"?", "?"};
        int ck_threads = 0;
        {
            char *f[4] = {0}, *save = NULL, *t = strdup(rep);
            f[0] = strtok_r(t, "\t", &save);
            for (int i = 1; i < 4 && f[i - 1]; i++) f[i] = strtok_r(NULL, "\t", &save);
            if (!f[3]) die("convkit's process: '%s'", rep);
            ck_threads = atoi(f[0]);
            snprintf(ck_family, sizeof ck_family, "%s", f[1]);
            snprintf(ck_kernel[0], sizeof ck_kernel[0], "%s", f[2]);
            snprintf(ck_kernel[1], sizeof ck_kernel[1], "%s", f[3]);
            free(t);
        }
        /* one call each for the outputs (NCHW everywhere), then calls for a
         * quarter of a sample to choose the calls per sample */
        int reps[N_IMPL] = {0};
        for (int i = 0; i < N_IMPL; i++) {
            if (!impl_ok(&r, i)) continue;
            if (impl_is_convkit(i)) {
                int v = i == IMPL_CONVKIT_NCHW;
                reps[i] = atoi(ck_call(&cc, buf, sizeof buf, "calib %d %g", v, o.sample_ms));
                ck_call(&cc, buf, sizeof buf, "out %d", v);
                ck_floats(&cc, r.y_ck[v], r.yn);
                settle(o.settle_ms);
                continue;
            }
            run_impl(&r, i);
            int n = 0;
            double t0 = now_ms(), t;
            do {
                run_impl(&r, i);
                n++;
                t = now_ms() - t0;
            } while (t < o.sample_ms / 4 && n < 100000);
            t /= n;
            int k = (int)ceil(o.sample_ms / (t > 1e-4 ? t : 1e-4));
            reps[i] = k < 1 ? 1 : k > 100000 ? 100000 : k;
            settle(o.settle_ms);
        }
        const float *ref = r.v[0].y;
        double diff[N_IMPL];
        bool same = true;
        for (int i = 0; i < N_IMPL; i++) {
            const float *y = i == IMPL_CONVKIT                               ? r.y_ck[0]
                             : i == IMPL_CONVKIT_NCHW                        ? r.y_ck[1]
                             : i == IMPL_IM2COL                              ? r.y_ic
                             : i == IMPL_DNNL_16C || i == IMPL_DNNL_16C_NCHW ? r.v[1].y
                                                                             : r.v[0].y;
            diff[i] = impl_ok(&r, i) ? rel_diff(y, ref, r.yn) : NAN;
            same &= !impl_ok(&r, i) || diff[i] < 1e-4;
        }
        pin_threads(); /* oneDNN's and OpenBLAS's workers exist now */
        double *samp[N_IMPL], *ck_net = xmalloc((size_t)o.layer_rounds * sizeof(double));
        for (int i = 0; i < N_IMPL; i++) samp[i] = xmalloc((size_t)o.layer_rounds * sizeof(double));
        for (int round = 0; round < o.layer_rounds; round++)
            for (int j = 0; j < N_IMPL; j++) {
                int i = (j + round) % N_IMPL;
                if (!impl_ok(&r, i)) {
                    samp[i][round] = NAN;
                    continue;
                }
                if (impl_is_convkit(i)) {
                    double part = NAN, all = NAN;
                    rep = ck_call(&cc, buf, sizeof buf, "time %d %d", i == IMPL_CONVKIT_NCHW,
                                  reps[i]);
                    if (sscanf(rep, "%lf %lf", &part, &all) != 2)
                        die("convkit's process: '%s'", rep);
                    samp[i][round] = part;
                    if (i == IMPL_CONVKIT) ck_net[round] = all;
                } else {
                    double t0 = now_ms();
                    for (int k = 0; k < reps[i]; k++) run_impl(&r, i);
                    samp[i][round] = (now_ms() - t0) / reps[i];
                }
                settle(o.settle_ms);
            }
        stat3 st[N_IMPL];
        for (int i = 0; i < N_IMPL; i++) st[i] = stats(samp[i], o.layer_rounds);
        stat3 st_net = stats(ck_net, o.layer_rounds);
        /* oneDNN: the faster of its two layouts, and that one's reorder number */
        int best = impl_ok(&r, IMPL_DNNL_16C) && st[IMPL_DNNL_16C].med < st[IMPL_DNNL_ANY].med;
        int bi = best ? IMPL_DNNL_16C : IMPL_DNNL_ANY, bn = bi + 1;
        const dnnl_var *bv = &r.v[best];
        double ratio = st[IMPL_CONVKIT].med / st[bi].med;
        double ratio_nchw = st[IMPL_CONVKIT_NCHW].med / st[bn].med;
        ratios[n_ratios] = ratio;
        ratios_nchw[n_ratios++] = ratio_nchw;
#define GF(i) (flops / st[i].med / 1e6)
#define PC(i) (100.0 * GF(i) / peak)
        char layout[48];
        if (!strcmp(bv->src_layout, bv->dst_layout))
            snprintf(layout, sizeof layout, "%s", bv->src_layout);
        else
            snprintf(layout, sizeof layout, "%s>%s", bv->src_layout, bv->dst_layout);
        printf("| %s | %.1f | %.3f | %s | %.1f | %.1f | %.3f | %.1f | %.3f | %s | %.1f | %.1f | "
               "%.3f | %.1f | %.3f | %.1f | %.2f | %s |\n",
               l->name, flops / 1e6, st[IMPL_CONVKIT].med, ck_kernel[0], GF(IMPL_CONVKIT),
               PC(IMPL_CONVKIT), st[IMPL_CONVKIT_NCHW].med, PC(IMPL_CONVKIT_NCHW), st[bi].med,
               layout, GF(bi), PC(bi), st[bn].med, PC(bn), st[IMPL_IM2COL].med, PC(IMPL_IM2COL),
               ratio, same ? "ok" : "MISMATCH");
        fflush(stdout);
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(l->name));
        json_t *conv = json_object();
        json_object_set_new(conv, "in_channels", json_integer(l->C));
        json_object_set_new(conv, "out_channels", json_integer(l->O));
        json_object_set_new(conv, "kernel", json_integer(l->k));
        json_object_set_new(conv, "stride", json_integer(l->s));
        json_object_set_new(conv, "padding", json_integer(l->p));
        json_object_set_new(conv, "dilation", json_integer(l->d));
        json_object_set_new(conv, "groups", json_integer(l->g));
        json_object_set_new(conv, "input", json_pack("[iiii]", 1, l->C, l->H, l->W));
        json_object_set_new(conv, "output", json_pack("[iiii]", 1, l->O, r.OH, r.OW));
        json_object_set_new(e, "conv", conv);
        json_object_set_new(e, "flops", json_real(flops));
        for (int i = 0; i < N_IMPL; i++) {
            json_t *m = json_object();
            if (impl_is_convkit(i)) {
                int v = i == IMPL_CONVKIT_NCHW;
                /* "kernels": the family of the convolution's kernel ("ref"
                 * when it runs the reference kernel) */
                json_object_set_new(
                    m, "kernels", json_string(strncmp(ck_kernel[v], "ref", 3) ? ck_family : "ref"));
                json_object_set_new(m, "kernel", json_string(ck_kernel[v]));
                json_object_set_new(m, "threads", json_integer(ck_threads));
                json_object_set_new(
                    m, "network",
                    json_string(v ? "input -> conv" : "input -> pre (1x1) -> conv -> post (1x1)"));
                json_object_set_new(m, "timed",
                                    json_string(v ? "ck_session_run, the whole network"
                                                  : "ck_session_run_profiled, the conv step"));
                if (!v) {
                    json_object_set_new(m, "network_median_ms", jnum(st_net.med));
                    json_object_set_new(m, "network_min_ms", jnum(st_net.min));
                    json_object_set_new(m, "network_max_ms", jnum(st_net.max));
                }
            }
            if (!impl_is_convkit(i) && i != IMPL_IM2COL) {
                const dnnl_var *v = &r.v[i >= IMPL_DNNL_16C];
                json_object_set_new(m, "impl", v->impl ? json_string(v->impl) : json_null());
                json_object_set_new(m, "src_layout",
                                    v->ok ? json_string(v->src_layout) : json_null());
                json_object_set_new(m, "dst_layout",
                                    v->ok ? json_string(v->dst_layout) : json_null());
                json_object_set_new(
                    m, "reorders_included",
                    json_boolean(i == IMPL_DNNL_ANY_NCHW || i == IMPL_DNNL_16C_NCHW));
            }
            json_object_set_new(m, "median_ms", jnum(st[i].med));
            json_object_set_new(m, "min_ms", jnum(st[i].min));
            json_object_set_new(m, "max_ms", jnum(st[i].max));
            json_object_set_new(m, "gflops", jnum(GF(i)));
            json_object_set_new(m, "pct_peak", jnum(PC(i)));
            json_object_set_new(m, "calls_per_sample", json_integer(reps[i]));
            json_object_set_new(m, "max_rel_diff_vs_onednn", jnum(diff[i]));
            json_object_set_new(e, IMPL_NAME[i], m);
        }
        json_object_set_new(e, "onednn_best", json_string(IMPL_NAME[bi]));
        json_object_set_new(e, "ratio_convkit_onednn", json_real(ratio));
        json_object_set_new(e, "ratio_convkit_nchw_onednn_reorders", json_real(ratio_nchw));
        json_object_set_new(e, "outputs_agree", json_boolean(same));
        json_array_append_new(jl, e);
        for (int i = 0; i < N_IMPL; i++) free(samp[i]);
        free(ck_net);
        layer_free(&r);
#undef GF
#undef PC
    }
    json_object_set_new(J, "layers", jl);
    if (n_ratios) {
        double med = median_of(ratios, n_ratios), med_nchw = median_of(ratios_nchw, n_ratios);
        int within = 0, above = 0;
        for (int i = 0; i < n_ratios; i++) within += ratios[i] <= 1.25, above += ratios[i] > 1.2;
        printf("\nconvkit/oneDNN: median %.2f (goal <= 0.9); %d of %d layers above 1.2x (goal "
               "none); %d within 1.25x. convkit nchw / oneDNN+reorders: median %.2f\n\n",
               med, above, n_ratios, within, med_nchw);
        json_object_set_new(J, "layers_above_1_2x", json_integer(above));
        json_object_set_new(J, "median_ratio_convkit_onednn", json_real(med));
        json_object_set_new(J, "layers_within_1_25x", json_integer(within));
        json_object_set_new(J, "median_ratio_convkit_nchw_onednn_reorders", json_real(med_nchw));
    }

    /* ---- networks ---- */
    json_t *jn = json_array();
    torch_proc tp = {0}, op = {0};
    char tmpdir[] = "/tmp/convkit-bench-XXXXXX";
    bool have_tmp = mkdtemp(tmpdir) != NULL;
    char ort_ver[64] = "";
    if (o.nets && o.torch) {
        if (!have_tmp || !torch_start(&tp, &o)) printf("PyTorch: not available (%s)\n", o.python);
    }
    if (o.nets && o.ort) {
        const char *v =
            have_tmp && ort_start(&op, &o) ? torch_cmd(&op, buf, sizeof buf, "version") : NULL;
        if (v)
            snprintf(ort_ver, sizeof ort_ver, "%s", v);
        else
            printf("ONNX Runtime: not available (%s/node_modules: cd %s && npm install "
                   "--ignore-scripts)\n",
                   o.ort_dir, o.ort_dir);
    }
    json_object_set_new(J, "onnxruntime_version", ort_ver[0] ? json_string(ort_ver) : json_null());
    /* thread counts of the network rows: 1 and --threads */
    int tcount[2] = {1, o.threads}, n_tc = o.threads > 1 ? 2 : 1;
    if (o.nets) {
        printf(
            "Networks, 224x224 (torchvision's, ONNX files of bench/onnx_models.py): median ms of "
            "%d interleaved rounds; convkit and ONNX Runtime %s run the same file (all graph "
            "optimisations, sequential, intra-op threads = convkit's, inter-op 1); PyTorch %s "
            "eval, no_grad (bench/torch_models.py, its own weights); convkit/ORT at batch 8 "
            "is the ratio of the times per image\n\n",
            o.net_rounds, ort_ver[0] ? ort_ver : "(not run)", tp.ok ? "1.13" : "(not run)");
        printf("| network | batch | threads | convkit ms | ORT ms | PyTorch ms | convkit/ORT | "
               "convkit/PyTorch | convkit img/s | ORT img/s | check vs ORT | check vs PyTorch "
               "|\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n");
        fflush(stdout);
    }
    static const char *const NETS[] = {"resnet18", "resnet50", "mobilenet_v2"};
    double goal_ratio[3][2][2];
    for (int i = 0; i < 3 * 2 * 2; i++) (&goal_ratio[0][0][0])[i] = NAN;
    for (int ni = 0; o.nets && ni < 3; ni++) {
        const char *name = NETS[ni];
        char cnn[512], wpath[600], tbuf[512], obuf[512];
        if (!strcmp(name, "resnet50"))
            snprintf(cnn, sizeof cnn, "%s", o.resnet50);
        else
            snprintf(cnn, sizeof cnn, "%s/%s.cnn", o.models, name);
        bool torch_net = tp.ok && torch_cmd(&tp, tbuf, sizeof tbuf, "load %s", name);
        /* PyTorch's output against convkit's on PyTorch's weights (the .cnn
         * network with torch_models.py's state_dict), batch 1, untimed */
        double tdiff = NAN;
        int misses = -1;
        if (torch_net) {
            snprintf(wpath, sizeof wpath, "%s/%s.weights", tmpdir, name);
            if (torch_cmd(&tp, tbuf, sizeof tbuf, "export %s %s", name, wpath) &&
                atoi(ck_call(&cc, buf, sizeof buf, "weights %s", wpath)) == 1) {
                const char *rep = ck_call(&cc, buf, sizeof buf, "net %s 1 %d", cnn, o.threads);
                misses = atoi(rep);
                char xin[600], yout[600];
                snprintf(xin, sizeof xin, "%s/x.npy", tmpdir);
                snprintf(yout, sizeof yout, "%s/y.npy", tmpdir);
                ck_call(&cc, buf, sizeof buf, "netx %s", xin);
                if (torch_cmd(&tp, tbuf, sizeof tbuf, "forward %s %s %s", name, xin, yout))
                    tdiff = atof(ck_call(&cc, buf, sizeof buf, "netdiff %s", yout));
                remove(xin);
                remove(yout);
                ck_call(&cc, buf, sizeof buf, "netclose");
            }
            remove(wpath);
            ck_call(&cc, buf, sizeof buf, "weights -");
        }
        for (int bi = 0; bi < 1 + o.batch8; bi++) {
            int batch = bi ? 8 : 1;
            char path[600];
            if (batch == 1)
                snprintf(path, sizeof path, "%s/%s.onnx", o.onnx_dir, name);
            else
                snprintf(path, sizeof path, "%s/%s_b%d.onnx", o.onnx_dir, name, batch);
            if (access(path, R_OK) != 0) {
                printf("| %s | %d | - | (no %s: make bench writes it with bench/onnx_models.py) "
                       "|\n",
                       name, batch, path);
                continue;
            }
            for (int ti = 0; ti < n_tc; ti++) {
                int thr = tcount[ti];
                int ck_threads = 0, steps = 0, fast = 0, folded = 0, mm = 0;
                long long macs = 0;
                char fam[16] = "?";
                const char *rep = ck_call(&cc, buf, sizeof buf, "net %s %d %d", path, batch, thr);
                if (sscanf(rep, "%d %d %15s %d %d %d %lld", &mm, &ck_threads, fam, &steps, &fast,
                           &folded, &macs) != 7)
                    die("convkit's process: '%s'", rep);
                bool ort_net = op.ok && torch_cmd(&op, obuf, sizeof obuf, "load %s %d %d 3 224 224",
                                                  path, thr, batch);
                /* the same output as ONNX Runtime on the same file and input */
                double odiff = NAN;
                if (ort_net) {
                    char xin[600], yout[600];
                    snprintf(xin, sizeof xin, "%s/x.npy", tmpdir);
                    snprintf(yout, sizeof yout, "%s/y.npy", tmpdir);
                    ck_call(&cc, buf, sizeof buf, "netx %s", xin);
                    if (torch_cmd(&op, obuf, sizeof obuf, "forward %s %s", xin, yout))
                        odiff = atof(ck_call(&cc, buf, sizeof buf, "netdiff %s", yout));
                    remove(xin);
                    remove(yout);
                }
                /* samples: 0 convkit, 1 ORT, 2 PyTorch (at the row's threads) */
                double *samp[3];
                for (int i = 0; i < 3; i++)
                    samp[i] = xmalloc((size_t)o.net_rounds * sizeof(double));
                for (int round = 0; round < o.net_rounds; round++)
                    for (int j = 0; j < 3; j++) {
                        int i = (j + round) % 3;
                        samp[i][round] = NAN;
                        if (i == 0)
                            samp[0][round] = atof(ck_call(&cc, buf, sizeof buf, "netrun"));
                        else if (i == 1 && ort_net && torch_cmd(&op, obuf, sizeof obuf, "time"))
                            samp[1][round] = atof(obuf + 3);
                        else if (i == 2 && torch_net &&
                                 torch_cmd(&tp, tbuf, sizeof tbuf, "time %s %d %d", name, batch,
                                           thr))
                            samp[2][round] = atof(tbuf + 3);
                        else
                            continue;
                        settle(o.settle_ms);
                    }
                ck_call(&cc, buf, sizeof buf, "netclose");
                stat3 st[3];
                for (int i = 0; i < 3; i++) st[i] = stats(samp[i], o.net_rounds);
                double r_ort = st[0].med / st[1].med, r_pt = st[0].med / st[2].med;
                goal_ratio[ni][bi][ti] = r_ort;
                char c_ort[64], c_pt[96];
                if (!ort_net)
                    snprintf(c_ort, sizeof c_ort, "-");
                else
                    snprintf(c_ort, sizeof c_ort, "%s (rel %.1e)", odiff < 1e-4 ? "ok" : "MISMATCH",
                             odiff);
                if (!torch_net)
                    snprintf(c_pt, sizeof c_pt, "-");
                else if (batch != 1 || ti)
                    snprintf(c_pt, sizeof c_pt, "(above)");
                else
                    snprintf(c_pt, sizeof c_pt, "%s (rel %.1e)%s", tdiff < 1e-3 ? "ok" : "MISMATCH",
                             tdiff, misses ? " missing weights" : "");
                printf("| %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %s | %s "
                       "|\n",
                       name, batch, thr, st[0].med, st[1].med, st[2].med, r_ort, r_pt,
                       1e3 * batch / st[0].med, 1e3 * batch / st[1].med, c_ort, c_pt);
                fflush(stdout);
                json_t *e = json_object();
                json_object_set_new(e, "name", json_string(name));
                json_object_set_new(e, "model", json_string(path));
                json_object_set_new(e, "batch", json_integer(batch));
                json_object_set_new(e, "threads", json_integer(thr));
                json_object_set_new(e, "macs", json_integer(macs));
                static const char *const who[3] = {"convkit", "onnxruntime", "pytorch"};
                for (int i = 0; i < 3; i++) {
                    json_t *c = json_object();
                    json_object_set_new(c, "median_ms", jnum(st[i].med));
                    json_object_set_new(c, "min_ms", jnum(st[i].min));
                    json_object_set_new(c, "max_ms", jnum(st[i].max));
                    if (i == 0) {
                        json_object_set_new(c, "threads", json_integer(ck_threads));
                        json_object_set_new(c, "kernels", json_string(fam));
                        json_object_set_new(c, "steps", json_integer(steps));
                        json_object_set_new(c, "fast_steps", json_integer(fast));
                        json_object_set_new(c, "folded_steps", json_integer(folded));
                    }
                    if (i == 1 && ort_net)
                        json_object_set_new(c, "session_create_ms", jnum(atof(obuf + 3)));
                    json_object_set_new(e, who[i], c);
                }
                json_object_set_new(e, "ratio_convkit_onnxruntime", jnum(r_ort));
                json_object_set_new(e, "ratio_convkit_pytorch", jnum(r_pt));
                json_object_set_new(e, "output_max_rel_diff_vs_onnxruntime", jnum(odiff));
                json_object_set_new(e, "output_max_rel_diff_vs_pytorch",
                                    batch == 1 && !ti ? jnum(tdiff) : json_null());
                json_array_append_new(jn, e);
                for (int i = 0; i < 3; i++) free(samp[i]);
            }
        }
    }
    json_object_set_new(J, "networks", jn);
    if (o.nets && op.ok) {
        printf("\nconvkit/ORT (goal <= 0.75 at batch 1 and per image at batch 8):");
        for (int ti = 0; ti < n_tc; ti++)
            for (int bi = 0; bi < 1 + o.batch8; bi++) {
                printf(" %dT b%d:", tcount[ti], bi ? 8 : 1);
                for (int ni = 0; ni < 3; ni++) printf(" %.2f", goal_ratio[ni][bi][ti]);
            }
        printf(" (resnet18 resnet50 mobilenet_v2)\n");
    }

    /* ---- session creation and whole processes (ResNet-50) ---- */
    char r50[600];
    snprintf(r50, sizeof r50, "%s/resnet50.onnx", o.onnx_dir);
    if (o.nets && op.ok && access(r50, R_OK) == 0) {
        json_t *jc = json_object();
        double *cs[2], *ps[2], rss[2] = {0, 0};
        for (int i = 0; i < 2; i++) {
            cs[i] = xmalloc((size_t)o.proc_rounds * sizeof(double));
            ps[i] = xmalloc((size_t)o.proc_rounds * sizeof(double));
        }
        for (int round = 0; round < o.proc_rounds; round++)
            for (int j = 0; j < 2; j++) {
                int i = (j + round) % 2;
                char obuf[512];
                cs[i][round] = NAN;
                if (i == 0)
                    cs[0][round] =
                        atof(ck_call(&cc, buf, sizeof buf, "create %s %d", r50, o.threads));
                else if (torch_cmd(&op, obuf, sizeof obuf, "create %s %d", r50, o.threads))
                    cs[1][round] = atof(obuf + 3);
                settle(o.settle_ms);
            }
        /* whole processes: `convkit run` against ort_run.js, each a fresh
         * process on the same input file */
        char xin[600], y0[600], y1[600], thr[16], ort_run[600];
        snprintf(xin, sizeof xin, "%s/x.npy", tmpdir);
        snprintf(y0, sizeof y0, "%s/y_convkit.npy", tmpdir);
        snprintf(y1, sizeof y1, "%s/y_ort.npy", tmpdir);
        snprintf(thr, sizeof thr, "%d", o.threads);
        snprintf(ort_run, sizeof ort_run, "%s/ort_run.js", o.ort_dir);
        ck_shape xs = {4, {1, 3, 224, 224}};
        ck_tensor_f32 *xt = NULL;
        ck_diags d = {0};
        if (ck_tensor_f32_new(&xs, &xt) != CK_OK) die("out of memory");
        ck_tensor_f32_fill_normal(xt, 7);
        if (ck_npy_write(xin, xt, &d) != CK_OK) die("cannot write %s", xin);
        ck_tensor_f32_free(xt);
        ck_diags_free(&d);
        char *argv_ck[] = {(char *)o.convkit_bin, "run", r50, "--input", xin, "-o", y0,
                           "--threads",           thr,   NULL};
        char *argv_ort[] = {(char *)o.node, ort_run, r50, xin, y1, thr, NULL};
        for (int round = 0; round < o.proc_rounds; round++)
            for (int j = 0; j < 2; j++) {
                int i = (j + round) % 2;
                double m = 0;
                ps[i][round] = run_process(i ? argv_ort : argv_ck, &m);
                rss[i] = m > rss[i] ? m : rss[i];
                settle(o.settle_ms);
            }
        double pdiff = NAN;
        {
            ck_tensor_f32 *a = NULL, *b = NULL;
            ck_diags dd = {0};
            if (ck_npy_read(y0, &a, &dd) == CK_OK && ck_npy_read(y1, &b, &dd) == CK_OK &&
                ck_tensor_f32_numel(a) == ck_tensor_f32_numel(b))
                pdiff = rel_diff(a->data, b->data, ck_tensor_f32_numel(a));
            ck_tensor_f32_free(a);
            ck_tensor_f32_free(b);
            ck_diags_free(&dd);
        }
        remove(xin);
        remove(y0);
        remove(y1);
        stat3 c0 = stats(cs[0], o.proc_rounds), c1 = stats(cs[1], o.proc_rounds);
        stat3 p0 = stats(ps[0], o.proc_rounds), p1 = stats(ps[1], o.proc_rounds);
        printf("\nResNet-50 (%s), %d threads, median of %d interleaved rounds:\n\n", r50, o.threads,
               o.proc_rounds);
        printf("| | convkit ms | ORT ms | convkit/ORT |\n|---|--:|--:|--:|\n");
        printf("| session creation (convkit: load + check + plan + pack + context; ORT: "
               "InferenceSession.create) | %.1f | %.1f | %.2f |\n",
               c0.med, c1.med, c0.med / c1.med);
        printf("| whole process (`convkit run` vs bench/ort/ort_run.js; peak RSS %.0f / %.0f MiB; "
               "outputs %s, rel %.1e) | %.1f | %.1f | %.2f |\n",
               rss[0], rss[1], pdiff < 1e-4 ? "agree" : "DIFFER", pdiff, p0.med, p1.med,
               p0.med / p1.med);
        json_object_set_new(jc, "model", json_string(r50));
        json_object_set_new(jc, "threads", json_integer(o.threads));
        json_object_set_new(jc, "convkit_create_median_ms", jnum(c0.med));
        json_object_set_new(jc, "convkit_create_min_ms", jnum(c0.min));
        json_object_set_new(jc, "onnxruntime_create_median_ms", jnum(c1.med));
        json_object_set_new(jc, "onnxruntime_create_min_ms", jnum(c1.min));
        json_object_set_new(jc, "convkit_process_median_ms", jnum(p0.med));
        json_object_set_new(jc, "convkit_process_min_ms", jnum(p0.min));
        json_object_set_new(jc, "onnxruntime_process_median_ms", jnum(p1.med));
        json_object_set_new(jc, "onnxruntime_process_min_ms", jnum(p1.min));
        json_object_set_new(jc, "convkit_process_peak_rss_mib", jnum(rss[0]));
        json_object_set_new(jc, "onnxruntime_process_peak_rss_mib", jnum(rss[1]));
        json_object_set_new(jc, "process_outputs_max_rel_diff", jnum(pdiff));
        json_object_set_new(J, "resnet50_session_and_process", jc);
        for (int i = 0; i < 2; i++) {
            free(cs[i]);
            free(ps[i]);
        }
    }
    json_object_set_new(J, "pytorch_malloc",
                        json_string(o.torch_default_malloc ? "glibc defaults"
                                                           : "MALLOC_MMAP_THRESHOLD_=33554432 "
                                                             "MALLOC_TRIM_THRESHOLD_=268435456"));
    torch_stop(&tp);
    torch_stop(&op);
    ck_stop(&cc);
    if (have_tmp) rmdir(tmpdir);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);

    double load1 = load_average();
    double secs = (now_ms() - t_start) / 1e3;
    json_object_set_new(J, "load_average_end", jnum(load1));
    json_object_set_new(J, "samples", json_integer(g_settles));
    json_object_set_new(J, "samples_started_busy", json_integer(g_busy_settles));
    json_object_set_new(J, "seconds", json_real(secs));
    printf("\nload average at end: %.2f; %.0f s in all; %d of %d samples started on a busy "
           "machine (other tasks still running after 1 s of waiting)%s\n",
           load1, secs, g_busy_settles, g_settles,
           g_busy_settles ? "  (WARNING: numbers will be noisy)" : "");
    if (json_dump_file(J, o.json, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0)
        fprintf(stderr, "bench: cannot write %s\n", o.json);
    else
        printf("JSON: %s\n", o.json);
    json_decref(J);
    return 0;
}
