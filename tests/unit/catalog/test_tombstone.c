/* Tombstones in the catalog: durable batch files, one key column per dataset, published in
 * the snapshot (generation bump), reloaded at open, cleared by id (and only at the version
 * compaction committed); and lh_catalog_replace_files / lh_catalog_delete_unreferenced. */
#include "test_util.h"

static int add_tomb(tcat *t, const char *name, const char *col, const char *const *keys,
                    size_t n, char id[37], lh_err *err)
{
    return lh_catalog_add_tombstones(t->c, name, col, keys, n, "alice", "gdpr", id, err);
}

Test(tombstone, add_list_reload)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    lh_err err = LH_ERR_INIT;
    uint64_t g0 = lh_catalog_generation(t.c);
    const char *keys[] = {"7", "3", "7"};
    char id[37];
    cr_assert_eq(add_tomb(&t, "jobs", "id", keys, 3, id, &err), 0, "%s", err.message);
    cr_assert_gt(lh_catalog_generation(t.c), g0);
    cr_assert_eq(tcat_count(&t, "_catalog/tombstones/jobs/"), 1);
    const char *more[] = {"9"};
    char id2[37];
    cr_assert_eq(add_tomb(&t, "jobs", "id", more, 1, id2, &err), 0, "%s", err.message);

    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_tombstones *ts = lh_catalog_snap_tombstones(s, "jobs");
    cr_assert_not_null(ts);
    cr_expect_str_eq(ts->column, "id");
    cr_expect_eq(ts->nbatches, 2);
    cr_assert_eq(ts->nkeys, 3); /* unique, sorted */
    cr_expect_str_eq(ts->keys[0], "3");
    cr_expect_str_eq(ts->keys[2], "9");
    json_t *j = lh_catalog_tombstones_json(s, "jobs", &err);
    cr_assert_not_null(j);
    cr_expect_eq(json_array_size(json_object_get(j, "batches")), 2);
    json_decref(j);
    lh_catalog_snap_unref(s);

    tcat_reopen(&t);
    s = lh_catalog_snapshot(t.c);
    ts = lh_catalog_snap_tombstones(s, "jobs");
    cr_assert_not_null(ts);
    cr_expect_eq(ts->nbatches, 2);
    cr_expect_eq(ts->nkeys, 3);
    cr_expect_str_eq(ts->batches[0].id, id);
    cr_expect_str_eq(ts->batches[0].actor, "alice");
    lh_catalog_snap_unref(s);

    /* an append keeps the tombstones (the entry copy shares them) */
    tcat_add_ok(&t, "jobs", 5, 1);
    s = lh_catalog_snapshot(t.c);
    cr_expect_not_null(lh_catalog_snap_tombstones(s, "jobs"));
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

Test(tombstone, refusals)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    lh_err err = LH_ERR_INIT;
    char id[37];
    const char *keys[] = {"1"};
    cr_expect_eq(add_tomb(&t, "nope", "id", keys, 1, id, &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    lh_err_clear(&err);
    cr_expect_eq(add_tomb(&t, "jobs", "missing", keys, 1, id, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    lh_err_clear(&err);
    cr_expect_eq(add_tomb(&t, "jobs", "id", keys, 0, id, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    lh_err_clear(&err);
    const char *empty[] = {""};
    cr_expect_eq(add_tomb(&t, "jobs", "id", empty, 1, id, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    lh_err_clear(&err);
    cr_assert_eq(add_tomb(&t, "jobs", "name", keys, 1, id, &err), 0, "%s", err.message);
    cr_expect_eq(add_tomb(&t, "jobs", "id", keys, 1, id, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_eq(tcat_count(&t, "_catalog/tombstones/jobs/"), 1);
    tcat_fini(&t);
}

Test(tombstone, clear_by_id_and_version)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    lh_err err = LH_ERR_INIT;
    char a[37], b[37];
    const char *k1[] = {"1"}, *k2[] = {"2"};
    cr_assert_eq(add_tomb(&t, "jobs", "id", k1, 1, a, &err), 0);
    cr_assert_eq(add_tomb(&t, "jobs", "id", k2, 1, b, &err), 0);
    const char *ids[] = {a};
    size_t cleared = 9;
    /* the table moved past version 5 never existed: nothing cleared */
    cr_assert_eq(lh_catalog_clear_tombstones(t.c, "jobs", ids, 1, 5, &cleared, &err), 0);
    cr_expect_eq(cleared, 0);
    cr_assert_eq(lh_catalog_clear_tombstones(t.c, "jobs", ids, 1, 0, &cleared, &err), 0, "%s",
                 err.message);
    cr_expect_eq(cleared, 1);
    cr_expect_eq(tcat_count(&t, "_catalog/tombstones/jobs/"), 1);
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_tombstones *ts = lh_catalog_snap_tombstones(s, "jobs");
    cr_assert_not_null(ts);
    cr_expect_eq(ts->nbatches, 1);
    cr_expect_str_eq(ts->keys[0], "2");
    lh_catalog_snap_unref(s);
    const char *ids2[] = {b};
    cr_assert_eq(lh_catalog_clear_tombstones(t.c, "jobs", ids2, 1, -1, &cleared, &err), 0);
    s = lh_catalog_snapshot(t.c);
    cr_expect_null(lh_catalog_snap_tombstones(s, "jobs"));
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

Test(tombstone, replace_files_commit)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "jobs", 10, 0);
    tcat_add_ok(&t, "jobs", 5, 1);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "jobs");
    const char *old[2] = {d->files[0].path, d->files[1].path};
    char *p = tcat_scratch(t.s, "PAR1 merged PAR1");
    lh_add_file nf = {.src_path = p, .move = true, .rows = 14};
    lh_commit_info info = {.operation = "OPTIMIZE", .source = "compaction"};
    lh_err err = LH_ERR_INIT;
    int64_t v = -1;
    /* an append in between keeps its file */
    tcat_add_ok(&t, "jobs", 3, 2);
    cr_assert_eq(lh_catalog_replace_files(t.c, "jobs", 1, old, 2, &nf, 1, &info, &v, &err), 0,
                 "%s", err.message);
    cr_expect_eq(v, 3);
    lh_catalog_snap *s2 = lh_catalog_snapshot(t.c);
    const lh_dataset *d2 = lh_catalog_snap_find(s2, "jobs");
    cr_expect_eq(d2->nfiles, 2);
    cr_expect_eq(d2->row_count, 17);
    lh_catalog_delete_unreferenced(t.c, "jobs", old, 2);
    cr_expect_eq(tcat_count(&t, "datasets/jobs/part-"), 2);
    json_t *lines = tcat_log(&t, "jobs", 3);
    cr_expect_not_null(tcat_action(lines, "remove"));
    cr_expect_not_null(tcat_action(lines, "add"));
    json_decref(lines);
    /* the same old files again: gone, so conflict, and nothing placed stays */
    char *p2 = tcat_scratch(t.s, "PAR1 x PAR1");
    lh_add_file nf2 = {.src_path = p2, .move = true, .rows = 1};
    cr_expect_eq(lh_catalog_replace_files(t.c, "jobs", 1, old, 2, &nf2, 1, &info, &v, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_eq(tcat_count(&t, "datasets/jobs/part-"), 2);
    tcat_reopen(&t);
    lh_catalog_snap *s3 = lh_catalog_snapshot(t.c);
    const lh_dataset *d3 = lh_catalog_snap_find(s3, "jobs");
    cr_expect_eq(d3->nfiles, 2);
    cr_expect_eq(d3->row_count, 17);
    cr_expect_eq(d3->version, 3);
    lh_catalog_snap_unref(s3);
    lh_catalog_snap_unref(s2);
    lh_catalog_snap_unref(s);
    free(p);
    free(p2);
    tcat_fini(&t);
}
