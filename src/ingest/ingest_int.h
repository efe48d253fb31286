/* ingest internals shared between ingest_file.c, ingest_register.c and demo.c.
 * Never included from outside src/ingest/. */
#ifndef LH_INGEST_INT_H
#define LH_INGEST_INT_H

#include "catalog/catalog.h"
#include "core/core.h"
#include "query/query.h"
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

/* ---- formats and detection (detect.c) ---- */

typedef enum lh_format {
    LH_FORMAT_CSV = 0,
    LH_FORMAT_TSV,
    LH_FORMAT_JSON,    /* a top-level array or NDJSON */
    LH_FORMAT_NDJSON,  /* NDJSON only (an explicit ?format=ndjson) */
    LH_FORMAT_PARQUET,
    LH_FORMAT_PDF,
    LH_FORMAT_TEXT,    /* plain text or an SMS/chat export */
    LH_FORMAT_ZIP,
    LH_FORMAT_TAR,     /* .tar, .tar.gz, .tgz */
} lh_format;

const char *lh_ingest__format_name(lh_format f);
/* A ?format= value ("csv", "tsv", "json", "ndjson", "parquet", "pdf", "text", "sms", "zip",
 * "tar"); unsupported_media naming the accepted values otherwise. */
int lh_ingest__format_parse(const char *name, lh_format *out, lh_err *err) LH_MUST_CHECK;
/* The format of a file from its first bytes (head, n > 0), with its name as a hint where
 * content cannot tell (CSV vs text, chat logs that open with '['). unsupported_media for
 * binary content we do not read (naming what it looks like). */
int lh_ingest__detect(const unsigned char *head, size_t n, const char *file_name,
                      lh_format *out, lh_err *err) LH_MUST_CHECK;

/* ---- conversion (convert.c): a file becomes one or more Parquet parts ---- */

typedef struct lh_ingest_part {
    char *parquet;     /* scratch Parquet file, owned (the catalog moves it on commit) */
    char *member;      /* the archive member it came from, or NULL */
    lh_format format;
    lh_column *cols;
    size_t ncols;
    int64_t rows;
    int64_t ocr_pages; /* PDF only */
} lh_ingest_part;

typedef struct lh_ingest_parts {
    lh_ingest_part *items;
    size_t n;
} lh_ingest_parts;

/* Converts the file at path (a scratch file the engine may read; not consumed) of format
 * fmt into parts, appended to *parts. Archives are extracted and each member converted
 * (nested archives are refused). Errors name file_name (and the member) and where it broke.
 * On failure the parts added by this call are removed again. */
int lh_ingest__convert(lh_lake *lake, const char *path, const char *file_name, lh_format fmt,
                       lh_ingest_parts *parts, lh_err *err) LH_MUST_CHECK;
/* Removes the parts' scratch files (those still there) and frees them. */
void lh_ingest__parts_release(lh_ingest_parts *parts);

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
 * string"), 0 when the whole file is valid, -1 on i/o error. With ndjson, a record must end
 * on its own line. Streaming, bounded memory. */
typedef struct lh_json_fault {
    uint64_t offset;
    int64_t line;
    char what[96];
} lh_json_fault;
int lh_ingest__json_find_fault(const char *path, bool ndjson, lh_json_fault *out, lh_err *err);

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
 * remains. Messages name the archive as `display` (the user's file name; NULL = the base
 * name of archive_path). Member names are sanitised: control characters and invalid UTF-8
 * become '?'. Codes: invalid_argument (corrupt or encrypted archive), too_large, io_error. */
int lh_ingest__archive_extract(lh_storage *storage, const char *archive_path,
                               const char *display, uint64_t max_bytes,
                               lh_archive_member **members, size_t *n, lh_err *err) LH_MUST_CHECK;
/* Removes the extracted files and frees the array. */
void lh_ingest__archive_members_free(lh_archive_member *members, size_t n);

/* ---- PII ---- */

/* Classifies a column from its name and a sample of its values (text). Returns the PII kind
 * ("email", "phone", "ssn", "salary", "street_address", "medical", "person_name",
 * "date_of_birth", "credit_card", "ip_address") or NULL. Low false positives: a numeric id
 * is not an SSN, a zip code is not a phone. Pure function; thread-safe. */
const char *lh_ingest__pii_classify(const char *column_name, const char *const *values,
                                    size_t nvalues);

/* ---- SMS/chat export shapes (sms.c; used by text.c) ---- */

/* The message-start shapes lh_ingest__text_to_ndjson recognises. A line of a chat export
 * either starts a message in the file's shape or continues the previous message. */
typedef enum lh_sms_shape {
    LH_SMS_NONE = 0,
    LH_SMS_DT_COMMA,   /* 2024-01-15 09:30:12, +15551234567: text */
    LH_SMS_DT_DASH,    /* 2024-01-15 09:30:12 - Alice: text */
    LH_SMS_ISO,        /* 2024-01-15T09:30:12Z Alice: text (offsets converted to UTC) */
    LH_SMS_WA_BRACKET, /* [15/01/2024, 09:30:12] Alice: text (WhatsApp, iOS) */
    LH_SMS_WA_DASH,    /* 1/15/24, 9:30 AM - Alice: text (WhatsApp, Android) */
    LH_SMS_TABBED,     /* 2024-01-15 09:30:12<TAB>+15551234567<TAB>text (SMS Backup) */
    LH_SMS_PIPED,      /* Jan 15, 2024 9:30 AM | Alice | text */
    LH_SMS_SHAPE_COUNT
} lh_sms_shape;

/* Day/month order of the slash-dated WhatsApp shapes. ANY accepts either order (used while
 * detecting) and formats with the shape's default order. */
typedef enum lh_sms_order { LH_SMS_ORDER_ANY = 0, LH_SMS_DAY_FIRST, LH_SMS_MONTH_FIRST } lh_sms_order;

/* One parsed message-start line. sender and body point into the parsed line. */
typedef struct lh_sms_msg {
    char sent_at[40];   /* "YYYY-MM-DD HH:MM:SS" (".ffffff" appended when the line had it) */
    const char *sender; /* NULL for a line with no sender (a WhatsApp system message) */
    size_t sender_len;
    const char *body;
    size_t body_len;
    int date_a, date_b; /* the first two date fields of a slash date, else 0 */
} lh_sms_msg;

/* Parses line[0..len) (no line terminator) as the start of a message of the given shape.
 * Returns true and fills msg, false when the line does not start a message. Pure. */
bool lh_ingest__sms_parse(lh_sms_shape shape, lh_sms_order order, const char *line, size_t len,
                          lh_sms_msg *msg);
/* The shape (by value of lh_sms_shape) that at least 80% of sample lines start a message
 * in, given per-shape hit counts over nlines non-blank lines; LH_SMS_NONE when none does. */
lh_sms_shape lh_ingest__sms_pick_shape(const size_t hits[LH_SMS_SHAPE_COUNT], size_t nlines);
/* Whether a shape writes slash dates whose day/month order must be decided per file. */
bool lh_ingest__sms_has_slash_date(lh_sms_shape shape);
/* The order for a whole file, from the largest first and second date fields seen over it:
 * a first field over 12 means day-first, else a second field over 12 means month-first,
 * else the shape's convention (day-first for the bracket form, US month-first for the
 * dash form). */
lh_sms_order lh_ingest__sms_pick_order(lh_sms_shape shape, int max_a, int max_b);
/* Short name of a shape, for logs and tests ("wa_bracket"). */
const char *lh_ingest__sms_shape_name(lh_sms_shape shape);

/* PII internals shared by pii.c (the decision), pii_name.c (column names), pii_rules.c
 * (value validators) and pii_vocab.c (word lists). */
typedef enum lh_pii_kind {
    LH_PII_NONE = 0,
    LH_PII_EMAIL,
    LH_PII_PHONE,
    LH_PII_SSN,
    LH_PII_SALARY,
    LH_PII_STREET,
    LH_PII_MEDICAL,
    LH_PII_PERSON,
    LH_PII_DOB,
    LH_PII_CARD,
    LH_PII_IP,
    LH_PII_KIND_COUNT
} lh_pii_kind;
#define LH_PII_BIT(k) (1u << (unsigned)(k))

/* The kind's name as lh_ingest__pii_classify returns it; NULL for LH_PII_NONE. */
const char *lh_ingest__pii_kind_name(lh_pii_kind k);

/* What one trimmed, non-empty value looks like. strict: the value alone proves the kind
 * (e.g. a syntactically valid e-mail, a Luhn-valid card with a known issuer prefix); loose:
 * the value is consistent with the kind, which counts only when the column name says so
 * (e.g. "555-1234" for a phone, "Springfield, IL" for an address). */
typedef struct lh_pii_value {
    unsigned strict;   /* LH_PII_BIT masks */
    unsigned loose;    /* includes strict */
    bool ssn_bare;     /* nine digits passing the SSN area/group/serial rules */
    bool person_words; /* 2-3 capitalised words ("Last, First" too), none a business word */
    bool given_name;   /* person_words and the first name is a common given name */
    bool zero_one;     /* "0" or "1": a flag, not an amount */
} lh_pii_value;
void lh_ingest__pii_scan_value(const char *s, size_t n, lh_pii_value *out);
/* The structured part of the scan (e-mail, phone, SSN, card, IP; pii_rules.c): ORs its
 * verdicts into out, which the caller has zeroed. */
void lh_ingest__pii_scan_structured(const char *s, size_t n, lh_pii_value *out);

/* What a column name says. kind is the PII kind named (LH_PII_NONE if none); strong when
 * nothing else in the name turns it into metadata about the value ("phone_verified",
 * "email_sent_at", "ssn_last4"); idlike when the name says identifier/code/amount ("id",
 * "zip", "order", "sku", "year"...), which rules out digit-only kinds from values alone;
 * person_maybe for "name" alone and for names whose owner may be a company
 * ("customer_name", "client_name"); not_ip for "version"/"build" names. */
typedef struct lh_pii_name {
    lh_pii_kind kind;
    bool strong;
    bool idlike;
    bool person_maybe;
    bool not_ip;
} lh_pii_name;
void lh_ingest__pii_scan_name(const char *name, lh_pii_name *out);

typedef enum lh_pii_vocab {
    LH_PII_VOCAB_MEDICAL = 0,
    LH_PII_VOCAB_STREET_SUFFIX,
    LH_PII_VOCAB_STREET_TAIL,
    LH_PII_VOCAB_GIVEN_NAME,
    LH_PII_VOCAB_BUSINESS,
    LH_PII_VOCAB_MONTH,
    LH_PII_VOCAB_NAME_PART,
    LH_PII_VOCAB_COUNT
} lh_pii_vocab;
/* Whether w[0..n) (any case) is in list v. */
bool lh_ingest__pii_vocab_has(lh_pii_vocab v, const char *w, size_t n);
/* -1 when every list is sorted, else the first unsorted list (for the unit test). */
int lh_ingest__pii_vocab_check(void);

#endif
