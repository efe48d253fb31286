/* Unit tests for the failure side of the remote embedders (src/model/http_client.c and
 * embedder.c) against tests/fakes/fake_models.py: retries after 503, 429 with Retry-After
 * and dropped connections; giving up after max_retries; a server that is down; a missing
 * model; malformed answers; dimension mismatches; timeouts; and API keys that never reach
 * an error message. Backoff is shortened with LH_MODEL_BACKOFF_MS so the suite stays fast. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "fake_models.h"
#include "model/model.h"

static const char *two[] = {"first text", "second text"};
static const size_t two_lens[] = {10, 11};

static void setup(void)
{
    setenv("LH_MODEL_BACKOFF_MS", "2", 1);
}

TestSuite(embedder_errors, .init = setup, .timeout = 30);

static lh_embedder *open_at(lh_provider p, const char *url, int max_retries, int timeout_ms,
                            const char *key)
{
    lh_embedder_opts o = {.provider = p, .model = "nomic", .url = url, .dims = 16,
                          .max_retries = max_retries, .timeout_ms = timeout_ms,
                          .api_key = key};
    lh_err err = LH_ERR_INIT;
    lh_embedder *e = lh_embedder_open(&o, &err);
    cr_assert_not_null(e, "%s", err.message);
    return e;
}

static int embed_two(lh_embedder *e, float *out, lh_err *err)
{
    return lh_embedder_embed(e, two, two_lens, 2, out, err);
}

Test(embedder_errors, retries_after_503_then_succeeds)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"fail_next\": 2, \"status\": 503}");
    lh_embedder *e = open_at(LH_PROVIDER_OLLAMA, f.url, 0, 0, NULL);
    float out[32];
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, embed_two(e, out, &err), 0), "%s", err.message);
    fake_assert_rows(two, two_lens, 2, 16, out);
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 3));
    lh_embedder_stats st = lh_embedder_get_stats(e);
    cr_assert(eq(i64, st.requests, 3));
    cr_assert(eq(i64, st.retries, 2));
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder_errors, honours_retry_after_on_429)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"fail_next\": 1, \"status\": 429, \"retry_after\": 1}");
    lh_embedder *e = open_at(LH_PROVIDER_OPENAI, f.url, 0, 0, NULL);
    float out[32];
    lh_err err = LH_ERR_INIT;
    double t0 = lh_mono_ms();
    cr_assert(eq(int, embed_two(e, out, &err), 0), "%s", err.message);
    double ms = lh_mono_ms() - t0;
    fake_assert_rows(two, two_lens, 2, 16, out);
    /* The backoff alone is ~2 ms here: the wait came from Retry-After. */
    cr_assert(ge(dbl, ms, 950.0), "retried after %.0f ms", ms);
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 2));
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder_errors, retries_a_dropped_connection)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"fail_next\": 1, \"fail_mode\": \"drop\"}");
    lh_embedder *e = open_at(LH_PROVIDER_OLLAMA, f.url, 0, 0, NULL);
    float out[32];
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, embed_two(e, out, &err), 0), "%s", err.message);
    fake_assert_rows(two, two_lens, 2, 16, out);
    cr_assert(eq(i64, lh_embedder_get_stats(e).retries, 1));
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder_errors, gives_up_after_max_retries)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"fail_next\": 100, \"status\": 500}");
    lh_embedder *e = open_at(LH_PROVIDER_OLLAMA, f.url, 2, 0, NULL);
    float out[32];
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(strstr(err.message, "HTTP 500: injected failure 500") != NULL, "%s",
              err.message);
    cr_assert(strstr(err.message, "gave up after 3 attempts") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, f.url) != NULL, "%s", err.message);
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 3)); /* 1 + max_retries */
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder_errors, server_down_is_upstream_error_fast)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    lh_embedder *e = open_at(LH_PROVIDER_OLLAMA, url, 0, 0, NULL);
    float out[32];
    lh_err err = LH_ERR_INIT;
    double t0 = lh_mono_ms();
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    double ms = lh_mono_ms() - t0;
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    char want[128];
    snprintf(want, sizeof want, "cannot reach ollama at %s: connection refused", url);
    cr_assert(strstr(err.message, want) != NULL, "%s", err.message);
    cr_assert(eq(i64, lh_embedder_get_stats(e).requests, 5)); /* default 4 retries */
    cr_assert(lt(dbl, ms, 2000.0), "%.0f ms", ms);
    /* The probe fails the same way. */
    lh_embedder_opts o = {.provider = LH_PROVIDER_OPENAI, .model = "m", .url = url,
                          .max_retries = 1};
    lh_embedder *p = lh_embedder_open(&o, &err);
    cr_assert_not_null(p);
    cr_assert(eq(sz, lh_embedder_dims(p, &err), 0));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    lh_embedder_close(p);
    lh_embedder_close(e);
}

Test(embedder_errors, missing_model_passes_the_server_text_along)
{
    fake_server f;
    fake_start(&f, (const char *const[]){"--missing-model", "nomic", NULL});
    lh_embedder *e = open_at(LH_PROVIDER_OLLAMA, f.url, 0, 0, NULL);
    float out[32];
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(strstr(err.message, "model \"nomic\" not found, try pulling it first") != NULL,
              "%s", err.message);
    cr_assert(strstr(err.message, "HTTP 404") != NULL, "%s", err.message);
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 1)); /* a 404 is not retried */
    lh_embedder_close(e);

    e = open_at(LH_PROVIDER_OPENAI, f.url, 0, 0, NULL);
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(strstr(err.message, "The model `nomic` does not exist") != NULL, "%s",
              err.message);
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder_errors, dimension_mismatch_is_invalid_argument)
{
    fake_server f;
    fake_start(&f, (const char *const[]){"--dims", "512", NULL});
    lh_embedder_opts o = {.provider = LH_PROVIDER_OLLAMA, .model = "nomic", .url = f.url,
                          .dims = 768};
    lh_err err = LH_ERR_INIT;
    lh_embedder *e = lh_embedder_open(&o, &err);
    cr_assert_not_null(e);
    float *out = calloc(2 * 768, sizeof *out);
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(strstr(err.message, "returned 512 dimensions, index expects 768") != NULL, "%s",
              err.message);
    for (size_t i = 0; i < 2 * 768; i++)
        cr_assert(out[i] == 0.0f, "a row was written despite the mismatch");
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 1));
    free(out);
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder_errors, malformed_answers_are_upstream_errors)
{
    fake_server f;
    fake_start(&f, NULL);
    lh_embedder *e = open_at(LH_PROVIDER_OLLAMA, f.url, 0, 0, NULL);
    float out[32];
    lh_err err = LH_ERR_INIT;
    fake_control(&f, "{\"fail_next\": 1, \"fail_mode\": \"malformed\"}");
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(strstr(err.message, "malformed JSON") != NULL, "%s", err.message);

    fake_control(&f, "{\"fail_next\": 1, \"fail_mode\": \"wrong_count\"}");
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(strstr(err.message, "1 embeddings for 2 texts") != NULL, "%s", err.message);

    /* A bad value in the last row: nothing at all is written, not even the good first row. */
    for (size_t i = 0; i < 32; i++)
        out[i] = 7.0f;
    fake_control(&f, "{\"fail_next\": 1, \"fail_mode\": \"bad_value\"}");
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(strstr(err.message, "not a float") != NULL, "%s", err.message);
    for (size_t i = 0; i < 32; i++)
        cr_assert(out[i] == 7.0f, "out[%zu] written", i);
    lh_embedder_close(e);

    e = open_at(LH_PROVIDER_OPENAI, f.url, 0, 0, NULL);
    fake_control(&f, "{\"fail_next\": 1, \"fail_mode\": \"wrong_count\"}");
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(strstr(err.message, "1 embeddings for 2 texts") != NULL, "%s", err.message);
    /* After the faults, the same embedder works again. */
    cr_assert(eq(int, embed_two(e, out, &err), 0), "%s", err.message);
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder_errors, slow_server_times_out)
{
    fake_server f;
    fake_start(&f, (const char *const[]){"--delay-ms", "1500", NULL});
    lh_embedder *e = open_at(LH_PROVIDER_OLLAMA, f.url, 1, 200, NULL);
    float out[32];
    lh_err err = LH_ERR_INIT;
    double t0 = lh_mono_ms();
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    double ms = lh_mono_ms() - t0;
    cr_assert(eq(int, err.code, LH_TIMEOUT), "%s", err.message);
    cr_assert(strstr(err.message, "did not answer within 200 ms") != NULL, "%s", err.message);
    cr_assert(lt(dbl, ms, 1400.0), "%.0f ms", ms);
    lh_embedder_close(e);
    fake_stop(&f);
}

Test(embedder_errors, api_key_never_reaches_an_error_message)
{
    static const char key[] = "sk-live-SECRET-0123456789abcdef";
    fake_server f;
    fake_start(&f, NULL);
    float out[32];
    lh_err err = LH_ERR_INIT;

    /* The server quotes the Authorization header back in its error. */
    fake_control(&f, "{\"fail_next\": 1, \"status\": 400, \"echo_auth\": true}");
    lh_embedder *e = open_at(LH_PROVIDER_OPENAI, f.url, 0, 0, key);
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(strstr(err.message, "[redacted]") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "SECRET") == NULL, "key leaked: %s", err.message);
    cr_assert(strstr(err.detail, "SECRET") == NULL, "key leaked: %s", err.detail);

    /* A server that wants another key echoes the one it got (OpenAI does, masked). */
    fake_control(&f, "{\"api_key\": \"sk-other\"}");
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(strstr(err.message, "HTTP 401") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "SECRET") == NULL, "key leaked: %s", err.message);

    /* Every request carried the key as a bearer token. */
    json_t *s = fake_stats(&f);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(s, "auth"), i, v)
        cr_assert(eq(str, (char *)json_string_value(v), "Bearer sk-live-SECRET-0123456789abcdef"));
    json_decref(s);
    lh_embedder_close(e);

    /* A server that is down: the key is not in that message either. */
    char url[64];
    snprintf(url, sizeof url, "http://user:SECRETPASS@127.0.0.1:%d", closed_port());
    e = open_at(LH_PROVIDER_OPENAI, url, 1, 0, key);
    cr_assert(eq(int, embed_two(e, out, &err), -1));
    cr_assert(strstr(err.message, "SECRET") == NULL, "secret leaked: %s", err.message);
    cr_assert(strstr(err.detail, "SECRET") == NULL, "secret leaked: %s", err.detail);
    lh_embedder_close(e);
    fake_stop(&f);
}
