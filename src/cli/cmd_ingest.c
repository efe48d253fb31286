/* `lakehouse ingest FILE`: embedded, the same lh_ingest_file the upload endpoint calls;
 * with --url, a multipart upload to POST /ingest/file that curl streams from disk. Prints
 * a one-line summary, or the ingest result as JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_int.h"
#include "ingest/ingest.h"

static const char USAGE[] =
    "usage: lakehouse ingest FILE [--name NAME] [--format FORMAT] [--on-schema-change MODE]\n"
    "                        [--bucket NAME] [--json] [--data DIR | --url URL] [--config FILE]\n"
    "  --name NAME       dataset to create or append to (default: from the file name)\n"
    "  --format FORMAT   how to read FILE: csv, tsv, json, ndjson, parquet, pdf, text, sms,\n"
    "                    zip, tar (default: detected from the content)\n"
    "  --on-schema-change fail|add_columns\n"
    "                    when the dataset exists with other columns (default: fail)\n"
    "  --bucket NAME     bucket of a new dataset (default: primary); with --url, sent as\n"
    "                    the X-Lakehouse-Bucket header\n"
    "  --json            print the ingest result as JSON instead of a summary\n"
    "  --data DIR        work on this data directory (default from the configuration)\n"
    "  --url URL         upload to a running server instead, e.g. http://127.0.0.1:3100\n"
    "  --config FILE     TOML configuration file\n";

/* Uploads are as long as the file; this bounds a stalled one. */
#define INGEST_HTTP_TIMEOUT_S (6L * 3600L)

static void on_progress(void *ctx, const lh_ingest_progress *p)
{
    lh_cli__progress_draw(ctx, p->phase, p->bytes_done, p->bytes_total, p->rows,
                          strcmp(p->phase, "reading") != 0);
}

static json_t *ingest_embedded(const lh_cli_target *t, const char *file, const char *name,
                               const char *format, const char *mode, const char *bucket,
                               lh_err *err)
{
    lh_schema_mode m;
    if (lh_ingest_schema_mode_parse(mode, &m, err) != 0)
        return NULL;
    lh_config cfg;
    lh_lake *lake = NULL;
    if (lh_cli__open_lake(t, &cfg, &lake, err) != 0)
        return NULL;
    lh_cli_progress bar;
    lh_cli__progress_init(&bar);
    lh_ingest_req req = {.path = file, .path_is_scratch = false, .file_name = NULL,
                         .name = name, .format = format, .source = "cli",
                         .actor = getenv("USER"), .on_schema_change = m,
                         .progress = on_progress, .progress_ctx = &bar, .bucket = bucket};
    /* The same check the server makes: an unknown bucket is refused before any work. */
    json_t *res = bucket && !lh_storage_bucket_pick(lake->storage, bucket, err)
                      ? NULL
                      : lh_ingest_file(lake, &req, err);
    lh_cli__progress_done(&bar);
    lh_lake_close(lake);
    lh_config_release(&cfg);
    return res;
}

static json_t *ingest_remote(const lh_cli_target *t, const char *file, const char *name,
                             const char *format, const char *mode, const char *bucket,
                             lh_err *err)
{
    /* A clear local error beats a failed upload for a file that is not there. */
    struct stat st;
    if (stat(file, &st) != 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "cannot open '%s': %s", file, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is not a regular file", file);
        return NULL;
    }
    lh_buf path;
    lh_buf_init(&path);
    lh_buf_puts(&path, "/ingest/file");
    char sep = '?';
    const char *keys[] = {"name", "format", "on_schema_change"}, *vals[] = {name, format, mode};
    for (size_t i = 0; i < LH_ARRAY_LEN(keys); i++) {
        if (!vals[i])
            continue;
        char *v = lh_cli__url_escape(vals[i]);
        lh_buf_printf(&path, "%c%s=%s", sep, keys[i], v);
        free(v);
        sep = '&';
    }
    const char *slash = strrchr(file, '/');
    lh_cli_progress bar;
    lh_cli__progress_init(&bar);
    lh_cli_http_req hr = {.base_url = t->url, .path = path.data, .upload_path = file,
                          .upload_name = slash ? slash + 1 : file,
                          .timeout_s = INGEST_HTTP_TIMEOUT_S, .progress = &bar,
                          .bucket = bucket};
    json_t *res = lh_cli__http_json(&hr, err);
    lh_cli__progress_done(&bar);
    lh_buf_release(&path);
    return res;
}

static int print_result(const json_t *res, bool as_json, lh_err *err)
{
    int w;
    if (as_json) {
        char *text = json_dumps(res, JSON_INDENT(2));
        w = text ? printf("%s\n", text) : -1;
        free(text);
    } else {
        const char *ds = json_string_value(json_object_get(res, "dataset"));
        json_int_t rows = json_integer_value(json_object_get(res, "rows"));
        json_int_t version = json_integer_value(json_object_get(res, "version"));
        if (json_is_true(json_object_get(res, "duplicate")))
            w = printf("already ingested: the same content is in '%s'\n", ds ? ds : "?");
        else
            w = printf("ingested %lld row%s into '%s' (version %lld)\n", (long long)rows,
                       rows == 1 ? "" : "s", ds ? ds : "?", (long long)version);
    }
    if (w < 0 || fflush(stdout) != 0)
        return lh_err_set(err, LH_IO_ERROR, "cannot write to stdout");
    return 0;
}

int lh_cmd_ingest(int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'N'},   {"format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},         {"data", required_argument, NULL, 'd'},
        {"url", required_argument, NULL, 'u'},    {"config", required_argument, NULL, 'c'},
        {"on-schema-change", required_argument, NULL, 'm'},
        {"bucket", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    lh_cli_target t = {0};
    const char *name = NULL, *format = NULL, *mode = NULL, *bucket = NULL;
    bool as_json = false;
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'N': name = optarg; break;
        case 'f': format = optarg; break;
        case 'm': mode = optarg; break;
        case 'b': bucket = optarg; break;
        case 'j': as_json = true; break;
        case 'd': t.data_dir = optarg; break;
        case 'u': t.url = optarg; break;
        case 'c': t.config = optarg; break;
        case 'h': fputs(USAGE, stdout); return LH_EXIT_OK;
        default:
            return lh_cli__usage_error("ingest", USAGE, "bad option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return lh_cli__usage_error("ingest", USAGE, "missing the FILE to ingest");
    if (optind + 1 < argc)
        return lh_cli__usage_error("ingest", USAGE, "unexpected argument '%s'",
                                   argv[optind + 1]);
    if (t.url && t.data_dir)
        return lh_cli__usage_error("ingest", USAGE, "--data and --url exclude each other");

    const char *file = argv[optind];
    lh_err err = LH_ERR_INIT;
    json_t *res = t.url ? ingest_remote(&t, file, name, format, mode, bucket, &err)
                        : ingest_embedded(&t, file, name, format, mode, bucket, &err);
    if (!res && err.code == LH_CONFLICT && strstr(err.message, "on_schema_change")) {
        int rc = lh_cli__fail(&err);
        fputs("hint: add the new columns with --on-schema-change add_columns\n", stderr);
        return rc;
    }
    if (!res)
        return lh_cli__fail(&err);
    int rc = print_result(res, as_json, &err);
    json_decref(res);
    return rc == 0 ? LH_EXIT_OK : lh_cli__fail(&err);
}
