/* Tests for datasets in several buckets: a table created in a second bucket keeps its files,
 * log and manifest there, survives a reopen and takes appends; naming another bucket for an
 * existing table is a conflict, an unknown bucket an invalid argument; a name found in two
 * buckets resolves to the first bucket (primary, then configuration order). */
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

typedef struct bcat {
    char dir[64];
    char far[64]; /* the archive bucket's root, outside the data dir */
    lh_storage *s;
    lh_catalog *c;
} bcat;

static void bcat_open(bcat *t, const lh_bucket_spec *specs, size_t n)
{
    lh_err err = LH_ERR_INIT;
    t->s = lh_storage_open_with(t->dir, specs, n, &err);
    cr_assert_not_null(t->s, "storage: %s", err.message);
    t->c = lh_catalog_open(t->s, &err);
    cr_assert_not_null(t->c, "catalog: %s", err.message);
}

static void bcat_close(bcat *t)
{
    lh_catalog_close(t->c);
    lh_storage_close(t->s);
    t->c = NULL;
    t->s = NULL;
}

static void bcat_init(bcat *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/lh-catb-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    struct stat st;
    snprintf(t->far, sizeof t->far, "%s/lh-catb-far-XXXXXX",
             stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp");
    cr_assert_not_null(mkdtemp(t->far));
}

static void bcat_fini(bcat *t)
{
    if (t->s)
        bcat_close(t);
    lh_err err = LH_ERR_INIT;
    (void)!lh_remove_tree(t->dir, &err);
    (void)!lh_remove_tree(t->far, &err);
}

static int add_in(bcat *t, const char *name, const char *bucket, int64_t rows, int64_t *version,
                  lh_err *err)
{
    char *path = tcat_scratch(t->s, "PAR1 fake parquet PAR1");
    lh_add_file f = {.src_path = path, .move = true, .rows = rows};
    lh_commit_info info = {.source = "upload", .file_name = "x.csv", .bucket = bucket};
    int rc = lh_catalog_add_files(t->c, name, tcat_cols, 3, &f, 1, &info, version, err);
    if (rc != 0)
        unlink(path); /* a refused add leaves the scratch file to its caller */
    free(path);
    return rc;
}

static void add_in_ok(bcat *t, const char *name, const char *bucket, int64_t want_version)
{
    lh_err err = LH_ERR_INIT;
    int64_t v = -1;
    cr_assert_eq(add_in(t, name, bucket, 5, &v, &err), 0, "%s", err.message);
    cr_assert_eq(v, want_version);
}

static size_t count_in(bcat *t, const char *bucket, const char *prefix)
{
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(t->s, bucket, &err);
    cr_assert_not_null(b, "%s", err.message);
    lh_object_info *objs = NULL;
    size_t n = 0;
    cr_assert_eq(lh_bucket_list(b, prefix, 100000, &objs, &n, NULL, &err), 0);
    lh_object_infos_free(objs, n);
    return n;
}

static const lh_dataset *find(lh_catalog_snap *s, const char *name)
{
    const lh_dataset *d = lh_catalog_snap_find(s, name);
    cr_assert_not_null(d, "dataset %s missing", name);
    return d;
}

Test(catalog_buckets, create_in_second_bucket_reopen_append)
{
    bcat t = {0};
    bcat_init(&t);
    lh_bucket_spec specs[] = {{.name = "archive", .root = t.far}};
    bcat_open(&t, specs, 1);
    add_in_ok(&t, "events", "archive", 0);
    add_in_ok(&t, "local", NULL, 0);

    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = find(s, "events");
    cr_expect_str_eq(d->bucket, "archive");
    const char *root = lh_bucket_root(lh_storage_bucket(t.s, "archive", NULL));
    char *want_root = lh_xasprintf("%s/datasets/events", root);
    cr_expect_str_eq(d->table_root, want_root);
    free(want_root);
    cr_expect_str_eq(find(s, "local")->bucket, "primary");
    lh_catalog_snap_unref(s);
    /* Files, log and manifest are in the archive bucket, nothing of it in primary. */
    cr_expect_eq(count_in(&t, "archive", "datasets/events/part-"), 1);
    cr_expect_eq(count_in(&t, "archive", "datasets/events/_delta_log/"), 1);
    cr_expect_eq(count_in(&t, "archive", "_catalog/datasets/events.json"), 1);
    cr_expect_eq(count_in(&t, "primary", "datasets/events"), 0);
    cr_expect_eq(count_in(&t, "primary", "_catalog/datasets/events"), 0);

    /* Reopen: found in its bucket; appends (naming no bucket, or its own) stay there. */
    bcat_close(&t);
    bcat_open(&t, specs, 1);
    s = lh_catalog_snapshot(t.c);
    d = find(s, "events");
    cr_expect_str_eq(d->bucket, "archive");
    cr_expect_eq(d->row_count, 5);
    lh_catalog_snap_unref(s);
    add_in_ok(&t, "events", NULL, 1);
    add_in_ok(&t, "events", "archive", 2);
    cr_expect_eq(count_in(&t, "archive", "datasets/events/part-"), 3);
    cr_expect_eq(count_in(&t, "primary", "datasets/events"), 0);

    /* A metadata patch lands in the dataset's own manifest. */
    json_t *patch = json_pack("{s:s}", "owner", "data-team");
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_catalog_patch_metadata(t.c, "events", patch, &err), 0, "%s", err.message);
    json_decref(patch);
    char *mkey = lh_xasprintf("_catalog/datasets/events.json");
    size_t len = 0;
    char *text = lh_bucket_read_all(lh_storage_bucket(t.s, "archive", NULL), mkey, 1 << 20, &len,
                                    &err);
    cr_assert_not_null(text, "%s", err.message);
    cr_expect(strstr(text, "\"data-team\"") != NULL);
    cr_expect(strstr(text, "\"bucket\": \"archive\"") != NULL);
    free(text);
    free(mkey);
    bcat_fini(&t);
}

Test(catalog_buckets, another_or_unknown_bucket_is_refused)
{
    bcat t = {0};
    bcat_init(&t);
    lh_bucket_spec specs[] = {{.name = "archive", .root = t.far}};
    bcat_open(&t, specs, 1);
    add_in_ok(&t, "jobs", NULL, 0);
    lh_err err = LH_ERR_INIT;
    int64_t v = -1;
    cr_expect_eq(add_in(&t, "jobs", "archive", 5, &v, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_str_eq(err.message, "dataset 'jobs' lives in bucket 'primary', not 'archive'");
    cr_expect_eq(add_in(&t, "jobs", "nope", 5, &v, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect_str_eq(err.message, "unknown bucket 'nope': known buckets are primary, archive");
    cr_expect_eq(add_in(&t, "fresh", "nope", 5, &v, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    /* Nothing placed or committed by the refused adds. */
    cr_expect_eq(count_in(&t, "archive", ""), 0);
    cr_expect_eq(count_in(&t, "primary", "datasets/jobs/part-"), 1);
    cr_expect_eq(count_in(&t, "primary", "datasets/fresh"), 0);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_expect_null(lh_catalog_snap_find(s, "fresh"));
    cr_expect_eq(find(s, "jobs")->version, 0);
    lh_catalog_snap_unref(s);
    bcat_fini(&t);
}

/* Makes dataset `name` in bucket `bucket` through a storage that knows only that bucket, so
 * the same name can exist in several buckets (as two processes with different
 * configurations could leave it). */
static void create_alone(bcat *t, const lh_bucket_spec *spec, const char *name)
{
    bcat_open(t, spec, spec ? 1 : 0);
    add_in_ok(t, name, spec ? spec->name : NULL, 0);
    bcat_close(t);
}

Test(catalog_buckets, name_clash_keeps_the_first_bucket)
{
    bcat t = {0};
    bcat_init(&t);
    lh_bucket_spec archive = {.name = "archive", .root = t.far}, cold = {.name = "cold", .root = "cold"};
    create_alone(&t, &cold, "dup");
    create_alone(&t, NULL, "dup"); /* primary */
    create_alone(&t, &archive, "dup2");
    create_alone(&t, &cold, "dup2");

    lh_bucket_spec both[] = {archive, cold};
    bcat_open(&t, both, 2);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_count(s), 2);
    cr_expect_str_eq(find(s, "dup")->bucket, "primary");
    cr_expect_str_eq(find(s, "dup2")->bucket, "archive"); /* first in configuration order */
    lh_catalog_snap_unref(s);
    /* The ignored tables are left on disk as they were. */
    cr_expect_eq(count_in(&t, "cold", "datasets/dup/part-"), 1);
    cr_expect_eq(count_in(&t, "cold", "datasets/dup2/part-"), 1);
    /* Appends go to the table the catalog shows. */
    add_in_ok(&t, "dup2", NULL, 1);
    cr_expect_eq(count_in(&t, "archive", "datasets/dup2/part-"), 2);
    cr_expect_eq(count_in(&t, "cold", "datasets/dup2/part-"), 1);
    bcat_close(&t);

    lh_bucket_spec swapped[] = {cold, archive};
    bcat_open(&t, swapped, 2);
    s = lh_catalog_snapshot(t.c);
    cr_expect_str_eq(find(s, "dup2")->bucket, "cold");
    cr_expect_str_eq(find(s, "dup")->bucket, "primary");
    lh_catalog_snap_unref(s);
    bcat_fini(&t);
}
