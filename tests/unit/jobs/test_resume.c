/* Unit tests of the jobs runner's durability: close mid-job and resume from the checkpoint
 * exactly once, records of unregistered kinds kept but not run, corrupt records skipped,
 * and crashes (fault injection in a forked child) at a checkpoint and inside a record write. */
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

/* Works through items 0..n-1 (params.n), saving a checkpoint {"next"} every 5 items and when
 * asked to stop, so no item is done twice. */
enum { COUNT_N = 40 };
static atomic_int item_done[COUNT_N];
static atomic_int items_total, completions;
static atomic_long resumed_from = -1;

static int job_count(lh_job *job, void *ctx, lh_err *err)
{
    (void)ctx;
    int64_t n = json_integer_value(json_object_get(lh_job_params(job), "n"));
    const json_t *cp = lh_job_checkpoint(job);
    int64_t i = cp ? json_integer_value(json_object_get(cp, "next")) : 0;
    if (cp)
        atomic_store(&resumed_from, (long)i);
    for (; i < n; i++) {
        if (lh_job_should_stop(job)) {
            if (lh_job_save_checkpoint(job, json_pack("{s:I}", "next", (json_int_t)i), err))
                return -1;
            return lh_err_set(err, LH_INTERNAL, "stopped at %lld", (long long)i);
        }
        atomic_fetch_add(&item_done[i], 1);
        atomic_fetch_add(&items_total, 1);
        lh_job_progress(job, i + 1, n, NULL);
        if ((i + 1) % 5 == 0 &&
            lh_job_save_checkpoint(job, json_pack("{s:I}", "next", (json_int_t)(i + 1)), err))
            return -1;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_add(&completions, 1);
    lh_job_set_result(job, json_pack("{s:I}", "items", (json_int_t)n));
    return 0;
}

Test(resume, close_mid_job_then_reopen_resumes_exactly_once)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 2);
    tj_reg(&t, "count", job_count, NULL, 0);
    tj_start(&t);
    char id[37];
    tj_submit(&t, "count", json_pack("{s:i}", "n", COUNT_N), id);
    for (int i = 0; i < 5000 && atomic_load(&items_total) < 12; i++)
        tj_sleep_ms(1);
    cr_assert_geq(atomic_load(&items_total), 12);
    tj_close(&t);
    int at_close = atomic_load(&items_total);
    cr_assert_lt(at_close, COUNT_N, "the job finished before close: make it slower");
    json_t *r = tj_disk(&t, id);
    cr_expect_str_eq(tj_state(r), "queued", "a job stopped by close stays resumable");
    cr_expect_eq(tj_int(r, "attempts"), 0, "a run stopped by close uses no attempt");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "checkpoint"), "next")),
                 at_close);
    json_decref(r);

    tj_open(&t, 2);
    tj_reg(&t, "count", job_count, NULL, 0);
    tj_start(&t);
    tj_wait(&t, id);
    r = tj_get(&t, id);
    cr_expect_str_eq(tj_state(r), "succeeded");
    cr_expect_eq(tj_int(r, "attempts"), 1);
    json_decref(r);
    cr_expect_eq(atomic_load(&resumed_from), at_close);
    cr_expect_eq(atomic_load(&completions), 1);
    cr_expect_eq(atomic_load(&items_total), COUNT_N);
    for (int i = 0; i < COUNT_N; i++)
        cr_expect_eq(atomic_load(&item_done[i]), 1, "item %d done %d times", i,
                     atomic_load(&item_done[i]));
    tj_fini(&t);
}

static int job_never(lh_job *job, void *ctx, lh_err *err)
{
    (void)job;
    (void)ctx;
    (void)err;
    cr_assert_fail("a job of an unregistered kind ran");
    return 0;
}

Test(resume, unregistered_kind_kept_not_run)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    tj_reg(&t, "legacy", job_never, NULL, 0);
    tj_reg(&t, "count", job_count, NULL, 0);
    char old[37], cur[37];
    tj_submit(&t, "legacy", json_pack("{s:s}", "x", "y"), old);
    tj_submit(&t, "count", json_pack("{s:i}", "n", 3), cur);
    tj_close(&t); /* never started: both stay queued */

    tj_open(&t, 1);
    tj_reg(&t, "count", job_count, NULL, 0);
    tj_start(&t);
    tj_wait(&t, cur);
    tj_sleep_ms(20);
    json_t *r = tj_get(&t, old);
    cr_expect_str_eq(tj_state(r), "queued");
    cr_expect_eq(tj_int(r, "attempts"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(r, "params"), "x")), "y");
    json_decref(r);
    json_t *l = lh_jobs_list(t.j, "legacy");
    cr_expect_eq(json_array_size(json_object_get(l, "jobs")), 1);
    json_decref(l);
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_jobs_wait(t.j, old, 10, &err), -1);
    cr_expect_eq(err.code, LH_TIMEOUT);
    tj_close(&t);
    /* Still there, untouched, for a later process that knows the kind. */
    r = tj_disk(&t, old);
    cr_assert_not_null(r);
    cr_expect_str_eq(tj_state(r), "queued");
    json_decref(r);
    tj_fini(&t);
}

static void put_text(tj *t, const char *key, const char *text)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(t->b, key, text, strlen(text), &err), 0, "%s", err.message);
}

Test(resume, corrupt_records_skipped)
{
    tj t;
    tj_init(&t);
    tj_open(&t, 1);
    tj_reg(&t, "count", job_count, NULL, 0);
    char good[37];
    tj_submit(&t, "count", json_pack("{s:i}", "n", 2), good);
    tj_close(&t);
    put_text(&t, "_jobs/11111111-1111-4111-8111-111111111111.json", "{\"id\": \"1111");
    put_text(&t, "_jobs/22222222-2222-4222-8222-222222222222.json",
             "{\"id\":\"22222222-2222-4222-8222-222222222222\",\"kind\":\"count\","
             "\"state\":\"exploded\",\"params\":{},\"attempts\":0,\"created_ms\":1}");
    put_text(&t, "_jobs/33333333-3333-4333-8333-333333333333.json",
             "{\"id\":\"44444444-4444-4444-8444-444444444444\",\"kind\":\"count\","
             "\"state\":\"queued\",\"params\":{},\"attempts\":0,\"created_ms\":1}");
    put_text(&t, "_jobs/55555555-5555-4555-8555-555555555555.json", "[1,2]");
    put_text(&t, "_jobs/notes.txt", "hello");
    tj_open(&t, 1);
    tj_reg(&t, "count", job_count, NULL, 0);
    tj_start(&t);
    json_t *l = lh_jobs_list(t.j, NULL);
    json_t *arr = json_object_get(l, "jobs");
    cr_assert_eq(json_array_size(arr), 1);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "id")), good);
    json_decref(l);
    tj_wait(&t, good);
    /* Corrupt files are left for a human to look at. */
    cr_expect_eq(tj_count(&t, "_jobs/"), 6);
    tj_fini(&t);
}

/* In the crash tests the child runs this kind: items 0..4, checkpoint {"next":5}, then (when
 * LH_TEST_CRASH_IN_PUT is set) arms a crash inside the next record write and checkpoints
 * {"next":10}. The parent's run of the same kind notes where it resumed. */
static int job_crashy(lh_job *job, void *ctx, lh_err *err)
{
    (void)ctx;
    const json_t *cp = lh_job_checkpoint(job);
    if (cp) {
        atomic_store(&resumed_from, (long)json_integer_value(json_object_get(cp, "next")));
        lh_job_set_result(job, json_deep_copy(cp));
        return 0;
    }
    lh_job_progress(job, 5, 20, NULL);
    if (lh_job_save_checkpoint(job, json_pack("{s:i}", "next", 5), err) != 0)
        return -1;
    if (getenv("LH_TEST_CRASH_IN_PUT")) {
        setenv("LH_FAULT", "crash:storage_put_before_rename", 1);
        lh_fault_reset();
    }
    if (lh_job_save_checkpoint(job, json_pack("{s:i}", "next", 10), err) != 0)
        return -1;
    return 0;
}

/* Forks a child that opens everything, submits one crashy job and waits: it must die at the
 * injected crash (exit 99). */
static void crash_child(tj *t, const char *fault, bool in_put)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (fault)
            setenv("LH_FAULT", fault, 1);
        if (in_put)
            setenv("LH_TEST_CRASH_IN_PUT", "1", 1);
        lh_fault_reset();
        lh_err err = LH_ERR_INIT;
        lh_storage *s = lh_storage_open(t->dir, &err);
        lh_jobs *j = s ? lh_jobs_open(lh_storage_bucket(s, LH_BUCKET_PRIMARY, &err), 1, &err)
                       : NULL;
        char id[37];
        if (j && lh_jobs_register(j, "crashy", job_crashy, NULL, 0, &err) == 0 &&
            lh_jobs_start(j, &err) == 0 && lh_jobs_submit(j, "crashy", NULL, id, &err) == 0)
            (void)!lh_jobs_wait(j, id, 10000, &err);
        _exit(0); /* not reached when the crash fires */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 99, "child should crash (%s)", fault ? fault : "in put");
}

/* Reopens after the crash: exactly one job, resumable, resumed from `expect_next`. */
static void resume_after_crash(tj *t, int64_t expect_next)
{
    lh_storage_close(t->s);
    tj_open_storage(t); /* removes the dead child's temp files */
    tj_open(t, 1);
    json_t *l = lh_jobs_list(t->j, NULL);
    json_t *arr = json_object_get(l, "jobs");
    cr_assert_eq(json_array_size(arr), 1);
    char id[37];
    snprintf(id, sizeof id, "%s",
             json_string_value(json_object_get(json_array_get(arr, 0), "id")));
    json_decref(l);
    json_t *r = tj_get(t, id);
    cr_expect_str_eq(tj_state(r), "queued", "a job running at the crash is queued again");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "checkpoint"), "next")),
                 expect_next);
    json_decref(r);
    tj_reg(t, "crashy", job_crashy, NULL, 0);
    tj_start(t);
    tj_wait(t, id);
    r = tj_get(t, id);
    cr_expect_str_eq(tj_state(r), "succeeded");
    cr_expect_eq(tj_int(r, "attempts"), 2, "the crashed run counts as an attempt");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "next")),
                 expect_next);
    json_decref(r);
    cr_expect_eq(atomic_load(&resumed_from), expect_next);
    cr_expect_eq(tj_count(t, ""), 1, "nothing but the one record in the bucket");
}

Test(resume, crash_after_checkpoint_resumes_from_it)
{
    tj t;
    tj_init(&t);
    crash_child(&t, "crash:jobs.after_checkpoint", false);
    resume_after_crash(&t, 5);
    tj_fini(&t);
}

Test(resume, crash_inside_record_write_keeps_old_version)
{
    tj t;
    tj_init(&t);
    crash_child(&t, NULL, true);
    resume_after_crash(&t, 5);
    tj_fini(&t);
}

Test(resume, crash_inside_submit_leaves_no_job)
{
    tj t;
    tj_init(&t);
    crash_child(&t, "crash:storage_put_before_rename", false);
    lh_storage_close(t.s);
    tj_open_storage(&t);
    tj_open(&t, 1);
    json_t *l = lh_jobs_list(t.j, NULL);
    cr_expect_eq(json_array_size(json_object_get(l, "jobs")), 0);
    json_decref(l);
    cr_expect_eq(tj_count(&t, ""), 0);
    tj_fini(&t);
}

Test(resume, crash_after_run_before_final_record_runs_again)
{
    tj t;
    tj_init(&t);
    /* The body finished but "succeeded" was never written: at-least-once, from {"next":10}. */
    crash_child(&t, "crash:jobs.after_run", false);
    resume_after_crash(&t, 10);
    tj_fini(&t);
}
