/* model: the OpenAI-compatible embedding wire format (OpenAI, vLLM, llama.cpp, LM Studio,
 * Ollama's /v1). POST {base}/v1/embeddings with {"model","input":[...],
 * "encoding_format":"float"} answers {"data":[{"index":i,"embedding":[...]},...]}; rows are
 * put back in input order by "index", which servers may return shuffled. */
#include <string.h>

#include "model/model_int.h"

/* OpenAI's own clients take a base URL that already ends in /v1; accept both forms. */
static const char *openai_path(const char *base_url)
{
    return lh_str_has_suffix(base_url, "/v1") ? "/embeddings" : "/v1/embeddings";
}

static void openai_request(lh_buf *out, const char *model, const char *const *texts,
                           const size_t *lens, size_t n)
{
    lh_buf_puts(out, "{\"model\":");
    lh_buf_json_string(out, model, strlen(model));
    lh_buf_puts(out, ",\"encoding_format\":\"float\",\"input\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            lh_buf_putc(out, ',');
        lh_buf_json_string(out, texts[i] ? texts[i] : "", lens[i]);
    }
    lh_buf_puts(out, "]}");
}

static int openai_rows(json_t *root, size_t n, json_t **rows, lh_err *err)
{
    json_t *data = json_is_object(root) ? json_object_get(root, "data") : NULL;
    if (!json_is_array(data))
        return lh_err_set(err, LH_UPSTREAM, "answer has no \"data\" array");
    if (json_array_size(data) != n)
        return lh_err_set(err, LH_UPSTREAM, "answer has %zu embeddings for %zu texts",
                          json_array_size(data), n);
    for (size_t i = 0; i < n; i++)
        rows[i] = NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(data, i);
        json_t *emb = json_is_object(item) ? json_object_get(item, "embedding") : NULL;
        if (!emb)
            return lh_err_set(err, LH_UPSTREAM, "data[%zu] has no \"embedding\"", i);
        json_t *idx = json_object_get(item, "index");
        size_t at = i; /* a server that leaves "index" out answers in input order */
        if (idx) {
            if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
                (uint64_t)json_integer_value(idx) >= n)
                return lh_err_set(err, LH_UPSTREAM, "data[%zu] has a bad \"index\"", i);
            at = (size_t)json_integer_value(idx);
        }
        if (rows[at])
            return lh_err_set(err, LH_UPSTREAM, "answer has two embeddings for index %zu", at);
        rows[at] = emb;
    }
    return 0;
}

const lh_embed_wire lh_model__openai_wire = {
    .name = "openai",
    .default_url = "https://api.openai.com",
    .path = openai_path,
    .request = openai_request,
    .rows = openai_rows,
};
