/* ai summarize: the profile of a dataset (DuckDB's SUMMARIZE through the sandbox: rows, and
 * per column type, nulls, distinct count, min/max; plus the top values of each column) and
 * a paragraph about it written by the model. Sensitive and PII columns keep their counts
 * but lose min, max and top values, in the answer and in the prompt alike. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

#define TOP_VALUES 5
#define TOP_COLUMNS 64     /* columns that get a top-values query */
#define VALUE_CHARS 80     /* bytes of one min/max/top value */

static const char SYSTEM_PROMPT[] =
    "You write short descriptions of datasets for a data catalog. Given a dataset's profile, "
    "write one paragraph of 3 to 5 plain sentences: what the data seems to be about, its "
    "size, its notable columns and any data-quality issues such as missing values. Do not "
    "invent facts that the profile does not show.";

/* The value at column `name` of row r of a result, as JSON (borrowed), or NULL. */
static const json_t *cell(const json_t *res, size_t r, const char *name)
{
    const json_t *cols = json_object_get(res, "columns");
    for (size_t i = 0; i < json_array_size(cols); i++) {
        const json_t *c = json_array_get(cols, i);
        const char *cn = json_is_string(c) ? json_string_value(c)
                                           : json_string_value(json_object_get(c, "name"));
        if (cn && strcmp(cn, name) == 0)
            return json_array_get(json_array_get(json_object_get(res, "rows"), r), i);
    }
    return NULL;
}

static double num(const json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v)) {
        char *end;
        double d = strtod(json_string_value(v), &end);
        return end != json_string_value(v) ? d : NAN;
    }
    return NAN;
}

static json_t *clipped(const json_t *v)
{
    if (!v || json_is_null(v))
        return json_null();
    if (!json_is_string(v))
        return json_deep_copy(v);
    char *c = lh_ai__clip(json_string_value(v), VALUE_CHARS);
    json_t *s = json_string(c);
    free(c);
    return s ? s : json_null();
}

/* [{"value", "count"}] of the most frequent values of column col, or NULL on failure. */
static json_t *top_values(lh_ai *ai, const char *dataset, const char *col)
{
    char *t = lh_sql_quote_ident(dataset), *c = lh_sql_quote_ident(col);
    char *sql = lh_xasprintf("SELECT CAST(%s AS VARCHAR) AS value, count(*) AS n FROM %s "
                             "GROUP BY 1 ORDER BY n DESC, value NULLS LAST LIMIT %d",
                             c, t, TOP_VALUES);
    free(t);
    free(c);
    lh_err e = LH_ERR_INIT;
    json_t *res = lh_ai__sql(ai, sql, TOP_VALUES, &e);
    free(sql);
    if (!res) {
        LH_LOG_DEBUG("ai", "top values of %s.%s: %s", dataset, col, e.message);
        return NULL;
    }
    json_t *out = json_array();
    const json_t *rows = json_object_get(res, "rows");
    for (size_t r = 0; r < json_array_size(rows); r++)
        json_array_append_new(out, json_pack("{s:o, s:O}", "value",
                                             clipped(json_array_get(json_array_get(rows, r), 0)),
                                             "count", json_array_get(json_array_get(rows, r), 1)));
    json_decref(res);
    return out;
}

/* The profile document of ds (through SUMMARIZE), or NULL. */
static json_t *profile(lh_ai *ai, const lh_dataset *ds, lh_err *err)
{
    char *t = lh_sql_quote_ident(ds->name);
    char *sql = lh_xasprintf("SUMMARIZE %s", t);
    free(t);
    json_t *res = lh_ai__sql(ai, sql, 100000, err);
    free(sql);
    if (!res)
        return NULL;
    const json_t *rows = json_object_get(res, "rows");
    json_t *cols = json_array();
    double nrows = 0;
    for (size_t r = 0; r < json_array_size(rows); r++) {
        const char *name = json_string_value(cell(res, r, "column_name"));
        if (!name)
            continue;
        const lh_column *meta = NULL;
        for (size_t i = 0; i < ds->ncolumns; i++)
            if (strcmp(ds->columns[i].name, name) == 0)
                meta = &ds->columns[i];
        bool hidden = meta && (meta->sensitive || meta->pii);
        double count = num(cell(res, r, "count")), pct = num(cell(res, r, "null_percentage"));
        nrows = isnan(count) ? nrows : count;
        double nulls = isnan(count) || isnan(pct) ? 0 : round(count * pct / 100.0);
        json_t *c = json_pack("{s:s, s:O?, s:I, s:f, s:O?}", "name", name, "type",
                              cell(res, r, "column_type"), "nulls", (json_int_t)nulls,
                              "null_fraction", count > 0 ? nulls / count : 0.0, "distinct",
                              cell(res, r, "approx_unique"));
        if (!c)
            continue;
        if (meta && meta->description)
            json_object_set_new(c, "description", json_string(meta->description));
        json_object_set_new(c, "sensitive", json_boolean(hidden));
        if (hidden) {
            json_object_set_new(c, "min", json_null());
            json_object_set_new(c, "max", json_null());
            json_object_set_new(c, "top_values", json_null());
        } else {
            json_object_set_new(c, "min", clipped(cell(res, r, "min")));
            json_object_set_new(c, "max", clipped(cell(res, r, "max")));
            json_t *top = r < TOP_COLUMNS ? top_values(ai, ds->name, name) : NULL;
            json_object_set_new(c, "top_values", top ? top : json_null());
        }
        json_array_append_new(cols, c);
    }
    json_decref(res);
    json_t *doc = json_pack("{s:s, s:I, s:o}", "dataset", ds->name, "rows", (json_int_t)nrows,
                            "columns", cols);
    if (ds->description)
        json_object_set_new(doc, "description", json_string(ds->description));
    return doc;
}

json_t *lh_ai_summarize(lh_ai *ai, const char *dataset, const json_t *req, lh_err *err)
{
    (void)req;
    lh_catalog_snap *snap = lh_catalog_snapshot(ai->lake->catalog);
    const lh_dataset *ds = dataset ? lh_catalog_snap_find(snap, dataset) : NULL;
    json_t *doc = NULL;
    if (!ds) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", dataset ? dataset : "");
        goto out;
    }
    double t0 = lh_mono_ms();
    doc = profile(ai, ds, err);
    if (!doc)
        goto out;
    double t_profile = lh_mono_ms();
    if (!ai->llm) {
        json_object_set_new(doc, "summary", json_null());
        json_object_set_new(doc, "model", json_null());
        json_object_set_new(doc, "note", json_string("no generation model is configured "
                                                     "([generate] provider and model): the "
                                                     "profile alone"));
    } else {
        /* The prompt is the profile itself: sensitive values are already out of it. */
        char *text = json_dumps(doc, JSON_COMPACT);
        char *prompt = lh_xasprintf("Profile of dataset '%s':\n%s", ds->name, text);
        free(text);
        lh_chat_msg msgs[2] = {{"system", SYSTEM_PROMPT}, {"user", prompt}};
        char *summary = NULL;
        int rc = lh_ai__chat(ai->llm, msgs, 2, NULL, NULL, &summary, err);
        free(prompt);
        if (rc != 0) {
            json_decref(doc);
            doc = NULL;
            goto out;
        }
        json_object_set_new(doc, "summary", json_string(summary));
        json_object_set_new(doc, "model", json_string(lh_llm_model(ai->llm)));
        free(summary);
    }
    json_object_set_new(doc, "timings", json_pack("{s:f, s:f}", "profile_ms", t_profile - t0,
                                                  "summary_ms", lh_mono_ms() - t_profile));
out:
    lh_catalog_snap_unref(snap);
    return doc;
}
