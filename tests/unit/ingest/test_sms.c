/* The SMS/chat line parser (sms.c): every shape, timestamps validated and normalised,
 * senders and bodies split, and the shape and day/month decisions. */
#include <criterion/criterion.h>
#include <string.h>

#include "ingest/ingest_int.h"

static bool parse(lh_sms_shape shape, lh_sms_order order, const char *line, lh_sms_msg *m)
{
    return lh_ingest__sms_parse(shape, order, line, strlen(line), m);
}

/* Parses and checks timestamp, sender (NULL for none) and body. */
static void expect(lh_sms_shape shape, lh_sms_order order, const char *line, const char *sent_at,
                   const char *sender, const char *body)
{
    lh_sms_msg m;
    cr_assert(parse(shape, order, line, &m), "%s did not parse '%s'",
              lh_ingest__sms_shape_name(shape), line);
    cr_assert_str_eq(m.sent_at, sent_at, "'%s'", line);
    if (sender) {
        cr_assert_not_null(m.sender, "'%s' has no sender", line);
        cr_assert_eq(m.sender_len, strlen(sender), "'%s'", line);
        cr_assert_eq(memcmp(m.sender, sender, m.sender_len), 0, "'%s'", line);
    } else {
        cr_assert_null(m.sender, "'%s' should have no sender", line);
    }
    cr_assert_eq(m.body_len, strlen(body), "'%s' body length %zu", line, m.body_len);
    cr_assert_eq(memcmp(m.body, body, m.body_len), 0, "'%s'", line);
}

static void reject(lh_sms_shape shape, const char *line)
{
    lh_sms_msg m;
    cr_assert_not(parse(shape, LH_SMS_ORDER_ANY, line, &m), "%s accepted '%s'",
                  lh_ingest__sms_shape_name(shape), line);
}

Test(sms, datetime_comma)
{
    expect(LH_SMS_DT_COMMA, 0, "2024-01-15 09:30:12, +15551234567: text", "2024-01-15 09:30:12",
           "+15551234567", "text");
    expect(LH_SMS_DT_COMMA, 0, "2024-01-15 9:30, Mom: at 10:30: ok", "2024-01-15 09:30:00",
           "Mom", "at 10:30: ok");
    expect(LH_SMS_DT_COMMA, 0, "2024-01-15 09:30:12, Bob:", "2024-01-15 09:30:12", "Bob", "");
    reject(LH_SMS_DT_COMMA, "2024-01-15 09:30:12 - Alice: text");
    reject(LH_SMS_DT_COMMA, "2024-01-15 24:00:00, Bob: late");
    reject(LH_SMS_DT_COMMA, "2023-02-29 10:00:00, Bob: not a leap year");
    expect(LH_SMS_DT_COMMA, 0, "2024-02-29 10:00:00, Bob: leap", "2024-02-29 10:00:00", "Bob",
           "leap");
}

Test(sms, datetime_dash_and_system_lines)
{
    expect(LH_SMS_DT_DASH, 0, "2024-01-15 09:30:12 - Alice: text", "2024-01-15 09:30:12",
           "Alice", "text");
    expect(LH_SMS_DT_DASH, 0, "2024-01-15 09:30:12 - Alice left", "2024-01-15 09:30:12", NULL,
           "Alice left");
    /* A "sender" longer than any name is the body of a line without one. */
    expect(LH_SMS_DT_DASH, 0,
           "2024-01-15 09:30:12 - the group description was changed by the administrator: ok",
           "2024-01-15 09:30:12", NULL,
           "the group description was changed by the administrator: ok");
    expect(LH_SMS_DT_DASH, 0, "2024-01-15 09:30:12 - see http://x.y: now", "2024-01-15 09:30:12",
           "see http://x.y", "now");
    reject(LH_SMS_DT_DASH, "2024-1-15 09:30:12 - Alice: text");
}

Test(sms, iso_with_zones_and_fractions)
{
    expect(LH_SMS_ISO, 0, "2024-01-15T09:30:12Z Alice: text", "2024-01-15 09:30:12", "Alice",
           "text");
    expect(LH_SMS_ISO, 0, "2024-01-15T09:30:12 Alice Smith: hi", "2024-01-15 09:30:12",
           "Alice Smith", "hi");
    expect(LH_SMS_ISO, 0, "2024-12-31T23:30:00-01:00 A: new year", "2025-01-01 00:30:00", "A",
           "new year");
    expect(LH_SMS_ISO, 0, "2024-03-01T01:00:00+0530 A: b", "2024-02-29 19:30:00", "A", "b");
    expect(LH_SMS_ISO, 0, "2024-01-15T09:30:12.123456789Z A: b", "2024-01-15 09:30:12.123456",
           "A", "b");
    reject(LH_SMS_ISO, "2024-01-15T09:30:12ZAlice: text");
    reject(LH_SMS_ISO, "2024-01-15T09:30:12+25:00 A: b");
    reject(LH_SMS_ISO, "2024-01-15 09:30:12 A: b");
}

Test(sms, whatsapp_bracket)
{
    expect(LH_SMS_WA_BRACKET, 0, "[15/01/2024, 09:30:12] Alice: text", "2024-01-15 09:30:12",
           "Alice", "text");
    expect(LH_SMS_WA_BRACKET, LH_SMS_MONTH_FIRST, "[1/15/24, 9:30:12 PM] Alice: text",
           "2024-01-15 21:30:12", "Alice", "text");
    /* iOS opens some lines with an invisible U+200E and writes U+202F before AM/PM. */
    expect(LH_SMS_WA_BRACKET, LH_SMS_DAY_FIRST,
           "\xE2\x80\x8E[3/4/24, 12:01:00\xE2\x80\xAF"
           "AM] Bo: x",
           "2024-04-03 00:01:00", "Bo", "x");
    expect(LH_SMS_WA_BRACKET, 0, "[15.01.24, 09:30:12] Jörg: hallo", "2024-01-15 09:30:12",
           "Jörg", "hallo");
    reject(LH_SMS_WA_BRACKET, "[15/13/2024, 09:30:12] Alice: both over 12");
    reject(LH_SMS_WA_BRACKET, "[15/01/2024 09:30:12] Alice: no comma");
    reject(LH_SMS_WA_BRACKET, "[15/01/2024, 13:30:12 PM] Alice: 13 PM");
    reject(LH_SMS_WA_BRACKET, "[15/01/202, 09:30:12] Alice: 3-digit year");
}

Test(sms, whatsapp_dash_twelve_hour)
{
    expect(LH_SMS_WA_DASH, 0, "1/15/24, 9:30 AM - Alice: text", "2024-01-15 09:30:00", "Alice",
           "text");
    expect(LH_SMS_WA_DASH, 0, "12/31/23, 12:00 PM - Bob: noon", "2023-12-31 12:00:00", "Bob",
           "noon");
    expect(LH_SMS_WA_DASH, 0, "12/31/23, 12:59 am - Bob: night", "2023-12-31 00:59:00", "Bob",
           "night");
    expect(LH_SMS_WA_DASH, LH_SMS_DAY_FIRST, "15/01/2024 21:05 - Ana: sem vírgula",
           "2024-01-15 21:05:00", "Ana", "sem vírgula");
    expect(LH_SMS_WA_DASH, 0, "1/15/24, 9:30 AM - Messages are end-to-end encrypted.",
           "2024-01-15 09:30:00", NULL, "Messages are end-to-end encrypted.");
    /* The fields are reported so the caller can decide the order for the file. */
    lh_sms_msg m;
    cr_assert(parse(LH_SMS_WA_DASH, LH_SMS_ORDER_ANY, "13/2/24, 9:30 AM - A: b", &m));
    cr_assert_eq(m.date_a, 13);
    cr_assert_eq(m.date_b, 2);
    cr_assert_str_eq(m.sent_at, "2024-02-13 09:30:00");
    /* With the order fixed, an impossible date starts no message. */
    cr_assert_not(parse(LH_SMS_WA_DASH, LH_SMS_MONTH_FIRST, "13/2/24, 9:30 AM - A: b", &m));
    reject(LH_SMS_WA_DASH, "1/15/24, 0:30 AM - A: zero hour with AM");
    reject(LH_SMS_WA_DASH, "1/15/24, 9:30 AM: A: b");
}

Test(sms, tabbed_backup)
{
    expect(LH_SMS_TABBED, 0, "2024-01-15 09:30:12\t+15551234567\ttext", "2024-01-15 09:30:12",
           "+15551234567", "text");
    expect(LH_SMS_TABBED, 0, "2024-01-15 09:30:12\tBob\t", "2024-01-15 09:30:12", "Bob", "");
    reject(LH_SMS_TABBED, "2024-01-15 09:30:12\t\ttext");
    reject(LH_SMS_TABBED, "2024-01-15 09:30:12\tno second tab");
}

Test(sms, piped_month_names)
{
    expect(LH_SMS_PIPED, 0, "Jan 15, 2024 9:30 AM | Alice | text", "2024-01-15 09:30:00", "Alice",
           "text");
    expect(LH_SMS_PIPED, 0, "September 5, 2024 11:45 PM | Bob Lee | a | b", "2024-09-05 23:45:00",
           "Bob Lee", "a | b");
    expect(LH_SMS_PIPED, 0, "Sept. 5, 2024 14:45 | Bob | 24h", "2024-09-05 14:45:00", "Bob",
           "24h");
    expect(LH_SMS_PIPED, 0, "dec 1, 2024 1:00 PM | Al |", "2024-12-01 13:00:00", "Al", "");
    reject(LH_SMS_PIPED, "Jax 15, 2024 9:30 AM | Alice | text");
    reject(LH_SMS_PIPED, "Jan 15, 2024 9:30 AM | Alice");
    reject(LH_SMS_PIPED, "Jan 32, 2024 9:30 AM | Alice | text");
}

Test(sms, shapes_do_not_overlap)
{
    const char *lines[] = {
        "2024-01-15 09:30:12, +15551234567: text", "2024-01-15 09:30:12 - Alice: text",
        "2024-01-15T09:30:12Z Alice: text",        "[15/01/2024, 09:30:12] Alice: text",
        "1/15/24, 9:30 AM - Alice: text",          "2024-01-15 09:30:12\t+15551234567\ttext",
        "Jan 15, 2024 9:30 AM | Alice | text",
    };
    for (int i = 0; i < 7; i++) {
        for (int s = LH_SMS_NONE + 1; s < LH_SMS_SHAPE_COUNT; s++) {
            lh_sms_msg m;
            bool ok = parse((lh_sms_shape)s, LH_SMS_ORDER_ANY, lines[i], &m);
            cr_assert_eq(ok, s == i + 1, "shape %s on '%s'",
                         lh_ingest__sms_shape_name((lh_sms_shape)s), lines[i]);
        }
    }
    lh_sms_msg m;
    cr_assert_not(parse(LH_SMS_NONE, 0, lines[0], &m));
    cr_assert_not(parse(LH_SMS_DT_DASH, 0, "", &m));
}

Test(sms, pick_shape_needs_eighty_percent_of_one_shape)
{
    size_t hits[LH_SMS_SHAPE_COUNT] = {0};
    cr_assert_eq(lh_ingest__sms_pick_shape(hits, 0), LH_SMS_NONE);
    hits[LH_SMS_WA_DASH] = 8;
    cr_assert_eq(lh_ingest__sms_pick_shape(hits, 10), LH_SMS_WA_DASH);
    cr_assert_eq(lh_ingest__sms_pick_shape(hits, 11), LH_SMS_NONE);
    hits[LH_SMS_DT_DASH] = 3;
    cr_assert_eq(lh_ingest__sms_pick_shape(hits, 11), LH_SMS_NONE);
    cr_assert_eq(lh_ingest__sms_pick_shape(hits, 8), LH_SMS_WA_DASH);
}

Test(sms, pick_order)
{
    cr_assert_eq(lh_ingest__sms_pick_order(LH_SMS_WA_DASH, 12, 12), LH_SMS_MONTH_FIRST);
    cr_assert_eq(lh_ingest__sms_pick_order(LH_SMS_WA_BRACKET, 12, 12), LH_SMS_DAY_FIRST);
    cr_assert_eq(lh_ingest__sms_pick_order(LH_SMS_WA_DASH, 13, 5), LH_SMS_DAY_FIRST);
    cr_assert_eq(lh_ingest__sms_pick_order(LH_SMS_WA_BRACKET, 3, 28), LH_SMS_MONTH_FIRST);
    cr_assert(lh_ingest__sms_has_slash_date(LH_SMS_WA_DASH));
    cr_assert_not(lh_ingest__sms_has_slash_date(LH_SMS_ISO));
    cr_assert_str_eq(lh_ingest__sms_shape_name(LH_SMS_PIPED), "piped");
    cr_assert_str_eq(lh_ingest__sms_shape_name((lh_sms_shape)99), "none");
}
