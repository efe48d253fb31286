/* catalog: the manifest _catalog/datasets/<name>.json, the metadata the Delta log has no
 * place for: exact DuckDB column types, lineage, and the rich metadata people set
 * (description, owner, sensitivity, tags, freshness, column descriptions and PII flags).
 * It is written after each commit and each metadata patch. What the log also knows is
 * derived: when missing or behind the log it is rewritten from the log at open (keeping
 * the rich metadata), and types that disagree with the log are never trusted. Format 1
 * (before the rich metadata) still loads; its new members take their defaults. */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

/* 1: columns, lineage; 2: + rich metadata, column description/pii/sensitive. */

char *lh_cat__manifest_key(const char *name)
{
    return lh_xasprintf("_catalog/datasets/%s.json", name);
}

static json_t *manifest_json(const lh_cat__entry *e)
{
    const lh_dataset *d = &e->d;
    char created[32], updated[32];
    lh_time_iso8601(d->created_ms, created);
    lh_time_iso8601(d->updated_ms, updated);
    json_t *j = json_object();
    json_object_set_new(j, "format_version", json_integer(LH_CAT_MANIFEST_FORMAT));
    json_object_set_new(j, "name", json_string(d->name));
    json_object_set_new(j, "bucket", json_string(d->bucket));
    json_object_set_new(j, "table_id", d->table_id ? json_string(d->table_id) : json_null());
    json_object_set_new(j, "columns", lh_cat__columns_json(d->columns, d->ncolumns,
                                                           e->sens_user));
    json_object_set_new(j, "row_count", json_integer(d->row_count));
    json_object_set_new(j, "fingerprint", json_string(d->fingerprint));
    json_object_set_new(j, "version", json_integer(d->version));
    json_object_set_new(j, "created_at", json_string(created));
    json_object_set_new(j, "updated_at", json_string(updated));
    json_object_set_new(j, "source", d->source ? json_string(d->source) : json_null());
    lh_cat__metadata_json(d, j);
    json_t *hist = json_array();
    for (size_t i = 0; i < d->nhistory; i++)
        json_array_append_new(hist, lh_cat__history_json(&d->history[i]));
    json_object_set_new(j, "history", hist);
    return j;
}

int lh_cat__manifest_write(lh_bucket *b, const lh_cat__entry *e, lh_err *err)
{
    json_t *j = manifest_json(e);
    char *text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!text)
        return lh_err_set(err, LH_INTERNAL, "cannot render manifest of '%s'", e->d.name);
    char *key = lh_cat__manifest_key(e->d.name);
    lh_buf body;
    lh_buf_init(&body);
    lh_buf_puts(&body, text);
    lh_buf_putc(&body, '\n');
    free(text);
    int rc = lh_bucket_put(b, key, body.data, body.len, err);
    lh_buf_release(&body);
    free(key);
    if (rc != 0)
        return lh_err_prefix(err, "manifest of '%s': ", e->d.name);
    return 0;
}

/* The manifest's columns, when well-formed; NULL otherwise. marks gets each column's
 * "sensitive_set_by_user" (owned, parallel). Metadata members of the wrong type are
 * ignored (defaults), never fatal. */
static lh_column *manifest_columns(const json_t *m, size_t *n, bool **marks)
{
    const json_t *arr = json_object_get(m, "columns");
    size_t cnt = json_array_size(arr);
    if (!json_is_array(arr) || cnt == 0 || cnt > 100000)
        return NULL;
    lh_column *cols = lh_xcalloc(cnt, sizeof *cols);
    bool *mk = lh_xcalloc(cnt, sizeof *mk);
    for (size_t i = 0; i < cnt; i++) {
        const json_t *c = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *type = json_string_value(json_object_get(c, "type"));
        if (!name || !type || !*name || !*type) {
            lh_columns_free(cols, cnt);
            free(mk);
            return NULL;
        }
        cols[i].name = lh_xstrdup(name);
        cols[i].type = lh_xstrdup(type);
        const char *desc = json_string_value(json_object_get(c, "description"));
        const char *pii = json_string_value(json_object_get(c, "pii"));
        cols[i].description = desc ? lh_xstrdup(desc) : NULL;
        cols[i].pii = pii && *pii ? lh_xstrdup(pii) : NULL;
        cols[i].sensitive = json_is_true(json_object_get(c, "sensitive"));
        mk[i] = json_is_true(json_object_get(c, "sensitive_set_by_user"));
    }
    *n = cnt;
    *marks = mk;
    return cols;
}

static char *opt_dup(const json_t *m, const char *key)
{
    const char *s = json_string_value(json_object_get(m, key));
    return s && *s ? lh_xstrdup(s) : NULL;
}

/* The dataset-level rich metadata. Values the patch API would refuse are dropped. */
static void adopt_dataset_metadata(lh_dataset *d, const json_t *m)
{
    free(d->description);
    free(d->owner);
    free(d->sensitivity);
    for (size_t i = 0; i < d->ntags; i++)
        free(d->tags[i]);
    free(d->tags);
    d->ntags = 0;
    d->description = opt_dup(m, "description");
    d->owner = opt_dup(m, "owner");
    char *sens = opt_dup(m, "sensitivity");
    if (sens && !lh_cat__sensitivity_valid(sens)) {
        free(sens);
        sens = NULL;
    }
    d->sensitivity = sens;
    const json_t *tags = json_object_get(m, "tags");
    size_t nt = json_array_size(tags);
    if (nt > LH_CAT_TAGS_MAX)
        nt = LH_CAT_TAGS_MAX;
    d->tags = nt ? lh_xcalloc(nt, sizeof *d->tags) : NULL;
    for (size_t i = 0; i < nt; i++) {
        const char *t = json_string_value(json_array_get(tags, i));
        if (t && *t && strlen(t) <= LH_CAT_TAG_LEN_MAX)
            d->tags[d->ntags++] = lh_xstrdup(t);
    }
    const json_t *age = json_object_get(json_object_get(m, "freshness"), "max_age_s");
    if (json_is_integer(age) && json_integer_value(age) > 0)
        d->freshness_max_age_s = (int64_t)json_integer_value(age);
}

/* Per log column with the same name in the manifest: its metadata, and its exact DuckDB
 * type when the manifest is self-consistent (fingerprint) and the type maps to the log's
 * Delta type for that column (the log is the truth; a manifest behind a widening keeps the
 * types of the columns it knew). */
static void adopt_columns(lh_cat__entry *e, const json_t *m, const char *fp)
{
    size_t ncols = 0;
    bool *marks = NULL;
    lh_column *mc = manifest_columns(m, &ncols, &marks);
    if (!mc)
        return;
    char check[65];
    lh_cat__fingerprint(mc, ncols, check);
    bool trust_types = fp && strcmp(check, fp) == 0;
    const json_t *fields = json_object_get(e->delta_schema, "fields");
    lh_dataset *d = &e->d;
    lh_column *cols = lh_columns_dup(d->columns, d->ncolumns);
    bool *user = d->ncolumns ? lh_xcalloc(d->ncolumns, sizeof *user) : NULL;
    for (size_t i = 0; i < d->ncolumns; i++) {
        long k = lh_cat__column_index(mc, ncols, cols[i].name);
        if (k < 0)
            continue;
        const json_t *ftype = json_object_get(json_array_get(fields, i), "type");
        lh_err ignored = LH_ERR_INIT;
        json_t *t = trust_types && ftype ? lh_delta_type_from_duckdb(mc[k].type, &ignored)
                                         : NULL;
        if (t && json_equal(t, ftype)) {
            free(cols[i].type);
            cols[i].type = lh_xstrdup(mc[k].type);
        }
        json_decref(t);
        free(cols[i].description);
        free(cols[i].pii);
        cols[i].description = mc[k].description ? lh_xstrdup(mc[k].description) : NULL;
        cols[i].pii = mc[k].pii ? lh_xstrdup(mc[k].pii) : NULL;
        cols[i].sensitive = mc[k].sensitive;
        user[i] = marks[k];
    }
    lh_cat__entry_set_columns(e, cols, d->ncolumns);
    if (d->ncolumns)
        memcpy(e->sens_user, user, d->ncolumns * sizeof *user);
    lh_columns_free(cols, d->ncolumns);
    free(user);
    lh_columns_free(mc, ncols);
    free(marks);
}

void lh_cat__manifest_merge(lh_bucket *b, lh_cat__entry *e, bool *current)
{
    *current = false;
    char *key = lh_cat__manifest_key(e->d.name);
    size_t len = 0;
    lh_err err = LH_ERR_INIT;
    char *text = lh_bucket_read_all(b, key, LH_CAT_MANIFEST_MAX, &len, &err);
    free(key);
    if (!text) {
        if (err.code != LH_NOT_FOUND)
            LH_LOG_WARN(LH_CAT_MOD, "manifest unreadable, rebuilding from the log dataset=%s "
                                    "error=\"%s\"", e->d.name, err.message);
        return;
    }
    json_t *m = lh_json_parse(text, len, &err);
    free(text);
    if (!m || !json_is_object(m)) {
        LH_LOG_WARN(LH_CAT_MOD, "manifest malformed, rebuilding from the log dataset=%s",
                    e->d.name);
        json_decref(m);
        return;
    }
    const char *table_id = json_string_value(json_object_get(m, "table_id"));
    const char *fp = json_string_value(json_object_get(m, "fingerprint"));
    json_t *ver = json_object_get(m, "version");
    bool same_table = table_id && e->d.table_id && strcmp(table_id, e->d.table_id) == 0;
    if (same_table) {
        adopt_columns(e, m, fp);
        adopt_dataset_metadata(&e->d, m);
    }
    *current = same_table && json_is_integer(ver) && json_integer_value(ver) == e->d.version &&
               fp && strcmp(fp, e->d.fingerprint) == 0;
    json_decref(m);
}
