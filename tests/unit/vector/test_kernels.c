/* Tests for src/vector/kernels*.c: every SIMD kernel this CPU has against the scalar
 * reference on random data of awkward sizes, the metric helpers, normalisation and
 * lh_vec_usable. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vector/vector.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float frand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 384, 768, 1000, 1536};

/* Relative to the sum of absolute terms, which bounds the rounding of any summation order. */
static void expect_close(float got, float want, double mag, const char *what, size_t n)
{
    double tol = 1e-5 * mag + 1e-6;
    cr_expect(fabs((double)got - (double)want) <= tol, "%s n=%zu: got %.9g want %.9g (tol %.3g)",
              what, n, got, want, tol);
}

static void check_against_scalar(const char *isa)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_vec_force_isa(isa, &err), 0, "%s: %s", isa, err.message);
    cr_assert_str_eq(lh_vec_isa(), isa);
    /* +1 so the vectors start at an odd offset: the kernels must not need alignment. */
    float *a = malloc((1536 + 1) * sizeof(float)), *b = malloc((1536 + 1) * sizeof(float));
    for (int rep = 0; rep < 3; rep++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            size_t n = sizes[s];
            float *pa = a + 1, *pb = b + (rep & 1);
            double mag_dot = 0, mag_l2 = 0;
            for (size_t i = 0; i < n; i++) {
                pa[i] = frand() * 3.0f;
                pb[i] = frand() * 3.0f;
                mag_dot += fabs((double)pa[i] * pb[i]);
                mag_l2 += ((double)pa[i] - pb[i]) * ((double)pa[i] - pb[i]);
            }
            expect_close(lh_vec_dot(pa, pb, n), lh_vec_dot_scalar(pa, pb, n), mag_dot, "dot", n);
            expect_close(lh_vec_l2sq(pa, pb, n), lh_vec_l2sq_scalar(pa, pb, n), mag_l2, "l2sq", n);
            double exact = 0;
            for (size_t i = 0; i < n; i++)
                exact += (double)pa[i] * pb[i];
            expect_close(lh_vec_dot(pa, pb, n), (float)exact, mag_dot, "dot vs double", n);
            cr_expect_eq(lh_vec_l2sq(pa, pa, n), 0.0f);
        }
    }
    free(a);
    free(b);
    cr_assert_eq(lh_vec_force_isa(NULL, &err), 0);
}

Test(kernels, scalar_matches_double)
{
    check_against_scalar("scalar");
}

Test(kernels, avx2_matches_scalar)
{
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        lh_err err = LH_ERR_INIT;
        cr_expect_eq(lh_vec_force_isa("avx2", &err), -1);
        cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
        return;
    }
    check_against_scalar("avx2");
}

Test(kernels, avx512_matches_scalar)
{
    if (!__builtin_cpu_supports("avx512f")) {
        lh_err err = LH_ERR_INIT;
        cr_expect_eq(lh_vec_force_isa("avx512", &err), -1);
        cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
        return;
    }
    check_against_scalar("avx512");
}

Test(kernels, picks_best_isa)
{
    const char *want = __builtin_cpu_supports("avx512f") ? "avx512"
                       : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? "avx2"
                                                                                          : "scalar";
    cr_expect_str_eq(lh_vec_isa(), want);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_vec_force_isa("scalar", &err), 0);
    cr_expect_str_eq(lh_vec_isa(), "scalar");
    cr_assert_eq(lh_vec_force_isa(NULL, &err), 0);
    cr_expect_str_eq(lh_vec_isa(), want);
}

Test(kernels, force_isa_rejects_unknown)
{
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_vec_force_isa("sse9", &err), -1);
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect(strstr(err.message, "sse9") != NULL, "%s", err.message);
}

Test(kernels, exact_small_values)
{
    float a[5] = {1, 2, 3, 4, 5}, b[5] = {5, 4, 3, 2, 1};
    cr_expect_eq(lh_vec_dot(a, b, 5), 35.0f);
    cr_expect_eq(lh_vec_l2sq(a, b, 5), 40.0f);
    cr_expect_eq(lh_vec_dot(a, b, 0), 0.0f);
    cr_expect_eq(lh_vec_dist(LH_METRIC_IP, a, b, 5), -35.0f);
    cr_expect_eq(lh_vec_dist(LH_METRIC_L2, a, b, 5), 40.0f);
    float u[2] = {0.6f, 0.8f}, w[2] = {0.8f, 0.6f};
    cr_expect_float_eq(lh_vec_dist(LH_METRIC_COSINE, u, w, 2), 1.0f - 0.96f, 1e-6);
}

Test(kernels, metric_parse_and_names)
{
    lh_err err = LH_ERR_INIT;
    lh_metric m = LH_METRIC_L2;
    cr_assert_eq(lh_metric_parse("cosine", &m, &err), 0);
    cr_expect_eq(m, LH_METRIC_COSINE);
    cr_assert_eq(lh_metric_parse("ip", &m, &err), 0);
    cr_expect_eq(m, LH_METRIC_IP);
    cr_assert_eq(lh_metric_parse("l2", &m, &err), 0);
    cr_expect_eq(m, LH_METRIC_L2);
    for (int i = 0; i <= 2; i++) {
        lh_metric back;
        cr_assert_eq(lh_metric_parse(lh_metric_name((lh_metric)i), &back, &err), 0);
        cr_expect_eq((int)back, i);
    }
    const char *bad[] = {"", "L2", "cos", "euclidean", "l2 "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lh_err e = LH_ERR_INIT;
        cr_expect_eq(lh_metric_parse(bad[i], &m, &e), -1, "'%s' accepted", bad[i]);
        cr_expect_eq(e.code, LH_INVALID_ARGUMENT);
        cr_expect(strstr(e.message, "cosine, ip or l2") != NULL, "%s", e.message);
    }
    lh_err e = LH_ERR_INIT;
    cr_expect_eq(lh_metric_parse(NULL, &m, &e), -1);
    cr_expect_eq(e.code, LH_INVALID_ARGUMENT);
}

Test(kernels, metric_scores)
{
    cr_expect_float_eq(lh_metric_score(LH_METRIC_COSINE, 0.25f), 0.75f, 1e-7);
    cr_expect_eq(lh_metric_score(LH_METRIC_IP, -3.5f), 3.5f);
    cr_expect_eq(lh_metric_score(LH_METRIC_L2, 2.0f), 2.0f);
}

Test(kernels, normalize)
{
    float v[3] = {3, 0, 4};
    cr_expect_float_eq(lh_vec_normalize(v, 3), 5.0f, 1e-6);
    cr_expect_float_eq(v[0], 0.6f, 1e-7);
    cr_expect_float_eq(v[2], 0.8f, 1e-7);
    cr_expect_float_eq(lh_vec_dot(v, v, 3), 1.0f, 1e-6);

    float z[4] = {0, 0, 0, 0};
    cr_expect_eq(lh_vec_normalize(z, 4), 0.0f);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(z[i], 0.0f);

    /* Squares of these overflow a float sum; the result must still be a unit vector. */
    float big[2] = {3e30f, 4e30f};
    cr_expect_float_eq(lh_vec_normalize(big, 2), 5e30f, 1e24);
    cr_expect_float_eq(big[0], 0.6f, 1e-6);
    cr_expect_float_eq(big[1], 0.8f, 1e-6);

    float r[768];
    for (int i = 0; i < 768; i++)
        r[i] = frand();
    (void)lh_vec_normalize(r, 768);
    cr_expect_float_eq(lh_vec_dot(r, r, 768), 1.0f, 1e-5);
}

Test(kernels, usable)
{
    float ok[3] = {0, 1e-30f, 0};
    cr_expect(lh_vec_usable(ok, 3));
    float zero[3] = {0, -0.0f, 0};
    cr_expect(!lh_vec_usable(zero, 3));
    cr_expect(!lh_vec_usable(zero, 0));
    float nan_v[3] = {1, NAN, 2};
    cr_expect(!lh_vec_usable(nan_v, 3));
    float inf_v[3] = {1, 2, -INFINITY};
    cr_expect(!lh_vec_usable(inf_v, 3));
    float big[1] = {3.4e38f};
    cr_expect(lh_vec_usable(big, 1));
}

Test(kernels, result_does_not_depend_on_address)
{
    /* Equal vectors must give bitwise equal distances wherever they sit in memory (exact
     * search breaks ties by id and HNSW promises reproducible graphs). */
    const char *isas[] = {"scalar", "avx2", "avx512"};
    float *buf = malloc((1000 + 32) * sizeof(float)), q[1000], v[1000];
    for (int i = 0; i < 1000; i++) {
        q[i] = frand();
        v[i] = frand();
    }
    for (size_t k = 0; k < 3; k++) {
        lh_err err = LH_ERR_INIT;
        if (lh_vec_force_isa(isas[k], &err) != 0)
            continue;
        float d0 = lh_vec_dot(v, q, 1000), l0 = lh_vec_l2sq(v, q, 1000);
        for (int off = 0; off < 32; off++) {
            memcpy(buf + off, v, sizeof v);
            cr_expect_eq(lh_vec_dot(buf + off, q, 1000), d0, "%s offset %d", isas[k], off);
            cr_expect_eq(lh_vec_l2sq(buf + off, q, 1000), l0, "%s offset %d", isas[k], off);
        }
    }
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_vec_force_isa(NULL, &err), 0);
    free(buf);
}
