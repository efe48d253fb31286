/* catalog internals shared by the files of src/catalog/ (never included from outside):
 * the refcounted dataset entry, the snapshot, the catalog object, the Delta log replay
 * state and the manifest helpers. See docs/internals/catalog.md for the design. */
#ifndef LH_CATALOG_INT_H
#define LH_CATALOG_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "catalog/catalog.h"

#define LH_CAT_MOD "catalog"
/* Bounded retries when another writer takes the version we wanted. */
#define LH_CAT_COMMIT_ATTEMPTS 16
/* History entries kept in memory and in the manifest (the log keeps everything). */
#define LH_CAT_HISTORY_MAX 1000
/* The manifest format written today (1 had no metadata or bucket; both still load). */
#define LH_CAT_MANIFEST_FORMAT 2
/* Ceilings on rich metadata (lh_catalog_patch_metadata; longer values are too_large). */
#define LH_CAT_TAGS_MAX 64
#define LH_CAT_TAG_LEN_MAX 64
#define LH_CAT_TEXT_MAX 4096     /* description, column description */
#define LH_CAT_OWNER_MAX 256
#define LH_CAT_JOB_ID_MAX 256
/* Ceilings on what we read back from the lake. */
#define LH_CAT_LOG_MAX ((size_t)64 << 20)
#define LH_CAT_MANIFEST_MAX ((size_t)16 << 20)
#define LH_CAT_LIST_MAX ((size_t)4 << 20)
/* Unreferenced part files younger than this may belong to a writer mid-commit. */
#define LH_CAT_ORPHAN_AGE_MS (60 * 60 * 1000LL)
/* Commits to one dataset serialise on one of these mutexes (chosen by name hash), so
 * writers of different datasets rarely wait on each other. */
#define LH_CAT_COMMIT_STRIPES 32
/* Nesting ceiling for type text and Delta type objects. */
#define LH_CAT_TYPE_DEPTH 64

/* A dataset as stored in snapshots: shared between successive snapshots until it changes.
 * `d` is first so a `const lh_dataset *` handed out can be mapped back. Immutable once
 * published. */
typedef struct lh_cat__entry {
    lh_dataset d;
    atomic_int refs;
    json_t *delta_schema; /* the Delta struct type of the latest metaData */
    /* Per column (parallel to d.columns): `sensitive` was set by a person through
     * lh_catalog_patch_metadata, so PII detection on later appends leaves it alone. */
    bool *sens_user;
    /* Content hashes of commits replayed or made since the entry was last published, not yet
     * in the snapshot's content index; lh_cat__publish moves them there. Never copied. */
    char **new_hashes;
    size_t nnew_hashes;
    /* Tombstones of the dataset (tombstone.c), immutable and shared between copies; NULL
     * when it has none. */
    struct lh_cat__tombs *tombs;
} lh_cat__entry;

/* The content index: sha256 -> dataset name, sorted by hash, immutable once built and
 * shared (refcounted) by successive snapshots until a commit adds hashes. */
typedef struct lh_cat__hent {
    unsigned char hash[32];
    uint32_t name; /* index into names */
} lh_cat__hent;

typedef struct lh_cat__hidx {
    atomic_int refs;
    lh_cat__hent *items;
    size_t n;
    char **names;
    size_t nnames;
} lh_cat__hidx;

struct lh_catalog_snap {
    atomic_int refs;
    uint64_t generation;
    size_t n;
    lh_cat__entry **items; /* sorted by name */
    lh_cat__hidx *hidx;    /* never NULL once published */
    struct lh_cat__views *views; /* AI-safe views (views_meta.c); NULL when none loaded */
};

struct lh_catalog {
    lh_storage *storage; /* datasets live in any of its buckets (lh_dataset.bucket) */
    /* Held only for the pointer swap and the reference taken by readers. */
    pthread_mutex_t snap_mu;
    lh_catalog_snap *current;
    atomic_uint_fast64_t generation;
    /* Serialises building and swapping in the next snapshot (memory only, no I/O). */
    pthread_mutex_t publish_mu;
    /* Serialise the writers of a dataset in this instance, across their I/O; never taken
     * by readers. Lock order: commit_mu[i] before publish_mu before snap_mu. */
    pthread_mutex_t commit_mu[LH_CAT_COMMIT_STRIPES];
};

/* The bucket an entry's table lives in (borrowed from storage; entries only ever name
 * registered buckets). */
lh_bucket *lh_cat__bucket_of(lh_catalog *c, const lh_cat__entry *e);

/* ---- entries (dataset.c) ----------------------------------------------------------------- */

lh_cat__entry *lh_cat__entry_new(const char *name, const char *bucket, const char *table_root);
/* Deep copy with refs = 1. */
lh_cat__entry *lh_cat__entry_dup(const lh_cat__entry *e);
void lh_cat__entry_ref(lh_cat__entry *e);
void lh_cat__entry_unref(lh_cat__entry *e);
/* Replaces columns (copied with their metadata) and recomputes the fingerprint. The
 * "set by a person" marks follow the columns by name. */
void lh_cat__entry_set_columns(lh_cat__entry *e, const lh_column *cols, size_t n);
/* Remembers a commit's content hash for the content index (see new_hashes). */
void lh_cat__entry_note_hash(lh_cat__entry *e, const char *hex);
/* Index of the column called name in cols, or -1. */
long lh_cat__column_index(const lh_column *cols, size_t n, const char *name);
/* Appends a history record (fields copied), dropping the oldest past the ceiling. */
void lh_cat__entry_push_history(lh_cat__entry *e, const lh_commit_record *r);
/* sha256 hex over "name\ttype\n" per column. */
void lh_cat__fingerprint(const lh_column *cols, size_t n, char out[65]);
/* 0 when equal; otherwise conflict naming the first difference. */
int lh_cat__schema_check(const char *dataset, const lh_column *have, size_t nhave,
                         const lh_column *want, size_t nwant, lh_err *err);
/* [{"name","type","description","pii","sensitive"}] and one history entry as JSON
 * (timestamps ISO 8601); new references. sens_user (may be NULL) adds
 * "sensitive_set_by_user" to the columns that have it (the manifest's form). */
json_t *lh_cat__columns_json(const lh_column *cols, size_t n, const bool *sens_user);
json_t *lh_cat__history_json(const lh_commit_record *r);
/* The rich metadata members ("description", "owner", "sensitivity", "tags", "freshness":
 * {"max_age_s"}) of d, set into j (the manifest's form and the start of the API's). */
void lh_cat__metadata_json(const lh_dataset *d, json_t *j);
/* The Delta struct type for columns, new reference (invalid_argument on unknown types). */
json_t *lh_cat__delta_struct(const lh_column *cols, size_t n, lh_err *err);

/* ---- schemas (schema.c) ------------------------------------------------------------------ */

/* Checks the files' schema `want` against the table's `have` under mode. 0 and *widened =
 * NULL when the table's schema stays; 0 and *widened = the table's columns (with their
 * metadata) followed by the new ones (owned, *nwidened) under LH_SCHEMA_ADD_COLUMNS;
 * conflict naming the first difference otherwise. */
int lh_cat__schema_plan(const char *dataset, const lh_column *have, size_t nhave,
                        const lh_column *want, size_t nwant, lh_schema_mode mode,
                        lh_column **widened, size_t *nwidened, lh_err *err);
/* Merges what the files' columns say (PII kind, sensitive, description) into e's columns
 * with the same names: a column keeps what it has, newly found flags are added, and a
 * `sensitive` set by a person is never changed. */
void lh_cat__merge_column_flags(lh_cat__entry *e, const lh_column *cols, size_t n);

/* ---- metadata (metadata.c) --------------------------------------------------------------- */

/* One of public, internal, confidential, restricted. */
bool lh_cat__sensitivity_valid(const char *s);

/* ---- content index (content_index.c) ----------------------------------------------------- */

/* An index of every entry's new_hashes (consumed), the first entry winning a shared hash. */
lh_cat__hidx *lh_cat__hidx_build(lh_cat__entry **entries, size_t n);
/* old plus e's new_hashes (consumed) under e's name; old itself (referenced) when there are
 * none. old may be NULL. */
lh_cat__hidx *lh_cat__hidx_with(lh_cat__hidx *old, lh_cat__entry *e);
void lh_cat__hidx_unref(lh_cat__hidx *x);
/* Parses 64 hex digits (either case); false otherwise. */
bool lh_cat__hash_parse(const char *hex, unsigned char out[32]);

/* ---- snapshots (snapshot.c) -------------------------------------------------------------- */

/* A new snapshot holding `entries` (each referenced), sorted by name. */
lh_catalog_snap *lh_cat__snap_new(lh_cat__entry **entries, size_t n, uint64_t generation);
/* Makes `e` the entry for its name (replacing or inserting), as generation+1, and swaps it
 * in as the catalog's current snapshot; e's new_hashes move to the content index. Takes its
 * own reference to e. The caller holds the commit stripe of e's name. */
void lh_cat__publish(lh_catalog *c, lh_cat__entry *e);
/* The current snapshot's entry for name, referenced, or NULL. */
lh_cat__entry *lh_cat__current_entry(lh_catalog *c, const char *name);
/* The commit stripe of a dataset name (commit.c). */
pthread_mutex_t *lh_cat__stripe(lh_catalog *c, const char *name);
/* Sleeps a random, growing while after the attempt-th lost put-if-absent race. */
void lh_cat__backoff(int attempt);

/* ---- Delta log (delta_log.c) ------------------------------------------------------------- */

/* "datasets/<name>/_delta_log/<%020lld>.json". Owned. */
char *lh_cat__log_key(const char *name, int64_t version);
/* Applies versions e->d.version+1, +2, ... until the first missing one. *applied counts
 * them. A version that cannot be read or parsed is an error (io_error / invalid_argument).
 * e must not be published yet. */
int lh_cat__replay(lh_bucket *b, lh_cat__entry *e, int64_t *applied, lh_err *err);
/* Builds the newline-delimited actions of one commit. `adds` are the files of this commit
 * (paths relative to the table root). For version 0, e carries table_id/created_ms and
 * the protocol and metaData actions are written. prev_schema (non-NULL only for a later
 * version that changes the schema: the Delta struct before it) adds a metaData action with
 * e's columns, and a protocol upgrade when the new schema needs one. Owned; NULL +
 * invalid_argument when the schema cannot be expressed in Delta. */
char *lh_cat__commit_text(const lh_cat__entry *e, int64_t version, int64_t ts_ms,
                          const lh_commit_info *info, const char *operation,
                          const lh_data_file *adds, size_t nadds, const json_t *prev_schema,
                          lh_err *err);

/* ---- tombstones (tombstone.c) ----------------------------------------------------------- */

typedef struct lh_cat__tombs {
    atomic_int refs;
    lh_tombstones pub; /* points into the members below */
    char *column;
    lh_tombstone_batch *batches;
    size_t nbatches;
    char **keys; /* borrowed from the batches, sorted, unique */
} lh_cat__tombs;

void lh_cat__tombs_ref(lh_cat__tombs *t);
void lh_cat__tombs_unref(lh_cat__tombs *t);
/* Loads _catalog/tombstones/<name>/ of b into e (at open). A bad batch file is skipped with
 * a warning. */
void lh_cat__tombs_load(lh_bucket *b, lh_cat__entry *e);

/* ---- manifests (manifest.c) -------------------------------------------------------------- */

char *lh_cat__manifest_key(const char *name);
/* Writes _catalog/datasets/<name>.json atomically. */
int lh_cat__manifest_write(lh_bucket *b, const lh_cat__entry *e, lh_err *err);
/* Reads the manifest and, when it describes the same table as the log, adopts its rich
 * metadata (dataset and per column, by name) and, where it is self-consistent and maps to
 * the log's Delta types, its exact DuckDB column types. *current is true when the manifest
 * exists and is at the entry's version (no rewrite needed). Never fails: a bad manifest is
 * ignored (an old one without the metadata members loads with defaults). */
void lh_cat__manifest_merge(lh_bucket *b, lh_cat__entry *e, bool *current);

/* ---- AI-safe views (views_meta.c) ------------------------------------------------------ */

/* The view definitions of a snapshot: immutable, refcounted, shared until a view changes. */
typedef struct lh_cat__views {
    atomic_int refs;
    json_t **defs; /* normalised definitions, sorted by "name" */
    size_t n;
    char *salt;    /* 64 hex digits, or NULL */
} lh_cat__views;

void lh_cat__views_ref(lh_cat__views *v);
void lh_cat__views_unref(lh_cat__views *v);
/* Loads _catalog/views/ of the primary bucket and the salt when there is one (it is made
 * with the first view). A bad file is skipped with a warning. Never NULL. */
lh_cat__views *lh_cat__views_load(lh_catalog *c);
/* Swaps in a snapshot with the same datasets and views v (referenced), as generation+1. */
void lh_cat__publish_views(lh_catalog *c, lh_cat__views *v);

/* The write path shared by appends (commit.c) and compaction (compact.c). */
/* Moves or links each file to datasets/<name>/part-<pid>-<uuid>.parquet; fills placed[] and
 * *n, also on failure, so the caller can undo with lh_cat__unplace_files. */
int lh_cat__place_files(lh_bucket *b, const char *name, const lh_add_file *files, size_t nfiles,
                        lh_data_file *placed, size_t *n, lh_err *err) LH_MUST_CHECK;
/* Removes placed files that never made it into a commit (failures are logged: a later open
 * sweeps them). */
void lh_cat__unplace_files(lh_bucket *b, const char *name, lh_data_file *placed, size_t n);
/* Writes the log file of `version` put-if-absent: 0 done, 1 another writer holds it (lost the
 * race), -1 error. Hosts the catalog.before_commit crash point and the commit fault. */
int lh_cat__write_log(lh_bucket *b, const char *name, int64_t version, const char *text,
                      lh_err *err) LH_MUST_CHECK;

#endif
