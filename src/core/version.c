/* ck_version: the version this library was built as. */
#include "convkit.h"

const char *ck_version(void) {
    return CONVKIT_VERSION_STRING;
}
