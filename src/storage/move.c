/* storage moves: adopting a finished scratch file into a bucket (rename, or an atomic copy
 * across filesystems) and making one key share another's bytes (hard link, or an atomic
 * create-only copy where links are impossible). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage_int.h"

#define MOVE_RETRIES 8

int lh_storage__copy_in(lh_bucket *b, int src_fd, const char *key, bool exclusive, lh_err *err)
{
    lh_put *p = lh_bucket_put_begin(b, key, err);
    if (p == NULL)
        return -1;
    /* A fixed chunk keeps memory bounded whatever the object's size. */
    char *buf = lh_xmalloc(LH_STORAGE_COPY_CHUNK);
    int rc = 0;
    for (;;) {
        ssize_t got = read(src_fd, buf, LH_STORAGE_COPY_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            rc = lh_err_errno(err, e, "cannot copy into '%s': read failed", key);
            break;
        }
        if (got == 0)
            break;
        if (lh_put_write(p, buf, (size_t)got, err) != 0) {
            rc = -1;
            break;
        }
    }
    free(buf);
    if (rc != 0) {
        lh_put_abort(p);
        return -1;
    }
    return lh_storage__put_finish(p, exclusive, err);
}

int lh_bucket_adopt_file(lh_bucket *b, const char *key, const char *scratch_path, lh_err *err)
{
    if (lh_storage__check_write(b, key, err) != 0)
        return -1;
    char *dest = lh_storage__key_path(b, key, err);
    if (dest == NULL)
        return -1;
    int rc = -1;
    int fd = scratch_path != NULL ? open(scratch_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0) {
        int e = scratch_path != NULL ? errno : ENOENT;
        if (e == ENOENT)
            lh_err_set(err, LH_NOT_FOUND, "cannot adopt into '%s': scratch file not found", key);
        else
            lh_err_errno(err, e, "cannot adopt into '%s': cannot open scratch file", key);
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "cannot adopt into '%s': scratch path is not a regular file", key);
        goto out;
    }
    /* The bytes must be on disk before the name is: otherwise a crash after the rename
     * could expose an object with missing data. */
    if (fsync(fd) != 0) {
        int e = errno;
        lh_err_errno(err, e, "cannot adopt into '%s': fsync failed", key);
        goto out;
    }
    for (int attempt = 0;; attempt++) {
        if (lh_storage__make_parents(b, dest, key, err) != 0)
            goto out;
        if (rename(scratch_path, dest) == 0) {
            rc = lh_storage__sync_parent(dest, "put", key, err);
            goto out;
        }
        int e = errno;
        if (e == ENOENT && attempt + 1 < MOVE_RETRIES && access(scratch_path, F_OK) == 0)
            continue; /* parent pruned by a concurrent delete */
        if (e == EXDEV)
            break;
        if (e == EISDIR || e == EEXIST || e == ENOTEMPTY)
            lh_err_set(err, LH_CONFLICT, "cannot put '%s': a directory exists there", key);
        else if (e == ENOTDIR)
            lh_err_set(err, LH_CONFLICT, "cannot put '%s': a parent is not a directory", key);
        else if (e == ENOENT)
            lh_err_set(err, LH_NOT_FOUND, "cannot adopt into '%s': scratch file not found", key);
        else
            lh_err_errno(err, e, "cannot adopt into '%s'", key);
        goto out;
    }
    /* Different filesystems: copy through the bucket's put dir (its filesystem), then
     * drop the scratch file. The fd still reads from offset 0. */
    if (lh_storage__copy_in(b, fd, key, false, err) != 0)
        goto out;
    if (unlink(scratch_path) != 0 && errno != ENOENT)
        LH_LOG_WARN("storage", "cannot remove scratch file '%s': %s", scratch_path,
                    strerror(errno));
    rc = 0;
out:
    if (fd >= 0)
        (void)close(fd); /* read-only descriptor: close cannot lose data */
    free(dest);
    return rc;
}

/* Checks that path is a regular file; not_found naming key otherwise. */
static int must_be_object(const char *path, const char *key, lh_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
        return lh_err_errno(err, e, "cannot stat '%s'", key);
    }
    if (!S_ISREG(st.st_mode))
        return lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", key);
    return 0;
}

static int link_by_copy(lh_bucket *b, const char *src, const char *src_key,
                        const char *dst_key, lh_err *err)
{
    int fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ELOOP)
            return lh_err_set(err, LH_NOT_FOUND, "object '%s' not found", src_key);
        return lh_err_errno(err, e, "cannot open '%s'", src_key);
    }
    int rc = lh_storage__copy_in(b, fd, dst_key, true, err);
    (void)close(fd); /* read-only descriptor */
    return rc;
}

int lh_bucket_link(lh_bucket *b, const char *src_key, const char *dst_key, lh_err *err)
{
    int rc = -1;
    char *src = lh_storage__key_path(b, src_key, err);
    char *dst = src != NULL && lh_storage__check_write(b, dst_key, err) == 0
                    ? lh_storage__key_path(b, dst_key, err)
                    : NULL;
    if (dst == NULL)
        goto out;
    for (int attempt = 0;; attempt++) {
        if (must_be_object(src, src_key, err) != 0)
            goto out;
        if (lh_storage__make_parents(b, dst, dst_key, err) != 0)
            goto out;
        if (link(src, dst) == 0) {
            rc = lh_storage__sync_parent(dst, "link", dst_key, err);
            goto out;
        }
        int e = errno;
        if (e == ENOENT && attempt + 1 < MOVE_RETRIES)
            continue; /* src deleted (reported above next round) or dst parent pruned */
        if (e == EXDEV || e == EPERM || e == EMLINK) {
            rc = link_by_copy(b, src, src_key, dst_key, err);
            goto out;
        }
        if (e == EEXIST)
            lh_err_set(err, LH_CONFLICT, "object '%s' already exists", dst_key);
        else if (e == ENOTDIR)
            lh_err_set(err, LH_CONFLICT, "cannot put '%s': a parent is not a directory", dst_key);
        else
            lh_err_errno(err, e, "cannot link '%s' to '%s'", src_key, dst_key);
        goto out;
    }
out:
    free(src);
    free(dst);
    return rc;
}
