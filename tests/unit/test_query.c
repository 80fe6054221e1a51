/*
 * test_query.c - parsed queries (smbcim_query_parse, smbcim_exec_parsed,
 * smbcim_query_free; include/smbcim.h): the parse errors smbcim_exec_query
 * gives, with their codes and columns, without a context; a query run
 * twice, on two contexts and on a context of another namespace; a query
 * freed before its result is read (valgrind and ASan see a dangling
 * select_props); NULL arguments; event queries; the parse running out of
 * memory at every allocation, with nothing lost (valgrind's leak check).
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

/* tests/fixtures/fs01.json, the busy file server of the query tables. */
static smbcim_ctx *open_fs01(void)
{
    const char *dir = getenv("SMBCIM_SRCDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/fs01.json", dir ? dir : ".");
    smbcim_error err = {0};
    smbcim_ctx *ctx = smbcim_open_snapshot(path, &err);
    if (!ctx)
        fail_msg("%s: %s", path, err.msg);
    return ctx;
}

/* One share "A": a context whose answers differ from fs01's. */
static smbcim_ctx *open_small(void)
{
    static const char doc[] =
        "{\"smbcim_snapshot\": 1, \"server\": {\"name\": \"small\", \"taken_at\": "
        "\"2026-11-24T12:00:00.000000+00:00\"}, \"shares\": [{\"name\": \"A\", \"kind\": "
        "\"disk\", \"administrative\": false, \"path\": \"/srv/a\", \"comment\": \"c\", "
        "\"max_connections\": 0}], \"smbstatus\": {\"sessions\": {}, \"tcons\": {}, "
        "\"open_files\": {}}}";
    smbcim_error err = {0};
    smbcim_ctx *ctx = smbcim_open_snapshot_buffer(doc, sizeof doc - 1, "small", &err);
    if (!ctx)
        fail_msg("small: %s", err.msg);
    return ctx;
}

static smbcim_query *parse_ok(const char *wql)
{
    smbcim_error err;
    smbcim_query *q = (smbcim_query *)1;
    if (smbcim_query_parse(wql, &q, &err) != WBEM_S_NO_ERROR)
        fail_msg("%s: %s %s", wql, smbcim_status_name(err.code), err.msg);
    assert_non_null(q);
    assert_int_equal(err.code, WBEM_S_NO_ERROR);
    return q;
}

static smbcim_result *run_ok(smbcim_ctx *ctx, const smbcim_query *q)
{
    smbcim_error err;
    smbcim_result *res = NULL;
    if (smbcim_exec_parsed(ctx, q, &res, &err) != WBEM_S_NO_ERROR)
        fail_msg("%s %s", smbcim_status_name(err.code), err.msg);
    assert_non_null(res);
    return res;
}

/* The names of a result's instances (property Name), sorted, joined. */
static void names_of(const smbcim_result *res, char *out, size_t len)
{
    out[0] = '\0';
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < res->count && n < 64; i++) {
        const cim_value *v = smbcim_instance_get(res->instances[i], "Name");
        names[n++] = v && !v->null ? v->v.s : "(null)";
    }
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
            const char *t = names[k];
            names[k] = names[k - 1];
            names[k - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        strncat(out, names[i], len - strlen(out) - 1);
        strncat(out, ",", len - strlen(out) - 1);
    }
}

/* ---- parse errors: smbcim_exec_query's, code and message ------------------- */

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *wql;
        smbcim_status code;
        const char *msg;
    } bad[] = {
        {"SELECT * FROM Win32_Share WHERE", WBEM_E_INVALID_QUERY,
         "at column 32: expected a property name, found end of query"},
        {"SELEC * FROM Win32_Share", WBEM_E_INVALID_QUERY,
         "at column 1: expected SELECT, ASSOCIATORS OF or REFERENCES OF, found 'SELEC'"},
        {"SELECT * FROM Win32_Share WHERE ((((Name = 'a'", WBEM_E_INVALID_QUERY,
         "at column 47: expected ')', found end of query"},
        {"REFERENCES OF {Win32_Share.Name=\"Projects\"} WHERE AssocClass = X",
         WBEM_E_INVALID_QUERY, "at column 51: 'AssocClass' is not a keyword of REFERENCES OF"},
        {"", WBEM_E_INVALID_PARAMETER, "the query is empty"},
        {" \t\r\n", WBEM_E_INVALID_PARAMETER, "the query is empty"},
        {NULL, WBEM_E_INVALID_PARAMETER, "no query given"},
    };
    smbcim_ctx *ctx = open_fs01();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smbcim_error err, xerr;
        smbcim_query *q = (smbcim_query *)1;
        smbcim_status st = smbcim_query_parse(bad[i].wql, &q, &err);
        if (st != bad[i].code || strcmp(err.msg, bad[i].msg) != 0)
            fail_msg("%s: got %s '%s'", bad[i].wql ? bad[i].wql : "NULL",
                     smbcim_status_name(st), err.msg);
        assert_int_equal(err.code, bad[i].code);
        assert_null(q);
        /* and smbcim_exec_query answers the same */
        smbcim_result *res = (smbcim_result *)1;
        assert_int_equal(smbcim_exec_query(ctx, bad[i].wql, &res, &xerr), bad[i].code);
        assert_string_equal(xerr.msg, bad[i].msg);
        assert_null(res);
    }
    /* the parser's limits: 64 KiB of text */
    size_t n = 66000;
    char *big = malloc(n + 64);
    strcpy(big, "SELECT * FROM Win32_Share WHERE Name = '");
    size_t at = strlen(big);
    memset(big + at, 'x', n);
    strcpy(big + at + n, "'");
    smbcim_error err;
    smbcim_query *q = (smbcim_query *)1;
    assert_int_equal(smbcim_query_parse(big, &q, &err), WBEM_E_QUOTA_VIOLATION);
    assert_null(q);
    char want[128];
    snprintf(want, sizeof want, "the query is %zu bytes long; at most 65536 are accepted",
             strlen(big));
    assert_string_equal(err.msg, want);
    free(big);
    /* an error the parse cannot see is the run's, at the same column */
    q = parse_ok("SELECT Foo FROM Win32_Share");
    smbcim_result *res = (smbcim_result *)1;
    assert_int_equal(smbcim_exec_parsed(ctx, q, &res, &err), WBEM_E_INVALID_QUERY);
    assert_string_equal(err.msg, "at column 8: 'Foo' is not a property of Win32_Share");
    assert_null(res);
    smbcim_query_free(q);
    smbcim_close(ctx);
}

/* ---- one query, many runs ------------------------------------------------ */

static void test_run_twice(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_fs01();
    smbcim_query *q = parse_ok("SELECT Name, Path FROM Win32_Share WHERE Name <> 'IPC$'");
    smbcim_result *a = run_ok(ctx, q);
    smbcim_result *b = run_ok(ctx, q);
    char na[1024], nb[1024];
    names_of(a, na, sizeof na);
    names_of(b, nb, sizeof nb);
    assert_int_equal(a->count, 9);
    assert_int_equal(a->count, b->count);
    assert_string_equal(na, nb);
    assert_int_equal(b->nselect_props, 2);
    assert_string_equal(b->select_props[1], "Path");
    /* the same as the text through smbcim_exec_query */
    smbcim_error err;
    smbcim_result *c = NULL;
    assert_int_equal(smbcim_exec_query(ctx, "SELECT Name, Path FROM Win32_Share WHERE "
                                            "Name <> 'IPC$'", &c, &err), WBEM_S_NO_ERROR);
    char nc[1024];
    names_of(c, nc, sizeof nc);
    assert_string_equal(na, nc);
    smbcim_result_free(a);
    smbcim_result_free(b);
    smbcim_result_free(c);
    smbcim_query_free(q);
    smbcim_close(ctx);
}

static void test_two_contexts(void **state)
{
    (void)state;
    smbcim_ctx *big = open_fs01();
    smbcim_ctx *small = open_small();
    smbcim_query *q = parse_ok("SELECT Name FROM Win32_Share WHERE Name LIKE '%'");
    smbcim_result *a = run_ok(big, q);
    smbcim_result *b = run_ok(small, q);
    char nb[256];
    names_of(b, nb, sizeof nb);
    assert_int_equal(a->count, 10);
    assert_int_equal(b->count, 1);
    assert_string_equal(nb, "A,");
    /* each result is of its own context: sysprops name its server */
    smbcim_sysprop sp[SMBCIM_NSYSPROPS];
    smbcim_instance_sysprops(small, b, b->instances[0], sp);
    assert_string_equal(sp[7].value.v.s, "SMALL"); /* __SERVER */
    smbcim_result_free(a);
    /* associations too */
    smbcim_query *assoc = parse_ok("ASSOCIATORS OF {Win32_Share.Name=\"Projects\"}");
    a = run_ok(big, assoc);
    assert_true(a->count > 0);
    smbcim_error err;
    smbcim_result *none = (smbcim_result *)1;
    assert_int_equal(smbcim_exec_parsed(small, assoc, &none, &err), WBEM_E_NOT_FOUND);
    assert_null(none);
    smbcim_result_free(a);
    smbcim_result_free(b);
    /* the class is checked against each context's schema: root\interop
     * has no Win32_Share */
    smbcim_ctx *interop = smbcim_open_interop(NULL, &err);
    assert_non_null(interop);
    none = (smbcim_result *)1;
    assert_int_equal(smbcim_exec_parsed(interop, q, &none, &err), WBEM_E_INVALID_CLASS);
    assert_string_equal(err.msg, "at column 18: class 'Win32_Share' does not exist");
    assert_null(none);
    smbcim_close(interop);
    smbcim_query_free(assoc);
    smbcim_query_free(q);
    smbcim_close(small);
    smbcim_close(big);
}

/* ---- the result does not borrow from the query --------------------------- */

static void test_freed_before_result(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_fs01();
    /* the text on the heap too, so that nothing of it outlives free() */
    static const char *const texts[] = {
        "SELECT Name, Path, __PATH FROM Win32_Share WHERE Name = 'Projects'",
        "ASSOCIATORS OF {Win32_Share.Name=\"Projects\"} WHERE KeysOnly",
        "REFERENCES OF {Win32_Share.Name=\"Projects\"} WHERE ResultClass = Win32_ConnectionShare",
        "ASSOCIATORS OF {Win32_Share} WHERE SchemaOnly",
    };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        char *text = strdup(texts[t]);
        smbcim_query *q = parse_ok(text);
        free(text);
        smbcim_result *res = run_ok(ctx, q);
        smbcim_query_free(q);
        /* the query's memory is gone: everything read now is the result's
         * or the context's */
        assert_true(res->count > 0);
        for (size_t i = 0; i < res->count; i++) {
            char *mof = res->is_classes ? smbcim_class_mof(res->classes[i])
                                        : smbcim_instance_mof(res->instances[i]);
            assert_non_null(mof);
            free(mof);
        }
        if (t == 0) {
            assert_int_equal(res->nselect_props, 3);
            assert_string_equal(res->select_props[0], "Name");
            assert_string_equal(res->select_props[1], "Path");
            assert_string_equal(res->select_props[2], "__PATH");
            assert_string_equal(res->query_class->name, "Win32_Share");
            const cim_value *v = smbcim_instance_get(res->instances[0], "Path");
            assert_string_equal(v->v.s, "/srv/projects");
        }
        smbcim_result_free(res);
    }
    smbcim_close(ctx);
}

/* ---- NULL arguments ------------------------------------------------------ */

static void test_null_arguments(void **state)
{
    (void)state;
    smbcim_error err;
    assert_int_equal(smbcim_query_parse("SELECT * FROM Win32_Share", NULL, &err),
                     WBEM_E_INVALID_PARAMETER);
    assert_int_equal(err.code, WBEM_E_INVALID_PARAMETER);
    smbcim_query *q = (smbcim_query *)1;
    assert_int_equal(smbcim_query_parse(NULL, &q, &err), WBEM_E_INVALID_PARAMETER);
    assert_null(q);
    /* err may be NULL */
    assert_int_equal(smbcim_query_parse("SELECT * FROM", &q, NULL), WBEM_E_INVALID_QUERY);
    assert_null(q);
    q = parse_ok("SELECT * FROM Win32_Share");
    smbcim_ctx *ctx = open_fs01();
    smbcim_result *res = (smbcim_result *)1;
    assert_int_equal(smbcim_exec_parsed(NULL, q, &res, &err), WBEM_E_INVALID_PARAMETER);
    assert_null(res);
    res = (smbcim_result *)1;
    assert_int_equal(smbcim_exec_parsed(ctx, NULL, &res, &err), WBEM_E_INVALID_PARAMETER);
    assert_string_equal(err.msg, "no query given");
    assert_null(res);
    assert_int_equal(smbcim_exec_parsed(ctx, q, NULL, &err), WBEM_E_INVALID_PARAMETER);
    res = NULL;
    assert_int_equal(smbcim_exec_parsed(ctx, q, &res, NULL), WBEM_S_NO_ERROR);
    assert_int_equal(res->count, 10);
    smbcim_result_free(res);
    smbcim_query_free(q);
    smbcim_query_free(NULL);
    smbcim_close(ctx);
}

/* ---- event queries: what smbcim_exec_query answers ----------------------- */

static void test_event_queries(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_fs01();
    /* WITHIN, GROUP and HAVING do not parse as a data query */
    static const char *const bad[] = {
        "SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Share'",
        "SELECT * FROM __InstanceOperationEvent WITHIN 1 GROUP WITHIN 10",
        "SELECT * FROM Win32_Share GROUP WITHIN 5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smbcim_error err, xerr;
        smbcim_query *q = (smbcim_query *)1;
        smbcim_result *res = NULL;
        smbcim_status st = smbcim_query_parse(bad[i], &q, &err);
        assert_int_equal(st, WBEM_E_INVALID_QUERY);
        assert_null(q);
        assert_int_equal(smbcim_exec_query(ctx, bad[i], &res, &xerr), st);
        assert_string_equal(err.msg, xerr.msg);
        assert_non_null(strstr(err.msg, "belong to event queries"));
    }
    /* without WITHIN: a SELECT from a class without instances */
    smbcim_query *q = parse_ok("SELECT * FROM __InstanceCreationEvent");
    smbcim_result *res = run_ok(ctx, q);
    assert_int_equal(res->count, 0);
    assert_string_equal(res->query_class->name, "__InstanceCreationEvent");
    smbcim_result_free(res);
    smbcim_query_free(q);
    smbcim_close(ctx);
}

/* ---- out of memory while parsing ----------------------------------------- */

/* Each allocation of a parse made to fail in turn: WBEM_E_OUT_OF_MEMORY,
 * *out NULL, and nothing held (valgrind's leak check runs this program). */
static void test_parse_out_of_memory(void **state)
{
    (void)state;
    /* long lists (they grow), escaped strings, paths, keywords */
    char wql[4096];
    snprintf(wql, sizeof wql, "SELECT Name, Path, Description, Caption, Status, Type, "
             "AllowMaximum, MaximumAllowed, InstallDate, Name, Path, Description, Caption, "
             "Status, Type, AllowMaximum, MaximumAllowed FROM Win32_Share WHERE "
             "(Name = 'a\\'b' OR Name LIKE \"%%b\\\"%%\")");
    for (int i = 0; i < 20; i++)
        strcat(wql, " AND NOT MaximumAllowed > 3");
    const char *const texts[] = {
        wql,
        "ASSOCIATORS OF {Win32_Share.Name=\"Projects\"} WHERE AssocClass = "
        "Win32_ConnectionShare ResultRole = Dependent KeysOnly",
    };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        sc_oom_fail_after(0);
        smbcim_error err;
        smbcim_query *q = parse_ok(texts[t]);
        unsigned long total = sc_oom_fail_after(0);
        smbcim_query_free(q);
        assert_true(total > 1);
        for (unsigned long n = 1; n <= total; n++) {
            q = (smbcim_query *)1;
            sc_oom_fail_after(n);
            smbcim_status st = smbcim_query_parse(texts[t], &q, &err);
            sc_oom_fail_after(0);
            if (st != WBEM_E_OUT_OF_MEMORY)
                fail_msg("%s: allocation %lu of %lu failing gave %s", texts[t], n, total,
                         smbcim_status_name(st));
            assert_string_equal(err.msg, "out of memory");
            assert_null(q);
        }
        /* memory is back */
        q = parse_ok(texts[t]);
        smbcim_query_free(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_run_twice),
        cmocka_unit_test(test_two_contexts),
        cmocka_unit_test(test_freed_before_result),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_event_queries),
        cmocka_unit_test(test_parse_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
