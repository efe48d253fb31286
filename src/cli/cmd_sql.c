/* `lakehouse sql "SQL"`: one read-only query, embedded (the engine streams the rendered
 * result to stdout) or against a server with --url (the HTTP body is streamed to stdout).
 * The table format parses the JSON result and prints it aligned, in both modes. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_int.h"

static const char USAGE[] =
    "usage: lakehouse sql \"SQL\" [--format table|json|csv|ndjson] [--limit N]\n"
    "                     [--data DIR | --url URL] [--config FILE]\n"
    "  --format F     output format (default: table on a terminal, else csv)\n"
    "  --limit N      at most N rows (default for table: 1000, else the server's maximum)\n"
    "  --data DIR     work on this data directory (default from the configuration)\n"
    "  --url URL      ask a running server instead, e.g. http://127.0.0.1:3100\n"
    "  --config FILE  TOML configuration file\n";

/* A terminal table is for reading: more rows than this belongs in a file. */
#define TABLE_DEFAULT_LIMIT 1000
/* Chunk size of the streamed copy from the engine to stdout. */
#define STREAM_CHUNK (64 * 1024)
/* Total time allowed for a --url query, streaming of the result included. */
#define SQL_HTTP_TIMEOUT_S 3600L

enum out_format { OUT_TABLE, OUT_JSON, OUT_CSV, OUT_NDJSON };

static const struct {
    const char *name;
    lh_result_format engine;
    const char *accept;
} FORMATS[] = {
    [OUT_TABLE] = {"table", LH_FMT_JSON, "application/json"},
    [OUT_JSON] = {"json", LH_FMT_JSON, "application/json"},
    [OUT_CSV] = {"csv", LH_FMT_CSV, "text/csv"},
    [OUT_NDJSON] = {"ndjson", LH_FMT_NDJSON, "application/x-ndjson"},
};

static bool parse_format(const char *s, enum out_format *out)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(FORMATS); i++) {
        if (strcmp(FORMATS[i].name, s) == 0) {
            *out = (enum out_format)i;
            return true;
        }
    }
    return false;
}

static int stream_embedded(lh_lake *lake, const lh_query_req *req, lh_err *err)
{
    lh_query_stream *qs = lh_query_open(lake->engine, req, err);
    if (!qs)
        return -1;
    char *buf = lh_xmalloc(STREAM_CHUNK);
    int rc = 0;
    for (;;) {
        ssize_t n = lh_query_stream_read(qs, buf, STREAM_CHUNK, err);
        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
            rc = lh_err_set(err, LH_IO_ERROR, "cannot write the result to stdout");
            break;
        }
    }
    if (rc == 0 && fflush(stdout) != 0)
        rc = lh_err_set(err, LH_IO_ERROR, "cannot write the result to stdout");
    free(buf);
    lh_query_stream_close(qs);
    return rc;
}

static int run_embedded(const lh_cli_target *t, const lh_query_req *req, bool table,
                        lh_err *err)
{
    lh_config cfg;
    lh_lake *lake = NULL;
    if (lh_cli__open_lake(t, &cfg, &lake, err) != 0)
        return -1;
    int rc;
    if (table) {
        json_t *doc = lh_query_json(lake->engine, req, err);
        rc = doc ? lh_cli__print_table(stdout, doc, err) : -1;
        json_decref(doc);
    } else {
        rc = stream_embedded(lake, req, err);
    }
    lh_lake_close(lake);
    lh_config_release(&cfg);
    return rc;
}

static int run_remote(const lh_cli_target *t, const lh_query_req *req, enum out_format f,
                      lh_err *err)
{
    json_t *body = json_pack("{s:s}", "sql", req->sql);
    if (req->limit > 0)
        json_object_set_new(body, "limit", json_integer(req->limit));
    char *text = lh_json_dump(body);
    json_decref(body);
    lh_cli_http_req hr = {.base_url = t->url, .path = "/query/sql", .json_body = text,
                          .accept = FORMATS[f].accept, .timeout_s = SQL_HTTP_TIMEOUT_S};
    int rc;
    if (f == OUT_TABLE) {
        json_t *doc = lh_cli__http_json(&hr, err);
        rc = doc ? lh_cli__print_table(stdout, doc, err) : -1;
        json_decref(doc);
    } else {
        rc = lh_cli__http_stream(&hr, stdout, err);
    }
    free(text);
    return rc;
}

int lh_cmd_sql(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"limit", required_argument, NULL, 'n'},
        {"data", required_argument, NULL, 'd'},   {"url", required_argument, NULL, 'u'},
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    lh_cli_target t = {0};
    enum out_format f = isatty(STDOUT_FILENO) ? OUT_TABLE : OUT_CSV;
    int64_t limit = 0;
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (!parse_format(optarg, &f))
                return lh_cli__usage_error("sql", USAGE, "unknown format '%s'", optarg);
            break;
        case 'n':
            if (!lh_cli__parse_positive(optarg, &limit))
                return lh_cli__usage_error("sql", USAGE,
                                           "--limit wants a positive number, not '%s'", optarg);
            break;
        case 'd': t.data_dir = optarg; break;
        case 'u': t.url = optarg; break;
        case 'c': t.config = optarg; break;
        case 'h': fputs(USAGE, stdout); return LH_EXIT_OK;
        default: return lh_cli__usage_error("sql", USAGE, "bad option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return lh_cli__usage_error("sql", USAGE, "missing the SQL text");
    if (optind + 1 < argc)
        return lh_cli__usage_error("sql", USAGE, "unexpected argument '%s' (quote the SQL)",
                                   argv[optind + 1]);
    if (t.url && t.data_dir)
        return lh_cli__usage_error("sql", USAGE, "--data and --url exclude each other");
    if (f == OUT_TABLE && limit == 0)
        limit = TABLE_DEFAULT_LIMIT;

    lh_query_req req = {.sql = argv[optind], .limit = limit, .format = FORMATS[f].engine};
    lh_err err = LH_ERR_INIT;
    int rc = t.url ? run_remote(&t, &req, f, &err) : run_embedded(&t, &req, f == OUT_TABLE, &err);
    /* The JSON document is one line without an end; finish the line for the shell. */
    if (rc == 0 && f == OUT_JSON && (putchar('\n') == EOF || fflush(stdout) != 0))
        rc = lh_err_set(&err, LH_IO_ERROR, "cannot write the result to stdout");
    return rc == 0 ? LH_EXIT_OK : lh_cli__fail(&err);
}
