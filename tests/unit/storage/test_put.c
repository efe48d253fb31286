/* Unit tests for src/storage/put.c and read.c: round trips, streaming a large object with
 * bounded memory, atomic replace under concurrent readers, put_if_absent races, fault
 * injection (no object and no temp file after a failed write) and directory/file conflicts. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage.h"

static char g_dir[64];
static lh_storage *g_s;
static lh_bucket *g_b;

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/lh-storage-put-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    lh_err err = LH_ERR_INIT;
    g_s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(g_s, "%s", err.message);
    g_b = lh_storage_bucket(g_s, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(g_b, "%s", err.message);
}

static void teardown(void)
{
    lh_storage_close(g_s);
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_remove_tree(g_dir, &err), 0, "%s", err.message);
    unsetenv("LH_FAULT");
    lh_fault_reset();
}

/* Number of entries (other than . and ..) in tmp/put. */
static size_t temp_files(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/tmp/put", lh_storage_data_dir(g_s));
    DIR *d = opendir(p);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static char *read_key(const char *key, size_t *len)
{
    lh_err err = LH_ERR_INIT;
    char *d = lh_bucket_read_all(g_b, key, 1 << 30, len, &err);
    cr_assert_not_null(d, "read '%s': %s", key, err.message);
    return d;
}

TestSuite(storage_put, .init = setup, .fini = teardown);

Test(storage_put, round_trip)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(g_b, "a/b/c.json", "{\"x\":1}", 7, &err), 0, "%s", err.message);
    size_t len;
    char *d = read_key("a/b/c.json", &len);
    cr_expect_eq(len, 7);
    cr_expect_str_eq(d, "{\"x\":1}");
    free(d);

    uint64_t size = 0;
    int64_t mtime = 0;
    cr_expect_eq(lh_bucket_stat(g_b, "a/b/c.json", &size, &mtime, &err), 0);
    cr_expect_eq(size, 7);
    int64_t now = lh_now_ms();
    cr_expect(mtime > now - 60000 && mtime <= now + 1000, "mtime %lld", (long long)mtime);
    cr_expect(lh_bucket_exists(g_b, "a/b/c.json"));
    cr_expect_not(lh_bucket_exists(g_b, "a/b/nope"));

    int fd = lh_bucket_open_read(g_b, "a/b/c.json", &size, &err);
    cr_assert(fd >= 0, "%s", err.message);
    char buf[16];
    cr_expect_eq(read(fd, buf, sizeof buf), 7);
    close(fd);

    /* Empty objects are objects too. */
    cr_assert_eq(lh_bucket_put(g_b, "empty", NULL, 0, &err), 0, "%s", err.message);
    d = read_key("empty", &len);
    cr_expect_eq(len, 0);
    cr_expect_str_eq(d, "");
    free(d);

    cr_expect_eq(lh_bucket_delete(g_b, "a/b/c.json", &err), 0, "%s", err.message);
    cr_expect_not(lh_bucket_exists(g_b, "a/b/c.json"));
    cr_expect_eq(temp_files(), 0);
}

Test(storage_put, missing_keys_are_not_found)
{
    lh_err err = LH_ERR_INIT;
    uint64_t size;
    cr_expect_null(lh_bucket_read_all(g_b, "missing", 10, NULL, &err));
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_str_eq(err.message, "object 'missing' not found");
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_open_read(g_b, "no/such/key", &size, &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_stat(g_b, "missing", &size, NULL, &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_delete(g_b, "missing", &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
}

Test(storage_put, read_all_enforces_max)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(g_b, "k", "0123456789", 10, &err), 0);
    size_t len;
    char *d = lh_bucket_read_all(g_b, "k", 10, &len, &err);
    cr_expect_not_null(d);
    free(d);
    cr_expect_null(lh_bucket_read_all(g_b, "k", 9, &len, &err));
    cr_expect_eq(err.code, LH_TOO_LARGE);
}

/* xorshift64*: deterministic bytes for the large-object test. */
static void fill(uint64_t *state, unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        x *= 0x2545F4914F6CDD1DULL;
        memcpy(p + i, &x, n - i < 8 ? n - i : 8);
    }
}

Test(storage_put, streaming_large_object, .timeout = 240)
{
    const size_t piece = 1u << 20, pieces = 256; /* 256 MiB */
    unsigned char *buf = malloc(piece);
    cr_assert_not_null(buf);
    lh_err err = LH_ERR_INIT;
    lh_put *p = lh_bucket_put_begin(g_b, "big/object.bin", &err);
    cr_assert_not_null(p, "%s", err.message);
    lh_sha256 *h = lh_sha256_new();
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < pieces; i++) {
        fill(&seed, buf, piece);
        lh_sha256_update(h, buf, piece);
        cr_assert_eq(lh_put_write(p, buf, piece, &err), 0, "%s", err.message);
    }
    cr_expect_eq(lh_put_size(p), (uint64_t)piece * pieces);
    /* Not visible before commit. */
    cr_expect_not(lh_bucket_exists(g_b, "big/object.bin"));
    cr_assert_eq(lh_put_commit(p, &err), 0, "%s", err.message);
    char want[65], got[65];
    lh_sha256_final_hex(h, want);

    uint64_t size = 0;
    int fd = lh_bucket_open_read(g_b, "big/object.bin", &size, &err);
    cr_assert(fd >= 0, "%s", err.message);
    cr_expect_eq(size, (uint64_t)piece * pieces);
    h = lh_sha256_new();
    ssize_t r;
    while ((r = read(fd, buf, piece)) > 0)
        lh_sha256_update(h, buf, (size_t)r);
    close(fd);
    lh_sha256_final_hex(h, got);
    cr_expect_str_eq(got, want);
    free(buf);

    /* The object streamed through a file: peak memory stayed far below its size. */
    struct rusage ru;
    cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
    cr_expect(ru.ru_maxrss < 160 * 1024, "max rss %ld KiB", ru.ru_maxrss);
    cr_expect_eq(temp_files(), 0);
}

typedef struct reader_arg {
    atomic_bool *stop;
    size_t bad;
    size_t reads;
} reader_arg;

static void *reader(void *arg)
{
    reader_arg *a = arg;
    while (!atomic_load(a->stop)) {
        lh_err err = LH_ERR_INIT;
        size_t len;
        char *d = lh_bucket_read_all(g_b, "atomic", 1 << 20, &len, &err);
        if (d == NULL) {
            a->bad++;
            continue;
        }
        /* Each version is one byte value repeated; its length says which. */
        bool ok = (len == 1000 || len == 50000) && len > 0;
        for (size_t i = 1; ok && i < len; i++)
            ok = d[i] == d[0];
        if (ok)
            ok = (len == 1000) == (d[0] == 'A');
        if (!ok)
            a->bad++;
        a->reads++;
        free(d);
    }
    return NULL;
}

Test(storage_put, replace_is_atomic, .timeout = 60)
{
    static char va[1000], vb[50000];
    memset(va, 'A', sizeof va);
    memset(vb, 'B', sizeof vb);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(g_b, "atomic", va, sizeof va, &err), 0);

    /* A reader holding the old object keeps seeing the old bytes. */
    uint64_t size;
    int fd = lh_bucket_open_read(g_b, "atomic", &size, &err);
    cr_assert(fd >= 0);
    cr_assert_eq(lh_bucket_put(g_b, "atomic", vb, sizeof vb, &err), 0);
    char buf[2000];
    cr_expect_eq(read(fd, buf, sizeof buf), (ssize_t)sizeof va);
    cr_expect_eq(buf[0], 'A');
    close(fd);

    atomic_bool stop = false;
    reader_arg ra = {.stop = &stop};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, reader, &ra), 0);
    for (int i = 0; i < 200; i++) {
        const char *v = (i % 2) ? va : vb;
        size_t n = (i % 2) ? sizeof va : sizeof vb;
        cr_assert_eq(lh_bucket_put(g_b, "atomic", v, n, &err), 0, "%s", err.message);
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    cr_expect_eq(ra.bad, 0, "%zu torn or failed reads of %zu", ra.bad, ra.reads);
    cr_expect_gt(ra.reads, 0);
    cr_expect_eq(temp_files(), 0);
}

#define RACERS 8

typedef struct racer {
    pthread_barrier_t *barrier;
    int id;
    int rc;
    lh_code code;
    char content[65536];
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    lh_err err = LH_ERR_INIT;
    pthread_barrier_wait(r->barrier);
    r->rc = lh_bucket_put_if_absent(g_b, "_delta_log/00000000000000000001.json", r->content,
                                    sizeof r->content, &err);
    r->code = err.code;
    return NULL;
}

Test(storage_put, put_if_absent_race_has_one_winner, .timeout = 60)
{
    for (int round = 0; round < 10; round++) {
        static racer rs[RACERS];
        pthread_t ts[RACERS];
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, RACERS);
        for (int i = 0; i < RACERS; i++) {
            rs[i].barrier = &bar;
            rs[i].id = i;
            rs[i].rc = 99;
            rs[i].code = LH_OK;
            memset(rs[i].content, 'a' + i, sizeof rs[i].content);
            cr_assert_eq(pthread_create(&ts[i], NULL, race, &rs[i]), 0);
        }
        int winner = -1, wins = 0;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(ts[i], NULL);
            if (rs[i].rc == 0) {
                wins++;
                winner = i;
            } else {
                cr_expect_eq(rs[i].rc, -1);
                cr_expect_eq(rs[i].code, LH_CONFLICT, "racer %d got code %d", i,
                             (int)rs[i].code);
            }
        }
        pthread_barrier_destroy(&bar);
        cr_assert_eq(wins, 1, "round %d: %d winners", round, wins);
        size_t len;
        char *d = read_key("_delta_log/00000000000000000001.json", &len);
        cr_expect_eq(len, sizeof rs[winner].content);
        cr_expect(memcmp(d, rs[winner].content, len) == 0, "content is not the winner's");
        free(d);
        cr_expect_eq(temp_files(), 0);
        lh_err err = LH_ERR_INIT;
        cr_assert_eq(lh_bucket_delete(g_b, "_delta_log/00000000000000000001.json", &err), 0);
    }
}

Test(storage_put, put_if_absent_conflict_keeps_original)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put_if_absent(g_b, "v/1", "first", 5, &err), 0, "%s", err.message);
    cr_expect_eq(lh_bucket_put_if_absent(g_b, "v/1", "second", 6, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_str_eq(err.message, "object 'v/1' already exists");
    size_t len;
    char *d = read_key("v/1", &len);
    cr_expect_str_eq(d, "first");
    free(d);
    cr_expect_eq(temp_files(), 0);
}

Test(storage_put, fault_in_streaming_write_leaves_nothing)
{
    setenv("LH_FAULT", "write:2", 1);
    lh_fault_reset();
    lh_err err = LH_ERR_INIT;
    lh_put *p = lh_bucket_put_begin(g_b, "faulty/obj", &err);
    cr_assert_not_null(p);
    cr_expect_eq(lh_put_write(p, "one", 3, &err), 0);
    cr_expect_eq(temp_files(), 1);
    cr_expect_eq(lh_put_write(p, "two", 3, &err), -1);
    cr_expect_eq(err.code, LH_IO_ERROR);
    cr_expect(strncmp(err.message, "cannot write 'faulty/obj': ", 27) == 0, "%s", err.message);
    /* The temp file is gone at once, and later calls keep failing. */
    cr_expect_eq(temp_files(), 0);
    cr_expect_eq(lh_put_write(p, "three", 5, &err), -1);
    cr_expect_eq(lh_put_commit(p, &err), -1);
    cr_expect_eq(err.code, LH_IO_ERROR);
    cr_expect_not(lh_bucket_exists(g_b, "faulty/obj"));
    cr_expect_eq(temp_files(), 0);
}

Test(storage_put, fault_in_buffer_put_leaves_nothing)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(g_b, "keep", "old", 3, &err), 0);
    setenv("LH_FAULT", "write:1", 1);
    lh_fault_reset();
    cr_expect_eq(lh_bucket_put(g_b, "keep", "new", 3, &err), -1);
    cr_expect_eq(err.code, LH_IO_ERROR);
    cr_expect_eq(lh_bucket_put_if_absent(g_b, "fresh", "x", 1, &err), 0); /* write 2 is fine */
    setenv("LH_FAULT", "write:1", 1);
    lh_fault_reset();
    cr_expect_eq(lh_bucket_put_if_absent(g_b, "fresh2", "x", 1, &err), -1);
    cr_expect_not(lh_bucket_exists(g_b, "fresh2"));
    size_t len;
    char *d = read_key("keep", &len);
    cr_expect_str_eq(d, "old"); /* the failed replace did not touch the object */
    free(d);
    cr_expect_eq(temp_files(), 0);
}

Test(storage_put, abort_drops_temp_file)
{
    lh_err err = LH_ERR_INIT;
    lh_put *p = lh_bucket_put_begin(g_b, "aborted", &err);
    cr_assert_not_null(p);
    cr_assert_eq(lh_put_write(p, "data", 4, &err), 0);
    cr_expect_eq(temp_files(), 1);
    lh_put_abort(p);
    lh_put_abort(NULL);
    cr_expect_eq(temp_files(), 0);
    cr_expect_not(lh_bucket_exists(g_b, "aborted"));
}

Test(storage_put, temp_names_carry_pid)
{
    lh_err err = LH_ERR_INIT;
    lh_put *p = lh_bucket_put_begin(g_b, "x", &err);
    cr_assert_not_null(p);
    char dir[128], prefix[32];
    snprintf(dir, sizeof dir, "%s/tmp/put", lh_storage_data_dir(g_s));
    snprintf(prefix, sizeof prefix, "%ld.", (long)getpid());
    DIR *d = opendir(dir);
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        cr_expect(strncmp(e->d_name, prefix, strlen(prefix)) == 0, "%s", e->d_name);
        cr_expect_eq(strlen(e->d_name), strlen(prefix) + 36);
        seen++;
    }
    closedir(d);
    cr_expect_eq(seen, 1);
    lh_put_abort(p);
}

Test(storage_put, directory_and_file_conflicts)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(g_b, "a/b", "x", 1, &err), 0);

    /* "a" is a directory: not an object, and nothing can be put there. */
    uint64_t size;
    cr_expect_null(lh_bucket_read_all(g_b, "a", 10, NULL, &err));
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_eq(lh_bucket_open_read(g_b, "a", &size, &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_eq(lh_bucket_stat(g_b, "a", &size, NULL, &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_not(lh_bucket_exists(g_b, "a"));
    cr_expect_eq(lh_bucket_delete(g_b, "a", &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_put(g_b, "a", "y", 1, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT, "%s", err.message);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_put_if_absent(g_b, "a", "y", 1, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT, "%s", err.message);

    /* "a/b" is a file: nothing can be put under it. */
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_put(g_b, "a/b/c", "z", 1, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT, "%s", err.message);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_put(g_b, "a/b/c/d/e", "z", 1, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT, "%s", err.message);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_put_if_absent(g_b, "a/b/c", "z", 1, &err), -1);
    cr_expect_eq(err.code, LH_CONFLICT, "%s", err.message);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_stat(g_b, "a/b/c", &size, NULL, &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    err = (lh_err)LH_ERR_INIT;
    cr_expect_eq(lh_bucket_delete(g_b, "a/b/c", &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);

    /* Nothing changed and nothing was left behind. */
    size_t len;
    char *d = read_key("a/b", &len);
    cr_expect_str_eq(d, "x");
    free(d);
    cr_expect_eq(temp_files(), 0);
}

Test(storage_put, symlinks_and_fifos_are_not_objects)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_bucket_put(g_b, "real", "secret", 6, &err), 0);
    char p[PATH_MAX], q[PATH_MAX];
    snprintf(p, sizeof p, "%s/link", lh_bucket_root(g_b));
    cr_assert_eq(symlink("/etc/passwd", p), 0);
    snprintf(q, sizeof q, "%s/fifo", lh_bucket_root(g_b));
    cr_assert_eq(mkfifo(q, 0600), 0);
    uint64_t size;
    cr_expect_eq(lh_bucket_open_read(g_b, "link", &size, &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_eq(lh_bucket_open_read(g_b, "fifo", &size, &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_not(lh_bucket_exists(g_b, "link"));
    cr_expect_eq(lh_bucket_delete(g_b, "fifo", &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
}
