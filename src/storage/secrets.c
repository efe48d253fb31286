/* storage secrets: per-bucket credentials (for S3 buckets later) and model server API keys
 * from <data>/secrets.toml (or the file server.secrets_file names):
 * `[buckets.<name>] access_key = "...", secret_key = "..."` and `[embed] api_key = "..."`,
 * `[generate] api_key = "..."`. The file must be a regular file
 * that only its owner can read or write (mode 0600 or stricter); anything looser makes open
 * fail, naming the file and its mode. Values are never logged or put in an error message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/storage_int.h"

#define SECRETS_FILE "secrets.toml"
#define SECRETS_MAX (1024 * 1024)

/* The tables of model servers that may hold an api_key. */
static bool model_section(const char *sect)
{
    return strcmp(sect, "embed") == 0 || strcmp(sect, "generate") == 0;
}

/* [embed] / [generate]: only api_key, a string. */
static int check_model_section(const char *path, const char *sect, json_t *v, lh_err *err)
{
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        if (strcmp(key, "api_key") != 0 || !json_is_string(val))
            return lh_err_set(err, LH_INVALID_ARGUMENT, "secrets file '%s': [%s] may only "
                              "have api_key, a string", path, sect);
    }
    return 0;
}

/* Checks the shape: {"buckets": {"<name>": {"access_key": str, "secret_key": str}},
 * "embed": {"api_key": str}, "generate": {"api_key": str}}. */
static int check_doc(const char *path, json_t *doc, lh_err *err)
{
    const char *sect;
    json_t *v;
    json_object_foreach(doc, sect, v) {
        if (model_section(sect) && json_is_object(v)) {
            if (check_model_section(path, sect, v, err) != 0)
                return -1;
            continue;
        }
        if (strcmp(sect, "buckets") != 0 || !json_is_object(v))
            return lh_err_set(err, LH_INVALID_ARGUMENT, "secrets file '%s': only "
                              "[buckets.<name>], [embed] and [generate] tables are allowed",
                              path);
        const char *name;
        json_t *b;
        json_object_foreach(v, name, b) {
            if (!lh_name_valid(name) || !json_is_object(b))
                return lh_err_set(err, LH_INVALID_ARGUMENT, "secrets file '%s': "
                                  "[buckets.<name>] needs a valid bucket name", path);
            const char *key;
            json_t *val;
            json_object_foreach(b, key, val) {
                if (strcmp(key, "access_key") != 0 && strcmp(key, "secret_key") != 0)
                    return lh_err_set(err, LH_INVALID_ARGUMENT, "secrets file '%s': bucket "
                                      "'%s' may only have access_key and secret_key", path,
                                      name);
                if (!json_is_string(val))
                    return lh_err_set(err, LH_INVALID_ARGUMENT, "secrets file '%s': "
                                      "buckets.%s.%s must be a string", path, name, key);
            }
        }
    }
    return 0;
}

int lh_storage__load_secrets(lh_storage *s, lh_err *err)
{
    /* The default file is optional; one named in the configuration must be there. */
    bool named = s->secrets_path != NULL;
    char *path = named ? lh_xstrdup(s->secrets_path)
                       : lh_xasprintf("%s/" SECRETS_FILE, s->data_dir);
    struct stat st;
    int rc = -1;
    if (lstat(path, &st) != 0) {
        rc = errno == ENOENT && !named
                 ? 0
                 : lh_err_errno(err, errno, "cannot stat secrets file '%s'", path);
    } else if (!S_ISREG(st.st_mode)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "secrets file '%s' is not a regular file", path);
    } else if ((st.st_mode & 0077) != 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "secrets file '%s' has mode %04o: it must be "
                   "readable by its owner only (chmod 600 '%s')", path,
                   (unsigned)(st.st_mode & 07777), path);
    } else {
        size_t len = 0;
        char *text = lh_file_read_all(path, SECRETS_MAX, &len, err);
        json_t *doc = NULL;
        if (text) {
            lh_err perr = LH_ERR_INIT;
            doc = lh_toml_parse(text, len, &perr);
            /* The parser's message may quote the offending text, which could be a secret. */
            if (!doc)
                lh_err_set(err, LH_INVALID_ARGUMENT, "secrets file '%s' is not valid TOML",
                           path);
            explicit_bzero(text, len); /* no copy of a secret left in freed memory */
            free(text);
        }
        if (doc && check_doc(path, doc, err) == 0) {
            s->secrets = doc;
            rc = 0;
        } else {
            json_decref(doc);
        }
    }
    free(path);
    return rc;
}

const char *lh_storage_bucket_secret(const lh_storage *s, const char *bucket, const char *key)
{
    json_t *b = s->secrets ? json_object_get(json_object_get(s->secrets, "buckets"), bucket)
                           : NULL;
    return json_string_value(json_object_get(b, key));
}

const char *lh_storage_model_secret(const lh_storage *s, const char *section)
{
    json_t *t = s->secrets ? json_object_get(s->secrets, section) : NULL;
    return json_string_value(json_object_get(t, "api_key"));
}
