/* vector, private: the per-instruction-set distance kernels behind the dispatched
 * lh_vec_dot / lh_vec_l2sq, shared by kernels*.c and exact.c. Never included from outside
 * src/vector/. */
#ifndef LH_VECTOR_KERNELS_INT_H
#define LH_VECTOR_KERNELS_INT_H

#include <stddef.h>

#include "vector/vector.h"

typedef float (*lh_vec__kernel_fn)(const float *a, const float *b, size_t n);

/* One instruction set's kernels. The active table is chosen once and only changes through
 * lh_vec_force_isa. */
typedef struct lh_vec__kernels {
    const char *isa; /* "avx512", "avx2" or "scalar" */
    lh_vec__kernel_fn dot;
    lh_vec__kernel_fn l2sq;
} lh_vec__kernels;

/* The kernels the dispatched functions use right now (resolved on first use). Callers with
 * a hot loop (exact search) read it once and call through it. */
const lh_vec__kernels *lh_vec__active(void);

#if defined(__x86_64__) || defined(__i386__)
#define LH_VEC_X86 1
/* kernels_avx2.c: AVX2 + FMA; only call when the CPU has both. */
float lh_vec__dot_avx2(const float *a, const float *b, size_t n);
float lh_vec__l2sq_avx2(const float *a, const float *b, size_t n);
/* kernels_avx512.c: AVX-512F; only call when the CPU has it. */
float lh_vec__dot_avx512(const float *a, const float *b, size_t n);
float lh_vec__l2sq_avx512(const float *a, const float *b, size_t n);
#endif

/* Rows for exact search: n rows of dim floats starting at base, one every `stride` floats
 * (stride >= dim), numbered first_id, first_id + 1, ... */
typedef struct lh_vec__segment {
    const float *base;
    size_t stride;
    uint32_t first_id;
    size_t n;
} lh_vec__segment;

/* lh_exact_search over segments (exact.c); ids are the segments' numbering. */
size_t lh_vec__exact_segments(const lh_vec__segment *segs, size_t nsegs, size_t dim,
                              lh_metric m, const float *q, size_t k, int threads, lh_hit *out);

#endif
