/* /storage/objects and /storage/buckets/{bucket}/objects: the object store over HTTP. PUT streams the body into an atomic
 * storage put chunk by chunk (the body is never held in memory), GET streams the object
 * back from its file descriptor, DELETE removes it, and GET without a key lists keys.
 * Keys are the URL-decoded rest of the path, validated by storage. The X-Lakehouse-Bucket
 * header (or the {bucket} of the path) picks the bucket (primary without either). Writes to a
 * data bucket are copied to the rescue bucket; reads that fail fall back to that copy. */
#include <string.h>
#include <unistd.h>

#include "http/http_int.h"

#define LIST_DEFAULT 1000
#define LIST_MAX 100000

/* The {key...} of the path, validated; NULL with err filled when it is not a usable key. */
static const char *object_key(lh_http_req *req, lh_err *err)
{
    const char *key = lh_http__param(req, "key");
    if (!key) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "missing object key");
        return NULL;
    }
    if (lh_storage_key_check(key, strlen(key), err) != 0)
        return NULL;
    return key;
}

/* Like object_key, for a write or delete: keys the catalog manages are read-only here. */
static const char *writable_key(lh_http_req *req, lh_err *err)
{
    const char *key = object_key(req, err);
    if (key && lh_catalog_owns_key(key)) {
        lh_err_set(err, LH_FORBIDDEN,
                   "object '%s' is managed by the catalog: change datasets through "
                   "/ingest/file or /catalog/datasets",
                   key);
        return NULL;
    }
    return key;
}

lh_bucket *lh_http__bucket(lh_http_req *req, lh_err *err)
{
    lh_storage *st = lh_http__lake(req)->storage;
    const char *named = lh_http__param(req, "bucket");
    if (named) /* /storage/buckets/{bucket}/objects/...: an unknown bucket is not_found */
        return lh_storage_bucket(st, named, err);
    return lh_storage_bucket_pick(st, lh_http__header(req, LH_HTTP_HEADER_BUCKET), err);
}

/* The bucket of a write: unknown or unreachable is unavailable (503), since the client cannot fix
 * it by changing the request body; the failure is journaled. */
static lh_bucket *write_bucket(lh_http_req *req, const char *key, lh_err *err)
{
    lh_storage *st = lh_http__lake(req)->storage;
    lh_bucket *b = lh_http__bucket(req, err);
    if (!b) {
        if (lh_http__param(req, "bucket"))
            err->code = LH_UNAVAILABLE;
        return NULL;
    }
    if (lh_bucket_check_reachable(b, err) != 0) {
        lh_storage_journal(st, lh_bucket_name(b), "write", key, err);
        return NULL;
    }
    return b;
}

/* ---- PUT: the body streams into an lh_put --------------------------------------------- */

static int object_begin(lh_http_req *req, lh_err *err)
{
    const char *key = writable_key(req, err);
    if (!key)
        return -1;
    lh_bucket *b = write_bucket(req, key, err);
    if (!b)
        return -1;
    lh_put *p = lh_bucket_put_begin(b, key, err);
    if (!p) {
        if (err->code == LH_IO_ERROR)
            lh_storage_journal(lh_http__lake(req)->storage, lh_bucket_name(b), "write", key, err);
        return -1;
    }
    req->stream = p;
    return 0;
}

static int object_write(lh_http_req *req, const char *data, size_t n, lh_err *err)
{
    return lh_put_write(req->stream, data, n, err);
}

static void object_abort(lh_http_req *req)
{
    lh_put_abort(req->stream); /* NULL-safe; drops the temp file */
    req->stream = NULL;
}

const lh_http_stream_ops lh_http__object_ops = {
    .begin = object_begin,
    .write = object_write,
    .finish = NULL,
    .abort = object_abort,
};

int lh_http__put_object(lh_http_req *req, lh_err *err)
{
    lh_put *p = req->stream;
    req->stream = NULL; /* commit frees p whatever the outcome */
    uint64_t size = lh_put_size(p);
    const char *key = lh_http__param(req, "key");
    lh_bucket *b = lh_http__bucket(req, err);
    if (!b) {
        lh_put_abort(p);
        return -1;
    }
    if (lh_put_commit(p, err) != 0) {
        if (err->code == LH_IO_ERROR)
            lh_storage_journal(lh_http__lake(req)->storage, lh_bucket_name(b), "write", key, err);
        return -1;
    }
    /* The object is durable in its bucket; a failed rescue copy is journaled and reported,
     * not an error of the put. */
    bool rescued = false;
    lh_err rerr = LH_ERR_INIT;
    (void)lh_bucket_rescue_copy(b, key, &rescued, &rerr);
    json_t *doc = json_object();
    json_object_set_new(doc, "key", json_string(key));
    json_object_set_new(doc, "size", json_integer((json_int_t)size));
    /* The bucket route always says where the object went and whether it was copied; the
     * header route keeps its {key, size} answer unless there is a rescue bucket to report. */
    if (lh_http__param(req, "bucket"))
        json_object_set_new(doc, "bucket", json_string(lh_bucket_name(b)));
    if (lh_http__param(req, "bucket") || lh_storage_rescue(lh_http__lake(req)->storage))
        json_object_set_new(doc, "rescued", json_boolean(rescued));
    return lh_http_reply_json(req, MHD_HTTP_CREATED, doc);
}

/* ---- GET, DELETE, list ------------------------------------------------------------------ */

int lh_http__get_object(lh_http_req *req, lh_err *err)
{
    const char *key = object_key(req, err);
    lh_bucket *b = key ? lh_http__bucket(req, err) : NULL;
    if (!b)
        return -1;
    uint64_t size = 0;
    bool rescue_used = false;
    int fd = lh_bucket_open_read_rescue(b, key, &size, &rescue_used, err);
    if (fd < 0)
        return -1;
    struct MHD_Response *resp;
    if (size == 0) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        /* MHD owns fd from here and sends it with sendfile where it can. */
        resp = MHD_create_response_from_fd64(size, fd);
        if (!resp)
            close(fd);
    }
    if (!resp)
        return lh_err_set(err, LH_INTERNAL, "cannot create a response for '%s'", key);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    if (rescue_used)
        (void)MHD_add_response_header(resp, LH_HTTP_HEADER_RESCUE_USED, "true");
    return lh_http__queue(req, MHD_HTTP_OK, resp, size);
}

int lh_http__delete_object(lh_http_req *req, lh_err *err)
{
    const char *key = writable_key(req, err);
    lh_bucket *b = key ? lh_http__bucket(req, err) : NULL;
    if (!b)
        return -1;
    lh_err rerr = LH_ERR_INIT;
    /* The copy goes first: an object whose copy outlived it would come back on a read. */
    if (lh_bucket_rescue_delete(b, key, &rerr) != 0)
        return (*err = rerr, -1);
    if (lh_bucket_delete(b, key, err) != 0) {
        if (err->code == LH_IO_ERROR)
            lh_storage_journal(lh_http__lake(req)->storage, lh_bucket_name(b), "delete", key, err);
        return -1;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "deleted", json_string(key));
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}

int lh_http__list_objects(lh_http_req *req, lh_err *err)
{
    const char *prefix = lh_http__query_arg(req, "prefix");
    if (!prefix)
        prefix = "";
    if (strlen(prefix) > LH_KEY_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "query parameter 'prefix' is longer than %d bytes", LH_KEY_MAX);
    int64_t limit;
    if (lh_http__query_int(req, "limit", LIST_DEFAULT, 1, LIST_MAX, &limit, err) != 0)
        return -1;
    lh_bucket *b = lh_http__bucket(req, err);
    if (!b)
        return -1;
    lh_object_info *infos = NULL;
    size_t n = 0;
    bool truncated = false;
    if (lh_bucket_list(b, prefix, (size_t)limit, &infos, &n, &truncated, err) != 0)
        return -1;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char when[32];
        lh_time_iso8601(infos[i].mtime_ms, when);
        json_t *o = json_object();
        json_object_set_new(o, "key", json_string(infos[i].key));
        json_object_set_new(o, "size", json_integer((json_int_t)infos[i].size));
        json_object_set_new(o, "modified_at", json_string(when));
        json_array_append_new(arr, o);
    }
    lh_object_infos_free(infos, n);
    json_t *doc = json_object();
    json_object_set_new(doc, "objects", arr);
    json_object_set_new(doc, "truncated", json_boolean(truncated));
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}
