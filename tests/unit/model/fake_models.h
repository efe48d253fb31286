/* Test helpers for the model module: start tests/fakes/fake_models.py as a child process on
 * a free port, steer it through /_control, read /_stats, and compute the vectors it answers
 * with. Each test starts its own server, so statistics never mix between tests. */
#ifndef LH_TEST_FAKE_MODELS_H
#define LH_TEST_FAKE_MODELS_H

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"

#define FAKE_SCRIPT LH_TEST_FIXTURES "/../fakes/fake_models.py"
#define FAKE_PYTHON "/usr/bin/python3"

typedef struct fake_server {
    pid_t pid;
    int stdin_fd; /* closing it makes the fake exit, even if this process dies */
    int port;
    char url[64];
} fake_server;

/* Starts the fake with extra arguments (NULL-terminated list). */
static void fake_start(fake_server *f, const char *const *extra)
{
    int in[2], out[2];
    cr_assert(pipe(in) == 0 && pipe(out) == 0);
    const char *argv[32] = {FAKE_PYTHON, FAKE_SCRIPT, "--port", "0", "--exit-on-stdin-eof"};
    int argc = 5;
    for (; extra && *extra && argc < 30; extra++)
        argv[argc++] = *extra;
    argv[argc] = NULL;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execv(FAKE_PYTHON, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    f->pid = pid;
    f->stdin_fd = in[1];
    char line[32] = {0};
    size_t n = 0;
    while (n + 1 < sizeof line) {
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        cr_assert(poll(&p, 1, 10000) == 1, "fake model server did not start");
        ssize_t r = read(out[0], line + n, 1);
        cr_assert(r == 1, "fake model server exited before printing its port");
        if (line[n] == '\n')
            break;
        n++;
    }
    close(out[0]);
    char *end;
    long port = strtol(line, &end, 10);
    cr_assert(port > 0 && port < 65536, "bad port line '%s'", line);
    f->port = (int)port;
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->port);
}

static void fake_stop(fake_server *f)
{
    if (f->pid <= 0)
        return;
    close(f->stdin_fd);
    kill(f->pid, SIGTERM);
    int st;
    waitpid(f->pid, &st, 0);
    f->pid = 0;
}

static size_t fake_sink(char *p, size_t size, size_t nmemb, void *ud)
{
    lh_buf_append(ud, p, size * nmemb);
    return size * nmemb;
}

/* A request to the fake's control side; returns the parsed answer (new reference). */
static json_t *fake_call(const fake_server *f, const char *path, const char *body)
{
    CURL *c = curl_easy_init();
    cr_assert_not_null(c);
    char url[128];
    snprintf(url, sizeof url, "%s%s", f->url, path);
    lh_buf b;
    lh_buf_init(&b);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fake_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    cr_assert(rc == CURLE_OK && status == 200, "%s: curl %d, HTTP %ld: %s", path, (int)rc,
              status, b.data ? b.data : "");
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    lh_buf_release(&b);
    cr_assert_not_null(j);
    return j;
}

static void fake_control(const fake_server *f, const char *json)
{
    json_decref(fake_call(f, "/_control", json));
}

static json_t *fake_stats(const fake_server *f)
{
    return fake_call(f, "/_stats", NULL);
}

static int64_t fake_stat_int(const fake_server *f, const char *key)
{
    json_t *s = fake_stats(f);
    json_t *v = json_object_get(s, key);
    bool is_int = json_is_integer(v);
    cr_assert(is_int, "no integer '%s' in /_stats", key);
    int64_t x = json_integer_value(v);
    json_decref(s);
    return x;
}

/* The vector the fake answers for text: see tests/fakes/fake_models.py. */
static float fake_value(const char *text, size_t len, size_t j)
{
    uint32_t h = 0x811C9DC5u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)text[i];
        h *= 0x01000193u;
    }
    uint64_t x = ((uint64_t)h + (uint64_t)j * 2654435761ull) % (1ull << 32);
    double v = (double)x / 4294967296.0 * 2.0 - 1.0;
    return (float)(round(v * 1e6) / 1e6);
}

static void fake_assert_rows(const char *const *texts, const size_t *lens, size_t n,
                             size_t dims, const float *out)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < dims; j++) {
            float want = fake_value(texts[i], lens[i], j);
            cr_assert(fabsf(out[i * dims + j] - want) < 2e-6f, "row %zu [%zu]: %f != %f", i, j,
                      out[i * dims + j], want);
        }
}

/* A loopback port nothing listens on: bound, then closed. */
__attribute__((unused)) static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t al = sizeof a;
    cr_assert(getsockname(s, (struct sockaddr *)&a, &al) == 0);
    close(s);
    return ntohs(a.sin_port);
}

#endif
