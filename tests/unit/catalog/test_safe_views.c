/* AI-safe view definitions in the catalog: validation against the dataset, the normalised
 * stored form, persistence (file, reload at open, salt made once), generation bumps, drop. */
#include "test_util.h"

static json_t *parse(const char *text)
{
    lh_err err = LH_ERR_INIT;
    json_t *j = lh_json_parse(text, strlen(text), &err);
    cr_assert_not_null(j, "%s: %s", text, err.message);
    return j;
}

/* Creates a view from JSON text; returns the code (LH_OK on success). */
static lh_code create(tcat *t, const char *text)
{
    json_t *def = parse(text);
    lh_err err = LH_ERR_INIT;
    json_t *out = NULL;
    int rc = lh_catalog_create_view(t->c, def, &out, &err);
    json_decref(def);
    if (rc == 0) {
        cr_assert_not_null(out);
        json_decref(out);
        return LH_OK;
    }
    cr_assert_null(out);
    cr_assert_neq(err.code, LH_OK);
    return err.code;
}

Test(safe_views, create_normalise_reload_drop)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "staff", 4, 0);
    uint64_t g0 = lh_catalog_generation(t.c);
    json_t *def = parse("{\"name\":\"staff_safe\",\"dataset\":\"staff\",\"columns\":[\"id\","
                        "\"name\"],\"row_filter\":{\"column\":\"salary\",\"op\":\">\","
                        "\"value\":10},\"redactions\":{\"name\":{\"mask\":{\"keep_prefix\":1}}}}");
    lh_err err = LH_ERR_INIT;
    json_t *out = NULL;
    cr_assert_eq(lh_catalog_create_view(t.c, def, &out, &err), 0, "%s", err.message);
    json_decref(def);
    cr_expect_gt(lh_catalog_generation(t.c), g0);
    cr_expect(json_is_array(json_object_get(out, "row_filter")));
    cr_expect_eq(json_array_size(json_object_get(out, "row_filter")), 1);
    const json_t *m = json_object_get(json_object_get(json_object_get(out, "redactions"), "name"),
                                      "mask");
    cr_expect_eq(json_integer_value(json_object_get(m, "keep_prefix")), 1);
    cr_expect_eq(json_integer_value(json_object_get(m, "keep_suffix")), 0);
    cr_expect(json_is_string(json_object_get(out, "created_at")));
    json_decref(out);
    cr_expect_eq(tcat_count(&t, "_catalog/views/"), 2); /* the view and the salt */

    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_assert_eq(lh_catalog_snap_view_count(s), 1);
    cr_assert_not_null(lh_catalog_snap_find_view(s, "staff_safe"));
    const char *salt = lh_catalog_snap_views_salt(s);
    cr_assert_not_null(salt);
    cr_expect_eq(strlen(salt), 64);
    char salt0[65];
    memcpy(salt0, salt, 65);
    lh_catalog_snap_unref(s);

    /* an append keeps the views in the next snapshot */
    tcat_add_ok(&t, "staff", 2, 1);
    s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_view_count(s), 1);
    lh_catalog_snap_unref(s);

    tcat_reopen(&t);
    s = lh_catalog_snapshot(t.c);
    cr_assert_eq(lh_catalog_snap_view_count(s), 1);
    const json_t *v = lh_catalog_snap_view_at(s, 0);
    cr_expect_str_eq(json_string_value(json_object_get(v, "name")), "staff_safe");
    cr_expect_str_eq(json_string_value(json_object_get(v, "dataset")), "staff");
    cr_expect_str_eq(lh_catalog_snap_views_salt(s), salt0); /* made once */
    lh_catalog_snap_unref(s);

    cr_expect_eq(create(&t, "{\"name\":\"staff_safe\",\"dataset\":\"staff\",\"columns\":[\"id\"]}"),
                 LH_CONFLICT);
    uint64_t g1 = lh_catalog_generation(t.c);
    cr_assert_eq(lh_catalog_drop_view(t.c, "staff_safe", &err), 0, "%s", err.message);
    cr_expect_gt(lh_catalog_generation(t.c), g1);
    cr_expect_eq(lh_catalog_drop_view(t.c, "staff_safe", &err), -1);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_eq(tcat_count(&t, "_catalog/views/"), 1);
    tcat_reopen(&t);
    s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_view_count(s), 0);
    cr_expect_str_eq(lh_catalog_snap_views_salt(s), salt0);
    lh_catalog_snap_unref(s);
    tcat_fini(&t);
}

Test(safe_views, refusals)
{
    tcat t;
    tcat_init(&t);
    tcat_add_ok(&t, "staff", 4, 0);
    tcat_add_ok(&t, "other", 1, 0);
    static const struct {
        const char *def;
        lh_code code;
    } cases[] = {
        {"[]", LH_INVALID_ARGUMENT},
        {"{\"name\":\"Bad-Name\",\"dataset\":\"staff\",\"columns\":[\"id\"]}", LH_INVALID_ARGUMENT},
        {"{\"dataset\":\"staff\",\"columns\":[\"id\"]}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"nope\",\"columns\":[\"id\"]}", LH_NOT_FOUND},
        {"{\"name\":\"other\",\"dataset\":\"staff\",\"columns\":[\"id\"]}", LH_CONFLICT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[]}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"nope\"]}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\",\"id\"]}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"extra\":1}",
         LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"redactions\":"
         "{\"name\":\"hash\"}}", LH_INVALID_ARGUMENT}, /* not whitelisted */
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"redactions\":"
         "{\"id\":\"encrypt\"}}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"redactions\":"
         "{\"id\":{\"mask\":{\"keep_prefix\":-1}}}}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"row_filter\":"
         "{\"column\":\"id\",\"op\":\"; drop\",\"value\":1}}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"row_filter\":"
         "{\"column\":\"nope\",\"op\":\"=\",\"value\":1}}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"row_filter\":"
         "{\"column\":\"id\",\"op\":\"=\",\"value\":[1]}}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"row_filter\":"
         "{\"column\":\"id\",\"op\":\"=\"}}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"row_filter\":"
         "{\"column\":\"id\",\"op\":\"is null\",\"value\":1}}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"row_filter\":"
         "{\"column\":\"id\",\"op\":\"in\",\"value\":[]}}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"row_filter\":"
         "{\"column\":\"id\",\"op\":\"like\",\"value\":5}}", LH_INVALID_ARGUMENT},
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"row_filter\":"
         "\"id = 1 OR 1=1\"}", LH_INVALID_ARGUMENT}, /* never free SQL text */
        {"{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],\"row_filter\":"
         "{\"column\":\"id\",\"op\":\"=\",\"value\":1,\"sql\":\"x\"}}", LH_INVALID_ARGUMENT},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(cases); i++)
        cr_expect_eq(create(&t, cases[i].def), cases[i].code, "case %zu: %s", i, cases[i].def);
    lh_catalog_snap *s = lh_catalog_snapshot(t.c);
    cr_expect_eq(lh_catalog_snap_view_count(s), 0);
    lh_catalog_snap_unref(s);
    cr_expect_eq(tcat_count(&t, "_catalog/views/"), 0); /* the salt comes with the first view */
    cr_expect_eq(create(&t, "{\"name\":\"v\",\"dataset\":\"staff\",\"columns\":[\"id\"],"
                            "\"row_filter\":[{\"column\":\"name\",\"op\":\"in\",\"value\":"
                            "[\"a\",1,2.5,true]},{\"column\":\"id\",\"op\":\"is not null\"}]}"),
                 LH_OK);
    tcat_fini(&t);
}
