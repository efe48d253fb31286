/* Plain file helpers for files outside the lake (config, scratch, test trees). Lake files
 * are written only through storage, which builds on lh_write_full and lh_fsync_dir_of. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

char *lh_file_read_all(const char *path, size_t max, size_t *len, lh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            lh_err_set(err, LH_NOT_FOUND, "cannot open '%s': no such file", path);
        else
            lh_err_errno(err, errno, "cannot open '%s'", path);
        return NULL;
    }
    lh_buf b;
    lh_buf_init(&b);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            lh_err_errno(err, errno, "cannot read '%s'", path);
            goto fail;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            lh_err_set(err, LH_TOO_LARGE, "'%s' is larger than %zu bytes", path, max);
            goto fail;
        }
        lh_buf_append(&b, chunk, (size_t)n);
    }
    close(fd);
    return lh_buf_detach(&b, len);
fail:
    close(fd);
    lh_buf_release(&b);
    return NULL;
}

int lh_mkdirs(const char *path, lh_err *err)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s", path);
    if (n <= 0 || (size_t)n >= sizeof tmp)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "path too long: '%s'", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return lh_err_errno(err, errno, "cannot create directory '%s'", tmp);
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return lh_err_errno(err, errno, "cannot create directory '%s'", tmp);
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
        return lh_err_set(err, LH_IO_ERROR, "'%s' exists and is not a directory", tmp);
    return 0;
}

int lh_remove_tree(const char *path, lh_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : lh_err_errno(err, errno, "cannot stat '%s'", path);
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0 && errno != ENOENT)
            return lh_err_errno(err, errno, "cannot remove '%s'", path);
        return 0;
    }
    DIR *d = opendir(path);
    if (!d)
        return lh_err_errno(err, errno, "cannot open directory '%s'", path);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *child = lh_xasprintf("%s/%s", path, e->d_name);
        rc = lh_remove_tree(child, err);
        free(child);
    }
    closedir(d);
    if (rc == 0 && rmdir(path) != 0 && errno != ENOENT)
        return lh_err_errno(err, errno, "cannot remove directory '%s'", path);
    return rc;
}

int lh_write_full(int fd, const void *p, size_t n, lh_err *err)
{
    if (lh_fault_hit("write"))
        return lh_err_errno(err, EIO, "write failed (injected)");
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return lh_err_errno(err, errno, "write failed");
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int lh_fsync_dir_of(const char *path, lh_err *err)
{
    char dir[PATH_MAX];
    int n = snprintf(dir, sizeof dir, "%s", path);
    if (n <= 0 || (size_t)n >= sizeof dir)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "path too long: '%s'", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return lh_err_errno(err, errno, "cannot open directory '%s'", dir);
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL) /* some filesystems cannot fsync directories */
        return lh_err_errno(err, e, "cannot fsync directory '%s'", dir);
    return 0;
}
