/* /query/cache/{pin,evict,stats}: pin, evict and inspect the hot cache (query/cache.c does
 * the work). */
#include "http/http_int.h"

/* The "dataset" member of a JSON object body, or NULL with err filled. */
static const char *dataset_arg(lh_http_req *req, lh_err *err)
{
    if (!json_is_object(req->json))
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "the body must be a JSON object"), NULL);
    const char *name = lh_json_str(req->json, "dataset", true, err);
    if (!name && err->code == LH_OK)
        lh_err_set(err, LH_INVALID_ARGUMENT, "'dataset' is required");
    return name;
}

int lh_http__cache_pin(lh_http_req *req, lh_err *err)
{
    const char *name = dataset_arg(req, err);
    json_t *doc = name ? lh_engine_cache_pin(lh_http__lake(req)->engine, name, err) : NULL;
    return doc ? lh_http_reply_json(req, MHD_HTTP_OK, doc) : -1;
}

int lh_http__cache_evict(lh_http_req *req, lh_err *err)
{
    const char *name = dataset_arg(req, err);
    json_t *doc = name ? lh_engine_cache_evict(lh_http__lake(req)->engine, name, err) : NULL;
    return doc ? lh_http_reply_json(req, MHD_HTTP_OK, doc) : -1;
}

int lh_http__cache_stats(lh_http_req *req, lh_err *err)
{
    (void)err;
    return lh_http_reply_json(req, MHD_HTTP_OK, lh_engine_cache_stats(lh_http__lake(req)->engine));
}
