/* Unit tests for src/storage/buckets.c: configured buckets (absolute, relative, on another
 * filesystem), their order, overlap and name checks, the per-bucket temp dir that listings
 * skip and keys cannot reach, atomic puts and adopts across filesystems, and
 * lh_storage_bucket_pick's error. */
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
/* A bucket root on another filesystem (tmpfs) when /dev/shm exists, else under /tmp. */
static char g_far[64];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/lh-buckets-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    struct stat st;
    snprintf(g_far, sizeof g_far, "%s/lh-far-XXXXXX",
             stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp");
    cr_assert_not_null(mkdtemp(g_far));
}

static void teardown(void)
{
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_remove_tree(g_dir, &err), 0, "%s", err.message);
    cr_expect_eq(lh_remove_tree(g_far, &err), 0, "%s", err.message);
}

TestSuite(buckets, .init = setup, .fini = teardown);

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static lh_storage *open_specs(const lh_bucket_spec *specs, size_t n)
{
    lh_err err = LH_ERR_INIT;
    lh_storage *s = lh_storage_open_with(g_dir, specs, n, &err);
    cr_assert_not_null(s, "%s", err.message);
    return s;
}

static void expect_open_error(const lh_bucket_spec *specs, size_t n, const char *needle)
{
    lh_err err = LH_ERR_INIT;
    lh_storage *s = lh_storage_open_with(g_dir, specs, n, &err);
    cr_assert_null(s, "opened although '%s' was expected", needle);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT, "%s", err.message);
    cr_expect(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'", err.message,
              needle);
}

Test(buckets, configured_buckets_in_order_with_absolute_roots)
{
    char far[128];
    snprintf(far, sizeof far, "%s/archive", g_far);
    lh_bucket_spec specs[] = {{"archive", far, NULL}, {"cold", "cold/store", NULL}};
    /* A directory under buckets/ that nobody configured is still a bucket, after them. */
    char stray[256];
    snprintf(stray, sizeof stray, "%s/buckets/aaa", g_dir);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_mkdirs(stray, &err), 0);
    lh_storage *s = open_specs(specs, 2);
    cr_assert_eq(lh_storage_bucket_count(s), 4);
    const char *want[] = {"primary", "archive", "cold", "aaa"};
    for (size_t i = 0; i < 4; i++)
        cr_expect_str_eq(lh_bucket_name(lh_storage_bucket_at(s, i)), want[i]);
    cr_expect_null(lh_storage_bucket_at(s, 4));
    char *real_far = realpath(far, NULL);
    cr_expect_str_eq(lh_bucket_root(lh_storage_bucket_at(s, 1)), real_far);
    char cold[256];
    snprintf(cold, sizeof cold, "%s/cold/store", lh_storage_data_dir(s));
    cr_expect_str_eq(lh_bucket_root(lh_storage_bucket_at(s, 2)), cold);
    /* The far bucket stages puts in its own temp dir; one inside the data dir does not. */
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/.lakehouse-tmp", real_far);
    cr_expect(exists(p));
    snprintf(p, sizeof p, "%s/.lakehouse-tmp", cold);
    cr_expect_not(exists(p));
    free(real_far);
    lh_storage_close(s);
}

Test(buckets, primary_may_have_its_own_root)
{
    char root[128];
    snprintf(root, sizeof root, "%s/prim", g_far);
    lh_bucket_spec specs[] = {{"extra", "x", NULL}, {"primary", root, NULL}};
    lh_storage *s = open_specs(specs, 2);
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(s, "primary", &err);
    cr_assert_not_null(b);
    char *real = realpath(root, NULL);
    cr_expect_str_eq(lh_bucket_root(b), real);
    cr_expect_str_eq(lh_bucket_name(lh_storage_bucket_at(s, 0)), "primary");
    cr_expect_str_eq(lh_bucket_name(lh_storage_bucket_at(s, 1)), "extra");
    free(real);
    lh_storage_close(s);
}

Test(buckets, bad_configurations_are_refused)
{
    char p[256];
    snprintf(p, sizeof p, "%s/buckets/primary/inner", g_dir);
    lh_bucket_spec inside[] = {{"inner", p, NULL}};
    expect_open_error(inside, 1, "overlaps bucket 'primary'");
    lh_bucket_spec holds[] = {{"all", ".", NULL}};
    expect_open_error(holds, 1, "bucket roots must not contain each other");
    lh_bucket_spec same[] = {{"a", "shared", NULL}, {"b", "shared", NULL}};
    expect_open_error(same, 2, "bucket 'b'");
    lh_bucket_spec twice[] = {{"a", "one", NULL}, {"a", "two", NULL}};
    expect_open_error(twice, 2, "bucket 'a' is configured twice");
    lh_bucket_spec bad[] = {{"Bad-Name", "x", NULL}};
    expect_open_error(bad, 1, "invalid bucket name");
    lh_bucket_spec empty[] = {{"e", "", NULL}};
    expect_open_error(empty, 1, "empty root");
}

Test(buckets, pick_names_the_known_buckets)
{
    lh_bucket_spec specs[] = {{"archive", "arch", NULL}};
    lh_storage *s = open_specs(specs, 1);
    lh_err err = LH_ERR_INIT;
    cr_expect_str_eq(lh_bucket_name(lh_storage_bucket_pick(s, NULL, &err)), "primary");
    cr_expect_str_eq(lh_bucket_name(lh_storage_bucket_pick(s, "", &err)), "primary");
    cr_expect_str_eq(lh_bucket_name(lh_storage_bucket_pick(s, "archive", &err)), "archive");
    cr_expect_null(lh_storage_bucket_pick(s, "nope", &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect_str_eq(err.message, "unknown bucket 'nope': known buckets are primary, archive");
    cr_expect_null(lh_storage_bucket_pick(s, "../x\r\nEvil: 1", &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect(strchr(err.message, '\n') == NULL && strstr(err.message, "Evil") == NULL);
    /* lh_storage_bucket keeps its not_found. */
    cr_expect_null(lh_storage_bucket(s, "nope", &err));
    cr_expect_eq(err.code, LH_NOT_FOUND);
    lh_storage_close(s);
}

/* Puts, reads, links, lists and deletes work alike in a bucket on another filesystem; its
 * temp dir is neither listed nor reachable by a key, and nothing is left in it. */
Test(buckets, far_bucket_objects_round_trip)
{
    lh_bucket_spec specs[] = {{"far", g_far, NULL}};
    lh_storage *s = open_specs(specs, 1);
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(s, "far", &err);
    cr_assert_not_null(b);
    cr_assert_eq(lh_bucket_put(b, "a/b.txt", "hello", 5, &err), 0, "%s", err.message);
    cr_assert_eq(lh_bucket_put_if_absent(b, "a/c.txt", "x", 1, &err), 0, "%s", err.message);
    cr_expect_eq(lh_bucket_put_if_absent(b, "a/c.txt", "y", 1, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_assert_eq(lh_bucket_link(b, "a/b.txt", "a/d.txt", &err), 0, "%s", err.message);
    size_t len = 0;
    char *got = lh_bucket_read_all(b, "a/d.txt", 100, &len, &err);
    cr_assert_not_null(got, "%s", err.message);
    cr_expect_str_eq(got, "hello");
    free(got);

    /* Adopting a scratch file (on the data dir's filesystem) copies it in atomically. */
    char *scratch = lh_storage_scratch_path(s, ".bin");
    FILE *f = fopen(scratch, "w");
    cr_assert_not_null(f);
    fputs("scratch bytes", f);
    fclose(f);
    cr_assert_eq(lh_bucket_adopt_file(b, "adopted.bin", scratch, &err), 0, "%s", err.message);
    cr_expect_not(exists(scratch));
    free(scratch);
    got = lh_bucket_read_all(b, "adopted.bin", 100, &len, &err);
    cr_assert_not_null(got);
    cr_expect_str_eq(got, "scratch bytes");
    free(got);

    lh_object_info *objs = NULL;
    size_t n = 0;
    cr_assert_eq(lh_bucket_list(b, "", 100, &objs, &n, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(n, 4);
    const char *keys[] = {"a/b.txt", "a/c.txt", "a/d.txt", "adopted.bin"};
    for (size_t i = 0; i < n; i++)
        cr_expect_str_eq(objs[i].key, keys[i]);
    lh_object_infos_free(objs, n);

    cr_expect_eq(lh_bucket_put(b, ".lakehouse-tmp/x", "z", 1, &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect_str_eq(err.message, "invalid key: '.lakehouse-tmp' is reserved");
    cr_expect_eq(lh_storage_key_check(".lakehouse-tmp", 14, &err), -1);
    cr_expect_eq(lh_storage_key_check(".lakehouse-tmpx/y", 17, &err), 0);

    /* Every temp file is gone. */
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.lakehouse-tmp", lh_bucket_root(b));
    DIR *d = opendir(tmp);
    cr_assert_not_null(d);
    int left = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        left += e->d_name[0] != '.';
    closedir(d);
    cr_expect_eq(left, 0);
    cr_expect_eq(lh_bucket_delete(b, "a/b.txt", &err), 0);
    lh_storage_close(s);
}

/* A process that dies mid-put into a far bucket leaves its temp file in the bucket's temp
 * dir; the next open removes it. */
Test(buckets, dead_puts_in_a_far_bucket_are_swept)
{
    lh_bucket_spec specs[] = {{"far", g_far, NULL}};
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        setenv("LH_FAULT", "crash:storage_put_before_rename", 1);
        lh_fault_reset();
        lh_err err = LH_ERR_INIT;
        lh_storage *s = lh_storage_open_with(g_dir, specs, 1, &err);
        lh_bucket *b = s ? lh_storage_bucket(s, "far", &err) : NULL;
        if (b != NULL && lh_bucket_put(b, "obj", "data", 4, &err) == 0)
            _exit(0);
        _exit(1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 99);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.lakehouse-tmp", g_far);
    int before = 0, after = 0;
    DIR *d = opendir(tmp);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        before += e->d_name[0] != '.';
    closedir(d);
    cr_expect_eq(before, 1);
    lh_storage *s = open_specs(specs, 1);
    cr_expect_not(lh_bucket_exists(lh_storage_bucket(s, "far", NULL), "obj"));
    d = opendir(tmp);
    while ((e = readdir(d)) != NULL)
        after += e->d_name[0] != '.';
    closedir(d);
    cr_expect_eq(after, 0);
    lh_storage_close(s);
}
