/* vector: metrics and the dispatched distance kernels. The best instruction set this CPU
 * has (AVX-512, AVX2+FMA, else portable C) is picked once, on first use, and every caller
 * (HNSW, exact search, vindex) goes through the same table. The scalar references live here
 * too: they are the fallback and what the tests hold the SIMD kernels to. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "vector/kernels_int.h"
#include "vector/vector.h"

/* ---- metrics ------------------------------------------------------------------------------ */

static const char *const metric_names[] = {
    [LH_METRIC_COSINE] = "cosine",
    [LH_METRIC_IP] = "ip",
    [LH_METRIC_L2] = "l2",
};

int lh_metric_parse(const char *name, lh_metric *out, lh_err *err)
{
    if (name) {
        for (size_t i = 0; i < LH_ARRAY_LEN(metric_names); i++) {
            if (strcmp(name, metric_names[i]) == 0) {
                *out = (lh_metric)i;
                return 0;
            }
        }
    }
    return lh_err_set(err, LH_INVALID_ARGUMENT,
                      "unknown metric '%.64s': expected cosine, ip or l2", name ? name : "");
}

const char *lh_metric_name(lh_metric m)
{
    if ((unsigned)m < LH_ARRAY_LEN(metric_names))
        return metric_names[m];
    return "unknown";
}

float lh_metric_score(lh_metric m, float dist)
{
    switch (m) {
    case LH_METRIC_COSINE:
        return 1.0f - dist; /* the cosine similarity */
    case LH_METRIC_IP:
        return -dist; /* the inner product */
    case LH_METRIC_L2:
        break;
    }
    return dist; /* squared L2: lower is better, shown as is */
}

/* ---- scalar references -------------------------------------------------------------------- */

/* Four partial sums: the same shape of rounding as the SIMD kernels (closer results in the
 * tests) and independent chains the compiler can keep in flight on CPUs without AVX2. */
float lh_vec_dot_scalar(const float *a, const float *b, size_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

float lh_vec_l2sq_scalar(const float *a, const float *b, size_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
        float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i < n; i++) {
        float d = a[i] - b[i];
        s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static const lh_vec__kernels k_scalar = {"scalar", lh_vec_dot_scalar, lh_vec_l2sq_scalar};
#ifdef LH_VEC_X86
static const lh_vec__kernels k_avx2 = {"avx2", lh_vec__dot_avx2, lh_vec__l2sq_avx2};
static const lh_vec__kernels k_avx512 = {"avx512", lh_vec__dot_avx512, lh_vec__l2sq_avx512};
#endif

/* NULL until first use. An atomic pointer (not a pthread_once per call) keeps the hot path
 * at one load, and lets lh_vec_force_isa swap tables without a data race on the pointer. */
static _Atomic(const lh_vec__kernels *) g_active;
static const lh_vec__kernels *g_best;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static bool cpu_has(const char *isa)
{
#ifdef LH_VEC_X86
    __builtin_cpu_init();
    if (strcmp(isa, "avx512") == 0)
        return __builtin_cpu_supports("avx512f");
    if (strcmp(isa, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return strcmp(isa, "scalar") == 0;
}

static void pick_best(void)
{
    g_best = &k_scalar;
#ifdef LH_VEC_X86
    if (cpu_has("avx512"))
        g_best = &k_avx512;
    else if (cpu_has("avx2"))
        g_best = &k_avx2;
#endif
    const lh_vec__kernels *none = NULL;
    /* A forced table set before the first kernel call wins over the detected one. */
    atomic_compare_exchange_strong(&g_active, &none, g_best);
}

const lh_vec__kernels *lh_vec__active(void)
{
    const lh_vec__kernels *k = atomic_load_explicit(&g_active, memory_order_acquire);
    if (__builtin_expect(k != NULL, 1))
        return k;
    pthread_once(&g_once, pick_best);
    return atomic_load_explicit(&g_active, memory_order_acquire);
}

float lh_vec_dot(const float *a, const float *b, size_t n)
{
    return lh_vec__active()->dot(a, b, n);
}

float lh_vec_l2sq(const float *a, const float *b, size_t n)
{
    return lh_vec__active()->l2sq(a, b, n);
}

float lh_vec_dist(lh_metric m, const float *a, const float *b, size_t n)
{
    const lh_vec__kernels *k = lh_vec__active();
    switch (m) {
    case LH_METRIC_COSINE:
        return 1.0f - k->dot(a, b, n);
    case LH_METRIC_IP:
        return -k->dot(a, b, n);
    case LH_METRIC_L2:
        break;
    }
    return k->l2sq(a, b, n);
}

const char *lh_vec_isa(void)
{
    return lh_vec__active()->isa;
}

int lh_vec_force_isa(const char *isa, lh_err *err)
{
    pthread_once(&g_once, pick_best);
    const lh_vec__kernels *k = NULL;
    if (!isa)
        k = g_best;
    else if (strcmp(isa, "scalar") == 0)
        k = &k_scalar;
#ifdef LH_VEC_X86
    else if (strcmp(isa, "avx2") == 0 && cpu_has("avx2"))
        k = &k_avx2;
    else if (strcmp(isa, "avx512") == 0 && cpu_has("avx512"))
        k = &k_avx512;
#endif
    if (!k) {
        if (strcmp(isa, "avx512") == 0 || strcmp(isa, "avx2") == 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "instruction set '%s' not available on this cpu",
                              isa);
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "unknown instruction set '%.64s': expected avx512, avx2 or scalar", isa);
    }
    atomic_store_explicit(&g_active, k, memory_order_release);
    return 0;
}

/* ---- vector helpers ----------------------------------------------------------------------- */

float lh_vec_normalize(float *v, size_t n)
{
    /* Summed in double: the squares of large finite floats would overflow a float sum and
     * turn a usable vector into zeros. Normalisation runs once per vector, not per distance. */
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (double)v[i] * (double)v[i];
    double norm = sqrt(ss);
    if (norm > 0 && isfinite(norm)) {
        double inv = 1.0 / norm;
        for (size_t i = 0; i < n; i++)
            v[i] = (float)((double)v[i] * inv);
    }
    return (float)norm;
}

bool lh_vec_usable(const float *v, size_t n)
{
    bool nonzero = false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return false;
        if (v[i] != 0.0f)
            nonzero = true;
    }
    return nonzero;
}
