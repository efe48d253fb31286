/* Tests for src/catalog/delta_types.c: DuckDB type text <-> Delta schema types, round trips
 * of the lossless types, the lossy mappings, nesting, quoted names and errors. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"

static char *delta_text(const char *duck)
{
    lh_err err = LH_ERR_INIT;
    json_t *t = lh_delta_type_from_duckdb(duck, &err);
    cr_assert_not_null(t, "'%s': %s", duck, err.message);
    char *s = lh_json_dump(t);
    json_decref(t);
    return s;
}

static void expect_delta(const char *duck, const char *want)
{
    char *s = delta_text(duck);
    cr_expect_str_eq(s, want, "%s", duck);
    free(s);
}

static char *back(const char *duck)
{
    lh_err err = LH_ERR_INIT;
    json_t *t = lh_delta_type_from_duckdb(duck, &err);
    cr_assert_not_null(t, "'%s': %s", duck, err.message);
    char *out = lh_delta_type_to_duckdb(t, &err);
    json_decref(t);
    cr_assert_not_null(out, "'%s': %s", duck, err.message);
    return out;
}

static void expect_back(const char *duck, const char *want)
{
    char *s = back(duck);
    cr_expect_str_eq(s, want, "%s", duck);
    free(s);
}

Test(delta_types, scalars)
{
    expect_delta("BOOLEAN", "\"boolean\"");
    expect_delta("TINYINT", "\"byte\"");
    expect_delta("SMALLINT", "\"short\"");
    expect_delta("INTEGER", "\"integer\"");
    expect_delta("BIGINT", "\"long\"");
    expect_delta("UTINYINT", "\"short\"");
    expect_delta("USMALLINT", "\"integer\"");
    expect_delta("UINTEGER", "\"long\"");
    expect_delta("UBIGINT", "\"decimal(20,0)\"");
    expect_delta("HUGEINT", "\"decimal(38,0)\"");
    expect_delta("UHUGEINT", "\"decimal(38,0)\"");
    expect_delta("FLOAT", "\"float\"");
    expect_delta("DOUBLE", "\"double\"");
    expect_delta("DECIMAL(18,2)", "\"decimal(18,2)\"");
    expect_delta("decimal( 5 , 0 )", "\"decimal(5,0)\"");
    expect_delta("VARCHAR", "\"string\"");
    expect_delta("JSON", "\"string\"");
    expect_delta("UUID", "\"string\"");
    expect_delta("ENUM('a', 'b''c', 'd,e')", "\"string\"");
    expect_delta("BLOB", "\"binary\"");
    expect_delta("DATE", "\"date\"");
    expect_delta("TIMESTAMP", "\"timestamp_ntz\"");
    expect_delta("TIMESTAMP_S", "\"timestamp_ntz\"");
    expect_delta("TIMESTAMP_MS", "\"timestamp_ntz\"");
    expect_delta("TIMESTAMP_NS", "\"timestamp_ntz\"");
    expect_delta("TIMESTAMP WITH TIME ZONE", "\"timestamp\"");
    expect_delta("timestamp with time zone", "\"timestamp\"");
    expect_delta("TIME", "\"string\"");
    expect_delta("INTERVAL", "\"string\"");
}

Test(delta_types, nested)
{
    expect_delta("INTEGER[]",
                 "{\"type\":\"array\",\"elementType\":\"integer\",\"containsNull\":true}");
    expect_delta("VARCHAR[3]",
                 "{\"type\":\"array\",\"elementType\":\"string\",\"containsNull\":true}");
    expect_delta("MAP(VARCHAR, BIGINT)",
                 "{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"long\","
                 "\"valueContainsNull\":true}");
    expect_delta("STRUCT(a INTEGER, \"b c\" VARCHAR[])",
                 "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"integer\","
                 "\"nullable\":true,\"metadata\":{}},{\"name\":\"b c\",\"type\":{\"type\":"
                 "\"array\",\"elementType\":\"string\",\"containsNull\":true},\"nullable\":true,"
                 "\"metadata\":{}}]}");
}

Test(delta_types, round_trips)
{
    static const char *lossless[] = {
        "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE",
        "DECIMAL(18,2)", "VARCHAR", "BLOB", "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE",
        "INTEGER[]", "VARCHAR[][]", "MAP(VARCHAR, BIGINT)", "STRUCT(a INTEGER, b VARCHAR)",
        "STRUCT(\"Weird \"\"name\" INTEGER, n STRUCT(x DOUBLE[], y MAP(INTEGER, DATE)))",
        "MAP(VARCHAR, STRUCT(a BIGINT))[]",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(lossless); i++)
        expect_back(lossless[i], lossless[i]);
    /* The lossy directions land on the widest DuckDB type Delta can hold. */
    expect_back("UBIGINT", "DECIMAL(20,0)");
    expect_back("HUGEINT", "DECIMAL(38,0)");
    expect_back("UINTEGER", "BIGINT");
    expect_back("TIMESTAMP_NS", "TIMESTAMP");
    expect_back("JSON", "VARCHAR");
    expect_back("INTEGER[4]", "INTEGER[]");
    expect_back("int", "INTEGER");
}

Test(delta_types, errors)
{
    static const char *bad[] = {
        "", "FOO", "UNION(a INTEGER)", "BIT", "DECIMAL(40,2)", "DECIMAL(5,6)", "INTEGER[",
        "STRUCT(", "STRUCT(a)", "MAP(VARCHAR)", "ENUM(a)", "BIGINT garbage",
        "STRUCT(a INTEGER,)", "VARCHAR[x]",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        lh_err err = LH_ERR_INIT;
        json_t *t = lh_delta_type_from_duckdb(bad[i], &err);
        cr_expect_null(t, "'%s' accepted", bad[i]);
        cr_expect_eq(err.code, LH_INVALID_ARGUMENT, "'%s'", bad[i]);
        json_decref(t);
    }
    lh_err err = LH_ERR_INIT;
    cr_expect_null(lh_delta_type_from_duckdb(NULL, &err));

    /* Too deep nesting is refused, not a stack overflow. */
    lh_buf b;
    lh_buf_init(&b);
    for (int i = 0; i < 200; i++)
        lh_buf_puts(&b, "STRUCT(a ");
    lh_buf_puts(&b, "INTEGER");
    for (int i = 0; i < 200; i++)
        lh_buf_putc(&b, ')');
    cr_expect_null(lh_delta_type_from_duckdb(b.data, &err));
    lh_buf_release(&b);

    static const char *bad_delta[] = {
        "\"variant\"", "\"decimal(0,0)\"", "{\"type\":\"array\"}", "{\"type\":\"struct\"}",
        "{\"type\":\"map\",\"keyType\":\"string\"}", "{\"type\":\"udt\"}", "42",
        "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\"}]}",
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(bad_delta); i++) {
        json_t *j = json_loads(bad_delta[i], JSON_DECODE_ANY, NULL);
        cr_assert_not_null(j);
        lh_err e2 = LH_ERR_INIT;
        char *s = lh_delta_type_to_duckdb(j, &e2);
        cr_expect_null(s, "'%s' accepted as %s", bad_delta[i], s ? s : "");
        cr_expect_eq(e2.code, LH_INVALID_ARGUMENT);
        free(s);
        json_decref(j);
    }
}

Test(delta_types, schema_string)
{
    lh_column cols[] = {{"id", "BIGINT"}, {"tags", "VARCHAR[]"}};
    lh_err err = LH_ERR_INIT;
    char *s = lh_delta_schema_string(cols, 2, &err);
    cr_assert_not_null(s, "%s", err.message);
    cr_expect_str_eq(s, "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\","
                        "\"nullable\":true,\"metadata\":{}},{\"name\":\"tags\",\"type\":{"
                        "\"type\":\"array\",\"elementType\":\"string\",\"containsNull\":true},"
                        "\"nullable\":true,\"metadata\":{}}]}");
    free(s);
    lh_column bad[] = {{"x", "GEOMETRY"}};
    cr_expect_null(lh_delta_schema_string(bad, 1, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect(strstr(err.message, "'x'") != NULL, "%s", err.message);
}
