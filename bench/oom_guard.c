/*
 * oom_guard.c - what the out-of-memory guard costs (docs/decisions.md,
 * "Out of memory"): sc_oom_call around an empty function against a direct
 * call.  The live source runs each record's decoder under one (so that
 * running out of memory stops a tdb or ctdbd traverse cleanly): at 2,000
 * clients that is about 8,000 records per read.  Built and run by
 * bench/run.sh; prints figures, asserts nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

bool sc_oom_call(void (*fn)(void *), void *arg); /* src/base/base.h */

static volatile int sink;

static void work(void *p)
{
    sink += *(int *)p;
}

static double ns_per_call(bool guarded, long n)
{
    int one = 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        if (guarded)
            sc_oom_call(work, &one);
        else
            work(&one);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    return ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
}

int main(void)
{
    const long n = 20000000;
    double g = ns_per_call(true, n), d = ns_per_call(false, n);
    printf("oom guard: %.1f ns per guarded call, %.1f ns direct; 8,000 records (2,000 clients): "
           "+%.3f ms per live read\n", g, d, (g - d) * 8000 / 1e6);
    return 0;
}
