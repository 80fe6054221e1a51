/*
 * test_mof.c - the MOF module: the shipped schema (classes, property
 * order, types, keys, qualifiers), print/parse round trips, and malformed
 * MOF with the error's code and LINE:COL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mof/mof.h"

static const char *const schema_files[] = {
    "schema/00_cim_base.mof", "schema/10_win32_share.mof", "schema/20_win32_session.mof",
};

static char *slurp(const char *rel, size_t *len)
{
    const char *dir = getenv("SMBCIM_SRCDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    sc_buf b;
    sc_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sc_buf_add(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return sc_buf_take(&b);
}

static void load_schema(cim_schema *s, sc_arena *a)
{
    cim_schema_init(s, a);
    for (size_t i = 0; i < sizeof(schema_files) / sizeof(schema_files[0]); i++) {
        size_t len;
        char *text = slurp(schema_files[i], &len);
        smbcim_error err = {0};
        if (mof_parse(s, text, len, schema_files[i], &err) != WBEM_S_NO_ERROR)
            fail_msg("%s", err.msg);
        free(text);
    }
}

static void expect_props(const cim_class *c, const char *const *names, const cim_type *types,
                         const char *keys)
{
    size_t n = 0;
    while (names[n])
        n++;
    if (c->nprops != n)
        fail_msg("%s has %zu properties, want %zu", c->name, c->nprops, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(c->props[i].name, names[i]);
        if (c->props[i].type != types[i])
            fail_msg("%s.%s is %s", c->name, names[i], cim_type_name(c->props[i].type));
        assert_int_equal(c->props[i].key, keys[i] == 'K');
    }
}

static void test_schema(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cim_schema s;
    load_schema(&s, a);
    assert_int_equal(s.nclasses, 8);

    const cim_class *share = cim_schema_find(&s, "win32_share");
    assert_non_null(share);
    const char *sn[] = {"Caption", "Description", "InstallDate", "Name", "Status",
                        "AllowMaximum", "MaximumAllowed", "Path", "Type", "AccessMask", NULL};
    cim_type st[] = {CIM_T_STRING, CIM_T_STRING, CIM_T_DATETIME, CIM_T_STRING, CIM_T_STRING,
                     CIM_T_BOOLEAN, CIM_T_UINT32, CIM_T_STRING, CIM_T_UINT32, CIM_T_UINT32};
    expect_props(share, sn, st, "...K......");
    assert_string_equal(share->props[3].origin, "CIM_ManagedSystemElement");
    assert_true(share->props[3].local); /* Override("Name") */
    assert_false(share->props[0].local);
    assert_string_equal(share->super_name, "CIM_LogicalElement");
    assert_false(share->abstract);

    const cim_class *conn = cim_schema_find(&s, "Win32_ServerConnection");
    const char *cn[] = {"Caption", "Description", "InstallDate", "Name", "Status", "ComputerName",
                        "ShareName", "UserName", "ActiveTime", "ConnectionID", "NumberOfFiles",
                        "NumberOfUsers", NULL};
    cim_type ctp[] = {CIM_T_STRING, CIM_T_STRING, CIM_T_DATETIME, CIM_T_STRING, CIM_T_STRING,
                      CIM_T_STRING, CIM_T_STRING, CIM_T_STRING, CIM_T_UINT32, CIM_T_UINT32,
                      CIM_T_UINT32, CIM_T_UINT32};
    expect_props(conn, cn, ctp, ".....KKK....");
    assert_int_equal(conn->nkeys, 3);

    const cim_class *sess = cim_schema_find(&s, "Win32_ServerSession");
    const char *ssn[] = {"Caption", "Description", "InstallDate", "Name", "Status", "ComputerName",
                         "UserName", "ActiveTime", "IdleTime", "ResourcesOpened", "SessionType",
                         "ClientType", "TransportName", NULL};
    cim_type sst[] = {CIM_T_STRING, CIM_T_STRING, CIM_T_DATETIME, CIM_T_STRING, CIM_T_STRING,
                      CIM_T_STRING, CIM_T_STRING, CIM_T_UINT32, CIM_T_UINT32, CIM_T_UINT32,
                      CIM_T_UINT32, CIM_T_STRING, CIM_T_STRING};
    expect_props(sess, ssn, sst, ".....KK......");

    const char *an[] = {"Antecedent", "Dependent", NULL};
    cim_type at[] = {CIM_T_REFERENCE, CIM_T_REFERENCE};
    const cim_class *cs = cim_schema_find(&s, "Win32_ConnectionShare");
    expect_props(cs, an, at, "KK");
    assert_string_equal(cs->props[0].ref_class, "Win32_Share");
    assert_string_equal(cs->props[1].ref_class, "Win32_ServerConnection");
    assert_true(cs->association);
    assert_false(cs->abstract);
    const cim_class *sc = cim_schema_find(&s, "Win32_SessionConnection");
    expect_props(sc, an, at, "KK");
    assert_string_equal(sc->props[0].ref_class, "Win32_ServerSession");

    const cim_class *dep = cim_schema_find(&s, "CIM_Dependency");
    assert_true(dep->abstract);
    assert_true(dep->association);
    assert_string_equal(dep->props[0].ref_class, "CIM_ManagedSystemElement");
    assert_true(cim_schema_find(&s, "CIM_ManagedSystemElement")->abstract);
    assert_true(cim_schema_find(&s, "CIM_LogicalElement")->abstract);

    /* qualifiers: class ones, inherited Association, property ones */
    const cim_qualifier *q = cim_class_qualifier(cs, "Provider");
    assert_non_null(q);
    assert_string_equal(q->value.v.s, "SessionProvider");
    assert_non_null(cim_class_qualifier(cs, "Association"));
    assert_null(cim_class_qualifier(cs, "Abstract")); /* restricted */
    q = cim_property_qualifier(conn, 8, "Units");
    assert_non_null(q);
    assert_string_equal(q->value.v.s, "seconds");
    q = cim_property_qualifier(share, 8, "Values");
    assert_non_null(q);
    assert_true(q->value.array);
    assert_int_equal(q->value.count, 8);
    assert_string_equal(q->value.v.elems[7].v.s, "IPC Admin");
    q = cim_property_qualifier(share, 0, "MaxLen");
    assert_non_null(q);
    assert_int_equal(q->value.v.u, 64);
    q = cim_property_qualifier(cs, 0, "Override");
    assert_string_equal(q->value.v.s, "Antecedent");
    cim_schema_free(&s);
    sc_arena_free(a);
}

/* Each class printed as MOF parses back into the same class. */
static void test_round_trip(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cim_schema s;
    load_schema(&s, a);
    sc_arena *a2 = sc_arena_new();
    cim_schema s2;
    cim_schema_init(&s2, a2);
    for (size_t i = 0; i < s.nclasses; i++) {
        sc_buf b;
        sc_buf_init(&b);
        mof_print_class(&b, s.classes[i]);
        smbcim_error err = {0};
        if (mof_parse(&s2, b.data, b.len, "printed", &err) != WBEM_S_NO_ERROR)
            fail_msg("%s printed as\n%s\ndoes not parse: %s", s.classes[i]->name, b.data, err.msg);
        const cim_class *x = s.classes[i], *y = cim_schema_find(&s2, x->name);
        assert_int_equal(x->nprops, y->nprops);
        assert_int_equal(x->nkeys, y->nkeys);
        assert_int_equal(x->nquals, y->nquals);
        assert_int_equal(x->abstract, y->abstract);
        assert_int_equal(x->association, y->association);
        for (size_t p = 0; p < x->nprops; p++) {
            assert_string_equal(x->props[p].name, y->props[p].name);
            assert_int_equal(x->props[p].type, y->props[p].type);
            assert_int_equal(x->props[p].nquals, y->props[p].nquals);
        }
        sc_buf b2;
        sc_buf_init(&b2);
        mof_print_class(&b2, y);
        assert_string_equal(b.data, b2.data);
        sc_buf_free(&b);
        sc_buf_free(&b2);
    }
    cim_schema_free(&s2);
    sc_arena_free(a2);
    cim_schema_free(&s);
    sc_arena_free(a);
}

static void test_syntax(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cim_schema s;
    cim_schema_init(&s, a);
    const char *text =
        "// comment\n#pragma namespace(\"\\\\\\\\.\\\\root\\\\cimv2\")\n"
        "qualifier Key : boolean = false, scope(property, reference), flavor(DisableOverride);\n"
        "/* block\n comment */\n"
        "[Abstract, Description(\"one \" \"two\\n\"), ValueMap{\"1\", \"2\"}] class Base {\n"
        "  [Key] string Id;\n"
        "  uint8 Small = 7;\n  sint32 Neg = -5;\n  real64 R = 2.5;\n  boolean F = false;\n"
        "  string List[] = {\"a\", \"b\"};\n  uint16 Fixed[4];\n  datetime When;\n char16 C;\n"
        "};\n"
        "[Association] class Link { [Key] Base Ref A; [Key] Base ref B; };\n"
        "class Derived : Base { [Override(\"Small\")] uint8 Small = 9; string Extra; };\n";
    smbcim_error err = {0};
    if (mof_parse(&s, text, strlen(text), "t.mof", &err) != WBEM_S_NO_ERROR)
        fail_msg("%s", err.msg);
    const cim_class *base = cim_schema_find(&s, "Base");
    assert_string_equal(cim_class_qualifier(base, "Description")->value.v.s, "one two\n");
    assert_int_equal(base->props[1].defval.v.u, 7);
    assert_int_equal(base->props[2].defval.v.i, -5);
    assert_true(base->props[5].array);
    assert_int_equal(base->props[5].defval.count, 2);
    assert_true(base->props[6].array);
    const cim_class *der = cim_schema_find(&s, "Derived");
    assert_int_equal(der->nprops, 10);
    assert_int_equal(der->props[1].defval.v.u, 9);
    assert_true(der->props[1].local);
    assert_string_equal(der->props[1].origin, "Base");
    assert_false(der->abstract);
    assert_true(cim_schema_find(&s, "Link")->association);
    cim_schema_free(&s);
    sc_arena_free(a);
}

static const struct {
    const char *text;
    smbcim_status code;
    const char *msg;
} bad[] = {
    {"class A { string x }", WBEM_E_INVALID_SYNTAX, "t.mof:1:20: expected ';'"},
    {"class A { strng x; };", WBEM_E_INVALID_SYNTAX, "t.mof:1:11: unknown type 'strng'"},
    {"class A : Nope { };", WBEM_E_INVALID_CLASS, "t.mof:1:11: superclass Nope is not declared"},
    {"class A { };\nclass A { };", WBEM_E_INVALID_SYNTAX, "t.mof:2:7: class A is already declared"},
    {"class A { string x; string X; };", WBEM_E_INVALID_SYNTAX, "t.mof:1:21: property X declared twice"},
    {"class A { Nope Ref r; };", WBEM_E_INVALID_CLASS, "refers to undeclared class Nope"},
    {"class A { uint8 x = \"s\"; };", WBEM_E_INVALID_SYNTAX, "t.mof:1:19: default value of x"},
    {"class A { uint8 x = -1; };", WBEM_E_INVALID_SYNTAX, "does not fit its type uint8"},
    {"class A { string x = \"abc; };", WBEM_E_INVALID_SYNTAX, "t.mof:1:22: unterminated string"},
    {"/* never closed", WBEM_E_INVALID_SYNTAX, "t.mof:1:1: unterminated comment"},
    {"class A { string x(); };", WBEM_E_INVALID_SYNTAX, "method declarations are not supported"},
    {"instance of A { };", WBEM_E_NOT_SUPPORTED, "t.mof:1:1: instance declarations"},
    {"#pragma frobnicate(1)", WBEM_E_INVALID_SYNTAX, "unknown pragma 'frobnicate'"},
    {"#pragma include(\"x.mof\")", WBEM_E_INVALID_SYNTAX, "not supported"},
    {"[Key Description(\"x\")] class A { };", WBEM_E_INVALID_SYNTAX, "expected ',' or ']'"},
    {"[Key, Key] class A { };", WBEM_E_INVALID_SYNTAX, "qualifier Key given twice"},
    {"class A { string x = \"a\\q\"; };", WBEM_E_INVALID_SYNTAX, "unknown escape"},
    {"class { };", WBEM_E_INVALID_SYNTAX, "t.mof:1:7: expected a class name"},
    {"class A { string x; }", WBEM_E_INVALID_SYNTAX, "expected ';', found end of file"},
    {"class A { string x;", WBEM_E_INVALID_SYNTAX, "unexpected end of file in class A"},
    {"class A { [Override(\"y\")] string y; };", WBEM_E_INVALID_SYNTAX, "t.mof:1:11: y has Override"},
    {"class A { uint32 x = 99999999999999999999; };", WBEM_E_INVALID_SYNTAX, "out of range"},
    {"class A { uint32 x = 12ab; };", WBEM_E_INVALID_SYNTAX, "malformed number"},
    {"class A { string x; } ;\n\n  @", WBEM_E_INVALID_SYNTAX, "t.mof:3:3: unexpected character '@'"},
    {"enum X { };", WBEM_E_INVALID_SYNTAX, "expected a class declaration, found 'enum'"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sc_arena *a = sc_arena_new();
        cim_schema s;
        cim_schema_init(&s, a);
        smbcim_error err = {0};
        smbcim_status st = mof_parse(&s, bad[i].text, strlen(bad[i].text), "t.mof", &err);
        if (st != bad[i].code || !strstr(err.msg, bad[i].msg))
            fail_msg("%s\n got %s '%s'\n want %s '%s'", bad[i].text, smbcim_status_name(st),
                     err.msg, smbcim_status_name(bad[i].code), bad[i].msg);
        cim_schema_free(&s);
        sc_arena_free(a);
    }
}

/* Limits: the property and qualifier counts (each duplicate check scans
 * the list so far; 60,000 properties used to take minutes). */
static void test_limits(void **state)
{
    (void)state;
    for (int round = 0; round < 4; round++) {
        bool quals = round >= 2;
        int n = (quals ? 256 : 4096) + (round % 2);
        sc_buf b;
        sc_buf_init(&b);
        if (quals) {
            sc_buf_puts(&b, "[");
            for (int i = 0; i < n; i++)
                sc_buf_printf(&b, "%sQ%d", i ? "," : "", i);
            sc_buf_puts(&b, "] class Q { };\n");
        } else {
            sc_buf_puts(&b, "class Big {\n");
            for (int i = 0; i < n; i++)
                sc_buf_printf(&b, "  string P%d;\n", i);
            sc_buf_puts(&b, "};\n");
        }
        sc_arena *a = sc_arena_new();
        cim_schema s;
        cim_schema_init(&s, a);
        smbcim_error err = {0};
        smbcim_status st = mof_parse(&s, b.data, b.len, "t.mof", &err);
        if (round % 2 == 0) {
            if (st != WBEM_S_NO_ERROR)
                fail_msg("%d: %s", n, err.msg);
        } else {
            assert_int_equal(st, WBEM_E_INVALID_SYNTAX);
            assert_non_null(strstr(err.msg, quals ? "t.mof:1:" : "t.mof:4098:3: more than 4096"));
            assert_non_null(strstr(err.msg, quals ? "more than 256 qualifiers" : "in class Big"));
        }
        cim_schema_free(&s);
        sc_arena_free(a);
        sc_buf_free(&b);
    }
}

static void test_print_instance(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cim_schema s;
    load_schema(&s, a);
    cim_instance *inst = cim_instance_new(a, cim_schema_find(&s, "Win32_Share"));
    cim_instance_set(inst, "Name", cim_str(CIM_T_STRING, "IPC$"));
    cim_instance_set(inst, "Caption", cim_str(CIM_T_STRING, "Remote \"IPC\" \\"));
    cim_instance_set(inst, "AllowMaximum", cim_bool(true));
    cim_instance_set(inst, "Type", cim_u(CIM_T_UINT32, 2147483651u));
    sc_buf b;
    sc_buf_init(&b);
    mof_print_instance(&b, inst);
    assert_string_equal(b.data, "instance of Win32_Share\n{\n"
                                "\tCaption = \"Remote \\\"IPC\\\" \\\\\";\n"
                                "\tName = \"IPC$\";\n"
                                "\tAllowMaximum = TRUE;\n"
                                "\tType = 2147483651;\n};\n");
    sc_buf_free(&b);
    cim_schema_free(&s);
    sc_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_print_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
