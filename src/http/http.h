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

typedef struct lh_server lh_server;

/* Binds config->listen_host:listen_port (port 0 picks a free one). io_error when the
 * address is taken. The lake is borrowed and must outlive the server. */
lh_server *lh_server_start(lh_lake *lake, const lh_config *config, lh_err *err);
/* The port actually bound. */
int lh_server_port(const lh_server *s);
/* Blocks until SIGINT or SIGTERM (or lh_server_request_stop), then stops accepting, lets
 * in-flight requests finish (bounded by a grace period) and returns 0. */
int lh_server_wait(lh_server *s, lh_err *err) LH_MUST_CHECK;
/* Async-signal-safe: asks lh_server_wait to return. */
void lh_server_request_stop(lh_server *s);
void lh_server_free(lh_server *s);

#endif
