/* query/views.c: makes every dataset of the catalog a table by its name. Before a user
 * query, if the catalog generation moved since the last sync, one view per dataset is
 * (re)created over the Parquet files of its current Delta version, and views of datasets
 * that are gone are dropped. Names and paths come from the catalog (validated names,
 * absolute paths) and are always quoted; no user text reaches this SQL.
 * A dataset with tombstones gets a key table lh_tomb."<name>" (filled through an appender,
 * reloaded only when its key set changes) and its view keeps only rows whose key, as text,
 * is not in it.
 * AI-safe views (catalog views_meta.c) are created after the dataset views, as
 * CREATE OR REPLACE VIEW "<view>" AS SELECT <whitelist with redactions> FROM "<dataset>"
 * WHERE <structured filter>: over the dataset's view, so tombstones apply too. Identifiers
 * are quoted and filter values become typed literals printed here from JSON scalars; no
 * text of the definition is ever spliced as SQL. A hash redaction calls lh_view_hash(), a
 * scalar function registered here that holds the lake's salt in memory, so the salt never
 * appears in SQL text a user can read back (duckdb_views()). */
#include <stdio.h>
#include <string.h>

#include "query/query_int.h"

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

char *lh_query__dataset_source_sql(const lh_dataset *d) {
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "read_parquet([");
    for (size_t i = 0; i < d->nfiles; i++) {
        char *full = lh_xasprintf("%s/%s", d->table_root, d->files[i].path);
        char *lit = lh_sql_quote_literal(full);
        lh_buf_printf(&b, "%s%s", i ? ", " : "", lit);
        free(lit);
        free(full);
    }
    lh_buf_puts(&b, "], union_by_name=true)");
    return lh_buf_detach(&b, NULL);
}

char *lh_query__view_body_sql(const lh_dataset *d, const lh_tombstones *t) {
    lh_buf b;
    lh_buf_init(&b);
    if (d->nfiles > 0) {
        char *src = lh_query__dataset_source_sql(d);
        lh_buf_printf(&b, "SELECT * FROM %s", src);
        free(src);
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

/* Creates (or replaces) the view of dataset d: over its hot-cache table when pinned, else
 * over its files. The tombstone key table must be current. */
static int view_create(lh_engine *e, const lh_dataset *d, const lh_tombstones *t, lh_err *err) {
    char *body = lh_query__view_body_sql(d, t);
    char *cached = lh_query__cache_source(e, d, t, body);
    char *name = lh_sql_quote_ident(d->name);
    char *sql = lh_xasprintf("CREATE OR REPLACE VIEW %s AS %s", name, cached ? cached : body);
    int rc = lh_query__exec(e->views_con, sql, err);
    free(sql);
    free(name);
    free(cached);
    free(body);
    return rc;
}

void lh_query__view_refresh(lh_engine *e, const char *name) {
    lh_catalog_snap *s = lh_catalog_snapshot(e->catalog);
    const lh_dataset *d = lh_catalog_snap_find(s, name);
    lh_err err = LH_ERR_INIT;
    if (d && view_create(e, d, lh_catalog_snap_tombstones(s, name), &err) != 0)
        LH_LOG_WARN(LH_QUERY_LOG, "cannot create view dataset=%s: %s", name, err.message);
    lh_catalog_snap_unref(s);
}

#define VIEW_HASH_FN "lh_view_hash"

/* lh_view_hash(VARCHAR) -> VARCHAR: hex sha256 of salt || value; NULL stays NULL. */
static void view_hash_fn(duckdb_function_info info, duckdb_data_chunk input,
                         duckdb_vector output) {
    const char *salt = duckdb_scalar_function_get_extra_info(info);
    idx_t n = duckdb_data_chunk_get_size(input);
    duckdb_vector in = duckdb_data_chunk_get_vector(input, 0);
    duckdb_string_t *data = (duckdb_string_t *)duckdb_vector_get_data(in);
    uint64_t *valid = duckdb_vector_get_validity(in);
    duckdb_vector_ensure_validity_writable(output);
    uint64_t *out_valid = duckdb_vector_get_validity(output);
    for (idx_t i = 0; i < n; i++) {
        if (valid && !duckdb_validity_row_is_valid(valid, i)) {
            duckdb_validity_set_row_invalid(out_valid, i);
            continue;
        }
        lh_sha256 *h = lh_sha256_new();
        lh_sha256_update(h, salt, strlen(salt));
        lh_sha256_update(h, duckdb_string_t_data(&data[i]), duckdb_string_t_length(data[i]));
        char hex[65];
        lh_sha256_final_hex(h, hex);
        duckdb_vector_assign_string_element_len(output, i, hex, 64);
    }
}

/* Registers lh_view_hash with this salt on the database of con. A second registration
 * (the function is already there from an earlier sync) fails harmlessly. */
static void view_hash_register(duckdb_connection con, const char *salt) {
    duckdb_scalar_function f = duckdb_create_scalar_function();
    duckdb_scalar_function_set_name(f, VIEW_HASH_FN);
    duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    duckdb_scalar_function_add_parameter(f, vt);
    duckdb_scalar_function_set_return_type(f, vt);
    duckdb_destroy_logical_type(&vt);
    duckdb_scalar_function_set_extra_info(f, lh_xstrdup(salt), free);
    duckdb_scalar_function_set_function(f, view_hash_fn);
    if (duckdb_register_scalar_function(con, f) == DuckDBError)
        LH_LOG_DEBUG(LH_QUERY_LOG, "view hash function not registered (already there)");
    duckdb_destroy_scalar_function(&f);
}

/* A JSON scalar as a SQL literal: strings quoted, numbers printed by us, booleans as
 * keywords. */
static void put_literal(lh_buf *b, const json_t *v) {
    if (json_is_string(v)) {
        char *lit = lh_sql_quote_literal(json_string_value(v));
        lh_buf_puts(b, lit);
        free(lit);
    } else if (json_is_integer(v)) {
        lh_buf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        lh_buf_printf(b, "CAST('%.17g' AS DOUBLE)", json_real_value(v));
    } else {
        lh_buf_puts(b, json_is_true(v) ? "TRUE" : "FALSE");
    }
}

/* The select-list item of one whitelisted column (already quoted as q), redacted as r. */
static void put_column(lh_buf *b, const char *q, const char *type, const json_t *r) {
    const char *kind = json_string_value(r);
    if (!r) {
        lh_buf_puts(b, q);
    } else if (kind && strcmp(kind, "null") == 0) {
        /* Column types are DuckDB type text written by the engine itself at ingest. */
        lh_buf_printf(b, "CAST(NULL AS %s) AS %s", type, q);
    } else if (kind) { /* hash: sha256 of salt || value, NULL stays NULL */
        lh_buf_printf(b, VIEW_HASH_FN "(CAST(%s AS VARCHAR)) AS %s", q, q);
    } else {
        const json_t *m = json_object_get(r, "mask");
        long long p = (long long)json_integer_value(json_object_get(m, "keep_prefix"));
        long long k = (long long)json_integer_value(json_object_get(m, "keep_suffix"));
        /* A value no longer than what would be kept is masked whole, never shown. */
        lh_buf_printf(b, "CASE WHEN %s IS NULL THEN NULL WHEN length(CAST(%s AS VARCHAR)) <= %lld "
                         "THEN repeat('*', length(CAST(%s AS VARCHAR))) ELSE "
                         "left(CAST(%s AS VARCHAR), %lld) || repeat('*', length(CAST(%s AS "
                         "VARCHAR)) - %lld) || right(CAST(%s AS VARCHAR), %lld) END AS %s",
                      q, q, p + k, q, q, p, q, p + k, q, k, q);
    }
}

static void put_condition(lh_buf *b, const json_t *f) {
    char *q = lh_sql_quote_ident(json_string_value(json_object_get(f, "column")));
    const char *op = json_string_value(json_object_get(f, "op"));
    const json_t *v = json_object_get(f, "value");
    if (strcmp(op, "is null") == 0 || strcmp(op, "is not null") == 0) {
        lh_buf_printf(b, "(%s %s)", q,
                      strcmp(op, "is null") == 0 ? "IS NULL" : "IS NOT NULL");
    } else if (strcmp(op, "in") == 0) {
        lh_buf_printf(b, "(%s IN (", q);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                lh_buf_puts(b, ", ");
            put_literal(b, json_array_get(v, i));
        }
        lh_buf_puts(b, "))");
    } else if (strcmp(op, "like") == 0) {
        lh_buf_printf(b, "(CAST(%s AS VARCHAR) LIKE ", q);
        put_literal(b, v);
        lh_buf_puts(b, ")");
    } else {
        lh_buf_printf(b, "(%s %s ", q, strcmp(op, "!=") == 0 ? "<>" : op);
        put_literal(b, v);
        lh_buf_puts(b, ")");
    }
    free(q);
}

/* CREATE OR REPLACE VIEW for one AI-safe view (a definition the catalog validated), or NULL
 * with err when its dataset or a column is gone or a hash needs a salt we lack. */
static char *safe_view_sql(const lh_catalog_snap *s, const json_t *v, lh_err *err) {
    const char *name = json_string_value(json_object_get(v, "name"));
    const lh_dataset *d = lh_catalog_snap_find(s, json_string_value(json_object_get(v, "dataset")));
    if (!d)
        return (lh_err_set(err, LH_NOT_FOUND, "its dataset is gone"), NULL);
    if (lh_catalog_snap_find(s, name))
        return (lh_err_set(err, LH_CONFLICT, "a dataset has the same name"), NULL);
    const char *salt = lh_catalog_snap_views_salt(s);
    const json_t *cols = json_object_get(v, "columns");
    const json_t *red = json_object_get(v, "redactions");
    lh_buf b;
    lh_buf_init(&b);
    char *qn = lh_sql_quote_ident(name);
    lh_buf_printf(&b, "CREATE OR REPLACE VIEW %s AS SELECT ", qn);
    free(qn);
    for (size_t i = 0; i < json_array_size(cols); i++) {
        const char *col = json_string_value(json_array_get(cols, i));
        const json_t *r = json_object_get(red, col);
        size_t ci = 0;
        while (ci < d->ncolumns && strcmp(d->columns[ci].name, col) != 0)
            ci++;
        if (ci == d->ncolumns || (json_is_string(r) && strcmp(json_string_value(r), "hash") == 0 &&
                                  !salt)) {
            free(lh_buf_detach(&b, NULL));
            return (lh_err_set(err, LH_INVALID_ARGUMENT,
                               ci == d->ncolumns ? "column '%s' is gone from the dataset"
                                                 : "column '%s': no hash salt", col),
                    NULL);
        }
        char *q = lh_sql_quote_ident(col);
        if (i)
            lh_buf_puts(&b, ", ");
        put_column(&b, q, d->columns[ci].type, r);
        free(q);
    }
    char *qd = lh_sql_quote_ident(d->name);
    lh_buf_printf(&b, " FROM %s", qd);
    free(qd);
    const json_t *rf = json_object_get(v, "row_filter");
    for (size_t i = 0; i < json_array_size(rf); i++) {
        lh_buf_puts(&b, i ? " AND " : " WHERE ");
        put_condition(&b, json_array_get(rf, i));
    }
    return lh_buf_detach(&b, NULL);
}

static bool in_snapshot(const lh_catalog_snap *s, const char *name) {
    return lh_catalog_snap_find(s, name) != NULL || lh_catalog_snap_find_view(s, name) != NULL;
}

void lh_query__views_sync(lh_engine *e) {
    uint64_t want = lh_catalog_generation(e->catalog) + 1;
    if (atomic_load(&e->views_gen) == want)
        return;
    pthread_mutex_lock(&e->views_mu);
    lh_query__views_sync_locked(e);
    pthread_mutex_unlock(&e->views_mu);
}

void lh_query__views_sync_locked(lh_engine *e) {
    lh_catalog_snap *snap = lh_catalog_snapshot(e->catalog);
    uint64_t want = lh_catalog_snap_generation(snap) + 1;
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
        lh_err err = LH_ERR_INIT;
        /* A view whose key table cannot be loaded is left out rather than showing deleted
         * rows. */
        if (tomb_sync(e, d->name, t, &err) != 0 || view_create(e, d, t, &err) != 0) {
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
    }
    lh_query__cache_after_sync(e, snap);
    size_t nsafe = lh_catalog_snap_view_count(snap);
    if (nsafe && lh_catalog_snap_views_salt(snap))
        view_hash_register(e->views_con, lh_catalog_snap_views_salt(snap));
    if (nsafe)
        e->view_names = lh_xrealloc(e->view_names, (n + nsafe) * sizeof(char *));
    for (size_t i = 0; i < nsafe; i++) {
        const json_t *v = lh_catalog_snap_view_at(snap, i);
        const char *vname = json_string_value(json_object_get(v, "name"));
        lh_err err = LH_ERR_INIT;
        char *sql = safe_view_sql(snap, v, &err);
        if (!sql || lh_query__exec(e->views_con, sql, &err) != 0) {
            LH_LOG_WARN(LH_QUERY_LOG, "cannot create safe view view=%s: %s", vname, err.message);
            if (!lh_catalog_snap_find(snap, vname)) { /* never drop a dataset's own view */
                char *q = lh_sql_quote_ident(vname);
                char *drop = lh_xasprintf("DROP VIEW IF EXISTS %s", q);
                lh_err err2 = LH_ERR_INIT;
                if (lh_query__exec(e->views_con, drop, &err2) != 0)
                    LH_LOG_WARN(LH_QUERY_LOG, "cannot drop safe view view=%s: %s", vname,
                                err2.message);
                free(drop);
                free(q);
            }
        } else {
            e->view_names[e->nviews++] = lh_xstrdup(vname);
        }
        free(sql);
    }
    atomic_store(&e->views_gen, want);
    LH_LOG_DEBUG(LH_QUERY_LOG, "views synced generation=%llu views=%zu",
                 (unsigned long long)(want - 1), e->nviews);
out:
    lh_catalog_snap_unref(snap);
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
