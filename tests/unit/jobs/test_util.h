/* Shared helpers for the jobs unit tests: a temporary data dir with storage, a registry over
 * its primary bucket, record reads straight from the bucket, and small sleeps. */
#ifndef LH_TEST_JOBS_UTIL_H
#define LH_TEST_JOBS_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/jobs.h"

typedef struct tj {
    char dir[64];
    lh_storage *s;
    lh_bucket *b;
    lh_jobs *j;
} tj;

static inline void tj_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void tj_open_storage(tj *t)
{
    lh_err err = LH_ERR_INIT;
    t->s = lh_storage_open(t->dir, &err);
    cr_assert_not_null(t->s, "storage open: %s", err.message);
    t->b = lh_storage_bucket(t->s, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(t->b);
}

/* A fresh data dir; retry pauses of a few ms so retry tests stay fast. */
static inline void tj_init(tj *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/lh-jobs-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    setenv("LH_JOBS_RETRY_BASE_MS", "5", 1);
    tj_open_storage(t);
    t->j = NULL;
}

static inline void tj_open(tj *t, int workers)
{
    lh_err err = LH_ERR_INIT;
    t->j = lh_jobs_open(t->b, workers, &err);
    cr_assert_not_null(t->j, "jobs open: %s", err.message);
}

static inline void tj_reg(tj *t, const char *kind, lh_job_fn fn, void *ctx, int max_attempts)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_jobs_register(t->j, kind, fn, ctx, max_attempts, &err), 0, "register: %s",
                 err.message);
}

static inline void tj_start(tj *t)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_jobs_start(t->j, &err), 0, "start: %s", err.message);
}

static inline void tj_submit(tj *t, const char *kind, json_t *params, char id[37])
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_jobs_submit(t->j, kind, params, id, &err), 0, "submit: %s", err.message);
    json_decref(params);
}

static inline void tj_wait(tj *t, const char *id)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_jobs_wait(t->j, id, 10000, &err), 0, "wait: %s", err.message);
}

/* The in-memory record (owned). */
static inline json_t *tj_get(tj *t, const char *id)
{
    lh_err err = LH_ERR_INIT;
    json_t *r = lh_jobs_get(t->j, id, &err);
    cr_assert_not_null(r, "get: %s", err.message);
    return r;
}

static inline const char *tj_state(const json_t *r)
{
    return json_string_value(json_object_get(r, "state"));
}

static inline int64_t tj_int(const json_t *r, const char *key)
{
    return json_integer_value(json_object_get(r, key));
}

/* The record as stored at _jobs/<id>.json (owned), or NULL when there is none. */
static inline json_t *tj_disk(tj *t, const char *id)
{
    char key[64];
    snprintf(key, sizeof key, "_jobs/%s.json", id);
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *text = lh_bucket_read_all(t->b, key, 1 << 24, &len, &err);
    if (!text)
        return NULL;
    json_t *r = lh_json_parse(text, len, &err);
    free(text);
    cr_assert_not_null(r, "stored record: %s", err.message);
    return r;
}

static inline size_t tj_count(tj *t, const char *prefix)
{
    lh_object_info *infos = NULL;
    size_t n = 0;
    bool trunc = false;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_list(t->b, prefix, 100000, &infos, &n, &trunc, &err), 0);
    lh_object_infos_free(infos, n);
    return n;
}

static inline void tj_close(tj *t)
{
    lh_jobs_close(t->j);
    t->j = NULL;
}

static inline void tj_fini(tj *t)
{
    if (t->j)
        tj_close(t);
    lh_storage_close(t->s);
    lh_err err = LH_ERR_INIT;
    (void)!lh_remove_tree(t->dir, &err);
}

#endif
