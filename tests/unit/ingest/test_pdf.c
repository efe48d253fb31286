/* Tests for the PDF reader (src/ingest/pdf.c): text-layer PDFs, scans read by OCR, mixed
 * documents, encrypted, corrupt and junk files. The PDFs are made at test time with MuPDF's
 * document writer (a scan is a text page rendered to a bitmap and wrapped as an image-only
 * page), so every run checks the same bytes the reader would see from a real export. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

#include "ingest/ingest_int.h"

static char tdir[64];

static void setup(void)
{
    snprintf(tdir, sizeof tdir, "/tmp/lh-pdf-XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
}

static void teardown(void)
{
    lh_err err = LH_ERR_INIT;
    if (lh_remove_tree(tdir, &err) != 0)
        cr_log_warn("cannot remove '%s': %s", tdir, err.message);
}

TestSuite(pdf, .init = setup, .fini = teardown, .timeout = 120);

static char *tpath(const char *name)
{
    return lh_xasprintf("%s/%s", tdir, name);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- fixture generators ---- */

/* A page: lines of text, drawn in Helvetica at size pt from the top-left margin. */
typedef struct gen_page {
    const char *const *lines;
    size_t nlines;
} gen_page;

static const char *const RESUME_P1[] = {
    "Jordan Rivera - Senior Software Engineer",
    "jordan.rivera@example.com  (555) 010-4477",
    "Summary: 9 years of experience building payroll and staffing platforms.",
};
static const char *const RESUME_P2[] = {
    "Experience",
    "Staffing Partners Inc. - Lead Engineer, 2019-2024",
    "Placed 1,200 contractors a year through a scheduling service written in Go.",
};
static const char *const RESUME_P3[] = {
    "Education and references",
    "B.Sc. Computer Science, State University",
    "References available on request.",
};
static const gen_page RESUME[] = {{RESUME_P1, 3}, {RESUME_P2, 3}, {RESUME_P3, 3}};

/* Scans use a small page and a large font so OCR stays quick, even under ASan. */
static const char *const SCAN_P1[] = {"Senior Engineer", "Ten years experience", "Staffing agency"};
static const char *const SCAN_P2[] = {"Second page", "Payroll contractor", "Timesheet approved"};
static const char *const SCAN_P3[] = {"Third page", "Invoice overdue", "Recruiter notes"};
static const gen_page SCAN[] = {{SCAN_P1, 3}, {SCAN_P2, 3}, {SCAN_P3, 3}};

/* Writes a PDF whose pages carry a real text layer. options go to MuPDF's PDF writer
 * (e.g. "encrypt=aes-256,user-password=x"). */
static void gen_text_pdf(const char *path, const gen_page *pages, size_t npages, float w,
                         float h, float size, const char *options)
{
    fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
    cr_assert_not_null(ctx);
    fz_document_writer *wri = NULL;
    fz_font *font = NULL;
    fz_var(wri);
    fz_var(font);
    fz_try(ctx)
    {
        font = fz_new_base14_font(ctx, "Helvetica");
        wri = fz_new_document_writer(ctx, path, "pdf", options);
        for (size_t p = 0; p < npages; p++) {
            fz_device *dev = fz_begin_page(ctx, wri, fz_make_rect(0, 0, w, h));
            fz_text *text = fz_new_text(ctx);
            for (size_t i = 0; i < pages[p].nlines; i++) {
                fz_matrix trm = fz_make_matrix(size, 0, 0, -size, 24, 24 + size * 1.5f * (i + 1));
                fz_show_string(ctx, text, font, trm, pages[p].lines[i], 0, 0, FZ_BIDI_LTR,
                               FZ_LANG_UNSET);
            }
            const float black = 0;
            fz_fill_text(ctx, dev, text, fz_identity, fz_device_gray(ctx), &black, 1,
                         fz_default_color_params);
            fz_drop_text(ctx, text);
            fz_end_page(ctx, wri);
        }
        fz_close_document_writer(ctx, wri);
    }
    fz_always(ctx)
    {
        fz_drop_document_writer(ctx, wri);
        fz_drop_font(ctx, font);
    }
    fz_catch(ctx) cr_assert_fail("cannot write '%s': %s", path, fz_caught_message(ctx));
    fz_drop_context(ctx);
}

/* Writes a "scanned" PDF: each page of src rendered at dpi to a grayscale bitmap and placed
 * as the page's only content, so the result has no text layer at all. blank_after adds an
 * empty page (nothing drawn) after the others when true. */
static void gen_scan_pdf(const char *path, const char *src, float dpi, bool blank_after)
{
    fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
    cr_assert_not_null(ctx);
    fz_document *doc = NULL;
    fz_document_writer *wri = NULL;
    fz_var(doc);
    fz_var(wri);
    fz_try(ctx)
    {
        doc = &pdf_open_document(ctx, src)->super;
        wri = fz_new_document_writer(ctx, path, "pdf", "compress");
        int n = fz_count_pages(ctx, doc);
        for (int i = 0; i < n; i++) {
            fz_page *page = fz_load_page(ctx, doc, i);
            fz_rect box = fz_bound_page(ctx, page);
            fz_pixmap *pix = fz_new_pixmap_from_page(ctx, page, fz_scale(dpi / 72, dpi / 72),
                                                     fz_device_gray(ctx), 0);
            fz_drop_page(ctx, page);
            fz_image *img = fz_new_image_from_pixmap(ctx, pix, NULL);
            fz_drop_pixmap(ctx, pix);
            fz_device *dev = fz_begin_page(ctx, wri, box);
            /* An image fills the unit square; scale it to the page, y flipped as drawn. */
            fz_matrix ctm = fz_make_matrix(box.x1 - box.x0, 0, 0, box.y1 - box.y0, 0, 0);
            fz_fill_image(ctx, dev, img, ctm, 1, fz_default_color_params);
            fz_drop_image(ctx, img);
            fz_end_page(ctx, wri);
        }
        if (blank_after) {
            (void)fz_begin_page(ctx, wri, fz_make_rect(0, 0, 288, 144));
            fz_end_page(ctx, wri);
        }
        fz_close_document_writer(ctx, wri);
    }
    fz_always(ctx)
    {
        fz_drop_document_writer(ctx, wri);
        fz_drop_document(ctx, doc);
    }
    fz_catch(ctx) cr_assert_fail("cannot write '%s': %s", path, fz_caught_message(ctx));
    fz_drop_context(ctx);
}

static char *make_resume(void)
{
    char *p = tpath("resume.pdf");
    gen_text_pdf(p, RESUME, 3, 612, 792, 11, "compress");
    return p;
}

static char *make_scan(size_t npages, bool blank_after)
{
    char *text = tpath("scan-src.pdf");
    gen_text_pdf(text, SCAN, npages, 288, 144, 18, "compress");
    char *p = tpath(npages == 1 ? "scan1.pdf" : "scan.pdf");
    gen_scan_pdf(p, text, 150, blank_after);
    free(text);
    return p;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* ---- running the reader ---- */

typedef struct rows {
    json_t *arr; /* the NDJSON rows, parsed */
    int64_t pages, ocr_pages;
} rows;

/* Runs the reader and parses every line it wrote; the run must succeed. */
static rows read_pdf(const char *pdf, const char *source_file)
{
    char *out = tpath("out.ndjson");
    unlink(out);
    lh_err err = LH_ERR_INIT;
    rows r = {.arr = json_array(), .pages = -1, .ocr_pages = -1};
    int rc = lh_ingest__pdf_to_ndjson(pdf, source_file, out, &r.pages, &r.ocr_pages, &err);
    cr_assert_eq(rc, 0, "reading '%s': %s (%s)", pdf, err.message, err.detail);
    FILE *f = fopen(out, "r");
    cr_assert_not_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        cr_assert_eq(line[n - 1], '\n', "every row ends with a newline");
        json_error_t je;
        json_t *row = json_loadb(line, (size_t)n, 0, &je);
        cr_assert_not_null(row, "row is not JSON: %s", je.text);
        cr_assert_eq(json_object_size(row), 4);
        json_array_append_new(r.arr, row);
    }
    free(line);
    fclose(f);
    free(out);
    cr_assert_eq((int64_t)json_array_size(r.arr), r.pages);
    return r;
}

/* Runs the reader on a bad file: it must fail with code, a message containing want, and
 * leave no output file. */
static void expect_failure(const char *pdf, const char *source_file, lh_code code,
                           const char *want)
{
    char *out = tpath("bad.ndjson");
    lh_err err = LH_ERR_INIT;
    int64_t pages = -1, ocr = -1;
    cr_assert_eq(lh_ingest__pdf_to_ndjson(pdf, source_file, out, &pages, &ocr, &err), -1);
    cr_assert_str_eq(lh_code_name(err.code), lh_code_name(code), "message: %s", err.message);
    cr_assert_not_null(strstr(err.message, want), "'%s' not in '%s'", want, err.message);
    cr_assert_not(exists(out), "a failed read leaves no output file");
    free(out);
}

static const char *row_str(const rows *r, size_t i, const char *key)
{
    json_t *v = json_object_get(json_array_get(r->arr, i), key);
    cr_assert(json_is_string(v), "row %zu: '%s' is not a string", i, key);
    return json_string_value(v);
}

static json_int_t row_page(const rows *r, size_t i)
{
    json_t *v = json_object_get(json_array_get(r->arr, i), "page_number");
    cr_assert(json_is_integer(v));
    return json_integer_value(v);
}

/* Case-insensitive substring test, for OCR output. */
static bool has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, word, n) == 0)
            return true;
    return false;
}

/* ---- text layer ---- */

Test(pdf, columns_are_the_contract)
{
    const char *names[] = {"source_file", "page_number", "text_content", "extraction"};
    const char *types[] = {"VARCHAR", "INTEGER", "VARCHAR", "VARCHAR"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_str_eq(lh_ingest__pdf_columns[i].name, names[i]);
        cr_assert_str_eq(lh_ingest__pdf_columns[i].type, types[i]);
    }
}

Test(pdf, text_layer_gives_one_row_per_page)
{
    char *pdf = make_resume();
    rows r = read_pdf(pdf, "jordan \"cv\".pdf");
    cr_assert_eq(r.pages, 3);
    cr_assert_eq(r.ocr_pages, 0);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(row_page(&r, i), (json_int_t)i + 1);
        cr_assert_str_eq(row_str(&r, i, "source_file"), "jordan \"cv\".pdf");
        cr_assert_str_eq(row_str(&r, i, "extraction"), "text");
    }
    cr_assert_str_eq(row_str(&r, 0, "text_content"),
                     "Jordan Rivera - Senior Software Engineer\n"
                     "jordan.rivera@example.com  (555) 010-4477\n"
                     "Summary: 9 years of experience building payroll and staffing platforms.");
    cr_assert_not_null(strstr(row_str(&r, 1, "text_content"), "Lead Engineer, 2019-2024"));
    cr_assert_not_null(strstr(row_str(&r, 2, "text_content"), "References available"));
    json_decref(r.arr);
    free(pdf);
}

Test(pdf, scratch_name_without_extension_is_read)
{
    char *pdf = make_resume();
    char *scratch = tpath("upload-7f3a.tmp");
    cr_assert_eq(rename(pdf, scratch), 0);
    rows r = read_pdf(scratch, "resume.pdf");
    cr_assert_eq(r.pages, 3);
    cr_assert_str_eq(row_str(&r, 0, "source_file"), "resume.pdf");
    json_decref(r.arr);
    free(scratch);
    free(pdf);
}

Test(pdf, non_ascii_text_is_valid_utf8_json)
{
    static const char *const lines[] = {
        "Caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac"};
    const gen_page page = {lines, 1};
    char *pdf = tpath("accents.pdf");
    gen_text_pdf(pdf, &page, 1, 400, 200, 12, NULL);
    rows r = read_pdf(pdf, "accents.pdf");
    cr_assert_str_eq(row_str(&r, 0, "text_content"), lines[0]);
    json_decref(r.arr);
    free(pdf);
}

Test(pdf, owner_password_only_is_readable)
{
    /* Permissions-only encryption (empty user password) opens in every viewer. */
    char *pdf = tpath("owner.pdf");
    gen_text_pdf(pdf, RESUME, 1, 612, 792, 11, "encrypt=aes-256,owner-password=boss");
    rows r = read_pdf(pdf, "owner.pdf");
    cr_assert_eq(r.pages, 1);
    cr_assert_not_null(strstr(row_str(&r, 0, "text_content"), "Senior Software Engineer"));
    json_decref(r.arr);
    free(pdf);
}

/* ---- OCR ---- */

Test(pdf, whitespace_only_text_layer_goes_to_ocr)
{
    static const char *const lines[] = {"   ", "\xc2\xa0 \xe2\x80\x83"};
    const gen_page page = {lines, 2};
    char *pdf = tpath("spaces.pdf");
    gen_text_pdf(pdf, &page, 1, 288, 144, 12, NULL);
    rows r = read_pdf(pdf, "spaces.pdf");
    cr_assert_eq(r.ocr_pages, 1);
    cr_assert_str_eq(row_str(&r, 0, "extraction"), "ocr");
    cr_assert_str_eq(row_str(&r, 0, "text_content"), "");
    json_decref(r.arr);
    free(pdf);
}

Test(pdf, scanned_page_is_read_by_ocr)
{
    char *pdf = make_scan(1, false);
    rows r = read_pdf(pdf, "scan.pdf");
    cr_assert_eq(r.pages, 1);
    cr_assert_eq(r.ocr_pages, 1);
    cr_assert_str_eq(row_str(&r, 0, "extraction"), "ocr");
    const char *t = row_str(&r, 0, "text_content");
    cr_assert(has_word(t, "senior engineer"), "OCR text: %s", t);
    cr_assert(has_word(t, "experience"), "OCR text: %s", t);
    cr_assert(has_word(t, "staffing"), "OCR text: %s", t);
    json_decref(r.arr);
    free(pdf);
}

Test(pdf, scanned_multi_page_keeps_page_order)
{
    char *pdf = make_scan(3, true);
    rows r = read_pdf(pdf, "scan.pdf");
    cr_assert_eq(r.pages, 4);
    cr_assert_eq(r.ocr_pages, 4);
    static const char *const want[][2] = {
        {"engineer", "staffing"}, {"payroll", "timesheet"}, {"invoice", "recruiter"}};
    for (size_t i = 0; i < 3; i++) {
        const char *t = row_str(&r, i, "text_content");
        cr_assert_eq(row_page(&r, i), (json_int_t)i + 1);
        cr_assert_str_eq(row_str(&r, i, "extraction"), "ocr");
        cr_assert(has_word(t, want[i][0]) && has_word(t, want[i][1]), "page %zu: %s", i + 1, t);
    }
    /* A page with nothing on it is still a row: OCR ran and found no text. */
    cr_assert_eq(row_page(&r, 3), 4);
    cr_assert_str_eq(row_str(&r, 3, "extraction"), "ocr");
    cr_assert_str_eq(row_str(&r, 3, "text_content"), "");
    json_decref(r.arr);
    free(pdf);
}

Test(pdf, mixed_document_says_how_each_page_was_read)
{
    /* Page 1 has a text layer, page 2 is a scan: build it by appending a scanned page to
     * a text page through MuPDF's writer. */
    char *scan = make_scan(1, false);
    char *pdf = tpath("mixed.pdf");
    fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
    fz_document *src = NULL;
    fz_document_writer *wri = NULL;
    fz_font *font = NULL;
    fz_var(src);
    fz_var(wri);
    fz_var(font);
    fz_try(ctx)
    {
        font = fz_new_base14_font(ctx, "Helvetica");
        wri = fz_new_document_writer(ctx, pdf, "pdf", NULL);
        fz_device *dev = fz_begin_page(ctx, wri, fz_make_rect(0, 0, 288, 144));
        fz_text *text = fz_new_text(ctx);
        fz_show_string(ctx, text, font, fz_make_matrix(12, 0, 0, -12, 20, 40), "Cover letter",
                       0, 0, FZ_BIDI_LTR, FZ_LANG_UNSET);
        const float black = 0;
        fz_fill_text(ctx, dev, text, fz_identity, fz_device_gray(ctx), &black, 1,
                     fz_default_color_params);
        fz_drop_text(ctx, text);
        fz_end_page(ctx, wri);
        src = &pdf_open_document(ctx, scan)->super;
        fz_page *page = fz_load_page(ctx, src, 0);
        dev = fz_begin_page(ctx, wri, fz_bound_page(ctx, page));
        fz_run_page(ctx, page, dev, fz_identity, NULL);
        fz_drop_page(ctx, page);
        fz_end_page(ctx, wri);
        fz_close_document_writer(ctx, wri);
    }
    fz_always(ctx)
    {
        fz_drop_document_writer(ctx, wri);
        fz_drop_document(ctx, src);
        fz_drop_font(ctx, font);
    }
    fz_catch(ctx) cr_assert_fail("cannot write mixed.pdf: %s", fz_caught_message(ctx));
    fz_drop_context(ctx);

    rows r = read_pdf(pdf, "mixed.pdf");
    cr_assert_eq(r.pages, 2);
    cr_assert_eq(r.ocr_pages, 1);
    cr_assert_str_eq(row_str(&r, 0, "extraction"), "text");
    cr_assert_str_eq(row_str(&r, 0, "text_content"), "Cover letter");
    cr_assert_str_eq(row_str(&r, 1, "extraction"), "ocr");
    cr_assert(has_word(row_str(&r, 1, "text_content"), "engineer"));
    json_decref(r.arr);
    free(pdf);
    free(scan);
}

/* ---- bad input ---- */

Test(pdf, encrypted_pdf_is_refused)
{
    char *pdf = tpath("locked.pdf");
    gen_text_pdf(pdf, RESUME, 2, 612, 792, 11, "encrypt=aes-256,user-password=s3cret");
    expect_failure(pdf, "payroll.pdf", LH_INVALID_ARGUMENT, "'payroll.pdf' is encrypted");
    free(pdf);
}

Test(pdf, junk_named_pdf_is_not_a_pdf)
{
    char *pdf = tpath("junk.pdf");
    unsigned char junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    write_bytes(pdf, junk, sizeof junk);
    expect_failure(pdf, "junk.pdf", LH_INVALID_ARGUMENT, "'junk.pdf' is not a PDF");
    free(pdf);
}

Test(pdf, empty_file_is_refused)
{
    char *pdf = tpath("empty.pdf");
    write_bytes(pdf, "", 0);
    expect_failure(pdf, "empty.pdf", LH_INVALID_ARGUMENT, "'empty.pdf' is empty");
    free(pdf);
}

Test(pdf, header_then_garbage_is_refused)
{
    char *pdf = tpath("garbage.pdf");
    static const char body[] = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\nthis is not an object\n"
                               "neither is this; no xref, no trailer\n";
    write_bytes(pdf, body, sizeof body - 1);
    expect_failure(pdf, "garbage.pdf", LH_INVALID_ARGUMENT, "'garbage.pdf'");
    free(pdf);
}

Test(pdf, truncated_pdf_is_refused)
{
    char *pdf = make_resume();
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *data = lh_file_read_all(pdf, 1 << 20, &len, &err);
    cr_assert_not_null(data);
    char *cut = tpath("cut.pdf");
    for (size_t n = 40; n < len; n += len / 7) {
        write_bytes(cut, data, n);
        expect_failure(cut, "cut.pdf", LH_INVALID_ARGUMENT, "'cut.pdf' is truncated");
    }
    free(data);
    free(cut);
    free(pdf);
}

Test(pdf, damaged_pages_are_refused_not_read_as_blank)
{
    /* A truncated file given a fake end: MuPDF repairs it and would draw the lost pages as
     * blank. They must be reported, not ingested as empty text. */
    char *pdf = make_resume();
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *data = lh_file_read_all(pdf, 1 << 20, &len, &err);
    cr_assert_not_null(data);
    char *cut = tpath("cut.pdf");
    for (size_t n = len / 10; n < len * 9 / 10; n += len / 5) {
        lh_buf b;
        lh_buf_init(&b);
        lh_buf_append(&b, data, n);
        lh_buf_puts(&b, "\n%%EOF\n");
        write_bytes(cut, b.data, b.len);
        lh_buf_release(&b);
        expect_failure(cut, "cut.pdf", LH_INVALID_ARGUMENT, "is damaged");
    }
    free(data);
    free(cut);
    free(pdf);
}

Test(pdf, missing_file_is_an_io_error)
{
    char *pdf = tpath("nope.pdf");
    expect_failure(pdf, "nope.pdf", LH_IO_ERROR, "cannot open 'nope.pdf'");
    free(pdf);
}

/* Writes a minimal PDF whose page tree claims `count` pages, all the same page object. */
static void write_many_pages_pdf(const char *path, int count)
{
    lh_buf b;
    lh_buf_init(&b);
    size_t off[4];
    lh_buf_puts(&b, "%PDF-1.4\n");
    off[1] = b.len;
    lh_buf_puts(&b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    off[2] = b.len;
    lh_buf_printf(&b, "2 0 obj\n<< /Type /Pages /Count %d /Kids [", count);
    for (int i = 0; i < count; i++)
        lh_buf_puts(&b, " 3 0 R");
    lh_buf_puts(&b, " ] >>\nendobj\n");
    off[3] = b.len;
    lh_buf_puts(&b, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n");
    size_t xref = b.len;
    lh_buf_puts(&b, "xref\n0 4\n0000000000 65535 f \n");
    for (int i = 1; i <= 3; i++)
        lh_buf_printf(&b, "%010zu 00000 n \n", off[i]);
    lh_buf_printf(&b, "trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", xref);
    write_bytes(path, b.data, b.len);
    lh_buf_release(&b);
}

Test(pdf, page_limit_is_too_large)
{
    char *pdf = tpath("huge.pdf");
    write_many_pages_pdf(pdf, LH_PDF_MAX_PAGES + 1);
    expect_failure(pdf, "huge.pdf", LH_TOO_LARGE, "10001 pages, more than the limit of 10000");
    free(pdf);
}

Test(pdf, existing_output_is_neither_overwritten_nor_removed)
{
    char *pdf = make_resume();
    char *out = tpath("taken.ndjson");
    write_bytes(out, "keep", 4);
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest__pdf_to_ndjson(pdf, "resume.pdf", out, NULL, NULL, &err), -1);
    cr_assert_eq(err.code, LH_IO_ERROR);
    size_t len = 0;
    char *data = lh_file_read_all(out, 100, &len, &err);
    cr_assert_not_null(data);
    cr_assert_str_eq(data, "keep");
    free(data);
    free(out);
    free(pdf);
}

Test(pdf, failed_write_leaves_no_file)
{
    char *pdf = make_resume();
    setenv("LH_FAULT", "write:2", 1);
    lh_fault_reset();
    expect_failure(pdf, "resume.pdf", LH_IO_ERROR, "cannot write rows of 'resume.pdf'");
    unsetenv("LH_FAULT");
    lh_fault_reset();
    free(pdf);
}

Test(pdf, libraries_stay_quiet_on_stderr)
{
    /* MuPDF warns about repaired files and Tesseract chatters about resolutions; neither may
     * reach the server's stderr. A file that needs repair and a scan exercise both. */
    char *scan = make_scan(1, false);
    char *garbage = tpath("garbage.pdf");
    static const char body[] = "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n"
                               "<< /Root 1 0 R >>\n%%EOF\n";
    write_bytes(garbage, body, sizeof body - 1);
    char *log = tpath("stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(fd >= 0 && saved >= 0);
    dup2(fd, 2);
    close(fd);
    rows r = read_pdf(scan, "scan.pdf");
    char *out = tpath("g.ndjson");
    lh_err err = LH_ERR_INIT;
    int rc = lh_ingest__pdf_to_ndjson(garbage, "garbage.pdf", out, NULL, NULL, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    cr_assert_eq(rc, -1);
    cr_assert_str_eq(err.message, "'garbage.pdf' is damaged: it has no pages");
    struct stat st;
    cr_assert_eq(stat(log, &st), 0);
    size_t len = 0;
    char *text = lh_file_read_all(log, 1 << 16, &len, &err);
    cr_assert_eq(st.st_size, 0, "stderr got: %s", text ? text : "?");
    free(text);
    json_decref(r.arr);
    free(out);
    free(log);
    free(garbage);
    free(scan);
}

/* ---- checked-in fixtures ----
 * tests/fixtures/pdf/ holds copies of the generated files for the API tests. This test wrote
 * them when run with LH_PDF_WRITE_FIXTURES set to that directory (an absolute path); without
 * it, the test checks that the checked-in copies still read as the generated ones do. */

static void copy_file(const char *src, const char *dst)
{
    lh_err err = LH_ERR_INIT;
    size_t len = 0;
    char *data = lh_file_read_all(src, 1 << 20, &len, &err);
    cr_assert_not_null(data, "%s", err.message);
    write_bytes(dst, data, len);
    free(data);
}

Test(pdf, checked_in_fixtures)
{
    const char *dir = getenv("LH_PDF_WRITE_FIXTURES");
    if (dir) {
        char *resume = make_resume(), *scan = make_scan(2, false);
        char *locked = tpath("locked.pdf");
        gen_text_pdf(locked, RESUME, 1, 612, 792, 11,
                     "compress,encrypt=aes-256,user-password=s3cret");
        static const char *const names[] = {"resume.pdf", "scanned.pdf", "encrypted.pdf"};
        const char *srcs[] = {resume, scan, locked};
        for (size_t i = 0; i < 3; i++) {
            char *dst = lh_xasprintf("%s/%s", dir, names[i]);
            copy_file(srcs[i], dst);
            free(dst);
        }
        /* truncated.pdf: the first half of resume.pdf; junk.pdf: 2 KiB of noise. */
        lh_err err = LH_ERR_INIT;
        size_t len = 0;
        char *data = lh_file_read_all(resume, 1 << 20, &len, &err);
        cr_assert_not_null(data);
        char *dst = lh_xasprintf("%s/truncated.pdf", dir);
        write_bytes(dst, data, len / 2);
        free(dst);
        uint32_t x = 77;
        for (size_t i = 0; i < 2048; i++) {
            x = x * 1103515245u + 12345u;
            data[i] = (char)(x >> 16);
        }
        dst = lh_xasprintf("%s/junk.pdf", dir);
        write_bytes(dst, data, 2048);
        free(dst);
        free(data);
        free(resume);
        free(scan);
        free(locked);
    }
    char *p = lh_xasprintf("%s/pdf/resume.pdf", LH_TEST_FIXTURES);
    rows r = read_pdf(p, "resume.pdf");
    cr_assert_eq(r.pages, 3);
    cr_assert_eq(r.ocr_pages, 0);
    cr_assert_not_null(strstr(row_str(&r, 0, "text_content"), "Senior Software Engineer"));
    json_decref(r.arr);
    free(p);

    p = lh_xasprintf("%s/pdf/scanned.pdf", LH_TEST_FIXTURES);
    r = read_pdf(p, "scanned.pdf");
    cr_assert_eq(r.pages, 2);
    cr_assert_eq(r.ocr_pages, 2);
    cr_assert(has_word(row_str(&r, 0, "text_content"), "experience"));
    cr_assert(has_word(row_str(&r, 1, "text_content"), "payroll"));
    json_decref(r.arr);
    free(p);

    p = lh_xasprintf("%s/pdf/encrypted.pdf", LH_TEST_FIXTURES);
    expect_failure(p, "encrypted.pdf", LH_INVALID_ARGUMENT, "'encrypted.pdf' is encrypted");
    free(p);
    p = lh_xasprintf("%s/pdf/truncated.pdf", LH_TEST_FIXTURES);
    expect_failure(p, "truncated.pdf", LH_INVALID_ARGUMENT, "'truncated.pdf' is truncated");
    free(p);
    p = lh_xasprintf("%s/pdf/junk.pdf", LH_TEST_FIXTURES);
    expect_failure(p, "junk.pdf", LH_INVALID_ARGUMENT, "'junk.pdf' is not a PDF");
    free(p);
}
