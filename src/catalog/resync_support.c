/* catalog: the catalog side of POST /catalog/resync-missing (lh_catalog_resync_manifest).
 * The query module reads the Parquet footers (the catalog never reads Parquet) and hands
 * their row counts here; this file replays the Delta log again, checks the manifest on disk
 * against the result, and rewrites it (keeping the rich metadata) when it is missing,
 * malformed or wrong. All under the dataset's commit stripe, so it never races a commit. */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

static int cmp_rows(const void *a, const void *b)
{
    return strcmp(((const lh_file_rows *)a)->path, ((const lh_file_rows *)b)->path);
}

/* Sets each live file's row count from its footer; true when any changed. */
static bool apply_footer_rows(lh_dataset *d, const lh_file_rows *rows, size_t nrows)
{
    if (nrows == 0)
        return false;
    lh_file_rows *sorted = lh_xcalloc(nrows, sizeof *sorted);
    size_t n = 0;
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].path && rows[i].rows >= 0)
            sorted[n++] = rows[i];
    qsort(sorted, n, sizeof *sorted, cmp_rows);
    bool changed = false;
    for (size_t i = 0; i < d->nfiles; i++) {
        lh_file_rows key = {.path = d->files[i].path};
        const lh_file_rows *hit = n ? bsearch(&key, sorted, n, sizeof *sorted, cmp_rows) : NULL;
        if (hit && hit->rows != d->files[i].rows) {
            d->files[i].rows = hit->rows;
            changed = true;
        }
    }
    free(sorted);
    return changed;
}

static int64_t live_rows(const lh_dataset *d)
{
    int64_t sum = 0;
    for (size_t i = 0; i < d->nfiles; i++)
        if (d->files[i].rows > 0)
            sum += d->files[i].rows;
    return sum;
}

/* Whether the manifest's columns are the entry's (names and exact types, in order). */
static bool columns_equal(const json_t *m, const lh_dataset *d)
{
    const json_t *arr = json_object_get(m, "columns");
    if (!json_is_array(arr) || json_array_size(arr) != d->ncolumns)
        return false;
    for (size_t i = 0; i < d->ncolumns; i++) {
        const json_t *c = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *type = json_string_value(json_object_get(c, "type"));
        if (!name || !type || strcmp(name, d->columns[i].name) != 0 ||
            strcmp(type, d->columns[i].type) != 0)
            return false;
    }
    return true;
}

static bool int_member_is(const json_t *m, const char *key, int64_t want)
{
    const json_t *v = json_object_get(m, key);
    return json_is_integer(v) && (int64_t)json_integer_value(v) == want;
}

static bool str_member_is(const json_t *m, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(m, key));
    return v && want && strcmp(v, want) == 0;
}

/* Reads the manifest: the parsed object, or NULL with *state naming why not. */
static json_t *read_manifest(lh_bucket *b, const char *name, const char **state)
{
    char *key = lh_cat__manifest_key(name);
    size_t len = 0;
    lh_err err = LH_ERR_INIT;
    char *text = lh_bucket_read_all(b, key, LH_CAT_MANIFEST_MAX, &len, &err);
    free(key);
    if (!text) {
        *state = err.code == LH_NOT_FOUND ? "manifest_missing" : "manifest_unreadable";
        return NULL;
    }
    json_t *m = lh_json_parse(text, len, &err);
    free(text);
    if (!m || !json_is_object(m)) {
        json_decref(m);
        *state = "manifest_malformed";
        return NULL;
    }
    return m;
}

int lh_catalog_resync_manifest(lh_catalog *c, const char *name, const lh_file_rows *rows,
                               size_t nrows, json_t **fixed, lh_err *err)
{
    *fixed = NULL;
    if (!name || !lh_name_valid(name))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "invalid dataset name '%s'",
                          name ? name : "");
    int rc = -1;
    json_t *out = json_array();
    json_t *m = NULL;
    lh_cat__entry *e = NULL;
    pthread_mutex_t *mu = lh_cat__stripe(c, name);
    pthread_mutex_lock(mu);
    lh_cat__entry *base = lh_cat__current_entry(c, name);
    if (!base) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name);
        goto out;
    }
    lh_bucket *b = lh_cat__bucket_of(c, base);
    e = lh_cat__entry_dup(base);
    int64_t applied = 0;
    if (lh_cat__replay(b, e, &applied, err) != 0) {
        lh_err_prefix(err, "dataset '%s': delta log: ", name);
        goto out;
    }
    if (applied > 0)
        json_array_append_new(out, json_string("log"));

    const char *state = NULL;
    m = read_manifest(b, name, &state);
    bool same_table = m && str_member_is(m, "table_id", e->d.table_id);
    if (same_table) {
        /* Adopts the manifest's rich metadata (and exact types it can vouch for); what the
         * log knows stays the log's. */
        bool current = false;
        lh_cat__manifest_merge(b, e, &current);
    }
    bool rows_changed = apply_footer_rows(&e->d, rows, nrows);
    if (rows_changed)
        json_array_append_new(out, json_string("file_rows"));
    e->d.row_count = live_rows(&e->d);

    if (!m) {
        json_array_append_new(out, json_string(state));
        if (rows_changed)
            json_array_append_new(out, json_string("row_count"));
    } else {
        if (!same_table)
            json_array_append_new(out, json_string("table_id"));
        if (!int_member_is(m, "version", e->d.version))
            json_array_append_new(out, json_string("version"));
        if (!int_member_is(m, "row_count", e->d.row_count) || rows_changed)
            json_array_append_new(out, json_string("row_count"));
        if (!columns_equal(m, &e->d))
            json_array_append_new(out, json_string("columns"));
        if (!str_member_is(m, "fingerprint", e->d.fingerprint))
            json_array_append_new(out, json_string("fingerprint"));
    }
    if (json_array_size(out) > 0) {
        if (lh_cat__manifest_write(b, e, err) != 0)
            goto out;
        lh_cat__publish(c, e);
        LH_LOG_INFO(LH_CAT_MOD, "manifest resynced dataset=%s version=%lld rows=%lld", name,
                    (long long)e->d.version, (long long)e->d.row_count);
    }
    rc = 0;
out:
    pthread_mutex_unlock(mu);
    lh_cat__entry_unref(e);
    lh_cat__entry_unref(base);
    json_decref(m);
    if (rc == 0)
        *fixed = out;
    else
        json_decref(out);
    return rc;
}
