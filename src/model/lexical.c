/* model: the built-in lexical embedder, the embedded default that needs no model files.
 * Signed feature hashing of lowercased word unigrams, word bigrams and character 3..5-grams
 * of "<word>", weighted 1 + log(count) and L2-normalised. Pure computation on the caller's
 * thread; vector index builds call it for every chunk, so it is written for speed. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "model/model.h"
#include "model/model_int.h"

/* Changes whenever the output for some text would change (hash, seeds, features, weights). */
#define LEX_VERSION "lexical-v1"

/* Character n-grams are taken from the first LEX_WORD_MAX bytes of a word: longer "words"
 * are URLs, hashes or base64, whose n-grams carry little meaning, and the cap bounds the
 * per-word scratch space. The unigram still hashes the whole word. */
#define LEX_WORD_MAX 256
/* The per-thread counting table grows up to this many slots (12 bytes each); a text with
 * more distinct features than half of it is counted in segments (see flush_table). */
#define LEX_TABLE_MAX (1u << 17)
#define LEX_TABLE_MIN (1u << 10)

/* Seeds keep the feature families apart: the word "abc" and the trigram "abc" differ. */
#define SEED_WORD 0x9ae16a3b2f90404fULL
#define SEED_BIGRAM 0xc3a5c85c97cb3127ULL
#define SEED_NGRAM 0xb492b66fbe98f273ULL
#define FNV_PRIME 0x100000001b3ULL

/* 1 + ln(c) for c = 1..32, written out so that common counts give the same bits on every
 * libm; larger counts are rare and use log(). */
static const float log_weight[33] = {
    0.0f,         1.000000000f, 1.693147181f, 2.098612289f, 2.386294361f, 2.609437912f,
    2.791759469f, 2.945910149f, 3.079441542f, 3.197224577f, 3.302585093f, 3.397895273f,
    3.484906650f, 3.564949357f, 3.639057330f, 3.708050201f, 3.772588722f, 3.833213344f,
    3.890371758f, 3.944438979f, 3.995732274f, 4.044522438f, 4.091042453f, 4.135494216f,
    4.178053830f, 4.218875825f, 4.258096538f, 4.295836866f, 4.332204510f, 4.367295830f,
    4.401197382f, 4.433987204f, 4.465735903f,
};

/* The finaliser of MurmurHash3: spreads FNV's weak high bits over the whole word. */
static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Byte classes: 0 splits words, 1 is an ASCII letter or digit, 2 a byte of a multi-byte
 * UTF-8 sequence (letters of any script stay in words). */
static unsigned char byte_class[256];
static unsigned char byte_lower[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void init_tables(void)
{
    for (int c = 0; c < 256; c++) {
        byte_lower[c] = (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            byte_class[c] = 1;
        else if (c >= 0x80)
            byte_class[c] = 2;
    }
}

/* The counting table: open addressing on the 64-bit feature hash (0 = empty slot), plus
 * the list of used slots so that reading and clearing cost O(features), not O(capacity).
 * One per thread, kept between calls, so embedding a chunk allocates nothing. */
typedef struct lex_table {
    uint64_t *keys;
    uint32_t *counts;
    uint32_t *used;
    uint32_t cap, n;
} lex_table;

static pthread_key_t table_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void table_free(void *p)
{
    lex_table *t = p;
    if (!t)
        return;
    free(t->keys);
    free(t->counts);
    free(t->used);
    free(t);
}

static void init_key(void)
{
    if (pthread_key_create(&table_key, table_free) != 0)
        lh_panic(__FILE__, __LINE__, "lexical: pthread_key_create failed");
}

static void table_resize(lex_table *t, uint32_t cap)
{
    free(t->keys);
    free(t->counts);
    free(t->used);
    t->keys = lh_xcalloc(cap, sizeof *t->keys);
    t->counts = lh_xmalloc(cap * sizeof *t->counts);
    t->used = lh_xmalloc(cap / 2 * sizeof *t->used);
    t->cap = cap;
    t->n = 0;
}

/* This thread's table, with room for a text of `len` bytes: at most 4 features a byte
 * (3 n-grams start at each character, plus a unigram and a bigram per word), at half load. */
static lex_table *table_for(size_t len)
{
    (void)pthread_once(&key_once, init_key);
    lex_table *t = pthread_getspecific(table_key);
    if (!t) {
        t = lh_xcalloc(1, sizeof *t);
        if (pthread_setspecific(table_key, t) != 0)
            lh_panic(__FILE__, __LINE__, "lexical: pthread_setspecific failed");
    }
    uint64_t want = 8 * (uint64_t)len + 16;
    uint32_t cap = LEX_TABLE_MIN;
    while (cap < want && cap < LEX_TABLE_MAX)
        cap <<= 1;
    if (t->cap < cap)
        table_resize(t, cap);
    return t;
}

typedef struct lex_state {
    lex_table *t;
    float *out;
    size_t dims;
    uint32_t shift; /* 64 - log2(cap): the slot is the hash's top bits */
} lex_state;

/* Adds every counted feature into out and empties the table. */
static void flush_table(lex_state *s)
{
    lex_table *t = s->t;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t slot = t->used[i];
        uint64_t f = t->keys[slot];
        uint32_t c = t->counts[slot];
        float w = c < LH_ARRAY_LEN(log_weight) ? log_weight[c] : (float)(1.0 + log((double)c));
        /* The bucket comes from the low 32 bits (multiply-shift range reduction), the sign
         * from bit 62, both independent of the slot bits at the top. */
        size_t bucket = (size_t)(((f & 0xffffffffULL) * (uint64_t)s->dims) >> 32);
        /* Branch-free sign: it is a coin flip per feature, so a branch mispredicts half
         * the time and cost a third of the run time. */
        float sign = 1.0f - 2.0f * (float)(f >> 62 & 1);
        s->out[bucket] += sign * w;
        t->keys[slot] = 0;
    }
    t->n = 0;
}

static inline void add_feature(lex_state *s, uint64_t f)
{
    lex_table *t = s->t;
    if (f == 0)
        f = 1;
    uint32_t mask = t->cap - 1;
    uint32_t slot = (uint32_t)(f >> s->shift);
    for (;;) {
        uint64_t k = t->keys[slot];
        if (k == f) {
            t->counts[slot]++;
            return;
        }
        if (k == 0)
            break;
        slot = (slot + 1) & mask;
    }
    t->keys[slot] = f;
    t->counts[slot] = 1;
    t->used[t->n++] = slot;
    /* Only texts far longer than a chunk get here: count them in segments rather than
     * grow without bound. Deterministic, as the segment ends depend on the text only. */
    if (t->n >= t->cap / 2)
        flush_table(s);
}

/* Character n-grams of "<word>" (w holds the marked, lowercased word; pos[k] is where its
 * k-th character starts, pos[nch] its end). */
static void add_ngrams(lex_state *s, const unsigned char *w, const uint16_t *pos, size_t nch)
{
    for (size_t i = 0; i + 3 <= nch; i++) {
        uint64_t h = SEED_NGRAM;
        size_t end = i + 5 < nch ? i + 5 : nch;
        for (size_t k = i; k < end; k++) {
            for (size_t b = pos[k]; b < pos[k + 1]; b++)
                h = (h ^ w[b]) * FNV_PRIME;
            if (k - i >= 2)
                add_feature(s, mix64(h));
        }
    }
}

/* One word p[0..n): its unigram, the bigram with the previous word, its n-grams. Returns
 * the word's hash, the `prev` of the next word. */
static uint64_t add_word(lex_state *s, const unsigned char *p, size_t n, uint64_t prev,
                         int have_prev)
{
    unsigned char w[LEX_WORD_MAX + 2];
    uint16_t pos[LEX_WORD_MAX + 3];
    size_t nw = 1, nch = 1;
    w[0] = '<';
    pos[0] = 0;
    uint64_t h = SEED_WORD;
    int cont = 0, full = 0; /* continuation bytes since the last character start */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = byte_lower[p[i]];
        h = (h ^ c) * FNV_PRIME;
        if (full)
            continue;
        /* A UTF-8 continuation byte (10xxxxxx) extends the current character, up to the
         * 4 bytes a character may have; anything else starts a new one. */
        int extends = (c & 0xC0) == 0x80 && cont < 3 && nch > 1;
        if (nw >= LEX_WORD_MAX + 1) {
            if (extends) { /* never keep half a character: drop the one cut by the cap */
                nw = pos[nch - 1];
                nch--;
            }
            full = 1;
            continue;
        }
        if (extends) {
            cont++;
        } else {
            pos[nch++] = (uint16_t)nw;
            cont = 0;
        }
        w[nw++] = c;
    }
    pos[nch++] = (uint16_t)nw;
    w[nw++] = '>';
    pos[nch] = (uint16_t)nw;

    uint64_t word = mix64(h);
    add_feature(s, word);
    if (have_prev)
        add_feature(s, mix64(prev * 0x9e3779b97f4a7c15ULL + word + SEED_BIGRAM));
    add_ngrams(s, w, pos, nch);
    return word;
}

void lh_lexical_embed(const char *text, size_t len, size_t dims, float *out)
{
    LH_ASSERT(dims >= 8);
    memset(out, 0, dims * sizeof *out);
    if (!text || len == 0)
        return;
    (void)pthread_once(&tables_once, init_tables);

    lex_state s = {.t = table_for(len), .out = out, .dims = dims};
    uint32_t bits = 0;
    while ((1u << bits) < s.t->cap)
        bits++;
    s.shift = 64 - bits;

    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    uint64_t prev = 0;
    int have_prev = 0;
    while (i < len) {
        while (i < len && !byte_class[p[i]])
            i++;
        size_t start = i;
        while (i < len && byte_class[p[i]])
            i++;
        if (i > start) {
            prev = add_word(&s, p + start, i - start, prev, have_prev);
            have_prev = 1;
        }
    }
    flush_table(&s);

    double ss = 0;
    for (size_t d = 0; d < dims; d++)
        ss += (double)out[d] * out[d];
    if (ss <= 0)
        return; /* no features, or features that cancelled out exactly: the zero vector */
    float scale = (float)(1.0 / sqrt(ss));
    for (size_t d = 0; d < dims; d++)
        out[d] *= scale;
}

const char *lh_lexical_version(void)
{
    return LEX_VERSION;
}
