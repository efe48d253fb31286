/* query/stream.c: user queries from open to close. lh_query_open syncs views, takes a pooled
 * connection, arms the watchdog, passes the sandbox, binds params, executes in streaming
 * mode and fetches the first chunk; lh_query_stream_read renders chunk by chunk into a small
 * buffer (JSON / NDJSON / CSV), so memory stays bounded by one data chunk. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "query/query_int.h"

/* Rendering stops filling the buffer past this many bytes (one row may go beyond). */
#define FILL_TARGET (64 * 1024)

int lh_query__stream_error(lh_query_stream *q, duckdb_result *res, lh_err *err) {
    bool fired = lh_query__wd_fired(q->e, q->slot);
    return lh_query__user_error(duckdb_result_error(res), duckdb_result_error_type(res), fired,
                                q->timeout_ms, err);
}

/* Fetches the next chunk; at the end sets eof. */
static int fetch_next(lh_query_stream *q, lh_err *err) {
    if (q->chunk)
        duckdb_destroy_data_chunk(&q->chunk);
    q->chunk = NULL;
    q->chunk_size = q->pos = 0;
    if (q->eof)
        return 0;
    q->chunk = duckdb_fetch_chunk(q->res);
    if (!q->chunk) {
        q->eof = true;
        if (duckdb_result_error(&q->res))
            return lh_query__stream_error(q, &q->res, err);
        return 0;
    }
    q->chunk_size = duckdb_data_chunk_get_size(q->chunk);
    for (size_t c = 0; c < q->ncols; c++)
        q->vecs[c] = duckdb_data_chunk_get_vector(q->chunk, c);
    if (q->chunk_size == 0)
        return fetch_next(q, err);
    return 0;
}

static int start_rows(lh_query_stream *q, const json_t *params, lh_err *err) {
    if (lh_query__bind_params(q->st, params, err) != 0)
        return -1;
    if (duckdb_execute_prepared_streaming(q->st, &q->res) == DuckDBError) {
        lh_query__stream_error(q, &q->res, err);
        duckdb_destroy_result(&q->res);
        return -1;
    }
    q->have_res = true;
    q->ncols = duckdb_column_count(&q->res);
    q->names = lh_xcalloc(q->ncols + 1, sizeof(char *));
    q->types = lh_xcalloc(q->ncols + 1, sizeof(lh_rtype));
    q->vecs = lh_xcalloc(q->ncols + 1, sizeof(duckdb_vector));
    for (size_t c = 0; c < q->ncols; c++) {
        const char *name = duckdb_column_name(&q->res, c);
        q->names[c] = lh_xstrdup(name ? name : "");
        duckdb_logical_type t = duckdb_column_logical_type(&q->res, c);
        lh_query__rtype_init(&q->types[c], t);
        duckdb_destroy_logical_type(&t);
    }
    /* Computing the first chunk here makes errors of blocking operators (an aggregate that
     * times out, a file that may not be read) surface before any byte is sent. */
    return fetch_next(q, err);
}

lh_query_stream *lh_query_open(lh_engine *e, const lh_query_req *req, lh_err *err) {
    if (!e || !req || !req->sql) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "sql is required");
        return NULL;
    }
    if (req->format < LH_FMT_JSON || req->format > LH_FMT_PARQUET) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "unknown result format %d", (int)req->format);
        return NULL;
    }
    double t0 = lh_mono_ms();
    lh_query__views_sync(e);
    int slot = lh_query__pool_acquire(e, err);
    if (slot < 0)
        return NULL;
    lh_query_stream *q = lh_xcalloc(1, sizeof *q);
    q->e = e;
    q->slot = slot;
    q->con = e->slots[slot].con;
    q->fmt = req->format;
    q->t0 = t0;
    q->fd = -1;
    q->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : e->opts.timeout_ms;
    q->limit = req->limit > 0 && req->limit < e->opts.max_rows ? req->limit : e->opts.max_rows;
    q->max_bytes = e->opts.max_bytes;
    lh_buf_init(&q->out);
    lh_buf_init(&q->scratch);
    lh_query__wd_arm(e, slot, t0 + q->timeout_ms);

    q->st = lh_query__prepare_user(q->con, req->sql, err);
    if (q->st)
        lh_query__cache_account(e, req->sql);
    int rc = -1;
    if (q->st)
        rc = q->fmt == LH_FMT_PARQUET ? lh_query__parquet_run(q, req->sql, req->params, err)
                                      : start_rows(q, req->params, err);
    if (rc != 0) {
        lh_query_stream_close(q);
        return NULL;
    }
    LH_LOG_DEBUG(LH_QUERY_LOG, "query open slot=%d ms=%.1f", slot, lh_mono_ms() - t0);
    return q;
}

/* ---- rendering --------------------------------------------------------------------------- */

static void render_header(lh_query_stream *q) {
    lh_buf *b = &q->out;
    if (q->fmt == LH_FMT_JSON) {
        lh_buf_puts(b, "{\"columns\":[");
        for (size_t c = 0; c < q->ncols; c++) {
            lh_buf_puts(b, c ? ",{\"name\":" : "{\"name\":");
            lh_buf_json_string(b, q->names[c], strlen(q->names[c]));
            lh_buf_puts(b, ",\"type\":");
            lh_buf_reset(&q->scratch);
            lh_query__rtype_name(&q->scratch, &q->types[c]);
            lh_buf_json_string(b, q->scratch.data, q->scratch.len);
            lh_buf_putc(b, '}');
        }
        lh_buf_puts(b, "],\"rows\":[");
    } else if (q->fmt == LH_FMT_CSV) {
        for (size_t c = 0; c < q->ncols; c++) {
            if (c)
                lh_buf_putc(b, ',');
            lh_buf_csv_field(b, q->names[c], strlen(q->names[c]));
        }
        lh_buf_puts(b, "\r\n");
    }
}

static void render_row(lh_query_stream *q) {
    lh_buf *b = &q->out;
    idx_t r = q->pos;
    switch (q->fmt) {
    case LH_FMT_JSON:
        lh_buf_puts(b, q->rows ? ",[" : "[");
        for (size_t c = 0; c < q->ncols; c++) {
            if (c)
                lh_buf_putc(b, ',');
            lh_query__render_json(b, &q->types[c], q->vecs[c], r);
        }
        lh_buf_putc(b, ']');
        break;
    case LH_FMT_NDJSON:
        lh_buf_putc(b, '{');
        for (size_t c = 0; c < q->ncols; c++) {
            if (c)
                lh_buf_putc(b, ',');
            lh_buf_json_string(b, q->names[c], strlen(q->names[c]));
            lh_buf_putc(b, ':');
            lh_query__render_json(b, &q->types[c], q->vecs[c], r);
        }
        lh_buf_puts(b, "}\n");
        break;
    default:
        for (size_t c = 0; c < q->ncols; c++) {
            if (c)
                lh_buf_putc(b, ',');
            lh_query__render_csv(b, &q->types[c], q->vecs[c], r, &q->scratch);
        }
        lh_buf_puts(b, "\r\n");
        break;
    }
}

/* Ends a JSON document (with an "error" member when failure is set). */
static void render_footer(lh_query_stream *q, const lh_err *failure) {
    lh_buf *b = &q->out;
    if (q->fmt == LH_FMT_JSON) {
        lh_buf_printf(b, "],\"row_count\":%lld,\"truncated\":%s,\"elapsed_ms\":",
                      (long long)q->rows, q->truncated ? "true" : "false");
        lh_query__put_double(b, round((lh_mono_ms() - q->t0) * 1000.0) / 1000.0);
    }
    if (failure && (q->fmt == LH_FMT_JSON || q->fmt == LH_FMT_NDJSON)) {
        json_t *j = lh_err_to_json(failure, false);
        char *s = lh_json_dump(j);
        lh_buf_puts(b, q->fmt == LH_FMT_JSON ? "," : "");
        /* JSON: splice the error member into the open object; NDJSON: one more line. */
        if (q->fmt == LH_FMT_JSON)
            lh_buf_append(b, s + 1, strlen(s) - 2);
        else
            lh_buf_puts(b, s);
        lh_buf_puts(b, q->fmt == LH_FMT_JSON ? "" : "\n");
        free(s);
        json_decref(j);
    }
    if (q->fmt == LH_FMT_JSON)
        lh_buf_putc(b, '}');
    q->state = LH_ST_DONE;
}

/* Fails the stream mid-way: JSON/NDJSON carry the error in the document (returns 0),
 * CSV cannot (returns -1 with err filled). */
static int fail_midstream(lh_query_stream *q, const lh_err *failure, lh_err *err) {
    if (q->fmt == LH_FMT_JSON || q->fmt == LH_FMT_NDJSON) {
        render_footer(q, failure);
        return 0;
    }
    if (err)
        *err = *failure;
    q->state = LH_ST_DONE;
    return -1;
}

/* Renders rows until the buffer holds about FILL_TARGET bytes or the result ends. */
static int fill(lh_query_stream *q, lh_err *err) {
    if (q->state == LH_ST_HEADER) {
        render_header(q);
        q->bytes += (int64_t)q->out.len;
        q->state = LH_ST_ROWS;
    }
    while (q->state == LH_ST_ROWS && q->out.len - q->out_pos < FILL_TARGET) {
        if (q->pos >= q->chunk_size) {
            if (q->eof) {
                q->state = LH_ST_FOOTER;
                break;
            }
            lh_err e2 = LH_ERR_INIT;
            if (fetch_next(q, &e2) != 0) {
                /* All the rows asked for were sent: a failure while looking for one more
                 * row does not spoil the result. */
                if (q->rows >= q->limit) {
                    q->state = LH_ST_FOOTER;
                    break;
                }
                return fail_midstream(q, &e2, err);
            }
            continue;
        }
        if (q->rows >= q->limit) {
            q->truncated = true; /* a row exists past the limit */
            q->state = LH_ST_FOOTER;
            break;
        }
        size_t mark = q->out.len;
        render_row(q);
        if (q->bytes + (int64_t)(q->out.len - mark) > q->max_bytes) {
            q->out.len = mark;
            q->out.data[mark] = '\0';
            lh_err e2 = LH_ERR_INIT;
            lh_err_set(&e2, LH_TOO_LARGE, "result exceeds the limit of %lld bytes",
                       (long long)q->max_bytes);
            return fail_midstream(q, &e2, err);
        }
        q->bytes += (int64_t)(q->out.len - mark);
        q->pos++;
        q->rows++;
    }
    if (q->state == LH_ST_FOOTER)
        render_footer(q, NULL);
    return 0;
}

ssize_t lh_query_stream_read(lh_query_stream *q, char *buf, size_t cap, lh_err *err) {
    if (cap == 0)
        return 0;
    for (;;) {
        if (q->out_pos < q->out.len) {
            size_t n = q->out.len - q->out_pos;
            if (n > cap)
                n = cap;
            memcpy(buf, q->out.data + q->out_pos, n);
            q->out_pos += n;
            if (q->out_pos == q->out.len) {
                lh_buf_reset(&q->out);
                q->out_pos = 0;
            }
            return (ssize_t)n;
        }
        if (q->state == LH_ST_DONE)
            return 0;
        if (q->fmt == LH_FMT_PARQUET) {
            ssize_t n = read(q->fd, buf, cap);
            if (n < 0) {
                lh_err_errno(err, errno, "cannot read the parquet result");
                return -1;
            }
            if (n == 0)
                q->state = LH_ST_DONE;
            return n;
        }
        if (fill(q, err) != 0)
            return -1;
    }
}

int64_t lh_query_stream_rows(const lh_query_stream *q) {
    return q->rows;
}

bool lh_query_stream_truncated(const lh_query_stream *q) {
    return q->truncated;
}

void lh_query_stream_close(lh_query_stream *q) {
    if (!q)
        return;
    if (q->have_res && !q->eof)
        duckdb_interrupt(q->con); /* stop an unfinished query before dropping its result */
    if (q->chunk)
        duckdb_destroy_data_chunk(&q->chunk);
    if (q->have_res)
        duckdb_destroy_result(&q->res);
    if (q->st)
        duckdb_destroy_prepare(&q->st);
    (void)lh_query__wd_disarm(q->e, q->slot);
    lh_query__pool_release(q->e, q->slot);
    for (size_t c = 0; c < q->ncols; c++) {
        free(q->names[c]);
        lh_query__rtype_release(&q->types[c]);
    }
    free(q->names);
    free(q->types);
    free(q->vecs);
    if (q->fd >= 0)
        close(q->fd);
    if (q->parquet_path) {
        /* A scratch file of ours; nothing to do if it was never written. */
        (void)unlink(q->parquet_path);
        free(q->parquet_path);
    }
    lh_buf_release(&q->out);
    lh_buf_release(&q->scratch);
    free(q);
}
