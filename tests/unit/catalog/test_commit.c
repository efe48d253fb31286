/* Tests for src/catalog/commit.c and delta_log.c: create + append, the Delta log content,
 * snapshots, schema conflicts, bad input, injected commit failures and crashes. */
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

static json_t *read_json_lines(tcat *t, const char *key)
{
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *text = lh_bucket_read_all(tcat_bucket(t), key, 1 << 20, &len, &err);
    cr_assert_not_null(text, "%s: %s", key, err.message);
    cr_assert(len > 0 && text[len - 1] == '\n', "log ends with a newline");
    json_t *lines = json_array();
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        cr_assert_not_null(j, "not JSON: %s", line);
        cr_assert(json_is_object(j) && json_object_size(j) == 1, "one action per line");
        json_array_append_new(lines, j);
    }
    free(text);
    return lines;
}

static const char *action_kind(json_t *line)
{
    return json_object_iter_key(json_object_iter(line));
}

Test(commit, create_append_versions)
{
    tcat t;
    tcat_init(&t);
    lh_catalog_snap *s0 = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_count(s0), 0);
    tcat_add_ok(&t, "jobs", 10, 0);
    tcat_add_ok(&t, "jobs", 5, 1);
    tcat_add_ok(&t, "jobs", 7, 2);
    tcat_add_ok(&t, "people", 3, 0);

    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_assert_eq(lh_catalog_snap_count(s), 2);
    cr_expect_str_eq(lh_catalog_snap_at(s, 0)->name, "jobs");
    cr_expect_str_eq(lh_catalog_snap_at(s, 1)->name, "people");
    const lh_dataset *d = lh_catalog_snap_find(s, "jobs");
    cr_assert_not_null(d);
    cr_expect_eq(d->version, 2);
    cr_expect_eq(d->row_count, 22);
    cr_expect_eq(d->nfiles, 3);
    cr_expect_eq(d->ncolumns, 3);
    cr_expect_str_eq(d->columns[2].name, "salary");
    cr_expect_str_eq(d->columns[2].type, "BIGINT");
    cr_expect_str_eq(d->bucket, "primary");
    cr_expect_str_eq(d->source, "upload");
    cr_expect(lh_str_has_suffix(d->table_root, "/datasets/jobs"), "%s", d->table_root);
    cr_expect_eq(strlen(d->table_id), 36);
    cr_expect_eq(d->nhistory, 3);
    cr_expect_str_eq(d->history[0].operation, "CREATE TABLE");
    cr_expect_str_eq(d->history[1].operation, "WRITE");
    cr_expect_eq(d->history[2].rows_added, 7);
    cr_expect_str_eq(d->history[2].actor, "alice");
    cr_expect_str_eq(d->history[2].file_name, "jobs.csv");
    cr_expect(d->created_ms > 0 && d->updated_ms >= d->created_ms);
    for (size_t i = 0; i < d->nfiles; i++) {
        cr_expect(lh_str_has_prefix(d->files[i].path, "part-"));
        cr_expect_eq(d->files[i].size, strlen("PAR1 fake parquet PAR1"));
        char *key = lh_xasprintf("datasets/jobs/%s", d->files[i].path);
        cr_expect(lh_bucket_exists(tcat_bucket(&t), key), "%s", key);
        free(key);
    }
    cr_expect_eq(lh_catalog_snap_find(s, "nope"), NULL);
    cr_expect(lh_catalog_snap_generation(s) > lh_catalog_snap_generation(s0));
    cr_expect_eq(lh_catalog_generation(t.c), lh_catalog_snap_generation(s));

    json_t *j = lh_dataset_to_json(d, true);
    cr_expect_eq(json_integer_value(json_object_get(j, "row_count")), 22);
    cr_expect_eq(json_integer_value(json_object_get(j, "files")), 3);
    cr_expect_eq(json_array_size(json_object_get(j, "data_files")), 3);
    cr_expect_eq(json_array_size(json_object_get(j, "history")), 3);
    cr_expect(lh_str_has_suffix(json_string_value(json_object_get(j, "created_at")), "Z"));
    json_decref(j);
    j = lh_dataset_to_json(d, false);
    cr_expect_null(json_object_get(j, "history"));
    json_decref(j);

    lh_catalog_snap_unref(s0);
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

Test(commit, log_is_delta)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    tcat_add_ok(&t, "jobs", 4, 1);

    json_t *v0 = read_json_lines(&t, "datasets/jobs/_delta_log/00000000000000000000.json");
    cr_assert_eq(json_array_size(v0), 4);
    cr_expect_str_eq(action_kind(json_array_get(v0, 0)), "commitInfo");
    cr_expect_str_eq(action_kind(json_array_get(v0, 1)), "protocol");
    cr_expect_str_eq(action_kind(json_array_get(v0, 2)), "metaData");
    cr_expect_str_eq(action_kind(json_array_get(v0, 3)), "add");
    json_t *ci = json_object_get(json_array_get(v0, 0), "commitInfo");
    cr_expect(json_is_integer(json_object_get(ci, "timestamp")));
    cr_expect_str_eq(json_string_value(json_object_get(ci, "operation")), "CREATE TABLE");
    cr_expect(json_is_true(json_object_get(ci, "isBlindAppend")));
    cr_expect_str_eq(json_string_value(json_object_get(ci, "userName")), "alice");
    cr_expect(lh_str_has_prefix(json_string_value(json_object_get(ci, "engineInfo")),
                                "lakehouse/"));
    json_t *lin = json_object_get(ci, "lakehouse");
    cr_expect_str_eq(json_string_value(json_object_get(lin, "source")), "upload");
    cr_expect_eq(json_integer_value(json_object_get(lin, "rows_added")), 10);
    json_t *p = json_object_get(json_array_get(v0, 1), "protocol");
    cr_expect_eq(json_integer_value(json_object_get(p, "minReaderVersion")), 1);
    cr_expect_eq(json_integer_value(json_object_get(p, "minWriterVersion")), 2);
    json_t *m = json_object_get(json_array_get(v0, 2), "metaData");
    cr_expect_eq(strlen(json_string_value(json_object_get(m, "id"))), 36);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(m, "format"),
                                                       "provider")), "parquet");
    cr_expect(json_is_array(json_object_get(m, "partitionColumns")));
    cr_expect(json_is_object(json_object_get(m, "configuration")));
    cr_expect(json_is_integer(json_object_get(m, "createdTime")));
    json_t *schema = json_loads(json_string_value(json_object_get(m, "schemaString")), 0, NULL);
    cr_assert_not_null(schema);
    cr_expect_str_eq(json_string_value(json_object_get(schema, "type")), "struct");
    json_t *f2 = json_array_get(json_object_get(schema, "fields"), 2);
    cr_expect_str_eq(json_string_value(json_object_get(f2, "name")), "salary");
    cr_expect_str_eq(json_string_value(json_object_get(f2, "type")), "long");
    cr_expect(json_is_true(json_object_get(f2, "nullable")));
    json_decref(schema);
    json_t *add = json_object_get(json_array_get(v0, 3), "add");
    const char *path = json_string_value(json_object_get(add, "path"));
    cr_expect(lh_str_has_prefix(path, "part-") && lh_str_has_suffix(path, ".parquet"), "%s",
              path);
    cr_expect(json_is_object(json_object_get(add, "partitionValues")));
    cr_expect(json_is_true(json_object_get(add, "dataChange")));
    cr_expect(json_integer_value(json_object_get(add, "size")) > 0);
    cr_expect(json_integer_value(json_object_get(add, "modificationTime")) > 0);
    cr_expect_str_eq(json_string_value(json_object_get(add, "stats")), "{\"numRecords\":10}");
    json_decref(v0);

    json_t *v1 = read_json_lines(&t, "datasets/jobs/_delta_log/00000000000000000001.json");
    cr_assert_eq(json_array_size(v1), 2);
    cr_expect_str_eq(action_kind(json_array_get(v1, 0)), "commitInfo");
    cr_expect_str_eq(action_kind(json_array_get(v1, 1)), "add");
    json_decref(v1);

    /* The manifest follows the commit. */
    lh_err err = LH_ERR_INIT;
    size_t len;
    char *text = lh_bucket_read_all(tcat_bucket(&t), "_catalog/datasets/jobs.json", 1 << 20,
                                    &len, &err);
    cr_assert_not_null(text, "%s", err.message);
    json_t *man = json_loads(text, 0, NULL);
    free(text);
    cr_assert_not_null(man);
    cr_expect_eq(json_integer_value(json_object_get(man, "format_version")), 2);
    cr_expect_eq(json_integer_value(json_object_get(man, "version")), 1);
    cr_expect_eq(json_integer_value(json_object_get(man, "row_count")), 14);
    cr_expect_eq(json_array_size(json_object_get(man, "history")), 2);
    cr_expect_eq(json_array_size(json_object_get(man, "columns")), 3);
    json_decref(man);
    tcat_fini(&t);
}

Test(commit, timestamp_ntz_upgrades_protocol)
{
    tcat t;
    tcat_init(&t);
    lh_column cols[] = {{"at", "TIMESTAMP"}, {"n", "UBIGINT"}};
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(tcat_add(&t, t.c, "events", cols, 2, 1, NULL, &err), 0, "%s", err.message);
    json_t *v0 = read_json_lines(&t, "datasets/events/_delta_log/00000000000000000000.json");
    json_t *p = json_object_get(json_array_get(v0, 1), "protocol");
    cr_expect_eq(json_integer_value(json_object_get(p, "minReaderVersion")), 3);
    cr_expect_eq(json_integer_value(json_object_get(p, "minWriterVersion")), 7);
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(p, "readerFeatures"), 0)),
                     "timestampNtz");
    json_decref(v0);
    /* Our reader accepts it, and the manifest keeps the exact DuckDB types. */
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "events");
    cr_assert_not_null(d);
    cr_expect_str_eq(d->columns[0].type, "TIMESTAMP");
    cr_expect_str_eq(d->columns[1].type, "UBIGINT");
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

Test(commit, snapshot_isolation)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    lh_catalog_snap *old = lh_catalog_snapshot(t.c);
    uint64_t g = lh_catalog_snap_generation(old);
    const lh_dataset *d_old = lh_catalog_snap_find(old, "jobs");
    tcat_add_ok(&t, "jobs", 5, 1);
    tcat_add_ok(&t, "other", 1, 0);
    /* The old snapshot still shows exactly what it showed. */
    cr_expect_eq(lh_catalog_snap_count(old), 1);
    cr_expect_eq(d_old->version, 0);
    cr_expect_eq(d_old->row_count, 10);
    cr_expect_eq(d_old->nfiles, 1);
    cr_expect_eq(d_old->nhistory, 1);
    cr_expect_eq(lh_catalog_snap_generation(old), g);
    lh_catalog_snap *now = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_generation(now), g + 2);
    cr_expect_eq(lh_catalog_snap_find(now, "jobs")->row_count, 15);
    /* Unchanged datasets are shared, not copied. */
    tcat_add_ok(&t, "jobs", 1, 2);
    lh_catalog_snap *later = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_find(later, "other"), lh_catalog_snap_find(now, "other"));
    lh_catalog_snap_unref(old);
    lh_catalog_snap_unref(now);
    lh_catalog_snap_unref(later);
    tcat_fini(&t);
}

Test(commit, schema_mismatch_is_conflict)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    size_t before = tcat_count(&t, "datasets/");
    uint64_t g = lh_catalog_generation(t.c);
    lh_column other[] = {{"id", "BIGINT"}, {"name", "VARCHAR"}, {"salary", "DOUBLE"}};
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(tcat_add(&t, t.c, "jobs", other, 3, 1, NULL, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_str_eq(err.message, "dataset 'jobs': column 'salary' is DOUBLE in the new file "
                                  "but BIGINT in the table");
    lh_column fewer[] = {{"id", "BIGINT"}, {"name", "VARCHAR"}};
    cr_expect_eq(tcat_add(&t, t.c, "jobs", fewer, 2, 1, NULL, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect(strstr(err.message, "'salary'") != NULL, "%s", err.message);
    lh_column renamed[] = {{"id", "BIGINT"}, {"title", "VARCHAR"}, {"salary", "BIGINT"}};
    cr_expect_eq(tcat_add(&t, t.c, "jobs", renamed, 3, 1, NULL, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect(strstr(err.message, "'title'") != NULL, "%s", err.message);
    /* Nothing changed: no version, no new file, same generation. */
    cr_expect_eq(tcat_count(&t, "datasets/"), before);
    cr_expect_eq(lh_catalog_generation(t.c), g);
    tcat_fini(&t);
}

Test(commit, bad_input)
{
    tcat t;
    tcat_init(&t);
    /* The last one is 64 characters, one past LH_NAME_MAX. */
    static const char *bad_names[] = {
        "", "Jobs", "1jobs", "a-b", "../x", "a/b", "x y",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < LH_ARRAY_LEN(bad_names); i++) {
        lh_err err = LH_ERR_INIT;
        cr_expect_eq(tcat_add(&t, t.c, bad_names[i], tcat_cols, 3, 1, NULL, &err), -1, "%s",
                     bad_names[i]);
        cr_expect_eq(err.code, LH_INVALID_ARGUMENT, "%s", bad_names[i]);
    }
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_catalog_add_files(t.c, NULL, tcat_cols, 3, NULL, 0, NULL, NULL, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect_eq(lh_catalog_add_files(t.c, "jobs", tcat_cols, 3, NULL, 0, NULL, NULL, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    lh_column unknown[] = {{"g", "GEOMETRY"}};
    cr_expect_eq(tcat_add(&t, t.c, "jobs", unknown, 1, 1, NULL, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    lh_column dup[] = {{"a", "BIGINT"}, {"A", "BIGINT"}};
    cr_expect_eq(tcat_add(&t, t.c, "jobs", dup, 2, 1, NULL, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    lh_add_file missing = {.src_key = "uploads/none.parquet", .move = false, .rows = 1};
    cr_expect_eq(lh_catalog_add_files(t.c, "jobs", tcat_cols, 3, &missing, 1, NULL, NULL, &err),
                 -1);
    cr_expect_eq(err.code, LH_NOT_FOUND, "%s", err.message);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_count(s), 0);
    lh_catalog_snap_unref(s);
    cr_expect_eq(tcat_count(&t, "datasets/"), 0);
    tcat_fini(&t);
}

Test(commit, link_keeps_source)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(tcat_bucket(&t), "uploads/a.parquet", "PAR1xPAR1", 9, &err), 0,
                 "%s", err.message);
    lh_add_file f = {.src_key = "uploads/a.parquet", .move = false, .rows = 3};
    lh_commit_info info = {.operation = "REGISTER", .source = "register"};
    int64_t v = -1;
    cr_assert_eq(lh_catalog_add_files(t.c, "reg", tcat_cols, 3, &f, 1, &info, &v, &err), 0,
                 "%s", err.message);
    cr_expect_eq(v, 0);
    cr_expect(lh_bucket_exists(tcat_bucket(&t), "uploads/a.parquet"));
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "reg");
    cr_assert_not_null(d);
    cr_expect_eq(d->files[0].size, 9);
    cr_expect_str_eq(d->history[0].operation, "REGISTER");
    cr_expect_str_eq(d->source, "register");
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

Test(commit, injected_commit_failure)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    size_t before = tcat_count(&t, "datasets/");
    setenv("LH_FAULT", "commit:1", 1);
    lh_fault_reset();
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(tcat_add(&t, t.c, "jobs", tcat_cols, 3, 5, NULL, &err), -1);
    cr_expect_eq(err.code, LH_IO_ERROR);
    cr_expect_str_eq(err.message, "commit failed (injected)");
    /* The placed file is gone and no version 1 exists, in memory or on disk. */
    cr_expect_eq(tcat_count(&t, "datasets/"), before);
    cr_expect_not(lh_bucket_exists(tcat_bucket(&t),
                                   "datasets/jobs/_delta_log/00000000000000000001.json"));
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_find(s, "jobs")->version, 0);
    lh_catalog_snap_unref(s);
    /* A create that fails leaves no dataset at all. */
    setenv("LH_FAULT", "commit:1", 1);
    lh_fault_reset();
    cr_expect_eq(tcat_add(&t, t.c, "fresh", tcat_cols, 3, 5, NULL, &err), -1);
    cr_expect_eq(tcat_count(&t, "datasets/fresh/"), 0);
    /* The next commit works and takes version 1. */
    unsetenv("LH_FAULT");
    lh_fault_reset();
    tcat_add_ok(&t, "jobs", 5, 1);
    tcat_fini(&t);
}

static void crash_child(tcat *t, const char *point)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        setenv("LH_FAULT", point, 1);
        lh_fault_reset();
        lh_err err = LH_ERR_INIT;
        (void)!tcat_add(t, t->c, "jobs", tcat_cols, 3, 5, NULL, &err);
        _exit(0); /* not reached when the crash point fires */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 99, "child should crash at %s", point);
}

Test(commit, crash_before_commit)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    lh_catalog_snap *before = lh_catalog_snapshot(t.c);
    json_t *jb = lh_dataset_to_json(lh_catalog_snap_find(before, "jobs"), true);
    crash_child(&t, "crash:catalog.before_commit");
    tcat_reopen(&t);
    lh_catalog_snap *after = lh_catalog_snapshot(t.c);
    json_t *ja = lh_dataset_to_json(lh_catalog_snap_find(after, "jobs"), true);
    cr_expect(json_equal(ja, jb), "dataset changed by a crash before the commit");
    /* The placed, uncommitted file names its writer, which is dead: it is removed at once. */
    cr_expect_eq(tcat_count(&t, "datasets/jobs/part-"), 1);
    json_decref(ja);
    json_decref(jb);
    lh_catalog_snap_unref(before);
    lh_catalog_snap_unref(after);
    tcat_add_ok(&t, "jobs", 1, 1);
    tcat_fini(&t);
}

Test(commit, crash_after_commit)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    crash_child(&t, "crash:catalog.after_commit");
    /* The commit is durable; the manifest lags behind and is rewritten at open. */
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "jobs");
    cr_expect_eq(d->version, 1);
    cr_expect_eq(d->row_count, 15);
    cr_expect_eq(d->nhistory, 2);
    lh_catalog_snap_unref(s);
    lh_err err = LH_ERR_INIT;
    size_t len;
    char *text = lh_bucket_read_all(tcat_bucket(&t), "_catalog/datasets/jobs.json", 1 << 20,
                                    &len, &err);
    cr_assert_not_null(text);
    json_t *man = json_loads(text, 0, NULL);
    free(text);
    cr_expect_eq(json_integer_value(json_object_get(man, "version")), 1);
    json_decref(man);
    tcat_fini(&t);
}
