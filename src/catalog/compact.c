/* catalog: the commit side of compaction. lh_catalog_replace_files swaps a set of live data
 * files for new ones in one Delta commit (remove + add actions, put-if-absent, retried on a
 * lost race like an append); lh_catalog_delete_unreferenced removes the replaced files once
 * that commit is durable. Rewriting the Parquet itself is query's job (query/compact.c). */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

static bool is_live(const lh_dataset *d, const char *path)
{
    for (size_t i = 0; i < d->nfiles; i++)
        if (strcmp(d->files[i].path, path) == 0)
            return true;
    return false;
}

/* 0 when every old path is live in d; conflict otherwise. */
static int check_live(const lh_dataset *d, const char *const *old, size_t nold, lh_err *err)
{
    for (size_t i = 0; i < nold; i++)
        if (!is_live(d, old[i]))
            return lh_err_set(err, LH_CONFLICT, "dataset '%s': file %s is no longer part of "
                              "the table (changed since version read)", d->name, old[i]);
    return 0;
}

/* The commit text: commitInfo (an OPTIMIZE, not a blind append), the adds, the removes. */
static char *replace_text(const lh_cat__entry *e, int64_t v, int64_t ts,
                          const lh_commit_info *info, const lh_data_file *placed, size_t n,
                          const char *const *old, size_t nold, lh_err *err)
{
    const char *op = info && info->operation ? info->operation : "OPTIMIZE";
    char *text = lh_cat__commit_text(e, v, ts, info, op, placed, n, NULL, err);
    if (!text)
        return NULL;
    lh_buf b;
    lh_buf_init(&b);
    char *nl = strchr(text, '\n');
    json_t *ci = nl ? lh_json_parse(text, (size_t)(nl - text), err) : NULL;
    json_t *inner = ci ? json_object_get(ci, "commitInfo") : NULL;
    if (inner) {
        json_object_set_new(inner, "isBlindAppend", json_false());
        json_object_set_new(inner, "operationParameters", json_object());
        char *line = lh_json_dump(ci);
        lh_buf_printf(&b, "%s%s", line, nl);
        free(line);
    } else {
        lh_buf_puts(&b, text);
    }
    json_decref(ci);
    free(text);
    for (size_t i = 0; i < nold; i++) {
        json_t *r = json_pack("{s:{s:s, s:I, s:b}}", "remove", "path", old[i],
                              "deletionTimestamp", (json_int_t)ts, "dataChange", 1);
        char *line = lh_json_dump(r);
        lh_buf_printf(&b, "%s\n", line);
        free(line);
        json_decref(r);
    }
    return lh_buf_detach(&b, NULL);
}

/* Drops old paths from e and adds the placed files; row count and history follow. */
static void apply_replace(lh_cat__entry *e, int64_t v, int64_t ts, const lh_commit_info *info,
                          const lh_data_file *placed, size_t n, const char *const *old,
                          size_t nold)
{
    lh_dataset *d = &e->d;
    size_t keep = 0;
    for (size_t i = 0; i < d->nfiles; i++) {
        bool gone = false;
        for (size_t k = 0; k < nold && !gone; k++)
            gone = strcmp(d->files[i].path, old[k]) == 0;
        if (gone)
            free(d->files[i].path);
        else
            d->files[keep++] = d->files[i];
    }
    d->files = lh_xrealloc(d->files, (keep + n ? keep + n : 1) * sizeof *d->files);
    int64_t added = 0;
    for (size_t i = 0; i < n; i++) {
        d->files[keep + i] = placed[i];
        d->files[keep + i].path = lh_xstrdup(placed[i].path);
        added += placed[i].rows;
    }
    d->nfiles = keep + n;
    d->row_count = 0;
    for (size_t i = 0; i < d->nfiles; i++)
        d->row_count += d->files[i].rows > 0 ? d->files[i].rows : 0;
    d->version = v;
    d->updated_ms = ts;
    lh_commit_record rec = {
        .version = v,
        .timestamp_ms = ts,
        .operation = (char *)(info && info->operation ? info->operation : "OPTIMIZE"),
        .source = info ? (char *)info->source : NULL,
        .actor = info ? (char *)info->actor : NULL,
        .rows_added = added,
        .files_added = (int64_t)n,
        .job_id = info ? (char *)info->job_id : NULL,
    };
    lh_cat__entry_push_history(e, &rec);
}

int lh_catalog_replace_files(lh_catalog *c, const char *name, int64_t expected_version,
                             const char *const *old_paths, size_t nold, const lh_add_file *files,
                             size_t nnew, const lh_commit_info *info, int64_t *version,
                             lh_err *err)
{
    if (!name || !lh_name_valid(name))
        return lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name ? name : "");
    if (nold == 0 || !old_paths)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': no files to replace", name);
    for (size_t i = 0; i < nnew; i++)
        if (!files[i].move || !files[i].src_path || files[i].rows < 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': new file %zu must be a "
                              "scratch file with a row count", name, i + 1);
    lh_data_file *placed = lh_xcalloc(nnew ? nnew : 1, sizeof *placed);
    size_t nplaced = 0;
    lh_cat__entry *next = NULL;
    lh_bucket *b = NULL;
    int rc = -1;
    pthread_mutex_t *mu = lh_cat__stripe(c, name);
    pthread_mutex_lock(mu);
    lh_cat__entry *base = lh_cat__current_entry(c, name);
    if (!base) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name);
        goto out;
    }
    if (base->d.version < expected_version) {
        lh_err_set(err, LH_CONFLICT, "dataset '%s': version %lld is not known here", name,
                   (long long)expected_version);
        goto out;
    }
    if (check_live(&base->d, old_paths, nold, err) != 0)
        goto out;
    b = lh_cat__bucket_of(c, base);
    if (lh_cat__place_files(b, name, files, nnew, placed, &nplaced, err) != 0) {
        lh_err_prefix(err, "dataset '%s': ", name);
        goto out;
    }
    for (int attempt = 0;; attempt++) {
        if (attempt == LH_CAT_COMMIT_ATTEMPTS) {
            lh_err_set(err, LH_CONFLICT, "dataset '%s': gave up after %d concurrent commits",
                       name, attempt);
            goto out;
        }
        int64_t v = base->d.version + 1, ts = lh_now_ms();
        next = lh_cat__entry_dup(base);
        char *text = replace_text(next, v, ts, info, placed, nplaced, old_paths, nold, err);
        int w = text ? lh_cat__write_log(b, name, v, text, err) : -1;
        free(text);
        if (w < 0)
            goto out;
        if (w == 0) {
            apply_replace(next, v, ts, info, placed, nplaced, old_paths, nold);
            break;
        }
        lh_cat__entry_unref(next);
        next = NULL;
        lh_cat__backoff(attempt);
        lh_cat__entry *fresh = lh_cat__entry_dup(base);
        int64_t applied = 0;
        if (lh_cat__replay(b, fresh, &applied, err) != 0) {
            lh_cat__entry_unref(fresh);
            goto out;
        }
        if (applied > 0)
            lh_cat__publish(c, fresh);
        lh_cat__entry_unref(base);
        base = fresh;
        if (check_live(&base->d, old_paths, nold, err) != 0)
            goto out;
    }
    lh_err merr = LH_ERR_INIT;
    if (lh_cat__manifest_write(b, next, &merr) != 0)
        LH_LOG_WARN(LH_CAT_MOD, "manifest not written dataset=%s error=\"%s\"", name,
                    merr.message);
    lh_cat__publish(c, next);
    if (version)
        *version = next->d.version;
    LH_LOG_INFO(LH_CAT_MOD, "files replaced dataset=%s version=%lld removed=%zu added=%zu", name,
                (long long)next->d.version, nold, nplaced);
    rc = 0;
out:
    if (rc != 0 && b)
        lh_cat__unplace_files(b, name, placed, nplaced);
    pthread_mutex_unlock(mu);
    for (size_t i = 0; i < nplaced; i++)
        free(placed[i].path);
    free(placed);
    lh_cat__entry_unref(next);
    lh_cat__entry_unref(base);
    return rc;
}

void lh_catalog_delete_unreferenced(lh_catalog *c, const char *name, const char *const *paths,
                                    size_t n)
{
    pthread_mutex_t *mu = lh_cat__stripe(c, name);
    pthread_mutex_lock(mu); /* no commit can re-add a path while we decide */
    lh_cat__entry *e = lh_cat__current_entry(c, name);
    if (e) {
        lh_bucket *b = lh_cat__bucket_of(c, e);
        for (size_t i = 0; i < n; i++) {
            if (strchr(paths[i], '/') || is_live(&e->d, paths[i]))
                continue;
            char *key = lh_xasprintf("datasets/%s/%s", name, paths[i]);
            lh_err err = LH_ERR_INIT;
            if (lh_bucket_delete(b, key, &err) != 0 && err.code != LH_NOT_FOUND)
                LH_LOG_WARN(LH_CAT_MOD, "cannot remove replaced file key=%s error=\"%s\" "
                                        "(swept at a later open)", key, err.message);
            free(key);
        }
    }
    pthread_mutex_unlock(mu);
    lh_cat__entry_unref(e);
}
