/* Exact vector search against the machine's memory bandwidth (ARCHITECTURE.md §9: >= 0.8x).
 * One query over n x dim float32 rows (a 64-byte aligned matrix, as an index stores it) with
 * lh_exact_search, timed side by side (interleaved runs) with plain reads of the same buffer
 * split over the same thread count: a 4-accumulator uint64 sum and, where the CPU has AVX2,
 * 256-bit loads; the faster of them is the bandwidth limit. Prints medians and the best run
 * (the machine is shared, so the best run shows capability, the median typical load). Also a
 * memcpy of the buffer as a read+write reference.
 * Usage: exact_bench [--rows N] [--dim D] [--runs R] [--k K] [--out FILE] */
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vector/vector.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- baseline: read every byte once ------------------------------------------------------ */

typedef struct sum_task {
    const uint64_t *p;
    size_t n;
    uint64_t result;
    bool wide;
} sum_task;

/* 256-bit loads, four chains: the widest read this code path can issue without the
 * frequency cost some CPUs charge for 512-bit instructions. */
__attribute__((target("avx2"))) static uint64_t xor_avx2(const uint64_t *p, size_t n)
{
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a = _mm256_xor_si256(a, _mm256_loadu_si256((const __m256i *)(p + i)));
        b = _mm256_xor_si256(b, _mm256_loadu_si256((const __m256i *)(p + i + 4)));
        c = _mm256_xor_si256(c, _mm256_loadu_si256((const __m256i *)(p + i + 8)));
        d = _mm256_xor_si256(d, _mm256_loadu_si256((const __m256i *)(p + i + 12)));
    }
    a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    uint64_t r = (uint64_t)_mm256_extract_epi64(a, 0) ^ (uint64_t)_mm256_extract_epi64(a, 3);
    for (; i < n; i++)
        r ^= p[i];
    return r;
}

/* Four independent chains so the adds never limit the load rate. */
static void *sum_main(void *arg)
{
    sum_task *t = arg;
    if (t->wide) {
        t->result = xor_avx2(t->p, t->n);
        return NULL;
    }
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= t->n; i += 4) {
        s0 += t->p[i];
        s1 += t->p[i + 1];
        s2 += t->p[i + 2];
        s3 += t->p[i + 3];
    }
    for (; i < t->n; i++)
        s0 += t->p[i];
    t->result = s0 ^ s1 ^ s2 ^ s3;
    return NULL;
}

/* Same shape as lh_exact_search: slice 0 on the calling thread, the others on new threads. */
static uint64_t read_all(const void *buf, size_t bytes, int threads, bool wide)
{
    size_t words = bytes / 8;
    sum_task tasks[16];
    pthread_t tid[16];
    for (int i = 0; i < threads; i++) {
        size_t lo = words * (size_t)i / (size_t)threads, hi = words * (size_t)(i + 1) / (size_t)threads;
        tasks[i] = (sum_task){(const uint64_t *)buf + lo, hi - lo, 0, wide};
        if (i > 0 && pthread_create(&tid[i], NULL, sum_main, &tasks[i]) != 0) {
            fprintf(stderr, "exact_bench: pthread_create failed\n");
            exit(1);
        }
    }
    sum_main(&tasks[0]);
    uint64_t r = tasks[0].result;
    for (int i = 1; i < threads; i++) {
        pthread_join(tid[i], NULL);
        r ^= tasks[i].result;
    }
    return r;
}

/* ---- driver ------------------------------------------------------------------------------ */

static uint64_t rng = 0x853c49e6748fea9bull;

static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static size_t arg_size(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "exact_bench: %s needs a value\n", argv[*i]);
        exit(2);
    }
    char *end;
    unsigned long long v = strtoull(argv[++*i], &end, 10);
    if (*end || v == 0) {
        fprintf(stderr, "exact_bench: bad value '%s' for %s\n", argv[*i], argv[*i - 1]);
        exit(2);
    }
    return (size_t)v;
}

typedef struct bcase {
    const char *name;
    const char *isa; /* NULL: the dispatched best; "read"/"read256": a baseline */
    lh_metric metric;
    int threads;
    double t[64];
} bcase;

int main(int argc, char **argv)
{
    size_t rows = 100000, dim = 768, runs = 15, k = 10;
    const char *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0)
            rows = arg_size(argc, argv, &i);
        else if (strcmp(argv[i], "--dim") == 0)
            dim = arg_size(argc, argv, &i);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = arg_size(argc, argv, &i);
        else if (strcmp(argv[i], "--k") == 0)
            k = arg_size(argc, argv, &i);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out_path = argv[++i];
        else {
            fprintf(stderr, "usage: exact_bench [--rows N] [--dim D] [--runs R] [--k K] [--out FILE]\n");
            return 2;
        }
    }
    if (runs > 64)
        runs = 64;
    size_t bytes = rows * dim * sizeof(float);
    float *base = NULL, *copy = malloc(bytes), *q = malloc(dim * sizeof(float));
    if (posix_memalign((void **)&base, 64, bytes) != 0)
        base = NULL;
    lh_hit *hits = malloc(k * sizeof(lh_hit)), *hits2 = malloc(k * sizeof(lh_hit));
    if (!base || !copy || !q || !hits || !hits2) {
        fprintf(stderr, "exact_bench: cannot allocate %zu MB\n", 2 * bytes >> 20);
        return 1;
    }
    for (size_t i = 0; i < rows * dim; i++)
        base[i] = frand();
    for (size_t i = 0; i < rows; i++)
        (void)lh_vec_normalize(base + i * dim, dim);
    for (size_t i = 0; i < dim; i++)
        q[i] = frand();
    (void)lh_vec_normalize(q, dim);
    memcpy(copy, base, bytes); /* faults the copy's pages in before it is timed */

    /* Results must not depend on the thread count. */
    size_t n1 = lh_exact_search(base, rows, dim, LH_METRIC_COSINE, q, k, 1, hits);
    size_t n2 = lh_exact_search(base, rows, dim, LH_METRIC_COSINE, q, k, 2, hits2);
    if (n1 != n2 || memcmp(hits, hits2, n1 * sizeof(lh_hit)) != 0) {
        fprintf(stderr, "exact_bench: 1 and 2 threads disagree\n");
        return 1;
    }

    const char *best = lh_vec_isa();
    bcase cases[] = {
        {"read u64", "read", 0, 1, {0}},
        {"read avx2", "read256", 0, 1, {0}},
        {"exact cosine", NULL, LH_METRIC_COSINE, 1, {0}},
        {"exact l2", NULL, LH_METRIC_L2, 1, {0}},
        {"exact cosine avx2", "avx2", LH_METRIC_COSINE, 1, {0}},
        {"exact cosine scalar", "scalar", LH_METRIC_COSINE, 1, {0}},
        {"read u64", "read", 0, 2, {0}},
        {"read avx2", "read256", 0, 2, {0}},
        {"exact cosine", NULL, LH_METRIC_COSINE, 2, {0}},
        {"exact l2", NULL, LH_METRIC_L2, 2, {0}},
    };
    size_t ncases = sizeof(cases) / sizeof(cases[0]);
    double memcpy_t[64];
    volatile uint64_t sink = 0;
    /* Interleaved: every run times each case once, so load from other processes on this
     * machine spreads over all cases instead of skewing one. Run 0 is a warm-up. */
    for (size_t r = 0; r <= runs; r++) {
        for (size_t c = 0; c < ncases; c++) {
            bcase *bc = &cases[c];
            lh_err err = LH_ERR_INIT;
            bool is_read = bc->isa && strncmp(bc->isa, "read", 4) == 0;
            bool wide = is_read && strcmp(bc->isa, "read256") == 0;
            if (wide && !__builtin_cpu_supports("avx2")) {
                bc->t[0] = -1;
                continue;
            }
            if (!is_read && lh_vec_force_isa(bc->isa, &err) != 0) {
                bc->t[0] = -1; /* this CPU lacks it */
                continue;
            }
            double t0 = now_s();
            if (is_read)
                sink ^= read_all(base, bytes, bc->threads, wide);
            else
                sink ^= lh_exact_search(base, rows, dim, bc->metric, q, k, bc->threads, hits);
            double t1 = now_s();
            if (r > 0)
                bc->t[r - 1] = t1 - t0;
        }
        lh_err err = LH_ERR_INIT;
        if (lh_vec_force_isa(NULL, &err) != 0)
            return 1;
        double t0 = now_s();
        memcpy(copy, base, bytes);
        double t1 = now_s();
        if (r > 0)
            memcpy_t[r - 1] = t1 - t0;
        sink ^= (uint64_t)copy[rows * dim / 2];
    }

    FILE *outs[2] = {stdout, out_path ? fopen(out_path, "w") : NULL};
    /* Per thread count, the faster baseline (by median, and by best run) is the limit. */
    double lim_med[3] = {0}, lim_best[3] = {0}, top_med = 0, top_best = 0;
    double med[16], bst[16];
    for (size_t c = 0; c < ncases; c++) {
        if (cases[c].t[0] < 0)
            continue;
        med[c] = (double)bytes / median(cases[c].t, (int)runs) / 1e9; /* sorts t */
        bst[c] = (double)bytes / cases[c].t[0] / 1e9;
        if (cases[c].isa && strncmp(cases[c].isa, "read", 4) == 0) {
            int th = cases[c].threads;
            lim_med[th] = med[c] > lim_med[th] ? med[c] : lim_med[th];
            lim_best[th] = bst[c] > lim_best[th] ? bst[c] : lim_best[th];
            top_med = med[c] > top_med ? med[c] : top_med;
            top_best = bst[c] > top_best ? bst[c] : top_best;
        }
    }
    double cp = median(memcpy_t, (int)runs);
    for (int o = 0; o < 2; o++) {
        FILE *f = outs[o];
        if (!f)
            continue;
        fprintf(f, "exact search: %zu x %zu float32 (%.0f MB), k=%zu, %zu runs, dispatched isa %s\n",
                rows, dim, (double)bytes / 1e6, k, runs, best);
        fprintf(f, "%-20s %3s %9s %9s %8s %11s %11s %10s\n", "case", "thr", "median ms",
                "med GB/s", "best GB/s", "med/limit", "best/limit", "vs top med");
        for (size_t c = 0; c < ncases; c++) {
            bcase *bc = &cases[c];
            if (bc->t[0] < 0) {
                fprintf(f, "%-20s %3d (not on this cpu)\n", bc->name, bc->threads);
                continue;
            }
            int th = bc->threads;
            fprintf(f, "%-20s %3d %9.2f %9.2f %8.2f %11.2f %11.2f %10.2f\n", bc->name, th,
                    (double)bytes / med[c] / 1e6, med[c], bst[c], med[c] / lim_med[th],
                    bst[c] / lim_best[th], med[c] / top_med);
        }
        fprintf(f, "%-20s %3d %9.2f %9.2f  (read+write: %.2f GB/s moved)\n", "memcpy", 1, cp * 1e3,
                (double)bytes / cp / 1e9, 2.0 * (double)bytes / cp / 1e9);
        fprintf(f, "limit = the faster read baseline at the same thread count (machine best: %.2f GB/s "
                "median, %.2f best run)\n", top_med, top_best);
        fprintf(f, "goal: exact >= 0.80 x the memory-bandwidth limit\n");
    }
    if (outs[1])
        fclose(outs[1]);
    free(base);
    free(copy);
    free(q);
    free(hits);
    free(hits2);
    return sink == 42 ? 3 : 0; /* keeps the reads alive */
}
