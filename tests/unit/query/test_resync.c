/* Tests for src/query/resync.c and src/catalog/resync_support.c: manifests restored from
 * the Delta log and the Parquet footers, rich metadata kept, broken data files reported. */
#include <sys/stat.h>

#include "query_test.h"

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

TestSuite(resync, .init = setup, .fini = teardown, .timeout = 120);

static void add_csv(const char *name, const char *csv) {
    char *src = lh_storage_scratch_path(T.storage, ".csv");
    FILE *f = fopen(src, "wb");
    cr_assert_not_null(f, "%s", src);
    cr_assert_eq(fwrite(csv, 1, strlen(csv), f), strlen(csv));
    fclose(f);
    char *dst = lh_storage_scratch_path(T.storage, ".parquet");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_engine_csv_to_parquet(T.engine, src, NULL, dst, &cols, &ncols, &rows, &err),
                 0, "%s", err.message);
    lh_add_file af = {.src_path = dst, .move = true, .rows = rows};
    lh_commit_info info = {.source = "cli", .file_name = "t.csv"};
    cr_assert_eq(lh_catalog_add_files(T.catalog, name, cols, ncols, &af, 1, &info, NULL, &err),
                 0, "%s", err.message);
    lh_columns_free(cols, ncols);
    unlink(src);
    free(src);
    free(dst);
}

static char *manifest_path(const char *name) {
    return lh_xasprintf("%s/buckets/primary/_catalog/datasets/%s.json", T.dir, name);
}

static json_t *resync(const char *name) {
    lh_err err = LH_ERR_INIT;
    json_t *doc = lh_engine_resync(T.engine, name, &err);
    cr_assert_not_null(doc, "%s", err.message);
    return doc;
}

/* The "fixed" array of dataset name in a resync answer, or NULL when not repaired. */
static const json_t *fixed_of(const json_t *doc, const char *name) {
    const json_t *rep = json_object_get(doc, "repaired");
    for (size_t i = 0; i < json_array_size(rep); i++) {
        const json_t *o = json_array_get(rep, i);
        if (strcmp(json_string_value(json_object_get(o, "dataset")), name) == 0)
            return json_object_get(o, "fixed");
    }
    return NULL;
}

static bool has(const json_t *arr, const char *s) {
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (strcmp(json_string_value(json_array_get(arr, i)), s) == 0)
            return true;
    return false;
}

Test(resync, healthy_lake_needs_nothing) {
    add_csv("ok", "id,v\n1,a\n2,b\n");
    json_t *doc = resync(NULL);
    cr_expect_eq(json_integer_value(json_object_get(doc, "checked")), 1);
    cr_expect_eq(json_array_size(json_object_get(doc, "repaired")), 0);
    cr_expect_eq(json_array_size(json_object_get(doc, "errors")), 0);
    json_decref(doc);
}

Test(resync, deleted_manifest_is_rewritten_with_metadata) {
    add_csv("m", "id,v\n1,a\n2,b\n3,c\n");
    json_t *patch = json_pack("{s:s, s:s}", "description", "kept", "owner", "ana");
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_catalog_patch_metadata(T.catalog, "m", patch, &err), 0, "%s", err.message);
    json_decref(patch);
    char *path = manifest_path("m");
    cr_assert_eq(unlink(path), 0);
    json_t *doc = resync("m");
    cr_assert(has(fixed_of(doc, "m"), "manifest_missing"));
    json_decref(doc);
    json_t *m = json_load_file(path, 0, NULL);
    cr_assert_not_null(m);
    cr_expect_eq(json_integer_value(json_object_get(m, "row_count")), 3);
    cr_expect_str_eq(json_string_value(json_object_get(m, "description")), "kept");
    cr_expect_str_eq(json_string_value(json_object_get(m, "owner")), "ana");
    json_decref(m);
    doc = resync("m"); /* idempotent */
    cr_expect_null(fixed_of(doc, "m"));
    json_decref(doc);
    free(path);
}

Test(resync, garbage_and_wrong_counts_are_repaired) {
    add_csv("g", "id\n1\n2\n");
    add_csv("w", "id\n1\n2\n3\n4\n");
    char *gp = manifest_path("g");
    FILE *f = fopen(gp, "w");
    cr_assert_not_null(f);
    fputs("{\"oops", f);
    fclose(f);
    char *wp = manifest_path("w");
    json_t *m = json_load_file(wp, 0, NULL);
    cr_assert_not_null(m);
    json_object_set_new(m, "row_count", json_integer(99));
    json_object_set_new(m, "fingerprint", json_string("bad"));
    cr_assert_eq(json_dump_file(m, wp, 0), 0);
    json_decref(m);
    json_t *doc = resync(NULL);
    cr_expect_eq(json_integer_value(json_object_get(doc, "checked")), 2);
    cr_expect(has(fixed_of(doc, "g"), "manifest_malformed"));
    cr_expect(has(fixed_of(doc, "w"), "row_count"));
    cr_expect(has(fixed_of(doc, "w"), "fingerprint"));
    cr_expect(!has(fixed_of(doc, "w"), "columns"));
    json_decref(doc);
    m = json_load_file(wp, 0, NULL);
    cr_expect_eq(json_integer_value(json_object_get(m, "row_count")), 4);
    json_decref(m);
    m = json_load_file(gp, 0, NULL);
    cr_assert_not_null(m);
    cr_expect_eq(json_integer_value(json_object_get(m, "row_count")), 2);
    json_decref(m);
    free(gp);
    free(wp);
}

Test(resync, missing_data_file_is_an_error_entry) {
    add_csv("d", "id\n1\n2\n");
    add_csv("d", "id\n3\n");
    lh_catalog_snap *s = lh_catalog_snapshot(T.catalog);
    const lh_dataset *d = lh_catalog_snap_find(s, "d");
    cr_assert_not_null(d);
    cr_assert_eq(d->nfiles, 2);
    char *victim = lh_xasprintf("%s/%s", d->table_root, d->files[1].path);
    char *rel = lh_xstrdup(d->files[1].path);
    lh_catalog_snap_unref(s);
    cr_assert_eq(unlink(victim), 0);
    json_t *doc = resync(NULL);
    const json_t *errs = json_object_get(doc, "errors");
    cr_assert_eq(json_array_size(errs), 1);
    const json_t *e0 = json_array_get(errs, 0);
    cr_expect_str_eq(json_string_value(json_object_get(e0, "dataset")), "d");
    cr_expect_str_eq(json_string_value(json_object_get(e0, "file")), rel);
    cr_expect_not_null(strstr(json_string_value(json_object_get(e0, "error")), "missing"));
    json_decref(doc);
    s = lh_catalog_snapshot(T.catalog);
    cr_expect_eq(lh_catalog_snap_find(s, "d")->row_count, 3); /* the log's count stays */
    lh_catalog_snap_unref(s);
    free(victim);
    free(rel);
}

Test(resync, unknown_dataset_is_not_found) {
    lh_err err = LH_ERR_INIT;
    cr_expect_null(lh_engine_resync(T.engine, "nope", &err));
    cr_expect_eq(err.code, LH_NOT_FOUND);
    json_t *fixed = NULL;
    lh_err err2 = LH_ERR_INIT;
    cr_expect_eq(lh_catalog_resync_manifest(T.catalog, "nope", NULL, 0, &fixed, &err2), -1);
    cr_expect_eq(err2.code, LH_NOT_FOUND);
    cr_expect_null(fixed);
}
