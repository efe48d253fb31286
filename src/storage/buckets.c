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
        if (atomic_load(&s->buckets[i].removed))
            continue;
        else if (path_within(root, s->buckets[i].root) || path_within(s->buckets[i].root, root))
            return &s->buckets[i];
    return NULL;
}

static lh_bucket *find(lh_storage *s, const char *name)
{
    size_t n = s->n_buckets;
    for (size_t i = 0; i < n; i++)
        if (!atomic_load(&s->buckets[i].removed) && strcmp(s->buckets[i].name, name) == 0)
            return &s->buckets[i];
    return NULL;
}

lh_bucket *lh_storage__find(lh_storage *s, const char *name)
{
    return name ? find(s, name) : NULL;
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

/* Adds bucket name at the absolute, existing directory root (taken). The slot is filled
 * completely before the count covers it: readers of a running server take no lock. */
static int add(lh_storage *s, const char *name, char *root, bool rescue, lh_err *err)
{
    if (s->n_buckets == LH_STORAGE_MAX_BUCKETS) {
        free(root);
        return lh_err_set(err, LH_INVALID_ARGUMENT, "bucket '%s': more than %d buckets", name,
                          LH_STORAGE_MAX_BUCKETS);
    }
    lh_bucket *b = &s->buckets[s->n_buckets];
    b->storage = s;
    b->name = lh_xstrdup(name);
    b->root = root;
    b->put_dir = NULL;
    b->own_put_dir = false;
    b->rescue = rescue;
    b->configured = false;
    b->provisioned = false;
    atomic_store(&b->removed, false);
    if (choose_put_dir(s, b, err) != 0) {
        free(b->name);
        free(b->root);
        return -1;
    }
    if (rescue)
        atomic_store(&s->rescue, b);
    s->n_buckets++; /* publishes the slot */
    return 0;
}

int lh_storage__add_bucket(lh_storage *s, const char *name, const char *root, bool rescue,
                           lh_err *err)
{
    if (!name || !lh_name_valid(name))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "invalid bucket name '%.64s' (use [a-z_][a-z0-9_]{0,62})",
                          name ? name : "");
    if (find(s, name))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "bucket '%s' is configured twice", name);
    if (!root || !*root)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "bucket '%s' has an empty root", name);
    lh_bucket *r = atomic_load(&s->rescue);
    if (rescue && r)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "bucket '%s' cannot be a rescue bucket: "
                          "'%s' is already the rescue bucket", name, r->name);
    if (rescue && strcmp(name, LH_BUCKET_PRIMARY) == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "the primary bucket cannot be the rescue bucket");
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
    return add(s, name, abs, rescue, err);
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
        if (!lh_name_valid(de->d_name) || find(s, de->d_name) ||
            lh_storage__forgotten(s, de->d_name) || n == LH_STORAGE_MAX_BUCKETS)
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
            rc = add(s, names[i], root, false, err);
        }
        free(names[i]);
    }
    free(names);
    free(dir);
    return rc;
}

static bool is_rescue(const char *role)
{
    return role && strcmp(role, LH_BUCKET_ROLE_RESCUE) == 0;
}

int lh_storage__register_buckets(lh_storage *s, const lh_bucket_spec *specs, size_t n,
                                 lh_err *err)
{
    /* primary first, wherever the configuration lists it. */
    const char *primary_root = LH_CONFIG_BUCKET_DIR "/" LH_BUCKET_PRIMARY;
    const char *primary_role = NULL;
    for (size_t i = 0; i < n; i++)
        if (specs[i].name && strcmp(specs[i].name, LH_BUCKET_PRIMARY) == 0) {
            primary_root = specs[i].root;
            primary_role = specs[i].role;
        }
    if (lh_storage__add_bucket(s, LH_BUCKET_PRIMARY, primary_root, is_rescue(primary_role),
                               err) != 0)
        return -1;
    s->buckets[0].configured = true;
    for (size_t i = 0; i < n; i++) {
        if (specs[i].name && strcmp(specs[i].name, LH_BUCKET_PRIMARY) == 0)
            continue;
        if (specs[i].role && strcmp(specs[i].role, LH_BUCKET_ROLE_DATA) != 0 &&
            !is_rescue(specs[i].role))
            return lh_err_set(err, LH_INVALID_ARGUMENT, "bucket '%s': role must be \"data\" "
                              "or \"rescue\"", specs[i].name ? specs[i].name : "");
        if (lh_storage__add_bucket(s, specs[i].name, specs[i].root, is_rescue(specs[i].role),
                                   err) != 0)
            return -1;
        s->buckets[s->n_buckets - 1].configured = true;
    }
    if (lh_storage__load_registry(s, err) != 0)
        return -1;
    return add_discovered(s, err);
}

size_t lh_storage_bucket_count(const lh_storage *s)
{
    size_t n = s->n_buckets, live = 0;
    for (size_t i = 0; i < n; i++)
        live += !atomic_load(&s->buckets[i].removed);
    return live;
}

lh_bucket *lh_storage_bucket_at(lh_storage *s, size_t i)
{
    size_t n = s->n_buckets;
    for (size_t k = 0; k < n; k++) {
        if (atomic_load(&s->buckets[k].removed))
            continue;
        if (i-- == 0)
            return &s->buckets[k];
    }
    return NULL;
}

lh_bucket *lh_storage_rescue(lh_storage *s)
{
    return atomic_load(&s->rescue);
}

const char *lh_bucket_role(const lh_bucket *b)
{
    return b->rescue ? LH_BUCKET_ROLE_RESCUE : LH_BUCKET_ROLE_DATA;
}

int lh_storage__check_write(const lh_bucket *b, const char *key, lh_err *err)
{
    if (b->rescue && key && (lh_str_has_prefix(key, "datasets/") ||
                             lh_str_has_prefix(key, "_catalog/")))
        return lh_err_set(err, LH_CONFLICT, "bucket '%s' is the rescue bucket: it holds copies "
                          "of other buckets' objects, not datasets", b->name);
    return 0;
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
    size_t shown = 0;
    for (size_t i = 0; i < s->n_buckets; i++)
        if (!atomic_load(&s->buckets[i].removed))
            lh_buf_printf(&known, "%s%s", shown++ ? ", " : "", s->buckets[i].name);
    if (lh_name_valid(name))
        lh_err_set(err, LH_INVALID_ARGUMENT, "unknown bucket '%s': known buckets are %s", name,
                   known.data);
    else
        lh_err_set(err, LH_INVALID_ARGUMENT, "invalid bucket name (use [a-z_][a-z0-9_]{0,62}): "
                   "known buckets are %s", known.data);
    lh_buf_release(&known);
    return NULL;
}
