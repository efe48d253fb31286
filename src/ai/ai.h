/* ai: answers about the lake in plain language, with sources a person can check. RAG over a
 * vector index with validated citations, questions turned into SQL that runs in the query
 * sandbox (NL->SQL), dataset profiles with a model-written summary, reranking, and thin
 * proxies to the configured models (embed, generate, load/unload, loaded models + GPU memory).
 *
 * Sits above query, vindex and model (docs/decisions/0004-model-module.md): model clients
 * come from `model`, searches from `vindex`, SQL from `query`. Never sees HTTP: results are
 * JSON documents and failures lh_err codes. Design, prompts and what never leaves the lake:
 * docs/internals/ai.md.
 *
 * Models come from the configuration: [generate] (provider "" = none: RAG answers
 * extractively, summaries are the profile alone, ask and generate answer unavailable),
 * [rerank] model ("" = embedding similarity) and [embed] (the embedder of /ai/embed and of
 * similarity reranking).
 *
 * Streaming: functions taking an lh_token_fn pass each piece of the model's answer to it as
 * it arrives (NULL = no streaming); the callback returning non-zero stops generation (the
 * function then fails with code unavailable "generation stopped by the caller").
 *
 * Threads: every function may be called from any thread, concurrently; an lh_ai holds no
 * mutable state after open. */
#ifndef LH_AI_H
#define LH_AI_H

#include "core/core.h"
#include "model/model.h"
#include "query/query.h"
#include "vindex/vindex.h"

typedef struct lh_ai lh_ai;

/* Ceilings. */
#define LH_AI_QUESTION_MAX 4096      /* bytes of a question (ask, rag) */
#define LH_AI_PROMPT_MAX (256u << 10) /* bytes of a prompt or system text of /ai/generate */
#define LH_AI_RAG_K_MAX 50           /* passages in a RAG prompt */
#define LH_AI_ASK_ROWS_MAX 10000     /* rows an ask may return */
#define LH_AI_RERANK_DOCS_MAX 200    /* documents of one rerank */
#define LH_AI_DOC_MAX (32u << 10)    /* bytes of one rerank document */
#define LH_AI_EMBED_INPUTS_MAX 1024  /* texts of one /ai/embed */
#define LH_AI_EMBED_TEXT_MAX (256u << 10) /* bytes of one text to embed */

/* Opens the service over the lake (borrowed) and the vector index service (borrowed; NULL =
 * no RAG: lh_ai_rag answers unavailable). config is borrowed and must outlive the service.
 * Builds the model clients from [generate], [rerank] and [embed] without any network
 * traffic. invalid_argument for a bad model configuration (a provider without a model, a
 * rerank model without a generate provider, a bad URL). */
lh_ai *lh_ai_open(lh_lake *lake, lh_vindex *vindex, const lh_config *config, lh_err *err);
/* Frees everything. NULL is a no-op. Call after the last request using it has finished. */
void lh_ai_close(lh_ai *ai);
/* Whether a generation model is configured. */
bool lh_ai_can_generate(const lh_ai *ai);

/* /ai/generate: {"prompt", "system"?, "model"? (default: the configured one),
 * "temperature"?, "max_tokens"?} -> {"model", "response", "done": true, "took_ms"}.
 * Codes: invalid_argument, too_large, unavailable (no generation model configured, with how
 * to configure one), upstream_error (model server down, model missing: the server's
 * message), timeout. New reference. */
json_t *lh_ai_generate(lh_ai *ai, const json_t *req, lh_token_fn on_token, void *ctx,
                       lh_err *err);

/* /ai/embed: {"input": "text" | ["text", ...], "model"?} -> {"provider", "model", "dims",
 * "embeddings": [[...], ...]} (one row per input, in order). Codes: invalid_argument,
 * too_large, upstream_error, timeout. New reference. */
json_t *lh_ai_embed(lh_ai *ai, const json_t *req, lh_err *err);

/* /ai/ask: {"question", "limit"? (rows, default 100, 1..10000), "datasets"? [names to
 * restrict the schema context to]} -> {"question", "sql", "columns", "rows", "row_count",
 * "truncated", "explanation", "attempts", "model", "took_ms"}. The model's SQL runs only
 * through lh_query_json (read-only sandbox, row limit, timeout); a sql_error is fed back for
 * one corrected attempt. Streams the model's raw replies (both attempts) to on_token.
 * Codes: invalid_argument, not_found (a named dataset), unavailable (no model), forbidden
 * (the model wrote something the sandbox refuses: detail has the SQL), sql_error (both
 * attempts failed), timeout, upstream_error. New reference. */
json_t *lh_ai_ask(lh_ai *ai, const json_t *req, lh_token_fn on_token, void *ctx, lh_err *err);

/* /vectors/rag: {"index", "question", "k"? (default 5, 1..50), "rerank"? (bool)} ->
 * {"index", "question", "answer", "mode": "generative" | "extractive", "citations": [{"n",
 * "doc_id", "chunk_id", "score", "snippet"}], "passages", "model", "timings": {"embed_ms",
 * "search_ms" (without the embedding), "rerank_ms", "prompt_ms", "generate_ms", "total_ms"}}. Every [n] in a generative answer names one of
 * the citations: references to passages that do not exist are dropped and the rest are
 * renumbered 1.. in order of first use. Without a generation model the answer is extractive
 * (the best passages, each with its [n]). Streams the model's raw answer to on_token.
 * Codes: those of lh_vindex_search, invalid_argument, unavailable (no vector indexes),
 * upstream_error, timeout. New reference. */
json_t *lh_ai_rag(lh_ai *ai, const json_t *req, lh_token_fn on_token, void *ctx, lh_err *err);

/* /ai/rerank: {"query", "documents": [str, ...], "top_k"?, "method"? ("model" | "embedding";
 * default model when [rerank] model is set, else embedding)} -> {"method", "model",
 * "results": [{"index", "score", "document"}] best first, scores in 0..1}. Codes:
 * invalid_argument, too_large, unavailable (method model without a rerank model),
 * upstream_error, timeout. New reference. */
json_t *lh_ai_rerank(lh_ai *ai, const json_t *req, lh_err *err);

/* /ai/summarize/{dataset}: the profile of dataset (SUMMARIZE: rows, per column type, nulls,
 * distinct count, min/max; top values per column), with min/max/top values left out for
 * sensitive columns, plus a model-written "summary" paragraph (null with a "note" when no
 * model is configured). req may be NULL. Codes: not_found, upstream_error, timeout. New
 * reference. */
json_t *lh_ai_summarize(lh_ai *ai, const char *dataset, const json_t *req, lh_err *err);

/* Model admin. preload / unload: {"model"?} (default: the configured generate model) ->
 * {"model", "loaded": bool}. Codes: unavailable (no generate model), invalid_argument (not
 * supported by openai-compatible servers), upstream_error. vram -> {"models": lh_llm_loaded
 * or null (+ "models_note"), "gpu": {"gpus": [{"index", "memory_used_mib",
 * "memory_total_mib"}]} or null, "gpu_note"?}; nvidia-smi runs with a fixed argv, no shell,
 * and a 5 s timeout. New references. */
json_t *lh_ai_preload(lh_ai *ai, const json_t *req, lh_err *err);
json_t *lh_ai_unload(lh_ai *ai, const json_t *req, lh_err *err);
json_t *lh_ai_vram(lh_ai *ai, lh_err *err);

#endif
