/* /catalog/datasets/by-name/{name}/tombstone: soft deletes. The request is checked here
 * (shape, key types, ceilings); the catalog validates the column against the dataset, keeps
 * one key column per dataset and makes the batch durable before we answer. Keys are kept
 * as text: a JSON integer becomes its decimal digits, a real its shortest round-trip form,
 * so they compare equal to CAST(key AS VARCHAR) of the stored value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

/* The text form of one key (arena-owned), or NULL when it is not a string or number. */
static const char *key_text(lh_http_req *req, const json_t *v)
{
    char buf[64];
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
        size_t len = strlen(buf);
        if (!strpbrk(buf, ".eEn") && len + 3 <= sizeof buf) /* DuckDB writes 2.0, not 2 */
            memcpy(buf + len, ".0", 3);
    } else {
        return NULL;
    }
    size_t n = strlen(buf) + 1;
    char *out = lh_arena_alloc(req->arena, n);
    memcpy(out, buf, n);
    return out;
}

int lh_http__post_tombstone(lh_http_req *req, lh_err *err)
{
    const char *name = lh_http__param(req, "name");
    const json_t *body = req->json;
    if (!json_is_object(body))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "the body must be a JSON object");
    const char *column = lh_json_str(body, "row_key_column", true, err);
    if (!column)
        return err->code != LH_OK ? -1
                                  : lh_err_set(err, LH_INVALID_ARGUMENT,
                                               "'row_key_column' is required");
    const char *actor = lh_json_str(body, "actor", false, err);
    if (!actor && err->code != LH_OK)
        return -1;
    const char *reason = lh_json_str(body, "reason", false, err);
    if (!reason && err->code != LH_OK)
        return -1;
    const json_t *values = json_object_get(body, "row_key_values");
    if (!json_is_array(values) || json_array_size(values) == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "'row_key_values' must be a non-empty array of strings or numbers");
    size_t n = json_array_size(values);
    if (n > LH_TOMBSTONE_BATCH_MAX)
        return lh_err_set(err, LH_TOO_LARGE, "'row_key_values' holds %zu keys; at most %d per "
                          "request", n, LH_TOMBSTONE_BATCH_MAX);
    const char **keys = lh_arena_alloc(req->arena, n * sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        keys[i] = key_text(req, json_array_get(values, i));
        if (!keys[i])
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "'row_key_values[%zu]' must be a string or a number", i);
    }
    char id[37];
    if (lh_catalog_add_tombstones(lh_http__lake(req)->catalog, name, column, keys, n, actor,
                                  reason, id, err) != 0)
        return -1;
    json_t *doc = json_pack("{s:s, s:s, s:s, s:I}", "id", id, "dataset", name,
                            "row_key_column", column, "count", (json_int_t)n);
    return lh_http_reply_json(req, MHD_HTTP_CREATED, doc);
}

int lh_http__get_tombstones(lh_http_req *req, lh_err *err)
{
    const char *name = lh_http__param(req, "name");
    lh_catalog_snap *snap = lh_catalog_snapshot(lh_http__lake(req)->catalog);
    json_t *doc = lh_catalog_tombstones_json(snap, name, err);
    lh_catalog_snap_unref(snap);
    if (!doc)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}
