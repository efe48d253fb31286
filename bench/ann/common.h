/* common.h: what the ANN benchmark's drivers share, header-only so the C drivers (gen, ours)
 * and the C++ one (hnswlib_driver) agree to the byte on file formats and measures: .fvecs /
 * .ivecs I/O, clocks, resident memory from /proc/self/statm, percentiles, recall@10 against
 * the ground truth, and the one-JSON-object-per-line result format report.py reads. */
#ifndef ANN_COMMON_H
#define ANN_COMMON_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The ground truth keeps the exact top-GT_K of every query; recall is measured at RECALL_K. */
#define GT_K 100
#define RECALL_K 10

static inline void die(const char *what)
{
    fprintf(stderr, "ann: %s\n", what);
    exit(1);
}

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of this thread / of the whole process: time spent working, not waiting for a
 * core. On a shared machine their ratios are steadier than wall-clock ones. */
static inline double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double proc_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resident set size in bytes (statm's second field): what the process really holds in RAM,
 * the same measure for every system, so "memory" compares like with like. */
static inline size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &res) != 2)
        res = 0;
    fclose(f);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

/* Reads a whole .fvecs (or .ivecs: same layout, int32 payload) file: per row an int32 width
 * then `width` 4-byte values. Every row must have the same width; *rows and *width come
 * back. Exits on any malformed input: a benchmark on wrong data is worse than none. */
static inline void *read_vecs(const char *path, size_t *rows, size_t *width)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ann: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    int32_t w = 0;
    if (fread(&w, 4, 1, f) != 1 || w <= 0 || w > 1 << 16) {
        fprintf(stderr, "ann: %s: bad header\n", path);
        exit(1);
    }
    if (fseek(f, 0, SEEK_END) != 0)
        die("fseek failed");
    long size = ftell(f);
    size_t row_bytes = 4 + (size_t)w * 4;
    if (size <= 0 || (size_t)size % row_bytes != 0) {
        fprintf(stderr, "ann: %s: size %ld is not a whole number of %d-wide rows\n", path, size,
                (int)w);
        exit(1);
    }
    size_t n = (size_t)size / row_bytes;
    rewind(f);
    char *out = (char *)xmalloc(n * (size_t)w * 4);
    for (size_t i = 0; i < n; i++) {
        int32_t wi = 0;
        if (fread(&wi, 4, 1, f) != 1 || wi != w ||
            fread(out + i * (size_t)w * 4, 4, (size_t)w, f) != (size_t)w) {
            fprintf(stderr, "ann: %s: row %zu is short or of another width\n", path, i);
            exit(1);
        }
    }
    fclose(f);
    *rows = n;
    *width = (size_t)w;
    return out;
}

/* Writes rows x width 4-byte values as .fvecs/.ivecs to path via path.tmp.<pid> + fsync +
 * rename, so an interrupted (or concurrent) run never leaves a truncated file that the cache
 * would trust. */
static inline void write_vecs(const char *path, const void *data, size_t rows, size_t width)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        die("path too long");
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "ann: cannot create %s: %s\n", tmp, strerror(errno));
        exit(1);
    }
    int32_t w = (int32_t)width;
    const char *p = (const char *)data;
    for (size_t i = 0; i < rows; i++) {
        if (fwrite(&w, 4, 1, f) != 1 || fwrite(p + i * width * 4, 4, width, f) != width)
            die("write failed (disk full?)");
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0)
        die("write failed (disk full?)");
    if (rename(tmp, path) != 0)
        die("rename failed");
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of v[0..n) by nearest rank; sorts v. */
static inline double quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)ceil(q * (double)n);
    if (i > 0)
        i--;
    if (i >= n)
        i = n - 1;
    return v[i];
}

/* |found[0..nfound) ∩ truth's first RECALL_K| / RECALL_K for one query. */
static inline double recall_at_k(const int32_t *truth_row, const uint32_t *found, size_t nfound)
{
    size_t hit = 0;
    if (nfound > RECALL_K)
        nfound = RECALL_K;
    for (size_t i = 0; i < nfound; i++)
        for (size_t j = 0; j < RECALL_K; j++)
            if ((uint32_t)truth_row[j] == found[i]) {
                hit++;
                break;
            }
    return (double)hit / RECALL_K;
}

/* Path of one of the data set's files: <prefix>.<suffix>. */
static inline void data_path(char *out, size_t cap, const char *prefix, const char *suffix)
{
    if ((size_t)snprintf(out, cap, "%s.%s", prefix, suffix) >= cap)
        die("path too long");
}

static inline unsigned long long arg_u64(const char *flag, const char *v)
{
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v ? v : "", &end, 10);
    if (!v || !*v || *end || errno) {
        fprintf(stderr, "ann: %s wants a non-negative integer\n", flag);
        exit(2);
    }
    return x;
}

/* "10,20,40" -> out[0..]; returns the count (at most cap). */
static inline size_t arg_list(const char *flag, const char *v, int *out, size_t cap)
{
    size_t n = 0;
    const char *p = v ? v : "";
    while (*p) {
        char *end = NULL;
        long x = strtol(p, &end, 10);
        if (end == p || x <= 0 || x > 1000000 || n == cap || (*end && *end != ',')) {
            fprintf(stderr, "ann: %s wants a comma-separated list of positive integers\n", flag);
            exit(2);
        }
        out[n++] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (n == 0) {
        fprintf(stderr, "ann: %s is empty\n", flag);
        exit(2);
    }
    return n;
}

/* One approximate search of the system under test: the top-k ids of q at this ef into ids,
 * returns how many. The same sweep code below drives every C/C++ system. */
typedef size_t (*search_fn)(void *ctx, const float *q, size_t k, int ef, uint32_t *ids);

typedef struct sweep_cfg {
    const char *sys;
    int M, efc, reps;
    const float *queries;
    size_t nq, dim, n;
    const int32_t *gt; /* nq x GT_K */
} sweep_cfg;

/* For each ef: a warm-up over up to 200 queries, then `reps` timed passes over all queries,
 * one at a time on this thread. Prints one JSON line per ef: recall@10 (first pass), queries/s
 * (median over passes of nq / pass time; qps_cpu the same over this thread's CPU time),
 * p50/p99 latency over every timed query. */
static inline void search_sweep(const sweep_cfg *c, const int *efs, size_t nefs, search_fn fn,
                                void *ctx)
{
    int reps = c->reps > 0 ? c->reps : 1;
    double *lat = (double *)xmalloc((size_t)reps * c->nq * sizeof(double));
    double *qps = (double *)xmalloc((size_t)reps * sizeof(double));
    double *qcpu = (double *)xmalloc((size_t)reps * sizeof(double));
    uint32_t ids[RECALL_K];
    for (size_t e = 0; e < nefs; e++) {
        int ef = efs[e];
        for (size_t i = 0; i < c->nq && i < 200; i++)
            (void)fn(ctx, c->queries + i * c->dim, RECALL_K, ef, ids);
        double recall = 0;
        for (int r = 0; r < reps; r++) {
            double start = now_s(), cpu0 = thread_cpu_s();
            for (size_t i = 0; i < c->nq; i++) {
                double t0 = now_s();
                size_t got = fn(ctx, c->queries + i * c->dim, RECALL_K, ef, ids);
                lat[(size_t)r * c->nq + i] = now_s() - t0;
                if (got > RECALL_K)
                    die("search returned more than k hits");
                for (size_t j = 0; j < got; j++)
                    if (ids[j] >= c->n)
                        die("search returned an id past the end");
                if (r == 0)
                    recall += recall_at_k(c->gt + i * GT_K, ids, got);
            }
            qps[r] = (double)c->nq / (now_s() - start);
            qcpu[r] = (double)c->nq / (thread_cpu_s() - cpu0);
        }
        double med_qps = quantile(qps, (size_t)reps, 0.5);
        double med_cpu = quantile(qcpu, (size_t)reps, 0.5);
        double p50 = quantile(lat, (size_t)reps * c->nq, 0.50);
        double p99 = quantile(lat, (size_t)reps * c->nq, 0.99);
        printf("{\"sys\":\"%s\",\"kind\":\"search\",\"M\":%d,\"efc\":%d,\"ef\":%d,"
               "\"recall\":%.4f,\"qps\":%.1f,\"qps_cpu\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
               "\"reps\":%d}\n",
               c->sys, c->M, c->efc, ef, recall / (double)c->nq, med_qps, med_cpu, p50 * 1e6,
               p99 * 1e6, reps);
        fflush(stdout);
    }
    free(qcpu);
    free(qps);
    free(lat);
}

/* One build's figures as a JSON line. cpu_secs is the process CPU time it took (all threads);
 * rss_mb the growth of the resident set across the build; self_mb what the index says (or we
 * compute) it holds. */
static inline void print_build(const char *sys, int M, int efc, int threads, size_t n,
                               double secs, double cpu_secs, double rss_mb, double self_mb,
                               int fresh)
{
    printf("{\"sys\":\"%s\",\"kind\":\"build\",\"M\":%d,\"efc\":%d,\"threads\":%d,\"n\":%zu,"
           "\"secs\":%.3f,\"cpu_secs\":%.3f,\"rss_mb\":%.1f,\"self_mb\":%.1f,\"fresh\":%s}\n",
           sys, M, efc, threads, n, secs, cpu_secs, rss_mb, self_mb, fresh ? "true" : "false");
    fflush(stdout);
}

static inline float *load_set(const char *prefix, const char *suffix, size_t *rows, size_t *dim)
{
    char path[4096];
    data_path(path, sizeof path, prefix, suffix);
    return (float *)read_vecs(path, rows, dim);
}

static inline int32_t *load_gt(const char *prefix, size_t nq)
{
    char path[4096];
    size_t rows = 0, w = 0;
    data_path(path, sizeof path, prefix, "gt.ivecs");
    int32_t *gt = (int32_t *)read_vecs(path, &rows, &w);
    if (rows != nq || w != GT_K)
        die("ground truth does not match the queries (regenerate the data)");
    return gt;
}

#endif
