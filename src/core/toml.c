/* toml: a bounded parser for the TOML subset lakehouse.toml uses, producing a jansson object.
 * It sits under config.c and reads text a user wrote, so it never reads past len, never nests
 * deeper than TOML_MAX_DEPTH and reports every error as "config line L, column C: what".
 * Supported: tables, dotted keys, arrays of tables, inline tables, basic/literal strings (also
 * multi-line), integers (decimal, 0x, 0o, 0b), floats, booleans, arrays. Not: dates, inf/nan. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define TOML_MAX_DEPTH 32

/* How a table or array came to exist decides what may later extend it (TOML 1.0 §Table). */
enum tflag { F_NONE = 0, F_IMPLICIT, F_HEADER, F_DOTTED, F_INLINE, F_AOT };

/* jansson values carry no user data, so the flags live in a small pointer-keyed hash. */
typedef struct slot {
    const void *key;
    int flag;
} slot;

typedef struct flagmap {
    slot *slots;
    size_t cap, count;
} flagmap;

typedef struct parser {
    const char *s;
    size_t len, pos;
    json_t *root, *cur; /* cur: the table key/value lines go into */
    int cur_depth;
    flagmap flags;
    lh_err *err;
} parser;

typedef struct keypath {
    char *part[TOML_MAX_DEPTH];
    size_t pos[TOML_MAX_DEPTH];
    int n;
} keypath;

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static void flag_put(flagmap *m, const void *key, int flag)
{
    if ((m->count + 1) * 2 > m->cap) {
        flagmap bigger = {lh_xcalloc(m->cap ? m->cap * 2 : 64, sizeof(slot)),
                          m->cap ? m->cap * 2 : 64, 0};
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].key)
                flag_put(&bigger, m->slots[i].key, m->slots[i].flag);
        free(m->slots);
        *m = bigger;
    }
    size_t i = hash_ptr(key) & (m->cap - 1);
    while (m->slots[i].key && m->slots[i].key != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].key) {
        m->slots[i].key = key;
        m->count++;
    }
    m->slots[i].flag = flag;
}

static int flag_get(const flagmap *m, const void *key)
{
    if (!m->cap)
        return F_NONE;
    size_t i = hash_ptr(key) & (m->cap - 1);
    while (m->slots[i].key) {
        if (m->slots[i].key == key)
            return m->slots[i].flag;
        i = (i + 1) & (m->cap - 1);
    }
    return F_NONE;
}

static int fail(parser *p, size_t at, const char *fmt, ...) LH_PRINTF(3, 4);

/* Line and column are computed only on failure, so the happy path tracks nothing. Columns
 * count characters, not bytes. */
static int fail(parser *p, size_t at, const char *fmt, ...)
{
    size_t line = 1, col = 1;
    if (at > p->len)
        at = p->len;
    for (size_t i = 0; i < at; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)p->s[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lh_err_set(p->err, LH_INVALID_ARGUMENT, "config line %zu, column %zu: %s", line, col,
                      what);
}

static int peek_at(const parser *p, size_t off)
{
    return p->pos + off < p->len ? (unsigned char)p->s[p->pos + off] : -1;
}

static int peek(const parser *p) { return peek_at(p, 0); }

/* A printable description of the character at pos, for "found ..." messages. */
static const char *found(const parser *p, char buf[24])
{
    int c = peek(p);
    if (c < 0)
        snprintf(buf, 24, "end of input");
    else if (c == '\n')
        snprintf(buf, 24, "end of line");
    else if (c == '\r')
        snprintf(buf, 24, "carriage return");
    else if (c > 0x20 && c < 0x7f)
        snprintf(buf, 24, "'%c'", c);
    else
        snprintf(buf, 24, "byte 0x%02x", (unsigned)c);
    return buf;
}

static void skip_ws(parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        p->pos++;
}

static bool eat_newline(parser *p)
{
    if (peek(p) == '\n') {
        p->pos++;
        return true;
    }
    if (peek(p) == '\r' && peek_at(p, 1) == '\n') {
        p->pos += 2;
        return true;
    }
    return false;
}

static bool is_control(int c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

static int skip_comment(parser *p)
{
    if (peek(p) != '#')
        return 0;
    while (p->pos < p->len && p->s[p->pos] != '\n') {
        int c = peek(p);
        if (c == '\r' && peek_at(p, 1) == '\n')
            break;
        if (is_control(c))
            return fail(p, p->pos, "control character in comment");
        p->pos++;
    }
    return 0;
}

/* Whitespace, comments and newlines, as allowed between array elements. */
static int skip_blank(parser *p)
{
    for (;;) {
        skip_ws(p);
        if (skip_comment(p) < 0)
            return -1;
        if (!eat_newline(p))
            return 0;
    }
}

/* After a statement only whitespace and a comment may follow on the line. */
static int end_of_line(parser *p)
{
    char b[24];
    skip_ws(p);
    if (skip_comment(p) < 0)
        return -1;
    if (p->pos >= p->len || eat_newline(p))
        return 0;
    return fail(p, p->pos, "expected end of line, found %s", found(p, b));
}

/* The whole document must be UTF-8 without NUL bytes; checking once up front lets every
 * later step hand bytes to jansson without re-validating. */
static int check_utf8(parser *p)
{
    const unsigned char *s = (const unsigned char *)p->s;
    size_t i = 0;
    while (i < p->len) {
        unsigned c = s[i];
        if (c == 0)
            return fail(p, i, "NUL byte in input");
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return fail(p, i, "invalid UTF-8");
        }
        if (p->len - i <= n)
            return fail(p, i, "invalid UTF-8");
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return fail(p, i, "invalid UTF-8");
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(p, i, "invalid UTF-8");
        i += n + 1;
    }
    return 0;
}

static void put_utf8(lh_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    lh_buf_append(b, u, n);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* At a backslash inside a basic string: decodes one escape. */
static int parse_escape(parser *p, lh_buf *out)
{
    size_t at = p->pos;
    int e = peek_at(p, 1);
    p->pos += 2;
    switch (e) {
    case 'b': lh_buf_putc(out, '\b'); return 0;
    case 't': lh_buf_putc(out, '\t'); return 0;
    case 'n': lh_buf_putc(out, '\n'); return 0;
    case 'f': lh_buf_putc(out, '\f'); return 0;
    case 'r': lh_buf_putc(out, '\r'); return 0;
    case '"': lh_buf_putc(out, '"'); return 0;
    case '\\': lh_buf_putc(out, '\\'); return 0;
    case 'u':
    case 'U': {
        int digits = e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 0; i < digits; i++) {
            int v = hexval(peek(p));
            if (v < 0)
                return fail(p, at, "\\%c escape needs %d hex digits", e, digits);
            cp = (cp << 4) | (uint32_t)v;
            p->pos++;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(p, at, "\\%c escape is not a Unicode scalar value", e);
        put_utf8(out, cp);
        return 0;
    }
    default:
        if (e > 0x20 && e < 0x7f)
            return fail(p, at, "invalid escape '\\%c'", e);
        return fail(p, at, "invalid escape");
    }
}

/* """...""" or '''...''': newlines kept (CRLF becomes LF), a newline right after the opening
 * delimiter dropped, and in basic form a backslash at end of line joins the next line. */
static int parse_ml_string(parser *p, lh_buf *out, int q)
{
    size_t start = p->pos;
    p->pos += 3;
    (void)eat_newline(p); /* optional: absent is fine */
    for (;;) {
        int c = peek(p);
        if (c < 0)
            return fail(p, start, "unterminated multi-line string");
        if (c == q && peek_at(p, 1) == q && peek_at(p, 2) == q) {
            /* Up to two more quotes right before the delimiter belong to the content. */
            int extra = 0;
            while (extra < 2 && peek_at(p, 3 + (size_t)extra) == q)
                extra++;
            for (int i = 0; i < extra; i++)
                lh_buf_putc(out, (char)q);
            p->pos += 3 + (size_t)extra;
            return 0;
        }
        if (c == '\r' && peek_at(p, 1) == '\n') {
            lh_buf_putc(out, '\n');
            p->pos += 2;
        } else if (c == '\n') {
            lh_buf_putc(out, '\n');
            p->pos++;
        } else if (q == '"' && c == '\\') {
            size_t look = p->pos + 1;
            while (look < p->len && (p->s[look] == ' ' || p->s[look] == '\t'))
                look++;
            bool at_eol = look < p->len && (p->s[look] == '\n' ||
                                           (p->s[look] == '\r' && look + 1 < p->len &&
                                            p->s[look + 1] == '\n'));
            if (at_eol) {
                p->pos = look;
                for (;;) {
                    if (peek(p) == ' ' || peek(p) == '\t')
                        p->pos++;
                    else if (!eat_newline(p))
                        break;
                }
            } else if (parse_escape(p, out) < 0) {
                return -1;
            }
        } else if (is_control(c)) {
            return fail(p, p->pos, "control character in string");
        } else {
            lh_buf_putc(out, (char)c);
            p->pos++;
        }
    }
}

/* At an opening quote: decodes a basic ("...") or literal ('...') string into out. */
static int parse_string(parser *p, lh_buf *out, bool allow_multiline)
{
    int q = peek(p);
    size_t start = p->pos;
    if (peek_at(p, 1) == q && peek_at(p, 2) == q) {
        if (!allow_multiline)
            return fail(p, start, "multi-line string not allowed here");
        return parse_ml_string(p, out, q);
    }
    p->pos++;
    for (;;) {
        int c = peek(p);
        if (c < 0 || c == '\n' || c == '\r')
            return fail(p, start, "unterminated string");
        if (c == q) {
            p->pos++;
            return 0;
        }
        if (q == '"' && c == '\\') {
            if (parse_escape(p, out) < 0)
                return -1;
            continue;
        }
        if (is_control(c))
            return fail(p, p->pos, "control character in string");
        lh_buf_putc(out, (char)c);
        p->pos++;
    }
}

static bool is_bare(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static char *parse_key_part(parser *p)
{
    char b[24];
    int c = peek(p);
    if (c == '"' || c == '\'') {
        lh_buf k;
        lh_buf_init(&k);
        size_t at = p->pos;
        if (parse_string(p, &k, false) < 0) {
            lh_buf_release(&k);
            return NULL;
        }
        if (k.len && memchr(k.data, 0, k.len)) {
            lh_buf_release(&k);
            (void)fail(p, at, "NUL character in key");
            return NULL;
        }
        char *key = lh_xstrndup(k.data ? k.data : "", k.len);
        lh_buf_release(&k);
        return key;
    }
    if (!is_bare(c)) {
        (void)fail(p, p->pos, "expected a key, found %s", found(p, b));
        return NULL;
    }
    size_t start = p->pos;
    while (is_bare(peek(p)))
        p->pos++;
    return lh_xstrndup(p->s + start, p->pos - start);
}

static void keypath_free(keypath *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->part[i]);
    k->n = 0;
}

/* key ( '.' key )*, whitespace allowed around the dots. */
static int parse_key(parser *p, keypath *k)
{
    k->n = 0;
    for (;;) {
        skip_ws(p);
        if (k->n == TOML_MAX_DEPTH)
            return fail(p, p->pos, "key has more than %d parts", TOML_MAX_DEPTH);
        k->pos[k->n] = p->pos;
        char *part = parse_key_part(p);
        if (!part)
            return -1;
        k->part[k->n++] = part;
        skip_ws(p);
        if (peek(p) != '.')
            return 0;
        p->pos++;
    }
}

/* "a.b.c" (first n parts) for messages. */
static const char *key_name(const keypath *k, int n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? "." : "", k->part[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

static json_t *parse_value(parser *p, int depth);

static int set_new(parser *p, json_t *obj, const char *key, json_t *v, size_t at)
{
    if (json_object_set_new(obj, key, v) < 0)
        return fail(p, at, "cannot store key");
    return 0;
}

/* key = value, into table tbl at nesting depth tdepth (dotted keys create sub-tables).
 * Depth counts containers below the root: tables and arrays, never scalars. */
static int parse_keyval(parser *p, json_t *tbl, int tdepth)
{
    char name[256], b[24];
    keypath k;
    int rc = -1;
    if (parse_key(p, &k) < 0)
        goto out;
    if (tdepth + k.n - 1 > TOML_MAX_DEPTH) {
        rc = fail(p, k.pos[0], "nested more than %d levels deep", TOML_MAX_DEPTH);
        goto out;
    }
    json_t *t = tbl;
    for (int i = 0; i < k.n - 1; i++) {
        json_t *child = json_object_get(t, k.part[i]);
        if (!child) {
            child = json_object();
            if (set_new(p, t, k.part[i], child, k.pos[i]) < 0)
                goto out;
            flag_put(&p->flags, child, F_DOTTED);
        } else if (!json_is_object(child) || flag_get(&p->flags, child) != F_DOTTED) {
            rc = fail(p, k.pos[i], "cannot add to '%s' with a dotted key: it is already defined",
                      key_name(&k, i + 1, name, sizeof name));
            goto out;
        }
        t = child;
    }
    const char *last = k.part[k.n - 1];
    if (json_object_get(t, last)) {
        rc = fail(p, k.pos[k.n - 1], "duplicate key '%s'", key_name(&k, k.n, name, sizeof name));
        goto out;
    }
    skip_ws(p);
    if (peek(p) != '=') {
        rc = fail(p, p->pos, "expected '=' after key '%s', found %s",
                  key_name(&k, k.n, name, sizeof name), found(p, b));
        goto out;
    }
    p->pos++;
    skip_ws(p);
    size_t vpos = p->pos;
    json_t *v = parse_value(p, tdepth + k.n);
    if (!v)
        goto out;
    rc = set_new(p, t, last, v, vpos);
out:
    keypath_free(&k);
    return rc;
}

static json_t *parse_array(parser *p, int depth)
{
    char b[24];
    json_t *arr = json_array();
    p->pos++;
    for (;;) {
        if (skip_blank(p) < 0)
            break;
        if (peek(p) == ']') {
            p->pos++;
            return arr;
        }
        json_t *v = parse_value(p, depth + 1);
        if (!v)
            break;
        if (json_array_append_new(arr, v) < 0) {
            (void)fail(p, p->pos, "cannot store array element");
            break;
        }
        if (skip_blank(p) < 0)
            break;
        if (peek(p) == ',') {
            p->pos++;
            continue;
        }
        if (peek(p) == ']') {
            p->pos++;
            return arr;
        }
        (void)fail(p, p->pos, "expected ',' or ']' in array, found %s", found(p, b));
        break;
    }
    json_decref(arr);
    return NULL;
}

/* { k = v, ... } on one line, no trailing comma (TOML 1.0); frozen once closed. */
static json_t *parse_inline_table(parser *p, int depth)
{
    char b[24];
    json_t *t = json_object();
    p->pos++;
    skip_ws(p);
    if (peek(p) == '}') {
        p->pos++;
        flag_put(&p->flags, t, F_INLINE);
        return t;
    }
    for (;;) {
        if (parse_keyval(p, t, depth) < 0)
            break;
        skip_ws(p);
        if (peek(p) == ',') {
            p->pos++;
            skip_ws(p);
            continue;
        }
        if (peek(p) == '}') {
            p->pos++;
            flag_put(&p->flags, t, F_INLINE);
            return t;
        }
        (void)fail(p, p->pos, "expected ',' or '}' in inline table, found %s", found(p, b));
        break;
    }
    json_decref(t);
    return NULL;
}

/* Digits with single underscores between them; appends the digits (without '_') to out. */
static int copy_digits(const char *t, size_t n, size_t *i, char *out, size_t *d)
{
    size_t start = *i;
    while (*i < n) {
        char c = t[*i];
        if (c >= '0' && c <= '9') {
            out[(*d)++] = c;
        } else if (c == '_') {
            if (*i == start || *i + 1 >= n || t[*i + 1] < '0' || t[*i + 1] > '9')
                return -1;
        } else {
            break;
        }
        (*i)++;
    }
    return *i > start ? 0 : -1;
}

static json_t *parse_prefixed_int(parser *p, size_t at, const char *t, size_t n)
{
    int base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
    uint64_t v = 0;
    bool any = false;
    for (size_t i = 2; i < n; i++) {
        if (t[i] == '_' && any && i + 1 < n && t[i + 1] != '_')
            continue;
        int d = hexval((unsigned char)t[i]);
        if (d < 0 || d >= base) {
            (void)fail(p, at, "invalid base-%d integer", base);
            return NULL;
        }
        if (v > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base) {
            (void)fail(p, at, "integer out of range");
            return NULL;
        }
        v = v * (uint64_t)base + (uint64_t)d;
        any = true;
    }
    if (!any) {
        (void)fail(p, at, "invalid base-%d integer", base);
        return NULL;
    }
    return json_integer((json_int_t)v);
}

static json_t *parse_number(parser *p, size_t at, const char *t, size_t n)
{
    char num[128];
    size_t i = 0, d = 0;
    bool is_float = false;
    if (n >= sizeof num) {
        (void)fail(p, at, "number too long");
        return NULL;
    }
    if (n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b'))
        return parse_prefixed_int(p, at, t, n);
    if (t[0] == '+' || t[0] == '-')
        num[d++] = t[i++];
    bool digit_follows = i + 1 < n && (t[i + 1] == '_' || (t[i + 1] >= '0' && t[i + 1] <= '9'));
    if (i < n && t[i] == '0' && digit_follows) {
        (void)fail(p, at, "leading zeros are not allowed");
        return NULL;
    }
    if (copy_digits(t, n, &i, num, &d) < 0)
        goto bad;
    if (i < n && t[i] == '.') {
        is_float = true;
        num[d++] = t[i++];
        if (copy_digits(t, n, &i, num, &d) < 0)
            goto bad;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        is_float = true;
        num[d++] = t[i++];
        if (i < n && (t[i] == '+' || t[i] == '-'))
            num[d++] = t[i++];
        if (copy_digits(t, n, &i, num, &d) < 0)
            goto bad;
    }
    if (i != n)
        goto bad;
    num[d] = '\0';
    char *end;
    errno = 0;
    if (!is_float) {
        long long v = strtoll(num, &end, 10);
        if (errno == ERANGE) {
            (void)fail(p, at, "integer out of range");
            return NULL;
        }
        return json_integer((json_int_t)v);
    }
    double v = strtod(num, &end);
    if (!isfinite(v)) {
        (void)fail(p, at, "float out of range");
        return NULL;
    }
    return json_real(v);
bad:
    (void)fail(p, at, "invalid value '%.*s'", (int)n, t);
    return NULL;
}

/* Booleans, numbers, and the unsupported bare values we can name (dates, inf, nan). */
static json_t *parse_bare_value(parser *p)
{
    char b[24];
    size_t at = p->pos;
    while (p->pos < p->len) {
        int c = peek(p);
        if (!is_bare(c) && c != '+' && c != '.' && c != ':')
            break;
        p->pos++;
    }
    const char *t = p->s + at;
    size_t n = p->pos - at;
    if (n == 0) {
        (void)fail(p, at, "expected a value, found %s", found(p, b));
        return NULL;
    }
    if (n == 4 && memcmp(t, "true", 4) == 0)
        return json_true();
    if (n == 5 && memcmp(t, "false", 5) == 0)
        return json_false();
    const char *u = (t[0] == '+' || t[0] == '-') ? t + 1 : t;
    size_t un = n - (size_t)(u - t);
    if ((un == 3 && (memcmp(u, "inf", 3) == 0 || memcmp(u, "nan", 3) == 0))) {
        (void)fail(p, at, "inf and nan are not supported");
        return NULL;
    }
    bool date_like = n >= 5 && t[4] == '-';
    for (size_t i = 0; i < 4 && date_like; i++)
        date_like = t[i] >= '0' && t[i] <= '9';
    if (date_like || memchr(t, ':', n)) {
        (void)fail(p, at, "dates and times are not supported");
        return NULL;
    }
    return parse_number(p, at, t, n);
}

static json_t *parse_value(parser *p, int depth)
{
    int c = peek(p);
    if ((c == '[' || c == '{') && depth > TOML_MAX_DEPTH) {
        (void)fail(p, p->pos, "nested more than %d levels deep", TOML_MAX_DEPTH);
        return NULL;
    }
    if (c == '"' || c == '\'') {
        lh_buf s;
        lh_buf_init(&s);
        size_t at = p->pos;
        json_t *v = NULL;
        if (parse_string(p, &s, true) == 0) {
            v = json_stringn(s.data ? s.data : "", s.len);
            if (!v)
                (void)fail(p, at, "invalid string");
        }
        lh_buf_release(&s);
        return v;
    }
    if (c == '[')
        return parse_array(p, depth);
    if (c == '{')
        return parse_inline_table(p, depth);
    return parse_bare_value(p);
}

/* Walks a header path from the root, creating implicit tables and stepping into the last
 * element of arrays of tables. Returns the table holding the last key. */
static json_t *walk_header(parser *p, const keypath *k)
{
    char name[256];
    json_t *t = p->root;
    for (int i = 0; i < k->n - 1; i++) {
        json_t *child = json_object_get(t, k->part[i]);
        if (!child) {
            child = json_object();
            if (set_new(p, t, k->part[i], child, k->pos[i]) < 0)
                return NULL;
            flag_put(&p->flags, child, F_IMPLICIT);
        } else if (json_is_object(child)) {
            if (flag_get(&p->flags, child) == F_INLINE) {
                (void)fail(p, k->pos[i], "cannot extend inline table '%s'",
                           key_name(k, i + 1, name, sizeof name));
                return NULL;
            }
        } else if (json_is_array(child) && flag_get(&p->flags, child) == F_AOT) {
            child = json_array_get(child, json_array_size(child) - 1);
        } else {
            (void)fail(p, k->pos[i], "'%s' is already a value, not a table",
                       key_name(k, i + 1, name, sizeof name));
            return NULL;
        }
        t = child;
    }
    return t;
}

/* [a.b] or [[a.b]]: makes the named table current. */
static int parse_header(parser *p)
{
    char name[256], b[24];
    bool aot = peek_at(p, 1) == '[';
    keypath k;
    int rc = -1;
    p->pos += aot ? 2 : 1;
    if (parse_key(p, &k) < 0)
        goto out;
    if (peek(p) != ']' || (aot && peek_at(p, 1) != ']')) {
        if (peek(p) == ']')
            p->pos++; /* "[[t]": point at what stands where the second ']' should be */
        rc = fail(p, p->pos, "expected '%s' to close table header, found %s", aot ? "]]" : "]",
                  found(p, b));
        goto out;
    }
    p->pos += aot ? 2 : 1;
    json_t *t = walk_header(p, &k);
    if (!t)
        goto out;
    const char *last = k.part[k.n - 1];
    size_t at = k.pos[k.n - 1];
    json_t *existing = json_object_get(t, last);
    key_name(&k, k.n, name, sizeof name);
    if (aot) {
        json_t *arr = existing;
        if (!arr) {
            arr = json_array();
            if (set_new(p, t, last, arr, at) < 0)
                goto out;
            flag_put(&p->flags, arr, F_AOT);
        } else if (!json_is_array(arr) || flag_get(&p->flags, arr) != F_AOT) {
            rc = fail(p, at, "'%s' is already defined and is not an array of tables", name);
            goto out;
        }
        json_t *tbl = json_object();
        if (json_array_append_new(arr, tbl) < 0) {
            rc = fail(p, at, "cannot store table");
            goto out;
        }
        flag_put(&p->flags, tbl, F_HEADER);
        p->cur = tbl;
    } else if (!existing) {
        json_t *tbl = json_object();
        if (set_new(p, t, last, tbl, at) < 0)
            goto out;
        flag_put(&p->flags, tbl, F_HEADER);
        p->cur = tbl;
    } else if (json_is_object(existing) && flag_get(&p->flags, existing) == F_IMPLICIT) {
        flag_put(&p->flags, existing, F_HEADER);
        p->cur = existing;
    } else {
        rc = fail(p, at, "table '%s' is already defined", name);
        goto out;
    }
    p->cur_depth = k.n;
    rc = end_of_line(p);
out:
    keypath_free(&k);
    return rc;
}

json_t *lh_toml_parse(const char *text, size_t len, lh_err *err)
{
    parser p = {.s = text ? text : "", .len = text ? len : 0, .err = err};
    p.root = json_object();
    p.cur = p.root;
    int rc = check_utf8(&p);
    if (rc == 0 && p.len >= 3 && memcmp(p.s, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3; /* a byte-order mark some editors write */
    while (rc == 0 && p.pos < p.len) {
        skip_ws(&p);
        int c = peek(&p);
        if (c < 0)
            break;
        if (c == '#' || c == '\n' || c == '\r')
            rc = end_of_line(&p);
        else if (c == '[')
            rc = parse_header(&p);
        else if ((rc = parse_keyval(&p, p.cur, p.cur_depth)) == 0)
            rc = end_of_line(&p);
    }
    free(p.flags.slots);
    if (rc < 0) {
        json_decref(p.root);
        return NULL;
    }
    return p.root;
}
