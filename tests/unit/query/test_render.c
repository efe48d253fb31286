/* Tests for src/query/render.c and render_scalar.c: every type's exact JSON and CSV text. */
#include "query_test.h"

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

TestSuite(render, .init = setup, .fini = teardown, .timeout = 120);

Test(render, integers_of_every_width) {
    QT_ROWS(T.engine, "SELECT (-128)::TINYINT, (-32768)::SMALLINT, (-2147483648)::INTEGER, "
                      "(-9223372036854775808)::BIGINT",
            "[[-128,-32768,-2147483648,-9223372036854775808]]");
    QT_ROWS(T.engine, "SELECT 255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, "
                      "18446744073709551615::UBIGINT",
            "[[255,65535,4294967295,18446744073709551615]]");
    QT_ROWS(T.engine, "SELECT (-170141183460469231731687303715884105728)::HUGEINT, "
                      "170141183460469231731687303715884105727::HUGEINT, "
                      "340282366920938463463374607431768211455::UHUGEINT, 0::HUGEINT",
            "[[-170141183460469231731687303715884105728,170141183460469231731687303715884105727,"
            "340282366920938463463374607431768211455,0]]");
}

Test(render, decimals_keep_their_scale) {
    QT_ROWS(T.engine, "SELECT 12.50::DECIMAL(4,2), -0.001::DECIMAL(9,3), 0::DECIMAL(18,4), "
                      "-12345678901234.5678::DECIMAL(18,4), "
                      "1234567890123456789012345678.9::DECIMAL(38,1), 7::DECIMAL(5,0)",
            "[[12.50,-0.001,0.0000,-12345678901234.5678,1234567890123456789012345678.9,7]]");
}

Test(render, floats_shortest_round_trip) {
    QT_ROWS(T.engine, "SELECT 0.1::DOUBLE, 1/3::DOUBLE, 1e300::DOUBLE, -2.5::DOUBLE, "
                      "0.1::FLOAT, 3::DOUBLE",
            "[[0.1,0.3333333333333333,1e+300,-2.5,0.1,3]]");
    QT_ROWS(T.engine, "SELECT 'nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::FLOAT", "[[null,null,null]]");
    lh_err err = LH_ERR_INIT;
    char *csv = qt_run(T.engine, "SELECT 'nan'::DOUBLE AS a, 'inf'::DOUBLE AS b, '-inf'::FLOAT AS c",
                       LH_FMT_CSV, &err);
    cr_assert_not_null(csv, "%s", err.message);
    cr_expect_str_eq(csv, "a,b,c\r\nNaN,Infinity,-Infinity\r\n");
    free(csv);
}

Test(render, booleans_strings_and_nulls) {
    QT_ROWS(T.engine, "SELECT true, false, NULL, NULL::INTEGER, 'a\"b\\c' || chr(10), ''",
            "[[true,false,null,null,\"a\\\"b\\\\c\\n\",\"\"]]");
    QT_ROWS(T.engine, "SELECT 'a string longer than twelve bytes, with é'",
            "[[\"a string longer than twelve bytes, with é\"]]");
}

Test(render, dates_times_timestamps) {
    QT_ROWS(T.engine, "SELECT DATE '2024-01-31', DATE '1969-12-31', TIME '13:45:00.5', "
                      "TIME '00:00:00'",
            "[[\"2024-01-31\",\"1969-12-31\",\"13:45:00.5\",\"00:00:00\"]]");
    QT_ROWS(T.engine, "SELECT TIMESTAMP '2024-01-31 13:45:00.123456', "
                      "TIMESTAMP '2024-01-31 13:45:00', TIMESTAMP '1960-06-01 01:02:03.5'",
            "[[\"2024-01-31T13:45:00.123456\",\"2024-01-31T13:45:00\",\"1960-06-01T01:02:03.5\"]]");
    QT_ROWS(T.engine, "SELECT '2024-01-31 13:45:00'::TIMESTAMP_S, "
                      "'2024-01-31 13:45:00.120'::TIMESTAMP_MS, "
                      "'2024-01-31 13:45:00.123456789'::TIMESTAMP_NS",
            "[[\"2024-01-31T13:45:00\",\"2024-01-31T13:45:00.12\","
            "\"2024-01-31T13:45:00.123456789\"]]");
    QT_ROWS(T.engine, "SELECT TIMESTAMPTZ '2024-01-31 13:45:00+00', 'infinity'::TIMESTAMP, "
                      "'-infinity'::DATE",
            "[[\"2024-01-31T13:45:00Z\",\"infinity\",\"-infinity\"]]");
    QT_ROWS(T.engine, "SELECT TIMETZ '13:45:00+02:00'", "[[\"13:45:00+02:00\"]]");
}

Test(render, intervals_uuid_blob_enum_bit) {
    QT_ROWS(T.engine, "SELECT INTERVAL '1 year 2 months 3 days 04:05:06.5', INTERVAL '0 days', "
                      "INTERVAL '-90 minutes'",
            "[[\"P1Y2M3DT4H5M6.5S\",\"PT0S\",\"PT-1H-30M\"]]");
    QT_ROWS(T.engine, "SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID, "
                      "'00000000-0000-0000-0000-000000000001'::UUID",
            "[[\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"00000000-0000-0000-0000-000000000001\"]]");
    QT_ROWS(T.engine, "SELECT 'hello'::BLOB, '\\x00\\xFF'::BLOB, ''::BLOB",
            "[[\"aGVsbG8=\",\"AP8=\",\"\"]]");
    QT_ROWS(T.engine, "SELECT 'b'::ENUM('a', 'b'), '1011010101'::BIT",
            "[[\"b\",\"1011010101\"]]");
    QT_ROWS(T.engine, "SELECT '-256'::BIGNUM, '10000000000000000000000000000'::BIGNUM, '0'::BIGNUM",
            "[[-256,10000000000000000000000000000,0]]");
}

Test(render, nested_types) {
    QT_ROWS(T.engine, "SELECT [1, NULL, 3], [[1], []], ['a', 'b']::VARCHAR[2], [], NULL::INT[]",
            "[[[1,null,3],[[1],[]],[\"a\",\"b\"],[],null]]");
    QT_ROWS(T.engine, "SELECT {'a': 1, 'b': {'c': [true]}}, {'x': NULL}",
            "[[{\"a\":1,\"b\":{\"c\":[true]}},{\"x\":null}]]");
    QT_ROWS(T.engine, "SELECT MAP {'k': 1, 'j': NULL}, MAP {1: 'one', 2: 'two'}",
            "[[{\"k\":1,\"j\":null},[{\"key\":1,\"value\":\"one\"},{\"key\":2,\"value\":\"two\"}]]]");
    QT_ROWS(T.engine, "SELECT union_value(num := 2)::UNION(num INTEGER, s VARCHAR)", "[[2]]");
    QT_ROWS(T.engine, "SELECT '{\"a\": [1, 2]}'::JSON", "[[{\"a\": [1, 2]}]]");
}

Test(render, nested_in_csv_is_json_text) {
    lh_err err = LH_ERR_INIT;
    char *csv = qt_run(T.engine, "SELECT [1,2] AS l, {'a': 'x,y'} AS s, NULL AS n, 'q\"' AS t, "
                                 "12.50::DECIMAL(4,2) AS d, DATE '2024-01-31' AS dt",
                       LH_FMT_CSV, &err);
    cr_assert_not_null(csv, "%s", err.message);
    cr_expect_str_eq(csv, "l,s,n,t,d,dt\r\n\"[1,2]\",\"{\"\"a\"\":\"\"x,y\"\"}\",,\"q\"\"\",12.50,"
                          "2024-01-31\r\n");
    free(csv);
}

Test(render, column_names_and_types) {
    lh_err err = LH_ERR_INIT;
    char *out = qt_run(T.engine, "SELECT 1::INTEGER AS a, 1.5::DECIMAL(4,2) AS \"b c\", "
                                 "[1]::BIGINT[] AS l, {'x': 1} AS s, MAP {'k': 1} AS m",
                       LH_FMT_JSON, &err);
    cr_assert_not_null(out, "%s", err.message);
    cr_expect(strstr(out, "{\"columns\":[{\"name\":\"a\",\"type\":\"INTEGER\"},"
                          "{\"name\":\"b c\",\"type\":\"DECIMAL(4,2)\"},"
                          "{\"name\":\"l\",\"type\":\"BIGINT[]\"},"
                          "{\"name\":\"s\",\"type\":\"STRUCT(x INTEGER)\"},"
                          "{\"name\":\"m\",\"type\":\"MAP(VARCHAR, INTEGER)\"}],") == out,
              "%s", out);
    free(out);
}
