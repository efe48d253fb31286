/* Tests for src/catalog/catalog.c and manifest.c: rebuilding the catalog from the lake at
 * open, manifest repair, trusting the manifest only when it agrees with the log, skipping
 * unreadable tables, handcrafted Delta logs with remove actions, and the orphan sweep. */
#include <sys/time.h>

#include "test_util.h"

static json_t *dataset_json(tcat *t, const char *name)
{
    lh_catalog_snap *s = lh_catalog_snapshot(t->c);
    const lh_dataset *d = lh_catalog_snap_find(s, name);
    json_t *j = d ? lh_dataset_to_json(d, true) : NULL;
    lh_catalog_snap_unref(s);
    /* The age depends on the clock, not on the catalog's state. */
    json_object_del(json_object_get(j, "freshness"), "age_s");
    return j;
}

static void put(tcat *t, const char *key, const char *text)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(tcat_bucket(t), key, text, strlen(text), &err), 0, "%s",
                 err.message);
}

static json_t *manifest(tcat *t, const char *name)
{
    char *key = lh_xasprintf("_catalog/datasets/%s.json", name);
    lh_err err = LH_ERR_INIT;
    size_t len;
    char *text = lh_bucket_read_all(tcat_bucket(t), key, 1 << 20, &len, &err);
    free(key);
    if (!text)
        return NULL;
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    return j;
}

static const lh_column exact_cols[] = {{"id", "UBIGINT"}, {"doc", "JSON"}, {"at", "TIMESTAMP_MS"}};

Test(rebuild, reopen_is_identical)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    tcat_add_ok(&t, "jobs", 5, 1);
    tcat_add_ok(&t, "zeta", 2, 0);
    json_t *before = dataset_json(&t, "jobs");
    json_t *zeta = dataset_json(&t, "zeta");
    tcat_reopen(&t);
    json_t *after = dataset_json(&t, "jobs");
    json_t *zeta2 = dataset_json(&t, "zeta");
    cr_expect(json_equal(before, after), "%s\nvs\n%s", lh_json_dump(before), lh_json_dump(after));
    cr_expect(json_equal(zeta, zeta2));
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_count(s), 2);
    lh_catalog_snap_unref(s);
    json_decref(before);
    json_decref(after);
    json_decref(zeta);
    json_decref(zeta2);
    tcat_fini(&t);
}

Test(rebuild, manifest_deleted_is_rebuilt)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(tcat_add(&t, t.c, "ev", exact_cols, 3, 4, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(tcat_add(&t, t.c, "ev", exact_cols, 3, 6, NULL, &err), 0, "%s", err.message);
    json_t *before = dataset_json(&t, "ev");
    cr_assert_eq(lh_bucket_delete(tcat_bucket(&t), "_catalog/datasets/ev.json", &err), 0);
    tcat_reopen(&t);
    /* Without the manifest the types come from the Delta schema (lossy but sound). */
    json_t *after = dataset_json(&t, "ev");
    cr_assert_not_null(after);
    cr_expect_eq(json_integer_value(json_object_get(after, "row_count")), 10);
    cr_expect_eq(json_integer_value(json_object_get(after, "version")), 1);
    cr_expect_eq(json_array_size(json_object_get(after, "history")), 2);
    json_t *c0 = json_array_get(json_object_get(after, "columns"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(c0, "type")), "DECIMAL(20,0)");
    cr_expect_str_eq(json_string_value(json_object_get(after, "created_at")),
                     json_string_value(json_object_get(before, "created_at")));
    json_t *man = manifest(&t, "ev");
    cr_assert_not_null(man, "manifest rewritten");
    cr_expect_eq(json_integer_value(json_object_get(man, "version")), 1);
    cr_expect_eq(json_array_size(json_object_get(man, "history")), 2);
    json_decref(man);
    json_decref(before);
    json_decref(after);
    tcat_fini(&t);
}

Test(rebuild, manifest_behind_is_rewritten)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(tcat_add(&t, t.c, "ev", exact_cols, 3, 4, NULL, &err), 0, "%s", err.message);
    json_t *old_man = manifest(&t, "ev");
    char *old_text = json_dumps(old_man, 0);
    cr_assert_eq(tcat_add(&t, t.c, "ev", exact_cols, 3, 6, NULL, &err), 0, "%s", err.message);
    json_t *before = dataset_json(&t, "ev");
    put(&t, "_catalog/datasets/ev.json", old_text); /* as if we crashed before writing it */
    tcat_reopen(&t);
    json_t *after = dataset_json(&t, "ev");
    /* Exact types survive (same schema), and the rest comes from the log. */
    cr_expect(json_equal(before, after), "%s\nvs\n%s", lh_json_dump(before), lh_json_dump(after));
    json_t *man = manifest(&t, "ev");
    cr_expect_eq(json_integer_value(json_object_get(man, "version")), 1);
    cr_expect_eq(json_integer_value(json_object_get(man, "row_count")), 10);
    json_decref(man);
    json_decref(old_man);
    free(old_text);
    json_decref(before);
    json_decref(after);
    tcat_fini(&t);
}

Test(rebuild, lying_manifest_is_ignored)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    json_t *man = manifest(&t, "jobs");
    /* Types that do not describe the log's schema, with a matching fingerprint. */
    json_t *cols = json_object_get(man, "columns");
    json_object_set_new(json_array_get(cols, 2), "type", json_string("DOUBLE"));
    lh_column lie[] = {{"id", "BIGINT"}, {"name", "VARCHAR"}, {"salary", "DOUBLE"}};
    char fp[65];
    lh_buf b;
    lh_buf_init(&b);
    for (size_t i = 0; i < 3; i++)
        lh_buf_printf(&b, "%s\t%s\n", lie[i].name, lie[i].type);
    lh_sha256_hex(b.data, b.len, fp);
    lh_buf_release(&b);
    json_object_set_new(man, "fingerprint", json_string(fp));
    char *text = json_dumps(man, 0);
    put(&t, "_catalog/datasets/jobs.json", text);
    free(text);
    json_decref(man);
    tcat_reopen(&t);
    json_t *d = dataset_json(&t, "jobs");
    json_t *c2 = json_array_get(json_object_get(d, "columns"), 2);
    cr_expect_str_eq(json_string_value(json_object_get(c2, "type")), "BIGINT");
    json_decref(d);
    /* And a manifest that is not JSON at all. */
    put(&t, "_catalog/datasets/jobs.json", "{not json");
    tcat_reopen(&t);
    d = dataset_json(&t, "jobs");
    cr_assert_not_null(d);
    cr_expect_eq(json_integer_value(json_object_get(d, "row_count")), 10);
    json_decref(d);
    man = manifest(&t, "jobs");
    cr_expect_not_null(man, "malformed manifest rewritten");
    json_decref(man);
    tcat_fini(&t);
}

Test(rebuild, unreadable_log_is_skipped)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "good", 1, 0);
    put(&t, "datasets/bad/_delta_log/00000000000000000000.json", "{\"add\": oops\n");
    put(&t, "datasets/nov0/_delta_log/00000000000000000003.json", "{}\n");
    put(&t, "datasets/bad/part-00000000-0000-0000-0000-000000000000.parquet", "x");
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_count(s), 1);
    cr_expect_not_null(lh_catalog_snap_find(s, "good"));
    lh_catalog_snap_unref(s);
    /* Committing to a name whose log exists but cannot be read fails cleanly. */
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(tcat_add(&t, t.c, "bad", tcat_cols, 3, 1, NULL, &err), -1);
    cr_expect_neq(err.code, LH_OK);
    cr_expect_eq(tcat_count(&t, "datasets/bad/part-"), 1);
    tcat_fini(&t);
}

/* A log another Delta writer could have made: a remove, stats without numRecords, a gap. */
Test(rebuild, foreign_log_with_removes)
{
    tcat t;
    tcat_init(&t);
    put(&t, "datasets/ext/_delta_log/00000000000000000000.json",
        "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
        "{\"metaData\":{\"id\":\"11111111-2222-3333-4444-555555555555\",\"format\":{"
        "\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\","
        "\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,"
        "\\\"metadata\\\":{}},{\\\"name\\\":\\\"t\\\",\\\"type\\\":\\\"timestamp\\\","
        "\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],"
        "\"configuration\":{},\"createdTime\":1700000000000}}\n"
        "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{},\"size\":10,"
        "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":3}\"}}\n"
        "{\"add\":{\"path\":\"b.parquet\",\"partitionValues\":{},\"size\":20,"
        "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":4}\"}}\n");
    put(&t, "datasets/ext/_delta_log/00000000000000000001.json",
        "{\"commitInfo\":{\"timestamp\":1700000001000,\"operation\":\"OPTIMIZE\"}}\n"
        "{\"remove\":{\"path\":\"a.parquet\",\"dataChange\":false}}\n"
        "{\"remove\":{\"path\":\"b.parquet\",\"dataChange\":false}}\n"
        "{\"add\":{\"path\":\"c.parquet\",\"partitionValues\":{},\"size\":30,"
        "\"modificationTime\":2,\"dataChange\":false,\"stats\":\"{\\\"numRecords\\\":7}\"}}\n"
        "{\"add\":{\"path\":\"d.parquet\",\"partitionValues\":{},\"size\":5,"
        "\"modificationTime\":2,\"dataChange\":true}}\n");
    /* Version 3 without version 2: replay stops at the gap. */
    put(&t, "datasets/ext/_delta_log/00000000000000000003.json",
        "{\"add\":{\"path\":\"e.parquet\",\"size\":5,\"stats\":\"{\\\"numRecords\\\":100}\"}}\n");
    put(&t, "datasets/ext/_delta_log/_last_checkpoint", "{}");
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "ext");
    cr_assert_not_null(d);
    cr_expect_eq(d->version, 1);
    cr_expect_eq(d->nfiles, 2);
    cr_expect_str_eq(d->files[0].path, "c.parquet");
    cr_expect_str_eq(d->files[1].path, "d.parquet");
    cr_expect_eq(d->files[1].rows, -1);
    cr_expect_eq(d->row_count, 7);
    cr_expect_str_eq(d->columns[1].type, "TIMESTAMP WITH TIME ZONE");
    cr_expect_str_eq(d->table_id, "11111111-2222-3333-4444-555555555555");
    cr_expect_eq(d->created_ms, 1700000000000LL);
    cr_expect_eq(d->updated_ms, 1700000001000LL);
    cr_expect_str_eq(d->history[1].operation, "OPTIMIZE");
    cr_expect_str_eq(d->source, "external");
    lh_catalog_snap_unref(s);
    /* Appending continues the log at version 2 with the table's schema. */
    lh_column cols[] = {{"x", "BIGINT"}, {"t", "TIMESTAMP WITH TIME ZONE"}};
    lh_err err = LH_ERR_INIT;
    int64_t v = -1;
    cr_assert_eq(tcat_add(&t, t.c, "ext", cols, 2, 1, &v, &err), 0, "%s", err.message);
    cr_expect_eq(v, 2);
    tcat_fini(&t);
}

static void age_file(tcat *t, const char *key, int64_t age_s)
{
    char *path = lh_bucket_path(tcat_bucket(t), key);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    cr_assert_eq(utimes(path, tv), 0, "%s", path);
    free(path);
}

Test(rebuild, orphan_sweep)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    const char *old_orphan = "datasets/jobs/part-aaaaaaaa-0000-0000-0000-000000000000.parquet";
    const char *new_orphan = "datasets/jobs/part-bbbbbbbb-0000-0000-0000-000000000000.parquet";
    const char *lone = "datasets/nolog/part-cccccccc-0000-0000-0000-000000000000.parquet";
    const char *other = "datasets/jobs/notes.txt";
    put(&t, old_orphan, "x");
    put(&t, new_orphan, "x");
    put(&t, lone, "x");
    put(&t, other, "x");
    age_file(&t, old_orphan, 2 * 3600);
    age_file(&t, lone, 2 * 3600);
    age_file(&t, other, 2 * 3600);
    /* The committed file is old too, but referenced. */
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    char *live = lh_xasprintf("datasets/jobs/%s", lh_catalog_snap_find(s, "jobs")->files[0].path);
    lh_catalog_snap_unref(s);
    age_file(&t, live, 2 * 3600);
    tcat_reopen(&t);
    lh_bucket *b = tcat_bucket(&t);
    cr_expect_not(lh_bucket_exists(b, old_orphan));
    cr_expect_not(lh_bucket_exists(b, lone));
    cr_expect(lh_bucket_exists(b, new_orphan));
    cr_expect(lh_bucket_exists(b, other));
    cr_expect(lh_bucket_exists(b, live));
    free(live);
    s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_find(s, "jobs")->row_count, 10);
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}
