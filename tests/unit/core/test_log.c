/* Unit tests for src/core/log.c: level names, the level gate, and one line per event. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/redirect.h>

#include "core/core.h"

Test(log, parse_level)
{
    cr_assert(eq(int, lh_log_parse_level("error"), LH_LOG_LEVEL_ERROR));
    cr_assert(eq(int, lh_log_parse_level("warn"), LH_LOG_LEVEL_WARN));
    cr_assert(eq(int, lh_log_parse_level("info"), LH_LOG_LEVEL_INFO));
    cr_assert(eq(int, lh_log_parse_level("debug"), LH_LOG_LEVEL_DEBUG));
    cr_assert(eq(int, lh_log_parse_level("verbose"), -1));
    cr_assert(eq(int, lh_log_parse_level(""), -1));
    cr_assert(eq(int, lh_log_parse_level(NULL), -1));
}

Test(log, level_gate)
{
    lh_log_set_level(LH_LOG_LEVEL_WARN);
    cr_assert(lh_log_enabled(LH_LOG_LEVEL_ERROR));
    cr_assert(lh_log_enabled(LH_LOG_LEVEL_WARN));
    cr_assert_not(lh_log_enabled(LH_LOG_LEVEL_INFO));
    cr_assert_not(lh_log_enabled(LH_LOG_LEVEL_DEBUG));
    lh_log_set_level(LH_LOG_LEVEL_DEBUG);
    cr_assert(lh_log_enabled(LH_LOG_LEVEL_DEBUG));
}

static int evaluated;
static int count_eval(void)
{
    return ++evaluated;
}

Test(log, macro_skips_arguments_below_level)
{
    lh_log_set_level(LH_LOG_LEVEL_ERROR);
    LH_LOG_DEBUG("test", "n=%d", count_eval());
    cr_assert(eq(int, evaluated, 0));
    LH_LOG_ERROR("test", "n=%d", count_eval());
    cr_assert(eq(int, evaluated, 1));
}

Test(log, writes_one_line_to_stderr, .init = cr_redirect_stderr)
{
    lh_log_set_level(LH_LOG_LEVEL_INFO);
    LH_LOG_INFO("core", "hello dataset=%s", "sales");
    LH_LOG_DEBUG("core", "hidden");
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    char line[512] = {0};
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_assert_not_null(strstr(line, "core"), "line: %s", line);
    cr_assert_not_null(strstr(line, "hello dataset=sales"), "line: %s", line);
    cr_assert_not_null(strchr(line, '\n'));
    char more[512];
    cr_assert_null(fgets(more, sizeof more, f), "unexpected second line: %s", more);
}
