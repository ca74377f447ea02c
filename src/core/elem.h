/* Tensor element types and the one decoder every reader uses: ONNX inline
 * initializers (raw_data and the typed fields), ONNX external data, and
 * .npy arrays. Types are numbered as ONNX's TensorProto.DataType; .npy
 * dtypes map onto them ('<f4' is CK_E_FLOAT, '|b1' CK_E_BOOL, ...). */
#ifndef CK_ELEM_H
#define CK_ELEM_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ck_elem {
    CK_E_UNDEFINED = 0,
    CK_E_FLOAT = 1,
    CK_E_UINT8 = 2,
    CK_E_INT8 = 3,
    CK_E_UINT16 = 4,
    CK_E_INT16 = 5,
    CK_E_INT32 = 6,
    CK_E_INT64 = 7,
    CK_E_STRING = 8,
    CK_E_BOOL = 9,
    CK_E_FLOAT16 = 10,
    CK_E_DOUBLE = 11,
    CK_E_UINT32 = 12,
    CK_E_UINT64 = 13,
    CK_E_COMPLEX64 = 14,
    CK_E_COMPLEX128 = 15,
    CK_E_BFLOAT16 = 16,
} ck_elem;

/* "FLOAT", "BFLOAT16", ...; "unknown" outside the list. */
const char *ck_elem_name(int t);
/* Bytes per element of the fixed-width types; 0 for STRING, UNDEFINED and
 * numbers ONNX does not define. */
int ck_elem_size(int t);
/* The numeric types convkit decodes: FLOAT, FLOAT16, BFLOAT16, DOUBLE,
 * INT8/16/32/64, UINT8/16/32/64 and BOOL (not STRING, not COMPLEX). */
bool ck_elem_decodable(int t);
bool ck_elem_is_float(int t); /* FLOAT, FLOAT16, BFLOAT16, DOUBLE */
bool ck_elem_is_int(int t);   /* the integer types and BOOL */

/* IEEE 754 half and bfloat16 bit patterns as float (exact). */
float ck_half_to_float(uint16_t h);
float ck_bf16_to_float(uint16_t h);

/* The ck_elem_size(t) bytes at p as an unsigned number, little-endian
 * unless `big`. */
uint64_t ck_elem_load(const uint8_t *p, int size, bool big);

/* One element of decodable type t whose bytes, read as an unsigned
 * little-endian number, are `bits` (the bits above the element's size are
 * ignored, so a value taken from ONNX's int32_data or uint64_data works
 * as well). As float: *exact (may be NULL) becomes false when the value
 * was rounded (DOUBLE, large integers). As int64: false for float types
 * and for a UINT64 above INT64_MAX. */
float ck_elem_f32(int t, uint64_t bits, bool *exact);
bool ck_elem_i64(int t, uint64_t bits, int64_t *out);

/* The host stores numbers little-endian (every target convkit builds for,
 * checked rather than assumed). */
bool ck_host_little_endian(void);

/* Decodes n elements of type t stored back to back at src (little-endian
 * unless `big`) into dst. Returns the index of the first element that was
 * rounded, or -1 when every value is exact. t must be decodable. */
int64_t ck_decode_f32(int t, const uint8_t *src, int64_t n, bool big, float *dst);
/* The same into int64 for integer types and BOOL; false (dst partly
 * written) for another type or a UINT64 above INT64_MAX. */
bool ck_decode_i64(int t, const uint8_t *src, int64_t n, bool big, int64_t *dst);

#endif
