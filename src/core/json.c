/* JSON helpers over jansson: parsing with errors that name line and column, compact dumps,
 * and typed field accessors that say which field was wrong. */
#include <stdlib.h>

#include "core/core.h"

json_t *lh_json_parse(const char *s, size_t len, lh_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!j) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "malformed JSON at line %d, column %d: %s", je.line,
                   je.column, je.text);
        return NULL;
    }
    return j;
}

char *lh_json_dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        lh_panic(__FILE__, __LINE__, "json_dumps failed");
    return s;
}

const char *lh_json_str(const json_t *obj, const char *key, bool required, lh_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required)
            lh_err_set(err, LH_INVALID_ARGUMENT, "field '%s' is required", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "field '%s' must be a string", key);
        return NULL;
    }
    return json_string_value(v);
}

int lh_json_int(const json_t *obj, const char *key, bool required, int64_t def, int64_t *out,
                lh_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "field '%s' is required", key);
        *out = def;
        return 0;
    }
    if (!json_is_integer(v))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "field '%s' must be an integer", key);
    *out = (int64_t)json_integer_value(v);
    return 0;
}
