/* vector: the chunker, which cuts document text into overlapping pieces for embedding (ingest
 * -> chunk -> embed -> index). Units are code points or whitespace-separated tokens; cuts
 * prefer sentence ends, then word ends, and never fall inside a UTF-8 sequence.
 *
 * Design: a sliding window of at most `size` units, kept as a ring of unit start offsets, moves
 * forward only. Word and sentence ends are noted as units enter it, so each byte is looked at
 * a bounded number of times whatever the overlap: the work is O(len), not O(len * size). */
#include <stdlib.h>
#include <string.h>

#include "vector/vector.h"

/* Texts past this are refused: the caller (ingest) splits documents long before. Also keeps
 * every offset within a uint32_t. */
#define CHUNK_MAX_TEXT ((size_t)64 << 20)
/* How far (in units) a chunk start that lands mid-word may move forward to a word start. */
#define CHUNK_SNAP_UNITS 32

/* ASCII whitespace only: Unicode spaces are rare in extracted text and would make "is this
 * byte a boundary" depend on decoding. */
static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline bool is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Length of the well-formed UTF-8 sequence at s[p] (1 to 4), or 1 for a byte that does not
 * start one: overlongs, surrogates, code points past U+10FFFF and truncated sequences are
 * invalid, and each of their bytes is a unit of its own. */
static size_t utf8_len(const unsigned char *s, size_t n, size_t p)
{
    unsigned char c = s[p];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 1;
    }
    if (p + need >= n)
        return 1; /* truncated by the end of the text */
    if (s[p + 1] < lo || s[p + 1] > hi)
        return 1;
    for (size_t i = 2; i <= need; i++)
        if (!is_cont(s[p + i]))
            return 1;
    return need + 1;
}

typedef struct chunker {
    const unsigned char *s;
    size_t len;
    lh_chunk_unit unit;
    size_t size, overlap;
    uint32_t *ring; /* unit start offsets of the window, ring[(head + i) % cap] */
    size_t cap, head, count;
    size_t wend;      /* one past the last unit in the window */
    size_t last_word; /* latest word end < wend (0 = none) */
    size_t last_sent; /* latest sentence end <= wend (0 = none) */
    size_t run_a, run_b; /* cache: s[run_a..run_b) is whitespace up to a non-space or len */
    lh_chunk *out;
    size_t nout, capout;
} chunker;

static inline size_t unit_at(const chunker *c, size_t i)
{
    return c->ring[(c->head + i) % c->cap];
}

/* The end of the whitespace run that contains p (p itself when s[p] is not a space). Cached
 * because the window end can sit in the same long run for several chunks in a row. */
static size_t run_end(chunker *c, size_t p)
{
    if (p >= c->run_a && p < c->run_b)
        return c->run_b;
    size_t q = p;
    while (q < c->len && is_ws(c->s[q]))
        q++;
    if (q > p) {
        c->run_a = p;
        c->run_b = q;
    }
    return q;
}

/* Whether the word end at e (s[e-1] not a space; e == len or s[e] a space) ends a sentence:
 * after '.', '!' or '?', or before a newline that is followed by more whitespace (a blank
 * line or an indented one). Called once per word end, so the scan of the run is O(len). */
static bool sentence_end(const chunker *c, size_t e)
{
    unsigned char p = c->s[e - 1];
    if (p == '.' || p == '!' || p == '?')
        return true;
    for (size_t q = e; q + 1 < c->len && is_ws(c->s[q]); q++)
        if (c->s[q] == '\n' && is_ws(c->s[q + 1]))
            return true;
    return false;
}

static inline bool word_end_at(const chunker *c, size_t e)
{
    return e > 0 && !is_ws(c->s[e - 1]) && (e == c->len || is_ws(c->s[e]));
}

/* Appends the next unit to the window; false at the end of the text. */
static bool push_unit(chunker *c)
{
    size_t p = c->wend;
    if (c->unit == LH_CHUNK_TOKENS) {
        p = run_end(c, p);
        if (p >= c->len)
            return false;
        size_t r = p;
        while (r < c->len && !is_ws(c->s[r]))
            r++;
        c->ring[(c->head + c->count++) % c->cap] = (uint32_t)p;
        c->wend = r;
        c->last_word = r; /* every token end is a word end */
        if (sentence_end(c, r))
            c->last_sent = r;
        return true;
    }
    if (p >= c->len)
        return false;
    if (p > 0 && is_ws(c->s[p]) && !is_ws(c->s[p - 1])) {
        c->last_word = p;
        if (sentence_end(c, p))
            c->last_sent = p;
    }
    c->ring[(c->head + c->count++) % c->cap] = (uint32_t)p;
    c->wend = p + utf8_len(c->s, c->len, p);
    return true;
}

static void pop_units(chunker *c, size_t n)
{
    c->head = (c->head + n) % c->cap;
    c->count -= n;
}

/* Drops leading whitespace units so the window (and the next chunk) starts on a non-space.
 * An emptied window restarts past the whole run. */
static void skip_leading_ws(chunker *c)
{
    while (c->count > 0 && is_ws(c->s[unit_at(c, 0)]))
        pop_units(c, 1);
    if (c->count == 0)
        c->wend = run_end(c, c->wend);
}

static int emit(chunker *c, size_t start, size_t end, lh_err *err)
{
    if (c->nout == c->capout) {
        size_t ncap = c->capout ? c->capout * 2 : 16;
        lh_chunk *n = realloc(c->out, ncap * sizeof(lh_chunk));
        if (!n)
            return lh_err_set(err, LH_TOO_LARGE, "chunking: no memory for %zu chunks", ncap);
        c->out = n;
        c->capout = ncap;
    }
    c->out[c->nout++] = (lh_chunk){start, end};
    return 0;
}

/* Where a full window that does not reach the end of the text is cut: the latest sentence
 * end in the window's last half, else the latest word end, else the window end. Only ends
 * past the previous chunk's end count, so a chunk never lies inside the one before it;
 * 0 when the window holds nothing new (then it only slides). */
static size_t pick_end(const chunker *c, size_t prev_end)
{
    size_t pos = unit_at(c, 0), L = c->wend;
    size_t half = unit_at(c, c->size / 2);
    size_t floor = prev_end > pos ? prev_end : pos;
    bool word_at_L = word_end_at(c, L);
    size_t sent = c->last_sent;
    if (c->unit == LH_CHUNK_CHARS && word_at_L && sentence_end(c, L))
        sent = L;
    if (sent >= half && sent > floor)
        return sent;
    size_t word = word_at_L ? L : c->last_word;
    if (word > floor)
        return word;
    /* No word end past the floor and the window ends in a space: then everything past the
     * previous chunk is whitespace, and a chunk here would add nothing. */
    if (is_ws(c->s[L - 1]))
        return 0;
    return L;
}

/* Number of window units that start before e. */
static size_t units_before(const chunker *c, size_t e)
{
    size_t lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (unit_at(c, mid) < e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* True when window unit i starts a word (a non-space after a space). */
static inline bool word_start(const chunker *c, size_t i)
{
    size_t p = unit_at(c, i);
    return !is_ws(c->s[p]) && is_ws(c->s[p - 1]);
}

/* Moves the window to the start of the next chunk: `overlap` units before e (at least one
 * unit past the current start, so the loop always progresses), then past any whitespace. In
 * chars mode a start that lands mid-word moves to the nearest word start within
 * CHUNK_SNAP_UNITS (hence "about" overlap units), so chunks rarely begin with a fragment. */
static void advance(chunker *c, size_t e)
{
    size_t cnt = units_before(c, e);
    size_t drop = cnt > c->overlap ? cnt - c->overlap : 1;
    if (c->unit == LH_CHUNK_CHARS && drop < cnt && !is_ws(c->s[unit_at(c, drop)]) &&
        !word_start(c, drop)) {
        for (size_t d = 1; d <= CHUNK_SNAP_UNITS; d++) {
            /* Backward first on a tie: a little more context rather than less. */
            if (drop - 1 >= d && word_start(c, drop - d)) {
                drop -= d;
                break;
            }
            if (drop + d < cnt && word_start(c, drop + d)) {
                drop += d;
                break;
            }
        }
    }
    pop_units(c, drop);
    skip_leading_ws(c);
}

static int run(chunker *c, lh_err *err)
{
    c->wend = run_end(c, 0);
    size_t prev_end = 0;
    for (;;) {
        while (c->count < c->size && push_unit(c)) {
        }
        if (c->count == 0)
            return 0;
        size_t pos = unit_at(c, 0);
        size_t L = c->wend;
        if (L >= c->len || run_end(c, L) >= c->len) {
            /* The rest fits: one last chunk, without its trailing whitespace. */
            size_t e = !is_ws(c->s[L - 1]) ? L : c->last_word;
            return emit(c, pos, e, err);
        }
        size_t e = pick_end(c, prev_end);
        if (e == 0) {
            advance(c, L);
            continue;
        }
        if (emit(c, pos, e, err) != 0)
            return -1;
        prev_end = e;
        advance(c, e);
    }
}

ssize_t lh_chunk_text(const char *text, size_t len, const lh_chunk_opts *opts, lh_chunk **out,
                      lh_err *err)
{
    if (!opts || !out || (!text && len > 0))
        return lh_err_set(err, LH_INVALID_ARGUMENT, "chunking: missing text, options or output");
    *out = NULL;
    if (opts->unit != LH_CHUNK_CHARS && opts->unit != LH_CHUNK_TOKENS)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "chunking: unknown unit %d", (int)opts->unit);
    if (opts->size == 0)
        return lh_err_set(err, LH_INVALID_ARGUMENT, "chunk size must be greater than 0");
    if (opts->overlap >= opts->size)
        return lh_err_set(err, LH_INVALID_ARGUMENT,
                          "chunk overlap (%zu) must be smaller than chunk size (%zu)", opts->overlap,
                          opts->size);
    if (len > CHUNK_MAX_TEXT)
        return lh_err_set(err, LH_TOO_LARGE, "text of %zu bytes is too large to chunk (limit %zu)",
                          len, CHUNK_MAX_TEXT);
    if (len == 0)
        return 0;

    chunker c = {.s = (const unsigned char *)text, .len = len, .unit = opts->unit,
                 .size = opts->size, .overlap = opts->overlap};
    /* A window never holds more units than the text has bytes. */
    c.cap = (opts->size < len ? opts->size : len) + 1;
    c.ring = lh_try_alloc(c.cap * sizeof(uint32_t));
    if (!c.ring)
        return lh_err_set(err, LH_TOO_LARGE, "chunking: no memory for a window of %zu units",
                          c.cap);
    int rc = run(&c, err);
    free(c.ring);
    if (rc != 0) {
        free(c.out);
        return -1;
    }
    *out = c.out;
    return (ssize_t)c.nout;
}
