/* Linked into every unit-test program: logs below WARN are off, so a failing test's
 * assertion is not buried under thousands of INFO lines in ctest's output. Set
 * LH_TEST_LOG_LEVEL=info|debug to see them while debugging a test. */
#include <stdlib.h>

#include "core/core.h"

__attribute__((constructor)) static void quiet_log(void)
{
    const char *want = getenv("LH_TEST_LOG_LEVEL");
    int level = want ? lh_log_parse_level(want) : -1;
    lh_log_set_level(level >= 0 ? level : LH_LOG_LEVEL_WARN);
}
