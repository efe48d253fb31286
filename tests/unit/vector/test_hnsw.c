/* Tests for the HNSW graph (hnsw.c) and its file format (hnsw_io.c): recall against brute
 * force for each metric, determinism, edge cases, threaded builds, concurrent search while
 * adding, save/load round trips, and corrupt or forged files that must load as `corrupt`. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vector/hnsw_int.h"
#include "vector/vector.h"

#define DIM 32
#define N 2000
#define NQ 50
#define K 10

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float rng_gauss(uint64_t *s)
{
    double u1 = ((rng_next(s) >> 11) + 1) * 0x1.0p-53, u2 = (rng_next(s) >> 11) * 0x1.0p-53;
    return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

/* n points around 20 random centres (spread 0.3 around unit-scale centres), then nq queries
 * drawn the same way: the clustered shape real embeddings have. */
static float *clustered(size_t n, size_t dim, uint64_t seed)
{
    uint64_t s = seed;
    enum { C = 20 };
    float *centres = malloc(C * dim * sizeof(float));
    for (size_t i = 0; i < C * dim; i++)
        centres[i] = rng_gauss(&s);
    float *v = malloc(n * dim * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        size_t c = rng_next(&s) % C;
        for (size_t j = 0; j < dim; j++)
            v[i * dim + j] = centres[c * dim + j] + 0.3f * rng_gauss(&s);
    }
    free(centres);
    return v;
}

static lh_hnsw *build(const float *v, size_t n, lh_metric m, int threads, uint64_t seed)
{
    lh_err err = LH_ERR_INIT;
    lh_hnsw_params p = {.M = 16, .ef_construction = 100, .seed = seed, .metric = m};
    lh_hnsw *h = lh_hnsw_new(DIM, &p, &err);
    cr_assert_not_null(h, "%s", err.message);
    cr_assert_eq(lh_hnsw_add_batch(h, v, n, threads, &err), 0, "%s", err.message);
    cr_assert_eq(lh_hnsw_count(h), n);
    return h;
}

/* Mean recall@K of h over the queries against exact search of the same stored vectors. */
static double recall(const lh_hnsw *h, const float *qs, size_t nq, int ef)
{
    size_t n = lh_hnsw_count(h);
    lh_metric m = lh_hnsw_get_params(h).metric;
    float *base = malloc(n * DIM * sizeof(float));
    for (size_t i = 0; i < n; i++)
        memcpy(base + i * DIM, lh_hnsw_vector(h, (uint32_t)i), DIM * sizeof(float));
    size_t hit = 0;
    for (size_t qi = 0; qi < nq; qi++) {
        float q[DIM];
        memcpy(q, qs + qi * DIM, sizeof q);
        if (m == LH_METRIC_COSINE)
            lh_vec_normalize(q, DIM);
        lh_hit truth[K], got[K];
        size_t nt = lh_exact_search(base, n, DIM, m, q, K, 1, truth);
        size_t ng = lh_hnsw_search(h, qs + qi * DIM, K, ef, got);
        cr_assert_eq(ng, nt);
        for (size_t i = 1; i < ng; i++)
            cr_assert_leq(got[i - 1].dist, got[i].dist);
        for (size_t i = 0; i < nt; i++)
            for (size_t j = 0; j < ng; j++)
                if (truth[i].id == got[j].id) {
                    hit++;
                    break;
                }
    }
    free(base);
    return (double)hit / (double)(nq * K);
}

static void check_recall(lh_metric m)
{
    float *v = clustered(N + NQ, DIM, 7 + (uint64_t)m);
    lh_hnsw *h = build(v, N, m, 1, 42);
    /* A small ef_search, so a graph that is merely connected (not well linked) fails. */
    double r = recall(h, v + N * DIM, NQ, 12);
    cr_log_info("%s recall@10 at ef 12: %.3f", lh_metric_name(m), r);
    cr_expect_geq(r, 0.95, "%s recall@10 %.3f", lh_metric_name(m), r);
    cr_expect_geq(recall(h, v + N * DIM, NQ, 0), r, "the default ef does at least as well");
    lh_hnsw_free(h);
    free(v);
}

Test(hnsw, recall_cosine) { check_recall(LH_METRIC_COSINE); }
Test(hnsw, recall_ip) { check_recall(LH_METRIC_IP); }
Test(hnsw, recall_l2) { check_recall(LH_METRIC_L2); }

Test(hnsw, deterministic_for_seed_and_order)
{
    float *v = clustered(600 + NQ, DIM, 3);
    lh_hnsw *a = build(v, 600, LH_METRIC_L2, 1, 9);
    lh_hnsw *b = lh_hnsw_new(DIM, &(lh_hnsw_params){.M = 16, .ef_construction = 100, .seed = 9,
                                                    .metric = LH_METRIC_L2}, NULL);
    for (size_t i = 0; i < 600; i++) { /* one by one this time: same graph either way */
        uint32_t id;
        cr_assert_eq(lh_hnsw_add(b, v + i * DIM, &id, NULL), 0);
        cr_assert_eq(id, i);
    }
    for (size_t q = 0; q < NQ; q++) {
        lh_hit x[K], y[K];
        size_t nx = lh_hnsw_search(a, v + (600 + q) * DIM, K, 16, x);
        size_t ny = lh_hnsw_search(b, v + (600 + q) * DIM, K, 16, y);
        cr_assert_eq(nx, ny);
        for (size_t i = 0; i < nx; i++) {
            cr_assert_eq(x[i].id, y[i].id);
            cr_assert_float_eq(x[i].dist, y[i].dist, 0);
        }
    }
    lh_hnsw_free(a);
    lh_hnsw_free(b);
    free(v);
}

Test(hnsw, empty_and_k_past_count)
{
    lh_err err = LH_ERR_INIT;
    lh_hnsw *h = lh_hnsw_new(4, &(lh_hnsw_params){.metric = LH_METRIC_COSINE}, &err);
    cr_assert_not_null(h);
    lh_hnsw_params p = lh_hnsw_get_params(h);
    cr_assert_eq(p.M, 16);
    cr_assert_eq(p.ef_construction, 200);
    lh_hit out[10];
    float q[4] = {1, 0, 0, 0};
    cr_assert_eq(lh_hnsw_search(h, q, 10, 0, out), 0);
    cr_assert_null(lh_hnsw_vector(h, 0));
    float rows[5][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {1, 1, 0, 0}, {0, 0, 0, 2}};
    for (uint32_t i = 0; i < 5; i++) {
        uint32_t id;
        cr_assert_eq(lh_hnsw_add(h, rows[i], &id, &err), 0, "%s", err.message);
        cr_assert_eq(id, i);
    }
    cr_assert_eq(lh_hnsw_search(h, q, 10, 0, out), 5);
    cr_assert_eq(out[0].id, 0);
    cr_assert_float_eq(out[0].dist, 0, 1e-6);
    cr_assert_eq(out[1].id, 3);
    cr_assert_float_eq(out[1].dist, 1 - sqrtf(0.5f), 1e-6);
    cr_assert_float_eq(lh_hnsw_vector(h, 4)[3], 1, 1e-6); /* normalised for cosine */
    cr_assert_eq(lh_hnsw_search(h, q, 0, 0, out), 0);
    float zero[4] = {0};
    cr_assert_eq(lh_hnsw_search(h, zero, 3, 0, out), 0);
    cr_assert_eq(lh_hnsw_add(h, zero, NULL, &err), -1);
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
    cr_assert_eq(lh_hnsw_add_batch(h, (float *)rows, 1, 1, &err), 0);
    float two[2][4] = {{1, 2, 3, 4}, {1, NAN, 0, 0}};
    cr_assert_eq(lh_hnsw_add_batch(h, (float *)two, 2, 2, &err), -1);
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
    cr_assert_eq(lh_hnsw_count(h), 6, "a bad row adds nothing");
    cr_assert_gt(lh_hnsw_memory_bytes(h), 6 * 4 * sizeof(float));
    lh_hnsw_free(h);
}

Test(hnsw, bad_parameters)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_null(lh_hnsw_new(0, NULL, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
    cr_assert_null(lh_hnsw_new(8, &(lh_hnsw_params){.M = 1}, &err));
    cr_assert_null(lh_hnsw_new(8, &(lh_hnsw_params){.ef_construction = -3}, &err));
    cr_assert_null(lh_hnsw_new(8, &(lh_hnsw_params){.metric = (lh_metric)7}, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
}

Test(hnsw, batch_with_two_threads)
{
    float *v = clustered(N + NQ, DIM, 11);
    lh_hnsw *h = build(v, N, LH_METRIC_L2, 2, 5);
    for (size_t i = 0; i < N; i += 97)
        cr_assert_eq(memcmp(lh_hnsw_vector(h, (uint32_t)i), v + i * DIM, DIM * sizeof(float)), 0,
                     "ids follow the row order");
    double r = recall(h, v + N * DIM, NQ, 16);
    cr_log_info("two-thread build recall@10 %.3f", r);
    cr_expect_geq(r, 0.95, "recall@10 %.3f", r);
    lh_hnsw_free(h);
    free(v);
}

static char *tmp_path(const char *name)
{
    char *dir = lh_xstrdup("/tmp/lh_hnsw_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char *p = lh_xasprintf("%s/%s", dir, name);
    free(dir);
    return p;
}

static void rm_path(char *p)
{
    unlink(p);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    rmdir(p);
    free(p);
}

Test(hnsw, save_load_round_trip)
{
    float *v = clustered(N + NQ, DIM, 13);
    lh_hnsw *h = build(v, N, LH_METRIC_COSINE, 1, 77);
    char *path = tmp_path("hnsw.bin");
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_hnsw_save(h, path, &err), 0, "%s", err.message);
    lh_hnsw *g = lh_hnsw_load(path, &err);
    cr_assert_not_null(g, "%s", err.message);
    cr_assert_eq(lh_hnsw_count(g), N);
    cr_assert_eq(lh_hnsw_dim(g), DIM);
    lh_hnsw_params p = lh_hnsw_get_params(g);
    cr_assert_eq(p.M, 16);
    cr_assert_eq(p.ef_construction, 100);
    cr_assert_eq(p.seed, 77);
    cr_assert_eq(p.metric, LH_METRIC_COSINE);
    for (size_t q = 0; q < NQ; q++) {
        lh_hit x[K], y[K];
        size_t nx = lh_hnsw_search(h, v + (N + q) * DIM, K, 0, x);
        size_t ny = lh_hnsw_search(g, v + (N + q) * DIM, K, 0, y);
        cr_assert_eq(nx, ny);
        for (size_t i = 0; i < nx; i++) {
            cr_assert_eq(x[i].id, y[i].id);
            cr_assert_float_eq(x[i].dist, y[i].dist, 0);
        }
    }
    /* Adding to a loaded index copies it off the map; both keep growing the same way. */
    for (size_t i = 0; i < NQ; i++) {
        uint32_t a, b;
        cr_assert_eq(lh_hnsw_add(h, v + (N + i) * DIM, &a, &err), 0);
        cr_assert_eq(lh_hnsw_add(g, v + (N + i) * DIM, &b, &err), 0, "%s", err.message);
        cr_assert_eq(a, b);
    }
    lh_hit x[K], y[K];
    size_t nx = lh_hnsw_search(h, v + N * DIM, K, 0, x);
    cr_assert_eq(lh_hnsw_search(g, v + N * DIM, K, 0, y), nx);
    for (size_t i = 0; i < nx; i++)
        cr_assert_eq(x[i].id, y[i].id);
    cr_assert_eq(x[0].id, N, "the added copy of the query is its own nearest");
    /* Saving the grown copy over its own file works, and reloads. */
    cr_assert_eq(lh_hnsw_save(g, path, &err), 0, "%s", err.message);
    lh_hnsw *g2 = lh_hnsw_load(path, &err);
    cr_assert_not_null(g2, "%s", err.message);
    cr_assert_eq(lh_hnsw_count(g2), N + NQ);
    lh_hnsw_free(g2);
    lh_hnsw_free(g);
    lh_hnsw_free(h);
    rm_path(path);
    free(v);
}

Test(hnsw, empty_index_round_trip)
{
    lh_hnsw *h = lh_hnsw_new(3, &(lh_hnsw_params){.metric = LH_METRIC_IP}, NULL);
    char *path = tmp_path("empty.bin");
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_hnsw_save(h, path, &err), 0, "%s", err.message);
    lh_hnsw *g = lh_hnsw_load(path, &err);
    cr_assert_not_null(g, "%s", err.message);
    cr_assert_eq(lh_hnsw_count(g), 0);
    lh_hit out[1];
    float q[3] = {1, 2, 3};
    cr_assert_eq(lh_hnsw_search(g, q, 1, 0, out), 0);
    uint32_t id;
    cr_assert_eq(lh_hnsw_add(g, q, &id, &err), 0, "%s", err.message);
    cr_assert_eq(lh_hnsw_search(g, q, 1, 0, out), 1);
    cr_assert_eq(out[0].id, 0);
    lh_hnsw_free(g);
    lh_hnsw_free(h);
    rm_path(path);
}

typedef struct conc {
    lh_hnsw *h;
    const float *qs;
    atomic_int stop;
    atomic_int bad;
    atomic_long searches;
} conc;

static void *searcher(void *arg)
{
    conc *c = arg;
    for (size_t i = 0; !atomic_load(&c->stop) || i < 20; i++) {
        lh_hit out[K];
        size_t n = lh_hnsw_search(c->h, c->qs + (i % NQ) * DIM, K, 32, out);
        size_t count = lh_hnsw_count(c->h);
        for (size_t j = 0; j < n; j++)
            if (out[j].id >= count || (j && out[j - 1].dist > out[j].dist))
                atomic_fetch_add(&c->bad, 1);
        atomic_fetch_add(&c->searches, 1);
    }
    return NULL;
}

Test(hnsw, concurrent_searches_while_adding)
{
    float *v = clustered(N + NQ, DIM, 17);
    lh_hnsw *h = build(v, 500, LH_METRIC_L2, 1, 3);
    conc c = {.h = h, .qs = v + N * DIM};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, searcher, &c), 0);
    lh_err err = LH_ERR_INIT;
    for (size_t i = 500; i < N; i += 100) { /* batches on two threads, then a single add */
        cr_assert_eq(lh_hnsw_add_batch(h, v + i * DIM, 99, 2, &err), 0, "%s", err.message);
        cr_assert_eq(lh_hnsw_add(h, v + (i + 99) * DIM, NULL, &err), 0, "%s", err.message);
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(atomic_load(&c.bad), 0);
    cr_assert_gt(atomic_load(&c.searches), 0);
    cr_assert_eq(lh_hnsw_count(h), N);
    double r = recall(h, v + N * DIM, NQ, 16);
    cr_log_info("recall@10 after concurrent adds %.3f", r);
    cr_expect_geq(r, 0.95, "recall@10 after concurrent adds %.3f", r);
    lh_hnsw_free(h);
    free(v);
}

/* ---- corrupt files ---------------------------------------------------------------------- */

static unsigned char *saved_bytes(size_t *len, char **path_out)
{
    float *v = clustered(300, DIM, 19);
    lh_hnsw *h = build(v, 300, LH_METRIC_L2, 1, 1);
    char *path = tmp_path("c.bin");
    cr_assert_eq(lh_hnsw_save(h, path, NULL), 0);
    lh_hnsw_free(h);
    free(v);
    char *data = lh_file_read_all(path, (size_t)1 << 30, len, NULL);
    cr_assert_not_null(data);
    *path_out = path;
    return (unsigned char *)data;
}

static void write_bytes(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* Loads p[0..n) from a file and expects corrupt; if it loads anyway (it must not), a search
 * would still have to stay in bounds. */
static void expect_corrupt(const char *path, const unsigned char *p, size_t n, const char *what)
{
    write_bytes(path, p, n);
    lh_err err = LH_ERR_INIT;
    lh_hnsw *h = lh_hnsw_load(path, &err);
    cr_assert_null(h, "%s: loaded", what);
    cr_assert_eq(err.code, LH_CORRUPT, "%s: code %s (%s)", what, lh_code_name(err.code),
                 err.message);
}

static void fix_sum(unsigned char *p, size_t n)
{
    uint64_t s = lh_hnsw__checksum(p, n - 8);
    memcpy(p + n - 8, &s, 8);
}

Test(hnsw, corrupt_truncated_and_flipped)
{
    size_t n;
    char *path;
    unsigned char *good = saved_bytes(&n, &path);
    char *bad = lh_xasprintf("%s.bad", path);
    unsigned char *p = malloc(n);
    for (size_t cut = 0; cut < n; cut += (cut < 256 ? 1 : 997))
        expect_corrupt(bad, good, cut, "truncated");
    expect_corrupt(bad, good, n - 1, "one byte short");
    for (size_t at = 0; at < n; at += (at < 160 ? 1 : 1231)) {
        memcpy(p, good, n);
        p[at] ^= (unsigned char)(1u << (at % 8));
        expect_corrupt(bad, p, n, "flipped");
    }
    memcpy(p, good, n);
    p[n - 1] ^= 0x80;
    expect_corrupt(bad, p, n, "flipped checksum");
    memcpy(p, good, n);
    memcpy(p, "LHHNSW02", 8);
    fix_sum(p, n);
    expect_corrupt(bad, p, n, "wrong magic");
    /* Appended garbage: sizes no longer match. */
    unsigned char *longer = malloc(n + 16);
    memcpy(longer, good, n);
    memset(longer + n, 0, 16);
    expect_corrupt(bad, longer, n + 16, "appended");
    free(longer);
    /* A healthy copy still loads, so the failures above are about the damage. */
    write_bytes(bad, good, n);
    lh_err err = LH_ERR_INIT;
    lh_hnsw *h = lh_hnsw_load(bad, &err);
    cr_assert_not_null(h, "%s", err.message);
    lh_hnsw_free(h);
    unlink(bad);
    free(bad);
    free(p);
    free(good);
    rm_path(path);
}

Test(hnsw, corrupt_forged_with_valid_checksum)
{
    size_t n;
    char *path;
    unsigned char *good = saved_bytes(&n, &path);
    char *bad = lh_xasprintf("%s.bad", path);
    unsigned char *p = malloc(n);
    uint64_t node_size;
    memcpy(&node_size, good + 56, 8);
    size_t links = 128 + DIM * sizeof(float); /* node 0's link count */
    /* A layer-0 link past the count. */
    memcpy(p, good, n);
    uint32_t cnt, big = 300;
    memcpy(&cnt, p + links, 4);
    cr_assert_gt(cnt, 0);
    memcpy(p + links + 8, &big, 4);
    fix_sum(p, n);
    expect_corrupt(bad, p, n, "link out of range");
    /* Too many links. */
    memcpy(p, good, n);
    uint32_t many = 33;
    memcpy(p + links, &many, 4);
    fix_sum(p, n);
    expect_corrupt(bad, p, n, "link count");
    /* A level above the max level, and a changed level that breaks the section sizes. */
    memcpy(p, good, n);
    p[links + 4] = 60;
    fix_sum(p, n);
    expect_corrupt(bad, p, n, "level");
    /* An upper link to a node that is not on that level. */
    memcpy(p, good, n);
    uint64_t upper_off, upper_bytes;
    memcpy(&upper_off, p + 80, 8);
    memcpy(&upper_bytes, p + 88, 8);
    cr_assert_gt(upper_bytes, 0);
    uint32_t ucnt;
    memcpy(&ucnt, p + upper_off, 4);
    uint32_t lvl0 = 0;
    while (lvl0 < 300 && p[128 + lvl0 * node_size + DIM * sizeof(float) + 4] != 0)
        lvl0++;
    cr_assert_lt(lvl0, 300);
    if (ucnt == 0)
        memcpy(p + upper_off, &(uint32_t){1}, 4);
    memcpy(p + upper_off + 4, &lvl0, 4);
    fix_sum(p, n);
    expect_corrupt(bad, p, n, "upper link to a layer-0 node");
    /* Header fields: count, dim, entry point, version, section offsets. */
    static const struct { size_t off, width; uint64_t val; } fields[] = {
        {8, 4, 2},      {12, 4, 64},   {16, 4, 9},    {20, 4, 1},     {28, 4, 0},
        {28, 4, 48},    {40, 8, 301},  {40, 8, 1ull << 40}, {48, 4, 49}, {52, 4, 300},
        {56, 8, 0},     {64, 8, 192},  {72, 8, 0},    {80, 8, 0},     {88, 8, 4},
        {96, 8, 1},     {120, 1, 1},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        memcpy(p, good, n);
        memcpy(p + fields[i].off, &fields[i].val, fields[i].width);
        fix_sum(p, n);
        expect_corrupt(bad, p, n, "header field");
    }
    /* Zero-length and tiny files. */
    expect_corrupt(bad, good, 0, "empty");
    expect_corrupt(bad, (const unsigned char *)"LHHNSW01", 8, "magic only");
    /* A missing file is an i/o error, not corruption. */
    lh_err err = LH_ERR_INIT;
    unlink(bad);
    cr_assert_null(lh_hnsw_load(bad, &err));
    cr_assert_eq(err.code, LH_IO_ERROR);
    free(bad);
    free(p);
    free(good);
    rm_path(path);
}

Test(hnsw, checksum_catches_any_word_change)
{
    unsigned char buf[200];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7);
    uint64_t base = lh_hnsw__checksum(buf, sizeof buf);
    /* Streaming in odd pieces gives the one-shot value. */
    lh_hnsw__sum s;
    lh_hnsw__sum_init(&s);
    lh_hnsw__sum_update(&s, buf, 3);
    lh_hnsw__sum_update(&s, buf + 3, 61);
    lh_hnsw__sum_update(&s, buf + 64, sizeof buf - 64);
    cr_assert_eq(lh_hnsw__sum_final(&s), base);
    for (size_t i = 0; i < sizeof buf; i++)
        for (int b = 0; b < 8; b++) {
            buf[i] ^= (unsigned char)(1u << b);
            cr_assert_neq(lh_hnsw__checksum(buf, sizeof buf), base);
            buf[i] ^= (unsigned char)(1u << b);
        }
    cr_assert_neq(lh_hnsw__checksum(buf, sizeof buf - 1), base);
}
