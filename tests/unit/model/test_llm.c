/* Unit tests for text generation and model admin (src/model/llm*.c) against
 * tests/fakes/fake_models.py: chat and generate for Ollama and OpenAI-compatible servers,
 * whole and streamed (pieces in order, concatenating to the full answer), early stop by the
 * callback, the request bodies sent (options, keep_alive), option checks, and
 * /api/ps, load and unload. Failures are in test_llm_errors.c. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "llm_test.h"

static void setup(void)
{
    setenv("LH_MODEL_BACKOFF_MS", "2", 1);
}

TestSuite(llm, .init = setup, .timeout = 30);

static const lh_chat_msg conv[] = {
    {"system", "You answer briefly."},
    {"user", "first question"},
    {"assistant", "first answer"},
    {"user", "what is the capital of France?"},
};
#define CONV_ANSWER "fake answer to: what is the capital of France?"

static void chat_both_ways(lh_provider p)
{
    fake_server f;
    fake_start(&f, NULL);
    lh_llm *m = llm_open(p, f.url, "llama3", 0, 0, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_chat(m, conv, 4, NULL, NULL, &text, &err), 0), "%s", err.message);
    cr_assert(eq(str, text, CONV_ANSWER));
    free(text);
    json_t *b = fake_last_body(&f);
    cr_assert(truth(json_is_false(json_object_get(b, "stream"))));
    cr_assert(eq(sz, json_array_size(json_object_get(b, "messages")), 4));
    json_decref(b);

    pieces got = {0};
    lh_buf_init(&got.all);
    cr_assert(eq(int, lh_llm_chat(m, conv, 4, collect, &got, &text, &err), 0), "%s",
              err.message);
    cr_assert(eq(str, text, CONV_ANSWER));
    cr_assert(eq(str, got.all.data, CONV_ANSWER), "the pieces, in order, make the answer");
    cr_assert(eq(int, got.n, 9), "one piece per word: %d", got.n);
    cr_assert(eq(int, got.empty, 0), "no empty pieces");
    b = fake_last_body(&f);
    cr_assert(truth(json_is_true(json_object_get(b, "stream"))));
    json_decref(b);
    free(text);
    lh_buf_release(&got.all);

    lh_llm_stats st = lh_llm_get_stats(m);
    cr_assert(eq(i64, st.requests, 2));
    cr_assert(eq(i64, st.retries, 0));
    cr_assert(gt(i64, st.completion_tokens, 0));
    cr_assert(gt(i64, st.prompt_tokens, 0));
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm, ollama_chat_whole_and_streamed)
{
    chat_both_ways(LH_PROVIDER_OLLAMA);
}

Test(llm, openai_chat_whole_and_streamed)
{
    chat_both_ways(LH_PROVIDER_OPENAI);
}

Test(llm, ollama_generate_sends_prompt_system_and_options)
{
    fake_server f;
    fake_start(&f, NULL);
    lh_llm_opts o = {.provider = LH_PROVIDER_OLLAMA, .model = "llama3", .url = f.url,
                     .temperature = 0.2, .max_tokens = 64, .keep_alive = "300"};
    lh_err err = LH_ERR_INIT;
    lh_llm *m = lh_llm_open(&o, &err);
    cr_assert_not_null(m, "%s", err.message);
    pieces got = {0};
    lh_buf_init(&got.all);
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, "be terse", "why is the sky blue", collect, &got,
                                      &text, &err), 0), "%s", err.message);
    cr_assert(eq(str, text, "fake answer to: why is the sky blue"));
    cr_assert(eq(str, got.all.data, text));
    json_t *b = fake_last_body(&f);
    cr_assert(eq(str, (char *)json_string_value(json_object_get(b, "prompt")),
                 "why is the sky blue"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(b, "system")), "be terse"));
    json_t *opt = json_object_get(b, "options");
    cr_assert(truth(json_is_object(opt)));
    cr_assert(eq(dbl, json_number_value(json_object_get(opt, "temperature")), 0.2));
    cr_assert(eq(i64, json_integer_value(json_object_get(opt, "num_predict")), 64));
    /* An integer keep_alive goes as a number: Ollama reads a string as a duration. */
    cr_assert(truth(json_is_integer(json_object_get(b, "keep_alive"))));
    cr_assert(eq(i64, json_integer_value(json_object_get(b, "keep_alive")), 300));
    json_decref(b);
    free(text);
    lh_buf_release(&got.all);

    /* Whole, and with no system text. */
    cr_assert(eq(int, lh_llm_generate(m, NULL, "hello", NULL, NULL, &text, &err), 0), "%s",
              err.message);
    cr_assert(eq(str, text, "fake answer to: hello"));
    b = fake_last_body(&f);
    cr_assert_null(json_object_get(b, "system"));
    json_decref(b);
    free(text);
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm, openai_generate_is_a_chat_and_accepts_a_v1_base)
{
    fake_server f;
    fake_start(&f, NULL);
    char base[96];
    snprintf(base, sizeof base, "%s/v1/", f.url);
    lh_llm_opts o = {.provider = LH_PROVIDER_OPENAI, .model = "gpt", .url = base,
                     .temperature = 0, .max_tokens = 10};
    lh_err err = LH_ERR_INIT;
    lh_llm *m = lh_llm_open(&o, &err);
    cr_assert_not_null(m, "%s", err.message);
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, "sys", "a prompt", NULL, NULL, &text, &err), 0), "%s",
              err.message);
    cr_assert(eq(str, text, "fake answer to: a prompt"));
    free(text);
    json_t *b = fake_last_body(&f);
    json_t *msgs = json_object_get(b, "messages");
    cr_assert(eq(sz, json_array_size(msgs), 2));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(json_array_get(msgs, 0), "role")),
                 "system"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(json_array_get(msgs, 1), "role")),
                 "user"));
    cr_assert(eq(dbl, json_number_value(json_object_get(b, "temperature")), 0.0));
    cr_assert(eq(i64, json_integer_value(json_object_get(b, "max_tokens")), 10));
    json_decref(b);
    cr_assert(eq(int, fake_stat_int(&f, "requests"), 1));
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm, default_options_leave_sampling_to_the_server)
{
    fake_server f;
    fake_start(&f, NULL);
    lh_llm *m = llm_open(LH_PROVIDER_OLLAMA, f.url, "llama3", 0, 0, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", NULL, NULL, &text, &err), 0), "%s",
              err.message);
    free(text);
    json_t *b = fake_last_body(&f);
    cr_assert_null(json_object_get(b, "options"));
    cr_assert_null(json_object_get(b, "keep_alive"));
    json_decref(b);
    lh_llm_close(m);
    fake_stop(&f);
}

static void stops_early(lh_provider p)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"reply\": \"one two three four five six seven eight\"}");
    lh_llm *m = llm_open(p, f.url, "llama3", 0, 0, NULL);
    pieces got = {.stop_after = 3};
    lh_buf_init(&got.all);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "count", collect, &got, &text, &err), 0), "%s",
              err.message);
    cr_assert(eq(int, got.n, 3), "no piece after the callback said stop");
    cr_assert(eq(str, text, "one two three "));
    cr_assert(eq(str, got.all.data, text));
    free(text);
    lh_buf_release(&got.all);
    /* The client is fine afterwards. */
    cr_assert(eq(int, lh_llm_generate(m, NULL, "again", NULL, NULL, &text, &err), 0), "%s",
              err.message);
    cr_assert(eq(str, text, "one two three four five six seven eight"));
    free(text);
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm, ollama_callback_stops_early)
{
    stops_early(LH_PROVIDER_OLLAMA);
}

Test(llm, openai_callback_stops_early)
{
    stops_early(LH_PROVIDER_OPENAI);
}

Test(llm, text_out_may_be_null_and_unicode_survives)
{
    fake_server f;
    fake_start(&f, NULL);
    fake_control(&f, "{\"reply\": \"Zürich \\u2014 caf\\u00e9 \\ud83d\\ude00 \\\"quoted\\\"\"}");
    lh_llm *m = llm_open(LH_PROVIDER_OPENAI, f.url, "gpt", 0, 0, NULL);
    pieces got = {0};
    lh_buf_init(&got.all);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "p", collect, &got, NULL, &err), 0), "%s",
              err.message);
    cr_assert(eq(str, got.all.data,
                 "Zürich \xe2\x80\x94 caf\xc3\xa9 \xf0\x9f\x98\x80 \"quoted\""));
    lh_buf_release(&got.all);
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm, open_checks_options)
{
    lh_err err = LH_ERR_INIT;
    lh_llm_opts o = {.provider = LH_PROVIDER_LEXICAL, .model = "m"};
    cr_assert_null(lh_llm_open(&o, &err));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(ne(ptr, strstr(err.message, "only embeds"), NULL), "%s", err.message);

    lh_llm_opts bad[] = {
        {.provider = LH_PROVIDER_OLLAMA},
        {.provider = LH_PROVIDER_OLLAMA, .model = ""},
        {.provider = LH_PROVIDER_OLLAMA, .model = "m", .url = "ftp://x"},
        {.provider = LH_PROVIDER_OLLAMA, .model = "m", .temperature = 2.5},
        {.provider = LH_PROVIDER_OLLAMA, .model = "m", .max_tokens = -1},
        {.provider = LH_PROVIDER_OLLAMA, .model = "m", .max_retries = -2},
        {.provider = LH_PROVIDER_OLLAMA, .model = "m", .timeout_ms = -5},
        {.provider = LH_PROVIDER_OLLAMA, .model = "m", .keep_alive = "five minutes"},
        {.provider = LH_PROVIDER_OLLAMA, .model = "m", .keep_alive = ""},
        {.provider = (lh_provider)42, .model = "m"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lh_err_clear(&err);
        cr_assert_null(lh_llm_open(&bad[i], &err), "case %zu", i);
        cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT), "case %zu: %s", i, err.message);
    }
    cr_assert_null(lh_llm_open(NULL, &err));

    o = (lh_llm_opts){.provider = LH_PROVIDER_OPENAI, .model = "gpt", .keep_alive = "5m"};
    lh_llm *m = lh_llm_open(&o, &err); /* no network at open: the default URL is fine */
    cr_assert_not_null(m, "%s", err.message);
    cr_assert(eq(str, (char *)lh_llm_model(m), "gpt"));
    cr_assert(eq(int, lh_llm_provider(m), LH_PROVIDER_OPENAI));
    lh_llm_close(m);
    lh_llm_close(NULL);
}

Test(llm, chat_checks_messages)
{
    lh_llm *m = llm_open(LH_PROVIDER_OLLAMA, "http://127.0.0.1:9", "m", -1, 0, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = (char *)"untouched";
    lh_chat_msg bad_role[] = {{"robot", "hi"}};
    lh_chat_msg no_content[] = {{"user", NULL}};
    lh_chat_msg no_role[] = {{NULL, "hi"}};
    cr_assert(eq(int, lh_llm_chat(m, bad_role, 1, NULL, NULL, &text, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert_null(text);
    cr_assert(eq(int, lh_llm_chat(m, no_content, 1, NULL, NULL, &text, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(eq(int, lh_llm_chat(m, no_role, 1, NULL, NULL, &text, &err), -1));
    cr_assert(eq(int, lh_llm_chat(m, bad_role, 0, NULL, NULL, &text, &err), -1));
    cr_assert(eq(int, lh_llm_chat(m, NULL, 1, NULL, NULL, &text, &err), -1));
    cr_assert(eq(int, lh_llm_generate(m, NULL, NULL, NULL, NULL, &text, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(eq(i64, lh_llm_get_stats(m).requests, 0), "nothing was sent");
    lh_llm_close(m);
}

/* The names in an lh_llm_loaded answer, comma-joined. */
static void names(json_t *j, char *out, size_t cap)
{
    out[0] = '\0';
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(j, "models"), i, it) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s", l ? "," : "",
                 json_string_value(json_object_get(it, "name")));
    }
}

Test(llm, ollama_ps_load_unload)
{
    fake_server f;
    fake_start(&f, NULL);
    lh_llm_opts o = {.provider = LH_PROVIDER_OLLAMA, .model = "llama3", .url = f.url,
                     .keep_alive = "10m"};
    lh_err err = LH_ERR_INIT;
    lh_llm *m = lh_llm_open(&o, &err);
    cr_assert_not_null(m, "%s", err.message);
    json_t *j = lh_llm_loaded(m, &err);
    cr_assert_not_null(j, "%s", err.message);
    cr_assert(eq(str, (char *)json_string_value(json_object_get(j, "kind")), "loaded"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(j, "provider")), "ollama"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(j, "url")), f.url));
    cr_assert(eq(sz, json_array_size(json_object_get(j, "models")), 0));
    json_decref(j);

    cr_assert(eq(int, lh_llm_load(m, NULL, &err), 0), "%s", err.message);
    json_t *b = fake_last_body(&f);
    cr_assert_null(json_object_get(b, "prompt"), "a load sends no prompt");
    cr_assert(eq(str, (char *)json_string_value(json_object_get(b, "keep_alive")), "10m"));
    json_decref(b);
    cr_assert(eq(int, lh_llm_load(m, "other", &err), 0), "%s", err.message);

    j = lh_llm_loaded(m, &err);
    cr_assert_not_null(j, "%s", err.message);
    char list[128];
    names(j, list, sizeof list);
    cr_assert(eq(str, list, "llama3,other"));
    json_t *first = json_array_get(json_object_get(j, "models"), 0);
    cr_assert(eq(i64, json_integer_value(json_object_get(first, "size")), 1 << 20));
    cr_assert(truth(json_is_integer(json_object_get(first, "size_vram"))));
    const char *exp = json_string_value(json_object_get(first, "expires_at"));
    cr_assert(exp && strncmp(exp, "2099", 4) != 0, "expires_at follows keep_alive: %s", exp);
    json_decref(j);

    cr_assert(eq(int, lh_llm_unload(m, NULL, &err), 0), "%s", err.message);
    b = fake_last_body(&f);
    cr_assert(eq(i64, json_integer_value(json_object_get(b, "keep_alive")), 0));
    json_decref(b);
    j = lh_llm_loaded(m, &err);
    cr_assert_not_null(j, "%s", err.message);
    names(j, list, sizeof list);
    cr_assert(eq(str, list, "other"));
    json_decref(j);
    lh_llm_close(m);
    fake_stop(&f);
}

Test(llm, openai_lists_models_and_has_no_load)
{
    fake_server f;
    fake_start(&f, NULL);
    lh_llm *m = llm_open(LH_PROVIDER_OPENAI, f.url, "gpt", 0, 0, NULL);
    lh_err err = LH_ERR_INIT;
    char *text = NULL;
    cr_assert(eq(int, lh_llm_generate(m, NULL, "x", NULL, NULL, &text, &err), 0), "%s",
              err.message);
    free(text);
    json_t *j = lh_llm_loaded(m, &err);
    cr_assert_not_null(j, "%s", err.message);
    cr_assert(eq(str, (char *)json_string_value(json_object_get(j, "kind")), "listed"));
    char list[64];
    names(j, list, sizeof list);
    cr_assert(eq(str, list, "gpt"));
    json_decref(j);
    cr_assert(eq(int, lh_llm_load(m, NULL, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(ne(ptr, strstr(err.message, "not supported by openai-compatible servers"), NULL),
              "%s", err.message);
    cr_assert(eq(int, lh_llm_unload(m, "gpt", &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    lh_llm_close(m);
    fake_stop(&f);
}
