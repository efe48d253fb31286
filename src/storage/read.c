/* storage reads and deletes. Objects are regular files only: a directory, symlink or
 * device at a key's path is reported as not_found, the same as a missing key, so no caller
 * can be tricked into reading through a link placed in a bucket. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage_int.h"

static int64_t mtime_ms_of(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

int lh_bucket_open_read(lh_bucket *b, const char *key, uint64_t *size, lh_err *err)
{
    char *path = lh_storage__key_path(b, key, err);
    if (path == NULL)
        return -1;
    /* O_NOFOLLOW: a symlink at the key fails with ELOOP; O_NONBLOCK: opening a FIFO someone
     * left in a bucket must not hang the caller. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    free(path);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR || e == ELOOP || e == EISDIR || e == ENXIO)
            return lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
        return lh_err_errno(err, e, "cannot open '%s'", key);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        (void)close(fd); /* read-only descriptor */
        return lh_err_errno(err, e, "cannot open '%s'", key);
    }
    if (!S_ISREG(st.st_mode)) {
        (void)close(fd);
        return lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
    }
    /* Back to blocking reads for the caller. */
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK); /* regular files never block anyway */
    if (size != NULL)
        *size = (uint64_t)st.st_size;
    return fd;
}

char *lh_bucket_read_all(lh_bucket *b, const char *key, size_t max, size_t *len, lh_err *err)
{
    uint64_t size = 0;
    int fd = lh_bucket_open_read(b, key, &size, err);
    if (fd < 0)
        return NULL;
    char *data = NULL;
    if (size > (uint64_t)max) {
        lh_err_set(err, LH_TOO_LARGE, "object '%s' is larger than %zu bytes", key, max);
        goto fail;
    }
    data = lh_try_alloc((size_t)size + 1);
    if (data == NULL) {
        lh_err_set(err, LH_TOO_LARGE, "object '%s' is too large to read into memory", key);
        goto fail;
    }
    /* Objects are replaced by rename, never rewritten in place, so the open file keeps the
     * size fstat saw; reading stops there regardless. */
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t r = read(fd, data + got, (size_t)size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            lh_err_errno(err, e, "cannot read '%s'", key);
            goto fail;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    (void)close(fd); /* read-only descriptor */
    data[got] = '\0';
    if (len != NULL)
        *len = got;
    return data;
fail:
    free(data);
    (void)close(fd);
    return NULL;
}

int lh_bucket_stat(lh_bucket *b, const char *key, uint64_t *size, int64_t *mtime_ms,
                   lh_err *err)
{
    char *path = lh_storage__key_path(b, key, err);
    if (path == NULL)
        return -1;
    struct stat st;
    int r = lstat(path, &st);
    int e = errno;
    free(path);
    if (r != 0) {
        if (e == ENOENT || e == ENOTDIR)
            return lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
        return lh_err_errno(err, e, "cannot stat '%s'", key);
    }
    if (!S_ISREG(st.st_mode))
        return lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
    if (size != NULL)
        *size = (uint64_t)st.st_size;
    if (mtime_ms != NULL)
        *mtime_ms = mtime_ms_of(&st);
    return 0;
}

bool lh_bucket_exists(lh_bucket *b, const char *key)
{
    return lh_bucket_stat(b, key, NULL, NULL, NULL) == 0;
}

/* Removes the now-empty directories between the deleted object at path and the bucket root,
 * then syncs the directory where it stopped. It stops at the first directory that is not
 * empty: a concurrent put may have just created something there, which is fine. A directory
 * already gone (a concurrent delete pruned it) does not stop it. Truncates path. */
static int prune_and_sync(const lh_bucket *b, char *path, const char *key, lh_err *err)
{
    size_t root_len = strlen(b->root);
    for (;;) {
        char *slash = strrchr(path, '/');
        LH_ASSERT(slash != NULL && (size_t)(slash - path) >= root_len);
        *slash = '\0';
        if ((size_t)(slash - path) == root_len)
            break; /* reached the bucket root, which stays */
        if (rmdir(path) != 0 && errno != ENOENT)
            break;
    }
    /* path now names the directory where pruning stopped; sync the entry removed in it. */
    char *child = lh_xasprintf("%s/x", path);
    int rc = lh_storage__sync_parent(child, "delete", key, err);
    free(child);
    return rc;
}

int lh_bucket_delete(lh_bucket *b, const char *key, lh_err *err)
{
    char *path = lh_storage__key_path(b, key, err);
    if (path == NULL)
        return -1;
    int rc = 0;
    struct stat st;
    if (lstat(path, &st) != 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            rc = lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
        else
            rc = lh_err_errno(err, e, "cannot delete '%s'", key);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
        goto out;
    }
    if (unlink(path) != 0) {
        int e = errno;
        if (e == ENOENT)
            rc = lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
        else
            rc = lh_err_errno(err, e, "cannot delete '%s'", key);
        goto out;
    }
    rc = prune_and_sync(b, path, key, err);
out:
    free(path);
    return rc;
}
