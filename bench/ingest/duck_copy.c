/* duck_copy: the ingest benchmark's baseline. DuckDB's own conversion of a CSV or JSON file
 * to Parquet (zstd), in process with DuckDB's default settings (all cores, in-memory
 * database): COPY (FROM read_csv|read_json('SRC')) TO 'DST' (FORMAT parquet, COMPRESSION
 * zstd). Prints the number of rows written. Built and run by bench/ingest/run.sh.
 * Usage: duck_copy csv|json SRC DST */
#define _POSIX_C_SOURCE 200809L
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 'text' as an SQL string literal (quotes doubled) into dst; -1 when it does not fit. */
static int quote(char *dst, size_t cap, const char *text)
{
    size_t n = 0;
    if (cap < 3)
        return -1;
    dst[n++] = '\'';
    for (; *text; text++) {
        if (n + 4 >= cap)
            return -1;
        if (*text == '\'')
            dst[n++] = '\'';
        dst[n++] = *text;
    }
    dst[n++] = '\'';
    dst[n] = 0;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "csv") != 0 && strcmp(argv[1], "json") != 0)) {
        fprintf(stderr, "usage: duck_copy csv|json SRC DST\n");
        return 2;
    }
    char src[4200], dst[4200], sql[9000];
    if (quote(src, sizeof src, argv[2]) != 0 || quote(dst, sizeof dst, argv[3]) != 0) {
        fprintf(stderr, "duck_copy: path too long\n");
        return 2;
    }
    snprintf(sql, sizeof sql,
             "COPY (FROM read_%s(%s)) TO %s (FORMAT parquet, COMPRESSION zstd)", argv[1], src,
             dst);
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError) {
        fprintf(stderr, "duck_copy: cannot open DuckDB\n");
        return 1;
    }
    duckdb_result res;
    int rc = 0;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        fprintf(stderr, "duck_copy: %s\n", duckdb_result_error(&res));
        rc = 1;
    } else {
        /* COPY answers one row: the count of rows written. */
        printf("%lld\n", (long long)duckdb_value_int64(&res, 0, 0));
    }
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return rc;
}
