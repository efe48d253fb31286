/* query/ingest_sql.c: engine work for ingest and registration, run on a pooled connection
 * with SQL of our own (paths and options quoted, never spliced user SQL): CSV -> Parquet
 * through DuckDB's sniffer, and a Parquet file's schema and row count from its footer. */
#include <string.h>
#include <unistd.h>

#include "query/query_int.h"

/* Runs sql on con; on failure fills *msg (owned) and *type and returns -1. */
static int run(duckdb_connection con, const char *sql, duckdb_result *res, char **msg,
               duckdb_error_type *type) {
    if (duckdb_query(con, sql, res) == DuckDBError) {
        const char *m = duckdb_result_error(res);
        *msg = lh_xstrdup(m ? m : "unknown error");
        *type = duckdb_result_error_type(res);
        duckdb_destroy_result(res);
        return -1;
    }
    return 0;
}

static bool is_missing(const char *msg, duckdb_error_type type) {
    return type == DUCKDB_ERROR_IO &&
           (strstr(msg, "No files found") || strstr(msg, "No such file"));
}

static int64_t first_int(duckdb_result *res) {
    int64_t v = 0;
    duckdb_data_chunk c = duckdb_fetch_chunk(*res);
    if (c && duckdb_data_chunk_get_size(c) > 0) {
        duckdb_vector vec = duckdb_data_chunk_get_vector(c, 0);
        uint64_t *valid = duckdb_vector_get_validity(vec);
        duckdb_logical_type t = duckdb_vector_get_column_type(vec);
        duckdb_type id = duckdb_get_type_id(t);
        duckdb_destroy_logical_type(&t);
        const void *d = duckdb_vector_get_data(vec);
        if (valid && !(valid[0] & 1))
            v = 0;
        else if (id == DUCKDB_TYPE_BIGINT || id == DUCKDB_TYPE_UBIGINT)
            v = ((const int64_t *)d)[0];
        else if (id == DUCKDB_TYPE_HUGEINT)
            v = (int64_t)((const duckdb_hugeint *)d)[0].lower;
        else if (id == DUCKDB_TYPE_INTEGER)
            v = ((const int32_t *)d)[0];
    }
    if (c)
        duckdb_destroy_data_chunk(&c);
    return v;
}

static int parquet_info_on(duckdb_connection con, const char *path, lh_column **cols,
                           size_t *ncols, int64_t *rows, lh_err *err) {
    char *lit = lh_sql_quote_literal(path);
    char *describe = lh_xasprintf("DESCRIBE SELECT * FROM read_parquet(%s)", lit);
    char *count = lh_xasprintf("SELECT sum(num_rows)::BIGINT FROM parquet_file_metadata(%s)", lit);
    free(lit);
    duckdb_result res;
    char *msg = NULL;
    duckdb_error_type type = DUCKDB_ERROR_INVALID;
    int rc = -1;
    lh_column *out = NULL;
    size_t n = 0, cap = 0;
    if (run(con, describe, &res, &msg, &type) != 0)
        goto fail;
    duckdb_data_chunk c;
    while ((c = duckdb_fetch_chunk(res)) != NULL) {
        idx_t sz = duckdb_data_chunk_get_size(c);
        const void *names = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 0));
        const void *types = duckdb_vector_get_data(duckdb_data_chunk_get_vector(c, 1));
        for (idx_t r = 0; r < sz; r++) {
            if (n == cap)
                out = lh_xrealloc(out, (cap = cap ? cap * 2 : 16) * sizeof *out);
            size_t ln, lt;
            const char *pn = lh_query__string_at(names, r, &ln);
            const char *pt = lh_query__string_at(types, r, &lt);
            /* every member set: description and pii are freed by lh_columns_free */
            out[n] = (lh_column){.name = lh_xstrndup(pn, ln), .type = lh_xstrndup(pt, lt)};
            n++;
        }
        duckdb_destroy_data_chunk(&c);
    }
    duckdb_destroy_result(&res);
    if (run(con, count, &res, &msg, &type) != 0)
        goto fail;
    *rows = first_int(&res);
    duckdb_destroy_result(&res);
    *cols = out;
    *ncols = n;
    out = NULL;
    rc = 0;
    goto out;
fail:
    if (type == DUCKDB_ERROR_PERMISSION)
        lh_err_set(err, LH_FORBIDDEN, "the engine may not read '%s'", path);
    else if (is_missing(msg, type))
        lh_err_set(err, LH_NOT_FOUND, "'%s' not found", path);
    else
        lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is not a Parquet file", path);
    lh_err_detail(err, "%s", msg);
out:
    if (out)
        lh_columns_free(out, n);
    free(msg);
    free(describe);
    free(count);
    return rc;
}

int lh_engine_parquet_info(lh_engine *e, const char *path, lh_column **cols, size_t *ncols,
                           int64_t *rows, lh_err *err) {
    if (!e || !path || !cols || !ncols || !rows)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "parquet info needs a path and outputs");
    int slot = lh_query__pool_acquire(e, err);
    if (slot < 0)
        return -1;
    int rc = parquet_info_on(e->slots[slot].con, path, cols, ncols, rows, err);
    lh_query__pool_release(e, slot);
    return rc;
}

/* The read_csv / sniff_csv options shared by both statements. */
static void csv_options(lh_buf *b, const lh_csv_opts *opts, const char *delim)
{
    if (delim && delim[0]) {
        char *d = lh_sql_quote_literal(delim);
        lh_buf_printf(b, ", delim=%s", d);
        free(d);
    }
    if (opts && opts->header >= 0)
        lh_buf_printf(b, ", header=%s", opts->header ? "true" : "false");
}

static char *csv_sniff_sql(const char *src, const lh_csv_opts *opts)
{
    lh_buf b;
    lh_buf_init(&b);
    char *s = lh_sql_quote_literal(src);
    lh_buf_printf(&b, "SELECT Delimiter, SkipRows FROM sniff_csv(%s", s);
    free(s);
    csv_options(&b, opts, opts ? opts->delimiter : NULL);
    lh_buf_puts(&b, ")");
    return lh_buf_detach(&b, NULL);
}

/* skip=0 always: when the sniffer wants to skip leading lines it is because they do not fit
 * the layout of the rest (ragged rows, a preamble), and skipping them would lose rows
 * silently. The caller refuses such files before this statement runs. */
static char *csv_copy_sql(const char *src, const lh_csv_opts *opts, const char *delim,
                          const char *dst)
{
    lh_buf b;
    lh_buf_init(&b);
    char *s = lh_sql_quote_literal(src);
    lh_buf_printf(&b, "COPY (SELECT * FROM read_csv(%s, auto_detect=true, skip=0, strict_mode=true",
                  s);
    free(s);
    csv_options(&b, opts, delim);
    char *d = lh_sql_quote_literal(dst);
    lh_buf_printf(&b, ")) TO %s (FORMAT parquet, COMPRESSION zstd)", d);
    free(d);
    return lh_buf_detach(&b, NULL);
}

/* Maps a failed statement on src to our codes. */
static void csv_error(const char *src, const char *msg, duckdb_error_type type, lh_err *err)
{
    if (type == DUCKDB_ERROR_PERMISSION)
        lh_err_set(err, LH_FORBIDDEN, "the engine may not read '%s'", src);
    else if (is_missing(msg, type))
        lh_err_set(err, LH_NOT_FOUND, "'%s' not found", src);
    else
        lh_err_set(err, LH_INVALID_ARGUMENT, "not usable CSV: %s", msg);
}

/* Runs sniff_csv: the delimiter it found (owned) and how many leading lines it would skip. */
static int csv_sniff(duckdb_connection con, const char *src, const lh_csv_opts *opts,
                     char **delim, int64_t *skip, lh_err *err)
{
    char *sql = csv_sniff_sql(src, opts);
    duckdb_result res;
    char *msg = NULL;
    duckdb_error_type type = DUCKDB_ERROR_INVALID;
    int rc = run(con, sql, &res, &msg, &type);
    free(sql);
    if (rc != 0) {
        csv_error(src, msg, type, err);
        free(msg);
        return -1;
    }
    char *d = duckdb_row_count(&res) > 0 ? duckdb_value_varchar(&res, 0, 0) : NULL;
    *delim = lh_xstrdup(d ? d : ",");
    if (d)
        duckdb_free(d);
    *skip = duckdb_row_count(&res) > 0 ? duckdb_value_int64(&res, 1, 0) : 0;
    duckdb_destroy_result(&res);
    return 0;
}

int lh_engine_csv_to_parquet(lh_engine *e, const char *src_path, const lh_csv_opts *opts,
                             const char *dst_path, lh_column **cols, size_t *ncols,
                             int64_t *rows, lh_err *err) {
    if (!e || !src_path || !dst_path || !cols || !ncols || !rows)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "csv conversion needs paths and outputs");
    if (opts && opts->delimiter && strlen(opts->delimiter) > 4)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "delimiter '%s' is too long",
                          opts->delimiter);
    int slot = lh_query__pool_acquire(e, err);
    if (slot < 0)
        return -1;
    duckdb_connection con = e->slots[slot].con;
    char *sql = NULL, *msg = NULL, *delim = NULL;
    duckdb_result res;
    duckdb_error_type type = DUCKDB_ERROR_INVALID;
    int rc = -1;
    int64_t skip = 0;
    if (csv_sniff(con, src_path, opts, &delim, &skip, err) != 0)
        goto out;
    if (skip > 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "the first %lld lines do not fit the layout of the rest of the file "
                   "(ragged rows, or a preamble before the header)",
                   (long long)skip);
        goto out;
    }
    sql = csv_copy_sql(src_path, opts, delim, dst_path);
    if (run(con, sql, &res, &msg, &type) != 0) {
        csv_error(src_path, msg, type, err);
        (void)unlink(dst_path); /* no half-written Parquet stays behind */
        goto out;
    }
    int64_t written = first_int(&res);
    duckdb_destroy_result(&res);
    rc = parquet_info_on(con, dst_path, cols, ncols, rows, err);
    if (rc == 0 && *rows != written)
        LH_LOG_WARN(LH_QUERY_LOG, "csv copy wrote %lld rows, footer says %lld",
                    (long long)written, (long long)*rows);
    if (rc != 0)
        (void)unlink(dst_path);
out:
    free(msg);
    free(sql);
    free(delim);
    lh_query__pool_release(e, slot);
    return rc;
}
