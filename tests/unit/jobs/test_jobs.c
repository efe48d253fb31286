/* Unit tests of the jobs runner: submit/run/result, progress fields, failures, retries with a
 * growing pause, cancel (queued and running), wait timeouts, the worker bound, listing order,
 * many jobs and the ceiling on finished records. */
#include <stdatomic.h>

#include "jobs/jobs_int.h"
#include "test_util.h"

/* {"a","b"} -> result {"sum"}. */
static int job_add(lh_job *job, void *ctx, lh_err *err)
{
    (void)ctx;
    (void)err;
    const json_t *p = lh_job_params(job);
    int64_t a = json_integer_value(json_object_get(p, "a"));
    int64_t b = json_integer_value(json_object_get(p, "b"));
    lh_job_progress(job, 1, 1, NULL);
    lh_job_set_result(job, json_pack("{s:I}", "sum", (json_int_t)(a + b)));
    return 0;
}

static int job_bad(lh_job *job, void *ctx, lh_err *err)
{
    (void)job;
    (void)ctx;
    return lh_err_set(err, LH_INVALID_ARGUMENT, "column 'x' does not exist");
}

Test(jobs, submit_run_succeed_with_result)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 2);
    tj_reg(&t, "add", job_add, NULL, 0);
    tj_start(&t);
    char id[37];
    tj_submit(&t, "add", json_pack("{s:i, s:i}", "a", 2, "b", 40), id);
    cr_expect_eq(strlen(id), 36);
    cr_expect_eq(id[14], '4', "uuid v4");
    tj_wait(&t, id);
    json_t *r = tj_get(&t, id);
    cr_expect_str_eq(tj_state(r), "succeeded");
    cr_expect_str_eq(json_string_value(json_object_get(r, "kind")), "add");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "sum")), 42);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "params"), "a")), 2);
    cr_expect_eq(tj_int(r, "attempts"), 1);
    cr_expect_gt(tj_int(r, "created_ms"), 0);
    cr_expect_geq(tj_int(r, "started_ms"), tj_int(r, "created_ms"));
    cr_expect_geq(tj_int(r, "finished_ms"), tj_int(r, "started_ms"));
    cr_expect_null(json_object_get(r, "error"));
    /* The stored record says the same. */
    json_t *d = tj_disk(&t, id);
    cr_assert_not_null(d);
    cr_expect(json_equal(d, r), "stored record differs from lh_jobs_get");
    json_decref(d);
    json_decref(r);
    tj_fini(&t);
}

Test(jobs, unknown_kind_and_bad_params_refused)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    tj_reg(&t, "add", job_add, NULL, 0);
    lh_err err = LH_ERR_INIT;
    char id[37];
    cr_expect_eq(lh_jobs_submit(t.j, "nope", NULL, id, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect(strstr(err.message, "nope") != NULL, "%s", err.message);
    json_t *arr = json_array();
    cr_expect_eq(lh_jobs_submit(t.j, "add", arr, id, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    json_decref(arr);
    cr_expect_eq(lh_jobs_register(t.j, "add", job_add, NULL, 0, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_eq(lh_jobs_register(t.j, "bad kind!", job_add, NULL, 0, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect_null(lh_jobs_get(t.j, "00000000-0000-4000-8000-000000000000", &err));
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_eq(lh_jobs_cancel(t.j, "x", &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_eq(lh_jobs_wait(t.j, "x", 0, &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_eq(tj_count(&t, "_jobs/"), 0, "a refused submit leaves no record");
    tj_start(&t);
    cr_expect_eq(lh_jobs_register(t.j, "late", job_add, NULL, 0, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_eq(lh_jobs_start(t.j, &err), -1);
    tj_fini(&t);
}

Test(jobs, failing_job_fails_with_its_error)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    tj_reg(&t, "bad", job_bad, NULL, 5);
    tj_start(&t);
    char id[37];
    tj_submit(&t, "bad", NULL, id);
    tj_wait(&t, id);
    json_t *r = tj_disk(&t, id);
    cr_expect_str_eq(tj_state(r), "failed");
    json_t *e = json_object_get(r, "error");
    cr_expect_str_eq(json_string_value(json_object_get(e, "code")), "invalid_argument");
    cr_expect_str_eq(json_string_value(json_object_get(e, "message")),
                     "column 'x' does not exist");
    cr_expect_eq(tj_int(r, "attempts"), 1, "a non-retryable error is not retried");
    cr_expect_null(json_object_get(r, "result"));
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_jobs_cancel(t.j, id, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    json_decref(r);
    tj_fini(&t);
}

/* Fails with upstream_error until params.fail_times calls were made; each attempt saves a
 * checkpoint {"step": n} first, and notes the checkpoint it started from and when. */
typedef struct flaky {
    atomic_int calls;
    int64_t seen_step[8];
    double at_ms[8];
} flaky;

static int job_flaky(lh_job *job, void *ctx, lh_err *err)
{
    flaky *f = ctx;
    int n = atomic_fetch_add(&f->calls, 1);
    const json_t *cp = lh_job_checkpoint(job);
    if (n < 8) {
        f->seen_step[n] = cp ? json_integer_value(json_object_get(cp, "step")) : -1;
        f->at_ms[n] = lh_mono_ms();
    }
    if (lh_job_save_checkpoint(job, json_pack("{s:i}", "step", n + 1), err) != 0)
        return -1;
    if (n < json_integer_value(json_object_get(lh_job_params(job), "fail_times")))
        return lh_err_set(err, LH_UPSTREAM, "model server answered 502");
    lh_job_set_result(job, json_pack("{s:i}", "calls", n + 1));
    return 0;
}

Test(jobs, retryable_failure_retried_from_checkpoint)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    flaky f = {0};
    tj_reg(&t, "flaky", job_flaky, &f, 3);
    tj_start(&t);
    char id[37];
    tj_submit(&t, "flaky", json_pack("{s:i}", "fail_times", 2), id);
    tj_wait(&t, id);
    json_t *r = tj_disk(&t, id);
    cr_expect_str_eq(tj_state(r), "succeeded");
    cr_expect_eq(tj_int(r, "attempts"), 3);
    cr_expect_null(json_object_get(r, "error"));
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "calls")), 3);
    cr_expect_eq(atomic_load(&f.calls), 3);
    cr_expect_eq(f.seen_step[0], -1);
    cr_expect_eq(f.seen_step[1], 1, "retry starts from the last checkpoint");
    cr_expect_eq(f.seen_step[2], 2);
    /* Pauses of 5 ms then 10 ms (LH_JOBS_RETRY_BASE_MS=5): they grow. */
    cr_expect_geq(f.at_ms[1] - f.at_ms[0], 5.0);
    cr_expect_geq(f.at_ms[2] - f.at_ms[1], 10.0);
    json_decref(r);
    tj_fini(&t);
}

Test(jobs, max_attempts_exhausted_fails)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    flaky f = {0};
    tj_reg(&t, "flaky", job_flaky, &f, 2);
    tj_start(&t);
    char id[37];
    tj_submit(&t, "flaky", json_pack("{s:i}", "fail_times", 10), id);
    tj_wait(&t, id);
    json_t *r = tj_get(&t, id);
    cr_expect_str_eq(tj_state(r), "failed");
    cr_expect_eq(tj_int(r, "attempts"), 2);
    cr_expect_eq(atomic_load(&f.calls), 2);
    json_t *e = json_object_get(r, "error");
    cr_expect_str_eq(json_string_value(json_object_get(e, "code")), "upstream_error");
    cr_expect_str_eq(json_string_value(json_object_get(e, "message")),
                     "model server answered 502");
    json_decref(r);
    tj_fini(&t);
}

/* Runs until stopped (or params.ms passed), counting how many run at once. */
static atomic_int running_now, running_max, stop_seen;

static int job_sleepy(lh_job *job, void *ctx, lh_err *err)
{
    (void)ctx;
    int now = atomic_fetch_add(&running_now, 1) + 1;
    int max = atomic_load(&running_max);
    while (now > max && !atomic_compare_exchange_weak(&running_max, &max, now))
        ;
    int64_t ms = json_integer_value(json_object_get(lh_job_params(job), "ms"));
    double end = lh_mono_ms() + (double)(ms > 0 ? ms : 60000);
    int rc = 0;
    while (lh_mono_ms() < end) {
        if (lh_job_should_stop(job)) {
            atomic_fetch_add(&stop_seen, 1);
            rc = lh_err_set(err, LH_INTERNAL, "stopped");
            break;
        }
        tj_sleep_ms(1);
    }
    atomic_fetch_sub(&running_now, 1);
    return rc;
}

static void wait_state(tj *t, const char *id, const char *state)
{
    for (int i = 0; i < 2000; i++) {
        json_t *r = tj_get(t, id);
        bool ok = strcmp(tj_state(r), state) == 0;
        json_decref(r);
        if (ok)
            return;
        tj_sleep_ms(2);
    }
    cr_assert_fail("job %s never reached %s", id, state);
}

Test(jobs, cancel_queued_is_immediate)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    tj_reg(&t, "sleepy", job_sleepy, NULL, 0);
    tj_start(&t);
    char busy[37], queued[37];
    tj_submit(&t, "sleepy", NULL, busy);
    wait_state(&t, busy, "running");
    tj_submit(&t, "sleepy", NULL, queued);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_jobs_cancel(t.j, queued, &err), 0, "%s", err.message);
    json_t *r = tj_get(&t, queued);
    cr_expect_str_eq(tj_state(r), "cancelled");
    cr_expect_eq(tj_int(r, "attempts"), 0);
    cr_expect_gt(tj_int(r, "finished_ms"), 0);
    json_decref(r);
    r = tj_disk(&t, queued);
    cr_expect_str_eq(tj_state(r), "cancelled");
    json_decref(r);
    cr_expect_eq(lh_jobs_wait(t.j, queued, 0, &err), 0);
    cr_expect_eq(lh_jobs_cancel(t.j, queued, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_assert_eq(lh_jobs_cancel(t.j, busy, &err), 0);
    tj_wait(&t, busy);
    tj_fini(&t);
}

Test(jobs, cancel_running_is_cooperative_and_wait_times_out)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 2);
    tj_reg(&t, "sleepy", job_sleepy, NULL, 0);
    tj_start(&t);
    char id[37];
    tj_submit(&t, "sleepy", NULL, id);
    wait_state(&t, id, "running");
    lh_err err = LH_ERR_INIT;
    double t0 = lh_mono_ms();
    cr_expect_eq(lh_jobs_wait(t.j, id, 50, &err), -1);
    cr_expect_eq(err.code, LH_TIMEOUT);
    cr_expect_geq(lh_mono_ms() - t0, 45.0);
    cr_assert_eq(lh_jobs_cancel(t.j, id, &err), 0, "%s", err.message);
    tj_wait(&t, id);
    cr_expect_eq(atomic_load(&stop_seen), 1, "the body saw lh_job_should_stop");
    json_t *r = tj_disk(&t, id);
    cr_expect_str_eq(tj_state(r), "cancelled");
    cr_expect_null(json_object_get(r, "error"), "a cancelled job has no error");
    cr_expect_eq(tj_int(r, "attempts"), 1);
    json_decref(r);
    tj_fini(&t);
}

/* Reports 5 of 10 with an extra field, then waits for the test to look. */
static atomic_bool gate_open;

static int job_prog(lh_job *job, void *ctx, lh_err *err)
{
    (void)ctx;
    (void)err;
    tj_sleep_ms(20);
    lh_job_progress(job, 5, 10, json_pack("{s:s}", "phase", "embedding"));
    while (!atomic_load(&gate_open))
        tj_sleep_ms(1);
    lh_job_progress(job, 10, 10, NULL);
    return 0;
}

Test(jobs, progress_fields)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    tj_reg(&t, "prog", job_prog, NULL, 0);
    char id[37];
    tj_submit(&t, "prog", NULL, id);
    /* Queued: nothing known yet. */
    json_t *r = tj_get(&t, id);
    cr_expect_str_eq(tj_state(r), "queued");
    json_t *p = json_object_get(r, "progress");
    cr_expect_eq(tj_int(p, "done"), 0);
    cr_expect(json_is_null(json_object_get(p, "total")));
    cr_expect(json_is_null(json_object_get(p, "rate_per_s")));
    cr_expect(json_is_null(json_object_get(p, "eta_s")));
    json_decref(r);
    tj_start(&t);
    for (int i = 0; i < 2000; i++) {
        r = tj_get(&t, id);
        if (tj_int(json_object_get(r, "progress"), "done") == 5)
            break;
        json_decref(r);
        r = NULL;
        tj_sleep_ms(2);
    }
    cr_assert_not_null(r, "progress never reported");
    p = json_object_get(r, "progress");
    cr_expect_eq(tj_int(p, "total"), 10);
    double rate = json_number_value(json_object_get(p, "rate_per_s"));
    double eta = json_number_value(json_object_get(p, "eta_s"));
    cr_expect(json_is_number(json_object_get(p, "rate_per_s")));
    /* 5 done in >= 20 ms: at most 250/s; the other 5 at that rate take 5/rate seconds. */
    cr_expect(rate > 0 && rate <= 250.0, "rate %f", rate);
    cr_expect(eta > 0 && eta < 5.0 / rate + 0.001 && eta > 5.0 / rate - 0.001, "eta %f", eta);
    cr_expect_str_eq(json_string_value(json_object_get(p, "phase")), "embedding");
    json_decref(r);
    atomic_store(&gate_open, true);
    tj_wait(&t, id);
    r = tj_disk(&t, id);
    p = json_object_get(r, "progress");
    cr_expect_eq(tj_int(p, "done"), 10);
    cr_expect_eq(json_number_value(json_object_get(p, "eta_s")), 0.0);
    cr_expect_str_eq(json_string_value(json_object_get(p, "phase")), "embedding");
    json_decref(r);
    tj_fini(&t);
}

Test(jobs, never_more_running_than_workers)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 2);
    tj_reg(&t, "sleepy", job_sleepy, NULL, 0);
    tj_start(&t);
    char ids[8][37];
    for (int i = 0; i < 8; i++)
        tj_submit(&t, "sleepy", json_pack("{s:i}", "ms", 25), ids[i]);
    for (int i = 0; i < 8; i++)
        tj_wait(&t, ids[i]);
    cr_expect_eq(atomic_load(&running_max), 2);
    cr_expect_eq(atomic_load(&running_now), 0);
    tj_fini(&t);
}

Test(jobs, list_newest_first_by_kind)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    tj_reg(&t, "add", job_add, NULL, 0);
    tj_reg(&t, "bad", job_bad, NULL, 0);
    char a[37], b[37], c[37];
    tj_submit(&t, "add", NULL, a);
    tj_submit(&t, "bad", NULL, b);
    tj_submit(&t, "add", NULL, c);
    json_t *l = lh_jobs_list(t.j, NULL);
    json_t *arr = json_object_get(l, "jobs");
    cr_assert_eq(json_array_size(arr), 3);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "id")), c);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(arr, 1), "id")), b);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(arr, 2), "id")), a);
    json_decref(l);
    tj_start(&t);
    tj_wait(&t, c);
    l = lh_jobs_list(t.j, "add");
    arr = json_object_get(l, "jobs");
    cr_assert_eq(json_array_size(arr), 2);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "id")), c);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(arr, 1), "id")), a);
    json_decref(l);
    tj_fini(&t);
}

Test(jobs, many_jobs_complete)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 2);
    tj_reg(&t, "add", job_add, NULL, 0);
    tj_start(&t);
    enum { N = 200 };
    static char ids[N][37];
    for (int i = 0; i < N; i++)
        tj_submit(&t, "add", json_pack("{s:i, s:i}", "a", i, "b", 1), ids[i]);
    for (int i = 0; i < N; i++) {
        tj_wait(&t, ids[i]);
        json_t *r = tj_get(&t, ids[i]);
        cr_expect_str_eq(tj_state(r), "succeeded");
        cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "sum")),
                     i + 1);
        json_decref(r);
    }
    json_t *l = lh_jobs_list(t.j, NULL);
    cr_expect_eq(json_array_size(json_object_get(l, "jobs")), N);
    json_decref(l);
    cr_expect_eq(tj_count(&t, "_jobs/"), N);
    tj_fini(&t);
}

Test(jobs, finished_records_past_the_ceiling_are_deleted)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    t.j->keep_finished = 5; /* LH_JOBS__KEEP_FINISHED is 1000: too many for a unit test */
    tj_reg(&t, "add", job_add, NULL, 0);
    tj_reg(&t, "sleepy", job_sleepy, NULL, 0);
    tj_start(&t);
    char ids[12][37], last[37];
    for (int i = 0; i < 12; i++)
        tj_submit(&t, "add", NULL, ids[i]);
    tj_wait(&t, ids[11]);
    /* An unfinished job is never evicted, however old. */
    tj_submit(&t, "sleepy", NULL, last);
    wait_state(&t, last, "running");
    json_t *l = lh_jobs_list(t.j, NULL);
    json_t *arr = json_object_get(l, "jobs");
    cr_assert_eq(json_array_size(arr), 6);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(arr, 1), "id")), ids[11]);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(arr, 5), "id")), ids[7]);
    json_decref(l);
    cr_expect_eq(tj_count(&t, "_jobs/"), 6);
    lh_err err = LH_ERR_INIT;
    cr_expect_null(lh_jobs_get(t.j, ids[0], &err));
    cr_expect_null(tj_disk(&t, ids[0]));
    cr_assert_eq(lh_jobs_cancel(t.j, last, &err), 0);
    tj_wait(&t, last);
    /* The worker deletes the evicted record just after the job settles. */
    for (int i = 0; i < 1000 && tj_count(&t, "_jobs/") > 5; i++)
        tj_sleep_ms(1);
    cr_expect_eq(tj_count(&t, "_jobs/"), 5);
    tj_fini(&t);
}
