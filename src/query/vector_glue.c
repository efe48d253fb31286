/* query/vector_glue.c: the DuckDB side of the vector engine (vindex sits above and never sees
 * duckdb.h). Streams a dataset's id + text or vector column in batches over chosen live files
 * (tombstones applied), writes embeddings Parquet files through an appender + COPY into
 * scratch before storage adopts them, and reads them back into memory. The vector_search
 * table function is in vector_glue_sql.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "query/query_int.h"

#define VSCAN_BATCH_DEFAULT 1024
#define VSCAN_BATCH_MAX 65536
#define VEC_DIMS_MAX 65536
#define EMB_ROWS_MAX ((size_t)100 * 1000 * 1000)

/* ---- the source of a scan ---------------------------------------------------------------- */

/* The catalog's spelling of column `want` in d (exact, else case-insensitive), or NULL. */
static const lh_column *find_column(const lh_dataset *d, const char *want) {
    for (size_t i = 0; i < d->ncolumns; i++)
        if (strcmp(d->columns[i].name, want) == 0)
            return &d->columns[i];
    for (size_t i = 0; i < d->ncolumns; i++)
        if (strcasecmp(d->columns[i].name, want) == 0)
            return &d->columns[i];
    return NULL;
}

/* FLOAT[n], FLOAT[], DOUBLE[n], DOUBLE[] (and their aliases REAL / FLOAT4 / FLOAT8). */
static bool vector_type_ok(const char *type) {
    static const char *const bases[] = {"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"};
    const char *br = strchr(type, '[');
    if (!br || !lh_str_has_suffix(type, "]") || strchr(br + 1, '['))
        return false;
    for (const char *p = br + 1; *p != ']'; p++)
        if (*p < '0' || *p > '9')
            return false;
    size_t blen = (size_t)(br - type);
    for (size_t i = 0; i < LH_ARRAY_LEN(bases); i++)
        if (strlen(bases[i]) == blen && strncasecmp(type, bases[i], blen) == 0)
            return true;
    return false;
}

/* The SELECT of a scan (owned): "SELECT CAST(id AS VARCHAR), <value> FROM read_parquet(...)
 * WHERE <tombstone filter>". Every name and path comes from the catalog and is quoted. */
static char *scan_sql(lh_engine *e, const lh_vscan_opts *o, lh_err *err) {
    if (!o || !o->dataset || !o->id_column || (!o->text_column == !o->vector_column)) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "a scan needs a dataset, an id column and one text or vector column");
        return NULL;
    }
    lh_catalog_snap *snap = lh_catalog_snapshot(e->catalog);
    char *sql = NULL;
    const lh_dataset *d = lh_catalog_snap_find(snap, o->dataset);
    if (!d) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", o->dataset);
        goto out;
    }
    const char *vcol = o->text_column ? o->text_column : o->vector_column;
    const lh_column *idc = find_column(d, o->id_column), *vc = find_column(d, vcol);
    if (!idc || !vc) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s' has no column '%s'", o->dataset,
                   idc ? vcol : o->id_column);
        goto out;
    }
    if (o->vector_column && !vector_type_ok(vc->type)) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "column '%s' of '%s' is %s, not a vector (FLOAT[n], FLOAT[] or DOUBLE[])",
                   vc->name, o->dataset, vc->type);
        goto out;
    }
    /* The files to read: all live ones, or the named subset (each must still be live). */
    lh_buf b;
    lh_buf_init(&b);
    size_t nsel = 0;
    lh_buf_puts(&b, "read_parquet([");
    for (size_t i = 0; i < d->nfiles; i++) {
        bool take = !o->files;
        for (size_t k = 0; o->files && k < o->nfiles && !take; k++)
            take = strcmp(o->files[k], d->files[i].path) == 0;
        if (!take)
            continue;
        char *full = lh_xasprintf("%s/%s", d->table_root, d->files[i].path);
        char *lit = lh_sql_quote_literal(full);
        lh_buf_printf(&b, "%s%s", nsel++ ? ", " : "", lit);
        free(lit);
        free(full);
    }
    lh_buf_puts(&b, "], union_by_name=true)");
    if (o->files && nsel != o->nfiles) {
        lh_buf_release(&b);
        lh_err_set(err, LH_CONFLICT, "dataset '%s' changed: %zu of the %zu files to index are "
                   "no longer live", o->dataset, o->nfiles - nsel, o->nfiles);
        goto out;
    }
    char *src = lh_buf_detach(&b, NULL);
    char *id = lh_sql_quote_ident(idc->name), *val = lh_sql_quote_ident(vc->name);
    char *value = o->text_column ? lh_xasprintf("CAST(%s AS VARCHAR)", val)
                                 : lh_xasprintf("CAST(%s AS FLOAT[])", val);
    const lh_tombstones *t = lh_catalog_snap_tombstones(snap, d->name);
    char *keep = NULL;
    if (t) {
        /* The key table lh_tomb."<name>" is made by the view sync; bring it up to date. */
        lh_query__views_sync(e);
        char *q = lh_sql_quote_ident(d->name);
        char *table = lh_xasprintf("lh_tomb.%s", q);
        keep = lh_query__tomb_keep_sql(t->column, table);
        free(table);
        free(q);
    }
    if (nsel == 0) /* read_parquet([]) does not bind: an empty scan of the right shape */
        sql = lh_xasprintf("SELECT CAST(NULL AS VARCHAR) AS id, %s AS v WHERE false",
                           o->text_column ? "CAST(NULL AS VARCHAR)" : "CAST(NULL AS FLOAT[])");
    else
        sql = lh_xasprintf("SELECT CAST(%s AS VARCHAR) AS id, %s AS v FROM %s%s%s", id, value,
                           src, keep ? " WHERE " : "", keep ? keep : "");
    free(keep);
    free(value);
    free(id);
    free(val);
    free(src);
out:
    lh_catalog_snap_unref(snap);
    return sql;
}

/* Runs an internal statement as a streaming result on con. */
static int run_streaming(duckdb_connection con, const char *sql, duckdb_result *res,
                         lh_code code, lh_err *err) {
    duckdb_prepared_statement st = NULL;
    if (duckdb_prepare(con, sql, &st) == DuckDBError) {
        lh_err_set(err, code, "%s", duckdb_prepare_error(st) ? duckdb_prepare_error(st)
                                                             : "cannot prepare");
        duckdb_destroy_prepare(&st);
        return -1;
    }
    int rc = 0;
    if (duckdb_execute_prepared_streaming(st, res) == DuckDBError) {
        lh_err_set(err, code, "%s", duckdb_result_error(res) ? duckdb_result_error(res)
                                                             : "cannot execute");
        duckdb_destroy_result(res);
        rc = -1;
    }
    duckdb_destroy_prepare(&st);
    return rc;
}

int lh_engine_vscan_stats(lh_engine *e, const lh_vscan_opts *o, int64_t *rows, size_t *dims,
                          lh_err *err) {
    char *inner = scan_sql(e, o, err);
    if (!inner)
        return -1;
    char *sql = o->text_column
                    ? lh_xasprintf("SELECT count(*), 0, 0 FROM (%s)", inner)
                    : lh_xasprintf("SELECT count(*), min(len(v)), max(len(v)) FROM (%s)", inner);
    free(inner);
    int slot = lh_query__pool_acquire(e, err);
    if (slot < 0) {
        free(sql);
        return -1;
    }
    duckdb_result res;
    int rc = 0;
    if (duckdb_query(e->slots[slot].con, sql, &res) == DuckDBError) {
        rc = lh_err_set(err, LH_IO_ERROR, "cannot read dataset '%s': %s", o->dataset,
                        duckdb_result_error(&res));
    } else {
        int64_t n = duckdb_value_int64(&res, 0, 0);
        int64_t lo = duckdb_value_int64(&res, 1, 0), hi = duckdb_value_int64(&res, 2, 0);
        if (rows)
            *rows = n;
        if (o->vector_column) {
            if (lo != hi)
                rc = lh_err_set(err, LH_INVALID_ARGUMENT,
                                "column '%s' holds vectors of different lengths (%lld to %lld); "
                                "every row must have one length", o->vector_column,
                                (long long)lo, (long long)hi);
            else if (hi > VEC_DIMS_MAX)
                rc = lh_err_set(err, LH_INVALID_ARGUMENT,
                                "column '%s' holds %lld-dimension vectors; at most %d",
                                o->vector_column, (long long)hi, VEC_DIMS_MAX);
            else if (dims)
                *dims = (size_t)hi;
        } else if (dims) {
            *dims = 0;
        }
    }
    duckdb_destroy_result(&res);
    lh_query__pool_release(e, slot);
    free(sql);
    return rc;
}

/* One batch being filled from data chunks. */
typedef struct scan_batch {
    size_t cap, n, dims;
    lh_buf text;        /* ids and texts, NUL-separated; offsets below */
    size_t *id_off;     /* SIZE_MAX = NULL */
    size_t *txt_off;
    size_t *txt_len;
    float *vec;
    bool *ok;
    const char **ids;
    const char **texts;
} scan_batch;

static void batch_init(scan_batch *b, size_t cap, size_t dims) {
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->dims = dims;
    lh_buf_init(&b->text);
    b->id_off = lh_xcalloc(cap, sizeof *b->id_off);
    b->txt_off = lh_xcalloc(cap, sizeof *b->txt_off);
    b->txt_len = lh_xcalloc(cap, sizeof *b->txt_len);
    b->ok = lh_xcalloc(cap, sizeof *b->ok);
    b->ids = lh_xcalloc(cap, sizeof *b->ids);
    b->texts = lh_xcalloc(cap, sizeof *b->texts);
    if (dims)
        b->vec = lh_xcalloc(cap * dims, sizeof *b->vec);
}

static void batch_release(scan_batch *b) {
    lh_buf_release(&b->text);
    free(b->id_off);
    free(b->txt_off);
    free(b->txt_len);
    free(b->ok);
    free(b->ids);
    free(b->texts);
    free(b->vec);
}

static size_t put_text(lh_buf *b, const char *s, size_t n) {
    size_t off = b->len;
    lh_buf_append(b, s, n);
    lh_buf_putc(b, '\0');
    return off;
}

/* Copies row r of the chunk's two vectors into the batch. */
static void batch_add(scan_batch *b, duckdb_vector idv, duckdb_vector vv, idx_t r, bool text) {
    size_t i = b->n++;
    uint64_t *iv = duckdb_vector_get_validity(idv);
    size_t len;
    if (iv && !duckdb_validity_row_is_valid(iv, r)) {
        b->id_off[i] = SIZE_MAX;
    } else {
        const char *s = lh_query__string_at(duckdb_vector_get_data(idv), r, &len);
        b->id_off[i] = put_text(&b->text, s, len);
    }
    uint64_t *vvalid = duckdb_vector_get_validity(vv);
    bool valid = !vvalid || duckdb_validity_row_is_valid(vvalid, r);
    if (text) {
        b->txt_off[i] = SIZE_MAX;
        if (valid) {
            const char *s = lh_query__string_at(duckdb_vector_get_data(vv), r, &len);
            b->txt_off[i] = put_text(&b->text, s, len);
            b->txt_len[i] = len;
        }
        return;
    }
    b->ok[i] = false;
    if (!valid)
        return;
    duckdb_list_entry *le = (duckdb_list_entry *)duckdb_vector_get_data(vv) + r;
    if (le->length != b->dims)
        return;
    duckdb_vector child = duckdb_list_vector_get_child(vv);
    const float *cd = duckdb_vector_get_data(child);
    uint64_t *cv = duckdb_vector_get_validity(child);
    for (uint64_t k = 0; k < le->length; k++)
        if (cv && !duckdb_validity_row_is_valid(cv, le->offset + k))
            return;
    memcpy(b->vec + i * b->dims, cd + le->offset, b->dims * sizeof(float));
    b->ok[i] = true;
}

static int batch_flush(scan_batch *b, int64_t first_row, lh_vscan_fn fn, void *ctx,
                       lh_err *err) {
    if (b->n == 0)
        return 0;
    for (size_t i = 0; i < b->n; i++) {
        b->ids[i] = b->id_off[i] == SIZE_MAX ? NULL : b->text.data + b->id_off[i];
        b->texts[i] = b->txt_off[i] == SIZE_MAX ? NULL : b->text.data + b->txt_off[i];
    }
    bool text = b->dims == 0;
    lh_vscan_batch vb = {.n = b->n, .first_row = first_row, .ids = b->ids,
                         .texts = text ? b->texts : NULL, .text_lens = text ? b->txt_len : NULL,
                         .vectors = text ? NULL : b->vec, .vector_ok = text ? NULL : b->ok,
                         .dims = b->dims};
    int rc = fn(ctx, &vb, err);
    b->n = 0;
    lh_buf_reset(&b->text);
    return rc;
}

int lh_engine_vscan(lh_engine *e, const lh_vscan_opts *o, lh_vscan_fn fn, void *ctx,
                    lh_err *err) {
    size_t dims = 0;
    if (o && o->vector_column && lh_engine_vscan_stats(e, o, NULL, &dims, err) != 0)
        return -1;
    char *inner = scan_sql(e, o, err);
    if (!inner)
        return -1;
    char *sql = o->skip_rows > 0
                    ? lh_xasprintf("%s OFFSET %lld", inner, (long long)o->skip_rows)
                    : lh_xstrdup(inner);
    free(inner);
    size_t cap = o->batch_rows ? o->batch_rows : VSCAN_BATCH_DEFAULT;
    if (cap > VSCAN_BATCH_MAX)
        cap = VSCAN_BATCH_MAX;
    int slot = lh_query__pool_acquire(e, err);
    if (slot < 0) {
        free(sql);
        return -1;
    }
    duckdb_result res;
    int rc = run_streaming(e->slots[slot].con, sql, &res, LH_IO_ERROR, err);
    free(sql);
    if (rc != 0) {
        lh_err_prefix(err, "cannot read dataset '%s': ", o->dataset);
        lh_query__pool_release(e, slot);
        return -1;
    }
    scan_batch b;
    batch_init(&b, cap, o->vector_column ? (dims ? dims : 1) : 0);
    int64_t pos = o->skip_rows > 0 ? o->skip_rows : 0;
    for (;;) {
        duckdb_data_chunk ch = duckdb_fetch_chunk(res);
        if (!ch) {
            if (duckdb_result_error(&res))
                rc = lh_err_set(err, LH_IO_ERROR, "cannot read dataset '%s': %s", o->dataset,
                                duckdb_result_error(&res));
            break;
        }
        idx_t n = duckdb_data_chunk_get_size(ch);
        duckdb_vector idv = duckdb_data_chunk_get_vector(ch, 0);
        duckdb_vector vv = duckdb_data_chunk_get_vector(ch, 1);
        for (idx_t r = 0; r < n && rc == 0; r++) {
            batch_add(&b, idv, vv, r, o->text_column != NULL);
            if (b.n == b.cap) {
                rc = batch_flush(&b, pos, fn, ctx, err);
                pos += (int64_t)b.cap;
            }
        }
        duckdb_destroy_data_chunk(&ch);
        if (rc != 0)
            break;
    }
    if (rc == 0)
        rc = batch_flush(&b, pos, fn, ctx, err);
    batch_release(&b);
    duckdb_destroy_result(&res);
    lh_query__pool_release(e, slot);
    return rc;
}

/* ---- embeddings files -------------------------------------------------------------------- */

static duckdb_data_chunk emb_chunk(size_t dims) {
    duckdb_logical_type ft = duckdb_create_logical_type(DUCKDB_TYPE_FLOAT);
    duckdb_logical_type types[6] = {
        duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR),
        duckdb_create_logical_type(DUCKDB_TYPE_INTEGER),
        duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR),
        duckdb_create_logical_type(DUCKDB_TYPE_BIGINT),
        duckdb_create_logical_type(DUCKDB_TYPE_BIGINT),
        duckdb_create_array_type(ft, dims),
    };
    duckdb_data_chunk ch = duckdb_create_data_chunk(types, 6);
    for (size_t i = 0; i < 6; i++)
        duckdb_destroy_logical_type(&types[i]);
    duckdb_destroy_logical_type(&ft);
    return ch;
}

/* Appends rows[from..to) through app as one data chunk. */
static int emb_append(duckdb_appender app, const lh_emb_rows *r, size_t from, size_t to) {
    duckdb_data_chunk ch = emb_chunk(r->dims);
    duckdb_vector v[6];
    for (idx_t c = 0; c < 6; c++)
        v[c] = duckdb_data_chunk_get_vector(ch, c);
    int32_t *cid = duckdb_vector_get_data(v[1]);
    int64_t *st = duckdb_vector_get_data(v[3]), *en = duckdb_vector_get_data(v[4]);
    float *vec = duckdb_vector_get_data(duckdb_array_vector_get_child(v[5]));
    for (size_t i = from; i < to; i++) {
        idx_t k = (idx_t)(i - from);
        const char *id = r->doc_ids[i] ? r->doc_ids[i] : "";
        duckdb_vector_assign_string_element_len(v[0], k, id, strlen(id));
        cid[k] = r->chunk_ids[i];
        duckdb_vector_assign_string_element_len(v[2], k, r->chunks[i], r->chunk_lens[i]);
        st[k] = r->starts[i];
        en[k] = r->ends[i];
        memcpy(vec + k * r->dims, r->vectors + i * r->dims, r->dims * sizeof(float));
    }
    duckdb_data_chunk_set_size(ch, (idx_t)(to - from));
    int rc = duckdb_append_data_chunk(app, ch) == DuckDBError ? -1 : 0;
    duckdb_destroy_data_chunk(&ch);
    return rc;
}

int lh_engine_write_embeddings(lh_engine *e, const lh_emb_rows *rows, lh_bucket *b,
                               const char *key, lh_err *err) {
    if (!rows || rows->n == 0 || rows->dims == 0 || rows->dims > VEC_DIMS_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "an embeddings file needs rows and 1..%d dimensions", VEC_DIMS_MAX);
    char uuid[37], tname[64];
    lh_uuid4(uuid);
    snprintf(tname, sizeof tname, "lh_emb_%.8s%.4s", uuid, uuid + 9);
    char *scratch = lh_storage_scratch_path(e->storage, ".parquet");
    char *create = lh_xasprintf("CREATE TEMP TABLE %s (doc_id VARCHAR, chunk_id INTEGER, chunk "
                                "VARCHAR, start_offset BIGINT, end_offset BIGINT, vector "
                                "FLOAT[%zu])", tname, rows->dims);
    char *lit = lh_sql_quote_literal(scratch);
    char *copy = lh_xasprintf("COPY %s TO %s (FORMAT parquet, COMPRESSION zstd)", tname, lit);
    char *drop = lh_xasprintf("DROP TABLE IF EXISTS temp.main.%s", tname);
    free(lit);
    int slot = lh_query__pool_acquire(e, err);
    int rc = slot < 0 ? -1 : 0;
    duckdb_connection con = slot >= 0 ? e->slots[slot].con : NULL;
    if (rc == 0)
        rc = lh_query__exec(con, create, err);
    if (rc == 0) {
        duckdb_appender app = NULL;
        if (duckdb_appender_create_ext(con, "temp", "main", tname, &app) == DuckDBError) {
            rc = lh_err_set(err, LH_INTERNAL, "embeddings appender: %s",
                            app ? duckdb_appender_error(app) : "cannot create");
        } else {
            size_t step = duckdb_vector_size();
            for (size_t i = 0; i < rows->n && rc == 0; i += step)
                rc = emb_append(app, rows, i, i + step < rows->n ? i + step : rows->n);
            if (rc == 0 && duckdb_appender_close(app) == DuckDBError)
                rc = -1;
            if (rc != 0)
                lh_err_set(err, LH_INTERNAL, "embeddings appender: %s",
                           duckdb_appender_error(app) ? duckdb_appender_error(app) : "failed");
        }
        duckdb_appender_destroy(&app);
        if (rc == 0 && lh_query__exec(con, copy, err) != 0)
            rc = lh_err_prefix(err, "writing embeddings: ");
        lh_err ignore = LH_ERR_INIT;
        if (lh_query__exec(con, drop, &ignore) != 0) /* harmless: it dies with con */
            LH_LOG_DEBUG(LH_QUERY_LOG, "temp table %s not dropped: %s", tname, ignore.message);
    }
    if (slot >= 0)
        lh_query__pool_release(e, slot);
    if (rc == 0 && lh_bucket_adopt_file(b, key, scratch, err) != 0)
        rc = -1;
    if (rc != 0)
        (void)unlink(scratch); /* may not exist; nothing else refers to it */
    free(scratch);
    free(create);
    free(copy);
    free(drop);
    return rc;
}

/* A name for DuckDB inside the scratch dir with the bytes of src: a hard link (same
 * filesystem, no copy), else a copy. */
static int scratch_link(lh_engine *e, const char *src, char **out, lh_err *err) {
    char *dst = lh_storage_scratch_path(e->storage, ".parquet");
    if (link(src, dst) == 0) {
        *out = dst;
        return 0;
    }
    if (errno == ENOENT) {
        free(dst);
        return lh_err_set(err, LH_NOT_FOUND, "embeddings file '%s' not found", src);
    }
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int fd = in < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = fd < 0 ? lh_err_errno(err, errno, "cannot copy '%s' to scratch", src) : 0;
    char buf[1 << 16];
    ssize_t n;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = lh_err_errno(err, errno, "cannot read '%s'", src);
        else
            rc = lh_write_full(fd, buf, (size_t)n, err);
    }
    if (in >= 0)
        close(in);
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        (void)unlink(dst);
        free(dst);
        return -1;
    }
    *out = dst;
    return 0;
}

/* n bytes of s cut to at most max bytes, never inside a UTF-8 sequence. Owned. */
static char *utf8_cut(const char *s, size_t n, size_t max) {
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return lh_xstrndup(s, n);
}

/* Parquet has no fixed-size arrays, so FLOAT[n] comes back as a FLOAT[] list: both are
 * accepted, a list's rows must then all have one length (checked while reading). */
static bool emb_types_ok(duckdb_result *res, size_t *dims, bool *is_list) {
    if (duckdb_column_count(res) != 4)
        return false;
    static const duckdb_type want[3] = {DUCKDB_TYPE_VARCHAR, DUCKDB_TYPE_INTEGER,
                                        DUCKDB_TYPE_VARCHAR};
    for (idx_t c = 0; c < 3; c++)
        if (duckdb_column_type(res, c) != want[c])
            return false;
    duckdb_logical_type t = duckdb_column_logical_type(res, 3);
    duckdb_type id = duckdb_get_type_id(t);
    *is_list = id == DUCKDB_TYPE_LIST;
    bool ok = id == DUCKDB_TYPE_ARRAY || *is_list;
    if (ok) {
        duckdb_logical_type ct = *is_list ? duckdb_list_type_child_type(t)
                                          : duckdb_array_type_child_type(t);
        ok = duckdb_get_type_id(ct) == DUCKDB_TYPE_FLOAT;
        *dims = *is_list ? 0 : (size_t)duckdb_array_type_array_size(t);
        duckdb_destroy_logical_type(&ct);
    }
    duckdb_destroy_logical_type(&t);
    return ok && (*is_list || (*dims > 0 && *dims <= VEC_DIMS_MAX));
}

/* Grows the arrays of d to hold `need` rows. */
static int emb_grow(lh_emb_data *d, size_t *cap, size_t need, bool vecs, lh_err *err) {
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4096;
    while (nc < need)
        nc *= 2;
    if (nc > EMB_ROWS_MAX || (vecs && d->dims && nc > SIZE_MAX / sizeof(float) / d->dims))
        return lh_err_set(err, LH_TOO_LARGE, "embeddings file holds more than %zu rows",
                          EMB_ROWS_MAX);
    d->doc_ids = lh_xrealloc(d->doc_ids, nc * sizeof *d->doc_ids);
    d->chunk_ids = lh_xrealloc(d->chunk_ids, nc * sizeof *d->chunk_ids);
    d->snippets = lh_xrealloc(d->snippets, nc * sizeof *d->snippets);
    if (vecs) {
        float *nv = realloc(d->vectors, nc * d->dims * sizeof(float));
        if (!nv)
            return lh_err_set(err, LH_TOO_LARGE, "not enough memory for %zu vectors", nc);
        d->vectors = nv;
    }
    *cap = nc;
    return 0;
}

/* Row r's vector in v (ARRAY or LIST of FLOAT); NULL when the row's length is not dims. */
static const float *row_vector(duckdb_vector v, bool is_list, idx_t r, size_t dims) {
    const float *data = duckdb_vector_get_data(is_list ? duckdb_list_vector_get_child(v)
                                                       : duckdb_array_vector_get_child(v));
    if (!is_list)
        return data + r * dims;
    const duckdb_list_entry *le = (const duckdb_list_entry *)duckdb_vector_get_data(v) + r;
    return le->length == dims ? data + le->offset : NULL;
}

static int emb_read_chunks(duckdb_result *res, size_t snippet_max, bool want_vectors,
                           bool is_list, lh_emb_data *d, lh_err *err) {
    size_t cap = 0;
    for (;;) {
        duckdb_data_chunk ch = duckdb_fetch_chunk(*res);
        if (!ch)
            return duckdb_result_error(res) ? lh_err_set(err, LH_CORRUPT, "%s",
                                                         duckdb_result_error(res))
                                            : 0;
        idx_t n = duckdb_data_chunk_get_size(ch);
        duckdb_vector v[4];
        for (idx_t c = 0; c < 4; c++)
            v[c] = duckdb_data_chunk_get_vector(ch, c);
        if (d->dims == 0 && n > 0) /* a list: the first row sets the length */
            d->dims = ((const duckdb_list_entry *)duckdb_vector_get_data(v[3]))->length;
        int rc = d->dims == 0 || d->dims > VEC_DIMS_MAX
                     ? lh_err_set(err, LH_CORRUPT, "vectors of %zu dimensions", d->dims)
                     : emb_grow(d, &cap, d->n + n, want_vectors, err);
        const int32_t *cid = duckdb_vector_get_data(v[1]);
        uint64_t *vvalid = duckdb_vector_get_validity(v[3]);
        for (idx_t r = 0; r < n && rc == 0; r++) {
            const float *vec = vvalid && !duckdb_validity_row_is_valid(vvalid, r)
                                   ? NULL
                                   : row_vector(v[3], is_list, r, d->dims);
            if (!vec) {
                rc = lh_err_set(err, LH_CORRUPT, "embeddings row %zu has no vector of %zu "
                                "dimensions", d->n, d->dims);
                break;
            }
            size_t len;
            const char *s = lh_query__string_at(duckdb_vector_get_data(v[0]), r, &len);
            d->doc_ids[d->n] = lh_xstrndup(s, len);
            d->chunk_ids[d->n] = cid[r];
            s = lh_query__string_at(duckdb_vector_get_data(v[2]), r, &len);
            d->snippets[d->n] = utf8_cut(s, len, snippet_max);
            if (want_vectors)
                memcpy(d->vectors + d->n * d->dims, vec, d->dims * sizeof(float));
            d->n++;
        }
        duckdb_destroy_data_chunk(&ch);
        if (rc != 0)
            return -1;
    }
}

int lh_engine_read_embeddings(lh_engine *e, lh_bucket *b, const char *key, size_t snippet_max,
                              bool want_vectors, lh_emb_data *out, lh_err *err) {
    memset(out, 0, sizeof *out);
    char *path = lh_bucket_path(b, key), *scratch = NULL;
    int rc = scratch_link(e, path, &scratch, err);
    free(path);
    if (rc != 0)
        return -1;
    char *lit = lh_sql_quote_literal(scratch);
    char *sql = lh_xasprintf("SELECT doc_id, chunk_id, chunk, vector FROM read_parquet(%s)", lit);
    free(lit);
    int slot = lh_query__pool_acquire(e, err);
    if (slot < 0) {
        rc = -1;
        goto out;
    }
    duckdb_result res;
    if (run_streaming(e->slots[slot].con, sql, &res, LH_CORRUPT, err) != 0) {
        rc = lh_err_prefix(err, "embeddings file '%s': ", key);
    } else {
        bool is_list = false;
        if (!emb_types_ok(&res, &out->dims, &is_list))
            rc = lh_err_set(err, LH_CORRUPT, "embeddings file '%s' does not have the columns "
                            "doc_id, chunk_id, chunk, vector FLOAT[n]", key);
        else if (emb_read_chunks(&res, snippet_max, want_vectors, is_list, out, err) != 0)
            rc = lh_err_prefix(err, "embeddings file '%s': ", key);
        duckdb_destroy_result(&res);
    }
    lh_query__pool_release(e, slot);
out:
    (void)unlink(scratch); /* the bucket's name stays; only our scratch link goes */
    free(scratch);
    free(sql);
    if (rc != 0)
        lh_emb_data_release(out);
    return rc;
}

void lh_emb_data_release(lh_emb_data *d) {
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->doc_ids[i]);
        free(d->snippets[i]);
    }
    free(d->doc_ids);
    free(d->chunk_ids);
    free(d->snippets);
    free(d->vectors);
    memset(d, 0, sizeof *d);
}
