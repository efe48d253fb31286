/* libFuzzer target for lh_storage_key_check, the gate every outside key passes (HTTP object
 * paths, dataset names turned into keys). Beyond "no crash", it checks the properties the rest
 * of storage relies on: an accepted key is 1..LH_KEY_MAX bytes, has no NUL or control byte,
 * no leading or trailing '/', and no empty, "." or ".." segment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"
/* The library is built without coverage instrumentation; compiling key.c into this target
 * gives libFuzzer feedback from the code under test. The linker then takes these
 * definitions and never pulls key.o from the archive. */
#include "../src/storage/key.c"

static void check_accepted(const unsigned char *k, size_t n)
{
    if (n == 0 || n > LH_KEY_MAX || k[0] == '/' || k[n - 1] == '/')
        abort();
    size_t seg = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && (k[i] < 0x20 || k[i] == 0x7f))
            abort();
        if (i < n && k[i] != '/')
            continue;
        size_t len = i - seg;
        if (len == 0 || (len == 1 && k[seg] == '.') ||
            (len == 2 && k[seg] == '.' && k[seg + 1] == '.'))
            abort();
        seg = i + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy so the checker sees exactly (ptr, len), with no byte past the end to lean on. */
    char *key = malloc(size ? size : 1);
    if (key == NULL)
        return 0;
    if (size)
        memcpy(key, data, size);
    lh_err err = LH_ERR_INIT;
    int rc = lh_storage_key_check(key, size, &err);
    if (rc == 0)
        check_accepted((const unsigned char *)key, size);
    else if (rc != -1 || err.code != LH_INVALID_ARGUMENT || err.message[0] == '\0')
        abort();
    free(key);
    return 0;
}
