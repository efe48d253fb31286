/* Unit tests for src/core/hash.c and time.c: SHA-256 vectors, v4 UUIDs, clocks, ISO 8601. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

Test(hash, sha256_known_vectors)
{
    char out[65];
    lh_sha256_hex("", 0, out);
    cr_assert(eq(str, out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    lh_sha256_hex("abc", 3, out);
    cr_assert(eq(str, out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    lh_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
    cr_assert(eq(str, out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
}

Test(hash, sha256_streaming_matches_one_shot)
{
    char whole[65], parts[65];
    static const char text[] = "The quick brown fox jumps over the lazy dog";
    lh_sha256_hex(text, strlen(text), whole);
    cr_assert(eq(str, whole, "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"));
    lh_sha256 *h = lh_sha256_new();
    for (size_t i = 0; i < strlen(text); i += 5)
        lh_sha256_update(h, text + i, strlen(text) - i < 5 ? strlen(text) - i : 5);
    lh_sha256_final_hex(h, parts);
    cr_assert(eq(str, parts, whole));
    lh_sha256_free(lh_sha256_new()); /* abandoned without final */
    lh_sha256_free(NULL);
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

Test(hash, uuid4_format_and_uniqueness)
{
    enum { N = 1000 };
    static char ids[N][37];
    for (int i = 0; i < N; i++) {
        lh_uuid4(ids[i]);
        const char *u = ids[i];
        cr_assert(eq(sz, strlen(u), 36), "uuid '%s'", u);
        for (int k = 0; k < 36; k++) {
            if (k == 8 || k == 13 || k == 18 || k == 23)
                cr_assert(eq(chr, u[k], '-'), "uuid '%s'", u);
            else
                cr_assert(is_hex(u[k]), "uuid '%s' has '%c'", u, u[k]);
        }
        cr_assert(eq(chr, u[14], '4'), "version nibble in '%s'", u);
        cr_assert(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b',
                  "variant in '%s'", u);
    }
    for (int i = 0; i < N; i++)
        for (int k = i + 1; k < N; k++)
            cr_assert(ne(str, ids[i], ids[k]), "duplicate uuid '%s'", ids[i]);
}

Test(time, iso8601_known_timestamps)
{
    char out[32];
    lh_time_iso8601(0, out);
    cr_assert(eq(str, out, "1970-01-01T00:00:00.000Z"));
    lh_time_iso8601(INT64_C(1795122303123), out);
    cr_assert(eq(str, out, "2026-11-19T21:05:03.123Z"));
    lh_time_iso8601(INT64_C(951782400000) + 999, out); /* leap day 2000 */
    cr_assert(eq(str, out, "2000-02-29T00:00:00.999Z"));
    lh_time_iso8601(-1, out);
    cr_assert(eq(str, out, "1969-12-31T23:59:59.999Z"));
}

Test(time, clocks_advance)
{
    int64_t now = lh_now_ms();
    cr_assert(gt(i64, now, INT64_C(1700000000000))); /* after Nov 2023 */
    double a = lh_mono_ms();
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double b = lh_mono_ms();
    cr_assert(ge(dbl, b - a, 19.0));
    cr_assert(ge(i64, lh_now_ms(), now));
}
