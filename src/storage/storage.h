/* storage: the object store. Buckets are directories on the local filesystem; keys are
 * '/'-separated relative paths. This is the only module that writes, renames or deletes
 * lake files. Every write is atomic: temp file on the bucket's filesystem, fsync, rename,
 * fsync dir.
 *
 * Layout under the data dir:
 *   buckets/<name>/      default bucket roots ("primary" always exists); configured buckets
 *                        may live anywhere else (lh_storage_open_with)
 *   tmp/put/             temp files of in-flight puts into buckets inside the data dir (same
 *                        filesystem, so rename is atomic); a bucket elsewhere stages its
 *                        puts in <root>/.lakehouse-tmp/, which listings skip
 *   tmp/work/<pid>/      scratch files for the engine (uploads, Parquet being written)
 * Temp and scratch names carry the owning pid; at open, those of dead processes are removed.
 *
 * Threads: all functions may be called from any thread; an lh_storage is immutable after
 * open, and each lh_put / lh_get handle belongs to one thread at a time. */
#ifndef LH_STORAGE_H
#define LH_STORAGE_H

#include "core/core.h"

typedef struct lh_storage lh_storage;
typedef struct lh_bucket lh_bucket;

#define LH_BUCKET_PRIMARY "primary"
#define LH_KEY_MAX 1024

/* Opens (creating as needed) the storage under data_dir with primary at buckets/primary
 * (plus any other directory under buckets/). io_error on failure. */
lh_storage *lh_storage_open(const char *data_dir, lh_err *err);
/* Opens the storage with the configured buckets (lh_config.buckets): each root (absolute, or
 * relative to data_dir) is created; primary is at buckets/primary unless specs give it a
 * root. Directories under <data>/buckets/ that no spec claims are registered too, after the
 * configured ones. invalid_argument for a bad or duplicate name or roots that overlap. */
lh_storage *lh_storage_open_with(const char *data_dir, const lh_bucket_spec *specs, size_t n,
                                 lh_err *err);
/* lh_storage_open_with, with the bucket credentials read from secrets_file (absolute, or
 * relative to data_dir; NULL or "" = <data>/secrets.toml) (lh_config.secrets_file). A file
 * named here must exist; like the default one it must be mode 0600 or stricter, or the open
 * fails with invalid_argument naming the file. */
lh_storage *lh_storage_open_with_secrets(const char *data_dir, const lh_bucket_spec *specs,
                                         size_t n, const char *secrets_file, lh_err *err);
void lh_storage_close(lh_storage *s);

const char *lh_storage_data_dir(const lh_storage *s);
/* <data>/tmp/work/<pid>: this process's scratch space, which the engine may read and write
 * (created at open; removed by a later open once this process has exited). */
const char *lh_storage_work_dir(const lh_storage *s);
/* A new unique scratch path "<work>/<uuid><suffix>" (nothing is created). Owned. */
char *lh_storage_scratch_path(const lh_storage *s, const char *suffix);

/* Borrowed; valid until lh_storage_close. not_found for an unknown bucket. */
lh_bucket *lh_storage_bucket(lh_storage *s, const char *name, lh_err *err);
/* Like lh_storage_bucket for a name a user gave: NULL or "" is primary, and an unknown name
 * is invalid_argument "unknown bucket 'x': known buckets are primary, archive". */
lh_bucket *lh_storage_bucket_pick(lh_storage *s, const char *name, lh_err *err);
/* The registered buckets: primary first, then the configured ones in order, then the
 * discovered ones by name. */
size_t lh_storage_bucket_count(const lh_storage *s);
/* Borrowed; NULL past the end. */
lh_bucket *lh_storage_bucket_at(lh_storage *s, size_t i);
const char *lh_bucket_name(const lh_bucket *b);
/* Absolute directory of the bucket, without trailing '/'. */
const char *lh_bucket_root(const lh_bucket *b);

/* Validates a key: 1..LH_KEY_MAX bytes, valid UTF-8, no leading '/', no empty, "." or ".."
 * segment, no NUL or control characters, no trailing '/', and not under ".lakehouse-tmp/"
 * (a bucket's temp dir). invalid_argument otherwise. */
int lh_storage_key_check(const char *key, size_t len, lh_err *err) LH_MUST_CHECK;
/* Absolute path of key in bucket (key must be valid). Owned. */
char *lh_bucket_path(const lh_bucket *b, const char *key);

/* ---- writing ----------------------------------------------------------------------------- */

typedef struct lh_put lh_put;
/* Starts an atomic streaming put of key. Nothing is visible until lh_put_commit. */
lh_put *lh_bucket_put_begin(lh_bucket *b, const char *key, lh_err *err);
int lh_put_write(lh_put *p, const void *data, size_t n, lh_err *err) LH_MUST_CHECK;
uint64_t lh_put_size(const lh_put *p);
/* fsync, rename over key, fsync the directory; frees p whatever the outcome. */
int lh_put_commit(lh_put *p, lh_err *err) LH_MUST_CHECK;
/* Drops the temp file; frees p. NULL is a no-op. */
void lh_put_abort(lh_put *p);

/* Whole-buffer atomic put (replaces an existing object). */
int lh_bucket_put(lh_bucket *b, const char *key, const void *data, size_t n, lh_err *err) LH_MUST_CHECK;
/* Atomic put that fails with conflict when key already exists (link(2) of a fsynced temp
 * file), so two writers cannot both create it. */
int lh_bucket_put_if_absent(lh_bucket *b, const char *key, const void *data, size_t n,
                            lh_err *err) LH_MUST_CHECK;
/* Moves a finished scratch file (from lh_storage_scratch_path) into the bucket at key:
 * fsync, rename (copy + unlink across filesystems), fsync dir. */
int lh_bucket_adopt_file(lh_bucket *b, const char *key, const char *scratch_path,
                         lh_err *err) LH_MUST_CHECK;
/* Makes dst_key hold the same bytes as src_key (hard link, or atomic copy when linking is
 * impossible). conflict if dst exists, not_found if src does not. */
int lh_bucket_link(lh_bucket *b, const char *src_key, const char *dst_key, lh_err *err) LH_MUST_CHECK;

/* ---- reading ----------------------------------------------------------------------------- */

/* Opens key for reading; returns an fd the caller closes, and its size. not_found when
 * missing (or a directory). */
int lh_bucket_open_read(lh_bucket *b, const char *key, uint64_t *size, lh_err *err);
/* Reads a whole object of at most max bytes (too_large past it). Owned, NUL-terminated. */
char *lh_bucket_read_all(lh_bucket *b, const char *key, size_t max, size_t *len, lh_err *err);
int lh_bucket_stat(lh_bucket *b, const char *key, uint64_t *size, int64_t *mtime_ms,
                   lh_err *err) LH_MUST_CHECK;
bool lh_bucket_exists(lh_bucket *b, const char *key);

typedef struct lh_object_info {
    char *key;
    uint64_t size;
    int64_t mtime_ms;
} lh_object_info;

/* Lists objects whose key starts with prefix (any string; "" = all), sorted by key, at most
 * max entries (*truncated says whether more exist). Owned array; free with
 * lh_object_infos_free. */
int lh_bucket_list(lh_bucket *b, const char *prefix, size_t max, lh_object_info **out,
                   size_t *n, bool *truncated, lh_err *err) LH_MUST_CHECK;
void lh_object_infos_free(lh_object_info *infos, size_t n);

/* Deletes key; removes directories left empty up to the bucket root. not_found if missing. */
int lh_bucket_delete(lh_bucket *b, const char *key, lh_err *err) LH_MUST_CHECK;

/* ---- roles, run-time buckets, rescue, error journal (issue 4) ------------------------------ */

/* "data" or "rescue" (LH_BUCKET_ROLE_*). The rescue bucket refuses writes under datasets/ and
 * _catalog/ (conflict): it holds copies, never a dataset's commits. */
const char *lh_bucket_role(const lh_bucket *b);
/* The rescue bucket (at most one), or NULL. */
lh_bucket *lh_storage_rescue(lh_storage *s);
/* Adds a bucket at run time: root (absolute, or relative to the data dir; NULL or "" is
 * buckets/<name>) is created, role is "data" (NULL) or "rescue", and the definition is saved
 * atomically in <data>/_buckets.json, which every later open merges with the configuration.
 * conflict for an existing name or a second rescue bucket; invalid_argument for a bad name,
 * role or an overlapping root. Borrowed. */
lh_bucket *lh_storage_provision(lh_storage *s, const char *name, const char *root,
                                const char *role, lh_err *err);
/* Forgets a run-time or discovered bucket (its data stays on disk; later opens skip it).
 * not_found for an unknown bucket; conflict for primary, the rescue bucket, a configured
 * bucket, or one holding datasets. Pointers to it stay valid until close. */
int lh_storage_forget(lh_storage *s, const char *name, lh_err *err) LH_MUST_CHECK;

/* unavailable (HTTP 503) "bucket 'x' is unreachable: ..." when b's root is missing, not a
 * directory, or not writable. Callers check before a write. */
int lh_bucket_check_reachable(lh_bucket *b, lh_err *err) LH_MUST_CHECK;
/* Copies key of data bucket b into the rescue bucket at "<bucket>/<key>" (nothing to do, and
 * *copied false, when there is no rescue bucket or b is it). A failure is journaled. */
int lh_bucket_rescue_copy(lh_bucket *b, const char *key, bool *copied, lh_err *err);
/* Deletes the rescue copy of key (a missing copy is fine; a failure is journaled). */
int lh_bucket_rescue_delete(lh_bucket *b, const char *key, lh_err *err) LH_MUST_CHECK;
/* lh_bucket_open_read, falling back to the rescue copy when the read fails in b (root gone,
 * EIO, EACCES, or the object missing while its copy exists): *used says so, and the failure
 * is journaled. Without a copy: not_found for a plain miss, unavailable when the bucket failed. */
int lh_bucket_open_read_rescue(lh_bucket *b, const char *key, uint64_t *size, bool *used,
                               lh_err *err);
/* Writes, reads back and deletes a probe file in b's root (under .lakehouse-tmp/);
 * *latency_ms is the time taken, success or not. io_error naming the step that failed. */
int lh_bucket_probe(lh_bucket *b, double *latency_ms, lh_err *err) LH_MUST_CHECK;

/* A credential of bucket from <data>/secrets.toml ([buckets.<name>] access_key / secret_key,
 * key is "access_key" or "secret_key"), or NULL. The file must be mode 0600 or stricter, or
 * open fails naming it and its mode. Borrowed; never log or answer it (show "***"). */
const char *lh_storage_bucket_secret(const lh_storage *s, const char *bucket, const char *key);
/* The api_key of a model server from the secrets file ([embed] or [generate]), or NULL.
 * Same rules as lh_storage_bucket_secret. */
const char *lh_storage_model_secret(const lh_storage *s, const char *section);

/* Ceiling of <data>/_errors/bucket_errors.jsonl before it rotates to .1. */
#define LH_STORAGE_JOURNAL_MAX (16 * 1024 * 1024)
/* Appends {"time","bucket","op","key","code","error"} to the bucket error journal (and logs
 * a warning). Never fails: a journal that cannot be written is logged. key may be NULL. */
void lh_storage_journal(lh_storage *s, const char *bucket, const char *op, const char *key,
                        const lh_err *e);
/* The newest `limit` journal lines, newest first, as a JSON array (new reference). */
json_t *lh_storage_journal_tail(lh_storage *s, size_t limit, lh_err *err);

#endif
