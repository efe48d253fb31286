/* Archive extraction, the limits and the failures: member count, total bytes (a zip bomb
 * stops while streaming), encrypted members, corrupt and empty archives, an injected write
 * error; each failure leaves no file in scratch. */
#include "archive_fixture.h"

TestSuite(archive_limits, .init = setup, .fini = teardown, .timeout = 60);

Test(archive_limits, member_count_limit)
{
    char *path = lh_xasprintf("%s/many.tgz", adir);
    struct archive *a = writer_open(path, "tgz", NULL);
    for (int i = 0; i <= LH_ARCHIVE_MAX_MEMBERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%05d.csv", i);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 2);
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
        cr_assert_eq(archive_write_data(a, "x\n", 2), 2);
        archive_entry_free(e);
    }
    writer_close(a);
    expect_failure(path, 1 << 30, LH_TOO_LARGE, "more than 10000 files");
    free(path);
}

Test(archive_limits, exactly_the_member_limit_is_fine, .timeout = 120)
{
    char *path = lh_xasprintf("%s/limit.tar", adir);
    struct archive *a = writer_open(path, "tar", NULL);
    for (int i = 0; i < LH_ARCHIVE_MAX_MEMBERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "d/f%05d", i);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 0);
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
        archive_entry_free(e);
    }
    writer_close(a);
    lh_archive_member *m = NULL;
    size_t n = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(extract(path, 1 << 20, &m, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, LH_ARCHIVE_MAX_MEMBERS);
    lh_ingest__archive_members_free(m, n);
    cr_assert_eq(scratch_count(), 0);
    free(path);
}

Test(archive_limits, total_bytes_limit_across_members)
{
    ent es[] = {{"a.csv", F, CSV, NULL}, {"b.csv", F, CSV, NULL}, {"c.csv", F, CSV, NULL}};
    char *path = make_archive("three.zip", "zip", es, LH_ARRAY_LEN(es), NULL);
    /* Two members fit, the third does not: the two already extracted are removed. */
    expect_failure(path, 2 * strlen(CSV) + 1, LH_TOO_LARGE, "member 'c.csv'");
    /* Exactly the cap is allowed. */
    lh_archive_member *m = NULL;
    size_t n = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(extract(path, 3 * strlen(CSV), &m, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 3);
    lh_ingest__archive_members_free(m, n);
    free(path);
}

Test(archive_limits, big_member_refused_by_its_header)
{
    char *path = make_big("big.tar.gz", "tgz", "zeros.csv", (size_t)100 << 20);
    double t0 = lh_mono_ms();
    expect_failure(path, 1 << 20, LH_TOO_LARGE, "more than 1048576 bytes");
    cr_assert_lt(lh_mono_ms() - t0, 2000.0);
    free(path);
}

Test(archive_limits, zip_bomb_stops_while_streaming)
{
    /* A 100 MiB member whose headers claim 100 bytes: only counting while streaming can
     * catch it. Both the local header (uncompressed size at +22) and the central directory
     * entry (+24) are rewritten. */
    char *path = make_big("bomb.zip", "zip", "bomb.csv", (size_t)100 << 20);
    size_t len = 0;
    lh_err err = LH_ERR_INIT;
    unsigned char *z = (unsigned char *)lh_file_read_all(path, 16 << 20, &len, &err);
    cr_assert_not_null(z, "%s", err.message);
    size_t local = find_sig(z, len, 0, "PK\x03\x04");
    size_t central = find_sig(z, len, 0, "PK\x01\x02");
    cr_assert(local < len && central < len);
    uint32_t claimed = (uint32_t)z[central + 24] | (uint32_t)z[central + 25] << 8 |
                       (uint32_t)z[central + 26] << 16 | (uint32_t)z[central + 27] << 24;
    cr_assert_eq(claimed, 100u << 20, "unexpected zip layout (zip64?)");
    put_le32(z + central + 24, 100);
    if (z[local + 22] | z[local + 23] | z[local + 24] | z[local + 25])
        put_le32(z + local + 22, 100);
    overwrite(path, z, len);
    free(z);

    double t0 = lh_mono_ms();
    lh_archive_member *m = NULL;
    size_t n = 0;
    cr_assert_eq(extract(path, 1 << 20, &m, &n, &err), -1);
    cr_assert_lt(lh_mono_ms() - t0, 2000.0);
    cr_assert_eq(err.code, LH_TOO_LARGE, "%s", err.message);
    cr_assert(strstr(err.message, "member 'bomb.csv'"), "%s", err.message);
    /* Stopped while streaming, within one buffer of the cap, not at the header. */
    cr_assert(strstr(err.detail, "stopped after"), "detail '%s'", err.detail);
    cr_assert_null(m);
    cr_assert_eq(scratch_count(), 0);
    free(path);
}

Test(archive_limits, encrypted_zip_member)
{
    ent es[] = {{"secret.csv", F, CSV, NULL}};
    wopts o = {.options = "zip:encryption=zipcrypt", .passphrase = "hunter2"};
    char *path = make_archive("locked.zip", "zip", es, 1, &o);
    expect_failure(path, 1 << 20, LH_INVALID_ARGUMENT,
                   "'locked.zip' member 'secret.csv' is encrypted");
    free(path);

    /* A plain member before the encrypted one is removed again. libarchive's writer
     * encrypts all or nothing, so the second member is marked encrypted by hand: general
     * purpose flag bit 0, in its local header (+6) and central directory entry (+8). */
    ent two[] = {{"open.csv", F, CSV, NULL}, {"closed.csv", F, CSV, NULL}};
    path = make_archive("mixed.zip", "zip", two, 2, NULL);
    size_t len = 0;
    char *z = slurp(path, &len);
    const unsigned char *u = (const unsigned char *)z;
    size_t local = find_sig(u, len, find_sig(u, len, 0, "PK\x03\x04") + 4, "PK\x03\x04");
    size_t central = find_sig(u, len, find_sig(u, len, 0, "PK\x01\x02") + 4, "PK\x01\x02");
    cr_assert(local < len && central < len);
    z[local + 6] |= 1;
    z[central + 8] |= 1;
    overwrite(path, z, len);
    free(z);
    expect_failure(path, 1 << 20, LH_INVALID_ARGUMENT, "member 'closed.csv' is encrypted");
    free(path);
}

static void truncate_half(const char *path)
{
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(truncate(path, sb.st_size / 2), 0);
}

Test(archive_limits, corrupt_archives)
{
    /* Members big enough that half the archive cuts through data. */
    char *big = malloc(200001);
    cr_assert_not_null(big);
    for (size_t i = 0; i < 200000; i++)
        big[i] = (char)('a' + (i * 7919 % 26));
    big[200000] = '\0';
    ent es[] = {{"a.csv", F, big, NULL}, {"b.csv", F, big, NULL}};

    char *path = make_archive("cut.tar.gz", "tgz", es, 2, NULL);
    truncate_half(path);
    expect_failure(path, 1 << 30, LH_INVALID_ARGUMENT, "'cut.tar.gz'");
    free(path);

    path = make_archive("cut.zip", "zip", es, 2, NULL);
    truncate_half(path);
    expect_failure(path, 1 << 30, LH_INVALID_ARGUMENT, "'cut.zip'");
    free(path);

    /* Flipped bytes in the middle of compressed data. */
    path = make_archive("flipped.zip", "zip", es, 1, NULL);
    size_t len = 0;
    char *z = slurp(path, &len);
    for (size_t i = len / 3; i < len / 3 + 64; i++)
        z[i] = (char)~z[i];
    overwrite(path, z, len);
    free(z);
    expect_failure(path, 1 << 30, LH_INVALID_ARGUMENT, "'flipped.zip'");
    free(path);

    /* Not an archive at all. */
    path = lh_xasprintf("%s/plain.zip", adir);
    overwrite(path, "id,name\n1,not a zip\n", 20);
    expect_failure(path, 1 << 30, LH_INVALID_ARGUMENT, "'plain.zip' is not a readable archive");
    free(path);
    free(big);
}

Test(archive_limits, empty_archives)
{
    char *path = make_archive("empty.zip", "zip", NULL, 0, NULL);
    expect_failure(path, 1 << 20, LH_INVALID_ARGUMENT, "'empty.zip' contains no files");
    free(path);
    ent dirs[] = {{"a/", D, NULL, NULL}, {"a/b/", D, NULL, NULL}};
    path = make_archive("dirs.tgz", "tgz", dirs, 2, NULL);
    expect_failure(path, 1 << 20, LH_INVALID_ARGUMENT, "'dirs.tgz' contains no files");
    free(path);
    /* A zero-byte file is not an archive of anything. */
    path = lh_xasprintf("%s/zero.tar", adir);
    overwrite(path, "", 0);
    expect_failure(path, 1 << 20, LH_INVALID_ARGUMENT, "'zero.tar' is empty");
    free(path);
}

Test(archive_limits, missing_archive_is_io_error)
{
    char *path = lh_xasprintf("%s/nope.zip", adir);
    expect_failure(path, 1 << 20, LH_IO_ERROR, "'nope.zip'");
    free(path);
}

Test(archive_limits, write_fault_leaves_nothing)
{
    ent es[] = {{"a.csv", F, CSV, NULL}, {"b.csv", F, CSV, NULL}, {"c.csv", F, CSV, NULL}};
    char *path = make_archive("fault.tgz", "tgz", es, LH_ARRAY_LEN(es), NULL);
    cr_assert_eq(setenv("LH_FAULT", "write:2", 1), 0);
    lh_fault_reset();
    expect_failure(path, 1 << 20, LH_IO_ERROR, "member 'b.csv'");
    cr_assert_eq(unsetenv("LH_FAULT"), 0);
    lh_fault_reset();
    /* Without the fault the same archive extracts. */
    lh_archive_member *m = NULL;
    size_t n = 0;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(extract(path, 1 << 20, &m, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 3);
    lh_ingest__archive_members_free(m, n);
    free(path);
}
