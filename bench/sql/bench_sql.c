/* bench_sql: SQL through the HTTP API against DuckDB in-process on the same Parquet file.
 * Writes a seeded 1M-row Parquet file with DuckDB, starts `lakehouse serve`, registers the
 * file as dataset `sales`, then times each case over HTTP (libcurl, the whole response
 * received) and through the DuckDB C API (every value of every chunk touched), and prints
 * medians and their ratio. Built and run by bench/sql/run.sh. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <curl/curl.h>
#include <duckdb.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define SEED "0.42"
#define MAX_RUNS 64

typedef struct bench_case {
    const char *name;
    const char *sql; /* "%s" stands for the table: sales, or read_parquet('file') */
} bench_case;

static const bench_case CASES[] = {
    {"a_group_by_1M",
     "SELECT category, region, count(*), sum(amount), avg(qty) FROM %s GROUP BY ALL "
     "ORDER BY ALL"},
    {"b_select_100k_json", "SELECT * FROM %s LIMIT 100000"},
};

/* ---- small helpers ------------------------------------------------------------------------ */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_sql: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A growable byte buffer for HTTP bodies; reused across runs like a real client would. */
typedef struct body {
    char *data;
    size_t len, cap;
} body;

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
    body *b = userdata;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return 0; /* curl reports a write error */
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* ---- DuckDB side -------------------------------------------------------------------------- */

static void db_exec(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        die("duckdb: %s\n  in: %.200s", duckdb_result_error(&res), sql);
    duckdb_destroy_result(&res);
}

static void write_parquet(duckdb_connection con, const char *path, long rows)
{
    char sql[4096];
    /* One thread while generating: random() is then one seeded sequence in row order. */
    db_exec(con, "SET threads = 1");
    db_exec(con, "SELECT setseed(" SEED ")");
    snprintf(sql, sizeof sql,
             "COPY (SELECT i::BIGINT AS id, "
             "'cat_' || lpad(CAST(floor(random() * 50) AS INTEGER)::VARCHAR, 2, '0') AS category, "
             "(['north', 'south', 'east', 'west', 'central', 'overseas'])"
             "[1 + CAST(floor(random() * 6) AS INTEGER)] AS region, "
             "CAST(round(random() * 10000, 2) AS DECIMAL(12,2)) AS amount, "
             "CAST(1 + floor(random() * 100) AS INTEGER) AS qty, "
             "TIMESTAMP '2024-01-01 00:00:00' + "
             "to_seconds(CAST(floor(random() * 31536000) AS BIGINT)) AS ts, "
             "'order ' || i || ' ' || repeat('x', CAST(floor(random() * 24) AS INTEGER)) AS note "
             "FROM range(%ld) t(i) ORDER BY i) TO '%s' (FORMAT parquet, COMPRESSION zstd)",
             rows, path);
    db_exec(con, sql);
    db_exec(con, "RESET threads");
}

static uint64_t sink; /* keeps the touching loops from being optimised away */

/* Reads every value of one vector, the way a consumer of the result would. */
static void touch_vector(duckdb_vector v, duckdb_type t, duckdb_type dec_internal, idx_t n)
{
    uint64_t *valid = duckdb_vector_get_validity(v);
    void *data = duckdb_vector_get_data(v);
    uint64_t acc = 0;
    if (t == DUCKDB_TYPE_DECIMAL)
        t = dec_internal;
    for (idx_t i = 0; i < n; i++) {
        if (valid && !duckdb_validity_row_is_valid(valid, i))
            continue;
        switch (t) {
        case DUCKDB_TYPE_BOOLEAN:
        case DUCKDB_TYPE_TINYINT:
        case DUCKDB_TYPE_UTINYINT:
            acc += ((uint8_t *)data)[i];
            break;
        case DUCKDB_TYPE_SMALLINT:
        case DUCKDB_TYPE_USMALLINT:
            acc += ((uint16_t *)data)[i];
            break;
        case DUCKDB_TYPE_INTEGER:
        case DUCKDB_TYPE_UINTEGER:
        case DUCKDB_TYPE_FLOAT:
        case DUCKDB_TYPE_DATE:
            acc += ((uint32_t *)data)[i];
            break;
        case DUCKDB_TYPE_HUGEINT:
        case DUCKDB_TYPE_UHUGEINT:
            acc += ((uint64_t *)data)[2 * i] ^ ((uint64_t *)data)[2 * i + 1];
            break;
        case DUCKDB_TYPE_VARCHAR:
        case DUCKDB_TYPE_BLOB: {
            duckdb_string_t *s = &((duckdb_string_t *)data)[i];
            uint32_t len = duckdb_string_t_length(*s);
            const char *p = duckdb_string_t_data(s);
            for (uint32_t k = 0; k < len; k++)
                acc += (unsigned char)p[k];
            break;
        }
        default: /* BIGINT, UBIGINT, DOUBLE, TIMESTAMP*: 8 bytes */
            acc += ((uint64_t *)data)[i];
            break;
        }
    }
    sink += acc;
}

/* Runs sql in-process and touches every value; returns the number of rows. */
static long run_duckdb(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) == DuckDBError)
        die("duckdb: %s", duckdb_result_error(&res));
    idx_t ncols = duckdb_column_count(&res);
    duckdb_type types[64], internal[64];
    if (ncols > 64)
        die("too many columns");
    for (idx_t c = 0; c < ncols; c++) {
        duckdb_logical_type lt = duckdb_column_logical_type(&res, c);
        types[c] = duckdb_get_type_id(lt);
        internal[c] = types[c] == DUCKDB_TYPE_DECIMAL ? duckdb_decimal_internal_type(lt)
                                                      : types[c];
        duckdb_destroy_logical_type(&lt);
    }
    long rows = 0;
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        if (!chunk)
            break;
        idx_t n = duckdb_data_chunk_get_size(chunk);
        for (idx_t c = 0; c < ncols; c++)
            touch_vector(duckdb_data_chunk_get_vector(chunk, c), types[c], internal[c], n);
        rows += (long)n;
        duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    return rows;
}

/* ---- server side -------------------------------------------------------------------------- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("cannot find a free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t start_server(const char *bin, const char *data_dir, int port, const char *log)
{
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(bin, "lakehouse", "serve", "--data", data_dir, "--listen", listen, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* One HTTP request on the shared handle; returns the status, body in *out. */
static long http(CURL *h, const char *method, const char *url, const char *json,
                 FILE *upload, curl_off_t upload_size, body *out)
{
    struct curl_slist *hdrs = NULL;
    out->len = 0;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 600L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (json) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    } else if (upload) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READDATA, upload);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, upload_size);
    }
    if (method)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK)
        return -1;
    if (out->data == NULL)
        on_body("", 1, 0, out);
    return status;
}

static void wait_healthy(CURL *h, const char *base, pid_t pid, body *b)
{
    char url[256];
    snprintf(url, sizeof url, "%s/health", base);
    for (int i = 0; i < 600; i++) {
        if (http(h, NULL, url, NULL, NULL, 0, b) == 200)
            return;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            die("the server exited during start (see its log)");
        usleep(50 * 1000);
    }
    die("the server did not answer /health within 30 s");
}

/* Escapes sql into a JSON string body {"sql": "..."}; the SQL here has no exotic chars. */
static void query_body(char *out, size_t cap, const char *sql)
{
    size_t o = 0;
    o += (size_t)snprintf(out, cap, "{\"sql\":\"");
    for (const char *p = sql; *p && o + 3 < cap; p++) {
        if (*p == '"' || *p == '\\')
            out[o++] = '\\';
        out[o++] = *p;
    }
    snprintf(out + o, cap - o, "\"}");
}

/* ---- main --------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *bin = NULL, *out_path = NULL;
    long rows = 1000000;
    int runs = 7;
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bin") && i + 1 < argc)
            bin = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out_path = argv[++i];
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = (int)strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else
            die("usage: bench_sql --bin LAKEHOUSE [--out FILE] [--rows N] [--runs N] [--keep]");
    }
    if (!bin)
        die("--bin is required");
    if (runs < 1 || runs > MAX_RUNS || rows < 1)
        die("bad --runs or --rows");

    char work[] = "/tmp/lh-bench-sql-XXXXXX";
    if (!mkdtemp(work))
        die("mkdtemp: %s", strerror(errno));
    char pq[512], data[512], log[512], base[64], url[512];
    snprintf(pq, sizeof pq, "%s/sales.parquet", work);
    snprintf(data, sizeof data, "%s/data", work);
    snprintf(log, sizeof log, "%s/server.log", work);

    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        die("cannot open DuckDB");
    double t0 = now_ms();
    write_parquet(con, pq, rows);
    struct stat st;
    if (stat(pq, &st) != 0)
        die("no parquet written");
    fprintf(stderr, "generated %ld rows (%.1f MB) in %.0f ms\n", rows, st.st_size / 1e6,
            now_ms() - t0);

    int port = free_port();
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    pid_t pid = start_server(bin, data, port, log);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    body b = {0};
    wait_healthy(h, base, pid, &b);

    FILE *f = fopen(pq, "rb");
    if (!f)
        die("open %s: %s", pq, strerror(errno));
    snprintf(url, sizeof url, "%s/storage/objects/bench/sales.parquet", base);
    long status = http(h, NULL, url, NULL, f, (curl_off_t)st.st_size, &b);
    fclose(f);
    if (status != 201)
        die("PUT parquet: %ld %s", status, b.data ? b.data : "");
    snprintf(url, sizeof url, "%s/catalog/datasets", base);
    status = http(h, NULL, url, "{\"name\":\"sales\",\"objects\":[\"bench/sales.parquet\"]}",
                  NULL, 0, &b);
    if (status != 201)
        die("register: %ld %s", status, b.data ? b.data : "");

    char report[8192];
    size_t rl = 0;
    rl += (size_t)snprintf(report + rl, sizeof report - rl,
                           "SQL over HTTP vs DuckDB in-process (%ld-row Parquet, seed %s, "
                           "%d runs after 1 warm-up, medians)\n"
                           "%-20s %8s %12s %12s %8s %10s\n",
                           rows, SEED, runs, "case", "rows", "HTTP ms", "DuckDB ms", "ratio",
                           "HTTP MB");
    snprintf(url, sizeof url, "%s/query/sql", base);
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        char sql_http[1024], sql_duck[1024], req[2048], table[600], expect[64];
        snprintf(sql_http, sizeof sql_http, CASES[c].sql, "sales");
        snprintf(table, sizeof table, "read_parquet('%s')", pq);
        snprintf(sql_duck, sizeof sql_duck, CASES[c].sql, table);
        query_body(req, sizeof req, sql_http);
        double th[MAX_RUNS], td[MAX_RUNS];
        long nrows = 0;
        for (int r = -1; r < runs; r++) { /* r == -1: warm-up of both */
            double s = now_ms();
            status = http(h, NULL, url, req, NULL, 0, &b);
            double e = now_ms();
            if (status != 200)
                die("%s: HTTP %ld %.300s", CASES[c].name, status, b.data ? b.data : "");
            double d0 = now_ms();
            nrows = run_duckdb(con, sql_duck);
            double d1 = now_ms();
            if (r >= 0) {
                th[r] = e - s;
                td[r] = d1 - d0;
            }
        }
        snprintf(expect, sizeof expect, "\"row_count\":%ld", nrows);
        if (!strstr(b.data, expect))
            die("%s: the HTTP answer does not say %s", CASES[c].name, expect);
        double mh = median(th, runs), md = median(td, runs);
        rl += (size_t)snprintf(report + rl, sizeof report - rl,
                               "%-20s %8ld %12.1f %12.1f %8.2f %10.2f\n", CASES[c].name, nrows,
                               mh, md, mh / md, b.len / 1e6);
    }
    rl += (size_t)snprintf(report + rl, sizeof report - rl,
                           "goal: ratio <= 1.10 (ARCHITECTURE.md section 9)\n");
    fputs(report, stdout);
    if (out_path) {
        FILE *o = fopen(out_path, "w");
        if (!o || fputs(report, o) < 0 || fclose(o) != 0)
            die("cannot write %s", out_path);
    }

    kill(pid, SIGTERM);
    int wst = 0;
    waitpid(pid, &wst, 0);
    if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0)
        fprintf(stderr, "warning: the server did not exit 0 (log: %s)\n", log);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    free(b.data);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    fprintf(stderr, "checksum %llu\n", (unsigned long long)sink);
    if (!keep) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
        if (system(cmd) != 0)
            fprintf(stderr, "warning: could not remove %s\n", work);
    } else {
        fprintf(stderr, "kept %s\n", work);
    }
    return 0;
}
