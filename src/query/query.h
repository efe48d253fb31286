/* query: the DuckDB engine. The only module that includes duckdb.h. It owns the single
 * duckdb_database of the process, a pool of connections, the SQL sandbox, the views that
 * make every dataset a table by its name (rebuilt whenever the catalog generation moves),
 * result streaming in JSON / NDJSON / CSV / Parquet, and the engine-side work of ingest
 * (CSV -> Parquet, Parquet schema reads).
 *
 * The sandbox (ARCHITECTURE §5): at open, allowed_directories is set to the datasets
 * directory of each bucket and the engine's scratch dir, then enable_external_access=false,
 * autoload/autoinstall off, lock_configuration=true. User SQL must be exactly one statement
 * of a read type (SELECT, EXPLAIN, DESCRIBE, SUMMARIZE, SHOW); anything else is forbidden.
 * A query is interrupted at its deadline by a watchdog thread (duckdb_interrupt).
 *
 * Threads: all functions may be called from any thread; a lh_query_stream belongs to one
 * thread at a time. */
#ifndef LH_QUERY_H
#define LH_QUERY_H

#include "catalog/catalog.h"
#include "core/core.h"
#include "storage/storage.h"

typedef struct lh_engine lh_engine;

typedef struct lh_engine_opts {
    int connections;          /* pool size; 0 = 8 */
    int threads;              /* DuckDB worker threads; 0 = DuckDB's default */
    const char *memory_limit; /* DuckDB syntax ("4GB"); NULL/"" = default */
    int timeout_ms;           /* default per-query timeout; 0 = 30000 */
    int64_t max_rows;         /* ceiling on rows in one result; 0 = 10M */
    int64_t max_bytes;        /* ceiling on bytes in one result; 0 = 4 GiB */
    int64_t cache_max_bytes;  /* hot cache capacity (in-memory table bytes); 0 = 1 GiB */
} lh_engine_opts;

/* Opens the in-memory DuckDB database with the sandbox applied, over the given storage and
 * catalog (borrowed; they must outlive the engine). */
lh_engine *lh_engine_open(lh_storage *storage, lh_catalog *catalog, const lh_engine_opts *opts,
                          lh_err *err);
/* Interrupts running queries, waits for them, closes the pool and the database. */
void lh_engine_close(lh_engine *e);
/* DuckDB's library version, e.g. "v1.4.4". */
const char *lh_engine_duckdb_version(void);

/* ---- user queries ------------------------------------------------------------------------ */

typedef enum lh_result_format {
    LH_FMT_JSON = 0, /* {"columns":[...],"rows":[[...]],"row_count","truncated","elapsed_ms"} */
    LH_FMT_NDJSON,   /* one JSON object per row, keyed by column name */
    LH_FMT_CSV,      /* header line, then RFC 4180 rows */
    LH_FMT_PARQUET,  /* a Parquet file (zstd) */
} lh_result_format;

/* Maps an Accept header value to a format (first supported media type wins; missing,
 * "*" + "/" + "*" or application/json -> JSON). not_acceptable when nothing matches. */
int lh_result_format_from_accept(const char *accept, lh_result_format *out, lh_err *err) LH_MUST_CHECK;
const char *lh_result_format_content_type(lh_result_format f);

typedef struct lh_query_req {
    const char *sql;
    const json_t *params;  /* JSON array bound to $1..$n / ?, or NULL */
    int64_t limit;         /* <= 0: the engine's max_rows; larger than it: clamped */
    int timeout_ms;        /* <= 0: the engine default */
    lh_result_format format;
} lh_query_req;

typedef struct lh_query_stream lh_query_stream;

/* Checks the sandbox, prepares, binds params, executes and computes the first chunk, so
 * that errors which happen before any row is produced (bad SQL, forbidden file access,
 * timeout of a blocking aggregate) are reported here, before a status line is sent.
 * Codes: forbidden (not a read statement, several statements, file access outside the
 * lake), sql_error, invalid_argument (params), timeout, busy (no connection free in time),
 * too_large. */
lh_query_stream *lh_query_open(lh_engine *e, const lh_query_req *req, lh_err *err);
/* Produces up to cap bytes of the rendered result: the byte count, or 0 at the end.
 * A failure after output has begun (timeout, too many bytes): JSON output ends with an
 * "error" member ({"error":{"code","message"}}) and NDJSON with a last {"error":...} line,
 * produced as ordinary bytes before the final 0, so the document stays valid; CSV and
 * Parquet cannot carry an error, so read returns -1 with err filled and the caller aborts
 * the response. Memory stays bounded by one data chunk. */
ssize_t lh_query_stream_read(lh_query_stream *q, char *buf, size_t cap, lh_err *err);
/* Rows produced so far, and whether the limit cut the result. */
int64_t lh_query_stream_rows(const lh_query_stream *q);
bool lh_query_stream_truncated(const lh_query_stream *q);
/* Releases the connection (interrupting an unfinished query) and any scratch file. */
void lh_query_stream_close(lh_query_stream *q);

/* Where in sql an sql_error points, from the "LINE n: ..." excerpt and '^' marker DuckDB
 * appends to its message (the excerpt may be cut to a window around the spot, marked
 * "..."). line and column are 1-based, column and offset count Unicode characters (offset
 * from the start of sql). Returns false when message carries no usable marker. Pure string
 * work: any thread. */
typedef struct lh_sql_position {
    int line;
    int column;
    int64_t offset;
} lh_sql_position;
bool lh_sql_error_position(const char *sql, const char *message, lh_sql_position *out);

/* Convenience for small results (CLI, tests): runs req with format JSON and parses the
 * whole document. New reference. */
json_t *lh_query_json(lh_engine *e, const lh_query_req *req, lh_err *err);

/* ---- engine work for ingest and registration (internal SQL, never user text) ------------ */

typedef struct lh_csv_opts {
    const char *delimiter; /* NULL = sniff */
    int header;            /* -1 = sniff, 0 = no, 1 = yes */
} lh_csv_opts;

/* Reads a CSV/TSV file (any path the engine may read: scratch) with DuckDB's sniffer and
 * writes it as Parquet (zstd) to dst_path (a scratch path). Returns the schema and row count.
 * invalid_argument with DuckDB's reason when the file is not usable CSV. */
int lh_engine_csv_to_parquet(lh_engine *e, const char *src_path, const lh_csv_opts *opts,
                             const char *dst_path, lh_column **cols, size_t *ncols,
                             int64_t *rows, lh_err *err) LH_MUST_CHECK;
/* Reads a Parquet file's schema and row count from its footer. invalid_argument when it is
 * not Parquet. */
int lh_engine_parquet_info(lh_engine *e, const char *path, lh_column **cols, size_t *ncols,
                           int64_t *rows, lh_err *err) LH_MUST_CHECK;

typedef enum lh_json_layout {
    LH_JSON_AUTO = 0, /* a top-level array, or newline-delimited records */
    LH_JSON_ARRAY,
    LH_JSON_NDJSON,
} lh_json_layout;

typedef struct lh_json_opts {
    lh_json_layout layout;
    /* Detected schemas only: nested objects become parent_child columns (address.city ->
     * address_city), arrays of scalars stay lists, deeper arrays (of objects or arrays)
     * become JSON text. */
    bool flatten;
    /* An explicit schema instead of detection (readers that write NDJSON of a known shape:
     * PDF pages, text lines). NULL = detect; keys missing in a record become NULL. */
    const lh_column *columns;
    size_t ncolumns;
} lh_json_opts;

/* Reads a JSON file (array or NDJSON; records whose keys differ are unioned, missing keys
 * NULL) and writes Parquet (zstd) to dst_path. invalid_argument with DuckDB's reason when
 * the file is not usable JSON (the ingest layer locates the broken byte). */
int lh_engine_json_to_parquet(lh_engine *e, const char *src_path, const lh_json_opts *opts,
                              const char *dst_path, lh_column **cols, size_t *ncols,
                              int64_t *rows, lh_err *err) LH_MUST_CHECK;

/* Up to per_column sample values (as text, non-null, from a uniform sample of rows) of
 * every column of a Parquet file whose type is text-like or numeric:
 * {"col": ["v1", "v2", ...], ...}. New reference. For PII detection. */
json_t *lh_engine_sample_values(lh_engine *e, const char *path, size_t per_column, lh_err *err);

/* ---- hot cache (cache.c) ---------------------------------------------------------------- */

/* Pins dataset `name`: its current rows (tombstones applied) are loaded into an in-memory
 * table that its view reads from then on; an append, tombstone or compaction reloads it
 * before any query sees the new version. Pinning again reloads only if stale. Least
 * recently used entries are unloaded when the cache outgrows cache_max_bytes. Pins survive
 * restarts. Returns {"dataset","loaded","version","rows","bytes","hits","pinned_ms",
 * "last_used_ms","load_ms","already_pinned"}, new reference. Codes: invalid_argument,
 * not_found, too_large (the dataset alone is over the cap; nothing stays pinned),
 * internal (DuckDB could not load it, e.g. out of memory). */
json_t *lh_engine_cache_pin(lh_engine *e, const char *name, lh_err *err);
/* Unpins `name` and frees its table; its view reads the files again. {"dataset",
 * "bytes_freed"}; not_found when it is not pinned. */
json_t *lh_engine_cache_evict(lh_engine *e, const char *name, lh_err *err);
/* {"entries","bytes","max_bytes","hits","misses","evictions","refreshes","datasets":[entry
 * as above...]}: a hit is a dataset named in a user query and served from memory, a miss
 * one that was not. New reference. */
json_t *lh_engine_cache_stats(lh_engine *e);

/* ---- resync (resync.c) ------------------------------------------------------------------ */

/* Repairs catalog manifests from the Delta log and the Parquet footers of the live files
 * (row counts; columns are checked against the table schema), for every dataset (dataset
 * NULL) or one, keeping the rich metadata (lh_catalog_resync_manifest). Returns
 * {"checked": N, "repaired": [{"dataset", "fixed": [..]}], "errors": [{"dataset", "file"?,
 * "error"}]}, new reference: a live file that is missing or not readable Parquet, or a
 * dataset whose log cannot be read, is an errors entry, never a failure of the call.
 * NULL + not_found when the named dataset does not exist. */
json_t *lh_engine_resync(lh_engine *e, const char *dataset, lh_err *err);

/* ---- the lake: storage + catalog + engine, opened together ------------------------------ */

/* Compacts dataset `name`: its live files are rewritten (zstd Parquet, about 128 MB per file)
 * without the rows its tombstones hide, each new file is read back and the total row count
 * checked, then one Delta commit swaps the old files for the new (retried a few times when a
 * concurrent commit removed files we read). The applied tombstone batches are cleared when no
 * other commit landed meanwhile, and the old files deleted, both after the commit is durable
 * (the files once no query that started before the commit still runs).
 * Crash-safe at every step (fault points compact.after_write, after_verify, after_commit,
 * after_clear). Returns {"dataset","files_before","files_after","rows_before","rows_after",
 * "rows_dropped","bytes_before","bytes_after","version","tombstones_cleared","compacted"}.
 * Codes: not_found, conflict, io_error, internal. */
json_t *lh_engine_compact(lh_engine *e, const char *name, const char *actor, lh_err *err);

typedef struct lh_lake {
    lh_config *config; /* borrowed */
    lh_storage *storage;
    lh_catalog *catalog;
    lh_engine *engine;
    int64_t started_ms;
} lh_lake;

/* Opens storage (config->data_dir with config->buckets), catalog and engine. */
lh_lake *lh_lake_open(lh_config *config, lh_err *err);
void lh_lake_close(lh_lake *lake);


/* ---- the vector engine's glue (vector_glue.c) ---------------------------------------------
 * What vindex needs from DuckDB, so duckdb.h stays in this module: a dataset's id + text (or
 * vector) column streamed in batches, embeddings Parquet files written and read back, and
 * the vector_search(index, query, k) table function whose rows come from a provider that
 * vindex installs. Internal SQL only: names are quoted, values bound or appended. */

/* What a scan reads from dataset `dataset`: CAST(id AS VARCHAR) and either CAST(text AS
 * VARCHAR) or the vector column as floats (FLOAT[n], or FLOAT[]/DOUBLE[] lists), over the
 * given live files (paths relative to the table root, as in lh_data_file.path; NULL = every
 * live file) with the dataset's tombstones applied, in file order and row order. */
typedef struct lh_vscan_opts {
    const char *dataset;
    const char *id_column;
    const char *text_column;        /* exactly one of text_column and vector_column */
    const char *vector_column;
    const char *const *files;       /* NULL = all live files */
    size_t nfiles;
    int64_t skip_rows;              /* rows of the stream to skip (a resumed build) */
    size_t batch_rows;              /* rows per callback; 0 = 1024, at most 65536 */
} lh_vscan_opts;

typedef struct lh_vscan_batch {
    size_t n;
    int64_t first_row;              /* stream position of row 0 (skipped rows count) */
    const char *const *ids;         /* NULL entry: the id is NULL */
    const char *const *texts;       /* text scans; NULL entry: the text is NULL */
    const size_t *text_lens;
    const float *vectors;           /* vector scans: n * dims floats, row-major */
    const bool *vector_ok;          /* false: NULL row, NULL element or wrong length */
    size_t dims;
} lh_vscan_batch;

/* Called for every batch on the scanning thread; data is borrowed for the call. Returning
 * -1 (err filled) stops the scan with that error. */
typedef int (*lh_vscan_fn)(void *ctx, const lh_vscan_batch *b, lh_err *err);

/* Rows the scan would produce (tombstones applied, skip_rows ignored), and for a vector
 * column the one length its non-NULL rows share (*dims; 0 when every row is NULL).
 * not_found (dataset), invalid_argument (unknown column, a vector column that is not a
 * FLOAT/DOUBLE array or list, lists of differing lengths, more than 65536 dims). */
int lh_engine_vscan_stats(lh_engine *e, const lh_vscan_opts *o, int64_t *rows, size_t *dims,
                          lh_err *err) LH_MUST_CHECK;
/* Streams the scan to fn in batches of o->batch_rows. Holds one pooled connection for the
 * whole scan (no query timeout: this is the engine's own work). Codes: those of
 * lh_engine_vscan_stats, io_error when a file cannot be read, and fn's own. */
int lh_engine_vscan(lh_engine *e, const lh_vscan_opts *o, lh_vscan_fn fn, void *ctx,
                    lh_err *err) LH_MUST_CHECK;

/* Rows of an embeddings file: doc_id TEXT, chunk_id INTEGER, chunk TEXT, start_offset and
 * end_offset BIGINT (byte offsets into the source text), vector FLOAT[dims]. */
typedef struct lh_emb_rows {
    size_t n;
    size_t dims;
    const char *const *doc_ids;
    const int32_t *chunk_ids;
    const char *const *chunks;
    const size_t *chunk_lens;
    const int64_t *starts, *ends;
    const float *vectors; /* n * dims */
} lh_emb_rows;

/* Writes rows as a zstd Parquet file: appended into a temporary table, COPY ... TO a
 * scratch path, then moved into bucket b at key atomically (lh_bucket_adopt_file). Nothing
 * is visible at key unless the whole file is. invalid_argument (n == 0, dims 0 or > 65536),
 * io_error, internal. */
int lh_engine_write_embeddings(lh_engine *e, const lh_emb_rows *rows, lh_bucket *b,
                               const char *key, lh_err *err) LH_MUST_CHECK;

/* An embeddings file read back: row i of every array is row i of the file. */
typedef struct lh_emb_data {
    size_t n;
    size_t dims;
    char **doc_ids;     /* owned strings */
    int32_t *chunk_ids;
    char **snippets;    /* the chunk text cut to snippet_max bytes on a UTF-8 boundary */
    float *vectors;     /* n * dims, or NULL when not asked for */
} lh_emb_data;

/* Reads embeddings file `key` of bucket b (the lake's private _vectors/ area, which user SQL
 * cannot reach: it is linked or copied to scratch for DuckDB and the scratch name removed).
 * corrupt when it is not a readable embeddings file (missing column, wrong vector type),
 * not_found, too_large (more rows or dims than memory allows). */
int lh_engine_read_embeddings(lh_engine *e, lh_bucket *b, const char *key, size_t snippet_max,
                              bool want_vectors, lh_emb_data *out, lh_err *err) LH_MUST_CHECK;
void lh_emb_data_release(lh_emb_data *d);

/* One row of vector_search(index, query, k). */
typedef struct lh_vector_hit {
    char *doc_id;  /* owned */
    int32_t chunk_id;
    float score;
    char *snippet; /* owned */
} lh_vector_hit;

void lh_vector_hits_free(lh_vector_hit *hits, size_t n);

/* The provider behind vector_search: searches index `index` for the text `query` and
 * returns up to k hits best first in *hits (malloc'd array of owned hits, freed by the
 * caller with lh_vector_hits_free) and their count in *n; -1 with err filled (its message
 * becomes the SQL error). Called from DuckDB worker threads, concurrently. It must not run
 * SQL on this engine. */
typedef int (*lh_vector_search_fn)(void *ctx, const char *index, const char *query, int k,
                                   lh_vector_hit **hits, size_t *n, lh_err *err);

/* Installs (fn != NULL) or removes (fn == NULL) the provider of vector_search(index VARCHAR,
 * query VARCHAR, k INTEGER) -> (doc_id VARCHAR, chunk_id INTEGER, score FLOAT, rank INTEGER,
 * snippet VARCHAR). The function is registered in the database on the first call, so every
 * connection of the engine (user SQL included) sees it; without a provider it fails with
 * "vector search is not available". Removing waits for searches in flight, so ctx may be
 * freed once this returns. Arguments are checked before the provider is called: k must be
 * 1..10000 and the query non-empty. */
int lh_engine_set_vector_search(lh_engine *e, lh_vector_search_fn fn, void *ctx,
                                lh_err *err) LH_MUST_CHECK;

#endif
