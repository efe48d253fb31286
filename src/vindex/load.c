/* vindex/load.c: turns an index's files into a searchable handle. hnsw.bin is mapped with
 * lh_hnsw_load (which checks magic, version, sizes, checksum and link bounds) and then held
 * against the embeddings it must match (count, dims, metric); a file that fails any check
 * is rebuilt from the embeddings Parquet files and saved again, and if even that fails the
 * handle is published broken, so searches answer corrupt instead of a wrong result. */
#include <string.h>
#include <unistd.h>

#include "vindex/vindex_int.h"

lh_embedder *lh_vindex__embedder(lh_vindex *v, const json_t *desc, lh_err *err) {
    lh_embedder_opts o = {0};
    const char *prov = lh_vindex__jstr(desc, "provider");
    if (lh_provider_parse(prov ? prov : "lexical", &o.provider, err) != 0)
        return NULL;
    const char *url = lh_vindex__jstr(desc, "url");
    o.model = lh_vindex__jstr(desc, "model");
    o.url = url && *url ? url : NULL;
    o.api_key = v->cfg->embed_api_key && *v->cfg->embed_api_key ? v->cfg->embed_api_key : NULL;
    o.dims = (size_t)lh_vindex__jint(desc, "dims", 0);
    o.batch = v->cfg->embed_batch;
    o.concurrency = v->cfg->embed_concurrency;
    return lh_embedder_open(&o, err);
}

int lh_vindex__save_hnsw(lh_vindex *v, lh_bucket *b, const char *name, const lh_hnsw *h,
                         lh_err *err) {
    char *scratch = lh_storage_scratch_path(v->lake->storage, ".hnsw");
    char *key = lh_vindex__key(name, "hnsw.bin");
    int rc = lh_hnsw_save(h, scratch, err);
    if (rc == 0)
        rc = lh_bucket_adopt_file(b, key, scratch, err);
    if (rc != 0)
        (void)unlink(scratch); /* may be gone already; nothing refers to it */
    free(scratch);
    free(key);
    return rc;
}

static int hnsw_params(const json_t *meta, lh_hnsw_params *p, lh_err *err) {
    memset(p, 0, sizeof *p);
    const json_t *hp = json_object_get(meta, "hnsw");
    p->M = (int)lh_vindex__jint(hp, "M", 16);
    p->ef_construction = (int)lh_vindex__jint(hp, "ef_construction", 200);
    p->seed = (uint64_t)lh_vindex__jint(hp, "seed", (int64_t)LH_VX_HNSW_SEED);
    const char *m = lh_vindex__jstr(meta, "metric");
    return lh_metric_parse(m ? m : "cosine", &p->metric, err);
}

lh_hnsw *lh_vindex__hnsw_from_files(lh_vindex *v, lh_bucket *b, const char *name,
                                    const json_t *emb, size_t from, lh_hnsw *into,
                                    const json_t *meta, lh_err *err) {
    lh_hnsw_params p;
    if (hnsw_params(meta, &p, err) != 0)
        return NULL;
    size_t dims = (size_t)lh_vindex__jint(meta, "dims", 0);
    lh_hnsw *h = into ? into : lh_hnsw_new(dims, &p, err);
    if (!h)
        return NULL;
    for (size_t i = from; i < json_array_size(emb); i++) {
        const char *file = json_string_value(json_array_get(emb, i));
        char *key = file ? lh_vindex__key(name, file) : NULL;
        lh_emb_data d;
        int rc = key ? lh_engine_read_embeddings(v->lake->engine, b, key, 0, true, &d, err)
                     : lh_err_set(err, LH_CORRUPT, "meta.json: bad embeddings entry %zu", i);
        free(key);
        if (rc == 0 && d.dims != dims)
            rc = lh_err_set(err, LH_CORRUPT, "embeddings file '%s' has %zu dims, the index %zu",
                            file, d.dims, dims);
        if (rc == 0 && d.n > 0)
            rc = lh_hnsw_add_batch(h, d.vectors, d.n, 0, err);
        lh_emb_data_release(&d);
        if (rc != 0) {
            if (!into)
                lh_hnsw_free(h);
            return NULL;
        }
    }
    return h;
}

/* Reads doc ids, chunk ids and snippets of every embeddings file into ix. */
static int load_rows(lh_vindex *v, vx_index *ix, const json_t *emb, lh_err *err) {
    size_t cap = 0;
    for (size_t i = 0; i < json_array_size(emb); i++) {
        const char *file = json_string_value(json_array_get(emb, i));
        if (!file)
            return lh_err_set(err, LH_CORRUPT, "meta.json: bad embeddings entry %zu", i);
        char *key = lh_vindex__key(ix->name, file);
        lh_emb_data d;
        int rc = lh_engine_read_embeddings(v->lake->engine, ix->bucket, key,
                                           LH_VINDEX_SNIPPET_MAX, false, &d, err);
        free(key);
        if (rc != 0)
            return -1;
        if (ix->n + d.n > cap) {
            cap = (ix->n + d.n) * 2;
            ix->doc_ids = lh_xrealloc(ix->doc_ids, cap * sizeof *ix->doc_ids);
            ix->chunk_ids = lh_xrealloc(ix->chunk_ids, cap * sizeof *ix->chunk_ids);
            ix->snippets = lh_xrealloc(ix->snippets, cap * sizeof *ix->snippets);
        }
        /* The strings move into the index; d keeps only its arrays to free. */
        memcpy(ix->doc_ids + ix->n, d.doc_ids, d.n * sizeof *d.doc_ids);
        memcpy(ix->chunk_ids + ix->n, d.chunk_ids, d.n * sizeof *d.chunk_ids);
        memcpy(ix->snippets + ix->n, d.snippets, d.n * sizeof *d.snippets);
        ix->n += d.n;
        d.n = 0;
        lh_emb_data_release(&d);
    }
    return 0;
}

/* Why a mapped hnsw.bin does not belong to these embeddings, or NULL when it does. */
static const char *hnsw_mismatch(const vx_index *ix, const lh_hnsw *h) {
    if (lh_hnsw_count(h) != ix->n)
        return "node count differs from the embeddings";
    if (lh_hnsw_dim(h) != ix->dims)
        return "dimensions differ from meta.json";
    if (lh_hnsw_get_params(h).metric != ix->metric)
        return "metric differs from meta.json";
    return NULL;
}

/* Maps hnsw.bin, or rebuilds and saves it. Fills ix->broken when neither works. */
static void attach_hnsw(lh_vindex *v, vx_index *ix, const json_t *emb) {
    char *key = lh_vindex__key(ix->name, "hnsw.bin");
    char *path = lh_bucket_path(ix->bucket, key);
    free(key);
    lh_err e = LH_ERR_INIT;
    lh_hnsw *h = lh_hnsw_load(path, &e);
    free(path);
    const char *why = h ? hnsw_mismatch(ix, h) : e.message;
    if (h && !why) {
        ix->h = h;
        return;
    }
    LH_LOG_WARN(LH_VX_LOG, "hnsw.bin unusable, rebuilding from embeddings index=%s: %s",
                ix->name, why);
    lh_hnsw_free(h);
    lh_err re = LH_ERR_INIT;
    h = lh_vindex__hnsw_from_files(v, ix->bucket, ix->name, emb, 0, NULL, ix->meta, &re);
    if (h && (why = hnsw_mismatch(ix, h)) != NULL) {
        lh_err_set(&re, LH_CORRUPT, "rebuilt graph does not match: %s", why);
        lh_hnsw_free(h);
        h = NULL;
    }
    if (!h) {
        lh_err_set(&ix->broken, LH_CORRUPT,
                   "index '%s' is corrupt: hnsw.bin failed its checks and could not be rebuilt "
                   "from the embeddings (%s); rebuild it with POST /vectors/index", ix->name,
                   re.message);
        return;
    }
    if (lh_vindex__save_hnsw(v, ix->bucket, ix->name, h, &re) != 0)
        LH_LOG_WARN(LH_VX_LOG, "rebuilt hnsw.bin not saved index=%s: %s", ix->name, re.message);
    else
        LH_LOG_INFO(LH_VX_LOG, "hnsw.bin rebuilt index=%s nodes=%zu", ix->name,
                    lh_hnsw_count(h));
    ix->h = h;
}

vx_index *lh_vindex__load(lh_vindex *v, lh_bucket *b, const char *name, const json_t *meta,
                          lh_err *err) {
    lh_metric metric;
    const char *m = lh_vindex__jstr(meta, "metric");
    int64_t dims = lh_vindex__jint(meta, "dims", 0);
    const json_t *emb = json_object_get(meta, "embeddings");
    if (lh_metric_parse(m ? m : "", &metric, err) != 0 || dims <= 0 || dims > 65536 ||
        !json_is_array(emb)) {
        lh_err_set(err, LH_CORRUPT, "meta.json of index '%s' lacks metric, dims or embeddings",
                   name);
        return NULL;
    }
    vx_index *ix = lh_xcalloc(1, sizeof *ix);
    atomic_init(&ix->refs, 1);
    ix->name = lh_xstrdup(name);
    ix->bucket = b;
    ix->meta = json_deep_copy(meta);
    ix->metric = metric;
    ix->dims = (size_t)dims;
    const char *backend = lh_vindex__jstr(meta, "backend");
    ix->exact = backend && strcmp(backend, "exact") == 0;
    lh_err e = LH_ERR_INIT;
    if (load_rows(v, ix, emb, &e) != 0) {
        lh_err_set(&ix->broken, LH_CORRUPT, "index '%s' is corrupt: %s", name, e.message);
        return ix;
    }
    int64_t chunks = lh_vindex__jint(meta, "chunks", -1);
    if (chunks != (int64_t)ix->n) {
        lh_err_set(&ix->broken, LH_CORRUPT, "index '%s' is corrupt: meta.json counts %lld "
                   "chunks, the embeddings hold %zu", name, (long long)chunks, ix->n);
        return ix;
    }
    attach_hnsw(v, ix, emb);
    if (ix->broken.code == LH_OK && lh_vindex__jstr(meta, "text_column")) {
        ix->emb = lh_vindex__embedder(v, meta, &e);
        if (!ix->emb)
            lh_err_set(&ix->broken, e.code, "index '%s': cannot open its embedder: %s", name,
                       e.message);
    }
    return ix;
}
