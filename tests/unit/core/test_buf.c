/* Unit tests for lh_buf (src/core/buf.c): growth, NUL termination, printf, JSON string and CSV
 * field encoding, detach. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "core/core.h"

Test(buf, starts_empty_and_grows)
{
    lh_buf b;
    lh_buf_init(&b);
    cr_assert(eq(sz, b.len, 0));
    for (int i = 0; i < 10000; i++)
        lh_buf_putc(&b, (char)('a' + i % 26));
    cr_assert(eq(sz, b.len, 10000));
    cr_assert(ge(sz, b.cap, 10001));
    cr_assert(eq(chr, b.data[0], 'a'));
    cr_assert(eq(chr, b.data[9999], (char)('a' + 9999 % 26)));
    cr_assert(eq(chr, b.data[10000], '\0'));
    lh_buf_release(&b);
    cr_assert_null(b.data);
    cr_assert(eq(sz, b.len, 0));
}

Test(buf, append_puts_printf)
{
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_append(&b, "ab\0cd", 5);
    cr_assert(eq(sz, b.len, 5));
    cr_assert(eq(int, memcmp(b.data, "ab\0cd", 6), 0));
    lh_buf_reset(&b);
    cr_assert(eq(sz, b.len, 0));
    cr_assert(eq(str, b.data, ""));
    lh_buf_puts(&b, "n=");
    lh_buf_printf(&b, "%d/%s", 42, "x");
    cr_assert(eq(str, b.data, "n=42/x"));
    /* Longer than any small internal buffer. */
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    lh_buf_printf(&b, "[%s]", big);
    cr_assert(eq(sz, b.len, 6 + 2 + 999));
    cr_assert(eq(chr, b.data[b.len - 1], ']'));
    cr_assert(eq(chr, b.data[b.len], '\0'));
    lh_buf_append(&b, "", 0);
    cr_assert(eq(sz, b.len, 1007));
    lh_buf_release(&b);
}

Test(buf, reserve_keeps_content)
{
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "keep");
    lh_buf_reserve(&b, 100000);
    cr_assert(ge(sz, b.cap, 100005));
    cr_assert(eq(str, b.data, "keep"));
    lh_buf_release(&b);
}

Test(buf, detach)
{
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "hello");
    size_t len = 0;
    char *s = lh_buf_detach(&b, &len);
    cr_assert(eq(str, s, "hello"));
    cr_assert(eq(sz, len, 5));
    cr_assert_null(b.data);
    cr_assert(eq(sz, b.len, 0));
    free(s);
    /* A buffer never written to detaches as an empty string, not garbage. */
    s = lh_buf_detach(&b, &len);
    cr_assert_not_null(s);
    cr_assert(eq(sz, len, 0));
    cr_assert(eq(str, s, ""));
    free(s);
}

static char *json_of(const char *s, size_t n)
{
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_json_string(&b, s, n);
    return lh_buf_detach(&b, NULL);
}

static void expect_json_string(const char *s, size_t n, const char *want)
{
    char *got = json_of(s, n);
    cr_assert(eq(str, got, (char *)want));
    /* Whatever we write must be JSON that jansson reads back. */
    json_error_t je;
    json_t *j = json_loads(got, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    cr_assert_not_null(j, "not valid JSON: %s (%s)", got, je.text);
    json_decref(j);
    free(got);
}

Test(buf, json_string_escapes)
{
    expect_json_string("", 0, "\"\"");
    expect_json_string("plain", 5, "\"plain\"");
    expect_json_string("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"");
    expect_json_string("a\nb\rc\td", 7, "\"a\\nb\\rc\\td\"");
    expect_json_string("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    expect_json_string("nul\0x", 5, "\"nul\\u0000x\"");
}

Test(buf, json_string_utf8)
{
    /* Valid UTF-8 passes through untouched: 2-, 3- and 4-byte sequences. */
    expect_json_string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14,
                       "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    /* Invalid bytes become U+FFFD, one per bad byte. */
    expect_json_string("a\xff" "b", 3, "\"a\xEF\xBF\xBD" "b\"");
    expect_json_string("\xC3", 1, "\"\xEF\xBF\xBD\"");                 /* truncated */
    expect_json_string("\xC0\xAF", 2, "\"\xEF\xBF\xBD\xEF\xBF\xBD\""); /* overlong */
    expect_json_string("\xED\xA0\x80", 3,
                       "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""); /* surrogate */
    expect_json_string("\xF4\x90\x80\x80", 4,
                       "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""); /* > U+10FFFF */
}

static void expect_csv(const char *s, const char *want)
{
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_csv_field(&b, s, strlen(s));
    cr_assert(eq(str, b.data ? b.data : "", (char *)want));
    lh_buf_release(&b);
}

Test(buf, csv_field_quoting)
{
    expect_csv("plain", "plain");
    expect_csv("", "");
    expect_csv("a,b", "\"a,b\"");
    expect_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
    expect_csv("line\nbreak", "\"line\nbreak\"");
    expect_csv("cr\rhere", "\"cr\rhere\"");
    expect_csv("\"", "\"\"\"\"");
    expect_csv("sp ace;tab\t", "sp ace;tab\t");
}
