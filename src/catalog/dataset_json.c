/* catalog: the JSON rendering of a dataset, for the API (lh_dataset_to_json) and the pieces
 * the manifest shares with it: columns with their metadata, history entries (lineage) and
 * the rich metadata members. Freshness is judged here, at render time, against the clock. */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *iso_time(int64_t ms)
{
    char buf[32];
    lh_time_iso8601(ms, buf);
    return json_string(buf);
}

json_t *lh_cat__history_json(const lh_commit_record *r)
{
    json_t *h = json_object();
    json_object_set_new(h, "version", json_integer(r->version));
    json_object_set_new(h, "timestamp", iso_time(r->timestamp_ms));
    json_object_set_new(h, "operation", str_or_null(r->operation));
    json_object_set_new(h, "source", str_or_null(r->source));
    json_object_set_new(h, "file_name", str_or_null(r->file_name));
    json_object_set_new(h, "actor", str_or_null(r->actor));
    json_object_set_new(h, "rows_added", json_integer(r->rows_added));
    json_object_set_new(h, "files_added", json_integer(r->files_added));
    json_object_set_new(h, "content_hash", str_or_null(r->content_hash));
    json_object_set_new(h, "job_id", str_or_null(r->job_id));
    return h;
}

json_t *lh_cat__columns_json(const lh_column *cols, size_t n, const bool *sens_user)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_object();
        json_object_set_new(c, "name", json_string(cols[i].name));
        json_object_set_new(c, "type", json_string(cols[i].type));
        json_object_set_new(c, "description", str_or_null(cols[i].description));
        json_object_set_new(c, "pii", str_or_null(cols[i].pii));
        json_object_set_new(c, "sensitive", json_boolean(cols[i].sensitive));
        if (sens_user && sens_user[i])
            json_object_set_new(c, "sensitive_set_by_user", json_true());
        json_array_append_new(a, c);
    }
    return a;
}

void lh_cat__metadata_json(const lh_dataset *d, json_t *j)
{
    json_object_set_new(j, "description", str_or_null(d->description));
    json_object_set_new(j, "owner", str_or_null(d->owner));
    json_object_set_new(j, "sensitivity", str_or_null(d->sensitivity));
    json_t *tags = json_array();
    for (size_t i = 0; i < d->ntags; i++)
        json_array_append_new(tags, json_string(d->tags[i]));
    json_object_set_new(j, "tags", tags);
    json_t *fr = json_object();
    json_object_set_new(fr, "max_age_s", d->freshness_max_age_s > 0
                                             ? json_integer(d->freshness_max_age_s)
                                             : json_null());
    json_object_set_new(j, "freshness", fr);
}

/* Adds "age_s" (since the last commit) and "status": fresh or stale against the
 * expectation, unknown when there is none. */
static void freshness_status(const lh_dataset *d, json_t *fr)
{
    int64_t age_s = -1;
    if (d->updated_ms > 0) {
        int64_t diff = lh_now_ms() - d->updated_ms;
        age_s = diff > 0 ? diff / 1000 : 0;
    }
    json_object_set_new(fr, "age_s", age_s >= 0 ? json_integer(age_s) : json_null());
    const char *status = "unknown";
    if (d->freshness_max_age_s > 0 && age_s >= 0)
        status = age_s <= d->freshness_max_age_s ? "fresh" : "stale";
    json_object_set_new(fr, "status", json_string(status));
}

json_t *lh_dataset_to_json(const lh_dataset *d, bool detailed)
{
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(d->name));
    json_object_set_new(j, "bucket", json_string(d->bucket));
    json_object_set_new(j, "columns", lh_cat__columns_json(d->columns, d->ncolumns, NULL));
    json_object_set_new(j, "row_count", json_integer(d->row_count));
    json_object_set_new(j, "fingerprint", json_string(d->fingerprint));
    json_object_set_new(j, "version", json_integer(d->version));
    json_object_set_new(j, "created_at", iso_time(d->created_ms));
    json_object_set_new(j, "updated_at", iso_time(d->updated_ms));
    json_object_set_new(j, "source", str_or_null(d->source));
    json_object_set_new(j, "files", json_integer((json_int_t)d->nfiles));
    lh_cat__metadata_json(d, j);
    freshness_status(d, json_object_get(j, "freshness"));
    if (!detailed)
        return j;
    json_t *files = json_array();
    for (size_t i = 0; i < d->nfiles; i++)
        json_array_append_new(files, json_pack("{s:s, s:I, s:I}", "path", d->files[i].path,
                                               "size", (json_int_t)d->files[i].size, "rows",
                                               (json_int_t)d->files[i].rows));
    json_object_set_new(j, "data_files", files);
    json_t *hist = json_array();
    for (size_t i = 0; i < d->nhistory; i++)
        json_array_append_new(hist, lh_cat__history_json(&d->history[i]));
    json_object_set_new(j, "history", hist);
    return j;
}
