/* ai RAG: search a vector index, optionally rerank, show the model numbered passages
 * [1]..[k], generate, then hold the answer to its sources: every [n] left in the answer
 * names a returned citation (references to passages never shown are dropped, the rest
 * renumbered by first use). With no generation model the answer is extractive: the best
 * passages themselves, each with its number. */
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

#define DEFAULT_K 5
#define RERANK_POOL 4   /* with rerank, search k * this many and keep the best k */
#define EXTRACTIVE_MAX 3

static const char SYSTEM_PROMPT[] =
    "You answer questions using only the numbered passages you are given. After each "
    "sentence, cite the passages that support it by number in square brackets, like [1] or "
    "[2, 3]. Cite only passage numbers that exist. If the passages do not contain the "
    "answer, say that you do not know.";

typedef struct passage {
    const char *doc_id;
    json_int_t chunk_id;
    double score;
    const char *snippet;
} passage;

static int parse_req(lh_ai *ai, const json_t *req, const char **index, const char **question,
                     int64_t *k, bool *rerank, lh_err *err)
{
    if (!ai->vindex)
        return lh_err_set(err, LH_UNAVAILABLE, "vector indexes are not enabled on this server");
    if (!(*index = lh_json_str(req, "index", true, err)) ||
        !(*question = lh_json_str(req, "question", true, err)))
        return -1;
    if (!**question)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'question' must not be empty");
    if (strlen(*question) > LH_AI_QUESTION_MAX)
        return lh_err_set(err, LH_TOO_LARGE, "'question' is longer than %d bytes",
                          LH_AI_QUESTION_MAX);
    if (lh_json_int(req, "k", false, DEFAULT_K, k, err) != 0)
        return -1;
    if (*k < 1 || *k > LH_AI_RAG_K_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'k' must be from 1 to %d", LH_AI_RAG_K_MAX);
    const json_t *r = json_object_get(req, "rerank");
    if (r && !json_is_boolean(r) && !json_is_null(r))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'rerank' must be true or false");
    *rerank = json_is_true(r);
    return 0;
}

/* Reorders hits by reranking score (descending) and keeps k. The scores replace the search
 * scores. */
static int rerank_hits(lh_ai *ai, const char *question, passage *p, size_t *n, size_t k,
                       lh_err *err)
{
    const char **docs = lh_xcalloc(*n, sizeof *docs);
    double *scores = lh_xcalloc(*n, sizeof *scores);
    for (size_t i = 0; i < *n; i++)
        docs[i] = p[i].snippet;
    int rc = lh_ai__score(ai, ai->rerank != NULL, question, docs, *n, scores, err);
    if (rc == 0) {
        for (size_t i = 0; i < *n; i++)
            p[i].score = scores[i];
        /* A stable insertion sort: a handful of passages. */
        for (size_t i = 1; i < *n; i++) {
            passage x = p[i];
            size_t j = i;
            while (j > 0 && p[j - 1].score < x.score) {
                p[j] = p[j - 1];
                j--;
            }
            p[j] = x;
        }
        if (*n > k)
            *n = k;
    }
    free(docs);
    free(scores);
    return rc;
}

static json_t *citation(size_t n, const passage *p)
{
    return json_pack("{s:I, s:s, s:I, s:f, s:s}", "n", (json_int_t)n, "doc_id", p->doc_id,
                     "chunk_id", p->chunk_id, "score", p->score, "snippet", p->snippet);
}

/* The user prompt: numbered passages within the budget, then the question. */
static char *build_prompt(const passage *p, size_t n, const char *question, size_t *shown)
{
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "Passages:\n");
    size_t i = 0;
    for (; i < n; i++) {
        if (i > 0 && b.len + strlen(p[i].snippet) + 64 > LH_AI_PASSAGES_BUDGET)
            break;
        lh_buf_printf(&b, "[%zu] (from %s) %s\n", i + 1, p[i].doc_id, p[i].snippet);
    }
    *shown = i;
    lh_buf_printf(&b, "\nQuestion: %s", question);
    return lh_buf_detach(&b, NULL);
}

static json_t *extractive(const passage *p, size_t n, json_t *citations)
{
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "");
    for (size_t i = 0; i < n; i++) {
        if (i < EXTRACTIVE_MAX)
            lh_buf_printf(&b, "%s%s [%zu]", i ? "\n\n" : "", p[i].snippet, i + 1);
        json_array_append_new(citations, citation(i + 1, &p[i]));
    }
    json_t *s = json_string(b.data);
    lh_buf_release(&b);
    return s;
}

json_t *lh_ai_rag(lh_ai *ai, const json_t *req, lh_token_fn on_token, void *ctx, lh_err *err)
{
    const char *index = NULL, *question = NULL;
    int64_t k = 0;
    bool rerank = false;
    double t0 = lh_mono_ms();
    if (parse_req(ai, req, &index, &question, &k, &rerank, err) != 0)
        return NULL;
    int64_t want = rerank ? k * RERANK_POOL : k;
    json_t *sreq = json_pack("{s:s, s:s, s:I}", "index", index, "query", question, "k",
                             (json_int_t)want);
    json_t *found = lh_vindex_search(ai->vindex, sreq, err);
    json_decref(sreq);
    if (!found)
        return NULL;
    double t_search = lh_mono_ms();
    /* The search's own figure for embedding the question; the rest of it is the search. */
    double embed_ms = json_number_value(json_object_get(found, "embed_ms"));
    if (embed_ms < 0 || embed_ms > t_search - t0)
        embed_ms = 0;
    const json_t *hits = json_object_get(found, "hits");
    size_t n = json_array_size(hits);
    passage *p = lh_xcalloc(n ? n : 1, sizeof *p);
    for (size_t i = 0; i < n; i++) {
        const json_t *h = json_array_get(hits, i);
        const char *doc = json_string_value(json_object_get(h, "doc_id"));
        const char *snip = json_string_value(json_object_get(h, "snippet"));
        p[i] = (passage){doc ? doc : "", json_integer_value(json_object_get(h, "chunk_id")),
                         json_number_value(json_object_get(h, "score")), snip ? snip : ""};
    }
    json_t *doc = NULL, *citations = json_array();
    char *prompt = NULL, *text = NULL, *fixed = NULL;
    size_t *order = NULL;
    if (rerank && n > 0 && rerank_hits(ai, question, p, &n, (size_t)k, err) != 0)
        goto out;
    double t_rerank = lh_mono_ms();
    json_t *answer;
    const char *mode = "generative";
    double t_prompt = t_rerank, t_gen = t_rerank;
    if (!ai->llm || n == 0) {
        /* No model (or nothing found): the passages are the answer. */
        mode = "extractive";
        answer = n ? extractive(p, n, citations)
                   : json_string("No passage of the index matches the question.");
    } else {
        size_t shown;
        prompt = build_prompt(p, n, question, &shown);
        t_prompt = lh_mono_ms();
        lh_chat_msg msgs[2] = {{"system", SYSTEM_PROMPT}, {"user", prompt}};
        if (lh_ai__chat(ai->llm, msgs, 2, on_token, ctx, &text, err) != 0)
            goto out;
        t_gen = lh_mono_ms();
        order = lh_xcalloc(shown ? shown : 1, sizeof *order);
        size_t ncited = 0;
        fixed = lh_ai__fix_citations(text, shown, order, &ncited);
        for (size_t i = 0; i < ncited; i++)
            json_array_append_new(citations, citation(i + 1, &p[order[i]]));
        answer = json_string(fixed);
    }
    double t_end = lh_mono_ms();
    doc = json_pack("{s:s, s:s, s:o, s:s, s:O, s:I, s:{s:f, s:f, s:f, s:f, s:f, s:f}}", "index",
                    index, "question", question, "answer", answer, "mode", mode, "citations",
                    citations, "passages", (json_int_t)n, "timings", "embed_ms", embed_ms,
                    "search_ms", t_search - t0 - embed_ms, "rerank_ms", t_rerank - t_search,
                    "prompt_ms", t_prompt - t_rerank, "generate_ms", t_gen - t_prompt,
                    "total_ms", t_end - t0);
    if (doc)
        json_object_set_new(doc, "model", ai->llm && strcmp(mode, "generative") == 0
                                              ? json_string(lh_llm_model(ai->llm))
                                              : json_null());
    else
        lh_err_set(err, LH_INTERNAL, "cannot render the answer of a rag request");
out:
    json_decref(citations);
    json_decref(found);
    free(p);
    free(prompt);
    free(text);
    free(fixed);
    free(order);
    return doc;
}
