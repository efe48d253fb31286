"""GET /health, routing errors (404 / 405), configuration from env and --config, and the
per-request access log."""

import os
import re
import time

import requests

from conftest import assert_error, csv_text


def test_health_shape(server):
    r = server.get("/health")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    doc = r.json()
    assert doc["status"] == "ok"
    for key in ("version", "duckdb_version", "uptime_s", "data_dir", "datasets"):
        assert key in doc, doc
    assert isinstance(doc["version"], str) and doc["version"]
    assert "1.4.4" in doc["duckdb_version"]
    assert isinstance(doc["uptime_s"], (int, float)) and doc["uptime_s"] >= 0
    assert isinstance(doc["datasets"], int) and doc["datasets"] >= 0
    # The data dir given on the command line.
    assert os.path.realpath(doc["data_dir"]) == os.path.realpath(server.data_dir)


def test_health_counts_datasets_and_uptime_moves(make_server):
    s = make_server()
    assert s.get("/health").json()["datasets"] == 0
    s.ingest_ok(csv_text(["a"], [[1], [2]]), filename="one.csv")
    doc = s.get("/health").json()
    assert doc["datasets"] == 1
    u1 = doc["uptime_s"]
    time.sleep(1.1)
    assert s.get("/health").json()["uptime_s"] > u1


def test_unknown_route_404(server):
    for path in ("/nope", "/health/extra", "/catalog/nothing/here", "/index.html"):
        assert_error(server.get(path), 404, "not_found")


def test_wrong_method_405(server):
    assert_error(server.delete("/health"), 405, "method_not_allowed")
    assert_error(server.put("/health", data=b"x"), 405, "method_not_allowed")
    assert_error(server.get("/query/sql"), 405, "method_not_allowed")
    assert_error(server.post("/catalog/datasets/by-name/x", json={}), 405,
                 "method_not_allowed")
    # The 405 says what is allowed.
    allow = server.delete("/health").headers.get("Allow", "")
    assert "GET" in allow and "DELETE" not in allow, allow


def test_head_is_get_without_body(server):
    r = requests.head(server.url("/health"), timeout=10)
    assert r.status_code == 200 and r.content == b""
    assert server.put("/storage/objects/head/x.bin", data=b"12345").status_code == 201
    r = requests.head(server.url("/storage/objects/head/x.bin"), timeout=10)
    assert r.status_code == 200 and r.content == b""
    assert r.headers.get("Content-Length") == "5"


def test_env_config_applies(make_server):
    s = make_server(env={"LAKEHOUSE_QUERY_MAX_ROWS": "5"})
    doc = s.sql_ok("SELECT * FROM range(100)")
    assert doc["row_count"] == 5 and doc["truncated"] is True
    assert len(doc["rows"]) == 5


def test_config_file_applies(make_server):
    s = make_server(config="[query]\nmax_rows = 7\n")
    doc = s.sql_ok("SELECT * FROM range(100)")
    assert doc["row_count"] == 7 and doc["truncated"] is True


def test_env_overrides_config_file(make_server):
    s = make_server(config="[query]\nmax_rows = 7\n", env={"LAKEHOUSE_QUERY_MAX_ROWS": "3"})
    doc = s.sql_ok("SELECT * FROM range(100)")
    assert doc["row_count"] == 3


def _access_lines(log, method, path, status):
    """Log lines that record this request: method and path as words, status as a number."""
    pat_m = re.compile(r"(^|[\s\"=])" + re.escape(method) + r"([\s\"]|$)")
    pat_p = re.compile(r"(^|[\s\"=])" + re.escape(path) + r"([\s\"?]|$)")
    pat_s = re.compile(r"(^|[\s=])" + str(status) + r"(\s|$)")
    return [ln for ln in log.splitlines()
            if pat_m.search(ln) and pat_p.search(ln) and pat_s.search(ln)]


def test_access_log_one_line_per_request(make_server):
    s = make_server()
    time.sleep(0.3)  # the startup health probes' lines may land just after their answers
    before = s.log_text()
    s.get("/health")
    s.get("/no-such-route-xyz")
    s.delete("/health")
    r = s.sql("SELECT 42 AS answer")
    assert r.status_code == 200
    time.sleep(0.2 * 4)  # the line may be written just after the answer
    log = s.log_text()[len(before):]
    for method, path, status in (("GET", "/health", 200), ("GET", "/no-such-route-xyz", 404),
                                 ("DELETE", "/health", 405), ("POST", "/query/sql", 200)):
        lines = _access_lines(log, method, path, status)
        assert len(lines) == 1, f"{method} {path} {status}: {lines}\nlog:\n{log[-3000:]}"
        line = lines[0]
        # The byte count ("123B" or bytes=123) and the duration ("0.4ms" or ms=0.4).
        assert re.search(r"(\s\d+\s?B(\s|$)|bytes[=: ]\d+)", line), line
        assert re.search(r"(\s\d+(\.\d+)?\s?ms(\s|$)|ms[=: ]\d+)", line), line
