/* vector: exact (brute-force) search over the vectors an HNSW index already holds. The node
 * blocks are strided (vector, then links) and chunked, so each chunk becomes one strided
 * segment of the multi-threaded exact scan: no second copy of the vectors is needed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vector/hnsw_int.h"

size_t lh_hnsw_exact_search(const lh_hnsw *hc, const float *q, size_t k, int threads,
                            lh_hit *out)
{
    lh_hnsw *h = (lh_hnsw *)hc;
    if (!h || !q || !out || k == 0)
        return 0;
    size_t n = (size_t)atomic_load_explicit(&h->count, memory_order_acquire);
    if (n == 0)
        return 0;
    float *qn = lh_try_alloc(h->dim * sizeof(float));
    if (!qn)
        return 0;
    memcpy(qn, q, h->dim * sizeof(float));
    size_t got = 0;
    if (!lh_vec_usable(qn, h->dim) ||
        (h->p.metric == LH_METRIC_COSINE && lh_vec_normalize(qn, h->dim) == 0))
        goto out; /* no direction, or not finite: nothing to rank by */
    size_t per = (size_t)1 << h->shift;
    size_t nsegs = (n + per - 1) / per;
    lh_vec__segment *segs = lh_try_alloc(nsegs * sizeof *segs);
    if (!segs)
        goto out;
    lh_hnsw__table *t = atomic_load_explicit(&h->table, memory_order_acquire);
    for (size_t i = 0; i < nsegs; i++) {
        size_t rows = n - i * per < per ? n - i * per : per;
        segs[i] = (lh_vec__segment){(const float *)t->chunks[i].nodes,
                                    h->node_size / sizeof(float), (uint32_t)(i * per), rows};
    }
    got = lh_vec__exact_segments(segs, nsegs, h->dim, h->p.metric, qn, k, threads, out);
    free(segs);
out:
    free(qn);
    return got;
}
