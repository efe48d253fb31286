/* Shared set-up for the archive tests: a storage in a fresh temp data dir, archives made
 * with libarchive's writer (so each test states exactly what it holds), and checks that an
 * extraction put the right bytes in scratch or, on failure, left nothing. */
#ifndef LH_TEST_ARCHIVE_FIXTURE_H
#define LH_TEST_ARCHIVE_FIXTURE_H

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

/* Not every test file uses every helper. */
#define AX_FN static __attribute__((unused))

static char adir[64];
static lh_storage *st;

AX_FN void setup(void)
{
    snprintf(adir, sizeof adir, "/tmp/lh-archive-XXXXXX");
    cr_assert_not_null(mkdtemp(adir));
    lh_err err = LH_ERR_INIT;
    st = lh_storage_open(adir, &err);
    cr_assert_not_null(st, "storage open: %s", err.message);
}

AX_FN void teardown(void)
{
    lh_storage_close(st);
    st = NULL;
    lh_err err = LH_ERR_INIT;
    if (lh_remove_tree(adir, &err) != 0)
        cr_log_warn("cannot remove '%s': %s", adir, err.message);
}

AX_FN int scratch_count(void)
{
    DIR *d = opendir(lh_storage_work_dir(st));
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

enum { F, D, L, H }; /* file, directory, symlink, hard link */
typedef struct ent {
    const char *name;
    int type;
    const char *data; /* file contents (NUL-terminated text) */
    const char *link; /* symlink or hard-link target */
} ent;

typedef struct wopts {
    const char *options;    /* archive_write_set_options */
    const char *passphrase;
} wopts;

AX_FN struct archive *writer_open(const char *path, const char *fmt, const wopts *o)
{
    struct archive *a = archive_write_new();
    cr_assert_not_null(a);
    if (strcmp(fmt, "zip") == 0) {
        cr_assert_eq(archive_write_set_format_zip(a), ARCHIVE_OK);
    } else {
        cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        if (strcmp(fmt, "tgz") == 0)
            cr_assert_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    }
    if (o && o->options)
        cr_assert_eq(archive_write_set_options(a, o->options), ARCHIVE_OK, "%s",
                     archive_error_string(a));
    if (o && o->passphrase)
        cr_assert_eq(archive_write_set_passphrase(a, o->passphrase), ARCHIVE_OK);
    cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK, "%s",
                 archive_error_string(a));
    return a;
}

AX_FN void writer_close(struct archive *a)
{
    cr_assert_eq(archive_write_close(a), ARCHIVE_OK, "%s", archive_error_string(a));
    archive_write_free(a);
}

/* Writes <adir>/<file> in fmt ("zip", "tar", "tgz") holding es; returns the owned path. */
AX_FN char *make_archive(const char *file, const char *fmt, const ent *es, size_t n,
                          const wopts *o)
{
    char *path = lh_xasprintf("%s/%s", adir, file);
    struct archive *a = writer_open(path, fmt, o);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, es[i].name);
        archive_entry_set_mtime(e, 1700000000, 0);
        size_t len = es[i].data ? strlen(es[i].data) : 0;
        switch (es[i].type) {
        case F:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, (la_int64_t)len);
            break;
        case D:
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
            break;
        case L:
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, es[i].link);
            break;
        case H:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_hardlink(e, es[i].link);
            archive_entry_set_size(e, 0);
            break;
        }
        cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK, "%s", archive_error_string(a));
        if (len)
            cr_assert_eq(archive_write_data(a, es[i].data, len), (la_ssize_t)len);
        archive_entry_free(e);
    }
    writer_close(a);
    return path;
}

/* An archive with one member of `size` zero bytes, written in 1 MiB chunks. */
AX_FN char *make_big(const char *file, const char *fmt, const char *member, size_t size)
{
    char *path = lh_xasprintf("%s/%s", adir, file);
    wopts o = {.options = strcmp(fmt, "zip") == 0 ? "zip:compression-level=1" : NULL};
    struct archive *a = writer_open(path, fmt, &o);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, member);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
    char *zeros = calloc(1, 1 << 20);
    cr_assert_not_null(zeros);
    for (size_t done = 0; done < size; done += 1 << 20)
        cr_assert_eq(archive_write_data(a, zeros, 1 << 20), 1 << 20);
    free(zeros);
    archive_entry_free(e);
    writer_close(a);
    return path;
}

AX_FN char *slurp(const char *path, size_t *len)
{
    lh_err err = LH_ERR_INIT;
    char *data = lh_file_read_all(path, 1 << 20, len, &err);
    cr_assert_not_null(data, "%s: %s", path, err.message);
    return data;
}

AX_FN const lh_archive_member *find_member(const lh_archive_member *m, size_t n,
                                            const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].name, name) == 0)
            return &m[i];
    cr_assert_fail("member '%s' not extracted", name);
    return NULL;
}

/* The member was extracted into this process's scratch dir, with the given suffix and
 * exactly the given bytes. */
AX_FN void check_member(const lh_archive_member *m, size_t n, const char *name,
                         const char *data, const char *suffix)
{
    const lh_archive_member *x = find_member(m, n, name);
    const char *work = lh_storage_work_dir(st);
    cr_assert(lh_str_has_prefix(x->path, work) && x->path[strlen(work)] == '/' &&
                  strchr(x->path + strlen(work) + 1, '/') == NULL,
              "'%s' extracted outside scratch: %s", name, x->path);
    cr_assert(lh_str_has_suffix(x->path, suffix), "'%s' path %s lacks suffix '%s'", name,
              x->path, suffix);
    size_t len = 0;
    char *got = slurp(x->path, &len);
    cr_assert_eq(len, strlen(data), "'%s' has %zu bytes", name, len);
    cr_assert_eq(x->size, len);
    cr_assert_eq(memcmp(got, data, len), 0, "'%s' content differs", name);
    free(got);
}

AX_FN int extract(const char *path, uint64_t max, lh_archive_member **m, size_t *n,
                   lh_err *err)
{
    return lh_ingest__archive_extract(st, path, NULL, max, m, n, err);
}

/* The extraction failed with code, its message contains needle, and nothing is left. */
AX_FN void expect_failure(const char *path, uint64_t max, lh_code code, const char *needle)
{
    lh_archive_member *m = (lh_archive_member *)1;
    size_t n = 99;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(extract(path, max, &m, &n, &err), -1, "extraction of %s succeeded", path);
    cr_log_info("%s: %s [%s]", lh_code_name(err.code), err.message, err.detail);
    cr_assert_eq(err.code, code, "code %s: %s", lh_code_name(err.code), err.message);
    cr_assert(strstr(err.message, needle), "message '%s' lacks '%s'", err.message, needle);
    cr_assert_null(m);
    cr_assert_eq(n, 0);
    cr_assert_eq(scratch_count(), 0);
}

static const char CSV[] __attribute__((unused)) = "id,name\n1,Ada\n2,Grace\n";
static const char JSON[] __attribute__((unused)) = "[{\"a\": 1}, {\"a\": 2}]\n";
static const char TXT[] __attribute__((unused)) = "hello\nworld\n";

/* Finds the 4-byte signature sig in data[0..len) from start; the offset or len. */
AX_FN size_t find_sig(const unsigned char *data, size_t len, size_t start, const char *sig)
{
    for (size_t i = start; i + 4 <= len; i++)
        if (memcmp(data + i, sig, 4) == 0)
            return i;
    return len;
}

AX_FN void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}


/* Replaces the file at path with data[0..len). */
AX_FN void overwrite(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

#endif
