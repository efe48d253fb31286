/* File ingest: a CSV/TSV file on local disk -> content check -> (copy into scratch, so the
 * sandboxed engine may read it) -> Parquet in scratch (query) -> one Delta commit (catalog).
 * Every scratch file this creates or is handed is gone when lh_ingest_file returns. */
#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

/* How much of the file is looked at to tell text from binary content. */
#define SNIFF_BYTES (64 * 1024)
/* Buffer of the stream copy into scratch: bounded whatever the file size. */
#define COPY_BUF_BYTES (256 * 1024)

json_t *lh_ingest__columns_json(const lh_column *cols, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "name", cols[i].name, "type",
                                             cols[i].type));
    return arr;
}

int lh_ingest__check_name(const char *name, lh_err *err)
{
    if (!lh_name_valid(name))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "invalid dataset name '%s': use a-z, 0-9 and _, starting with a "
                          "letter or _, at most %d characters",
                          name, LH_NAME_MAX);
    return 0;
}

void lh_ingest__unlink_scratch(const char *path)
{
    if (path && unlink(path) != 0 && errno != ENOENT)
        LH_LOG_WARN("ingest", "cannot remove scratch file '%s': %s", path, strerror(errno));
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* What binary content looks like, for the error message; NULL when it looks like text.
 * Text may be any 8-bit encoding, so only NUL bytes and a high share of control characters
 * count as binary. */
static const char *binary_kind(const unsigned char *p, size_t n)
{
    if (n >= 4 && memcmp(p, "PAR1", 4) == 0)
        return "Parquet";
    if (n >= 4 && memcmp(p, "%PDF", 4) == 0)
        return "PDF";
    if (n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0)
        return "a zip archive (xlsx, docx, zip)";
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return "gzip";
    if (n >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff)))
        return "UTF-16 text (save it as UTF-8)";
    size_t ctrl = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0)
            return "binary content";
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f') ||
            p[i] == 0x7f)
            ctrl++;
    }
    /* A few stray control characters occur in real exports; a tenth does not. */
    if (ctrl * 10 > n)
        return "binary content";
    return NULL;
}

/* The delimiter for the request: an explicit format wins, then the file extension, else
 * NULL to let the engine's sniffer decide. */
static int pick_delimiter(const lh_ingest_req *req, const char *file_name, const char **delim,
                          lh_err *err)
{
    *delim = NULL;
    if (req->format && *req->format) {
        if (strcmp(req->format, "csv") == 0) {
            *delim = ",";
            return 0;
        }
        if (strcmp(req->format, "tsv") == 0) {
            *delim = "\t";
            return 0;
        }
        return lh_err_set(err, LH_UNSUPPORTED_MEDIA,
                          "format '%s' is not supported: use csv or tsv", req->format);
    }
    const char *dot = strrchr(file_name, '.');
    if (dot && (strcasecmp(dot, ".tsv") == 0 || strcasecmp(dot, ".tab") == 0))
        *delim = "\t";
    return 0;
}

/* Reads up to cap bytes from fd into buf; the count, or -1. */
static ssize_t read_up_to(int fd, unsigned char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int lh_ingest__copy_to_scratch(int fd, const char *display, const unsigned char *head,
                               size_t head_len, const char *dst, uint64_t *bytes, lh_err *err)
{
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return lh_err_errno(err, errno, "cannot create scratch file for '%s'", display);
    int rc = -1;
    unsigned char *buf = lh_xmalloc(COPY_BUF_BYTES);
    uint64_t total = head_len;
    if (head_len > 0 && lh_write_full(out, head, head_len, err) != 0)
        goto out;
    for (;;) {
        ssize_t r = read(fd, buf, COPY_BUF_BYTES);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            lh_err_errno(err, errno, "cannot read '%s'", display);
            goto out;
        }
        if (r == 0)
            break;
        if (lh_write_full(out, buf, (size_t)r, err) != 0)
            goto out;
        total += (uint64_t)r;
    }
    *bytes = total;
    rc = 0;
out:
    free(buf);
    if (close(out) != 0 && rc == 0)
        rc = lh_err_errno(err, errno, "cannot write scratch file for '%s'", display);
    return rc;
}

/* Opens the input, rejects empty and binary files, and makes sure the engine has a scratch
 * copy to read: *engine_path is req->path for scratch input, else the new copy (*copy). */
static int prepare_input(lh_lake *lake, const lh_ingest_req *req, const char *file_name,
                         const char *delim, const char **engine_path, char **copy,
                         uint64_t *bytes, lh_err *err)
{
    int fd = open(req->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lh_err_set(err, errno == ENOENT ? LH_INVALID_ARGUMENT : LH_IO_ERROR,
                          "cannot open '%s': %s", file_name, strerror(errno));
    int rc = -1;
    unsigned char *head = lh_xmalloc(SNIFF_BYTES);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lh_err_errno(err, errno, "cannot stat '%s'", file_name);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is not a regular file", file_name);
        goto out;
    }
    if (st.st_size == 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is empty", file_name);
        goto out;
    }
    ssize_t n = read_up_to(fd, head, SNIFF_BYTES);
    if (n < 0) {
        lh_err_errno(err, errno, "cannot read '%s'", file_name);
        goto out;
    }
    if (n == 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is empty", file_name);
        goto out;
    }
    const char *kind = binary_kind(head, (size_t)n);
    if (kind) {
        lh_err_set(err, LH_UNSUPPORTED_MEDIA,
                   "'%s' looks like %s: only CSV and TSV files can be ingested", file_name,
                   kind);
        goto out;
    }
    if (req->path_is_scratch) {
        *engine_path = req->path;
        *bytes = (uint64_t)st.st_size;
        rc = 0;
        goto out;
    }
    *copy = lh_storage_scratch_path(lake->storage,
                                    delim && delim[0] == '\t' ? ".tsv" : ".csv");
    if (lh_ingest__copy_to_scratch(fd, file_name, head, (size_t)n, *copy, bytes, err) != 0)
        goto out;
    *engine_path = *copy;
    rc = 0;
out:
    free(head);
    close(fd);
    return rc;
}

json_t *lh_ingest_file(lh_lake *lake, const lh_ingest_req *req, lh_err *err)
{
    if (!req->path || !*req->path) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "no file to ingest");
        return NULL;
    }
    double t0 = lh_mono_ms();
    json_t *result = NULL;
    char *copy = NULL, *parquet = NULL;
    lh_column *cols = NULL;
    size_t ncols = 0;
    const char *file_name = req->file_name && *req->file_name ? req->file_name
                                                              : base_name(req->path);
    char name[LH_NAME_MAX + 1];
    if (req->name && *req->name) {
        if (lh_ingest__check_name(req->name, err) != 0)
            goto out;
        snprintf(name, sizeof name, "%s", req->name);
    } else if (lh_name_from_filename(file_name, name, err) != 0) {
        goto out;
    }

    const char *delim = NULL;
    if (pick_delimiter(req, file_name, &delim, err) != 0)
        goto out;
    const char *engine_path = NULL;
    uint64_t bytes = 0;
    if (prepare_input(lake, req, file_name, delim, &engine_path, &copy, &bytes, err) != 0)
        goto out;

    parquet = lh_storage_scratch_path(lake->storage, ".parquet");
    lh_csv_opts opts = {.delimiter = delim, .header = -1};
    int64_t rows = 0;
    if (lh_engine_csv_to_parquet(lake->engine, engine_path, &opts, parquet, &cols, &ncols,
                                 &rows, err) != 0) {
        /* The engine's complaint about a malformed file is vague; say where it breaks. */
        lh_csv_ragged rag;
        lh_err scan_err = LH_ERR_INIT;
        if (err && err->code == LH_INVALID_ARGUMENT &&
            lh_ingest__csv_find_ragged(engine_path, delim, &rag, &scan_err) == 1)
            lh_err_set(err, LH_INVALID_ARGUMENT,
                       "line %lld has %lld field%s where the header has %lld (ragged rows)",
                       (long long)rag.line, (long long)rag.fields, rag.fields == 1 ? "" : "s",
                       (long long)rag.expected);
        lh_err_prefix(err, "ingest '%s': ", file_name);
        goto out;
    }
    lh_add_file add = {.src_path = parquet, .move = true, .src_key = NULL, .rows = rows};
    lh_commit_info info = {.operation = NULL,
                           .source = req->source && *req->source ? req->source : "upload",
                           .file_name = file_name,
                           .actor = req->actor};
    int64_t version = 0;
    if (lh_catalog_add_files(lake->catalog, name, cols, ncols, &add, 1, &info, &version,
                             err) != 0) {
        lh_err_prefix(err, "ingest '%s': ", file_name);
        goto out;
    }
    LH_LOG_INFO("ingest", "ingested dataset=%s version=%lld rows=%lld bytes=%llu", name,
                (long long)version, (long long)rows, (unsigned long long)bytes);
    result = json_pack("{s:s, s:b, s:I, s:I, s:I, s:o, s:f}", "dataset", name, "created",
                       version == 0, "version", (json_int_t)version, "rows", (json_int_t)rows,
                       "bytes", (json_int_t)bytes, "columns",
                       lh_ingest__columns_json(cols, ncols), "elapsed_ms",
                       lh_mono_ms() - t0);
    LH_ASSERT(result != NULL);
out:
    if (cols)
        lh_columns_free(cols, ncols);
    lh_ingest__unlink_scratch(parquet);
    lh_ingest__unlink_scratch(copy);
    if (req->path_is_scratch)
        lh_ingest__unlink_scratch(req->path);
    free(parquet);
    free(copy);
    return result;
}
