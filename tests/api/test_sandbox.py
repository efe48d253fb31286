"""The SQL sandbox: only single read statements, no file access outside the lake, no
configuration changes, no reading of catalog internals; and the per-query timeout."""

import os
import threading
import time

import pytest

from conftest import SLOW, assert_error, csv_text


@pytest.fixture(scope="module")
def lake(server):
    """The module server with one dataset, `sbx`."""
    server.ingest_ok(csv_text(["a", "b"], [[1, "x"], [2, "y"]]), filename="sbx.csv")
    return server


FORBIDDEN = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM read_parquet('/etc/x.parquet')",
    "SELECT * FROM read_json('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "COPY (SELECT 1) TO '/tmp/lh_sandbox_x.csv'",
    "EXPORT DATABASE '/tmp/lh_sandbox_export'",
    "ATTACH '/tmp/lh_sandbox.db' AS other",
    "ATTACH ':memory:' AS other",
    "DETACH memory",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET threads=1",
    "SET enable_external_access=true",
    "SET allowed_directories=['/']",
    "RESET threads",
    "CREATE TABLE t (x INTEGER)",
    "CREATE TEMP TABLE t AS SELECT 1",
    "CREATE VIEW v AS SELECT 1",
    "CREATE MACRO m(x) AS x + 1",
    "DROP TABLE sbx",
    "DROP VIEW sbx",
    "INSERT INTO sbx VALUES (3, 'z')",
    "UPDATE sbx SET a = 0",
    "DELETE FROM sbx",
    "PRAGMA database_list",
    "PRAGMA threads=1",
    "CALL pragma_version()",
    "CHECKPOINT",
    "BEGIN TRANSACTION",
    "USE memory",
    "SELECT 1; DROP TABLE x",
    "SELECT 1; SELECT 2",
    "SELECT 1;SELECT 2;",
    "SELECT 1; -- trailing\nDELETE FROM sbx",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/lh_sandbox_x.csv'",
    "EXPLAIN ANALYZE INSERT INTO sbx VALUES (9, 'q')",
    "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
    "/* comment */ DROP TABLE sbx",
    "  \n\tINSTALL httpfs",
]


@pytest.mark.parametrize("sql", FORBIDDEN)
def test_forbidden(lake, sql):
    r = lake.sql(sql)
    assert_error(r, 403, "forbidden")


def test_replacement_scan_of_a_path_reads_nothing(lake):
    # With external access off DuckDB takes '/etc/passwd' for a table name: an error either
    # way, and never the file's content.
    r = lake.sql("SELECT * FROM '/etc/passwd'")
    assert r.status_code in (400, 403), r.text
    assert_error(r, r.status_code)
    assert "root:" not in r.text


def test_forbidden_did_nothing(lake):
    for sql in FORBIDDEN:
        lake.sql(sql)
    assert not os.path.exists("/tmp/lh_sandbox_x.csv")
    assert not os.path.exists("/tmp/lh_sandbox_export")
    assert not os.path.exists("/tmp/lh_sandbox.db")
    assert lake.scalar("SELECT count(*) FROM sbx") == 2
    assert lake.sql_ok("SELECT current_setting('threads') AS t")["rows"][0][0] != 1 or \
        os.cpu_count() == 1


def test_copy_into_the_lake_forbidden(lake):
    for target in (lake.path("buckets", "primary", "datasets", "sbx", "evil.csv"),
                   lake.path("buckets", "primary", "evil.parquet"),
                   lake.path("tmp", "work", "evil.csv")):
        r = lake.sql(f"COPY (SELECT 1) TO '{target}'")
        assert_error(r, 403, "forbidden")
        assert not os.path.exists(target)
    r = lake.sql(f"COPY sbx TO '{lake.path('buckets', 'primary', 'datasets', 'x.parquet')}' "
                 "(FORMAT parquet)")
    assert_error(r, 403, "forbidden")


def test_catalog_internals_unreadable(lake):
    manifest = lake.path("buckets", "primary", "_catalog", "datasets", "sbx.json")
    assert os.path.isfile(manifest)
    for sql in (f"SELECT * FROM read_json('{manifest}')",
                f"SELECT * FROM read_text('{manifest}')",
                f"SELECT * FROM read_json_auto('{lake.path('buckets', 'primary', '_catalog')}/**')",
                f"SELECT * FROM glob('{lake.path('buckets', 'primary', '_catalog')}/*')"):
        r = lake.sql(sql)
        assert_error(r, 403, "forbidden")


def test_dotdot_paths_cannot_leave_the_datasets_dir(lake):
    ds = lake.path("buckets", "primary", "datasets")
    work = lake.path("tmp", "work")
    for p in (f"{ds}/../_catalog/datasets/sbx.json", f"{ds}/sbx/../../_catalog/datasets/sbx.json",
              f"{work}/../../buckets/primary/_catalog/datasets/sbx.json",
              f"{ds}/../../../../../../etc/passwd"):
        r = lake.sql(f"SELECT * FROM read_text('{p}')")
        assert_error(r, 403, "forbidden")
        assert "root:" not in r.text and '"columns"' not in r.text


def test_not_spliced_as_statements(lake):
    """query() and friends cannot smuggle a statement past the gate."""
    for sql in ("SELECT * FROM query('CREATE TABLE zz AS SELECT 1')",
                "SELECT * FROM query('ATTACH '':memory:'' AS o')"):
        r = lake.sql(sql)
        assert r.status_code in (400, 403), r.text
        assert_error(r, r.status_code)
    assert lake.sql("SELECT * FROM zz").status_code == 400


def test_dataset_files_are_readable_through_the_table(lake):
    # The normal way in still works while the sandbox is on.
    assert lake.sql_ok("SELECT a, b FROM sbx ORDER BY a")["rows"] == [[1, "x"], [2, "y"]]


def test_timeout_and_health_meanwhile(lake):
    result = {}

    def slow():
        t0 = time.monotonic()
        result["resp"] = lake.sql("SELECT count(*) FROM range(1000000000000)", timeout_ms=500,
                                  timeout=60)
        result["secs"] = time.monotonic() - t0

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.1)
    health_times = []
    while th.is_alive() and len(health_times) < 50:
        t0 = time.monotonic()
        h = lake.get("/health", timeout=5)
        health_times.append(time.monotonic() - t0)
        assert h.status_code == 200
        time.sleep(0.05)
    th.join(30)
    assert not th.is_alive()
    assert health_times, "the query ended before /health could be asked"
    assert max(health_times) < 1.0 * SLOW, health_times
    err = assert_error(result["resp"], 503, "timeout")
    assert err["message"]
    assert result["secs"] < 5 * SLOW, result["secs"]
    # The connection is usable again: a later query works.
    assert lake.scalar("SELECT 40 + 2") == 42


def test_default_timeout_from_env(make_server):
    s = make_server(env={"LAKEHOUSE_QUERY_TIMEOUT_MS": "300"})
    t0 = time.monotonic()
    r = s.sql("SELECT count(*) FROM range(1000000000000)")
    assert_error(r, 503, "timeout")
    assert time.monotonic() - t0 < 5 * SLOW


def test_many_timeouts_do_not_exhaust_the_pool(lake):
    for _ in range(12):
        r = lake.sql("SELECT count(*) FROM range(1000000000000)", timeout_ms=50)
        assert_error(r, 503, "timeout")
    assert lake.scalar("SELECT 1") == 1
