/* Tests for src/http/server.c, dispatch.c, request.c and the routes over a real socket: a
 * server on a free loopback port over a fresh temporary lake, driven with libcurl. They
 * check status, headers and JSON shapes, error bodies included, body limits, streaming
 * uploads and downloads, and a clean stop. (tests/api covers the API end to end.) */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"

static char g_dir[256];
static lh_config g_cfg;
static lh_lake *g_lake;
static lh_server *g_srv;

static void start(const char *max_body, const char *max_upload)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/lh-http-test-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    lh_err err = LH_ERR_INIT;
    lh_config_init(&g_cfg);
    cr_assert_eq(lh_config_set(&g_cfg, "server.data_dir", g_dir, &err), 0, "%s", err.message);
    cr_assert_eq(lh_config_set(&g_cfg, "server.listen", "127.0.0.1:0", &err), 0, "%s", err.message);
    cr_assert_eq(lh_config_set(&g_cfg, "server.max_body_bytes", max_body, &err), 0, "%s",
                 err.message);
    cr_assert_eq(lh_config_set(&g_cfg, "server.max_upload_bytes", max_upload, &err), 0, "%s",
                 err.message);
    g_lake = lh_lake_open(&g_cfg, &err);
    cr_assert_not_null(g_lake, "lake: %s (%s)", err.message, err.detail);
    g_srv = lh_server_start(g_lake, &g_cfg, &err);
    cr_assert_not_null(g_srv, "server: %s", err.message);
    cr_assert_gt(lh_server_port(g_srv), 0);
}

static void setup(void)
{
    start("1024", "4096");
}

static void teardown(void)
{
    if (g_srv) {
        lh_server_request_stop(g_srv);
        lh_err err = LH_ERR_INIT;
        cr_assert_eq(lh_server_wait(g_srv, &err), 0);
        lh_server_free(g_srv);
    }
    lh_lake_close(g_lake);
    lh_config_release(&g_cfg);
    lh_err err = LH_ERR_INIT;
    if (lh_remove_tree(g_dir, &err) != 0)
        fprintf(stderr, "cannot remove %s: %s\n", g_dir, err.message);
}

typedef struct reply {
    long status;
    lh_buf body;
    lh_buf headers;
    json_t *json; /* the body parsed, when it is JSON */
} reply;

static size_t on_data(char *p, size_t size, size_t n, void *cls)
{
    lh_buf_append(cls, p, size * n);
    return size * n;
}

typedef struct req_opts {
    const char *body;
    size_t body_len;
    const char *content_type;
    const char *accept;
    curl_mime *mime;
    bool path_as_is;
} req_opts;

static reply http(const char *method, const char *path, const req_opts *o)
{
    static const req_opts none = {0};
    if (!o)
        o = &none;
    reply r = {0};
    lh_buf_init(&r.body);
    lh_buf_init(&r.headers);
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", lh_server_port(g_srv), path);
    CURL *c = curl_easy_init();
    cr_assert_not_null(c);
    struct curl_slist *hdrs = NULL;
    char line[256];
    if (o->content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", o->content_type);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (o->accept) {
        snprintf(line, sizeof line, "Accept: %s", o->accept);
        hdrs = curl_slist_append(hdrs, line);
    }
    hdrs = curl_slist_append(hdrs, "Expect:"); /* send bodies at once, like most clients */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (o->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
    }
    if (o->mime)
        curl_easy_setopt(c, CURLOPT_MIMEPOST, o->mime);
    if (o->path_as_is)
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (r.body.len > 0 && (r.body.data[0] == '{' || r.body.data[0] == '['))
        r.json = json_loadb(r.body.data, r.body.len, 0, NULL);
    return r;
}

static void reply_free(reply *r)
{
    lh_buf_release(&r->body);
    lh_buf_release(&r->headers);
    json_decref(r->json);
}

static req_opts json_body(const char *text)
{
    return (req_opts){.body = text, .body_len = strlen(text), .content_type = "application/json"};
}

/* Checks the error body: {"error":{"code":code,"message":...,"request_id":"r-..."}}. */
static void assert_error(const reply *r, long status, const char *code)
{
    cr_assert_eq(r->status, status, "status %ld, want %ld: %s", r->status, status,
                 r->body.data ? r->body.data : "");
    cr_assert_not_null(r->json, "error body is not JSON: %s", r->body.data ? r->body.data : "");
    json_t *e = json_object_get(r->json, "error");
    cr_assert(json_is_object(e));
    cr_assert_str_eq(json_string_value(json_object_get(e, "code")), code);
    cr_assert(json_string_length(json_object_get(e, "message")) > 0);
    const char *rid = json_string_value(json_object_get(e, "request_id"));
    cr_assert_not_null(rid);
    cr_assert(strncmp(rid, "r-", 2) == 0, "request_id %s", rid);
    cr_assert_not_null(strstr(r->headers.data, "application/json"));
}

TestSuite(server, .init = setup, .fini = teardown, .timeout = 60);

Test(server, health)
{
    reply r = http("GET", "/health", NULL);
    cr_assert_eq(r.status, 200, "%s", r.body.data);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")), "ok");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "version")), LH_VERSION_STRING);
    cr_assert_not_null(json_string_value(json_object_get(r.json, "duckdb_version")));
    cr_assert(json_is_integer(json_object_get(r.json, "uptime_s")));
    cr_assert_eq(json_integer_value(json_object_get(r.json, "datasets")), 0);
    cr_assert_not_null(strstr(r.headers.data, "application/json; charset=utf-8"));
    cr_assert_not_null(strstr(r.headers.data, "X-Request-Id: r-"));
    reply_free(&r);
    r = http("HEAD", "/health", NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body.len, 0);
    reply_free(&r);
}

Test(server, unknown_route_and_wrong_method)
{
    reply r = http("GET", "/no/such/thing", NULL);
    assert_error(&r, 404, "not_found");
    reply_free(&r);
    r = http("DELETE", "/health", NULL);
    assert_error(&r, 405, "method_not_allowed");
    cr_assert_not_null(strstr(r.headers.data, "Allow: GET, HEAD"), "%s", r.headers.data);
    reply_free(&r);
    /* The error is answered after the body, so a client that sends it all still reads it. */
    req_opts o = json_body("{\"a\": 1}");
    r = http("POST", "/nope", &o);
    assert_error(&r, 404, "not_found");
    reply_free(&r);
    r = http("GET", "/health%00x", NULL);
    assert_error(&r, 400, "invalid_argument");
    reply_free(&r);
}

/* An error answered without a body to drain keeps the connection for the next request. */
Test(server, errors_keep_the_connection_alive)
{
    char url[256];
    CURL *c = curl_easy_init();
    lh_buf sink;
    lh_buf_init(&sink);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    const char *paths[] = {"/nope", "/health", "/catalog/datasets/by-name/x", "/health"};
    for (size_t i = 0; i < LH_ARRAY_LEN(paths); i++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", lh_server_port(g_srv), paths[i]);
        curl_easy_setopt(c, CURLOPT_URL, url);
        cr_assert_eq(curl_easy_perform(c), CURLE_OK);
        long fresh = -1;
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &fresh);
        cr_assert_eq(fresh, i == 0 ? 1 : 0, "request %zu (%s) opened a new connection", i,
                     paths[i]);
    }
    curl_easy_cleanup(c);
    lh_buf_release(&sink);
}

Test(server, object_round_trip)
{
    const char data[] = "id,name\n1,ada\n2,grace\n";
    req_opts o = {.body = data, .body_len = sizeof data - 1};
    reply r = http("PUT", "/storage/objects/raw/people%20v1.csv", &o);
    cr_assert_eq(r.status, 201, "%s", r.body.data);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "key")), "raw/people v1.csv");
    cr_assert_eq(json_integer_value(json_object_get(r.json, "size")), (json_int_t)sizeof data - 1);
    reply_free(&r);

    r = http("GET", "/storage/objects/raw/people%20v1.csv", NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body.len, sizeof data - 1);
    cr_assert(memcmp(r.body.data, data, r.body.len) == 0);
    cr_assert_not_null(strstr(r.headers.data, "application/octet-stream"));
    reply_free(&r);

    r = http("GET", "/storage/objects?prefix=raw/", NULL);
    cr_assert_eq(r.status, 200, "%s", r.body.data);
    json_t *objs = json_object_get(r.json, "objects");
    cr_assert_eq(json_array_size(objs), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(objs, 0), "key")),
                     "raw/people v1.csv");
    cr_assert(json_is_string(json_object_get(json_array_get(objs, 0), "modified_at")));
    cr_assert(json_is_false(json_object_get(r.json, "truncated")));
    reply_free(&r);

    r = http("GET", "/storage/objects?limit=0", NULL);
    assert_error(&r, 400, "invalid_argument");
    reply_free(&r);
    r = http("GET", "/storage/objects?limit=abc", NULL);
    assert_error(&r, 400, "invalid_argument");
    reply_free(&r);

    r = http("DELETE", "/storage/objects/raw/people%20v1.csv", NULL);
    cr_assert_eq(r.status, 200, "%s", r.body.data);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "deleted")), "raw/people v1.csv");
    reply_free(&r);
    r = http("GET", "/storage/objects/raw/people%20v1.csv", NULL);
    assert_error(&r, 404, "not_found");
    reply_free(&r);
    r = http("DELETE", "/storage/objects/raw/people%20v1.csv", NULL);
    assert_error(&r, 404, "not_found");
    reply_free(&r);
}

Test(server, object_bad_keys_and_limits)
{
    req_opts o = {.body = "x", .body_len = 1, .path_as_is = true};
    reply r = http("PUT", "/storage/objects/a/../b", &o);
    assert_error(&r, 400, "invalid_argument");
    reply_free(&r);
    r = http("PUT", "/storage/objects/a/%2e%2e/b", &o);
    assert_error(&r, 400, "invalid_argument");
    reply_free(&r);

    /* max_upload_bytes is 4096 here: the put is refused and nothing is left behind. */
    static char big[5000];
    memset(big, 'z', sizeof big);
    req_opts ob = {.body = big, .body_len = sizeof big};
    r = http("PUT", "/storage/objects/big.bin", &ob);
    assert_error(&r, 413, "too_large");
    reply_free(&r);
    r = http("GET", "/storage/objects/big.bin", NULL);
    assert_error(&r, 404, "not_found");
    reply_free(&r);
}

Test(server, json_bodies)
{
    req_opts o = json_body("{\"sql\": \"SELECT 1\",\n  oops}");
    reply r = http("POST", "/query/sql", &o);
    assert_error(&r, 400, "invalid_argument");
    json_t *err_obj = json_object_get(r.json, "error");
    const char *msg = json_string_value(json_object_get(err_obj, "message"));
    cr_assert_not_null(strstr(msg, "line"), "%s", msg);
    reply_free(&r);

    o = json_body("[1, 2]");
    r = http("POST", "/query/sql", &o);
    assert_error(&r, 400, "invalid_argument");
    reply_free(&r);

    o = json_body("");
    r = http("POST", "/query/sql", &o);
    assert_error(&r, 400, "invalid_argument");
    reply_free(&r);

    o = json_body("{\"params\": []}");
    r = http("POST", "/query/sql", &o);
    assert_error(&r, 400, "invalid_argument");
    reply_free(&r);

    /* max_body_bytes is 1024 here. */
    static char big[3000];
    memset(big, ' ', sizeof big);
    memcpy(big, "{\"sql\":\"", 8);
    memcpy(big + sizeof big - 3, "\"}", 2);
    o = (req_opts){.body = big, .body_len = sizeof big - 1, .content_type = "application/json"};
    r = http("POST", "/query/sql", &o);
    assert_error(&r, 413, "too_large");
    reply_free(&r);
}

Test(server, sql_streams_in_each_format)
{
    req_opts o = json_body("{\"sql\": \"SELECT 42 AS answer, 'x' AS s\"}");
    reply r = http("POST", "/query/sql", &o);
    cr_assert_eq(r.status, 200, "%s", r.body.data);
    cr_assert_not_null(r.json, "%s", r.body.data);
    json_t *rows = json_object_get(r.json, "rows");
    cr_assert_eq(json_integer_value(json_array_get(json_array_get(rows, 0), 0)), 42);
    reply_free(&r);

    o.accept = "text/csv";
    r = http("POST", "/query/sql", &o);
    cr_assert_eq(r.status, 200, "%s", r.body.data);
    cr_assert_not_null(strstr(r.headers.data, "text/csv"), "%s", r.headers.data);
    cr_assert_not_null(strstr(r.body.data, "answer"), "%s", r.body.data);
    cr_assert_not_null(strstr(r.body.data, "42"), "%s", r.body.data);
    reply_free(&r);

    o.accept = "image/png";
    r = http("POST", "/query/sql", &o);
    assert_error(&r, 406, "not_acceptable");
    reply_free(&r);

    o = json_body("{\"sql\": \"SELEC nonsense\"}");
    r = http("POST", "/query/sql", &o);
    assert_error(&r, 400, "sql_error");
    reply_free(&r);
}

static curl_mime *csv_form(CURL **holder, const char *csv, const char *filename, const char *name)
{
    *holder = curl_easy_init();
    curl_mime *m = curl_mime_init(*holder);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_data(p, csv, CURL_ZERO_TERMINATED);
    curl_mime_filename(p, filename);
    if (name) {
        p = curl_mime_addpart(m);
        curl_mime_name(p, "name");
        curl_mime_data(p, name, CURL_ZERO_TERMINATED);
    }
    return m;
}

Test(server, ingest_upload_then_query)
{
    CURL *holder;
    const char *csv = "id,city\n1,Oslo\n2,Lima\n3,Pune\n";
    req_opts o = {.mime = csv_form(&holder, csv, "cities.csv", NULL)};
    reply r = http("POST", "/ingest/file", &o);
    cr_assert_eq(r.status, 201, "%s", r.body.data);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "dataset")), "cities");
    cr_assert_eq(json_integer_value(json_object_get(r.json, "rows")), 3);
    reply_free(&r);
    curl_mime_free(o.mime);
    curl_easy_cleanup(holder);

    r = http("GET", "/catalog/datasets", NULL);
    cr_assert_eq(r.status, 200, "%s", r.body.data);
    cr_assert_eq(json_array_size(json_object_get(r.json, "datasets")), 1);
    reply_free(&r);
    r = http("GET", "/catalog/datasets/by-name/cities", NULL);
    cr_assert_eq(r.status, 200, "%s", r.body.data);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "cities");
    reply_free(&r);
    r = http("GET", "/catalog/datasets/by-name/nope", NULL);
    assert_error(&r, 404, "not_found");
    reply_free(&r);

    req_opts q = json_body("{\"sql\": \"SELECT count(*) AS n FROM cities\"}");
    q.accept = "application/x-ndjson";
    r = http("POST", "/query/sql", &q);
    cr_assert_eq(r.status, 200, "%s", r.body.data);
    cr_assert_not_null(strstr(r.body.data, "\"n\":3"), "%s", r.body.data);
    reply_free(&r);

    /* A raw body with ?name=. */
    const char tsv[] = "a\tb\n1\t2\n";
    req_opts raw = {.body = tsv, .body_len = sizeof tsv - 1,
                    .content_type = "text/tab-separated-values"};
    r = http("POST", "/ingest/file?name=pairs", &raw);
    cr_assert_eq(r.status, 201, "%s", r.body.data);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "dataset")), "pairs");
    reply_free(&r);
}

/* No scratch file may survive a refused upload. */
static size_t scratch_files(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find '%s/tmp' -type f | wc -l", g_dir);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    unsigned long n = 0;
    cr_assert_eq(fscanf(f, "%lu", &n), 1);
    pclose(f);
    return n;
}

Test(server, ingest_errors)
{
    req_opts o = {.body = "x", .body_len = 1, .content_type = "image/png"};
    reply r = http("POST", "/ingest/file?name=x", &o);
    assert_error(&r, 415, "unsupported_media");
    reply_free(&r);

    o.content_type = "text/csv";
    r = http("POST", "/ingest/file", &o);
    assert_error(&r, 400, "invalid_argument"); /* no name for a raw body */
    reply_free(&r);

    CURL *holder = curl_easy_init();
    curl_mime *m = curl_mime_init(holder);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "name");
    curl_mime_data(p, "nofile", CURL_ZERO_TERMINATED);
    req_opts om = {.mime = m};
    r = http("POST", "/ingest/file", &om);
    assert_error(&r, 400, "invalid_argument"); /* no "file" part */
    reply_free(&r);
    curl_mime_free(m);
    curl_easy_cleanup(holder);

    static char big[6000];
    memset(big, '1', sizeof big);
    for (size_t i = 9; i < sizeof big; i += 10)
        big[i] = '\n';
    big[sizeof big - 1] = '\0';
    req_opts ob = {.mime = csv_form(&holder, big, "big.csv", "big")};
    r = http("POST", "/ingest/file", &ob);
    assert_error(&r, 413, "too_large");
    reply_free(&r);
    curl_mime_free(ob.mime);
    curl_easy_cleanup(holder);
    cr_assert_eq(scratch_files(), 0);

    r = http("GET", "/catalog/datasets", NULL);
    cr_assert_eq(json_array_size(json_object_get(r.json, "datasets")), 0, "%s", r.body.data);
    reply_free(&r);
}

Test(server, register_needs_objects)
{
    req_opts o = json_body("{\"name\": \"t\"}");
    reply r = http("POST", "/catalog/datasets", &o);
    assert_error(&r, 400, "invalid_argument");
    reply_free(&r);
    o = json_body("{\"name\": \"t\", \"objects\": [\"missing.parquet\"]}");
    r = http("POST", "/catalog/datasets", &o);
    assert_error(&r, 404, "not_found");
    reply_free(&r);
}

Test(server, second_server_on_the_same_port_fails)
{
    lh_config c2;
    lh_config_init(&c2);
    lh_err err = LH_ERR_INIT;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", lh_server_port(g_srv));
    cr_assert_eq(lh_config_set(&c2, "server.listen", listen, &err), 0);
    lh_server *s2 = lh_server_start(g_lake, &c2, &err);
    cr_assert_null(s2);
    cr_assert_eq(err.code, LH_IO_ERROR);
    cr_assert_not_null(strstr(err.message, "cannot listen"), "%s", err.message);
    lh_config_release(&c2);
}

Test(server, stop_waits_for_nothing_when_idle)
{
    lh_server_request_stop(g_srv);
    lh_err err = LH_ERR_INIT;
    double t0 = lh_mono_ms();
    cr_assert_eq(lh_server_wait(g_srv, &err), 0);
    cr_assert_lt(lh_mono_ms() - t0, 5000.0);
    lh_server_free(g_srv);
    g_srv = NULL;
}
