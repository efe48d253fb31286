/* Tests for src/query/sample.c: which columns are sampled, NULLs skipped, the per-column
 * cap, truncation on a UTF-8 boundary, a uniform and repeatable sample, and the errors. */
#include "query/query_int.h"
#include "query_test.h"

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

TestSuite(sample, .init = setup, .fini = teardown, .timeout = 120);

/* Writes the result of select to a new scratch Parquet file (owned path). */
static char *make_parquet(const char *select)
{
    char *path = lh_storage_scratch_path(T.storage, ".parquet");
    char *lit = lh_sql_quote_literal(path);
    char *sql = lh_xasprintf("COPY (%s) TO %s (FORMAT parquet)", select, lit);
    lh_err err = LH_ERR_INIT;
    int slot = lh_query__pool_acquire(T.engine, &err);
    cr_assert_geq(slot, 0, "%s", err.message);
    int rc = lh_query__exec(T.engine->slots[slot].con, sql, &err);
    lh_query__pool_release(T.engine, slot);
    cr_assert_eq(rc, 0, "%s: %s %s", sql, err.message, err.detail);
    free(sql);
    free(lit);
    return path;
}

static json_t *sample(const char *path, size_t n)
{
    lh_err err = LH_ERR_INIT;
    json_t *j = lh_engine_sample_values(T.engine, path, n, &err);
    cr_assert_not_null(j, "sample %s: %s %s", path, err.message, err.detail);
    cr_assert(json_is_object(j));
    return j;
}

static size_t count(json_t *j, const char *col)
{
    json_t *a = json_object_get(j, col);
    cr_assert(json_is_array(a), "column %s missing", col);
    return json_array_size(a);
}

Test(sample, text_and_numeric_columns_only)
{
    char *p = make_parquet(
        "SELECT 'x' || i AS s, i::INTEGER AS i32, i::BIGINT AS i64, (i / 4)::DECIMAL(10,2) AS dec,"
        " i * 0.5 AS dbl, i::FLOAT AS flt, i::HUGEINT AS huge, (i % 200)::UTINYINT AS u8,"
        " DATE '2024-01-01' + i::INTEGER AS d, i % 2 = 0 AS b, TIMESTAMP '2024-01-01' AS ts,"
        " 'ab'::BLOB AS bl, [i, i] AS lst, {'a': i} AS st FROM range(20) t(i)");
    json_t *j = sample(p, 5);
    const char *want[] = {"s", "i32", "i64", "dec", "dbl", "flt", "huge", "u8"};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        cr_expect_eq(count(j, want[k]), 5, "%s", want[k]);
    const char *skip[] = {"d", "b", "ts", "bl", "lst", "st"};
    for (size_t k = 0; k < sizeof skip / sizeof skip[0]; k++)
        cr_expect_null(json_object_get(j, skip[k]), "%s should be skipped", skip[k]);
    cr_expect_eq(json_object_size(j), 8);
    /* values are text; decimals keep their scale */
    json_t *d = json_array_get(json_object_get(j, "dec"), 0);
    cr_assert(json_is_string(d));
    cr_expect(strchr(json_string_value(d), '.') != NULL, "%s", json_string_value(d));
    json_decref(j);
    unlink(p);
    free(p);
}

Test(sample, nulls_are_skipped_and_small_files_read_whole)
{
    char *p = make_parquet("SELECT CASE WHEN i % 10 = 0 THEN 'v' || i END AS sparse,"
                           " NULL::VARCHAR AS empty, i AS n FROM range(1000) t(i)");
    json_t *j = sample(p, 50);
    cr_expect_eq(count(j, "sparse"), 50); /* 100 non-null among 1000 rows */
    cr_expect_eq(count(j, "empty"), 0);
    cr_expect_eq(count(j, "n"), 50);
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(j, "sparse"), i, v)
        cr_expect(json_is_string(v) && json_string_value(v)[0] == 'v');
    json_decref(j);
    j = sample(p, 5000); /* more than the rows: every non-null value */
    cr_expect_eq(count(j, "sparse"), 100);
    cr_expect_eq(count(j, "n"), 1000);
    json_decref(j);
    j = sample(p, 0);
    cr_expect_eq(count(j, "sparse"), 0);
    cr_expect_eq(json_object_size(j), 3);
    json_decref(j);
    unlink(p);
    free(p);
}

Test(sample, uniform_repeatable_and_capped)
{
    /* Inside the leading window (50,000 rows) the sample is uniform. */
    char *p = make_parquet("SELECT i AS id FROM range(30000) t(i)");
    json_t *a = sample(p, 200), *b = sample(p, 200);
    cr_expect(json_equal(a, b), "the same file gives the same sample");
    long long max = 0;
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(a, "id"), i, v) {
        long long x = strtoll(json_string_value(v), NULL, 10);
        if (x > max)
            max = x;
    }
    cr_expect_gt(max, 15000, "a uniform sample reaches past the first rows (max %lld)", max);
    json_decref(a);
    json_decref(b);
    a = sample(p, 50000);
    cr_expect_eq(count(a, "id"), 10000);
    json_decref(a);
    unlink(p);
    free(p);
}

Test(sample, large_files_are_sampled_from_a_leading_window)
{
    /* The scan stops after the window, so its cost does not grow with the file. */
    char *p = make_parquet("SELECT i AS id FROM range(400000) t(i)");
    json_t *a = sample(p, 200);
    cr_expect_eq(count(a, "id"), 200);
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(a, "id"), i, v)
        cr_expect_lt(strtoll(json_string_value(v), NULL, 10), 50000);
    json_decref(a);
    unlink(p);
    free(p);
}

Test(sample, long_values_cut_on_utf8_boundary)
{
    char *p = make_parquet("SELECT repeat('a', 1000) AS ascii, repeat('\xC3\xA9', 200) AS even,"
                           " 'a' || repeat('\xC3\xA9', 200) AS odd, 'short' AS \"we\"\"ird col\"");
    json_t *j = sample(p, 3);
    cr_expect_eq(strlen(json_string_value(json_array_get(json_object_get(j, "ascii"), 0))), 256);
    cr_expect_eq(strlen(json_string_value(json_array_get(json_object_get(j, "even"), 0))), 256);
    cr_expect_eq(strlen(json_string_value(json_array_get(json_object_get(j, "odd"), 0))), 255);
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(j, "we\"ird col"), 0)),
                     "short");
    json_decref(j);
    unlink(p);
    free(p);
}

Test(sample, empty_file)
{
    char *p = make_parquet("SELECT 'x' AS s, 1 AS n WHERE false");
    json_t *j = sample(p, 10);
    cr_expect_eq(count(j, "s"), 0);
    cr_expect_eq(count(j, "n"), 0);
    json_decref(j);
    unlink(p);
    free(p);
}

Test(sample, errors)
{
    lh_err err = LH_ERR_INIT;
    char *csv = lh_storage_scratch_path(T.storage, ".csv");
    FILE *f = fopen(csv, "wb");
    cr_assert_not_null(f);
    fputs("a,b\n1,2\n", f);
    fclose(f);
    cr_expect_null(lh_engine_sample_values(T.engine, csv, 10, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT, "%s", lh_code_name(err.code));
    unlink(csv);
    free(csv);
    lh_err e2 = LH_ERR_INIT;
    char *missing = lh_storage_scratch_path(T.storage, ".parquet"); /* never created */
    cr_expect_null(lh_engine_sample_values(T.engine, missing, 10, &e2));
    cr_expect_eq(e2.code, LH_NOT_FOUND, "%s", lh_code_name(e2.code));
    free(missing);
    lh_err e5 = LH_ERR_INIT; /* outside the engine's directories: the sandbox says no */
    cr_expect_null(lh_engine_sample_values(T.engine, "/etc/hostname", 10, &e5));
    cr_expect_neq(e5.code, LH_OK);
    lh_err e3 = LH_ERR_INIT;
    cr_expect_null(lh_engine_sample_values(T.engine, NULL, 10, &e3));
    cr_expect_eq(e3.code, LH_INVALID_ARGUMENT);
    lh_err e4 = LH_ERR_INIT;
    cr_expect_null(lh_engine_sample_values(NULL, "x.parquet", 10, &e4));
    cr_expect_eq(e4.code, LH_INVALID_ARGUMENT);
}
