/* jobs records: a job as the JSON document kept at _jobs/<id>.json, its atomic writes (newest
 * snapshot wins) and deletion, and the load of every record at open, where a corrupt or
 * unreadable record is logged and skipped. */
#include <stdlib.h>
#include <string.h>

#include "jobs/jobs_int.h"

static const char *const state_names[] = {"queued", "running", "succeeded", "failed",
                                          "cancelled"};

const char *lh_jobs__state_name(lh_jobs__state s)
{
    return (unsigned)s < LH_ARRAY_LEN(state_names) ? state_names[s] : "failed";
}

bool lh_jobs__state_final(lh_jobs__state s)
{
    return s == LH_JOBS__SUCCEEDED || s == LH_JOBS__FAILED || s == LH_JOBS__CANCELLED;
}

static int state_parse(const char *name)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(state_names); i++)
        if (strcmp(name, state_names[i]) == 0)
            return (int)i;
    return -1;
}

static lh_code code_parse(const char *name)
{
    for (int c = 0; c < LH_CODE_COUNT; c++)
        if (strcmp(lh_code_name((lh_code)c), name) == 0)
            return (lh_code)c;
    return LH_INTERNAL;
}

static json_t *opt_real(bool has, double v)
{
    return has ? json_real(v) : json_null();
}

static json_t *progress_json(const lh_job *job)
{
    json_t *p = json_object();
    json_object_set_new(p, "done", json_integer(job->done));
    json_object_set_new(p, "total", job->total >= 0 ? json_integer(job->total) : json_null());
    json_object_set_new(p, "rate_per_s", opt_real(job->has_rate, job->rate_per_s));
    json_object_set_new(p, "eta_s", opt_real(job->has_eta, job->eta_s));
    const char *k;
    json_t *v;
    json_object_foreach(job->extra, k, v) {
        /* The computed fields win over extras of the same name. A copy, never a shared
         * node: the caller frees its record outside our lock. */
        if (!json_object_get(p, k))
            json_object_set_new(p, k, json_deep_copy(v));
    }
    return p;
}

json_t *lh_jobs__record_json(const lh_job *job, bool with_checkpoint)
{
    json_t *r = json_object();
    json_object_set_new(r, "id", json_string(job->id));
    json_object_set_new(r, "kind", json_string(job->kind));
    json_object_set_new(r, "state", json_string(lh_jobs__state_name(job->state)));
    json_object_set_new(r, "params", json_deep_copy(job->params));
    json_object_set_new(r, "progress", progress_json(job));
    if (job->result && job->state == LH_JOBS__SUCCEEDED)
        json_object_set_new(r, "result", json_deep_copy(job->result));
    if (job->has_error)
        json_object_set_new(r, "error", json_pack("{s:s, s:s}", "code",
                                                  lh_code_name(job->error.code), "message",
                                                  job->error.message));
    json_object_set_new(r, "attempts", json_integer(job->attempts));
    json_object_set_new(r, "created_ms", json_integer(job->created_ms));
    if (job->started_ms > 0)
        json_object_set_new(r, "started_ms", json_integer(job->started_ms));
    if (job->finished_ms > 0)
        json_object_set_new(r, "finished_ms", json_integer(job->finished_ms));
    if (with_checkpoint && job->checkpoint)
        json_object_set_new(r, "checkpoint", json_deep_copy(job->checkpoint));
    return r;
}

void lh_jobs__snapshot(lh_job *job, lh_jobs__pending *p)
{
    json_t *r = lh_jobs__record_json(job, true);
    p->text = lh_json_dump(r);
    json_decref(r);
    p->seq = ++job->seq;
    p->job = job;
    lh_jobs__job_ref(job);
}

static char *record_key(const char *id)
{
    return lh_xasprintf(LH_JOBS__PREFIX "%s.json", id);
}

int lh_jobs__write(lh_jobs__pending *p, lh_err *err)
{
    lh_job *job = p->job;
    int rc = 0;
    pthread_mutex_lock(&job->wmu);
    if (!job->deleted && p->seq > job->written_seq) {
        size_t n = strlen(p->text);
        char *key = record_key(job->id);
        if (n > LH_JOBS__RECORD_MAX)
            rc = lh_err_set(err, LH_TOO_LARGE, "job '%s': record of %zu bytes is over %zu",
                            job->id, n, LH_JOBS__RECORD_MAX);
        else
            rc = lh_bucket_put(job->owner->bucket, key, p->text, n, err);
        if (rc == 0)
            job->written_seq = p->seq;
        free(key);
    }
    pthread_mutex_unlock(&job->wmu);
    free(p->text);
    p->text = NULL;
    lh_jobs__job_unref(job);
    p->job = NULL;
    return rc;
}

void lh_jobs__write_logged(lh_jobs__pending *p, const char *what)
{
    char id[37];
    memcpy(id, p->job->id, sizeof id);
    lh_err err = LH_ERR_INIT;
    if (lh_jobs__write(p, &err) != 0)
        LH_LOG_ERROR("jobs", "cannot write record (%s) job=%s code=%s: %s %s", what, id,
                     lh_code_name(err.code), err.message, err.detail);
}

void lh_jobs__delete_record(lh_job *job)
{
    pthread_mutex_lock(&job->wmu);
    job->deleted = true;
    char *key = record_key(job->id);
    lh_err err = LH_ERR_INIT;
    if (lh_bucket_delete(job->owner->bucket, key, &err) != 0 && err.code != LH_NOT_FOUND)
        LH_LOG_WARN("jobs", "cannot delete old record job=%s: %s %s", job->id, err.message,
                    err.detail);
    free(key);
    pthread_mutex_unlock(&job->wmu);
}

/* ---- load ---------------------------------------------------------------------------- */

static bool id_valid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static int get_int(const json_t *r, const char *key, bool required, int64_t *out, lh_err *err)
{
    json_t *v = json_object_get(r, key);
    if (!v && !required) {
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return lh_err_set(err, LH_CORRUPT, "field '%s' is not a non-negative integer", key);
    *out = json_integer_value(v);
    return 0;
}

static int get_opt_real(const json_t *p, const char *key, bool *has, double *out, lh_err *err)
{
    json_t *v = json_object_get(p, key);
    *has = v && !json_is_null(v);
    if (!*has)
        return 0;
    if (!json_is_number(v))
        return lh_err_set(err, LH_CORRUPT, "progress field '%s' is not a number", key);
    *out = json_number_value(v);
    return 0;
}

static int parse_progress(lh_job *job, const json_t *p, lh_err *err)
{
    if (!p)
        return 0;
    if (!json_is_object(p))
        return lh_err_set(err, LH_CORRUPT, "field 'progress' is not an object");
    if (get_int(p, "done", false, &job->done, err) != 0)
        return -1;
    json_t *t = json_object_get(p, "total");
    if (t && !json_is_null(t)) {
        if (get_int(p, "total", true, &job->total, err) != 0)
            return -1;
    }
    if (get_opt_real(p, "rate_per_s", &job->has_rate, &job->rate_per_s, err) != 0 ||
        get_opt_real(p, "eta_s", &job->has_eta, &job->eta_s, err) != 0)
        return -1;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v) {
        if (strcmp(k, "done") != 0 && strcmp(k, "total") != 0 && strcmp(k, "rate_per_s") != 0 &&
            strcmp(k, "eta_s") != 0)
            json_object_set(job->extra, k, v);
    }
    return 0;
}

static int parse_error(lh_job *job, const json_t *e, lh_err *err)
{
    if (!e)
        return 0;
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (!json_is_object(e) || !code || !msg)
        return lh_err_set(err, LH_CORRUPT, "field 'error' lacks a code or a message");
    job->has_error = true;
    job->error.code = code_parse(code);
    snprintf(job->error.message, sizeof job->error.message, "%s", msg);
    return 0;
}

/* Builds a job from a parsed record whose key named id. NULL + corrupt when it is not a
 * well-formed record. */
static lh_job *parse_record(lh_jobs *j, const char *id, const json_t *r, lh_err *err)
{
    if (!json_is_object(r)) {
        lh_err_set(err, LH_CORRUPT, "record is not a JSON object");
        return NULL;
    }
    const char *rid = json_string_value(json_object_get(r, "id"));
    const char *kind = json_string_value(json_object_get(r, "kind"));
    const char *state = json_string_value(json_object_get(r, "state"));
    json_t *params = json_object_get(r, "params");
    if (!rid || strcmp(rid, id) != 0) {
        lh_err_set(err, LH_CORRUPT, "record id does not match its file name");
        return NULL;
    }
    if (!kind || !*kind || strlen(kind) > LH_JOBS__KIND_MAX) {
        lh_err_set(err, LH_CORRUPT, "field 'kind' is missing or invalid");
        return NULL;
    }
    int st = state ? state_parse(state) : -1;
    if (st < 0) {
        lh_err_set(err, LH_CORRUPT, "field 'state' is missing or unknown");
        return NULL;
    }
    if (!json_is_object(params)) {
        lh_err_set(err, LH_CORRUPT, "field 'params' is not an object");
        return NULL;
    }
    lh_job *job = lh_jobs__job_new(j, id, kind, json_deep_copy(params));
    /* A job that was running when its process stopped runs again from its checkpoint. */
    job->state = st == LH_JOBS__RUNNING ? LH_JOBS__QUEUED : (lh_jobs__state)st;
    int64_t attempts = 0;
    json_t *cp = json_object_get(r, "checkpoint");
    json_t *res = json_object_get(r, "result");
    if (get_int(r, "attempts", true, &attempts, err) != 0 || attempts > 1000000 ||
        get_int(r, "created_ms", true, &job->created_ms, err) != 0 ||
        get_int(r, "started_ms", false, &job->started_ms, err) != 0 ||
        get_int(r, "finished_ms", false, &job->finished_ms, err) != 0 ||
        parse_progress(job, json_object_get(r, "progress"), err) != 0 ||
        parse_error(job, json_object_get(r, "error"), err) != 0) {
        if (attempts > 1000000)
            lh_err_set(err, LH_CORRUPT, "field 'attempts' is out of range");
        lh_jobs__job_unref(job);
        return NULL;
    }
    job->attempts = (int)attempts;
    if (cp && !json_is_null(cp))
        job->checkpoint = json_deep_copy(cp);
    if (res && !json_is_null(res))
        job->result = json_deep_copy(res);
    job->settled = lh_jobs__state_final(job->state);
    job->seq = job->written_seq = 1;
    return job;
}

/* Reads and parses one record; NULL (logged) when it is unusable. */
static lh_job *load_one(lh_jobs *j, const char *key)
{
    const char *name = key + strlen(LH_JOBS__PREFIX);
    size_t nlen = strlen(name);
    if (nlen != 41 || !lh_str_has_suffix(name, ".json") || !id_valid(name, 36)) {
        LH_LOG_WARN("jobs", "skipping stray object key=%s in the jobs folder", key);
        return NULL;
    }
    char id[37];
    memcpy(id, name, 36);
    id[36] = '\0';
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *text = lh_bucket_read_all(j->bucket, key, LH_JOBS__RECORD_MAX, &len, &err);
    lh_job *job = NULL;
    if (text) {
        json_t *r = lh_json_parse(text, len, &err);
        free(text);
        if (r)
            job = parse_record(j, id, r, &err);
        json_decref(r);
    }
    if (!job)
        LH_LOG_WARN("jobs", "skipping unreadable job record key=%s code=%s: %s %s", key,
                    lh_code_name(err.code), err.message, err.detail);
    return job;
}

static int by_created(const void *a, const void *b)
{
    const lh_job *x = *(lh_job *const *)a, *y = *(lh_job *const *)b;
    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

int lh_jobs__load(lh_jobs *j, lh_err *err)
{
    lh_object_info *infos = NULL;
    size_t n = 0;
    bool truncated = false;
    if (lh_bucket_list(j->bucket, LH_JOBS__PREFIX, LH_JOBS__LOAD_MAX, &infos, &n, &truncated,
                       err) != 0)
        return lh_err_prefix(err, "cannot list job records: ");
    if (truncated)
        LH_LOG_WARN("jobs", "more than %d job records: only the first %d are loaded",
                    LH_JOBS__LOAD_MAX, LH_JOBS__LOAD_MAX);
    lh_job **loaded = lh_xcalloc(n ? n : 1, sizeof *loaded);
    size_t nl = 0;
    for (size_t i = 0; i < n; i++) {
        lh_job *job = load_one(j, infos[i].key);
        if (job)
            loaded[nl++] = job;
    }
    lh_object_infos_free(infos, n);
    qsort(loaded, nl, sizeof *loaded, by_created);
    for (size_t i = 0; i < nl; i++)
        lh_jobs__append(j, loaded[i]);
    free(loaded);
    size_t nev = 0;
    lh_job **ev = lh_jobs__evict_locked(j, &nev);
    lh_jobs__drop_evicted(ev, nev);
    LH_LOG_DEBUG("jobs", "loaded job records n=%zu evicted=%zu", nl, nev);
    return 0;
}
