/* Errors: the code table (generated from LH_CODES in core.h) and the lh_err helpers every
 * module uses to report failures up to the HTTP or CLI edge. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const struct {
    const char *name;
    int status;
    const char *message;
} codes[] = {
#define LH_X_ROW(e, name, status, msg) {name, status, msg},
    LH_CODES(LH_X_ROW)
#undef LH_X_ROW
};

_Static_assert(LH_ARRAY_LEN(codes) == LH_CODE_COUNT, "code table and enum disagree");

const char *lh_code_name(lh_code code)
{
    return (unsigned)code < LH_CODE_COUNT ? codes[code].name : "internal";
}

int lh_code_http_status(lh_code code)
{
    return (unsigned)code < LH_CODE_COUNT ? codes[code].status : 500;
}

const char *lh_code_default_message(lh_code code)
{
    return (unsigned)code < LH_CODE_COUNT ? codes[code].message : "internal error";
}

int lh_err_set(lh_err *err, lh_code code, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    err->detail[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

int lh_err_errno(lh_err *err, int errnum, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = LH_IO_ERROR;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    /* The strerror text goes in both: the message stays readable on its own in the CLI. */
    if (n >= 0 && (size_t)n < sizeof err->message) {
        /* Messages are lowercase (STYLE §3): "no such file or directory". */
        char text[128];
        snprintf(text, sizeof text, "%s", strerror(errnum));
        text[0] = (char)tolower((unsigned char)text[0]);
        snprintf(err->message + n, sizeof err->message - (size_t)n, ": %s", text);
    }
    snprintf(err->detail, sizeof err->detail, "errno %d (%s)", errnum, strerror(errnum));
    return -1;
}

int lh_err_prefix(lh_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Assemble in a larger buffer, then cut to the message size: truncation is fine here. */
    char joined[sizeof prefix + sizeof err->message];
    size_t plen = strlen(prefix), mlen = strnlen(err->message, sizeof err->message);
    memcpy(joined, prefix, plen);
    memcpy(joined + plen, err->message, mlen);
    joined[plen + mlen] = '\0';
    size_t keep = plen + mlen < sizeof err->message ? plen + mlen : sizeof err->message - 1;
    memcpy(err->message, joined, keep);
    err->message[keep] = '\0';
    return -1;
}

void lh_err_detail(lh_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
}

void lh_err_clear(lh_err *err)
{
    if (!err)
        return;
    err->code = LH_OK;
    err->message[0] = '\0';
    err->detail[0] = '\0';
}

json_t *lh_err_to_json(const lh_err *err, bool with_detail)
{
    const char *msg = err->message[0] ? err->message : lh_code_default_message(err->code);
    json_t *inner = json_pack("{s:s, s:s}", "code", lh_code_name(err->code), "message", msg);
    if (with_detail && err->detail[0])
        json_object_set_new(inner, "detail", json_string(err->detail));
    return json_pack("{s:o}", "error", inner);
}

_Noreturn void lh_panic(const char *file, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "lakehouse: panic at %s:%d: %s\n", file, line, msg);
    fflush(stderr);
    abort();
}
