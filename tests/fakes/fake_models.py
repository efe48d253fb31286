#!/usr/bin/env python3
"""A protocol-level fake model server for tests: Ollama (/api/embed, /api/generate,
/api/chat, /api/ps, /api/tags) and OpenAI-compatible (/v1/embeddings,
/v1/chat/completions, /v1/models) over HTTP/1.1 with keep-alive, with deterministic answers
and fault injection. Python 3 stdlib only; run it with /usr/bin/python3.

    fake_models.py --port 0 [--dims 16] [--api-key K] [--missing-model m] [--delay-ms N]
                   [--exit-on-stdin-eof] [--verbose]

The first line on stdout is the port it listens on (127.0.0.1). With --exit-on-stdin-eof it
exits when its stdin closes, so a test that dies never leaves it behind.

Embeddings: vector j of text t is ((fnv1a32(utf8(t)) + j * 2654435761) mod 2^32) / 2^32 * 2 - 1,
rounded to 6 decimals, so a test in any language can check rows and their order. The OpenAI
endpoint answers "data" in reverse order (each item carries its "index"), as servers may.

Control (JSON bodies; fields optional, unknown fields rejected):
  POST /_control {"fail_next": N, "status": 503, "retry_after": s, "fail_mode":
                  "status"|"malformed"|"wrong_count"|"bad_value"|"drop", "echo_auth": bool,
                  "dims": n,
                  "model_dims": {"m": n}, "delay_ms": n, "token_delay_ms": n,
                  "missing_models": [...], "api_key": "k"|null, "reply": "text"|null}
      fail_next: the next N model requests fail: with HTTP `status` (and Retry-After when
      retry_after is set), or with a body that is not JSON ("malformed"), one embedding too
      few ("wrong_count"), a string among the numbers of the last one ("bad_value"), or a
      connection closed without an answer ("drop").
      echo_auth: error bodies quote the Authorization header received (to test scrubbing).
      Generation only: "cut" sends half the answer (streamed: half the pieces; whole: half
      the bytes) and closes the connection without ending the body; "stream_error" streams
      half the pieces, then an error line / event ({"error": ...}); "no_done" streams every
      piece and ends the body cleanly but without the end marker ("done": true / [DONE]).
  Ollama load/unload: /api/generate without "prompt" loads the model ("done_reason": "load"),
  and with "keep_alive": 0 unloads it ("unload"); /api/ps then lists what is loaded, with
  "expires_at" following the last keep_alive (an integer is seconds, else "30s", "5m", "2h";
  negative = forever).
  POST /_control {"script": [{"match": "substring", "reply": "text"}, ...]}: a generation
      whose prompt (for chats: the last user message) contains an entry's "match" answers
      that entry's "reply" (the first matching entry wins; then "reply", then the default).
      Every prompt seen is listed in /_stats "prompts".
  POST /_reset   forget faults, settings from /_control and statistics.
  GET  /_stats   {"requests", "by_path", "batch_sizes", "max_in_flight", "in_flight",
                  "auth" (Authorization values seen, null when absent), "models",
                  "failures_injected", "last_body" (the last model request's JSON body)}.
"""
import argparse
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 << 20
OLLAMA_STREAM_ERROR = b'{"error":"injected failure mid-stream"}\n'
OPENAI_STREAM_ERROR = b'data: {"error":{"message":"injected failure mid-stream"}}\n\n'
CONTROL_FIELDS = {"fail_next", "status", "retry_after", "fail_mode", "echo_auth", "dims",
                  "model_dims", "delay_ms", "token_delay_ms", "missing_models", "api_key",
                  "reply", "script"}


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def fake_vector(text: str, dims: int) -> list:
    h = fnv1a32(text.encode("utf-8", "surrogatepass"))
    return [round(((h + j * 2654435761) % (1 << 32)) / float(1 << 32) * 2.0 - 1.0, 6)
            for j in range(dims)]


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        a = self.args
        self.dims = a.dims
        self.model_dims = {}
        self.missing = set(a.missing_model or [])
        self.delay_ms = a.delay_ms
        self.token_delay_ms = 0
        self.api_key = a.api_key
        self.reply = None
        self.fail_next = 0
        self.fail_status = 503
        self.fail_mode = "status"
        self.retry_after = None
        self.echo_auth = False
        self.requests = 0
        self.by_path = {}
        self.batch_sizes = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.auth = []
        self.models = []
        self.loaded = {}
        self.expires = {}
        self.last_body = None
        self.failures = 0
        self.script = []
        self.prompts = []

    def control(self, body):
        bad = set(body) - CONTROL_FIELDS
        if bad:
            raise ValueError("unknown control fields: " + ", ".join(sorted(bad)))
        if "fail_next" in body:
            self.fail_next = int(body["fail_next"])
        if "status" in body:
            self.fail_status = int(body["status"])
        if "fail_mode" in body:
            if body["fail_mode"] not in ("status", "malformed", "wrong_count", "drop",
                                         "bad_value", "cut", "stream_error", "no_done"):
                raise ValueError("bad fail_mode")
            self.fail_mode = body["fail_mode"]
        if "retry_after" in body:
            self.retry_after = body["retry_after"]
        if "echo_auth" in body:
            self.echo_auth = bool(body["echo_auth"])
        if "dims" in body:
            self.dims = int(body["dims"])
        if "model_dims" in body:
            self.model_dims.update({k: int(v) for k, v in body["model_dims"].items()})
        if "delay_ms" in body:
            self.delay_ms = int(body["delay_ms"])
        if "token_delay_ms" in body:
            self.token_delay_ms = int(body["token_delay_ms"])
        if "missing_models" in body:
            self.missing = set(body["missing_models"])
        if "api_key" in body:
            self.api_key = body["api_key"]
        if "reply" in body:
            self.reply = body["reply"]
        if "script" in body:
            script = body["script"]
            if not isinstance(script, list) or not all(
                    isinstance(e, dict) and set(e) == {"match", "reply"} and
                    isinstance(e["match"], str) and isinstance(e["reply"], str)
                    for e in script):
                raise ValueError("script must be a list of {match, reply} strings")
            self.script = script

    def stats(self):
        return {"requests": self.requests, "by_path": self.by_path,
                "batch_sizes": self.batch_sizes, "max_in_flight": self.max_in_flight,
                "in_flight": self.in_flight, "auth": self.auth, "models": self.models,
                "failures_injected": self.failures, "last_body": self.last_body,
                "prompts": self.prompts}


def now_iso():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def keep_alive_seconds(v):
    """Ollama's keep_alive: a number of seconds or a Go duration ("30s", "5m", "1h30m")."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ValueError("keep_alive must be a number or a duration string")
    if not isinstance(v, str):
        return float(v)
    if v == "0":
        return 0.0
    m = re.fullmatch(r"(-?)((?:\d+(?:\.\d+)?(?:ns|us|ms|s|m|h))+)", v)
    if not m:
        raise ValueError('time: invalid duration "%s"' % v)
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    total = sum(float(n) * unit[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)",
                                                         m.group(2)))
    return -total if m.group(1) else total


def tokens(text):
    return re.findall(r"\S+\s*|\s+", text) or [""]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave as two writes: with Nagle on, the body waits for the client's
    # delayed ACK of the headers, adding ~40 ms to every answer (bench/rag measured it).
    disable_nagle_algorithm = True
    server_version = "fake-models/1"

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("fake_models: " + (fmt % args) + "\n")

    # ---- plumbing ----
    def send_json(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_bytes(status, data, "application/json", extra)

    def send_bytes(self, status, data, ctype, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_chunked(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def error(self, status, message, openai):
        if openai:
            code = {401: "invalid_api_key", 404: "model_not_found"}.get(status)
            self.send_json(status, {"error": {"message": message, "type": "invalid_request_error",
                                              "param": None, "code": code}})
        else:
            self.send_json(status, {"error": message})

    # ---- dispatch ----
    def do_GET(self):
        st = self.server.state
        if self.path == "/_stats":
            with st.lock:
                return self.send_json(200, st.stats())
        if self.path in ("/api/ps", "/api/tags", "/v1/models"):
            return self.model_request(None)
        if self.path == "/" or self.path == "/api/version":
            return self.send_json(200, {"version": "0.0.0-fake"})
        self.error(404, "no route GET %s" % self.path, self.path.startswith("/v1/"))

    def do_POST(self):
        st = self.server.state
        try:
            raw = self.read_body()
        except ValueError as e:
            self.close_connection = True
            return self.error(413, str(e), False)
        if self.path in ("/_control", "/_reset"):
            try:
                body = json.loads(raw or b"{}")
                with st.lock:
                    if self.path == "/_reset":
                        st.reset()
                    else:
                        st.control(body)
            except (ValueError, TypeError, AttributeError) as e:
                return self.send_json(400, {"error": str(e)})
            return self.send_json(200, {"ok": True})
        self.model_request(raw)

    def model_request(self, raw):
        st = self.server.state
        path = self.path
        routes = {"/api/embed": self.ollama_embed, "/api/generate": self.ollama_generate,
                  "/api/chat": self.ollama_chat, "/api/ps": self.ollama_ps,
                  "/api/tags": self.ollama_ps, "/v1/embeddings": self.openai_embed,
                  "/v1/chat/completions": self.openai_chat, "/v1/models": self.openai_models}
        fn = routes.get(path)
        openai = path.startswith("/v1/")
        if fn is None:
            return self.error(404, "no route POST %s" % path, openai)
        auth = self.headers.get("Authorization")
        with st.lock:
            st.requests += 1
            st.by_path[path] = st.by_path.get(path, 0) + 1
            st.auth.append(auth)
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
            delay = st.delay_ms
            fault = None
            if st.fail_next > 0:
                st.fail_next -= 1
                st.failures += 1
                fault = (st.fail_mode, st.fail_status, st.retry_after, st.echo_auth)
            api_key = st.api_key
        try:
            if delay > 0:
                time.sleep(delay / 1000.0)
            if openai and api_key is not None and auth != "Bearer " + api_key:
                return self.error(401, "Incorrect API key provided: %s." % (auth or "(none)"),
                                  openai)
            body = None
            if raw is not None:
                try:
                    body = json.loads(raw)
                    if not isinstance(body, dict):
                        raise ValueError("body is not an object")
                except ValueError as e:
                    return self.error(400, "invalid JSON body: %s" % e, openai)
            if fault and fault[0] == "status":
                mode, status, retry_after, echo = fault
                extra = {"Retry-After": str(retry_after)} if retry_after is not None else None
                msg = "injected failure %d" % status
                if echo:
                    msg += " (auth was: %s)" % (auth or "none")
                data = json.dumps({"error": {"message": msg}} if openai else {"error": msg})
                return self.send_bytes(status, data.encode(), "application/json", extra)
            if fault and fault[0] == "drop":
                self.close_connection = True
                return
            if fault and fault[0] == "malformed":
                return self.send_bytes(200, b'{"embeddings": [[0.1, 0.2', "application/json")
            model = body.get("model") if body else None
            if body is not None:
                if not isinstance(model, str) or not model:
                    return self.error(400, "model is required", openai)
                with st.lock:
                    st.models.append(model)
                    st.last_body = body
                    missing = model in st.missing
                if missing:
                    if openai:
                        return self.error(404, "The model `%s` does not exist or you do not "
                                          "have access to it." % model, True)
                    return self.error(404, 'model "%s" not found, try pulling it first' % model,
                                      False)
                with st.lock:
                    st.loaded[model] = time.time()
            fn(body, fault)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up mid-answer (it may stop early)
        finally:
            with st.lock:
                st.in_flight -= 1

    # ---- embeddings ----
    def inputs(self, body, openai):
        inp = body.get("input")
        if isinstance(inp, str):
            return [inp]
        if isinstance(inp, list) and all(isinstance(x, str) for x in inp):
            return inp
        self.error(400, "input must be a string or a list of strings", openai)
        return None

    def embed(self, body, fault, openai):
        st = self.server.state
        texts = self.inputs(body, openai)
        if texts is None:
            return None
        with st.lock:
            st.batch_sizes.append(len(texts))
            dims = st.model_dims.get(body["model"], st.dims)
        vecs = [fake_vector(t, dims) for t in texts]
        if fault and fault[0] == "wrong_count" and vecs:
            vecs = vecs[:-1]
        if fault and fault[0] == "bad_value" and vecs and vecs[-1]:
            vecs[-1][-1] = "not a number"
        return vecs

    def ollama_embed(self, body, fault):
        vecs = self.embed(body, fault, False)
        if vecs is not None:
            self.send_json(200, {"model": body["model"], "embeddings": vecs,
                                 "total_duration": 1000, "load_duration": 10,
                                 "prompt_eval_count": len(vecs)})

    def openai_embed(self, body, fault):
        vecs = self.embed(body, fault, True)
        if vecs is None:
            return
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vecs)]
        data.reverse()
        self.send_json(200, {"object": "list", "data": data, "model": body["model"],
                             "usage": {"prompt_tokens": len(vecs), "total_tokens": len(vecs)}})

    # ---- generation ----
    def answer(self, prompt):
        st = self.server.state
        with st.lock:
            st.prompts.append(prompt)
            for entry in st.script:
                if entry["match"] in prompt:
                    return entry["reply"]
            reply = st.reply
        return reply if reply is not None else "fake answer to: " + prompt

    def stream_pieces(self, pieces, fmt):
        delay = self.server.state.token_delay_ms
        for i, p in enumerate(pieces):
            if delay and i:
                time.sleep(delay / 1000.0)
            self.chunk(fmt(p))

    def stream_answer(self, pieces, fmt, last, error_line, fault):
        """Streams pieces and then `last` (the end marker), as a generation fault allows."""
        mode = fault[0] if fault else None
        if mode in ("cut", "stream_error"):
            pieces = pieces[:max(1, len(pieces) // 2)]
        self.stream_pieces(pieces, fmt)
        if mode == "cut":  # no terminating chunk: the client sees the body end early
            self.close_connection = True
            return
        if mode == "stream_error":
            self.chunk(error_line)
        elif mode != "no_done":
            self.chunk(last)
        self.end_chunked()

    def send_whole(self, obj, fault):
        """A non-streamed answer; with the "cut" fault only half of its bytes, then close."""
        if not fault or fault[0] != "cut":
            return self.send_json(200, obj)
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    def note_keep_alive(self, body):
        """Records when the model would be unloaded; True when keep_alive says unload now."""
        st = self.server.state
        if "keep_alive" not in body:
            return False
        secs = keep_alive_seconds(body["keep_alive"])
        with st.lock:
            if secs == 0:
                st.loaded.pop(body["model"], None)
                st.expires.pop(body["model"], None)
                return True
            st.expires[body["model"]] = "2099-01-01T00:00:00Z" if secs < 0 else time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + secs))
        return False

    def ollama_load(self, body):
        """/api/generate without a prompt: load the model, or unload it (keep_alive 0)."""
        try:
            unload = self.note_keep_alive(body)
        except ValueError as e:
            return self.error(400, str(e), False)
        self.send_json(200, {"model": body["model"], "created_at": now_iso(), "response": "",
                             "done": True, "done_reason": "unload" if unload else "load"})

    def ollama_done(self, body, prompt, out):
        return {"model": body["model"], "created_at": now_iso(), "done": True,
                "done_reason": "stop", "total_duration": 1000000, "load_duration": 1000,
                "prompt_eval_count": len(tokens(prompt)), "prompt_eval_duration": 1000,
                "eval_count": len(tokens(out)), "eval_duration": 1000}

    def ollama_generate(self, body, fault):
        if "prompt" not in body:
            return self.ollama_load(body)
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            return self.error(400, "prompt must be a string", False)
        try:
            self.note_keep_alive(body)
        except ValueError as e:
            return self.error(400, str(e), False)
        out = self.answer(prompt)
        if body.get("stream", True) is False:
            msg = self.ollama_done(body, prompt, out)
            msg["response"] = out
            return self.send_whole(msg, fault)
        self.start_chunked("application/x-ndjson")
        last = self.ollama_done(body, prompt, out)
        last["response"] = ""
        self.stream_answer(tokens(out), lambda t: (json.dumps(
            {"model": body["model"], "created_at": now_iso(), "response": t,
             "done": False}) + "\n").encode(), (json.dumps(last) + "\n").encode(),
            OLLAMA_STREAM_ERROR, fault)

    def last_user(self, body, openai):
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs or not all(
                isinstance(m, dict) and isinstance(m.get("content"), str) for m in msgs):
            self.error(400, "messages must be a non-empty list of {role, content}", openai)
            return None
        users = [m["content"] for m in msgs if m.get("role") == "user"]
        return users[-1] if users else msgs[-1]["content"]

    def ollama_chat(self, body, fault):
        prompt = self.last_user(body, False)
        if prompt is None:
            return
        try:
            self.note_keep_alive(body)
        except ValueError as e:
            return self.error(400, str(e), False)
        out = self.answer(prompt)
        if body.get("stream", True) is False:
            msg = self.ollama_done(body, prompt, out)
            msg["message"] = {"role": "assistant", "content": out}
            return self.send_whole(msg, fault)
        self.start_chunked("application/x-ndjson")
        last = self.ollama_done(body, prompt, out)
        last["message"] = {"role": "assistant", "content": ""}
        self.stream_answer(tokens(out), lambda t: (json.dumps(
            {"model": body["model"], "created_at": now_iso(),
             "message": {"role": "assistant", "content": t}, "done": False}) + "\n").encode(),
            (json.dumps(last) + "\n").encode(), OLLAMA_STREAM_ERROR, fault)

    def openai_chat(self, body, fault):
        prompt = self.last_user(body, True)
        if prompt is None:
            return
        out = self.answer(prompt)
        cid = "chatcmpl-fake%d" % fnv1a32(prompt.encode())
        created = int(time.time())
        usage = {"prompt_tokens": len(tokens(prompt)), "completion_tokens": len(tokens(out)),
                 "total_tokens": len(tokens(prompt)) + len(tokens(out))}
        if not body.get("stream", False):
            return self.send_whole({
                "id": cid, "object": "chat.completion", "created": created,
                "model": body["model"], "usage": usage,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": out}}]}, fault)

        def sse(delta, finish=None):
            chunk = {"id": cid, "object": "chat.completion.chunk", "created": created,
                     "model": body["model"],
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return ("data: " + json.dumps(chunk) + "\n\n").encode()

        self.start_chunked("text/event-stream")
        self.chunk(sse({"role": "assistant", "content": ""}))
        self.stream_answer(tokens(out), lambda t: sse({"content": t}),
                           sse({}, "stop") + b"data: [DONE]\n\n", OPENAI_STREAM_ERROR, fault)

    # ---- model lists ----
    def ollama_ps(self, body, fault):
        st = self.server.state
        with st.lock:
            names = sorted(st.loaded)
        details = {"format": "gguf", "family": "fake", "parameter_size": "1M",
                   "quantization_level": "F32"}
        models = []
        for n in names:
            m = {"name": n, "model": n, "size": 1 << 20,
                 "digest": "%064x" % fnv1a32(n.encode()), "details": details}
            if self.path == "/api/ps":
                with st.lock:
                    m["expires_at"] = st.expires.get(n, "2099-01-01T00:00:00Z")
                m["size_vram"] = 0
            else:
                m["modified_at"] = now_iso()
            models.append(m)
        self.send_json(200, {"models": models})

    def openai_models(self, body, fault):
        st = self.server.state
        with st.lock:
            names = sorted(st.loaded)
        self.send_json(200, {"object": "list", "data": [
            {"id": n, "object": "model", "created": 0, "owned_by": "fake"} for n in names]})


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that hangs up (a test stopping a stream early, a timeout) is normal."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dims", type=int, default=16)
    ap.add_argument("--api-key")
    ap.add_argument("--missing-model", action="append")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--exit-on-stdin-eof", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print(server.server_address[1], flush=True)
    if args.exit_on_stdin_eof:
        def watch():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            finally:
                os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
