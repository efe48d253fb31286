"""The object store over HTTP: PUT / GET / DELETE /storage/objects/{key}, listing with
prefix and limit, key validation, and streaming of large bodies without memory growth."""

import os
import re
import socket
import time

import pytest

from conftest import SLOW, assert_error


def test_put_get_delete_roundtrip(server):
    body = bytes(range(256)) * 100
    r = server.put("/storage/objects/rt/a/b.bin", data=body)
    assert r.status_code == 201, r.text
    assert r.json() == {"key": "rt/a/b.bin", "size": len(body)}
    g = server.get("/storage/objects/rt/a/b.bin")
    assert g.status_code == 200
    assert g.content == body
    # The object lives where the layout says.
    with open(server.path("buckets", "primary", "rt", "a", "b.bin"), "rb") as f:
        assert f.read() == body
    d = server.delete("/storage/objects/rt/a/b.bin")
    assert d.status_code == 200, d.text
    assert d.json()["deleted"] in (True, "rt/a/b.bin")
    assert_error(server.get("/storage/objects/rt/a/b.bin"), 404, "not_found")
    assert_error(server.delete("/storage/objects/rt/a/b.bin"), 404, "not_found")
    assert server.work_leftovers() == []


def test_put_replaces_and_empty_object(server):
    assert server.put("/storage/objects/rep/x.txt", data=b"first").status_code == 201
    assert server.put("/storage/objects/rep/x.txt", data=b"second!").status_code == 201
    assert server.get("/storage/objects/rep/x.txt").content == b"second!"
    r = server.put("/storage/objects/rep/empty", data=b"")
    assert r.status_code == 201, r.text
    assert r.json()["size"] == 0
    g = server.get("/storage/objects/rep/empty")
    assert g.status_code == 200 and g.content == b""


def test_get_missing_404(server):
    assert_error(server.get("/storage/objects/never/was/here.txt"), 404, "not_found")
    # A "directory" is not an object.
    server.put("/storage/objects/dir1/inner.txt", data=b"x")
    assert_error(server.get("/storage/objects/dir1"), 404, "not_found")


def test_list_prefix_limit(server):
    keys = [f"lst/k{i:02d}.txt" for i in range(12)] + ["lst2/other.txt"]
    for k in keys:
        assert server.put(f"/storage/objects/{k}", data=k.encode()).status_code == 201
    r = server.get("/storage/objects", params={"prefix": "lst/"})
    assert r.status_code == 200
    doc = r.json()
    assert doc["truncated"] is False
    got = [o["key"] for o in doc["objects"]]
    assert got == sorted(keys[:12])
    for o in doc["objects"]:
        assert o["size"] == len(o["key"])
        assert isinstance(o["modified_at"], str) and re.match(r"\d{4}-\d\d-\d\dT", o["modified_at"])
    r = server.get("/storage/objects", params={"prefix": "lst/", "limit": 5})
    doc = r.json()
    assert doc["truncated"] is True
    assert [o["key"] for o in doc["objects"]] == sorted(keys[:12])[:5]
    # prefix "lst" matches both trees.
    doc = server.get("/storage/objects", params={"prefix": "lst"}).json()
    assert {o["key"] for o in doc["objects"]} >= set(keys)
    # Nothing under the prefix: empty list, not an error.
    doc = server.get("/storage/objects", params={"prefix": "zzz-none/"}).json()
    assert doc == {"objects": [], "truncated": False}


@pytest.mark.parametrize("limit", ["-1", "abc", "1x", "0", "100001"])
def test_list_bad_limit_400(server, limit):
    assert_error(server.get("/storage/objects", params={"limit": limit}), 400,
                 "invalid_argument")


def _raw_request(port, request_line, body=b""):
    """Sends a request with a path exactly as written (requests would normalise it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW) as c:
        head = (f"{request_line} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        c.sendall(head + body)
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, head.decode("latin-1"), payload


BAD_KEYS = [
    "a/../b.txt",
    "../escape.txt",
    "a/%2e%2e/b.txt",
    "%2e%2e/escape.txt",
    "a/%2E%2E/b.txt",
    "a/..%2fb.txt",
    "a/%2e%2e%2fb.txt",
    "/leading.txt",
    "%2fleading.txt",
    "a//b.txt",
    "a/./b.txt",
    "a/%00b.txt",
    "a/%01b.txt",
    "a/b%0a.txt",
    "a/b%7f.txt",
    "trailing/",
    "bad%ff.txt",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_400(server, key):
    for method, body in (("PUT", b"x"), ("GET", b""), ("DELETE", b"")):
        status, head, payload = _raw_request(server.port,
                                             f"{method} /storage/objects/{key}", body)
        assert status == 400, f"{method} {key}: {status} {payload[:300]!r}"
        assert b'"invalid_argument"' in payload, payload[:300]
    # Nothing escaped the bucket.
    assert not os.path.exists(server.path("buckets", "escape.txt"))
    assert not os.path.exists(server.path("escape.txt"))


def test_key_too_long_400(server):
    key = "k/" + "a" * 1100
    assert_error(server.put(f"/storage/objects/{key}", data=b"x"), 400, "invalid_argument")


def test_percent_encoded_good_key(server):
    # %20 decodes to a space: a legal key character.
    r = server.put("/storage/objects/enc/with%20space.txt", data=b"sp")
    assert r.status_code == 201, r.text
    assert r.json()["key"] == "enc/with space.txt"
    assert server.get("/storage/objects/enc/with%20space.txt").content == b"sp"


def _mem_kb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:")):
                k, v = line.split(":")
                out[k] = int(v.split()[0])
    return out


def test_large_put_streams_without_rss_growth(make_server):
    """1 GiB PUT from a generator (chunked): the server's peak RSS grows far less than the
    body; GET streams it back with the right size."""
    s = make_server()
    # Warm the paths once so one-time allocations don't count.
    assert s.put("/storage/objects/warm.bin", data=b"w" * 1024 * 1024).status_code == 201
    before = _mem_kb(s.pid)
    chunk = os.urandom(1 << 20)
    total = 1 << 30

    def gen():
        for _ in range(total // len(chunk)):
            yield chunk

    t0 = time.monotonic()
    r = s.put("/storage/objects/big/one-gib.bin", data=gen(), timeout=120 * SLOW)
    put_s = time.monotonic() - t0
    assert r.status_code == 201, r.text
    assert r.json()["size"] == total
    after = _mem_kb(s.pid)
    grew_mb = (after["VmHWM"] - before["VmHWM"]) / 1024
    assert grew_mb < 128, f"peak RSS grew by {grew_mb:.0f} MiB for a 1 GiB upload"
    assert os.path.getsize(s.path("buckets", "primary", "big", "one-gib.bin")) == total
    # Stream it back, counting bytes without holding them.
    n = 0
    with s.get("/storage/objects/big/one-gib.bin", stream=True, timeout=120 * SLOW) as g:
        assert g.status_code == 200
        first = None
        for part in g.iter_content(1 << 20):
            if first is None:
                first = part[:64]
            n += len(part)
    assert n == total
    assert first == chunk[:64]
    after_get = _mem_kb(s.pid)
    grew_mb = (after_get["VmHWM"] - before["VmHWM"]) / 1024
    assert grew_mb < 128, f"peak RSS grew by {grew_mb:.0f} MiB after a 1 GiB download"
    assert put_s < 20 * SLOW, f"1 GiB PUT took {put_s:.1f}s"
    assert s.delete("/storage/objects/big/one-gib.bin").status_code == 200
    assert s.work_leftovers() == []


def test_aborted_upload_leaves_nothing(server):
    """A client that disconnects mid-body: no object, no temp file."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as c:
        c.sendall(b"PUT /storage/objects/aborted/x.bin HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 1000000\r\n\r\n" + b"a" * 10000)
        time.sleep(0.3)
    deadline = time.monotonic() + 5 * SLOW
    while time.monotonic() < deadline and server.work_leftovers():
        time.sleep(0.1)
    assert server.work_leftovers() == []
    assert_error(server.get("/storage/objects/aborted/x.bin"), 404, "not_found")
    assert server.get("/health").status_code == 200
