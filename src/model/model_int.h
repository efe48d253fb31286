/* model: declarations shared by the files of the model module, private to it.
 * http_client.c is the one place that talks libcurl (handles, ceilings, retries with
 * backoff, error text); ollama.c and openai.c know their wire formats; embedder.c batches. */
#ifndef LH_MODEL_INT_H
#define LH_MODEL_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "model/model.h"

/* Ceilings: a model server's answer, the vector size, and the options. */
#define LH_MODEL_MAX_RESPONSE ((size_t)256 << 20)
#define LH_MODEL_MAX_DIMS 65536
#define LH_MODEL_MAX_BATCH 4096
#define LH_MODEL_MAX_CONCURRENCY 64
#define LH_MODEL_MAX_RETRIES 20
/* Retry-After beyond this is treated as this: a broken server must not stall a job for
 * a day. */
#define LH_MODEL_MAX_RETRY_AFTER_MS 60000
/* Backoff between retries starts here and doubles; LH_MODEL_BACKOFF_MS overrides the start
 * (tests use a few ms). Capped at LH_MODEL_MAX_BACKOFF_MS per wait. */
#define LH_MODEL_BACKOFF_MS 200
#define LH_MODEL_MAX_BACKOFF_MS 30000
#define LH_MODEL_IDLE_HANDLES 16

/* A connection to one model server: base URL, credentials, limits, a pool of idle curl
 * handles (kept for keep-alive between calls; each is used by one thread at a time) and
 * counters. Thread-safe after lh_model__http_init. */
typedef struct lh_model_http {
    char *provider;    /* "ollama" / "openai", for messages */
    char *base_url;    /* without a trailing '/' */
    char *shown_url;   /* base_url without user:password, for messages */
    char *auth_header; /* "Authorization: Bearer <key>" or NULL */
    char *api_key;     /* kept only to scrub it from server text */
    int timeout_ms, max_retries, backoff_ms;
    size_t max_response;

    pthread_mutex_t lock; /* guards idle[] */
    void *idle[LH_MODEL_IDLE_HANDLES];
    size_t nidle;

    atomic_llong requests, retries, wait_us;
} lh_model_http;

/* Checks url (http or https, a host, no user-visible secrets leak into messages) and fills
 * h. api_key may be NULL. invalid_argument for a bad URL or key. */
int lh_model__http_init(lh_model_http *h, const char *provider, const char *url,
                        const char *api_key, int timeout_ms, int max_retries,
                        lh_err *err) LH_MUST_CHECK;
void lh_model__http_release(lh_model_http *h);
/* POSTs a JSON body to base_url + path and fills resp with a 2xx answer's body. Retries
 * 429, 5xx and connection failures with backoff (honouring Retry-After). Errors:
 * upstream_error naming the server and carrying its own message (API key scrubbed),
 * timeout when the last attempt timed out, too_large past max_response. */
int lh_model__http_post(lh_model_http *h, const char *path, const char *body, size_t len,
                        lh_buf *resp, lh_err *err) LH_MUST_CHECK;
/* Copies server text into out (at most cap-1 bytes, control characters as spaces) with
 * every occurrence of the API key, or of a long piece of it, replaced by "[redacted]". */
void lh_model__scrub(const lh_model_http *h, const char *text, size_t len, char *out,
                     size_t cap);
/* The human text of an error answer: {"error":"..."}, {"error":{"message":"..."}},
 * {"detail":...}, {"message":...}, else the body itself; scrubbed. */
void lh_model__error_text(const lh_model_http *h, const char *body, size_t len, char *out,
                          size_t cap);

/* A wire format for embeddings. */
typedef struct lh_embed_wire {
    const char *name;        /* "ollama" */
    const char *default_url; /* when opts.url is NULL */
    /* The request path, given the base URL (OpenAI's base may already end in /v1). */
    const char *(*path)(const char *base_url);
    /* Appends the request body for texts[0..n). */
    void (*request)(lh_buf *out, const char *model, const char *const *texts,
                    const size_t *lens, size_t n);
    /* Finds the n vectors in a parsed answer, in input order, as borrowed JSON arrays.
     * upstream_error (naming what is wrong) when the shape or count is off. */
    int (*rows)(json_t *root, size_t n, json_t **rows, lh_err *err);
} lh_embed_wire;

extern const lh_embed_wire lh_model__ollama_wire;
extern const lh_embed_wire lh_model__openai_wire;


/* ---- requests beyond a whole-answer POST (http_client.c; used by llm*.c) ----------------- */

/* Receives a 2xx answer's body piece by piece as it arrives. Returns 0 to go on, 1 to stop
 * the transfer quietly (the request then succeeds), -1 to fail it (err filled; no retry). */
typedef int (*lh_model_body_fn)(void *ctx, const char *data, size_t len, lh_err *err);
/* Called before retrying an attempt whose body had already begun to arrive: 0 = the
 * consumer forgot what it got and the request may start over; non-zero = it passed some on
 * (tokens shown to a user), so the failure is final. */
typedef int (*lh_model_restart_fn)(void *ctx);

typedef struct lh_model_req {
    const char *path;            /* appended to base_url */
    const char *body;            /* JSON body to POST; NULL = GET */
    size_t len;
    const char *accept;          /* the Accept header's value; NULL = application/json */
    lh_model_body_fn on_body;    /* NULL = collect a 2xx body in resp */
    lh_model_restart_fn restart; /* NULL = never retry once a 2xx body began to arrive */
    void *ctx;
} lh_model_req;

/* lh_model__http_post generalised: GET or POST, the body whole into resp or streamed to
 * req->on_body (then resp only holds an error answer's text). Retries and errors as for
 * lh_model__http_post; a failure after part of a streamed body went to on_body (and
 * restart refused) is final and says so. max_response bounds each attempt's bytes. */
int lh_model__http_request(lh_model_http *h, const lh_model_req *req, lh_buf *resp,
                           lh_err *err) LH_MUST_CHECK;


/* ---- text generation (llm.c, llm_ollama.c, llm_openai.c) -------------------------------- */

/* Ceilings for generation: a whole answer, and one streamed line or server-sent event. */
#define LH_LLM_MAX_RESPONSE ((size_t)64 << 20)
#define LH_LLM_MAX_LINE ((size_t)16 << 20)
#define LH_LLM_MAX_MODEL_NAME 512
#define LH_LLM_MAX_MESSAGES 100000

typedef struct lh_llm_wire lh_llm_wire;

struct lh_llm {
    lh_provider provider;
    const lh_llm_wire *wire;
    char *model;
    char *keep_alive;   /* as configured; NULL = the server's default */
    double temperature; /* < 0 = the server's default */
    int max_tokens;     /* 0 = the server's default */
    lh_model_http http;
    atomic_llong prompt_tokens, completion_tokens;
};

/* One chat or generate call in progress: what the wire parsers report into. */
typedef struct lh_llm_call {
    lh_llm *m;
    bool generate;      /* a /api/generate-style call (prompt, not messages) */
    lh_token_fn on_token; /* NULL = the answer comes whole */
    void *ctx;
    lh_buf text;        /* the answer so far */
    lh_buf line;        /* a streamed line not yet complete */
    lh_buf event;       /* SSE: the data lines of the event being read */
    bool done;          /* the wire's end marker arrived (Ollama "done": true, SSE [DONE]) */
    bool finished;      /* OpenAI: a finish_reason arrived (servers that omit [DONE]) */
    bool delivered;     /* on_token has been called: the call can no longer start over */
    bool stopped;       /* on_token asked to stop */
    int64_t prompt_tokens, completion_tokens; /* -1 until the server says */
} lh_llm_call;

/* Appends an answer piece to c->text and passes it to c->on_token. 0 = go on, 1 = the
 * caller asked to stop, -1 = too_large (err filled). */
int lh_model__llm_emit(lh_llm_call *c, const char *text, size_t len, lh_err *err);
/* The stream framing, as the HTTP client drives it (and fuzz/fuzz_model_stream.c does):
 * lh_model__llm_stream takes the next bytes of a streamed answer (any split), cuts them
 * into lines (NDJSON) or server-sent events and hands each answer object to the wire's
 * event parser; 0 = go on, 1 = the caller asked to stop, -1 = failed (err). Once the body
 * has ended, lh_model__llm_stream_end reads a last line that had no newline and a last
 * event that had no blank line (0 or -1); whether the answer is complete is then c->done
 * || c->finished. c->text, c->line and c->event must be initialised lh_bufs. */
int lh_model__llm_stream(lh_llm_call *c, const char *data, size_t len, lh_err *err);
int lh_model__llm_stream_end(lh_llm_call *c, lh_err *err);
/* upstream_error "<provider> at <url>: <text>" with the server's text scrubbed. */
int lh_model__llm_fail(const lh_llm *m, const char *what, const char *text, lh_err *err);
/* GETs path from the model server and returns its JSON answer (new reference) with *array
 * pointing at the array member `member`; NULL with upstream_error (naming path and member)
 * when the request fails or the answer has no such array. For the model listings. */
json_t *lh_model__llm_get_array(lh_llm *m, const char *path, const char *member,
                                json_t **array, lh_err *err);
/* Appends ,"key":<keep_alive> in the form Ollama takes (an integer is seconds, anything
 * else a duration string such as "5m"). */
void lh_model__llm_keep_alive(lh_buf *out, const char *keep_alive);

/* A generation wire format. */
struct lh_llm_wire {
    const char *name;          /* "ollama" */
    const char *default_url;   /* when opts.url is NULL */
    const char *stream_accept; /* the Accept header of a streamed call */
    bool sse;                  /* streams come as server-sent events, else NDJSON lines */
    /* Path and body of a call: chat (msgs[0..n)) or, when c->generate, prompt with an
     * optional system text. stream asks for a streamed answer. */
    const char *(*path)(const lh_llm *m, bool generate);
    void (*body)(const lh_llm *m, bool generate, const lh_chat_msg *msgs, size_t n,
                 const char *system, const char *prompt, bool stream, lh_buf *out);
    /* One parsed answer object: a whole answer, one NDJSON line, or one SSE event. Emits
     * its text, notes the end marker and token counts. -1 with err on an error object or
     * a malformed one; 1 when the caller asked to stop. */
    int (*event)(lh_llm_call *c, json_t *obj, lh_err *err);
    /* lh_llm_loaded's answer. */
    json_t *(*loaded)(lh_llm *m, lh_err *err);
    /* Load (unload = false) or unload a model; NULL = the server has no such call. */
    int (*load)(lh_llm *m, const char *model, bool unload, lh_err *err);
};

extern const lh_llm_wire lh_model__ollama_llm;
extern const lh_llm_wire lh_model__openai_llm;

#endif
