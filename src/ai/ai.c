/* ai service: opening the model clients from the configuration, and the thin proxies
 * /ai/generate and /ai/embed. The features (ask.c, rag.c, rerank.c, summarize.c, admin.c)
 * share the helpers here: one way to call a model, one way to run SQL (the sandbox). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

#define STOPPED_MSG "generation stopped by the caller"

static int provider_of(const char *name, lh_provider *p, lh_err *err)
{
    if (lh_provider_parse(name, p, err) != 0)
        return -1;
    if (*p == LH_PROVIDER_LEXICAL)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "generate.provider: the lexical embedder cannot generate text");
    return 0;
}

/* The options of a generation client for `model` on the [generate] server. */
static lh_llm *open_llm(const lh_config *c, const char *model, lh_err *err)
{
    lh_llm_opts o = {0};
    if (provider_of(c->generate_provider, &o.provider, err) != 0)
        return NULL;
    o.model = model;
    o.url = c->generate_url && *c->generate_url ? c->generate_url : NULL;
    o.api_key = c->generate_api_key && *c->generate_api_key ? c->generate_api_key : NULL;
    o.timeout_ms = c->generate_timeout_ms;
    o.temperature = c->generate_temperature;
    return lh_llm_open(&o, err);
}

static lh_embedder *open_embedder(const lh_config *c, const char *model, lh_err *err)
{
    lh_embedder_opts o = {0};
    if (lh_provider_parse(c->embed_provider, &o.provider, err) != 0)
        return NULL;
    o.model = model;
    o.url = c->embed_url && *c->embed_url ? c->embed_url : NULL;
    o.api_key = c->embed_api_key && *c->embed_api_key ? c->embed_api_key : NULL;
    o.dims = (size_t)c->embed_dims;
    o.batch = c->embed_batch;
    o.concurrency = c->embed_concurrency;
    return lh_embedder_open(&o, err);
}

lh_ai *lh_ai_open(lh_lake *lake, lh_vindex *vindex, const lh_config *config, lh_err *err)
{
    lh_ai *ai = lh_xcalloc(1, sizeof *ai);
    ai->lake = lake;
    ai->vindex = vindex;
    ai->cfg = config;
    const char *gp = config->generate_provider ? config->generate_provider : "";
    const char *gm = config->generate_model ? config->generate_model : "";
    const char *rm = config->rerank_model ? config->rerank_model : "";
    if (*gp && !*gm) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "generate.provider is '%s' but generate.model is empty: name the model "
                   "(or LAKEHOUSE_GENERATE_MODEL)", gp);
        goto fail;
    }
    if (*rm && !*gp) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "rerank.model is set but generate.provider is empty: the rerank model runs "
                   "on the [generate] server");
        goto fail;
    }
    if (*gp && !(ai->llm = open_llm(config, gm, err)))
        goto fail;
    if (*rm && !(ai->rerank = open_llm(config, rm, err)))
        goto fail;
    /* An [embed] section that names no model is fine for index builds (each names its
     * own): only /ai/embed and similarity reranking need this one, and they say why not. */
    lh_err e = LH_ERR_INIT;
    ai->embedder = open_embedder(config, config->embed_model, &e);
    if (!ai->embedder) {
        snprintf(ai->embed_problem, sizeof ai->embed_problem, "no usable [embed] embedder: %.400s",
                 e.message);
        LH_LOG_WARN("ai", "%s", ai->embed_problem);
    }
    return ai;
fail:
    lh_err_prefix(err, "ai: ");
    lh_ai_close(ai);
    return NULL;
}

void lh_ai_close(lh_ai *ai)
{
    if (!ai)
        return;
    lh_llm_close(ai->llm);
    lh_llm_close(ai->rerank);
    lh_embedder_close(ai->embedder);
    free(ai);
}

bool lh_ai_can_generate(const lh_ai *ai)
{
    return ai->llm != NULL;
}

int lh_ai__need_llm(const lh_ai *ai, lh_err *err)
{
    if (ai->llm)
        return 0;
    return lh_err_set(err, LH_UNAVAILABLE,
                      "no generation model is configured: set [generate] provider (ollama or "
                      "openai), model and url in lakehouse.toml, or LAKEHOUSE_GENERATE_PROVIDER, "
                      "LAKEHOUSE_GENERATE_MODEL and LAKEHOUSE_GENERATE_URL");
}

int lh_ai__need_embedder(const lh_ai *ai, lh_err *err)
{
    if (ai->embedder)
        return 0;
    return lh_err_set(err, LH_UNAVAILABLE, "%s", ai->embed_problem);
}

/* Tells a stop asked by our caller apart from the model server's own failures. */
typedef struct stop_watch {
    lh_token_fn fn;
    void *ctx;
    bool stopped;
} stop_watch;

static int watch_token(void *ctx, const char *text, size_t len)
{
    stop_watch *w = ctx;
    if (w->fn(w->ctx, text, len) != 0) {
        w->stopped = true;
        return 1;
    }
    return 0;
}

int lh_ai__chat(lh_llm *m, const lh_chat_msg *msgs, size_t n, lh_token_fn on_token, void *ctx,
                char **out, lh_err *err)
{
    stop_watch w = {on_token, ctx, false};
    char *text = NULL;
    int rc = lh_llm_chat(m, msgs, n, on_token ? watch_token : NULL, &w, &text, err);
    if (rc == 0 && w.stopped)
        rc = lh_err_set(err, LH_UNAVAILABLE, STOPPED_MSG);
    if (rc != 0) {
        free(text);
        return -1;
    }
    *out = text ? text : lh_xstrdup("");
    return 0;
}

json_t *lh_ai__sql(lh_ai *ai, const char *sql, int64_t limit, lh_err *err)
{
    lh_query_req q = {.sql = sql, .limit = limit, .format = LH_FMT_JSON};
    return lh_query_json(ai->lake->engine, &q, err);
}

/* A text field of at most max bytes: required or optional (NULL when absent). */
static const char *text_field(const json_t *req, const char *key, bool required, size_t max,
                              lh_err *err)
{
    lh_err e = LH_ERR_INIT;
    const char *s = lh_json_str(req, key, required, &e);
    if (!s) {
        if (e.code != LH_OK || required) {
            if (e.code == LH_OK)
                lh_err_set(&e, LH_INVALID_ARGUMENT, "'%s' is required", key);
            *err = e;
        }
        return NULL;
    }
    if (strlen(s) > max) {
        lh_err_set(err, LH_TOO_LARGE, "'%s' is longer than %zu bytes", key, max);
        return NULL;
    }
    return s;
}

json_t *lh_ai_generate(lh_ai *ai, const json_t *req, lh_token_fn on_token, void *ctx,
                       lh_err *err)
{
    const char *prompt = text_field(req, "prompt", true, LH_AI_PROMPT_MAX, err);
    if (!prompt)
        return NULL;
    lh_err e = LH_ERR_INIT;
    const char *system = text_field(req, "system", false, LH_AI_PROMPT_MAX, &e);
    const char *model = e.code == LH_OK ? text_field(req, "model", false, 256, &e) : NULL;
    if (e.code != LH_OK) {
        *err = e;
        return NULL;
    }
    if (!*prompt) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'prompt' must not be empty");
        return NULL;
    }
    if (lh_ai__need_llm(ai, err) != 0)
        return NULL;
    lh_llm *m = ai->llm, *own = NULL;
    if (model && *model && strcmp(model, lh_llm_model(ai->llm)) != 0) {
        if (!(own = open_llm(ai->cfg, model, err)))
            return NULL;
        m = own;
    }
    lh_chat_msg msgs[2];
    size_t n = 0;
    if (system && *system)
        msgs[n++] = (lh_chat_msg){"system", system};
    msgs[n++] = (lh_chat_msg){"user", prompt};
    double t0 = lh_mono_ms();
    char *text = NULL;
    json_t *doc = NULL;
    if (lh_ai__chat(m, msgs, n, on_token, ctx, &text, err) == 0) {
        doc = json_pack("{s:s, s:s, s:b, s:f}", "model", lh_llm_model(m), "response", text,
                        "done", 1, "took_ms", lh_mono_ms() - t0);
        free(text);
    }
    lh_llm_close(own);
    return doc;
}

/* The texts of "input": a string or a non-empty array of strings, within the ceilings. */
static int embed_inputs(const json_t *req, const char ***texts, size_t **lens, size_t *n,
                        lh_err *err)
{
    const json_t *in = json_object_get(req, "input");
    size_t count = json_is_string(in) ? 1 : json_is_array(in) ? json_array_size(in) : 0;
    if (!in)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'input' is required");
    if (!json_is_string(in) && !json_is_array(in))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "'input' must be a string or an array of strings");
    if (count == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'input' must not be an empty array");
    if (count > LH_AI_EMBED_INPUTS_MAX)
        return lh_err_set(err, LH_TOO_LARGE, "'input' has more than %d texts",
                          LH_AI_EMBED_INPUTS_MAX);
    *texts = lh_xcalloc(count, sizeof **texts);
    *lens = lh_xcalloc(count, sizeof **lens);
    for (size_t i = 0; i < count; i++) {
        const json_t *t = json_is_string(in) ? in : json_array_get(in, i);
        if (!json_is_string(t) || json_string_length(t) == 0) {
            free(*texts);
            free(*lens);
            return lh_err_set(err, LH_INVALID_ARGUMENT, "input[%zu] must be a non-empty string",
                              i);
        }
        if (json_string_length(t) > LH_AI_EMBED_TEXT_MAX) {
            free(*texts);
            free(*lens);
            return lh_err_set(err, LH_TOO_LARGE, "input[%zu] is longer than %u bytes", i,
                              LH_AI_EMBED_TEXT_MAX);
        }
        (*texts)[i] = json_string_value(t);
        (*lens)[i] = json_string_length(t);
    }
    *n = count;
    return 0;
}

json_t *lh_ai_embed(lh_ai *ai, const json_t *req, lh_err *err)
{
    lh_err e = LH_ERR_INIT;
    const char *model = text_field(req, "model", false, 256, &e);
    if (e.code != LH_OK) {
        *err = e;
        return NULL;
    }
    const char **texts = NULL;
    size_t *lens = NULL, n = 0;
    if (embed_inputs(req, &texts, &lens, &n, err) != 0)
        return NULL;
    lh_embedder *em = ai->embedder, *own = NULL;
    json_t *doc = NULL;
    float *vecs = NULL;
    lh_provider prov = LH_PROVIDER_LEXICAL;
    bool known = lh_provider_parse(ai->cfg->embed_provider, &prov, NULL) == 0;
    if (known && model && *model && prov != LH_PROVIDER_LEXICAL &&
        (!em || strcmp(model, lh_embedder_model(em)) != 0)) {
        if (!(own = open_embedder(ai->cfg, model, err)))
            goto out;
        em = own;
    } else if (lh_ai__need_embedder(ai, err) != 0) {
        goto out;
    }
    size_t dims = lh_embedder_dims(em, err);
    if (dims == 0)
        goto out;
    vecs = lh_try_alloc(n * dims * sizeof *vecs);
    if (!vecs) {
        lh_err_set(err, LH_TOO_LARGE, "%zu embeddings of %zu dimensions do not fit in memory",
                   n, dims);
        goto out;
    }
    if (lh_embedder_embed(em, texts, lens, n, vecs, err) != 0)
        goto out;
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array();
        for (size_t j = 0; j < dims; j++)
            json_array_append_new(row, json_real(vecs[i * dims + j]));
        json_array_append_new(rows, row);
    }
    doc = json_pack("{s:s, s:s, s:I, s:o}", "provider", lh_provider_name(lh_embedder_provider(em)),
                    "model", lh_embedder_model(em), "dims", (json_int_t)dims, "embeddings", rows);
out:
    free(vecs);
    free(texts);
    free(lens);
    lh_embedder_close(own);
    return doc;
}
