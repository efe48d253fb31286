"""POST /ingest/file: content-hash dedup (the same bytes are never stored twice), PII
detection per column (positives flagged, look-alike negatives not), and the lineage each
commit records (upload vs cli, file name, sha256 of the bytes, job id, actor)."""

import hashlib
import os
import random
import subprocess

from conftest import SLOW, _clean_env, csv_text, lakehouse_bin

FIXTURES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "fixtures"))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def created(resp):
    assert resp.status_code == 201, f"{resp.status_code} {resp.text[:2000]}"
    assert resp.json()["duplicate"] is False, resp.text
    return resp.json()


def state(server, name):
    """What must not move when a duplicate arrives: version, rows, files, objects."""
    d = server.dataset(name)
    r = server.get("/storage/objects", params={"prefix": f"datasets/{name}/"})
    assert r.status_code == 200, r.text
    objects = sorted(o["key"] for o in r.json()["objects"])
    return (d["version"], d["row_count"], d["files"], len(d["history"]),
            sorted(f["path"] for f in d["data_files"]), objects)


# ---- dedup -------------------------------------------------------------------------------

def test_same_content_twice_is_a_duplicate(server):
    body = csv_text(["id", "city"], [[i, f"c{i}"] for i in range(40)]).encode()
    first = created(server.ingest(body, filename="dedup_a.csv"))
    assert first["content_hash"] == sha256(body)
    before = state(server, "dedup_a")
    datasets = server.datasets()

    r = server.ingest(body, filename="dedup_a.csv")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["duplicate"] is True and doc["dataset"] == "dedup_a"
    assert doc["content_hash"] == sha256(body) and doc.get("created") is False
    assert state(server, "dedup_a") == before
    assert server.scalar("SELECT count(*) FROM dedup_a") == 40

    # Under another file name and another dataset name: still the same content.
    r = server.ingest(body, filename="renamed_copy.csv", name="dedup_other")
    assert r.status_code == 200 and r.json()["duplicate"] is True, r.text
    assert r.json()["dataset"] == "dedup_a"
    # Raw body too.
    r = server.post("/ingest/file", data=body, params={"name": "dedup_raw"},
                    headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["duplicate"] is True, r.text
    assert r.json()["dataset"] == "dedup_a"
    assert server.datasets() == datasets                  # nothing new registered
    assert state(server, "dedup_a") == before
    assert server.get("/catalog/datasets/by-name/dedup_other").status_code == 404
    assert server.work_leftovers() == []


def test_appended_content_is_remembered(server):
    a = csv_text(["id", "v"], [[1, "x"], [2, "y"]]).encode()
    b = csv_text(["id", "v"], [[3, "z"]]).encode()
    created(server.ingest(a, filename="dedup_app.csv"))
    second = created(server.ingest(b, filename="dedup_app.csv"))
    assert second["version"] == 1
    before = state(server, "dedup_app")
    for body in (a, b):
        r = server.ingest(body, filename="dedup_app.csv")
        assert r.status_code == 200 and r.json()["duplicate"] is True, r.text
        assert r.json()["dataset"] == "dedup_app"
    assert state(server, "dedup_app") == before
    # One byte more is new content.
    created(server.ingest(b + b"4,w\n", filename="dedup_app.csv"))
    assert server.scalar("SELECT count(*) FROM dedup_app") == 5


def test_refused_content_is_not_remembered(server):
    """A 409 stores nothing, so the same bytes are not a 'duplicate' afterwards."""
    created(server.ingest(csv_text(["id", "v"], [[1, "x"]]), filename="dedup_drift.csv"))
    wider = csv_text(["id", "v", "extra"], [[2, "y", "e"]]).encode()
    assert server.ingest(wider, filename="dedup_drift.csv").status_code == 409
    r = server.post("/ingest/file", files={"file": ("dedup_drift.csv", wider, "text/csv")},
                    params={"on_schema_change": "add_columns"})
    doc = created(r)
    assert doc["version"] == 1 and doc["content_hash"] == sha256(wider)


def test_duplicate_pdf(server):
    with open(os.path.join(FIXTURES, "pdf", "resume.pdf"), "rb") as f:
        pdf = f.read()
    created(server.ingest(pdf, filename="dedup_cv.pdf", content_type="application/pdf"))
    r = server.ingest(pdf, filename="another_cv.pdf", content_type="application/pdf")
    assert r.status_code == 200 and r.json()["duplicate"] is True, r.text
    assert r.json()["dataset"] == "dedup_cv"
    assert server.get("/catalog/datasets/by-name/another_cv").status_code == 404


# ---- PII ---------------------------------------------------------------------------------

POSITIVES = {"email": "email", "phone": "phone", "ssn": "ssn", "salary": "salary",
             "street_address": "street_address", "diagnosis": "medical"}
NEGATIVES = ["candidate_id", "zip", "status", "order_number", "score", "applied_on",
             "phone_verified", "email_opt_in"]


def pii_csv(seed=7, n=80):
    """Realistic staffing records; negatives that look like positives: 9-digit ids (not
    SSNs), 5-digit zips and 10-digit order numbers (not phones), small integers (not pay)."""
    r = random.Random(seed)
    first = ["Maria", "James", "Wei", "Aisha", "Carlos", "Olga", "Tom", "Priya", "Kenji"]
    last = ["Garcia", "Smith", "Chen", "Khan", "Lopez", "Ivanova", "Brown", "Patel", "Sato"]
    streets = ["Oak St", "Maple Ave", "Pine Rd", "Cedar Ln", "Elm Blvd", "Lake Dr"]
    places = [("Austin", "TX", "78701"), ("Denver", "CO", "80202"), ("Madison", "WI", "53703"),
              ("Portland", "OR", "97205")]
    diagnoses = ["Type 2 diabetes mellitus", "Essential hypertension", "Asthma",
                 "Major depressive disorder", "Migraine without aura", "Hypothyroidism"]
    statuses = ["active", "on hold", "hired", "rejected", "interviewing"]
    header = ["candidate_id", "email", "phone", "ssn", "salary", "street_address", "diagnosis",
              "zip", "status", "order_number", "score", "applied_on", "phone_verified",
              "email_opt_in"]
    out = [",".join(header)]
    for i in range(n):
        f, l = r.choice(first), r.choice(last)
        city, st, zp = r.choice(places)
        out.append(",".join([
            str(100000000 + i * 7919),
            f"{f.lower()}.{l.lower()}{i}@example.com",
            f"({r.randint(201, 989)}) {r.randint(200, 989)}-{r.randint(1000, 9999)}",
            f"{r.randint(100, 665):03d}-{r.randint(10, 99):02d}-{r.randint(1000, 9999):04d}",
            str(r.randint(40, 190) * 1000),
            f'"{r.randint(10, 9999)} {r.choice(streets)}, {city}, {st} {zp}"',
            f'"{r.choice(diagnoses)}"',
            zp,
            r.choice(statuses),
            str(4000000000 + r.randint(0, 999999999)),
            str(r.randint(1, 100)),
            f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            r.choice(["true", "false"]),
            r.choice(["yes", "no"]),
        ]))
    return "\n".join(out) + "\n"


def test_pii_flags_exactly_the_positives(server):
    doc = created(server.ingest(pii_csv(), filename="pii_candidates.csv"))
    assert doc["pii"] == POSITIVES, doc["pii"]
    by_name = {c["name"]: c for c in doc["columns"]}
    for col, kind in POSITIVES.items():
        assert by_name[col].get("pii") == kind and by_name[col].get("sensitive") is True, \
            by_name[col]
    for col in NEGATIVES:
        assert by_name[col].get("pii") is None and not by_name[col].get("sensitive"), \
            by_name[col]
    # The catalog keeps the same flags, for every column.
    for view in (server.dataset("pii_candidates"),
                 next(d for d in server.datasets() if d["name"] == "pii_candidates")):
        cat = {c["name"]: c for c in view["columns"]}
        assert set(cat) == set(POSITIVES) | set(NEGATIVES)
        for col in cat:
            assert cat[col]["pii"] == POSITIVES.get(col), cat[col]
            assert cat[col]["sensitive"] is (col in POSITIVES), cat[col]


def test_pii_nothing_in_business_data(server):
    text = csv_text(["sku", "product", "qty", "unit_price", "warehouse_zip", "batch_code"],
                    [[f"SKU-{1000 + i}", f"Widget {i}", i % 7 + 1, f"{9 + i % 5}.99",
                      f"{10000 + i * 37}", 100000000 + i * 31] for i in range(50)])
    doc = created(server.ingest(text, filename="pii_inventory.csv"))
    assert doc["pii"] == {}
    assert not any(c["sensitive"] for c in server.dataset("pii_inventory")["columns"])


# ---- lineage -----------------------------------------------------------------------------

def test_upload_lineage(server):
    one = csv_text(["id", "amount"], [[1, 2.5], [2, 3.5]]).encode()
    two = csv_text(["id", "amount"], [[3, 4.5]]).encode()
    a = created(server.ingest(one, filename="lineage_jan.csv", name="lineage"))
    r = server.post("/ingest/file", data=two, params={"name": "lineage", "actor": "ana",
                                                      "filename": "lineage_feb.csv"},
                    headers={"Content-Type": "text/csv"})
    b = created(r)
    hist = server.dataset("lineage")["history"]
    assert [h["version"] for h in hist] == [0, 1]
    for h, doc, body, fname in ((hist[0], a, one, "lineage_jan.csv"),
                                (hist[1], b, two, "lineage_feb.csv")):
        assert h["source"] == "upload" and h["file_name"] == fname
        assert h["content_hash"] == sha256(body) == doc["content_hash"]
        assert h["job_id"] and h["job_id"] == doc["job_id"]
        assert h["rows_added"] == doc["rows"] and h["timestamp"]
    assert a["job_id"] != b["job_id"]
    assert hist[0]["actor"] is None and hist[1]["actor"] == "ana"


def run_cli(*args, timeout=120):
    r = subprocess.run([lakehouse_bin(), *args], capture_output=True, text=True,
                       timeout=timeout * SLOW, env=_clean_env({"OMP_THREAD_LIMIT": "1"}),
                       stdin=subprocess.DEVNULL)
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in r.stderr, r.stderr
    return r


def test_cli_lineage(make_server, tmp_path):
    data = tmp_path / "lake"
    src = tmp_path / "cli_orders.csv"
    body = csv_text(["id", "total"], [[i, i * 1.5] for i in range(10)]).encode()
    src.write_bytes(body)
    r = run_cli("ingest", str(src), "--data", str(data))
    assert r.returncode == 0, r.stderr
    s = make_server(data_dir=str(data))
    hist = s.dataset("cli_orders")["history"]
    assert len(hist) == 1
    h = hist[0]
    assert h["source"] == "cli" and h["file_name"] == "cli_orders.csv"
    assert h["content_hash"] == sha256(body) and h["job_id"] and h["rows_added"] == 10
    # An upload of the same bytes finds the CLI's copy.
    r = s.ingest(body, filename="cli_orders_again.csv")
    assert r.status_code == 200 and r.json()["duplicate"] is True, r.text
    assert r.json()["dataset"] == "cli_orders"
