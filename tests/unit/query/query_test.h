/* Shared setup for the query unit tests: a temporary data dir with storage, catalog and
 * engine opened over it, and helpers that run SQL and return the whole rendered output. */
#ifndef LH_QUERY_TEST_H
#define LH_QUERY_TEST_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query/query.h"

typedef struct qt_env {
    char dir[64];
    lh_storage *storage;
    lh_catalog *catalog;
    lh_engine *engine;
} qt_env;

static inline void qt_open_opts(qt_env *t, const lh_engine_opts *opts) {
    snprintf(t->dir, sizeof t->dir, "/tmp/lhq-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    lh_err err = LH_ERR_INIT;
    t->storage = lh_storage_open(t->dir, &err);
    cr_assert_not_null(t->storage, "storage: %s", err.message);
    t->catalog = lh_catalog_open(t->storage, &err);
    cr_assert_not_null(t->catalog, "catalog: %s", err.message);
    t->engine = lh_engine_open(t->storage, t->catalog, opts, &err);
    cr_assert_not_null(t->engine, "engine: %s", err.message);
}

static inline void qt_open(qt_env *t) {
    qt_open_opts(t, NULL);
}

static inline void qt_close(qt_env *t) {
    lh_engine_close(t->engine);
    lh_catalog_close(t->catalog);
    lh_storage_close(t->storage);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_remove_tree(t->dir, &err), 0);
}

/* Runs a request and returns everything it renders (owned), or NULL with err filled (open
 * failure, or a read failure for CSV/Parquet). *len gets the byte count. */
static inline char *qt_run_req(lh_engine *e, const lh_query_req *req, size_t *len, lh_err *err) {
    lh_query_stream *q = lh_query_open(e, req, err);
    if (!q)
        return NULL;
    lh_buf b;
    lh_buf_init(&b);
    char chunk[4096];
    ssize_t n;
    while ((n = lh_query_stream_read(q, chunk, sizeof chunk, err)) > 0)
        lh_buf_append(&b, chunk, (size_t)n);
    lh_query_stream_close(q);
    if (n < 0) {
        lh_buf_release(&b);
        return NULL;
    }
    lh_buf_putc(&b, '\0'); /* make data non-NULL even when empty */
    b.len--;
    if (len)
        *len = b.len;
    return lh_buf_detach(&b, NULL);
}

static inline char *qt_run(lh_engine *e, const char *sql, lh_result_format fmt, lh_err *err) {
    lh_query_req req = {.sql = sql, .format = fmt};
    return qt_run_req(e, &req, NULL, err);
}

/* The "rows" member of a JSON result, as text ("[[1,2]]"). Owned. */
static inline char *qt_rows(lh_engine *e, const char *sql) {
    lh_err err = LH_ERR_INIT;
    char *out = qt_run(e, sql, LH_FMT_JSON, &err);
    cr_assert_not_null(out, "%s: %s", sql, err.message);
    const char *a = strstr(out, "\"rows\":");
    const char *z = strstr(out, ",\"row_count\":");
    cr_assert(a && z && z > a, "bad document: %s", out);
    a += strlen("\"rows\":");
    char *r = lh_xstrndup(a, (size_t)(z - a));
    free(out);
    return r;
}

/* Asserts that sql yields exactly `want` as its rows text. */
#define QT_ROWS(e, sql, want)                                                               \
    do {                                                                                    \
        char *got_ = qt_rows((e), (sql));                                                   \
        cr_expect_str_eq(got_, (want), "%s", (sql));                                        \
        free(got_);                                                                         \
    } while (0)

/* Asserts that opening sql fails with code. */
#define QT_FAILS(e, sql_, code_)                                                             \
    do {                                                                                    \
        lh_err err_ = LH_ERR_INIT;                                                          \
        lh_query_req req_ = {.sql = (sql_), .format = LH_FMT_JSON};                         \
        lh_query_stream *q_ = lh_query_open((e), &req_, &err_);                            \
        cr_expect_null(q_, "%s should fail", (sql_));                                        \
        if (q_)                                                                             \
            lh_query_stream_close(q_);                                                      \
        cr_expect_eq(err_.code, (code_), "%s: got %s (%s)", (sql_), lh_code_name(err_.code), \
                     err_.message);                                                         \
    } while (0)

#endif
