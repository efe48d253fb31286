/* ingest: getting data into the lake. A file (already on local disk: an upload streamed to
 * scratch by http, or a path given to the CLI) is detected, converted to Parquet by the
 * engine and committed to the catalog as one Delta commit; existing Parquet objects can be
 * registered as a dataset; and the demo dataset is generated here.
 * Formats: CSV/TSV, JSON/NDJSON (flattened), Parquet, PDF (text layer, OCR for scanned
 * pages), plain text and SMS/chat exports, and zip/tar(.gz) archives of those. Content is
 * deduplicated by SHA-256, columns are scanned for PII, and every commit records its
 * lineage. Sits above query, catalog and storage.
 *
 * Threads: all functions may be called from any thread (commits serialise in the catalog). */
#ifndef LH_INGEST_H
#define LH_INGEST_H

#include "core/core.h"
#include "query/query.h"

/* Progress of one ingest, reported to an optional callback (the CLI's progress bar). */
typedef struct lh_ingest_progress {
    const char *phase;     /* "reading", "converting", "committing" */
    uint64_t bytes_done;
    uint64_t bytes_total;
    int64_t rows;          /* rows converted so far (known after "converting") */
} lh_ingest_progress;
typedef void (*lh_ingest_progress_fn)(void *ctx, const lh_ingest_progress *p);

typedef struct lh_ingest_req {
    const char *path;       /* the file to ingest */
    bool path_is_scratch;   /* true: a scratch file ingest may consume (moved or deleted) */
    const char *file_name;  /* the user's name for the file (for the default dataset name,
                               format hints and lineage); NULL = basename of path */
    const char *name;       /* dataset name; NULL/"" = derived from file_name */
    const char *format;     /* NULL/"" = detect from content; or "csv", "tsv", "json",
                               "ndjson", "parquet", "pdf", "text", "sms", "zip", "tar" */
    const char *source;     /* lineage: "upload", "cli", "demo", "database", "schedule" */
    const char *actor;      /* may be NULL */
    lh_schema_mode on_schema_change; /* when the dataset exists with another schema */
    lh_ingest_progress_fn progress;  /* may be NULL; called on the ingesting thread */
    void *progress_ctx;
    const char *bucket;     /* bucket of a new dataset; NULL/"" = primary. An existing
                               dataset stays where it is (another bucket: conflict) */
} lh_ingest_req;

/* Ingests one file. Returns {"dataset","created","duplicate":false,"version","rows","bytes",
 * "format","content_hash","job_id","columns":[{name,type,pii?,sensitive}],"pii":{col:kind},
 * "files":[{member,format,rows,ocr_pages}],"schema_diff":{...}|null,"elapsed_ms"}, or, when
 * the same content was ingested before, {"duplicate":true,"dataset":<where it lives>,
 * "content_hash",...} without storing it again. A new reference. On any failure nothing is
 * registered and no scratch file is left behind. Codes: invalid_argument (empty file,
 * broken CSV/JSON/PDF with where it breaks, invalid UTF-8 with its offset, bad name),
 * unsupported_media (binary content we do not read, unknown ?format), conflict (schema
 * differs from the dataset's and on_schema_change does not allow it; the message carries
 * the diff), too_large, io_error. */
json_t *lh_ingest_file(lh_lake *lake, const lh_ingest_req *req, lh_err *err);

/* Parses an on_schema_change value: "fail" (or NULL/"") or "add_columns". invalid_argument
 * naming the accepted values otherwise. Shared by the HTTP API and the CLI. */
int lh_ingest_schema_mode_parse(const char *text, lh_schema_mode *out, lh_err *err) LH_MUST_CHECK;

/* Registers existing Parquet objects (keys in the primary bucket) as dataset `name` (new or
 * appended to), keeping the objects where they are. Every key is checked to be Parquet
 * before anything is committed. Returns the dataset JSON. Codes: invalid_argument,
 * not_found (a key), conflict (schemas differ), io_error. */
json_t *lh_ingest_register(lh_lake *lake, const char *name, const char *const *keys,
                           size_t nkeys, const char *actor, lh_err *err);

/* Generates the staffing demo (candidates, clients, jobs, placements; seeded, so the same
 * every time) and ingests each table that does not exist yet. */
int lh_ingest_seed_demo(lh_lake *lake, lh_err *err) LH_MUST_CHECK;

#endif
