/* lh_catalog_migrate_buckets: legacy manifests (format 1, no "bucket") get the bucket they
 * were found in, atomically and idempotently; current and malformed ones are left alone. */
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

/* Puts the checked-in v1 table (log + manifest) as dataset name in bucket b; when
 * drop_bucket, the manifest's "bucket" member is removed first (an even older file). */
static void put_v1(lh_bucket *b, const char *name, bool drop_bucket)
{
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *path = lh_xasprintf("%s/../unit/catalog/data/v1_manifest/00000000000000000000.json",
                              LH_TEST_FIXTURES);
    char *text = lh_file_read_all(path, 1 << 20, &len, &err);
    cr_assert_not_null(text, "%s: %s", path, err.message);
    char *key = lh_xasprintf("datasets/%s/_delta_log/00000000000000000000.json", name);
    cr_assert_eq(lh_bucket_put(b, key, text, len, &err), 0, "%s", err.message);
    free(key);
    free(text);
    free(path);
    path = lh_xasprintf("%s/../unit/catalog/data/v1_manifest/orders.json", LH_TEST_FIXTURES);
    text = lh_file_read_all(path, 1 << 20, &len, &err);
    cr_assert_not_null(text);
    json_t *m = lh_json_parse(text, len, &err);
    cr_assert_not_null(m);
    cr_assert_eq(json_integer_value(json_object_get(m, "format_version")), 1);
    json_object_set_new(m, "name", json_string(name));
    if (drop_bucket)
        json_object_del(m, "bucket");
    char *out = json_dumps(m, JSON_INDENT(2));
    key = lh_xasprintf("_catalog/datasets/%s.json", name);
    cr_assert_eq(lh_bucket_put(b, key, out, strlen(out), &err), 0, "%s", err.message);
    free(key);
    free(out);
    json_decref(m);
    free(text);
    free(path);
}

static json_t *read_manifest(lh_bucket *b, const char *name)
{
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *key = lh_xasprintf("_catalog/datasets/%s.json", name);
    char *text = lh_bucket_read_all(b, key, 1 << 20, &len, &err);
    cr_assert_not_null(text, "%s: %s", key, err.message);
    json_t *m = lh_json_parse(text, len, &err);
    cr_assert_not_null(m);
    free(text);
    free(key);
    return m;
}

static bool has_name(const json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), name) == 0) return true;
    return false;
}

Test(migrate, stamps_legacy_manifests_in_their_bucket)
{
    tcat t;
    snprintf(t.dir, sizeof t.dir, "/tmp/lh-cat-XXXXXX");
    cr_assert_not_null(mkdtemp(t.dir));
    char *cold_dir = lh_xasprintf("%s/buckets/cold", t.dir);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_mkdirs(cold_dir, &err), 0);
    free(cold_dir);
    t.s = lh_storage_open(t.dir, &err);
    cr_assert_not_null(t.s, "%s", err.message);
    lh_bucket *prim = lh_storage_bucket(t.s, LH_BUCKET_PRIMARY, &err);
    lh_bucket *cold = lh_storage_bucket(t.s, "cold", &err);
    cr_assert_not_null(prim);
    cr_assert_not_null(cold, "discovered bucket: %s", err.message);
    put_v1(prim, "orders", false); /* format 1, bucket present */
    put_v1(cold, "old_orders", true); /* format 1, no bucket at all */
    /* A junk file beside the manifests is skipped, not fatal. */
    cr_assert_eq(lh_bucket_put(prim, "_catalog/datasets/broken.json", "{nope", 5, &err), 0);
    tcat_open_catalog(&t);
    tcat_add_ok(&t, "fresh", 2, 0); /* a current (format 2) manifest */

    json_t *r = lh_catalog_migrate_buckets(t.c, &err);
    cr_assert_not_null(r, "%s", err.message);
    cr_expect_eq(json_integer_value(json_object_get(r, "checked")), 4);
    json_t *mig = json_object_get(r, "migrated");
    cr_expect_eq(json_array_size(mig), 2);
    cr_expect(has_name(mig, "orders"));
    cr_expect(has_name(mig, "old_orders"));
    json_t *skipped = json_object_get(r, "skipped");
    cr_assert_eq(json_array_size(skipped), 1);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(skipped, 0), "name")),
                     "broken");
    json_decref(r);

    json_t *m = read_manifest(cold, "old_orders");
    cr_expect_str_eq(json_string_value(json_object_get(m, "bucket")), "cold");
    cr_expect_eq(json_integer_value(json_object_get(m, "format_version")), 2);
    /* Everything else is kept as it was. */
    cr_expect_eq(json_integer_value(json_object_get(m, "row_count")), 3);
    cr_expect_str_eq(json_string_value(json_object_get(m, "table_id")),
                     "3b0c6c1e-5f7a-4d2e-9a51-2f0d8e4c7a10");
    cr_expect_eq(json_array_size(json_object_get(m, "history")), 1);
    json_decref(m);
    m = read_manifest(prim, "orders");
    cr_expect_str_eq(json_string_value(json_object_get(m, "bucket")), "primary");
    json_decref(m);
    /* No temp file left behind next to the manifests. */
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool trunc = false;
    cr_assert_eq(lh_bucket_list(cold, "_catalog/", 100, &objs, &n, &trunc, &err), 0);
    cr_expect_eq(n, 1);
    lh_object_infos_free(objs, n);

    /* Idempotent: a second run checks the same files and migrates none. */
    r = lh_catalog_migrate_buckets(t.c, &err);
    cr_assert_not_null(r, "%s", err.message);
    cr_expect_eq(json_integer_value(json_object_get(r, "checked")), 4);
    cr_expect_eq(json_array_size(json_object_get(r, "migrated")), 0);
    json_decref(r);

    /* The stamped tables still load after a restart, with their exact old types. */
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "old_orders");
    cr_assert_not_null(d);
    cr_expect_str_eq(d->bucket, "cold");
    cr_expect_eq(d->row_count, 3);
    cr_expect_str_eq(d->columns[2].type, "UINTEGER");
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

Test(migrate, empty_lake_checks_nothing)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    json_t *r = lh_catalog_migrate_buckets(t.c, &err);
    cr_assert_not_null(r, "%s", err.message);
    cr_expect_eq(json_integer_value(json_object_get(r, "checked")), 0);
    cr_expect_eq(json_array_size(json_object_get(r, "migrated")), 0);
    json_decref(r);
    tcat_fini(&t);
}

/* A manifest that cannot be read (here: past the 16 MiB ceiling, a sparse file) fails the
 * call with an error naming the file and its bucket; nothing is rewritten. */
Test(migrate, unreadable_manifest_is_an_error_naming_it)
{
    tcat t;
    tcat_init(&t);
    put_v1(tcat_bucket(&t), "orders", true);
    char *p = lh_xasprintf("%s/buckets/primary/_catalog/datasets/orders.json", t.dir);
    cr_assert_eq(truncate(p, (off_t)17 << 20), 0);
    lh_err err = LH_ERR_INIT;
    json_t *r = lh_catalog_migrate_buckets(t.c, &err);
    cr_expect_null(r);
    cr_expect_eq(err.code, LH_TOO_LARGE);
    cr_expect(strstr(err.message, "_catalog/datasets/orders.json") != NULL, "%s", err.message);
    cr_expect(strstr(err.message, "'primary'") != NULL, "%s", err.message);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_size, (off_t)17 << 20, "left alone");
    free(p);
    tcat_fini(&t);
}
