/* catalog: the manifest _catalog/datasets/<name>.json, the metadata the Delta log has no
 * place for (exact DuckDB column types, lineage, and later owner, tags, ...). It is written
 * after each commit and is derived data: when missing or behind the log it is rewritten from
 * the log at open, and a manifest that disagrees with the log is never trusted. */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

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
    json_object_set_new(j, "format_version", json_integer(1));
    json_object_set_new(j, "name", json_string(d->name));
    json_object_set_new(j, "bucket", json_string(d->bucket));
    json_object_set_new(j, "table_id", d->table_id ? json_string(d->table_id) : json_null());
    json_object_set_new(j, "columns", lh_cat__columns_json(d->columns, d->ncolumns));
    json_object_set_new(j, "row_count", json_integer(d->row_count));
    json_object_set_new(j, "fingerprint", json_string(d->fingerprint));
    json_object_set_new(j, "version", json_integer(d->version));
    json_object_set_new(j, "created_at", json_string(created));
    json_object_set_new(j, "updated_at", json_string(updated));
    json_object_set_new(j, "source", d->source ? json_string(d->source) : json_null());
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

/* The manifest's columns, when well-formed; NULL otherwise. */
static lh_column *manifest_columns(const json_t *m, size_t *n)
{
    const json_t *arr = json_object_get(m, "columns");
    size_t cnt = json_array_size(arr);
    if (!json_is_array(arr) || cnt == 0 || cnt > 100000)
        return NULL;
    lh_column *cols = lh_xcalloc(cnt, sizeof *cols);
    for (size_t i = 0; i < cnt; i++) {
        const json_t *c = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *type = json_string_value(json_object_get(c, "type"));
        if (!name || !type || !*name || !*type) {
            lh_columns_free(cols, cnt);
            return NULL;
        }
        cols[i].name = lh_xstrdup(name);
        cols[i].type = lh_xstrdup(type);
    }
    *n = cnt;
    return cols;
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

    size_t ncols = 0;
    lh_column *cols = same_table ? manifest_columns(m, &ncols) : NULL;
    if (cols && fp) {
        /* Trust the exact types only when the manifest is self-consistent (fingerprint) and
         * they still describe the log's schema; the log is the truth. */
        char check[65];
        lh_cat__fingerprint(cols, ncols, check);
        lh_err ignored = LH_ERR_INIT;
        json_t *st = strcmp(check, fp) == 0 ? lh_cat__delta_struct(cols, ncols, &ignored)
                                            : NULL;
        if (st && e->delta_schema && json_equal(st, e->delta_schema))
            lh_cat__entry_set_columns(e, cols, ncols);
        json_decref(st);
    }
    lh_columns_free(cols, ncols);
    *current = same_table && json_is_integer(ver) && json_integer_value(ver) == e->d.version &&
               fp && strcmp(fp, e->d.fingerprint) == 0;
    json_decref(m);
}
