/* lh_ingest__text_to_ndjson: plain text lines and each SMS/chat export shape to NDJSON rows,
 * continuation lines, day/month order per file, fallbacks, empty files, the line ceiling,
 * and no output left behind on failure. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/ingest_int.h"

static char txdir[64];

static void tx_setup(void)
{
    snprintf(txdir, sizeof txdir, "/tmp/lh-text-XXXXXX");
    cr_assert_not_null(mkdtemp(txdir));
}

static void tx_teardown(void)
{
    lh_err err = LH_ERR_INIT;
    if (lh_remove_tree(txdir, &err) != 0)
        cr_log_warn("cannot remove '%s': %s", txdir, err.message);
}

TestSuite(text, .init = tx_setup, .fini = tx_teardown, .timeout = 60);

static char *tx_write(const char *name, const void *data, size_t n)
{
    char *path = lh_xasprintf("%s/%s", txdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* The result of one conversion: its rows parsed back, and the chosen schema. */
typedef struct conv {
    json_t *rows; /* array of objects */
    lh_column *cols;
    size_t ncols;
    int64_t nrows;
} conv;

static void conv_free(conv *c)
{
    json_decref(c->rows);
    lh_columns_free(c->cols, c->ncols);
}

static int convert_path(const char *path, conv *c, lh_err *err)
{
    memset(c, 0, sizeof *c);
    char *out = lh_xasprintf("%s/out.ndjson", txdir);
    unlink(out);
    int rc = lh_ingest__text_to_ndjson(path, "input.txt", out, &c->cols, &c->ncols, &c->nrows,
                                       err);
    if (rc != 0) {
        cr_assert_neq(access(out, F_OK), 0, "output left behind after a failure");
        free(out);
        return rc;
    }
    c->rows = json_array();
    FILE *f = fopen(out, "rb");
    cr_assert_not_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *row = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &je);
        cr_assert_not_null(row, "bad NDJSON line: %s", je.text);
        json_array_append_new(c->rows, row);
    }
    free(line);
    fclose(f);
    free(out);
    cr_assert_eq((int64_t)json_array_size(c->rows), c->nrows);
    return 0;
}

static void convert_ok(const char *path, conv *c)
{
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(convert_path(path, c, &err), 0, "%s", err.message);
}

static void convert_fixture(const char *name, conv *c)
{
    char *path = lh_xasprintf("%s/text/%s", LH_TEST_FIXTURES, name);
    convert_ok(path, c);
    free(path);
}

static void convert_text(const char *text, conv *c)
{
    char *path = tx_write("in.txt", text, strlen(text));
    convert_ok(path, c);
    free(path);
}

static const char *sfield(const conv *c, size_t row, const char *key)
{
    json_t *v = json_object_get(json_array_get(c->rows, row), key);
    cr_assert_not_null(v, "row %zu has no '%s'", row, key);
    return json_is_null(v) ? NULL : json_string_value(v);
}

static long long ifield(const conv *c, size_t row, const char *key)
{
    json_t *v = json_object_get(json_array_get(c->rows, row), key);
    cr_assert(json_is_integer(v), "row %zu: '%s' is not an integer", row, key);
    return (long long)json_integer_value(v);
}

static bool is_sms(const conv *c)
{
    if (c->ncols == 5) {
        cr_assert_str_eq(c->cols[2].name, "sent_at");
        cr_assert_str_eq(c->cols[2].type, "TIMESTAMP");
        cr_assert_str_eq(c->cols[4].name, "body");
        return true;
    }
    cr_assert_eq(c->ncols, 3);
    cr_assert_str_eq(c->cols[2].name, "text");
    return false;
}

Test(text, plain_lines_skip_blanks_bom_and_crlf)
{
    conv c;
    convert_fixture("plain_crlf_bom.txt", &c);
    cr_assert_not(is_sms(&c));
    cr_assert_str_eq(c.cols[0].name, "source_file");
    cr_assert_str_eq(c.cols[1].type, "BIGINT");
    cr_assert_eq(c.nrows, 3);
    cr_assert_str_eq(sfield(&c, 0, "text"), "First line of the memo");
    cr_assert_eq(ifield(&c, 0, "line_number"), 1);
    cr_assert_str_eq(sfield(&c, 1, "text"), "Second line, after a blank one");
    cr_assert_eq(ifield(&c, 1, "line_number"), 3);
    cr_assert_str_eq(sfield(&c, 2, "text"), "Third line");
    cr_assert_eq(ifield(&c, 2, "line_number"), 5);
    cr_assert_str_eq(sfield(&c, 2, "source_file"), "input.txt");
    conv_free(&c);
}

Test(text, last_line_without_newline_and_odd_bytes)
{
    conv c;
    /* A quote, a backslash, a tab, a NUL and invalid UTF-8 all survive as valid JSON. */
    static const char data[] = "say \"hi\"\\\tnow\nx\0y\n\xff end";
    char *path = tx_write("odd.txt", data, sizeof data - 1);
    convert_ok(path, &c);
    free(path);
    cr_assert_eq(c.nrows, 3);
    cr_assert_str_eq(sfield(&c, 0, "text"), "say \"hi\"\\\tnow");
    json_t *v = json_object_get(json_array_get(c.rows, 1), "text");
    cr_assert_eq(json_string_length(v), 3);
    cr_assert_str_eq(sfield(&c, 2, "text"), "\xEF\xBF\xBD end");
    cr_assert_eq(ifield(&c, 2, "line_number"), 3);
    conv_free(&c);
}

Test(text, empty_and_blank_only_files_give_no_rows)
{
    conv c;
    convert_text("", &c);
    cr_assert_not(is_sms(&c));
    cr_assert_eq(c.nrows, 0);
    conv_free(&c);
    convert_text("\n   \r\n\t\n\f\n", &c);
    cr_assert_eq(c.nrows, 0);
    conv_free(&c);
    convert_text("\xEF\xBB\xBF\r\n\r\n", &c);
    cr_assert_eq(c.nrows, 0);
    conv_free(&c);
}

Test(text, whatsapp_ios_with_continuations_and_system_lines)
{
    conv c;
    convert_fixture("whatsapp_ios.txt", &c);
    cr_assert(is_sms(&c));
    cr_assert_eq(c.nrows, 8);
    cr_assert_str_eq(sfield(&c, 0, "sent_at"), "2024-01-15 09:30:12");
    cr_assert_str_eq(sfield(&c, 0, "sender"), "Alice");
    cr_assert_str_eq(sfield(&c, 0, "body"), "Are we still on for lunch?");
    cr_assert_str_eq(sfield(&c, 1, "body"), "Yes! 12:30 at the usual place");
    /* The list lines and the blank line between them belong to Alice's message. */
    cr_assert_str_eq(sfield(&c, 2, "body"),
                     "Great. I'll bring the notes:\n- budget\n\n- hiring plan");
    cr_assert_eq(ifield(&c, 2, "line_number"), 3);
    cr_assert_eq(ifield(&c, 3, "line_number"), 7);
    cr_assert_null(sfield(&c, 5, "sender"));
    cr_assert_str_eq(sfield(&c, 5, "body"), "Messages and calls are end-to-end encrypted.");
    cr_assert_str_eq(sfield(&c, 5, "sent_at"), "2024-01-16 18:02:59");
    conv_free(&c);
}

Test(text, whatsapp_android_twelve_hour_month_first)
{
    conv c;
    convert_fixture("whatsapp_android.txt", &c);
    cr_assert(is_sms(&c));
    cr_assert_eq(c.nrows, 4);
    cr_assert_str_eq(sfield(&c, 0, "sent_at"), "2024-01-15 09:30:00");
    cr_assert_str_eq(sfield(&c, 1, "sent_at"), "2024-01-15 12:05:00");
    cr_assert_str_eq(sfield(&c, 2, "sent_at"), "2024-01-15 00:00:00");
    cr_assert_str_eq(sfield(&c, 3, "sent_at"), "2024-02-03 23:59:00"); /* 2/3 is Feb 3 */
    cr_assert_str_eq(sfield(&c, 3, "sender"), "Bob");
    conv_free(&c);
}

Test(text, one_day_over_twelve_makes_the_whole_file_day_first)
{
    conv c;
    /* 2/3/24 reads as Feb 3 alone; line 3 (far from the sample) proves day-first. */
    lh_buf b;
    lh_buf_init(&b);
    lh_buf_puts(&b, "2/3/24, 10:00 - Ana: hola\n");
    for (int i = 0; i < 300; i++)
        lh_buf_printf(&b, "1/1/24, 10:%02d - Ana: msg %d\n", i % 60, i);
    lh_buf_puts(&b, "25/3/24, 08:00 - Ben: adios\n");
    convert_text(b.data, &c);
    lh_buf_release(&b);
    cr_assert(is_sms(&c));
    cr_assert_eq(c.nrows, 302);
    cr_assert_str_eq(sfield(&c, 0, "sent_at"), "2024-03-02 10:00:00");
    cr_assert_str_eq(sfield(&c, 301, "sent_at"), "2024-03-25 08:00:00");
    conv_free(&c);

    /* The same dates in brackets with no field over 12 keep WhatsApp's day-first. */
    convert_text("[2/3/2024, 10:00:00] Ana: a\n[4/3/2024, 10:00:01] Ben: b\n", &c);
    cr_assert_str_eq(sfield(&c, 0, "sent_at"), "2024-03-02 10:00:00");
    conv_free(&c);
    /* ...unless a second field over 12 shows the file is month-first. */
    convert_text("[2/3/2024, 10:00:00] Ana: a\n[4/13/2024, 10:00:01] Ben: b\n", &c);
    cr_assert_str_eq(sfield(&c, 0, "sent_at"), "2024-02-03 10:00:00");
    cr_assert_str_eq(sfield(&c, 1, "sent_at"), "2024-04-13 10:00:01");
    conv_free(&c);
}

Test(text, sms_backup_tab_separated)
{
    conv c;
    convert_fixture("sms_backup.txt", &c);
    cr_assert(is_sms(&c));
    cr_assert_eq(c.nrows, 3);
    cr_assert_str_eq(sfield(&c, 0, "sender"), "+15551234567");
    cr_assert_str_eq(sfield(&c, 0, "body"), "Running late, 10 min");
    cr_assert_str_eq(sfield(&c, 1, "body"), "ok\tno rush");
    cr_assert_str_eq(sfield(&c, 2, "sent_at"), "2024-01-16 20:00:00");
    conv_free(&c);
}

Test(text, piped_comma_dash_and_iso_shapes)
{
    conv c;
    convert_fixture("chat_piped.txt", &c);
    cr_assert(is_sms(&c));
    cr_assert_eq(c.nrows, 3);
    cr_assert_str_eq(sfield(&c, 1, "sender"), "Bob");
    cr_assert_str_eq(sfield(&c, 1, "body"), "Thanks | will read");
    cr_assert_str_eq(sfield(&c, 2, "sent_at"), "2024-02-29 12:15:00");
    conv_free(&c);

    convert_fixture("sms_comma.txt", &c);
    cr_assert(is_sms(&c));
    cr_assert_str_eq(sfield(&c, 0, "sender"), "+15551234567");
    cr_assert_str_eq(sfield(&c, 0, "body"), "Your code is 123456");
    cr_assert_str_eq(sfield(&c, 2, "sender"), "Mom");
    conv_free(&c);

    convert_fixture("chat_dash.txt", &c);
    cr_assert(is_sms(&c));
    cr_assert_str_eq(sfield(&c, 1, "sender"), "Bob");
    cr_assert_str_eq(sfield(&c, 1, "body"), "hello: how are you?");
    conv_free(&c);

    convert_fixture("chat_iso.txt", &c);
    cr_assert(is_sms(&c));
    cr_assert_eq(c.nrows, 3);
    cr_assert_str_eq(sfield(&c, 0, "sent_at"), "2024-01-15 09:30:12");
    cr_assert_str_eq(sfield(&c, 1, "sent_at"), "2024-01-16 01:30:00"); /* -02:00 to UTC */
    cr_assert_str_eq(sfield(&c, 2, "sent_at"), "2024-01-15 19:30:00.250");
    cr_assert_str_eq(sfield(&c, 2, "sender"), "Carol");
    conv_free(&c);
}

Test(text, lines_before_the_first_message_are_kept)
{
    conv c;
    convert_text("Chat with Bob\n2024-01-15 09:30:12 - Alice: hi\n2024-01-15 09:31:00 - Bob: yo\n"
                 "2024-01-15 09:32:00 - Alice: ok\n2024-01-15 09:33:00 - Bob: k\n",
                 &c);
    cr_assert(is_sms(&c));
    cr_assert_eq(c.nrows, 5);
    cr_assert_null(sfield(&c, 0, "sent_at"));
    cr_assert_null(sfield(&c, 0, "sender"));
    cr_assert_str_eq(sfield(&c, 0, "body"), "Chat with Bob");
    cr_assert_str_eq(sfield(&c, 1, "body"), "hi");
    conv_free(&c);
}

Test(text, mixed_or_unknown_files_fall_back_to_lines)
{
    conv c;
    /* Half the lines in one shape, half in another: neither reaches 80%. */
    convert_text("2024-01-15 09:30:12 - Alice: hi\n[15/01/2024, 09:30:12] Bob: yo\n"
                 "2024-01-15 09:31:12 - Alice: a\n[15/01/2024, 09:31:12] Bob: b\n",
                 &c);
    cr_assert_not(is_sms(&c));
    cr_assert_eq(c.nrows, 4);
    cr_assert_str_eq(sfield(&c, 1, "text"), "[15/01/2024, 09:30:12] Bob: yo");
    conv_free(&c);
    /* Prose with a date in it is prose. */
    convert_text("Meeting notes\nOn 2024-01-15 09:30 we met.\nAlice: agreed\n", &c);
    cr_assert_not(is_sms(&c));
    cr_assert_eq(c.nrows, 3);
    conv_free(&c);
    /* A timestamp that is not a real date does not count. */
    convert_text("2024-02-30 09:30:12 - Alice: hi\n2024-13-01 09:30:12 - Bob: yo\n", &c);
    cr_assert_not(is_sms(&c));
    conv_free(&c);
}

/* A file whose line `at` (1-based) has len bytes, the others being short chat lines. */
static char *file_with_long_line(int at, size_t len, int total)
{
    char *path = lh_xasprintf("%s/long.txt", txdir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (int i = 1; i <= total; i++) {
        if (i == at) {
            for (size_t k = 0; k < len; k++)
                fputc('x', f);
            fputc('\n', f);
        } else {
            fprintf(f, "2024-01-15 09:30:%02d - Alice: line %d\n", i % 60, i);
        }
    }
    cr_assert_eq(fclose(f), 0);
    return path;
}

Test(text, a_line_over_one_mib_is_too_large_and_named)
{
    lh_err err = LH_ERR_INIT;
    conv c;
    char *path = file_with_long_line(3, (1u << 20) + 1, 5);
    cr_assert_eq(convert_path(path, &c, &err), -1);
    cr_assert_eq(err.code, LH_TOO_LARGE);
    cr_assert_not_null(strstr(err.message, "line 3"), "%s", err.message);
    free(path);

    /* Past the detection sample, so it fails while writing: the output is removed. */
    err = (lh_err)LH_ERR_INIT;
    path = file_with_long_line(450, 3u << 20, 460);
    cr_assert_eq(convert_path(path, &c, &err), -1);
    cr_assert_eq(err.code, LH_TOO_LARGE);
    cr_assert_not_null(strstr(err.message, "line 450"), "%s", err.message);
    free(path);

    /* Exactly 1 MiB (plus a CR) is allowed. */
    path = file_with_long_line(2, 1u << 20, 4);
    convert_ok(path, &c);
    cr_assert_eq(c.nrows, 4);
    conv_free(&c);
    free(path);
}

Test(text, long_file_streams_through_the_buffer)
{
    /* ~5 MiB of CRLF lines of varying length: every row comes back, in order. */
    char letters[151];
    for (int i = 0; i < 150; i++)
        letters[i] = (char)('a' + i % 26);
    letters[150] = '\0';
    char *path = lh_xasprintf("%s/big.txt", txdir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (int i = 0; i < 60000; i++)
        fprintf(f, "row %d %.*s\r\n", i, i % 150, letters);
    cr_assert_eq(fclose(f), 0);
    conv c;
    convert_ok(path, &c);
    cr_assert_eq(c.nrows, 60000);
    char want[200];
    for (int i = 0; i < 60000; i += 997) {
        snprintf(want, sizeof want, "row %d %.*s", i, i % 150, letters);
        cr_assert_str_eq(sfield(&c, (size_t)i, "text"), want);
        cr_assert_eq(ifield(&c, (size_t)i, "line_number"), i + 1);
    }
    conv_free(&c);
    free(path);
}

Test(text, existing_output_is_not_overwritten)
{
    char *in = tx_write("in.txt", "hello\n", 6);
    char *out = tx_write("taken.ndjson", "keep", 4);
    lh_err err = LH_ERR_INIT;
    lh_column *cols = NULL;
    size_t ncols = 0;
    int64_t rows = 0;
    cr_assert_eq(lh_ingest__text_to_ndjson(in, "in.txt", out, &cols, &ncols, &rows, &err), -1);
    cr_assert_eq(err.code, LH_IO_ERROR);
    size_t len = 0;
    char *data = lh_file_read_all(out, 100, &len, &err);
    cr_assert_not_null(data);
    cr_assert_str_eq(data, "keep");
    free(data);
    /* A missing input is an error too, and creates nothing. */
    char *missing = lh_xasprintf("%s/none.txt", txdir);
    char *out2 = lh_xasprintf("%s/out2.ndjson", txdir);
    cr_assert_eq(lh_ingest__text_to_ndjson(missing, NULL, out2, &cols, &ncols, &rows, &err), -1);
    cr_assert_neq(access(out2, F_OK), 0);
    free(in);
    free(out);
    free(missing);
    free(out2);
}

Test(text, a_failed_write_removes_the_output)
{
    setenv("LH_FAULT", "write:1", 1);
    lh_fault_reset();
    char *in = tx_write("in.txt", "hello\nworld\n", 12);
    lh_err err = LH_ERR_INIT;
    conv c;
    cr_assert_eq(convert_path(in, &c, &err), -1);
    cr_assert_eq(err.code, LH_IO_ERROR);
    unsetenv("LH_FAULT");
    lh_fault_reset();
    free(in);
}
