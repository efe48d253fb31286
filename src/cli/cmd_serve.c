/* `lakehouse serve`: configuration (file < environment < flags), then the lake, the
 * optional demo data and the HTTP server, until SIGINT/SIGTERM; then everything is closed
 * in order (server, then lake). */
#include <getopt.h>

#include "cli/cli_int.h"
#include "http/http.h"
#include "ingest/ingest.h"

static const char USAGE[] =
    "usage: lakehouse serve [--data DIR] [--listen HOST:PORT] [--config FILE]\n"
    "                       [--print-config] [--demo]\n"
    "  --data DIR          data directory (default ./lakehouse-data, or LAKEHOUSE_DATA)\n"
    "  --listen HOST:PORT  address to serve on (default 127.0.0.1:3100, or LAKEHOUSE_LISTEN)\n"
    "  --config FILE       TOML configuration (default ./lakehouse.toml when present)\n"
    "  --print-config      print the effective configuration as JSON and exit\n"
    "  --demo              load the staffing demo datasets that are not there yet\n";

/* Builds the configuration from defaults, file, environment and flags. */
static int load_config(lh_config *cfg, const char *file, const char *data, const char *listen,
                       lh_err *err)
{
    if (lh_config_load(cfg, file, err) != 0)
        return -1;
    if (data && lh_config_set(cfg, "server.data_dir", data, err) != 0)
        return -1;
    if (listen && lh_config_set(cfg, "server.listen", listen, err) != 0)
        return -1;
    int level = cfg->log_level ? lh_log_parse_level(cfg->log_level) : -1;
    if (level < 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "unknown log level '%s'",
                          cfg->log_level ? cfg->log_level : "");
    lh_log_set_level(level);
    return 0;
}

static int print_config(const lh_config *cfg, lh_err *err)
{
    json_t *j = lh_config_to_json(cfg);
    char *text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!text)
        return lh_err_set(err, LH_INTERNAL, "cannot render the configuration");
    int rc = printf("%s\n", text) < 0 || fflush(stdout) != 0
                 ? lh_err_set(err, LH_IO_ERROR, "cannot write to stdout")
                 : 0;
    free(text);
    return rc;
}

/* The demo's semantic index over resumes.resume, built in the background the first time
 * (a build left unfinished by a restart resumes by itself). Never fatal: the demo tables
 * are there either way. */
static void demo_index(lh_vindex *v)
{
    lh_err err = LH_ERR_INIT;
    json_t *have = lh_vindex_get(v, "resumes", &err);
    if (have) {
        json_decref(have);
        return;
    }
    json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "dataset", "resumes", "text_column",
                            "resume", "id_column", "candidate_id", "index", "resumes");
    char job[37];
    char *index = NULL;
    lh_err_clear(&err);
    if (lh_vindex_submit(v, req, job, &index, &err) == 0)
        LH_LOG_INFO("cli", "demo index queued index=resumes job=%s", job);
    else if (err.code != LH_CONFLICT)
        LH_LOG_WARN("cli", "demo index not queued: %s", err.message);
    free(index);
    json_decref(req);
}

static int run(lh_config *cfg, bool demo, lh_err *err)
{
    lh_lake *lake = lh_lake_open(cfg, err);
    if (!lake)
        return -1;
    int rc = -1;
    lh_server *srv = NULL;
    lh_cli_services svc = {0};
    lh_ai *ai = NULL;
    if (demo && lh_ingest_seed_demo(lake, err) != 0) {
        lh_err_prefix(err, "demo data: ");
        goto out;
    }
    /* Jobs and vector indexes come up after the lake (resumed builds start right away) and
     * go down before it, after the server has stopped taking requests. */
    if (lh_cli__services_open(lake, cfg, &svc, err) != 0)
        goto out;
    if (demo)
        demo_index(svc.vindex);
    /* The AI layer sits on the index service: opened after it, closed before it. */
    if (!(ai = lh_ai_open(lake, svc.vindex, cfg, err)))
        goto out;
    lh_services hs = {.jobs = svc.jobs, .vindex = svc.vindex, .ai = ai};
    srv = lh_server_start_with(lake, cfg, &hs, err);
    if (!srv)
        goto out;
    if (lh_server_wait(srv, err) != 0)
        goto out;
    rc = 0;
out:
    lh_server_free(srv);
    lh_ai_close(ai);
    lh_cli__services_close(&svc);
    lh_lake_close(lake);
    return rc;
}

int lh_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},   {"listen", required_argument, NULL, 'l'},
        {"config", required_argument, NULL, 'c'}, {"print-config", no_argument, NULL, 'p'},
        {"demo", no_argument, NULL, 'D'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *data = NULL, *listen = NULL, *file = NULL;
    bool print = false, demo = false;
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': data = optarg; break;
        case 'l': listen = optarg; break;
        case 'c': file = optarg; break;
        case 'p': print = true; break;
        case 'D': demo = true; break;
        case 'h': fputs(USAGE, stdout); return LH_EXIT_OK;
        default:
            return lh_cli__usage_error("serve", USAGE, "bad option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return lh_cli__usage_error("serve", USAGE, "unexpected argument '%s'", argv[optind]);

    lh_err err = LH_ERR_INIT;
    lh_config cfg; /* lh_config_load initialises it, on failure too */
    int rc = LH_EXIT_OK;
    if (load_config(&cfg, file, data, listen, &err) != 0)
        rc = lh_cli__fail(&err);
    else if (print)
        rc = print_config(&cfg, &err) == 0 ? LH_EXIT_OK : lh_cli__fail(&err);
    else if (run(&cfg, demo, &err) != 0)
        rc = lh_cli__fail(&err);
    lh_config_release(&cfg);
    return rc;
}
