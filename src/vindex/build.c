/* vindex/build.c: the front of an index build. A request is checked against the catalog
 * (dataset, columns, their types) and the configuration, normalised into the job's params
 * (every default resolved, so a resumed job runs with exactly what was asked even if the
 * configuration changed meanwhile; never the API key, which is read at run time), and
 * submitted as a "vector_index" job. The job body is build_run.c. */
#include <string.h>
#include <strings.h>

#include "vindex/vindex_int.h"

#define CHUNK_SIZE_DEFAULT 800
#define CHUNK_OVERLAP_DEFAULT 100
#define CHUNK_SIZE_MAX 100000
#define BATCH_ROWS_DEFAULT 256
#define BATCH_ROWS_MAX 65536

static const lh_column *find_col(const lh_dataset *d, const char *name) {
    for (size_t i = 0; i < d->ncolumns; i++)
        if (strcmp(d->columns[i].name, name) == 0)
            return &d->columns[i];
    for (size_t i = 0; i < d->ncolumns; i++)
        if (strcasecmp(d->columns[i].name, name) == 0)
            return &d->columns[i];
    return NULL;
}

static bool is_vector_type(const char *t) {
    const char *br = strchr(t, '[');
    if (!br || !lh_str_has_suffix(t, "]"))
        return false;
    size_t n = (size_t)(br - t);
    return (n == 5 && strncasecmp(t, "FLOAT", 5) == 0) ||
           (n == 6 && strncasecmp(t, "DOUBLE", 6) == 0) || (n == 4 && strncasecmp(t, "REAL", 4) == 0);
}

/* An optional string field; -1 with err on a wrong type. */
static int opt_str(const json_t *req, const char *key, const char **out, lh_err *err) {
    *out = lh_json_str(req, key, false, err);
    return *out || err->code == LH_OK ? 0 : -1;
}

static int opt_int(const json_t *req, const char *key, int64_t def, int64_t lo, int64_t hi,
                   int64_t *out, lh_err *err) {
    if (lh_json_int(req, key, false, def, out, err) != 0)
        return -1;
    if (*out < lo || *out > hi)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' must be from %lld to %lld", key,
                          (long long)lo, (long long)hi);
    return 0;
}

static const char *const KNOWN[] = {"dataset", "text_column", "vector_column", "id_column",
                                    "index", "chunk_size", "overlap", "unit", "provider",
                                    "model", "url", "dims", "metric", "M", "ef_construction",
                                    "batch_rows"};

static int check_keys(const json_t *req, lh_err *err) {
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)req, key, val) {
        bool ok = false;
        for (size_t i = 0; i < LH_ARRAY_LEN(KNOWN) && !ok; i++)
            ok = strcmp(key, KNOWN[i]) == 0;
        if (!ok)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "unknown field '%.100s'", key);
    }
    return 0;
}

/* Resolves the column fields against dataset d into p. */
static int columns(const lh_dataset *d, const json_t *req, json_t *p, lh_err *err) {
    const char *text, *vec, *id;
    if (opt_str(req, "text_column", &text, err) || opt_str(req, "vector_column", &vec, err) ||
        opt_str(req, "id_column", &id, err))
        return -1;
    if (!text == !vec)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "give exactly one of 'text_column' and 'vector_column'");
    if (!id)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'id_column' is required");
    const lh_column *ic = find_col(d, id), *vc = find_col(d, text ? text : vec);
    if (!ic || !vc)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s' has no column '%s'", d->name,
                          ic ? (text ? text : vec) : id);
    if (vec && !is_vector_type(vc->type))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "column '%s' is %s, not a vector column "
                          "(FLOAT[n], FLOAT[] or DOUBLE[])", vc->name, vc->type);
    json_object_set_new(p, "id_column", json_string(ic->name));
    json_object_set_new(p, text ? "text_column" : "vector_column", json_string(vc->name));
    return 0;
}

/* The embedder fields of a text index: provider, model (+ version), url, dims. */
static int embedder_fields(lh_vindex *v, const json_t *req, json_t *p, lh_err *err) {
    const char *prov, *model, *url;
    int64_t dims;
    if (opt_str(req, "provider", &prov, err) || opt_str(req, "model", &model, err) ||
        opt_str(req, "url", &url, err) ||
        opt_int(req, "dims", v->cfg->embed_dims, 0, 65536, &dims, err))
        return -1;
    bool own = !prov; /* the configured provider: its model and url apply too */
    lh_provider pv;
    if (lh_provider_parse(prov ? prov : v->cfg->embed_provider, &pv, err) != 0)
        return -1;
    if (own && !model && v->cfg->embed_model && *v->cfg->embed_model)
        model = v->cfg->embed_model;
    if (own && !url && v->cfg->embed_url && *v->cfg->embed_url)
        url = v->cfg->embed_url;
    if (pv == LH_PROVIDER_LEXICAL) {
        if (dims == 0)
            dims = 384;
        if (dims < 8)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "'dims' must be at least 8");
        model = "lexical-v1";
        json_object_set_new(p, "model_version", json_string(lh_lexical_version()));
    } else if (!model || !*model) {
        return lh_err_set(err, LH_INVALID_ARGUMENT, "provider '%s' needs a 'model'",
                          lh_provider_name(pv));
    }
    json_object_set_new(p, "provider", json_string(lh_provider_name(pv)));
    json_object_set_new(p, "model", json_string(model));
    if (url && *url)
        json_object_set_new(p, "url", json_string(url));
    json_object_set_new(p, "dims", json_integer(dims));
    /* Checks model and URL now (no network), so a typo is a 400, not a failed job. */
    lh_embedder *e = lh_vindex__embedder(v, p, err);
    lh_embedder_close(e);
    return e ? 0 : -1;
}

static int chunking(const json_t *req, json_t *p, lh_err *err) {
    int64_t size, overlap;
    const char *unit;
    if (opt_int(req, "chunk_size", CHUNK_SIZE_DEFAULT, 1, CHUNK_SIZE_MAX, &size, err) ||
        opt_int(req, "overlap", size > CHUNK_OVERLAP_DEFAULT * 2 ? CHUNK_OVERLAP_DEFAULT : 0, 0,
                CHUNK_SIZE_MAX, &overlap, err) ||
        opt_str(req, "unit", &unit, err))
        return -1;
    if (overlap >= size)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'overlap' must be smaller than 'chunk_size'");
    if (unit && strcmp(unit, "chars") != 0 && strcmp(unit, "tokens") != 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'unit' must be chars or tokens");
    json_object_set_new(p, "chunk_size", json_integer(size));
    json_object_set_new(p, "overlap", json_integer(overlap));
    json_object_set_new(p, "unit", json_string(unit ? unit : "chars"));
    return 0;
}

json_t *lh_vindex__build_params(lh_vindex *v, const json_t *req, lh_err *err) {
    if (!json_is_object(req)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "the body must be a JSON object");
        return NULL;
    }
    if (check_keys(req, err) != 0)
        return NULL;
    const char *ds;
    if (opt_str(req, "dataset", &ds, err) != 0)
        return NULL;
    if (!ds) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'dataset' is required");
        return NULL;
    }
    json_t *p = json_object();
    lh_catalog_snap *snap = lh_catalog_snapshot(v->lake->catalog);
    const lh_dataset *d = lh_catalog_snap_find(snap, ds);
    int rc = d ? 0 : lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", ds);
    if (rc == 0) {
        json_object_set_new(p, "dataset", json_string(d->name));
        rc = columns(d, req, p, err);
    }
    lh_catalog_snap_unref(snap);
    const char *name = NULL, *metric = NULL;
    int64_t m = 0, efc = 0, batch = 0;
    if (rc == 0)
        rc = opt_str(req, "index", &name, err) || opt_str(req, "metric", &metric, err) ||
                     opt_int(req, "M", v->cfg->vector_hnsw_m, 2, 128, &m, err) ||
                     opt_int(req, "ef_construction", v->cfg->vector_hnsw_ef_construction, 8,
                             4096, &efc, err) ||
                     opt_int(req, "batch_rows", BATCH_ROWS_DEFAULT, 1, BATCH_ROWS_MAX, &batch,
                             err)
                 ? -1
                 : 0;
    lh_metric met = LH_METRIC_COSINE;
    if (rc == 0 && metric && lh_metric_parse(metric, &met, err) != 0)
        rc = -1;
    if (rc == 0 && json_object_get(p, "text_column"))
        rc = embedder_fields(v, req, p, err) || chunking(req, p, err) ? -1 : 0;
    if (rc == 0 && json_object_get(p, "vector_column")) {
        /* One aggregate over the column now turns lists of differing lengths into a 400
         * instead of a job that fails later. */
        lh_vscan_opts o = {.dataset = lh_vindex__jstr(p, "dataset"),
                           .id_column = lh_vindex__jstr(p, "id_column"),
                           .vector_column = lh_vindex__jstr(p, "vector_column")};
        size_t dims = 0;
        rc = lh_engine_vscan_stats(v->lake->engine, &o, NULL, &dims, err);
    }
    if (rc == 0) {
        char *def = NULL;
        if (!name) {
            const char *col = lh_vindex__jstr(p, "text_column");
            def = lh_xasprintf("%s_%s", ds, col ? col : lh_vindex__jstr(p, "vector_column"));
            for (char *c = def; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c - 'A' + 'a');
            if (strlen(def) > LH_NAME_MAX)
                def[LH_NAME_MAX] = '\0';
        }
        const char *nm = name ? name : def;
        if (!lh_name_valid(nm))
            rc = lh_err_set(err, LH_INVALID_ARGUMENT, "invalid index name '%.100s' (lowercase "
                            "letters, digits and '_', at most %d)", nm, LH_NAME_MAX);
        else
            json_object_set_new(p, "index", json_string(nm));
        free(def);
    }
    if (rc != 0) {
        json_decref(p);
        return NULL;
    }
    json_object_set_new(p, "metric", json_string(lh_metric_name(met)));
    json_object_set_new(p, "M", json_integer(m));
    json_object_set_new(p, "ef_construction", json_integer(efc));
    json_object_set_new(p, "batch_rows", json_integer(batch));
    return p;
}

int lh_vindex_submit(lh_vindex *v, const json_t *req, char job_id[37], char **index,
                     lh_err *err) {
    json_t *p = lh_vindex__build_params(v, req, err);
    if (!p)
        return -1;
    const char *name = lh_vindex__jstr(p, "index");
    int rc = 0;
    vx_index *old = lh_vindex__find(v, name);
    const char *old_ds = old ? lh_vindex__jstr(old->meta, "dataset") : NULL;
    if (old_ds && strcmp(old_ds, lh_vindex__jstr(p, "dataset")) != 0)
        rc = lh_err_set(err, LH_CONFLICT, "index '%s' already exists over dataset '%s'; drop it "
                        "first or pick another name", name, old_ds);
    lh_vindex__unref(old);
    if (rc == 0 && lh_vindex__build_active(v, name))
        rc = lh_err_set(err, LH_CONFLICT, "a build of index '%s' is already queued or running",
                        name);
    if (rc == 0)
        rc = lh_jobs_submit(v->jobs, LH_VINDEX_JOB_KIND, p, job_id, err);
    if (rc == 0) {
        *index = lh_xstrdup(name);
        LH_LOG_INFO(LH_VX_LOG, "index build submitted index=%s job=%s", name, job_id);
    }
    json_decref(p);
    return rc;
}
