/* /catalog/datasets: what the lake holds. Listing and lookups read one immutable catalog
 * snapshot; registering existing Parquet objects as a dataset is ingest's job
 * (lh_ingest_register), this file only checks the shape of the request. Metadata patches
 * are validated and applied by the catalog (lh_catalog_patch_metadata). */
#include "http/http_int.h"
#include "ingest/ingest.h"

#define REGISTER_MAX_OBJECTS 10000

int lh_http__create_dataset(lh_http_req *req, lh_err *err)
{
    const json_t *body = req->json;
    const char *name = lh_json_str(body, "name", true, err);
    if (!name)
        return err->code != LH_OK ? -1 : lh_err_set(err, LH_INVALID_ARGUMENT, "'name' is required");
    const char *actor = lh_json_str(body, "actor", false, err);
    if (!actor && err->code != LH_OK)
        return -1;
    const json_t *objects = json_object_get(body, "objects");
    if (!json_is_array(objects) || json_array_size(objects) == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "'objects' must be a non-empty array of object keys");
    size_t n = json_array_size(objects);
    if (n > REGISTER_MAX_OBJECTS)
        return lh_err_set(err, LH_TOO_LARGE, "'objects' holds %zu keys; at most %d per request", n,
                          REGISTER_MAX_OBJECTS);
    const char **keys = lh_arena_alloc(req->arena, n * sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        keys[i] = json_string_value(json_array_get(objects, i));
        if (!keys[i])
            return lh_err_set(err, LH_INVALID_ARGUMENT, "'objects[%zu]' must be a string", i);
    }
    json_t *doc = lh_ingest_register(lh_http__lake(req), name, keys, n, actor, err);
    if (!doc)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_CREATED, doc);
}

int lh_http__list_datasets(lh_http_req *req, lh_err *err)
{
    (void)err;
    lh_catalog_snap *snap = lh_catalog_snapshot(lh_http__lake(req)->catalog);
    json_t *arr = json_array();
    size_t n = lh_catalog_snap_count(snap);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, lh_dataset_to_json(lh_catalog_snap_at(snap, i), false));
    lh_catalog_snap_unref(snap);
    json_t *doc = json_object();
    json_object_set_new(doc, "datasets", arr);
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}

int lh_http__get_dataset(lh_http_req *req, lh_err *err)
{
    const char *name = lh_http__param(req, "name");
    lh_catalog_snap *snap = lh_catalog_snapshot(lh_http__lake(req)->catalog);
    const lh_dataset *d = name ? lh_catalog_snap_find(snap, name) : NULL;
    if (!d) {
        lh_catalog_snap_unref(snap);
        return lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name ? name : "");
    }
    json_t *doc = lh_dataset_to_json(d, true); /* copies what it needs from the snapshot */
    lh_catalog_snap_unref(snap);
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}

int lh_http__patch_metadata(lh_http_req *req, lh_err *err)
{
    const char *name = lh_http__param(req, "name");
    lh_catalog *cat = lh_http__lake(req)->catalog;
    if (!name)
        return lh_err_set(err, LH_NOT_FOUND, "dataset '' not found");
    if (lh_catalog_patch_metadata(cat, name, req->json, err) != 0)
        return -1;
    /* The snapshot the patch published, or a newer one: either shows the patch. */
    lh_catalog_snap *snap = lh_catalog_snapshot(cat);
    const lh_dataset *d = lh_catalog_snap_find(snap, name);
    if (!d) { /* datasets are never removed; a vanished one is a bug worth a clear error */
        lh_catalog_snap_unref(snap);
        return lh_err_set(err, LH_INTERNAL, "dataset '%s' vanished after its metadata patch",
                          name);
    }
    json_t *doc = lh_dataset_to_json(d, true);
    lh_catalog_snap_unref(snap);
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}
