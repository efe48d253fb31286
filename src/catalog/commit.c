/* catalog: the write path. lh_catalog_add_files places data files in the table directory
 * (in the table's bucket: the one it lives in, or info->bucket for a new table),
 * then creates the next Delta log version with put-if-absent (so no two writers, in this
 * process or another, can take the same version), then writes the manifest and publishes a
 * new snapshot. A failure before the log file is durable removes the placed files. The
 * commit carries lineage (commitInfo.lakehouse) and, under LH_SCHEMA_ADD_COLUMNS, a metaData
 * action when the files bring new columns. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <unistd.h>

#include "catalog/catalog_int.h"

static bool is_hex64(const char *s)
{
    unsigned char raw[32];
    return lh_cat__hash_parse(s, raw);
}

static int check_info(const char *name, const lh_commit_info *info, lh_err *err)
{
    if (!info)
        return 0;
    if (info->schema_mode != LH_SCHEMA_EXACT && info->schema_mode != LH_SCHEMA_ADD_COLUMNS)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': unknown schema mode %d",
                          name, (int)info->schema_mode);
    if (info->content_hash && !is_hex64(info->content_hash))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "dataset '%s': content hash must be 64 hex digits (sha256)", name);
    if (info->job_id && (!*info->job_id || strlen(info->job_id) > LH_CAT_JOB_ID_MAX))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "dataset '%s': job id must be 1 to %d bytes", name, LH_CAT_JOB_ID_MAX);
    return 0;
}

static int check_column_meta(const char *name, const lh_column *col, lh_err *err)
{
    if (col->pii && (!*col->pii || strlen(col->pii) > LH_CAT_TAG_LEN_MAX))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': column '%s': PII kind must "
                          "be 1 to %d bytes", name, col->name, LH_CAT_TAG_LEN_MAX);
    if (col->description && strlen(col->description) > LH_CAT_TEXT_MAX)
        return lh_err_set(err, LH_TOO_LARGE, "dataset '%s': column '%s': description longer "
                          "than %d bytes", name, col->name, LH_CAT_TEXT_MAX);
    return 0;
}

static int check_args(const char *name, const lh_column *cols, size_t ncols,
                      const lh_add_file *files, size_t nfiles, const lh_commit_info *info,
                      json_t **schema, lh_err *err)
{
    if (!name || !lh_name_valid(name))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "invalid dataset name '%s': use [a-z_][a-z0-9_]{0,62}",
                          name ? name : "");
    if (!files || nfiles == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': no files to add", name);
    if (!cols || ncols == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': no columns", name);
    for (size_t i = 0; i < ncols; i++) {
        if (!cols[i].name || !*cols[i].name || !cols[i].type)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': column %zu has no name "
                              "or type", name, i + 1);
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(cols[k].name, cols[i].name) == 0)
                return lh_err_set(err, LH_INVALID_ARGUMENT,
                                  "dataset '%s': duplicate column '%s'", name, cols[i].name);
        if (check_column_meta(name, &cols[i], err) != 0)
            return -1;
    }
    if (check_info(name, info, err) != 0)
        return -1;
    for (size_t i = 0; i < nfiles; i++) {
        const lh_add_file *f = &files[i];
        if (f->rows < 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': negative row count",
                              name);
        if (f->move ? !f->src_path : !f->src_key)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': file %zu has no %s",
                              name, i + 1, f->move ? "src_path" : "src_key");
        if (!f->move && lh_storage_key_check(f->src_key, strlen(f->src_key), err) != 0)
            return -1;
    }
    *schema = lh_cat__delta_struct(cols, ncols, err);
    if (!*schema)
        return lh_err_prefix(err, "dataset '%s': ", name);
    return 0;
}

void lh_cat__unplace_files(lh_bucket *b, const char *name, lh_data_file *placed, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *key = lh_xasprintf("datasets/%s/%s", name, placed[i].path);
        lh_err err = LH_ERR_INIT;
        if (lh_bucket_delete(b, key, &err) != 0 && err.code != LH_NOT_FOUND)
            LH_LOG_WARN(LH_CAT_MOD, "cannot remove uncommitted file key=%s error=\"%s\" "
                                    "(removed at a later open)", key, err.message);
        free(key);
    }
}

/* Moves or links each file to datasets/<name>/part-<pid>-<uuid>.parquet; fills placed[] and
 * *n (also on failure, so the caller can undo). The writer's pid in the name lets the next
 * open remove the file at once if this process dies before committing it. */
int lh_cat__place_files(lh_bucket *b, const char *name, const lh_add_file *files, size_t nfiles,
                        lh_data_file *placed, size_t *n, lh_err *err)
{
    for (size_t i = 0; i < nfiles; i++) {
        char uuid[37];
        lh_uuid4(uuid);
        char *rel = lh_xasprintf("part-%ld-%s.parquet", (long)getpid(), uuid);
        char *key = lh_xasprintf("datasets/%s/%s", name, rel);
        int rc = files[i].move ? lh_bucket_adopt_file(b, key, files[i].src_path, err)
                               : lh_bucket_link(b, files[i].src_key, key, err);
        if (rc != 0) {
            free(rel);
            free(key);
            return -1;
        }
        placed[i] = (lh_data_file){.path = rel, .rows = files[i].rows};
        (*n)++;
        rc = lh_bucket_stat(b, key, &placed[i].size, &placed[i].modification_ms, err);
        free(key);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* After a lost race: replays the versions this writer had not seen and publishes them (the
 * snapshot should show what is on disk). The schema is checked again by next_entry. */
static lh_cat__entry *new_entry(lh_bucket *b, const char *name)
{
    char *rel = lh_xasprintf("datasets/%s", name);
    char *root = lh_bucket_path(b, rel);
    lh_cat__entry *e = lh_cat__entry_new(name, lh_bucket_name(b), root);
    free(rel);
    free(root);
    return e;
}

static lh_cat__entry *catch_up(lh_catalog *c, lh_bucket *b, lh_cat__entry *base,
                               const char *name, lh_err *err)
{
    lh_cat__entry *fresh = base ? lh_cat__entry_dup(base) : new_entry(b, name);
    int64_t applied = 0;
    if (lh_cat__replay(b, fresh, &applied, err) != 0) {
        lh_cat__entry_unref(fresh);
        return NULL;
    }
    if (applied > 0)
        lh_cat__publish(c, fresh);
    if (fresh->d.version < 0) { /* only without a base: version 0 was taken, then vanished */
        lh_cat__entry_unref(fresh);
        lh_err_set(err, LH_CONFLICT, "dataset '%s': version 0 was taken but cannot be read",
                   name);
        return NULL;
    }
    return fresh;
}

/* The entry a commit leaves: base (or a fresh table) with the schema this commit gives it
 * (widened under LH_SCHEMA_ADD_COLUMNS) and the files' column flags merged in.
 * *prev_schema is base's Delta schema when the commit changes it (a metaData action), else
 * NULL. NULL + conflict when the files do not fit the table. */
static lh_cat__entry *next_entry(lh_bucket *b, const lh_cat__entry *base, const char *name,
                                 const lh_column *cols, size_t ncols, const json_t *schema,
                                 lh_schema_mode mode, int64_t now, const json_t **prev_schema,
                                 lh_err *err)
{
    *prev_schema = NULL;
    if (base) {
        lh_column *wide = NULL;
        size_t nwide = 0;
        if (lh_cat__schema_plan(name, base->d.columns, base->d.ncolumns, cols, ncols, mode,
                                &wide, &nwide, err) != 0)
            return NULL;
        lh_cat__entry *e = lh_cat__entry_dup(base);
        if (wide) {
            json_t *st = lh_cat__delta_struct(wide, nwide, err);
            if (!st) {
                lh_columns_free(wide, nwide);
                lh_cat__entry_unref(e);
                return NULL;
            }
            lh_cat__entry_set_columns(e, wide, nwide);
            lh_columns_free(wide, nwide);
            json_decref(e->delta_schema);
            e->delta_schema = st;
            LH_ASSERT(base->delta_schema != NULL);
            *prev_schema = base->delta_schema;
        }
        lh_cat__merge_column_flags(e, cols, ncols);
        return e;
    }
    lh_cat__entry *e = new_entry(b, name);
    char id[37];
    lh_uuid4(id);
    e->d.table_id = lh_xstrdup(id);
    e->d.created_ms = now;
    lh_cat__entry_set_columns(e, cols, ncols);
    e->delta_schema = json_deep_copy(schema);
    return e;
}

static void apply_commit(lh_cat__entry *e, int64_t version, int64_t ts, const char *op,
                         const lh_commit_info *info, const lh_data_file *placed, size_t n)
{
    lh_dataset *d = &e->d;
    d->files = lh_xrealloc(d->files, (d->nfiles + n) * sizeof *d->files);
    int64_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        d->files[d->nfiles + i] = placed[i];
        d->files[d->nfiles + i].path = lh_xstrdup(placed[i].path);
        rows += placed[i].rows;
    }
    d->nfiles += n;
    d->row_count += rows;
    d->version = version;
    d->updated_ms = ts;
    if (version == 0) {
        free(d->source);
        d->source = lh_xstrdup(info && info->source ? info->source : "external");
    }
    lh_commit_record rec = {
        .version = version,
        .timestamp_ms = ts,
        .operation = (char *)op,
        .source = info ? (char *)info->source : NULL,
        .file_name = info ? (char *)info->file_name : NULL,
        .actor = info ? (char *)info->actor : NULL,
        .rows_added = rows,
        .files_added = (int64_t)n,
        .content_hash = info ? (char *)info->content_hash : NULL,
        .job_id = info ? (char *)info->job_id : NULL,
    };
    lh_cat__entry_push_history(e, &rec);
    lh_cat__entry_note_hash(e, rec.content_hash);
}

/* The bucket the commit goes to: an existing table's own (naming another is a conflict),
 * else the one info names (primary by default; unknown is invalid_argument). */
static lh_bucket *table_bucket(lh_catalog *c, const lh_cat__entry *base, const char *name,
                               const lh_commit_info *info, lh_err *err)
{
    const char *want = info && info->bucket && *info->bucket ? info->bucket : NULL;
    lh_bucket *b = want || !base ? lh_storage_bucket_pick(c->storage, want, err) : NULL;
    if (!b && (want || !base))
        return NULL;
    if (!base)
        return b;
    if (want && strcmp(want, base->d.bucket) != 0) {
        lh_err_set(err, LH_CONFLICT, "dataset '%s' lives in bucket '%s', not '%s'", name,
                   base->d.bucket, want);
        return NULL;
    }
    return lh_cat__bucket_of(c, base);
}

pthread_mutex_t *lh_cat__stripe(lh_catalog *c, const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &c->commit_mu[h % LH_CAT_COMMIT_STRIPES];
}

/* After a lost race: sleep a random 0..2^attempt ms (at most 32), so two writers that keep
 * colliding fall out of step instead of losing to each other every time. */
void lh_cat__backoff(int attempt)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint32_t)lh_now_ms();
    long cap_ms = 1L << (attempt < 5 ? attempt : 5);
    long us = (long)(r % (uint32_t)(cap_ms * 1000 + 1));
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Writes the log file of `version`. 1 when another writer holds it (lost the race). */
int lh_cat__write_log(lh_bucket *b, const char *name, int64_t version, const char *text,
                      lh_err *err)
{
    char *key = lh_cat__log_key(name, version);
    lh_fault_point("catalog.before_commit");
    int rc = -1;
    if (lh_fault_hit("commit")) {
        lh_err_set(err, LH_IO_ERROR, "commit failed (injected)");
        goto out;
    }
    lh_err perr = LH_ERR_INIT;
    if (lh_bucket_put_if_absent(b, key, text, strlen(text), &perr) == 0) {
        rc = 0;
        goto out;
    }
    if (perr.code == LH_CONFLICT) {
        rc = 1;
        goto out;
    }
    /* A failure after the link (the directory fsync) leaves our commit in place: then it
     * happened, and undoing the placed files would break the table. */
    size_t len = 0;
    lh_err ignored = LH_ERR_INIT;
    char *have = lh_bucket_read_all(b, key, LH_CAT_LOG_MAX, &len, &ignored);
    if (have && len == strlen(text) && memcmp(have, text, len) == 0) {
        LH_LOG_WARN(LH_CAT_MOD, "commit reported \"%s\" but is in place dataset=%s version=%lld",
                    perr.message, name, (long long)version);
        rc = 0;
    } else {
        *err = perr;
    }
    free(have);
out:
    free(key);
    return rc;
}

int lh_catalog_add_files(lh_catalog *c, const char *name, const lh_column *cols, size_t ncols,
                         const lh_add_file *files, size_t nfiles, const lh_commit_info *info,
                         int64_t *version, lh_err *err)
{
    json_t *schema = NULL;
    if (check_args(name, cols, ncols, files, nfiles, info, &schema, err) != 0)
        return -1;
    lh_schema_mode mode = info ? info->schema_mode : LH_SCHEMA_EXACT;
    lh_data_file *placed = lh_xcalloc(nfiles, sizeof *placed);
    size_t nplaced = 0;
    lh_cat__entry *next = NULL;
    int rc = -1;

    pthread_mutex_t *mu = lh_cat__stripe(c, name);
    pthread_mutex_lock(mu);
    lh_cat__entry *base = lh_cat__current_entry(c, name);
    lh_bucket *b = table_bucket(c, base, name, info, err);
    if (!b)
        goto out;
    if (base) { /* refuse before placing anything; checked again per attempt */
        lh_column *wide = NULL;
        size_t nwide = 0;
        if (lh_cat__schema_plan(name, base->d.columns, base->d.ncolumns, cols, ncols, mode,
                                &wide, &nwide, err) != 0)
            goto out;
        lh_columns_free(wide, nwide);
    }
    if (lh_cat__place_files(b, name, files, nfiles, placed, &nplaced, err) != 0) {
        lh_err_prefix(err, "dataset '%s': ", name);
        goto out;
    }
    for (int attempt = 0;; attempt++) {
        if (attempt == LH_CAT_COMMIT_ATTEMPTS) {
            lh_err_set(err, LH_CONFLICT, "dataset '%s': gave up after %d concurrent commits",
                       name, attempt);
            goto out;
        }
        int64_t v = base ? base->d.version + 1 : 0;
        int64_t ts = lh_now_ms();
        const char *op = info && info->operation ? info->operation
                                                 : (v == 0 ? "CREATE TABLE" : "WRITE");
        const json_t *prev_schema = NULL;
        next = next_entry(b, base, name, cols, ncols, schema, mode, ts, &prev_schema, err);
        if (!next)
            goto out;
        char *text = lh_cat__commit_text(next, v, ts, info, op, placed, nplaced, prev_schema,
                                         err);
        int w = text ? lh_cat__write_log(b, name, v, text, err) : -1;
        free(text);
        if (w < 0)
            goto out;
        if (w == 0) {
            lh_fault_point("catalog.after_commit");
            apply_commit(next, v, ts, op, info, placed, nplaced);
            break;
        }
        LH_LOG_DEBUG(LH_CAT_MOD, "lost the race for a version, catching up dataset=%s "
                                 "version=%lld attempt=%d", name, (long long)v, attempt + 1);
        lh_cat__entry_unref(next);
        next = NULL;
        lh_cat__backoff(attempt);
        lh_cat__entry *fresh = catch_up(c, b, base, name, err);
        if (!fresh)
            goto out;
        lh_cat__entry_unref(base);
        base = fresh;
    }
    /* Durable from here on: a failed manifest write is repaired at the next open. */
    lh_err merr = LH_ERR_INIT;
    if (lh_cat__manifest_write(b, next, &merr) != 0)
        LH_LOG_WARN(LH_CAT_MOD, "manifest not written dataset=%s error=\"%s\"", name,
                    merr.message);
    lh_cat__publish(c, next);
    if (version)
        *version = next->d.version;
    LH_LOG_INFO(LH_CAT_MOD, "commit dataset=%s version=%lld files=%zu", name,
                (long long)next->d.version, nplaced);
    rc = 0;
out:
    if (rc != 0 && b)
        lh_cat__unplace_files(b, name, placed, nplaced);
    pthread_mutex_unlock(mu);
    for (size_t i = 0; i < nfiles; i++)
        free(placed[i].path);
    free(placed);
    lh_cat__entry_unref(next);
    lh_cat__entry_unref(base);
    json_decref(schema);
    return rc;
}
