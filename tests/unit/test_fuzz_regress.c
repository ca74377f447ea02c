/* Replays the fuzz inputs without libFuzzer: every committed regression
 * input (tests/fuzz/regress/<harness>/, each one a crash, leak, hang or
 * sanitizer report the fuzzers found and the library now handles) and the
 * seed corpus (tests/fuzz/corpus/<harness>/) go through the same harness
 * body the fuzzers run (tests/fuzz/harness.h). Under `make asan` this is
 * the fuzzers' sanitizer check on each input; a harness aborts on a broken
 * contract, which fails the run. Run from the repository root. */
#include "../fuzz/harness.h"
#include "test.h"

#include <dirent.h>

typedef int (*harness_fn)(const uint8_t *, size_t);

static const struct {
    const char *name;
    harness_fn fn;
} harnesses[] = {
    {"cnn", ck_fuzz_cnn},     {"onnx", ck_fuzz_onnx},         {"keras", ck_fuzz_keras},
    {"npy", ck_fuzz_npy},     {"pipeline", ck_fuzz_pipeline}, {"kfile", ck_fuzz_kfile},
};

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file into an exact-size buffer (no terminating NUL: the
 * readers must respect the length, as under libFuzzer). */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    fclose(f);
    if (buf) {
        /* exact size, so that ASan sees a read past the end */
        uint8_t *exact = malloc(n ? n : 1);
        if (exact) memcpy(exact, buf, n);
        free(buf);
        buf = exact;
    }
    *len = n;
    return buf;
}

/* Runs harness h on every file of dir; returns the number of files. */
static int replay_dir(int h, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len = 0;
        uint8_t *data = slurp(path, &len);
        CHECK(data != NULL, "cannot read %s", path);
        if (data) {
            /* printed first so that a crash names its input */
            fprintf(stderr, "replay %s\n", path);
            CHECK(harnesses[h].fn(data, len) == 0, "%s", path);
        }
        free(data);
        free(names[i]);
    }
    free(names);
    return n;
}

int main(void) {
    int regress = 0, corpus = 0;
    for (int h = 0; h < (int)(sizeof harnesses / sizeof *harnesses); h++) {
        char dir[256];
        snprintf(dir, sizeof dir, "tests/fuzz/regress/%s", harnesses[h].name);
        regress += replay_dir(h, dir);
        snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", harnesses[h].name);
        int c = replay_dir(h, dir);
        CHECK(c > 0, "no seed corpus in %s (run from the repository root)", dir);
        corpus += c;
    }
    printf("replayed %d regression and %d corpus inputs\n", regress, corpus);
    return TEST_DONE("test_fuzz_regress");
}
