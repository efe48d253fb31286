/* Unit tests for src/core/config.c: defaults, every key through lh_config_set, the file,
 * the environment, precedence, validation errors that name the key, and --print-config JSON. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lh_config_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_remove_tree(tmpdir, &err), 0));
}

TestSuite(config, .init = make_tmpdir, .fini = remove_tmpdir);

static char *write_file(const char *name, const char *text)
{
    char *path = lh_xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void expect_set_error(const char *key, const char *value, const char *message)
{
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_set(&c, key, value, &err), -1), "%s=%s accepted", key, value);
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(eq(str, err.message, (char *)message));
    /* A refused value leaves the setting as it was. */
    json_t *got = lh_config_to_json(&c);
    lh_config d;
    lh_config_init(&d);
    json_t *want = lh_config_to_json(&d);
    cr_assert(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    lh_config_release(&c);
    lh_config_release(&d);
}

static const char *const default_json =
    "{\"buckets\":{\"primary\":{\"root\":\"buckets/primary\"}},"
    "\"embed\":{\"api_key\":\"\",\"batch\":64,\"concurrency\":4,\"dims\":0,\"model\":\"\",\"provider\":\"lexical\",\"url\":\"\"},"
    "\"generate\":{\"api_key\":\"\",\"model\":\"\",\"provider\":\"\",\"temperature\":0.0,\"timeout_ms\":120000,\"url\":\"\"},"
    "\"query\":{\"cache_max_bytes\":1073741824,\"connections\":8,"
    "\"max_result_bytes\":4294967296,\"max_rows\":10000000,"
    "\"memory_limit\":\"\",\"threads\":0,\"timeout_ms\":30000},"
    "\"rerank\":{\"model\":\"\"},"
    "\"server\":{\"data_dir\":\"./lakehouse-data\",\"listen\":\"127.0.0.1:3100\","
    "\"log_level\":\"info\",\"max_body_bytes\":1048576,\"max_connections\":256,"
    "\"max_upload_bytes\":17179869184,\"secrets_file\":\"\"},\"vector\":{\"ef_search\":64,\"exact_below\":5000,\"hnsw_ef_construction\":200,\"hnsw_m\":16,\"workers\":2}}";

static void expect_config_json(const lh_config *c, const char *want)
{
    json_t *j = lh_config_to_json(c);
    char *got = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    cr_assert(eq(str, got, (char *)want));
    free(got);
    json_decref(j);
}

Test(config, defaults)
{
    lh_config c;
    lh_config_init(&c);
    cr_assert_null(c.config_path);
    cr_assert(eq(str, c.data_dir, "./lakehouse-data"));
    cr_assert(eq(str, c.listen_host, "127.0.0.1"));
    cr_assert(eq(int, c.listen_port, 3100));
    cr_assert(eq(int, c.http_max_connections, 256));
    cr_assert(eq(i64, c.max_body_bytes, 1048576));
    cr_assert(eq(i64, c.max_upload_bytes, INT64_C(16) << 30));
    cr_assert(eq(str, c.log_level, "info"));
    cr_assert(eq(int, c.query_timeout_ms, 30000));
    cr_assert(eq(i64, c.query_max_rows, 10000000));
    cr_assert(eq(i64, c.query_max_bytes, INT64_C(4) << 30));
    cr_assert(eq(int, c.query_connections, 8));
    cr_assert(eq(int, c.query_threads, 0));
    cr_assert(eq(str, c.query_memory_limit, ""));
    cr_assert(eq(str, c.secrets_file, ""));
    expect_config_json(&c, default_json);
    lh_config_release(&c);
    cr_assert_null(c.data_dir);
    lh_config_release(&c); /* twice is harmless */
}

Test(config, set_every_key)
{
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    static const char *const kv[][2] = {
        {"server.data_dir", "/srv/lake"},      {"server.listen", "0.0.0.0:8080"},
        {"server.max_connections", "10"},      {"server.max_body_bytes", "2MiB"},
        {"server.max_upload_bytes", "1GB"},    {"server.log_level", "debug"},
        {"query.timeout_ms", "500"},           {"query.max_rows", "1000"},
        {"query.max_result_bytes", "512KiB"},  {"query.connections", "4"},
        {"query.threads", "2"},                {"query.memory_limit", "4GB"},
        {"server.secrets_file", "/etc/lake/secrets.toml"}, {"query.cache_max_bytes", "64MiB"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(kv); i++)
        cr_assert(eq(int, lh_config_set(&c, kv[i][0], kv[i][1], &err), 0), "%s: %s", kv[i][0],
                  err.message);
    expect_config_json(&c, "{\"buckets\":{\"primary\":{\"root\":\"buckets/primary\"}},"
                           "\"embed\":{\"api_key\":\"\",\"batch\":64,\"concurrency\":4,\"dims\":0,\"model\":\"\",\"provider\":\"lexical\",\"url\":\"\"},"
                           "\"generate\":{\"api_key\":\"\",\"model\":\"\",\"provider\":\"\",\"temperature\":0.0,\"timeout_ms\":120000,\"url\":\"\"},"
                           "\"query\":{\"cache_max_bytes\":67108864,\"connections\":4,"
                           "\"max_result_bytes\":524288,"
                           "\"max_rows\":1000,\"memory_limit\":\"4GB\",\"threads\":2,"
                           "\"timeout_ms\":500},\"rerank\":{\"model\":\"\"},\"server\":{\"data_dir\":\"/srv/lake\","
                           "\"listen\":\"0.0.0.0:8080\",\"log_level\":\"debug\","
                           "\"max_body_bytes\":2097152,\"max_connections\":10,"
                           "\"max_upload_bytes\":1000000000,"
                           "\"secrets_file\":\"/etc/lake/secrets.toml\"},\"vector\":{\"ef_search\":64,\"exact_below\":5000,\"hnsw_ef_construction\":200,\"hnsw_m\":16,\"workers\":2}}");
    cr_assert(eq(int, c.listen_port, 8080));
    cr_assert(eq(str, c.listen_host, "0.0.0.0"));
    lh_config_release(&c);
}

Test(config, listen_forms)
{
    static const struct {
        const char *in, *host;
        int port;
        const char *shown;
    } cases[] = {
        {"localhost:9000", "localhost", 9000, "localhost:9000"},
        {"[::1]:9001", "::1", 9001, "[::1]:9001"},
        {":4000", "127.0.0.1", 4000, "127.0.0.1:4000"},
        {"5000", "127.0.0.1", 5000, "127.0.0.1:5000"},
        {"0.0.0.0:0", "0.0.0.0", 0, "0.0.0.0:0"},
        {"h:65535", "h", 65535, "h:65535"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        lh_config c;
        lh_config_init(&c);
        lh_err err = LH_ERR_INIT;
        cr_assert(eq(int, lh_config_set(&c, "server.listen", cases[i].in, &err), 0), "%s: %s",
                  cases[i].in, err.message);
        cr_assert(eq(str, c.listen_host, (char *)cases[i].host));
        cr_assert(eq(int, c.listen_port, cases[i].port));
        json_t *j = lh_config_to_json(&c);
        cr_assert(eq(str, (char *)json_string_value(json_object_get(
                              json_object_get(j, "server"), "listen")),
                     (char *)cases[i].shown));
        json_decref(j);
        lh_config_release(&c);
    }
}

Test(config, listen_errors)
{
    const char *port_msg = "server.listen: invalid address '%s' (expected host:port with port "
                           "0..65535)";
    static const char *const bad[] = {"h:65536", "h:", "h:-1", "h:+80", "h:80x", "", "x", ":"};
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        char msg[256];
        snprintf(msg, sizeof msg, port_msg, bad[i]);
        expect_set_error("server.listen", bad[i], msg);
    }
    expect_set_error("server.listen", "::1:80",
                     "server.listen: invalid address '::1:80' (write IPv6 addresses as "
                     "[addr]:port)");
    expect_set_error("server.listen", "[::1]80",
                     "server.listen: invalid address '[::1]80' (expected [ipv6]:port)");
    expect_set_error("server.listen", "[]:80",
                     "server.listen: invalid address '[]:80' (expected [ipv6]:port)");
    expect_set_error("server.listen", "a b:80", "server.listen: invalid host in 'a b:80'");
}

Test(config, sizes_with_units)
{
    static const struct {
        const char *in;
        int64_t bytes;
    } cases[] = {
        {"64MiB", INT64_C(64) << 20}, {"1GB", 1000000000},        {"512KiB", 512 * 1024},
        {"16GiB", INT64_C(16) << 30}, {"1024", 1024},             {"3 kb", 3000},
        {"2TiB", INT64_C(2) << 40},   {"7B", 7},                  {"5mb", 5000000},
        {"1TB", INT64_C(1000000000000)},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        lh_config c;
        lh_config_init(&c);
        lh_err err = LH_ERR_INIT;
        cr_assert(eq(int, lh_config_set(&c, "server.max_upload_bytes", cases[i].in, &err), 0),
                  "%s: %s", cases[i].in, err.message);
        cr_assert(eq(i64, c.max_upload_bytes, cases[i].bytes), "%s", cases[i].in);
        lh_config_release(&c);
    }
}

Test(config, validation_errors_name_the_key)
{
    expect_set_error("server.listn", "1", "unknown config key 'server.listn'");
    expect_set_error("listen", "1", "unknown config key 'listen'");
    expect_set_error("server.max_body_bytes", "0", "server.max_body_bytes: 0 is out of range "
                                                   "1..1073741824");
    expect_set_error("server.max_body_bytes", "2GiB",
                     "server.max_body_bytes: 2147483648 is out of range 1..1073741824");
    expect_set_error("query.max_result_bytes", "-5",
                     "query.max_result_bytes: -5 is out of range 1..4611686018427387904");
    expect_set_error("server.max_upload_bytes", "12XB",
                     "server.max_upload_bytes: invalid size '12XB' (expected bytes or e.g. "
                     "64MiB, 1GB)");
    expect_set_error("server.max_upload_bytes", "1.5GB",
                     "server.max_upload_bytes: invalid size '1.5GB' (expected bytes or e.g. "
                     "64MiB, 1GB)");
    expect_set_error("server.max_upload_bytes", "99999999999TiB",
                     "server.max_upload_bytes: invalid size '99999999999TiB' (expected bytes or "
                     "e.g. 64MiB, 1GB)");
    expect_set_error("query.timeout_ms", "abc", "query.timeout_ms: 'abc' is not an integer");
    expect_set_error("query.timeout_ms", "10s", "query.timeout_ms: '10s' is not an integer");
    expect_set_error("query.timeout_ms", "0", "query.timeout_ms: 0 is out of range 1..86400000");
    expect_set_error("query.timeout_ms", "99999999999999999999",
                     "query.timeout_ms: '99999999999999999999' is not an integer");
    expect_set_error("query.connections", "0", "query.connections: 0 is out of range 1..1024");
    expect_set_error("query.threads", "-1", "query.threads: -1 is out of range 0..1024");
    expect_set_error("query.max_rows", "0", "query.max_rows: 0 is out of range "
                                            "1..4611686018427387904");
    expect_set_error("server.max_connections", "",
                     "server.max_connections: '' is not an integer");
    expect_set_error("server.log_level", "verbose",
                     "server.log_level: unknown log level 'verbose' (expected error, warn, info "
                     "or debug)");
    expect_set_error("server.data_dir", "", "server.data_dir must not be empty");
    expect_set_error("query.memory_limit", "lots",
                     "query.memory_limit: invalid size 'lots' (expected e.g. 4GB, 512MiB)");
    expect_set_error("query.memory_limit", "10KB",
                     "query.memory_limit: '10KB' is below the minimum of 1MiB");
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_set(&c, "query.threads", NULL, &err), -1));
    cr_assert(eq(str, err.message, "query.threads: missing value"));
    char *huge = lh_xcalloc(5000, 1);
    memset(huge, 'a', 4999);
    cr_assert(eq(int, lh_config_set(&c, "server.data_dir", huge, &err), -1));
    cr_assert(eq(str, err.message, "server.data_dir: value longer than 4096 bytes"));
    free(huge);
    lh_config_release(&c);
}

Test(config, memory_limit_normalized_for_duckdb)
{
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_set(&c, "query.memory_limit", "1073741824", &err), 0));
    cr_assert(eq(str, c.query_memory_limit, "1073741824B"));
    cr_assert(eq(int, lh_config_set(&c, "query.memory_limit", "512MiB", &err), 0));
    cr_assert(eq(str, c.query_memory_limit, "512MiB"));
    cr_assert(eq(int, lh_config_set(&c, "query.memory_limit", "", &err), 0));
    cr_assert(eq(str, c.query_memory_limit, ""));
    lh_config_release(&c);
}

Test(config, load_file)
{
    char *path = write_file("lakehouse.toml",
                            "# test config\n[server]\ndata_dir = \"/data/lake\"\n"
                            "listen = \"[::1]:3200\"\nmax_body_bytes = \"2MiB\"\n"
                            "max_upload_bytes = 1048576\nlog_level = 'warn'\n"
                            "max_connections = 32\n\n[query]\ntimeout_ms = 1_000\n"
                            "max_rows = 50\nmax_result_bytes = \"1GiB\"\nconnections = 2\n"
                            "threads = 3\nmemory_limit = \"2GB\"\n");
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load_file(&c, path, true, &err), 0), "%s", err.message);
    cr_assert(eq(str, c.config_path, path));
    expect_config_json(&c, "{\"buckets\":{\"primary\":{\"root\":\"buckets/primary\"}},"
                           "\"embed\":{\"api_key\":\"\",\"batch\":64,\"concurrency\":4,\"dims\":0,\"model\":\"\",\"provider\":\"lexical\",\"url\":\"\"},"
                           "\"generate\":{\"api_key\":\"\",\"model\":\"\",\"provider\":\"\",\"temperature\":0.0,\"timeout_ms\":120000,\"url\":\"\"},"
                           "\"query\":{\"cache_max_bytes\":1073741824,\"connections\":2,"
                           "\"max_result_bytes\":1073741824,"
                           "\"max_rows\":50,\"memory_limit\":\"2GB\",\"threads\":3,"
                           "\"timeout_ms\":1000},\"rerank\":{\"model\":\"\"},\"server\":{\"data_dir\":\"/data/lake\","
                           "\"listen\":\"[::1]:3200\",\"log_level\":\"warn\","
                           "\"max_body_bytes\":2097152,\"max_connections\":32,"
                           "\"max_upload_bytes\":1048576,\"secrets_file\":\"\"},\"vector\":{\"ef_search\":64,\"exact_below\":5000,\"hnsw_ef_construction\":200,\"hnsw_m\":16,\"workers\":2}}");
    lh_config_release(&c);
    free(path);
}

/* Loads text as a config file and expects the exact message; the config must be unchanged. */
static void expect_file_error(const char *text, lh_code code, const char *message_fmt)
{
    char *path = write_file("bad.toml", text);
    char message[512];
    snprintf(message, sizeof message, message_fmt, path);
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load_file(&c, path, true, &err), -1));
    cr_assert(eq(int, err.code, code));
    cr_assert(eq(str, err.message, message));
    cr_assert_null(c.config_path);
    expect_config_json(&c, default_json);
    lh_config_release(&c);
    free(path);
}

/* server.secrets_file: from the file, the environment and lh_config_set; "" restores the
 * default (<data>/secrets.toml); a non-string in the file is refused. */
Test(config, secrets_file)
{
    char *path = write_file("secrets.toml.conf",
                            "[server]\nsecrets_file = \"/etc/lake/creds.toml\"\n");
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load_file(&c, path, true, &err), 0), "%s", err.message);
    cr_assert(eq(str, c.secrets_file, "/etc/lake/creds.toml"));
    char *envp[] = {"LAKEHOUSE_SERVER_SECRETS_FILE=conf/creds.toml", NULL};
    cr_assert(eq(int, lh_config_apply_env(&c, envp, &err), 0), "%s", err.message);
    cr_assert(eq(str, c.secrets_file, "conf/creds.toml"));
    cr_assert(eq(int, lh_config_set(&c, "server.secrets_file", "", &err), 0));
    cr_assert(eq(str, c.secrets_file, ""));
    lh_config_release(&c);
    free(path);
    expect_file_error("[server]\nsecrets_file = 600\n", LH_INVALID_ARGUMENT,
                      "config '%s': server.secrets_file must be a string");
}

Test(config, file_errors)
{
    expect_file_error("[server]\nlisten = \":1\"\nlisten_port = 1\n", LH_INVALID_ARGUMENT,
                      "config '%s': unknown config key 'server.listen_port'");
    expect_file_error("[serve]\nlisten = \"1\"\n", LH_INVALID_ARGUMENT,
                      "config '%s': unknown config key 'serve'");
    expect_file_error("data_dir = \"x\"\n", LH_INVALID_ARGUMENT,
                      "config '%s': unknown config key 'data_dir'");
    expect_file_error("server = 1\n", LH_INVALID_ARGUMENT,
                      "config '%s': 'server' must be a table ([server])");
    expect_file_error("[server]\ndata_dir = 5\n", LH_INVALID_ARGUMENT,
                      "config '%s': server.data_dir must be a string");
    expect_file_error("[server]\nmax_connections = \"10\"\n", LH_INVALID_ARGUMENT,
                      "config '%s': server.max_connections must be an integer, not a string");
    expect_file_error("[server]\nmax_body_bytes = 1.5\n", LH_INVALID_ARGUMENT,
                      "config '%s': server.max_body_bytes must be an integer or a string");
    expect_file_error("[query]\ntimeout_ms = true\n", LH_INVALID_ARGUMENT,
                      "config '%s': query.timeout_ms must be an integer");
    expect_file_error("[server]\ndata_dir = \"a\\u0000b\"\n", LH_INVALID_ARGUMENT,
                      "config '%s': server.data_dir must not contain NUL characters");
    /* A later bad key must not leave the earlier good ones applied. */
    expect_file_error("[server]\ndata_dir = \"/elsewhere\"\nlog_level = \"loud\"\n",
                      LH_INVALID_ARGUMENT,
                      "config '%s': server.log_level: unknown log level 'loud' (expected "
                      "error, warn, info or debug)");
    expect_file_error("[server]\nlisten = \"x\"\nlisten = \"y\"\n", LH_INVALID_ARGUMENT,
                      "'%s': config line 3, column 1: duplicate key 'listen'");
    expect_file_error("[query]\nthreads = 99999\n", LH_INVALID_ARGUMENT,
                      "config '%s': query.threads: 99999 is out of range 0..1024");
}

Test(config, missing_file)
{
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    char *path = lh_xasprintf("%s/nope.toml", tmpdir);
    cr_assert(eq(int, lh_config_load_file(&c, path, false, &err), 0));
    cr_assert(eq(int, err.code, LH_OK));
    cr_assert_null(c.config_path);
    cr_assert(eq(int, lh_config_load_file(&c, path, true, &err), -1));
    cr_assert(eq(int, err.code, LH_NOT_FOUND));
    char want[512];
    snprintf(want, sizeof want, "config: cannot open '%s': no such file", path);
    cr_assert(eq(str, err.message, want));
    free(path);
    lh_config_release(&c);
}

Test(config, too_large_file)
{
    char *path = lh_xasprintf("%s/big.toml", tmpdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 70000; i++)
        fputs("# padding\n", f); /* 700 KB of comments, then more */
    for (int i = 0; i < 40000; i++)
        fputs("# padding\n", f);
    fclose(f);
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load_file(&c, path, true, &err), -1));
    cr_assert(eq(int, err.code, LH_TOO_LARGE));
    free(path);
    lh_config_release(&c);
}

Test(config, env_variables)
{
    char *envp[] = {
        "PATH=/usr/bin",
        "LAKEHOUSE_DATA=/env/data",
        "LAKEHOUSE_LISTEN=:7000",
        "LAKEHOUSE_LOG_LEVEL=error",
        "LAKEHOUSE_QUERY_TIMEOUT_MS=1234",
        "LAKEHOUSE_SERVER_MAX_BODY_BYTES=2MiB",
        "LAKEHOUSE_QUERY_MEMORY_LIMIT=1GiB",
        "LAKEHOUSE_CONFIG=/ignored.toml",
        "LAKEHOUSE_BIN=/usr/bin/lakehouse",
        "LAKEHOUSE_SOMETHING_FUTURE=1",
        "LAKEHOUSE_QUERY_TIMEOUT=5", /* not a key: ignored, not an error */
        "XLAKEHOUSE_DATA=/nope",
        NULL,
    };
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_apply_env(&c, envp, &err), 0), "%s", err.message);
    cr_assert(eq(str, c.data_dir, "/env/data"));
    cr_assert(eq(str, c.listen_host, "127.0.0.1"));
    cr_assert(eq(int, c.listen_port, 7000));
    cr_assert(eq(str, c.log_level, "error"));
    cr_assert(eq(int, c.query_timeout_ms, 1234));
    cr_assert(eq(i64, c.max_body_bytes, 2 * 1024 * 1024));
    cr_assert(eq(str, c.query_memory_limit, "1GiB"));
    cr_assert(eq(int, c.query_connections, 8));
    cr_assert_null(c.config_path);
    lh_config_release(&c);
}

Test(config, env_generic_names_and_alias_precedence)
{
    char *envp[] = {
        "LAKEHOUSE_SERVER_DATA_DIR=/generic",
        "LAKEHOUSE_DATA=/alias",
        "LAKEHOUSE_SERVER_LISTEN=1.2.3.4:1",
        "LAKEHOUSE_SERVER_MAX_CONNECTIONS=3",
        "LAKEHOUSE_SERVER_MAX_UPLOAD_BYTES=1GiB",
        "LAKEHOUSE_SERVER_LOG_LEVEL=warn",
        "LAKEHOUSE_QUERY_MAX_ROWS=77",
        "LAKEHOUSE_QUERY_MAX_RESULT_BYTES=3KiB",
        "LAKEHOUSE_QUERY_CONNECTIONS=5",
        "LAKEHOUSE_QUERY_THREADS=6",
        NULL,
    };
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_apply_env(&c, envp, &err), 0), "%s", err.message);
    cr_assert(eq(str, c.data_dir, "/alias")); /* the short alias wins */
    cr_assert(eq(str, c.listen_host, "1.2.3.4"));
    cr_assert(eq(int, c.listen_port, 1));
    cr_assert(eq(int, c.http_max_connections, 3));
    cr_assert(eq(i64, c.max_upload_bytes, INT64_C(1) << 30));
    cr_assert(eq(str, c.log_level, "warn"));
    cr_assert(eq(i64, c.query_max_rows, 77));
    cr_assert(eq(i64, c.query_max_bytes, 3072));
    cr_assert(eq(int, c.query_connections, 5));
    cr_assert(eq(int, c.query_threads, 6));
    lh_config_release(&c);
}

Test(config, env_error_names_variable_and_keeps_config)
{
    char *envp[] = {"LAKEHOUSE_DATA=/changed", "LAKEHOUSE_QUERY_TIMEOUT_MS=soon", NULL};
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_apply_env(&c, envp, &err), -1));
    cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
    cr_assert(eq(str, err.message, "environment variable LAKEHOUSE_QUERY_TIMEOUT_MS: "
                                   "query.timeout_ms: 'soon' is not an integer"));
    cr_assert(eq(str, c.data_dir, "./lakehouse-data"));
    lh_config_release(&c);
}

Test(config, env_null_means_environ)
{
    setenv("LAKEHOUSE_QUERY_CONNECTIONS", "11", 1);
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_apply_env(&c, NULL, &err), 0), "%s", err.message);
    cr_assert(eq(int, c.query_connections, 11));
    lh_config_release(&c);
}

static void clear_lakehouse_env(void)
{
    unsetenv("LAKEHOUSE_CONFIG");
    unsetenv("LAKEHOUSE_DATA");
    unsetenv("LAKEHOUSE_LISTEN");
    unsetenv("LAKEHOUSE_LOG_LEVEL");
    unsetenv("LAKEHOUSE_QUERY_TIMEOUT_MS");
    unsetenv("LAKEHOUSE_BUCKETS");
}

Test(config, load_precedence_defaults_file_env_flags)
{
    clear_lakehouse_env();
    char *path = write_file("custom.toml", "[server]\ndata_dir = \"/from/file\"\n"
                                           "log_level = \"debug\"\n[query]\ntimeout_ms = 10\n");
    setenv("LAKEHOUSE_QUERY_TIMEOUT_MS", "20", 1);
    lh_config c;
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load(&c, path, &err), 0), "%s", err.message);
    cr_assert(eq(str, c.config_path, path));
    cr_assert(eq(str, c.data_dir, "/from/file"));     /* file beats default */
    cr_assert(eq(int, c.query_timeout_ms, 20));       /* env beats file */
    cr_assert(eq(str, c.log_level, "debug"));
    cr_assert(eq(int, c.listen_port, 3100));          /* default stays */
    cr_assert(eq(int, lh_config_set(&c, "query.timeout_ms", "30", &err), 0)); /* flag */
    cr_assert(eq(int, c.query_timeout_ms, 30));
    lh_config_release(&c);
    free(path);
}

Test(config, load_uses_lakehouse_config_env)
{
    clear_lakehouse_env();
    char *path = write_file("via_env.toml", "[server]\nlisten = \"9999\"\n");
    setenv("LAKEHOUSE_CONFIG", path, 1);
    lh_config c;
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load(&c, NULL, &err), 0), "%s", err.message);
    cr_assert(eq(int, c.listen_port, 9999));
    cr_assert(eq(str, c.config_path, path));
    lh_config_release(&c);
    /* LAKEHOUSE_CONFIG must exist. */
    char *missing = lh_xasprintf("%s/missing.toml", tmpdir);
    setenv("LAKEHOUSE_CONFIG", missing, 1);
    cr_assert(eq(int, lh_config_load(&c, NULL, &err), -1));
    cr_assert(eq(int, err.code, LH_NOT_FOUND));
    cr_assert(eq(str, c.data_dir, "./lakehouse-data")); /* left holding the defaults */
    lh_config_release(&c);
    free(missing);
    free(path);
}

Test(config, load_uses_local_lakehouse_toml_if_present)
{
    clear_lakehouse_env();
    cr_assert(eq(int, chdir(tmpdir), 0));
    lh_config c;
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load(&c, NULL, &err), 0), "%s", err.message);
    cr_assert_null(c.config_path); /* no file: defaults only */
    expect_config_json(&c, default_json);
    lh_config_release(&c);
    char *path = write_file("lakehouse.toml", "[query]\nconnections = 3\n");
    cr_assert(eq(int, lh_config_load(&c, NULL, &err), 0), "%s", err.message);
    cr_assert(eq(int, c.query_connections, 3));
    cr_assert(eq(str, c.config_path, "lakehouse.toml"));
    lh_config_release(&c);
    /* An explicit path must exist even when ./lakehouse.toml does. */
    cr_assert(eq(int, lh_config_load(&c, "other.toml", &err), -1));
    cr_assert(eq(int, err.code, LH_NOT_FOUND));
    lh_config_release(&c);
    free(path);
}

Test(config, load_reports_bad_env)
{
    clear_lakehouse_env();
    cr_assert(eq(int, chdir(tmpdir), 0));
    setenv("LAKEHOUSE_LOG_LEVEL", "chatty", 1);
    lh_config c;
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load(&c, NULL, &err), -1));
    cr_assert(eq(str, err.message, "environment variable LAKEHOUSE_LOG_LEVEL: server.log_level: "
                                   "unknown log level 'chatty' (expected error, warn, info or "
                                   "debug)"));
    cr_assert(eq(str, c.log_level, "info"));
    lh_config_release(&c);
}

/* ---- buckets ------------------------------------------------------------------------------ */

static void expect_buckets(const lh_config *c, const char *want)
{
    json_t *j = lh_config_to_json(c);
    char *got = json_dumps(json_object_get(j, "buckets"), JSON_COMPACT); /* declared order */
    cr_assert(eq(str, got, (char *)want));
    free(got);
    json_decref(j);
}

Test(config, buckets_default_to_primary_alone)
{
    lh_config c;
    lh_config_init(&c);
    cr_assert(eq(sz, c.nbuckets, 1));
    cr_assert(eq(str, c.buckets[0].name, "primary"));
    cr_assert(eq(str, c.buckets[0].root, "buckets/primary"));
    lh_config_release(&c);
    cr_assert_null(c.buckets);
    cr_assert(eq(sz, c.nbuckets, 0));
}

Test(config, buckets_from_file_keep_their_order)
{
    char *path = write_file("b.toml", "[buckets.archive]\nroot = \"/srv/lake-archive\"\n"
                                      "[buckets.cold]\nroot = \"cold/store\"\n"
                                      "[buckets.primary]\nroot = \"/srv/primary\"\n"
                                      "[buckets.scratch]\n");
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load_file(&c, path, true, &err), 0), "%s", err.message);
    cr_assert(eq(sz, c.nbuckets, 4));
    /* primary stays first; a table without root gets buckets/<name>. */
    expect_buckets(&c, "{\"primary\":{\"root\":\"/srv/primary\"},"
                       "\"archive\":{\"root\":\"/srv/lake-archive\"},"
                       "\"cold\":{\"root\":\"cold/store\"},"
                       "\"scratch\":{\"root\":\"buckets/scratch\"}}");
    /* A copy made by a later load is deep: the env step replaces the list. */
    char *envp[] = {"LAKEHOUSE_BUCKETS=x=/x", NULL};
    cr_assert(eq(int, lh_config_apply_env(&c, envp, &err), 0), "%s", err.message);
    expect_buckets(&c, "{\"primary\":{\"root\":\"buckets/primary\"},\"x\":{\"root\":\"/x\"}}");
    lh_config_release(&c);
    free(path);
}

Test(config, bucket_file_errors)
{
    expect_file_error("[buckets.archive]\nroot = \"/a\"\nrot = \"/b\"\n", LH_INVALID_ARGUMENT,
                      "config '%s': unknown config key 'buckets.archive.rot' (a bucket has "
                      "only 'root' and 'role')");
    expect_file_error("[buckets.Archive]\nroot = \"/a\"\n", LH_INVALID_ARGUMENT,
                      "config '%s': buckets: invalid bucket name 'Archive' (use "
                      "[a-z_][a-z0-9_]{0,62})");
    expect_file_error("[buckets.a]\nroot = 5\n", LH_INVALID_ARGUMENT,
                      "config '%s': buckets.a.root must be a string");
    expect_file_error("[buckets.a]\nroot = \"\"\n", LH_INVALID_ARGUMENT,
                      "config '%s': buckets.a.root must not be empty");
    expect_file_error("buckets = 1\n", LH_INVALID_ARGUMENT,
                      "config '%s': 'buckets' must be a table ([buckets.<name>])");
    expect_file_error("[buckets]\na = \"/x\"\n", LH_INVALID_ARGUMENT,
                      "config '%s': 'buckets.a' must be a table ([buckets.a])");
    /* A bad bucket after a good one leaves nothing applied (expect_file_error checks). */
    expect_file_error("[buckets.good]\nroot = \"/g\"\n[buckets.bad]\nroot = \"\"\n",
                      LH_INVALID_ARGUMENT, "config '%s': buckets.bad.root must not be empty");
}

Test(config, buckets_from_env)
{
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    char *ok[] = {"LAKEHOUSE_BUCKETS= archive=/srv/a , cold = rel/c ,primary=/p,", NULL};
    cr_assert(eq(int, lh_config_apply_env(&c, ok, &err), 0), "%s", err.message);
    expect_buckets(&c, "{\"primary\":{\"root\":\"/p\"},\"archive\":{\"root\":\"/srv/a\"},"
                       "\"cold\":{\"root\":\"rel/c\"}}");
    static const char *const bad[][2] = {
        {"LAKEHOUSE_BUCKETS=archive", "environment variable LAKEHOUSE_BUCKETS: buckets: entry "
                                      "'archive' is not name=/path"},
        {"LAKEHOUSE_BUCKETS=a=/x,a=/y", "environment variable LAKEHOUSE_BUCKETS: buckets: "
                                        "bucket 'a' is given twice"},
        {"LAKEHOUSE_BUCKETS=primary=/x,primary=/y", "environment variable LAKEHOUSE_BUCKETS: "
                                                    "buckets: bucket 'primary' is given twice"},
        {"LAKEHOUSE_BUCKETS=Bad=/x", "environment variable LAKEHOUSE_BUCKETS: buckets: invalid "
                                     "bucket name 'Bad' (use [a-z_][a-z0-9_]{0,62})"},
        {"LAKEHOUSE_BUCKETS=a=", "environment variable LAKEHOUSE_BUCKETS: buckets.a.root must "
                                 "not be empty"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(bad); i++) {
        char *envp[] = {(char *)bad[i][0], NULL};
        cr_assert(eq(int, lh_config_apply_env(&c, envp, &err), -1), "%s accepted", bad[i][0]);
        cr_assert(eq(int, err.code, LH_INVALID_ARGUMENT));
        cr_assert(eq(str, err.message, (char *)bad[i][1]));
        /* All or nothing: the list is as it was. */
        expect_buckets(&c, "{\"primary\":{\"root\":\"/p\"},\"archive\":{\"root\":\"/srv/a\"},"
                           "\"cold\":{\"root\":\"rel/c\"}}");
    }
    /* Empty: back to primary alone. */
    char *empty[] = {"LAKEHOUSE_BUCKETS=", NULL};
    cr_assert(eq(int, lh_config_apply_env(&c, empty, &err), 0), "%s", err.message);
    expect_buckets(&c, "{\"primary\":{\"root\":\"buckets/primary\"}}");
    lh_config_release(&c);
}

Test(config, buckets_through_set)
{
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_set(&c, "buckets.archive.root", "/z", &err), 0), "%s",
              err.message);
    cr_assert(eq(int, lh_config_set(&c, "buckets.archive.root", "/zz", &err), 0));
    expect_buckets(&c, "{\"primary\":{\"root\":\"buckets/primary\"},"
                       "\"archive\":{\"root\":\"/zz\"}}");
    cr_assert(eq(int, lh_config_set(&c, "buckets.archive.path", "/z", &err), -1));
    cr_assert(eq(str, err.message, "unknown config key 'buckets.archive.path'"));
    cr_assert(eq(int, lh_config_set(&c, "buckets.archive.root", NULL, &err), -1));
    cr_assert(eq(str, err.message, "buckets.archive.root: missing value"));
    cr_assert(eq(int, lh_config_set(&c, "buckets", "b=/b", &err), 0), "%s", err.message);
    expect_buckets(&c, "{\"primary\":{\"root\":\"buckets/primary\"},\"b\":{\"root\":\"/b\"}}");
    lh_config_release(&c);
}

Test(config, buckets_are_bounded)
{
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    for (int i = 1; i < LH_CONFIG_MAX_BUCKETS; i++) {
        char name[16];
        snprintf(name, sizeof name, "b%d", i);
        cr_assert(eq(int, lh_config_set_bucket(&c, name, "/x", &err), 0), "%s", err.message);
    }
    cr_assert(eq(sz, c.nbuckets, LH_CONFIG_MAX_BUCKETS));
    cr_assert(eq(int, lh_config_set_bucket(&c, "one_more", "/x", &err), -1));
    cr_assert(eq(str, err.message, "buckets: more than 64 buckets"));
    cr_assert(eq(int, lh_config_set_bucket(&c, "b1", "/y", &err), 0)); /* replacing is fine */
    lh_config_release(&c);
}

/* [generate] and [rerank] (the ai module): file, environment, validation, and the API key
 * shown only as "***". */
Test(config, generate_and_rerank)
{
    char *path = write_file("gen.toml", "[generate]\nprovider = \"ollama\"\nmodel = \"llama3\"\n"
                                        "url = \"http://127.0.0.1:11434\"\ntimeout_ms = 5000\n"
                                        "temperature = 0.5\n\n[rerank]\nmodel = \"rr\"\n");
    lh_config c;
    lh_config_init(&c);
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_config_load_file(&c, path, true, &err), 0), "%s", err.message);
    cr_assert(eq(str, c.generate_provider, "ollama"));
    cr_assert(eq(str, c.generate_model, "llama3"));
    cr_assert(eq(str, c.generate_url, "http://127.0.0.1:11434"));
    cr_assert(eq(int, c.generate_timeout_ms, 5000));
    cr_assert(eq(dbl, c.generate_temperature, 0.5));
    cr_assert(eq(str, c.rerank_model, "rr"));
    char *envp[] = {"LAKEHOUSE_GENERATE_API_KEY=sk-secret", "LAKEHOUSE_GENERATE_PROVIDER=openai",
                    "LAKEHOUSE_GENERATE_TEMPERATURE=1.25", NULL};
    cr_assert(eq(int, lh_config_apply_env(&c, envp, &err), 0), "%s", err.message);
    cr_assert(eq(str, c.generate_api_key, "sk-secret"));
    cr_assert(eq(str, c.generate_provider, "openai"));
    cr_assert(eq(dbl, c.generate_temperature, 1.25));
    json_t *j = lh_config_to_json(&c);
    char *text = json_dumps(j, JSON_COMPACT);
    cr_assert_null(strstr(text, "sk-secret"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(json_object_get(j, "generate"),
                                                                "api_key")),
                 "***"));
    free(text);
    json_decref(j);
    cr_assert(eq(int, lh_config_set(&c, "generate.provider", "", &err), 0)); /* none */
    lh_config_release(&c);
    free(path);
    expect_set_error("generate.provider", "lexical",
                     "generate.provider: unknown provider 'lexical' (expected ollama, openai or "
                     "\"\" for none)");
    expect_set_error("generate.temperature", "3", "generate.temperature: '3' is not a number "
                                                  "in 0..2");
    expect_set_error("generate.temperature", "warm", "generate.temperature: 'warm' is not a "
                                                     "number in 0..2");
    expect_file_error("[generate]\ntemperature = true\n", LH_INVALID_ARGUMENT,
                      "config '%s': generate.temperature must be a number");
}
