"""API tests of the AI layer (/ai/..., POST /vectors/rag, `lakehouse ask` / `rag`) against
tests/fakes/fake_models.py, whose scripted replies make NL->SQL and RAG deterministic: a
reply is picked by a substring of the prompt, and every prompt the fake saw is in /_stats.
"""
import json
import os
import stat
import subprocess
import sys
import time

import pytest
import requests

from conftest import SLOW, assert_error, csv_text

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "..", "fakes", "fake_models.py")
FAST = {"LH_MODEL_BACKOFF_MS": "5"}

ORDERS = [[i, f"user{i}@example.com", ["shipped", "pending", "returned"][i % 3], 10 * i]
          for i in range(1, 31)]  # 10 shipped
NOTES = [
    ["n1", "Refunds are paid back within 14 days of the return being received."],
    ["n2", "Shipping to Europe takes five business days with the standard carrier."],
    ["n3", "Gift cards cannot be refunded or exchanged for cash."],
    ["n4", "Our support desk answers email within one business day."],
    ["n5", "Returned items must be unused and in their original packaging."],
]


class Fake:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, FAKE, "--port", "0", "--exit-on-stdin-eof"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def control(self, **kw):
        r = requests.post(self.url + "/_control", json=kw, timeout=5)
        assert r.status_code == 200, r.text

    def reset(self):
        assert requests.post(self.url + "/_reset", timeout=5).status_code == 200

    def stats(self):
        return requests.get(self.url + "/_stats", timeout=5).json()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def fake():
    f = Fake()
    yield f
    f.close()


def gen_config(url, rerank="rr", provider="ollama", timeout_ms=20000):
    return (f'[generate]\nprovider = "{provider}"\nmodel = "gen"\nurl = "{url}"\n'
            f'timeout_ms = {timeout_ms}\n'
            f'[rerank]\nmodel = "{rerank}"\n'
            f'[embed]\nprovider = "ollama"\nmodel = "emb"\nurl = "{url}"\n')


def seed(srv):
    srv.ingest_ok(csv_text(["order_id", "customer_email", "status", "amount"], ORDERS),
                  filename="orders.csv", name="orders")
    srv.ingest_ok(csv_text(["note_id", "body"], NOTES), filename="notes.csv", name="notes")
    r = srv.post("/vectors/index", json={"dataset": "notes", "text_column": "body",
                                         "id_column": "note_id", "index": "notes_idx",
                                         "provider": "lexical"})
    assert r.status_code == 202, r.text
    job = r.json()["job_id"]
    deadline = time.monotonic() + 30 * SLOW
    while True:
        rec = srv.get(f"/vectors/jobs/{job}").json()
        if rec["state"] in ("succeeded", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, rec
        time.sleep(0.05)
    assert rec["state"] == "succeeded", rec


@pytest.fixture(scope="module")
def gsrv(module_factory, fake):
    """A server with a generation model, a rerank model and an embedder on the fake."""
    srv = module_factory(config=gen_config(fake.url), env=FAST)
    seed(srv)
    return srv


@pytest.fixture(scope="module")
def plain(module_factory):
    """A server with no generation model at all (the embedded default)."""
    srv = module_factory()
    seed(srv)
    return srv


def script(fake, *pairs):
    fake.reset()
    fake.control(script=[{"match": m, "reply": r} for m, r in pairs])


def sse_events(resp):
    events = []
    for line in resp.iter_lines(decode_unicode=True):
        if line and line.startswith("data: "):
            events.append(json.loads(line[6:]))
    return events


# ---- ask ------------------------------------------------------------------------------------

def test_ask_happy_path(gsrv, fake):
    script(fake, ("how many shipped orders",
                  "Here you go:\n```sql\nSELECT count(*) AS n FROM orders WHERE status = "
                  "'shipped';\n```\nCounts the shipped orders."))
    r = gsrv.post("/ai/ask", json={"question": "how many shipped orders are there?"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["rows"] == [[10]] and doc["attempts"] == 1
    assert "FROM orders" in doc["sql"] and "Counts the shipped orders." in doc["explanation"]
    prompt = fake.stats()["prompts"][-1]
    assert "TABLE orders" in prompt and "status VARCHAR" in prompt
    assert "'shipped'" in prompt or "'pending'" in prompt  # sample values of a plain column
    assert "@example.com" not in prompt  # PII column: values never leave the lake
    assert "customer_email" in prompt and "values withheld" in prompt


def test_ask_corrects_its_sql_once(gsrv, fake):
    script(fake, ("That query failed", "```sql\nSELECT count(*) AS n FROM orders "
                  "WHERE status = 'returned'\n```"),
           ("returned orders", "```sql\nSELECT count(*) FROM returned_orders\n```"))
    r = gsrv.post("/ai/ask", json={"question": "count the returned orders"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["attempts"] == 2 and doc["rows"] == [[10]]
    assert "returned_orders" in doc["first_error"]
    second = fake.stats()["prompts"][-1]
    assert "That query failed" in second and "returned_orders" in second


def test_ask_fails_after_two_bad_queries(gsrv, fake):
    script(fake, ("bad", "```sql\nSELECT nope FROM orders\n```"))
    r = gsrv.post("/ai/ask", json={"question": "something bad"})
    assert_error(r, 400, "sql_error")
    assert len(fake.stats()["prompts"]) == 2


def test_ask_uses_ai_safe_views(gsrv, fake):
    r = gsrv.post("/catalog/views", json={"name": "orders_safe", "dataset": "orders",
                                          "columns": ["order_id", "status", "amount"],
                                          "redactions": {"amount": "null"}})
    assert r.status_code in (200, 201), r.text
    script(fake, ("safe orders", "```sql\nSELECT count(*) FROM orders_safe\n```"))
    r = gsrv.post("/ai/ask", json={"question": "how many safe orders",
                                    "datasets": ["orders_safe"]})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == [[30]]
    prompt = fake.stats()["prompts"][-1]
    assert "TABLE orders_safe (view of orders)" in prompt and "TABLE orders (" not in prompt
    assert "customer_email" not in prompt  # not in the view's whitelist
    assert "amount BIGINT (values withheld)" in prompt  # redacted by the view
    assert "'shipped'" in prompt or "'pending'" in prompt or "'returned'" in prompt


@pytest.mark.parametrize("sql", [
    "DROP TABLE orders",
    "COPY orders TO '/tmp/lh_ai_escape.csv'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "ATTACH '/tmp/lh_ai_escape.db' AS x",
    "SELECT 1; DROP TABLE orders",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM glob('/etc/*')",
    "SET enable_external_access = true",
    "INSTALL httpfs",
])
def test_ask_model_sql_cannot_escape_the_sandbox(gsrv, fake, sql):
    script(fake, ("evil", f"```sql\n{sql}\n```"))
    r = gsrv.post("/ai/ask", json={"question": "do something evil"})
    assert r.status_code in (400, 403), r.text
    assert r.json()["error"]["code"] in ("forbidden", "sql_error")
    assert not os.path.exists("/tmp/lh_ai_escape.csv")
    assert not os.path.exists("/tmp/lh_ai_escape.db")
    assert gsrv.sql_ok("SELECT count(*) FROM orders")["rows"] == [[30]]


def test_ask_errors(gsrv, plain):
    assert_error(gsrv.post("/ai/ask", json={}), 400, "invalid_argument")
    assert_error(gsrv.post("/ai/ask", json={"question": ""}), 400, "invalid_argument")
    assert_error(gsrv.post("/ai/ask", json={"question": "x", "limit": 0}), 400,
                 "invalid_argument")
    assert_error(gsrv.post("/ai/ask", json={"question": "x" * 5000}), 413, "too_large")
    assert_error(gsrv.post("/ai/ask", json={"question": "x", "datasets": ["nope"]}), 404,
                 "not_found")
    r = plain.post("/ai/ask", json={"question": "how many orders?"})
    assert_error(r, 503, "unavailable")
    assert "[generate]" in r.json()["error"]["message"]


# ---- rag ------------------------------------------------------------------------------------

def passages_of(prompt):
    """{n: doc_id} of the numbered passages in a RAG prompt."""
    out = {}
    for line in prompt.splitlines():
        if line.startswith("[") and "] (from " in line:
            n = int(line[1:line.index("]")])
            out[n] = line.split("(from ", 1)[1].split(")", 1)[0]
    return out


def test_rag_generative_citations(gsrv, fake):
    script(fake, ("Question: how long do refunds take",
                  "Refunds take 14 days [2]. Gift cards are excluded [1, 9]. See [7]."))
    r = gsrv.post("/vectors/rag", json={"index": "notes_idx", "k": 3,
                                         "question": "how long do refunds take"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["mode"] == "generative" and doc["passages"] == 3
    # [9] and [7] named passages that were never shown: dropped; [2] [1] renumbered.
    assert doc["answer"] == "Refunds take 14 days [1]. Gift cards are excluded [2]. See."
    shown = passages_of(fake.stats()["prompts"][-1])
    assert len(shown) == 3
    cites = doc["citations"]
    assert [c["n"] for c in cites] == [1, 2]
    assert cites[0]["doc_id"] == shown[2] and cites[1]["doc_id"] == shown[1]
    for c in cites:
        assert c["snippet"] and isinstance(c["chunk_id"], int) and isinstance(c["score"], float)
    assert set(doc["timings"]) == TIMINGS


TIMINGS = {"embed_ms", "search_ms", "rerank_ms", "prompt_ms", "generate_ms", "total_ms"}


def check_timings(t):
    """Non-negative parts that add up to no more than the total, and to most of it (the rest
    is reading hits and checking citations: microseconds next to a delayed model)."""
    assert set(t) == TIMINGS, t
    assert all(isinstance(v, (int, float)) and v >= 0 for v in t.values()), t
    parts = sum(v for k, v in t.items() if k != "total_ms")
    assert parts <= t["total_ms"] + 0.01, t
    return parts


def test_rag_timings(gsrv, fake):
    script(fake, ("Question: how long do refunds take", "Within 14 days [1]."))
    fake.control(delay_ms=150)
    try:
        t0 = time.monotonic()
        r = gsrv.post("/vectors/rag", json={"index": "notes_idx", "k": 2,
                                             "question": "how long do refunds take"})
        wall_ms = (time.monotonic() - t0) * 1000
    finally:
        fake.control(delay_ms=0)
    assert r.status_code == 200, r.text
    t = r.json()["timings"]
    parts = check_timings(t)
    # The model's delay is inside generate, and generate inside what the client waited for.
    assert 150 <= t["generate_ms"] <= t["total_ms"] <= wall_ms, t
    assert t["total_ms"] - parts < 50, t
    assert t["rerank_ms"] < 50 and t["prompt_ms"] < 50, t


def test_rag_timings_extractive_and_search_embed_ms(plain):
    r = plain.post("/vectors/rag", json={"index": "notes_idx", "k": 2, "question": "refunds"})
    assert r.status_code == 200, r.text
    t = r.json()["timings"]
    check_timings(t)
    assert t["generate_ms"] == 0 and t["prompt_ms"] == 0, t
    # /vectors/search says how much of took_ms was embedding the text (none for a vector).
    s = plain.post("/vectors/search", json={"index": "notes_idx", "query": "refunds", "k": 1})
    assert s.status_code == 200, s.text
    assert 0 <= s.json()["embed_ms"] <= s.json()["took_ms"]
    vec = plain.post("/ai/embed", json={"input": "refunds"}).json()["embeddings"][0]
    s = plain.post("/vectors/search", json={"index": "notes_idx", "vector": vec, "k": 1})
    assert s.status_code == 200, s.text
    assert s.json()["embed_ms"] == 0


def test_rag_rerank_by_model(gsrv, fake):
    script(fake, ("Query: refund", "1: 1\n2: 9\n3: 2\n4: 3"),
           ("Question: refund", "See [1]."))
    r = gsrv.post("/vectors/rag", json={"index": "notes_idx", "k": 1, "rerank": True,
                                         "question": "refund"})
    assert r.status_code == 200, r.text
    doc = r.json()
    scoring, answering = fake.stats()["prompts"]
    # The scoring prompt lists k * 4 = 4 search hits; the model likes the second best.
    texts = {int(l[1:l.index("]")]): l[l.index("]") + 2:]
             for l in scoring.splitlines() if l.startswith("[")}
    assert sorted(texts) == [1, 2, 3, 4]
    assert doc["passages"] == 1 and answering.count("(from ") == 1
    assert answering.split("\n")[1].endswith(texts[2])
    assert doc["citations"][0]["score"] == pytest.approx(0.9)
    assert doc["citations"][0]["snippet"] == texts[2]


def test_rag_extractive_without_a_model(plain):
    r = plain.post("/vectors/rag", json={"index": "notes_idx", "k": 2,
                                          "question": "how long do refunds take"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["mode"] == "extractive" and doc["model"] is None
    assert [c["n"] for c in doc["citations"]] == [1, 2]
    assert "[1]" in doc["answer"] and doc["citations"][0]["snippet"] in doc["answer"]


def test_rag_errors(gsrv):
    assert_error(gsrv.post("/vectors/rag", json={"index": "nope", "question": "x"}), 404,
                 "not_found")
    assert_error(gsrv.post("/vectors/rag", json={"index": "notes_idx", "question": "x",
                                                  "k": 0}), 400, "invalid_argument")
    assert_error(gsrv.post("/vectors/rag", json={"index": "notes_idx"}), 400,
                 "invalid_argument")
    assert_error(gsrv.post("/vectors/rag", json={"index": "notes_idx", "question": "x",
                                                  "rerank": "yes"}), 400, "invalid_argument")
    assert_error(gsrv.post("/vectors/rag", json={"index": "notes_idx", "question": "x" * 5000}),
                 413, "too_large")


# ---- rerank, embed --------------------------------------------------------------------------

def test_rerank_by_model_and_by_embedding(gsrv, plain, fake):
    script(fake, ("Query: cheap flights", "Scores:\n1: 2\n2: 9/10\nPassage 3 - 5"))
    docs = ["hotel rooms", "cheap flights to Rome", "train tickets"]
    r = gsrv.post("/ai/rerank", json={"query": "cheap flights", "documents": docs})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["method"] == "model" and doc["model"] == "rr"
    assert [x["index"] for x in doc["results"]] == [1, 2, 0]
    assert [x["score"] for x in doc["results"]] == pytest.approx([0.9, 0.5, 0.2])
    r = plain.post("/ai/rerank", json={"query": "refund policy for returns", "top_k": 2,
                                        "documents": ["weather in Oslo", "the refund policy "
                                                      "for returns", "football scores"]})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["method"] == "embedding" and len(doc["results"]) == 2
    assert doc["results"][0]["index"] == 1 and 0 <= doc["results"][1]["score"] <= 1
    r = gsrv.post("/ai/rerank", json={"query": "q", "documents": ["a", "b"],
                                       "method": "embedding"})
    assert r.status_code == 200 and r.json()["method"] == "embedding"
    assert_error(plain.post("/ai/rerank", json={"query": "q", "documents": ["a"],
                                                 "method": "model"}), 503, "unavailable")
    assert_error(plain.post("/ai/rerank", json={"query": "q", "documents": "a"}), 400,
                 "invalid_argument")
    assert_error(plain.post("/ai/rerank", json={"query": "q", "documents": ["a"] * 201}), 413,
                 "too_large")


def test_embed_proxy(gsrv, plain, fake):
    r = gsrv.post("/ai/embed", json={"input": ["alpha", "beta"]})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["provider"] == "ollama" and doc["model"] == "emb" and doc["dims"] == 16
    assert len(doc["embeddings"]) == 2 and len(doc["embeddings"][0]) == 16
    r = plain.post("/ai/embed", json={"input": "alpha"})
    assert r.status_code == 200 and r.json()["dims"] == 384
    assert_error(plain.post("/ai/embed", json={"input": []}), 400, "invalid_argument")
    assert_error(plain.post("/ai/embed", json={"input": [1]}), 400, "invalid_argument")
    assert_error(plain.post("/ai/embed", json={"input": ["a"] * 1025}), 413, "too_large")


# ---- summarize ------------------------------------------------------------------------------

def test_summarize_with_and_without_a_model(gsrv, plain, fake):
    script(fake, ("Profile of dataset 'orders'", "Thirty orders with their status."))
    r = gsrv.post("/ai/summarize/orders")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["rows"] == 30 and doc["summary"] == "Thirty orders with their status."
    cols = {c["name"]: c for c in doc["columns"]}
    assert cols["customer_email"]["sensitive"] is True
    assert cols["customer_email"]["min"] is None and cols["customer_email"]["top_values"] is None
    assert cols["status"]["distinct"] >= 3 and cols["status"]["nulls"] == 0
    assert {"value": "pending", "count": 10} in cols["status"]["top_values"]
    assert cols["amount"]["min"] in (10, "10") and cols["amount"]["max"] in (300, "300")
    assert "@example.com" not in fake.stats()["prompts"][-1]
    r = plain.post("/ai/summarize/orders")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["summary"] is None and "no generation model" in doc["note"]
    assert doc["rows"] == 30
    assert_error(plain.post("/ai/summarize/nope"), 404, "not_found")


# ---- generate -------------------------------------------------------------------------------

def test_generate_plain_and_streamed(gsrv, fake):
    story = "Once upon a time a small lake held all the data of a company, and it was happy."
    script(fake, ("tell me a story", story))
    r = gsrv.post("/ai/generate", json={"prompt": "tell me a story", "system": "be brief"})
    assert r.status_code == 200, r.text
    assert r.json()["response"] == story and r.json()["model"] == "gen"
    r = gsrv.post("/ai/generate", json={"prompt": "tell me a story", "stream": True},
                  stream=True)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(r)
    tokens = [e["token"] for e in events if "token" in e]
    assert len(tokens) > 5 and "".join(tokens) == story
    assert events[-1]["done"] is True and events[-1]["response"] == story


def test_generate_stream_stops_when_the_client_leaves(gsrv, fake):
    script(fake, ("long story", " ".join(f"word{i}" for i in range(200))))
    fake.control(token_delay_ms=50)  # 10 s for the whole answer
    try:
        r = gsrv.post("/ai/generate", json={"prompt": "a long story", "stream": True},
                      stream=True)
        assert r.status_code == 200
        lines = r.iter_lines()
        next(lines)
        r.close()
        deadline = time.monotonic() + 5 * SLOW
        while fake.stats()["in_flight"] > 0:
            assert time.monotonic() < deadline, "generation went on after the client left"
            time.sleep(0.05)
    finally:
        fake.control(token_delay_ms=0)
    assert gsrv.get("/health").status_code == 200


def test_generate_errors(gsrv, plain, fake):
    r = plain.post("/ai/generate", json={"prompt": "hi"})
    assert_error(r, 503, "unavailable")
    assert "LAKEHOUSE_GENERATE_PROVIDER" in r.json()["error"]["message"]
    assert_error(plain.post("/ai/generate", json={"prompt": "hi", "stream": True}), 503,
                 "unavailable")
    assert_error(gsrv.post("/ai/generate", json={"prompt": 5}), 400, "invalid_argument")
    assert_error(gsrv.post("/ai/generate", json={}), 400, "invalid_argument")
    assert_error(gsrv.post("/ai/generate", json={"prompt": "x" * (300 << 10)}), 413,
                 "too_large")
    assert_error(gsrv.post("/ai/generate", json={"prompt": "x" * (2 << 20)}), 413, "too_large")
    assert_error(gsrv.post("/ai/generate", json={"prompt": "x", "stream": "yes"}), 400,
                 "invalid_argument")
    fake.reset()
    fake.control(missing_models=["ghost"])
    r = gsrv.post("/ai/generate", json={"prompt": "hi", "model": "ghost"})
    assert_error(r, 502, "upstream_error")
    assert "ghost" in r.json()["error"]["message"]
    r = gsrv.post("/ai/generate", json={"prompt": "hi", "model": "ghost", "stream": True})
    assert_error(r, 502, "upstream_error")
    fake.reset()


def test_model_server_down(make_server, tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho '1024, 8192'\necho '0, 16384'\n")
    smi.chmod(stat.S_IRWXU)
    srv = make_server(config=gen_config("http://127.0.0.1:9", rerank=""),
                      env={**FAST, "PATH": f"{tmp_path}:{os.environ.get('PATH', '')}"})
    r = srv.post("/ai/generate", json={"prompt": "hi"})
    assert_error(r, 502, "upstream_error")
    r = srv.post("/ai/summarize/nope")
    assert_error(r, 404, "not_found")
    assert_error(srv.get("/ai/admin/vram"), 502, "upstream_error")
    assert_error(srv.post("/ai/admin/preload", json={}), 502, "upstream_error")
    # nvidia-smi (a stand-in here) is read when the model server answers: see below.
    srv.stop()
    fake = Fake()
    try:
        srv = make_server(config=gen_config(fake.url, rerank=""),
                          env={**FAST, "PATH": f"{tmp_path}:{os.environ.get('PATH', '')}"})
        doc = srv.get("/ai/admin/vram").json()
        assert doc["gpu"] == {"gpus": [
            {"index": 0, "memory_used_mib": 1024, "memory_total_mib": 8192},
            {"index": 1, "memory_used_mib": 0, "memory_total_mib": 16384}]}
    finally:
        fake.close()


def test_openai_provider_key_and_timeout(make_server):
    fake = Fake()
    try:
        fake.control(api_key="sk-test-123", script=[{"match": "hello", "reply": "hi there you"}])
        srv = make_server(config=gen_config(fake.url, rerank="", provider="openai",
                                            timeout_ms=1000),
                          env={**FAST, "LAKEHOUSE_GENERATE_API_KEY": "sk-test-123"})
        r = srv.post("/ai/generate", json={"prompt": "hello", "stream": True}, stream=True)
        assert r.status_code == 200, r.text
        events = sse_events(r)
        assert "".join(e.get("token", "") for e in events) == "hi there you"
        assert events[-1]["response"] == "hi there you"
        assert "Bearer sk-test-123" in fake.stats()["auth"]
        fake.control(delay_ms=3000)  # longer than generate.timeout_ms
        assert_error(srv.post("/ai/generate", json={"prompt": "hello"}), 503, "timeout")
        fake.control(delay_ms=0, api_key="other")
        r = srv.post("/ai/generate", json={"prompt": "hello"})
        assert_error(r, 502, "upstream_error")
        srv.stop()
        assert "sk-test-123" not in srv.log_text()
    finally:
        fake.close()


# ---- admin ----------------------------------------------------------------------------------

def test_admin_preload_unload_vram(gsrv, plain, fake):
    fake.reset()
    r = gsrv.post("/ai/admin/preload", json={})
    assert r.status_code == 200, r.text
    assert r.json() == {"model": "gen", "loaded": True}
    doc = gsrv.get("/ai/admin/vram").json()
    assert "gen" in [m["name"] for m in doc["models"]["models"]]
    assert doc["gpu"] is None and doc["gpu_note"] == "nvidia-smi not available"
    r = gsrv.post("/ai/admin/unload", json={"model": "gen"})
    assert r.status_code == 200 and r.json()["loaded"] is False
    doc = gsrv.get("/ai/admin/vram").json()
    assert "gen" not in [m["name"] for m in doc["models"]["models"]]
    assert_error(gsrv.post("/ai/admin/unload", json={"model": 3}), 400, "invalid_argument")
    assert_error(plain.post("/ai/admin/preload", json={}), 503, "unavailable")
    doc = plain.get("/ai/admin/vram").json()
    assert doc["models"] is None and doc["gpu"] is None


# ---- CLI ------------------------------------------------------------------------------------

def run_cli(binary, *args, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_cli_ask_and_rag(gsrv, plain, fake, binary):
    script(fake, ("how many orders", "```sql\nSELECT count(*) AS n FROM orders\n```\nAll."),
           ("Question: refunds", "Refunds take 14 days [1] [8]."))
    p = run_cli(binary, "ask", "how many orders are there", "--url", gsrv.base)
    assert p.returncode == 0, p.stderr
    assert "SQL: SELECT count(*) AS n FROM orders" in p.stdout and "30" in p.stdout
    assert "```sql" in p.stderr  # the model's reply, streamed
    p = run_cli(binary, "rag", "notes_idx", "refunds", "-k", "2", "--url", gsrv.base)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("Refunds take 14 days [1] [8].")  # streamed as written
    assert "With its citations checked: Refunds take 14 days [1]." in p.stdout
    assert "Sources:\n[1] n" in p.stdout
    p = run_cli(binary, "rag", "notes_idx", "refunds", "--url", plain.base, "--format", "json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["mode"] == "extractive"
    p = run_cli(binary, "ask", "how many orders", "--url", plain.base)
    assert p.returncode == 1 and "no generation model" in p.stderr
    p = run_cli(binary, "rag", "notes_idx")
    assert p.returncode == 2


def test_cli_embedded(make_server, binary, tmp_path):
    fake = Fake()
    try:
        srv = make_server()
        seed(srv)
        srv.stop()
        p = run_cli(binary, "rag", "notes_idx", "how long do refunds take", "-k", "2",
                    "--data", srv.data_dir)
        assert p.returncode == 0, p.stderr
        assert "(extractive answer" in p.stdout and "Sources:\n[1] n" in p.stdout
        cfg = tmp_path / "lakehouse.toml"
        cfg.write_text(gen_config(fake.url, rerank=""))
        fake.control(script=[{"match": "Question: refunds", "reply": "Paid in 14 days [1]."},
                             {"match": "orders", "reply": "```sql\nSELECT max(amount) "
                                                          "FROM orders\n```"}])
        p = run_cli(binary, "rag", "notes_idx", "refunds", "--data", srv.data_dir,
                    "--config", str(cfg))
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith("Paid in 14 days [1].\n") and "[1] n1" in p.stdout
        p = run_cli(binary, "ask", "largest amount of the orders", "--data", srv.data_dir,
                    "--config", str(cfg), "--format", "json")
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["rows"] == [[300]]
    finally:
        fake.close()


def test_embed_without_a_configured_model(make_server, fake):
    fake.reset()
    srv = make_server(config=f'[embed]\nprovider = "ollama"\nurl = "{fake.url}"\n')
    r = srv.post("/ai/embed", json={"input": "x"})
    assert_error(r, 503, "unavailable")
    assert "embed" in r.json()["error"]["message"]
    r = srv.post("/ai/embed", json={"input": "x", "model": "emb"})
    assert r.status_code == 200 and r.json()["dims"] == 16
    assert_error(srv.post("/ai/rerank", json={"query": "q", "documents": ["a"]}), 503,
                 "unavailable")
