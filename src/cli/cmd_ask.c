/* `lakehouse ask "question"` (NL->SQL) and `lakehouse rag INDEX "question"` (answers with
 * citations). Embedded, the ai module runs in this process (lh_ai_ask / lh_ai_rag); with
 * --url, POST /ai/ask or /vectors/rag with "stream": true, the server-sent events read
 * from a pipe that a helper thread fills with the response body as it arrives. Either way
 * the model's words show as they come: rag's answer on stdout, ask's raw reply on stderr
 * (stdout carries the SQL and the result table). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ai/ai.h"
#include "cli/cli_int.h"

#define AI_HTTP_TIMEOUT_S 600L
#define SSE_LINE_MAX (64u << 20)

static const char ASK_USAGE[] =
    "usage: lakehouse ask QUESTION [--limit N] [--format table|json] [--no-stream]\n"
    "                     [--data DIR | --url URL] [--config FILE]\n"
    "  --limit N          at most N rows (default 100)\n"
    "  --format F         table (default) or json (the whole answer, nothing streamed)\n"
    "  --no-stream        do not show the model's reply while it is written\n"
    "  --data DIR         work on this data directory (default from the configuration)\n"
    "  --url URL          ask a running server instead, e.g. http://127.0.0.1:3100\n"
    "  --config FILE      TOML configuration file ([generate] names the model)\n";

static const char RAG_USAGE[] =
    "usage: lakehouse rag INDEX QUESTION [-k N] [--rerank] [--format text|json] [--no-stream]\n"
    "                     [--data DIR | --url URL] [--config FILE]\n"
    "  -k N               passages to show the model (default 5, at most 50)\n"
    "  --rerank           rerank a larger set of search hits before keeping k\n"
    "  --format F         text (default) or json (the whole answer, nothing streamed)\n"
    "  --no-stream        print the answer only once it is complete\n"
    "  --data DIR         work on this data directory (default from the configuration)\n"
    "  --url URL          ask a running server instead, e.g. http://127.0.0.1:3100\n"
    "  --config FILE      TOML configuration file ([generate] names the model)\n";

typedef struct opts {
    lh_cli_target t;
    bool json_out, stream;
    FILE *tokens; /* where streamed pieces go */
    lh_buf seen;  /* what was streamed, to compare with the final answer */
} opts;

static int print_token(void *ctx, const char *text, size_t len)
{
    opts *o = ctx;
    if (o->seen.len < SSE_LINE_MAX)
        lh_buf_append(&o->seen, text, len);
    return fwrite(text, 1, len, o->tokens) == len && fflush(o->tokens) == 0 ? 0 : 1;
}

/* ---- embedded ---------------------------------------------------------------------------- */

typedef json_t *(*ai_fn)(lh_ai *ai, const json_t *req, lh_token_fn on_token, void *ctx,
                         lh_err *err);

static json_t *run_embedded(opts *o, ai_fn fn, const json_t *req, lh_err *err)
{
    lh_config cfg;
    lh_lake *lake = NULL;
    if (lh_cli__open_lake(&o->t, &cfg, &lake, err) != 0)
        return NULL;
    lh_cli_services svc;
    json_t *res = NULL;
    if (lh_cli__services_open_idle(lake, &cfg, &svc, err) == 0) {
        lh_ai *ai = lh_ai_open(lake, svc.vindex, &cfg, err);
        if (ai) {
            res = fn(ai, req, o->stream ? print_token : NULL, o, err);
            lh_ai_close(ai);
        }
        lh_cli__services_close(&svc);
    }
    lh_lake_close(lake);
    lh_config_release(&cfg);
    return res;
}

/* ---- remote, with server-sent events ------------------------------------------------------ */

typedef struct fetch {
    lh_cli_http_req hr;
    FILE *w;
    lh_err err;
    int rc;
} fetch;

static void *fetch_main(void *arg)
{
    fetch *f = arg;
    f->rc = lh_cli__http_stream(&f->hr, f->w, &f->err);
    fclose(f->w); /* the reader sees the end */
    return NULL;
}

/* Handles one "data: {...}" event: a token is printed, the final answer kept. */
static int on_event(opts *o, const char *data, json_t **final, lh_err *err)
{
    json_t *ev = lh_json_parse(data, strlen(data), err);
    if (!ev)
        return lh_err_prefix(err, "bad event from the server: ");
    const json_t *tok = json_object_get(ev, "token");
    const json_t *e = json_object_get(ev, "error");
    int rc = 0;
    if (json_is_string(tok)) {
        (void)print_token(o, json_string_value(tok), json_string_length(tok));
    } else if (e) {
        const char *m = json_string_value(json_object_get(e, "message"));
        rc = lh_err_set(err, LH_UPSTREAM, "the answer broke off: %s", m ? m : "unknown error");
    } else if (json_is_true(json_object_get(ev, "done"))) {
        json_decref(*final);
        *final = json_incref(ev);
    }
    json_decref(ev);
    return rc;
}

static json_t *run_remote(opts *o, const char *path, json_t *req, lh_err *err)
{
    json_object_set_new(req, "stream", json_boolean(o->stream));
    char *body = json_dumps(req, JSON_COMPACT);
    json_t *final = NULL;
    if (!o->stream) {
        lh_cli_http_req hr = {.base_url = o->t.url, .path = path, .json_body = body,
                              .timeout_s = AI_HTTP_TIMEOUT_S};
        final = lh_cli__http_json(&hr, err);
        free(body);
        return final;
    }
    int fds[2];
    if (pipe(fds) != 0) {
        free(body);
        lh_err_errno(err, errno, "cannot create a pipe");
        return NULL;
    }
    fetch f = {.hr = {.base_url = o->t.url, .path = path, .json_body = body,
                      .accept = "text/event-stream", .timeout_s = AI_HTTP_TIMEOUT_S},
               .err = LH_ERR_INIT};
    f.w = fdopen(fds[1], "w");
    FILE *r = fdopen(fds[0], "r");
    pthread_t th;
    if (!f.w || !r || (setvbuf(f.w, NULL, _IONBF, 0), pthread_create(&th, NULL, fetch_main, &f))) {
        f.w ? fclose(f.w) : close(fds[1]);
        r ? fclose(r) : close(fds[0]);
        free(body);
        lh_err_set(err, LH_INTERNAL, "cannot start the request");
        return NULL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    lh_err e = LH_ERR_INIT;
    while ((n = getline(&line, &cap, r)) > 0) {
        if ((size_t)n > SSE_LINE_MAX) {
            rc = lh_err_set(&e, LH_TOO_LARGE, "an event from the server is too large");
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (rc == 0 && strncmp(line, "data: ", 6) == 0)
            rc = on_event(o, line + 6, &final, &e);
    }
    free(line);
    while (fgetc(r) != EOF) {
        /* drain, so the writer thread never blocks on a full pipe */
    }
    fclose(r);
    pthread_join(th, NULL);
    free(body);
    if (f.rc != 0)
        *err = f.err;
    else if (rc != 0)
        *err = e;
    else if (!final)
        lh_err_set(err, LH_UPSTREAM, "the server's answer ended without its final event");
    if (f.rc != 0 || rc != 0 || !final) {
        json_decref(final);
        return NULL;
    }
    return final;
}

/* ---- options ----------------------------------------------------------------------------- */

/* Parses the common options; k (rag) or limit (ask) into *num. Returns -1 when parsing
 * went well, else the exit code to return. */
static int parse(int argc, char **argv, const char *cmd, const char *usage, opts *o,
                 int64_t *num, bool *rerank)
{
    static const struct option lo[] = {
        {"limit", required_argument, NULL, 'k'}, {"rerank", no_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'}, {"no-stream", no_argument, NULL, 'n'},
        {"data", required_argument, NULL, 'd'},  {"url", required_argument, NULL, 'u'},
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "hk:", lo, NULL)) != -1) {
        switch (ch) {
        case 'k':
            if (!lh_cli__parse_positive(optarg, num))
                return lh_cli__usage_error(cmd, usage, "%s needs a positive number",
                                           rerank ? "-k" : "--limit");
            break;
        case 'r':
            if (!rerank)
                return lh_cli__usage_error(cmd, usage, "bad option '--rerank'");
            *rerank = true;
            break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, rerank ? "text" : "table") != 0)
                return lh_cli__usage_error(cmd, usage, "--format is %s or json",
                                           rerank ? "text" : "table");
            o->json_out = strcmp(optarg, "json") == 0;
            break;
        case 'n': o->stream = false; break;
        case 'd': o->t.data_dir = optarg; break;
        case 'u': o->t.url = optarg; break;
        case 'c': o->t.config = optarg; break;
        case 'h': fputs(usage, stdout); return LH_EXIT_OK;
        default: return lh_cli__usage_error(cmd, usage, "bad option '%s'", argv[optind - 1]);
        }
    }
    if (o->t.url && o->t.data_dir)
        return lh_cli__usage_error(cmd, usage, "--data and --url exclude each other");
    if (o->json_out)
        o->stream = false;
    return -1;
}

static int print_json(const json_t *res)
{
    char *text = json_dumps(res, JSON_INDENT(2));
    printf("%s\n", text ? text : "{}");
    free(text);
    return 0;
}

static int finish(int rc, lh_err *err)
{
    if (rc == 0 && fflush(stdout) != 0)
        rc = lh_err_set(err, LH_IO_ERROR, "cannot write to stdout");
    return rc == 0 ? LH_EXIT_OK : lh_cli__fail(err);
}

int lh_cmd_ask(int argc, char **argv)
{
    opts o = {.stream = true, .tokens = stderr};
    int64_t limit = 100;
    int code = parse(argc, argv, "ask", ASK_USAGE, &o, &limit, NULL);
    if (code >= 0)
        return code;
    if (argc - optind != 1)
        return lh_cli__usage_error("ask", ASK_USAGE, "expected one QUESTION");
    json_t *req = json_pack("{s:s, s:I}", "question", argv[optind], "limit", (json_int_t)limit);
    lh_err err = LH_ERR_INIT;
    json_t *res = o.t.url ? run_remote(&o, "/ai/ask", req, &err)
                          : run_embedded(&o, lh_ai_ask, req, &err);
    json_decref(req);
    if (o.stream)
        fputc('\n', stderr);
    if (!res) {
        lh_buf_release(&o.seen);
        return lh_cli__fail(&err);
    }
    int rc = 0;
    if (o.json_out) {
        rc = print_json(res);
    } else {
        printf("SQL: %s\n", json_string_value(json_object_get(res, "sql")));
        rc = lh_cli__print_table(stdout, res, &err);
        const char *ex = json_string_value(json_object_get(res, "explanation"));
        if (rc == 0 && ex && *ex)
            printf("%s\n", ex);
    }
    json_decref(res);
    lh_buf_release(&o.seen);
    return finish(rc, &err);
}

static void print_sources(const json_t *res)
{
    size_t i;
    const json_t *c;
    printf("\nSources:\n");
    json_array_foreach(json_object_get(res, "citations"), i, c) {
        printf("[%lld] %s (chunk %lld, score %.3f): %s\n",
               (long long)json_integer_value(json_object_get(c, "n")),
               json_string_value(json_object_get(c, "doc_id")),
               (long long)json_integer_value(json_object_get(c, "chunk_id")),
               json_number_value(json_object_get(c, "score")),
               json_string_value(json_object_get(c, "snippet")));
    }
    if (i == 0)
        printf("(none cited)\n");
}

int lh_cmd_rag(int argc, char **argv)
{
    opts o = {.stream = true, .tokens = stdout};
    int64_t k = 5;
    bool rerank = false;
    int code = parse(argc, argv, "rag", RAG_USAGE, &o, &k, &rerank);
    if (code >= 0)
        return code;
    if (argc - optind != 2)
        return lh_cli__usage_error("rag", RAG_USAGE, "expected INDEX and QUESTION");
    json_t *req = json_pack("{s:s, s:s, s:I, s:b}", "index", argv[optind], "question",
                            argv[optind + 1], "k", (json_int_t)k, "rerank", rerank);
    lh_err err = LH_ERR_INIT;
    json_t *res = o.t.url ? run_remote(&o, "/vectors/rag", req, &err)
                          : run_embedded(&o, lh_ai_rag, req, &err);
    json_decref(req);
    if (!res) {
        lh_buf_release(&o.seen);
        return lh_cli__fail(&err);
    }
    if (o.json_out) {
        print_json(res);
    } else {
        const char *mode = json_string_value(json_object_get(res, "mode"));
        const char *answer = json_string_value(json_object_get(res, "answer"));
        bool generative = mode && strcmp(mode, "generative") == 0;
        if (!o.stream || !generative)
            printf("%s\n", answer ? answer : "");
        else if (answer && strcmp(o.seen.data ? o.seen.data : "", answer) != 0)
            printf("\n\nWith its citations checked: %s\n", answer); /* refs were dropped */
        else
            printf("\n");
        if (!generative)
            printf("(extractive answer: no generation model is configured)\n");
        print_sources(res);
    }
    json_decref(res);
    lh_buf_release(&o.seen);
    return finish(0, &err);
}
