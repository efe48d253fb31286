/* Small helpers shared by the ingest files: column JSON, name checks, scratch clean-up and
 * the bounded stream copy into scratch. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ingest/ingest.h"
#include "ingest/ingest_int.h"

/* Buffer of the stream copy into scratch: bounded whatever the file size. */
#define COPY_BUF_BYTES (256 * 1024)

json_t *lh_ingest__columns_json(const lh_column *cols, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_pack("{s:s, s:s}", "name", cols[i].name, "type", cols[i].type);
        if (cols[i].pii)
            json_object_set_new(c, "pii", json_string(cols[i].pii));
        if (cols[i].pii || cols[i].sensitive)
            json_object_set_new(c, "sensitive", json_boolean(cols[i].sensitive));
        json_array_append_new(arr, c);
    }
    return arr;
}

int lh_ingest__check_name(const char *name, lh_err *err)
{
    if (!lh_name_valid(name))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "invalid dataset name '%s': use a-z, 0-9 and _, starting with a "
                          "letter or _, at most %d characters",
                          name, LH_NAME_MAX);
    return 0;
}

void lh_ingest__unlink_scratch(const char *path)
{
    if (path && unlink(path) != 0 && errno != ENOENT)
        LH_LOG_WARN("ingest", "cannot remove scratch file '%s': %s", path, strerror(errno));
}

int lh_ingest__copy_to_scratch(int fd, const char *display, const unsigned char *head,
                               size_t head_len, const char *dst, uint64_t *bytes, lh_err *err)
{
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return lh_err_errno(err, errno, "cannot create scratch file for '%s'", display);
    int rc = -1;
    unsigned char *buf = lh_xmalloc(COPY_BUF_BYTES);
    uint64_t total = head_len;
    if (head_len > 0 && lh_write_full(out, head, head_len, err) != 0)
        goto out;
    for (;;) {
        ssize_t r = read(fd, buf, COPY_BUF_BYTES);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            lh_err_errno(err, errno, "cannot read '%s'", display);
            goto out;
        }
        if (r == 0)
            break;
        if (lh_write_full(out, buf, (size_t)r, err) != 0)
            goto out;
        total += (uint64_t)r;
    }
    *bytes = total;
    rc = 0;
out:
    free(buf);
    if (close(out) != 0 && rc == 0)
        rc = lh_err_errno(err, errno, "cannot write scratch file for '%s'", display);
    return rc;
}

int lh_ingest_schema_mode_parse(const char *text, lh_schema_mode *out, lh_err *err)
{
    if (!text || !*text || strcmp(text, "fail") == 0) {
        *out = LH_SCHEMA_EXACT;
        return 0;
    }
    if (strcmp(text, "add_columns") == 0) {
        *out = LH_SCHEMA_ADD_COLUMNS;
        return 0;
    }
    return lh_err_set(err, LH_INVALID_ARGUMENT,
                      "on_schema_change '%s' is not one of: fail, add_columns", text);
}
