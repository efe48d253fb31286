/* Finds the spot an SQL error points at. DuckDB ends a parser or binder message with the
 * offending line (or a window of at most ~40 characters either side of the spot, cut with
 * "...") and a caret under the spot:
 *
 *     Parser Error: syntax error at or near "FORM"
 *
 *     LINE 1: SELECT * FORM jobs
 *                      ^
 *
 * The UI marks that spot in its editor, so the server turns it into line/column/offset of
 * the user's own text: the caret's column in the excerpt, plus where the excerpt starts in
 * that line of sql. */
#include <string.h>

#include "query/query.h"

static int64_t u8_count(const char *p, size_t n)
{
    int64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)p[i] & 0xC0) != 0x80;
    return k;
}

/* "syntax error at end of input" carries no excerpt: the spot is just past the last thing
 * written (trailing blanks and semicolons do not count). */
static bool end_of_input(const char *sql, lh_sql_position *out)
{
    size_t n = strlen(sql);
    while (n > 0 && strchr(" \t\r\n;", sql[n - 1]))
        n--;
    const char *ls = sql;
    int line = 1;
    for (const char *p = sql; p < sql + n; p++)
        if (*p == '\n') {
            line++;
            ls = p + 1;
        }
    out->line = line;
    out->column = (int)u8_count(ls, (size_t)(sql + n - ls)) + 1;
    out->offset = u8_count(sql, n);
    return true;
}

bool lh_sql_error_position(const char *sql, const char *message, lh_sql_position *out)
{
    if (!sql || !message)
        return false;
    const char *at = strstr(message, "\nLINE ");
    if (!at && strstr(message, "syntax error at end of input"))
        return end_of_input(sql, out);
    if (!at)
        return false;
    const char *p = at + 6;
    long line = 0;
    while (*p >= '0' && *p <= '9' && line < 1000000)
        line = line * 10 + (*p++ - '0');
    if (line < 1 || p[0] != ':' || p[1] != ' ')
        return false;
    const char *excerpt = p + 2;
    size_t prefix = (size_t)(excerpt - (at + 1)); /* "LINE n: " */
    const char *eol = strchr(excerpt, '\n');
    if (!eol)
        return false;
    /* The caret line: spaces, then '^' under the spot. */
    const char *caret = eol + 1;
    size_t spaces = strspn(caret, " ");
    if (caret[spaces] != '^' || spaces < prefix)
        return false;
    size_t want = spaces - prefix; /* characters (render columns) into the excerpt */
    size_t ex_len = (size_t)(eol - excerpt);
    bool cut_front = ex_len >= 3 && memcmp(excerpt, "...", 3) == 0;
    if (cut_front) {
        if (want < 3)
            return false;
        excerpt += 3;
        ex_len -= 3;
        want -= 3;
    }
    if (ex_len >= 3 && memcmp(excerpt + ex_len - 3, "...", 3) == 0)
        ex_len -= 3; /* cut at the end (or the line's own "...": matching less is harmless) */

    /* The line of sql the message names. */
    const char *ls = sql;
    for (long l = 1; l < line; l++) {
        ls = strchr(ls, '\n');
        if (!ls)
            return false;
        ls++;
    }
    const char *le = strchr(ls, '\n');
    size_t line_len = le ? (size_t)(le - ls) : strlen(ls);
    if (line_len > 0 && ls[line_len - 1] == '\r')
        line_len--;
    /* Where the excerpt sits in that line: at its start unless DuckDB cut the front. */
    const char *start = ls;
    if (cut_front) {
        start = NULL;
        for (const char *s = ls; ex_len > 0 && s + ex_len <= ls + line_len; s++)
            if (memcmp(s, excerpt, ex_len) == 0) {
                start = s;
                break;
            }
        if (!start)
            return false;
    }
    /* Walk want characters into the excerpt (the spot may be the end of the line). */
    const char *spot = start;
    const char *end = ls + line_len;
    for (size_t i = 0; i < want; i++) {
        if (spot >= end)
            return false;
        spot++; /* one character: its lead byte and any continuation bytes */
        while (spot < end && ((unsigned char)*spot & 0xC0) == 0x80)
            spot++;
    }
    out->line = (int)line;
    out->column = (int)u8_count(ls, (size_t)(spot - ls)) + 1;
    out->offset = u8_count(sql, (size_t)(spot - sql));
    return true;
}
