/* query/sample.c: sample values of a Parquet file's text and numeric columns, for PII
 * detection at ingest. One internal statement per column on a pooled connection: a
 * reservoir sample (seeded, so the same file gives the same sample) of the non-null values
 * among the first LH_SAMPLE_WINDOW rows, cast to text and cut to a bounded length. The
 * window keeps the cost of a scan flat whatever the file size (a whole-file reservoir read
 * every row of every column: about 1 s per GB of CSV ingested). */
#include <string.h>

#include "query/query_int.h"

/* Most values per column a caller may ask for, the longest value kept (bytes, cut on a
 * UTF-8 boundary) and the most value bytes one call returns over all columns: wide files get
 * fewer values per column rather than an unbounded answer. */
#define LH_SAMPLE_MAX_PER_COLUMN 10000
#define LH_SAMPLE_VALUE_MAX 256
#define LH_SAMPLE_TOTAL_BYTES (64u * 1024 * 1024)
#define LH_SAMPLE_SEED 42
#define LH_SAMPLE_WINDOW 50000

/* Text and numeric types: the ones PII can hide in (dates, blobs, lists are skipped). */
static bool sampleable(const char *type)
{
    static const char *const types[] = {"VARCHAR", "TINYINT", "SMALLINT", "INTEGER", "BIGINT",
                                        "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                                        "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return lh_str_has_prefix(type, "DECIMAL");
}

/* Small files are read whole (LIMIT); larger ones reservoir-sampled, after the NULL filter
 * (so a sparse column still yields up to n values), from the leading window of rows: the
 * scan stops after the first row groups. */
static char *sample_sql(const char *path, const char *col, size_t n, bool whole)
{
    char *lit = lh_sql_quote_literal(path);
    char *id = lh_sql_quote_ident(col);
    char *sql;
    if (whole)
        sql = lh_xasprintf("SELECT CAST(%s AS VARCHAR) FROM read_parquet(%s) WHERE %s IS NOT NULL "
                           "LIMIT %zu",
                           id, lit, id, n);
    else
        sql = lh_xasprintf("SELECT CAST(%s AS VARCHAR) FROM (SELECT %s FROM (SELECT %s FROM "
                           "read_parquet(%s) LIMIT %d) WHERE %s IS NOT NULL) USING SAMPLE "
                           "reservoir(%zu ROWS) REPEATABLE (%d)",
                           id, id, id, lit, LH_SAMPLE_WINDOW, id, n, LH_SAMPLE_SEED);
    free(lit);
    free(id);
    return sql;
}

/* Length of s[0..n) cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* Appends the first VARCHAR column of every row of res to arr. */
static void collect(duckdb_result *res, json_t *arr)
{
    duckdb_data_chunk c;
    while ((c = duckdb_fetch_chunk(*res)) != NULL) {
        idx_t sz = duckdb_data_chunk_get_size(c);
        duckdb_vector v = duckdb_data_chunk_get_vector(c, 0);
        const void *data = duckdb_vector_get_data(v);
        uint64_t *valid = duckdb_vector_get_validity(v);
        for (idx_t r = 0; r < sz; r++) {
            if (valid && !duckdb_validity_row_is_valid(valid, r))
                continue;
            size_t len;
            const char *p = lh_query__string_at(data, r, &len);
            json_t *s = json_stringn(p, utf8_cut(p, len, LH_SAMPLE_VALUE_MAX));
            if (s) /* DuckDB text is UTF-8; a value jansson refuses is skipped, not fatal */
                json_array_append_new(arr, s);
        }
        duckdb_destroy_data_chunk(&c);
    }
}

static int sample_column(duckdb_connection con, const char *path, const lh_column *col,
                         size_t n, bool whole, json_t *out, lh_err *err)
{
    char *sql = sample_sql(path, col->name, n, whole);
    duckdb_result res;
    int rc = 0;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        const char *m = duckdb_result_error(&res);
        lh_err_set(err, LH_INTERNAL, "cannot sample column '%s' of '%s'", col->name, path);
        lh_err_detail(err, "%s", m ? m : "unknown error");
        rc = -1;
    } else {
        json_t *arr = json_array();
        collect(&res, arr);
        json_object_set_new(out, col->name, arr);
    }
    duckdb_destroy_result(&res);
    free(sql);
    return rc;
}

json_t *lh_engine_sample_values(lh_engine *e, const char *path, size_t per_column, lh_err *err)
{
    if (!e || !path || !path[0]) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "sampling needs an engine and a Parquet path");
        return NULL;
    }
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    /* also the format check: a file that is not Parquet is invalid_argument, missing not_found */
    if (lh_engine_parquet_info(e, path, &cols, &ncols, &rows, err) != 0)
        return NULL;
    size_t nsample = 0;
    for (size_t i = 0; i < ncols; i++)
        nsample += sampleable(cols[i].type);
    size_t n = per_column < LH_SAMPLE_MAX_PER_COLUMN ? per_column : LH_SAMPLE_MAX_PER_COLUMN;
    if (nsample > 0 && n > LH_SAMPLE_TOTAL_BYTES / LH_SAMPLE_VALUE_MAX / nsample)
        n = LH_SAMPLE_TOTAL_BYTES / LH_SAMPLE_VALUE_MAX / nsample;
    json_t *out = json_object();
    int slot = -1;
    if (n > 0 && rows > 0 && nsample > 0 && (slot = lh_query__pool_acquire(e, err)) < 0)
        goto fail;
    for (size_t i = 0; i < ncols; i++) {
        if (!sampleable(cols[i].type))
            continue;
        if (slot < 0) { /* nothing to read: the column is still listed */
            json_object_set_new(out, cols[i].name, json_array());
            continue;
        }
        if (sample_column(e->slots[slot].con, path, &cols[i], n, (uint64_t)rows <= n, out,
                          err) != 0)
            goto fail;
    }
    if (slot >= 0)
        lh_query__pool_release(e, slot);
    lh_columns_free(cols, ncols);
    return out;
fail:
    if (slot >= 0)
        lh_query__pool_release(e, slot);
    lh_columns_free(cols, ncols);
    json_decref(out);
    return NULL;
}
