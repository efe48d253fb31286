/* vindex/search.c: search over a published index, for POST /vectors/search, the CLI and the
 * vector_search SQL table function. A text query is embedded with the index's own embedder;
 * a vector query is checked (dims, finite, non-zero). HNSW answers unless the request asks
 * for exact search or the index is small (backend "exact"), in which case every stored
 * vector is compared. Hits carry the doc id, chunk id, user-facing score and snippet. */
#include <math.h>
#include <string.h>

#include "vindex/vindex_int.h"

typedef struct vx_query {
    const char *index;
    const char *text; /* or NULL */
    size_t text_len;
    const float *vec; /* or NULL */
    size_t vec_dims;
    size_t k;
    int ef;           /* <= 0: configured default */
    bool exact;
} vx_query;

/* Exact search: the multi-threaded SIMD scan over the graph's own vectors (normalised for
 * cosine, like q), one thread per core. */
static size_t exact_scan(const vx_index *ix, const float *q, size_t k, lh_hit *out) {
    return lh_hnsw_exact_search(ix->h, q, k, 0, out);
}

/* The query vector (owned) of q against ix. */
static float *query_vector(const vx_index *ix, const vx_query *q, lh_err *err) {
    float *v = lh_try_alloc(ix->dims * sizeof(float));
    if (!v) {
        lh_err_set(err, LH_TOO_LARGE, "not enough memory for a %zu-dimension query", ix->dims);
        return NULL;
    }
    if (q->vec) {
        if (q->vec_dims != ix->dims) {
            lh_err_set(err, LH_INVALID_ARGUMENT, "'vector' has %zu dimensions; index '%s' has %zu",
                       q->vec_dims, ix->name, ix->dims);
            goto fail;
        }
        memcpy(v, q->vec, ix->dims * sizeof(float));
        if (!lh_vec_usable(v, ix->dims)) {
            lh_err_set(err, LH_INVALID_ARGUMENT,
                       "'vector' must be finite and not all zeros (NaN, infinity or a zero "
                       "vector cannot be searched)");
            goto fail;
        }
    } else {
        if (!ix->emb) {
            lh_err_set(err, LH_INVALID_ARGUMENT, "index '%s' was built from the vector column "
                       "'%s': search it with 'vector', not query text", ix->name,
                       lh_vindex__jstr(ix->meta, "vector_column"));
            goto fail;
        }
        const char *texts[1] = {q->text};
        size_t lens[1] = {q->text_len};
        if (lh_embedder_embed(ix->emb, texts, lens, 1, v, err) != 0) {
            lh_err_prefix(err, "embedding the query: ");
            goto fail;
        }
        if (!lh_vec_usable(v, ix->dims)) {
            lh_err_set(err, LH_INVALID_ARGUMENT, "the query text has nothing to search for "
                       "(no words the embedder can use)");
            goto fail;
        }
    }
    if (ix->metric == LH_METRIC_COSINE)
        lh_vec_normalize(v, ix->dims);
    return v;
fail:
    free(v);
    return NULL;
}

/* Ceiling on extra hits fetched to make up for soft-deleted ones. */
#define TOMB_OVERFETCH_MAX 1000

static int key_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the source row of hit id is soft-deleted: the dataset's tombstones use the index's
 * id column (keys compared as text, like the dataset's view does). */
static bool tombstoned(const vx_index *ix, const lh_tombstones *t, uint32_t id) {
    const char *doc = ix->doc_ids[id];
    return t && bsearch(&doc, t->keys, t->nkeys, sizeof *t->keys, key_cmp) != NULL;
}

/* Runs q; fills hits (k entries, caller's) and returns the count, or -1. Hits whose source
 * row was soft-deleted after the build are left out (more are fetched to make up for them),
 * so a tombstone hides a row from search as it does from SQL, at once. */
static ssize_t run(lh_vindex *v, vx_index *ix, const vx_query *q, lh_hit *hits, int *ef_used,
                   double *embed_ms, lh_err *err) {
    if (ix->broken.code != LH_OK) {
        *err = ix->broken;
        return -1;
    }
    double t0 = lh_mono_ms();
    float *qv = query_vector(ix, q, err);
    if (!qv)
        return -1;
    if (embed_ms) /* the part of a search spent embedding its text (RAG timings) */
        *embed_ms = q->text ? lh_mono_ms() - t0 : 0;
    lh_catalog_snap *s = lh_catalog_snapshot(v->lake->catalog);
    const lh_tombstones *t =
        lh_catalog_snap_tombstones(s, lh_vindex__jstr(ix->meta, "dataset"));
    const char *idcol = lh_vindex__jstr(ix->meta, "id_column");
    if (t && (!idcol || strcmp(t->column, idcol) != 0))
        t = NULL; /* keyed on another column: the rows cannot be told from the index */
    size_t extra = t ? (t->nkeys < TOMB_OVERFETCH_MAX ? t->nkeys : TOMB_OVERFETCH_MAX) : 0;
    size_t fetch = q->k + extra;
    lh_hit *all = extra ? lh_xmalloc(fetch * sizeof *all) : hits;
    size_t n;
    *ef_used = 0;
    if (q->exact || ix->exact) {
        n = exact_scan(ix, qv, fetch, all);
    } else {
        int ef = q->ef > 0 ? q->ef : v->cfg->vector_ef_search;
        if (ef < (int)fetch)
            ef = (int)fetch;
        *ef_used = ef;
        n = lh_hnsw_search(ix->h, qv, fetch, ef, all);
    }
    if (extra) {
        size_t kept = 0;
        for (size_t i = 0; i < n && kept < q->k; i++)
            if (all[i].id < ix->n && !tombstoned(ix, t, all[i].id))
                hits[kept++] = all[i];
        n = kept;
        free(all);
    }
    lh_catalog_snap_unref(s);
    free(qv);
    return (ssize_t)n;
}

static vx_index *find_index(lh_vindex *v, const char *name, lh_err *err) {
    vx_index *ix = name && *name ? lh_vindex__find(v, name) : NULL;
    if (!ix)
        lh_err_set(err, LH_NOT_FOUND, "index '%s' not found", name ? name : "");
    return ix;
}

static int check_query(const vx_query *q, lh_err *err) {
    if (q->k < 1 || q->k > LH_VINDEX_K_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'k' must be from 1 to %d", LH_VINDEX_K_MAX);
    if (q->text) {
        size_t i = 0;
        while (i < q->text_len && (q->text[i] == ' ' || q->text[i] == '\t' ||
                                   q->text[i] == '\n' || q->text[i] == '\r'))
            i++;
        if (i == q->text_len)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "'query' must not be empty");
        if (q->text_len > LH_VINDEX_QUERY_MAX)
            return lh_err_set(err, LH_TOO_LARGE, "'query' is longer than %d bytes",
                              LH_VINDEX_QUERY_MAX);
    }
    return 0;
}

/* Parses "vector" into an owned float array. */
static float *parse_vector(const json_t *arr, size_t *n, lh_err *err) {
    *n = json_array_size(arr);
    if (*n == 0 || *n > 65536) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'vector' must hold 1 to 65536 numbers");
        return NULL;
    }
    float *v = lh_xmalloc(*n * sizeof *v);
    for (size_t i = 0; i < *n; i++) {
        const json_t *x = json_array_get(arr, i);
        if (!json_is_number(x)) {
            free(v);
            lh_err_set(err, LH_INVALID_ARGUMENT, "'vector[%zu]' is not a number", i);
            return NULL;
        }
        v[i] = (float)json_number_value(x);
    }
    return v;
}

json_t *lh_vindex_search(lh_vindex *v, const json_t *req, lh_err *err) {
    if (!json_is_object(req)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "the body must be a JSON object");
        return NULL;
    }
    vx_query q = {0};
    int64_t k = 10, ef = 0;
    q.index = lh_json_str(req, "index", true, err);
    if (!q.index) {
        if (err->code == LH_OK)
            lh_err_set(err, LH_INVALID_ARGUMENT, "'index' is required");
        return NULL;
    }
    const json_t *text = json_object_get(req, "query"), *vec = json_object_get(req, "vector");
    const json_t *exact = json_object_get(req, "exact");
    if (lh_json_int(req, "k", false, 10, &k, err) != 0 ||
        lh_json_int(req, "ef_search", false, 0, &ef, err) != 0)
        return NULL;
    if ((text && !json_is_null(text)) == (vec && !json_is_null(vec))) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "give exactly one of 'query' (text) and 'vector'");
        return NULL;
    }
    if (text && !json_is_null(text) && !json_is_string(text)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'query' must be a string");
        return NULL;
    }
    if (vec && !json_is_null(vec) && !json_is_array(vec)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'vector' must be an array of numbers");
        return NULL;
    }
    if (exact && !json_is_boolean(exact)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'exact' must be true or false");
        return NULL;
    }
    if (ef < 0 || ef > LH_VINDEX_EF_MAX) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'ef_search' must be from 1 to %d",
                   LH_VINDEX_EF_MAX);
        return NULL;
    }
    q.k = k < 1 || k > LH_VINDEX_K_MAX ? 0 : (size_t)k;
    q.ef = (int)ef;
    q.exact = json_is_true(exact);
    float *qv = NULL;
    if (json_is_string(text)) {
        q.text = json_string_value(text);
        q.text_len = json_string_length(text);
    } else if (!(qv = parse_vector(vec, &q.vec_dims, err))) {
        return NULL;
    }
    q.vec = qv;
    json_t *out = NULL;
    lh_hit *hits = NULL;
    vx_index *ix = NULL;
    if (check_query(&q, err) != 0 || !(ix = find_index(v, q.index, err)))
        goto done;
    hits = lh_xmalloc(q.k * sizeof *hits);
    double t0 = lh_mono_ms();
    int ef_used = 0;
    double embed_ms = 0;
    ssize_t n = run(v, ix, &q, hits, &ef_used, &embed_ms, err);
    if (n < 0)
        goto done;
    json_t *arr = json_array();
    for (ssize_t i = 0; i < n; i++) {
        uint32_t id = hits[i].id;
        if (id >= ix->n)
            continue; /* cannot happen with a checked graph; never index past the rows */
        json_array_append_new(arr, json_pack("{s:s, s:i, s:f, s:s, s:i}", "doc_id",
                                             ix->doc_ids[id], "chunk_id", ix->chunk_ids[id],
                                             "score", (double)lh_metric_score(ix->metric,
                                                                              hits[i].dist),
                                             "snippet", ix->snippets[id], "rank", (int)i + 1));
    }
    out = json_pack("{s:s, s:I, s:b, s:s, s:f, s:o}", "index", ix->name, "k", (json_int_t)q.k,
                    "exact", q.exact || ix->exact, "backend", ix->exact ? "exact" : "hnsw",
                    "took_ms", lh_mono_ms() - t0, "hits", arr);
    if (ef_used > 0)
        json_object_set_new(out, "ef_search", json_integer(ef_used));
    json_object_set_new(out, "embed_ms", json_real(embed_ms));
done:
    free(hits);
    free(qv);
    lh_vindex__unref(ix);
    return out;
}

int lh_vindex__sql_search(void *ctx, const char *index, const char *query, int k,
                          lh_vector_hit **hits_out, size_t *n_out, lh_err *err) {
    lh_vindex *v = ctx;
    vx_query q = {.index = index, .text = query, .text_len = strlen(query), .k = (size_t)k};
    if (check_query(&q, err) != 0)
        return -1;
    vx_index *ix = find_index(v, index, err);
    if (!ix)
        return -1;
    lh_hit *hits = lh_xmalloc(q.k * sizeof *hits);
    int ef_used;
    ssize_t n = run(v, ix, &q, hits, &ef_used, NULL, err);
    int rc = n < 0 ? -1 : 0;
    if (rc == 0) {
        lh_vector_hit *out = lh_xcalloc((size_t)n + 1, sizeof *out);
        size_t m = 0;
        for (ssize_t i = 0; i < n; i++) {
            uint32_t id = hits[i].id;
            if (id >= ix->n)
                continue;
            out[m].doc_id = lh_xstrdup(ix->doc_ids[id]);
            out[m].chunk_id = ix->chunk_ids[id];
            out[m].score = lh_metric_score(ix->metric, hits[i].dist);
            out[m].snippet = lh_xstrdup(ix->snippets[id]);
            m++;
        }
        *hits_out = out;
        *n_out = m;
    }
    free(hits);
    lh_vindex__unref(ix);
    return rc;
}
