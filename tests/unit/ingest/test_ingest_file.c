/* lh_ingest_file against a real lake: CSV/TSV in, rows back out through SQL; appends,
 * schema conflicts, bad input, name derivation, and no scratch file left on any path. */
#include "ingest_fixture.h"

TestSuite(ingest_file, .init = lake_setup, .fini = lake_teardown, .timeout = 60);

static json_t *ingest(const char *path, const char *file_name, const char *name,
                      const char *format, lh_err *err)
{
    lh_ingest_req req = {.path = path, .file_name = file_name, .name = name,
                         .format = format, .source = "cli"};
    return lh_ingest_file(tlake, &req, err);
}

Test(ingest_file, csv_rows_come_back_through_sql)
{
    char *path = fixture("people.csv");
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    lh_err err = LH_ERR_INIT;
    json_t *r = ingest(path, NULL, NULL, NULL, &err);
    cr_assert_not_null(r, "%s", err.message);
    cr_assert_str_eq(json_string_value(json_object_get(r, "dataset")), "people");
    cr_assert(json_is_true(json_object_get(r, "created")));
    cr_assert_eq(json_integer_value(json_object_get(r, "version")), 0);
    cr_assert_eq(json_integer_value(json_object_get(r, "rows")), 5);
    cr_assert_eq(json_integer_value(json_object_get(r, "bytes")), st.st_size);
    cr_assert(json_is_number(json_object_get(r, "elapsed_ms")));
    json_t *cols = json_object_get(r, "columns");
    cr_assert_eq(json_array_size(cols), 4);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(cols, 1), "name")),
                     "name");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(cols, 1), "type")),
                     "VARCHAR");
    json_decref(r);

    cr_assert_eq(q_int("SELECT count(*) FROM people"), 5);
    cr_assert_eq(q_int("SELECT sum(id) FROM people"), 15);
    char *name = q_str("SELECT name FROM people WHERE id = 3");
    cr_assert_str_eq(name, "Linus");
    free(name);
    char *city = q_str("SELECT city FROM people WHERE name = 'Grace'");
    cr_assert_str_eq(city, "New York");
    free(city);
    cr_assert_eq(scratch_count(), 0);
    /* The user's file is read, never consumed. */
    cr_assert_eq(access(path, F_OK), 0);
    free(path);
}

Test(ingest_file, tsv_by_extension_and_by_format)
{
    char *path = fixture("cities.tsv");
    lh_err err = LH_ERR_INIT;
    json_t *r = ingest(path, NULL, NULL, NULL, &err);
    cr_assert_not_null(r, "%s", err.message);
    cr_assert_str_eq(json_string_value(json_object_get(r, "dataset")), "cities");
    cr_assert_eq(json_array_size(json_object_get(r, "columns")), 3);
    json_decref(r);
    cr_assert_eq(q_int("SELECT population FROM cities WHERE code = 'SEA'"), 737015);

    /* Under a neutral name the explicit format decides. One more row, so that the content
     * differs (the same bytes again would be a duplicate). */
    size_t len = 0;
    char *data = lh_file_read_all(path, 4096, &len, &err);
    cr_assert_not_null(data);
    char *more = lh_xasprintf("%sBOS\tBoston\t650706\n", data);
    char *txt = write_temp("cities.txt", more, strlen(more));
    free(more);
    r = ingest(txt, NULL, "cities_txt", "tsv", &err);
    cr_assert_not_null(r, "%s", err.message);
    json_decref(r);
    char *city = q_str("SELECT city FROM cities_txt WHERE code = 'DEN'");
    cr_assert_str_eq(city, "Denver");
    cr_assert_eq(scratch_count(), 0);
    free(city);
    free(txt);
    free(data);
    free(path);
}

Test(ingest_file, quoted_fields_keep_commas_quotes_and_newlines)
{
    char *path = fixture("quoted.csv");
    lh_err err = LH_ERR_INIT;
    json_t *r = ingest(path, NULL, NULL, "csv", &err);
    cr_assert_not_null(r, "%s", err.message);
    cr_assert_eq(json_integer_value(json_object_get(r, "rows")), 4);
    json_decref(r);
    char *a = q_str("SELECT note FROM quoted WHERE id = 1");
    char *b = q_str("SELECT note FROM quoted WHERE id = 2");
    char *c = q_str("SELECT note FROM quoted WHERE id = 3");
    cr_assert_str_eq(a, "Smith, John");
    cr_assert_str_eq(b, "line one\nline two");
    cr_assert_str_eq(c, "say \"hi\"");
    cr_assert_eq(q_int("SELECT sum(amount) FROM quoted"), 100);
    free(a);
    free(b);
    free(c);
    free(path);
}

Test(ingest_file, append_adds_a_version_and_sums_rows)
{
    char *path = fixture("people.csv");
    lh_err err = LH_ERR_INIT;
    json_t *r = ingest(path, NULL, NULL, NULL, &err);
    cr_assert_not_null(r, "%s", err.message);
    json_decref(r);
    /* The same rows in a different file (a trailing newline less): new content, appended. */
    size_t len = 0;
    char *data = lh_file_read_all(path, 4096, &len, &err);
    cr_assert_not_null(data);
    while (len > 0 && data[len - 1] == '\n')
        len--;
    char *again = write_temp("people_again.csv", data, len);
    free(data);
    r = ingest(again, NULL, "people", NULL, &err);
    free(again);
    cr_assert_not_null(r, "%s", err.message);
    cr_assert(json_is_false(json_object_get(r, "created")));
    cr_assert_eq(json_integer_value(json_object_get(r, "version")), 1);
    cr_assert_eq(json_integer_value(json_object_get(r, "rows")), 5);
    json_decref(r);
    cr_assert_eq(q_int("SELECT count(*) FROM people"), 10);
    cr_assert_eq(q_int("SELECT count(*) FROM people WHERE id = 2"), 2);
    cr_assert_eq(dataset_version("people"), 1);
    cr_assert_eq(scratch_count(), 0);
    free(path);
}

Test(ingest_file, schema_mismatch_is_conflict_and_changes_nothing)
{
    char *people = fixture("people.csv");
    char *products = fixture("products.csv");
    lh_err err = LH_ERR_INIT;
    json_t *r = ingest(people, NULL, NULL, NULL, &err);
    cr_assert_not_null(r, "%s", err.message);
    json_decref(r);
    r = ingest(products, NULL, "people", NULL, &err);
    cr_assert_null(r);
    cr_assert_eq(err.code, LH_CONFLICT, "code %s: %s", lh_code_name(err.code), err.message);
    cr_assert(lh_str_has_prefix(err.message, "ingest 'products.csv': "), "%s", err.message);
    cr_assert_eq(dataset_version("people"), 0);
    cr_assert_eq(q_int("SELECT count(*) FROM people"), 5);
    cr_assert_eq(scratch_count(), 0);
    free(people);
    free(products);
}

Test(ingest_file, empty_file_is_invalid_argument)
{
    char *path = write_temp("nothing.csv", "", 0);
    lh_err err = LH_ERR_INIT;
    cr_assert_null(ingest(path, NULL, NULL, NULL, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
    cr_assert_str_eq(err.message, "ingest 'nothing.csv': the file is empty");
    cr_assert_not(dataset_exists("nothing"));
    cr_assert_eq(scratch_count(), 0);
    free(path);
}

Test(ingest_file, missing_file_is_an_error)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_null(ingest("/nonexistent/dir/x.csv", NULL, NULL, NULL, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "x.csv") != NULL, "%s", err.message);
}

Test(ingest_file, binary_content_is_refused)
{
    /* Content decides, whatever the name: binary junk is unsupported; a truncated Parquet,
     * PDF, zip or gzip named .csv is read as what it is, and refused as broken. */
    static const struct {
        const char *file, *data;
        size_t len;
        lh_code code;
        const char *says;
    } cases[] = {
        {"junk.csv", "a,b\n\0\0\x01\x02\xff\xfe", 10, LH_UNSUPPORTED_MEDIA, "binary content"},
        {"table.csv", "PAR1\x15\x04\x15\x10", 8, LH_INVALID_ARGUMENT, "Parquet"},
        {"doc.csv", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 15, LH_INVALID_ARGUMENT, "PDF"},
        {"book.csv", "PK\x03\x04\x14\x00\x06\x00", 8, LH_INVALID_ARGUMENT, "book.csv"},
        {"log.csv", "\x1f\x8b\x08\x00\x00\x00", 6, LH_INVALID_ARGUMENT, "log.csv"},
        {"wide.csv", "\xff\xfe" "a\x00,\x00b\x00", 8, LH_UNSUPPORTED_MEDIA, "UTF-16"},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++) {
        char *path = write_temp(cases[i].file, cases[i].data, cases[i].len);
        lh_err err = LH_ERR_INIT;
        cr_assert_null(ingest(path, NULL, NULL, NULL, &err), "%s", cases[i].file);
        cr_assert_eq(err.code, cases[i].code, "%s: %s", cases[i].file, err.message);
        cr_assert(strstr(err.message, cases[i].says) != NULL, "%s", err.message);
        cr_assert(strstr(err.message, cases[i].file) != NULL, "%s", err.message);
        free(path);
    }
    lh_catalog_snap *snap = lh_catalog_snapshot(tlake->catalog);
    cr_assert_eq(lh_catalog_snap_count(snap), 0);
    lh_catalog_snap_unref(snap);
    cr_assert_eq(scratch_count(), 0);
}

Test(ingest_file, unknown_format_is_unsupported_media)
{
    char *path = fixture("people.csv");
    lh_err err = LH_ERR_INIT;
    cr_assert_null(ingest(path, NULL, NULL, "xlsx", &err));
    cr_assert_eq(err.code, LH_UNSUPPORTED_MEDIA);
    free(path);
}

Test(ingest_file, names_derive_from_the_file_name)
{
    char *path = fixture("people.csv");
    lh_err err = LH_ERR_INIT;
    json_t *r = ingest(path, "My Sales-2024.CSV", NULL, NULL, &err);
    cr_assert_not_null(r, "%s", err.message);
    cr_assert_str_eq(json_string_value(json_object_get(r, "dataset")), "my_sales_2024");
    json_decref(r);
    char *other = write_temp("other.csv", "id,n\n1,2\n", 9);
    r = ingest(other, "2024.csv", NULL, NULL, &err);
    free(other);
    cr_assert_not_null(r, "%s", err.message);
    cr_assert_str_eq(json_string_value(json_object_get(r, "dataset")), "_2024");
    json_decref(r);
    cr_assert_eq(q_int("SELECT count(*) FROM my_sales_2024"), 5);

    cr_assert_null(ingest(path, NULL, "Bad Name", NULL, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
    cr_assert_null(ingest(path, NULL, "x; DROP TABLE people", NULL, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
    cr_assert_not(dataset_exists("people"));
    cr_assert_eq(scratch_count(), 0);
    free(path);
}

Test(ingest_file, scratch_input_is_consumed_on_success_and_failure)
{
    char *src = fixture("people.csv");
    char *scratch = copy_to_scratch(src, ".upload");
    lh_ingest_req req = {.path = scratch, .path_is_scratch = true, .file_name = "people.csv",
                         .source = "upload"};
    lh_err err = LH_ERR_INIT;
    json_t *r = lh_ingest_file(tlake, &req, &err);
    cr_assert_not_null(r, "%s", err.message);
    json_decref(r);
    cr_assert_neq(access(scratch, F_OK), 0);
    cr_assert_eq(scratch_count(), 0);

    char *bad = copy_to_scratch(src, ".upload");
    lh_ingest_req req2 = {.path = bad, .path_is_scratch = true, .file_name = "p.csv",
                          .name = "NOT valid", .source = "upload"};
    cr_assert_null(lh_ingest_file(tlake, &req2, &err));
    cr_assert_eq(err.code, LH_INVALID_ARGUMENT);
    cr_assert_eq(scratch_count(), 0);
    free(scratch);
    free(bad);
    free(src);
}

/* A failed commit (LH_FAULT=commit:1) leaves no dataset, no table files, no scratch. */
Test(ingest_file, failed_commit_leaves_nothing)
{
    cr_assert_eq(setenv("LH_FAULT", "commit:1", 1), 0);
    lh_fault_reset();
    char *path = fixture("people.csv");
    lh_err err = LH_ERR_INIT;
    cr_assert_null(ingest(path, NULL, NULL, NULL, &err));
    cr_assert_neq(err.code, LH_OK);
    cr_assert_not(dataset_exists("people"));
    lh_bucket *b = lh_storage_bucket(tlake->storage, LH_BUCKET_PRIMARY, &err);
    cr_assert_not_null(b);
    lh_object_info *objs = NULL;
    size_t n = 0;
    bool more = false;
    cr_assert_eq(lh_bucket_list(b, "datasets/people/", 100, &objs, &n, &more, &err), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_not(lh_str_has_suffix(objs[i].key, ".parquet"), "left: %s", objs[i].key);
    lh_object_infos_free(objs, n);
    cr_assert_eq(scratch_count(), 0);

    /* The next attempt (the fault fired once) succeeds. */
    json_t *r = ingest(path, NULL, NULL, NULL, &err);
    cr_assert_not_null(r, "%s", err.message);
    json_decref(r);
    cr_assert_eq(q_int("SELECT count(*) FROM people"), 5);
    free(path);
}

/* A failed write while copying into scratch (LH_FAULT=write:1) is an io_error and leaves
 * no scratch copy behind. */
Test(ingest_file, failed_scratch_copy_leaves_nothing)
{
    cr_assert_eq(setenv("LH_FAULT", "write:1", 1), 0);
    lh_fault_reset();
    char *path = fixture("people.csv");
    lh_err err = LH_ERR_INIT;
    cr_assert_null(ingest(path, NULL, NULL, NULL, &err));
    cr_assert_eq(err.code, LH_IO_ERROR, "%s", err.message);
    cr_assert_not(dataset_exists("people"));
    cr_assert_eq(scratch_count(), 0);
    free(path);
}
