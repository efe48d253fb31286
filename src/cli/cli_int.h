/* cli internals shared by main.c and the cmd_<name>.c files: exit codes, the options every
 * lake command takes (--data / --url / --config), the HTTP client used with --url, and the
 * aligned-table printer. Never included from outside src/cli/. */
#ifndef LH_CLI_INT_H
#define LH_CLI_INT_H

#include <stdio.h>

#include "cli/cli.h"
#include "query/query.h"
#include "vindex/vindex.h"

#define LH_EXIT_OK 0
#define LH_EXIT_FAIL 1
#define LH_EXIT_USAGE 2

/* Prints "lakehouse: <message>" (and the detail, when there is one) to stderr; returns
 * LH_EXIT_FAIL. */
int lh_cli__fail(const lh_err *err);
/* Prints "lakehouse <cmd>: <message>" and the command's usage to stderr; returns
 * LH_EXIT_USAGE. */
int lh_cli__usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    LH_PRINTF(3, 4);
/* Parses a positive decimal integer option value; false when it is not one. */
bool lh_cli__parse_positive(const char *s, int64_t *out);

/* ---- where a command works: an embedded data dir, or a server ---------------------------- */

typedef struct lh_cli_target {
    const char *data_dir; /* --data: overrides the configured data dir */
    const char *url;      /* --url: talk to a running server instead */
    const char *config;   /* --config: the TOML file to load */
} lh_cli_target;

/* Loads the configuration (file, environment, then --data) and opens the lake, with the
 * log level lowered to warnings unless debug was asked for: a command's stdout and stderr
 * should carry its result, not the engine's start-up chatter. On success the caller closes
 * *lake, then releases cfg. */
int lh_cli__open_lake(const lh_cli_target *t, lh_config *cfg, lh_lake **lake, lh_err *err)
    LH_MUST_CHECK;

/* ---- services beside the lake (cmd_index.c) ----------------------------------------------- */

typedef struct lh_cli_services {
    lh_jobs *jobs;
    lh_vindex *vindex;
} lh_cli_services;

/* Opens the job registry (on the primary bucket, config->vector_workers threads) and the
 * vector index service, then starts the jobs (which resumes unfinished builds). On failure
 * nothing stays open. */
int lh_cli__services_open(lh_lake *lake, const lh_config *cfg, lh_cli_services *svc,
                          lh_err *err) LH_MUST_CHECK;
/* The same without starting the job workers (a search must not resume someone's build). */
int lh_cli__services_open_idle(lh_lake *lake, const lh_config *cfg, lh_cli_services *svc,
                               lh_err *err) LH_MUST_CHECK;
/* Stops the jobs (a running build keeps its checkpoint), then closes the index service. */
void lh_cli__services_close(lh_cli_services *svc);

/* ---- HTTP client (client.c, libcurl) ------------------------------------------------------ */

/* A progress bar on stderr, drawn only on a terminal. */
typedef struct lh_cli_progress {
    bool enabled;
    bool drawn;
    double t0;
    double last_draw;
} lh_cli_progress;

void lh_cli__progress_init(lh_cli_progress *p);
/* Redraws (at most 10 times a second unless force) "phase [####....] done / total rate". */
void lh_cli__progress_draw(lh_cli_progress *p, const char *phase, uint64_t done,
                           uint64_t total, int64_t rows, bool force);
/* Clears the bar's line. */
void lh_cli__progress_done(lh_cli_progress *p);

typedef struct lh_cli_http_req {
    const char *base_url;    /* "http://127.0.0.1:3100" (a trailing '/' is fine) */
    const char *path;        /* "/query/sql", may carry a query string */
    const char *json_body;   /* POSTed as application/json when set */
    const char *upload_path; /* POSTed as multipart field "file", streamed from disk */
    const char *upload_name; /* file name sent with the upload */
    const char *accept;      /* Accept header; NULL = application/json */
    long timeout_s;          /* total transfer timeout */
    lh_cli_progress *progress; /* upload progress bar, or NULL */
    const char *bucket;      /* sent as X-Lakehouse-Bucket when set (a valid name) */
} lh_cli_http_req;

/* Performs the request and parses the 2xx JSON body (at most LH_CLI_MAX_JSON bytes).
 * A non-2xx answer becomes err with the server's code and message. New reference. */
json_t *lh_cli__http_json(const lh_cli_http_req *r, lh_err *err);
/* Performs the request and writes a 2xx body to out as it arrives (nothing is held in
 * memory); a non-2xx answer becomes err as above, and nothing is written. */
int lh_cli__http_stream(const lh_cli_http_req *r, FILE *out, lh_err *err) LH_MUST_CHECK;

/* Percent-encodes s for a query string (RFC 3986 unreserved characters stay). Owned. */
char *lh_cli__url_escape(const char *s);

#define LH_CLI_MAX_JSON ((size_t)512 * 1024 * 1024)
#define LH_CLI_CONNECT_TIMEOUT_S 10L

/* ---- output (table.c) --------------------------------------------------------------------- */

/* Prints a result document {"columns":[name or {"name",...}],"rows":[[...]],
 * "truncated":bool} as an aligned table: widths from content (capped), NULL for null,
 * numbers right-aligned, then "(N rows)" and a note when the result was truncated.
 * A document carrying an "error" member (a failure after rows began) fills err. */
int lh_cli__print_table(FILE *out, const json_t *doc, lh_err *err) LH_MUST_CHECK;

#endif
