/* ai rerank: orders passages by relevance to a query. Either cross-scoring by the [rerank]
 * model (the passages are shown numbered and the model gives each a 0-10 score, parsed
 * robustly from whatever shape the reply takes) or, with no rerank model, the cosine
 * similarity of [embed] embeddings. Used by POST /ai/rerank and by RAG's rerank option. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

#define MODEL_BATCH 20          /* passages per scoring prompt */
#define MODEL_DOC_CHARS 1500    /* bytes of one passage shown to the scoring model */

static const char SCORE_SYSTEM[] =
    "You rate how relevant passages are to a query. For each passage, answer with one line "
    "'<passage number>: <score>', the score from 0 (unrelated) to 10 (answers the query "
    "fully). No other text.";

static int score_by_model(lh_ai *ai, const char *query, const char *const *docs, size_t n,
                          double *scores, lh_err *err)
{
    for (size_t from = 0; from < n; from += MODEL_BATCH) {
        size_t m = n - from < MODEL_BATCH ? n - from : MODEL_BATCH;
        lh_buf b;
        lh_buf_init(&b);
        lh_buf_printf(&b, "Query: %s\n\nPassages:\n", query);
        for (size_t i = 0; i < m; i++) {
            char *clip = lh_ai__clip(docs[from + i], MODEL_DOC_CHARS);
            lh_buf_printf(&b, "[%zu] %s\n", i + 1, clip);
            free(clip);
        }
        lh_buf_printf(&b, "\nGive a score for each of the %zu passages.", m);
        lh_chat_msg msgs[2] = {{"system", SCORE_SYSTEM}, {"user", b.data}};
        char *reply = NULL;
        int rc = lh_ai__chat(ai->rerank, msgs, 2, NULL, NULL, &reply, err);
        lh_buf_release(&b);
        if (rc != 0)
            return -1;
        bool found[MODEL_BATCH];
        size_t got = lh_ai__parse_scores(reply, m, scores + from, found);
        free(reply);
        if (got == 0)
            return lh_err_set(err, LH_UPSTREAM,
                              "the rerank model '%s' answered without any score",
                              lh_llm_model(ai->rerank));
        /* A passage the model skipped ranks below every scored one. */
        for (size_t i = 0; i < m; i++)
            if (!found[i])
                scores[from + i] = 0;
    }
    return 0;
}

static int score_by_embedding(lh_ai *ai, const char *query, const char *const *docs, size_t n,
                              double *scores, lh_err *err)
{
    if (lh_ai__need_embedder(ai, err) != 0)
        return -1;
    size_t dims = lh_embedder_dims(ai->embedder, err);
    if (dims == 0)
        return -1;
    const char **texts = lh_xcalloc(n + 1, sizeof *texts);
    size_t *lens = lh_xcalloc(n + 1, sizeof *lens);
    float *v = lh_try_alloc((n + 1) * dims * sizeof *v);
    int rc = -1;
    if (!v) {
        lh_err_set(err, LH_TOO_LARGE, "%zu embeddings do not fit in memory", n + 1);
        goto out;
    }
    texts[0] = query;
    lens[0] = strlen(query);
    for (size_t i = 0; i < n; i++) {
        texts[i + 1] = docs[i];
        lens[i + 1] = strlen(docs[i]);
    }
    if (lh_embedder_embed(ai->embedder, texts, lens, n + 1, v, err) != 0)
        goto out;
    double qn = 0;
    for (size_t j = 0; j < dims; j++)
        qn += (double)v[j] * v[j];
    for (size_t i = 0; i < n; i++) {
        const float *d = v + (i + 1) * dims;
        double dot = 0, dn = 0;
        for (size_t j = 0; j < dims; j++) {
            dot += (double)v[j] * d[j];
            dn += (double)d[j] * d[j];
        }
        double cos = qn > 0 && dn > 0 ? dot / (sqrt(qn) * sqrt(dn)) : 0;
        scores[i] = (cos + 1) / 2; /* -1..1 -> 0..1, comparable with model scores */
    }
    rc = 0;
out:
    free(texts);
    free(lens);
    free(v);
    return rc;
}

int lh_ai__score(lh_ai *ai, bool use_model, const char *query, const char *const *docs,
                 size_t n, double *scores, lh_err *err)
{
    if (use_model)
        return score_by_model(ai, query, docs, n, scores, err);
    return score_by_embedding(ai, query, docs, n, scores, err);
}

static int parse_req(lh_ai *ai, const json_t *req, const char **query, const json_t **docs,
                     int64_t *top_k, bool *use_model, lh_err *err)
{
    if (!(*query = lh_json_str(req, "query", true, err)))
        return -1;
    if (!**query)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'query' must not be empty");
    if (strlen(*query) > LH_AI_QUESTION_MAX)
        return lh_err_set(err, LH_TOO_LARGE, "'query' is longer than %d bytes",
                          LH_AI_QUESTION_MAX);
    *docs = json_object_get(req, "documents");
    if (!json_is_array(*docs) || json_array_size(*docs) == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "'documents' must be a non-empty array of strings");
    size_t n = json_array_size(*docs);
    if (n > LH_AI_RERANK_DOCS_MAX)
        return lh_err_set(err, LH_TOO_LARGE, "'documents' has more than %d entries",
                          LH_AI_RERANK_DOCS_MAX);
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(*docs, i);
        if (!json_is_string(d))
            return lh_err_set(err, LH_INVALID_ARGUMENT, "documents[%zu] must be a string", i);
        if (json_string_length(d) > LH_AI_DOC_MAX)
            return lh_err_set(err, LH_TOO_LARGE, "documents[%zu] is longer than %u bytes", i,
                              LH_AI_DOC_MAX);
    }
    if (lh_json_int(req, "top_k", false, (int64_t)n, top_k, err) != 0)
        return -1;
    if (*top_k < 1)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'top_k' must be 1 or more");
    const char *method = lh_json_str(req, "method", false, err);
    if (!method && err->code != LH_OK)
        return -1;
    if (!method)
        *use_model = ai->rerank != NULL;
    else if (strcmp(method, "model") == 0)
        *use_model = true;
    else if (strcmp(method, "embedding") == 0)
        *use_model = false;
    else
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "'method' must be \"model\" or \"embedding\", not '%s'", method);
    if (!*use_model && lh_ai__need_embedder(ai, err) != 0)
        return -1;
    if (*use_model && !ai->rerank)
        return lh_err_set(err, LH_UNAVAILABLE,
                          "no rerank model is configured: set [rerank] model (and a [generate] "
                          "provider) in lakehouse.toml, or LAKEHOUSE_RERANK_MODEL");
    return 0;
}

typedef struct ranked {
    size_t index;
    double score;
} ranked;

static int by_score(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return x->index < y->index ? -1 : 1;
}

json_t *lh_ai_rerank(lh_ai *ai, const json_t *req, lh_err *err)
{
    const char *query = NULL;
    const json_t *docs = NULL;
    int64_t top_k = 0;
    bool use_model = false;
    if (parse_req(ai, req, &query, &docs, &top_k, &use_model, err) != 0)
        return NULL;
    size_t n = json_array_size(docs);
    const char **texts = lh_xcalloc(n, sizeof *texts);
    double *scores = lh_xcalloc(n, sizeof *scores);
    for (size_t i = 0; i < n; i++)
        texts[i] = json_string_value(json_array_get(docs, i));
    double t0 = lh_mono_ms();
    json_t *doc = NULL;
    if (lh_ai__score(ai, use_model, query, texts, n, scores, err) == 0) {
        ranked *r = lh_xcalloc(n, sizeof *r);
        for (size_t i = 0; i < n; i++)
            r[i] = (ranked){i, scores[i]};
        qsort(r, n, sizeof *r, by_score);
        json_t *results = json_array();
        for (size_t i = 0; i < n && i < (size_t)top_k; i++)
            json_array_append_new(results, json_pack("{s:I, s:f, s:s}", "index",
                                                     (json_int_t)r[i].index, "score",
                                                     r[i].score, "document", texts[r[i].index]));
        free(r);
        doc = json_pack("{s:s, s:s, s:o, s:f}", "method", use_model ? "model" : "embedding",
                        "model",
                        use_model ? lh_llm_model(ai->rerank) : lh_embedder_model(ai->embedder),
                        "results", results, "took_ms", lh_mono_ms() - t0);
    }
    free(texts);
    free(scores);
    return doc;
}
