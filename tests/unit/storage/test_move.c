/* Unit tests for src/storage/move.c: adopting scratch files (same filesystem and across
 * filesystems) and linking keys (hard link, and the atomic copy fallback). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage.h"
#include "storage/storage_int.h"

static char g_dir[64];
static lh_storage *g_s;
static lh_bucket *g_b;

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/lh-storage-move-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    lh_err err = LH_ERR_INIT;
    g_s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(g_s, "%s", err.message);
    g_b = lh_storage_bucket(g_s, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(g_b);
}

static void teardown(void)
{
    lh_storage_close(g_s);
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_remove_tree(g_dir, &err), 0, "%s", err.message);
}

static void write_file(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0, "cannot create %s", path);
    cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

static void expect_content(const char *key, const char *want)
{
    lh_err err = LH_ERR_INIT;
    size_t len;
    char *d = lh_bucket_read_all(g_b, key, 1 << 24, &len, &err);
    cr_assert_not_null(d, "read '%s': %s", key, err.message);
    cr_expect_str_eq(d, want);
    free(d);
}

static size_t temp_files(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls -A '%s/tmp/put' | wc -l", lh_storage_data_dir(g_s));
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    unsigned long n = 99;
    cr_assert_eq(fscanf(f, "%lu", &n), 1);
    pclose(f);
    return n;
}

TestSuite(storage_move, .init = setup, .fini = teardown);

Test(storage_move, adopt_scratch_file)
{
    char *scratch = lh_storage_scratch_path(g_s, ".parquet");
    write_file(scratch, "parquet bytes");
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_adopt_file(g_b, "datasets/t/part-1.parquet", scratch, &err), 0, "%s",
                 err.message);
    expect_content("datasets/t/part-1.parquet", "parquet bytes");
    cr_expect_neq(access(scratch, F_OK), 0, "scratch file still there");

    /* Adopt replaces an existing object. */
    write_file(scratch, "v2");
    cr_assert_eq(lh_bucket_adopt_file(g_b, "datasets/t/part-1.parquet", scratch, &err), 0);
    expect_content("datasets/t/part-1.parquet", "v2");
    free(scratch);
}

Test(storage_move, adopt_across_filesystems_copies)
{
    /* /dev/shm is a tmpfs, so rename(2) from there into /tmp fails with EXDEV. */
    struct stat a, b;
    cr_assert_eq(stat("/dev/shm", &a), 0);
    cr_assert_eq(stat(lh_bucket_root(g_b), &b), 0);
    if (a.st_dev == b.st_dev)
        cr_skip_test("/dev/shm is on the same filesystem as /tmp");
    char scratch[128];
    snprintf(scratch, sizeof scratch, "/dev/shm/lh-storage-test-%ld", (long)getpid());
    lh_buf big;
    lh_buf_init(&big);
    for (int i = 0; i < 100000; i++) /* several copy chunks */
        lh_buf_printf(&big, "line %d\n", i);
    write_file(scratch, big.data);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_adopt_file(g_b, "x/adopted", scratch, &err), 0, "%s", err.message);
    expect_content("x/adopted", big.data);
    cr_expect_neq(access(scratch, F_OK), 0, "scratch file still there");
    cr_expect_eq(temp_files(), 0);
    lh_buf_release(&big);
}

Test(storage_move, adopt_errors)
{
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_bucket_adopt_file(g_b, "k", "/nonexistent/scratch", &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_adopt_file(g_b, "k", lh_storage_work_dir(g_s), &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT); /* a directory is not a scratch file */

    /* Onto a directory: conflict, and the scratch file stays for the caller to retry. */
    cr_assert_eq(lh_bucket_put(g_b, "d/x", "1", 1, &err), 0);
    char *scratch = lh_storage_scratch_path(g_s, NULL);
    write_file(scratch, "s");
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_adopt_file(g_b, "d", scratch, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT, "%s", err.message);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_adopt_file(g_b, "d/x/y", scratch, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT, "%s", err.message);
    cr_expect_eq(access(scratch, F_OK), 0);
    free(scratch);
}

Test(storage_move, link_shares_bytes)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(g_b, "src/a", "content", 7, &err), 0);
    cr_assert_eq(lh_bucket_link(g_b, "src/a", "dst/deep/b", &err), 0, "%s", err.message);
    expect_content("dst/deep/b", "content");
    char *p1 = lh_bucket_path(g_b, "src/a"), *p2 = lh_bucket_path(g_b, "dst/deep/b");
    struct stat s1, s2;
    cr_assert_eq(stat(p1, &s1), 0);
    cr_assert_eq(stat(p2, &s2), 0);
    cr_expect_eq(s1.st_ino, s2.st_ino, "not a hard link");
    free(p1);
    free(p2);

    /* Replacing the source (rename) leaves the link with the old bytes. */
    cr_assert_eq(lh_bucket_put(g_b, "src/a", "changed", 7, &err), 0);
    expect_content("dst/deep/b", "content");
    /* Deleting one name keeps the other. */
    cr_assert_eq(lh_bucket_delete(g_b, "src/a", &err), 0);
    expect_content("dst/deep/b", "content");
}

Test(storage_move, link_errors)
{
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_bucket_link(g_b, "missing", "dst", &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_str_eq(err.message, "object 'missing' not found");
    cr_assert_eq(lh_bucket_put(g_b, "s", "1", 1, &err), 0);
    cr_assert_eq(lh_bucket_put(g_b, "d", "2", 1, &err), 0);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_link(g_b, "s", "d", &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    expect_content("d", "2");
    cr_assert_eq(lh_bucket_put(g_b, "dir/x", "3", 1, &err), 0);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_link(g_b, "dir", "e", &err), -1); /* a directory is no object */
    cr_expect_eq(err.code, LH_NOT_FOUND);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_link(g_b, "s", "dir", &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_link(g_b, "s", "d/under-file", &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_eq(temp_files(), 0);
}

/* The copy fallback (used on EXDEV/EPERM) is exclusive for links: it must not clobber. */
Test(storage_move, copy_fallback_is_atomic_and_exclusive)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(g_b, "src", "payload", 7, &err), 0);
    uint64_t size;
    int fd = lh_bucket_open_read(g_b, "src", &size, &err);
    cr_assert(fd >= 0);
    cr_assert_eq(lh_storage__copy_in(g_b, fd, "copy/of/src", true, &err), 0, "%s", err.message);
    close(fd);
    expect_content("copy/of/src", "payload");
    char *p1 = lh_bucket_path(g_b, "src"), *p2 = lh_bucket_path(g_b, "copy/of/src");
    struct stat s1, s2;
    cr_assert_eq(stat(p1, &s1), 0);
    cr_assert_eq(stat(p2, &s2), 0);
    cr_expect_neq(s1.st_ino, s2.st_ino);
    free(p1);
    free(p2);

    fd = lh_bucket_open_read(g_b, "src", &size, &err);
    cr_assert(fd >= 0);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_storage__copy_in(g_b, fd, "copy/of/src", true, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    close(fd);
    cr_expect_eq(temp_files(), 0);

    /* A read error mid-copy leaves nothing (a write-only fd cannot be read). */
    char *scratch = lh_storage_scratch_path(g_s, NULL);
    fd = open(scratch, O_WRONLY | O_CREAT, 0644);
    cr_assert(fd >= 0);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_storage__copy_in(g_b, fd, "never", false, &err), -1);
    cr_expect_eq(err.code, LH_IO_ERROR);
    close(fd);
    free(scratch);
    cr_expect_not(lh_bucket_exists(g_b, "never"));
    cr_expect_eq(temp_files(), 0);
}
