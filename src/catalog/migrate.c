/* migrate: stamps the bucket on legacy manifests (lh_catalog_migrate_buckets). Manifests
 * written before buckets existed (format 1, or no "bucket" member) get the bucket they were
 * found in, so a manifest copied elsewhere still says where its table lives. */
#include <string.h>

#include "catalog/catalog_int.h"

#define MANIFEST_PREFIX "_catalog/datasets/"
/* One listing per bucket; a lake has far fewer datasets than this. */
#define MIGRATE_MANIFESTS_MAX 100000

/* The dataset name of a manifest key "_catalog/datasets/<name>.json" (owned), or NULL when
 * the key is something else (a nested key, another suffix, an invalid name). */
static char *manifest_name(const char *key)
{
    const char *rest = key + strlen(MANIFEST_PREFIX);
    size_t n = strlen(rest);
    if (n <= 5 || strcmp(rest + n - 5, ".json") != 0 || strchr(rest, '/') != NULL)
        return NULL;
    char *name = lh_xstrndup(rest, n - 5);
    if (!lh_name_valid(name)) {
        free(name);
        return NULL;
    }
    return name;
}

/* A legacy manifest: format 1 (or no format at all) or no bucket string. */
static bool is_legacy(const json_t *m)
{
    json_t *fv = json_object_get(m, "format_version");
    return !json_is_integer(fv) || json_integer_value(fv) < 2 ||
           !json_is_string(json_object_get(m, "bucket"));
}

/* Reads, checks and (when legacy) rewrites the manifest of name in b, under the name's
 * commit stripe so a commit cannot write a newer manifest in between (its rich metadata
 * lives only there). *migrated says whether it was rewritten; a malformed file is left for
 * open's repair and reported in *skip_reason. */
static int migrate_one(lh_catalog *c, lh_bucket *b, const char *key, const char *name,
                       bool *migrated, const char **skip_reason, lh_err *err)
{
    *migrated = false;
    *skip_reason = NULL;
    pthread_mutex_t *mu = lh_cat__stripe(c, name);
    pthread_mutex_lock(mu);
    size_t len = 0;
    int rc = -1;
    char *text = lh_bucket_read_all(b, key, LH_CAT_MANIFEST_MAX, &len, err);
    json_t *m = NULL;
    if (!text) {
        if (err->code == LH_NOT_FOUND) { /* deleted since the listing: nothing to stamp */
            lh_err_clear(err);
            rc = 0;
        }
        goto out;
    }
    lh_err perr = LH_ERR_INIT;
    m = lh_json_parse(text, len, &perr);
    if (!m || !json_is_object(m)) {
        *skip_reason = "not a JSON object";
        rc = 0;
        goto out;
    }
    if (!is_legacy(m)) {
        rc = 0;
        goto out;
    }
    json_object_set_new(m, "bucket", json_string(lh_bucket_name(b)));
    /* Every member format 2 adds is optional on load, so the stamped file is format 2. */
    json_object_set_new(m, "format_version", json_integer(LH_CAT_MANIFEST_FORMAT));
    char *out = json_dumps(m, JSON_INDENT(2));
    if (!out) {
        lh_err_set(err, LH_INTERNAL, "cannot render manifest of '%s'", name);
        goto out;
    }
    lh_buf body;
    lh_buf_init(&body);
    lh_buf_puts(&body, out);
    lh_buf_putc(&body, '\n');
    free(out);
    rc = lh_bucket_put(b, key, body.data, body.len, err); /* atomic: temp file + rename */
    lh_buf_release(&body);
    if (rc == 0) {
        *migrated = true;
        LH_LOG_INFO(LH_CAT_MOD, "manifest stamped with its bucket dataset=%s bucket=%s", name,
                    lh_bucket_name(b));
    }
out:
    pthread_mutex_unlock(mu);
    json_decref(m);
    free(text);
    if (rc != 0)
        lh_err_prefix(err, "manifest '%s' in bucket '%s': ", key, lh_bucket_name(b));
    return rc;
}

/* Walks the manifests of one bucket. */
static int migrate_bucket(lh_catalog *c, lh_bucket *b, json_t *doc, lh_err *err)
{
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool truncated = false;
    if (lh_bucket_list(b, MANIFEST_PREFIX, MIGRATE_MANIFESTS_MAX, &objs, &n, &truncated,
                       err) != 0)
        return lh_err_prefix(err, "bucket '%s': ", lh_bucket_name(b));
    int rc = 0;
    if (truncated)
        rc = lh_err_set(err, LH_TOO_LARGE, "bucket '%s' holds more than %d manifests",
                        lh_bucket_name(b), MIGRATE_MANIFESTS_MAX);
    json_t *checked = json_object_get(doc, "checked");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *name = manifest_name(objs[i].key);
        if (!name)
            continue;
        bool migrated = false;
        const char *why = NULL;
        rc = migrate_one(c, b, objs[i].key, name, &migrated, &why, err);
        if (rc == 0) {
            json_integer_set(checked, json_integer_value(checked) + 1);
            if (migrated)
                json_array_append_new(json_object_get(doc, "migrated"), json_string(name));
            if (why)
                json_array_append_new(json_object_get(doc, "skipped"),
                                      json_pack("{s:s, s:s, s:s}", "name", name, "bucket",
                                                lh_bucket_name(b), "reason", why));
        }
        free(name);
    }
    lh_object_infos_free(objs, n);
    return rc;
}

json_t *lh_catalog_migrate_buckets(lh_catalog *c, lh_err *err)
{
    json_t *doc = json_pack("{s:i, s:[], s:[]}", "checked", 0, "migrated", "skipped");
    for (size_t i = 0;; i++) {
        lh_bucket *b = lh_storage_bucket_at(c->storage, i);
        if (!b)
            break;
        /* The rescue bucket holds copies and refuses writes under _catalog/. */
        if (strcmp(lh_bucket_role(b), LH_BUCKET_ROLE_RESCUE) == 0)
            continue;
        if (migrate_bucket(c, b, doc, err) != 0) {
            json_decref(doc);
            return NULL;
        }
    }
    return doc;
}
