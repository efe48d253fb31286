/* model: lh_llm, text generation and model admin over Ollama and OpenAI-compatible servers.
 * This file holds what both wire formats share: options, message checks, the call state,
 * the stream framing (NDJSON lines or server-sent events, each bounded by
 * LH_LLM_MAX_LINE) and the rule that a call may start over only while nothing has reached
 * the caller's token callback. llm_ollama.c and llm_openai.c know the JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_int.h"

#define DEFAULT_TIMEOUT_MS 300000
#define DEFAULT_MAX_RETRIES 4
#define MAX_TIMEOUT_MS (24 * 3600 * 1000)
#define MAX_KEEP_ALIVE 32

/* Ollama takes an integer (seconds) or a Go duration ("5m", "1h30m", "-1m"). */
static bool keep_alive_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_KEEP_ALIVE)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.-+nsumh", s[i]))
            return false;
    return true;
}

static bool is_integer(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

void lh_model__llm_keep_alive(lh_buf *out, const char *keep_alive)
{
    lh_buf_puts(out, ",\"keep_alive\":");
    if (is_integer(keep_alive)) /* Ollama reads a string as a duration, which needs a unit */
        lh_buf_puts(out, keep_alive[0] == '+' ? keep_alive + 1 : keep_alive);
    else
        lh_buf_json_string(out, keep_alive, strlen(keep_alive));
}

lh_llm *lh_llm_open(const lh_llm_opts *opts, lh_err *err)
{
    if (!opts) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "generation model options are missing");
        return NULL;
    }
    const lh_llm_wire *wire = NULL;
    switch (opts->provider) {
    case LH_PROVIDER_OLLAMA: wire = &lh_model__ollama_llm; break;
    case LH_PROVIDER_OPENAI: wire = &lh_model__openai_llm; break;
    case LH_PROVIDER_LEXICAL:
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "the lexical provider only embeds; generation needs ollama or openai");
        return NULL;
    default:
        lh_err_set(err, LH_INVALID_ARGUMENT, "unknown generation provider %d",
                   (int)opts->provider);
        return NULL;
    }
    if (!opts->model || !opts->model[0]) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "%s generation needs a model name", wire->name);
        return NULL;
    }
    if (strlen(opts->model) > LH_LLM_MAX_MODEL_NAME) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "%s model name is longer than %d bytes",
                   wire->name, LH_LLM_MAX_MODEL_NAME);
        return NULL;
    }
    if (opts->timeout_ms < 0 || opts->timeout_ms > MAX_TIMEOUT_MS) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "generation timeout_ms %d is out of range (0..%d)",
                   opts->timeout_ms, MAX_TIMEOUT_MS);
        return NULL;
    }
    if (opts->max_retries < -1 || opts->max_retries > LH_MODEL_MAX_RETRIES) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "generation max_retries %d is out of range (-1..%d)", opts->max_retries,
                   LH_MODEL_MAX_RETRIES);
        return NULL;
    }
    if (isnan(opts->temperature) || opts->temperature > 2.0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "temperature must be at most 2 (< 0 = default)");
        return NULL;
    }
    if (opts->max_tokens < 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "max_tokens %d is negative", opts->max_tokens);
        return NULL;
    }
    if (opts->keep_alive && !keep_alive_valid(opts->keep_alive)) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "keep_alive '%.40s' is not a duration (want e.g. 300, \"5m\", \"-1\")",
                   opts->keep_alive);
        return NULL;
    }
    int timeout = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    int retries = opts->max_retries == -1  ? 0
                  : opts->max_retries == 0 ? DEFAULT_MAX_RETRIES
                                           : opts->max_retries;

    lh_llm *m = lh_xcalloc(1, sizeof *m);
    if (lh_model__http_init(&m->http, wire->name, opts->url ? opts->url : wire->default_url,
                            opts->api_key, timeout, retries, err) != 0) {
        free(m);
        return NULL;
    }
    m->http.max_response = LH_LLM_MAX_RESPONSE;
    m->provider = opts->provider;
    m->wire = wire;
    m->model = lh_xstrdup(opts->model);
    m->keep_alive = opts->keep_alive ? lh_xstrdup(opts->keep_alive) : NULL;
    m->temperature = opts->temperature < 0 ? -1.0 : opts->temperature;
    m->max_tokens = opts->max_tokens;
    atomic_init(&m->prompt_tokens, 0);
    atomic_init(&m->completion_tokens, 0);
    return m;
}

void lh_llm_close(lh_llm *m)
{
    if (!m)
        return;
    lh_model__http_release(&m->http);
    free(m->model);
    free(m->keep_alive);
    free(m);
}

lh_provider lh_llm_provider(const lh_llm *m)
{
    return m->provider;
}

const char *lh_llm_model(const lh_llm *m)
{
    return m->model;
}

lh_llm_stats lh_llm_get_stats(const lh_llm *m)
{
    lh_llm_stats s = {
        .requests = atomic_load(&m->http.requests),
        .retries = atomic_load(&m->http.retries),
        .prompt_tokens = atomic_load(&m->prompt_tokens),
        .completion_tokens = atomic_load(&m->completion_tokens),
        .model_ms = (double)atomic_load(&m->http.wait_us) / 1000.0,
    };
    return s;
}

int lh_model__llm_fail(const lh_llm *m, const char *what, const char *text, lh_err *err)
{
    char clean[400];
    lh_model__scrub(&m->http, text, strlen(text), clean, sizeof clean);
    return lh_err_set(err, LH_UPSTREAM, "%s at %s %s: %s", m->http.provider,
                      m->http.shown_url, what, clean);
}

/* ---- one call: the answer as it arrives --------------------------------------------------- */

int lh_model__llm_emit(lh_llm_call *c, const char *text, size_t len, lh_err *err)
{
    if (len == 0)
        return 0;
    if (c->text.len + len > LH_LLM_MAX_RESPONSE)
        return lh_err_set(err, LH_TOO_LARGE, "%s at %s answered with more than %zu MiB",
                          c->m->http.provider, c->m->http.shown_url,
                          LH_LLM_MAX_RESPONSE >> 20);
    lh_buf_append(&c->text, text, len);
    if (!c->on_token)
        return 0;
    c->delivered = true;
    if (c->on_token(c->ctx, text, len) != 0)
        c->stopped = true;
    return c->stopped ? 1 : 0;
}

static int parse_event(lh_llm_call *c, const char *data, size_t len, lh_err *err)
{
    json_t *obj = json_loadb(data, len, 0, NULL);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return lh_model__llm_fail(c->m, "sent a malformed stream line",
                                  len > 120 ? "(not a JSON object)" : data, err);
    }
    int rc = c->m->wire->event(c, obj, err);
    json_decref(obj);
    return rc;
}

/* One complete line of a stream (without its newline). NDJSON: the line is an answer
 * object. SSE: "data: x" lines gather into an event, which a blank line ends; comments
 * (":...") and other fields (event:, id:, retry:) carry nothing we need; a bare JSON line
 * is read as an event, so an error a server sends without SSE framing still shows. */
static int stream_line(lh_llm_call *c, char *line, size_t len, lh_err *err)
{
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    if (c->done) /* nothing after the end marker counts */
        return 0;
    if (!c->m->wire->sse)
        return len == 0 ? 0 : parse_event(c, line, len, err);
    if (len == 0) {
        if (c->event.len == 0)
            return 0;
        int rc = 0;
        if (strcmp(c->event.data, "[DONE]") == 0)
            c->done = true;
        else
            rc = parse_event(c, c->event.data, c->event.len, err);
        lh_buf_reset(&c->event);
        return rc;
    }
    if (line[0] == '{') /* not SSE: a server (or proxy) answering with bare JSON */
        return parse_event(c, line, len, err);
    if (len >= 5 && memcmp(line, "data:", 5) == 0) {
        size_t skip = len > 5 && line[5] == ' ' ? 6 : 5;
        if (c->event.len + (len - skip) + 1 > LH_LLM_MAX_LINE)
            return lh_err_set(err, LH_TOO_LARGE,
                              "%s at %s sent a stream event longer than %zu MiB",
                              c->m->http.provider, c->m->http.shown_url, LH_LLM_MAX_LINE >> 20);
        if (c->event.len > 0)
            lh_buf_putc(&c->event, '\n');
        lh_buf_append(&c->event, line + skip, len - skip);
    }
    return 0;
}

/* lh_model_body_fn: splits the arriving bytes into lines. */
static int on_stream(void *ctx, const char *data, size_t len, lh_err *err)
{
    return lh_model__llm_stream(ctx, data, len, err);
}

int lh_model__llm_stream(lh_llm_call *c, const char *data, size_t len, lh_err *err)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        if (c->line.len + take > LH_LLM_MAX_LINE)
            return lh_err_set(err, LH_TOO_LARGE, "%s at %s sent a stream line longer than %zu MiB",
                              c->m->http.provider, c->m->http.shown_url, LH_LLM_MAX_LINE >> 20);
        lh_buf_append(&c->line, data, take);
        if (!nl)
            break;
        int rc = stream_line(c, c->line.data, c->line.len, err);
        lh_buf_reset(&c->line);
        if (rc != 0)
            return rc;
        data += take + 1;
        len -= take + 1;
    }
    return 0;
}

int lh_model__llm_stream_end(lh_llm_call *c, lh_err *err)
{
    /* Tolerate a last line without its newline, and a last event without its blank line:
     * the end marker decides whether the answer is complete. */
    int rc = 0;
    if (c->line.len > 0)
        rc = stream_line(c, c->line.data, c->line.len, err) < 0 ? -1 : 0;
    if (rc == 0 && !c->stopped && c->m->wire->sse && c->event.len > 0)
        rc = stream_line(c, c->line.data, 0, err) < 0 ? -1 : 0;
    return rc;
}

static void call_clear(lh_llm_call *c)
{
    lh_buf_reset(&c->text);
    lh_buf_reset(&c->line);
    lh_buf_reset(&c->event);
    c->done = c->finished = false;
    c->prompt_tokens = c->completion_tokens = -1;
}

/* lh_model_restart_fn: a broken stream may be fetched again only if nobody saw any of it. */
static int on_restart(void *ctx)
{
    lh_llm_call *c = ctx;
    if (c->delivered)
        return 1;
    call_clear(c);
    return 0;
}

/* Sends one call and reads its answer into c->text. */
static int run_call(lh_llm_call *c, const lh_chat_msg *msgs, size_t n, const char *system,
                    const char *prompt, lh_err *err)
{
    lh_llm *m = c->m;
    bool stream = c->on_token != NULL;
    lh_buf body, resp;
    lh_buf_init(&body);
    lh_buf_init(&resp);
    m->wire->body(m, c->generate, msgs, n, system, prompt, stream, &body);
    lh_model_req req = {
        .path = m->wire->path(m, c->generate),
        .body = body.data,
        .len = body.len,
        .accept = stream ? m->wire->stream_accept : NULL,
        .on_body = stream ? on_stream : NULL,
        .restart = stream ? on_restart : NULL,
        .ctx = c,
    };
    call_clear(c);
    int rc = lh_model__http_request(&m->http, &req, &resp, err);
    if (rc == 0 && stream && !c->stopped) {
        rc = lh_model__llm_stream_end(c, err);
    } else if (rc == 0 && !stream) {
        json_t *obj = json_loadb(resp.data, resp.len, 0, NULL);
        if (!json_is_object(obj))
            rc = lh_model__llm_fail(m, "answered with malformed JSON",
                                    resp.len == 0    ? "(empty answer)"
                                    : resp.len > 120 ? "(not a JSON object)"
                                                     : resp.data,
                                    err);
        else
            rc = m->wire->event(c, obj, err) < 0 ? -1 : 0;
        json_decref(obj);
    }
    if (rc == 0 && !c->stopped && !c->done && !c->finished)
        rc = lh_err_set(err, LH_UPSTREAM,
                        "the answer from %s at %s ended before its end marker (incomplete %s)",
                        m->http.provider, m->http.shown_url, stream ? "stream" : "answer");
    lh_buf_release(&body);
    lh_buf_release(&resp);
    if (c->prompt_tokens > 0)
        atomic_fetch_add(&m->prompt_tokens, c->prompt_tokens);
    if (c->completion_tokens > 0)
        atomic_fetch_add(&m->completion_tokens, c->completion_tokens);
    return rc;
}

/* Runs a call and hands over its text: the whole answer, or on failure what came first. */
static int call(lh_llm *m, bool generate, const lh_chat_msg *msgs, size_t n,
                const char *system, const char *prompt, lh_token_fn on_token, void *ctx,
                char **text_out, lh_err *err)
{
    lh_llm_call c = {.m = m, .generate = generate, .on_token = on_token, .ctx = ctx};
    lh_buf_init(&c.text);
    lh_buf_init(&c.line);
    lh_buf_init(&c.event);
    int rc = run_call(&c, msgs, n, system, prompt, err);
    if (rc != 0)
        lh_err_prefix(err, "%s %s: ", m->model, generate ? "generate" : "chat");
    if (text_out)
        *text_out = lh_buf_detach(&c.text, NULL);
    lh_buf_release(&c.text);
    lh_buf_release(&c.line);
    lh_buf_release(&c.event);
    return rc;
}

static int check_text(const char *what, const char *s, lh_err *err)
{
    if (!s)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "%s is missing", what);
    if (strlen(s) > LH_LLM_MAX_RESPONSE)
        return lh_err_set(err, LH_TOO_LARGE, "%s is longer than %zu MiB", what,
                          LH_LLM_MAX_RESPONSE >> 20);
    return 0;
}

int lh_llm_chat(lh_llm *m, const lh_chat_msg *msgs, size_t n, lh_token_fn on_token, void *ctx,
                char **text_out, lh_err *err)
{
    if (text_out)
        *text_out = NULL;
    if (!msgs || n == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "a chat needs at least one message");
    if (n > LH_LLM_MAX_MESSAGES)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "a chat has at most %d messages",
                          LH_LLM_MAX_MESSAGES);
    static const char *const roles[] = {"system", "user", "assistant", "tool"};
    for (size_t i = 0; i < n; i++) {
        bool known = false;
        for (size_t r = 0; msgs[i].role && r < sizeof roles / sizeof roles[0]; r++)
            known = known || strcmp(msgs[i].role, roles[r]) == 0;
        if (!known)
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "message %zu: role '%.40s' is not system, user, assistant or "
                              "tool", i, msgs[i].role ? msgs[i].role : "");
        char what[48];
        snprintf(what, sizeof what, "message %zu's content", i);
        if (check_text(what, msgs[i].content, err) != 0)
            return -1;
    }
    return call(m, false, msgs, n, NULL, NULL, on_token, ctx, text_out, err);
}

int lh_llm_generate(lh_llm *m, const char *system, const char *prompt, lh_token_fn on_token,
                    void *ctx, char **text_out, lh_err *err)
{
    if (text_out)
        *text_out = NULL;
    if (check_text("the prompt", prompt, err) != 0 ||
        (system && check_text("the system text", system, err) != 0))
        return -1;
    return call(m, true, NULL, 0, system, prompt, on_token, ctx, text_out, err);
}

/* ---- model admin ---------------------------------------------------------------------------- */

json_t *lh_llm_loaded(lh_llm *m, lh_err *err)
{
    json_t *j = m->wire->loaded(m, err);
    if (!j)
        lh_err_prefix(err, "list models: ");
    return j;
}

static int load(lh_llm *m, const char *model, bool unload, lh_err *err)
{
    const char *verb = unload ? "unload" : "load";
    if (!m->wire->load)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "%s a model: not supported by openai-compatible servers (they load "
                          "models on their own)", verb);
    if (!model)
        model = m->model;
    if (!model[0] || strlen(model) > LH_LLM_MAX_MODEL_NAME)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "%s: model name is empty or longer than "
                          "%d bytes", verb, LH_LLM_MAX_MODEL_NAME);
    if (m->wire->load(m, model, unload, err) != 0)
        return lh_err_prefix(err, "%s %s: ", verb, model);
    return 0;
}

int lh_llm_load(lh_llm *m, const char *model, lh_err *err)
{
    return load(m, model, false, err);
}

int lh_llm_unload(lh_llm *m, const char *model, lh_err *err)
{
    return load(m, model, true, err);
}

json_t *lh_model__llm_get_array(lh_llm *m, const char *path, const char *member,
                                json_t **array, lh_err *err)
{
    lh_buf resp;
    lh_buf_init(&resp);
    lh_model_req req = {.path = path};
    json_t *root = NULL;
    if (lh_model__http_request(&m->http, &req, &resp, err) == 0) {
        root = json_loadb(resp.data, resp.len, 0, NULL);
        *array = json_is_object(root) ? json_object_get(root, member) : NULL;
        if (!json_is_array(*array)) {
            char what[128];
            snprintf(what, sizeof what, "answered %s without a \"%s\" array", path, member);
            lh_model__llm_fail(m, what, resp.len == 0 ? "(empty answer)" : "(unexpected shape)",
                               err);
            json_decref(root);
            root = NULL;
        }
    }
    lh_buf_release(&resp);
    return root;
}
