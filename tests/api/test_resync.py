"""POST /catalog/resync-missing: manifests restored from the Delta log and the Parquet
footers (a deleted, a garbage and a hand-edited manifest; log stats that lie), the rich
metadata kept, a missing or broken data file reported as an error (still 200), bad input."""

import json
import os
import re

import requests

from conftest import assert_error, csv_text


def _csv(k, n=25, tag=""):
    """Rows distinct per (k, tag), so content dedup never merges two ingests."""
    return csv_text(["id", "label"], [[k * 1000 + i, f"{tag}r{k}-{i}"] for i in range(n)])


def _manifest_path(s, name):
    return s.path("buckets", "primary", "_catalog", "datasets", f"{name}.json")


def _read_manifest(s, name):
    with open(_manifest_path(s, name)) as f:
        return json.load(f)


def _resync(s, body=None):
    r = s.post("/catalog/resync-missing", json={} if body is None else body)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert set(doc) >= {"checked", "repaired", "errors"}, doc
    return doc


def _fixed(doc):
    return {e["dataset"]: set(e["fixed"]) for e in doc["repaired"]}


def _agree(s, name, rows):
    d = s.dataset(name)
    assert d["row_count"] == rows, d
    assert s.scalar(f"SELECT count(*) FROM {name}") == rows
    m = _read_manifest(s, name)
    assert m["row_count"] == rows and m["version"] == d["version"], m
    assert m["fingerprint"] == d["fingerprint"]
    assert [(c["name"], c["type"]) for c in m["columns"]] == \
        [(c["name"], c["type"]) for c in d["columns"]]


def test_resync_repairs_missing_garbage_and_edited_manifests(make_server):
    s = make_server()
    for name in ("rs_gone", "rs_junk", "rs_edit"):
        s.ingest_ok(_csv(1, tag=name), filename=f"{name}.csv")
        s.ingest_ok(_csv(2, tag=name), filename=f"{name}.csv")
        r = requests.patch(s.url(f"/catalog/datasets/by-name/{name}/metadata"),
                           json={"description": f"about {name}", "owner": "ops",
                                 "tags": ["t1"],
                                 "columns": {"label": {"description": "the label"}}},
                           timeout=60)
        assert r.status_code == 200, r.text

    assert _resync(s)["repaired"] == []  # all healthy: nothing to do

    os.remove(_manifest_path(s, "rs_gone"))
    with open(_manifest_path(s, "rs_junk"), "w") as f:
        f.write("{not json at all")
    m = _read_manifest(s, "rs_edit")
    m["row_count"] = 12345
    with open(_manifest_path(s, "rs_edit"), "w") as f:
        json.dump(m, f)

    doc = _resync(s)
    assert doc["checked"] == 3 and doc["errors"] == [], doc
    fixed = _fixed(doc)
    assert fixed == {"rs_gone": {"manifest_missing"}, "rs_junk": {"manifest_malformed"},
                     "rs_edit": {"row_count"}}, doc
    for name in ("rs_gone", "rs_junk", "rs_edit"):
        _agree(s, name, 50)
        m = _read_manifest(s, name)
        assert m["description"] == f"about {name}" and m["owner"] == "ops", m
        assert m["tags"] == ["t1"], m
        label = [c for c in m["columns"] if c["name"] == "label"][0]
        assert label["description"] == "the label", m
    assert _resync(s)["repaired"] == []  # idempotent

    # The repaired manifests carry the metadata across a restart.
    s.restart()
    for name in ("rs_gone", "rs_junk", "rs_edit"):
        d = s.dataset(name)
        assert d["description"] == f"about {name}" and d["row_count"] == 50, d


def test_resync_takes_row_counts_from_footers_when_log_stats_lie(make_server):
    s = make_server()
    s.ingest_ok(_csv(1), filename="rs_stats.csv")
    s.ingest_ok(_csv(2, n=7), filename="rs_stats.csv")
    log = s.path("buckets", "primary", "datasets", "rs_stats", "_delta_log",
                 f"{1:020d}.json")
    with open(log) as f:
        text = f.read()
    lied = re.sub(r'(\\"numRecords\\":)7\b', r"\g<1>700", text)
    assert lied != text, text
    s.stop()
    with open(log, "w") as f:
        f.write(lied)
    s.start()
    assert s.dataset("rs_stats")["row_count"] == 725  # the log's word
    doc = _resync(s, {"dataset": "rs_stats"})
    assert doc["checked"] == 1 and doc["errors"] == [], doc
    assert {"file_rows", "row_count"} <= _fixed(doc)["rs_stats"], doc
    _agree(s, "rs_stats", 32)


def test_resync_reports_missing_and_broken_data_files(make_server):
    s = make_server()
    s.ingest_ok(_csv(1), filename="rs_files.csv")
    s.ingest_ok(_csv(2), filename="rs_files.csv")
    s.ingest_ok(_csv(3), filename="rs_ok.csv")
    files = sorted(s.dataset("rs_files")["data_files"], key=lambda f: f["path"])
    assert len(files) == 2, files
    root = s.path("buckets", "primary", "datasets", "rs_files")
    os.remove(os.path.join(root, files[0]["path"]))
    with open(os.path.join(root, files[1]["path"]), "wb") as f:
        f.write(b"this is not parquet")
    doc = _resync(s)
    assert doc["checked"] == 2, doc
    errs = {e["file"]: e for e in doc["errors"]}
    assert set(errs) == {files[0]["path"], files[1]["path"]}, doc
    assert all(e["dataset"] == "rs_files" for e in doc["errors"])
    assert "missing" in errs[files[0]["path"]]["error"]
    assert "parquet" in errs[files[1]["path"]]["error"].lower()
    assert "rs_ok" not in _fixed(doc)
    assert s.dataset("rs_files")["row_count"] == 50  # the log's counts stay
    assert s.get("/health").status_code == 200


def test_resync_bad_input(make_server):
    s = make_server()
    s.ingest_ok(_csv(1), filename="rs_bad.csv")
    assert_error(s.post("/catalog/resync-missing", json={"dataset": "nope"}), 404, "not_found")
    assert_error(s.post("/catalog/resync-missing", json={"dataset": 5}), 400,
                 "invalid_argument")
    assert_error(s.post("/catalog/resync-missing", json={"dataset": ""}), 400,
                 "invalid_argument")
    assert_error(s.post("/catalog/resync-missing", json={"datasets": "x"}), 400,
                 "invalid_argument")
    assert_error(s.post("/catalog/resync-missing", data="[1]",
                        headers={"Content-Type": "application/json"}), 400)
    assert_error(s.get("/catalog/resync-missing"), 405)
    doc = _resync(s, {"dataset": "rs_bad"})
    assert doc == {"checked": 1, "repaired": [], "errors": []}, doc
