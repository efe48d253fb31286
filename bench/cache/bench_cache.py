#!/usr/bin/env python3
"""Hot-cache benchmark driver (bench/cache/run.sh runs it): starts `lakehouse serve` on a temp
data dir, ingests one seeded N-row CSV as dataset `events`, and times one aggregate (median
of R runs after a warm-up) three ways in the same run: cold (the dataset's Parquet file),
pinned (POST /query/cache/pin), and cold again after POST /query/cache/evict, so drift of a
shared machine shows. The answers must be identical every time."""

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests

DATASET = "events"
QUERY = (f"SELECT region, count(*) AS n, sum(amount) AS total, min(ts) AS first, "
         f"max(ts) AS last FROM {DATASET} GROUP BY region ORDER BY region")
REGIONS = ["north", "south", "east", "west", "central", "overseas"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_csv(path, rows, seed):
    """Exact aggregates only (a float sum would change with the scan order)."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("id,region,customer,amount,ts\n")
        for i in range(rows):
            f.write(f"{i},{REGIONS[rng.randrange(len(REGIONS))]},cust{rng.randrange(50000)},"
                    f"{rng.randrange(100000)},{1700000000 + rng.randrange(10**7)}\n")


def timed_query(sess, base):
    t0 = time.perf_counter()
    r = sess.post(f"{base}/query/sql", json={"sql": QUERY}, timeout=300)
    ms = (time.perf_counter() - t0) * 1000.0
    if r.status_code != 200:
        sys.exit(f"bench_cache: query failed: {r.status_code} {r.text[:500]}")
    return ms, r.json()["rows"]


def measure(sess, base, runs):
    timed_query(sess, base)  # warm-up
    samples, rows = [], None
    for _ in range(runs):
        ms, rows = timed_query(sess, base)
        samples.append(ms)
    return statistics.median(samples), rows


def post_ok(sess, base, path, body):
    r = sess.post(f"{base}{path}", json=body, timeout=600)
    if r.status_code != 200:
        sys.exit(f"bench_cache: {path} failed: {r.status_code} {r.text[:500]}")
    return r.json()


def main():
    global QUERY
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--query", default=QUERY, help="the aggregate to time (over events)")
    a = ap.parse_args()
    QUERY = a.query

    work = tempfile.mkdtemp(prefix="lh-bench-cache-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "server.log"), "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    env["LAKEHOUSE_LOG_LEVEL"] = "warn"
    proc = subprocess.Popen([a.bin, "serve", "--data", os.path.join(work, "data"),
                             "--listen", f"127.0.0.1:{port}"], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        sess = requests.Session()
        deadline = time.time() + 30
        while True:
            try:
                if sess.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.time() > deadline:
                sys.exit("bench_cache: the server did not start; see " + log.name)
            time.sleep(0.1)

        csv_path = os.path.join(work, "events.csv")
        make_csv(csv_path, a.rows, a.seed)
        with open(csv_path, "rb") as f:
            r = sess.post(f"{base}/ingest/file", data={"name": DATASET},
                          files={"file": ("events.csv", f, "text/csv")}, timeout=600)
        if r.status_code != 201:
            sys.exit(f"bench_cache: ingest failed: {r.status_code} {r.text[:500]}")

        cold_ms, cold_rows = measure(sess, base, a.runs)
        t0 = time.perf_counter()
        pin = post_ok(sess, base, "/query/cache/pin", {"dataset": DATASET})
        pin_ms = (time.perf_counter() - t0) * 1000.0
        hot_ms, hot_rows = measure(sess, base, a.runs)
        post_ok(sess, base, "/query/cache/evict", {"dataset": DATASET})
        cold2_ms, cold2_rows = measure(sess, base, a.runs)
        if not (cold_rows == hot_rows == cold2_rows):
            sys.exit("bench_cache: the answers differ between cold and pinned")
        if sum(row[1] for row in hot_rows) != a.rows:
            sys.exit("bench_cache: the pinned answer does not count every row")
        cold_med = statistics.median([cold_ms, cold2_ms])

        lines = [
            f"# bench/cache: {a.rows} rows (seed {a.seed}), {a.runs} runs + 1 warm-up per "
            f"side, {os.path.basename(a.bin)}, "
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {os.cpu_count()} cores, "
            f"load {' '.join(open('/proc/loadavg').read().split()[:3])}",
            f"# query: {QUERY}",
            f"pin              {pin_ms:.0f} ms, {pin['bytes'] / 1e6:.1f} MB in memory",
            f"cold (Parquet)   {cold_ms:.2f} ms median; after evict {cold2_ms:.2f} ms",
            f"pinned (memory)  {hot_ms:.2f} ms median",
            f"speed-up         {cold_med / hot_ms:.2f}x (goal >= 5x)",
        ]
        text = "\n".join(lines) + "\n"
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(text)
        print(text, end="")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        if a.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
