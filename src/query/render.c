/* query/render.c: column types resolved once per query (lh_rtype) and the JSON / CSV
 * rendering of one value read straight from DuckDB vectors, nested types included.
 * Mapping (docs/internals/query.md): integers and DECIMAL are exact JSON numbers; floats
 * shortest round-trip (NaN/Infinity -> null in JSON, text in CSV); temporal values ISO 8601
 * strings; LIST/ARRAY arrays; STRUCT objects; MAP an object when its keys are strings, else
 * [{"key","value"}]; UNION its active member; JSON embedded raw; NULL null at any depth. */
#include <string.h>

#include "query/query_int.h"

static char *dup_free(char *s) {
    /* Strings from the DuckDB C API are released with duckdb_free; we keep our own copy. */
    char *r = lh_xstrdup(s ? s : "");
    if (s)
        duckdb_free(s);
    return r;
}

void lh_query__rtype_init(lh_rtype *out, duckdb_logical_type t) {
    memset(out, 0, sizeof *out);
    out->id = duckdb_get_type_id(t);
    char *alias = duckdb_logical_type_get_alias(t);
    if (alias) {
        out->is_json = out->id == DUCKDB_TYPE_VARCHAR && strcmp(alias, "JSON") == 0;
        duckdb_free(alias);
    }
    duckdb_logical_type kids[2] = {NULL, NULL};
    switch (out->id) {
    case DUCKDB_TYPE_DECIMAL:
        out->width = duckdb_decimal_width(t);
        out->scale = duckdb_decimal_scale(t);
        out->internal = duckdb_decimal_internal_type(t);
        break;
    case DUCKDB_TYPE_ENUM:
        out->internal = duckdb_enum_internal_type(t);
        out->enum_n = duckdb_enum_dictionary_size(t);
        out->enum_dict = lh_xcalloc(out->enum_n ? out->enum_n : 1, sizeof(char *));
        for (uint32_t i = 0; i < out->enum_n; i++)
            out->enum_dict[i] = dup_free(duckdb_enum_dictionary_value(t, i));
        break;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
        out->nchildren = 1;
        out->children = lh_xcalloc(1, sizeof *out->children);
        if (out->id == DUCKDB_TYPE_LIST) {
            kids[0] = duckdb_list_type_child_type(t);
        } else {
            kids[0] = duckdb_array_type_child_type(t);
            out->array_size = duckdb_array_type_array_size(t);
        }
        lh_query__rtype_init(&out->children[0], kids[0]);
        duckdb_destroy_logical_type(&kids[0]);
        break;
    case DUCKDB_TYPE_MAP:
        out->nchildren = 2;
        out->children = lh_xcalloc(2, sizeof *out->children);
        kids[0] = duckdb_map_type_key_type(t);
        kids[1] = duckdb_map_type_value_type(t);
        for (int i = 0; i < 2; i++) {
            lh_query__rtype_init(&out->children[i], kids[i]);
            duckdb_destroy_logical_type(&kids[i]);
        }
        break;
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: {
        bool is_union = out->id == DUCKDB_TYPE_UNION;
        out->nchildren = is_union ? duckdb_union_type_member_count(t)
                                  : duckdb_struct_type_child_count(t);
        out->children = lh_xcalloc(out->nchildren ? out->nchildren : 1, sizeof *out->children);
        out->child_names = lh_xcalloc(out->nchildren ? out->nchildren : 1, sizeof(char *));
        for (size_t i = 0; i < out->nchildren; i++) {
            out->child_names[i] = dup_free(is_union ? duckdb_union_type_member_name(t, i)
                                                    : duckdb_struct_type_child_name(t, i));
            kids[0] = is_union ? duckdb_union_type_member_type(t, i)
                               : duckdb_struct_type_child_type(t, i);
            lh_query__rtype_init(&out->children[i], kids[0]);
            duckdb_destroy_logical_type(&kids[0]);
        }
        break;
    }
    default:
        break;
    }
}

void lh_query__rtype_release(lh_rtype *t) {
    for (uint32_t i = 0; t->enum_dict && i < t->enum_n; i++)
        free(t->enum_dict[i]);
    free(t->enum_dict);
    for (size_t i = 0; i < t->nchildren; i++) {
        lh_query__rtype_release(&t->children[i]);
        if (t->child_names)
            free(t->child_names[i]);
    }
    free(t->children);
    free(t->child_names);
    memset(t, 0, sizeof *t);
}

static const char *simple_type_name(duckdb_type id) {
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIME_NS: return "TIME_NS";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
    case DUCKDB_TYPE_SQLNULL: return "\"NULL\"";
    default: return NULL;
    }
}

/* A struct field name, quoted like DuckDB does when it is not a plain identifier. */
static void put_field_name(lh_buf *b, const char *name) {
    bool plain = name[0] && !(name[0] >= '0' && name[0] <= '9');
    for (const char *p = name; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (plain) {
        lh_buf_puts(b, name);
        return;
    }
    char *q = lh_sql_quote_ident(name);
    lh_buf_puts(b, q);
    free(q);
}

void lh_query__rtype_name(lh_buf *b, const lh_rtype *t) {
    const char *simple = simple_type_name(t->id);
    if (t->is_json) {
        lh_buf_puts(b, "JSON");
    } else if (simple) {
        lh_buf_puts(b, simple);
    } else if (t->id == DUCKDB_TYPE_DECIMAL) {
        lh_buf_printf(b, "DECIMAL(%u,%u)", t->width, t->scale);
    } else if (t->id == DUCKDB_TYPE_ENUM) {
        lh_buf_puts(b, "ENUM(");
        for (uint32_t i = 0; i < t->enum_n; i++) {
            char *q = lh_sql_quote_literal(t->enum_dict[i]);
            lh_buf_printf(b, "%s%s", i ? ", " : "", q);
            free(q);
        }
        lh_buf_putc(b, ')');
    } else if (t->id == DUCKDB_TYPE_LIST) {
        lh_query__rtype_name(b, &t->children[0]);
        lh_buf_puts(b, "[]");
    } else if (t->id == DUCKDB_TYPE_ARRAY) {
        lh_query__rtype_name(b, &t->children[0]);
        lh_buf_printf(b, "[%llu]", (unsigned long long)t->array_size);
    } else if (t->id == DUCKDB_TYPE_MAP) {
        lh_buf_puts(b, "MAP(");
        lh_query__rtype_name(b, &t->children[0]);
        lh_buf_puts(b, ", ");
        lh_query__rtype_name(b, &t->children[1]);
        lh_buf_putc(b, ')');
    } else if (t->id == DUCKDB_TYPE_STRUCT || t->id == DUCKDB_TYPE_UNION) {
        lh_buf_puts(b, t->id == DUCKDB_TYPE_STRUCT ? "STRUCT(" : "UNION(");
        for (size_t i = 0; i < t->nchildren; i++) {
            if (i)
                lh_buf_puts(b, ", ");
            put_field_name(b, t->child_names[i]);
            lh_buf_putc(b, ' ');
            lh_query__rtype_name(b, &t->children[i]);
        }
        lh_buf_putc(b, ')');
    } else {
        lh_buf_printf(b, "TYPE_%d", (int)t->id);
    }
}

static bool is_valid(duckdb_vector v, idx_t row) {
    uint64_t *val = duckdb_vector_get_validity(v);
    return !val || (val[row / 64] >> (row % 64)) & 1;
}

static uint32_t enum_index(const lh_rtype *t, const void *data, idx_t row) {
    switch (t->internal) {
    case DUCKDB_TYPE_UTINYINT: return ((const uint8_t *)data)[row];
    case DUCKDB_TYPE_USMALLINT: return ((const uint16_t *)data)[row];
    default: return ((const uint32_t *)data)[row];
    }
}

static bool map_has_string_keys(const lh_rtype *t) {
    duckdb_type k = t->children[0].id;
    return k == DUCKDB_TYPE_VARCHAR || k == DUCKDB_TYPE_ENUM;
}

/* Appends a value as text that is also a valid JSON string body's source: the string itself
 * for VARCHAR/ENUM (escaped by the caller). */
static bool string_value(const lh_rtype *t, const void *data, idx_t row, const char **p,
                         size_t *n) {
    if (t->id == DUCKDB_TYPE_VARCHAR) {
        *p = lh_query__string_at(data, row, n);
        return true;
    }
    if (t->id == DUCKDB_TYPE_ENUM) {
        uint32_t i = enum_index(t, data, row);
        *p = i < t->enum_n ? t->enum_dict[i] : "";
        *n = strlen(*p);
        return true;
    }
    return false;
}

static void render_nested(lh_buf *b, const lh_rtype *t, duckdb_vector v, idx_t row) {
    if (t->id == DUCKDB_TYPE_ARRAY) {
        duckdb_vector child = duckdb_array_vector_get_child(v);
        lh_buf_putc(b, '[');
        for (idx_t k = 0; k < t->array_size; k++) {
            if (k)
                lh_buf_putc(b, ',');
            lh_query__render_json(b, &t->children[0], child, row * t->array_size + k);
        }
        lh_buf_putc(b, ']');
    } else if (t->id == DUCKDB_TYPE_LIST || t->id == DUCKDB_TYPE_MAP) {
        const duckdb_list_entry *e = (const duckdb_list_entry *)duckdb_vector_get_data(v) + row;
        duckdb_vector child = duckdb_list_vector_get_child(v);
        if (t->id == DUCKDB_TYPE_LIST) {
            lh_buf_putc(b, '[');
            for (idx_t k = 0; k < e->length; k++) {
                if (k)
                    lh_buf_putc(b, ',');
                lh_query__render_json(b, &t->children[0], child, e->offset + k);
            }
            lh_buf_putc(b, ']');
            return;
        }
        duckdb_vector keys = duckdb_struct_vector_get_child(child, 0);
        duckdb_vector vals = duckdb_struct_vector_get_child(child, 1);
        bool obj = map_has_string_keys(t);
        const void *kdata = duckdb_vector_get_data(keys);
        lh_buf_putc(b, obj ? '{' : '[');
        for (idx_t k = 0; k < e->length; k++) {
            idx_t at = e->offset + k;
            if (k)
                lh_buf_putc(b, ',');
            if (obj) {
                const char *p = "";
                size_t n = 0;
                if (is_valid(keys, at))
                    (void)string_value(&t->children[0], kdata, at, &p, &n);
                lh_buf_json_string(b, p, n);
                lh_buf_putc(b, ':');
                lh_query__render_json(b, &t->children[1], vals, at);
            } else {
                lh_buf_puts(b, "{\"key\":");
                lh_query__render_json(b, &t->children[0], keys, at);
                lh_buf_puts(b, ",\"value\":");
                lh_query__render_json(b, &t->children[1], vals, at);
                lh_buf_putc(b, '}');
            }
        }
        lh_buf_putc(b, obj ? '}' : ']');
    } else if (t->id == DUCKDB_TYPE_STRUCT) {
        lh_buf_putc(b, '{');
        for (size_t i = 0; i < t->nchildren; i++) {
            if (i)
                lh_buf_putc(b, ',');
            lh_buf_json_string(b, t->child_names[i], strlen(t->child_names[i]));
            lh_buf_putc(b, ':');
            lh_query__render_json(b, &t->children[i], duckdb_struct_vector_get_child(v, i), row);
        }
        lh_buf_putc(b, '}');
    } else { /* UNION: child 0 holds the tag, member i is child i + 1 */
        duckdb_vector tags = duckdb_struct_vector_get_child(v, 0);
        uint8_t tag = ((const uint8_t *)duckdb_vector_get_data(tags))[row];
        if (tag >= t->nchildren) {
            lh_buf_puts(b, "null");
            return;
        }
        lh_query__render_json(b, &t->children[tag], duckdb_struct_vector_get_child(v, tag + 1),
                              row);
    }
}

void lh_query__render_json(lh_buf *b, const lh_rtype *t, duckdb_vector v, idx_t row) {
    if (!is_valid(v, row) || t->id == DUCKDB_TYPE_SQLNULL) {
        lh_buf_puts(b, "null");
        return;
    }
    const void *data = duckdb_vector_get_data(v);
    const char *p;
    size_t n;
    switch (t->id) {
    case DUCKDB_TYPE_BOOLEAN:
        lh_buf_puts(b, ((const bool *)data)[row] ? "true" : "false");
        return;
    case DUCKDB_TYPE_VARCHAR:
        p = lh_query__string_at(data, row, &n);
        if (t->is_json)
            lh_buf_append(b, p, n);
        else
            lh_buf_json_string(b, p, n);
        return;
    case DUCKDB_TYPE_ENUM:
        (void)string_value(t, data, row, &p, &n); /* always true for ENUM */
        lh_buf_json_string(b, p, n);
        return;
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: {
        double d = t->id == DUCKDB_TYPE_FLOAT ? ((const float *)data)[row] : ((const double *)data)[row];
        if (d != d || d - d != 0) { /* NaN or infinite: JSON has no such number */
            lh_buf_puts(b, "null");
            return;
        }
        (void)lh_query__scalar_text(b, t, data, row);
        return;
    }
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_DECIMAL: case DUCKDB_TYPE_BIGNUM:
        (void)lh_query__scalar_text(b, t, data, row);
        return;
    case DUCKDB_TYPE_LIST: case DUCKDB_TYPE_ARRAY: case DUCKDB_TYPE_MAP:
    case DUCKDB_TYPE_STRUCT: case DUCKDB_TYPE_UNION:
        render_nested(b, t, v, row);
        return;
    default: {
        /* Temporal, UUID, INTERVAL, BLOB (base64), BIT: text made of safe characters. */
        lh_buf_putc(b, '"');
        size_t mark = b->len;
        if (!lh_query__scalar_text(b, t, data, row)) {
            b->len = mark - 1;
            b->data[b->len] = '\0';
            lh_buf_puts(b, "null");
            return;
        }
        lh_buf_putc(b, '"');
        return;
    }
    }
}

void lh_query__render_csv(lh_buf *b, const lh_rtype *t, duckdb_vector v, idx_t row,
                          lh_buf *scratch) {
    if (!is_valid(v, row) || t->id == DUCKDB_TYPE_SQLNULL)
        return; /* NULL is the empty field */
    const void *data = duckdb_vector_get_data(v);
    const char *p;
    size_t n;
    if (string_value(t, data, row, &p, &n)) {
        lh_buf_csv_field(b, p, n);
        return;
    }
    lh_buf_reset(scratch);
    if (t->id == DUCKDB_TYPE_BOOLEAN)
        lh_buf_puts(scratch, ((const bool *)data)[row] ? "true" : "false");
    else if (!lh_query__scalar_text(scratch, t, data, row))
        lh_query__render_json(scratch, t, v, row); /* nested: its JSON text */
    lh_buf_csv_field(b, scratch->data, scratch->len);
}
