/* http: the HTTP API. The only module that includes microhttpd.h. One table of routes
 * (routes.c) maps method + path to handlers; every error leaves through one function that
 * writes {"error":{"code","message"}} with the code's status; every request gets one access
 * log line. Sits above every feature module.
 *
 * Threads: lh_server_run blocks the calling thread; MHD serves each connection on its own
 * thread, so a slow query never blocks another request. */
#ifndef LH_HTTP_H
#define LH_HTTP_H

#include "core/core.h"
#include "query/query.h"
#include "vindex/vindex.h"
#include "ai/ai.h"

typedef struct lh_server lh_server;

/* Binds config->listen_host:listen_port (port 0 picks a free one). io_error when the
 * address is taken. The lake is borrowed and must outlive the server. */
lh_server *lh_server_start(lh_lake *lake, const lh_config *config, lh_err *err);
/* The feature services the server routes to, beside the lake. All borrowed and optional:
 * a NULL member answers its routes with unavailable. */
typedef struct lh_services {
    lh_jobs *jobs;     /* background jobs (GET /vectors/jobs...) */
    lh_vindex *vindex; /* vector indexes and search (/vectors/...) */
    lh_ai *ai;         /* the AI layer (/ai/..., POST /vectors/rag) */
} lh_services;

/* lh_server_start with the feature services (svc may be NULL: none). svc is copied; what it
 * points to must outlive the server. */
lh_server *lh_server_start_with(lh_lake *lake, const lh_config *config, const lh_services *svc,
                                lh_err *err);
/* The port actually bound. */
int lh_server_port(const lh_server *s);
/* Blocks until SIGINT or SIGTERM (or lh_server_request_stop), then stops accepting, lets
 * in-flight requests finish (bounded by a grace period) and returns 0. */
int lh_server_wait(lh_server *s, lh_err *err) LH_MUST_CHECK;
/* Async-signal-safe: asks lh_server_wait to return. */
void lh_server_request_stop(lh_server *s);
void lh_server_free(lh_server *s);

#endif
