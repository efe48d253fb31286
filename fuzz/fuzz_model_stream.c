/* libFuzzer target for the stream framing of generation answers (src/model/llm.c through
 * lh_model__llm_stream / lh_model__llm_stream_end) and the wire parsers behind it: Ollama
 * NDJSON lines (chat or generate) and OpenAI-compatible server-sent events. The first byte
 * picks the wire, the call kind and whether the token callback stops early; the second and
 * third how the body is cut into pieces. Whatever a model server sends, however TCP splits
 * it, the outcome must not depend on the split, the tokens must concatenate to the answer
 * text, nothing may reach the callback after it said stop, a failure must carry an error and
 * never the API key; never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY "sk-fuzz-4f9c2a7e51b04d3c"

typedef struct sink {
    lh_buf got;        /* every token, concatenated */
    size_t calls, stop_after; /* stop_after 0 = never stop */
    bool said_stop;
} sink;

static int on_token(void *ctx, const char *text, size_t len)
{
    sink *s = ctx;
    if (s->said_stop || len == 0)
        abort(); /* nothing after a stop; no empty pieces */
    lh_buf_append(&s->got, text, len);
    s->calls++;
    if (s->stop_after && s->calls >= s->stop_after) {
        s->said_stop = true;
        return 1;
    }
    return 0;
}

typedef struct outcome {
    int rc;
    lh_err err;
    char *text;
    size_t text_len;
    bool done, finished, stopped;
} outcome;

/* Feeds body[0..len) in pieces (sizes from the seed; 0 = whole) as the HTTP client would:
 * a non-zero return ends the transfer; a body that ended normally gets stream_end. */
static outcome run(lh_llm *m, bool generate, size_t stop_after, const uint8_t *body,
                   size_t len, unsigned seed)
{
    sink s = {.stop_after = stop_after};
    lh_buf_init(&s.got);
    lh_llm_call c = {.m = m, .generate = generate, .on_token = on_token, .ctx = &s,
                     .prompt_tokens = -1, .completion_tokens = -1};
    lh_buf_init(&c.text);
    lh_buf_init(&c.line);
    lh_buf_init(&c.event);
    outcome o = {.err = LH_ERR_INIT};
    size_t at = 0;
    unsigned x = seed | 1u;
    while (at < len && o.rc == 0) {
        size_t piece = len - at;
        if (seed) {
            x = x * 1103515245u + 12345u;
            size_t want = 1 + (x >> 16) % 97;
            piece = want < piece ? want : piece;
        }
        o.rc = lh_model__llm_stream(&c, (const char *)body + at, piece, &o.err);
        at += piece;
    }
    if (o.rc == 0 && !c.stopped)
        o.rc = lh_model__llm_stream_end(&c, &o.err);
    /* 1 only for a stop; stream_end reports a stop in the last event as 0 (the answer is
     * then complete as far as the caller wanted it), so a stop may also come with 0. */
    if (o.rc < -1 || o.rc > 1 || (o.rc == 1 && !c.stopped) || (c.stopped && o.rc < 0) ||
        c.stopped != s.said_stop)
        abort();
    if ((o.rc == -1) != (o.err.code != LH_OK))
        abort();
    /* The key is scrubbed from server text quoted in errors (only the OpenAI client has
     * one: the Ollama client cannot know a key it was never given). */
    if (lh_llm_provider(m) == LH_PROVIDER_OPENAI &&
        (strstr(o.err.message, KEY) || strstr(o.err.detail, KEY)))
        abort();
    /* What reached the caller is exactly the answer so far. */
    if (s.got.len != c.text.len || (c.text.len && memcmp(s.got.data, c.text.data, c.text.len)))
        abort();
    if (c.text.len > LH_LLM_MAX_RESPONSE)
        abort();
    o.text_len = c.text.len;
    o.text = lh_buf_detach(&c.text, NULL);
    o.done = c.done;
    o.finished = c.finished;
    o.stopped = c.stopped;
    lh_buf_release(&c.line);
    lh_buf_release(&c.event);
    lh_buf_release(&s.got);
    return o;
}

static lh_llm *open_llm(lh_provider p)
{
    lh_err err = LH_ERR_INIT;
    lh_llm_opts o = {.provider = p, .model = "m", .url = "http://127.0.0.1:9",
                     .api_key = p == LH_PROVIDER_OPENAI ? KEY : NULL, .temperature = -1};
    lh_llm *m = lh_llm_open(&o, &err);
    if (!m)
        abort();
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lh_llm *ollama, *openai;
    if (!ollama) {
        ollama = open_llm(LH_PROVIDER_OLLAMA);
        openai = open_llm(LH_PROVIDER_OPENAI);
    }
    if (size < 3 || size > (1u << 20))
        return 0;
    lh_llm *m = (data[0] & 1) ? openai : ollama;
    bool generate = (data[0] & 2) != 0;
    size_t stop_after = (data[0] & 4) ? 1 + (data[0] >> 3) % 8 : 0;
    unsigned seed = (unsigned)data[1] << 8 | data[2];
    const uint8_t *body = data + 3;
    size_t len = size - 3;

    outcome whole = run(m, generate, stop_after, body, len, 0);
    outcome split = run(m, generate, stop_after, body, len, seed ? seed : 1);
    if (whole.rc != split.rc || whole.err.code != split.err.code ||
        strcmp(whole.err.message, split.err.message) != 0 || whole.text_len != split.text_len ||
        memcmp(whole.text, split.text, whole.text_len) != 0 || whole.done != split.done ||
        whole.finished != split.finished || whole.stopped != split.stopped)
        abort();
    free(whole.text);
    free(split.text);
    return 0;
}
