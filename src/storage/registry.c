/* storage registry: buckets provisioned and forgotten at run time. Their definitions live in
 * <data>/_buckets.json ({"buckets":[{"name","root","role"}],"forgotten":["name"]}), rewritten
 * atomically on every change and merged with the configuration at open (the configuration
 * wins a name both declare). A forgotten bucket keeps its data on disk; its slot stays
 * allocated until close so pointers held by in-flight requests stay valid. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/storage_int.h"

#define REGISTRY_FILE "_buckets.json"
#define REGISTRY_MAX (1024 * 1024)

static char *registry_path(const lh_storage *s)
{
    return lh_xasprintf("%s/" REGISTRY_FILE, s->data_dir);
}

bool lh_storage__forgotten(const lh_storage *s, const char *name)
{
    json_t *f = s->registry ? json_object_get(s->registry, "forgotten") : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(f, i, v) if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
        return true;
    return false;
}

int lh_storage__load_registry(lh_storage *s, lh_err *err)
{
    char *path = registry_path(s);
    lh_err e = LH_ERR_INIT;
    size_t len = 0;
    char *text = access(path, F_OK) == 0 ? lh_file_read_all(path, REGISTRY_MAX, &len, &e) : NULL;
    json_t *doc = NULL;
    if (text) {
        json_error_t je;
        doc = json_loadb(text, len, 0, &je);
        free(text);
        if (!json_is_object(doc)) {
            json_decref(doc);
            lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is not a JSON object: %s", path, je.text);
            free(path);
            return -1;
        }
    } else if (e.code != LH_OK) {
        *err = e;
        free(path);
        return -1;
    }
    free(path);
    if (!doc)
        doc = json_object();
    if (!json_is_array(json_object_get(doc, "buckets")))
        json_object_set_new(doc, "buckets", json_array());
    if (!json_is_array(json_object_get(doc, "forgotten")))
        json_object_set_new(doc, "forgotten", json_array());
    s->registry = doc;
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(doc, "buckets"), i, b) {
        const char *name = json_string_value(json_object_get(b, "name"));
        const char *root = json_string_value(json_object_get(b, "root"));
        const char *role = json_string_value(json_object_get(b, "role"));
        if (name && lh_storage__find(s, name)) {
            LH_LOG_WARN("storage", "bucket '%s' of " REGISTRY_FILE " is also configured: the "
                        "configuration wins", name);
            continue;
        }
        lh_err be = LH_ERR_INIT;
        if (lh_storage__add_bucket(s, name, root, role && strcmp(role, "rescue") == 0,
                                   &be) != 0) {
            LH_LOG_WARN("storage", "skipping provisioned bucket: %s", be.message);
            continue;
        }
        s->buckets[s->n_buckets - 1].provisioned = true;
    }
    return 0;
}

/* Writes s->registry to <data>/_buckets.json: temp file, fsync, rename, fsync dir. */
static int save_registry(lh_storage *s, lh_err *err)
{
    char *path = registry_path(s);
    char *tmp = lh_xasprintf("%s.%ld.tmp", path, (long)getpid());
    char *text = json_dumps(s->registry, JSON_INDENT(2) | JSON_SORT_KEYS);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        lh_err_errno(err, e, "cannot write '%s'", tmp);
    } else {
        bool ok = lh_write_full(fd, text, strlen(text), err) == 0 &&
                  lh_write_full(fd, "\n", 1, err) == 0;
        if (ok && fsync(fd) != 0) {
            int e = errno;
            ok = false;
            lh_err_errno(err, e, "cannot sync '%s'", tmp);
        }
        if (close(fd) != 0 && ok) {
            int e = errno;
            ok = false;
            lh_err_errno(err, e, "cannot close '%s'", tmp);
        }
        if (ok && rename(tmp, path) != 0) {
            int e = errno;
            ok = false;
            lh_err_errno(err, e, "cannot rename '%s'", tmp);
        }
        if (ok && lh_fsync_dir_of(path, err) == 0)
            rc = 0;
        if (!ok)
            (void)unlink(tmp); /* best effort: the old registry is intact */
    }
    free(text);
    free(tmp);
    free(path);
    return rc;
}

/* Removes name from the JSON array arr: entries are strings or objects with "name". */
static void drop_name(json_t *arr, const char *name)
{
    for (size_t i = json_array_size(arr); i-- > 0;) {
        json_t *v = json_array_get(arr, i);
        const char *n = json_is_string(v) ? json_string_value(v)
                                          : json_string_value(json_object_get(v, "name"));
        if (n && strcmp(n, name) == 0)
            json_array_remove(arr, i);
    }
}

lh_bucket *lh_storage_provision(lh_storage *s, const char *name, const char *root,
                                const char *role, lh_err *err)
{
    if (!name || !lh_name_valid(name))
        return (lh_err_set(err, LH_INVALID_ARGUMENT,
                           "invalid bucket name (use [a-z_][a-z0-9_]{0,62})"), NULL);
    if (!role)
        role = LH_BUCKET_ROLE_DATA;
    if (strcmp(role, LH_BUCKET_ROLE_DATA) != 0 && strcmp(role, LH_BUCKET_ROLE_RESCUE) != 0)
        return (lh_err_set(err, LH_INVALID_ARGUMENT,
                           "role must be \"data\" or \"rescue\""), NULL);
    bool rescue = strcmp(role, LH_BUCKET_ROLE_RESCUE) == 0;
    char *def = root && *root ? NULL : lh_xasprintf(LH_CONFIG_BUCKET_DIR "/%s", name);
    const char *where = def ? def : root;
    pthread_mutex_lock(&s->lock);
    lh_bucket *b = NULL;
    lh_bucket *r = atomic_load(&s->rescue);
    if (lh_storage__find(s, name)) {
        lh_err_set(err, LH_CONFLICT, "bucket '%s' already exists", name);
    } else if (rescue && r) {
        lh_err_set(err, LH_CONFLICT, "bucket '%s' is already the rescue bucket", r->name);
    } else if (lh_storage__add_bucket(s, name, where, rescue, err) == 0) {
        b = &s->buckets[s->n_buckets - 1];
        json_t *entry = json_pack("{s:s,s:s,s:s}", "name", name, "root", b->root, "role", role);
        drop_name(json_object_get(s->registry, "buckets"), name);
        json_array_append_new(json_object_get(s->registry, "buckets"), entry);
        drop_name(json_object_get(s->registry, "forgotten"), name);
        if (save_registry(s, err) != 0) {
            /* Not durable, so not there: the next open would not know it either. */
            drop_name(json_object_get(s->registry, "buckets"), name);
            atomic_store(&b->removed, true);
            if (rescue)
                atomic_store(&s->rescue, NULL);
            b = NULL;
        } else {
            b->provisioned = true;
        }
    }
    pthread_mutex_unlock(&s->lock);
    free(def);
    return b;
}

int lh_storage_forget(lh_storage *s, const char *name, lh_err *err)
{
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    lh_bucket *b = lh_storage__find(s, name);
    lh_object_info *infos = NULL;
    size_t n = 0;
    bool truncated = false;
    if (!b) {
        lh_storage_bucket(s, name, err); /* fills the not_found message */
    } else if (strcmp(b->name, LH_BUCKET_PRIMARY) == 0) {
        lh_err_set(err, LH_CONFLICT, "the primary bucket cannot be removed");
    } else if (b->rescue) {
        lh_err_set(err, LH_CONFLICT, "bucket '%s' is the rescue bucket and cannot be removed",
                   b->name);
    } else if (b->configured) {
        lh_err_set(err, LH_CONFLICT, "bucket '%s' is declared in the configuration: remove it "
                   "there", b->name);
    } else if (lh_bucket_list(b, "datasets/", 1, &infos, &n, &truncated, err) != 0 &&
               access(b->root, F_OK) == 0) {
        /* err says why the bucket cannot be inspected; a root that is gone holds nothing
         * and may be forgotten */
    } else if (n > 0) {
        lh_err_set(err, LH_CONFLICT, "bucket '%s' holds datasets and cannot be removed",
                   b->name);
    } else {
        drop_name(json_object_get(s->registry, "buckets"), name);
        drop_name(json_object_get(s->registry, "forgotten"), name);
        json_array_append_new(json_object_get(s->registry, "forgotten"), json_string(name));
        rc = save_registry(s, err);
        if (rc == 0) {
            atomic_store(&b->removed, true);
        } else { /* put the registry back as it was */
            drop_name(json_object_get(s->registry, "forgotten"), name);
            if (b->provisioned)
                json_array_append_new(json_object_get(s->registry, "buckets"),
                                      json_pack("{s:s,s:s,s:s}", "name", b->name, "root",
                                                b->root, "role", lh_bucket_role(b)));
        }
    }
    lh_object_infos_free(infos, n);
    pthread_mutex_unlock(&s->lock);
    return rc;
}
