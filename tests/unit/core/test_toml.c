/* Unit tests for src/core/toml.c: every supported construct parsed to the exact JSON we
 * expect, and malformed documents refused with the exact line, column and reason. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "core/core.h"

static json_t *parse_ok(const char *text, size_t len)
{
    lh_err err = LH_ERR_INIT;
    json_t *j = lh_toml_parse(text, len, &err);
    cr_assert_not_null(j, "parse failed: %s", err.message);
    cr_assert(eq(int, err.code, LH_OK));
    return j;
}

/* Parses toml and compares with the JSON text want (both dumped with sorted keys). */
static void expect_json(const char *toml, const char *want_text)
{
    json_t *got = parse_ok(toml, strlen(toml));
    json_error_t je;
    json_t *want = json_loads(want_text, 0, &je);
    cr_assert_not_null(want, "bad expected JSON: %s", je.text);
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
    char *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
    cr_assert(eq(str, g, w));
    free(g);
    free(w);
    json_decref(got);
    json_decref(want);
}

static void expect_error_n(const char *toml, size_t len, const char *message)
{
    lh_err err = LH_ERR_INIT;
    json_t *j = lh_toml_parse(toml, len, &err);
    cr_assert_null(j, "parsed but should have failed: %s", toml);
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(eq(str, err.message, (char *)message));
}

static void expect_error(const char *toml, const char *message)
{
    expect_error_n(toml, strlen(toml), message);
}

Test(toml, empty_and_comments_only)
{
    expect_json("", "{}");
    expect_json("# just a comment\n\n   \t\n# another\n", "{}");
}

Test(toml, basic_strings_and_escapes)
{
    expect_json("s = \"a\\\"b\\\\c\\nd\\te\\u00e9\\U0001F600\\b\\f\\r\"",
                "{\"s\": \"a\\\"b\\\\c\\nd\\te\\u00e9\\ud83d\\ude00\\b\\f\\r\"}");
    expect_json("s = \"\"", "{\"s\": \"\"}");
    expect_json("s = \"caf\xC3\xA9 # not a comment\" # a comment",
                "{\"s\": \"caf\\u00e9 # not a comment\"}");
}

Test(toml, literal_strings)
{
    expect_json("p = 'C:\\Users\\n'\nq = ''", "{\"p\": \"C:\\\\Users\\\\n\", \"q\": \"\"}");
}

Test(toml, multiline_strings)
{
    expect_json("a = \"\"\"\nline1\nline2\"\"\"", "{\"a\": \"line1\\nline2\"}");
    expect_json("a = \"\"\"one \\\n     two\"\"\"", "{\"a\": \"one two\"}");
    expect_json("a = '''\r\nraw \\n\r\nx'''", "{\"a\": \"raw \\\\n\\nx\"}");
    expect_json("a = \"\"\"q\"\"\"\"\"", "{\"a\": \"q\\\"\\\"\"}");
}

Test(toml, integers)
{
    expect_json("a = 1_000\nb = +42\nc = -17\nd = 0\ne = 0xff\nf = 0o17\ng = 0b101\n"
                "h = 9223372036854775807\ni = -9223372036854775808\nj = 0xdead_beef",
                "{\"a\":1000,\"b\":42,\"c\":-17,\"d\":0,\"e\":255,\"f\":15,\"g\":5,"
                "\"h\":9223372036854775807,\"i\":-9223372036854775808,\"j\":3735928559}");
}

Test(toml, floats)
{
    const char *t = "a = 1.5\nb = -0.25\nc = 1e3\nd = 6.02E+23\ne = 1_0.5_0\nf = 5e-2";
    json_t *j = parse_ok(t, strlen(t));
    cr_assert(ieee_ulp_eq(dbl, json_real_value(json_object_get(j, "a")), 1.5, 4));
    cr_assert(ieee_ulp_eq(dbl, json_real_value(json_object_get(j, "b")), -0.25, 4));
    cr_assert(ieee_ulp_eq(dbl, json_real_value(json_object_get(j, "c")), 1000.0, 4));
    cr_assert(ieee_ulp_eq(dbl, json_real_value(json_object_get(j, "d")), 6.02e23, 4));
    cr_assert(ieee_ulp_eq(dbl, json_real_value(json_object_get(j, "e")), 10.5, 4));
    cr_assert(ieee_ulp_eq(dbl, json_real_value(json_object_get(j, "f")), 0.05, 4));
    cr_assert(eq(int, json_typeof(json_object_get(j, "c")), JSON_REAL));
    json_decref(j);
}

Test(toml, booleans)
{
    expect_json("t = true\nf = false", "{\"t\": true, \"f\": false}");
}

Test(toml, arrays)
{
    expect_json("a = [1, 2, 3]\nb = []\nc = [ \"x\", 'y', ]\n"
                "d = [\n  1, # one\n  [2, [3]],\n\n  {k = 'v'},\n]\ne = [true, 1.5, \"m\"]",
                "{\"a\":[1,2,3],\"b\":[],\"c\":[\"x\",\"y\"],\"d\":[1,[2,[3]],{\"k\":\"v\"}],"
                "\"e\":[true,1.5,\"m\"]}");
}

Test(toml, tables_and_nested_tables)
{
    expect_json("top = 1\n[server]\nlisten = \"x\"\n[a.b]\nc = 2\n[a]\nd = 3\n[ a . e ]\nf = 4",
                "{\"top\":1,\"server\":{\"listen\":\"x\"},\"a\":{\"b\":{\"c\":2},\"d\":3,"
                "\"e\":{\"f\":4}}}");
}

Test(toml, dotted_and_quoted_keys)
{
    expect_json("a.b.c = 1\na.b.d = 2\nsite.\"google.com\" = true\n\"my key\" = 'v'\n"
                "'lit.key' = 0\n1234 = 'bare digits'\nx-y_z = 1",
                "{\"a\":{\"b\":{\"c\":1,\"d\":2}},\"site\":{\"google.com\":true},"
                "\"my key\":\"v\",\"lit.key\":0,\"1234\":\"bare digits\",\"x-y_z\":1}");
    /* A header may add a sub-table under a table that dotted keys made. */
    expect_json("[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true",
                "{\"fruit\":{\"apple\":{\"color\":\"red\",\"texture\":{\"smooth\":true}}}}");
}

Test(toml, arrays_of_tables)
{
    expect_json("[[bucket]]\nname = 'a'\n[[bucket]]\nname = 'b'\n[bucket.opts]\nx = 1\n"
                "[[bucket.tags]]\nt = 1\n[[bucket.tags]]\nt = 2\n",
                "{\"bucket\":[{\"name\":\"a\"},{\"name\":\"b\",\"opts\":{\"x\":1},"
                "\"tags\":[{\"t\":1},{\"t\":2}]}]}");
}

Test(toml, inline_tables)
{
    expect_json("p = { x = 1, y.z = 'w', n = {m = []} }\ne = {}",
                "{\"p\":{\"x\":1,\"y\":{\"z\":\"w\"},\"n\":{\"m\":[]}},\"e\":{}}");
}

Test(toml, crlf_and_bom)
{
    expect_json("\xEF\xBB\xBF[server]\r\nport = 1 # c\r\n\r\nname = \"n\"\r\n",
                "{\"server\":{\"port\":1,\"name\":\"n\"}}");
}

Test(toml, not_nul_terminated_input)
{
    const char text[] = {'a', ' ', '=', ' ', '1', '2'};
    json_t *j = parse_ok(text, 5); /* the '2' is outside len */
    cr_assert(eq(i64, (int64_t)json_integer_value(json_object_get(j, "a")), 1));
    json_decref(j);
    expect_error_n("a = \"x", 5, "config line 1, column 5: unterminated string");
}

Test(toml, duplicate_keys_and_tables)
{
    expect_error("a = 1\na = 2", "config line 2, column 1: duplicate key 'a'");
    expect_error("[s]\nx = 1\n  x = 2", "config line 3, column 3: duplicate key 'x'");
    expect_error("[a]\nx=1\n[a]", "config line 3, column 2: table 'a' is already defined");
    expect_error("x = 1\n[x]", "config line 2, column 2: table 'x' is already defined");
    expect_error("a.b = 1\na.b.c = 2",
                 "config line 2, column 3: cannot add to 'a.b' with a dotted key: it is already "
                 "defined");
    expect_error("[a]\nb.c = 1\n[a.b]", "config line 3, column 4: table 'a.b' is already defined");
    expect_error("a = {b = 1}\na.c = 2",
                 "config line 2, column 1: cannot add to 'a' with a dotted key: it is already "
                 "defined");
    expect_error("a = {b = 1}\n[a.c]", "config line 2, column 2: cannot extend inline table 'a'");
    expect_error("[t]\n[[t]]",
                 "config line 2, column 3: 't' is already defined and is not an array of tables");
    expect_error("a = [1]\n[a.b]", "config line 2, column 2: 'a' is already a value, not a table");
    expect_error("p = {x = 1, x = 2}", "config line 1, column 13: duplicate key 'x'");
}

Test(toml, syntax_errors_name_line_and_column)
{
    expect_error("a = \"unterminated", "config line 1, column 5: unterminated string");
    expect_error("a = 1 b", "config line 1, column 7: expected end of line, found 'b'");
    expect_error("\n\na = ", "config line 3, column 5: expected a value, found end of input");
    expect_error("a = [1 2]", "config line 1, column 8: expected ',' or ']' in array, found '2'");
    expect_error("a = [1,\n 2,,]", "config line 2, column 4: expected a value, found ','");
    expect_error("= 1", "config line 1, column 1: expected a key, found '='");
    expect_error("key with space = 1",
                 "config line 1, column 5: expected '=' after key 'key', found 'w'");
    expect_error("[server", "config line 1, column 8: expected ']' to close table header, found "
                            "end of input");
    expect_error("[[t]\nx=1", "config line 1, column 5: expected ']]' to close table header, "
                              "found end of line");
    expect_error("a = 1\rb = 2", "config line 1, column 6: expected end of line, found carriage "
                                 "return");
    expect_error("p = {x = 1,}", "config line 1, column 12: expected a key, found '}'");
    expect_error("p = {x = 1\n}", "config line 1, column 11: expected ',' or '}' in inline table, "
                                  "found end of line");
    expect_error("a = \"\"\"never closed", "config line 1, column 5: unterminated multi-line "
                                           "string");
    expect_error("\"\"\"k\"\"\" = 1", "config line 1, column 1: multi-line string not allowed "
                                        "here");
    expect_error("a = \"tab\tok\x01\"", "config line 1, column 12: control character in string");
    expect_error("# bad \x7f comment", "config line 1, column 7: control character in comment");
}

Test(toml, bad_values)
{
    expect_error("a = 01", "config line 1, column 5: leading zeros are not allowed");
    expect_error("a = 1__0", "config line 1, column 5: invalid value '1__0'");
    expect_error("a = 1_", "config line 1, column 5: invalid value '1_'");
    expect_error("a = 1.", "config line 1, column 5: invalid value '1.'");
    expect_error("a = .5", "config line 1, column 5: invalid value '.5'");
    expect_error("a = 9223372036854775808", "config line 1, column 5: integer out of range");
    expect_error("a = 0x8000000000000000", "config line 1, column 5: integer out of range");
    expect_error("a = 0o19", "config line 1, column 5: invalid base-8 integer");
    expect_error("a = 1e999", "config line 1, column 5: float out of range");
    expect_error("a = \"\\q\"", "config line 1, column 6: invalid escape '\\q'");
    expect_error("a = \"\\u12\"", "config line 1, column 6: \\u escape needs 4 hex digits");
    expect_error("a = \"\\uD800\"",
                 "config line 1, column 6: \\u escape is not a Unicode scalar value");
    expect_error("a = 1979-05-27", "config line 1, column 5: dates and times are not supported");
    expect_error("a = 07:32:00", "config line 1, column 5: dates and times are not supported");
    expect_error("a = -inf", "config line 1, column 5: inf and nan are not supported");
    expect_error("a = nan", "config line 1, column 5: inf and nan are not supported");
    expect_error("a = True", "config line 1, column 5: invalid value 'True'");
    expect_error("a = yes", "config line 1, column 5: invalid value 'yes'");
}

Test(toml, bytes_that_are_not_text)
{
    expect_error_n("a = 1\0", 6, "config line 1, column 6: NUL byte in input");
    expect_error("a = \"\xff\"", "config line 1, column 6: invalid UTF-8");
    expect_error("a = \"\xC0\xAF\"", "config line 1, column 6: invalid UTF-8"); /* overlong */
    expect_error("a = \"\xED\xA0\x80\"", "config line 1, column 6: invalid UTF-8"); /* surrogate */
    expect_error("\xC3\xA9 = 1\nb = \"\xE2\x82\"", "config line 2, column 6: invalid UTF-8");
    /* Columns count characters: the 'x' below is the 7th character, 8th byte. */
    expect_error("'\xC3\xA9' = x", "config line 1, column 7: invalid value 'x'");
    expect_error("a = \"\\u0000\"\n\"k\\u0000\" = 1",
                 "config line 2, column 1: NUL character in key");
}

Test(toml, nesting_is_bounded)
{
    char buf[256];
    /* 32 nested arrays are fine, 33 are refused. */
    size_t n = 0;
    n += (size_t)snprintf(buf, sizeof buf, "a = ");
    for (int i = 0; i < 32; i++)
        buf[n++] = '[';
    buf[n++] = '1';
    for (int i = 0; i < 32; i++)
        buf[n++] = ']';
    json_t *j = parse_ok(buf, n);
    json_decref(j);
    n = (size_t)snprintf(buf, sizeof buf, "a = ");
    for (int i = 0; i < 33; i++)
        buf[n++] = '[';
    buf[n] = '\0';
    expect_error(buf, "config line 1, column 37: nested more than 32 levels deep");
    /* Inline tables count too. */
    n = (size_t)snprintf(buf, sizeof buf, "a = ");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "{b=");
    buf[n] = '\0';
    expect_error(buf, "config line 1, column 101: nested more than 32 levels deep");
    /* Key paths are capped at 32 parts. */
    n = 0;
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%sk", i ? "." : "");
    n += (size_t)snprintf(buf + n, sizeof buf - n, " = 1");
    expect_error(buf, "config line 1, column 65: key has more than 32 parts");
}

Test(toml, null_err_is_allowed)
{
    cr_assert_null(lh_toml_parse("a = ", 4, NULL));
    json_t *j = lh_toml_parse(NULL, 0, NULL);
    cr_assert_not_null(j);
    cr_assert(eq(sz, json_object_size(j), 0));
    json_decref(j);
}
