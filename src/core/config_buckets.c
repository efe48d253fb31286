/* config buckets: the [buckets.<name>] tables of lakehouse.toml and LAKEHOUSE_BUCKETS, kept
 * in lh_config as an ordered array whose first entry is always "primary". Roots are stored as
 * written; storage resolves relative ones against the data dir when it opens. */
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"

/* Same ceiling as any other string setting. */
#define BUCKET_ROOT_MAX 4096
/* LAKEHOUSE_BUCKETS holds at most LH_CONFIG_MAX_BUCKETS entries of a name and a root. */
#define BUCKET_LIST_MAX (LH_CONFIG_MAX_BUCKETS * (BUCKET_ROOT_MAX + LH_NAME_MAX + 2))

static char *default_root(const char *name)
{
    return lh_xasprintf(LH_CONFIG_BUCKET_DIR "/%s", name);
}

void lh_config__buckets_init(lh_config *c)
{
    c->buckets = lh_xcalloc(1, sizeof *c->buckets);
    c->buckets[0].name = lh_xstrdup("primary");
    c->buckets[0].root = default_root("primary");
    c->nbuckets = 1;
}

void lh_config__buckets_free(lh_bucket_spec *b, size_t n)
{
    if (!b)
        return;
    for (size_t i = 0; i < n; i++) {
        free(b[i].name);
        free(b[i].root);
        free(b[i].role);
    }
    free(b);
}

lh_bucket_spec *lh_config__buckets_copy(const lh_bucket_spec *b, size_t n)
{
    if (n == 0)
        return NULL;
    lh_bucket_spec *out = lh_xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i].name = lh_xstrdup(b[i].name);
        out[i].root = lh_xstrdup(b[i].root);
        out[i].role = b[i].role ? lh_xstrdup(b[i].role) : NULL;
    }
    return out;
}

/* Names come from a file or the environment the operator wrote; an invalid one is quoted
 * only up to the name length limit, so a runaway value does not flood the message. */
static int check_name(const char *name, lh_err *err)
{
    if (!name || !lh_name_valid(name))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "buckets: invalid bucket name '%.64s' (use [a-z_][a-z0-9_]{0,62})",
                          name ? name : "");
    return 0;
}

static int check_root(const char *name, const char *root, lh_err *err)
{
    if (!root || !*root)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "buckets.%s.root must not be empty", name);
    if (strlen(root) > BUCKET_ROOT_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "buckets.%s.root: value longer than %d "
                          "bytes", name, BUCKET_ROOT_MAX);
    return 0;
}

int lh_config_set_bucket(lh_config *c, const char *name, const char *root, lh_err *err)
{
    if (check_name(name, err) != 0 || check_root(name, root, err) != 0)
        return -1;
    if (c->nbuckets == 0)
        lh_config__buckets_init(c);
    for (size_t i = 0; i < c->nbuckets; i++) {
        if (strcmp(c->buckets[i].name, name) == 0) {
            free(c->buckets[i].root);
            c->buckets[i].root = lh_xstrdup(root);
            return 0;
        }
    }
    if (c->nbuckets == LH_CONFIG_MAX_BUCKETS)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "buckets: more than %d buckets",
                          LH_CONFIG_MAX_BUCKETS);
    c->buckets = lh_xrealloc(c->buckets, (c->nbuckets + 1) * sizeof *c->buckets);
    c->buckets[c->nbuckets].name = lh_xstrdup(name);
    c->buckets[c->nbuckets].root = lh_xstrdup(root);
    c->buckets[c->nbuckets].role = NULL; /* "data" until a role is declared */
    c->nbuckets++;
    return 0;
}

/* [start, end) without leading and trailing spaces and tabs. */
static void trim(const char **start, const char **end)
{
    while (*start < *end && (**start == ' ' || **start == '\t'))
        (*start)++;
    while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

/* One "name=/path" entry of the list into next; a name given twice is an error
 * (*primary_seen tracks primary, which next holds from the start). */
static int add_entry(lh_config *next, const char *start, const char *end, bool *primary_seen,
                     lh_err *err)
{
    const char *eq = memchr(start, '=', (size_t)(end - start));
    if (!eq)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "buckets: entry '%.*s' is not name=/path",
                          (int)(end - start > 80 ? 80 : end - start), start);
    const char *name_end = eq, *root = eq + 1;
    trim(&start, &name_end);
    trim(&root, &end);
    char *name = lh_xstrndup(start, (size_t)(name_end - start));
    char *path = lh_xstrndup(root, (size_t)(end - root));
    int rc = 0;
    bool twice = false;
    if (strcmp(name, "primary") == 0) {
        twice = *primary_seen;
        *primary_seen = true;
    }
    for (size_t i = 1; i < next->nbuckets && !twice; i++)
        twice = strcmp(next->buckets[i].name, name) == 0;
    if (twice && lh_name_valid(name))
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "buckets: bucket '%s' is given twice", name);
    if (rc == 0)
        rc = lh_config_set_bucket(next, name, path, err);
    free(name);
    free(path);
    return rc;
}

int lh_config_set_buckets(lh_config *c, const char *list, lh_err *err)
{
    if (!list)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "buckets: missing value");
    if (strlen(list) > BUCKET_LIST_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "buckets: value longer than %d bytes",
                          BUCKET_LIST_MAX);
    lh_config next = {0};
    lh_config__buckets_init(&next);
    bool primary_seen = false;
    int rc = 0;
    for (const char *p = list; rc == 0 && *p;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *s = p, *e = end;
        trim(&s, &e);
        if (s < e) /* empty entries (a trailing comma) are skipped */
            rc = add_entry(&next, s, e, &primary_seen, err);
        p = comma ? comma + 1 : end;
    }
    if (rc != 0) {
        lh_config__buckets_free(next.buckets, next.nbuckets);
        return -1;
    }
    lh_config__buckets_free(c->buckets, c->nbuckets);
    c->buckets = next.buckets;
    c->nbuckets = next.nbuckets;
    return 0;
}

int lh_config__apply_buckets_doc(lh_config *c, const json_t *table, lh_err *err)
{
    const char *name;
    json_t *bt;
    json_object_foreach((json_t *)table, name, bt) {
        if (check_name(name, err) != 0)
            return -1;
        if (!json_is_object(bt))
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "'buckets.%s' must be a table ([buckets.%s])", name, name);
        const char *key;
        json_t *v;
        json_object_foreach(bt, key, v) {
            if (strcmp(key, "root") != 0 && strcmp(key, "role") != 0)
                return lh_err_set(err, LH_INVALID_ARGUMENT,
                                  "unknown config key 'buckets.%s.%.64s' (a bucket has only "
                                  "'root' and 'role')", name, key);
            if (!json_is_string(v))
                return lh_err_set(err, LH_INVALID_ARGUMENT, "buckets.%s.%s must be a string",
                                  name, key);
            if (strlen(json_string_value(v)) != json_string_length(v))
                return lh_err_set(err, LH_INVALID_ARGUMENT,
                                  "buckets.%s.%s must not contain NUL characters", name, key);
        }
        const char *root = json_string_value(json_object_get(bt, "root"));
        const char *role = json_string_value(json_object_get(bt, "role"));
        char *def = root ? NULL : default_root(name);
        int rc = lh_config_set_bucket(c, name, root ? root : def, err);
        free(def);
        if (rc == 0 && role)
            rc = lh_config_set_bucket_role(c, name, role, err);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int lh_config_set_bucket_role(lh_config *c, const char *name, const char *role, lh_err *err)
{
    if (!role || (strcmp(role, LH_BUCKET_ROLE_DATA) != 0 &&
                  strcmp(role, LH_BUCKET_ROLE_RESCUE) != 0))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "buckets.%s.role must be \"data\" or \"rescue\"", name);
    bool rescue = strcmp(role, LH_BUCKET_ROLE_RESCUE) == 0;
    if (rescue && strcmp(name, "primary") == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "buckets.primary.role: the primary bucket cannot be the rescue bucket");
    lh_bucket_spec *target = NULL;
    for (size_t i = 0; i < c->nbuckets; i++) {
        if (strcmp(c->buckets[i].name, name) == 0)
            target = &c->buckets[i];
        else if (rescue && c->buckets[i].role &&
                 strcmp(c->buckets[i].role, LH_BUCKET_ROLE_RESCUE) == 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "buckets.%s.role: bucket '%s' is already the rescue bucket (at "
                              "most one bucket has role \"rescue\")", name, c->buckets[i].name);
    }
    if (!target)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "buckets.%s.role: no such bucket", name);
    free(target->role);
    target->role = lh_xstrdup(role);
    return 0;
}

json_t *lh_config__buckets_json(const lh_config *c)
{
    json_t *j = json_object();
    for (size_t i = 0; i < c->nbuckets; i++)
    {
        json_t *b = json_pack("{s:s}", "root", c->buckets[i].root);
        /* Only a declared role is shown, so a plain configuration prints as before. */
        if (c->buckets[i].role)
            json_object_set_new(b, "role", json_string(c->buckets[i].role));
        json_object_set_new(j, c->buckets[i].name, b);
    }
    return j;
}
