/* model: lh_embedder, one interface over the lexical embedder and the remote ones. A
 * remote embed splits its texts into batches of opts.batch and sends them opts.concurrency
 * at a time: the caller's thread and up to concurrency-1 helper threads pull batch numbers
 * from one counter, each with its own curl handle; the first failure stops the rest. Every
 * answer is checked for count and dimension before a row is written. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "model/model_int.h"

#define DEFAULT_LEXICAL_DIMS 384
#define DEFAULT_BATCH 64
#define DEFAULT_CONCURRENCY 4
#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_MAX_RETRIES 4
#define MAX_MODEL_NAME 512
#define PROBE_TEXT "dimension probe"

struct lh_embedder {
    lh_provider provider;
    char *model;
    const lh_embed_wire *wire; /* NULL for lexical */
    lh_model_http http;
    size_t batch, concurrency;
    atomic_size_t dims; /* 0 until configured or learned; set once */
    atomic_llong texts, local_us;
};

int lh_provider_parse(const char *name, lh_provider *out, lh_err *err)
{
    if (name && (strcmp(name, "lexical") == 0 || strcmp(name, "builtin") == 0))
        *out = LH_PROVIDER_LEXICAL;
    else if (name && strcmp(name, "ollama") == 0)
        *out = LH_PROVIDER_OLLAMA;
    else if (name && strcmp(name, "openai") == 0)
        *out = LH_PROVIDER_OPENAI;
    else
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "unknown embedding provider '%s' (want lexical, ollama or openai)",
                          name ? name : "");
    return 0;
}

const char *lh_provider_name(lh_provider p)
{
    switch (p) {
    case LH_PROVIDER_LEXICAL: return "lexical";
    case LH_PROVIDER_OLLAMA: return "ollama";
    case LH_PROVIDER_OPENAI: return "openai";
    }
    return "unknown";
}

/* opts value v in [0, max], 0 meaning def. */
static int pick(int v, int def, int max, const char *what, int *out, lh_err *err)
{
    if (v < 0 || v > max)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "embedder %s %d is out of range (0..%d)",
                          what, v, max);
    *out = v ? v : def;
    return 0;
}

lh_embedder *lh_embedder_open(const lh_embedder_opts *opts, lh_err *err)
{
    if (!opts) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "embedder options are missing");
        return NULL;
    }
    int batch = 0, conc = 0, timeout = 0, retries = 0;
    if (pick(opts->batch, DEFAULT_BATCH, LH_MODEL_MAX_BATCH, "batch", &batch, err) ||
        pick(opts->concurrency, DEFAULT_CONCURRENCY, LH_MODEL_MAX_CONCURRENCY, "concurrency",
             &conc, err) ||
        pick(opts->timeout_ms, DEFAULT_TIMEOUT_MS, 24 * 3600 * 1000, "timeout_ms", &timeout,
             err) ||
        pick(opts->max_retries, DEFAULT_MAX_RETRIES, LH_MODEL_MAX_RETRIES, "max_retries",
             &retries, err))
        return NULL;
    if (opts->dims > LH_MODEL_MAX_DIMS) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "embedder dims %zu is more than %d", opts->dims,
                   LH_MODEL_MAX_DIMS);
        return NULL;
    }

    const lh_embed_wire *wire = NULL;
    switch (opts->provider) {
    case LH_PROVIDER_LEXICAL:
        if (opts->dims != 0 && opts->dims < 8) {
            lh_err_set(err, LH_INVALID_ARGUMENT, "lexical embedder dims %zu is less than 8",
                       opts->dims);
            return NULL;
        }
        break;
    case LH_PROVIDER_OLLAMA: wire = &lh_model__ollama_wire; break;
    case LH_PROVIDER_OPENAI: wire = &lh_model__openai_wire; break;
    default:
        lh_err_set(err, LH_INVALID_ARGUMENT, "unknown embedding provider %d",
                   (int)opts->provider);
        return NULL;
    }
    if (wire && (!opts->model || !opts->model[0])) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "%s embedder needs a model name", wire->name);
        return NULL;
    }
    if (wire && strlen(opts->model) > MAX_MODEL_NAME) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "%s model name is longer than %d bytes",
                   wire->name, MAX_MODEL_NAME);
        return NULL;
    }

    lh_embedder *e = lh_xcalloc(1, sizeof *e);
    e->provider = opts->provider;
    e->wire = wire;
    e->batch = (size_t)batch;
    e->concurrency = (size_t)conc;
    if (wire) {
        if (lh_model__http_init(&e->http, wire->name, opts->url ? opts->url : wire->default_url,
                                opts->api_key, timeout, retries, err) != 0) {
            free(e);
            return NULL;
        }
        e->model = lh_xstrdup(opts->model);
        atomic_init(&e->dims, opts->dims);
    } else {
        e->model = lh_xstrdup(lh_lexical_version());
        atomic_init(&e->dims, opts->dims ? opts->dims : DEFAULT_LEXICAL_DIMS);
    }
    return e;
}

void lh_embedder_close(lh_embedder *e)
{
    if (!e)
        return;
    if (e->wire)
        lh_model__http_release(&e->http);
    free(e->model);
    free(e);
}

lh_provider lh_embedder_provider(const lh_embedder *e)
{
    return e->provider;
}

const char *lh_embedder_model(const lh_embedder *e)
{
    return e->model;
}

lh_embedder_stats lh_embedder_get_stats(const lh_embedder *e)
{
    lh_embedder_stats s = {0};
    s.texts = atomic_load(&e->texts);
    s.model_ms = (double)atomic_load(&e->local_us) / 1000.0;
    if (e->wire) {
        s.requests = atomic_load(&e->http.requests);
        s.retries = atomic_load(&e->http.retries);
        s.model_ms += (double)atomic_load(&e->http.wait_us) / 1000.0;
    }
    return s;
}

/* Checks rows[0..n) (JSON arrays of finite numbers, all of one length) and only then
 * copies them into out (when out is given), so a bad answer writes nothing. *dims_io is the
 * expected length, or 0 to learn it. */
static int take_rows(lh_embedder *e, json_t **rows, size_t n, size_t *dims_io, float *out,
                     lh_err *err)
{
    size_t want = *dims_io;
    for (size_t i = 0; i < n; i++) {
        if (!json_is_array(rows[i]))
            return lh_err_set(err, LH_UPSTREAM, "embedding %zu is not an array", i);
        size_t d = json_array_size(rows[i]);
        if (d == 0)
            return lh_err_set(err, LH_UPSTREAM, "embedding %zu is empty", i);
        if (d > LH_MODEL_MAX_DIMS)
            return lh_err_set(err, LH_UPSTREAM,
                              "model '%s' returned %zu dimensions, more than the %d supported",
                              e->model, d, LH_MODEL_MAX_DIMS);
        if (want == 0)
            want = d;
        if (d != want)
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "model '%s' returned %zu dimensions, index expects %zu",
                              e->model, d, want);
        for (size_t j = 0; j < d; j++) {
            json_t *v = json_array_get(rows[i], j);
            double x = json_number_value(v);
            if (!json_is_number(v) || !isfinite(x) || fabs(x) > 3.4e38)
                return lh_err_set(err, LH_UPSTREAM,
                                  "embedding %zu holds a value that is not a float at %zu", i,
                                  j);
        }
    }
    for (size_t i = 0; out && i < n; i++) {
        float *row = out + i * want;
        for (size_t j = 0; j < want; j++)
            row[j] = (float)json_number_value(json_array_get(rows[i], j));
    }
    *dims_io = want;
    return 0;
}

/* One request for texts[0..n). out may be NULL (a probe that only learns dims). */
static int embed_request(lh_embedder *e, const char *const *texts, const size_t *lens,
                         size_t n, size_t *dims_io, float *out, lh_err *err)
{
    lh_buf body, resp;
    lh_buf_init(&body);
    lh_buf_init(&resp);
    json_t *root = NULL;
    json_t **rows = lh_xcalloc(n, sizeof *rows);
    int rc = -1;
    e->wire->request(&body, e->model, texts, lens, n);
    if (lh_model__http_post(&e->http, e->wire->path(e->http.base_url), body.data, body.len,
                            &resp, err) != 0)
        goto out;
    json_error_t jerr;
    root = json_loadb(resp.data, resp.len, 0, &jerr);
    if (!root) {
        lh_err_set(err, LH_UPSTREAM, "%s at %s answered with malformed JSON: %s (line %d)",
                   e->wire->name, e->http.shown_url, jerr.text, jerr.line);
        goto out;
    }
    if (e->wire->rows(root, n, rows, err) != 0) {
        lh_err_prefix(err, "%s at %s: ", e->wire->name, e->http.shown_url);
        goto out;
    }
    rc = take_rows(e, rows, n, dims_io, out, err);
out:
    json_decref(root);
    free(rows);
    lh_buf_release(&body);
    lh_buf_release(&resp);
    return rc;
}

size_t lh_embedder_dims(lh_embedder *e, lh_err *err)
{
    size_t d = atomic_load(&e->dims);
    if (d != 0)
        return d;
    const char *text = PROBE_TEXT;
    size_t len = strlen(text);
    if (embed_request(e, &text, &len, 1, &d, NULL, err) != 0)
        return 0;
    size_t expected = 0;
    /* Two threads may probe at once; the first answer is the one kept. */
    if (!atomic_compare_exchange_strong(&e->dims, &expected, d) && expected != d) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "model '%s' returned %zu dimensions, index expects %zu", e->model, d,
                   expected);
        return 0;
    }
    return atomic_load(&e->dims);
}

/* ---- batches over threads ------------------------------------------------------------------ */

typedef struct embed_job {
    lh_embedder *e;
    const char *const *texts;
    const size_t *lens;
    size_t n, dims, nbatches;
    float *out;
    atomic_size_t next;
    atomic_int failed;
    pthread_mutex_t lock; /* guards err */
    lh_err err;
} embed_job;

static void *embed_worker(void *arg)
{
    embed_job *j = arg;
    for (;;) {
        if (atomic_load(&j->failed))
            break;
        size_t b = atomic_fetch_add(&j->next, 1);
        if (b >= j->nbatches)
            break;
        size_t first = b * j->e->batch;
        size_t cnt = j->n - first < j->e->batch ? j->n - first : j->e->batch;
        size_t dims = j->dims;
        lh_err err = LH_ERR_INIT;
        if (embed_request(j->e, j->texts + first, j->lens + first, cnt, &dims,
                          j->out + first * j->dims, &err) != 0) {
            pthread_mutex_lock(&j->lock);
            if (!atomic_load(&j->failed)) {
                j->err = err;
                atomic_store(&j->failed, 1);
            }
            pthread_mutex_unlock(&j->lock);
            break;
        }
    }
    return NULL;
}

static void *embed_thread(void *arg)
{
    (void)prctl(PR_SET_NAME, "lh-embed", 0, 0, 0);
    return embed_worker(arg);
}

static int embed_remote(lh_embedder *e, const char *const *texts, const size_t *lens,
                        size_t n, size_t dims, float *out, lh_err *err)
{
    embed_job j = {.e = e, .texts = texts, .lens = lens, .n = n, .dims = dims, .out = out};
    j.nbatches = (n + e->batch - 1) / e->batch;
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    pthread_mutex_init(&j.lock, NULL);
    size_t nthreads = j.nbatches < e->concurrency ? j.nbatches : e->concurrency;
    pthread_t tids[LH_MODEL_MAX_CONCURRENCY];
    size_t started = 0;
    /* The caller's thread is one of the workers; helpers that fail to start only lower
     * the concurrency. */
    for (size_t i = 1; i < nthreads; i++) {
        if (pthread_create(&tids[started], NULL, embed_thread, &j) != 0)
            break;
        started++;
    }
    embed_worker(&j);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&j.lock);
    if (atomic_load(&j.failed)) {
        if (err)
            *err = j.err;
        return -1;
    }
    return 0;
}

int lh_embedder_embed(lh_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                      float *out, lh_err *err)
{
    if (n == 0)
        return 0;
    if (!texts || !lens || !out)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "embed: texts, lens and out are required");
    for (size_t i = 0; i < n; i++)
        if (!texts[i] && lens[i] != 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "embed: text %zu is NULL", i);
    size_t dims = atomic_load(&e->dims);
    if (dims == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "embedder for model '%s' does not know its dimension yet "
                          "(call lh_embedder_dims first)",
                          e->model);
    if (!e->wire) {
        double t0 = lh_mono_ms();
        for (size_t i = 0; i < n; i++)
            lh_lexical_embed(texts[i], lens[i], dims, out + i * dims);
        atomic_fetch_add(&e->local_us, (long long)((lh_mono_ms() - t0) * 1000.0));
        atomic_fetch_add(&e->texts, (long long)n);
        return 0;
    }
    if (embed_remote(e, texts, lens, n, dims, out, err) != 0)
        return -1;
    atomic_fetch_add(&e->texts, (long long)n);
    return 0;
}
