/* HNSW search: the per-thread search contexts (visited tags with an epoch, heaps, scratch) and
 * the best-first layer search that both queries and inserts run. Hot path of every query.
 *
 * A search borrows a context from the index's pool, so a query allocates nothing once warm.
 * It reads link lists without locks (acquire loads; see hnsw.c) and skips ids reserved after it
 * started. It gathers a node's unvisited neighbours first, then prefetches whole vectors a few
 * neighbours ahead of the distance loop: at 768 dims a vector is 48 cache lines, and waiting on
 * them is most of a query's time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vector/hnsw_int.h"

/* Neighbours whose vectors are prefetched ahead of the one being measured. */
#define PREFETCH_AHEAD 2

/* ---- heaps: candidates are a min-heap, results a max-heap, both of (dist, id) ------------ */

static inline void minheap_push(lh_hnsw__pair *hp, size_t *n, lh_hnsw__pair x)
{
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (hp[p].d <= x.d)
            break;
        hp[i] = hp[p];
        i = p;
    }
    hp[i] = x;
}

static inline void minheap_pop(lh_hnsw__pair *hp, size_t *n)
{
    size_t m = --*n, i = 0;
    lh_hnsw__pair x = hp[m];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m)
            break;
        if (c + 1 < m && hp[c + 1].d < hp[c].d)
            c++;
        if (x.d <= hp[c].d)
            break;
        hp[i] = hp[c];
        i = c;
    }
    if (m)
        hp[i] = x;
}

static inline void maxheap_push(lh_hnsw__pair *hp, size_t *n, lh_hnsw__pair x)
{
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (hp[p].d >= x.d)
            break;
        hp[i] = hp[p];
        i = p;
    }
    hp[i] = x;
}

static inline void maxheap_pop(lh_hnsw__pair *hp, size_t *n)
{
    size_t m = --*n, i = 0;
    lh_hnsw__pair x = hp[m];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m)
            break;
        if (c + 1 < m && hp[c + 1].d > hp[c].d)
            c++;
        if (x.d >= hp[c].d)
            break;
        hp[i] = hp[c];
        i = c;
    }
    if (m)
        hp[i] = x;
}

/* Insertion sort by (dist, id): the inputs are short or already nearly sorted. */
void lh_hnsw__sort_pairs(lh_hnsw__pair *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        lh_hnsw__pair x = a[i];
        size_t j = i;
        while (j && (a[j - 1].d > x.d || (a[j - 1].d == x.d && a[j - 1].id > x.id))) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* Empties the result heap into c->sorted, best first; returns the count. */
size_t lh_hnsw__drain_sorted(lh_hnsw__ctx *c)
{
    size_t n = c->nres;
    while (c->nres) {
        c->sorted[c->nres - 1] = c->res[0];
        maxheap_pop(c->res, &c->nres);
    }
    lh_hnsw__sort_pairs(c->sorted, n);
    return n;
}

/* ---- search contexts -------------------------------------------------------------------- */

static lh_hnsw__ctx *ctx_new(const lh_hnsw *h)
{
    lh_hnsw__ctx *c = lh_xcalloc(1, sizeof *c);
    size_t m = h->M0 + 1;
    c->sel = lh_xmalloc(m * sizeof *c->sel);
    c->cc = lh_xmalloc(m * sizeof *c->cc);
    c->cs = lh_xmalloc(m * sizeof *c->cs);
    c->ids = lh_xmalloc(m * sizeof *c->ids);
    c->q_raw = lh_xmalloc(h->dim * sizeof(float) + 63);
    c->q = (float *)(((uintptr_t)c->q_raw + 63) & ~(uintptr_t)63);
    return c;
}

void lh_hnsw__ctx_free(lh_hnsw__ctx *c)
{
    free(c->visited);
    free(c->cand);
    free(c->res);
    free(c->sorted);
    free(c->sel);
    free(c->cc);
    free(c->cs);
    free(c->ids);
    free(c->q_raw);
    free(c);
}

static size_t ctx_bytes(const lh_hnsw *h, const lh_hnsw__ctx *c)
{
    return sizeof *c + c->vcap * sizeof(uint16_t) +
           (c->cand_cap + c->res_cap + c->sorted_cap + 3 * (h->M0 + 1)) * sizeof(lh_hnsw__pair) +
           (h->M0 + 1) * sizeof(uint32_t) + h->dim * sizeof(float) + 63;
}

/* A context able to visit `limit` nodes with result lists of `ef`. */
lh_hnsw__ctx *lh_hnsw__ctx_get(lh_hnsw *h, size_t ef, size_t limit)
{
    pthread_mutex_lock(&h->pool_lock);
    lh_hnsw__ctx *c = h->pool;
    if (c) {
        h->pool = c->next;
        h->pool_bytes -= ctx_bytes(h, c);
    }
    pthread_mutex_unlock(&h->pool_lock);
    if (!c)
        c = ctx_new(h);
    lh_hnsw__ctx_fit(c, limit);
    if (c->res_cap < ef + 2) {
        c->res_cap = ef + 2;
        c->res = lh_xrealloc(c->res, c->res_cap * sizeof *c->res);
    }
    if (c->sorted_cap < ef + 2) {
        c->sorted_cap = ef + 2;
        c->sorted = lh_xrealloc(c->sorted, c->sorted_cap * sizeof *c->sorted);
    }
    if (c->cand_cap < ef + 64) {
        c->cand_cap = ef + 64;
        c->cand = lh_xrealloc(c->cand, c->cand_cap * sizeof *c->cand);
    }
    return c;
}

void lh_hnsw__ctx_fit(lh_hnsw__ctx *c, size_t limit)
{
    if (c->vcap >= limit)
        return;
    /* Room to grow, so an index being built does not reallocate on every insert. */
    size_t cap = limit + limit / 2 + 1024;
    free(c->visited);
    c->visited = lh_xcalloc(cap, sizeof *c->visited);
    c->vcap = cap;
    c->epoch = 0;
}

void lh_hnsw__ctx_put(lh_hnsw *h, lh_hnsw__ctx *c)
{
    pthread_mutex_lock(&h->pool_lock);
    c->next = h->pool;
    h->pool = c;
    h->pool_bytes += ctx_bytes(h, c);
    pthread_mutex_unlock(&h->pool_lock);
}

/* A fresh visited tag; the array is only cleared when the 16-bit epoch wraps. */
static inline uint16_t visited_next(lh_hnsw__ctx *c)
{
    if (++c->epoch == 0) {
        memset(c->visited, 0, c->vcap * sizeof *c->visited);
        c->epoch = 1;
    }
    return c->epoch;
}

/* ---- search ----------------------------------------------------------------------------- */

/* Greedy descent on an upper level: moves to the closest neighbour until none is closer. */
uint32_t lh_hnsw__greedy(const lh_hnsw *h, const lh_vec__kernels *k, const float *q,
                         uint32_t cur, float *curd, unsigned level, uint32_t limit)
{
    bool changed = true;
    while (changed) {
        changed = false;
        const uint32_t *links;
        uint32_t n = lh_hnsw__links(h, cur, level, &links);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t id = __atomic_load_n(&links[i], __ATOMIC_ACQUIRE);
            if (id >= limit)
                continue;
            if (i + 1 < n) {
                uint32_t nx = __atomic_load_n(&links[i + 1], __ATOMIC_RELAXED);
                if (nx < limit)
                    lh_hnsw__prefetch_vec(h, nx);
            }
            float d = lh_hnsw__dist(k, h->p.metric, q, lh_hnsw__vec(h, id), h->dim);
            if (d < *curd) {
                *curd = d;
                cur = id;
                changed = true;
            }
        }
    }
    return cur;
}

/* Best-first search of one level from ep, keeping the ef closest in c->res (a max-heap).
 * Ids >= limit (reserved after the caller looked) and `skip` are never visited. */
void lh_hnsw__search_layer(const lh_hnsw *h, const lh_vec__kernels *k, lh_hnsw__ctx *c,
                           const float *q, uint32_t ep, float epd, size_t ef, unsigned level,
                           uint32_t limit, uint32_t skip)
{
    uint16_t tag = visited_next(c);
    uint16_t *vis = c->visited;
    lh_metric m = h->p.metric;
    c->ncand = c->nres = 0;
    if (skip < limit)
        vis[skip] = tag;
    vis[ep] = tag;
    minheap_push(c->cand, &c->ncand, (lh_hnsw__pair){epd, ep});
    maxheap_push(c->res, &c->nres, (lh_hnsw__pair){epd, ep});
    float worst = epd;
    while (c->ncand) {
        lh_hnsw__pair cur = c->cand[0];
        if (cur.d > worst)
            break;
        minheap_pop(c->cand, &c->ncand);
        const uint32_t *links;
        uint32_t n = lh_hnsw__links(h, cur.id, level, &links);
        size_t nu = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t id = __atomic_load_n(&links[i], __ATOMIC_ACQUIRE);
            if (id >= limit || vis[id] == tag)
                continue;
            vis[id] = tag;
            c->ids[nu++] = id;
        }
        /* The next node to expand is most likely the current best candidate: bring in its
         * link header while this batch of distances runs. */
        if (c->ncand) {
            const unsigned char *nx = lh_hnsw__node(h, c->cand[0].id) + h->links_off;
            __builtin_prefetch(nx, 0, 3);
            __builtin_prefetch(nx + 64, 0, 3);
        }
        for (size_t i = 0; i < nu && i < PREFETCH_AHEAD; i++)
            lh_hnsw__prefetch_vec(h, c->ids[i]);
        for (size_t i = 0; i < nu; i++) {
            if (i + PREFETCH_AHEAD < nu)
                lh_hnsw__prefetch_vec(h, c->ids[i + PREFETCH_AHEAD]);
            uint32_t id = c->ids[i];
            float d = lh_hnsw__dist(k, m, q, lh_hnsw__vec(h, id), h->dim);
            if (c->nres < ef || d < worst) {
                if (c->ncand == c->cand_cap) {
                    c->cand_cap *= 2;
                    c->cand = lh_xrealloc(c->cand, c->cand_cap * sizeof *c->cand);
                }
                minheap_push(c->cand, &c->ncand, (lh_hnsw__pair){d, id});
                maxheap_push(c->res, &c->nres, (lh_hnsw__pair){d, id});
                if (c->nres > ef)
                    maxheap_pop(c->res, &c->nres);
                worst = c->res[0].d;
            }
        }
    }
}

size_t lh_hnsw_search(const lh_hnsw *hc, const float *q, size_t k, int ef_search, lh_hit *out)
{
    lh_hnsw *h = (lh_hnsw *)hc; /* only the context pool changes */
    if (!h || !q || !out || k == 0)
        return 0;
    uint64_t top = atomic_load_explicit(&h->top, memory_order_acquire);
    uint32_t ep = (uint32_t)top;
    unsigned maxl = (unsigned)(top >> 32);
    if (ep == LH_HNSW__NONE)
        return 0;
    uint32_t limit = (uint32_t)atomic_load_explicit(&h->count, memory_order_acquire);
    size_t ef = ef_search > 0 ? (size_t)ef_search : 64;
    if (ef < k)
        ef = k;
    if (ef > limit)
        ef = limit;
    for (size_t i = 0; i < h->dim; i++)
        if (!isfinite(q[i]))
            return 0;
    lh_hnsw__ctx *c = lh_hnsw__ctx_get(h, ef, limit);
    memcpy(c->q, q, h->dim * sizeof(float));
    size_t got = 0;
    if (h->p.metric == LH_METRIC_COSINE && lh_vec_normalize(c->q, h->dim) == 0)
        goto out; /* a zero query has no direction: nothing is closer than anything else */
    const lh_vec__kernels *kern = lh_vec__active();
    float d = lh_hnsw__dist(kern, h->p.metric, c->q, lh_hnsw__vec(h, ep), h->dim);
    for (unsigned l = maxl; l > 0; l--)
        ep = lh_hnsw__greedy(h, kern, c->q, ep, &d, l, limit);
    lh_hnsw__search_layer(h, kern, c, c->q, ep, d, ef, 0, limit, LH_HNSW__NONE);
    size_t n = lh_hnsw__drain_sorted(c);
    got = n < k ? n : k;
    for (size_t i = 0; i < got; i++)
        out[i] = (lh_hit){c->sorted[i].id, c->sorted[i].d};
out:
    lh_hnsw__ctx_put(h, c);
    return got;
}
