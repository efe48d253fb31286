/* Unit tests for src/storage/list.c and lh_bucket_delete: byte-ordered recursive listings,
 * prefix filtering, truncation at max, skipping of non-objects, and pruning of directories
 * a delete leaves empty. */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage.h"

static char g_dir[64];
static lh_storage *g_s;
static lh_bucket *g_b;

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/lh-storage-list-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    lh_err err = LH_ERR_INIT;
    g_s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(g_s, "%s", err.message);
    g_b = lh_storage_bucket(g_s, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(g_b);
}

static void teardown(void)
{
    lh_storage_close(g_s);
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_remove_tree(g_dir, &err), 0, "%s", err.message);
}

static void put(const char *key, const char *value)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(g_b, key, value, strlen(value), &err), 0, "put '%s': %s", key,
                 err.message);
}

static bool path_exists(const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", lh_bucket_root(g_b), rel);
    struct stat st;
    return lstat(p, &st) == 0;
}

/* Lists and joins the keys with ',' for one readable comparison. */
static char *list_keys(const char *prefix, size_t max, bool *truncated)
{
    lh_object_info *infos = NULL;
    size_t n = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_list(g_b, prefix, max, &infos, &n, truncated, &err), 0, "%s",
                 err.message);
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "");
    for (size_t i = 0; i < n; i++) {
        if (i)
            lh_buf_putc(&b, ',');
        lh_buf_puts(&b, infos[i].key);
    }
    lh_object_infos_free(infos, n);
    return lh_buf_detach(&b, NULL);
}

TestSuite(storage_list, .init = setup, .fini = teardown);

Test(storage_list, sorted_by_key_bytes)
{
    /* Deliberately tricky: '.' (0x2e) < '/' (0x2f) < '0' (0x30), and UTF-8 sorts last. */
    const char *keys[] = {"a0", "a/x", "a.txt", "a/b/c", "b", "\xc3\xa9", "a/b.d", "A", "a-"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        put(keys[i], "v");
    bool tr = true;
    char *got = list_keys("", SIZE_MAX, &tr);
    cr_expect_str_eq(got, "A,a-,a.txt,a/b.d,a/b/c,a/x,a0,b,\xc3\xa9");
    cr_expect_not(tr);
    free(got);
    got = list_keys(NULL, SIZE_MAX, &tr);
    cr_expect_str_eq(got, "A,a-,a.txt,a/b.d,a/b/c,a/x,a0,b,\xc3\xa9");
    free(got);
}

Test(storage_list, sizes_and_mtimes)
{
    put("d/one", "1");
    put("d/three", "333");
    lh_object_info *infos;
    size_t n;
    bool tr;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_list(g_b, "d/", 10, &infos, &n, &tr, &err), 0);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(infos[0].key, "d/one");
    cr_expect_eq(infos[0].size, 1);
    cr_expect_str_eq(infos[1].key, "d/three");
    cr_expect_eq(infos[1].size, 3);
    cr_expect_gt(infos[1].mtime_ms, 0);
    lh_object_infos_free(infos, n);
    lh_object_infos_free(NULL, 0);
}

Test(storage_list, prefix_is_any_string)
{
    put("datasets/sales/_delta_log/00000000000000000000.json", "{}");
    put("datasets/sales/part-1.parquet", "p");
    put("datasets/salesx/part-1.parquet", "p");
    put("datasets/other/part-1.parquet", "p");
    put("_catalog/datasets/sales.json", "{}");
    bool tr;
    char *got = list_keys("datasets/sales/", SIZE_MAX, &tr);
    cr_expect_str_eq(got, "datasets/sales/_delta_log/00000000000000000000.json,"
                          "datasets/sales/part-1.parquet");
    free(got);
    got = list_keys("datasets/sales", SIZE_MAX, &tr); /* mid-segment prefix */
    cr_expect_str_eq(got, "datasets/sales/_delta_log/00000000000000000000.json,"
                          "datasets/sales/part-1.parquet,datasets/salesx/part-1.parquet");
    free(got);
    got = list_keys("datasets/sales/part", SIZE_MAX, &tr);
    cr_expect_str_eq(got, "datasets/sales/part-1.parquet");
    free(got);
    got = list_keys("_catalog/datasets/sales.json", SIZE_MAX, &tr); /* exact key */
    cr_expect_str_eq(got, "_catalog/datasets/sales.json");
    free(got);
    got = list_keys("zzz", SIZE_MAX, &tr);
    cr_expect_str_eq(got, "");
    cr_expect_not(tr);
    free(got);
    got = list_keys("../", SIZE_MAX, &tr);
    cr_expect_str_eq(got, "");
    free(got);
}

Test(storage_list, truncates_at_max)
{
    char key[32];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "p/%02d", i);
        put(key, "x");
    }
    bool tr = false;
    char *got = list_keys("p/", 5, &tr);
    cr_expect_str_eq(got, "p/00,p/01,p/02,p/03,p/04");
    cr_expect(tr);
    free(got);
    got = list_keys("p/", 20, &tr);
    cr_expect_not(tr); /* exactly max entries: nothing more exists */
    free(got);
    got = list_keys("p/1", 3, &tr);
    cr_expect_str_eq(got, "p/10,p/11,p/12");
    cr_expect(tr);
    free(got);
    got = list_keys("p/", 0, &tr);
    cr_expect_str_eq(got, "");
    cr_expect(tr);
    free(got);
}

Test(storage_list, skips_non_objects_and_empty_dirs)
{
    put("real", "x");
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/sym", lh_bucket_root(g_b));
    cr_assert_eq(symlink("real", p), 0);
    snprintf(p, sizeof p, "%s/fifo", lh_bucket_root(g_b));
    cr_assert_eq(mkfifo(p, 0600), 0);
    snprintf(p, sizeof p, "%s/empty/dir", lh_bucket_root(g_b));
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_mkdirs(p, &err), 0);
    snprintf(p, sizeof p, "%s/bad\x01name", lh_bucket_root(g_b)); /* not a valid key */
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fclose(f);
    bool tr;
    char *got = list_keys("", 100, &tr);
    cr_expect_str_eq(got, "real");
    free(got);
}

Test(storage_list, delete_prunes_empty_parents)
{
    put("x/y/z/obj", "1");
    put("x/keep", "2");
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_delete(g_b, "x/y/z/obj", &err), 0, "%s", err.message);
    cr_expect_not(path_exists("x/y/z"));
    cr_expect_not(path_exists("x/y"));
    cr_expect(path_exists("x"), "non-empty parent removed");
    cr_assert_eq(lh_bucket_delete(g_b, "x/keep", &err), 0);
    cr_expect_not(path_exists("x"));
    struct stat st;
    cr_expect_eq(stat(lh_bucket_root(g_b), &st), 0, "bucket root removed");
    bool tr;
    char *got = list_keys("", 100, &tr);
    cr_expect_str_eq(got, "");
    free(got);
    /* A put re-creates the pruned directories. */
    put("x/y/z/obj", "3");
    cr_expect(lh_bucket_exists(g_b, "x/y/z/obj"));
}

typedef struct churn_arg {
    const char *key;
    int failures;
    lh_err last;
} churn_arg;

/* Puts and deletes one key in a loop; its parent directories come and go with it. */
static void *churn(void *p)
{
    churn_arg *a = p;
    for (int i = 0; i < 300; i++) {
        lh_err err = LH_ERR_INIT;
        if (lh_bucket_put(g_b, a->key, "v", 1, &err) != 0 ||
            lh_bucket_delete(g_b, a->key, &err) != 0) {
            a->failures++;
            a->last = err;
        }
    }
    return NULL;
}

/* A delete pruning a directory that a concurrent put has just created must not make the
 * put fail: put retries when its parent vanishes between mkdir and rename. */
Test(storage_list, concurrent_put_and_prune, .timeout = 60)
{
    churn_arg a = {.key = "r/s/t/one"}, b = {.key = "r/s/t/two"}, c = {.key = "r/s/three"};
    pthread_t ta, tb, tc;
    cr_assert_eq(pthread_create(&ta, NULL, churn, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, churn, &b), 0);
    cr_assert_eq(pthread_create(&tc, NULL, churn, &c), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(tc, NULL);
    cr_expect_eq(a.failures, 0, "%s", a.last.message);
    cr_expect_eq(b.failures, 0, "%s", b.last.message);
    cr_expect_eq(c.failures, 0, "%s", c.last.message);
    cr_expect_not(path_exists("r"));
}
