/* Shared set-up for the ingest tests: a real lake in a fresh temp data dir, small helpers
 * to query it and to check that no scratch file is left behind. */
#ifndef LH_TEST_INGEST_FIXTURE_H
#define LH_TEST_INGEST_FIXTURE_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/ingest.h"

/* Not every test file uses every helper. */
#define FX_FN static __attribute__((unused))

static char tdir[64];
static lh_config tcfg;
static lh_lake *tlake;

FX_FN void lake_setup(void)
{
    snprintf(tdir, sizeof tdir, "/tmp/lh-ingest-XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
    lh_config_init(&tcfg);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_config_set(&tcfg, "server.data_dir", tdir, &err), 0, "%s", err.message);
    tlake = lh_lake_open(&tcfg, &err);
    cr_assert_not_null(tlake, "lake open: %s", err.message);
}

FX_FN void lake_teardown(void)
{
    lh_lake_close(tlake);
    tlake = NULL;
    lh_config_release(&tcfg);
    lh_err err = LH_ERR_INIT;
    if (lh_remove_tree(tdir, &err) != 0)
        cr_log_warn("cannot remove '%s': %s", tdir, err.message);
}

/* Files in the scratch dir (should be 0 between operations). */
FX_FN int scratch_count(void)
{
    DIR *d = opendir(lh_storage_work_dir(tlake->storage));
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

FX_FN char *fixture(const char *name)
{
    return lh_xasprintf("%s/%s", LH_TEST_FIXTURES, name);
}

/* Writes bytes to <tdir>/<name>; returns the owned path. */
FX_FN char *write_temp(const char *name, const void *data, size_t n)
{
    char *path = lh_xasprintf("%s/%s", tdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* Copies a file into a new scratch path; returns the owned scratch path. */
FX_FN char *copy_to_scratch(const char *src, const char *suffix)
{
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *data = lh_file_read_all(src, 1 << 20, &len, &err);
    cr_assert_not_null(data, "%s", err.message);
    char *dst = lh_storage_scratch_path(tlake->storage, suffix);
    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
    cr_assert(fd >= 0);
    cr_assert_eq(lh_write_full(fd, data, len, &err), 0);
    close(fd);
    free(data);
    return dst;
}

/* Runs SQL and returns the parsed JSON result document (owned). */
FX_FN json_t *q(const char *sql)
{
    lh_err err = LH_ERR_INIT;
    lh_query_req req = {.sql = sql, .format = LH_FMT_JSON};
    json_t *j = lh_query_json(tlake->engine, &req, &err);
    cr_assert_not_null(j, "query '%s': %s", sql, err.message);
    return j;
}

/* The first column of the first row, as an integer. */
FX_FN long long q_int(const char *sql)
{
    json_t *j = q(sql);
    json_t *v = json_array_get(json_array_get(json_object_get(j, "rows"), 0), 0);
    cr_assert(json_is_integer(v), "query '%s' gave no integer", sql);
    long long n = (long long)json_integer_value(v);
    json_decref(j);
    return n;
}

/* The first column of the first row, as an owned string. */
FX_FN char *q_str(const char *sql)
{
    json_t *j = q(sql);
    json_t *v = json_array_get(json_array_get(json_object_get(j, "rows"), 0), 0);
    cr_assert(json_is_string(v), "query '%s' gave no string", sql);
    char *s = lh_xstrdup(json_string_value(v));
    json_decref(j);
    return s;
}

FX_FN const lh_dataset *find_dataset(lh_catalog_snap *snap, const char *name)
{
    return lh_catalog_snap_find(snap, name);
}

FX_FN bool dataset_exists(const char *name)
{
    lh_catalog_snap *s = lh_catalog_snapshot(tlake->catalog);
    bool found = find_dataset(s, name) != NULL;
    lh_catalog_snap_unref(s);
    return found;
}

FX_FN int64_t dataset_version(const char *name)
{
    lh_catalog_snap *s = lh_catalog_snapshot(tlake->catalog);
    const lh_dataset *d = find_dataset(s, name);
    cr_assert_not_null(d, "dataset '%s' missing", name);
    int64_t v = d->version;
    lh_catalog_snap_unref(s);
    return v;
}

#endif
