/* vindex/build_run.c: the body of a "vector_index" job. The dataset is scanned in batches
 * of rows (lh_engine_vscan); each batch is chunked and embedded (or, for a vector column,
 * checked) and written as _vectors/<index>/embeddings-NNNNN.parquet, then a checkpoint
 * records the rows done and the files written, so a killed server resumes after the last
 * written batch. Then the HNSW graph is built (or, for an incremental update, the saved one
 * is loaded and the new vectors inserted) and saved as hnsw.bin, and meta.json is written
 * last: until then the index is not there for anyone. Finally the index is loaded and
 * published. */
#include <stdio.h>
#include <string.h>

#include "vindex/vindex_int.h"

typedef struct vx_build {
    lh_vindex *v;
    lh_job *job;
    const json_t *p;
    const char *name;
    lh_bucket *bucket;
    lh_chunk_opts copts;
    lh_embedder *emb;
    size_t dims;
    json_t *cp;        /* working checkpoint (owned) */
    int64_t total;     /* rows of this run's scan */
    int64_t resumed_from;
} vx_build;

/* Per-batch rows being assembled for an embeddings file. */
typedef struct rows_acc {
    size_t n, cap, dims;
    const char **ids;
    int32_t *cids;
    const char **chunks;
    size_t *lens;
    int64_t *starts, *ends;
    float *vecs;
} rows_acc;

static void acc_push(rows_acc *a, const char *id, int32_t cid, const char *chunk, size_t len,
                     int64_t start, int64_t end) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        a->ids = lh_xrealloc(a->ids, a->cap * sizeof *a->ids);
        a->cids = lh_xrealloc(a->cids, a->cap * sizeof *a->cids);
        a->chunks = lh_xrealloc(a->chunks, a->cap * sizeof *a->chunks);
        a->lens = lh_xrealloc(a->lens, a->cap * sizeof *a->lens);
        a->starts = lh_xrealloc(a->starts, a->cap * sizeof *a->starts);
        a->ends = lh_xrealloc(a->ends, a->cap * sizeof *a->ends);
        a->vecs = lh_xrealloc(a->vecs, a->cap * a->dims * sizeof *a->vecs);
    }
    size_t i = a->n++;
    a->ids[i] = id;
    a->cids[i] = cid;
    a->chunks[i] = chunk;
    a->lens[i] = len;
    a->starts[i] = start;
    a->ends[i] = end;
}

static void acc_release(rows_acc *a) {
    free(a->ids);
    free(a->cids);
    free(a->chunks);
    free(a->lens);
    free(a->starts);
    free(a->ends);
    free(a->vecs);
}

/* Drops rows whose vector is unusable (NaN, infinite, zero); returns how many. */
static size_t acc_drop_unusable(rows_acc *a) {
    size_t w = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (!lh_vec_usable(a->vecs + i * a->dims, a->dims))
            continue;
        if (w != i) {
            a->ids[w] = a->ids[i];
            a->cids[w] = a->cids[i];
            a->chunks[w] = a->chunks[i];
            a->lens[w] = a->lens[i];
            a->starts[w] = a->starts[i];
            a->ends[w] = a->ends[i];
            memmove(a->vecs + w * a->dims, a->vecs + i * a->dims, a->dims * sizeof(float));
        }
        w++;
    }
    size_t dropped = a->n - w;
    a->n = w;
    return dropped;
}

static void cp_add(json_t *cp, const char *key, int64_t d) {
    json_object_set_new(cp, key, json_integer(lh_vindex__jint(cp, key, 0) + d));
}

static void report(vx_build *B, const char *phase) {
    json_t *extra = json_pack("{s:s, s:I, s:I, s:I}", "phase", phase, "chunks",
                              (json_int_t)lh_vindex__jint(B->cp, "chunks_done", 0), "skipped",
                              (json_int_t)lh_vindex__jint(B->cp, "skipped", 0), "rows_total",
                              (json_int_t)B->total);
    if (B->resumed_from >= 0)
        json_object_set_new(extra, "resumed_from", json_integer(B->resumed_from));
    lh_job_progress(B->job, lh_vindex__jint(B->cp, "rows_done", 0), B->total, extra);
}

/* Chunks (text) or takes (vector) the batch's rows into a. */
static int collect(vx_build *B, const lh_vscan_batch *b, rows_acc *a, lh_chunk **owned,
                   size_t *nowned, lh_err *err) {
    int64_t skipped = 0;
    for (size_t r = 0; r < b->n; r++) {
        if (!b->ids[r]) {
            skipped++;
            continue;
        }
        if (!b->texts) {
            if (!b->vector_ok[r]) {
                skipped++;
                continue;
            }
            acc_push(a, b->ids[r], 0, "", 0, 0, 0);
            memcpy(a->vecs + (a->n - 1) * a->dims, b->vectors + r * b->dims,
                   a->dims * sizeof(float));
            continue;
        }
        if (!b->texts[r])
            continue;
        lh_chunk *ch = NULL;
        ssize_t nc = lh_chunk_text(b->texts[r], b->text_lens[r], &B->copts, &ch, err);
        if (nc < 0)
            return -1;
        owned[(*nowned)++] = ch;
        for (ssize_t c = 0; c < nc; c++)
            acc_push(a, b->ids[r], (int32_t)c, b->texts[r] + ch[c].start,
                     ch[c].end - ch[c].start, (int64_t)ch[c].start, (int64_t)ch[c].end);
    }
    cp_add(B->cp, "skipped", skipped);
    return 0;
}

static int on_batch(void *ctx, const lh_vscan_batch *b, lh_err *err) {
    vx_build *B = ctx;
    if (lh_job_should_stop(B->job))
        return lh_err_set(err, LH_UNAVAILABLE, "build of index '%s' stopped", B->name);
    rows_acc a = {.dims = B->dims};
    lh_chunk **owned = lh_xcalloc(b->n + 1, sizeof *owned);
    size_t nowned = 0;
    int rc = collect(B, b, &a, owned, &nowned, err);
    if (rc == 0 && B->emb && a.n > 0)
        rc = lh_embedder_embed(B->emb, a.chunks, a.lens, a.n, a.vecs, err);
    if (rc == 0)
        cp_add(B->cp, "skipped", (int64_t)acc_drop_unusable(&a));
    if (rc == 0 && a.n > 0) {
        int64_t batch = lh_vindex__jint(B->cp, "next_batch", 0);
        char file[48];
        snprintf(file, sizeof file, "embeddings-%05lld.parquet", (long long)batch);
        char *key = lh_vindex__key(B->name, file);
        lh_emb_rows er = {.n = a.n, .dims = a.dims, .doc_ids = a.ids, .chunk_ids = a.cids,
                          .chunks = a.chunks, .chunk_lens = a.lens, .starts = a.starts,
                          .ends = a.ends, .vectors = a.vecs};
        rc = lh_engine_write_embeddings(B->v->lake->engine, &er, B->bucket, key, err);
        free(key);
        if (rc == 0) {
            json_array_append_new(json_object_get(B->cp, "embeddings"), json_string(file));
            json_object_set_new(B->cp, "next_batch", json_integer(batch + 1));
        }
    }
    if (rc == 0) {
        cp_add(B->cp, "rows_done", (int64_t)b->n);
        cp_add(B->cp, "chunks_done", (int64_t)a.n);
        rc = lh_job_save_checkpoint(B->job, json_deep_copy(B->cp), err);
        report(B, B->emb ? "embedding" : "reading");
    }
    for (size_t i = 0; i < nowned; i++)
        free(owned[i]);
    free(owned);
    acc_release(&a);
    return rc;
}

/* The fields two builds must share for one to extend the other's index. */
static bool same_config(const json_t *meta, const json_t *p) {
    static const char *const keys[] = {"dataset", "id_column", "text_column", "vector_column",
                                       "provider", "model", "model_version", "dims", "metric",
                                       "chunk_size", "overlap", "unit", "M", "ef_construction"};
    const json_t *cfg = json_object_get(meta, "config");
    for (size_t i = 0; i < LH_ARRAY_LEN(keys); i++) {
        const json_t *a = json_object_get(cfg, keys[i]), *b = json_object_get(p, keys[i]);
        if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b)))
            return false;
    }
    return true;
}

static bool in_list(const json_t *arr, const char *s) {
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
        return true;
    return false;
}

/* Decides what this run does when there is no checkpoint: an incremental update of an
 * existing index of the same configuration whose files are all still live, nothing when no
 * file is new, or a full build (old files removed first). Fills B->cp. 1 = up to date. */
static int plan(vx_build *B, const lh_dataset *d, lh_err *err) {
    lh_err me = LH_ERR_INIT;
    json_t *old = lh_vindex__read_meta(B->bucket, B->name, &me);
    json_t *files = json_array(), *emb = json_array(), *old_files = json_object_get(old, "files");
    bool incr = old && same_config(old, B->p) && json_is_array(old_files);
    for (size_t i = 0; incr && i < json_array_size(old_files); i++) {
        const char *f = json_string_value(json_array_get(old_files, i));
        bool live = false;
        for (size_t k = 0; f && k < d->nfiles && !live; k++)
            live = strcmp(d->files[k].path, f) == 0;
        incr = live;
    }
    for (size_t k = 0; k < d->nfiles; k++)
        if (!incr || !in_list(old_files, d->files[k].path))
            json_array_append_new(files, json_string(d->files[k].path));
    int rc = 0;
    if (incr && json_array_size(files) == 0) {
        rc = 1;
    } else if (incr) {
        json_array_extend(emb, json_object_get(old, "embeddings"));
    } else if (old || me.code != LH_NOT_FOUND) {
        /* Another configuration, or files gone (compaction): start over. */
        lh_vindex__unpublish(B->v, B->name);
        rc = lh_vindex__delete_files(B->bucket, B->name, err);
    }
    B->cp = json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "mode",
                      incr ? "incremental" : "full", "files", files, "embeddings", emb,
                      "base_embeddings", (json_int_t)json_array_size(emb), "next_batch",
                      (json_int_t)lh_vindex__jint(old, "next_batch", 0) * incr, "rows_done",
                      (json_int_t)0, "chunks_done", (json_int_t)0, "skipped", (json_int_t)0,
                      "base_rows", (json_int_t)(incr ? lh_vindex__jint(old, "rows", 0) : 0),
                      "base_chunks", (json_int_t)(incr ? lh_vindex__jint(old, "chunks", 0) : 0),
                      "source_version", (json_int_t)d->version);
    json_object_set_new(B->cp, "old_files", incr ? json_deep_copy(old_files) : json_array());
    json_object_set_new(B->cp, "base_skipped",
                        json_integer(incr ? lh_vindex__jint(old, "skipped", 0) : 0));
    json_decref(old);
    return rc;
}

/* Removes embeddings files that no checkpoint or meta refers to (an interrupted batch
 * rewritten under the same name is already replaced; these are from cancelled runs). */
static void sweep(vx_build *B) {
    char *prefix = lh_vindex__key(B->name, "embeddings-");
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool more = false;
    lh_err err = LH_ERR_INIT;
    if (lh_bucket_list(B->bucket, prefix, LH_VX_LIST_MAX, &objs, &n, &more, &err) == 0) {
        const json_t *emb = json_object_get(B->cp, "embeddings");
        for (size_t i = 0; i < n; i++) {
            const char *file = strrchr(objs[i].key, '/') + 1;
            if (!in_list(emb, file) && lh_bucket_delete(B->bucket, objs[i].key, &err) != 0)
                LH_LOG_WARN(LH_VX_LOG, "cannot remove stale %s: %s", objs[i].key, err.message);
        }
    }
    lh_object_infos_free(objs, n);
    free(prefix);
}

static json_t *make_meta(vx_build *B, int64_t chunks, double build_ms) {
    const json_t *p = B->p;
    json_t *cfg = json_deep_copy(p);
    json_object_del(cfg, "index");
    json_object_del(cfg, "batch_rows");
    json_object_del(cfg, "url");
    char when[32];
    lh_time_iso8601(lh_now_ms(), when);
    json_t *files = json_deep_copy(json_object_get(B->cp, "old_files"));
    json_array_extend(files, json_object_get(B->cp, "files"));
    bool exact = chunks < (int64_t)B->v->cfg->vector_exact_below;
    json_t *m = json_pack(
        "{s:i, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:{s:O, s:O, s:I}, s:s, s:f, "
        "s:I, s:o, s:O, s:I, s:s, s:s, s:o}",
        "format_version", LH_VX_FORMAT, "name", B->name, "dataset", lh_vindex__jstr(p, "dataset"),
        "bucket", lh_bucket_name(B->bucket), "id_column", lh_vindex__jstr(p, "id_column"), "dims",
        (json_int_t)B->dims, "metric", lh_vindex__jstr(p, "metric"), "rows",
        (json_int_t)(lh_vindex__jint(B->cp, "base_rows", 0) +
                     lh_vindex__jint(B->cp, "rows_done", 0)),
        "chunks", (json_int_t)chunks, "skipped",
        (json_int_t)(lh_vindex__jint(B->cp, "base_skipped", 0) +
                     lh_vindex__jint(B->cp, "skipped", 0)),
        "backend", exact ? "exact" : "hnsw", "hnsw", "M", json_object_get(p, "M"),
        "ef_construction", json_object_get(p, "ef_construction"), "seed",
        (json_int_t)LH_VX_HNSW_SEED, "built_at", when, "build_ms", build_ms, "source_version",
        (json_int_t)lh_vindex__jint(B->cp, "source_version", 0), "files", files, "embeddings",
        json_object_get(B->cp, "embeddings"), "next_batch",
        (json_int_t)lh_vindex__jint(B->cp, "next_batch", 0), "state", "ready", "job_id",
        lh_job_id(B->job), "config", cfg);
    static const char *const copy[] = {"text_column", "vector_column", "provider", "model",
                                       "model_version", "url"};
    for (size_t i = 0; i < LH_ARRAY_LEN(copy); i++)
        if (json_object_get(p, copy[i]))
            json_object_set(m, copy[i], json_object_get(p, copy[i]));
    if (json_object_get(p, "chunk_size"))
        json_object_set_new(m, "chunking", json_pack("{s:O, s:O, s:O}", "size",
                                                     json_object_get(p, "chunk_size"), "overlap",
                                                     json_object_get(p, "overlap"), "unit",
                                                     json_object_get(p, "unit")));
    return m;
}

/* Graph, hnsw.bin, meta.json, publish. */
static int finish(vx_build *B, double t0, lh_err *err) {
    report(B, "graph");
    const json_t *emb = json_object_get(B->cp, "embeddings");
    size_t base = (size_t)lh_vindex__jint(B->cp, "base_embeddings", 0);
    int64_t chunks = lh_vindex__jint(B->cp, "base_chunks", 0) +
                     lh_vindex__jint(B->cp, "chunks_done", 0);
    json_t *meta = make_meta(B, chunks, 0);
    lh_hnsw *h = NULL;
    if (base > 0) {
        /* Incremental: the saved graph plus the new vectors (add copies it off the map). */
        char *key = lh_vindex__key(B->name, "hnsw.bin");
        char *path = lh_bucket_path(B->bucket, key);
        lh_err le = LH_ERR_INIT;
        h = lh_hnsw_load(path, &le);
        free(key);
        free(path);
        if (h && lh_hnsw_count(h) != (size_t)lh_vindex__jint(B->cp, "base_chunks", -1)) {
            lh_hnsw_free(h);
            h = NULL;
        }
        if (h && !lh_vindex__hnsw_from_files(B->v, B->bucket, B->name, emb, base, h, meta, err)) {
            lh_hnsw_free(h);
            json_decref(meta);
            return -1;
        }
        if (!h)
            LH_LOG_WARN(LH_VX_LOG, "saved graph unusable, building it whole index=%s: %s",
                        B->name, le.message[0] ? le.message : "node count differs");
    }
    if (!h)
        h = lh_vindex__hnsw_from_files(B->v, B->bucket, B->name, emb, 0, NULL, meta, err);
    int rc = h ? lh_vindex__save_hnsw(B->v, B->bucket, B->name, h, err) : -1;
    lh_hnsw_free(h);
    if (rc == 0) {
        json_object_set_new(meta, "build_ms", json_real(lh_mono_ms() - t0));
        char *text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *key = lh_vindex__key(B->name, "meta.json");
        rc = lh_bucket_put(B->bucket, key, text, strlen(text), err);
        free(key);
        free(text);
    }
    if (rc == 0) {
        sweep(B);
        vx_index *ix = lh_vindex__load(B->v, B->bucket, B->name, meta, err);
        if (!ix)
            rc = -1;
        else if (ix->broken.code != LH_OK) {
            *err = ix->broken;
            lh_vindex__unref(ix);
            rc = -1;
        } else {
            lh_vindex__publish(B->v, ix);
        }
    }
    json_decref(meta);
    return rc;
}

static int start(vx_build *B, const lh_dataset **dout, lh_catalog_snap *snap, lh_err *err) {
    const char *ds = lh_vindex__jstr(B->p, "dataset");
    const lh_dataset *d = lh_catalog_snap_find(snap, ds);
    if (!d)
        return lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", ds);
    B->bucket = lh_storage_bucket(B->v->lake->storage, d->bucket, err);
    if (!B->bucket)
        return -1;
    *dout = d;
    const json_t *cp = lh_job_checkpoint(B->job);
    if (cp && json_is_array(json_object_get(cp, "embeddings"))) {
        /* A resumed run: every file it was reading must still be live. */
        const json_t *files = json_object_get(cp, "files");
        bool live = json_is_array(files);
        for (size_t i = 0; live && i < json_array_size(files); i++) {
            const char *f = json_string_value(json_array_get(files, i));
            live = false;
            for (size_t k = 0; f && k < d->nfiles && !live; k++)
                live = strcmp(d->files[k].path, f) == 0;
        }
        if (live) {
            B->cp = json_deep_copy(cp);
            B->resumed_from = lh_vindex__jint(cp, "rows_done", 0);
            LH_LOG_INFO(LH_VX_LOG, "index build resumed index=%s job=%s rows_done=%lld",
                        B->name, lh_job_id(B->job), (long long)B->resumed_from);
            return 0;
        }
        LH_LOG_WARN(LH_VX_LOG, "dataset changed since the checkpoint; restarting index=%s",
                    B->name);
    }
    return plan(B, d, err);
}

int lh_vindex__build_job(lh_job *job, void *ctx, lh_err *err) {
    vx_build B = {.v = ctx, .job = job, .p = lh_job_params(job), .resumed_from = -1};
    B.name = lh_vindex__jstr(B.p, "index");
    if (!B.name || !lh_name_valid(B.name))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "job params lack a valid index name");
    if (lh_vindex__mark_building(B.v, B.name, err) != 0)
        return -1;
    double t0 = lh_mono_ms();
    lh_catalog_snap *snap = lh_catalog_snapshot(B.v->lake->catalog);
    const lh_dataset *d = NULL;
    json_t *result = NULL;
    int rc = start(&B, &d, snap, err);
    lh_vscan_opts o = {.dataset = lh_vindex__jstr(B.p, "dataset"),
                       .id_column = lh_vindex__jstr(B.p, "id_column"),
                       .text_column = lh_vindex__jstr(B.p, "text_column"),
                       .vector_column = lh_vindex__jstr(B.p, "vector_column"),
                       .batch_rows = (size_t)lh_vindex__jint(B.p, "batch_rows", 256)};
    const char **files = NULL;
    if (rc == 0) {
        const json_t *fl = json_object_get(B.cp, "files");
        o.nfiles = json_array_size(fl);
        files = lh_xcalloc(o.nfiles + 1, sizeof *files);
        for (size_t i = 0; i < o.nfiles; i++)
            files[i] = json_string_value(json_array_get(fl, i));
        o.files = files;
        o.skip_rows = lh_vindex__jint(B.cp, "rows_done", 0);
        if (o.text_column) {
            B.copts.size = (size_t)lh_vindex__jint(B.p, "chunk_size", 800);
            B.copts.overlap = (size_t)lh_vindex__jint(B.p, "overlap", 0);
            const char *unit = lh_vindex__jstr(B.p, "unit");
            B.copts.unit = unit && strcmp(unit, "tokens") == 0 ? LH_CHUNK_TOKENS : LH_CHUNK_CHARS;
            B.emb = lh_vindex__embedder(B.v, B.p, err);
            B.dims = B.emb ? lh_embedder_dims(B.emb, err) : 0;
            rc = B.dims > 0 ? 0 : -1;
        }
    }
    if (rc == 0)
        rc = lh_engine_vscan_stats(B.v->lake->engine, &o, &B.total, o.vector_column ? &B.dims
                                                                                     : NULL, err);
    if (rc == 0 && o.vector_column && B.dims == 0 && B.total > 0)
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "column '%s' holds no vectors",
                        o.vector_column);
    if (rc == 0 && B.dims > 0 && lh_vindex__jint(B.cp, "dims", 0) == 0)
        json_object_set_new(B.cp, "dims", json_integer((json_int_t)B.dims));
    if (rc == 0 && B.dims == 0)
        B.dims = (size_t)lh_vindex__jint(B.cp, "dims", 0);
    if (rc == 0)
        rc = lh_job_save_checkpoint(job, json_deep_copy(B.cp), err);
    if (rc == 0) {
        report(&B, "reading");
        rc = lh_engine_vscan(B.v->lake->engine, &o, on_batch, &B, err);
    }
    if (rc == 0 && B.dims == 0)
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s' has no rows to index", o.dataset);
    if (rc == 0)
        rc = finish(&B, t0, err);
    if (rc == 0) {
        result = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:f}", "index", B.name, "mode",
                           lh_vindex__jstr(B.cp, "mode"), "rows",
                           (json_int_t)(lh_vindex__jint(B.cp, "base_rows", 0) +
                                        lh_vindex__jint(B.cp, "rows_done", 0)),
                           "chunks", (json_int_t)(lh_vindex__jint(B.cp, "base_chunks", 0) +
                                                  lh_vindex__jint(B.cp, "chunks_done", 0)),
                           "new_rows", (json_int_t)lh_vindex__jint(B.cp, "rows_done", 0),
                           "new_chunks", (json_int_t)lh_vindex__jint(B.cp, "chunks_done", 0),
                           "build_ms", lh_mono_ms() - t0);
        json_object_set_new(result, "resumed_from", B.resumed_from >= 0
                                                        ? json_integer(B.resumed_from)
                                                        : json_null());
        json_object_set_new(result, "skipped", json_integer(lh_vindex__jint(B.cp, "skipped", 0)));
        lh_job_set_result(job, result);
        LH_LOG_INFO(LH_VX_LOG, "index built index=%s mode=%s ms=%.0f", B.name,
                    lh_vindex__jstr(B.cp, "mode"), lh_mono_ms() - t0);
    } else if (rc == 1) {
        rc = 0;
        lh_job_set_result(job, json_pack("{s:s, s:s, s:I, s:I}", "index", B.name, "mode",
                                         "up_to_date", "new_rows", (json_int_t)0, "new_chunks",
                                         (json_int_t)0));
    }
    free(files);
    lh_embedder_close(B.emb);
    json_decref(B.cp);
    lh_catalog_snap_unref(snap);
    lh_vindex__clear_building(B.v, B.name);
    return rc;
}
