/* query/sandbox.c: the gate every piece of user SQL passes before it runs. Exactly one
 * statement, whose first keyword and prepared type are both read-only (EXPLAIN: the
 * explained statement too, since EXPLAIN ANALYZE executes it); parameters bound from JSON;
 * DuckDB errors translated to our codes. The directory sandbox itself is set in engine.c. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "query/query_int.h"

/* ---- a small lexer: enough of DuckDB's to skip strings, identifiers and comments ---------- */

/* Returns the index just past the string, identifier or comment starting at s[i], or i when
 * none starts there. Unterminated constructs run to the end (DuckDB rejects them anyway). */
static size_t skip_quoted(const char *s, size_t n, size_t i) {
    if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
        while (i < n && s[i] != '\n')
            i++;
        return i;
    }
    if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
        int depth = 0;
        while (i < n) {
            if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
                depth++;
                i += 2;
            } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
                i += 2;
                if (--depth == 0)
                    return i;
            } else {
                i++;
            }
        }
        return n;
    }
    if (s[i] == '\'' || s[i] == '"') {
        char q = s[i];
        /* E'...' strings take backslash escapes. */
        bool esc = q == '\'' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') &&
                   (i < 2 || !(isalnum((unsigned char)s[i - 2]) || s[i - 2] == '_'));
        i++;
        while (i < n) {
            if (esc && s[i] == '\\' && i + 1 < n) {
                i += 2;
            } else if (s[i] == q) {
                if (i + 1 < n && s[i + 1] == q) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return n;
    }
    if (s[i] == '$' && (i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_'))) {
        /* $tag$ ... $tag$ (the tag may be empty); $1 is a parameter, not a quote. */
        size_t j = i + 1;
        while (j < n && (isalpha((unsigned char)s[j]) || s[j] == '_' ||
                         (j > i + 1 && isdigit((unsigned char)s[j]))))
            j++;
        if (j >= n || s[j] != '$')
            return i;
        size_t taglen = j + 1 - i;
        const char *end = NULL;
        for (size_t k = j + 1; k + taglen <= n; k++)
            if (memcmp(s + k, s + i, taglen) == 0) {
                end = s + k;
                break;
            }
        return end ? (size_t)(end - s) + taglen : n;
    }
    return i;
}

/* Index of the next token: skips whitespace, comments and empty statements (';'). */
static size_t next_token(const char *s, size_t n, size_t i) {
    while (i < n) {
        if (isspace((unsigned char)s[i]) || s[i] == ';') {
            i++;
        } else if ((s[i] == '-' && i + 1 < n && s[i + 1] == '-') ||
                   (s[i] == '/' && i + 1 < n && s[i + 1] == '*')) {
            i = skip_quoted(s, n, i);
        } else {
            break;
        }
    }
    return i;
}

/* Copies the word at s[i] (uppercased, at most cap-1 chars) and returns the index after it. */
static size_t read_word(const char *s, size_t n, size_t i, char *out, size_t cap) {
    size_t k = 0;
    while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_')) {
        if (k + 1 < cap)
            out[k++] = (char)toupper((unsigned char)s[i]);
        i++;
    }
    out[k] = '\0';
    return i;
}

char *lh_query__strip_semicolons(const char *sql) {
    char *out = lh_xstrdup(sql);
    size_t n = strlen(out);
    for (size_t i = 0; i < n;) {
        size_t j = skip_quoted(out, n, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (out[i] == ';')
            out[i] = ' ';
        i++;
    }
    return out;
}

/* ---- statement checks -------------------------------------------------------------------- */

static const char *const READ_KEYWORDS[] = {
    "SELECT", "WITH", "FROM", "VALUES", "TABLE", "DESCRIBE", "DESC",
    "SUMMARIZE", "SHOW", "PIVOT", "UNPIVOT", "EXPLAIN",
};

static const char *stmt_type_name(duckdb_statement_type t) {
    static const char *const names[] = {
        "INVALID", "SELECT", "INSERT", "UPDATE", "EXPLAIN", "DELETE", "PREPARE",
        "CREATE", "EXECUTE", "ALTER", "TRANSACTION", "COPY", "ANALYZE", "SET",
        "CREATE FUNCTION", "DROP", "EXPORT", "PRAGMA", "VACUUM", "CALL", "SET", "LOAD",
        "RELATION", "EXTENSION", "LOGICAL PLAN", "ATTACH", "DETACH", "MULTI",
    };
    return (size_t)t < LH_ARRAY_LEN(names) ? names[t] : "UNKNOWN";
}

static int forbidden_kind(const char *what, lh_err *err) {
    return lh_err_set(err, LH_FORBIDDEN, "only read statements are allowed: got %s", what);
}

/* Checks the first keyword of sql[i..n). Sets *explain_at to the index of the explained
 * statement for EXPLAIN, else 0. */
static int check_keyword(const char *s, size_t n, size_t i, bool allow_explain,
                         size_t *explain_at, lh_err *err) {
    *explain_at = 0;
    i = next_token(s, n, i);
    if (i < n && s[i] == '(')
        return 0; /* a parenthesised query; the prepared type decides */
    char word[32];
    size_t after = read_word(s, n, i, word, sizeof word);
    if (!word[0])
        return forbidden_kind("an unknown statement", err);
    bool ok = false;
    for (size_t k = 0; k < LH_ARRAY_LEN(READ_KEYWORDS) && !ok; k++)
        ok = strcmp(word, READ_KEYWORDS[k]) == 0;
    if (!ok || (!allow_explain && strcmp(word, "EXPLAIN") == 0))
        return forbidden_kind(word, err);
    if (strcmp(word, "EXPLAIN") != 0)
        return 0;
    /* EXPLAIN [ANALYZE] [(options)] [ANALYZE] <statement> */
    for (int round = 0; round < 3; round++) {
        size_t j = next_token(s, n, after);
        if (j < n && s[j] == '(') {
            int depth = 0;
            while (j < n) {
                size_t q = skip_quoted(s, n, j);
                if (q != j) {
                    j = q;
                    continue;
                }
                if (s[j] == '(')
                    depth++;
                else if (s[j] == ')' && --depth == 0) {
                    j++;
                    break;
                }
                j++;
            }
            after = j;
            continue;
        }
        char w2[16];
        size_t a2 = read_word(s, n, j, w2, sizeof w2);
        if (strcmp(w2, "ANALYZE") == 0 || strcmp(w2, "ANALYSE") == 0)
            after = a2;
        else
            break;
    }
    *explain_at = next_token(s, n, after);
    return 0;
}

void lh_query__each_identifier(const char *sql, void (*fn)(void *, const char *), void *ctx) {
    char id[LH_NAME_MAX + 1];
    const char *p = sql;
    while (*p) {
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            p += 2;
            while (*p && !(p[0] == '*' && p[1] == '/'))
                p++;
            p += *p ? 2 : 0;
        } else if (*p == '\'' || *p == '"') {
            char quote = *p++;
            size_t n = 0;
            bool fits = true;
            for (; *p; p++) {
                if (*p == quote && p[1] == quote) {
                    p++;
                } else if (*p == quote) {
                    p++;
                    break;
                }
                if (n < sizeof id - 1)
                    id[n++] = *p;
                else
                    fits = false;
            }
            id[n] = 0;
            if (quote == '"' && fits)
                fn(ctx, id);
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_') {
            size_t n = 0;
            bool fits = true;
            while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                   (*p >= '0' && *p <= '9') || *p == '$') {
                if (n < sizeof id - 1)
                    id[n++] = *p;
                else
                    fits = false;
                p++;
            }
            id[n] = 0;
            if (fits)
                fn(ctx, id);
        } else {
            p++;
        }
    }
}

/* Names of our own machinery in the database that user SQL may not touch: lh_view_hash
 * would let a caller hash guesses with the views' salt and match them against a hashed
 * column; lh_tomb holds the keys of soft-deleted rows; lh_cache is reached through the
 * datasets' own names. */
static const char *const INTERNAL_NAMES[] = {"lh_view_hash", "lh_tomb", "lh_cache"};

typedef struct internal_ctx {
    const char *found;
} internal_ctx;

static void find_internal(void *arg, const char *id) {
    internal_ctx *c = arg;
    for (size_t i = 0; i < LH_ARRAY_LEN(INTERNAL_NAMES) && !c->found; i++)
        if (strcasecmp(id, INTERNAL_NAMES[i]) == 0)
            c->found = INTERNAL_NAMES[i];
}

static bool is_permission(const char *msg) {
    return msg && strncmp(msg, "Permission Error", 16) == 0;
}

int lh_query__user_error(const char *msg, duckdb_error_type type, bool timed_out, int timeout_ms,
                         lh_err *err) {
    if (!msg)
        msg = "unknown error";
    if (timed_out && (type == DUCKDB_ERROR_INTERRUPT || strstr(msg, "Interrupted")))
        return lh_err_set(err, LH_TIMEOUT, "query timed out after %d ms", timeout_ms);
    if (type == DUCKDB_ERROR_PERMISSION || is_permission(msg))
        return lh_err_set(err, LH_FORBIDDEN, "%s", msg);
    return lh_err_set(err, LH_SQL_ERROR, "%s", msg);
}

/* Extracts and prepares one statement of text; checks keyword and type. depth 0 is the
 * user's text, depth 1 the statement under an EXPLAIN. */
static duckdb_prepared_statement prepare_checked(duckdb_connection con, const char *text,
                                                 int depth, lh_err *err) {
    size_t n = strlen(text);
    duckdb_extracted_statements ex = NULL;
    duckdb_prepared_statement st = NULL;
    internal_ctx ic = {NULL};
    lh_query__each_identifier(text, find_internal, &ic);
    if (ic.found) {
        lh_err_set(err, LH_FORBIDDEN, "'%s' is internal to Lakehouse and cannot be used in a query",
                   ic.found);
        return NULL;
    }
    idx_t count = duckdb_extract_statements(con, text, &ex);
    if (count == 0) {
        const char *msg = duckdb_extract_statements_error(ex);
        if (msg)
            lh_err_set(err, LH_SQL_ERROR, "%s", msg);
        else
            lh_err_set(err, LH_INVALID_ARGUMENT, "query is empty");
        goto out;
    }
    if (count > 1) {
        lh_err_set(err, LH_FORBIDDEN, "only one statement per query");
        goto out;
    }
    size_t explain_at = 0;
    if (check_keyword(text, n, 0, depth == 0, &explain_at, err) != 0)
        goto out;
    size_t nested = 0;
    /* The explained statement's keyword first, so "EXPLAIN ANALYZE INSERT ..." is refused as
     * an INSERT even when it would not bind. */
    if (explain_at > 0 && check_keyword(text, n, explain_at, false, &nested, err) != 0)
        goto out;
    if (duckdb_prepare_extracted_statement(con, ex, 0, &st) == DuckDBError) {
        const char *msg = duckdb_prepare_error(st);
        lh_query__user_error(msg, DUCKDB_ERROR_INVALID, false, 0, err);
        duckdb_destroy_prepare(&st);
        st = NULL;
        goto out;
    }
    duckdb_statement_type t = duckdb_prepared_statement_type(st);
    bool ok = t == DUCKDB_STATEMENT_TYPE_SELECT ||
              (t == DUCKDB_STATEMENT_TYPE_EXPLAIN && depth == 0 && explain_at > 0);
    if (!ok) {
        forbidden_kind(stmt_type_name(t), err);
        duckdb_destroy_prepare(&st);
        st = NULL;
        goto out;
    }
    if (t == DUCKDB_STATEMENT_TYPE_EXPLAIN) {
        /* EXPLAIN ANALYZE runs its statement, so that statement must be a read too. */
        duckdb_prepared_statement inner = prepare_checked(con, text + explain_at, 1, err);
        if (!inner) {
            duckdb_destroy_prepare(&st);
            st = NULL;
            goto out;
        }
        duckdb_destroy_prepare(&inner);
    }
out:
    duckdb_destroy_extracted(&ex);
    return st;
}

duckdb_prepared_statement lh_query__prepare_user(duckdb_connection con, const char *sql,
                                                 lh_err *err) {
    if (!sql) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "sql is required");
        return NULL;
    }
    return prepare_checked(con, sql, 0, err);
}

/* ---- parameters -------------------------------------------------------------------------- */

int lh_query__bind_params(duckdb_prepared_statement st, const json_t *params, lh_err *err) {
    idx_t want = duckdb_nparams(st);
    if (params && !json_is_array(params))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "params must be a JSON array");
    size_t have = params ? json_array_size(params) : 0;
    if (have != want)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "the query has %llu parameter(s) but %zu were given",
                          (unsigned long long)want, have);
    for (size_t i = 0; i < have; i++) {
        const json_t *v = json_array_get(params, i);
        idx_t idx = (idx_t)i + 1;
        duckdb_state rc;
        switch (json_typeof(v)) {
        case JSON_NULL:
            rc = duckdb_bind_null(st, idx);
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            rc = duckdb_bind_boolean(st, idx, json_is_true(v));
            break;
        case JSON_INTEGER:
            rc = duckdb_bind_int64(st, idx, (int64_t)json_integer_value(v));
            break;
        case JSON_REAL:
            rc = duckdb_bind_double(st, idx, json_real_value(v));
            break;
        case JSON_STRING:
            rc = duckdb_bind_varchar_length(st, idx, json_string_value(v), json_string_length(v));
            break;
        default:
            return lh_err_set(err, LH_INVALID_ARGUMENT,
                              "params[%zu]: arrays and objects cannot be bound", i);
        }
        if (rc == DuckDBError)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "params[%zu]: cannot bind this value", i);
    }
    return 0;
}
