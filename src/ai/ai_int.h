/* ai internals shared by the files of the ai module: the service struct, the model-call
 * helpers and the pure text helpers (SQL extraction, citation validation, score parsing)
 * that unit tests reach directly. Never included from outside src/ai/. */
#ifndef LH_AI_INT_H
#define LH_AI_INT_H

#include "ai/ai.h"

struct lh_ai {
    lh_lake *lake;          /* borrowed */
    lh_vindex *vindex;      /* borrowed, may be NULL */
    const lh_config *cfg;   /* borrowed */
    lh_llm *llm;            /* [generate]; NULL = none */
    lh_llm *rerank;         /* [rerank] model on the generate server; NULL = similarity */
    lh_embedder *embedder;  /* [embed]; NULL when it could not be built (embed_problem) */
    char embed_problem[512];
};

/* Budgets of what goes into prompts (bytes). */
#define LH_AI_SCHEMA_BUDGET (12u << 10) /* the schema context of an ask */
#define LH_AI_PASSAGES_BUDGET (24u << 10) /* the passages of a RAG prompt */
#define LH_AI_SAMPLE_VALUE_MAX 40        /* one sample value in the schema context */
#define LH_AI_REPLY_KEEP 4000            /* bytes of a model reply kept as "explanation" */

/* unavailable with how to configure a generation model, unless one is configured. */
int lh_ai__need_llm(const lh_ai *ai, lh_err *err);
/* unavailable with embed_problem unless the [embed] embedder exists. */
int lh_ai__need_embedder(const lh_ai *ai, lh_err *err);
/* A chat with the configured model (or m) that turns a stop by the caller into
 * unavailable "generation stopped by the caller". *out is the whole answer (owned). */
int lh_ai__chat(lh_llm *m, const lh_chat_msg *msgs, size_t n, lh_token_fn on_token, void *ctx,
                char **out, lh_err *err) LH_MUST_CHECK;
/* Runs internal SQL through the sandbox (read-only, one statement) and returns the JSON
 * result ({"columns","rows",...}). */
json_t *lh_ai__sql(lh_ai *ai, const char *sql, int64_t limit, lh_err *err);

/* ---- text helpers (text.c) --------------------------------------------------------------- */

/* The SQL of a model reply: the first ```sql fenced block, else the first ``` block, else
 * the text from the first SELECT/WITH/... keyword; trailing ';' and blanks removed. Owned,
 * or NULL when the reply holds no SQL. *explanation (may be NULL) gets the rest of the reply
 * (owned, trimmed, at most LH_AI_REPLY_KEEP bytes). */
char *lh_ai__extract_sql(const char *reply, char **explanation);
/* Validates the [n] references of answer against npassages passages: references to
 * passages that do not exist are dropped ("[1, 9]" -> "[1]", "[9]" vanishes with the blank
 * before it) and the rest renumbered 1.. in order of first use. order[i] (capacity
 * npassages) gets the passage index (0-based) of new number i + 1; *ncited their count.
 * Owned result. */
char *lh_ai__fix_citations(const char *answer, size_t npassages, size_t *order, size_t *ncited);
/* Parses relevance scores for passages 1..n from a model reply: lines like "1: 7",
 * "[2] 8/10", "Passage 3 - score 9.5", or a JSON array of numbers. scores[i] gets passage
 * i + 1's score scaled to 0..1 (by 10, or by 100 when any score exceeds 10), found[i] whether
 * one was given. Returns how many were found. */
size_t lh_ai__parse_scores(const char *reply, size_t n, double *scores, bool *found);
/* s cut to at most max bytes on a UTF-8 boundary, with "..." when cut. Owned. */
char *lh_ai__clip(const char *s, size_t max);

/* ---- schema context (schema.c) ----------------------------------------------------------- */

/* The compact description of the tables the question may use: datasets and AI-safe views,
 * columns with types and descriptions, and a few sample values of columns that are not
 * sensitive (nor in a confidential/restricted dataset, nor redacted by a view). Tables
 * whose names or columns share words with the question come first; the rest is cut at
 * LH_AI_SCHEMA_BUDGET bytes with a note. only (may be NULL) restricts it to the named
 * datasets/views (not_found for an unknown one). Owned. */
char *lh_ai__schema_context(lh_ai *ai, const char *question, const json_t *only, lh_err *err);

/* ---- similarity (rerank.c) ---------------------------------------------------------------- */

/* Scores docs[0..n) against query: by the rerank model when use_model, else by cosine
 * similarity of [embed] embeddings mapped to 0..1. scores gets n values. */
int lh_ai__score(lh_ai *ai, bool use_model, const char *query, const char *const *docs,
                 size_t n, double *scores, lh_err *err) LH_MUST_CHECK;

#endif
