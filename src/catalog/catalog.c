/* catalog: open and rebuild. Everything the catalog knows is rebuilt from the lake at open:
 * each datasets/<name>/_delta_log of each bucket is replayed from version 0, the manifest
 * supplies exact column types (and is rewritten when missing or behind), a name found in two
 * buckets resolves to the earlier bucket, and part files no commit references
 * (a crash between placing and committing) are removed: at once when the process that placed
 * them is gone, after an hour otherwise.
 * Design: docs/internals/catalog.md */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog_int.h"

#define DATASETS_PREFIX "datasets/"

/* Splits "datasets/<name>/<rest>" into name (copied to out) and rest; false otherwise. */
static bool split_key(const char *key, char out[LH_NAME_MAX + 1], const char **rest)
{
    if (!lh_str_has_prefix(key, DATASETS_PREFIX))
        return false;
    const char *name = key + strlen(DATASETS_PREFIX);
    const char *slash = strchr(name, '/');
    if (!slash || slash == name || (size_t)(slash - name) > LH_NAME_MAX)
        return false;
    memcpy(out, name, (size_t)(slash - name));
    out[slash - name] = '\0';
    *rest = slash + 1;
    return lh_name_valid(out);
}

static bool is_part_file(const char *rest)
{
    return lh_str_has_prefix(rest, "part-") && lh_str_has_suffix(rest, ".parquet") &&
           !strchr(rest, '/');
}

/* Replays one table and reconciles its manifest. NULL when the table is unreadable or has
 * no version 0 (warned: the rest of the catalog still opens). */
static lh_cat__entry *load_table(lh_bucket *b, const char *name)
{
    char *rel = lh_xasprintf(DATASETS_PREFIX "%s", name);
    char *root = lh_bucket_path(b, rel);
    free(rel);
    lh_cat__entry *e = lh_cat__entry_new(name, lh_bucket_name(b), root);
    free(root);
    lh_err err = LH_ERR_INIT;
    int64_t applied = 0;
    if (lh_cat__replay(b, e, &applied, &err) != 0 || applied == 0) {
        if (applied == 0 && err.code == LH_OK)
            LH_LOG_WARN(LH_CAT_MOD, "dataset skipped: its log has no version 0 dataset=%s",
                        name);
        else
            LH_LOG_WARN(LH_CAT_MOD, "dataset skipped: unreadable log dataset=%s error=\"%s\"",
                        name, err.message);
        lh_cat__entry_unref(e);
        return NULL;
    }
    bool current = false;
    lh_cat__manifest_merge(b, e, &current);
    lh_cat__tombs_load(b, e);
    if (!current) {
        /* Missing or behind (a crash between commit and manifest write): the log wins. */
        if (lh_cat__manifest_write(b, e, &err) != 0)
            LH_LOG_WARN(LH_CAT_MOD, "cannot rewrite manifest dataset=%s error=\"%s\"", name,
                        err.message);
        else
            LH_LOG_INFO(LH_CAT_MOD, "manifest rebuilt from the log dataset=%s version=%lld",
                        name, (long long)e->d.version);
    }
    return e;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool referenced(const lh_dataset *d, char **sorted_paths, const char *rel)
{
    return d->nfiles &&
           bsearch(&rel, sorted_paths, d->nfiles, sizeof *sorted_paths, cmp_str) != NULL;
}

/* The writer's pid in "part-<pid>-<uuid>.parquet", or 0 for a name without one. */
static long part_writer_pid(const char *rest)
{
    const char *p = rest + strlen("part-");
    char *end = NULL;
    errno = 0;
    long pid = strtol(p, &end, 10);
    if (errno != 0 || end == p || *end != '-' || pid <= 0 || strlen(end + 1) != 36 + 8)
        return 0; /* 36 uuid characters, then ".parquet" */
    return pid;
}

/* True only when the process is known to be gone; our own pid is never gone. */
static bool writer_gone(long pid)
{
    return pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Whether the log of `name` now has a version past `version` (-1: any version): a writer
 * committed while we were opening, so its files may look unreferenced to us. */
static bool log_moved(lh_bucket *b, const char *name, int64_t version)
{
    char *key = lh_xasprintf(DATASETS_PREFIX "%s/_delta_log/%020lld.json", name,
                             (long long)(version + 1));
    bool moved = lh_bucket_exists(b, key);
    free(key);
    return moved;
}

/* Removes part files of `d` (or of a directory with no table, d == NULL) that no commit
 * references, when their writer is gone or they are older than LH_CAT_ORPHAN_AGE_MS.
 * Younger files of a live writer may be between placing and committing. */
static void sweep_orphans(lh_bucket *b, const lh_dataset *d, const lh_object_info *objs,
                          size_t from, size_t to)
{
    char **paths = NULL;
    if (d && d->nfiles) {
        paths = lh_xcalloc(d->nfiles, sizeof *paths);
        for (size_t i = 0; i < d->nfiles; i++)
            paths[i] = d->files[i].path;
        qsort(paths, d->nfiles, sizeof *paths, cmp_str);
    }
    int64_t cutoff = lh_now_ms() - LH_CAT_ORPHAN_AGE_MS;
    bool checked_log = false;
    for (size_t i = from; i < to; i++) {
        char name[LH_NAME_MAX + 1];
        const char *rest;
        if (!split_key(objs[i].key, name, &rest) || !is_part_file(rest))
            continue;
        if (d && referenced(d, paths, rest))
            continue;
        if (objs[i].mtime_ms > cutoff && !writer_gone(part_writer_pid(rest)))
            continue;
        /* Checked after the writer was found gone: a commit it made before dying shows. */
        if (!checked_log) {
            checked_log = true;
            if (log_moved(b, name, d ? d->version : -1))
                break;
        }
        lh_err err = LH_ERR_INIT;
        if (lh_bucket_delete(b, objs[i].key, &err) != 0)
            LH_LOG_WARN(LH_CAT_MOD, "cannot remove orphan key=%s error=\"%s\"", objs[i].key,
                        err.message);
        else
            LH_LOG_INFO(LH_CAT_MOD, "removed uncommitted data file key=%s", objs[i].key);
    }
    free(paths);
}

/* A table found while scanning: its entry and the position of its bucket in storage's
 * order, which decides a name clash. */
typedef struct found {
    lh_cat__entry *e;
    size_t bucket_rank;
} found;

typedef struct found_list {
    found *items;
    size_t n;
} found_list;

static int cmp_found(const void *a, const void *b)
{
    const found *x = a, *y = b;
    int cmp = strcmp(x->e->d.name, y->e->d.name);
    if (cmp != 0)
        return cmp;
    return x->bucket_rank < y->bucket_rank ? -1 : x->bucket_rank > y->bucket_rank;
}

/* Loads every table of bucket b into out and sweeps its orphaned part files. */
static int scan_bucket(lh_bucket *b, size_t rank, found_list *out, lh_err *err)
{
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool truncated = false;
    if (lh_bucket_list(b, DATASETS_PREFIX, LH_CAT_LIST_MAX, &objs, &n, &truncated, err) != 0)
        return lh_err_prefix(err, "catalog: ");
    if (truncated)
        LH_LOG_WARN(LH_CAT_MOD, "more than %zu objects under datasets/ of bucket %s; later "
                                "datasets are not loaded", LH_CAT_LIST_MAX, lh_bucket_name(b));
    /* Keys are sorted, so each dataset's keys form one run [i, j). */
    for (size_t i = 0; i < n;) {
        char name[LH_NAME_MAX + 1], other[LH_NAME_MAX + 1];
        const char *rest;
        if (!split_key(objs[i].key, name, &rest)) {
            i++;
            continue;
        }
        bool has_log = false;
        size_t j = i;
        while (j < n && split_key(objs[j].key, other, &rest) && strcmp(other, name) == 0) {
            has_log = has_log || lh_str_has_prefix(rest, "_delta_log/");
            j++;
        }
        if (j == i)
            j = i + 1;
        lh_cat__entry *e = has_log ? load_table(b, name) : NULL;
        if (e) {
            out->items = lh_xrealloc(out->items, (out->n + 1) * sizeof *out->items);
            out->items[out->n++] = (found){.e = e, .bucket_rank = rank};
        }
        /* A table we could not read keeps all its files: we cannot tell which are live. A
         * table that loses a name clash is still a table: its own log says what is live. */
        if (e || !has_log)
            sweep_orphans(b, e ? &e->d : NULL, objs, i, j);
        i = j;
    }
    lh_object_infos_free(objs, n);
    return 0;
}

static int rebuild(lh_catalog *c, lh_err *err)
{
    found_list all = {0};
    size_t nb = lh_storage_bucket_count(c->storage);
    for (size_t k = 0; k < nb; k++) {
        if (scan_bucket(lh_storage_bucket_at(c->storage, k), k, &all, err) != 0) {
            for (size_t i = 0; i < all.n; i++)
                lh_cat__entry_unref(all.items[i].e);
            free(all.items);
            return -1;
        }
    }
    /* Sorted by name, then bucket order: of a name found in several buckets, the first
     * bucket's table is kept (names are unique in the catalog, and SQL sees one table). */
    if (all.n > 1)
        qsort(all.items, all.n, sizeof *all.items, cmp_found);
    lh_cat__entry **entries = all.n ? lh_xcalloc(all.n, sizeof *entries) : NULL;
    size_t nentries = 0;
    for (size_t i = 0; i < all.n; i++) {
        lh_cat__entry *e = all.items[i].e;
        if (nentries && strcmp(entries[nentries - 1]->d.name, e->d.name) == 0) {
            LH_LOG_WARN(LH_CAT_MOD, "dataset name clash: dataset=%s is in bucket=%s and "
                                    "bucket=%s; using bucket=%s, the other is ignored",
                        e->d.name, entries[nentries - 1]->d.bucket, e->d.bucket,
                        entries[nentries - 1]->d.bucket);
            lh_cat__entry_unref(e);
            continue;
        }
        entries[nentries++] = e;
    }
    free(all.items);

    lh_catalog_snap *s = lh_cat__snap_new(entries, nentries, 1);
    s->hidx = lh_cat__hidx_build(entries, nentries); /* every commit's content hash */
    for (size_t i = 0; i < nentries; i++)
        lh_cat__entry_unref(entries[i]); /* the snapshot holds them now */
    free(entries);
    c->current = s;
    atomic_store(&c->generation, s->generation);
    return 0;
}

lh_catalog *lh_catalog_open(lh_storage *storage, lh_err *err)
{
    if (!storage)
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "catalog needs storage"), NULL);
    lh_catalog *c = lh_xcalloc(1, sizeof *c);
    c->storage = storage;
    double t0 = lh_mono_ms();
    if (rebuild(c, err) != 0) {
        free(c);
        return NULL;
    }
    c->current->views = lh_cat__views_load(c); /* nobody else sees c yet */
    pthread_mutex_init(&c->snap_mu, NULL);
    pthread_mutex_init(&c->publish_mu, NULL);
    for (size_t i = 0; i < LH_CAT_COMMIT_STRIPES; i++)
        pthread_mutex_init(&c->commit_mu[i], NULL);
    LH_LOG_INFO(LH_CAT_MOD, "catalog open datasets=%zu ms=%.1f", c->current->n,
                lh_mono_ms() - t0);
    return c;
}

void lh_catalog_close(lh_catalog *c)
{
    if (!c)
        return;
    lh_catalog_snap_unref(c->current);
    c->current = NULL;
    pthread_mutex_destroy(&c->snap_mu);
    pthread_mutex_destroy(&c->publish_mu);
    for (size_t i = 0; i < LH_CAT_COMMIT_STRIPES; i++)
        pthread_mutex_destroy(&c->commit_mu[i]);
    free(c);
}

lh_bucket *lh_cat__bucket_of(lh_catalog *c, const lh_cat__entry *e)
{
    lh_bucket *b = lh_storage_bucket(c->storage, e->d.bucket, NULL);
    LH_ASSERT(b != NULL);
    return b;
}

bool lh_catalog_owns_key(const char *key)
{
    static const char *const owned[] = {"datasets/", "_catalog/"};
    for (size_t i = 0; i < LH_ARRAY_LEN(owned); i++)
        if (lh_str_has_prefix(key, owned[i]))
            return true;
    return false;
}
