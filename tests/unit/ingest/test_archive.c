/* Archive extraction, the working paths: zip and tar(.gz) members land in scratch byte for
 * byte; member names never shape paths; links, directories and macOS junk are skipped. */
#include "archive_fixture.h"

TestSuite(archive, .init = setup, .fini = teardown, .timeout = 60);

static void several_members(const char *file, const char *fmt)
{
    ent es[] = {
        {"data/", D, NULL, NULL},
        {"data/people.csv", F, CSV, NULL},
        {"data/nested/rows.json", F, JSON, NULL},
        {"notes.TXT", F, TXT, NULL},
        {"README", F, "no extension\n", NULL},
        {"empty.csv", F, "", NULL},
    };
    char *path = make_archive(file, fmt, es, LH_ARRAY_LEN(es), NULL);
    lh_archive_member *m = NULL;
    size_t n = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(extract(path, 1 << 20, &m, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 5);
    check_member(m, n, "data/people.csv", CSV, ".csv");
    check_member(m, n, "data/nested/rows.json", JSON, ".json");
    check_member(m, n, "notes.TXT", TXT, ".TXT");
    check_member(m, n, "README", "no extension\n", "");
    check_member(m, n, "empty.csv", "", ".csv");
    cr_assert_eq(scratch_count(), 5);
    /* The archive itself is read, never consumed. */
    cr_assert_eq(access(path, F_OK), 0);
    lh_ingest__archive_members_free(m, n);
    cr_assert_eq(scratch_count(), 0);
    free(path);
}

Test(archive, zip_members_byte_for_byte) { several_members("several.zip", "zip"); }
Test(archive, tar_members_byte_for_byte) { several_members("several.tar", "tar"); }
Test(archive, tar_gz_members_byte_for_byte) { several_members("several.tar.gz", "tgz"); }
Test(archive, tgz_members_byte_for_byte) { several_members("several.tgz", "tgz"); }

Test(archive, links_and_directories_are_skipped)
{
    ent es[] = {
        {"dir/", D, NULL, NULL},
        {"dir/real.csv", F, CSV, NULL},
        {"dir/link.csv", L, NULL, "/etc/passwd"},
        {"dir/hard.csv", H, NULL, "dir/real.csv"},
        {"dir/sub/", D, NULL, NULL},
    };
    char *path = make_archive("links.tar", "tar", es, LH_ARRAY_LEN(es), NULL);
    lh_archive_member *m = NULL;
    size_t n = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(extract(path, 1 << 20, &m, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 1);
    check_member(m, n, "dir/real.csv", CSV, ".csv");
    lh_ingest__archive_members_free(m, n);
    cr_assert_eq(scratch_count(), 0);
    free(path);

    /* zip symlinks too. */
    ent zs[] = {{"a.csv", F, CSV, NULL}, {"b.csv", L, NULL, "../../etc/shadow"}};
    path = make_archive("links.zip", "zip", zs, LH_ARRAY_LEN(zs), NULL);
    cr_assert_eq(extract(path, 1 << 20, &m, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 1);
    check_member(m, n, "a.csv", CSV, ".csv");
    lh_ingest__archive_members_free(m, n);
    free(path);
}

Test(archive, hostile_names_stay_in_scratch)
{
    ent es[] = {
        {"../../etc/evil.csv", F, CSV, NULL},
        {"/etc/abs.json", F, JSON, NULL},
        {"x/../../../up.txt", F, TXT, NULL},
        {"odd.c$v;rm -rf", F, "a\n", NULL},
        {"long.abcdefghijklmnopqrstuvwxyz", F, "b\n", NULL},
        {"ctl\x01name.csv", F, "c\n", NULL},
        {"inner.tar.gz", F, "not really gzip\n", NULL},
    };
    char *path = make_archive("evil.tar", "tar", es, LH_ARRAY_LEN(es), NULL);
    lh_archive_member *m = NULL;
    size_t n = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(extract(path, 1 << 20, &m, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 7);
    check_member(m, n, "../../etc/evil.csv", CSV, ".csv");
    check_member(m, n, "/etc/abs.json", JSON, ".json");
    check_member(m, n, "x/../../../up.txt", TXT, ".txt");
    /* Only [A-Za-z0-9.] of the extension survive, at most 16 bytes of it. */
    check_member(m, n, "odd.c$v;rm -rf", "a\n", ".cvrmrf");
    check_member(m, n, "long.abcdefghijklmnopqrstuvwxyz", "b\n", ".abcdefghijklmno");
    /* Control characters are not carried into the recorded name. */
    check_member(m, n, "ctl?name.csv", "c\n", ".csv");
    /* A nested archive is a plain file, with its double extension kept as the hint. */
    check_member(m, n, "inner.tar.gz", "not really gzip\n", ".tar.gz");
    char *escaped = lh_xasprintf("%s/../etc/evil.csv", adir);
    cr_assert_neq(access(escaped, F_OK), 0);
    free(escaped);
    lh_ingest__archive_members_free(m, n);
    cr_assert_eq(scratch_count(), 0);
    free(path);
}

Test(archive, macos_junk_is_skipped)
{
    ent es[] = {
        {"__MACOSX/", D, NULL, NULL},
        {"__MACOSX/._sales.csv", F, "\x00\x05\x16\x07junk", NULL},
        {"deep/__MACOSX/x.csv", F, "junk", NULL},
        {"._sales.csv", F, "junk", NULL},
        {"folder/.DS_Store", F, "junk", NULL},
        {".DS_Store", F, "junk", NULL},
        {"sales.csv", F, CSV, NULL},
    };
    char *path = make_archive("mac.zip", "zip", es, LH_ARRAY_LEN(es), NULL);
    lh_archive_member *m = NULL;
    size_t n = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(extract(path, 1 << 20, &m, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 1);
    check_member(m, n, "sales.csv", CSV, ".csv");
    lh_ingest__archive_members_free(m, n);
    free(path);

    /* An archive of nothing but junk holds no files. */
    path = make_archive("onlyjunk.zip", "zip", es, 6, NULL);
    expect_failure(path, 1 << 20, LH_INVALID_ARGUMENT, "contains no files");
    free(path);
}

Test(archive, members_free_tolerates_moved_files)
{
    ent es[] = {{"a.csv", F, CSV, NULL}, {"b.csv", F, CSV, NULL}};
    char *path = make_archive("moved.zip", "zip", es, 2, NULL);
    lh_archive_member *m = NULL;
    size_t n = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(extract(path, 1 << 20, &m, &n, &err), 0, "%s", err.message);
    cr_assert_eq(unlink(m[0].path), 0); /* as if the catalog adopted it */
    lh_ingest__archive_members_free(m, n);
    cr_assert_eq(scratch_count(), 0);
    lh_ingest__archive_members_free(NULL, 0);
    free(path);
}
