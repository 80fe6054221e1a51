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
    "schema/00_qualifiers.mof", "schema/01_cim_base.mof", "schema/10_win32_share.mof",
    "schema/20_win32_session.mof",
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

static const cim_qualifier *own_qual(const cim_qualifier *q, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (sc_streqi(q[i].name, name))
            return &q[i];
    return NULL;
}

/* The qualifiers as schema/00_qualifiers.mof declares them (DSP0004's
 * types and flavors), and the associations' own Association. */
static void test_schema_qualifiers(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cim_schema s;
    load_schema(&s, a);
    assert_true(s.nqualdecls >= 20);
    const cim_qualifier_decl *d = cim_schema_find_qualdecl(&s, "maxlen");
    assert_non_null(d);
    assert_int_equal(d->type, CIM_T_UINT32);
    assert_true(d->defval.null);
    assert_int_equal(d->scope, CIM_SCOPE_PROPERTY | CIM_SCOPE_METHOD | CIM_SCOPE_PARAMETER);
    d = cim_schema_find_qualdecl(&s, "Deprecated");
    assert_int_equal(d->type, CIM_T_STRING);
    assert_true(d->array);
    assert_false(d->tosubclass);
    assert_int_equal(d->scope, CIM_SCOPE_ANY);
    d = cim_schema_find_qualdecl(&s, "In");
    assert_true(d->defval.v.b);
    assert_false(d->overridable);

    /* MaxLen(64) is a uint32 (it was inferred from the value: uint64) */
    const cim_class *share = cim_schema_find(&s, "Win32_Share");
    const cim_qualifier *q = cim_property_qualifier(share, 0, "MaxLen");
    assert_int_equal(q->value.type, CIM_T_UINT32);
    assert_int_equal(q->value.v.u, 64);
    assert_true(q->overridable);
    assert_false(q->translatable);
    assert_non_null(q->decl);
    q = cim_class_qualifier(share, "Locale");
    assert_int_equal(q->value.type, CIM_T_SINT32);
    assert_int_equal(q->value.v.i, 1033);
    /* Key: DisableOverride; Description, DisplayName, Values: Translatable */
    q = cim_property_qualifier(share, 3, "Key");
    assert_false(q->overridable);
    assert_true(q->tosubclass);
    q = cim_property_qualifier(share, 3, "Description");
    assert_true(q->translatable);
    assert_true(q->overridable);
    assert_true(cim_property_qualifier(share, 0, "DisplayName")->translatable);
    assert_true(cim_property_qualifier(share, 8, "Values")->translatable);
    assert_false(cim_property_qualifier(share, 8, "ValueMap")->translatable);
    /* Deprecated is a string[] naming the replacement, restricted */
    q = cim_property_qualifier(share, 9, "Deprecated");
    assert_int_equal(q->value.type, CIM_T_STRING);
    assert_true(q->value.array);
    assert_int_equal(q->value.count, 1);
    assert_string_equal(q->value.v.elems[0].v.s, "Win32_Share.GetAccessMask");
    assert_false(q->tosubclass);
    /* the Win32_Share class qualifiers Windows declares */
    assert_true(cim_class_qualifier(share, "SupportsCreate")->value.v.b);
    assert_string_equal(cim_class_qualifier(share, "CreateBy")->value.v.s, "Create");
    assert_true(cim_class_qualifier(share, "SupportsDelete")->value.v.b);
    assert_string_equal(cim_class_qualifier(share, "DeleteBy")->value.v.s, "DeleteInstance");

    /* the associations declare Association themselves (DisableOverride,
     * as CIM_Dependency's) */
    const char *assocs[] = {"Win32_ConnectionShare", "Win32_SessionConnection"};
    for (size_t i = 0; i < 2; i++) {
        const cim_class *c = cim_schema_find(&s, assocs[i]);
        q = own_qual(c->quals, c->nquals, "Association");
        if (!q)
            fail_msg("%s does not declare Association", assocs[i]);
        assert_int_equal(q->value.type, CIM_T_BOOLEAN);
        assert_true(q->value.v.b);
        assert_false(q->overridable);
    }
    /* Abstract stays restricted */
    assert_false(own_qual(cim_schema_find(&s, "CIM_Dependency")->quals,
                          cim_schema_find(&s, "CIM_Dependency")->nquals, "Abstract")->tosubclass);
    cim_schema_free(&s);
    sc_arena_free(a);
}

/* Win32_Share's methods as learn.microsoft.com declares them. */
static void test_schema_methods(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cim_schema s;
    load_schema(&s, a);
    const cim_class *share = cim_schema_find(&s, "Win32_Share");
    assert_int_equal(share->nmethods, 4);
    const char *names[] = {"Create", "Delete", "GetAccessMask", "SetShareInfo"};
    const size_t nparams[] = {7, 0, 0, 3};
    for (size_t i = 0; i < 4; i++) {
        const cim_method_decl *m = &share->methods[i];
        assert_string_equal(m->name, names[i]);
        assert_int_equal(m->type, CIM_T_UINT32);
        assert_int_equal(m->nparams, nparams[i]);
        assert_true(m->local);
        assert_string_equal(m->origin, "Win32_Share");
        assert_int_equal(cim_class_method_index(share, names[i]), (int)i);
    }
    assert_int_equal(cim_class_method_index(share, "getaccessmask"), 2);
    assert_int_equal(cim_class_method_index(share, "Nope"), -1);
    const cim_method_decl *cr = &share->methods[0];
    const cim_qualifier *q = cim_method_qualifier(share, 0, "Static");
    assert_non_null(q);
    assert_true(q->value.v.b);
    assert_false(q->overridable);
    assert_null(cim_method_qualifier(share, 1, "Static"));
    q = cim_method_qualifier(share, 0, "ValueMap");
    assert_int_equal(q->value.count, 11);
    assert_string_equal(q->value.v.elems[6].v.s, "22");
    assert_string_equal(q->value.v.elems[10].v.s, "..");
    q = cim_method_qualifier(share, 0, "Values");
    assert_string_equal(q->value.v.elems[6].v.s, "Duplicate share");
    assert_string_equal(q->value.v.elems[10].v.s, "Other");
    assert_null(cim_method_qualifier(share, 2, "ValueMap")); /* a bit map, not a code */
    const char *pn[] = {"Path", "Name", "Type", "MaximumAllowed", "Description", "Password",
                        "Access"};
    const cim_type pt[] = {CIM_T_STRING, CIM_T_STRING, CIM_T_UINT32, CIM_T_UINT32,
                           CIM_T_STRING, CIM_T_STRING, CIM_T_STRING};
    for (size_t i = 0; i < 7; i++) {
        const cim_parameter *p = &cr->params[i];
        assert_string_equal(p->name, pn[i]);
        assert_int_equal(p->type, pt[i]);
        assert_false(p->array);
        q = own_qual(p->quals, p->nquals, "In");
        assert_non_null(q);
        assert_true(q->value.v.b);
        assert_int_equal(own_qual(p->quals, p->nquals, "Optional") != NULL, i >= 3);
        assert_null(own_qual(p->quals, p->nquals, "Out"));
    }
    /* Access: an embedded Win32_SecurityDescriptor, an EmbeddedObject string */
    q = own_qual(cr->params[6].quals, cr->params[6].nquals, "EmbeddedObject");
    assert_non_null(q);
    assert_true(q->value.v.b);
    assert_non_null(strstr(own_qual(cr->params[6].quals, cr->params[6].nquals,
                                    "Description")->value.v.s, "Win32_SecurityDescriptor"));
    const cim_method_decl *ssi = &share->methods[3];
    assert_string_equal(ssi->params[2].name, "Access");
    assert_non_null(own_qual(ssi->params[2].quals, ssi->params[2].nquals, "EmbeddedObject"));
    /* other classes have none; a subclass inherits them (not local) */
    assert_int_equal(cim_schema_find(&s, "Win32_ServerSession")->nmethods, 0);
    const char *sub = "class Sub : Win32_Share { [Override(\"Delete\")] uint32 Delete(); };";
    smbcim_error err = {0};
    if (mof_parse(&s, sub, strlen(sub), "sub.mof", &err) != WBEM_S_NO_ERROR)
        fail_msg("%s", err.msg);
    const cim_class *sc = cim_schema_find(&s, "Sub");
    assert_int_equal(sc->nmethods, 4);
    assert_false(sc->methods[0].local);
    assert_true(sc->methods[1].local); /* overridden in place */
    assert_string_equal(sc->methods[1].origin, "Win32_Share");
    assert_non_null(cim_method_qualifier(sc, 0, "Static")); /* propagated */
    assert_non_null(cim_method_qualifier(sc, 1, "ValueMap"));
    sc_buf b;
    sc_buf_init(&b);
    mof_print_class(&b, sc);
    assert_string_equal(b.data, "class Sub : Win32_Share\n{\n"
                                "\t[Override(\"Delete\")] uint32 Delete();\n};\n");
    sc_buf_free(&b);
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
    /* the qualifier declarations, printed, parse back the same */
    sc_buf qd;
    sc_buf_init(&qd);
    for (size_t i = 0; i < s.nqualdecls; i++)
        mof_print_qualifier_decl(&qd, s.qualdecls[i]);
    smbcim_error qerr = {0};
    if (mof_parse(&s2, qd.data, qd.len, "decls", &qerr) != WBEM_S_NO_ERROR)
        fail_msg("%s\n%s", qerr.msg, qd.data);
    assert_int_equal(s2.nqualdecls, s.nqualdecls);
    for (size_t i = 0; i < s.nqualdecls; i++) {
        const cim_qualifier_decl *x = s.qualdecls[i], *y = s2.qualdecls[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->array, y->array);
        assert_int_equal(x->scope, y->scope);
        assert_int_equal(x->tosubclass, y->tosubclass);
        assert_int_equal(x->overridable, y->overridable);
        assert_int_equal(x->translatable, y->translatable);
        assert_int_equal(x->defval.null, y->defval.null);
    }
    sc_buf_free(&qd);
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
            for (size_t k = 0; k < x->props[p].nquals; k++) {
                const cim_qualifier *qx = &x->props[p].quals[k], *qy = &y->props[p].quals[k];
                assert_int_equal(qx->value.type, qy->value.type);
                assert_int_equal(qx->tosubclass, qy->tosubclass);
                assert_int_equal(qx->overridable, qy->overridable);
                assert_int_equal(qx->translatable, qy->translatable);
            }
        }
        assert_int_equal(x->nmethods, y->nmethods);
        for (size_t m = 0; m < x->nmethods; m++) {
            const cim_method_decl *mx = &x->methods[m], *my = &y->methods[m];
            assert_string_equal(mx->name, my->name);
            assert_int_equal(mx->type, my->type);
            assert_int_equal(mx->nquals, my->nquals);
            assert_int_equal(mx->nparams, my->nparams);
            for (size_t k = 0; k < mx->nparams; k++) {
                assert_string_equal(mx->params[k].name, my->params[k].name);
                assert_int_equal(mx->params[k].type, my->params[k].type);
                assert_int_equal(mx->params[k].array, my->params[k].array);
                assert_int_equal(mx->params[k].nquals, my->params[k].nquals);
            }
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
        "/* block\n comment */\n"
        "[Abstract, Description(\"one \" \"two\\n\"), ValueMap{\"1\", \"2\"}] class Base {\n"
        "  [Key] string Id;\n"
        "  uint8 Small = 7;\n  sint32 Neg = -5;\n  real64 R = 2.5;\n  boolean F = false;\n"
        "  string List[] = {\"a\", \"b\"};\n  uint16 Fixed[4];\n  datetime When;\n char16 C;\n"
        "};\n"
        "[Association] class Link { [Key] Base Ref A; [Key] Base ref B; };\n"
        "class Derived : Base { [Override(\"Small\")] uint8 Small = 9; string Extra;\n"
        "  [Static, ValueMap{\"0\", \"..\"}] uint32 Make([In, Optional] string Name,\n"
        "      [in, out] Base ref Target, [Out] sint64 Codes[], [IN] Base REF All[4],\n"
        "      [EmbeddedInstance(\"Base\")] string Obj);\n"
        "  void Reset(); [Key : DisableOverride Translatable] real32 Ratio(); };\n";
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
    /* methods, without qualifier declarations: qualifiers as written */
    assert_int_equal(der->nmethods, 3);
    const cim_method_decl *mk = &der->methods[0];
    assert_string_equal(mk->name, "Make");
    assert_int_equal(mk->type, CIM_T_UINT32);
    assert_int_equal(mk->nparams, 5);
    assert_int_equal(mk->params[1].type, CIM_T_REFERENCE);
    assert_string_equal(mk->params[1].ref_class, "Base");
    assert_false(mk->params[1].array);
    assert_int_equal(mk->params[2].type, CIM_T_SINT64);
    assert_true(mk->params[2].array);
    assert_true(mk->params[3].array);
    assert_int_equal(mk->params[3].type, CIM_T_REFERENCE);
    assert_int_equal(mk->params[0].nquals, 2);
    assert_null(mk->params[0].quals[0].decl);
    assert_int_equal(der->methods[1].type, CIM_T_NONE);
    assert_int_equal(der->methods[1].nparams, 0);
    const cim_qualifier *rq = &der->methods[2].quals[0];
    assert_false(rq->overridable);
    assert_true(rq->translatable);
    assert_true(rq->tosubclass);
    assert_int_equal(der->methods[2].type, CIM_T_REAL32);
    sc_buf pb;
    sc_buf_init(&pb);
    mof_print_class(&pb, der);
    if (!strstr(pb.data, "\t[Static, ValueMap{\"0\", \"..\"}] uint32 Make(\n"
                         "\t\t[In, Optional] string Name,\n"
                         "\t\t[in, out] Base Ref Target,\n"
                         "\t\t[Out] sint64 Codes[],\n"
                         "\t\t[IN] Base Ref All[],\n"
                         "\t\t[EmbeddedInstance(\"Base\")] string Obj);\n"
                         "\tvoid Reset();\n"
                         "\t[Key : DisableOverride Translatable] real32 Ratio();\n};\n"))
        fail_msg("printed as:\n%s", pb.data);
    sc_buf_free(&pb);
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
    {"class A { string x(; };", WBEM_E_INVALID_SYNTAX, "t.mof:1:20: expected a parameter type"},
    {"class A { string x(string a b); };", WBEM_E_INVALID_SYNTAX,
     "t.mof:1:29: expected ',' or ')' in the parameters of x, found 'b'"},
    {"class A { string x(string a,); };", WBEM_E_INVALID_SYNTAX,
     "t.mof:1:29: expected a parameter after ',', found ')'"},
    {"class A { string x(string a, uint8 A); };", WBEM_E_INVALID_SYNTAX,
     "t.mof:1:30: parameter A of x declared twice"},
    {"class A { string x(Foo a); };", WBEM_E_INVALID_SYNTAX,
     "t.mof:1:20: unknown type 'Foo' (an embedded object is declared "
     "[EmbeddedInstance(\"Foo\")] string Name)"},
    {"class A { string x(string a = \"d\"); };", WBEM_E_INVALID_SYNTAX,
     "default values of parameters are not supported"},
    {"class A { string x() };", WBEM_E_INVALID_SYNTAX, "t.mof:1:22: expected ';'"},
    {"class A { string x(); uint8 X(); };", WBEM_E_INVALID_SYNTAX,
     "t.mof:1:23: method X declared twice"},
    {"class A { A Ref x(); };", WBEM_E_INVALID_SYNTAX, "method x cannot return a reference"},
    {"class A { void x; };", WBEM_E_INVALID_SYNTAX, "t.mof:1:11: unknown type 'void'"},
    {"class A { uint8 x(Nope Ref r); };", WBEM_E_INVALID_CLASS,
     "parameter r of A.x refers to undeclared class Nope"},
    {"class A { [Override(\"x\")] uint8 x(); };", WBEM_E_INVALID_SYNTAX,
     "t.mof:1:11: x has Override but the class has no superclass"},
    {"class A { real64 x = 1e999; };", WBEM_E_INVALID_SYNTAX, "real '1e999' out of range"},
    {"class A { uint8 x = 256; };", WBEM_E_INVALID_SYNTAX, "does not fit its type uint8"},
    {"class A { sint8 x = -129; };", WBEM_E_INVALID_SYNTAX, "does not fit its type sint8"},
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

/* ---- a schema with qualifier declarations (DSP0004, strict) ---- */
static const char strict_decls[] =
    "Qualifier Association : boolean = false, Scope(association),\n"              /* 1 */
    "    Flavor(DisableOverride, ToSubclass);\n"                                   /* 2 */
    "Qualifier Key : boolean = false, Scope(property, reference),\n"              /* 3 */
    "    Flavor(DisableOverride, ToSubclass);\n"                                   /* 4 */
    "Qualifier MaxLen : uint32 = null, Scope(property, method, parameter);\n"     /* 5 */
    "Qualifier Description : string = null, Scope(any),\n"                        /* 6 */
    "    Flavor(EnableOverride, ToSubclass, Translatable);\n"                      /* 7 */
    "Qualifier Deprecated : string[], Scope(any), Flavor(EnableOverride, Restricted);\n"
    "Qualifier In : boolean = true, Scope(parameter), Flavor(DisableOverride, ToSubclass);\n"
    "Qualifier EmbeddedInstance : string = null, Scope(property, method, parameter);\n"
    "Qualifier Gauge : sint8 = -3, Scope(property);\n";                           /* 11 */

static smbcim_status parse_strict(cim_schema *s, sc_arena *a, const char *text,
                                  smbcim_error *err)
{
    cim_schema_init(s, a);
    size_t n = strlen(strict_decls) + strlen(text);
    char *all = sc_alloc(a, n + 1);
    strcpy(all, strict_decls);
    strcat(all, text);
    return mof_parse(s, all, n, "t.mof", err);
}

static void test_strict(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cim_schema s;
    smbcim_error err = {0};
    const char *text =
        "[Association] class L {\n"
        "  [Key, MaxLen(5), Description(\"d\"), Deprecated(\"L.m\")] string k;\n"
        "  [Gauge, Description(\"r\") : Restricted DisableOverride] sint8 g;\n"
        "  [MaxLen(0x10)] uint8 m([In, MaxLen(7)] string p, [In(false)] L Ref r); };\n"
        "class B : L { [Key] string k; [Description(\"other\")] sint8 g; };\n";
    if (parse_strict(&s, a, text, &err) != WBEM_S_NO_ERROR)
        fail_msg("%s", err.msg);
    assert_int_equal(s.nqualdecls, 8);
    const cim_class *l = cim_schema_find(&s, "L");
    const cim_property *k = &l->props[0];
    assert_int_equal(k->quals[0].value.type, CIM_T_BOOLEAN);
    assert_false(k->quals[0].overridable);
    assert_int_equal(k->quals[1].value.type, CIM_T_UINT32);
    assert_true(k->quals[2].translatable);
    assert_true(k->quals[3].value.array); /* Deprecated("x") is a string[] */
    assert_int_equal(k->quals[3].value.count, 1);
    assert_false(k->quals[3].tosubclass);
    const cim_property *g = &l->props[1];
    assert_int_equal(g->quals[0].value.type, CIM_T_SINT8); /* bare: the default */
    assert_int_equal(g->quals[0].value.v.i, -3);
    assert_false(g->quals[1].tosubclass);
    assert_false(g->quals[1].overridable);
    assert_true(g->quals[1].translatable);
    const cim_method_decl *m = &l->methods[0];
    assert_int_equal(m->quals[0].value.type, CIM_T_UINT32);
    assert_int_equal(m->quals[0].value.v.u, 16);
    assert_true(m->params[0].quals[0].value.v.b);
    assert_false(m->params[1].quals[0].value.v.b);
    /* printed: only the flavors the declaration does not give */
    sc_buf b;
    sc_buf_init(&b);
    mof_print_class(&b, l);
    assert_string_equal(b.data,
        "[Association]\nclass L\n{\n"
        "\t[Key, MaxLen(5), Description(\"d\"), Deprecated{\"L.m\"}] string k;\n"
        "\t[Gauge(-3), Description(\"r\") : Restricted DisableOverride] sint8 g;\n"
        "\t[MaxLen(16)] uint8 m(\n\t\t[In, MaxLen(7)] string p,\n\t\t[In(FALSE)] L Ref r);\n"
        "};\n");
    /* and parses back the same in a schema with the same declarations */
    cim_schema s2;
    sc_arena *a2 = sc_arena_new();
    smbcim_error e2 = {0};
    if (parse_strict(&s2, a2, b.data, &e2) != WBEM_S_NO_ERROR)
        fail_msg("%s", e2.msg);
    sc_buf b2;
    sc_buf_init(&b2);
    mof_print_class(&b2, cim_schema_find(&s2, "L"));
    assert_string_equal(b.data, b2.data);
    sc_buf_free(&b);
    sc_buf_free(&b2);
    cim_schema_free(&s2);
    sc_arena_free(a2);
    cim_schema_free(&s);
    sc_arena_free(a);
}

static const struct {
    const char *text;
    smbcim_status code;
    const char *msg;
} strict_bad[] = {
    /* the text starts on line 12, after strict_decls */
    {"class A { [Frob] string x; };", WBEM_E_INVALID_QUALIFIER,
     "t.mof:12:12: qualifier Frob is not declared"},
    {"class A { [MaxLen(\"x\")] string x; };", WBEM_E_INVALID_QUALIFIER,
     "t.mof:12:19: the value of qualifier MaxLen does not fit its type uint32"},
    {"class A { [MaxLen(4294967296)] string x; };", WBEM_E_INVALID_QUALIFIER,
     "does not fit its type uint32"},
    {"class A { [MaxLen(-1)] string x; };", WBEM_E_INVALID_QUALIFIER,
     "does not fit its type uint32"},
    {"class A { [MaxLen{1}] string x; };", WBEM_E_INVALID_QUALIFIER,
     "t.mof:12:18: the value of qualifier MaxLen: an array given for a scalar"},
    {"class A { [Key] string x(); };", WBEM_E_INVALID_QUALIFIER,
     "t.mof:12:12: qualifier Key may not qualify a method (its scope is property, reference)"},
    {"\n[Key] class A { };", WBEM_E_INVALID_QUALIFIER,
     "t.mof:13:2: qualifier Key may not qualify a class"},
    {"class A { [In] string x; };", WBEM_E_INVALID_QUALIFIER,
     "qualifier In may not qualify a property (its scope is parameter)"},
    {"class A { uint8 f([MaxLen(2)] uint8 p, [Key] string q); };", WBEM_E_INVALID_QUALIFIER,
     "t.mof:12:41: qualifier Key may not qualify a parameter"},
    {"[Association] class A { [Gauge] A Ref r; };", WBEM_E_INVALID_QUALIFIER,
     "qualifier Gauge may not qualify a reference (its scope is property)"},
    {"class A { [EmbeddedInstance(\"A\")] uint8 x; };", WBEM_E_INVALID_QUALIFIER,
     "t.mof:12:12: qualifier EmbeddedInstance needs a string property, not uint8"},
    {"class A { uint8 f([EmbeddedInstance(\"Nope\")] string p); };", WBEM_E_INVALID_CLASS,
     "t.mof:12:1: parameter p of A.f: EmbeddedInstance names undeclared class Nope"},
    {"class A { [EmbeddedInstance(\"B\")] string x; };\nclass B { };", WBEM_S_NO_ERROR, ""},
    {"class A { string x; };\nclass B { A Ref r; };", WBEM_E_INVALID_QUALIFIER,
     "t.mof:13:11: B.r is a reference but B does not declare the Association qualifier"},
    {"[Association] class A { [Key] string k; };\nclass B : A { [Key(false)] string k; };",
     WBEM_E_INVALID_QUALIFIER,
     "t.mof:13:16: qualifier Key of B.k cannot be given another value: it is DisableOverride"},
    {"[Association] class A { };\n[Association(false)] class B : A { };", WBEM_E_INVALID_QUALIFIER,
     "t.mof:13:2: qualifier Association of B cannot be given another value"},
    {"class A { uint8 f([In] string p); };\nclass B : A { uint8 f([In(false)] string p); };",
     WBEM_S_NO_ERROR, ""}, /* parameters are not checked against the overridden method */
    {"Qualifier X : strng, Scope(any);", WBEM_E_INVALID_SYNTAX,
     "t.mof:12:15: qualifier X: 'strng' is not a CIM type"},
    {"Qualifier X : ToSubclass;", WBEM_E_INVALID_SYNTAX, "'ToSubclass' is not a CIM type"},
    {"Qualifier key : boolean, Scope(any);", WBEM_E_INVALID_SYNTAX,
     "t.mof:12:11: qualifier key is already declared"},
    {"Qualifier X : uint8 = 300, Scope(any);", WBEM_E_INVALID_SYNTAX,
     "t.mof:12:23: the default value of qualifier X does not fit its type uint8"},
    {"Qualifier X : boolean, Scope(frob);", WBEM_E_INVALID_SYNTAX, "unknown scope 'frob'"},
    {"Qualifier X : boolean, Flavor(ToSubclass);", WBEM_E_INVALID_SYNTAX,
     "expected Scope(...) in the declaration of qualifier X, found 'Flavor'"},
    {"Qualifier X : boolean, Scope(any), Flavor(Frob);", WBEM_E_INVALID_SYNTAX,
     "unknown flavor 'Frob'"},
    {"Qualifier X : boolean Scope(any);", WBEM_E_INVALID_SYNTAX, "expected ','"},
    {"Qualifier X : boolean, Scope(any)", WBEM_E_INVALID_SYNTAX, "expected ';'"},
};

static void test_strict_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(strict_bad) / sizeof(strict_bad[0]); i++) {
        sc_arena *a = sc_arena_new();
        cim_schema s;
        smbcim_error err = {0};
        smbcim_status st = parse_strict(&s, a, strict_bad[i].text, &err);
        if (st != strict_bad[i].code || !strstr(err.msg, strict_bad[i].msg))
            fail_msg("%s\n got %s '%s'\n want %s '%s'", strict_bad[i].text,
                     smbcim_status_name(st), err.msg, smbcim_status_name(strict_bad[i].code),
                     strict_bad[i].msg);
        cim_schema_free(&s);
        sc_arena_free(a);
    }
    /* the shipped session classes without their own Association qualifier
     * are refused, as pywbem refuses them */
    sc_arena *a = sc_arena_new();
    cim_schema s;
    cim_schema_init(&s, a);
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        char *text = slurp(schema_files[i], &len);
        smbcim_error err = {0};
        if (mof_parse(&s, text, len, schema_files[i], &err) != WBEM_S_NO_ERROR)
            fail_msg("%s", err.msg);
        free(text);
    }
    size_t len;
    char *text = slurp("schema/20_win32_session.mof", &len);
    char *p;
    while ((p = strstr(text, "[Association, ")))
        memmove(p + 1, p + 14, strlen(p + 14) + 1);
    smbcim_error err = {0};
    assert_int_equal(mof_parse(&s, text, strlen(text), "session.mof", &err),
                     WBEM_E_INVALID_QUALIFIER);
    assert_non_null(strstr(err.msg, "Win32_ConnectionShare.Antecedent is a reference but "
                                    "Win32_ConnectionShare does not declare the Association"));
    free(text);
    cim_schema_free(&s);
    sc_arena_free(a);
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

/* The method and parameter counts are capped the same way. */
static void test_limits_methods(void **state)
{
    (void)state;
    for (int round = 0; round < 4; round++) {
        bool params = round >= 2;
        int n = (params ? 256 : 1024) + (round % 2);
        sc_buf b;
        sc_buf_init(&b);
        sc_buf_puts(&b, "class M {\n");
        if (params) {
            sc_buf_puts(&b, "  uint32 F(");
            for (int i = 0; i < n; i++)
                sc_buf_printf(&b, "%sstring P%d", i ? ", " : "", i);
            sc_buf_puts(&b, ");\n");
        } else {
            for (int i = 0; i < n; i++)
                sc_buf_printf(&b, "  uint32 F%d();\n", i);
        }
        sc_buf_puts(&b, "};\n");
        sc_arena *a = sc_arena_new();
        cim_schema s;
        cim_schema_init(&s, a);
        smbcim_error err = {0};
        smbcim_status st = mof_parse(&s, b.data, b.len, "t.mof", &err);
        if (round % 2 == 0) {
            if (st != WBEM_S_NO_ERROR)
                fail_msg("%d: %s", n, err.msg);
            const cim_class *c = cim_schema_find(&s, "M");
            assert_int_equal(params ? c->methods[0].nparams : c->nmethods, (size_t)n);
        } else {
            assert_int_equal(st, WBEM_E_INVALID_SYNTAX);
            if (!strstr(err.msg, params ? "t.mof:2:" : "t.mof:1026:3: ") ||
                !strstr(err.msg, params ? "more than 256 parameters in method F"
                                        : "more than 1024 methods in class M"))
                fail_msg("%s", err.msg);
        }
        cim_schema_free(&s);
        sc_arena_free(a);
        sc_buf_free(&b);
    }
}

/* The depth of an inheritance chain is capped too (each inherited
 * qualifier is looked for up the chain). */
static void test_limits_depth(void **state)
{
    (void)state;
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_puts(&b, "[Association] class C0 { };\n");
    for (int i = 1; i < 257; i++)
        sc_buf_printf(&b, "[Association] class C%d : C%d { };\n", i, i - 1);
    sc_arena *a = sc_arena_new();
    cim_schema s;
    cim_schema_init(&s, a);
    smbcim_error err = {0};
    assert_int_equal(mof_parse(&s, b.data, b.len, "t.mof", &err), WBEM_E_INVALID_SYNTAX);
    if (!strstr(err.msg, "t.mof:257:28: class C256: an inheritance chain of more than 256 "
                         "classes"))
        fail_msg("%s", err.msg);
    assert_int_equal(s.nclasses, 256);
    cim_schema_free(&s);
    sc_arena_free(a);
    sc_buf_free(&b);
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
        cmocka_unit_test(test_schema_qualifiers),
        cmocka_unit_test(test_schema_methods),
        cmocka_unit_test(test_strict),
        cmocka_unit_test(test_strict_errors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_limits_methods),
        cmocka_unit_test(test_limits_depth),
        cmocka_unit_test(test_print_instance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
