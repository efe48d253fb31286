/* Unit tests of the ai text helpers (text.c): SQL out of model replies, citation checking,
 * score parsing and clipping. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>

#include "ai/ai_int.h"

static void expect_sql(const char *reply, const char *sql, const char *expl)
{
    char *e = NULL;
    char *got = lh_ai__extract_sql(reply, &e);
    if (sql) {
        cr_assert_not_null(got, "no SQL in: %s", reply);
        cr_assert(eq(str, got, (char *)sql));
    } else {
        cr_assert_null(got, "SQL found in: %s", reply);
    }
    if (expl)
        cr_assert(eq(str, e, (char *)expl));
    free(got);
    free(e);
}

Test(ai_text, extract_sql)
{
    expect_sql("```sql\nSELECT 1;\n```\nOne.", "SELECT 1", "One.");
    expect_sql("Here:\n```SQL\nSELECT a\nFROM t\n```", "SELECT a\nFROM t", "Here:");
    expect_sql("```sql SELECT 2```", "SELECT 2", "");
    expect_sql("```\nSELECT 3\n```", "SELECT 3", "");
    expect_sql("```python\nprint(1)\n```\n```sql\nSELECT 4\n```", "SELECT 4", NULL);
    expect_sql("The answer is SELECT count(*) FROM t; it counts rows.",
               "SELECT count(*) FROM t", "The answer is it counts rows.");
    expect_sql("WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT 1) SELECT * FROM x",
               "");
    expect_sql("DROP TABLE orders", "DROP TABLE orders", ""); /* the sandbox refuses it */
    expect_sql("I cannot answer that.", NULL, "I cannot answer that.");
    expect_sql("```sql\n\n```", NULL, NULL);
    expect_sql("", NULL, "");
}

static void expect_cites(const char *answer, size_t n, const char *want, size_t ncited,
                         const size_t *order)
{
    size_t got_order[16] = {0}, got_n = 99;
    char *out = lh_ai__fix_citations(answer, n, got_order, &got_n);
    cr_assert(eq(str, out, (char *)want));
    cr_assert(eq(sz, got_n, ncited));
    for (size_t i = 0; i < ncited; i++)
        cr_assert(eq(sz, got_order[i], order[i]), "order[%zu]", i);
    free(out);
}

Test(ai_text, fix_citations)
{
    expect_cites("A [1]. B [2].", 3, "A [1]. B [2].", 2, (size_t[]){0, 1});
    expect_cites("A [3]. B [1] [3].", 3, "A [1]. B [2] [1].", 2, (size_t[]){2, 0});
    expect_cites("A [9]. B [1, 7, 2].", 2, "A. B [1, 2].", 2, (size_t[]){0, 1});
    expect_cites("x[0] and [4]", 3, "x and", 0, NULL);
    expect_cites("no refs", 3, "no refs", 0, NULL);
    expect_cites("[1][1] [ 2 ,1 ]", 2, "[1][1] [2, 1]", 2, (size_t[]){0, 1});
    expect_cites("keep [a] and [1", 2, "keep [a] and [1", 0, NULL);
    expect_cites("[1234567]", 2, "[1234567]", 0, NULL); /* not a passage number */
    expect_cites("A [1].", 0, "A.", 0, NULL);
}

Test(ai_text, parse_scores)
{
    double s[4];
    bool f[4];
    cr_assert(eq(sz, lh_ai__parse_scores("1: 7\n2: 3\n3: 10\n", 3, s, f), 3));
    cr_assert(ieee_ulp_eq(dbl, s[0], 0.7, 4));
    cr_assert(ieee_ulp_eq(dbl, s[2], 1.0, 4));
    cr_assert(eq(sz, lh_ai__parse_scores("Scores:\n- Passage 2 - score 9.5\n[1] 2/10", 3, s, f),
                 2));
    cr_assert(ieee_ulp_eq(dbl, s[1], 0.95, 4));
    cr_assert(ieee_ulp_eq(dbl, s[0], 0.2, 4));
    cr_assert(not(f[2]));
    cr_assert(eq(sz, lh_ai__parse_scores("here: [3, 8, 0.5, 10]", 4, s, f), 4));
    cr_assert(ieee_ulp_eq(dbl, s[1], 0.8, 4));
    cr_assert(eq(sz, lh_ai__parse_scores("1: 80\n2: 20", 2, s, f), 2)); /* a 0-100 scale */
    cr_assert(ieee_ulp_eq(dbl, s[0], 0.8, 4));
    cr_assert(eq(sz, lh_ai__parse_scores("7: 9\nnothing useful", 2, s, f), 0));
    cr_assert(eq(sz, lh_ai__parse_scores("", 2, s, f), 0));
}

Test(ai_text, clip)
{
    char *c = lh_ai__clip("h\xc3\xa9llo", 2); /* never cuts inside é */
    cr_assert(eq(str, c, "h..."));
    free(c);
    c = lh_ai__clip("short", 10);
    cr_assert(eq(str, c, "short"));
    free(c);
}
