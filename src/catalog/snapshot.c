/* catalog: immutable, refcounted snapshots. A snapshot is a sorted array of dataset entries;
 * unchanged entries are shared (refcounted) between successive snapshots, so publishing a
 * commit copies one dataset and an array of pointers. Readers take a reference under a mutex
 * held only for that increment and for the writer's pointer swap, so they never wait on I/O.
 * Each snapshot also holds the content index (content_index.c) matching its entries. */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"

lh_catalog_snap *lh_cat__snap_new(lh_cat__entry **entries, size_t n, uint64_t generation)
{
    lh_catalog_snap *s = lh_xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    s->generation = generation;
    s->n = n;
    if (n) {
        s->items = lh_xcalloc(n, sizeof *s->items);
        for (size_t i = 0; i < n; i++) {
            lh_cat__entry_ref(entries[i]);
            s->items[i] = entries[i];
        }
    }
    return s;
}

lh_catalog_snap *lh_catalog_snapshot(lh_catalog *c)
{
    pthread_mutex_lock(&c->snap_mu);
    lh_catalog_snap *s = c->current;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&c->snap_mu);
    return s;
}

void lh_catalog_snap_unref(lh_catalog_snap *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < s->n; i++)
        lh_cat__entry_unref(s->items[i]);
    free(s->items);
    lh_cat__hidx_unref(s->hidx);
    lh_cat__views_unref(s->views);
    free(s);
}

uint64_t lh_catalog_snap_generation(const lh_catalog_snap *s)
{
    return s->generation;
}

uint64_t lh_catalog_generation(lh_catalog *c)
{
    return atomic_load(&c->generation);
}

size_t lh_catalog_snap_count(const lh_catalog_snap *s)
{
    return s->n;
}

const lh_dataset *lh_catalog_snap_at(const lh_catalog_snap *s, size_t i)
{
    return i < s->n ? &s->items[i]->d : NULL;
}

/* Index of name in s, or of where it would be inserted (*found false). */
static size_t snap_search(const lh_catalog_snap *s, const char *name, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(s->items[mid]->d.name, name);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

const lh_dataset *lh_catalog_snap_find(const lh_catalog_snap *s, const char *name)
{
    if (!name)
        return NULL;
    bool found;
    size_t i = snap_search(s, name, &found);
    return found ? &s->items[i]->d : NULL;
}

lh_cat__entry *lh_cat__current_entry(lh_catalog *c, const char *name)
{
    lh_catalog_snap *s = lh_catalog_snapshot(c);
    bool found;
    size_t i = snap_search(s, name, &found);
    lh_cat__entry *e = NULL;
    if (found) {
        e = s->items[i];
        lh_cat__entry_ref(e);
    }
    lh_catalog_snap_unref(s);
    return e;
}

void lh_cat__publish(lh_catalog *c, lh_cat__entry *e)
{
    /* publish_mu keeps two writers of different datasets from both building on the same
     * snapshot (one update would be lost); readers only ever wait for the swap itself. */
    pthread_mutex_lock(&c->publish_mu);
    lh_catalog_snap *old = lh_catalog_snapshot(c);
    bool found;
    size_t at = snap_search(old, e->d.name, &found);
    size_t n = old->n + (found ? 0 : 1);
    lh_cat__entry **items = lh_xcalloc(n, sizeof *items);
    if (at)
        memcpy(items, old->items, at * sizeof *items);
    items[at] = e;
    size_t rest = old->n - at - (found ? 1 : 0);
    if (rest)
        memcpy(items + at + 1, old->items + at + (found ? 1 : 0), rest * sizeof *items);
    lh_catalog_snap *next = lh_cat__snap_new(items, n, old->generation + 1);
    free(items);
    next->hidx = lh_cat__hidx_with(old->hidx, e); /* shared unless e brings new hashes */
    next->views = old->views;
    if (next->views)
        lh_cat__views_ref(next->views);

    pthread_mutex_lock(&c->snap_mu);
    lh_catalog_snap *prev = c->current;
    c->current = next;
    atomic_store(&c->generation, next->generation);
    pthread_mutex_unlock(&c->snap_mu);
    pthread_mutex_unlock(&c->publish_mu);

    lh_catalog_snap_unref(prev); /* the catalog's reference */
    lh_catalog_snap_unref(old);  /* ours */
}

void lh_cat__publish_views(lh_catalog *c, lh_cat__views *v)
{
    pthread_mutex_lock(&c->publish_mu);
    lh_catalog_snap *old = lh_catalog_snapshot(c);
    lh_catalog_snap *next = lh_cat__snap_new(old->items, old->n, old->generation + 1);
    next->hidx = old->hidx;
    atomic_fetch_add_explicit(&next->hidx->refs, 1, memory_order_relaxed);
    next->views = v;
    lh_cat__views_ref(v);

    pthread_mutex_lock(&c->snap_mu);
    lh_catalog_snap *prev = c->current;
    c->current = next;
    atomic_store(&c->generation, next->generation);
    pthread_mutex_unlock(&c->snap_mu);
    pthread_mutex_unlock(&c->publish_mu);

    lh_catalog_snap_unref(prev);
    lh_catalog_snap_unref(old);
}
