/* ai schema context: what the model is told about the lake before it writes SQL. Tables
 * (datasets and AI-safe views, both tables by name in the sandbox), columns with types and
 * descriptions, and a few sample values, fetched through the sandbox. Values of sensitive or
 * PII columns, of confidential/restricted datasets and of columns a view redacts never go
 * into a prompt: the column is listed with "(values withheld)". */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

#define SAMPLE_ROWS 20     /* rows read to find sample values */
#define SAMPLES_PER_COL 3
#define WORDS_MAX 64

typedef struct table_ctx {
    const char *name;
    const lh_dataset *ds;   /* the dataset, or the view's base dataset */
    const json_t *view;     /* the view definition, or NULL */
    int score;
    size_t order;
} table_ctx;

static bool restricted_dataset(const lh_dataset *ds)
{
    return ds->sensitivity && (strcmp(ds->sensitivity, "confidential") == 0 ||
                               strcmp(ds->sensitivity, "restricted") == 0);
}

static const lh_column *find_column(const lh_dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->ncolumns; i++)
        if (strcmp(ds->columns[i].name, name) == 0)
            return &ds->columns[i];
    return NULL;
}

/* Whether a column's values must stay out of prompts. */
static bool withheld(const table_ctx *t, const lh_column *c)
{
    return c->sensitive || c->pii || restricted_dataset(t->ds) ||
           (t->view && json_object_get(json_object_get(t->view, "redactions"), c->name));
}

/* Whether sample values of a column are read at all (nested types say little as text). */
static bool may_sample(const table_ctx *t, const lh_column *c)
{
    if (withheld(t, c))
        return false;
    const char *ty = c->type;
    return !strchr(ty, '[') && !strstr(ty, "STRUCT") && !strstr(ty, "MAP") &&
           !strstr(ty, "BLOB") && !strstr(ty, "UNION");
}

/* The columns of a table in order: every dataset column, or the view's list. */
static size_t table_columns(const table_ctx *t, const lh_column **out, size_t cap)
{
    size_t n = 0;
    if (!t->view) {
        for (size_t i = 0; i < t->ds->ncolumns && n < cap; i++)
            out[n++] = &t->ds->columns[i];
        return n;
    }
    const json_t *cols = json_object_get(t->view, "columns");
    for (size_t i = 0; i < json_array_size(cols) && n < cap; i++) {
        const lh_column *c = find_column(t->ds, json_string_value(json_array_get(cols, i)));
        if (c)
            out[n++] = c;
    }
    return n;
}

/* Up to SAMPLES_PER_COL distinct values per sampleable column, read through the sandbox.
 * Returns {"col": ["v", ...]} or NULL (samples are a help, never a reason to fail). */
static json_t *samples(lh_ai *ai, const table_ctx *t, const lh_column **cols, size_t n)
{
    lh_buf sql;
    lh_buf_init(&sql);
    lh_buf_puts(&sql, "SELECT ");
    size_t picked = 0;
    for (size_t i = 0; i < n; i++) {
        if (!may_sample(t, cols[i]))
            continue;
        char *q = lh_sql_quote_ident(cols[i]->name);
        lh_buf_printf(&sql, "%sCAST(%s AS VARCHAR)", picked++ ? ", " : "", q);
        free(q);
    }
    json_t *out = NULL;
    if (picked) {
        char *tq = lh_sql_quote_ident(t->name);
        lh_buf_printf(&sql, " FROM %s LIMIT %d", tq, SAMPLE_ROWS);
        free(tq);
        lh_err e = LH_ERR_INIT;
        json_t *res = lh_ai__sql(ai, sql.data, SAMPLE_ROWS, &e);
        if (!res)
            LH_LOG_DEBUG("ai", "samples of '%s' unavailable: %s", t->name, e.message);
        const json_t *rows = json_object_get(res, "rows");
        out = res ? json_object() : NULL;
        size_t k = 0;
        for (size_t i = 0; res && i < n; i++) {
            if (!may_sample(t, cols[i]))
                continue;
            json_t *vals = json_array();
            for (size_t r = 0; r < json_array_size(rows); r++) {
                const char *v = json_string_value(json_array_get(json_array_get(rows, r), k));
                if (!v || !*v || json_array_size(vals) >= SAMPLES_PER_COL)
                    continue;
                char *clip = lh_ai__clip(v, LH_AI_SAMPLE_VALUE_MAX);
                bool dup = false;
                for (size_t j = 0; j < json_array_size(vals); j++)
                    dup = dup || strcmp(json_string_value(json_array_get(vals, j)), clip) == 0;
                if (!dup)
                    json_array_append_new(vals, json_string(clip));
                free(clip);
            }
            json_object_set_new(out, cols[i]->name, vals);
            k++;
        }
        json_decref(res);
    }
    lh_buf_release(&sql);
    return out;
}

static bool numeric_type(const char *t)
{
    static const char *const prefixes[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                                           "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
                                           "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL"};
    for (size_t i = 0; i < LH_ARRAY_LEN(prefixes); i++)
        if (lh_str_has_prefix(t, prefixes[i]))
            return true;
    return false;
}

static void one_line(lh_buf *b, const char *s)
{
    for (const char *p = s; *p; p++)
        lh_buf_putc(b, *p == '\n' || *p == '\r' ? ' ' : *p);
}

/* The text of one table. */
static void describe(lh_ai *ai, const table_ctx *t, lh_buf *b)
{
    const lh_column *cols[512];
    size_t n = table_columns(t, cols, LH_ARRAY_LEN(cols));
    lh_buf_printf(b, "TABLE %s (%s", t->name, t->view ? "view of " : "dataset");
    if (t->view)
        lh_buf_puts(b, t->ds->name);
    else
        lh_buf_printf(b, ", %lld rows", (long long)t->ds->row_count);
    lh_buf_puts(b, ")");
    if (!t->view && t->ds->description && *t->ds->description) {
        lh_buf_puts(b, " -- ");
        one_line(b, t->ds->description);
    }
    lh_buf_putc(b, '\n');
    json_t *vals = samples(ai, t, cols, n);
    for (size_t i = 0; i < n; i++) {
        const lh_column *c = cols[i];
        lh_buf_printf(b, "  %s %s", c->name, c->type);
        if (c->description && *c->description) {
            lh_buf_puts(b, " -- ");
            one_line(b, c->description);
        }
        if (withheld(t, c)) {
            lh_buf_puts(b, " (values withheld)");
        } else {
            const json_t *v = json_object_get(vals, c->name);
            bool number = numeric_type(c->type);
            for (size_t j = 0; j < json_array_size(v); j++) {
                const char *s = json_string_value(json_array_get(v, j));
                lh_buf_puts(b, j ? ", " : " e.g. ");
                /* Written as the model should write them in SQL. */
                char *lit = number ? lh_xstrdup(s) : lh_sql_quote_literal(s);
                lh_buf_puts(b, lit);
                free(lit);
            }
        }
        lh_buf_putc(b, '\n');
    }
    json_decref(vals);
}

/* Lowercase words of 3+ letters of the question. */
static size_t question_words(const char *q, char words[][32], size_t cap)
{
    size_t n = 0;
    for (const char *p = q; *p && n < cap;) {
        while (*p && !isalnum((unsigned char)*p))
            p++;
        size_t len = 0;
        char w[32];
        while (isalnum((unsigned char)*p) || *p == '_') {
            if (len < sizeof w - 1)
                w[len++] = (char)tolower((unsigned char)*p);
            p++;
        }
        w[len] = '\0';
        if (len >= 3)
            memcpy(words[n++], w, len + 1);
    }
    return n;
}

static int relevance(const table_ctx *t, char words[][32], size_t nw)
{
    lh_buf hay;
    lh_buf_init(&hay);
    lh_buf_printf(&hay, "%s %s ", t->name, t->ds->description ? t->ds->description : "");
    for (size_t i = 0; i < t->ds->ncolumns; i++)
        lh_buf_printf(&hay, "%s ", t->ds->columns[i].name);
    for (char *p = hay.data; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    int score = 0;
    for (size_t i = 0; i < nw; i++) {
        /* "customers" in the question should find table "customer" and vice versa. */
        char stem[32];
        size_t l = strnlen(words[i], sizeof stem - 1);
        memcpy(stem, words[i], l);
        stem[l] = '\0';
        if (l > 3 && stem[l - 1] == 's')
            stem[l - 1] = '\0';
        if (strstr(hay.data, stem))
            score += strstr(t->name, stem) ? 3 : 1;
    }
    lh_buf_release(&hay);
    return score;
}

static int by_score(const void *a, const void *b)
{
    const table_ctx *x = a, *y = b;
    if (x->score != y->score)
        return y->score - x->score;
    return x->order < y->order ? -1 : 1;
}

static bool wanted(const json_t *only, const char *name)
{
    if (!only)
        return true;
    for (size_t i = 0; i < json_array_size(only); i++)
        if (strcmp(json_string_value(json_array_get(only, i)), name) == 0)
            return true;
    return false;
}

char *lh_ai__schema_context(lh_ai *ai, const char *question, const json_t *only, lh_err *err)
{
    lh_catalog_snap *snap = lh_catalog_snapshot(ai->lake->catalog);
    size_t nds = lh_catalog_snap_count(snap), nv = lh_catalog_snap_view_count(snap);
    table_ctx *t = lh_xcalloc(nds + nv + 1, sizeof *t);
    size_t n = 0;
    char *out = NULL;
    for (size_t i = 0; i < json_array_size(only); i++) {
        const char *name = json_string_value(json_array_get(only, i));
        if (!lh_catalog_snap_find(snap, name) && !lh_catalog_snap_find_view(snap, name)) {
            lh_err_set(err, LH_NOT_FOUND, "dataset or view '%s' not found", name);
            goto out;
        }
    }
    for (size_t i = 0; i < nds; i++) {
        const lh_dataset *ds = lh_catalog_snap_at(snap, i);
        if (wanted(only, ds->name)) {
            t[n] = (table_ctx){ds->name, ds, NULL, 0, n};
            n++;
        }
    }
    for (size_t i = 0; i < nv; i++) {
        const json_t *v = lh_catalog_snap_view_at(snap, i);
        const char *name = json_string_value(json_object_get(v, "name"));
        const lh_dataset *ds =
            lh_catalog_snap_find(snap, json_string_value(json_object_get(v, "dataset")));
        if (name && ds && wanted(only, name)) {
            t[n] = (table_ctx){name, ds, v, 0, n};
            n++;
        }
    }
    char words[WORDS_MAX][32];
    size_t nw = question_words(question, words, WORDS_MAX);
    for (size_t i = 0; i < n; i++)
        t[i].score = relevance(&t[i], words, nw);
    qsort(t, n, sizeof *t, by_score);
    lh_buf b, one;
    lh_buf_init(&b);
    lh_buf_init(&one);
    lh_buf_puts(&b, "");
    size_t shown = 0;
    for (; shown < n; shown++) {
        lh_buf_reset(&one);
        describe(ai, &t[shown], &one);
        if (shown > 0 && b.len + one.len > LH_AI_SCHEMA_BUDGET)
            break;
        lh_buf_append(&b, one.data, one.len);
    }
    if (shown < n)
        lh_buf_printf(&b, "(%zu more tables not shown)\n", n - shown);
    if (n == 0)
        lh_buf_puts(&b, "(the lake has no tables yet)\n");
    lh_buf_release(&one);
    out = lh_buf_detach(&b, NULL);
out:
    free(t);
    lh_catalog_snap_unref(snap);
    return out;
}
