/* Unit tests for src/core/fault.c: LH_FAULT makes exactly the Nth operation of a kind fail.
 * Criterion runs each test in its own process, so setenv here cannot leak into other tests. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/core.h"

Test(fault, no_faults_by_default)
{
    unsetenv("LH_FAULT");
    lh_fault_reset();
    for (int i = 0; i < 10; i++) {
        void *p = lh_try_alloc(16);
        cr_assert_not_null(p);
        free(p);
    }
    cr_assert_not(lh_fault_hit("alloc"));
    lh_fault_point("anywhere"); /* no crash configured: returns */
}

Test(fault, alloc_nth_fails_once)
{
    setenv("LH_FAULT", "alloc:2", 1);
    lh_fault_reset();
    void *a = lh_try_alloc(32);
    void *b = lh_try_alloc(32);
    void *c = lh_try_alloc(32);
    cr_assert_not_null(a);
    cr_assert_null(b, "the 2nd lh_try_alloc must fail");
    cr_assert_not_null(c, "only the 2nd fails");
    free(a);
    free(c);
    /* Reset forgets the counters: the 2nd allocation after it fails again. */
    lh_fault_reset();
    a = lh_try_alloc(8);
    cr_assert_not_null(a);
    cr_assert_null(lh_try_alloc(8));
    free(a);
}

Test(fault, write_nth_fails_with_io_error)
{
    setenv("LH_FAULT", "alloc:5,write:1", 1);
    lh_fault_reset();
    int fd = open("/dev/null", O_WRONLY);
    cr_assert(ge(int, fd, 0));
    lh_err err = LH_ERR_INIT;
    cr_assert(eq(int, lh_write_full(fd, "abc", 3, &err), -1));
    cr_assert(eq(int, err.code, LH_IO_ERROR));
    cr_assert(eq(int, lh_write_full(fd, "abc", 3, &err), 0));
    close(fd);
    for (int i = 1; i <= 6; i++) {
        void *p = lh_try_alloc(4);
        if (i == 5)
            cr_assert_null(p, "the 5th allocation must fail");
        else
            cr_assert_not_null(p, "allocation %d failed", i);
        free(p);
    }
}

Test(fault, commit_kind_counts_separately)
{
    setenv("LH_FAULT", "commit:3", 1);
    lh_fault_reset();
    cr_assert_not(lh_fault_hit("commit"));
    cr_assert_not(lh_fault_hit("write"));
    cr_assert_not(lh_fault_hit("commit"));
    cr_assert(lh_fault_hit("commit"));
    cr_assert_not(lh_fault_hit("commit"));
}

Test(fault, crash_point_exits_99, .exit_code = 99)
{
    setenv("LH_FAULT", "crash:before_rename", 1);
    lh_fault_reset();
    lh_fault_point("after_rename"); /* other points pass */
    lh_fault_point("before_rename");
    cr_assert(eq(int, 0, 1), "lh_fault_point returned");
}
