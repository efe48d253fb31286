#!/usr/bin/env python3
"""Hot-cache benchmark driver (bench/cache/run.sh runs it): starts `lakehouse serve` on a temp
data dir, ingests one seeded N-row CSV as dataset `events`, and times one aggregate (median
of R runs after a warm-up) three ways in the same run: cold (the dataset's Parquet file),
pinned (POST /query/cache/pin), and cold again after POST /query/cache/evict, so drift of a
shared machine shows. Two clocks: the client's (HTTP and JSON parsing included, a fixed cost
the cache cannot change) and the server's elapsed_ms for the query. The answers must be
identical every time."""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import lhserve  # noqa: E402

DATASET = "events"
# Two shapes a dashboard sends: a KPI tile over the whole table, and a breakdown by a text
# column. Exact aggregates only (a float sum would change with the scan order).
QUERIES = [
    ("aggregate", f"SELECT count(*) AS n, sum(amount) AS total, min(amount) AS lo, "
                  f"max(amount) AS hi, min(ts) AS first, max(ts) AS last FROM {DATASET}"),
    ("group by text", f"SELECT region, count(*) AS n, sum(amount) AS total, min(ts) AS first, "
                      f"max(ts) AS last FROM {DATASET} GROUP BY region ORDER BY region"),
]
REGIONS = ["north", "south", "east", "west", "central", "overseas"]



def make_csv(path, rows, seed):
    """Exact aggregates only (a float sum would change with the scan order)."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("id,region,customer,amount,ts\n")
        for i in range(rows):
            f.write(f"{i},{REGIONS[rng.randrange(len(REGIONS))]},cust{rng.randrange(50000)},"
                    f"{rng.randrange(100000)},{1700000000 + rng.randrange(10**7)}\n")


def timed_query(sess, base, sql):
    """Client wall time (HTTP included) and the server's own elapsed_ms for the query."""
    t0 = time.perf_counter()
    r = sess.post(f"{base}/query/sql", json={"sql": sql}, timeout=300)
    ms = (time.perf_counter() - t0) * 1000.0
    if r.status_code != 200:
        sys.exit(f"bench_cache: query failed: {r.status_code} {r.text[:500]}")
    doc = r.json()
    return ms, doc["elapsed_ms"], doc["rows"]


def measure(sess, base, sql, runs):
    """Medians of client and server times, and the answer."""
    timed_query(sess, base, sql)  # warm-up
    client, server, rows = [], [], None
    for _ in range(runs):
        ms, srv, rows = timed_query(sess, base, sql)
        client.append(ms)
        server.append(srv)
    return statistics.median(client), statistics.median(server), rows


def post_ok(sess, base, path, body):
    r = sess.post(f"{base}{path}", json=body, timeout=600)
    if r.status_code != 200:
        sys.exit(f"bench_cache: {path} failed: {r.status_code} {r.text[:500]}")
    return r.json()


def measure_all(sess, base, runs):
    return {name: measure(sess, base, sql, runs) for name, sql in QUERIES}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="lh-bench-cache-")
    srv = None
    try:
        srv = lhserve.Server(a.bin, work)
        sess, base = srv.sess, srv.base

        csv_path = os.path.join(work, "events.csv")
        make_csv(csv_path, a.rows, a.seed)
        with open(csv_path, "rb") as f:
            r = sess.post(f"{base}/ingest/file", data={"name": DATASET},
                          files={"file": ("events.csv", f, "text/csv")}, timeout=600)
        if r.status_code != 201:
            sys.exit(f"bench_cache: ingest failed: {r.status_code} {r.text[:500]}")

        cold = measure_all(sess, base, a.runs)
        t0 = time.perf_counter()
        pin = post_ok(sess, base, "/query/cache/pin", {"dataset": DATASET})
        pin_ms = (time.perf_counter() - t0) * 1000.0
        hot = measure_all(sess, base, a.runs)
        post_ok(sess, base, "/query/cache/evict", {"dataset": DATASET})
        cold2 = measure_all(sess, base, a.runs)
        lines = [
            f"# bench/cache: {a.rows} rows (seed {a.seed}), {a.runs} runs + 1 warm-up per "
            f"side, {os.path.basename(a.bin)}, "
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {os.cpu_count()} cores, "
            f"load {' '.join(open('/proc/loadavg').read().split()[:3])}",
            f"pin              {pin_ms:.0f} ms, {pin['bytes'] / 1e6:.1f} MB in memory",
            "medians, ms      cold (Parquet)     pinned (memory)   cold again      speed-up",
        ]
        for name, sql in QUERIES:
            (cc, cs, crows), (hc, hs, hrows), (c2c, c2s, c2rows) = cold[name], hot[name], cold2[name]
            if not (crows == hrows == c2rows):
                sys.exit(f"bench_cache: {name}: the answers differ between cold and pinned")
            n = hrows[0][0] if name == "aggregate" else sum(row[1] for row in hrows)
            if n != a.rows:
                sys.exit(f"bench_cache: {name}: the pinned answer does not count every row")
            cold_s, cold_c = statistics.median([cs, c2s]), statistics.median([cc, c2c])
            lines += [f"# {name}: {sql}",
                      f"  server         {cs:8.2f}           {hs:8.2f}          {c2s:8.2f}"
                      f"        {cold_s / hs:5.2f}x  (goal >= 5x: "
                      f"{'met' if cold_s / hs >= 5 else 'MISSED'})",
                      f"  client (HTTP)  {cc:8.2f}           {hc:8.2f}          {c2c:8.2f}"
                      f"        {cold_c / hc:5.2f}x"]
        lines.append("# server = the query's elapsed_ms as the server measured it; client adds "
                     "HTTP and JSON parsing in Python, a fixed cost the cache cannot change")
        text = "\n".join(lines) + "\n"
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(text)
        print(text, end="")
    finally:
        if srv:
            srv.stop()
        if a.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
