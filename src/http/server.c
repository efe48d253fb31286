/* The server: owns the MHD daemon, its listening socket and the stop self-pipe.
 * MHD runs one thread per connection (a slow query or upload blocks only its own client)
 * plus a polling thread that accepts. Shutdown: a signal or lh_server_request_stop writes
 * to the self-pipe, lh_server_wait wakes, quiesces the daemon (closes the listening socket),
 * waits for requests in flight (bounded by LH_HTTP_GRACE_MS), then stops MHD. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/http_int.h"

#define MHD_CONN_MEMORY (128u << 10) /* per connection: headers + upload buffer */
#define DEFAULT_MAX_CONNECTIONS 256

/* The one mutable global of the module: the write end of the self-pipe of the server that
 * is inside lh_server_wait, for the signal handler (which can reach nothing else). */
static atomic_int g_signal_fd = -1;

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    int fd = atomic_load(&g_signal_fd);
    if (fd >= 0) {
        ssize_t r = write(fd, "s", 1); /* a full pipe already means "stop" */
        (void)r;
    }
    errno = saved;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    return lh_http__req_new(cls, uri);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    lh_http_req *req = *con_cls;
    if (!req)
        return;
    lh_http__access_log(req, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    lh_http__req_free(req);
    *con_cls = NULL;
}

/* MHD's own diagnostics (bad requests it refuses itself, socket errors) go to our log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    LH_LOG_WARN("http", "mhd: %s", line);
}

static int set_flags(int fd, lh_err *err)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return lh_err_errno(err, errno, "cannot set up a server descriptor");
    return 0;
}

/* Binds and listens on the first address host resolves to. host may be a name, an IPv4
 * or IPv6 literal (brackets allowed), or ""/"*" for every interface. */
static int open_listener(lh_server *s, const char *host_in, int port, lh_err *err)
{
    char host[128];
    snprintf(host, sizeof host, "%s", host_in ? host_in : "");
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    bool any = host[0] == '\0' || strcmp(host, "*") == 0;
    if (port < 0 || port > 65535)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "listen port %d out of range", port);
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(any ? NULL : host, portstr, &hints, &res);
    if (rc != 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "cannot resolve listen address '%s': %s",
                          host, gai_strerror(rc));
    int fd = -1;
    int last_errno = EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* best effort */
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
            last_errno = errno;
            close(fd);
            fd = -1;
            continue;
        }
        /* Record the numeric address actually bound, for the "listening on" line. */
        char num[INET6_ADDRSTRLEN] = "?";
        (void)getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof num, NULL, 0, NI_NUMERICHOST);
        if (ai->ai_family == AF_INET6)
            snprintf(s->host, sizeof s->host, "[%s]", num);
        else
            snprintf(s->host, sizeof s->host, "%s", num);
    }
    freeaddrinfo(res);
    if (fd < 0)
        return lh_err_set(err, LH_IO_ERROR, "cannot listen on '%s:%d': %s", host, port,
                          strerror(last_errno));
    if (set_flags(fd, err) != 0) {
        close(fd);
        return -1;
    }
    s->listen_fd = fd;
    return 0;
}

lh_server *lh_server_start(lh_lake *lake, const lh_config *config, lh_err *err)
{
    return lh_server_start_with(lake, config, NULL, err);
}

lh_server *lh_server_start_with(lh_lake *lake, const lh_config *config, const lh_services *svc,
                                lh_err *err)
{
    lh_server *s = lh_xcalloc(1, sizeof *s);
    s->lake = lake;
    if (svc)
        s->services = *svc;
    s->config = config;
    s->listen_fd = -1;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    atomic_init(&s->inflight, 0);
    atomic_init(&s->next_id, 0);
    if (pipe(s->stop_pipe) != 0) {
        lh_err_errno(err, errno, "cannot create the server stop pipe");
        goto fail;
    }
    if (set_flags(s->stop_pipe[0], err) != 0 || set_flags(s->stop_pipe[1], err) != 0)
        goto fail;
    if (open_listener(s, config->listen_host, config->listen_port, err) != 0)
        goto fail;

    unsigned max_conn = config->http_max_connections > 0 ? (unsigned)config->http_max_connections
                                                         : DEFAULT_MAX_CONNECTIONS;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_USE_POLL;
    /* The logger comes first so that MHD reports problems with later options through it. */
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, &lh_http__dispatch, s,
        MHD_OPTION_EXTERNAL_LOGGER, &on_mhd_log, s,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_CONNECTION_TIMEOUT, LH_HTTP_CONN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MHD_CONN_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, &on_completed, s,
        MHD_OPTION_URI_LOG_CALLBACK, &on_uri, s,
        MHD_OPTION_END);
    if (!s->daemon) {
        lh_err_set(err, LH_IO_ERROR, "cannot start the http server on %s", s->host);
        goto fail;
    }
    s->listen_fd = -1; /* MHD owns it now, until quiesce hands it back */
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (int)info->port : config->listen_port;
    LH_LOG_INFO("http", "listening on http://%s:%d", s->host, s->port);
    return s;
fail:
    lh_server_free(s);
    return NULL;
}

int lh_server_port(const lh_server *s)
{
    return s->port;
}

void lh_server_request_stop(lh_server *s)
{
    ssize_t r = write(s->stop_pipe[1], "x", 1); /* EAGAIN: a stop is already pending */
    (void)r;
}

/* Sleeps until the stop pipe is readable. */
static void wait_for_stop(lh_server *s)
{
    struct pollfd pfd = {.fd = s->stop_pipe[0], .events = POLLIN};
    for (;;) {
        int rc = poll(&pfd, 1, -1);
        if (rc > 0)
            break;
        if (rc < 0 && errno != EINTR) {
            LH_LOG_ERROR("http", "waiting for a stop request failed: %s; stopping",
                         strerror(errno));
            break;
        }
    }
    char junk[64];
    while (read(s->stop_pipe[0], junk, sizeof junk) > 0) {
    }
}

int lh_server_wait(lh_server *s, lh_err *err)
{
    (void)err; /* stopping cannot fail in a way the caller could act on */
    if (!s->daemon)
        return 0;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    atomic_store(&g_signal_fd, s->stop_pipe[1]);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    wait_for_stop(s);

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    atomic_store(&g_signal_fd, -1);

    LH_LOG_INFO("http", "stopping: %d requests in flight", atomic_load(&s->inflight));
    MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    double deadline = lh_mono_ms() + LH_HTTP_GRACE_MS;
    while (atomic_load(&s->inflight) > 0 && lh_mono_ms() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int left = atomic_load(&s->inflight);
    if (left > 0)
        LH_LOG_WARN("http", "grace period over: closing %d unfinished requests", left);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    LH_LOG_INFO("http", "stopped");
    return 0;
}

void lh_server_free(lh_server *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    for (int i = 0; i < 2; i++)
        if (s->stop_pipe[i] >= 0)
            close(s->stop_pipe[i]);
    free(s);
}
