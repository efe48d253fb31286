/* storage buckets: the registry built at open. Configured buckets come first (primary, then
 * the configuration's order), each root resolved against the data dir, created and made
 * absolute; then every other directory under <data>/buckets/ with a valid name. Roots may not
 * overlap (one inside another would show one bucket's objects in the other). Each bucket gets
 * a put dir on its own filesystem, so a put's final rename never crosses filesystems.
 * Design: docs/internals/storage.md, docs/decisions/0003-buckets.md. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/storage_int.h"

/* Whether a is b or lies inside it (both absolute, no trailing '/'). */
static bool path_within(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/' || strcmp(b, "/") == 0);
}

/* The registered bucket whose root overlaps root (one holds the other), or NULL. */
static const lh_bucket *overlapping(const lh_storage *s, const char *root)
{
    for (size_t i = 0; i < s->n_buckets; i++)
        if (path_within(root, s->buckets[i].root) || path_within(s->buckets[i].root, root))
            return &s->buckets[i];
    return NULL;
}

static lh_bucket *find(lh_storage *s, const char *name)
{
    for (size_t i = 0; i < s->n_buckets; i++)
        if (strcmp(s->buckets[i].name, name) == 0)
            return &s->buckets[i];
    return NULL;
}

/* Picks the put dir of b: the shared <data>/tmp/put when the root is inside the data dir on
 * the same device (rename works), else <root>/.lakehouse-tmp, created here. */
static int choose_put_dir(lh_storage *s, lh_bucket *b, lh_err *err)
{
    struct stat rs, ps;
    if (stat(b->root, &rs) != 0 || stat(s->put_dir, &ps) != 0) {
        int e = errno;
        return lh_err_errno(err, e, "bucket '%s': cannot stat '%s'", b->name, b->root);
    }
    if (path_within(b->root, s->data_dir) && rs.st_dev == ps.st_dev) {
        b->put_dir = s->put_dir;
        b->own_put_dir = false;
        return 0;
    }
    char *dir = lh_xasprintf("%s/" LH_STORAGE_TMP_DIR, b->root);
    if (lh_mkdirs(dir, err) != 0) {
        free(dir);
        return lh_err_prefix(err, "bucket '%s': ", b->name);
    }
    b->put_dir = dir;
    b->own_put_dir = true;
    return 0;
}

/* Adds bucket name at the absolute, existing directory root (taken). */
static int add(lh_storage *s, const char *name, char *root, lh_err *err)
{
    if (s->n_buckets == LH_STORAGE_MAX_BUCKETS) {
        free(root);
        return lh_err_set(err, LH_INVALID_ARGUMENT, "bucket '%s': more than %d buckets", name,
                          LH_STORAGE_MAX_BUCKETS);
    }
    lh_bucket *b = &s->buckets[s->n_buckets];
    *b = (lh_bucket){.storage = s, .name = lh_xstrdup(name), .root = root};
    s->n_buckets++; /* counted now, so close frees it whatever happens next */
    return choose_put_dir(s, b, err);
}

/* Resolves, creates and registers one configured bucket. */
static int add_configured(lh_storage *s, const char *name, const char *root, lh_err *err)
{
    if (!name || !lh_name_valid(name))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "invalid bucket name '%.64s' (use [a-z_][a-z0-9_]{0,62})",
                          name ? name : "");
    if (find(s, name))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "bucket '%s' is configured twice", name);
    if (!root || !*root)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "bucket '%s' has an empty root", name);
    char *path = root[0] == '/' ? lh_xstrdup(root) : lh_xasprintf("%s/%s", s->data_dir, root);
    if (lh_mkdirs(path, err) != 0) {
        free(path);
        return lh_err_prefix(err, "bucket '%s': ", name);
    }
    /* Absolute and canonical: the engine is handed these as allowed directories, and the
     * overlap check compares them as strings. */
    char *abs = realpath(path, NULL);
    int e = errno;
    free(path);
    if (!abs)
        return lh_err_errno(err, e, "bucket '%s': cannot resolve root '%s'", name, root);
    const lh_bucket *o = overlapping(s, abs);
    if (o) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "bucket '%s' (root '%s') overlaps bucket '%s' "
                   "(root '%s'): bucket roots must not contain each other", name, abs,
                   o->name, o->root);
        free(abs);
        return -1;
    }
    return add(s, name, abs, err);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Directories under <data>/buckets/ that no configured bucket claims, sorted by name, so the
 * registry's order does not depend on readdir. */
static int add_discovered(lh_storage *s, lh_err *err)
{
    char *dir = lh_xasprintf("%s/" "buckets", s->data_dir);
    DIR *d = opendir(dir);
    if (d == NULL) {
        int e = errno;
        lh_err_errno(err, e, "cannot open '%s'", dir);
        free(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!lh_name_valid(de->d_name) || find(s, de->d_name) || n == LH_STORAGE_MAX_BUCKETS)
            continue;
        names = lh_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = lh_xstrdup(de->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_name);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char *root = lh_xasprintf("%s/%s", dir, names[i]);
        struct stat st;
        if (rc != 0 || lstat(root, &st) != 0 || !S_ISDIR(st.st_mode) || overlapping(s, root)) {
            free(root); /* not a directory, or a configured bucket's root already */
        } else if (s->n_buckets == LH_STORAGE_MAX_BUCKETS) {
            LH_LOG_WARN("storage", "ignoring bucket '%s': more than %d buckets", names[i],
                        LH_STORAGE_MAX_BUCKETS);
            free(root);
        } else {
            rc = add(s, names[i], root, err);
        }
        free(names[i]);
    }
    free(names);
    free(dir);
    return rc;
}

int lh_storage__register_buckets(lh_storage *s, const lh_bucket_spec *specs, size_t n,
                                 lh_err *err)
{
    /* primary first, wherever the configuration lists it. */
    const char *primary_root = LH_CONFIG_BUCKET_DIR "/" LH_BUCKET_PRIMARY;
    for (size_t i = 0; i < n; i++)
        if (specs[i].name && strcmp(specs[i].name, LH_BUCKET_PRIMARY) == 0)
            primary_root = specs[i].root;
    if (add_configured(s, LH_BUCKET_PRIMARY, primary_root, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (specs[i].name && strcmp(specs[i].name, LH_BUCKET_PRIMARY) == 0)
            continue;
        if (add_configured(s, specs[i].name, specs[i].root, err) != 0)
            return -1;
    }
    return add_discovered(s, err);
}

size_t lh_storage_bucket_count(const lh_storage *s)
{
    return s->n_buckets;
}

lh_bucket *lh_storage_bucket_at(lh_storage *s, size_t i)
{
    return i < s->n_buckets ? &s->buckets[i] : NULL;
}

lh_bucket *lh_storage_bucket(lh_storage *s, const char *name, lh_err *err)
{
    lh_bucket *b = name ? find(s, name) : NULL;
    if (b)
        return b;
    /* Only a valid name is echoed back; anything else could carry control bytes. */
    if (name != NULL && lh_name_valid(name))
        return (lh_err_set(err, LH_NOT_FOUND, "bucket '%s' not found", name), NULL);
    return (lh_err_set(err, LH_NOT_FOUND, "bucket not found"), NULL);
}

lh_bucket *lh_storage_bucket_pick(lh_storage *s, const char *name, lh_err *err)
{
    if (!name || !*name)
        name = LH_BUCKET_PRIMARY;
    lh_bucket *b = find(s, name);
    if (b)
        return b;
    lh_buf known;
    lh_buf_init(&known);
    for (size_t i = 0; i < s->n_buckets; i++)
        lh_buf_printf(&known, "%s%s", i ? ", " : "", s->buckets[i].name);
    if (lh_name_valid(name))
        lh_err_set(err, LH_INVALID_ARGUMENT, "unknown bucket '%s': known buckets are %s", name,
                   known.data);
    else
        lh_err_set(err, LH_INVALID_ARGUMENT, "invalid bucket name (use [a-z_][a-z0-9_]{0,62}): "
                   "known buckets are %s", known.data);
    lh_buf_release(&known);
    return NULL;
}
