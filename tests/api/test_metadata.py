"""PATCH /catalog/datasets/by-name/{name}/metadata: rich metadata (description, owner,
sensitivity, tags, freshness, column descriptions and sensitivity), its validation, its
persistence across appends and restarts, and how GET shows it."""

import time

import requests

from conftest import SLOW, assert_error, csv_text, dataset_name_of, error_text

HEADER = ["id", "email", "amount"]
ROWS = [[1, "ana@example.com", 10], [2, "bo@example.com", 20], [3, "cy@example.com", 30]]


def make_dataset(s, uniq):
    """A new dataset named after the test; its content is unique too (ingest dedups)."""
    rows = ROWS + [[9, f"{uniq}@example.com", 90]]
    doc = s.ingest_ok(csv_text(HEADER, rows), filename=f"{uniq}.csv")
    return dataset_name_of(doc)


def patch_meta(s, name, body, raw=None, headers=None):
    """PATCH the metadata of dataset `name` with a JSON body (or raw bytes)."""
    url = s.url(f"/catalog/datasets/by-name/{name}/metadata")
    if raw is not None:
        return requests.patch(url, data=raw, headers=headers or {}, timeout=60 * SLOW)
    return requests.patch(url, json=body, timeout=60 * SLOW)


def col(doc, name):
    return next(c for c in doc["columns"] if c["name"] == name)


def test_defaults_before_any_patch(server, uniq):
    name = make_dataset(server, uniq)
    d = server.dataset(name)
    assert d["description"] is None and d["owner"] is None and d["sensitivity"] is None
    assert d["tags"] == []
    assert d["freshness"]["max_age_s"] is None and d["freshness"]["status"] == "unknown"
    assert isinstance(d["freshness"]["age_s"], int) and d["freshness"]["age_s"] >= 0
    for c in d["columns"]:
        assert c["description"] is None
        assert isinstance(c["sensitive"], bool)
        assert "pii" in c
    # History carries lineage members (null when the ingest did not say).
    h = d["history"][0]
    for key in ("source", "file_name", "actor", "content_hash", "job_id", "rows_added"):
        assert key in h, h
    assert h["file_name"] == f"{uniq}.csv"
    # The list shows the same metadata members.
    listed = next(x for x in server.datasets() if x["name"] == name)
    assert listed["tags"] == [] and "freshness" in listed and "history" not in listed


def test_patch_sets_everything_and_answers_the_dataset(server, uniq):
    name = make_dataset(server, uniq)
    body = {"description": "Orders from the shop", "owner": "sales-team",
            "sensitivity": "confidential", "tags": ["sales", "daily", "sales"],
            "freshness": {"max_age_s": 86400},
            "columns": {"email": {"description": "buyer's address", "sensitive": True},
                        "amount": {"description": "EUR"}}}
    r = patch_meta(server, name, body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["name"] == name and "history" in d and "data_files" in d
    assert d["description"] == "Orders from the shop"
    assert d["owner"] == "sales-team"
    assert d["sensitivity"] == "confidential"
    assert d["tags"] == ["sales", "daily"]
    assert d["freshness"]["max_age_s"] == 86400 and d["freshness"]["status"] == "fresh"
    assert col(d, "email")["description"] == "buyer's address"
    assert col(d, "email")["sensitive"] is True
    assert col(d, "amount")["description"] == "EUR"
    # GET agrees with the answer.
    g = server.dataset(name)
    for key in ("description", "owner", "sensitivity", "tags", "columns"):
        assert g[key] == d[key], key

    # Partial patches leave the rest; null clears.
    r = patch_meta(server, name, {"owner": "ops", "tags": None, "freshness": None,
                              "columns": {"amount": {"description": None}}})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["owner"] == "ops" and d["description"] == "Orders from the shop"
    assert d["tags"] == [] and d["freshness"]["max_age_s"] is None
    assert d["freshness"]["status"] == "unknown"
    assert col(d, "amount")["description"] is None
    assert col(d, "email")["description"] == "buyer's address"


def test_stale_when_older_than_the_expectation(server, uniq):
    name = make_dataset(server, uniq)
    time.sleep(2.1)
    d = patch_meta(server, name, {"freshness": {"max_age_s": 1}}).json()
    assert d["freshness"]["status"] == "stale", d["freshness"]
    assert d["freshness"]["age_s"] >= 2


def test_validation_errors_change_nothing(server, uniq):
    name = make_dataset(server, uniq)
    assert patch_meta(server, name, {"owner": "keep"}).status_code == 200
    before = server.dataset(name)
    bad = [
        ({"colour": "red", "owner": "x"}, "colour"),
        ({"sensitivity": "top-secret"}, "sensitivity"),
        ({"tags": "sales"}, "tags"),
        ({"tags": ["t%d" % i for i in range(65)]}, "64"),
        ({"tags": ["x" * 65]}, "64"),
        ({"tags": [1]}, "tags"),
        ({"freshness": {"max_age_s": 0}}, "max_age_s"),
        ({"freshness": {"max_age_s": -3}}, "max_age_s"),
        ({"freshness": {"max_age_s": "1d"}}, "max_age_s"),
        ({"freshness": {"every": 5}}, "every"),
        ({"description": 42}, "description"),
        ({"columns": {"nope": {"description": "x"}}}, "nope"),
        ({"columns": {"email": {"pii": "email"}}}, "pii"),
        ({"columns": {"email": {"sensitive": "yes"}}}, "sensitive"),
    ]
    for body, needle in bad:
        r = patch_meta(server, name, body)
        err = assert_error(r, 400, "invalid_argument")
        assert needle in error_text(err), (body, err)
    # Not JSON, not an object.
    err = assert_error(patch_meta(server, name, None, raw=b"{oops",
                              headers={"Content-Type": "application/json"}), 400,
                       "invalid_argument")
    assert "line" in error_text(err) or "column" in error_text(err)
    assert_error(patch_meta(server, name, None, raw=b"[1]",
                        headers={"Content-Type": "application/json"}), 400, "invalid_argument")
    after = server.dataset(name)
    assert after["owner"] == "keep"
    assert after["version"] == before["version"]
    for key in ("description", "sensitivity", "tags", "freshness", "columns"):
        if key == "freshness":
            assert after[key]["max_age_s"] == before[key]["max_age_s"]
        else:
            assert after[key] == before[key], key


def test_unknown_dataset_and_method(server):
    assert_error(patch_meta(server, "no_such_dataset", {"owner": "x"}), 404, "not_found")
    r = server.get("/catalog/datasets/by-name/whatever/metadata")
    assert_error(r, 405)
    assert "PATCH" in r.headers.get("Allow", "")


def test_metadata_survives_appends_and_restarts(make_server, uniq):
    s = make_server()
    name = make_dataset(s, uniq)
    r = patch_meta(s, name, {"description": "kept", "owner": "ana", "tags": ["a"],
                         "sensitivity": "internal",
                         "columns": {"email": {"sensitive": False, "description": "mail"}}})
    assert r.status_code == 200, r.text
    # An append (different content, same schema) keeps the metadata.
    more = csv_text(HEADER, [[4, "dee@example.com", 40]])
    doc = s.ingest_ok(more, filename=f"{uniq}.csv")
    assert dataset_name_of(doc) == name
    d = s.dataset(name)
    assert d["version"] == 1 and d["row_count"] == 5
    assert d["description"] == "kept" and d["owner"] == "ana" and d["tags"] == ["a"]
    # A person's "not sensitive" outlives PII detection on the append.
    assert col(d, "email")["sensitive"] is False
    assert col(d, "email")["description"] == "mail"
    s.restart()
    d = s.dataset(name)
    assert d["description"] == "kept" and d["sensitivity"] == "internal"
    assert col(d, "email")["sensitive"] is False and col(d, "email")["description"] == "mail"
    assert s.scalar(f"SELECT count(*) FROM {name}") == 5
