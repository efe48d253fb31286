"""Tombstones (soft delete): POST/GET /catalog/datasets/by-name/{name}/tombstone. Durable
when answered (the batch file is on disk), one key column per dataset, keys compared as text
(integer and string keys both work), queries and restarts keep hiding the rows."""

import os

from conftest import assert_error, csv_text


def _tomb(s, name, column, values, **extra):
    body = {"row_key_column": column, "row_key_values": values, "actor": "ana",
            "reason": "gdpr"}
    body.update(extra)
    return s.post(f"/catalog/datasets/by-name/{name}/tombstone", json=body)


def _load(s, name, rows):
    s.ingest_ok(csv_text(["id", "code", "val"], rows), filename=f"{name}.csv", name=name)


ROWS = [[i, f"c{i}", i * 10] for i in range(20)]


def test_tombstone_hides_rows_and_survives_restart(make_server, uniq):
    s = make_server()
    _load(s, uniq, ROWS)
    r = _tomb(s, uniq, "id", [3, 4, "5", 999])
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["count"] == 4 and len(doc["id"]) == 36 and doc["row_key_column"] == "id"
    # durable before the answer: the batch file is in the dataset's bucket
    f = s.path("buckets", "primary", "_catalog", "tombstones", uniq, doc["id"] + ".json")
    assert os.path.isfile(f)
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 17
    assert s.scalar(f"SELECT count(*) FROM {uniq} WHERE id IN (3, 4, 5)") == 0
    # an append: tombstoned keys stay hidden, other rows appear
    _load(s, uniq, [[3, "again", 1], [50, "c50", 500]])
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 18
    lst = s.get(f"/catalog/datasets/by-name/{uniq}/tombstone").json()
    assert lst["row_key_column"] == "id" and lst["key_count"] == 4
    assert [b["count"] for b in lst["batches"]] == [4]
    assert lst["batches"][0]["actor"] == "ana" and lst["batches"][0]["reason"] == "gdpr"
    s.restart()
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 18
    lst2 = s.get(f"/catalog/datasets/by-name/{uniq}/tombstone").json()
    assert lst2["batches"][0]["id"] == doc["id"]


def test_string_keys_and_second_batch(make_server, uniq):
    s = make_server()
    _load(s, uniq, ROWS)
    assert _tomb(s, uniq, "code", ["c1", "c2"]).status_code == 201
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 18
    assert _tomb(s, uniq, "code", ["c2", "c7"]).status_code == 201
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 17
    lst = s.get(f"/catalog/datasets/by-name/{uniq}/tombstone").json()
    assert len(lst["batches"]) == 2 and lst["key_count"] == 3
    # a second key column is refused
    assert_error(_tomb(s, uniq, "id", [1]), 409, "conflict")
    # a view built on the dataset excludes them too
    assert s.scalar(f"SELECT count(*) FROM (SELECT * FROM {uniq} WHERE val >= 0)") == 17


def test_hostile_key_text_is_data_not_sql(make_server, uniq):
    s = make_server()
    _load(s, uniq, ROWS)
    evil = ["x') OR 1=1 --", "'; DROP VIEW x; --", "c9"]
    assert _tomb(s, uniq, "code", evil).status_code == 201
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 19


def test_bad_requests(make_server, uniq):
    s = make_server()
    _load(s, uniq, ROWS)
    assert_error(_tomb(s, "no_such_dataset", "id", [1]), 404, "not_found")
    assert_error(_tomb(s, uniq, "nope", [1]), 400)
    assert_error(_tomb(s, uniq, "id", []), 400)
    assert_error(_tomb(s, uniq, "id", "1"), 400)
    assert_error(_tomb(s, uniq, "id", [None]), 400)
    assert_error(_tomb(s, uniq, "id", [[1]]), 400)
    assert_error(_tomb(s, uniq, "id", [""]), 400)
    assert_error(_tomb(s, uniq, "id", ["x" * 2000]), 400)
    assert_error(s.post(f"/catalog/datasets/by-name/{uniq}/tombstone",
                        json={"row_key_values": [1]}), 400)
    assert_error(_tomb(s, uniq, "id", [1], actor=5), 400)
    assert_error(s.post(f"/catalog/datasets/by-name/{uniq}/tombstone", data="{not json",
                        headers={"Content-Type": "application/json"}), 400)
    assert_error(_tomb(s, uniq, "id", list(range(100001))), 413)
    assert_error(s.get("/catalog/datasets/by-name/no_such_dataset/tombstone"), 404, "not_found")
    lst = s.get(f"/catalog/datasets/by-name/{uniq}/tombstone").json()
    assert lst["batches"] == [] and lst["row_key_column"] is None
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 20


def test_large_batch(make_server, uniq):
    s = make_server()
    _load(s, uniq, ROWS)
    keys = list(range(5, 100005))
    r = _tomb(s, uniq, "id", keys)
    assert r.status_code == 201, r.text
    assert r.json()["count"] == 100000
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 5
