/* Text encodings of uploaded files: a streaming UTF-8 validator that also judges whether a
 * file that is not UTF-8 is plausibly Latin-1 text, and a streaming Latin-1 to UTF-8
 * converter. Ingest runs these before a text-like file reaches the engine, so that a
 * Latin-1 CSV is converted and anything else gets an error naming the first bad byte. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

/* Read size of both functions. Multi-byte sequences straddle reads of this size; the
 * tests build files larger than it to prove that they are handled. */
#define ENC_BUF 65536

/* Latin-1 text holds few control characters: a file where more than 1 byte in 100 is a
 * C0 control other than TAB/LF/CR/FF, DEL or a C1 control (0x80-0x9F) is binary data, or a
 * Windows code page we would mis-convert, and is not called Latin-1. */
#define LATIN1_MAX_CONTROL_PERCENT 1

static ssize_t read_some(int fd, unsigned char *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

/* The UTF-8 state carried between reads: how many continuation bytes the current sequence
 * still needs, the allowed range of the next one (which excludes overlongs, surrogates and
 * code points past U+10FFFF), and where the sequence started. */
typedef struct utf8_state {
    int need;
    unsigned char lo, hi;
    uint64_t start;
    bool bad;
    uint64_t bad_offset;
} utf8_state;

static void utf8_fail(utf8_state *st, uint64_t offset)
{
    if (!st->bad) {
        st->bad = true;
        st->bad_offset = offset;
    }
    st->need = 0;
}

/* Feeds one byte at file offset off. A malformed sequence is reported at its first byte. */
static void utf8_byte(utf8_state *st, unsigned char c, uint64_t off)
{
    if (st->need > 0) {
        if (c >= st->lo && c <= st->hi) {
            st->need--;
            st->lo = 0x80;
            st->hi = 0xBF;
            return;
        }
        utf8_fail(st, st->start); /* only the first bad offset matters */
        return;
    }
    if (c < 0x80)
        return;
    st->start = off;
    st->lo = 0x80;
    st->hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        st->need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        st->need = 2;
        if (c == 0xE0)
            st->lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            st->hi = 0x9F; /* UTF-16 surrogates U+D800-DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        st->need = 3;
        if (c == 0xF0)
            st->lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            st->hi = 0x8F; /* past U+10FFFF */
    } else {
        utf8_fail(st, off); /* 0x80-0xC1 (stray continuation, overlong lead) or 0xF5-0xFF */
    }
}

int lh_ingest__sniff_encoding(const char *path, lh_text_encoding *out, lh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lh_err_errno(err, errno, "cannot open '%s'", path);
    unsigned char *buf = lh_xmalloc(ENC_BUF);
    utf8_state st = {0};
    uint64_t off = 0, controls = 0;
    bool nul = false;
    unsigned char head[3];
    size_t head_len = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read_some(fd, buf, ENC_BUF);
        if (n < 0) {
            rc = lh_err_errno(err, errno, "cannot read '%s'", path);
            break;
        }
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++, off++) {
            unsigned char c = buf[i];
            if (head_len < sizeof head)
                head[head_len++] = c;
            if (!st.bad)
                utf8_byte(&st, c, off);
            if (c == 0)
                nul = true;
            else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') ||
                     (c >= 0x7F && c <= 0x9F))
                controls++;
        }
    }
    free(buf);
    close(fd);
    if (rc != 0)
        return -1;
    if (!st.bad && st.need > 0)
        utf8_fail(&st, st.start); /* the file ends inside a sequence */
    memset(out, 0, sizeof *out);
    out->has_bom = head_len == 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0;
    out->valid_utf8 = !st.bad;
    out->bad_offset = st.bad ? st.bad_offset : 0;
    out->latin1 = st.bad && !out->has_bom && !nul &&
                  controls * 100 <= off * LATIN1_MAX_CONTROL_PERCENT;
    return 0;
}

int lh_ingest__latin1_to_utf8(const char *src, const char *dst, lh_err *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return lh_err_errno(err, errno, "cannot open '%s'", src);
    int outfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (outfd < 0) {
        int e = errno;
        close(in);
        return lh_err_errno(err, e, "cannot create '%s'", dst);
    }
    unsigned char *ibuf = lh_xmalloc(ENC_BUF);
    unsigned char *obuf = lh_xmalloc(2 * ENC_BUF); /* every byte becomes at most two */
    int rc = 0;
    for (;;) {
        ssize_t n = read_some(in, ibuf, ENC_BUF);
        if (n < 0) {
            rc = lh_err_errno(err, errno, "cannot read '%s'", src);
            break;
        }
        if (n == 0)
            break;
        size_t o = 0;
        for (ssize_t i = 0; i < n; i++) {
            unsigned char c = ibuf[i];
            if (c < 0x80) {
                obuf[o++] = c;
            } else {
                obuf[o++] = (unsigned char)(0xC0 | (c >> 6));
                obuf[o++] = (unsigned char)(0x80 | (c & 0x3F));
            }
        }
        if (lh_write_full(outfd, obuf, o, err) != 0) {
            rc = lh_err_prefix(err, "cannot write '%s': ", dst);
            break;
        }
    }
    free(ibuf);
    free(obuf);
    close(in);
    if (close(outfd) != 0 && rc == 0)
        rc = lh_err_errno(err, errno, "cannot write '%s'", dst);
    if (rc != 0) {
        if (unlink(dst) != 0 && errno != ENOENT)
            LH_LOG_WARN("ingest", "cannot remove '%s': %s", dst, strerror(errno));
        return -1;
    }
    return 0;
}
