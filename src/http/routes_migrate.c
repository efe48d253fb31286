/* POST /catalog/migrate-buckets: stamps the bucket on legacy catalog manifests
 * (lh_catalog_migrate_buckets does the work). This file only checks the request: the body
 * is {} (there is nothing to choose; every data bucket is walked). */
#include "http/http_int.h"

int lh_http__migrate_buckets(lh_http_req *req, lh_err *err)
{
    if (json_object_size(req->json) != 0) {
        const char *key = json_object_iter_key(json_object_iter(req->json));
        return lh_err_set(err, LH_INVALID_ARGUMENT, "unknown key '%s': the body is {}", key);
    }
    json_t *doc = lh_catalog_migrate_buckets(lh_http__lake(req)->catalog, err);
    if (!doc)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}
