/* POST /query/sql: user SQL, answered as a stream. The engine checks the sandbox and runs
 * the query up to its first chunk in lh_query_open, so SQL errors still become JSON errors
 * with the right status; after that the result is pulled block by block by MHD on this
 * connection's own thread and never built whole in memory. */
#include <limits.h>
#include <stdlib.h>

#include "http/http_int.h"

#define TIMEOUT_MAX_MS (24 * 3600 * 1000) /* a day: anything longer is a typo */

typedef struct sql_stream {
    lh_query_stream *q;
    lh_http_req *req; /* for byte counts and logs; alive whenever MHD calls the reader */
} sql_stream;

static ssize_t sql_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sql_stream *st = cls;
    lh_err e = LH_ERR_INIT;
    ssize_t n = lh_query_stream_read(st->q, buf, max, &e);
    if (n > 0) {
        st->req->bytes_out += (uint64_t)n;
        return n;
    }
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* The status line is gone; all we can do is cut the response short and say why here. */
    LH_LOG_ERROR("http", "query result stream failed after %llu bytes: %s: %s%s%s req=%s",
                 (unsigned long long)st->req->bytes_out, lh_code_name(e.code), e.message,
                 e.detail[0] ? ": " : "", e.detail, st->req->id);
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* Runs after the request's completion callback, so it must not touch st->req. */
static void sql_free(void *cls)
{
    sql_stream *st = cls;
    lh_query_stream_close(st->q);
    free(st);
}

int lh_http__post_sql(lh_http_req *req, lh_err *err)
{
    const json_t *body = req->json;
    const char *sql = lh_json_str(body, "sql", true, err);
    if (!sql)
        return err->code != LH_OK ? -1 : lh_err_set(err, LH_INVALID_ARGUMENT, "'sql' is required");
    if (sql[0] == '\0')
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'sql' must not be empty");
    const json_t *params = json_object_get(body, "params");
    if (json_is_null(params))
        params = NULL;
    if (params && !json_is_array(params))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'params' must be an array");
    int64_t limit = 0, timeout_ms = 0;
    if (lh_json_int(body, "limit", false, 0, &limit, err) != 0 ||
        lh_json_int(body, "timeout_ms", false, 0, &timeout_ms, err) != 0)
        return -1;
    if (limit < 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "'limit' must be 0 (the server's maximum) or more");
    if (timeout_ms < 0 || timeout_ms > TIMEOUT_MAX_MS)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'timeout_ms' must be from 0 to %d",
                          TIMEOUT_MAX_MS);
    lh_result_format fmt;
    if (lh_result_format_from_accept(lh_http__header(req, MHD_HTTP_HEADER_ACCEPT), &fmt, err) != 0)
        return -1;

    lh_query_req qr = {
        .sql = sql, .params = params, .limit = limit, .timeout_ms = (int)timeout_ms, .format = fmt};
    LH_LOG_DEBUG("http", "sql req=%s: %s", req->id, sql);
    lh_query_stream *q = lh_query_open(lh_http__lake(req)->engine, &qr, err);
    if (!q) {
        lh_sql_position pos;
        if (err->code != LH_SQL_ERROR || !lh_sql_error_position(sql, err->message, &pos))
            return -1;
        /* Where DuckDB's caret points, in the caller's own text: an editor can mark it. */
        json_t *extra = json_pack("{s:{s:i,s:i,s:I}}", "position", "line", pos.line, "column",
                                  pos.column, "offset", (json_int_t)pos.offset);
        return lh_http_reply_error_with(req->conn, req, err, extra);
    }
    sql_stream *st = lh_xmalloc(sizeof *st);
    st->q = q;
    st->req = req;
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, LH_HTTP_STREAM_BLOCK, sql_reader, st, sql_free);
    if (!resp) {
        sql_free(st);
        return lh_err_set(err, LH_INTERNAL, "cannot create a streaming response");
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                  lh_result_format_content_type(fmt));
    return lh_http__queue(req, MHD_HTTP_OK, resp, 0); /* the reader counts the bytes */
}
