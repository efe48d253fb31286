/* A one-line progress bar on stderr (bytes, rows, rate), drawn only when stderr is a
 * terminal and redrawn at most ten times a second; quiet otherwise. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_int.h"

void lh_cli__progress_init(lh_cli_progress *p)
{
    memset(p, 0, sizeof *p);
    p->enabled = isatty(STDERR_FILENO) == 1;
    p->t0 = lh_mono_ms();
}

static void human(double bytes, char *out, size_t cap)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    size_t u = 0;
    while (bytes >= 1000.0 && u + 1 < LH_ARRAY_LEN(units)) {
        bytes /= 1000.0;
        u++;
    }
    snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

void lh_cli__progress_draw(lh_cli_progress *p, const char *phase, uint64_t done,
                           uint64_t total, int64_t rows, bool force)
{
    if (!p->enabled)
        return;
    double now = lh_mono_ms();
    if (!force && now - p->last_draw < 100.0)
        return;
    p->last_draw = now;
    double secs = (now - p->t0) / 1000.0;
    char d[32], t[32], rate[32];
    human((double)done, d, sizeof d);
    human((double)total, t, sizeof t);
    human(secs > 0.05 ? (double)done / secs : 0.0, rate, sizeof rate);
    int width = 24, filled = total ? (int)((double)done / (double)total * width) : 0;
    if (filled > width)
        filled = width;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[K%-10s [%s] %s / %s  %s/s", phase, bar, d, t, rate);
    if (rows > 0)
        fprintf(stderr, "  %lld rows", (long long)rows);
    fflush(stderr);
    p->drawn = true;
}

void lh_cli__progress_done(lh_cli_progress *p)
{
    if (p->enabled && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}
