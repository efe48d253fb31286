/* PDF reader: one NDJSON row per page {source_file, page_number, text_content, extraction}.
 * MuPDF gives the text layer; a page without one (a scan) is rendered to a grayscale bitmap
 * and read with Tesseract. Pages are read, written and freed one at a time, so memory stays
 * bounded by the largest page, whatever the page count. Design: docs/internals/ingest-pdf.md. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>
#include <tesseract/capi.h>

#include "ingest/ingest_int.h"

const lh_column lh_ingest__pdf_columns[4] = {
    {.name = "source_file", .type = "VARCHAR"},
    {.name = "page_number", .type = "INTEGER"},
    {.name = "text_content", .type = "VARCHAR"},
    {.name = "extraction", .type = "VARCHAR"},
};

/* A page's text larger than this is refused (too_large) rather than buffered: real pages
 * hold a few kilobytes, so only a hostile or broken file gets near it. */
#define PDF_MAX_PAGE_TEXT (8u << 20)
/* MuPDF's resource cache (fonts, images) per call. */
#define PDF_STORE_BYTES (64u << 20)
/* OCR renders at 300 dpi, Tesseract's sweet spot, unless the bitmap would exceed this many
 * pixels (one byte each); oversized pages are rendered at a lower resolution instead. */
#define OCR_DPI 300
#define OCR_MAX_PIXELS (60u * 1000 * 1000)
/* Below this Tesseract cannot read anything useful. */
#define OCR_MIN_DPI 30

typedef struct pdf_run {
    fz_context *ctx;
    fz_document *doc;
    TessBaseAPI *tess; /* created on the first page that needs OCR */
    const char *display;
    int fd;
    bool created; /* the NDJSON file is ours to remove on failure */
    int warnings; /* MuPDF warnings and errors since the current page began */
    char first_warning[160];
    lh_buf text; /* the current page's text */
    lh_buf line; /* the current page's NDJSON line */
} pdf_run;

/* MuPDF reports every recoverable oddity of real-world files on stderr; they go to our debug
 * log instead. They are also counted per page: a page that comes out empty after MuPDF
 * complained about it is damaged, not blank (see do_page). */
static void note_warning(pdf_run *r, const char *message)
{
    if (r->warnings++ == 0)
        snprintf(r->first_warning, sizeof r->first_warning, "%s", message);
}

static void mupdf_warning(void *user, const char *message)
{
    note_warning(user, message);
    LH_LOG_DEBUG("ingest", "mupdf warning: %s", message);
}

static void mupdf_error(void *user, const char *message)
{
    note_warning(user, message);
    LH_LOG_DEBUG("ingest", "mupdf error: %s", message);
}

/* Reads up to n bytes at off; returns the count read or -1 (errno set). */
static ssize_t read_at(int fd, char *buf, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, off + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

/* Checks the file's envelope before MuPDF sees it, because MuPDF "repairs" almost anything:
 * junk would become an empty document and a truncated file a run of blank pages. A PDF has
 * "%PDF-" in its first 1024 bytes and "%%EOF" in its last 1024, the same tolerance the PDF
 * reference's implementation notes give viewers. */
static int check_envelope(const char *path, const char *display, lh_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lh_err_errno(err, errno, "cannot open '%s'", display);
    char head[1024], tail[1024];
    struct stat st;
    ssize_t nh = fstat(fd, &st) == 0 ? read_at(fd, head, sizeof head, 0) : -1;
    off_t tail_at = 0;
    if (nh >= 0 && st.st_size > (off_t)sizeof tail)
        tail_at = st.st_size - (off_t)sizeof tail;
    ssize_t nt = nh >= 0 ? read_at(fd, tail, sizeof tail, tail_at) : -1;
    int e = errno;
    close(fd);
    if (nh < 0 || nt < 0)
        return lh_err_errno(err, e, "cannot read '%s'", display);
    if (nh == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is empty", display);
    if (!contains(head, (size_t)nh, "%PDF-"))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is not a PDF: no %%PDF- header",
                          display);
    if (!contains(tail, (size_t)nt, "%%EOF"))
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "the PDF '%s' is truncated: no %%EOF marker at its end", display);
    return 0;
}

/* ---- MuPDF calls ----
 * Each throwing call sits alone in a small wrapper that stores its result through a pointer
 * and returns -1 when MuPDF threw (fz_caught_message then says why). No local variable lives
 * across the setjmp in fz_try, so none can be clobbered by the longjmp. */

static int mu_open_file(fz_context *ctx, const char *path, fz_stream **out)
{
    fz_try(ctx) *out = fz_open_file(ctx, path);
    fz_catch(ctx) return -1;
    return 0;
}

/* The PDF handler is called directly: a scratch file's name says nothing about its type,
 * and MuPDF's handler registry would link every other format's reader into the program. */
static int mu_open_pdf(fz_context *ctx, fz_stream *stm, fz_document **out)
{
    fz_try(ctx) *out = &pdf_open_document_with_stream(ctx, stm)->super;
    fz_catch(ctx) return -1;
    return 0;
}

static int mu_needs_password(fz_context *ctx, fz_document *doc, int *out)
{
    fz_try(ctx) *out = fz_needs_password(ctx, doc);
    fz_catch(ctx) return -1;
    return 0;
}

static int mu_count_pages(fz_context *ctx, fz_document *doc, int *out)
{
    fz_try(ctx) *out = fz_count_pages(ctx, doc);
    fz_catch(ctx) return -1;
    return 0;
}

static int mu_load_page(fz_context *ctx, fz_document *doc, int index, fz_page **out)
{
    fz_try(ctx) *out = fz_load_page(ctx, doc, index);
    fz_catch(ctx) return -1;
    return 0;
}

static int mu_stext(fz_context *ctx, fz_page *page, const fz_stext_options *opts,
                    fz_stext_page **out)
{
    fz_try(ctx) *out = fz_new_stext_page_from_page(ctx, page, opts);
    fz_catch(ctx) return -1;
    return 0;
}

static int mu_bound_page(fz_context *ctx, fz_page *page, fz_rect *out)
{
    fz_try(ctx) *out = fz_bound_page(ctx, page);
    fz_catch(ctx) return -1;
    return 0;
}

static int mu_render_gray(fz_context *ctx, fz_page *page, float scale, fz_pixmap **out)
{
    fz_try(ctx) *out = fz_new_pixmap_from_page(ctx, page, fz_scale(scale, scale),
                                               fz_device_gray(ctx), 0);
    fz_catch(ctx) return -1;
    return 0;
}

/* Names the failure and keeps MuPDF's own words in detail. MuPDF running out of memory on a
 * page (a huge image, say) is the file's size talking, not corruption. */
static int mu_fail(pdf_run *r, lh_code code, const char *what, int64_t pageno, lh_err *err)
{
    if (fz_caught(r->ctx) == FZ_ERROR_MEMORY) {
        code = LH_TOO_LARGE;
        what = "needs more memory than the reader may use";
    }
    if (pageno > 0)
        lh_err_set(err, code, "page %lld of '%s' %s", (long long)pageno, r->display, what);
    else
        lh_err_set(err, code, "'%s' %s", r->display, what);
    lh_err_detail(err, "%s", fz_caught_message(r->ctx));
    return -1;
}

static int open_document(pdf_run *r, const char *path, int64_t *npages, lh_err *err)
{
    fz_stream *stm = NULL;
    if (mu_open_file(r->ctx, path, &stm) != 0)
        return mu_fail(r, LH_IO_ERROR, "cannot be opened", 0, err);
    int rc = mu_open_pdf(r->ctx, stm, &r->doc);
    fz_drop_stream(r->ctx, stm); /* the document keeps its own reference */
    if (rc != 0)
        return mu_fail(r, LH_INVALID_ARGUMENT, "is not a readable PDF", 0, err);
    int locked = 0, count = 0;
    if (mu_needs_password(r->ctx, r->doc, &locked) != 0)
        return mu_fail(r, LH_INVALID_ARGUMENT, "is corrupt: its encryption cannot be read", 0,
                       err);
    if (locked)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is encrypted", r->display);
    if (mu_count_pages(r->ctx, r->doc, &count) != 0)
        return mu_fail(r, LH_INVALID_ARGUMENT, "is corrupt: its page tree cannot be read", 0,
                       err);
    if (count <= 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "'%s' is damaged: it has no pages",
                          r->display);
    if (count > LH_PDF_MAX_PAGES)
        return lh_err_set(err, LH_TOO_LARGE, "'%s' has %d pages, more than the limit of %d",
                          r->display, count, LH_PDF_MAX_PAGES);
    *npages = count;
    return 0;
}

/* A character that leaves a page blank: ASCII white space and controls, no-break and the
 * Unicode spaces, zero-width characters and the BOM. */
static bool blank_rune(int c)
{
    return c <= 0x20 || c == 0x7f || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200f) ||
           c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000 ||
           c == 0xfeff || c == 0xfffd;
}

static void trim_right(lh_buf *b)
{
    while (b->len > 0 && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\n' ||
                          b->data[b->len - 1] == '\t' || b->data[b->len - 1] == '\r' ||
                          b->data[b->len - 1] == '\f'))
        b->len--;
    if (b->data)
        b->data[b->len] = '\0';
}

/* Appends the page's text layer to r->text: one line per text line, a blank line between
 * blocks. Sets *blank when it holds nothing but white space. */
static int page_text(pdf_run *r, fz_page *page, int64_t pageno, bool *blank, lh_err *err)
{
    fz_context *ctx = r->ctx;
    fz_stext_options opts = {0};
    fz_stext_page *st = NULL;
    if (mu_stext(ctx, page, &opts, &st) != 0)
        return mu_fail(r, LH_INVALID_ARGUMENT, "is corrupt", pageno, err);
    int rc = 0;
    *blank = true;
    for (fz_stext_block *b = st->first_block; b && rc == 0; b = b->next) {
        if (b->type != FZ_STEXT_BLOCK_TEXT)
            continue;
        if (r->text.len > 0)
            lh_buf_putc(&r->text, '\n');
        for (fz_stext_line *ln = b->u.t.first_line; ln && rc == 0; ln = ln->next) {
            for (fz_stext_char *ch = ln->first_char; ch && rc == 0; ch = ch->next) {
                char utf8[8];
                int c = ch->c > 0 && ch->c <= 0x10ffff ? ch->c : 0xfffd;
                int n = fz_runetochar(utf8, c);
                lh_buf_append(&r->text, utf8, (size_t)n);
                *blank = *blank && blank_rune(c);
                if (r->text.len > PDF_MAX_PAGE_TEXT)
                    rc = lh_err_set(err, LH_TOO_LARGE,
                                    "page %lld of '%s' holds more than %u MiB of text",
                                    (long long)pageno, r->display, PDF_MAX_PAGE_TEXT >> 20);
            }
            lh_buf_putc(&r->text, '\n');
        }
    }
    fz_drop_stext_page(ctx, st);
    trim_right(&r->text);
    return rc;
}

/* The OCR engine, started on the first page that needs it. Its diagnostics go to /dev/null:
 * the outcome is reported through our own error. */
static int ocr_start(pdf_run *r, lh_err *err)
{
    if (r->tess)
        return 0;
    TessBaseAPI *t = TessBaseAPICreate();
    if (!t)
        return lh_err_set(err, LH_INTERNAL, "cannot start OCR for '%s'", r->display);
    (void)TessBaseAPISetVariable(t, "debug_file", "/dev/null"); /* best effort: quiet only */
    if (TessBaseAPIInit3(t, NULL, "eng") != 0) {
        TessBaseAPIDelete(t);
        lh_err_set(err, LH_INTERNAL, "cannot start OCR for '%s': Tesseract has no 'eng' data",
                   r->display);
        lh_err_detail(err, "install tesseract-ocr-eng or set TESSDATA_PREFIX");
        return -1;
    }
    r->tess = t;
    return 0;
}

/* Renders the page in grayscale and reads it with Tesseract into r->text. */
static int page_ocr(pdf_run *r, fz_page *page, int64_t pageno, lh_err *err)
{
    fz_context *ctx = r->ctx;
    if (ocr_start(r, err) != 0)
        return -1;
    fz_rect box = fz_empty_rect;
    if (mu_bound_page(ctx, page, &box) != 0)
        return mu_fail(r, LH_INVALID_ARGUMENT, "has no readable size", pageno, err);
    double w_in = (box.x1 - box.x0) / 72.0, h_in = (box.y1 - box.y0) / 72.0;
    if (!(w_in > 0 && h_in > 0))
        return 0; /* a page with no area has nothing to read */
    double dpi = OCR_DPI;
    if (w_in * dpi * h_in * dpi > OCR_MAX_PIXELS)
        dpi = sqrt(OCR_MAX_PIXELS / (w_in * h_in));
    if (dpi < OCR_MIN_DPI)
        return lh_err_set(err, LH_TOO_LARGE, "page %lld of '%s' is too large to OCR",
                          (long long)pageno, r->display);
    fz_pixmap *pix = NULL;
    if (mu_render_gray(ctx, page, (float)(dpi / 72.0), &pix) != 0)
        return mu_fail(r, LH_INVALID_ARGUMENT, "cannot be rendered for OCR", pageno, err);
    int w = fz_pixmap_width(ctx, pix), h = fz_pixmap_height(ctx, pix);
    int stride = (int)fz_pixmap_stride(ctx, pix);
    int rc = 0;
    /* Tesseract cannot find text lines in a sliver of a few pixels; such a page is empty. */
    if (w >= 8 && h >= 8) {
        double t0 = lh_mono_ms();
        TessBaseAPISetImage(r->tess, fz_pixmap_samples(ctx, pix), w, h, 1, stride);
        TessBaseAPISetSourceResolution(r->tess, (int)dpi);
        char *s = TessBaseAPIGetUTF8Text(r->tess);
        if (!s) {
            rc = lh_err_set(err, LH_INTERNAL, "OCR of page %lld of '%s' failed",
                            (long long)pageno, r->display);
        } else {
            size_t n = strlen(s);
            if (n > PDF_MAX_PAGE_TEXT)
                rc = lh_err_set(err, LH_TOO_LARGE,
                                "page %lld of '%s' holds more than %u MiB of text",
                                (long long)pageno, r->display, PDF_MAX_PAGE_TEXT >> 20);
            else
                lh_buf_append(&r->text, s, n);
            TessDeleteText(s);
        }
        TessBaseAPIClear(r->tess);
        LH_LOG_DEBUG("ingest", "ocr page=%lld px=%dx%d dpi=%.0f ms=%.0f", (long long)pageno, w,
                     h, dpi, lh_mono_ms() - t0);
    }
    fz_drop_pixmap(ctx, pix);
    trim_right(&r->text);
    return rc;
}

static int write_row(pdf_run *r, const char *source_file, int64_t pageno, bool ocr, lh_err *err)
{
    lh_buf *l = &r->line;
    lh_buf_reset(l);
    lh_buf_puts(l, "{\"source_file\":");
    lh_buf_json_string(l, source_file, strlen(source_file));
    lh_buf_printf(l, ",\"page_number\":%lld,\"text_content\":", (long long)pageno);
    lh_buf_json_string(l, r->text.data ? r->text.data : "", r->text.len);
    lh_buf_printf(l, ",\"extraction\":\"%s\"}\n", ocr ? "ocr" : "text");
    if (lh_write_full(r->fd, l->data, l->len, err) != 0)
        return lh_err_prefix(err, "cannot write rows of '%s': ", r->display);
    return 0;
}

/* One page: load it, take its text layer or OCR it, write its row, free it. */
static int do_page(pdf_run *r, const char *source_file, int64_t pageno, int64_t *ocr_pages,
                   lh_err *err)
{
    fz_context *ctx = r->ctx;
    r->warnings = 0;
    fz_page *page = NULL;
    if (mu_load_page(ctx, r->doc, (int)(pageno - 1), &page) != 0)
        return mu_fail(r, LH_INVALID_ARGUMENT, "is corrupt", pageno, err);
    lh_buf_reset(&r->text);
    bool blank = true, ocr = false;
    int rc = page_text(r, page, pageno, &blank, err);
    if (rc == 0 && blank) {
        lh_buf_reset(&r->text);
        ocr = true;
        rc = page_ocr(r, page, pageno, err);
    }
    fz_drop_page(ctx, page);
    /* MuPDF repairs what it can and draws a missing or broken object as nothing, so a
     * damaged page looks blank. Blank and complained about means damaged. */
    if (rc == 0 && r->text.len == 0 && r->warnings > 0) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "page %lld of '%s' is damaged: nothing on it "
                   "could be read", (long long)pageno, r->display);
        lh_err_detail(err, "%s", r->first_warning);
        return -1;
    }
    if (rc == 0)
        rc = write_row(r, source_file, pageno, ocr, err);
    if (rc == 0 && ocr)
        (*ocr_pages)++;
    return rc;
}

int lh_ingest__pdf_to_ndjson(const char *pdf_path, const char *source_file,
                             const char *ndjson_path, int64_t *pages, int64_t *ocr_pages,
                             lh_err *err)
{
    pdf_run r = {.display = source_file && source_file[0] ? source_file : pdf_path, .fd = -1};
    lh_buf_init(&r.text);
    lh_buf_init(&r.line);
    int64_t npages = 0, nocr = 0;
    int rc = -1;
    if (check_envelope(pdf_path, r.display, err) != 0)
        goto out;
    r.ctx = fz_new_context(NULL, NULL, PDF_STORE_BYTES);
    if (!r.ctx) {
        lh_err_set(err, LH_INTERNAL, "cannot read '%s': out of memory for the PDF reader",
                   r.display);
        goto out;
    }
    fz_set_warning_callback(r.ctx, mupdf_warning, &r);
    fz_set_error_callback(r.ctx, mupdf_error, &r);
    if (open_document(&r, pdf_path, &npages, err) != 0)
        goto out;
    r.fd = open(ndjson_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (r.fd < 0) {
        lh_err_errno(err, errno, "cannot create '%s'", ndjson_path);
        goto out;
    }
    r.created = true;
    for (int64_t p = 1; p <= npages; p++)
        if (do_page(&r, source_file ? source_file : "", p, &nocr, err) != 0)
            goto out;
    if (close(r.fd) != 0) {
        r.fd = -1;
        lh_err_errno(err, errno, "cannot write rows of '%s'", r.display);
        goto out;
    }
    r.fd = -1;
    rc = 0;
    if (pages)
        *pages = npages;
    if (ocr_pages)
        *ocr_pages = nocr;
out:
    if (r.fd >= 0)
        close(r.fd);
    if (rc != 0 && r.created)
        lh_ingest__unlink_scratch(ndjson_path);
    if (r.tess) {
        TessBaseAPIEnd(r.tess);
        TessBaseAPIDelete(r.tess);
    }
    if (r.ctx) {
        fz_drop_document(r.ctx, r.doc);
        fz_drop_context(r.ctx);
    }
    lh_buf_release(&r.text);
    lh_buf_release(&r.line);
    return rc;
}
