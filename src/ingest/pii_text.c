/* PII validators for free-text values: street addresses (house number + name + suffix, PO
 * boxes), medical vocabulary and ICD-10 codes, salaries, dates and person names; and
 * lh_ingest__pii_scan_value, which runs every validator over one value. */
#include <string.h>

#include "ingest/ingest_int.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
static bool is_space(char c) { return c == ' ' || c == '\t'; }
static bool is_high(char c) { return (unsigned char)c >= 0x80; } /* part of a UTF-8 letter */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return n > 0;
}

static bool word_eq(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((is_upper(s[i]) ? s[i] + 32 : s[i]) != w[i])
            return false;
    return true;
}

static bool has_letter(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_alpha(s[i]) || is_high(s[i]))
            return true;
    return false;
}

static bool has_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_digit(s[i]))
            return true;
    return false;
}

typedef struct word {
    const char *p;
    size_t n;
    bool comma_after; /* a ',' or ';' ends the word: a field boundary */
} word;

/* Splits on spaces, strips trailing ',', ';' and '.' off each word. At most cap words;
 * returns cap + 1 when there are more. */
static size_t split_words(const char *s, size_t n, word *w, size_t cap)
{
    size_t k = 0, i = 0;
    for (;;) {
        while (i < n && is_space(s[i]))
            i++;
        size_t st = i;
        while (i < n && !is_space(s[i]))
            i++;
        if (i == st)
            return k;
        word x = {s + st, i - st, false};
        while (x.n > 0 && strchr(",;.", x.p[x.n - 1])) {
            x.comma_after |= x.p[x.n - 1] != '.';
            x.n--;
        }
        if (x.n == 0)
            continue;
        if (k == cap)
            return cap + 1;
        w[k++] = x;
    }
}

/* ---- street addresses ---- */

/* "12", "12B", "12-14" */
static bool house_number(const word *w)
{
    size_t i = 0;
    while (i < w->n && is_digit(w->p[i]))
        i++;
    if (i == 0 || i > 6)
        return false;
    if (i == w->n || (i + 1 == w->n && is_alpha(w->p[i])))
        return true;
    return w->p[i] == '-' && w->n - i - 1 <= 6 && all_digits(w->p + i + 1, w->n - i - 1);
}

static bool stopword(const word *w)
{
    static const char *const stop[] = {"a", "an", "and", "are", "as", "at", "by", "for",
                                       "from", "in", "is", "it", "of", "on", "or", "our",
                                       "per", "the", "to", "was", "were", "with", "x"};
    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++)
        if (word_eq(w->p, w->n, stop[i]))
            return true;
    return false;
}

/* A word of a street's name: "Main", "O'Neil", "5th"; capitalised unless the whole value
 * is lower case. */
static bool street_name_word(const word *w, bool any_case)
{
    size_t d = 0;
    while (d < w->n && is_digit(w->p[d]))
        d++;
    if (d > 0 && d <= 3 && w->n == d + 2) {
        const char *t = w->p + d;
        return word_eq(t, 2, "st") || word_eq(t, 2, "nd") || word_eq(t, 2, "rd") ||
               word_eq(t, 2, "th");
    }
    if (d > 0 || !(is_alpha(w->p[0]) || is_high(w->p[0])) || (!any_case && !is_upper(w->p[0])))
        return false;
    for (size_t i = 1; i < w->n; i++)
        if (!is_alpha(w->p[i]) && !is_high(w->p[i]) && w->p[i] != '\'' && w->p[i] != '-')
            return false;
    return !stopword(w);
}

/* "12 Main St", "1600 Pennsylvania Avenue NW, Washington", "221B Baker Street",
 * "PO Box 1234": a house number, one to four name words, then a street suffix that ends the
 * street part (end of value, a comma, a unit or compass word, or '#'). */
static bool street_strict(const char *s, size_t n)
{
    word w[48];
    size_t k = split_words(s, n, w, 48);
    if (k > 48)
        k = 48;
    bool any_case = true;
    for (size_t i = 0; i < n && any_case; i++)
        any_case = !is_upper(s[i]);
    for (size_t i = 0; i + 2 < k; i++) {
        bool po = word_eq(w[i].p, w[i].n, "po") || word_eq(w[i].p, w[i].n, "p.o");
        if (po && word_eq(w[i + 1].p, w[i + 1].n, "box") && all_digits(w[i + 2].p, w[i + 2].n))
            return true;
    }
    for (size_t i = 0; i + 2 < k; i++) {
        if (!house_number(&w[i]) || w[i].comma_after)
            continue;
        size_t names = 0;
        for (size_t j = i + 1; j < k && j <= i + 5; j++) {
            if (names > 0 && lh_ingest__pii_vocab_has(LH_PII_VOCAB_STREET_SUFFIX, w[j].p, w[j].n)) {
                if (j + 1 == k || w[j].comma_after || w[j + 1].p[0] == '#' ||
                    lh_ingest__pii_vocab_has(LH_PII_VOCAB_STREET_TAIL, w[j + 1].p, w[j + 1].n))
                    return true;
            }
            if (!street_name_word(&w[j], any_case) || w[j].comma_after)
                break;
            names++;
        }
    }
    return false;
}

/* ---- medical ---- */

/* An ICD-10-CM category: a letter other than U, a digit, a digit or letter. */
static bool icd_head(const char *p)
{
    return is_upper(p[0]) && p[0] != 'U' && is_digit(p[1]) && (is_digit(p[2]) || is_upper(p[2]));
}

/* What follows the dot of an ICD-10-CM code: 1-4 characters, digits or the placeholder X,
 * the 7th character of the full code (4th here) may be a letter: "9", "909", "001A", "0X1A". */
static bool icd_tail(const char *p, size_t n)
{
    size_t k = 0;
    while (k < n && is_alnum(p[k]))
        k++;
    if (k == 0 || k > 4)
        return false;
    for (size_t i = 0; i < k; i++)
        if (!is_digit(p[i]) && p[i] != 'X' && !(i == 3 && is_upper(p[i])))
            return false;
    return true;
}

/* A vocabulary word (plural 's' and possessive "'s" tolerated) or a dotted ICD-10 code
 * ("E11.9", "J45.909"). */
static bool medical_strict(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && !is_alnum(s[i]))
            i++;
        size_t st = i;
        while (i < n && is_alnum(s[i]))
            i++;
        size_t len = i - st;
        if (len >= 3 && is_alpha(s[st])) {
            if (lh_ingest__pii_vocab_has(LH_PII_VOCAB_MEDICAL, s + st, len))
                return true;
            if (len > 4 && (s[i - 1] == 's' || s[i - 1] == 'S') &&
                lh_ingest__pii_vocab_has(LH_PII_VOCAB_MEDICAL, s + st, len - 1))
                return true;
        }
        if (len == 3 && icd_head(s + st) && i + 1 < n && s[i] == '.' &&
            icd_tail(s + i + 1, n - i - 1))
            return true;
    }
    return false;
}

/* ---- salary ---- */

static size_t skip_spaces(const char *s, size_t n, size_t i)
{
    while (i < n && is_space(s[i]))
        i++;
    return i;
}

static bool currency_code(const char *p, size_t n)
{
    static const char *const codes[] = {"aud", "cad", "chf", "eur", "gbp", "inr", "jpy", "usd"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (word_eq(p, n, codes[i]))
            return true;
    return false;
}

static size_t skip_currency(const char *s, size_t n, size_t i)
{
    static const char *const sym[] = {"$", "\xE2\x82\xAC", "\xC2\xA3", "\xC2\xA5", "\xE2\x82\xB9"};
    for (size_t k = 0; k < sizeof sym / sizeof sym[0]; k++) {
        size_t l = strlen(sym[k]);
        if (n - i >= l && memcmp(s + i, sym[k], l) == 0)
            return i + l;
    }
    if (n - i >= 3 && currency_code(s + i, 3) && (n - i == 3 || !is_alpha(s[i + 3])))
        return i + 3;
    return i;
}

/* "85000", "85,000.00", "85k": returns the index after it, or 0 when there is none. */
static size_t amount(const char *s, size_t n, size_t i)
{
    size_t st = i;
    while (i < n && is_digit(s[i]))
        i++;
    if (i == st || i - st > 12)
        return 0;
    while (i + 3 < n && s[i] == ',' && all_digits(s + i + 1, 3) &&
           (i + 4 == n || !is_digit(s[i + 4])))
        i += 4;
    if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
        i++;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'k' || s[i] == 'K') && (i + 1 == n || !is_alpha(s[i + 1])))
        i++;
    return i;
}

/* "$85,000", "USD 85000", "85k-95k", "$42.50/hr", "60,000 per year" */
static bool salary_value(const char *s, size_t n)
{
    static const char *const tail[] = {"a", "an", "annual", "annually", "annum", "base",
                                       "daily", "day", "gross", "h", "hour", "hourly", "hr",
                                       "month", "monthly", "mo", "net", "p", "pa", "per", "week",
                                       "weekly", "wk", "year", "yearly", "yr"};
    size_t i = skip_spaces(s, n, skip_currency(s, n, skip_spaces(s, n, 0)));
    if ((i = amount(s, n, i)) == 0)
        return false;
    i = skip_spaces(s, n, i);
    bool range = false;
    if (i < n && s[i] == '-')
        range = true, i++;
    else if (n - i >= 3 && memcmp(s + i, "\xE2\x80\x93", 3) == 0)
        range = true, i += 3;
    else if (n - i >= 3 && word_eq(s + i, 2, "to") && is_space(s[i + 2]))
        range = true, i += 2;
    if (range) {
        i = skip_spaces(s, n, skip_currency(s, n, skip_spaces(s, n, i)));
        if ((i = amount(s, n, i)) == 0)
            return false;
    }
    while (i < n) {
        if (is_space(s[i]) || s[i] == '/' || s[i] == '.' || s[i] == '(' || s[i] == ')') {
            i++;
            continue;
        }
        size_t st = i;
        while (i < n && is_alpha(s[i]))
            i++;
        if (i == st)
            return false;
        bool ok = currency_code(s + st, i - st);
        for (size_t k = 0; !ok && k < sizeof tail / sizeof tail[0]; k++)
            ok = word_eq(s + st, i - st, tail[k]);
        if (!ok)
            return false;
    }
    return true;
}

/* ---- dates ---- */

static bool ymd_ok(long y, int ydigits, long m, long d)
{
    if (ydigits == 4 && (y < 1900 || y > 2099))
        return false;
    return (ydigits == 2 || ydigits == 4) && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* "1980-05-17", "05/17/1980", "17.05.1980", "May 17, 1980", "17 May 1980", "19800517",
 * with or without a time part. */
static bool date_value(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (colon) { /* cut "T10:00:00Z" / " 00:00:00" */
        size_t c = (size_t)(colon - s);
        while (c > 0 && s[c - 1] != ' ' && s[c - 1] != 'T')
            c--;
        if (c == 0)
            return false;
        n = c - 1;
    }
    if (n == 8 && all_digits(s, 8)) {
        long y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        return ymd_ok(y, 4, (s[4] - '0') * 10 + (s[5] - '0'), (s[6] - '0') * 10 + (s[7] - '0'));
    }
    long v[3];
    int len[3], month_at = -1, k = 0;
    size_t i = 0;
    while (i < n) {
        if (strchr("-/., ", s[i])) {
            i++;
            continue;
        }
        if (k == 3)
            return false;
        size_t st = i;
        if (is_digit(s[i])) {
            v[k] = 0;
            while (i < n && is_digit(s[i]) && i - st < 4)
                v[k] = v[k] * 10 + (s[i++] - '0');
            if (i < n && is_digit(s[i]))
                return false;
        } else {
            while (i < n && is_alpha(s[i]))
                i++;
            if (i == st || month_at >= 0 ||
                !lh_ingest__pii_vocab_has(LH_PII_VOCAB_MONTH, s + st, i - st))
                return false;
            month_at = k;
            v[k] = 0;
            static const char *const m3[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                             "jul", "aug", "sep", "oct", "nov", "dec"};
            for (int m = 0; m < 12; m++)
                if (word_eq(s + st, 3, m3[m]))
                    v[k] = m + 1;
        }
        len[k++] = (int)(i - st);
    }
    if (k != 3)
        return false;
    if (month_at == 1 || (month_at < 0 && len[0] == 4)) /* Y-M-D or D Mon Y */
        return len[0] == 4 ? ymd_ok(v[0], 4, v[1], v[2]) : ymd_ok(v[2], len[2], v[1], v[0]);
    if (month_at == 0) /* Mon D, Y */
        return ymd_ok(v[2], len[2], v[0], v[1]);
    if (month_at < 0 && (len[2] == 4 || len[2] == 2)) /* M/D/Y or D/M/Y */
        return ymd_ok(v[2], len[2], v[0], v[1]) || ymd_ok(v[2], len[2], v[1], v[0]);
    return false;
}

/* ---- person names ---- */

/* Letters, spaces and name punctuation only, at most six words: "Mary-Jane O'Neil". */
static bool person_loose(const char *s, size_t n)
{
    if (n > 100 || !has_letter(s, n))
        return false;
    size_t words = 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_space(c))
            words += i > 0 && !is_space(s[i - 1]);
        else if (!is_alpha(c) && !is_high(c) && !strchr(".'-,", c))
            return false;
    }
    return words <= 6;
}

/* "Mary", "O'Neil", "McDonald", or an initial "J" (its '.' already stripped). */
static bool capitalised(const word *w, bool initial_ok)
{
    if (!is_upper(w->p[0]))
        return false;
    if (w->n == 1)
        return initial_ok;
    bool lower_seen = false;
    for (size_t i = 1; i < w->n; i++) {
        char c = w->p[i];
        if (!is_alpha(c) && !is_high(c) && c != '\'' && c != '-')
            return false;
        lower_seen |= is_lower(c) || is_high(c);
    }
    return lower_seen;
}

/* 2-3 capitalised words ("Jane Doe", "Doe, Jane A."), none a business word; *given when the
 * first name is in the given-name list. */
static bool person_words(const char *s, size_t n, bool *given)
{
    word w[4];
    size_t k = split_words(s, n, w, 3);
    *given = false;
    if (n > 80 || k < 2 || k > 3)
        return false;
    for (size_t i = 0; i < k; i++) {
        if ((w[i].comma_after && i != 0) || !capitalised(&w[i], i > 0) ||
            lh_ingest__pii_vocab_has(LH_PII_VOCAB_BUSINESS, w[i].p, w[i].n))
            return false;
    }
    const word *first = w[0].comma_after ? &w[1] : &w[0];
    *given = lh_ingest__pii_vocab_has(LH_PII_VOCAB_GIVEN_NAME, first->p, first->n);
    return true;
}

void lh_ingest__pii_scan_value(const char *s, size_t n, lh_pii_value *out)
{
    memset(out, 0, sizeof *out);
    lh_ingest__pii_scan_structured(s, n, out);
    unsigned st = 0, lo = 0;
    if (street_strict(s, n))
        st |= LH_PII_BIT(LH_PII_STREET);
    else if (n >= 4 && has_letter(s, n) && (memchr(s, ' ', n) || has_digit(s, n)))
        lo |= LH_PII_BIT(LH_PII_STREET);
    if (medical_strict(s, n))
        st |= LH_PII_BIT(LH_PII_MEDICAL);
    else if (has_letter(s, n))
        lo |= LH_PII_BIT(LH_PII_MEDICAL);
    if (salary_value(s, n))
        lo |= LH_PII_BIT(LH_PII_SALARY);
    if (date_value(s, n))
        lo |= LH_PII_BIT(LH_PII_DOB);
    if (person_loose(s, n))
        lo |= LH_PII_BIT(LH_PII_PERSON);
    out->person_words = person_words(s, n, &out->given_name);
    out->zero_one = n == 1 && (s[0] == '0' || s[0] == '1');
    out->strict |= st;
    out->loose |= lo | st;
}
