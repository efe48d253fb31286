/* Format detection: what a file is, from its first bytes, with the file name as a hint only
 * where the content cannot tell (a CSV and a plain text file look alike; a WhatsApp export
 * opens with '[' like a JSON array). An explicit ?format= skips all of this. */
#include <string.h>
#include <strings.h>

#include "ingest/ingest_int.h"

static const struct {
    const char *name;
    lh_format format;
} format_names[] = {
    {"csv", LH_FORMAT_CSV},         {"tsv", LH_FORMAT_TSV},   {"json", LH_FORMAT_JSON},
    {"ndjson", LH_FORMAT_NDJSON},   {"jsonl", LH_FORMAT_NDJSON},
    {"parquet", LH_FORMAT_PARQUET}, {"pdf", LH_FORMAT_PDF},   {"text", LH_FORMAT_TEXT},
    {"txt", LH_FORMAT_TEXT},        {"sms", LH_FORMAT_TEXT},  {"zip", LH_FORMAT_ZIP},
    {"tar", LH_FORMAT_TAR},         {"tgz", LH_FORMAT_TAR},
};

const char *lh_ingest__format_name(lh_format f)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(format_names); i++)
        if (format_names[i].format == f)
            return format_names[i].name;
    return "unknown";
}

int lh_ingest__format_parse(const char *name, lh_format *out, lh_err *err)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(format_names); i++) {
        if (strcasecmp(name, format_names[i].name) == 0) {
            *out = format_names[i].format;
            return 0;
        }
    }
    return lh_err_set(err, LH_UNSUPPORTED_MEDIA,
                      "format '%s' is not supported: use csv, tsv, json, ndjson, parquet, pdf, "
                      "text, sms, zip or tar",
                      name);
}

static bool name_ends(const char *file_name, const char *suffix)
{
    size_t n = strlen(file_name), m = strlen(suffix);
    return n >= m && strcasecmp(file_name + n - m, suffix) == 0;
}

/* The format a file name suggests, or -1. */
static int format_from_name(const char *file_name)
{
    static const struct {
        const char *suffix;
        lh_format format;
    } by_name[] = {
        {".csv", LH_FORMAT_CSV},      {".tsv", LH_FORMAT_TSV},       {".tab", LH_FORMAT_TSV},
        {".json", LH_FORMAT_JSON},    {".ndjson", LH_FORMAT_NDJSON}, {".jsonl", LH_FORMAT_NDJSON},
        {".txt", LH_FORMAT_TEXT},     {".log", LH_FORMAT_TEXT},      {".sms", LH_FORMAT_TEXT},
        {".chat", LH_FORMAT_TEXT},    {".parquet", LH_FORMAT_PARQUET}, {".pdf", LH_FORMAT_PDF},
        {".zip", LH_FORMAT_ZIP},      {".tar", LH_FORMAT_TAR},       {".tar.gz", LH_FORMAT_TAR},
        {".tgz", LH_FORMAT_TAR},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(by_name); i++)
        if (name_ends(file_name, by_name[i].suffix))
            return (int)by_name[i].format;
    return -1;
}

/* Binary content we do not read, named for the error; NULL when it looks like text. Text
 * may be any 8-bit encoding, so only NUL bytes and many control characters count. */
static const char *binary_kind(const unsigned char *p, size_t n)
{
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
    return ctrl * 10 > n ? "binary content" : NULL;
}

/* Whether the head is the start of a JSON document: jansson parses it to the end, or fails
 * only because the head stops in the middle of a value. A chat line "[15/01/2024, ..." fails
 * within its first bytes instead. */
static bool looks_like_json(const unsigned char *p, size_t n)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)p, n, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &je);
    if (j) {
        bool container = json_is_object(j) || json_is_array(j);
        json_decref(j);
        return container;
    }
    return (je.position >= 0 && (size_t)je.position >= n - 1) ||
           json_error_code(&je) == json_error_premature_end_of_input;
}

/* Whether the first lines are chat/SMS messages of one known shape (they often hold a comma
 * each, and would otherwise pass for CSV). */
static bool looks_like_chat(const unsigned char *p, size_t n)
{
    size_t hits[LH_SMS_SHAPE_COUNT] = {0}, lines = 0;
    const char *line = (const char *)p, *end = (const char *)p + n;
    while (line < end && lines < 20) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            break; /* the last line of the head may be cut short */
        size_t len = (size_t)(nl - line);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > 0) {
            lines++;
            for (int sh = LH_SMS_NONE + 1; sh < LH_SMS_SHAPE_COUNT; sh++) {
                lh_sms_msg msg;
                hits[sh] += lh_ingest__sms_parse((lh_sms_shape)sh, LH_SMS_ORDER_ANY, line, len,
                                                 &msg);
            }
        }
        line = nl + 1;
    }
    return lines >= 2 && lh_ingest__sms_pick_shape(hits, lines) != LH_SMS_NONE;
}

/* Whether the first lines split into the same number (> 1) of fields on some delimiter. */
static bool looks_delimited(const unsigned char *p, size_t n, char *delim)
{
    static const char cands[] = {',', '\t', ';', '|'};
    for (size_t c = 0; c < sizeof cands; c++) {
        long first = -1;
        int lines = 0;
        bool ok = true, quoted = false;
        long count = 0;
        for (size_t i = 0; i < n && lines < 5 && ok; i++) {
            if (p[i] == '"')
                quoted = !quoted;
            else if (!quoted && p[i] == (unsigned char)cands[c])
                count++;
            else if (!quoted && p[i] == '\n') {
                if (first < 0)
                    first = count;
                else if (count != first)
                    ok = false;
                lines++;
                count = 0;
            }
        }
        if (ok && first > 0 && lines >= 2) {
            *delim = cands[c];
            return true;
        }
    }
    return false;
}

int lh_ingest__detect(const unsigned char *head, size_t n, const char *file_name,
                      lh_format *out, lh_err *err)
{
    int hint = format_from_name(file_name);
    /* Magic numbers first: they do not lie, whatever the name says. */
    if (n >= 4 && memcmp(head, "PAR1", 4) == 0) {
        *out = LH_FORMAT_PARQUET;
        return 0;
    }
    if (n >= 5 && memcmp(head, "%PDF-", 5) == 0) {
        *out = LH_FORMAT_PDF;
        return 0;
    }
    if (n >= 4 && (memcmp(head, "PK\x03\x04", 4) == 0 || memcmp(head, "PK\x05\x06", 4) == 0)) {
        *out = LH_FORMAT_ZIP;
        return 0;
    }
    if ((n >= 2 && head[0] == 0x1f && head[1] == 0x8b) ||
        (n >= 262 && memcmp(head + 257, "ustar", 5) == 0)) {
        *out = LH_FORMAT_TAR;
        return 0;
    }
    const char *kind = binary_kind(head, n);
    if (kind)
        return lh_err_set(err, LH_UNSUPPORTED_MEDIA,
                          "the content looks like %s, which cannot be ingested: send CSV, TSV, "
                          "JSON, Parquet, PDF, text, or a zip/tar of those",
                          kind);
    if (hint == LH_FORMAT_PARQUET || hint == LH_FORMAT_PDF || hint == LH_FORMAT_ZIP ||
        hint == LH_FORMAT_TAR)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "named like %s, but the content is text",
                          lh_ingest__format_name((lh_format)hint));
    size_t i = 0;
    if (n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    if (hint == LH_FORMAT_JSON || hint == LH_FORMAT_NDJSON) {
        *out = (lh_format)hint;
        return 0;
    }
    if (hint != LH_FORMAT_TEXT && i < n && (head[i] == '{' || head[i] == '[') &&
        looks_like_json(head + i, n - i)) {
        *out = LH_FORMAT_JSON;
        return 0;
    }
    if (hint >= 0) {
        *out = (lh_format)hint; /* CSV, TSV or TEXT */
        return 0;
    }
    char delim = ',';
    if (looks_like_chat(head, n)) {
        *out = LH_FORMAT_TEXT;
        return 0;
    }
    if (looks_delimited(head, n, &delim)) {
        *out = delim == '\t' ? LH_FORMAT_TSV : LH_FORMAT_CSV;
        return 0;
    }
    *out = LH_FORMAT_TEXT;
    return 0;
}
