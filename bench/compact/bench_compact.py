#!/usr/bin/env python3
"""Compaction benchmark driver (bench/compact/run.sh runs it): starts `lakehouse serve` on a
temp data dir, makes one dataset out of N small appends (distinct seeded CSVs through
POST /ingest/file), times an aggregate query (median of R runs after one warm-up), compacts
with POST /query/compact (timed), times the same query again and prints files and medians
before/after and the speed-up. The answers before and after must be identical."""

import argparse
import json
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
QUERY = (f"SELECT grp, count(*) AS n, sum(x) AS sx, max(y) AS my FROM {DATASET} "
         "GROUP BY grp ORDER BY grp")



def small_csv(rng, k, rows):
    """Append k: ids unique across appends, so no two files have the same content. The
    query uses only exact aggregates (a float sum would change with the scan order)."""
    lines = ["id,grp,x,y"]
    for i in range(rows):
        lines.append(f"{k * rows + i},g{rng.randrange(10)},{rng.randrange(1000)},"
                     f"{rng.random():.6f}")
    return ("\n".join(lines) + "\n").encode()


def timed_query(sess, base):
    t0 = time.perf_counter()
    r = sess.post(f"{base}/query/sql", json={"sql": QUERY}, timeout=300)
    ms = (time.perf_counter() - t0) * 1000.0
    if r.status_code != 200:
        sys.exit(f"bench_compact: query failed: {r.status_code} {r.text[:500]}")
    return ms, r.json()["rows"]


def measure(sess, base, runs):
    timed_query(sess, base)  # warm-up
    samples, rows = [], None
    for _ in range(runs):
        ms, rows = timed_query(sess, base)
        samples.append(ms)
    return statistics.median(samples), rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--appends", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=20, help="rows per append")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="lh-bench-compact-")
    srv = None
    try:
        srv = lhserve.Server(a.bin, work)
        sess, base = srv.sess, srv.base

        rng = random.Random(a.seed)
        t0 = time.perf_counter()
        for k in range(a.appends):
            body = small_csv(rng, k, a.rows)
            r = sess.post(f"{base}/ingest/file", data={"name": DATASET},
                          files={"file": (f"part{k}.csv", body, "text/csv")}, timeout=120)
            if r.status_code != 201 or r.json().get("duplicate"):
                sys.exit(f"bench_compact: append {k} failed: {r.status_code} {r.text[:500]}")
            if (k + 1) % 100 == 0:
                print(f"  {k + 1} appends", file=sys.stderr)
        ingest_s = time.perf_counter() - t0

        before_ms, before_rows = measure(sess, base, a.runs)
        t0 = time.perf_counter()
        r = sess.post(f"{base}/query/compact", json={"dataset": DATASET}, timeout=3600)
        compact_ms = (time.perf_counter() - t0) * 1000.0
        if r.status_code != 200:
            sys.exit(f"bench_compact: compaction failed: {r.status_code} {r.text[:500]}")
        c = r.json()
        after_ms, after_rows = measure(sess, base, a.runs)
        if after_rows != before_rows:
            sys.exit("bench_compact: the query answers differ before and after compaction")
        total = sum(row[1] if isinstance(row, list) else row["n"] for row in after_rows)
        if total != a.appends * a.rows:
            sys.exit(f"bench_compact: counted {total} rows, expected {a.appends * a.rows}")

        lines = [
            f"# bench/compact: {a.appends} appends x {a.rows} rows (seed {a.seed}), "
            f"{a.runs} runs + 1 warm-up per side, {os.path.basename(a.bin)}, "
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {os.cpu_count()} cores, "
            f"load {' '.join(open('/proc/loadavg').read().split()[:3])}",
            f"# query: {QUERY}",
            f"appends          {a.appends} in {ingest_s:.1f} s "
            f"({ingest_s * 1000 / a.appends:.1f} ms each)",
            f"files            before {c['files_before']}  after {c['files_after']}",
            f"bytes            before {c['bytes_before']}  after {c['bytes_after']}",
            f"compaction       {compact_ms:.0f} ms",
            f"query median     before {before_ms:.1f} ms  after {after_ms:.1f} ms",
            f"speed-up         {before_ms / after_ms:.2f}x",
        ]
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
