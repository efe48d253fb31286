/* lh_buf: the growable byte buffer, with the JSON-string and CSV-field encoders that result
 * streaming and every JSON writer use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

void lh_buf_init(lh_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void lh_buf_release(lh_buf *b)
{
    free(b->data);
    lh_buf_init(b);
}

void lh_buf_reset(lh_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void lh_buf_grow(lh_buf *b, size_t extra)
{
    if (b->cap - b->len > extra)
        return;
    size_t need = b->len + extra + 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = lh_xrealloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0'; /* a fresh buffer is a valid empty string at once */
}

void lh_buf_append(lh_buf *b, const void *p, size_t n)
{
    lh_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void lh_buf_puts(lh_buf *b, const char *s)
{
    lh_buf_append(b, s, strlen(s));
}

void lh_buf_printf(lh_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        lh_buf_append(b, small, (size_t)n);
    } else {
        lh_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        min = 0x80;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return len;
}

/* Bytes that JSON strings carry as they are: printable ASCII other than '"' and '\\'. */
static const unsigned char json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

void lh_buf_json_string(lh_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    /* Worst case: every byte as \u00XX (6 bytes) or U+FFFD (3 bytes). */
    lh_buf_reserve(b, n + 2);
    lh_buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (i < n && json_plain[p[i]])
            i++;
        lh_buf_append(b, p + run, i - run);
        if (i == n)
            break;
        unsigned c = p[i];
        if (c >= 0x80) {
            size_t adv = utf8_seq_len(p + i, n - i);
            if (adv == 0) {
                lh_buf_puts(b, "\xEF\xBF\xBD"); /* U+FFFD for a byte that is not UTF-8 */
                adv = 1;
            } else {
                lh_buf_append(b, p + i, adv);
            }
            i += adv;
            continue;
        }
        char esc[7] = {'\\', 0};
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default: /* other control characters and DEL */
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        lh_buf_append(b, esc, elen);
        i++;
    }
    lh_buf_putc(b, '"');
}

void lh_buf_csv_field(lh_buf *b, const char *s, size_t n)
{
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        lh_buf_append(b, s, n);
        return;
    }
    lh_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            lh_buf_append(b, s + run, i + 1 - run);
            lh_buf_putc(b, '"');
            run = i + 1;
        }
    }
    lh_buf_append(b, s + run, n - run);
    lh_buf_putc(b, '"');
}

char *lh_buf_detach(lh_buf *b, size_t *len)
{
    if (!b->data)
        lh_buf_reserve(b, 0);
    char *p = b->data;
    if (len)
        *len = b->len;
    lh_buf_init(b);
    return p;
}
