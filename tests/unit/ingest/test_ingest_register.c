/* lh_ingest_register: Parquet objects already in the bucket become a dataset in place;
 * a missing key, a non-Parquet object or mixed schemas register nothing. */
#include "ingest_fixture.h"

TestSuite(ingest_register, .init = lake_setup, .fini = lake_teardown, .timeout = 60);

/* Converts a fixture to Parquet and places it in the primary bucket at key. */
static void place_parquet(const char *fixture_name, const char *key)
{
    char *src = fixture(fixture_name);
    char *csv = copy_to_scratch(src, ".csv");
    char *pq = lh_storage_scratch_path(tlake->storage, ".parquet");
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_engine_csv_to_parquet(tlake->engine, csv, NULL, pq, &cols, &ncols, &rows,
                                          &err),
                 0, "%s", err.message);
    lh_columns_free(cols, ncols);
    lh_bucket *b = lh_storage_bucket(tlake->storage, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(b);
    cr_assert_eq(lh_bucket_adopt_file(b, key, pq, &err), 0, "%s", err.message);
    cr_assert_eq(unlink(csv), 0);
    free(src);
    free(csv);
    free(pq);
}

static bool object_exists(const char *key)
{
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(tlake->storage, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(b);
    return lh_bucket_exists(b, key);
}

Test(ingest_register, parquet_objects_become_a_dataset)
{
    place_parquet("people.csv", "incoming/p1.parquet");
    place_parquet("people.csv", "incoming/p2.parquet");
    const char *keys[] = {"incoming/p1.parquet", "incoming/p2.parquet"};
    lh_err err = LH_ERR_INIT;
    json_t *d = lh_ingest_register(tlake, "staff", keys, 2, "tester", &err);
    cr_assert_not_null(d, "%s", err.message);
    cr_assert_str_eq(json_string_value(json_object_get(d, "name")), "staff");
    cr_assert_eq(json_integer_value(json_object_get(d, "row_count")), 10);
    cr_assert_eq(json_array_size(json_object_get(d, "columns")), 4);
    cr_assert_not_null(json_object_get(d, "history"), "detailed JSON expected");
    json_decref(d);
    cr_assert_eq(q_int("SELECT count(*) FROM staff"), 10);
    char *name = q_str("SELECT name FROM staff WHERE id = 4 LIMIT 1");
    cr_assert_str_eq(name, "Margaret");
    free(name);
    /* Registration keeps the objects where they are. */
    cr_assert(object_exists("incoming/p1.parquet"));
    cr_assert(object_exists("incoming/p2.parquet"));

    /* A second registration appends. */
    const char *more[] = {"incoming/p1.parquet"};
    d = lh_ingest_register(tlake, "staff", more, 1, NULL, &err);
    cr_assert_not_null(d, "%s", err.message);
    cr_assert_eq(json_integer_value(json_object_get(d, "version")), 1);
    json_decref(d);
    cr_assert_eq(q_int("SELECT count(*) FROM staff"), 15);
    cr_assert_eq(scratch_count(), 0);
}

Test(ingest_register, missing_key_is_not_found_and_registers_nothing)
{
    place_parquet("people.csv", "incoming/p1.parquet");
    const char *keys[] = {"incoming/p1.parquet", "incoming/nope.parquet"};
    lh_err err = LH_ERR_INIT;
    cr_assert_null(lh_ingest_register(tlake, "staff", keys, 2, NULL, &err));
    cr_assert_eq(err.code, LH_NOT_FOUND);
    cr_assert_str_eq(err.message, "object 'incoming/nope.parquet' not found");
    cr_assert_not(dataset_exists("staff"));
}

Test(ingest_register, bad_input_registers_nothing)
{
    place_parquet("people.csv", "incoming/p1.parquet");
    place_parquet("products.csv", "incoming/products.parquet");
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_bucket(tlake->storage, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(b);
    const char *csv = "a,b\n1,2\n";
    cr_assert_eq(lh_bucket_put(b, "incoming/fake.parquet", csv, strlen(csv), &err), 0);

    const char *not_pq[] = {"incoming/p1.parquet", "incoming/fake.parquet"};
    cr_assert_null(lh_ingest_register(tlake, "staff", not_pq, 2, NULL, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT, "%s", err.message);
    cr_assert(strstr(err.message, "incoming/fake.parquet") != NULL, "%s", err.message);

    const char *mixed[] = {"incoming/p1.parquet", "incoming/products.parquet"};
    cr_assert_null(lh_ingest_register(tlake, "staff", mixed, 2, NULL, &err));
    cr_assert_eq(err.code, LH_CONFLICT, "%s", err.message);

    const char *bad_key[] = {"../escape.parquet"};
    cr_assert_null(lh_ingest_register(tlake, "staff", bad_key, 1, NULL, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);

    const char *ok[] = {"incoming/p1.parquet"};
    cr_assert_null(lh_ingest_register(tlake, "Bad-Name", ok, 1, NULL, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
    cr_assert_null(lh_ingest_register(tlake, "staff", ok, 0, NULL, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);

    cr_assert_not(dataset_exists("staff"));
    cr_assert_not(dataset_exists("Bad-Name"));
}

Test(ingest_register, schema_must_match_an_existing_dataset)
{
    char *path = fixture("people.csv");
    lh_ingest_req req = {.path = path, .source = "cli"};
    lh_err err = LH_ERR_INIT;
    json_t *r = lh_ingest_file(tlake, &req, &err);
    cr_assert_not_null(r, "%s", err.message);
    json_decref(r);
    place_parquet("products.csv", "incoming/products.parquet");
    const char *keys[] = {"incoming/products.parquet"};
    cr_assert_null(lh_ingest_register(tlake, "people", keys, 1, NULL, &err));
    cr_assert_eq(err.code, LH_CONFLICT, "%s", err.message);
    cr_assert_eq(dataset_version("people"), 0);
    cr_assert_eq(q_int("SELECT count(*) FROM people"), 5);
    free(path);
}
