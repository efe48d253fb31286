/* Tests for src/query/views.c, ingest_sql.c and lake.c: CSV -> Parquet, Parquet info,
 * datasets appearing as tables after a catalog commit, and the lake opening as a whole. */
#include "query_test.h"

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

TestSuite(views, .init = setup, .fini = teardown, .timeout = 120);

static char *write_scratch(const char *suffix, const char *text) {
    char *path = lh_storage_scratch_path(T.storage, suffix);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
    return path;
}

/* Converts csv text to a scratch Parquet file and commits it to dataset name. */
static void add_csv(const char *name, const char *csv, int64_t want_rows) {
    char *src = write_scratch(".csv", csv);
    char *dst = lh_storage_scratch_path(T.storage, ".parquet");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_engine_csv_to_parquet(T.engine, src, NULL, dst, &cols, &ncols, &rows, &err),
                 0, "%s", err.message);
    cr_expect_eq(rows, want_rows);
    lh_add_file f = {.src_path = dst, .move = true, .rows = rows};
    lh_commit_info info = {.source = "cli", .file_name = "test.csv"};
    cr_assert_eq(lh_catalog_add_files(T.catalog, name, cols, ncols, &f, 1, &info, NULL, &err), 0,
                 "%s", err.message);
    lh_columns_free(cols, ncols);
    unlink(src);
    free(src);
    free(dst);
}

Test(views, csv_to_parquet_sniffs_schema) {
    char *src = write_scratch(".csv", "id,name,price,day\n1,apple,1.25,2024-01-31\n2,pear,0.5,2024-02-01\n");
    char *dst = lh_storage_scratch_path(T.storage, ".parquet");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_engine_csv_to_parquet(T.engine, src, NULL, dst, &cols, &ncols, &rows, &err),
                 0, "%s", err.message);
    cr_expect_eq(rows, 2);
    cr_assert_eq(ncols, 4);
    cr_expect_str_eq(cols[0].name, "id");
    cr_expect_str_eq(cols[0].type, "BIGINT");
    cr_expect_str_eq(cols[1].type, "VARCHAR");
    cr_expect_str_eq(cols[2].type, "DOUBLE");
    cr_expect_str_eq(cols[3].name, "day");
    cr_expect_str_eq(cols[3].type, "DATE");
    lh_columns_free(cols, ncols);
    unlink(dst);

    /* Explicit delimiter and no header. */
    char *tsv = write_scratch(".tsv", "1\tx\n2\ty\n3\tz\n");
    lh_csv_opts o = {.delimiter = "\t", .header = 0};
    cr_assert_eq(lh_engine_csv_to_parquet(T.engine, tsv, &o, dst, &cols, &ncols, &rows, &err), 0,
                 "%s", err.message);
    cr_expect_eq(rows, 3);
    cr_expect_eq(ncols, 2);
    lh_columns_free(cols, ncols);
    unlink(dst);
    unlink(src);
    unlink(tsv);
    free(src);
    free(tsv);
    free(dst);
}

Test(views, broken_csv_is_invalid_argument) {
    /* Good rows past the sniffer's sample, then a row with too many columns. */
    lh_buf csv;
    lh_buf_init(&csv);
    lh_buf_puts(&csv, "a,b\n");
    for (int i = 0; i < 30000; i++)
        lh_buf_puts(&csv, "1,2\n");
    lh_buf_puts(&csv, "3,4,5,6\n");
    char *src = write_scratch(".csv", csv.data);
    lh_buf_release(&csv);
    char *dst = lh_storage_scratch_path(T.storage, ".parquet");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    lh_csv_opts o = {.delimiter = ",", .header = 1};
    cr_expect_eq(lh_engine_csv_to_parquet(T.engine, src, &o, dst, &cols, &ncols, &rows, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT, "%s", lh_code_name(err.code));
    cr_expect(strstr(err.message, "30002"), "%s", err.message);
    cr_expect_eq(access(dst, F_OK), -1);
    /* Outside the sandbox. */
    cr_expect_eq(lh_engine_csv_to_parquet(T.engine, "/etc/passwd", NULL, dst, &cols, &ncols,
                                          &rows, &err), -1);
    cr_expect_eq(err.code, LH_FORBIDDEN);
    unlink(src);
    free(src);
    free(dst);
}

Test(views, parquet_info_rejects_non_parquet) {
    char *src = write_scratch(".parquet", "this is not parquet at all\n");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_engine_parquet_info(T.engine, src, &cols, &ncols, &rows, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    char *want = lh_xasprintf("'%s' is not a Parquet file", src);
    cr_expect_str_eq(err.message, want);
    free(want);
    unlink(src);
    free(src);
}

Test(views, datasets_appear_after_commit) {
    QT_FAILS(T.engine, "SELECT * FROM fruit", LH_SQL_ERROR);
    add_csv("fruit", "id,name\n1,apple\n2,pear\n", 2);
    QT_ROWS(T.engine, "SELECT id, name FROM fruit ORDER BY id", "[[1,\"apple\"],[2,\"pear\"]]");
    add_csv("fruit", "id,name\n3,plum\n", 1);
    QT_ROWS(T.engine, "SELECT count(*), max(name) FROM fruit", "[[3,\"plum\"]]");
    add_csv("veg", "v\nleek\n", 1);
    QT_ROWS(T.engine, "SELECT * FROM veg", "[[\"leek\"]]");
    /* The datasets directory is readable by user SQL; the catalog is not. */
    char *sql = lh_xasprintf("SELECT count(*) FROM read_parquet('%s/buckets/primary/datasets/fruit/*.parquet')",
                             T.dir);
    QT_ROWS(T.engine, sql, "[[3]]");
    free(sql);
    sql = lh_xasprintf("SELECT * FROM read_text('%s/buckets/primary/_catalog/datasets/fruit.json')",
                       T.dir);
    QT_FAILS(T.engine, sql, LH_FORBIDDEN);
    free(sql);
}

Test(views, lake_opens_and_closes) {
    lh_config c;
    lh_config_init(&c);
    free(c.data_dir);
    c.data_dir = lh_xasprintf("%s/lake", T.dir);
    lh_err err = LH_ERR_INIT;
    lh_lake *lake = lh_lake_open(&c, &err);
    cr_assert_not_null(lake, "%s", err.message);
    json_t *doc = lh_query_json(lake->engine, &(lh_query_req){.sql = "SELECT 7 AS x"}, &err);
    cr_assert_not_null(doc, "%s", err.message);
    json_decref(doc);
    lh_lake_close(lake);
    lh_config_release(&c);
    cr_expect(strncmp(lh_engine_duckdb_version(), "v1.4", 4) == 0, "%s", lh_engine_duckdb_version());
}
