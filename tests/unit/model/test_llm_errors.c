/* Unit tests for the failure side of text generation (src/model/llm*.c and the streaming
 * path of http_client.c) against tests/fakes/fake_models.py: 503 then success (retried),
 * a server that is down, a missing model, a stream cut mid-way or ending without its end
 * marker or with an error line (never retried once tokens went out; partial text kept),
 * malformed answers, timeouts, and API keys that never reach an error message. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "llm_test.h"

static void setup(void)
{
    setenv("LH_MODEL_BACKOFF_MS", "2", 1);
}

TestSuite(llm_errors, .init = setup, .timeout = 30);

static bool has(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

static void retried_after_503(lh_provider p, bool stream)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"fail_next\": 2, \"status\": 503}");
    lh_llm *m = llm_open(p, f.url, "llama3", 0, 0, NULL);
    pieces got = {0};
    lh_buf_init(&got.all);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "hello", stream ? collect : NULL, &got, &text,
                                      &err), 0), "%s", err.message);
    cr_assert(eq(str, text, "fake answer to: hello"));
    if (stream)
        cr_assert(eq(str, got.all.data, text), "error bodies never reach the callback");
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 3));
    cr_assert(eq(i64, lh_llm_get_stats(m).retries, 2));
    free(text);
    lh_buf_release(&got.all);
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm_errors, ollama_503_then_success_streamed)
{
    retried_after_503(LH_PROVIDER_OLLAMA, true);
}

Test(llm_errors, openai_503_then_success_whole)
{
    retried_after_503(LH_PROVIDER_OPENAI, false);
}

Test(llm_errors, gives_up_after_max_retries)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"fail_next\": 10, \"status\": 500}");
    lh_llm *m = llm_open(LH_PROVIDER_OLLAMA, f.url, "llama3", 2, 0, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", collect, &(pieces){0}, &text, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(has(err.message, "HTTP 500") && has(err.message, "injected failure 500") &&
                  has(err.message, "gave up after 3 attempts"),
              "%s", err.message);
    cr_assert(eq(str, text, ""), "a failure still hands back the (empty) partial text");
    free(text);
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 3));
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm_errors, server_down)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    lh_llm *m = llm_open(LH_PROVIDER_OLLAMA, url, "llama3", 1, 2000, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_chat(m, &(lh_chat_msg){"user", "hi"}, 1, NULL, NULL, &text, &err),
                 -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    char want[160];
    snprintf(want, sizeof want, "cannot reach ollama at %s: connection refused", url);
    cr_assert(has(err.message, want), "%s", err.message);
    cr_assert(eq(i64, lh_llm_get_stats(m).retries, 1), "connection errors are retried");
    free(text);
    json_t *j = lh_llm_loaded(m, &err);
    cr_assert_null(j);
    cr_assert(has(err.message, "connection refused"), "%s", err.message);
    cr_assert(eq(int, lh_llm_unload(m, NULL, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    lh_llm_close(m);
}

Test(llm_errors, model_missing_passes_the_server_text)
{
    fake_server f;
    const char *args[] = {"--missing-model", "nope", NULL};
    fake_start(&f, args);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    lh_llm *m = llm_open(LH_PROVIDER_OLLAMA, f.url, "nope", 0, 0, NULL);
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", collect, &(pieces){0}, &text, &err), -1));
    cr_assert(eq(int, err.code, LH_UPSTREAM));
    cr_assert(has(err.message, "model \"nope\" not found, try pulling it first") &&
                  has(err.message, "HTTP 404"),
              "%s", err.message);
    free(text);
    cr_assert(eq(int, lh_llm_load(m, NULL, &err), -1));
    cr_assert(has(err.message, "not found"), "%s", err.message);
    lh_llm_close(m);

    m = llm_open(LH_PROVIDER_OPENAI, f.url, "nope", 0, 0, NULL);
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", NULL, NULL, &text, &err), -1));
    cr_assert(has(err.message, "The model `nope` does not exist"), "%s", err.message);
    free(text);
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 3), "a 404 is not retried");
    lh_llm_close(m);
    fake_stop(&f);
}

#define LONG_REPLY "alpha beta gamma delta epsilon zeta eta theta iota kappa"

/* A streamed answer that breaks after some pieces went out: an error, the partial text
 * kept, and no retry (the caller already showed those pieces). */
static void broken_stream(lh_provider p, const char *mode, lh_code code, const char *says,
                          bool cut)
{
    fake_server f;
    fake_start(&f, NULL);
    char ctl[160];
    snprintf(ctl, sizeof ctl,
             "{\"reply\": \"" LONG_REPLY "\", \"fail_next\": 1, \"fail_mode\": \"%s\"}", mode);
    fake_control(&f, ctl);
    lh_llm *m = llm_open(p, f.url, "llama3", 0, 0, NULL);
    pieces got = {0};
    lh_buf_init(&got.all);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", collect, &got, &text, &err), -1));
    cr_assert(eq(int, err.code, code), "%s", err.message);
    cr_assert(has(err.message, says), "%s", err.message);
    if (cut)
        cr_assert(has(err.message, "not retried"), "%s", err.message);
    cr_assert_not_null(text);
    cr_assert(gt(sz, strlen(text), 0));
    cr_assert(eq(str, got.all.data, text), "the partial text is what the callback saw");
    cr_assert(eq(int, strncmp(LONG_REPLY, text, strlen(text)), 0), "'%s'", text);
    if (strcmp(mode, "no_done") != 0)
        cr_assert(lt(sz, strlen(text), strlen(LONG_REPLY)));
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 1), "never retried once tokens went out");
    free(text);
    lh_buf_release(&got.all);
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm_errors, ollama_stream_cut_midway)
{
    broken_stream(LH_PROVIDER_OLLAMA, "cut", LH_UPSTREAM, "broke off", true);
}

Test(llm_errors, openai_stream_cut_midway)
{
    broken_stream(LH_PROVIDER_OPENAI, "cut", LH_UPSTREAM, "broke off", true);
}

Test(llm_errors, ollama_error_line_midstream)
{
    broken_stream(LH_PROVIDER_OLLAMA, "stream_error", LH_UPSTREAM,
                  "failed mid-answer: injected failure mid-stream", false);
}

Test(llm_errors, openai_error_event_midstream)
{
    broken_stream(LH_PROVIDER_OPENAI, "stream_error", LH_UPSTREAM,
                  "failed mid-answer: injected failure mid-stream", false);
}

Test(llm_errors, stream_without_end_marker_is_incomplete)
{
    broken_stream(LH_PROVIDER_OLLAMA, "no_done", LH_UPSTREAM, "incomplete stream", false);
}

Test(llm_errors, openai_stream_without_done_or_finish_is_incomplete)
{
    broken_stream(LH_PROVIDER_OPENAI, "no_done", LH_UPSTREAM, "incomplete stream", false);
}

/* Cut after the first streamed line, which carries no text yet: nothing reached the
 * callback, so the call starts over and succeeds. */
static void cut_before_text(lh_provider p)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"reply\": \"\", \"fail_next\": 1, \"fail_mode\": \"cut\"}");
    lh_llm *m = llm_open(p, f.url, "llama3", 0, 0, NULL);
    pieces got = {0};
    lh_buf_init(&got.all);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", collect, &got, &text, &err), 0), "%s",
              err.message);
    cr_assert(eq(str, text, ""));
    cr_assert(eq(int, got.n, 0));
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 2));
    cr_assert(eq(i64, lh_llm_get_stats(m).retries, 1));
    free(text);
    lh_buf_release(&got.all);
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm_errors, ollama_stream_cut_before_any_text_is_retried)
{
    cut_before_text(LH_PROVIDER_OLLAMA);
}

Test(llm_errors, openai_stream_cut_before_any_text_is_retried)
{
    cut_before_text(LH_PROVIDER_OPENAI);
}

/* One streamed line past LH_LLM_MAX_LINE (16 MiB): too_large, not an unbounded buffer. */
Test(llm_errors, stream_line_ceiling)
{
    fake_server f;
    fake_start(&f, NULL);
    size_t n = ((size_t)16 << 20) + 100;
    lh_buf ctl;
    lh_buf_init(&ctl);
    lh_buf_puts(&ctl, "{\"reply\": \"");
    lh_buf_reserve(&ctl, n + 8);
    memset(ctl.data + ctl.len, 'w', n); /* one word: one piece, one line */
    ctl.len += n;
    lh_buf_puts(&ctl, "\"}");
    fake_control(&f, ctl.data);
    lh_buf_release(&ctl);
    lh_llm *m = llm_open(LH_PROVIDER_OLLAMA, f.url, "llama3", -1, 0, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", collect, &(pieces){0}, &text, &err), -1));
    cr_assert(eq(int, err.code, LH_TOO_LARGE), "%s", err.message);
    cr_assert(has(err.message, "longer than 16 MiB"), "%s", err.message);
    free(text);
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm_errors, whole_answer_cut_is_retried)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"fail_next\": 1, \"fail_mode\": \"cut\"}");
    lh_llm *m = llm_open(LH_PROVIDER_OLLAMA, f.url, "llama3", 0, 0, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "hello", NULL, NULL, &text, &err), 0), "%s",
              err.message);
    cr_assert(eq(str, text, "fake answer to: hello"));
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 2));
    free(text);
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm_errors, malformed_answers)
{
    fake_server f;
    fake_start(&f, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    for (int stream = 0; stream < 2; stream++) {
        for (int p = 0; p < 2; p++) {
            lh_llm *m = llm_open(p ? LH_PROVIDER_OPENAI : LH_PROVIDER_OLLAMA, f.url, "llama3",
                                 -1, 0, NULL);
            fake_control(&f, "{\"fail_next\": 1, \"fail_mode\": \"malformed\"}");
            cr_assert(eq(int, lh_llm_generate(m, NULL, "x", stream ? collect : NULL,
                                              &(pieces){0}, &text, &err), -1));
            cr_assert(eq(int, err.code, LH_UPSTREAM), "%s", err.message);
            cr_assert(has(err.message, "malformed"), "%s", err.message);
            free(text);
            lh_llm_close(m);
        }
    }
    fake_stop(&f);
}

Test(llm_errors, timeout_before_and_during_the_answer)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"delay_ms\": 1500}");
    lh_llm *m = llm_open(LH_PROVIDER_OLLAMA, f.url, "llama3", -1, 300, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", collect, &(pieces){0}, &text, &err), -1));
    cr_assert(eq(int, err.code, LH_TIMEOUT), "%s", err.message);
    cr_assert(has(err.message, "did not answer within 300 ms"), "%s", err.message);
    free(text);

    /* Slow tokens: the whole call is bounded, and what came is kept. */
    fake_control(&f, "{\"delay_ms\": 0, \"token_delay_ms\": 100, \"reply\": \"" LONG_REPLY
                     "\"}");
    pieces got = {0};
    lh_buf_init(&got.all);
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", collect, &got, &text, &err), -1));
    cr_assert(eq(int, err.code, LH_TIMEOUT), "%s", err.message);
    cr_assert(has(err.message, "did not finish within 300 ms"), "%s", err.message);
    cr_assert(gt(sz, strlen(text), 0));
    cr_assert(eq(str, got.all.data, text));
    free(text);
    lh_buf_release(&got.all);
    lh_llm_close(m);
    fake_stop(&f);
}

#define KEY "sk-test-0123456789abcdef"

Test(llm_errors, api_key_never_in_messages)
{
    fake_server f;
    const char *args[] = {"--api-key", "the-right-key", NULL};
    fake_start(&f, args);
    lh_llm *m = llm_open(LH_PROVIDER_OPENAI, f.url, "gpt", 0, 0, KEY);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    /* The fake quotes the Authorization header it got in its 401 text. */
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", collect, &(pieces){0}, &text, &err), -1));
    cr_assert(has(err.message, "HTTP 401"), "%s", err.message);
    cr_assert(has(err.message, "[redacted]"), "%s", err.message);
    cr_assert(truth(!has(err.message, "sk-test-") && !has(err.detail, "sk-test-")), "%s",
              err.message);
    free(text);
    json_t *j = lh_llm_loaded(m, &err);
    cr_assert_null(j);
    cr_assert(truth(!has(err.message, "sk-test-")), "%s", err.message);

    fake_control(&f, "{\"api_key\": \"" KEY "\", \"fail_next\": 1, \"status\": 400, "
                     "\"echo_auth\": true}");
    cr_assert(eq(int, lh_llm_chat(m, &(lh_chat_msg){"user", "hi"}, 1, NULL, NULL, &text, &err),
                 -1));
    cr_assert(has(err.message, "auth was: Bearer [redacted]"), "%s", err.message);
    free(text);
    /* With the right key the call goes through, and the key went in the header. */
    cr_assert(eq(int, lh_llm_chat(m, &(lh_chat_msg){"user", "hi"}, 1, NULL, NULL, &text, &err),
                 0), "%s", err.message);
    cr_assert(eq(str, text, "fake answer to: hi"));
    free(text);
    lh_llm_close(m);
    fake_stop(&f);
}
