/* catalog: dataset entries (the immutable, refcounted lh_dataset values snapshots share),
 * columns with their metadata, the schema fingerprint and the exact schema check. The JSON
 * rendering of a dataset is in dataset_json.c. */
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
        free(cols[i].description);
        free(cols[i].pii);
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
        out[i].description = cols[i].description ? lh_xstrdup(cols[i].description) : NULL;
        out[i].pii = cols[i].pii ? lh_xstrdup(cols[i].pii) : NULL;
        out[i].sensitive = cols[i].sensitive;
    }
    return out;
}

static char *dup_or_null(const char *s)
{
    return s ? lh_xstrdup(s) : NULL;
}

long lh_cat__column_index(const lh_column *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return (long)i;
    return -1;
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
    dst->content_hash = dup_or_null(src->content_hash);
    dst->job_id = dup_or_null(src->job_id);
}

static void record_release(lh_commit_record *r)
{
    free(r->operation);
    free(r->source);
    free(r->file_name);
    free(r->actor);
    free(r->content_hash);
    free(r->job_id);
}

static char **strs_dup(char *const *s, size_t n)
{
    if (n == 0)
        return NULL;
    char **out = lh_xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = lh_xstrdup(s[i]);
    return out;
}

static void strs_free(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

lh_cat__entry *lh_cat__entry_dup(const lh_cat__entry *src)
{
    const lh_dataset *s = &src->d;
    lh_cat__entry *e = lh_cat__entry_new(s->name, s->bucket, s->table_root);
    lh_dataset *d = &e->d;
    d->table_id = dup_or_null(s->table_id);
    d->columns = lh_columns_dup(s->columns, s->ncolumns);
    d->ncolumns = s->ncolumns;
    if (s->ncolumns) {
        e->sens_user = lh_xcalloc(s->ncolumns, sizeof *e->sens_user);
        if (src->sens_user)
            memcpy(e->sens_user, src->sens_user, s->ncolumns * sizeof *e->sens_user);
    }
    memcpy(d->fingerprint, s->fingerprint, sizeof d->fingerprint);
    d->row_count = s->row_count;
    d->version = s->version;
    d->created_ms = s->created_ms;
    d->updated_ms = s->updated_ms;
    d->source = dup_or_null(s->source);
    d->description = dup_or_null(s->description);
    d->owner = dup_or_null(s->owner);
    d->sensitivity = dup_or_null(s->sensitivity);
    d->tags = strs_dup(s->tags, s->ntags);
    d->ntags = s->ntags;
    d->freshness_max_age_s = s->freshness_max_age_s;
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
    if (src->tombs) { /* immutable: shared, not copied */
        lh_cat__tombs_ref(src->tombs);
        e->tombs = src->tombs;
    }
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
    free(d->description);
    free(d->owner);
    free(d->sensitivity);
    strs_free(d->tags, d->ntags);
    for (size_t i = 0; i < d->nfiles; i++)
        free(d->files[i].path);
    free(d->files);
    for (size_t i = 0; i < d->nhistory; i++)
        record_release(&d->history[i]);
    free(d->history);
    json_decref(e->delta_schema);
    free(e->sens_user);
    strs_free(e->new_hashes, e->nnew_hashes);
    lh_cat__tombs_unref(e->tombs);
    free(e);
}

void lh_cat__entry_set_columns(lh_cat__entry *e, const lh_column *cols, size_t n)
{
    lh_column *copy = lh_columns_dup(cols, n);
    bool *marks = n ? lh_xcalloc(n, sizeof *marks) : NULL;
    for (size_t i = 0; i < n && e->sens_user; i++) {
        long old = lh_cat__column_index(e->d.columns, e->d.ncolumns, copy[i].name);
        marks[i] = old >= 0 && e->sens_user[old];
    }
    lh_columns_free(e->d.columns, e->d.ncolumns);
    free(e->sens_user);
    e->d.columns = copy;
    e->d.ncolumns = n;
    e->sens_user = marks;
    lh_cat__fingerprint(copy, n, e->d.fingerprint);
}

void lh_cat__entry_note_hash(lh_cat__entry *e, const char *hex)
{
    unsigned char raw[32];
    if (!hex || !lh_cat__hash_parse(hex, raw))
        return; /* a foreign log's odd value: kept in history, not indexed */
    e->new_hashes = lh_xrealloc(e->new_hashes, (e->nnew_hashes + 1) * sizeof *e->new_hashes);
    e->new_hashes[e->nnew_hashes++] = lh_xstrdup(hex);
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
