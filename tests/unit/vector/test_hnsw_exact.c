/* lh_hnsw_exact_search: the exact scan run in place over an HNSW index's node blocks must
 * give the same answer as lh_exact_search over a plain copy of the same vectors, across
 * several storage chunks, for every metric and thread count, and for a loaded (mapped)
 * index. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

#include "vector/hnsw_int.h"
#include "vector/vector.h"

static uint64_t rng_state = 42;
static float frand(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rng_state >> 40) & 0xFFFFFF) / (float)0x1000000 - 0.5f;
}

static void check_same(const lh_hnsw *h, const float *plain, size_t n, size_t dim,
                       lh_metric m, const float *q, int threads)
{
    lh_hit a[25], b[25];
    size_t na = lh_hnsw_exact_search(h, q, 25, threads, a);
    size_t nb = lh_exact_search(plain, n, dim, m, q, 25, threads, b);
    cr_assert_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        cr_expect_eq(a[i].id, b[i].id, "rank %zu: %u vs %u", i, a[i].id, b[i].id);
        cr_expect_float_eq(a[i].dist, b[i].dist, 1e-5f);
    }
}

Test(hnsw_exact, matches_plain_exact_search_across_chunks)
{
    const size_t dim = 8;
    lh_metric metrics[] = {LH_METRIC_COSINE, LH_METRIC_IP, LH_METRIC_L2};
    for (size_t mi = 0; mi < 3; mi++) {
        lh_err err = LH_ERR_INIT;
        lh_hnsw_params p = {.M = 4, .ef_construction = 8, .seed = 7, .metric = metrics[mi]};
        lh_hnsw *h = lh_hnsw_new(dim, &p, &err);
        cr_assert_not_null(h, "%s", err.message);
        size_t per = (size_t)1 << h->shift;
        size_t n = per + per / 2 + 3; /* more than one chunk, the last one partly used */
        float *plain = malloc(n * dim * sizeof(float));
        for (size_t i = 0; i < n * dim; i++)
            plain[i] = frand();
        if (metrics[mi] == LH_METRIC_COSINE)
            for (size_t i = 0; i < n; i++)
                lh_vec_normalize(plain + i * dim, dim);
        cr_assert_eq(lh_hnsw_add_batch(h, plain, n, 2, &err), 0, "%s", err.message);
        float q[8];
        for (int round = 0; round < 5; round++) {
            for (size_t i = 0; i < dim; i++)
                q[i] = frand();
            float qn[8];
            for (size_t i = 0; i < dim; i++)
                qn[i] = q[i];
            if (metrics[mi] == LH_METRIC_COSINE)
                lh_vec_normalize(qn, dim);
            check_same(h, plain, n, dim, metrics[mi], qn, 1);
            check_same(h, plain, n, dim, metrics[mi], qn, 2);
        }
        /* A loaded index scans its map the same way. */
        char path[] = "/tmp/lh-hnsw-exact-XXXXXX";
        int fd = mkstemp(path);
        cr_assert_geq(fd, 0);
        close(fd);
        cr_assert_eq(lh_hnsw_save(h, path, &err), 0, "%s", err.message);
        lh_hnsw *l = lh_hnsw_load(path, &err);
        cr_assert_not_null(l, "%s", err.message);
        if (metrics[mi] == LH_METRIC_COSINE)
            lh_vec_normalize(q, dim);
        check_same(l, plain, n, dim, metrics[mi], q, 2);
        /* Unusable queries find nothing. */
        float zero[8] = {0};
        lh_hit hits[4];
        cr_expect_eq(lh_hnsw_exact_search(l, zero, 4, 1, hits), 0);
        lh_hnsw_free(l);
        unlink(path);
        lh_hnsw_free(h);
        free(plain);
    }
}
