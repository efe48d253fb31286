/* `lakehouse search INDEX "text"`: searches a vector index. Embedded, the index service is
 * opened without starting job workers (a search must not resume somebody's build) and
 * lh_vindex_search answers; with --url, POST /vectors/search. Prints an aligned table of
 * rank, doc_id, chunk_id, score and snippet, or the JSON answer. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_int.h"

static const char USAGE[] =
    "usage: lakehouse search INDEX TEXT [-k N] [--exact] [--ef N] [--format table|json]\n"
    "                        [--data DIR | --url URL] [--config FILE]\n"
    "  -k N               number of hits (default 10, at most 10000)\n"
    "  --exact            compare every vector instead of walking the HNSW graph\n"
    "  --ef N             HNSW ef_search (default from the configuration)\n"
    "  --format F         table (default) or json\n"
    "  --data DIR         work on this data directory (default from the configuration)\n"
    "  --url URL          ask a running server instead, e.g. http://127.0.0.1:3100\n"
    "  --config FILE      TOML configuration file\n";

#define SEARCH_HTTP_TIMEOUT_S 120L
#define TABLE_SNIPPET_MAX 80

static json_t *search_embedded(const lh_cli_target *t, const json_t *req, lh_err *err)
{
    lh_config cfg;
    lh_lake *lake = NULL;
    if (lh_cli__open_lake(t, &cfg, &lake, err) != 0)
        return NULL;
    lh_cli_services svc;
    json_t *res = NULL;
    if (lh_cli__services_open_idle(lake, &cfg, &svc, err) == 0) {
        res = lh_vindex_search(svc.vindex, req, err);
        lh_cli__services_close(&svc);
    }
    lh_lake_close(lake);
    lh_config_release(&cfg);
    return res;
}

static json_t *search_remote(const lh_cli_target *t, const json_t *req, lh_err *err)
{
    char *body = json_dumps(req, JSON_COMPACT);
    lh_cli_http_req hr = {.base_url = t->url, .path = "/vectors/search", .json_body = body,
                          .timeout_s = SEARCH_HTTP_TIMEOUT_S};
    json_t *res = lh_cli__http_json(&hr, err);
    free(body);
    return res;
}

/* The hits as a result document for lh_cli__print_table; snippets shortened to one line. */
static json_t *as_table(const json_t *res)
{
    json_t *rows = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(res, "hits"), i, h) {
        const char *sn = json_string_value(json_object_get(h, "snippet"));
        char buf[TABLE_SNIPPET_MAX * 4 + 8];
        size_t n = 0, chars = 0;
        /* Whole characters only: stop at the lead byte of the first one past the limit. */
        for (const char *p = sn ? sn : ""; *p && n + 1 < sizeof buf; p++) {
            unsigned char c = (unsigned char)*p;
            if ((c & 0xC0) != 0x80 && chars++ == TABLE_SNIPPET_MAX)
                break;
            buf[n++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : (char)c;
        }
        buf[n] = '\0';
        json_array_append_new(rows, json_pack("[O, O, O, O, s]", json_object_get(h, "rank"),
                                              json_object_get(h, "doc_id"),
                                              json_object_get(h, "chunk_id"),
                                              json_object_get(h, "score"), buf));
    }
    return json_pack("{s:[s,s,s,s,s], s:o, s:b}", "columns", "rank", "doc_id", "chunk_id",
                     "score", "snippet", "rows", rows, "truncated", 0);
}

int lh_cmd_search(int argc, char **argv)
{
    static const struct option opts[] = {
        {"exact", no_argument, NULL, 'x'},      {"ef", required_argument, NULL, 'e'},
        {"format", required_argument, NULL, 'f'}, {"data", required_argument, NULL, 'd'},
        {"url", required_argument, NULL, 'u'},  {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    lh_cli_target t = {0};
    int64_t k = 10, ef = 0;
    bool exact = false, json_out = false;
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "hk:", opts, NULL)) != -1) {
        switch (ch) {
        case 'k':
            if (!lh_cli__parse_positive(optarg, &k))
                return lh_cli__usage_error("search", USAGE, "-k needs a positive number");
            break;
        case 'e':
            if (!lh_cli__parse_positive(optarg, &ef))
                return lh_cli__usage_error("search", USAGE, "--ef needs a positive number");
            break;
        case 'x': exact = true; break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
                return lh_cli__usage_error("search", USAGE, "--format is table or json");
            json_out = strcmp(optarg, "json") == 0;
            break;
        case 'd': t.data_dir = optarg; break;
        case 'u': t.url = optarg; break;
        case 'c': t.config = optarg; break;
        case 'h': fputs(USAGE, stdout); return LH_EXIT_OK;
        default:
            return lh_cli__usage_error("search", USAGE, "bad option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return lh_cli__usage_error("search", USAGE, "expected INDEX and TEXT");
    if (t.url && t.data_dir)
        return lh_cli__usage_error("search", USAGE, "--data and --url exclude each other");
    json_t *req = json_pack("{s:s, s:s, s:I, s:b}", "index", argv[optind], "query",
                            argv[optind + 1], "k", (json_int_t)k, "exact", exact);
    if (ef > 0)
        json_object_set_new(req, "ef_search", json_integer(ef));
    lh_err err = LH_ERR_INIT;
    json_t *res = t.url ? search_remote(&t, req, &err) : search_embedded(&t, req, &err);
    json_decref(req);
    if (!res)
        return lh_cli__fail(&err);
    int rc = 0;
    if (json_out) {
        char *text = json_dumps(res, JSON_INDENT(2));
        printf("%s\n", text ? text : "{}");
        free(text);
    } else {
        json_t *doc = as_table(res);
        rc = lh_cli__print_table(stdout, doc, &err);
        json_decref(doc);
    }
    json_decref(res);
    if (rc == 0 && fflush(stdout) != 0)
        rc = lh_err_set(&err, LH_IO_ERROR, "cannot write to stdout");
    return rc == 0 ? LH_EXIT_OK : lh_cli__fail(&err);
}
