/* Unit tests for src/storage/registry.c, rescue.c and journal.c: bucket roles at open, run-time
 * provisioning that survives a reopen, forgetting and its refusals, the rescue bucket's
 * refusal of dataset keys, rescue copies and read fallback, the error journal (tail order,
 * rotation) and the bucket probe. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage.h"

static char g_dir[64];
static char g_rescue[128];
static char g_arch[128];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/lh-rescue-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    snprintf(g_rescue, sizeof g_rescue, "%s/rescue-root", g_dir);
    snprintf(g_arch, sizeof g_arch, "%s/arch-root", g_dir);
}

static void teardown(void)
{
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_remove_tree(g_dir, &err), 0, "%s", err.message);
}

TestSuite(rescue, .init = setup, .fini = teardown);

static lh_storage *open_roles(void)
{
    lh_bucket_spec specs[] = {{.name = "arch", .root = g_arch},
                              {.name = "safe", .root = g_rescue, .role = "rescue"}};
    lh_err err = LH_ERR_INIT;
    lh_storage *s = lh_storage_open_with(g_dir, specs, 2, &err);
    cr_assert_not_null(s, "%s", err.message);
    return s;
}

Test(rescue, roles_at_open)
{
    lh_storage *s = open_roles();
    lh_err err = LH_ERR_INIT;
    lh_bucket *r = lh_storage_rescue(s);
    cr_assert_not_null(r);
    cr_expect_str_eq(lh_bucket_name(r), "safe");
    cr_expect_str_eq(lh_bucket_role(r), "rescue");
    cr_expect_str_eq(lh_bucket_role(lh_storage_bucket(s, "arch", &err)), "data");
    /* the rescue bucket never takes a dataset's files */
    cr_expect_neq(lh_bucket_put(r, "datasets/t/_delta_log/0.json", "x", 1, &err), 0);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_eq(lh_bucket_put(r, "arch/datasets/t", "x", 1, &err), 0, "%s", err.message);
    lh_storage_close(s);

    lh_bucket_spec two[] = {{.name = "a", .root = "a", .role = "rescue"},
                            {.name = "b", .root = "b", .role = "rescue"}};
    cr_expect_null(lh_storage_open_with(g_dir, two, 2, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    lh_bucket_spec prim[] = {{.name = "primary", .root = "p", .role = "rescue"}};
    cr_expect_null(lh_storage_open_with(g_dir, prim, 1, &err));
    cr_expect(strstr(err.message, "primary") != NULL, "%s", err.message);
    lh_bucket_spec bad[] = {{.name = "a", .root = "a", .role = "hot"}};
    cr_expect_null(lh_storage_open_with(g_dir, bad, 1, &err));
}

Test(rescue, provision_survives_reopen_and_forget_sticks)
{
    lh_storage *s = open_roles();
    lh_err err = LH_ERR_INIT;
    lh_bucket *b = lh_storage_provision(s, "cold", NULL, NULL, &err);
    cr_assert_not_null(b, "%s", err.message);
    cr_expect_str_eq(lh_bucket_role(b), "data");
    cr_expect_eq(lh_bucket_put(b, "k", "v", 1, &err), 0, "%s", err.message);
    cr_expect_null(lh_storage_provision(s, "cold", NULL, NULL, &err));
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_null(lh_storage_provision(s, "r2", NULL, "rescue", &err));
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_null(lh_storage_provision(s, "Bad", NULL, NULL, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect_null(lh_storage_provision(s, "x", NULL, "other", &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    size_t before = lh_storage_bucket_count(s);
    lh_storage_close(s);

    s = open_roles();
    cr_expect_eq(lh_storage_bucket_count(s), before);
    b = lh_storage_bucket(s, "cold", &err);
    cr_assert_not_null(b, "%s", err.message);
    cr_expect(lh_bucket_exists(b, "k"));
    cr_expect_neq(lh_storage_forget(s, "primary", &err), 0);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_neq(lh_storage_forget(s, "safe", &err), 0);
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_neq(lh_storage_forget(s, "arch", &err), 0); /* configured */
    cr_expect_eq(err.code, LH_CONFLICT);
    cr_expect_neq(lh_storage_forget(s, "nope", &err), 0);
    cr_expect_eq(err.code, LH_NOT_FOUND);
    cr_expect_eq(lh_bucket_put(b, "datasets/t/x.parquet", "p", 1, &err), 0, "%s", err.message);
    cr_expect_neq(lh_storage_forget(s, "cold", &err), 0); /* holds a dataset */
    cr_expect(strstr(err.message, "datasets") != NULL, "%s", err.message);
    cr_expect_eq(lh_bucket_delete(b, "datasets/t/x.parquet", &err), 0, "%s", err.message);
    cr_expect_eq(lh_storage_forget(s, "cold", &err), 0, "%s", err.message);
    cr_expect_null(lh_storage_bucket(s, "cold", &err));
    cr_expect_eq(lh_storage_bucket_count(s), before - 1);
    /* the forgotten slot still answers through an old pointer */
    cr_expect_str_eq(lh_bucket_name(b), "cold");
    lh_storage_close(s);

    s = open_roles(); /* buckets/cold is still on disk, but not rediscovered */
    cr_expect_null(lh_storage_bucket(s, "cold", &err));
    char path[256];
    snprintf(path, sizeof path, "%s/buckets/cold/k", g_dir);
    cr_expect_eq(access(path, F_OK), 0);
    /* provisioning the name again brings it back */
    cr_expect_not_null(lh_storage_provision(s, "cold", NULL, NULL, &err), "%s", err.message);
    /* a bucket whose root vanished can still be forgotten */
    lh_bucket *gone = lh_storage_provision(s, "gone", NULL, NULL, &err);
    cr_assert_not_null(gone, "%s", err.message);
    lh_err rm = LH_ERR_INIT;
    cr_assert_eq(lh_remove_tree(lh_bucket_root(gone), &rm), 0, "%s", rm.message);
    cr_expect_eq(lh_storage_forget(s, "gone", &err), 0, "%s", err.message);
    lh_storage_close(s);
}

Test(rescue, copy_and_fallback)
{
    lh_storage *s = open_roles();
    lh_err err = LH_ERR_INIT;
    lh_bucket *a = lh_storage_bucket(s, "arch", &err);
    cr_assert_eq(lh_bucket_put(a, "d/k.txt", "hello", 5, &err), 0, "%s", err.message);
    bool copied = false;
    cr_expect_eq(lh_bucket_rescue_copy(a, "d/k.txt", &copied, &err), 0, "%s", err.message);
    cr_expect(copied);
    char path[256];
    snprintf(path, sizeof path, "%s/arch/d/k.txt", g_rescue);
    cr_expect_eq(access(path, F_OK), 0);
    /* the rescue bucket itself gets no copy */
    cr_expect_eq(lh_bucket_rescue_copy(lh_storage_rescue(s), "arch/d/k.txt", &copied, &err), 0);
    cr_expect(!copied);

    uint64_t size = 0;
    bool used = true;
    int fd = lh_bucket_open_read_rescue(a, "d/k.txt", &size, &used, &err);
    cr_assert_geq(fd, 0, "%s", err.message);
    cr_expect(!used);
    close(fd);

    lh_err rm = LH_ERR_INIT;
    cr_assert_eq(lh_remove_tree(g_arch, &rm), 0, "%s", rm.message);
    fd = lh_bucket_open_read_rescue(a, "d/k.txt", &size, &used, &err);
    cr_assert_geq(fd, 0, "%s", err.message);
    cr_expect(used);
    cr_expect_eq(size, 5);
    char buf[8] = {0};
    cr_expect_eq(read(fd, buf, sizeof buf), 5);
    cr_expect_str_eq(buf, "hello");
    close(fd);
    cr_expect_lt(lh_bucket_open_read_rescue(a, "none", &size, &used, &err), 0);
    cr_expect_eq(err.code, LH_UNAVAILABLE, "%s", err.message);
    cr_expect_neq(lh_bucket_check_reachable(a, &err), 0);
    cr_expect_eq(err.code, LH_UNAVAILABLE);

    json_t *j = lh_storage_journal_tail(s, 10, &err);
    cr_assert_not_null(j, "%s", err.message);
    cr_expect_eq(json_array_size(j), 2);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "key")), "none");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(j, 1), "key")), "d/k.txt");
    json_decref(j);

    double ms = -1;
    cr_expect_neq(lh_bucket_probe(a, &ms, &err), 0);
    cr_expect_geq(ms, 0);
    cr_expect_eq(lh_bucket_probe(lh_storage_bucket(s, "primary", NULL), &ms, &err), 0, "%s",
                 err.message);
    /* deleting the copy; a missing copy is fine */
    cr_expect_eq(lh_bucket_rescue_delete(a, "d/k.txt", &err), 0, "%s", err.message);
    cr_expect_neq(access(path, F_OK), 0);
    cr_expect_eq(lh_bucket_rescue_delete(a, "d/k.txt", &err), 0, "%s", err.message);
    lh_storage_close(s);
}

Test(rescue, journal_rotates)
{
    lh_storage *s = open_roles();
    char path[256], old[300];
    snprintf(path, sizeof path, "%s/_errors/bucket_errors.jsonl", g_dir);
    snprintf(old, sizeof old, "%s.1", path);
    lh_err e = LH_ERR_INIT;
    lh_err_set(&e, LH_IO_ERROR, "first");
    lh_storage_journal(s, "arch", "read", "k1", &e);
    /* grow it past the ceiling */
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, LH_STORAGE_JOURNAL_MAX + 10), 0);
    close(fd);
    lh_err_set(&e, LH_IO_ERROR, "second");
    lh_storage_journal(s, "arch", "write", NULL, &e);
    struct stat st;
    cr_expect_eq(stat(old, &st), 0);
    cr_expect_eq(stat(path, &st), 0);
    cr_expect_lt(st.st_size, 1024);
    lh_err err = LH_ERR_INIT;
    json_t *j = lh_storage_journal_tail(s, 1, &err);
    cr_assert_not_null(j, "%s", err.message);
    cr_expect_eq(json_array_size(j), 1);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "error")), "second");
    cr_expect(json_is_null(json_object_get(json_array_get(j, 0), "key")) ||
              !json_object_get(json_array_get(j, 0), "key"));
    json_decref(j);
    lh_storage_close(s);
}

static void write_secrets(const char *text, mode_t mode)
{
    char path[128];
    snprintf(path, sizeof path, "%s/secrets.toml", g_dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
}

Test(rescue, secrets_file_mode_and_shape)
{
    lh_err err = LH_ERR_INIT;
    write_secrets("[buckets.primary]\naccess_key = \"AK\"\nsecret_key = \"TOPSECRET\"\n", 0644);
    cr_expect_null(lh_storage_open(g_dir, &err));
    cr_expect_eq(err.code, LH_INVALID_ARGUMENT);
    cr_expect(strstr(err.message, "secrets.toml") && strstr(err.message, "0644"), "%s",
              err.message);
    cr_expect_null(strstr(err.message, "TOPSECRET"));

    write_secrets("[buckets.primary]\naccess_key = \"AK\"\nsecret_key = \"TOPSECRET\"\n", 0600);
    lh_storage *s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(s, "%s", err.message);
    cr_expect_str_eq(lh_storage_bucket_secret(s, "primary", "secret_key"), "TOPSECRET");
    cr_expect_null(lh_storage_bucket_secret(s, "other", "secret_key"));
    lh_storage_close(s);

    write_secrets("[buckets.primary]\npassword = \"TOPSECRET\"\n", 0400);
    cr_expect_null(lh_storage_open(g_dir, &err));
    cr_expect_null(strstr(err.message, "TOPSECRET"));
    write_secrets("[buckets.primary\nsecret_key = \"TOPSECRET\n", 0600);
    cr_expect_null(lh_storage_open(g_dir, &err));
    cr_expect(strstr(err.message, "not valid TOML") != NULL, "%s", err.message);
    cr_expect_null(strstr(err.message, "TOPSECRET"));
    cr_expect_null(strstr(err.detail, "TOPSECRET"));

    /* Model server keys: [embed] and [generate] api_key, nothing else in those tables. */
    write_secrets("[embed]\napi_key = \"EMB\"\n[generate]\napi_key = \"GEN\"\n", 0600);
    s = lh_storage_open(g_dir, &err);
    cr_assert_not_null(s, "%s", err.message);
    cr_expect_str_eq(lh_storage_model_secret(s, "embed"), "EMB");
    cr_expect_str_eq(lh_storage_model_secret(s, "generate"), "GEN");
    cr_expect_null(lh_storage_model_secret(s, "rerank"));
    lh_storage_close(s);
    write_secrets("[embed]\nurl = \"TOPSECRET\"\n", 0600);
    cr_expect_null(lh_storage_open(g_dir, &err));
    cr_expect(strstr(err.message, "[embed] may only have api_key") != NULL, "%s", err.message);
    cr_expect_null(strstr(err.message, "TOPSECRET"));
    write_secrets("[other]\napi_key = \"TOPSECRET\"\n", 0600);
    cr_expect_null(lh_storage_open(g_dir, &err));
    cr_expect_null(strstr(err.message, "TOPSECRET"));
}
