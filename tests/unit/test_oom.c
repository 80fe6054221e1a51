/*
 * test_oom.c - running out of memory is a status, never an abort (issue 12
 * #21; docs/decisions.md, "Out of memory").  A scenario that goes through
 * every kind of public call (open, queries, parsed queries, associations,
 * GetObject, snapshot text, MOF and value text, a watch and its poll) is
 * run once to count its allocations, then once more for each of them with
 * that one failing (sc_oom_fail_after).  Every run must end normally, every call
 * must answer success or WBEM_E_OUT_OF_MEMORY (NULL where the call reports
 * failure that way), the failure must surface in some call, and a context
 * that ran out answers WBEM_E_OUT_OF_MEMORY to every later call.
 *
 * What a failed call had allocated may be lost (documented), so this
 * program is not run under valgrind's leak check and tells LeakSanitizer
 * to ignore its allocations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smbcim.h"
#include "base/base.h"

/* LeakSanitizer's interface, when the program is built with it: what is
 * allocated between __lsan_disable() and __lsan_enable() is not reported
 * (test-all.sh runs the ASan build with detect_leaks=1). */
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

static void leaks_ignored(bool on)
{
    if (on && __lsan_disable)
        __lsan_disable();
    else if (!on && __lsan_enable)
        __lsan_enable();
}

static char *fs01;
static size_t fs01_len;

static int setup(void **state)
{
    (void)state;
    const char *dir = getenv("SMBCIM_SRCDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/fs01.json", dir ? dir : ".");
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    fs01_len = (size_t)ftell(f);
    rewind(f);
    fs01 = malloc(fs01_len);
    size_t got = fread(fs01, 1, fs01_len, f);
    fclose(f);
    return got == fs01_len ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(fs01);
    return 0;
}

typedef struct run {
    unsigned ooms;      /* calls that reported out of memory */
    unsigned others;    /* calls that failed otherwise: never expected */
    char other[1400];
} run;

/* A status: success, or out of memory (counted); anything else noted. */
static bool ok(run *r, smbcim_status st, const smbcim_error *err, const char *what)
{
    if (st == WBEM_S_NO_ERROR)
        return true;
    if (st == WBEM_E_OUT_OF_MEMORY && err->code == WBEM_E_OUT_OF_MEMORY) {
        r->ooms++;
        return false;
    }
    if (!r->others++)
        snprintf(r->other, sizeof r->other, "%s: %s %s", what, smbcim_status_name(st), err->msg);
    return false;
}

/* A text call: NULL only when memory ran out. */
static void text(run *r, char *s)
{
    if (s)
        free(s);
    else
        r->ooms++;
}

static const char *const queries[] = {
    "SELECT * FROM Win32_ServerConnection WHERE NumberOfFiles > 0",
    "ASSOCIATORS OF {Win32_Share.Name=\"Projects\"}",
    "REFERENCES OF {Win32_ServerSession.ComputerName=\"10.0.0.7\",UserName=\"bob\"}",
    "SELECT FileId, Path FROM MSFT_SmbOpenFile WHERE ShareRelativePath LIKE '%.xlsx'",
};

static void scenario(run *r)
{
    smbcim_error err;
    smbcim_ctx *ctx = smbcim_open_snapshot_buffer(fs01, fs01_len, "fs01.json", &err);
    if (!ctx) {
        ok(r, err.code, &err, "open");
        return;
    }
    bool dead = false; /* the context ran out: every later call must say so */
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        smbcim_result *res = NULL;
        smbcim_status st = smbcim_exec_query(ctx, queries[i], &res, &err);
        if (dead && st != WBEM_E_OUT_OF_MEMORY && !r->others++)
            snprintf(r->other, sizeof r->other, "query after out of memory: %s",
                     smbcim_status_name(st));
        if (!ok(r, st, &err, queries[i])) {
            dead = dead || st == WBEM_E_OUT_OF_MEMORY;
            assert_null(res);
            continue;
        }
        for (size_t k = 0; k < res->count && res->instances; k++) {
            text(r, smbcim_instance_mof(res->instances[k]));
            const cim_value *v = smbcim_instance_get(res->instances[k], "__CLASS");
            (void)v;
        }
        smbcim_result_free(res);
    }
    /* a parsed query, run twice, freed before its results */
    smbcim_query *pq = NULL;
    smbcim_result *twice[2] = {NULL, NULL};
    if (ok(r, smbcim_query_parse("SELECT Name, Path FROM Win32_Share WHERE Name LIKE 'P%'",
                                 &pq, &err), &err, "parse")) {
        for (int k = 0; k < 2; k++)
            if (!ok(r, smbcim_exec_parsed(ctx, pq, &twice[k], &err), &err, "exec parsed"))
                assert_null(twice[k]);
        smbcim_query_free(pq);
        for (int k = 0; k < 2; k++) {
            if (twice[k] && twice[k]->count)
                text(r, smbcim_instance_mof(twice[k]->instances[0]));
            smbcim_result_free(twice[k]);
        }
    } else {
        assert_null(pq);
    }
    smbcim_assoc_filter f = {.result_class = "MSFT_SmbOpenFile"};
    smbcim_result *res = NULL;
    if (ok(r, smbcim_associators(ctx, "Win32_ServerConnection.ComputerName=\"10.0.0.5\","
                                      "ShareName=\"Projects\",UserName=\"alice\"",
                                 &f, &res, &err),
           &err, "associators")) {
        for (size_t k = 0; k < res->count; k++) {
            const cim_value *p = smbcim_instance_get(res->instances[k], "Path");
            text(r, smbcim_value_text(p));
        }
        smbcim_result_free(res);
    }
    if (ok(r, smbcim_get_object(ctx, "Win32_Share.Name=\"Finance Data\"", &res, &err), &err,
           "get"))
        smbcim_result_free(res);
    if (ok(r, smbcim_enum_instances(ctx, "CIM_Dependency", &res, &err), &err, "enum"))
        smbcim_result_free(res);
    char *snap = smbcim_snapshot_text(ctx, &err);
    if (snap)
        free(snap);
    else
        ok(r, err.code, &err, "snapshot text");
    const cim_class *cls = smbcim_class_find(ctx, "MSFT_SmbOpenFile");
    assert_non_null(cls);
    text(r, smbcim_class_mof(cls));
    text(r, smbcim_escape_text("a\x1b[31mb", SMBCIM_TEXT_VISIBLE));

    /* a watch: the same state twice, then a poll */
    smbcim_ctx *second = smbcim_open_snapshot_buffer(fs01, fs01_len, "fs01.json", &err);
    if (!second) {
        ok(r, err.code, &err, "open second");
        smbcim_close(ctx);
        return;
    }
    smbcim_watch *w = smbcim_watch_open(
        ctx, "SELECT * FROM __InstanceOperationEvent WITHIN 1 "
             "WHERE TargetInstance ISA 'MSFT_SmbOpenFile'", &err);
    if (!w) {
        ok(r, err.code, &err, "watch open");
        smbcim_close(ctx);
        smbcim_close(second);
        return;
    }
    smbcim_result *ev = NULL;
    if (ok(r, smbcim_watch_poll(w, second, &ev, &err), &err, "poll")) {
        if (ev->count && !r->others++)
            snprintf(r->other, sizeof r->other, "the same state gave %zu events", ev->count);
        smbcim_result_free(ev);
    }
    smbcim_watch_close(w);
}

static void test_every_allocation_fails_once(void **state)
{
    (void)state;
    run clean = {0};
    sc_oom_fail_after(0);
    scenario(&clean);
    unsigned long total = sc_oom_fail_after(0);
    if (clean.ooms || clean.others)
        fail_msg("the scenario fails without a fault: %s", clean.other);
    print_message("scenario: %lu allocations; each made to fail in turn\n", total);
    assert_true(total > 1000); /* the sweep is worth something */
    unsigned long silent = 0, first_silent = 0;
    for (unsigned long n = 1; n <= total; n++) {
        run r = {0};
        sc_oom_fail_after(n);
        scenario(&r);
        sc_oom_fail_after(0);
        if (r.others)
            fail_msg("allocation %lu failing: %s", n, r.other);
        if (!r.ooms && !silent++)
            first_silent = n;
    }
    if (silent)
        fail_msg("%lu of %lu failed allocations were not reported (first: %lu)", silent, total,
                 first_silent);
}

/* The library itself never aborts: an allocation failing outside any call
 * of the API (smbcimd's own code) still does, with a message. */
static void test_context_unusable_after(void **state)
{
    (void)state;
    smbcim_error err;
    smbcim_ctx *ctx = smbcim_open_snapshot_buffer(fs01, fs01_len, "fs01.json", &err);
    assert_non_null(ctx);
    smbcim_result *res = NULL;
    sc_oom_fail_after(3);
    assert_int_equal(smbcim_exec_query(ctx, "SELECT * FROM Win32_ServerSession", &res, &err),
                     WBEM_E_OUT_OF_MEMORY);
    sc_oom_fail_after(0);
    assert_string_equal(err.msg, "out of memory");
    assert_null(res);
    /* memory is back, but the context may be half built: refused */
    assert_int_equal(smbcim_exec_query(ctx, "SELECT * FROM Win32_Share", &res, &err),
                     WBEM_E_OUT_OF_MEMORY);
    assert_non_null(strstr(err.msg, "earlier call on this context ran out of memory"));
    assert_null(smbcim_snapshot_text(ctx, &err));
    assert_int_equal(err.code, WBEM_E_OUT_OF_MEMORY);
    smbcim_close(ctx);
    /* a new context works */
    ctx = smbcim_open_snapshot_buffer(fs01, fs01_len, "fs01.json", &err);
    assert_non_null(ctx);
    assert_int_equal(smbcim_exec_query(ctx, "SELECT * FROM Win32_Share", &res, &err),
                     WBEM_S_NO_ERROR);
    assert_int_equal(res->count, 10);
    smbcim_result_free(res);
    smbcim_close(ctx);
}

int main(void)
{
    leaks_ignored(true); /* the failed calls' losses are by design */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_unusable_after),
        cmocka_unit_test(test_every_allocation_fails_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
