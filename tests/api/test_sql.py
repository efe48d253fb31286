"""POST /query/sql: the JSON document, NDJSON / CSV / Parquet output, type fidelity (checked
on the raw response text), parameters, limits, streaming of large results, errors."""

import csv
import io
import json
import re
from decimal import Decimal

import pytest

from conftest import assert_error, csv_text, error_text


def compact(text):
    """The response text without insignificant whitespace outside strings (good enough for
    the literal checks below, whose values contain no spaces)."""
    return re.sub(r"\s+", "", text)


def test_json_document_shape(server):
    r = server.sql("SELECT 1 AS a, 'x' AS b")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    doc = r.json()
    assert set(doc) >= {"columns", "rows", "row_count", "truncated", "elapsed_ms"}
    assert doc["columns"] == [{"name": "a", "type": "INTEGER"}, {"name": "b", "type": "VARCHAR"}]
    assert doc["rows"] == [[1, "x"]]
    assert doc["row_count"] == 1 and doc["truncated"] is False
    assert isinstance(doc["elapsed_ms"], (int, float)) and doc["elapsed_ms"] >= 0


def test_empty_result(server):
    doc = server.sql_ok("SELECT * FROM range(10) WHERE range > 100")
    assert doc["rows"] == [] and doc["row_count"] == 0
    assert doc["columns"] == [{"name": "range", "type": "BIGINT"}]


def test_big_integers_exact(server):
    r = server.sql("SELECT 4611686018427387904::BIGINT AS p62, "
                   "9223372036854775807::BIGINT AS mx, (-9223372036854775808)::BIGINT AS mn, "
                   "18446744073709551615::UBIGINT AS umx, "
                   "170141183460469231731687303715884105727::HUGEINT AS hmx, "
                   "(-170141183460469231731687303715884105727)::HUGEINT AS hmn, "
                   "340282366920938463463374607431768211455::UHUGEINT AS uh")
    assert r.status_code == 200, r.text
    raw = compact(r.text)
    assert ("[[4611686018427387904,9223372036854775807,-9223372036854775808,"
            "18446744073709551615,170141183460469231731687303715884105727,"
            "-170141183460469231731687303715884105727,"
            "340282366920938463463374607431768211455]]") in raw, raw
    # Python's json keeps big integers exact.
    assert r.json()["rows"][0][0] == 2 ** 62
    types = [c["type"] for c in r.json()["columns"]]
    assert types == ["BIGINT", "BIGINT", "BIGINT", "UBIGINT", "HUGEINT", "HUGEINT", "UHUGEINT"]


def test_small_integer_types(server):
    doc = server.sql_ok("SELECT (-128)::TINYINT a, 255::UTINYINT b, (-32768)::SMALLINT c, "
                        "65535::USMALLINT d, (-2147483648)::INTEGER e, 4294967295::UINTEGER f")
    assert doc["rows"] == [[-128, 255, -32768, 65535, -2147483648, 4294967295]]


def test_decimals_keep_precision(server):
    r = server.sql("SELECT 12.50::DECIMAL(10,2) AS d, -0.05::DECIMAL(4,2) AS neg, "
                   "12345678901234567890.1234567890::DECIMAL(38,10) AS big, "
                   "0::DECIMAL(5,3) AS zero, 123456789012.34::DECIMAL(18,2) AS mid")
    assert r.status_code == 200, r.text
    raw = compact(r.text)
    assert "[[12.50,-0.05,12345678901234567890.1234567890,0.000,123456789012.34]]" in raw, raw
    row = json.loads(r.text, parse_float=Decimal)["rows"][0]
    assert row[0] == Decimal("12.50") and row[2] == Decimal("12345678901234567890.1234567890")
    assert r.json()["columns"][0]["type"] == "DECIMAL(10,2)"


def test_floats(server):
    doc = server.sql_ok("SELECT 1.5::DOUBLE a, 0.1::FLOAT b, 'NaN'::DOUBLE c, "
                        "'inf'::DOUBLE d, 1e300::DOUBLE e")
    row = doc["rows"][0]
    assert row[0] == 1.5
    assert abs(row[1] - 0.1) < 1e-6
    # JSON has no NaN/Infinity: they must still be valid JSON (null or a string).
    assert row[2] is None or isinstance(row[2], str)
    assert row[3] is None or isinstance(row[3], str)
    assert row[4] == 1e300


def test_temporal_types_iso8601(server):
    doc = server.sql_ok("SELECT TIMESTAMP '2024-01-31 13:45:00' AS ts, DATE '2024-01-31' AS d, "
                        "TIME '13:45:00' AS t, TIMESTAMP '2024-01-31 13:45:00.123456' AS tsu, "
                        "INTERVAL 90 MINUTE AS iv")
    row = doc["rows"][0]
    assert row[0] == "2024-01-31T13:45:00"
    assert row[1] == "2024-01-31"
    assert row[2] == "13:45:00"
    assert row[3] == "2024-01-31T13:45:00.123456"
    assert isinstance(row[4], str) and row[4]
    types = [c["type"] for c in doc["columns"]]
    assert types[:3] == ["TIMESTAMP", "DATE", "TIME"]


def test_timestamptz_and_null(server):
    doc = server.sql_ok("SELECT NULL AS n, NULL::INTEGER AS ni, "
                        "TIMESTAMPTZ '2024-01-31 13:45:00+00' AS tz, true AS t, false AS f")
    row = doc["rows"][0]
    assert row[0] is None and row[1] is None
    assert isinstance(row[2], str) and row[2].startswith("2024-01-31T")
    assert row[3] is True and row[4] is False


def test_nested_types(server):
    doc = server.sql_ok("SELECT [1, 2, NULL] AS l, {'a': 1, 'b': 'x', 'c': [true]} AS s, "
                        "[{'k': 1}, {'k': 2}] AS ls, [[1], [], NULL] AS ll, "
                        "[]::INTEGER[] AS empty, MAP {'k1': 10} AS m, "
                        "[1.25::DECIMAL(5,2)] AS ld")
    row = doc["rows"][0]
    assert row[0] == [1, 2, None]
    assert row[1] == {"a": 1, "b": "x", "c": [True]}
    assert row[2] == [{"k": 1}, {"k": 2}]
    assert row[3] == [[1], [], None]
    assert row[4] == []
    assert row[5] in ({"k1": 10}, [{"key": "k1", "value": 10}])
    assert row[6] == [1.25]
    assert doc["columns"][0]["type"] == "INTEGER[]"


def test_strings_escaped(server):
    s = 'quote " backslash \\ newline \n tab \t ctl \x01 unicode é 漢 😀'
    doc = server.sql_ok("SELECT $1::VARCHAR AS s, 'it''s' AS q", params=[s])
    assert doc["rows"] == [[s, "it's"]]


def test_blob_and_uuid(server):
    doc = server.sql_ok("SELECT '\\xAA\\x00abc'::BLOB AS b, "
                        "'0e1f7d3c-7d2c-4d6b-9e4a-1f2b3c4d5e6f'::UUID AS u")
    row = doc["rows"][0]
    assert isinstance(row[0], str)
    assert row[1] == "0e1f7d3c-7d2c-4d6b-9e4a-1f2b3c4d5e6f"


def test_params_dollar_and_question(server):
    doc = server.sql_ok("SELECT $1::INTEGER + 1 AS x, $2 AS s, $1::INTEGER * 2 AS y",
                        params=[41, "hi"])
    assert doc["rows"] == [[42, "hi", 82]]
    doc = server.sql_ok("SELECT ? AS a, ? AS b, ? AS c, ? AS d",
                        params=[7, "x", None, True])
    assert doc["rows"] == [[7, "x", None, True]]
    doc = server.sql_ok("SELECT ?::DOUBLE * 2 AS d, ?::BIGINT AS big", params=[1.25, 2 ** 62])
    assert doc["rows"] == [[2.5, 2 ** 62]]


def test_params_are_not_spliced(server):
    evil = "x'); DROP TABLE t; --"
    doc = server.sql_ok("SELECT $1 AS v", params=[evil])
    assert doc["rows"] == [[evil]]


def test_params_wrong_count_400(server):
    r = server.sql("SELECT $1 AS a, $2 AS b", params=[1])
    err = assert_error(r, 400)
    assert err["code"] in ("invalid_argument", "sql_error")
    r = server.sql("SELECT 1 AS a", params=[1, 2])
    err = assert_error(r, 400)
    assert err["code"] in ("invalid_argument", "sql_error")


def test_params_bad_value_400(server):
    r = server.sql("SELECT $1 AS a", params=[{"nested": "object"}])
    assert_error(r, 400, "invalid_argument")


def test_limit_truncates(server):
    doc = server.sql_ok("SELECT * FROM range(100) ORDER BY 1", limit=10)
    assert doc["truncated"] is True
    assert doc["row_count"] == 10 and len(doc["rows"]) == 10
    assert [r[0] for r in doc["rows"]] == list(range(10))
    doc = server.sql_ok("SELECT * FROM range(10)", limit=10)
    assert doc["truncated"] is False and doc["row_count"] == 10
    doc = server.sql_ok("SELECT * FROM range(5)", limit=100)
    assert doc["truncated"] is False and doc["row_count"] == 5


def test_limit_ndjson(server):
    r = server.sql("SELECT * FROM range(50)", limit=7, accept="application/x-ndjson")
    assert r.status_code == 200
    lines = [ln for ln in r.text.split("\n") if ln]
    assert len(lines) == 7


def test_ndjson(server):
    r = server.sql("SELECT range AS i, 'r' || range AS s, NULL AS n FROM range(3)",
                   accept="application/x-ndjson")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/x-ndjson"
    lines = r.text.split("\n")
    assert lines[-1] == ""  # newline-terminated
    assert [json.loads(ln) for ln in lines[:-1]] == [
        {"i": 0, "s": "r0", "n": None}, {"i": 1, "s": "r1", "n": None},
        {"i": 2, "s": "r2", "n": None}]


def test_csv(server):
    r = server.sql("SELECT 1 AS a, 'x,y' AS b, 'say \"hi\"' AS c, NULL AS d, "
                   "TIMESTAMP '2024-01-31 13:45:00' AS ts UNION ALL "
                   "SELECT 2, 'line\nbreak', '', 'z', NULL", accept="text/csv")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == "text/csv"
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == ["a", "b", "c", "d", "ts"]
    body = sorted(rows[1:])
    assert body[0] == ["1", "x,y", 'say "hi"', "", "2024-01-31T13:45:00"] or \
        body[0] == ["1", "x,y", 'say "hi"', "", "2024-01-31 13:45:00"]
    assert body[1][:2] == ["2", "line\nbreak"]
    assert len(rows) == 3


def test_parquet_output_roundtrip(server):
    sql = ("SELECT range::BIGINT AS id, 'name' || range AS label, "
           "(range * 1.25)::DECIMAL(10,2) AS amount, "
           "TIMESTAMP '2024-01-31 13:45:00' + INTERVAL (range) SECOND AS ts, "
           "CASE WHEN range % 3 = 0 THEN NULL ELSE range END AS maybe, "
           "[range, range + 1] AS pair FROM range(1000)")
    r = server.sql(sql, accept="application/vnd.apache.parquet")
    assert r.status_code == 200, r.text[:500]
    assert r.headers["Content-Type"].split(";")[0] == "application/vnd.apache.parquet"
    body = r.content
    assert body[:4] == b"PAR1" and body[-4:] == b"PAR1", (body[:8], body[-8:])
    assert server.put("/storage/objects/sqlout/result.parquet", data=body).status_code == 201
    reg = server.post("/catalog/datasets", json={"name": "sql_roundtrip",
                                                 "objects": ["sqlout/result.parquet"]})
    assert reg.status_code == 201, reg.text
    assert reg.json()["row_count"] == 1000
    original = server.sql_ok(sql + " ORDER BY id")
    back = server.sql_ok("SELECT * FROM sql_roundtrip ORDER BY id")
    assert back["columns"] == original["columns"]
    assert back["rows"] == original["rows"]


def test_datasets_are_tables(server):
    server.ingest_ok(csv_text(["k", "v"], [[1, "a"], [2, "b"], [3, "c"]]), filename="kv.csv")
    doc = server.sql_ok("SELECT k, v FROM kv WHERE k >= $1 ORDER BY k", params=[2])
    assert doc["rows"] == [[2, "b"], [3, "c"]]
    assert server.scalar("SELECT count(*) FROM kv") == 3


def test_unknown_table_400(server):
    r = server.sql("SELECT * FROM no_such_table_here")
    err = assert_error(r, 400, "sql_error")
    assert "no_such_table_here" in error_text(err)


def test_syntax_error_400(server):
    r = server.sql("SELEC 1")
    err = assert_error(r, 400, "sql_error")
    assert "syntax error" in error_text(err)


def test_runtime_error_400(server):
    r = server.sql("SELECT 'abc'::INTEGER")
    err = assert_error(r, 400, "sql_error")
    assert "abc" in error_text(err)


def test_read_statements_allowed(server):
    for sql in ("EXPLAIN SELECT 1", "DESCRIBE SELECT 1 AS x", "SUMMARIZE SELECT 1 AS x",
                "WITH t AS (SELECT 1 AS x) SELECT * FROM t", "VALUES (1), (2)",
                "FROM range(3)", "SELECT 1; ", "-- comment\nSELECT 1"):
        r = server.sql(sql)
        assert r.status_code == 200, f"{sql!r}: {r.status_code} {r.text[:500]}"


def test_large_result_streams_chunked(server):
    n = 2_000_000
    with server.sql("SELECT range AS i FROM range(2000000)", accept="application/x-ndjson",
                    stream=True) as r:
        assert r.status_code == 200
        assert r.headers.get("Transfer-Encoding", "").lower() == "chunked", dict(r.headers)
        assert "Content-Length" not in r.headers
        count = 0
        tail = b""
        for part in r.iter_content(1 << 20):
            count += part.count(b"\n")
            tail = (tail + part)[-64:]
    assert count == n
    assert tail.endswith(b'{"i":1999999}\n'), tail


def test_large_json_result_complete(server):
    r = server.sql("SELECT range AS i, range * 2 AS j FROM range(300000)")
    assert r.status_code == 200
    doc = r.json()
    assert doc["row_count"] == 300000 and len(doc["rows"]) == 300000
    assert doc["rows"][-1] == [299999, 599998]


def test_csv_large_chunked(server):
    with server.sql("SELECT range AS i FROM range(500000)", accept="text/csv",
                    stream=True) as r:
        assert r.status_code == 200
        assert r.headers.get("Transfer-Encoding", "").lower() == "chunked"
        data = r.content
    lines = data.splitlines()
    assert lines[0] == b"i" and len(lines) == 500001 and lines[-1] == b"499999"


def test_max_rows_cap(make_server):
    s = make_server(env={"LAKEHOUSE_QUERY_MAX_ROWS": "1000"})
    doc = s.sql_ok("SELECT * FROM range(5000)")
    assert doc["row_count"] == 1000 and doc["truncated"] is True
    # A limit above the cap is clamped to it.
    doc = s.sql_ok("SELECT * FROM range(5000)", limit=4000)
    assert doc["row_count"] == 1000 and doc["truncated"] is True


@pytest.mark.parametrize("limit", [-5, 0])
def test_nonpositive_limit_means_default(server, limit):
    r = server.sql("SELECT * FROM range(20)", limit=limit)
    if r.status_code == 400:
        assert_error(r, 400, "invalid_argument")
    else:
        assert r.status_code == 200 and r.json()["row_count"] == 20


# Endless and costly per row, so that the 300 ms timeouts below always fire before the
# server's row cap (10M by default) ends the result cleanly: a cheap range() was rendered
# fast enough to reach the cap first.
BIG = "SELECT i, md5(i::VARCHAR) AS m FROM range(1000000000000) t(i)"


def test_timeout_mid_stream_ndjson_ends_with_error_line(server):
    """Rows already went out when the deadline hits: 200, then a last {"error"} line."""
    with server.sql(BIG, timeout_ms=300, accept="application/x-ndjson", stream=True) as r:
        assert r.status_code == 200
        tail = b""
        lines = 0
        for part in r.iter_content(1 << 20):
            lines += part.count(b"\n")
            tail = (tail + part)[-400:]
    last = tail.rstrip(b"\n").split(b"\n")[-1]
    doc = json.loads(last)
    assert set(doc) == {"error"} and doc["error"]["code"] == "timeout", last
    assert lines > 1


def test_timeout_mid_stream_json_stays_valid(server):
    r = server.sql("SELECT range AS i, range * 3 AS j FROM range(1000000000000)", timeout_ms=300)
    assert r.status_code == 200
    doc = r.json()  # still one valid document
    assert doc["error"]["code"] == "timeout"
    assert doc["row_count"] == len(doc["rows"]) > 0


def test_timeout_mid_stream_csv_is_aborted(server):
    """CSV cannot carry an error: the response must be cut (no clean chunked end), so a
    client never mistakes a partial CSV for a complete one."""
    import requests
    with pytest.raises((requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ConnectionError)):
        with server.sql(BIG, timeout_ms=300, accept="text/csv", stream=True) as r:
            assert r.status_code == 200
            for _ in r.iter_content(1 << 20):
                pass


def test_timeout_parquet_is_an_error_not_a_file(server):
    r = server.sql("SELECT i, md5(i::VARCHAR) AS m FROM range(1000000000000) t(i)",
                   timeout_ms=300, accept="application/vnd.apache.parquet")
    if r.status_code == 200:
        pytest.fail(f"a timed-out query answered 200 with {len(r.content)} bytes of Parquet")
    assert_error(r, 503, "timeout")
    assert server.work_leftovers() == []


def test_parquet_output_of_max_rows_is_marked_truncated(make_server):
    s = make_server(env={"LAKEHOUSE_QUERY_MAX_ROWS": "100"})
    r = s.sql("SELECT * FROM range(1000)", accept="application/vnd.apache.parquet")
    assert r.status_code == 200
    assert r.content[:4] == b"PAR1" and r.content[-4:] == b"PAR1"
    assert s.put("/storage/objects/t/trunc.parquet", data=r.content).status_code == 201
    reg = s.post("/catalog/datasets", json={"name": "trunc", "objects": ["t/trunc.parquet"]})
    assert reg.status_code == 201 and reg.json()["row_count"] == 100


def test_quoted_semicolons_and_comments(server):
    assert server.sql_ok("SELECT 'a;b' AS s")["rows"] == [["a;b"]]
    assert server.sql_ok("SELECT 1 /* ; DROP TABLE x */ AS one")["rows"] == [[1]]
    assert server.sql_ok("SELECT 2 AS two -- ; DROP TABLE x")["rows"] == [[2]]
    assert server.sql_ok('SELECT 3 AS "we;ird"')["columns"][0]["name"] == "we;ird"
