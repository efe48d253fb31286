/* query/render_scalar.c: the text of one scalar DuckDB value, read straight from a vector's
 * data (no per-cell duckdb_value_* calls): exact integers of every width, DECIMAL with its
 * scale, shortest round-trip floats, ISO 8601 dates/times/durations, UUID, base64 BLOB, BIT
 * and BIGNUM. render.c decides quoting per output format. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/query_int.h"

/* Digit writers: results stream millions of cells, and printf costs several times these. */
static void put_u64(lh_buf *b, uint64_t v) {
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    lh_buf_append(b, tmp + i, sizeof tmp - i);
}

static void put_i64(lh_buf *b, int64_t v) {
    if (v < 0) {
        lh_buf_putc(b, '-');
        put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(b, (uint64_t)v);
    }
}

/* Exactly `width` digits of v (zero-padded), for dates and times. */
static void put_fixed(lh_buf *b, uint64_t v, int width) {
    char tmp[20];
    for (int i = width - 1; i >= 0; i--) {
        tmp[i] = (char)('0' + (int)(v % 10));
        v /= 10;
    }
    lh_buf_append(b, tmp, (size_t)width);
}

static void put_u128(lh_buf *b, unsigned __int128 v) {
    if (v <= UINT64_MAX) {
        put_u64(b, (uint64_t)v);
        return;
    }
    char tmp[48];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    lh_buf_append(b, tmp + i, sizeof tmp - i);
}

static void put_i128(lh_buf *b, __int128 v) {
    if (v < 0) {
        lh_buf_putc(b, '-');
        put_u128(b, (unsigned __int128)0 - (unsigned __int128)v);
    } else {
        put_u128(b, (unsigned __int128)v);
    }
}

static __int128 hugeint_value(duckdb_hugeint h) {
    return (__int128)(((unsigned __int128)(uint64_t)h.upper << 64) | h.lower);
}

/* DECIMAL: the stored integer with the point inserted `scale` digits from the right. */
static void put_decimal(lh_buf *b, __int128 v, unsigned scale) {
    if (scale == 0) {
        put_i128(b, v);
        return;
    }
    unsigned __int128 mag = v < 0 ? (unsigned __int128)0 - (unsigned __int128)v
                                  : (unsigned __int128)v;
    char tmp[64];
    size_t i = sizeof tmp, digits = 0;
    /* Most decimals fit 64 bits, where division is far cheaper than on 128. */
    uint64_t small = mag <= UINT64_MAX ? (uint64_t)mag : 0;
    bool use_small = mag <= UINT64_MAX;
    while ((use_small ? small != 0 : mag != 0) || digits <= scale) {
        if (use_small) {
            tmp[--i] = (char)('0' + (int)(small % 10));
            small /= 10;
        } else {
            tmp[--i] = (char)('0' + (int)(mag % 10));
            mag /= 10;
            use_small = mag <= UINT64_MAX;
            small = (uint64_t)mag;
        }
        digits++;
        if (digits == scale)
            tmp[--i] = '.';
    }
    if (v < 0)
        lh_buf_putc(b, '-');
    lh_buf_append(b, tmp + i, sizeof tmp - i);
}

void lh_query__put_double(lh_buf *b, double d) {
    char tmp[40];
    /* %.15g is exact for every double that has a round-trip form of at most 15 digits;
     * the others need 16 or 17. */
    for (int p = 15; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*g", p, d);
        if (p == 17 || strtod(tmp, NULL) == d)
            break;
    }
    lh_buf_puts(b, tmp);
}

static void put_float(lh_buf *b, float f) {
    char tmp[40];
    for (int p = 6; p <= 9; p++) {
        snprintf(tmp, sizeof tmp, "%.*g", p, (double)f);
        if (p == 9 || (float)strtod(tmp, NULL) == f)
            break;
    }
    lh_buf_puts(b, tmp);
}

void lh_query__put_nonfinite(lh_buf *b, double d) {
    lh_buf_puts(b, isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
}

/* Days since 1970-01-01 -> proleptic Gregorian y/m/d (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_days(lh_buf *b, int64_t days) {
    /* Result columns repeat dates (every timestamp of a day): the last one's text is kept
     * per thread, which skips the calendar arithmetic for most cells. */
    static _Thread_local int64_t last_days = INT64_MIN;
    static _Thread_local char last_text[16];
    static _Thread_local size_t last_len;
    if (days == last_days) {
        lh_buf_append(b, last_text, last_len);
        return;
    }
    size_t start = b->len;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* Astronomical year numbering (0 = 1 BC), as ISO 8601 extended years do. */
    if (y < 0)
        lh_buf_putc(b, '-');
    uint64_t ay = (uint64_t)(y < 0 ? -y : y);
    if (ay > 9999)
        put_u64(b, ay);
    else
        put_fixed(b, ay, 4);
    lh_buf_putc(b, '-');
    put_fixed(b, m, 2);
    lh_buf_putc(b, '-');
    put_fixed(b, d, 2);
    if (b->len - start < sizeof last_text) {
        last_days = days;
        last_len = b->len - start;
        memcpy(last_text, b->data + start, last_len);
    }
}

/* ".5" / ".123456" with trailing zeros dropped; nothing when frac is 0. */
static void put_frac(lh_buf *b, int64_t frac, int digits) {
    if (frac <= 0)
        return;
    char tmp[32];
    tmp[0] = '.';
    uint64_t f = (uint64_t)frac;
    for (int i = digits; i >= 1; i--) {
        tmp[i] = (char)('0' + (int)(f % 10));
        f /= 10;
    }
    size_t n = (size_t)digits + 1;
    while (n > 1 && tmp[n - 1] == '0')
        n--;
    lh_buf_append(b, tmp, n);
}

/* Time of day from units since midnight (per_sec units per second). */
static void put_tod(lh_buf *b, int64_t v, int64_t per_sec, int digits) {
    int64_t secs = v / per_sec, frac = v % per_sec;
    uint64_t h = (uint64_t)(secs / 3600);
    if (h > 99)
        put_u64(b, h);
    else
        put_fixed(b, h, 2);
    lh_buf_putc(b, ':');
    put_fixed(b, (uint64_t)(secs / 60 % 60), 2);
    lh_buf_putc(b, ':');
    put_fixed(b, (uint64_t)(secs % 60), 2);
    put_frac(b, frac, digits);
}

static void put_timestamp(lh_buf *b, int64_t v, int64_t per_sec, int digits, bool tz) {
    if (v == INT64_MAX || v == -INT64_MAX) {
        lh_buf_puts(b, v > 0 ? "infinity" : "-infinity");
        return;
    }
    int64_t per_day = per_sec * 86400;
    int64_t days = v / per_day, rem = v % per_day;
    if (rem < 0) {
        rem += per_day;
        days--;
    }
    put_days(b, days);
    lh_buf_putc(b, 'T');
    put_tod(b, rem, per_sec, digits);
    if (tz)
        lh_buf_putc(b, 'Z');
}

/* ISO 8601 duration, each component carrying its own sign ("P1Y2M3DT4H5M6.5S", "PT0S"). */
static void put_interval(lh_buf *b, duckdb_interval iv) {
    lh_buf_putc(b, 'P');
    bool any = false;
    if (iv.months / 12) {
        lh_buf_printf(b, "%dY", iv.months / 12);
        any = true;
    }
    if (iv.months % 12) {
        lh_buf_printf(b, "%dM", iv.months % 12);
        any = true;
    }
    if (iv.days) {
        lh_buf_printf(b, "%dD", iv.days);
        any = true;
    }
    if (iv.micros || !any) {
        lh_buf_putc(b, 'T');
        int64_t us = iv.micros;
        const char *sign = us < 0 ? "-" : "";
        uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
        uint64_t h = mag / 3600000000ULL, mi = mag / 60000000ULL % 60, s = mag / 1000000ULL % 60;
        uint64_t frac = mag % 1000000ULL;
        if (h)
            lh_buf_printf(b, "%s%lluH", sign, (unsigned long long)h);
        if (mi)
            lh_buf_printf(b, "%s%lluM", sign, (unsigned long long)mi);
        if (s || frac || (!h && !mi)) {
            lh_buf_printf(b, "%s%llu", frac || s ? sign : "", (unsigned long long)s);
            put_frac(b, (int64_t)frac, 6);
            lh_buf_putc(b, 'S');
        }
    }
}

static void put_uuid(lh_buf *b, duckdb_hugeint h) {
    /* DuckDB stores a UUID as a hugeint with the top bit flipped, so it sorts unsigned. */
    uint64_t hi = (uint64_t)h.upper ^ (1ULL << 63), lo = h.lower;
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%08llx-%04llx-%04llx-%04llx-%012llx",
             (unsigned long long)(hi >> 32), (unsigned long long)((hi >> 16) & 0xffff),
             (unsigned long long)(hi & 0xffff), (unsigned long long)(lo >> 48),
             (unsigned long long)(lo & 0xffffffffffffULL));
    lh_buf_puts(b, tmp);
}

void lh_query__put_base64(lh_buf *b, const unsigned char *p, size_t n) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    lh_buf_reserve(b, (n + 2) / 3 * 4);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {al[(v >> 18) & 63], al[(v >> 12) & 63], i + 1 < n ? al[(v >> 6) & 63] : '=',
                     i + 2 < n ? al[v & 63] : '='};
        lh_buf_append(b, q, 4);
    }
}

/* BIT: byte 0 is the number of padding bits at the top of byte 1. */
static void put_bits(lh_buf *b, const unsigned char *p, size_t n) {
    if (n == 0)
        return;
    unsigned pad = p[0];
    for (size_t i = 1; i < n; i++)
        for (int bit = 7; bit >= 0; bit--) {
            if (i == 1 && (unsigned)(7 - bit) < pad)
                continue;
            lh_buf_putc(b, (p[i] >> bit) & 1 ? '1' : '0');
        }
}

/* BIGNUM: a 3-byte header (top bit set for >= 0, then the byte count; all inverted for
 * negatives) and the big-endian magnitude (inverted for negatives). Decimal text by long
 * division in base 1e9. */
static void put_bignum(lh_buf *b, const unsigned char *p, size_t n) {
    if (n < 3) {
        lh_buf_putc(b, '0');
        return;
    }
    bool neg = !(p[0] & 0x80);
    size_t nb = n - 3;
    unsigned char *mag = lh_xmalloc(nb ? nb : 1);
    for (size_t i = 0; i < nb; i++)
        mag[i] = neg ? (unsigned char)~p[3 + i] : p[3 + i];
    size_t ngroups = 0, cap = nb / 3 + 2;
    uint32_t *groups = lh_xmalloc(cap * sizeof *groups);
    size_t start = 0;
    while (start < nb && mag[start] == 0)
        start++;
    while (start < nb) {
        uint64_t rem = 0;
        for (size_t i = start; i < nb; i++) {
            uint64_t cur = (rem << 8) | mag[i];
            mag[i] = (unsigned char)(cur / 1000000000ULL);
            rem = cur % 1000000000ULL;
        }
        if (ngroups == cap)
            groups = lh_xrealloc(groups, (cap *= 2) * sizeof *groups);
        groups[ngroups++] = (uint32_t)rem;
        while (start < nb && mag[start] == 0)
            start++;
    }
    if (ngroups == 0) {
        lh_buf_putc(b, '0');
    } else {
        if (neg)
            lh_buf_putc(b, '-');
        lh_buf_printf(b, "%u", groups[ngroups - 1]);
        for (size_t i = ngroups - 1; i-- > 0;)
            lh_buf_printf(b, "%09u", groups[i]);
    }
    free(groups);
    free(mag);
}

bool lh_query__scalar_text(lh_buf *b, const lh_rtype *t, const void *data, idx_t row) {
    switch (t->id) {
    case DUCKDB_TYPE_TINYINT: put_i64(b, ((const int8_t *)data)[row]); return true;
    case DUCKDB_TYPE_SMALLINT: put_i64(b, ((const int16_t *)data)[row]); return true;
    case DUCKDB_TYPE_INTEGER: put_i64(b, ((const int32_t *)data)[row]); return true;
    case DUCKDB_TYPE_BIGINT: put_i64(b, ((const int64_t *)data)[row]); return true;
    case DUCKDB_TYPE_UTINYINT: put_u64(b, ((const uint8_t *)data)[row]); return true;
    case DUCKDB_TYPE_USMALLINT: put_u64(b, ((const uint16_t *)data)[row]); return true;
    case DUCKDB_TYPE_UINTEGER: put_u64(b, ((const uint32_t *)data)[row]); return true;
    case DUCKDB_TYPE_UBIGINT: put_u64(b, ((const uint64_t *)data)[row]); return true;
    case DUCKDB_TYPE_HUGEINT:
        put_i128(b, hugeint_value(((const duckdb_hugeint *)data)[row]));
        return true;
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint u = ((const duckdb_uhugeint *)data)[row];
        put_u128(b, ((unsigned __int128)u.upper << 64) | u.lower);
        return true;
    }
    case DUCKDB_TYPE_DECIMAL: {
        __int128 v;
        switch (t->internal) {
        case DUCKDB_TYPE_SMALLINT: v = ((const int16_t *)data)[row]; break;
        case DUCKDB_TYPE_INTEGER: v = ((const int32_t *)data)[row]; break;
        case DUCKDB_TYPE_BIGINT: v = ((const int64_t *)data)[row]; break;
        default: v = hugeint_value(((const duckdb_hugeint *)data)[row]); break;
        }
        put_decimal(b, v, t->scale);
        return true;
    }
    case DUCKDB_TYPE_FLOAT: {
        float f = ((const float *)data)[row];
        if (isfinite(f))
            put_float(b, f);
        else
            lh_query__put_nonfinite(b, f);
        return true;
    }
    case DUCKDB_TYPE_DOUBLE: {
        double d = ((const double *)data)[row];
        if (isfinite(d))
            lh_query__put_double(b, d);
        else
            lh_query__put_nonfinite(b, d);
        return true;
    }
    case DUCKDB_TYPE_DATE: {
        int32_t days = ((const int32_t *)data)[row];
        if (days == INT32_MAX || days == -INT32_MAX)
            lh_buf_puts(b, days > 0 ? "infinity" : "-infinity");
        else
            put_days(b, days);
        return true;
    }
    case DUCKDB_TYPE_TIME: put_tod(b, ((const int64_t *)data)[row], 1000000, 6); return true;
    case DUCKDB_TYPE_TIME_NS:
        put_tod(b, ((const int64_t *)data)[row], 1000000000, 9);
        return true;
    case DUCKDB_TYPE_TIME_TZ: {
        duckdb_time_tz_struct s = duckdb_from_time_tz(((const duckdb_time_tz *)data)[row]);
        lh_buf_printf(b, "%02d:%02d:%02d", s.time.hour, s.time.min, s.time.sec);
        put_frac(b, s.time.micros, 6);
        int32_t off = s.offset;
        char sign = off < 0 ? '-' : '+';
        off = off < 0 ? -off : off;
        lh_buf_printf(b, "%c%02d:%02d", sign, off / 3600, off / 60 % 60);
        if (off % 60)
            lh_buf_printf(b, ":%02d", off % 60);
        return true;
    }
    case DUCKDB_TYPE_TIMESTAMP:
        put_timestamp(b, ((const int64_t *)data)[row], 1000000, 6, false);
        return true;
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        put_timestamp(b, ((const int64_t *)data)[row], 1000000, 6, true);
        return true;
    case DUCKDB_TYPE_TIMESTAMP_S: put_timestamp(b, ((const int64_t *)data)[row], 1, 0, false); return true;
    case DUCKDB_TYPE_TIMESTAMP_MS:
        put_timestamp(b, ((const int64_t *)data)[row], 1000, 3, false);
        return true;
    case DUCKDB_TYPE_TIMESTAMP_NS:
        put_timestamp(b, ((const int64_t *)data)[row], 1000000000, 9, false);
        return true;
    case DUCKDB_TYPE_INTERVAL: put_interval(b, ((const duckdb_interval *)data)[row]); return true;
    case DUCKDB_TYPE_UUID: put_uuid(b, ((const duckdb_hugeint *)data)[row]); return true;
    case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_BIT:
    case DUCKDB_TYPE_BIGNUM: {
        size_t n;
        const char *p = lh_query__string_at(data, row, &n);
        if (t->id == DUCKDB_TYPE_BLOB)
            lh_query__put_base64(b, (const unsigned char *)p, n);
        else if (t->id == DUCKDB_TYPE_BIT)
            put_bits(b, (const unsigned char *)p, n);
        else
            put_bignum(b, (const unsigned char *)p, n);
        return true;
    }
    default:
        return false;
    }
}
