"""The error contract shared by every endpoint: malformed JSON, wrong types, oversized bodies
and uploads, unknown datasets; every error is {"error":{"code","message"}} as JSON."""

import pytest

from conftest import assert_error

BODY_LIMIT = 4096
UPLOAD_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def small(module_factory):
    """A server with tiny body and upload limits."""
    return module_factory(env={"LAKEHOUSE_SERVER_MAX_BODY_BYTES": str(BODY_LIMIT),
                               "LAKEHOUSE_SERVER_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)})


JSON_ROUTES = ("/query/sql", "/catalog/datasets")


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("body", [b"{", b"not json", b"{\"sql\": }", b"[1,2", b"\xff\xfe{}",
                                  b""])
def test_malformed_json_400(server, path, body):
    r = server.post(path, data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_argument")


@pytest.mark.parametrize("body", [[], "x", 5, None, {"sql": 5}, {"sql": ""},
                                  {"sql": "SELECT 1", "params": "x"},
                                  {"sql": "SELECT 1", "limit": "ten"},
                                  {"sql": "SELECT 1", "timeout_ms": "slow"}, {}])
def test_query_wrong_shapes_400(server, body):
    r = server.post("/query/sql", json=body)
    assert_error(r, 400, "invalid_argument")


@pytest.mark.parametrize("body", [[], {}, {"name": 5, "objects": ["a"]},
                                  {"name": "ok_name"}, {"name": "ok_name", "objects": "a"},
                                  {"name": "ok_name", "objects": []},
                                  {"name": "ok_name", "objects": [5]},
                                  {"name": "Bad Name!", "objects": ["a.parquet"]},
                                  {"name": "../x", "objects": ["a.parquet"]}])
def test_register_wrong_shapes_400(server, body):
    r = server.post("/catalog/datasets", json=body)
    assert_error(r, 400, "invalid_argument")


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_json_body_over_limit_413(small, path):
    big = '{"sql": "SELECT \'' + "x" * (BODY_LIMIT * 2) + '\'"}'
    r = small.post(path, data=big, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "too_large")
    # Just under the limit is fine (for the query route: a valid statement).
    ok = '{"sql": "SELECT \'' + "y" * (BODY_LIMIT // 2) + '\' AS s"}'
    r = small.post("/query/sql", data=ok, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text[:500]
    assert small.alive()


def test_object_upload_over_limit_413(small):
    r = small.put("/storage/objects/big/blob.bin", data=b"z" * (UPLOAD_LIMIT + 1))
    assert_error(r, 413, "too_large")
    assert small.get("/storage/objects/big/blob.bin").status_code == 404
    assert small.work_leftovers() == []
    # Exactly the limit is accepted.
    r = small.put("/storage/objects/big/blob.bin", data=b"z" * UPLOAD_LIMIT)
    assert r.status_code == 201, r.text
    assert small.delete("/storage/objects/big/blob.bin").status_code == 200


def test_object_chunked_upload_over_limit_413(small):
    def gen():
        for _ in range(4):
            yield b"q" * (UPLOAD_LIMIT // 2)
    r = small.put("/storage/objects/big/chunked.bin", data=gen())
    assert_error(r, 413, "too_large")
    assert small.get("/storage/objects/big/chunked.bin").status_code == 404
    assert small.work_leftovers() == []


def test_ingest_upload_over_limit_413(small):
    before = small.datasets()
    row = "1,abcdefghij,2.5\n"
    csv = "a,b,c\n" + row * (UPLOAD_LIMIT // len(row) + 10)
    r = small.ingest(csv, filename="toolarge.csv")
    assert_error(r, 413, "too_large")
    assert small.datasets() == before
    assert small.work_leftovers() == []


def test_unknown_dataset_404(server):
    assert_error(server.get("/catalog/datasets/by-name/no_such_dataset"), 404, "not_found")


def test_error_content_type_on_every_kind(server):
    for r in (server.get("/nope"), server.delete("/health"),
              server.post("/query/sql", data=b"{")):
        assert r.headers["Content-Type"].split(";")[0] == "application/json"
        assert set(r.json()) == {"error"}


def test_not_acceptable_406(server):
    r = server.sql("SELECT 1", accept="image/png")
    assert_error(r, 406, "not_acceptable")


def test_server_survives_garbage(server):
    """Raw junk on the socket does not kill the server."""
    import socket
    for payload in (b"\x00\x01\x02garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    b"POST /query/sql HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                    b"POST /query/sql HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as c:
            c.sendall(payload)
            c.shutdown(socket.SHUT_WR)
            try:
                c.recv(4096)
            except OSError:
                pass
    assert server.get("/health").status_code == 200
