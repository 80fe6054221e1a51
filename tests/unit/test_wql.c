/*
 * test_wql.c - the WQL module: parse trees (printed compactly), syntax
 * errors with their codes and columns, LIKE, and evaluation semantics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wql/wql.h"

static const char *opname(wql_op op)
{
    static const char *const n[] = {"?", "=", "<>", "<", ">", "<=", ">=", "LIKE", "NOTLIKE",
                                    "ISA", "ISNULL", "ISNOTNULL", "AND", "OR", "NOT"};
    return n[op];
}

static void print_lit(sc_buf *b, const wql_literal *l)
{
    switch (l->kind) {
    case WQL_LIT_STRING: sc_buf_printf(b, "'%s'", l->s); break;
    case WQL_LIT_INT:
        if (l->big)
            sc_buf_printf(b, "%llu", (unsigned long long)l->u);
        else
            sc_buf_printf(b, "%lld", (long long)l->i);
        break;
    case WQL_LIT_REAL: sc_buf_printf(b, "%g", l->r); break;
    case WQL_LIT_BOOL: sc_buf_puts(b, l->b ? "TRUE" : "FALSE"); break;
    case WQL_LIT_NULL: sc_buf_puts(b, "NULL"); break;
    }
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
        sc_buf_puts(b, e->prop);
        if (e->op != WQL_OP_IS_NULL && e->op != WQL_OP_IS_NOT_NULL) {
            sc_buf_putc(b, ' ');
            print_lit(b, &e->lit);
        }
    }
    sc_buf_putc(b, ')');
}

static void print_query(sc_buf *b, const wql_query *q)
{
    if (q->kind == WQL_SELECT) {
        sc_buf_puts(b, "SELECT ");
        if (q->star)
            sc_buf_puts(b, "*");
        for (size_t i = 0; i < q->nprops; i++)
            sc_buf_printf(b, "%s%s@%zu", i ? "," : "", q->props[i], q->props_pos[i]);
        sc_buf_printf(b, " FROM %s@%zu", q->class_name, q->class_pos);
        if (q->where) {
            sc_buf_puts(b, " WHERE ");
            print_expr(b, q->where);
        }
        return;
    }
    sc_buf_printf(b, "%s {%s}@%zu", q->kind == WQL_ASSOCIATORS ? "ASSOC" : "REFS", q->path,
                  q->path_pos);
    if (q->assoc_class) sc_buf_printf(b, " AssocClass=%s", q->assoc_class);
    if (q->result_class) sc_buf_printf(b, " ResultClass=%s", q->result_class);
    if (q->result_role) sc_buf_printf(b, " ResultRole=%s", q->result_role);
    if (q->role) sc_buf_printf(b, " Role=%s", q->role);
    if (q->required_qualifier) sc_buf_printf(b, " RequiredQualifier=%s", q->required_qualifier);
    if (q->required_assoc_qualifier) sc_buf_printf(b, " RequiredAssocQualifier=%s", q->required_assoc_qualifier);
    if (q->class_defs_only) sc_buf_puts(b, " ClassDefsOnly");
    if (q->keys_only) sc_buf_puts(b, " KeysOnly");
    if (q->schema_only) sc_buf_puts(b, " SchemaOnly");
}

static const struct {
    const char *wql;
    const char *tree;
} good[] = {
    {"SELECT * FROM Win32_Share", "SELECT * FROM Win32_Share@15"},
    {"select name,Path from win32_share", "SELECT name@8,Path@13 FROM win32_share@23"},
    {"SELECT\na\rFROM\tb", "SELECT a@8 FROM b@15"},
    {"SELECT * FROM A WHERE X = 'y'", "SELECT * FROM A@15 WHERE (= X 'y')"},
    {"SELECT * FROM A WHERE 5 < X", "SELECT * FROM A@15 WHERE (> X 5)"},
    {"SELECT * FROM A WHERE 5 >= X", "SELECT * FROM A@15 WHERE (<= X 5)"},
    {"SELECT * FROM A WHERE X <> 1 AND Y != 2", "SELECT * FROM A@15 WHERE (AND (<> X 1) (<> Y 2))"},
    {"SELECT * FROM A WHERE a=1 OR b=2 AND c=3", "SELECT * FROM A@15 WHERE (OR (= a 1) (AND (= b 2) (= c 3)))"},
    {"SELECT * FROM A WHERE (a=1 OR b=2) AND c=3", "SELECT * FROM A@15 WHERE (AND (OR (= a 1) (= b 2)) (= c 3))"},
    {"SELECT * FROM A WHERE a=1 OR b=2 OR c=3 AND d=4 AND e=5 OR f=6",
     "SELECT * FROM A@15 WHERE (OR (= a 1) (= b 2) (AND (= c 3) (= d 4) (= e 5)) (= f 6))"},
    {"SELECT * FROM A WHERE (a=1 OR b=2) OR c=3", "SELECT * FROM A@15 WHERE (OR (OR (= a 1) (= b 2)) (= c 3))"},
    {"SELECT * FROM A WHERE NOT a=1", "SELECT * FROM A@15 WHERE (NOT (= a 1))"},
    {"SELECT * FROM A WHERE NOT NOT a=1", "SELECT * FROM A@15 WHERE (NOT (NOT (= a 1)))"},
    {"SELECT * FROM A WHERE X IS NULL", "SELECT * FROM A@15 WHERE (ISNULL X)"},
    {"SELECT * FROM A WHERE X IS NOT NULL", "SELECT * FROM A@15 WHERE (ISNOTNULL X)"},
    {"SELECT * FROM A WHERE X = NULL", "SELECT * FROM A@15 WHERE (ISNULL X)"},
    {"SELECT * FROM A WHERE NULL <> X", "SELECT * FROM A@15 WHERE (ISNOTNULL X)"},
    {"SELECT * FROM A WHERE X LIKE 'a%'", "SELECT * FROM A@15 WHERE (LIKE X 'a%')"},
    {"SELECT * FROM A WHERE X NOT LIKE \"a%\"", "SELECT * FROM A@15 WHERE (NOTLIKE X 'a%')"},
    {"SELECT * FROM A WHERE __THIS ISA 'B'", "SELECT * FROM A@15 WHERE (ISA __THIS 'B')"},
    {"SELECT * FROM A WHERE X = TRUE", "SELECT * FROM A@15 WHERE (= X TRUE)"},
    {"SELECT * FROM A WHERE X = -5", "SELECT * FROM A@15 WHERE (= X -5)"},
    {"SELECT * FROM A WHERE X = 0x1F", "SELECT * FROM A@15 WHERE (= X 31)"},
    {"SELECT * FROM A WHERE X = 18446744073709551615", "SELECT * FROM A@15 WHERE (= X 18446744073709551615)"},
    {"SELECT * FROM A WHERE X = 2.5", "SELECT * FROM A@15 WHERE (= X 2.5)"},
    {"SELECT * FROM A WHERE X = 'it\\'s \\\\ \\\"'", "SELECT * FROM A@15 WHERE (= X 'it's \\ \"')"},
    {"SELECT * FROM A WHERE X = 'Données'", "SELECT * FROM A@15 WHERE (= X 'Données')"},
    {"ASSOCIATORS OF {A.k=\"v\"}", "ASSOC {A.k=\"v\"}@17"},
    {"ASSOCIATORS OF{A.k='v w'}", "ASSOC {A.k='v w'}@16"},
    {"associators of {A=\"}\"} where assocclass=B", "ASSOC {A=\"}\"}@17 AssocClass=B"},
    {"ASSOCIATORS OF {A.k=\"v\"} WHERE ClassDefsOnly AssocClass = X",
     "ASSOC {A.k=\"v\"}@17 AssocClass=X ClassDefsOnly"},
    {"ASSOCIATORS OF {A.k=\"v\"} WHERE ResultClass=R ResultRole=RR Role=R2 RequiredQualifier=Q "
     "RequiredAssocQualifier=QA KeysOnly",
     "ASSOC {A.k=\"v\"}@17 ResultClass=R ResultRole=RR Role=R2 RequiredQualifier=Q RequiredAssocQualifier=QA KeysOnly"},
    {"ASSOCIATORS OF {A} WHERE SchemaOnly", "ASSOC {A}@17 SchemaOnly"},
    {"REFERENCES OF {A.k=1} WHERE ResultClass=C Role=R", "REFS {A.k=1}@16 ResultClass=C Role=R"},
    {"REFERENCES OF {A.k=1} WHERE ClassDefsOnly ResultClass=C", "REFS {A.k=1}@16 ResultClass=C ClassDefsOnly"},
};

static void test_parse_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        sc_arena *a = sc_arena_new();
        wql_query *q;
        smbcim_error err = {0};
        if (wql_parse(a, good[i].wql, &q, &err) != WBEM_S_NO_ERROR)
            fail_msg("%s: %s", good[i].wql, err.msg);
        sc_buf b;
        sc_buf_init(&b);
        print_query(&b, q);
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
    {" \t\n", WBEM_E_INVALID_PARAMETER, "empty"},
    {"SELEC * FROM A", WBEM_E_INVALID_QUERY, "at column 1: expected SELECT"},
    {"SELECT * FORM A", WBEM_E_INVALID_QUERY, "at column 10: expected FROM, found 'FORM'"},
    {"SELECT FROM A", WBEM_E_INVALID_QUERY, "at column 8: expected a property name"},
    {"SELECT a, FROM A", WBEM_E_INVALID_QUERY, "at column 11"},
    {"SELECT * FROM", WBEM_E_INVALID_QUERY, "at column 14: expected a class name, found end of query"},
    {"SELECT * FROM A WHERE", WBEM_E_INVALID_QUERY, "at column 22"},
    {"SELECT * FROM A WHERE X =", WBEM_E_INVALID_QUERY, "at column 26: expected a constant"},
    {"SELECT * FROM A WHERE X = 'abc", WBEM_E_INVALID_QUERY, "at column 27: unterminated string"},
    {"SELECT * FROM A WHERE X = 'a\\%'", WBEM_E_INVALID_QUERY, "at column 29: a backslash"},
    {"SELECT * FROM A WHERE X < TRUE", WBEM_E_INVALID_QUERY, "at column 25: TRUE and FALSE"},
    {"SELECT * FROM A WHERE X >= NULL", WBEM_E_INVALID_QUERY, "at column 25: NULL can only"},
    {"SELECT * FROM A WHERE X IS 5", WBEM_E_INVALID_QUERY, "at column 28: expected NULL after IS"},
    {"SELECT * FROM A WHERE X LIKE 5", WBEM_E_INVALID_QUERY, "at column 30"},
    {"SELECT * FROM A WHERE X ISA B", WBEM_E_INVALID_QUERY, "at column 29"},
    {"SELECT * FROM A WHERE (X = 1", WBEM_E_INVALID_QUERY, "expected ')', found end of query"},
    {"SELECT * FROM A WHERE X = 1)", WBEM_E_INVALID_QUERY, "at column 28: expected the end of the query"},
    {"SELECT * FROM A B", WBEM_E_INVALID_QUERY, "at column 17: expected WHERE or the end"},
    {"SELECT * FROM A WHERE X = 1 Y = 2", WBEM_E_INVALID_QUERY, "at column 29"},
    {"SELECT * FROM A WHERE X ! 1", WBEM_E_INVALID_QUERY, "at column 25"},
    {"SELECT * FROM A WHERE X = 12abc", WBEM_E_INVALID_QUERY, "malformed number"},
    {"SELECT * FROM A WHERE X = 99999999999999999999", WBEM_E_INVALID_QUERY, "out of range"},
    {"SELECT * FROM A WHERE FROM = 1", WBEM_E_INVALID_QUERY, "at column 23: expected a property name"},
    {"SELECT * FROM A WHERE X = 1 ;", WBEM_E_INVALID_QUERY, "unexpected character ';'"},
    {"ASSOCIATORS {A.k=1}", WBEM_E_INVALID_QUERY, "at column 13: expected OF, found '{A.k=1}'"},
    {"ASSOCIATORS OF A.k=1", WBEM_E_INVALID_QUERY, "expected an object path in braces"},
    {"ASSOCIATORS OF {A.k=1", WBEM_E_INVALID_QUERY, "unterminated object path"},
    {"ASSOCIATORS OF {A.k= 1}", WBEM_E_INVALID_QUERY, "at column 21: white space"},
    {"ASSOCIATORS OF {A.k=1} WHERE", WBEM_E_INVALID_QUERY, "at column 29"},
    {"ASSOCIATORS OF {A.k=1} WHERE Foo = B", WBEM_E_INVALID_QUERY, "at column 30: 'Foo' is not a keyword"},
    {"ASSOCIATORS OF {A.k=1} WHERE Role", WBEM_E_INVALID_QUERY, "expected '=' after Role"},
    {"ASSOCIATORS OF {A.k=1} WHERE Role = 'x'", WBEM_E_INVALID_QUERY, "a name (without quotes)"},
    {"ASSOCIATORS OF {A.k=1} WHERE Role = A AND Role = B", WBEM_E_INVALID_QUERY, "'AND' is not a keyword"},
    {"ASSOCIATORS OF {A.k=1} WHERE KeysOnly KeysOnly", WBEM_E_INVALID_QUERY, "KeysOnly given twice"},
    {"ASSOCIATORS OF {A.k=1} WHERE ClassDefsOnly KeysOnly", WBEM_E_INVALID_QUERY, "cannot be combined"},
    {"ASSOCIATORS OF {A.k=1} WHERE ClassDefsOnly SchemaOnly", WBEM_E_INVALID_QUERY, "cannot be combined"},
    {"ASSOCIATORS OF {A.k=1} WHERE ResultClass = B ClassDefsOnly", WBEM_E_INVALID_QUERY, "at column 46: ClassDefsOnly and ResultClass"},
    {"REFERENCES OF {A.k=1} WHERE AssocClass = B", WBEM_E_INVALID_QUERY, "not a keyword of REFERENCES OF"},
    {"REFERENCES OF {A.k=1} WHERE RequiredAssocQualifier = B", WBEM_E_INVALID_QUERY, "not a keyword of REFERENCES OF"},
    {"REFERENCES OF {A.k=1} extra", WBEM_E_INVALID_QUERY, "expected the end of the query"},
};

static void test_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sc_arena *a = sc_arena_new();
        wql_query *q = (wql_query *)1;
        smbcim_error err = {0};
        smbcim_status st = wql_parse(a, bad[i].wql, &q, &err);
        if (st != bad[i].code || !strstr(err.msg, bad[i].msg))
            fail_msg("%s: got %s '%s', want %s '%s'", bad[i].wql, smbcim_status_name(st), err.msg,
                     smbcim_status_name(bad[i].code), bad[i].msg);
        assert_null(q);
        sc_arena_free(a);
    }
}

static void test_depth_limit(void **state)
{
    (void)state;
    char q[4096] = "SELECT * FROM A WHERE ";
    for (int i = 0; i < 1000; i++)
        strcat(q, "(");
    sc_arena *a = sc_arena_new();
    wql_query *out;
    smbcim_error err = {0};
    assert_int_equal(wql_parse(a, q, &out, &err), WBEM_E_INVALID_QUERY);
    assert_non_null(strstr(err.msg, "nested too deeply"));
    sc_arena_free(a);
}

static const struct {
    const char *text, *pattern;
    bool match;
} likes[] = {
    {"Projects", "Proj%", true}, {"Projects", "proj%", true}, {"Projects", "%ECTS", true},
    {"Projects", "P_ojects", true}, {"Projects", "P_jects", false}, {"", "%", true},
    {"", "_", false}, {"a", "", false}, {"", "", true}, {"abc", "a%c", true},
    {"abc", "a%%c", true}, {"ac", "a%c", true}, {"abd", "a%c", false},
    {"backup$", "%$", true}, {"b", "[abc]", true}, {"d", "[abc]", false},
    {"D", "[a-f]", true}, {"g", "[a-f]", false}, {"g", "[^a-f]", true},
    {"a", "[^a-f]", false}, {"50%", "50[%]", true}, {"50x", "50[%]", false},
    {"a_b", "a[_]b", true}, {"axb", "a[_]b", false}, {"[x", "[[]x", true},
    {"]", "[]]", true}, {"a[", "a[", true}, {"Données", "DONN_ES", true},
    {"Données", "donn[é]es", true}, {"DONNÉES", "données", true}, {"ÉTÉ", "%t%", true},
    {"Привет", "пРИВЕТ", true}, {"x%y", "x%y", true}, {"abcabcabd", "%abd", true},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "%a%a%a%a%a%a%a%a%b", false},
    {"IPC$", "I_C$", true}, {"-", "[a-]", true}, {"z", "[a-]", false},
};

static void test_like(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(likes) / sizeof(likes[0]); i++)
        if (wql_like(likes[i].text, likes[i].pattern) != likes[i].match)
            fail_msg("'%s' LIKE '%s' should be %s", likes[i].text, likes[i].pattern,
                     likes[i].match ? "true" : "false");
}

/* An object with a few typed properties. */
typedef struct prop {
    const char *name;
    cim_value v;
} prop;

/* obj is the object's property table, ending with a NULL name. */
static bool get(void *obj, const char *name, cim_value *out)
{
    for (const prop *p = obj; p->name; p++)
        if (sc_streqi(p->name, name)) {
            *out = p->v;
            return true;
        }
    return false;
}

static int isa(void *obj, const char *prop_name, const char *cls)
{
    (void)obj;
    (void)prop_name;
    if (sc_streqi(cls, "Nope"))
        return -1;
    return sc_streqi(cls, "Win32_Share") || sc_streqi(cls, "CIM_LogicalElement");
}

static void test_eval(void **state)
{
    (void)state;
    static cim_value arr_el[2];
    arr_el[0] = cim_str(CIM_T_STRING, "alpha");
    arr_el[1] = cim_str(CIM_T_STRING, "beta");
    cim_value arr = {.type = CIM_T_STRING, .array = true, .count = 2};
    arr.v.elems = arr_el;
    const prop props[] = {
        {"Name", cim_str(CIM_T_STRING, "Finance Data")},
        {"Type", cim_u(CIM_T_UINT32, 2147483648u)},
        {"Files", cim_u(CIM_T_UINT32, 3)},
        {"Delta", cim_i(CIM_T_SINT32, -4)},
        {"Max", cim_null(CIM_T_UINT32)},
        {"Allow", cim_bool(true)},
        {"Ratio", {.type = CIM_T_REAL64, .v.r = 0.5}},
        {"Ref", cim_str(CIM_T_REFERENCE, "\\\\FS01\\root\\cimv2:Win32_Share.Name=\"IPC$\"")},
        {"Tags", arr},
        {NULL, cim_null(CIM_T_NONE)},
    };
    static const struct {
        const char *where;
        int want;
    } t[] = {
        {"Name = 'finance data'", 1}, {"Name <> 'FINANCE DATA'", 0}, {"Name > 'F'", 1},
        {"Name < 'Finance'", 0}, {"Name LIKE '%data'", 1}, {"Name NOT LIKE '%data'", 0},
        {"Type = 2147483648", 1}, {"Type >= 0x80000000", 1}, {"Type > -1", 1},
        {"Type = '2147483648'", 1}, {"Delta < 0", 1}, {"Delta > -5", 1}, {"Delta = 4", 0},
        {"Files = 3.0", 1}, {"Files > 2.5", 1}, {"Files LIKE '3'", 1},
        {"Max = 5", 0}, {"Max <> 5", 0}, {"Max IS NULL", 1}, {"Max = NULL", 1},
        {"NOT Max = 5", 1}, {"Name IS NOT NULL", 1},
        {"Allow = TRUE", 1}, {"Allow <> FALSE", 1}, {"Allow = 1", 1}, {"Allow = 'true'", 1},
        {"Ratio < 1", 1}, {"Ratio = 0.5", 1},
        {"Ref = 'win32_share.name=\"ipc$\"'", 1}, {"Ref = \"Win32_Share.Name='IPC$'\"", 1},
        {"Ref = 'Win32_Share.Name=\"C$\"'", 0}, {"Ref <> 'Win32_Share.Name=\"IPC$\"'", 0}, {"Ref = 'Win32_Share=\"IPC$\"'", 0},
        {"Tags = 'BETA'", 1}, {"Tags = 'gamma'", 0}, {"Tags <> 'gamma'", 1},
        {"Tags LIKE 'al%'", 1},
        {"Name = 'x' OR Files = 3 AND Delta < 0", 1}, {"(Name = 'x' OR Files = 3) AND Delta > 0", 0},
        {"NOT (Files = 3)", 0}, {"__THIS ISA 'CIM_LogicalElement'", 1}, {"__THIS ISA 'Win32_Process'", 0},
        {"5 > Files", 1}, {"NULL = Max", 1},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char q[512];
        snprintf(q, sizeof q, "SELECT * FROM A WHERE %s", t[i].where);
        sc_arena *a = sc_arena_new();
        wql_query *wq;
        smbcim_error err = {0};
        if (wql_parse(a, q, &wq, &err) != WBEM_S_NO_ERROR)
            fail_msg("%s: %s", q, err.msg);
        wql_object_ops ops = {.get = get, .isa = isa};
        int r = wql_eval(wq->where, &ops, (void *)props, &err);
        if (r != t[i].want)
            fail_msg("%s: got %d, want %d (%s)", t[i].where, r, t[i].want, err.msg);
        sc_arena_free(a);
    }
}

/* "SELECT * FROM A WHERE x=0 OR x=0 OR ..." with n comparisons, joined by
 * `word`; the caller frees it. */
static char *chain(size_t n, const char *word)
{
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_puts(&b, "SELECT * FROM A WHERE ");
    for (size_t i = 0; i < n; i++)
        sc_buf_printf(&b, "%sx=%zu", i ? word : "", i);
    return b.data;
}

/* WMI answers WBEM_E_QUOTA_VIOLATION for too many ANDs and ORs; so do we,
 * for the text, the comparisons and the SELECT list.  Up to the limit a
 * chain is one node, so nothing walking it recurses per operand (a chain
 * of 20,000 ORs used to overflow the stack of smbcimd's worker). */
static void test_limits(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    wql_query *q;
    smbcim_error err = {0};
    char *t = chain(1000, " OR ");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse(a, t, &q, &err), WBEM_S_NO_ERROR);
    assert_int_equal(q->where->op, WQL_OP_OR);
    assert_int_equal(q->where->nkids, 1000);
    const prop props[] = {{"x", cim_u(CIM_T_UINT32, 999)}, {NULL, cim_null(CIM_T_NONE)}};
    wql_object_ops ops = {.get = get, .isa = isa};
    assert_int_equal(wql_eval(q->where, &ops, (void *)props, &err), 1);
    free(t);
    t = chain(1000, " AND ");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse(a, t, &q, &err), WBEM_S_NO_ERROR);
    assert_int_equal(q->where->nkids, 1000);
    assert_int_equal(wql_eval(q->where, &ops, (void *)props, &err), 0);
    free(t);
    t = chain(1001, " OR ");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse(a, t, &q, &err), WBEM_E_QUOTA_VIOLATION);
    /* the column of the 1,001st comparison */
    char want[80];
    snprintf(want, sizeof want, "at column %zu: more than 1000 conditions",
             (size_t)(strstr(t, "x=1000") - t + 1));
    assert_non_null(strstr(err.msg, want));
    free(t);
    /* 110,000 ORs (770 KB): refused by length before any parsing */
    t = chain(110000, " OR ");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse(a, t, &q, &err), WBEM_E_QUOTA_VIOLATION);
    assert_non_null(strstr(err.msg, "at most 65536"));
    free(t);
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_puts(&b, "SELECT a");
    for (int i = 1; i < 1000; i++)
        sc_buf_puts(&b, ",a");
    sc_buf_puts(&b, " FROM A");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse(a, b.data, &q, &err), WBEM_S_NO_ERROR);
    assert_int_equal(q->nprops, 1000);
    sc_buf_free(&b);
    sc_buf_init(&b);
    sc_buf_puts(&b, "SELECT a");
    for (int i = 1; i < 1001; i++)
        sc_buf_puts(&b, ",a");
    sc_buf_puts(&b, " FROM A");
    err = (smbcim_error){0};
    assert_int_equal(wql_parse(a, b.data, &q, &err), WBEM_E_QUOTA_VIOLATION);
    assert_non_null(strstr(err.msg, "at column 2008: more than 1000 names"));
    sc_buf_free(&b);
    /* exactly 65,536 bytes is accepted (as far as length goes) */
    char *big = malloc(65537);
    memset(big, ' ', 65536);
    memcpy(big, "SELECT * FROM A", 15);
    big[65536] = 0;
    err = (smbcim_error){0};
    assert_int_equal(wql_parse(a, big, &q, &err), WBEM_S_NO_ERROR);
    big[65535] = 'x';
    err = (smbcim_error){0};
    assert_int_equal(wql_parse(a, big, &q, &err), WBEM_E_INVALID_QUERY);
    assert_non_null(strstr(err.msg, "at column 65536"));
    free(big);
    sc_arena_free(a);
}

static void test_eval_errors(void **state)
{
    (void)state;
    const prop props[] = {
        {"Name", cim_str(CIM_T_STRING, "x")},
        {"Type", cim_u(CIM_T_UINT32, 1)},
        {"Allow", cim_bool(true)},
        {NULL, cim_null(CIM_T_NONE)},
    };
    static const struct {
        const char *where;
        const char *msg;
    } t[] = {
        /* an unknown property errors even where OR would short-circuit */
        {"Name = 'x' OR Sise > 1", "at column 37: unknown property 'Sise'"},
        {"Type = 'disk'", "at column 30: 'disk' is not a number"},
        {"Allow = 'maybe'", "boolean"},
        {"__THIS ISA 'Nope'", "at column 34: class 'Nope' does not exist"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char q[512];
        snprintf(q, sizeof q, "SELECT * FROM A WHERE %s", t[i].where);
        sc_arena *a = sc_arena_new();
        wql_query *wq;
        smbcim_error err = {0};
        assert_int_equal(wql_parse(a, q, &wq, &err), WBEM_S_NO_ERROR);
        wql_object_ops ops = {.get = get, .isa = isa};
        int r = wql_eval(wq->where, &ops, (void *)props, &err);
        if (r != -1 || err.code != WBEM_E_INVALID_QUERY || !strstr(err.msg, t[i].msg))
            fail_msg("%s: got %d '%s', want error '%s'", t[i].where, r, err.msg, t[i].msg);
        sc_arena_free(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_like),
        cmocka_unit_test(test_eval),
        cmocka_unit_test(test_eval_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
