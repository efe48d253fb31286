/* Tests for src/catalog/schema.c and the schema-evolution path of commit.c and delta_log.c:
 * lh_schema_diff (added, removed, retyped, likely renames), LH_SCHEMA_EXACT versus
 * LH_SCHEMA_ADD_COLUMNS appends, the metaData action of a widening commit, and the replay
 * of later metaData actions at open (the last one wins). */
#include "test_util.h"

static const lh_column ab[] = {{.name = "a", .type = "BIGINT"}, {.name = "b", .type = "VARCHAR"}};
static const lh_column abc[] = {{.name = "a", .type = "BIGINT"},
                                {.name = "b", .type = "VARCHAR"},
                                {.name = "c", .type = "UINTEGER"}};

static size_t arr_len(json_t *diff, const char *key)
{
    return json_array_size(json_object_get(diff, key));
}

static const char *item(json_t *diff, const char *key, size_t i, const char *field)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(diff, key), i),
                                             field));
}

Test(schema_diff, equal_is_null)
{
    cr_expect_null(lh_schema_diff(abc, 3, abc, 3));
    cr_expect_null(lh_schema_diff(NULL, 0, NULL, 0));
    lh_column ba[] = {ab[1], ab[0]};
    json_t *d = lh_schema_diff(ab, 2, ba, 2);
    cr_assert_not_null(d, "order differs");
    cr_expect(json_is_true(json_object_get(d, "reordered")));
    cr_expect_eq(arr_len(d, "added") + arr_len(d, "removed") + arr_len(d, "renamed") +
                     arr_len(d, "type_changed"), 0);
    json_decref(d);
}

Test(schema_diff, added_removed_type_changed)
{
    json_t *d = lh_schema_diff(ab, 2, abc, 3);
    cr_assert_not_null(d);
    cr_expect_eq(arr_len(d, "added"), 1);
    cr_expect_str_eq(item(d, "added", 0, "name"), "c");
    cr_expect_str_eq(item(d, "added", 0, "type"), "UINTEGER");
    cr_expect_eq(arr_len(d, "removed"), 0);
    cr_expect(json_is_false(json_object_get(d, "reordered")));
    json_decref(d);

    d = lh_schema_diff(abc, 3, ab, 2);
    cr_expect_eq(arr_len(d, "removed"), 1);
    cr_expect_str_eq(item(d, "removed", 0, "name"), "c");
    cr_expect_eq(arr_len(d, "added"), 0);
    json_decref(d);

    lh_column retyped[] = {{.name = "a", .type = "DOUBLE"}, {.name = "b", .type = "VARCHAR"}};
    d = lh_schema_diff(ab, 2, retyped, 2);
    cr_expect_eq(arr_len(d, "type_changed"), 1);
    cr_expect_str_eq(item(d, "type_changed", 0, "name"), "a");
    cr_expect_str_eq(item(d, "type_changed", 0, "from"), "BIGINT");
    cr_expect_str_eq(item(d, "type_changed", 0, "to"), "DOUBLE");
    cr_expect_eq(arr_len(d, "renamed") + arr_len(d, "added") + arr_len(d, "removed"), 0);
    json_decref(d);
}

Test(schema_diff, likely_renames)
{
    lh_column from[] = {{.name = "id", .type = "BIGINT"},
                        {.name = "Customer Name", .type = "VARCHAR"},
                        {.name = "adress", .type = "VARCHAR"},
                        {.name = "email", .type = "VARCHAR"},
                        {.name = "total", .type = "DECIMAL(18,2)"},
                        {.name = "zz_flag", .type = "BOOLEAN"}};
    lh_column to[] = {{.name = "id", .type = "BIGINT"},
                      {.name = "customer_name", .type = "VARCHAR"},
                      {.name = "address", .type = "VARCHAR"},
                      {.name = "email_address", .type = "VARCHAR"},
                      {.name = "amount", .type = "DECIMAL(18,2)"},
                      {.name = "active", .type = "INTEGER"}};
    json_t *d = lh_schema_diff(from, 6, to, 6);
    cr_assert_not_null(d);
    cr_expect_eq(arr_len(d, "renamed"), 4, "%s", lh_json_dump(d));
    cr_expect_str_eq(item(d, "renamed", 0, "from"), "Customer Name");
    cr_expect_str_eq(item(d, "renamed", 0, "to"), "customer_name");
    cr_expect_str_eq(item(d, "renamed", 1, "from"), "adress");
    cr_expect_str_eq(item(d, "renamed", 1, "to"), "address");
    cr_expect_str_eq(item(d, "renamed", 2, "from"), "email");
    cr_expect_str_eq(item(d, "renamed", 2, "to"), "email_address");
    /* total -> amount: unrelated names, but same type at the same position. */
    cr_expect_str_eq(item(d, "renamed", 3, "from"), "total");
    cr_expect_str_eq(item(d, "renamed", 3, "to"), "amount");
    cr_expect_str_eq(item(d, "renamed", 3, "type"), "DECIMAL(18,2)");
    /* A different type is never a rename. */
    cr_expect_eq(arr_len(d, "removed"), 1);
    cr_expect_str_eq(item(d, "removed", 0, "name"), "zz_flag");
    cr_expect_eq(arr_len(d, "added"), 1);
    cr_expect_str_eq(item(d, "added", 0, "name"), "active");
    json_decref(d);

    /* Similar names win over position: b moved and renamed, x is new. */
    lh_column f2[] = {{.name = "a", .type = "BIGINT"}, {.name = "phone", .type = "VARCHAR"}};
    lh_column t2[] = {{.name = "a", .type = "BIGINT"},
                      {.name = "x", .type = "VARCHAR"},
                      {.name = "phone_no", .type = "VARCHAR"}};
    d = lh_schema_diff(f2, 2, t2, 3);
    cr_expect_eq(arr_len(d, "renamed"), 1);
    cr_expect_str_eq(item(d, "renamed", 0, "to"), "phone_no");
    cr_expect_str_eq(item(d, "added", 0, "name"), "x");
    json_decref(d);

    /* Short names need more than one shared letter. */
    lh_column f3[] = {{.name = "k", .type = "BIGINT"}, {.name = "ab", .type = "BIGINT"}};
    lh_column t3[] = {{.name = "k", .type = "BIGINT"},
                      {.name = "q", .type = "VARCHAR"},
                      {.name = "cd", .type = "BIGINT"}};
    d = lh_schema_diff(f3, 2, t3, 3);
    cr_expect_eq(arr_len(d, "renamed"), 0, "%s", lh_json_dump(d));
    json_decref(d);
}

Test(schema_evolution, exact_mode_refuses_new_columns)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    lh_commit_info exact = {.source = "upload"};
    cr_assert_eq(tcat_add_info(&t, t.c, "ev", ab, 2, 3, &exact, NULL, &err), 0);
    cr_expect_eq(tcat_add_info(&t, t.c, "ev", abc, 3, 1, &exact, NULL, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect(strstr(err.message, "'c'") != NULL, "%s", err.message);
    cr_expect_eq(tcat_count(&t, "datasets/ev/part-"), 1, "nothing placed");
    tcat_fini(&t);
}

Test(schema_evolution, add_columns_widens_in_one_commit)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    lh_commit_info info = {.source = "upload", .schema_mode = LH_SCHEMA_ADD_COLUMNS};
    cr_assert_eq(tcat_add_info(&t, t.c, "ev", ab, 2, 3, &info, NULL, &err), 0);
    json_t *p = json_pack("{s:s, s:{s:{s:s}}}", "description", "events", "columns", "a",
                          "description", "key");
    cr_assert_eq(lh_catalog_patch_metadata(t.c, "ev", p, &err), 0, "%s", err.message);
    json_decref(p);
    lh_catalog_snap *s0 = lh_catalog_snapshot(t.c);
    char fp0[65];
    memcpy(fp0, lh_catalog_snap_find(s0, "ev")->fingerprint, 65);
    const char *id0 = lh_catalog_snap_find(s0, "ev")->table_id;

    /* The new file has c, in another order, and no b. */
    lh_column cab[] = {{.name = "c", .type = "UINTEGER", .pii = "ssn", .sensitive = true},
                       {.name = "a", .type = "BIGINT"}};
    int64_t v = -1;
    cr_assert_eq(tcat_add_info(&t, t.c, "ev", cab, 2, 2, &info, &v, &err), 0, "%s",
                 err.message);
    cr_expect_eq(v, 1);
    json_t *v1 = tcat_log(&t, "ev", 1);
    json_t *meta = tcat_action(v1, "metaData");
    cr_assert_not_null(meta, "a widening commit carries metaData");
    cr_expect_str_eq(json_string_value(json_object_get(meta, "id")), id0, "same table id");
    json_t *schema = json_loads(json_string_value(json_object_get(meta, "schemaString")), 0,
                                NULL);
    json_t *fields = json_object_get(schema, "fields");
    cr_assert_eq(json_array_size(fields), 3);
    const char *want[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++)
        cr_expect_str_eq(json_string_value(json_object_get(json_array_get(fields, i), "name")),
                         want[i]);
    json_decref(schema);
    cr_expect_null(tcat_action(v1, "protocol"), "no protocol change for these types");
    cr_expect(json_is_false(json_object_get(tcat_action(v1, "commitInfo"), "isBlindAppend")));
    cr_expect_not_null(tcat_action(v1, "add"));
    json_decref(v1);

    for (int round = 0; round < 3; round++) {
        /* live; reopened with the manifest; reopened from the log alone */
        lh_catalog_snap *s = lh_catalog_snapshot(t.c);
        const lh_dataset *d = lh_catalog_snap_find(s, "ev");
        cr_assert_eq(d->ncolumns, 3, "round %d", round);
        cr_expect_str_eq(d->columns[2].name, "c");
        cr_expect_str_eq(d->columns[2].type, round < 2 ? "UINTEGER" : "BIGINT",
                         "round %d: exact type unless the manifest is gone", round);
        cr_expect_str_eq(d->columns[1].type, "VARCHAR");
        cr_expect_str_neq((char *)d->fingerprint, fp0);
        cr_expect_str_eq(d->table_id, id0);
        cr_expect_eq(d->row_count, 5);
        cr_expect_eq(d->version, 1);
        if (round < 2) {
            cr_expect_str_eq(d->description, "events", "round %d", round);
            cr_expect_str_eq(d->columns[0].description, "key");
            cr_expect_str_eq(d->columns[2].pii, "ssn");
            cr_expect(d->columns[2].sensitive);
        }
        lh_catalog_snap_unref(s);
        if (round == 1) {
            lh_err ignored = LH_ERR_INIT;
            cr_assert_eq(lh_bucket_delete(tcat_bucket(&t), "_catalog/datasets/ev.json",
                                          &ignored), 0);
        }
        tcat_reopen(&t);
    }
    lh_catalog_snap_unref(s0);

    /* The widened table takes exact appends of its new shape and a fewer-column file. */
    lh_column abc_wide[] = {ab[0], ab[1], {.name = "c", .type = "BIGINT"}};
    lh_commit_info exact = {.source = "upload"};
    cr_expect_eq(tcat_add_info(&t, t.c, "ev", abc_wide, 3, 1, &exact, &v, &err), 0, "%s",
                 err.message);
    cr_expect_eq(tcat_add_info(&t, t.c, "ev", ab, 2, 1, &info, &v, &err), 0, "%s",
                 err.message);
    cr_expect_eq(v, 3);
    json_t *v3 = tcat_log(&t, "ev", 3);
    cr_expect_null(tcat_action(v3, "metaData"), "no new columns, no metaData");
    json_decref(v3);
    tcat_fini(&t);
}

Test(schema_evolution, add_columns_conflicts)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    lh_commit_info info = {.source = "upload", .schema_mode = LH_SCHEMA_ADD_COLUMNS};
    cr_assert_eq(tcat_add_info(&t, t.c, "ev", ab, 2, 3, &info, NULL, &err), 0);
    lh_column retyped[] = {{.name = "a", .type = "DOUBLE"}, {.name = "z", .type = "VARCHAR"}};
    cr_expect_eq(tcat_add_info(&t, t.c, "ev", retyped, 2, 1, &info, NULL, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect(strstr(err.message, "'a'") && strstr(err.message, "DOUBLE"), "%s", err.message);
    lh_column cased[] = {{.name = "A", .type = "BIGINT"}};
    cr_expect_eq(tcat_add_info(&t, t.c, "ev", cased, 1, 1, &info, NULL, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect(strstr(err.message, "case") != NULL, "%s", err.message);
    cr_expect_eq(tcat_count(&t, "datasets/ev/part-"), 1);
    cr_expect_eq(tcat_count(&t, "datasets/ev/_delta_log/"), 1);
    tcat_fini(&t);
}

Test(schema_evolution, timestamp_column_upgrades_protocol)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    lh_commit_info info = {.source = "upload", .schema_mode = LH_SCHEMA_ADD_COLUMNS};
    cr_assert_eq(tcat_add_info(&t, t.c, "ev", ab, 2, 3, &info, NULL, &err), 0);
    lh_column with_ts[] = {ab[0], ab[1], {.name = "at", .type = "TIMESTAMP"}};
    cr_assert_eq(tcat_add_info(&t, t.c, "ev", with_ts, 3, 1, &info, NULL, &err), 0, "%s",
                 err.message);
    json_t *v1 = tcat_log(&t, "ev", 1);
    json_t *proto = tcat_action(v1, "protocol");
    cr_assert_not_null(proto);
    cr_expect_eq(json_integer_value(json_object_get(proto, "minReaderVersion")), 3);
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(proto, "readerFeatures"),
                                                      0)), "timestampNtz");
    json_decref(v1);
    /* A later widening on a table that has the feature already does not repeat it. */
    lh_column more[] = {ab[0], {.name = "d", .type = "TIMESTAMP"}};
    cr_assert_eq(tcat_add_info(&t, t.c, "ev", more, 2, 1, &info, NULL, &err), 0, "%s",
                 err.message);
    json_t *v2 = tcat_log(&t, "ev", 2);
    cr_expect_not_null(tcat_action(v2, "metaData"));
    cr_expect_null(tcat_action(v2, "protocol"));
    json_decref(v2);
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "ev");
    cr_assert_not_null(d);
    cr_expect_eq(d->ncolumns, 4);
    cr_expect_str_eq(d->columns[3].name, "d");
    cr_expect_str_eq(d->columns[3].type, "TIMESTAMP");
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

Test(schema_evolution, manifest_behind_a_widening)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    lh_commit_info info = {.source = "upload", .schema_mode = LH_SCHEMA_ADD_COLUMNS};
    lh_column exact_ab[] = {{.name = "a", .type = "UINTEGER"}, ab[1]};
    cr_assert_eq(tcat_add_info(&t, t.c, "ev", exact_ab, 2, 3, &info, NULL, &err), 0);
    json_t *p = json_pack("{s:s, s:{s:{s:s}}}", "owner", "ana", "columns", "b", "description",
                          "label");
    cr_assert_eq(lh_catalog_patch_metadata(t.c, "ev", p, &err), 0, "%s", err.message);
    json_decref(p);
    json_t *old = tcat_manifest(&t, "ev");
    char *old_text = json_dumps(old, 0);
    lh_column wide[] = {exact_ab[0], ab[1], {.name = "c", .type = "VARCHAR"}};
    cr_assert_eq(tcat_add_info(&t, t.c, "ev", wide, 3, 1, &info, NULL, &err), 0);
    /* As if we crashed between the commit and the manifest write. */
    cr_assert_eq(lh_bucket_put(tcat_bucket(&t), "_catalog/datasets/ev.json", old_text,
                               strlen(old_text), &err), 0);
    free(old_text);
    json_decref(old);
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "ev");
    cr_assert_eq(d->ncolumns, 3);
    cr_expect_str_eq(d->columns[0].type, "UINTEGER", "exact type of a column it knew");
    cr_expect_str_eq(d->columns[1].description, "label");
    cr_expect_str_eq(d->columns[2].name, "c");
    cr_expect_str_eq(d->owner, "ana");
    cr_expect_eq(d->version, 1);
    lh_catalog_snap_unref(s);
    json_t *man = tcat_manifest(&t, "ev");
    cr_expect_eq(json_integer_value(json_object_get(man, "version")), 1, "rewritten");
    cr_expect_eq(json_array_size(json_object_get(man, "columns")), 3);
    cr_expect_str_eq(json_string_value(json_object_get(man, "owner")), "ana");
    json_decref(man);
    tcat_fini(&t);
}
