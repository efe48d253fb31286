/* model: clients for the models Lakehouse uses, below every module that needs one (vector
 * embeds with them; ai answers questions with them). Today: embedders — the built-in
 * lexical embedder (the embedded default, no model files) and HTTP clients for Ollama
 * (POST /api/embed) and OpenAI-compatible servers (POST /v1/embeddings) over libcurl, with
 * batching, bounded concurrency, and retry with exponential backoff on 429 and 5xx.
 * See docs/decisions/0004-model-module.md for why this is not part of `ai`.
 *
 * Secrets: an API key goes into the Authorization header only; it is never logged and never
 * appears in an error message.
 *
 * Threads: an lh_embedder may be used from several threads at once. */
#ifndef LH_MODEL_H
#define LH_MODEL_H

#include "core/core.h"

/* ---- the lexical embedder (lexical.c) ---------------------------------------------------- */

/* Embeds text[0..len) into out[dims]: signed feature hashing of lowercased word unigrams and
 * bigrams and character 3..5-grams of each word (with boundary marks), each feature weighted
 * 1 + log(count), then L2-normalised. Deterministic across runs and machines. Empty or
 * featureless text gives the zero vector (callers treat it as unusable). dims >= 8. */
void lh_lexical_embed(const char *text, size_t len, size_t dims, float *out);
/* The version string of the lexical scheme; changes whenever its output would change. */
const char *lh_lexical_version(void);

/* ---- embedders (embedder.c, ollama.c, openai.c) ------------------------------------------ */

typedef enum lh_provider {
    LH_PROVIDER_LEXICAL = 0,
    LH_PROVIDER_OLLAMA,
    LH_PROVIDER_OPENAI,
} lh_provider;

/* "lexical" | "builtin", "ollama", "openai" <-> enum; invalid_argument otherwise. */
int lh_provider_parse(const char *name, lh_provider *out, lh_err *err) LH_MUST_CHECK;
const char *lh_provider_name(lh_provider p);

typedef struct lh_embedder_opts {
    lh_provider provider;
    const char *model;   /* remote: required; lexical: ignored ("lexical-v1" reported) */
    const char *url;     /* remote base URL, e.g. http://127.0.0.1:11434; NULL = provider's
                          * default (Ollama http://127.0.0.1:11434, OpenAI
                          * https://api.openai.com) */
    const char *api_key; /* OpenAI-compatible bearer token; NULL = none */
    size_t dims;         /* lexical: 0 = 384; remote: 0 = learn from the first answer, else
                          * every answer must have exactly this many (invalid_argument) */
    int batch;           /* texts per request; 0 = 64 */
    int concurrency;     /* requests in flight at once; 0 = 4 */
    int timeout_ms;      /* per request; 0 = 60000 */
    int max_retries;     /* on 429 / 5xx / connection errors; 0 = 4, backoff 200 ms doubling
                          * with jitter, honouring Retry-After (capped at 60 s); the
                          * environment variable LH_MODEL_BACKOFF_MS replaces the 200 ms
                          * (tests use a few ms) */
} lh_embedder_opts;

typedef struct lh_embedder lh_embedder;

/* Checks the options (no network traffic). invalid_argument for a missing model or a bad
 * URL. */
lh_embedder *lh_embedder_open(const lh_embedder_opts *opts, lh_err *err);
void lh_embedder_close(lh_embedder *e);
/* Embeds n texts (lens[i] bytes each) into out, n * dims floats, row i for text i, in
 * batches of opts.batch sent opts.concurrency at a time. `dims` must be known: call
 * lh_embedder_dims first or pass dims in the options. Remote failures: upstream_error with
 * the server's message (model missing, server down after the retries, malformed answer),
 * invalid_argument for a dimension mismatch, timeout. Nothing is written to out on error
 * beyond rows already embedded. */
int lh_embedder_embed(lh_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                      float *out, lh_err *err) LH_MUST_CHECK;
/* The vector size: known at open for lexical or configured dims, else learned by embedding
 * one short probe text (one request). 0 with err filled when the probe fails. */
size_t lh_embedder_dims(lh_embedder *e, lh_err *err);
lh_provider lh_embedder_provider(const lh_embedder *e);
/* The model name as configured ("lexical-v1" for the lexical embedder). */
const char *lh_embedder_model(const lh_embedder *e);
/* Totals since open, for progress and benchmarks: requests sent, retries, texts embedded,
 * and milliseconds spent waiting on the model server. */
typedef struct lh_embedder_stats {
    int64_t requests, retries, texts;
    double model_ms;
} lh_embedder_stats;
lh_embedder_stats lh_embedder_get_stats(const lh_embedder *e);


/* ---- text generation and model admin (llm.c, llm_ollama.c, llm_openai.c) ----------------- */

/* A generation client: Ollama (POST /api/chat, /api/generate; GET /api/ps; keep_alive for
 * load/unload) or an OpenAI-compatible server (POST /v1/chat/completions, GET /v1/models).
 * Answers stream token by token when a callback is given (Ollama: NDJSON lines; OpenAI:
 * server-sent events "data: {...}" ending with "data: [DONE]").
 *
 * Retries: 429, 5xx and connection failures are retried with backoff (as for embedders) only
 * while nothing has been delivered to the callback; once a token has gone out, a failure is
 * final (a retry would repeat text the caller already showed).
 * Ceilings: a whole answer at most 64 MiB, one streamed line or event at most 16 MiB
 * (too_large). Threads: an lh_llm may be used from several threads at once. */

typedef struct lh_llm_opts {
    lh_provider provider;   /* ollama | openai; lexical is not a generator (invalid_argument) */
    const char *model;      /* required */
    const char *url;        /* NULL = the provider's default (as for embedders) */
    const char *api_key;    /* OpenAI-compatible bearer token; NULL = none */
    int timeout_ms;         /* whole request, streaming included; 0 = 300000 */
    int max_retries;        /* 0 = 4, -1 = none; backoff as for embedders */
    double temperature;     /* sampling temperature, 0..2; note that 0 (the zero value) asks
                             * for deterministic output; < 0 = the server's default */
    int max_tokens;         /* answer length limit; 0 = the server's default */
    const char *keep_alive; /* Ollama: how long the model stays loaded after a call, e.g.
                             * "5m", "1h", "-1" (forever); NULL = the server's default.
                             * Ignored by OpenAI-compatible servers. */
} lh_llm_opts;

typedef struct lh_llm lh_llm;

/* One chat message. role is "system", "user", "assistant" or "tool"; content is UTF-8 text
 * (NUL-terminated). */
typedef struct lh_chat_msg {
    const char *role;
    const char *content;
} lh_chat_msg;

/* Receives each piece of a streamed answer, in order, as it arrives (text[0..len), not
 * NUL-terminated; the pieces concatenate to the full answer). Return 0 to go on, non-zero to
 * stop: the call then closes the connection and returns 0 with the text received so far. */
typedef int (*lh_token_fn)(void *ctx, const char *text, size_t len);

/* Checks the options (no network traffic). invalid_argument for the lexical provider, a
 * missing model, a bad URL, or an option out of range. */
lh_llm *lh_llm_open(const lh_llm_opts *opts, lh_err *err);
void lh_llm_close(lh_llm *m);
lh_provider lh_llm_provider(const lh_llm *m);
const char *lh_llm_model(const lh_llm *m);

/* Sends a conversation msgs[0..n) (n >= 1) and gets the assistant's answer. With on_token
 * the answer streams (each piece to on_token(ctx, ...)); with NULL it comes in one piece.
 * text_out (may be NULL) receives the full answer, malloc'd and NUL-terminated, which the
 * caller frees; it is set on failure too, to the partial text received before it (possibly
 * ""), so an interrupted stream still shows what came. Errors: upstream_error with the
 * server's own message (model missing, server down "cannot reach ollama at URL: ...", a
 * malformed or incomplete answer, a stream cut before its end), timeout, too_large,
 * invalid_argument for bad messages. */
int lh_llm_chat(lh_llm *m, const lh_chat_msg *msgs, size_t n, lh_token_fn on_token, void *ctx,
                char **text_out, lh_err *err) LH_MUST_CHECK;
/* One prompt with an optional system text (NULL = none): Ollama POST /api/generate,
 * OpenAI-compatible via chat. Otherwise as lh_llm_chat. */
int lh_llm_generate(lh_llm *m, const char *system, const char *prompt, lh_token_fn on_token,
                    void *ctx, char **text_out, lh_err *err) LH_MUST_CHECK;

/* The models the server holds, as a new JSON object:
 *   {"provider": "ollama", "url": "<base url, no credentials>", "kind": "loaded",
 *    "models": [{"name", "size", "size_vram", "expires_at"}, ...]}
 * from Ollama GET /api/ps (size and size_vram in bytes; fields the server omits are
 * omitted), or from an OpenAI-compatible GET /v1/models with "kind": "listed" and
 * "models": [{"name", "owned_by"?}] (such servers only say what they can serve, not what is
 * in memory). NULL with err filled on failure. */
json_t *lh_llm_loaded(lh_llm *m, lh_err *err);
/* Ollama only: loads `model` (NULL = the configured one) into memory now, kept for the
 * configured keep_alive (POST /api/generate without a prompt), or unloads it (keep_alive 0).
 * OpenAI-compatible servers have no such calls: invalid_argument "... not supported by
 * openai-compatible servers". */
int lh_llm_load(lh_llm *m, const char *model, lh_err *err) LH_MUST_CHECK;
int lh_llm_unload(lh_llm *m, const char *model, lh_err *err) LH_MUST_CHECK;

/* Totals since open: requests sent, retries, prompt and answer tokens as the server counted
 * them (0 when it does not say), and milliseconds spent waiting on the model server. */
typedef struct lh_llm_stats {
    int64_t requests, retries, prompt_tokens, completion_tokens;
    double model_ms;
} lh_llm_stats;
lh_llm_stats lh_llm_get_stats(const lh_llm *m);

#endif
