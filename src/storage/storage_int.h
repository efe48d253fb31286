/* storage internals shared by the files of src/storage/ (never included from outside the
 * module, except by its unit tests when they must reach a fallback path directly). */
#ifndef LH_STORAGE_INT_H
#define LH_STORAGE_INT_H

#include "storage/storage.h"

/* A ceiling on how many bucket directories open registers. */
#define LH_STORAGE_MAX_BUCKETS 64
/* Longest single key segment: the filesystem's NAME_MAX on every system we run on. */
#define LH_KEY_SEGMENT_MAX 255
/* Buffer size for copies (EXDEV adopt, link fallback). */
#define LH_STORAGE_COPY_CHUNK (256u * 1024u)

/* The temp directory inside a bucket root that is not on the data dir's filesystem: its
 * puts cannot rename from <data>/tmp/put, so they stage here. Listings skip it and keys may
 * not start with it. */
#define LH_STORAGE_TMP_DIR ".lakehouse-tmp"

struct lh_bucket {
    lh_storage *storage;
    char *name;
    char *root;    /* absolute, no trailing '/' */
    char *put_dir; /* where this bucket's temp files go: the storage's put_dir (shared) or
                      <root>/.lakehouse-tmp (own_put_dir) */
    bool own_put_dir;
};

struct lh_storage {
    char *data_dir; /* absolute */
    char *put_dir;  /* <data>/tmp/put */
    char *work_dir; /* <data>/tmp/work/<pid> */
    lh_bucket buckets[LH_STORAGE_MAX_BUCKETS];
    size_t n_buckets;
};

struct lh_put {
    lh_bucket *bucket;
    char *key;
    char *tmp_path; /* <bucket put_dir>/<pid>.<uuid>; NULL once removed or renamed */
    int fd;         /* -1 once closed */
    uint64_t size;
    bool failed; /* a write failed: the temp file is already gone */
};

/* Registers the buckets (buckets.c): primary (at its configured root, or buckets/primary),
 * the other configured ones in order, then the unclaimed directories under <data>/buckets/.
 * Creates the roots. invalid_argument for a bad or duplicate name or overlapping roots. */
int lh_storage__register_buckets(lh_storage *s, const lh_bucket_spec *specs, size_t n,
                                 lh_err *err) LH_MUST_CHECK;

/* Finishes a put: fsync + close the temp file, then rename it over the key (exclusive =
 * false) or link(2) it to the key and fail with conflict when the key exists (exclusive =
 * true). Creates parent directories as needed and fsyncs the directory. Frees p. */
int lh_storage__put_finish(lh_put *p, bool exclusive, lh_err *err) LH_MUST_CHECK;

/* Atomically copies the bytes readable from src_fd (up to EOF) into key: a temp file in
 * the bucket's put dir, then put_finish(exclusive). This is the fallback of adopt (EXDEV) and link
 * (EXDEV, EPERM); tests call it directly because those errors are hard to provoke. */
int lh_storage__copy_in(lh_bucket *b, int src_fd, const char *key, bool exclusive,
                        lh_err *err) LH_MUST_CHECK;

/* mkdir -p of the directories between the bucket root and the object at path (the root
 * itself exists). A non-directory in the way is conflict, naming key. */
int lh_storage__make_parents(const lh_bucket *b, const char *path, const char *key,
                             lh_err *err) LH_MUST_CHECK;

/* fsyncs the directory holding path, so a new, renamed or removed entry in it is durable.
 * A directory that no longer exists is fine: a concurrent delete pruned it, and pruning syncs
 * its parent. io_error "cannot <verb> 'key': ..." otherwise. */
int lh_storage__sync_parent(const char *path, const char *verb, const char *key,
                            lh_err *err) LH_MUST_CHECK;

/* Validates key and returns its absolute path in b (owned), or NULL with err filled. */
char *lh_storage__key_path(const lh_bucket *b, const char *key, lh_err *err);

/* Checks one path segment (a file or directory name found on disk) with the key rules, so
 * listings never return a key that the other functions would reject. */
bool lh_storage__segment_ok(const char *s, size_t len);

#endif
