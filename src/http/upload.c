/* File uploads (the body of POST /ingest/file), streamed to a scratch file as they arrive:
 * multipart/form-data through MHD's post processor (part "file" is the data, small parts
 * "name" and "format" are kept), or a raw body whose media type names its format
 * (application/octet-stream: detected from the content). The whole body is bounded by the route's limit
 * (max_upload_bytes); on any failure the scratch file is closed and removed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http/http_int.h"

#define PP_BUFFER (64u << 10)

/* Is the media type of a Content-Type value (before any ';' parameters) equal to type? */
static bool media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0)
        return false;
    char c = ct[n];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

static int open_scratch(lh_http_req *req, lh_http_upload *up, lh_err *err)
{
    up->path = lh_storage_scratch_path(lh_http__lake(req)->storage, ".upload");
    up->fd = open(up->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (up->fd < 0) {
        int e = errno;
        free(up->path);
        up->path = NULL;
        return lh_err_errno(err, e, "cannot create an upload scratch file");
    }
    return 0;
}

/* Appends data to a small field buffer, restarting it at the start of a part. */
static int field_append(char *dst, const char *field, uint64_t off, const char *data,
                        size_t size, lh_err *err)
{
    size_t len = off == 0 ? 0 : strlen(dst);
    if (len + size >= LH_HTTP_FIELD_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "form field '%s' is longer than %d bytes",
                          field, LH_HTTP_FIELD_MAX - 1);
    if (memchr(data, '\0', size))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "form field '%s' contains a NUL byte", field);
    memcpy(dst + len, data, size);
    dst[len + size] = '\0';
    return 0;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    lh_http_req *req = cls;
    lh_http_upload *up = req->stream;
    lh_err *e = &up->err;
    int rc = 0;
    if (!key) {
        return MHD_YES;
    } else if (strcmp(key, "file") == 0) {
        if (off == 0 && up->file_bytes > 0) {
            rc = lh_err_set(e, LH_INVALID_ARGUMENT, "only one 'file' part per upload");
        } else {
            if (!up->have_file) {
                up->have_file = true;
                if (filename)
                    snprintf(up->filename, sizeof up->filename, "%s", filename);
                rc = open_scratch(req, up, e);
            }
            if (rc == 0 && size > 0) {
                rc = lh_write_full(up->fd, data, size, e);
                up->file_bytes += size;
            }
        }
    } else if (strcmp(key, "name") == 0) {
        rc = field_append(up->name, "name", off, data, size, e);
    } else if (strcmp(key, "format") == 0) {
        rc = field_append(up->format, "format", off, data, size, e);
    }
    /* Other fields are ignored: a form may carry more than we need. */
    if (rc != 0) {
        up->failed = true;
        return MHD_NO;
    }
    return MHD_YES;
}

static int upload_begin(lh_http_req *req, lh_err *err)
{
    /* An unknown bucket is refused before a byte of the body is stored. */
    if (!lh_http__bucket(req, err))
        return -1;
    const char *ct = lh_http__header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct)
        return lh_err_set(err, LH_UNSUPPORTED_MEDIA,
                          "upload has no Content-Type: send multipart/form-data, or a raw body "
                          "with its media type (application/octet-stream to detect it)");
    lh_http_upload *up = lh_xcalloc(1, sizeof *up);
    up->fd = -1;
    req->stream = up;
    if (media_is(ct, "multipart/form-data")) {
        up->pp = MHD_create_post_processor(req->conn, PP_BUFFER, on_part, req);
        if (!up->pp)
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "cannot read the multipart body: bad Content-Type (no boundary?)");
        return 0;
    }
    /* A raw body's media type names its format; octet-stream leaves it to detection. */
    static const struct {
        const char *media, *format;
    } raw_types[] = {
        {"text/csv", "csv"},          {"text/tab-separated-values", "tsv"},
        {"application/json", "json"}, {"application/x-ndjson", "ndjson"},
        {"application/jsonl", "ndjson"}, {"application/pdf", "pdf"},
        {"text/plain", "text"},       {"application/zip", "zip"},
        {"application/x-tar", "tar"}, {"application/gzip", "tar"},
        {"application/x-gzip", "tar"}, {"application/vnd.apache.parquet", "parquet"},
        {"application/octet-stream", ""},
    };
    size_t t = 0;
    while (t < LH_ARRAY_LEN(raw_types) && !media_is(ct, raw_types[t].media))
        t++;
    if (t == LH_ARRAY_LEN(raw_types))
        return lh_err_set(err, LH_UNSUPPORTED_MEDIA, "cannot ingest a body of type '%.100s'", ct);
    snprintf(up->format, sizeof up->format, "%s", raw_types[t].format);
    const char *name = lh_http__query_arg(req, "name");
    const char *filename = lh_http__query_arg(req, "filename");
    if ((!name || !*name) && (!filename || !*filename))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "a raw upload needs ?name= (the dataset) or ?filename=");
    up->raw = true;
    up->have_file = true;
    return open_scratch(req, up, err);
}

static int upload_write(lh_http_req *req, const char *data, size_t n, lh_err *err)
{
    lh_http_upload *up = req->stream;
    if (up->raw) {
        up->file_bytes += n;
        return lh_write_full(up->fd, data, n, err);
    }
    if (MHD_post_process(up->pp, data, n) != MHD_YES) {
        if (up->failed) {
            *err = up->err;
            return -1;
        }
        return lh_err_set(err, LH_INVALID_ARGUMENT, "malformed multipart body");
    }
    return 0;
}

static int upload_finish(lh_http_req *req, lh_err *err)
{
    lh_http_upload *up = req->stream;
    if (up->pp) {
        enum MHD_Result r = MHD_destroy_post_processor(up->pp);
        up->pp = NULL;
        if (up->failed) {
            *err = up->err;
            return -1;
        }
        if (r != MHD_YES)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "malformed multipart body: it ends early");
    }
    if (!up->have_file || up->fd < 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "no 'file' part in the multipart body");
    int fd = up->fd;
    up->fd = -1;
    if (close(fd) != 0)
        return lh_err_errno(err, errno, "cannot finish the upload scratch file");
    return 0;
}

static void upload_abort(lh_http_req *req)
{
    lh_http_upload *up = req->stream;
    if (!up)
        return;
    if (up->pp)
        (void)MHD_destroy_post_processor(up->pp); /* the body is being dropped anyway */
    if (up->fd >= 0)
        close(up->fd);
    if (up->path) {
        if (unlink(up->path) != 0 && errno != ENOENT)
            LH_LOG_WARN("http", "cannot remove upload scratch file: %s req=%s", strerror(errno),
                        req->id);
        free(up->path);
    }
    free(up);
    req->stream = NULL;
}

const lh_http_stream_ops lh_http__upload_ops = {
    .begin = upload_begin,
    .write = upload_write,
    .finish = upload_finish,
    .abort = upload_abort,
};
