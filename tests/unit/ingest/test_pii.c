/* Tests for PII detection (src/ingest/pii*.c): realistic exports under tests/fixtures/pii/
 * classified column by column against exact expected kinds, and targeted positives and
 * negatives for each validator and for the false-positive rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- a small RFC 4180 reader for the fixtures ---- */

typedef struct table {
    size_t ncols, nrows;
    char **cells; /* row-major, header first */
} table;

static table load_csv(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pii/%s", LH_TEST_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    table t = {0};
    size_t cap = 0, ncell = 0, row_cells = 0;
    char field[4096];
    size_t flen = 0;
    bool quoted = false;
    int c;
    for (;;) {
        c = fgetc(f);
        if (quoted) {
            cr_assert_neq(c, EOF, "%s: unterminated quote", name);
            if (c == '"') {
                int d = fgetc(f);
                if (d != '"') {
                    quoted = false;
                    c = d;
                } else {
                    field[flen++] = '"';
                    continue;
                }
            } else {
                cr_assert_lt(flen, sizeof field - 1);
                field[flen++] = (char)c;
                continue;
            }
        }
        if (c == '"' && flen == 0) {
            quoted = true;
            continue;
        }
        if (c == '\r')
            continue;
        if (c == ',' || c == '\n' || c == EOF) {
            if (c == EOF && flen == 0 && row_cells == 0)
                break;
            if (ncell == cap)
                t.cells = realloc(t.cells, (cap = cap ? cap * 2 : 256) * sizeof *t.cells);
            field[flen] = '\0';
            t.cells[ncell++] = strdup(field);
            flen = 0;
            row_cells++;
            if (c != ',') {
                if (t.nrows == 0)
                    t.ncols = row_cells;
                cr_assert_eq(row_cells, t.ncols, "%s: ragged row %zu", name, t.nrows);
                t.nrows++;
                row_cells = 0;
            }
            if (c == EOF)
                break;
            continue;
        }
        cr_assert_lt(flen, sizeof field - 1);
        field[flen++] = (char)c;
    }
    fclose(f);
    return t;
}

static void free_table(table *t)
{
    for (size_t i = 0; i < t->ncols * t->nrows; i++)
        free(t->cells[i]);
    free(t->cells);
}

typedef struct expectation {
    const char *column;
    const char *kind; /* NULL: not PII */
} expectation;

/* Classifies every column of the fixture; each must be listed with its exact kind. */
static void check_fixture(const char *file, const expectation *exp, size_t nexp)
{
    table t = load_csv(file);
    cr_assert_gt(t.nrows, 10, "%s: too few rows", file);
    cr_assert_eq(t.ncols, nexp, "%s: %zu columns, %zu expectations", file, t.ncols, nexp);
    size_t nv = t.nrows - 1;
    const char **vals = malloc(nv * sizeof *vals);
    for (size_t c = 0; c < t.ncols; c++) {
        const char *col = t.cells[c];
        cr_assert_str_eq(col, exp[c].column, "%s: column %zu", file, c);
        for (size_t r = 0; r < nv; r++)
            vals[r] = t.cells[(r + 1) * t.ncols + c];
        expect_kind(col, vals, nv, exp[c].kind);
    }
    free(vals);
    free_table(&t);
}

Test(pii_fixtures, candidates)
{
    static const expectation e[] = {
        {"candidate_id", NULL},    {"first_name", "person_name"},
        {"last_name", "person_name"}, {"email", "email"},
        {"phone", "phone"},        {"ssn", "ssn"},
        {"desired_salary", "salary"}, {"street_address", "street_address"},
        {"zip", NULL},             {"phone_verified", NULL},
        {"status", NULL},          {"applied_at", NULL},
        {"years_experience", NULL}, {"dob", "date_of_birth"},
    };
    check_fixture("candidates.csv", e, NV(e));
}

Test(pii_fixtures, orders)
{
    static const expectation e[] = {
        {"order_id", NULL},     {"order_number", NULL},
        {"sku", NULL},          {"name", NULL},
        {"quantity", NULL},     {"unit_price", NULL},
        {"total", NULL},        {"ordered_at", NULL},
        {"client_ip", "ip_address"}, {"shipping_address", "street_address"},
        {"card_number", "credit_card"}, {"year", NULL},
        {"tracking_number", NULL}, {"notes", NULL},
    };
    check_fixture("orders.csv", e, NV(e));
}

Test(pii_fixtures, payments_luhn_invalid_and_ids)
{
    static const expectation e[] = {
        {"payment_id", NULL}, {"account_no", NULL}, {"reference_number", NULL},
        {"gift_card", NULL},  {"amount", NULL},     {"currency", NULL},
        {"paid_on", NULL},    {"card_last4", NULL}, {"card_type", NULL},
    };
    check_fixture("payments.csv", e, NV(e));
}

Test(pii_fixtures, patients)
{
    static const expectation e[] = {
        {"mrn", NULL},           {"name", "person_name"},
        {"Date of Birth", "date_of_birth"}, {"diagnosis", "medical"},
        {"medications", "medical"}, {"icd10", "medical"},
        {"visit_notes", "medical"}, {"visit_date", NULL},
        {"insurance_plan", NULL}, {"room", NULL},
    };
    check_fixture("patients.csv", e, NV(e));
}

Test(pii_fixtures, international_contacts)
{
    static const expectation e[] = {
        {"contactEmail", "email"}, {"mobile", "phone"},   {"Home Phone", "phone"},
        {"fax", "phone"},          {"postal_code", NULL}, {"city", NULL},
        {"country", NULL},         {"preferred_contact", NULL}, {"e_mail_opt_in", NULL},
    };
    check_fixture("contacts_intl.csv", e, NV(e));
}

Test(pii_fixtures, companies_are_not_people)
{
    static const expectation e[] = {
        {"name", NULL},    {"industry", NULL}, {"employees", NULL},
        {"annual_revenue", NULL}, {"website", NULL}, {"hq_address", "street_address"},
        {"founded", NULL}, {"stock_ticker", NULL},
    };
    check_fixture("companies.csv", e, NV(e));
}

Test(pii_fixtures, mixed_columns)
{
    static const expectation e[] = {
        {"contact", NULL}, /* 30% e-mails among free text */
        {"comments", NULL},
        {"reply_to", "email"}, /* e-mails, with "n/a" placeholders that do not count */
    };
    check_fixture("mixed.csv", e, NV(e));
}
