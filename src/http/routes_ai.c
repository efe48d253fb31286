/* /ai/... and POST /vectors/rag: the AI layer over HTTP. Handlers check the shape of the
 * body and hand it to the ai module (lh_ai_*). With "stream": true, generate, ask and rag
 * answer text/event-stream: the model call runs on a producer thread that renders each
 * piece as an SSE event into a bounded buffer which MHD's content reader drains; the
 * response is queued only once the first event exists, so failures before any token still
 * get a JSON error with the right status. A client that goes away stops the generation. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai/ai.h"
#include "http/http_int.h"

#define SSE_QUEUE_MAX (1u << 20)  /* rendered bytes the producer may be ahead by */
#define SSE_KEEPALIVE_MS 1000     /* an idle stream sends a comment this often */

typedef json_t *(*stream_fn)(lh_ai *ai, const json_t *req, lh_token_fn on_token, void *ctx,
                             lh_err *err);

static lh_ai *ai_of(lh_http_req *req, lh_err *err)
{
    lh_ai *ai = req->server->services.ai;
    if (!ai)
        lh_err_set(err, LH_UNAVAILABLE, "the AI layer is not enabled on this server");
    return ai;
}

/* ---- server-sent events ------------------------------------------------------------------ */

typedef struct sse {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    lh_buf out;      /* rendered events; [pos, len) not yet handed to MHD */
    size_t pos;
    char carry[4];   /* the start of a UTF-8 character cut between two pieces */
    size_t ncarry;
    bool started;    /* an event exists */
    bool finished;   /* the producer is done (its last event, if any, is in out) */
    bool cancel;     /* the client is gone */
    bool early;      /* failed before any event: err goes out as a plain JSON error */
    lh_err err;
    lh_ai *ai;
    stream_fn fn;
    json_t *body;    /* a copy: the request may end before the producer does */
    lh_http_req *req; /* for byte counts; valid while MHD calls the reader */
    pthread_t thread;
} sse;

/* The length of the longest prefix of s[0..n) that does not end inside a UTF-8 sequence. */
static size_t utf8_whole(const char *s, size_t n)
{
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0)
        return n;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return need > back + 1 ? i - 1 : n;
}

static void put_event(sse *s, const json_t *doc)
{
    char *text = lh_json_dump(doc);
    lh_buf_puts(&s->out, "data: ");
    lh_buf_puts(&s->out, text);
    lh_buf_puts(&s->out, "\n\n");
    free(text);
    s->started = true;
    pthread_cond_broadcast(&s->cv);
}

static int sse_token(void *ctx, const char *text, size_t len)
{
    sse *s = ctx;
    pthread_mutex_lock(&s->mu);
    while (!s->cancel && s->out.len - s->pos > SSE_QUEUE_MAX)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->cancel) {
        pthread_mutex_unlock(&s->mu);
        return 1;
    }
    lh_buf piece;
    lh_buf_init(&piece);
    lh_buf_append(&piece, s->carry, s->ncarry);
    lh_buf_append(&piece, text, len);
    size_t whole = utf8_whole(piece.data, piece.len);
    s->ncarry = piece.len - whole;
    memcpy(s->carry, piece.data + whole, s->ncarry);
    if (whole > 0) {
        lh_buf_puts(&s->out, "data: {\"token\":");
        lh_buf_json_string(&s->out, piece.data, whole);
        lh_buf_puts(&s->out, "}\n\n");
        s->started = true;
        pthread_cond_broadcast(&s->cv);
    }
    lh_buf_release(&piece);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void *sse_producer(void *arg)
{
    sse *s = arg;
    lh_err e = LH_ERR_INIT;
    json_t *doc = s->fn(s->ai, s->body, sse_token, s, &e);
    pthread_mutex_lock(&s->mu);
    if (doc) {
        json_object_set_new(doc, "done", json_true());
        put_event(s, doc);
    } else if (s->started) {
        /* Past the status line: the error becomes the last event. 5xx causes stay in the
         * log, as lh_http_reply_error does for plain answers. */
        bool hide = e.code == LH_INTERNAL || e.code == LH_IO_ERROR || e.code == LH_CORRUPT;
        if (hide || !s->cancel)
            LH_LOG_WARN("http", "stream ended by an error: %s: %s", lh_code_name(e.code),
                        e.message);
        json_t *ev = json_pack("{s:{s:s, s:s}, s:b}", "error", "code", lh_code_name(e.code),
                               "message", hide ? lh_code_default_message(e.code) : e.message,
                               "done", 1);
        put_event(s, ev);
        json_decref(ev);
    } else {
        s->early = true;
        s->err = e;
    }
    json_decref(doc);
    s->finished = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static ssize_t sse_reader(void *cls, uint64_t at, char *buf, size_t max)
{
    (void)at;
    sse *s = cls;
    pthread_mutex_lock(&s->mu);
    if (s->out.len == s->pos && !s->finished) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += SSE_KEEPALIVE_MS / 1000;
        (void)pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    ssize_t n;
    if (s->out.len > s->pos) {
        size_t take = s->out.len - s->pos < max ? s->out.len - s->pos : max;
        memcpy(buf, s->out.data + s->pos, take);
        s->pos += take;
        if (s->pos == s->out.len) {
            lh_buf_reset(&s->out);
            s->pos = 0;
        }
        pthread_cond_broadcast(&s->cv); /* room for the producer */
        n = (ssize_t)take;
    } else if (s->finished) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* Nothing yet: a comment line keeps proxies patient and lets a write find out
         * that the client is gone. */
        static const char ka[] = ": keep-alive\n\n";
        n = (ssize_t)(sizeof ka - 1 <= max ? sizeof ka - 1 : 0);
        memcpy(buf, ka, (size_t)n);
    }
    pthread_mutex_unlock(&s->mu);
    if (n > 0)
        s->req->bytes_out += (uint64_t)n;
    return n;
}

/* Stops the producer (if still running) and frees everything. Runs after the request's
 * completion callback, so it must not touch s->req. */
static void sse_free(void *cls)
{
    sse *s = cls;
    pthread_mutex_lock(&s->mu);
    s->cancel = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    lh_buf_release(&s->out);
    json_decref(s->body);
    free(s);
}

static int reply_stream(lh_http_req *req, lh_ai *ai, stream_fn fn, lh_err *err)
{
    sse *s = lh_xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    lh_buf_init(&s->out);
    s->ai = ai;
    s->fn = fn;
    s->body = json_deep_copy(req->json);
    s->req = req;
    if (pthread_create(&s->thread, NULL, sse_producer, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        json_decref(s->body);
        free(s);
        return lh_err_set(err, LH_BUSY, "cannot start a streaming answer");
    }
    pthread_mutex_lock(&s->mu);
    while (!s->started && !s->finished)
        pthread_cond_wait(&s->cv, &s->mu);
    bool early = s->early;
    pthread_mutex_unlock(&s->mu);
    if (early) {
        *err = s->err;
        sse_free(s);
        return -1;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, LH_HTTP_STREAM_BLOCK, sse_reader, s,
                                          sse_free);
    if (!resp) {
        sse_free(s);
        return lh_err_set(err, LH_INTERNAL, "cannot create a streaming response");
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return lh_http__queue(req, MHD_HTTP_OK, resp, 0); /* the reader counts the bytes */
}

/* A generating endpoint: SSE when the body says "stream": true, else one JSON answer. */
static int generating(lh_http_req *req, stream_fn fn, lh_err *err)
{
    lh_ai *ai = ai_of(req, err);
    if (!ai)
        return -1;
    const json_t *st = json_object_get(req->json, "stream");
    if (st && !json_is_boolean(st) && !json_is_null(st))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'stream' must be true or false");
    if (json_is_true(st))
        return reply_stream(req, ai, fn, err);
    json_t *doc = fn(ai, req->json, NULL, NULL, err);
    if (!doc)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}

int lh_http__ai_generate(lh_http_req *req, lh_err *err)
{
    return generating(req, lh_ai_generate, err);
}

int lh_http__ai_ask(lh_http_req *req, lh_err *err)
{
    return generating(req, lh_ai_ask, err);
}

int lh_http__vectors_rag(lh_http_req *req, lh_err *err)
{
    return generating(req, lh_ai_rag, err);
}

/* ---- plain JSON endpoints ---------------------------------------------------------------- */

static int reply(lh_http_req *req, json_t *doc)
{
    return doc ? lh_http_reply_json(req, MHD_HTTP_OK, doc) : -1;
}

int lh_http__ai_embed(lh_http_req *req, lh_err *err)
{
    lh_ai *ai = ai_of(req, err);
    return ai ? reply(req, lh_ai_embed(ai, req->json, err)) : -1;
}

int lh_http__ai_rerank(lh_http_req *req, lh_err *err)
{
    lh_ai *ai = ai_of(req, err);
    return ai ? reply(req, lh_ai_rerank(ai, req->json, err)) : -1;
}

int lh_http__ai_summarize(lh_http_req *req, lh_err *err)
{
    lh_ai *ai = ai_of(req, err);
    return ai ? reply(req, lh_ai_summarize(ai, lh_http__param(req, "dataset"), NULL, err)) : -1;
}

int lh_http__ai_preload(lh_http_req *req, lh_err *err)
{
    lh_ai *ai = ai_of(req, err);
    return ai ? reply(req, lh_ai_preload(ai, req->json, err)) : -1;
}

int lh_http__ai_unload(lh_http_req *req, lh_err *err)
{
    lh_ai *ai = ai_of(req, err);
    return ai ? reply(req, lh_ai_unload(ai, req->json, err)) : -1;
}

int lh_http__ai_vram(lh_http_req *req, lh_err *err)
{
    lh_ai *ai = ai_of(req, err);
    return ai ? reply(req, lh_ai_vram(ai, err)) : -1;
}
