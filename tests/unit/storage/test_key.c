/* Unit tests for src/storage/key.c: the key validation table (every rule in storage.h, with
 * a positive and negative case each) and the mapping of keys to bucket paths. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"

typedef struct key_case {
    const char *key;
    size_t len; /* 0 = strlen(key) */
} key_case;

static size_t case_len(const key_case *c)
{
    return c->len ? c->len : strlen(c->key);
}

Test(storage_key, accepts_valid_keys)
{
    static const key_case good[] = {
        {"a", 0},
        {"a/b", 0},
        {"datasets/sales/_delta_log/00000000000000000000.json", 0},
        {"datasets/sales/part-6f1c.parquet", 0},
        {".hidden", 0},
        {"..a", 0},
        {"a..", 0},
        {"...", 0},
        {"a/.b/c", 0},
        {"with space/and-dash_under~tilde", 0},
        {"\xc3\xa9t\xc3\xa9/\xc3\xbc", 0},         /* été/ü */
        {"\xe6\x97\xa5\xe6\x9c\xac", 0},           /* 日本 */
        {"\xf0\x9f\x98\x80.txt", 0},               /* U+1F600 */
        {"\xef\xbf\xbf", 0},                       /* U+FFFF */
        {"\xf4\x8f\xbf\xbf", 0},                   /* U+10FFFF, the last code point */
        {"\xed\x9f\xbf", 0},                       /* U+D7FF, just below the surrogates */
        {"~", 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        lh_err err = LH_ERR_INIT;
        cr_expect_eq(lh_storage_key_check(good[i].key, case_len(&good[i]), &err), 0,
                     "key #%zu rejected: %s", i, err.message);
    }
}

Test(storage_key, rejects_invalid_keys)
{
    static const key_case bad[] = {
        {"", 0},
        {"/a", 0},
        {"/", 0},
        {"a/", 0},
        {"a//b", 0},
        {".", 0},
        {"..", 0},
        {"./a", 0},
        {"a/./b", 0},
        {"a/..", 0},
        {"../etc/passwd", 0},
        {"a/../../b", 0},
        {"a\x01", 0},
        {"a\x1f" "b", 0},
        {"tab\there", 0},
        {"new\nline", 0},
        {"del\x7f", 0},
        {"a\0b", 3},             /* NUL inside (ptr,len) */
        {"ab\0", 3},             /* trailing NUL counted in len */
        {"\x80", 0},             /* lone continuation byte */
        {"\xc0\xaf", 0},         /* overlong '/' */
        {"\xc1\xbf", 0},         /* overlong */
        {"\xe0\x80\xaf", 0},     /* overlong 3-byte */
        {"\xf0\x80\x80\xaf", 0}, /* overlong 4-byte */
        {"\xed\xa0\x80", 0},     /* UTF-16 surrogate U+D800 */
        {"\xed\xbf\xbf", 0},     /* surrogate U+DFFF */
        {"\xf4\x90\x80\x80", 0}, /* U+110000 */
        {"\xf5\x80\x80\x80", 0}, /* invalid lead byte */
        {"\xff", 0},
        {"\xe6\x97", 0},         /* truncated sequence */
        {"a\xc3", 0},            /* truncated at the end */
        {"\xc3(", 0},            /* bad continuation */
        {"\xe6\x97/x", 0},       /* truncated before a '/' */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lh_err err = LH_ERR_INIT;
        cr_expect_eq(lh_storage_key_check(bad[i].key, case_len(&bad[i]), &err), -1,
                     "key #%zu accepted", i);
        cr_expect_eq(err.code, LH_INVALID_ARGUMENT, "key #%zu: code %d", i, (int)err.code);
        cr_expect(strncmp(err.message, "invalid key: ", 13) == 0, "key #%zu: message '%s'", i,
                  err.message);
    }
}

Test(storage_key, null_key_is_invalid)
{
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_storage_key_check(NULL, 0, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect_eq(lh_storage_key_check(NULL, 5, NULL), -1); /* NULL err is allowed */
}

/* Builds a key of exactly len bytes from 200-byte segments ("xxx.../xxx..."). */
static char *long_key(size_t len)
{
    char *k = malloc(len + 1);
    cr_assert_not_null(k);
    for (size_t i = 0; i < len; i++)
        k[i] = (i % 201 == 200) ? '/' : 'x';
    if (k[len - 1] == '/')
        k[len - 1] = 'y';
    k[len] = '\0';
    return k;
}

Test(storage_key, length_limits)
{
    lh_err err = LH_ERR_INIT;
    char *k = long_key(LH_KEY_MAX);
    cr_expect_eq(lh_storage_key_check(k, LH_KEY_MAX, &err), 0, "%s", err.message);
    free(k);

    k = long_key(LH_KEY_MAX + 1);
    cr_expect_eq(lh_storage_key_check(k, LH_KEY_MAX + 1, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    free(k);

    /* One segment may hold at most 255 bytes: the filesystem cannot name a longer file. */
    char seg[300];
    memset(seg, 'a', sizeof seg);
    cr_expect_eq(lh_storage_key_check(seg, 255, &err), 0);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_storage_key_check(seg, 256, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
}

Test(storage_key, every_control_byte_is_rejected)
{
    for (int c = 0; c < 0x20; c++) {
        char k[4] = {'a', (char)c, 'b', '\0'};
        cr_expect_eq(lh_storage_key_check(k, 3, NULL), -1, "byte 0x%02x accepted", c);
    }
    char k[4] = {'a', 0x7f, 'b', '\0'};
    cr_expect_eq(lh_storage_key_check(k, 3, NULL), -1);
}

Test(storage_key, bucket_path_joins_root_and_key)
{
    char dir[] = "/tmp/lh-storage-key-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    lh_err err = LH_ERR_INIT;
    lh_storage *s = lh_storage_open(dir, &err);
    cr_assert_not_null(s, "%s", err.message);
    lh_bucket *b = lh_storage_bucket(s, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(b);
    char *p = lh_bucket_path(b, "a/b.json");
    char want[512];
    snprintf(want, sizeof want, "%s/a/b.json", lh_bucket_root(b));
    cr_expect_str_eq(p, want);
    free(p);

    /* Every entry point validates its key before touching the filesystem. */
    const char *bad = "../escape";
    uint64_t size;
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_put(b, bad, "x", 1, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_put_if_absent(b, bad, "x", 1, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_null(lh_bucket_put_begin(b, bad, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_open_read(b, bad, &size, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_null(lh_bucket_read_all(b, bad, 100, NULL, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_stat(b, bad, &size, NULL, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_delete(b, bad, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_link(b, "ok", bad, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_link(b, bad, "ok", &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_adopt_file(b, bad, "/nonexistent", &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect_not(lh_bucket_exists(b, bad));

    lh_storage_close(s);
    cr_expect_eq(lh_remove_tree(dir, &err), 0);
}
