/* libFuzzer target for lh_sql_error_position, which reads DuckDB's "LINE n: ..." excerpt
 * and caret against the caller's SQL. Input: the SQL, a NUL, then the error message (no NUL:
 * the message is built around the input as an excerpt, so the marker path is reached often).
 * A found position must lie inside the SQL and agree with itself: walking offset characters
 * into the SQL lands on that line and column. Never a crash or an out-of-bounds read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 64);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *sql = buf;
    char *msg;
    const char *nul = memchr(buf, '\0', size);
    if (nul && (size_t)(nul - buf) < size) {
        msg = strdup(nul + 1);
    } else {
        /* "E\n\nLINE 1: <sql>\n<k spaces>^" with k from the first byte. */
        size_t k = size ? (size_t)data[0] % 64 : 0;
        size_t n = strlen(sql);
        msg = malloc(n + k + 32);
        if (msg) {
            memcpy(msg, "E\n\nLINE 1: ", 11);
            memcpy(msg + 11, sql, n);
            msg[11 + n] = '\n';
            memset(msg + 12 + n, ' ', k);
            msg[12 + n + k] = '^';
            msg[13 + n + k] = '\0';
        }
    }
    lh_sql_position p;
    if (msg && lh_sql_error_position(sql, msg, &p)) {
        if (p.line < 1 || p.column < 1 || p.offset < 0)
            abort();
        /* Walk the SQL's characters up to offset, counting lines and columns. */
        int line = 1, col = 1;
        int64_t chars = 0;
        const unsigned char *s = (const unsigned char *)sql;
        while (*s && chars < p.offset) {
            if ((*s & 0xC0) != 0x80) {
                if (*s == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
                chars++;
            }
            s++;
        }
        if (chars != p.offset || line != p.line || col != p.column)
            abort();
    }
    free(msg);
    free(buf);
    return 0;
}
