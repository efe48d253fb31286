/* query/compact.c: compaction. Rewrites a dataset's live Parquet files into few zstd files in
 * scratch space, dropping the rows its tombstones hide, reads every new file back to check
 * the row count, then hands them to the catalog for one remove+add Delta commit. Each step is
 * a fault point, and every step is safe to die after: before the commit the table is
 * untouched (scratch is swept by a later open), after it the new files are the table and the
 * leftovers (old files, cleared tombstones) are either removed now or swept/harmless later. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "query/query_int.h"

#define COMPACT_ATTEMPTS 3
#define COMPACT_FILE_BYTES "128MB"
#define COMPACT_ROW_GROUP 122880
#define COMPACT_MAX_OUT 100000

/* The first row's BIGINT columns of sql's result into out[0..n). */
static int query_ints(duckdb_connection con, const char *sql, int64_t *out, size_t n,
                      lh_err *err) {
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError) {
        const char *m = duckdb_result_error(&res);
        lh_err_set(err, LH_IO_ERROR, "compaction: %s", m ? m : "query failed");
        duckdb_destroy_result(&res);
        return -1;
    }
    int rc = lh_err_set(err, LH_INTERNAL, "compaction: empty count result");
    duckdb_data_chunk c = duckdb_fetch_chunk(res);
    if (c && duckdb_data_chunk_get_size(c) > 0 && duckdb_data_chunk_get_column_count(c) >= n) {
        for (size_t i = 0; i < n; i++)
            out[i] = ((const int64_t *)duckdb_vector_get_data(
                duckdb_data_chunk_get_vector(c, (idx_t)i)))[0];
        lh_err_clear(err);
        rc = 0;
    }
    if (c)
        duckdb_destroy_data_chunk(&c);
    duckdb_destroy_result(&res);
    return rc;
}

static char *columns_sql(const lh_dataset *d) {
    lh_buf b;
    lh_buf_init(&b);
    for (size_t i = 0; i < d->ncolumns; i++) {
        char *q = lh_sql_quote_ident(d->columns[i].name);
        lh_buf_printf(&b, "%s%s", i ? ", " : "", q);
        free(q);
    }
    return lh_buf_detach(&b, NULL);
}

/* The new files (sorted names) of out_dir; owned array of owned paths. */
static int list_out(const char *dir, char ***paths, size_t *n, lh_err *err) {
    *paths = NULL;
    *n = 0;
    DIR *dh = opendir(dir);
    if (!dh) /* no rows at all: DuckDB may write nothing */
        return 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        if (!lh_str_has_suffix(de->d_name, ".parquet"))
            continue;
        if (*n == COMPACT_MAX_OUT) {
            closedir(dh);
            return lh_err_set(err, LH_TOO_LARGE, "compaction wrote over %d files",
                              COMPACT_MAX_OUT);
        }
        *paths = lh_xrealloc(*paths, (*n + 1) * sizeof **paths);
        (*paths)[(*n)++] = lh_xasprintf("%s/%s", dir, de->d_name);
    }
    closedir(dh);
    return 0;
}

typedef struct run {
    lh_engine *e;
    duckdb_connection con;
    const lh_dataset *d;
    const lh_tombstones *t;
    char *out_dir;
    char **out;
    size_t nout;
    lh_add_file *adds;
    size_t nadds;
    int64_t rows_before, rows_dropped, rows_after;
    uint64_t bytes_after;
} run;

static void run_release(run *r) {
    for (size_t i = 0; i < r->nout; i++)
        free(r->out[i]);
    free(r->out);
    free(r->adds);
    if (r->out_dir) {
        lh_err ignored = LH_ERR_INIT;
        (void)!lh_remove_tree(r->out_dir, &ignored);
        free(r->out_dir);
    }
}

/* Counts, writes and verifies the new files (steps up to after_verify). */
static int rewrite(run *r, lh_err *err) {
    const lh_dataset *d = r->d;
    char *src = lh_query__dataset_source_sql(d);
    char *cols = columns_sql(d);
    char *keep = r->t ? lh_query__tomb_keep_sql(r->t->column, "lh_compact_keys")
                      : lh_xstrdup("true");
    int rc = -1;
    if (r->t) {
        if (lh_query__exec(r->con, "CREATE OR REPLACE TEMP TABLE lh_compact_keys "
                                   "(k VARCHAR NOT NULL)", err) != 0 ||
            lh_query__tomb_fill(r->con, "temp", "main", "lh_compact_keys", r->t->keys, r->t->nkeys,
                                err) != 0)
            goto out;
    }
    char *sql = lh_xasprintf("SELECT count(*), count(*) FILTER (WHERE NOT %s) FROM %s", keep, src);
    int64_t counts[2] = {0, 0};
    int q = query_ints(r->con, sql, counts, 2, err);
    free(sql);
    if (q != 0)
        goto out;
    r->rows_before = counts[0];
    r->rows_dropped = counts[1];
    r->out_dir = lh_storage_scratch_path(r->e->storage, "-compact");
    char *dir = lh_sql_quote_literal(r->out_dir);
    sql = lh_xasprintf("COPY (SELECT %s FROM %s WHERE %s) TO %s (FORMAT parquet, COMPRESSION "
                       "zstd, ROW_GROUP_SIZE %d, FILE_SIZE_BYTES '%s')",
                       cols, src, keep, dir, COMPACT_ROW_GROUP, COMPACT_FILE_BYTES);
    free(dir);
    q = lh_query__exec(r->con, sql, err);
    free(sql);
    if (q != 0)
        goto out;
    if (list_out(r->out_dir, &r->out, &r->nout, err) != 0)
        goto out;
    lh_fault_point("compact.after_write");
    /* Verify: every new file parses and together they hold exactly the rows kept. */
    r->adds = lh_xcalloc(r->nout ? r->nout : 1, sizeof *r->adds);
    int64_t total = 0;
    for (size_t i = 0; i < r->nout; i++) {
        char *lit = lh_sql_quote_literal(r->out[i]);
        sql = lh_xasprintf("SELECT count(*) FROM read_parquet(%s)", lit);
        free(lit);
        int64_t rows = 0;
        q = query_ints(r->con, sql, &rows, 1, err);
        free(sql);
        if (q != 0)
            goto out;
        total += rows;
        if (rows == 0)
            continue; /* an empty file adds nothing to the table */
        struct stat st;
        if (stat(r->out[i], &st) == 0)
            r->bytes_after += (uint64_t)st.st_size;
        r->adds[r->nadds++] = (lh_add_file){.src_path = r->out[i], .move = true, .rows = rows};
    }
    r->rows_after = total;
    if (total != r->rows_before - r->rows_dropped) {
        lh_err_set(err, LH_INTERNAL, "compaction of '%s': new files hold %lld rows, expected "
                   "%lld; nothing was changed", d->name, (long long)total,
                   (long long)(r->rows_before - r->rows_dropped));
        goto out;
    }
    lh_fault_point("compact.after_verify");
    rc = 0;
out:
    if (r->t) {
        lh_err ignored = LH_ERR_INIT;
        (void)!lh_query__exec(r->con, "DROP TABLE IF EXISTS temp.lh_compact_keys", &ignored);
    }
    free(keep);
    free(cols);
    free(src);
    return rc;
}

static json_t *answer(const lh_dataset *d, const run *r, int64_t version, size_t cleared,
                      bool compacted) {
    uint64_t bytes_before = 0;
    for (size_t i = 0; i < d->nfiles; i++)
        bytes_before += d->files[i].size;
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "dataset",
                     d->name, "files_before", (json_int_t)d->nfiles, "files_after",
                     (json_int_t)(compacted ? r->nadds : d->nfiles), "rows_before",
                     (json_int_t)r->rows_before, "rows_after", (json_int_t)r->rows_after,
                     "rows_dropped", (json_int_t)r->rows_dropped, "bytes_before",
                     (json_int_t)bytes_before, "bytes_after",
                     (json_int_t)(compacted ? r->bytes_after : bytes_before), "version",
                     (json_int_t)version, "tombstones_cleared", (json_int_t)cleared,
                     "compacted", compacted);
}

/* One attempt on the snapshot taken now. *retry set on a conflict worth retrying. */
static json_t *attempt(lh_engine *e, duckdb_connection con, const char *name, const char *actor,
                       bool *retry, lh_err *err) {
    *retry = false;
    lh_catalog_snap *snap = lh_catalog_snapshot(e->catalog);
    const lh_dataset *d = lh_catalog_snap_find(snap, name);
    json_t *doc = NULL;
    run r = {.e = e, .con = con, .d = d};
    if (!d) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name);
        goto out;
    }
    r.t = lh_catalog_snap_tombstones(snap, name);
    if (d->nfiles == 0 || (d->nfiles == 1 && !r.t)) { /* already as compact as it gets */
        r.rows_before = r.rows_after = d->row_count;
        doc = answer(d, &r, d->version, 0, false);
        goto out;
    }
    if (rewrite(&r, err) != 0)
        goto out;
    const char **old = lh_xcalloc(d->nfiles, sizeof *old);
    for (size_t i = 0; i < d->nfiles; i++)
        old[i] = d->files[i].path;
    lh_commit_info info = {.operation = "OPTIMIZE", .source = "compaction", .actor = actor};
    int64_t version = -1;
    int rc = lh_catalog_replace_files(e->catalog, name, d->version, old, d->nfiles, r.adds,
                                      r.nadds, &info, &version, err);
    if (rc != 0) {
        free(old);
        *retry = err->code == LH_CONFLICT;
        goto out;
    }
    lh_fault_point("compact.after_commit");
    size_t cleared = 0;
    /* Only when no other commit landed between our snapshot and our commit: an append in
     * between is not rewritten and may hold rows these batches must keep hiding. */
    if (r.t && version == d->version + 1) {
        const char **ids = lh_xcalloc(r.t->nbatches, sizeof *ids);
        for (size_t i = 0; i < r.t->nbatches; i++)
            ids[i] = r.t->batches[i].id;
        lh_err cerr = LH_ERR_INIT;
        if (lh_catalog_clear_tombstones(e->catalog, name, ids, r.t->nbatches, version, &cleared,
                                        &cerr) != 0)
            LH_LOG_WARN(LH_QUERY_LOG, "compaction: tombstones not cleared dataset=%s: %s "
                                      "(they still hide the rows)", name, cerr.message);
        free(ids);
    }
    lh_fault_point("compact.after_clear");
    /* A query that started before the commit may still open these: delete them once it
     * is done (our own connection is released first, so the usual case is at once). */
    lh_query__defer_delete(e, name, old, d->nfiles);
    free(old);
    doc = answer(d, &r, version, cleared, true);
    LH_LOG_INFO(LH_QUERY_LOG, "compacted dataset=%s files=%zu->%zu rows_dropped=%lld "
                              "version=%lld", name, d->nfiles, r.nadds,
                (long long)r.rows_dropped, (long long)version);
out:
    run_release(&r);
    lh_catalog_snap_unref(snap);
    return doc;
}

json_t *lh_engine_compact(lh_engine *e, const char *name, const char *actor, lh_err *err) {
    if (!name || !lh_name_valid(name)) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name ? name : "");
        return NULL;
    }
    int slot = lh_query__pool_acquire(e, err);
    if (slot < 0)
        return NULL;
    json_t *doc = NULL;
    for (int i = 0; i < COMPACT_ATTEMPTS && !doc; i++) {
        bool retry = false;
        lh_err_clear(err);
        doc = attempt(e, e->slots[slot].con, name, actor, &retry, err);
        if (!doc && !retry)
            break;
    }
    lh_query__pool_release(e, slot);
    return doc;
}
