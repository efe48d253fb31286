/* vindex/registry.c: the index registry. At open every data bucket's _vectors/<name>/meta.json
 * is read and its index loaded (load.c); builds publish new handles here when they finish.
 * Handles are immutable and refcounted: a search keeps the one it took even if a build swaps
 * in a newer one meanwhile. Also list / get / drop and the open and close of the service. */
#include <stdio.h>
#include <string.h>

#include "vindex/vindex_int.h"

#define VECTORS_PREFIX "_vectors/"

const char *lh_vindex__jstr(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t lh_vindex__jint(const json_t *o, const char *key, int64_t def) {
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

char *lh_vindex__key(const char *index, const char *file) {
    return lh_xasprintf(VECTORS_PREFIX "%s/%s", index, file);
}

json_t *lh_vindex__read_meta(lh_bucket *b, const char *name, lh_err *err) {
    char *key = lh_vindex__key(name, "meta.json");
    size_t len;
    char *text = lh_bucket_read_all(b, key, LH_VX_META_MAX, &len, err);
    free(key);
    if (!text)
        return NULL;
    lh_err perr = LH_ERR_INIT;
    json_t *meta = lh_json_parse(text, len, &perr);
    free(text);
    if (!meta || !json_is_object(meta) || !lh_vindex__jstr(meta, "name")) {
        json_decref(meta);
        lh_err_set(err, LH_CORRUPT, "meta.json of index '%s' is not readable%s%s", name,
                   perr.code ? ": " : "", perr.code ? perr.message : "");
        return NULL;
    }
    return meta;
}

int lh_vindex__delete_files(lh_bucket *b, const char *name, lh_err *err) {
    char *meta = lh_vindex__key(name, "meta.json");
    lh_err e = LH_ERR_INIT;
    if (lh_bucket_delete(b, meta, &e) != 0 && e.code != LH_NOT_FOUND) {
        free(meta);
        *err = e;
        return -1;
    }
    free(meta);
    char *prefix = lh_vindex__key(name, "");
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool more = false;
    int rc = lh_bucket_list(b, prefix, LH_VX_LIST_MAX, &objs, &n, &more, err);
    free(prefix);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        lh_err de = LH_ERR_INIT;
        if (lh_bucket_delete(b, objs[i].key, &de) != 0 && de.code != LH_NOT_FOUND) {
            *err = de;
            rc = -1;
        }
    }
    lh_object_infos_free(objs, n);
    return rc;
}

/* ---- handles ------------------------------------------------------------------------------ */

void lh_vindex__unref(vx_index *ix) {
    if (!ix || atomic_fetch_sub(&ix->refs, 1) != 1)
        return;
    lh_hnsw_free(ix->h);
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->doc_ids[i]);
        free(ix->snippets[i]);
    }
    free(ix->doc_ids);
    free(ix->chunk_ids);
    free(ix->snippets);
    lh_embedder_close(ix->emb);
    json_decref(ix->meta);
    free(ix->name);
    free(ix);
}

vx_index *lh_vindex__find(lh_vindex *v, const char *name) {
    vx_index *ix = NULL;
    pthread_mutex_lock(&v->mu);
    for (size_t i = 0; i < v->nidx && !ix; i++)
        if (strcmp(v->idx[i]->name, name) == 0) {
            ix = v->idx[i];
            atomic_fetch_add(&ix->refs, 1);
        }
    pthread_mutex_unlock(&v->mu);
    return ix;
}

void lh_vindex__publish(lh_vindex *v, vx_index *ix) {
    vx_index *old = NULL;
    pthread_mutex_lock(&v->mu);
    size_t i = 0;
    while (i < v->nidx && strcmp(v->idx[i]->name, ix->name) != 0)
        i++;
    if (i < v->nidx) {
        old = v->idx[i];
        v->idx[i] = ix;
    } else {
        v->idx = lh_xrealloc(v->idx, (v->nidx + 1) * sizeof *v->idx);
        v->idx[v->nidx++] = ix;
    }
    pthread_mutex_unlock(&v->mu);
    lh_vindex__unref(old);
}

void lh_vindex__unpublish(lh_vindex *v, const char *name) {
    vx_index *old = NULL;
    pthread_mutex_lock(&v->mu);
    for (size_t i = 0; i < v->nidx; i++)
        if (strcmp(v->idx[i]->name, name) == 0) {
            old = v->idx[i];
            v->idx[i] = v->idx[--v->nidx];
            break;
        }
    pthread_mutex_unlock(&v->mu);
    lh_vindex__unref(old);
}

int lh_vindex__mark_building(lh_vindex *v, const char *name, lh_err *err) {
    int rc = 0;
    pthread_mutex_lock(&v->mu);
    for (size_t i = 0; i < v->nbuilding && rc == 0; i++)
        if (strcmp(v->building[i], name) == 0)
            rc = lh_err_set(err, LH_CONFLICT, "index '%s' is already being built", name);
    if (rc == 0) {
        v->building = lh_xrealloc(v->building, (v->nbuilding + 1) * sizeof *v->building);
        v->building[v->nbuilding++] = lh_xstrdup(name);
    }
    pthread_mutex_unlock(&v->mu);
    return rc;
}

void lh_vindex__clear_building(lh_vindex *v, const char *name) {
    pthread_mutex_lock(&v->mu);
    for (size_t i = 0; i < v->nbuilding; i++)
        if (strcmp(v->building[i], name) == 0) {
            free(v->building[i]);
            v->building[i] = v->building[--v->nbuilding];
            break;
        }
    pthread_mutex_unlock(&v->mu);
}

bool lh_vindex__build_active(lh_vindex *v, const char *name) {
    json_t *list = lh_jobs_list(v->jobs, LH_VINDEX_JOB_KIND);
    bool active = false;
    size_t i;
    json_t *rec;
    json_array_foreach(json_object_get(list, "jobs"), i, rec) {
        const char *state = lh_vindex__jstr(rec, "state");
        const char *ix = lh_vindex__jstr(json_object_get(rec, "params"), "index");
        if (ix && strcmp(ix, name) == 0 && state &&
            (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0))
            active = true;
    }
    json_decref(list);
    return active;
}

/* ---- open / close -------------------------------------------------------------------------- */

/* Loads the indexes of one bucket; names already taken by an earlier bucket are skipped. */
static void load_bucket(lh_vindex *v, lh_bucket *b) {
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool more = false;
    lh_err err = LH_ERR_INIT;
    if (lh_bucket_list(b, VECTORS_PREFIX, LH_VX_LIST_MAX, &objs, &n, &more, &err) != 0) {
        LH_LOG_WARN(LH_VX_LOG, "cannot list vector indexes bucket=%s: %s", lh_bucket_name(b),
                    err.message);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *key = objs[i].key + strlen(VECTORS_PREFIX);
        const char *slash = strchr(key, '/');
        if (!slash || strcmp(slash, "/meta.json") != 0)
            continue;
        char *name = lh_xstrndup(key, (size_t)(slash - key));
        vx_index *dup = lh_name_valid(name) ? lh_vindex__find(v, name) : NULL;
        lh_err e = LH_ERR_INIT;
        json_t *meta = !lh_name_valid(name) || dup ? NULL : lh_vindex__read_meta(b, name, &e);
        vx_index *ix = meta ? lh_vindex__load(v, b, name, meta, &e) : NULL;
        if (ix) {
            lh_vindex__publish(v, ix);
            if (ix->broken.code != LH_OK)
                LH_LOG_ERROR(LH_VX_LOG, "index unusable index=%s: %s", name, ix->broken.message);
            else
                LH_LOG_INFO(LH_VX_LOG, "index loaded index=%s chunks=%zu backend=%s", name,
                            ix->n, ix->exact ? "exact" : "hnsw");
        } else if (dup) {
            LH_LOG_WARN(LH_VX_LOG, "index skipped index=%s bucket=%s: the name is taken by "
                        "an earlier bucket", name, lh_bucket_name(b));
        } else {
            LH_LOG_ERROR(LH_VX_LOG, "index not loaded index=%s: %s", name, e.message);
        }
        lh_vindex__unref(dup);
        json_decref(meta);
        free(name);
    }
    lh_object_infos_free(objs, n);
}

lh_vindex *lh_vindex_open(lh_lake *lake, lh_jobs *jobs, const lh_config *config, lh_err *err) {
    if (!lake || !jobs || !config) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "the index service needs a lake, jobs and config");
        return NULL;
    }
    lh_vindex *v = lh_xcalloc(1, sizeof *v);
    v->lake = lake;
    v->jobs = jobs;
    v->cfg = config;
    pthread_mutex_init(&v->mu, NULL);
    if (lh_jobs_register(jobs, LH_VINDEX_JOB_KIND, lh_vindex__build_job, v, 3, err) != 0)
        goto fail;
    size_t nb = lh_storage_bucket_count(lake->storage);
    for (size_t i = 0; i < nb; i++) {
        lh_bucket *b = lh_storage_bucket_at(lake->storage, i);
        if (strcmp(lh_bucket_role(b), LH_BUCKET_ROLE_RESCUE) != 0)
            load_bucket(v, b);
    }
    if (lh_engine_set_vector_search(lake->engine, lh_vindex__sql_search, v, err) != 0)
        goto fail;
    return v;
fail:
    lh_vindex_close(v);
    return NULL;
}

void lh_vindex_close(lh_vindex *v) {
    if (!v)
        return;
    lh_err ignore = LH_ERR_INIT;
    /* Waits for SQL searches in flight, so nothing below is in use. */
    if (lh_engine_set_vector_search(v->lake->engine, NULL, NULL, &ignore) != 0)
        LH_LOG_WARN(LH_VX_LOG, "cannot remove the vector_search provider: %s", ignore.message);
    for (size_t i = 0; i < v->nidx; i++)
        lh_vindex__unref(v->idx[i]);
    free(v->idx);
    for (size_t i = 0; i < v->nbuilding; i++)
        free(v->building[i]);
    free(v->building);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

lh_jobs *lh_vindex_jobs(lh_vindex *v) {
    return v->jobs;
}

/* ---- list / get / drop ---------------------------------------------------------------------- */

static json_t *describe(const vx_index *ix) {
    json_t *d = json_deep_copy(ix->meta);
    json_object_del(d, "files"); /* the indexed file list is bookkeeping, not a description */
    json_object_del(d, "embeddings");
    json_object_set_new(d, "status", json_string(ix->broken.code ? "corrupt" : "ready"));
    if (ix->broken.code)
        json_object_set_new(d, "error", json_pack("{s:s, s:s}", "code",
                                                  lh_code_name(ix->broken.code), "message",
                                                  ix->broken.message));
    return d;
}

static int by_name(const void *a, const void *b) {
    return strcmp(lh_vindex__jstr(*(json_t *const *)a, "name"),
                  lh_vindex__jstr(*(json_t *const *)b, "name"));
}

json_t *lh_vindex_list(lh_vindex *v, const char *dataset, const char *model) {
    pthread_mutex_lock(&v->mu);
    size_t n = 0;
    json_t **items = lh_xcalloc(v->nidx + 1, sizeof *items);
    for (size_t i = 0; i < v->nidx; i++) {
        const json_t *m = v->idx[i]->meta;
        const char *ds = lh_vindex__jstr(m, "dataset"), *mo = lh_vindex__jstr(m, "model");
        if ((dataset && (!ds || strcmp(ds, dataset) != 0)) ||
            (model && (!mo || strcmp(mo, model) != 0)))
            continue;
        items[n++] = describe(v->idx[i]);
    }
    pthread_mutex_unlock(&v->mu);
    qsort(items, n, sizeof *items, by_name);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    free(items);
    return json_pack("{s:o}", "indexes", arr);
}

json_t *lh_vindex_get(lh_vindex *v, const char *name, lh_err *err) {
    vx_index *ix = name ? lh_vindex__find(v, name) : NULL;
    if (!ix) {
        lh_err_set(err, LH_NOT_FOUND, "index '%s' not found", name ? name : "");
        return NULL;
    }
    json_t *d = describe(ix);
    lh_vindex__unref(ix);
    return d;
}

int lh_vindex_drop(lh_vindex *v, const char *name, lh_err *err) {
    vx_index *ix = name ? lh_vindex__find(v, name) : NULL;
    if (!ix)
        return lh_err_set(err, LH_NOT_FOUND, "index '%s' not found", name ? name : "");
    int rc = 0;
    if (lh_vindex__build_active(v, name))
        rc = lh_err_set(err, LH_CONFLICT, "index '%s' is being built; cancel its job first",
                        name);
    if (rc == 0) {
        lh_vindex__unpublish(v, name);
        rc = lh_vindex__delete_files(ix->bucket, name, err);
        if (rc == 0)
            LH_LOG_INFO(LH_VX_LOG, "index dropped index=%s", name);
    }
    lh_vindex__unref(ix);
    return rc;
}
