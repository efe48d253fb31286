/* lh_ingest_seed_demo: five staffing tables whose keys join, the same data every time,
 * and a second call that changes nothing. */
#include "ingest_fixture.h"

TestSuite(demo, .init = lake_setup, .fini = lake_teardown, .timeout = 120);

Test(demo, seeds_four_tables_whose_keys_join)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest_seed_demo(tlake, &err), 0, "%s", err.message);
    cr_assert_eq(q_int("SELECT count(*) FROM candidates"), 500);
    cr_assert_eq(q_int("SELECT count(*) FROM clients"), 60);
    cr_assert_eq(q_int("SELECT count(*) FROM jobs"), 300);
    cr_assert_eq(q_int("SELECT count(*) FROM placements"), 200);
    cr_assert_eq(q_int("SELECT count(*) FROM resumes"), 500);
    /* A resume tells the same story as its candidate row. */
    cr_assert_eq(q_int("SELECT count(*) FROM resumes r JOIN candidates c USING (candidate_id) "
                       "WHERE r.resume LIKE c.first_name || ' ' || c.last_name || ' has ' || "
                       "c.years_experience || ' years of ' || c.primary_skill || '%'"),
                 500);
    cr_assert_eq(q_int("SELECT count(DISTINCT candidate_id) FROM candidates"), 500);
    cr_assert_eq(q_int("SELECT count(DISTINCT name) FROM clients"), 60);
    /* Every foreign key resolves. */
    cr_assert_eq(q_int("SELECT count(*) FROM placements p LEFT JOIN candidates c "
                       "ON p.candidate_id = c.candidate_id WHERE c.candidate_id IS NULL"),
                 0);
    cr_assert_eq(q_int("SELECT count(*) FROM placements p LEFT JOIN jobs j "
                       "ON p.job_id = j.job_id WHERE j.job_id IS NULL"),
                 0);
    cr_assert_eq(q_int("SELECT count(*) FROM jobs j LEFT JOIN clients c "
                       "ON j.client_id = c.client_id WHERE c.client_id IS NULL"),
                 0);
    cr_assert_eq(q_int("SELECT count(*) FROM placements p JOIN candidates c "
                       "USING (candidate_id) JOIN jobs j USING (job_id) "
                       "JOIN clients k ON j.client_id = k.client_id"),
                 200);
    /* Plausible values: pay below bill, salary ranges ordered, typed columns. */
    cr_assert_eq(q_int("SELECT count(*) FROM placements WHERE pay_rate >= bill_rate"), 0);
    cr_assert_eq(q_int("SELECT count(*) FROM jobs WHERE salary_max <= salary_min"), 0);
    cr_assert_eq(q_int("SELECT count(*) FROM candidates WHERE email NOT LIKE '%@example.com'"),
                 0);
    char *type = q_str("SELECT typeof(start_date) FROM placements LIMIT 1");
    cr_assert_str_eq(type, "DATE");
    free(type);
    type = q_str("SELECT typeof(created_at) FROM candidates LIMIT 1");
    cr_assert_str_eq(type, "TIMESTAMP");
    free(type);
    cr_assert_eq(scratch_count(), 0);
}

Test(demo, reseeding_changes_nothing)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest_seed_demo(tlake, &err), 0, "%s", err.message);
    long long sum = q_int("SELECT sum(desired_salary) FROM candidates");
    cr_assert_eq(lh_ingest_seed_demo(tlake, &err), 0, "%s", err.message);
    const char *tables[] = {"candidates", "clients", "jobs", "placements"};
    for (size_t i = 0; i < LH_ARRAY_LEN(tables); i++)
        cr_assert_eq(dataset_version(tables[i]), 0, "%s", tables[i]);
    cr_assert_eq(q_int("SELECT count(*) FROM candidates"), 500);
    cr_assert_eq(q_int("SELECT sum(desired_salary) FROM candidates"), sum);
    cr_assert_eq(scratch_count(), 0);
}

Test(demo, seeds_only_missing_tables_with_the_same_data)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest_seed_demo(tlake, &err), 0, "%s", err.message);
    char *first = q_str("SELECT string_agg(email, ',' ORDER BY candidate_id) FROM candidates");
    lh_lake_close(tlake);
    tlake = NULL;
    cr_assert_eq(lh_remove_tree(tdir, &err), 0);

    /* A fresh lake that already has a 'jobs' table of its own: only the other four come. */
    tlake = lh_lake_open(&tcfg, &err);
    cr_assert_not_null(tlake, "%s", err.message);
    char *path = fixture("people.csv");
    lh_ingest_req req = {.path = path, .name = "jobs", .source = "cli"};
    json_t *r = lh_ingest_file(tlake, &req, &err);
    cr_assert_not_null(r, "%s", err.message);
    json_decref(r);
    cr_assert_eq(lh_ingest_seed_demo(tlake, &err), 0, "%s", err.message);
    cr_assert_eq(q_int("SELECT count(*) FROM jobs"), 5);
    char *second = q_str("SELECT string_agg(email, ',' ORDER BY candidate_id) FROM candidates");
    cr_assert_str_eq(first, second);
    free(first);
    free(second);
    free(path);
}
