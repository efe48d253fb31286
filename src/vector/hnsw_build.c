/* HNSW construction: level draws, node writes, the neighbour heuristic and the insert that links
 * a node in, concurrently with other inserts and with searches.
 *
 * Link lists are written under a per-node spinlock (a byte in the node header); readers take no
 * lock. Every link word is stored with release and loaded with acquire, and a node is fully
 * written before any link to it is published, so a reader sees an old or a new list whose every
 * entry is a complete node. Levels come from a hash of (seed, id), so the graph depends only on
 * the seed and the insert order, never on a shared PRNG state. */
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "vector/hnsw_int.h"

static void node_lock(const lh_hnsw *h, unsigned char *node)
{
    unsigned char *l = node + h->links_off + 5;
    unsigned spins = 0;
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
            /* Two cores are shared by many threads here: spin briefly, then give the holder
             * the CPU instead of burning the time slice it needs to finish. */
            if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                sched_yield();
            }
        }
    }
}

static void node_unlock(const lh_hnsw *h, unsigned char *node)
{
    __atomic_store_n(node + h->links_off + 5, 0, __ATOMIC_RELEASE);
}

/* ---- construction ----------------------------------------------------------------------- */

/* The paper's neighbour heuristic: walking candidates from the closest, keep one only if it is
 * closer to the base than to every one already kept, so links spread in all directions
 * instead of bunching inside one cluster. cands is sorted ascending. */
static size_t select_heuristic(const lh_hnsw *h, const lh_vec__kernels *k,
                               const lh_hnsw__pair *cands, size_t nc, size_t max,
                               lh_hnsw__pair *out)
{
    if (nc <= max) {
        memcpy(out, cands, nc * sizeof *cands);
        return nc;
    }
    size_t ns = 0;
    for (size_t i = 0; i < nc && ns < max; i++) {
        const float *vi = lh_hnsw__vec(h, cands[i].id);
        bool good = true;
        for (size_t j = 0; j < ns; j++) {
            const float *vj = lh_hnsw__vec(h, out[j].id);
            if (lh_hnsw__dist(k, h->p.metric, vi, vj, h->dim) < cands[i].d) {
                good = false;
                break;
            }
        }
        if (good)
            out[ns++] = cands[i];
    }
    return ns;
}

/* The count word and links of a node's list on `level` (caller holds the node's lock). */
static uint32_t *list_of(const lh_hnsw *h, unsigned char *node, uint32_t id, unsigned level)
{
    if (level == 0)
        return (uint32_t *)(node + h->links_off);
    return *lh_hnsw__upper_slot(h, id) + (size_t)(level - 1) * (h->M + 1);
}

static void list_store(uint32_t *cnt, uint32_t *links, const lh_hnsw__pair *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        __atomic_store_n(&links[i], src[i].id, __ATOMIC_RELEASE);
    __atomic_store_n(cnt, (uint32_t)n, __ATOMIC_RELEASE);
}

/* Adds a back link nb -> id on `level`, pruning nb's list with the heuristic when full. */
static void connect(const lh_hnsw *h, const lh_vec__kernels *k, lh_hnsw__ctx *c, uint32_t nb,
                    uint32_t id, float d, unsigned level)
{
    unsigned char *node = lh_hnsw__node(h, nb);
    uint32_t cap = level ? h->M : h->M0;
    node_lock(h, node);
    uint32_t *cnt = list_of(h, node, nb, level);
    uint32_t *links = level ? cnt + 1 : cnt + 2;
    uint32_t n = *cnt < cap ? *cnt : cap;
    if (n < cap) {
        __atomic_store_n(&links[n], id, __ATOMIC_RELEASE);
        __atomic_store_n(cnt, n + 1, __ATOMIC_RELEASE);
    } else {
        const float *v = (const float *)node;
        for (uint32_t i = 0; i < n; i++)
            c->cc[i] = (lh_hnsw__pair){
                lh_hnsw__dist(k, h->p.metric, v, lh_hnsw__vec(h, links[i]), h->dim), links[i]};
        c->cc[n] = (lh_hnsw__pair){d, id};
        lh_hnsw__sort_pairs(c->cc, n + 1);
        size_t ns = select_heuristic(h, k, c->cc, n + 1, cap, c->cs);
        list_store(cnt, links, c->cs, ns);
    }
    node_unlock(h, node);
}

/* Sets id's own list on `level` to sel. Another insert may already have linked to id here
 * (it found id on a higher level first); its links are kept while there is room. */
static void set_own_list(const lh_hnsw *h, unsigned char *node, uint32_t id, unsigned level,
                         lh_hnsw__pair *sel, size_t ns)
{
    uint32_t cap = level ? h->M : h->M0;
    node_lock(h, node);
    uint32_t *cnt = list_of(h, node, id, level);
    uint32_t *links = level ? cnt + 1 : cnt + 2;
    uint32_t had = *cnt < cap ? *cnt : cap;
    size_t n = ns;
    for (uint32_t i = 0; i < had && n < cap; i++) {
        bool dup = false;
        for (size_t j = 0; j < ns && !dup; j++)
            dup = sel[j].id == links[i];
        if (!dup)
            sel[n++] = (lh_hnsw__pair){0, links[i]};
    }
    list_store(cnt, links, sel, n);
    node_unlock(h, node);
}

/* Links node id (already written) into the graph. */
void lh_hnsw__insert(lh_hnsw *h, const lh_vec__kernels *k, lh_hnsw__ctx *c, uint32_t id)
{
    unsigned char *node = lh_hnsw__node(h, id);
    const float *v = (const float *)node;
    unsigned level = lh_hnsw__level(h, node);
    pthread_mutex_lock(&h->top_lock);
    uint64_t top = atomic_load_explicit(&h->top, memory_order_acquire);
    uint32_t ep = (uint32_t)top;
    unsigned maxl = (unsigned)(top >> 32);
    if (ep == LH_HNSW__NONE) {
        atomic_store_explicit(&h->top, lh_hnsw__top_pack(id, level), memory_order_release);
        pthread_mutex_unlock(&h->top_lock);
        return;
    }
    /* A node that raises the max level keeps the lock until it is linked, as hnswlib does:
     * rare, and it keeps the entry point from moving under a concurrent insert. */
    bool hold = level > maxl;
    if (!hold)
        pthread_mutex_unlock(&h->top_lock);
    uint32_t limit = (uint32_t)atomic_load_explicit(&h->count, memory_order_acquire);
    lh_hnsw__ctx_fit(c, limit); /* other threads may have reserved ids since c was taken */
    size_t ef = (size_t)h->p.ef_construction;
    float d = lh_hnsw__dist(k, h->p.metric, v, lh_hnsw__vec(h, ep), h->dim);
    for (unsigned l = maxl; l > level; l--)
        ep = lh_hnsw__greedy(h, k, v, ep, &d, l, limit);
    for (unsigned l = level < maxl ? level : maxl;; l--) {
        lh_hnsw__search_layer(h, k, c, v, ep, d, ef, l, limit, id);
        size_t nc = lh_hnsw__drain_sorted(c);
        ep = c->sorted[0].id;
        d = c->sorted[0].d;
        size_t ns = select_heuristic(h, k, c->sorted, nc, h->M, c->sel);
        for (size_t i = 0; i < ns; i++)
            connect(h, k, c, c->sel[i].id, id, c->sel[i].d, l);
        set_own_list(h, node, id, l, c->sel, ns);
        if (l == 0)
            break;
    }
    if (hold) {
        atomic_store_explicit(&h->top, lh_hnsw__top_pack(id, level), memory_order_release);
        pthread_mutex_unlock(&h->top_lock);
    }
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* floor(-ln(U) / ln(M)) with U drawn from (seed, id). */
static unsigned draw_level(const lh_hnsw *h, uint32_t id)
{
    uint64_t x = splitmix64(h->p.seed ^ splitmix64((uint64_t)id));
    double u = (double)((x >> 11) + 1) * 0x1.0p-53; /* (0, 1] */
    double l = -log(u) * h->level_mult;
    return l >= LH_HNSW__MAX_LEVEL ? LH_HNSW__MAX_LEVEL : (unsigned)l;
}

/* Writes node id's block: the vector (normalised for cosine), level, empty lists. */
void lh_hnsw__write_node(lh_hnsw *h, uint32_t id, const float *v)
{
    unsigned char *node = lh_hnsw__node(h, id);
    memset(node, 0, h->node_size);
    memcpy(node, v, h->dim * sizeof(float));
    if (h->p.metric == LH_METRIC_COSINE)
        (void)lh_vec_normalize((float *)node, h->dim); /* usable, so the norm is > 0 */
    unsigned level = draw_level(h, id);
    node[h->links_off + 4] = (unsigned char)level;
    uint32_t **slot = lh_hnsw__upper_slot(h, id);
    *slot = NULL;
    if (level) {
        size_t bytes = (size_t)level * (h->M + 1) * sizeof(uint32_t);
        *slot = lh_xcalloc(1, bytes);
        atomic_fetch_add(&h->upper_bytes, bytes);
    }
}
