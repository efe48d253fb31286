/* /catalog/views: AI-safe views (a dataset's whitelisted columns, a structured row filter,
 * per-column redactions). The catalog validates and persists definitions
 * (lh_catalog_create_view); the query engine turns them into SQL views by name. */
#include "http/http_int.h"

int lh_http__create_view(lh_http_req *req, lh_err *err)
{
    json_t *doc = NULL;
    if (lh_catalog_create_view(lh_http__lake(req)->catalog, req->json, &doc, err) != 0)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_CREATED, doc);
}

int lh_http__list_views(lh_http_req *req, lh_err *err)
{
    (void)err;
    lh_catalog_snap *snap = lh_catalog_snapshot(lh_http__lake(req)->catalog);
    json_t *arr = json_array();
    size_t n = lh_catalog_snap_view_count(snap);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_deep_copy(lh_catalog_snap_view_at(snap, i)));
    lh_catalog_snap_unref(snap);
    return lh_http_reply_json(req, MHD_HTTP_OK, json_pack("{s:o}", "views", arr));
}

int lh_http__get_view(lh_http_req *req, lh_err *err)
{
    const char *name = lh_http__param(req, "name");
    lh_catalog_snap *snap = lh_catalog_snapshot(lh_http__lake(req)->catalog);
    const json_t *v = lh_catalog_snap_find_view(snap, name);
    json_t *doc = v ? json_deep_copy(v) : NULL;
    lh_catalog_snap_unref(snap);
    if (!doc)
        return lh_err_set(err, LH_NOT_FOUND, "view '%s' not found", name ? name : "");
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}

int lh_http__delete_view(lh_http_req *req, lh_err *err)
{
    const char *name = lh_http__param(req, "name");
    if (lh_catalog_drop_view(lh_http__lake(req)->catalog, name, err) != 0)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, json_pack("{s:s}", "deleted", name));
}
