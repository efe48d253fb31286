/* catalog: the content index, sha256 of ingested content -> the dataset holding it, so ingest
 * can tell a re-upload of the same bytes ("duplicate") without reading any data. Built from
 * every commit's content_hash at open, extended on each commit; immutable once built and
 * shared by the snapshots that have the same set (a lookup is a binary search). */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

bool lh_cat__hash_parse(const char *hex, unsigned char out[32])
{
    if (!hex || strlen(hex) != 64)
        return false;
    for (size_t i = 0; i < 64; i++) {
        char ch = hex[i];
        int v = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (v < 0)
            return false;
        if (i % 2 == 0)
            out[i / 2] = (unsigned char)(v << 4);
        else
            out[i / 2] |= (unsigned char)v;
    }
    return true;
}

static int cmp_hent(const void *a, const void *b)
{
    const lh_cat__hent *x = a, *y = b;
    int c = memcmp(x->hash, y->hash, sizeof x->hash);
    if (c)
        return c;
    return x->name < y->name ? -1 : x->name > y->name; /* stable: earlier name wins */
}

static lh_cat__hidx *hidx_alloc(void)
{
    lh_cat__hidx *x = lh_xcalloc(1, sizeof *x);
    atomic_init(&x->refs, 1);
    return x;
}

/* Adds a name; search: reuse an equal one (callers that know the name is new skip the
 * linear search, which would make building over many datasets quadratic). */
static uint32_t add_name(lh_cat__hidx *x, const char *name, bool search)
{
    for (size_t i = 0; search && i < x->nnames; i++)
        if (strcmp(x->names[i], name) == 0)
            return (uint32_t)i;
    x->names = lh_xrealloc(x->names, (x->nnames + 1) * sizeof *x->names);
    x->names[x->nnames] = lh_xstrdup(name);
    return (uint32_t)x->nnames++;
}

/* Appends e's new hashes (consumed) as unsorted entries of x. */
static void take_hashes(lh_cat__hidx *x, size_t *cap, lh_cat__entry *e)
{
    if (e->nnew_hashes == 0)
        return;
    uint32_t name = add_name(x, e->d.name, false); /* one entry per dataset */
    for (size_t i = 0; i < e->nnew_hashes; i++) {
        if (x->n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            x->items = lh_xrealloc(x->items, *cap * sizeof *x->items);
        }
        if (lh_cat__hash_parse(e->new_hashes[i], x->items[x->n].hash)) {
            x->items[x->n].name = name;
            x->n++;
        }
        free(e->new_hashes[i]);
    }
    free(e->new_hashes);
    e->new_hashes = NULL;
    e->nnew_hashes = 0;
}

/* Sorts and keeps the first entry of each hash. */
static void sort_unique(lh_cat__hidx *x)
{
    if (x->n < 2)
        return;
    qsort(x->items, x->n, sizeof *x->items, cmp_hent);
    size_t out = 1;
    for (size_t i = 1; i < x->n; i++)
        if (memcmp(x->items[i].hash, x->items[out - 1].hash, 32) != 0)
            x->items[out++] = x->items[i];
    x->n = out;
}

lh_cat__hidx *lh_cat__hidx_build(lh_cat__entry **entries, size_t n)
{
    lh_cat__hidx *x = hidx_alloc();
    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        take_hashes(x, &cap, entries[i]);
    sort_unique(x);
    return x;
}

static const lh_cat__hent *find(const lh_cat__hidx *x, const unsigned char h[32])
{
    size_t lo = 0, hi = x ? x->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(x->items[mid].hash, h, 32);
        if (c == 0)
            return &x->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

lh_cat__hidx *lh_cat__hidx_with(lh_cat__hidx *old, lh_cat__entry *e)
{
    if (e->nnew_hashes == 0) {
        if (old)
            atomic_fetch_add_explicit(&old->refs, 1, memory_order_relaxed);
        return old ? old : hidx_alloc();
    }
    /* New hashes: a sorted run of those not indexed yet, merged with the old run in O(n). */
    lh_cat__hidx *add = hidx_alloc();
    size_t cap = 0;
    take_hashes(add, &cap, e);
    sort_unique(add);
    lh_cat__hidx *x = hidx_alloc();
    size_t nold = old ? old->n : 0;
    x->items = lh_xcalloc(nold + add->n + 1, sizeof *x->items);
    for (size_t i = 0; old && i < old->nnames; i++)
        (void)add_name(x, old->names[i], false); /* same order: old indexes stay valid */
    uint32_t name = add_name(x, e->d.name, true);
    size_t i = 0, j = 0;
    while (i < nold || j < add->n) {
        int c = i == nold   ? 1
                : j == add->n ? -1
                              : memcmp(old->items[i].hash, add->items[j].hash, 32);
        if (c <= 0) {
            x->items[x->n++] = old->items[i++];
            if (c == 0)
                j++; /* already held by a dataset: the first one stays */
        } else {
            x->items[x->n] = add->items[j++];
            x->items[x->n++].name = name;
        }
    }
    lh_cat__hidx_unref(add);
    return x;
}

void lh_cat__hidx_unref(lh_cat__hidx *x)
{
    if (!x || atomic_fetch_sub_explicit(&x->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < x->nnames; i++)
        free(x->names[i]);
    free(x->names);
    free(x->items);
    free(x);
}

const char *lh_catalog_snap_find_content(const lh_catalog_snap *s, const char *sha256_hex)
{
    unsigned char h[32];
    if (!s || !lh_cat__hash_parse(sha256_hex, h))
        return NULL;
    const lh_cat__hent *hit = find(s->hidx, h);
    return hit ? s->hidx->names[hit->name] : NULL;
}
