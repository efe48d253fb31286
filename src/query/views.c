/* query/views.c: makes every dataset of the catalog a table by its name. Before a user
 * query, if the catalog generation moved since the last sync, one view per dataset is
 * (re)created over the Parquet files of its current Delta version, and views of datasets
 * that are gone are dropped. Names and paths come from the catalog (validated names,
 * absolute paths) and are always quoted; no user text reaches this SQL.
 * A dataset with tombstones gets a key table lh_tomb."<name>" (filled through an appender,
 * reloaded only when its key set changes) and its view keeps only rows whose key, as text,
 * is not in it. */
#include <string.h>

#include "query/query_int.h"

/* CREATE OR REPLACE VIEW for one dataset. A table without files still gets a view with
 * its columns and no rows, so queries against it bind. */
#define TOMB_SCHEMA "lh_tomb"

char *lh_query__tomb_keep_sql(const char *col, const char *table) {
    char *c = lh_sql_quote_ident(col);
    char *sql = lh_xasprintf("(%s IS NULL OR CAST(%s AS VARCHAR) NOT IN (SELECT k FROM %s))", c,
                             c, table);
    free(c);
    return sql;
}

int lh_query__tomb_fill(duckdb_connection con, const char *catalog, const char *schema,
                        const char *table, const char *const *keys, size_t n, lh_err *err) {
    duckdb_appender app = NULL;
    if (duckdb_appender_create_ext(con, catalog, schema, table, &app) == DuckDBError) {
        lh_err_set(err, LH_INTERNAL, "tombstone keys: %s",
                   app ? duckdb_appender_error(app) : "cannot create appender");
        duckdb_appender_destroy(&app);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (duckdb_append_varchar_length(app, keys[i], strlen(keys[i])) == DuckDBError ||
            duckdb_appender_end_row(app) == DuckDBError)
            rc = -1;
    if (rc == 0 && duckdb_appender_close(app) == DuckDBError)
        rc = -1;
    if (rc != 0)
        lh_err_set(err, LH_INTERNAL, "tombstone keys: %s", duckdb_appender_error(app));
    duckdb_appender_destroy(&app);
    return rc;
}

static long tomb_index(const lh_engine *e, const char *name) {
    for (size_t i = 0; i < e->ntombs; i++)
        if (strcmp(e->tomb_names[i], name) == 0)
            return (long)i;
    return -1;
}

/* Brings lh_tomb."<name>" in line with t (dropped when t is NULL). */
static int tomb_sync(lh_engine *e, const char *name, const lh_tombstones *t, lh_err *err) {
    long at = tomb_index(e, name);
    if (t && at >= 0 && e->tomb_stamps[at] == t->stamp)
        return 0;
    if (!t && at < 0)
        return 0;
    char *q = lh_sql_quote_ident(name);
    char *sql = t ? lh_xasprintf("CREATE OR REPLACE TABLE " TOMB_SCHEMA ".%s (k VARCHAR NOT NULL)",
                                 q)
                  : lh_xasprintf("DROP TABLE IF EXISTS " TOMB_SCHEMA ".%s", q);
    free(q);
    int rc = lh_query__exec(e->views_con, "CREATE SCHEMA IF NOT EXISTS " TOMB_SCHEMA, err);
    if (rc == 0)
        rc = lh_query__exec(e->views_con, sql, err);
    free(sql);
    if (rc == 0 && t)
        rc = lh_query__tomb_fill(e->views_con, NULL, TOMB_SCHEMA, name, t->keys, t->nkeys, err);
    if (at >= 0) { /* forget it; re-added below when it is current */
        free(e->tomb_names[at]);
        e->tomb_names[at] = e->tomb_names[e->ntombs - 1];
        e->tomb_stamps[at] = e->tomb_stamps[e->ntombs - 1];
        e->ntombs--;
    }
    if (rc == 0 && t) {
        e->tomb_names = lh_xrealloc(e->tomb_names, (e->ntombs + 1) * sizeof *e->tomb_names);
        e->tomb_stamps = lh_xrealloc(e->tomb_stamps, (e->ntombs + 1) * sizeof *e->tomb_stamps);
        e->tomb_names[e->ntombs] = lh_xstrdup(name);
        e->tomb_stamps[e->ntombs++] = t->stamp;
    }
    return rc;
}

static char *view_sql(const lh_dataset *d, const lh_tombstones *t) {
    lh_buf b;
    lh_buf_init(&b);
    char *name = lh_sql_quote_ident(d->name);
    lh_buf_printf(&b, "CREATE OR REPLACE VIEW %s AS ", name);
    free(name);
    if (d->nfiles > 0) {
        lh_buf_puts(&b, "SELECT * FROM read_parquet([");
        for (size_t i = 0; i < d->nfiles; i++) {
            char *full = lh_xasprintf("%s/%s", d->table_root, d->files[i].path);
            char *lit = lh_sql_quote_literal(full);
            lh_buf_printf(&b, "%s%s", i ? ", " : "", lit);
            free(lit);
            free(full);
        }
        lh_buf_puts(&b, "], union_by_name=true)");
        if (t) {
            char *q = lh_sql_quote_ident(d->name);
            char *table = lh_xasprintf(TOMB_SCHEMA ".%s", q);
            char *keep = lh_query__tomb_keep_sql(t->column, table);
            lh_buf_printf(&b, " WHERE %s", keep);
            free(keep);
            free(table);
            free(q);
        }
    } else {
        lh_buf_puts(&b, "SELECT ");
        for (size_t i = 0; i < d->ncolumns; i++) {
            char *col = lh_sql_quote_ident(d->columns[i].name);
            /* Column types are DuckDB type text written by the engine itself at ingest. */
            lh_buf_printf(&b, "%sCAST(NULL AS %s) AS %s", i ? ", " : "", d->columns[i].type, col);
            free(col);
        }
        if (d->ncolumns == 0)
            lh_buf_puts(&b, "NULL AS \"empty\"");
        lh_buf_puts(&b, " WHERE false");
    }
    return lh_buf_detach(&b, NULL);
}

static bool in_snapshot(const lh_catalog_snap *s, const char *name) {
    return lh_catalog_snap_find(s, name) != NULL;
}

void lh_query__views_sync(lh_engine *e) {
    uint64_t want = lh_catalog_generation(e->catalog) + 1;
    if (atomic_load(&e->views_gen) == want)
        return;
    pthread_mutex_lock(&e->views_mu);
    lh_catalog_snap *snap = lh_catalog_snapshot(e->catalog);
    want = lh_catalog_snap_generation(snap) + 1;
    if (atomic_load(&e->views_gen) == want)
        goto out;
    /* Drop views of datasets that are gone. */
    for (size_t i = 0; i < e->nviews; i++) {
        if (in_snapshot(snap, e->view_names[i]))
            continue;
        char *q = lh_sql_quote_ident(e->view_names[i]);
        char *sql = lh_xasprintf("DROP VIEW IF EXISTS %s", q);
        lh_err err = LH_ERR_INIT;
        if (lh_query__exec(e->views_con, sql, &err) != 0)
            LH_LOG_WARN(LH_QUERY_LOG, "cannot drop view dataset=%s: %s", e->view_names[i],
                        err.message);
        free(sql);
        free(q);
    }
    for (size_t i = e->ntombs; i-- > 0;) {
        if (in_snapshot(snap, e->tomb_names[i]))
            continue;
        char *gone = lh_xstrdup(e->tomb_names[i]);
        lh_err err = LH_ERR_INIT;
        if (tomb_sync(e, gone, NULL, &err) != 0)
            LH_LOG_WARN(LH_QUERY_LOG, "cannot drop tombstone keys dataset=%s: %s", gone,
                        err.message);
        free(gone);
    }
    for (size_t i = 0; i < e->nviews; i++)
        free(e->view_names[i]);
    free(e->view_names);
    size_t n = lh_catalog_snap_count(snap);
    e->view_names = lh_xcalloc(n ? n : 1, sizeof(char *));
    e->nviews = 0;
    for (size_t i = 0; i < n; i++) {
        const lh_dataset *d = lh_catalog_snap_at(snap, i);
        if (!lh_name_valid(d->name))
            continue;
        const lh_tombstones *t = lh_catalog_snap_tombstones(snap, d->name);
        char *sql = view_sql(d, t);
        lh_err err = LH_ERR_INIT;
        /* A view whose key table cannot be loaded is left out rather than showing deleted
         * rows. */
        if (tomb_sync(e, d->name, t, &err) != 0 || lh_query__exec(e->views_con, sql, &err) != 0) {
            /* One broken table must not take the others down: log it and leave it out. */
            LH_LOG_WARN(LH_QUERY_LOG, "cannot create view dataset=%s: %s", d->name, err.message);
            char *q = lh_sql_quote_ident(d->name);
            char *drop = lh_xasprintf("DROP VIEW IF EXISTS %s", q);
            lh_err err2 = LH_ERR_INIT;
            if (lh_query__exec(e->views_con, drop, &err2) != 0)
                LH_LOG_WARN(LH_QUERY_LOG, "cannot drop view dataset=%s: %s", d->name,
                            err2.message);
            free(drop);
            free(q);
        } else {
            e->view_names[e->nviews++] = lh_xstrdup(d->name);
        }
        free(sql);
    }
    atomic_store(&e->views_gen, want);
    LH_LOG_DEBUG(LH_QUERY_LOG, "views synced generation=%llu views=%zu",
                 (unsigned long long)(want - 1), e->nviews);
out:
    lh_catalog_snap_unref(snap);
    pthread_mutex_unlock(&e->views_mu);
}

void lh_query__views_release(lh_engine *e) {
    for (size_t i = 0; i < e->nviews; i++)
        free(e->view_names[i]);
    free(e->view_names);
    e->view_names = NULL;
    e->nviews = 0;
    for (size_t i = 0; i < e->ntombs; i++)
        free(e->tomb_names[i]);
    free(e->tomb_names);
    free(e->tomb_stamps);
    e->tomb_names = NULL;
    e->tomb_stamps = NULL;
    e->ntombs = 0;
}
