/* vindex internals shared by the files of src/vindex/: the in-memory index (an immutable,
 * refcounted handle swapped in whole when a build finishes), the registry, the on-disk
 * names under _vectors/<index>/, and the build job. Never included from outside. */
#ifndef LH_VINDEX_INT_H
#define LH_VINDEX_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "model/model.h"
#include "vector/vector.h"
#include "vindex/vindex.h"

#define LH_VX_LOG "vindex"
#define LH_VX_META_MAX ((size_t)64 << 20) /* meta.json holds the indexed file list */
#define LH_VX_LIST_MAX 1000000            /* objects listed under _vectors/ at open */
#define LH_VX_HNSW_SEED 0x5eed1e5ULL
#define LH_VX_FORMAT 1

/* One loaded index. Immutable once published; readers hold a reference. */
typedef struct vx_index {
    atomic_int refs;
    char *name;
    lh_bucket *bucket; /* borrowed from storage */
    json_t *meta;      /* meta.json as stored */
    lh_metric metric;
    size_t dims;
    bool exact;        /* backend "exact": every search is brute force */
    lh_hnsw *h;        /* NULL when broken */
    size_t n;          /* rows of the embeddings = nodes of h */
    char **doc_ids;
    int32_t *chunk_ids;
    char **snippets;
    lh_embedder *emb;  /* text indexes: embeds queries; NULL for vector-column indexes */
    lh_err broken;     /* code != LH_OK: the index cannot answer (corrupt) */
} vx_index;

struct lh_vindex {
    lh_lake *lake;         /* borrowed */
    lh_jobs *jobs;         /* borrowed */
    const lh_config *cfg;  /* borrowed */
    pthread_mutex_t mu;    /* guards idx[] and building[]; never held across I/O */
    vx_index **idx;
    size_t nidx;
    char **building;       /* names whose build job is running in this process */
    size_t nbuilding;
};

/* ---- registry.c -------------------------------------------------------------------------- */

void lh_vindex__unref(vx_index *ix);
/* A reference to the published index `name`, or NULL. */
vx_index *lh_vindex__find(lh_vindex *v, const char *name);
/* Publishes ix (takes the caller's reference), replacing an index of the same name. */
void lh_vindex__publish(lh_vindex *v, vx_index *ix);
/* Unpublishes `name` (no-op when absent). */
void lh_vindex__unpublish(lh_vindex *v, const char *name);
/* Marks / clears a build of `name` running here; mark fails with conflict when one is. */
int lh_vindex__mark_building(lh_vindex *v, const char *name, lh_err *err) LH_MUST_CHECK;
void lh_vindex__clear_building(lh_vindex *v, const char *name);
/* Whether a build job of `name` is queued or running (registry records and this process). */
bool lh_vindex__build_active(lh_vindex *v, const char *name);

/* Keys under the index directory. Owned. */
char *lh_vindex__key(const char *index, const char *file);
/* meta.json of `name` in b, or NULL (not_found when absent, corrupt when unreadable). */
json_t *lh_vindex__read_meta(lh_bucket *b, const char *name, lh_err *err);
/* Deletes every object under _vectors/<name>/ (meta.json first). */
int lh_vindex__delete_files(lh_bucket *b, const char *name, lh_err *err) LH_MUST_CHECK;

/* ---- load.c ------------------------------------------------------------------------------ */

/* Loads index `name` of bucket b described by meta: maps hnsw.bin (checking it against the
 * embeddings), reads doc ids and snippets, opens the query embedder. A corrupt or truncated
 * hnsw.bin is rebuilt from the embeddings files and saved again (logged); when that fails
 * too, the returned index is marked broken (corrupt) rather than NULL. NULL only for a meta
 * that cannot describe an index (err filled). */
vx_index *lh_vindex__load(lh_vindex *v, lh_bucket *b, const char *name, const json_t *meta,
                          lh_err *err);
/* Builds an HNSW index from embeddings files emb[0..n) of index `name` (in order), with the
 * parameters of meta. */
lh_hnsw *lh_vindex__hnsw_from_files(lh_vindex *v, lh_bucket *b, const char *name,
                                    const json_t *emb, size_t from, lh_hnsw *into,
                                    const json_t *meta, lh_err *err);
/* Saves h as _vectors/<name>/hnsw.bin (scratch file, then adopted atomically). */
int lh_vindex__save_hnsw(lh_vindex *v, lh_bucket *b, const char *name, const lh_hnsw *h,
                         lh_err *err) LH_MUST_CHECK;
/* The embedder described by an index's meta or build params (provider, model, url, dims),
 * with the api key and batching from the configuration. */
lh_embedder *lh_vindex__embedder(lh_vindex *v, const json_t *desc, lh_err *err);

/* ---- build.c / build_run.c --------------------------------------------------------------- */

/* The "vector_index" job body. */
int lh_vindex__build_job(lh_job *job, void *ctx, lh_err *err);
/* Checks a build request and returns the normalised job params (new reference). */
json_t *lh_vindex__build_params(lh_vindex *v, const json_t *req, lh_err *err);

/* ---- search.c ---------------------------------------------------------------------------- */

/* The vector_search provider (lh_vector_search_fn). */
int lh_vindex__sql_search(void *ctx, const char *index, const char *query, int k,
                          lh_vector_hit **hits, size_t *n, lh_err *err);

/* Small JSON helpers. */
const char *lh_vindex__jstr(const json_t *o, const char *key);
int64_t lh_vindex__jint(const json_t *o, const char *key, int64_t def);

#endif
