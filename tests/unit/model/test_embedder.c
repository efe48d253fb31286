/* Unit tests for src/model/embedder.c, ollama.c and openai.c against the protocol-level fake
 * (tests/fakes/fake_models.py): both wire formats, row order, batching, the concurrency
 * bound, the dimension probe, and the lexical provider behind the same interface.
 * Failure handling (retries, errors, secrets) is in test_embedder_errors.c. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>

#include "fake_models.h"
#include "model/model.h"

#define NTEXTS 20

static char text_store[NTEXTS][64];
static const char *texts[NTEXTS];
static size_t lens[NTEXTS];

static void setup(void)
{
    setenv("LH_MODEL_BACKOFF_MS", "2", 1);
    for (int i = 0; i < NTEXTS; i++) {
        snprintf(text_store[i], sizeof text_store[i], "text number %d, about \"topic\" %d", i,
                 i * 7);
        texts[i] = text_store[i];
        lens[i] = strlen(text_store[i]);
    }
}

TestSuite(embedder, .init = setup, .timeout = 30);

static lh_embedder *open_remote(lh_provider p, const char *url, size_t dims, int batch,
                                int conc)
{
    lh_embedder_opts o = {.provider = p, .model = "nomic-embed-text", .url = url,
                          .dims = dims, .batch = batch, .concurrency = conc};
    lh_err err = LH_ERR_INIT;
    lh_embedder *e = lh_embedder_open(&o, &err);
    cr_assert_not_null(e, "%s", err.message);
    return e;
}

static size_t sum_batches(json_t *stats, size_t *count, size_t *largest)
{
    json_t *b = json_object_get(stats, "batch_sizes");
    size_t i, sum = 0;
    json_t *v;
    *largest = 0;
    json_array_foreach(b, i, v)
    {
        size_t x = (size_t)json_integer_value(v);
        sum += x;
        if (x > *largest)
            *largest = x;
    }
    *count = json_array_size(b);
    return sum;
}

Test(embedder, ollama_embeds_in_order_in_batches)
{
    fake_server f;
    fake_start(&f, (const char *const[]){"--dims", "24", NULL});
    lh_embedder *e = open_remote(LH_PROVIDER_OLLAMA, f.url, 24, 8, 2);
    float *out = calloc(NTEXTS * 24, sizeof *out);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_embedder_embed(e, texts, lens, NTEXTS, out, &err), 0), "%s",
              err.message);
    fake_assert_rows(texts, lens, NTEXTS, 24, out);

    json_t *s = fake_stats(&f);
    size_t count, largest, sum = sum_batches(s, &count, &largest);
    cr_assert(eq(sz, count, 3)); /* ceil(20 / 8) */
    cr_assert(eq(sz, sum, NTEXTS));
    cr_assert(eq(sz, largest, 8));
    json_t *auth = json_array_get(json_object_get(s, "auth"), 0);
    bool no_auth = json_is_null(auth);
    cr_assert(no_auth, "no key configured, yet Authorization was sent");
    cr_assert(eq(str, (char *)json_string_value(json_array_get(json_object_get(s, "models"), 0)),
                 "nomic-embed-text"));
    json_decref(s);

    lh_embedder_stats st = lh_embedder_get_stats(e);
    cr_assert(eq(i64, st.requests, 3));
    cr_assert(eq(i64, st.retries, 0));
    cr_assert(eq(i64, st.texts, NTEXTS));
    cr_assert(gt(dbl, st.model_ms, 0.0));
    cr_assert(eq(int, lh_embedder_provider(e), LH_PROVIDER_OLLAMA));
    cr_assert(eq(str, (char *)lh_embedder_model(e), "nomic-embed-text"));
    free(out);
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder, openai_orders_rows_by_index_and_sends_the_key)
{
    fake_server f;
    fake_start(&f, (const char *const[]){"--dims", "12", "--api-key", "sk-test-key-0123456789",
                                         NULL});
    lh_embedder_opts o = {.provider = LH_PROVIDER_OPENAI, .model = "text-embedding-3-small",
                          .url = f.url, .api_key = "sk-test-key-0123456789", .batch = 5,
                          .concurrency = 3};
    lh_err err = LH_ERR_INIT;
    lh_embedder *e = lh_embedder_open(&o, &err);
    cr_assert_not_null(e, "%s", err.message);
    cr_assert(eq(sz, lh_embedder_dims(e, &err), 12), "%s", err.message);
    float out[NTEXTS * 12];
    cr_assert(eq(int, lh_embedder_embed(e, texts, lens, NTEXTS, out, &err), 0), "%s",
              err.message);
    /* The fake answers "data" reversed: rows must still follow the input. */
    fake_assert_rows(texts, lens, NTEXTS, 12, out);

    json_t *s = fake_stats(&f);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(s, "auth"), i, v)
        cr_assert(eq(str, (char *)json_string_value(v), "Bearer sk-test-key-0123456789"));
    cr_assert(eq(int, json_integer_value(json_object_get(s, "requests")), 1 + 4));
    json_decref(s);
    lh_embedder_close(e);

    /* A base URL that already ends in /v1 (as OpenAI's own clients take it) works too. */
    char v1[96];
    snprintf(v1, sizeof v1, "%s/v1/", f.url);
    o.url = v1;
    e = lh_embedder_open(&o, &err);
    cr_assert_not_null(e, "%s", err.message);
    cr_assert(eq(sz, lh_embedder_dims(e, &err), 12), "%s", err.message);
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder, dims_are_probed_once_when_not_configured)
{
    fake_server f;
    fake_start(&f, (const char *const[]){"--dims", "40", NULL});
    lh_embedder *e = open_remote(LH_PROVIDER_OLLAMA, f.url, 0, 0, 0);
    float out[3 * 40];
    lh_err err = LH_ERR_INIT;
    /* The caller cannot size out before the dimension is known. */
    cr_assert(eq(int, lh_embedder_embed(e, texts, lens, 3, out, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 0));

    cr_assert(eq(sz, lh_embedder_dims(e, &err), 40), "%s", err.message);
    cr_assert(eq(sz, lh_embedder_dims(e, &err), 40));
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 1));
    cr_assert(eq(int, lh_embedder_embed(e, texts, lens, 3, out, &err), 0), "%s", err.message);
    fake_assert_rows(texts, lens, 3, 40, out);
    /* A model that changes its dimension afterwards is refused. */
    fake_control(&f, "{\"dims\": 41}");
    cr_assert(eq(int, lh_embedder_embed(e, texts, lens, 3, out, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(eq(int, lh_embedder_embed(e, texts, lens, 0, out, &err), 0)); /* nothing to do */
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder, concurrency_is_bounded)
{
    fake_server f;
    fake_start(&f, (const char *const[]){"--dims", "8", "--delay-ms", "120", NULL});
    lh_embedder *e = open_remote(LH_PROVIDER_OLLAMA, f.url, 8, 2, 3);
    float out[NTEXTS * 8];
    lh_err err = LH_ERR_INIT;
    double t0 = lh_mono_ms();
    cr_assert(eq(int, lh_embedder_embed(e, texts, lens, NTEXTS, out, &err), 0), "%s",
              err.message);
    double ms = lh_mono_ms() - t0;
    fake_assert_rows(texts, lens, NTEXTS, 8, out);
    int64_t max_in_flight = fake_stat_int(&f, "max_in_flight");
    cr_assert(le(i64, max_in_flight, 3), "%lld requests in flight", (long long)max_in_flight);
    cr_assert(ge(i64, max_in_flight, 2), "requests were not sent concurrently");
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 10));
    /* 10 requests of 120 ms, 3 at a time: 4 rounds, far below 10 in a row. */
    cr_assert(lt(dbl, ms, 10 * 120.0), "%.0f ms", ms);
    lh_embedder_close(e);

    /* concurrency 1: strictly one after another. */
    json_decref(fake_call(&f, "/_reset", "{}"));
    fake_control(&f, "{\"delay_ms\": 20}");
    e = open_remote(LH_PROVIDER_OPENAI, f.url, 8, 3, 1);
    cr_assert(eq(int, lh_embedder_embed(e, texts, lens, NTEXTS, out, &err), 0), "%s",
              err.message);
    fake_assert_rows(texts, lens, NTEXTS, 8, out);
    cr_assert(eq(int, fake_stat_int(&f, "max_in_flight"), 1));
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 7)); /* ceil(20 / 3) */
    lh_embedder_close(e);
    fake_stop(&f);
}

typedef struct shared_call {
    lh_embedder *e;
    float out[NTEXTS * 8];
    int rc;
} shared_call;

static void *embed_shared(void *arg)
{
    shared_call *c = arg;
    lh_err err = LH_ERR_INIT;
    c->rc = lh_embedder_embed(c->e, texts, lens, NTEXTS, c->out, &err);
    return NULL;
}

Test(embedder, one_embedder_serves_several_threads)
{
    fake_server f;
    fake_start(&f, (const char *const[]){"--dims", "8", "--delay-ms", "10", NULL});
    lh_embedder *e = open_remote(LH_PROVIDER_OLLAMA, f.url, 8, 3, 2);
    shared_call calls[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        calls[i].e = e;
        calls[i].rc = 99;
        cr_assert(eq(int, pthread_create(&t[i], NULL, embed_shared, &calls[i]), 0));
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        cr_assert(eq(int, calls[i].rc, 0), "thread %d", i);
        fake_assert_rows(texts, lens, NTEXTS, 8, calls[i].out);
    }
    lh_embedder_stats st = lh_embedder_get_stats(e);
    cr_assert(eq(i64, st.texts, 3 * NTEXTS));
    cr_assert(eq(i64, st.requests, 3 * 7)); /* ceil(20 / 3) each */
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 3 * 7));
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder, odd_texts_survive_the_round_trip)
{
    fake_server f;
    fake_start(&f, (const char *const[]){"--dims", "8", NULL});
    lh_embedder *e = open_remote(LH_PROVIDER_OLLAMA, f.url, 8, 0, 0);
    const char *odd[] = {"", "quotes \" and \\ backslashes", "tabs\tand\nnewlines\r",
                         "ünïcødé 東京 ✓", "nul\0inside"};
    size_t odd_lens[] = {0, strlen(odd[1]), strlen(odd[2]), strlen(odd[3]), 11};
    float out[5 * 8];
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_embedder_embed(e, odd, odd_lens, 5, out, &err), 0), "%s",
              err.message);
    fake_assert_rows(odd, odd_lens, 5, 8, out);
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder, lexical_provider)
{
    lh_embedder_opts o = {.provider = LH_PROVIDER_LEXICAL};
    lh_err err = LH_ERR_INIT;
    lh_embedder *e = lh_embedder_open(&o, &err);
    cr_assert_not_null(e, "%s", err.message);
    cr_assert(eq(sz, lh_embedder_dims(e, &err), 384));
    cr_assert(eq(str, (char *)lh_embedder_model(e), (char *)lh_lexical_version()));
    float *out = calloc(NTEXTS * 384, sizeof *out), want[384];
    cr_assert(eq(int, lh_embedder_embed(e, texts, lens, NTEXTS, out, &err), 0));
    for (int i = 0; i < NTEXTS; i++) {
        lh_lexical_embed(texts[i], lens[i], 384, want);
        cr_assert(memcmp(out + i * 384, want, sizeof want) == 0, "row %d", i);
    }
    lh_embedder_stats st = lh_embedder_get_stats(e);
    cr_assert(eq(i64, st.texts, NTEXTS));
    cr_assert(eq(i64, st.requests, 0));
    free(out);
    lh_embedder_close(e);

    o.dims = 64;
    e = lh_embedder_open(&o, &err);
    cr_assert_not_null(e);
    cr_assert(eq(sz, lh_embedder_dims(e, &err), 64));
    lh_embedder_close(e);
    o.dims = 4;
    cr_assert_null(lh_embedder_open(&o, &err));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
}

Test(embedder, provider_names)
{
    lh_provider p;
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_provider_parse("lexical", &p, &err), 0));
    cr_assert(eq(int, p, LH_PROVIDER_LEXICAL));
    cr_assert(eq(int, lh_provider_parse("builtin", &p, &err), 0));
    cr_assert(eq(int, p, LH_PROVIDER_LEXICAL));
    cr_assert(eq(int, lh_provider_parse("ollama", &p, &err), 0));
    cr_assert(eq(int, p, LH_PROVIDER_OLLAMA));
    cr_assert(eq(int, lh_provider_parse("openai", &p, &err), 0));
    cr_assert(eq(int, p, LH_PROVIDER_OPENAI));
    cr_assert(eq(int, lh_provider_parse("gpt", &p, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(eq(int, lh_provider_parse(NULL, &p, &err), -1));
    cr_assert(eq(str, (char *)lh_provider_name(LH_PROVIDER_LEXICAL), "lexical"));
    cr_assert(eq(str, (char *)lh_provider_name(LH_PROVIDER_OLLAMA), "ollama"));
    cr_assert(eq(str, (char *)lh_provider_name(LH_PROVIDER_OPENAI), "openai"));
}

Test(embedder, open_checks_its_options)
{
    struct {
        lh_embedder_opts o;
        const char *want;
    } bad[] = {
        {{.provider = LH_PROVIDER_OLLAMA}, "needs a model"},
        {{.provider = LH_PROVIDER_OPENAI, .model = ""}, "needs a model"},
        {{.provider = LH_PROVIDER_OLLAMA, .model = "m", .url = "ftp://host"}, "scheme"},
        {{.provider = LH_PROVIDER_OLLAMA, .model = "m", .url = "not a url"}, "bad ollama url"},
        {{.provider = LH_PROVIDER_OLLAMA, .model = "m", .url = "http://"}, "bad ollama url"},
        {{.provider = LH_PROVIDER_OLLAMA, .model = "m", .url = "http://h/?q=1"}, "query"},
        {{.provider = LH_PROVIDER_OLLAMA, .model = "m", .batch = -1}, "batch"},
        {{.provider = LH_PROVIDER_OLLAMA, .model = "m", .concurrency = 1000}, "concurrency"},
        {{.provider = LH_PROVIDER_OLLAMA, .model = "m", .max_retries = -2}, "max_retries"},
        {{.provider = LH_PROVIDER_OLLAMA, .model = "m", .dims = 1u << 20}, "dims"},
        {{.provider = LH_PROVIDER_OPENAI, .model = "m", .api_key = "sk-a\r\nX-Evil: 1"},
         "control characters"},
        {{.provider = (lh_provider)42, .model = "m"}, "provider"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        lh_err err = LH_ERR_INIT;
        cr_assert_null(lh_embedder_open(&bad[i].o, &err), "case %zu opened", i);
        cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT), "case %zu", i);
        cr_assert(strstr(err.message, bad[i].want) != NULL, "case %zu: '%s'", i, err.message);
        cr_assert(strstr(err.message, "sk-a") == NULL);
    }
    lh_err err = LH_ERR_INIT;
    cr_assert_null(lh_embedder_open(NULL, &err));
    /* Defaults need no server to open. */
    lh_embedder_opts ok = {.provider = LH_PROVIDER_OPENAI, .model = "m"};
    lh_embedder *e = lh_embedder_open(&ok, &err);
    cr_assert_not_null(e, "%s", err.message);
    lh_embedder_close(e);
    lh_embedder_close(NULL);
}
