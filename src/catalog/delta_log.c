/* catalog: the Delta Lake transaction log. Writes the newline-delimited actions of one commit
 * (commitInfo, protocol + metaData at version 0, add) and replays versions into a dataset
 * entry: add/remove reconcile the live file set (the last action for a path wins), metaData
 * sets the schema (the last one wins: appends may widen it), commitInfo becomes history and
 * lineage. Only JSON commits are read (no checkpoints). */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

char *lh_cat__log_key(const char *name, int64_t version)
{
    return lh_xasprintf("datasets/%s/_delta_log/%020lld.json", name, (long long)version);
}

/* ---- writing ----------------------------------------------------------------------------- */

static bool has_ntz(const json_t *t, int depth)
{
    if (depth > LH_CAT_TYPE_DEPTH || !t)
        return false;
    if (json_is_string(t))
        return strcmp(json_string_value(t), "timestamp_ntz") == 0;
    if (json_is_array(t)) {
        for (size_t i = 0; i < json_array_size(t); i++)
            if (has_ntz(json_array_get(t, i), depth + 1))
                return true;
        return false;
    }
    if (json_is_object(t)) {
        /* Names are never looked at, so a column called "timestamp_ntz" does not count. */
        static const char *keys[] = {"type", "elementType", "keyType", "valueType", "fields"};
        for (size_t i = 0; i < LH_ARRAY_LEN(keys); i++)
            if (has_ntz(json_object_get(t, keys[i]), depth + 1))
                return true;
    }
    return false;
}

/* Protocol 1/2 is enough for every type but timestamp_ntz, which Delta gates behind the
 * timestampNtz table feature (reader 3, writer 7); readers reject the table otherwise. */
static json_t *protocol_action(const json_t *schema)
{
    if (!has_ntz(schema, 0))
        return json_pack("{s:{s:i, s:i}}", "protocol", "minReaderVersion", 1,
                         "minWriterVersion", 2);
    return json_pack("{s:{s:i, s:i, s:[s], s:[s]}}", "protocol", "minReaderVersion", 3,
                     "minWriterVersion", 7, "readerFeatures", "timestampNtz",
                     "writerFeatures", "timestampNtz");
}

static void put_line(lh_buf *b, json_t *action)
{
    char *s = lh_json_dump(action);
    lh_buf_puts(b, s);
    lh_buf_putc(b, '\n');
    free(s);
    json_decref(action);
}

static json_t *commit_info_action(int64_t ts_ms, const lh_commit_info *info,
                                  const char *operation, int64_t rows, bool blind)
{
    json_t *ci = json_object();
    json_object_set_new(ci, "timestamp", json_integer(ts_ms));
    json_object_set_new(ci, "operation", json_string(operation));
    json_object_set_new(ci, "operationParameters", json_pack("{s:s}", "mode", "Append"));
    json_object_set_new(ci, "engineInfo", json_string("lakehouse/" LH_VERSION_STRING));
    json_object_set_new(ci, "isBlindAppend", json_boolean(blind));
    if (info && info->actor)
        json_object_set_new(ci, "userName", json_string(info->actor));
    /* Lineage: Delta readers ignore this object; the catalog rebuilds history from it. */
    const char *src = info ? info->source : NULL, *file = info ? info->file_name : NULL;
    const char *hash = info ? info->content_hash : NULL, *job = info ? info->job_id : NULL;
    json_t *lin = json_object();
    json_object_set_new(lin, "source", src ? json_string(src) : json_null());
    json_object_set_new(lin, "file_name", file ? json_string(file) : json_null());
    json_object_set_new(lin, "content_hash", hash ? json_string(hash) : json_null());
    json_object_set_new(lin, "job_id", job ? json_string(job) : json_null());
    json_object_set_new(lin, "rows_added", json_integer(rows));
    json_object_set_new(ci, "lakehouse", lin);
    return json_pack("{s:o}", "commitInfo", ci);
}

static json_t *meta_action(const lh_cat__entry *e, const json_t *schema)
{
    char *schema_string = lh_json_dump(schema);
    json_t *m = json_pack("{s:{s:s, s:{s:s, s:{}}, s:s, s:[], s:{}, s:I}}", "metaData", "id",
                          e->d.table_id, "format", "provider", "parquet", "options",
                          "schemaString", schema_string, "partitionColumns", "configuration",
                          "createdTime", (json_int_t)e->d.created_ms);
    free(schema_string);
    return m;
}

char *lh_cat__commit_text(const lh_cat__entry *e, int64_t version, int64_t ts_ms,
                          const lh_commit_info *info, const char *operation,
                          const lh_data_file *adds, size_t nadds, const json_t *prev_schema,
                          lh_err *err)
{
    int64_t rows = 0;
    for (size_t i = 0; i < nadds; i++)
        rows += adds[i].rows > 0 ? adds[i].rows : 0;
    bool meta = version == 0 || prev_schema;

    lh_buf b;
    lh_buf_init(&b);
    put_line(&b, commit_info_action(ts_ms, info, operation, rows, !meta || version == 0));
    if (meta) {
        json_t *schema = lh_cat__delta_struct(e->d.columns, e->d.ncolumns, err);
        if (!schema) {
            lh_buf_release(&b);
            return NULL;
        }
        /* A later schema that gains a timestamp_ntz needs the table feature from then on. */
        if (version == 0 || (has_ntz(schema, 0) && !has_ntz(prev_schema, 0)))
            put_line(&b, protocol_action(schema));
        put_line(&b, meta_action(e, schema));
        json_decref(schema);
    }
    for (size_t i = 0; i < nadds; i++) {
        char *stats = lh_xasprintf("{\"numRecords\":%lld}", (long long)adds[i].rows);
        put_line(&b, json_pack("{s:{s:s, s:{}, s:I, s:I, s:b, s:s}}", "add", "path",
                               adds[i].path, "partitionValues", "size",
                               (json_int_t)adds[i].size, "modificationTime",
                               (json_int_t)adds[i].modification_ms, "dataChange", 1, "stats",
                               stats));
        free(stats);
    }
    return lh_buf_detach(&b, NULL);
}

/* ---- replay ------------------------------------------------------------------------------ */

typedef struct file_action {
    lh_data_file f;
    bool add;
    size_t seq;
} file_action;

typedef struct replay {
    lh_cat__entry *e;
    file_action *acts;
    size_t nacts, cap;
    /* per version */
    json_t *commit_info;
    int64_t v_rows, v_files;
    bool v_meta, v_protocol;
} replay;

static void push_action(replay *r, const char *path, bool add, uint64_t size, int64_t rows,
                        int64_t mtime)
{
    if (r->nacts == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->acts = lh_xrealloc(r->acts, r->cap * sizeof *r->acts);
    }
    file_action *a = &r->acts[r->nacts];
    a->f.path = lh_xstrdup(path);
    a->f.size = size;
    a->f.rows = rows;
    a->f.modification_ms = mtime;
    a->add = add;
    a->seq = r->nacts++;
}

static int64_t stats_rows(const json_t *add)
{
    const char *stats = json_string_value(json_object_get(add, "stats"));
    if (!stats)
        return -1;
    lh_err ignored = LH_ERR_INIT;
    json_t *j = lh_json_parse(stats, strlen(stats), &ignored);
    int64_t n = -1;
    if (j && json_is_integer(json_object_get(j, "numRecords")))
        n = (int64_t)json_integer_value(json_object_get(j, "numRecords"));
    json_decref(j);
    return n;
}

static int apply_add(replay *r, const json_t *add, lh_err *err)
{
    const char *path = json_string_value(json_object_get(add, "path"));
    if (!path || !*path)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "add action without a path");
    const json_t *dv = json_object_get(add, "deletionVector");
    if (dv && !json_is_null(dv))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "deletion vectors are not supported");
    int64_t size = 0, mtime = 0;
    if (lh_json_int(add, "size", false, 0, &size, err) != 0 ||
        lh_json_int(add, "modificationTime", false, 0, &mtime, err) != 0)
        return -1;
    int64_t rows = stats_rows(add);
    push_action(r, path, true, size > 0 ? (uint64_t)size : 0, rows, mtime);
    r->v_files++;
    r->v_rows += rows > 0 ? rows : 0;
    return 0;
}

/* The columns of a metaData schema. A column that was there before keeps its exact DuckDB
 * type (when it still maps to the same Delta type) and its metadata; the last metaData of
 * the log wins, so a widened schema keeps what it had. */
static int columns_from_schema(lh_cat__entry *e, const json_t *fields, lh_err *err)
{
    size_t n = json_array_size(fields);
    lh_column *cols = lh_xcalloc(n, sizeof *cols);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const json_t *f = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        const json_t *ftype = json_object_get(f, "type");
        if (!name || !*name) {
            rc = lh_err_set(err, LH_INVALID_ARGUMENT, "field without name");
            break;
        }
        long k = lh_cat__column_index(e->d.columns, e->d.ncolumns, name);
        const lh_column *prev = k >= 0 ? &e->d.columns[k] : NULL;
        char *type = NULL;
        if (prev) {
            lh_err ignored = LH_ERR_INIT;
            json_t *mine = lh_delta_type_from_duckdb(prev->type, &ignored);
            if (mine && json_equal(mine, ftype))
                type = lh_xstrdup(prev->type);
            json_decref(mine);
        }
        if (!type && !(type = lh_delta_type_to_duckdb(ftype, err))) {
            rc = lh_err_prefix(err, "field '%s': ", name);
            break;
        }
        cols[i].name = lh_xstrdup(name);
        cols[i].type = type;
        if (prev) {
            cols[i].description = prev->description ? lh_xstrdup(prev->description) : NULL;
            cols[i].pii = prev->pii ? lh_xstrdup(prev->pii) : NULL;
            cols[i].sensitive = prev->sensitive;
        }
    }
    if (rc == 0)
        lh_cat__entry_set_columns(e, cols, n);
    lh_columns_free(cols, n);
    return rc;
}

static int apply_meta(replay *r, const json_t *meta, lh_err *err)
{
    lh_cat__entry *e = r->e;
    const char *id = lh_json_str(meta, "id", true, err);
    const char *ss = id ? lh_json_str(meta, "schemaString", true, err) : NULL;
    if (!ss)
        return -1;
    const json_t *pcols = json_object_get(meta, "partitionColumns");
    if (json_is_array(pcols) && json_array_size(pcols) > 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "partitioned tables are not supported");
    json_t *schema = lh_json_parse(ss, strlen(ss), err);
    if (!schema)
        return lh_err_prefix(err, "schemaString: ");
    const json_t *fields = json_object_get(schema, "fields");
    if (!json_is_array(fields) || json_array_size(fields) == 0) {
        json_decref(schema);
        return lh_err_set(err, LH_INVALID_ARGUMENT, "schemaString has no fields");
    }
    if (columns_from_schema(e, fields, err) != 0) {
        json_decref(schema);
        return -1;
    }
    json_decref(e->delta_schema);
    e->delta_schema = schema;
    free(e->d.table_id);
    e->d.table_id = lh_xstrdup(id);
    int64_t created = 0;
    if (lh_json_int(meta, "createdTime", false, 0, &created, err) != 0)
        return -1;
    if (created > 0 && e->d.created_ms == 0)
        e->d.created_ms = created;
    r->v_meta = true;
    return 0;
}

static int apply_protocol(const json_t *p, lh_err *err)
{
    int64_t rv = 0;
    if (lh_json_int(p, "minReaderVersion", true, 0, &rv, err) != 0)
        return -1;
    if (rv == 1)
        return 0;
    if (rv == 3) {
        const json_t *feats = json_object_get(p, "readerFeatures");
        for (size_t i = 0; i < json_array_size(feats); i++) {
            const char *f = json_string_value(json_array_get(feats, i));
            if (!f || (strcmp(f, "timestampNtz") != 0 && strcmp(f, "vacuumProtocolCheck") != 0))
                return lh_err_set(err, LH_INVALID_ARGUMENT, "unsupported reader feature '%s'",
                                  f ? f : "?");
        }
        return 0;
    }
    return lh_err_set(err, LH_INVALID_ARGUMENT, "unsupported minReaderVersion %lld",
                      (long long)rv);
}

static int apply_line(replay *r, const json_t *a, lh_err *err)
{
    const json_t *v;
    if ((v = json_object_get(a, "add")))
        return apply_add(r, v, err);
    if ((v = json_object_get(a, "remove"))) {
        const char *path = json_string_value(json_object_get(v, "path"));
        if (!path)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "remove action without a path");
        push_action(r, path, false, 0, 0, 0);
        return 0;
    }
    if ((v = json_object_get(a, "metaData")))
        return apply_meta(r, v, err);
    if ((v = json_object_get(a, "protocol"))) {
        r->v_protocol = true;
        return apply_protocol(v, err);
    }
    if ((v = json_object_get(a, "commitInfo")) && json_is_object(v)) {
        json_decref(r->commit_info);
        r->commit_info = json_incref((json_t *)v);
    }
    return 0; /* txn, cdc, domainMetadata, ...: nothing the catalog tracks */
}

static const char *opt_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Turns the version's commitInfo into a history record and the dataset's times. */
static void finish_version(replay *r, int64_t version, int64_t fallback_ms)
{
    lh_cat__entry *e = r->e;
    const json_t *ci = r->commit_info;
    const json_t *lin = json_object_get(ci, "lakehouse");
    json_t *ts = json_object_get(ci, "timestamp");
    lh_commit_record rec = {
        .version = version,
        .timestamp_ms = json_is_integer(ts) ? (int64_t)json_integer_value(ts) : fallback_ms,
        .operation = (char *)(opt_str(ci, "operation") ? opt_str(ci, "operation") : "WRITE"),
        .source = (char *)opt_str(lin, "source"),
        .file_name = (char *)opt_str(lin, "file_name"),
        .actor = (char *)opt_str(ci, "userName"),
        .rows_added = r->v_rows,
        .files_added = r->v_files,
        .content_hash = (char *)opt_str(lin, "content_hash"),
        .job_id = (char *)opt_str(lin, "job_id"),
    };
    json_t *ra = json_object_get(lin, "rows_added");
    if (json_is_integer(ra))
        rec.rows_added = (int64_t)json_integer_value(ra);
    lh_cat__entry_push_history(e, &rec);
    lh_cat__entry_note_hash(e, rec.content_hash); /* every commit, beyond the history cap */
    if (version == 0) {
        free(e->d.source);
        e->d.source = lh_xstrdup(rec.source ? rec.source : "external");
        if (e->d.created_ms == 0)
            e->d.created_ms = rec.timestamp_ms;
    }
    e->d.updated_ms = rec.timestamp_ms;
    e->d.version = version;
}

static int replay_version(replay *r, const char *text, size_t len, int64_t version, lh_err *err)
{
    r->commit_info = NULL;
    r->v_rows = r->v_files = 0;
    r->v_meta = r->v_protocol = false;
    const char *p = text, *end = text + len;
    int rc = 0;
    size_t lineno = 0;
    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < le) {
            json_t *a = lh_json_parse(p, (size_t)(le - p), err);
            if (!a || !json_is_object(a))
                rc = a ? lh_err_set(err, LH_INVALID_ARGUMENT, "action is not an object") : -1;
            else
                rc = apply_line(r, a, err);
            json_decref(a);
            if (rc != 0)
                lh_err_prefix(err, "line %zu: ", lineno);
        }
        p = le + 1;
    }
    if (rc == 0 && version == 0 && (!r->v_meta || !r->v_protocol))
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "version 0 lacks protocol or metaData");
    if (rc == 0 && !r->e->delta_schema)
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "no metaData before version %lld",
                        (long long)version);
    return rc;
}

static int cmp_path_seq(const void *a, const void *b)
{
    const file_action *x = a, *y = b;
    int c = strcmp(x->f.path, y->f.path);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_seq(const void *a, const void *b)
{
    const file_action *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The live set: per path, the last action wins; live files keep the order they arrived. */
static void reconcile(replay *r)
{
    lh_dataset *d = &r->e->d;
    if (r->nacts)
        qsort(r->acts, r->nacts, sizeof *r->acts, cmp_path_seq);
    size_t live = 0;
    for (size_t i = 0; i < r->nacts; i++) {
        bool last = i + 1 == r->nacts || strcmp(r->acts[i].f.path, r->acts[i + 1].f.path) != 0;
        if (last && r->acts[i].add)
            r->acts[live++] = r->acts[i];
        else
            free(r->acts[i].f.path);
    }
    if (live)
        qsort(r->acts, live, sizeof *r->acts, cmp_seq);
    free(d->files);
    d->files = live ? lh_xcalloc(live, sizeof *d->files) : NULL;
    d->nfiles = live;
    d->row_count = 0;
    for (size_t i = 0; i < live; i++) {
        d->files[i] = r->acts[i].f;
        d->row_count += d->files[i].rows > 0 ? d->files[i].rows : 0;
    }
    r->nacts = 0;
}

int lh_cat__replay(lh_bucket *b, lh_cat__entry *e, int64_t *applied, lh_err *err)
{
    replay r = {.e = e};
    lh_dataset *d = &e->d;
    /* The existing files go first, so later actions on their paths win. */
    for (size_t i = 0; i < d->nfiles; i++) {
        push_action(&r, d->files[i].path, true, d->files[i].size, d->files[i].rows,
                    d->files[i].modification_ms);
        free(d->files[i].path);
        d->files[i].path = NULL;
    }
    d->nfiles = 0;
    *applied = 0;
    int rc = 0;
    for (int64_t v = d->version + 1;; v++) {
        char *key = lh_cat__log_key(d->name, v);
        size_t len = 0;
        lh_err rerr = LH_ERR_INIT;
        char *text = lh_bucket_read_all(b, key, LH_CAT_LOG_MAX, &len, &rerr);
        if (!text) {
            if (rerr.code != LH_NOT_FOUND) {
                *err = rerr;
                rc = lh_err_prefix(err, "dataset '%s' version %lld: ", d->name, (long long)v);
            }
            free(key);
            break;
        }
        int64_t mtime = 0;
        uint64_t size = 0;
        lh_err ignored = LH_ERR_INIT;
        if (lh_bucket_stat(b, key, &size, &mtime, &ignored) != 0)
            mtime = lh_now_ms();
        free(key);
        rc = replay_version(&r, text, len, v, err);
        free(text);
        if (rc == 0)
            finish_version(&r, v, mtime);
        json_decref(r.commit_info);
        r.commit_info = NULL;
        if (rc != 0) {
            lh_err_prefix(err, "dataset '%s' version %lld: ", d->name, (long long)v);
            break;
        }
        (*applied)++;
    }
    reconcile(&r);
    free(r.acts);
    return rc;
}
