/* Tests for src/ingest/json_check.c: the streaming JSON syntax checker that locates where a
 * refused JSON file breaks (exact byte offsets, lines and reasons, across buffer bounds). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

/* Runs the checker over len bytes of text written to a temporary file. */
static int check(const char *text, size_t len, lh_json_fault *f) {
    char path[] = "/tmp/lhjc-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    lh_err err = LH_ERR_INIT;
    memset(f, 0, sizeof *f);
    int rc = lh_ingest__json_find_fault(path, false, f, &err);
    cr_assert_neq(rc, -1, "%s", err.message);
    unlink(path);
    return rc;
}

static void expect_valid(const char *text, size_t len) {
    lh_json_fault f;
    int rc = check(text, len, &f);
    cr_expect_eq(rc, 0, "'%.*s' is valid, got a fault at %llu: %s", (int)(len > 80 ? 80 : len),
                 text, (unsigned long long)f.offset, f.what);
}

static void expect_fault(const char *text, size_t len, uint64_t offset, int64_t line,
                         const char *what) {
    lh_json_fault f;
    int rc = check(text, len, &f);
    cr_expect_eq(rc, 1, "'%.*s' should be refused", (int)(len > 80 ? 80 : len), text);
    cr_expect_eq(f.offset, offset, "'%.*s': offset %llu, want %llu (%s)",
                 (int)(len > 80 ? 80 : len), text, (unsigned long long)f.offset,
                 (unsigned long long)offset, f.what);
    cr_expect_eq(f.line, line, "'%.*s': line %lld, want %lld", (int)(len > 80 ? 80 : len),
                 text, (long long)f.line, (long long)line);
    cr_expect(strstr(f.what, what) != NULL, "'%.*s': reason '%s' lacks '%s'",
              (int)(len > 80 ? 80 : len), text, f.what, what);
}

#define VALID(s) expect_valid((s), sizeof(s) - 1)
#define FAULT(s, off, line, what) expect_fault((s), sizeof(s) - 1, (off), (line), (what))

Test(json_check, valid_documents) {
    VALID("{}");
    VALID("[]");
    VALID(" [ ] ");
    VALID("{\"a\":1}");
    VALID("{\"\":\"\"}");
    VALID("[1, -2.5e+3, 0, 0.0, -0, 1E5, 2e-7, 10, true, false, null, \"x\"]");
    VALID("\"str\"");
    VALID("42");
    VALID("  42  \n");
    VALID("{\"a\": {\"b\": [1, {\"c\": null}, []]}, \"d\": {}}");
    VALID("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\\u0000\"");
    VALID("\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E \xF4\x8F\xBF\xBF\"");
    VALID("\xEF\xBB\xBF{\"bom\": true}");
    VALID("[\r\n  1,\r\n  2\r\n]\r\n");
}

Test(json_check, valid_ndjson) {
    VALID("{\"a\":1}\n{\"b\":[1,{\"c\":null}]}\n");
    VALID("{\"a\":1}\n\n{\"a\":2}");
    VALID("{}{}");
    VALID("1 2 3");
    VALID("[1]\n[2]\n");
}

Test(json_check, structural_faults) {
    FAULT("{\"a\":1,}", 7, 1, "trailing comma before '}'");
    FAULT("[1,2,]", 5, 1, "trailing comma before ']'");
    FAULT("[1 2]", 3, 1, "expected ',' or ']', found '2'");
    FAULT("{\"a\":1 \"b\":2}", 7, 1, "expected ',' or '}', found '\"'");
    FAULT("{\"a\" 1}", 5, 1, "expected ':' after the key, found '1'");
    FAULT("{a:1}", 1, 1, "expected a string key, found 'a'");
    FAULT("{'a':1}", 1, 1, "expected a string key, found '''");
    FAULT("[1,2]]", 5, 1, "expected a value, found ']'");
    FAULT("{\"a\":1}}", 7, 1, "expected a value, found '}'");
    FAULT("[,1]", 1, 1, "expected a value, found ','");
    FAULT("{,}", 1, 1, "expected a string key, found ','");
    FAULT("[.5]", 1, 1, "expected a value, found '.'");
    FAULT("NaN", 0, 1, "expected a value, found 'N'");
    FAULT("[+1]", 1, 1, "expected a value, found '+'");
    FAULT("{}\x01", 2, 1, "found byte 0x01");
    FAULT("{\"a\":}", 5, 1, "expected a value, found '}'");
    FAULT("[1}", 2, 1, "expected ',' or ']', found '}'");
    FAULT("{\"a\":1]", 6, 1, "expected ',' or '}', found ']'");
}

Test(json_check, number_and_literal_faults) {
    FAULT("[01]", 2, 1, "leading zero");
    FAULT("[-]", 2, 1, "invalid number: ']' after '-'");
    FAULT("[-a]", 2, 1, "after '-'");
    FAULT("[1.]", 3, 1, "invalid number: ']' after '.'");
    FAULT("[1.e5]", 3, 1, "after '.'");
    FAULT("[1e]", 3, 1, "in the exponent");
    FAULT("[1e+]", 4, 1, "in the exponent");
    FAULT("[1x]", 2, 1, "expected ',' or ']', found 'x'");
    FAULT("[tru]", 4, 1, "invalid literal (expected 'true')");
    FAULT("[nulL]", 4, 1, "expected 'null'");
    FAULT("falsy", 4, 1, "expected 'false'");
    FAULT("[True]", 1, 1, "found 'T'");
}

Test(json_check, string_faults) {
    FAULT("\"a\\x\"", 3, 1, "invalid escape: 'x'");
    FAULT("\"\\u12G4\"", 5, 1, "'G' is not a hex digit");
    FAULT("\"ab\\uDC00\"", 3, 1, "unpaired UTF-16 surrogate");
    FAULT("\"\\uD800x\"", 7, 1, "unpaired UTF-16 surrogate");
    FAULT("\"\\uD800\\n\"", 8, 1, "unpaired UTF-16 surrogate");
    FAULT("\"\\uD800\\u0041\"", 7, 1, "unpaired UTF-16 surrogate");
    FAULT("\"\\uD800\"", 7, 1, "unpaired UTF-16 surrogate");
    FAULT("[\"a\nb\"]", 3, 1, "control character (byte 0x0A)");
    FAULT("\"tab\there\"", 4, 1, "control character (byte 0x09)");
    FAULT("{\"k\x01\":1}", 3, 1, "control character");
}

Test(json_check, invalid_utf8_in_strings) {
    FAULT("\"\xFF\"", 1, 1, "invalid UTF-8 (byte 0xFF)");
    FAULT("\"ok\xC3\x28\"", 4, 1, "invalid UTF-8 (byte 0x28)");
    FAULT("\"\xC0\xAF\"", 1, 1, "invalid UTF-8 (byte 0xC0)");        /* overlong '/' */
    FAULT("\"\xE0\x80\x80\"", 2, 1, "invalid UTF-8 (byte 0x80)");    /* overlong */
    FAULT("\"\xED\xA0\x80\"", 2, 1, "invalid UTF-8 (byte 0xA0)");    /* a surrogate */
    FAULT("\"\xF4\x90\x80\x80\"", 2, 1, "invalid UTF-8 (byte 0x90)"); /* past U+10FFFF */
    FAULT("\"\xF5\x80\x80\x80\"", 1, 1, "invalid UTF-8 (byte 0xF5)");
    FAULT("\"\xE2\x82\"", 3, 1, "invalid UTF-8 (byte 0x22)");
    FAULT("\"\x80\"", 1, 1, "invalid UTF-8 (byte 0x80)");
    FAULT("\"\xE2\x82", 3, 1, "truncated in a string");
    FAULT("[\xC3\xA9]", 1, 1, "found byte 0xC3"); /* outside a string: just a bad byte */
}

Test(json_check, truncated_inputs) {
    FAULT("[nul", 4, 1, "truncated in a literal");
    FAULT("{\"a\":\"b", 7, 1, "truncated in a string");
    FAULT("{\"a\":\"b\\", 8, 1, "truncated in a string");
    FAULT("\"\\u00", 5, 1, "truncated in a string");
    FAULT("{\"a\":[1,2", 9, 1, "truncated in an array");
    FAULT("{\"a\":1", 6, 1, "truncated in an object");
    FAULT("{\"a\":1,\n", 8, 2, "truncated in an object");
    FAULT("{\"a\"", 4, 1, "truncated in an object");
    FAULT("[1.", 3, 1, "truncated in a number");
    FAULT("-", 1, 1, "truncated in a number");
    FAULT("[1e", 3, 1, "truncated in a number");
    FAULT("[12", 3, 1, "truncated in an array");
    FAULT("\xEF\xBB\xBF{", 4, 1, "truncated in an object");
    FAULT("", 0, 1, "no JSON value");
    FAULT("  \n ", 4, 2, "no JSON value");
}

Test(json_check, lines_in_ndjson) {
    FAULT("{\"a\":1}\n{\"a\":2}\n{\"a\":3,}\n", 23, 3, "trailing comma");
    FAULT("{\"a\":1}\r\n{\"a\":2}\r\n{\"a\"=3}\r\n", 22, 3, "expected ':'");
    FAULT("[\n1,\n2,\n\"x\ny\"]", 10, 4, "control character");
}

/* A depth of exactly 512 is fine; the 513th opening bracket is refused. */
Test(json_check, nesting_limit) {
    char doc[1024];
    memset(doc, '[', 512);
    memset(doc + 512, ']', 512);
    expect_valid(doc, 1024);
    /* objects and arrays mixed: {"a":[{"a":[ ... */
    lh_buf b;
    lh_buf_init(&b);
    for (int i = 0; i < 256; i++)
        lh_buf_puts(&b, "{\"a\":[");
    for (int i = 0; i < 256; i++)
        lh_buf_puts(&b, "]}");
    expect_valid(b.data, b.len);
    lh_buf_reset(&b);
    for (int i = 0; i < 600; i++)
        lh_buf_putc(&b, '[');
    expect_fault(b.data, b.len, 512, 1, "nesting deeper than 512");
    lh_buf_release(&b);
}

/* Documents larger than the 64 KiB read buffer: state carries across reads. */
Test(json_check, across_buffer_boundaries) {
    const size_t K64 = 65536;
    lh_buf b;
    lh_buf_init(&b);
    /* a valid array whose items straddle the boundary at every phase */
    lh_buf_putc(&b, '[');
    for (int i = 0; b.len < 3 * K64; i++)
        lh_buf_printf(&b, "%s{\"n\":%d,\"s\":\"\\u00e9\xE2\x82\xAC\\n\",\"f\":-1.5e+3,\"t\":true}",
                      i ? ",\n" : "", i);
    lh_buf_putc(&b, ']');
    expect_valid(b.data, b.len);

    /* each byte offset around the boundary as the fault position */
    for (size_t at = K64 - 3; at <= K64 + 3; at++) {
        lh_buf_reset(&b);
        lh_buf_puts(&b, "[\"");
        while (b.len < at)
            lh_buf_putc(&b, 'x');
        lh_buf_puts(&b, "\x01\"]");
        expect_fault(b.data, b.len, at, 1, "control character");
    }
    /* a multi-byte character and an escape split by the boundary */
    for (size_t start = K64 - 3; start <= K64; start++) {
        lh_buf_reset(&b);
        lh_buf_putc(&b, '"');
        while (b.len < start)
            lh_buf_putc(&b, 'y');
        lh_buf_puts(&b, "\xF0\x9F\x98\x80\\uD83D\\uDE00\"");
        expect_valid(b.data, b.len);
        b.data[start + 3] = 'z'; /* breaks the 4-byte sequence at its last byte */
        expect_fault(b.data, b.len, start + 3, 1, "invalid UTF-8 (byte 0x7A)");
    }
    /* lines counted across reads; a fault far past the first buffer */
    lh_buf_reset(&b);
    int64_t lines = 0;
    while (b.len < 5 * K64) {
        lh_buf_printf(&b, "{\"line\":%lld,\"v\":[1,2,3]}\n", (long long)lines + 1);
        lines++;
    }
    size_t bad = b.len + 8;
    lh_buf_puts(&b, "{\"line\":x}\n{\"ok\":1}\n");
    expect_fault(b.data, b.len, bad, lines + 1, "expected a value, found 'x'");
    /* truncated far past the first buffer */
    b.len -= strlen("x}\n{\"ok\":1}\n");
    expect_fault(b.data, b.len, b.len, lines + 1, "truncated in an object");
    lh_buf_release(&b);
}

Test(json_check, missing_file_is_io_error) {
    lh_json_fault f;
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_ingest__json_find_fault("/nonexistent/x.json", false, &f, &err), -1);
    cr_expect_neq(err.code, LH_OK);
}

/* The fixture the engine refuses is located exactly. */
Test(json_check, broken_fixture) {
    lh_json_fault f;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest__json_find_fault(LH_TEST_FIXTURES "/json/broken.json", false, &f, &err), 1,
                 "%s", err.message);
    cr_expect_eq(f.offset, 26);
    cr_expect_eq(f.line, 2);
    cr_expect_str_eq(f.what, "expected ',' or ']', found '}'");
}
