/* libFuzzer target for lh_ai__parse_scores, which reads the relevance scores a rerank model
 * wrote for passages 1..n. Any reply must leave every score in 0..1 (never NaN), 0 for a
 * passage the model skipped, and a count that matches the passages found; never a crash, a
 * hang or a leak. The first byte picks n (0..64). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (256u << 10))
        return 0;
    size_t n = data[0] % 65;
    char *reply = malloc(size);
    if (!reply)
        abort();
    memcpy(reply, data + 1, size - 1);
    reply[size - 1] = '\0';
    /* One spare slot each side: the parser must write scores[0..n) only. */
    double scores[66];
    bool found[66];
    scores[n] = -7.0;
    found[n] = true;
    size_t got = lh_ai__parse_scores(reply, n, scores, found);
    if (got > n || scores[n] != -7.0 || !found[n])
        abort();
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i]) || scores[i] < 0 || scores[i] > 1)
            abort();
        if (found[i])
            count++;
        else if (scores[i] != 0)
            abort();
    }
    if (count != got)
        abort();
    /* The same reply parsed twice gives the same scores (no hidden state). */
    double again[66];
    bool found2[66];
    if (lh_ai__parse_scores(reply, n, again, found2) != got)
        abort();
    for (size_t i = 0; i < n; i++)
        if (again[i] != scores[i] || found2[i] != found[i])
            abort();
    free(reply);
    return 0;
}
