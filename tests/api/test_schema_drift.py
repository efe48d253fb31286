"""Appends whose schema drifted (POST /ingest/file?on_schema_change=fail|add_columns): new
columns refused with a message naming them and the way out, or added with old rows NULL;
type changes always refused; likely renames reported. And `lakehouse ingest` embedded:
JSON and PDF, the summary line, no progress output off a terminal, --on-schema-change."""

import json
import os
import pty
import select
import subprocess
import time

import pytest

from conftest import SLOW, _clean_env, assert_error, csv_text, error_text, lakehouse_bin

FIXTURES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "fixtures"))
BASE = csv_text(["id", "cust_name", "amount"], [[1, "ann", 2.5], [2, "bob", 3.5]])


def base_csv(tag):
    """BASE with a value unique to the test, so that dedup does not see the same bytes."""
    return BASE.replace("bob", tag)


def ingest(server, text, name, mode=None):
    params = {"name": name}
    if mode is not None:
        params["on_schema_change"] = mode
    return server.post("/ingest/file", params=params,
                       files={"file": (f"{name}.csv", text.encode(), "text/csv")})


def snapshot(server, name):
    d = server.dataset(name)
    return d["version"], d["row_count"], [(c["name"], c["type"]) for c in d["columns"]]


def refused(server, name, resp, status, code, settle=False):
    """The error is right and nothing moved: dataset, catalog list, scratch. settle: allow
    the scratch file a moment to go (see test_bad_input.test_scratch_gone_before_answer)."""
    err = assert_error(resp, status, code)
    deadline = time.monotonic() + (2.0 * SLOW if settle else 0.0)
    while server.work_leftovers() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.work_leftovers() == []
    return err


@pytest.fixture
def base(server, uniq):
    r = ingest(server, base_csv(uniq), uniq)
    assert r.status_code == 201, r.text
    return uniq


def test_new_column_refused_by_default(server, base):
    before, listing = snapshot(server, base), server.datasets()
    wider = csv_text(["id", "cust_name", "amount", "region"], [[3, "cy", 4.5, "eu"]])
    for mode in (None, "fail"):
        err = refused(server, base, ingest(server, wider, base, mode), 409, "conflict")
        text = error_text(err)
        assert "region" in text, text                       # names the added column
        assert "add_columns" in text, text                  # and the way to accept it
    assert snapshot(server, base) == before and server.datasets() == listing
    assert server.scalar(f"SELECT count(*) FROM {base}") == 2


def test_new_column_added_on_request(server, base):
    wider = csv_text(["id", "cust_name", "amount", "region"], [[3, "cy", 4.5, "eu"]])
    r = ingest(server, wider, base, "add_columns")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["version"] == 1 and doc["created"] is False and doc["rows"] == 1
    diff = doc["schema_diff"]
    assert diff["added"] == [{"name": "region", "type": "VARCHAR"}], diff
    assert diff["removed"] == [] and diff["type_changed"] == [] and diff["renamed"] == []
    version, rows, columns = snapshot(server, base)
    assert (version, rows) == (1, 3)
    assert columns == [("id", "BIGINT"), ("cust_name", "VARCHAR"), ("amount", "DOUBLE"),
                       ("region", "VARCHAR")]
    assert server.sql_ok(f"SELECT id, region FROM {base} ORDER BY id")["rows"] == [
        [1, None], [2, None], [3, "eu"]]
    # The history says what happened.
    assert [h["rows_added"] for h in server.dataset(base)["history"]] == [2, 1]


def test_type_change_refused_even_with_add_columns(server, base):
    before = snapshot(server, base)
    changed = csv_text(["id", "cust_name", "amount"], [[3, "cy", "lots"], [4, "dd", "n/a"]])
    for mode in ("fail", "add_columns"):
        err = refused(server, base, ingest(server, changed, base, mode), 409, "conflict")
        text = error_text(err)
        assert "amount" in text and "double" in text and "varchar" in text, text
    assert snapshot(server, base) == before


def test_likely_rename_reported(server, base):
    before = snapshot(server, base)
    renamed = csv_text(["id", "customer_name", "amount"], [[3, "cy", 4.5]])
    err = refused(server, base, ingest(server, renamed, base), 409, "conflict")
    text = error_text(err)
    assert "cust_name" in text and "customer_name" in text and "renamed" in text, text
    assert snapshot(server, base) == before


def test_removed_column_reported(server, base):
    before = snapshot(server, base)
    narrower = csv_text(["id", "amount"], [[3, 4.5]])
    err = refused(server, base, ingest(server, narrower, base), 409, "conflict")
    assert "cust_name" in error_text(err) and "removed" in error_text(err)
    assert snapshot(server, base) == before


def test_bogus_mode_400(server, base):
    before, listing = snapshot(server, base), server.datasets()
    wider = csv_text(["id", "cust_name", "amount", "region"], [[3, "cy", 4.5, "eu"]])
    for bad in ("bogus", "ADD_COLUMNS", "add-columns"):
        err = refused(server, base, ingest(server, wider, base, bad), 400, "invalid_argument",
                      settle=True)
        assert "on_schema_change" in error_text(err) and "add_columns" in error_text(err)
    # Also on a dataset that does not exist yet: nothing is created.
    err = refused(server, base, ingest(server, BASE + "9,z,1\n", "drift_never", "bogus"), 400,
                  "invalid_argument", settle=True)
    assert snapshot(server, base) == before and server.datasets() == listing


def test_json_append_adds_nested_columns(server, uniq):
    first = [{"id": 1, "user": {"name": "ada"}}, {"id": 2, "user": {"name": "bob"}}]
    second = [{"id": 3, "user": {"name": "cy", "tier": "gold"}}]
    post = lambda recs, **p: server.post(  # noqa: E731
        "/ingest/file", params={"name": uniq, **p},
        files={"file": ("x.json", json.dumps(recs).encode(), "application/json")})
    assert post(first).status_code == 201
    err = assert_error(post(second), 409, "conflict")
    assert "user_tier" in error_text(err)
    r = post(second, on_schema_change="add_columns")
    assert r.status_code == 201, r.text
    assert r.json()["schema_diff"]["added"] == [{"name": "user_tier", "type": "VARCHAR"}]
    assert server.sql_ok(f"SELECT id, user_name, user_tier FROM {uniq} ORDER BY id")["rows"] \
        == [[1, "ada", None], [2, "bob", None], [3, "cy", "gold"]]


# ---- CLI (embedded) ----------------------------------------------------------------------

def run_cli(*args, timeout=120):
    r = subprocess.run([lakehouse_bin(), *args], capture_output=True, text=True,
                       timeout=timeout * SLOW, env=_clean_env({"OMP_THREAD_LIMIT": "1"}),
                       stdin=subprocess.DEVNULL)
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in r.stderr, r.stderr
    return r


def no_progress(r):
    """Off a terminal the progress bar is not drawn: no carriage returns, no escapes, no
    rate; stderr holds log lines at most."""
    for out in (r.stdout, r.stderr):
        assert "\r" not in out and "\033" not in out, repr(out)
    assert "/s" not in r.stderr, r.stderr


def test_cli_progress_bar_on_a_terminal(tmp_path):
    """With stderr on a terminal the bar is drawn (carriage returns, rows) and cleared."""
    src = tmp_path / "tty_rows.csv"
    src.write_text(csv_text(["id", "v"], [[i, f"value {i}"] for i in range(20000)]))
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([lakehouse_bin(), "ingest", str(src), "--data",
                                 str(tmp_path / "lake")], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=slave,
                                env=_clean_env({"OMP_THREAD_LIMIT": "1"}))
        os.close(slave)
        slave = None
        seen = b""
        while True:
            ready, _, _ = select.select([master], [], [], 60 * SLOW)
            assert ready, "no output from the CLI"
            try:
                chunk = os.read(master, 4096)
            except OSError:   # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=60 * SLOW)
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    assert proc.returncode == 0, seen
    assert b"20000 rows" in out, out
    text = seen.decode("utf-8", "replace")
    assert "\r" in text and "/s" in text and "rows" in text, repr(text)

def test_cli_ingest_json_and_pdf(make_server, tmp_path):
    data = str(tmp_path / "lake")
    src = tmp_path / "cli_events.json"
    src.write_text(json.dumps([{"event": "login", "who": {"id": 7}},
                               {"event": "logout", "who": {"id": 7}, "extra": True}]))
    r = run_cli("ingest", str(src), "--data", data)
    assert r.returncode == 0, r.stderr
    assert "2 rows" in r.stdout and "cli_events" in r.stdout, r.stdout
    no_progress(r)

    r = run_cli("ingest", os.path.join(FIXTURES, "pdf", "scanned.pdf"), "--data", data,
                "--name", "cli_scan", "--json", timeout=180)
    assert r.returncode == 0, r.stderr
    no_progress(r)
    doc = json.loads(r.stdout)
    assert doc["dataset"] == "cli_scan" and doc["rows"] == 2 and doc["format"] == "pdf"
    assert doc["files"][0]["ocr_pages"] == 2

    s = make_server(data_dir=data)
    assert s.sql_ok("SELECT event, who_id, extra FROM cli_events ORDER BY event")["rows"] == [
        ["login", 7, None], ["logout", 7, True]]
    assert s.scalar("SELECT count(*) FROM cli_scan WHERE extraction = 'ocr'") == 2
    assert {h["source"] for d in ("cli_events", "cli_scan")
            for h in s.dataset(d)["history"]} == {"cli"}


def test_cli_on_schema_change(tmp_path):
    data = str(tmp_path / "lake")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(base_csv("cli_drift"))
    b.write_text(csv_text(["id", "cust_name", "amount", "region"], [[3, "cy", 4.5, "eu"]]))
    assert run_cli("ingest", str(a), "--name", "cli_drift", "--data", data).returncode == 0
    r = run_cli("ingest", str(b), "--name", "cli_drift", "--data", data)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "region" in r.stderr and "add_columns" in r.stderr, r.stderr
    refusal = r.stderr
    r = run_cli("ingest", str(b), "--name", "cli_drift", "--data", data,
                "--on-schema-change", "add_columns")
    assert r.returncode == 0, r.stderr
    assert "1 row" in r.stdout and "version 1" in r.stdout, r.stdout
    r = run_cli("sql", "SELECT count(*), count(region) FROM cli_drift", "--format", "csv",
                "--data", data)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "3,1", r.stdout
    r = run_cli("ingest", str(b), "--name", "cli_drift", "--data", data,
                "--on-schema-change", "bogus")
    assert r.returncode != 0 and "add_columns" in r.stderr, r.stderr
    # The hint must be one a CLI user can follow: the flag, not the HTTP query argument.
    assert "--on-schema-change" in refusal, refusal


def test_cli_duplicate_reported(tmp_path):
    data = str(tmp_path / "lake")
    a = tmp_path / "dup.csv"
    a.write_text(BASE)
    assert run_cli("ingest", str(a), "--data", data).returncode == 0
    r = run_cli("ingest", str(a), "--data", data, "--name", "elsewhere", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["duplicate"] is True and doc["dataset"] == "dup"
