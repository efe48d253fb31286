/* bw.h: the memory-bandwidth yardstick (bw.c), declared for the `ours` driver. */
#ifndef ANN_BW_H
#define ANN_BW_H

#include <stddef.h>

/* Reads p[0..n) once, split in contiguous slices over `threads` threads, and returns the
 * seconds it took. The sum goes into *sink so the compiler cannot drop the reads. */
double bw_pass(const float *p, size_t n, int threads, double *sink);

#endif
