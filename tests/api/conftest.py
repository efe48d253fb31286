"""Shared harness for the API tests: starts a real `lakehouse serve` on a free port with a
temp data dir, and offers small helpers (JSON error checks, CSV ingest, Parquet objects).

Run with: LAKEHOUSE_BIN=build/lakehouse /usr/bin/python3 -m pytest -q tests/api
LAKEHOUSE_SANITIZED=1 (the ASan build) makes every wait longer.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = "/work/main/build/lakehouse"
SANITIZED = os.environ.get("LAKEHOUSE_SANITIZED") == "1"
# Everything is slower under ASan; waits stretch by this factor.
SLOW = 4.0 if SANITIZED else 1.0
START_TIMEOUT_S = 30.0 * (3 if SANITIZED else 1)
STOP_TIMEOUT_S = 30.0
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer")


def lakehouse_bin():
    """The binary under test: $LAKEHOUSE_BIN, else the default build path."""
    return os.environ.get("LAKEHOUSE_BIN") or DEFAULT_BIN


def free_port():
    """A port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(extra):
    """The test's environment without LAKEHOUSE_* / LH_FAULT leaking in from the caller
    (they would change what the server does), plus the test's own variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LAKEHOUSE_") and k != "LH_FAULT"}
    if "ASAN_OPTIONS" not in env and SANITIZED:
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    env.update(extra or {})
    return env


class Server:
    """One `lakehouse serve` process.

    data_dir: reuse a directory (restart tests); None makes a temp dir removed on cleanup.
    env: extra environment (LAKEHOUSE_*, LH_FAULT). args: extra command-line arguments.
    config: TOML text written to a file passed with --config.
    """

    def __init__(self, data_dir=None, env=None, args=None, config=None):
        self.binary = lakehouse_bin()
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="lh-api-")
        self.env = dict(env or {})
        self.args = list(args or [])
        self.config = config
        self.proc = None
        self.port = None
        self.log_path = None
        self._log_file = None
        self.exit_code = None
        self._cfg_dir = None
        self._logs = []

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self):
        if not os.path.exists(self.binary):
            pytest.fail(f"lakehouse binary not found at {self.binary} (set LAKEHOUSE_BIN)")
        for attempt in range(3):
            self.port = free_port()
            self._spawn()
            if self._wait_ready():
                return self
            # A port taken between free_port() and bind() is the one retryable failure.
            if "in use" not in self.log_text().lower() or attempt == 2:
                log = self.log_text()
                self._kill()
                pytest.fail(f"server did not become healthy on port {self.port}; "
                            f"exit={self.proc.returncode}; log tail:\n{log[-4000:]}")
            self._kill()
        return self

    def _spawn(self):
        fd, self.log_path = tempfile.mkstemp(prefix="lh-api-log-", suffix=".txt")
        os.close(fd)
        self._logs.append(self.log_path)
        self._log_file = open(self.log_path, "wb")
        cmd = [self.binary, "serve", "--data", self.data_dir,
               "--listen", f"127.0.0.1:{self.port}"]
        if self.config is not None:
            self._cfg_dir = self._cfg_dir or tempfile.mkdtemp(prefix="lh-api-cfg-")
            cfg = os.path.join(self._cfg_dir, "lakehouse.toml")
            with open(cfg, "w") as f:
                f.write(self.config)
            cmd += ["--config", cfg]
        cmd += self.args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, env=_clean_env(self.env),
                                     cwd=self.data_dir)
        self.exit_code = None

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                r = requests.get(self.url("/health"), timeout=2)
                if r.status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        return False

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def stop(self, expect_code=0):
        """SIGTERM, wait, assert the exit code and a log free of sanitizer reports."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(STOP_TIMEOUT_S * (2 if SANITIZED else 1))
        except subprocess.TimeoutExpired:
            self._kill()
            pytest.fail(f"server did not exit within {STOP_TIMEOUT_S}s of SIGTERM; log tail:\n"
                        f"{self.log_text()[-4000:]}")
        self.exit_code = code
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        self.check_sanitizers()
        if expect_code is not None:
            assert code == expect_code, (f"server exited with {code}, expected {expect_code}; "
                                         f"log tail:\n{self.log_text()[-4000:]}")
        self.proc = None

    def wait_exit(self, timeout=30.0):
        """Waits for the process to exit on its own (crash tests); returns its code."""
        code = self.proc.wait(timeout * SLOW)
        self.exit_code = code
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        self.check_sanitizers()
        self.proc = None
        return code

    def check_sanitizers(self):
        log = self.log_text()
        for marker in SANITIZER_MARKERS:
            if marker in log:
                i = log.index(marker)
                pytest.fail(f"sanitizer report in server log ({marker}):\n"
                            f"{log[max(0, i - 500):i + 6000]}")

    def restart(self, env=None):
        """Stops (exit 0 expected) and starts again on the same data dir and port choice."""
        self.stop()
        if env is not None:
            self.env = dict(env)
        return self.start()

    def cleanup(self):
        self._kill()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if self._cfg_dir:
            shutil.rmtree(self._cfg_dir, ignore_errors=True)
        for p in self._logs:
            try:
                os.remove(p)
            except OSError:
                pass

    # ---- access ----------------------------------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def path(self, *parts):
        """A path inside the data dir."""
        return os.path.join(self.data_dir, *parts)

    def get(self, path, **kw):
        kw.setdefault("timeout", 60 * SLOW)
        return requests.get(self.url(path), **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", 60 * SLOW)
        return requests.post(self.url(path), **kw)

    def put(self, path, **kw):
        kw.setdefault("timeout", 60 * SLOW)
        return requests.put(self.url(path), **kw)

    def delete(self, path, **kw):
        kw.setdefault("timeout", 60 * SLOW)
        return requests.delete(self.url(path), **kw)

    def sql(self, sql, params=None, limit=None, timeout_ms=None, accept=None, **kw):
        body = {"sql": sql}
        if params is not None:
            body["params"] = params
        if limit is not None:
            body["limit"] = limit
        if timeout_ms is not None:
            body["timeout_ms"] = timeout_ms
        headers = kw.pop("headers", {})
        if accept:
            headers["Accept"] = accept
        return self.post("/query/sql", json=body, headers=headers, **kw)

    def sql_ok(self, sql, params=None, **kw):
        """Runs SQL, asserts 200, returns the parsed JSON document."""
        r = self.sql(sql, params=params, **kw)
        assert r.status_code == 200, f"{sql!r}: {r.status_code} {r.text[:2000]}"
        return r.json()

    def scalar(self, sql, params=None):
        doc = self.sql_ok(sql, params)
        assert doc["row_count"] == 1 and len(doc["rows"]) == 1, doc
        return doc["rows"][0][0]

    def ingest(self, content, filename="data.csv", name=None, query_name=None,
               content_type="text/csv"):
        """POST /ingest/file with a multipart 'file' part (and a 'name' part if given)."""
        if isinstance(content, str):
            content = content.encode()
        files = {"file": (filename, content, content_type)}
        data = {"name": name} if name is not None else None
        params = {"name": query_name} if query_name is not None else None
        return self.post("/ingest/file", files=files, data=data, params=params)

    def ingest_ok(self, content, filename="data.csv", name=None):
        r = self.ingest(content, filename=filename, name=name)
        assert r.status_code == 201, f"ingest {filename}: {r.status_code} {r.text[:2000]}"
        return r.json()

    def datasets(self):
        """The dataset list, without freshness.age_s: it ticks every second, and tests compare
        this list before and after an operation (age is checked through dataset(name))."""
        r = self.get("/catalog/datasets")
        assert r.status_code == 200, r.text
        out = r.json()["datasets"]
        for d in out:
            d.get("freshness", {}).pop("age_s", None)
        return out

    def dataset(self, name):
        r = self.get(f"/catalog/datasets/by-name/{name}")
        assert r.status_code == 200, f"{name}: {r.status_code} {r.text}"
        return r.json()

    def parquet_object_of(self, name):
        """Keys of the Parquet data files of dataset `name` (as bucket object keys)."""
        r = self.get("/storage/objects", params={"prefix": f"datasets/{name}/"})
        assert r.status_code == 200, r.text
        keys = [o["key"] for o in r.json()["objects"] if o["key"].endswith(".parquet")]
        assert keys, f"no parquet objects under datasets/{name}/: {r.text}"
        return keys

    def work_leftovers(self):
        """Files left in DATA/tmp/work (and tmp/put): must be empty after any request."""
        out = []
        for sub in ("tmp/work", "tmp/put"):
            d = self.path(*sub.split("/"))
            if os.path.isdir(d):
                for root, _dirs, files in os.walk(d):
                    out += [os.path.join(root, f) for f in files]
        return out


def dataset_name_of(ingest_doc):
    """The dataset name in an ingest answer (a string, or an object with "name")."""
    d = ingest_doc["dataset"]
    return d["name"] if isinstance(d, dict) else d


def assert_error(resp, status, code=None):
    """Asserts an error answer: the status, Content-Type application/json and a body
    {"error":{"code","message"}} (with the given code). Returns the error object."""
    assert resp.status_code == status, (
        f"expected {status} {code}, got {resp.status_code}: {resp.text[:2000]}")
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/json", f"Content-Type {ctype!r}"
    try:
        doc = resp.json()
    except ValueError:
        pytest.fail(f"error body is not JSON: {resp.text[:500]!r}")
    assert isinstance(doc, dict) and isinstance(doc.get("error"), dict), doc
    err = doc["error"]
    assert isinstance(err.get("code"), str) and err["code"], doc
    assert isinstance(err.get("message"), str) and err["message"], doc
    if code is not None:
        assert err["code"] == code, f"expected code {code}, got {doc}"
    return err


def error_text(err):
    """Message and detail of an error object, for 'mentions X' checks."""
    return (err.get("message", "") + " " + str(err.get("detail", ""))).lower()


@pytest.fixture(scope="session")
def binary():
    path = lakehouse_bin()
    if not os.path.exists(path):
        pytest.fail(f"lakehouse binary not found at {path} (set LAKEHOUSE_BIN)")
    return path


class _Factory:
    """Starts servers on demand and stops every one at the end (asserting exit 0)."""

    def __init__(self):
        self.servers = []

    def __call__(self, data_dir=None, env=None, args=None, config=None, start=True):
        s = Server(data_dir=data_dir, env=env, args=args, config=config)
        self.servers.append(s)
        return s.start() if start else s

    def close(self):
        failures = []
        for s in self.servers:
            try:
                if s.proc is not None:
                    s.stop()
            except BaseException as e:  # pytest.fail raises an Outcome, not Exception
                failures.append(f"{e}")
        # Only after every server stopped: several may share one data dir.
        for s in self.servers:
            s.cleanup()
        if failures:
            pytest.fail("server shutdown problems:\n" + "\n".join(failures))


@pytest.fixture
def make_server(binary):
    """Factory: make_server(env={...}, config="...", data_dir=...) -> started Server."""
    f = _Factory()
    yield f
    f.close()


@pytest.fixture(scope="module")
def module_factory(binary):
    f = _Factory()
    yield f
    f.close()


@pytest.fixture(scope="module")
def server(module_factory):
    """One server per test module with default settings."""
    return module_factory()


def csv_text(header, rows):
    lines = [",".join(header)] + [",".join(str(v) for v in r) for r in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture
def uniq(request):
    """A dataset-safe name unique to the test."""
    base = request.node.name.lower()
    safe = "".join(c if c.isalnum() else "_" for c in base)[:40]
    return f"t_{safe}_{int(time.time() * 1000) % 100000}"


def pretty(x):
    return json.dumps(x, indent=1)[:3000]
