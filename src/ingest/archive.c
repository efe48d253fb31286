/* Archive extraction for ingest: the regular files of a .zip or .tar(.gz) become scratch
 * files, each then ingested like an upload. Member names are only ever recorded, never used
 * to build a path, so "../../etc/x" cannot escape the scratch dir; sizes are counted while
 * streaming, so a zip bomb stops at the byte cap instead of filling the disk. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

#define NAME_MAX_BYTES 1024
#define SUFFIX_MAX 16
/* Skipped entries (directories, links, junk) still cost a header read each; cap them too so
 * an archive of a million empty directories is refused rather than walked. */
#define MAX_ENTRIES (4 * LH_ARCHIVE_MAX_MEMBERS)
#define COPY_BUF (64 * 1024)

typedef struct extraction {
    const char *display;      /* the archive's base name, for messages */
    lh_archive_member *members;
    size_t n, cap;
} extraction;

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Junk that macOS Finder adds to archives: resource forks and folder metadata. */
static bool is_macos_junk(const char *name)
{
    if (lh_str_has_prefix(name, "__MACOSX/") || strstr(name, "/__MACOSX/"))
        return true;
    const char *b = base_name(name);
    return lh_str_has_prefix(b, "._") || strcmp(b, ".DS_Store") == 0;
}

/* The scratch suffix for a member: its extension (".tar.gz" kept whole) reduced to
 * [A-Za-z0-9.] and at most SUFFIX_MAX bytes, so the format hint survives but nothing of the
 * member's name can shape the path beyond that. Empty when there is no extension. */
static void member_suffix(const char *name, char out[SUFFIX_MAX + 1])
{
    out[0] = '\0';
    const char *b = base_name(name);
    const char *dot = strrchr(b, '.');
    if (!dot || dot == b)
        return;
    size_t blen = strlen(b);
    if (blen > 7 && strcmp(b + blen - 7, ".tar.gz") == 0 && b + blen - 7 != b)
        dot = b + blen - 7;
    size_t k = 0;
    for (const char *p = dot; *p && k < SUFFIX_MAX; p++) {
        char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '.')
            out[k++] = c;
    }
    out[k] = '\0';
    if (k == 1) /* only the dot survived */
        out[0] = '\0';
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_seq_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, min = 0x80, cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, min = 0x800, cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* The member name as recorded: control characters and bytes that are not UTF-8 become '?',
 * so the name is always safe to put in JSON and log lines. */
static char *clean_name(const char *raw)
{
    size_t len = strlen(raw);
    char *out = lh_xmalloc(len + 1);
    size_t i = 0, k = 0;
    while (i < len) {
        const unsigned char *s = (const unsigned char *)raw + i;
        size_t n = utf8_seq_len(s);
        if (n == 0 || (n == 1 && (s[0] < 0x20 || s[0] == 0x7F))) {
            out[k++] = '?';
            i++;
            continue;
        }
        memcpy(out + k, s, n);
        k += n;
        i += n;
    }
    out[k] = '\0';
    return out;
}

static void drop_all(extraction *x)
{
    lh_ingest__archive_members_free(x->members, x->n);
    x->members = NULL;
    x->n = x->cap = 0;
}

/* libarchive's complaint as our error: invalid_argument (the archive is bad) unless the
 * failure was the disk underneath. member is NULL for failures between members. */
static int archive_fail(struct archive *a, const extraction *x, const char *member,
                        lh_err *err)
{
    const char *why = archive_error_string(a);
    if (!why)
        why = "unreadable archive";
    lh_code code = archive_errno(a) == EIO ? LH_IO_ERROR : LH_INVALID_ARGUMENT;
    if (member)
        return lh_err_set(err, code, "'%s' member '%s' cannot be read: %s", x->display, member,
                          why);
    return lh_err_set(err, code, "'%s' is not a readable archive: %s", x->display, why);
}

/* Streams the current entry's data into a new scratch file through a fixed buffer, adding
 * to *total and stopping as soon as it would pass max_bytes. On success the member is
 * appended to x; on failure the partial file is gone. */
static int extract_member(struct archive *a, lh_storage *storage, extraction *x,
                          char *name, uint64_t *total, uint64_t max_bytes, lh_err *err)
{
    char suffix[SUFFIX_MAX + 1];
    member_suffix(name, suffix);
    char *path = lh_storage_scratch_path(storage, suffix);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int rc = lh_err_errno(err, errno, "cannot create scratch file for '%s' member '%s'",
                              x->display, name);
        free(path);
        free(name);
        return rc;
    }
    unsigned char *buf = lh_xmalloc(COPY_BUF);
    uint64_t size = 0;
    int rc = 0;
    for (;;) {
        la_ssize_t got = archive_read_data(a, buf, COPY_BUF);
        if (got == 0)
            break;
        if (got < 0) {
            rc = archive_fail(a, x, name, err);
            break;
        }
        if ((uint64_t)got > max_bytes - *total) {
            rc = lh_err_set(err, LH_TOO_LARGE,
                            "'%s' expands to more than %llu bytes (at member '%s')", x->display,
                            (unsigned long long)max_bytes, name);
            lh_err_detail(err, "stopped after %llu bytes of the member",
                          (unsigned long long)size);
            break;
        }
        *total += (uint64_t)got;
        size += (uint64_t)got;
        if (lh_write_full(fd, buf, (size_t)got, err) != 0) {
            rc = lh_err_prefix(err, "extracting '%s' member '%s': ", x->display, name);
            break;
        }
    }
    free(buf);
    if (close(fd) != 0 && rc == 0)
        rc = lh_err_errno(err, errno, "cannot write scratch file for '%s' member '%s'",
                          x->display, name);
    if (rc != 0) {
        lh_ingest__unlink_scratch(path);
        free(path);
        free(name);
        return rc;
    }
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 8;
        x->members = lh_xrealloc(x->members, x->cap * sizeof *x->members);
    }
    x->members[x->n++] = (lh_archive_member){.name = name, .path = path, .size = size};
    return 0;
}

/* Decides what to do with one entry: 1 to extract it, 0 to skip it, -1 to fail. */
static int want_entry(struct archive_entry *e, const extraction *x, const char *name,
                      lh_err *err)
{
    /* Only regular files carry data we ingest; a hard link is a second name for data
     * already extracted (or not in the archive at all), so it is skipped too. */
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != NULL)
        return 0;
    if (is_macos_junk(name))
        return 0;
    if (strlen(name) > NAME_MAX_BYTES)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "'%s' has a member name longer than %d bytes", x->display,
                          NAME_MAX_BYTES);
    if (archive_entry_is_encrypted(e))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' member '%s' is encrypted",
                          x->display, name);
    if (x->n >= LH_ARCHIVE_MAX_MEMBERS)
        return lh_err_set(err, LH_TOO_LARGE, "'%s' has more than %d files", x->display,
                          LH_ARCHIVE_MAX_MEMBERS);
    return 1;
}

static struct archive *reader_new(void)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    /* zip, tar (ustar, pax, GNU) and their usual compressions; each call can only fail on
     * programmer error or when the library lacks the codec, which the open then reports as
     * an unrecognised format. Filters that would spawn external programs are not enabled. */
    (void)archive_read_support_format_zip(a);
    (void)archive_read_support_format_tar(a);
    (void)archive_read_support_filter_gzip(a);
    (void)archive_read_support_filter_bzip2(a);
    (void)archive_read_support_filter_xz(a);
    return a;
}

int lh_ingest__archive_extract(lh_storage *storage, const char *archive_path,
                               const char *display, uint64_t max_bytes,
                               lh_archive_member **members, size_t *n, lh_err *err)
{
    *members = NULL;
    *n = 0;
    extraction x = {.display = display && *display ? display : base_name(archive_path)};
    int fd = open(archive_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lh_err_errno(err, errno, "cannot open '%s'", x.display);
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0) {
        close(fd);
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is empty", x.display);
    }
    struct archive *a = reader_new();
    if (!a) {
        close(fd);
        return lh_err_set(err, LH_INTERNAL, "cannot start reading '%s'", x.display);
    }
    int rc = 0;
    if (archive_read_open_fd(a, fd, COPY_BUF) != ARCHIVE_OK) {
        rc = archive_fail(a, &x, NULL, err);
        goto out;
    }
    uint64_t total = 0;
    size_t entries = 0;
    for (;;) {
        struct archive_entry *e = NULL;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        /* ARCHIVE_WARN on a header is a charset or attribute oddity; the data is fine. */
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = archive_fail(a, &x, NULL, err);
            break;
        }
        if (++entries > MAX_ENTRIES) {
            rc = lh_err_set(err, LH_TOO_LARGE, "'%s' has more than %d entries", x.display,
                            MAX_ENTRIES);
            break;
        }
        const char *raw = archive_entry_pathname_utf8(e);
        if (!raw)
            raw = archive_entry_pathname(e);
        if (!raw || !raw[0]) {
            if (archive_entry_filetype(e) != AE_IFREG)
                continue;
            rc = lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' has a file with no name",
                            x.display);
            break;
        }
        char *name = clean_name(raw);
        int want = want_entry(e, &x, name, err);
        if (want <= 0) {
            free(name);
            if (want < 0) {
                rc = -1;
                break;
            }
            continue; /* libarchive skips the unread data at the next header */
        }
        /* A size in the header that is already past the cap fails before any byte is
         * written; the count while streaming is what actually holds the line. */
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
            (uint64_t)archive_entry_size(e) > max_bytes - total) {
            rc = lh_err_set(err, LH_TOO_LARGE,
                            "'%s' expands to more than %llu bytes (at member '%s')",
                            x.display, (unsigned long long)max_bytes, name);
            free(name);
            break;
        }
        if (extract_member(a, storage, &x, name, &total, max_bytes, err) != 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && x.n == 0)
        rc = lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' contains no files", x.display);
out:
    archive_read_free(a);
    close(fd);
    if (rc != 0) {
        drop_all(&x);
        return -1;
    }
    *members = x.members;
    *n = x.n;
    return 0;
}

void lh_ingest__archive_members_free(lh_archive_member *members, size_t n)
{
    if (!members)
        return;
    for (size_t i = 0; i < n; i++) {
        lh_ingest__unlink_scratch(members[i].path);
        free(members[i].path);
        free(members[i].name);
    }
    free(members);
}
