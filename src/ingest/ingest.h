/* ingest: getting data into the lake. A file (already on local disk: an upload streamed to
 * scratch by http, or a path given to the CLI) is detected, converted to Parquet by the
 * engine and committed to the catalog as one Delta commit; existing Parquet objects can be
 * registered as a dataset; and the demo dataset is generated here.
 * Formats today: CSV and TSV. Sits above query, catalog and storage.
 *
 * Threads: all functions may be called from any thread (commits serialise in the catalog). */
#ifndef LH_INGEST_H
#define LH_INGEST_H

#include "core/core.h"
#include "query/query.h"

typedef struct lh_ingest_req {
    const char *path;       /* the file to ingest */
    bool path_is_scratch;   /* true: a scratch file ingest may consume (moved or deleted) */
    const char *file_name;  /* the user's name for the file (for the default dataset name,
                               format hints and lineage); NULL = basename of path */
    const char *name;       /* dataset name; NULL/"" = derived from file_name */
    const char *format;     /* NULL/"" = detect; "csv", "tsv" */
    const char *source;     /* lineage: "upload", "cli", "demo" */
    const char *actor;      /* may be NULL */
} lh_ingest_req;

/* Ingests one file. Returns {"dataset","created","version","rows","bytes","columns":[...],
 * "elapsed_ms"}, a new reference. On any failure nothing is registered and no scratch file
 * is left behind. Codes: invalid_argument (empty or unreadable file, bad name),
 * unsupported_media (a format we do not read), conflict (schema differs from the existing
 * dataset's), io_error. */
json_t *lh_ingest_file(lh_lake *lake, const lh_ingest_req *req, lh_err *err);

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
