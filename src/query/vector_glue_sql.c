/* query/vector_glue_sql.c: the vector_search(index, query, k) table function. DuckDB calls
 * it on any connection (user SQL included); its rows come from a provider function that
 * vindex installs with lh_engine_set_vector_search, so the search code never sees duckdb.h
 * and the engine never calls upward. The search runs at bind time: errors (unknown index,
 * bad k, empty query) then fail the statement before any row, with a clear message. */
#include <pthread.h>
#include <string.h>

#include "query/query_int.h"

#define VS_FN "vector_search"
#define VS_K_MAX 10000

/* The provider slot; DuckDB owns it as the function's extra info. lock is held shared by
 * searches in flight and exclusively by a provider change, so a provider can be removed and
 * its context freed without racing a search. */
struct lh_vglue {
    pthread_rwlock_t lock;
    lh_vector_search_fn fn;
    void *ctx;
};

typedef struct vs_bind {
    lh_vector_hit *hits;
    size_t n;
} vs_bind;

typedef struct vs_state {
    size_t pos;
} vs_state;

void lh_vector_hits_free(lh_vector_hit *hits, size_t n) {
    for (size_t i = 0; hits && i < n; i++) {
        free(hits[i].doc_id);
        free(hits[i].snippet);
    }
    free(hits);
}

static void glue_free(void *p) {
    struct lh_vglue *g = p;
    pthread_rwlock_destroy(&g->lock);
    free(g);
}

static void bind_free(void *p) {
    vs_bind *b = p;
    lh_vector_hits_free(b->hits, b->n);
    free(b);
}

/* The text of parameter i, or NULL when it is NULL. Owned (free()). */
static char *param_text(duckdb_bind_info info, idx_t i) {
    duckdb_value v = duckdb_bind_get_parameter(info, i);
    char *out = NULL;
    if (v && !duckdb_is_null_value(v)) {
        char *s = duckdb_get_varchar(v);
        out = lh_xstrdup(s ? s : "");
        duckdb_free(s);
    }
    duckdb_destroy_value(&v);
    return out;
}

static void add_col(duckdb_bind_info info, const char *name, duckdb_type t) {
    duckdb_logical_type lt = duckdb_create_logical_type(t);
    duckdb_bind_add_result_column(info, name, lt);
    duckdb_destroy_logical_type(&lt);
}

static void vs_bind_fn(duckdb_bind_info info) {
    struct lh_vglue *g = duckdb_bind_get_extra_info(info);
    char *index = param_text(info, 0), *query = param_text(info, 1);
    duckdb_value kv = duckdb_bind_get_parameter(info, 2);
    bool k_null = !kv || duckdb_is_null_value(kv);
    int64_t k = k_null ? 0 : duckdb_get_int64(kv);
    duckdb_destroy_value(&kv);
    lh_err err = LH_ERR_INIT;
    vs_bind *b = lh_xcalloc(1, sizeof *b);
    const char *q = query ? query : "";
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
        q++;
    if (!index || !*index)
        lh_err_set(&err, LH_INVALID_ARGUMENT, "vector_search: the index name is required");
    else if (!*q)
        lh_err_set(&err, LH_INVALID_ARGUMENT, "vector_search: the query text is empty");
    else if (k_null || k <= 0 || k > VS_K_MAX)
        lh_err_set(&err, LH_INVALID_ARGUMENT, "vector_search: k must be from 1 to %d", VS_K_MAX);
    if (err.code == LH_OK) {
        pthread_rwlock_rdlock(&g->lock);
        if (!g->fn)
            lh_err_set(&err, LH_UNAVAILABLE, "vector_search: vector search is not available");
        else if (g->fn(g->ctx, index, query, (int)k, &b->hits, &b->n, &err) != 0 &&
                 err.code == LH_OK)
            lh_err_set(&err, LH_INTERNAL, "vector_search failed");
        pthread_rwlock_unlock(&g->lock);
    }
    free(index);
    free(query);
    if (err.code != LH_OK) {
        bind_free(b);
        duckdb_bind_set_error(info, err.message);
        return;
    }
    add_col(info, "doc_id", DUCKDB_TYPE_VARCHAR);
    add_col(info, "chunk_id", DUCKDB_TYPE_INTEGER);
    add_col(info, "score", DUCKDB_TYPE_FLOAT);
    add_col(info, "rank", DUCKDB_TYPE_INTEGER);
    add_col(info, "snippet", DUCKDB_TYPE_VARCHAR);
    duckdb_bind_set_cardinality(info, b->n, true);
    duckdb_bind_set_bind_data(info, b, bind_free);
}

static void vs_init_fn(duckdb_init_info info) {
    duckdb_init_set_init_data(info, lh_xcalloc(1, sizeof(vs_state)), free);
    duckdb_init_set_max_threads(info, 1);
}

static void vs_fn(duckdb_function_info info, duckdb_data_chunk out) {
    vs_bind *b = duckdb_function_get_bind_data(info);
    vs_state *st = duckdb_function_get_init_data(info);
    idx_t cap = duckdb_vector_size(), k = 0;
    duckdb_vector v[5];
    for (idx_t c = 0; c < 5; c++)
        v[c] = duckdb_data_chunk_get_vector(out, c);
    int32_t *cid = duckdb_vector_get_data(v[1]), *rank = duckdb_vector_get_data(v[3]);
    float *score = duckdb_vector_get_data(v[2]);
    for (; st->pos < b->n && k < cap; st->pos++, k++) {
        const lh_vector_hit *h = &b->hits[st->pos];
        duckdb_vector_assign_string_element_len(v[0], k, h->doc_id, strlen(h->doc_id));
        cid[k] = h->chunk_id;
        score[k] = h->score;
        rank[k] = (int32_t)st->pos + 1;
        const char *sn = h->snippet ? h->snippet : "";
        duckdb_vector_assign_string_element_len(v[4], k, sn, strlen(sn));
    }
    duckdb_data_chunk_set_size(out, k);
}

/* Registers vector_search on the database (through the view connection, under its mutex);
 * the function lives in the system catalog, so every connection sees it. */
static int vs_register(lh_engine *e, lh_err *err) {
    struct lh_vglue *g = lh_xcalloc(1, sizeof *g);
    pthread_rwlock_init(&g->lock, NULL);
    duckdb_table_function f = duckdb_create_table_function();
    duckdb_table_function_set_name(f, VS_FN);
    duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    duckdb_logical_type it = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    duckdb_table_function_add_parameter(f, vt);
    duckdb_table_function_add_parameter(f, vt);
    duckdb_table_function_add_parameter(f, it);
    duckdb_destroy_logical_type(&vt);
    duckdb_destroy_logical_type(&it);
    duckdb_table_function_set_extra_info(f, g, glue_free);
    duckdb_table_function_set_bind(f, vs_bind_fn);
    duckdb_table_function_set_init(f, vs_init_fn);
    duckdb_table_function_set_function(f, vs_fn);
    int rc = 0;
    if (duckdb_register_table_function(e->views_con, f) == DuckDBError)
        rc = lh_err_set(err, LH_INTERNAL, "cannot register the %s table function", VS_FN);
    else
        e->vglue = g;
    /* The extra info is shared with the catalog's copy on success; on failure destroying
     * the function frees it (glue_free), so it is never freed here. */
    duckdb_destroy_table_function(&f);
    return rc;
}

int lh_engine_set_vector_search(lh_engine *e, lh_vector_search_fn fn, void *ctx, lh_err *err) {
    pthread_mutex_lock(&e->views_mu);
    int rc = e->vglue ? 0 : vs_register(e, err);
    struct lh_vglue *g = e->vglue;
    pthread_mutex_unlock(&e->views_mu);
    if (rc != 0)
        return -1;
    pthread_rwlock_wrlock(&g->lock);
    g->fn = fn;
    g->ctx = ctx;
    pthread_rwlock_unlock(&g->lock);
    return 0;
}
