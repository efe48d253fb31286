/* Unit tests for src/core/file.c: read_all with its ceiling, mkdirs, remove_tree, write_full
 * and fsync_dir_of, in a fresh temporary directory per test. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

static char root[64];

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/lh_file_XXXXXX");
    cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_remove_tree(root, &err), 0), "%s", err.message);
    struct stat st;
    cr_assert(eq(int, stat(root, &st), -1));
}

TestSuite(file, .init = setup, .fini = teardown);

static char *path_in(const char *name)
{
    return lh_xasprintf("%s/%s", root, name);
}

static void put(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert(eq(sz, fwrite(data, 1, n, f), n));
    fclose(f);
}

Test(file, read_all)
{
    char *p = path_in("a.txt");
    put(p, "hello\0world", 11);
    size_t len = 0;
    lh_err err = LH_ERR_INIT;
    char *data = lh_file_read_all(p, 100, &len, &err);
    cr_assert_not_null(data, "%s", err.message);
    cr_assert(eq(sz, len, 11));
    cr_assert(eq(int, memcmp(data, "hello\0world", 12), 0)); /* NUL-terminated too */
    free(data);
    /* Exactly at the ceiling is fine; one byte over is too_large. */
    data = lh_file_read_all(p, 11, &len, &err);
    cr_assert_not_null(data, "%s", err.message);
    free(data);
    cr_assert_null(lh_file_read_all(p, 10, &len, &err));
    cr_assert(eq(int, err.code, LH_TOO_LARGE));
    free(p);
}

Test(file, read_all_empty_and_large)
{
    char *p = path_in("empty");
    put(p, "", 0);
    size_t len = 99;
    lh_err err = LH_ERR_INIT;
    char *data = lh_file_read_all(p, 10, &len, &err);
    cr_assert_not_null(data, "%s", err.message);
    cr_assert(eq(sz, len, 0));
    cr_assert(eq(str, data, ""));
    free(data);
    free(p);
    /* Bigger than any internal read chunk. */
    size_t n = 300000;
    char *big = lh_xmalloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 23);
    p = path_in("big");
    put(p, big, n);
    data = lh_file_read_all(p, n, &len, &err);
    cr_assert_not_null(data, "%s", err.message);
    cr_assert(eq(sz, len, n));
    cr_assert(eq(int, memcmp(data, big, n), 0));
    free(data);
    free(big);
    free(p);
}

Test(file, read_all_errors)
{
    char *p = path_in("missing");
    lh_err err = LH_ERR_INIT;
    size_t len;
    cr_assert_null(lh_file_read_all(p, 10, &len, &err));
    cr_assert(eq(int, err.code, LH_NOT_FOUND));
    cr_assert_not_null(strstr(err.message, p), "message: %s", err.message);
    free(p);
    lh_err_clear(&err);
    cr_assert_null(lh_file_read_all(root, 10, &len, &err)); /* a directory */
    cr_assert(ne(int, err.code, LH_OK));
}

Test(file, mkdirs_and_remove_tree)
{
    char *deep = path_in("a/b/c/d");
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_mkdirs(deep, &err), 0), "%s", err.message);
    struct stat st;
    cr_assert(eq(int, stat(deep, &st), 0));
    bool is_dir = S_ISDIR(st.st_mode);
    cr_assert(is_dir);
    cr_assert(eq(int, lh_mkdirs(deep, &err), 0), "existing directories are fine");
    char *f = path_in("a/b/file.txt");
    put(f, "x", 1);
    char *a = path_in("a");
    cr_assert(eq(int, lh_remove_tree(a, &err), 0), "%s", err.message);
    cr_assert(eq(int, stat(a, &st), -1));
    cr_assert(eq(int, lh_remove_tree(a, &err), 0), "missing is fine");
    /* mkdirs through a file fails with a clear error. */
    put(f = (free(f), path_in("plain")), "x", 1);
    char *under = path_in("plain/sub");
    lh_err_clear(&err);
    cr_assert(eq(int, lh_mkdirs(under, &err), -1));
    cr_assert(ne(int, err.code, LH_OK));
    cr_assert(eq(int, lh_mkdirs(f, &err), -1));
    /* remove_tree on a single file removes it. */
    cr_assert(eq(int, lh_remove_tree(f, &err), 0));
    cr_assert(eq(int, stat(f, &st), -1));
    free(under);
    free(f);
    free(a);
    free(deep);
}

Test(file, remove_tree_does_not_follow_symlinks)
{
    char *keep = path_in("keep");
    char *keep_file = path_in("keep/precious");
    char *tree = path_in("tree");
    char *link = path_in("tree/link");
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_mkdirs(keep, &err), 0));
    cr_assert(eq(int, lh_mkdirs(tree, &err), 0));
    put(keep_file, "x", 1);
    cr_assert(eq(int, symlink(keep, link), 0));
    cr_assert(eq(int, lh_remove_tree(tree, &err), 0), "%s", err.message);
    struct stat st;
    cr_assert(eq(int, stat(keep_file, &st), 0), "followed the symlink");
    free(keep);
    free(keep_file);
    free(tree);
    free(link);
}

Test(file, write_full_and_fsync_dir)
{
    char *p = path_in("w.bin");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(ge(int, fd, 0));
    size_t n = 1 << 20;
    char *data = lh_xmalloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 7);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_write_full(fd, data, n, &err), 0), "%s", err.message);
    close(fd);
    size_t len;
    char *back = lh_file_read_all(p, n, &len, &err);
    cr_assert_not_null(back);
    cr_assert(eq(sz, len, n));
    cr_assert(eq(int, memcmp(back, data, n), 0));
    free(back);
    cr_assert(eq(int, lh_fsync_dir_of(p, &err), 0), "%s", err.message);
    /* Writing to a closed descriptor is an io_error, not a crash. */
    cr_assert(eq(int, lh_write_full(fd, "x", 1, &err), -1));
    cr_assert(eq(int, err.code, LH_IO_ERROR));
    char *nodir = path_in("no/such/dir/file");
    cr_assert(eq(int, lh_fsync_dir_of(nodir, &err), -1));
    cr_assert(eq(int, err.code, LH_IO_ERROR));
    free(nodir);
    free(data);
    free(p);
}
