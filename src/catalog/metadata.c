/* catalog: rich metadata set by people (lh_catalog_patch_metadata): description, owner,
 * sensitivity, tags, freshness expectations and per-column descriptions and sensitivity.
 * A patch is validated whole before anything changes, then applied to a copy of the
 * dataset's entry, persisted in the manifest (atomic put) and published as a new snapshot,
 * all under the dataset's commit stripe so it cannot interleave with a commit. */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

static const char *const sensitivities[] = {"public", "internal", "confidential", "restricted"};
static const char *const top_keys[] = {"description", "owner",     "sensitivity",
                                       "tags",        "freshness", "columns"};
static const char *const freshness_keys[] = {"max_age_s"};
static const char *const column_keys[] = {"description", "sensitive"};

bool lh_cat__sensitivity_valid(const char *s)
{
    for (size_t i = 0; s && i < LH_ARRAY_LEN(sensitivities); i++)
        if (strcmp(s, sensitivities[i]) == 0)
            return true;
    return false;
}

/* Code points in a UTF-8 string (jansson only hands out valid UTF-8). */
static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* invalid_argument naming every key of obj that is not in known (at most a few). */
static int check_keys(const json_t *obj, const char *const *known, size_t nknown,
                      const char *where, lh_err *err)
{
    lh_buf names;
    lh_buf_init(&names);
    size_t bad = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool ok = false;
        for (size_t i = 0; i < nknown && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (ok)
            continue;
        if (bad < 8)
            lh_buf_printf(&names, "%s'%.64s'", bad ? ", " : "", key);
        bad++;
    }
    if (bad == 0) {
        lh_buf_release(&names);
        return 0;
    }
    lh_buf known_list;
    lh_buf_init(&known_list);
    for (size_t i = 0; i < nknown; i++)
        lh_buf_printf(&known_list, "%s%s", i ? ", " : "", known[i]);
    lh_err_set(err, LH_INVALID_ARGUMENT, "%s: unknown key%s %s%s (known: %s)", where,
               bad == 1 ? "" : "s", names.data, bad > 8 ? ", ..." : "", known_list.data);
    lh_buf_release(&names);
    lh_buf_release(&known_list);
    return -1;
}

/* A string-or-null member of at most max code points. */
static int check_text(const json_t *v, const char *what, size_t max, lh_err *err)
{
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' must be a string or null", what);
    if (utf8_len(json_string_value(v)) > max)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is longer than %zu characters", what,
                          max);
    return 0;
}

static int check_tags(const json_t *tags, lh_err *err)
{
    if (!tags || json_is_null(tags))
        return 0;
    if (!json_is_array(tags))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'tags' must be an array of strings or null");
    if (json_array_size(tags) > LH_CAT_TAGS_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'tags' holds %zu tags; at most %d",
                          json_array_size(tags), LH_CAT_TAGS_MAX);
    for (size_t i = 0; i < json_array_size(tags); i++) {
        const char *t = json_string_value(json_array_get(tags, i));
        if (!t || !*t)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "'tags[%zu]' must be a non-empty string",
                              i);
        if (utf8_len(t) > LH_CAT_TAG_LEN_MAX)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "'tags[%zu]' is longer than %d "
                              "characters", i, LH_CAT_TAG_LEN_MAX);
    }
    return 0;
}

static int check_freshness(const json_t *f, lh_err *err)
{
    if (!f || json_is_null(f))
        return 0;
    if (!json_is_object(f))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'freshness' must be an object or null");
    if (check_keys(f, freshness_keys, LH_ARRAY_LEN(freshness_keys), "'freshness'", err) != 0)
        return -1;
    const json_t *age = json_object_get(f, "max_age_s");
    if (age && !json_is_null(age) && (!json_is_integer(age) || json_integer_value(age) <= 0))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "'freshness.max_age_s' must be a positive integer (seconds) or null");
    return 0;
}

/* Shape of "columns"; whether each column exists is checked against the table later. */
static int check_columns(const json_t *cols, lh_err *err)
{
    if (!cols)
        return 0;
    if (!json_is_object(cols))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "'columns' must be an object of column name -> {description, "
                          "sensitive}");
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)cols, name, v) {
        char where[128];
        snprintf(where, sizeof where, "'columns.%.64s'", name);
        if (!json_is_object(v))
            return lh_err_set(err, LH_INVALID_ARGUMENT, "%s must be an object", where);
        if (check_keys(v, column_keys, LH_ARRAY_LEN(column_keys), where, err) != 0)
            return -1;
        snprintf(where, sizeof where, "columns.%.64s.description", name);
        if (check_text(json_object_get(v, "description"), where, LH_CAT_TEXT_MAX, err) != 0)
            return -1;
        const json_t *s = json_object_get(v, "sensitive");
        if (s && !json_is_boolean(s) && !json_is_null(s))
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "'columns.%.64s.sensitive' must be true, false or null", name);
    }
    return 0;
}

static int check_patch(const json_t *p, lh_err *err)
{
    if (!json_is_object(p))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "metadata patch must be a JSON object");
    if (check_keys(p, top_keys, LH_ARRAY_LEN(top_keys), "metadata patch", err) != 0 ||
        check_text(json_object_get(p, "description"), "description", LH_CAT_TEXT_MAX, err) ||
        check_text(json_object_get(p, "owner"), "owner", LH_CAT_OWNER_MAX, err) ||
        check_tags(json_object_get(p, "tags"), err) ||
        check_freshness(json_object_get(p, "freshness"), err) ||
        check_columns(json_object_get(p, "columns"), err))
        return -1;
    const json_t *s = json_object_get(p, "sensitivity");
    if (s && !json_is_null(s) && !lh_cat__sensitivity_valid(json_string_value(s)))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'sensitivity' must be one of public, "
                          "internal, confidential, restricted, or null");
    return 0;
}

/* Sets *slot from a present member: a string replaces, null or "" clears. */
static void set_text(char **slot, const json_t *v)
{
    if (!v)
        return;
    free(*slot);
    const char *s = json_string_value(v);
    *slot = s && *s ? lh_xstrdup(s) : NULL;
}

static void set_tags(lh_dataset *d, const json_t *tags)
{
    for (size_t i = 0; i < d->ntags; i++)
        free(d->tags[i]);
    free(d->tags);
    d->tags = NULL;
    d->ntags = 0;
    size_t n = json_array_size(tags); /* 0 for null */
    if (n)
        d->tags = lh_xcalloc(n, sizeof *d->tags);
    for (size_t i = 0; i < n; i++) {
        const char *t = json_string_value(json_array_get(tags, i));
        bool dup = false;
        for (size_t k = 0; k < d->ntags && !dup; k++)
            dup = strcmp(d->tags[k], t) == 0;
        if (!dup) /* a repeated tag says nothing new */
            d->tags[d->ntags++] = lh_xstrdup(t);
    }
}

/* Applies the "columns" member to e: invalid_argument for a column the table does not have
 * (checked for all of them before any change). */
static int apply_columns(lh_cat__entry *e, const json_t *cols, lh_err *err)
{
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)cols, name, v) {
        if (lh_cat__column_index(e->d.columns, e->d.ncolumns, name) < 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "dataset '%s' has no column '%.64s'",
                              e->d.name, name);
    }
    json_object_foreach((json_t *)cols, name, v) {
        long k = lh_cat__column_index(e->d.columns, e->d.ncolumns, name);
        lh_column *c = &e->d.columns[k];
        set_text(&c->description, json_object_get(v, "description"));
        const json_t *s = json_object_get(v, "sensitive");
        if (json_is_boolean(s)) {
            c->sensitive = json_is_true(s);
            e->sens_user[k] = true; /* detection on later appends leaves it alone */
        } else if (s) { /* null: back to what detection says */
            c->sensitive = c->pii != NULL;
            e->sens_user[k] = false;
        }
    }
    return 0;
}

static int apply_patch(lh_cat__entry *e, const json_t *p, lh_err *err)
{
    const json_t *cols = json_object_get(p, "columns");
    if (cols && apply_columns(e, cols, err) != 0)
        return -1;
    lh_dataset *d = &e->d;
    set_text(&d->description, json_object_get(p, "description"));
    set_text(&d->owner, json_object_get(p, "owner"));
    set_text(&d->sensitivity, json_object_get(p, "sensitivity"));
    const json_t *tags = json_object_get(p, "tags");
    if (tags)
        set_tags(d, tags);
    const json_t *f = json_object_get(p, "freshness");
    if (json_is_null(f)) {
        d->freshness_max_age_s = 0;
    } else if (f && json_object_get(f, "max_age_s")) {
        const json_t *age = json_object_get(f, "max_age_s");
        d->freshness_max_age_s = json_is_integer(age) ? (int64_t)json_integer_value(age) : 0;
    }
    return 0;
}

int lh_catalog_patch_metadata(lh_catalog *c, const char *name, const json_t *patch,
                              lh_err *err)
{
    if (!name || !lh_name_valid(name))
        return lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name ? name : "");
    if (check_patch(patch, err) != 0)
        return lh_err_prefix(err, "dataset '%s': ", name);
    pthread_mutex_t *mu = lh_cat__stripe(c, name);
    pthread_mutex_lock(mu); /* no commit to this dataset may interleave */
    lh_cat__entry *base = lh_cat__current_entry(c, name);
    lh_cat__entry *next = NULL;
    int rc = -1;
    if (!base) {
        lh_err_set(err, LH_NOT_FOUND, "dataset '%s' not found", name);
        goto out;
    }
    next = lh_cat__entry_dup(base);
    if (apply_patch(next, patch, err) != 0)
        goto out;
    /* Persist first: a failed write changes nothing, in memory or on disk. */
    if (lh_cat__manifest_write(lh_cat__bucket_of(c, next), next, err) != 0)
        goto out;
    lh_cat__publish(c, next);
    LH_LOG_INFO(LH_CAT_MOD, "metadata updated dataset=%s", name);
    rc = 0;
out:
    pthread_mutex_unlock(mu);
    lh_cat__entry_unref(next);
    lh_cat__entry_unref(base);
    return rc;
}
