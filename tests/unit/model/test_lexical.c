/* Unit tests for src/model/lexical.c: the built-in lexical embedder — determinism (across
 * calls and threads), unit length, the zero vector for featureless text, case and
 * punctuation handling, UTF-8 text, very long words and texts, and that texts sharing words
 * score a higher cosine than unrelated ones. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

#define D 384

static void embed(const char *s, size_t dims, float *out)
{
    lh_lexical_embed(s, strlen(s), dims, out);
}

static double norm(const float *v, size_t n)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (double)v[i] * v[i];
    return sqrt(ss);
}

static double cosine(const char *a, const char *b)
{
    float va[D], vb[D];
    embed(a, D, va);
    embed(b, D, vb);
    double dot = 0;
    for (size_t i = 0; i < D; i++)
        dot += (double)va[i] * vb[i];
    return dot; /* both have unit length */
}

static int same(const char *a, const char *b)
{
    float va[D], vb[D];
    embed(a, D, va);
    embed(b, D, vb);
    return memcmp(va, vb, sizeof va) == 0;
}

static int is_zero(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] != 0.0f)
            return 0;
    return 1;
}

Test(lexical, version_is_named)
{
    cr_assert(eq(str, (char *)lh_lexical_version(), "lexical-v1"));
}

Test(lexical, deterministic_across_calls)
{
    const char *t = "The quick brown fox jumps over the lazy dog, twice: quick quick.";
    float a[D], b[D];
    embed(t, D, a);
    embed("something else entirely to disturb any state", D, b);
    embed(t, D, b);
    cr_assert(memcmp(a, b, sizeof a) == 0);
}

static void *embed_in_thread(void *arg)
{
    float *out = arg;
    embed("threads must see the same vector as the main thread", D, out);
    return NULL;
}

Test(lexical, deterministic_across_threads)
{
    float a[D], b[D];
    embed("threads must see the same vector as the main thread", D, a);
    pthread_t t;
    cr_assert(eq(int, pthread_create(&t, NULL, embed_in_thread, b), 0));
    pthread_join(t, NULL);
    cr_assert(memcmp(a, b, sizeof a) == 0);
}

/* Pins the scheme: if this changes, lh_lexical_version must change too (stored indexes
 * built with the old vectors would silently stop matching new queries). */
Test(lexical, output_is_pinned_to_the_version)
{
    float v[16];
    embed("Lakehouse stores every dataset as a Delta table; each table is a Delta table.", 16, v);
    static const float want[16] = {
        -0.0331486315f, 0.0f, 0.0386468172f, -0.284276038f,
        0.295886606f, -0.167266712f, 0.284276038f, 0.428935796f,
        0.150157958f, -0.0557555705f, 0.434433997f, 0.172764897f,
        0.322922856f, -0.194302961f, -0.300315917f, 0.244560346f,
    };
    for (int i = 0; i < 16; i++)
        cr_assert(fabsf(v[i] - want[i]) <= 1e-6f, "component %d: %.9g != %.9g", i, v[i],
                  want[i]);
}

Test(lexical, unit_length_at_several_dims)
{
    static const size_t dims[] = {8, 17, 384, 768, 1536};
    const char *t = "Revenue by region for the third quarter, compared with last year";
    for (size_t k = 0; k < LH_ARRAY_LEN(dims); k++) {
        float *v = calloc(dims[k], sizeof *v);
        embed(t, dims[k], v);
        cr_assert(fabs(norm(v, dims[k]) - 1.0) < 1e-5, "dims %zu: norm %f", dims[k],
                  norm(v, dims[k]));
        free(v);
    }
}

Test(lexical, featureless_text_is_the_zero_vector)
{
    float v[D];
    for (size_t i = 0; i < D; i++)
        v[i] = 42.0f; /* every component must be overwritten */
    lh_lexical_embed("", 0, D, v);
    cr_assert(is_zero(v, D));
    lh_lexical_embed(NULL, 0, D, v);
    cr_assert(is_zero(v, D));
    embed("  ... ,,, !!! \t\n -- () [] {} ", D, v);
    cr_assert(is_zero(v, D));
    /* Only len bytes count: a text cut before its first word has no features. */
    lh_lexical_embed("   hello", 3, D, v);
    cr_assert(is_zero(v, D));
}

Test(lexical, ascii_case_and_punctuation_do_not_matter)
{
    cr_assert(same("Hello World", "hello world"));
    cr_assert(same("hello,world", "hello world"));
    cr_assert(same("  hello\t\nworld!!", "hello world"));
    cr_assert_not(same("hello world", "world hello")); /* bigrams keep the order */
}

Test(lexical, shared_words_score_higher_than_unrelated_text)
{
    const char *q = "How do I reset my account password?";
    double near = cosine(q, "To reset a password, open account settings and choose reset.");
    double far = cosine(q, "Quarterly revenue grew eight percent in northern Europe.");
    cr_assert(gt(dbl, near, far + 0.1), "near %f, far %f", near, far);

    double cats = cosine("the cat sat on the mat", "a cat sat on a mat");
    double other = cosine("the cat sat on the mat", "stock prices fell sharply today");
    cr_assert(gt(dbl, cats, 0.5), "%f", cats);
    cr_assert(lt(dbl, fabs(other), 0.2), "%f", other);

    /* Character n-grams relate inflections that share no whole word. */
    double infl = cosine("embedding", "embeddings");
    double unrel = cosine("embedding", "tractor");
    cr_assert(gt(dbl, infl, unrel + 0.3), "inflection %f, unrelated %f", infl, unrel);
    cr_assert(gt(dbl, cosine("dog bites man", "man bites dog"), 0.6));
}

Test(lexical, utf8_text)
{
    /* Bytes >= 0x80 are word characters: non-Latin words are features too. */
    float v[D];
    embed("東京は日本の首都です", D, v);
    cr_assert(fabs(norm(v, D) - 1.0) < 1e-5);
    embed("Привет, мир", D, v);
    cr_assert(fabs(norm(v, D) - 1.0) < 1e-5);
    /* ASCII is lowercased; other letters are kept as written. */
    cr_assert(same("GRüße aus MüNCHEN", "grüße aus münchen"));
    cr_assert_not(same("grüße", "grusse"));
    double jp = cosine("東京の天気は晴れ", "東京の天気は雨");
    double mix = cosine("東京の天気は晴れ", "weather in paris");
    cr_assert(gt(dbl, jp, mix + 0.2), "jp %f mix %f", jp, mix);
    cr_assert(gt(dbl, cosine("Привет мир", "привет друг"), cosine("Привет мир", "hello")));
}

Test(lexical, invalid_utf8_and_control_bytes)
{
    unsigned char junk[512];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    float a[D], b[D];
    lh_lexical_embed((const char *)junk, sizeof junk, D, a);
    lh_lexical_embed((const char *)junk, sizeof junk, D, b);
    cr_assert(memcmp(a, b, sizeof a) == 0);
    for (size_t i = 0; i < D; i++)
        cr_assert(isfinite(a[i]));
    double n = norm(a, D);
    cr_assert(n == 0.0 || fabs(n - 1.0) < 1e-5);
    /* Continuation bytes with no lead byte, and a lead byte cut short at the end. */
    embed("\x80\x80\x80 abc \xe6\x9d", D, a);
    cr_assert(fabs(norm(a, D) - 1.0) < 1e-5);
}

Test(lexical, very_long_words_and_texts)
{
    /* A 10 KB "word" (base64-like) and a 300 KB text: bounded work, unit length. */
    size_t n = 300000;
    char *t = malloc(n + 1);
    for (size_t i = 0; i < 10000; i++)
        t[i] = (char)('a' + i % 26);
    for (size_t i = 10000; i < n; i++)
        t[i] = (i % 7 == 0) ? ' ' : (char)('a' + (i * 31) % 26);
    t[n] = '\0';
    float *a = calloc(D, sizeof *a), *b = calloc(D, sizeof *b);
    lh_lexical_embed(t, n, D, a);
    cr_assert(fabs(norm(a, D) - 1.0) < 1e-5);
    lh_lexical_embed(t, n, D, b);
    cr_assert(memcmp(a, b, D * sizeof *a) == 0);
    /* A long word of multi-byte characters is cut at a character boundary. */
    char *u = malloc(3000);
    size_t k = 0;
    while (k + 3 <= 2999) {
        memcpy(u + k, "\xe6\x97\xa5", 3); /* 日 */
        k += 3;
    }
    lh_lexical_embed(u, k, D, a);
    cr_assert(fabs(norm(a, D) - 1.0) < 1e-5);
    free(u);
    free(a);
    free(b);
    free(t);
}
