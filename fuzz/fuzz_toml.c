/* libFuzzer target for lh_toml_parse, the parser lakehouse.toml goes through. Any input must
 * give either an object or an lh_err with a "config line L, column C" message, never a crash,
 * a leak or undefined behaviour. Also round-trips successful documents through jansson. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The caller (lh_config_load_file) caps files at 1 MiB; do the same here. */
    if (size > (1u << 20))
        return 0;
    lh_err err = LH_ERR_INIT;
    json_t *doc = lh_toml_parse((const char *)data, size, &err);
    if (doc) {
        if (!json_is_object(doc) || err.code != LH_OK)
            abort();
        /* Every string we produced must be valid UTF-8 for jansson to dump it. */
        char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
            abort();
        free(text);
        json_decref(doc);
    } else if (err.code != LH_INVALID_ARGUMENT || strncmp(err.message, "config line ", 12) != 0) {
        abort();
    }
    return 0;
}
