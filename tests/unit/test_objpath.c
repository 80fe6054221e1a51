/*
 * test_objpath.c - object paths: every form, escapes, errors with their
 * positions, resolution against a class, __RELPATH text and canonical keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cim/cim.h"

static void parse_ok(sc_arena *a, const char *text, cim_objpath *p)
{
    smbcim_error err = {0};
    if (cim_path_parse(a, text, p, &err) != WBEM_S_NO_ERROR)
        fail_msg("%s: %s", text, err.msg);
}

static void test_forms(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cim_objpath p;
    parse_ok(a, "\\\\SRV01\\root\\cimv2:Win32_Share.Name=\"C$\"", &p);
    assert_string_equal(p.server, "SRV01");
    assert_string_equal(p.nspace, "root\\cimv2");
    assert_string_equal(p.class_name, "Win32_Share");
    assert_int_equal(p.nkeys, 1);
    assert_string_equal(p.keys[0].name, "Name");
    assert_string_equal(p.keys[0].value.v.s, "C$");

    parse_ok(a, "//fs.corp.example/root/cimv2:Win32_Share.Name='x'", &p);
    assert_string_equal(p.server, "fs.corp.example");
    assert_string_equal(p.nspace, "root/cimv2");

    parse_ok(a, "\\\\.\\root\\cimv2:Win32_Share", &p);
    assert_true(p.is_class);
    assert_string_equal(p.server, ".");

    parse_ok(a, "root\\cimv2:Win32_Share.Name=\"a.b:c\"", &p);
    assert_null(p.server);
    assert_string_equal(p.nspace, "root\\cimv2");
    assert_string_equal(p.keys[0].value.v.s, "a.b:c");

    parse_ok(a, "Win32_Share=\"IPC$\"", &p);
    assert_int_equal(p.nkeys, 1);
    assert_string_equal(p.keys[0].name, "");

    parse_ok(a, "Win32_WMISetting=@", &p);
    assert_true(p.singleton);

    parse_ok(a, "C.a=\"x,y=z\",b=5,c=TRUE,d=-3,e=0x10,f=false", &p);
    assert_int_equal(p.nkeys, 6);
    assert_string_equal(p.keys[0].value.v.s, "x,y=z");
    assert_int_equal(p.keys[1].value.type, CIM_T_UINT64);
    assert_int_equal(p.keys[1].value.v.u, 5);
    assert_int_equal(p.keys[2].value.type, CIM_T_BOOLEAN);
    assert_true(p.keys[2].value.v.b);
    assert_int_equal(p.keys[3].value.v.i, -3);
    assert_int_equal(p.keys[4].value.v.u, 16);
    assert_false(p.keys[5].value.v.b);

    /* escapes: \\ and \" and \' unescape; others are kept */
    parse_ok(a, "C.k=\"a\\\\b\\\"c\\'d\\ne\"", &p);
    assert_string_equal(p.keys[0].value.v.s, "a\\b\"c'd\\ne");

    /* a REF key embedding an escaped path */
    const char *assoc =
        "Win32_ConnectionShare.Antecedent=\"\\\\\\\\SRV01\\\\root\\\\cimv2:Win32_Share.Name=\\\"IPC$\\\"\","
        "Dependent=\"\\\\\\\\SRV01\\\\root\\\\cimv2:Win32_ServerConnection.ComputerName=\\\"10.0.0.5\\\","
        "ShareName=\\\"IPC$\\\",UserName=\\\"bob\\\"\"";
    parse_ok(a, assoc, &p);
    assert_int_equal(p.nkeys, 2);
    cim_objpath inner;
    parse_ok(a, p.keys[1].value.v.s, &inner);
    assert_string_equal(inner.class_name, "Win32_ServerConnection");
    assert_int_equal(inner.nkeys, 3);
    assert_string_equal(inner.keys[2].value.v.s, "bob");
    assert_string_equal(inner.server, "SRV01");
    sc_arena_free(a);
}

static const struct {
    const char *text;
    const char *msg;
} bad[] = {
    {"", "empty object path"},
    {".Name=\"x\"", "position 1: expected a class name"},
    {"Win32_Share.", "position 13: expected a key property name, found end of path"},
    {"Win32_Share.Name", "position 17: expected '=' after key name \"Name\", found end of path"},
    {"Win32_Share.Name=", "position 18: expected a value"},
    {"Win32_Share.Name=\"x", "position 20: expected a closing '\"'"},
    {"Win32_Share.Name='x", "position 20: expected a closing \"'\""},
    {"Win32_Share.Name=\"x\",", "position 22: expected a key property name"},
    {"Win32_Share.Name=\"x\" ", "position 21: expected ',' or the end of the path, found ' '"},
    {"Win32_Share.Name = \"x\"", "position 17: expected '='"},
    {"Win32_Share.Name=abc", "position 18: expected a value"},
    {"Win32_Share.Name=\"a\",Name=\"b\"", "position 22: key Name given twice"},
    {"Win32_Share.N=99999999999999999999", "position 15: expected a number within range"},
    {"Win32_Share.N=0x", "expected hexadecimal digits"},
    {"\\\\", "position 3: expected a server name"},
    {"\\\\srv", "position 6: expected '\\' and a namespace"},
    {"\\\\srv\\root", "expected a namespace followed by ':'"},
    {"\\\\srv\\:C", "expected a namespace name"},
    {":C.k=1", "position 1: expected a namespace name before ':'"},
    {"root cimv2:C.k=1", "position 5"},
    {"Win32_Share$x", "position 12: expected '.', '=' or the end of the path"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sc_arena *a = sc_arena_new();
        cim_objpath p;
        smbcim_error err = {0};
        smbcim_status st = cim_path_parse(a, bad[i].text, &p, &err);
        if (st != WBEM_E_INVALID_OBJECT_PATH || !strstr(err.msg, bad[i].msg))
            fail_msg("'%s': got %s '%s', want '%s'", bad[i].text, smbcim_status_name(st), err.msg,
                     bad[i].msg);
        sc_arena_free(a);
    }
    /* 256 keys parse; the 257th is refused where it starts */
    for (int n = 256; n <= 257; n++) {
        sc_buf b;
        sc_buf_init(&b);
        sc_buf_puts(&b, "A.");
        for (int i = 0; i < n; i++)
            sc_buf_printf(&b, "%sk%03d=1", i ? "," : "", i);
        sc_arena *a = sc_arena_new();
        cim_objpath p;
        smbcim_error err = {0};
        smbcim_status st = cim_path_parse(a, b.data, &p, &err);
        if (n == 256) {
            assert_int_equal(st, WBEM_S_NO_ERROR);
            assert_int_equal(p.nkeys, 256);
        } else {
            assert_int_equal(st, WBEM_E_INVALID_OBJECT_PATH);
            /* "A." then 256 keys of "k000=1," (7 characters) */
            assert_string_equal(err.msg, "invalid object path at position 1795: more than 256 keys");
        }
        sc_arena_free(a);
        sc_buf_free(&b);
    }
}

/* A class with the given keys (name, type), built by hand. */
static cim_class *make_class(sc_arena *a, const char *name, const char *const *keys,
                             const cim_type *types, size_t n, const char *nonkey)
{
    cim_class *c = sc_alloc(a, sizeof(*c));
    c->name = name;
    cim_property *p = sc_alloc_array(a, n + 1, sizeof(*p));
    for (size_t i = 0; i < n; i++) {
        p[i].name = keys[i];
        p[i].type = types[i];
        p[i].key = true;
    }
    p[n].name = nonkey;
    p[n].type = CIM_T_STRING;
    c->props = p;
    c->nprops = n + 1;
    c->nkeys = n;
    return c;
}

static void test_resolve(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    const char *ck[] = {"UserName", "ComputerName", "ShareName"};
    cim_type ct[] = {CIM_T_STRING, CIM_T_STRING, CIM_T_STRING};
    cim_class *conn = make_class(a, "Win32_ServerConnection", ck, ct, 3, "ActiveTime");
    const char *sk[] = {"Name"};
    cim_type st[] = {CIM_T_STRING};
    cim_class *share = make_class(a, "Win32_Share", sk, st, 1, "Path");
    const char *nk[] = {"Id"};
    cim_type nt[] = {CIM_T_UINT32};
    cim_class *num = make_class(a, "Num", nk, nt, 1, "X");
    const char *rk[] = {"Antecedent", "Dependent"};
    cim_type rt[] = {CIM_T_REFERENCE, CIM_T_REFERENCE};
    cim_class *assoc = make_class(a, "Assoc", rk, rt, 2, "Y");

    cim_objpath p;
    smbcim_error err = {0};
    parse_ok(a, "win32_serverconnection.username=\"u\",SHARENAME=\"s\",computername=\"c\"", &p);
    assert_int_equal(cim_path_resolve(a, &p, conn, &err), WBEM_S_NO_ERROR);
    /* keys sorted, names in the class's spelling */
    assert_string_equal(p.keys[0].name, "ComputerName");
    assert_string_equal(p.keys[1].name, "ShareName");
    assert_string_equal(p.keys[2].name, "UserName");
    assert_string_equal(cim_path_format(a, &p, false),
                        "Win32_ServerConnection.ComputerName=\"c\",ShareName=\"s\",UserName=\"u\"");

    parse_ok(a, "Win32_Share=\"IPC$\"", &p);
    assert_int_equal(cim_path_resolve(a, &p, share, &err), WBEM_S_NO_ERROR);
    assert_string_equal(p.keys[0].name, "Name");

    parse_ok(a, "Num.Id=\"42\"", &p);
    assert_int_equal(cim_path_resolve(a, &p, num, &err), WBEM_S_NO_ERROR);
    assert_int_equal(p.keys[0].value.type, CIM_T_UINT32);
    assert_int_equal(p.keys[0].value.v.u, 42);

    parse_ok(a, "Assoc.Antecedent=\"A.k=1\",Dependent='B.k=\"2\"'", &p);
    assert_int_equal(cim_path_resolve(a, &p, assoc, &err), WBEM_S_NO_ERROR);
    assert_int_equal(p.keys[0].value.type, CIM_T_REFERENCE);

    static const struct {
        const char *text;
        int cls;
        const char *msg;
    } fails[] = {
        {"Win32_ServerConnection=\"x\"", 0, "exactly one key"},
        {"Win32_ServerConnection.UserName=\"u\",ShareName=\"s\"", 0, "lacks key ComputerName"},
        {"Win32_ServerConnection.UserName=\"u\",ShareName=\"s\",ComputerName=\"c\",ActiveTime=5", 0,
         "ActiveTime is not a key"},
        {"Win32_Share.Nme=\"x\"", 1, "has no property Nme"},
        {"Num.Id=\"abc\"", 2, "must be an integer"},
        {"Num.Id=-1", 2, "must be an integer (negative)"},
        {"Assoc.Antecedent=\"not a path\",Dependent=\"B.k=1\"", 3, "must be an object path"},
        {"Assoc.Antecedent=5,Dependent=\"B.k=1\"", 3, "must be an object path"},
    };
    cim_class *classes[] = {conn, share, num, assoc};
    for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
        smbcim_error e = {0};
        parse_ok(a, fails[i].text, &p);
        smbcim_status s = cim_path_resolve(a, &p, classes[fails[i].cls], &e);
        if (s != WBEM_E_INVALID_OBJECT_PATH || !strstr(e.msg, fails[i].msg))
            fail_msg("%s: got '%s', want '%s'", fails[i].text, e.msg, fails[i].msg);
    }
    sc_arena_free(a);
}

static void test_relpath(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    const char *ck[] = {"UserName", "ComputerName", "ShareName"};
    cim_type ct[] = {CIM_T_STRING, CIM_T_STRING, CIM_T_STRING};
    cim_class *conn = make_class(a, "Win32_ServerConnection", ck, ct, 3, "ActiveTime");
    cim_instance *inst = cim_instance_new(a, conn);
    inst->values[0] = cim_str(CIM_T_STRING, "b\"o\\b");
    inst->values[1] = cim_str(CIM_T_STRING, "[fe80::1]");
    inst->values[2] = cim_str(CIM_T_STRING, "Finance Data");
    const char *rel = cim_instance_relpath(a, inst);
    assert_string_equal(rel, "Win32_ServerConnection.ComputerName=\"[fe80::1]\","
                             "ShareName=\"Finance Data\",UserName=\"b\\\"o\\\\b\"");
    assert_string_equal(cim_full_path(a, "FS01", "root\\cimv2", rel),
                        "\\\\FS01\\root\\cimv2:Win32_ServerConnection.ComputerName=\"[fe80::1]\","
                        "ShareName=\"Finance Data\",UserName=\"b\\\"o\\\\b\"");
    /* the path parses back to the same values */
    cim_objpath p;
    parse_ok(a, rel, &p);
    assert_string_equal(p.keys[2].value.v.s, "b\"o\\b");
    /* both paths at once: the same texts, the relative path the tail */
    const char *rp = NULL;
    const char *fp = cim_instance_paths(a, inst, "FS01", "root\\cimv2", &rp);
    assert_string_equal(fp, cim_full_path(a, "FS01", "root\\cimv2", rel));
    assert_string_equal(rp, rel);
    assert_ptr_equal(rp, fp + strlen(fp) - strlen(rel));
    /* the same path from the key values alone: names in any order and case,
     * names that are not keys ignored, spellings applied as for an instance */
    const char *kn[] = {"sharename", "Caption", "USERNAME", "computerName"};
    cim_value kv[] = {cim_str(CIM_T_STRING, "Finance Data"), cim_str(CIM_T_STRING, "x"),
                      cim_str(CIM_T_STRING, "b\"o\\b"), cim_str(CIM_T_STRING, "[fe80::1]")};
    assert_string_equal(cim_keys_relpath_spelled(a, conn, 4, kn, kv, NULL), rel);
    static const char *const sp[] = {"computername", "sharename", NULL};
    assert_string_equal(cim_keys_relpath_spelled(a, conn, 4, kn, kv, sp),
                        cim_instance_relpath_spelled(a, inst, sp));
    assert_non_null(strstr(cim_keys_relpath_spelled(a, conn, 4, kn, kv, sp),
                           ".computername=\"[fe80::1]\",sharename="));
    assert_null(cim_keys_relpath_spelled(a, conn, 3, kn, kv, NULL)); /* no ComputerName */
    kv[2] = cim_null(CIM_T_STRING);
    assert_null(cim_keys_relpath_spelled(a, conn, 4, kn, kv, NULL)); /* a NULL key */
    /* a NULL key or a missing one: no path */
    inst->values[0] = cim_null(CIM_T_STRING);
    assert_null(cim_instance_relpath(a, inst));
    assert_null(cim_instance_paths(a, inst, "FS01", "root\\cimv2", &rp));
    assert_null(rp);
    /* a numeric key: the same paths as cim_instance_relpath and cim_full_path */
    const char *nk[] = {"FileId"};
    cim_type nt[] = {CIM_T_UINT64};
    cim_class *of = make_class(a, "MSFT_SmbOpenFile", nk, nt, 1, "Path");
    cim_instance *oi = cim_instance_new(a, of);
    oi->values[0] = cim_u(CIM_T_UINT64, 18446744073709551615ull);
    fp = cim_instance_paths(a, oi, "FS01", "root\\cimv2", &rp);
    assert_string_equal(rp, "MSFT_SmbOpenFile.FileId=18446744073709551615");
    assert_string_equal(fp, "\\\\FS01\\root\\cimv2:MSFT_SmbOpenFile.FileId=18446744073709551615");
    sc_arena_free(a);
}

static void test_normkey(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    static const char *const same[][2] = {
        {"WIN32_SHARE.NAME='ipc$'", "\\\\X\\root\\cimv2:Win32_Share.Name=\"IPC$\""},
        {"Win32_Share.Name=\"Données\"", "win32_share.name=\"DONNÉES\""},
        {"C.b=1,a=\"x\"", "c.A='X',B=1"},
        {"C.k=\"\\\\\\\\S\\\\root\\\\cimv2:D.n=\\\"v\\\"\"", "C.k='D.N=\"V\"'"},
        {"//srv/root/cimv2:C.k=5", "C.k=5"},
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        const char *x = cim_path_normkey(a, same[i][0]), *y = cim_path_normkey(a, same[i][1]);
        assert_non_null(x);
        assert_non_null(y);
        if (strcmp(x, y) != 0)
            fail_msg("%s and %s: %s vs %s", same[i][0], same[i][1], x, y);
    }
    static const char *const differ[][2] = {
        {"Win32_Share.Name=\"a\"", "Win32_Share.Name=\"b\""},
        {"A.k=1", "B.k=1"},
        {"C.k='D.n=\"v\"'", "C.k='D.n=\"w\"'"},
        {"C.a=1", "C.a=1,b=2"},
    };
    for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++)
        assert_string_not_equal(cim_path_normkey(a, differ[i][0]), cim_path_normkey(a, differ[i][1]));
    assert_null(cim_path_normkey(a, "not a path"));
    sc_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_relpath),
        cmocka_unit_test(test_normkey),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
