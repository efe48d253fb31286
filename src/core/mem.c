/* Allocation: x-functions for small fixed sizes (abort on OOM), lh_try_alloc for
 * user-controlled sizes (NULL on failure, fault-injectable), and arenas freed in one go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static _Noreturn void oom(size_t n)
{
    lh_panic(__FILE__, __LINE__, "out of memory allocating %zu bytes", n);
}

void *lh_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *lh_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        oom(count * n);
    return p;
}

void *lh_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *lh_xstrdup(const char *s)
{
    return lh_xstrndup(s, strlen(s));
}

char *lh_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = lh_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *lh_xasprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        lh_panic(__FILE__, __LINE__, "bad format '%s'", fmt);
    char *p = lh_xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void *lh_try_alloc(size_t n)
{
    if (lh_fault_hit("alloc"))
        return NULL;
    return malloc(n ? n : 1);
}

/* ---- arena ---- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_block;

struct lh_arena {
    arena_block *head;
    size_t block_size;
};

lh_arena *lh_arena_new(size_t block_size)
{
    lh_arena *a = lh_xcalloc(1, sizeof *a);
    a->block_size = block_size ? block_size : 8192;
    return a;
}

void lh_arena_free(lh_arena *a)
{
    if (!a)
        return;
    for (arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

void *lh_arena_alloc(lh_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > a->block_size ? n : a->block_size;
        b = lh_xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *lh_arena_strndup(lh_arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = lh_arena_alloc(a, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *lh_arena_strdup(lh_arena *a, const char *s)
{
    return lh_arena_strndup(a, s, strlen(s));
}
