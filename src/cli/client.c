/* The CLI's HTTP client for --url mode (libcurl): one easy handle per request, with connect
 * and total timeouts, a ceiling on every body held in memory, streaming of large result
 * bodies straight to stdout, and the server's JSON error body turned back into an lh_err. */
#include <curl/curl.h>
#include <string.h>

#include "cli/cli_int.h"

/* Error bodies are small; anything past this is not one of ours. */
#define MAX_ERROR_BODY ((size_t)64 * 1024)

typedef struct sink {
    CURL *curl;
    FILE *out;       /* stream a 2xx body here, or NULL to collect it */
    lh_buf body;     /* collected 2xx body, or the error body */
    size_t max;      /* ceiling for body */
    long status;     /* known from the first body byte on */
    bool overflow;   /* the body passed its ceiling */
    bool write_fail; /* out could not be written */
} sink;

/* Draws the upload's progress; the server's ingest time shows as the bar at 100%. */
static int on_upload_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
                              curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    lh_cli__progress_draw(ctx, ulnow < ultotal ? "uploading" : "ingesting", (uint64_t)ulnow,
                          (uint64_t)ultotal, 0, false);
    return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t len = size * n;
    if (s->status == 0)
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
    bool ok = s->status >= 200 && s->status < 300;
    if (ok && s->out) {
        if (fwrite(p, 1, len, s->out) != len) {
            s->write_fail = true;
            return 0; /* aborts the transfer */
        }
        return len;
    }
    size_t max = ok ? s->max : MAX_ERROR_BODY;
    if (s->body.len + len > max) {
        s->overflow = true;
        return 0;
    }
    lh_buf_append(&s->body, p, len);
    return len;
}

static lh_code code_from_name(const char *name)
{
    for (int c = 0; c < LH_CODE_COUNT; c++)
        if (name && strcmp(lh_code_name((lh_code)c), name) == 0)
            return (lh_code)c;
    return LH_INTERNAL;
}

/* Turns a non-2xx answer into err: the server's {"error":{"code","message"}} when the body
 * is one, else the bare status. */
static int server_error(const sink *s, lh_err *err)
{
    lh_err perr = LH_ERR_INIT;
    json_t *doc = s->body.len ? lh_json_parse(s->body.data, s->body.len, &perr) : NULL;
    json_t *e = json_object_get(doc, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (msg) {
        lh_err_set(err, code_from_name(json_string_value(json_object_get(e, "code"))), "%s",
                   msg);
        const char *detail = json_string_value(json_object_get(e, "detail"));
        if (detail)
            lh_err_detail(err, "%s", detail);
    } else {
        lh_err_set(err, s->status >= 500 ? LH_INTERNAL : LH_INVALID_ARGUMENT,
                   "server answered HTTP %ld", s->status);
    }
    json_decref(doc);
    return -1;
}

/* Runs the request into s. 0 when a complete 2xx body arrived, else -1 with err filled. */
static int perform(const lh_cli_http_req *r, sink *s, lh_err *err)
{
    CURL *c = curl_easy_init();
    if (!c)
        return lh_err_set(err, LH_INTERNAL, "cannot start an HTTP client");
    s->curl = c;
    int rc = -1;
    size_t blen = strlen(r->base_url);
    while (blen > 0 && r->base_url[blen - 1] == '/')
        blen--;
    char *url = lh_xasprintf("%.*s%s", (int)blen, r->base_url, r->path);
    struct curl_slist *headers = NULL;
    char *accept = lh_xasprintf("Accept: %s", r->accept ? r->accept : "application/json");
    headers = curl_slist_append(headers, accept);
    char *bucket = NULL;
    curl_mime *mime = NULL;
    char cerr[CURL_ERROR_SIZE] = {0};
    if (r->bucket) {
        /* Only a valid name reaches the header, so no CR/LF can split it. */
        if (!lh_name_valid(r->bucket)) {
            lh_err_set(err, LH_INVALID_ARGUMENT,
                       "invalid bucket name (use [a-z_][a-z0-9_]{0,62})");
            goto out;
        }
        bucket = lh_xasprintf("X-Lakehouse-Bucket: %s", r->bucket);
        headers = curl_slist_append(headers, bucket);
    }

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, LH_CLI_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, r->timeout_s > 0 ? r->timeout_s : 300L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "lakehouse/" LH_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!s->out)
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
    if (r->json_body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->json_body);
    } else if (r->upload_path) {
        mime = curl_mime_init(c);
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        if (curl_mime_filedata(part, r->upload_path) != CURLE_OK) {
            lh_err_set(err, LH_INVALID_ARGUMENT, "cannot read '%s'", r->upload_path);
            goto out;
        }
        if (r->upload_name)
            curl_mime_filename(part, r->upload_name);
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
        if (r->progress && r->progress->enabled) {
            curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_upload_progress);
            curl_easy_setopt(c, CURLOPT_XFERINFODATA, r->progress);
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        }
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    CURLcode res = curl_easy_perform(c);
    if (s->status == 0)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
    bool ok = s->status >= 200 && s->status < 300;
    if (s->write_fail) {
        lh_err_set(err, LH_IO_ERROR, "cannot write the result to stdout");
    } else if (s->overflow || res == CURLE_FILESIZE_EXCEEDED) {
        lh_err_set(err, LH_TOO_LARGE, "response from %s is larger than %zu bytes", url,
                   ok ? s->max : MAX_ERROR_BODY);
    } else if (res == CURLE_OPERATION_TIMEDOUT) {
        lh_err_set(err, LH_TIMEOUT, "request to %s timed out", url);
    } else if (res != CURLE_OK && s->status == 0) {
        lh_err_set(err, LH_IO_ERROR, "cannot reach %s: %s", url,
                   cerr[0] ? cerr : curl_easy_strerror(res));
    } else if (!ok) {
        server_error(s, err);
    } else if (res != CURLE_OK) {
        /* The server gave up after the status line (a CSV stream that failed midway). */
        lh_err_set(err, LH_IO_ERROR, "response from %s ended early: %s", url,
                   cerr[0] ? cerr : curl_easy_strerror(res));
    } else {
        rc = 0;
    }
out:
    curl_mime_free(mime);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    s->curl = NULL;
    free(accept);
    free(bucket);
    free(url);
    return rc;
}

char *lh_cli__url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    lh_buf b;
    lh_buf_init(&b);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            lh_buf_putc(&b, (char)*p);
        } else {
            lh_buf_putc(&b, '%');
            lh_buf_putc(&b, hex[*p >> 4]);
            lh_buf_putc(&b, hex[*p & 15]);
        }
    }
    return lh_buf_detach(&b, NULL);
}

json_t *lh_cli__http_json(const lh_cli_http_req *r, lh_err *err)
{
    sink s = {.out = NULL, .max = LH_CLI_MAX_JSON};
    lh_buf_init(&s.body);
    json_t *doc = NULL;
    if (perform(r, &s, err) == 0) {
        if (s.body.len == 0)
            lh_err_set(err, LH_INTERNAL, "empty response from server");
        else if (!(doc = lh_json_parse(s.body.data, s.body.len, err)))
            lh_err_prefix(err, "bad response from server: ");
    }
    lh_buf_release(&s.body);
    return doc;
}

int lh_cli__http_stream(const lh_cli_http_req *r, FILE *out, lh_err *err)
{
    sink s = {.out = out, .max = 0};
    lh_buf_init(&s.body);
    int rc = perform(r, &s, err);
    if (rc == 0 && fflush(out) != 0)
        rc = lh_err_set(err, LH_IO_ERROR, "cannot write the result to stdout");
    lh_buf_release(&s.body);
    return rc;
}
