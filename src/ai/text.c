/* ai text helpers: reading what a model wrote. SQL out of a chatty reply, [n] citations
 * checked against the passages that were really shown, relevance scores out of free text.
 * Pure functions over strings (no I/O), so they are unit-tested directly. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ai/ai_int.h"

char *lh_ai__clip(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return lh_xstrdup(s);
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--; /* never split a UTF-8 sequence */
    char *out = lh_xmalloc(cut + 4);
    memcpy(out, s, cut);
    memcpy(out + cut, "...", 4);
    return out;
}

static char *trimmed(const char *p, size_t n)
{
    while (n > 0 && isspace((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    return lh_xstrndup(p, n);
}

/* The body of the first fenced block whose info string starts with `lang` ("" = any). */
static bool fenced(const char *reply, const char *lang, const char **start, const char **end)
{
    size_t ll = strlen(lang);
    for (const char *p = strstr(reply, "```"); p;) {
        const char *info = p + 3;
        const char *close = strstr(info, "```");
        if (!close)
            return false;
        const char *nl = memchr(info, '\n', (size_t)(close - info));
        bool match = ll == 0 || strncasecmp(info, lang, ll) == 0;
        /* "```sql\nSELECT 1\n```", or all on one line: "```sql SELECT 1```". */
        const char *body = nl ? nl + 1 : info + (match ? ll : 0);
        if (match) {
            *start = body;
            *end = close;
            return true;
        }
        p = strstr(close + 3, "```"); /* skip the other block as a whole */
    }
    return false;
}

static const char *const SQL_START[] = {"SELECT", "WITH", "FROM", "SUMMARIZE", "DESCRIBE",
                                        "SHOW", "EXPLAIN", "INSERT", "UPDATE", "DELETE",
                                        "DROP", "CREATE", "ALTER", "COPY", "ATTACH", "PRAGMA",
                                        "SET", "INSTALL", "LOAD", "CALL", "EXPORT", "VALUES",
                                        "TABLE"};

/* The first keyword that starts a statement, at a word boundary at the start of a line or
 * after a blank. Statements that write are found too: the sandbox, not this parser, is
 * what refuses them, and the caller must see what the model tried. */
static const char *find_statement(const char *reply)
{
    for (const char *p = reply; *p; p++) {
        if (p != reply && !isspace((unsigned char)p[-1]))
            continue;
        for (size_t k = 0; k < LH_ARRAY_LEN(SQL_START); k++) {
            size_t n = strlen(SQL_START[k]);
            if (strncmp(p, SQL_START[k], n) == 0 && (isspace((unsigned char)p[n]) || p[n] == '(' ||
                                                     p[n] == '*' || p[n] == '\0'))
                return p;
        }
    }
    return NULL;
}

char *lh_ai__extract_sql(const char *reply, char **explanation)
{
    const char *s = NULL, *e = NULL;
    bool block = fenced(reply, "sql", &s, &e) || fenced(reply, "", &s, &e);
    const char *rest_end = NULL;
    if (!block) {
        s = find_statement(reply);
        if (!s) {
            if (explanation)
                *explanation = lh_ai__clip(reply, LH_AI_REPLY_KEEP);
            return NULL;
        }
        /* The statement runs to its first ';' or a blank line (prose usually follows). */
        const char *semi = strchr(s, ';');
        const char *para = strstr(s, "\n\n");
        e = semi ? semi : s + strlen(s);
        if (para && para < e)
            e = para;
        rest_end = semi ? semi + 1 : e;
    }
    char *sql = trimmed(s, (size_t)(e - s));
    size_t len = strlen(sql);
    while (len > 0 && (sql[len - 1] == ';' || isspace((unsigned char)sql[len - 1])))
        sql[--len] = '\0';
    if (explanation) {
        /* What surrounds the SQL: the text before it and after the block or statement. */
        const char *after = block ? e + 3 : rest_end;
        lh_buf b;
        lh_buf_init(&b);
        char *before = trimmed(reply, (size_t)(s - reply));
        /* Drop the opening fence (and its info string) left at the end of "before". */
        char *fence = block ? strstr(before, "```") : NULL;
        if (fence) {
            *fence = '\0';
            char *t = trimmed(before, strlen(before));
            free(before);
            before = t;
        }
        char *tail = trimmed(after, strlen(after));
        lh_buf_puts(&b, before);
        if (*before && *tail)
            lh_buf_putc(&b, ' ');
        lh_buf_puts(&b, tail);
        free(before);
        free(tail);
        *explanation = lh_ai__clip(b.data ? b.data : "", LH_AI_REPLY_KEEP);
        lh_buf_release(&b);
    }
    if (len == 0) {
        free(sql);
        return NULL;
    }
    return sql;
}

/* Parses "[1]", "[1,2]", "[1, 2]" at p: the numbers (at most cap) and the length of the
 * bracket; 0 when p is not such a reference. */
static size_t parse_ref(const char *p, long *nums, size_t cap, size_t *count)
{
    if (*p != '[')
        return 0;
    size_t i = 1, c = 0;
    for (;;) {
        while (p[i] == ' ')
            i++;
        if (!isdigit((unsigned char)p[i]))
            return 0;
        long v = 0;
        size_t digits = 0;
        while (isdigit((unsigned char)p[i])) {
            if (++digits > 6)
                return 0; /* not a passage number */
            v = v * 10 + (p[i++] - '0');
        }
        if (c < cap)
            nums[c++] = v;
        while (p[i] == ' ')
            i++;
        if (p[i] == ']') {
            *count = c;
            return i + 1;
        }
        if (p[i] != ',')
            return 0;
        i++;
    }
}

static bool ref_char(char c)
{
    return isdigit((unsigned char)c) || c == ' ' || c == ',';
}

char *lh_ai__fix_citations(const char *answer, size_t npassages, size_t *order, size_t *ncited)
{
    size_t *newnum = lh_xcalloc(npassages ? npassages : 1, sizeof *newnum); /* 0 = unused */
    size_t used = 0;
    lh_buf out;
    lh_buf_init(&out);
    lh_buf_puts(&out, "");
    for (const char *p = answer; *p;) {
        long nums[32];
        size_t count = 0;
        size_t len = parse_ref(p, nums, LH_ARRAY_LEN(nums), &count);
        if (len == 0) {
            lh_buf_putc(&out, *p++);
            continue;
        }
        lh_buf kept;
        lh_buf_init(&kept);
        for (size_t k = 0; k < count; k++) {
            if (nums[k] < 1 || (size_t)nums[k] > npassages)
                continue; /* a passage that was never shown */
            size_t idx = (size_t)nums[k] - 1;
            if (!newnum[idx]) {
                newnum[idx] = ++used;
                order[used - 1] = idx;
            }
            lh_buf_printf(&kept, "%s%zu", kept.len ? ", " : "", newnum[idx]);
        }
        if (kept.len) {
            lh_buf_printf(&out, "[%s]", kept.data);
        } else {
            if (out.len > 0 && out.data[out.len - 1] == ' ')
                out.data[--out.len] = '\0'; /* "text [9]." -> "text." */
            /* A stray "[1" before the dropped reference and "2]" after it would join into
             * a new reference: the stray opening goes too. */
            const char *q = p + len;
            while (ref_char(*q))
                q++;
            for (bool again = *q == ']'; again;) {
                size_t k = out.len;
                while (k > 0 && ref_char(out.data[k - 1]))
                    k--;
                again = k > 0 && out.data[k - 1] == '[';
                if (again) {
                    out.len = k - 1;
                    out.data[out.len] = '\0';
                }
            }
        }
        lh_buf_release(&kept);
        p += len;
    }
    free(newnum);
    *ncited = used;
    return lh_buf_detach(&out, NULL);
}

/* Reads a number at *pp (skipping nothing); false when there is none. */
static bool read_number(const char **pp, double *v)
{
    char *end;
    const char *p = *pp;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return false;
    *v = strtod(p, &end);
    *pp = end;
    return true;
}

/* One line: an optional label ("passage", "doc", "#", "["), the passage number, then a
 * separator and the score. */
static bool parse_line(const char *line, size_t len, long *num, double *score)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
    const char *p = buf;
    while (*p && !isalnum((unsigned char)*p) && *p != '[' && *p != '#')
        p++; /* list bullets */
    if (strncasecmp(p, "passage", 7) == 0)
        p += 7;
    else if (strncasecmp(p, "document", 8) == 0)
        p += 8;
    else if (strncasecmp(p, "doc", 3) == 0)
        p += 3;
    while (*p == ' ' || *p == '[' || *p == '#')
        p++;
    double n;
    if (!read_number(&p, &n) || n != (double)(long)n)
        return false;
    /* Everything up to the next number is separator (":", "] ", " - score ", "=>"). */
    while (*p && !isdigit((unsigned char)*p) && *p != '.')
        p++;
    double s;
    if (!read_number(&p, &s))
        return false;
    *num = (long)n;
    *score = s;
    return true;
}

size_t lh_ai__parse_scores(const char *reply, size_t n, double *scores, bool *found)
{
    for (size_t i = 0; i < n; i++) {
        scores[i] = 0;
        found[i] = false;
    }
    size_t got = 0;
    double max = 0;
    /* A JSON array of numbers anywhere in the reply, one per passage in order. */
    const char *br = strchr(reply, '[');
    while (br) {
        json_error_t je;
        json_t *arr = json_loadb(br, strlen(br), JSON_DISABLE_EOF_CHECK, &je);
        if (json_is_array(arr) && json_array_size(arr) == n && n > 0) {
            bool all = true;
            for (size_t i = 0; i < n; i++)
                all = all && json_is_number(json_array_get(arr, i));
            if (all) {
                for (size_t i = 0; i < n; i++) {
                    scores[i] = json_number_value(json_array_get(arr, i));
                    found[i] = true;
                    max = scores[i] > max ? scores[i] : max;
                }
                got = n;
            }
        }
        json_decref(arr);
        if (got)
            break;
        br = strchr(br + 1, '[');
    }
    for (const char *line = reply; !got && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        long num;
        double s;
        if (parse_line(line, len, &num, &s) && num >= 1 && (size_t)num <= n && !found[num - 1]) {
            scores[num - 1] = s;
            found[num - 1] = true;
            max = s > max ? s : max;
        }
        line = nl ? nl + 1 : line + len;
    }
    double scale = max > 10 ? 100 : 10;
    got = 0;
    for (size_t i = 0; i < n; i++) {
        if (!found[i])
            continue;
        got++;
        double v = scores[i] / scale;
        scores[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    return got;
}
