"""faiss_bench: the FAISS side of the ANN benchmark (Debian python3-faiss on OpenBLAS), on the
same files as ours and hnswlib. Prints one JSON object per line for report.py.

  faiss_bench.py exact --data PREFIX --threads T [--exact-queries 100]
      IndexFlatIP: one query per call (what a search service does; FAISS then scans with its
      own loop, not BLAS) -> p50/p99, queries/s, GB/s streamed; and every query in one call
      (BLAS matrix product, the batch case) -> queries/s. Recall@10 against the ground truth.
  faiss_bench.py hnsw --data PREFIX --M 16 --efc 200 --efs 10,20,40 [--reps 3] [--build-threads 2]
      IndexHNSWFlat (inner product): build time and RSS growth with --build-threads threads,
      then single-thread search: queries/s from all queries in one call (no Python per query),
      p50/p99 from one call per query (so they include ~2-5 us of Python call overhead).

Threads are fixed before numpy/faiss load (OpenBLAS reads its environment once), so run.sh
starts one process per thread count.
"""
import argparse
import json
import os
import sys
import time


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["exact", "hnsw"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--exact-queries", type=int, default=100)
    ap.add_argument("--M", type=int, default=16)
    ap.add_argument("--efc", type=int, default=200)
    ap.add_argument("--efs", default="10,20,40,80,120,200")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--build-threads", type=int, default=2)
    return ap.parse_args()


args = parse()
_threads = args.threads if args.mode == "exact" else args.build_threads
os.environ["OPENBLAS_NUM_THREADS"] = str(_threads)
os.environ["OMP_NUM_THREADS"] = str(_threads)
os.environ.pop("OMP_THREAD_LIMIT", None)  # the Makefile's limit would cap FAISS at one thread

import numpy as np  # noqa: E402
import faiss  # noqa: E402

GT_K, RECALL_K = 100, 10


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        sys.exit(f"faiss_bench: {path} is empty")
    w = int(raw[0])
    if w <= 0 or raw.size % (w + 1):
        sys.exit(f"faiss_bench: {path} is not a whole number of {w}-wide rows")
    rows = raw.reshape(-1, w + 1)
    if not (rows[:, 0] == w).all():
        sys.exit(f"faiss_bench: {path} has rows of another width")
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def recall(ids, gt):
    hit = 0
    for row, truth in zip(ids, gt):
        hit += len(set(int(x) for x in row[:RECALL_K]) & set(int(x) for x in truth[:RECALL_K]))
    return hit / (RECALL_K * len(gt))


def pct(v, q):
    v = sorted(v)
    i = max(0, min(len(v) - 1, int(np.ceil(q * len(v))) - 1))
    return v[i]


def emit(**kw):
    print(json.dumps(kw), flush=True)


def run_exact(xb, xq, gt):
    faiss.omp_set_num_threads(args.threads)
    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    ne = min(args.exact_queries, len(xq))
    for i in range(min(2, ne)):
        index.search(xq[i:i + 1], RECALL_K)
    lat, found = [], []
    start = time.perf_counter()
    for i in range(ne):
        t0 = time.perf_counter()
        _, ids = index.search(xq[i:i + 1], RECALL_K)
        lat.append(time.perf_counter() - t0)
        found.append(ids[0])
    total = time.perf_counter() - start
    nbytes = xb.nbytes
    p50 = pct(lat, 0.5)
    emit(sys="faiss", kind="exact", mode="nq1", threads=args.threads, nq=ne, k=RECALL_K,
         p50_ms=round(p50 * 1e3, 3), p99_ms=round(pct(lat, 0.99) * 1e3, 3),
         qps=round(ne / total, 1), gbps=round(nbytes / p50 / 1e9, 2),
         gbps_best=round(nbytes / min(lat) / 1e9, 2),
         recall=round(recall(found, gt[:ne]), 4))
    t0 = time.perf_counter()
    _, ids = index.search(xq, RECALL_K)
    total = time.perf_counter() - t0
    emit(sys="faiss", kind="exact", mode="batch", threads=args.threads, nq=len(xq), k=RECALL_K,
         qps=round(len(xq) / total, 1), recall=round(recall(ids, gt), 4))


def run_hnsw(xb, xq, gt):
    efs = [int(x) for x in args.efs.split(",")]
    faiss.omp_set_num_threads(args.build_threads)
    rss0 = rss_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    index = faiss.IndexHNSWFlat(xb.shape[1], args.M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = args.efc
    index.add(xb)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = (rss_bytes() - rss0) / 1048576.0
    emit(sys="faiss", kind="build", M=args.M, efc=args.efc, threads=args.build_threads,
         n=len(xb), secs=round(secs, 3), cpu_secs=round(cpu, 3), rss_mb=round(rss, 1),
         self_mb=None, fresh=True)
    faiss.omp_set_num_threads(1)
    for ef in efs:
        index.hnsw.efSearch = ef
        index.search(xq[:200], RECALL_K)
        qps, qcpu = [], []
        for _ in range(max(1, args.reps)):
            t, c = time.perf_counter(), time.thread_time()
            _, ids = index.search(xq, RECALL_K)
            qps.append(len(xq) / (time.perf_counter() - t))
            qcpu.append(len(xq) / (time.thread_time() - c))
        lat = []
        for i in range(len(xq)):
            t = time.perf_counter()
            index.search(xq[i:i + 1], RECALL_K)
            lat.append(time.perf_counter() - t)
        emit(sys="faiss", kind="search", M=args.M, efc=args.efc, ef=ef,
             recall=round(recall(ids, gt), 4), qps=round(float(np.median(qps)), 1),
             qps_cpu=round(float(np.median(qcpu)), 1),
             p50_us=round(pct(lat, 0.5) * 1e6, 1), p99_us=round(pct(lat, 0.99) * 1e6, 1),
             reps=max(1, args.reps))


def main():
    xb = read_vecs(args.data + ".base.fvecs", np.float32)
    xq = read_vecs(args.data + ".query.fvecs", np.float32)
    gt = read_vecs(args.data + ".gt.ivecs", np.int32)
    if xq.shape[1] != xb.shape[1] or gt.shape != (len(xq), GT_K):
        sys.exit("faiss_bench: base, queries and ground truth do not match (regenerate)")
    if args.mode == "exact":
        run_exact(xb, xq, gt)
    else:
        run_hnsw(xb, xq, gt)


main()
