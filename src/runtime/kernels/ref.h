/* Reference kernels: plain C float32, one per op family. Each reads the
 * parameters its step builder (src/runtime/prepare.c) resolved and never
 * fails: every check happened when the session was built. */
#ifndef CK_REF_H
#define CK_REF_H

#include "runtime/runtime.h"

/* convolutions (ref_conv.c) */
void rt_ref_conv(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_conv_transpose(const rt_step *st, const float *const *in, float *const *out,
                           float *scratch);
void rt_ref_separable(const rt_step *st, const float *const *in, float *const *out, float *scratch);

/* channels last, weights packed [tap][C_in][O/groups] */
void rt_ref_conv_nhwc(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_conv_transpose_nhwc(const rt_step *st, const float *const *in, float *const *out,
                                float *scratch);
void rt_ref_separable_nhwc(const rt_step *st, const float *const *in, float *const *out,
                           float *scratch);

/* pooling (ref_pool.c) */
void rt_ref_pool(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_adaptive_pool(const rt_step *st, const float *const *in, float *const *out,
                          float *scratch);

/* resampling (ref_resize.c) */
void rt_ref_resize(const rt_step *st, const float *const *in, float *const *out, float *scratch);

/* normalisation (ref_norm.c) */
void rt_ref_affine(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_group_norm(const rt_step *st, const float *const *in, float *const *out,
                       float *scratch);
void rt_ref_layer_norm(const rt_step *st, const float *const *in, float *const *out,
                       float *scratch);

/* activations (ref_act.c) */
void rt_ref_act(const rt_step *st, const float *const *in, float *const *out, float *scratch);
/* Applies r to y[0..n) in place (fused activations, and the act kernel). */
void rt_act_apply(const rt_act *r, const float *x, float *y, int64_t n);

/* dense layers (ref_linear.c) */
void rt_ref_linear(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_matmul(const rt_step *st, const float *const *in, float *const *out, float *scratch);

/* elementwise joins (ref_eltwise.c) */
void rt_ref_binary(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_where(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_concat(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_split(const rt_step *st, const float *const *in, float *const *out, float *scratch);

/* data movement (ref_layout.c) */
void rt_ref_pad(const rt_step *st, const float *const *in, float *const *out, float *scratch);
/* The pad map applied from x to y (also used by convolutions' padding_mode). */
void rt_padmap_apply(const rt_padmap *p, const float *x, float *y);
void rt_ref_transpose(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_slice(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_gather(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_reduce(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_expand(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_scatter(const rt_step *st, const float *const *in, float *const *out, float *scratch);
void rt_ref_fill(const rt_step *st, const float *const *in, float *const *out, float *scratch);

#endif
