/* query/ingest_json.c: JSON (a top-level array, or NDJSON) -> Parquet through DuckDB's
 * read_json. Detected schemas take the union of keys across records and may be flattened
 * (nested objects -> parent_child columns); readers that write NDJSON of a known shape pass
 * an explicit schema instead. All SQL is ours: identifiers quoted, paths as literals. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "query/query_int.h"

/* Detection over every record is exact but costs about twice the conversion itself, so it
 * is used up to this size. Larger files sample LH_JSON_SAMPLE_ROWS records (DuckDB's own
 * default, so the common case costs what DuckDB alone costs) and are redone with full
 * detection when a later record does not fit the sampled schema ("JSON transform error":
 * a new key, a string where numbers were seen). One case stays silent: DuckDB rounds a
 * fractional number that appears only after the sample into an integer column. */
#define LH_JSON_FULL_SAMPLE_BYTES (64LL << 20)
#define LH_JSON_SAMPLE_ROWS 20480LL
/* Ceilings on what flattening may produce: columns, and struct depth (deeper objects stay
 * JSON text). */
#define LH_JSON_MAX_COLUMNS 4096
#define LH_JSON_FLATTEN_DEPTH 32

/* Runs sql on con; on failure fills *msg (owned) and *type and returns -1. */
static int run(duckdb_connection con, const char *sql, duckdb_result *res, char **msg,
               duckdb_error_type *type)
{
    if (duckdb_query(con, sql, res) == DuckDBError) {
        const char *m = duckdb_result_error(res);
        *msg = lh_xstrdup(m ? m : "unknown error");
        *type = duckdb_result_error_type(res);
        duckdb_destroy_result(res);
        return -1;
    }
    return 0;
}

/* What the start of the file holds, for DuckDB's one message about every kind of
 * non-record input ("expected records, but got non-record JSON"). Reads until the first
 * significant byte, through a fixed buffer. */
static const char *non_record_reason(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "the values are not JSON objects (records)";
    unsigned char buf[4096];
    bool first = true, in_array = false;
    const char *why = NULL;
    while (!why) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            why = n < 0 ? "the values are not JSON objects (records)"
                 : in_array ? "no records: the array is not closed"
                            : "no records: the file is empty";
            break;
        }
        size_t i = 0;
        if (first && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
            i = 3;
        first = false;
        for (; i < (size_t)n && !why; i++) {
            unsigned char c = buf[i];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                continue;
            if (c == '[' && !in_array)
                in_array = true;
            else if (c == ']' && in_array)
                why = "no records: the array is empty";
            else if (c == '{')
                why = "not every value is a JSON object (record): records may not be mixed "
                      "with other values";
            else if (in_array)
                why = "the array holds values that are not JSON objects (records)";
            else
                why = "a top-level scalar is not a record: expected an array of objects or "
                      "one object per line";
        }
    }
    close(fd);
    return why;
}

/* Maps a failed statement on src to our codes. */
static void json_error(const char *src, const char *msg, duckdb_error_type type, lh_err *err)
{
    if (type == DUCKDB_ERROR_PERMISSION) {
        lh_err_set(err, LH_FORBIDDEN, "the engine may not read '%s'", src);
    } else if (type == DUCKDB_ERROR_IO &&
               (strstr(msg, "No files found") || strstr(msg, "No such file"))) {
        lh_err_set(err, LH_NOT_FOUND, "'%s' not found", src);
    } else if (type == DUCKDB_ERROR_IO) {
        lh_err_set(err, LH_IO_ERROR, "the engine could not convert '%s'", src);
    } else if (type == DUCKDB_ERROR_OUT_OF_MEMORY) {
        lh_err_set(err, LH_TOO_LARGE, "the engine ran out of memory converting '%s'", src);
    } else if (strstr(msg, "expected records, but got non-record JSON")) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "%s", non_record_reason(src));
    } else {
        /* DuckDB's first line is the reason; what follows is a hint about its own options
         * and the statement text, which mean nothing to the caller. */
        const char *m = msg;
        const char *colon = strstr(m, " Error: ");
        if (colon && (size_t)(colon - m) < 32)
            m = colon + strlen(" Error: ");
        size_t len = strcspn(m, "\n");
        while (len > 0 && m[len - 1] == ' ')
            len--;
        /* the scratch path means nothing to the caller and names server directories */
        char *in_file = lh_xasprintf(" in file \"%s\"", src);
        const char *at = strstr(m, in_file);
        size_t cut = strlen(in_file);
        if (at && (size_t)(at - m) + cut <= len)
            lh_err_set(err, LH_INVALID_ARGUMENT, "not usable JSON: %.*s%.*s", (int)(at - m), m,
                       (int)(len - (size_t)(at - m) - cut), at + cut);
        else
            lh_err_set(err, LH_INVALID_ARGUMENT, "not usable JSON: %.*s", (int)len, m);
        free(in_file);
    }
    lh_err_detail(err, "%s", msg);
}

static const char *format_name(lh_json_layout layout, bool explicit_schema)
{
    switch (layout) {
    case LH_JSON_ARRAY:
        return "array";
    case LH_JSON_NDJSON:
        return "newline_delimited";
    case LH_JSON_AUTO:
    default:
        return explicit_schema ? "newline_delimited" : "auto";
    }
}

/* A type name from our own readers: letters, digits and type punctuation only, so it can
 * never end the literal it is placed in or mean anything but a type. */
static bool type_name_ok(const char *t)
{
    if (!t || !t[0] || strlen(t) > 256)
        return false;
    for (const char *p = t; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_ (),[]", *p))
            return false;
    return true;
}

/* "read_json('src', format=..., records='true', sample_size=N | columns={...})" */
static char *read_json_call(const char *src, const lh_json_opts *o, int64_t sample)
{
    bool explicit_schema = o && o->columns;
    lh_buf b;
    lh_buf_init(&b);
    char *s = lh_sql_quote_literal(src);
    lh_buf_printf(&b, "read_json(%s, format='%s', records='true'", s,
                  format_name(o ? o->layout : LH_JSON_AUTO, explicit_schema));
    free(s);
    if (explicit_schema) {
        lh_buf_puts(&b, ", columns={");
        for (size_t i = 0; i < o->ncolumns; i++) {
            char *k = lh_sql_quote_literal(o->columns[i].name);
            char *t = lh_sql_quote_literal(o->columns[i].type);
            lh_buf_printf(&b, "%s%s: %s", i ? ", " : "", k, t);
            free(k);
            free(t);
        }
        lh_buf_puts(&b, "}");
    } else {
        lh_buf_printf(&b, ", sample_size=%lld", (long long)sample);
    }
    lh_buf_puts(&b, ")");
    return lh_buf_detach(&b, NULL);
}

/* ---- flattening ------------------------------------------------------------------------ */

/* Output column names in use, compared without case as DuckDB resolves identifiers. */
typedef struct name_set {
    char **v;
    size_t n, cap;
} name_set;

static bool names_has(const name_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcasecmp(s->v[i], name) == 0)
            return true;
    return false;
}

static void names_add(name_set *s, char *owned)
{
    if (s->n == s->cap)
        s->v = lh_xrealloc(s->v, (s->cap = s->cap ? s->cap * 2 : 32) * sizeof *s->v);
    s->v[s->n++] = owned;
}

static void names_free(name_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

/* want, or want_2, want_3 ... : the first that is not taken. Owned, and recorded. */
static const char *names_claim(name_set *s, const char *want)
{
    char *name = lh_xstrdup(want);
    for (int k = 2; names_has(s, name); k++) {
        free(name);
        name = lh_xasprintf("%s_%d", want, k);
    }
    names_add(s, name);
    return name;
}

static bool is_nested(duckdb_type id)
{
    return id == DUCKDB_TYPE_STRUCT || id == DUCKDB_TYPE_LIST || id == DUCKDB_TYPE_MAP ||
           id == DUCKDB_TYPE_ARRAY || id == DUCKDB_TYPE_UNION;
}

typedef struct flat {
    lh_buf sql; /* the select list */
    name_set names;
    size_t ncols;
} flat;

/* Emits one output column: expr as a list of scalars or a scalar kept as is, anything
 * deeper as JSON text. */
static void emit_leaf(flat *f, const char *expr, duckdb_logical_type t, const char *name,
                      bool claim)
{
    duckdb_type id = duckdb_get_type_id(t);
    bool as_json = id == DUCKDB_TYPE_MAP || id == DUCKDB_TYPE_STRUCT || id == DUCKDB_TYPE_UNION;
    if (id == DUCKDB_TYPE_LIST || id == DUCKDB_TYPE_ARRAY) {
        duckdb_logical_type c = id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(t)
                                                       : duckdb_array_type_child_type(t);
        as_json = is_nested(duckdb_get_type_id(c));
        duckdb_destroy_logical_type(&c);
    }
    const char *out = claim ? names_claim(&f->names, name) : name;
    char *q = lh_sql_quote_ident(out);
    if (f->ncols++)
        lh_buf_puts(&f->sql, ", ");
    if (as_json)
        lh_buf_printf(&f->sql, "to_json(%s)::VARCHAR AS %s", expr, q);
    else
        lh_buf_printf(&f->sql, "%s AS %s", expr, q);
    free(q);
}

/* Emits a struct's members as parent_child columns, recursively. */
static void emit_struct(flat *f, const char *expr, duckdb_logical_type t, const char *prefix,
                        int depth)
{
    idx_t n = duckdb_struct_type_child_count(t);
    for (idx_t i = 0; i < n && f->ncols <= LH_JSON_MAX_COLUMNS; i++) {
        char *child = duckdb_struct_type_child_name(t, i);
        duckdb_logical_type ct = duckdb_struct_type_child_type(t, i);
        char *qc = lh_sql_quote_ident(child);
        char *cexpr = lh_xasprintf("(%s).%s", expr, qc);
        char *name = lh_xasprintf("%s_%s", prefix, child);
        if (duckdb_get_type_id(ct) == DUCKDB_TYPE_STRUCT && depth < LH_JSON_FLATTEN_DEPTH &&
            duckdb_struct_type_child_count(ct) > 0)
            emit_struct(f, cexpr, ct, name, depth + 1);
        else
            emit_leaf(f, cexpr, ct, name, true);
        free(name);
        free(cexpr);
        free(qc);
        duckdb_destroy_logical_type(&ct);
        duckdb_free(child);
    }
}

static bool flattens(duckdb_logical_type t)
{
    return duckdb_get_type_id(t) == DUCKDB_TYPE_STRUCT && duckdb_struct_type_child_count(t) > 0;
}

/* Builds the flattening select list from the detected columns of res. Top-level scalar
 * columns keep their names; flattened members yield to them on a clash (suffix _2, ...). */
static char *flatten_list(duckdb_result *res, lh_err *err)
{
    idx_t n = duckdb_column_count(res);
    flat f = {.ncols = 0};
    lh_buf_init(&f.sql);
    for (idx_t i = 0; i < n; i++) {
        duckdb_logical_type t = duckdb_column_logical_type(res, i);
        if (!flattens(t))
            names_add(&f.names, lh_xstrdup(duckdb_column_name(res, i)));
        duckdb_destroy_logical_type(&t);
    }
    for (idx_t i = 0; i < n && f.ncols <= LH_JSON_MAX_COLUMNS; i++) {
        const char *name = duckdb_column_name(res, i);
        duckdb_logical_type t = duckdb_column_logical_type(res, i);
        char *q = lh_sql_quote_ident(name);
        if (flattens(t))
            emit_struct(&f, q, t, name, 1);
        else
            emit_leaf(&f, q, t, name, false);
        free(q);
        duckdb_destroy_logical_type(&t);
    }
    names_free(&f.names);
    if (f.ncols > LH_JSON_MAX_COLUMNS) {
        lh_buf_release(&f.sql);
        lh_err_set(err, LH_TOO_LARGE, "flattening the JSON records gives more than %d columns",
                   LH_JSON_MAX_COLUMNS);
        return NULL;
    }
    return lh_buf_detach(&f.sql, NULL);
}

/* ---- conversion ------------------------------------------------------------------------ */

/* One conversion attempt with the given detection sample. *schema_miss is set when a
 * record did not fit the schema detected from the sample. */
static int convert(duckdb_connection con, const char *src, const lh_json_opts *o,
                   int64_t sample, const char *dst, bool *schema_miss, lh_err *err)
{
    char *call = read_json_call(src, o, sample);
    char *select = NULL, *sql = NULL, *msg = NULL;
    duckdb_result res;
    duckdb_error_type type = DUCKDB_ERROR_INVALID;
    int rc = -1;
    *schema_miss = false;
    if (o && o->flatten && !o->columns) {
        sql = lh_xasprintf("SELECT * FROM %s LIMIT 0", call);
        if (run(con, sql, &res, &msg, &type) != 0)
            goto fail;
        select = flatten_list(&res, err);
        duckdb_destroy_result(&res);
        if (!select)
            goto out;
        free(sql);
    }
    char *d = lh_sql_quote_literal(dst);
    sql = lh_xasprintf("COPY (SELECT %s FROM %s) TO %s (FORMAT parquet, COMPRESSION zstd)",
                       select ? select : "*", call, d);
    free(d);
    if (run(con, sql, &res, &msg, &type) != 0)
        goto fail;
    duckdb_destroy_result(&res);
    rc = 0;
    goto out;
fail:
    *schema_miss = strstr(msg, "JSON transform error") != NULL;
    json_error(src, msg, type, err);
out:
    if (rc != 0)
        (void)unlink(dst); /* no half-written Parquet stays behind */
    free(msg);
    free(sql);
    free(select);
    free(call);
    return rc;
}

int lh_engine_json_to_parquet(lh_engine *e, const char *src_path, const lh_json_opts *opts,
                              const char *dst_path, lh_column **cols, size_t *ncols,
                              int64_t *rows, lh_err *err)
{
    if (!e || !src_path || !dst_path || !cols || !ncols || !rows)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "json conversion needs paths and outputs");
    if (opts && opts->columns) {
        if (opts->ncolumns == 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "an explicit JSON schema needs columns");
        for (size_t i = 0; i < opts->ncolumns; i++) {
            if (!opts->columns[i].name || !opts->columns[i].name[0])
                return lh_err_set(err, LH_INVALID_ARGUMENT, "JSON schema column %zu has no name",
                                  i + 1);
            if (!type_name_ok(opts->columns[i].type))
                return lh_err_set(err, LH_INVALID_ARGUMENT,
                                  "JSON schema column '%s' has no usable type",
                                  opts->columns[i].name);
        }
    }
    struct stat st;
    int64_t sample = -1;
    if (stat(src_path, &st) == 0 && st.st_size > LH_JSON_FULL_SAMPLE_BYTES)
        sample = LH_JSON_SAMPLE_ROWS;

    int slot = lh_query__pool_acquire(e, err);
    if (slot < 0)
        return -1;
    duckdb_connection con = e->slots[slot].con;
    bool miss = false;
    /* The first attempt's error stays local: a retry that succeeds must leave err alone. */
    lh_err first = LH_ERR_INIT;
    int rc = convert(con, src_path, opts, sample, dst_path, &miss, &first);
    if (rc != 0 && miss && sample != -1 && !(opts && opts->columns)) {
        LH_LOG_INFO(LH_QUERY_LOG, "json sample missed a record's shape, detecting over all");
        rc = convert(con, src_path, opts, -1, dst_path, &miss, err);
    } else if (rc != 0 && err) {
        *err = first;
    }
    lh_query__pool_release(e, slot);
    if (rc != 0)
        return -1;

    if (lh_engine_parquet_info(e, dst_path, cols, ncols, rows, err) != 0) {
        (void)unlink(dst_path);
        return -1;
    }
    if (*rows == 0) {
        lh_columns_free(*cols, *ncols);
        *cols = NULL;
        *ncols = 0;
        (void)unlink(dst_path);
        return lh_err_set(err, LH_INVALID_ARGUMENT, "no records: the JSON holds no rows");
    }
    return 0;
}
