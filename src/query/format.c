/* query/format.c: result formats and their media types, for content negotiation at the
 * HTTP edge (the http module maps the Accept header through here). */
#include <string.h>
#include <strings.h>

#include "query/query_int.h"

static const struct {
    const char *media;
    lh_result_format fmt;
} MEDIA[] = {
    {"application/json", LH_FMT_JSON},
    {"*/*", LH_FMT_JSON},
    {"application/*", LH_FMT_JSON},
    {"application/x-ndjson", LH_FMT_NDJSON},
    {"application/ndjson", LH_FMT_NDJSON},
    {"application/jsonl", LH_FMT_NDJSON},
    {"application/jsonlines", LH_FMT_NDJSON},
    {"text/csv", LH_FMT_CSV},
    {"text/*", LH_FMT_CSV},
    {"application/vnd.apache.parquet", LH_FMT_PARQUET},
    {"application/parquet", LH_FMT_PARQUET},
    {"application/x-parquet", LH_FMT_PARQUET},
};

int lh_result_format_from_accept(const char *accept, lh_result_format *out, lh_err *err) {
    *out = LH_FMT_JSON;
    if (!accept)
        return 0;
    const char *p = accept;
    bool any = false;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        any = true;
        size_t n = strcspn(p, ",;");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        for (size_t i = 0; i < LH_ARRAY_LEN(MEDIA); i++) {
            if (strlen(MEDIA[i].media) == n && strncasecmp(MEDIA[i].media, p, n) == 0) {
                *out = MEDIA[i].fmt;
                return 0;
            }
        }
        p += strcspn(p, ",");
    }
    if (!any)
        return 0;
    return lh_err_set(err, LH_NOT_ACCEPTABLE,
                      "no supported result format in Accept '%.200s' (use application/json, "
                      "application/x-ndjson, text/csv or application/vnd.apache.parquet)",
                      accept);
}

const char *lh_result_format_content_type(lh_result_format f) {
    switch (f) {
    case LH_FMT_NDJSON: return "application/x-ndjson";
    case LH_FMT_CSV: return "text/csv; charset=utf-8";
    case LH_FMT_PARQUET: return "application/vnd.apache.parquet";
    case LH_FMT_JSON:
    default: return "application/json";
    }
}
