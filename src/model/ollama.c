/* model: the Ollama embedding wire format. POST {base}/api/embed with
 * {"model":"...","input":["...",...]} answers {"model":"...","embeddings":[[...],...]},
 * one row per input in input order. Errors come as {"error":"..."} (404 for a model that
 * has not been pulled); http_client.c reads those. */
#include <string.h>

#include "model/model_int.h"

static const char *ollama_path(const char *base_url)
{
    (void)base_url;
    return "/api/embed";
}

static void ollama_request(lh_buf *out, const char *model, const char *const *texts,
                           const size_t *lens, size_t n)
{
    lh_buf_puts(out, "{\"model\":");
    lh_buf_json_string(out, model, strlen(model));
    lh_buf_puts(out, ",\"input\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            lh_buf_putc(out, ',');
        lh_buf_json_string(out, texts[i] ? texts[i] : "", lens[i]);
    }
    lh_buf_puts(out, "]}");
}

static int ollama_rows(json_t *root, size_t n, json_t **rows, lh_err *err)
{
    json_t *emb = json_is_object(root) ? json_object_get(root, "embeddings") : NULL;
    if (!json_is_array(emb))
        return lh_err_set(err, LH_UPSTREAM, "answer has no \"embeddings\" array");
    if (json_array_size(emb) != n)
        return lh_err_set(err, LH_UPSTREAM, "answer has %zu embeddings for %zu texts",
                          json_array_size(emb), n);
    for (size_t i = 0; i < n; i++)
        rows[i] = json_array_get(emb, i);
    return 0;
}

const lh_embed_wire lh_model__ollama_wire = {
    .name = "ollama",
    .default_url = "http://127.0.0.1:11434",
    .path = ollama_path,
    .request = ollama_request,
    .rows = ollama_rows,
};
