"""GET / and GET /ui/{file...}: the embedded web UI (headers, revalidation, 404s, the
LAKEHOUSE_UI_DIR override and what it refuses), the models summary in /health, and the
position of SQL errors that the UI's editor marks."""

import re

import requests

from conftest import assert_error


def test_page_and_assets_are_served_with_security_headers(server):
    r = server.get("/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Lakehouse</title>" in r.text
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # Every script and stylesheet the page names is served, with its type.
    refs = re.findall(r'(?:src|href)="(/ui/[^"]+)"', r.text)
    assert any(x.endswith(".js") for x in refs) and any(x.endswith(".css") for x in refs)
    for ref in refs:
        a = server.get(ref)
        assert a.status_code == 200, ref
        want = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}[ref.rsplit(".", 1)[1]]
        assert a.headers["Content-Type"].startswith(want), (ref, a.headers["Content-Type"])
        assert a.headers["Cache-Control"] == "no-cache"
    # No link leaves the server (works offline, no CDN).
    assert not re.search(r'(?:src|href)="(?:https?:)?//', r.text)


def test_revalidation_answers_304_without_a_body(server):
    r = server.get("/ui/js/app.js")
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{16}"', etag)
    again = server.get("/ui/js/app.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    for inm in (f'W/{etag}', f'"x", {etag}', "*"):
        assert server.get("/ui/js/app.js", headers={"If-None-Match": inm}).status_code == 304
    other = server.get("/ui/js/app.js", headers={"If-None-Match": '"0000000000000000"'})
    assert other.status_code == 200 and other.content == r.content
    # Each file has its own validator.
    assert server.get("/ui/app.css").headers["ETag"] != etag


def test_unknown_files_are_404_and_other_methods_405(server):
    for path in ("/ui/nope.js", "/ui/js/..%2F..%2FCMakeLists.txt", "/ui/%2e%2e/CMakeLists.txt", "/ui/"):
        r = server.get(path)
        assert_error(r, 404, "not_found")
    assert_error(server.post("/", json={}), 405, "method_not_allowed")
    assert_error(server.delete("/ui/js/app.js"), 405, "method_not_allowed")
    r = requests.head(server.url("/"), timeout=10)
    assert r.status_code == 200 and r.content == b""


def test_ui_dir_serves_from_disk_but_nothing_outside_it(make_server, tmp_path):
    ui = tmp_path / "ui"
    (ui / "js").mkdir(parents=True)
    (ui / "index.html").write_text("<!doctype html><title>dev</title>")
    (ui / "js" / "new.js").write_text("export const x = 1;\n")
    (ui / "notes.md").write_text("secret")
    (tmp_path / "outside.js").write_text("nope")
    s = make_server(env={"LAKEHOUSE_UI_DIR": str(ui)})
    assert s.get("/").text == "<!doctype html><title>dev</title>"
    r = s.get("/ui/js/new.js")
    assert r.status_code == 200 and r.text == "export const x = 1;\n"
    # An edit shows at once, under a new validator.
    etag = r.headers["ETag"]
    (ui / "js" / "new.js").write_text("export const x = 2;\n")
    r2 = s.get("/ui/js/new.js", headers={"If-None-Match": etag})
    assert r2.status_code == 200 and "x = 2" in r2.text
    # Unknown types, parent directories and hidden files are never read from disk; the
    # embedded files are still there for names the directory lacks.
    assert_error(s.get("/ui/notes.md"), 404, "not_found")
    assert_error(s.get("/ui/..%2Foutside.js"), 404, "not_found")
    assert_error(s.get("/ui/js/..%2F..%2Foutside.js"), 404, "not_found")
    assert s.get("/ui/app.css").status_code == 200


def test_health_names_the_models_but_no_secrets(make_server):
    s = make_server()
    m = s.get("/health").json()["models"]
    assert m == {"embed": {"provider": "lexical", "model": None}, "generate": None}
    s2 = make_server(env={"LAKEHOUSE_GENERATE_PROVIDER": "openai",
                          "LAKEHOUSE_GENERATE_MODEL": "gpt-x",
                          "LAKEHOUSE_GENERATE_URL": "http://127.0.0.1:9/v1",
                          "LAKEHOUSE_GENERATE_API_KEY": "sk-very-secret"})
    r = s2.get("/health")
    assert r.json()["models"]["generate"] == {"provider": "openai", "model": "gpt-x"}
    assert "sk-very-secret" not in r.text and "127.0.0.1:9" not in r.text


def test_sql_error_position_points_into_the_callers_text(server):
    cases = [
        ("SELECT *\nFORM jobs_x", 2, "jobs_x"),
        ("SELECT nope FROM (SELECT 1 AS a)", 1, "nope"),
        ("SELECT 'héllo', nope FROM (SELECT 1 AS a)", 1, "nope"),
    ]
    for sql, line, token in cases:
        r = server.post("/query/sql", json={"sql": sql})
        err = assert_error(r, 400, "sql_error")
        pos = err["position"]
        assert pos["line"] == line, (sql, pos)
        assert pos["offset"] == sql.index(token), (sql, pos)
        line_start = sql.rfind("\n", 0, pos["offset"]) + 1
        assert pos["column"] == pos["offset"] - line_start + 1
    # Errors DuckDB does not pin to a spot carry no position.
    err = assert_error(server.post("/query/sql", json={"sql": "SELECT * FROM no_such_table_x"}),
                       400, "sql_error")
    assert "position" not in err or err["position"]["offset"] >= 0
    err = assert_error(server.post("/query/sql", json={"sql": "DROP TABLE x"}), 403, "forbidden")
    assert "position" not in err
