/* GET /health: liveness and a summary of what this server serves. Cheap by design (no
 * DuckDB call, one catalog snapshot), so load balancers and tests can poll it. */
#include "http/http_int.h"

int lh_http__get_health(lh_http_req *req, lh_err *err)
{
    (void)err;
    lh_lake *lake = lh_http__lake(req);
    lh_catalog_snap *snap = lh_catalog_snapshot(lake->catalog);
    size_t ndatasets = lh_catalog_snap_count(snap);
    lh_catalog_snap_unref(snap);
    int64_t uptime_ms = lh_now_ms() - lake->started_ms;

    json_t *doc = json_object();
    json_object_set_new(doc, "status", json_string("ok"));
    json_object_set_new(doc, "version", json_string(LH_VERSION_STRING));
    json_object_set_new(doc, "duckdb_version", json_string(lh_engine_duckdb_version()));
    json_object_set_new(doc, "uptime_s", json_integer(uptime_ms > 0 ? uptime_ms / 1000 : 0));
    json_object_set_new(doc, "data_dir", json_string(lh_storage_data_dir(lake->storage)));
    json_object_set_new(doc, "datasets", json_integer((json_int_t)ndatasets));
    json_t *buckets = json_array();
    for (size_t i = 0; i < lh_storage_bucket_count(lake->storage); i++)
        json_array_append_new(buckets, json_string(lh_bucket_name(
                                           lh_storage_bucket_at(lake->storage, i))));
    json_object_set_new(doc, "buckets", buckets);
    /* Which models answer (never their keys or URLs): the UI offers "ask" only with a
     * generator, and says which embedder new indexes use. */
    const lh_config *c = req->server->config;
    json_t *models = json_object();
    json_object_set_new(models, "embed",
                        json_pack("{s:s,s:s?}", "provider", c->embed_provider, "model",
                                  c->embed_model && c->embed_model[0] ? c->embed_model : NULL));
    bool gen = c->generate_provider && c->generate_provider[0];
    json_object_set_new(models, "generate",
                        gen ? json_pack("{s:s,s:s?}", "provider", c->generate_provider, "model",
                                        c->generate_model && c->generate_model[0]
                                            ? c->generate_model : NULL)
                            : json_null());
    json_object_set_new(doc, "models", models);
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}
