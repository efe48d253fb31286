"""Crash safety of commits (LH_FAULT): a crash right before a Delta commit leaves the
dataset exactly as it was after a restart; a failing commit answers a 5xx JSON error,
registers nothing and the server keeps serving."""

import os

import pytest
import requests

from conftest import assert_error, csv_text

ROWS = [[i, f"v{i}"] for i in range(50)]


def _state(s, name):
    d = s.dataset(name)
    return d["row_count"], d["version"], len(d["data_files"])


def test_crash_before_commit_keeps_dataset(make_server):
    s = make_server()
    s.ingest_ok(csv_text(["id", "val"], ROWS), filename="crashy.csv")
    s.ingest_ok(csv_text(["id", "val"], ROWS[:10]), filename="crashy.csv")
    before = _state(s, "crashy")
    assert before == (60, 1, 2)
    data_dir = s.data_dir
    s.stop()
    log_dir = os.path.join(data_dir, "buckets", "primary", "datasets", "crashy", "_delta_log")
    logs_before = sorted(os.listdir(log_dir))

    crashing = make_server(data_dir=data_dir, env={"LH_FAULT": "crash:catalog.before_commit"})
    assert crashing.dataset("crashy")["row_count"] == 60
    with pytest.raises(requests.ConnectionError):
        crashing.ingest(csv_text(["id", "val"], ROWS[:5]), filename="crashy.csv")
    assert crashing.wait_exit(30) == 99
    assert sorted(os.listdir(log_dir)) == logs_before

    again = make_server(data_dir=data_dir)
    assert _state(again, "crashy") == before
    assert again.scalar("SELECT count(*) FROM crashy") == 60
    assert again.work_leftovers() == []
    # And the table takes the next commit normally.
    doc = again.ingest_ok(csv_text(["id", "val"], ROWS[:5]), filename="crashy.csv")
    assert doc["version"] == 2 and doc["created"] is False
    assert again.scalar("SELECT count(*) FROM crashy") == 65


def test_crash_leaves_no_orphan_data_file(make_server):
    """catalog.h: a crash before the commit leaves the placed files unreferenced *and
    removed*; after the restart the table directory holds only files the log references."""
    s = make_server()
    s.ingest_ok(csv_text(["id", "val"], ROWS), filename="orphan.csv")
    s.stop()
    crashing = make_server(data_dir=s.data_dir, env={"LH_FAULT": "crash:catalog.before_commit"})
    with pytest.raises(requests.ConnectionError):
        crashing.ingest(csv_text(["id", "val"], ROWS[:5]), filename="orphan.csv")
    assert crashing.wait_exit(30) == 99
    again = make_server(data_dir=s.data_dir)
    table = again.path("buckets", "primary", "datasets", "orphan")
    on_disk = sorted(f for f in os.listdir(table) if f.endswith(".parquet"))
    referenced = sorted(f["path"] for f in again.dataset("orphan")["data_files"])
    assert on_disk == referenced, f"orphan data files after the crash: {on_disk} vs {referenced}"


def test_crash_before_first_commit_registers_nothing(make_server):
    s = make_server(env={"LH_FAULT": "crash:catalog.before_commit"})
    with pytest.raises(requests.ConnectionError):
        s.ingest(csv_text(["id", "val"], ROWS), filename="never.csv")
    assert s.wait_exit(30) == 99
    again = make_server(data_dir=s.data_dir)
    assert again.datasets() == []
    assert_error(again.get("/catalog/datasets/by-name/never"), 404, "not_found")
    assert again.sql("SELECT * FROM never").status_code == 400
    # The name is free for a real ingest.
    assert again.ingest_ok(csv_text(["id", "val"], ROWS), filename="never.csv")["version"] == 0


def test_commit_failure_answers_5xx_and_registers_nothing(make_server):
    s = make_server(env={"LH_FAULT": "commit:1"})
    r = s.ingest(csv_text(["id", "val"], ROWS), filename="fails.csv")
    assert 500 <= r.status_code < 600, r.text
    assert_error(r, r.status_code)
    assert s.alive()
    assert s.get("/health").status_code == 200
    assert s.datasets() == []
    assert_error(s.get("/catalog/datasets/by-name/fails"), 404, "not_found")
    assert s.work_leftovers() == []
    table_dir = s.path("buckets", "primary", "datasets", "fails")
    if os.path.isdir(table_dir):
        leftovers = [f for _r, _d, fs in os.walk(table_dir) for f in fs]
        assert leftovers == [], leftovers
    # Only the first commit fails: the same ingest then works.
    doc = s.ingest_ok(csv_text(["id", "val"], ROWS), filename="fails.csv")
    assert doc["version"] == 0 and doc["rows"] == len(ROWS)


def test_commit_failure_on_register(make_server):
    s = make_server(env={"LH_FAULT": "commit:2"})
    s.ingest_ok(csv_text(["id", "val"], ROWS), filename="src.csv")  # commit 1
    key = s.parquet_object_of("src")[0]
    pq = s.get(f"/storage/objects/{key}").content
    assert s.put("/storage/objects/in/r.parquet", data=pq).status_code == 201
    r = s.post("/catalog/datasets", json={"name": "reg_fail", "objects": ["in/r.parquet"]})
    assert 500 <= r.status_code < 600, r.text
    assert_error(r, r.status_code)
    assert [d["name"] for d in s.datasets()] == ["src"]
    assert s.get("/storage/objects/in/r.parquet").content == pq
