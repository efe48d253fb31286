/* jobs internals shared by jobs.c (registry, queue, API), record.c (the durable record:
 * JSON in and out, atomic writes, load at open) and worker.c (the worker threads and the
 * functions a job body calls). Never included from outside src/jobs/. */
#ifndef LH_JOBS_INT_H
#define LH_JOBS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "jobs/jobs.h"

#define LH_JOBS__PREFIX "_jobs/"
/* Finished records kept (in memory and in the bucket); older finished ones are deleted. */
#define LH_JOBS__KEEP_FINISHED 1000
/* Unfinished (queued or running) jobs at most; submit answers busy past it. */
#define LH_JOBS__MAX_UNFINISHED 10000
/* Records listed at open at most (finished + unfinished + slack for strays). */
#define LH_JOBS__LOAD_MAX 20000
/* Ceilings on one record and on the parts a caller or job body supplies. */
#define LH_JOBS__RECORD_MAX ((size_t)8 << 20)
#define LH_JOBS__PARAMS_MAX ((size_t)1 << 20)
#define LH_JOBS__CHECKPOINT_MAX ((size_t)4 << 20)
#define LH_JOBS__RESULT_MAX ((size_t)1 << 20)
#define LH_JOBS__EXTRA_MAX ((size_t)64 << 10)
#define LH_JOBS__MAX_KINDS 64
#define LH_JOBS__KIND_MAX 64
#define LH_JOBS__MAX_WORKERS 64
#define LH_JOBS__DEFAULT_WORKERS 2
#define LH_JOBS__DEFAULT_ATTEMPTS 3
/* Progress is written to the record at most this often. */
#define LH_JOBS__PROGRESS_WRITE_MS 500.0
#define LH_JOBS__RETRY_BASE_MS 1000
#define LH_JOBS__RETRY_MAX_PAUSE_MS 60000
#define LH_JOBS__RETRY_ENV "LH_JOBS_RETRY_BASE_MS"

typedef enum lh_jobs__state {
    LH_JOBS__QUEUED = 0,
    LH_JOBS__RUNNING,
    LH_JOBS__SUCCEEDED,
    LH_JOBS__FAILED,
    LH_JOBS__CANCELLED,
} lh_jobs__state;

typedef struct lh_jobs__kind {
    char *name;
    lh_job_fn fn;
    void *ctx;
    int max_attempts;
} lh_jobs__kind;

/* One job. Fields marked (mu) are read and written under the registry mutex; the job body
 * reads params and checkpoint without it, which is safe because only the body's own thread
 * replaces them. */
struct lh_job {
    lh_jobs *owner;
    char id[37];
    char *kind;
    lh_jobs__state state; /* (mu) */
    json_t *params;       /* object, never NULL; immutable after submit */
    json_t *checkpoint;   /* (mu) NULL on a first run */
    json_t *result;       /* (mu) */
    json_t *extra;        /* (mu) extra progress fields, object, never NULL */
    bool result_too_large;
    size_t result_bytes;
    int64_t done, total;  /* (mu) total < 0: unknown */
    bool has_rate;        /* (mu) */
    double rate_per_s;
    bool has_eta;
    double eta_s;
    bool has_error; /* (mu) */
    lh_err error;
    int attempts;                                /* (mu) */
    int64_t created_ms, started_ms, finished_ms; /* (mu) 0: not yet */
    uint64_t order;                              /* (mu) position in submission order */
    atomic_bool cancel;
    bool in_queue; /* (mu) */
    lh_job *qnext; /* (mu) */
    /* Rate base of the current run (worker thread, under mu). */
    bool base_set;
    int64_t base_done;
    double base_mono;
    double last_write_mono;
    /* (mu) the final state's record was written (or its write failed and was logged): a
     * waiter may return, and the record may be evicted. */
    bool settled;
    atomic_int refs;
    /* Record writes: snapshots are numbered under mu and written under wmu, newest only,
     * so a slow older write never lands after a newer one. */
    pthread_mutex_t wmu;
    uint64_t seq;         /* (mu) last snapshot number */
    uint64_t written_seq; /* (wmu) */
    bool deleted;         /* (wmu) record removed from the bucket: write nothing more */
};

struct lh_jobs {
    lh_bucket *bucket;
    int nworkers;
    pthread_t *threads;
    int nthreads;
    atomic_int next_worker; /* numbers the worker threads' names */
    bool started; /* (mu) */
    pthread_mutex_t mu;
    pthread_cond_t cv_work; /* a job was queued, or closing */
    pthread_cond_t cv_done; /* a job settled (monotonic clock) */
    pthread_cond_t cv_stop; /* a cancel or close (monotonic clock): wakes retry pauses */
    atomic_bool closing;
    lh_jobs__kind kinds[LH_JOBS__MAX_KINDS];
    size_t nkinds;
    lh_job **jobs; /* (mu) ascending order; ceiling KEEP_FINISHED + MAX_UNFINISHED (+ loaded) */
    size_t njobs, cap;
    lh_job *qhead, *qtail; /* (mu) FIFO of runnable queued jobs */
    uint64_t next_order;
    int64_t retry_base_ms;
    size_t keep_finished; /* LH_JOBS__KEEP_FINISHED; tests lower it */
};

/* A record snapshot taken under mu, written after mu is released. */
typedef struct lh_jobs__pending {
    lh_job *job; /* referenced */
    char *text;
    uint64_t seq;
} lh_jobs__pending;

/* ---- record.c ---- */
const char *lh_jobs__state_name(lh_jobs__state s);
bool lh_jobs__state_final(lh_jobs__state s);
/* The record as JSON (new reference); caller holds mu. */
json_t *lh_jobs__record_json(const lh_job *job, bool with_checkpoint);
/* Snapshots job's record under mu (takes a reference). */
void lh_jobs__snapshot(lh_job *job, lh_jobs__pending *p);
/* Writes a snapshot (outside mu) unless a newer one was written; releases p. */
int lh_jobs__write(lh_jobs__pending *p, lh_err *err) LH_MUST_CHECK;
/* Like lh_jobs__write, logging a failure instead of returning it. */
void lh_jobs__write_logged(lh_jobs__pending *p, const char *what);
/* Deletes job's record (outside mu) and marks it so nothing writes it again. */
void lh_jobs__delete_record(lh_job *job);
/* Loads every record under _jobs/ into j (at open, before any thread exists). Corrupt
 * records are logged and skipped. */
int lh_jobs__load(lh_jobs *j, lh_err *err) LH_MUST_CHECK;

/* ---- jobs.c ---- */
lh_job *lh_jobs__job_new(lh_jobs *j, const char *id, const char *kind, json_t *params);
void lh_jobs__job_ref(lh_job *job);
void lh_jobs__job_unref(lh_job *job);
/* Appends to the registry's array (under mu or before threads). */
void lh_jobs__append(lh_jobs *j, lh_job *job);
/* Removes the oldest settled finished jobs past the ceiling from the array (under mu) and
 * returns them (owned array of referenced jobs) for lh_jobs__drop_evicted outside mu. */
lh_job **lh_jobs__evict_locked(lh_jobs *j, size_t *n);
void lh_jobs__drop_evicted(lh_job **ev, size_t n);
const lh_jobs__kind *lh_jobs__find_kind(const lh_jobs *j, const char *name);
bool lh_jobs__retryable(lh_code code);

/* ---- worker.c ---- */
void *lh_jobs__worker_main(void *arg);

#endif
