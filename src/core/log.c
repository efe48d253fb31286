/* Logging: one line per event on stderr — time, level, module, message with key=value
 * fields. The level check happens in the macros, before arguments are evaluated. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

static atomic_int log_level = LH_LOG_LEVEL_INFO;
static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void lh_log_set_level(int level)
{
    if (level >= LH_LOG_LEVEL_ERROR && level <= LH_LOG_LEVEL_DEBUG)
        atomic_store(&log_level, level);
}

int lh_log_parse_level(const char *name)
{
    static const char *const lower[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < (int)LH_ARRAY_LEN(lower); i++)
        if (name && strcmp(name, lower[i]) == 0)
            return i;
    return -1;
}

bool lh_log_enabled(int level)
{
    return level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void lh_log_write(int level, const char *module, const char *fmt, ...)
{
    if (level < 0 || level > LH_LOG_LEVEL_DEBUG)
        level = LH_LOG_LEVEL_ERROR;
    char ts[32];
    lh_time_iso8601(lh_now_ms(), ts);
    /* Build the whole line first so concurrent threads never interleave within a line. */
    char line[2048];
    int n = snprintf(line, sizeof line, "%s %-5s %-8s ", ts, level_names[level], module);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' '; /* one event, one line */
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
