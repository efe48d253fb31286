/* Unit tests for src/core/str.c: prefixes, dataset names and SQL quoting. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "core/core.h"

Test(str, prefix_suffix)
{
    cr_assert(lh_str_has_prefix("datasets/a", "datasets/"));
    cr_assert(lh_str_has_prefix("abc", ""));
    cr_assert_not(lh_str_has_prefix("ab", "abc"));
    cr_assert(lh_str_has_suffix("a.parquet", ".parquet"));
    cr_assert(lh_str_has_suffix("abc", ""));
    cr_assert_not(lh_str_has_suffix("csv", ".csv"));
    cr_assert_not(lh_str_has_suffix("a.csv.gz", ".csv"));
}

Test(str, name_valid)
{
    static const char *const good[] = {"a", "_", "sales", "sales_2024", "_2024", "a_b_c9"};
    static const char *const bad[] = {"", "Sales", "2024", "a-b", "a b", "a.b", "é", "a/b"};
    for (size_t i = 0; i < LH_ARRAY_LEN(good); i++)
        cr_assert(lh_name_valid(good[i]), "'%s' should be valid", good[i]);
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++)
        cr_assert_not(lh_name_valid(bad[i]), "'%s' should be invalid", bad[i]);
    cr_assert_not(lh_name_valid(NULL));
    char max[LH_NAME_MAX + 2];
    memset(max, 'a', LH_NAME_MAX);
    max[LH_NAME_MAX] = '\0';
    cr_assert(lh_name_valid(max));
    max[LH_NAME_MAX] = 'a';
    max[LH_NAME_MAX + 1] = '\0';
    cr_assert_not(lh_name_valid(max));
}

static void expect_name(const char *file, const char *want)
{
    char out[LH_NAME_MAX + 1];
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_name_from_filename(file, out, &err), 0), "%s: %s", file, err.message);
    cr_assert(eq(str, out, (char *)want));
    cr_assert(lh_name_valid(out), "'%s' from '%s' is not a valid name", out, file);
}

Test(str, name_from_filename)
{
    expect_name("Sales Report 2024.csv", "sales_report_2024");
    expect_name("2024.csv", "_2024");
    expect_name("/uploads/tmp/Orders.JSON", "orders");
    expect_name("data.tar.gz", "data_tar");
    expect_name("no_extension", "no_extension");
    expect_name("a--b  c.csv", "a_b_c");
    expect_name("caf\xC3\xA9.csv", "caf");
    char long_name[200];
    memset(long_name, 'x', 150);
    memcpy(long_name + 150, ".csv", 5);
    char out[LH_NAME_MAX + 1];
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_name_from_filename(long_name, out, &err), 0));
    cr_assert(eq(sz, strlen(out), LH_NAME_MAX));
}

Test(str, name_from_filename_errors)
{
    static const char *const bad[] = {".csv", "---.csv", "", "dir/.hidden", "\xC3\xA9.csv"};
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        char out[LH_NAME_MAX + 1];
        lh_err err = LH_ERR_INIT;
        cr_assert(eq(int, lh_name_from_filename(bad[i], out, &err), -1), "'%s' accepted as '%s'",
                  bad[i], out);
        cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
        cr_assert(gt(sz, strlen(err.message), 0));
    }
}

Test(str, sql_quoting)
{
    char *s = lh_sql_quote_literal("it's");
    cr_assert(eq(str, s, "'it''s'"));
    free(s);
    s = lh_sql_quote_literal("");
    cr_assert(eq(str, s, "''"));
    free(s);
    s = lh_sql_quote_literal("'; DROP TABLE x; --");
    cr_assert(eq(str, s, "'''; DROP TABLE x; --'"));
    free(s);
    s = lh_sql_quote_ident("my \"col\"");
    cr_assert(eq(str, s, "\"my \"\"col\"\"\""));
    free(s);
    s = lh_sql_quote_ident("a'b");
    cr_assert(eq(str, s, "\"a'b\""));
    free(s);
}
