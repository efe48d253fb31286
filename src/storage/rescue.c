/* storage rescue: the rescue bucket keeps a copy of every object written through the object
 * API to a data bucket, at "<bucket>/<key>". A read that fails in its bucket (root gone, EIO,
 * EACCES, or the object missing while its copy exists) is answered from the copy, and the
 * failure is journaled. Deletes remove the copy too, so a deleted object never comes back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage_int.h"

/* The rescue bucket that guards b, or NULL (none configured, or b is the rescue bucket). */
static lh_bucket *guard_of(lh_bucket *b)
{
    lh_bucket *r = lh_storage_rescue(b->storage);
    return r && r != b ? r : NULL;
}

static char *copy_key(const lh_bucket *b, const char *key)
{
    return lh_xasprintf("%s/%s", b->name, key);
}

int lh_bucket_rescue_copy(lh_bucket *b, const char *key, bool *copied, lh_err *err)
{
    *copied = false;
    lh_bucket *r = guard_of(b);
    if (!r)
        return 0;
    uint64_t size = 0;
    int fd = lh_bucket_open_read(b, key, &size, err);
    if (fd < 0)
        return -1;
    char *ck = copy_key(b, key);
    int rc = lh_storage__copy_in(r, fd, ck, false, err);
    (void)close(fd); /* read-only descriptor */
    free(ck);
    if (rc != 0) {
        lh_err_prefix(err, "rescue copy of '%s' from bucket '%s': ", key, b->name);
        lh_storage_journal(b->storage, r->name, "rescue_write", key, err);
        return -1;
    }
    *copied = true;
    return 0;
}

int lh_bucket_rescue_delete(lh_bucket *b, const char *key, lh_err *err)
{
    lh_bucket *r = guard_of(b);
    if (!r)
        return 0;
    char *ck = copy_key(b, key);
    lh_err e = LH_ERR_INIT;
    int rc = 0;
    if (lh_storage_key_check(ck, strlen(ck), NULL) == 0 && lh_bucket_delete(r, ck, &e) != 0 &&
        e.code != LH_NOT_FOUND) {
        lh_storage_journal(b->storage, r->name, "rescue_delete", key, &e);
        if (err)
            *err = e;
        rc = -1;
    }
    free(ck);
    return rc;
}

/* Whether b's root is still a directory we can search: a root that vanished or became a
 * file is a bucket failure even when the read itself only says "not found". */
static bool root_ok(const lh_bucket *b)
{
    struct stat st;
    return stat(b->root, &st) == 0 && S_ISDIR(st.st_mode) && access(b->root, R_OK | X_OK) == 0;
}

int lh_bucket_open_read_rescue(lh_bucket *b, const char *key, uint64_t *size, bool *used,
                               lh_err *err)
{
    *used = false;
    lh_err first = LH_ERR_INIT;
    int fd = lh_bucket_open_read(b, key, size, &first);
    if (fd >= 0)
        return fd;
    if (first.code == LH_INVALID_ARGUMENT) { /* a bad key is the client's, not the bucket's */
        if (err)
            *err = first;
        return -1;
    }
    bool failure = first.code != LH_NOT_FOUND || !root_ok(b);
    if (failure && first.code == LH_NOT_FOUND)
        lh_err_set(&first, LH_IO_ERROR, "bucket '%s': its root is missing or unreadable",
                   b->name);
    lh_bucket *r = guard_of(b);
    if (r) {
        char *ck = copy_key(b, key);
        lh_err re = LH_ERR_INIT;
        int rfd = lh_storage_key_check(ck, strlen(ck), NULL) == 0
                      ? lh_bucket_open_read(r, ck, size, &re)
                      : -1;
        free(ck);
        if (rfd >= 0) {
            if (!failure) /* missing in its bucket although the copy exists: lost there */
                lh_err_set(&first, LH_NOT_FOUND, "object '%s' missing in bucket '%s' but "
                           "present in the rescue bucket", key, b->name);
            lh_storage_journal(b->storage, b->name, "read", key, &first);
            *used = true;
            return rfd;
        }
    }
    if (failure) {
        lh_storage_journal(b->storage, b->name, "read", key, &first);
        first.code = LH_UNAVAILABLE; /* 503: the bucket is at fault, and it may come back */
    }
    if (err)
        *err = first;
    return -1;
}
