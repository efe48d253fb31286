/* libFuzzer target for lh_chunk_text, which cuts untrusted document text (ingested files) for
 * embedding. The first bytes pick the options, the rest is the text. Any input must give
 * chunks that keep the invariants below, never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vector/vector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Length of the well-formed UTF-8 sequence at s[p], or 1 for a byte that starts none. */
static size_t seq_len(const uint8_t *s, size_t n, size_t p)
{
    uint8_t c = s[p];
    size_t need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (need == 0 || need == 9 || p + need >= n)
        return 1;
    uint32_t cp = c & (0x3Fu >> need);
    for (size_t i = 1; i <= need; i++) {
        if ((s[p + i] & 0xC0) != 0x80)
            return 1;
        cp = (cp << 6) | (s[p + i] & 0x3Fu);
    }
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 1;
    return need + 1;
}

/* Units of s[a..b): code points (an invalid byte is one) or whitespace-separated tokens. */
static size_t units(const uint8_t *s, size_t n, size_t a, size_t b, lh_chunk_unit u)
{
    size_t k = 0;
    for (size_t p = a; p < b;) {
        if (u == LH_CHUNK_TOKENS) {
            k += !is_ws(s[p]) && (p == a || is_ws(s[p - 1]));
            p++;
        } else {
            k++;
            p += seq_len(s, n, p);
        }
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || size > (1u << 20))
        return 0;
    lh_chunk_opts o = {(data[0] & 1) ? LH_CHUNK_TOKENS : LH_CHUNK_CHARS, (size_t)data[1] % 64,
                       (size_t)data[2] % 64};
    const uint8_t *s = data + 3;
    size_t len = size - 3;
    lh_chunk *c = NULL;
    lh_err err = LH_ERR_INIT;
    ssize_t n = lh_chunk_text((const char *)s, len, &o, &c, &err);
    if (o.size == 0 || o.overlap >= o.size) {
        if (n != -1 || err.code != LH_INVALID_ARGUMENT || c)
            abort();
        return 0;
    }
    if (n < 0 || (n == 0) != (c == NULL))
        abort();
    uint8_t *boundary = calloc(len + 1, 1);
    if (!boundary)
        abort();
    for (size_t p = 0; p < len; p += seq_len(s, len, p))
        boundary[p] = 1;
    boundary[len] = 1;
    size_t covered_to = 0; /* every non-space byte before this lies in some chunk */
    for (ssize_t i = 0; i < n; i++) {
        size_t a = c[i].start, b = c[i].end;
        if (a >= b || b > len || is_ws(s[a]) || is_ws(s[b - 1]))
            abort();
        /* Never inside a UTF-8 sequence, never more than size units. */
        if (!boundary[a] || !boundary[b] || units(s, len, a, b, o.unit) > o.size)
            abort();
        if (i > 0 && (a <= c[i - 1].start || b <= c[i - 1].end))
            abort();
        for (size_t p = covered_to; p < a; p++)
            if (!is_ws(s[p]))
                abort();
        if (b > covered_to)
            covered_to = b;
    }
    for (size_t p = covered_to; p < len; p++)
        if (!is_ws(s[p]))
            abort();
    free(boundary);
    free(c);
    return 0;
}
