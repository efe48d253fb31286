/* ai ask: a question in plain language -> one SQL query -> rows. The model sees the schema
 * context (schema.c) and answers with SQL; the SQL runs only through lh_query_json, the
 * query sandbox (one read statement, no files outside the lake, row limit, timeout), so
 * nothing the model writes can change or read anything a user's own SQL could not. A
 * sql_error is fed back once for a corrected query; anything the sandbox refuses is final. */
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

#define DEFAULT_ROWS 100

static const char SYSTEM_PROMPT[] =
    "You translate questions about a company's data into SQL for DuckDB. Answer with exactly "
    "one read-only query (SELECT or WITH ... SELECT) in a ```sql fenced block, then one "
    "short sentence explaining what it computes. Use only the tables and columns listed; "
    "quote identifiers with double quotes when needed. Never write statements that change "
    "data or read files.";

static char *first_prompt(const char *context, const char *question)
{
    return lh_xasprintf("Tables:\n%s\nQuestion: %s", context, question);
}

static char *retry_prompt(const char *sql, const lh_err *e)
{
    return lh_xasprintf("That query failed with this error:\n%s\n\nThe query was:\n%s\n\n"
                        "Write a corrected query, again as one ```sql block.",
                        e->message, sql);
}

/* Parses the request; the caller owns nothing it returns (borrowed from req). */
static int parse_req(const json_t *req, const char **question, int64_t *limit,
                     const json_t **only, lh_err *err)
{
    *question = lh_json_str(req, "question", true, err);
    if (!*question)
        return -1;
    if (!**question)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'question' must not be empty");
    if (strlen(*question) > LH_AI_QUESTION_MAX)
        return lh_err_set(err, LH_TOO_LARGE, "'question' is longer than %d bytes",
                          LH_AI_QUESTION_MAX);
    if (lh_json_int(req, "limit", false, DEFAULT_ROWS, limit, err) != 0)
        return -1;
    if (*limit < 1 || *limit > LH_AI_ASK_ROWS_MAX)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'limit' must be from 1 to %d",
                          LH_AI_ASK_ROWS_MAX);
    *only = json_object_get(req, "datasets");
    if (json_is_null(*only))
        *only = NULL;
    if (*only) {
        if (!json_is_array(*only) || json_array_size(*only) == 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "'datasets' must be a non-empty array of names");
        for (size_t i = 0; i < json_array_size(*only); i++)
            if (!json_is_string(json_array_get(*only, i)))
                return lh_err_set(err, LH_INVALID_ARGUMENT, "datasets[%zu] must be a string",
                                  i);
    }
    return 0;
}

/* One attempt's outcome. */
typedef struct attempt {
    char *reply;
    char *sql;
    char *explanation;
    json_t *result;
    lh_err err;
} attempt;

static void attempt_release(attempt *a)
{
    free(a->reply);
    free(a->sql);
    free(a->explanation);
    json_decref(a->result);
    memset(a, 0, sizeof *a);
}

/* Asks the model (msgs) and runs its SQL. -1 when the model call itself failed (err);
 * otherwise 0, with a->result or a->err telling how the SQL went. */
static int run_attempt(lh_ai *ai, const lh_chat_msg *msgs, size_t n, int64_t limit,
                       lh_token_fn on_token, void *ctx, attempt *a, lh_err *err)
{
    if (lh_ai__chat(ai->llm, msgs, n, on_token, ctx, &a->reply, err) != 0)
        return -1;
    a->sql = lh_ai__extract_sql(a->reply, &a->explanation);
    if (!a->sql) {
        lh_err_set(&a->err, LH_SQL_ERROR, "the model's answer holds no SQL query");
        return 0;
    }
    LH_LOG_DEBUG("ai", "ask sql: %s", a->sql);
    a->result = lh_ai__sql(ai, a->sql, limit, &a->err);
    return 0;
}

/* The final error of an attempt: the sandbox's or the engine's, with the SQL as detail. */
static void final_error(const attempt *a, int attempts, lh_err *err)
{
    *err = a->err;
    if (a->err.code == LH_FORBIDDEN)
        lh_err_prefix(err, "the model's SQL was refused by the sandbox: ");
    else if (a->err.code == LH_SQL_ERROR)
        lh_err_prefix(err, "the model's SQL failed%s: ", attempts > 1 ? " twice" : "");
    if (a->sql)
        lh_err_detail(err, "%.400s", a->sql);
}

json_t *lh_ai_ask(lh_ai *ai, const json_t *req, lh_token_fn on_token, void *ctx, lh_err *err)
{
    const char *question = NULL;
    int64_t limit = 0;
    const json_t *only = NULL;
    if (parse_req(req, &question, &limit, &only, err) != 0)
        return NULL;
    if (lh_ai__need_llm(ai, err) != 0)
        return NULL;
    double t0 = lh_mono_ms();
    char *context = lh_ai__schema_context(ai, question, only, err);
    if (!context)
        return NULL;
    char *p1 = first_prompt(context, question);
    free(context);
    attempt a = {0}, b = {0};
    char *p2 = NULL;
    json_t *doc = NULL;
    int attempts = 1;
    lh_chat_msg msgs[4] = {{"system", SYSTEM_PROMPT}, {"user", p1}};
    if (run_attempt(ai, msgs, 2, limit, on_token, ctx, &a, err) != 0)
        goto out;
    attempt *ok = &a;
    if (!a.result && a.err.code == LH_SQL_ERROR) {
        /* One corrected attempt, with the engine's error in the conversation. */
        attempts = 2;
        p2 = retry_prompt(a.sql ? a.sql : "(none)", &a.err);
        msgs[2] = (lh_chat_msg){"assistant", a.reply};
        msgs[3] = (lh_chat_msg){"user", p2};
        if (on_token && on_token(ctx, "\n", 1) != 0) {
            lh_err_set(err, LH_UNAVAILABLE, "generation stopped by the caller");
            goto out;
        }
        if (run_attempt(ai, msgs, 4, limit, on_token, ctx, &b, err) != 0)
            goto out;
        ok = &b;
    }
    if (!ok->result) {
        final_error(ok, attempts, err);
        goto out;
    }
    doc = json_pack("{s:s, s:s, s:O, s:O, s:O, s:O, s:s, s:i, s:s, s:f}", "question", question,
                    "sql", ok->sql, "columns", json_object_get(ok->result, "columns"), "rows",
                    json_object_get(ok->result, "rows"), "row_count",
                    json_object_get(ok->result, "row_count"), "truncated",
                    json_object_get(ok->result, "truncated"), "explanation",
                    ok->explanation ? ok->explanation : "", "attempts", attempts, "model",
                    lh_llm_model(ai->llm), "took_ms", lh_mono_ms() - t0);
    if (!doc)
        lh_err_set(err, LH_INTERNAL, "cannot render the answer of an ask");
    if (doc && attempts == 2)
        json_object_set_new(doc, "first_error", json_string(a.err.message));
out:
    attempt_release(&a);
    attempt_release(&b);
    free(p1);
    free(p2);
    return doc;
}
