/* PII validators for structured values: e-mail syntax, phone shapes (NANP, E.164,
 * trunk-prefixed national), SSN with its area/group/serial rules, Luhn-checked card numbers
 * with issuer prefixes, IPv4/IPv6. Each gives a strict verdict (the value alone proves the
 * kind) and a loose one (consistent with the kind when the column name already says so). */
#include <arpa/inet.h>
#include <string.h>

#include "ingest/ingest_int.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
static bool is_space(char c) { return c == ' ' || c == '\t'; }
static char lower(char c) { return is_upper(c) ? (char)(c + 32) : c; }

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return n > 0;
}

static bool word_eq(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (k != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != w[i])
            return false;
    return true;
}

/* ---- e-mail ---- */

static bool email_strict(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (n < 6 || n > 254 || !at)
        return false;
    size_t ll = (size_t)(at - s);
    if (ll == 0 || ll > 64 || s[0] == '.' || s[ll - 1] == '.')
        return false;
    for (size_t i = 0; i < ll; i++) {
        if (!is_alnum(s[i]) && !strchr("!#$%&'*+/=?^_`{|}~.-", s[i]))
            return false;
        if (s[i] == '.' && i + 1 < ll && s[i + 1] == '.')
            return false;
    }
    /* domain: dot-separated labels of letters, digits and inner hyphens; an alphabetic TLD */
    size_t labels = 0, start = ll + 1;
    for (size_t i = ll + 1; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!is_alnum(s[i]) && s[i] != '-')
                return false;
            continue;
        }
        size_t len = i - start;
        if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        labels++;
        if (i == n) {
            if (len < 2)
                return false;
            for (size_t j = start; j < i; j++)
                if (!is_alpha(s[j]))
                    return false;
        }
        start = i + 1;
    }
    return labels >= 2;
}

/* "Jane Doe <jane@x.org>", "mailto:jane@x.org": text on both sides of an '@'. */
static bool email_loose(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    return at && at > s && at < s + n - 1;
}

/* ---- phone ---- */

/* Length of s without a trailing extension: " x12", " ext. 12", "#12", " extension 12". */
static size_t strip_extension(const char *s, size_t n)
{
    size_t e = n;
    while (e > 0 && is_digit(s[e - 1]))
        e--;
    if (e == n || n - e > 6)
        return n;
    while (e > 0 && is_space(s[e - 1]))
        e--;
    if (e > 0 && s[e - 1] == '#')
        return e - 1;
    if (e > 0 && s[e - 1] == '.')
        e--;
    size_t w = e;
    while (w > 0 && is_alpha(s[w - 1]))
        w--;
    if (w == e || !(word_eq(s + w, e - w, "x") || word_eq(s + w, e - w, "ext") ||
                    word_eq(s + w, e - w, "extension")))
        return n;
    while (w > 0 && is_space(s[w - 1]))
        w--;
    return w;
}

static bool phone_shape(const char *s, size_t n, bool loose)
{
    n = strip_extension(s, n);
    size_t i = 0;
    bool plus = n > 0 && s[0] == '+';
    if (plus)
        i = 1;
    int groups[8], ng = 0, cur = 0, digits = 0, sep_run = 0;
    char first[8]; /* first digit of each group */
    bool open = false, used = false;
    for (; i < n; i++) {
        char c = s[i];
        if (is_digit(c)) {
            if (cur == 0) {
                if (ng == 8)
                    return false;
                first[ng] = c;
            }
            cur++;
            digits++;
            sep_run = 0;
            continue;
        }
        if (!strchr(" -.()", c) || c == '\0')
            return false;
        if (cur) {
            groups[ng++] = cur;
            cur = 0;
        }
        if (c == '(') {
            if (open || used)
                return false;
            open = used = true;
        } else if (c == ')') {
            if (!open)
                return false;
            open = false;
        }
        if (++sep_run > 2)
            return false;
    }
    if (cur)
        groups[ng++] = cur;
    if (open || ng == 0 || digits > 15)
        return false;
    bool datelike = ng == 3 && ((groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2) ||
                                (groups[0] <= 2 && groups[1] <= 2 && groups[2] == 4));
    if (loose)
        return digits >= 7 && !datelike;
    if (plus)
        return digits >= 10; /* E.164: country code + subscriber number, at most 15 digits */
    if (ng < 2)
        return false; /* bare digits could be any id: punctuation is required */
    const int *g = groups;
    if (digits == 10 && ng == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4)
        return first[0] >= '2'; /* NANP area codes never start with 0 or 1 */
    if (digits == 11 && ng == 4 && g[0] == 1 && first[0] == '1' && g[1] == 3 && g[2] == 3 &&
        g[3] == 4)
        return first[1] >= '2';
    if (first[0] == '0' && (digits == 10 || digits == 11) && ng <= 4) {
        for (int k = 0; k < ng; k++)
            if (g[k] < 2)
                return false;
        return true; /* national number with trunk prefix: "020 7946 0958" */
    }
    return false;
}

/* ---- SSN ---- */

static bool ssn_parts_ok(const char *a, const char *g, const char *sr)
{
    if (memcmp(a, "000", 3) == 0 || memcmp(a, "666", 3) == 0 || a[0] == '9')
        return false;
    return memcmp(g, "00", 2) != 0 && memcmp(sr, "0000", 4) != 0;
}

static bool ssn_dashed(const char *s, size_t n)
{
    if (n != 11 || (s[3] != '-' && s[3] != ' ') || s[6] != s[3])
        return false;
    if (!all_digits(s, 3) || !all_digits(s + 4, 2) || !all_digits(s + 7, 4))
        return false;
    return ssn_parts_ok(s, s + 4, s + 7);
}

static bool ssn_bare(const char *s, size_t n)
{
    return n == 9 && all_digits(s, 9) && ssn_parts_ok(s, s + 3, s + 5);
}

static bool mask_char(char c) { return c == 'X' || c == 'x' || c == '*' || c == '#'; }

/* "XXX-XX-1234", "***-**-1234" */
static bool ssn_masked(const char *s, size_t n)
{
    if (n != 11 || s[3] != '-' || s[6] != '-' || !all_digits(s + 7, 4))
        return false;
    for (size_t i = 0; i < 6; i++)
        if (i != 3 && !mask_char(s[i]))
            return false;
    return true;
}

/* ---- payment cards ---- */

static bool luhn_ok(const char *d, size_t n)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int v = d[n - 1 - i] - '0';
        if (i % 2 == 1 && (v *= 2) > 9)
            v -= 9;
        sum += v;
    }
    return sum % 10 == 0;
}

/* Issuer prefixes of the major networks: Visa, Mastercard, Amex, Discover, JCB, Diners,
 * UnionPay, Maestro. A Luhn-valid number outside them is more likely an id than a card. */
static bool known_issuer(const char *d)
{
    int p2 = (d[0] - '0') * 10 + (d[1] - '0');
    int p4 = p2 * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    return d[0] == '4' || (p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720) || p2 == 34 ||
           p2 == 37 || p4 == 6011 || (p4 >= 6440 && p4 <= 6499) || p2 == 65 ||
           (p4 >= 3528 && p4 <= 3589) || (p4 >= 3000 && p4 <= 3059) || p2 == 36 || p2 == 38 ||
           p2 == 39 || p2 == 62 || p2 == 50 || (p2 >= 56 && p2 <= 58) || p2 == 67;
}

/* Digits of a card-like value: digits with single spaces or dashes between groups. Returns
 * the digit count (0 when the shape is wrong); masked counts X/x/'*' positions. */
static size_t card_digits(const char *s, size_t n, char *d, size_t cap, size_t *masked)
{
    size_t k = 0;
    *masked = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_digit(c) || mask_char(c)) {
            if (k == cap)
                return 0;
            if (!is_digit(c))
                (*masked)++;
            d[k++] = c;
        } else if ((c != ' ' && c != '-') || i == 0 || i + 1 == n || s[i + 1] == ' ' ||
                   s[i + 1] == '-') {
            return 0;
        }
    }
    return k;
}

static void card_check(const char *s, size_t n, bool *strict, bool *loose)
{
    char d[20];
    size_t masked;
    size_t k = card_digits(s, n, d, sizeof d, &masked);
    *strict = *loose = false;
    if (k < 13 || k > 19)
        return;
    if (masked == 0) {
        *loose = true;
        *strict = luhn_ok(d, k) && known_issuer(d);
        return;
    }
    /* "**** **** **** 1234": masks first, the last four digits shown */
    size_t tail = 0;
    while (tail < k && is_digit(d[k - 1 - tail]))
        tail++;
    *loose = masked >= 4 && tail >= 4 && masked + tail == k;
}

/* ---- IP addresses ---- */

static bool ip_strict(const char *s, size_t n)
{
    char buf[64];
    if (n < 2 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    unsigned char addr[16];
    if (memchr(s, ':', n))
        return inet_pton(AF_INET6, buf, addr) == 1;
    return inet_pton(AF_INET, buf, addr) == 1;
}

/* With a port ("10.0.0.1:8080", "[::1]:443") or a prefix length ("10.0.0.0/8"). */
static bool ip_loose(const char *s, size_t n)
{
    if (ip_strict(s, n))
        return true;
    if (n > 2 && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        return rb && ip_strict(s + 1, (size_t)(rb - s - 1));
    }
    const char *cut = memchr(s, '/', n);
    if (!cut) {
        cut = memchr(s, ':', n); /* IPv4 with a port: exactly one ':' */
        if (cut && memchr(cut + 1, ':', (size_t)(s + n - cut - 1)))
            return false;
    }
    if (!cut || cut + 1 == s + n || s + n - cut - 1 > 5)
        return false;
    return all_digits(cut + 1, (size_t)(s + n - cut - 1)) && ip_strict(s, (size_t)(cut - s));
}

void lh_ingest__pii_scan_structured(const char *s, size_t n, lh_pii_value *out)
{
    unsigned st = 0, lo = 0;
    if (email_strict(s, n))
        st |= LH_PII_BIT(LH_PII_EMAIL);
    if (email_loose(s, n))
        lo |= LH_PII_BIT(LH_PII_EMAIL);
    if (phone_shape(s, n, false))
        st |= LH_PII_BIT(LH_PII_PHONE);
    if (phone_shape(s, n, true))
        lo |= LH_PII_BIT(LH_PII_PHONE);
    out->ssn_bare = ssn_bare(s, n);
    if (ssn_dashed(s, n))
        st |= LH_PII_BIT(LH_PII_SSN);
    if (out->ssn_bare || ssn_masked(s, n))
        lo |= LH_PII_BIT(LH_PII_SSN);
    bool cs, cl;
    card_check(s, n, &cs, &cl);
    if (cs)
        st |= LH_PII_BIT(LH_PII_CARD);
    if (cl)
        lo |= LH_PII_BIT(LH_PII_CARD);
    if (ip_strict(s, n))
        st |= LH_PII_BIT(LH_PII_IP);
    if (ip_loose(s, n))
        lo |= LH_PII_BIT(LH_PII_IP);
    out->strict |= st;
    out->loose |= lo | st;
}
