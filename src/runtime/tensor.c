/* Caller-owned float32 tensors and the deterministic random numbers the
 * runtime uses (seeded inputs and default initialisation). */
#include "runtime/rng.h"

#include "core/core.h"

#include <math.h>
#include <string.h>

/* Largest tensor the runtime allocates: 2^40 floats (4 TiB) keeps every
 * byte count far from int64 overflow. */
#define CK_MAX_FLOATS ((int64_t)1 << 40)

ck_status ck_tensor_f32_new(const ck_shape *shape, ck_tensor_f32 **out) {
    if (!out) return CK_EUSAGE;
    *out = NULL;
    if (!shape || shape->rank < 0 || shape->rank > CK_MAX_RANK) return CK_EUSAGE;
    int64_t n;
    for (int i = 0; i < shape->rank; i++)
        if (shape->d[i] < 0) return CK_EUSAGE;
    if (!ck_shape_numel(shape, &n) || n > CK_MAX_FLOATS) return CK_ENOMEM;
    ck_tensor_f32 *t = calloc(1, sizeof *t);
    if (!t) return CK_ENOMEM;
    t->shape = *shape;
    t->data = calloc((size_t)(n ? n : 1), sizeof *t->data);
    if (!t->data) {
        free(t);
        return CK_ENOMEM;
    }
    *out = t;
    return CK_OK;
}

void ck_tensor_f32_free(ck_tensor_f32 *t) {
    if (!t) return;
    free(t->data);
    free(t);
}

int64_t ck_tensor_f32_numel(const ck_tensor_f32 *t) {
    int64_t n = 0;
    if (t && !ck_shape_numel(&t->shape, &n)) n = -1;
    return n;
}

/* ---- random numbers: splitmix64 ----------------------------------------- */

uint64_t rt_rand_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double rt_rand_uniform(uint64_t *state) {
    return (double)(rt_rand_next(state) >> 11) * 0x1.0p-53;
}

uint64_t rt_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

void ck_tensor_f32_fill_normal(ck_tensor_f32 *t, uint64_t seed) {
    int64_t n = ck_tensor_f32_numel(t);
    uint64_t st = seed ^ 0x6a09e667f3bcc909ull;
    /* Box-Muller, two values per pair of uniforms; u1 in (0, 1] */
    for (int64_t i = 0; i < n; i += 2) {
        double u1 = 1.0 - rt_rand_uniform(&st), u2 = rt_rand_uniform(&st);
        double r = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
        t->data[i] = (float)(r * cos(a));
        if (i + 1 < n) t->data[i + 1] = (float)(r * sin(a));
    }
}
