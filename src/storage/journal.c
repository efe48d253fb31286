/* storage journal: every bucket failure (read, write, probe, rescue copy) becomes one JSON
 * line of <data>/_errors/bucket_errors.jsonl, rotated to bucket_errors.jsonl.1 at 16 MiB so
 * the journal never grows without bound. Also the bucket probe of /storage/bucket-health and
 * the reachability check writes make before they start. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage_int.h"

#define JOURNAL_DIR "_errors"
#define JOURNAL_FILE "bucket_errors.jsonl"
/* A line holds a key (<= 1 KiB), a message and a detail (<= 512 bytes each): a tail read of
 * this much per wanted line always covers them. */
#define LINE_BUDGET 4096

static char *journal_path(const lh_storage *s, const char *suffix)
{
    return lh_xasprintf("%s/" JOURNAL_DIR "/" JOURNAL_FILE "%s", s->data_dir, suffix);
}

void lh_storage_journal(lh_storage *s, const char *bucket, const char *op, const char *key,
                        const lh_err *e)
{
    char when[32];
    lh_time_iso8601(lh_now_ms(), when);
    lh_buf msg;
    lh_buf_init(&msg);
    lh_buf_printf(&msg, "%s%s%s", e && e->message[0] ? e->message : "unknown failure",
                  e && e->detail[0] ? ": " : "", e && e->detail[0] ? e->detail : "");
    json_t *line = json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s}", "time", when, "bucket",
                             bucket ? bucket : "", "op", op, "key", key, "code",
                             lh_code_name(e ? e->code : LH_INTERNAL), "error", msg.data);
    lh_buf_release(&msg);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text)
        return;
    char *dir = lh_xasprintf("%s/" JOURNAL_DIR, s->data_dir);
    char *path = journal_path(s, "");
    lh_err werr = LH_ERR_INIT;
    pthread_mutex_lock(&s->journal_lock);
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size >= LH_STORAGE_JOURNAL_MAX) {
        char *old = journal_path(s, ".1");
        if (rename(path, old) != 0)
            LH_LOG_WARN("storage", "cannot rotate the bucket error journal: %s",
                        strerror(errno));
        free(old);
    }
    int fd = lh_mkdirs(dir, &werr) == 0
                 ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
                 : -1;
    /* One write(2) of the whole line: O_APPEND keeps lines whole between processes. */
    size_t n = strlen(text);
    text[n] = '\n';
    if (fd < 0 || lh_write_full(fd, text, n + 1, &werr) != 0)
        LH_LOG_WARN("storage", "cannot append to the bucket error journal: %s",
                    werr.message[0] ? werr.message : strerror(errno));
    if (fd >= 0)
        (void)close(fd); /* an append-only log line: nothing to do on a close error */
    pthread_mutex_unlock(&s->journal_lock);
    LH_LOG_WARN("storage", "bucket '%s' %s failed: %s", bucket ? bucket : "", op,
                e ? e->message : "");
    free(text);
    free(path);
    free(dir);
}

/* Appends up to want lines of path to out, newest first. */
static int read_tail(const char *path, size_t want, json_t *out, lh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : lh_err_errno(err, errno, "cannot open the error journal");
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        (void)close(fd);
        return lh_err_errno(err, e, "cannot stat the error journal");
    }
    size_t budget = want * LINE_BUDGET;
    size_t size = (size_t)st.st_size;
    size_t len = size < budget ? size : budget;
    off_t from = (off_t)(size - len);
    char *buf = lh_xmalloc(len + 1);
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, from + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    (void)close(fd);
    buf[got] = '\0';
    /* Walk the lines backwards; a partial first line (cut by the budget) is skipped. */
    size_t end = got;
    while (end > 0 && json_array_size(out) < want) {
        size_t start = end;
        while (start > 0 && buf[start - 1] != '\n')
            start--;
        if (start == 0 && from > 0)
            break;
        if (end > start) {
            json_t *line = json_loadb(buf + start, end - start, 0, NULL);
            if (json_is_object(line))
                json_array_append(out, line);
            json_decref(line);
        }
        end = start > 0 ? start - 1 : 0;
    }
    free(buf);
    return 0;
}

json_t *lh_storage_journal_tail(lh_storage *s, size_t limit, lh_err *err)
{
    json_t *out = json_array();
    char *cur = journal_path(s, ""), *old = journal_path(s, ".1");
    pthread_mutex_lock(&s->journal_lock);
    int rc = read_tail(cur, limit, out, err);
    if (rc == 0 && json_array_size(out) < limit)
        rc = read_tail(old, limit - json_array_size(out), out, err);
    pthread_mutex_unlock(&s->journal_lock);
    free(cur);
    free(old);
    if (rc != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

int lh_bucket_check_reachable(lh_bucket *b, lh_err *err)
{
    struct stat st;
    int rc = 0;
    if (stat(b->root, &st) != 0)
        rc = lh_err_errno(err, errno, "bucket '%s' is unreachable: its root cannot be reached",
                          b->name);
    else if (!S_ISDIR(st.st_mode))
        rc = lh_err_set(err, LH_IO_ERROR, "bucket '%s' is unreachable: its root is not a "
                        "directory", b->name);
    else if (access(b->root, W_OK | X_OK) != 0)
        rc = lh_err_errno(err, errno, "bucket '%s' is unreachable: its root is not writable",
                          b->name);
    if (rc != 0 && err)
        err->code = LH_UNAVAILABLE; /* 503: the bucket, not the request, is at fault */
    return rc;
}

int lh_bucket_probe(lh_bucket *b, double *latency_ms, lh_err *err)
{
    double t0 = lh_mono_ms();
    char uuid[37];
    lh_uuid4(uuid);
    char *dir = lh_xasprintf("%s/" LH_STORAGE_TMP_DIR, b->root);
    char *path = lh_xasprintf("%s/%ld.probe-%s", dir, (long)getpid(), uuid);
    char want[64], got[64];
    snprintf(want, sizeof want, "lakehouse probe %s", uuid);
    size_t n = strlen(want);
    int rc = -1;
    int fd = -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        lh_err_errno(err, errno, "probe of bucket '%s' failed: cannot create its temp dir",
                     b->name);
    } else if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
        lh_err_errno(err, errno, "probe of bucket '%s' failed: cannot create the probe object",
                     b->name);
    } else if (lh_write_full(fd, want, n, err) != 0) {
        lh_err_prefix(err, "probe of bucket '%s' failed: ", b->name);
    } else if (fsync(fd) != 0) {
        lh_err_errno(err, errno, "probe of bucket '%s' failed: cannot sync the probe object",
                     b->name);
    } else {
        (void)close(fd);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t r = fd >= 0 ? pread(fd, got, sizeof got, 0) : -1;
        if (r != (ssize_t)n || memcmp(got, want, n) != 0)
            lh_err_set(err, LH_IO_ERROR, "probe of bucket '%s' failed: the probe object did "
                       "not read back", b->name);
        else if (unlink(path) != 0)
            lh_err_errno(err, errno, "probe of bucket '%s' failed: cannot delete the probe "
                         "object", b->name);
        else
            rc = 0;
    }
    if (fd >= 0)
        (void)close(fd);
    if (rc != 0)
        (void)unlink(path); /* best effort: leave no probe behind */
    *latency_ms = lh_mono_ms() - t0;
    free(path);
    free(dir);
    return rc;
}
