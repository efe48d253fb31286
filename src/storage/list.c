/* storage listing: a depth-first walk of a bucket that yields keys in byte order, descends
 * only into directories that can hold keys with the prefix, and stops after max objects.
 * Byte order falls out of sorting each directory with '/' appended to subdirectory names:
 * every key below directory "a" starts with "a/", so "a.txt" < "a/x" < "a0" as required. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/storage_int.h"

/* Ceiling on the entries read from one directory (each is held while it is sorted). */
#define LIST_DIR_MAX 1000000

typedef struct entry {
    char *name; /* segment, with '/' appended for directories */
    uint64_t size;
    int64_t mtime_ms;
} entry;

typedef struct walk {
    lh_bucket *b;
    const char *prefix;
    size_t prefix_len;
    size_t max;
    lh_object_info *out;
    size_t n, cap;
    bool truncated;
    lh_err *err;
} walk;

static int cmp_entry(const void *x, const void *y)
{
    return strcmp(((const entry *)x)->name, ((const entry *)y)->name);
}

/* True when a key starting with s (of length n) can start with the prefix, or the reverse. */
static bool prefix_compatible(const walk *w, const char *s, size_t n)
{
    size_t k = n < w->prefix_len ? n : w->prefix_len;
    return memcmp(s, w->prefix, k) == 0;
}

static void free_entries(entry *es, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(es[i].name);
    free(es);
}

/* Reads the directory holding keys that start with key (a "" or "dir/" prefix) into a
 * sorted array of the entries worth visiting. */
static int read_dir(walk *w, const lh_buf *key, entry **out, size_t *out_n)
{
    char *dir = lh_xasprintf("%s/%s", w->b->root, key->data);
    DIR *d = opendir(dir);
    *out = NULL;
    *out_n = 0;
    if (d == NULL) {
        int e = errno;
        int rc = 0;
        /* A subdirectory deleted while we walk simply has no keys any more. */
        if (key->len == 0 || (e != ENOENT && e != ENOTDIR))
            rc = lh_err_errno(w->err, e, "cannot list bucket '%s'", w->b->name);
        free(dir);
        return rc;
    }
    entry *es = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    lh_buf cand;
    lh_buf_init(&cand);
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (!lh_storage__segment_ok(de->d_name, nl) || key->len + nl + 1 > LH_KEY_MAX)
            continue; /* not a name any key could have ('.', '..', foreign files) */
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* deleted while we read the directory */
        bool is_dir = S_ISDIR(st.st_mode);
        if (!is_dir && !S_ISREG(st.st_mode))
            continue; /* objects are regular files only */
        if (key->len == 0 && strcmp(de->d_name, LH_STORAGE_TMP_DIR) == 0)
            continue; /* a bucket's temp dir holds no objects */
        lh_buf_reset(&cand);
        lh_buf_append(&cand, key->data, key->len);
        lh_buf_append(&cand, de->d_name, nl);
        if (is_dir)
            lh_buf_putc(&cand, '/');
        if (!prefix_compatible(w, cand.data, cand.len) ||
            (!is_dir && cand.len < w->prefix_len))
            continue;
        if (n == LIST_DIR_MAX) {
            rc = lh_err_set(w->err, LH_TOO_LARGE, "cannot list bucket '%s': a directory holds "
                            "more than %d entries", w->b->name, LIST_DIR_MAX);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            es = lh_xrealloc(es, cap * sizeof *es);
        }
        es[n].name = lh_xstrdup(cand.data + key->len);
        es[n].size = (uint64_t)st.st_size;
        es[n].mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        n++;
    }
    lh_buf_release(&cand);
    closedir(d);
    free(dir);
    if (rc != 0) {
        free_entries(es, n);
        return rc;
    }
    if (n > 1)
        qsort(es, n, sizeof *es, cmp_entry);
    *out = es;
    *out_n = n;
    return 0;
}

/* Returns 1 when the walk is finished (max reached), 0 to continue, -1 on error. */
static int walk_dir(walk *w, lh_buf *key)
{
    entry *es;
    size_t n;
    if (read_dir(w, key, &es, &n) != 0)
        return -1;
    int rc = 0;
    size_t base = key->len;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t nl = strlen(es[i].name);
        lh_buf_append(key, es[i].name, nl);
        if (es[i].name[nl - 1] == '/') {
            rc = walk_dir(w, key);
        } else if (w->n == w->max) {
            w->truncated = true;
            rc = 1;
        } else {
            if (w->n == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 64;
                w->out = lh_xrealloc(w->out, w->cap * sizeof *w->out);
            }
            w->out[w->n].key = lh_xstrndup(key->data, key->len);
            w->out[w->n].size = es[i].size;
            w->out[w->n].mtime_ms = es[i].mtime_ms;
            w->n++;
        }
        key->len = base;
        key->data[base] = '\0';
    }
    free_entries(es, n);
    return rc;
}

int lh_bucket_list(lh_bucket *b, const char *prefix, size_t max, lh_object_info **out,
                   size_t *n, bool *truncated, lh_err *err)
{
    walk w = {.b = b, .prefix = prefix != NULL ? prefix : "", .max = max, .err = err};
    w.prefix_len = strlen(w.prefix);
    lh_buf key;
    lh_buf_init(&key);
    lh_buf_reserve(&key, LH_KEY_MAX + 2);
    lh_buf_puts(&key, ""); /* reserve alone leaves data unterminated */
    int rc = walk_dir(&w, &key);
    lh_buf_release(&key);
    if (rc < 0) {
        lh_object_infos_free(w.out, w.n);
        return -1;
    }
    *out = w.out;
    *n = w.n;
    if (truncated != NULL)
        *truncated = w.truncated;
    return 0;
}

void lh_object_infos_free(lh_object_info *infos, size_t n)
{
    if (infos == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(infos[i].key);
    free(infos);
}
