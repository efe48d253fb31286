/* model: the Ollama generation wire format and its admin calls. POST /api/chat
 * {"model","messages":[{role,content}],"stream","options":{temperature,num_predict},
 * "keep_alive"} and POST /api/generate {"model","prompt","system",...} answer one object,
 * or NDJSON lines {"message":{"content":"..."}} / {"response":"..."} ending with a line
 * whose "done" is true (with token counts); an {"error":"..."} line reports a failure
 * mid-stream. GET /api/ps lists the loaded models; /api/generate without a prompt loads
 * one, and with keep_alive 0 unloads it. */
#include <string.h>

#include "model/model_int.h"

static const char *ollama_path(const lh_llm *m, bool generate)
{
    (void)m;
    return generate ? "/api/generate" : "/api/chat";
}

static void ollama_options(const lh_llm *m, lh_buf *out)
{
    if (m->temperature < 0 && m->max_tokens == 0)
        return;
    lh_buf_puts(out, ",\"options\":{");
    if (m->temperature >= 0)
        lh_buf_printf(out, "\"temperature\":%.4g", m->temperature);
    if (m->max_tokens > 0)
        lh_buf_printf(out, "%s\"num_predict\":%d", m->temperature >= 0 ? "," : "",
                      m->max_tokens);
    lh_buf_putc(out, '}');
}

static void ollama_body(const lh_llm *m, bool generate, const lh_chat_msg *msgs, size_t n,
                        const char *system, const char *prompt, bool stream, lh_buf *out)
{
    lh_buf_puts(out, "{\"model\":");
    lh_buf_json_string(out, m->model, strlen(m->model));
    if (generate) {
        lh_buf_puts(out, ",\"prompt\":");
        lh_buf_json_string(out, prompt, strlen(prompt));
        if (system) {
            lh_buf_puts(out, ",\"system\":");
            lh_buf_json_string(out, system, strlen(system));
        }
    } else {
        lh_buf_puts(out, ",\"messages\":[");
        for (size_t i = 0; i < n; i++) {
            lh_buf_puts(out, i ? ",{\"role\":" : "{\"role\":");
            lh_buf_json_string(out, msgs[i].role, strlen(msgs[i].role));
            lh_buf_puts(out, ",\"content\":");
            lh_buf_json_string(out, msgs[i].content, strlen(msgs[i].content));
            lh_buf_putc(out, '}');
        }
        lh_buf_putc(out, ']');
    }
    lh_buf_puts(out, stream ? ",\"stream\":true" : ",\"stream\":false");
    ollama_options(m, out);
    if (m->keep_alive)
        lh_model__llm_keep_alive(out, m->keep_alive);
    lh_buf_putc(out, '}');
}

/* The text of an {"error": ...} answer, in either shape servers use. */
static const char *error_text(json_t *e)
{
    if (json_is_object(e))
        e = json_object_get(e, "message");
    return json_is_string(e) ? json_string_value(e) : "(an error without a message)";
}

static int64_t count(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

static int ollama_event(lh_llm_call *c, json_t *obj, lh_err *err)
{
    json_t *e = json_object_get(obj, "error");
    if (e)
        return lh_model__llm_fail(c->m, c->text.len ? "failed mid-answer" : "failed",
                                  error_text(e), err);
    /* The text: "response" (generate) or "message"."content" (chat); a chat message may
     * carry only tool calls or "thinking", which has no text for us. */
    json_t *holder = c->generate ? obj : json_object_get(obj, "message");
    json_t *piece = json_is_object(holder)
                        ? json_object_get(holder, c->generate ? "response" : "content")
                        : NULL;
    json_t *done = json_object_get(obj, "done");
    if ((!c->generate && holder && !json_is_object(holder)) ||
        (piece && !json_is_string(piece)) || (done && !json_is_boolean(done)))
        return lh_model__llm_fail(c->m, "sent a malformed answer",
                                  "\"response\", \"message\" or \"done\" has the wrong type",
                                  err);
    if (!(c->generate ? piece : holder) && !done)
        return lh_model__llm_fail(c->m, "sent a malformed answer",
                                  c->generate ? "no \"response\" and no \"done\""
                                              : "no \"message\" and no \"done\"",
                                  err);
    if (piece) {
        int rc = lh_model__llm_emit(c, json_string_value(piece), json_string_length(piece), err);
        if (rc != 0)
            return rc;
    }
    if (json_is_true(done)) {
        c->done = true;
        c->prompt_tokens = count(obj, "prompt_eval_count");
        c->completion_tokens = count(obj, "eval_count");
    }
    return 0;
}

static json_t *copy_field(json_t *to, json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);
    if (v && !json_is_null(v))
        json_object_set(to, key, v);
    return to;
}

static json_t *ollama_loaded(lh_llm *m, lh_err *err)
{
    json_t *models = NULL;
    json_t *root = lh_model__llm_get_array(m, "/api/ps", "models", &models, err);
    if (!root)
        return NULL;
    json_t *list = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(models, i, it) {
        json_t *name = json_is_object(it) ? json_object_get(it, "name") : NULL;
        if (!json_is_string(name))
            name = json_is_object(it) ? json_object_get(it, "model") : NULL;
        if (!json_is_string(name))
            continue; /* an entry we cannot name is of no use to anyone */
        json_t *e = json_pack("{sO}", "name", name);
        copy_field(e, it, "size");
        copy_field(e, it, "size_vram");
        copy_field(e, it, "expires_at");
        json_array_append_new(list, e);
    }
    json_t *out = json_pack("{sssssssO}", "provider", "ollama", "url", m->http.shown_url,
                            "kind", "loaded", "models", list);
    json_decref(list);
    json_decref(root);
    return out;
}

static int ollama_load(lh_llm *m, const char *model, bool unload, lh_err *err)
{
    lh_buf body, resp;
    lh_buf_init(&body);
    lh_buf_init(&resp);
    lh_buf_puts(&body, "{\"model\":");
    lh_buf_json_string(&body, model, strlen(model));
    lh_buf_puts(&body, ",\"stream\":false");
    if (unload)
        lh_buf_puts(&body, ",\"keep_alive\":0");
    else if (m->keep_alive)
        lh_model__llm_keep_alive(&body, m->keep_alive);
    lh_buf_putc(&body, '}');
    lh_model_req req = {.path = "/api/generate", .body = body.data, .len = body.len};
    int rc = lh_model__http_request(&m->http, &req, &resp, err);
    if (rc == 0) {
        json_t *root = json_loadb(resp.data, resp.len, 0, NULL);
        json_t *e = json_is_object(root) ? json_object_get(root, "error") : NULL;
        if (!json_is_object(root))
            rc = lh_model__llm_fail(m, "answered with malformed JSON",
                                    resp.len == 0 ? "(empty answer)" : "(not a JSON object)",
                                    err);
        else if (e)
            rc = lh_model__llm_fail(m, "failed", error_text(e), err);
        json_decref(root);
    }
    lh_buf_release(&body);
    lh_buf_release(&resp);
    return rc;
}

const lh_llm_wire lh_model__ollama_llm = {
    .name = "ollama",
    .default_url = "http://127.0.0.1:11434",
    .stream_accept = "application/x-ndjson",
    .sse = false,
    .path = ollama_path,
    .body = ollama_body,
    .event = ollama_event,
    .loaded = ollama_loaded,
    .load = ollama_load,
};
