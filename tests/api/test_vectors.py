"""Vector indexes end to end: build jobs (progress, cancel, resume after kill -9, incremental
updates), search (HNSW and exact, by text and by vector), vector_search in SQL, remote
providers through tests/fakes/fake_models.py, corrupt hnsw.bin, bad input, and the CLI.

Run: LAKEHOUSE_BIN=build/lakehouse /usr/bin/python3 -m pytest -q tests/api/test_vectors.py
"""

import json
import os
import random
import subprocess
import sys
import time

import pytest

from conftest import SLOW, assert_error, csv_text, error_text

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "..", "fakes", "fake_models.py")
SKILLS = ["python", "java", "sql", "kubernetes", "react", "golang", "spark", "terraform",
          "excel", "nursing", "accounting", "welding", "forklift", "sales", "payroll"]
# Job retries pause 1 s by default; a few ms keeps the provider tests fast.
FAST_RETRY = {"LH_JOBS_RETRY_BASE_MS": "20"}


def resumes_csv(n, seed=7, start=0):
    rnd = random.Random(seed)
    rows = []
    for i in range(start, start + n):
        s = rnd.sample(SKILLS, 3)
        rows.append([f"c{i:04d}", f"Person {i}",
                     f"Skilled in {s[0]} {s[1]} and {s[2]} with {rnd.randint(1, 20)} years"])
    return rows


def ingest_resumes(srv, name, n, extra=None, seed=7, start=0):
    rows = resumes_csv(n, seed, start) + (extra or [])
    srv.ingest_ok(csv_text(["candidate_id", "name", "resume"], rows), filename=f"{name}.csv",
                  name=name)
    return rows


def wait_job(srv, job_id, states=("succeeded", "failed", "cancelled"), timeout=40.0):
    deadline = time.monotonic() + timeout * SLOW
    while True:
        r = srv.get(f"/vectors/jobs/{job_id}")
        assert r.status_code == 200, r.text
        rec = r.json()
        if rec["state"] in states:
            return rec
        assert time.monotonic() < deadline, f"job stuck: {rec}"
        time.sleep(0.05)


def build(srv, body, expect="succeeded"):
    r = srv.post("/vectors/index", json=body)
    assert r.status_code == 202, r.text
    doc = r.json()
    assert doc["job_id"] and doc["index"]
    rec = wait_job(srv, doc["job_id"])
    assert rec["state"] == expect, rec
    return rec


def search(srv, **body):
    r = srv.post("/vectors/search", json=body)
    assert r.status_code == 200, r.text
    return r.json()


class Fake:
    """tests/fakes/fake_models.py as a child process."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, FAKE, "--port", "0", "--exit-on-stdin-eof",
                                      *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def control(self, **kw):
        import requests
        r = requests.post(self.url + "/_control", json=kw, timeout=5)
        assert r.status_code == 200, r.text

    def stats(self):
        import requests
        return requests.get(self.url + "/_stats", timeout=5).json()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


@pytest.fixture
def fake():
    f = Fake("--dims", "16")
    yield f
    f.close()


@pytest.fixture(scope="module")
def vsrv(module_factory):
    """exact_below = 50: the 300-row index uses HNSW, a small one exact search."""
    srv = module_factory(config="[vector]\nexact_below = 50\n")
    rows = ingest_resumes(srv, "candidates", 300, extra=[
        ["c9999", "Zed Unique", "Senior rust engineer building distributed databases and "
         "compilers for embedded systems"]])
    rec = build(srv, {"dataset": "candidates", "text_column": "resume",
                      "id_column": "candidate_id", "index": "resumes", "batch_rows": 64})
    return srv, rows, rec


def test_build_progress_and_registry(vsrv):
    srv, rows, rec = vsrv
    assert rec["progress"]["done"] == len(rows) == rec["progress"]["total"]
    assert rec["result"]["mode"] == "full" and rec["result"]["chunks"] == len(rows)
    assert rec["result"]["resumed_from"] is None
    doc = srv.get("/vectors/indexes/resumes").json()
    for key in ("provider", "model", "model_version", "dims", "metric", "rows", "chunks",
                "backend", "hnsw", "chunking", "built_at", "source_version", "dataset"):
        assert key in doc, key
    assert doc["provider"] == "lexical" and doc["dims"] == 384 and doc["backend"] == "hnsw"
    assert doc["rows"] == len(rows) and doc["status"] == "ready"
    lst = srv.get("/vectors/indexes", params={"dataset": "candidates"}).json()["indexes"]
    assert [i["name"] for i in lst] == ["resumes"]
    assert srv.get("/vectors/indexes", params={"dataset": "nope"}).json()["indexes"] == []
    assert srv.get("/vectors/indexes", params={"model": "lexical-v1"}).json()["indexes"]
    jobs = srv.get("/vectors/jobs").json()["jobs"]
    assert any(j["id"] == rec["id"] for j in jobs)


def test_search_hnsw_and_exact_agree(vsrv):
    srv = vsrv[0]
    res = search(srv, index="resumes", query="senior rust engineer compilers", k=5)
    assert res["hits"][0]["doc_id"] == "c9999" and res["backend"] == "hnsw"
    assert "rust" in res["hits"][0]["snippet"].lower()
    for q in ["welding forklift", "python sql spark", "nursing payroll"]:
        a = search(srv, index="resumes", query=q, k=5, ef_search=200)
        b = search(srv, index="resumes", query=q, k=5, exact=True)
        assert b["exact"] is True
        assert [h["doc_id"] for h in a["hits"]][:3] == [h["doc_id"] for h in b["hits"]][:3]
        scores = [h["score"] for h in b["hits"]]
        assert scores == sorted(scores, reverse=True)


def test_vector_search_sql_join(vsrv):
    srv = vsrv[0]
    doc = srv.sql_ok("SELECT c.name, v.score, v.rank FROM vector_search('resumes', "
                     "'senior rust engineer', 10) v JOIN candidates c ON c.candidate_id = "
                     "v.doc_id ORDER BY v.rank")
    assert doc["rows"][0][0] == "Zed Unique" and doc["rows"][0][2] == 1
    assert len(doc["rows"]) == 10
    for sql, words in [("SELECT * FROM vector_search('nope', 'x', 3)", "not found"),
                       ("SELECT * FROM vector_search('resumes', 'x', 0)", "k must"),
                       ("SELECT * FROM vector_search('resumes', 'x', 10001)", "k must"),
                       ("SELECT * FROM vector_search('resumes', '  ', 3)", "empty")]:
        err = assert_error(srv.sql(sql), 400, "sql_error")
        assert words in error_text(err), err


def test_bad_input(vsrv):
    srv = vsrv[0]
    cases = [
        ("/vectors/search", {"index": "nope", "query": "x"}, 404, "not_found"),
        ("/vectors/search", {"index": "resumes", "query": "x", "k": 0}, 400, None),
        ("/vectors/search", {"index": "resumes", "query": "x", "k": 10001}, 400, None),
        ("/vectors/search", {"index": "resumes", "query": "   "}, 400, None),
        ("/vectors/search", {"index": "resumes", "vector": [0.1] * 5}, 400, None),
        ("/vectors/search", {"index": "resumes", "vector": [0.0] * 384}, 400, None),
        ("/vectors/search", {"index": "resumes", "query": "x", "vector": [1.0]}, 400, None),
        ("/vectors/search", {"index": "resumes", "query": "x", "ef_search": -1}, 400, None),
        ("/vectors/index", {"dataset": "nope", "text_column": "a", "id_column": "b"}, 404,
         "not_found"),
        ("/vectors/index", {"dataset": "candidates", "text_column": "nope",
                            "id_column": "candidate_id"}, 400, None),
        ("/vectors/index", {"dataset": "candidates", "text_column": "resume"}, 400, None),
        ("/vectors/index", {"dataset": "candidates", "vector_column": "resume",
                            "id_column": "candidate_id"}, 400, None),
        ("/vectors/index", {"dataset": "candidates", "text_column": "resume",
                            "id_column": "candidate_id", "chunk_size": 10, "overlap": 10},
         400, None),
        ("/vectors/index", {"dataset": "candidates", "text_column": "resume",
                            "id_column": "candidate_id", "provider": "ollama"}, 400, None),
        ("/vectors/index", {"dataset": "candidates", "text_column": "resume",
                            "id_column": "candidate_id", "index": "Bad Name"}, 400, None),
    ]
    for path, body, status, code in cases:
        assert_error(srv.post(path, json=body), status, code or "invalid_argument")
    # NaN is not JSON: the body parser refuses it.
    r = srv.post("/vectors/search", data='{"index":"resumes","vector":[NaN]}',
                 headers={"Content-Type": "application/json"})
    assert_error(r, 400)
    assert_error(srv.get("/vectors/indexes/nope"), 404, "not_found")
    assert_error(srv.delete("/vectors/indexes/nope"), 404, "not_found")
    assert_error(srv.get("/vectors/jobs/nope"), 404, "not_found")
    big = srv.post("/vectors/search", data=b"{" + b" " * (5 << 20) + b"}",
                   headers={"Content-Type": "application/json"})
    assert_error(big, 413)


def test_vector_column_and_drop(vsrv):
    srv = vsrv[0]
    rnd = random.Random(3)
    lines = []
    for i in range(40):
        v = [rnd.uniform(-1, 1) for _ in range(8)]
        lines.append(json.dumps({"id": i, "emb": v}))
    lines.append(json.dumps({"id": 40, "emb": [0.0] * 8}))  # zero: skipped, counted
    srv.ingest_ok("\n".join(lines) + "\n", filename="vecs.ndjson", name="vecs")
    rec = build(srv, {"dataset": "vecs", "vector_column": "emb", "id_column": "id",
                      "index": "vecs_idx", "metric": "l2"})
    assert rec["result"]["chunks"] == 40 and rec["result"]["skipped"] == 1
    meta = srv.get("/vectors/indexes/vecs_idx").json()
    assert meta["dims"] == 8 and meta["backend"] == "exact" and meta["metric"] == "l2"
    target = json.loads(lines[17])["emb"]
    res = search(srv, index="vecs_idx", vector=target, k=3)
    assert res["hits"][0]["doc_id"] == "17" and res["hits"][0]["score"] < 1e-6
    assert_error(srv.post("/vectors/search", json={"index": "vecs_idx", "query": "text"}), 400)
    assert_error(srv.post("/vectors/search", json={"index": "vecs_idx", "vector": [1.0] * 9}),
                 400)
    # Lists of differing lengths cannot be indexed.
    srv.ingest_ok('{"id": 1, "emb": [1.0, 2.0]}\n{"id": 2, "emb": [1.0]}\n',
                  filename="ragged.ndjson", name="ragged")
    err = assert_error(srv.post("/vectors/index", json={"dataset": "ragged",
                                                        "vector_column": "emb",
                                                        "id_column": "id"}), 400)
    assert "length" in error_text(err)
    r = srv.delete("/vectors/indexes/vecs_idx")
    assert r.status_code == 200, r.text
    assert_error(srv.get("/vectors/indexes/vecs_idx"), 404)
    assert not os.path.exists(srv.path("buckets", "primary", "_vectors", "vecs_idx",
                                       "meta.json"))


def test_incremental_update(vsrv):
    srv = vsrv[0]
    ingest_resumes(srv, "inc", 60, seed=11)
    build(srv, {"dataset": "inc", "text_column": "resume", "id_column": "candidate_id",
                "index": "inc_idx"})
    rec = build(srv, {"dataset": "inc", "text_column": "resume", "id_column": "candidate_id",
                      "index": "inc_idx"})
    assert rec["result"]["mode"] == "up_to_date"
    ingest_resumes(srv, "inc", 15, seed=12, start=500,
                   extra=[["c7777", "New Person", "Quantum chemistry researcher with lasers"]])
    rec = build(srv, {"dataset": "inc", "text_column": "resume", "id_column": "candidate_id",
                      "index": "inc_idx"})
    res = rec["result"]
    assert res["mode"] == "incremental" and res["new_rows"] == 16 and res["rows"] == 76
    assert res["chunks"] == 76
    hit = search(srv, index="inc_idx", query="quantum chemistry lasers", k=1)["hits"][0]
    assert hit["doc_id"] == "c7777"
    # A different configuration rebuilds it whole.
    rec = build(srv, {"dataset": "inc", "text_column": "resume", "id_column": "candidate_id",
                      "index": "inc_idx", "dims": 128})
    assert rec["result"]["mode"] == "full" and rec["result"]["chunks"] == 76


def test_remote_providers(make_server, fake):
    srv = make_server(env=FAST_RETRY)
    rows = ingest_resumes(srv, "people", 30)
    for provider in ("ollama", "openai"):
        rec = build(srv, {"dataset": "people", "text_column": "resume",
                          "id_column": "candidate_id", "index": f"p_{provider}",
                          "provider": provider, "model": "m1", "url": fake.url,
                          "batch_rows": 8})
        assert rec["result"]["chunks"] == 30
        meta = srv.get(f"/vectors/indexes/p_{provider}").json()
        assert meta["dims"] == 16 and meta["provider"] == provider and meta["model"] == "m1"
        # The fake's vectors hash the text: the exact text of a row finds that row.
        hit = search(srv, index=f"p_{provider}", query=rows[5][2], k=1)["hits"][0]
        assert hit["doc_id"] == rows[5][0] and hit["score"] > 0.999
    # A 503 (twice) is retried by the embedder and the build still succeeds.
    fake.control(fail_next=2, status=503)
    rec = build(srv, {"dataset": "people", "text_column": "resume",
                      "id_column": "candidate_id", "index": "p_retry", "provider": "ollama",
                      "model": "m1", "url": fake.url})
    assert fake.stats()["failures_injected"] >= 2
    # A missing model fails the job with a clear error.
    fake.control(missing_models=["ghost"])
    rec = build(srv, {"dataset": "people", "text_column": "resume",
                      "id_column": "candidate_id", "index": "p_ghost", "provider": "ollama",
                      "model": "ghost", "url": fake.url}, expect="failed")
    assert rec["error"]["code"] == "upstream_error" and "ghost" in rec["error"]["message"]
    assert_error(srv.get("/vectors/indexes/p_ghost"), 404)


def test_cancel(make_server, fake):
    srv = make_server(env=FAST_RETRY)
    ingest_resumes(srv, "slow", 200)
    fake.control(delay_ms=100)
    r = srv.post("/vectors/index", json={"dataset": "slow", "text_column": "resume",
                                          "id_column": "candidate_id", "provider": "ollama",
                                          "model": "m1", "url": fake.url, "batch_rows": 10})
    job = r.json()["job_id"]
    wait_job(srv, job, states=("running",))
    assert_error(srv.post("/vectors/index", json={"dataset": "slow", "text_column": "resume",
                                                   "id_column": "candidate_id",
                                                   "provider": "ollama", "model": "m1",
                                                   "url": fake.url}), 409, "conflict")
    r = srv.delete(f"/vectors/jobs/{job}")
    assert r.status_code == 200, r.text
    rec = wait_job(srv, job)
    assert rec["state"] == "cancelled" and rec["progress"]["done"] < 200
    assert_error(srv.delete(f"/vectors/jobs/{job}"), 409, "conflict")
    assert_error(srv.get("/vectors/indexes/slow_resume"), 404)


def test_resume_after_kill(make_server, fake):
    srv = make_server(env=FAST_RETRY)
    ingest_resumes(srv, "big", 200)
    fake.control(delay_ms=60)
    r = srv.post("/vectors/index", json={"dataset": "big", "text_column": "resume",
                                          "id_column": "candidate_id", "index": "big_idx",
                                          "provider": "ollama", "model": "m1",
                                          "url": fake.url, "batch_rows": 10})
    job = r.json()["job_id"]
    deadline = time.monotonic() + 30 * SLOW
    while srv.get(f"/vectors/jobs/{job}").json()["progress"].get("done", 0) < 40:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    srv._kill()  # kill -9: no chance to save anything more
    fake.control(delay_ms=0)
    srv.start()
    rec = wait_job(srv, job)
    assert rec["state"] == "succeeded", rec
    assert rec["result"]["resumed_from"] >= 40, rec["result"]
    assert rec["result"]["chunks"] == 200 and rec["result"]["rows"] == 200
    assert search(srv, index="big_idx", query="welding", k=3)["hits"]
    # The embedded rows before the kill were not embedded again.
    assert fake.stats()["requests"] < 200 + 10


def test_corrupt_hnsw(make_server):
    srv = make_server()
    ingest_resumes(srv, "cc", 80, extra=[["c8888", "Odd One", "Zymurgy brewing expert"]])
    build(srv, {"dataset": "cc", "text_column": "resume", "id_column": "candidate_id",
                "index": "cc_idx"})
    before = search(srv, index="cc_idx", query="zymurgy brewing", k=5)["hits"]
    path = srv.path("buckets", "primary", "_vectors", "cc_idx", "hnsw.bin")
    srv.stop()
    with open(path, "r+b") as f:  # flip bytes in the middle
        f.seek(os.path.getsize(path) // 2)
        f.write(b"\xff\x00\xff\x00")
    srv.start()
    after = search(srv, index="cc_idx", query="zymurgy brewing", k=5)["hits"]
    assert [h["doc_id"] for h in after] == [h["doc_id"] for h in before]
    assert "rebuilding" in srv.log_text()
    # Truncated graph and an unreadable embeddings file: refused clearly, never a crash.
    srv.stop()
    with open(path, "r+b") as f:
        f.truncate(100)
    emb = srv.path("buckets", "primary", "_vectors", "cc_idx", "embeddings-00000.parquet")
    with open(emb, "wb") as f:
        f.write(b"not parquet")
    srv.start()
    err = assert_error(srv.post("/vectors/search", json={"index": "cc_idx", "query": "x"}),
                       500, "corrupt")
    assert srv.get("/vectors/indexes/cc_idx").json()["status"] == "corrupt"
    assert srv.alive() if hasattr(srv, "alive") else True
    assert err["code"] == "corrupt"


def test_cli_embedded(tmp_path, binary):
    data = str(tmp_path / "data")
    csv = tmp_path / "people.csv"
    csv.write_text(csv_text(["candidate_id", "name", "resume"], resumes_csv(50) + [
        ["c4242", "Cli Person", "Glassblowing artisan and kiln operator"]]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}

    def run(*args):
        return subprocess.run([binary, *args, "--data", data], capture_output=True, text=True,
                              env=env, timeout=60 * SLOW)

    assert run("ingest", str(csv), "--name", "people").returncode == 0
    p = run("index", "people", "--text-column", "resume", "--id-column", "candidate_id",
            "--index", "people_idx")
    assert p.returncode == 0, p.stderr
    assert "51 chunks" in p.stdout
    p = run("search", "people_idx", "glassblowing kiln", "-k", "2", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["hits"][0]["doc_id"] == "c4242"
    p = run("search", "people_idx", "glassblowing kiln")
    assert p.returncode == 0 and "c4242" in p.stdout
    p = run("search", "nope", "x")
    assert p.returncode == 1 and "not found" in p.stderr
    p = run("index", "people", "--text-column", "nope", "--id-column", "candidate_id")
    assert p.returncode == 1 and "nope" in p.stderr


def test_print_config_hides_api_key(binary, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    env["LAKEHOUSE_EMBED_API_KEY"] = "sk-very-secret"
    p = subprocess.run([binary, "serve", "--print-config", "--data", str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    cfg = json.loads(p.stdout)
    assert cfg["embed"]["api_key"] == "***" and "sk-very-secret" not in p.stdout
    assert cfg["vector"]["exact_below"] == 5000 and cfg["embed"]["provider"] == "lexical"


def test_tombstoned_rows_leave_search_at_once(vsrv):
    """A soft delete (keyed on the index's id column) hides the row from vector search and
    vector_search in SQL as soon as the tombstone call returns, without a rebuild."""
    srv = vsrv[0]
    extra = [["t_gone", "Gone Person", "Expert in quantum chromodynamics lattice gauge theory"],
             ["t_kept", "Kept Person", "Quantum chromodynamics and lattice field theory"]]
    ingest_resumes(srv, "tomb_resumes", 60, extra=extra, seed=11)
    build(srv, {"dataset": "tomb_resumes", "text_column": "resume",
                "id_column": "candidate_id", "index": "tomb_idx"})
    q = "quantum chromodynamics lattice gauge"
    before = search(srv, index="tomb_idx", query=q, k=5)
    assert before["hits"][0]["doc_id"] == "t_gone"
    r = srv.post("/catalog/datasets/by-name/tomb_resumes/tombstone",
                 json={"row_key_column": "candidate_id", "row_key_values": ["t_gone"],
                       "actor": "t", "reason": "erasure request"})
    assert r.status_code == 201, r.text
    for exact in (False, True):
        after = search(srv, index="tomb_idx", query=q, k=5, exact=exact)
        ids = [h["doc_id"] for h in after["hits"]]
        assert "t_gone" not in ids and ids[0] == "t_kept" and len(ids) == 5, ids
    rows = srv.sql_ok(f"SELECT doc_id FROM vector_search('tomb_idx', '{q}', 5)")["rows"]
    assert ["t_gone"] not in rows and rows[0] == ["t_kept"] and len(rows) == 5


def test_embed_api_key_from_the_secrets_file(make_server, tmp_path):
    """[embed] api_key in the secrets file (mode 0600) reaches the model server as a bearer
    token and appears nowhere else; a key-protected server refuses builds without it."""
    key = "sk-from-secrets-file-9f3a"
    fake = Fake("--api-key", key)
    try:
        data = tmp_path / "data"
        data.mkdir()
        secrets = data / "secrets.toml"
        secrets.write_text(f'[embed]\napi_key = "{key}"\n')
        os.chmod(secrets, 0o600)
        srv = make_server(data_dir=str(data), env=FAST_RETRY)
        ingest_resumes(srv, "keyed", 12)
        body = {"dataset": "keyed", "text_column": "resume", "id_column": "candidate_id",
                "index": "keyed_idx", "provider": "openai", "model": "m1", "url": fake.url}
        rec = build(srv, body)
        assert rec["result"]["chunks"] == 12
        assert f"Bearer {key}" in fake.stats()["auth"]
        srv.stop()
        assert key not in srv.log_text()
        # Without the file the key-protected server answers 401: the build fails clearly.
        os.remove(secrets)
        srv.start()
        body["index"] = "unkeyed_idx"
        rec = build(srv, body, expect="failed")
        assert rec["error"]["code"] == "upstream_error"
        assert key not in json.dumps(rec)
    finally:
        fake.close()
