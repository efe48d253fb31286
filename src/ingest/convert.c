/* Conversion: one input file (a scratch file the engine may read) of a known format becomes
 * Parquet parts in scratch. Text encodings are examined where needed (Latin-1 is converted,
 * other invalid UTF-8 refused with its byte offset); the engine's vague complaints
 * about broken CSV or JSON are replaced by our own diagnosis of where the file breaks.
 * Readers of PDF and text write NDJSON of a fixed schema that the engine converts. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

#define HEAD_BYTES (64 * 1024)

static lh_ingest_part *new_part(lh_ingest_parts *parts, lh_lake *lake, lh_format fmt,
                                const char *member)
{
    parts->items = lh_xrealloc(parts->items, (parts->n + 1) * sizeof *parts->items);
    lh_ingest_part *p = &parts->items[parts->n++];
    *p = (lh_ingest_part){.parquet = lh_storage_scratch_path(lake->storage, ".parquet"),
                          .member = member ? lh_xstrdup(member) : NULL,
                          .format = fmt};
    return p;
}

static void release_from(lh_ingest_parts *parts, size_t from)
{
    for (size_t i = from; i < parts->n; i++) {
        lh_ingest__unlink_scratch(parts->items[i].parquet);
        free(parts->items[i].parquet);
        free(parts->items[i].member);
        if (parts->items[i].cols)
            lh_columns_free(parts->items[i].cols, parts->items[i].ncols);
    }
    parts->n = from;
}

void lh_ingest__parts_release(lh_ingest_parts *parts)
{
    release_from(parts, 0);
    free(parts->items);
    parts->items = NULL;
}

/* Makes sure a text file is UTF-8: *utf8_path is path itself, or a converted copy (*copy,
 * owned) when the file is Latin-1. Other invalid UTF-8 is refused with its byte offset. */
static int ensure_utf8(lh_lake *lake, const char *path, bool latin1_ok, const char **utf8_path,
                       char **copy, lh_err *err)
{
    lh_text_encoding enc;
    if (lh_ingest__sniff_encoding(path, &enc, err) != 0)
        return -1;
    *utf8_path = path;
    if (enc.valid_utf8)
        return 0;
    if (!enc.latin1 || !latin1_ok)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "invalid UTF-8 at byte %llu: save the file as UTF-8",
                          (unsigned long long)enc.bad_offset);
    *copy = lh_storage_scratch_path(lake->storage, ".txt");
    if (lh_ingest__latin1_to_utf8(path, *copy, err) != 0)
        return -1;
    *utf8_path = *copy;
    return 0;
}

/* The engine reads CSV and refuses invalid UTF-8 itself, so the encoding is only examined
 * when it fails (an extra pass over every file cost ~1 s/GB): Latin-1 is converted and read
 * again, other invalid UTF-8 is reported with its offset, and a ragged row with its line. */
static int convert_csv(lh_lake *lake, const char *path, lh_format fmt, lh_ingest_part *p,
                       lh_err *err)
{
    const char *delim = fmt == LH_FORMAT_TSV ? "\t" : NULL;
    lh_csv_opts opts = {.delimiter = delim, .header = -1};
    int rc = lh_engine_csv_to_parquet(lake->engine, path, &opts, p->parquet, &p->cols,
                                      &p->ncols, &p->rows, err);
    if (rc == 0 && p->ncols == 1 && strpbrk(p->cols[0].name, ",;\t|")) {
        /* One column whose name holds delimiters: the sniffer found no dialect that splits
         * every row the same way and fell back to whole lines. That is a broken file, not a
         * one-column table: diagnose it below instead of storing lines as values. */
        lh_columns_free(p->cols, p->ncols);
        p->cols = NULL;
        p->ncols = 0;
        p->rows = 0;
        lh_ingest__unlink_scratch(p->parquet);
        rc = lh_err_set(err, LH_INVALID_ARGUMENT,
                        "cannot split the rows into columns: no delimiter fits every row "
                        "(give ?format=csv or tsv)");
    }
    if (rc == 0 || !err || err->code != LH_INVALID_ARGUMENT)
        return rc;
    lh_err first = *err;
    const char *src = NULL;
    char *copy = NULL;
    if (ensure_utf8(lake, path, true, &src, &copy, err) != 0)
        return -1;
    if (copy) {
        rc = lh_engine_csv_to_parquet(lake->engine, src, &opts, p->parquet, &p->cols, &p->ncols,
                                      &p->rows, err);
    } else {
        *err = first;
        /* The engine's complaint about a malformed file is vague; say where it breaks. */
        lh_csv_ragged rag;
        lh_err scan_err = LH_ERR_INIT;
        if (lh_ingest__csv_find_ragged(src, delim, &rag, &scan_err) == 1)
            lh_err_set(err, LH_INVALID_ARGUMENT,
                       "line %lld has %lld field%s where the header has %lld (ragged rows)",
                       (long long)rag.line, (long long)rag.fields, rag.fields == 1 ? "" : "s",
                       (long long)rag.expected);
    }
    lh_ingest__unlink_scratch(copy);
    free(copy);
    return rc;
}

/* JSON is UTF-8 by definition (RFC 8259) and the engine refuses anything else, so there is
 * no encoding pass; on failure the fault finder names the broken byte (invalid UTF-8
 * included). */
static int convert_json(lh_lake *lake, const char *path, const char *file_name,
                        lh_format fmt, lh_ingest_part *p, lh_err *err)
{
    lh_json_opts opts = {.layout = fmt == LH_FORMAT_NDJSON ? LH_JSON_NDJSON : LH_JSON_AUTO,
                         .flatten = true};
    int rc = lh_engine_json_to_parquet(lake->engine, path, &opts, p->parquet, &p->cols,
                                       &p->ncols, &p->rows, err);
    if (rc != 0 && err && err->code == LH_INVALID_ARGUMENT) {
        lh_json_fault fault;
        lh_err scan_err = LH_ERR_INIT;
        /* NDJSON by request or by name: then a record ends with its line. */
        bool ndjson = fmt == LH_FORMAT_NDJSON || lh_str_has_suffix(file_name, ".ndjson") ||
                      lh_str_has_suffix(file_name, ".jsonl");
        if (lh_ingest__json_find_fault(path, ndjson, &fault, &scan_err) == 1)
            lh_err_set(err, LH_INVALID_ARGUMENT, "JSON broken at byte %llu (line %lld): %s",
                       (unsigned long long)fault.offset, (long long)fault.line, fault.what);
    }
    return rc;
}

/* Runs a reader that writes NDJSON of a known schema, then the engine's conversion. */
static int convert_ndjson_rows(lh_lake *lake, const char *ndjson, const lh_column *cols,
                               size_t ncols, lh_ingest_part *p, lh_err *err)
{
    lh_json_opts opts = {.layout = LH_JSON_NDJSON, .columns = cols, .ncolumns = ncols};
    return lh_engine_json_to_parquet(lake->engine, ndjson, &opts, p->parquet, &p->cols,
                                     &p->ncols, &p->rows, err);
}

static int convert_pdf(lh_lake *lake, const char *path, const char *file_name,
                       lh_ingest_part *p, lh_err *err)
{
    char *ndjson = lh_storage_scratch_path(lake->storage, ".ndjson");
    int64_t pages = 0;
    int rc = lh_ingest__pdf_to_ndjson(path, file_name, ndjson, &pages, &p->ocr_pages, err);
    if (rc == 0 && pages == 0)
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "the PDF has no pages");
    if (rc == 0)
        rc = convert_ndjson_rows(lake, ndjson, lh_ingest__pdf_columns,
                                 LH_ARRAY_LEN(lh_ingest__pdf_columns), p, err);
    lh_ingest__unlink_scratch(ndjson);
    free(ndjson);
    return rc;
}

static int convert_text(lh_lake *lake, const char *path, const char *file_name,
                        lh_ingest_part *p, lh_err *err)
{
    const char *src = NULL;
    char *copy = NULL, *ndjson = NULL;
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    int rc = ensure_utf8(lake, path, true, &src, &copy, err);
    if (rc == 0) {
        ndjson = lh_storage_scratch_path(lake->storage, ".ndjson");
        rc = lh_ingest__text_to_ndjson(src, file_name, ndjson, &cols, &ncols, &rows, err);
    }
    if (rc == 0 && rows == 0)
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "no lines of text");
    if (rc == 0)
        rc = convert_ndjson_rows(lake, ndjson, cols, ncols, p, err);
    if (cols)
        lh_columns_free(cols, ncols);
    lh_ingest__unlink_scratch(ndjson);
    lh_ingest__unlink_scratch(copy);
    free(ndjson);
    free(copy);
    return rc;
}

/* Parquet is kept as written (nested types, FLOAT[n] and all): the part is a hard link to
 * the input, so the input stays the caller's. */
static int convert_parquet(lh_lake *lake, const char *path, lh_ingest_part *p, lh_err *err)
{
    if (lh_engine_parquet_info(lake->engine, path, &p->cols, &p->ncols, &p->rows, err) != 0)
        return -1;
    if (link(path, p->parquet) == 0)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lh_err_errno(err, errno, "cannot open '%s'", path);
    uint64_t bytes = 0;
    int rc = lh_ingest__copy_to_scratch(fd, path, NULL, 0, p->parquet, &bytes, err);
    close(fd);
    return rc;
}

static int convert_one(lh_lake *lake, const char *path, const char *file_name, lh_format fmt,
                       const char *member, lh_ingest_parts *parts, lh_err *err);

/* Reads the head of an extracted member to detect its format, then converts it. */
static int convert_member(lh_lake *lake, const lh_archive_member *m, lh_ingest_parts *parts,
                          lh_err *err)
{
    if (m->size == 0)
        return 0; /* an empty member adds nothing */
    unsigned char *head = lh_xmalloc(HEAD_BYTES);
    int fd = open(m->path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, HEAD_BYTES) : -1;
    if (fd >= 0)
        close(fd);
    lh_format fmt;
    int rc = n > 0 ? lh_ingest__detect(head, (size_t)n, m->name, &fmt, err)
                   : lh_err_errno(err, errno, "cannot read member '%s'", m->name);
    free(head);
    if (rc != 0)
        return -1;
    if (fmt == LH_FORMAT_ZIP || fmt == LH_FORMAT_TAR)
        return lh_err_set(err, LH_UNSUPPORTED_MEDIA,
                          "member '%s' is itself an archive: nested archives are not expanded",
                          m->name);
    return convert_one(lake, m->path, m->name, fmt, m->name, parts, err);
}

/* Office documents are zips of XML parts: refuse them by name rather than ingest XML. */
static bool is_office_document(const lh_archive_member *members, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(members[i].name, "[Content_Types].xml") == 0)
            return true;
    return false;
}

static int convert_archive(lh_lake *lake, const char *path, const char *file_name,
                           lh_ingest_parts *parts, lh_err *err)
{
    lh_archive_member *members = NULL;
    size_t n = 0;
    uint64_t cap = (uint64_t)lake->config->max_upload_bytes * 4;
    if (lh_ingest__archive_extract(lake->storage, path, file_name, cap, &members, &n, err) != 0)
        return -1;
    int rc = 0;
    if (is_office_document(members, n))
        rc = lh_err_set(err, LH_UNSUPPORTED_MEDIA,
                        "an Office document (xlsx, docx, pptx) cannot be ingested: export it "
                        "as CSV or PDF");
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = convert_member(lake, &members[i], parts, err);
        /* Each member's extracted copy goes as soon as it is converted. */
        lh_ingest__unlink_scratch(members[i].path);
    }
    lh_ingest__archive_members_free(members, n);
    if (rc == 0 && parts->n == 0)
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "the archive holds no data");
    return rc;
}

static int convert_one(lh_lake *lake, const char *path, const char *file_name, lh_format fmt,
                       const char *member, lh_ingest_parts *parts, lh_err *err)
{
    if (fmt == LH_FORMAT_ZIP || fmt == LH_FORMAT_TAR)
        return convert_archive(lake, path, file_name, parts, err);
    lh_ingest_part *p = new_part(parts, lake, fmt, member);
    int rc;
    switch (fmt) {
    case LH_FORMAT_CSV:
    case LH_FORMAT_TSV:
        rc = convert_csv(lake, path, fmt, p, err);
        break;
    case LH_FORMAT_JSON:
    case LH_FORMAT_NDJSON:
        rc = convert_json(lake, path, file_name, fmt, p, err);
        break;
    case LH_FORMAT_PARQUET:
        rc = convert_parquet(lake, path, p, err);
        break;
    case LH_FORMAT_PDF:
        rc = convert_pdf(lake, path, file_name, p, err);
        break;
    case LH_FORMAT_TEXT:
        rc = convert_text(lake, path, file_name, p, err);
        break;
    default:
        rc = lh_err_set(err, LH_INTERNAL, "no converter for format %d", (int)fmt);
    }
    if (rc != 0 && member)
        lh_err_prefix(err, "member '%s': ", member);
    return rc;
}

int lh_ingest__convert(lh_lake *lake, const char *path, const char *file_name, lh_format fmt,
                       lh_ingest_parts *parts, lh_err *err)
{
    size_t from = parts->n;
    if (convert_one(lake, path, file_name, fmt, NULL, parts, err) != 0) {
        release_from(parts, from);
        return -1;
    }
    return 0;
}
