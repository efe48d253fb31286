/* query/cache.c: the hot cache. Pinning a dataset materialises its current rows
 * (tombstones applied) into an in-memory DuckDB table lh_cache.main."<name>" and points the
 * dataset's view at it, so every query of that name, and every AI-safe view over it, reads
 * memory instead of Parquet. An entry remembers the table version it was loaded from (Delta version, file
 * count, creation time, tombstone stamp); the view sync reloads it whenever any of these
 * moved (append, tombstone, compaction), before the new views are published, so a cached
 * query never returns stale rows. The cache holds at most cache_max_bytes (DuckDB's own
 * count of in-memory table bytes); past it the least recently used entries are unloaded.
 * Pins are kept in _catalog/cache_pins.json of the primary bucket and loaded again at the
 * first view sync after a restart.
 *
 * Locking: loads, unloads and view changes happen under views_mu (with the view sync);
 * cache_mu guards the entry list and counters so a query can count its hits without
 * waiting for a load. */
#include <string.h>
#include <strings.h>

#include "query/query_int.h"

/* The cache's tables live in their own in-memory database, attached at engine open with
 * COMPRESS: compressed columns take about a third of the memory, and their dictionary
 * vectors make GROUP BY on text columns several times faster than plain in-memory tables. */
#define CACHE_SCHEMA LH_CACHE_DB ".main"
#define PINS_KEY "_catalog/cache_pins.json"
#define PINS_MAX_BYTES (1 << 20)

static int64_t table_bytes(lh_engine *e) {
    duckdb_result r;
    int64_t v = -1;
    if (duckdb_query(e->views_con,
                     "SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'",
                     &r) == DuckDBSuccess) {
        if (duckdb_row_count(&r) > 0)
            v = duckdb_value_int64(&r, 0, 0);
        duckdb_destroy_result(&r);
    } else {
        duckdb_destroy_result(&r);
    }
    return v;
}

static lh_cache_entry *find_entry(lh_engine *e, const char *name) {
    for (size_t i = 0; i < e->ncache; i++)
        if (strcmp(e->cache[i].name, name) == 0)
            return &e->cache[i];
    return NULL;
}

static void stamp_of(const lh_dataset *d, const lh_tombstones *t, lh_cache_stamp *s) {
    s->version = d->version;
    s->nfiles = d->nfiles;
    s->created_ms = d->created_ms;
    s->tomb = t ? t->stamp : 0;
}

static bool stamp_eq(const lh_cache_stamp *a, const lh_cache_stamp *b) {
    return a->version == b->version && a->nfiles == b->nfiles &&
           a->created_ms == b->created_ms && a->tomb == b->tomb;
}

/* Writes the pinned names, atomically. Failure is logged: the pins still hold in memory. */
static void pins_save(lh_engine *e) {
    json_t *names = json_array();
    pthread_mutex_lock(&e->cache_mu);
    for (size_t i = 0; i < e->ncache; i++)
        json_array_append_new(names, json_string(e->cache[i].name));
    pthread_mutex_unlock(&e->cache_mu);
    json_t *doc = json_pack("{s:o}", "pinned", names);
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(e->storage, "primary", &err);
    if (!b || lh_bucket_put(b, PINS_KEY, text, strlen(text), &err) != 0)
        LH_LOG_WARN(LH_QUERY_LOG, "cache pins not saved: %s", err.message);
    free(text);
}

void lh_query__cache_load_pins(lh_engine *e) {
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(e->storage, "primary", &err);
    if (!b || !lh_bucket_exists(b, PINS_KEY))
        return;
    size_t len = 0;
    char *text = lh_bucket_read_all(b, PINS_KEY, PINS_MAX_BYTES, &len, &err);
    json_t *doc = text ? lh_json_parse(text, len, &err) : NULL;
    free(text);
    const json_t *names = json_object_get(doc, "pinned");
    if (!json_is_array(names)) {
        LH_LOG_WARN(LH_QUERY_LOG, "cache pins unreadable, ignored: %s",
                    err.message[0] ? err.message : "no \"pinned\" array");
        json_decref(doc);
        return;
    }
    for (size_t i = 0; i < json_array_size(names); i++) {
        const char *n = json_string_value(json_array_get(names, i));
        if (!n || !lh_name_valid(n) || find_entry(e, n))
            continue;
        e->cache = lh_xrealloc(e->cache, (e->ncache + 1) * sizeof *e->cache);
        e->cache[e->ncache++] = (lh_cache_entry){.name = lh_xstrdup(n), .pinned_ms = lh_now_ms()};
    }
    json_decref(doc);
    atomic_store(&e->cache_pinned, e->ncache);
    LH_LOG_INFO(LH_QUERY_LOG, "cache pins to load count=%zu", e->ncache);
}

/* Drops the table of entry at index i and removes the entry (caller holds views_mu). */
static void entry_remove(lh_engine *e, size_t i) {
    char *q = lh_sql_quote_ident(e->cache[i].name);
    char *sql = lh_xasprintf("DROP TABLE IF EXISTS " CACHE_SCHEMA ".%s", q);
    lh_err err = LH_ERR_INIT;
    if (lh_query__exec(e->views_con, sql, &err) != 0)
        LH_LOG_WARN(LH_QUERY_LOG, "cache table not dropped dataset=%s: %s", e->cache[i].name,
                    err.message);
    free(sql);
    free(q);
    pthread_mutex_lock(&e->cache_mu);
    e->cache_bytes -= e->cache[i].loaded ? e->cache[i].bytes : 0;
    free(e->cache[i].name);
    e->cache[i] = e->cache[--e->ncache];
    atomic_store(&e->cache_pinned, e->ncache);
    pthread_mutex_unlock(&e->cache_mu);
}

/* Fixed-width numbers and times are kept uncompressed: decoding bit-packed integers was a
 * quarter of a pinned aggregate's time, and they are the columns aggregates read. Text keeps
 * the database's compression (dictionaries make GROUP BY on it fast, and it is the bulk). */
static bool keep_uncompressed(const char *type) {
    static const char *const fixed[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                                        "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
                                        "FLOAT", "DOUBLE", "DATE", "TIMESTAMP",
                                        "TIMESTAMP WITH TIME ZONE", "TIME"};
    for (size_t i = 0; i < LH_ARRAY_LEN(fixed); i++)
        if (strcmp(type, fixed[i]) == 0)
            return true;
    return strncmp(type, "DECIMAL", 7) == 0;
}

/* CREATE OR REPLACE TABLE for d's cache table (q: its quoted name). Column types are DuckDB
 * type text written by the engine itself at ingest. */
static char *create_sql(const lh_dataset *d, const char *q) {
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_printf(&b, "CREATE OR REPLACE TABLE " CACHE_SCHEMA ".%s (", q);
    for (size_t i = 0; i < d->ncolumns; i++) {
        char *col = lh_sql_quote_ident(d->columns[i].name);
        lh_buf_printf(&b, "%s%s %s%s", i ? ", " : "", col, d->columns[i].type,
                      keep_uncompressed(d->columns[i].type) ? " USING COMPRESSION uncompressed"
                                                           : "");
        free(col);
    }
    lh_buf_puts(&b, ")");
    return lh_buf_detach(&b, NULL);
}

/* Materialises d (view body `body`) into its cache table (caller holds views_mu). */
static int entry_load(lh_engine *e, lh_cache_entry *c, const lh_dataset *d,
                      const lh_tombstones *t, const char *body, lh_err *err) {
    double t0 = lh_mono_ms();
    int64_t before = table_bytes(e);
    if (c->loaded) /* the old table's bytes leave with it */
        before -= c->bytes;
    char *q = lh_sql_quote_ident(d->name);
    char *create = create_sql(d, q);
    char *fill = lh_xasprintf("INSERT INTO " CACHE_SCHEMA ".%s BY NAME %s", q, body);
    free(q);
    int rc = lh_query__exec(e->views_con, create, err);
    if (rc == 0)
        rc = lh_query__exec(e->views_con, fill, err);
    free(create);
    free(fill);
    if (rc != 0)
        return lh_err_prefix(err, "cache dataset '%s': ", d->name);
    int64_t after = table_bytes(e);
    int64_t bytes = before >= 0 && after >= before ? after - before : 0;
    pthread_mutex_lock(&e->cache_mu);
    e->cache_bytes += bytes - (c->loaded ? c->bytes : 0);
    c->bytes = bytes;
    c->rows = 0;
    for (size_t i = 0; i < d->nfiles; i++)
        c->rows += d->files[i].rows;
    stamp_of(d, t, &c->stamp);
    if (c->loaded)
        e->cache_refreshes++;
    c->loaded = true;
    c->load_ms = lh_mono_ms() - t0;
    pthread_mutex_unlock(&e->cache_mu);
    LH_LOG_INFO(LH_QUERY_LOG, "cache loaded dataset=%s version=%lld rows=%lld bytes=%lld ms=%.1f",
                d->name, (long long)d->version, (long long)c->rows, (long long)bytes, c->load_ms);
    return 0;
}

/* Unloads least recently used entries other than `keep` until the cache fits its cap. */
static void evict_to_fit(lh_engine *e, const char *keep) {
    while (e->cache_bytes > e->opts.cache_max_bytes) {
        long victim = -1;
        for (size_t i = 0; i < e->ncache; i++) {
            if (!e->cache[i].loaded || (keep && strcmp(e->cache[i].name, keep) == 0))
                continue;
            if (victim < 0 || e->cache[i].last_used_ms < e->cache[victim].last_used_ms)
                victim = (long)i;
        }
        if (victim < 0)
            return;
        LH_LOG_INFO(LH_QUERY_LOG, "cache evicts dataset=%s bytes=%lld (over %lld)",
                    e->cache[victim].name, (long long)e->cache[victim].bytes,
                    (long long)e->opts.cache_max_bytes);
        char *name = lh_xstrdup(e->cache[victim].name);
        entry_remove(e, (size_t)victim);
        e->cache_evictions++;
        lh_query__view_refresh(e, name);
        free(name);
    }
}

char *lh_query__cache_source(lh_engine *e, const lh_dataset *d, const lh_tombstones *t,
                             const char *body) {
    lh_cache_entry *c = find_entry(e, d->name);
    if (!c)
        return NULL;
    lh_cache_stamp now;
    stamp_of(d, t, &now);
    if (!c->loaded || !stamp_eq(&c->stamp, &now)) {
        lh_err err = LH_ERR_INIT;
        if (entry_load(e, c, d, t, body, &err) != 0) {
            LH_LOG_WARN(LH_QUERY_LOG, "cache entry dropped dataset=%s: %s", d->name, err.message);
            entry_remove(e, (size_t)(c - e->cache));
            return NULL;
        }
        if (c->bytes > e->opts.cache_max_bytes) {
            LH_LOG_WARN(LH_QUERY_LOG, "cache entry dropped dataset=%s: %lld bytes over the cap",
                        d->name, (long long)c->bytes);
            entry_remove(e, (size_t)(c - e->cache));
            return NULL;
        }
    }
    char *q = lh_sql_quote_ident(d->name);
    char *sql = lh_xasprintf("SELECT * FROM " CACHE_SCHEMA ".%s", q);
    free(q);
    return sql;
}

void lh_query__cache_after_sync(lh_engine *e, const lh_catalog_snap *s) {
    bool changed = false;
    for (size_t i = e->ncache; i-- > 0;) {
        if (lh_catalog_snap_find(s, e->cache[i].name))
            continue;
        LH_LOG_INFO(LH_QUERY_LOG, "cache entry dropped dataset=%s: the dataset is gone",
                    e->cache[i].name);
        entry_remove(e, i);
        changed = true;
    }
    evict_to_fit(e, NULL);
    if (changed)
        pins_save(e);
}

typedef struct account_ctx {
    lh_engine *e;
    const lh_catalog_snap *s;
    char **seen; /* each dataset counts once per query */
    size_t nseen;
    int64_t now;
} account_ctx;

static void account_one(void *arg, const char *id) {
    account_ctx *a = arg;
    for (size_t i = 0; i < a->nseen; i++)
        if (strcasecmp(a->seen[i], id) == 0)
            return;
    lh_cache_entry *hit = NULL;
    for (size_t k = 0; k < a->e->ncache && !hit; k++)
        if (strcasecmp(a->e->cache[k].name, id) == 0)
            hit = &a->e->cache[k];
    const lh_dataset *d = hit ? NULL : lh_catalog_snap_find(a->s, id);
    if (!hit && !d)
        return;
    a->seen = lh_xrealloc(a->seen, (a->nseen + 1) * sizeof *a->seen);
    a->seen[a->nseen++] = lh_xstrdup(id);
    if (hit && hit->loaded) {
        hit->hits++;
        hit->last_used_ms = a->now;
        a->e->cache_hits++;
    } else {
        a->e->cache_misses++;
    }
}

/* DuckDB has no API that names the tables of a query through our views
 * (duckdb_get_table_names binds views in a mode that fails on views with several columns),
 * so a pinned dataset counts as used when the query names it. */
void lh_query__cache_account(lh_engine *e, const char *sql) {
    account_ctx a = {.e = e, .s = lh_catalog_snapshot(e->catalog), .now = lh_now_ms()};
    pthread_mutex_lock(&e->cache_mu);
    lh_query__each_identifier(sql, account_one, &a);
    pthread_mutex_unlock(&e->cache_mu);
    lh_catalog_snap_unref((lh_catalog_snap *)a.s);
    for (size_t i = 0; i < a.nseen; i++)
        free(a.seen[i]);
    free(a.seen);
}

static json_t *entry_json(const lh_cache_entry *c) {
    return json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "dataset", c->name,
                     "loaded", c->loaded, "version", (json_int_t)c->stamp.version, "rows",
                     (json_int_t)c->rows, "bytes", (json_int_t)c->bytes, "hits",
                     (json_int_t)c->hits, "pinned_ms", (json_int_t)c->pinned_ms,
                     "last_used_ms", (json_int_t)c->last_used_ms, "load_ms", c->load_ms);
}

json_t *lh_engine_cache_pin(lh_engine *e, const char *name, lh_err *err) {
    if (!name || !lh_name_valid(name))
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "dataset: a dataset name is required"), NULL);
    pthread_mutex_lock(&e->views_mu);
    lh_query__views_sync_locked(e);
    lh_catalog_snap *s = lh_catalog_snapshot(e->catalog);
    json_t *out = NULL;
    const lh_dataset *d = lh_catalog_snap_find(s, name);
    if (!d) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name);
        goto out;
    }
    bool fresh = find_entry(e, name) == NULL;
    if (fresh) {
        pthread_mutex_lock(&e->cache_mu);
        e->cache = lh_xrealloc(e->cache, (e->ncache + 1) * sizeof *e->cache);
        int64_t now = lh_now_ms();
        e->cache[e->ncache++] =
            (lh_cache_entry){.name = lh_xstrdup(name), .pinned_ms = now, .last_used_ms = now};
        atomic_store(&e->cache_pinned, e->ncache);
        pthread_mutex_unlock(&e->cache_mu);
    }
    const lh_tombstones *t = lh_catalog_snap_tombstones(s, name);
    char *body = lh_query__view_body_sql(d, t);
    lh_cache_entry *c = find_entry(e, name);
    lh_cache_stamp now;
    stamp_of(d, t, &now);
    int rc = 0;
    if (!c->loaded || !stamp_eq(&c->stamp, &now))
        rc = entry_load(e, c, d, t, body, err);
    free(body);
    c = find_entry(e, name);
    if (rc == 0 && c->bytes > e->opts.cache_max_bytes) {
        rc = lh_err_set(err, LH_TOO_LARGE,
                        "dataset '%s' takes %lld bytes in memory, over query.cache_max_bytes "
                        "(%lld)", name, (long long)c->bytes, (long long)e->opts.cache_max_bytes);
    }
    if (rc != 0) {
        entry_remove(e, (size_t)(c - e->cache));
        goto out;
    }
    out = entry_json(c);
    json_object_set_new(out, "already_pinned", json_boolean(!fresh));
    lh_query__view_refresh(e, name);
    evict_to_fit(e, name);
    pins_save(e);
out:
    lh_catalog_snap_unref(s);
    pthread_mutex_unlock(&e->views_mu);
    return out;
}

json_t *lh_engine_cache_evict(lh_engine *e, const char *name, lh_err *err) {
    if (!name || !lh_name_valid(name))
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "dataset: a dataset name is required"), NULL);
    pthread_mutex_lock(&e->views_mu);
    json_t *out = NULL;
    lh_cache_entry *c = find_entry(e, name);
    if (!c) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' is not pinned", name);
    } else {
        out = json_pack("{s:s, s:I}", "dataset", name, "bytes_freed",
                        (json_int_t)(c->loaded ? c->bytes : 0));
        entry_remove(e, (size_t)(c - e->cache));
        lh_query__view_refresh(e, name);
        pins_save(e);
    }
    pthread_mutex_unlock(&e->views_mu);
    return out;
}

json_t *lh_engine_cache_stats(lh_engine *e) {
    pthread_mutex_lock(&e->cache_mu);
    json_t *list = json_array();
    for (size_t i = 0; i < e->ncache; i++)
        json_array_append_new(list, entry_json(&e->cache[i]));
    json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "entries",
                            (json_int_t)e->ncache, "bytes", (json_int_t)e->cache_bytes,
                            "max_bytes", (json_int_t)e->opts.cache_max_bytes, "hits",
                            (json_int_t)e->cache_hits, "misses", (json_int_t)e->cache_misses,
                            "evictions", (json_int_t)e->cache_evictions, "refreshes",
                            (json_int_t)e->cache_refreshes, "datasets", list);
    pthread_mutex_unlock(&e->cache_mu);
    return out;
}

void lh_query__cache_release(lh_engine *e) {
    for (size_t i = 0; i < e->ncache; i++)
        free(e->cache[i].name);
    free(e->cache);
    e->cache = NULL;
    e->ncache = 0;
}
