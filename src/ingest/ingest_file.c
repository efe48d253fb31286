/* File ingest, the pipeline: open and detect the format -> make it readable by the sandboxed
 * engine (a hard link or a copy into scratch) -> convert to Parquet parts (convert.c) while a
 * thread hashes the content -> stop if that content is already in the lake -> PII scan ->
 * schema check against the dataset -> one Delta commit with the lineage (catalog).
 * Every scratch file this creates or is handed is gone when lh_ingest_file returns. */
#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

#define HEAD_BYTES (64 * 1024)
#define HASH_BUF_BYTES (1024 * 1024)
#define PII_SAMPLE 200

/* One ingest's state, released along one path at the end. */
typedef struct run {
    lh_lake *lake;
    const lh_ingest_req *req;
    const char *file_name;
    char name[LH_NAME_MAX + 1];
    char job_id[37];
    char sha[65];
    pthread_t hasher;       /* hashes the input while the engine converts it */
    bool hashing;
    int hash_fd;
    int hash_rc;
    lh_err hash_err;
    lh_format format;
    char *engine_copy;      /* our link or copy of a non-scratch input, or NULL */
    const char *engine_path;
    uint64_t bytes;
    lh_ingest_parts parts;
    lh_column *cols;        /* the schema of all parts together */
    size_t ncols;
    json_t *pii;            /* {col: kind} */
    json_t *diff;           /* the schema diff against the dataset, or NULL */
} run;

static void progress(const run *r, const char *phase, uint64_t done, int64_t rows)
{
    if (!r->req->progress)
        return;
    lh_ingest_progress p = {.phase = phase, .bytes_done = done, .bytes_total = r->bytes,
                            .rows = rows};
    r->req->progress(r->req->progress_ctx, &p);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The hasher thread: SHA-256 of the input from the start, through its own fd. It runs
 * beside the conversion (a separate pass cost ~0.6 s per GB); the content is known to be a
 * duplicate only once both are done, which wastes a conversion only for duplicates. */
static void *hash_main(void *arg)
{
    run *r = arg;
    prctl(PR_SET_NAME, "lh-hash", 0, 0, 0);
    lh_sha256 *h = lh_sha256_new();
    unsigned char *buf = lh_xmalloc(HASH_BUF_BYTES);
    uint64_t done = 0;
    r->hash_rc = 0;
    for (;;) {
        ssize_t n = pread(r->hash_fd, buf, HASH_BUF_BYTES, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r->hash_rc = lh_err_errno(&r->hash_err, errno, "cannot read the file");
            break;
        }
        if (n == 0)
            break;
        lh_sha256_update(h, buf, (size_t)n);
        done += (uint64_t)n;
    }
    free(buf);
    if (r->hash_rc == 0)
        lh_sha256_final_hex(h, r->sha);
    else
        lh_sha256_free(h);
    return NULL;
}

static int hash_start(run *r, int fd, lh_err *err)
{
    r->hash_fd = dup(fd);
    if (r->hash_fd < 0)
        return lh_err_errno(err, errno, "cannot read the file");
    int e = pthread_create(&r->hasher, NULL, hash_main, r);
    if (e != 0) {
        close(r->hash_fd);
        return lh_err_errno(err, e, "cannot start hashing");
    }
    r->hashing = true;
    return 0;
}

/* Waits for the hasher (a no-op when none runs); its error, if any, becomes err. */
static int hash_join(run *r, lh_err *err)
{
    if (!r->hashing)
        return 0;
    pthread_join(r->hasher, NULL);
    close(r->hash_fd);
    r->hashing = false;
    if (r->hash_rc != 0 && err)
        *err = r->hash_err;
    return r->hash_rc;
}

/* Opens the input, refuses empty files, detects the format, hashes the content and makes
 * sure the engine can read it: scratch input as it is, other files through a hard link
 * into scratch (free on one filesystem) or a copy. */
static int prepare(run *r, lh_err *err)
{
    const lh_ingest_req *req = r->req;
    int fd = open(req->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lh_err_set(err, errno == ENOENT ? LH_INVALID_ARGUMENT : LH_IO_ERROR,
                          "cannot open the file: %s", strerror(errno));
    int rc = -1;
    unsigned char *head = lh_xmalloc(HEAD_BYTES);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lh_err_errno(err, errno, "cannot stat '%s'", r->file_name);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "not a regular file");
        goto out;
    }
    r->bytes = (uint64_t)st.st_size;
    ssize_t n = pread(fd, head, HEAD_BYTES, 0);
    if (n < 0) {
        lh_err_errno(err, errno, "cannot read '%s'", r->file_name);
        goto out;
    }
    if (n == 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "the file is empty");
        goto out;
    }
    if (req->format && *req->format) {
        if (lh_ingest__format_parse(req->format, &r->format, err) != 0)
            goto out;
    } else if (lh_ingest__detect(head, (size_t)n, r->file_name, &r->format, err) != 0) {
        goto out;
    }
    if (hash_start(r, fd, err) != 0)
        goto out;
    if (req->path_is_scratch) {
        r->engine_path = req->path;
    } else {
        r->engine_copy = lh_storage_scratch_path(r->lake->storage, "");
        if (link(req->path, r->engine_copy) != 0) {
            uint64_t copied = 0;
            if (lh_ingest__copy_to_scratch(fd, r->file_name, NULL, 0, r->engine_copy, &copied,
                                           err) != 0)
                goto out;
        }
        r->engine_path = r->engine_copy;
    }
    rc = 0;
out:
    free(head);
    close(fd);
    return rc;
}

/* "added c (BIGINT); removed d; b: BIGINT -> VARCHAR; e renamed to f" */
static void diff_text(const json_t *diff, lh_buf *b)
{
    size_t i;
    json_t *v;
    const char *sep = "";
    json_array_foreach(json_object_get(diff, "added"), i, v) {
        lh_buf_printf(b, "%sadded %s (%s)", sep, json_string_value(json_object_get(v, "name")),
                      json_string_value(json_object_get(v, "type")));
        sep = "; ";
    }
    json_array_foreach(json_object_get(diff, "removed"), i, v) {
        lh_buf_printf(b, "%sremoved %s", sep, json_string_value(json_object_get(v, "name")));
        sep = "; ";
    }
    json_array_foreach(json_object_get(diff, "type_changed"), i, v) {
        lh_buf_printf(b, "%s%s: %s -> %s", sep, json_string_value(json_object_get(v, "name")),
                      json_string_value(json_object_get(v, "from")),
                      json_string_value(json_object_get(v, "to")));
        sep = "; ";
    }
    json_array_foreach(json_object_get(diff, "renamed"), i, v) {
        lh_buf_printf(b, "%s%s likely renamed to %s", sep,
                      json_string_value(json_object_get(v, "from")),
                      json_string_value(json_object_get(v, "to")));
        sep = "; ";
    }
}

static int schema_conflict(const json_t *diff, const char *what, const char *hint, lh_err *err)
{
    lh_buf b;
    lh_buf_init(&b);
    diff_text(diff, &b);
    lh_err_set(err, LH_CONFLICT, "%s: %s%s", what, b.data ? b.data : "columns differ", hint);
    lh_buf_release(&b);
    return -1;
}

/* The schema of all parts together. Parts of one archive must agree, unless columns may be
 * added; a type clash is never allowed. */
static int union_schema(run *r, lh_err *err)
{
    lh_ingest_part *first = &r->parts.items[0];
    r->cols = lh_columns_dup(first->cols, first->ncols);
    r->ncols = first->ncols;
    for (size_t p = 1; p < r->parts.n; p++) {
        lh_ingest_part *part = &r->parts.items[p];
        json_t *d = lh_schema_diff(r->cols, r->ncols, part->cols, part->ncols);
        if (!d)
            continue;
        bool clash = json_array_size(json_object_get(d, "type_changed")) > 0;
        if (clash || r->req->on_schema_change != LH_SCHEMA_ADD_COLUMNS) {
            char what[256];
            snprintf(what, sizeof what, "member '%s' differs from '%s'",
                     part->member ? part->member : "?", first->member ? first->member : "?");
            schema_conflict(d, what,
                            clash ? "" : " (set on_schema_change to add_columns to union them)",
                            err);
            json_decref(d);
            return -1;
        }
        json_decref(d);
        for (size_t i = 0; i < part->ncols; i++) {
            bool have = false;
            for (size_t j = 0; j < r->ncols && !have; j++)
                have = strcmp(r->cols[j].name, part->cols[i].name) == 0;
            if (!have) {
                r->cols = lh_xrealloc(r->cols, (r->ncols + 1) * sizeof *r->cols);
                r->cols[r->ncols++] = (lh_column){.name = lh_xstrdup(part->cols[i].name),
                                                  .type = lh_xstrdup(part->cols[i].type)};
            }
        }
    }
    return 0;
}

/* Flags PII columns from a sample of the largest part's values. A failed sample only costs
 * the scan (logged), never the ingest. */
static void scan_pii(run *r)
{
    r->pii = json_object();
    lh_ingest_part *big = &r->parts.items[0];
    for (size_t p = 1; p < r->parts.n; p++)
        if (r->parts.items[p].rows > big->rows)
            big = &r->parts.items[p];
    lh_err err = LH_ERR_INIT;
    json_t *samples = lh_engine_sample_values(r->lake->engine, big->parquet, PII_SAMPLE, &err);
    if (!samples) {
        LH_LOG_WARN("ingest", "pii scan skipped dataset=%s error=\"%s\"", r->name, err.message);
        return;
    }
    for (size_t i = 0; i < r->ncols; i++) {
        /* A yes/no flag holds no PII, whatever its name says ("mobile", "email"). */
        if (strcmp(r->cols[i].type, "BOOLEAN") == 0)
            continue;
        json_t *vals = json_object_get(samples, r->cols[i].name);
        size_t n = json_array_size(vals);
        const char **v = lh_xcalloc(n ? n : 1, sizeof *v);
        for (size_t k = 0; k < n; k++)
            v[k] = json_string_value(json_array_get(vals, k));
        const char *kind = lh_ingest__pii_classify(r->cols[i].name, v, n);
        free(v);
        if (kind) {
            r->cols[i].pii = lh_xstrdup(kind);
            r->cols[i].sensitive = true;
            json_object_set_new(r->pii, r->cols[i].name, json_string(kind));
        }
    }
    json_decref(samples);
}

/* Compares with the dataset's schema, if it exists; refuses what the mode does not allow. */
static int check_schema(run *r, lh_err *err)
{
    lh_catalog_snap *snap = lh_catalog_snapshot(r->lake->catalog);
    const lh_dataset *d = lh_catalog_snap_find(snap, r->name);
    int rc = 0;
    if (d)
        r->diff = lh_schema_diff(d->columns, d->ncolumns, r->cols, r->ncols);
    if (r->diff) {
        bool clash = json_array_size(json_object_get(r->diff, "type_changed")) > 0;
        char what[160];
        snprintf(what, sizeof what, "dataset '%s' has a different schema", r->name);
        if (clash)
            rc = schema_conflict(r->diff, what, " (a column cannot change its type)", err);
        else if (r->req->on_schema_change != LH_SCHEMA_ADD_COLUMNS)
            rc = schema_conflict(r->diff, what,
                                 " (set on_schema_change to add_columns to add the new "
                                 "columns)",
                                 err);
    }
    lh_catalog_snap_unref(snap);
    return rc;
}

static json_t *files_json(const run *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->parts.n; i++) {
        const lh_ingest_part *p = &r->parts.items[i];
        json_t *f = json_pack("{s:s, s:I}", "format", lh_ingest__format_name(p->format), "rows",
                              (json_int_t)p->rows);
        if (p->member)
            json_object_set_new(f, "member", json_string(p->member));
        if (p->format == LH_FORMAT_PDF)
            json_object_set_new(f, "ocr_pages", json_integer(p->ocr_pages));
        json_array_append_new(arr, f);
    }
    return arr;
}

static json_t *commit(run *r, double t0, lh_err *err)
{
    progress(r, "committing", r->bytes, 0);
    lh_add_file *adds = lh_xcalloc(r->parts.n, sizeof *adds);
    int64_t rows = 0;
    for (size_t i = 0; i < r->parts.n; i++) {
        adds[i] = (lh_add_file){.src_path = r->parts.items[i].parquet, .move = true,
                                .rows = r->parts.items[i].rows};
        rows += r->parts.items[i].rows;
    }
    const lh_ingest_req *req = r->req;
    lh_commit_info info = {.source = req->source && *req->source ? req->source : "upload",
                           .file_name = r->file_name,
                           .actor = req->actor,
                           .content_hash = r->sha,
                           .job_id = r->job_id,
                           .schema_mode = req->on_schema_change,
                           .bucket = req->bucket};
    int64_t version = 0;
    int rc = lh_catalog_add_files(r->lake->catalog, r->name, r->cols, r->ncols, adds,
                                  r->parts.n, &info, &version, err);
    free(adds);
    if (rc != 0)
        return NULL;
    LH_LOG_INFO("ingest", "ingested dataset=%s version=%lld format=%s rows=%lld bytes=%llu job=%s",
                r->name, (long long)version, lh_ingest__format_name(r->format),
                (long long)rows, (unsigned long long)r->bytes, r->job_id);
    json_t *res = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:s, s:s, s:s}", "dataset", r->name,
                            "created", version == 0, "duplicate", 0, "version",
                            (json_int_t)version, "rows", (json_int_t)rows, "bytes",
                            (json_int_t)r->bytes, "format", lh_ingest__format_name(r->format),
                            "content_hash", r->sha, "job_id", r->job_id);
    json_object_set_new(res, "columns", lh_ingest__columns_json(r->cols, r->ncols));
    json_object_set(res, "pii", r->pii);
    json_object_set_new(res, "files", files_json(r));
    json_object_set(res, "schema_diff", r->diff ? r->diff : json_null());
    json_object_set_new(res, "elapsed_ms", json_real(lh_mono_ms() - t0));
    progress(r, "done", r->bytes, rows);
    return res;
}

/* The answer for content that is already in the lake: where it lives, at which version. */
static json_t *duplicate(const run *r, const lh_dataset *where, double t0)
{
    LH_LOG_INFO("ingest", "duplicate content dataset=%s sha256=%s", where->name, r->sha);
    return json_pack("{s:s, s:b, s:b, s:I, s:s, s:s, s:I, s:I, s:f}", "dataset", where->name,
                     "created", 0, "duplicate", 1, "version", (json_int_t)where->version,
                     "content_hash", r->sha, "format", lh_ingest__format_name(r->format),
                     "rows", (json_int_t)0, "bytes", (json_int_t)r->bytes, "elapsed_ms",
                     lh_mono_ms() - t0);
}

json_t *lh_ingest_file(lh_lake *lake, const lh_ingest_req *req, lh_err *err)
{
    if (!req->path || !*req->path) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "no file to ingest");
        return NULL;
    }
    double t0 = lh_mono_ms();
    json_t *result = NULL;
    run r = {.lake = lake, .req = req};
    r.file_name = req->file_name && *req->file_name ? req->file_name : base_name(req->path);
    lh_uuid4(r.job_id);
    if (req->name && *req->name) {
        if (lh_ingest__check_name(req->name, err) != 0)
            goto out;
        snprintf(r.name, sizeof r.name, "%s", req->name);
    } else if (lh_name_from_filename(r.file_name, r.name, err) != 0) {
        goto out;
    }
    if (prepare(&r, err) != 0)
        goto fail;
    progress(&r, "converting", r.bytes, 0);
    int conv = lh_ingest__convert(lake, r.engine_path, r.file_name, r.format, &r.parts, err);
    if (hash_join(&r, conv == 0 ? err : NULL) != 0 || conv != 0)
        goto fail;

    lh_catalog_snap *snap = lh_catalog_snapshot(lake->catalog);
    const char *where = lh_catalog_snap_find_content(snap, r.sha);
    const lh_dataset *holder = where ? lh_catalog_snap_find(snap, where) : NULL;
    if (holder)
        result = duplicate(&r, holder, t0);
    lh_catalog_snap_unref(snap);
    if (result)
        goto out;
    if (union_schema(&r, err) != 0)
        goto fail;
    scan_pii(&r);
    if (check_schema(&r, err) != 0)
        goto fail;
    result = commit(&r, t0, err);
    if (!result)
        goto fail;
    goto out;
fail:
    lh_err_prefix(err, "ingest '%s': ", r.file_name);
out:
    (void)hash_join(&r, NULL); /* after a failure elsewhere: only its thread matters */
    lh_ingest__parts_release(&r.parts);
    if (r.cols)
        lh_columns_free(r.cols, r.ncols);
    json_decref(r.pii);
    json_decref(r.diff);
    lh_ingest__unlink_scratch(r.engine_copy);
    free(r.engine_copy);
    if (req->path_is_scratch)
        lh_ingest__unlink_scratch(req->path);
    return result;
}
