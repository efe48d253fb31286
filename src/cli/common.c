/* Pieces every subcommand uses: error and usage printing with the exit codes, option value
 * parsing, and opening the lake for embedded mode from configuration plus --data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

int lh_cli__fail(const lh_err *err)
{
    fprintf(stderr, "lakehouse: %s\n",
            err->message[0] ? err->message : lh_code_default_message(err->code));
    /* Wrappers often fold the library's text into the message already. */
    if (err->detail[0] && !strstr(err->message, err->detail))
        fprintf(stderr, "  %s\n", err->detail);
    return LH_EXIT_FAIL;
}

int lh_cli__usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lakehouse %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    return LH_EXIT_USAGE;
}

bool lh_cli__parse_positive(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        return false;
    *out = (int64_t)v;
    return true;
}

int lh_cli__open_lake(const lh_cli_target *t, lh_config *cfg, lh_lake **lake, lh_err *err)
{
    if (lh_config_load(cfg, t->config, err) != 0)
        goto fail;
    if (t->data_dir && lh_config_set(cfg, "server.data_dir", t->data_dir, err) != 0)
        goto fail;
    int level = cfg->log_level ? lh_log_parse_level(cfg->log_level) : -1;
    lh_log_set_level(level == LH_LOG_LEVEL_DEBUG ? level : LH_LOG_LEVEL_WARN);
    *lake = lh_lake_open(cfg, err);
    if (!*lake)
        goto fail;
    return 0;
fail:
    lh_config_release(cfg);
    return -1;
}
