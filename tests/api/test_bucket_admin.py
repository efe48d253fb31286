"""Bucket administration (issue 4, item 7): roles in the configuration, GET/POST/DELETE
/storage/buckets (run-time buckets survive a restart through <data>/_buckets.json),
per-bucket object routes, bucket-health probes and the error journal."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import assert_error, lakehouse_bin


def far_dir(prefix):
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    return tempfile.mkdtemp(prefix=prefix, dir=base)


@pytest.fixture
def roots():
    dirs = [far_dir("lh-adm-") for _ in range(3)]
    yield dirs
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def config(archive, rescue):
    return (f'[buckets.archive]\nroot = "{archive}"\n'
            f'[buckets.safe]\nroot = "{rescue}"\nrole = "rescue"\n')


def by_name(doc):
    return {b["name"]: b for b in doc}


def test_list_shows_roles_and_health(make_server, roots):
    s = make_server(config=config(roots[0], roots[1]))
    r = s.get("/storage/buckets")
    assert r.status_code == 200, r.text
    b = by_name(r.json())
    assert b["primary"]["role"] == "data" and b["primary"]["healthy"] is True
    assert b["archive"]["role"] == "data" and b["archive"]["root"] == os.path.realpath(roots[0])
    assert b["safe"]["role"] == "rescue"


def test_provision_persists_and_delete_forgets(make_server, roots):
    s = make_server(config=config(roots[0], roots[1]))
    newroot = os.path.join(roots[2], "deep", "cold")
    r = s.post("/storage/buckets", json={"name": "cold", "root": newroot})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "cold" and r.json()["role"] == "data"
    assert os.path.isdir(newroot)
    with open(s.path("_buckets.json")) as f:
        assert json.load(f)["buckets"][0]["name"] == "cold"
    assert s.put("/storage/buckets/cold/objects/a/b.txt", data=b"cold bytes").status_code == 201
    # same name twice, a second rescue bucket, bad input
    assert_error(s.post("/storage/buckets", json={"name": "cold", "root": newroot}), 409, "conflict")
    assert_error(s.post("/storage/buckets", json={"name": "r2", "role": "rescue"}), 409, "conflict")
    assert_error(s.post("/storage/buckets", json={"name": "Bad-Name"}), 400, "invalid_argument")
    assert_error(s.post("/storage/buckets", json={"name": "x", "role": "cold"}), 400)
    assert_error(s.post("/storage/buckets", json={"name": "x", "extra": 1}), 400)
    assert_error(s.post("/storage/buckets", json={"root": "/tmp"}), 400)
    assert_error(s.post("/storage/buckets", json={"name": 5}), 400)
    assert_error(s.post("/storage/buckets", json={"name": "inside", "root": newroot + "/x"}), 400)
    s.restart()
    names = by_name(s.get("/storage/buckets").json())
    assert "cold" in names
    r = s.get("/storage/buckets/cold/objects/a/b.txt")
    assert r.status_code == 200 and r.content == b"cold bytes"
    # refusals
    assert_error(s.delete("/storage/buckets/primary"), 409, "conflict")
    assert_error(s.delete("/storage/buckets/safe"), 409, "conflict")
    assert_error(s.delete("/storage/buckets/archive"), 409, "conflict")  # configured
    assert_error(s.delete("/storage/buckets/nope"), 404, "not_found")
    r = s.delete("/storage/buckets/cold")
    assert r.status_code == 200, r.text
    assert os.path.exists(os.path.join(newroot, "a", "b.txt"))  # data left on disk
    assert "cold" not in by_name(s.get("/storage/buckets").json())
    assert_error(s.get("/storage/buckets/cold/objects/a/b.txt"), 404, "not_found")
    s.restart()
    assert "cold" not in by_name(s.get("/storage/buckets").json())


def test_bucket_holding_datasets_cannot_be_deleted(make_server):
    s = make_server()
    assert s.post("/storage/buckets", json={"name": "warm"}).status_code == 201
    assert os.path.isdir(s.path("buckets", "warm"))
    files = {"file": ("t.csv", b"a,b\n1,2\n", "text/csv")}
    r = s.post("/ingest/file", files=files, params={"name": "t"},
               headers={"X-Lakehouse-Bucket": "warm"})
    assert r.status_code == 201, r.text
    assert_error(s.delete("/storage/buckets/warm"), 409, "conflict")
    # discovered under buckets/, forgotten: a restart does not bring it back
    assert s.post("/storage/buckets", json={"name": "empty"}).status_code == 201
    assert s.delete("/storage/buckets/empty").status_code == 200
    s.restart()
    assert "empty" not in by_name(s.get("/storage/buckets").json())
    assert "warm" in by_name(s.get("/storage/buckets").json())


def test_rescue_bucket_cannot_hold_datasets(make_server, roots):
    s = make_server(config=config(roots[0], roots[1]))
    files = {"file": ("t.csv", b"a,b\n1,2\n", "text/csv")}
    r = s.post("/ingest/file", files=files, params={"name": "t"},
               headers={"X-Lakehouse-Bucket": "safe"})
    assert r.status_code == 409, r.text
    assert "rescue" in r.json()["error"]["message"]
    # the engine may create the empty datasets/ directory; no file lands under it
    files = [f for _, _, fs in os.walk(os.path.join(roots[1], "datasets")) for f in fs]
    assert files == []


def test_per_bucket_objects_and_errors(make_server, roots):
    s = make_server(config=config(roots[0], roots[1]))
    r = s.put("/storage/buckets/archive/objects/k/one.bin", data=b"12345")
    assert r.status_code == 201 and r.json()["bucket"] == "archive", r.text
    assert r.json()["rescued"] is True
    assert s.get("/storage/buckets/archive/objects/k/one.bin").content == b"12345"
    # the same object through the header route
    r = s.get("/storage/objects/k/one.bin", headers={"X-Lakehouse-Bucket": "archive"})
    assert r.status_code == 200 and r.content == b"12345"
    assert "X-Lakehouse-Rescue-Used" not in r.headers
    assert_error(s.get("/storage/buckets/nope/objects/k"), 404, "not_found")
    assert_error(s.get("/storage/buckets/archive/objects/missing"), 404, "not_found")
    assert_error(s.put("/storage/buckets/nope/objects/k", data=b"x"), 503)
    assert_error(s.put("/storage/buckets/archive/objects/datasets/x", data=b"x"), 403)
    assert s.delete("/storage/buckets/archive/objects/k/one.bin").status_code == 200
    assert not os.path.exists(os.path.join(roots[1], "archive", "k", "one.bin"))
    assert_error(s.get("/storage/buckets/archive/objects/k/one.bin"), 404, "not_found")
    assert_error(s.get("/storage/errors", params={"limit": 0}), 400)
    assert_error(s.get("/storage/errors", params={"limit": "x"}), 400)
    assert s.get("/storage/errors").json() == []


def test_unreachable_bucket_write_is_503_and_journaled(make_server, roots):
    s = make_server(config=config(roots[0], roots[1]))
    shutil.rmtree(roots[0])
    with open(roots[0], "w") as f:
        f.write("not a dir")
    err = assert_error(s.put("/storage/buckets/archive/objects/k", data=b"x"), 503)
    assert "archive" in err["message"]
    h = by_name(s.get("/storage/bucket-health").json())
    assert h["archive"]["healthy"] is False and "error" in h["archive"]
    assert h["primary"]["healthy"] is True and h["primary"]["latency_ms"] >= 0
    assert by_name(s.get("/storage/buckets").json())["archive"]["healthy"] is False
    errs = s.get("/storage/errors").json()
    assert errs[0]["bucket"] == "archive" and errs[0]["op"] == "probe"
    assert any(e["op"] == "write" and e["key"] == "k" for e in errs)
    assert len(s.get("/storage/errors", params={"limit": 1}).json()) == 1
    with open(s.path("_errors", "bucket_errors.jsonl")) as f:
        lines = [json.loads(x) for x in f]
    assert {"time", "bucket", "op", "key", "error"} <= set(lines[0])
    os.unlink(roots[0])
    os.mkdir(roots[0])
    assert by_name(s.get("/storage/bucket-health").json())["archive"]["healthy"] is True


def run_config(cfg_text, tmp_path):
    cfg = tmp_path / "lakehouse.toml"
    cfg.write_text(cfg_text)
    return subprocess.run([lakehouse_bin(), "serve", "--config", str(cfg), "--print-config"],
                          capture_output=True, text=True, timeout=30)


def test_config_role_validation(tmp_path):
    r = run_config('[buckets.a]\nrole = "rescue"\n[buckets.b]\nrole = "rescue"\n', tmp_path)
    assert r.returncode != 0 and "rescue" in r.stderr
    r = run_config('[buckets.primary]\nrole = "rescue"\n', tmp_path)
    assert r.returncode != 0 and "primary" in r.stderr
    r = run_config('[buckets.a]\nrole = "hot"\n', tmp_path)
    assert r.returncode != 0 and "role" in r.stderr
    r = run_config('[buckets.a]\nrole = "rescue"\n', tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["buckets"]["a"]["role"] == "rescue"


SECRET = "s3cr3t-VALUE-never-shown"


def write_secrets(data_dir, mode):
    path = os.path.join(data_dir, "secrets.toml")
    with open(path, "w") as f:
        f.write(f'[buckets.primary]\naccess_key = "AKIA-primary"\nsecret_key = "{SECRET}"\n')
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_loose_secrets_file_refuses_to_start(tmp_path, mode):
    data = tmp_path / "data"
    data.mkdir()
    path = write_secrets(str(data), mode)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    env["LAKEHOUSE_DATA"] = str(data)
    env["LAKEHOUSE_LISTEN"] = "127.0.0.1:0"
    r = subprocess.run([lakehouse_bin(), "serve"], capture_output=True, text=True, timeout=60,
                       env=env)
    assert r.returncode != 0
    out = r.stderr + r.stdout
    assert path in out and f"{mode:04o}" in out, out
    assert SECRET not in out and "AKIA-primary" not in out


def test_secrets_are_never_shown(make_server, tmp_path):
    data = tempfile.mkdtemp(prefix="lh-secrets-")
    write_secrets(data, 0o600)
    s = make_server(data_dir=data)
    r = s.get("/storage/buckets")
    assert r.status_code == 200
    prim = by_name(r.json())["primary"]
    assert prim["credentials"] == {"access_key": "***", "secret_key": "***"}
    assert SECRET not in r.text and "AKIA-primary" not in r.text
    for path in ("/storage/bucket-health", "/storage/errors", "/health"):
        assert SECRET not in s.get(path).text
    cfg = subprocess.run([lakehouse_bin(), "serve", "--print-config"], capture_output=True,
                         text=True, timeout=30, env={**os.environ, "LAKEHOUSE_DATA": data})
    assert cfg.returncode == 0 and SECRET not in cfg.stdout + cfg.stderr
    s.stop()
    assert SECRET not in s.log_text() and "AKIA-primary" not in s.log_text()
    shutil.rmtree(data, ignore_errors=True)
