/* Helpers shared by the generation tests (test_llm*.c): open an lh_llm against the fake,
 * collect streamed pieces, and read the last request body the fake received. */
#ifndef LH_TEST_LLM_H
#define LH_TEST_LLM_H

#include "fake_models.h"
#include "model/model.h"

/* Criterion's cr_assert cannot take jansson's json_is_* macros directly. */
static inline bool truth(bool b)
{
    return b;
}

static lh_llm *llm_open(lh_provider p, const char *url, const char *model, int max_retries,
                        int timeout_ms, const char *key)
{
    lh_llm_opts o = {.provider = p, .model = model, .url = url, .max_retries = max_retries,
                     .timeout_ms = timeout_ms, .api_key = key, .temperature = -1};
    lh_err err = LH_ERR_INIT;
    lh_llm *m = lh_llm_open(&o, &err);
    cr_assert_not_null(m, "%s", err.message);
    return m;
}

/* Collects streamed pieces; stops after stop_after of them when that is non-zero. */
typedef struct pieces {
    lh_buf all;
    int n, empty, stop_after;
} pieces;

static int collect(void *ctx, const char *text, size_t len)
{
    pieces *p = ctx;
    lh_buf_append(&p->all, text, len);
    p->n++;
    if (len == 0)
        p->empty++;
    return p->stop_after && p->n >= p->stop_after;
}

/* The JSON body of the last model request the fake received (new reference). */
__attribute__((unused)) static json_t *fake_last_body(const fake_server *f)
{
    json_t *s = fake_stats(f);
    json_t *b = json_incref(json_object_get(s, "last_body"));
    json_decref(s);
    cr_assert(truth(json_is_object(b)), "the fake saw no model request body");
    (void)fake_assert_rows; /* fake_models.h's embedding check; unused here */
    return b;
}

#endif
