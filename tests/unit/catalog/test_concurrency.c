/* Tests for concurrent commits: two lh_catalog instances on one data dir (standing in for two
 * processes) committing to one dataset from several threads each. put-if-absent makes the
 * losers re-read the log and retry; every commit must land exactly once. Readers keep taking
 * snapshots meanwhile. */
#include <pthread.h>
#include <stdatomic.h>

#include "test_util.h"

#define THREADS_PER_CATALOG 3
#define COMMITS_PER_THREAD 12

typedef struct worker {
    tcat *t;
    lh_catalog *c;
    int id;
    int failures;
    lh_err err;
} worker;

static void *commit_loop(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < COMMITS_PER_THREAD; i++) {
        lh_err err = LH_ERR_INIT;
        /* Distinct row counts, so a lost or doubled commit changes the total. */
        if (tcat_add(w->t, w->c, "shared", tcat_cols, 3, w->id * 1000 + i + 1, NULL, &err) != 0) {
            w->failures++;
            w->err = err;
        }
    }
    return NULL;
}

static atomic_bool stop_readers;
/* Criterion asserts must run on the test's thread, so readers count what they saw. */
static atomic_int reader_errors, reader_reads;

static void *read_loop(void *arg)
{
    lh_catalog *c = arg;
    uint64_t last = 0;
    while (!atomic_load(&stop_readers)) {
        lh_catalog_snap *s = lh_catalog_snapshot(c);
        uint64_t g = lh_catalog_snap_generation(s);
        if (g < last)
            atomic_fetch_add(&reader_errors, 1);
        last = g;
        const lh_dataset *d = lh_catalog_snap_find(s, "shared");
        if (d) {
            int64_t sum = 0;
            for (size_t i = 0; i < d->nfiles; i++)
                sum += d->files[i].rows;
            if (sum != d->row_count || d->nfiles != (size_t)d->version + 1)
                atomic_fetch_add(&reader_errors, 1);
        }
        lh_catalog_snap_unref(s);
        atomic_fetch_add(&reader_reads, 1);
    }
    return NULL;
}

Test(concurrency, two_catalogs_many_threads, .timeout = 120)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    lh_catalog *c2 = lh_catalog_open(t.s, &err);
    cr_assert_not_null(c2, "%s", err.message);

    worker w[2 * THREADS_PER_CATALOG];
    pthread_t th[2 * THREADS_PER_CATALOG], readers[2];
    atomic_store(&stop_readers, false);
    pthread_create(&readers[0], NULL, read_loop, t.c);
    pthread_create(&readers[1], NULL, read_loop, c2);
    int64_t want_rows = 0;
    for (int i = 0; i < 2 * THREADS_PER_CATALOG; i++) {
        w[i] = (worker){.t = &t, .c = i % 2 ? c2 : t.c, .id = i};
        for (int k = 0; k < COMMITS_PER_THREAD; k++)
            want_rows += i * 1000 + k + 1;
        pthread_create(&th[i], NULL, commit_loop, &w[i]);
    }
    for (int i = 0; i < 2 * THREADS_PER_CATALOG; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop_readers, true);
    pthread_join(readers[0], NULL);
    pthread_join(readers[1], NULL);
    cr_expect_eq(atomic_load(&reader_errors), 0, "a reader saw an inconsistent snapshot");
    cr_expect_gt(atomic_load(&reader_reads), 0);
    for (int i = 0; i < 2 * THREADS_PER_CATALOG; i++)
        cr_expect_eq(w[i].failures, 0, "worker %d: %s", i, w[i].err.message);

    const int64_t total = 2 * THREADS_PER_CATALOG * COMMITS_PER_THREAD;
    /* Versions are contiguous 0..total-1 and nothing beyond. */
    lh_bucket *b = tcat_bucket(&t);
    for (int64_t v = 0; v <= total; v++) {
        char *key = lh_xasprintf("datasets/shared/_delta_log/%020lld.json", (long long)v);
        cr_expect_eq(lh_bucket_exists(b, key), v < total, "version %lld", (long long)v);
        free(key);
    }
    /* A fresh open sees every commit exactly once. */
    lh_catalog_close(c2);
    tcat_reopen(&t);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    const lh_dataset *d = lh_catalog_snap_find(s, "shared");
    cr_assert_not_null(d);
    cr_expect_eq(d->version, total - 1);
    cr_expect_eq((int64_t)d->nfiles, total);
    cr_expect_eq(d->row_count, want_rows);
    cr_expect_eq((int64_t)d->nhistory, total);
    for (size_t i = 0; i < d->nhistory; i++)
        cr_expect_eq(d->history[i].version, (int64_t)i);
    lh_catalog_snap_unref(s);
    /* No stray part files: every placed file was committed. */
    cr_expect_eq((int64_t)tcat_count(&t, "datasets/shared/part-"), total);
    tcat_fini(&t);
}

/* Concurrent creates of one new table from two instances: one creates, the other appends. */
Test(concurrency, racing_create, .timeout = 60)
{
    tcat t;
    tcat_init(&t);
    lh_err err = LH_ERR_INIT;
    lh_catalog *c2 = lh_catalog_open(t.s, &err);
    cr_assert_not_null(c2, "%s", err.message);
    int64_t v1 = -1, v2 = -1;
    cr_assert_eq(tcat_add(&t, t.c, "race", tcat_cols, 3, 1, &v1, &err), 0, "%s", err.message);
    /* c2 has not seen the table: its version 0 loses, it catches up and takes version 1. */
    cr_assert_eq(tcat_add(&t, c2, "race", tcat_cols, 3, 2, &v2, &err), 0, "%s", err.message);
    cr_expect_eq(v1, 0);
    cr_expect_eq(v2, 1);
    lh_catalog_snap *s = lh_catalog_snapshot(c2);
    const lh_dataset *d = lh_catalog_snap_find(s, "race");
    cr_expect_eq(d->row_count, 3);
    cr_expect_eq(d->nhistory, 2);
    lh_catalog_snap_unref(s);
    /* A loser with a different schema gets a conflict and leaves nothing behind. */
    lh_column other[] = {{"id", "INTEGER"}};
    cr_assert_eq(tcat_add(&t, t.c, "race2", tcat_cols, 3, 1, NULL, &err), 0, "%s", err.message);
    cr_expect_eq(tcat_add(&t, c2, "race2", other, 1, 1, NULL, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_eq(tcat_count(&t, "datasets/race2/part-"), 1);
    lh_catalog_close(c2);
    tcat_fini(&t);
}

typedef struct own_worker {
    tcat *t;
    char name[16];
    int failures;
} own_worker;

static void *own_dataset_loop(void *arg)
{
    own_worker *w = arg;
    for (int i = 0; i < COMMITS_PER_THREAD; i++) {
        lh_err err = LH_ERR_INIT;
        if (tcat_add(w->t, w->t->c, w->name, tcat_cols, 3, 1, NULL, &err) != 0)
            w->failures++;
    }
    return NULL;
}

/* Writers of different datasets run in parallel; no publish may lose another's update. */
Test(concurrency, different_datasets, .timeout = 60)
{
    tcat t;
    tcat_init(&t);
    own_worker w[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (own_worker){.t = &t};
        snprintf(w[i].name, sizeof w[i].name, "ds_%d", i);
        pthread_create(&th[i], NULL, own_dataset_loop, &w[i]);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_count(s), 6);
    cr_expect_eq(lh_catalog_snap_generation(s), 1 + 6 * COMMITS_PER_THREAD);
    for (int i = 0; i < 6; i++) {
        cr_expect_eq(w[i].failures, 0);
        const lh_dataset *d = lh_catalog_snap_find(s, w[i].name);
        cr_assert_not_null(d, "%s", w[i].name);
        cr_expect_eq(d->version, COMMITS_PER_THREAD - 1);
        cr_expect_eq(d->row_count, COMMITS_PER_THREAD);
    }
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}
