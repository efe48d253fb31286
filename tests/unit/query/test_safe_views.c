/* AI-safe views in the query engine (src/query/views.c): a view by its name in SQL with only
 * the whitelisted columns, each redaction's exact output, structured filters with hostile
 * values kept as data, tombstones applied through the view, dropped with its definition. */
#include "query_test.h"

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

TestSuite(safe_views_sql, .init = setup, .fini = teardown, .timeout = 120);

static void add_csv(const char *name, const char *csv) {
    char *src = lh_storage_scratch_path(T.storage, ".csv");
    FILE *f = fopen(src, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(csv, 1, strlen(csv), f), strlen(csv));
    fclose(f);
    char *dst = lh_storage_scratch_path(T.storage, ".parquet");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_engine_csv_to_parquet(T.engine, src, NULL, dst, &cols, &ncols, &rows, &err),
                 0, "%s", err.message);
    lh_add_file af = {.src_path = dst, .move = true, .rows = rows};
    lh_commit_info info = {.source = "cli"};
    cr_assert_eq(lh_catalog_add_files(T.catalog, name, cols, ncols, &af, 1, &info, NULL, &err), 0,
                 "%s", err.message);
    lh_columns_free(cols, ncols);
    unlink(src);
    free(src);
    free(dst);
}

/* Like QT_ROWS, naming what came back. */
#define ROWS(sql, want)                                                                     \
    do {                                                                                    \
        char *got_ = qt_rows(T.engine, (sql));                                              \
        cr_expect_str_eq(got_, (want), "%s: got %s", (sql), got_);                         \
        free(got_);                                                                         \
    } while (0)

static void make_view(const char *text) {
    lh_err err = LH_ERR_INIT;
    json_t *def = lh_json_parse(text, strlen(text), &err);
    cr_assert_not_null(def, "%s", err.message);
    cr_assert_eq(lh_catalog_create_view(T.catalog, def, NULL, &err), 0, "%s", err.message);
    json_decref(def);
}

#define PEOPLE                                                                              \
    "id,name,email,salary,country\n1,alice,a@x.com,100,FR\n2,bo,b@x.com,200,DE\n"           \
    "3,x' OR 1=1 --,c@x.com,300,US\n4,,d@x.com,400,FR\n"

Test(safe_views_sql, whitelist_and_redactions) {
    add_csv("people", PEOPLE);
    make_view("{\"name\":\"people_safe\",\"dataset\":\"people\",\"columns\":[\"id\",\"name\","
              "\"email\",\"salary\"],\"redactions\":{\"name\":{\"mask\":{\"keep_prefix\":1,"
              "\"keep_suffix\":2}},\"email\":\"hash\",\"salary\":\"null\"}}");
    lh_catalog_snap *s = lh_catalog_snapshot(T.catalog);
    const char *salt = lh_catalog_snap_views_salt(s);
    cr_assert_not_null(salt);
    char *in = lh_xasprintf("%sa@x.com", salt);
    char want_hash[65];
    lh_sha256_hex(in, strlen(in), want_hash);
    free(in);
    lh_catalog_snap_unref(s);

    /* mask: 5 chars keep 1+2; 2 chars (<= 3) masked whole; the hostile name is just data */
    char *want = lh_xasprintf("[[1,\"a**ce\",\"%s\",null]]", want_hash);
    ROWS("SELECT * FROM people_safe WHERE id = 1", want);
    free(want);
    ROWS("SELECT name FROM people_safe ORDER BY id",
            "[[\"a**ce\"],[\"**\"],[\"x*********--\"],[null]]");
    ROWS("SELECT typeof(salary), count(*) FROM people_safe GROUP BY 1",
            "[[\"BIGINT\",4]]");
    ROWS("SELECT count(DISTINCT email), min(length(email)) FROM people_safe",
            "[[4,64]]");
    /* outside the whitelist: the binder does not know the column */
    QT_FAILS(T.engine, "SELECT country FROM people_safe", LH_SQL_ERROR);
    /* the dataset itself is unchanged */
    ROWS("SELECT name, salary FROM people WHERE id = 1", "[[\"alice\",100]]");

    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_catalog_drop_view(T.catalog, "people_safe", &err), 0, "%s", err.message);
    QT_FAILS(T.engine, "SELECT * FROM people_safe", LH_SQL_ERROR);
}

Test(safe_views_sql, filters_hostile_values_and_tombstones) {
    add_csv("people", PEOPLE);
    /* a value that would break out of a spliced string matches nothing, as data */
    make_view("{\"name\":\"v1\",\"dataset\":\"people\",\"columns\":[\"id\"],\"row_filter\":"
              "{\"column\":\"country\",\"op\":\"=\",\"value\":\"x' OR 1=1 --\"}}");
    ROWS("SELECT count(*) FROM v1", "[[0]]");
    make_view("{\"name\":\"v2\",\"dataset\":\"people\",\"columns\":[\"id\"],\"row_filter\":"
              "{\"column\":\"name\",\"op\":\"=\",\"value\":\"x' OR 1=1 --\"}}");
    ROWS("SELECT id FROM v2", "[[3]]");
    make_view("{\"name\":\"v3\",\"dataset\":\"people\",\"columns\":[\"id\",\"name\"],"
              "\"row_filter\":[{\"column\":\"country\",\"op\":\"in\",\"value\":[\"FR\",\"DE\"]},"
              "{\"column\":\"salary\",\"op\":\">=\",\"value\":150}]}");
    ROWS("SELECT id FROM v3 ORDER BY id", "[[2],[4]]");
    make_view("{\"name\":\"v4\",\"dataset\":\"people\",\"columns\":[\"id\"],\"row_filter\":["
              "{\"column\":\"name\",\"op\":\"is null\"}]}");
    ROWS("SELECT id FROM v4", "[[4]]");
    make_view("{\"name\":\"v5\",\"dataset\":\"people\",\"columns\":[\"id\"],\"row_filter\":["
              "{\"column\":\"email\",\"op\":\"like\",\"value\":\"%@x.com\"},"
              "{\"column\":\"salary\",\"op\":\"!=\",\"value\":200},"
              "{\"column\":\"salary\",\"op\":\"<\",\"value\":350.5}]}");
    ROWS("SELECT id FROM v5 ORDER BY id", "[[1],[3]]");

    const char *keys[] = {"1"};
    char id[37];
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_catalog_add_tombstones(T.catalog, "people", "id", keys, 1, NULL, NULL, id,
                                           &err), 0, "%s", err.message);
    ROWS("SELECT id FROM v5 ORDER BY id", "[[3]]");
    /* an append is seen through the view */
    add_csv("people", "id,name,email,salary,country\n5,eve,e@x.com,10,FR\n");
    ROWS("SELECT id FROM v5 ORDER BY id", "[[3],[5]]");
}
