/* catalog: what the lake holds. Each dataset is a Delta Lake table under
 * datasets/<name>/ (the _delta_log is the truth for which files make the table) plus a
 * manifest _catalog/datasets/<name>.json with the metadata the Delta log has no place for.
 * Metadata only: the catalog never reads Parquet (query does) and writes files only
 * through storage.
 *
 * Readers take an immutable, refcounted snapshot and never wait on writers; a writer builds
 * the next snapshot and swaps it in under a short lock, bumping the generation.
 * Commits are serialised inside the process and put-if-absent on disk, so a second process
 * cannot take the same Delta version either (the loser re-reads the log and retries).
 *
 * Threads: every function may be called from any thread. */
#ifndef LH_CATALOG_H
#define LH_CATALOG_H

#include "core/core.h"
#include "storage/storage.h"

typedef struct lh_catalog lh_catalog;

/* One column: name and DuckDB type text ("BIGINT", "DECIMAL(18,2)", "VARCHAR[]",
 * "STRUCT(a INTEGER, b VARCHAR)"). */
typedef struct lh_column {
    char *name;
    char *type;
    char *description; /* or NULL; set through lh_catalog_patch_metadata */
    char *pii;         /* kind of PII found ("email", "phone", "ssn", "salary",
                          "street_address", "medical", "person_name", ...), or NULL */
    bool sensitive;    /* the column holds sensitive data (PII or set by a person) */
} lh_column;

void lh_columns_free(lh_column *cols, size_t n);
lh_column *lh_columns_dup(const lh_column *cols, size_t n);

/* A data file of the current table version, path relative to the table root. */
typedef struct lh_data_file {
    char *path;
    uint64_t size;
    int64_t rows;
    int64_t modification_ms;
} lh_data_file;

/* One entry of a dataset's history (one Delta commit). */
typedef struct lh_commit_record {
    int64_t version;
    int64_t timestamp_ms;
    char *operation;   /* "CREATE TABLE", "WRITE", "REGISTER" */
    char *source;      /* "upload", "cli", "register", "demo" */
    char *file_name;   /* original file name, or NULL */
    char *actor;       /* or NULL */
    int64_t rows_added;
    int64_t files_added;
    char *content_hash; /* sha256 hex of the ingested content, or NULL */
    char *job_id;       /* the ingest job, or NULL */
} lh_commit_record;

/* An immutable dataset description inside a snapshot. Borrowed from its snapshot. */
typedef struct lh_dataset {
    char *name;
    char *bucket;          /* bucket holding the table */
    char *table_root;      /* absolute directory datasets/<name> */
    char *table_id;        /* Delta metaData id (uuid) */
    lh_column *columns;
    size_t ncolumns;
    char fingerprint[65];  /* sha256 over "name type\n" of each column */
    int64_t row_count;
    int64_t version;       /* latest Delta version */
    int64_t created_ms;
    int64_t updated_ms;
    char *source;          /* how it was first created */
    lh_data_file *files;
    size_t nfiles;
    lh_commit_record *history; /* oldest first */
    size_t nhistory;
    /* Rich metadata (lh_catalog_patch_metadata); NULL/0 when unset. */
    char *description;
    char *owner;
    char *sensitivity;     /* "public", "internal", "confidential", "restricted" */
    char **tags;
    size_t ntags;
    int64_t freshness_max_age_s; /* expected to be updated at least this often; 0 = none */
} lh_dataset;

/* Opens the catalog over every bucket of storage and rebuilds it from disk: every
 * datasets/<name>/_delta_log of every bucket is replayed; the manifest (in the same bucket)
 * fills in metadata, and is rewritten from the log when it is missing or behind. A dataset
 * whose log is unreadable is skipped with a warning, not fatal. A dataset name is unique
 * across buckets: when two buckets hold a table of the same name, the one in the bucket that
 * comes first (primary, then configuration order) is kept and the other is skipped with a
 * warning (left on disk untouched). */
lh_catalog *lh_catalog_open(lh_storage *storage, lh_err *err);
void lh_catalog_close(lh_catalog *c);

/* ---- snapshots --------------------------------------------------------------------------- */

typedef struct lh_catalog_snap lh_catalog_snap;
/* A reference to the current snapshot; release with lh_catalog_snap_unref. Never NULL. */
lh_catalog_snap *lh_catalog_snapshot(lh_catalog *c);
void lh_catalog_snap_unref(lh_catalog_snap *s);
/* Bumps on every change; equal generations mean identical snapshots. */
uint64_t lh_catalog_snap_generation(const lh_catalog_snap *s);
uint64_t lh_catalog_generation(lh_catalog *c);
size_t lh_catalog_snap_count(const lh_catalog_snap *s);
/* Datasets sorted by name; borrowed for the life of the snapshot. */
const lh_dataset *lh_catalog_snap_at(const lh_catalog_snap *s, size_t i);
const lh_dataset *lh_catalog_snap_find(const lh_catalog_snap *s, const char *name);

/* ---- writing ----------------------------------------------------------------------------- */

/* A finished Parquet file to add to a table. */
typedef struct lh_add_file {
    const char *src_path;  /* absolute path of the file */
    bool move;             /* true: a scratch file, renamed into the table;
                              false: a bucket object (src_key), linked so it stays */
    const char *src_key;   /* with move == false: key in the table's bucket */
    int64_t rows;
} lh_add_file;

/* How an append treats a schema that differs from the table's. */
typedef enum lh_schema_mode {
    LH_SCHEMA_EXACT = 0,   /* names, order and types must match (conflict otherwise) */
    LH_SCHEMA_ADD_COLUMNS, /* new columns are added to the table (a metaData action in the
                              same commit); columns the files lack read as NULL for their
                              rows; a type change is still a conflict */
} lh_schema_mode;

typedef struct lh_commit_info {
    const char *operation; /* NULL: "CREATE TABLE" for a new table, else "WRITE" */
    const char *source;    /* "upload", "cli", "register", "demo", "database", "schedule" */
    const char *file_name; /* may be NULL */
    const char *actor;     /* may be NULL */
    const char *content_hash; /* sha256 hex of the content, or NULL; indexed for dedup */
    const char *job_id;    /* may be NULL */
    lh_schema_mode schema_mode;
    const char *bucket;    /* bucket for a new table; NULL/"" = primary. Naming another
                              bucket than an existing table's is a conflict ("dataset 'x'
                              lives in bucket 'primary'"); unknown is invalid_argument */
} lh_commit_info;

/* Adds files to dataset `name` in one Delta commit, creating the table (version 0:
 * protocol + metaData + add + commitInfo) in bucket info->bucket when it does not exist.
 * Files, log and manifest go to the table's own bucket. cols is the schema of the
 * files; for an existing table it must equal the table's (conflict naming the difference
 * otherwise). Files are placed as datasets/<name>/part-<pid>-<uuid>.parquet before the commit; a
 * failure or crash before the commit leaves the table as it was (the placed files are
 * unreferenced and removed). Returns the new version in *version (may be NULL).
 * Codes: invalid_argument (bad name, no files), conflict, io_error. */
int lh_catalog_add_files(lh_catalog *c, const char *name, const lh_column *cols, size_t ncols,
                         const lh_add_file *files, size_t nfiles, const lh_commit_info *info,
                         int64_t *version, lh_err *err) LH_MUST_CHECK;

/* Whether key lies under a prefix the catalog manages (datasets/, _catalog/), in any bucket.
 * Such objects change only through catalog commits: the object API may read them, never
 * write or delete them, or a client could corrupt a table's log or manifest. */
bool lh_catalog_owns_key(const char *key);

/* Merges a metadata patch into dataset `name` and persists it (manifest, atomically):
 * {"description", "owner", "sensitivity", "tags": [..], "freshness": {"max_age_s": N},
 *  "columns": {"<col>": {"description", "sensitive"}}}. A key set to null clears it; other
 * keys are left as they are. Codes: not_found, invalid_argument (unknown key, wrong type,
 * unknown column, bad sensitivity), io_error. */
int lh_catalog_patch_metadata(lh_catalog *c, const char *name, const json_t *patch,
                              lh_err *err) LH_MUST_CHECK;

/* The dataset already holding content with this sha256 (a commit recorded it), or NULL.
 * Borrowed for the life of the snapshot. */
const char *lh_catalog_snap_find_content(const lh_catalog_snap *s, const char *sha256_hex);

/* How schema `to` differs from `from`: NULL when equal, else {"added":[{name,type}],
 * "removed":[{name,type}], "type_changed":[{name,from,to}], "renamed":[{from,to,type}]}
 * where a removed and an added column of the same type and similar name (or the same
 * position) are reported as a likely rename instead. New reference. */
json_t *lh_schema_diff(const lh_column *from, size_t nfrom, const lh_column *to, size_t nto);

/* ---- rendering --------------------------------------------------------------------------- */

/* {"name","bucket","columns":[{"name","type"}],"row_count","fingerprint","version",
 *  "created_at","updated_at","source","files":N} plus, when detailed, "data_files" and
 * "history". New reference. */
json_t *lh_dataset_to_json(const lh_dataset *d, bool detailed);

/* DuckDB type text -> Delta schema type (a string like "long" or an object for
 * struct/array/map), new reference; NULL + invalid_argument when unknown. And back. */
json_t *lh_delta_type_from_duckdb(const char *duck_type, lh_err *err);
char *lh_delta_type_to_duckdb(const json_t *delta_type, lh_err *err);
/* The schemaString JSON of a table with these columns. Owned. */
char *lh_delta_schema_string(const lh_column *cols, size_t n, lh_err *err);

/* ---- resync (resync_support.c) ----------------------------------------------------------- */

/* A live data file's row count as its Parquet footer gives it (lh_catalog_resync_manifest). */
typedef struct lh_file_rows {
    const char *path; /* relative to the table root, as in lh_data_file.path */
    int64_t rows;
} lh_file_rows;

/* Repairs the manifest of dataset `name` from the truth: the Delta log (replayed again, so
 * commits of other processes are caught up) and the footer row counts given in rows[]
 * (files not named keep their log stats). The rich metadata is kept: from the manifest when
 * it still describes this table, else from the catalog's own entry. The manifest is
 * rewritten (atomically) when it is missing, unreadable, malformed, or disagrees on
 * table_id, version, row_count, columns or fingerprint; the entry is republished when the
 * footers or the log changed it. *fixed gets a JSON array (new reference, empty when
 * nothing was wrong) naming what was repaired: "manifest_missing", "manifest_unreadable",
 * "manifest_malformed", "table_id", "version", "row_count", "columns", "fingerprint",
 * "file_rows" (the log's stats disagreed with a footer; "row_count" then too), "log"
 * (versions other processes committed were caught up).
 * Codes: not_found, io_error (log or manifest write), invalid_argument (log). */
int lh_catalog_resync_manifest(lh_catalog *c, const char *name, const lh_file_rows *rows,
                               size_t nrows, json_t **fixed, lh_err *err) LH_MUST_CHECK;

/* Stamps the bucket on legacy manifests: every _catalog/datasets/<name>.json of every data
 * bucket (the rescue bucket is skipped) that is format 1 or has no "bucket" gets "bucket":
 * <the bucket it was found in> and format_version 2, rewritten atomically under the name's
 * commit stripe. Idempotent. Returns {"checked": N, "migrated": [names], "skipped":
 * [{name, bucket, reason}]} (malformed manifests, left for open's repair); new reference.
 * Codes: io_error (a bucket or manifest unreadable or unwritable), too_large. */
json_t *lh_catalog_migrate_buckets(lh_catalog *c, lh_err *err);

/* ---- tombstones (soft delete) ------------------------------------------------------------ */

/* Ceilings: keys per batch, per dataset (all batches), bytes per key (its text form). */
#define LH_TOMBSTONE_BATCH_MAX 100000
#define LH_TOMBSTONE_TOTAL_MAX 1000000
#define LH_TOMBSTONE_KEY_MAX 1024

/* One tombstone batch: rows whose key column, as text, equals one of keys are deleted. */
typedef struct lh_tombstone_batch {
    char *id;          /* uuid */
    char *actor;       /* or NULL */
    char *reason;      /* or NULL */
    int64_t created_ms;
    char **keys;       /* as given (numbers in their text form) */
    size_t nkeys;
} lh_tombstone_batch;

/* The tombstones of one dataset in a snapshot. Borrowed for the life of the snapshot. */
typedef struct lh_tombstones {
    const char *column;               /* every batch shares it */
    const lh_tombstone_batch *batches; /* oldest first */
    size_t nbatches;
    const char *const *keys;          /* union of the batches' keys, sorted, unique */
    size_t nkeys;
    uint64_t stamp;                   /* differs whenever the key set changes */
} lh_tombstones;

/* The tombstones of dataset `name` in s, or NULL when it has none. */
const lh_tombstones *lh_catalog_snap_tombstones(const lh_catalog_snap *s, const char *name);

/* Adds a batch of nkeys keys (1..LH_TOMBSTONE_BATCH_MAX, each 1..LH_TOMBSTONE_KEY_MAX bytes)
 * for key column `column` to dataset `name`: written to _catalog/tombstones/<name>/<id>.json
 * in the dataset's bucket (atomically, fsynced) before the call returns, then published in a
 * new snapshot. batch_id gets the new batch's id. Codes: not_found (no such dataset),
 * invalid_argument (unknown column, bad keys), conflict (the dataset's tombstones use another
 * column), too_large, io_error. */
int lh_catalog_add_tombstones(lh_catalog *c, const char *name, const char *column,
                              const char *const *keys, size_t nkeys, const char *actor,
                              const char *reason, char batch_id[37], lh_err *err) LH_MUST_CHECK;

/* Removes the batches with these ids (those no longer there are skipped): their files first,
 * then a new snapshot without them. Used by compaction once the rows are physically gone:
 * at_version >= 0 clears only while the table is still at that version (a later append may
 * hold rows the batches must keep hiding); *cleared (may be NULL) counts removed batches.
 * Codes: not_found (no such dataset), io_error. */
int lh_catalog_clear_tombstones(lh_catalog *c, const char *name, const char *const *batch_ids,
                                size_t n, int64_t at_version, size_t *cleared,
                                lh_err *err) LH_MUST_CHECK;

/* {"dataset","row_key_column","key_count","batches":[{"id","created_at","actor","reason",
 *  "count"}]} for dataset name in s; NULL + not_found when it is not there. */
json_t *lh_catalog_tombstones_json(const lh_catalog_snap *s, const char *name, lh_err *err);

/* ---- compaction -------------------------------------------------------------------------- */

/* Replaces files of dataset `name` in one Delta commit (remove actions for old_paths, add
 * actions for the new files, placed like lh_catalog_add_files places them). expected_version
 * is the version old_paths were read at; a newer version is accepted only when every old
 * path is still live (appends in between are kept), otherwise conflict. Lost put-if-absent
 * races are retried like appends. The table's schema is unchanged (new files must hold its
 * columns). nnew may be 0 (every row gone). Codes: not_found, invalid_argument, conflict,
 * io_error. */
int lh_catalog_replace_files(lh_catalog *c, const char *name, int64_t expected_version,
                             const char *const *old_paths, size_t nold, const lh_add_file *files,
                             size_t nnew, const lh_commit_info *info, int64_t *version,
                             lh_err *err) LH_MUST_CHECK;

/* Deletes the data files `paths` (relative to the table root) of dataset `name` that no
 * longer belong to its current version; paths still live are left alone. Failures are
 * logged (a later open sweeps what is left). */
void lh_catalog_delete_unreferenced(lh_catalog *c, const char *name, const char *const *paths,
                                    size_t n);

/* ---- AI-safe views (views_meta.c) -------------------------------------------------------- */

/* Ceilings: views per lake, conditions per row filter, values per "in" list, bytes of one
 * string value in a filter. */
#define LH_VIEWS_MAX 1000
#define LH_VIEW_FILTERS_MAX 64
#define LH_VIEW_IN_MAX 1000
#define LH_VIEW_VALUE_MAX 4096

/* Validates a view definition against the current snapshot and persists it as
 * _catalog/views/<name>.json in the primary bucket (atomically), then publishes a snapshot
 * holding it (the generation moves, so the query views follow). def is
 * {"name", "dataset", "columns": [..], "row_filter"?: {column, op, value} or [..] (ANDed),
 *  "redactions"?: {"<col>": "null" | "hash" | {"mask": {"keep_prefix", "keep_suffix"}}}}
 * with op one of = != < <= > >= in like "is null" "is not null"; values are JSON scalars
 * (an array of them for "in", a string for like, none for the null tests). *out (may be
 * NULL) gets the stored, normalised definition (new reference: row_filter always a list,
 * column names in the table's spelling, "created_at"). Codes: invalid_argument, not_found
 * (no such dataset), conflict (the name is taken by a view or a dataset), too_large,
 * io_error. */
int lh_catalog_create_view(lh_catalog *c, const json_t *def, json_t **out,
                           lh_err *err) LH_MUST_CHECK;
/* Deletes view `name` (its file, then a snapshot without it). Codes: not_found, io_error. */
int lh_catalog_drop_view(lh_catalog *c, const char *name, lh_err *err) LH_MUST_CHECK;
/* The views of a snapshot, sorted by name, as their normalised definitions (borrowed for the
 * life of the snapshot). */
size_t lh_catalog_snap_view_count(const lh_catalog_snap *s);
const json_t *lh_catalog_snap_view_at(const lh_catalog_snap *s, size_t i);
const json_t *lh_catalog_snap_find_view(const lh_catalog_snap *s, const char *name);
/* The lake's hash salt as 64 hex digits (32 random bytes made once, kept in
 * _catalog/views/_salt), or NULL when it could not be read or made (hash redactions then
 * cannot be built). Borrowed for the life of the snapshot. */
const char *lh_catalog_snap_views_salt(const lh_catalog_snap *s);

#endif
