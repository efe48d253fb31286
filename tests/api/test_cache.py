"""Hot cache: POST /query/cache/pin, /query/cache/evict, GET /query/cache/stats. A pinned
dataset is answered from an in-memory table; appends, tombstones and compaction reload it
before any query sees the new version; LRU eviction under query.cache_max_bytes; pins
survive a restart."""

from conftest import assert_error, csv_text


def _append(s, name, start, n, filename=None):
    rows = [[i, f"name{i}", i % 7] for i in range(start, start + n)]
    s.ingest_ok(csv_text(["id", "name", "grp"], rows),
                filename=filename or f"{name}_{start}.csv", name=name)


def _stats(s):
    r = s.get("/query/cache/stats")
    assert r.status_code == 200, r.text
    return r.json()


def _entry(s, name):
    return next((d for d in _stats(s)["datasets"] if d["dataset"] == name), None)


def _plan(s, sql):
    rows = s.sql_ok("EXPLAIN " + sql)["rows"]
    return "\n".join(str(c) for row in rows for c in row)


def test_pin_serves_from_memory_and_counts_hits(make_server, uniq):
    s = make_server()
    _append(s, uniq, 0, 500)
    before = _stats(s)
    assert before["entries"] == 0 and before["bytes"] == 0
    total = s.scalar(f"SELECT sum(id) FROM {uniq}")
    assert "read_parquet" in _plan(s, f"SELECT * FROM {uniq}").lower() or \
        "parquet" in _plan(s, f"SELECT * FROM {uniq}").lower()

    r = s.post("/query/cache/pin", json={"dataset": uniq})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["dataset"] == uniq and doc["rows"] == 500 and doc["loaded"] is True
    assert doc["bytes"] > 0 and doc["already_pinned"] is False

    # The plan now scans the in-memory table, not Parquet.
    plan = _plan(s, f"SELECT * FROM {uniq}").lower()
    assert "parquet" not in plan and "seq_scan" in plan.replace(" ", "_"), plan
    assert s.scalar(f"SELECT sum(id) FROM {uniq}") == total

    st = _stats(s)
    assert st["entries"] == 1 and st["bytes"] == doc["bytes"]
    assert st["hits"] >= 1 and _entry(s, uniq)["hits"] >= 1
    misses = st["misses"]
    # A dataset that is not pinned counts as a miss.
    _append(s, uniq + "_other", 0, 10)
    s.scalar(f"SELECT count(*) FROM {uniq}_other")
    assert _stats(s)["misses"] == misses + 1

    # Pinning again is a no-op that says so.
    r = s.post("/query/cache/pin", json={"dataset": uniq})
    assert r.status_code == 200 and r.json()["already_pinned"] is True
    assert _stats(s)["entries"] == 1


def test_append_tombstone_and_compaction_refresh_the_entry(make_server, uniq):
    s = make_server()
    _append(s, uniq, 0, 100)
    assert s.post("/query/cache/pin", json={"dataset": uniq}).status_code == 200
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 100

    _append(s, uniq, 100, 50)  # append: a cached query sees it at once
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 150
    assert _entry(s, uniq)["rows"] == 150

    r = s.post(f"/catalog/datasets/by-name/{uniq}/tombstone",
               json={"row_key_column": "id", "row_key_values": [1, 2, 3], "actor": "t",
                     "reason": "gdpr"})
    assert r.status_code == 201, r.text
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 147
    assert s.scalar(f"SELECT count(*) FROM {uniq} WHERE id IN (1, 2, 3)") == 0

    r = s.post("/query/compact", json={"dataset": uniq})
    assert r.status_code == 200, r.text
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 147
    e = _entry(s, uniq)
    assert e["loaded"] and e["version"] == s.dataset(uniq)["version"]
    assert _stats(s)["refreshes"] >= 3
    # Still served from memory after all that.
    assert "parquet" not in _plan(s, f"SELECT * FROM {uniq}").lower()


def test_evict_returns_to_parquet(make_server, uniq):
    s = make_server()
    _append(s, uniq, 0, 200)
    assert s.post("/query/cache/pin", json={"dataset": uniq}).status_code == 200
    r = s.post("/query/cache/evict", json={"dataset": uniq})
    assert r.status_code == 200, r.text
    assert r.json()["dataset"] == uniq and r.json()["bytes_freed"] > 0
    st = _stats(s)
    assert st["entries"] == 0 and st["bytes"] == 0
    assert "parquet" in _plan(s, f"SELECT * FROM {uniq}").lower()
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 200
    assert_error(s.post("/query/cache/evict", json={"dataset": uniq}), 404, "not_found")


def test_lru_eviction_under_the_cap(make_server, uniq):
    s = make_server(config="[query]\ncache_max_bytes = \"12MB\"\n")
    # Each dataset takes about 5 MB in memory: two fit under 12 MB, three do not.
    for k in range(3):
        name = f"{uniq}_{k}"
        rows = [[i, "x" * 40 + str(i), k] for i in range(60000)]
        s.ingest_ok(csv_text(["id", "name", "grp"], rows), filename=f"{name}.csv", name=name)
    a, b, c = (f"{uniq}_{k}" for k in range(3))
    assert s.post("/query/cache/pin", json={"dataset": a}).status_code == 200
    one = _entry(s, a)["bytes"]
    assert 1_000_000 < one < 6_000_000, one
    assert s.post("/query/cache/pin", json={"dataset": b}).status_code == 200
    s.scalar(f"SELECT count(*) FROM {a}")  # a is now more recently used than b
    assert s.post("/query/cache/pin", json={"dataset": c}).status_code == 200
    st = _stats(s)
    names = {d["dataset"] for d in st["datasets"]}
    assert c in names and a in names and b not in names, st
    assert st["evictions"] == 1 and st["bytes"] <= st["max_bytes"]
    # The evicted dataset still answers, from Parquet.
    assert s.scalar(f"SELECT count(*) FROM {b}") == 60000


def test_a_dataset_over_the_cap_is_refused(make_server, uniq):
    s = make_server(config="[query]\ncache_max_bytes = \"64KB\"\n")
    rows = [[i, "y" * 30, i] for i in range(20000)]
    s.ingest_ok(csv_text(["id", "name", "grp"], rows), filename=f"{uniq}.csv", name=uniq)
    assert_error(s.post("/query/cache/pin", json={"dataset": uniq}), 413, "too_large")
    assert _stats(s)["entries"] == 0
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 20000


def test_pins_survive_a_restart(make_server, uniq):
    s = make_server()
    _append(s, uniq, 0, 300)
    assert s.post("/query/cache/pin", json={"dataset": uniq}).status_code == 200
    s.restart()
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 300
    e = _entry(s, uniq)
    assert e is not None and e["loaded"] and e["rows"] == 300
    assert "parquet" not in _plan(s, f"SELECT * FROM {uniq}").lower()


def test_dropped_datasets_leave_the_cache_and_views_see_the_cache(make_server, uniq):
    s = make_server()
    _append(s, uniq, 0, 50)
    assert s.post("/query/cache/pin", json={"dataset": uniq}).status_code == 200
    r = s.post("/catalog/views", json={"name": f"{uniq}_safe", "dataset": uniq,
                                       "columns": ["id", "grp"]})
    assert r.status_code in (200, 201), r.text
    assert s.scalar(f"SELECT count(*) FROM {uniq}_safe") == 50
    _append(s, uniq, 50, 5)
    assert s.scalar(f"SELECT count(*) FROM {uniq}_safe") == 55


def test_bad_requests(make_server):
    s = make_server()
    assert_error(s.post("/query/cache/pin", json={}), 400, "invalid_argument")
    assert_error(s.post("/query/cache/pin", json={"dataset": 5}), 400, "invalid_argument")
    assert_error(s.post("/query/cache/pin", json=["x"]), 400, "invalid_argument")
    assert_error(s.post("/query/cache/pin", data="{not json",
                        headers={"Content-Type": "application/json"}), 400)
    assert_error(s.post("/query/cache/pin", json={"dataset": "no_such_ds"}), 404, "not_found")
    assert_error(s.post("/query/cache/pin", json={"dataset": "../etc"}), 400, "invalid_argument")
    assert_error(s.post("/query/cache/evict", json={"dataset": "nope"}), 404, "not_found")
    assert_error(s.get("/query/cache/pin"), 405, "method_not_allowed")
    assert _stats(s)["entries"] == 0


def test_queries_racing_appends_never_see_stale_rows(make_server, uniq):
    """Readers hammer a pinned dataset while appends land; each reader's counts only grow,
    and a count read after an append returned includes it."""
    import threading
    s = make_server()
    _append(s, uniq, 0, 100)
    assert s.post("/query/cache/pin", json={"dataset": uniq}).status_code == 200
    landed = [100]
    errors = []
    stop = threading.Event()

    def reader():
        last = 0
        while not stop.is_set():
            floor = landed[0]
            n = s.scalar(f"SELECT count(*) FROM {uniq}")
            if n < floor or n < last or (n - 100) % 10:
                errors.append((floor, last, n))
            last = n

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for k in range(8):
        _append(s, uniq, 100 + k * 10, 10)
        landed[0] = 110 + k * 10
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    assert s.scalar(f"SELECT count(*) FROM {uniq}") == 180
    assert _entry(s, uniq)["rows"] == 180


def test_internal_names_are_refused_in_user_sql(make_server, uniq):
    """lh_view_hash would let a caller hash guesses with the views' salt; lh_tomb holds the
    keys of deleted rows; lh_cache is reached through the dataset names."""
    s = make_server()
    _append(s, uniq, 0, 10)
    assert s.post("/query/cache/pin", json={"dataset": uniq}).status_code == 200
    for sql in ["SELECT lh_view_hash('bob@example.com')",
                'SELECT "LH_VIEW_HASH"(\'x\')',
                f"SELECT * FROM lh_cache.main.{uniq}",
                "SELECT * FROM lh_tomb.whatever",
                "EXPLAIN SELECT lh_view_hash('x')"]:
        assert_error(s.sql(sql), 403, "forbidden")
    # The same words inside strings or comments are fine.
    assert s.sql_ok("SELECT 'lh_view_hash' AS a -- lh_tomb\n")["rows"] == [["lh_view_hash"]]
