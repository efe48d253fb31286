"""POST /ingest/file with bad input: each is a 4xx JSON error that says what is wrong and
where (file, line, byte, member), registers nothing (GET /catalog/datasets unchanged, no
dataset by that name) and leaves no scratch file under DATA/tmp/work."""

import io
import os
import re
import struct
import tarfile
import zipfile
import zlib

import pytest

from conftest import assert_error, error_text

FIXTURES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "fixtures"))


def fixture(*parts):
    with open(os.path.join(FIXTURES, *parts), "rb") as f:
        return f.read()


def rejected(server, body, filename, status, code=None, params=None, name=None):
    """Uploads body (multipart) and checks the refusal and that nothing changed. Returns the
    error's text (message and detail, lowercased)."""
    before = server.datasets()
    r = server.post("/ingest/file", params=params,
                    files={"file": (filename, body, "application/octet-stream")},
                    data={"name": name} if name else None)
    if status is None:   # either refusal is right: 400 (bad content) or 415 (unsupported)
        assert r.status_code in (400, 415), r.text
        status = r.status_code
    err = assert_error(r, status, code)
    assert server.datasets() == before
    assert server.work_leftovers() == [], server.work_leftovers()
    target = name or re.sub(r"[^a-z0-9]+", "_", filename.lower().split(".")[0])
    assert server.get(f"/catalog/datasets/by-name/{target}").status_code == 404
    text = error_text(err)
    assert ".upload" not in text and "/tmp/" not in text, \
        f"the message leaks a scratch path instead of naming the user's file: {text}"
    return text


def byte_of(text):
    m = re.search(r"byte (\d+)", text)
    assert m, f"no byte offset in {text!r}"
    return int(m.group(1))


# ---- empty, junk, unsupported ------------------------------------------------------------

def test_empty_file(server):
    for fname in ("empty_in.csv", "empty_in.json", "empty_in.pdf", "empty_in"):
        text = rejected(server, b"", fname, 400, "invalid_argument")
        assert "empty" in text and fname in text, text


def test_binary_junk_named_csv(server):
    junk = bytes((i * 7919 + 13) % 256 for i in range(30000))
    text = rejected(server, junk, "junk_rows.csv", 415, "unsupported_media")
    assert "junk_rows.csv" in text


def test_unsupported_format_argument(server):
    text = rejected(server, b"a,b\n1,2\n", "fmt_arg.csv", 415, "unsupported_media",
                    params={"format": "xlsx"})
    assert "xlsx" in text and "csv" in text, text      # names what it takes instead


def test_xlsx_workbook_is_unsupported(server):
    """An Excel workbook is a zip of XML parts; it must not be ingested as text rows of XML."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook><sheets><sheet '
                   'name="S1" sheetId="1"/></sheets></workbook>')
        z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet><sheetData>'
                   '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
                   '</sheetData></worksheet>')
    text = rejected(server, buf.getvalue(), "budget_2024.xlsx", 415, "unsupported_media")
    assert "budget_2024.xlsx" in text


# ---- CSV ---------------------------------------------------------------------------------

def ragged(line_no, extra):
    rows = ["id,name,amount"] + [f"{i},n{i},{i * 1.5}" for i in range(1, 40)]
    rows[line_no - 1] = f"{line_no},late,1.5,surplus" if extra else f"{line_no},late"
    return ("\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("line_no,extra", [(17, True), (23, False)])
def test_ragged_rows_name_the_line(server, line_no, extra):
    body = ragged(line_no, extra)
    text = rejected(server, body, f"ragged_{line_no}.csv", 400, "invalid_argument")
    assert f"line {line_no}" in text and f"ragged_{line_no}.csv" in text, text


def test_invalid_utf8_with_c1_controls(server):
    body = b"a,b\n1," + bytes(range(0x80, 0xA0)) * 3 + b"\n"
    text = rejected(server, body, "c1_bytes.csv", 400, "invalid_argument")
    assert "utf-8" in text and byte_of(text) == 6, text


def test_invalid_utf8_far_into_a_csv(server):
    """The offset is exact past the first read buffer, in a file that is not Latin-1."""
    head = b"id,txt\n" + b"".join(b"%d,hello world\n" % i for i in range(6000))
    bad = b"6000," + bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 400 + b"\n"
    body = head + bad + b"6001,end\n"
    assert len(head) > 65536
    text = rejected(server, body, "far_bad.csv", 400, "invalid_argument")
    assert byte_of(text) == len(head) + len(b"6000,"), text


# ---- JSON --------------------------------------------------------------------------------

def test_json_with_invalid_utf8(server):
    body = b'[{"a": "x\xff\xfey"}]'
    text = rejected(server, body, "bad_utf8.json", 400, "invalid_argument")
    assert "utf-8" in text and byte_of(text) == 9, text
    # NDJSON, a single Latin-1 byte deep in the file: JSON is never guessed to be Latin-1.
    lines = [b'{"id": %d, "city": "Zurich"}' % i for i in range(3000)]
    lines[2500] = b'{"id": 2500, "city": "Z\xfcrich"}'
    body = b"\n".join(lines) + b"\n"
    text = rejected(server, body, "latin1_records.ndjson", 400, "invalid_argument")
    assert byte_of(text) == body.index(b"\xfc"), text


def test_json_broken_at_byte(server):
    body = fixture("json", "broken.json")
    text = rejected(server, body, "broken_doc.json", 400, "invalid_argument")
    assert byte_of(text) == body.index(b"3}") + 1 and "line 2" in text, text
    # NDJSON: a record broken in the middle of line 3.
    lines = [b'{"id": %d, "v": "x"}' % i for i in range(1, 6)]
    lines[2] = b'{"id": 3, "v": "x"]'
    body = b"\n".join(lines) + b"\n"
    text = rejected(server, body, "broken_lines.ndjson", 400, "invalid_argument")
    assert "line 3" in text and byte_of(text) == body.index(b"]"), text


def test_ndjson_truncated_record_names_its_line(server):
    """NDJSON is one JSON text per line: a record cut short on line 3 is broken on line 3,
    not wherever a multi-line JSON parser gives up on the lines after it."""
    lines = [b'{"id": %d, "v": "x"}' % i for i in range(1, 6)]
    lines[2] = b'{"id": 3, "v": '
    body = b"\n".join(lines) + b"\n"
    text = rejected(server, body, "cut_lines.ndjson", 400, "invalid_argument")
    start = sum(len(x) + 1 for x in lines[:2])
    assert "line 3" in text and start <= byte_of(text) <= start + len(lines[2]), text


def test_json_that_holds_no_records(server):
    for body, fname in ((b"[]", "no_records.json"), (b"42\n", "scalar_doc.json"),
                        (b"\n\n\n", "blank_lines.ndjson")):
        text = rejected(server, body, fname, 400, "invalid_argument")
        assert fname in text, text


# ---- PDF ---------------------------------------------------------------------------------

def test_encrypted_pdf(server):
    text = rejected(server, fixture("pdf", "encrypted.pdf"), "locked_cv.pdf", 400,
                    "invalid_argument")
    assert "encrypted" in text and "locked_cv.pdf" in text, text


@pytest.mark.parametrize("fname", ["truncated.pdf", "junk.pdf"])
def test_corrupt_pdf(server, fname):
    body = fixture("pdf", fname)
    before = server.datasets()
    r = server.post("/ingest/file", files={"file": ("broken_" + fname, body, "application/pdf")})
    assert r.status_code in (400, 415), r.text
    text = error_text(assert_error(r, r.status_code))
    assert "broken_" + fname in text, text
    assert server.datasets() == before and server.work_leftovers() == []
    # Cut in the middle of the document.
    text = rejected(server, fixture("pdf", "resume.pdf")[:20000], "cut_cv.pdf", 400,
                    "invalid_argument")
    assert "cut_cv.pdf" in text


# ---- archives ----------------------------------------------------------------------------

def _crc_byte(crc, b):
    return ~zlib.crc32(bytes([b]), ~crc & 0xFFFFFFFF) & 0xFFFFFFFF


def zipcrypto_zip(members, password):
    """A zip whose members are stored and encrypted with traditional PKWARE encryption,
    written by hand (Python's zipfile cannot encrypt)."""
    out, central = io.BytesIO(), []
    for name, data in members:
        keys = [0x12345678, 0x23456789, 0x34567890]

        def update(c):
            keys[0] = _crc_byte(keys[0], c)
            keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
            keys[2] = _crc_byte(keys[2], keys[1] >> 24)

        def encrypt(plain):
            res = bytearray()
            for p in plain:
                t = (keys[2] | 2) & 0xFFFF
                res.append(p ^ (((t * (t ^ 1)) >> 8) & 0xFF))
                update(p)
            return bytes(res)

        for c in password:
            update(c)
        crc = zlib.crc32(data)
        body = encrypt(bytes(range(7, 18)) + bytes([crc >> 24])) + encrypt(data)
        fname = name.encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 0, 0, 0, crc, len(body),
                              len(data), len(fname), 0) + fname + body)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 1, 0, 0, 0, crc,
                                   len(body), len(data), len(fname), 0, 0, 0, 0, 0, offset)
                       + fname)
    cd_start = out.tell()
    for c in central:
        out.write(c)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - cd_start, cd_start, 0))
    return out.getvalue()


def test_zip_with_an_encrypted_member(server):
    csv = b"id,v\n1,a\n2,b\n"
    body = zipcrypto_zip([("secret/payroll.csv", csv)], b"hunter2")
    with zipfile.ZipFile(io.BytesIO(body)) as z:           # a well-formed encrypted zip
        assert z.read("secret/payroll.csv", pwd=b"hunter2") == csv
    text = rejected(server, body, "locked_bundle.zip", 400, "invalid_argument")
    assert "encrypted" in text and "payroll.csv" in text and "locked_bundle.zip" in text, text


def test_corrupt_archives(server):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.csv", "id,v\n" + "".join(f"{i},x{i}\n" for i in range(500)))
    good = buf.getvalue()
    for body, fname in ((good[:70] + b"garbage" * 30, "corrupt_zip.zip"),
                        (good[:len(good) // 2], "half_zip.zip")):
        text = rejected(server, body, fname, 400, "invalid_argument")
        assert fname in text, text
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w:gz") as t:
        data = ("id,v\n" + "".join(f"{i},{i * 7919 % 1000}\n" for i in range(5000))).encode()
        info = tarfile.TarInfo("big.csv")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    tgz = tbuf.getvalue()
    text = rejected(server, tgz[:len(tgz) // 2], "half_tar.tar.gz", 400, "invalid_argument")
    assert "half_tar.tar.gz" in text, text


def test_bad_member_is_named(server):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ok.json", '[{"a": 1}]')
        z.writestr("data/bad.json", '[{"a": 1}, {"a": ]')
    text = rejected(server, buf.getvalue(), "json_bundle.zip", 400, "invalid_argument")
    assert "data/bad.json" in text and byte_of(text) == '[{"a": 1}, {"a": ]'.index("]"), text


def test_nested_archive(server):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("x.csv", "a,b\n1,2\n")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr("plain.csv", "a,b\n3,4\n")
        z.writestr("inner/more.zip", inner.getvalue())
    text = rejected(server, outer.getvalue(), "nest_zip.zip", None)
    assert "inner/more.zip" in text and "archive" in text, text
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w:gz") as t:
        info = tarfile.TarInfo("deep.zip")
        info.size = len(inner.getvalue())
        t.addfile(info, io.BytesIO(inner.getvalue()))
    text = rejected(server, tbuf.getvalue(), "nest_tar.tar.gz", None)
    assert "deep.zip" in text, text


# ---- scratch files are gone by the time the answer arrives -------------------------------

def test_scratch_gone_before_answer(server):
    """A refusal decided from the query arguments (bad on_schema_change, no name) must also
    remove the upload before answering: a client that lists DATA/tmp/work right after the
    answer finds nothing. The window of a late removal is small, hence the repeats; a server
    that removes the file before it answers can never fail this."""
    for i in range(300):
        r = server.post("/ingest/file", params={"on_schema_change": "bogus"},
                        files={"file": (f"early_{i}.csv", b"a,b\n1,2\n" * 2000, "text/csv")})
        assert_error(r, 400, "invalid_argument")
        assert server.work_leftovers() == [], f"attempt {i}: {server.work_leftovers()}"
        r = server.post("/ingest/file", data=b"a,b\n1,2\n" * 2000,
                        headers={"Content-Type": "text/csv"})
        assert_error(r, 400, "invalid_argument")
        assert server.work_leftovers() == [], f"attempt {i} (no name): {server.work_leftovers()}"
