/* Tests for src/vector/chunk.c: where lh_chunk_text cuts (sentences, words, mid-word), the
 * overlap, UTF-8 safety, tokens mode, option checks, and the invariants every output must
 * keep on random bytes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vector/vector.h"

static bool ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A decoder written independently of chunk.c's: the length of the valid sequence at p, or 1. */
static size_t seq_len(const unsigned char *s, size_t n, size_t p)
{
    unsigned c = s[p];
    size_t need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (need == 0)
        return 1;
    if (need == 9 || p + need >= n)
        return 1;
    uint32_t cp = c & (0x3F >> need);
    for (size_t i = 1; i <= need; i++) {
        if ((s[p + i] & 0xC0) != 0x80)
            return 1;
        cp = (cp << 6) | (s[p + i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 1;
    return need + 1;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t p = 0; p < n;) {
        size_t l = seq_len(s, n, p);
        if (l == 1 && s[p] >= 0x80)
            return false;
        p += l;
    }
    return true;
}

/* Units of s[a..b) in the given mode. */
static size_t count_units(const unsigned char *s, size_t n, size_t a, size_t b, lh_chunk_unit u)
{
    size_t k = 0;
    if (u == LH_CHUNK_TOKENS) {
        for (size_t p = a; p < b; p++)
            if (!ws(s[p]) && (p == a || ws(s[p - 1])))
                k++;
        return k;
    }
    for (size_t p = a; p < b; k++)
        p += seq_len(s, n, p);
    return k;
}

/* The invariants of any chunking; returns the chunk count. */
static size_t check_invariants(const char *text, size_t len, const lh_chunk_opts *o)
{
    const unsigned char *s = (const unsigned char *)text;
    lh_chunk *c = NULL;
    lh_err err = LH_ERR_INIT;
    ssize_t n = lh_chunk_text(text, len, o, &c, &err);
    cr_assert_geq(n, 0, "chunk failed: %s", err.message);
    /* Unit boundaries, from the independent decoder. */
    bool *boundary = calloc(len + 1, 1), *covered = calloc(len + 1, 1);
    for (size_t p = 0; p < len; p += seq_len(s, len, p))
        boundary[p] = true;
    boundary[len] = true;
    for (ssize_t i = 0; i < n; i++) {
        size_t a = c[i].start, b = c[i].end;
        cr_assert_lt(a, b, "chunk %zd empty", i);
        cr_assert_leq(b, len);
        cr_assert(boundary[a] && boundary[b], "chunk %zd [%zu,%zu) cuts a UTF-8 sequence", i, a, b);
        cr_assert(!ws(s[a]) && !ws(s[b - 1]), "chunk %zd [%zu,%zu) has edge whitespace", i, a, b);
        size_t units = count_units(s, len, a, b, o->unit);
        cr_assert_leq(units, o->size, "chunk %zd has %zu units > %zu", i, units, o->size);
        if (i > 0) {
            cr_assert_gt(a, c[i - 1].start, "starts must increase");
            cr_assert_gt(b, c[i - 1].end, "ends must increase");
            if (a < c[i - 1].end) {
                size_t shared = count_units(s, len, a, c[i - 1].end, o->unit);
                cr_assert_leq(shared, o->overlap + 32, "chunk %zd shares %zu units", i, shared);
            }
        }
        for (size_t p = a; p < b; p++)
            covered[p] = true;
    }
    for (size_t p = 0; p < len; p++)
        cr_assert(covered[p] || ws(s[p]), "byte %zu (0x%02x) not in any chunk", p, s[p]);
    if (n == 0)
        cr_assert_null(c);
    free(boundary);
    free(covered);
    free(c);
    return (size_t)n;
}

typedef struct span {
    size_t a, b;
} span;

static void expect_chunks(const char *text, lh_chunk_unit u, size_t size, size_t overlap,
                          const char *const *want, size_t nwant)
{
    lh_chunk_opts o = {u, size, overlap};
    lh_chunk *c = NULL;
    lh_err err = LH_ERR_INIT;
    ssize_t n = lh_chunk_text(text, strlen(text), &o, &c, &err);
    cr_assert_eq(n, (ssize_t)nwant, "got %zd chunks, want %zu (%s)", n, nwant, err.message);
    for (size_t i = 0; i < nwant; i++) {
        size_t l = c[i].end - c[i].start;
        cr_expect(l == strlen(want[i]) && memcmp(text + c[i].start, want[i], l) == 0,
                  "chunk %zu is '%.*s', want '%s'", i, (int)l, text + c[i].start, want[i]);
    }
    free(c);
    (void)check_invariants(text, strlen(text), &o);
}

Test(chunk, sentence_end_in_last_half)
{
    const char *t = "The cat sat on it. The dog ran far away from here.";
    const char *want[] = {"The cat sat on it.", "The dog ran far away from here."};
    expect_chunks(t, LH_CHUNK_CHARS, 32, 0, want, 2);
}

Test(chunk, sentence_end_in_first_half_is_ignored)
{
    /* "Hi." ends at unit 3 of 20: too early, so the cut is the latest word end instead. */
    const char *t = "Hi. one two three four five six";
    const char *want[] = {"Hi. one two three", "four five six"};
    expect_chunks(t, LH_CHUNK_CHARS, 20, 0, want, 2);
}

Test(chunk, question_exclamation_and_blank_line)
{
    const char *t1 = "Why not here? Because words follow on";
    const char *want1[] = {"Why not here?", "Because words follow on"};
    expect_chunks(t1, LH_CHUNK_CHARS, 24, 0, want1, 2);
    const char *t2 = "A heading line\n\nthen a paragraph follows";
    const char *want2[] = {"A heading line", "then a paragraph follows"};
    expect_chunks(t2, LH_CHUNK_CHARS, 26, 0, want2, 2);
    /* A single newline inside a paragraph is only a word boundary. */
    const char *t3 = "wrapped line\ncontinues here and on";
    const char *want3[] = {"wrapped line\ncontinues", "here and on"};
    expect_chunks(t3, LH_CHUNK_CHARS, 24, 0, want3, 2);
}

Test(chunk, overlap_in_words)
{
    const char *want[] = {"a b", "b c", "c d", "d e", "e f"};
    expect_chunks("a b c d e f", LH_CHUNK_CHARS, 3, 2, want, 5);
    const char *want2[] = {"one two three", "three four five", "five six"};
    expect_chunks("one two three four five six", LH_CHUNK_CHARS, 15, 5, want2, 3);
}

Test(chunk, long_word_is_split_mid_word)
{
    const char *want[] = {"abcd", "efgh", "ij"};
    expect_chunks("abcdefghij", LH_CHUNK_CHARS, 4, 0, want, 3);
    const char *want2[] = {"abcd", "defg", "ghij"};
    expect_chunks("abcdefghij", LH_CHUNK_CHARS, 4, 1, want2, 3);
}

Test(chunk, leading_and_trailing_whitespace_trimmed)
{
    const char *want[] = {"hello world"};
    expect_chunks("  \n\t hello world \n\n  ", LH_CHUNK_CHARS, 100, 10, want, 1);
    const char *want2[] = {"one", "two"};
    expect_chunks("   one        two   ", LH_CHUNK_CHARS, 5, 0, want2, 2);
}

Test(chunk, whitespace_only_and_empty)
{
    lh_chunk_opts o = {LH_CHUNK_CHARS, 10, 2};
    lh_chunk *c = (lh_chunk *)&o;
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_chunk_text(" \t\n\r\v\f  ", 8, &o, &c, &err), 0);
    cr_expect_null(c);
    c = (lh_chunk *)&o;
    cr_expect_eq(lh_chunk_text("", 0, &o, &c, &err), 0);
    cr_expect_null(c);
    o.unit = LH_CHUNK_TOKENS;
    cr_expect_eq(lh_chunk_text("     ", 5, &o, &c, &err), 0);
    cr_expect_null(c);
    cr_expect_eq(err.code, LH_OK);
}

Test(chunk, utf8_never_split)
{
    const char *t = "Grüße 日本語 ✓ Grüße日本語✓ 😀😀😀 naïve café ✓✓✓✓✓✓✓ end.";
    for (size_t size = 1; size <= 12; size++) {
        for (size_t ov = 0; ov < size; ov++) {
            lh_chunk_opts o = {LH_CHUNK_CHARS, size, ov};
            lh_chunk *c = NULL;
            lh_err err = LH_ERR_INIT;
            ssize_t n = lh_chunk_text(t, strlen(t), &o, &c, &err);
            cr_assert_gt(n, 0);
            for (ssize_t i = 0; i < n; i++)
                cr_assert(valid_utf8((const unsigned char *)t + c[i].start, c[i].end - c[i].start),
                          "size %zu overlap %zu chunk %zd [%zu,%zu) is not valid UTF-8", size, ov, i,
                          c[i].start, c[i].end);
            free(c);
            (void)check_invariants(t, strlen(t), &o);
        }
    }
    /* Sizes count code points, not bytes: 5 characters of 3 bytes each fit one chunk. */
    const char *want[] = {"日本語日本", "語"};
    expect_chunks("日本語日本語", LH_CHUNK_CHARS, 5, 0, want, 2);
}

Test(chunk, invalid_utf8_bytes_are_one_unit_each)
{
    const char *want[] = {"\xff\xfe", "\xe6\x97", "x"};
    expect_chunks("\xff\xfe\xe6\x97x", LH_CHUNK_CHARS, 2, 0, want, 3);
    /* An overlong encoding of '/' and a surrogate are invalid too. */
    const char *want2[] = {"\xc0", "\xaf", "\xed", "\xa0", "\x80"};
    expect_chunks("\xc0\xaf\xed\xa0\x80", LH_CHUNK_CHARS, 1, 0, want2, 5);
}

Test(chunk, tokens_mode)
{
    const char *want[] = {"one two three", "three four five", "five six"};
    expect_chunks("one two three four five six", LH_CHUNK_TOKENS, 3, 1, want, 3);
    /* A sentence end after token 3 of 5 (in the last half) wins over the window end; the
     * next chunk repeats one token ("late.") and cannot cut there again. */
    const char *want2[] = {"It was late.", "late. The night went on", "on and on."};
    expect_chunks("It was late. The night went on and on.", LH_CHUNK_TOKENS, 5, 1, want2, 3);
    /* One huge token is one unit, whatever its length. */
    const char *want3[] = {"supercalifragilistic", "x"};
    expect_chunks("supercalifragilistic x", LH_CHUNK_TOKENS, 1, 0, want3, 2);
}

Test(chunk, invalid_options)
{
    lh_chunk *c = NULL;
    const char *t = "some text";
    struct {
        lh_chunk_opts o;
        const char *needle;
    } bad[] = {
        {{LH_CHUNK_CHARS, 0, 0}, "size"},
        {{LH_CHUNK_CHARS, 5, 5}, "overlap"},
        {{LH_CHUNK_TOKENS, 3, 9}, "overlap"},
        {{(lh_chunk_unit)7, 5, 1}, "unit"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lh_err err = LH_ERR_INIT;
        cr_expect_eq(lh_chunk_text(t, strlen(t), &bad[i].o, &c, &err), -1, "case %zu", i);
        cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
        cr_expect(strstr(err.message, bad[i].needle) != NULL, "%s", err.message);
    }
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_chunk_text(t, strlen(t), NULL, &c, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    /* The size ceiling is checked before any byte is read. */
    lh_chunk_opts ok = {LH_CHUNK_CHARS, 10, 0};
    lh_err e2 = LH_ERR_INIT;
    cr_expect_eq(lh_chunk_text(t, ((size_t)64 << 20) + 1, &ok, &c, &e2), -1);
    cr_expect_eq(e2.code, LH_TOO_LARGE);
}

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

Test(chunk, random_bytes_keep_invariants)
{
    /* Pieces that stress the cut logic: spaces, sentence ends, multi-byte and broken
     * sequences, plus raw random bytes. */
    static const char *pieces[] = {" ", "  ", "\n", "\n\n", ". ", "! ", "?", "a", "word", "é", "日本",
                                   "😀", "\xe6\x97", "\xff", "\xc0\xaf", "\t", "x.y", "\xed\xa0\x80"};
    char buf[600];
    for (int iter = 0; iter < 400; iter++) {
        size_t len = 0, target = rnd() % sizeof(buf);
        while (len + 8 < target) {
            if (rnd() % 4 == 0) {
                buf[len++] = (char)(rnd() & 0xff);
            } else {
                const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
                memcpy(buf + len, p, strlen(p));
                len += strlen(p);
            }
        }
        size_t size = 1 + rnd() % 40;
        lh_chunk_opts o = {rnd() % 2 ? LH_CHUNK_TOKENS : LH_CHUNK_CHARS, size, rnd() % size};
        (void)check_invariants(buf, len, &o);
    }
}

Test(chunk, heavy_overlap_stays_linear)
{
    /* size-1 overlap on 200 KB: one chunk per character. A window rescanned per chunk would
     * take ~10^9 steps here; the sliding window takes well under a second. */
    size_t len = 200000;
    char *t = malloc(len);
    for (size_t i = 0; i < len; i++)
        t[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 26);
    lh_chunk_opts o = {LH_CHUNK_CHARS, 5000, 4999};
    lh_chunk *c = NULL;
    lh_err err = LH_ERR_INIT;
    ssize_t n = lh_chunk_text(t, len, &o, &c, &err);
    cr_assert_gt(n, 10000, "%zd chunks", n);
    for (ssize_t i = 1; i < n; i++)
        cr_assert_gt(c[i].start, c[i - 1].start);
    cr_expect_eq(c[n - 1].end, len);
    free(c);
    free(t);
}
