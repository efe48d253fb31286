/* hnswlib_driver: the baseline side of the ANN benchmark. Builds hnswlib's HierarchicalNSW
 * (InnerProductSpace, the same M, ef_construction and seed as ours) over the same base set
 * with 1 and then 2 threads, and runs the same ef_search sweep through the same measuring
 * code (common.h). Compiled at bench time against Debian's libhnswlib-dev headers with
 * -O3 -march=native, the way hnswlib is meant to be used (its SIMD is chosen at compile time).
 * Usage: hnswlib_driver --data PREFIX --M 16 --efc 200 --efs 10,20,40 [--reps 3] [--seed 42]
 *                       [--build-threads 1,2]
 * The first build runs in a fresh process, so its RSS growth is a clean memory figure; the
 * search sweep uses that (1-thread, reproducible) graph. Later builds report time only. */
#include <hnswlib/hnswlib.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common.h"

struct ctx {
    hnswlib::HierarchicalNSW<float> *index;
    size_t dim;
};

static size_t search_one(void *p, const float *q, size_t k, int ef, uint32_t *ids)
{
    ctx *c = static_cast<ctx *>(p);
    c->index->setEf((size_t)ef);
    auto res = c->index->searchKnn(q, k);
    size_t n = res.size();
    // The queue pops worst first.
    for (size_t i = n; i-- > 0;) {
        ids[i] = (uint32_t)res.top().second;
        res.pop();
    }
    return n;
}

/* Adds every row with `threads` threads: row 0 first on its own (it becomes the entry point;
 * hnswlib's own Python binding does the same), then the rest handed out one at a time. */
static void add_all(hnswlib::HierarchicalNSW<float> *index, const float *base, size_t n,
                    size_t dim, int threads)
{
    index->addPoint(base, 0);
    std::atomic<size_t> next(1);
    auto work = [&]() {
        for (size_t i; (i = next.fetch_add(1)) < n;)
            index->addPoint(base + i * dim, (hnswlib::labeltype)i);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; t++)
        pool.emplace_back(work);
    work();
    for (auto &t : pool)
        t.join();
}

/* What the index's own structures hold: level-0 block (vectors + links + labels), upper-layer
 * link lists, the per-node pointer, level and two mutexes. The label hash map and the visited
 * lists are left out (RSS catches them). */
static double self_bytes(const hnswlib::HierarchicalNSW<float> *h)
{
    double b = (double)h->max_elements_ * (double)h->size_data_per_element_;
    for (size_t i = 0; i < h->cur_element_count; i++)
        b += (double)h->element_levels_[i] * (double)h->size_links_per_element_;
    b += (double)h->max_elements_ * (sizeof(void *) + sizeof(int) + 2 * sizeof(std::mutex));
    return b;
}

int main(int argc, char **argv)
{
    const char *data = nullptr;
    int M = 16, efc = 200, reps = 3, efs[64], bts[8] = {1, 2};
    size_t nefs = 0, nbts = 2;
    unsigned long long seed = 42;
    for (int i = 1; i < argc; i += 2) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (!strcmp(f, "--data") && v)
            data = v;
        else if (!strcmp(f, "--M"))
            M = (int)arg_u64(f, v);
        else if (!strcmp(f, "--efc"))
            efc = (int)arg_u64(f, v);
        else if (!strcmp(f, "--efs"))
            nefs = arg_list(f, v, efs, 64);
        else if (!strcmp(f, "--reps"))
            reps = (int)arg_u64(f, v);
        else if (!strcmp(f, "--seed"))
            seed = arg_u64(f, v);
        else if (!strcmp(f, "--build-threads"))
            nbts = arg_list(f, v, bts, 8);
        else {
            fprintf(stderr, "hnswlib_driver: unknown or incomplete argument '%s'\n", f);
            return 2;
        }
    }
    if (!data || nefs == 0 || M < 2 || efc < 1) {
        fprintf(stderr, "hnswlib_driver: need --data, --efs, --M >= 2, --efc >= 1\n");
        return 2;
    }
    size_t n = 0, dim = 0, nq = 0, qdim = 0;
    float *base = load_set(data, "base.fvecs", &n, &dim);
    float *qs = load_set(data, "query.fvecs", &nq, &qdim);
    if (qdim != dim)
        die("queries and base differ in dimension");
    int32_t *gt = load_gt(data, nq);

    hnswlib::InnerProductSpace space(dim);
    for (size_t b = 0; b < nbts; b++) {
        size_t rss0 = rss_bytes();
        double t0 = now_s(), c0 = proc_cpu_s();
        auto *index = new hnswlib::HierarchicalNSW<float>(&space, n, (size_t)M, (size_t)efc,
                                                          (size_t)seed);
        add_all(index, base, n, dim, bts[b]);
        double secs = now_s() - t0, cpu = proc_cpu_s() - c0;
        double rss = ((double)rss_bytes() - (double)rss0) / 1048576.0;
        print_build("hnswlib", M, efc, bts[b], n, secs, cpu, rss, self_bytes(index) / 1048576.0,
                    b == 0);
        if (b == 0) {
            ctx c = {index, dim};
            sweep_cfg cfg = {"hnswlib", M, efc, reps, qs, nq, dim, n, gt};
            search_sweep(&cfg, efs, nefs, search_one, &c);
        }
        delete index;
    }
    free(gt);
    free(qs);
    free(base);
    return 0;
}
