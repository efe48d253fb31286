/* Unit tests for src/core/mem.c: the x-allocators, lh_try_alloc and arenas. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"

Test(mem, x_functions)
{
    char *s = lh_xstrdup("abc");
    cr_assert(eq(str, s, "abc"));
    free(s);
    s = lh_xstrndup("abcdef", 3);
    cr_assert(eq(str, s, "abc"));
    free(s);
    s = lh_xstrndup("ab", 10);
    cr_assert(eq(str, s, "ab"));
    free(s);
    s = lh_xasprintf("%s-%05d", "id", 42);
    cr_assert(eq(str, s, "id-00042"));
    free(s);
    int *z = lh_xcalloc(100, sizeof *z);
    for (int i = 0; i < 100; i++)
        cr_assert(eq(int, z[i], 0));
    z = lh_xrealloc(z, 1000 * sizeof *z);
    z[999] = 7;
    cr_assert(eq(int, z[0], 0));
    free(z);
    void *p = lh_xmalloc(0); /* zero is a valid, freeable allocation */
    cr_assert_not_null(p);
    free(p);
}

Test(mem, try_alloc)
{
    unsetenv("LH_FAULT");
    lh_fault_reset();
    char *p = lh_try_alloc(1 << 20);
    cr_assert_not_null(p);
    p[(1 << 20) - 1] = 1;
    free(p);
#if !defined(__SANITIZE_ADDRESS__)
    /* A size no machine has: NULL, not an abort. (ASan aborts on such a request unless
     * ASAN_OPTIONS has allocator_may_return_null=1, so the sanitizer build skips this.) */
    cr_assert_null(lh_try_alloc(SIZE_MAX / 2));
#endif
}

Test(mem, arena_many_small_allocations)
{
    lh_arena *a = lh_arena_new(256);
    char *ptrs[2000];
    for (int i = 0; i < 2000; i++) {
        ptrs[i] = lh_arena_alloc(a, 13);
        cr_assert_not_null(ptrs[i]);
        cr_assert(eq(u64, (uint64_t)(uintptr_t)ptrs[i] % 8, 0), "allocation %d unaligned", i);
        memset(ptrs[i], i % 251, 13);
    }
    /* Nothing overlapped: every block still holds its own pattern. */
    for (int i = 0; i < 2000; i++)
        for (int k = 0; k < 13; k++)
            cr_assert(eq(u8, (uint8_t)ptrs[i][k], (uint8_t)(i % 251)));
    lh_arena_free(a);
}

Test(mem, arena_large_and_strings)
{
    lh_arena *a = lh_arena_new(64);
    char *big = lh_arena_alloc(a, 100000); /* larger than a block */
    cr_assert_not_null(big);
    memset(big, 'x', 100000);
    char *s = lh_arena_strdup(a, "hello");
    cr_assert(eq(str, s, "hello"));
    char *t = lh_arena_strndup(a, "world!!", 5);
    cr_assert(eq(str, t, "world"));
    cr_assert(eq(chr, big[99999], 'x'));
    double *d = lh_arena_alloc(a, sizeof(double) * 4);
    d[3] = 1.5;
    cr_assert(eq(u64, (uint64_t)(uintptr_t)d % _Alignof(double), 0));
    lh_arena_free(a);
    lh_arena_free(NULL);
    a = lh_arena_new(0); /* default block size */
    cr_assert_not_null(lh_arena_alloc(a, 1));
    lh_arena_free(a);
}
