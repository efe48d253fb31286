/* libFuzzer target for lh_ai__extract_sql (the SQL of a model's reply to an ask) and
 * lh_ai__clip, which read untrusted model output. Any reply must give either no SQL or a
 * trimmed piece of the reply, the same with or without the explanation, and an explanation
 * within its ceiling; never a crash, a hang or a leak. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const KEYWORDS[] = {"SELECT", "WITH", "FROM", "SUMMARIZE", "DESCRIBE", "SHOW",
                                       "EXPLAIN", "INSERT", "UPDATE", "DELETE", "DROP", "CREATE",
                                       "ALTER", "COPY", "ATTACH", "PRAGMA", "SET", "INSTALL",
                                       "LOAD", "CALL", "EXPORT", "VALUES", "TABLE"};

static bool starts_with_keyword(const char *s)
{
    for (size_t k = 0; k < sizeof KEYWORDS / sizeof *KEYWORDS; k++)
        if (strncmp(s, KEYWORDS[k], strlen(KEYWORDS[k])) == 0)
            return true;
    return false;
}

static void check_clip(const char *s, size_t max)
{
    char *c = lh_ai__clip(s, max);
    size_t len = strlen(s), clen = strlen(c);
    if (len <= max) {
        if (strcmp(c, s) != 0)
            abort();
    } else {
        /* A prefix of at most max bytes that does not end inside a UTF-8 sequence, then
         * "...". */
        if (clen < 3 || clen - 3 > max || strcmp(c + clen - 3, "...") != 0 ||
            memcmp(c, s, clen - 3) != 0)
            abort();
        size_t cut = clen - 3;
        if (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            abort();
    }
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (256u << 10))
        return 0;
    char *reply = malloc(size);
    if (!reply)
        abort();
    memcpy(reply, data + 1, size - 1);
    reply[size - 1] = '\0';
    size_t rlen = strlen(reply);

    char *expl = NULL;
    char *sql = lh_ai__extract_sql(reply, &expl);
    char *sql2 = lh_ai__extract_sql(reply, NULL);
    if (!expl || strlen(expl) > LH_AI_REPLY_KEEP + 3)
        abort();
    if ((sql == NULL) != (sql2 == NULL) || (sql && strcmp(sql, sql2) != 0))
        abort();
    if (sql) {
        size_t n = strlen(sql);
        /* Non-empty, trimmed, no trailing ';', and a piece of the reply as written. */
        if (n == 0 || n > rlen || isspace((unsigned char)sql[0]) ||
            isspace((unsigned char)sql[n - 1]) || sql[n - 1] == ';' || !strstr(reply, sql))
            abort();
        /* Without a fenced block the SQL is a statement that starts with its keyword. */
        if (!strstr(reply, "```") && !starts_with_keyword(sql))
            abort();
    }
    check_clip(reply, (size_t)data[0] * 3);
    free(sql);
    free(sql2);
    free(expl);
    free(reply);
    return 0;
}
