/* jobs: the registry — open/close, kinds, submit, get/list, cancel and wait over a FIFO of
 * queued jobs that worker.c drains. Design note: docs/internals/jobs.md.
 *
 * Locking: one registry mutex `mu` guards the job array, the FIFO and every job's mutable
 * fields; record I/O happens outside it, under the job's own `wmu` (order: mu is never taken
 * while holding a wmu). Records are snapshotted under mu and numbered, so the newest
 * snapshot is the one left on disk whatever order two threads write in.
 *
 * Retry pauses grow as base, 2*base, 4*base... (at most 60 s); base is 1000 ms, or the value
 * of the environment variable LH_JOBS_RETRY_BASE_MS (0..600000) read at lh_jobs_open, which
 * tests set to a few milliseconds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/jobs_int.h"

/* ---- jobs and the array --------------------------------------------------------------- */

lh_job *lh_jobs__job_new(lh_jobs *j, const char *id, const char *kind, json_t *params)
{
    lh_job *job = lh_xcalloc(1, sizeof *job);
    job->owner = j;
    memcpy(job->id, id, 36);
    job->id[36] = '\0';
    job->kind = lh_xstrdup(kind);
    job->params = params;
    job->extra = json_object();
    job->total = -1;
    atomic_init(&job->cancel, false);
    atomic_init(&job->refs, 1);
    pthread_mutex_init(&job->wmu, NULL);
    return job;
}

void lh_jobs__job_ref(lh_job *job)
{
    atomic_fetch_add(&job->refs, 1);
}

void lh_jobs__job_unref(lh_job *job)
{
    if (!job || atomic_fetch_sub(&job->refs, 1) != 1)
        return;
    json_decref(job->params);
    json_decref(job->checkpoint);
    json_decref(job->result);
    json_decref(job->extra);
    pthread_mutex_destroy(&job->wmu);
    free(job->kind);
    free(job);
}

void lh_jobs__append(lh_jobs *j, lh_job *job)
{
    if (j->njobs == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 64;
        j->jobs = lh_xrealloc(j->jobs, j->cap * sizeof *j->jobs);
    }
    job->order = j->next_order++;
    j->jobs[j->njobs++] = job;
}

lh_job **lh_jobs__evict_locked(lh_jobs *j, size_t *n)
{
    *n = 0;
    size_t finished = 0;
    for (size_t i = 0; i < j->njobs; i++)
        finished += j->jobs[i]->settled;
    if (finished <= j->keep_finished)
        return NULL;
    size_t drop = finished - j->keep_finished;
    lh_job **ev = lh_xcalloc(drop, sizeof *ev);
    size_t w = 0;
    for (size_t i = 0; i < j->njobs; i++) {
        lh_job *job = j->jobs[i];
        if (*n < drop && job->settled)
            ev[(*n)++] = job; /* the array's reference moves to ev */
        else
            j->jobs[w++] = job;
    }
    j->njobs = w;
    return ev;
}

void lh_jobs__drop_evicted(lh_job **ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lh_jobs__delete_record(ev[i]);
        lh_jobs__job_unref(ev[i]);
    }
    free(ev);
}

static lh_job *find_job(const lh_jobs *j, const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = j->njobs; i-- > 0;)
        if (strcmp(j->jobs[i]->id, id) == 0)
            return j->jobs[i];
    return NULL;
}

const lh_jobs__kind *lh_jobs__find_kind(const lh_jobs *j, const char *name)
{
    for (size_t i = 0; i < j->nkinds; i++)
        if (strcmp(j->kinds[i].name, name) == 0)
            return &j->kinds[i];
    return NULL;
}

bool lh_jobs__retryable(lh_code code)
{
    return code == LH_UPSTREAM || code == LH_UNAVAILABLE || code == LH_TIMEOUT ||
           code == LH_BUSY || code == LH_IO_ERROR;
}

static void queue_push(lh_jobs *j, lh_job *job)
{
    job->qnext = NULL;
    job->in_queue = true;
    if (j->qtail)
        j->qtail->qnext = job;
    else
        j->qhead = job;
    j->qtail = job;
}

static void queue_remove(lh_jobs *j, lh_job *job)
{
    lh_job *prev = NULL;
    for (lh_job *q = j->qhead; q; prev = q, q = q->qnext) {
        if (q != job)
            continue;
        if (prev)
            prev->qnext = q->qnext;
        else
            j->qhead = q->qnext;
        if (j->qtail == q)
            j->qtail = prev;
        break;
    }
    job->qnext = NULL;
    job->in_queue = false;
}

/* ---- open, register, start, close ------------------------------------------------------ */

static int64_t retry_base_from_env(void)
{
    const char *s = getenv(LH_JOBS__RETRY_ENV);
    if (!s || !*s)
        return LH_JOBS__RETRY_BASE_MS;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 600000) {
        LH_LOG_WARN("jobs", "ignoring %s=%s: not an integer in 0..600000", LH_JOBS__RETRY_ENV,
                    s);
        return LH_JOBS__RETRY_BASE_MS;
    }
    return v;
}

static void cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

static void free_all(lh_jobs *j)
{
    for (size_t i = 0; i < j->njobs; i++)
        lh_jobs__job_unref(j->jobs[i]);
    free(j->jobs);
    for (size_t i = 0; i < j->nkinds; i++)
        free(j->kinds[i].name);
    free(j->threads);
    pthread_cond_destroy(&j->cv_work);
    pthread_cond_destroy(&j->cv_done);
    pthread_cond_destroy(&j->cv_stop);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

lh_jobs *lh_jobs_open(lh_bucket *b, int workers, lh_err *err)
{
    if (!b) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "jobs: no bucket given");
        return NULL;
    }
    lh_jobs *j = lh_xcalloc(1, sizeof *j);
    j->bucket = b;
    j->nworkers = workers <= 0 ? LH_JOBS__DEFAULT_WORKERS
                               : (workers > LH_JOBS__MAX_WORKERS ? LH_JOBS__MAX_WORKERS : workers);
    j->retry_base_ms = retry_base_from_env();
    j->keep_finished = LH_JOBS__KEEP_FINISHED;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv_work, NULL);
    cond_init_mono(&j->cv_done);
    cond_init_mono(&j->cv_stop);
    atomic_init(&j->closing, false);
    atomic_init(&j->next_worker, 0);
    if (lh_jobs__load(j, err) != 0) {
        free_all(j);
        return NULL;
    }
    return j;
}

static bool kind_name_valid(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n == 0 || n > LH_JOBS__KIND_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int lh_jobs_register(lh_jobs *j, const char *kind, lh_job_fn fn, void *ctx, int max_attempts,
                     lh_err *err)
{
    if (!kind_name_valid(kind))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "invalid job kind '%.64s': 1..64 of [A-Za-z0-9_.-]", kind ? kind : "");
    if (!fn)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "job kind '%s' has no function", kind);
    int rc = 0;
    pthread_mutex_lock(&j->mu);
    if (j->started)
        rc = lh_err_set(err, LH_CONFLICT, "job kind '%s' registered after start", kind);
    else if (lh_jobs__find_kind(j, kind))
        rc = lh_err_set(err, LH_CONFLICT, "job kind '%s' is already registered", kind);
    else if (j->nkinds == LH_JOBS__MAX_KINDS)
        rc = lh_err_set(err, LH_TOO_LARGE, "more than %d job kinds", LH_JOBS__MAX_KINDS);
    else
        j->kinds[j->nkinds++] = (lh_jobs__kind){
            lh_xstrdup(kind), fn, ctx,
            max_attempts <= 0 ? LH_JOBS__DEFAULT_ATTEMPTS : max_attempts};
    pthread_mutex_unlock(&j->mu);
    return rc;
}

/* Puts the unfinished records of registered kinds at the head of the FIFO, oldest first
 * (they were submitted before anything this process queued). */
static void requeue_loaded_locked(lh_jobs *j)
{
    lh_job *head = NULL, *tail = NULL;
    for (size_t i = 0; i < j->njobs; i++) {
        lh_job *job = j->jobs[i];
        if (job->state != LH_JOBS__QUEUED || job->in_queue)
            continue;
        if (!lh_jobs__find_kind(j, job->kind)) {
            LH_LOG_WARN("jobs", "job of unregistered kind kept, not run job=%s kind=%s",
                        job->id, job->kind);
            continue;
        }
        LH_LOG_INFO("jobs", "resuming job=%s kind=%s checkpoint=%s", job->id, job->kind,
                    job->checkpoint ? "yes" : "no");
        job->in_queue = true;
        job->qnext = NULL;
        if (tail)
            tail->qnext = job;
        else
            head = job;
        tail = job;
    }
    if (!head)
        return;
    tail->qnext = j->qhead;
    if (!j->qhead)
        j->qtail = tail;
    j->qhead = head;
}

int lh_jobs_start(lh_jobs *j, lh_err *err)
{
    pthread_mutex_lock(&j->mu);
    if (j->started) {
        pthread_mutex_unlock(&j->mu);
        return lh_err_set(err, LH_CONFLICT, "jobs already started");
    }
    j->started = true;
    requeue_loaded_locked(j);
    pthread_mutex_unlock(&j->mu);
    j->threads = lh_xcalloc((size_t)j->nworkers, sizeof *j->threads);
    for (int i = 0; i < j->nworkers; i++) {
        int e = pthread_create(&j->threads[i], NULL, lh_jobs__worker_main, j);
        if (e != 0) {
            /* Workers already running serve the queue; none at all is an error. */
            if (i == 0)
                return lh_err_errno(err, e, "cannot start job workers");
            LH_LOG_WARN("jobs", "only %d of %d job workers started", i, j->nworkers);
            break;
        }
        j->nthreads = i + 1;
    }
    LH_LOG_INFO("jobs", "job workers started n=%d", j->nthreads);
    return 0;
}

void lh_jobs_close(lh_jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    atomic_store(&j->closing, true);
    pthread_cond_broadcast(&j->cv_work);
    pthread_cond_broadcast(&j->cv_stop);
    pthread_cond_broadcast(&j->cv_done);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < j->nthreads; i++)
        pthread_join(j->threads[i], NULL);
    free_all(j);
}

/* ---- submit, get, list ------------------------------------------------------------------ */

int lh_jobs_submit(lh_jobs *j, const char *kind, const json_t *params, char id_out[37],
                   lh_err *err)
{
    if (params && !json_is_object(params))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "job params must be a JSON object");
    if (params) {
        char *s = lh_json_dump(params);
        size_t n = strlen(s);
        free(s);
        if (n > LH_JOBS__PARAMS_MAX)
            return lh_err_set(err, LH_TOO_LARGE, "job params of %zu bytes are over %zu", n,
                              LH_JOBS__PARAMS_MAX);
    }
    if (atomic_load(&j->closing))
        return lh_err_set(err, LH_UNAVAILABLE, "jobs are shutting down");
    pthread_mutex_lock(&j->mu);
    bool known = kind && lh_jobs__find_kind(j, kind);
    size_t unfinished = 0;
    for (size_t i = 0; i < j->njobs; i++)
        unfinished += !lh_jobs__state_final(j->jobs[i]->state);
    pthread_mutex_unlock(&j->mu);
    if (!known)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "unknown job kind '%.64s'",
                          kind ? kind : "");
    if (unfinished >= LH_JOBS__MAX_UNFINISHED)
        return lh_err_set(err, LH_BUSY, "too many unfinished jobs (%d): try again later",
                          LH_JOBS__MAX_UNFINISHED);

    char id[37];
    lh_uuid4(id);
    lh_job *job = lh_jobs__job_new(j, id, kind, params ? json_deep_copy(params) : json_object());
    job->created_ms = lh_now_ms();
    /* The record is durable before anyone can see the job; nothing else touches it yet. */
    lh_jobs__pending p;
    lh_jobs__snapshot(job, &p);
    if (lh_jobs__write(&p, err) != 0) {
        lh_jobs__job_unref(job);
        return lh_err_prefix(err, "cannot submit job: ");
    }
    pthread_mutex_lock(&j->mu);
    lh_jobs__append(j, job);
    queue_push(j, job);
    pthread_cond_signal(&j->cv_work);
    pthread_mutex_unlock(&j->mu);
    memcpy(id_out, id, 37);
    LH_LOG_DEBUG("jobs", "submitted job=%s kind=%s", id, kind);
    return 0;
}

json_t *lh_jobs_get(lh_jobs *j, const char *id, lh_err *err)
{
    pthread_mutex_lock(&j->mu);
    lh_job *job = find_job(j, id);
    json_t *r = job ? lh_jobs__record_json(job, true) : NULL;
    pthread_mutex_unlock(&j->mu);
    if (!r)
        lh_err_set(err, LH_NOT_FOUND, "job '%.40s' not found", id ? id : "");
    return r;
}

json_t *lh_jobs_list(lh_jobs *j, const char *kind)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&j->mu);
    for (size_t i = j->njobs; i-- > 0;) {
        const lh_job *job = j->jobs[i];
        if (!kind || strcmp(job->kind, kind) == 0)
            json_array_append_new(arr, lh_jobs__record_json(job, false));
    }
    pthread_mutex_unlock(&j->mu);
    return json_pack("{s:o}", "jobs", arr);
}

/* ---- cancel, wait ------------------------------------------------------------------------- */

int lh_jobs_cancel(lh_jobs *j, const char *id, lh_err *err)
{
    pthread_mutex_lock(&j->mu);
    lh_job *job = find_job(j, id);
    if (!job) {
        pthread_mutex_unlock(&j->mu);
        return lh_err_set(err, LH_NOT_FOUND, "job '%.40s' not found", id ? id : "");
    }
    if (lh_jobs__state_final(job->state)) {
        lh_jobs__state s = job->state;
        pthread_mutex_unlock(&j->mu);
        return lh_err_set(err, LH_CONFLICT, "job '%s' already %s", id, lh_jobs__state_name(s));
    }
    atomic_store(&job->cancel, true);
    if (job->state == LH_JOBS__RUNNING) {
        /* Cooperative: the body sees lh_job_should_stop; a retry pause wakes up. */
        pthread_cond_broadcast(&j->cv_stop);
        pthread_mutex_unlock(&j->mu);
        LH_LOG_INFO("jobs", "cancel requested job=%s", id);
        return 0;
    }
    if (job->in_queue)
        queue_remove(j, job);
    job->state = LH_JOBS__CANCELLED;
    job->finished_ms = lh_now_ms();
    lh_jobs__pending p;
    lh_jobs__snapshot(job, &p);
    lh_jobs__job_ref(job);
    pthread_mutex_unlock(&j->mu);
    lh_jobs__write_logged(&p, "cancelled");
    pthread_mutex_lock(&j->mu);
    job->settled = true;
    pthread_cond_broadcast(&j->cv_done);
    size_t nev = 0;
    lh_job **ev = lh_jobs__evict_locked(j, &nev);
    pthread_mutex_unlock(&j->mu);
    lh_jobs__job_unref(job);
    lh_jobs__drop_evicted(ev, nev);
    LH_LOG_INFO("jobs", "cancelled queued job=%s", id);
    return 0;
}

int lh_jobs_wait(lh_jobs *j, const char *id, int timeout_ms, lh_err *err)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (timeout_ms > 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&j->mu);
    if (!find_job(j, id)) {
        pthread_mutex_unlock(&j->mu);
        return lh_err_set(err, LH_NOT_FOUND, "job '%.40s' not found", id ? id : "");
    }
    int rc = 0;
    for (;;) {
        /* Looked up again after every wake: only settled jobs are evicted, so a job that
         * vanished while we slept has finished. */
        lh_job *job = find_job(j, id);
        if (!job || job->settled)
            break;
        if (atomic_load(&j->closing)) {
            rc = lh_err_set(err, LH_UNAVAILABLE, "jobs are shutting down");
            break;
        }
        int e = timeout_ms < 0 ? pthread_cond_wait(&j->cv_done, &j->mu)
                               : pthread_cond_timedwait(&j->cv_done, &j->mu, &deadline);
        if (e == ETIMEDOUT) {
            job = find_job(j, id);
            if (job && !job->settled)
                rc = lh_err_set(err, LH_TIMEOUT, "job '%s' still %s after %d ms", id,
                                lh_jobs__state_name(job->state), timeout_ms);
            break;
        }
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}
