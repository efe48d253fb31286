/* Plain text and SMS/chat exports to NDJSON rows: one row per non-blank line, or, when the
 * file's first lines are mostly messages in one known export shape (sms.c), one row per
 * message with its timestamp and sender parsed out. Streams the file through a fixed
 * buffer (a line longer than TEXT_LINE_MAX is too_large) in two or three passes: sample and
 * pick a shape, decide the day/month order when the shape needs it, then write. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

#define TEXT_LINE_MAX (1u << 20)    /* 1 MiB per line */
#define TEXT_MESSAGE_MAX (8u << 20) /* 8 MiB per message, continuation lines included */
#define TEXT_READ 65536
#define TEXT_FLUSH 65536
#define SMS_SAMPLE_LINES 200 /* non-blank lines looked at to pick a shape */

/* Lines of a file, read through one buffer that holds at most a maximal line plus one
 * read. Lines are returned without their LF or CRLF; a BOM opening the file is skipped. */
typedef struct line_reader {
    int fd;
    const char *display;
    char *buf;
    size_t cap, start, end, scan;
    bool eof, at_start;
    int64_t line_no; /* of the line last returned, 1-based */
} line_reader;

static void reader_rewind(line_reader *r)
{
    r->start = r->end = r->scan = 0;
    r->eof = false;
    r->at_start = true;
    r->line_no = 0;
}

/* 1 and the next line in (*line, *len); 0 at the end of the file; -1 on too_large or an
 * i/o error. The line stays valid until the next call. */
static int next_line(line_reader *r, const char **line, size_t *len, lh_err *err)
{
    for (;;) {
        char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
        size_t stop;
        if (nl) {
            stop = (size_t)(nl - r->buf);
        } else if (r->eof) {
            if (r->start == r->end)
                return 0;
            stop = r->end; /* a last line without a newline */
        } else {
            if (r->end - r->start > TEXT_LINE_MAX + 1) /* +1: a CR may end it */
                return lh_err_set(err, LH_TOO_LARGE, "line %lld of '%s' is longer than 1 MiB",
                                  (long long)r->line_no + 1, r->display);
            if (r->start > 0) {
                memmove(r->buf, r->buf + r->start, r->end - r->start);
                r->end -= r->start;
                r->start = 0;
            }
            r->scan = r->end;
            ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return lh_err_errno(err, errno, "cannot read '%s'", r->display);
            if (n == 0)
                r->eof = true;
            r->end += (size_t)n;
            continue;
        }
        char *p = r->buf + r->start;
        size_t n = stop - r->start;
        r->start = r->scan = stop < r->end ? stop + 1 : stop;
        r->line_no++;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (r->at_start) {
            r->at_start = false;
            if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
                p += 3;
                n -= 3;
            }
        }
        if (n > TEXT_LINE_MAX)
            return lh_err_set(err, LH_TOO_LARGE, "line %lld of '%s' is longer than 1 MiB",
                              (long long)r->line_no, r->display);
        *line = p;
        *len = n;
        return 1;
    }
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\f' && s[i] != '\v' && s[i] != '\r')
            return false;
    return true;
}

/* Picks the shape from the first SMS_SAMPLE_LINES non-blank lines and, for a slash-dated
 * shape, the day/month order from every message line of the file. */
static int detect(line_reader *r, lh_sms_shape *shape, lh_sms_order *order, lh_err *err)
{
    size_t hits[LH_SMS_SHAPE_COUNT] = {0}, sampled = 0;
    int max_a[LH_SMS_SHAPE_COUNT] = {0}, max_b[LH_SMS_SHAPE_COUNT] = {0};
    const char *line;
    size_t len;
    int rc = 0;
    lh_sms_msg m;
    while (sampled < SMS_SAMPLE_LINES && (rc = next_line(r, &line, &len, err)) == 1) {
        if (is_blank(line, len))
            continue;
        sampled++;
        for (int s = LH_SMS_NONE + 1; s < LH_SMS_SHAPE_COUNT; s++) {
            if (!lh_ingest__sms_parse((lh_sms_shape)s, LH_SMS_ORDER_ANY, line, len, &m))
                continue;
            hits[s]++;
            max_a[s] = m.date_a > max_a[s] ? m.date_a : max_a[s];
            max_b[s] = m.date_b > max_b[s] ? m.date_b : max_b[s];
        }
    }
    if (sampled < SMS_SAMPLE_LINES && rc < 0)
        return -1;
    *shape = lh_ingest__sms_pick_shape(hits, sampled);
    *order = LH_SMS_ORDER_ANY;
    if (!lh_ingest__sms_has_slash_date(*shape))
        return 0;
    int a = max_a[*shape], b = max_b[*shape];
    while ((rc = next_line(r, &line, &len, err)) == 1) {
        if (lh_ingest__sms_parse(*shape, LH_SMS_ORDER_ANY, line, len, &m)) {
            a = m.date_a > a ? m.date_a : a;
            b = m.date_b > b ? m.date_b : b;
        }
    }
    if (rc < 0)
        return -1;
    *order = lh_ingest__sms_pick_order(*shape, a, b);
    return 0;
}

/* The NDJSON being written: rows collect in buf and go out in TEXT_FLUSH-sized writes. */
typedef struct writer {
    int fd;
    lh_buf buf;
    const char *path;
    char *source_json; /* source_file as a JSON string, encoded once */
    int64_t rows;
} writer;

static int writer_flush(writer *w, bool force, lh_err *err)
{
    if (w->buf.len == 0 || (!force && w->buf.len < TEXT_FLUSH))
        return 0;
    if (lh_write_full(w->fd, w->buf.data, w->buf.len, err) != 0)
        return lh_err_prefix(err, "cannot write '%s': ", w->path);
    lh_buf_reset(&w->buf);
    return 0;
}

static void json_or_null(lh_buf *b, const char *s, size_t n)
{
    if (s)
        lh_buf_json_string(b, s, n);
    else
        lh_buf_puts(b, "null");
}

static int write_plain(line_reader *r, writer *w, lh_err *err)
{
    const char *line;
    size_t len;
    int rc;
    while ((rc = next_line(r, &line, &len, err)) == 1) {
        if (is_blank(line, len))
            continue;
        lh_buf_printf(&w->buf, "{\"source_file\":%s,\"line_number\":%lld,\"text\":",
                      w->source_json, (long long)r->line_no);
        lh_buf_json_string(&w->buf, line, len);
        lh_buf_puts(&w->buf, "}\n");
        w->rows++;
        if (writer_flush(w, false, err) != 0)
            return -1;
    }
    return rc;
}

/* The message being assembled from its first line and its continuation lines. */
typedef struct pending {
    bool open;
    int64_t line_no;
    bool has_sent_at, has_sender;
    char sent_at[40];
    lh_buf sender, body;
    int64_t blanks; /* blank lines since the last line of the message */
} pending;

static int emit_message(writer *w, pending *p, lh_err *err)
{
    if (!p->open)
        return 0;
    lh_buf_printf(&w->buf, "{\"source_file\":%s,\"line_number\":%lld,\"sent_at\":",
                  w->source_json, (long long)p->line_no);
    json_or_null(&w->buf, p->has_sent_at ? p->sent_at : NULL, strlen(p->sent_at));
    lh_buf_puts(&w->buf, ",\"sender\":");
    json_or_null(&w->buf, p->has_sender ? p->sender.data : NULL, p->sender.len);
    lh_buf_puts(&w->buf, ",\"body\":");
    lh_buf_json_string(&w->buf, p->body.data ? p->body.data : "", p->body.len);
    lh_buf_puts(&w->buf, "}\n");
    w->rows++;
    p->open = false;
    return writer_flush(w, false, err);
}

/* Adds a line that starts no message to the open one (the blank lines between them kept,
 * as the sender typed them), or opens a message without timestamp or sender for lines
 * before the first message. */
static int continue_message(line_reader *r, pending *p, const char *line, size_t len,
                            lh_err *err)
{
    if (!p->open) {
        p->open = true;
        p->line_no = r->line_no;
        p->has_sent_at = p->has_sender = false;
        p->sent_at[0] = '\0';
        lh_buf_reset(&p->body);
        lh_buf_append(&p->body, line, len);
        p->blanks = 0;
        return 0;
    }
    if (p->body.len + (size_t)p->blanks + 1 + len > TEXT_MESSAGE_MAX)
        return lh_err_set(err, LH_TOO_LARGE,
                          "the message at line %lld of '%s' is longer than 8 MiB",
                          (long long)p->line_no, r->display);
    for (int64_t i = 0; i <= p->blanks; i++)
        lh_buf_putc(&p->body, '\n');
    lh_buf_append(&p->body, line, len);
    p->blanks = 0;
    return 0;
}

static int write_messages(line_reader *r, writer *w, lh_sms_shape shape, lh_sms_order order,
                          lh_err *err)
{
    pending p = {0};
    lh_buf_init(&p.sender);
    lh_buf_init(&p.body);
    const char *line;
    size_t len;
    int rc;
    lh_sms_msg m;
    while ((rc = next_line(r, &line, &len, err)) == 1) {
        if (is_blank(line, len)) {
            p.blanks++;
            continue;
        }
        if (!lh_ingest__sms_parse(shape, order, line, len, &m)) {
            if (continue_message(r, &p, line, len, err) != 0) {
                rc = -1;
                break;
            }
            continue;
        }
        if (emit_message(w, &p, err) != 0) {
            rc = -1;
            break;
        }
        p.open = true;
        p.line_no = r->line_no;
        p.has_sent_at = true;
        memcpy(p.sent_at, m.sent_at, sizeof p.sent_at);
        p.has_sender = m.sender != NULL;
        lh_buf_reset(&p.sender);
        if (m.sender)
            lh_buf_append(&p.sender, m.sender, m.sender_len);
        lh_buf_reset(&p.body);
        lh_buf_append(&p.body, m.body, m.body_len);
        p.blanks = 0;
    }
    if (rc == 0)
        rc = emit_message(w, &p, err);
    lh_buf_release(&p.sender);
    lh_buf_release(&p.body);
    return rc;
}

static lh_column *make_columns(bool sms, size_t *ncols)
{
    static const char *const plain[][2] = {
        {"source_file", "VARCHAR"}, {"line_number", "BIGINT"}, {"text", "VARCHAR"}};
    static const char *const chat[][2] = {{"source_file", "VARCHAR"}, {"line_number", "BIGINT"},
                                          {"sent_at", "TIMESTAMP"},   {"sender", "VARCHAR"},
                                          {"body", "VARCHAR"}};
    const char *const(*spec)[2] = sms ? chat : plain;
    size_t n = sms ? sizeof chat / sizeof chat[0] : sizeof plain / sizeof plain[0];
    lh_column *cols = lh_xcalloc(n, sizeof *cols);
    for (size_t i = 0; i < n; i++) {
        cols[i].name = lh_xstrdup(spec[i][0]);
        cols[i].type = lh_xstrdup(spec[i][1]);
    }
    *ncols = n;
    return cols;
}

int lh_ingest__text_to_ndjson(const char *path, const char *source_file,
                              const char *ndjson_path, lh_column **cols, size_t *ncols,
                              int64_t *rows, lh_err *err)
{
    const char *display = source_file ? source_file : path;
    line_reader r = {.display = display, .cap = TEXT_LINE_MAX + 1 + TEXT_READ};
    r.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.fd < 0)
        return lh_err_errno(err, errno, "cannot open '%s'", display);
    writer w = {.fd = -1, .path = ndjson_path};
    lh_buf_init(&w.buf);
    r.buf = lh_xmalloc(r.cap);
    reader_rewind(&r);
    lh_sms_shape shape = LH_SMS_NONE;
    lh_sms_order order = LH_SMS_ORDER_ANY;
    int rc = detect(&r, &shape, &order, err);
    if (rc == 0 && lseek(r.fd, 0, SEEK_SET) != 0)
        rc = lh_err_errno(err, errno, "cannot rewind '%s'", display);
    if (rc == 0) {
        w.fd = open(ndjson_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (w.fd < 0)
            rc = lh_err_errno(err, errno, "cannot create '%s'", ndjson_path);
    }
    if (rc == 0) {
        lh_buf sj;
        lh_buf_init(&sj);
        lh_buf_json_string(&sj, display, strlen(display));
        w.source_json = lh_buf_detach(&sj, NULL);
        reader_rewind(&r);
        rc = shape == LH_SMS_NONE ? write_plain(&r, &w, err)
                                  : write_messages(&r, &w, shape, order, err);
        if (rc == 0)
            rc = writer_flush(&w, true, err);
    }
    free(r.buf);
    close(r.fd);
    lh_buf_release(&w.buf);
    free(w.source_json);
    if (w.fd >= 0 && close(w.fd) != 0 && rc == 0)
        rc = lh_err_errno(err, errno, "cannot write '%s'", ndjson_path);
    if (rc != 0) {
        if (w.fd >= 0)
            lh_ingest__unlink_scratch(ndjson_path);
        return -1;
    }
    LH_LOG_DEBUG("ingest", "text '%s': shape=%s rows=%lld", display,
                 lh_ingest__sms_shape_name(shape), (long long)w.rows);
    *cols = make_columns(shape != LH_SMS_NONE, ncols);
    *rows = w.rows;
    return 0;
}
