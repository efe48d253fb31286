/* The staffing demo: six related tables (candidates, clients, jobs, placements, recruiters,
 * resumes) generated from a fixed seed as CSV in scratch, then ingested like any upload
 * (source "demo").
 * Each table has its own seed, so a table generated alone equals the one generated with the
 * rest; foreign keys (jobs.client_id, placements.candidate_id/job_id, placements.recruiter =
 * recruiters.name) always resolve. */
#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

#define N_CANDIDATES 500
#define N_CLIENTS 60
#define N_JOBS 300
#define N_PLACEMENTS 200
#define DEMO_SEED 0x1a2b3c4d5e6f7788ull

/* splitmix64: tiny, fast and well distributed; the demo needs repeatability, not secrecy. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform integer in [lo, hi]. The modulo bias is irrelevant at these ranges. */
static int64_t rng_range(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

#define PICK(r, arr) ((arr)[rng_range((r), 0, (int64_t)LH_ARRAY_LEN(arr) - 1)])

static const char *const FIRST[] = {
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra",
    "Mark", "Ashley", "Priya", "Emily", "Wei", "Maria", "Kevin", "Aisha", "Brian", "Olivia",
    "Luis", "Grace", "Ahmed", "Sofia"};
static const char *const LAST[] = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Nguyen", "Patel", "Kim", "Chen"};
static const struct place {
    const char *city, *state;
} PLACES[] = {
    {"Austin", "TX"},     {"Dallas", "TX"},       {"Houston", "TX"},   {"Phoenix", "AZ"},
    {"Denver", "CO"},     {"Chicago", "IL"},      {"Columbus", "OH"},  {"Atlanta", "GA"},
    {"Charlotte", "NC"},  {"Raleigh", "NC"},      {"Nashville", "TN"}, {"Seattle", "WA"},
    {"Portland", "OR"},   {"San Diego", "CA"},    {"San Jose", "CA"},  {"Boston", "MA"},
    {"New York", "NY"},   {"Philadelphia", "PA"}, {"Miami", "FL"},     {"Tampa", "FL"},
    {"Minneapolis", "MN"}, {"Kansas City", "MO"}, {"Detroit", "MI"},   {"Salt Lake City", "UT"}};
static const char *const SKILLS[] = {
    "Java", "Python", "SQL", "Nursing", "Forklift", "Accounting", "Welding",
    "Customer Service", "Project Management", "Excel", "Electrical", "Sales", "Payroll",
    "CNC Machining", "QA Testing", "DevOps", "Medical Billing", "Logistics"};
static const char *const CANDIDATE_STATUS[] = {"active", "active", "active", "interviewing",
                                               "placed", "placed", "inactive"};
static const char *const PREFIXES[] = {
    "Acme", "Northwind", "Bluewater", "Summit", "Pioneer", "Evergreen", "Redwood", "Keystone",
    "Lakeside", "Ironclad", "Silverline", "Harbor", "Crescent", "Granite", "Meridian"};
static const struct sector {
    const char *suffix, *industry;
} SECTORS[] = {{"Health", "Healthcare"},          {"Logistics", "Transportation"},
               {"Systems", "Technology"},          {"Financial", "Finance"},
               {"Manufacturing", "Manufacturing"}, {"Retail Group", "Retail"},
               {"Energy", "Energy"},               {"Labs", "Biotech"}};
static const char *const MANAGERS[] = {"Dana Whitfield", "Marcus Reyes", "Helen Okafor",
                                       "Tom Becker", "Rina Kapoor", "Sam Delgado"};
static const char *const TITLES[] = {
    "Software Engineer", "Data Analyst", "Registered Nurse", "Warehouse Associate",
    "Forklift Operator", "Staff Accountant", "Project Manager",
    "Customer Service Representative", "Medical Assistant", "Electrician", "Welder",
    "Administrative Assistant", "Sales Representative", "DevOps Engineer", "QA Tester",
    "HR Generalist", "Payroll Specialist", "CNC Machinist"};
static const char *const EMPLOYMENT[] = {"full_time", "full_time", "contract",
                                         "contract_to_hire", "part_time"};
static const char *const JOB_STATUS[] = {"open", "open", "filled", "filled", "closed",
                                         "on_hold"};
static const char *const RECRUITERS[] = {"Alex Morgan", "Jordan Blake", "Casey Nguyen",
                                         "Taylor Brooks", "Riley Chen", "Morgan Patel",
                                         "Jamie Ortiz"};
static const char *const PLACEMENT_STATUS[] = {"active", "active", "completed",
                                               "completed", "ended_early"};

/* Days since 1970-01-01 -> "YYYY-MM-DD" (Howard Hinnant's civil_from_days). */
static void fmt_date(int64_t days, char out[16])
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(out, 16, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

#define DAY_2015_01_01 16436
#define DAY_2022_01_01 18993
#define DAY_2025_06_30 20269

static void put_str(lh_buf *b, const char *s, bool last)
{
    lh_buf_csv_field(b, s, strlen(s));
    lh_buf_putc(b, last ? '\n' : ',');
}

/* One candidate's draws, shared by the candidates and resumes tables so a resume tells the
 * same story as its row (same rng sequence, same order of draws). */
typedef struct candidate {
    const char *first, *last, *skill, *status;
    const struct place *place;
    int64_t day, secs, area, line, years, salary_steps;
} candidate;

static void next_candidate(rng *r, candidate *c)
{
    c->first = PICK(r, FIRST);
    c->last = PICK(r, LAST);
    c->place = &PICK(r, PLACES);
    c->day = rng_range(r, DAY_2022_01_01, DAY_2025_06_30);
    c->secs = rng_range(r, 8 * 3600, 18 * 3600);
    c->area = rng_range(r, 201, 989);
    c->line = rng_range(r, 100, 9999);
    c->skill = PICK(r, SKILLS);
    c->years = rng_range(r, 0, 30);
    c->salary_steps = rng_range(r, 0, 80);
    c->status = PICK(r, CANDIDATE_STATUS);
}

static void gen_candidates(lh_buf *b)
{
    rng r = {DEMO_SEED ^ 1};
    lh_buf_puts(b, "candidate_id,first_name,last_name,email,phone,city,state,primary_skill,"
                   "years_experience,desired_salary,status,created_at\n");
    for (int id = 1; id <= N_CANDIDATES; id++) {
        candidate c;
        next_candidate(&r, &c);
        char email[96], lower[64];
        snprintf(lower, sizeof lower, "%s.%s", c.first, c.last);
        for (char *ch = lower; *ch; ch++)
            *ch = (char)(*ch >= 'A' && *ch <= 'Z' ? *ch - 'A' + 'a' : *ch);
        snprintf(email, sizeof email, "%s%d@example.com", lower, id);
        char date[16];
        fmt_date(c.day, date);
        lh_buf_printf(b, "%d,", id);
        put_str(b, c.first, false);
        put_str(b, c.last, false);
        put_str(b, email, false);
        lh_buf_printf(b, "(%03d) 555-%04d,", (int)c.area, (int)c.line);
        put_str(b, c.place->city, false);
        put_str(b, c.place->state, false);
        put_str(b, c.skill, false);
        lh_buf_printf(b, "%lld,%lld,", (long long)c.years,
                      (long long)(35000 + c.years * 2500 + c.salary_steps * 500));
        put_str(b, c.status, false);
        lh_buf_printf(b, "%s %02d:%02d:%02d\n", date, (int)(c.secs / 3600),
                      (int)(c.secs / 60 % 60), (int)(c.secs % 60));
    }
}

static const char *const WINS[] = {
    "cut onboarding time by a third by rewriting the training checklist",
    "led a team of six through a plant move without missing a shipment",
    "kept a perfect safety record over three years of night shifts",
    "built the weekly reporting that the regional manager now relies on",
    "trained new hires and was promoted to shift lead within a year",
    "handled the busiest accounts during peak season with top customer scores",
    "brought audit findings down to zero two years in a row",
    "automated a manual spreadsheet process that took a full day each week",
    "covered emergency shifts and mentored two apprentices to certification",
    "reduced scrap and rework by tightening inspection at the first station"};
static const char *const EXTRAS[] = {
    "Holds a valid forklift certification and is OSHA 10 trained.",
    "Bilingual in English and Spanish.",
    "Available for night and weekend shifts.",
    "Comfortable with SAP, Excel pivot tables and basic SQL.",
    "Looking for a long-term contract close to home.",
    "Has a clean driving record and a CDL class B.",
    "Registered nurse license in good standing, BLS and ACLS certified.",
    "Prefers remote or hybrid work, open to travel once a month.",
    "Strong communicator who likes customer-facing roles.",
    "Security clearance held until 2026."};

/* Free-text resumes (one per candidate) for semantic search and RAG over the demo. */
static void gen_resumes(lh_buf *b)
{
    rng r = {DEMO_SEED ^ 1}, t = {DEMO_SEED ^ 5};
    lh_buf_puts(b, "candidate_id,headline,resume\n");
    lh_buf text;
    lh_buf_init(&text);
    for (int id = 1; id <= N_CANDIDATES; id++) {
        candidate c;
        next_candidate(&r, &c);
        const char *other = PICK(&t, SKILLS), *third = PICK(&t, SKILLS);
        char headline[128];
        snprintf(headline, sizeof headline, "%s professional, %lld years, %s %s", c.skill,
                 (long long)c.years, c.place->city, c.place->state);
        lh_buf_reset(&text);
        lh_buf_printf(&text, "%s %s has %lld years of %s experience in and around %s, %s. ",
                      c.first, c.last, (long long)c.years, c.skill, c.place->city,
                      c.place->state);
        lh_buf_printf(&text, "In the last role %s %s. ", c.first, PICK(&t, WINS));
        if (strcmp(other, c.skill) != 0)
            lh_buf_printf(&text, "Also works with %s%s%s. ", other,
                          strcmp(third, other) && strcmp(third, c.skill) ? " and " : "",
                          strcmp(third, other) && strcmp(third, c.skill) ? third : "");
        lh_buf_printf(&text, "%s", PICK(&t, EXTRAS));
        lh_buf_printf(b, "%d,", id);
        put_str(b, headline, false);
        put_str(b, text.data, true);
    }
    lh_buf_release(&text);
}

static void gen_clients(lh_buf *b)
{
    rng r = {DEMO_SEED ^ 2};
    lh_buf_puts(b, "client_id,name,industry,city,state,account_manager,since\n");
    size_t np = LH_ARRAY_LEN(PREFIXES);
    for (int id = 1; id <= N_CLIENTS; id++) {
        /* Walking prefix x sector gives distinct names for up to 120 clients. */
        size_t i = (size_t)(id - 1);
        const char *prefix = PREFIXES[i % np];
        const struct sector *s = &SECTORS[(i / np + i % np) % LH_ARRAY_LEN(SECTORS)];
        char name[96];
        snprintf(name, sizeof name, "%s %s", prefix, s->suffix);
        const struct place *p = &PICK(&r, PLACES);
        char date[16];
        fmt_date(rng_range(&r, DAY_2015_01_01, DAY_2022_01_01 + 700), date);
        lh_buf_printf(b, "%d,", id);
        put_str(b, name, false);
        put_str(b, s->industry, false);
        put_str(b, p->city, false);
        put_str(b, p->state, false);
        put_str(b, PICK(&r, MANAGERS), false);
        put_str(b, date, true);
    }
}

static void gen_jobs(lh_buf *b)
{
    rng r = {DEMO_SEED ^ 3};
    lh_buf_puts(b, "job_id,client_id,title,city,state,employment_type,salary_min,salary_max,"
                   "status,opened_at\n");
    for (int id = 1; id <= N_JOBS; id++) {
        const struct place *p = &PICK(&r, PLACES);
        int64_t lo = rng_range(&r, 30, 120) * 1000;
        int64_t hi = lo + rng_range(&r, 10, 40) * 1000;
        char date[16];
        fmt_date(rng_range(&r, DAY_2022_01_01 + 365, DAY_2025_06_30), date);
        lh_buf_printf(b, "%d,%d,", id, (int)rng_range(&r, 1, N_CLIENTS));
        put_str(b, PICK(&r, TITLES), false);
        put_str(b, p->city, false);
        put_str(b, p->state, false);
        put_str(b, PICK(&r, EMPLOYMENT), false);
        lh_buf_printf(b, "%lld,%lld,", (long long)lo, (long long)hi);
        put_str(b, PICK(&r, JOB_STATUS), false);
        put_str(b, date, true);
    }
}

static void gen_placements(lh_buf *b)
{
    rng r = {DEMO_SEED ^ 4};
    lh_buf_puts(b, "placement_id,candidate_id,job_id,recruiter,start_date,bill_rate,pay_rate,"
                   "status\n");
    for (int id = 1; id <= N_PLACEMENTS; id++) {
        int64_t bill_cents = rng_range(&r, 2500, 12000);
        int64_t pay_cents = bill_cents * rng_range(&r, 60, 78) / 100;
        char date[16];
        fmt_date(rng_range(&r, DAY_2022_01_01 + 400, DAY_2025_06_30), date);
        lh_buf_printf(b, "%d,%d,%d,", id, (int)rng_range(&r, 1, N_CANDIDATES),
                      (int)rng_range(&r, 1, N_JOBS));
        put_str(b, PICK(&r, RECRUITERS), false);
        lh_buf_printf(b, "%s,%lld.%02lld,%lld.%02lld,", date, (long long)(bill_cents / 100),
                      (long long)(bill_cents % 100), (long long)(pay_cents / 100),
                      (long long)(pay_cents % 100));
        put_str(b, PICK(&r, PLACEMENT_STATUS), true);
    }
}

static const char *const DESKS[] = {"Healthcare", "Light industrial", "Finance & accounting",
                                    "IT & engineering", "Skilled trades", "Office support"};

/* One row per name placements use, so placements.recruiter joins recruiters.name. */
static void gen_recruiters(lh_buf *b)
{
    rng r = {DEMO_SEED ^ 6};
    lh_buf_puts(b, "recruiter_id,name,email,phone,desk,city,state,hired_at,monthly_target\n");
    for (size_t i = 0; i < LH_ARRAY_LEN(RECRUITERS); i++) {
        const char *name = RECRUITERS[i];
        char email[96];
        size_t k = 0;
        for (const char *ch = name; *ch && k + 1 < 64; ch++)
            email[k++] = *ch == ' ' ? '.' : (char)(*ch >= 'A' && *ch <= 'Z' ? *ch - 'A' + 'a' : *ch);
        snprintf(email + k, sizeof email - k, "@staffing.example.com");
        const struct place *pl = &PICK(&r, PLACES);
        char date[16];
        fmt_date(rng_range(&r, DAY_2022_01_01 - 1500, DAY_2022_01_01 + 200), date);
        lh_buf_printf(b, "%zu,", i + 1);
        put_str(b, name, false);
        put_str(b, email, false);
        lh_buf_printf(b, "(%03d) 555-%04d,", (int)rng_range(&r, 201, 989),
                      (int)rng_range(&r, 100, 9999));
        put_str(b, PICK(&r, DESKS), false);
        put_str(b, pl->city, false);
        put_str(b, pl->state, false);
        lh_buf_printf(b, "%s,%lld\n", date, (long long)rng_range(&r, 3, 12));
    }
}

static const struct demo_table {
    const char *name;
    void (*gen)(lh_buf *b);
} TABLES[] = {{"clients", gen_clients},
              {"candidates", gen_candidates},
              {"jobs", gen_jobs},
              {"placements", gen_placements},
              {"recruiters", gen_recruiters},
              {"resumes", gen_resumes}};

/* Writes one generated table to a scratch file and ingests it (which consumes the file). */
static int seed_table(lh_lake *lake, const struct demo_table *t, lh_err *err)
{
    lh_buf b;
    lh_buf_init(&b);
    t->gen(&b);
    char *path = lh_storage_scratch_path(lake->storage, ".csv");
    int rc = -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        lh_err_errno(err, errno, "demo: cannot create scratch file for '%s'", t->name);
        goto out;
    }
    int wrc = lh_write_full(fd, b.data, b.len, err);
    if (close(fd) != 0 && wrc == 0)
        wrc = lh_err_errno(err, errno, "demo: cannot write scratch file for '%s'", t->name);
    if (wrc != 0) {
        lh_ingest__unlink_scratch(path);
        goto out;
    }
    char file_name[80];
    snprintf(file_name, sizeof file_name, "%s.csv", t->name);
    lh_ingest_req req = {.path = path, .path_is_scratch = true, .file_name = file_name,
                         .name = t->name, .format = "csv", .source = "demo", .actor = NULL};
    json_t *res = lh_ingest_file(lake, &req, err);
    if (res) {
        json_decref(res);
        rc = 0;
    }
out:
    free(path);
    lh_buf_release(&b);
    return rc;
}

int lh_ingest_seed_demo(lh_lake *lake, lh_err *err)
{
    for (size_t i = 0; i < LH_ARRAY_LEN(TABLES); i++) {
        lh_catalog_snap *snap = lh_catalog_snapshot(lake->catalog);
        bool present = lh_catalog_snap_find(snap, TABLES[i].name) != NULL;
        lh_catalog_snap_unref(snap);
        if (present)
            continue;
        if (seed_table(lake, &TABLES[i], err) != 0)
            return -1;
        LH_LOG_INFO("ingest", "demo table seeded dataset=%s", TABLES[i].name);
    }
    return 0;
}
