/* Diagnosis of CSV files the engine refused: finds the first record whose field count
 * differs from the header's, so the error can say "line 3 has 1 field where the header has
 * 2" instead of a sniffer's generic complaint. Runs only on the failure path, streaming the
 * file through a fixed buffer. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

/* The delimiter that occurs most often outside quotes in the first line, among , \t ; | */
static char guess_delimiter(const unsigned char *buf, size_t n)
{
    static const char cands[] = {',', '\t', ';', '|'};
    size_t counts[sizeof cands] = {0};
    bool quoted = false;
    for (size_t i = 0; i < n && (quoted || (buf[i] != '\n' && buf[i] != '\r')); i++) {
        if (buf[i] == '"')
            quoted = !quoted;
        for (size_t c = 0; !quoted && c < sizeof cands; c++)
            counts[c] += buf[i] == (unsigned char)cands[c];
    }
    size_t best = 0;
    for (size_t c = 1; c < sizeof cands; c++)
        if (counts[c] > counts[best])
            best = c;
    return cands[best];
}

int lh_ingest__csv_find_ragged(const char *path, const char *delimiter, lh_csv_ragged *out,
                               lh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lh_err_errno(err, errno, "cannot open '%s'", path);
    unsigned char buf[65536];
    char delim = delimiter && delimiter[0] ? delimiter[0] : 0;
    bool quoted = false, first_chunk = true, prev_cr = false;
    int64_t line = 1, record_line = 1;
    int64_t fields = 1, header_fields = -1;
    bool record_empty = true;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = lh_err_errno(err, errno, "cannot read '%s'", path);
            break;
        }
        if (n == 0)
            break;
        size_t i = 0;
        if (first_chunk) {
            first_chunk = false;
            if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
                i = 3; /* byte order mark */
            if (!delim)
                delim = guess_delimiter(buf + i, (size_t)n - i);
        }
        for (; i < (size_t)n; i++) {
            unsigned char c = buf[i];
            bool newline = c == '\n' || c == '\r';
            if (c == '\n' && prev_cr) {
                prev_cr = false; /* the LF of a CRLF ends nothing new */
                continue;
            }
            prev_cr = c == '\r';
            if (newline)
                line++;
            if (c == '"') {
                quoted = !quoted;
                record_empty = false;
            } else if (quoted) {
                continue;
            } else if (c == (unsigned char)delim) {
                fields++;
                record_empty = false;
            } else if (newline) {
                if (!record_empty) {
                    if (header_fields < 0) {
                        header_fields = fields;
                    } else if (fields != header_fields) {
                        out->line = record_line;
                        out->fields = fields;
                        out->expected = header_fields;
                        close(fd);
                        return 1;
                    }
                }
                fields = 1;
                record_empty = true;
                record_line = line;
            } else {
                record_empty = false;
            }
        }
    }
    close(fd);
    if (rc != 0)
        return -1;
    if (!record_empty && header_fields >= 0 && fields != header_fields) {
        out->line = record_line; /* a last record without a final newline */
        out->fields = fields;
        out->expected = header_fields;
        return 1;
    }
    return 0;
}
