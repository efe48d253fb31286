/* POST /ingest/file: a file upload becomes a dataset. upload.c has already streamed the
 * body to a scratch file by the time this handler runs; here the dataset name, file name
 * and format are settled (query arguments win over form fields) and ingest takes over the
 * scratch file. */
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

int lh_http__ingest_file(lh_http_req *req, lh_err *err)
{
    lh_http_upload *up = req->stream;
    const char *name = pick(lh_http__query_arg(req, "name"), up->name);
    const char *file_name = pick(lh_http__query_arg(req, "filename"), up->filename);
    const char *format = pick(lh_http__query_arg(req, "format"), up->format);
    if (!name && !file_name)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "no dataset name: give ?name=, a 'name' form field or a file name");
    lh_schema_mode mode;
    if (lh_ingest_schema_mode_parse(lh_http__query_arg(req, "on_schema_change"), &mode, err) != 0)
        return -1;
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
