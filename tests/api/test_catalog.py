"""The catalog: registering Parquet objects (POST /catalog/datasets), listing, details, the
Delta log and manifest on disk, and persistence across a restart."""

import json
import os

import pytest

from conftest import assert_error, csv_text, error_text

ROWS = [[i, f"name{i}", i * 1.5, f"2024-01-{(i % 28) + 1:02d}"] for i in range(1, 21)]
HEADER = ["id", "label", "score", "day"]


@pytest.fixture(scope="module")
def parquet_bytes(server):
    """The bytes of a real Parquet file, made by ingesting a CSV and reading back its data
    file through the object API."""
    doc = server.ingest_ok(csv_text(HEADER, ROWS), filename="pq_source.csv")
    assert doc["dataset"] == "pq_source"
    keys = server.parquet_object_of("pq_source")
    assert len(keys) == 1
    r = server.get(f"/storage/objects/{keys[0]}")
    assert r.status_code == 200
    assert r.content[:4] == b"PAR1" and r.content[-4:] == b"PAR1"
    return r.content


@pytest.fixture(scope="module")
def other_schema_parquet(server):
    server.ingest_ok(csv_text(["x", "y"], [["a", "b"], ["c", "d"]]), filename="pq_other.csv")
    key = server.parquet_object_of("pq_other")[0]
    return server.get(f"/storage/objects/{key}").content


def _put(server, key, data):
    r = server.put(f"/storage/objects/{key}", data=data)
    assert r.status_code == 201, r.text


def test_register_new_dataset(server, parquet_bytes):
    _put(server, "uploads/reg1.parquet", parquet_bytes)
    r = server.post("/catalog/datasets", json={"name": "reg_one",
                                               "objects": ["uploads/reg1.parquet"]})
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["name"] == "reg_one"
    assert d["row_count"] == len(ROWS)
    assert d["version"] == 0
    assert [c["name"] for c in d["columns"]] == HEADER
    types = {c["name"]: c["type"] for c in d["columns"]}
    assert types["id"] == "BIGINT" and types["label"] == "VARCHAR"
    assert types["score"] == "DOUBLE" and types["day"] == "DATE"
    # A table by its name.
    assert server.scalar("SELECT count(*) FROM reg_one") == len(ROWS)
    assert server.scalar("SELECT sum(id) FROM reg_one") == sum(r[0] for r in ROWS)
    # The object stays where it was.
    assert server.get("/storage/objects/uploads/reg1.parquet").content == parquet_bytes


def test_register_append_adds_rows_and_version(server, parquet_bytes):
    _put(server, "uploads/app_a.parquet", parquet_bytes)
    _put(server, "uploads/app_b.parquet", parquet_bytes)
    r = server.post("/catalog/datasets", json={"name": "reg_app",
                                               "objects": ["uploads/app_a.parquet"]})
    assert r.status_code == 201, r.text
    r = server.post("/catalog/datasets", json={"name": "reg_app",
                                               "objects": ["uploads/app_b.parquet"]})
    assert r.status_code in (200, 201), r.text
    d = r.json()
    assert d["version"] == 1 and d["row_count"] == 2 * len(ROWS)
    assert server.scalar("SELECT count(*) FROM reg_app") == 2 * len(ROWS)
    det = server.dataset("reg_app")
    assert len(det["data_files"]) == 2
    assert [h["version"] for h in det["history"]] == [0, 1]


def test_register_several_objects_one_commit(server, parquet_bytes):
    keys = [f"uploads/multi/{i}.parquet" for i in range(3)]
    for k in keys:
        _put(server, k, parquet_bytes)
    r = server.post("/catalog/datasets", json={"name": "reg_multi", "objects": keys})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 0 and r.json()["row_count"] == 3 * len(ROWS)


def test_registered_data_survives_deleting_the_source_object(server, parquet_bytes):
    _put(server, "uploads/linked.parquet", parquet_bytes)
    r = server.post("/catalog/datasets", json={"name": "reg_linked",
                                               "objects": ["uploads/linked.parquet"]})
    assert r.status_code == 201, r.text
    assert server.delete("/storage/objects/uploads/linked.parquet").status_code == 200
    assert server.scalar("SELECT count(*) FROM reg_linked") == len(ROWS)


def test_register_not_parquet_400(server):
    before = server.datasets()
    _put(server, "uploads/not.parquet", b"this is not parquet at all\n" * 10)
    r = server.post("/catalog/datasets", json={"name": "reg_bad",
                                               "objects": ["uploads/not.parquet"]})
    err = assert_error(r, 400, "invalid_argument")
    assert "parquet" in error_text(err)
    assert server.datasets() == before


def test_register_missing_object_404(server, parquet_bytes):
    before = server.datasets()
    r = server.post("/catalog/datasets", json={"name": "reg_missing",
                                               "objects": ["uploads/nothing-here.parquet"]})
    assert_error(r, 404, "not_found")
    # One good key and one missing: nothing is registered.
    _put(server, "uploads/good.parquet", parquet_bytes)
    r = server.post("/catalog/datasets",
                    json={"name": "reg_missing",
                          "objects": ["uploads/good.parquet", "uploads/nothing-here.parquet"]})
    assert_error(r, 404, "not_found")
    assert server.datasets() == before
    assert_error(server.get("/catalog/datasets/by-name/reg_missing"), 404, "not_found")


def test_register_bad_key_400(server):
    r = server.post("/catalog/datasets", json={"name": "reg_key", "objects": ["../etc/passwd"]})
    assert_error(r, 400, "invalid_argument")


def test_register_schema_conflict_409(server, parquet_bytes, other_schema_parquet):
    _put(server, "uploads/c1.parquet", parquet_bytes)
    _put(server, "uploads/c2.parquet", other_schema_parquet)
    r = server.post("/catalog/datasets", json={"name": "reg_conf",
                                               "objects": ["uploads/c1.parquet"]})
    assert r.status_code == 201
    r = server.post("/catalog/datasets", json={"name": "reg_conf",
                                               "objects": ["uploads/c2.parquet"]})
    assert_error(r, 409, "conflict")
    d = server.dataset("reg_conf")
    assert d["version"] == 0 and d["row_count"] == len(ROWS)
    # Two objects of different schemas in one request: nothing at all.
    r = server.post("/catalog/datasets",
                    json={"name": "reg_conf2",
                          "objects": ["uploads/c1.parquet", "uploads/c2.parquet"]})
    assert_error(r, 409, "conflict")
    assert_error(server.get("/catalog/datasets/by-name/reg_conf2"), 404, "not_found")


def test_list_and_detail(server, parquet_bytes):
    _put(server, "uploads/ld.parquet", parquet_bytes)
    assert server.post("/catalog/datasets", json={"name": "reg_ld",
                                                  "objects": ["uploads/ld.parquet"]}
                       ).status_code == 201
    lst = server.datasets()
    names = [d["name"] for d in lst]
    assert "reg_ld" in names and "pq_source" in names
    assert names == sorted(names)
    entry = next(d for d in lst if d["name"] == "reg_ld")
    assert entry["row_count"] == len(ROWS)
    det = server.dataset("reg_ld")
    for key in ("name", "columns", "row_count", "version", "data_files", "history",
                "created_at", "updated_at", "fingerprint"):
        assert key in det, det
    assert det["row_count"] == len(ROWS)
    assert len(det["data_files"]) == 1
    f = det["data_files"][0]
    assert f["path"].startswith("part-") and f["path"].endswith(".parquet")
    assert f["size"] == len(parquet_bytes)
    assert f["rows"] == len(ROWS)
    assert det["history"][0]["version"] == 0
    assert det["history"][0]["rows_added"] == len(ROWS)
    assert_error(server.get("/catalog/datasets/by-name/nope_nope"), 404, "not_found")
    # A name no dataset can have: not found (or rejected as invalid).
    r = server.get("/catalog/datasets/by-name/Bad%20Name")
    assert r.status_code in (400, 404), r.text
    assert_error(r, r.status_code)


def _delta_lines(server, name, version=0):
    path = server.path("buckets", "primary", "datasets", name, "_delta_log",
                       f"{version:020d}.json")
    assert os.path.isfile(path), f"missing {path}"
    with open(path) as f:
        text = f.read()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_delta_log_on_disk(server):
    # Its own rows: content another test of this module ingested would be a duplicate.
    rows = [[i, f"delta{i}", i * 2.5, f"2024-02-{(i % 28) + 1:02d}"] for i in range(1, 21)]
    server.ingest_ok(csv_text(HEADER, rows), filename="delta_check.csv")
    actions = _delta_lines(server, "delta_check")
    kinds = [next(iter(a)) for a in actions]
    for k in ("protocol", "metaData", "add", "commitInfo"):
        assert k in kinds, kinds
    for a in actions:
        assert len(a) == 1, a  # one action per line
    proto = next(a["protocol"] for a in actions if "protocol" in a)
    assert proto["minReaderVersion"] >= 1 and proto["minWriterVersion"] >= 2
    meta = next(a["metaData"] for a in actions if "metaData" in a)
    assert meta["format"]["provider"] == "parquet"
    schema = json.loads(meta["schemaString"])
    assert schema["type"] == "struct"
    assert [f["name"] for f in schema["fields"]] == HEADER
    ftypes = {f["name"]: f["type"] for f in schema["fields"]}
    assert ftypes["id"] == "long" and ftypes["label"] == "string"
    assert ftypes["score"] == "double" and ftypes["day"] == "date"
    assert isinstance(meta["id"], str) and len(meta["id"]) == 36
    adds = [a["add"] for a in actions if "add" in a]
    assert len(adds) == 1
    add = adds[0]
    data_path = server.path("buckets", "primary", "datasets", "delta_check", add["path"])
    assert os.path.isfile(data_path)
    assert add["size"] == os.path.getsize(data_path)
    assert add["dataChange"] is True
    assert isinstance(add["modificationTime"], int)
    stats = add.get("stats")
    if stats is not None:
        assert json.loads(stats)["numRecords"] == len(ROWS)
    info = next(a["commitInfo"] for a in actions if "commitInfo" in a)
    assert isinstance(info.get("timestamp"), int)
    # Manifest.
    mpath = server.path("buckets", "primary", "_catalog", "datasets", "delta_check.json")
    with open(mpath) as f:
        manifest = json.load(f)
    assert manifest["name"] == "delta_check"
    # An append is version 1 with an add and a commitInfo, no new protocol.
    server.ingest_ok(csv_text(HEADER, ROWS[:5]), filename="delta_check.csv")
    actions1 = _delta_lines(server, "delta_check", 1)
    kinds1 = [next(iter(a)) for a in actions1]
    assert "add" in kinds1 and "commitInfo" in kinds1 and "protocol" not in kinds1


def test_restart_keeps_datasets(make_server):
    s = make_server()
    s.ingest_ok(csv_text(HEADER, ROWS), filename="keep_a.csv")
    s.ingest_ok(csv_text(HEADER, ROWS[:7]), filename="keep_a.csv")
    s.ingest_ok(csv_text(["k", "v"], [[1, "x"], [2, "y"], [3, "z"]]), filename="keep_b.csv")
    before = {d["name"]: (d["row_count"], d["version"]) for d in s.datasets()}
    assert before == {"keep_a": (27, 1), "keep_b": (3, 0)}
    detail_before = s.dataset("keep_a")
    s.restart()
    after = {d["name"]: (d["row_count"], d["version"]) for d in s.datasets()}
    assert after == before
    assert s.scalar("SELECT count(*) FROM keep_a") == 27
    assert s.scalar("SELECT count(*) FROM keep_b") == 3
    detail_after = s.dataset("keep_a")
    assert detail_after["columns"] == detail_before["columns"]
    assert detail_after["data_files"] == detail_before["data_files"]
    assert [h["version"] for h in detail_after["history"]] == [0, 1]
    # Still writable after the restart: the next version is 2.
    doc = s.ingest_ok(csv_text(HEADER, ROWS[:1]), filename="keep_a.csv")
    assert doc["version"] == 2 and doc["created"] is False


def test_restart_rebuilds_missing_manifest(make_server):
    s = make_server()
    s.ingest_ok(csv_text(["a"], [[1], [2]]), filename="nomani.csv")
    s.stop()
    os.remove(s.path("buckets", "primary", "_catalog", "datasets", "nomani.json"))
    s.start()
    assert s.dataset("nomani")["row_count"] == 2
    assert os.path.isfile(s.path("buckets", "primary", "_catalog", "datasets", "nomani.json"))
