/* /query/compact: rewrites a dataset's files into few right-sized ones (lh_engine_compact
 * does the work and the crash safety); this file only checks the request. */
#include "http/http_int.h"

int lh_http__post_compact(lh_http_req *req, lh_err *err)
{
    const json_t *body = req->json;
    if (!json_is_object(body))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "the body must be a JSON object");
    const char *name = lh_json_str(body, "dataset", true, err);
    if (!name)
        return err->code != LH_OK ? -1
                                  : lh_err_set(err, LH_INVALID_ARGUMENT, "'dataset' is required");
    const char *actor = lh_json_str(body, "actor", false, err);
    if (!actor && err->code != LH_OK)
        return -1;
    json_t *doc = lh_engine_compact(lh_http__lake(req)->engine, name, actor, err);
    if (!doc)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}
