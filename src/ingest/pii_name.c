/* What a column name says about PII: the name is cut into lower-case words (snake_case,
 * camelCase, spaces, digits; compounds like "dateofbirth" split on a word list), then
 * matched against phrases per kind. Words left over decide whether the name describes the
 * value itself ("home_phone") or something about it ("phone_verified", "email_sent_at"), and
 * whether it is an identifier ("candidate_id", "zip"). */
#include <string.h>

#include "ingest/ingest_int.h"

#define MAX_TOKENS 16
#define TOKEN_MAX 32

typedef struct tokens {
    char t[MAX_TOKENS][TOKEN_MAX];
    bool used[MAX_TOKENS]; /* consumed by the phrase that named the kind */
    size_t n;
} tokens;

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return (c >= 'a' && c <= 'z') || (unsigned char)c >= 0x80; }
static bool is_word(char c) { return is_digit(c) || is_upper(c) || is_lower(c); }

static void push(tokens *tk, const char *p, size_t n)
{
    if (n == 0 || n >= TOKEN_MAX || tk->n == MAX_TOKENS)
        return;
    for (size_t i = 0; i < n; i++)
        tk->t[tk->n][i] = is_upper(p[i]) ? (char)(p[i] + 32) : p[i];
    tk->t[tk->n][n] = '\0';
    tk->used[tk->n] = false;
    tk->n++;
}

/* Splits p[0..n) into dictionary words, longest first; false when some piece is unknown. */
static bool segment(tokens *tk, const char *p, size_t n, int depth)
{
    if (n == 0)
        return true;
    if (depth > 4)
        return false;
    for (size_t k = n; k >= 2; k--) {
        if (!lh_ingest__pii_vocab_has(LH_PII_VOCAB_NAME_PART, p, k))
            continue;
        size_t mark = tk->n;
        push(tk, p, k);
        if (segment(tk, p + k, n - k, depth + 1))
            return true;
        tk->n = mark;
    }
    return false;
}

/* Adds one raw word, split into known pieces when it is an unknown compound. */
static void add_word(tokens *tk, const char *p, size_t n)
{
    char low[TOKEN_MAX];
    if (n >= TOKEN_MAX)
        return;
    for (size_t i = 0; i < n; i++)
        low[i] = is_upper(p[i]) ? (char)(p[i] + 32) : p[i];
    size_t mark = tk->n;
    if (lh_ingest__pii_vocab_has(LH_PII_VOCAB_NAME_PART, low, n) || !segment(tk, low, n, 0)) {
        tk->n = mark;
        push(tk, low, n);
    }
}

/* snake_case, kebab, spaces, camelCase ("contactEmail"), acronyms ("SSNLast4"), digits. */
static void tokenize(const char *name, tokens *tk)
{
    memset(tk, 0, sizeof *tk);
    size_t len = strlen(name), st = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? name[i] : '\0';
        bool cut = !is_word(c);
        if (!cut && i > st) {
            char prev = name[i - 1];
            cut = (is_upper(c) && is_lower(prev)) ||
                  (is_upper(c) && is_upper(prev) && i + 1 < len && is_lower(name[i + 1])) ||
                  (is_digit(c) != is_digit(prev));
        }
        if (cut && i > st)
            add_word(tk, name + st, i - st);
        if (cut)
            st = is_word(c) ? i : i + 1;
    }
}

static bool in(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return true;
    return false;
}

/* Index of the first unused token in list, or -1. */
static int find(const tokens *tk, const char *const *list)
{
    for (size_t i = 0; i < tk->n; i++)
        if (!tk->used[i] && in(tk->t[i], list))
            return (int)i;
    return -1;
}

/* Marks every token in list used; returns how many. */
static int take(tokens *tk, const char *const *list)
{
    int k = 0;
    for (size_t i = 0; i < tk->n; i++)
        if (!tk->used[i] && in(tk->t[i], list))
            tk->used[i] = true, k++;
    return k;
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static bool match_ip(tokens *tk)
{
    if (take(tk, L("ip", "ipv", "ipv4", "ipv6", "ipaddr", "ipaddress")) > 0) {
        take(tk, L("address", "addr", "client", "remote", "source", "src", "dest", "dst"));
        return true;
    }
    if (find(tk, L("remote")) >= 0 && find(tk, L("addr", "address")) >= 0) {
        take(tk, L("remote", "addr", "address"));
        return true;
    }
    return false;
}

static bool match_email(tokens *tk)
{
    bool hit = false;
    for (size_t i = 0; i + 1 < tk->n; i++)
        if (strcmp(tk->t[i], "e") == 0 && strcmp(tk->t[i + 1], "mail") == 0)
            hit = tk->used[i] = tk->used[i + 1] = true;
    hit |= take(tk, L("email", "emails", "mail", "emailaddress", "mailaddress")) > 0;
    if (hit)
        take(tk, L("address", "addr"));
    return hit;
}

/* "card" alone ("gift_card", "loyalty_card") is left to the values: only Luhn-valid numbers
 * with a card issuer's prefix make it a payment card. */
static bool match_card(tokens *tk)
{
    if (find(tk, L("holder", "cardholder")) >= 0)
        return false; /* the holder's name, handled as a person */
    bool hit = take(tk, L("creditcard", "debitcard", "cardnumber", "ccnumber", "ccnum", "cc")) > 0;
    if (!hit && find(tk, L("card")) >= 0 &&
        find(tk, L("credit", "debit", "number", "no", "num", "nbr", "payment", "pan")) >= 0)
        hit = true;
    if (hit)
        take(tk, L("card", "credit", "debit", "number", "no", "num", "nbr", "payment", "pan"));
    return hit;
}

static bool match_ssn(tokens *tk)
{
    bool hit = take(tk, L("ssn", "ssns", "socialsecurity", "socsec")) > 0;
    if (find(tk, L("social")) >= 0 && find(tk, L("security")) >= 0)
        hit |= take(tk, L("social", "security")) > 0;
    if (hit)
        take(tk, L("number", "no", "num", "nbr"));
    return hit;
}

static bool match_phone(tokens *tk)
{
    bool hit = take(tk, L("phone", "phones", "telephone", "tel", "mobile", "cell", "cellphone",
                          "fax", "msisdn", "whatsapp", "telefon", "telefono")) > 0;
    if (!hit && find(tk, L("contact")) >= 0 && find(tk, L("number", "no", "num")) >= 0)
        hit = take(tk, L("contact")) > 0;
    if (hit)
        take(tk, L("number", "no", "num", "nbr", "home", "work", "office", "primary", "alt",
                   "secondary", "personal", "contact", "emergency"));
    return hit;
}

static bool match_dob(tokens *tk)
{
    bool hit = take(tk, L("dob", "birthdate", "birthday", "dateofbirth", "born")) > 0;
    if (!hit && find(tk, L("birth")) >= 0)
        hit = take(tk, L("birth")) > 0;
    if (hit)
        take(tk, L("date", "day", "dt", "of", "on"));
    return hit;
}

static bool match_salary(tokens *tk)
{
    bool hit = take(tk, L("salary", "salaries", "wage", "wages", "compensation", "remuneration",
                          "income", "earnings", "bonus", "paycheck", "payrate", "ctc")) > 0;
    if (!hit && find(tk, L("pay")) >= 0 &&
        find(tk, L("rate", "amount", "base", "gross", "net", "annual", "hourly", "monthly",
                   "expected", "desired", "current", "scale")) >= 0)
        hit = take(tk, L("pay")) > 0;
    if (hit)
        take(tk, L("rate", "amount", "base", "gross", "net", "annual", "hourly", "monthly",
                   "expected", "desired", "current", "scale", "yearly", "usd", "eur", "gbp",
                   "total", "target", "min", "max", "minimum", "maximum", "range", "requested"));
    return hit;
}

static bool match_medical(tokens *tk)
{
    bool hit = take(tk, L("diagnosis", "diagnoses", "diagnosed", "medication", "medications",
                          "meds", "medicine", "medicines", "prescription", "prescriptions",
                          "allergy", "allergies", "icd", "icd10", "icd9", "symptom", "symptoms",
                          "illness", "illnesses", "disease", "diseases", "disorder", "disorders",
                          "dosage", "comorbidity", "comorbidities", "medical", "surgery",
                          "vaccination", "vaccine", "immunization")) > 0;
    if (!hit && find(tk, L("health", "chronic", "clinical")) >= 0 &&
        find(tk, L("condition", "conditions", "issue", "issues", "history", "notes", "problem",
                   "problems")) >= 0)
        hit = take(tk, L("health", "chronic", "clinical")) > 0;
    if (hit)
        take(tk, L("condition", "conditions", "issue", "issues", "history", "notes", "problem",
                   "problems", "primary", "secondary", "current", "code", "codes", "list",
                   "name", "description", "desc", "text", "details"));
    return hit;
}

static bool match_street(tokens *tk)
{
    if (find(tk, L("address", "addresses", "addr", "street", "streetaddress", "residence")) < 0)
        return false;
    /* network, crypto and memory addresses are not where someone lives */
    if (find(tk, L("mac", "web", "url", "wallet", "btc", "eth", "bitcoin", "ethereum", "crypto",
                   "memory", "mem", "server", "host", "hardware", "network", "net", "bluetooth",
                   "contract", "local", "node", "peer", "bind", "listen")) >= 0)
        return false;
    take(tk, L("address", "addresses", "addr", "street", "streetaddress", "residence", "line",
               "home", "billing", "shipping", "mailing", "postal", "residential", "physical",
               "work", "office", "current", "permanent", "name", "1", "2", "3"));
    return true;
}

/* first_name, candidate_name... strong; "name" alone or customer/client names: maybe. */
static void match_person(tokens *tk, lh_pii_name *out)
{
    if (take(tk, L("firstname", "lastname", "fullname", "surname", "givenname", "forename",
                   "fname", "lname", "familyname", "middlename", "maidenname")) > 0) {
        out->kind = LH_PII_PERSON;
        take(tk, L("name", "names"));
        return;
    }
    if (find(tk, L("name", "names")) < 0)
        return;
    const char *const *roles = L(
        "first", "last", "full", "given", "family", "middle", "maiden", "legal", "preferred",
        "sur", "candidate", "contact", "employee", "patient", "applicant", "person", "student",
        "recipient", "spouse", "guardian", "parent", "emergency", "physician", "doctor", "nurse",
        "driver", "passenger", "guest", "member", "beneficiary", "insured", "holder",
        "cardholder", "manager", "supervisor", "father", "mother", "child", "teacher", "tenant",
        "borrower", "witness", "signer", "worker", "staff", "recruiter", "hiring",
        "referrer", "reference", "interviewer", "caller");
    if (take(tk, roles) > 0) {
        out->kind = LH_PII_PERSON;
        take(tk, L("name", "names", "card", "account"));
        return;
    }
    take(tk, L("name", "names"));
    int left = 0;
    for (size_t i = 0; i < tk->n; i++)
        left += !tk->used[i];
    if (left == 0 || take(tk, L("customer", "client", "owner", "buyer", "seller", "sender",
                                 "author", "account", "contact", "display")) == left)
        out->person_maybe = true;
}

/* Words that make the name about the value rather than the value: a flag, a count, a time,
 * a type, a hash. */
static const char *const qualifiers_list[] = {
    "verified", "verification", "verify", "confirmed", "confirmation", "valid", "validated",
    "validation", "is", "has", "count", "cnt", "flag", "enabled", "disabled", "opt", "optin",
    "optout", "opted", "consent", "subscribed", "unsubscribed", "status", "type", "kind", "sent",
    "at", "time", "ts", "timestamp", "date", "updated", "created", "modified", "changed", "bounced",
    "bounce", "domain", "provider", "format", "length", "len", "hash", "hashed", "md5", "sha1",
    "sha256", "sha", "md", "token", "country", "code", "prefix", "template", "subject", "id", "ids",
    "key", "uuid", "exists", "present", "missing", "required", "allowed", "visible", "source",
    "label", "category", "carrier", "region", "area", "ext", "extension", "last4", "last", "first",
    "place", "city", "state", "weight", "certificate", "rank", "year", "order", "points", "score",
    "pct", "percent", "percentage", "ratio", "band", "grade", "currency", "eligible", "eligibility",
    "frequency", "method", "period", "level", "index", "version", "masked", "encrypted", "brand",
    "expiry", "exp", "expiration", "issuer", "network", "holder", NULL
};

static const char *const idlike_list[] = {
    "id", "ids", "uuid", "guid", "key", "pk", "fk", "code", "zip", "zipcode", "postal", "postcode",
    "plz", "sku", "isbn", "ean", "upc", "gtin", "asin", "order", "invoice", "account", "acct",
    "ref", "reference", "tracking", "serial", "batch", "lot", "version", "ver", "year", "yr",
    "count", "cnt", "qty", "quantity", "amount", "price", "cost", "total", "sum", "timestamp",
    "epoch", "ts", "seq", "sequence", "index", "idx", "rank", "checksum", "barcode", "part", "item",
    "product", "ticket", "transaction", "txn", "case", "claim", "policy", "record", "row", "line",
    NULL
};

void lh_ingest__pii_scan_name(const char *name, lh_pii_name *out)
{
    memset(out, 0, sizeof *out);
    if (!name)
        return;
    tokens tk;
    tokenize(name, &tk);
    if (tk.n == 0)
        return;
    /* idlike and not_ip look at every word, before any phrase consumes some */
    out->idlike = find(&tk, idlike_list) >= 0;
    out->not_ip = find(&tk, L("version", "ver", "release", "build", "firmware", "fw")) >= 0;
    if (match_ip(&tk))
        out->kind = LH_PII_IP;
    else if (match_email(&tk))
        out->kind = LH_PII_EMAIL;
    else if (match_card(&tk))
        out->kind = LH_PII_CARD;
    else if (match_ssn(&tk))
        out->kind = LH_PII_SSN;
    else if (match_phone(&tk))
        out->kind = LH_PII_PHONE;
    else if (match_dob(&tk))
        out->kind = LH_PII_DOB;
    else if (match_salary(&tk))
        out->kind = LH_PII_SALARY;
    else if (match_medical(&tk))
        out->kind = LH_PII_MEDICAL;
    else if (match_street(&tk))
        out->kind = LH_PII_STREET;
    else
        match_person(&tk, out);
    if (out->kind == LH_PII_NONE && !out->person_maybe)
        return;
    out->strong = find(&tk, qualifiers_list) < 0;
    if (!out->strong)
        out->person_maybe = false;
}
