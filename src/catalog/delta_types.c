/* catalog: the DuckDB <-> Delta Lake type mapping. DuckDB type text (as DESCRIBE prints it,
 * nesting and quoted field names included) is parsed by a small recursive-descent parser into
 * the Delta schema JSON, and Delta types are rendered back as DuckDB type text. The manifest
 * keeps exact DuckDB types; the lossy reverse direction only matters without a manifest. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/catalog_int.h"

typedef struct parser {
    const char *s;
    size_t pos;
    const char *whole;
    lh_err *err;
} parser;

static json_t *parse_type(parser *p, int depth);

static int fail(parser *p, const char *what)
{
    return lh_err_set(p->err, LH_INVALID_ARGUMENT, "unsupported column type '%s': %s", p->whole,
                      what);
}

static void skip_ws(parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

static bool eat(parser *p, char ch)
{
    skip_ws(p);
    if (p->s[p->pos] != ch)
        return false;
    p->pos++;
    return true;
}

/* Reads an identifier-like word [A-Za-z0-9_]+ into out; false when there is none. */
static bool word(parser *p, char *out, size_t cap)
{
    skip_ws(p);
    size_t n = 0;
    while (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_') {
        if (n + 1 < cap)
            out[n++] = (char)toupper((unsigned char)p->s[p->pos]);
        else
            return false;
        p->pos++;
    }
    out[n] = '\0';
    return n > 0;
}

/* Peeks whether the next words are exactly `phrase` (space separated, case-insensitive);
 * consumes them when they are. */
static bool eat_phrase(parser *p, const char *phrase)
{
    size_t save = p->pos;
    const char *ph = phrase;
    while (*ph) {
        char want[32], got[32];
        size_t n = 0;
        while (*ph && *ph != ' ' && n + 1 < sizeof want)
            want[n++] = *ph++;
        want[n] = '\0';
        while (*ph == ' ')
            ph++;
        if (!word(p, got, sizeof got) || strcmp(got, want) != 0) {
            p->pos = save;
            return false;
        }
    }
    return true;
}

static bool read_int(parser *p, long *out)
{
    skip_ws(p);
    const char *start = p->s + p->pos;
    char *end = NULL;
    if (!isdigit((unsigned char)*start))
        return false;
    long v = strtol(start, &end, 10);
    if (end == start || v < 0 || v > 1000000)
        return false;
    p->pos += (size_t)(end - start);
    *out = v;
    return true;
}

/* A struct field name: a bare identifier or "quoted" with "" for ". Owned result. */
static char *field_name(parser *p)
{
    skip_ws(p);
    lh_buf b;
    lh_buf_init(&b);
    if (p->s[p->pos] == '"') {
        p->pos++;
        for (;;) {
            char ch = p->s[p->pos];
            if (ch == '\0') {
                lh_buf_release(&b);
                return NULL;
            }
            p->pos++;
            if (ch == '"') {
                if (p->s[p->pos] != '"')
                    break;
                p->pos++;
            }
            lh_buf_putc(&b, ch);
        }
    } else {
        while (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_' ||
               (unsigned char)p->s[p->pos] >= 0x80)
            lh_buf_putc(&b, p->s[p->pos++]);
    }
    if (b.len == 0) {
        lh_buf_release(&b);
        return NULL;
    }
    return lh_buf_detach(&b, NULL);
}

static json_t *struct_field(const char *name, json_t *type)
{
    return json_pack("{s:s, s:o, s:b, s:{}}", "name", name, "type", type, "nullable", 1,
                     "metadata");
}

static json_t *parse_struct(parser *p, int depth)
{
    if (!eat(p, '(')) {
        fail(p, "STRUCT needs '('");
        return NULL;
    }
    json_t *fields = json_array();
    do {
        char *name = field_name(p);
        if (!name) {
            fail(p, "bad STRUCT field name");
            json_decref(fields);
            return NULL;
        }
        json_t *t = parse_type(p, depth + 1);
        if (!t) {
            free(name);
            json_decref(fields);
            return NULL;
        }
        json_array_append_new(fields, struct_field(name, t));
        free(name);
    } while (eat(p, ','));
    if (!eat(p, ')')) {
        fail(p, "STRUCT needs ')'");
        json_decref(fields);
        return NULL;
    }
    return json_pack("{s:s, s:o}", "type", "struct", "fields", fields);
}

static json_t *parse_map(parser *p, int depth)
{
    if (!eat(p, '(')) {
        fail(p, "MAP needs '('");
        return NULL;
    }
    json_t *k = parse_type(p, depth + 1);
    if (!k)
        return NULL;
    if (!eat(p, ',')) {
        json_decref(k);
        fail(p, "MAP needs two types");
        return NULL;
    }
    json_t *v = parse_type(p, depth + 1);
    if (!v) {
        json_decref(k);
        return NULL;
    }
    if (!eat(p, ')')) {
        json_decref(k);
        json_decref(v);
        fail(p, "MAP needs ')'");
        return NULL;
    }
    return json_pack("{s:s, s:o, s:o, s:b}", "type", "map", "keyType", k, "valueType", v,
                     "valueContainsNull", 1);
}

/* ENUM('a', 'b''c', ...): the labels do not matter to Delta (it becomes a string). */
static bool skip_enum(parser *p)
{
    if (!eat(p, '('))
        return false;
    do {
        skip_ws(p);
        if (p->s[p->pos] != '\'')
            return false;
        p->pos++;
        for (;;) {
            char ch = p->s[p->pos];
            if (ch == '\0')
                return false;
            p->pos++;
            if (ch == '\'') {
                if (p->s[p->pos] != '\'')
                    break;
                p->pos++;
            }
        }
    } while (eat(p, ','));
    return eat(p, ')');
}

static json_t *parse_decimal(parser *p)
{
    long prec = 18, scale = 3;
    if (eat(p, '(')) {
        if (!read_int(p, &prec)) {
            fail(p, "bad DECIMAL precision");
            return NULL;
        }
        scale = 0;
        if (eat(p, ',') && !read_int(p, &scale)) {
            fail(p, "bad DECIMAL scale");
            return NULL;
        }
        if (!eat(p, ')')) {
            fail(p, "DECIMAL needs ')'");
            return NULL;
        }
    }
    if (prec < 1 || prec > 38 || scale > prec) {
        fail(p, "DECIMAL precision must be 1..38 and scale at most the precision");
        return NULL;
    }
    return json_sprintf("decimal(%ld,%ld)", prec, scale);
}

/* Simple names, aliases included, and the Delta type each becomes. */
static const struct {
    const char *duck;
    const char *delta;
} simple_types[] = {
    {"BOOLEAN", "boolean"},    {"BOOL", "boolean"},       {"LOGICAL", "boolean"},
    {"TINYINT", "byte"},       {"INT1", "byte"},          {"SMALLINT", "short"},
    {"INT2", "short"},         {"SHORT", "short"},        {"INTEGER", "integer"},
    {"INT", "integer"},        {"INT4", "integer"},       {"SIGNED", "integer"},
    {"BIGINT", "long"},        {"INT8", "long"},          {"LONG", "long"},
    {"UTINYINT", "short"},     {"USMALLINT", "integer"},  {"UINTEGER", "long"},
    {"UBIGINT", "decimal(20,0)"}, {"HUGEINT", "decimal(38,0)"}, {"UHUGEINT", "decimal(38,0)"},
    {"FLOAT", "float"},        {"FLOAT4", "float"},       {"REAL", "float"},
    {"DOUBLE", "double"},      {"FLOAT8", "double"},      {"VARCHAR", "string"},
    {"TEXT", "string"},        {"STRING", "string"},      {"CHAR", "string"},
    {"BPCHAR", "string"},      {"JSON", "string"},        {"UUID", "string"},
    {"BLOB", "binary"},        {"BYTEA", "binary"},       {"BINARY", "binary"},
    {"VARBINARY", "binary"},   {"DATE", "date"},          {"TIMESTAMP", "timestamp_ntz"},
    {"DATETIME", "timestamp_ntz"}, {"TIMESTAMP_S", "timestamp_ntz"},
    {"TIMESTAMP_MS", "timestamp_ntz"}, {"TIMESTAMP_NS", "timestamp_ntz"},
    {"TIMESTAMP_US", "timestamp_ntz"}, {"TIMESTAMPTZ", "timestamp"},
    {"TIME", "string"},        {"TIMETZ", "string"},      {"INTERVAL", "string"},
};

static json_t *parse_base(parser *p, int depth)
{
    char w[32];
    if (!word(p, w, sizeof w)) {
        fail(p, "expected a type name");
        return NULL;
    }
    if (strcmp(w, "STRUCT") == 0 || strcmp(w, "ROW") == 0)
        return parse_struct(p, depth);
    if (strcmp(w, "MAP") == 0)
        return parse_map(p, depth);
    if (strcmp(w, "DECIMAL") == 0 || strcmp(w, "NUMERIC") == 0)
        return parse_decimal(p);
    if (strcmp(w, "ENUM") == 0) {
        if (!skip_enum(p)) {
            fail(p, "bad ENUM labels");
            return NULL;
        }
        return json_string("string");
    }
    if ((strcmp(w, "TIMESTAMP") == 0 || strcmp(w, "TIME") == 0) &&
        eat_phrase(p, "WITH TIME ZONE"))
        return json_string(w[4] == 'S' ? "timestamp" : "string");
    if (strcmp(w, "DOUBLE") == 0)
        (void)eat_phrase(p, "PRECISION"); /* optional SQL spelling */
    if (strcmp(w, "VARCHAR") == 0 || strcmp(w, "CHAR") == 0) {
        long ignored; /* VARCHAR(n): DuckDB ignores the length, so do we */
        if (eat(p, '(') && !(read_int(p, &ignored) && eat(p, ')'))) {
            fail(p, "bad VARCHAR length");
            return NULL;
        }
    }
    for (size_t i = 0; i < LH_ARRAY_LEN(simple_types); i++)
        if (strcmp(w, simple_types[i].duck) == 0)
            return json_string(simple_types[i].delta);
    fail(p, "no Delta Lake equivalent");
    return NULL;
}

static json_t *parse_type(parser *p, int depth)
{
    if (depth > LH_CAT_TYPE_DEPTH) {
        fail(p, "nested too deeply");
        return NULL;
    }
    json_t *t = parse_base(p, depth);
    /* T[] and T[n] suffixes, possibly repeated (INTEGER[][3]). */
    while (t && eat(p, '[')) {
        long n;
        if (!eat(p, ']') && !(read_int(p, &n) && eat(p, ']'))) {
            json_decref(t);
            fail(p, "bad array suffix");
            return NULL;
        }
        t = json_pack("{s:s, s:o, s:b}", "type", "array", "elementType", t, "containsNull", 1);
    }
    return t;
}

json_t *lh_delta_type_from_duckdb(const char *duck_type, lh_err *err)
{
    if (!duck_type || !*duck_type) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "column type is empty");
        return NULL;
    }
    parser p = {.s = duck_type, .pos = 0, .whole = duck_type, .err = err};
    json_t *t = parse_type(&p, 0);
    if (!t)
        return NULL;
    skip_ws(&p);
    if (p.s[p.pos] != '\0') {
        json_decref(t);
        fail(&p, "unexpected text after the type");
        return NULL;
    }
    return t;
}

/* ---- Delta -> DuckDB --------------------------------------------------------------------- */

static const struct {
    const char *delta;
    const char *duck;
} delta_simple[] = {
    {"boolean", "BOOLEAN"}, {"byte", "TINYINT"},   {"short", "SMALLINT"},
    {"integer", "INTEGER"}, {"long", "BIGINT"},    {"float", "FLOAT"},
    {"double", "DOUBLE"},   {"string", "VARCHAR"}, {"binary", "BLOB"},
    {"date", "DATE"},       {"timestamp", "TIMESTAMP WITH TIME ZONE"},
    {"timestamp_ntz", "TIMESTAMP"},
};

/* A struct field name as DuckDB prints it: bare when a plain lowercase identifier. */
static void put_field_name(lh_buf *b, const char *name)
{
    bool bare = *name && !isdigit((unsigned char)*name);
    for (const char *q = name; *q && bare; q++)
        bare = islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_';
    if (bare) {
        lh_buf_puts(b, name);
        return;
    }
    lh_buf_putc(b, '"');
    for (const char *q = name; *q; q++) {
        if (*q == '"')
            lh_buf_putc(b, '"');
        lh_buf_putc(b, *q);
    }
    lh_buf_putc(b, '"');
}

static int render(const json_t *t, lh_buf *b, int depth, lh_err *err)
{
    if (depth > LH_CAT_TYPE_DEPTH)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "delta type nested too deeply");
    if (json_is_string(t)) {
        const char *s = json_string_value(t);
        for (size_t i = 0; i < LH_ARRAY_LEN(delta_simple); i++)
            if (strcmp(s, delta_simple[i].delta) == 0) {
                lh_buf_puts(b, delta_simple[i].duck);
                return 0;
            }
        int prec = 0, scale = 0, used = 0;
        if (sscanf(s, "decimal(%d,%d)%n", &prec, &scale, &used) == 2 && s[used] == '\0' &&
            prec >= 1 && prec <= 38 && scale >= 0 && scale <= prec) {
            lh_buf_printf(b, "DECIMAL(%d,%d)", prec, scale);
            return 0;
        }
        return lh_err_set(err, LH_INVALID_ARGUMENT, "unsupported delta type '%s'", s);
    }
    const char *kind = json_is_object(t) ? json_string_value(json_object_get(t, "type")) : NULL;
    if (!kind)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "malformed delta type");
    if (strcmp(kind, "array") == 0) {
        const json_t *el = json_object_get(t, "elementType");
        if (!el || render(el, b, depth + 1, err) != 0)
            return el ? -1 : lh_err_set(err, LH_INVALID_ARGUMENT, "array without elementType");
        lh_buf_puts(b, "[]");
        return 0;
    }
    if (strcmp(kind, "map") == 0) {
        const json_t *k = json_object_get(t, "keyType"), *v = json_object_get(t, "valueType");
        if (!k || !v)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "map without keyType/valueType");
        lh_buf_puts(b, "MAP(");
        if (render(k, b, depth + 1, err) != 0)
            return -1;
        lh_buf_puts(b, ", ");
        if (render(v, b, depth + 1, err) != 0)
            return -1;
        lh_buf_putc(b, ')');
        return 0;
    }
    if (strcmp(kind, "struct") == 0) {
        const json_t *fields = json_object_get(t, "fields");
        if (!json_is_array(fields) || json_array_size(fields) == 0)
            return lh_err_set(err, LH_INVALID_ARGUMENT, "struct without fields");
        lh_buf_puts(b, "STRUCT(");
        for (size_t i = 0; i < json_array_size(fields); i++) {
            const json_t *f = json_array_get(fields, i);
            const char *name = json_string_value(json_object_get(f, "name"));
            const json_t *ft = json_object_get(f, "type");
            if (!name || !*name || !ft)
                return lh_err_set(err, LH_INVALID_ARGUMENT, "struct field without name/type");
            if (i)
                lh_buf_puts(b, ", ");
            put_field_name(b, name);
            lh_buf_putc(b, ' ');
            if (render(ft, b, depth + 1, err) != 0)
                return -1;
        }
        lh_buf_putc(b, ')');
        return 0;
    }
    return lh_err_set(err, LH_INVALID_ARGUMENT, "unsupported delta type '%s'", kind);
}

char *lh_delta_type_to_duckdb(const json_t *delta_type, lh_err *err)
{
    if (!delta_type) {
        lh_err_set(err, LH_INVALID_ARGUMENT, "delta type is missing");
        return NULL;
    }
    lh_buf b;
    lh_buf_init(&b);
    if (render(delta_type, &b, 0, err) != 0) {
        lh_buf_release(&b);
        return NULL;
    }
    return lh_buf_detach(&b, NULL);
}

json_t *lh_cat__delta_struct(const lh_column *cols, size_t n, lh_err *err)
{
    json_t *fields = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!cols[i].name || !*cols[i].name) {
            json_decref(fields);
            lh_err_set(err, LH_INVALID_ARGUMENT, "column %zu has no name", i + 1);
            return NULL;
        }
        json_t *t = lh_delta_type_from_duckdb(cols[i].type, err);
        if (!t) {
            json_decref(fields);
            lh_err_prefix(err, "column '%s': ", cols[i].name);
            return NULL;
        }
        json_array_append_new(fields, struct_field(cols[i].name, t));
    }
    return json_pack("{s:s, s:o}", "type", "struct", "fields", fields);
}

char *lh_delta_schema_string(const lh_column *cols, size_t n, lh_err *err)
{
    json_t *s = lh_cat__delta_struct(cols, n, err);
    if (!s)
        return NULL;
    char *out = lh_json_dump(s);
    json_decref(s);
    return out;
}
