"""The `lakehouse` binary: subcommands in embedded mode (--data DIR) and against a real
`lakehouse serve` (--url), exit codes, error messages and configuration precedence.

The binary comes from $LAKEHOUSE_BIN (default /work/main/build/lakehouse). Every command runs
in a temp working directory with LAKEHOUSE_* variables cleared, so no local lakehouse.toml
or environment leaks in."""
import json
import os
import signal
import socket
import subprocess
import time

import pytest
import requests

BIN = os.environ.get("LAKEHOUSE_BIN", "/work/main/build/lakehouse")
FIXTURES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "fixtures"))
PEOPLE = os.path.join(FIXTURES, "people.csv")
CITIES = os.path.join(FIXTURES, "cities.tsv")
SLOW = os.environ.get("LAKEHOUSE_SANITIZED") == "1"
TIMEOUT = 180 if SLOW else 60

PEOPLE_ROWS = [
    [1, "Ada", "London", 91.5],
    [2, "Grace", "New York", 88.0],
    [3, "Linus", "Helsinki", 79.25],
    [4, "Margaret", "Boston", 95.0],
    [5, "Dennis", "Murray Hill", 84.75],
]


SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LAKEHOUSE_") and k != "LH_FAULT"}
    env.update(extra or {})
    return env


def assert_no_sanitizer_report(text):
    for marker in SANITIZER_MARKERS:
        assert marker not in text, text


def run(*args, cwd, env=None):
    r = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=TIMEOUT,
                       cwd=cwd, env=clean_env(env))
    assert_no_sanitizer_report(r.stderr)
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def work(tmp_path):
    """A fresh working directory and data directory."""
    (tmp_path / "cwd").mkdir()
    return tmp_path


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """A data dir holding `people` (from the fixture), shared by the read-only tests."""
    root = tmp_path_factory.mktemp("cli-lake")
    data = str(root / "data")
    r = run("ingest", PEOPLE, "--data", data, cwd=str(root))
    assert r.returncode == 0, r.stderr
    return {"data": data, "cwd": str(root)}


def sql(lake, query, *args):
    return run("sql", query, "--data", lake["data"], *args, cwd=lake["cwd"])


# ---- basics ------------------------------------------------------------------------------

def test_version(work):
    r = run("version", cwd=str(work))
    assert r.returncode == 0
    assert r.stdout == "lakehouse 0.1.0 (DuckDB v1.4.4)\n"


def test_help_and_usage(work):
    for args in (["--help"], ["help"]):
        r = run(*args, cwd=str(work))
        assert r.returncode == 0
        for cmd in ("serve", "sql", "ingest", "datasets", "version"):
            assert cmd in r.stdout
    r = run("help", "sql", cwd=str(work))
    assert r.returncode == 0 and "--format" in r.stdout
    r = run(cwd=str(work))
    assert r.returncode == 2 and "usage" in r.stderr


def test_usage_errors_exit_2(work):
    r = run("frobnicate", cwd=str(work))
    assert r.returncode == 2
    assert "'frobnicate' is not a lakehouse command" in r.stderr
    assert run("sql", cwd=str(work)).returncode == 2
    assert run("sql", "SELECT 1", "--format", "xml", cwd=str(work)).returncode == 2
    assert run("sql", "SELECT 1", "--limit", "0", cwd=str(work)).returncode == 2
    assert run("sql", "SELECT 1", "--bogus", cwd=str(work)).returncode == 2
    assert run("ingest", cwd=str(work)).returncode == 2
    assert run("datasets", "--data", "x", "--url", "http://127.0.0.1:1",
               cwd=str(work)).returncode == 2


# ---- embedded mode -----------------------------------------------------------------------

def test_ingest_summary_and_append(work):
    data = str(work / "data")
    r = run("ingest", PEOPLE, "--data", data, cwd=str(work / "cwd"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ingested 5 rows into 'people' (version 0)\n"
    # The same content again is recognised and not stored twice.
    r = run("ingest", PEOPLE, "--data", data, "--name", "people", cwd=str(work / "cwd"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "already ingested: the same content is in 'people'\n"
    # The same rows in another file (no final newline) are new content: appended.
    with open(PEOPLE, "rb") as f:
        body = f.read().rstrip(b"\n")
    again = work / "people_again.csv"
    again.write_bytes(body)
    r = run("ingest", str(again), "--data", data, "--name", "people", "--json",
            cwd=str(work / "cwd"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["dataset"] == "people" and doc["version"] == 1 and doc["created"] is False
    assert doc["rows"] == 5 and doc["bytes"] == len(body)
    assert [c["name"] for c in doc["columns"]] == ["id", "name", "city", "score"]
    r = run("sql", "SELECT count(*) AS n FROM people", "--format", "csv", "--data", data,
            cwd=str(work / "cwd"))
    assert r.stdout.splitlines() == ["n", "10"]


def test_ingest_tsv_with_name(work):
    data = str(work / "data")
    r = run("ingest", CITIES, "--name", "metro", "--format", "tsv", "--data", data,
            cwd=str(work / "cwd"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ingested 3 rows into 'metro' (version 0)\n"
    r = run("sql", "SELECT city FROM metro WHERE code = 'AUS'", "--format", "csv",
            "--data", data, cwd=str(work / "cwd"))
    assert r.stdout.splitlines() == ["city", "Austin"]


def test_sql_json(lake):
    r = sql(lake, "SELECT id, name, city, score FROM people ORDER BY id", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    names = [c["name"] if isinstance(c, dict) else c for c in doc["columns"]]
    assert names == ["id", "name", "city", "score"]
    assert doc["rows"] == PEOPLE_ROWS
    assert doc["row_count"] == 5 and doc["truncated"] is False


def test_sql_csv(lake):
    r = sql(lake, "SELECT id, name, city FROM people WHERE id <= 2 ORDER BY id",
            "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.replace("\r\n", "\n") == "id,name,city\n1,Ada,London\n2,Grace,New York\n"


def test_sql_default_format_off_a_terminal_is_csv(lake):
    r = sql(lake, "SELECT name FROM people WHERE id = 3")
    assert r.stdout.replace("\r\n", "\n") == "name\nLinus\n"


def test_sql_ndjson(lake):
    r = sql(lake, "SELECT id, name FROM people WHERE id IN (4, 5) ORDER BY id",
            "--format", "ndjson")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines() if x]
    assert lines == [{"id": 4, "name": "Margaret"}, {"id": 5, "name": "Dennis"}]


def test_sql_table(lake):
    r = sql(lake, "SELECT id, name, NULL AS nothing FROM people ORDER BY id", "--format",
            "table")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split("|")[0].strip() == "id"
    assert set(lines[1]) <= {"-", "+"}
    assert "Margaret" in lines[5] and "NULL" in lines[5]
    assert lines[-1] == "(5 rows)"
    # The separators sit at the same place on every line: the columns line up.
    bars = {tuple(i for i, ch in enumerate(x) if ch == "|") for x in lines[:7] if "|" in x}
    assert len(bars) == 1


def test_sql_table_caps_wide_values(lake):
    r = sql(lake, "SELECT repeat('x', 100) AS a, '日本' AS b, 'one' || chr(10) || 'two' AS c",
            "--format", "table")
    assert r.returncode == 0, r.stderr
    header, rule, row = r.stdout.splitlines()[:3]
    cells = [c.strip() for c in row.split("|")]
    assert cells[0] == "x" * 39 + "\u2026"
    assert cells[1] == "日本" and cells[2] == "one two"
    # Widths are terminal columns: the CJK pair takes four, plus a space either side.
    assert len(rule.split("+")[1]) == 4 + 2


def test_sql_limit_truncates(lake):
    r = sql(lake, "SELECT id FROM people ORDER BY id", "--format", "json", "--limit", "2")
    doc = json.loads(r.stdout)
    assert doc["rows"] == [[1], [2]] and doc["truncated"] is True
    r = sql(lake, "SELECT id FROM people ORDER BY id", "--format", "table", "--limit", "2")
    assert "(2 rows)" in r.stdout and "truncated" in r.stdout


def test_datasets(lake):
    r = run("datasets", "--data", lake["data"], "--format", "json", cwd=lake["cwd"])
    assert r.returncode == 0, r.stderr
    ds = json.loads(r.stdout)["datasets"]
    assert [d["name"] for d in ds] == ["people"]
    assert ds[0]["row_count"] == 5 and ds[0]["version"] == 0
    r = run("datasets", "--data", lake["data"], cwd=lake["cwd"])
    assert r.returncode == 0, r.stderr
    header = [h.strip() for h in r.stdout.splitlines()[0].split("|")]
    assert header == ["name", "rows", "columns", "version", "updated_at"]
    row = [c.strip() for c in r.stdout.splitlines()[2].split("|")]
    assert row[:4] == ["people", "5", "4", "0"]


def test_errors_exit_1_with_a_message(lake, work):
    r = sql(lake, "SELEC nonsense")
    assert r.returncode == 1 and r.stderr.startswith("lakehouse: ")
    r = sql(lake, "SELECT * FROM no_such_table")
    assert r.returncode == 1 and "no_such_table" in r.stderr
    r = sql(lake, "CREATE TABLE t (i INTEGER)")
    assert r.returncode == 1 and r.stderr.startswith("lakehouse: ")
    r = sql(lake, "SELECT * FROM read_csv('/etc/passwd')")
    assert r.returncode == 1 and r.stderr.startswith("lakehouse: ")
    assert r.stdout == ""
    r = run("ingest", str(work / "missing.csv"), "--data", lake["data"], cwd=lake["cwd"])
    assert r.returncode == 1 and "missing.csv" in r.stderr
    empty = work / "empty.csv"
    empty.write_bytes(b"")
    r = run("ingest", str(empty), "--data", lake["data"], cwd=lake["cwd"])
    assert r.returncode == 1 and "ingest 'empty.csv': the file is empty" in r.stderr
    r = run("ingest", os.path.join(FIXTURES, "products.csv"), "--name", "people",
            "--data", lake["data"], cwd=lake["cwd"])
    assert r.returncode == 1
    assert r.stderr.startswith("lakehouse: ingest 'products.csv': "), r.stderr
    junk = work / "junk.csv"
    junk.write_bytes(b"PAR1\x00\x01\x02")
    r = run("ingest", str(junk), "--data", lake["data"], cwd=lake["cwd"])
    assert r.returncode == 1 and "Parquet" in r.stderr


# ---- configuration -----------------------------------------------------------------------

def test_print_config_reflects_flags_and_env(work):
    cwd = str(work / "cwd")
    r = run("serve", "--print-config", "--listen", "127.0.0.1:4999", cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["server"]["listen"] == "127.0.0.1:4999"
    r = run("serve", "--print-config", cwd=cwd, env={"LAKEHOUSE_LISTEN": "127.0.0.1:5001"})
    assert json.loads(r.stdout)["server"]["listen"] == "127.0.0.1:5001"
    # A flag beats the environment.
    r = run("serve", "--print-config", "--listen", "127.0.0.1:5002", cwd=cwd,
            env={"LAKEHOUSE_LISTEN": "127.0.0.1:5001"})
    assert json.loads(r.stdout)["server"]["listen"] == "127.0.0.1:5002"
    r = run("serve", "--print-config", "--listen", "nope", cwd=cwd)
    assert r.returncode == 1 and r.stderr.startswith("lakehouse: ")
    r = run("serve", "--print-config", "--config", str(work / "absent.toml"), cwd=cwd)
    assert r.returncode == 1


# ---- --url mode against a real server ----------------------------------------------------

def start_server(root, *extra):
    """Starts `lakehouse serve` on a free port over root/data; waits for /health."""
    port = free_port()
    log = open(root / "server.log", "w+")
    proc = subprocess.Popen([BIN, "serve", "--data", str(root / "data"), "--listen",
                             f"127.0.0.1:{port}", *extra], cwd=str(root), env=clean_env(),
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + TIMEOUT
    while True:
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return {"url": url, "cwd": str(root), "proc": proc, "log": log}
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            log.seek(0)
            pytest.fail("server did not come up:\n" + log.read())
        time.sleep(0.1)


def stop_server(srv):
    """SIGTERM, then the exit status (the server must stop cleanly with 0). Idempotent."""
    proc = srv["proc"]
    if srv["log"].closed:
        return proc.returncode
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("server did not stop on SIGTERM")
    srv["log"].seek(0)
    assert_no_sanitizer_report(srv["log"].read())
    srv["log"].close()
    return proc.returncode


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("cli-server"))
    yield srv
    stop_server(srv)


def remote(server, *args):
    return run(*args, "--url", server["url"], cwd=server["cwd"])


def test_url_ingest_sql_datasets(server):
    r = remote(server, "ingest", PEOPLE)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ingested 5 rows into 'people' (version 0)\n"
    r = remote(server, "ingest", CITIES, "--name", "metro", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"] == 3

    r = remote(server, "sql", "SELECT id, name, city, score FROM people ORDER BY id",
               "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"] == PEOPLE_ROWS
    r = remote(server, "sql", "SELECT id, name FROM people WHERE id <= 2 ORDER BY id",
               "--format", "csv")
    assert r.stdout.replace("\r\n", "\n") == "id,name\n1,Ada\n2,Grace\n"
    r = remote(server, "sql", "SELECT name FROM people WHERE id = 5", "--format", "ndjson")
    assert [json.loads(x) for x in r.stdout.splitlines() if x] == [{"name": "Dennis"}]
    r = remote(server, "sql", "SELECT id, name FROM people ORDER BY id", "--format", "table")
    assert r.returncode == 0, r.stderr
    assert "Margaret" in r.stdout and r.stdout.splitlines()[-1] == "(5 rows)"
    r = remote(server, "sql", "SELECT population FROM metro WHERE code = 'SEA'",
               "--format", "csv")
    assert r.stdout.splitlines() == ["population", "737015"]

    r = remote(server, "datasets", "--format", "json")
    assert r.returncode == 0, r.stderr
    names = sorted(d["name"] for d in json.loads(r.stdout)["datasets"])
    assert names == ["metro", "people"]
    r = remote(server, "datasets")
    assert r.returncode == 0 and "people" in r.stdout and "(2 rows)" in r.stdout


def test_url_errors(server, work):
    r = remote(server, "sql", "SELEC nonsense", "--format", "csv")
    assert r.returncode == 1 and r.stderr.startswith("lakehouse: ") and r.stdout == ""
    r = remote(server, "sql", "DROP TABLE people", "--format", "json")
    assert r.returncode == 1 and r.stderr.startswith("lakehouse: ")
    r = remote(server, "ingest", str(work / "missing.csv"))
    assert r.returncode == 1 and "missing.csv" in r.stderr
    empty = work / "empty.csv"
    empty.write_bytes(b"")
    r = remote(server, "ingest", str(empty))
    assert r.returncode == 1 and "empty" in r.stderr
    r = run("sql", "SELECT 1", "--url", f"http://127.0.0.1:{free_port()}", cwd=str(work))
    assert r.returncode == 1 and "cannot reach" in r.stderr


def test_url_server_stops_cleanly_on_sigterm(server):
    # Runs last among the tests of the shared server (pytest keeps file order).
    assert stop_server(server) == 0


def test_serve_demo_seeds_joinable_tables(tmp_path):
    srv = start_server(tmp_path, "--demo")
    try:
        r = remote(srv, "sql", "SELECT count(*) AS n FROM placements p JOIN candidates c "
                   "USING (candidate_id) JOIN jobs j USING (job_id)", "--format", "csv")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == ["n", "200"]
        r = remote(srv, "datasets", "--format", "json")
        names = sorted(d["name"] for d in json.loads(r.stdout)["datasets"])
        assert names == ["candidates", "clients", "jobs", "placements", "recruiters", "resumes"]
        # Every placement's recruiter is a row of recruiters.
        r = remote(srv, "sql", "SELECT count(*) AS n FROM placements p JOIN recruiters r "
                   "ON r.name = p.recruiter", "--format", "csv")
        assert r.stdout.splitlines() == ["n", "200"], r.stdout
    finally:
        assert stop_server(srv) == 0
    # A restart with --demo over the same data adds nothing.
    srv = start_server(tmp_path, "--demo")
    try:
        r = remote(srv, "sql", "SELECT count(*) AS n FROM candidates", "--format", "csv")
        assert r.stdout.splitlines() == ["n", "500"]
    finally:
        assert stop_server(srv) == 0
