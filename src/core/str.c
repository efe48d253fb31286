/* Strings and names: prefix/suffix tests, the dataset-name rules, and SQL quoting for the
 * engine's own statements (user values are bound, never quoted into SQL). */
#include <ctype.h>
#include <string.h>

#include "core/core.h"

bool lh_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool lh_str_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool lh_name_valid(const char *name)
{
    if (!name || !name[0] || strlen(name) > LH_NAME_MAX)
        return false;
    if (!(islower((unsigned char)name[0]) || name[0] == '_'))
        return false;
    for (const char *p = name; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

int lh_name_from_filename(const char *filename, char out[LH_NAME_MAX + 1], lh_err *err)
{
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (dot == base)
        n = 0; /* ".csv" has no name before the extension */
    size_t o = 0;
    bool last_us = false;
    for (size_t i = 0; i < n && o < LH_NAME_MAX; i++) {
        unsigned char c = (unsigned char)base[i];
        if (isalnum(c) && c < 0x80) {
            if (o == 0 && isdigit(c))
                out[o++] = '_';
            if (o < LH_NAME_MAX)
                out[o++] = (char)tolower(c);
            last_us = false;
        } else if (!last_us && o > 0) {
            out[o++] = '_'; /* runs of other characters collapse to one '_' */
            last_us = true;
        }
    }
    while (o > 0 && out[o - 1] == '_')
        o--;
    out[o] = '\0';
    if (o == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "cannot derive a dataset name from '%s': give one explicitly", filename);
    return 0;
}

static char *quote_with(const char *s, char q)
{
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_putc(&b, q);
    for (const char *p = s; *p; p++) {
        if (*p == q)
            lh_buf_putc(&b, q);
        lh_buf_putc(&b, *p);
    }
    lh_buf_putc(&b, q);
    return lh_buf_detach(&b, NULL);
}

char *lh_sql_quote_literal(const char *s)
{
    return quote_with(s, '\'');
}

char *lh_sql_quote_ident(const char *s)
{
    return quote_with(s, '"');
}
