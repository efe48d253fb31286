/* catalog: tombstones (soft delete). A batch of row keys is one file
 * _catalog/tombstones/<dataset>/<id>.json in the dataset's bucket, written atomically before
 * the call returns; the set of a dataset's batches is an immutable, refcounted object hung on
 * its snapshot entry, so publishing a batch bumps the generation and the query views (which
 * filter the rows out) follow. Compaction clears batches once their rows are gone. */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

#define TOMB_PREFIX "_catalog/tombstones/"
#define TOMB_BATCHES_MAX 10000
#define TOMB_FILE_MAX ((size_t)256 << 20)

static atomic_uint_fast64_t g_stamp = 1;

static void batch_release(lh_tombstone_batch *b)
{
    free(b->id);
    free(b->actor);
    free(b->reason);
    for (size_t i = 0; i < b->nkeys; i++)
        free(b->keys[i]);
    free(b->keys);
}

void lh_cat__tombs_ref(lh_cat__tombs *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void lh_cat__tombs_unref(lh_cat__tombs *t)
{
    if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < t->nbatches; i++)
        batch_release(&t->batches[i]);
    free(t->batches);
    free(t->keys);
    free(t->column);
    free(t);
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_batch(const void *a, const void *b)
{
    const lh_tombstone_batch *x = a, *y = b;
    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Takes ownership of batches (moved in); NULL when there are none. */
static lh_cat__tombs *tombs_build(const char *column, lh_tombstone_batch *batches, size_t n)
{
    if (n == 0) {
        free(batches);
        return NULL;
    }
    lh_cat__tombs *t = lh_xcalloc(1, sizeof *t);
    atomic_init(&t->refs, 1);
    t->column = lh_xstrdup(column);
    t->batches = batches;
    t->nbatches = n;
    qsort(t->batches, n, sizeof *t->batches, cmp_batch);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += batches[i].nkeys;
    t->keys = lh_xcalloc(total ? total : 1, sizeof *t->keys);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < batches[i].nkeys; j++)
            t->keys[k++] = batches[i].keys[j];
    qsort(t->keys, k, sizeof *t->keys, cmp_strp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || strcmp(t->keys[u - 1], t->keys[i]) != 0)
            t->keys[u++] = t->keys[i];
    t->pub = (lh_tombstones){.column = t->column, .batches = t->batches, .nbatches = n,
                             .keys = (const char *const *)t->keys, .nkeys = u,
                             .stamp = atomic_fetch_add(&g_stamp, 1)};
    return t;
}

static void batch_copy(lh_tombstone_batch *dst, const lh_tombstone_batch *src)
{
    dst->id = lh_xstrdup(src->id);
    dst->actor = src->actor ? lh_xstrdup(src->actor) : NULL;
    dst->reason = src->reason ? lh_xstrdup(src->reason) : NULL;
    dst->created_ms = src->created_ms;
    dst->nkeys = src->nkeys;
    dst->keys = lh_xcalloc(src->nkeys ? src->nkeys : 1, sizeof *dst->keys);
    for (size_t i = 0; i < src->nkeys; i++)
        dst->keys[i] = lh_xstrdup(src->keys[i]);
}

static char *batch_key(const char *name, const char *id)
{
    return lh_xasprintf(TOMB_PREFIX "%s/%s.json", name, id);
}

static json_t *batch_json(const char *name, const char *column, const lh_tombstone_batch *b)
{
    json_t *keys = json_array();
    for (size_t i = 0; i < b->nkeys; i++)
        json_array_append_new(keys, json_string(b->keys[i]));
    json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:I, s:o}", "format_version", 1, "id", b->id,
                          "dataset", name, "row_key_column", column, "created_ms",
                          (json_int_t)b->created_ms, "keys", keys);
    json_object_set_new(j, "actor", b->actor ? json_string(b->actor) : json_null());
    json_object_set_new(j, "reason", b->reason ? json_string(b->reason) : json_null());
    return j;
}

/* Parses one batch file; its column goes to *column (borrowed from j). */
static int batch_parse(const json_t *j, const char *id, lh_tombstone_batch *out,
                       const char **column, lh_err *err)
{
    memset(out, 0, sizeof *out);
    const char *fid = lh_json_str(j, "id", true, err);
    *column = fid ? lh_json_str(j, "row_key_column", true, err) : NULL;
    if (!fid || !*column)
        return -1;
    if (strcmp(fid, id) != 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "batch id '%s' does not match its file",
                          fid);
    const json_t *keys = json_object_get(j, "keys");
    if (!json_is_array(keys) || json_array_size(keys) > LH_TOMBSTONE_BATCH_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'keys' must be an array of at most %d",
                          LH_TOMBSTONE_BATCH_MAX);
    int64_t created = 0;
    if (lh_json_int(j, "created_ms", false, 0, &created, err) != 0)
        return -1;
    size_t n = json_array_size(keys);
    out->keys = lh_xcalloc(n ? n : 1, sizeof *out->keys);
    for (size_t i = 0; i < n; i++) {
        const char *k = json_string_value(json_array_get(keys, i));
        if (!k) {
            batch_release(out);
            return lh_err_set(err, LH_INVALID_ARGUMENT, "key %zu is not a string", i);
        }
        out->keys[out->nkeys++] = lh_xstrdup(k);
    }
    const char *actor = json_string_value(json_object_get(j, "actor"));
    const char *reason = json_string_value(json_object_get(j, "reason"));
    out->id = lh_xstrdup(id);
    out->actor = actor ? lh_xstrdup(actor) : NULL;
    out->reason = reason ? lh_xstrdup(reason) : NULL;
    out->created_ms = created;
    return 0;
}

void lh_cat__tombs_load(lh_bucket *b, lh_cat__entry *e)
{
    char *prefix = lh_xasprintf(TOMB_PREFIX "%s/", e->d.name);
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool truncated = false;
    lh_err err = LH_ERR_INIT;
    if (lh_bucket_list(b, prefix, TOMB_BATCHES_MAX, &objs, &n, &truncated, &err) != 0) {
        LH_LOG_WARN(LH_CAT_MOD, "cannot list tombstones dataset=%s error=\"%s\"", e->d.name,
                    err.message);
        free(prefix);
        return;
    }
    if (truncated)
        LH_LOG_WARN(LH_CAT_MOD, "more than %d tombstone batches dataset=%s; the rest are not "
                                "loaded", TOMB_BATCHES_MAX, e->d.name);
    lh_tombstone_batch *batches = lh_xcalloc(n ? n : 1, sizeof *batches);
    size_t nb = 0, total = 0;
    char *column = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *rest = objs[i].key + strlen(prefix);
        if (!lh_str_has_suffix(rest, ".json") || strchr(rest, '/'))
            continue;
        char *id = lh_xstrndup(rest, strlen(rest) - 5);
        size_t len = 0;
        lh_err e2 = LH_ERR_INIT;
        char *text = lh_bucket_read_all(b, objs[i].key, TOMB_FILE_MAX, &len, &e2);
        json_t *j = text ? lh_json_parse(text, len, &e2) : NULL;
        const char *col = NULL;
        if (j && batch_parse(j, id, &batches[nb], &col, &e2) == 0) {
            if (column && strcmp(column, col) != 0) {
                LH_LOG_WARN(LH_CAT_MOD, "tombstone batch skipped: column %s, not %s key=%s",
                            col, column, objs[i].key);
                batch_release(&batches[nb]);
            } else if (total + batches[nb].nkeys > LH_TOMBSTONE_TOTAL_MAX) {
                LH_LOG_WARN(LH_CAT_MOD, "tombstone batch skipped: over %d keys key=%s",
                            LH_TOMBSTONE_TOTAL_MAX, objs[i].key);
                batch_release(&batches[nb]);
            } else {
                if (!column)
                    column = lh_xstrdup(col);
                total += batches[nb++].nkeys;
            }
        } else {
            LH_LOG_WARN(LH_CAT_MOD, "tombstone batch skipped key=%s error=\"%s\"", objs[i].key,
                        e2.message);
        }
        json_decref(j);
        free(text);
        free(id);
    }
    lh_object_infos_free(objs, n);
    free(prefix);
    lh_cat__tombs_unref(e->tombs);
    e->tombs = tombs_build(column, batches, nb);
    free(column);
}

/* Checks the request; 0 or -1 with err. */
static int check_keys(const char *name, const char *const *keys, size_t nkeys, lh_err *err)
{
    if (nkeys == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': no row keys", name);
    if (nkeys > LH_TOMBSTONE_BATCH_MAX)
        return lh_err_set(err, LH_TOO_LARGE, "dataset '%s': %zu row keys; at most %d per batch",
                          name, nkeys, LH_TOMBSTONE_BATCH_MAX);
    for (size_t i = 0; i < nkeys; i++) {
        size_t len = keys[i] ? strlen(keys[i]) : 0;
        if (len == 0 || len > LH_TOMBSTONE_KEY_MAX)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': row key %zu must be 1 "
                              "to %d bytes", name, i, LH_TOMBSTONE_KEY_MAX);
    }
    return 0;
}

int lh_catalog_add_tombstones(lh_catalog *c, const char *name, const char *column,
                              const char *const *keys, size_t nkeys, const char *actor,
                              const char *reason, char batch_id[37], lh_err *err)
{
    if (!name || !lh_name_valid(name))
        return lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name ? name : "");
    if (!column || !*column)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s': no row key column", name);
    if (check_keys(name, keys, nkeys, err) != 0)
        return -1;
    if ((actor && strlen(actor) > LH_CAT_OWNER_MAX) || (reason && strlen(reason) > LH_CAT_TEXT_MAX))
        return lh_err_set(err, LH_TOO_LARGE, "dataset '%s': actor or reason too long", name);
    pthread_mutex_t *mu = lh_cat__stripe(c, name);
    pthread_mutex_lock(mu);
    int rc = -1;
    lh_cat__entry *next = NULL;
    lh_cat__entry *base = lh_cat__current_entry(c, name);
    if (!base) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name);
        goto out;
    }
    long ci = lh_cat__column_index(base->d.columns, base->d.ncolumns, column);
    if (ci < 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s' has no column '%s'", name, column);
        goto out;
    }
    column = base->d.columns[ci].name; /* the table's spelling */
    lh_cat__tombs *old = base->tombs;
    if (old && strcmp(old->column, column) != 0) {
        lh_err_set(err, LH_CONFLICT, "dataset '%s': tombstones use row key column '%s'; all "
                   "batches of a dataset share one column", name, old->column);
        goto out;
    }
    size_t have = old ? old->pub.nkeys : 0;
    if (have + nkeys > LH_TOMBSTONE_TOTAL_MAX) {
        lh_err_set(err, LH_TOO_LARGE, "dataset '%s': more than %d tombstoned keys; compact "
                   "the dataset first", name, LH_TOMBSTONE_TOTAL_MAX);
        goto out;
    }
    lh_tombstone_batch nb = {.actor = (char *)actor, .reason = (char *)reason,
                             .created_ms = lh_now_ms(), .keys = (char **)keys, .nkeys = nkeys};
    char id[37];
    lh_uuid4(id);
    nb.id = id;
    json_t *j = batch_json(name, column, &nb);
    char *text = lh_json_dump(j);
    json_decref(j);
    char *key = batch_key(name, id);
    lh_bucket *b = lh_cat__bucket_of(c, base);
    int w = lh_bucket_put(b, key, text, strlen(text), err);
    free(key);
    free(text);
    if (w != 0) {
        lh_err_prefix(err, "dataset '%s': tombstones: ", name);
        goto out;
    }
    size_t n = (old ? old->nbatches : 0) + 1;
    lh_tombstone_batch *batches = lh_xcalloc(n, sizeof *batches);
    for (size_t i = 0; old && i < old->nbatches; i++)
        batch_copy(&batches[i], &old->batches[i]);
    batch_copy(&batches[n - 1], &nb);
    next = lh_cat__entry_dup(base);
    lh_cat__tombs_unref(next->tombs);
    next->tombs = tombs_build(column, batches, n);
    lh_cat__publish(c, next);
    memcpy(batch_id, id, 37);
    LH_LOG_INFO(LH_CAT_MOD, "tombstones added dataset=%s batch=%s keys=%zu", name, id, nkeys);
    rc = 0;
out:
    pthread_mutex_unlock(mu);
    lh_cat__entry_unref(next);
    lh_cat__entry_unref(base);
    return rc;
}

static bool id_listed(const char *id, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] && strcmp(ids[i], id) == 0)
            return true;
    return false;
}

int lh_catalog_clear_tombstones(lh_catalog *c, const char *name, const char *const *batch_ids,
                                size_t n, int64_t at_version, size_t *cleared, lh_err *err)
{
    if (cleared)
        *cleared = 0;
    pthread_mutex_t *mu = lh_cat__stripe(c, name);
    pthread_mutex_lock(mu);
    int rc = -1;
    lh_cat__entry *base = lh_cat__current_entry(c, name);
    if (!base) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name);
        goto out;
    }
    lh_cat__tombs *old = base->tombs;
    if (!old || n == 0 || (at_version >= 0 && base->d.version != at_version)) {
        rc = 0;
        goto out;
    }
    lh_bucket *b = lh_cat__bucket_of(c, base);
    lh_tombstone_batch *keep = lh_xcalloc(old->nbatches, sizeof *keep);
    size_t nkeep = 0, removed = 0;
    lh_err first = LH_ERR_INIT; /* the first delete that failed */
    for (size_t i = 0; i < old->nbatches; i++) {
        const lh_tombstone_batch *bt = &old->batches[i];
        if (id_listed(bt->id, batch_ids, n)) {
            char *key = batch_key(name, bt->id);
            lh_err derr = LH_ERR_INIT;
            int d = lh_bucket_delete(b, key, &derr);
            free(key);
            if (d == 0 || derr.code == LH_NOT_FOUND) {
                removed++;
                continue;
            }
            /* Still on disk: keep it in memory too, so the snapshot matches the bucket. */
            if (first.code == LH_OK)
                first = derr;
        }
        batch_copy(&keep[nkeep++], bt);
    }
    if (removed > 0) {
        lh_cat__entry *next = lh_cat__entry_dup(base);
        lh_cat__tombs_unref(next->tombs);
        next->tombs = tombs_build(old->column, keep, nkeep);
        lh_cat__publish(c, next);
        lh_cat__entry_unref(next);
    } else {
        for (size_t i = 0; i < nkeep; i++)
            batch_release(&keep[i]);
        free(keep);
    }
    if (cleared)
        *cleared = removed;
    if (first.code != LH_OK) {
        *err = first;
        goto out;
    }
    rc = 0;
out:
    pthread_mutex_unlock(mu);
    lh_cat__entry_unref(base);
    return rc;
}

const lh_tombstones *lh_catalog_snap_tombstones(const lh_catalog_snap *s, const char *name)
{
    const lh_dataset *d = lh_catalog_snap_find(s, name);
    if (!d)
        return NULL;
    const lh_cat__entry *e = (const lh_cat__entry *)d; /* d is the entry's first member */
    return e->tombs ? &e->tombs->pub : NULL;
}

json_t *lh_catalog_tombstones_json(const lh_catalog_snap *s, const char *name, lh_err *err)
{
    if (!name || !lh_catalog_snap_find(s, name)) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name ? name : "");
        return NULL;
    }
    const lh_tombstones *t = lh_catalog_snap_tombstones(s, name);
    json_t *arr = json_array();
    for (size_t i = 0; t && i < t->nbatches; i++) {
        const lh_tombstone_batch *b = &t->batches[i];
        char iso[32];
        lh_time_iso8601(b->created_ms, iso);
        json_t *o = json_pack("{s:s, s:s, s:I}", "id", b->id, "created_at", iso, "count",
                              (json_int_t)b->nkeys);
        json_object_set_new(o, "actor", b->actor ? json_string(b->actor) : json_null());
        json_object_set_new(o, "reason", b->reason ? json_string(b->reason) : json_null());
        json_array_append_new(arr, o);
    }
    json_t *doc = json_pack("{s:s, s:I, s:o}", "dataset", name, "key_count",
                            (json_int_t)(t ? t->nkeys : 0), "batches", arr);
    json_object_set_new(doc, "row_key_column", t ? json_string(t->column) : json_null());
    return doc;
}
