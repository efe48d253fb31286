/* catalog: dataset entries (the immutable, refcounted lh_dataset values snapshots share),
 * columns, the schema fingerprint and check, and the JSON rendering of a dataset. */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

void lh_columns_free(lh_column *cols, size_t n)
{
    if (!cols)
        return;
    for (size_t i = 0; i < n; i++) {
        free(cols[i].name);
        free(cols[i].type);
    }
    free(cols);
}

lh_column *lh_columns_dup(const lh_column *cols, size_t n)
{
    if (n == 0)
        return NULL;
    lh_column *out = lh_xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i].name = lh_xstrdup(cols[i].name ? cols[i].name : "");
        out[i].type = lh_xstrdup(cols[i].type ? cols[i].type : "");
    }
    return out;
}

static char *dup_or_null(const char *s)
{
    return s ? lh_xstrdup(s) : NULL;
}

lh_cat__entry *lh_cat__entry_new(const char *name, const char *bucket, const char *table_root)
{
    lh_cat__entry *e = lh_xcalloc(1, sizeof *e);
    atomic_init(&e->refs, 1);
    e->d.name = lh_xstrdup(name);
    e->d.bucket = lh_xstrdup(bucket);
    e->d.table_root = lh_xstrdup(table_root);
    e->d.version = -1;
    lh_cat__fingerprint(NULL, 0, e->d.fingerprint);
    return e;
}

static void record_copy(lh_commit_record *dst, const lh_commit_record *src)
{
    *dst = *src;
    dst->operation = dup_or_null(src->operation);
    dst->source = dup_or_null(src->source);
    dst->file_name = dup_or_null(src->file_name);
    dst->actor = dup_or_null(src->actor);
}

static void record_release(lh_commit_record *r)
{
    free(r->operation);
    free(r->source);
    free(r->file_name);
    free(r->actor);
}

lh_cat__entry *lh_cat__entry_dup(const lh_cat__entry *src)
{
    const lh_dataset *s = &src->d;
    lh_cat__entry *e = lh_cat__entry_new(s->name, s->bucket, s->table_root);
    lh_dataset *d = &e->d;
    d->table_id = dup_or_null(s->table_id);
    d->columns = lh_columns_dup(s->columns, s->ncolumns);
    d->ncolumns = s->ncolumns;
    memcpy(d->fingerprint, s->fingerprint, sizeof d->fingerprint);
    d->row_count = s->row_count;
    d->version = s->version;
    d->created_ms = s->created_ms;
    d->updated_ms = s->updated_ms;
    d->source = dup_or_null(s->source);
    if (s->nfiles) {
        d->files = lh_xcalloc(s->nfiles, sizeof *d->files);
        for (size_t i = 0; i < s->nfiles; i++) {
            d->files[i] = s->files[i];
            d->files[i].path = lh_xstrdup(s->files[i].path);
        }
        d->nfiles = s->nfiles;
    }
    if (s->nhistory) {
        d->history = lh_xcalloc(s->nhistory, sizeof *d->history);
        for (size_t i = 0; i < s->nhistory; i++)
            record_copy(&d->history[i], &s->history[i]);
        d->nhistory = s->nhistory;
    }
    e->delta_schema = src->delta_schema ? json_deep_copy(src->delta_schema) : NULL;
    return e;
}

void lh_cat__entry_ref(lh_cat__entry *e)
{
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

void lh_cat__entry_unref(lh_cat__entry *e)
{
    if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    lh_dataset *d = &e->d;
    free(d->name);
    free(d->bucket);
    free(d->table_root);
    free(d->table_id);
    lh_columns_free(d->columns, d->ncolumns);
    free(d->source);
    for (size_t i = 0; i < d->nfiles; i++)
        free(d->files[i].path);
    free(d->files);
    for (size_t i = 0; i < d->nhistory; i++)
        record_release(&d->history[i]);
    free(d->history);
    json_decref(e->delta_schema);
    free(e);
}

void lh_cat__entry_set_columns(lh_cat__entry *e, const lh_column *cols, size_t n)
{
    lh_column *copy = lh_columns_dup(cols, n);
    lh_columns_free(e->d.columns, e->d.ncolumns);
    e->d.columns = copy;
    e->d.ncolumns = n;
    lh_cat__fingerprint(copy, n, e->d.fingerprint);
}

void lh_cat__entry_push_history(lh_cat__entry *e, const lh_commit_record *r)
{
    lh_dataset *d = &e->d;
    if (d->nhistory == LH_CAT_HISTORY_MAX) {
        /* The log keeps every commit; memory and the manifest keep the newest ones. */
        record_release(&d->history[0]);
        memmove(d->history, d->history + 1, (d->nhistory - 1) * sizeof *d->history);
        d->nhistory--;
    } else {
        d->history = lh_xrealloc(d->history, (d->nhistory + 1) * sizeof *d->history);
    }
    record_copy(&d->history[d->nhistory++], r);
}

void lh_cat__fingerprint(const lh_column *cols, size_t n, char out[65])
{
    lh_sha256 *h = lh_sha256_new();
    for (size_t i = 0; i < n; i++) {
        lh_sha256_update(h, cols[i].name, strlen(cols[i].name));
        lh_sha256_update(h, "\t", 1);
        lh_sha256_update(h, cols[i].type, strlen(cols[i].type));
        lh_sha256_update(h, "\n", 1);
    }
    lh_sha256_final_hex(h, out);
}

int lh_cat__schema_check(const char *dataset, const lh_column *have, size_t nhave,
                         const lh_column *want, size_t nwant, lh_err *err)
{
    size_t n = nhave < nwant ? nhave : nwant;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(have[i].name, want[i].name) != 0)
            return lh_err_set(err, LH_CONFLICT,
                              "dataset '%s': column %zu is '%s' in the new file but '%s' in "
                              "the table",
                              dataset, i + 1, want[i].name, have[i].name);
        if (strcmp(have[i].type, want[i].type) != 0)
            return lh_err_set(err, LH_CONFLICT,
                              "dataset '%s': column '%s' is %s in the new file but %s in the "
                              "table",
                              dataset, want[i].name, want[i].type, have[i].type);
    }
    if (nwant > nhave)
        return lh_err_set(err, LH_CONFLICT,
                          "dataset '%s': column '%s' is in the new file but not in the table",
                          dataset, want[nhave].name);
    if (nhave > nwant)
        return lh_err_set(err, LH_CONFLICT,
                          "dataset '%s': column '%s' is in the table but not in the new file",
                          dataset, have[nwant].name);
    return 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *iso_time(int64_t ms)
{
    char buf[32];
    lh_time_iso8601(ms, buf);
    return json_string(buf);
}

json_t *lh_cat__history_json(const lh_commit_record *r)
{
    json_t *h = json_object();
    json_object_set_new(h, "version", json_integer(r->version));
    json_object_set_new(h, "timestamp", iso_time(r->timestamp_ms));
    json_object_set_new(h, "operation", str_or_null(r->operation));
    json_object_set_new(h, "source", str_or_null(r->source));
    json_object_set_new(h, "file_name", str_or_null(r->file_name));
    json_object_set_new(h, "actor", str_or_null(r->actor));
    json_object_set_new(h, "rows_added", json_integer(r->rows_added));
    json_object_set_new(h, "files_added", json_integer(r->files_added));
    return h;
}

json_t *lh_cat__columns_json(const lh_column *cols, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "name", cols[i].name, "type",
                                           cols[i].type));
    return a;
}

json_t *lh_dataset_to_json(const lh_dataset *d, bool detailed)
{
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(d->name));
    json_object_set_new(j, "bucket", json_string(d->bucket));
    json_object_set_new(j, "columns", lh_cat__columns_json(d->columns, d->ncolumns));
    json_object_set_new(j, "row_count", json_integer(d->row_count));
    json_object_set_new(j, "fingerprint", json_string(d->fingerprint));
    json_object_set_new(j, "version", json_integer(d->version));
    json_object_set_new(j, "created_at", iso_time(d->created_ms));
    json_object_set_new(j, "updated_at", iso_time(d->updated_ms));
    json_object_set_new(j, "source", str_or_null(d->source));
    json_object_set_new(j, "files", json_integer((json_int_t)d->nfiles));
    if (!detailed)
        return j;
    json_t *files = json_array();
    for (size_t i = 0; i < d->nfiles; i++)
        json_array_append_new(files, json_pack("{s:s, s:I, s:I}", "path", d->files[i].path,
                                               "size", (json_int_t)d->files[i].size, "rows",
                                               (json_int_t)d->files[i].rows));
    json_object_set_new(j, "data_files", files);
    json_t *hist = json_array();
    for (size_t i = 0; i < d->nhistory; i++)
        json_array_append_new(hist, lh_cat__history_json(&d->history[i]));
    json_object_set_new(j, "history", hist);
    return j;
}
