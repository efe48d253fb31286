/* Unit tests for src/core/json.c: parse errors with line and column, dumps, typed accessors. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "core/core.h"

static json_t *parse(const char *s, lh_err *err)
{
    return lh_json_parse(s, strlen(s), err);
}

Test(json, parse_ok_and_dump)
{
    lh_err err = LH_ERR_INIT;
    json_t *j = parse("{ \"a\": [1, 2.5, \"x\"], \"b\": null }", &err);
    cr_assert_not_null(j, "%s", err.message);
    char *s = lh_json_dump(j);
    cr_assert(eq(str, s, "{\"a\":[1,2.5,\"x\"],\"b\":null}"));
    free(s);
    json_decref(j);
    /* Only len bytes are read. */
    j = lh_json_parse("[1]garbage", 3, &err);
    cr_assert_not_null(j, "%s", err.message);
    json_decref(j);
}

Test(json, parse_errors_name_line_and_column)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_null(parse("{\n  \"a\": 1,\n  \"b\": }", &err));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert_not_null(strstr(err.message, "line 3"), "message: %s", err.message);
    cr_assert_not_null(strstr(err.message, "column 8"), "message: %s", err.message);
    lh_err_clear(&err);
    cr_assert_null(parse("", &err));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    lh_err_clear(&err);
    cr_assert_null(parse("[1, 2", &err));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert_not_null(strstr(err.message, "line 1"), "message: %s", err.message);
}

Test(json, parse_rejects_duplicate_keys)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_null(parse("{\"a\": 1, \"a\": 2}", &err));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
}

Test(json, str_accessor)
{
    lh_err err = LH_ERR_INIT;
    json_t *o = json_pack("{s:s, s:i, s:n}", "name", "sales", "n", 3, "nothing");
    cr_assert(eq(str, (char *)lh_json_str(o, "name", true, &err), "sales"));
    cr_assert_null(lh_json_str(o, "missing", false, &err));
    cr_assert(eq(int, err.code, LH_OK));
    cr_assert_null(lh_json_str(o, "nothing", false, &err)); /* null counts as missing */
    cr_assert(eq(int, err.code, LH_OK));
    cr_assert_null(lh_json_str(o, "missing", true, &err));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert_not_null(strstr(err.message, "'missing'"), "message: %s", err.message);
    lh_err_clear(&err);
    cr_assert_null(lh_json_str(o, "n", false, &err));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert_not_null(strstr(err.message, "'n'"), "message: %s", err.message);
    json_decref(o);
}

Test(json, int_accessor)
{
    lh_err err = LH_ERR_INIT;
    json_t *o = json_pack("{s:I, s:s, s:f}", "k", (json_int_t)INT64_MAX, "s", "7", "f", 1.5);
    int64_t v = 0;
    cr_assert(eq(int, lh_json_int(o, "k", true, 0, &v, &err), 0));
    cr_assert(eq(i64, v, INT64_MAX));
    cr_assert(eq(int, lh_json_int(o, "absent", false, 42, &v, &err), 0));
    cr_assert(eq(i64, v, 42));
    cr_assert(eq(int, lh_json_int(o, "absent", true, 42, &v, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert_not_null(strstr(err.message, "'absent'"), "message: %s", err.message);
    lh_err_clear(&err);
    cr_assert(eq(int, lh_json_int(o, "s", false, 0, &v, &err), -1));
    cr_assert_not_null(strstr(err.message, "'s'"), "message: %s", err.message);
    cr_assert(eq(int, lh_json_int(o, "f", false, 0, &v, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    json_decref(o);
}
