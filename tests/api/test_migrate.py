"""POST /catalog/migrate-buckets: legacy manifests (format 1, or no "bucket") placed in the
data dir before the server starts get the bucket they were found in, atomically; the answer
is {"checked", "migrated"}; a second call migrates nothing; bad bodies are refused."""

import json
import os

import pytest

from conftest import assert_error, csv_text


def _manifest_file(data, bucket, name):
    return os.path.join(data, "buckets", bucket, "_catalog", "datasets", f"{name}.json")


def _read(path):
    with open(path) as f:
        return json.load(f)


def _make_legacy(path, drop_bucket):
    """Rewrites a current manifest the way the catalog wrote it before buckets existed."""
    m = _read(path)
    m["format_version"] = 1
    if drop_bucket:
        del m["bucket"]
    with open(path, "w") as f:
        json.dump(m, f, indent=2)
    return m


@pytest.fixture
def legacy_lake(make_server, tmp_path):
    """A data dir holding two tables (primary and the discovered bucket cold) whose manifests
    are legacy, and a server started on it after they were placed."""
    data = tmp_path / "data"
    (data / "buckets" / "cold").mkdir(parents=True)
    s = make_server(data_dir=str(data))
    s.ingest_ok(csv_text(["id", "qty"], [[1, 5], [2, 7], [3, 9]]), "orders.csv", name="orders")
    r = s.post("/ingest/file", headers={"X-Lakehouse-Bucket": "cold"}, data={"name": "old"},
               files={"file": ("old.csv", csv_text(["id", "qty"], [[10, 1], [11, 2]]),
                               "text/csv")})
    assert r.status_code == 201, r.text
    s.stop()
    before = {
        "orders": _make_legacy(_manifest_file(str(data), "primary", "orders"), False),
        "old": _make_legacy(_manifest_file(str(data), "cold", "old"), True),
    }
    s.start()
    return s, str(data), before


def test_migrate_stamps_legacy_manifests(legacy_lake):
    s, data, before = legacy_lake
    # Open leaves legacy manifests as they are (they are at the log's version).
    assert "bucket" not in _read(_manifest_file(data, "cold", "old"))
    r = s.post("/catalog/migrate-buckets", json={})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["checked"] == 2
    assert sorted(doc["migrated"]) == ["old", "orders"]
    for bucket, name in (("primary", "orders"), ("cold", "old")):
        m = _read(_manifest_file(data, bucket, name))
        assert m["bucket"] == bucket and m["format_version"] == 2
        # Nothing else changed.
        rest = {k: v for k, v in m.items() if k not in ("bucket", "format_version")}
        want = {k: v for k, v in before[name].items() if k not in ("bucket", "format_version")}
        assert rest == want
    # No temp files next to the manifests.
    assert sorted(os.listdir(os.path.dirname(_manifest_file(data, "cold", "old")))) == \
        ["old.json"]
    # Idempotent.
    r = s.post("/catalog/migrate-buckets", json={})
    assert r.status_code == 200, r.text
    assert r.json()["checked"] == 2 and r.json()["migrated"] == []
    # The tables still answer, across buckets, and after a restart.
    q = "SELECT (SELECT sum(qty) FROM orders) + (SELECT sum(qty) FROM old)"
    assert s.scalar(q) == 24
    s.restart()
    assert s.scalar(q) == 24
    assert s.dataset("old")["bucket"] == "cold"
    assert s.post("/catalog/migrate-buckets", json={}).json()["migrated"] == []


def test_migrate_on_a_current_lake_migrates_nothing(server):
    server.ingest_ok(csv_text(["a"], [[1]]), "cur.csv", name="current_only")
    r = server.post("/catalog/migrate-buckets", json={})
    assert r.status_code == 200, r.text
    assert r.json()["checked"] >= 1 and r.json()["migrated"] == []


def test_migrate_bad_bodies(server):
    assert_error(server.post("/catalog/migrate-buckets", json={"bucket": "x"}), 400,
                 "invalid_argument")
    assert_error(server.post("/catalog/migrate-buckets", json=[1]), 400, "invalid_argument")
    assert_error(server.post("/catalog/migrate-buckets", data="{oops",
                             headers={"Content-Type": "application/json"}), 400)
    assert_error(server.get("/catalog/migrate-buckets"), 405)
