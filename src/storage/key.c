/* storage keys: the validation every public entry point runs before a key touches the
 * filesystem, and the mapping from a valid key to its path inside a bucket. A key that
 * passes here cannot leave its bucket ('..' and absolute paths are rejected) and cannot
 * smuggle control bytes into file names, logs or JSON. */
#include <string.h>

#include "storage/storage_int.h"

/* Length of the well-formed UTF-8 sequence starting at s[0] (of at most n bytes), or 0 when
 * the bytes are not valid UTF-8: overlong forms, surrogates and code points past U+10FFFF
 * are rejected, as RFC 3629 requires. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    if (n < need)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

/* Checks bytes [0,len) of one segment: no control bytes (which includes NUL), no '/', valid
 * UTF-8. Returns NULL when fine, else a short reason. */
static const char *segment_bytes_problem(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            return s[i] == 0 ? "contains a NUL byte" : "contains a control character";
        if (s[i] == '/')
            return "contains '/'";
        size_t k = utf8_seq_len(s + i, len - i);
        if (k == 0)
            return "is not valid UTF-8";
        i += k;
    }
    return NULL;
}

static const char *segment_problem(const unsigned char *s, size_t len)
{
    if (len == 0)
        return "has an empty segment";
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return "has a '.' or '..' segment";
    if (len > LH_KEY_SEGMENT_MAX)
        return "has a segment longer than 255 bytes";
    return segment_bytes_problem(s, len);
}

bool lh_storage__segment_ok(const char *s, size_t len)
{
    return segment_problem((const unsigned char *)s, len) == NULL;
}

int lh_storage_key_check(const char *key, size_t len, lh_err *err)
{
    if (key == NULL || len == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "invalid key: empty");
    if (len > LH_KEY_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "invalid key: longer than %d bytes",
                          LH_KEY_MAX);
    const unsigned char *s = (const unsigned char *)key;
    /* The message quotes at most a prefix of the key, and only once we know which bytes
     * are safe to print: a bad key is reported without echoing its bad bytes. */
    if (s[0] == '/')
        return lh_err_set(err, LH_INVALID_ARGUMENT, "invalid key: starts with '/'");
    if (s[len - 1] == '/')
        return lh_err_set(err, LH_INVALID_ARGUMENT, "invalid key: ends with '/'");
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        const char *why = segment_problem(s + start, i - start);
        if (why != NULL)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "invalid key: %s", why);
        start = i + 1;
    }
    /* A bucket on another filesystem stages its puts there: a key inside could clobber a
     * temp file, or show one half-written. Reserved in every bucket, so keys mean the same
     * wherever they are used. */
    size_t tl = strlen(LH_STORAGE_TMP_DIR);
    if (len >= tl && memcmp(key, LH_STORAGE_TMP_DIR, tl) == 0 && (len == tl || key[tl] == '/'))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "invalid key: '" LH_STORAGE_TMP_DIR
                          "' is reserved");
    return 0;
}

char *lh_bucket_path(const lh_bucket *b, const char *key)
{
    return lh_xasprintf("%s/%s", b->root, key);
}

char *lh_storage__key_path(const lh_bucket *b, const char *key, lh_err *err)
{
    if (key == NULL)
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "invalid key: empty"), NULL);
    /* strnlen bounds the scan: a key longer than LH_KEY_MAX is rejected without reading
     * past the limit. */
    size_t len = strnlen(key, LH_KEY_MAX + 1);
    if (lh_storage_key_check(key, len, err) != 0)
        return NULL;
    return lh_bucket_path(b, key);
}
