/* bench/embed: the built-in lexical embedder's throughput on one core, against the goal of
 * 20K chunks/s for ~500-character chunks at 384 dims (ARCHITECTURE.md §9). Chunks come from
 * a seeded generator (Zipf-distributed words over a fixed vocabulary, a few non-ASCII words),
 * so every run embeds the same bytes. Prints the median of several runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"

#define GOAL_PER_S 20000.0

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A vocabulary of 5000 pseudo-words, 2..12 letters, plus a few UTF-8 ones. */
static char vocab[5000][16];
static double zipf_cdf[5000];

static void make_vocab(void)
{
    static const char *utf8[] = {"über", "café", "naïve", "東京", "данные", "señal"};
    double sum = 0;
    for (int i = 0; i < 5000; i++) {
        if (i % 500 == 7) {
            snprintf(vocab[i], sizeof vocab[i], "%s", utf8[(i / 500) % 6]);
        } else {
            int len = 2 + (int)(next_rand() % 11);
            for (int k = 0; k < len; k++)
                vocab[i][k] = (char)('a' + next_rand() % 26);
            vocab[i][len] = '\0';
        }
        sum += 1.0 / (i + 1);
        zipf_cdf[i] = sum;
    }
    for (int i = 0; i < 5000; i++)
        zipf_cdf[i] /= sum;
}

static const char *pick_word(void)
{
    double u = (double)(next_rand() % 1000000) / 1e6;
    int lo = 0, hi = 4999;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (zipf_cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return vocab[lo];
}

/* One chunk of about `target` bytes: words, with punctuation and capitals now and then. */
static char *make_chunk(size_t target, size_t *len)
{
    char *s = malloc(target + 64);
    size_t n = 0;
    while (n < target) {
        const char *w = pick_word();
        size_t wl = strlen(w);
        if (n + wl + 2 > target + 60)
            break;
        memcpy(s + n, w, wl);
        if (next_rand() % 12 == 0)
            s[n] = (char)(s[n] >= 'a' && s[n] <= 'z' ? s[n] - 32 : s[n]);
        n += wl;
        uint64_t r = next_rand() % 20;
        s[n++] = r == 0 ? '.' : r == 1 ? ',' : ' ';
        if (r <= 1)
            s[n++] = ' ';
    }
    s[n] = '\0';
    *len = n;
    return s;
}

int main(int argc, char **argv)
{
    size_t nchunks = 20000, dims = 384, chunk_bytes = 500;
    int runs = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--chunks") == 0 && v > 0)
            nchunks = (size_t)v;
        else if (strcmp(argv[i], "--dims") == 0 && v >= 8)
            dims = (size_t)v;
        else if (strcmp(argv[i], "--bytes") == 0 && v > 0)
            chunk_bytes = (size_t)v;
        else if (strcmp(argv[i], "--runs") == 0 && v > 0)
            runs = (int)v;
        else {
            fprintf(stderr, "usage: lexical_bench [--chunks N] [--dims D] [--bytes B] "
                            "[--runs R]\n");
            return 2;
        }
    }
    make_vocab();
    char **text = malloc(nchunks * sizeof *text);
    size_t *lens = malloc(nchunks * sizeof *lens), total = 0;
    for (size_t i = 0; i < nchunks; i++) {
        text[i] = make_chunk(chunk_bytes, &lens[i]);
        total += lens[i];
    }
    float *out = malloc(dims * sizeof *out);
    double *rate = malloc((size_t)runs * sizeof *rate), check = 0;
    /* One warm-up pass sizes the per-thread table and faults the pages in. */
    for (size_t i = 0; i < nchunks && i < 1000; i++)
        lh_lexical_embed(text[i], lens[i], dims, out);
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        for (size_t i = 0; i < nchunks; i++) {
            lh_lexical_embed(text[i], lens[i], dims, out);
            check += out[i % dims];
        }
        rate[r] = (double)nchunks / (now_s() - t0);
    }
    qsort(rate, (size_t)runs, sizeof *rate, cmp_dbl);
    double med = rate[runs / 2];
    printf("lexical embedder (%s): %zu chunks, mean %.0f bytes, %zu dims, %d runs\n",
           lh_lexical_version(), nchunks, (double)total / (double)nchunks, dims, runs);
    printf("%-24s %12s %10s %14s\n", "case", "chunks/s", "MB/s", "ratio_to_goal");
    printf("%-24s %12.0f %10.1f %14.2f\n", "lexical_one_core", med,
           med * ((double)total / (double)nchunks) / 1e6, med / GOAL_PER_S);
    printf("(min %.0f, max %.0f chunks/s; goal %.0f; checksum %.3f)\n", rate[0],
           rate[runs - 1], GOAL_PER_S, check);
    for (size_t i = 0; i < nchunks; i++)
        free(text[i]);
    free(text);
    free(lens);
    free(out);
    free(rate);
    return med >= GOAL_PER_S ? 0 : 1;
}
