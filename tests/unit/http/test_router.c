/* Tests for src/http/router.c and the route table in routes.c: literals, {param},
 * {rest...}, trailing slashes, 404 versus 405 with the Allow list, and that docs/API.md
 * documents every route of the table. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/http_int.h"

static int h_dummy(lh_http_req *req, lh_err *err)
{
    (void)req;
    (void)err;
    return 0;
}

static const lh_http_route test_routes[] = {
    {"GET", "/a", h_dummy, 0, LH_BODY_NONE},
    {"POST", "/a", h_dummy, 0, LH_BODY_JSON},
    {"GET", "/a/{x}/b/{y}", h_dummy, 0, LH_BODY_NONE},
    {"PUT", "/files/{path...}", h_dummy, 0, LH_BODY_OBJECT},
    {"DELETE", "/files/{path...}", h_dummy, 0, LH_BODY_NONE},
};
#define NTEST LH_ARRAY_LEN(test_routes)

static lh_code match(const char *method, const char *path, lh_http_match *m)
{
    return lh_http__route_match(test_routes, NTEST, method, path, m);
}

static void assert_param(const lh_http_match *m, const char *name, const char *value)
{
    for (size_t i = 0; i < m->nparams; i++) {
        const lh_http_param *p = &m->params[i];
        if (p->name_len == strlen(name) && memcmp(p->name, name, p->name_len) == 0) {
            cr_assert_eq(p->value_len, strlen(value), "param %s: length %zu, want '%s'", name,
                         p->value_len, value);
            cr_assert(memcmp(p->value, value, p->value_len) == 0, "param %s: got '%.*s', want '%s'",
                      name, (int)p->value_len, p->value, value);
            return;
        }
    }
    cr_assert_fail("param %s not found", name);
}

Test(router, literal_match_picks_the_method)
{
    lh_http_match m;
    cr_assert_eq(match("GET", "/a", &m), LH_OK);
    cr_assert_eq(m.route, &test_routes[0]);
    cr_assert_eq(match("POST", "/a", &m), LH_OK);
    cr_assert_eq(m.route, &test_routes[1]);
    cr_assert_eq(m.nparams, 0);
}

Test(router, head_is_served_by_get)
{
    lh_http_match m;
    cr_assert_eq(match("HEAD", "/a", &m), LH_OK);
    cr_assert_eq(m.route, &test_routes[0]);
}

Test(router, params_capture_one_segment_each)
{
    lh_http_match m;
    cr_assert_eq(match("GET", "/a/one/b/two", &m), LH_OK);
    cr_assert_eq(m.route, &test_routes[2]);
    cr_assert_eq(m.nparams, 2);
    assert_param(&m, "x", "one");
    assert_param(&m, "y", "two");
    /* A parameter is never empty, and never spans a '/'. */
    cr_assert_eq(match("GET", "/a//b/two", &m), LH_NOT_FOUND);
    cr_assert_eq(match("GET", "/a/one/b/", &m), LH_NOT_FOUND);
    cr_assert_eq(match("GET", "/a/o/ne/b/two", &m), LH_NOT_FOUND);
}

Test(router, rest_takes_the_remainder_verbatim)
{
    lh_http_match m;
    cr_assert_eq(match("PUT", "/files/x/y/z.csv", &m), LH_OK);
    cr_assert_eq(m.route, &test_routes[3]);
    assert_param(&m, "path", "x/y/z.csv");
    /* Validation of the rest (empty segments, "..", trailing '/') is the handler's job, so it
     * can answer 400 with a reason rather than a bare 404. */
    cr_assert_eq(match("PUT", "/files/a//../b/", &m), LH_OK);
    assert_param(&m, "path", "a//../b/");
    cr_assert_eq(match("PUT", "/files/", &m), LH_NOT_FOUND);
    cr_assert_eq(match("PUT", "/files", &m), LH_NOT_FOUND);
}

Test(router, trailing_slash_is_ignored_once)
{
    lh_http_match m;
    cr_assert_eq(match("GET", "/a/", &m), LH_OK);
    cr_assert_eq(m.route, &test_routes[0]);
    cr_assert_eq(match("GET", "/a/one/b/two/", &m), LH_OK);
    assert_param(&m, "y", "two");
    cr_assert_eq(match("GET", "/a//", &m), LH_NOT_FOUND);
    cr_assert_eq(match("GET", "//a", &m), LH_NOT_FOUND);
}

Test(router, unknown_paths_are_404)
{
    lh_http_match m;
    cr_assert_eq(match("GET", "/", &m), LH_NOT_FOUND);
    cr_assert_eq(match("GET", "", &m), LH_NOT_FOUND);
    cr_assert_eq(match("GET", "a", &m), LH_NOT_FOUND);
    cr_assert_eq(match("GET", "/ab", &m), LH_NOT_FOUND);
    cr_assert_eq(match("GET", "/b", &m), LH_NOT_FOUND);
    cr_assert_eq(match("GET", "/a/x", &m), LH_NOT_FOUND);
    cr_assert_eq(m.allow[0], '\0');
}

Test(router, known_path_with_other_method_is_405_with_allow)
{
    lh_http_match m;
    cr_assert_eq(match("DELETE", "/a", &m), LH_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "GET, HEAD, POST");
    cr_assert_eq(match("GET", "/files/k", &m), LH_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "PUT, DELETE");
    cr_assert_eq(match("POST", "/a/1/b/2", &m), LH_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "GET, HEAD");
}

/* ---- the real table --------------------------------------------------------------------- */

static lh_code real(const char *method, const char *path, lh_http_match *m)
{
    return lh_http__route_match(lh_http__routes, lh_http__nroutes, method, path, m);
}

Test(routes, api_paths_resolve)
{
    lh_http_match m;
    cr_assert_eq(real("GET", "/health", &m), LH_OK);
    cr_assert_eq(m.route->handler, lh_http__get_health);
    cr_assert_eq(real("GET", "/storage/objects", &m), LH_OK);
    cr_assert_eq(m.route->handler, lh_http__list_objects);
    cr_assert_eq(real("GET", "/storage/objects/", &m), LH_OK);
    cr_assert_eq(m.route->handler, lh_http__list_objects);
    cr_assert_eq(real("PUT", "/storage/objects/raw/2024/a b.csv", &m), LH_OK);
    cr_assert_eq(m.route->handler, lh_http__put_object);
    cr_assert_eq(m.route->body, LH_BODY_OBJECT);
    cr_assert_eq(m.route->max_body, LH_HTTP_LIMIT_UPLOAD);
    assert_param(&m, "key", "raw/2024/a b.csv");
    cr_assert_eq(real("GET", "/storage/objects/k", &m), LH_OK);
    cr_assert_eq(m.route->handler, lh_http__get_object);
    cr_assert_eq(real("DELETE", "/storage/objects/k", &m), LH_OK);
    cr_assert_eq(m.route->handler, lh_http__delete_object);
    cr_assert_eq(real("POST", "/catalog/datasets", &m), LH_OK);
    cr_assert_eq(m.route->body, LH_BODY_JSON);
    cr_assert_eq(real("GET", "/catalog/datasets/by-name/sales", &m), LH_OK);
    assert_param(&m, "name", "sales");
    cr_assert_eq(real("POST", "/query/sql", &m), LH_OK);
    cr_assert_eq(m.route->handler, lh_http__post_sql);
    cr_assert_eq(real("POST", "/ingest/file", &m), LH_OK);
    cr_assert_eq(m.route->body, LH_BODY_UPLOAD);
}

Test(routes, root_is_the_ui_and_only_the_root)
{
    lh_http_match m;
    cr_assert_eq(real("GET", "/", &m), LH_OK);
    cr_assert_eq(m.route->handler, lh_http__ui_index);
    cr_assert_eq(real("HEAD", "/", &m), LH_OK);
    cr_assert_eq(real("POST", "/", &m), LH_METHOD_NOT_ALLOWED);
    cr_assert_eq(real("GET", "/ui/js/app.js", &m), LH_OK);
    cr_assert_eq(m.route->handler, lh_http__ui_asset);
    assert_param(&m, "file", "js/app.js");
    cr_assert_eq(real("GET", "/ui/", &m), LH_NOT_FOUND);
    cr_assert_eq(real("GET", "//", &m), LH_NOT_FOUND);
    cr_assert_eq(real("GET", "/index.html", &m), LH_NOT_FOUND);
}

Test(routes, api_errors)
{
    lh_http_match m;
    cr_assert_eq(real("GET", "/nope", &m), LH_NOT_FOUND);
    cr_assert_eq(real("GET", "/catalog/datasets/by-name/", &m), LH_NOT_FOUND);
    cr_assert_eq(real("GET", "/catalog/datasets/by-name/a/b", &m), LH_NOT_FOUND);
    cr_assert_eq(real("POST", "/health", &m), LH_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "GET, HEAD");
    cr_assert_eq(real("GET", "/query/sql", &m), LH_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "POST");
    cr_assert_eq(real("PATCH", "/storage/objects/k", &m), LH_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "PUT, GET, HEAD, DELETE");
    cr_assert_eq(real("PUT", "/storage/objects/", &m), LH_METHOD_NOT_ALLOWED);
    cr_assert_str_eq(m.allow, "GET, HEAD");
}

Test(routes, table_is_well_formed)
{
    for (size_t i = 0; i < lh_http__nroutes; i++) {
        const lh_http_route *r = &lh_http__routes[i];
        cr_assert_not_null(r->handler, "%s %s", r->method, r->pattern);
        cr_assert_eq(r->pattern[0], '/', "%s", r->pattern);
        cr_assert(r->max_body >= LH_HTTP_LIMIT_UPLOAD, "%s", r->pattern);
        /* No two routes share method and pattern. */
        for (size_t j = 0; j < i; j++)
            cr_assert(strcmp(r->method, lh_http__routes[j].method) != 0 ||
                          strcmp(r->pattern, lh_http__routes[j].pattern) != 0,
                      "duplicate route %s %s", r->method, r->pattern);
    }
}

/* docs/API.md is the API index for people; the table is the one for the server. Every
 * route must appear in the docs as a "### METHOD pattern" heading. */
Test(routes, every_route_is_documented)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/../../docs/API.md", LH_TEST_FIXTURES);
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *doc = lh_file_read_all(path, 1 << 20, &len, &err);
    cr_assert_not_null(doc, "cannot read %s: %s", path, err.message);
    for (size_t i = 0; i < lh_http__nroutes; i++) {
        const lh_http_route *r = &lh_http__routes[i];
        char heading[256];
        snprintf(heading, sizeof heading, "### %s %s\n", r->method, r->pattern);
        cr_assert_not_null(strstr(doc, heading), "docs/API.md lacks the heading '%s'", heading);
    }
    /* And every code of the error table is listed. */
    for (int c = LH_OK + 1; c < LH_CODE_COUNT; c++) {
        char row[128];
        snprintf(row, sizeof row, "| `%s` | %d |", lh_code_name((lh_code)c),
                 lh_code_http_status((lh_code)c));
        cr_assert_not_null(strstr(doc, row), "docs/API.md lacks the error row '%s'", row);
    }
    free(doc);
}
