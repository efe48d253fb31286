/* SHA-256 (OpenSSL EVP) and random ids. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>

#include "core/core.h"

struct lh_sha256 {
    EVP_MD_CTX *ctx;
};

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

lh_sha256 *lh_sha256_new(void)
{
    lh_sha256 *h = lh_xmalloc(sizeof *h);
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
        lh_panic(__FILE__, __LINE__, "cannot initialise sha256");
    return h;
}

void lh_sha256_update(lh_sha256 *h, const void *p, size_t n)
{
    if (EVP_DigestUpdate(h->ctx, p, n) != 1)
        lh_panic(__FILE__, __LINE__, "sha256 update failed");
}

void lh_sha256_final_hex(lh_sha256 *h, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_DigestFinal_ex(h->ctx, d, &n) != 1 || n != 32)
        lh_panic(__FILE__, __LINE__, "sha256 final failed");
    to_hex(d, 32, out);
    lh_sha256_free(h);
}

void lh_sha256_free(lh_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void lh_sha256_hex(const void *p, size_t n, char out[65])
{
    lh_sha256 *h = lh_sha256_new();
    lh_sha256_update(h, p, n);
    lh_sha256_final_hex(h, out);
}

void lh_uuid4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        lh_panic(__FILE__, __LINE__, "no randomness available");
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    char hex[33];
    to_hex(b, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}
