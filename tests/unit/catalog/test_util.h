/* Shared helpers for the catalog unit tests: a temporary data dir, storage + catalog open,
 * fake ".parquet" scratch files (the catalog never reads their contents) and one-file adds. */
#ifndef LH_TEST_CATALOG_UTIL_H
#define LH_TEST_CATALOG_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"

typedef struct tcat {
    char dir[64];
    lh_storage *s;
    lh_catalog *c;
} tcat;

static inline void tcat_open_catalog(tcat *t)
{
    lh_err err = LH_ERR_INIT;
    t->c = lh_catalog_open(t->s, &err);
    cr_assert_not_null(t->c, "catalog open: %s", err.message);
}

static inline void tcat_init(tcat *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/lh-cat-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    lh_err err = LH_ERR_INIT;
    t->s = lh_storage_open(t->dir, &err);
    cr_assert_not_null(t->s, "storage open: %s", err.message);
    tcat_open_catalog(t);
}

static inline void tcat_reopen(tcat *t)
{
    lh_catalog_close(t->c);
    tcat_open_catalog(t);
}

static inline void tcat_fini(tcat *t)
{
    lh_catalog_close(t->c);
    lh_storage_close(t->s);
    lh_err err = LH_ERR_INIT;
    (void)!lh_remove_tree(t->dir, &err);
}

/* A scratch file with some bytes; owned path. */
static inline char *tcat_scratch(lh_storage *s, const char *content)
{
    char *path = lh_storage_scratch_path(s, ".parquet");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(content, f);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static const lh_column tcat_cols[] = {{"id", "BIGINT"}, {"name", "VARCHAR"},
                                      {"salary", "BIGINT"}};

/* Adds one fake file of `rows` rows; returns the add result and fills *version. */
static inline int tcat_add(tcat *t, lh_catalog *c, const char *name, const lh_column *cols,
                           size_t ncols, int64_t rows, int64_t *version, lh_err *err)
{
    char *path = tcat_scratch(t->s, "PAR1 fake parquet PAR1");
    lh_add_file f = {.src_path = path, .move = true, .rows = rows};
    lh_commit_info info = {.source = "upload", .file_name = "jobs.csv", .actor = "alice"};
    int rc = lh_catalog_add_files(c, name, cols, ncols, &f, 1, &info, version, err);
    free(path);
    return rc;
}

static inline void tcat_add_ok(tcat *t, const char *name, int64_t rows, int64_t want_version)
{
    lh_err err = LH_ERR_INIT;
    int64_t v = -1;
    int rc = tcat_add(t, t->c, name, tcat_cols, 3, rows, &v, &err);
    cr_assert_eq(rc, 0, "add_files: %s", err.message);
    cr_assert_eq(v, want_version);
}

/* Number of objects under prefix in the primary bucket. */
static inline size_t tcat_count(tcat *t, const char *prefix)
{
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(t->s, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(b);
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool trunc = false;
    cr_assert_eq(lh_bucket_list(b, prefix, 100000, &objs, &n, &trunc, &err), 0, "%s",
                 err.message);
    lh_object_infos_free(objs, n);
    return n;
}

static inline lh_bucket *tcat_bucket(tcat *t)
{
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(t->s, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(b);
    return b;
}

/* Adds one fake file with the given commit info. */
static inline int tcat_add_info(tcat *t, lh_catalog *c, const char *name, const lh_column *cols,
                                size_t ncols, int64_t rows, const lh_commit_info *info,
                                int64_t *version, lh_err *err)
{
    char *path = tcat_scratch(t->s, "PAR1 fake parquet PAR1");
    lh_add_file f = {.src_path = path, .move = true, .rows = rows};
    int rc = lh_catalog_add_files(c, name, cols, ncols, &f, 1, info, version, err);
    free(path);
    return rc;
}

/* The manifest of dataset name as JSON, or NULL when there is none. */
static inline json_t *tcat_manifest(tcat *t, const char *name)
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

/* The JSON lines of one Delta log version, as an array of actions. */
static inline json_t *tcat_log(tcat *t, const char *name, int64_t version)
{
    char *key = lh_xasprintf("datasets/%s/_delta_log/%020lld.json", name, (long long)version);
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *text = lh_bucket_read_all(tcat_bucket(t), key, 1 << 20, &len, &err);
    cr_assert_not_null(text, "%s: %s", key, err.message);
    free(key);
    json_t *lines = json_array();
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        cr_assert_not_null(j, "not JSON: %s", line);
        json_array_append_new(lines, j);
    }
    free(text);
    return lines;
}

/* The first action of kind (e.g. "metaData") in a version's lines, borrowed, or NULL. */
static inline json_t *tcat_action(json_t *lines, const char *kind)
{
    for (size_t i = 0; i < json_array_size(lines); i++) {
        json_t *a = json_object_get(json_array_get(lines, i), kind);
        if (a)
            return a;
    }
    return NULL;
}

#endif
