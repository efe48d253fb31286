/* query/engine.c: opens the one in-memory DuckDB database of the process, applies the
 * sandbox settings (ARCHITECTURE §5, docs/decisions/0001-sandbox-directories.md) and starts
 * the connection pool; closes it all in reverse order. */
#include <string.h>

#include "query/query_int.h"

const char *lh_engine_duckdb_version(void) {
    return duckdb_library_version();
}

int lh_query__exec(duckdb_connection con, const char *sql, lh_err *err) {
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        const char *msg = duckdb_result_error(&res);
        lh_err_set(err, LH_INTERNAL, "engine statement failed: %s", msg ? msg : "unknown error");
        duckdb_destroy_result(&res);
        return -1;
    }
    duckdb_destroy_result(&res);
    return 0;
}

static void fill_defaults(lh_engine_opts *o) {
    if (o->connections <= 0)
        o->connections = 8;
    if (o->connections > 256)
        o->connections = 256;
    if (o->threads < 0)
        o->threads = 0;
    if (o->timeout_ms <= 0)
        o->timeout_ms = 30000;
    if (o->max_rows <= 0)
        o->max_rows = 10000000;
    if (o->max_bytes <= 0)
        o->max_bytes = (int64_t)4 << 30;
    if (o->cache_max_bytes <= 0)
        o->cache_max_bytes = (int64_t)1 << 30;
}

/* Applies the sandbox with SET statements on one connection. The order matters and was
 * checked against DuckDB 1.4.4: the same options given in the open-time config deny every
 * path, while SET allowed_directories followed by SET enable_external_access=false keeps
 * the listed directories readable. lock_configuration comes last so no later statement
 * (ours or a user's) can loosen any of it. */
static int apply_sandbox(lh_engine *e, duckdb_connection con, lh_err *err) {
    /* Every bucket's datasets/ (so one query may join datasets of different buckets), never
     * a bucket root: _catalog/ and the rest stay out of reach. */
    lh_buf list;
    lh_buf_init(&list);
    for (size_t i = 0; i < e->ndatasets_dirs; i++) {
        char *ds = lh_sql_quote_literal(e->datasets_dirs[i]);
        lh_buf_printf(&list, "%s, ", ds);
        free(ds);
    }
    char *wk = lh_sql_quote_literal(e->work_dir);
    char *allowed = lh_xasprintf("SET allowed_directories=[%s%s]", list.data, wk);
    lh_buf_release(&list);
    /* Spill files go to our scratch dir, not a '.tmp' relative to wherever the server was
     * started (which DuckDB would otherwise also make readable). */
    char *spill_dir = lh_xasprintf("%s%sspill", e->work_dir,
                                   lh_str_has_suffix(e->work_dir, "/") ? "" : "/");
    char *sp = lh_sql_quote_literal(spill_dir);
    char *spill = lh_xasprintf("SET temp_directory=%s", sp);
    free(spill_dir);
    free(sp);
    free(wk);
    const char *steps[] = {
        spill,
        allowed,
        "SET enable_external_access=false",
        "SET autoinstall_known_extensions=false",
        "SET autoload_known_extensions=false",
        "SET allow_community_extensions=false",
        "SET lock_configuration=true",
    };
    int rc = 0;
    for (size_t i = 0; i < LH_ARRAY_LEN(steps) && rc == 0; i++)
        rc = lh_query__exec(con, steps[i], err);
    free(spill);
    free(allowed);
    return rc;
}

static int open_database(lh_engine *e, lh_err *err) {
    duckdb_config cfg;
    if (duckdb_create_config(&cfg) == DuckDBError)
        return lh_err_set(err, LH_INTERNAL, "cannot create duckdb config");
    char threads[32];
    int rc = 0;
    if (e->opts.threads > 0) {
        snprintf(threads, sizeof threads, "%d", e->opts.threads);
        if (duckdb_set_config(cfg, "threads", threads) == DuckDBError)
            rc = lh_err_set(err, LH_INVALID_ARGUMENT, "invalid query.threads %d", e->opts.threads);
    }
    if (rc == 0 && e->opts.memory_limit && e->opts.memory_limit[0] &&
        duckdb_set_config(cfg, "memory_limit", e->opts.memory_limit) == DuckDBError)
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "invalid query.memory_limit '%s'",
                        e->opts.memory_limit);
    char *open_err = NULL;
    if (rc == 0 && duckdb_open_ext(NULL, &e->db, cfg, &open_err) == DuckDBError) {
        rc = lh_err_set(err, LH_INTERNAL, "cannot open duckdb: %s",
                        open_err ? open_err : "unknown error");
        e->db = NULL;
    }
    if (open_err)
        duckdb_free(open_err);
    duckdb_destroy_config(&cfg);
    return rc;
}

lh_engine *lh_engine_open(lh_storage *storage, lh_catalog *catalog, const lh_engine_opts *opts,
                          lh_err *err) {
    if (!storage || !catalog) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "engine needs storage and catalog");
        return NULL;
    }
    lh_engine *e = lh_xcalloc(1, sizeof *e);
    e->storage = storage;
    e->catalog = catalog;
    if (opts)
        e->opts = *opts;
    fill_defaults(&e->opts);
    /* memory_limit is borrowed in opts; the engine keeps only what it needs after open. */
    e->work_dir = lh_xasprintf("%s/", lh_storage_work_dir(storage));
    pthread_mutex_init(&e->views_mu, NULL);
    pthread_mutex_init(&e->cache_mu, NULL);
    size_t nb = lh_storage_bucket_count(storage);
    e->datasets_dirs = lh_xcalloc(nb ? nb : 1, sizeof *e->datasets_dirs);
    for (size_t i = 0; i < nb; i++) {
        e->datasets_dirs[i] =
            lh_xasprintf("%s/datasets/", lh_bucket_root(lh_storage_bucket_at(storage, i)));
        e->ndatasets_dirs++;
        if (lh_mkdirs(e->datasets_dirs[i], err) != 0)
            goto fail;
    }
    if (lh_mkdirs(e->work_dir, err) != 0)
        goto fail;
    if (open_database(e, err) != 0)
        goto fail;
    if (duckdb_connect(e->db, &e->views_con) == DuckDBError) {
        e->views_con = NULL;
        lh_err_set(err, LH_INTERNAL, "cannot connect to duckdb");
        goto fail;
    }
    /* The hot cache's database; attaching is impossible once the sandbox is locked. */
    if (lh_query__exec(e->views_con, "ATTACH ':memory:' AS " LH_CACHE_DB " (COMPRESS)", err) != 0)
        goto fail;
    /* Settings are database-wide, so one connection applies them for every connection. */
    if (apply_sandbox(e, e->views_con, err) != 0) {
        lh_err_prefix(err, "sandbox: ");
        goto fail;
    }
    e->opts.memory_limit = NULL;
    if (lh_query__pool_start(e, err) != 0)
        goto fail;
    lh_query__cache_load_pins(e);
    LH_LOG_INFO(LH_QUERY_LOG, "engine open duckdb=%s connections=%d timeout_ms=%d",
                lh_engine_duckdb_version(), e->opts.connections, e->opts.timeout_ms);
    return e;
fail:
    lh_engine_close(e);
    return NULL;
}

void lh_engine_close(lh_engine *e) {
    if (!e)
        return;
    lh_query__pool_stop(e);
    lh_query__views_release(e);
    lh_query__cache_release(e);
    if (e->views_con)
        duckdb_disconnect(&e->views_con);
    if (e->db)
        duckdb_close(&e->db);
    pthread_mutex_destroy(&e->views_mu);
    pthread_mutex_destroy(&e->cache_mu);
    for (size_t i = 0; i < e->ndatasets_dirs; i++)
        free(e->datasets_dirs[i]);
    free(e->datasets_dirs);
    free(e->work_dir);
    free(e);
}
