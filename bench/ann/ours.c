/* ours: the project's side of the ANN benchmark, linked against the project's own static
 * library built with its own flags (the kernels pick AVX-512/AVX2/scalar at run time).
 *   ours exact --data PREFIX [--exact-queries 100] [--threads 1,2]
 *       per thread count, alternating: a plain read of the base set (bw.c, the bandwidth
 *       yardstick) and one lh_exact_search (top-10). Best and median of both, p50/p99
 *       latency, queries/s, the GB/s the search streams, recall@10. [--isa avx2] too.
 *   ours hnsw --data PREFIX --M 16 --efc 200 --efs 10,20,40 [--reps 3] [--seed 42]
 *             [--build-threads 1,2] [--isa avx2]
 *       lh_hnsw_add_batch with each thread count (time, RSS growth, lh_hnsw_memory_bytes),
 *       then the ef_search sweep (common.h) on the first, reproducible, 1-thread graph.
 * Prints one JSON object per line for report.py. */
#include "bw.h"
#include "common.h"
#include "vector/vector.h"

typedef struct opts {
    const char *data, *isa;
    int M, efc, reps;
    int efs[64], threads[8];
    size_t nefs, nthreads, exact_queries;
    unsigned long long seed;
} opts;

static void parse(int argc, char **argv, opts *o)
{
    for (int i = 2; i < argc; i += 2) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(f, "--data") && v)
            o->data = v;
        else if (!strcmp(f, "--isa") && v)
            o->isa = v;
        else if (!strcmp(f, "--M"))
            o->M = (int)arg_u64(f, v);
        else if (!strcmp(f, "--efc"))
            o->efc = (int)arg_u64(f, v);
        else if (!strcmp(f, "--efs"))
            o->nefs = arg_list(f, v, o->efs, 64);
        else if (!strcmp(f, "--reps"))
            o->reps = (int)arg_u64(f, v);
        else if (!strcmp(f, "--seed"))
            o->seed = arg_u64(f, v);
        else if (!strcmp(f, "--threads") || !strcmp(f, "--build-threads"))
            o->nthreads = arg_list(f, v, o->threads, 8);
        else if (!strcmp(f, "--exact-queries"))
            o->exact_queries = arg_u64(f, v);
        else {
            fprintf(stderr, "ours: unknown or incomplete argument '%s'\n", f);
            exit(2);
        }
    }
    if (!o->data)
        die("--data is required");
}

/* ---- exact search against the bandwidth yardstick ------------------------------------------ */

static int run_exact(const opts *o)
{
    size_t n = 0, dim = 0, nq = 0, qdim = 0;
    float *base = load_set(o->data, "base.fvecs", &n, &dim);
    float *qs = load_set(o->data, "query.fvecs", &nq, &qdim);
    if (qdim != dim)
        die("queries and base differ in dimension");
    int32_t *gt = load_gt(o->data, nq);
    double bytes = (double)n * (double)dim * sizeof(float);
    size_t ne = o->exact_queries < nq ? o->exact_queries : nq;
    if (ne == 0)
        die("--exact-queries must be at least 1");
    double *tb = xmalloc(ne * sizeof(double)), *tq = xmalloc(ne * sizeof(double));
    double sink = 0;
    lh_hit hits[RECALL_K];
    uint32_t ids[RECALL_K];

    for (size_t ti = 0; ti < o->nthreads; ti++) {
        int th = o->threads[ti];
        for (size_t i = 0; i < 2 && i < ne; i++) {
            (void)bw_pass(base, n * dim, th, &sink);
            (void)lh_exact_search(base, n, dim, LH_METRIC_IP, qs + i * dim, RECALL_K, th, hits);
        }
        /* Interleaved: a plain read of the very buffer the search reads, then one query, and
         * again. Both stream the whole base set each time, so both meet the same interference
         * from the rest of a shared machine, and the best of each is its least disturbed run:
         * report.py compares those (and shows the medians). */
        double recall = 0, qtime = 0;
        for (size_t i = 0; i < ne; i++) {
            tb[i] = bw_pass(base, n * dim, th, &sink);
            double t0 = now_s();
            size_t got = lh_exact_search(base, n, dim, LH_METRIC_IP, qs + i * dim, RECALL_K, th,
                                         hits);
            tq[i] = now_s() - t0;
            qtime += tq[i];
            for (size_t j = 0; j < got && j < RECALL_K; j++)
                ids[j] = hits[j].id;
            recall += recall_at_k(gt + i * GT_K, ids, got < RECALL_K ? got : RECALL_K);
        }
        double bmed = quantile(tb, ne, 0.5), bbest = quantile(tb, ne, 0.0);
        printf("{\"sys\":\"bandwidth\",\"kind\":\"bw\",\"threads\":%d,\"bytes\":%.0f,"
               "\"gbps\":%.2f,\"gbps_best\":%.2f,\"passes\":%zu}\n",
               th, bytes, bytes / bmed / 1e9, bytes / bbest / 1e9, ne);
        double p50 = quantile(tq, ne, 0.5), p99 = quantile(tq, ne, 0.99);
        double best = quantile(tq, ne, 0.0);
        printf("{\"sys\":\"ours\",\"kind\":\"exact\",\"threads\":%d,\"nq\":%zu,\"k\":%d,"
               "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"qps\":%.1f,\"gbps\":%.2f,\"gbps_best\":%.2f,"
               "\"recall\":%.4f,\"isa\":\"%s\"}\n",
               th, ne, RECALL_K, p50 * 1e3, p99 * 1e3, (double)ne / qtime, bytes / p50 / 1e9,
               bytes / best / 1e9, recall / (double)ne, lh_vec_isa());
        fflush(stdout);
    }
    if (sink == 12345.678)
        fputc(' ', stderr); /* keeps the bandwidth reads observable */
    free(tq);
    free(tb);
    free(gt);
    free(qs);
    free(base);
    return 0;
}

/* ---- HNSW ---------------------------------------------------------------------------------- */

static size_t search_one(void *ctx, const float *q, size_t k, int ef, uint32_t *ids)
{
    lh_hit hits[RECALL_K];
    size_t got = lh_hnsw_search((const lh_hnsw *)ctx, q, k < RECALL_K ? k : RECALL_K, ef, hits);
    for (size_t i = 0; i < got; i++)
        ids[i] = hits[i].id;
    return got;
}

static int run_hnsw(const opts *o)
{
    if (o->nefs == 0 || o->M < 2 || o->efc < 1)
        die("hnsw needs --efs, --M >= 2 and --efc >= 1");
    size_t n = 0, dim = 0, nq = 0, qdim = 0;
    float *base = load_set(o->data, "base.fvecs", &n, &dim);
    float *qs = load_set(o->data, "query.fvecs", &nq, &qdim);
    if (qdim != dim)
        die("queries and base differ in dimension");
    int32_t *gt = load_gt(o->data, nq);
    lh_err err = LH_ERR_INIT;
    lh_hnsw_params p = {.M = o->M, .ef_construction = o->efc, .seed = o->seed,
                        .metric = LH_METRIC_IP};

    for (size_t b = 0; b < o->nthreads; b++) {
        size_t rss0 = rss_bytes();
        double t0 = now_s(), c0 = proc_cpu_s();
        lh_hnsw *h = lh_hnsw_new(dim, &p, &err);
        if (!h || lh_hnsw_add_batch(h, base, n, o->threads[b], &err) != 0) {
            fprintf(stderr, "ours: build failed: %s: %s %s\n", lh_code_name(err.code),
                    err.message, err.detail);
            return 1;
        }
        double secs = now_s() - t0, cpu = proc_cpu_s() - c0;
        double rss = ((double)rss_bytes() - (double)rss0) / 1048576.0;
        if (lh_hnsw_count(h) != n)
            die("the index holds a different number of rows than were added");
        print_build("ours", o->M, o->efc, o->threads[b], n, secs, cpu, rss,
                    (double)lh_hnsw_memory_bytes(h) / 1048576.0, b == 0);
        if (b == 0) {
            sweep_cfg cfg = {"ours", o->M, o->efc, o->reps, qs, nq, dim, n, gt};
            search_sweep(&cfg, o->efs, o->nefs, search_one, h);
        }
        lh_hnsw_free(h);
    }
    free(gt);
    free(qs);
    free(base);
    return 0;
}

int main(int argc, char **argv)
{
    opts o = {.M = 16, .efc = 200, .reps = 3, .threads = {1, 2}, .nthreads = 2,
              .exact_queries = 100, .seed = 42};
    if (argc < 2 || (strcmp(argv[1], "exact") && strcmp(argv[1], "hnsw"))) {
        fprintf(stderr, "usage: ours exact|hnsw --data PREFIX [options] (see ours.c)\n");
        return 2;
    }
    parse(argc, argv, &o);
    if (o.isa) {
        lh_err err = LH_ERR_INIT;
        if (lh_vec_force_isa(o.isa, &err) != 0) {
            fprintf(stderr, "ours: %s\n", err.message);
            return 2;
        }
    }
    return strcmp(argv[1], "exact") == 0 ? run_exact(&o) : run_hnsw(&o);
}
