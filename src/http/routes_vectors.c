/* /vectors: vector index builds (background jobs), the index registry and search. Handlers
 * check the shape of what they get and hand it to vindex (lh_vindex_*), which validates the
 * rest against the catalog; builds answer 202 with the job id at once and are followed with
 * GET /vectors/jobs/{id}. */
#include <string.h>

#include "http/http_int.h"

static lh_vindex *vindex(lh_http_req *req, lh_err *err)
{
    lh_vindex *v = req->server->services.vindex;
    if (!v)
        lh_err_set(err, LH_UNAVAILABLE, "vector indexes are not enabled on this server");
    return v;
}

static lh_jobs *jobs(lh_http_req *req, lh_err *err)
{
    lh_jobs *j = req->server->services.jobs;
    if (!j)
        lh_err_set(err, LH_UNAVAILABLE, "background jobs are not enabled on this server");
    return j;
}

int lh_http__vectors_index(lh_http_req *req, lh_err *err)
{
    lh_vindex *v = vindex(req, err);
    if (!v)
        return -1;
    char id[37];
    char *index = NULL;
    if (lh_vindex_submit(v, req->json, id, &index, err) != 0)
        return -1;
    char *url = lh_xasprintf("/vectors/jobs/%s", id); /* what a client polls */
    json_t *doc = json_pack("{s:s, s:s, s:s}", "job_id", id, "index", index, "status_url", url);
    free(url);
    free(index);
    return lh_http_reply_json(req, MHD_HTTP_ACCEPTED, doc);
}

int lh_http__vectors_jobs(lh_http_req *req, lh_err *err)
{
    lh_jobs *j = jobs(req, err);
    if (!j)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, lh_jobs_list(j, LH_VINDEX_JOB_KIND));
}

/* The record of job {id} when it is an index build (other kinds are not ours to show). */
static json_t *vector_job(lh_http_req *req, lh_jobs *j, lh_err *err)
{
    const char *id = lh_http__param(req, "id");
    json_t *rec = lh_jobs_get(j, id ? id : "", err);
    if (!rec)
        return NULL;
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    if (!kind || strcmp(kind, LH_VINDEX_JOB_KIND) != 0) {
        json_decref(rec);
        lh_err_set(err, LH_NOT_FOUND, "index job '%s' not found", id);
        return NULL;
    }
    return rec;
}

int lh_http__vectors_job(lh_http_req *req, lh_err *err)
{
    lh_jobs *j = jobs(req, err);
    json_t *rec = j ? vector_job(req, j, err) : NULL;
    if (!rec)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, rec);
}

int lh_http__vectors_cancel(lh_http_req *req, lh_err *err)
{
    lh_jobs *j = jobs(req, err);
    json_t *rec = j ? vector_job(req, j, err) : NULL;
    if (!rec)
        return -1;
    json_decref(rec);
    const char *id = lh_http__param(req, "id");
    if (lh_jobs_cancel(j, id, err) != 0)
        return -1;
    rec = lh_jobs_get(j, id, err);
    if (!rec)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, rec);
}

int lh_http__vectors_indexes(lh_http_req *req, lh_err *err)
{
    lh_vindex *v = vindex(req, err);
    if (!v)
        return -1;
    const char *ds = lh_http__query_arg(req, "dataset");
    const char *model = lh_http__query_arg(req, "model");
    return lh_http_reply_json(req, MHD_HTTP_OK,
                              lh_vindex_list(v, ds && *ds ? ds : NULL,
                                             model && *model ? model : NULL));
}

int lh_http__vectors_get_index(lh_http_req *req, lh_err *err)
{
    lh_vindex *v = vindex(req, err);
    json_t *doc = v ? lh_vindex_get(v, lh_http__param(req, "name"), err) : NULL;
    if (!doc)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}

int lh_http__vectors_drop_index(lh_http_req *req, lh_err *err)
{
    lh_vindex *v = vindex(req, err);
    const char *name = lh_http__param(req, "name");
    if (!v || lh_vindex_drop(v, name, err) != 0)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, json_pack("{s:s}", "deleted", name));
}

int lh_http__vectors_search(lh_http_req *req, lh_err *err)
{
    lh_vindex *v = vindex(req, err);
    json_t *doc = v ? lh_vindex_search(v, req->json, err) : NULL;
    if (!doc)
        return -1;
    return lh_http_reply_json(req, MHD_HTTP_OK, doc);
}
