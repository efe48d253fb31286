/* vindex: the index service of the vector engine. It ties the parts together: a registry of
 * vector indexes (one _vectors/<index>/ directory per index in the bucket of its source
 * dataset, described by meta.json and rebuilt from disk at open), index builds as background
 * jobs of kind "vector_index" (scan the dataset in batches -> chunk -> embed -> one
 * embeddings-NNNNN.parquet per batch -> checkpoint -> HNSW -> hnsw.bin -> meta.json last),
 * search over the stored indexes (HNSW or exact), and the data side of the vector_search SQL
 * table function. Layout and pipeline: docs/internals/vector.md.
 *
 * Depends on vector (chunker, kernels, HNSW), model (embedders), jobs and query (DuckDB
 * glue). Never sees HTTP: the http module renders what these functions return.
 *
 * Threads: every function may be called from any thread. Searches run concurrently with one
 * another and with builds; an index being replaced stays searchable until the new one is
 * swapped in (readers hold a reference). */
#ifndef LH_VINDEX_H
#define LH_VINDEX_H

#include "core/core.h"
#include "jobs/jobs.h"
#include "query/query.h"

typedef struct lh_vindex lh_vindex;

/* The job kind of index builds. */
#define LH_VINDEX_JOB_KIND "vector_index"
/* Ceilings. */
#define LH_VINDEX_K_MAX 10000
#define LH_VINDEX_EF_MAX 10000
#define LH_VINDEX_QUERY_MAX 65536 /* bytes of query text */
#define LH_VINDEX_SNIPPET_MAX 300 /* bytes of a hit's snippet */

/* Opens the service over the lake (borrowed) and the job registry (borrowed; jobs must not
 * have been started yet: the "vector_index" kind is registered here). Reads every data
 * bucket's _vectors/<name>/meta.json and loads each index (hnsw.bin mapped and checked; a
 * corrupt or truncated one is rebuilt from the embeddings files, or the index answers
 * corrupt). Installs the vector_search provider on the lake's engine. The config (borrowed,
 * must outlive the service) gives the [embed] and [vector] defaults. A broken index is
 * logged, never fatal. */
lh_vindex *lh_vindex_open(lh_lake *lake, lh_jobs *jobs, const lh_config *config, lh_err *err);
/* Removes the vector_search provider and frees everything. Close the job registry first
 * (its workers call into the service). NULL is a no-op. */
void lh_vindex_close(lh_vindex *v);

/* Validates a build request and submits the job:
 * {"dataset", "text_column" | "vector_column", "id_column", "index"? (default
 *  "<dataset>_<column>"), "chunk_size"?, "overlap"?, "unit"? ("chars" | "tokens"),
 *  "provider"?, "model"?, "url"?, "dims"?, "metric"? ("cosine" | "ip" | "l2"), "M"?,
 *  "ef_construction"?, "batch_rows"?}. An existing index of the same configuration whose
 * dataset grew is updated incrementally (only new files embedded); another configuration
 * rebuilds it. job_id gets the job's id and *index (owned) the index name.
 * Codes: invalid_argument (bad field, unknown column, wrong column type), not_found (dataset),
 * conflict (a build of that index is already queued or running). */
int lh_vindex_submit(lh_vindex *v, const json_t *req, char job_id[37], char **index,
                     lh_err *err) LH_MUST_CHECK;

/* {"indexes":[meta...]} sorted by name, filtered by source dataset and/or model (NULL = any).
 * New reference. */
json_t *lh_vindex_list(lh_vindex *v, const char *dataset, const char *model);
/* The meta of one index plus "status" ("ready" or "corrupt" with "error"). not_found. */
json_t *lh_vindex_get(lh_vindex *v, const char *name, lh_err *err);
/* Deletes index `name`: meta.json first (so a crash leaves nothing that looks like an index),
 * then its other files. not_found; conflict while a build of it is queued or running. */
int lh_vindex_drop(lh_vindex *v, const char *name, lh_err *err) LH_MUST_CHECK;

/* Searches: {"index", "query" | "vector", "k"? (10), "ef_search"?, "exact"?} ->
 * {"index","k","exact","ef_search","took_ms","embed_ms","hits":[{"doc_id","chunk_id","score",
 * "snippet","rank"}]}. Text is embedded with the index's own provider and model; embed_ms is
 * the part of took_ms spent doing that (0 for a vector query).
 * Codes: not_found (index), invalid_argument (k out of 1..10000, empty text, wrong dims, NaN
 * or zero vector, bad ef_search), corrupt (the index could not be loaded or rebuilt),
 * upstream_error / timeout (the model server, for text queries). New reference. */
json_t *lh_vindex_search(lh_vindex *v, const json_t *req, lh_err *err);

/* The job registry the service submits to (borrowed). */
lh_jobs *lh_vindex_jobs(lh_vindex *v);

#endif
