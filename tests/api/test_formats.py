"""POST /ingest/file for every format it reads, detected from the content (the file name
only a hint) or forced with ?format=: CSV/TSV edge cases, JSON and NDJSON flattening,
Parquet kept as is (nested and vector columns), PDF text layer and OCR, plain text and
chat exports, zip and tar.gz archives. Each test checks the JSON answer and reads the data
back through POST /query/sql."""

import ctypes
import io
import json
import os
import tarfile
import zipfile

import pytest

from conftest import dataset_name_of

FIXTURES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "fixtures"))
DUCKDB_LIB = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "third_party",
                                          "duckdb", "lib", "libduckdb.so"))
PDF_COLUMNS = [("source_file", "VARCHAR"), ("page_number", "INTEGER"),
               ("text_content", "VARCHAR"), ("extraction", "VARCHAR")]


def fixture(*parts):
    with open(os.path.join(FIXTURES, *parts), "rb") as f:
        return f.read()


def raw_ingest(server, body, **params):
    """POST /ingest/file with a raw application/octet-stream body and query arguments."""
    return server.post("/ingest/file", data=body, params=params,
                       headers={"Content-Type": "application/octet-stream"})


def created(resp):
    assert resp.status_code == 201, f"{resp.status_code} {resp.text[:2000]}"
    doc = resp.json()
    assert doc["duplicate"] is False and doc["created"] is True, doc
    return doc


def cols(doc):
    return [(c["name"], c["type"]) for c in doc["columns"]]


def rows(server, sql):
    return server.sql_ok(sql)["rows"]


class _Result(ctypes.Structure):
    # duckdb_result of the C API (deprecated members kept for layout).
    _fields_ = [("column_count", ctypes.c_uint64), ("row_count", ctypes.c_uint64),
                ("rows_changed", ctypes.c_uint64), ("columns", ctypes.c_void_p),
                ("error", ctypes.c_char_p), ("internal", ctypes.c_void_p)]


def duckdb_schema_of(parquet_path):
    """[(name, type)] as DuckDB itself reads the Parquet file: the reference for 'as is'."""
    lib = ctypes.CDLL(DUCKDB_LIB)
    lib.duckdb_value_varchar.restype = ctypes.c_void_p
    lib.duckdb_row_count.restype = ctypes.c_uint64
    lib.duckdb_result_error.restype = ctypes.c_char_p
    db, con, res = ctypes.c_void_p(), ctypes.c_void_p(), _Result()
    assert lib.duckdb_open(None, ctypes.byref(db)) == 0
    assert lib.duckdb_connect(db, ctypes.byref(con)) == 0
    sql = ("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('%s'))"
           % parquet_path.replace("'", "''"))
    try:
        assert lib.duckdb_query(con, sql.encode(), ctypes.byref(res)) == 0, \
            lib.duckdb_result_error(ctypes.byref(res))
        out = []
        for r in range(lib.duckdb_row_count(ctypes.byref(res))):
            row = []
            for c in range(2):
                p = lib.duckdb_value_varchar(ctypes.byref(res), ctypes.c_uint64(c),
                                             ctypes.c_uint64(r))
                row.append(ctypes.string_at(p).decode())
                lib.duckdb_free(ctypes.c_void_p(p))
            out.append(tuple(row))
        return out
    finally:
        lib.duckdb_destroy_result(ctypes.byref(res))
        lib.duckdb_disconnect(ctypes.byref(con))
        lib.duckdb_close(ctypes.byref(db))


# ---- CSV / TSV ---------------------------------------------------------------------------

def test_csv_quoted_newlines(server):
    text = ('id,note,amount\n1,"first line\nsecond line",1.5\n'
            '2,"with ""quotes"", and a comma",2.5\n3,plain,3.5\n')
    doc = created(server.ingest(text, filename="notes_ml.csv"))
    assert doc["format"] == "csv" and doc["rows"] == 3
    assert cols(doc) == [("id", "BIGINT"), ("note", "VARCHAR"), ("amount", "DOUBLE")]
    assert rows(server, "SELECT id, note FROM notes_ml ORDER BY id") == [
        [1, "first line\nsecond line"], [2, 'with "quotes", and a comma'], [3, "plain"]]


def test_csv_bom_is_not_part_of_the_first_column(server):
    text = "\ufeffid,name\r\n1,Ada\r\n2,Grace\r\n"
    doc = created(server.ingest(text.encode("utf-8"), filename="bom_file.csv"))
    assert [c["name"] for c in doc["columns"]] == ["id", "name"]
    assert rows(server, "SELECT id, name FROM bom_file ORDER BY id") == [[1, "Ada"], [2, "Grace"]]


def test_csv_latin1_is_converted(server):
    text = "name,city,note\nJosé,Montréal,café crème\nRenée,Zürich,naïve façade\n"
    doc = created(server.ingest(text.encode("latin-1"), filename="latin1_people.csv"))
    assert doc["rows"] == 2
    assert doc["bytes"] == len(text.encode("latin-1"))
    assert rows(server, "SELECT name, city, note FROM latin1_people ORDER BY name") == [
        ["José", "Montréal", "café crème"], ["Renée", "Zürich", "naïve façade"]]
    assert server.scalar("SELECT count(*) FROM latin1_people WHERE name = 'José'") == 1


def test_tsv_detected_and_forced(server):
    tsv = "id\tlabel\tprice\n1\ta, b\t1.5\n2\tc; d\t2.5\n"
    # Raw body, no extension: the tabs are found in the content.
    doc = created(raw_ingest(server, tsv.encode(), name="tabs_detected"))
    assert doc["format"] == "tsv" and doc["rows"] == 2
    assert rows(server, "SELECT label FROM tabs_detected ORDER BY id") == [["a, b"], ["c; d"]]
    # ?format=tsv on a name that says CSV.
    doc = created(raw_ingest(server, tsv.encode() + b"3\te\t3.5\n", name="tabs_forced",
                             filename="misnamed.csv", format="tsv"))
    assert doc["format"] == "tsv" and doc["rows"] == 3
    assert [c["name"] for c in doc["columns"]] == ["id", "label", "price"]


def test_format_override_beats_detection(server):
    csv = "a,b\n1,2\n3,4\n"
    # The same CSV bytes read as plain text: one row per line, the header included.
    doc = created(raw_ingest(server, csv.encode(), name="csv_as_text", filename="as_text.csv",
                             format="text"))
    assert doc["format"] == "text" and doc["rows"] == 3
    assert rows(server, "SELECT text FROM csv_as_text ORDER BY line_number") == [
        ["a,b"], ["1,2"], ["3,4"]]
    # A multipart 'format' field works too.
    r = server.post("/ingest/file", files={"file": ("x.txt", (csv + "5,6\n").encode(),
                                                     "text/plain")},
                    data={"name": "txt_as_csv", "format": "csv"})
    doc = created(r)
    assert doc["format"] == "csv" and cols(doc) == [("a", "BIGINT"), ("b", "BIGINT")]


@pytest.mark.parametrize("kind,filename", [("pdf", "scan_upload.bin"), ("parquet", "data.csv"),
                                           ("zip", "bundle.dat"), ("ndjson", "records")])
def test_content_wins_over_misleading_name(make_server, kind, filename):
    server = make_server()    # its own lake: the fixtures here are ingested elsewhere too
    if kind == "pdf":
        body = fixture("pdf", "resume.pdf")
    elif kind == "parquet":
        r = server.sql("SELECT 1 AS x, 'y' AS z", accept="application/vnd.apache.parquet")
        assert r.status_code == 200, r.text
        body = r.content
    elif kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("inner.csv", "k,v\n1,one\n2,two\n")
        body = buf.getvalue()
    else:
        body = b'{"k": 1, "v": "one"}\n{"k": 2, "v": "two"}\n'
    name = f"misnamed_{kind}"
    doc = created(server.ingest(body, filename=filename, name=name,
                                content_type="application/octet-stream"))
    assert doc["format"] == kind or (kind, doc["format"]) == ("ndjson", "json"), doc
    assert doc["rows"] == (3 if kind == "pdf" else 1 if kind == "parquet" else 2)


# ---- JSON / NDJSON -----------------------------------------------------------------------

RECORDS = [
    {"id": 1, "name": "Ada", "address": {"city": "London", "geo": {"lat": 51.5, "lon": -0.1}},
     "tags": ["math", "poetry"], "orders": [{"sku": "A1", "qty": 2}]},
    {"id": 2, "name": "Grace", "address": {"city": "Arlington"}, "tags": [], "vip": True},
    {"id": 3, "name": "Linus", "grid": [[1, 2], [3]]},
]


def check_flattened(server, table, doc):
    types = dict(cols(doc))
    for c in ("id", "name", "address_city", "address_geo_lat", "address_geo_lon", "tags",
              "orders", "vip", "grid"):
        assert c in types, f"no column {c}: {cols(doc)}"
    assert "address" not in types and "address.city" not in types
    assert types["id"] == "BIGINT" and types["address_geo_lat"] == "DOUBLE"
    assert types["tags"] == "VARCHAR[]", types          # a list of scalars stays a list
    assert types["orders"] == "VARCHAR" and types["grid"] == "VARCHAR"   # JSON text
    got = rows(server, f"SELECT id, address_city, address_geo_lat, tags, orders, vip, grid "
                       f"FROM {table} ORDER BY id")
    assert [g[:4] for g in got] == [[1, "London", 51.5, ["math", "poetry"]],
                                    [2, "Arlington", None, []],
                                    [3, None, None, None]]
    assert json.loads(got[0][4]) == [{"sku": "A1", "qty": 2}]
    assert got[1][4] is None and got[2][4] is None
    assert [g[5] for g in got] == [None, True, None]     # keys missing in a record: NULL
    assert json.loads(got[2][6]) == [[1, 2], [3]]
    assert server.scalar(f"SELECT len(tags) FROM {table} WHERE id = 1") == 2


def test_json_array_flattened(server):
    doc = created(server.ingest(json.dumps(RECORDS, indent=1), filename="people_nested.json",
                                content_type="application/json"))
    assert doc["format"] == "json" and doc["rows"] == 3
    check_flattened(server, "people_nested", doc)


def test_ndjson_flattened(server):
    body = "\n".join(json.dumps(r) for r in RECORDS) + "\n"
    doc = created(raw_ingest(server, body.encode(), name="people_ndjson"))
    assert doc["format"] in ("json", "ndjson") and doc["rows"] == 3
    check_flattened(server, "people_ndjson", doc)


def test_ndjson_key_only_in_the_last_record(server):
    """A key first seen after tens of thousands of records is still a column (not dropped,
    not an error), NULL for every earlier record."""
    n = 25000
    lines = [json.dumps({"id": i, "v": i * 0.5}) for i in range(n - 1)]
    lines.append(json.dumps({"id": n - 1, "v": 1.0, "late": "here", "deep": {"k": 7}}))
    doc = created(server.ingest("\n".join(lines) + "\n", filename="late_keys.ndjson"))
    assert doc["rows"] == n
    names = [c["name"] for c in doc["columns"]]
    assert "late" in names and "deep_k" in names, names
    assert rows(server, "SELECT count(late), count(deep_k), max(late), max(deep_k) "
                        "FROM late_keys") == [[1, 1, "here", 7]]


# ---- Parquet -----------------------------------------------------------------------------

VECTOR_SQL = ("SELECT i::INTEGER AS id, [i * 1.0, i + 0.5, -1.25]::FLOAT[3] AS embedding, "
              "[i * 0.25, 2.0]::FLOAT[] AS scores, "
              "{'city': 'c' || i, 'geo': {'lat': i * 1.5, 'lon': -i}} AS place, "
              "[{'sku': 'S' || i, 'qty': i}] AS items, (i * 1.25)::DECIMAL(10, 2) AS price, "
              "DATE '2024-01-01' + i::INTEGER AS day FROM range(4) t(i)")


def test_parquet_nested_and_vectors_kept_as_is(server, tmp_path):
    r = server.sql(VECTOR_SQL, accept="application/vnd.apache.parquet")
    assert r.status_code == 200, r.text
    assert r.content[:4] == b"PAR1"
    path = tmp_path / "vectors.parquet"
    path.write_bytes(r.content)
    doc = created(server.ingest(r.content, filename="vectors.parquet",
                                content_type="application/octet-stream"))
    assert doc["format"] == "parquet" and doc["rows"] == 4
    # The schema is exactly what DuckDB reads from the file itself.
    assert cols(doc) == duckdb_schema_of(str(path))
    types = dict(cols(doc))
    assert types["embedding"] in ("FLOAT[3]", "FLOAT[]")
    assert types["scores"] == "FLOAT[]"
    assert types["place"].startswith("STRUCT(city VARCHAR, geo STRUCT(")
    assert types["items"].startswith("STRUCT(") and types["items"].endswith("[]")
    assert types["price"] == "DECIMAL(10,2)" and types["day"] == "DATE"
    got = rows(server, "SELECT id, embedding, scores, place, items, price::VARCHAR, day "
                       "FROM vectors ORDER BY id")
    assert got[2] == [2, [2.0, 2.5, -1.25], [0.5, 2.0],
                      {"city": "c2", "geo": {"lat": 3.0, "lon": -2}},
                      [{"sku": "S2", "qty": 2}], "2.50", "2024-01-03"]
    # Vector functions work on the column as stored.
    assert server.scalar("SELECT len(embedding) FROM vectors WHERE id = 3") == 3


def test_parquet_raw_body_roundtrip_of_a_data_file(server):
    src = "id,city,amount\n" + "".join(f"{i},city{i % 3},{i}.5\n" for i in range(50))
    first = created(server.ingest(src, filename="pq_source.csv"))
    key = server.parquet_object_of("pq_source")[0]
    r = server.get(f"/storage/objects/{key}")
    assert r.status_code == 200 and r.content[:4] == b"PAR1", r.status_code
    doc = created(raw_ingest(server, r.content, name="pq_copy"))
    assert doc["format"] == "parquet" and doc["rows"] == 50
    assert cols(doc) == cols(first)
    assert rows(server, "SELECT * FROM pq_copy EXCEPT SELECT * FROM pq_source") == []
    assert server.scalar("SELECT sum(amount) FROM pq_copy") == \
        server.scalar("SELECT sum(amount) FROM pq_source")


# ---- PDF ---------------------------------------------------------------------------------

def test_pdf_text_layer(server):
    doc = created(server.ingest(fixture("pdf", "resume.pdf"), filename="jordan_cv.pdf",
                                content_type="application/pdf"))
    assert doc["format"] == "pdf" and doc["rows"] == 3
    assert cols(doc) == PDF_COLUMNS
    assert doc["files"][0]["ocr_pages"] == 0
    got = rows(server, "SELECT source_file, page_number, extraction, text_content "
                       "FROM jordan_cv ORDER BY page_number")
    assert [g[:3] for g in got] == [["jordan_cv.pdf", p, "text"] for p in (1, 2, 3)]
    assert "Jordan Rivera" in got[0][3]
    assert "Lead Engineer, 2019-2024" in got[1][3]
    assert "References available" in got[2][3]


def test_pdf_scanned_is_read_with_ocr(server):
    doc = created(server.ingest(fixture("pdf", "scanned.pdf"), filename="scanned_cv.pdf",
                                content_type="application/pdf"))
    assert doc["format"] == "pdf" and doc["rows"] == 2
    assert cols(doc) == PDF_COLUMNS                      # the same schema as a text PDF
    assert doc["files"][0]["ocr_pages"] == 2
    got = rows(server, "SELECT page_number, extraction, lower(text_content) "
                       "FROM scanned_cv ORDER BY page_number")
    assert [g[:2] for g in got] == [[1, "ocr"], [2, "ocr"]]
    for word in ("senior", "engineer", "staffing"):
        assert word in got[0][2], got[0][2]
    for word in ("payroll", "contractor", "timesheet"):
        assert word in got[1][2], got[1][2]


# ---- text and chat exports ---------------------------------------------------------------

def test_plain_text_one_row_per_line(server):
    lines = [f"Line {i}: the quick brown fox, number {i}" for i in range(1, 41)]
    doc = created(server.ingest("\n".join(lines) + "\n", filename="memo_lines.txt",
                                content_type="text/plain"))
    assert doc["format"] == "text" and doc["rows"] == 40
    assert cols(doc) == [("source_file", "VARCHAR"), ("line_number", "BIGINT"),
                         ("text", "VARCHAR")]
    got = rows(server, "SELECT source_file, line_number, text FROM memo_lines "
                       "ORDER BY line_number")
    assert got == [["memo_lines.txt", i, lines[i - 1]] for i in range(1, 41)]


def test_plain_text_crlf_and_bom(server):
    doc = created(server.ingest(fixture("text", "plain_crlf_bom.txt"), filename="memo_crlf.txt",
                                content_type="text/plain"))
    got = rows(server, "SELECT line_number, text FROM memo_crlf ORDER BY line_number")
    assert got[0] == [1, "First line of the memo"]       # no BOM, no CR
    assert all("\r" not in t and "\ufeff" not in t for _, t in got)
    assert "Third line" in [t for _, t in got] and doc["rows"] == len(got)


def test_sms_export_parsed_into_columns(server):
    doc = created(server.ingest(fixture("text", "sms_comma.txt"), filename="phone_sms.txt",
                                content_type="text/plain"))
    names = [c["name"] for c in doc["columns"]]
    for c in ("sent_at", "sender", "body"):
        assert c in names, names
    assert dict(cols(doc))["sent_at"] == "TIMESTAMP"
    assert rows(server, "SELECT strftime(sent_at, '%Y-%m-%d %H:%M:%S'), sender, body "
                        "FROM phone_sms ORDER BY sent_at") == [
        ["2024-01-15 09:30:12", "+15551234567", "Your code is 123456"],
        ["2024-01-15 09:35:00", "+15551234567", "Reply STOP to stop"],
        ["2024-01-16 10:00:00", "Mom", "call me"]]


def test_whatsapp_export_multiline_messages(server):
    doc = created(server.ingest(fixture("text", "whatsapp_ios.txt"), filename="team_chat.txt",
                                content_type="text/plain"))
    assert doc["rows"] == 8
    got = rows(server, "SELECT strftime(sent_at, '%Y-%m-%d %H:%M:%S'), sender, body "
                       "FROM team_chat ORDER BY sent_at")
    assert got[0] == ["2024-01-15 09:30:12", "Alice", "Are we still on for lunch?"]
    assert got[2][1] == "Alice" and got[2][2].startswith("Great. I'll bring the notes:\n- budget")
    assert got[2][2].endswith("- hiring plan")
    assert [g[1] for g in got].count(None) == 1          # the system message has no sender


# ---- archives ----------------------------------------------------------------------------

MEMBER_A = "order_id,customer,total\n1,ann,10.5\n2,bob,20.25\n3,cy,7.0\n"
MEMBER_B = "order_id,customer,total\n4,dee,1.5\n5,eve,2.5\n"


def test_zip_of_two_csvs(server):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("exports/jan.csv", MEMBER_A)
        z.writestr("exports/", "")                       # a directory entry is skipped
        z.writestr("exports/feb.csv", MEMBER_B)
    doc = created(server.ingest(buf.getvalue(), filename="orders_zip.zip",
                                content_type="application/zip"))
    assert doc["format"] == "zip" and doc["rows"] == 5
    assert sorted((f["member"], f["format"], f["rows"]) for f in doc["files"]) == [
        ("exports/feb.csv", "csv", 2), ("exports/jan.csv", "csv", 3)]
    assert cols(doc) == [("order_id", "BIGINT"), ("customer", "VARCHAR"), ("total", "DOUBLE")]
    assert rows(server, "SELECT order_id, customer FROM orders_zip ORDER BY order_id") == [
        [1, "ann"], [2, "bob"], [3, "cy"], [4, "dee"], [5, "eve"]]
    assert server.dataset("orders_zip")["row_count"] == 5


def test_tar_gz_of_two_csvs(server):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, text in (("q1/a.csv", MEMBER_A), ("q1/b.csv", MEMBER_B)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    r = server.ingest(buf.getvalue(), filename="orders_q1.tar.gz", name="orders_tgz",
                      content_type="application/gzip")
    doc = created(r)
    assert dataset_name_of(doc) == "orders_tgz"
    assert doc["format"] == "tar" and doc["rows"] == 5
    assert sorted(f["member"] for f in doc["files"]) == ["q1/a.csv", "q1/b.csv"]
    assert server.scalar("SELECT sum(total) FROM orders_tgz") == pytest.approx(41.75)
