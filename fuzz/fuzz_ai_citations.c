/* libFuzzer target for lh_ai__fix_citations, which holds a model's RAG answer to the
 * passages it was shown. The first byte picks how many passages were shown (0..40), the rest
 * is the answer. Whatever the model wrote, in the fixed answer every [n] must name a
 * returned citation (1..ncited), every citation must be cited, numbers must come in order of
 * first use and map to the passages the model named, and fixing a fixed answer must change
 * nothing; never a crash, a hang or a leak. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXP 40
#define REF_CAP 32 /* numbers of one bracket that count, as the parser takes them */

/* A reference at p, written independently of text.c from its documented grammar: '[',
 * numbers of 1-6 digits separated by ',' with blanks (' ') around them, ']'. Returns its
 * length (0 = none) and its numbers (the first REF_CAP). */
static size_t ref_at(const char *p, long *nums, size_t *count)
{
    if (*p != '[')
        return 0;
    size_t i = 1;
    *count = 0;
    for (;;) {
        while (p[i] == ' ')
            i++;
        size_t d = 0;
        long v = 0;
        while (isdigit((unsigned char)p[i + d])) {
            v = v * 10 + (p[i + d] - '0');
            if (++d > 6)
                return 0;
        }
        if (d == 0)
            return 0;
        i += d;
        if (*count < REF_CAP)
            nums[(*count)++] = v;
        while (p[i] == ' ')
            i++;
        if (p[i] == ']')
            return i + 1;
        if (p[i] != ',')
            return 0;
        i++;
    }
}

/* Walks text as the fixer does (a reference is taken whole, else one byte) and calls back
 * for each number of each reference. */
typedef void (*num_fn)(void *ctx, long n);
static void each_ref(const char *text, num_fn fn, void *ctx)
{
    for (const char *p = text; *p;) {
        long nums[REF_CAP];
        size_t count = 0, len = ref_at(p, nums, &count);
        if (len == 0) {
            p++;
            continue;
        }
        for (size_t k = 0; k < count; k++)
            fn(ctx, nums[k]);
        p += len;
    }
}

typedef struct seen {
    size_t limit;       /* numbers 1..limit count */
    size_t first[MAXP]; /* numbers in order of first appearance */
    size_t nfirst;
    bool bad;           /* a number outside 1..limit */
} seen;

static void note(void *ctx, long n)
{
    seen *s = ctx;
    if (n < 1 || (size_t)n > s->limit) {
        s->bad = true;
        return;
    }
    for (size_t i = 0; i < s->nfirst; i++)
        if (s->first[i] == (size_t)n)
            return;
    s->first[s->nfirst++] = (size_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (256u << 10))
        return 0;
    size_t np = data[0] % (MAXP + 1);
    char *answer = malloc(size);
    if (!answer)
        abort();
    memcpy(answer, data + 1, size - 1);
    answer[size - 1] = '\0';

    size_t order[MAXP + 1], ncited = 99;
    order[np] = 12345; /* must stay untouched: order has room for np entries */
    char *fixed = lh_ai__fix_citations(answer, np, order, &ncited);
    if (!fixed || ncited > np || order[np] != 12345 || strlen(fixed) > 2 * strlen(answer))
        abort();
    bool used[MAXP] = {0};
    for (size_t i = 0; i < ncited; i++) {
        if (order[i] >= np || used[order[i]])
            abort();
        used[order[i]] = true;
    }
    /* The passages the model named (valid numbers, in order of first use) are the
     * citations, in that order. */
    seen in = {.limit = np};
    each_ref(answer, note, &in);
    if (in.nfirst != ncited)
        abort();
    for (size_t i = 0; i < ncited; i++)
        if (in.first[i] != order[i] + 1)
            abort();
    /* Every [n] of the fixed answer names a citation, every citation is cited, and new
     * numbers appear in order 1, 2, 3... */
    seen out = {.limit = ncited};
    each_ref(fixed, note, &out);
    if (out.bad || out.nfirst != ncited)
        abort();
    for (size_t i = 0; i < ncited; i++)
        if (out.first[i] != i + 1)
            abort();
    /* A fixed answer is a fixed point. */
    size_t order2[MAXP + 1], ncited2 = 99;
    char *again = lh_ai__fix_citations(fixed, ncited, order2, &ncited2);
    if (strcmp(again, fixed) != 0 || ncited2 != ncited)
        abort();
    for (size_t i = 0; i < ncited2; i++)
        if (order2[i] != i)
            abort();
    free(again);
    free(fixed);
    free(answer);
    return 0;
}
