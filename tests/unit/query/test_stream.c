/* Tests for src/query/stream.c, stream_parquet.c, pool.c and format.c: formats, limits,
 * the byte ceiling, timeouts through the watchdog, and many threads at once. */
#include <pthread.h>

#include "query_test.h"

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

TestSuite(stream, .init = setup, .fini = teardown, .timeout = 120);

Test(stream, json_document_shape) {
    lh_err err = LH_ERR_INIT;
    json_t *doc = lh_query_json(T.engine, &(lh_query_req){.sql = "SELECT range AS n FROM range(3)"},
                                &err);
    cr_assert_not_null(doc, "%s", err.message);
    cr_expect_eq(json_integer_value(json_object_get(doc, "row_count")), 3);
    cr_expect(json_is_false(json_object_get(doc, "truncated")));
    cr_expect(json_is_number(json_object_get(doc, "elapsed_ms")));
    cr_expect_eq(json_array_size(json_object_get(doc, "rows")), 3);
    json_t *col = json_array_get(json_object_get(doc, "columns"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(col, "name")), "n");
    cr_expect_str_eq(json_string_value(json_object_get(col, "type")), "BIGINT");
    json_decref(doc);
}

Test(stream, ndjson_and_csv) {
    lh_err err = LH_ERR_INIT;
    char *out = qt_run(T.engine, "SELECT range AS n, 'x' || range AS s FROM range(2)",
                       LH_FMT_NDJSON, &err);
    cr_assert_not_null(out, "%s", err.message);
    cr_expect_str_eq(out, "{\"n\":0,\"s\":\"x0\"}\n{\"n\":1,\"s\":\"x1\"}\n");
    free(out);
    out = qt_run(T.engine, "SELECT range AS n, 'a,b' AS s, NULL AS z FROM range(2)", LH_FMT_CSV,
                 &err);
    cr_assert_not_null(out, "%s", err.message);
    cr_expect_str_eq(out, "n,s,z\r\n0,\"a,b\",\r\n1,\"a,b\",\r\n");
    free(out);
    out = qt_run(T.engine, "SELECT 1 AS a WHERE false", LH_FMT_CSV, &err);
    cr_assert_not_null(out, "%s", err.message);
    cr_expect_str_eq(out, "a\r\n");
    free(out);
}

Test(stream, parquet_round_trips) {
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    lh_query_req req = {.sql = "SELECT range AS n FROM range(10) WHERE range >= $1 -- c",
                        .params = json_pack("[i]", 4), .format = LH_FMT_PARQUET, .limit = 3};
    char *out = qt_run_req(T.engine, &req, &len, &err);
    cr_assert_not_null(out, "%s", err.message);
    cr_assert(len > 8 && memcmp(out, "PAR1", 4) == 0 && memcmp(out + len - 4, "PAR1", 4) == 0);
    /* Read it back through the engine from a scratch file. */
    char *path = lh_storage_scratch_path(T.storage, ".parquet");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(out, 1, len, f), len);
    fclose(f);
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    cr_assert_eq(lh_engine_parquet_info(T.engine, path, &cols, &ncols, &rows, &err), 0, "%s",
                 err.message);
    cr_expect_eq(rows, 3);
    cr_expect_eq(ncols, 1);
    cr_expect_str_eq(cols[0].name, "n");
    cr_expect_str_eq(cols[0].type, "BIGINT");
    lh_columns_free(cols, ncols);
    char *sql = lh_xasprintf("SELECT * FROM read_parquet('%s')", path);
    QT_ROWS(T.engine, sql, "[[4],[5],[6]]");
    free(sql);
    unlink(path);
    free(path);
    free(out);
    json_decref((json_t *)req.params);
}

Test(stream, parquet_truncation_is_detected) {
    lh_err err = LH_ERR_INIT;
    lh_query_req req = {.sql = "SELECT * FROM range(5)", .format = LH_FMT_PARQUET, .limit = 5};
    lh_query_stream *q = lh_query_open(T.engine, &req, &err);
    cr_assert_not_null(q, "%s", err.message);
    cr_expect_eq(lh_query_stream_rows(q), 5);
    cr_expect_not(lh_query_stream_truncated(q));
    lh_query_stream_close(q);
    req.limit = 4;
    q = lh_query_open(T.engine, &req, &err);
    cr_assert_not_null(q, "%s", err.message);
    cr_expect_eq(lh_query_stream_rows(q), 4);
    cr_expect(lh_query_stream_truncated(q));
    lh_query_stream_close(q);
}

static void check_limit(int64_t limit, int64_t total, int64_t want_rows, bool want_trunc) {
    lh_err err = LH_ERR_INIT;
    char *sql = lh_xasprintf("SELECT * FROM range(%lld)", (long long)total);
    json_t *doc = lh_query_json(T.engine, &(lh_query_req){.sql = sql, .limit = limit}, &err);
    cr_assert_not_null(doc, "%s", err.message);
    cr_expect_eq(json_integer_value(json_object_get(doc, "row_count")), want_rows,
                 "limit %lld of %lld", (long long)limit, (long long)total);
    cr_expect_eq(json_array_size(json_object_get(doc, "rows")), (size_t)want_rows);
    cr_expect_eq(json_is_true(json_object_get(doc, "truncated")), want_trunc,
                 "limit %lld of %lld", (long long)limit, (long long)total);
    json_decref(doc);
    free(sql);
}

Test(stream, limit_and_truncated) {
    check_limit(10, 10, 10, false);
    check_limit(10, 11, 10, true);
    check_limit(2048, 2048, 2048, false); /* limit at a chunk boundary */
    check_limit(2048, 2049, 2048, true);
    check_limit(3000, 5000, 3000, true);
    check_limit(0, 5000, 5000, false);
}

Test(stream, limit_is_clamped_to_max_rows) {
    qt_close(&T);
    qt_open_opts(&T, &(lh_engine_opts){.max_rows = 5});
    check_limit(100, 50, 5, true);
    check_limit(0, 5, 5, false);
}

Test(stream, byte_ceiling_midstream) {
    qt_close(&T);
    qt_open_opts(&T, &(lh_engine_opts){.max_bytes = 2000});
    lh_err err = LH_ERR_INIT;
    char *out = qt_run(T.engine, "SELECT range AS n FROM range(100000)", LH_FMT_JSON, &err);
    cr_assert_not_null(out, "%s", err.message);
    json_t *doc = lh_json_parse(out, strlen(out), &err);
    cr_assert_not_null(doc, "not JSON: %s", out);
    json_t *e = json_object_get(doc, "error");
    cr_expect_str_eq(json_string_value(json_object_get(e, "code")), "too_large");
    cr_expect(json_array_size(json_object_get(doc, "rows")) > 10);
    json_decref(doc);
    free(out);

    out = qt_run(T.engine, "SELECT range AS n FROM range(100000)", LH_FMT_NDJSON, &err);
    cr_assert_not_null(out, "%s", err.message);
    const char *last = strstr(out, "{\"error\":{\"code\":\"too_large\"");
    cr_expect_not_null(last, "%s", out);
    free(out);

    lh_err_clear(&err);
    out = qt_run(T.engine, "SELECT range AS n FROM range(100000)", LH_FMT_CSV, &err);
    cr_expect_null(out);
    cr_expect_eq(err.code, LH_TOO_LARGE);

    doc = lh_query_json(T.engine, &(lh_query_req){.sql = "SELECT * FROM range(100000)"}, &err);
    cr_expect_null(doc);
    cr_expect_eq(err.code, LH_TOO_LARGE);
}

Test(stream, timeout_interrupts_and_connection_survives) {
    qt_close(&T);
    qt_open_opts(&T, &(lh_engine_opts){.connections = 1});
    lh_err err = LH_ERR_INIT;
    double t0 = lh_mono_ms();
    lh_query_req req = {.sql = "SELECT count(*) FROM range(1000000000000)", .timeout_ms = 300};
    cr_assert_null(lh_query_open(T.engine, &req, &err));
    double ms = lh_mono_ms() - t0;
    cr_expect_eq(err.code, LH_TIMEOUT, "%s", err.message);
    cr_expect_str_eq(err.message, "query timed out after 300 ms");
    cr_expect(ms < 5000, "took %f ms", ms);
    /* The single pooled connection answers again. */
    QT_ROWS(T.engine, "SELECT 42", "[[42]]");
}

Test(stream, timeout_midstream_ends_document) {
    lh_err err = LH_ERR_INIT;
    lh_query_req req = {.sql = "SELECT range FROM range(1000000000000) WHERE range % 7 = 0 "
                               "OR range % 1000003 = 5",
                        .timeout_ms = 300,
                        .format = LH_FMT_NDJSON};
    lh_query_stream *q = lh_query_open(T.engine, &req, &err);
    cr_assert_not_null(q, "%s", err.message);
    char buf[65536];
    ssize_t n;
    lh_buf all;
    lh_buf_init(&all);
    size_t total = 0;
    while ((n = lh_query_stream_read(q, buf, sizeof buf, &err)) > 0) {
        total += (size_t)n;
        /* Keep only the tail: the error line comes last. */
        if (all.len > (1 << 20))
            lh_buf_reset(&all);
        lh_buf_append(&all, buf, (size_t)n);
        usleep(1000);
    }
    cr_expect_eq(n, 0);
    cr_expect(total > 0);
    cr_expect(strstr(all.data, "{\"error\":{\"code\":\"timeout\""), "tail has no error line");
    lh_query_stream_close(q);
    lh_buf_release(&all);
    QT_ROWS(T.engine, "SELECT 1", "[[1]]");
}

static void *worker(void *arg) {
    intptr_t id = (intptr_t)arg;
    for (int i = 0; i < 10; i++) {
        lh_err err = LH_ERR_INIT;
        char *sql = lh_xasprintf("SELECT sum(range) + %d FROM range(100000)", (int)id);
        json_t *doc = lh_query_json(T.engine, &(lh_query_req){.sql = sql}, &err);
        free(sql);
        if (!doc)
            return (void *)1;
        json_t *v = json_array_get(json_array_get(json_object_get(doc, "rows"), 0), 0);
        bool ok = json_integer_value(v) == 4999950000LL + id;
        json_decref(doc);
        if (!ok)
            return (void *)2;
    }
    return NULL;
}

Test(stream, eight_threads_at_once) {
    qt_close(&T);
    qt_open_opts(&T, &(lh_engine_opts){.connections = 4});
    pthread_t th[8];
    for (intptr_t i = 0; i < 8; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 8; i++) {
        void *rc = NULL;
        pthread_join(th[i], &rc);
        cr_expect_null(rc, "thread %d failed with %p", i, rc);
    }
}

Test(stream, pool_busy_when_exhausted) {
    qt_close(&T);
    qt_open_opts(&T, &(lh_engine_opts){.connections = 1});
    lh_err err = LH_ERR_INIT;
    lh_query_stream *held = lh_query_open(T.engine, &(lh_query_req){.sql = "SELECT 1"}, &err);
    cr_assert_not_null(held, "%s", err.message);
    cr_expect_null(lh_query_open(T.engine, &(lh_query_req){.sql = "SELECT 2"}, &err));
    cr_expect_eq(err.code, LH_BUSY);
    lh_query_stream_close(held);
    QT_ROWS(T.engine, "SELECT 3", "[[3]]");
}

Test(stream, accept_header_mapping) {
    lh_result_format f;
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_result_format_from_accept(NULL, &f, &err), 0);
    cr_expect_eq(f, LH_FMT_JSON);
    cr_expect_eq(lh_result_format_from_accept("text/csv;q=0.9, application/json", &f, &err), 0);
    cr_expect_eq(f, LH_FMT_CSV);
    cr_expect_eq(lh_result_format_from_accept("application/x-ndjson", &f, &err), 0);
    cr_expect_eq(f, LH_FMT_NDJSON);
    cr_expect_eq(lh_result_format_from_accept("application/vnd.apache.parquet", &f, &err), 0);
    cr_expect_eq(f, LH_FMT_PARQUET);
    cr_expect_eq(lh_result_format_from_accept("*/*", &f, &err), 0);
    cr_expect_eq(f, LH_FMT_JSON);
    cr_expect_eq(lh_result_format_from_accept("image/png", &f, &err), -1);
    cr_expect_eq(err.code, LH_NOT_ACCEPTABLE);
    cr_expect_str_eq(lh_result_format_content_type(LH_FMT_PARQUET), "application/vnd.apache.parquet");
}
