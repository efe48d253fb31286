/* catalog: AI-safe view definitions. Each view is _catalog/views/<name>.json in the primary
 * bucket (written atomically), validated against its dataset when created and kept as a
 * normalised JSON definition; the set is an immutable, refcounted object hung on the
 * snapshot, so a change bumps the generation and query/views.c recreates the SQL views.
 * The lake's hash salt (32 random bytes, hex) lives next to them in _catalog/views/_salt. */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "catalog/catalog_int.h"

#define VIEWS_PREFIX "_catalog/views/"
#define SALT_KEY VIEWS_PREFIX "_salt"
#define VIEW_FILE_MAX ((size_t)4 << 20)
#define MASK_KEEP_MAX 1000

/* Writers of view definitions (rare) serialise here, across their I/O. */
static pthread_mutex_t g_views_mu = PTHREAD_MUTEX_INITIALIZER;

void lh_cat__views_ref(lh_cat__views *v)
{
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

void lh_cat__views_unref(lh_cat__views *v)
{
    if (!v || atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < v->n; i++)
        json_decref(v->defs[i]);
    free(v->defs);
    free(v->salt);
    free(v);
}

static int cmp_def(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    return strcmp(json_string_value(json_object_get(x, "name")),
                  json_string_value(json_object_get(y, "name")));
}

/* Takes ownership of defs (each referenced, array moved in). */
static lh_cat__views *views_build(json_t **defs, size_t n, const char *salt)
{
    lh_cat__views *v = lh_xcalloc(1, sizeof *v);
    atomic_init(&v->refs, 1);
    v->defs = defs;
    v->n = n;
    if (n > 1)
        qsort(v->defs, n, sizeof *v->defs, cmp_def);
    v->salt = salt ? lh_xstrdup(salt) : NULL;
    return v;
}

static bool is_hex64(const char *s, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Reads the salt, making it when it is missing and `make` (put-if-absent, so two processes
 * agree on one). NULL when missing (and not made) or unusable. */
static char *salt_load(lh_bucket *b, bool make)
{
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *text = lh_bucket_read_all(b, SALT_KEY, 256, &len, &err);
    if (!text && err.code == LH_NOT_FOUND && !make)
        return NULL;
    if (!text && err.code == LH_NOT_FOUND) {
        unsigned char raw[32];
        if (RAND_bytes(raw, sizeof raw) != 1) {
            LH_LOG_ERROR(LH_CAT_MOD, "views: no randomness for the hash salt");
            return NULL;
        }
        char hex[65];
        for (size_t i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", raw[i]);
        lh_err perr = LH_ERR_INIT;
        if (lh_bucket_put_if_absent(b, SALT_KEY, hex, 64, &perr) != 0 &&
            perr.code != LH_CONFLICT) {
            LH_LOG_ERROR(LH_CAT_MOD, "views: cannot write the hash salt error=\"%s\"",
                         perr.message);
            return NULL;
        }
        lh_err_clear(&err);
        text = lh_bucket_read_all(b, SALT_KEY, 256, &len, &err);
    }
    if (!text || !is_hex64(text, len)) {
        LH_LOG_ERROR(LH_CAT_MOD, "views: hash salt unreadable or malformed error=\"%s\"",
                     text ? "not 64 hex digits" : err.message);
        free(text);
        return NULL;
    }
    return text;
}

lh_cat__views *lh_cat__views_load(lh_catalog *c)
{
    lh_bucket *b = lh_storage_bucket(c->storage, LH_BUCKET_PRIMARY, NULL);
    LH_ASSERT(b != NULL);
    char *salt = salt_load(b, false); /* made with the first view, not by every open */
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool truncated = false;
    lh_err err = LH_ERR_INIT;
    if (lh_bucket_list(b, VIEWS_PREFIX, LH_VIEWS_MAX + 1, &objs, &n, &truncated, &err) != 0) {
        LH_LOG_WARN(LH_CAT_MOD, "cannot list views error=\"%s\"", err.message);
        n = 0;
    }
    json_t **defs = lh_xcalloc(n ? n : 1, sizeof *defs);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rest = objs[i].key + strlen(VIEWS_PREFIX);
        if (!lh_str_has_suffix(rest, ".json") || strchr(rest, '/'))
            continue;
        char *name = lh_xstrndup(rest, strlen(rest) - 5);
        size_t len = 0;
        lh_err e2 = LH_ERR_INIT;
        char *text = lh_bucket_read_all(b, objs[i].key, VIEW_FILE_MAX, &len, &e2);
        json_t *j = text ? lh_json_parse(text, len, &e2) : NULL;
        const char *jn = j ? json_string_value(json_object_get(j, "name")) : NULL;
        if (j && jn && strcmp(jn, name) == 0 && lh_name_valid(jn) && nd < LH_VIEWS_MAX &&
            json_is_string(json_object_get(j, "dataset")) &&
            json_is_array(json_object_get(j, "columns"))) {
            defs[nd++] = j;
        } else {
            LH_LOG_WARN(LH_CAT_MOD, "view skipped key=%s error=\"%s\"", objs[i].key,
                        j ? "malformed definition" : e2.message);
            json_decref(j);
        }
        free(text);
        free(name);
    }
    lh_object_infos_free(objs, n);
    lh_cat__views *v = views_build(defs, nd, salt);
    free(salt);
    LH_LOG_INFO(LH_CAT_MOD, "views loaded count=%zu", nd);
    return v;
}

/* ---- validation -------------------------------------------------------------------------- */

/* The table's spelling of column `name` of d, or NULL + invalid_argument naming `what`. */
static const char *column_of(const lh_dataset *d, const json_t *name, const char *what,
                             lh_err *err)
{
    const char *s = json_string_value(name);
    long i = s ? lh_cat__column_index(d->columns, d->ncolumns, s) : -1;
    if (i < 0) {
        if (s)
            lh_err_set(err, LH_INVALID_ARGUMENT, "%s: dataset '%s' has no column '%s'", what,
                       d->name, s);
        else
            lh_err_set(err, LH_INVALID_ARGUMENT, "%s must be a column name (a string)", what);
        return NULL;
    }
    return d->columns[i].name;
}

static bool is_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_integer(v) || json_is_real(v) || json_is_boolean(v);
}

static int check_value(const json_t *v, size_t at, lh_err *err)
{
    if (!is_scalar(v))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "row_filter[%zu]: 'value' must be a "
                          "string, number or boolean", at);
    if (json_is_string(v) && json_string_length(v) > LH_VIEW_VALUE_MAX)
        return lh_err_set(err, LH_TOO_LARGE, "row_filter[%zu]: a value is over %d bytes", at,
                          LH_VIEW_VALUE_MAX);
    return 0;
}

static const char *const OPS[] = {"=", "!=", "<", "<=", ">", ">=", "in", "like", "is null",
                                  "is not null"};

/* One condition {column, op, value} -> its normalised form appended to out. */
static int filter_one(const lh_dataset *d, const json_t *f, size_t at, json_t *out,
                      lh_err *err)
{
    if (!json_is_object(f))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "row_filter[%zu] must be an object "
                          "{column, op, value}", at);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)f, k, v) {
        if (strcmp(k, "column") && strcmp(k, "op") && strcmp(k, "value"))
            return lh_err_set(err, LH_INVALID_ARGUMENT, "row_filter[%zu]: unknown key '%s'",
                              at, k);
    }
    const char *col = column_of(d, json_object_get(f, "column"), "row_filter column", err);
    if (!col)
        return -1;
    const char *op = json_string_value(json_object_get(f, "op"));
    size_t oi = 0;
    while (op && oi < LH_ARRAY_LEN(OPS) && strcmp(OPS[oi], op) != 0)
        oi++;
    if (!op || oi == LH_ARRAY_LEN(OPS))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "row_filter[%zu]: 'op' must be one of =, "
                          "!=, <, <=, >, >=, in, like, is null, is not null", at);
    const json_t *val = json_object_get(f, "value");
    json_t *norm = json_pack("{s:s, s:s}", "column", col, "op", op);
    int rc = 0;
    if (strcmp(op, "is null") == 0 || strcmp(op, "is not null") == 0) {
        if (val)
            rc = lh_err_set(err, LH_INVALID_ARGUMENT, "row_filter[%zu]: '%s' takes no value",
                            at, op);
    } else if (strcmp(op, "in") == 0) {
        if (!json_is_array(val) || json_array_size(val) == 0)
            rc = lh_err_set(err, LH_INVALID_ARGUMENT, "row_filter[%zu]: 'in' needs a "
                            "non-empty array of values", at);
        else if (json_array_size(val) > LH_VIEW_IN_MAX)
            rc = lh_err_set(err, LH_TOO_LARGE, "row_filter[%zu]: at most %d values for 'in'",
                            at, LH_VIEW_IN_MAX);
        for (size_t i = 0; rc == 0 && i < json_array_size(val); i++)
            rc = check_value(json_array_get(val, i), at, err);
    } else if (strcmp(op, "like") == 0) {
        if (!json_is_string(val))
            rc = lh_err_set(err, LH_INVALID_ARGUMENT, "row_filter[%zu]: 'like' needs a string "
                            "pattern", at);
        else
            rc = check_value(val, at, err);
    } else {
        rc = val ? check_value(val, at, err)
                 : lh_err_set(err, LH_INVALID_ARGUMENT, "row_filter[%zu]: 'value' is required",
                              at);
    }
    if (rc == 0 && val)
        json_object_set(norm, "value", (json_t *)val);
    if (rc == 0)
        json_array_append_new(out, norm);
    else
        json_decref(norm);
    return rc;
}

static int redaction_one(const char *col, const json_t *r, json_t *out, lh_err *err)
{
    const char *s = json_string_value(r);
    if (s && (strcmp(s, "null") == 0 || strcmp(s, "hash") == 0)) {
        json_object_set_new(out, col, json_string(s));
        return 0;
    }
    const json_t *m = json_is_object(r) && json_object_size(r) == 1 ? json_object_get(r, "mask")
                                                                    : NULL;
    if (!json_is_object(m))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "redaction of '%s' must be \"null\", "
                          "\"hash\" or {\"mask\": {\"keep_prefix\", \"keep_suffix\"}}", col);
    int64_t p = 0, q = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        if (strcmp(k, "keep_prefix") && strcmp(k, "keep_suffix"))
            return lh_err_set(err, LH_INVALID_ARGUMENT, "mask of '%s': unknown key '%s'", col,
                              k);
    }
    if (lh_json_int(m, "keep_prefix", false, 0, &p, err) != 0 ||
        lh_json_int(m, "keep_suffix", false, 0, &q, err) != 0)
        return -1;
    if (p < 0 || q < 0 || p > MASK_KEEP_MAX || q > MASK_KEEP_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "mask of '%s': keep_prefix and keep_suffix "
                          "must be 0 to %d", col, MASK_KEEP_MAX);
    json_object_set_new(out, col, json_pack("{s:{s:I, s:I}}", "mask", "keep_prefix",
                                            (json_int_t)p, "keep_suffix", (json_int_t)q));
    return 0;
}

/* The normalised definition of def over snapshot s, or NULL with err. */
static json_t *normalise(const lh_catalog_snap *s, const json_t *def, lh_err *err)
{
    if (!json_is_object(def))
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "the view must be a JSON object"), NULL);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)def, k, v) {
        if (strcmp(k, "name") && strcmp(k, "dataset") && strcmp(k, "columns") &&
            strcmp(k, "row_filter") && strcmp(k, "redactions"))
            return (lh_err_set(err, LH_INVALID_ARGUMENT, "unknown key '%s'", k), NULL);
    }
    const char *name = json_string_value(json_object_get(def, "name"));
    if (!name || !lh_name_valid(name))
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "'name' must match [a-z_][a-z0-9_]{0,62}"),
                NULL);
    const char *dsname = json_string_value(json_object_get(def, "dataset"));
    if (!dsname)
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "'dataset' is required"), NULL);
    const lh_dataset *d = lh_catalog_snap_find(s, dsname);
    if (!d)
        return (lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", dsname), NULL);
    if (lh_catalog_snap_find(s, name))
        return (lh_err_set(err, LH_CONFLICT, "'%s' is the name of a dataset", name), NULL);
    const json_t *cols = json_object_get(def, "columns");
    if (!json_is_array(cols) || json_array_size(cols) == 0)
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "'columns' must be a non-empty array of "
                           "column names"), NULL);
    json_t *out = json_pack("{s:s, s:s}", "name", name, "dataset", d->name);
    json_t *ncols = json_array();
    json_object_set_new(out, "columns", ncols);
    for (size_t i = 0; i < json_array_size(cols); i++) {
        const char *c = column_of(d, json_array_get(cols, i), "columns", err);
        if (!c)
            goto fail;
        for (size_t j = 0; j < json_array_size(ncols); j++)
            if (strcmp(json_string_value(json_array_get(ncols, j)), c) == 0) {
                lh_err_set(err, LH_INVALID_ARGUMENT, "column '%s' is listed twice", c);
                goto fail;
            }
        json_array_append_new(ncols, json_string(c));
    }
    const json_t *rf = json_object_get(def, "row_filter");
    json_t *nrf = json_array();
    json_object_set_new(out, "row_filter", nrf);
    if (json_is_object(rf)) {
        if (filter_one(d, rf, 0, nrf, err) != 0)
            goto fail;
    } else if (json_is_array(rf)) {
        if (json_array_size(rf) > LH_VIEW_FILTERS_MAX) {
            lh_err_set(err, LH_TOO_LARGE, "'row_filter' holds at most %d conditions",
                       LH_VIEW_FILTERS_MAX);
            goto fail;
        }
        for (size_t i = 0; i < json_array_size(rf); i++)
            if (filter_one(d, json_array_get(rf, i), i, nrf, err) != 0)
                goto fail;
    } else if (rf && !json_is_null(rf)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'row_filter' must be an object or an array");
        goto fail;
    }
    const json_t *red = json_object_get(def, "redactions");
    json_t *nred = json_object();
    json_object_set_new(out, "redactions", nred);
    if (red && !json_is_null(red) && !json_is_object(red)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'redactions' must be an object");
        goto fail;
    }
    json_object_foreach((json_t *)red, k, v) {
        json_t *kn = json_string(k);
        const char *c = column_of(d, kn, "redactions", err);
        json_decref(kn);
        if (!c)
            goto fail;
        bool listed = false;
        for (size_t j = 0; j < json_array_size(ncols); j++)
            listed = listed || strcmp(json_string_value(json_array_get(ncols, j)), c) == 0;
        if (!listed) {
            lh_err_set(err, LH_INVALID_ARGUMENT, "redacted column '%s' is not in 'columns'", c);
            goto fail;
        }
        if (redaction_one(c, v, nred, err) != 0)
            goto fail;
    }
    char ts[32];
    lh_time_iso8601(lh_now_ms(), ts);
    json_object_set_new(out, "created_at", json_string(ts));
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* ---- writing ----------------------------------------------------------------------------- */

static long def_index(const lh_cat__views *v, const char *name)
{
    for (size_t i = 0; v && i < v->n; i++)
        if (strcmp(json_string_value(json_object_get(v->defs[i], "name")), name) == 0)
            return (long)i;
    return -1;
}

int lh_catalog_create_view(lh_catalog *c, const json_t *def, json_t **out, lh_err *err)
{
    if (out)
        *out = NULL;
    pthread_mutex_lock(&g_views_mu);
    int rc = -1;
    lh_catalog_snap *s = lh_catalog_snapshot(c);
    json_t *norm = normalise(s, def, err);
    if (!norm)
        goto done;
    const char *name = json_string_value(json_object_get(norm, "name"));
    lh_cat__views *old = s->views;
    if (def_index(old, name) >= 0) {
        lh_err_set(err, LH_CONFLICT, "view '%s' already exists", name);
        goto done;
    }
    if (old && old->n >= LH_VIEWS_MAX) {
        lh_err_set(err, LH_TOO_LARGE, "at most %d views", LH_VIEWS_MAX);
        goto done;
    }
    lh_bucket *b = lh_storage_bucket(c->storage, LH_BUCKET_PRIMARY, NULL);
    char *salt = old && old->salt ? lh_xstrdup(old->salt) : salt_load(b, true);
    if (!salt) {
        lh_err_set(err, LH_IO_ERROR, "view '%s': the hash salt cannot be read or made", name);
        goto done;
    }
    json_t *stored = json_deep_copy(norm);
    json_object_set_new(stored, "format_version", json_integer(1));
    char *text = lh_json_dump(stored);
    json_decref(stored);
    char *key = lh_xasprintf(VIEWS_PREFIX "%s.json", name);
    int w = lh_bucket_put(b, key, text, strlen(text), err);
    free(key);
    free(text);
    if (w != 0) {
        free(salt);
        lh_err_prefix(err, "view '%s': ", name);
        goto done;
    }
    size_t n = old ? old->n : 0;
    json_t **defs = lh_xcalloc(n + 1, sizeof *defs);
    for (size_t i = 0; i < n; i++)
        defs[i] = json_incref(old->defs[i]);
    defs[n] = json_incref(norm);
    lh_cat__views *next = views_build(defs, n + 1, salt);
    free(salt);
    lh_cat__publish_views(c, next);
    lh_cat__views_unref(next);
    LH_LOG_INFO(LH_CAT_MOD, "view created view=%s dataset=%s", name,
                json_string_value(json_object_get(norm, "dataset")));
    if (out)
        *out = json_incref(norm);
    rc = 0;
done:
    json_decref(norm);
    lh_catalog_snap_unref(s);
    pthread_mutex_unlock(&g_views_mu);
    return rc;
}

int lh_catalog_drop_view(lh_catalog *c, const char *name, lh_err *err)
{
    if (!name || !lh_name_valid(name))
        return lh_err_set(err, LH_NOT_FOUND, "view '%s' not found", name ? name : "");
    pthread_mutex_lock(&g_views_mu);
    int rc = -1;
    lh_catalog_snap *s = lh_catalog_snapshot(c);
    lh_cat__views *old = s->views;
    long at = def_index(old, name);
    if (at < 0) {
        lh_err_set(err, LH_NOT_FOUND, "view '%s' not found", name);
        goto done;
    }
    char *key = lh_xasprintf(VIEWS_PREFIX "%s.json", name);
    lh_bucket *b = lh_storage_bucket(c->storage, LH_BUCKET_PRIMARY, NULL);
    lh_err derr = LH_ERR_INIT;
    int d = lh_bucket_delete(b, key, &derr);
    free(key);
    if (d != 0 && derr.code != LH_NOT_FOUND) {
        *err = derr;
        lh_err_prefix(err, "view '%s': ", name);
        goto done;
    }
    json_t **defs = lh_xcalloc(old->n, sizeof *defs);
    size_t n = 0;
    for (size_t i = 0; i < old->n; i++)
        if ((long)i != at)
            defs[n++] = json_incref(old->defs[i]);
    lh_cat__views *next = views_build(defs, n, old->salt);
    lh_cat__publish_views(c, next);
    lh_cat__views_unref(next);
    LH_LOG_INFO(LH_CAT_MOD, "view dropped view=%s", name);
    rc = 0;
done:
    lh_catalog_snap_unref(s);
    pthread_mutex_unlock(&g_views_mu);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------------- */

size_t lh_catalog_snap_view_count(const lh_catalog_snap *s)
{
    return s->views ? s->views->n : 0;
}

const json_t *lh_catalog_snap_view_at(const lh_catalog_snap *s, size_t i)
{
    return s->views && i < s->views->n ? s->views->defs[i] : NULL;
}

const json_t *lh_catalog_snap_find_view(const lh_catalog_snap *s, const char *name)
{
    long at = name ? def_index(s->views, name) : -1;
    return at >= 0 ? s->views->defs[at] : NULL;
}

const char *lh_catalog_snap_views_salt(const lh_catalog_snap *s)
{
    return s->views ? s->views->salt : NULL;
}
