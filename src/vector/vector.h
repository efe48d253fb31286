/* vector: the algorithms of semantic search, depending on core alone. Our own code where it
 * is the product: the chunker, the distance kernels (AVX-512 / AVX2 / scalar, picked at run
 * time), exact search, the HNSW graph and its file format. The index service above them
 * (registry, build jobs, search, the vector_search SQL table function) is `vindex`.
 *
 * Conventions: vectors are float32, row-major, `dim` floats each. Every search speaks in
 * distances where lower is better (cosine: 1 - cos, inner product: -dot, L2: squared L2);
 * lh_metric_score turns one into the score users see (higher is better for cosine and inner
 * product; for L2 the score is the squared distance itself and hits are sorted ascending).
 * For cosine, vectors are L2-normalised once on the way in (lh_vec_normalize), so the inner
 * loops only ever compute dot products.
 *
 * Threads: kernels, exact search and lh_hnsw_search are safe from any number of threads;
 * lh_hnsw_add is safe against concurrent adds and searches (per-node locks). */
#ifndef LH_VECTOR_H
#define LH_VECTOR_H

#include "core/core.h"

/* ---- metrics and kernels (kernels.c, kernels_avx2.c, kernels_avx512.c) ------------------ */

typedef enum lh_metric {
    LH_METRIC_COSINE = 0,
    LH_METRIC_IP,
    LH_METRIC_L2,
} lh_metric;

/* "cosine", "ip", "l2" <-> enum. invalid_argument names the accepted values. */
int lh_metric_parse(const char *name, lh_metric *out, lh_err *err) LH_MUST_CHECK;
const char *lh_metric_name(lh_metric m);
/* The user-facing score of a distance (see the conventions above). */
float lh_metric_score(lh_metric m, float dist);

/* Dispatched kernels: the best instruction set this CPU has, chosen once. n may be any
 * size (tails handled); pointers need no particular alignment. */
float lh_vec_dot(const float *a, const float *b, size_t n);
float lh_vec_l2sq(const float *a, const float *b, size_t n);
/* The distance of metric m between a and b (cosine assumes both normalised). */
float lh_vec_dist(lh_metric m, const float *a, const float *b, size_t n);
/* Scales v to unit length; returns the norm it had (0 leaves v as is). */
float lh_vec_normalize(float *v, size_t n);
/* "avx512", "avx2" or "scalar": what the dispatched kernels use. */
const char *lh_vec_isa(void);
/* Forces an instruction set ("avx512", "avx2", "scalar"; NULL = best again) for tests and
 * benchmarks. invalid_argument when this CPU lacks it. Not thread-safe against searches. */
int lh_vec_force_isa(const char *isa, lh_err *err) LH_MUST_CHECK;
/* The portable reference kernels, always available (tests compare SIMD against them). */
float lh_vec_dot_scalar(const float *a, const float *b, size_t n);
float lh_vec_l2sq_scalar(const float *a, const float *b, size_t n);

/* true when every element is finite and the vector is not all zeros. */
bool lh_vec_usable(const float *v, size_t n);

/* ---- exact search (exact.c) -------------------------------------------------------------- */

typedef struct lh_hit {
    uint32_t id;   /* row number in the searched set */
    float dist;    /* lower is better */
} lh_hit;

/* Brute-force top-k of query q over n rows of base (row-major, dim floats each), split over
 * `threads` threads (<= 0: one per core). Writes min(k, n) hits to out, best first (ties by
 * lower id), returns that count. Cosine expects base and q normalised. */
size_t lh_exact_search(const float *base, size_t n, size_t dim, lh_metric m, const float *q,
                       size_t k, int threads, lh_hit *out);

/* ---- HNSW (hnsw.c, hnsw_io.c) ------------------------------------------------------------ */

typedef struct lh_hnsw lh_hnsw;

typedef struct lh_hnsw_params {
    int M;               /* links per node on upper layers (2*M on layer 0); 0 = 16 */
    int ef_construction; /* 0 = 200 */
    uint64_t seed;       /* level draws; same seed + same insert order = same graph */
    lh_metric metric;
} lh_hnsw_params;

/* An empty index for vectors of `dim` floats; capacity grows as needed. */
lh_hnsw *lh_hnsw_new(size_t dim, const lh_hnsw_params *p, lh_err *err);
/* Adds one vector as the next node (its id = the count before the call; ids are dense and
 * match the row order of the index's embeddings). Copies v (normalising it for cosine).
 * invalid_argument for a vector that is not lh_vec_usable. Safe concurrently with other
 * adds and with searches; an index loaded from a file copies itself off the map first. */
int lh_hnsw_add(lh_hnsw *h, const float *v, uint32_t *id, lh_err *err) LH_MUST_CHECK;
/* Adds n vectors (row-major) with `threads` threads (<= 0: one per core); ids follow the
 * row order. Returns 0, or -1 with nothing half-added visible to searches beyond the rows
 * that were complete. */
int lh_hnsw_add_batch(lh_hnsw *h, const float *vs, size_t n, int threads, lh_err *err) LH_MUST_CHECK;
/* Top-k approximate search; ef_search <= 0 uses max(k, 64). Writes up to k hits best first
 * and returns the count. Normalises a copy of q for cosine. */
size_t lh_hnsw_search(const lh_hnsw *h, const float *q, size_t k, int ef_search, lh_hit *out);
/* Exact top-k over the index's own vectors (the multi-threaded SIMD scan of lh_exact_search,
 * run in place over the node blocks: no copy). Same conventions as lh_hnsw_search; 0 hits
 * for a query that is not lh_vec_usable. */
size_t lh_hnsw_exact_search(const lh_hnsw *h, const float *q, size_t k, int threads,
                            lh_hit *out);
size_t lh_hnsw_count(const lh_hnsw *h);
size_t lh_hnsw_dim(const lh_hnsw *h);
lh_hnsw_params lh_hnsw_get_params(const lh_hnsw *h);
/* The stored vector of node id (normalised for cosine), or NULL past the end. */
const float *lh_hnsw_vector(const lh_hnsw *h, uint32_t id);
/* Bytes held for vectors, links and bookkeeping (what a benchmark reports as memory). */
size_t lh_hnsw_memory_bytes(const lh_hnsw *h);
void lh_hnsw_free(lh_hnsw *h);

/* Saves to path atomically (temp file, fsync, rename): a header with magic, format version,
 * parameters, dim and count, then vectors and links, then a checksum of everything before.
 * Must not run concurrently with adds. */
int lh_hnsw_save(const lh_hnsw *h, const char *path, lh_err *err) LH_MUST_CHECK;
/* Maps a saved index read-only (mmap) after verifying magic, version, sizes and checksum
 * and the link bounds. corrupt (with what failed) for a truncated, altered or foreign file;
 * io_error when it cannot be read. Never crashes on any input. */
lh_hnsw *lh_hnsw_load(const char *path, lh_err *err);

/* ---- chunker (chunk.c) ------------------------------------------------------------------- */

typedef enum lh_chunk_unit {
    LH_CHUNK_CHARS = 0, /* size and overlap count Unicode code points */
    LH_CHUNK_TOKENS,    /* size and overlap count whitespace-separated tokens */
} lh_chunk_unit;

typedef struct lh_chunk_opts {
    lh_chunk_unit unit;
    size_t size;    /* > 0 */
    size_t overlap; /* < size */
} lh_chunk_opts;

typedef struct lh_chunk {
    size_t start; /* byte offset of the chunk in its source text */
    size_t end;   /* one past its last byte; always on a UTF-8 sequence boundary */
} lh_chunk;

/* Splits text[0..len) into chunks of at most opts->size units, consecutive chunks sharing
 * about opts->overlap units. A chunk ends at a sentence boundary (., !, ? or a newline
 * followed by whitespace) when one lies in its last half, else at a word boundary, else
 * mid-word (never inside a UTF-8 sequence). Whitespace-only text gives no chunks. Invalid
 * UTF-8 bytes count as one unit each. Returns the count and a malloc'd array in *out (NULL
 * when 0), or -1 with invalid_argument for bad options. */
ssize_t lh_chunk_text(const char *text, size_t len, const lh_chunk_opts *opts, lh_chunk **out,
                      lh_err *err);

#endif
