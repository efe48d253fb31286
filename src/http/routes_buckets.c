/* /storage/buckets, /storage/bucket-health, /storage/errors: bucket administration. Lists
 * the buckets with their role and a cheap reachability check, provisions and forgets
 * buckets at run time (storage keeps them in <data>/_buckets.json), probes every bucket with
 * a real write/read/delete, and shows the newest lines of the bucket error journal. Object
 * routes under /storage/buckets/{bucket}/objects live in routes_storage.c. */
#include <string.h>

#include "http/http_int.h"

#define ERRORS_DEFAULT 100
#define ERRORS_MAX 1000

static json_t *bucket_json(const lh_storage *st, lh_bucket *b)
{
    lh_err e = LH_ERR_INIT;
    bool healthy = lh_bucket_check_reachable(b, &e) == 0;
    json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "name", lh_bucket_name(b), "root",
                          lh_bucket_root(b), "role", lh_bucket_role(b), "healthy", healthy);
    /* Whether credentials are set, never what they are. */
    static const char *const keys[] = {"access_key", "secret_key"};
    json_t *cred = NULL;
    for (size_t i = 0; i < LH_ARRAY_LEN(keys); i++) {
        if (!lh_storage_bucket_secret(st, lh_bucket_name(b), keys[i]))
            continue;
        if (!cred)
            cred = json_object();
        json_object_set_new(cred, keys[i], json_string("***"));
    }
    if (cred)
        json_object_set_new(o, "credentials", cred);
    return o;
}

int lh_http__list_buckets(lh_http_req *req, lh_err *err)
{
    (void)err;
    lh_storage *st = lh_http__lake(req)->storage;
    json_t *arr = json_array();
    for (size_t i = 0;; i++) {
        lh_bucket *b = lh_storage_bucket_at(st, i);
        if (!b)
            break;
        json_array_append_new(arr, bucket_json(st, b));
    }
    return lh_http_reply_json(req, MHD_HTTP_OK, arr);
}

/* A string member of the body, or NULL when absent; invalid_argument if present but not a
 * string. */
static int body_string(const json_t *body, const char *name, const char **out, lh_err *err)
{
    json_t *v = json_object_get(body, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' must be a string", name);
    *out = json_string_value(v);
    return 0;
}

int lh_http__create_bucket(lh_http_req *req, lh_err *err)
{
    const json_t *body = req->json;
    if (!json_is_object(body))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "body must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        if (strcmp(key, "name") != 0 && strcmp(key, "root") != 0 && strcmp(key, "role") != 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "unknown field '%.64s' (a bucket has name, root and role)", key);
    }
    const char *name, *root, *role;
    if (body_string(body, "name", &name, err) != 0 || body_string(body, "root", &root, err) != 0 ||
        body_string(body, "role", &role, err) != 0)
        return -1;
    if (!name)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "missing 'name'");
    if (root && strlen(root) > 4096)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'root' is longer than 4096 bytes");
    lh_storage *st = lh_http__lake(req)->storage;
    lh_bucket *b = lh_storage_provision(st, name, root, role, err);
    if (!b)
        return -1;
    LH_LOG_INFO("http", "provisioned bucket '%s' (%s) at '%s'", lh_bucket_name(b),
                lh_bucket_role(b), lh_bucket_root(b));
    return lh_http_reply_json(req, MHD_HTTP_CREATED, bucket_json(st, b));
}

int lh_http__delete_bucket(lh_http_req *req, lh_err *err)
{
    const char *name = lh_http__param(req, "bucket");
    if (lh_storage_forget(lh_http__lake(req)->storage, name, err) != 0)
        return -1;
    LH_LOG_INFO("http", "forgot bucket '%s' (its data stays on disk)", name);
    return lh_http_reply_json(req, MHD_HTTP_OK, json_pack("{s:s}", "removed", name));
}

int lh_http__bucket_health(lh_http_req *req, lh_err *err)
{
    (void)err;
    lh_storage *st = lh_http__lake(req)->storage;
    json_t *arr = json_array();
    for (size_t i = 0;; i++) {
        lh_bucket *b = lh_storage_bucket_at(st, i);
        if (!b)
            break;
        double ms = 0;
        lh_err e = LH_ERR_INIT;
        bool ok = lh_bucket_probe(b, &ms, &e) == 0;
        json_t *o = json_pack("{s:s,s:b,s:f}", "name", lh_bucket_name(b), "healthy", ok,
                              "latency_ms", ms);
        if (!ok) {
            lh_storage_journal(st, lh_bucket_name(b), "probe", NULL, &e);
            json_object_set_new(o, "error", json_string(e.message));
        }
        json_array_append_new(arr, o);
    }
    return lh_http_reply_json(req, MHD_HTTP_OK, arr);
}

int lh_http__bucket_errors(lh_http_req *req, lh_err *err)
{
    int64_t limit;
    if (lh_http__query_int(req, "limit", ERRORS_DEFAULT, 1, ERRORS_MAX, &limit, err) != 0)
        return -1;
    json_t *arr = lh_storage_journal_tail(lh_http__lake(req)->storage, (size_t)limit, err);
    if (!arr)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, arr);
}
