/* libFuzzer entry point for the kfile harness (Keras .h5 and .keras files);
 * the body is ck_fuzz_kfile() in harness.h, which
 * tests/unit/test_fuzz_regress.c replays without libFuzzer. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return ck_fuzz_kfile(data, size); }
