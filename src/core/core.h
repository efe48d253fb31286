/* core: the layer every module stands on — errors, logging, allocation, buffers, arenas,
 * JSON helpers, hashing, ids, clocks, configuration and fault injection.
 * Depends on nothing of ours. Everything here is thread-safe unless a comment says otherwise. */
#ifndef LH_CORE_H
#define LH_CORE_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/banned.h"

#define LH_MUST_CHECK __attribute__((warn_unused_result))
#define LH_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define LH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors ------------------------------------------------------------------------------ */

/* The one table of error codes: enum name, wire name, HTTP status, default message.
 * Append only: a code is never renumbered or reused. docs/API.md lists the same table. */
#define LH_CODES(X)                                                                         \
    X(OK, "ok", 200, "ok")                                                                  \
    X(INVALID_ARGUMENT, "invalid_argument", 400, "invalid argument")                        \
    X(UNAUTHORIZED, "unauthorized", 401, "authentication required")                         \
    X(FORBIDDEN, "forbidden", 403, "forbidden")                                             \
    X(NOT_FOUND, "not_found", 404, "not found")                                             \
    X(CONFLICT, "conflict", 409, "conflict")                                                \
    X(TOO_LARGE, "too_large", 413, "too large")                                             \
    X(UNSUPPORTED_MEDIA, "unsupported_media", 415, "unsupported media type")                \
    X(SQL_ERROR, "sql_error", 400, "sql error")                                             \
    X(TIMEOUT, "timeout", 503, "timed out")                                                 \
    X(BUSY, "busy", 503, "server busy")                                                     \
    X(IO_ERROR, "io_error", 500, "i/o error")                                               \
    X(INTERNAL, "internal", 500, "internal error")                                          \
    X(METHOD_NOT_ALLOWED, "method_not_allowed", 405, "method not allowed")                  \
    X(NOT_ACCEPTABLE, "not_acceptable", 406, "not acceptable")                              \
    X(UPSTREAM, "upstream_error", 502, "model server error")                                \
    X(UNAVAILABLE, "unavailable", 503, "unavailable")                                       \
    X(CORRUPT, "corrupt", 500, "stored data is corrupt")

typedef enum lh_code {
#define LH_X_ENUM(e, name, status, msg) LH_##e,
    LH_CODES(LH_X_ENUM)
#undef LH_X_ENUM
        LH_CODE_COUNT
} lh_code;

/* An error: a stable code, a one-line lowercase message naming what failed first, and an
 * optional detail (errno text, DuckDB's text, line/column). Lives on the caller's stack. */
typedef struct lh_err {
    lh_code code;
    char message[512];
    char detail[512];
} lh_err;

#define LH_ERR_INIT {LH_OK, {0}, {0}}

/* Fills err (which may be NULL) and returns -1, so a failure branch is one
 * `return lh_err_set(...)`. */
int lh_err_set(lh_err *err, lh_code code, const char *fmt, ...) LH_PRINTF(3, 4);
/* Like lh_err_set, with errno's strerror text in detail; code is LH_IO_ERROR. */
int lh_err_errno(lh_err *err, int errnum, const char *fmt, ...) LH_PRINTF(3, 4);
/* Prepends context to the message and keeps the code. Returns -1. The prefix is used as
 * given, so it carries its own separator: lh_err_prefix(err, "ingest '%s': ", name). */
int lh_err_prefix(lh_err *err, const char *fmt, ...) LH_PRINTF(2, 3);
/* Sets detail, keeping code and message. */
void lh_err_detail(lh_err *err, const char *fmt, ...) LH_PRINTF(2, 3);
void lh_err_clear(lh_err *err);
const char *lh_code_name(lh_code code);
int lh_code_http_status(lh_code code);
const char *lh_code_default_message(lh_code code);
/* {"error":{"code","message"[,"detail"]}}, a new reference. */
json_t *lh_err_to_json(const lh_err *err, bool with_detail);

/* Invariant checks stay on in release builds. Never assert on user input. */
#define LH_ASSERT(cond)                                                                     \
    do {                                                                                    \
        if (!(cond))                                                                        \
            lh_panic(__FILE__, __LINE__, "assertion failed: %s", #cond);                    \
    } while (0)
_Noreturn void lh_panic(const char *file, int line, const char *fmt, ...) LH_PRINTF(3, 4);

/* ---- logging ----------------------------------------------------------------------------- */

enum lh_log_level { LH_LOG_LEVEL_ERROR = 0, LH_LOG_LEVEL_WARN, LH_LOG_LEVEL_INFO, LH_LOG_LEVEL_DEBUG };

void lh_log_set_level(int level);
/* "error", "warn", "info", "debug" -> level; -1 when unknown. */
int lh_log_parse_level(const char *name);
bool lh_log_enabled(int level);
/* One line to stderr: time, level, module, message (fields as key=value inside fmt). */
void lh_log_write(int level, const char *module, const char *fmt, ...) LH_PRINTF(3, 4);

#define LH_LOG_AT(lvl, mod, ...)                                                            \
    do {                                                                                    \
        if (lh_log_enabled(lvl))                                                            \
            lh_log_write(lvl, mod, __VA_ARGS__);                                            \
    } while (0)
#define LH_LOG_ERROR(mod, ...) LH_LOG_AT(LH_LOG_LEVEL_ERROR, mod, __VA_ARGS__)
#define LH_LOG_WARN(mod, ...) LH_LOG_AT(LH_LOG_LEVEL_WARN, mod, __VA_ARGS__)
#define LH_LOG_INFO(mod, ...) LH_LOG_AT(LH_LOG_LEVEL_INFO, mod, __VA_ARGS__)
#define LH_LOG_DEBUG(mod, ...) LH_LOG_AT(LH_LOG_LEVEL_DEBUG, mod, __VA_ARGS__)

/* ---- memory ------------------------------------------------------------------------------ */

/* Small fixed-size allocations: log and abort on OOM, never return NULL. */
void *lh_xmalloc(size_t n);
void *lh_xcalloc(size_t count, size_t n);
void *lh_xrealloc(void *p, size_t n);
char *lh_xstrdup(const char *s);
char *lh_xstrndup(const char *s, size_t n);
char *lh_xasprintf(const char *fmt, ...) LH_PRINTF(1, 2);
/* User-sized allocations: NULL on failure (or when LH_FAULT=alloc:N fires); the caller
 * answers too_large. */
void *lh_try_alloc(size_t n);

/* Growable byte buffer, always NUL-terminated after data[len]. Appends abort on OOM, so a
 * caller that appends user-sized data checks its own ceiling first. */
typedef struct lh_buf {
    char *data;
    size_t len;
    size_t cap;
} lh_buf;

void lh_buf_init(lh_buf *b);
void lh_buf_release(lh_buf *b);
void lh_buf_reset(lh_buf *b); /* len = 0, keeps capacity */
/* Grows b so that `extra` more bytes (and the NUL) fit. */
void lh_buf_grow(lh_buf *b, size_t extra);
/* Inline: result rendering appends millions of small pieces, and a call per byte showed. */
static inline void lh_buf_reserve(lh_buf *b, size_t extra)
{
    if (b->cap - b->len <= extra)
        lh_buf_grow(b, extra);
}
void lh_buf_append(lh_buf *b, const void *p, size_t n);
void lh_buf_puts(lh_buf *b, const char *s);
static inline void lh_buf_putc(lh_buf *b, char c)
{
    lh_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}
void lh_buf_printf(lh_buf *b, const char *fmt, ...) LH_PRINTF(2, 3);
/* Appends s[0..n) as a quoted JSON string (escapes ", \, control characters; invalid UTF-8
 * bytes become U+FFFD). */
void lh_buf_json_string(lh_buf *b, const char *s, size_t n);
/* Appends s[0..n) as one RFC 4180 CSV field (quoted when it holds , " CR or LF). */
void lh_buf_csv_field(lh_buf *b, const char *s, size_t n);
/* Hands data to the caller (free()), leaves b empty. */
char *lh_buf_detach(lh_buf *b, size_t *len);

/* Arena: many small allocations freed in one go (one per request or job). Not thread-safe. */
typedef struct lh_arena lh_arena;
lh_arena *lh_arena_new(size_t block_size);
void lh_arena_free(lh_arena *a);
void *lh_arena_alloc(lh_arena *a, size_t n);
char *lh_arena_strdup(lh_arena *a, const char *s);
char *lh_arena_strndup(lh_arena *a, const char *s, size_t n);

/* ---- strings and names ------------------------------------------------------------------- */

bool lh_str_has_prefix(const char *s, const char *prefix);
bool lh_str_has_suffix(const char *s, const char *suffix);
/* A dataset/view name: [a-z_][a-z0-9_]{0,62}. */
#define LH_NAME_MAX 63
bool lh_name_valid(const char *name);
/* Makes a safe name from a file name: drops directories and the extension, lowercases,
 * maps other characters to '_', prefixes '_' when it starts with a digit, truncates to
 * LH_NAME_MAX. Returns -1 (invalid_argument) when nothing usable remains. */
int lh_name_from_filename(const char *filename, char out[LH_NAME_MAX + 1], lh_err *err);
/* Escapes a string for use inside a single-quoted SQL literal ('' for '). Internal SQL
 * only: user values are always bound as parameters. Result is owned (free()). */
char *lh_sql_quote_literal(const char *s);
/* Quotes an identifier as "..." with "" for ". Owned result. */
char *lh_sql_quote_ident(const char *s);

/* ---- JSON -------------------------------------------------------------------------------- */

/* Parses a JSON document of at most max_len bytes; a parse error becomes invalid_argument
 * with line and column. New reference. */
json_t *lh_json_parse(const char *s, size_t len, lh_err *err);
/* Dumps compactly into an owned string. */
char *lh_json_dump(const json_t *j);
/* Field accessors that fill err (invalid_argument naming the field) on a wrong type; a
 * missing optional field returns def. */
const char *lh_json_str(const json_t *obj, const char *key, bool required, lh_err *err);
int lh_json_int(const json_t *obj, const char *key, bool required, int64_t def, int64_t *out,
                lh_err *err) LH_MUST_CHECK;

/* ---- hashing, ids, clocks ---------------------------------------------------------------- */

void lh_sha256_hex(const void *p, size_t n, char out[65]);
typedef struct lh_sha256 lh_sha256;
lh_sha256 *lh_sha256_new(void);
void lh_sha256_update(lh_sha256 *h, const void *p, size_t n);
void lh_sha256_final_hex(lh_sha256 *h, char out[65]); /* also frees h */
void lh_sha256_free(lh_sha256 *h);
/* Random (v4) UUID, lowercase with dashes. */
void lh_uuid4(char out[37]);
/* Wall clock in Unix milliseconds. */
int64_t lh_now_ms(void);
/* Monotonic milliseconds (fractional), for elapsed times. */
double lh_mono_ms(void);
/* "2026-11-24T21:05:03.123Z" */
void lh_time_iso8601(int64_t unix_ms, char out[32]);

/* ---- files (for non-lake files: config, scratch; lake files go through storage) --------- */

/* Reads a whole file of at most max bytes into an owned NUL-terminated buffer. */
char *lh_file_read_all(const char *path, size_t max, size_t *len, lh_err *err);
/* mkdir -p with mode 0755. */
int lh_mkdirs(const char *path, lh_err *err) LH_MUST_CHECK;
/* rm -rf; missing is fine. */
int lh_remove_tree(const char *path, lh_err *err) LH_MUST_CHECK;
/* write(2) until done, retrying EINTR; counts as a "write" for fault injection. */
int lh_write_full(int fd, const void *p, size_t n, lh_err *err) LH_MUST_CHECK;
/* fsync the directory holding path (after a rename into it). */
int lh_fsync_dir_of(const char *path, lh_err *err) LH_MUST_CHECK;

/* ---- fault injection --------------------------------------------------------------------- */

/* LH_FAULT (read once, at first use) lists comma-separated faults:
 *   alloc:N   the Nth lh_try_alloc fails
 *   write:N   the Nth lh_write_full fails with EIO
 *   commit:N  the Nth catalog commit fails before its log file is written
 *   crash:P   the process _exit(99)s at the named point P (see lh_fault_point callers)
 * Used by tests to prove that a failure at any step leaves no partial state. */
bool lh_fault_hit(const char *kind);
void lh_fault_point(const char *point);
/* Forget counters and re-read LH_FAULT (tests only). */
void lh_fault_reset(void);

/* ---- configuration ----------------------------------------------------------------------- */

/* One bucket of the configuration: `[buckets.<name>] root = "/path"` or an entry of
 * LAKEHOUSE_BUCKETS="name=/path,...". root is as written: absolute, or relative to the data
 * dir (storage resolves it at open). */
typedef struct lh_bucket_spec {
    char *name; /* lh_name_valid */
    char *root; /* non-empty */
    char *role; /* `role = "data" | "rescue"`; NULL is "data". At most one rescue, never
                   primary (checked by config and again by storage at open). */
} lh_bucket_spec;

#define LH_BUCKET_ROLE_DATA "data"
#define LH_BUCKET_ROLE_RESCUE "rescue"

/* Ceiling on configured buckets (storage registers at most this many in all). */
#define LH_CONFIG_MAX_BUCKETS 64
/* The default root of a bucket that names none: relative to the data dir. */
#define LH_CONFIG_BUCKET_DIR "buckets"

/* The program's settings. Precedence: defaults < lakehouse.toml (or --config) < LAKEHOUSE_*
 * environment variables < command-line flags. */
typedef struct lh_config {
    char *config_path;       /* file loaded, or NULL */
    char *data_dir;          /* server.data_dir      LAKEHOUSE_DATA          ./lakehouse-data */
    char *listen_host;       /* server.listen        LAKEHOUSE_LISTEN        127.0.0.1:3100 */
    int listen_port;
    int http_max_connections;/* server.max_connections                      256 */
    int64_t max_body_bytes;  /* server.max_body_bytes (JSON bodies)         1 MiB */
    int64_t max_upload_bytes;/* server.max_upload_bytes (uploads, objects)  16 GiB */
    char *log_level;         /* server.log_level     LAKEHOUSE_LOG_LEVEL    info */
    char *secrets_file;      /* server.secrets_file (bucket credentials)    "" */
                             /* "" = <data>/secrets.toml; relative = to the data dir */
    int query_timeout_ms;    /* query.timeout_ms                            30000 */
    int64_t query_max_rows;  /* query.max_rows (per result)                 10000000 */
    int64_t query_max_bytes; /* query.max_result_bytes                      4 GiB */
    int query_connections;   /* query.connections (pool size)               8 */
    int query_threads;       /* query.threads (DuckDB threads, 0 = all)     0 */
    char *query_memory_limit;/* query.memory_limit (DuckDB syntax, "" = default) */
    /* [embed]: the embedder an index build uses unless its request names another. */
    char *embed_provider;    /* embed.provider: lexical | ollama | openai   "lexical" */
    char *embed_model;       /* embed.model (remote providers)              "" */
    char *embed_url;         /* embed.url ("" = the provider's default)     "" */
    int embed_dims;          /* embed.dims (0 = lexical 384 / learned)      0 */
    int embed_batch;         /* embed.batch (texts per request)             64 */
    int embed_concurrency;   /* embed.concurrency (requests in flight)      4 */
    char *embed_api_key;     /* embed.api_key  LAKEHOUSE_EMBED_API_KEY      "" (secret:
                                printed as "***", never logged) */
    /* [vector] */
    int vector_workers;      /* vector.workers (index build job threads)    2 */
    int vector_hnsw_m;       /* vector.hnsw_m                               16 */
    int vector_hnsw_ef_construction; /* vector.hnsw_ef_construction         200 */
    int vector_ef_search;    /* vector.ef_search (default per search)       64 */
    int vector_exact_below;  /* vector.exact_below: fewer chunks -> exact   5000 */
    int64_t query_cache_max_bytes; /* query.cache_max_bytes (hot cache cap)    1 GiB */
    /* [generate] and [rerank]: the text model of the ai module (RAG, ask, summaries). */
    char *generate_provider; /* generate.provider: "" (none) | ollama | openai  "" */
    char *generate_model;    /* generate.model                                  "" */
    char *generate_url;      /* generate.url ("" = the provider's default)      "" */
    char *generate_api_key;  /* generate.api_key  LAKEHOUSE_GENERATE_API_KEY    "" (secret:
                                printed as "***", never logged) */
    int generate_timeout_ms; /* generate.timeout_ms (one model call)            120000 */
    double generate_temperature; /* generate.temperature (0..2)                 0 */
    char *rerank_model;      /* rerank.model ("" = embedding similarity)        "" */
    /* [buckets.<name>] root = ...   LAKEHOUSE_BUCKETS="name=/path,..."
     * buckets[0] is always "primary" (default root buckets/primary); the others follow in
     * the order they were declared. */
    lh_bucket_spec *buckets;
    size_t nbuckets;
} lh_config;

void lh_config_init(lh_config *c); /* defaults */
void lh_config_release(lh_config *c);
/* Loads a TOML file; a missing file is an error only when must_exist. */
int lh_config_load_file(lh_config *c, const char *path, bool must_exist, lh_err *err) LH_MUST_CHECK;
/* Applies LAKEHOUSE_* variables from envp (NULL = environ). */
int lh_config_apply_env(lh_config *c, char **envp, lh_err *err) LH_MUST_CHECK;
/* Sets one dotted key ("server.listen", "query.timeout_ms") from text; used by env and flags.
 * Unknown key or bad value -> invalid_argument. */
int lh_config_set(lh_config *c, const char *key, const char *value, lh_err *err) LH_MUST_CHECK;
/* Declares bucket `name` at `root` (absolute, or relative to the data dir), replacing the
 * root of a bucket already declared. invalid_argument for a bad name, an empty root or one
 * bucket too many. Also reachable as lh_config_set(c, "buckets.<name>.root", root). */
int lh_config_set_bucket(lh_config *c, const char *name, const char *root,
                         lh_err *err) LH_MUST_CHECK;
/* Sets the role of declared bucket `name`: "data" or "rescue" (`[buckets.<name>] role`).
 * invalid_argument for another value, an undeclared bucket, primary as rescue, or a second
 * rescue bucket. */
int lh_config_set_bucket_role(lh_config *c, const char *name, const char *role,
                              lh_err *err) LH_MUST_CHECK;
/* Replaces the declared buckets with a LAKEHOUSE_BUCKETS list "name=/path,name2=/path2"
 * (spaces around entries are trimmed; "" leaves primary alone at its default root).
 * All-or-nothing: on error c is unchanged. */
int lh_config_set_buckets(lh_config *c, const char *list, lh_err *err) LH_MUST_CHECK;
/* Every setting as {"server":{...},"query":{...},"buckets":{"<name>":{"root"}}}; new
 * reference. */
json_t *lh_config_to_json(const lh_config *c);
/* Loads defaults + file + env the way every subcommand does: the file is `path` if given
 * (must exist), else $LAKEHOUSE_CONFIG (must exist), else ./lakehouse.toml if present. */
int lh_config_load(lh_config *c, const char *path, lh_err *err) LH_MUST_CHECK;

/* TOML subset -> JSON object: tables, dotted keys, arrays of tables, strings (basic and
 * literal), integers, floats, booleans, arrays, comments. Errors name line and column. */
json_t *lh_toml_parse(const char *text, size_t len, lh_err *err);

#define LH_VERSION_STRING LH_VERSION

#endif
