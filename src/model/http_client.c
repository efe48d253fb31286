/* model: the HTTP side of every model client — the one file that talks libcurl. JSON POSTs
 * and GETs, whole or streamed to a callback (lh_model__http_request), with a per-request
 * timeout and a response ceiling, retries with exponential backoff and jitter on 429, 5xx
 * and connection failures (honouring Retry-After; a stream only until its text reached
 * anyone), a pool of idle handles for keep-alive, and error messages that name the server
 * but never carry the API key. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model_int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not thread-safe: run it once, before any handle exists. */
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int backoff_base_ms(void)
{
    const char *v = getenv("LH_MODEL_BACKOFF_MS");
    if (v && *v) {
        char *end;
        errno = 0;
        long ms = strtol(v, &end, 10);
        if (errno == 0 && *end == '\0' && ms >= 0 && ms <= LH_MODEL_MAX_BACKOFF_MS)
            return (int)ms;
        LH_LOG_WARN("model", "ignoring LH_MODEL_BACKOFF_MS='%s' (want 0..%d)", v,
                    LH_MODEL_MAX_BACKOFF_MS);
    }
    return LH_MODEL_BACKOFF_MS;
}

int lh_model__http_init(lh_model_http *h, const char *provider, const char *url,
                        const char *api_key, int timeout_ms, int max_retries, lh_err *err)
{
    memset(h, 0, sizeof *h);
    (void)pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return lh_err_set(err, LH_INTERNAL, "cannot initialise libcurl: %s",
                          curl_easy_strerror(curl_init_rc));
    if (api_key) {
        for (const char *p = api_key; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return lh_err_set(err, LH_INVALID_ARGUMENT,
                                  "%s api key contains control characters", provider);
    }
    size_t ulen = strlen(url);
    while (ulen > 0 && url[ulen - 1] == '/')
        ulen--;
    char *base = lh_xstrndup(url, ulen);

    /* Parse with curl's own URL parser, so what we accept is what it will fetch. */
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *query = NULL, *shown = NULL;
    int rc = -1;
    if (!u) {
        lh_err_set(err, LH_INTERNAL, "cannot allocate a URL parser");
        goto out;
    }
    if (ulen == 0 || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "bad %s url: want http://host[:port][/path]",
                   provider);
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "bad %s url: scheme '%s' is not http or https",
                   provider, scheme);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        strchr(base, '#') != NULL) {
        lh_err_set(err, LH_INVALID_ARGUMENT,
                   "bad %s url: a base url has no query or fragment", provider);
        goto out;
    }
    /* Messages show the URL without user:password. */
    (void)curl_url_set(u, CURLUPART_USER, NULL, 0);
    (void)curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
    if (curl_url_get(u, CURLUPART_URL, &shown, 0) != CURLUE_OK) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "bad %s url", provider);
        goto out;
    }
    size_t slen = strlen(shown);
    while (slen > 0 && shown[slen - 1] == '/')
        slen--;

    h->provider = lh_xstrdup(provider);
    h->base_url = base;
    base = NULL;
    h->shown_url = lh_xstrndup(shown, slen);
    if (api_key && api_key[0]) {
        h->api_key = lh_xstrdup(api_key);
        h->auth_header = lh_xasprintf("Authorization: Bearer %s", api_key);
    }
    h->timeout_ms = timeout_ms;
    h->max_retries = max_retries;
    h->backoff_ms = backoff_base_ms();
    h->max_response = LH_MODEL_MAX_RESPONSE;
    pthread_mutex_init(&h->lock, NULL);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(query);
    curl_free(shown);
    curl_url_cleanup(u);
    free(base);
    return rc;
}

void lh_model__http_release(lh_model_http *h)
{
    if (!h->provider)
        return;
    for (size_t i = 0; i < h->nidle; i++)
        curl_easy_cleanup(h->idle[i]);
    pthread_mutex_destroy(&h->lock);
    if (h->auth_header) /* the key should not linger in freed memory */
        memset(h->auth_header, 0, strlen(h->auth_header));
    if (h->api_key)
        memset(h->api_key, 0, strlen(h->api_key));
    free(h->auth_header);
    free(h->api_key);
    free(h->provider);
    free(h->base_url);
    free(h->shown_url);
    memset(h, 0, sizeof *h);
}

static CURL *handle_get(lh_model_http *h)
{
    CURL *c = NULL;
    pthread_mutex_lock(&h->lock);
    if (h->nidle > 0)
        c = h->idle[--h->nidle];
    pthread_mutex_unlock(&h->lock);
    return c ? c : curl_easy_init();
}

static void handle_put(lh_model_http *h, CURL *c)
{
    pthread_mutex_lock(&h->lock);
    if (h->nidle < LH_MODEL_IDLE_HANDLES) {
        h->idle[h->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&h->lock);
    if (c)
        curl_easy_cleanup(c);
}

/* ---- server text, scrubbed ---------------------------------------------------------------- */

void lh_model__scrub(const lh_model_http *h, const char *text, size_t len, char *out, size_t cap)
{
    static const char mark[] = "[redacted]";
    const char *key = h ? h->api_key : NULL;
    size_t klen = key ? strlen(key) : 0;
    /* Servers echo keys partly masked ("sk-abc1***wxyz"): hide any run of 8 or more of the
     * key's leading bytes too, not just the whole key. */
    size_t probe = klen >= 8 ? 8 : klen;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap;) {
        if (probe > 0 && len - i >= probe && memcmp(text + i, key, probe) == 0) {
            size_t m = probe;
            while (m < klen && i + m < len && text[i + m] == key[m])
                m++;
            size_t n = strlen(mark) < cap - 1 - o ? strlen(mark) : cap - 1 - o;
            memcpy(out + o, mark, n);
            o += n;
            i += m;
            continue;
        }
        unsigned char c = (unsigned char)text[i++];
        out[o++] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    if (cap > 0)
        out[o < cap ? o : cap - 1] = '\0';
    /* Trim the trailing newline servers put after their JSON. */
    while (o > 0 && out[o - 1] == ' ')
        out[--o] = '\0';
}

void lh_model__error_text(const lh_model_http *h, const char *body, size_t len, char *out,
                          size_t cap)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *text = NULL;
    if (json_is_object(root)) {
        json_t *e = json_object_get(root, "error");
        if (json_is_object(e))
            e = json_object_get(e, "message");
        if (!json_is_string(e))
            e = json_object_get(root, "detail");
        if (!json_is_string(e))
            e = json_object_get(root, "message");
        if (json_is_string(e))
            text = json_string_value(e);
    }
    if (text)
        lh_model__scrub(h, text, strlen(text), out, cap);
    else if (len > 0)
        lh_model__scrub(h, body, len < 300 ? len : 300, out, cap);
    else
        snprintf(out, cap, "(empty answer)");
    json_decref(root);
}

/* ---- one POST, with retries ---------------------------------------------------------------- */

typedef struct sink {
    lh_buf *buf;
    size_t max;
    int over;
    /* Streaming (lh_model__http_request with on_body): a 2xx body goes to on_body as it
     * arrives; any other body (the server's error text) still goes to buf. */
    CURL *curl;
    lh_model_body_fn on_body;
    void *ctx;
    lh_err *err;
    size_t got, delivered;
    int stopped, failed;
} sink;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->got + n > s->max) {
        s->over = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    s->got += n;
    if (s->on_body) {
        long status = 0;
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
            s->delivered += n;
            int r = s->on_body(s->ctx, p, n, s->err);
            if (r > 0)
                s->stopped = 1;
            else if (r < 0)
                s->failed = 1;
            return r == 0 ? n : 0;
        }
    }
    lh_buf_append(s->buf, p, n);
    return n;
}

static int transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* Jitter only needs to decorrelate clients, not be unpredictable. */
static uint64_t jitter_rand(void)
{
    static _Thread_local uint64_t x;
    if (x == 0)
        x = ((uint64_t)(lh_mono_ms() * 1000.0) ^ (uint64_t)(uintptr_t)&x) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The wait before retry number `retry` (0-based): base * 2^retry within +-25%, capped, and
 * never shorter than what the server asked for with Retry-After. */
static long backoff_ms(const lh_model_http *h, int retry, long retry_after_s)
{
    double d = (double)h->backoff_ms;
    for (int i = 0; i < retry && d < LH_MODEL_MAX_BACKOFF_MS; i++)
        d *= 2;
    if (d > LH_MODEL_MAX_BACKOFF_MS)
        d = LH_MODEL_MAX_BACKOFF_MS;
    d *= 0.75 + 0.5 * (double)(jitter_rand() % 1000001) / 1e6;
    long ms = (long)d;
    if (retry_after_s > 0) {
        long ra = retry_after_s > LH_MODEL_MAX_RETRY_AFTER_MS / 1000
                      ? LH_MODEL_MAX_RETRY_AFTER_MS
                      : retry_after_s * 1000;
        if (ra > ms)
            ms = ra;
    }
    return ms;
}

static void setup(lh_model_http *h, CURL *c, const char *url, const char *body, size_t len,
                  struct curl_slist *headers, sink *s, char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L); /* handles are reused: undo a POST */
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(h->timeout_ms < 10000 ? h->timeout_ms : 10000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "lakehouse/" LH_VERSION_STRING);
}

/* What the last attempt ended with, to word the final error. */
typedef struct outcome {
    CURLcode rc;
    long status;
    int os_errno;
    char text[300];
} outcome;

static int fail(lh_model_http *h, const outcome *o, int attempts, const char *errbuf,
                size_t delivered, lh_err *err)
{
    char tries[48] = "";
    if (attempts > 1)
        snprintf(tries, sizeof tries, " (gave up after %d attempts)", attempts);
    /* Part of a streamed answer went out: say how far it got and why it was not retried. */
    if (delivered > 0 && o->rc == CURLE_OPERATION_TIMEDOUT) {
        lh_err_set(err, LH_TIMEOUT,
                   "%s at %s did not finish within %d ms (after %zu bytes of its answer; not "
                   "retried, as the answer had begun)",
                   h->provider, h->shown_url, h->timeout_ms, delivered);
    } else if (delivered > 0) {
        char reason[128];
        snprintf(reason, sizeof reason, "%s", curl_easy_strerror(o->rc));
        reason[0] = (char)tolower((unsigned char)reason[0]);
        lh_err_set(err, LH_UPSTREAM,
                   "%s at %s broke off after %zu bytes of its answer (%s; not retried, as the "
                   "answer had begun)",
                   h->provider, h->shown_url, delivered, reason);
    } else if (o->rc == CURLE_OK) {
        lh_err_set(err, LH_UPSTREAM, "%s at %s answered HTTP %ld: %s%s", h->provider,
                   h->shown_url, o->status, o->text, tries);
    } else if (o->rc == CURLE_OPERATION_TIMEDOUT) {
        lh_err_set(err, LH_TIMEOUT, "%s at %s did not answer within %d ms%s", h->provider,
                   h->shown_url, h->timeout_ms, tries);
    } else {
        char reason[128];
        if (o->os_errno != 0) {
            if (strerror_r(o->os_errno, reason, sizeof reason) != 0)
                snprintf(reason, sizeof reason, "errno %d", o->os_errno);
        } else {
            snprintf(reason, sizeof reason, "%s", curl_easy_strerror(o->rc));
        }
        reason[0] = (char)tolower((unsigned char)reason[0]);
        lh_err_set(err, LH_UPSTREAM, "cannot reach %s at %s: %s%s", h->provider, h->shown_url,
                   reason, tries);
    }
    if (errbuf && errbuf[0]) {
        char d[CURL_ERROR_SIZE];
        lh_model__scrub(h, errbuf, strlen(errbuf), d, sizeof d);
        lh_err_detail(err, "%s", d);
    }
    return -1;
}

int lh_model__http_post(lh_model_http *h, const char *path, const char *body, size_t len,
                        lh_buf *resp, lh_err *err)
{
    lh_model_req req = {.path = path, .body = body, .len = len};
    return lh_model__http_request(h, &req, resp, err);
}

int lh_model__http_request(lh_model_http *h, const lh_model_req *req, lh_buf *resp,
                           lh_err *err)
{
    CURL *c = handle_get(h);
    if (!c)
        return lh_err_set(err, LH_INTERNAL, "cannot create a curl handle");
    char *url = lh_xasprintf("%s%s", h->base_url, req->path);
    char *accept = lh_xasprintf("Accept: %s", req->accept ? req->accept : "application/json");
    struct curl_slist *headers = NULL;
    if (req->body)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, accept);
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    if (h->auth_header)
        headers = curl_slist_append(headers, h->auth_header);
    char errbuf[CURL_ERROR_SIZE];
    sink s = {.buf = resp, .max = h->max_response, .curl = c, .on_body = req->on_body,
              .ctx = req->ctx, .err = err};
    setup(h, c, url, req->body, req->len, headers, &s, errbuf);

    int rc = -1;
    outcome o = {0};
    for (int attempt = 0;; attempt++) {
        lh_buf_reset(resp);
        s.over = 0;
        s.got = s.delivered = 0;
        s.stopped = s.failed = 0;
        errbuf[0] = '\0';
        double t0 = lh_mono_ms();
        CURLcode cr = curl_easy_perform(c);
        atomic_fetch_add(&h->wait_us, (long long)((lh_mono_ms() - t0) * 1000.0));
        atomic_fetch_add(&h->requests, 1);

        memset(&o, 0, sizeof o);
        o.rc = cr;
        curl_off_t retry_after = 0;
        int retry;
        if (s.stopped) { /* the consumer had what it wanted */
            rc = 0;
            break;
        }
        if (s.failed) /* the consumer filled err; what it choked on will not improve */
            break;
        if (cr == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &o.status);
            if (o.status >= 200 && o.status < 300) {
                rc = 0;
                break;
            }
            lh_model__error_text(h, resp->data, resp->len, o.text, sizeof o.text);
            retry = o.status == 429 || o.status >= 500;
            if (retry)
                curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after);
        } else if (s.over || cr == CURLE_FILESIZE_EXCEEDED) {
            lh_err_set(err, LH_TOO_LARGE, "%s at %s answered with more than %zu MiB",
                       h->provider, h->shown_url, h->max_response >> 20);
            break;
        } else {
            long os_errno = 0;
            curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
            o.os_errno = (int)os_errno;
            retry = transient(cr);
        }
        /* A streamed answer that broke off is retried only if its consumer can forget
         * what it got: never once text has been shown to someone. */
        size_t delivered = s.delivered;
        if (retry && delivered > 0 && attempt < h->max_retries && req->restart &&
            req->restart(req->ctx) == 0)
            delivered = 0;
        if (!retry || attempt >= h->max_retries || delivered > 0) {
            fail(h, &o, attempt + 1, cr == CURLE_OK ? NULL : errbuf, delivered, err);
            break;
        }
        long wait = backoff_ms(h, attempt, (long)retry_after);
        LH_LOG_DEBUG("model", "%s at %s: attempt %d failed (%s %ld), retrying in %ld ms",
                     h->provider, h->shown_url, attempt + 1,
                     cr == CURLE_OK ? "HTTP" : "curl", cr == CURLE_OK ? o.status : (long)cr,
                     wait);
        atomic_fetch_add(&h->retries, 1);
        sleep_ms(wait);
    }
    /* The handle keeps pointers to this call's buffers: clear them before it is reused. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
    handle_put(h, c);
    curl_slist_free_all(headers);
    free(accept);
    free(url);
    return rc;
}
