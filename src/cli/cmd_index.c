/* `lakehouse index DATASET`: builds or updates a vector index. Embedded, the build is the
 * same "vector_index" job the server runs (submitted to this process's own job registry, so
 * a build interrupted here resumes at the next start), watched with a progress bar on a
 * terminal; with --url it is submitted to POST /vectors/index and GET /vectors/jobs/{id} is
 * polled. Also opens and closes the jobs + vindex services for `serve` and `search`. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_int.h"

static const char USAGE[] =
    "usage: lakehouse index DATASET (--text-column C | --vector-column C) --id-column ID\n"
    "                       [--index NAME] [--chunk-size N] [--overlap N] [--unit chars|tokens]\n"
    "                       [--provider P] [--model M] [--model-url U] [--dims N]\n"
    "                       [--metric cosine|ip|l2] [--json] [--data DIR | --url URL]\n"
    "                       [--config FILE]\n"
    "  --text-column C     the text to chunk and embed\n"
    "  --vector-column C   a column that already holds vectors (FLOAT[n], FLOAT[], DOUBLE[])\n"
    "  --id-column ID      the column that identifies a row (returned as doc_id)\n"
    "  --index NAME        index name (default DATASET_COLUMN)\n"
    "  --chunk-size N      chunk size in --unit (default 800); --overlap N (default 100)\n"
    "  --provider P        lexical (default), ollama or openai; --model M, --model-url U\n"
    "  --dims N            vector size (lexical: default 384)\n"
    "  --json              print the finished job's record as JSON\n"
    "  --data DIR          work on this data directory (default from the configuration)\n"
    "  --url URL           submit to a running server instead, e.g. http://127.0.0.1:3100\n"
    "  --config FILE       TOML configuration file\n";

#define POLL_MS 200
#define INDEX_HTTP_TIMEOUT_S 60L

/* ---- services ------------------------------------------------------------------------------ */

static int services_open(lh_lake *lake, const lh_config *cfg, lh_cli_services *svc, bool start,
                         lh_err *err)
{
    memset(svc, 0, sizeof *svc);
    lh_bucket *b = lh_storage_bucket(lake->storage, LH_BUCKET_PRIMARY, err);
    if (!b)
        return -1;
    svc->jobs = lh_jobs_open(b, cfg->vector_workers, err);
    if (!svc->jobs)
        return -1;
    svc->vindex = lh_vindex_open(lake, svc->jobs, cfg, err);
    if (!svc->vindex || (start && lh_jobs_start(svc->jobs, err) != 0)) {
        lh_cli__services_close(svc);
        return -1;
    }
    return 0;
}

int lh_cli__services_open(lh_lake *lake, const lh_config *cfg, lh_cli_services *svc,
                          lh_err *err)
{
    return services_open(lake, cfg, svc, true, err);
}

int lh_cli__services_open_idle(lh_lake *lake, const lh_config *cfg, lh_cli_services *svc,
                               lh_err *err)
{
    return services_open(lake, cfg, svc, false, err);
}

void lh_cli__services_close(lh_cli_services *svc)
{
    lh_jobs_close(svc->jobs); /* first: its workers call into the index service */
    lh_vindex_close(svc->vindex);
    svc->jobs = NULL;
    svc->vindex = NULL;
}

/* ---- progress -------------------------------------------------------------------------------- */

/* "indexing [#####...] 1200/3000 rows  850 rows/s  ETA 2s  1534 chunks", on a terminal. */
static void draw(lh_cli_progress *p, const json_t *rec, bool force)
{
    if (!p->enabled)
        return;
    double now = lh_mono_ms();
    if (!force && now - p->last_draw < 100.0)
        return;
    p->last_draw = now;
    const json_t *pr = json_object_get(rec, "progress");
    json_int_t done = json_integer_value(json_object_get(pr, "done"));
    json_int_t total = json_integer_value(json_object_get(pr, "total"));
    const char *phase = json_string_value(json_object_get(pr, "phase"));
    int width = 24, filled = total > 0 ? (int)((double)done / (double)total * width) : 0;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[K%-9s [%s] %lld/%lld rows  %.0f rows/s", phase ? phase : "queued",
            bar, (long long)done, (long long)total,
            json_number_value(json_object_get(pr, "rate_per_s")));
    const json_t *eta = json_object_get(pr, "eta_s");
    if (json_is_number(eta))
        fprintf(stderr, "  ETA %.0fs", json_number_value(eta));
    fprintf(stderr, "  %lld chunks", (long long)json_integer_value(json_object_get(pr, "chunks")));
    fflush(stderr);
    p->drawn = true;
}

static bool finished(const json_t *rec)
{
    const char *st = json_string_value(json_object_get(rec, "state"));
    return st && (strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
                  strcmp(st, "cancelled") == 0);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- embedded and remote runs ---------------------------------------------------------------- */

static json_t *run_embedded(const lh_cli_target *t, const json_t *req, lh_err *err)
{
    lh_config cfg;
    lh_lake *lake = NULL;
    if (lh_cli__open_lake(t, &cfg, &lake, err) != 0)
        return NULL;
    lh_cli_services svc;
    json_t *rec = NULL;
    if (lh_cli__services_open(lake, &cfg, &svc, err) == 0) {
        char id[37];
        char *name = NULL;
        if (lh_vindex_submit(svc.vindex, req, id, &name, err) == 0) {
            lh_cli_progress bar;
            lh_cli__progress_init(&bar);
            for (;;) {
                lh_err we = LH_ERR_INIT;
                bool done = lh_jobs_wait(svc.jobs, id, POLL_MS, &we) == 0;
                json_decref(rec);
                rec = lh_jobs_get(svc.jobs, id, err);
                if (!rec || done || finished(rec))
                    break;
                draw(&bar, rec, false);
            }
            lh_cli__progress_done(&bar);
            free(name);
        }
        lh_cli__services_close(&svc);
    }
    lh_lake_close(lake);
    lh_config_release(&cfg);
    return rec;
}

static json_t *run_remote(const lh_cli_target *t, const json_t *req, lh_err *err)
{
    char *body = json_dumps(req, JSON_COMPACT);
    lh_cli_http_req hr = {.base_url = t->url, .path = "/vectors/index", .json_body = body,
                          .timeout_s = INDEX_HTTP_TIMEOUT_S};
    json_t *sub = lh_cli__http_json(&hr, err);
    free(body);
    const char *id = json_string_value(json_object_get(sub, "job_id"));
    if (!id) {
        if (sub)
            lh_err_set(err, LH_INTERNAL, "the server answered without a job id");
        json_decref(sub);
        return NULL;
    }
    char *path = lh_xasprintf("/vectors/jobs/%s", id);
    json_decref(sub);
    lh_cli_progress bar;
    lh_cli__progress_init(&bar);
    json_t *rec = NULL;
    for (;;) {
        json_decref(rec);
        lh_cli_http_req pr = {.base_url = t->url, .path = path, .timeout_s = INDEX_HTTP_TIMEOUT_S};
        rec = lh_cli__http_json(&pr, err);
        if (!rec || finished(rec))
            break;
        draw(&bar, rec, false);
        sleep_ms(POLL_MS);
    }
    lh_cli__progress_done(&bar);
    free(path);
    return rec;
}

static int report(const json_t *rec, bool as_json, lh_err *err)
{
    const char *state = json_string_value(json_object_get(rec, "state"));
    if (as_json) {
        char *text = json_dumps(rec, JSON_INDENT(2));
        printf("%s\n", text ? text : "{}");
        free(text);
    }
    if (!state || strcmp(state, "succeeded") != 0) {
        const json_t *e = json_object_get(rec, "error");
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        lh_code c = LH_INTERNAL;
        for (int i = 0; code && i < LH_CODE_COUNT; i++)
            if (strcmp(lh_code_name((lh_code)i), code) == 0)
                c = (lh_code)i;
        return lh_err_set(err, c, "index build %s%s%s", state ? state : "ended",
                          msg ? ": " : "", msg ? msg : "");
    }
    if (!as_json) {
        const json_t *r = json_object_get(rec, "result");
        printf("index '%s': %s, %lld rows, %lld chunks (%lld new chunks)\n",
               json_string_value(json_object_get(r, "index")),
               json_string_value(json_object_get(r, "mode")),
               (long long)json_integer_value(json_object_get(r, "rows")),
               (long long)json_integer_value(json_object_get(r, "chunks")),
               (long long)json_integer_value(json_object_get(r, "new_chunks")));
    }
    return fflush(stdout) == 0 ? 0 : lh_err_set(err, LH_IO_ERROR, "cannot write to stdout");
}

/* Adds an integer option to the request; false when it is not a positive number (or 0 for
 * --overlap). */
static bool put_int(json_t *req, const char *key, const char *text, bool zero_ok)
{
    int64_t n = 0;
    if (!(zero_ok && strcmp(text, "0") == 0) && !lh_cli__parse_positive(text, &n))
        return false;
    json_object_set_new(req, key, json_integer(n));
    return true;
}

int lh_cmd_index(int argc, char **argv)
{
    static const struct option opts[] = {
        {"text-column", required_argument, NULL, 'T'}, {"vector-column", required_argument, NULL, 'V'},
        {"id-column", required_argument, NULL, 'I'},   {"index", required_argument, NULL, 'n'},
        {"chunk-size", required_argument, NULL, 's'},  {"overlap", required_argument, NULL, 'o'},
        {"unit", required_argument, NULL, 'U'},        {"provider", required_argument, NULL, 'p'},
        {"model", required_argument, NULL, 'm'},       {"model-url", required_argument, NULL, 'M'},
        {"dims", required_argument, NULL, 'D'},        {"metric", required_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},              {"data", required_argument, NULL, 'd'},
        {"url", required_argument, NULL, 'u'},         {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0}};
    lh_cli_target t = {0};
    bool as_json = false;
    json_t *req = json_object();
    optind = 0;
    opterr = 0;
    int ch, rc = LH_EXIT_OK;
    const char *bad = NULL;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1 && !bad) {
        switch (ch) {
        case 'T': json_object_set_new(req, "text_column", json_string(optarg)); break;
        case 'V': json_object_set_new(req, "vector_column", json_string(optarg)); break;
        case 'I': json_object_set_new(req, "id_column", json_string(optarg)); break;
        case 'n': json_object_set_new(req, "index", json_string(optarg)); break;
        case 'U': json_object_set_new(req, "unit", json_string(optarg)); break;
        case 'p': json_object_set_new(req, "provider", json_string(optarg)); break;
        case 'm': json_object_set_new(req, "model", json_string(optarg)); break;
        case 'M': json_object_set_new(req, "url", json_string(optarg)); break;
        case 'e': json_object_set_new(req, "metric", json_string(optarg)); break;
        case 's': bad = put_int(req, "chunk_size", optarg, false) ? NULL : "--chunk-size"; break;
        case 'o': bad = put_int(req, "overlap", optarg, true) ? NULL : "--overlap"; break;
        case 'D': bad = put_int(req, "dims", optarg, false) ? NULL : "--dims"; break;
        case 'j': as_json = true; break;
        case 'd': t.data_dir = optarg; break;
        case 'u': t.url = optarg; break;
        case 'c': t.config = optarg; break;
        case 'h':
            json_decref(req);
            fputs(USAGE, stdout);
            return LH_EXIT_OK;
        default:
            json_decref(req);
            return lh_cli__usage_error("index", USAGE, "bad option '%s'", argv[optind - 1]);
        }
    }
    if (bad)
        rc = lh_cli__usage_error("index", USAGE, "%s needs a positive number", bad);
    else if (optind >= argc)
        rc = lh_cli__usage_error("index", USAGE, "missing the DATASET to index");
    else if (optind + 1 < argc)
        rc = lh_cli__usage_error("index", USAGE, "unexpected argument '%s'", argv[optind + 1]);
    else if (t.url && t.data_dir)
        rc = lh_cli__usage_error("index", USAGE, "--data and --url exclude each other");
    if (rc != LH_EXIT_OK) {
        json_decref(req);
        return rc;
    }
    json_object_set_new(req, "dataset", json_string(argv[optind]));
    lh_err err = LH_ERR_INIT;
    json_t *rec = t.url ? run_remote(&t, req, &err) : run_embedded(&t, req, &err);
    json_decref(req);
    if (!rec)
        return lh_cli__fail(&err);
    rc = report(rec, as_json, &err) == 0 ? LH_EXIT_OK : lh_cli__fail(&err);
    json_decref(rec);
    return rc;
}
