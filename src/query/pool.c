/* query/pool.c: the pool of DuckDB connections user queries run on, and the watchdog
 * thread that interrupts a query when its deadline passes.
 *
 * Design: slots[] holds one connection each. A query takes a free slot (waiting on pool_cv
 * up to LH_POOL_WAIT_MS), arms a deadline on it, and releases it when its stream closes.
 * The watchdog ("lh-query-wd") sleeps on wd_cv until the earliest deadline and then calls
 * duckdb_interrupt on that slot's connection. Deadlines live under pool_mu together with
 * in_use, and a slot is disarmed before it is released, so an interrupt can only reach the
 * query it was meant for. duckdb_interrupt only sets a flag, so calling it under the mutex
 * is cheap; DuckDB clears the flag when the next query on the connection starts. */
#include <errno.h>
#include <sys/prctl.h>
#include <time.h>

#include "query/query_int.h"

static void abs_time_after(double ms, struct timespec *ts) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    if (ms < 0)
        ms = 0;
    long long ns = (long long)(ms * 1e6);
    ts->tv_sec += (time_t)(ns / 1000000000LL);
    ts->tv_nsec += (long)(ns % 1000000000LL);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *watchdog_main(void *arg) {
    lh_engine *e = arg;
    prctl(PR_SET_NAME, "lh-query-wd", 0, 0, 0);
    pthread_mutex_lock(&e->pool_mu);
    while (!e->closing) {
        double now = lh_mono_ms();
        double next = 0;
        for (int i = 0; i < e->nslots; i++) {
            lh_slot *s = &e->slots[i];
            if (s->deadline_ms <= 0 || s->fired)
                continue;
            if (s->deadline_ms <= now) {
                s->fired = true;
                duckdb_interrupt(s->con);
                LH_LOG_DEBUG(LH_QUERY_LOG, "watchdog interrupted slot=%d", i);
            } else if (next == 0 || s->deadline_ms < next) {
                next = s->deadline_ms;
            }
        }
        struct timespec ts;
        /* Wake at the next deadline, or once a second as a safety net. */
        abs_time_after(next > 0 ? next - now : 1000.0, &ts);
        pthread_cond_timedwait(&e->wd_cv, &e->pool_mu, &ts);
    }
    pthread_mutex_unlock(&e->pool_mu);
    return NULL;
}

int lh_query__pool_start(lh_engine *e, lh_err *err) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&e->pool_mu, NULL);
    pthread_cond_init(&e->pool_cv, &ca);
    pthread_cond_init(&e->wd_cv, &ca);
    pthread_condattr_destroy(&ca);
    e->slots = lh_xcalloc((size_t)e->opts.connections, sizeof *e->slots);
    for (int i = 0; i < e->opts.connections; i++) {
        if (duckdb_connect(e->db, &e->slots[i].con) == DuckDBError) {
            e->slots[i].con = NULL;
            return lh_err_set(err, LH_INTERNAL, "cannot open duckdb connection %d", i);
        }
        e->nslots = i + 1;
    }
    int rc = pthread_create(&e->wd_thread, NULL, watchdog_main, e);
    if (rc != 0)
        return lh_err_errno(err, rc, "cannot start the query watchdog");
    e->wd_started = true;
    return 0;
}

void lh_query__pool_stop(lh_engine *e) {
    if (!e->slots)
        return;
    pthread_mutex_lock(&e->pool_mu);
    e->closing = true;
    /* Interrupt what still runs, then wait until every stream has given its slot back. */
    for (int i = 0; i < e->nslots; i++)
        if (e->slots[i].in_use)
            duckdb_interrupt(e->slots[i].con);
    for (;;) {
        bool busy = false;
        for (int i = 0; i < e->nslots; i++)
            busy = busy || e->slots[i].in_use;
        if (!busy)
            break;
        pthread_cond_wait(&e->pool_cv, &e->pool_mu);
    }
    pthread_cond_broadcast(&e->wd_cv);
    pthread_mutex_unlock(&e->pool_mu);
    lh_query__reap(e, true); /* nothing runs any more */
    free(e->pending);
    e->pending = NULL;
    if (e->wd_started)
        pthread_join(e->wd_thread, NULL);
    for (int i = 0; i < e->nslots; i++)
        duckdb_disconnect(&e->slots[i].con);
    free(e->slots);
    e->slots = NULL;
    pthread_cond_destroy(&e->pool_cv);
    pthread_cond_destroy(&e->wd_cv);
    pthread_mutex_destroy(&e->pool_mu);
}

int lh_query__pool_acquire(lh_engine *e, lh_err *err) {
    struct timespec ts;
    abs_time_after(LH_POOL_WAIT_MS, &ts);
    pthread_mutex_lock(&e->pool_mu);
    for (;;) {
        if (e->closing) {
            pthread_mutex_unlock(&e->pool_mu);
            return lh_err_set(err, LH_BUSY, "engine is shutting down");
        }
        for (int i = 0; i < e->nslots; i++) {
            if (!e->slots[i].in_use) {
                e->slots[i].in_use = true;
                e->slots[i].acquired_ms = lh_mono_ms();
                e->slots[i].deadline_ms = 0;
                e->slots[i].fired = false;
                pthread_mutex_unlock(&e->pool_mu);
                return i;
            }
        }
        if (pthread_cond_timedwait(&e->pool_cv, &e->pool_mu, &ts) == ETIMEDOUT) {
            pthread_mutex_unlock(&e->pool_mu);
            return lh_err_set(err, LH_BUSY, "no query connection free after %d ms (%d in use)",
                              LH_POOL_WAIT_MS, e->nslots);
        }
    }
}

void lh_query__pool_release(lh_engine *e, int slot) {
    pthread_mutex_lock(&e->pool_mu);
    LH_ASSERT(slot >= 0 && slot < e->nslots && e->slots[slot].in_use);
    e->slots[slot].in_use = false;
    e->slots[slot].deadline_ms = 0;
    e->slots[slot].fired = false;
    /* Broadcast: pool_stop waits on the same condition as acquirers. */
    pthread_cond_broadcast(&e->pool_cv);
    bool reap = e->npending > 0;
    pthread_mutex_unlock(&e->pool_mu);
    if (reap)
        lh_query__reap(e, false);
}

struct lh_pending_delete {
    char *name;
    char **paths;
    size_t n;
    double after_ms;
};

void lh_query__defer_delete(lh_engine *e, const char *name, const char *const *paths, size_t n) {
    struct lh_pending_delete p = {.name = lh_xstrdup(name), .n = n, .after_ms = lh_mono_ms()};
    p.paths = lh_xcalloc(n ? n : 1, sizeof *p.paths);
    for (size_t i = 0; i < n; i++)
        p.paths[i] = lh_xstrdup(paths[i]);
    pthread_mutex_lock(&e->pool_mu);
    e->pending = lh_xrealloc(e->pending, (e->npending + 1) * sizeof *e->pending);
    e->pending[e->npending++] = p;
    pthread_mutex_unlock(&e->pool_mu);
    lh_query__reap(e, false);
}

void lh_query__reap(lh_engine *e, bool all) {
    pthread_mutex_lock(&e->pool_mu);
    double oldest = 0; /* acquisition time of the oldest connection still in use */
    for (int i = 0; i < e->nslots; i++)
        if (e->slots[i].in_use && (oldest == 0 || e->slots[i].acquired_ms < oldest))
            oldest = e->slots[i].acquired_ms;
    struct lh_pending_delete *due = NULL;
    size_t ndue = 0;
    for (size_t i = 0; i < e->npending;) {
        if (all || oldest == 0 || oldest > e->pending[i].after_ms) {
            due = lh_xrealloc(due, (ndue + 1) * sizeof *due);
            due[ndue++] = e->pending[i];
            e->pending[i] = e->pending[--e->npending];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&e->pool_mu);
    for (size_t i = 0; i < ndue; i++) {
        lh_catalog_delete_unreferenced(e->catalog, due[i].name,
                                       (const char *const *)due[i].paths, due[i].n);
        for (size_t k = 0; k < due[i].n; k++)
            free(due[i].paths[k]);
        free(due[i].paths);
        free(due[i].name);
    }
    free(due);
}

void lh_query__wd_arm(lh_engine *e, int slot, double deadline_ms) {
    pthread_mutex_lock(&e->pool_mu);
    e->slots[slot].deadline_ms = deadline_ms;
    e->slots[slot].fired = false;
    pthread_cond_signal(&e->wd_cv);
    pthread_mutex_unlock(&e->pool_mu);
}

bool lh_query__wd_disarm(lh_engine *e, int slot) {
    pthread_mutex_lock(&e->pool_mu);
    bool fired = e->slots[slot].fired;
    e->slots[slot].deadline_ms = 0;
    e->slots[slot].fired = false;
    pthread_mutex_unlock(&e->pool_mu);
    return fired;
}

bool lh_query__wd_fired(lh_engine *e, int slot) {
    pthread_mutex_lock(&e->pool_mu);
    bool fired = e->slots[slot].fired;
    pthread_mutex_unlock(&e->pool_mu);
    return fired;
}
