/* Encoding sniffing (UTF-8 validity with the first bad offset, BOM, Latin-1 plausibility)
 * and the streaming Latin-1 to UTF-8 conversion, including sequences split across reads. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

/* The read size of encoding.c; the split tests put sequences across every boundary of it
 * (and of any smaller power of two, should it shrink). */
#define ENC_READ 65536

static char endir[64];

static void en_setup(void)
{
    snprintf(endir, sizeof endir, "/tmp/lh-enc-XXXXXX");
    cr_assert_not_null(mkdtemp(endir));
}

static void en_teardown(void)
{
    lh_err err = LH_ERR_INIT;
    if (lh_remove_tree(endir, &err) != 0)
        cr_log_warn("cannot remove '%s': %s", endir, err.message);
}

TestSuite(encoding, .init = en_setup, .fini = en_teardown, .timeout = 60);

static char *en_write(const char *name, const void *data, size_t n)
{
    char *path = lh_xasprintf("%s/%s", endir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static lh_text_encoding sniff_bytes(const void *data, size_t n)
{
    char *path = en_write("s.bin", data, n);
    lh_text_encoding e;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest__sniff_encoding(path, &e, &err), 0, "%s", err.message);
    free(path);
    return e;
}

#define SNIFF(lit) sniff_bytes(lit, sizeof lit - 1)

static void expect_bad(const char *data, size_t n, uint64_t offset)
{
    lh_text_encoding e = sniff_bytes(data, n);
    cr_assert_not(e.valid_utf8, "accepted as UTF-8");
    cr_assert_eq(e.bad_offset, offset, "bad offset %llu, expected %llu",
                 (unsigned long long)e.bad_offset, (unsigned long long)offset);
}

#define EXPECT_BAD(lit, off) expect_bad(lit, sizeof lit - 1, off)

Test(encoding, valid_utf8_and_bom)
{
    lh_text_encoding e = SNIFF("");
    cr_assert(e.valid_utf8);
    cr_assert_not(e.has_bom);
    cr_assert_not(e.latin1);
    e = SNIFF("plain ascii\n");
    cr_assert(e.valid_utf8);
    /* 2, 3 and 4 bytes, and the extremes of each range. */
    e = SNIFF("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xC2\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF "
              "\xED\x9F\xBF \xEE\x80\x80 \xE0\xA0\x80 \xF0\x90\x80\x80");
    cr_assert(e.valid_utf8);
    cr_assert_not(e.latin1);
    e = SNIFF("\xEF\xBB\xBFid,name\n");
    cr_assert(e.has_bom);
    cr_assert(e.valid_utf8);
    e = SNIFF("\xEF\xBB");
    cr_assert_not(e.has_bom);
    cr_assert_not(e.valid_utf8);
}

Test(encoding, invalid_sequences_report_their_first_byte)
{
    EXPECT_BAD("ab\xC0\xAF", 2);              /* overlong '/' */
    EXPECT_BAD("ab\xC1\xBF", 2);              /* overlong */
    EXPECT_BAD("abc\xE0\x80\xAF", 3);         /* overlong 3-byte */
    EXPECT_BAD("\xF0\x80\x80\xAF", 0);        /* overlong 4-byte */
    EXPECT_BAD("x\xED\xA0\x80", 1);           /* surrogate U+D800 */
    EXPECT_BAD("x\xED\xBF\xBF", 1);           /* surrogate U+DFFF */
    EXPECT_BAD("xy\xF4\x90\x80\x80", 2);      /* U+110000 */
    EXPECT_BAD("\xF5\x80\x80\x80", 0);        /* lead past U+10FFFF */
    EXPECT_BAD("ok\xFF", 2);
    EXPECT_BAD("ok \x80 stray", 3);           /* continuation without a lead */
    EXPECT_BAD("ok \xE2\x82 cut", 3);         /* cut short by an ASCII byte */
    EXPECT_BAD("\xC3\xA9\xC3", 2);            /* truncated at end of file */
    EXPECT_BAD("abc\xF0\x9F\x98", 3);         /* truncated 4-byte at end of file */
    EXPECT_BAD("\xC3\xA9 fine \xE9 then \xC3", 8); /* only the first is reported */
}

/* size bytes of `prefix` ASCII bytes then repeated copies of seq (n bytes), cut to size. */
static char *make_repeating(size_t prefix, const char *seq, size_t n, size_t size)
{
    char *data = lh_xmalloc(size);
    memset(data, 'a', prefix);
    for (size_t i = prefix; i < size; i++)
        data[i] = seq[(i - prefix) % n];
    return data;
}

Test(encoding, sequences_split_across_reads_are_valid)
{
    static const char *seqs[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
    for (size_t s = 0; s < 3; s++) {
        size_t n = s + 2;
        /* Each prefix shifts where the read boundaries fall inside the sequences, so over
         * the prefixes every split position of every length occurs. */
        for (size_t prefix = 1; prefix <= n; prefix++) {
            size_t size = prefix + n * ((3 * ENC_READ) / n + 1);
            char *data = make_repeating(prefix, seqs[s], n, size);
            lh_text_encoding e = sniff_bytes(data, size);
            cr_assert(e.valid_utf8, "seq %zu prefix %zu: bad at %llu", s, prefix,
                      (unsigned long long)e.bad_offset);
            /* The same file truncated one byte short ends inside a sequence. */
            e = sniff_bytes(data, size - 1);
            cr_assert_not(e.valid_utf8);
            cr_assert_eq(e.bad_offset, size - n);
            free(data);
        }
    }
}

Test(encoding, bad_sequence_at_the_read_boundary)
{
    /* A lead byte as the last byte of the first read, and a bad continuation as the first
     * byte of the second. */
    size_t size = ENC_READ + 10;
    char *data = lh_xmalloc(size);
    memset(data, 'a', size);
    data[ENC_READ - 1] = '\xE2';
    data[ENC_READ] = '\x82';
    data[ENC_READ + 1] = '\xAC';
    lh_text_encoding e = sniff_bytes(data, size);
    cr_assert(e.valid_utf8);
    data[ENC_READ + 1] = 'z';
    e = sniff_bytes(data, size);
    cr_assert_not(e.valid_utf8);
    cr_assert_eq(e.bad_offset, ENC_READ - 1);
    /* A surrogate whose range check falls on the second read. */
    data[ENC_READ - 1] = '\xED';
    data[ENC_READ] = '\xA0';
    data[ENC_READ + 1] = '\x80';
    e = sniff_bytes(data, size);
    cr_assert_not(e.valid_utf8);
    cr_assert_eq(e.bad_offset, ENC_READ - 1);
    free(data);
}

Test(encoding, latin1_is_recognised_and_binary_is_not)
{
    lh_text_encoding e = SNIFF("name;city\nJos\xE9;S\xE3o Paulo\nZo\xEB;K\xF6ln\n");
    cr_assert_not(e.valid_utf8);
    cr_assert_eq(e.bad_offset, 13);
    cr_assert(e.latin1);
    e = SNIFF("price \xA3" "5 \xA0 \xBD \xFF\n");
    cr_assert(e.latin1);
    /* A NUL byte: binary. */
    e = SNIFF("Jos\xE9\0\x01\x02");
    cr_assert_not(e.latin1);
    /* Mostly C1 controls: not Latin-1 text. */
    e = SNIFF("\x80\x81\x92\x93\x94 abc");
    cr_assert_not(e.latin1);
    /* Other control characters count too. */
    e = SNIFF("\x1B[0m\xE9\x07\x08");
    cr_assert_not(e.latin1);
    /* A BOM promises UTF-8: a bad byte after it is an error, not Latin-1. */
    e = SNIFF("\xEF\xBB\xBFJos\xE9\n");
    cr_assert(e.has_bom);
    cr_assert_not(e.latin1);
    /* One Windows-1252 quote in a long text is tolerated. */
    char *text = make_repeating(0, "Caf\xE9 au lait. ", 14, 3000);
    text[100] = '\x92';
    e = sniff_bytes(text, 3000);
    cr_assert(e.latin1);
    free(text);
}

Test(encoding, sniff_missing_file_is_io_error)
{
    lh_text_encoding e;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest__sniff_encoding("/nonexistent/lh-x.txt", &e, &err), -1);
    cr_assert_eq(err.code, LH_IO_ERROR);
}

static char *convert(const void *data, size_t n, size_t *out_len)
{
    char *src = en_write("l1.txt", data, n);
    char *dst = lh_xasprintf("%s/u8.txt", endir);
    unlink(dst);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest__latin1_to_utf8(src, dst, &err), 0, "%s", err.message);
    char *out = lh_file_read_all(dst, 64u << 20, out_len, &err);
    cr_assert_not_null(out, "%s", err.message);
    free(src);
    free(dst);
    return out;
}

Test(encoding, latin1_to_utf8_converts_every_byte)
{
    size_t len;
    static const char in[] = "Jos\xE9 S\xE3o \xA3 \xFF\n";
    char *out = convert(in, sizeof in - 1, &len);
    cr_assert_eq(len, sizeof in - 1 + 4);
    cr_assert_str_eq(out, "Jos\xC3\xA9 S\xC3\xA3o \xC2\xA3 \xC3\xBF\n");
    free(out);

    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    out = convert(all, 256, &len);
    cr_assert_eq(len, 128 + 2 * 128);
    for (int i = 0; i < 128; i++)
        cr_assert_eq((unsigned char)out[i], i);
    for (int i = 128; i < 256; i++) {
        unsigned cp = ((unsigned char)out[128 + 2 * (i - 128)] & 0x1Fu) << 6 |
                      ((unsigned char)out[129 + 2 * (i - 128)] & 0x3Fu);
        cr_assert_eq(cp, (unsigned)i);
    }
    free(out);

    out = convert("", 0, &len);
    cr_assert_eq(len, 0);
    free(out);
}

Test(encoding, latin1_to_utf8_streams_large_files_into_valid_utf8)
{
    size_t size = 3 * ENC_READ + 7;
    char *data = make_repeating(0, "ab\xE9\xFF\n", 5, size);
    size_t len;
    char *out = convert(data, size, &len);
    size_t high = 0;
    for (size_t i = 0; i < size; i++)
        high += (unsigned char)data[i] >= 0x80;
    cr_assert_eq(len, size + high);
    free(out);
    free(data);
    char *dst = lh_xasprintf("%s/u8.txt", endir);
    lh_text_encoding e;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest__sniff_encoding(dst, &e, &err), 0);
    cr_assert(e.valid_utf8);
    free(dst);
}

Test(encoding, latin1_to_utf8_failures_leave_nothing)
{
    char *src = en_write("l1.txt", "caf\xE9\n", 5);
    char *taken = en_write("taken.txt", "keep", 4);
    lh_err err = LH_ERR_INIT;
    /* An existing destination is never overwritten. */
    cr_assert_eq(lh_ingest__latin1_to_utf8(src, taken, &err), -1);
    cr_assert_eq(err.code, LH_IO_ERROR);
    size_t len;
    char *kept = lh_file_read_all(taken, 100, &len, &err);
    cr_assert_not_null(kept);
    cr_assert_str_eq(kept, "keep");
    free(kept);
    /* A missing source creates no destination. */
    char *dst = lh_xasprintf("%s/out.txt", endir);
    cr_assert_eq(lh_ingest__latin1_to_utf8("/nonexistent/lh-x.txt", dst, &err), -1);
    cr_assert_neq(access(dst, F_OK), 0);
    /* A failed write removes the partial output. */
    setenv("LH_FAULT", "write:1", 1);
    lh_fault_reset();
    err = (lh_err)LH_ERR_INIT;
    cr_assert_eq(lh_ingest__latin1_to_utf8(src, dst, &err), -1);
    cr_assert_eq(err.code, LH_IO_ERROR);
    cr_assert_neq(access(dst, F_OK), 0);
    unsetenv("LH_FAULT");
    lh_fault_reset();
    free(src);
    free(taken);
    free(dst);
}
