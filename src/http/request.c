/* The request context and the reply helpers. A context is created at the request line,
 * owns an arena for the request's strings, and is freed by the completion callback after
 * the access line is written. Every response, success or error, is queued here, so the
 * JSON error shape, the X-Request-Id header and the byte counts live in one place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

#define RAW_URI_MAX 8192 /* MHD's header buffer is smaller; this only bounds our copy */

lh_http_req *lh_http__req_new(lh_server *s, const char *raw_uri)
{
    lh_http_req *req = lh_xcalloc(1, sizeof *req);
    req->server = s;
    atomic_fetch_add(&s->inflight, 1);
    req->arena = lh_arena_new(4096);
    uint64_t n = atomic_fetch_add(&s->next_id, 1) + 1;
    snprintf(req->id, sizeof req->id, "r-%llx", (unsigned long long)n);
    req->start_ms = lh_mono_ms();
    if (!raw_uri)
        raw_uri = "";
    size_t len = strcspn(raw_uri, "?");
    if (len > RAW_URI_MAX)
        len = RAW_URI_MAX;
    req->raw_path = lh_arena_strndup(req->arena, raw_uri, len);
    /* MHD decodes %XX into a C string, so %00 would silently cut the path or an argument
     * short; such a request is refused instead. */
    req->bad_url = strstr(raw_uri, "%00") != NULL;
    req->method = "-";
    req->path = req->raw_path;
    lh_buf_init(&req->body);
    return req;
}

void lh_http__req_free(lh_http_req *req)
{
    if (!req)
        return;
    if (req->ops && req->ops->abort)
        req->ops->abort(req);
    json_decref(req->json);
    lh_buf_release(&req->body);
    lh_arena_free(req->arena);
    atomic_fetch_sub(&req->server->inflight, 1);
    free(req);
}

/* Copies at most LH_HTTP_PATH_LOG_MAX characters of the raw path, replacing anything that
 * could break the one-line log format. */
static void log_path(const char *src, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; src[i] && j + 4 < cap && i < LH_HTTP_PATH_LOG_MAX; i++) {
        unsigned char c = (unsigned char)src[i];
        out[j++] = (c <= 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (src[0] && strlen(src) > LH_HTTP_PATH_LOG_MAX && j + 4 < cap) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
}

void lh_http__access_log(const lh_http_req *req, bool completed)
{
    if (!lh_log_enabled(LH_LOG_LEVEL_INFO))
        return;
    char path[LH_HTTP_PATH_LOG_MAX + 8];
    log_path(req->raw_path, path, sizeof path);
    char status[16];
    if (req->status > 0)
        snprintf(status, sizeof status, "%d", req->status);
    else
        snprintf(status, sizeof status, "-");
    lh_log_write(LH_LOG_LEVEL_INFO, "http", "%s %s %s %lluB %.1fms req=%s%s", req->method, path,
                 status, (unsigned long long)req->bytes_out, lh_mono_ms() - req->start_ms,
                 req->id, completed ? "" : " aborted");
}

int lh_http__queue(lh_http_req *req, unsigned status, struct MHD_Response *resp,
                   uint64_t body_len)
{
    if (!resp) {
        LH_LOG_ERROR("http", "cannot create a response req=%s", req->id);
        req->queue_failed = true;
        return 0;
    }
    /* A failure to add a header leaves a usable response; it is not worth failing for. */
    (void)MHD_add_response_header(resp, "X-Request-Id", req->id);
    enum MHD_Result r = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    if (r != MHD_YES) {
        LH_LOG_ERROR("http", "cannot queue a %u response req=%s", status, req->id);
        req->queue_failed = true;
        return 0;
    }
    req->status = (int)status;
    if (strcmp(req->method, "HEAD") != 0) /* MHD sends headers only */
        req->bytes_out += body_len;
    return 0;
}

int lh_http_reply_json(lh_http_req *req, unsigned status, json_t *doc)
{
    char *text = lh_json_dump(doc);
    json_decref(doc);
    size_t len = strlen(text);
    /* MUST_FREE: MHD releases the dump with free() once the response is gone. */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return lh_http__queue(req, status, NULL, 0);
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                  "application/json; charset=utf-8");
    return lh_http__queue(req, status, resp, len);
}

int lh_http_reply_error(struct MHD_Connection *conn, lh_http_req *req, const lh_err *err)
{
    return lh_http_reply_error_with(conn, req, err, NULL);
}

int lh_http_reply_error_with(struct MHD_Connection *conn, lh_http_req *req, const lh_err *err,
                             json_t *extra)
{
    LH_ASSERT(conn == req->conn);
    lh_code code = err->code;
    if (code <= LH_OK || code >= LH_CODE_COUNT)
        code = LH_INTERNAL; /* a failure without a code is still a failure */
    int status = lh_code_http_status(code);
    lh_err shown = LH_ERR_INIT;
    shown.code = code;
    /* A 5xx hides its cause (it may name files or internals): the client gets the default
     * message and the request id, the log gets the rest. Timeouts and busy answers are 503s
     * but say nothing internal, and the client needs their text to act on them. */
    bool server_fault = status >= 500 && code != LH_TIMEOUT && code != LH_BUSY &&
                        code != LH_UNAVAILABLE && code != LH_UPSTREAM;
    if (server_fault || err->message[0] == '\0')
        snprintf(shown.message, sizeof shown.message, "%s", lh_code_default_message(code));
    else
        snprintf(shown.message, sizeof shown.message, "%s", err->message);
    /* detail (errno text, scratch paths) is for the log only. */
    if (server_fault)
        LH_LOG_ERROR("http", "%s %s: %s%s%s req=%s", req->method, req->raw_path,
                     err->message[0] ? err->message : lh_code_name(code),
                     err->detail[0] ? ": " : "", err->detail, req->id);
    else if (status >= 500)
        LH_LOG_WARN("http", "%s %s: %s: %s req=%s", req->method, req->raw_path,
                    lh_code_name(code), shown.message, req->id);
    else
        LH_LOG_DEBUG("http", "%s %s: %s: %s%s%s req=%s", req->method, req->raw_path,
                     lh_code_name(code), shown.message, err->detail[0] ? ": " : "",
                     err->detail, req->id);

    json_t *doc = lh_err_to_json(&shown, false);
    json_t *inner = json_object_get(doc, "error");
    if (inner) {
        if (extra && !server_fault)
            json_object_update(inner, extra);
        json_object_set_new(inner, "request_id", json_string(req->id));
    }
    json_decref(extra);

    char *text = lh_json_dump(doc);
    json_decref(doc);
    size_t len = strlen(text);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return lh_http__queue(req, (unsigned)status, NULL, 0);
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                  "application/json; charset=utf-8");
    if (code == LH_METHOD_NOT_ALLOWED && req->match.allow[0])
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, req->match.allow);
    return lh_http__queue(req, (unsigned)status, resp, len);
}

const char *lh_http__param(lh_http_req *req, const char *name)
{
    size_t name_len = strlen(name);
    for (size_t i = 0; i < req->match.nparams; i++) {
        const lh_http_param *p = &req->match.params[i];
        if (p->name_len == name_len && memcmp(p->name, name, name_len) == 0)
            return lh_arena_strndup(req->arena, p->value, p->value_len);
    }
    return NULL;
}

const char *lh_http__query_arg(const lh_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *lh_http__header(const lh_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

lh_lake *lh_http__lake(const lh_http_req *req)
{
    return req->server->lake;
}

int lh_http__query_int(const lh_http_req *req, const char *name, int64_t def, int64_t min,
                       int64_t max, int64_t *out, lh_err *err)
{
    const char *v = lh_http__query_arg(req, name);
    if (!v) {
        *out = def;
        return 0;
    }
    errno = 0;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (*v == '\0' || errno != 0 || *end != '\0' || n < min || n > max)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "query parameter '%s' must be an integer from %lld to %lld", name,
                          (long long)min, (long long)max);
    *out = n;
    return 0;
}
