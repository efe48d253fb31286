"""Rescue bucket (issue 4, item 7): writes to a data bucket are copied to the rescue bucket at
<rescue>/<bucket>/<key>; a read that fails in its bucket (root removed or replaced by a file
mid-run, object lost) is answered from the copy with X-Lakehouse-Rescue-Used: true and the
failure is journaled. The server runs as root, which ignores chmod 000, so the failure is
simulated by taking the root away rather than by permissions."""
import os
import shutil
import tempfile

import pytest

from conftest import assert_error

RESCUE_HEADER = "X-Lakehouse-Rescue-Used"


def far_dir(prefix):
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    return tempfile.mkdtemp(prefix=prefix, dir=base)


@pytest.fixture
def roots():
    dirs = [far_dir("lh-rescue-") for _ in range(2)]
    yield dirs
    for d in dirs:
        if os.path.isdir(d):
            shutil.rmtree(d, ignore_errors=True)
        elif os.path.exists(d):
            os.unlink(d)


@pytest.fixture
def lake(make_server, roots):
    cfg = (f'[buckets.archive]\nroot = "{roots[0]}"\n'
           f'[buckets.safe]\nroot = "{roots[1]}"\nrole = "rescue"\n')
    return make_server(config=cfg)


def journal(s):
    r = s.get("/storage/errors", params={"limit": 50})
    assert r.status_code == 200, r.text
    return r.json()


def test_write_is_copied_to_rescue(lake, roots):
    r = lake.put("/storage/buckets/archive/objects/docs/a.txt", data=b"alpha")
    assert r.status_code == 201 and r.json()["rescued"] is True, r.text
    with open(os.path.join(roots[1], "archive", "docs", "a.txt"), "rb") as f:
        assert f.read() == b"alpha"
    # primary too, through the header-less route
    assert lake.put("/storage/objects/p.txt", data=b"p").json()["rescued"] is True
    assert os.path.exists(os.path.join(roots[1], "primary", "p.txt"))
    # an overwrite refreshes the copy
    lake.put("/storage/buckets/archive/objects/docs/a.txt", data=b"alpha2")
    with open(os.path.join(roots[1], "archive", "docs", "a.txt"), "rb") as f:
        assert f.read() == b"alpha2"


@pytest.mark.parametrize("how", ["removed", "replaced_by_file"])
def test_read_falls_back_when_the_root_goes_away(lake, roots, how):
    assert lake.put("/storage/buckets/archive/objects/docs/a.txt", data=b"precious").status_code == 201
    r = lake.get("/storage/buckets/archive/objects/docs/a.txt")
    assert r.status_code == 200 and RESCUE_HEADER not in r.headers
    shutil.rmtree(roots[0])  # the bucket fails mid-run
    if how == "replaced_by_file":
        with open(roots[0], "w") as f:
            f.write("not a directory")
    r = lake.get("/storage/buckets/archive/objects/docs/a.txt")
    assert r.status_code == 200, r.text
    assert r.content == b"precious"
    assert r.headers.get(RESCUE_HEADER) == "true"
    # the header route falls back the same way
    r = lake.get("/storage/objects/docs/a.txt", headers={"X-Lakehouse-Bucket": "archive"})
    assert r.status_code == 200 and r.headers.get(RESCUE_HEADER) == "true"
    errs = journal(lake)
    hit = [e for e in errs if e["bucket"] == "archive" and e["op"] == "read"]
    assert hit and hit[0]["key"] == "docs/a.txt" and hit[0]["error"]
    # without a copy the read is a 503 (the bucket failed), still journaled
    assert_error(lake.get("/storage/buckets/archive/objects/never"), 503)
    assert journal(lake)[0]["key"] == "never"
    # and a write to the broken bucket is a 503 too
    assert_error(lake.put("/storage/buckets/archive/objects/new", data=b"x"), 503)


def test_lost_object_is_served_from_rescue(lake, roots):
    lake.put("/storage/buckets/archive/objects/x/y.bin", data=b"\x00\x01\x02")
    os.unlink(os.path.join(roots[0], "x", "y.bin"))  # lost behind the server's back
    r = lake.get("/storage/buckets/archive/objects/x/y.bin")
    assert r.status_code == 200 and r.content == b"\x00\x01\x02"
    assert r.headers.get(RESCUE_HEADER) == "true"
    assert journal(lake)[0]["op"] == "read"


def test_delete_removes_the_copy(lake, roots):
    lake.put("/storage/buckets/archive/objects/gone.txt", data=b"bye")
    assert lake.delete("/storage/buckets/archive/objects/gone.txt").status_code == 200
    assert not os.path.exists(os.path.join(roots[1], "archive", "gone.txt"))
    assert_error(lake.get("/storage/buckets/archive/objects/gone.txt"), 404, "not_found")
    assert journal(lake) == []


def test_no_rescue_bucket_means_no_copy(make_server):
    s = make_server()
    r = s.put("/storage/buckets/primary/objects/a.txt", data=b"a")
    assert r.status_code == 201 and r.json()["rescued"] is False
    assert "rescued" not in s.put("/storage/objects/b.txt", data=b"b").json()
    shutil.rmtree(s.path("buckets", "primary"))
    assert_error(s.get("/storage/objects/a.txt"), 503)
    os.makedirs(s.path("buckets", "primary"))
