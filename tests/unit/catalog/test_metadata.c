/* Tests for src/catalog/metadata.c, the metadata parts of manifest.c and dataset_json.c, and
 * content_index.c: PII flags stored and merged, lh_catalog_patch_metadata (validation,
 * persistence, snapshots, concurrency with commits), lineage in the log and history, the
 * content index, and an old (format 1) manifest that still loads. */
#include <pthread.h>

#include "test_util.h"

#define H1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
#define H2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"
#define H3 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static json_t *dataset_json(lh_catalog *c, const char *name)
{
    lh_catalog_snap *s = lh_catalog_snapshot(c);
    const lh_dataset *d = lh_catalog_snap_find(s, name);
    json_t *j = d ? lh_dataset_to_json(d, true) : NULL;
    lh_catalog_snap_unref(s);
    return j;
}

static json_t *col_json(json_t *ds, const char *name)
{
    json_t *cols = json_object_get(ds, "columns");
    for (size_t i = 0; i < json_array_size(cols); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(cols, i), "name")), name) ==
            0)
            return json_array_get(cols, i);
    return NULL;
}

static void patch_ok(tcat *t, const char *name, const char *patch)
{
    json_t *p = json_loads(patch, 0, NULL);
    cr_assert_not_null(p, "bad test JSON: %s", patch);
    lh_err err = LH_ERR_INIT;
    int rc = lh_catalog_patch_metadata(t->c, name, p, &err);
    json_decref(p);
    cr_assert_eq(rc, 0, "patch %s: %s", patch, err.message);
}

/* The patch fails with code, and its message mentions `needle`. */
static void patch_fails(tcat *t, const char *name, const char *patch, lh_code code,
                        const char *needle)
{
    json_t *p = json_loads(patch, JSON_DECODE_ANY, NULL);
    cr_assert_not_null(p, "bad test JSON: %s", patch);
    lh_err err = LH_ERR_INIT;
    int rc = lh_catalog_patch_metadata(t->c, name, p, &err);
    json_decref(p);
    cr_expect_eq(rc, -1, "patch %s should fail", patch);
    cr_expect_eq(err.code, code, "patch %s: code %s (%s)", patch, lh_code_name(err.code),
                 err.message);
    cr_expect(strstr(err.message, needle) != NULL, "patch %s: '%s' lacks '%s'", patch,
              err.message, needle);
}

Test(metadata, columns_dup_and_free)
{
    lh_column src[] = {{.name = "email", .type = "VARCHAR", .description = "contact",
                        .pii = "email", .sensitive = true},
                       {.name = "id", .type = "BIGINT"}};
    lh_column *d = lh_columns_dup(src, 2);
    cr_assert_not_null(d);
    cr_expect_str_eq(d[0].description, "contact");
    cr_expect_str_eq(d[0].pii, "email");
    cr_expect(d[0].sensitive);
    cr_expect(d[0].pii != src[0].pii, "deep copy");
    cr_expect_null(d[1].description);
    cr_expect_null(d[1].pii);
    cr_expect_not(d[1].sensitive);
    lh_columns_free(d, 2);
    lh_columns_free(NULL, 3);
    cr_expect_null(lh_columns_dup(src, 0));
}

Test(metadata, pii_stored_then_merged)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    lh_column first[] = {{.name = "id", .type = "BIGINT"},
                         {.name = "email", .type = "VARCHAR", .pii = "email", .sensitive = true},
                         {.name = "who", .type = "VARCHAR"}};
    lh_commit_info info = {.source = "upload"};
    cr_assert_eq(tcat_add_info(&t, t.c, "people", first, 3, 5, &info, NULL, &err), 0, "%s",
                 err.message);
    json_t *d = dataset_json(t.c, "people");
    cr_expect_str_eq(json_string_value(json_object_get(col_json(d, "email"), "pii")), "email");
    cr_expect(json_is_true(json_object_get(col_json(d, "email"), "sensitive")));
    cr_expect(json_is_null(json_object_get(col_json(d, "who"), "pii")));
    cr_expect(json_is_false(json_object_get(col_json(d, "who"), "sensitive")));
    json_decref(d);

    /* Append: email is not detected this time (keeps its flags), who is found now. */
    lh_column second[] = {{.name = "id", .type = "BIGINT"},
                          {.name = "email", .type = "VARCHAR"},
                          {.name = "who", .type = "VARCHAR", .pii = "person_name",
                           .sensitive = true}};
    cr_assert_eq(tcat_add_info(&t, t.c, "people", second, 3, 2, &info, NULL, &err), 0, "%s",
                 err.message);
    d = dataset_json(t.c, "people");
    cr_expect_str_eq(json_string_value(json_object_get(col_json(d, "email"), "pii")), "email");
    cr_expect(json_is_true(json_object_get(col_json(d, "email"), "sensitive")));
    cr_expect_str_eq(json_string_value(json_object_get(col_json(d, "who"), "pii")),
                     "person_name");
    cr_expect(json_is_true(json_object_get(col_json(d, "who"), "sensitive")));
    json_decref(d);

    /* A person says email is not sensitive: later detection must not override that. */
    patch_ok(&t, "people", "{\"columns\": {\"email\": {\"sensitive\": false}}}");
    lh_column third[] = {{.name = "id", .type = "BIGINT"},
                         {.name = "email", .type = "VARCHAR", .pii = "email", .sensitive = true},
                         {.name = "who", .type = "VARCHAR"}};
    cr_assert_eq(tcat_add_info(&t, t.c, "people", third, 3, 1, &info, NULL, &err), 0, "%s",
                 err.message);
    d = dataset_json(t.c, "people");
    cr_expect(json_is_false(json_object_get(col_json(d, "email"), "sensitive")));
    cr_expect_str_eq(json_string_value(json_object_get(col_json(d, "email"), "pii")), "email");
    json_decref(d);
    json_t *man = tcat_manifest(&t, "people");
    json_t *mc = json_array_get(json_object_get(man, "columns"), 1);
    cr_expect(json_is_true(json_object_get(mc, "sensitive_set_by_user")));
    cr_expect(json_is_false(json_object_get(mc, "sensitive")));
    cr_expect_null(json_object_get(json_array_get(json_object_get(man, "columns"), 2),
                                   "sensitive_set_by_user"));
    json_decref(man);

    /* ... also after a restart (the marker lives in the manifest). */
    tcat_reopen(&t);
    cr_assert_eq(tcat_add_info(&t, t.c, "people", third, 3, 1, &info, NULL, &err), 0, "%s",
                 err.message);
    d = dataset_json(t.c, "people");
    cr_expect(json_is_false(json_object_get(col_json(d, "email"), "sensitive")));
    cr_expect(json_is_true(json_object_get(col_json(d, "who"), "sensitive")));
    json_decref(d);

    /* null hands the column back to detection. */
    patch_ok(&t, "people", "{\"columns\": {\"email\": {\"sensitive\": null}}}");
    d = dataset_json(t.c, "people");
    cr_expect(json_is_true(json_object_get(col_json(d, "email"), "sensitive")));
    json_decref(d);
    tcat_fini(&t);
}

Test(metadata, patch_roundtrip_persists_and_survives_appends)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    uint64_t g0 = lh_catalog_generation(t.c);
    lh_catalog_snap *before = lh_catalog_snapshot(t.c);
    patch_ok(&t, "jobs",
             "{\"description\": \"Open positions\", \"owner\": \"hr@example.com\", "
             "\"sensitivity\": \"confidential\", \"tags\": [\"hr\", \"daily\", \"hr\"], "
             "\"freshness\": {\"max_age_s\": 86400}, "
             "\"columns\": {\"salary\": {\"description\": \"gross, EUR\", \"sensitive\": true}}}");
    cr_expect_eq(lh_catalog_generation(t.c), g0 + 1);
    /* The old snapshot is unchanged. */
    const lh_dataset *old = lh_catalog_snap_find(before, "jobs");
    cr_expect_null(old->description);
    cr_expect_eq(old->ntags, 0);
    lh_catalog_snap_unref(before);

    json_t *d = dataset_json(t.c, "jobs");
    cr_expect_str_eq(json_string_value(json_object_get(d, "description")), "Open positions");
    cr_expect_str_eq(json_string_value(json_object_get(d, "owner")), "hr@example.com");
    cr_expect_str_eq(json_string_value(json_object_get(d, "sensitivity")), "confidential");
    json_t *tags = json_object_get(d, "tags");
    cr_expect_eq(json_array_size(tags), 2, "duplicates dropped");
    cr_expect_str_eq(json_string_value(json_array_get(tags, 1)), "daily");
    json_t *fr = json_object_get(d, "freshness");
    cr_expect_eq(json_integer_value(json_object_get(fr, "max_age_s")), 86400);
    cr_expect_str_eq(json_string_value(json_object_get(fr, "status")), "fresh");
    cr_expect(json_integer_value(json_object_get(fr, "age_s")) >= 0);
    json_t *sal = col_json(d, "salary");
    cr_expect_str_eq(json_string_value(json_object_get(sal, "description")), "gross, EUR");
    cr_expect(json_is_true(json_object_get(sal, "sensitive")));
    json_decref(d);

    /* Persisted: in the manifest, across an append, and across a restart. */
    json_t *man = tcat_manifest(&t, "jobs");
    cr_expect_str_eq(json_string_value(json_object_get(man, "owner")), "hr@example.com");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(man, "freshness"),
                                                    "max_age_s")), 86400);
    json_decref(man);
    tcat_add_ok(&t, "jobs", 5, 1);
    man = tcat_manifest(&t, "jobs");
    cr_expect_eq(json_integer_value(json_object_get(man, "version")), 1);
    cr_expect_str_eq(json_string_value(json_object_get(man, "description")), "Open positions");
    cr_expect_eq(json_array_size(json_object_get(man, "tags")), 2);
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(man, "columns"), 2), "description")),
                     "gross, EUR");
    json_decref(man);
    tcat_reopen(&t);
    tcat_add_ok(&t, "jobs", 1, 2);
    tcat_reopen(&t);
    d = dataset_json(t.c, "jobs");
    cr_expect_str_eq(json_string_value(json_object_get(d, "sensitivity")), "confidential");
    cr_expect_str_eq(json_string_value(json_object_get(d, "owner")), "hr@example.com");
    cr_expect_eq(json_array_size(json_object_get(d, "tags")), 2);
    cr_expect_str_eq(json_string_value(json_object_get(col_json(d, "salary"), "description")),
                     "gross, EUR");
    cr_expect_eq(json_integer_value(json_object_get(d, "row_count")), 16);
    json_decref(d);

    /* Keys not in a patch stay; null clears. */
    patch_ok(&t, "jobs", "{\"owner\": \"ops\"}");
    patch_ok(&t, "jobs", "{\"description\": null, \"tags\": null, \"freshness\": null, "
                         "\"columns\": {\"salary\": {\"description\": null}}}");
    d = dataset_json(t.c, "jobs");
    cr_expect_str_eq(json_string_value(json_object_get(d, "owner")), "ops");
    cr_expect_str_eq(json_string_value(json_object_get(d, "sensitivity")), "confidential");
    cr_expect(json_is_null(json_object_get(d, "description")));
    cr_expect_eq(json_array_size(json_object_get(d, "tags")), 0);
    fr = json_object_get(d, "freshness");
    cr_expect(json_is_null(json_object_get(fr, "max_age_s")));
    cr_expect_str_eq(json_string_value(json_object_get(fr, "status")), "unknown");
    cr_expect(json_is_null(json_object_get(col_json(d, "salary"), "description")));
    cr_expect(json_is_true(json_object_get(col_json(d, "salary"), "sensitive")));
    json_decref(d);
    tcat_fini(&t);
}

Test(metadata, freshness_status)
{
    lh_column cols[] = {{.name = "id", .type = "BIGINT"}};
    lh_dataset d = {.name = "f", .bucket = "primary", .columns = cols, .ncolumns = 1,
                    .freshness_max_age_s = 60};
    d.updated_ms = lh_now_ms() - 3600 * 1000;
    json_t *j = lh_dataset_to_json(&d, false);
    json_t *fr = json_object_get(j, "freshness");
    cr_expect_str_eq(json_string_value(json_object_get(fr, "status")), "stale");
    cr_expect(json_integer_value(json_object_get(fr, "age_s")) >= 3600);
    json_decref(j);
    d.updated_ms = lh_now_ms() - 10 * 1000;
    j = lh_dataset_to_json(&d, false);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "freshness"),
                                                       "status")), "fresh");
    json_decref(j);
    d.freshness_max_age_s = 0;
    j = lh_dataset_to_json(&d, false);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "freshness"),
                                                       "status")), "unknown");
    json_decref(j);
}

Test(metadata, patch_validation)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    patch_ok(&t, "jobs", "{\"owner\": \"kept\"}");
    uint64_t g = lh_catalog_generation(t.c);
    json_t *man_before = tcat_manifest(&t, "jobs");

    patch_fails(&t, "jobs", "{\"owner\": \"x\", \"colour\": 1, \"size\": 2}",
                LH_INVALID_ARGUMENT, "'colour', 'size'");
    patch_fails(&t, "jobs", "{\"sensitivity\": \"secret\"}", LH_INVALID_ARGUMENT,
                "sensitivity");
    patch_fails(&t, "jobs", "{\"sensitivity\": 3}", LH_INVALID_ARGUMENT, "sensitivity");
    patch_fails(&t, "jobs", "{\"description\": 3}", LH_INVALID_ARGUMENT, "description");
    patch_fails(&t, "jobs", "{\"owner\": [\"a\"]}", LH_INVALID_ARGUMENT, "owner");
    patch_fails(&t, "jobs", "{\"tags\": \"hr\"}", LH_INVALID_ARGUMENT, "tags");
    patch_fails(&t, "jobs", "{\"tags\": [\"ok\", 5]}", LH_INVALID_ARGUMENT, "tags[1]");
    patch_fails(&t, "jobs", "{\"tags\": [\"\"]}", LH_INVALID_ARGUMENT, "tags[0]");
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "{\"tags\": [");
    for (int i = 0; i < 65; i++)
        lh_buf_printf(&b, "%s\"t%d\"", i ? "," : "", i);
    lh_buf_puts(&b, "]}");
    patch_fails(&t, "jobs", b.data, LH_INVALID_ARGUMENT, "at most 64");
    lh_buf_release(&b);
    char longtag[100];
    memset(longtag, 'x', 65);
    longtag[65] = '\0';
    char *p = lh_xasprintf("{\"tags\": [\"%s\"]}", longtag);
    patch_fails(&t, "jobs", p, LH_INVALID_ARGUMENT, "longer than 64");
    free(p);
    /* 64 characters of 2 bytes each is within the limit (characters, not bytes). */
    lh_buf_init(&b);
    lh_buf_puts(&b, "{\"tags\": [\"");
    for (int i = 0; i < 64; i++)
        lh_buf_puts(&b, "\xc3\xa9");
    lh_buf_puts(&b, "\"]}");
    json_t *ok = json_loads(b.data, 0, NULL);
    lh_buf_release(&b);
    cr_assert_not_null(ok);
    json_t *bad_patches[] = {json_pack("{s:{s:i}}", "freshness", "max_age_s", 0),
                             json_pack("{s:{s:i}}", "freshness", "max_age_s", -5),
                             json_pack("{s:{s:s}}", "freshness", "max_age_s", "1d"),
                             json_pack("{s:{s:f}}", "freshness", "max_age_s", 1.5),
                             json_pack("{s:{s:i}}", "freshness", "every", 5),
                             json_pack("{s:i}", "freshness", 5)};
    for (size_t i = 0; i < LH_ARRAY_LEN(bad_patches); i++) {
        lh_err err = LH_ERR_INIT;
        cr_expect_eq(lh_catalog_patch_metadata(t.c, "jobs", bad_patches[i], &err), -1);
        cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
        cr_expect(strstr(err.message, "freshness") != NULL, "%s", err.message);
        json_decref(bad_patches[i]);
    }
    patch_fails(&t, "jobs", "{\"columns\": {\"nope\": {\"description\": \"x\"}}}",
                LH_INVALID_ARGUMENT, "'nope'");
    /* A known column next to an unknown one changes nothing either. */
    patch_fails(&t, "jobs", "{\"columns\": {\"id\": {\"description\": \"x\"}, \"nope\": {}}}",
                LH_INVALID_ARGUMENT, "'nope'");
    patch_fails(&t, "jobs", "{\"columns\": {\"id\": {\"pii\": \"ssn\"}}}", LH_INVALID_ARGUMENT,
                "'pii'");
    patch_fails(&t, "jobs", "{\"columns\": {\"id\": {\"sensitive\": \"yes\"}}}",
                LH_INVALID_ARGUMENT, "sensitive");
    patch_fails(&t, "jobs", "{\"columns\": {\"id\": \"x\"}}", LH_INVALID_ARGUMENT, "columns.id");
    patch_fails(&t, "jobs", "{\"columns\": [1]}", LH_INVALID_ARGUMENT, "columns");
    patch_fails(&t, "jobs", "[1, 2]", LH_INVALID_ARGUMENT, "object");
    patch_fails(&t, "ghost", "{\"owner\": \"x\"}", LH_NOT_FOUND, "ghost");
    patch_fails(&t, "Bad Name", "{}", LH_NOT_FOUND, "Bad Name");
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_catalog_patch_metadata(t.c, "jobs", NULL, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);

    /* Nothing above changed anything. */
    cr_expect_eq(lh_catalog_generation(t.c), g);
    json_t *man_after = tcat_manifest(&t, "jobs");
    cr_expect(json_equal(man_before, man_after));
    json_t *d = dataset_json(t.c, "jobs");
    cr_expect_str_eq(json_string_value(json_object_get(d, "owner")), "kept");
    cr_expect(json_is_null(json_object_get(col_json(d, "id"), "description")));
    json_decref(d);
    json_decref(man_before);
    json_decref(man_after);

    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_catalog_patch_metadata(t.c, "jobs", ok, &err), 0, "%s", err.message);
    json_decref(ok);
    tcat_fini(&t);
}

Test(metadata, old_manifest_loads_with_defaults)
{
    tcat t;
    tcat_init(&t);
    static const char *const files[][2] = {
        {"00000000000000000000.json", "datasets/orders/_delta_log/00000000000000000000.json"},
        {"orders.json", "_catalog/datasets/orders.json"}};
    for (size_t i = 0; i < LH_ARRAY_LEN(files); i++) {
        char *path = lh_xasprintf("%s/../unit/catalog/data/v1_manifest/%s", LH_TEST_FIXTURES,
                                  files[i][0]);
        lh_err err = LH_ERR_INIT;
        size_t len = 0;
        char *text = lh_file_read_all(path, 1 << 20, &len, &err);
        cr_assert_not_null(text, "%s: %s", path, err.message);
        cr_assert_eq(lh_bucket_put(tcat_bucket(&t), files[i][1], text, len, &err), 0);
        free(text);
        free(path);
    }
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "orders");
    cr_assert_not_null(d, "old table loads");
    cr_expect_eq(d->row_count, 3);
    cr_expect_str_eq(d->columns[2].type, "UINTEGER", "exact type from the old manifest");
    cr_expect_null(d->description);
    cr_expect_null(d->owner);
    cr_expect_null(d->sensitivity);
    cr_expect_eq(d->ntags, 0);
    cr_expect_eq(d->freshness_max_age_s, 0);
    for (size_t i = 0; i < d->ncolumns; i++) {
        cr_expect_null(d->columns[i].description);
        cr_expect_null(d->columns[i].pii);
        cr_expect_not(d->columns[i].sensitive);
    }
    cr_assert_eq(d->nhistory, 1);
    cr_expect_str_eq(d->history[0].actor, "alice");
    cr_expect_null(d->history[0].content_hash);
    cr_expect_null(d->history[0].job_id);
    json_t *j = lh_dataset_to_json(d, true);
    cr_expect(json_is_null(json_object_get(j, "owner")));
    cr_expect_eq(json_array_size(json_object_get(j, "tags")), 0);
    cr_expect(json_is_null(json_object_get(json_array_get(json_object_get(j, "history"), 0),
                                           "content_hash")));
    json_decref(j);
    lh_catalog_snap_unref(s);

    /* Old and new together: patch, append, restart. */
    patch_ok(&t, "orders", "{\"owner\": \"sales\", \"columns\": {\"email\": {\"sensitive\": "
                           "true, \"description\": \"buyer\"}}}");
    lh_column cols[] = {{.name = "id", .type = "BIGINT"},
                        {.name = "email", .type = "VARCHAR", .pii = "email", .sensitive = true},
                        {.name = "qty", .type = "UINTEGER"}};
    lh_commit_info info = {.source = "cli", .content_hash = H3, .job_id = "job-7"};
    lh_err err = LH_ERR_INIT;
    int64_t v = -1;
    cr_assert_eq(tcat_add_info(&t, t.c, "orders", cols, 3, 4, &info, &v, &err), 0, "%s",
                 err.message);
    cr_expect_eq(v, 1);
    tcat_reopen(&t);
    json_t *man = tcat_manifest(&t, "orders");
    cr_expect_eq(json_integer_value(json_object_get(man, "format_version")), 2);
    cr_expect_str_eq(json_string_value(json_object_get(man, "owner")), "sales");
    json_decref(man);
    s = lh_catalog_snapshot(t.c);
    d = lh_catalog_snap_find(s, "orders");
    cr_expect_eq(d->row_count, 7);
    cr_expect_str_eq(d->owner, "sales");
    cr_expect_str_eq(d->columns[1].description, "buyer");
    cr_expect_str_eq(d->columns[1].pii, "email");
    cr_expect(d->columns[1].sensitive);
    cr_expect_str_eq(d->columns[2].type, "UINTEGER");
    cr_expect_str_eq(d->history[1].job_id, "job-7");
    cr_expect_str_eq(lh_catalog_snap_find_content(s, H3), "orders");
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

Test(metadata, lineage_in_log_and_history)
{
    tcat t;
    tcat_init(&t);
    lh_commit_info info = {.source = "schedule", .file_name = "a.csv", .actor = "bob",
                           .content_hash = H1, .job_id = "job-1"};
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(tcat_add_info(&t, t.c, "jobs", tcat_cols, 3, 4, &info, NULL, &err), 0, "%s",
                 err.message);
    lh_commit_info plain = {.source = "upload"};
    cr_assert_eq(tcat_add_info(&t, t.c, "jobs", tcat_cols, 3, 2, &plain, NULL, &err), 0);

    json_t *v0 = tcat_log(&t, "jobs", 0);
    json_t *ci = tcat_action(v0, "commitInfo");
    cr_expect_str_eq(json_string_value(json_object_get(ci, "userName")), "bob");
    json_t *lin = json_object_get(ci, "lakehouse");
    cr_expect_str_eq(json_string_value(json_object_get(lin, "source")), "schedule");
    cr_expect_str_eq(json_string_value(json_object_get(lin, "file_name")), "a.csv");
    cr_expect_str_eq(json_string_value(json_object_get(lin, "content_hash")), H1);
    cr_expect_str_eq(json_string_value(json_object_get(lin, "job_id")), "job-1");
    cr_expect_eq(json_integer_value(json_object_get(lin, "rows_added")), 4);
    json_decref(v0);
    json_t *v1 = tcat_log(&t, "jobs", 1);
    lin = json_object_get(tcat_action(v1, "commitInfo"), "lakehouse");
    cr_expect(json_is_null(json_object_get(lin, "content_hash")));
    cr_expect_null(json_object_get(tcat_action(v1, "commitInfo"), "userName"));
    json_decref(v1);

    for (int round = 0; round < 2; round++) { /* live, then rebuilt from the log */
        json_t *d = dataset_json(t.c, "jobs");
        json_t *h = json_object_get(d, "history");
        cr_assert_eq(json_array_size(h), 2);
        json_t *h0 = json_array_get(h, 0);
        cr_expect_str_eq(json_string_value(json_object_get(h0, "content_hash")), H1);
        cr_expect_str_eq(json_string_value(json_object_get(h0, "job_id")), "job-1");
        cr_expect_str_eq(json_string_value(json_object_get(h0, "actor")), "bob");
        cr_expect_str_eq(json_string_value(json_object_get(h0, "source")), "schedule");
        cr_expect(json_is_null(json_object_get(json_array_get(h, 1), "job_id")));
        json_decref(d);
        lh_err ignored = LH_ERR_INIT;
        cr_assert_eq(lh_bucket_delete(tcat_bucket(&t), "_catalog/datasets/jobs.json",
                                      &ignored), 0);
        tcat_reopen(&t);
    }
    /* Bad lineage values are refused before anything is placed. */
    lh_commit_info bad_hash = {.source = "upload", .content_hash = "abc"};
    cr_expect_eq(tcat_add_info(&t, t.c, "jobs", tcat_cols, 3, 1, &bad_hash, NULL, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    lh_commit_info bad_job = {.source = "upload", .job_id = ""};
    cr_expect_eq(tcat_add_info(&t, t.c, "jobs", tcat_cols, 3, 1, &bad_job, NULL, &err), -1);
    lh_commit_info bad_mode = {.source = "upload", .schema_mode = (lh_schema_mode)9};
    cr_expect_eq(tcat_add_info(&t, t.c, "jobs", tcat_cols, 3, 1, &bad_mode, NULL, &err), -1);
    cr_expect_eq(tcat_count(&t, "datasets/jobs/part-"), 2);
    tcat_fini(&t);
}

Test(metadata, content_index)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    lh_catalog_snap *s0 = lh_catalog_snapshot(t.c);
    cr_expect_null(lh_catalog_snap_find_content(s0, H1));
    lh_commit_info a = {.source = "upload", .content_hash = H1};
    lh_commit_info b = {.source = "upload", .content_hash = H2};
    cr_assert_eq(tcat_add_info(&t, t.c, "alpha", tcat_cols, 3, 1, &a, NULL, &err), 0);
    cr_assert_eq(tcat_add_info(&t, t.c, "beta", tcat_cols, 3, 1, &b, NULL, &err), 0);
    /* The same content again elsewhere: the first dataset keeps it. */
    cr_assert_eq(tcat_add_info(&t, t.c, "beta", tcat_cols, 3, 1, &a, NULL, &err), 0);
    cr_expect_null(lh_catalog_snap_find_content(s0, H1), "old snapshots do not change");
    lh_catalog_snap_unref(s0);
    for (int round = 0; round < 2; round++) {
        lh_catalog_snap *s = lh_catalog_snapshot(t.c);
        cr_expect_str_eq(lh_catalog_snap_find_content(s, H1), "alpha");
        cr_expect_str_eq(lh_catalog_snap_find_content(s, H2), "beta");
        char upper[65];
        for (int i = 0; i < 65; i++)
            upper[i] = (char)(H2[i] >= 'a' && H2[i] <= 'f' ? H2[i] - 32 : H2[i]);
        cr_expect_str_eq(lh_catalog_snap_find_content(s, upper), "beta");
        cr_expect_null(lh_catalog_snap_find_content(s, H3));
        cr_expect_null(lh_catalog_snap_find_content(s, "not-a-hash"));
        cr_expect_null(lh_catalog_snap_find_content(s, NULL));
        cr_expect_null(lh_catalog_snap_find_content(s, H1 "0"));
        lh_catalog_snap_unref(s);
        tcat_reopen(&t); /* rebuilt from every commit of the logs */
    }
    /* A patch keeps the index. */
    patch_ok(&t, "beta", "{\"owner\": \"x\"}");
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_expect_str_eq(lh_catalog_snap_find_content(s, H2), "beta");
    lh_catalog_snap_unref(s);

    /* A commit made by another catalog is indexed here after the catch-up of a lost race. */
    lh_catalog *other = lh_catalog_open(t.s, &err);
    cr_assert_not_null(other);
    lh_commit_info c3 = {.source = "upload", .content_hash = H3};
    cr_assert_eq(tcat_add_info(&t, other, "alpha", tcat_cols, 3, 1, &c3, NULL, &err), 0);
    lh_catalog_close(other);
    int64_t v = -1;
    cr_assert_eq(tcat_add_info(&t, t.c, "alpha", tcat_cols, 3, 1, NULL, &v, &err), 0, "%s",
                 err.message);
    cr_expect_eq(v, 2);
    s = lh_catalog_snapshot(t.c);
    cr_expect_str_eq(lh_catalog_snap_find_content(s, H3), "alpha");
    cr_expect_str_eq(lh_catalog_snap_find_content(s, H1), "alpha");
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

typedef struct worker {
    tcat *t;
    int id;
    int failures;
} worker;

static void *appender(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 20; i++) {
        lh_err err = LH_ERR_INIT;
        if (tcat_add(w->t, w->t->c, "busy", tcat_cols, 3, 1, NULL, &err) != 0)
            w->failures++;
    }
    return NULL;
}

static void *patcher(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 20; i++) {
        json_t *p = json_pack("{s:s, s:[s]}", "owner", "team", "tags", i % 2 ? "odd" : "even");
        lh_err err = LH_ERR_INIT;
        if (lh_catalog_patch_metadata(w->t->c, "busy", p, &err) != 0)
            w->failures++;
        json_decref(p);
    }
    return NULL;
}

Test(metadata, patches_race_commits, .timeout = 60)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "busy", 1, 0);
    pthread_t th[3];
    worker w[3] = {{&t, 0, 0}, {&t, 1, 0}, {&t, 2, 0}};
    pthread_create(&th[0], NULL, appender, &w[0]);
    pthread_create(&th[1], NULL, appender, &w[1]);
    pthread_create(&th[2], NULL, patcher, &w[2]);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(w[i].failures, 0, "worker %d", i);
    }
    for (int round = 0; round < 2; round++) {
        json_t *d = dataset_json(t.c, "busy");
        cr_expect_eq(json_integer_value(json_object_get(d, "row_count")), 41);
        cr_expect_eq(json_integer_value(json_object_get(d, "version")), 40);
        cr_expect_str_eq(json_string_value(json_object_get(d, "owner")), "team");
        cr_expect_str_eq(json_string_value(json_array_get(json_object_get(d, "tags"), 0)),
                         "odd");
        json_decref(d);
        tcat_reopen(&t); /* and the manifest on disk has both */
    }
    tcat_fini(&t);
}
