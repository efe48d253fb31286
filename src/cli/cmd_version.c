/* `lakehouse version`: our version and the DuckDB library's, one line on stdout. */
#include <string.h>

#include "cli/cli_int.h"

static const char USAGE[] = "usage: lakehouse version\n";

int lh_cmd_version(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            fputs(USAGE, stdout);
            return LH_EXIT_OK;
        }
        return lh_cli__usage_error("version", USAGE, "unexpected argument '%s'", argv[1]);
    }
    printf("lakehouse %s (DuckDB %s)\n", LH_VERSION_STRING, lh_engine_duckdb_version());
    return LH_EXIT_OK;
}
