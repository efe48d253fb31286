/* ingest internals shared between ingest_file.c, ingest_register.c and demo.c.
 * Never included from outside src/ingest/. */
#ifndef LH_INGEST_INT_H
#define LH_INGEST_INT_H

#include "catalog/catalog.h"
#include "core/core.h"
#include "storage/storage.h"

/* [{"name","type"}, ...] for a schema; new reference. */
json_t *lh_ingest__columns_json(const lh_column *cols, size_t n);

/* Checks a user-given dataset name; invalid_argument naming the rule when it is bad. */
int lh_ingest__check_name(const char *name, lh_err *err) LH_MUST_CHECK;

/* Removes a scratch file; a file that is already gone (moved by the catalog) is fine.
 * Other failures are logged, not returned: the ingest outcome does not depend on them and
 * stale scratch files are swept when storage next opens. NULL is a no-op. */
void lh_ingest__unlink_scratch(const char *path);

/* Copies fd to a new scratch file at dst (created exclusively), after first writing the
 * head_len bytes already read from it (head may be NULL when head_len is 0). The copy
 * goes through a fixed-size buffer whatever the file size. *bytes gets the total. The
 * caller removes dst on failure. display names the source in messages. */
int lh_ingest__copy_to_scratch(int fd, const char *display, const unsigned char *head,
                               size_t head_len, const char *dst, uint64_t *bytes,
                               lh_err *err) LH_MUST_CHECK;

/* The first CSV record whose field count differs from the header's. */
typedef struct lh_csv_ragged {
    int64_t line;     /* 1-based line where the record starts */
    int64_t fields;
    int64_t expected; /* the header's field count */
} lh_csv_ragged;

/* Scans a CSV file (quote-aware; CRLF and a BOM handled) for a ragged record, with the given
 * delimiter or, when NULL, the most frequent of , TAB ; | in the first line. Returns 1 and
 * fills out when one is found, 0 when every record has the header's field count, -1 on an
 * i/o error. */
int lh_ingest__csv_find_ragged(const char *path, const char *delimiter, lh_csv_ragged *out,
                               lh_err *err);

/* ---- readers: a file becomes NDJSON rows of a known schema, which the engine converts with
 * lh_engine_json_to_parquet(columns = that schema). Each writes ndjson_path (a scratch path
 * chosen by the caller, created exclusively), removes it on failure, and never holds the
 * whole file in memory. ---- */

/* PDF: one row per page {source_file VARCHAR, page_number INTEGER, text_content VARCHAR,
 * extraction VARCHAR} where extraction is "text" (MuPDF's text layer) or "ocr" (a page with
 * no text layer, rendered and read with Tesseract). Codes: invalid_argument (not a PDF,
 * corrupt, encrypted: "is encrypted"), too_large (more than LH_PDF_MAX_PAGES pages). */
#define LH_PDF_MAX_PAGES 10000
extern const lh_column lh_ingest__pdf_columns[4];
int lh_ingest__pdf_to_ndjson(const char *pdf_path, const char *source_file,
                             const char *ndjson_path, int64_t *pages, int64_t *ocr_pages,
                             lh_err *err) LH_MUST_CHECK;

/* Plain text and SMS/chat exports: one row per line (or per message: a message may span
 * lines). When most lines match a known SMS/chat export shape the rows are
 * {source_file, line_number, sent_at TIMESTAMP, sender, body}, otherwise
 * {source_file, line_number, text}. The chosen schema is returned in cols (owned). */
int lh_ingest__text_to_ndjson(const char *path, const char *source_file,
                              const char *ndjson_path, lh_column **cols, size_t *ncols,
                              int64_t *rows, lh_err *err) LH_MUST_CHECK;

/* ---- text encoding ---- */

typedef struct lh_text_encoding {
    bool has_bom;          /* a UTF-8 byte order mark opens the file */
    bool valid_utf8;
    uint64_t bad_offset;   /* first byte that is not UTF-8 (when !valid_utf8) */
    bool latin1;           /* not UTF-8, but plausible Latin-1 text (no NUL, few C1 bytes) */
} lh_text_encoding;

/* Streams a file and classifies its encoding. -1 on an i/o error. */
int lh_ingest__sniff_encoding(const char *path, lh_text_encoding *out, lh_err *err) LH_MUST_CHECK;
/* Writes src re-encoded from Latin-1 to UTF-8 at dst (scratch, created exclusively). */
int lh_ingest__latin1_to_utf8(const char *src, const char *dst, lh_err *err) LH_MUST_CHECK;

/* ---- JSON diagnosis ---- */

/* Finds where a JSON file (a document or NDJSON) stops being valid JSON: returns 1 with the
 * byte offset (0-based), line and a short reason ("unexpected '}'", "truncated in a
 * string"), 0 when the whole file is valid, -1 on i/o error. Streaming, bounded memory. */
typedef struct lh_json_fault {
    uint64_t offset;
    int64_t line;
    char what[96];
} lh_json_fault;
int lh_ingest__json_find_fault(const char *path, lh_json_fault *out, lh_err *err);

/* ---- archives ---- */

typedef struct lh_archive_member {
    char *name;   /* the member's path inside the archive */
    char *path;   /* where it was extracted (a scratch path) */
    uint64_t size;
} lh_archive_member;

#define LH_ARCHIVE_MAX_MEMBERS 10000
/* Extracts the regular-file members of a .zip or .tar(.gz) archive into scratch files
 * (never outside the scratch dir, whatever the member names say; directories, links and
 * devices skipped; nested archives not expanded). Total extracted bytes are capped at
 * max_bytes and members at LH_ARCHIVE_MAX_MEMBERS (too_large). On failure nothing extracted
 * remains. Codes: invalid_argument (corrupt or encrypted archive), too_large, io_error. */
int lh_ingest__archive_extract(lh_storage *storage, const char *archive_path,
                               uint64_t max_bytes, lh_archive_member **members, size_t *n,
                               lh_err *err) LH_MUST_CHECK;
/* Removes the extracted files and frees the array. */
void lh_ingest__archive_members_free(lh_archive_member *members, size_t n);

/* ---- PII ---- */

/* Classifies a column from its name and a sample of its values (text). Returns the PII kind
 * ("email", "phone", "ssn", "salary", "street_address", "medical", "person_name",
 * "date_of_birth", "credit_card", "ip_address") or NULL. Low false positives: a numeric id
 * is not an SSN, a zip code is not a phone. Pure function; thread-safe. */
const char *lh_ingest__pii_classify(const char *column_name, const char *const *values,
                                    size_t nvalues);

#endif
