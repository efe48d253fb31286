/* Tests for src/query/sandbox.c and the directory sandbox set in engine.c: every escape
 * route user SQL might try is refused with forbidden; errors keep DuckDB's text. */
#include "query_test.h"

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

TestSuite(sandbox, .init = setup, .fini = teardown, .timeout = 120);

Test(sandbox, write_and_admin_statements_are_forbidden) {
    const char *bad[] = {
        "COPY (SELECT 1) TO '/tmp/lhq-copy.csv'",
        "ATTACH ':memory:' AS m",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET threads = 1",
        "SET enable_external_access = true",
        "RESET threads",
        "CREATE TABLE t (a INTEGER)",
        "CREATE VIEW v AS SELECT 1",
        "CREATE MACRO f() AS 1",
        "DROP TABLE t",
        "INSERT INTO t VALUES (1)",
        "PRAGMA version",
        "PRAGMA table_info('t')",
        "PRAGMA enable_profiling",
        "pragma threads=2",
        "CALL pragma_version()",
        "EXPORT DATABASE '/tmp/lhq-export'",
        "USE memory",
        "BEGIN",
        "CHECKPOINT",
        "VACUUM",
        "DETACH m",
        "UPDATE t SET a = 1",
        "DELETE FROM t",
        "SELECT 1; DROP TABLE t",
        "SELECT 1; SELECT 2",
        "/* comment */ COPY (SELECT 1) TO '/tmp/lhq-copy2.csv'",
        "EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/lhq-copy3.csv'",
        "EXPLAIN ANALYZE CREATE TABLE u (a INTEGER)",
        "explain analyze /* c */ INSERT INTO t SELECT 1",
        "EXPLAIN ANALYZE PRAGMA version",
        "EXPLAIN (FORMAT json) DROP TABLE t",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++)
        QT_FAILS(T.engine, bad[i], LH_FORBIDDEN);
    /* Nothing above took effect. */
    QT_FAILS(T.engine, "SELECT * FROM u", LH_SQL_ERROR);
    cr_expect_eq(access("/tmp/lhq-copy.csv", F_OK), -1);
    cr_expect_eq(access("/tmp/lhq-copy3.csv", F_OK), -1);
}

Test(sandbox, message_names_the_statement_kind) {
    lh_err err = LH_ERR_INIT;
    lh_query_req req = {.sql = "COPY (SELECT 1) TO '/tmp/x.csv'"};
    cr_assert_null(lh_query_open(T.engine, &req, &err));
    cr_expect_str_eq(err.message, "only read statements are allowed: got COPY");
    req.sql = "SELECT 1; DROP TABLE t";
    cr_assert_null(lh_query_open(T.engine, &req, &err));
    cr_expect_str_eq(err.message, "only one statement per query");
}

Test(sandbox, files_outside_the_lake_are_forbidden) {
    QT_FAILS(T.engine, "SELECT * FROM read_csv('/etc/passwd')", LH_FORBIDDEN);
    QT_FAILS(T.engine, "SELECT * FROM read_text('/etc/hostname')", LH_FORBIDDEN);
    QT_FAILS(T.engine, "SELECT * FROM glob('/etc/*')", LH_FORBIDDEN);
    QT_FAILS(T.engine, "SELECT * FROM '/etc/passwd'", LH_SQL_ERROR);
    char *sql = lh_xasprintf("SELECT * FROM read_text('%s/_catalog/x.json')",
                             lh_bucket_root(lh_storage_bucket(T.storage, "primary", NULL)));
    QT_FAILS(T.engine, sql, LH_FORBIDDEN);
    free(sql);
    sql = lh_xasprintf("SELECT * FROM read_csv('%s/buckets/primary/datasets/../../../../../../etc/passwd')",
                       T.dir);
    QT_FAILS(T.engine, sql, LH_FORBIDDEN);
    free(sql);
}

Test(sandbox, read_statements_are_allowed) {
    const char *ok[] = {
        "SELECT 1",
        "select 1;",
        "  -- leading comment\n SELECT 1 -- trailing",
        "FROM range(3)",
        "VALUES (1), (2)",
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x",
        "(SELECT 1)",
        "EXPLAIN SELECT 1",
        "EXPLAIN ANALYZE SELECT 1",
        "DESCRIBE SELECT 1 AS a",
        "SUMMARIZE SELECT 1 AS a",
        "SHOW TABLES",
        "SHOW ALL TABLES",
        "SELECT * FROM pragma_version()",
        "SELECT 'a;b', \"c\" FROM (SELECT 1 AS \"c\")",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(ok); i++) {
        lh_err err = LH_ERR_INIT;
        char *out = qt_run(T.engine, ok[i], LH_FMT_JSON, &err);
        cr_expect_not_null(out, "%s: %s", ok[i], err.message);
        free(out);
    }
}

Test(sandbox, sql_errors_keep_duckdb_text) {
    lh_err err = LH_ERR_INIT;
    lh_query_req req = {.sql = "SELEC 1"};
    cr_assert_null(lh_query_open(T.engine, &req, &err));
    cr_expect_eq(err.code, LH_SQL_ERROR);
    cr_expect(strstr(err.message, "syntax error at or near \"SELEC\""), "%s", err.message);
    cr_expect(strstr(err.message, "LINE 1"), "%s", err.message);
    QT_FAILS(T.engine, "SELECT * FROM no_such_table", LH_SQL_ERROR);
    QT_FAILS(T.engine, "SELECT 1/'x'::INTEGER", LH_SQL_ERROR);
    QT_FAILS(T.engine, "", LH_INVALID_ARGUMENT);
    QT_FAILS(T.engine, " ; ", LH_INVALID_ARGUMENT);
    QT_FAILS(T.engine, "SELECT 1 /* unterminated", LH_SQL_ERROR);
}

Test(sandbox, params_bind_by_type) {
    lh_err err = LH_ERR_INIT;
    json_t *params = json_pack("[i,s,n,b,f]", 41, "x'y", 1, 1.5);
    lh_query_req req = {.sql = "SELECT $1 + 1 AS a, $2 AS b, $3 AS c, $4 AS d, $5 AS e",
                        .params = params};
    char *out = qt_run_req(T.engine, &req, NULL, &err);
    cr_assert_not_null(out, "%s", err.message);
    cr_expect(strstr(out, "\"rows\":[[42,\"x'y\",null,true,1.5]]"), "%s", out);
    free(out);
    json_decref(params);

    params = json_pack("[i]", 1);
    req.sql = "SELECT ?, ?";
    req.params = params;
    cr_expect_null(lh_query_open(T.engine, &req, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    json_decref(params);

    params = json_pack("[{}]");
    req.sql = "SELECT ?";
    req.params = params;
    cr_expect_null(lh_query_open(T.engine, &req, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect(strstr(err.message, "params[0]"), "%s", err.message);
    json_decref(params);

    params = json_pack("[[i]]", 1);
    req.params = params;
    cr_expect_null(lh_query_open(T.engine, &req, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    json_decref(params);

    req.sql = "SELECT ?";
    req.params = NULL;
    cr_expect_null(lh_query_open(T.engine, &req, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
}

Test(sandbox, strip_semicolons_respects_quotes) {
    /* Exercised through the Parquet path: a trailing ';' and comment must not break it. */
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    lh_query_req req = {.sql = "SELECT ';' AS a, $$x;y$$ AS b; -- done", .format = LH_FMT_PARQUET};
    char *out = qt_run_req(T.engine, &req, &len, &err);
    cr_assert_not_null(out, "%s", err.message);
    cr_expect(len > 8 && memcmp(out, "PAR1", 4) == 0);
    free(out);
}
