/* libFuzzer target for the streaming JSON checker that locates broken bytes in uploads, and
 * for format detection on the same bytes. The checker must agree with jansson on whether a
 * single document is valid, and any fault it reports must lie within the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    if (size > 0) {
        lh_format fmt;
        lh_err derr = LH_ERR_INIT;
        (void)!lh_ingest__detect(data, size, "fuzz.bin", &fmt, &derr);
    }
    char path[] = "/tmp/lh-fuzz-json-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    lh_err err = LH_ERR_INIT;
    if (lh_write_full(fd, data, size, &err) != 0) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    lh_json_fault fault;
    int rc = lh_ingest__json_find_fault(path, false, &fault, &err);
    unlink(path);
    if (rc == 1 && fault.offset > size)
        abort();
    /* A document jansson accepts whole (no NUL, no duplicate-key rejection) is valid for the
     * checker too. */
    json_error_t je;
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
    if (j && (json_is_object(j) || json_is_array(j)) && rc == 1)
        abort();
    json_decref(j);
    return 0;
}
