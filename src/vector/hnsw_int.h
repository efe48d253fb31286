/* vector, private: the in-memory layout of the HNSW graph, shared by hnsw.c (insert, search)
 * and hnsw_io.c (the file format: save, mmap load, validation), plus the file checksum that
 * tests and the fuzzer use to forge structurally bad files. Never included from outside
 * src/vector/ (tests and fuzz/ excepted). */
#ifndef LH_VECTOR_HNSW_INT_H
#define LH_VECTOR_HNSW_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "vector/kernels_int.h"
#include "vector/vector.h"

/* No node: the entry point of an empty graph. */
#define LH_HNSW__NONE UINT32_MAX
/* Ceilings, checked at creation and again on every loaded file. */
#define LH_HNSW__MAX_DIM 65536
#define LH_HNSW__MAX_M 256
#define LH_HNSW__MAX_EF 65536
/* Level draws are capped here; with M >= 2 a level past ~40 has probability < 2^-40. */
#define LH_HNSW__MAX_LEVEL 48
/* Ids are uint32 and LH_HNSW__NONE is reserved. */
#define LH_HNSW__MAX_COUNT ((uint64_t)UINT32_MAX - 1)

/* A layer-0 node is one block of node_size bytes (a multiple of 64, so every vector starts
 * on a cache line):
 *   float    vector[dim]          normalised for cosine
 *   uint32_t count                links in use on layer 0 (<= 2M)
 *   uint8_t  level                top layer of this node (0 = layer 0 only)
 *   uint8_t  lock                 spinlock guarding this node's link lists (0 on disk)
 *   uint16_t reserved             0
 *   uint32_t links[2M]
 *   zero padding to node_size
 * The vector comes first so the streamed distance computation and the hardware's next-line
 * prefetch bring the link header in with it. Upper layers live in one separate block per
 * node with level > 0: for l = 1..level, uint32 [count, links[M]]. The file stores the
 * node blocks verbatim, which is what lets a mapped file be searched in place. */
#define LH_HNSW__HDR_BYTES 8

/* Node storage is chunked: fixed blocks of 2^shift nodes that never move once allocated, so
 * a search may hold pointers while another thread adds. The table of chunks is replaced by a
 * bigger copy when full; old tables are kept until lh_hnsw_free because a concurrent search
 * may still be reading one. */
typedef struct lh_hnsw__chunk {
    unsigned char *nodes; /* 64-aligned; into the map for a loaded index */
    uint32_t **upper;     /* per node: its upper-layer block, NULL at level 0 */
    void *raw;            /* what to free for nodes (NULL when mapped) */
} lh_hnsw__chunk;

typedef struct lh_hnsw__table {
    struct lh_hnsw__table *retired; /* older tables, freed with the index */
    size_t cap;
    lh_hnsw__chunk chunks[];
} lh_hnsw__table;

typedef struct lh_hnsw__ctx lh_hnsw__ctx;

struct lh_hnsw {
    size_t dim;
    lh_hnsw_params p; /* with defaults filled in */
    uint32_t M, M0;   /* links per upper layer, on layer 0 */
    size_t node_size;
    size_t links_off; /* byte offset of the count field in a node */
    unsigned shift;   /* nodes per chunk = 1 << shift */
    double level_mult;

    _Atomic(lh_hnsw__table *) table;
    size_t nchunks;          /* chunks allocated (under grow_lock) */
    _Atomic uint64_t count;  /* ids handed out; nodes in flight are not yet linked */
    _Atomic uint64_t top;    /* entry point (low 32 bits) | max level << 32 */
    _Atomic size_t upper_bytes;

    pthread_mutex_t grow_lock; /* chunk allocation, id reservation, copying off the map */
    pthread_mutex_t top_lock;  /* entry point and max level updates */
    pthread_mutex_t pool_lock; /* the pool of search contexts */
    lh_hnsw__ctx *pool;
    size_t pool_bytes;

    /* A loaded index: nodes and upper blocks point into this read-only map until the first
     * add copies them to the heap. The map stays until lh_hnsw_free, since searches that
     * started before the copy may still read it. */
    void *map;
    size_t map_len;
    bool mapped;                /* still on the map (under grow_lock once adds may run) */
    lh_hnsw__table *map_table;  /* the table built at load; its upper arrays are freed last */
    size_t map_nchunks;
};

static inline uint64_t lh_hnsw__top_pack(uint32_t ep, unsigned level)
{
    return (uint64_t)level << 32 | ep;
}

/* The node block of id (id < count). */
static inline unsigned char *lh_hnsw__node(const lh_hnsw *h, uint32_t id)
{
    lh_hnsw__table *t = atomic_load_explicit(&((lh_hnsw *)h)->table, memory_order_acquire);
    const lh_hnsw__chunk *c = &t->chunks[id >> h->shift];
    return c->nodes + (size_t)(id & ((1u << h->shift) - 1)) * h->node_size;
}

static inline uint32_t **lh_hnsw__upper_slot(const lh_hnsw *h, uint32_t id)
{
    lh_hnsw__table *t = atomic_load_explicit(&((lh_hnsw *)h)->table, memory_order_acquire);
    return &t->chunks[id >> h->shift].upper[id & ((1u << h->shift) - 1)];
}

static inline unsigned lh_hnsw__level(const lh_hnsw *h, const unsigned char *node)
{
    return node[h->links_off + 4];
}

/* An index shell with validated parameters and the derived layout, no nodes. invalid_argument
 * for a bad dim, M, ef_construction or metric. */
lh_hnsw *lh_hnsw__new_shell(size_t dim, const lh_hnsw_params *p, lh_err *err);
/* Copies a loaded index off its map into heap chunks and publishes the copy (caller holds
 * grow_lock). too_large when the copy cannot be allocated; the index is then unchanged. */
int lh_hnsw__unmap_copy(lh_hnsw *h, lh_err *err) LH_MUST_CHECK;
/* Memory for one chunk of nodes (2 MiB-aligned, huge pages requested); *raw is what to free.
 * NULL when lh_try_alloc fails. */
unsigned char *lh_hnsw__chunk_alloc(const lh_hnsw *h, void **raw);
/* A chunk table with room for cap chunks, all empty. */
lh_hnsw__table *lh_hnsw__table_new(size_t cap);

/* ---- search internals shared by hnsw_search.c and hnsw_build.c ---------------------------- */

/* A (distance, node) pair of the search heaps and neighbour lists. */
typedef struct lh_hnsw__pair {
    float d;
    uint32_t id;
} lh_hnsw__pair;

/* One thread's search scratch, borrowed from the index's pool for one search or insert. */
struct lh_hnsw__ctx {
    lh_hnsw__ctx *next;
    uint16_t *visited; /* visited tags of nodes [0, vcap) */
    size_t vcap;
    uint16_t epoch;
    lh_hnsw__pair *cand, *res, *sorted;
    size_t cand_cap, res_cap, sorted_cap;
    size_t ncand, nres;
    lh_hnsw__pair *sel, *cc, *cs; /* heuristic output; connect's candidates, output (M0 + 1) */
    uint32_t *ids;                /* unvisited neighbours of the node being expanded */
    float *q;                     /* the query (normalised copy for cosine), 64-aligned */
    void *q_raw;
};

/* The metric's distance through the active kernels (cosine: both sides normalised). */
static inline float lh_hnsw__dist(const lh_vec__kernels *k, lh_metric m, const float *a,
                                  const float *b, size_t n)
{
    if (m == LH_METRIC_L2)
        return k->l2sq(a, b, n);
    float d = k->dot(a, b, n);
    return m == LH_METRIC_COSINE ? 1.0f - d : -d;
}

static inline const float *lh_hnsw__vec(const lh_hnsw *h, uint32_t id)
{
    return (const float *)lh_hnsw__node(h, id);
}

static inline void lh_hnsw__prefetch_vec(const lh_hnsw *h, uint32_t id)
{
    const unsigned char *p = lh_hnsw__node(h, id);
    size_t bytes = h->dim * sizeof(float);
    for (size_t o = 0; o < bytes; o += 64)
        __builtin_prefetch(p + o, 0, 3);
}

/* The link list of id on `level`: its count (clamped, so a torn read stays in bounds) and
 * where the links start. */
static inline uint32_t lh_hnsw__links(const lh_hnsw *h, uint32_t id, unsigned level,
                                      const uint32_t **out)
{
    const uint32_t *p;
    uint32_t cap;
    if (level == 0) {
        p = (const uint32_t *)(lh_hnsw__node(h, id) + h->links_off);
        *out = p + 2;
        cap = h->M0;
    } else {
        p = *lh_hnsw__upper_slot(h, id) + (size_t)(level - 1) * (h->M + 1);
        *out = p + 1;
        cap = h->M;
    }
    uint32_t n = __atomic_load_n(p, __ATOMIC_ACQUIRE);
    return n < cap ? n : cap;
}

/* A context whose visited tags cover `limit` nodes and whose heaps hold ef results. */
lh_hnsw__ctx *lh_hnsw__ctx_get(lh_hnsw *h, size_t ef, size_t limit);
/* Grows c's visited tags to cover `limit` nodes (c is the caller's alone). */
void lh_hnsw__ctx_fit(lh_hnsw__ctx *c, size_t limit);
void lh_hnsw__ctx_put(lh_hnsw *h, lh_hnsw__ctx *c);
void lh_hnsw__ctx_free(lh_hnsw__ctx *c);
/* Greedy descent on an upper level: the closest node reachable by always moving closer. */
uint32_t lh_hnsw__greedy(const lh_hnsw *h, const lh_vec__kernels *k, const float *q,
                         uint32_t cur, float *curd, unsigned level, uint32_t limit);
/* Best-first search of one level from ep keeping the ef closest in c->res (a max-heap). Ids
 * >= limit (reserved after the caller looked; limit <= c->vcap) and `skip` are not visited. */
void lh_hnsw__search_layer(const lh_hnsw *h, const lh_vec__kernels *k, lh_hnsw__ctx *c,
                           const float *q, uint32_t ep, float epd, size_t ef, unsigned level,
                           uint32_t limit, uint32_t skip);
/* Empties c->res into c->sorted, best first (ties by id); returns the count. */
size_t lh_hnsw__drain_sorted(lh_hnsw__ctx *c);
/* Sorts by (distance, id); for short or nearly sorted arrays. */
void lh_hnsw__sort_pairs(lh_hnsw__pair *a, size_t n);

/* ---- construction (hnsw_build.c) ---------------------------------------------------------- */

/* Writes node id's block: the vector (normalised for cosine), its level drawn from (seed, id),
 * empty link lists. Nothing links to it yet. */
void lh_hnsw__write_node(lh_hnsw *h, uint32_t id, const float *v);
/* Links the written node id into the graph (concurrently with other inserts and searches). */
void lh_hnsw__insert(lh_hnsw *h, const lh_vec__kernels *k, lh_hnsw__ctx *c, uint32_t id);

/* The file checksum: four 64-bit lanes, each step a bijection of the lane state for a given
 * word, so any change confined to one 8-byte word is always detected. Streaming. */
typedef struct lh_hnsw__sum {
    uint64_t v[4];
    unsigned char buf[32];
    size_t buflen;
    uint64_t total;
} lh_hnsw__sum;

void lh_hnsw__sum_init(lh_hnsw__sum *s);
void lh_hnsw__sum_update(lh_hnsw__sum *s, const void *p, size_t n);
uint64_t lh_hnsw__sum_final(const lh_hnsw__sum *s);
/* One-shot: the checksum a file stores in its last 8 bytes over everything before them. */
uint64_t lh_hnsw__checksum(const void *p, size_t n);

#endif
