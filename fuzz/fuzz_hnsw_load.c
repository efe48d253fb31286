/* libFuzzer target for lh_hnsw_load, which maps index files from the lake. Any input must give
 * either an index that searches (and grows) within bounds or an lh_err with code `corrupt`,
 * never a crash, a leak or undefined behaviour. When the first input byte is odd, the rest has
 * its trailing checksum recomputed first, so the fuzzer reaches the structural checks behind
 * the checksum (links, levels, sections) instead of stopping at it every time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "vector/hnsw_int.h"
#include "vector/vector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_file(void)
{
    unlink(path);
}

static void write_file(const uint8_t *p, size_t n)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz_hnsw_%ld.bin", (long)getpid());
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (n && fwrite(p, 1, n, f) != n)
        abort();
    if (fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > ((size_t)1 << 20))
        return 0;
    size_t n = size - 1;
    uint8_t *file = malloc(n ? n : 1);
    memcpy(file, data + 1, n);
    if ((data[0] & 1) && n >= 8) {
        uint64_t sum = lh_hnsw__checksum(file, n - 8);
        memcpy(file + n - 8, &sum, 8);
    }
    write_file(file, n);
    free(file);

    lh_err err = LH_ERR_INIT;
    lh_hnsw *h = lh_hnsw_load(path, &err);
    if (!h) {
        if (err.code != LH_CORRUPT)
            abort();
        return 0;
    }
    size_t dim = lh_hnsw_dim(h), count = lh_hnsw_count(h);
    float *q = malloc(dim * sizeof(float));
    for (size_t i = 0; i < dim; i++)
        q[i] = (float)(i % 7) - 3.0f + 0.5f;
    lh_hit hits[8];
    size_t got = lh_hnsw_search(h, q, 8, 16, hits);
    for (size_t i = 0; i < got; i++)
        if (hits[i].id >= count)
            abort();
    /* Growing a loaded index copies it off the map; the copy must search the same way. */
    uint32_t id;
    if (lh_hnsw_add(h, q, &id, &err) != 0 || id != count)
        abort();
    got = lh_hnsw_search(h, q, 8, 16, hits);
    for (size_t i = 0; i < got; i++)
        if (hits[i].id > count)
            abort();
    free(q);
    lh_hnsw_free(h);
    return 0;
}
