"""Merge-on-read under concurrent writers: many clients append distinct files to ONE dataset
at once (and two more query it meanwhile). Every ingest must land exactly once: the Delta
log versions are contiguous with one commit per ingest, and every row is counted once.
Then the same across two server processes on one data dir, where only put-if-absent on the
log keeps two writers from taking the same version."""

import json
import os
import threading

from conftest import csv_text

WRITERS = 8
PER_WRITER = 10
ROWS = 25


def _file(t, i):
    """Rows of writer t's i-th file: ids unique across all files, batch names the file."""
    batch = t * 1000 + i
    return csv_text(["id", "batch", "note"],
                    [[batch * 100 + r, batch, f"w{t}-f{i}-r{r}"] for r in range(ROWS)])


def _log_versions(s, name):
    log = s.path("buckets", "primary", "datasets", name, "_delta_log")
    names = sorted(f for f in os.listdir(log) if f.endswith(".json"))
    versions = [int(f[:-5]) for f in names]
    adds = []
    for f in names:
        with open(os.path.join(log, f)) as fh:
            actions = [json.loads(line) for line in fh if line.strip()]
        assert sum(1 for a in actions if "commitInfo" in a) == 1, (f, actions)
        adds += [a["add"]["path"] for a in actions if "add" in a]
    return versions, adds


def _hammer(targets, name, readers_on=None):
    """WRITERS threads, thread t ingesting through targets[t % len(targets)]; two readers
    counting rows on readers_on meanwhile. Returns (responses, reader errors, seen counts)."""
    results = [[None] * PER_WRITER for _ in range(WRITERS)]
    stop = threading.Event()
    reader_errors, seen = [], []

    def writer(t):
        s = targets[t % len(targets)]
        for i in range(PER_WRITER):
            results[t][i] = s.ingest(_file(t, i), filename=f"{name}.csv")

    def reader():
        last = 0
        while not stop.is_set():
            r = readers_on.sql(f"SELECT count(*) FROM {name}")
            if r.status_code == 400 and "does not exist" in r.text:
                continue  # the table may not exist before the first commit
            if r.status_code != 200:
                reader_errors.append(f"{r.status_code} {r.text[:300]}")
                return
            n = r.json()["rows"][0][0]
            if n % ROWS != 0 or n < last:  # whole commits only, never going back
                reader_errors.append(f"count {n} after {last}")
                return
            last = n
            seen.append(n)

    readers = [threading.Thread(target=reader) for _ in range(2)] if readers_on else []
    writers = [threading.Thread(target=writer, args=(t,)) for t in range(WRITERS)]
    for th in readers + writers:
        th.start()
    for th in writers:
        th.join(300)
    stop.set()
    for th in readers:
        th.join(60)
    return [r for row in results for r in row], reader_errors, seen


def _check_table(s, name, total_ingests):
    total_rows = total_ingests * ROWS
    versions, adds = _log_versions(s, name)
    assert versions == list(range(total_ingests)), versions
    assert len(adds) == total_ingests and len(set(adds)) == total_ingests, adds
    d = s.dataset(name)
    assert d["version"] == total_ingests - 1, d
    assert d["row_count"] == total_rows, d
    assert d["files"] == total_ingests, d
    assert s.scalar(f"SELECT count(*) FROM {name}") == total_rows
    assert s.scalar(f"SELECT count(DISTINCT id) FROM {name}") == total_rows
    per_batch = s.sql_ok(f"SELECT batch, count(*) FROM {name} GROUP BY batch")["rows"]
    want = {t * 1000 + i for t in range(WRITERS) for i in range(PER_WRITER)}
    assert {b for b, _ in per_batch} == want, per_batch
    assert all(n == ROWS for _, n in per_batch), per_batch


def test_hammer_one_dataset_from_many_clients(make_server):
    s = make_server()
    name = "hammer"
    responses, reader_errors, seen = _hammer([s], name, readers_on=s)
    for r in responses:
        assert r is not None and r.status_code == 201, r.text if r is not None else r
    docs = [r.json() for r in responses]
    n = WRITERS * PER_WRITER
    assert sorted(d["version"] for d in docs) == list(range(n))
    assert sum(1 for d in docs if d["created"]) == 1
    assert all(d["rows"] == ROWS for d in docs)
    assert reader_errors == [], reader_errors
    assert seen, "the readers never saw the table"
    _check_table(s, name, n)
    assert s.work_leftovers() == []
    # The same after a restart: the log alone gives the same table.
    s.restart()
    _check_table(s, name, n)


def test_hammer_from_two_processes_on_one_data_dir(make_server):
    a = make_server()
    b = make_server(data_dir=a.data_dir)
    name = "hammer2"
    responses, reader_errors, _ = _hammer([a, b], name, readers_on=a)
    for r in responses:
        assert r is not None and r.status_code == 201, r.text if r is not None else r
    n = WRITERS * PER_WRITER
    # Each process hands out distinct versions; together they are exactly 0..n-1.
    assert sorted(r.json()["version"] for r in responses) == list(range(n))
    from_a = {responses[k].json()["version"] for k in range(n) if (k // PER_WRITER) % 2 == 0}
    assert from_a and len(from_a) < n  # both processes committed
    assert reader_errors == [], reader_errors
    versions, adds = _log_versions(a, name)
    assert versions == list(range(n)) and len(set(adds)) == n
    # A process learns of the other's commits when it next commits or resyncs: resync
    # catches each up with the log, and then both agree on every count.
    for s in (a, b):
        doc = s.post("/catalog/resync-missing", json={"dataset": name})
        assert doc.status_code == 200, doc.text
        assert doc.json()["errors"] == [], doc.text
        _check_table(s, name, n)
    b.stop()
    a.restart()
    _check_table(a, name, n)
