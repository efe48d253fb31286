/* Unit tests for src/core/err.c: the code table, lh_err_set/errno/prefix/detail/clear and the
 * JSON error body every HTTP error goes out as. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "core/core.h"

Test(err, every_code_has_a_unique_name_status_and_message)
{
    for (int i = 0; i < LH_CODE_COUNT; i++) {
        const char *name = lh_code_name((lh_code)i);
        cr_assert_not_null(name);
        cr_assert(gt(sz, strlen(name), 0), "code %d has an empty name", i);
        for (const char *p = name; *p; p++) {
            bool snake = (*p >= 'a' && *p <= 'z') || *p == '_';
            cr_assert(snake, "code name '%s' is not snake_case", name);
        }
        int status = lh_code_http_status((lh_code)i);
        cr_assert(ge(int, status, 200));
        cr_assert(lt(int, status, 600));
        cr_assert(gt(sz, strlen(lh_code_default_message((lh_code)i)), 0));
        for (int k = 0; k < i; k++)
            cr_assert(ne(str, (char *)name, (char *)lh_code_name((lh_code)k)),
                      "codes %d and %d share the name '%s'", k, i, name);
    }
}

Test(err, code_table_values)
{
    static const struct {
        lh_code code;
        const char *name;
        int status;
    } want[] = {
        {LH_OK, "ok", 200},
        {LH_INVALID_ARGUMENT, "invalid_argument", 400},
        {LH_UNAUTHORIZED, "unauthorized", 401},
        {LH_FORBIDDEN, "forbidden", 403},
        {LH_NOT_FOUND, "not_found", 404},
        {LH_CONFLICT, "conflict", 409},
        {LH_TOO_LARGE, "too_large", 413},
        {LH_UNSUPPORTED_MEDIA, "unsupported_media", 415},
        {LH_SQL_ERROR, "sql_error", 400},
        {LH_TIMEOUT, "timeout", 503},
        {LH_BUSY, "busy", 503},
        {LH_IO_ERROR, "io_error", 500},
        {LH_INTERNAL, "internal", 500},
        {LH_METHOD_NOT_ALLOWED, "method_not_allowed", 405},
        {LH_NOT_ACCEPTABLE, "not_acceptable", 406},
        {LH_UPSTREAM, "upstream_error", 502},
        {LH_UNAVAILABLE, "unavailable", 503},
        {LH_CORRUPT, "corrupt", 500},
    };
    cr_assert(eq(int, (int)LH_ARRAY_LEN(want), LH_CODE_COUNT));
    for (size_t i = 0; i < LH_ARRAY_LEN(want); i++) {
        cr_assert(eq(str, (char *)lh_code_name(want[i].code), (char *)want[i].name));
        cr_assert(eq(int, lh_code_http_status(want[i].code), want[i].status));
    }
    cr_assert(eq(str, (char *)lh_code_default_message(LH_NOT_FOUND), "not found"));
    /* Out-of-range codes degrade to internal rather than reading past the table. */
    cr_assert(eq(str, (char *)lh_code_name(LH_CODE_COUNT), "internal"));
    cr_assert(eq(int, lh_code_http_status((lh_code)9999), 500));
}

Test(err, set_fills_and_returns_minus_one)
{
    lh_err err = LH_ERR_INIT;
    lh_err_detail(&err, "stale detail");
    cr_assert(eq(int, lh_err_set(&err, LH_NOT_FOUND, "dataset '%s' not found", "sales"), -1));
    cr_assert(eq(int, err.code, LH_NOT_FOUND));
    cr_assert(eq(str, err.message, "dataset 'sales' not found"));
    cr_assert(eq(str, err.detail, ""));
    cr_assert(eq(int, lh_err_set(NULL, LH_INTERNAL, "x"), -1));
}

Test(err, set_truncates_long_messages)
{
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    lh_err err = LH_ERR_INIT;
    (void)lh_err_set(&err, LH_INTERNAL, "%s", big); /* returns -1 by design */
    cr_assert(eq(sz, strlen(err.message), sizeof err.message - 1));
}

Test(err, errno_is_io_error_with_strerror)
{
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_err_errno(&err, ENOENT, "cannot open '%s'", "x.parquet"), -1));
    cr_assert(eq(int, err.code, LH_IO_ERROR));
    char want[256];
    /* The strerror text is lowercased to keep messages in house style. */
    snprintf(want, sizeof want, "cannot open 'x.parquet': no such file or directory");
    cr_assert(eq(str, err.message, want));
    cr_assert_not_null(strstr(err.detail, strerror(ENOENT)), "detail '%s'", err.detail);
}

Test(err, prefix_keeps_code)
{
    lh_err err = LH_ERR_INIT;
    (void)lh_err_set(&err, LH_TOO_LARGE, "row too long");
    cr_assert(eq(int, lh_err_prefix(&err, "ingest '%s': ", "a.csv"), -1));
    cr_assert(eq(int, lh_err_prefix(&err, "job 7: "), -1));
    cr_assert(eq(int, err.code, LH_TOO_LARGE));
    cr_assert(eq(str, err.message, "job 7: ingest 'a.csv': row too long"));
    cr_assert(eq(int, lh_err_prefix(NULL, "x"), -1));
}

Test(err, prefix_truncates_safely)
{
    lh_err err = LH_ERR_INIT;
    char big[600];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    (void)lh_err_set(&err, LH_CONFLICT, "%s", big);
    (void)lh_err_prefix(&err, "ctx: ");
    cr_assert(eq(sz, strlen(err.message), sizeof err.message - 1));
    cr_assert(eq(int, strncmp(err.message, "ctx: mmm", 8), 0));
    cr_assert(eq(int, err.code, LH_CONFLICT));
}

Test(err, detail_and_clear)
{
    lh_err err = LH_ERR_INIT;
    (void)lh_err_set(&err, LH_SQL_ERROR, "query failed");
    lh_err_detail(&err, "line %d", 3);
    cr_assert(eq(str, err.detail, "line 3"));
    cr_assert(eq(str, err.message, "query failed"));
    cr_assert(eq(int, err.code, LH_SQL_ERROR));
    lh_err_clear(&err);
    cr_assert(eq(int, err.code, LH_OK));
    cr_assert(eq(str, err.message, ""));
    cr_assert(eq(str, err.detail, ""));
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return s;
}

Test(err, to_json)
{
    lh_err err = LH_ERR_INIT;
    (void)lh_err_set(&err, LH_NOT_FOUND, "dataset 'sales' not found");
    lh_err_detail(&err, "looked in bucket 'main'");
    char *s = dump(lh_err_to_json(&err, false));
    cr_assert(eq(str, s, "{\"error\":{\"code\":\"not_found\",\"message\":\"dataset 'sales' not "
                         "found\"}}"));
    free(s);
    s = dump(lh_err_to_json(&err, true));
    cr_assert(eq(str, s, "{\"error\":{\"code\":\"not_found\",\"detail\":\"looked in bucket "
                         "'main'\",\"message\":\"dataset 'sales' not found\"}}"));
    free(s);
    /* An empty message falls back to the code's default message. */
    lh_err bare = LH_ERR_INIT;
    bare.code = LH_BUSY;
    s = dump(lh_err_to_json(&bare, true));
    cr_assert(eq(str, s, "{\"error\":{\"code\":\"busy\",\"message\":\"server busy\"}}"));
    free(s);
}

Test(err, assert_panics, .signal = SIGABRT)
{
    int x = 1;
    LH_ASSERT(x == 2);
}
