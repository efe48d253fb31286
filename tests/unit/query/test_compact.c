/* Tests for src/query/compact.c and the tombstone filter of views.c: tombstoned rows vanish
 * from queries (integer and string keys, NULL keys kept, hostile key text stays data),
 * compaction merges files, drops those rows, clears the batches and deletes the old files. */
#include <dirent.h>

#include "query_test.h"

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

TestSuite(compact, .init = setup, .fini = teardown, .timeout = 120);

static void add_csv(const char *name, const char *csv) {
    char *src = lh_storage_scratch_path(T.storage, ".csv");
    FILE *f = fopen(src, "wb");
    cr_assert_not_null(f);
    fputs(csv, f);
    fclose(f);
    char *dst = lh_storage_scratch_path(T.storage, ".parquet");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_engine_csv_to_parquet(T.engine, src, NULL, dst, &cols, &ncols, &rows, &err),
                 0, "%s", err.message);
    lh_add_file af = {.src_path = dst, .move = true, .rows = rows};
    lh_commit_info info = {.source = "cli"};
    cr_assert_eq(lh_catalog_add_files(T.catalog, name, cols, ncols, &af, 1, &info, NULL, &err),
                 0, "%s", err.message);
    lh_columns_free(cols, ncols);
    unlink(src);
    free(src);
    free(dst);
}

static void tomb(const char *name, const char *col, const char *const *keys, size_t n) {
    lh_err err = LH_ERR_INIT;
    char id[37];
    cr_assert_eq(lh_catalog_add_tombstones(T.catalog, name, col, keys, n, NULL, NULL, id, &err),
                 0, "%s", err.message);
}

static void expect_rows(const char *sql, const char *want) {
    char *got = qt_rows(T.engine, sql);
    cr_expect_str_eq(got, want, "%s", sql);
    free(got);
}

static size_t parquet_files(const char *root) {
    DIR *d = opendir(root);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += lh_str_has_suffix(de->d_name, ".parquet");
    closedir(d);
    return n;
}

Test(compact, views_filter_tombstoned_rows) {
    add_csv("t", "id,code\n1,a\n2,b\n3,c\n,d\n");
    expect_rows("SELECT count(*) FROM t", "[[4]]");
    const char *k[] = {"2", "x') OR true --"};
    tomb("t", "id", k, 2);
    expect_rows("SELECT count(*) FROM t", "[[3]]"); /* the NULL key stays */
    expect_rows("SELECT list(id ORDER BY id) FROM t", "[[[1,3,null]]]");
    add_csv("s", "id,code\n1,a\n2,b\n");
    const char *ks[] = {"b"};
    tomb("s", "code", ks, 1);
    expect_rows("SELECT code FROM s", "[[\"a\"]]");
}

Test(compact, merges_and_drops) {
    add_csv("t", "id,v\n1,10\n2,20\n");
    add_csv("t", "id,v\n3,30\n4,40\n");
    add_csv("t", "id,v\n5,50\n");
    const char *k[] = {"2", "5", "99"};
    tomb("t", "id", k, 3);
    lh_catalog_snap *s = lh_catalog_snapshot(T.catalog);
    char *root = lh_xstrdup(lh_catalog_snap_find(s, "t")->table_root);
    lh_catalog_snap_unref(s);
    cr_expect_eq(parquet_files(root), 3);
    lh_err err = LH_ERR_INIT;
    json_t *doc = lh_engine_compact(T.engine, "t", "bob", &err);
    cr_assert_not_null(doc, "%s", err.message);
    cr_expect_eq(json_integer_value(json_object_get(doc, "files_before")), 3);
    cr_expect_eq(json_integer_value(json_object_get(doc, "files_after")), 1);
    cr_expect_eq(json_integer_value(json_object_get(doc, "rows_before")), 5);
    cr_expect_eq(json_integer_value(json_object_get(doc, "rows_dropped")), 2);
    cr_expect_eq(json_integer_value(json_object_get(doc, "rows_after")), 3);
    cr_expect_eq(json_integer_value(json_object_get(doc, "version")), 3);
    cr_expect_eq(json_integer_value(json_object_get(doc, "tombstones_cleared")), 1);
    json_decref(doc);
    cr_expect_eq(parquet_files(root), 1);
    expect_rows("SELECT list(id ORDER BY id), sum(v) FROM t", "[[[1,3,4],80]]");
    s = lh_catalog_snapshot(T.catalog);
    cr_expect_null(lh_catalog_snap_tombstones(s, "t"));
    cr_expect_eq(lh_catalog_snap_find(s, "t")->row_count, 3);
    lh_catalog_snap_unref(s);
    free(root);

    cr_expect_null(lh_engine_compact(T.engine, "nope", NULL, &err));
    cr_expect_eq(err.code, LH_NOT_FOUND);
}

Test(compact, every_row_tombstoned) {
    add_csv("t", "id,v\n1,10\n");
    add_csv("t", "id,v\n2,20\n");
    const char *k[] = {"1", "2"};
    tomb("t", "id", k, 2);
    lh_err err = LH_ERR_INIT;
    json_t *doc = lh_engine_compact(T.engine, "t", NULL, &err);
    cr_assert_not_null(doc, "%s", err.message);
    cr_expect_eq(json_integer_value(json_object_get(doc, "rows_after")), 0);
    cr_expect_eq(json_integer_value(json_object_get(doc, "files_after")), 0);
    json_decref(doc);
    expect_rows("SELECT count(*) FROM t", "[[0]]");
    add_csv("t", "id,v\n3,30\n");
    expect_rows("SELECT count(*), sum(v) FROM t", "[[1,30]]");
}
