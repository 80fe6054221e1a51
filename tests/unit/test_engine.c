/*
 * test_engine.c - the providers' value rules (docs/values.md) and the
 * engine's request API, through the public header, over small snapshots
 * written inline so each test shows exactly the state it checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "smbcim.h"
#include "engine/engine_int.h"

/* A snapshot with `shares` (JSON array body), `sessions`, `tcons` and
 * `opens` (JSON object bodies). */
static smbcim_ctx *open_state(const char *shares, const char *sessions, const char *tcons,
                              const char *opens)
{
    char *doc = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&doc, &len);
    fprintf(f,
            "{\"smbcim_snapshot\": 1,"
            " \"server\": {\"name\": \"fs01\", \"taken_at\": \"2026-11-24T12:00:00.000000+00:00\"},"
            " \"shares\": [%s],"
            " \"smbstatus\": {\"sessions\": {%s}, \"tcons\": {%s}, \"open_files\": {%s}}}",
            shares, sessions, tcons, opens);
    fclose(f);
    smbcim_error err = {0};
    smbcim_ctx *ctx = smbcim_open_snapshot_buffer(doc, len, "test", &err);
    if (!ctx)
        fail_msg("snapshot rejected: %s", err.msg);
    free(doc);
    return ctx;
}

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

#define SHARE(name, path, max) \
    "{\"name\": \"" name "\", \"kind\": \"disk\", \"administrative\": false, \"path\": \"" path \
    "\", \"comment\": \"c\", \"max_connections\": " #max "}"
#define SID(pid) "\"server_id\": {\"pid\": \"" pid "\", \"task_id\": \"0\", \"vnn\": \"4294967295\", \"unique_id\": \"7" pid "\"}"
#define SESSION(id, pid, uid, user, machine) \
    "\"" id "\": {\"session_id\": \"" id "\", " SID(pid) ", \"uid\": " #uid ", \"gid\": 100, " \
    "\"username\": \"" user "\", \"groupname\": \"users\", \"remote_machine\": \"" machine "\", " \
    "\"hostname\": \"ipv4:" machine ":4000\", \"session_dialect\": \"SMB3_11\", " \
    "\"encryption\": {\"cipher\": \"-\", \"degree\": \"none\"}, \"signing\": {\"cipher\": \"-\", \"degree\": \"none\"}}"
#define TCON(id, sess, pid, service, machine, at) \
    "\"" id "\": {\"service\": \"" service "\", " SID(pid) ", \"tcon_id\": \"" id "\", " \
    "\"session_id\": \"" sess "\", \"machine\": \"" machine "\", \"connected_at\": \"" at "\", " \
    "\"encryption\": {\"cipher\": \"-\", \"degree\": \"none\"}, \"signing\": {\"cipher\": \"-\", \"degree\": \"none\"}}"
#define OPEN(key, pid, uid, spath, name) \
    "\"" spath "/" name key "\": {\"service_path\": \"" spath "\", \"filename\": \"" name "\", " \
    "\"fileid\": {\"devid\": 1, \"inode\": 2, \"extid\": 0}, \"num_pending_deletes\": 0, " \
    "\"opens\": {\"" pid "/" key "\": {" SID(pid) ", \"uid\": " #uid ", \"share_file_id\": \"" key "\", " \
    "\"sharemode\": {\"hex\": \"0x00000007\"}, \"access_mask\": {\"hex\": \"0x00000003\"}, " \
    "\"caching\": {}, \"oplock\": {}, \"lease\": {}, \"opened_at\": \"2026-11-24T11:00:00.000000+00:00\"}}}"

static smbcim_result *query(smbcim_ctx *ctx, const char *wql)
{
    smbcim_error err = {0};
    smbcim_result *res = NULL;
    if (smbcim_exec_query(ctx, wql, &res, &err) != WBEM_S_NO_ERROR)
        fail_msg("%s: %s %s", wql, smbcim_status_name(err.code), err.msg);
    return res;
}

static const cim_value *prop(const cim_instance *inst, const char *name)
{
    int i = cim_class_prop_index(inst->cls, name);
    if (i < 0)
        fail_msg("no property %s", name);
    return &inst->values[i];
}

static void assert_str(const cim_instance *inst, const char *name, const char *want)
{
    const cim_value *v = prop(inst, name);
    if (!want) {
        assert_true(v->null);
        return;
    }
    assert_false(v->null);
    assert_string_equal(v->v.s, want);
}

static void assert_u(const cim_instance *inst, const char *name, uint64_t want)
{
    const cim_value *v = prop(inst, name);
    assert_false(v->null);
    assert_int_equal(v->v.u, want);
}

/* Two sessions of alice from one client, each with a tree connect to
 * Projects in a different smbd: one merged connection. */
static void test_merge_duplicate_keys(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_state(
        SHARE("Projects", "/srv/projects", 0),
        SESSION("1", "100", 1000, "alice", "10.0.0.5") "," SESSION("2", "101", 1000, "alice", "10.0.0.5"),
        TCON("11", "1", "100", "Projects", "10.0.0.5", "2026-11-24T11:00:00.000000+00:00") ","
        TCON("12", "2", "101", "projects", "10.0.0.5", "2026-11-24T10:00:00.500000+00:00"),
        OPEN("1", "100", 1000, "/srv/projects", "a.txt") "," OPEN("2", "101", 1000, "/srv/projects", "b.txt") ","
        OPEN("3", "101", 1000, "/srv/projects", "c.txt") "," OPEN("4", "101", 1000, "/srv/other", "d.txt"));
    smbcim_result *res = query(ctx, "SELECT * FROM Win32_ServerConnection");
    assert_int_equal(res->count, 1);
    const cim_instance *c = res->instances[0];
    assert_str(c, "ComputerName", "10.0.0.5");
    assert_str(c, "ShareName", "Projects");
    assert_str(c, "UserName", "alice");
    assert_u(c, "NumberOfUsers", 2);
    assert_u(c, "NumberOfFiles", 3);
    assert_u(c, "ActiveTime", 7199); /* oldest: 10:00:00.5 -> 7199.5 s */
    assert_u(c, "ConnectionID", 12);
    assert_str(c, "Status", NULL);
    smbcim_result_free(res);

    res = query(ctx, "SELECT * FROM Win32_ServerSession");
    assert_int_equal(res->count, 1);
    assert_u(res->instances[0], "ResourcesOpened", 4);
    assert_u(res->instances[0], "ActiveTime", 7199);
    assert_str(res->instances[0], "ClientType", "");
    assert_true(prop(res->instances[0], "IdleTime")->null);
    smbcim_result_free(res);
    smbcim_close(ctx);
}

/* Two tree connects of one smbd to the same share count its opens once. */
static void test_merge_same_smbd_counts_once(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_state(
        SHARE("Projects", "/srv/projects", 0),
        SESSION("1", "100", 1000, "alice", "10.0.0.5") "," SESSION("2", "100", 1000, "alice", "10.0.0.5"),
        TCON("11", "1", "100", "Projects", "10.0.0.5", "2026-11-24T11:00:00.000000+00:00") ","
        TCON("12", "2", "100", "Projects", "10.0.0.5", "2026-11-24T11:30:00.000000+00:00"),
        OPEN("1", "100", 1000, "/srv/projects", "a.txt") "," OPEN("2", "100", 1000, "/srv/projects", "b.txt"));
    smbcim_result *res = query(ctx, "SELECT * FROM Win32_ServerConnection");
    assert_int_equal(res->count, 1);
    assert_u(res->instances[0], "NumberOfFiles", 2);
    assert_u(res->instances[0], "NumberOfUsers", 2);
    assert_u(res->instances[0], "ConnectionID", 11);
    smbcim_result_free(res);
    res = query(ctx, "SELECT * FROM Win32_ServerSession");
    assert_u(res->instances[0], "ResourcesOpened", 2);
    smbcim_result_free(res);
    smbcim_close(ctx);
}

static void test_names_as_windows_shows_them(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_state(
        SHARE("Data", "/srv/data", 5),
        SESSION("1", "100", 1000, "CORP\\\\bob", "fe80::1") "," SESSION("2", "101", -1, "(auth in progress)", "10.0.0.9"),
        TCON("11", "1", "100", "Data", "fe80::1", "2026-11-24T11:59:59.000000+00:00") ","
        TCON("12", "2", "101", "Data", "10.0.0.9", "2026-11-24T11:59:59.000000+00:00") ","
        TCON("13", "99", "102", "Data", "10.0.0.8", "2026-11-24T11:59:59.000000+00:00"),
        "");
    smbcim_result *res = query(ctx, "SELECT * FROM Win32_ServerConnection");
    assert_int_equal(res->count, 1); /* auth in progress and orphan tcon skipped */
    assert_str(res->instances[0], "ComputerName", "[fe80::1]");
    assert_str(res->instances[0], "UserName", "bob");
    assert_u(res->instances[0], "ActiveTime", 1);
    assert_u(res->instances[0], "NumberOfFiles", 0);
    assert_string_equal(res->instances[0]->relpath,
                        "Win32_ServerConnection.ComputerName=\"[fe80::1]\",ShareName=\"Data\",UserName=\"bob\"");
    smbcim_result_free(res);
    res = query(ctx, "SELECT * FROM Win32_Share");
    assert_int_equal(res->count, 1);
    assert_u(res->instances[0], "MaximumAllowed", 5);
    assert_false(prop(res->instances[0], "AllowMaximum")->v.b);
    assert_u(res->instances[0], "Type", 0);
    assert_str(res->instances[0], "Status", "OK");
    smbcim_result_free(res);
    smbcim_close(ctx);
}

/* A [homes] connection and one to a removed share: shares synthesized,
 * references resolve. */
static void test_synthesized_shares(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_state(
        SHARE("Projects", "/srv/projects", 0),
        SESSION("1", "100", 1001, "dave", "10.0.0.9"),
        TCON("11", "1", "100", "dave", "10.0.0.9", "2026-11-24T11:00:00.000000+00:00") ","
        TCON("12", "1", "100", "old", "10.0.0.9", "2026-11-24T11:00:00.000000+00:00"),
        OPEN("1", "100", 1001, "/home/dave", "x.txt"));
    smbcim_result *res = query(ctx, "SELECT * FROM Win32_Share");
    assert_int_equal(res->count, 3);
    /* by name, case-insensitively, as Windows lists shares */
    assert_str(res->instances[1], "Name", "old");
    assert_str(res->instances[2], "Name", "Projects");
    const cim_instance *home = res->instances[0];
    assert_str(home, "Name", "dave");
    assert_str(home, "Status", NULL);
    assert_str(home, "Path", NULL);
    assert_true(prop(home, "Type")->null);
    smbcim_result_free(res);
    res = query(ctx, "SELECT * FROM Win32_ServerConnection WHERE ShareName = 'dave'");
    assert_int_equal(res->count, 1);
    assert_true(prop(res->instances[0], "NumberOfFiles")->null);
    smbcim_result_free(res);
    res = query(ctx, "SELECT * FROM Win32_ConnectionShare");
    assert_int_equal(res->count, 2);
    for (size_t i = 0; i < res->count; i++) {
        smbcim_error err = {0};
        smbcim_result *one;
        assert_int_equal(smbcim_get_object(ctx, prop(res->instances[i], "Antecedent")->v.s, &one, &err),
                         WBEM_S_NO_ERROR);
        assert_int_equal(one->count, 1);
        smbcim_result_free(one);
    }
    smbcim_result_free(res);
    smbcim_close(ctx);
}

static void test_associations_both_ways(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_state(
        SHARE("A", "/srv/a", 0) "," SHARE("B", "/srv/b", 0),
        SESSION("1", "100", 1000, "alice", "10.0.0.5") "," SESSION("2", "101", 1001, "bob", "10.0.0.6"),
        TCON("11", "1", "100", "A", "10.0.0.5", "2026-11-24T11:00:00.000000+00:00") ","
        TCON("12", "1", "100", "B", "10.0.0.5", "2026-11-24T11:00:00.000000+00:00") ","
        TCON("13", "2", "101", "A", "10.0.0.6", "2026-11-24T11:00:00.000000+00:00"),
        "");
    smbcim_result *res = query(ctx, "ASSOCIATORS OF {Win32_Share.Name=\"a\"}");
    assert_int_equal(res->count, 2);
    smbcim_result_free(res);
    res = query(ctx, "ASSOCIATORS OF {Win32_ServerSession.ComputerName=\"10.0.0.5\",UserName=\"alice\"}");
    assert_int_equal(res->count, 2);
    smbcim_result_free(res);
    res = query(ctx, "ASSOCIATORS OF {Win32_ServerConnection.ComputerName=\"10.0.0.5\",ShareName=\"B\",UserName=\"alice\"}");
    assert_int_equal(res->count, 2); /* the share and the session */
    smbcim_result_free(res);
    res = query(ctx, "ASSOCIATORS OF {Win32_ServerConnection.ComputerName=\"10.0.0.5\",ShareName=\"B\",UserName=\"alice\"} WHERE ResultClass = Win32_Share");
    assert_int_equal(res->count, 1);
    assert_string_equal(res->instances[0]->relpath, "Win32_Share.Name=\"B\"");
    smbcim_result_free(res);
    res = query(ctx, "REFERENCES OF {Win32_Share.Name=\"A\"} WHERE Role = Antecedent");
    assert_int_equal(res->count, 2);
    assert_string_equal(res->instances[0]->cls->name, "Win32_ConnectionShare");
    smbcim_result_free(res);
    res = query(ctx, "REFERENCES OF {Win32_Share.Name=\"A\"} WHERE Role = Dependent");
    assert_int_equal(res->count, 0);
    smbcim_result_free(res);
    smbcim_close(ctx);
}

/* smbcim_set_access: hides the connections, and sees every route apply
 * the same rule. */
static bool no_connections(const cim_class *cls, void *data)
{
    (*(int *)data)++;
    return !cim_class_is_a(cls, "Win32_ServerConnection");
}

static smbcim_status status_of(smbcim_ctx *ctx, const char *wql)
{
    smbcim_result *res = NULL;
    smbcim_error err;
    smbcim_status st = smbcim_exec_query(ctx, wql, &res, &err);
    smbcim_result_free(res);
    return st;
}

static void test_access(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_state(
        SHARE("A", "/srv/a", 0) "," SHARE("B", "/srv/b", 0),
        SESSION("1", "100", 1000, "alice", "10.0.0.5"),
        TCON("11", "1", "100", "A", "10.0.0.5", "2026-11-24T11:00:00.000000+00:00"),
        "");
    int asked = 0;
    smbcim_set_access(ctx, no_connections, &asked);
    static const char *const denied[] = {
        "SELECT * FROM Win32_ServerConnection",
        "SELECT Name FROM Win32_ServerConnection WHERE UserName = 'nobody'",
        /* connections are what these could reach, whether or not any exist */
        "ASSOCIATORS OF {Win32_Share.Name=\"A\"} WHERE ResultClass = Win32_ServerConnection",
        "ASSOCIATORS OF {Win32_Share.Name=\"B\"} WHERE ResultClass = Win32_ServerConnection",
        "ASSOCIATORS OF {Win32_ServerConnection.ComputerName=\"10.0.0.5\",ShareName=\"A\",UserName=\"alice\"}",
        "ASSOCIATORS OF {Win32_ServerConnection.ComputerName=\"10.9.9.9\",ShareName=\"A\",UserName=\"eve\"}",
        "REFERENCES OF {Win32_ServerConnection.ComputerName=\"10.0.0.5\",ShareName=\"A\",UserName=\"alice\"}",
        /* the session's links lead to a connection: refused, not left out */
        "ASSOCIATORS OF {Win32_ServerSession.ComputerName=\"10.0.0.5\",UserName=\"alice\"}",
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
        if (status_of(ctx, denied[i]) != WBEM_E_ACCESS_DENIED)
            fail_msg("not denied: %s", denied[i]);
    smbcim_result *res;
    smbcim_error err;
    assert_int_equal(smbcim_get_object(ctx, "Win32_ServerConnection.ComputerName=\"10.0.0.5\","
                                            "ShareName=\"A\",UserName=\"alice\"", &res, &err),
                     WBEM_E_ACCESS_DENIED);
    assert_non_null(strstr(err.msg, "Win32_ServerConnection is not readable"));
    assert_int_equal(smbcim_get_object(ctx, "Win32_ServerConnection.ComputerName=\"1.2.3.4\","
                                            "ShareName=\"A\",UserName=\"x\"", &res, &err),
                     WBEM_E_ACCESS_DENIED);
    assert_int_equal(smbcim_enum_instances(ctx, "Win32_ServerConnection", &res, &err),
                     WBEM_E_ACCESS_DENIED);
    smbcim_assoc_filter f = {.result_class = "Win32_ServerConnection"};
    assert_int_equal(smbcim_associators(ctx, "Win32_Share.Name=\"B\"", &f, &res, &err),
                     WBEM_E_ACCESS_DENIED);
    /* a superclass leaves them out; the other classes answer as before */
    assert_int_equal(smbcim_enum_instances(ctx, "CIM_LogicalElement", &res, &err), 0);
    for (size_t i = 0; i < res->count; i++)
        assert_false(cim_class_is_a(res->instances[i]->cls, "Win32_ServerConnection"));
    size_t n_without = res->count;
    smbcim_result_free(res);
    res = query(ctx, "SELECT * FROM Win32_ServerSession");
    assert_int_equal(res->count, 1);
    smbcim_result_free(res);
    res = query(ctx, "ASSOCIATORS OF {Win32_ServerSession} WHERE ClassDefsOnly");
    assert_true(res->is_classes); /* declarations are never filtered */
    smbcim_result_free(res);
    assert_true(asked > 0);
    /* cleared: everything again */
    smbcim_set_access(ctx, NULL, NULL);
    assert_int_equal(smbcim_enum_instances(ctx, "CIM_LogicalElement", &res, &err), 0);
    assert_int_equal(res->count, n_without + 1);
    smbcim_result_free(res);
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        smbcim_status st = status_of(ctx, denied[i]);
        if (st != 0 && st != WBEM_E_NOT_FOUND)
            fail_msg("%s: 0x%x", denied[i], st);
    }
    smbcim_close(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_state(SHARE("A", "/srv/a", 0), "", "", "");
    static const struct {
        const char *wql;
        smbcim_status code;
    } bad[] = {
        {"SELECT * FROM Win32_Nothing", WBEM_E_INVALID_CLASS},
        {"SELECT Foo FROM Win32_Share", WBEM_E_INVALID_QUERY},
        {"SELECT * FROM Win32_Share WHERE Foo = 1", WBEM_E_INVALID_QUERY},
        {"ASSOCIATORS OF {Win32_Share.Name=\"nope\"}", WBEM_E_NOT_FOUND},
        {"ASSOCIATORS OF {Win32_Share.Nme=\"A\"}", WBEM_E_INVALID_OBJECT_PATH},
        {"ASSOCIATORS OF {Win32_Share.Name=\"A\"} WHERE AssocClass = Nope", WBEM_E_INVALID_CLASS},
        {"ASSOCIATORS OF {\\\\X\\root\\other:Win32_Share.Name=\"A\"}", WBEM_E_INVALID_NAMESPACE},
        {"", WBEM_E_INVALID_PARAMETER},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        smbcim_error err = {0};
        smbcim_result *res = (smbcim_result *)1;
        smbcim_status st = smbcim_exec_query(ctx, bad[i].wql, &res, &err);
        if (st != bad[i].code)
            fail_msg("%s: got %s (%s)", bad[i].wql, smbcim_status_name(st), err.msg);
        assert_null(res);
        assert_int_equal(err.code, bad[i].code);
        assert_true(err.msg[0] != '\0');
    }
    smbcim_error err = {0};
    smbcim_result *res;
    assert_int_equal(smbcim_get_object(ctx, "Win32_Share.Name=\"B\"", &res, &err), WBEM_E_NOT_FOUND);
    smbcim_close(ctx);
}

static void test_projection_paths(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_state(SHARE("A", "/srv/a", 0), "", "", "");
    smbcim_result *res = query(ctx, "SELECT Path FROM Win32_Share");
    assert_int_equal(res->count, 1);
    assert_null(res->instances[0]->path);
    smbcim_sysprop sp[SMBCIM_NSYSPROPS];
    smbcim_instance_sysprops(ctx, res, res->instances[0], sp);
    assert_string_equal(sp[1].name, "__CLASS");
    assert_true(sp[9].value.null);   /* __PATH */
    assert_true(sp[7].value.null);   /* __SERVER */
    assert_int_equal(sp[5].value.v.i, 1); /* __PROPERTY_COUNT */
    smbcim_result_free(res);
    res = query(ctx, "SELECT Name, Path FROM Win32_Share");
    assert_string_equal(res->instances[0]->path, "\\\\FS01\\root\\cimv2:Win32_Share.Name=\"A\"");
    smbcim_instance_sysprops(ctx, res, res->instances[0], sp);
    assert_string_equal(sp[7].value.v.s, "FS01");
    assert_string_equal(sp[8].value.v.s, "root\\cimv2");
    assert_int_equal(sp[0].value.v.i, 2);
    assert_string_equal(sp[3].value.v.s, "CIM_ManagedSystemElement");
    assert_int_equal(sp[6].value.count, 2);
    smbcim_result_free(res);
    smbcim_close(ctx);
}

/* The providers' per-role hooks and get() must give exactly what the
 * generic indexes give: every ASSOCIATORS/REFERENCES of every instance of
 * the fixture, both ways, compared path by path. */
static char *answer(smbcim_ctx *ctx, const char *wql)
{
    smbcim_result *res = query(ctx, wql);
    size_t len = 0;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, &len);
    for (size_t i = 0; i < res->count; i++)
        fprintf(f, "%s\n", res->is_classes ? res->classes[i]->name : res->instances[i]->path);
    fclose(f);
    smbcim_result_free(res);
    return buf;
}

static void test_hooks_match_generic(void **state)
{
    (void)state;
    smbcim_error err = {0};
    smbcim_ctx *hooked = open_fs01();
    smbcim_ctx *generic = open_fs01();
    generic->generic_only = true;
    smbcim_result *all = query(hooked, "SELECT * FROM CIM_ManagedSystemElement");
    assert_int_equal(all->count, 23);
    static const char *const forms[] = {
        "ASSOCIATORS OF {%s}", "REFERENCES OF {%s}",
        "ASSOCIATORS OF {%s} WHERE ResultRole = Antecedent",
        "REFERENCES OF {%s} WHERE Role = Dependent",
    };
    for (size_t i = 0; i < all->count; i++) {
        for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
            char q[2048];
            snprintf(q, sizeof q, forms[f], all->instances[i]->path);
            char *a = answer(hooked, q), *b = answer(generic, q);
            if (strcmp(a, b) != 0)
                fail_msg("%s:\nhooks:\n%s\ngeneric:\n%s", q, a, b);
            free(a);
            free(b);
        }
        smbcim_result *one, *two;
        assert_int_equal(smbcim_get_object(hooked, all->instances[i]->path, &one, &err), 0);
        assert_int_equal(smbcim_get_object(generic, all->instances[i]->path, &two, &err), 0);
        assert_string_equal(one->instances[0]->path, two->instances[0]->path);
        smbcim_result_free(one);
        smbcim_result_free(two);
    }
    smbcim_result_free(all);
    smbcim_close(hooked);
    smbcim_close(generic);
}

static char *paths_of(smbcim_result *res)
{
    size_t len = 0;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, &len);
    for (size_t i = 0; i < res->count; i++)
        fprintf(f, "%s\n", res->is_classes ? res->classes[i]->name : res->instances[i]->path);
    fclose(f);
    smbcim_result_free(res);
    return buf;
}

/* smbcim_associators / smbcim_references (no query text) give exactly what
 * the WQL forms give, for every object of fs01 and every filter. */
static void test_assoc_api_matches_wql(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_fs01();
    smbcim_error err = {0};
    smbcim_result *all = query(ctx, "SELECT * FROM CIM_ManagedSystemElement");
    static const struct {
        bool refs;
        const char *where;
        smbcim_assoc_filter f;
    } forms[] = {
        {false, "", {0}},
        {true, "", {0}},
        {false, " WHERE AssocClass = Win32_ConnectionShare",
         {.assoc_class = "Win32_ConnectionShare"}},
        {false, " WHERE ResultClass = Win32_ServerSession", {.result_class = "Win32_ServerSession"}},
        {false, " WHERE Role = Dependent ResultRole = Antecedent",
         {.role = "Dependent", .result_role = "Antecedent"}},
        {false, " WHERE KeysOnly", {.keys_only = true}},
        {true, " WHERE ResultClass = CIM_Dependency Role = Antecedent",
         {.result_class = "CIM_Dependency", .role = "Antecedent"}},
    };
    for (size_t i = 0; i < all->count; i++) {
        for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
            char q[2048];
            snprintf(q, sizeof q, "%s OF {%s}%s", forms[k].refs ? "REFERENCES" : "ASSOCIATORS",
                     all->instances[i]->path, forms[k].where);
            char *a = answer(ctx, q);
            smbcim_result *res;
            smbcim_status st = forms[k].refs
                ? smbcim_references(ctx, all->instances[i]->path, &forms[k].f, &res, &err)
                : smbcim_associators(ctx, all->instances[i]->path, &forms[k].f, &res, &err);
            assert_int_equal(st, WBEM_S_NO_ERROR);
            char *b = paths_of(res);
            if (strcmp(a, b) != 0)
                fail_msg("%s:\nWQL:\n%s\nAPI:\n%s", q, a, b);
            free(a);
            free(b);
        }
    }
    smbcim_result_free(all);
    /* Errors: unknown filter class, missing object, a references call with
     * an associators-only filter. */
    smbcim_result *res;
    smbcim_assoc_filter bad = {.assoc_class = "Nope"};
    smbcim_error_clear(&err);
    assert_int_equal(smbcim_associators(ctx, "Win32_Share.Name=\"IPC$\"", &bad, &res, &err),
                     WBEM_E_INVALID_CLASS);
    assert_string_equal(err.msg, "class 'Nope' does not exist");
    smbcim_error_clear(&err);
    assert_int_equal(smbcim_associators(ctx, "Win32_Share.Name=\"none\"", NULL, &res, &err),
                     WBEM_E_NOT_FOUND);
    smbcim_error_clear(&err);
    smbcim_assoc_filter rr = {.result_role = "Dependent"};
    assert_int_equal(smbcim_references(ctx, "Win32_Share.Name=\"IPC$\"", &rr, &res, &err),
                     WBEM_E_INVALID_PARAMETER);
    /* a filter whose reserved members are not zero (smbcim.h) */
    smbcim_assoc_filter junk = {.keys_only = true};
    junk.reserved[3] = &junk;
    assert_int_equal(smbcim_associators(ctx, "Win32_Share.Name=\"IPC$\"", &junk, &res, &err),
                     WBEM_E_INVALID_PARAMETER);
    assert_non_null(strstr(err.msg, "reserved[3] is not zero"));
    smbcim_close(ctx);
}

/* ---- reading the state in parts (sources.h SC_PART_*) -------------------- */

/* A stand-in for the live source: holds the parts it was given back and
 * hands them out when asked, counting what it was asked for. */
typedef struct fake_source {
    sc_state held;       /* the state as read at once: its parts are handed out */
    unsigned asked[4];   /* calls per parts mask */
    smbcim_status fail;  /* non-zero: every fill fails with it */
} fake_source;

static smbcim_status fake_fill(sc_state *st, unsigned parts, void *priv, smbcim_error *err)
{
    fake_source *f = priv;
    f->asked[parts & 3]++;
    if (f->fail) {
        st->sessions_status = f->fail;
        st->sessions_note = "cannot read the fake databases";
        st->have = SC_PARTS_ALL;
        return smbcim_error_set(err, f->fail, "cannot read the fake databases");
    }
    if (parts & SC_PART_CONNS) {
        st->sessions = f->held.sessions, st->nsessions = f->held.nsessions;
        st->tcons = f->held.tcons, st->ntcons = f->held.ntcons;
    }
    if (parts & SC_PART_OPENS)
        st->opens = f->held.opens, st->nopens = f->held.nopens;
    st->have |= parts;
    return WBEM_S_NO_ERROR;
}

/* fs01 with its sessions, tree connects and opens taken out, to be read
 * back through fake_fill. */
static smbcim_ctx *open_lazy(fake_source *f, smbcim_status fail)
{
    smbcim_ctx *ctx = open_fs01();
    sc_state *st = ctx->state;
    *f = (fake_source){.held = *st, .fail = fail};
    st->nsessions = st->ntcons = st->nopens = 0;
    st->have = 0;
    st->fill = fake_fill;
    st->fill_priv = f;
    return ctx;
}

/* Every property of every instance a query gives, as text. */
static char *dump(smbcim_ctx *ctx, const char *wql)
{
    smbcim_result *res = query(ctx, wql);
    size_t len = 0;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, &len);
    for (size_t i = 0; i < res->count; i++) {
        const cim_instance *inst = res->instances[i];
        fprintf(f, "%s\n", inst->path);
        for (size_t p = 0; p < inst->cls->nprops; p++) {
            const cim_value *v = &inst->values[p];
            fprintf(f, "  %s=", inst->cls->props[p].name);
            if (v->null)
                fputs("NULL\n", f);
            else if (cim_type_is_stringlike(v->type) && !v->array)
                fprintf(f, "'%s'\n", v->v.s);
            else if (!v->array && v->type != CIM_T_BOOLEAN)
                fprintf(f, "%llu\n", (unsigned long long)v->v.u);
            else
                fputs("(other)\n", f);
        }
    }
    fclose(f);
    smbcim_result_free(res);
    return buf;
}

/* A request reads only the parts of the state it needs, and what it gets is
 * what a context holding every part from the start gives. */
static void test_lazy_parts(void **state)
{
    (void)state;
    fake_source f;
    smbcim_ctx *lazy = open_lazy(&f, 0);
    fake_source g;
    smbcim_ctx *full = open_lazy(&g, 0);
    smbcim_error err = {0};
    assert_int_equal(sc_state_fill(full->state, SC_PARTS_ALL, &err), 0);

    smbcim_result *res;
    assert_int_equal(smbcim_get_object(lazy, "Win32_Share.Name=\"Projects\"", &res, &err), 0);
    assert_int_equal(res->count, 1);
    smbcim_result_free(res);
    assert_int_equal(f.asked[1] + f.asked[2] + f.asked[3], 0); /* nothing read */

    static const char *const queries[] = {
        "SELECT * FROM Win32_Share",
        "SELECT * FROM Win32_ServerConnection",
        "SELECT * FROM Win32_ServerSession",
        "SELECT * FROM CIM_ManagedSystemElement",
        "SELECT * FROM Win32_ConnectionShare",
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char *a = dump(lazy, queries[i]), *b = dump(full, queries[i]);
        if (strcmp(a, b) != 0)
            fail_msg("%s:\nread in parts:\n%s\nread at once:\n%s", queries[i], a, b);
        free(a);
        free(b);
        if (i == 0) { /* Win32_Share: sessions and tree connects, no opens */
            assert_int_equal(f.asked[SC_PART_CONNS], 1);
            assert_int_equal(f.asked[SC_PART_OPENS] + f.asked[SC_PARTS_ALL], 0);
        }
    }
    /* each part read once */
    assert_int_equal(f.asked[SC_PART_CONNS], 1);
    assert_int_equal(f.asked[SC_PART_OPENS], 1);
    assert_int_equal(f.asked[SC_PARTS_ALL], 0);
    smbcim_close(lazy);
    smbcim_close(full);

    /* The associations are read from the sessions and tree connects alone
     * (their REFs are the endpoints' keys), and give what a context read
     * at once gives; the endpoints' own instances then read the opens. */
    static const char *const assocs[] = {"SELECT * FROM Win32_ConnectionShare",
                                         "SELECT * FROM Win32_SessionConnection",
                                         ("REFERENCES OF {Win32_Share.Name=\"Projects\"} "
                                          "WHERE ResultClass = Win32_ConnectionShare")};
    lazy = open_lazy(&f, 0);
    full = open_lazy(&g, 0);
    assert_int_equal(sc_state_fill(full->state, SC_PARTS_ALL, &err), 0);
    for (size_t i = 0; i < sizeof assocs / sizeof assocs[0]; i++) {
        char *a = dump(lazy, assocs[i]), *b = dump(full, assocs[i]);
        if (strcmp(a, b) != 0)
            fail_msg("%s:\nread in parts:\n%s\nread at once:\n%s", assocs[i], a, b);
        assert_non_null(strstr(a, "Win32_ServerConnection"));
        free(a);
        free(b);
    }
    assert_int_equal(f.asked[SC_PART_CONNS], 1);
    assert_int_equal(f.asked[SC_PART_OPENS] + f.asked[SC_PARTS_ALL], 0);
    char *a = dump(lazy, "ASSOCIATORS OF {Win32_Share.Name=\"Projects\"} "
                         "WHERE ResultClass = Win32_ServerConnection");
    char *b = dump(full, "ASSOCIATORS OF {Win32_Share.Name=\"Projects\"} "
                         "WHERE ResultClass = Win32_ServerConnection");
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "NumberOfFiles=3")); /* alice has 3 files open on Projects */
    free(a);
    free(b);
    assert_int_equal(f.asked[SC_PART_OPENS], 1);
    smbcim_close(lazy);
    smbcim_close(full);

    /* The parts cannot be read (not root): Win32_Share from the
     * configuration, the session classes fail with the reason, once read. */
    lazy = open_lazy(&f, WBEM_E_ACCESS_DENIED);
    assert_int_equal(smbcim_get_object(lazy, "Win32_Share.Name=\"Projects\"", &res, &err), 0);
    smbcim_result_free(res);
    res = query(lazy, "SELECT * FROM Win32_Share");
    assert_true(res->count >= 4);
    smbcim_result_free(res);
    for (int i = 0; i < 2; i++) {
        err = (smbcim_error){0};
        assert_int_equal(smbcim_exec_query(lazy, "SELECT * FROM Win32_ServerSession", &res, &err),
                         WBEM_E_ACCESS_DENIED);
        assert_non_null(strstr(err.msg, "cannot read the fake databases"));
    }
    err = (smbcim_error){0};
    assert_int_equal(smbcim_get_object(lazy,
                                       "Win32_ServerConnection.ComputerName=\"a\","
                                       "ShareName=\"b\",UserName=\"c\"", &res, &err),
                     WBEM_E_ACCESS_DENIED);
    assert_int_equal(f.asked[SC_PART_CONNS], 1); /* a failed read is not tried again */
    assert_int_equal(f.asked[SC_PARTS_ALL] + f.asked[SC_PART_OPENS], 0);
    smbcim_close(lazy);
}

/* The error struct: every call clears it first (issue 12, item 17). */
/* A cluster's state: records of each node's smbds counted per node (a
 * client on two nodes counts on both); a single server names no node. */
static void test_node_loads(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_state(
        SHARE("Projects", "/srv/projects", 0),
        SESSION("1", "0:100", 1000, "alice", "10.0.0.5") "," SESSION("2", "2:100", 1000, "alice", "10.0.0.5") ","
        SESSION("3", "2:101", 1001, "bob", "10.0.0.6"),
        TCON("11", "1", "0:100", "Projects", "10.0.0.5", "2026-11-24T11:00:00.000000+00:00") ","
        TCON("12", "2", "2:100", "Projects", "10.0.0.5", "2026-11-24T11:00:00.000000+00:00") ","
        TCON("13", "3", "2:101", "Projects", "10.0.0.6", "2026-11-24T11:00:00.000000+00:00") ","
        TCON("14", "3", "2:101", "IPC$", "10.0.0.6", "2026-11-24T11:00:00.000000+00:00"),
        OPEN("1", "2:100", 1000, "/srv/projects", "a.txt") "," OPEN("2", "2:101", 1001, "/srv/projects", "b.txt"));
    smbcim_node_load *nodes = NULL;
    size_t n = 99;
    smbcim_error err = {0};
    assert_int_equal(smbcim_node_loads(ctx, &nodes, &n, &err), WBEM_S_NO_ERROR);
    assert_int_equal(n, 2);
    assert_int_equal(nodes[0].node, 0);
    assert_int_equal(nodes[0].sessions, 1);
    assert_int_equal(nodes[0].tree_connects, 1);
    assert_int_equal(nodes[0].open_files, 0);
    assert_int_equal(nodes[1].node, 2);
    assert_int_equal(nodes[1].sessions, 2);
    assert_int_equal(nodes[1].tree_connects, 3);
    assert_int_equal(nodes[1].open_files, 2);
    free(nodes);
    /* the instances are the cluster's: alice's two sessions are one */
    smbcim_result *res = query(ctx, "SELECT * FROM Win32_ServerSession");
    assert_int_equal(res->count, 2);
    smbcim_result_free(res);
    smbcim_close(ctx);

    ctx = open_fs01();
    nodes = (smbcim_node_load *)&n;
    assert_int_equal(smbcim_node_loads(ctx, &nodes, &n, &err), WBEM_S_NO_ERROR);
    assert_int_equal(n, 0);
    assert_null(nodes);
    smbcim_close(ctx);

    assert_non_null(ctx = smbcim_open_schema_only(&err));
    assert_int_equal(smbcim_node_loads(ctx, &nodes, &n, &err), WBEM_E_NOT_SUPPORTED);
    assert_int_equal(n, 0);
    assert_null(nodes);
    smbcim_close(ctx);
}

/* smbcim_samba_version runs `smbd --version` found through PATH: a fake
 * smbd in a directory of our own shows each outcome. */
static void write_smbd(const char *dir, const char *body)
{
    char path[512];
    snprintf(path, sizeof path, "%s/smbd", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
}

static void test_samba_version(void **state)
{
    (void)state;
    char dir[] = "/tmp/smbcim-version.XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", dir, 1);
    smbcim_error err = {0};
    char *v;

    assert_null(v = smbcim_samba_version(&err)); /* no smbd at all */
    assert_int_equal(err.code, WBEM_E_NOT_AVAILABLE);
    assert_non_null(strstr(err.msg, "smbd --version"));

    write_smbd(dir, "echo 'Version 4.99.1-Test'");
    assert_non_null(v = smbcim_samba_version(&err));
    assert_string_equal(v, "4.99.1-Test");
    assert_int_equal(err.code, WBEM_S_NO_ERROR);
    free(v);

    write_smbd(dir, "echo 'Samba is great'");
    assert_null(smbcim_samba_version(&err));
    assert_int_equal(err.code, WBEM_E_FAILED);
    assert_non_null(strstr(err.msg, "Samba is great"));

    write_smbd(dir, "printf 'Version 4.1\\033[2J\\n'"); /* a terminal escape */
    assert_null(smbcim_samba_version(&err));
    assert_int_equal(err.code, WBEM_E_FAILED);

    write_smbd(dir, "exit 3");
    assert_null(smbcim_samba_version(&err));
    assert_int_equal(err.code, WBEM_E_FAILED);
    assert_non_null(strstr(err.msg, "exit status 3"));

    char path[512];
    snprintf(path, sizeof path, "%s/smbd", dir);
    unlink(path);
    rmdir(dir);
    if (saved)
        setenv("PATH", saved, 1);
    free(saved);
}

static void test_error_reset(void **state)
{
    (void)state;
    smbcim_error err;
    memset(&err, 0xAB, sizeof err); /* never initialised */
    smbcim_ctx *ctx = smbcim_open_schema_only(&err);
    assert_non_null(ctx);
    assert_int_equal(err.code, WBEM_S_NO_ERROR);
    smbcim_result *res = NULL;
    memset(&err, 0xAB, sizeof err);
    assert_int_equal(smbcim_exec_query(ctx, "SELECT * FROM NoSuchClass", &res, &err),
                     WBEM_E_INVALID_CLASS);
    assert_int_equal(err.code, WBEM_E_INVALID_CLASS);
    /* a second failure reports itself, not the first */
    assert_int_equal(smbcim_exec_query(ctx, "SELEKT", &res, &err), WBEM_E_INVALID_QUERY);
    assert_int_equal(err.code, WBEM_E_INVALID_QUERY);
    /* a success leaves it cleared */
    assert_int_equal(smbcim_exec_query(ctx, "SELECT * FROM Win32_Share", &res, &err), 0);
    assert_int_equal(err.code, WBEM_S_NO_ERROR);
    assert_string_equal(err.msg, "");
    smbcim_result_free(res);
    smbcim_close(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_duplicate_keys),
        cmocka_unit_test(test_merge_same_smbd_counts_once),
        cmocka_unit_test(test_names_as_windows_shows_them),
        cmocka_unit_test(test_synthesized_shares),
        cmocka_unit_test(test_associations_both_ways),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_projection_paths),
        cmocka_unit_test(test_hooks_match_generic),
        cmocka_unit_test(test_assoc_api_matches_wql),
        cmocka_unit_test(test_lazy_parts),
        cmocka_unit_test(test_node_loads),
        cmocka_unit_test(test_samba_version),
        cmocka_unit_test(test_error_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
