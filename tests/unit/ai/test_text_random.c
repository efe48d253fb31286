/* Randomised checks of the ai text helpers on model-like garbage (a seeded generator, a few
 * thousand strings): nothing crashes, citation fixing is idempotent and keeps only numbers
 * of cited passages, scores stay in 0..1. Runs under ASan in `make test`. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"

static const char *const PIECES[] = {"[", "]", "1", "2", "3", "9", "0", ",", " ", "\n", "a",
                                     "```", "sql", "SELECT ", "WITH ", ";", ":", "/10",
                                     "Passage ", "\xc3\xa9", "\xff", "[12]", "[1, 2]", "-"};

static char *random_text(unsigned *seed)
{
    size_t n = (size_t)(rand_r(seed) % 40);
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "");
    for (size_t i = 0; i < n; i++)
        lh_buf_puts(&b, PIECES[(size_t)rand_r(seed) % LH_ARRAY_LEN(PIECES)]);
    return lh_buf_detach(&b, NULL);
}

Test(ai_text_random, helpers_hold_their_invariants)
{
    unsigned seed = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        char *t = random_text(&seed);
        size_t np = (size_t)(rand_r(&seed) % 6);
        size_t order[8], n1 = 0, order2[8], n2 = 0;
        char *fixed = lh_ai__fix_citations(t, np, order, &n1);
        cr_assert(n1 <= np);
        for (size_t i = 0; i < n1; i++)
            cr_assert(order[i] < np);
        /* The fixed text cites passages 1..n1 in order: fixing it again changes nothing. */
        char *again = lh_ai__fix_citations(fixed, n1, order2, &n2);
        cr_assert(eq(str, again, fixed), "input: %s", t);
        cr_assert(eq(sz, n2, n1));
        for (size_t i = 0; i < n2; i++)
            cr_assert(eq(sz, order2[i], i));
        free(again);
        free(fixed);

        double s[5];
        bool f[5];
        size_t got = lh_ai__parse_scores(t, 5, s, f);
        cr_assert(got <= 5);
        for (size_t i = 0; i < 5; i++)
            cr_assert(s[i] >= 0 && s[i] <= 1);

        char *e = NULL;
        char *sql = lh_ai__extract_sql(t, &e);
        cr_assert(sql == NULL || sql[0] != '\0');
        cr_assert_not_null(e);
        free(sql);
        free(e);
        free(t);
    }
}
