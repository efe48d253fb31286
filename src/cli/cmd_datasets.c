/* `lakehouse datasets`: the lake's datasets as a table (name, rows, columns, version,
 * updated_at) or as JSON. Both modes start from the same dataset JSON documents
 * (lh_dataset_to_json, which the HTTP API also serves), so the output is identical. */
#include <getopt.h>
#include <string.h>

#include "cli/cli_int.h"

static const char USAGE[] =
    "usage: lakehouse datasets [--format table|json] [--data DIR | --url URL] "
    "[--config FILE]\n"
    "  --format F     table (default) or json (the full dataset documents)\n"
    "  --data DIR     work on this data directory (default from the configuration)\n"
    "  --url URL      ask a running server instead, e.g. http://127.0.0.1:3100\n"
    "  --config FILE  TOML configuration file\n";

#define DATASETS_HTTP_TIMEOUT_S 60L

/* The datasets of an embedded lake as a JSON array; new reference. */
static json_t *list_embedded(const lh_cli_target *t, lh_err *err)
{
    lh_config cfg;
    lh_lake *lake = NULL;
    if (lh_cli__open_lake(t, &cfg, &lake, err) != 0)
        return NULL;
    json_t *arr = json_array();
    lh_catalog_snap *snap = lh_catalog_snapshot(lake->catalog);
    for (size_t i = 0; i < lh_catalog_snap_count(snap); i++)
        json_array_append_new(arr, lh_dataset_to_json(lh_catalog_snap_at(snap, i), false));
    lh_catalog_snap_unref(snap);
    lh_lake_close(lake);
    lh_config_release(&cfg);
    return arr;
}

/* The server's listing as a JSON array; new reference. The API answers
 * {"datasets":[...]}; a bare array is accepted too. */
static json_t *list_remote(const lh_cli_target *t, lh_err *err)
{
    lh_cli_http_req hr = {.base_url = t->url, .path = "/catalog/datasets",
                          .timeout_s = DATASETS_HTTP_TIMEOUT_S};
    json_t *doc = lh_cli__http_json(&hr, err);
    if (!doc)
        return NULL;
    json_t *arr = json_is_array(doc) ? doc : json_object_get(doc, "datasets");
    if (!json_is_array(arr)) {
        json_decref(doc);
        lh_err_set(err, LH_INTERNAL, "bad response from server: no dataset list");
        return NULL;
    }
    json_incref(arr);
    json_decref(doc);
    return arr;
}

/* A member of a dataset document, or null when the server left it out. */
static json_t *field(const json_t *d, const char *key)
{
    json_t *v = json_object_get(d, key);
    return v ? v : json_null();
}

/* One table row from a dataset document. */
static json_t *row_of(const json_t *d)
{
    return json_pack("[O, O, I, O, O]", field(d, "name"), field(d, "row_count"),
                     (json_int_t)json_array_size(json_object_get(d, "columns")),
                     field(d, "version"), field(d, "updated_at"));
}

static int print(const json_t *arr, bool as_json, lh_err *err)
{
    if (as_json) {
        json_t *doc = json_pack("{s:O}", "datasets", arr);
        char *text = json_dumps(doc, JSON_INDENT(2));
        json_decref(doc);
        if (!text)
            return lh_err_set(err, LH_INTERNAL, "cannot render the dataset list");
        int rc = printf("%s\n", text) < 0 || fflush(stdout) != 0
                     ? lh_err_set(err, LH_IO_ERROR, "cannot write to stdout")
                     : 0;
        free(text);
        return rc;
    }
    json_t *rows = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(arr, i, d) json_array_append_new(rows, row_of(d));
    json_t *doc = json_pack("{s:[s,s,s,s,s], s:o, s:b}", "columns", "name", "rows", "columns",
                            "version", "updated_at", "rows", rows, "truncated", 0);
    int rc = lh_cli__print_table(stdout, doc, err);
    json_decref(doc);
    return rc;
}

int lh_cmd_datasets(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"data", required_argument, NULL, 'd'},
        {"url", required_argument, NULL, 'u'},    {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    lh_cli_target t = {0};
    bool as_json = false;
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
                return lh_cli__usage_error("datasets", USAGE, "unknown format '%s'", optarg);
            as_json = strcmp(optarg, "json") == 0;
            break;
        case 'd': t.data_dir = optarg; break;
        case 'u': t.url = optarg; break;
        case 'c': t.config = optarg; break;
        case 'h': fputs(USAGE, stdout); return LH_EXIT_OK;
        default:
            return lh_cli__usage_error("datasets", USAGE, "bad option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return lh_cli__usage_error("datasets", USAGE, "unexpected argument '%s'",
                                   argv[optind]);
    if (t.url && t.data_dir)
        return lh_cli__usage_error("datasets", USAGE, "--data and --url exclude each other");
    lh_err err = LH_ERR_INIT;
    json_t *arr = t.url ? list_remote(&t, &err) : list_embedded(&t, &err);
    if (!arr)
        return lh_cli__fail(&err);
    int rc = print(arr, as_json, &err);
    json_decref(arr);
    return rc == 0 ? LH_EXIT_OK : lh_cli__fail(&err);
}
