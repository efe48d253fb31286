/* query/lake.c: entry points for embedded callers (CLI, tests): the lake (storage + catalog
 * + engine opened together for a data dir) and lh_query_json for small results. */
#include <stdlib.h>
#include <string.h>

#include "query/query_int.h"

/* lh_query_json reads at most this much, whatever the engine's byte ceiling. */
#define QUERY_JSON_MAX ((int64_t)256 << 20)

lh_lake *lh_lake_open(lh_config *config, lh_err *err) {
    if (!config || !config->data_dir) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "lake needs a data dir");
        return NULL;
    }
    lh_lake *lake = lh_xcalloc(1, sizeof *lake);
    lake->config = config;
    lake->started_ms = lh_now_ms();
    lake->storage = lh_storage_open_with_secrets(config->data_dir, config->buckets,
                                                 config->nbuckets, config->secrets_file, err);
    if (!lake->storage)
        goto fail;
    /* Model server keys may live in the secrets file rather than the configuration (where
     * they would sit next to settings people paste into tickets); the configuration wins. */
    const char *ek = lh_storage_model_secret(lake->storage, "embed");
    if (ek && (!config->embed_api_key || !*config->embed_api_key)) {
        free(config->embed_api_key);
        config->embed_api_key = lh_xstrdup(ek);
    }
    const char *gk = lh_storage_model_secret(lake->storage, "generate");
    if (gk && (!config->generate_api_key || !*config->generate_api_key)) {
        free(config->generate_api_key);
        config->generate_api_key = lh_xstrdup(gk);
    }
    lake->catalog = lh_catalog_open(lake->storage, err);
    if (!lake->catalog)
        goto fail;
    lh_engine_opts opts = {
        .connections = config->query_connections,
        .threads = config->query_threads,
        .memory_limit = config->query_memory_limit,
        .timeout_ms = config->query_timeout_ms,
        .max_rows = config->query_max_rows,
        .max_bytes = config->query_max_bytes,
        .cache_max_bytes = config->query_cache_max_bytes,
    };
    lake->engine = lh_engine_open(lake->storage, lake->catalog, &opts, err);
    if (!lake->engine)
        goto fail;
    return lake;
fail:
    lh_lake_close(lake);
    return NULL;
}

void lh_lake_close(lh_lake *lake) {
    if (!lake)
        return;
    lh_engine_close(lake->engine);
    lh_catalog_close(lake->catalog);
    lh_storage_close(lake->storage);
    free(lake);
}

static lh_code code_from_name(const char *name) {
    for (int c = 0; c < LH_CODE_COUNT; c++)
        if (name && strcmp(lh_code_name((lh_code)c), name) == 0)
            return (lh_code)c;
    return LH_INTERNAL;
}

json_t *lh_query_json(lh_engine *e, const lh_query_req *req, lh_err *err) {
    if (!req) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "query request is required");
        return NULL;
    }
    lh_query_req r = *req;
    r.format = LH_FMT_JSON;
    lh_query_stream *q = lh_query_open(e, &r, err);
    if (!q)
        return NULL;
    lh_buf b;
    lh_buf_init(&b);
    char chunk[64 * 1024];
    ssize_t n;
    json_t *doc = NULL;
    while ((n = lh_query_stream_read(q, chunk, sizeof chunk, err)) > 0) {
        if ((int64_t)(b.len + (size_t)n) > QUERY_JSON_MAX) {
            lh_err_set(err, LH_TOO_LARGE, "result exceeds %lld bytes; stream it instead",
                       (long long)QUERY_JSON_MAX);
            n = -1;
            break;
        }
        lh_buf_append(&b, chunk, (size_t)n);
    }
    lh_query_stream_close(q);
    if (n == 0)
        doc = lh_json_parse(b.data ? b.data : "", b.len, err);
    lh_buf_release(&b);
    if (!doc)
        return NULL;
    /* A failure after the first row travels inside the document; hand it back as an error. */
    json_t *jerr = json_object_get(doc, "error");
    if (jerr) {
        const char *code = json_string_value(json_object_get(jerr, "code"));
        const char *msg = json_string_value(json_object_get(jerr, "message"));
        lh_err_set(err, code_from_name(code), "%s", msg ? msg : "query failed");
        json_decref(doc);
        return NULL;
    }
    return doc;
}
