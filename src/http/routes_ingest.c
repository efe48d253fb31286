/* POST /ingest/file: a file upload becomes a dataset. upload.c has already streamed the
 * body to a scratch file by the time this handler runs; here the dataset name, file name,
 * format and bucket (X-Lakehouse-Bucket header) are settled (query arguments win over form
 * fields) and ingest takes over the scratch file. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "http/http_int.h"
#include "ingest/ingest.h"

/* The first non-empty of a query argument and a form field, or NULL. */
static const char *pick(const char *arg, const char *field)
{
    if (arg && *arg)
        return arg;
    if (field && *field)
        return field;
    return NULL;
}

/* A refused upload's scratch file goes before the answer does, so no client can see it
 * linger; returns -1 for the caller to answer with err. */
static int drop_upload(lh_http_req *req, lh_http_upload *up)
{
    if (up->path && unlink(up->path) != 0 && errno != ENOENT)
        LH_LOG_WARN("http", "cannot remove upload scratch file req=%s", req->id);
    free(up->path);
    up->path = NULL;
    return -1;
}

int lh_http__ingest_file(lh_http_req *req, lh_err *err)
{
    lh_http_upload *up = req->stream;
    const char *name = pick(lh_http__query_arg(req, "name"), up->name);
    const char *file_name = pick(lh_http__query_arg(req, "filename"), up->filename);
    const char *format = pick(lh_http__query_arg(req, "format"), up->format);
    lh_schema_mode mode;
    if (!name && !file_name) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "no dataset name: give ?name=, a 'name' form field or a file name");
        return drop_upload(req, up);
    }
    if (lh_ingest_schema_mode_parse(lh_http__query_arg(req, "on_schema_change"), &mode, err) != 0)
        return drop_upload(req, up);
    /* Checked before ingesting, so an unknown bucket stores nothing (upload_begin refused it
     * already; this keeps the handler right on its own). The scratch file goes with the
     * request. */
    lh_bucket *bucket = lh_http__bucket(req, err);
    if (!bucket)
        return -1;
    const char *named = lh_http__header(req, LH_HTTP_HEADER_BUCKET);
    lh_ingest_req ir = {
        .path = up->path,
        .path_is_scratch = true,
        /* Without a file name, the dataset name is the best label for lineage. */
        .file_name = file_name ? file_name : name,
        .name = name,
        .format = format,
        .source = "upload",
        .actor = pick(lh_http__query_arg(req, "actor"), NULL),
        .on_schema_change = mode,
        /* Without the header an existing dataset is appended to wherever it lives. */
        .bucket = named && *named ? lh_bucket_name(bucket) : NULL,
    };
    json_t *doc = lh_ingest_file(lh_http__lake(req), &ir, err);
    /* Ingest consumed the scratch file (moved it on success, removed it on failure); make
     * sure of the failure case and keep upload_abort from touching the path again. */
    if (!doc && unlink(up->path) != 0 && errno != ENOENT)
        LH_LOG_WARN("http", "cannot remove upload scratch file req=%s", req->id);
    free(up->path);
    up->path = NULL;
    if (!doc)
        return -1;
    /* Content already in the lake is not stored again: nothing was created. */
    bool dup = json_is_true(json_object_get(doc, "duplicate"));
    return lh_http_reply_json(req, dup ? MHD_HTTP_OK : MHD_HTTP_CREATED, doc);
}
