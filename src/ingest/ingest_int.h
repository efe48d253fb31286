/* ingest internals shared between ingest_file.c, ingest_register.c and demo.c.
 * Never included from outside src/ingest/. */
#ifndef LH_INGEST_INT_H
#define LH_INGEST_INT_H

#include "catalog/catalog.h"
#include "core/core.h"

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

#endif
