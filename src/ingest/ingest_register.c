/* Registration: existing Parquet objects in the primary bucket become (or are appended to)
 * a dataset without copying their data. Everything is checked first — each key exists, is
 * Parquet, and all share one schema — so a failure registers nothing. */
#include "ingest/ingest.h"

#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

/* A ceiling on keys per registration: each becomes an add action of one commit. */
#define REGISTER_MAX_KEYS 10000

typedef struct reg_item {
    char *path;
    lh_column *cols;
    size_t ncols;
    int64_t rows;
} reg_item;

/* The first difference between two schemas, for the conflict message; false when equal. */
static bool schema_diff(const lh_column *a, size_t na, const lh_column *b, size_t nb,
                        char *out, size_t cap)
{
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a[i].name, b[i].name) != 0) {
            snprintf(out, cap, "column %zu is '%s' in one and '%s' in the other", i + 1,
                     a[i].name, b[i].name);
            return true;
        }
        if (strcmp(a[i].type, b[i].type) != 0) {
            snprintf(out, cap, "column '%s' is %s in one and %s in the other", a[i].name,
                     a[i].type, b[i].type);
            return true;
        }
    }
    if (na != nb) {
        snprintf(out, cap, "%zu columns against %zu", na, nb);
        return true;
    }
    return false;
}

/* A scratch path holding the object's bytes, for the engine: its sandbox may read only
 * the datasets/ tree and scratch, and an object being registered usually lives elsewhere
 * in the bucket. A hard link costs nothing (scratch and buckets share the data dir);
 * where linking is impossible the object is copied. The caller removes the path. */
static char *scratch_view(lh_lake *lake, lh_bucket *bucket, const char *key, lh_err *err)
{
    char *src = lh_bucket_path(bucket, key);
    char *dst = lh_storage_scratch_path(lake->storage, ".parquet");
    int linked = link(src, dst);
    free(src);
    if (linked == 0)
        return dst;
    uint64_t size = 0, copied = 0;
    int fd = lh_bucket_open_read(bucket, key, &size, err);
    if (fd < 0) {
        free(dst);
        return NULL;
    }
    int rc = lh_ingest__copy_to_scratch(fd, key, NULL, 0, dst, &copied, err);
    close(fd);
    if (rc != 0) {
        lh_ingest__unlink_scratch(dst);
        free(dst);
        return NULL;
    }
    return dst;
}

/* Checks one key and reads its Parquet footer into it. */
static int inspect_key(lh_lake *lake, lh_bucket *bucket, const char *key, reg_item *it,
                       lh_err *err)
{
    if (lh_storage_key_check(key, strlen(key), err) != 0)
        return -1;
    if (!lh_bucket_exists(bucket, key))
        return lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
    it->path = lh_bucket_path(bucket, key);
    char *view = scratch_view(lake, bucket, key, err);
    if (!view)
        return lh_err_prefix(err, "register '%s': ", key);
    lh_err e = LH_ERR_INIT;
    int rc = lh_engine_parquet_info(lake->engine, view, &it->cols, &it->ncols, &it->rows, &e);
    lh_ingest__unlink_scratch(view);
    free(view);
    if (rc == 0)
        return 0;
    if (e.code != LH_INVALID_ARGUMENT) {
        *err = e;
        return lh_err_prefix(err, "register '%s': ", key);
    }
    lh_err_set(err, LH_INVALID_ARGUMENT, "object '%s' is not a Parquet file", key);
    lh_err_detail(err, "%s", e.message);
    return -1;
}

json_t *lh_ingest_register(lh_lake *lake, const char *name, const char *const *keys,
                           size_t nkeys, const char *actor, lh_err *err)
{
    if (!name || !*name) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "a dataset name is required");
        return NULL;
    }
    if (lh_ingest__check_name(name, err) != 0)
        return NULL;
    if (nkeys == 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "register '%s': no objects given", name);
        return NULL;
    }
    if (nkeys > REGISTER_MAX_KEYS) {
        lh_err_set(err, LH_TOO_LARGE, "register '%s': %zu objects, at most %d per call", name,
                   nkeys, REGISTER_MAX_KEYS);
        return NULL;
    }
    lh_bucket *bucket = lh_storage_bucket(lake->storage, LH_BUCKET_PRIMARY, err);
    if (!bucket)
        return NULL;

    json_t *result = NULL;
    reg_item *items = lh_xcalloc(nkeys, sizeof *items);
    lh_add_file *adds = lh_xcalloc(nkeys, sizeof *adds);
    for (size_t i = 0; i < nkeys; i++) {
        if (!keys[i]) {
            lh_err_set(err, LH_INVALID_ARGUMENT, "register '%s': key %zu is missing", name,
                       i + 1);
            goto out;
        }
        if (inspect_key(lake, bucket, keys[i], &items[i], err) != 0)
            goto out;
        char why[256];
        if (i > 0 && schema_diff(items[0].cols, items[0].ncols, items[i].cols,
                                 items[i].ncols, why, sizeof why)) {
            lh_err_set(err, LH_CONFLICT, "objects '%s' and '%s' have different schemas",
                       keys[0], keys[i]);
            lh_err_detail(err, "%s", why);
            goto out;
        }
        adds[i] = (lh_add_file){.src_path = items[i].path, .move = false,
                                .src_key = keys[i], .rows = items[i].rows};
    }

    lh_commit_info info = {.operation = "REGISTER", .source = "register",
                           .file_name = NULL, .actor = actor};
    if (lh_catalog_add_files(lake->catalog, name, items[0].cols, items[0].ncols, adds, nkeys,
                             &info, NULL, err) != 0) {
        lh_err_prefix(err, "register '%s': ", name);
        goto out;
    }
    lh_catalog_snap *snap = lh_catalog_snapshot(lake->catalog);
    const lh_dataset *d = lh_catalog_snap_find(snap, name);
    if (d)
        result = lh_dataset_to_json(d, true);
    else
        lh_err_set(err, LH_INTERNAL, "register '%s': dataset missing after commit", name);
    lh_catalog_snap_unref(snap);
    LH_LOG_INFO("ingest", "registered dataset=%s objects=%zu", name, nkeys);
out:
    for (size_t i = 0; i < nkeys; i++) {
        free(items[i].path);
        if (items[i].cols)
            lh_columns_free(items[i].cols, items[i].ncols);
    }
    free(items);
    free(adds);
    return result;
}
