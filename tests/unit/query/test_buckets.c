/* Tests for datasets in several buckets through the engine: the lake opened from a config
 * that declares a second bucket (on another filesystem where /dev/shm exists), a dataset in
 * each bucket, one SQL query joining them, and the sandbox allowing every bucket's datasets/
 * but no bucket's _catalog/. */
#include <sys/stat.h>

#include "query_test.h"

static char g_dir[64], g_far[64];
static lh_config g_cfg;
static lh_lake *g_lake;

static void setup(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/lhq-bkt-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    struct stat st;
    snprintf(g_far, sizeof g_far, "%s/lhq-far-XXXXXX",
             stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp");
    cr_assert_not_null(mkdtemp(g_far));
    lh_config_init(&g_cfg);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_config_set(&g_cfg, "server.data_dir", g_dir, &err), 0);
    char *list = lh_xasprintf("archive=%s,cold=cold", g_far);
    cr_assert_eq(lh_config_set_buckets(&g_cfg, list, &err), 0, "%s", err.message);
    free(list);
    g_lake = lh_lake_open(&g_cfg, &err);
    cr_assert_not_null(g_lake, "%s", err.message);
}

static void teardown(void) {
    lh_lake_close(g_lake);
    lh_config_release(&g_cfg);
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_remove_tree(g_dir, &err), 0);
    cr_expect_eq(lh_remove_tree(g_far, &err), 0);
}

TestSuite(query_buckets, .init = setup, .fini = teardown, .timeout = 120);

/* Converts csv to Parquet and commits it as dataset name in bucket (NULL = primary). */
static void add_csv(const char *name, const char *bucket, const char *csv) {
    char *src = lh_storage_scratch_path(g_lake->storage, ".csv");
    FILE *f = fopen(src, "wb");
    cr_assert_not_null(f);
    fputs(csv, f);
    fclose(f);
    char *dst = lh_storage_scratch_path(g_lake->storage, ".parquet");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_engine_csv_to_parquet(g_lake->engine, src, NULL, dst, &cols, &ncols, &rows,
                                          &err),
                 0, "%s", err.message);
    lh_add_file af = {.src_path = dst, .move = true, .rows = rows};
    lh_commit_info info = {.source = "cli", .file_name = "t.csv", .bucket = bucket};
    cr_assert_eq(lh_catalog_add_files(g_lake->catalog, name, cols, ncols, &af, 1, &info, NULL,
                                      &err),
                 0, "%s", err.message);
    lh_columns_free(cols, ncols);
    unlink(src);
    free(src);
    free(dst);
}

Test(query_buckets, datasets_of_different_buckets_join) {
    add_csv("customers", NULL, "id,name\n1,ada\n2,bob\n3,cy\n");
    add_csv("orders", "archive", "order_id,customer_id,amount\n10,1,5\n11,1,7\n12,3,2\n");
    add_csv("regions", "cold", "customer_id,region\n1,north\n3,south\n");
    lh_catalog_snap *s = lh_catalog_snapshot(g_lake->catalog);
    cr_expect_str_eq(lh_catalog_snap_find(s, "orders")->bucket, "archive");
    cr_expect_str_eq(lh_catalog_snap_find(s, "regions")->bucket, "cold");
    lh_catalog_snap_unref(s);
    QT_ROWS(g_lake->engine,
            "SELECT c.name, r.region, sum(o.amount) FROM customers c "
            "JOIN orders o ON o.customer_id = c.id JOIN regions r ON r.customer_id = c.id "
            "GROUP BY ALL ORDER BY 1",
            "[[\"ada\",\"north\",12],[\"cy\",\"south\",2]]");
    /* Each bucket's datasets/ is readable; no bucket's _catalog/ is. */
    const char *root = lh_bucket_root(lh_storage_bucket(g_lake->storage, "archive", NULL));
    char *sql = lh_xasprintf("SELECT count(*) FROM read_parquet('%s/datasets/orders/*.parquet')",
                             root);
    QT_ROWS(g_lake->engine, sql, "[[3]]");
    free(sql);
    sql = lh_xasprintf("SELECT * FROM read_text('%s/_catalog/datasets/orders.json')", root);
    QT_FAILS(g_lake->engine, sql, LH_FORBIDDEN);
    free(sql);
    sql = lh_xasprintf("SELECT * FROM glob('%s/.lakehouse-tmp/*')", root);
    QT_FAILS(g_lake->engine, sql, LH_FORBIDDEN);
    free(sql);
}
