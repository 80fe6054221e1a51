/*
 * test_watch.c - event queries: the WQL event grammar (trees, errors with
 * their codes and columns), the checks smbcim_watch_open makes against the
 * schema, and the comparison of states (creations, deletions,
 * modifications, nothing for an unchanged or reordered state, large states
 * in linear time), WHERE over embedded objects, SELECT lists, GROUP WITHIN
 * / BY / HAVING, and results that outlive the states they came from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "smbcim.h"
#include "wql/wql.h"

/* ---- the grammar ------------------------------------------------------------- */
static const char *opname(wql_op op)
{
    static const char *const n[] = {"?", "=", "<>", "<", ">", "<=", ">=", "LIKE", "NOTLIKE",
                                    "ISA", "ISNULL", "ISNOTNULL", "AND", "OR", "NOT"};
    return n[op];
}

static void print_expr(sc_buf *b, const wql_expr *e)
{
    sc_buf_printf(b, "(%s ", opname(e->op));
    if (e->op == WQL_OP_AND || e->op == WQL_OP_OR) {
        for (size_t i = 0; i < e->nkids; i++) {
            if (i)
                sc_buf_putc(b, ' ');
            print_expr(b, e->kids[i]);
        }
    } else if (e->op == WQL_OP_NOT) {
        print_expr(b, e->left);
    } else {
        sc_buf_printf(b, "%s@%zu", e->prop, e->prop_pos);
        if (e->lit.kind == WQL_LIT_STRING)
            sc_buf_printf(b, " '%s'", e->lit.s);
        else if (e->lit.kind == WQL_LIT_INT)
            sc_buf_printf(b, " %lld", (long long)e->lit.i);
    }
    sc_buf_putc(b, ')');
}

static void print_event_query(sc_buf *b, const wql_query *q)
{
    sc_buf_puts(b, "SELECT ");
    if (q->star)
        sc_buf_puts(b, "*");
    for (size_t i = 0; i < q->nprops; i++)
        sc_buf_printf(b, "%s%s@%zu", i ? "," : "", q->props[i], q->props_pos[i]);
    sc_buf_printf(b, " FROM %s@%zu", q->class_name, q->class_pos);
    if (q->has_within)
        sc_buf_printf(b, " WITHIN %g@%zu", q->within, q->within_pos);
    if (q->where) {
        sc_buf_puts(b, " WHERE ");
        print_expr(b, q->where);
    }
    if (q->has_group) {
        sc_buf_printf(b, " GROUP@%zu WITHIN %g", q->group_pos, q->group_within);
        for (size_t i = 0; i < q->ngroup_by; i++)
            sc_buf_printf(b, "%s%s@%zu", i ? "," : " BY ", q->group_by[i], q->group_by_pos[i]);
        if (q->having) {
            sc_buf_puts(b, " HAVING ");
            print_expr(b, q->having);
        }
    }
}

static const struct {
    const char *wql;
    const char *tree;
} good[] = {
    {"SELECT * FROM __InstanceCreationEvent WITHIN 1",
     "SELECT * FROM __InstanceCreationEvent@15 WITHIN 1@39"},
    {"select * from __InstanceCreationEvent within 0.5 where TargetInstance isa 'Win32_Share'",
     "SELECT * FROM __InstanceCreationEvent@15 WITHIN 0.5@39 WHERE (ISA TargetInstance@56 'Win32_Share')"},
    {"SELECT * FROM __InstanceCreationEvent WITHIN .25", "SELECT * FROM __InstanceCreationEvent@15 WITHIN 0.25@39"},
    {"SELECT * FROM E WITHIN 1e1", "SELECT * FROM E@15 WITHIN 10@17"},
    {"SELECT * FROM E WITHIN 0x10", "SELECT * FROM E@15 WITHIN 16@17"},
    {"SELECT * FROM E WITHIN 1 WHERE TargetInstance.ShareName != 'IPC$' AND "
     "PreviousInstance.NumberOfFiles < 3",
     "SELECT * FROM E@15 WITHIN 1@17 WHERE (AND (<> TargetInstance.ShareName@32 'IPC$') "
     "(< PreviousInstance.NumberOfFiles@71 3))"},
    {"SELECT TargetInstance, TargetInstance.Name FROM E WITHIN 2",
     "SELECT TargetInstance@8,TargetInstance.Name@24 FROM E@49 WITHIN 2@51"},
    {"SELECT * FROM E WITHIN 1 WHERE TargetInstance . Name = 'x'",
     "SELECT * FROM E@15 WITHIN 1@17 WHERE (= TargetInstance.Name@32 'x')"},
    {"SELECT * FROM E WITHIN 1 GROUP WITHIN 300",
     "SELECT * FROM E@15 WITHIN 1@17 GROUP@26 WITHIN 300"},
    {"SELECT * FROM E WITHIN 1 WHERE A = 1 GROUP WITHIN 5 BY TargetInstance.ShareName, B "
     "HAVING NumberOfEvents > 25",
     "SELECT * FROM E@15 WITHIN 1@17 WHERE (= A@32 1) GROUP@38 WITHIN 5 BY "
     "TargetInstance.ShareName@56,B@82 HAVING (> NumberOfEvents@91 25)"},
    {"SELECT * FROM E WITHIN 1 GROUP WITHIN 5 HAVING NumberOfEvents >= 2 AND NumberOfEvents < 9",
     "SELECT * FROM E@15 WITHIN 1@17 GROUP@26 WITHIN 5 HAVING (AND (>= NumberOfEvents@48 2) "
     "(< NumberOfEvents@72 9))"},
    /* WITHIN is optional to the grammar (WMI wants it for these classes:
     * the engine says so, WBEMESS_E_REGISTRATION_TOO_PRECISE) */
    {"SELECT * FROM E WHERE 5 < TargetInstance.NumberOfFiles",
     "SELECT * FROM E@15 WHERE (> TargetInstance.NumberOfFiles@27 5)"},
};

static void test_parse_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        sc_arena *a = sc_arena_new();
        wql_query *q;
        smbcim_error err = {0};
        if (wql_parse_event(a, good[i].wql, &q, &err) != WBEM_S_NO_ERROR)
            fail_msg("%s: %s", good[i].wql, err.msg);
        assert_true(q->event);
        sc_buf b;
        sc_buf_init(&b);
        print_event_query(&b, q);
        if (strcmp(b.data, good[i].tree) != 0)
            fail_msg("%s:\n got  %s\n want %s", good[i].wql, b.data, good[i].tree);
        sc_buf_free(&b);
        sc_arena_free(a);
    }
}

static const struct {
    const char *wql;
    smbcim_status code;
    const char *msg; /* substring of the message */
} bad[] = {
    {"", WBEM_E_INVALID_PARAMETER, "empty"},
    {"SELECT * FROM __InstanceCreationEvent WITHN 1", WBEM_E_UNPARSABLE_QUERY,
     "at column 39: expected WITHIN, WHERE, GROUP or the end of the query, found 'WITHN'"},
    {"SELECT * FROM E WITHIN", WBEM_E_UNPARSABLE_QUERY,
     "at column 23: expected a number of seconds after WITHIN, found end of query"},
    {"SELECT * FROM E WITHIN 'x'", WBEM_E_UNPARSABLE_QUERY, "at column 24: expected a number"},
    {"SELECT * FROM E WITHIN 0", WBEM_E_INVALID_QUERY,
     "at column 24: the interval of WITHIN must be more than 0"},
    {"SELECT * FROM E WITHIN -1", WBEM_E_INVALID_QUERY, "at column 24: the interval"},
    {"SELECT * FROM E WITHIN 1e400", WBEM_E_INVALID_QUERY, "at column 24: the interval"},
    {"SELECT * FROM E WITHIN 4294967296", WBEM_E_INVALID_QUERY, "at most 4294967295"},
    {"SELECT * FROM E WITHIN 1 WHERE A = 1 WITHIN 2", WBEM_E_UNPARSABLE_QUERY,
     "at column 38: expected GROUP or the end of the query, found 'WITHIN' (the polling "
     "interval, WITHIN n, comes before WHERE)"},
    {"SELECT * FROM E WITHIN 1 HAVING NumberOfEvents > 1", WBEM_E_UNPARSABLE_QUERY,
     "at column 26: expected WHERE, GROUP or the end of the query, found 'HAVING' (BY and "
     "HAVING follow GROUP WITHIN n)"},
    {"SELECT * FROM E WITHIN 1 GROUP BY A", WBEM_E_MISSING_GROUP_WITHIN,
     "at column 32: GROUP BY needs the grouping interval first"},
    {"SELECT * FROM E WITHIN 1 GROUP WITHIN", WBEM_E_UNPARSABLE_QUERY,
     "at column 38: expected a number of seconds after GROUP WITHIN"},
    {"SELECT * FROM E WITHIN 1 GROUP WITHIN 0", WBEM_E_INVALID_QUERY,
     "at column 39: the interval of GROUP WITHIN"},
    {"SELECT * FROM E WITHIN 1 GROUP 5", WBEM_E_UNPARSABLE_QUERY,
     "at column 32: expected WITHIN, found '5'"},
    {"SELECT * FROM E WITHIN 1 GROUP WITHIN 5 BY", WBEM_E_UNPARSABLE_QUERY,
     "at column 43: expected a property name"},
    {"SELECT * FROM E WITHIN 1 GROUP WITHIN 5 HAVING", WBEM_E_UNPARSABLE_QUERY, "at column 47"},
    {"SELECT * FROM E WITHIN 1 GROUP WITHIN 5 BY A C", WBEM_E_UNPARSABLE_QUERY,
     "at column 46: expected HAVING or the end of the query, found 'C'"},
    {"SELECT TargetInstance. FROM E WITHIN 1", WBEM_E_UNPARSABLE_QUERY,
     "at column 24: expected a property name after '.', found 'FROM'"},
    {"SELECT * FROM E WITHIN 1 WHERE TargetInstance.Name = ", WBEM_E_UNPARSABLE_QUERY,
     "at column 54: expected a constant"},
    {"SELECT * FROM E WITHIN 1 WHERE (A = 1", WBEM_E_UNPARSABLE_QUERY, "expected ')'"},
    {"ASSOCIATORS OF {A.k=1}", WBEM_E_UNPARSABLE_QUERY,
     "at column 1: expected SELECT (an event query selects from an event class)"},
    {"SELECT * FROM E WITHIN 1 WHERE A = 'a\\x'", WBEM_E_UNPARSABLE_QUERY, "a backslash"},
};

static void test_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sc_arena *a = sc_arena_new();
        wql_query *q = (wql_query *)1;
        smbcim_error err = {0};
        smbcim_status st = wql_parse_event(a, bad[i].wql, &q, &err);
        if (st != bad[i].code || !strstr(err.msg, bad[i].msg))
            fail_msg("%s: got %s '%s', want %s '%s'", bad[i].wql, smbcim_status_name(st), err.msg,
                     smbcim_status_name(bad[i].code), bad[i].msg);
        assert_null(q);
        sc_arena_free(a);
    }
}

/* The data grammar is unchanged: no dots, no WITHIN (with a hint). */
static void test_data_grammar(void **state)
{
    (void)state;
    static const struct {
        const char *wql, *msg;
    } t[] = {
        {"SELECT * FROM Win32_Share WITHIN 5",
         "at column 27: expected WHERE or the end of the query, found 'WITHIN' (WITHIN, GROUP "
         "and HAVING belong to event queries"},
        {"SELECT * FROM A WHERE X = 1 GROUP WITHIN 5",
         "at column 29: expected the end of the query, found 'GROUP' (WITHIN"},
        {"SELECT * FROM A WHERE X.Y = 1", "at column 24: unexpected character '.'"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        sc_arena *a = sc_arena_new();
        wql_query *q;
        smbcim_error err = {0};
        assert_int_equal(wql_parse(a, t[i].wql, &q, &err), WBEM_E_INVALID_QUERY);
        if (!strstr(err.msg, t[i].msg))
            fail_msg("%s: got '%s', want '%s'", t[i].wql, err.msg, t[i].msg);
        sc_arena_free(a);
    }
}

/* The parser's limits hold for event queries: conditions of WHERE and
 * HAVING together, parts of a dotted name, the length. */
static void test_limits(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    wql_query *q;
    smbcim_error err;
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_puts(&b, "SELECT * FROM E WITHIN 1 WHERE ");
    for (int i = 0; i < 600; i++)
        sc_buf_printf(&b, "%sTargetInstance.X = %d", i ? " OR " : "", i);
    sc_buf_puts(&b, " GROUP WITHIN 5 HAVING ");
    for (int i = 0; i < 400; i++)
        sc_buf_printf(&b, "%sNumberOfEvents > %d", i ? " OR " : "", i);
    err = (smbcim_error){0};
    assert_int_equal(wql_parse_event(a, b.data, &q, &err), WBEM_S_NO_ERROR);
    assert_int_equal(q->where->nkids, 600);
    assert_int_equal(q->having->nkids, 400);
    sc_buf_puts(&b, " OR NumberOfEvents = 1");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse_event(a, b.data, &q, &err), WBEM_E_QUOTA_VIOLATION);
    assert_non_null(strstr(err.msg, "more than 1000 conditions"));
    sc_buf_reset(&b);
    sc_buf_puts(&b, "SELECT * FROM E WITHIN 1 WHERE A");
    for (int i = 0; i < 199; i++)
        sc_buf_puts(&b, ".A");
    sc_buf_puts(&b, " = 1");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse_event(a, b.data, &q, &err), WBEM_S_NO_ERROR);
    sc_buf_reset(&b);
    sc_buf_puts(&b, "SELECT * FROM E WITHIN 1 WHERE A");
    for (int i = 0; i < 20000; i++)
        sc_buf_puts(&b, ".A");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse_event(a, b.data, &q, &err), WBEM_E_UNPARSABLE_QUERY);
    assert_non_null(strstr(err.msg, "more than 200 parts in a property name"));
    sc_buf_reset(&b);
    sc_buf_puts(&b, "SELECT * FROM E WITHIN 1 WHERE ");
    for (int i = 0; i < 300; i++)
        sc_buf_puts(&b, "(");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse_event(a, b.data, &q, &err), WBEM_E_UNPARSABLE_QUERY);
    assert_non_null(strstr(err.msg, "nested too deeply"));
    sc_buf_free(&b);
    char *big = malloc(70000);
    memset(big, ' ', 69999);
    big[69999] = 0;
    memcpy(big, "SELECT * FROM E WITHIN 1", 24);
    err = (smbcim_error){0};
    assert_int_equal(wql_parse_event(a, big, &q, &err), WBEM_E_QUOTA_VIOLATION);
    free(big);
    sc_arena_free(a);
}

static void test_from_class(void **state)
{
    (void)state;
    static const struct {
        const char *wql, *cls;
    } t[] = {
        {"SELECT * FROM __InstanceCreationEvent WITHIN", "__InstanceCreationEvent"},
        {"select TargetInstance.Name, x from E where (", "E"},
        {"SELECT Name FROM Win32_Share WHERE", "Win32_Share"},
        {"SELECT * FROM", NULL},
        {"SELECT 'x' FROM E", NULL},
        {"ASSOCIATORS OF {E}", NULL},
        {"SELECT * FROM WHERE", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        sc_arena *a = sc_arena_new();
        const char *c = wql_from_class(a, t[i].wql);
        if (t[i].cls ? !c || strcmp(c, t[i].cls) != 0 : c != NULL)
            fail_msg("%s: got %s, want %s", t[i].wql, c ? c : "NULL", t[i].cls ? t[i].cls : "NULL");
        sc_arena_free(a);
    }
}

/* ---- states ------------------------------------------------------------------ */
/* A client: one session from `machine` as `user`, tree connects to the
 * shares of `shares` (comma-separated), `files` files open on the first. */
typedef struct client {
    unsigned id;
    const char *user;
    const char *machine;
    const char *shares;
    unsigned files;
} client;

static const char *const share_names[] = {"IPC$", "Projects", "Public", "Finance"};

/* A snapshot taken at 12:00:SS (+ `sec`) of server WATCH1 with these
 * clients, its lists in reverse order when `reverse`. */
static char *state_doc(int sec, const client *c, size_t n, bool reverse, size_t *len)
{
    char *doc = NULL;
    FILE *f = open_memstream(&doc, len);
    fprintf(f, "{\"smbcim_snapshot\": 1, \"server\": {\"name\": \"watch1\", \"taken_at\": "
               "\"2026-11-24T%02d:%02d:%02d.000000+00:00\"}, \"shares\": [",
            12 + sec / 3600, (sec / 60) % 60, sec % 60);
    for (size_t k = 0; k < 4; k++) {
        size_t s = reverse ? 3 - k : k;
        fprintf(f, "%s{\"name\": \"%s\", \"kind\": \"%s\", \"administrative\": %s, \"path\": "
                   "\"/srv/%zu\", \"comment\": \"c\", \"max_connections\": 0}",
                k ? "," : "", share_names[s], s ? "disk" : "ipc", s ? "false" : "true", s);
    }
    fputs("], \"smbstatus\": {\"sessions\": {", f);
    for (size_t k = 0; k < n; k++) {
        const client *x = &c[reverse ? n - 1 - k : k];
        fprintf(f, "%s\"%u\": {\"session_id\": \"%u\", \"server_id\": {\"pid\": \"%u\"}, "
                   "\"uid\": %u, \"username\": \"%s\", \"remote_machine\": \"%s\"}",
                k ? "," : "", x->id, x->id, 10000 + x->id, 1000 + x->id, x->user, x->machine);
    }
    fputs("}, \"tcons\": {", f);
    bool first = true;
    for (size_t k = 0; k < n; k++) {
        const client *x = &c[reverse ? n - 1 - k : k];
        char list[128];
        snprintf(list, sizeof list, "%s", x->shares);
        int t = 0;
        for (char *s = strtok(list, ","); s; s = strtok(NULL, ","), t++) {
            fprintf(f, "%s\"%u%02d\": {\"service\": \"%s\", \"server_id\": {\"pid\": \"%u\"}, "
                       "\"tcon_id\": \"%u%02d\", \"session_id\": \"%u\", \"machine\": \"%s\", "
                       "\"connected_at\": \"2026-11-24T11:00:00.000000+00:00\"}",
                    first ? "" : ",", x->id, t, s, 10000 + x->id, x->id, t, x->id, x->machine);
            first = false;
        }
    }
    fputs("}, \"open_files\": {", f);
    first = true;
    for (size_t k = 0; k < n; k++) {
        const client *x = &c[reverse ? n - 1 - k : k];
        const char *comma = strchr(x->shares, ',');
        size_t sl = comma ? (size_t)(comma - x->shares) : strlen(x->shares);
        size_t s = 0;
        while (s < 4 && (strlen(share_names[s]) != sl || strncmp(share_names[s], x->shares, sl)))
            s++;
        for (unsigned i = 0; i < x->files; i++) {
            fprintf(f, "%s\"/srv/%zu/f%u.%u\": {\"service_path\": \"/srv/%zu\", \"filename\": "
                       "\"f%u.%u\", \"opens\": {\"%u/%u\": {\"server_id\": {\"pid\": \"%u\"}, "
                       "\"uid\": %u}}}",
                    first ? "" : ",", s, x->id, i, s, x->id, i, 10000 + x->id, i, 10000 + x->id,
                    1000 + x->id);
            first = false;
        }
    }
    fputs("}}}", f);
    fclose(f);
    return doc;
}

static smbcim_ctx *state_at(int sec, const client *c, size_t n, bool reverse)
{
    size_t len;
    char *doc = state_doc(sec, c, n, reverse, &len);
    smbcim_error err = {0};
    smbcim_ctx *ctx = smbcim_open_snapshot_buffer(doc, len, "state", &err);
    if (!ctx)
        fail_msg("snapshot rejected: %s", err.msg);
    free(doc);
    return ctx;
}

static smbcim_watch *watch(smbcim_ctx *first, const char *wql)
{
    smbcim_error err;
    smbcim_watch *w = smbcim_watch_open(first, wql, &err);
    if (!w)
        fail_msg("%s: %s %s", wql, smbcim_status_name(err.code), err.msg);
    return w;
}

static smbcim_result *poll_state(smbcim_watch *w, smbcim_ctx *next)
{
    smbcim_error err;
    smbcim_result *res = NULL;
    if (smbcim_watch_poll(w, next, &res, &err) != WBEM_S_NO_ERROR)
        fail_msg("poll: %s %s", smbcim_status_name(err.code), err.msg);
    assert_non_null(res);
    return res;
}

static const cim_instance *embedded(const cim_instance *ev, const char *name)
{
    const cim_value *v = smbcim_instance_get(ev, name);
    if (!v || v->null)
        return NULL;
    assert_int_equal(v->type, CIM_T_INSTANCE);
    return v->v.o;
}

static const char *str_of(const cim_instance *inst, const char *name)
{
    const cim_value *v = smbcim_instance_get(inst, name);
    assert_non_null(v);
    return v->null ? NULL : v->v.s;
}

static uint64_t u_of(const cim_instance *inst, const char *name)
{
    const cim_value *v = smbcim_instance_get(inst, name);
    assert_non_null(v);
    assert_false(v->null);
    return v->v.u;
}

/* "Class:ShareName/UserName" of each event of res, joined with spaces
 * (the caller frees). */
static char *summary(const smbcim_result *res)
{
    sc_buf b;
    sc_buf_init(&b);
    for (size_t i = 0; i < res->count; i++) {
        const cim_instance *ev = res->instances[i];
        const cim_instance *t = embedded(ev, "TargetInstance");
        const char *kind = strstr(ev->cls->name, "Creation")       ? "C"
                           : strstr(ev->cls->name, "Deletion")     ? "D"
                           : strstr(ev->cls->name, "Modification") ? "M"
                                                                   : "?";
        sc_buf_printf(&b, "%s%s:%s", i ? " " : "", kind, t->cls->name + 6);
        int k = cim_class_prop_index(t->cls, "ShareName");
        if (k >= 0)
            sc_buf_printf(&b, "/%s", t->values[k].v.s);
        k = cim_class_prop_index(t->cls, "UserName");
        if (k >= 0)
            sc_buf_printf(&b, "/%s", t->values[k].v.s);
        k = cim_class_prop_index(t->cls, "Name");
        if (k >= 0 && !strcmp(t->cls->name, "Win32_Share"))
            sc_buf_printf(&b, "/%s", t->values[k].v.s);
    }
    return b.data ? b.data : strdup("");
}

static void expect_summary(const smbcim_result *res, const char *want)
{
    char *got = summary(res);
    if (strcmp(got, want) != 0)
        fail_msg("events:\n got  %s\n want %s", got, want);
    free(got);
}

static const client alice = {1, "alice", "10.0.0.5", "Projects,IPC$", 0};
static const client bob = {2, "bob", "10.0.0.7", "Projects", 0};
static const client carol = {3, "carol", "10.0.0.9", "Public", 0};

/* ---- checks of the query against the schema -------------------------------------- */
static void test_open_errors(void **state)
{
    (void)state;
    static const struct {
        const char *wql;
        smbcim_status code;
        const char *msg;
    } t[] = {
        {"SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_ServerConnection'",
         WBEMESS_E_REGISTRATION_TOO_PRECISE,
         "at column 15: __InstanceCreationEvent needs a polling interval (WITHIN n"},
        {"SELECT * FROM Win32_ServerConnection WITHIN 1", WBEM_E_NOT_EVENT_CLASS,
         "at column 15: Win32_ServerConnection is not an event class"},
        {"SELECT * FROM __AggregateEvent WITHIN 1", WBEM_E_NOT_EVENT_CLASS, "at column 15"},
        {"SELECT * FROM __InstanceCreatedEvent WITHIN 1", WBEM_E_INVALID_CLASS,
         "at column 15: class '__InstanceCreatedEvent' does not exist"},
        {"SELECT * FROM __Event WITHIN 1", WBEM_E_NOT_SUPPORTED, "the instance events only"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_Process'",
         WBEM_E_INVALID_CLASS, "at column 73: class 'Win32_Process' does not exist"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA "
         "'Win32_ServerConnection' AND TargetInstance.ShareNme = 'x'",
         WBEM_E_INVALID_QUERY, "at column 102: 'ShareNme' is not a property of Win32_ServerConnection"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance.Nope = 1",
         WBEM_E_INVALID_QUERY, "'Nope' is not a property of any class the query watches"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA "
         "'Win32_ServerConnection' AND TargetInstance.ShareName.X = 'x'",
         WBEM_E_PROPERTY_NOT_AN_OBJECT, "at column 102: TargetInstance.ShareName is not an embedded"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TIME_CREATED.X = 1",
         WBEM_E_PROPERTY_NOT_AN_OBJECT, "at column 54: TIME_CREATED is not an embedded object"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE PreviousInstance.Name = 'x'",
         WBEM_E_INVALID_QUERY, "'PreviousInstance' is not a property of __InstanceCreationEvent"},
        {"SELECT * FROM __InstanceOperationEvent WITHIN 1 WHERE PreviousInstance IS NULL",
         WBEM_E_INVALID_QUERY, "'PreviousInstance' is not a property of __InstanceOperationEvent"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance = 'x'",
         WBEM_E_INVALID_QUERY, "at column 54: TargetInstance is an embedded object"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TIME_CREATED ISA 'Win32_Share'",
         WBEM_E_INVALID_QUERY, "ISA tests an embedded object"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE __THIS = 1", WBEM_E_INVALID_QUERY,
         "__THIS can only be used with ISA"},
        {"SELECT Nope FROM __InstanceCreationEvent WITHIN 1", WBEM_E_INVALID_QUERY,
         "at column 8: 'Nope' is not a property of __InstanceCreationEvent"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 GROUP WITHIN 5 BY TargetInstance",
         WBEM_E_AGGREGATING_BY_OBJECT, "at column 66: TargetInstance is an embedded object"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 GROUP WITHIN 5 BY Nope",
         WBEM_E_INVALID_QUERY, "at column 66: 'Nope' is not a property"},
        {"SELECT * FROM __InstanceCreationEvent WITHIN 1 GROUP WITHIN 5 HAVING TIME_CREATED > 1",
         WBEM_E_INVALID_QUERY, "at column 70: HAVING compares NumberOfEvents"},
        {"SELECT * FROM __InstanceCreationEvent WITHN 1", WBEM_E_UNPARSABLE_QUERY, "at column 39"},
        {"SELECT * FROM __InstanceCreationEvent GROUP BY X", WBEM_E_MISSING_GROUP_WITHIN,
         "at column 45"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        smbcim_ctx *ctx = state_at(0, &alice, 1, false);
        smbcim_error err;
        smbcim_watch *w = smbcim_watch_open(ctx, t[i].wql, &err);
        if (w || err.code != t[i].code || !strstr(err.msg, t[i].msg))
            fail_msg("%s: got %s '%s', want %s '%s'", t[i].wql, smbcim_status_name(err.code),
                     err.msg, smbcim_status_name(t[i].code), t[i].msg);
        smbcim_close(ctx); /* still ours after a failed open */
    }
    /* without an error to fill, the same refusal */
    smbcim_ctx *ctx = state_at(0, &alice, 1, false);
    assert_null(smbcim_watch_open(ctx, "SELECT * FROM __InstanceCreationEvent", NULL));
    assert_null(smbcim_watch_open(ctx, NULL, NULL));
    smbcim_watch *w = smbcim_watch_open(ctx, "SELECT * FROM __InstanceCreationEvent WITHIN 1",
                                        NULL);
    assert_non_null(w);
    smbcim_result *res = NULL;
    assert_int_equal(smbcim_watch_poll(w, NULL, &res, NULL), WBEM_E_INVALID_PARAMETER);
    assert_int_equal(smbcim_watch_poll(w, state_at(0, &alice, 1, false), &res, NULL),
                     WBEM_S_NO_ERROR);
    assert_int_equal(res->count, 0);
    smbcim_result_free(res);
    smbcim_watch_close(w);
}

static void test_is_event_query(void **state)
{
    (void)state;
    smbcim_ctx *ctx = state_at(0, &alice, 1, false);
    assert_true(smbcim_is_event_query(ctx, "SELECT * FROM __InstanceCreationEvent WITHIN 1"));
    assert_true(smbcim_is_event_query(ctx, "select * from __instanceoperationevent where ("));
    assert_true(smbcim_is_event_query(ctx, "SELECT * FROM __Event"));
    assert_false(smbcim_is_event_query(ctx, "SELECT * FROM __AggregateEvent"));
    assert_false(smbcim_is_event_query(ctx, "SELECT * FROM Win32_Share WITHIN 5"));
    assert_false(smbcim_is_event_query(ctx, "SELECT * FROM Nope"));
    assert_false(smbcim_is_event_query(ctx, "REFERENCES OF {Win32_Share.Name=\"IPC$\"}"));
    assert_false(smbcim_is_event_query(ctx, NULL));
    /* ExecQuery: an event class has no instances; WITHIN is an error */
    smbcim_result *res;
    smbcim_error err;
    assert_int_equal(smbcim_exec_query(ctx, "SELECT * FROM __InstanceCreationEvent", &res, &err),
                     WBEM_S_NO_ERROR);
    assert_int_equal(res->count, 0);
    smbcim_result_free(res);
    assert_int_equal(smbcim_exec_query(ctx, "SELECT * FROM __InstanceCreationEvent WITHIN 1",
                                       &res, &err),
                     WBEM_E_INVALID_QUERY);
    assert_non_null(strstr(err.msg, "belong to event queries"));
    /* status names and DSP0200 codes of the new statuses */
    assert_string_equal(smbcim_status_name(WBEMESS_E_REGISTRATION_TOO_PRECISE),
                        "WBEMESS_E_REGISTRATION_TOO_PRECISE");
    assert_string_equal(smbcim_status_name(WBEM_E_UNPARSABLE_QUERY), "WBEM_E_UNPARSABLE_QUERY");
    assert_int_equal(smbcim_status_cim(WBEM_E_NOT_EVENT_CLASS), 15);
    smbcim_close(ctx);
}

/* ---- the comparison ------------------------------------------------------------------- */
/* alice stays (and opens a file), bob leaves, carol comes: one event
 * each, in the order: new state (created, modified), then the gone. */
static void test_create_delete_modify(void **state)
{
    (void)state;
    client a2 = alice;
    a2.files = 1;
    smbcim_watch *w = watch(state_at(0, (client[]){alice, bob}, 2, false),
                            "SELECT * FROM __InstanceOperationEvent WITHIN 1 "
                            "WHERE TargetInstance ISA 'Win32_ServerConnection'");
    assert_true(smbcim_watch_interval(w) == 1.0);
    smbcim_result *res = poll_state(w, state_at(0, (client[]){a2, carol}, 2, false));
    expect_summary(res, "M:ServerConnection/Projects/alice C:ServerConnection/Public/carol "
                        "D:ServerConnection/Projects/bob");
    const cim_instance *m = res->instances[0];
    assert_string_equal(m->cls->name, "__InstanceModificationEvent");
    assert_int_equal(u_of(embedded(m, "PreviousInstance"), "NumberOfFiles"), 0);
    assert_int_equal(u_of(embedded(m, "TargetInstance"), "NumberOfFiles"), 1);
    assert_null(embedded(res->instances[1], "PreviousInstance") ? (void *)1 : NULL);
    /* TIME_CREATED: 2026-11-24 12:00:00 UTC in 100 ns since 1601, one tick
     * more per event */
    uint64_t t0 = (uint64_t)(1795521600LL + 11644473600LL) * 10000000u;
    for (size_t i = 0; i < res->count; i++)
        assert_int_equal(u_of(res->instances[i], "TIME_CREATED"), t0 + i);
    assert_true(smbcim_instance_get(m, "SECURITY_DESCRIPTOR")->null);
    /* the event has no path; its TargetInstance has the instance's */
    smbcim_sysprop sp[SMBCIM_NSYSPROPS];
    smbcim_instance_sysprops(smbcim_watch_context(w), res, m, sp);
    assert_string_equal(sp[1].value.v.s, "__InstanceModificationEvent");
    assert_string_equal(sp[3].value.v.s, "__SystemClass");
    assert_true(sp[4].value.null && sp[7].value.null && sp[8].value.null && sp[9].value.null);
    assert_int_equal(sp[6].value.count, 4); /* __InstanceOperationEvent ... __SystemClass */
    smbcim_instance_sysprops(smbcim_watch_context(w), res, embedded(m, "TargetInstance"), sp);
    assert_string_equal(sp[9].value.v.s, "\\\\WATCH1\\root\\cimv2:Win32_ServerConnection."
                                         "ComputerName=\"10.0.0.5\",ShareName=\"Projects\","
                                         "UserName=\"alice\"");
    assert_string_equal(sp[7].value.v.s, "WATCH1");
    /* GetObjectText nests the embedded objects */
    char *mof = smbcim_instance_mof(m);
    assert_non_null(strstr(mof, "instance of __InstanceModificationEvent\n{\n"));
    assert_non_null(strstr(mof, "\tPreviousInstance = instance of Win32_ServerConnection\n\t{\n"
                                "\t\tComputerName = \"10.0.0.5\";\n"));
    free(mof);
    char *txt = smbcim_value_text(smbcim_instance_get(m, "TargetInstance"));
    assert_string_equal(txt, "Win32_ServerConnection.ComputerName=\"10.0.0.5\","
                             "ShareName=\"Projects\",UserName=\"alice\"");
    free(txt);
    smbcim_result_free(res);
    smbcim_watch_close(w);
}

/* Nothing happens: the same state again, or in another order, gives no
 * event of any class. */
static void test_unchanged_and_reordered(void **state)
{
    (void)state;
    client many[] = {alice, bob, carol, {4, "dave", "10.0.0.11", "Projects,Finance,IPC$", 2}};
    smbcim_watch *w = watch(state_at(0, many, 4, false),
                            "SELECT * FROM __InstanceOperationEvent WITHIN 1");
    smbcim_result *res = poll_state(w, state_at(0, many, 4, false));
    assert_int_equal(res->count, 0);
    smbcim_result_free(res);
    res = poll_state(w, state_at(0, many, 4, true));
    expect_summary(res, "");
    smbcim_result_free(res);
    /* one second later: ActiveTime grows, so every connection and session
     * is modified (what WMI's polling reports too); shares and the
     * associations keep their values */
    res = poll_state(w, state_at(1, many, 4, true));
    assert_int_equal(res->count, 7 + 4 + 4); /* connections, sessions, SMB sessions */
    for (size_t i = 0; i < res->count; i++)
        assert_string_equal(res->instances[i]->cls->name, "__InstanceModificationEvent");
    smbcim_result_free(res);
    smbcim_watch_close(w);
}

/* Keys compare as WMI compares paths: a user name that changes case is
 * the same connection, modified. */
static void test_key_case(void **state)
{
    (void)state;
    client upper = alice;
    upper.user = "ALICE";
    smbcim_watch *w = watch(state_at(0, &alice, 1, false),
                            "SELECT * FROM __InstanceOperationEvent WITHIN 1 WHERE "
                            "TargetInstance ISA 'Win32_ServerSession'");
    smbcim_result *res = poll_state(w, state_at(0, &upper, 1, false));
    expect_summary(res, "M:ServerSession/ALICE");
    smbcim_result_free(res);
    smbcim_watch_close(w);
}

/* WHERE over the event and its embedded objects; ISA of a superclass
 * takes its subclasses; __CLASS chooses among the events. */
static void test_where(void **state)
{
    (void)state;
    static const struct {
        const char *where;
        const char *want;
    } t[] = {
        {"TargetInstance ISA 'Win32_ServerConnection' AND TargetInstance.ShareName != 'IPC$'",
         "C:ServerConnection/Public/carol D:ServerConnection/Projects/bob"},
        {"TargetInstance ISA 'Win32_ServerConnection' AND __CLASS = '__InstanceDeletionEvent'",
         "D:ServerConnection/Projects/bob"},
        {"TargetInstance ISA 'Win32_ServerConnection' AND NOT __THIS ISA '__InstanceDeletionEvent'",
         "C:ServerConnection/Public/carol C:ServerConnection/IPC$/carol"},
        {"TargetInstance ISA 'CIM_LogicalElement' AND TargetInstance.UserName LIKE 'c%'",
         "C:ServerConnection/Public/carol C:ServerConnection/IPC$/carol C:ServerSession/carol"},
        {"TargetInstance ISA 'Win32_Share'", ""},
        {"TargetInstance ISA 'CIM_Dependency' AND TargetInstance.__CLASS = 'Win32_SessionConnection'",
         "C:SessionConnection C:SessionConnection D:SessionConnection"},
        {"TargetInstance.UserName = 'bob' OR TargetInstance.ShareName = 'Public'",
         "C:ServerConnection/Public/carol D:ServerConnection/Projects/bob D:ServerSession/bob"},
        {"TargetInstance.__CLASS = 'Win32_ServerSession'", "C:ServerSession/carol D:ServerSession/bob"},
        {"TargetInstance IS NULL", ""},
        {"TIME_CREATED > 0 AND TargetInstance ISA 'Win32_ServerSession'",
         "C:ServerSession/carol D:ServerSession/bob"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char q[512];
        snprintf(q, sizeof q, "SELECT * FROM __InstanceOperationEvent WITHIN 1 WHERE %s", t[i].where);
        client c2 = carol;
        c2.shares = "Public,IPC$";
        smbcim_watch *w = watch(state_at(0, (client[]){alice, bob}, 2, false), q);
        smbcim_result *res = poll_state(w, state_at(0, (client[]){alice, c2}, 2, false));
        char *got = summary(res);
        if (strcmp(got, t[i].want) != 0)
            fail_msg("%s:\n got  %s\n want %s", t[i].where, got, t[i].want);
        free(got);
        smbcim_result_free(res);
        smbcim_watch_close(w);
    }
}

/* SELECT TargetInstance: the events carry only it (and their system
 * properties); a dotted name keeps the whole embedded object. */
static void test_select_list(void **state)
{
    (void)state;
    smbcim_watch *w = watch(state_at(0, &alice, 1, false),
                            "SELECT TargetInstance.UserName FROM __InstanceCreationEvent WITHIN 1 "
                            "WHERE TargetInstance ISA 'Win32_ServerSession'");
    smbcim_result *res = poll_state(w, state_at(0, (client[]){alice, bob}, 2, false));
    assert_int_equal(res->count, 1);
    const cim_instance *ev = res->instances[0];
    assert_null(smbcim_instance_get(ev, "TIME_CREATED"));
    const cim_instance *t = embedded(ev, "TargetInstance");
    assert_string_equal(str_of(t, "UserName"), "bob");
    assert_string_equal(str_of(t, "ComputerName"), "10.0.0.7");
    smbcim_sysprop sp[SMBCIM_NSYSPROPS];
    smbcim_instance_sysprops(smbcim_watch_context(w), res, ev, sp);
    assert_int_equal(sp[5].value.v.i, 1); /* __PROPERTY_COUNT */
    smbcim_result_free(res);
    smbcim_watch_close(w);
}

/* GROUP WITHIN 5 BY TargetInstance.ShareName HAVING NumberOfEvents > 1:
 * a group ends at the first poll 5 s or more after its first event. */
static void test_group(void **state)
{
    (void)state;
    client d = {4, "dave", "10.0.0.11", "Projects,Finance", 0};
    client e = {5, "erin", "10.0.0.12", "Projects", 0};
    client f = {6, "fred", "10.0.0.13", "Projects", 0};
    const char *q = "SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA "
                    "'Win32_ServerConnection' GROUP WITHIN 5 BY TargetInstance.ShareName";
    for (int having = 0; having < 2; having++) {
        char wql[512];
        snprintf(wql, sizeof wql, "%s%s", q, having ? " HAVING NumberOfEvents > 1" : "");
        smbcim_watch *w = watch(state_at(0, &alice, 1, false), wql);
        smbcim_result *res = poll_state(w, state_at(1, (client[]){alice, d}, 2, false));
        assert_int_equal(res->count, 0); /* collecting */
        smbcim_result_free(res);
        res = poll_state(w, state_at(3, (client[]){alice, d, e}, 3, false));
        assert_int_equal(res->count, 0);
        smbcim_result_free(res);
        /* 12:00:06: the groups of 12:00:01 end (Projects: dave, erin;
         * Finance: dave); fred starts a new Projects group */
        res = poll_state(w, state_at(6, (client[]){alice, d, e, f}, 4, false));
        assert_int_equal(res->count, having ? 1 : 2);
        const cim_instance *agg = res->instances[0];
        assert_string_equal(agg->cls->name, "__AggregateEvent");
        assert_int_equal(u_of(agg, "NumberOfEvents"), 2);
        const cim_instance *rep = embedded(agg, "Representative");
        assert_string_equal(rep->cls->name, "__InstanceCreationEvent");
        assert_string_equal(str_of(embedded(rep, "TargetInstance"), "UserName"), "dave");
        if (!having)
            assert_int_equal(u_of(res->instances[1], "NumberOfEvents"), 1);
        smbcim_result_free(res);
        res = poll_state(w, state_at(11, (client[]){alice, d, e, f}, 4, false));
        assert_int_equal(res->count, having ? 0 : 1);
        smbcim_result_free(res);
        smbcim_watch_close(w); /* an open group is freed with the watcher */
    }
}

/* Results belong to the watcher, not to the states: one kept across
 * later polls stays whole (ASan watches this test). */
static void test_results_outlive_states(void **state)
{
    (void)state;
    smbcim_watch *w = watch(state_at(0, (client[]){alice, bob}, 2, false),
                            "SELECT * FROM __InstanceDeletionEvent WITHIN 1");
    smbcim_result *first = poll_state(w, state_at(0, &alice, 1, false));
    smbcim_result *second = poll_state(w, state_at(1, &carol, 1, false));
    smbcim_result *third = poll_state(w, state_at(2, &carol, 1, false));
    smbcim_error err;
    smbcim_result *none = (smbcim_result *)1;
    assert_int_equal(smbcim_watch_poll(w, NULL, &none, &err), WBEM_E_INVALID_PARAMETER);
    assert_null(none);
    char *got = summary(first);
    assert_non_null(strstr(got, "D:ServerConnection/Projects/bob"));
    free(got);
    assert_true(second->count > 0);
    assert_int_equal(third->count, 0);
    smbcim_result_free(first);
    smbcim_result_free(third);
    smbcim_result_free(second);
    smbcim_watch_close(w);
    smbcim_watch_close(NULL);
}

/* ---- large states: exact counts, and linear time ---------------------------------------- */
static client *crowd(size_t n, unsigned first_id)
{
    client *c = calloc(n, sizeof(client));
    for (size_t i = 0; i < n; i++) {
        unsigned id = first_id + (unsigned)i;
        char *user = malloc(16), *machine = malloc(24);
        snprintf(user, 16, "u%u", id);
        snprintf(machine, 24, "10.%u.%u.%u", (id >> 16) & 255, (id >> 8) & 255, id & 255);
        c[i] = (client){id, user, machine, i % 2 ? "Projects" : "Projects,IPC$", 0};
    }
    return c;
}

static void crowd_free(client *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)c[i].user);
        free((char *)c[i].machine);
    }
    free(c);
}

static double poll_seconds(size_t n)
{
    client *a = crowd(n, 1);
    smbcim_watch *w = watch(state_at(0, a, n, false),
                            "SELECT * FROM __InstanceOperationEvent WITHIN 1 WHERE "
                            "TargetInstance ISA 'Win32_ServerConnection'");
    double best = 1e9;
    for (int r = 0; r < 3; r++) {
        smbcim_ctx *next = state_at(0, a, n, r % 2 == 1);
        struct timespec t0, t1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        smbcim_result *res = poll_state(w, next);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
        assert_int_equal(res->count, 0);
        smbcim_result_free(res);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (s < best)
            best = s;
    }
    smbcim_watch_close(w);
    crowd_free(a, n);
    return best;
}

static void test_large(void **state)
{
    (void)state;
    /* 4,000 clients (6,000 connections); then 400 leave, 400 come, 100
     * open a file, the rest reordered */
    size_t n = 4000;
    client *a = crowd(n, 1);
    client *b = crowd(n, 1);
    client *fresh = crowd(400, 100000);
    for (size_t i = 0; i < 400; i++) {
        free((char *)b[i * 10].user);
        free((char *)b[i * 10].machine);
        b[i * 10] = fresh[i];
    }
    free(fresh);
    for (size_t i = 0; i < 100; i++)
        b[i * 10 + 3].files = 1;
    smbcim_watch *w = watch(state_at(0, a, n, false),
                            "SELECT * FROM __InstanceOperationEvent WITHIN 1 WHERE "
                            "TargetInstance ISA 'Win32_ServerConnection'");
    smbcim_result *res = poll_state(w, state_at(0, b, n, true));
    size_t c = 0, d = 0, m = 0;
    for (size_t i = 0; i < res->count; i++) {
        const char *k = res->instances[i]->cls->name;
        c += strstr(k, "Creation") != NULL;
        d += strstr(k, "Deletion") != NULL;
        m += strstr(k, "Modification") != NULL;
    }
    /* every 10th client (even index: two connections each) replaced by
     * a new one (half of them with one connection); clients 3, 13, ...
     * (odd: Projects only) opened a file */
    assert_int_equal(c, 600);
    assert_int_equal(d, 800);
    assert_int_equal(m, 100);
    smbcim_result_free(res);
    smbcim_watch_close(w);
    crowd_free(a, n);
    for (size_t i = 0; i < n; i++) {
        free((char *)b[i].user);
        free((char *)b[i].machine);
    }
    free(b);
    /* linear: four times the state costs about four times the poll (a
     * quadratic comparison would cost sixteen); the bound leaves room for
     * noise and sanitizers */
    double t1 = poll_seconds(1500), t4 = poll_seconds(6000);
    if (t4 > 8 * t1 + 0.05)
        fail_msg("a poll of 6,000 clients took %.3f s, of 1,500 %.3f s: not linear", t4, t1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_data_grammar),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_from_class),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_is_event_query),
        cmocka_unit_test(test_create_delete_modify),
        cmocka_unit_test(test_unchanged_and_reordered),
        cmocka_unit_test(test_key_case),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_select_list),
        cmocka_unit_test(test_group),
        cmocka_unit_test(test_results_outlive_states),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
