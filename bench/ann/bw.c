/* bw: the memory-bandwidth yardstick of the ANN benchmark. Reads a float buffer once with
 * 1..N threads, each summing its contiguous slice with wide independent accumulators, and
 * returns the pass time. Compiled with -O3 -march=native (the fastest plain read this
 * machine can do), while the code it judges, lh_exact_search, keeps the project's flags.
 * Linked into `ours`; see bw_pass. */
#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "bw.h"

typedef float v16 __attribute__((vector_size(64), aligned(4)));

typedef struct slice {
    const float *p;
    size_t n;
    double sum;
} slice;

/* Floats ahead to prefetch (1 KiB): on the EPYC this was written on, a single thread reads
 * 10-15% faster with it than on the hardware prefetcher alone, and a yardstick must be the
 * fastest read we know how to do. Prefetching past the end is harmless (a hint). */
#define BW_PREFETCH 256

/* Four 16-float accumulators hide the add latency; the loads are unaligned-safe. */
static void *sum_slice(void *arg)
{
    slice *s = arg;
    v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    size_t i = 0;
    for (; i + 64 <= s->n; i += 64) {
        for (int k = 0; k < 64; k += 16)
            __builtin_prefetch(s->p + i + BW_PREFETCH + k);
        a0 += *(const v16 *)(s->p + i);
        a1 += *(const v16 *)(s->p + i + 16);
        a2 += *(const v16 *)(s->p + i + 32);
        a3 += *(const v16 *)(s->p + i + 48);
    }
    v16 a = a0 + a1 + a2 + a3;
    double sum = 0;
    for (int j = 0; j < 16; j++)
        sum += a[j];
    for (; i < s->n; i++)
        sum += s->p[i];
    s->sum = sum;
    return NULL;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bw_pass(const float *p, size_t n, int threads, double *sink)
{
    enum { MAX_T = 64 };
    slice s[MAX_T];
    pthread_t tid[MAX_T];
    if (threads < 1)
        threads = 1;
    if (threads > MAX_T)
        threads = MAX_T;
    size_t per = (n + (size_t)threads - 1) / (size_t)threads;
    double t0 = mono();
    int started[MAX_T] = {0};
    for (int t = 0; t < threads; t++) {
        size_t lo = (size_t)t * per, hi = lo + per > n ? n : lo + per;
        s[t] = (slice){p + (lo < n ? lo : n), lo < n ? hi - lo : 0, 0};
        if (t > 0 && pthread_create(&tid[t], NULL, sum_slice, &s[t]) == 0) {
            started[t] = 1;
            continue;
        }
        if (t > 0)
            sum_slice(&s[t]); /* could not start a thread: do its slice here */
    }
    sum_slice(&s[0]);
    for (int t = 1; t < threads; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
    double secs = mono() - t0;
    double total = 0;
    for (int t = 0; t < threads; t++)
        total += s[t].sum;
    *sink += total;
    return secs;
}
