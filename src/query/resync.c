/* query: POST /catalog/resync-missing. Reads the Parquet footer of every live file of a
 * dataset (row count and columns: the catalog never reads Parquet) and hands the row counts
 * to lh_catalog_resync_manifest, which replays the Delta log and repairs the manifest.
 * A missing or unreadable data file is reported, never fatal: resync is the tool people
 * reach for when something is already broken. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "query/query_int.h"

/* At most this many error entries in one answer (a broken lake could have millions). */
#define RESYNC_ERRORS_MAX 1000

static void add_error(json_t *errors, const char *dataset, const char *file, const char *msg)
{
    if (json_array_size(errors) >= RESYNC_ERRORS_MAX)
        return;
    json_t *o = json_object();
    json_object_set_new(o, "dataset", json_string(dataset));
    if (file)
        json_object_set_new(o, "file", json_string(file));
    json_object_set_new(o, "error", json_string(msg));
    json_array_append_new(errors, o);
}

/* Footer of one live file: its rows (-1 when it cannot be read, with an errors entry) and a
 * check that each of its columns is in the table schema. */
static int64_t file_rows(lh_engine *e, const lh_dataset *d, const lh_data_file *f,
                         json_t *errors)
{
    char *path = lh_xasprintf("%s/%s", d->table_root, f->path);
    struct stat st;
    if (stat(path, &st) != 0) {
        char *msg = lh_xasprintf("data file referenced by the Delta log is %s",
                                 errno == ENOENT ? "missing" : strerror(errno));
        add_error(errors, d->name, f->path, msg);
        free(msg);
        free(path);
        return -1;
    }
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = -1;
    lh_err err = LH_ERR_INIT;
    if (lh_engine_parquet_info(e, path, &cols, &ncols, &rows, &err) != 0) {
        char *msg = lh_xasprintf("data file is not readable Parquet: %s", err.message);
        add_error(errors, d->name, f->path, msg);
        free(msg);
        free(path);
        return -1;
    }
    free(path);
    for (size_t i = 0; i < ncols; i++) {
        bool known = false;
        for (size_t k = 0; k < d->ncolumns && !known; k++)
            known = strcasecmp(cols[i].name, d->columns[k].name) == 0;
        if (!known) {
            char *msg = lh_xasprintf("column '%s' of the data file is not in the table schema",
                                     cols[i].name);
            add_error(errors, d->name, f->path, msg);
            free(msg);
        }
    }
    lh_columns_free(cols, ncols);
    return rows;
}

/* Resyncs one dataset: footers, then the catalog's repair. */
static void resync_one(lh_engine *e, const lh_dataset *d, json_t *repaired, json_t *errors)
{
    lh_file_rows *rows = d->nfiles ? lh_xcalloc(d->nfiles, sizeof *rows) : NULL;
    for (size_t i = 0; i < d->nfiles; i++) {
        rows[i].path = d->files[i].path;
        rows[i].rows = file_rows(e, d, &d->files[i], errors);
    }
    json_t *fixed = NULL;
    lh_err err = LH_ERR_INIT;
    if (lh_catalog_resync_manifest(e->catalog, d->name, rows, d->nfiles, &fixed, &err) != 0) {
        add_error(errors, d->name, NULL, err.message);
    } else if (json_array_size(fixed) > 0) {
        json_t *o = json_object();
        json_object_set_new(o, "dataset", json_string(d->name));
        json_object_set_new(o, "fixed", fixed);
        json_array_append_new(repaired, o);
        fixed = NULL;
    }
    json_decref(fixed);
    free(rows);
}

json_t *lh_engine_resync(lh_engine *e, const char *dataset, lh_err *err)
{
    if (!e) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "resync needs an engine");
        return NULL;
    }
    lh_catalog_snap *snap = lh_catalog_snapshot(e->catalog);
    if (dataset && !lh_catalog_snap_find(snap, dataset)) {
        lh_catalog_snap_unref(snap);
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", dataset);
        return NULL;
    }
    json_t *repaired = json_array();
    json_t *errors = json_array();
    size_t checked = 0;
    size_t n = lh_catalog_snap_count(snap);
    for (size_t i = 0; i < n; i++) {
        const lh_dataset *d = lh_catalog_snap_at(snap, i);
        if (dataset && strcmp(d->name, dataset) != 0)
            continue;
        resync_one(e, d, repaired, errors);
        checked++;
    }
    lh_catalog_snap_unref(snap);
    LH_LOG_INFO(LH_QUERY_LOG, "resync checked=%zu repaired=%zu errors=%zu", checked,
                json_array_size(repaired), json_array_size(errors));
    json_t *doc = json_object();
    json_object_set_new(doc, "checked", json_integer((json_int_t)checked));
    json_object_set_new(doc, "repaired", repaired);
    json_object_set_new(doc, "errors", errors);
    return doc;
}
