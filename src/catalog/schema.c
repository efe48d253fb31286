/* catalog: schema drift. lh_schema_diff reports how one schema differs from another (added,
 * removed, retyped and likely renamed columns) so a caller can choose instead of mangling
 * data; lh_cat__schema_plan decides what an append may do to the table's schema under a
 * lh_schema_mode; lh_cat__merge_column_flags carries newly detected PII into a table. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/catalog_int.h"

/* Names longer than this are compared only for equality and containment. */
#define NAME_CMP_MAX 128

int lh_cat__schema_plan(const char *dataset, const lh_column *have, size_t nhave,
                        const lh_column *want, size_t nwant, lh_schema_mode mode,
                        lh_column **widened, size_t *nwidened, lh_err *err)
{
    *widened = NULL;
    *nwidened = 0;
    if (mode != LH_SCHEMA_ADD_COLUMNS)
        return lh_cat__schema_check(dataset, have, nhave, want, nwant, err);
    size_t nnew = 0;
    for (size_t i = 0; i < nwant; i++) {
        long k = lh_cat__column_index(have, nhave, want[i].name);
        if (k >= 0) {
            if (strcmp(have[k].type, want[i].type) != 0)
                return lh_err_set(err, LH_CONFLICT,
                                  "dataset '%s': column '%s' is %s in the new file but %s in "
                                  "the table (a type change is not added automatically)",
                                  dataset, want[i].name, want[i].type, have[k].type);
            continue;
        }
        /* DuckDB names are case-insensitive: "Name" next to "name" would clash in views. */
        for (size_t h = 0; h < nhave; h++)
            if (strcasecmp(have[h].name, want[i].name) == 0)
                return lh_err_set(err, LH_CONFLICT,
                                  "dataset '%s': column '%s' in the new file differs only in "
                                  "case from '%s' in the table",
                                  dataset, want[i].name, have[h].name);
        nnew++;
    }
    if (nnew == 0)
        return 0;
    lh_column *out = lh_xcalloc(nhave + nnew, sizeof *out);
    lh_column *old = lh_columns_dup(have, nhave);
    if (nhave)
        memcpy(out, old, nhave * sizeof *out);
    free(old); /* the strings moved to out */
    size_t n = nhave;
    for (size_t i = 0; i < nwant; i++) {
        if (lh_cat__column_index(have, nhave, want[i].name) >= 0)
            continue;
        lh_column *one = lh_columns_dup(&want[i], 1);
        out[n++] = *one;
        free(one);
    }
    *widened = out;
    *nwidened = n;
    return 0;
}

void lh_cat__merge_column_flags(lh_cat__entry *e, const lh_column *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        long k = lh_cat__column_index(e->d.columns, e->d.ncolumns, cols[i].name);
        if (k < 0)
            continue;
        lh_column *c = &e->d.columns[k];
        if (!c->pii && cols[i].pii)
            c->pii = lh_xstrdup(cols[i].pii);
        if (!c->description && cols[i].description)
            c->description = lh_xstrdup(cols[i].description);
        /* A person's choice (either way) outranks detection. */
        if (cols[i].sensitive && !c->sensitive && !(e->sens_user && e->sens_user[k]))
            c->sensitive = true;
    }
}

/* ---- lh_schema_diff ---------------------------------------------------------------------- */

static const char *nm(const lh_column *c)
{
    return c->name ? c->name : "";
}

static const char *ty(const lh_column *c)
{
    return c->type ? c->type : "";
}

/* Lowercase letters and digits only: "Customer Name" and "customer_name" normalise alike. */
static size_t normalise(const char *s, char out[NAME_CMP_MAX + 1])
{
    size_t n = 0;
    for (; *s && n < NAME_CMP_MAX; s++)
        if (isalnum((unsigned char)*s))
            out[n++] = (char)tolower((unsigned char)*s);
    out[n] = '\0';
    return n;
}

static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    size_t prev[NAME_CMP_MAX + 1], cur[NAME_CMP_MAX + 1];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (nb + 1) * sizeof *prev);
    }
    return prev[nb];
}

/* How strongly two columns look like one renamed: 3 same normalised name, 2 similar names
 * (edit distance <= 2 on names long enough for that to mean something, or one contains the
 * other), 1 same position, 0 not at all. Types must be equal. */
static int rename_score(const lh_column *from, size_t fi, const lh_column *to, size_t ti)
{
    if (strcmp(ty(from), ty(to)) != 0)
        return 0;
    char a[NAME_CMP_MAX + 1], b[NAME_CMP_MAX + 1];
    size_t na = normalise(nm(from), a), nb = normalise(nm(to), b);
    if (na && nb) {
        if (strcmp(a, b) == 0)
            return 3;
        size_t shorter = na < nb ? na : nb;
        size_t d = edit_distance(a, na, b, nb);
        if (d <= 2 && shorter > 2 * d)
            return 2;
        if (shorter >= 3 && (strstr(a, b) || strstr(b, a)))
            return 2;
    }
    return fi == ti ? 1 : 0;
}

static json_t *col_json(const lh_column *c)
{
    return json_pack("{s:s, s:s}", "name", nm(c), "type", ty(c));
}

json_t *lh_schema_diff(const lh_column *from, size_t nfrom, const lh_column *to, size_t nto)
{
    if (!from)
        nfrom = 0;
    if (!to)
        nto = 0;
    bool *fm = lh_xcalloc(nfrom + 1, sizeof *fm), *tm = lh_xcalloc(nto + 1, sizeof *tm);
    json_t *added = json_array(), *removed = json_array(), *changed = json_array(),
           *renamed = json_array();
    for (size_t j = 0; j < nto; j++) {
        for (size_t i = 0; i < nfrom; i++) {
            if (fm[i] || strcmp(nm(&from[i]), nm(&to[j])) != 0)
                continue;
            fm[i] = tm[j] = true;
            if (strcmp(ty(&from[i]), ty(&to[j])) != 0)
                json_array_append_new(changed, json_pack("{s:s, s:s, s:s}", "name", nm(&to[j]),
                                                         "from", ty(&from[i]), "to", ty(&to[j])));
            break;
        }
    }
    /* Strongest evidence first, so a same-position guess never takes a column that another
     * removed one matches by name. */
    for (int tier = 3; tier >= 1; tier--)
        for (size_t i = 0; i < nfrom; i++)
            for (size_t j = 0; j < nto && !fm[i]; j++) {
                if (tm[j] || rename_score(&from[i], i, &to[j], j) != tier)
                    continue;
                fm[i] = tm[j] = true;
                json_array_append_new(renamed, json_pack("{s:s, s:s, s:s}", "from",
                                                         nm(&from[i]), "to", nm(&to[j]),
                                                         "type", ty(&to[j])));
            }
    for (size_t i = 0; i < nfrom; i++)
        if (!fm[i])
            json_array_append_new(removed, col_json(&from[i]));
    for (size_t j = 0; j < nto; j++)
        if (!tm[j])
            json_array_append_new(added, col_json(&to[j]));
    free(fm);
    free(tm);
    bool reordered = false;
    bool same = json_array_size(added) + json_array_size(removed) + json_array_size(changed) +
                    json_array_size(renamed) == 0;
    if (same) /* same names and types: only the order can differ */
        for (size_t i = 0; i < nfrom; i++)
            reordered = reordered || strcmp(nm(&from[i]), nm(&to[i])) != 0;
    if (same && !reordered) {
        json_decref(added);
        json_decref(removed);
        json_decref(changed);
        json_decref(renamed);
        return NULL;
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:b}", "added", added, "removed", removed,
                     "type_changed", changed, "renamed", renamed, "reordered", reordered);
}
