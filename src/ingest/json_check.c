/* Diagnosis of JSON files the engine refused: a streaming syntax checker (no DOM, a fixed
 * buffer and a 512-level bracket stack) that finds the first byte where the text stops being
 * valid JSON, so the error can say "JSON broken at byte N (line L): reason". Accepts one
 * document or several whitespace-separated top-level values (NDJSON). */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

#define MAX_DEPTH 512

enum mode {
    M_VALUE,       /* a value must come (after '[' ',' ':' or at the top) */
    M_AFTER,       /* a value just ended */
    M_KEY,         /* an object key (a string) must come */
    M_COLON,       /* ':' must come */
    M_STRING,      /* inside a string */
    M_ESCAPE,      /* after '\' in a string */
    M_HEX,         /* inside the 4 hex digits of \u */
    M_LOW_SLASH,   /* after a high surrogate escape: '\' of the low one must come */
    M_LOW_U,       /* ... then 'u' */
    M_UTF8,        /* inside a multi-byte UTF-8 sequence */
    M_NUMBER,      /* inside a number (see num) */
    M_LITERAL,     /* inside true / false / null */
};

/* Where inside a number: what the last byte was. */
enum num { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

typedef struct scan {
    enum mode mode;
    enum num num;
    bool string_is_key;
    bool after_comma;   /* M_VALUE / M_KEY entered by ',' (a closing bracket is a fault) */
    bool first_in;      /* M_VALUE right after '[' / M_KEY right after '{' */
    bool any_value;     /* a top-level value has started */
    int depth;
    unsigned char stack[MAX_DEPTH]; /* '[' or '{' per open container */
    const char *literal;            /* "true" / "false" / "null" */
    int lit_pos;
    int hex_left;
    unsigned code;      /* the \u code unit being read */
    bool low_needed;    /* the \u being read must be a low surrogate */
    uint64_t esc_start; /* offset of the '\' of the current \u escape */
    int utf8_left;      /* continuation bytes still due */
    unsigned char lo, hi; /* bounds of the next continuation byte */
    uint64_t offset;    /* of the byte being fed */
    int64_t line;
    lh_json_fault *out;
} scan;

/* Records the fault at offset (on the current line) and returns 1. */
static int fault(scan *s, uint64_t offset, const char *fmt, ...) LH_PRINTF(3, 4);
static int fault(scan *s, uint64_t offset, const char *fmt, ...)
{
    s->out->offset = offset;
    s->out->line = s->line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->out->what, sizeof s->out->what, fmt, ap);
    va_end(ap);
    return 1;
}

/* "'x'" for a printable byte, "byte 0xNN" otherwise. */
static const char *show(unsigned char c, char *buf, size_t n)
{
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, n, "'%c'", c);
    else
        snprintf(buf, n, "byte 0x%02X", c);
    return buf;
}

static bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A value has ended: back to the container (or the top level). */
static void value_done(scan *s)
{
    s->mode = M_AFTER;
}

/* Starts a value at byte c; 1 with a fault when c cannot start one. */
static int start_value(scan *s, unsigned char c)
{
    char b[16];
    if (s->depth == 0)
        s->any_value = true;
    switch (c) {
    case '{':
    case '[':
        if (s->depth == MAX_DEPTH)
            return fault(s, s->offset, "nesting deeper than %d", MAX_DEPTH);
        s->stack[s->depth++] = c;
        s->mode = c == '{' ? M_KEY : M_VALUE;
        s->first_in = true;
        s->after_comma = false;
        return 0;
    case '"':
        s->mode = M_STRING;
        s->string_is_key = false;
        return 0;
    case '-':
        s->mode = M_NUMBER;
        s->num = N_MINUS;
        return 0;
    case 't':
    case 'f':
    case 'n':
        s->mode = M_LITERAL;
        s->literal = c == 't' ? "true" : c == 'f' ? "false" : "null";
        s->lit_pos = 1;
        return 0;
    default:
        if (is_digit(c)) {
            s->mode = M_NUMBER;
            s->num = c == '0' ? N_ZERO : N_INT;
            return 0;
        }
        return fault(s, s->offset, "expected a value, found %s", show(c, b, sizeof b));
    }
}

/* Closes the innermost container with c (']' or '}'). */
static void close_container(scan *s)
{
    s->depth--;
    value_done(s);
}

static int feed_structure(scan *s, unsigned char c)
{
    char b[16];
    switch (s->mode) {
    case M_VALUE:
        if (is_ws(c))
            return 0;
        if (c == ']' && s->depth > 0 && s->stack[s->depth - 1] == '[') {
            if (s->after_comma)
                return fault(s, s->offset, "trailing comma before %s", "']'");
            if (s->first_in) {
                close_container(s);
                return 0;
            }
        }
        return start_value(s, c);
    case M_KEY:
        if (is_ws(c))
            return 0;
        if (c == '"') {
            s->mode = M_STRING;
            s->string_is_key = true;
            return 0;
        }
        if (c == '}' && s->first_in) {
            close_container(s);
            return 0;
        }
        if (c == '}')
            return fault(s, s->offset, "trailing comma before %s", "'}'");
        return fault(s, s->offset, "expected a string key, found %s", show(c, b, sizeof b));
    case M_COLON:
        if (is_ws(c))
            return 0;
        if (c == ':') {
            s->mode = M_VALUE;
            s->first_in = false;
            s->after_comma = false;
            return 0;
        }
        return fault(s, s->offset, "expected ':' after the key, found %s", show(c, b, sizeof b));
    case M_AFTER:
        if (is_ws(c))
            return 0;
        if (s->depth == 0)
            return start_value(s, c); /* NDJSON: the next top-level value */
        if (s->stack[s->depth - 1] == '[') {
            if (c == ',') {
                s->mode = M_VALUE;
                s->first_in = false;
                s->after_comma = true;
                return 0;
            }
            if (c == ']') {
                close_container(s);
                return 0;
            }
            return fault(s, s->offset, "expected ',' or ']', found %s", show(c, b, sizeof b));
        }
        if (c == ',') {
            s->mode = M_KEY;
            s->first_in = false;
            return 0;
        }
        if (c == '}') {
            close_container(s);
            return 0;
        }
        return fault(s, s->offset, "expected ',' or '}', found %s", show(c, b, sizeof b));
    default:
        return 0;
    }
}

static void string_done(scan *s)
{
    if (s->string_is_key)
        s->mode = M_COLON;
    else
        value_done(s);
}

/* Bytes inside a string, its escapes and its UTF-8 sequences. */
static int feed_string(scan *s, unsigned char c)
{
    char b[16];
    switch (s->mode) {
    case M_STRING:
        if (c == '"') {
            string_done(s);
        } else if (c == '\\') {
            s->mode = M_ESCAPE;
            s->esc_start = s->offset;
        } else if (c < 0x20) {
            return fault(s, s->offset, "unescaped control character (%s) in a string",
                         show(c, b, sizeof b));
        } else if (c >= 0x80) {
            /* the bounds of the second byte exclude overlong forms, surrogates and code
             * points past U+10FFFF */
            s->lo = 0x80;
            s->hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) {
                s->utf8_left = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                s->utf8_left = 2;
                if (c == 0xE0)
                    s->lo = 0xA0;
                if (c == 0xED)
                    s->hi = 0x9F;
            } else if (c >= 0xF0 && c <= 0xF4) {
                s->utf8_left = 3;
                if (c == 0xF0)
                    s->lo = 0x90;
                if (c == 0xF4)
                    s->hi = 0x8F;
            } else {
                return fault(s, s->offset, "invalid UTF-8 (%s) in a string",
                             show(c, b, sizeof b));
            }
            s->mode = M_UTF8;
        }
        return 0;
    case M_UTF8:
        if (c < s->lo || c > s->hi)
            /* hex even when printable: the byte is wrong as part of a sequence */
            return fault(s, s->offset, "invalid UTF-8 (byte 0x%02X) in a string", c);
        s->lo = 0x80;
        s->hi = 0xBF;
        if (--s->utf8_left == 0)
            s->mode = M_STRING;
        return 0;
    case M_ESCAPE:
        if (c == 'u') {
            s->mode = M_HEX;
            s->hex_left = 4;
            s->code = 0;
            return 0;
        }
        if (c == 0 || !strchr("\"\\/bfnrt", c))
            return fault(s, s->offset, "invalid escape: %s after '\\'", show(c, b, sizeof b));
        s->mode = M_STRING;
        return 0;
    case M_HEX: {
        int v = hex_value(c);
        if (v < 0)
            return fault(s, s->offset, "invalid \\u escape: %s is not a hex digit",
                         show(c, b, sizeof b));
        s->code = s->code << 4 | (unsigned)v;
        if (--s->hex_left > 0)
            return 0;
        bool high = s->code >= 0xD800 && s->code <= 0xDBFF;
        bool low = s->code >= 0xDC00 && s->code <= 0xDFFF;
        /* a code-unit problem is reported at the escape's '\\' */
        if (s->low_needed != low)
            return fault(s, s->esc_start, "unpaired UTF-16 surrogate in a \\u escape");
        s->low_needed = high;
        s->mode = high ? M_LOW_SLASH : M_STRING;
        return 0;
    }
    case M_LOW_SLASH:
    case M_LOW_U:
        if (c == (s->mode == M_LOW_SLASH ? '\\' : 'u')) {
            if (s->mode == M_LOW_SLASH) {
                s->esc_start = s->offset;
                s->mode = M_LOW_U;
            } else {
                s->mode = M_HEX;
                s->hex_left = 4;
                s->code = 0;
            }
            return 0;
        }
        return fault(s, s->offset, "unpaired UTF-16 surrogate in a \\u escape");
    default:
        return 0;
    }
}

/* One byte of a number; *again when the byte ended the number and must be fed again. */
static int feed_number(scan *s, unsigned char c, bool *again)
{
    char b[16];
    bool digit = is_digit(c);
    switch (s->num) {
    case N_MINUS:
        if (digit) {
            s->num = c == '0' ? N_ZERO : N_INT;
            return 0;
        }
        return fault(s, s->offset, "invalid number: %s after '-'", show(c, b, sizeof b));
    case N_ZERO:
        if (digit)
            return fault(s, s->offset, "invalid number: a leading zero");
        break;
    case N_INT:
        if (digit)
            return 0;
        break;
    case N_DOT:
        if (digit) {
            s->num = N_FRAC;
            return 0;
        }
        return fault(s, s->offset, "invalid number: %s after '.'", show(c, b, sizeof b));
    case N_FRAC:
        if (digit)
            return 0;
        break;
    case N_E:
        if (c == '+' || c == '-') {
            s->num = N_ESIGN;
            return 0;
        }
        /* fall through */
    case N_ESIGN:
        if (digit) {
            s->num = N_EXP;
            return 0;
        }
        return fault(s, s->offset, "invalid number: %s in the exponent", show(c, b, sizeof b));
    case N_EXP:
        if (digit)
            return 0;
        *again = true;
        value_done(s);
        return 0;
    }
    /* N_ZERO, N_INT, N_FRAC: '.' and 'e' continue, anything else ends the number */
    if (c == '.' && s->num != N_FRAC) {
        s->num = N_DOT;
        return 0;
    }
    if (c == 'e' || c == 'E') {
        s->num = N_E;
        return 0;
    }
    *again = true;
    value_done(s);
    return 0;
}

static int feed(scan *s, unsigned char c)
{
    for (;;) {
        bool again = false;
        int r;
        switch (s->mode) {
        case M_NUMBER:
            r = feed_number(s, c, &again);
            break;
        case M_LITERAL:
            if (c != (unsigned char)s->literal[s->lit_pos])
                return fault(s, s->offset, "invalid literal (expected '%s')", s->literal);
            if (s->literal[++s->lit_pos] == '\0')
                value_done(s);
            return 0;
        case M_STRING:
        case M_UTF8:
        case M_ESCAPE:
        case M_HEX:
        case M_LOW_SLASH:
        case M_LOW_U:
            return feed_string(s, c);
        default:
            return feed_structure(s, c);
        }
        if (r || !again)
            return r;
    }
}

/* At the end of the input: 1 with a fault unless everything opened has been closed. */
static int finish(scan *s)
{
    switch (s->mode) {
    case M_NUMBER:
        if (s->num == N_ZERO || s->num == N_INT || s->num == N_FRAC || s->num == N_EXP) {
            if (s->depth == 0)
                return 0;
            s->mode = M_AFTER;
            break;
        }
        return fault(s, s->offset, "truncated in a number");
    case M_LITERAL:
        return fault(s, s->offset, "truncated in a literal");
    case M_STRING:
    case M_UTF8:
    case M_ESCAPE:
    case M_HEX:
    case M_LOW_SLASH:
    case M_LOW_U:
        return fault(s, s->offset, "truncated in a string");
    default:
        break;
    }
    if (s->depth > 0)
        return fault(s, s->offset, "truncated in an %s",
                     s->stack[s->depth - 1] == '{' ? "object" : "array");
    if (!s->any_value)
        return fault(s, s->offset, "no JSON value (the file is empty or blank)");
    return 0;
}

int lh_ingest__json_find_fault(const char *path, bool ndjson, lh_json_fault *out, lh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lh_err_errno(err, errno, "cannot open '%s'", path);
    lh_json_fault found = {0};
    scan s = {.mode = M_VALUE, .line = 1, .out = &found};
    unsigned char buf[65536];
    bool first_chunk = true;
    int rc = 0;
    while (rc == 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = lh_err_errno(err, errno, "cannot read '%s'", path);
            break;
        }
        if (n == 0) {
            rc = finish(&s);
            break;
        }
        size_t i = 0;
        if (first_chunk && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
            i = 3; /* byte order mark */
            s.offset = 3;
        }
        first_chunk = false;
        for (; i < (size_t)n; i++, s.offset++) {
            /* NDJSON holds one record per line: a line that ends inside one is where it
             * breaks, not wherever the following lines stop parsing as its continuation. */
            if (ndjson && buf[i] == '\n' && s.depth > 0) {
                rc = fault(&s, s.offset, "the record on line %lld is cut short",
                           (long long)s.line);
                break;
            }
            if (feed(&s, buf[i])) {
                rc = 1;
                break;
            }
            if (buf[i] == '\n')
                s.line++;
        }
    }
    close(fd);
    if (rc == 1 && out)
        *out = found;
    return rc;
}
