/* vector: brute-force top-k over a row-major float32 matrix, the ground truth HNSW recall is
 * measured against and the answer for small sets. The scan is memory-bound, so the design
 * is about streaming: each thread walks a contiguous slice of rows through the dispatched
 * kernel, keeps a bounded max-heap of its k best, and the heaps are merged at the end. No
 * allocation happens per row; one per query holds the per-thread heaps. No software
 * prefetch: rows are read in address order, which the hardware prefetchers already follow
 * (measured: no gain). Callers get the most from a 64-byte aligned matrix. The rows may also
 * come as several strided segments (lh_vec__exact_segments), which is how an HNSW index's
 * own node blocks are scanned without a second copy of the vectors. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "vector/kernels_int.h"
#include "vector/vector.h"

/* A thread costs tens of microseconds to start; below this many floats per thread (1 MiB),
 * the extra thread costs more than the slice it would scan. */
#define EXACT_MIN_FLOATS_PER_THREAD ((size_t)1 << 18)
#define EXACT_MAX_THREADS 64

/* (dist, id) order: a before b when a is closer, ties by lower id. */
static inline bool hit_before(lh_hit a, lh_hit b)
{
    return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
}

static int hit_cmp(const void *pa, const void *pb)
{
    lh_hit a = *(const lh_hit *)pa, b = *(const lh_hit *)pb;
    return hit_before(a, b) ? -1 : hit_before(b, a) ? 1 : 0;
}

/* Max-heap on (dist, id): h[0] is the worst hit kept, the one a better row evicts. */
static void heap_sift_up(lh_hit *h, size_t i)
{
    lh_hit x = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!hit_before(h[p], x))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static void heap_sift_down(lh_hit *h, size_t n, size_t i)
{
    lh_hit x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && hit_before(h[c], h[c + 1]))
            c++;
        if (!hit_before(x, h[c]))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

typedef struct scan_task {
    const lh_vec__segment *segs;
    size_t nsegs;
    const float *q;
    size_t lo, hi, dim, k; /* rows [lo, hi) counted across the segments */
    lh_metric metric;
    lh_hit *heap; /* k slots */
    size_t count; /* filled on return */
} scan_task;

/* Scans rows [lo, hi) into the task's heap. Rows come in increasing id order, so a row that
 * only ties the worst kept hit has the higher id and never displaces it. */
static void scan_rows(scan_task *t)
{
    const lh_vec__kernels *kern = lh_vec__active();
    lh_vec__kernel_fn fn = t->metric == LH_METRIC_L2 ? kern->l2sq : kern->dot;
    /* dist = sign * raw + offset: cosine 1 - dot, ip -dot, l2 the squared distance. */
    float sign = t->metric == LH_METRIC_L2 ? 1.0f : -1.0f;
    float offset = t->metric == LH_METRIC_COSINE ? 1.0f : 0.0f;
    size_t dim = t->dim, k = t->k, n = 0;
    lh_hit *h = t->heap;
    float worst = INFINITY;
    size_t first = 0; /* row number of the current segment's first row */
    for (size_t s = 0; s < t->nsegs && first < t->hi; first += t->segs[s++].n) {
        const lh_vec__segment *sg = &t->segs[s];
        size_t from = t->lo > first ? t->lo - first : 0;
        size_t to = t->hi - first < sg->n ? t->hi - first : sg->n;
        const float *row = sg->base + from * sg->stride;
        for (size_t r = from; r < to; r++, row += sg->stride) {
            float d = sign * fn(row, t->q, dim) + offset;
            if (d != d)
                d = INFINITY; /* NaN rows sort last instead of breaking the heap order */
            uint32_t id = (uint32_t)(sg->first_id + r);
            if (n < k) {
                h[n] = (lh_hit){id, d};
                heap_sift_up(h, n++);
                if (n == k)
                    worst = h[0].dist;
            } else if (d < worst) {
                h[0] = (lh_hit){id, d};
                heap_sift_down(h, n, 0);
                worst = h[0].dist;
            }
        }
    }
    t->count = n;
}

static void *scan_main(void *arg)
{
    scan_rows(arg);
    return NULL;
}

static size_t pick_threads(int threads, size_t n, size_t dim)
{
    size_t t = threads > 0 ? (size_t)threads : 0;
    if (t == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        t = cpus > 0 ? (size_t)cpus : 1;
    }
    size_t work = n * (dim ? dim : 1);
    size_t by_work = work / EXACT_MIN_FLOATS_PER_THREAD;
    if (t > by_work)
        t = by_work;
    if (t > n)
        t = n;
    if (t > EXACT_MAX_THREADS)
        t = EXACT_MAX_THREADS;
    return t ? t : 1;
}

size_t lh_vec__exact_segments(const lh_vec__segment *segs, size_t nsegs, size_t dim,
                              lh_metric m, const float *q, size_t k, int threads, lh_hit *out)
{
    size_t n = 0;
    for (size_t i = 0; i < nsegs; i++)
        n += segs[i].n;
    size_t kk = k < n ? k : n;
    if (kk == 0)
        return 0;
    size_t nt = pick_threads(threads, n, dim);
    lh_hit *heaps = NULL;
    size_t bytes;
    if (nt > 1 && (__builtin_mul_overflow(nt * sizeof(lh_hit), kk, &bytes) ||
                   !(heaps = malloc(bytes))))
        nt = 1; /* no room for per-thread heaps: still answer, on this thread alone */

    if (nt == 1) {
        scan_task t = {segs, nsegs, q, 0, n, dim, kk, m, out, 0};
        scan_rows(&t);
        qsort(out, t.count, sizeof(lh_hit), hit_cmp);
        return t.count;
    }

    scan_task tasks[EXACT_MAX_THREADS];
    pthread_t tids[EXACT_MAX_THREADS];
    bool started[EXACT_MAX_THREADS];
    for (size_t i = 0; i < nt; i++) {
        tasks[i] = (scan_task){segs, nsegs, q, n * i / nt, n * (i + 1) / nt, dim, kk, m,
                               heaps + i * kk, 0};
        /* Slice 0 runs on the calling thread, which would otherwise only wait. */
        started[i] = i > 0 && pthread_create(&tids[i], NULL, scan_main, &tasks[i]) == 0;
    }
    for (size_t i = 0; i < nt; i++) {
        if (!started[i])
            scan_rows(&tasks[i]); /* slice 0, or a thread that could not start */
    }
    size_t total = 0;
    for (size_t i = 0; i < nt; i++) {
        if (started[i])
            pthread_join(tids[i], NULL);
        /* Compact the heaps to the front of the buffer for one sort. */
        for (size_t j = 0; j < tasks[i].count; j++)
            heaps[total++] = tasks[i].heap[j];
    }
    qsort(heaps, total, sizeof(lh_hit), hit_cmp);
    size_t got = total < kk ? total : kk;
    for (size_t j = 0; j < got; j++)
        out[j] = heaps[j];
    free(heaps);
    return got;
}

size_t lh_exact_search(const float *base, size_t n, size_t dim, lh_metric m, const float *q,
                       size_t k, int threads, lh_hit *out)
{
    lh_vec__segment one = {base, dim, 0, n};
    return lh_vec__exact_segments(&one, 1, dim, m, q, k, threads, out);
}
