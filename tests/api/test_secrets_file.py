"""server.secrets_file: bucket credentials from a file named in the configuration instead of
<data>/secrets.toml. The same rule holds: mode 0600 or stricter, or the server refuses to
start naming the file; credentials show as "***" and never leak."""

import os
import subprocess

import pytest

from conftest import _clean_env, lakehouse_bin

SECRET = "named-file-s3cr3t-never-shown"


def write_secrets(path, mode):
    with open(path, "w") as f:
        f.write(f'[buckets.primary]\naccess_key = "AKIA-named"\nsecret_key = "{SECRET}"\n')
    os.chmod(path, mode)
    return path


def serve_with(tmp_path, secrets_path):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    cfg = tmp_path / "lakehouse.toml"
    cfg.write_text(f'[server]\ndata_dir = "{data}"\nlisten = "127.0.0.1:0"\n'
                   f'secrets_file = "{secrets_path}"\n')
    return subprocess.run([lakehouse_bin(), "serve", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=60, env=_clean_env({}))


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_loose_named_secrets_file_refuses_to_start(tmp_path, mode):
    path = write_secrets(str(tmp_path / "creds.toml"), mode)
    r = serve_with(tmp_path, path)
    assert r.returncode != 0
    out = r.stderr + r.stdout
    assert path in out and f"{mode:04o}" in out and "chmod 600" in out, out
    assert SECRET not in out and "AKIA-named" not in out


def test_missing_named_secrets_file_refuses_to_start(tmp_path):
    path = str(tmp_path / "nowhere.toml")
    r = serve_with(tmp_path, path)
    assert r.returncode != 0
    assert path in r.stderr + r.stdout


def test_named_secrets_file_is_used_and_masked(make_server, tmp_path):
    path = write_secrets(str(tmp_path / "creds.toml"), 0o600)
    # A loose default file in the data dir is not read when another file is named.
    data = tmp_path / "data"
    data.mkdir()
    write_secrets(str(data / "secrets.toml"), 0o644)
    s = make_server(data_dir=str(data), config=f'[server]\nsecrets_file = "{path}"\n')
    r = s.get("/storage/buckets")
    assert r.status_code == 200
    prim = {b["name"]: b for b in r.json()}["primary"]
    assert prim["credentials"] == {"access_key": "***", "secret_key": "***"}
    assert SECRET not in r.text and "AKIA-named" not in r.text
    s.stop()
    assert SECRET not in s.log_text()


def test_relative_secrets_file_is_under_the_data_dir(make_server, tmp_path):
    data = tmp_path / "data"
    (data / "conf").mkdir(parents=True)
    write_secrets(str(data / "conf" / "creds.toml"), 0o600)
    s = make_server(data_dir=str(data), config='[server]\nsecrets_file = "conf/creds.toml"\n')
    prim = {b["name"]: b for b in s.get("/storage/buckets").json()}["primary"]
    assert prim["credentials"] == {"access_key": "***", "secret_key": "***"}
