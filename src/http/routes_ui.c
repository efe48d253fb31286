/* GET / and GET /ui/{file...}: the web UI, served from the files embedded at build time
 * (ui_assets.h). Every answer carries a strong ETag and "no-cache", so a browser revalidates
 * and gets 304 until the binary changes; the page's Content-Security-Policy allows scripts,
 * styles and connections to this origin only (no inline script, no CDN).
 * For UI work, LAKEHOUSE_UI_DIR=src/http/ui serves the files from disk instead, read on
 * every request, so an edit shows on reload without a rebuild. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "http/ui_assets.h"

#define UI_CSP                                                                             \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "          \
    "frame-ancestors 'none'"

#define UI_DEV_MAX ((size_t)8 << 20)

static const char *dev_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".svg", "image/svg+xml"},
        {".png", "image/png"}, {".json", "application/json; charset=utf-8"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < LH_ARRAY_LEN(types); i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return NULL;
}

/* With LAKEHOUSE_UI_DIR set: rel under that directory read into *a (data malloc'ed, the
 * caller frees it); false when unset, unreadable or not a plain UI file name (no "..", no
 * hidden segments, a known extension), so nothing else on disk is reachable. */
static bool dev_asset(const char *rel, lh_ui_asset *a, char etag[24])
{
    const char *dir = getenv("LAKEHOUSE_UI_DIR");
    if (!dir || !dir[0] || !dev_type(rel) || rel[0] == '/' || rel[0] == '.' ||
        strstr(rel, "/.") || strstr(rel, ".."))
        return false;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
        return false;
    lh_err e = LH_ERR_INIT;
    size_t n = 0;
    unsigned char *buf = (unsigned char *)lh_file_read_all(path, UI_DEV_MAX, &n, &e);
    if (!buf)
        return false;
    uint64_t hsh = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        hsh = (hsh ^ buf[i]) * 1099511628211ull;
    snprintf(etag, 24, "\"%016llx\"", (unsigned long long)hsh);
    *a = (lh_ui_asset){rel, dev_type(rel), buf, n, etag};
    return true;
}

static const lh_ui_asset *find_asset(const char *path)
{
    for (size_t i = 0; i < lh_ui_nassets; i++)
        if (strcmp(lh_ui_assets[i].path, path) == 0)
            return &lh_ui_assets[i];
    return NULL;
}

/* Does an If-None-Match list name etag (or "*")? Weak validators compare by their opaque
 * part, as RFC 9110 asks for GET. */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (strncmp(p, etag, elen) == 0 && (p[elen] == '\0' || p[elen] == ',' || p[elen] == ' '))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

static int serve(lh_http_req *req, const char *rel, lh_err *err)
{
    lh_ui_asset dev;
    char dev_etag[24];
    const lh_ui_asset *a = dev_asset(rel, &dev, dev_etag) ? &dev : find_asset(rel);
    if (!a)
        return lh_err_set(err, LH_NOT_FOUND, "no UI file '%s'", rel);
    bool fresh = etag_matches(lh_http__header(req, MHD_HTTP_HEADER_IF_NONE_MATCH), a->etag);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        fresh ? 0 : a->len, fresh ? NULL : (void *)a->data,
        a == &dev && !fresh ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (a == &dev && (fresh || !resp))
        free((void *)dev.data);
    if (!resp)
        return lh_err_set(err, LH_INTERNAL, "cannot create a response");
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, a->etag);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (!fresh)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    if (strncmp(a->content_type, "text/html", 9) == 0) {
        (void)MHD_add_response_header(resp, "Content-Security-Policy", UI_CSP);
        (void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    }
    return lh_http__queue(req, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp,
                          fresh ? 0 : a->len);
}

int lh_http__ui_index(lh_http_req *req, lh_err *err)
{
    return serve(req, "index.html", err);
}

int lh_http__ui_asset(lh_http_req *req, lh_err *err)
{
    const char *file = lh_http__param(req, "file");
    return serve(req, file ? file : "", err);
}
