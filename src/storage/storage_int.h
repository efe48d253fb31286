/* storage internals shared by the files of src/storage/ (never included from outside the
 * module, except by its unit tests when they must reach a fallback path directly). */
#ifndef LH_STORAGE_INT_H
#define LH_STORAGE_INT_H

#include <pthread.h>
#include <stdatomic.h>

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
    bool rescue;      /* role "rescue": holds copies of the data buckets' objects */
    bool configured;  /* declared in the configuration (cannot be forgotten at run time) */
    bool provisioned; /* added by lh_storage_provision (kept in <data>/_buckets.json) */
    _Atomic bool removed; /* forgotten at run time: invisible, but the slot (and every
                             pointer into it) stays valid until close */
};

struct lh_storage {
    char *data_dir; /* absolute */
    char *put_dir;  /* <data>/tmp/put */
    char *work_dir; /* <data>/tmp/work/<pid> */
    lh_bucket buckets[LH_STORAGE_MAX_BUCKETS];
    /* Slots in use (live or removed). A slot is filled before the count covers it, so
     * readers need no lock; provision and forget serialize on lock. */
    _Atomic size_t n_buckets;
    _Atomic(lh_bucket *) rescue; /* the rescue bucket, or NULL */
    pthread_mutex_t lock;         /* provision/forget and the registry file */
    json_t *registry;             /* <data>/_buckets.json: {"buckets":[...],"forgotten":[...]} */
    json_t *secrets;              /* <data>/secrets.toml as JSON, or NULL (secrets.c) */
    char *secrets_path;           /* the configured secrets file (absolute), or NULL for the
                                     default <data>/secrets.toml (which may be absent) */
    pthread_mutex_t journal_lock; /* appends to the error journal */
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

/* Adds one bucket by name and root (absolute, or relative to the data dir): creates and
 * canonicalizes the root, refuses a bad or duplicate name and overlapping roots, picks its put
 * dir, and only then publishes the slot (registry.c / buckets.c). */
int lh_storage__add_bucket(lh_storage *s, const char *name, const char *root, bool rescue,
                           lh_err *err) LH_MUST_CHECK;
/* The live bucket called name, or NULL. */
lh_bucket *lh_storage__find(lh_storage *s, const char *name);
/* Loads <data>/_buckets.json (run-time provisioned buckets) into s->registry and registers
 * the buckets it lists that the configuration does not (registry.c). A bucket that cannot be
 * registered is skipped with a warning, so one bad mount does not stop the server. */
int lh_storage__load_registry(lh_storage *s, lh_err *err) LH_MUST_CHECK;
/* Loads s->secrets_path (must exist) or else <data>/secrets.toml (absent is fine):
 * invalid_argument naming the file when its mode
 * lets anyone but the owner read or write it, or when it is not [buckets.<name>] tables of
 * access_key / secret_key strings. Values never reach a message (secrets.c). */
int lh_storage__load_secrets(lh_storage *s, lh_err *err) LH_MUST_CHECK;
/* Whether name was forgotten at run time (discovery skips it). */
bool lh_storage__forgotten(const lh_storage *s, const char *name);
/* conflict when b is the rescue bucket and key is where datasets live ("datasets/",
 * "_catalog/"): the rescue bucket holds copies only, never a dataset's commits. */
int lh_storage__check_write(const lh_bucket *b, const char *key, lh_err *err) LH_MUST_CHECK;

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
