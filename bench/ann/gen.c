/* gen: the ANN benchmark's data. Seeded clustered unit vectors — base set and queries from the
 * same distribution — and the exact top-100 of every query by inner product, computed with
 * the project's lh_exact_search and checked against a plain double-precision brute force on a
 * few queries. Writes <out>.base.fvecs, <out>.query.fvecs, <out>.gt.ivecs (each atomically).
 * Usage: gen --out PREFIX [--n 100000] [--queries 1000] [--dim 768] [--seed 42]
 *            [--clusters 100] [--rank 64] [--spread 1.0] [--noise 0.6] [--threads 2] [--verify 5]
 *
 * The model: C centres uniform on the sphere; each cluster owns a random rank-R subspace;
 * a point is centre + spread * (a gaussian in that subspace) + noise * (an isotropic
 * gaussian), normalised. Real embeddings have a low intrinsic dimension and topical clusters;
 * pure isotropic noise in 768 dimensions would make every neighbour equidistant, a case no
 * ANN index (ours or hnswlib) is built for. */
#include "common.h"
#include "vector/vector.h"

/* ---- xoshiro256** seeded by splitmix64: one independent stream per purpose ------------- */

typedef struct rng {
    uint64_t s[4];
    double spare;
    int has_spare;
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Streams differ by `stream`, so the queries do not depend on how many base rows came first
 * (a 20K and a 100K run share their cluster model and queries). */
static void rng_init(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in (0, 1): never 0, so the log below is finite. */
static double rng_unit(rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53; }

/* Standard normal by Box-Muller (both values used). */
static double rng_gauss(rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u = rng_unit(r), v = rng_unit(r), m = sqrt(-2.0 * log(u));
    r->spare = m * sin(2.0 * M_PI * v);
    r->has_spare = 1;
    return m * cos(2.0 * M_PI * v);
}

/* ---- the cluster model ------------------------------------------------------------------- */

typedef struct model {
    size_t dim, clusters, rank;
    double spread, noise;
    float *centres; /* clusters x dim, unit */
    float *basis;   /* clusters x rank x dim, rows of norm ~1 */
} model;

static void model_init(model *m, uint64_t seed)
{
    rng r;
    rng_init(&r, seed, 1);
    m->centres = (float *)xmalloc(m->clusters * m->dim * sizeof(float));
    m->basis = (float *)xmalloc(m->clusters * m->rank * m->dim * sizeof(float));
    double inv = 1.0 / sqrt((double)m->dim);
    for (size_t c = 0; c < m->clusters; c++) {
        float *ce = m->centres + c * m->dim;
        double norm = 0;
        for (size_t j = 0; j < m->dim; j++) {
            double g = rng_gauss(&r);
            ce[j] = (float)g;
            norm += g * g;
        }
        for (size_t j = 0; j < m->dim; j++)
            ce[j] = (float)(ce[j] / sqrt(norm));
        float *b = m->basis + c * m->rank * m->dim;
        for (size_t j = 0; j < m->rank * m->dim; j++)
            b[j] = (float)(rng_gauss(&r) * inv);
    }
}

/* One point of the distribution into out[0..dim). */
static void model_draw(const model *m, rng *r, float *out, double *tmp)
{
    size_t c = (size_t)(rng_unit(r) * (double)m->clusters);
    if (c >= m->clusters)
        c = m->clusters - 1;
    const float *ce = m->centres + c * m->dim, *b = m->basis + c * m->rank * m->dim;
    double iso = m->noise / sqrt((double)m->dim), low = m->spread / sqrt((double)m->rank);
    for (size_t j = 0; j < m->dim; j++)
        tmp[j] = ce[j] + iso * rng_gauss(r);
    for (size_t k = 0; k < m->rank; k++) {
        double z = low * rng_gauss(r);
        const float *row = b + k * m->dim;
        for (size_t j = 0; j < m->dim; j++)
            tmp[j] += z * row[j];
    }
    double norm = 0;
    for (size_t j = 0; j < m->dim; j++)
        norm += tmp[j] * tmp[j];
    norm = sqrt(norm);
    for (size_t j = 0; j < m->dim; j++)
        out[j] = (float)(tmp[j] / norm);
}

static float *draw_set(const model *m, uint64_t seed, uint64_t stream, size_t n)
{
    rng r;
    rng_init(&r, seed, stream);
    float *v = (float *)xmalloc(n * m->dim * sizeof(float));
    double *tmp = (double *)xmalloc(m->dim * sizeof(double));
    for (size_t i = 0; i < n; i++)
        model_draw(m, &r, v + i * m->dim, tmp);
    free(tmp);
    return v;
}

/* ---- checking lh_exact_search against a plain brute force --------------------------------- */

typedef struct ref_hit {
    double dist;
    uint32_t id;
} ref_hit;

static int cmp_ref(const void *a, const void *b)
{
    const ref_hit *x = (const ref_hit *)a, *y = (const ref_hit *)b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static double dot_double(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t j = 0; j < n; j++)
        s += (double)a[j] * (double)b[j];
    return s;
}

/* The exact answer for one query must hold the true top-k up to float rounding: every id it
 * returns lies within the reference k-th distance (+eps), its distances match a double
 * recomputation, and it is sorted. Exits with what differed. */
static void verify_query(const float *base, size_t n, size_t dim, const float *q,
                         const lh_hit *got, size_t k, size_t qi)
{
    ref_hit *all = (ref_hit *)xmalloc(n * sizeof(ref_hit));
    for (size_t i = 0; i < n; i++) {
        all[i].dist = -dot_double(base + i * dim, q, dim);
        all[i].id = (uint32_t)i;
    }
    qsort(all, n, sizeof *all, cmp_ref);
    const double eps = 1e-4;
    double kth = all[k - 1].dist;
    size_t same = 0;
    for (size_t i = 0; i < k; i++) {
        if (got[i].id >= n) {
            fprintf(stderr, "gen: query %zu: hit %zu has id %u >= n\n", qi, i, got[i].id);
            exit(1);
        }
        double d = -dot_double(base + (size_t)got[i].id * dim, q, dim);
        if (fabs(d - (double)got[i].dist) > eps || d > kth + eps ||
            (i > 0 && got[i].dist < got[i - 1].dist)) {
            fprintf(stderr,
                    "gen: lh_exact_search disagrees with brute force on query %zu, rank %zu: "
                    "id %u dist %.6f (recomputed %.6f, true k-th %.6f)\n",
                    qi, i, got[i].id, (double)got[i].dist, d, kth);
            exit(1);
        }
        for (size_t j = 0; j < k; j++)
            if (all[j].id == got[i].id) {
                same++;
                break;
            }
    }
    fprintf(stderr, "gen: query %zu verified: %zu/%zu ids identical to brute force (rest ties)\n",
            qi, same, k);
    free(all);
}

/* ---- main ------------------------------------------------------------------------------------ */

static unsigned long long arg_num(const char *flag, const char *v)
{
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v ? v : "", &end, 10);
    if (!v || !*v || *end || errno) {
        fprintf(stderr, "gen: %s wants a non-negative integer\n", flag);
        exit(2);
    }
    return x;
}

static double arg_real(const char *flag, const char *v)
{
    char *end = NULL;
    double x = strtod(v ? v : "", &end);
    if (!v || !*v || *end || !(x >= 0)) {
        fprintf(stderr, "gen: %s wants a non-negative number\n", flag);
        exit(2);
    }
    return x;
}

int main(int argc, char **argv)
{
    size_t n = 100000, nq = 1000, verify = 5;
    int threads = 2;
    uint64_t seed = 42;
    const char *out = NULL;
    model m = {.dim = 768, .clusters = 100, .rank = 64, .spread = 1.0, .noise = 0.6};
    for (int i = 1; i < argc; i += 2) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(f, "--out") && v)
            out = v;
        else if (!strcmp(f, "--n"))
            n = arg_num(f, v);
        else if (!strcmp(f, "--queries"))
            nq = arg_num(f, v);
        else if (!strcmp(f, "--dim"))
            m.dim = arg_num(f, v);
        else if (!strcmp(f, "--seed"))
            seed = arg_num(f, v);
        else if (!strcmp(f, "--clusters"))
            m.clusters = arg_num(f, v);
        else if (!strcmp(f, "--rank"))
            m.rank = arg_num(f, v);
        else if (!strcmp(f, "--spread"))
            m.spread = arg_real(f, v);
        else if (!strcmp(f, "--noise"))
            m.noise = arg_real(f, v);
        else if (!strcmp(f, "--threads"))
            threads = (int)arg_num(f, v);
        else if (!strcmp(f, "--verify"))
            verify = arg_num(f, v);
        else {
            fprintf(stderr, "gen: unknown or incomplete argument '%s'\n", f);
            return 2;
        }
    }
    if (!out || n < GT_K || nq == 0 || m.dim == 0 || m.dim > 65536 || m.clusters == 0 ||
        m.rank == 0 || n > (size_t)UINT32_MAX) {
        fprintf(stderr, "gen: need --out, --n >= %d, --queries >= 1, 1 <= --dim <= 65536, "
                        "--clusters >= 1, --rank >= 1\n", GT_K);
        return 2;
    }

    double t0 = now_s();
    model_init(&m, seed);
    float *base = draw_set(&m, seed, 2, n);
    float *qs = draw_set(&m, seed, 3, nq);
    double t1 = now_s();
    fprintf(stderr, "gen: %zu base + %zu queries x %zu dims in %.1f s\n", n, nq, m.dim, t1 - t0);

    int32_t *gt = (int32_t *)xmalloc(nq * GT_K * sizeof(int32_t));
    lh_hit *hits = (lh_hit *)xmalloc(GT_K * sizeof(lh_hit));
    size_t every = verify ? (nq + verify - 1) / verify : 0;
    for (size_t qi = 0; qi < nq; qi++) {
        const float *q = qs + qi * m.dim;
        size_t got = lh_exact_search(base, n, m.dim, LH_METRIC_IP, q, GT_K, threads, hits);
        if (got != GT_K) {
            fprintf(stderr, "gen: lh_exact_search returned %zu hits, expected %d\n", got, GT_K);
            return 1;
        }
        if (every && qi % every == 0)
            verify_query(base, n, m.dim, q, hits, GT_K, qi);
        for (size_t j = 0; j < GT_K; j++)
            gt[qi * GT_K + j] = (int32_t)hits[j].id;
    }
    double t2 = now_s();
    fprintf(stderr,
            "gen: exact top-%d of %zu queries in %.1f s (lh_exact_search, %d threads, %s)\n",
            GT_K, nq, t2 - t1, threads, lh_vec_isa());

    char path[4096];
    data_path(path, sizeof path, out, "base.fvecs");
    write_vecs(path, base, n, m.dim);
    data_path(path, sizeof path, out, "query.fvecs");
    write_vecs(path, qs, nq, m.dim);
    /* Written last: its presence is what marks the data set complete. */
    data_path(path, sizeof path, out, "gt.ivecs");
    write_vecs(path, gt, nq, GT_K);
    free(hits);
    free(gt);
    free(qs);
    free(base);
    free(m.centres);
    free(m.basis);
    return 0;
}
