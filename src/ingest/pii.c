/* PII classification of a column: combines what the column name says (pii_name.c) with how
 * many sampled values validate (pii_rules.c, pii_text.c). Built to keep false positives low:
 * values alone need a clear majority, digit-only kinds are never taken from values alone
 * under an id-like name, and salary, date of birth and person names need the name. */
#include <string.h>

#include "ingest/ingest_int.h"

/* Share of non-empty sampled values that must validate strictly for a kind to be found from
 * the values alone: structured kinds have precise validators, free text (addresses, medical
 * notes) is messier, so it gets a little more room. */
#define VALUE_MAJORITY_STRUCTURED 0.70
#define VALUE_MAJORITY_TEXT 0.60
/* With the kind in the name: strictly valid values needed, or values merely consistent. */
#define HINT_STRICT 0.30
#define HINT_LOOSE 0.50
/* "name" alone: 2-3 capitalised words, and enough of them starting with a given name. */
#define PERSON_WORDS 0.60
#define PERSON_GIVEN 0.30
/* Free-text kinds are not found from values alone in fewer values than this. */
#define MIN_TEXT_VALUES 3
/* Longest prefix of a value that is scanned: PII shapes are short, notes are cut here. */
#define SCAN_MAX 4096

const char *lh_ingest__pii_kind_name(lh_pii_kind k)
{
    static const char *const names[LH_PII_KIND_COUNT] = {
        [LH_PII_EMAIL] = "email",          [LH_PII_PHONE] = "phone",
        [LH_PII_SSN] = "ssn",              [LH_PII_SALARY] = "salary",
        [LH_PII_STREET] = "street_address", [LH_PII_MEDICAL] = "medical",
        [LH_PII_PERSON] = "person_name",   [LH_PII_DOB] = "date_of_birth",
        [LH_PII_CARD] = "credit_card",     [LH_PII_IP] = "ip_address",
    };
    return (unsigned)k < LH_PII_KIND_COUNT ? names[k] : NULL;
}

/* Placeholders that mean "no value" in exports. */
static bool is_placeholder(const char *s, size_t n)
{
    static const char *const nulls[] = {"null", "none", "n/a", "na", "nan", "nil", "-", "--",
                                        "?", "unknown", "(null)", "#n/a"};
    if (n == 0)
        return true;
    if (n > 7)
        return false;
    char low[8];
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strcmp(low, nulls[i]) == 0)
            return true;
    return false;
}

typedef struct tally {
    size_t total; /* non-empty values */
    size_t strict[LH_PII_KIND_COUNT];
    size_t loose[LH_PII_KIND_COUNT];
    size_t ssn_bare, person_words, given_name, zero_one;
} tally;

static void count_values(const char *const *values, size_t nvalues, tally *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; values && i < nvalues; i++) {
        const char *s = values[i];
        if (!s)
            continue;
        size_t n = strnlen(s, SCAN_MAX);
        while (n > 0 && strchr(" \t\r\n", s[0]))
            s++, n--;
        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
            n--;
        if (is_placeholder(s, n))
            continue;
        lh_pii_value v;
        lh_ingest__pii_scan_value(s, n, &v);
        t->total++;
        for (int k = 1; k < LH_PII_KIND_COUNT; k++) {
            t->strict[k] += (v.strict & LH_PII_BIT(k)) != 0;
            t->loose[k] += (v.loose & LH_PII_BIT(k)) != 0;
        }
        t->ssn_bare += v.ssn_bare;
        t->person_words += v.person_words;
        t->given_name += v.given_name;
        t->zero_one += v.zero_one && (v.loose & LH_PII_BIT(LH_PII_SALARY));
    }
}

static double frac(size_t k, size_t total) { return total ? (double)k / (double)total : 0.0; }

/* The kind most values prove on their own, or LH_PII_NONE. */
static lh_pii_kind from_values(const tally *t, const lh_pii_name *nm)
{
    static const lh_pii_kind order[] = {LH_PII_EMAIL, LH_PII_CARD, LH_PII_SSN, LH_PII_PHONE,
                                        LH_PII_IP, LH_PII_STREET, LH_PII_MEDICAL};
    lh_pii_kind best = LH_PII_NONE;
    double best_frac = 0.0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        lh_pii_kind k = order[i];
        bool digits = k == LH_PII_CARD || k == LH_PII_SSN || k == LH_PII_PHONE;
        bool text = k == LH_PII_STREET || k == LH_PII_MEDICAL;
        if (digits && nm->idlike && nm->kind != k)
            continue; /* "order_number", "zip", "candidate_id": ids, whatever they look like */
        if (k == LH_PII_IP && nm->not_ip)
            continue; /* "1.2.3.4" under "version" */
        if (text && t->total < MIN_TEXT_VALUES)
            continue;
        double f = frac(t->strict[k], t->total);
        if (f >= (text ? VALUE_MAJORITY_TEXT : VALUE_MAJORITY_STRUCTURED) && f > best_frac)
            best = k, best_frac = f;
    }
    return best;
}

/* Whether the values bear out the kind the name gives. */
static bool name_confirmed(const tally *t, const lh_pii_name *nm)
{
    lh_pii_kind k = nm->kind;
    if (k == LH_PII_SALARY || k == LH_PII_DOB || k == LH_PII_PERSON) {
        if (!nm->strong)
            return false; /* "salary_currency", "birth_place", "first_name_verified" */
        size_t ok = t->loose[k];
        if (k == LH_PII_SALARY) {
            if (ok == t->zero_one)
                return false; /* 0/1 under "bonus": a flag, not an amount */
        }
        return frac(ok, t->total) >= HINT_LOOSE;
    }
    size_t hits = t->strict[k] + (k == LH_PII_SSN ? t->ssn_bare : 0);
    if (frac(hits, t->total) >= HINT_STRICT)
        return true;
    return nm->strong && frac(t->loose[k], t->total) >= HINT_LOOSE;
}

const char *lh_ingest__pii_classify(const char *column_name, const char *const *values,
                                    size_t nvalues)
{
    lh_pii_name nm;
    lh_ingest__pii_scan_name(column_name ? column_name : "", &nm);
    tally t;
    count_values(values, nvalues, &t);
    if (t.total == 0) /* nothing sampled: only a plain, unqualified name speaks */
        return nm.strong ? lh_ingest__pii_kind_name(nm.kind) : NULL;
    lh_pii_kind k = from_values(&t, &nm);
    if (k != LH_PII_NONE)
        return lh_ingest__pii_kind_name(k);
    if (nm.kind != LH_PII_NONE && name_confirmed(&t, &nm))
        return lh_ingest__pii_kind_name(nm.kind);
    if (nm.person_maybe && frac(t.person_words, t.total) >= PERSON_WORDS &&
        frac(t.given_name, t.total) >= PERSON_GIVEN)
        return lh_ingest__pii_kind_name(LH_PII_PERSON);
    return NULL;
}
