/* model: the OpenAI-compatible generation wire format (OpenAI, vLLM, llama.cpp, LM Studio,
 * Ollama's /v1). POST {base}/v1/chat/completions {"model","messages","stream",
 * "temperature","max_tokens"} answers {"choices":[{"message":{"content"},"finish_reason"}],
 * "usage"}, or server-sent events "data: {"choices":[{"delta":{"content"}}]}" ending with
 * "data: [DONE]". A generate call is a chat of an optional system message and one user
 * message. GET /v1/models lists what the server can serve; there is no load or unload. */
#include <string.h>

#include "model/model_int.h"

/* OpenAI's own clients take a base URL that already ends in /v1; accept both forms. */
static const char *v1(const lh_llm *m, const char *with, const char *without)
{
    return lh_str_has_suffix(m->http.base_url, "/v1") ? without : with;
}

static const char *openai_path(const lh_llm *m, bool generate)
{
    (void)generate;
    return v1(m, "/v1/chat/completions", "/chat/completions");
}

static void message(lh_buf *out, const char *role, const char *content, bool first)
{
    lh_buf_puts(out, first ? "{\"role\":" : ",{\"role\":");
    lh_buf_json_string(out, role, strlen(role));
    lh_buf_puts(out, ",\"content\":");
    lh_buf_json_string(out, content, strlen(content));
    lh_buf_putc(out, '}');
}

static void openai_body(const lh_llm *m, bool generate, const lh_chat_msg *msgs, size_t n,
                        const char *system, const char *prompt, bool stream, lh_buf *out)
{
    lh_buf_puts(out, "{\"model\":");
    lh_buf_json_string(out, m->model, strlen(m->model));
    lh_buf_puts(out, ",\"messages\":[");
    if (generate) {
        if (system)
            message(out, "system", system, true);
        message(out, "user", prompt, !system);
    } else {
        for (size_t i = 0; i < n; i++)
            message(out, msgs[i].role, msgs[i].content, i == 0);
    }
    lh_buf_putc(out, ']');
    lh_buf_puts(out, stream ? ",\"stream\":true" : ",\"stream\":false");
    if (m->temperature >= 0)
        lh_buf_printf(out, ",\"temperature\":%.4g", m->temperature);
    if (m->max_tokens > 0)
        lh_buf_printf(out, ",\"max_tokens\":%d", m->max_tokens);
    lh_buf_putc(out, '}');
}

static int64_t count(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

/* One whole answer (stream false) or one streamed chunk. */
static int openai_event(lh_llm_call *c, json_t *obj, lh_err *err)
{
    bool stream = c->on_token != NULL;
    json_t *e = json_object_get(obj, "error");
    if (e) {
        if (json_is_object(e))
            e = json_object_get(e, "message");
        return lh_model__llm_fail(c->m, c->text.len ? "failed mid-answer" : "failed",
                                  json_is_string(e) ? json_string_value(e)
                                                    : "(an error without a message)",
                                  err);
    }
    json_t *usage = json_object_get(obj, "usage");
    if (json_is_object(usage)) {
        c->prompt_tokens = count(usage, "prompt_tokens");
        c->completion_tokens = count(usage, "completion_tokens");
    }
    json_t *choices = json_object_get(obj, "choices");
    if (!json_is_array(choices))
        return lh_model__llm_fail(c->m, "sent a malformed answer", "no \"choices\" array",
                                  err);
    if (json_array_size(choices) == 0) {
        if (stream) /* a usage-only chunk */
            return 0;
        return lh_model__llm_fail(c->m, "sent a malformed answer", "\"choices\" is empty", err);
    }
    json_t *choice = json_array_get(choices, 0);
    json_t *msg = json_is_object(choice)
                      ? json_object_get(choice, stream ? "delta" : "message")
                      : NULL;
    if (!json_is_object(msg))
        return lh_model__llm_fail(c->m, "sent a malformed answer",
                                  stream ? "a chunk without \"delta\""
                                         : "a choice without \"message\"",
                                  err);
    json_t *content = json_object_get(msg, "content");
    if (content && !json_is_null(content) && !json_is_string(content))
        return lh_model__llm_fail(c->m, "sent a malformed answer",
                                  "\"content\" is not a string", err);
    if (json_is_string(content)) {
        int rc = lh_model__llm_emit(c, json_string_value(content), json_string_length(content),
                                    err);
        if (rc != 0)
            return rc;
    }
    json_t *finish = json_object_get(choice, "finish_reason");
    if (!stream || json_is_string(finish))
        c->finished = true;
    return 0;
}

static json_t *openai_loaded(lh_llm *m, lh_err *err)
{
    json_t *data = NULL;
    json_t *root = lh_model__llm_get_array(m, v1(m, "/v1/models", "/models"), "data", &data,
                                           err);
    if (!root)
        return NULL;
    json_t *list = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(data, i, it) {
        json_t *id = json_is_object(it) ? json_object_get(it, "id") : NULL;
        if (!json_is_string(id))
            continue;
        json_t *e = json_pack("{sO}", "name", id);
        json_t *owner = json_object_get(it, "owned_by");
        if (json_is_string(owner))
            json_object_set(e, "owned_by", owner);
        json_array_append_new(list, e);
    }
    json_t *out = json_pack("{sssssssO}", "provider", "openai", "url", m->http.shown_url,
                            "kind", "listed", "models", list);
    json_decref(list);
    json_decref(root);
    return out;
}

const lh_llm_wire lh_model__openai_llm = {
    .name = "openai",
    .default_url = "https://api.openai.com",
    .stream_accept = "text/event-stream",
    .sse = true,
    .path = openai_path,
    .body = openai_body,
    .event = openai_event,
    .loaded = openai_loaded,
    .load = NULL,
};
