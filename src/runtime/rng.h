/* Deterministic random numbers (splitmix64): the same values on every
 * platform for a given seed, with no global state. */
#ifndef CK_RNG_H
#define CK_RNG_H

#include "convkit.h"

uint64_t rt_rand_next(uint64_t *state);
/* Uniform in [0, 1). */
double rt_rand_uniform(uint64_t *state);
/* FNV-1a of a string, to derive per-layer streams from one seed. */
uint64_t rt_hash(const char *s);

#endif
