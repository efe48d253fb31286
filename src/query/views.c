/* query/views.c: makes every dataset of the catalog a table by its name. Before a user
 * query, if the catalog generation moved since the last sync, one view per dataset is
 * (re)created over the Parquet files of its current Delta version, and views of datasets
 * that are gone are dropped. Names and paths come from the catalog (validated names,
 * absolute paths) and are always quoted; no user text reaches this SQL. */
#include <string.h>

#include "query/query_int.h"

/* CREATE OR REPLACE VIEW for one dataset. A table without files still gets a view with
 * its columns and no rows, so queries against it bind. */
static char *view_sql(const lh_dataset *d) {
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
        char *sql = view_sql(d);
        lh_err err = LH_ERR_INIT;
        if (lh_query__exec(e->views_con, sql, &err) != 0) {
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
}
