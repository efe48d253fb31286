"""POST /ingest/file: multipart CSV / TSV uploads become datasets; names, appends, schema
conflicts, bad files, limits; nothing registered and no scratch left after a failure."""

import os

import pytest

from conftest import assert_error, csv_text, error_text

HEADER = ["id", "city", "amount", "when"]
ROWS = [[i, f"city{i % 5}", f"{i * 10}.25", f"2024-03-{(i % 28) + 1:02d} 10:00:00"]
        for i in range(1, 101)]
CSV = csv_text(HEADER, ROWS)


def _unchanged_after(server, fn):
    before = server.datasets()
    r = fn()
    assert server.datasets() == before
    assert server.work_leftovers() == []
    return r


def test_ingest_csv_creates_dataset(server):
    r = server.ingest(CSV, filename="cities.csv")
    assert r.status_code == 201, r.text
    doc = r.json()
    for key in ("dataset", "created", "version", "rows", "bytes", "columns", "elapsed_ms"):
        assert key in doc, doc
    assert doc["dataset"] == "cities"
    assert doc["created"] is True and doc["version"] == 0
    assert doc["rows"] == 100
    assert doc["bytes"] == len(CSV.encode())
    assert [c["name"] for c in doc["columns"]] == HEADER
    types = {c["name"]: c["type"] for c in doc["columns"]}
    assert types["id"] == "BIGINT" and types["city"] == "VARCHAR"
    assert types["when"] == "TIMESTAMP"
    assert doc["elapsed_ms"] >= 0
    assert server.scalar("SELECT count(*) FROM cities") == 100
    assert server.scalar("SELECT sum(id) FROM cities") == 5050
    assert server.work_leftovers() == []
    det = server.dataset("cities")
    assert det["row_count"] == 100 and det["history"][0]["file_name"] == "cities.csv"


def test_name_from_file_name(server):
    doc = server.ingest_ok(csv_text(["a"], [[1]]), filename="Sales Report.csv")
    assert doc["dataset"] == "sales_report"
    doc = server.ingest_ok(csv_text(["a"], [[2]]), filename="2024 Numbers-Final.v2.csv")
    assert doc["dataset"] == "_2024_numbers_final_v2"
    assert server.scalar("SELECT count(*) FROM sales_report") == 1


def test_name_part_and_query(server):
    doc = server.ingest_ok(csv_text(["a"], [[1], [2]]), filename="whatever.csv", name="named_part")
    assert doc["dataset"] == "named_part"
    r = server.ingest(csv_text(["a"], [[1], [2], [3]]), filename="whatever.csv",
                      query_name="named_query")
    assert r.status_code == 201, r.text
    assert r.json()["dataset"] == "named_query" and r.json()["rows"] == 3
    assert_error(server.get("/catalog/datasets/by-name/whatever"), 404, "not_found")


@pytest.mark.parametrize("bad", ["Bad Name", "1abc", "a" * 64, "../x", "x;drop", "Ünï"])
def test_bad_name_400(server, bad):
    r = _unchanged_after(server, lambda: server.ingest(CSV, filename="ok.csv", name=bad))
    assert_error(r, 400, "invalid_argument")


def test_tsv(server):
    tsv = "id\tlabel\tvalue\n1\ta, b\t1.5\n2\tc\t2.5\n3\td\t3.5\n"
    doc = server.ingest_ok(tsv, filename="tabbed.tsv")
    assert doc["dataset"] == "tabbed" and doc["rows"] == 3
    assert [c["name"] for c in doc["columns"]] == ["id", "label", "value"]
    assert server.sql_ok("SELECT label FROM tabbed ORDER BY id")["rows"] == [["a, b"], ["c"], ["d"]]


def test_semicolon_and_quoted_csv(server):
    text = 'id;note\n1;"hello; world"\n2;"say ""hi"""\n'
    doc = server.ingest_ok(text, filename="semicolons.csv")
    assert doc["rows"] == 2
    assert server.sql_ok("SELECT note FROM semicolons ORDER BY id")["rows"] == [
        ["hello; world"], ['say "hi"']]


def _own_rows(base):
    """ROWS with ids from base: content no other test of this module ingests (the server is
    shared, and the same bytes twice are a duplicate, not an append)."""
    return [[base + i, *r[1:]] for i, r in enumerate(ROWS)]


def test_append_same_name(server):
    first = server.ingest_ok(csv_text(HEADER, _own_rows(5000)), filename="appendme.csv")
    assert first["version"] == 0 and first["created"] is True
    more = csv_text(HEADER, ROWS[:30])
    second = server.ingest_ok(more, filename="appendme.csv")
    assert second["dataset"] == "appendme"
    assert second["created"] is False and second["version"] == 1 and second["rows"] == 30
    assert server.dataset("appendme")["row_count"] == 130
    assert server.scalar("SELECT count(*) FROM appendme") == 130
    # Other rows under another file name (the same bytes again would be a duplicate).
    third = server.ingest_ok(csv_text(HEADER, ROWS[30:60]), filename="other_file.csv",
                             name="appendme")
    assert third["version"] == 2
    assert server.scalar("SELECT count(*) FROM appendme") == 160
    assert [h["version"] for h in server.dataset("appendme")["history"]] == [0, 1, 2]


def test_schema_mismatch_409(server):
    server.ingest_ok(csv_text(HEADER, _own_rows(7000)), filename="strict.csv")
    before = server.dataset("strict")
    for text in (csv_text(["id", "city"], [[1, "x"]]),                    # fewer columns
                 csv_text(["id", "town", "amount", "when"], ROWS[:3]),    # renamed column
                 csv_text(HEADER, [["abc", "x", "1.0", "nope"]])):         # other types
        r = _unchanged_after(server, lambda t=text: server.ingest(t, filename="strict.csv"))
        err = assert_error(r, 409, "conflict")
        assert err["message"]
    after = server.dataset("strict")
    assert (after["row_count"], after["version"]) == (before["row_count"], before["version"])
    assert server.scalar("SELECT count(*) FROM strict") == 100


def test_empty_file_400(server):
    r = _unchanged_after(server, lambda: server.ingest(b"", filename="empty.csv"))
    assert_error(r, 400, "invalid_argument")
    assert_error(server.get("/catalog/datasets/by-name/empty"), 404, "not_found")


def test_header_only_file(server):
    """A header and no rows: either an empty dataset with those columns, or a 400 that
    registers nothing."""
    before = server.datasets()
    r = server.ingest("a,b,c\n", filename="headonly.csv")
    assert server.work_leftovers() == []
    if r.status_code == 201:
        assert r.json()["rows"] == 0
        assert [c["name"] for c in r.json()["columns"]] == ["a", "b", "c"]
        assert server.scalar("SELECT count(*) FROM headonly") == 0
    else:
        assert_error(r, 400, "invalid_argument")
        assert server.datasets() == before


def test_binary_junk_rejected(server):
    junk = bytes((i * 7919 + 13) % 256 for i in range(20000))
    r = _unchanged_after(server, lambda: server.ingest(junk, filename="junk.csv",
                                                       content_type="application/octet-stream"))
    assert r.status_code in (400, 415), r.text
    assert_error(r, r.status_code)
    assert r.json()["error"]["code"] in ("invalid_argument", "unsupported_media")


def test_elf_binary_rejected(server):
    with open("/bin/true", "rb") as f:
        data = f.read()
    r = _unchanged_after(server, lambda: server.ingest(data, filename="program.csv"))
    assert r.status_code in (400, 415), r.text
    assert_error(r, r.status_code)


def test_unsupported_extension_415(server):
    r = _unchanged_after(server, lambda: server.ingest(b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
                                                       filename="picture.png",
                                                       content_type="image/png"))
    assert_error(r, 415, "unsupported_media")


def test_no_file_part_400(server):
    r = _unchanged_after(server, lambda: server.post(
        "/ingest/file", files={"other": ("x.csv", b"a\n1\n", "text/csv")}))
    err = assert_error(r, 400, "invalid_argument")
    assert "file" in error_text(err)
    # Multipart with only a "name" part.
    r = _unchanged_after(server, lambda: server.post("/ingest/file",
                                                     files={"name": (None, "only_name")}))
    assert_error(r, 400, "invalid_argument")
    # A form that is not multipart at all.
    r = _unchanged_after(server, lambda: server.post("/ingest/file", data={"name": "x"}))
    assert r.status_code in (400, 415), r.text
    assert_error(r, r.status_code)


def test_not_multipart_400(server):
    r = _unchanged_after(server, lambda: server.post(
        "/ingest/file", data=CSV, headers={"Content-Type": "text/csv"}))
    assert r.status_code in (400, 415), r.text
    assert_error(r, r.status_code)
    r = _unchanged_after(server, lambda: server.post(
        "/ingest/file", data=b"--xyz\r\nbroken", headers={
            "Content-Type": "multipart/form-data; boundary=xyz"}))
    assert_error(r, 400, "invalid_argument")


def test_ingest_wrong_method_405(server):
    assert_error(server.get("/ingest/file"), 405, "method_not_allowed")


def test_upload_over_limit_413(make_server):
    limit = 50_000
    s = make_server(env={"LAKEHOUSE_SERVER_MAX_UPLOAD_BYTES": str(limit)})
    row = "1,some text here,3.25\n"
    big = "a,b,c\n" + row * (limit // len(row) + 50)
    r = _unchanged_after(s, lambda: s.ingest(big, filename="big.csv"))
    assert_error(r, 413, "too_large")
    small = "a,b,c\n" + row * 100
    assert s.ingest_ok(small, filename="small.csv")["rows"] == 100


def test_larger_csv_streams(make_server):
    """A ~60 MB CSV ingests and counts right; memory is not tested here (see storage)."""
    s = make_server()
    line = "12345,some descriptive text field,98765.4321,2024-05-06 07:08:09\n"
    n = 60_000_000 // len(line)

    def gen():
        yield b"id,txt,val,ts\n"
        block = (line * 10000).encode()
        for _ in range(n // 10000):
            yield block

    # requests needs the whole multipart body; build it as bytes once (60 MB is fine).
    body = b"".join(gen())
    doc = s.ingest_ok(body, filename="larger.csv")
    assert doc["rows"] == (n // 10000) * 10000
    assert s.scalar("SELECT count(*) FROM larger") == doc["rows"]
    assert s.work_leftovers() == []
    assert os.path.isdir(s.path("buckets", "primary", "datasets", "larger"))


def test_ragged_csv_does_not_silently_drop_rows(server):
    """A CSV whose rows have different widths: either refused with a 400 that says why, or
    every data line ingested (null-padded). Ingesting only part of the file while answering
    201 loses data without a word."""
    text = "a,b\n1,x\n2\n3,y,z\n"
    before = server.datasets()
    r = server.ingest(text, filename="ragged.csv")
    if r.status_code == 201:
        doc = r.json()
        assert doc["rows"] == 3, f"201 but only {doc['rows']} of 3 rows ingested: {doc}"
        assert [c["name"] for c in doc["columns"]][:2] == ["a", "b"], doc
    else:
        assert_error(r, 400, "invalid_argument")
        assert server.datasets() == before

