"""The object API and the catalog share the primary bucket. A client of /storage/objects must
not be able to break a registered dataset: its data files, its Delta log and its manifest are
the catalog's, so writes or deletes there are refused (400/403) and the dataset keeps
answering."""

import pytest

from conftest import assert_error, csv_text


@pytest.fixture
def ds(make_server):
    s = make_server()
    s.ingest_ok(csv_text(["a", "b"], [[1, "x"], [2, "y"], [3, "z"]]), filename="guarded.csv")
    return s


def _refused(r):
    assert r.status_code in (400, 403), (
        f"the object API changed catalog-owned state: {r.status_code} {r.text[:300]}")
    assert_error(r, r.status_code)


def _intact(s):
    assert s.scalar("SELECT count(*) FROM guarded") == 3
    d = s.dataset("guarded")
    assert d["row_count"] == 3 and d["version"] == 0


def test_cannot_delete_a_data_file(ds):
    key = ds.parquet_object_of("guarded")[0]
    _refused(ds.delete(f"/storage/objects/{key}"))
    _intact(ds)


def test_cannot_overwrite_a_data_file(ds):
    key = ds.parquet_object_of("guarded")[0]
    _refused(ds.put(f"/storage/objects/{key}", data=b"not parquet any more"))
    _intact(ds)


def test_cannot_forge_a_delta_commit(ds):
    _refused(ds.put("/storage/objects/datasets/guarded/_delta_log/00000000000000000001.json",
                    data=b'{"commitInfo":{}}\n'))
    _refused(ds.delete("/storage/objects/datasets/guarded/_delta_log/00000000000000000000.json"))
    _intact(ds)
    ds.restart()
    _intact(ds)


def test_cannot_overwrite_the_manifest(ds):
    _refused(ds.put("/storage/objects/_catalog/datasets/guarded.json", data=b"garbage"))
    _refused(ds.delete("/storage/objects/_catalog/datasets/guarded.json"))
    _intact(ds)
    ds.restart()
    _intact(ds)
