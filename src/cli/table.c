/* Aligned tables for a terminal: `lakehouse sql` (format table) and `lakehouse datasets`.
 * Takes the same result document the JSON format produces, so embedded and --url modes
 * print identically. Column widths come from the content, capped so one long value cannot
 * push every other column off the screen. */
#include <string.h>

#include "cli/cli_int.h"

#define MAX_COL_WIDTH 40

typedef struct cell {
    char *text;
    size_t width; /* in code points, after truncation */
    bool right;   /* numbers are right-aligned */
} cell;

/* Decodes one UTF-8 character at p into *cp and returns its length; a malformed byte
 * counts as one character of its own (the terminal shows a replacement for it). */
static size_t next_char(const unsigned char *p, uint32_t *cp)
{
    size_t len = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
                                                         : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = len == 1 ? p[0] : (uint32_t)(p[0] & (0x7F >> len));
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (p[i] & 0x3F);
    }
    *cp = v;
    return len;
}

/* Terminal columns of a character: East Asian wide and emoji ranges take two. */
static size_t char_width(uint32_t cp)
{
    static const uint32_t wide[][2] = {
        {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
        {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
        {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
        {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD},
    };
    for (size_t i = 0; i < LH_ARRAY_LEN(wide); i++)
        if (cp >= wide[i][0] && cp <= wide[i][1])
            return 2;
    return 1;
}

/* Cuts the text to MAX_COL_WIDTH columns (the last one an ellipsis) at a character
 * boundary, and maps control characters (newlines inside values) to spaces so each row
 * stays on one line. */
static void fit(cell *c)
{
    for (char *p = c->text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    size_t width = 0, keep = 0, keep_width = 0;
    const unsigned char *p = (const unsigned char *)c->text;
    for (size_t i = 0; p[i];) {
        uint32_t cp;
        size_t len = next_char(p + i, &cp);
        width += char_width(cp);
        i += len;
        if (width <= MAX_COL_WIDTH - 1) {
            keep = i;
            keep_width = width;
        }
    }
    c->width = width;
    if (width <= MAX_COL_WIDTH)
        return;
    char *cut = lh_xmalloc(keep + sizeof "\xe2\x80\xa6");
    memcpy(cut, c->text, keep);
    memcpy(cut + keep, "\xe2\x80\xa6", sizeof "\xe2\x80\xa6"); /* U+2026 and the NUL */
    free(c->text);
    c->text = cut;
    c->width = keep_width + 1;
}

static cell render(const json_t *v)
{
    cell c = {0};
    if (!v || json_is_null(v)) {
        c.text = lh_xstrdup("NULL");
    } else if (json_is_string(v)) {
        c.text = lh_xstrdup(json_string_value(v));
    } else if (json_is_integer(v)) {
        c.text = lh_xasprintf("%lld", (long long)json_integer_value(v));
        c.right = true;
    } else if (json_is_real(v)) {
        c.text = lh_xasprintf("%.15g", json_real_value(v));
        c.right = true;
    } else if (json_is_boolean(v)) {
        c.text = lh_xstrdup(json_is_true(v) ? "true" : "false");
    } else {
        c.text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!c.text)
            c.text = lh_xstrdup("?");
    }
    fit(&c);
    return c;
}

static void put_cell(FILE *out, const cell *c, size_t width, bool last)
{
    size_t pad = width > c->width ? width - c->width : 0;
    if (c->right)
        fprintf(out, "%*s", (int)pad, "");
    fputs(c->text, out);
    if (!c->right && !last)
        fprintf(out, "%*s", (int)pad, "");
}

static const char *column_name(const json_t *col)
{
    const char *name = json_is_object(col) ? json_string_value(json_object_get(col, "name"))
                                           : json_string_value(col);
    return name ? name : "?";
}

int lh_cli__print_table(FILE *out, const json_t *doc, lh_err *err)
{
    const json_t *cols = json_object_get(doc, "columns");
    const json_t *rows = json_object_get(doc, "rows");
    if (!json_is_array(cols) || !json_is_array(rows))
        return lh_err_set(err, LH_INTERNAL, "result has no columns or rows");
    size_t nc = json_array_size(cols), nr = json_array_size(rows);
    cell *cells = lh_xcalloc((nr + 1) * (nc ? nc : 1), sizeof *cells);
    size_t *width = lh_xcalloc(nc ? nc : 1, sizeof *width);
    for (size_t j = 0; j < nc; j++) {
        cell *h = &cells[j];
        h->text = lh_xstrdup(column_name(json_array_get(cols, j)));
        fit(h);
        width[j] = h->width;
    }
    for (size_t i = 0; i < nr; i++) {
        const json_t *row = json_array_get(rows, i);
        for (size_t j = 0; j < nc; j++) {
            cell *c = &cells[(i + 1) * nc + j];
            *c = render(json_array_get(row, j));
            if (c->width > width[j])
                width[j] = c->width;
        }
    }
    for (size_t i = 0; i <= nr; i++) {
        for (size_t j = 0; j < nc; j++) {
            fputs(j ? " | " : " ", out);
            put_cell(out, &cells[i * nc + j], width[j], j + 1 == nc);
        }
        fputc('\n', out);
        if (i == 0) {
            for (size_t j = 0; j < nc; j++) {
                fputs(j ? "-+-" : "-", out);
                for (size_t k = 0; k < width[j]; k++)
                    fputc('-', out);
            }
            fputc('\n', out);
        }
    }
    fprintf(out, "(%zu row%s)\n", nr, nr == 1 ? "" : "s");
    if (json_is_true(json_object_get(doc, "truncated")))
        fprintf(out, "(truncated: more rows exist; raise --limit to see them)\n");
    for (size_t i = 0; i < (nr + 1) * nc; i++)
        free(cells[i].text);
    free(cells);
    free(width);
    const json_t *e = json_object_get(doc, "error");
    if (e) {
        const char *msg = json_string_value(json_object_get(e, "message"));
        return lh_err_set(err, LH_INTERNAL, "%s", msg ? msg : "the result ended with an error");
    }
    if (fflush(out) != 0)
        return lh_err_set(err, LH_IO_ERROR, "cannot write the result to stdout");
    return 0;
}
