/* http internals shared by the files of the http module: the server struct, the request
 * context that lives from the first byte of a request to its access log line, the route
 * table and router, the reply helpers and the streamed-body plumbing. Never included from
 * outside src/http/ (tests/unit/http excepted). */
#ifndef LH_HTTP_INT_H
#define LH_HTTP_INT_H

#include <microhttpd.h>
#include <stdatomic.h>

#include "http/http.h"

/* Ceilings. */
#define LH_HTTP_CONN_TIMEOUT_S 120u      /* idle connection timeout */
#define LH_HTTP_GRACE_MS 30000           /* how long lh_server_wait lets requests finish */
#define LH_HTTP_MAX_PARAMS 4             /* {param}s in one pattern */
#define LH_HTTP_DRAIN_MAX (8u << 20)     /* body bytes read and dropped after an early error */
#define LH_HTTP_PATH_LOG_MAX 256         /* path characters in an access line */
#define LH_HTTP_STREAM_BLOCK (64u << 10) /* block size of streamed responses */

struct lh_server {
    lh_lake *lake;           /* borrowed */
    lh_services services;    /* borrowed members; NULL ones answer unavailable */
    const lh_config *config; /* borrowed */
    struct MHD_Daemon *daemon;
    int listen_fd;           /* ours until MHD_quiesce_daemon hands it back */
    int port;
    char host[128];          /* for the "listening on" line */
    int stop_pipe[2];        /* self-pipe: signals and lh_server_request_stop write here */
    atomic_int inflight;     /* requests between their URI and their completion */
    atomic_uint_fast64_t next_id;
};

/* ---- routes ------------------------------------------------------------------------------ */

typedef struct lh_http_req lh_http_req;

/* A handler runs once the whole body has arrived (and been parsed, for JSON routes). It
 * either queues a reply through lh_http_reply_* and returns 0, or fills err and returns -1;
 * the dispatcher then answers with lh_http_reply_error. */
typedef int (*lh_http_handler)(lh_http_req *req, lh_err *err);

typedef enum lh_http_body {
    LH_BODY_NONE = 0,   /* a body is read and dropped (still bounded by max_body) */
    LH_BODY_JSON,       /* accumulated (bounded), parsed, must be an object: req->json */
    LH_BODY_OBJECT,     /* streamed into a storage put as it arrives (routes_storage.c) */
    LH_BODY_UPLOAD,     /* multipart or raw file upload streamed to a scratch file (upload.c) */
} lh_http_body;

/* max_body values besides a byte count. */
#define LH_HTTP_LIMIT_BODY 0    /* config->max_body_bytes */
#define LH_HTTP_LIMIT_UPLOAD -1 /* config->max_upload_bytes */

typedef struct lh_http_route {
    const char *method;
    const char *pattern; /* "/a/{p}/b" or "/a/{rest...}" (rest: one or more bytes, verbatim) */
    lh_http_handler handler;
    int64_t max_body;    /* bytes, or LH_HTTP_LIMIT_BODY / LH_HTTP_LIMIT_UPLOAD */
    lh_http_body body;
} lh_http_route;

/* The handlers, one group per routes_<area>.c file. */
int lh_http__get_health(lh_http_req *req, lh_err *err);
int lh_http__ui_index(lh_http_req *req, lh_err *err);       /* routes_ui.c */
int lh_http__ui_asset(lh_http_req *req, lh_err *err);
int lh_http__put_object(lh_http_req *req, lh_err *err);
int lh_http__get_object(lh_http_req *req, lh_err *err);
int lh_http__delete_object(lh_http_req *req, lh_err *err);
int lh_http__list_objects(lh_http_req *req, lh_err *err);
int lh_http__list_buckets(lh_http_req *req, lh_err *err);     /* routes_buckets.c */
int lh_http__create_bucket(lh_http_req *req, lh_err *err);
int lh_http__delete_bucket(lh_http_req *req, lh_err *err);
int lh_http__bucket_health(lh_http_req *req, lh_err *err);
int lh_http__bucket_errors(lh_http_req *req, lh_err *err);
int lh_http__create_dataset(lh_http_req *req, lh_err *err);
int lh_http__list_datasets(lh_http_req *req, lh_err *err);
int lh_http__get_dataset(lh_http_req *req, lh_err *err);
int lh_http__patch_metadata(lh_http_req *req, lh_err *err);
int lh_http__resync_missing(lh_http_req *req, lh_err *err);
int lh_http__migrate_buckets(lh_http_req *req, lh_err *err); /* routes_migrate.c */
int lh_http__post_sql(lh_http_req *req, lh_err *err);
int lh_http__ingest_file(lh_http_req *req, lh_err *err);
int lh_http__post_tombstone(lh_http_req *req, lh_err *err); /* routes_tombstone.c */
int lh_http__get_tombstones(lh_http_req *req, lh_err *err);
int lh_http__post_compact(lh_http_req *req, lh_err *err);   /* routes_compact.c */
int lh_http__vectors_index(lh_http_req *req, lh_err *err);  /* routes_vectors.c */
int lh_http__vectors_jobs(lh_http_req *req, lh_err *err);
int lh_http__vectors_job(lh_http_req *req, lh_err *err);
int lh_http__vectors_cancel(lh_http_req *req, lh_err *err);
int lh_http__vectors_indexes(lh_http_req *req, lh_err *err);
int lh_http__vectors_get_index(lh_http_req *req, lh_err *err);
int lh_http__vectors_drop_index(lh_http_req *req, lh_err *err);
int lh_http__vectors_search(lh_http_req *req, lh_err *err);
int lh_http__vectors_rag(lh_http_req *req, lh_err *err);    /* routes_ai.c */
int lh_http__ai_generate(lh_http_req *req, lh_err *err);
int lh_http__ai_ask(lh_http_req *req, lh_err *err);
int lh_http__ai_embed(lh_http_req *req, lh_err *err);
int lh_http__ai_rerank(lh_http_req *req, lh_err *err);
int lh_http__ai_summarize(lh_http_req *req, lh_err *err);
int lh_http__ai_preload(lh_http_req *req, lh_err *err);
int lh_http__ai_unload(lh_http_req *req, lh_err *err);
int lh_http__ai_vram(lh_http_req *req, lh_err *err);
int lh_http__cache_pin(lh_http_req *req, lh_err *err);      /* routes_cache.c */
int lh_http__cache_evict(lh_http_req *req, lh_err *err);
int lh_http__cache_stats(lh_http_req *req, lh_err *err);
int lh_http__create_view(lh_http_req *req, lh_err *err);    /* routes_views.c */
int lh_http__list_views(lh_http_req *req, lh_err *err);
int lh_http__get_view(lh_http_req *req, lh_err *err);
int lh_http__delete_view(lh_http_req *req, lh_err *err);

/* The table (routes.c). */
extern const lh_http_route lh_http__routes[];
extern const size_t lh_http__nroutes;

typedef struct lh_http_param {
    const char *name; /* points into the pattern, name_len bytes */
    size_t name_len;
    const char *value; /* points into the matched path, value_len bytes */
    size_t value_len;
} lh_http_param;

typedef struct lh_http_match {
    const lh_http_route *route;
    lh_http_param params[LH_HTTP_MAX_PARAMS];
    size_t nparams;
    char allow[64]; /* on LH_METHOD_NOT_ALLOWED: "GET, PUT" */
} lh_http_match;

/* Finds the route for method + path in table[0..n). Returns LH_OK (m->route set, params
 * pointing into path and the pattern), LH_NOT_FOUND when no pattern matches the path, or
 * LH_METHOD_NOT_ALLOWED when some do but not for this method (m->allow lists the methods
 * that would). HEAD is served by GET routes. A trailing '/' is ignored unless the pattern
 * ends in a {rest...} segment, which takes the remainder verbatim. No allocation. */
lh_code lh_http__route_match(const lh_http_route *table, size_t n, const char *method,
                             const char *path, lh_http_match *m);

/* ---- the request context ----------------------------------------------------------------- */

/* Streamed body kinds (LH_BODY_OBJECT, LH_BODY_UPLOAD) plug in here. begin runs before the
 * first body byte (it may reject the request), write for every chunk in order, finish after
 * the last one; abort runs when the request ends for any reason and releases whatever the
 * handler did not take (it must be a no-op when req->stream is NULL). */
typedef struct lh_http_stream_ops {
    int (*begin)(lh_http_req *req, lh_err *err);
    int (*write)(lh_http_req *req, const char *p, size_t n, lh_err *err);
    int (*finish)(lh_http_req *req, lh_err *err);
    void (*abort)(lh_http_req *req);
} lh_http_stream_ops;

extern const lh_http_stream_ops lh_http__object_ops; /* routes_storage.c */
extern const lh_http_stream_ops lh_http__upload_ops; /* upload.c */

enum lh_http_phase { LH_PHASE_NEW = 0, LH_PHASE_BODY, LH_PHASE_DONE };

struct lh_http_req {
    lh_server *server;
    struct MHD_Connection *conn;
    lh_arena *arena;    /* everything below that is a string lives here */
    char id[24];        /* "r-1a" */
    double start_ms;    /* lh_mono_ms at the request line */
    const char *method;
    const char *path;     /* decoded by MHD */
    const char *raw_path; /* as sent, without the query: for the log */
    bool bad_url;         /* the raw URL held %00, which decoding would silently cut */
    enum lh_http_phase phase;

    lh_http_match match;
    int64_t limit;        /* body ceiling of this route */
    uint64_t body_bytes;  /* received so far */
    lh_buf body;          /* LH_BODY_JSON only */
    json_t *json;         /* parsed JSON body (owned) */
    const lh_http_stream_ops *ops;
    void *stream;         /* state of ops */

    bool failed;          /* an error is waiting for the body to end (drain mode) */
    uint64_t drained;
    lh_err err;

    int status;           /* queued status, 0 = none yet */
    uint64_t bytes_out;   /* body bytes handed to MHD (streams count as they go) */
    bool queue_failed;
};

/* The request context of a new request (created at the request line); counts it in
 * s->inflight until lh_http__req_free. */
lh_http_req *lh_http__req_new(lh_server *s, const char *raw_uri);
/* Aborts any stream state, frees everything, writes no log. */
void lh_http__req_free(lh_http_req *req);
/* The one access line: "GET /health 200 123B 0.4ms req=r-1a". */
void lh_http__access_log(const lh_http_req *req, bool completed);

/* The MHD access handler (dispatch.c). */
enum MHD_Result lh_http__dispatch(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls);

/* ---- replies: every response leaves through one of these --------------------------------- */

/* Answers err as {"error":{"code","message"[,"detail"],"request_id"}} with the code's
 * status. On a 5xx the message is the code's default, and the real message and detail go to
 * the log. Adds an Allow header to 405s (from req->match.allow). Returns 0; a failure to
 * queue is remembered in req->queue_failed. */
int lh_http_reply_error(struct MHD_Connection *conn, lh_http_req *req, const lh_err *err);
/* lh_http_reply_error with extra members in the error object (takes the reference; NULL for
 * none; dropped on a 5xx, whose cause stays in the log). */
int lh_http_reply_error_with(struct MHD_Connection *conn, lh_http_req *req, const lh_err *err,
                             json_t *extra);
/* Answers a JSON document (takes the reference) as application/json; charset=utf-8. */
int lh_http_reply_json(lh_http_req *req, unsigned status, json_t *doc);
/* Queues a prepared response with the common headers (X-Request-Id), then destroys it.
 * body_len is what the access line reports. */
int lh_http__queue(lh_http_req *req, unsigned status, struct MHD_Response *resp,
                   uint64_t body_len);

/* ---- request helpers --------------------------------------------------------------------- */

/* The value of {name} in the matched pattern, NUL-terminated in the arena; NULL if absent. */
const char *lh_http__param(lh_http_req *req, const char *name);
/* A query-string argument (decoded), or NULL. */
const char *lh_http__query_arg(const lh_http_req *req, const char *name);
/* A request header, or NULL. */
const char *lh_http__header(const lh_http_req *req, const char *name);
lh_lake *lh_http__lake(const lh_http_req *req);

/* Set to "true" on an object read answered from the rescue bucket's copy. */
#define LH_HTTP_HEADER_RESCUE_USED "X-Lakehouse-Rescue-Used"
/* The header that picks the bucket of an ingest or an object request. */
#define LH_HTTP_HEADER_BUCKET "X-Lakehouse-Bucket"
/* The bucket the request's X-Lakehouse-Bucket header names (primary without one); an
 * unknown one is invalid_argument "unknown bucket 'x': known buckets are primary, ..."
 * (routes_storage.c). */
lh_bucket *lh_http__bucket(lh_http_req *req, lh_err *err);
/* A query-string integer in [min, max]; def when absent. invalid_argument naming the
 * argument otherwise. */
int lh_http__query_int(const lh_http_req *req, const char *name, int64_t def, int64_t min,
                       int64_t max, int64_t *out, lh_err *err) LH_MUST_CHECK;

/* ---- uploads (upload.c) ------------------------------------------------------------------ */

#define LH_HTTP_FIELD_MAX 256 /* small multipart fields ("name", "format") */

/* An upload being streamed to a scratch file: the body of POST /ingest/file, either
 * multipart/form-data (part "file", plus optional "name" and "format" parts) or raw. */
typedef struct lh_http_upload {
    char *path;   /* scratch file (owned); NULL once ingest has taken it */
    int fd;       /* open while the body arrives */
    bool raw;
    struct MHD_PostProcessor *pp;
    bool have_file;
    uint64_t file_bytes;
    char filename[LH_HTTP_FIELD_MAX]; /* the "file" part's filename */
    char name[LH_HTTP_FIELD_MAX];     /* the "name" part */
    char format[LH_HTTP_FIELD_MAX];   /* the "format" part, or the raw Content-Type's */
    lh_err err;                       /* raised inside the multipart callback */
    bool failed;
} lh_http_upload;

#endif
