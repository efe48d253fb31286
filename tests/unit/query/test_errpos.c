/* Tests for src/query/errpos.c: the line, column and offset of the spot DuckDB's caret
 * points at, for whole lines, lines DuckDB cut to a window, later lines, multibyte text,
 * and messages that carry no usable marker; plus one real parser and binder error. */
#include "query_test.h"

static lh_sql_position pos_of(const char *sql, const char *msg)
{
    lh_sql_position p = {0};
    cr_assert(lh_sql_error_position(sql, msg, &p), "no position found in: %s", msg);
    return p;
}

Test(errpos, whole_line)
{
    const char *sql = "SELEC * FROM jobs";
    lh_sql_position p = pos_of(sql, "Parser Error: syntax error at or near \"SELEC\"\n\n"
                                    "LINE 1: SELEC * FROM jobs\n        ^");
    cr_assert_eq(p.line, 1);
    cr_assert_eq(p.column, 1);
    cr_assert_eq(p.offset, 0);
}

Test(errpos, second_line)
{
    const char *sql = "SELECT *\nFORM jobs";
    lh_sql_position p = pos_of(sql, "Parser Error: syntax error at or near \"jobs\"\n\n"
                                    "LINE 2: FORM jobs\n             ^");
    cr_assert_eq(p.line, 2);
    cr_assert_eq(p.column, 6);
    cr_assert_eq(p.offset, 14);
}

Test(errpos, window_cut_at_both_ends)
{
    const char *sql = "SELECT aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, zz FROM t WHERE "
                      "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb = 1";
    /* DuckDB shows ~40 columns either side of the spot ("zz") and marks the cuts. */
    const char *msg = "Binder Error: column zz not found\n\n"
                      "LINE 1: ...aaaaaaaaaaaaaaaaaaaaaaaaa, zz FROM t WHERE bbbbbbbbbbbbbbbbbbbbbbbb...\n"
                      "                                      ^"; /* 8 + 3 + 27 spaces */
    lh_sql_position p = pos_of(sql, msg);
    const char *zz = strstr(sql, "zz");
    cr_assert_eq(p.offset, zz - sql);
    cr_assert_eq(p.column, (int)(zz - sql) + 1);
}

Test(errpos, columns_count_characters_not_bytes)
{
    const char *sql = "SELECT 'héllo', x FROM t";
    lh_sql_position p = pos_of(sql, "Binder Error: x\n\nLINE 1: SELECT 'héllo', x FROM t\n"
                                    "                        ^");
    cr_assert_eq(p.column, 17); /* 'x' is the 17th character, the 18th byte */
    cr_assert_eq(p.offset, 16);
}

Test(errpos, spot_at_the_end_of_the_text)
{
    const char *sql = "SELECT * FROM";
    lh_sql_position p = pos_of(sql, "Parser Error: syntax error at end of input\n\n"
                                    "LINE 1: SELECT * FROM\n                     ^");
    cr_assert_eq(p.column, 14);
    cr_assert_eq(p.offset, 13);
}

Test(errpos, end_of_input_points_past_the_last_token)
{
    const char *sql = "SELECT *\nFROM  ;\n ";
    lh_sql_position p = pos_of(sql, "Parser Error: syntax error at end of input");
    cr_assert_eq(p.line, 2);
    cr_assert_eq(p.column, 5);
    cr_assert_eq(p.offset, 13);
}

Test(errpos, no_marker_no_position)
{
    lh_sql_position p;
    cr_assert_not(lh_sql_error_position("SELECT 1", "Catalog Error: Table x does not exist", &p));
    cr_assert_not(lh_sql_error_position("SELECT 1", "x\n\nLINE 1: SELECT 1\nno caret", &p));
    cr_assert_not(lh_sql_error_position("SELECT 1", "x\n\nLINE 7: SELECT 1\n        ^", &p));
    cr_assert_not(lh_sql_error_position("SELECT 1", "x\n\nLINE 1: SELECT 1\n ^", &p));
    cr_assert_not(lh_sql_error_position("SELECT 1", "x\n\nLINE 1: SELECT 1\n"
                                                    "                                   ^", &p));
    cr_assert_not(lh_sql_error_position(NULL, "x", &p));
    /* An excerpt that is not in the text (a message about other SQL) gives no position. */
    cr_assert_not(lh_sql_error_position("SELECT 1", "x\n\nLINE 1: ...other text here\n"
                                                    "               ^", &p));
}

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

/* DuckDB's own messages, so a change in its format shows up here. */
Test(errpos_duckdb, real_messages_point_at_the_right_token, .init = setup, .fini = teardown,
     .timeout = 120)
{
    const char *cases[][2] = {
        {"SELECT *\nFORM jobs", "jobs"},
        {"SELECT nope FROM (SELECT 1 AS a)", "nope"},
        {"SELECT * FROM", NULL}, /* at end of input: just past "FROM" */
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        lh_err err = LH_ERR_INIT;
        lh_query_req qr = {.sql = cases[i][0], .format = LH_FMT_JSON};
        lh_query_stream *q = lh_query_open(T.engine, &qr, &err);
        cr_assert_null(q);
        cr_assert_eq(err.code, LH_SQL_ERROR, "%s", err.message);
        lh_sql_position p;
        cr_assert(lh_sql_error_position(cases[i][0], err.message, &p), "%s", err.message);
        int64_t want = cases[i][1] ? strstr(cases[i][0], cases[i][1]) - cases[i][0]
                                   : (int64_t)strlen(cases[i][0]);
        cr_assert_eq(p.offset, want, "%s: offset %lld", cases[i][0], (long long)p.offset);
    }
}
