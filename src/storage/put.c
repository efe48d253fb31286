/* storage writes: streaming puts into a temp file in the bucket's put dir (tmp/put, or the
 * bucket's own .lakehouse-tmp on another filesystem), finished by an atomic
 * rename (replace) or link(2) (create-only, for put_if_absent and Delta commits). Every
 * failure path removes the temp file, so a failed put leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage_int.h"

/* How often a rename/link is retried after ENOENT: a concurrent delete may prune an empty
 * parent directory between our mkdir and our rename. */
#define PARENT_RETRIES 8

int lh_storage__make_parents(const lh_bucket *b, const char *path, const char *key, lh_err *err)
{
    size_t root_len = strlen(b->root);
    char *p = lh_xstrdup(path);
    int rc = 0;
    bool vanished = false;
    for (int attempt = 0; attempt < PARENT_RETRIES; attempt++) {
        vanished = false;
        rc = 0;
        for (char *slash = strchr(p + root_len + 1, '/'); slash != NULL && rc == 0;
             slash = strchr(slash + 1, '/')) {
            *slash = '\0';
            struct stat st;
            if (mkdir(p, 0755) == 0) {
                /* A new directory entry is durable only once its parent is synced. */
                rc = lh_storage__sync_parent(p, "put", key, err);
            } else if (errno == EEXIST) {
                if (lstat(p, &st) != 0) {
                    int e = errno;
                    if (e == ENOENT)
                        vanished = true, rc = -1;
                    else
                        rc = lh_err_errno(err, e, "cannot create directory for '%s'", key);
                } else if (!S_ISDIR(st.st_mode)) {
                    rc = lh_err_set(err, LH_CONFLICT,
                                    "cannot put '%s': '%s' exists and is not a directory", key,
                                    p + root_len + 1);
                }
            } else if (errno == ENOTDIR) {
                rc = lh_err_set(err, LH_CONFLICT,
                                "cannot put '%s': a parent of '%s' is not a directory", key,
                                p + root_len + 1);
            } else if (errno == ENOENT) {
                vanished = true, rc = -1; /* an ancestor was pruned under us: start over */
            } else {
                int e = errno;
                rc = lh_err_errno(err, e, "cannot create directory for '%s'", key);
            }
            *slash = '/';
        }
        if (!vanished)
            break;
    }
    if (vanished)
        lh_err_set(err, LH_IO_ERROR, "cannot create directory for '%s': it kept vanishing", key);
    free(p);
    return rc;
}

int lh_storage__sync_parent(const char *path, const char *verb, const char *key, lh_err *err)
{
    const char *slash = strrchr(path, '/');
    LH_ASSERT(slash != NULL && slash != path);
    char *dir = lh_xstrndup(path, (size_t)(slash - path));
    int rc = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e != ENOENT)
            rc = lh_err_errno(err, e, "cannot %s '%s': cannot open its directory", verb, key);
    } else {
        int r = fsync(fd);
        int e = errno;
        (void)close(fd); /* read-only directory descriptor */
        if (r != 0 && e != EINVAL) /* EINVAL: the filesystem cannot sync directories */
            rc = lh_err_errno(err, e, "cannot %s '%s': cannot sync its directory", verb, key);
    }
    free(dir);
    return rc;
}

lh_put *lh_bucket_put_begin(lh_bucket *b, const char *key, lh_err *err)
{
    char *dest = lh_storage__key_path(b, key, err);
    if (dest == NULL)
        return NULL;
    free(dest);
    if (lh_storage__check_write(b, key, err) != 0)
        return NULL;
    char uuid[37];
    lh_uuid4(uuid);
    char *tmp = lh_xasprintf("%s/%ld.%s", b->put_dir, (long)getpid(), uuid);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        lh_err_errno(err, e, "cannot put '%s': cannot create temp file", key);
        free(tmp);
        return NULL;
    }
    lh_put *p = lh_xcalloc(1, sizeof *p);
    p->bucket = b;
    p->key = lh_xstrdup(key);
    p->tmp_path = tmp;
    p->fd = fd;
    return p;
}

/* Closes and removes the temp file; leaves p allocated. */
static void drop_temp(lh_put *p)
{
    if (p->fd >= 0) {
        (void)close(p->fd); /* the file is being discarded: a close error changes nothing */
        p->fd = -1;
    }
    if (p->tmp_path != NULL) {
        if (unlink(p->tmp_path) != 0 && errno != ENOENT)
            LH_LOG_WARN("storage", "cannot remove temp file '%s': %s", p->tmp_path,
                        strerror(errno));
        free(p->tmp_path);
        p->tmp_path = NULL;
    }
}

static void put_free(lh_put *p)
{
    drop_temp(p);
    free(p->key);
    free(p);
}

int lh_put_write(lh_put *p, const void *data, size_t n, lh_err *err)
{
    if (p->failed)
        return lh_err_set(err, LH_IO_ERROR, "cannot write '%s': an earlier write failed",
                          p->key);
    if (n == 0)
        return 0;
    if (lh_write_full(p->fd, data, n, err) != 0) {
        /* Drop the temp file now, so nothing is left even if the caller never aborts. */
        p->failed = true;
        drop_temp(p);
        return lh_err_prefix(err, "cannot write '%s': ", p->key);
    }
    p->size += n;
    return 0;
}

uint64_t lh_put_size(const lh_put *p)
{
    return p->size;
}

void lh_put_abort(lh_put *p)
{
    if (p != NULL)
        put_free(p);
}

/* Maps a failed rename/link errno to the error the caller sees. */
static int place_error(int e, const char *key, bool exclusive, lh_err *err)
{
    if (exclusive && e == EEXIST)
        return lh_err_set(err, LH_CONFLICT, "object '%s' already exists", key);
    if (e == EISDIR || e == EEXIST || e == ENOTEMPTY)
        return lh_err_set(err, LH_CONFLICT, "cannot put '%s': a directory exists there", key);
    if (e == ENOTDIR)
        return lh_err_set(err, LH_CONFLICT, "cannot put '%s': a parent is not a directory", key);
    return lh_err_errno(err, e, "cannot put '%s'", key);
}

int lh_storage__put_finish(lh_put *p, bool exclusive, lh_err *err)
{
    int rc = -1;
    char *dest = NULL;
    if (p->failed) {
        lh_err_set(err, LH_IO_ERROR, "cannot put '%s': an earlier write failed", p->key);
        goto out;
    }
    if (fsync(p->fd) != 0) {
        int e = errno;
        lh_err_errno(err, e, "cannot put '%s': fsync failed", p->key);
        goto out;
    }
    int fd = p->fd;
    p->fd = -1;
    if (close(fd) != 0) {
        int e = errno;
        lh_err_errno(err, e, "cannot put '%s': close failed", p->key);
        goto out;
    }
    lh_fault_point("storage_put_before_rename");
    dest = lh_bucket_path(p->bucket, p->key);
    for (int attempt = 0;; attempt++) {
        if (lh_storage__make_parents(p->bucket, dest, p->key, err) != 0)
            goto out;
        int r = exclusive ? link(p->tmp_path, dest) : rename(p->tmp_path, dest);
        if (r == 0)
            break;
        int e = errno;
        if (e == ENOENT && attempt + 1 < PARENT_RETRIES)
            continue; /* parent pruned by a concurrent delete */
        place_error(e, p->key, exclusive, err);
        goto out;
    }
    if (!exclusive) {
        free(p->tmp_path); /* renamed away: nothing left to remove */
        p->tmp_path = NULL;
    }
    rc = lh_storage__sync_parent(dest, "put", p->key, err);
out:
    free(dest);
    put_free(p);
    return rc;
}

int lh_put_commit(lh_put *p, lh_err *err)
{
    return lh_storage__put_finish(p, false, err);
}

static int put_buffer(lh_bucket *b, const char *key, const void *data, size_t n, bool exclusive,
                      lh_err *err)
{
    lh_put *p = lh_bucket_put_begin(b, key, err);
    if (p == NULL)
        return -1;
    if (lh_put_write(p, data, n, err) != 0) {
        lh_put_abort(p);
        return -1;
    }
    return lh_storage__put_finish(p, exclusive, err);
}

int lh_bucket_put(lh_bucket *b, const char *key, const void *data, size_t n, lh_err *err)
{
    return put_buffer(b, key, data, n, false, err);
}

int lh_bucket_put_if_absent(lh_bucket *b, const char *key, const void *data, size_t n,
                            lh_err *err)
{
    return put_buffer(b, key, data, n, true, err);
}
