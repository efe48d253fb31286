/* The route table: the index of the HTTP API. Every endpoint is one line here and one
 * section of docs/API.md; keep the two in step (tests/unit/http/test_router.c checks that
 * each route has its heading there). The dispatcher (dispatch.c) finds the line with
 * lh_http__route_match, enforces its body ceiling and kind, then calls its handler. */
#include "http/http_int.h"

#define BODY LH_HTTP_LIMIT_BODY
#define UPLOAD LH_HTTP_LIMIT_UPLOAD
/* A tombstone batch of 100000 keys is larger than an ordinary JSON body. */
#define TOMBS ((int64_t)16 << 20)
/* A search by a 65536-dimension vector is about 1.5 MB of JSON. */
#define VSEARCH ((int64_t)4 << 20)

/* clang-format off */
const lh_http_route lh_http__routes[] = {
    /* method  pattern                            handler                  limit   body */
    {"GET",    "/health",                          lh_http__get_health,     BODY,   LH_BODY_NONE},
    {"GET",    "/",                                lh_http__ui_index,       BODY,   LH_BODY_NONE},
    {"GET",    "/ui/{file...}",                    lh_http__ui_asset,       BODY,   LH_BODY_NONE},

    {"GET",    "/storage/objects",                 lh_http__list_objects,   BODY,   LH_BODY_NONE},
    {"PUT",    "/storage/objects/{key...}",        lh_http__put_object,     UPLOAD, LH_BODY_OBJECT},
    {"GET",    "/storage/objects/{key...}",        lh_http__get_object,     BODY,   LH_BODY_NONE},
    {"DELETE", "/storage/objects/{key...}",        lh_http__delete_object,  BODY,   LH_BODY_NONE},
    {"GET",    "/storage/buckets",                 lh_http__list_buckets,   BODY,   LH_BODY_NONE},
    {"POST",   "/storage/buckets",                 lh_http__create_bucket,  BODY,   LH_BODY_JSON},
    {"DELETE", "/storage/buckets/{bucket}",        lh_http__delete_bucket,  BODY,   LH_BODY_NONE},
    {"PUT",    "/storage/buckets/{bucket}/objects/{key...}", lh_http__put_object, UPLOAD, LH_BODY_OBJECT},
    {"GET",    "/storage/buckets/{bucket}/objects/{key...}", lh_http__get_object, BODY, LH_BODY_NONE},
    {"DELETE", "/storage/buckets/{bucket}/objects/{key...}", lh_http__delete_object, BODY, LH_BODY_NONE},
    {"GET",    "/storage/bucket-health",           lh_http__bucket_health,  BODY,   LH_BODY_NONE},
    {"GET",    "/storage/errors",                  lh_http__bucket_errors,  BODY,   LH_BODY_NONE},

    {"POST",   "/catalog/datasets",                lh_http__create_dataset, BODY,   LH_BODY_JSON},
    {"GET",    "/catalog/datasets",                lh_http__list_datasets,  BODY,   LH_BODY_NONE},
    {"GET",    "/catalog/datasets/by-name/{name}", lh_http__get_dataset,    BODY,   LH_BODY_NONE},
    {"PATCH",  "/catalog/datasets/by-name/{name}/metadata", lh_http__patch_metadata, BODY, LH_BODY_JSON},
    {"POST",   "/catalog/datasets/by-name/{name}/tombstone", lh_http__post_tombstone, TOMBS, LH_BODY_JSON},
    {"GET",    "/catalog/datasets/by-name/{name}/tombstone", lh_http__get_tombstones, BODY, LH_BODY_NONE},
    {"POST",   "/catalog/views",                   lh_http__create_view,    BODY,   LH_BODY_JSON},
    {"GET",    "/catalog/views",                   lh_http__list_views,     BODY,   LH_BODY_NONE},
    {"GET",    "/catalog/views/{name}",            lh_http__get_view,       BODY,   LH_BODY_NONE},
    {"DELETE", "/catalog/views/{name}",            lh_http__delete_view,    BODY,   LH_BODY_NONE},
    {"POST",   "/catalog/resync-missing",          lh_http__resync_missing, BODY,   LH_BODY_JSON},
    {"POST",   "/catalog/migrate-buckets",         lh_http__migrate_buckets, BODY,  LH_BODY_JSON},

    {"POST",   "/query/sql",                       lh_http__post_sql,       BODY,   LH_BODY_JSON},
    {"POST",   "/query/compact",                   lh_http__post_compact,   BODY,   LH_BODY_JSON},
    {"POST",   "/query/cache/pin",                 lh_http__cache_pin,      BODY,   LH_BODY_JSON},
    {"POST",   "/query/cache/evict",               lh_http__cache_evict,    BODY,   LH_BODY_JSON},
    {"GET",    "/query/cache/stats",               lh_http__cache_stats,    BODY,   LH_BODY_NONE},

    {"POST",   "/ingest/file",                     lh_http__ingest_file,    UPLOAD, LH_BODY_UPLOAD},

    {"POST",   "/vectors/index",                   lh_http__vectors_index,  BODY,   LH_BODY_JSON},
    {"GET",    "/vectors/jobs",                    lh_http__vectors_jobs,   BODY,   LH_BODY_NONE},
    {"GET",    "/vectors/jobs/{id}",               lh_http__vectors_job,    BODY,   LH_BODY_NONE},
    {"DELETE", "/vectors/jobs/{id}",               lh_http__vectors_cancel, BODY,   LH_BODY_NONE},
    {"GET",    "/vectors/indexes",                 lh_http__vectors_indexes, BODY,  LH_BODY_NONE},
    {"GET",    "/vectors/indexes/{name}",          lh_http__vectors_get_index, BODY, LH_BODY_NONE},
    {"DELETE", "/vectors/indexes/{name}",          lh_http__vectors_drop_index, BODY, LH_BODY_NONE},
    {"POST",   "/vectors/search",                  lh_http__vectors_search, VSEARCH, LH_BODY_JSON},
    {"POST",   "/vectors/rag",                     lh_http__vectors_rag,    BODY,   LH_BODY_JSON},

    {"POST",   "/ai/generate",                     lh_http__ai_generate,    BODY,   LH_BODY_JSON},
    {"POST",   "/ai/ask",                          lh_http__ai_ask,         BODY,   LH_BODY_JSON},
    {"POST",   "/ai/embed",                        lh_http__ai_embed,       VSEARCH, LH_BODY_JSON},
    {"POST",   "/ai/rerank",                       lh_http__ai_rerank,      VSEARCH, LH_BODY_JSON},
    {"POST",   "/ai/summarize/{dataset}",          lh_http__ai_summarize,   BODY,   LH_BODY_NONE},
    {"POST",   "/ai/admin/preload",                lh_http__ai_preload,     BODY,   LH_BODY_JSON},
    {"POST",   "/ai/admin/unload",                 lh_http__ai_unload,      BODY,   LH_BODY_JSON},
    {"GET",    "/ai/admin/vram",                   lh_http__ai_vram,        BODY,   LH_BODY_NONE},
};
/* clang-format on */

const size_t lh_http__nroutes = LH_ARRAY_LEN(lh_http__routes);
