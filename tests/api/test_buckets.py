"""Several buckets: a server whose configuration declares a second bucket ("archive", on
another filesystem where /dev/shm exists). Ingest picks the bucket with the
X-Lakehouse-Bucket header and the files land under that bucket's root; one SQL query joins
datasets of different buckets; a restart finds them again; an unknown bucket is a 400 that
stores nothing; the object API takes the same header; --print-config and the environment
show and set the buckets; `lakehouse ingest --bucket` works embedded and with --url."""
import glob
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import assert_error, csv_text, error_text, lakehouse_bin, _clean_env

HEADER = "X-Lakehouse-Bucket"
TIMEOUT = 180 if os.environ.get("LAKEHOUSE_SANITIZED") == "1" else 60


def far_dir(prefix):
    """A fresh directory outside any data dir, on tmpfs when there is one."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    return tempfile.mkdtemp(prefix=prefix, dir=base)


def bucket_config(root):
    return f'[buckets.archive]\nroot = "{root}"\n'


@pytest.fixture(scope="module")
def archive_root():
    d = far_dir("lh-api-archive-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def lake(module_factory, archive_root):
    return module_factory(config=bucket_config(archive_root))


def ingest(server, content, name, bucket=None, raw=False):
    headers = {HEADER: bucket} if bucket is not None else {}
    if raw:
        return server.post("/ingest/file", params={"name": name}, data=content.encode(),
                           headers={**headers, "Content-Type": "text/csv"})
    files = {"file": (f"{name}.csv", content.encode(), "text/csv")}
    return server.post("/ingest/file", files=files, params={"name": name}, headers=headers)


def ingest_ok(server, content, name, bucket=None):
    r = ingest(server, content, name, bucket)
    assert r.status_code == 201, r.text
    return r.json()


def tmp_files(root):
    """Files in a bucket's own temp dir (must be none between requests)."""
    return [f for f in glob.glob(os.path.join(root, ".lakehouse-tmp", "*"))]


def test_health_lists_the_buckets(lake):
    doc = lake.get("/health").json()
    assert doc["buckets"] == ["primary", "archive"]


def test_ingest_into_the_archive_bucket(lake, archive_root):
    ingest_ok(lake, csv_text(["id", "amount"], [[1, 10], [2, 20]]), "arch_orders", "archive")
    # Data, log and manifest are under the archive root, nothing under primary.
    table = os.path.join(archive_root, "datasets", "arch_orders")
    assert glob.glob(os.path.join(table, "part-*.parquet"))
    assert os.path.isfile(os.path.join(table, "_delta_log", "00000000000000000000.json"))
    assert os.path.isfile(os.path.join(archive_root, "_catalog", "datasets", "arch_orders.json"))
    assert not os.path.exists(lake.path("buckets", "primary", "datasets", "arch_orders"))
    d = lake.dataset("arch_orders")
    assert d["bucket"] == "archive"
    assert d["row_count"] == 2
    assert tmp_files(archive_root) == []
    assert lake.work_leftovers() == []


def test_query_joins_datasets_of_two_buckets(lake):
    ingest_ok(lake, csv_text(["id", "name"], [[1, "ada"], [2, "bob"], [3, "cy"]]), "j_people")
    ingest_ok(lake, csv_text(["person_id", "amount"], [[1, 5], [1, 7], [3, 2]]), "j_sales",
              "archive")
    assert lake.dataset("j_people")["bucket"] == "primary"
    assert lake.dataset("j_sales")["bucket"] == "archive"
    doc = lake.sql_ok("SELECT p.name, sum(s.amount) AS total FROM j_people p "
                      "JOIN j_sales s ON s.person_id = p.id GROUP BY p.name ORDER BY p.name")
    assert doc["rows"] == [["ada", 12], ["cy", 2]]


def test_unknown_bucket_is_refused_and_stores_nothing(lake, archive_root):
    before = sorted(os.listdir(archive_root))
    for raw in (False, True):
        r = ingest(lake, "a,b\n1,2\n", "never_here", "nope", raw=raw)
        err = assert_error(r, 400, "invalid_argument")
        assert err["message"] == "unknown bucket 'nope': known buckets are primary, archive"
    r = ingest(lake, "a,b\n1,2\n", "never_here", "../../etc\tx")
    err = assert_error(r, 400, "invalid_argument")
    assert "known buckets are primary, archive" in err["message"]
    assert "etc" not in err["message"]
    assert lake.get("/catalog/datasets/by-name/never_here").status_code == 404
    assert not os.path.exists(lake.path("buckets", "primary", "datasets", "never_here"))
    assert sorted(os.listdir(archive_root)) == before
    assert lake.work_leftovers() == []
    assert tmp_files(archive_root) == []


def test_existing_dataset_keeps_its_bucket(lake):
    ingest_ok(lake, "k,v\n1,a\n", "stay_put", "archive")
    # Without the header an append goes where the dataset lives.
    doc = ingest_ok(lake, "k,v\n2,b\n", "stay_put")
    assert doc["version"] == 1
    r = ingest(lake, "k,v\n3,c\n", "stay_put", "primary")
    err = assert_error(r, 409, "conflict")
    assert "dataset 'stay_put' lives in bucket 'archive'" in err["message"]
    d = lake.dataset("stay_put")
    assert (d["bucket"], d["version"], d["row_count"]) == ("archive", 1, 2)
    assert lake.work_leftovers() == []


def test_object_api_takes_the_bucket_header(lake, archive_root):
    h = {HEADER: "archive"}
    r = lake.put("/storage/objects/docs/readme.txt", data=b"in the archive", headers=h)
    assert r.status_code == 201, r.text
    with open(os.path.join(archive_root, "docs", "readme.txt"), "rb") as f:
        assert f.read() == b"in the archive"
    r = lake.get("/storage/objects/docs/readme.txt", headers=h)
    assert r.status_code == 200 and r.content == b"in the archive"
    # The same key in primary is another object.
    assert_error(lake.get("/storage/objects/docs/readme.txt"), 404, "not_found")
    listed = lake.get("/storage/objects", params={"prefix": ""}, headers=h).json()
    keys = [o["key"] for o in listed["objects"]]
    assert "docs/readme.txt" in keys
    assert not any(k.startswith(".lakehouse-tmp") for k in keys)
    primary_keys = [o["key"] for o in lake.get("/storage/objects").json()["objects"]]
    assert "docs/readme.txt" not in primary_keys
    # The catalog's keys are read-only in every bucket; its temp dir is not a key at all.
    assert_error(lake.put("/storage/objects/datasets/x/y.parquet", data=b"x", headers=h), 403,
                 "forbidden")
    assert_error(lake.put("/storage/objects/.lakehouse-tmp/x", data=b"x", headers=h), 400,
                 "invalid_argument")
    r = lake.delete("/storage/objects/docs/readme.txt", headers=h)
    assert r.status_code == 200, r.text
    assert not os.path.exists(os.path.join(archive_root, "docs"))
    # Unknown bucket: 400 for every verb, nothing written.
    bad = {HEADER: "nope"}
    for resp in (lake.put("/storage/objects/z.txt", data=b"z", headers=bad),
                 lake.get("/storage/objects/z.txt", headers=bad),
                 lake.delete("/storage/objects/z.txt", headers=bad),
                 lake.get("/storage/objects", headers=bad)):
        err = assert_error(resp, 400, "invalid_argument")
        assert "unknown bucket 'nope'" in err["message"]
    assert not os.path.exists(os.path.join(archive_root, "z.txt"))
    assert not os.path.exists(lake.path("buckets", "primary", "z.txt"))
    assert tmp_files(archive_root) == []


def test_restart_keeps_datasets_in_their_buckets(make_server):
    root = far_dir("lh-api-restart-")
    try:
        s = make_server(config=bucket_config(root))
        ingest_ok(s, "id,x\n1,a\n2,b\n", "r_arch", "archive")
        ingest_ok(s, "id,y\n1,c\n", "r_prim")
        s.restart()
        assert s.get("/health").json()["buckets"] == ["primary", "archive"]
        assert s.dataset("r_arch")["bucket"] == "archive"
        assert s.dataset("r_prim")["bucket"] == "primary"
        doc = s.sql_ok("SELECT a.x, p.y FROM r_arch a JOIN r_prim p USING (id)")
        assert doc["rows"] == [["a", "c"]]
        doc = ingest_ok(s, "id,x\n3,z\n", "r_arch")
        assert doc["version"] == 1
        assert len(glob.glob(os.path.join(root, "datasets", "r_arch", "part-*.parquet"))) == 2
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_buckets_from_the_environment(make_server):
    s = make_server(env={"LAKEHOUSE_BUCKETS": "cold=cold-store, warm=warm"})
    assert s.get("/health").json()["buckets"] == ["primary", "cold", "warm"]
    ingest_ok(s, "a\n1\n", "in_cold", "cold")
    # Relative roots are relative to the data dir.
    assert glob.glob(s.path("cold-store", "datasets", "in_cold", "part-*.parquet"))


def run_cli(*args, cwd, env=None):
    r = subprocess.run([lakehouse_bin(), *args], capture_output=True, text=True,
                       timeout=TIMEOUT, cwd=cwd, env=_clean_env(env))
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in r.stderr, r.stderr
    return r


def test_print_config_shows_the_buckets(tmp_path):
    cfg = tmp_path / "lakehouse.toml"
    cfg.write_text('[buckets.archive]\nroot = "/srv/lake-archive"\n'
                   '[buckets.primary]\nroot = "/srv/lake"\n')
    r = run_cli("serve", "--config", str(cfg), "--print-config", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["buckets"] == {"primary": {"root": "/srv/lake"},
                              "archive": {"root": "/srv/lake-archive"}}
    assert list(doc["buckets"]) == ["primary", "archive"]
    r = run_cli("serve", "--print-config", cwd=str(tmp_path),
                env={"LAKEHOUSE_BUCKETS": "x=/x"})
    assert json.loads(r.stdout)["buckets"] == {"primary": {"root": "buckets/primary"},
                                               "x": {"root": "/x"}}
    cfg.write_text('[buckets.archive]\nroot = "/a"\npath = "/b"\n')
    r = run_cli("serve", "--config", str(cfg), "--print-config", cwd=str(tmp_path))
    assert r.returncode != 0
    assert "unknown config key 'buckets.archive.path'" in r.stderr


def test_overlapping_roots_are_a_clear_error(tmp_path):
    data = tmp_path / "data"
    cfg = tmp_path / "lakehouse.toml"
    cfg.write_text(f'[buckets.inner]\nroot = "{data}/buckets/primary/inner"\n')
    src = tmp_path / "x.csv"
    src.write_text("a\n1\n")
    r = run_cli("ingest", str(src), "--data", str(data), "--config", str(cfg),
                cwd=str(tmp_path))
    assert r.returncode != 0
    assert "overlaps bucket 'primary'" in r.stderr


def test_cli_ingest_bucket_embedded_and_remote(tmp_path, make_server):
    root = far_dir("lh-api-cli-")
    try:
        cfg = tmp_path / "lakehouse.toml"
        cfg.write_text(bucket_config(root))
        src = tmp_path / "cli_rows.csv"
        src.write_text("id,v\n1,a\n2,b\n")
        data = tmp_path / "data"
        r = run_cli("ingest", str(src), "--data", str(data), "--config", str(cfg),
                    "--bucket", "archive", "--json", cwd=str(tmp_path))
        assert r.returncode == 0, r.stderr
        assert glob.glob(os.path.join(root, "datasets", "cli_rows", "part-*.parquet"))
        r = run_cli("ingest", str(src), "--data", str(data), "--config", str(cfg),
                    "--bucket", "nope", "--name", "other", cwd=str(tmp_path))
        assert r.returncode != 0
        assert "unknown bucket 'nope': known buckets are primary, archive" in r.stderr
        assert not os.path.exists(os.path.join(root, "datasets", "other"))

        s = make_server(data_dir=str(data), config=bucket_config(root))
        assert s.dataset("cli_rows")["bucket"] == "archive"
        src = tmp_path / "remote.csv"  # new content: the same bytes would be a duplicate
        src.write_text("id,v\n3,c\n")
        r = run_cli("ingest", str(src), "--url", s.base, "--name", "remote_rows",
                    "--bucket", "archive", cwd=str(tmp_path))
        assert r.returncode == 0, r.stderr
        assert s.dataset("remote_rows")["bucket"] == "archive"
        r = run_cli("ingest", str(src), "--url", s.base, "--name", "remote2",
                    "--bucket", "nope", cwd=str(tmp_path))
        assert r.returncode != 0
        assert "unknown bucket 'nope'" in r.stderr
        assert s.get("/catalog/datasets/by-name/remote2").status_code == 404
    finally:
        shutil.rmtree(root, ignore_errors=True)
