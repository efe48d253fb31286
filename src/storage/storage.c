/* storage: opening a data directory. Creates the layout (buckets/, tmp/put, tmp/work/<pid>),
 * registers the buckets (buckets.c), and removes the temp and scratch files of processes that
 * died. Design notes (layout, atomicity, concurrency) are in
 * docs/internals/storage.md. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage_int.h"

/* Parses the leading decimal pid of a temp or scratch name ("1234.<uuid>" or "1234"). Returns
 * the pid, or 0 when the name does not start with one followed by end (dir) or '.' (file). */
static pid_t name_pid(const char *name, bool want_dot)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(name, &end, 10);
    if (errno != 0 || end == name || name[0] < '1' || name[0] > '9' || v <= 0 || v > INT_MAX)
        return 0;
    if (want_dot ? *end != '.' : *end != '\0')
        return 0;
    return (pid_t)v;
}

/* True only when the process is known to be gone. EPERM means it exists under another
 * user, so its files are live. */
static bool pid_dead(pid_t pid)
{
    return kill(pid, 0) == -1 && errno == ESRCH;
}

/* Removes put temp files (is_work = false) or work directories (is_work = true) whose owner
 * process no longer exists. Failures are logged and skipped: a leftover temp file wastes
 * space but never corrupts an object. */
static void sweep_dead(const char *dir, bool is_work)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        LH_LOG_WARN("storage", "cannot scan '%s': %s", dir, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        pid_t pid = name_pid(e->d_name, !is_work);
        if (pid == 0 || pid == getpid() || !pid_dead(pid))
            continue;
        char *path = lh_xasprintf("%s/%s", dir, e->d_name);
        lh_err err = LH_ERR_INIT;
        int rc = is_work ? lh_remove_tree(path, &err) : unlink(path);
        if (rc != 0 && is_work)
            LH_LOG_WARN("storage", "cannot remove stale '%s': %s", path, err.message);
        else if (rc != 0 && errno != ENOENT)
            LH_LOG_WARN("storage", "cannot remove stale '%s': %s", path, strerror(errno));
        else
            LH_LOG_DEBUG("storage", "removed stale '%s' pid=%ld", path, (long)pid);
        free(path);
    }
    closedir(d);
}

static int make_dir(const char *data_dir, const char *rel, char **out, lh_err *err)
{
    char *p = lh_xasprintf("%s/%s", data_dir, rel);
    if (lh_mkdirs(p, err) != 0) {
        free(p);
        return -1;
    }
    if (out != NULL)
        *out = p;
    else
        free(p);
    return 0;
}

lh_storage *lh_storage_open_with_secrets(const char *data_dir, const lh_bucket_spec *specs,
                                         size_t n, const char *secrets_file, lh_err *err)
{
    if (data_dir == NULL || data_dir[0] == '\0')
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "storage: empty data directory"), NULL);
    if (n > 0 && specs == NULL)
        return (lh_err_set(err, LH_INVALID_ARGUMENT, "storage: no bucket list"), NULL);
    if (lh_mkdirs(data_dir, err) != 0)
        return (lh_err_prefix(err, "cannot open data directory '%s': ", data_dir), NULL);
    /* Bucket roots must be absolute: they are handed to DuckDB as allowed directories and
     * must not change meaning if the process changes its working directory. */
    char *abs = realpath(data_dir, NULL);
    if (abs == NULL) {
        int e = errno;
        return (lh_err_errno(err, e, "cannot open data directory '%s'", data_dir), NULL);
    }
    lh_storage *s = lh_xcalloc(1, sizeof *s);
    s->data_dir = abs;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->journal_lock, NULL);
    if (secrets_file != NULL && secrets_file[0] != '\0')
        s->secrets_path = secrets_file[0] == '/' ? lh_xstrdup(secrets_file)
                                                 : lh_xasprintf("%s/%s", abs, secrets_file);
    char pid_dir[64];
    snprintf(pid_dir, sizeof pid_dir, "tmp/work/%ld", (long)getpid());
    if (make_dir(abs, "buckets", NULL, err) != 0 ||
        make_dir(abs, "tmp/put", &s->put_dir, err) != 0 ||
        make_dir(abs, pid_dir, &s->work_dir, err) != 0 ||
        lh_storage__load_secrets(s, err) != 0 ||
        lh_storage__register_buckets(s, specs, n, err) != 0) {
        lh_err_prefix(err, "cannot open data directory '%s': ", data_dir);
        lh_storage_close(s);
        return NULL;
    }
    char *work_parent = lh_xasprintf("%s/tmp/work", abs);
    sweep_dead(s->put_dir, false);
    for (size_t i = 0; i < s->n_buckets; i++)
        if (s->buckets[i].own_put_dir)
            sweep_dead(s->buckets[i].put_dir, false);
    sweep_dead(work_parent, true);
    free(work_parent);
    return s;
}

lh_storage *lh_storage_open_with(const char *data_dir, const lh_bucket_spec *specs, size_t n,
                                 lh_err *err)
{
    return lh_storage_open_with_secrets(data_dir, specs, n, NULL, err);
}

lh_storage *lh_storage_open(const char *data_dir, lh_err *err)
{
    return lh_storage_open_with(data_dir, NULL, 0, err);
}

void lh_storage_close(lh_storage *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_buckets; i++) {
        free(s->buckets[i].name);
        free(s->buckets[i].root);
        if (s->buckets[i].own_put_dir)
            free(s->buckets[i].put_dir);
    }
    json_decref(s->registry);
    json_decref(s->secrets);
    free(s->secrets_path);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->journal_lock);
    free(s->data_dir);
    free(s->put_dir);
    free(s->work_dir);
    free(s);
}

const char *lh_storage_data_dir(const lh_storage *s)
{
    return s->data_dir;
}

const char *lh_storage_work_dir(const lh_storage *s)
{
    return s->work_dir;
}

char *lh_storage_scratch_path(const lh_storage *s, const char *suffix)
{
    char uuid[37];
    lh_uuid4(uuid);
    return lh_xasprintf("%s/%s%s", s->work_dir, uuid, suffix != NULL ? suffix : "");
}

const char *lh_bucket_name(const lh_bucket *b)
{
    return b->name;
}

const char *lh_bucket_root(const lh_bucket *b)
{
    return b->root;
}
