/* Format detection (src/ingest/detect.c): content decides, the file name is a hint only where
 * content cannot tell, and ?format= names parse to formats. */
#include <criterion/criterion.h>
#include <string.h>

#include "ingest/ingest_int.h"

static lh_format detect_ok(const char *content, size_t len, const char *name)
{
    lh_format f = (lh_format)-1;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest__detect((const unsigned char *)content, len, name, &f, &err), 0,
                 "%s: %s", name, err.message);
    return f;
}

static lh_err detect_fails(const char *content, size_t len, const char *name)
{
    lh_format f;
    lh_err err = LH_ERR_INIT;
    cr_assert_eq(lh_ingest__detect((const unsigned char *)content, len, name, &f, &err), -1,
                 "%s was accepted", name);
    return err;
}

#define S(lit) lit, sizeof(lit) - 1

Test(detect, magic_numbers_win_over_names)
{
    cr_expect_eq(detect_ok(S("PAR1\x15\x04"), "data.csv"), LH_FORMAT_PARQUET);
    cr_expect_eq(detect_ok(S("%PDF-1.7\n"), "notes.txt"), LH_FORMAT_PDF);
    cr_expect_eq(detect_ok(S("PK\x03\x04\x14\x00"), "x.json"), LH_FORMAT_ZIP);
    cr_expect_eq(detect_ok(S("PK\x05\x06\x00\x00"), "empty.zip"), LH_FORMAT_ZIP);
    cr_expect_eq(detect_ok(S("\x1f\x8b\x08\x00"), "rows.tgz"), LH_FORMAT_TAR);
    char tar[300];
    memset(tar, 'a', sizeof tar);
    memcpy(tar + 257, "ustar", 5);
    cr_expect_eq(detect_ok(tar, sizeof tar, "bundle"), LH_FORMAT_TAR);
}

Test(detect, json_from_content_and_name)
{
    cr_expect_eq(detect_ok(S("[{\"a\": 1}, {\"a\": 2}]"), "export"), LH_FORMAT_JSON);
    cr_expect_eq(detect_ok(S("{\"a\": 1}\n{\"a\": 2}\n"), "export.dat"), LH_FORMAT_JSON);
    /* A head cut in the middle of a long array is still JSON. */
    cr_expect_eq(detect_ok(S("[{\"name\": \"Ann\", \"city\": \"Aus"), "big"), LH_FORMAT_JSON);
    cr_expect_eq(detect_ok(S("\xEF\xBB\xBF  [1, 2]"), "bom"), LH_FORMAT_JSON);
    cr_expect_eq(detect_ok(S("{\"a\":1}\n"), "rows.ndjson"), LH_FORMAT_NDJSON);
    cr_expect_eq(detect_ok(S("{\"a\":1}\n"), "rows.jsonl"), LH_FORMAT_NDJSON);
}

Test(detect, chat_logs_opening_with_a_bracket_are_text)
{
    cr_expect_eq(detect_ok(S("[15/01/2024, 09:30:12] Alice: hi\n[15/01/2024, 09:31:00] Bob: "
                             "hello\n"),
                           "chat"),
                 LH_FORMAT_TEXT);
    /* A .txt name keeps even JSON-looking text as text. */
    cr_expect_eq(detect_ok(S("[1, 2, 3]\n"), "numbers.txt"), LH_FORMAT_TEXT);
}

Test(detect, delimited_text_without_a_name)
{
    cr_expect_eq(detect_ok(S("id,name\n1,Ann\n2,Bo\n"), "upload"), LH_FORMAT_CSV);
    cr_expect_eq(detect_ok(S("id\tname\n1\tAnn\n2\tBo\n"), "upload"), LH_FORMAT_TSV);
    cr_expect_eq(detect_ok(S("id;name\n1;Ann\n2;Bo\n"), "upload"), LH_FORMAT_CSV);
    /* Quoted delimiters do not count. */
    cr_expect_eq(detect_ok(S("a,b\n\"x,y\",2\n3,4\n"), "upload"), LH_FORMAT_CSV);
    /* Prose with a stray comma is not a table. */
    cr_expect_eq(detect_ok(S("Dear team,\nthe report is late\nsorry about that\n"), "letter"),
                 LH_FORMAT_TEXT);
}

Test(detect, names_decide_between_text_formats)
{
    cr_expect_eq(detect_ok(S("a b c\n"), "x.csv"), LH_FORMAT_CSV);
    cr_expect_eq(detect_ok(S("a b c\n"), "x.TSV"), LH_FORMAT_TSV);
    cr_expect_eq(detect_ok(S("a,b\n1,2\n"), "x.log"), LH_FORMAT_TEXT);
}

Test(detect, binary_and_mislabelled_content_is_refused)
{
    lh_err e = detect_fails(S("a,b\n\0\0\x01\x02"), "junk.csv");
    cr_expect_eq(e.code, LH_UNSUPPORTED_MEDIA);
    cr_expect(strstr(e.message, "binary content") != NULL, "%s", e.message);
    e = detect_fails(S("\xff\xfe" "a\x00,\x00"), "wide.csv");
    cr_expect_eq(e.code, LH_UNSUPPORTED_MEDIA);
    cr_expect(strstr(e.message, "UTF-16") != NULL, "%s", e.message);
    /* A name that promises a binary format, over text content. */
    e = detect_fails(S("id,name\n1,Ann\n"), "table.parquet");
    cr_expect_eq(e.code, LH_INVALID_ARGUMENT);
    cr_expect(strstr(e.message, "parquet") != NULL, "%s", e.message);
}

Test(detect, format_names_parse)
{
    static const struct {
        const char *name;
        lh_format f;
    } ok[] = {{"csv", LH_FORMAT_CSV},     {"TSV", LH_FORMAT_TSV},        {"json", LH_FORMAT_JSON},
              {"ndjson", LH_FORMAT_NDJSON}, {"parquet", LH_FORMAT_PARQUET}, {"pdf", LH_FORMAT_PDF},
              {"text", LH_FORMAT_TEXT},   {"sms", LH_FORMAT_TEXT},       {"zip", LH_FORMAT_ZIP},
              {"tar", LH_FORMAT_TAR}};
    for (size_t i = 0; i < LH_ARRAY_LEN(ok); i++) {
        lh_format f;
        lh_err err = LH_ERR_INIT;
        cr_expect_eq(lh_ingest__format_parse(ok[i].name, &f, &err), 0, "%s", ok[i].name);
        cr_expect_eq(f, ok[i].f, "%s", ok[i].name);
    }
    lh_format f;
    lh_err err = LH_ERR_INIT;
    cr_expect_eq(lh_ingest__format_parse("xlsx", &f, &err), -1);
    cr_expect_eq(err.code, LH_UNSUPPORTED_MEDIA);
    cr_expect(strstr(err.message, "xlsx") != NULL, "%s", err.message);
}
