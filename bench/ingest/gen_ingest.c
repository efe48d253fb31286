/* gen_ingest: writes a seeded, staffing-flavoured file of about N MB as CSV or NDJSON for the
 * ingest benchmark (people with ids, names, emails, phones, addresses, salaries, dates, free
 * text notes; the JSON nests "address" and carries a list of skills). The same seed, size and
 * format always give the same bytes. Writes to OUT.tmp and renames, then prints the row count.
 * Built and run by bench/ingest/run.sh. Usage: gen_ingest csv|ndjson MB SEED OUT */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small, fast, seeded generator (splitmix64 seeding, xorshift64*) ------------------- */

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    rng_state = (z ^ (z >> 31)) | 1;
}

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n). The modulo bias is irrelevant here. */
static uint32_t pick(uint32_t n) { return (uint32_t)((rng() >> 32) % n); }

/* ---- vocabulary ---------------------------------------------------------------------------- */

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *FIRST[] = {
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Sandra",
    "Wei", "Priya", "Ahmed", "Fatima", "Hiroshi", "Yuki", "Olga", "Sven", "Amara", "Kwame",
    "Chloé", "José", "Zoë", "Björn", "Siobhan", "Mateo", "Aisha", "Dmitri", "Lucía", "Noah"};
static const char *LAST[] = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Nguyen", "Kim", "Patel", "O'Brien", "Müller", "Kowalski", "Okafor", "Tanaka", "Ivanova",
    "Dubois", "Rossi", "Larsen", "Haddad"};
static const char *DOMAINS[] = {"gmail.com", "yahoo.com", "outlook.com", "hotmail.com",
                                "icloud.com", "proton.me", "staffco.com", "example.org"};
static const struct city {
    const char *city, *state;
    int zip;  /* the first zip of a small range */
    int area; /* a phone area code */
} CITIES[] = {
    {"New York", "NY", 10001, 212},     {"Los Angeles", "CA", 90001, 213},
    {"Chicago", "IL", 60601, 312},      {"Houston", "TX", 77001, 713},
    {"Phoenix", "AZ", 85001, 602},      {"Philadelphia", "PA", 19101, 215},
    {"San Antonio", "TX", 78201, 210},  {"San Diego", "CA", 92101, 619},
    {"Dallas", "TX", 75201, 214},       {"San Jose", "CA", 95101, 408},
    {"Austin", "TX", 73301, 512},       {"Boston", "MA", 2108, 617},
    {"Seattle", "WA", 98101, 206},      {"Denver", "CO", 80201, 303},
    {"Nashville", "TN", 37201, 615},    {"Portland", "OR", 97201, 503},
    {"Atlanta", "GA", 30301, 404},      {"Miami", "FL", 33101, 305},
    {"Newark", "NJ", 7101, 973},        {"Minneapolis", "MN", 55401, 612},
    {"Salt Lake City", "UT", 84101, 801}, {"Raleigh", "NC", 27601, 919},
    {"Hartford", "CT", 6101, 860},      {"Detroit", "MI", 48201, 313}};
static const char *TITLES[] = {
    "Registered Nurse", "Software Engineer", "Warehouse Associate", "Forklift Operator",
    "Accountant", "Data Analyst", "Customer Service Rep", "Project Manager", "Recruiter",
    "Electrician", "Welder", "Medical Assistant", "Sales Associate", "Truck Driver",
    "Administrative Assistant", "HR Generalist", "Line Cook", "Security Officer",
    "Pharmacy Technician", "QA Tester"};
static const char *DEPTS[] = {"Healthcare", "Engineering", "Logistics", "Finance", "Sales",
                              "Operations", "Human Resources", "Hospitality", "Security", "IT"};
static const char *STATUS[] = {"active", "placed", "on_assignment", "available", "inactive",
                               "do_not_rehire"};
static const char *SKILLS[] = {"sql", "excel", "forklift", "cpr", "python", "bilingual",
                               "osha10", "welding", "phlebotomy", "java", "customer_service",
                               "cdl_a", "quickbooks", "salesforce", "c", "scheduling"};
static const char *WORDS[] = {
    "candidate", "interviewed", "on", "site", "with", "the", "client", "and", "was", "very",
    "strong", "reliable", "shift", "prefers", "nights", "weekends", "available", "from",
    "monday", "needs", "parking", "badge", "references", "checked", "background", "cleared",
    "drug", "screen", "passed", "pending", "follow", "up", "next", "week", "rate", "negotiated",
    "overtime", "approved", "supervisor", "feedback", "positive", "late", "twice", "contract",
    "extended", "to", "end", "of", "quarter", "relocating", "soon", "speaks", "spanish",
    "certified", "forklift", "training", "completed", "timesheet", "missing", "for", "a"};

/* ---- output buffer --------------------------------------------------------------------------- */

#define OUT_CAP (1u << 20)

typedef struct out {
    FILE *f;
    char buf[OUT_CAP + 4096]; /* one record always fits past the flush mark */
    size_t len;
    uint64_t total;
} out;

static void flush(out *o)
{
    if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len) {
        perror("gen_ingest: write");
        exit(1);
    }
    o->total += o->len;
    o->len = 0;
}

static void put(out *o, const char *s, size_t n)
{
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }
static void putc_(out *o, char c) { o->buf[o->len++] = c; }

/* Unsigned decimal, at least width digits (zero padded). */
static void put_u(out *o, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        putc_(o, tmp[--n]);
}

/* A string value: CSV quotes it when needed (doubling quotes); JSON escapes " and \. */
static void put_str(out *o, const char *s, int json)
{
    if (json) {
        putc_(o, '"');
        for (; *s; s++) {
            if (*s == '"' || *s == '\\')
                putc_(o, '\\');
            putc_(o, *s);
        }
        putc_(o, '"');
        return;
    }
    if (!strpbrk(s, ",\"\n")) {
        puts_(o, s);
        return;
    }
    putc_(o, '"');
    for (; *s; s++) {
        if (*s == '"')
            putc_(o, '"');
        putc_(o, *s);
    }
    putc_(o, '"');
}

/* ---- one person ------------------------------------------------------------------------------ */

typedef struct person {
    uint64_t id;
    const char *first, *last;
    char email[96], phone[20], street[64], zip[8], hired[12], updated[24], salary[24],
        rating[8], notes[400];
    const struct city *city;
    const char *title, *dept, *status;
    int has_phone, has_notes, nskills, skills[4];
    int remote;
} person;

static void lower_ascii(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (; *src && n + 1 < cap; src++) {
        unsigned char c = (unsigned char)*src;
        if (c >= 'A' && c <= 'Z')
            dst[n++] = (char)(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || c >= 0x80)
            dst[n++] = (char)c;
    }
    dst[n] = 0;
}

static void make_person(person *p, uint64_t id)
{
    static const char *STREETS[] = {"Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St",
                                    "Park Blvd", "Washington Ave", "Lake Rd", "Hill St",
                                    "Sunset Blvd"};
    p->id = id;
    p->first = FIRST[pick(N(FIRST))];
    p->last = LAST[pick(N(LAST))];
    char fl[32], ll[32];
    lower_ascii(fl, sizeof fl, p->first);
    lower_ascii(ll, sizeof ll, p->last);
    snprintf(p->email, sizeof p->email, "%s.%s%u@%s", fl, ll, pick(1000),
             DOMAINS[pick(N(DOMAINS))]);
    p->city = &CITIES[pick(N(CITIES))];
    p->has_phone = pick(100) >= 4; /* 4% missing */
    snprintf(p->phone, sizeof p->phone, "(%03d) %03u-%04u", p->city->area, 200 + pick(800),
             pick(10000));
    snprintf(p->street, sizeof p->street, "%u %s", 1 + pick(9999), STREETS[pick(N(STREETS))]);
    snprintf(p->zip, sizeof p->zip, "%05u", (unsigned)p->city->zip + pick(90));
    p->title = TITLES[pick(N(TITLES))];
    p->dept = DEPTS[pick(N(DEPTS))];
    p->status = STATUS[pick(N(STATUS))];
    uint32_t cents = 2500000 + pick(15000000); /* 25,000.00 .. 175,000.00 */
    snprintf(p->salary, sizeof p->salary, "%u.%02u", cents / 100, cents % 100);
    snprintf(p->rating, sizeof p->rating, "%u.%u", 1 + pick(4), pick(10));
    snprintf(p->hired, sizeof p->hired, "%04u-%02u-%02u", 2005 + pick(20), 1 + pick(12),
             1 + pick(28));
    snprintf(p->updated, sizeof p->updated, "2025-%02u-%02u %02u:%02u:%02u", 1 + pick(12),
             1 + pick(28), pick(24), pick(60), pick(60));
    p->remote = pick(3) == 0;
    p->nskills = (int)pick(5);
    for (int i = 0; i < p->nskills; i++)
        p->skills[i] = (int)pick(N(SKILLS));
    /* Free text: 4..40 words, sometimes a comma or a quoted remark. */
    p->has_notes = pick(10) != 0;
    size_t n = 0;
    int words = 4 + (int)pick(37);
    for (int w = 0; w < words; w++) {
        const char *word = WORDS[pick(N(WORDS))];
        size_t wl = strlen(word);
        if (n + wl + 4 >= sizeof p->notes)
            break;
        if (w)
            p->notes[n++] = ' ';
        memcpy(p->notes + n, word, wl);
        n += wl;
        uint32_t r = pick(40);
        if (r == 0)
            p->notes[n++] = ',';
        else if (r == 1 && w + 1 < words)
            p->notes[n++] = '.';
    }
    if (pick(20) == 0 && n + 20 < sizeof p->notes) {
        memcpy(p->notes + n, " \"great fit\"", 12);
        n += 12;
    }
    p->notes[n] = 0;
}

static void write_csv_header(out *o)
{
    puts_(o, "candidate_id,first_name,last_name,email,phone,street,city,state,zip,job_title,"
             "department,status,remote,salary,rating,hire_date,updated_at,skills,"
             "notes\n");
}

static void write_csv(out *o, const person *p)
{
    put_u(o, p->id, 0);
    putc_(o, ',');
    put_str(o, p->first, 0);
    putc_(o, ',');
    put_str(o, p->last, 0);
    putc_(o, ',');
    puts_(o, p->email);
    putc_(o, ',');
    if (p->has_phone)
        puts_(o, p->phone);
    putc_(o, ',');
    puts_(o, p->street);
    putc_(o, ',');
    puts_(o, p->city->city);
    putc_(o, ',');
    puts_(o, p->city->state);
    putc_(o, ',');
    puts_(o, p->zip);
    putc_(o, ',');
    puts_(o, p->title);
    putc_(o, ',');
    puts_(o, p->dept);
    putc_(o, ',');
    puts_(o, p->status);
    putc_(o, ',');
    puts_(o, p->remote ? "true" : "false");
    putc_(o, ',');
    puts_(o, p->salary);
    putc_(o, ',');
    puts_(o, p->rating);
    putc_(o, ',');
    puts_(o, p->hired);
    putc_(o, ',');
    puts_(o, p->updated);
    putc_(o, ',');
    for (int i = 0; i < p->nskills; i++) {
        if (i)
            putc_(o, ';');
        puts_(o, SKILLS[p->skills[i]]);
    }
    putc_(o, ',');
    if (p->has_notes)
        put_str(o, p->notes, 0);
    putc_(o, '\n');
}

static void write_json(out *o, const person *p)
{
    puts_(o, "{\"candidate_id\":");
    put_u(o, p->id, 0);
    puts_(o, ",\"first_name\":");
    put_str(o, p->first, 1);
    puts_(o, ",\"last_name\":");
    put_str(o, p->last, 1);
    puts_(o, ",\"email\":");
    put_str(o, p->email, 1);
    /* A key missing from some records must come out as NULL. */
    if (p->has_phone) {
        puts_(o, ",\"phone\":");
        put_str(o, p->phone, 1);
    }
    puts_(o, ",\"address\":{\"street\":");
    put_str(o, p->street, 1);
    puts_(o, ",\"city\":");
    put_str(o, p->city->city, 1);
    puts_(o, ",\"state\":");
    put_str(o, p->city->state, 1);
    puts_(o, ",\"zip\":");
    put_str(o, p->zip, 1);
    puts_(o, "},\"job_title\":");
    put_str(o, p->title, 1);
    puts_(o, ",\"department\":");
    put_str(o, p->dept, 1);
    puts_(o, ",\"status\":");
    put_str(o, p->status, 1);
    puts_(o, ",\"remote\":");
    puts_(o, p->remote ? "true" : "false");
    puts_(o, ",\"salary\":");
    puts_(o, p->salary);
    puts_(o, ",\"rating\":");
    puts_(o, p->rating);
    puts_(o, ",\"hire_date\":");
    put_str(o, p->hired, 1);
    puts_(o, ",\"updated_at\":");
    put_str(o, p->updated, 1);
    puts_(o, ",\"skills\":[");
    for (int i = 0; i < p->nskills; i++) {
        if (i)
            putc_(o, ',');
        put_str(o, SKILLS[p->skills[i]], 1);
    }
    puts_(o, "],\"notes\":");
    if (p->has_notes)
        put_str(o, p->notes, 1);
    else
        puts_(o, "null");
    puts_(o, "}\n");
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "csv") != 0 && strcmp(argv[1], "ndjson") != 0)) {
        fprintf(stderr, "usage: gen_ingest csv|ndjson MB SEED OUT\n");
        return 2;
    }
    int json = strcmp(argv[1], "ndjson") == 0;
    char *end;
    double mb = strtod(argv[2], &end);
    if (*end || !(mb > 0) || mb > 1e6) {
        fprintf(stderr, "gen_ingest: bad size '%s' (MB, > 0)\n", argv[2]);
        return 2;
    }
    unsigned long long seed = strtoull(argv[3], &end, 10);
    if (*end) {
        fprintf(stderr, "gen_ingest: bad seed '%s'\n", argv[3]);
        return 2;
    }
    /* Both formats draw the same people from one seed. */
    rng_seed((uint64_t)seed);
    const uint64_t target = (uint64_t)(mb * 1e6);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[4]) >= (int)sizeof tmp) {
        fprintf(stderr, "gen_ingest: path too long\n");
        return 2;
    }
    static out o;
    o.f = fopen(tmp, "wb");
    if (!o.f) {
        perror(tmp);
        return 1;
    }
    if (!json)
        write_csv_header(&o);
    uint64_t rows = 0;
    person p;
    while (o.total + o.len < target) {
        make_person(&p, 100000001ull + rows);
        if (json)
            write_json(&o, &p);
        else
            write_csv(&o, &p);
        rows++;
        if (o.len >= OUT_CAP)
            flush(&o);
    }
    flush(&o);
    if (fclose(o.f) != 0) {
        perror(tmp);
        return 1;
    }
    if (rename(tmp, argv[4]) != 0) {
        perror(argv[4]);
        return 1;
    }
    printf("%llu\n", (unsigned long long)rows);
    return 0;
}
