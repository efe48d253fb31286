/* Tests for src/query/ingest_json.c: JSON (array and NDJSON) -> Parquet, with flattening of
 * nested objects, lists kept or turned into JSON text, the union of keys across records, an
 * explicit schema, and the refusals (empty, scalar, broken, missing). */
#include "query_test.h"

static qt_env T;
static void setup(void) { qt_open(&T); }
static void teardown(void) { qt_close(&T); }

TestSuite(json, .init = setup, .fini = teardown, .timeout = 120);

/* Writes text to a new scratch file (the engine may only read its work dir). Owned path. */
static char *write_scratch(const char *suffix, const char *text, size_t len) {
    char *path = lh_storage_scratch_path(T.storage, suffix);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

/* Copies a fixture from tests/fixtures/json/ into the work dir. Owned path. */
static char *fixture(const char *name) {
    char src[512];
    snprintf(src, sizeof src, "%s/json/%s", LH_TEST_FIXTURES, name);
    FILE *f = fopen(src, "rb");
    cr_assert_not_null(f, "%s", src);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return write_scratch(".json", buf, n);
}

typedef struct conv {
    int rc;
    lh_err err;
    lh_column *cols;
    size_t ncols;
    int64_t rows;
    char *dst;
} conv;

static conv convert(const char *src, const lh_json_opts *opts) {
    conv c = {.err = LH_ERR_INIT};
    c.dst = lh_storage_scratch_path(T.storage, ".parquet");
    c.rc = lh_engine_json_to_parquet(T.engine, src, opts, c.dst, &c.cols, &c.ncols, &c.rows,
                                     &c.err);
    return c;
}

static void conv_free(conv *c) {
    if (c->cols)
        lh_columns_free(c->cols, c->ncols);
    unlink(c->dst);
    free(c->dst);
}

/* "name TYPE, name TYPE" of a schema. Owned. */
static char *schema_text(const conv *c) {
    lh_buf b;
    lh_buf_init(&b);
    for (size_t i = 0; i < c->ncols; i++)
        lh_buf_printf(&b, "%s%s %s", i ? ", " : "", c->cols[i].name, c->cols[i].type);
    lh_buf_putc(&b, '\0');
    return lh_buf_detach(&b, NULL);
}

#define EXPECT_SCHEMA(c, want)                                                              \
    do {                                                                                    \
        char *s_ = schema_text(&(c));                                                       \
        cr_expect_str_eq(s_, (want));                                                       \
        free(s_);                                                                           \
    } while (0)

/* Asserts rows of a SELECT over the converted Parquet file. */
static void expect_rows(const conv *c, const char *select_list, const char *want) {
    char *sql = lh_xasprintf("SELECT %s FROM read_parquet('%s')", select_list, c->dst);
    QT_ROWS(T.engine, sql, want);
    free(sql);
}

Test(json, array_flattened_with_exact_names) {
    char *src = fixture("people.json");
    lh_json_opts o = {.layout = LH_JSON_AUTO, .flatten = true};
    conv c = convert(src, &o);
    cr_assert_eq(c.rc, 0, "%s (%s)", c.err.message, c.err.detail);
    cr_expect_eq(c.rows, 3);
    EXPECT_SCHEMA(c, "id BIGINT, name VARCHAR, address_city_2 VARCHAR, address_zip VARCHAR, "
                     "address_geo_lat DOUBLE, address_geo_lon DOUBLE, tags VARCHAR[], "
                     "orders VARCHAR, address_city VARCHAR, vip BOOLEAN, grid VARCHAR");
    expect_rows(&c, "id, address_city_2, address_zip, address_geo_lat, address_city",
                "[[1,\"London\",\"N1\",51.5,\"dup\"],[2,\"Arlington\",null,null,null],"
                "[3,null,null,null,null]]");
    /* arrays of scalars stay lists; arrays of objects or arrays become JSON text */
    expect_rows(&c, "tags, orders, grid",
                "[[[\"math\",\"poetry\"],\"[{\\\"sku\\\":\\\"A1\\\",\\\"qty\\\":2}]\",null],"
                "[[],null,null],[null,null,\"[[1,2],[3]]\"]]");
    expect_rows(&c, "vip", "[[null],[true],[null]]");
    conv_free(&c);
    unlink(src);
    free(src);
}

Test(json, unflattened_keeps_structs) {
    char *src = fixture("people.json");
    lh_json_opts o = {.layout = LH_JSON_ARRAY, .flatten = false};
    conv c = convert(src, &o);
    cr_assert_eq(c.rc, 0, "%s", c.err.message);
    cr_expect_eq(c.rows, 3);
    cr_assert_eq(c.ncols, 8);
    cr_expect_str_eq(c.cols[2].name, "address");
    cr_expect(strncmp(c.cols[2].type, "STRUCT(", 7) == 0, "%s", c.cols[2].type);
    expect_rows(&c, "address.geo.lat", "[[51.5],[null],[null]]");
    conv_free(&c);
    unlink(src);
    free(src);
}

Test(json, ndjson_union_of_keys) {
    char *src = fixture("events.ndjson");
    lh_json_opts o = {.layout = LH_JSON_NDJSON, .flatten = true};
    conv c = convert(src, &o);
    cr_assert_eq(c.rc, 0, "%s", c.err.message);
    cr_expect_eq(c.rows, 3);
    EXPECT_SCHEMA(c, "event VARCHAR, user VARCHAR, at TIMESTAMP, device_os VARCHAR, "
                     "device_ver BIGINT");
    expect_rows(&c, "event, \"user\", CAST(\"at\" AS VARCHAR), device_os, device_ver",
                "[[\"login\",\"ada\",\"2024-03-01 10:00:00\",null,null],"
                "[\"logout\",\"ada\",null,null,null],[\"login\",\"bob\",null,\"linux\",6]]");
    conv_free(&c);
    unlink(src);
    free(src);
}

Test(json, auto_layout_reads_ndjson_and_array) {
    const char *nd = "{\"a\":1}\n{\"a\":2,\"b\":\"x\"}\n";
    const char *arr = "[{\"a\":1},{\"a\":2,\"b\":\"x\"}]";
    const char *texts[] = {nd, arr};
    for (int i = 0; i < 2; i++) {
        char *src = write_scratch(".json", texts[i], strlen(texts[i]));
        conv c = convert(src, NULL);
        cr_assert_eq(c.rc, 0, "%s", c.err.message);
        cr_expect_eq(c.rows, 2);
        EXPECT_SCHEMA(c, "a BIGINT, b VARCHAR");
        expect_rows(&c, "a, b", "[[1,null],[2,\"x\"]]");
        conv_free(&c);
        unlink(src);
        free(src);
    }
}

/* A key that first appears after many records still becomes a column. */
Test(json, late_key_becomes_column) {
    lh_buf b;
    lh_buf_init(&b);
    for (int i = 0; i < 50000; i++)
        lh_buf_printf(&b, "{\"id\":%d}\n", i);
    lh_buf_puts(&b, "{\"id\":50000,\"late\":{\"k\":2.5}}\n");
    char *src = write_scratch(".ndjson", b.data, b.len);
    lh_buf_release(&b);
    lh_json_opts o = {.flatten = true};
    conv c = convert(src, &o);
    cr_assert_eq(c.rc, 0, "%s", c.err.message);
    cr_expect_eq(c.rows, 50001);
    EXPECT_SCHEMA(c, "id BIGINT, late_k DOUBLE");
    expect_rows(&c, "count(late_k), sum(late_k)", "[[1,2.5]]");
    conv_free(&c);
    unlink(src);
    free(src);
}

Test(json, explicit_columns_with_timestamp) {
    char *src = fixture("pages.ndjson");
    static const lh_column cols[] = {
        {.name = "source_file", .type = "VARCHAR"},
        {.name = "page_number", .type = "INTEGER"},
        {.name = "text_content", .type = "VARCHAR"},
        {.name = "extraction", .type = "VARCHAR"},
        {.name = "at", .type = "TIMESTAMP"},
    };
    lh_json_opts o = {.columns = cols, .ncolumns = 5, .flatten = true};
    conv c = convert(src, &o);
    cr_assert_eq(c.rc, 0, "%s (%s)", c.err.message, c.err.detail);
    cr_expect_eq(c.rows, 2);
    EXPECT_SCHEMA(c, "source_file VARCHAR, page_number INTEGER, text_content VARCHAR, "
                     "extraction VARCHAR, at TIMESTAMP");
    expect_rows(&c, "page_number, text_content, extraction, CAST(\"at\" AS VARCHAR)",
                "[[1,\"Hello\",\"text\",\"2024-01-02 03:04:05\"],"
                "[2,null,\"ocr\",\"2024-01-03 00:00:00\"]]");
    conv_free(&c);
    unlink(src);
    free(src);
}

Test(json, explicit_columns_refuse_bad_type) {
    char *src = fixture("pages.ndjson");
    static const lh_column cols[] = {{.name = "a", .type = "VARCHAR'); DROP"}};
    lh_json_opts o = {.columns = cols, .ncolumns = 1};
    conv c = convert(src, &o);
    cr_expect_eq(c.rc, -1);
    cr_expect_eq(c.err.code, LH_INVALID_ARGUMENT);
    conv_free(&c);
    unlink(src);
    free(src);
}

/* Runs a conversion that must fail with code and a message containing want_in_message. */
static void expect_refused(const char *text, const lh_json_opts *o, lh_code code,
                           const char *want_in_message) {
    char *src = write_scratch(".json", text, strlen(text));
    conv c = convert(src, o);
    cr_expect_eq(c.rc, -1, "'%s' should be refused", text);
    cr_expect_eq(c.err.code, code, "'%s': %s (%s)", text, lh_code_name(c.err.code),
                 c.err.message);
    cr_expect(strstr(c.err.message, want_in_message) != NULL, "'%s': message '%s' lacks '%s'",
              text, c.err.message, want_in_message);
    cr_expect_neq(access(c.dst, F_OK), 0, "no Parquet may stay behind");
    conv_free(&c);
    unlink(src);
    free(src);
}

Test(json, empty_inputs_have_no_records) {
    lh_json_opts fl = {.flatten = true};
    expect_refused("[]", &fl, LH_INVALID_ARGUMENT, "no records");
    expect_refused("  [ \n ] \n", NULL, LH_INVALID_ARGUMENT, "no records");
    expect_refused("", &fl, LH_INVALID_ARGUMENT, "no records");
    expect_refused("\n\n  \n", NULL, LH_INVALID_ARGUMENT, "no records");
    lh_json_opts nd = {.layout = LH_JSON_NDJSON};
    expect_refused("", &nd, LH_INVALID_ARGUMENT, "no records");
    static const lh_column cols[] = {{.name = "a", .type = "VARCHAR"}};
    lh_json_opts ex = {.columns = cols, .ncolumns = 1};
    expect_refused("", &ex, LH_INVALID_ARGUMENT, "no records");
}

/* The fixture files of the API tests give the same answers. */
Test(json, fixture_refusals) {
    const char *names[] = {"empty_array.json", "empty.ndjson", "scalar.json"};
    const char *want[] = {"no records", "no records", "top-level scalar"};
    for (int i = 0; i < 3; i++) {
        char *src = fixture(names[i]);
        conv c = convert(src, NULL);
        cr_expect_eq(c.rc, -1, "%s", names[i]);
        cr_expect_eq(c.err.code, LH_INVALID_ARGUMENT, "%s", names[i]);
        cr_expect(strstr(c.err.message, want[i]) != NULL, "%s: %s", names[i], c.err.message);
        conv_free(&c);
        unlink(src);
        free(src);
    }
}

Test(json, non_records_refused) {
    expect_refused("42\n", NULL, LH_INVALID_ARGUMENT, "top-level scalar");
    expect_refused("\"text\"", NULL, LH_INVALID_ARGUMENT, "top-level scalar");
    expect_refused("[1, 2, 3]", NULL, LH_INVALID_ARGUMENT, "not JSON objects");
    expect_refused("{\"a\":1}\n7\n", NULL, LH_INVALID_ARGUMENT, "not every value");
}

Test(json, broken_json_refused) {
    lh_json_opts fl = {.flatten = true};
    expect_refused("[\n  {\"a\": 1, \"b\": [1, 2, 3}\n]\n", &fl, LH_INVALID_ARGUMENT,
                   "not usable JSON: ");
    expect_refused("{\"a\": 1,", NULL, LH_INVALID_ARGUMENT, "not usable JSON: ");
    expect_refused("{\"a\":1}\n{\"a\":2\n", NULL, LH_INVALID_ARGUMENT, "not usable JSON: ");
    /* DuckDB's reason is kept; its option hints and statement text are not */
    char *src = fixture("broken.json");
    conv c = convert(src, NULL);
    cr_expect_eq(c.rc, -1);
    cr_expect(strchr(c.err.message, '\n') == NULL, "%s", c.err.message);
    cr_expect(strstr(c.err.message, "Malformed JSON") != NULL, "%s", c.err.message);
    cr_expect(strstr(c.err.message, "LINE 1") == NULL, "%s", c.err.message);
    cr_expect(strstr(c.err.message, src) == NULL, "no server path: %s", c.err.message);
    cr_expect(strstr(c.err.message, "Malformed JSON, at byte") != NULL, "%s", c.err.message);
    conv_free(&c);
    unlink(src);
    free(src);
}

Test(json, missing_and_forbidden) {
    char *src = lh_storage_scratch_path(T.storage, ".json");
    conv c = convert(src, NULL);
    cr_expect_eq(c.rc, -1);
    cr_expect_eq(c.err.code, LH_NOT_FOUND, "%s: %s", lh_code_name(c.err.code), c.err.message);
    conv_free(&c);
    free(src);
    /* outside the engine's directories */
    c = convert("/etc/hostname", NULL);
    cr_expect_eq(c.rc, -1);
    cr_expect_eq(c.err.code, LH_FORBIDDEN, "%s: %s", lh_code_name(c.err.code), c.err.message);
    conv_free(&c);
}

Test(json, name_collisions_and_odd_keys) {
    const char *text = "{\"a\":{\"b\":1,\"x y\":\"s\",\"q\\\"t\":2},\"a_b\":3,\"A_B_2\":4,"
                       "\"m\":{\"k\":[{\"z\":1}]},\"n\":{\"o\":{\"p\":{\"q\":true}}}}\n";
    char *src = write_scratch(".json", text, strlen(text));
    lh_json_opts o = {.flatten = true};
    conv c = convert(src, &o);
    cr_assert_eq(c.rc, 0, "%s (%s)", c.err.message, c.err.detail);
    EXPECT_SCHEMA(c, "a_b_3 BIGINT, a_x y VARCHAR, a_q\"t BIGINT, a_b BIGINT, A_B_2 BIGINT, "
                     "m_k VARCHAR, n_o_p_q BOOLEAN");
    expect_rows(&c, "a_b_3, \"a_x y\", \"a_q\"\"t\", a_b, m_k, n_o_p_q",
                "[[1,\"s\",2,3,\"[{\\\"z\\\":1}]\",true]]");
    conv_free(&c);
    unlink(src);
    free(src);
}

/* A record shape missed by the sample of a large file is caught and redone over all. */
Test(json, large_file_late_shape_retried, .timeout = 240) {
    char *src = lh_storage_scratch_path(T.storage, ".ndjson");
    FILE *f = fopen(src, "wb");
    cr_assert_not_null(f);
    char pad[200];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    long n = 0;
    for (long bytes = 0; bytes < (70L << 20); n++)
        bytes += fprintf(f, "{\"id\":%ld,\"pad\":\"%s\"}\n", n, pad);
    fprintf(f, "{\"id\":\"not a number\",\"extra\":{\"e\":1}}\n");
    fclose(f);
    lh_json_opts o = {.flatten = true};
    conv c = convert(src, &o);
    cr_assert_eq(c.rc, 0, "%s", c.err.message);
    cr_expect_eq(c.rows, n + 1);
    cr_assert_eq(c.ncols, 3);
    cr_expect_str_eq(c.cols[2].name, "extra_e");
    conv_free(&c);
    unlink(src);
    free(src);
}

/* One pretty-printed object is one record; lists of scalars inside objects stay lists. */
Test(json, pretty_single_object) {
    const char *text = "{\n  \"id\": 7,\n  \"profile\": {\n    \"langs\": [\"c\", \"sql\"],\n"
                       "    \"scores\": [1.5, 2]\n  }\n}\n";
    char *src = write_scratch(".json", text, strlen(text));
    lh_json_opts o = {.flatten = true};
    conv c = convert(src, &o);
    cr_assert_eq(c.rc, 0, "%s", c.err.message);
    cr_expect_eq(c.rows, 1);
    EXPECT_SCHEMA(c, "id BIGINT, profile_langs VARCHAR[], profile_scores DOUBLE[]");
    expect_rows(&c, "profile_langs, profile_scores", "[[[\"c\",\"sql\"],[1.5,2]]]");
    conv_free(&c);
    unlink(src);
    free(src);
}
