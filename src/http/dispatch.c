/* The MHD access handler: the path every request takes through the server.
 * MHD calls it once when the headers are in (route, limits, body setup), once per body
 * chunk (bounded, streamed or accumulated), and once at the end (parse the JSON body, run
 * the handler). An error found before the body is complete is answered after the body is
 * drained when that is cheap, so simple clients that send the whole body before reading
 * still see the JSON error (MHD 0.9.75 cannot queue a reply while a body is arriving);
 * otherwise it is answered at once and MHD closes the connection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"

static int64_t route_limit(const lh_http_req *req)
{
    const lh_config *c = req->server->config;
    int64_t m = req->match.route->max_body;
    if (m == LH_HTTP_LIMIT_BODY)
        return c->max_body_bytes;
    if (m == LH_HTTP_LIMIT_UPLOAD)
        return c->max_upload_bytes;
    return m;
}

/* The declared Content-Length, or -1 when absent or unreadable (MHD has already refused a
 * malformed one). */
static int64_t content_length(const lh_http_req *req)
{
    const char *v = lh_http__header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v || !*v)
        return -1;
    errno = 0;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < 0)
        return -1;
    return n;
}

static bool has_body(const lh_http_req *req)
{
    return content_length(req) > 0 ||
           lh_http__header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static enum MHD_Result reply_now(lh_http_req *req, const lh_err *e)
{
    req->phase = LH_PHASE_DONE;
    (void)lh_http_reply_error(req->conn, req, e); /* a queue failure is in req->queue_failed */
    return req->queue_failed ? MHD_NO : MHD_YES;
}

/* Remembers e as the answer and releases any stream state at once (an aborted put or a
 * half-written scratch file should not wait for the body to end). */
static void set_failed(lh_http_req *req, const lh_err *e)
{
    req->failed = true;
    req->err = *e;
    if (req->ops && req->ops->abort)
        req->ops->abort(req);
}

/* An error found with the headers. It is answered at once when the client waits for
 * "100 Continue" before sending its body, or when the body is too big to drain; MHD then
 * closes the connection after the reply. Otherwise the answer waits for the end of the
 * (drained) body, which comes at once when there is none, and the connection stays
 * usable. */
static enum MHD_Result fail_early(lh_http_req *req, const lh_err *e)
{
    set_failed(req, e);
    if (!has_body(req))
        return MHD_YES;
    const char *expect = lh_http__header(req, MHD_HTTP_HEADER_EXPECT);
    if ((expect && strcasecmp(expect, "100-continue") == 0) ||
        content_length(req) > (int64_t)LH_HTTP_DRAIN_MAX)
        return reply_now(req, e);
    return MHD_YES;
}

static enum MHD_Result begin_request(lh_http_req *req, struct MHD_Connection *conn,
                                     const char *url, const char *method)
{
    lh_err e = LH_ERR_INIT;
    req->conn = conn;
    req->method = lh_arena_strdup(req->arena, method);
    req->path = lh_arena_strdup(req->arena, url);
    req->phase = LH_PHASE_BODY;
    if (req->bad_url) {
        lh_err_set(&e, LH_INVALID_ARGUMENT, "request url contains an encoded NUL byte (%%00)");
        return fail_early(req, &e);
    }
    lh_code c = lh_http__route_match(lh_http__routes, lh_http__nroutes, req->method,
                                     req->path, &req->match);
    if (c == LH_NOT_FOUND) {
        lh_err_set(&e, LH_NOT_FOUND, "no endpoint at '%s'", req->path);
        return fail_early(req, &e);
    }
    if (c == LH_METHOD_NOT_ALLOWED) {
        lh_err_set(&e, LH_METHOD_NOT_ALLOWED, "method %s not allowed on '%s' (allowed: %s)",
                   req->method, req->path, req->match.allow);
        return fail_early(req, &e);
    }
    req->limit = route_limit(req);
    int64_t cl = content_length(req);
    if (cl > req->limit) {
        lh_err_set(&e, LH_TOO_LARGE, "request body of %lld bytes exceeds the limit of %lld bytes",
                   (long long)cl, (long long)req->limit);
        return fail_early(req, &e);
    }
    switch (req->match.route->body) {
    case LH_BODY_OBJECT:
        req->ops = &lh_http__object_ops;
        break;
    case LH_BODY_UPLOAD:
        req->ops = &lh_http__upload_ops;
        break;
    case LH_BODY_NONE:
    case LH_BODY_JSON:
        break;
    }
    if (req->ops && req->ops->begin(req, &e) != 0)
        return fail_early(req, &e);
    return MHD_YES;
}

static enum MHD_Result on_body(lh_http_req *req, const char *data, size_t n)
{
    if (req->phase == LH_PHASE_DONE)
        return MHD_YES; /* answered early; MHD discards the rest itself */
    if (req->failed) {
        req->drained += n;
        if (req->drained > LH_HTTP_DRAIN_MAX) {
            LH_LOG_WARN("http", "closing connection: body still arriving after an error req=%s",
                        req->id);
            return MHD_NO;
        }
        return MHD_YES;
    }
    lh_err e = LH_ERR_INIT;
    req->body_bytes += n;
    if (req->body_bytes > (uint64_t)req->limit) {
        lh_err_set(&e, LH_TOO_LARGE, "request body exceeds the limit of %lld bytes",
                   (long long)req->limit);
        set_failed(req, &e);
        return MHD_YES;
    }
    switch (req->match.route->body) {
    case LH_BODY_NONE:
        break; /* counted against the limit, otherwise ignored */
    case LH_BODY_JSON:
        /* Bounded by req->limit (max_body_bytes), checked above. */
        lh_buf_append(&req->body, data, n);
        break;
    case LH_BODY_OBJECT:
    case LH_BODY_UPLOAD:
        if (req->ops->write(req, data, n, &e) != 0)
            set_failed(req, &e);
        break;
    }
    return MHD_YES;
}

static int parse_json_body(lh_http_req *req, lh_err *err)
{
    if (req->body.len == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "request body is empty: expected a JSON object");
    req->json = lh_json_parse(req->body.data, req->body.len, err);
    if (!req->json)
        return lh_err_prefix(err, "request body: ");
    if (!json_is_object(req->json))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "request body must be a JSON object");
    return 0;
}

static enum MHD_Result end_request(lh_http_req *req)
{
    if (req->phase == LH_PHASE_DONE)
        return req->queue_failed ? MHD_NO : MHD_YES;
    req->phase = LH_PHASE_DONE;
    if (req->failed)
        return reply_now(req, &req->err);
    lh_err e = LH_ERR_INIT;
    const lh_http_route *r = req->match.route;
    if (r->body == LH_BODY_JSON && parse_json_body(req, &e) != 0)
        return reply_now(req, &e);
    if (req->ops && req->ops->finish && req->ops->finish(req, &e) != 0)
        return reply_now(req, &e);
    if (r->handler(req, &e) != 0)
        return reply_now(req, &e);
    if (req->status == 0 && !req->queue_failed) {
        /* Every handler answers on success; this is a bug, and the client deserves JSON. */
        lh_err_set(&e, LH_INTERNAL, "handler for %s %s queued no response", r->method,
                   r->pattern);
        return reply_now(req, &e);
    }
    return req->queue_failed ? MHD_NO : MHD_YES;
}

enum MHD_Result lh_http__dispatch(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    lh_http_req *req = *con_cls;
    if (!req) {
        /* The URI callback creates the context; this covers an MHD that skipped it. */
        req = lh_http__req_new(cls, url);
        *con_cls = req;
    }
    if (req->phase == LH_PHASE_NEW)
        return begin_request(req, conn, url, method);
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0; /* always consumed: copied, streamed or dropped */
        return on_body(req, upload_data, n);
    }
    return end_request(req);
}
