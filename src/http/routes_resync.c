/* POST /catalog/resync-missing: repairs catalog manifests from the Delta log and the
 * Parquet footers (lh_engine_resync does the work). This file only checks the request:
 * {} for every dataset, or {"dataset": name} for one. */
#include <string.h>

#include "http/http_int.h"

int lh_http__resync_missing(lh_http_req *req, lh_err *err)
{
    const char *key;
    json_t *val;
    json_object_foreach(req->json, key, val) {
        (void)val;
        if (strcmp(key, "dataset") != 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "unknown key '%s': the body is {} or {\"dataset\": name}", key);
    }
    const json_t *ds = json_object_get(req->json, "dataset");
    const char *name = NULL;
    if (ds && !json_is_null(ds)) {
        name = json_string_value(ds);
        if (!name || !*name)
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "'dataset' must be a non-empty string (a dataset name)");
    }
    json_t *doc = lh_engine_resync(lh_http__lake(req)->engine, name, err);
    if (!doc)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}
