/* Tests for src/vector/exact.c: lh_exact_search against a naive sort of every distance, for
 * every metric and 1, 2 and 3 threads, plus k > n, ties, NaN rows and empty inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vector/vector.h"

/* Big enough (n * dim floats) that 3 threads really get a slice each. */
#define N 4100
#define DIM 200

static uint64_t rng = 0x2545f4914f6cdd1dull;

static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static int naive_cmp(const void *pa, const void *pb)
{
    const lh_hit *a = pa, *b = pb;
    if (a->dist != b->dist)
        return a->dist < b->dist ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Every distance through the public lh_vec_dist, sorted by (dist, id). */
static lh_hit *naive(const float *base, size_t n, size_t dim, lh_metric m, const float *q)
{
    lh_hit *all = malloc((n ? n : 1) * sizeof(lh_hit));
    for (size_t i = 0; i < n; i++) {
        float d = lh_vec_dist(m, base + i * dim, q, dim);
        all[i] = (lh_hit){(uint32_t)i, isnan(d) ? INFINITY : d};
    }
    qsort(all, n, sizeof(lh_hit), naive_cmp);
    return all;
}

static float *random_rows(size_t n, size_t dim, bool normalise)
{
    float *v = malloc(n * dim * sizeof(float) + 1);
    for (size_t i = 0; i < n * dim; i++)
        v[i] = frand();
    if (normalise)
        for (size_t i = 0; i < n; i++)
            (void)lh_vec_normalize(v + i * dim, dim);
    return v;
}

static void expect_same(const lh_hit *got, size_t ngot, const lh_hit *want, size_t nwant,
                        const char *ctx)
{
    cr_assert_eq(ngot, nwant, "%s: %zu hits, want %zu", ctx, ngot, nwant);
    for (size_t i = 0; i < ngot; i++) {
        cr_assert_eq(got[i].id, want[i].id, "%s: hit %zu id %u want %u (dist %g vs %g)", ctx, i,
                     got[i].id, want[i].id, got[i].dist, want[i].dist);
        cr_assert_eq(got[i].dist, want[i].dist, "%s: hit %zu", ctx, i);
    }
}

Test(exact, matches_naive_all_metrics_and_threads)
{
    for (int mi = 0; mi < 3; mi++) {
        lh_metric m = (lh_metric)mi;
        float *base = random_rows(N, DIM, m == LH_METRIC_COSINE);
        float *q = random_rows(1, DIM, m == LH_METRIC_COSINE);
        lh_hit *want = naive(base, N, DIM, m, q);
        const size_t ks[] = {1, 10, 100};
        lh_hit out[100];
        for (int t = 0; t <= 3; t++) {
            for (size_t ki = 0; ki < 3; ki++) {
                char ctx[64];
                snprintf(ctx, sizeof ctx, "%s threads=%d k=%zu", lh_metric_name(m), t, ks[ki]);
                memset(out, 0xff, sizeof out);
                size_t got = lh_exact_search(base, N, DIM, m, q, ks[ki], t, out);
                expect_same(out, got, want, ks[ki], ctx);
            }
        }
        free(want);
        free(q);
        free(base);
    }
}

Test(exact, k_larger_than_n_returns_all_sorted)
{
    size_t n = 37, dim = 17;
    float *base = random_rows(n, dim, false), *q = random_rows(1, dim, false);
    lh_hit *want = naive(base, n, dim, LH_METRIC_L2, q);
    lh_hit out[37];
    for (int t = 1; t <= 3; t++)
        expect_same(out, lh_exact_search(base, n, dim, LH_METRIC_L2, q, 1000, t, out), want, n,
                    "k>n");
    free(want);
    free(q);
    free(base);
}

Test(exact, ties_go_to_lower_id)
{
    /* Every row equal: the top k must be ids 0..k-1, whichever thread saw them. */
    size_t n = 3000, dim = 300;
    float *base = malloc(n * dim * sizeof(float));
    float q[300];
    for (size_t j = 0; j < dim; j++)
        q[j] = frand();
    for (size_t i = 0; i < n; i++)
        memcpy(base + i * dim, q, sizeof q);
    lh_hit out[50];
    for (int t = 1; t <= 3; t++) {
        size_t got = lh_exact_search(base, n, dim, LH_METRIC_IP, q, 50, t, out);
        cr_assert_eq(got, 50);
        for (size_t i = 0; i < got; i++)
            cr_assert_eq(out[i].id, i, "threads=%d hit %zu id %u", t, i, out[i].id);
    }
    /* Two groups of ties: the nearer group first, each in id order. */
    for (size_t i = 0; i < n; i += 2)
        base[i * dim] += 1.0f;
    for (int t = 1; t <= 3; t++) {
        size_t got = lh_exact_search(base, n, dim, LH_METRIC_L2, q, 50, t, out);
        cr_assert_eq(got, 50);
        for (size_t i = 0; i < got; i++)
            cr_assert_eq(out[i].id, 2 * i + 1, "threads=%d hit %zu id %u", t, i, out[i].id);
    }
    free(base);
}

Test(exact, nan_rows_sort_last)
{
    size_t n = 10, dim = 4;
    float *base = random_rows(n, dim, false), q[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    base[3 * dim + 1] = NAN;
    lh_hit out[10];
    size_t got = lh_exact_search(base, n, dim, LH_METRIC_L2, q, 10, 1, out);
    cr_assert_eq(got, 10);
    cr_expect_eq(out[9].id, 3);
    cr_expect(isinf(out[9].dist));
    got = lh_exact_search(base, n, dim, LH_METRIC_L2, q, 3, 1, out);
    cr_assert_eq(got, 3);
    for (size_t i = 0; i < got; i++)
        cr_expect_neq(out[i].id, 3);
    free(base);
}

Test(exact, empty_inputs)
{
    float row[2] = {1, 2};
    lh_hit out[1] = {{7, 7}};
    cr_expect_eq(lh_exact_search(row, 0, 2, LH_METRIC_L2, row, 5, 1, out), 0);
    cr_expect_eq(lh_exact_search(row, 1, 2, LH_METRIC_L2, row, 0, 1, out), 0);
    cr_expect_eq(out[0].id, 7, "k=0 must not write");
    cr_expect_eq(lh_exact_search(row, 1, 2, LH_METRIC_L2, row, 1, -1, out), 1);
    cr_expect_eq(out[0].id, 0);
    cr_expect_eq(out[0].dist, 0.0f);
}

Test(exact, every_isa_agrees)
{
    size_t n = 500, dim = 77;
    float *base = random_rows(n, dim, false), *q = random_rows(1, dim, false);
    const char *isas[] = {"scalar", "avx2", "avx512"};
    lh_hit ref[20], out[20];
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_vec_force_isa("scalar", &err), 0);
    size_t nref = lh_exact_search(base, n, dim, LH_METRIC_IP, q, 20, 1, ref);
    for (size_t i = 1; i < 3; i++) {
        if (lh_vec_force_isa(isas[i], &err) != 0)
            continue; /* this CPU lacks it */
        size_t got = lh_exact_search(base, n, dim, LH_METRIC_IP, q, 20, 2, out);
        cr_assert_eq(got, nref);
        /* Summation order differs between instruction sets, so distances agree only to
         * rounding; ids can swap between near-equal neighbours and are not compared. */
        for (size_t j = 0; j < got; j++)
            cr_expect_float_eq(out[j].dist, ref[j].dist, 1e-4, "%s hit %zu", isas[i], j);
    }
    cr_assert_eq(lh_vec_force_isa(NULL, &err), 0);
    free(q);
    free(base);
}
