/* jobs workers: the threads that take queued jobs in FIFO order and run their kind's
 * function, with retries of retryable failures, cooperative cancel and shutdown (a job
 * stopped by close stays queued for the next start), and the calls a job body makes:
 * progress, checkpoint, result, should_stop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "jobs/jobs_int.h"

/* Writes job's record now; called and returns with mu held. */
static void persist_locked(lh_jobs *j, lh_job *job, const char *what)
{
    lh_jobs__pending p;
    lh_jobs__snapshot(job, &p);
    pthread_mutex_unlock(&j->mu);
    lh_jobs__write_logged(&p, what);
    pthread_mutex_lock(&j->mu);
}

/* Moves job to a final state, writes it, wakes waiters and trims old records. mu held. */
static void finish_locked(lh_jobs *j, lh_job *job, lh_jobs__state state, double t0)
{
    job->state = state;
    job->finished_ms = lh_now_ms();
    if (state == LH_JOBS__SUCCEEDED && job->total >= 0 && job->done >= job->total) {
        job->has_eta = true;
        job->eta_s = 0;
    }
    persist_locked(j, job, lh_jobs__state_name(state));
    job->settled = true;
    pthread_cond_broadcast(&j->cv_done);
    size_t nev = 0;
    lh_job **ev = lh_jobs__evict_locked(j, &nev);
    int attempts = job->attempts;
    lh_code code = job->error.code;
    pthread_mutex_unlock(&j->mu);
    lh_jobs__drop_evicted(ev, nev);
    double ms = lh_mono_ms() - t0;
    if (state == LH_JOBS__FAILED)
        LH_LOG_ERROR("jobs", "job failed job=%s kind=%s attempts=%d code=%s ms=%.0f: %s %s",
                     job->id, job->kind, attempts, lh_code_name(code), ms, job->error.message,
                     job->error.detail);
    else
        LH_LOG_INFO("jobs", "job %s job=%s kind=%s attempts=%d ms=%.0f",
                    lh_jobs__state_name(state), job->id, job->kind, attempts, ms);
    pthread_mutex_lock(&j->mu);
}

/* Leaves job queued for the next lh_jobs_start (shutdown). mu held. */
static void park_locked(lh_jobs *j, lh_job *job)
{
    job->state = LH_JOBS__QUEUED;
    persist_locked(j, job, "parked");
    LH_LOG_INFO("jobs", "job stopped by shutdown, resumable job=%s kind=%s", job->id, job->kind);
}

static int64_t backoff_ms(int64_t base, int attempt)
{
    int64_t pause = base;
    for (int i = 1; i < attempt && pause < LH_JOBS__RETRY_MAX_PAUSE_MS; i++)
        pause *= 2;
    return pause < LH_JOBS__RETRY_MAX_PAUSE_MS ? pause : LH_JOBS__RETRY_MAX_PAUSE_MS;
}

/* Sleeps up to ms, waking early on a cancel of job or a close. mu held. */
static void pause_locked(lh_jobs *j, lh_job *job, int64_t ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += (time_t)(ms / 1000);
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (!atomic_load(&job->cancel) && !atomic_load(&j->closing))
        if (pthread_cond_timedwait(&j->cv_stop, &j->mu, &dl) == ETIMEDOUT)
            break;
}

/* Runs job until it settles or is parked by shutdown. mu held on entry and on return. */
static void run_locked(lh_jobs *j, lh_job *job)
{
    /* Kinds are fixed once started and live in the registry's array: the pointer stays. */
    const lh_jobs__kind *k = lh_jobs__find_kind(j, job->kind);
    LH_ASSERT(k != NULL);
    double t0 = lh_mono_ms();
    for (;;) {
        job->state = LH_JOBS__RUNNING;
        job->attempts++;
        if (job->started_ms == 0)
            job->started_ms = lh_now_ms();
        job->has_error = false;
        /* A run from scratch measures its rate from zero; a resumed one from its first
         * report, since the work before the checkpoint was not done in this run. */
        job->base_set = job->checkpoint == NULL;
        job->base_done = 0;
        job->base_mono = job->last_write_mono = lh_mono_ms();
        job->has_rate = job->has_eta = false;
        persist_locked(j, job, "running");
        int attempt = job->attempts;
        pthread_mutex_unlock(&j->mu);

        LH_LOG_DEBUG("jobs", "job running job=%s kind=%s attempt=%d", job->id, job->kind,
                     attempt);
        lh_err e = LH_ERR_INIT;
        int rc = k->fn(job, k->ctx, &e);
        lh_fault_point("jobs.after_run");

        pthread_mutex_lock(&j->mu);
        if (rc == 0) {
            if (job->result_too_large) {
                job->has_error = true;
                lh_err_set(&job->error, LH_TOO_LARGE, "job result of %zu bytes is over %zu",
                           job->result_bytes, LH_JOBS__RESULT_MAX);
                finish_locked(j, job, LH_JOBS__FAILED, t0);
            } else {
                finish_locked(j, job, LH_JOBS__SUCCEEDED, t0);
            }
            return;
        }
        if (atomic_load(&job->cancel)) {
            finish_locked(j, job, LH_JOBS__CANCELLED, t0);
            return;
        }
        if (atomic_load(&j->closing)) {
            job->attempts--; /* stopped by us, not failed: the run does not use up an attempt */
            park_locked(j, job);
            return;
        }
        if (e.code == LH_OK)
            lh_err_set(&e, LH_INTERNAL, "job of kind '%s' failed without an error", job->kind);
        if (!lh_jobs__retryable(e.code) || job->attempts >= k->max_attempts) {
            job->has_error = true;
            job->error = e;
            finish_locked(j, job, LH_JOBS__FAILED, t0);
            return;
        }
        int64_t pause = backoff_ms(j->retry_base_ms, job->attempts);
        LH_LOG_WARN("jobs", "job attempt failed, retrying job=%s kind=%s attempt=%d/%d "
                    "pause_ms=%lld code=%s: %s", job->id, job->kind, job->attempts,
                    k->max_attempts, (long long)pause, lh_code_name(e.code), e.message);
        pause_locked(j, job, pause);
        if (atomic_load(&job->cancel)) {
            finish_locked(j, job, LH_JOBS__CANCELLED, t0);
            return;
        }
        if (atomic_load(&j->closing)) {
            park_locked(j, job);
            return;
        }
    }
}

void *lh_jobs__worker_main(void *arg)
{
    lh_jobs *j = arg;
    char name[16];
    snprintf(name, sizeof name, "lh-job-%d", atomic_fetch_add(&j->next_worker, 1));
    (void)prctl(PR_SET_NAME, name, 0, 0, 0); /* a name only helps debugging: ignore failure */
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!atomic_load(&j->closing) && !j->qhead)
            pthread_cond_wait(&j->cv_work, &j->mu);
        if (atomic_load(&j->closing))
            break;
        lh_job *job = j->qhead;
        j->qhead = job->qnext;
        if (!j->qhead)
            j->qtail = NULL;
        job->qnext = NULL;
        job->in_queue = false;
        lh_jobs__job_ref(job); /* it may be evicted as soon as it settles */
        run_locked(j, job);
        lh_jobs__job_unref(job);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* ---- inside a job function ---------------------------------------------------------------- */

const char *lh_job_id(const lh_job *job)
{
    return job->id;
}

const json_t *lh_job_params(const lh_job *job)
{
    return job->params;
}

const json_t *lh_job_checkpoint(const lh_job *job)
{
    return job->checkpoint;
}

static size_t dumped_size(const json_t *v)
{
    char *s = lh_json_dump(v);
    size_t n = strlen(s);
    free(s);
    return n;
}

int lh_job_save_checkpoint(lh_job *job, json_t *checkpoint, lh_err *err)
{
    if (!checkpoint)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "job '%s': checkpoint is NULL", job->id);
    size_t n = dumped_size(checkpoint);
    if (n > LH_JOBS__CHECKPOINT_MAX) {
        json_decref(checkpoint);
        return lh_err_set(err, LH_TOO_LARGE, "job '%s': checkpoint of %zu bytes is over %zu",
                          job->id, n, LH_JOBS__CHECKPOINT_MAX);
    }
    lh_jobs *j = job->owner;
    pthread_mutex_lock(&j->mu);
    json_t *old = job->checkpoint;
    job->checkpoint = checkpoint;
    job->last_write_mono = lh_mono_ms();
    lh_jobs__pending p;
    lh_jobs__snapshot(job, &p);
    pthread_mutex_unlock(&j->mu);
    json_decref(old);
    if (lh_jobs__write(&p, err) != 0)
        return lh_err_prefix(err, "job '%s': cannot save checkpoint: ", job->id);
    lh_fault_point("jobs.after_checkpoint");
    return 0;
}

/* Rate and ETA from the current run's base; mu held. */
static void update_rate_locked(lh_job *job, double now)
{
    if (!job->base_set) {
        job->base_set = true;
        job->base_done = job->done;
        job->base_mono = now;
        job->has_rate = job->has_eta = false;
        return;
    }
    double dt = (now - job->base_mono) / 1000.0;
    if (dt < 0.001 || job->done < job->base_done) {
        job->has_rate = job->has_eta = false;
        return;
    }
    job->has_rate = true;
    job->rate_per_s = (double)(job->done - job->base_done) / dt;
    job->has_eta = job->total >= 0 && job->rate_per_s > 0;
    if (job->has_eta) {
        double left = (double)(job->total - job->done);
        job->eta_s = left > 0 ? left / job->rate_per_s : 0;
    }
}

static void merge_extra_locked(lh_job *job, json_t *extra)
{
    if (!json_is_object(extra)) {
        LH_LOG_WARN("jobs", "job=%s: progress extra is not an object, ignored", job->id);
        return;
    }
    size_t n = dumped_size(extra);
    if (n > LH_JOBS__EXTRA_MAX || json_object_size(job->extra) + json_object_size(extra) > 64) {
        LH_LOG_WARN("jobs", "job=%s: progress extra of %zu bytes is too large, ignored",
                    job->id, n);
        return;
    }
    json_object_update(job->extra, extra);
}

void lh_job_progress(lh_job *job, int64_t done, int64_t total, json_t *extra)
{
    lh_jobs *j = job->owner;
    double now = lh_mono_ms();
    pthread_mutex_lock(&j->mu);
    job->done = done < 0 ? 0 : done;
    job->total = total < 0 ? -1 : total;
    if (extra)
        merge_extra_locked(job, extra);
    update_rate_locked(job, now);
    if (now - job->last_write_mono < LH_JOBS__PROGRESS_WRITE_MS) {
        pthread_mutex_unlock(&j->mu);
        json_decref(extra);
        return;
    }
    job->last_write_mono = now;
    lh_jobs__pending p;
    lh_jobs__snapshot(job, &p);
    pthread_mutex_unlock(&j->mu);
    json_decref(extra);
    lh_jobs__write_logged(&p, "progress");
}

void lh_job_set_result(lh_job *job, json_t *result)
{
    size_t n = result ? dumped_size(result) : 0;
    lh_jobs *j = job->owner;
    pthread_mutex_lock(&j->mu);
    json_t *old = job->result;
    job->result = NULL;
    job->result_too_large = n > LH_JOBS__RESULT_MAX;
    job->result_bytes = n;
    if (!job->result_too_large) {
        job->result = result;
        result = NULL;
    }
    pthread_mutex_unlock(&j->mu);
    json_decref(old);
    json_decref(result);
}

bool lh_job_should_stop(const lh_job *job)
{
    return atomic_load(&job->cancel) || atomic_load(&job->owner->closing);
}
