/* HNSW (Malkov & Yashunin) over the dispatched distance kernels: node storage, the index's
 * lifecycle and the public add / search entry points. Search is in hnsw_search.c, insertion in
 * hnsw_build.c, the file format and mmap loading in hnsw_io.c; hnsw_int.h has the node layout.
 *
 * Design: layer-0 nodes are fixed-size blocks (vector + link count + 2M links, cache-line
 * aligned) in chunks that never move, so searches read them while adds go on; the chunk table
 * is replaced by a bigger copy when full and old tables live until the index is freed. Ids are
 * handed out under grow_lock, so they are dense and follow the call (or row) order. The entry
 * point and max level sit in one atomic word, changed under top_lock. Searches run in parallel
 * with each other and with adds (see hnsw_build.c for the lock-free reading of link lists). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "vector/hnsw_int.h"

/* Bytes per chunk of nodes, at most (a power of two number of nodes): big enough that nearly
 * all of a chunk is covered by huge pages. */
#define CHUNK_TARGET_BYTES ((size_t)32 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

/* ---- storage ---------------------------------------------------------------------------- */

unsigned char *lh_hnsw__chunk_alloc(const lh_hnsw *h, void **raw)
{
    size_t bytes = ((size_t)1 << h->shift) * h->node_size;
    /* Aligned to 2 MiB and marked for transparent huge pages: a search touches vectors all
     * over the index, and with 4 KiB pages nearly every one costs a TLB miss and a page walk.
     * Pages past what is written are never touched, so the slack costs address space only. */
    void *r = lh_try_alloc(bytes + HUGE_PAGE);
    if (!r)
        return NULL;
    unsigned char *p =
        (unsigned char *)(((uintptr_t)r + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    size_t whole = bytes / HUGE_PAGE * HUGE_PAGE;
    if (whole)
        (void)madvise(p, whole, MADV_HUGEPAGE); /* a hint: without it, ordinary pages */
    *raw = r;
    return p;
}

/* What chunk i really holds in RAM: the pages its written nodes touched (whole huge pages
 * inside the huge-page part). */
static size_t chunk_resident(const lh_hnsw *h, size_t i, uint64_t count)
{
    size_t per = (size_t)1 << h->shift;
    uint64_t base = (uint64_t)i * per;
    size_t used = count <= base ? 0 : (count - base < per ? (size_t)(count - base) : per);
    size_t b = used * h->node_size, whole = per * h->node_size / HUGE_PAGE * HUGE_PAGE;
    size_t page = b <= whole ? HUGE_PAGE : 4096;
    return (b + page - 1) / page * page;
}

lh_hnsw__table *lh_hnsw__table_new(size_t cap)
{
    lh_hnsw__table *t = lh_xcalloc(1, sizeof *t + cap * sizeof(lh_hnsw__chunk));
    t->cap = cap;
    return t;
}

lh_hnsw *lh_hnsw__new_shell(size_t dim, const lh_hnsw_params *p, lh_err *err)
{
    lh_hnsw_params q = p ? *p : (lh_hnsw_params){0};
    if (dim == 0 || dim > LH_HNSW__MAX_DIM) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "hnsw dimension %zu is out of range 1..%d", dim,
                   LH_HNSW__MAX_DIM);
        return NULL;
    }
    if (q.M == 0)
        q.M = 16;
    if (q.ef_construction == 0)
        q.ef_construction = 200;
    if (q.M < 2 || q.M > LH_HNSW__MAX_M) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "hnsw M %d is out of range 2..%d", q.M,
                   LH_HNSW__MAX_M);
        return NULL;
    }
    if (q.ef_construction < 1 || q.ef_construction > LH_HNSW__MAX_EF) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "hnsw ef_construction %d is out of range 1..%d",
                   q.ef_construction, LH_HNSW__MAX_EF);
        return NULL;
    }
    if (q.metric != LH_METRIC_COSINE && q.metric != LH_METRIC_IP && q.metric != LH_METRIC_L2) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "hnsw metric %d is not cosine, ip or l2",
                   (int)q.metric);
        return NULL;
    }
    lh_hnsw *h = lh_xcalloc(1, sizeof *h);
    h->dim = dim;
    h->p = q;
    h->M = (uint32_t)q.M;
    h->M0 = 2 * h->M;
    h->links_off = dim * sizeof(float);
    size_t raw = h->links_off + LH_HNSW__HDR_BYTES + h->M0 * sizeof(uint32_t);
    h->node_size = (raw + 63) & ~(size_t)63;
    h->level_mult = 1.0 / log((double)h->M);
    size_t per = CHUNK_TARGET_BYTES / h->node_size;
    unsigned shift = 0;
    while (shift < 16 && ((size_t)2 << shift) <= per)
        shift++;
    h->shift = shift < 4 ? 4 : shift;
    atomic_init(&h->table, lh_hnsw__table_new(16));
    atomic_init(&h->count, 0);
    atomic_init(&h->top, lh_hnsw__top_pack(LH_HNSW__NONE, 0));
    atomic_init(&h->upper_bytes, 0);
    pthread_mutex_init(&h->grow_lock, NULL);
    pthread_mutex_init(&h->top_lock, NULL);
    pthread_mutex_init(&h->pool_lock, NULL);
    return h;
}

lh_hnsw *lh_hnsw_new(size_t dim, const lh_hnsw_params *p, lh_err *err)
{
    return lh_hnsw__new_shell(dim, p, err);
}

/* Allocates chunks until `need` nodes fit (caller holds grow_lock). */
static int grow_to(lh_hnsw *h, uint64_t need, lh_err *err)
{
    size_t per = (size_t)1 << h->shift;
    while (((uint64_t)h->nchunks << h->shift) < need) {
        lh_hnsw__table *t = atomic_load_explicit(&h->table, memory_order_relaxed);
        void *raw;
        unsigned char *nodes = lh_hnsw__chunk_alloc(h, &raw);
        if (!nodes)
            return lh_err_set(err, LH_TOO_LARGE, "cannot allocate %zu bytes for hnsw nodes",
                              per * h->node_size);
        if (h->nchunks == t->cap) {
            lh_hnsw__table *nt = lh_hnsw__table_new(t->cap * 2);
            memcpy(nt->chunks, t->chunks, t->cap * sizeof *t->chunks);
            nt->retired = t;
            atomic_store_explicit(&h->table, nt, memory_order_release);
            t = nt;
        }
        lh_hnsw__chunk *ch = &t->chunks[h->nchunks];
        ch->raw = raw;
        ch->nodes = nodes;
        ch->upper = lh_xcalloc(per, sizeof *ch->upper);
        h->nchunks++;
    }
    return 0;
}

/* Hands out n consecutive ids, with room for their nodes. */
static int reserve(lh_hnsw *h, size_t n, uint32_t *base, lh_err *err)
{
    pthread_mutex_lock(&h->grow_lock);
    int rc = 0;
    if (h->mapped && lh_hnsw__unmap_copy(h, err) != 0) {
        rc = -1;
        goto out;
    }
    uint64_t cur = atomic_load_explicit(&h->count, memory_order_relaxed);
    if (n > LH_HNSW__MAX_COUNT - cur) {
        rc = lh_err_set(err, LH_TOO_LARGE, "hnsw index cannot hold %zu more vectors", n);
        goto out;
    }
    if (grow_to(h, cur + n, err) != 0) {
        rc = -1;
        goto out;
    }
    *base = (uint32_t)cur;
    atomic_store_explicit(&h->count, cur + n, memory_order_release);
out:
    pthread_mutex_unlock(&h->grow_lock);
    return rc;
}

/* ---- public API ------------------------------------------------------------------------- */

int lh_hnsw_add(lh_hnsw *h, const float *v, uint32_t *id, lh_err *err)
{
    if (!h || !v)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "hnsw add: no index or vector");
    if (!lh_vec_usable(v, h->dim))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "hnsw add: vector is all zeros or has a non-finite element");
    uint32_t nid;
    if (reserve(h, 1, &nid, err) != 0)
        return -1;
    lh_hnsw__write_node(h, nid, v);
    lh_hnsw__ctx *c = lh_hnsw__ctx_get(h, (size_t)h->p.ef_construction, nid + 1);
    lh_hnsw__insert(h, lh_vec__active(), c, nid);
    lh_hnsw__ctx_put(h, c);
    if (id)
        *id = nid;
    return 0;
}

typedef struct batch {
    lh_hnsw *h;
    const float *vs;
    uint32_t base;
    size_t n;
    atomic_size_t next;
} batch;

static void *batch_worker(void *arg)
{
    batch *b = arg;
    lh_hnsw *h = b->h;
    const lh_vec__kernels *k = lh_vec__active();
    lh_hnsw__ctx *c = lh_hnsw__ctx_get(h, (size_t)h->p.ef_construction, (size_t)b->base + b->n);
    for (;;) {
        size_t i = atomic_fetch_add(&b->next, 1);
        if (i >= b->n)
            break;
        lh_hnsw__write_node(h, b->base + (uint32_t)i, b->vs + i * h->dim);
        lh_hnsw__insert(h, k, c, b->base + (uint32_t)i);
    }
    lh_hnsw__ctx_put(h, c);
    return NULL;
}

static void *batch_thread(void *arg)
{
    (void)prctl(PR_SET_NAME, "lh-hnsw-add", 0, 0, 0); /* a name is a nicety, not a need */
    return batch_worker(arg);
}

int lh_hnsw_add_batch(lh_hnsw *h, const float *vs, size_t n, int threads, lh_err *err)
{
    if (!h || (!vs && n))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "hnsw add batch: no index or vectors");
    /* Every row is checked before any is added, so a bad row leaves the index untouched. */
    for (size_t i = 0; i < n; i++)
        if (!lh_vec_usable(vs + i * h->dim, h->dim))
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "hnsw add batch: row %zu is all zeros or has a non-finite element",
                              i);
    if (n == 0)
        return 0;
    batch b = {.h = h, .vs = vs, .n = n};
    atomic_init(&b.next, 0);
    if (reserve(h, n, &b.base, err) != 0)
        return -1;
    if (threads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (int)cpus : 1;
    }
    if (threads > 256)
        threads = 256;
    if ((size_t)threads > n)
        threads = (int)n;
    pthread_t tids[256];
    int started = 0;
    for (int i = 1; i < threads; i++) {
        /* A thread that cannot start only means fewer workers: the rows still get added. */
        if (pthread_create(&tids[started], NULL, batch_thread, &b) == 0)
            started++;
    }
    batch_worker(&b);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    return 0;
}

size_t lh_hnsw_count(const lh_hnsw *h)
{
    return h ? (size_t)atomic_load_explicit(&((lh_hnsw *)h)->count, memory_order_acquire) : 0;
}

size_t lh_hnsw_dim(const lh_hnsw *h)
{
    return h ? h->dim : 0;
}

lh_hnsw_params lh_hnsw_get_params(const lh_hnsw *h)
{
    return h ? h->p : (lh_hnsw_params){0};
}

const float *lh_hnsw_vector(const lh_hnsw *h, uint32_t id)
{
    if (!h || id >= lh_hnsw_count(h))
        return NULL;
    return lh_hnsw__vec(h, id);
}

size_t lh_hnsw_memory_bytes(const lh_hnsw *hc)
{
    if (!hc)
        return 0;
    lh_hnsw *h = (lh_hnsw *)hc;
    pthread_mutex_lock(&h->grow_lock);
    lh_hnsw__table *t = atomic_load_explicit(&h->table, memory_order_acquire);
    size_t per = (size_t)1 << h->shift;
    size_t bytes = sizeof *h + h->map_len;
    for (lh_hnsw__table *r = t; r; r = r->retired)
        bytes += sizeof *r + r->cap * sizeof(lh_hnsw__chunk);
    uint64_t count = atomic_load(&h->count);
    for (size_t i = 0; i < h->nchunks; i++)
        bytes += per * sizeof(uint32_t *) + (t->chunks[i].raw ? chunk_resident(h, i, count) : 0);
    if (!h->mapped && h->map_table)
        bytes += h->map_nchunks * per * sizeof(uint32_t *);
    bytes += atomic_load(&h->upper_bytes);
    pthread_mutex_unlock(&h->grow_lock);
    pthread_mutex_lock(&h->pool_lock);
    bytes += h->pool_bytes;
    pthread_mutex_unlock(&h->pool_lock);
    return bytes;
}

/* Frees n chunks of t: node memory, upper arrays and, when they are heap copies, the upper
 * blocks they point to. */
static void free_chunks(lh_hnsw__table *t, size_t n, size_t per, bool blocks)
{
    for (size_t i = 0; i < n; i++) {
        lh_hnsw__chunk *ch = &t->chunks[i];
        if (blocks && ch->upper)
            for (size_t j = 0; j < per; j++)
                free(ch->upper[j]);
        free(ch->upper);
        free(ch->raw);
    }
}

void lh_hnsw_free(lh_hnsw *h)
{
    if (!h)
        return;
    lh_hnsw__table *t = atomic_load(&h->table);
    size_t per = (size_t)1 << h->shift;
    /* Upper blocks are heap copies unless the index still lives on its map. */
    free_chunks(t, h->nchunks, per, !h->mapped);
    if (!h->mapped && h->map_table)
        free_chunks(h->map_table, h->map_nchunks, per, false);
    while (t) {
        lh_hnsw__table *r = t->retired;
        free(t);
        t = r;
    }
    while (h->pool) {
        lh_hnsw__ctx *c = h->pool;
        h->pool = c->next;
        lh_hnsw__ctx_free(c);
    }
    pthread_mutex_destroy(&h->grow_lock);
    pthread_mutex_destroy(&h->top_lock);
    pthread_mutex_destroy(&h->pool_lock);
    if (h->map)
        (void)munmap(h->map, h->map_len); /* nothing to do if it fails */
    free(h);
}
