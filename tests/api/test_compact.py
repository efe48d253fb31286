"""Compaction: POST /query/compact {dataset}. Many small appends become few files, tombstoned
rows are physically dropped and their batches cleared, the old files are deleted, and a crash
injected at every step (LH_FAULT=crash:compact.<step>) leaves a readable, correct table."""

import os

import pytest

from conftest import assert_error, csv_text


def _append(s, name, start, n):
    rows = [[i, f"k{i}", i * 2] for i in range(start, start + n)]
    s.ingest_ok(csv_text(["id", "code", "val"], rows), filename=f"{name}_{start}.csv", name=name)


def _files_on_disk(s, name):
    d = s.path("buckets", "primary", "datasets", name)
    return sorted(f for f in os.listdir(d) if f.endswith(".parquet"))


def _setup(s, name, appends=6, per=10):
    for k in range(appends):
        _append(s, name, k * per, per)
    r = s.post(f"/catalog/datasets/by-name/{name}/tombstone",
               json={"row_key_column": "id", "row_key_values": [1, 2, "3", 999],
                     "actor": "t", "reason": "r"})
    assert r.status_code == 201, r.text


def test_compact_merges_files_and_drops_tombstoned_rows(make_server, uniq):
    s = make_server()
    _setup(s, uniq)
    before = s.dataset(uniq)
    assert len(before["data_files"]) == 6
    total = s.scalar(f"SELECT sum(val) FROM {uniq}")
    r = s.post("/query/compact", json={"dataset": uniq})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["files_before"] == 6 and doc["files_after"] == 1
    assert doc["rows_before"] == 60 and doc["rows_dropped"] == 3 and doc["rows_after"] == 57
    assert doc["bytes_before"] > 0 and doc["bytes_after"] > 0
    assert doc["version"] == before["version"] + 1 and doc["tombstones_cleared"] == 1
    after = s.dataset(uniq)
    assert after["row_count"] == 57 and len(after["data_files"]) == 1
    assert after["history"][-1]["operation"] == "OPTIMIZE"
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 57
    assert s.scalar(f"SELECT sum(val) FROM {uniq}") == total
    assert s.get(f"/catalog/datasets/by-name/{uniq}/tombstone").json()["batches"] == []
    assert _files_on_disk(s, uniq) == [after["data_files"][0]["path"]]
    assert s.work_leftovers() == []
    # once compact, a second call changes nothing
    again = s.post("/query/compact", json={"dataset": uniq}).json()
    assert again["compacted"] is False and again["version"] == doc["version"]
    # the table keeps working: append + restart
    _append(s, uniq, 100, 5)
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 62
    s.restart()
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 62
    assert s.scalar(f"SELECT count(*) FROM {uniq} WHERE id IN (1, 2, 3)") == 0


def test_compact_bad_requests(make_server, uniq):
    s = make_server()
    assert_error(s.post("/query/compact", json={"dataset": "no_such_dataset"}), 404, "not_found")
    assert_error(s.post("/query/compact", json={}), 400)
    assert_error(s.post("/query/compact", json={"dataset": 5}), 400)
    assert_error(s.post("/query/compact", json={"dataset": "../etc"}), 404)
    assert_error(s.post("/query/compact", data="[", headers={"Content-Type": "application/json"}),
                 400)


@pytest.mark.parametrize("step", ["after_write", "after_verify", "after_commit", "after_clear"])
def test_crash_at_each_step_leaves_correct_table(make_server, uniq, step):
    s = make_server()
    _setup(s, uniq)
    expect_sum = s.scalar(f"SELECT sum(val) FROM {uniq}")
    data_dir = s.data_dir
    s.stop()
    crashing = make_server(data_dir=data_dir, env={"LH_FAULT": f"crash:compact.{step}"})
    with pytest.raises(Exception):
        crashing.post("/query/compact", json={"dataset": uniq}, timeout=30)
    assert crashing.wait_exit(30) == 99
    again = make_server(data_dir=data_dir)
    assert again.scalar(f"SELECT count(*) FROM {uniq}") == 57
    assert again.scalar(f"SELECT sum(val) FROM {uniq}") == expect_sum
    assert again.scalar(f"SELECT count(*) FROM {uniq} WHERE id IN (1, 2, 3)") == 0
    d = again.dataset(uniq)
    committed = step in ("after_commit", "after_clear")
    assert len(d["data_files"]) == (1 if committed else 6)
    # every referenced file is on disk; leftovers of the crash are swept at open
    assert sorted(f["path"] for f in d["data_files"]) == _files_on_disk(again, uniq)
    # compaction still works (and finishes clearing what the crash left)
    r = again.post("/query/compact", json={"dataset": uniq})
    assert r.status_code == 200, r.text
    assert again.scalar(f"SELECT count(*) FROM {uniq}") == 57
    assert again.get(f"/catalog/datasets/by-name/{uniq}/tombstone").json()["batches"] == []
    assert len(again.dataset(uniq)["data_files"]) == 1


def test_compact_races_appends_and_tombstones(make_server, uniq):
    """Appends, tombstones (of rows already there) and compactions racing on one dataset:
    nothing is lost or doubled, and tombstoned rows never come back."""
    import threading
    s = make_server()
    for k in range(8):
        _append(s, uniq, k * 10, 10)
    errors = []

    def appender():
        for k in range(8, 17):
            try:
                _append(s, uniq, k * 10, 10)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(f"append: {e}")

    def tomber():
        for k in range(8):
            r = s.post(f"/catalog/datasets/by-name/{uniq}/tombstone",
                       json={"row_key_column": "id", "row_key_values": [k * 10 + 1]})
            if r.status_code != 201:
                errors.append(f"tombstone: {r.status_code} {r.text}")

    def compactor():
        for _ in range(4):
            r = s.post("/query/compact", json={"dataset": uniq})
            if r.status_code not in (200, 409):
                errors.append(f"compact: {r.status_code} {r.text}")

    ts = [threading.Thread(target=f) for f in (appender, tomber, compactor)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors
    # 170 rows; ids k*10+1 for k in 0..7 (present before the race) are tombstoned
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 162
    assert s.scalar(f"SELECT count(DISTINCT id) FROM {uniq}") == 162
    r = s.post("/query/compact", json={"dataset": uniq})
    assert r.status_code == 200, r.text
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 162
    s.restart()
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 162
    # after a quiet compaction every applied tombstone is gone from the files
    assert s.get(f"/catalog/datasets/by-name/{uniq}/tombstone").json()["batches"] == []
    assert s.dataset(uniq)["row_count"] == 162


def test_query_in_flight_keeps_the_files_it_may_still_open(make_server, uniq):
    """A query that started before a compaction's commit reads the old files to the end:
    they are deleted only once it has finished."""
    import json

    import requests
    s = make_server()
    for k in range(6):
        _append(s, uniq, k * 20000, 20000)
    old = _files_on_disk(s, uniq)
    assert len(old) == 6
    r = requests.post(s.url("/query/sql"), json={"sql": f"SELECT * FROM {uniq}"},
                      headers={"Accept": "application/x-ndjson"}, stream=True, timeout=60)
    assert r.status_code == 200
    lines = r.iter_lines(chunk_size=4096)
    first = [next(lines) for _ in range(10)]
    c = s.post("/query/compact", json={"dataset": uniq})
    assert c.status_code == 200, c.text
    # The stream still holds its connection: the old files wait for it.
    assert set(old) <= set(_files_on_disk(s, uniq))
    rest = list(lines)
    rows = [json.loads(x) for x in first + rest if x]
    assert not any("error" in row for row in rows), rows[-1]
    assert len(rows) == 120000
    r.close()
    # Once it is done (the next request releases nothing else), the old files are gone.
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 120000
    assert not set(old) & set(_files_on_disk(s, uniq))
