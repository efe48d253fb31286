/* query/stream_parquet.c: the Parquet result format. DuckDB writes the (sandbox-checked)
 * user query to a scratch file with COPY, the stream hands out the file's bytes, and close
 * deletes it. The user text is wrapped as a subquery on lines of its own, so a trailing
 * "--" comment cannot swallow the closing parenthesis. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "query/query_int.h"

/* Prepares one statement of our own making around the user's text, checking that it is
 * exactly one statement of the expected type. */
static duckdb_prepared_statement prepare_wrapped(lh_query_stream *q, const char *sql,
                                                 duckdb_statement_type want, lh_err *err) {
    duckdb_extracted_statements ex = NULL;
    duckdb_prepared_statement st = NULL;
    idx_t n = duckdb_extract_statements(q->con, sql, &ex);
    if (n != 1) {
        const char *msg = n == 0 ? duckdb_extract_statements_error(ex) : NULL;
        lh_err_set(err, LH_SQL_ERROR, "%s",
                   msg ? msg : "the query cannot be written as Parquet");
    } else if (duckdb_prepare_extracted_statement(q->con, ex, 0, &st) == DuckDBError) {
        lh_query__user_error(duckdb_prepare_error(st), DUCKDB_ERROR_INVALID, false, 0, err);
        duckdb_destroy_prepare(&st);
        st = NULL;
    } else if (duckdb_prepared_statement_type(st) != want) {
        lh_err_set(err, LH_SQL_ERROR, "the query cannot be written as Parquet");
        duckdb_destroy_prepare(&st);
        st = NULL;
    }
    duckdb_destroy_extracted(&ex);
    return st;
}

/* Executes a bound internal statement and returns the BIGINT-ish value in column 0 of the
 * first row (COPY's row count), or -1 with err. has_row tells whether any row came back. */
static int run_count(lh_query_stream *q, duckdb_prepared_statement st, int64_t *value,
                     bool *has_row, lh_err *err) {
    duckdb_result res;
    if (duckdb_execute_prepared(st, &res) == DuckDBError) {
        lh_query__stream_error(q, &res, err);
        duckdb_destroy_result(&res);
        return -1;
    }
    *has_row = false;
    *value = 0;
    duckdb_data_chunk c = duckdb_fetch_chunk(res);
    if (c && duckdb_data_chunk_get_size(c) > 0) {
        *has_row = true;
        duckdb_vector v = duckdb_data_chunk_get_vector(c, 0);
        duckdb_logical_type t = duckdb_vector_get_column_type(v);
        duckdb_type id = duckdb_get_type_id(t);
        duckdb_destroy_logical_type(&t);
        const void *d = duckdb_vector_get_data(v);
        if (id == DUCKDB_TYPE_BIGINT || id == DUCKDB_TYPE_UBIGINT)
            *value = ((const int64_t *)d)[0];
        else if (id == DUCKDB_TYPE_INTEGER)
            *value = ((const int32_t *)d)[0];
    }
    if (c)
        duckdb_destroy_data_chunk(&c);
    duckdb_destroy_result(&res);
    return 0;
}

int lh_query__parquet_run(lh_query_stream *q, const char *sql, const json_t *params,
                          lh_err *err) {
    /* The user statement passed the sandbox and its params must bind; check them on it so
     * the error names the user's statement. */
    if (lh_query__bind_params(q->st, params, err) != 0)
        return -1;
    char *body = lh_query__strip_semicolons(sql);
    q->parquet_path = lh_storage_scratch_path(q->e->storage, ".parquet");
    char *path = lh_sql_quote_literal(q->parquet_path);
    char *copy = lh_xasprintf("COPY (SELECT * FROM (\n%s\n) LIMIT %lld) TO %s "
                              "(FORMAT parquet, COMPRESSION zstd)",
                              body, (long long)q->limit, path);
    char *more = lh_xasprintf("SELECT 1 FROM (\n%s\n) OFFSET %lld LIMIT 1", body,
                              (long long)q->limit);
    free(path);
    free(body);
    int rc = -1;
    bool has_row = false;
    int64_t count = 0;
    duckdb_prepared_statement st = prepare_wrapped(q, copy, DUCKDB_STATEMENT_TYPE_COPY, err);
    if (!st || lh_query__bind_params(st, params, err) != 0 ||
        run_count(q, st, &count, &has_row, err) != 0)
        goto out;
    q->rows = count;
    if (count >= q->limit) {
        /* Only a full result can have been cut: look for one row past the limit. */
        duckdb_destroy_prepare(&st);
        st = prepare_wrapped(q, more, DUCKDB_STATEMENT_TYPE_SELECT, err);
        if (!st || lh_query__bind_params(st, params, err) != 0 ||
            run_count(q, st, &count, &has_row, err) != 0)
            goto out;
        q->truncated = has_row;
    }
    q->fd = open(q->parquet_path, O_RDONLY | O_CLOEXEC);
    if (q->fd < 0) {
        lh_err_errno(err, errno, "cannot open the parquet result");
        goto out;
    }
    struct stat sb;
    if (fstat(q->fd, &sb) != 0) {
        lh_err_errno(err, errno, "cannot stat the parquet result");
        goto out;
    }
    if ((int64_t)sb.st_size > q->max_bytes) {
        lh_err_set(err, LH_TOO_LARGE, "result exceeds the limit of %lld bytes",
                   (long long)q->max_bytes);
        goto out;
    }
    q->bytes = (int64_t)sb.st_size;
    q->state = LH_ST_ROWS;
    rc = 0;
out:
    if (st)
        duckdb_destroy_prepare(&st);
    free(copy);
    free(more);
    return rc;
}
