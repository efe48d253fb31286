/* Targeted tests for PII detection: each validator on valid and near-miss values, column
 * name tokenising, and the false-positive rules (ids, zips, flags, years, prices, names of
 * companies, salaries without a salary name, empty samples). */
#include <criterion/criterion.h>
#include <string.h>

#include "ingest/ingest_int.h"

#define NV(a) (sizeof(a) / sizeof((a)[0]))

static void expect_kind(const char *col, const char *const *vals, size_t n, const char *want)
{
    const char *got = lh_ingest__pii_classify(col, vals, n);
    if (want)
        cr_expect(got && strcmp(got, want) == 0, "column '%s': want %s, got %s", col, want,
                  got ? got : "NULL");
    else
        cr_expect_null(got, "column '%s': want NULL, got %s", col, got ? got : "NULL");
}

#define EXPECT(col, want, ...)                                                                \
    do {                                                                                      \
        const char *const v_[] = {__VA_ARGS__};                                               \
        expect_kind((col), v_, NV(v_), (want));                                               \
    } while (0)

static unsigned strict_of(const char *s)
{
    lh_pii_value v;
    lh_ingest__pii_scan_value(s, strlen(s), &v);
    return v.strict;
}

static unsigned loose_of(const char *s)
{
    lh_pii_value v;
    lh_ingest__pii_scan_value(s, strlen(s), &v);
    return v.loose;
}

/* Every value of list must (or must not) validate strictly as kind k. */
static void strict_all(lh_pii_kind k, const char *const *list, size_t n, bool want)
{
    for (size_t i = 0; i < n; i++)
        cr_expect_eq((strict_of(list[i]) & LH_PII_BIT(k)) != 0, want, "%s: '%s' should %sbe %s",
                     __func__, list[i], want ? "" : "not ", lh_ingest__pii_kind_name(k));
}
#define STRICT(k, want, ...)                                                                  \
    do {                                                                                      \
        const char *const l_[] = {__VA_ARGS__};                                               \
        strict_all((k), l_, NV(l_), (want));                                                  \
    } while (0)

Test(pii_rules, vocabularies_are_sorted)
{
    cr_expect_eq(lh_ingest__pii_vocab_check(), -1);
    cr_expect(lh_ingest__pii_vocab_has(LH_PII_VOCAB_MEDICAL, "Metformin", 9));
    cr_expect_not(lh_ingest__pii_vocab_has(LH_PII_VOCAB_MEDICAL, "depression", 10));
}

Test(pii_rules, email)
{
    STRICT(LH_PII_EMAIL, true, "jane.doe@example.com", "a+tag@sub.example.co.uk",
           "o'neil_j@firma-x.de", "x@ab.io");
    STRICT(LH_PII_EMAIL, false, "jane.doe@example", "@example.com", "jane@", "jane doe@x.com",
           "jane..doe@x.com", ".jane@x.com", "jane@-x.com", "jane@x.c0m", "jane@@x.com",
           "user at example dot com");
}

Test(pii_rules, phone)
{
    STRICT(LH_PII_PHONE, true, "(415) 555-2671", "415-555-2671", "415.555.2671", "415 555 2671",
           "1-415-555-2671", "+1 415 555 2671", "+14155552671", "+44 20 7946 0958",
           "+49 30 901820", "020 7946 0958", "415-555-2671 x204", "(415) 555-2671 ext. 12");
    STRICT(LH_PII_PHONE, false, "4155552671" /* bare digits: could be any id */, "555-2671",
           "123-456-7890" /* no NANP area code starts with 1 */, "2024-01-15", "15.01.2024",
           "123-45-6789", "192.168.10.20", "4111 1111 1111 1111", "94105-1804", "+1 555",
           "2024-01-15 10:30:00", "(415 555-2671", "415--555--2671---1", "12,345,678");
    cr_expect(loose_of("555-2671") & LH_PII_BIT(LH_PII_PHONE));
    cr_expect_not(loose_of("2024-01-15") & LH_PII_BIT(LH_PII_PHONE));
}

Test(pii_rules, ssn)
{
    STRICT(LH_PII_SSN, true, "123-45-6789", "078-05-1121", "899 12 3456");
    STRICT(LH_PII_SSN, false, "000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567",
           "123-45-0000", "123456789", "123-456-789", "123-45-6789-0", "12-345-6789");
    lh_pii_value v;
    lh_ingest__pii_scan_value("123456789", 9, &v);
    cr_expect(v.ssn_bare);
    lh_ingest__pii_scan_value("900123456", 9, &v);
    cr_expect_not(v.ssn_bare);
    cr_expect(loose_of("XXX-XX-6789") & LH_PII_BIT(LH_PII_SSN));
}

Test(pii_rules, credit_card)
{
    STRICT(LH_PII_CARD, true, "4111111111111111", "4242 4242 4242 4242", "5555-5555-5555-4444",
           "378282246310005", "6011111111111117", "2223003122003222", "3530111333300000");
    STRICT(LH_PII_CARD, false, "4111111111111112" /* Luhn */, "1000000000000008" /* issuer */,
           "9000000000000001", "411111111111" /* 12 digits */, "4111  1111 1111 1111",
           "4111-1111-1111-111-", "**** **** **** 1111");
    cr_expect(loose_of("**** **** **** 1111") & LH_PII_BIT(LH_PII_CARD));
    cr_expect(loose_of("4111111111111112") & LH_PII_BIT(LH_PII_CARD));
}

Test(pii_rules, ip_address)
{
    STRICT(LH_PII_IP, true, "192.168.1.10", "8.8.8.8", "2001:db8::1", "::1",
           "fe80::1ff:fe23:4567:890a");
    STRICT(LH_PII_IP, false, "192.168.1", "256.1.1.1", "01.02.03.04", "10.0.0.1:8080",
           "12:30", "1.2.3.4.5", "2001:db8:::1");
    cr_expect(loose_of("10.0.0.1:8080") & LH_PII_BIT(LH_PII_IP));
    cr_expect(loose_of("10.0.0.0/8") & LH_PII_BIT(LH_PII_IP));
    cr_expect(loose_of("[2001:db8::1]:443") & LH_PII_BIT(LH_PII_IP));
}

Test(pii_rules, street_address)
{
    STRICT(LH_PII_STREET, true, "12 Main St", "1600 Pennsylvania Avenue NW, Washington, DC 20500",
           "221B Baker Street", "350 5th Ave, New York, NY 10118", "42 Park Lane Apt 4",
           "5 Court Street", "PO Box 1234", "ship to 77 elm rd, springfield",
           "9 O'Connell St.");
    STRICT(LH_PII_STREET, false, "3 people in the way", "2 Large Pizzas", "Main Street",
           "100 Street", "12 Main St Louis Cardinals fan", "Order 12 shipped via the Way",
           "Meeting at 10 tomorrow");
}

Test(pii_rules, medical)
{
    STRICT(LH_PII_MEDICAL, true, "Type 2 diabetes", "on metformin 500mg", "Hypertension",
           "History of seizures", "E11.9", "dx J45.909 today", "Alzheimer's disease");
    STRICT(LH_PII_MEDICAL, false, "Feeling under pressure at work", "E11", "Model X10.5B2",
           "cold call", "depression of prices", "Version 2.1.9");
}

Test(pii_rules, salaries_dates_people)
{
    const char *sal[] = {"85000", "$85,000", "85k", "USD 85000", "$42.50/hr", "60,000 per year",
                         "80k - 95k", "\xE2\x82\xAC" "45.000", "120000.00", "$90,000 - $110,000"};
    for (size_t i = 0; i < NV(sal); i++)
        cr_expect(loose_of(sal[i]) & LH_PII_BIT(LH_PII_SALARY), "salary '%s'", sal[i]);
    const char *not_sal[] = {"negotiable", "85,00", "-5000", "85000 apples", "$"};
    for (size_t i = 0; i < NV(not_sal); i++)
        cr_expect_not(loose_of(not_sal[i]) & LH_PII_BIT(LH_PII_SALARY), "'%s'", not_sal[i]);
    const char *dates[] = {"1980-05-17", "05/17/1980", "17.05.1980", "May 17, 1980",
                           "17 May 1980", "19800517", "1980-05-17T00:00:00Z", "5/17/80"};
    for (size_t i = 0; i < NV(dates); i++)
        cr_expect(loose_of(dates[i]) & LH_PII_BIT(LH_PII_DOB), "date '%s'", dates[i]);
    const char *not_dates[] = {"1980", "13/45/1980", "1880-01-01", "May", "12:30", "3 people"};
    for (size_t i = 0; i < NV(not_dates); i++)
        cr_expect_not(loose_of(not_dates[i]) & LH_PII_BIT(LH_PII_DOB), "'%s'", not_dates[i]);
    lh_pii_value v;
    lh_ingest__pii_scan_value("Doe, Jane A", 11, &v);
    cr_expect(v.person_words && v.given_name);
    lh_ingest__pii_scan_value("Acme Corp", 9, &v);
    cr_expect_not(v.person_words);
    lh_ingest__pii_scan_value("Blue Widget", 11, &v);
    cr_expect(v.person_words && !v.given_name);
}

Test(pii_rules, column_names)
{
    static const struct {
        const char *name;
        lh_pii_kind kind;
        bool strong;
    } cases[] = {
        {"email", LH_PII_EMAIL, true},          {"e_mail", LH_PII_EMAIL, true},
        {"contactEmail", LH_PII_EMAIL, true},   {"E-Mail Address", LH_PII_EMAIL, true},
        {"workemail", LH_PII_EMAIL, true},      {"email_verified", LH_PII_EMAIL, false},
        {"EmailSentAt", LH_PII_EMAIL, false},   {"phone", LH_PII_PHONE, true},
        {"homephone", LH_PII_PHONE, true},      {"MobileNo", LH_PII_PHONE, true},
        {"cell", LH_PII_PHONE, true},           {"contact_number", LH_PII_PHONE, true},
        {"phone_verified", LH_PII_PHONE, false}, {"SSN", LH_PII_SSN, true},
        {"SocialSecurityNumber", LH_PII_SSN, true}, {"social_security", LH_PII_SSN, true},
        {"ssn_last4", LH_PII_SSN, false},       {"salary", LH_PII_SALARY, true},
        {"desired_salary", LH_PII_SALARY, true}, {"pay_rate", LH_PII_SALARY, true},
        {"compensation", LH_PII_SALARY, true},  {"salary_currency", LH_PII_SALARY, false},
        {"address", LH_PII_STREET, true},       {"street", LH_PII_STREET, true},
        {"address_line_1", LH_PII_STREET, true}, {"diagnosis", LH_PII_MEDICAL, true},
        {"medication", LH_PII_MEDICAL, true},   {"dob", LH_PII_DOB, true},
        {"birth_date", LH_PII_DOB, true},       {"dateofbirth", LH_PII_DOB, true},
        {"BirthDate", LH_PII_DOB, true},        {"first_name", LH_PII_PERSON, true},
        {"lastName", LH_PII_PERSON, true},      {"full_name", LH_PII_PERSON, true},
        {"candidate_name", LH_PII_PERSON, true}, {"contact_name", LH_PII_PERSON, true},
        {"FirstName", LH_PII_PERSON, true},     {"credit_card_number", LH_PII_CARD, true},
        {"cc_number", LH_PII_CARD, true},       {"IPAddress", LH_PII_IP, true},
        {"client_ip", LH_PII_IP, true},         {"remote_addr", LH_PII_IP, true},
        {"ipv4", LH_PII_IP, true},              {"mac_address", LH_PII_NONE, false},
        {"zip", LH_PII_NONE, false},            {"postal_code", LH_PII_NONE, false},
        {"product_name", LH_PII_NONE, false},   {"status", LH_PII_NONE, false},
        {"username", LH_PII_NONE, false},       {"headphones", LH_PII_NONE, false},
        {"telemetry", LH_PII_NONE, false},      {"gift_card", LH_PII_NONE, false},
        {"", LH_PII_NONE, false},               {"___", LH_PII_NONE, false},
    };
    for (size_t i = 0; i < NV(cases); i++) {
        lh_pii_name nm;
        lh_ingest__pii_scan_name(cases[i].name, &nm);
        cr_expect_eq(nm.kind, cases[i].kind, "'%s': kind %d, want %d", cases[i].name, nm.kind,
                     cases[i].kind);
        if (cases[i].kind != LH_PII_NONE)
            cr_expect_eq(nm.strong, cases[i].strong, "'%s': strong", cases[i].name);
    }
    lh_pii_name nm;
    lh_ingest__pii_scan_name("name", &nm);
    cr_expect(nm.person_maybe);
    lh_ingest__pii_scan_name("customer_name", &nm);
    cr_expect(nm.person_maybe);
    lh_ingest__pii_scan_name("company_name", &nm);
    cr_expect_not(nm.person_maybe);
    lh_ingest__pii_scan_name("candidate_id", &nm);
    cr_expect(nm.idlike);
}

Test(pii_rules, ids_are_not_ssns_or_phones)
{
    EXPECT("candidate_id", NULL, "100000001", "100000002", "100000003", "100000004", "100000005");
    EXPECT("ref", NULL, "123456789", "234567891", "345678912", "456789123", "567891234");
    EXPECT("order_number", NULL, "415-555-2671", "212-555-0199", "646-555-0144");
    EXPECT("ssn", "ssn", "123456789", "234567891", "345678912", "456789123", "567891234");
    EXPECT("ssn", NULL, "000000000", "999999999", "666000000", "900112222");
    EXPECT("tax_ref", NULL, "123-45-6789" /* one in five */, "A-77", "B-12", "C-4", "D-99");
    EXPECT("col", "ssn", "123-45-6789", "234-56-7891", "345-67-8912", "456-78-9123");
}

Test(pii_rules, zips_flags_numbers_and_times_are_nothing)
{
    EXPECT("zip", NULL, "94105", "10001", "60614", "94105-1804", "02139");
    EXPECT("zip", NULL, "415-555-2671", "212-555-0199", "646-555-0144");
    EXPECT("postal_code", NULL, "SW1A 1AA", "EC1A 1BB", "75008", "10115");
    EXPECT("phone_verified", NULL, "true", "false", "true", "true");
    EXPECT("phone_verified", NULL, "1", "0", "1", "1");
    EXPECT("mobile", NULL, "Yes", "No", "No", "Yes");
    EXPECT("year", NULL, "1999", "2004", "2020", "2024");
    EXPECT("price", NULL, "19.99", "5.00", "1249.50", "0.99");
    EXPECT("quantity", NULL, "1", "12", "3", "250");
    EXPECT("created_at", NULL, "2024-01-15 10:30:00", "2024-02-01 08:00:00",
           "2024-03-09T22:15:00Z");
    EXPECT("status", NULL, "Shipped", "Awaiting payment", "Cancelled by customer", "Delivered");
    EXPECT("version", NULL, "1.2.3.4", "2.0.1.7", "10.4.0.1");
    EXPECT("start_date", NULL, "1980-05-17", "1975-01-02", "1990-12-31");
    EXPECT("birth_place", NULL, "Chicago", "Lagos", "Mumbai");
}

Test(pii_rules, salary_needs_a_salary_name)
{
    EXPECT("salary", "salary", "85000", "92000", "120000", "67500");
    EXPECT("desired_salary", "salary", "$85,000", "90k", "negotiable", "$70,000 - $80,000");
    EXPECT("pay_rate", "salary", "$42.50/hr", "$38/hr", "55.00");
    EXPECT("compensation", "salary", "USD 140000", "USD 150000", "USD 135000");
    EXPECT("amount", NULL, "85000", "92000", "120000", "67500");
    EXPECT("value", NULL, "$85,000", "$92,000", "$120,000");
    EXPECT("bonus", NULL, "0", "1", "1", "0");
    EXPECT("bonus_eligible", NULL, "yes", "no", "yes");
    EXPECT("salary", NULL, "Competitive", "DOE", "TBD");
}

Test(pii_rules, names_need_people)
{
    EXPECT("name", "person_name", "Jane Doe", "Michael Chen", "Priya Patel", "Carlos Ruiz",
           "Emily Stone");
    EXPECT("name", NULL, "Acme Corp", "Globex Inc", "Initech LLC", "Wayne Enterprises");
    EXPECT("name", NULL, "Blue Widget", "Coffee Maker", "Desk Lamp", "Travel Mug");
    EXPECT("client_name", NULL, "Northwind Traders", "Contoso Ltd", "Fabrikam Group");
    EXPECT("customer_name", "person_name", "Doe, Jane", "Smith, John A.", "Lee, Susan");
    EXPECT("product_name", NULL, "Jane Doe", "Michael Chen", "Priya Patel");
    EXPECT("first_name", "person_name", "Jane", "Michael", "Zoë", "Jean-Luc");
    EXPECT("first_name", NULL, "12", "44", "7");
    EXPECT("username", NULL, "jdoe", "mchen42", "ppatel");
}

Test(pii_rules, mixed_and_empty_samples)
{
    EXPECT("contact", NULL, "a@x.com", "b@y.org", "c@z.net", "call me", "see notes", "n/a text",
           "tbd", "ok", "later", "no");
    EXPECT("notes", "email", "a@x.com", "b@y.org", "c@z.net", "d@w.io", "e@v.io", "f@u.io",
           "g@t.io", "later", "no", "ok");
    expect_kind("email", NULL, 0, "email");
    expect_kind("notes", NULL, 0, NULL);
    expect_kind("email_verified", NULL, 0, NULL);
    expect_kind("name", NULL, 0, NULL);
    expect_kind(NULL, NULL, 0, NULL);
    EXPECT("phone", "phone", "", "N/A", "null", " ");
    EXPECT("dob", "date_of_birth", "n/a", "1980-05-17", "");
    const char *const sparse[] = {NULL, "jane@x.com", NULL, "  bob@y.org  "};
    expect_kind("c", sparse, NV(sparse), "email");
}

Test(pii_rules, value_only_kinds)
{
    EXPECT("c1", "credit_card", "4111111111111111", "5500005555555559", "378282246310005");
    EXPECT("c2", NULL, "4111111111111112", "5500005555555558", "378282246310006");
    EXPECT("c3", NULL, "1000000000000008", "9000000000000001", "1234567812345670");
    EXPECT("card_number", "credit_card", "4111111111111112", "5500005555555558");
    EXPECT("src", "ip_address", "10.0.0.1", "192.168.1.20", "2001:db8::7");
    EXPECT("location", "street_address", "12 Main St", "99 Oak Avenue, Denver, CO",
           "5 Elm Rd Apt 3", "1 Infinite Loop");
    EXPECT("notes", "medical", "Started metformin", "Asthma flare", "Hypertension follow-up",
           "Insulin adjusted");
    EXPECT("notes", NULL, "Call back Tuesday", "Sent quote", "Asked about pricing",
           "Follow-up meeting");
    EXPECT("condition", NULL, "New", "Used - like new", "Refurbished");
    EXPECT("diagnosis", "medical", "Flu", "Sprained ankle", "Otitis media");
    EXPECT("mac_address", NULL, "00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5F");
    EXPECT("Phone", "phone", "555-1234", "555-9876", "555-0000"); /* local numbers, named */
    EXPECT("c4", NULL, "555-1234", "555-9876", "555-0000");
}
