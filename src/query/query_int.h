/* query internals shared between the files of src/query/: the engine struct, the connection
 * pool with its watchdog, the sandbox checks, the value renderers and the view sync.
 * Never included from outside the module. */
#ifndef LH_QUERY_INT_H
#define LH_QUERY_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "duckdb.h"
#include "query/query.h"

#define LH_QUERY_LOG "query"

/* The in-memory database (attached with COMPRESS) that holds the hot cache's tables. */
#define LH_CACHE_DB "lh_cache"

/* How long lh_query_open waits for a free pooled connection before answering busy. */
#define LH_POOL_WAIT_MS 5000

/* What a hot-cache table was loaded from: it is reloaded when any of these moves. */
typedef struct lh_cache_stamp {
    int64_t version;
    size_t nfiles;
    int64_t created_ms;
    uint64_t tomb;
} lh_cache_stamp;

/* One pinned dataset (cache.c). loaded = its table lh_cache."<name>" holds stamp's rows;
 * false for a pin read back at start and not loaded yet. */
typedef struct lh_cache_entry {
    char *name;
    bool loaded;
    lh_cache_stamp stamp;
    int64_t rows, bytes;
    int64_t pinned_ms, last_used_ms;
    int64_t hits;
    double load_ms;
} lh_cache_entry;

/* One pooled connection and the watchdog state of the query running on it. */
typedef struct lh_slot {
    duckdb_connection con;
    bool in_use;
    double acquired_ms; /* lh_mono_ms() when handed out */
    double deadline_ms; /* lh_mono_ms() deadline, 0 = no query armed */
    bool fired;         /* the watchdog interrupted the armed query */
} lh_slot;

struct lh_engine {
    lh_storage *storage; /* borrowed */
    lh_catalog *catalog; /* borrowed */
    duckdb_database db;
    lh_engine_opts opts; /* with defaults filled in */
    char **datasets_dirs; /* <bucket root>/datasets/ of every bucket, storage's order */
    size_t ndatasets_dirs;
    char *work_dir;      /* <data>/tmp/work/ */

    /* Pool: slots[] guarded by pool_mu; pool_cv signals a released slot. The watchdog
     * reads deadlines under the same mutex, so it can never interrupt a connection that
     * has already been handed to the next query. */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    pthread_cond_t wd_cv; /* wakes the watchdog when a deadline is armed or at close */
    lh_slot *slots;
    int nslots;
    bool closing;
    /* Data files a compaction replaced, deleted only once no connection that was handed
     * out before the commit is still in use (a running query may be about to open them). */
    struct lh_pending_delete *pending;
    size_t npending;
    pthread_t wd_thread;
    bool wd_started;

    /* View sync: a dedicated connection used only under views_mu, so a query that waits
     * for the sync never competes with other queries for a pooled connection. */
    pthread_mutex_t views_mu;
    duckdb_connection views_con;
    _Atomic uint64_t views_gen; /* catalog generation the views reflect (+1; 0 = never) */
    char **view_names;
    size_t nviews;
    /* Tombstone key tables lh_tomb."<dataset>" made by the view sync (views.c), with the
     * lh_tombstones.stamp each was loaded from, so unchanged key sets are not reloaded. */
    char **tomb_names;
    uint64_t *tomb_stamps;
    size_t ntombs;

    /* Hot cache (cache.c): entries change under views_mu + cache_mu, counters under
     * cache_mu; cache_pinned mirrors ncache so queries skip accounting when it is 0. */
    pthread_mutex_t cache_mu;
    lh_cache_entry *cache;
    size_t ncache;
    _Atomic size_t cache_pinned;
    int64_t cache_bytes, cache_hits, cache_misses, cache_evictions, cache_refreshes;

    /* vector_search's provider slot (vector_glue.c); DuckDB owns it (the table function's
     * extra info) once registered, so it lives as long as the database. */
    struct lh_vglue *vglue;
};

/* ---- pool.c ------------------------------------------------------------------------------ */

int lh_query__pool_start(lh_engine *e, lh_err *err) LH_MUST_CHECK;
void lh_query__pool_stop(lh_engine *e);
/* Takes a free slot, waiting up to LH_POOL_WAIT_MS; busy when none frees up. */
int lh_query__pool_acquire(lh_engine *e, lh_err *err);
void lh_query__pool_release(lh_engine *e, int slot);
/* Deletes `paths` of dataset `name` (files its current version no longer lists) once every
 * connection handed out before now has been released; at once when none is. */
void lh_query__defer_delete(lh_engine *e, const char *name, const char *const *paths, size_t n);
/* Deletes the deferred files whose time has come (all of them when `all`, at close). */
void lh_query__reap(lh_engine *e, bool all);
/* Arms the watchdog for slot: the connection is interrupted at lh_mono_ms() >= deadline. */
void lh_query__wd_arm(lh_engine *e, int slot, double deadline_ms);
/* Disarms; returns true when the watchdog fired for this query. */
bool lh_query__wd_disarm(lh_engine *e, int slot);
/* True when the watchdog has fired for the armed query (it stays armed). */
bool lh_query__wd_fired(lh_engine *e, int slot);

/* ---- sandbox.c --------------------------------------------------------------------------- */

/* Checks that sql is exactly one read statement and prepares it on con. The returned
 * statement is owned by the caller (duckdb_destroy_prepare). forbidden / sql_error. */
duckdb_prepared_statement lh_query__prepare_user(duckdb_connection con, const char *sql,
                                                 lh_err *err);
/* Binds a JSON array (or NULL) to the statement's parameters. invalid_argument. */
int lh_query__bind_params(duckdb_prepared_statement st, const json_t *params,
                          lh_err *err) LH_MUST_CHECK;
/* The user's statement text with top-level ';' blanked out, so it can be wrapped in
 * "(\n...\n)". Owned. */
char *lh_query__strip_semicolons(const char *sql);
/* Maps a DuckDB error on user SQL: Permission Error -> forbidden, interrupt with a fired
 * watchdog -> timeout, anything else -> sql_error, keeping DuckDB's text. Returns -1. */
int lh_query__user_error(const char *msg, duckdb_error_type type, bool timed_out, int timeout_ms,
                         lh_err *err);
/* Calls fn(ctx, identifier) for every identifier of sql (bare words and "quoted" names,
 * up to LH_NAME_MAX bytes) outside string literals and comments. */
void lh_query__each_identifier(const char *sql, void (*fn)(void *, const char *), void *ctx);
/* Runs one internal statement on con (our own SQL); internal with DuckDB's text on failure. */
int lh_query__exec(duckdb_connection con, const char *sql, lh_err *err) LH_MUST_CHECK;

/* ---- compact.c / views.c ----------------------------------------------------------------- */

/* The SQL condition that keeps a row whose key column `col` is not among the keys of
 * `table` (a one-column VARCHAR table, name already quoted): NULL keys are kept, others
 * compared as text. Owned. */
char *lh_query__tomb_keep_sql(const char *col, const char *table);
/* Fills the (existing, empty) table [catalog.]schema.table's one VARCHAR column with keys
 * through an appender on con (catalog NULL = the default): the keys never become SQL text. */
int lh_query__tomb_fill(duckdb_connection con, const char *catalog, const char *schema,
                        const char *table,
                        const char *const *keys, size_t n, lh_err *err) LH_MUST_CHECK;

/* ---- render.c ---------------------------------------------------------------------------- */

/* A column type, resolved once per query from its duckdb_logical_type. */
typedef struct lh_rtype {
    duckdb_type id;
    duckdb_type internal; /* DECIMAL and ENUM storage type */
    uint8_t scale;        /* DECIMAL */
    uint8_t width;        /* DECIMAL */
    bool is_json;         /* VARCHAR with alias JSON: embedded raw */
    char **enum_dict;
    uint32_t enum_n;
    idx_t array_size;
    size_t nchildren;    /* LIST/ARRAY: 1; MAP: 2 (key, value); STRUCT/UNION: members */
    struct lh_rtype *children;
    char **child_names;
} lh_rtype;

/* Resolves t (borrowed) into out. */
void lh_query__rtype_init(lh_rtype *out, duckdb_logical_type t);
void lh_query__rtype_release(lh_rtype *t);
/* DuckDB-style type text ("DECIMAL(18,2)", "INTEGER[]", "STRUCT(a INTEGER)"). */
void lh_query__rtype_name(lh_buf *b, const lh_rtype *t);

/* Appends the value at row of vector v as JSON (null for NULL at any depth). */
void lh_query__render_json(lh_buf *b, const lh_rtype *t, duckdb_vector v, idx_t row);
/* Appends the value as one CSV field: NULL empty, scalars as text, nested as JSON text. */
void lh_query__render_csv(lh_buf *b, const lh_rtype *t, duckdb_vector v, idx_t row,
                          lh_buf *scratch);

/* ---- render_scalar.c ----------------------------------------------------------------------- */

/* Appends the text of a scalar value (numbers, temporal, UUID, BLOB as base64, BIT, BIGNUM;
 * non-finite floats as NaN/Infinity). False when t is not such a type. */
bool lh_query__scalar_text(lh_buf *b, const lh_rtype *t, const void *data, idx_t row);
void lh_query__put_double(lh_buf *b, double d);
void lh_query__put_nonfinite(lh_buf *b, double d);
void lh_query__put_base64(lh_buf *b, const unsigned char *p, size_t n);

/* The bytes of the duckdb_string_t at row of a VARCHAR/BLOB vector's data. */
static inline const char *lh_query__string_at(const void *data, idx_t row, size_t *len) {
    const duckdb_string_t *s = &((const duckdb_string_t *)data)[row];
    *len = s->value.inlined.length;
    return *len <= 12 ? s->value.inlined.inlined : s->value.pointer.ptr;
}

/* ---- stream.c / stream_parquet.c --------------------------------------------------------- */

enum lh_stream_state { LH_ST_HEADER = 0, LH_ST_ROWS, LH_ST_FOOTER, LH_ST_DONE };

struct lh_query_stream {
    lh_engine *e;
    int slot; /* pooled connection held for the life of the stream */
    duckdb_connection con;
    duckdb_prepared_statement st;
    duckdb_result res;
    bool have_res;
    duckdb_data_chunk chunk;
    idx_t chunk_size, pos;
    bool eof; /* the result has no more chunks */
    lh_result_format fmt;
    int64_t limit, rows;
    bool truncated;
    int timeout_ms;
    double t0;
    int64_t max_bytes, bytes; /* ceiling and bytes rendered so far */
    size_t ncols;
    char **names;
    lh_rtype *types;
    duckdb_vector *vecs;
    lh_buf out; /* rendered, not yet read */
    size_t out_pos;
    lh_buf scratch;
    enum lh_stream_state state;
    char *parquet_path; /* scratch file of the Parquet format, removed at close */
    int fd;
};

/* Parquet format: runs the COPY behind q (prepared user statement in q->st, already bound)
 * and opens the written file for reading. */
int lh_query__parquet_run(lh_query_stream *q, const char *sql, const json_t *params,
                          lh_err *err) LH_MUST_CHECK;
/* Maps a failed DuckDB result on the stream's connection to our codes. Returns -1. */
int lh_query__stream_error(lh_query_stream *q, duckdb_result *res, lh_err *err);

/* ---- views.c ----------------------------------------------------------------------------- */

/* Brings the dataset views up to the catalog's current generation (no-op when current). */
void lh_query__views_sync(lh_engine *e);
/* The same, for a caller that already holds views_mu. */
void lh_query__views_sync_locked(lh_engine *e);
/* The SELECT a dataset's view runs over its files, tombstones applied (a table without files
 * gets its columns and no rows, so queries against it bind). Owned. */
char *lh_query__view_body_sql(const lh_dataset *d, const lh_tombstones *t);
/* Recreates the view of one dataset from the current snapshot (caller holds views_mu). */
void lh_query__view_refresh(lh_engine *e, const char *name);
void lh_query__views_release(lh_engine *e);

/* "read_parquet([<absolute paths of d's files>], union_by_name=true)": the table a dataset's
 * view reads and compaction rewrites (views.c). Paths are quoted literals; owned. */
char *lh_query__dataset_source_sql(const lh_dataset *d);

/* ---- cache.c ----------------------------------------------------------------------------- */

/* For the view sync (views_mu held): when d is pinned, makes sure its cache table holds d's
 * current rows (loading it from `body` when the stamp moved) and returns the SELECT the
 * view should run over it, owned; NULL when d is not pinned or the load failed (the entry
 * is then dropped and the view reads the files). */
char *lh_query__cache_source(lh_engine *e, const lh_dataset *d, const lh_tombstones *t,
                             const char *body);
/* After a sync: drops entries of datasets that are gone, unloads LRU entries over the cap. */
void lh_query__cache_after_sync(lh_engine *e, const lh_catalog_snap *s);
/* Counts a user query's hits (a table it names is a loaded pin) and misses (a dataset it
 * names is not in memory), and marks the hit entries used. */
void lh_query__cache_account(lh_engine *e, const char *sql);
/* Reads the saved pins at open; they load at the first sync. */
void lh_query__cache_load_pins(lh_engine *e);
void lh_query__cache_release(lh_engine *e);

#endif
