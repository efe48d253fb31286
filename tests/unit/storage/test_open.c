/* Unit tests for src/storage/storage.c: the data-dir layout, bucket registry, per-process
 * work directories, and the removal of dead processes' temp files at open (while the files
 * of live processes are left alone). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/storage.h"

static char g_dir[64];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/lh-storage-open-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
}

static void teardown(void)
{
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_remove_tree(g_dir, &err), 0, "%s", err.message);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0, "cannot create %s", path);
    close(fd);
}

/* A pid that certainly belongs to no process: a child we have already reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0)
        _exit(0);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return pid;
}

TestSuite(storage_open, .init = setup, .fini = teardown);

Test(storage_open, creates_layout)
{
    char data[256];
    snprintf(data, sizeof data, "%s/nested/data", g_dir); /* missing parents are created */
    lh_err err = LH_ERR_INIT;
    lh_storage *s = lh_storage_open(data, &err);
    cr_assert_not_null(s, "%s", err.message);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/buckets/primary", data);
    cr_expect(is_dir(p));
    snprintf(p, sizeof p, "%s/tmp/put", data);
    cr_expect(is_dir(p));
    snprintf(p, sizeof p, "%s/tmp/work/%ld", lh_storage_data_dir(s), (long)getpid());
    cr_expect_str_eq(lh_storage_work_dir(s), p);
    cr_expect(is_dir(lh_storage_work_dir(s)));
    cr_expect_eq(lh_storage_data_dir(s)[0], '/');

    lh_bucket *b = lh_storage_bucket(s, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(b, "%s", err.message);
    cr_expect_str_eq(lh_bucket_name(b), "primary");
    snprintf(p, sizeof p, "%s/buckets/primary", lh_storage_data_dir(s));
    cr_expect_str_eq(lh_bucket_root(b), p);
    lh_storage_close(s);
    lh_storage_close(NULL);
}

Test(storage_open, relative_data_dir_gives_absolute_roots)
{
    cr_assert_eq(chdir(g_dir), 0);
    lh_err err = LH_ERR_INIT;
    lh_storage *s = lh_storage_open("rel", &err);
    cr_assert_not_null(s, "%s", err.message);
    lh_bucket *b = lh_storage_bucket(s, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(b);
    cr_expect_eq(lh_bucket_root(b)[0], '/');
    cr_expect_eq(lh_storage_work_dir(s)[0], '/');
    lh_storage_close(s);
}

Test(storage_open, unknown_bucket_is_not_found)
{
    lh_err err = LH_ERR_INIT;
    lh_storage *s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(s);
    cr_expect_null(lh_storage_bucket(s, "nope", &err));
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_str_eq(err.message, "bucket 'nope' not found");
    err = (lh_err)LH_ERR_INIT;
    cr_expect_null(lh_storage_bucket(s, "../x\n", &err));
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_null(strchr(err.message, '\n'));
    lh_storage_close(s);
}

Test(storage_open, registers_existing_bucket_directories)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/buckets/rescue", g_dir);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_mkdirs(p, &err), 0);
    snprintf(p, sizeof p, "%s/buckets/Bad-Name", g_dir);
    cr_assert_eq(lh_mkdirs(p, &err), 0);
    snprintf(p, sizeof p, "%s/buckets/afile", g_dir);
    touch(p);
    lh_storage *s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(s);
    lh_bucket *r = lh_storage_bucket(s, "rescue", &err);
    cr_assert_not_null(r);
    cr_expect_str_eq(lh_bucket_name(r), "rescue");
    cr_expect_null(lh_storage_bucket(s, "Bad-Name", &err));
    cr_expect_null(lh_storage_bucket(s, "afile", &err));
    cr_expect_not_null(lh_storage_bucket(s, "primary", &err));
    lh_storage_close(s);
}

Test(storage_open, data_dir_that_is_a_file_fails)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/file", g_dir);
    touch(p);
    lh_err err = LH_ERR_INIT;
    cr_expect_null(lh_storage_open(p, &err));
    cr_expect_neq(err.code, LH_OK);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_null(lh_storage_open("", &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
}

Test(storage_open, scratch_paths_are_unique_and_in_work_dir)
{
    lh_err err = LH_ERR_INIT;
    lh_storage *s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(s);
    char *a = lh_storage_scratch_path(s, ".parquet");
    char *b = lh_storage_scratch_path(s, ".parquet");
    char *c = lh_storage_scratch_path(s, NULL);
    const char *w = lh_storage_work_dir(s);
    cr_expect(strncmp(a, w, strlen(w)) == 0 && a[strlen(w)] == '/');
    cr_expect(strlen(a) > 8 && strcmp(a + strlen(a) - 8, ".parquet") == 0);
    cr_expect_str_neq(a, b);
    cr_expect_eq(strlen(c), strlen(w) + 1 + 36);
    cr_expect_not(exists(a)); /* nothing is created */
    free(a);
    free(b);
    free(c);
    lh_storage_close(s);
}

Test(storage_open, removes_dead_processes_temp_files_only)
{
    pid_t dead = dead_pid();
    char put_dir[256], work[256], p[PATH_MAX];
    snprintf(put_dir, sizeof put_dir, "%s/tmp/put", g_dir);
    snprintf(work, sizeof work, "%s/tmp/work", g_dir);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_mkdirs(put_dir, &err), 0);

    /* The dead process's leftovers: a put temp file and a work dir with nested content. */
    char dead_tmp[512], dead_work[512];
    snprintf(dead_tmp, sizeof dead_tmp, "%s/%ld.0b9e2f4e-uuid", put_dir, (long)dead);
    touch(dead_tmp);
    snprintf(dead_work, sizeof dead_work, "%s/%ld/sub", work, (long)dead);
    cr_assert_eq(lh_mkdirs(dead_work, &err), 0);
    snprintf(p, sizeof p, "%s/file.parquet", dead_work);
    touch(p);
    snprintf(dead_work, sizeof dead_work, "%s/%ld", work, (long)dead);

    /* Live processes' files: our parent, pid 1, and this very process. */
    pid_t live[] = {getppid(), 1, getpid()};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%ld.live-%zu", put_dir, (long)live[i], i);
        touch(p);
        snprintf(p, sizeof p, "%s/%ld/x", work, (long)live[i]);
        cr_assert_eq(lh_mkdirs(p, &err), 0);
    }
    /* Names we cannot attribute to a process are left alone. */
    snprintf(p, sizeof p, "%s/not-a-pid", put_dir);
    touch(p);
    snprintf(p, sizeof p, "%s/%ld", put_dir, (long)dead); /* no ".<uuid>": not ours */
    touch(p);

    lh_storage *s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(s, "%s", err.message);
    cr_expect_not(exists(dead_tmp), "dead temp file survived");
    cr_expect_not(exists(dead_work), "dead work dir survived");
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%ld.live-%zu", put_dir, (long)live[i], i);
        cr_expect(exists(p), "live temp %s removed", p);
        snprintf(p, sizeof p, "%s/%ld/x", work, (long)live[i]);
        cr_expect(is_dir(p), "live work dir %s removed", p);
    }
    snprintf(p, sizeof p, "%s/not-a-pid", put_dir);
    cr_expect(exists(p));
    snprintf(p, sizeof p, "%s/%ld", put_dir, (long)dead);
    cr_expect(exists(p));
    lh_storage_close(s);
}

/* End to end: a process dies between fsync and rename; no object appears, and the next open
 * removes its temp file. */
Test(storage_open, crash_before_rename_leaves_no_object)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        setenv("LH_FAULT", "crash:storage_put_before_rename", 1);
        lh_fault_reset();
        lh_err err = LH_ERR_INIT;
        lh_storage *s = lh_storage_open(g_dir, &err);
        lh_bucket *b = s ? lh_storage_bucket(s, LH_BUCKET_PRIMARY, &err) : NULL;
        if (b != NULL && lh_bucket_put(b, "crashed/obj", "data", 4, &err) == 0)
            _exit(0); /* the crash point did not fire */
        _exit(1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 99, "child exited %d", WEXITSTATUS(status));

    char put_dir[256];
    snprintf(put_dir, sizeof put_dir, "%s/tmp/put", g_dir);
    DIR *d = opendir(put_dir);
    cr_assert_not_null(d);
    int leftovers = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        leftovers += e->d_name[0] != '.';
    closedir(d);
    cr_expect_eq(leftovers, 1, "the dead put's temp file should be there before open");

    lh_err err = LH_ERR_INIT;
    lh_storage *s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(s);
    lh_bucket *b = lh_storage_bucket(s, LH_BUCKET_PRIMARY, &err);
    cr_expect_not(lh_bucket_exists(b, "crashed/obj"));
    d = opendir(put_dir);
    leftovers = 0;
    while ((e = readdir(d)) != NULL)
        leftovers += e->d_name[0] != '.';
    closedir(d);
    cr_expect_eq(leftovers, 0, "stale temp file survived open");
    char work[256];
    snprintf(work, sizeof work, "%s/tmp/work/%ld", g_dir, (long)pid);
    cr_expect_not(exists(work), "dead process's work dir survived open");
    lh_storage_close(s);
}
