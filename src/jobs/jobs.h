/* jobs: long work (index builds today; embedding refreshes, autotune and scheduled ingest
 * later) as background jobs on a bounded worker pool, each with a durable record, progress,
 * cancel, checkpoints and bounded retry.
 *
 * A job kind is a function registered by name. A job's record lives in the bucket given at
 * open, at _jobs/<id>.json, rewritten atomically on every state change and checkpoint; at
 * lh_jobs_start, records left "queued" or "running" by a previous process (killed, or shut
 * down mid-job) are queued again and their function is called with the last checkpoint, so
 * a job resumes where it stopped. A job function that fails with a retryable code
 * (upstream_error, unavailable, timeout, busy, io_error) is run again from its checkpoint,
 * up to the kind's max_attempts, with a growing pause between attempts.
 *
 * Record (lh_jobs_get): {"id","kind","state":"queued|running|succeeded|failed|cancelled",
 * "params":{...},"progress":{"done","total","rate_per_s","eta_s",...extra},"result":{...}?,
 * "error":{"code","message"}?,"attempts","created_ms","started_ms"?,"finished_ms"?,
 * "checkpoint":{...}?}.
 *
 * Threads: every function may be called from any thread. */
#ifndef LH_JOBS_H
#define LH_JOBS_H

#include "core/core.h"
#include "storage/storage.h"

typedef struct lh_jobs lh_jobs;
typedef struct lh_job lh_job;

/* The body of a job kind, run on a worker thread. Returns 0 when done (the job succeeds,
 * with the result set by lh_job_set_result if any) or -1 with err filled. When it returns
 * -1 after lh_job_should_stop became true, the job is cancelled (or, at shutdown, stays
 * queued for the next start) rather than failed. */
typedef int (*lh_job_fn)(lh_job *job, void *ctx, lh_err *err);

/* Opens the registry over bucket b (borrowed) with `workers` threads (<= 0: 2). Reads the
 * records already there; corrupt ones are logged and skipped, never fatal. */
lh_jobs *lh_jobs_open(lh_bucket *b, int workers, lh_err *err);
/* Registers a kind before lh_jobs_start. max_attempts <= 0 means 3. */
int lh_jobs_register(lh_jobs *j, const char *kind, lh_job_fn fn, void *ctx, int max_attempts,
                     lh_err *err) LH_MUST_CHECK;
/* Starts the workers and re-queues unfinished records of registered kinds (oldest first). */
int lh_jobs_start(lh_jobs *j, lh_err *err) LH_MUST_CHECK;
/* Asks running jobs to stop at their next lh_job_should_stop check, waits for them (their
 * records stay resumable), stops the workers and frees everything. */
void lh_jobs_close(lh_jobs *j);

/* Records a new queued job (durably) and returns its id in id_out. invalid_argument for an
 * unknown kind; params is copied. */
int lh_jobs_submit(lh_jobs *j, const char *kind, const json_t *params, char id_out[37],
                   lh_err *err) LH_MUST_CHECK;
/* The record of job id (see above), new reference; NULL + not_found. */
json_t *lh_jobs_get(lh_jobs *j, const char *id, lh_err *err);
/* {"jobs":[record...]} newest first, of one kind or all (kind NULL), without checkpoints. */
json_t *lh_jobs_list(lh_jobs *j, const char *kind);
/* Cancels a queued or running job (a running one stops at its next check). not_found;
 * conflict when it already finished. */
int lh_jobs_cancel(lh_jobs *j, const char *id, lh_err *err) LH_MUST_CHECK;
/* Waits until job id has finished or timeout_ms passed (< 0: forever). 0 when finished;
 * timeout otherwise; not_found. */
int lh_jobs_wait(lh_jobs *j, const char *id, int timeout_ms, lh_err *err) LH_MUST_CHECK;

/* ---- inside a job function --------------------------------------------------------------- */

const char *lh_job_id(const lh_job *job);
const json_t *lh_job_params(const lh_job *job);
/* The last saved checkpoint, or NULL on a first run. */
const json_t *lh_job_checkpoint(const lh_job *job);
/* Saves a checkpoint (stolen) durably in the record before returning. */
int lh_job_save_checkpoint(lh_job *job, json_t *checkpoint, lh_err *err) LH_MUST_CHECK;
/* Reports progress; extra (stolen, may be NULL) is merged into "progress". Rate and ETA are
 * computed from done over the time since this run started. Cheap: the record is written at
 * most every 500 ms (and at checkpoints and the end). */
void lh_job_progress(lh_job *job, int64_t done, int64_t total, json_t *extra);
/* The job's result (stolen), shown in the record once it succeeds. */
void lh_job_set_result(lh_job *job, json_t *result);
/* true once the job was cancelled or the registry is closing. */
bool lh_job_should_stop(const lh_job *job);

#endif
