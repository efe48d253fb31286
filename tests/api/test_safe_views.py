"""AI-safe views: POST/GET /catalog/views, GET/DELETE /catalog/views/{name}. A view is a
table by its name in SQL with only whitelisted columns, a structured row filter (values are
data, never SQL text) and redactions null / hash (salted, stable) / mask; it persists
across restarts and hides tombstoned rows."""

import hashlib
import os

from conftest import assert_error, csv_text

ROWS = [[1, "alice", "a@x.com", 100, "FR"], [2, "bo", "b@x.com", 200, "DE"],
        [3, "x' OR 1=1 --", "c@x.com", 300, "US"], [4, "", "d@x.com", 400, "FR"],
        [5, "hostile\"; DROP TABLE x; --", "e@x.com", 500, "FR"]]
HEADER = ["id", "name", "email", "salary", "country"]


def _load(s, name, rows=ROWS):
    s.ingest_ok(csv_text(HEADER, rows), filename=f"{name}.csv", name=name)


def _view(s, **body):
    return s.post("/catalog/views", json=body)


def _salt(s):
    with open(s.path("buckets", "primary", "_catalog", "views", "_salt")) as f:
        return f.read()


def _h(salt, value):
    return hashlib.sha256((salt + value).encode()).hexdigest()


def test_create_get_list_delete_and_redactions(make_server, uniq):
    s = make_server()
    _load(s, uniq)
    v = f"{uniq}_safe"
    r = _view(s, name=v, dataset=uniq, columns=["id", "name", "email", "salary"],
              redactions={"name": {"mask": {"keep_prefix": 1, "keep_suffix": 2}},
                          "email": "hash", "salary": "null"})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["name"] == v and doc["dataset"] == uniq and doc["row_filter"] == []
    assert doc["columns"] == ["id", "name", "email", "salary"]
    assert doc["redactions"]["email"] == "hash"
    assert doc["redactions"]["name"] == {"mask": {"keep_prefix": 1, "keep_suffix": 2}}
    assert os.path.isfile(s.path("buckets", "primary", "_catalog", "views", v + ".json"))
    assert s.get(f"/catalog/views/{v}").json() == doc
    assert [x["name"] for x in s.get("/catalog/views").json()["views"]] == [v]

    salt = _salt(s)
    assert len(salt) == 64
    rows = s.sql_ok(f"SELECT * FROM {v} ORDER BY id")["rows"]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    # mask: first 1 and last 2 kept; a value of <= 3 characters is masked whole
    assert rows[0][1] == "a**ce"
    assert rows[1][1] == "**"
    assert rows[2][1] == "x*********--"
    # hash: sha256(salt || value), not the plain value's hash
    assert rows[0][2] == _h(salt, "a@x.com")
    assert rows[0][2] != hashlib.sha256(b"a@x.com").hexdigest()
    assert all(r[3] is None for r in rows)
    # the whitelist: a column outside it cannot be selected through the view
    assert_error(s.sql(f"SELECT country FROM {v}"), 400, "sql_error")
    assert_error(s.sql(f"SELECT * FROM {v} WHERE country = 'FR'"), 400, "sql_error")

    r = s.delete(f"/catalog/views/{v}")
    assert r.status_code == 200 and r.json() == {"deleted": v}
    assert not os.path.exists(s.path("buckets", "primary", "_catalog", "views", v + ".json"))
    assert_error(s.sql(f"SELECT * FROM {v}"), 400, "sql_error")
    assert_error(s.get(f"/catalog/views/{v}"), 404, "not_found")
    assert_error(s.delete(f"/catalog/views/{v}"), 404, "not_found")
    assert s.get("/catalog/views").json()["views"] == []


def test_filters_with_hostile_values(make_server, uniq):
    s = make_server()
    _load(s, uniq)
    hostile = "x' OR 1=1 --"
    r = _view(s, name=f"{uniq}_a", dataset=uniq, columns=["id"],
              row_filter={"column": "country", "op": "=", "value": hostile})
    assert r.status_code == 201, r.text
    assert s.scalar(f"SELECT count(*) FROM {uniq}_a") == 0
    r = _view(s, name=f"{uniq}_b", dataset=uniq, columns=["id"],
              row_filter=[{"column": "name", "op": "in",
                           "value": [hostile, 'hostile"; DROP TABLE x; --']}])
    assert r.status_code == 201, r.text
    assert s.sql_ok(f"SELECT id FROM {uniq}_b ORDER BY id")["rows"] == [[3], [5]]
    r = _view(s, name=f"{uniq}_c", dataset=uniq, columns=["id", "name"],
              row_filter=[{"column": "country", "op": "!=", "value": "US"},
                          {"column": "salary", "op": "<=", "value": 400},
                          {"column": "email", "op": "like", "value": "%@x.com"},
                          {"column": "name", "op": "is not null"}])
    assert r.status_code == 201, r.text
    assert s.sql_ok(f"SELECT id FROM {uniq}_c ORDER BY id")["rows"] == [[1], [2]]
    # the filter may use a column outside the whitelist; the view still hides it
    assert_error(s.sql(f"SELECT salary FROM {uniq}_c"), 400, "sql_error")
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 5  # the dataset is untouched


def test_bad_inputs(make_server, uniq):
    s = make_server()
    _load(s, uniq)
    ok = {"name": "v_ok", "dataset": uniq, "columns": ["id"]}
    cases = [
        ({"dataset": uniq, "columns": ["id"]}, 400),
        ({**ok, "name": "Bad Name"}, 400),
        ({**ok, "name": "x; drop"}, 400),
        ({**ok, "dataset": "no_such_dataset"}, 404),
        ({**ok, "name": uniq}, 409),
        ({**ok, "columns": []}, 400),
        ({**ok, "columns": ["nope"]}, 400),
        ({**ok, "columns": "id"}, 400),
        ({**ok, "redactions": {"email": "hash"}}, 400),
        ({**ok, "redactions": {"id": "rot13"}}, 400),
        ({**ok, "redactions": {"id": {"mask": {"keep_prefix": "2"}}}}, 400),
        ({**ok, "row_filter": "id = 1 OR 1=1"}, 400),
        ({**ok, "row_filter": {"column": "id", "op": "= 1 OR 1=1 --", "value": 1}}, 400),
        ({**ok, "row_filter": {"column": "id) OR (1", "op": "=", "value": 1}}, 400),
        ({**ok, "row_filter": {"column": "id", "op": "=", "value": {"sql": "1"}}}, 400),
        ({**ok, "row_filter": {"column": "id", "op": "in", "value": []}}, 400),
        ({**ok, "row_filter": {"column": "id", "op": "is null", "value": 1}}, 400),
        ({**ok, "row_filter": {"column": "id", "op": "=", "value": 1, "raw": "x"}}, 400),
        ({**ok, "unknown": 1}, 400),
    ]
    for body, status in cases:
        r = s.post("/catalog/views", json=body)
        assert_error(r, status)
    assert_error(s.post("/catalog/views", data="{not json",
                        headers={"Content-Type": "application/json"}), 400)
    assert s.get("/catalog/views").json()["views"] == []
    assert _view(s, **ok).status_code == 201
    assert_error(_view(s, **ok), 409, "conflict")
    assert_error(s.get("/catalog/views/no_such_view"), 404, "not_found")
    assert_error(s.get("/catalog/views/Bad%20Name"), 404, "not_found")


def test_restart_keeps_views_and_hash_and_tombstones_apply(make_server, uniq):
    s = make_server()
    _load(s, uniq)
    v = f"{uniq}_v"
    r = _view(s, name=v, dataset=uniq, columns=["id", "email"], redactions={"email": "hash"},
              row_filter={"column": "country", "op": "=", "value": "FR"})
    assert r.status_code == 201, r.text
    before = s.sql_ok(f"SELECT id, email FROM {v} ORDER BY id")["rows"]
    assert [x[0] for x in before] == [1, 4, 5]
    salt = _salt(s)
    s.restart()
    assert s.get(f"/catalog/views/{v}").status_code == 200
    after = s.sql_ok(f"SELECT id, email FROM {v} ORDER BY id")["rows"]
    assert after == before  # the hash is stable across restarts
    assert _salt(s) == salt
    assert after[0][1] == _h(salt, "a@x.com")
    # the salt file is not readable from SQL (outside the allowed directories)
    salt_path = s.path("buckets", "primary", "_catalog", "views", "_salt")
    assert s.sql(f"SELECT * FROM read_text('{salt_path}')").status_code == 403
    # nor through the view's SQL text
    text = s.sql_ok(f"SELECT sql FROM duckdb_views() WHERE view_name = '{v}'")["rows"][0][0]
    assert salt not in text and "lh_view_hash" in text
    # tombstoned rows are excluded through the view
    r = s.post(f"/catalog/datasets/by-name/{uniq}/tombstone",
               json={"row_key_column": "id", "row_key_values": [4]})
    assert r.status_code == 201, r.text
    assert s.sql_ok(f"SELECT id FROM {v} ORDER BY id")["rows"] == [[1], [5]]
    s.restart()
    assert s.sql_ok(f"SELECT id FROM {v} ORDER BY id")["rows"] == [[1], [5]]
    # appends are seen through the view
    _load(s, uniq, [[6, "fay", "f@x.com", 600, "FR"]])
    assert s.sql_ok(f"SELECT id FROM {v} ORDER BY id")["rows"] == [[1], [5], [6]]
