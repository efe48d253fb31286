"""Concurrent use: appends to one dataset from several clients serialise into consecutive
Delta versions; readers see whole commits only; more queries than pooled connections either
run or answer 503 busy; the server stays healthy."""

import os
import threading

from conftest import assert_error, csv_text

BATCH = 250


def _batch(k):
    return csv_text(["id", "batch"], [[k * BATCH + i, k] for i in range(BATCH)])


def test_parallel_appends_get_consecutive_versions(make_server):
    s = make_server()
    n = 6
    results = [None] * n

    def worker(k):
        results[k] = s.ingest(_batch(k), filename="para.csv")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    docs = []
    for r in results:
        assert r is not None and r.status_code == 201, r.text if r is not None else r
        docs.append(r.json())
    assert sorted(d["version"] for d in docs) == list(range(n))
    assert sum(1 for d in docs if d["created"]) == 1
    d = s.dataset("para")
    assert d["row_count"] == n * BATCH and d["version"] == n - 1
    assert s.scalar("SELECT count(*) FROM para") == n * BATCH
    assert s.scalar("SELECT count(DISTINCT id) FROM para") == n * BATCH
    log = s.path("buckets", "primary", "datasets", "para", "_delta_log")
    assert sorted(os.listdir(log)) == [f"{v:020d}.json" for v in range(n)]
    assert s.work_leftovers() == []


def test_readers_see_whole_commits(make_server):
    s = make_server()
    s.ingest_ok(_batch(0), filename="grow.csv")
    stop = threading.Event()
    seen = []
    errors = []

    def reader():
        while not stop.is_set():
            r = s.sql("SELECT count(*) AS n FROM grow")
            if r.status_code != 200:
                errors.append(r.text)
                return
            seen.append(r.json()["rows"][0][0])

    th = threading.Thread(target=reader)
    th.start()
    try:
        for k in range(1, 6):
            s.ingest_ok(_batch(k), filename="grow.csv")
    finally:
        stop.set()
        th.join(60)
    assert errors == []
    assert seen, "the reader never ran"
    assert all(v % BATCH == 0 for v in seen), seen
    assert seen == sorted(seen), "a reader saw the table shrink"
    assert s.scalar("SELECT count(*) FROM grow") == 6 * BATCH


def test_more_queries_than_connections(make_server):
    s = make_server(env={"LAKEHOUSE_QUERY_CONNECTIONS": "2"})
    n = 10
    results = [None] * n

    def worker(k):
        results[k] = s.sql("SELECT sum(hash(i)) % 1000 AS h FROM range(30000000) t(i)",
                           timeout=120)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    ok = [r for r in results if r.status_code == 200]
    for r in results:
        if r.status_code != 200:
            assert_error(r, 503, "busy")
    assert ok, "no query succeeded"
    assert len({r.json()["rows"][0][0] for r in ok}) == 1
    assert s.get("/health").status_code == 200
    assert s.scalar("SELECT 1") == 1
