/* The message shapes of SMS and chat exports (phone backups, WhatsApp, generic
 * "timestamp sender body" logs): parses one line as the start of a message and decides,
 * for a whole file, which shape it is in and which day/month order its dates use.
 * text.c streams the file and calls these; everything here is a pure function of a line. */
#include <string.h>

#include "ingest/ingest_int.h"

/* A sender longer than this is not a sender: the ": " belongs to the body of a message
 * that has none (a WhatsApp system line such as "Alice changed the subject to: x"). */
#define SENDER_MAX 48

typedef struct cur {
    const char *p;
    const char *end;
} cur;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool lit(cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Between min and max digits as a number. */
static bool num(cur *c, int min, int max, int *out)
{
    int v = 0, k = 0;
    while (k < max && c->p < c->end && is_digit(*c->p)) {
        v = v * 10 + (*c->p - '0');
        c->p++;
        k++;
    }
    *out = v;
    return k >= min;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* A broken-down time as read from a line; frac holds up to 6 fraction digits. */
typedef struct stamp {
    int y, mo, d, h, mi, s;
    char frac[7];
    int offset_min; /* east of UTC, for ISO lines with an offset */
} stamp;

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Validates the stamp and writes it as "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC. */
static bool format_stamp(stamp *t, char out[40])
{
    if (t->y < 1 || t->y > 9999 || t->mo < 1 || t->mo > 12 || t->d < 1 ||
        t->d > days_in_month(t->y, t->mo) || t->h > 23 || t->mi > 59 || t->s > 59)
        return false;
    if (t->offset_min != 0) {
        long secs = days_from_civil(t->y, t->mo, t->d) * 86400L + t->h * 3600L + t->mi * 60L +
                    t->s - t->offset_min * 60L;
        long days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
        long rem = secs - days * 86400;
        civil_from_days(days, &t->y, &t->mo, &t->d);
        t->h = (int)(rem / 3600);
        t->mi = (int)(rem / 60 % 60);
        t->s = (int)(rem % 60);
        if (t->y < 1 || t->y > 9999)
            return false;
    }
    snprintf(out, 40, "%04d-%02d-%02d %02d:%02d:%02d%s%s", t->y, t->mo, t->d, t->h, t->mi, t->s,
             t->frac[0] ? "." : "", t->frac);
    return true;
}

/* YYYY-MM-DD */
static bool ymd(cur *c, stamp *t)
{
    return num(c, 4, 4, &t->y) && lit(c, "-") && num(c, 2, 2, &t->mo) && lit(c, "-") &&
           num(c, 2, 2, &t->d);
}

/* H:MM[:SS][.fff] on a 24-hour clock. */
static bool hms(cur *c, stamp *t, bool allow_frac)
{
    if (!num(c, 1, 2, &t->h) || !lit(c, ":") || !num(c, 2, 2, &t->mi))
        return false;
    t->s = 0;
    if (c->p < c->end && *c->p == ':' && !(lit(c, ":") && num(c, 2, 2, &t->s)))
        return false;
    if (allow_frac && c->p < c->end && *c->p == '.') {
        c->p++;
        size_t k = 0;
        while (c->p < c->end && is_digit(*c->p)) {
            if (k < 6)
                t->frac[k++] = *c->p;
            c->p++;
        }
        if (k == 0)
            return false;
        t->frac[k] = '\0';
    }
    return true;
}

/* H:MM[:SS] followed by an optional " AM"/" PM" (the space may be U+202F or U+00A0, as
 * phones write it); without the suffix the clock is 24-hour. */
static bool clock12(cur *c, stamp *t)
{
    if (!hms(c, t, false))
        return false;
    cur save = *c;
    if (lit(c, " ") || lit(c, "\xE2\x80\xAF") || lit(c, "\xC2\xA0")) {
        if (c->end - c->p >= 2 && (c->p[1] == 'M' || c->p[1] == 'm')) {
            char ap = c->p[0];
            bool am = ap == 'A' || ap == 'a', pm = ap == 'P' || ap == 'p';
            if (am || pm) {
                c->p += 2;
                if (t->h < 1 || t->h > 12)
                    return false;
                t->h = t->h % 12 + (pm ? 12 : 0);
                return true;
            }
        }
    }
    *c = save;
    return true;
}

/* The rest of a line after the timestamp: "Sender: body", or only a body when no short
 * sender ends in ": " (or in ':' at the end of the line). */
static void sender_colon(cur *c, lh_sms_msg *m)
{
    size_t n = (size_t)(c->end - c->p);
    for (size_t i = 0; i < n && i <= SENDER_MAX; i++) {
        if (c->p[i] != ':' || (i + 1 < n && c->p[i + 1] != ' '))
            continue;
        if (i == 0 || c->p[0] == ' ')
            break;
        m->sender = c->p;
        m->sender_len = i;
        m->body = c->p + (i + 1 < n ? i + 2 : i + 1);
        m->body_len = (size_t)(c->end - m->body);
        return;
    }
    m->sender = NULL;
    m->sender_len = 0;
    m->body = c->p;
    m->body_len = n;
}

/* d/m/y or m/d/y (also with '.'), a 2- or 4-digit year; fills the stamp in the given order. */
static bool slash_date(cur *c, lh_sms_shape shape, lh_sms_order order, stamp *t, lh_sms_msg *m)
{
    int a, b, y;
    if (!num(c, 1, 2, &a) || c->p >= c->end)
        return false;
    char sep = *c->p;
    if (sep != '/' && sep != '.')
        return false;
    c->p++;
    if (!num(c, 1, 2, &b) || c->p >= c->end || *c->p != sep)
        return false;
    c->p++;
    const char *ys = c->p;
    if (!num(c, 2, 4, &y) || c->p - ys == 3)
        return false;
    t->y = c->p - ys == 2 ? 2000 + y : y;
    if (order == LH_SMS_ORDER_ANY) {
        if (a > 31 || b > 31 || (a > 12 && b > 12))
            return false;
        order = lh_ingest__sms_pick_order(shape, a, b);
    }
    t->d = order == LH_SMS_DAY_FIRST ? a : b;
    t->mo = order == LH_SMS_DAY_FIRST ? b : a;
    m->date_a = a;
    m->date_b = b;
    return true;
}

/* "Jan", "January", "Sept", "jan." */
static bool month_name(cur *c, int *mo)
{
    static const char *const names[12] = {"january", "february", "march",     "april",
                                          "may",     "june",     "july",      "august",
                                          "september", "october", "november", "december"};
    char w[10];
    size_t k = 0;
    while (c->p < c->end && k < sizeof w - 1 &&
           ((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= 'A' && *c->p <= 'Z')))
        w[k++] = (char)(*c->p++ | 0x20);
    w[k] = '\0';
    if (k < 3)
        return false;
    for (int i = 0; i < 12; i++) {
        if ((k == 3 && memcmp(w, names[i], 3) == 0) || strcmp(w, names[i]) == 0 ||
            (i == 8 && strcmp(w, "sept") == 0)) {
            *mo = i + 1;
            if (k <= 4)
                (void)lit(c, "."); /* an abbreviation may end in a dot */
            return true;
        }
    }
    return false;
}

/* Everything up to the next " | " as the sender, the rest as the body. */
static bool piped_rest(cur *c, lh_sms_msg *m)
{
    size_t n = (size_t)(c->end - c->p);
    for (size_t i = 1; i < n && i <= SENDER_MAX; i++) {
        if (c->p[i] != ' ' || i + 1 >= n || c->p[i + 1] != '|')
            continue;
        if (i + 2 < n && c->p[i + 2] != ' ')
            continue;
        m->sender = c->p;
        m->sender_len = i;
        m->body = c->p + (i + 3 < n ? i + 3 : n);
        m->body_len = (size_t)(c->end - m->body);
        return true;
    }
    return false;
}

bool lh_ingest__sms_parse(lh_sms_shape shape, lh_sms_order order, const char *line, size_t len,
                          lh_sms_msg *msg)
{
    cur c = {line, line + len};
    stamp t;
    memset(&t, 0, sizeof t);
    memset(msg, 0, sizeof *msg);
    switch (shape) {
    case LH_SMS_DT_COMMA:
        if (!ymd(&c, &t) || !lit(&c, " ") || !hms(&c, &t, true) || !lit(&c, ", "))
            return false;
        sender_colon(&c, msg);
        break;
    case LH_SMS_DT_DASH:
        if (!ymd(&c, &t) || !lit(&c, " ") || !hms(&c, &t, true) || !lit(&c, " - "))
            return false;
        sender_colon(&c, msg);
        break;
    case LH_SMS_ISO: {
        if (!ymd(&c, &t) || !lit(&c, "T") || !hms(&c, &t, true))
            return false;
        if (!lit(&c, "Z") && c.p < c.end && (*c.p == '+' || *c.p == '-')) {
            int sign = *c.p++ == '-' ? -1 : 1, oh, om = 0;
            if (!num(&c, 2, 2, &oh))
                return false;
            (void)lit(&c, ":"); /* +05:30 and +0530 both occur */
            if (!num(&c, 2, 2, &om) || oh > 23 || om > 59)
                return false;
            t.offset_min = sign * (oh * 60 + om);
        }
        if (!lit(&c, " "))
            return false;
        sender_colon(&c, msg);
        break;
    }
    case LH_SMS_WA_BRACKET:
        (void)lit(&c, "\xE2\x80\x8E"); /* iOS exports may open a line with U+200E */
        if (!lit(&c, "[") || !slash_date(&c, shape, order, &t, msg) || !lit(&c, ", ") ||
            !clock12(&c, &t) || !lit(&c, "] "))
            return false;
        sender_colon(&c, msg);
        break;
    case LH_SMS_WA_DASH:
        if (!slash_date(&c, shape, order, &t, msg))
            return false;
        (void)lit(&c, ","); /* some locales write no comma after the date */
        if (!lit(&c, " ") || !clock12(&c, &t) || !lit(&c, " - "))
            return false;
        sender_colon(&c, msg);
        break;
    case LH_SMS_TABBED: {
        if (!ymd(&c, &t) || !lit(&c, " ") || !hms(&c, &t, true) || !lit(&c, "\t"))
            return false;
        const char *tab = memchr(c.p, '\t', (size_t)(c.end - c.p));
        if (!tab || tab == c.p || tab - c.p > SENDER_MAX)
            return false;
        msg->sender = c.p;
        msg->sender_len = (size_t)(tab - c.p);
        msg->body = tab + 1;
        msg->body_len = (size_t)(c.end - msg->body);
        break;
    }
    case LH_SMS_PIPED:
        if (!month_name(&c, &t.mo) || !lit(&c, " ") || !num(&c, 1, 2, &t.d) || !lit(&c, ", ") ||
            !num(&c, 4, 4, &t.y) || !lit(&c, " ") || !clock12(&c, &t) || !lit(&c, " | ") ||
            !piped_rest(&c, msg))
            return false;
        break;
    default:
        return false;
    }
    return format_stamp(&t, msg->sent_at);
}

lh_sms_shape lh_ingest__sms_pick_shape(const size_t hits[LH_SMS_SHAPE_COUNT], size_t nlines)
{
    lh_sms_shape best = LH_SMS_NONE;
    for (int s = LH_SMS_NONE + 1; s < LH_SMS_SHAPE_COUNT; s++)
        if (hits[s] > 0 && (best == LH_SMS_NONE || hits[s] > hits[best]))
            best = (lh_sms_shape)s;
    if (best == LH_SMS_NONE || nlines == 0 || hits[best] * 5 < nlines * 4)
        return LH_SMS_NONE;
    return best;
}

bool lh_ingest__sms_has_slash_date(lh_sms_shape shape)
{
    return shape == LH_SMS_WA_BRACKET || shape == LH_SMS_WA_DASH;
}

lh_sms_order lh_ingest__sms_pick_order(lh_sms_shape shape, int max_a, int max_b)
{
    if (max_a > 12)
        return LH_SMS_DAY_FIRST;
    if (max_b > 12)
        return LH_SMS_MONTH_FIRST;
    /* WhatsApp writes brackets and a 24-hour clock in day-first locales and the dash form
     * in the US one, so with no evidence either way each shape keeps its convention. */
    return shape == LH_SMS_WA_BRACKET ? LH_SMS_DAY_FIRST : LH_SMS_MONTH_FIRST;
}

const char *lh_ingest__sms_shape_name(lh_sms_shape shape)
{
    static const char *const names[LH_SMS_SHAPE_COUNT] = {
        "none", "datetime_comma", "datetime_dash", "iso", "wa_bracket", "wa_dash", "tabbed",
        "piped"};
    return (unsigned)shape < LH_SMS_SHAPE_COUNT ? names[shape] : "none";
}
