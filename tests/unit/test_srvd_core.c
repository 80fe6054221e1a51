/*
 * test_srvd_core.c - smbcimd without the network: Basic credentials,
 * configuration (file, command line, errors), and srv_handle over fs01:
 * every operation, authorization per class, header checks, the pulled
 * enumerations with their ownership, limits and expiry; queries parsed
 * before the state's lock is taken (CIM-XML and WS-Management).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "smbcimd/smbcimd.h"

static const char *srcdir(void)
{
    const char *d = getenv("SMBCIM_SRCDIR");
    return d ? d : ".";
}

static void test_basic_decode(void **state)
{
    (void)state;
    char u[64], p[64];
    assert_true(srv_basic_decode("Basic YWxpY2U6czNjcjN0", u, sizeof u, p, sizeof p));
    assert_string_equal(u, "alice");
    assert_string_equal(p, "s3cr3t");
    /* a colon in the password is the password's */
    assert_true(srv_basic_decode("basic  Ym9iOmE6Yjpj ", u, sizeof u, p, sizeof p));
    assert_string_equal(u, "bob");
    assert_string_equal(p, "a:b:c");
    static const char *const bad[] = {
        "Bearer abc", "Basic", "Basic ", "Basic !!!!", "Basic YWxpY2U=",   /* no colon */
        "Basic OnB3", /* empty user ":pw" */ "Basic YWxp=Y2U6", "BasicYWxpY2U6czNjcjN0",
        "Basic YQBiOmM=", /* NUL inside */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(srv_basic_decode(bad[i], u, sizeof u, p, sizeof p));
    /* too long for the buffers */
    assert_false(srv_basic_decode("Basic YWxpY2VhbGljZWFsaWNlOng=", u, 8, p, sizeof p));
}

static int load(srv_config *c, const char *conf_text, int argc, const char **args)
{
    char path[] = "/tmp/smbcimd-conf.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, conf_text, strlen(conf_text)), (ssize_t)strlen(conf_text));
    close(fd);
    char *argv[32] = {"smbcimd", "--config", path};
    int n = 3;
    for (int i = 0; i < argc; i++)
        argv[n++] = (char *)args[i];
    int rc = srv_config_load(c, n, argv);
    unlink(path);
    return rc;
}

static void test_config(void **state)
{
    (void)state;
    srv_config c;
    const char *a1[] = {"--https", "none", "--cache-seconds", "9"};
    assert_int_equal(load(&c, "# comment\nhttp = 127.0.0.1:9988\nmax_body = 64k\n"
                              "allow-plain-http = yes\nadmin-group = wheel\ncache-seconds = 3\n",
                          4, a1), 0);
    assert_string_equal(c.http, "127.0.0.1:9988");
    assert_string_equal(c.https, "");
    assert_int_equal(c.max_body, 65536);
    assert_true(c.allow_plain_http);
    assert_string_equal(c.admin_group, "wheel");
    assert_int_equal(c.cache_seconds, 9); /* the command line wins */
    srv_config_free(&c);
    /* errors say where */
    const char *none[] = {"--https", "none"};
    assert_int_equal(load(&c, "http = 127.0.0.1:99999\n", 2, none), 2);
    srv_config_free(&c);
    assert_int_equal(load(&c, "bogus = 1\n", 2, none), 2);
    srv_config_free(&c);
    assert_int_equal(load(&c, "timeout = -3\n", 2, none), 2);
    srv_config_free(&c);
    const char *both[] = {"--https", "none", "--snapshot", "a", "--smb-conf", "b"};
    assert_int_equal(load(&c, "", 6, both), 2);
    srv_config_free(&c);
    const char *nocert[] = {"--https", "127.0.0.1:5989"};
    assert_int_equal(load(&c, "", 2, nocert), 2);
    srv_config_free(&c);
    /* the connection and TLS settings: defaults, file, command line */
    assert_int_equal(load(&c, "", 2, none), 0);
    assert_int_equal(c.header_seconds, 10);
    assert_int_equal(c.auth_timeout, 10);
    assert_string_equal(c.tls_priority, SRV_TLS_PRIORITY_DEFAULT);
    srv_config_free(&c);
    const char *tls[] = {"--https", "127.0.0.1:5989", "--cert", "c", "--key", "k",
                         "--header-seconds", "0", "--tls-priority", "NORMAL:-VERS-TLS1.0"};
    assert_int_equal(load(&c, "header-seconds = 4\nauth-timeout = 3\n", 10, tls), 0);
    assert_int_equal(c.header_seconds, 1); /* 0 is taken as 1 */
    assert_int_equal(c.auth_timeout, 3);
    assert_string_equal(c.tls_priority, "NORMAL:-VERS-TLS1.0");
    srv_config_free(&c);
    assert_int_equal(load(&c, "tls-priority = NORMAL:+NONSENSE\n", 6, tls), 2);
    srv_config_free(&c);
}

/* ---- srv_handle ------------------------------------------------------------ */

typedef struct fx {
    srv_config cfg;
    srv *s;
    char fs01[1024];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->fs01, sizeof f->fs01, "%s/tests/fixtures/fs01.json", srcdir());
    const char *args[] = {"--https", "none", "--snapshot", f->fs01, "--max-enumerations", "3"};
    assert_int_equal(load(&f->cfg, "", 6, args), 0);
    /* no subscriptions of this machine's (indicate.c) */
    f->cfg.state_dir = "/nonexistent/smbcim-unit-test";
    f->s = srv_new(&f->cfg);
    *state = f;
    return 0;
}

static int setup_quota(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->fs01, sizeof f->fs01, "%s/tests/fixtures/fs01.json", srcdir());
    const char *args[] = {"--https", "none", "--snapshot", f->fs01, "--max-enumerations", "6",
                          "--max-enumerations-per-user", "2", "--enumeration-lifetime", "2"};
    assert_int_equal(load(&f->cfg, "", 10, args), 0);
    /* no subscriptions of this machine's (indicate.c) */
    f->cfg.state_dir = "/nonexistent/smbcim-unit-test";
    f->s = srv_new(&f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    srv_free(f->s);
    srv_config_free(&f->cfg);
    free(f);
    return 0;
}

static const srv_identity admin = {"root", true};
static const srv_identity user = {"joe", false};

static char *call(fx *f, const srv_identity *who, const char *method, const char *params,
                  int *status, const char **cimerror)
{
    char body[8192];
    snprintf(body, sizeof body,
             "<?xml version=\"1.0\" encoding=\"utf-8\" ?><CIM CIMVERSION=\"2.0\" "
             "DTDVERSION=\"2.0\"><MESSAGE ID=\"9\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ>"
             "<IMETHODCALL NAME=\"%s\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/>"
             "<NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH>%s</IMETHODCALL></SIMPLEREQ>"
             "</MESSAGE></CIM>",
             method, params);
    srv_response r;
    srv_handle(f->s, who, method, "root%2Fcimv2", body, strlen(body), &r);
    *status = r.http_status;
    if (cimerror)
        *cimerror = r.cimerror;
    return sc_buf_take(&r.body);
}

static int code_of(const char *xml)
{
    const char *p = strstr(xml, "<ERROR CODE=\"");
    return p ? atoi(p + 13) : 0;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

#define CLASSNAME(c) "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"" c "\"/></IPARAMVALUE>"
#define VALUE(n, v) "<IPARAMVALUE NAME=\"" n "\"><VALUE>" v "</VALUE></IPARAMVALUE>"
#define SHARE_NAME(param, v)                                                                 \
    "<IPARAMVALUE NAME=\"" param "\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING "    \
    "NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">" v "</KEYVALUE></KEYBINDING></INSTANCENAME>" \
    "</IPARAMVALUE>"

static void test_operations(void **state)
{
    fx *f = *state;
    int st;
    char *x = call(f, &admin, "EnumerateInstanceNames", CLASSNAME("Win32_ConnectionShare"), &st,
                   NULL);
    assert_int_equal(st, 200);
    assert_int_equal(count(x, "<INSTANCENAME CLASSNAME=\"Win32_ConnectionShare\""), 8);
    free(x);
    x = call(f, &admin, "EnumerateInstances", CLASSNAME("CIM_LogicalElement")
             VALUE("DeepInheritance", "FALSE"), &st, NULL);
    /* DeepInheritance false: subclass instances with the class's properties only */
    assert_int_equal(code_of(x), 0);
    assert_null(strstr(x, "NAME=\"Path\""));
    assert_non_null(strstr(x, "NAME=\"Caption\""));
    free(x);
    x = call(f, &admin, "GetInstance", SHARE_NAME("InstanceName", "Projects"), &st, NULL);
    assert_non_null(strstr(x, "<INSTANCE CLASSNAME=\"Win32_Share\""));
    free(x);
    x = call(f, &admin, "GetInstance", SHARE_NAME("InstanceName", "nope"), &st, NULL);
    assert_int_equal(code_of(x), 6);
    free(x);
    x = call(f, &admin, "Associators", SHARE_NAME("ObjectName", "Projects")
             "<IPARAMVALUE NAME=\"ResultClass\"><CLASSNAME NAME=\"Win32_ServerConnection\"/>"
             "</IPARAMVALUE>", &st, NULL);
    assert_int_equal(count(x, "<VALUE.OBJECTWITHPATH>"), 1);
    free(x);
    x = call(f, &admin, "References", SHARE_NAME("ObjectName", "IPC$")
             VALUE("Role", "Dependent"), &st, NULL);
    assert_int_equal(code_of(x), 0);
    assert_int_equal(count(x, "<VALUE.OBJECTWITHPATH>"), 0); /* a share is the Antecedent */
    free(x);
    x = call(f, &admin, "GetClass", CLASSNAME("Win32_Share"), &st, NULL);
    assert_non_null(strstr(x, "<CLASS NAME=\"Win32_Share\""));
    free(x);
    x = call(f, &admin, "GetClass", CLASSNAME("Nope"), &st, NULL);
    assert_int_equal(code_of(x), 6);
    free(x);
    x = call(f, &admin, "EnumerateClassNames", "", &st, NULL);
    /* the root classes: CIM_ManagedSystemElement, CIM_Dependency,
     * __SystemClass (WMI's system classes: the event classes),
     * MSFT_SmbOpenFile, MSFT_SmbSession and the three SMBCIM_ associations */
    assert_int_equal(count(x, "<CLASSNAME "), 8);
    free(x);
    x = call(f, &admin, "EnumerateClassNames", VALUE("DeepInheritance", "TRUE"), &st, NULL);
    /* 8 + 4 of schema/25_smb_openfile.mof + 1 of 26_smb_session.mof + 8 of
     * schema/30_events.mof */
    assert_int_equal(count(x, "<CLASSNAME "), 21);
    free(x);
    x = call(f, &admin, "ExecQuery", VALUE("QueryLanguage", "WQL")
             VALUE("Query", "SELECT Name FROM Win32_Share WHERE Name = 'C$'"), &st, NULL);
    assert_int_equal(count(x, "<VALUE.OBJECTWITHPATH>"), 1);
    free(x);
    x = call(f, &admin, "ExecQuery", VALUE("QueryLanguage", "WQL")
             VALUE("Query", "SELECT * FROM Win32_Share WHERE"), &st, NULL);
    assert_int_equal(code_of(x), 15);
    free(x);
    x = call(f, &admin, "DeleteInstance", SHARE_NAME("InstanceName", "Projects"), &st, NULL);
    assert_int_equal(code_of(x), 7);
    free(x);
}

static void test_authorization(void **state)
{
    fx *f = *state;
    int st;
    static const char *const admin_only[] = {"Win32_ServerConnection", "Win32_ServerSession",
                                             "Win32_ConnectionShare", "Win32_SessionConnection",
                                             "CIM_Dependency"};
    for (size_t i = 0; i < 5; i++) {
        char p[256];
        snprintf(p, sizeof p, CLASSNAME("%s"), admin_only[i]);
        char *x = call(f, &user, "EnumerateInstanceNames", p, &st, NULL);
        if (i < 4)
            assert_int_equal(code_of(x), 2);
        else /* a superclass of admin classes only: nothing left */
            assert_int_equal(count(x, "<INSTANCENAME"), 0);
        free(x);
    }
    /* 10 shares, of which dave ([homes]) and old (removed) are known only
     * from tree connects: they would tell a non-admin who is connected */
    char *x = call(f, &admin, "EnumerateInstanceNames", CLASSNAME("Win32_Share"), &st, NULL);
    assert_int_equal(count(x, "<INSTANCENAME"), 10);
    free(x);
    x = call(f, &user, "EnumerateInstanceNames", CLASSNAME("Win32_Share"), &st, NULL);
    assert_int_equal(count(x, "<INSTANCENAME"), 8);
    assert_null(strstr(x, ">dave<"));
    assert_null(strstr(x, ">old<"));
    free(x);
    x = call(f, &user, "EnumerateInstanceNames", CLASSNAME("CIM_ManagedSystemElement"), &st,
             NULL);
    assert_int_equal(count(x, "<INSTANCENAME CLASSNAME=\"Win32_Share\""), 8);
    assert_int_equal(count(x, "<INSTANCENAME"), 8);
    free(x);
    x = call(f, &user, "Associators", SHARE_NAME("ObjectName", "Projects"), &st, NULL);
    assert_int_equal(code_of(x), 2);
    free(x);
    x = call(f, &user, "ExecQuery", VALUE("QueryLanguage", "WQL")
             VALUE("Query", "SELECT * FROM CIM_LogicalElement"), &st, NULL);
    assert_int_equal(code_of(x), 0);
    assert_int_equal(count(x, "<VALUE.OBJECTWITHPATH>"), 8);
    free(x);
    x = call(f, &user, "ExecQuery", VALUE("QueryLanguage", "WQL")
             VALUE("Query", "REFERENCES OF {Win32_Share.Name=&quot;IPC$&quot;}"), &st, NULL);
    assert_int_equal(code_of(x), 2);
    free(x);
    x = call(f, &user, "GetClass", CLASSNAME("Win32_ServerSession"), &st, NULL);
    assert_int_equal(code_of(x), 0);
    free(x);
}

/* One rule for every route (issue 11 #4): a non-admin naming an admin
 * object gets ACCESS_DENIED whether or not it exists, by ExecQuery and
 * OpenQueryInstances as by the association operations.  Each request is made for an object that
 * exists and for one that does not: the answers must be the same. */
#define Q(text) VALUE("QueryLanguage", "WQL") VALUE("Query", text)
#define OQ(text) VALUE("FilterQueryLanguage", "WQL") VALUE("FilterQuery", text)
#define SESSION_NAME(param, cn, un)                                                          \
    "<IPARAMVALUE NAME=\"" param "\"><INSTANCENAME CLASSNAME=\"Win32_ServerSession\">"         \
    "<KEYBINDING NAME=\"ComputerName\"><KEYVALUE>" cn "</KEYVALUE></KEYBINDING>"               \
    "<KEYBINDING NAME=\"UserName\"><KEYVALUE>" un "</KEYVALUE></KEYBINDING></INSTANCENAME>"    \
    "</IPARAMVALUE>"
static void test_no_oracle(void **state)
{
    fx *f = *state;
    static const struct {
        const char *method, *live, *gone;
        int code; /* for both */
    } t[] = {
        {"ExecQuery",
         Q("ASSOCIATORS OF {Win32_ServerSession.ComputerName=&quot;10.0.0.5&quot;,UserName=&quot;alice&quot;} WHERE ResultClass=Win32_Share"),
         Q("ASSOCIATORS OF {Win32_ServerSession.ComputerName=&quot;10.9.9.9&quot;,UserName=&quot;mallory&quot;} WHERE ResultClass=Win32_Share"), 2},
        {"ExecQuery",
         Q("REFERENCES OF {Win32_ServerConnection.ComputerName=&quot;10.0.0.5&quot;,ShareName=&quot;Projects&quot;,UserName=&quot;alice&quot;}"),
         Q("REFERENCES OF {Win32_ServerConnection.ComputerName=&quot;10.0.0.5&quot;,ShareName=&quot;Nope&quot;,UserName=&quot;alice&quot;}"), 2},
        {"ExecQuery", Q("SELECT * FROM Win32_ServerSession WHERE UserName = 'alice'"),
         Q("SELECT * FROM Win32_ServerSession WHERE UserName = 'mallory'"), 2},
        {"ExecQuery", Q("SELECT * FROM Win32_ConnectionShare"), Q("SELECT Dependent FROM Win32_ConnectionShare"), 2},
        {"OpenQueryInstances", OQ("SELECT * FROM Win32_ServerSession"),
         OQ("SELECT * FROM Win32_SessionConnection WHERE Antecedent = 'x'"), 2},
        {"OpenQueryInstances", OQ("ASSOCIATORS OF {Win32_Share.Name=&quot;Projects&quot;}"),
         OQ("ASSOCIATORS OF {Win32_Share.Name=&quot;print1&quot;}"), 2},
        /* a share known only from a tree connect ([homes] dave, removed
         * old) is not there for a non-admin: as for a name never used */
        {"GetInstance", SHARE_NAME("InstanceName", "dave"), SHARE_NAME("InstanceName", "nobody"), 6},
        {"ExecQuery", Q("ASSOCIATORS OF {Win32_Share.Name=&quot;old&quot;}"),
         Q("ASSOCIATORS OF {Win32_Share.Name=&quot;never&quot;}"), 6},
        {"ExecQuery", Q("SELECT * FROM Win32_Share WHERE Name = 'dave'"),
         Q("SELECT * FROM Win32_Share WHERE Name = 'nobody'"), 0},
        /* a share with users and one without: no difference either */
        {"ExecQuery", Q("ASSOCIATORS OF {Win32_Share.Name=&quot;Projects&quot;}"),
         Q("ASSOCIATORS OF {Win32_Share.Name=&quot;print1&quot;}"), 2},
        {"Associators", SESSION_NAME("ObjectName", "10.0.0.5", "alice"),
         SESSION_NAME("ObjectName", "10.9.9.9", "mallory"), 2},
        {"GetInstance", SESSION_NAME("InstanceName", "10.0.0.5", "alice"),
         SESSION_NAME("InstanceName", "10.9.9.9", "mallory"), 2},
        /* the association classes as filters */
        {"ExecQuery", Q("ASSOCIATORS OF {Win32_Share.Name=&quot;Projects&quot;} WHERE AssocClass=Win32_ConnectionShare"),
         Q("ASSOCIATORS OF {Win32_Share.Name=&quot;print1&quot;} WHERE AssocClass=Win32_ConnectionShare"), 2},
        {"ExecQuery", Q("ASSOCIATORS OF {Win32_Share.Name=&quot;Projects&quot;} WHERE ResultClass=Win32_ServerConnection"),
         Q("ASSOCIATORS OF {Win32_Share.Name=&quot;nope&quot;} WHERE ResultClass=Win32_ServerConnection"), 2},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int st;
        char *x = call(f, &user, t[i].method, t[i].live, &st, NULL);
        char *y = call(f, &user, t[i].method, t[i].gone, &st, NULL);
        if (code_of(x) != t[i].code || code_of(y) != t[i].code)
            fail_msg("case %zu (%s): codes %d and %d, want %d\n%s\n%s", i, t[i].method,
                     code_of(x), code_of(y), t[i].code, x, y);
        free(x);
        free(y);
        /* an admin gets through, and sees what a non-admin does not */
        x = call(f, &admin, t[i].method, t[i].live, &st, NULL);
        if (code_of(x) == 2 || (code_of(x) && !t[i].code))
            fail_msg("case %zu: admin denied: %s", i, x);
        if (!t[i].code && !strstr(x, "<INSTANCE CLASSNAME=\"Win32_Share\""))
            fail_msg("case %zu: admin does not see it: %s", i, x);
        free(x);
        if (!t[i].code) { /* the user: the same empty answer for both */
            x = call(f, &user, t[i].method, t[i].live, &st, NULL);
            y = call(f, &user, t[i].method, t[i].gone, &st, NULL);
            assert_null(strstr(x, "<INSTANCE "));
            assert_null(strstr(y, "<INSTANCE "));
            free(x);
            free(y);
        }
    }
    /* the refusal names the class and the group */
    int st;
    char *x = call(f, &user, "ExecQuery", Q("SELECT * FROM Win32_ServerSession"), &st, NULL);
    assert_non_null(strstr(x, "Win32_ServerSession is not readable by this caller"));
    assert_non_null(strstr(x, "smbcim-admins"));
    free(x);
    /* ClassDefsOnly and class paths stay readable */
    x = call(f, &user, "ExecQuery", Q("ASSOCIATORS OF {Win32_ServerSession}"), &st, NULL);
    assert_int_equal(code_of(x), 7); /* class declarations: not carried by ExecQuery */
    free(x);
    /* DSP0201: a reference key sent as a string KEYVALUE is refused */
    x = call(f, &admin, "GetInstance",
             "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"Win32_ConnectionShare\">"
             "<KEYBINDING NAME=\"Antecedent\"><KEYVALUE>Win32_Share.Name=&quot;Projects&quot;"
             "</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"Dependent\"><KEYVALUE>"
             "Win32_ServerConnection.ComputerName=&quot;10.0.0.5&quot;,ShareName=&quot;Projects"
             "&quot;,UserName=&quot;alice&quot;</KEYVALUE></KEYBINDING></INSTANCENAME>"
             "</IPARAMVALUE>", &st, NULL);
    assert_int_equal(code_of(x), 4);
    assert_non_null(strstr(x, "key Antecedent of Win32_ConnectionShare is a reference"));
    free(x);
    /* DSP0200: an unknown AssocClass or ResultClass is INVALID_PARAMETER */
    x = call(f, &admin, "Associators", SHARE_NAME("ObjectName", "Projects")
             "<IPARAMVALUE NAME=\"ResultClass\"><CLASSNAME NAME=\"Nope\"/></IPARAMVALUE>", &st, NULL);
    assert_int_equal(code_of(x), 4);
    assert_non_null(strstr(x, "ResultClass: class 'Nope' does not exist"));
    free(x);
    x = call(f, &user, "References", SHARE_NAME("ObjectName", "Projects")
             "<IPARAMVALUE NAME=\"ResultClass\"><CLASSNAME NAME=\"Nope\"/></IPARAMVALUE>", &st, NULL);
    assert_int_equal(code_of(x), 4);
    free(x);
}

static void test_headers(void **state)
{
    fx *f = *state;
    const char *body = "<?xml version=\"1.0\"?><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">"
                       "<MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL "
                       "NAME=\"EnumerateClassNames\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/>"
                       "<NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH></IMETHODCALL></SIMPLEREQ>"
                       "</MESSAGE></CIM>";
    srv_response r;
    srv_handle(f->s, &admin, "EnumerateClassNames", "root/cimv2", body, strlen(body), &r);
    assert_int_equal(r.http_status, 200);
    sc_buf_free(&r.body);
    srv_handle(f->s, &admin, "GetClass", "root/cimv2", body, strlen(body), &r);
    assert_int_equal(r.http_status, 400);
    assert_string_equal(r.cimerror, "header-mismatch");
    sc_buf_free(&r.body);
    srv_handle(f->s, &admin, "EnumerateClassNames", "root%2Fother", body, strlen(body), &r);
    assert_string_equal(r.cimerror, "header-mismatch");
    sc_buf_free(&r.body);
    srv_handle(f->s, &admin, "EnumerateClassNames", NULL, body, strlen(body), &r);
    assert_int_equal(r.http_status, 400);
    sc_buf_free(&r.body);
    srv_handle(f->s, &admin, "X", "root/cimv2", "<CIM", 4, &r);
    assert_int_equal(r.http_status, 400);
    assert_string_equal(r.cimerror, "request-not-well-formed");
    sc_buf_free(&r.body);
}

/* CIMMethod and CIMObject are %-encoded (DSP0200): a %00 must not cut the
 * comparison with the body short, nor may a header too long for the
 * decoding buffer be compared by its prefix. */
static void test_header_nul(void **state)
{
    fx *f = *state;
    const char *body = "<?xml version=\"1.0\"?><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">"
                       "<MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL "
                       "NAME=\"EnumerateClassNames\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/>"
                       "<NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH></IMETHODCALL></SIMPLEREQ>"
                       "</MESSAGE></CIM>";
    static const char *const bad[][2] = {
        {"EnumerateClassNames%00", "root%2Fcimv2"},
        {"EnumerateClassNames%00GetClass", "root%2Fcimv2"},
        {"EnumerateClassNames", "root%2Fcimv2%00"},
        {"EnumerateClassNames", "root/cimv2%00/other"},
    };
    srv_response r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        srv_handle(f->s, &admin, bad[i][0], bad[i][1], body, strlen(body), &r);
        if (r.http_status != 400 || !r.cimerror || strcmp(r.cimerror, "header-mismatch") != 0)
            fail_msg("%s / %s: %d %s", bad[i][0], bad[i][1], r.http_status,
                     r.cimerror ? r.cimerror : "(no CIMError)");
        sc_buf_free(&r.body);
    }
    /* a namespace of 1023 characters, and a CIMObject of that plus one (the
     * decoding buffer holds 1023): not compared by its prefix */
    char ns[1024], obj[1100], big[2048];
    memset(ns, 'a', 1023);
    ns[1023] = '\0';
    snprintf(obj, sizeof obj, "%sb", ns);
    snprintf(big, sizeof big,
             "<?xml version=\"1.0\"?><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" "
             "PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"EnumerateClassNames\">"
             "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"%s\"/></LOCALNAMESPACEPATH>"
             "</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>", ns);
    srv_handle(f->s, &admin, "EnumerateClassNames", ns, big, strlen(big), &r);
    assert_int_equal(r.http_status, 200); /* the headers agree: CIM_ERR_INVALID_NAMESPACE */
    assert_int_equal(code_of(r.body.data), 3);
    sc_buf_free(&r.body);
    srv_handle(f->s, &admin, "EnumerateClassNames", obj, big, strlen(big), &r);
    assert_int_equal(r.http_status, 400);
    assert_string_equal(r.cimerror, "header-mismatch");
    sc_buf_free(&r.body);
    /* the well-formed spellings still pass */
    srv_handle(f->s, &admin, "EnumerateClassNames", "root%2Fcimv2", body, strlen(body), &r);
    assert_int_equal(r.http_status, 200);
    sc_buf_free(&r.body);
}

/* Win32_Share's methods are declared (GetClass shows them) but calling
 * one, instance or static, answers CIM_ERR_NOT_SUPPORTED. */
static void test_methods(void **state)
{
    fx *f = *state;
    int st;
    char *x = call(f, &admin, "GetClass", CLASSNAME("Win32_Share")
                   VALUE("LocalOnly", "false"), &st, NULL);
    assert_int_equal(st, 200);
    assert_int_equal(count(x, "<METHOD NAME="), 4);
    assert_non_null(strstr(x, "<METHOD NAME=\"GetAccessMask\" TYPE=\"uint32\">"));
    assert_non_null(strstr(x, "<PARAMETER NAME=\"Access\" TYPE=\"string\">"));
    free(x);
    static const struct {
        const char *method, *object, *path;
    } calls[] = {
        {"GetAccessMask", "root%2Fcimv2%3AWin32_Share.Name%3D%22IPC%24%22",
         "<LOCALINSTANCEPATH><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE "
         "NAME=\"cimv2\"/></LOCALNAMESPACEPATH><INSTANCENAME CLASSNAME=\"Win32_Share\">"
         "<KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE>"
         "</KEYBINDING></INSTANCENAME></LOCALINSTANCEPATH>"},
        {"Create", "root%2Fcimv2%3AWin32_Share",
         "<LOCALCLASSPATH><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE "
         "NAME=\"cimv2\"/></LOCALNAMESPACEPATH><CLASSNAME NAME=\"Win32_Share\"/>"
         "</LOCALCLASSPATH>"},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        char body[2048];
        snprintf(body, sizeof body,
                 "<?xml version=\"1.0\" encoding=\"utf-8\" ?><CIM CIMVERSION=\"2.0\" "
                 "DTDVERSION=\"2.0\"><MESSAGE ID=\"5\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ>"
                 "<METHODCALL NAME=\"%s\">%s</METHODCALL></SIMPLEREQ></MESSAGE></CIM>",
                 calls[i].method, calls[i].path);
        srv_response r;
        srv_handle(f->s, &admin, calls[i].method, calls[i].object, body, strlen(body), &r);
        assert_int_equal(r.http_status, 200);
        char *b = sc_buf_take(&r.body);
        if (!strstr(b, "<METHODRESPONSE NAME=") || code_of(b) != 7)
            fail_msg("%s: %s", calls[i].method, b);
        free(b);
    }
}

static char *context_of(const char *x)
{
    const char *p = strstr(x, "PARAMTYPE=\"string\"><VALUE>");
    if (!p)
        return NULL;
    p += strlen("PARAMTYPE=\"string\"><VALUE>");
    return strndup(p, strcspn(p, "<"));
}

static void test_pull(void **state)
{
    fx *f = *state;
    int st;
    /* 10 shares, 3 at a time: Open + 3 pulls, then the context is gone. */
    char *x = call(f, &admin, "OpenEnumerateInstancePaths", CLASSNAME("Win32_Share")
                   VALUE("MaxObjectCount", "3"), &st, NULL);
    size_t n = count(x, "<INSTANCEPATH>");
    char *ctx = context_of(x);
    assert_non_null(ctx);
    assert_int_equal(srv_open_enumerations(f->s), 1);
    free(x);
    int pulls = 0;
    while (ctx) {
        char p[512];
        snprintf(p, sizeof p, VALUE("EnumerationContext", "%s") VALUE("MaxObjectCount", "3"), ctx);
        x = call(f, &admin, "PullInstancePaths", p, &st, NULL);
        assert_int_equal(code_of(x), 0);
        n += count(x, "<INSTANCEPATH>");
        free(ctx);
        ctx = context_of(x);
        if (ctx && !*ctx) {
            free(ctx);
            ctx = NULL;
        }
        pulls++;
        free(x);
    }
    assert_int_equal(n, 10);
    assert_int_equal(pulls, 3);
    assert_int_equal(srv_open_enumerations(f->s), 0);
    /* MaxObjectCount 0: nothing now, everything later; another user cannot
     * pull it; the limit of 3 open contexts holds. */
    char *ids[3];
    for (int i = 0; i < 3; i++) {
        x = call(f, &admin, "OpenEnumerateInstances", CLASSNAME("Win32_Share")
                 VALUE("MaxObjectCount", "0"), &st, NULL);
        assert_int_equal(count(x, "<VALUE.INSTANCEWITHPATH>"), 0);
        ids[i] = context_of(x);
        assert_non_null(ids[i]);
        free(x);
    }
    x = call(f, &admin, "OpenEnumerateInstances", CLASSNAME("Win32_Share")
             VALUE("MaxObjectCount", "0"), &st, NULL);
    assert_int_equal(code_of(x), 27);
    free(x);
    char p[512];
    snprintf(p, sizeof p, VALUE("EnumerationContext", "%s") VALUE("MaxObjectCount", "100"), ids[0]);
    x = call(f, &user, "PullInstancesWithPath", p, &st, NULL);
    assert_int_equal(code_of(x), 21);
    free(x);
    x = call(f, &admin, "PullInstancesWithPath", p, &st, NULL);
    assert_int_equal(count(x, "<VALUE.INSTANCEWITHPATH>"), 10);
    assert_non_null(strstr(x, "NAME=\"EndOfSequence\" PARAMTYPE=\"boolean\"><VALUE>TRUE"));
    free(x);
    for (int i = 1; i < 3; i++) {
        snprintf(p, sizeof p, VALUE("EnumerationContext", "%s"), ids[i]);
        x = call(f, &admin, "CloseEnumeration", p, &st, NULL);
        assert_int_equal(code_of(x), 0);
        free(x);
    }
    for (int i = 0; i < 3; i++)
        free(ids[i]);
    assert_int_equal(srv_open_enumerations(f->s), 0);
    /* Parameters refused: a filter, ContinueOnError, a bad timeout, a pull
     * without MaxObjectCount. */
    x = call(f, &admin, "OpenEnumerateInstances", CLASSNAME("Win32_Share")
             VALUE("FilterQueryLanguage", "WQL") VALUE("FilterQuery", "SELECT * FROM X"), &st,
             NULL);
    assert_int_equal(code_of(x), 25);
    free(x);
    x = call(f, &admin, "OpenEnumerateInstances", CLASSNAME("Win32_Share")
             VALUE("ContinueOnError", "TRUE"), &st, NULL);
    assert_int_equal(code_of(x), 26);
    free(x);
    x = call(f, &admin, "OpenEnumerateInstances", CLASSNAME("Win32_Share")
             VALUE("OperationTimeout", "0"), &st, NULL);
    assert_int_equal(code_of(x), 22);
    free(x);
    x = call(f, &admin, "PullInstancesWithPath", VALUE("EnumerationContext", "abc"), &st, NULL);
    assert_int_equal(code_of(x), 4);
    free(x);
    /* Expiry: a 1 s timeout, then srv_expire. */
    x = call(f, &admin, "OpenEnumerateInstances", CLASSNAME("Win32_Share")
             VALUE("MaxObjectCount", "1") VALUE("OperationTimeout", "1"), &st, NULL);
    free(x);
    assert_int_equal(srv_open_enumerations(f->s), 1);
    sleep(2);
    srv_expire(f->s);
    assert_int_equal(srv_open_enumerations(f->s), 0);
}

/* The response cache: a second identical request is answered from it; a
 * non-admin never gets an admin's answer; headers are part of the key; a
 * changed snapshot is a new state and a new answer. */
/* Issue 11 #6: one user cannot take every enumeration context, and zero
 * pulls cannot keep one alive past enumeration-lifetime. */
static void test_pull_quota(void **state)
{
    fx *f = *state;
    int st;
    char *ids[2];
    for (int i = 0; i < 2; i++) {
        char *x = call(f, &user, "OpenEnumerateInstances", CLASSNAME("Win32_Share")
                       VALUE("MaxObjectCount", "0") VALUE("OperationTimeout", "60"), &st, NULL);
        ids[i] = context_of(x);
        assert_non_null(ids[i]);
        free(x);
    }
    char *x = call(f, &user, "OpenEnumerateInstances", CLASSNAME("Win32_Share")
                   VALUE("MaxObjectCount", "0"), &st, NULL);
    assert_int_equal(code_of(x), 27);
    assert_non_null(strstr(x, "user 'joe' has 2 open enumerations"));
    free(x);
    /* others still can */
    x = call(f, &admin, "OpenEnumerateInstances", CLASSNAME("Win32_Share")
             VALUE("MaxObjectCount", "0") VALUE("OperationTimeout", "60"), &st, NULL);
    char *aid = context_of(x);
    assert_non_null(aid);
    free(x);
    assert_int_equal(srv_open_enumerations(f->s), 3);
    /* zero pulls every 0.5 s: alive until the 2 s lifetime, then gone */
    char p[512];
    snprintf(p, sizeof p, VALUE("EnumerationContext", "%s") VALUE("MaxObjectCount", "0"), ids[0]);
    int ok = 0, code = 0;
    for (int i = 0; i < 8; i++) {
        x = call(f, &user, "PullInstancesWithPath", p, &st, NULL);
        code = code_of(x);
        free(x);
        if (code)
            break;
        ok++;
        usleep(500000);
    }
    assert_true(ok >= 1 && ok <= 5); /* 4 at full speed; fewer under valgrind */
    assert_int_equal(code, 21); /* CIM_ERR_INVALID_ENUMERATION_CONTEXT */
    srv_expire(f->s);
    assert_int_equal(srv_open_enumerations(f->s), 0);
    for (int i = 0; i < 2; i++)
        free(ids[i]);
    free(aid);
}

/* ---- queries are parsed before the state's lock is taken ------------------- */

/* Holds a state's lock in a thread of its own until told to let go. */
typedef struct holder {
    srv_state *st;
    pthread_mutex_t m;
    pthread_cond_t cv;
    bool locked, release;
} holder;

static void *hold_lock(void *p)
{
    holder *h = p;
    pthread_mutex_lock(&h->st->lock);
    pthread_mutex_lock(&h->m);
    h->locked = true;
    pthread_cond_broadcast(&h->cv);
    while (!h->release)
        pthread_cond_wait(&h->cv, &h->m);
    pthread_mutex_unlock(&h->m);
    pthread_mutex_unlock(&h->st->lock);
    return NULL;
}

/* Without the fix the request below waits for the lock for ever: a
 * watchdog turns that into a failure instead of a hung test run. */
static void waited_for_lock(int sig)
{
    (void)sig;
    static const char msg[] = "test_query_parsed_unlocked: a query that does not parse waited "
                              "for the state's lock\n";
    ssize_t n = write(2, msg, sizeof msg - 1);
    (void)n;
    _exit(1);
}

static char *wsman_enumerate(fx *f, const char *wql, unsigned *status)
{
    char body[8192];
    snprintf(body, sizeof body,
             "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
             "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
             "xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" "
             "xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"><s:Header>"
             "<a:To>http://localhost/wsman</a:To><w:ResourceURI s:mustUnderstand=\"true\">"
             "http://schemas.dmtf.org/wbem/wscim/1/*</w:ResourceURI><a:ReplyTo><a:Address>"
             "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>"
             "</a:ReplyTo><a:Action s:mustUnderstand=\"true\">"
             "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate</a:Action>"
             "<a:MessageID>uuid:1</a:MessageID><w:SelectorSet><w:Selector "
             "Name=\"__cimnamespace\">root/cimv2</w:Selector></w:SelectorSet></s:Header>"
             "<s:Body><n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>500</w:MaxElements>"
             "<w:Filter Dialect=\"http://schemas.microsoft.com/wbem/wsman/1/WQL\">%s"
             "</w:Filter></n:Enumerate></s:Body></s:Envelope>",
             wql);
    sc_buf out;
    sc_buf_init(&out);
    srv_wsman_handle(f->s, &admin, body, strlen(body), status, &out);
    return sc_buf_take(&out);
}

/* The hardening finding of issue 11: the WQL text is parsed before any
 * shared lock is taken, so that a long query holds no other request up.
 * With the state's lock held elsewhere, queries that do not parse still
 * get their answers (the same as when nothing holds it); a good query
 * waits for the lock and is answered once it is free. */
static void test_query_parsed_unlocked(void **state)
{
    fx *f = *state;
    smbcim_error err = {0};
    srv_state *st = srv_state_get(srv_cache_of(f->s), &err);
    assert_non_null(st);
    holder h = {.st = st};
    pthread_mutex_init(&h.m, NULL);
    pthread_cond_init(&h.cv, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hold_lock, &h), 0);
    pthread_mutex_lock(&h.m);
    while (!h.locked)
        pthread_cond_wait(&h.cv, &h.m);
    pthread_mutex_unlock(&h.m);
    void (*old)(int) = signal(SIGALRM, waited_for_lock);
    alarm(120);

    int code;
    char *x = call(f, &admin, "ExecQuery", VALUE("QueryLanguage", "WQL")
                   VALUE("Query", "SELECT * FROM Win32_Share WHERE"), &code, NULL);
    assert_int_equal(code_of(x), 15);
    assert_non_null(strstr(x, "WBEM_E_INVALID_QUERY: at column 32: expected a property name, "
                              "found end of query"));
    free(x);
    x = call(f, &admin, "OpenQueryInstances", VALUE("FilterQueryLanguage", "WQL")
             VALUE("FilterQuery", "SELEC * FROM Win32_Share")
             VALUE("MaxObjectCount", "10"), &code, NULL);
    assert_int_equal(code_of(x), 15);
    assert_non_null(strstr(x, "at column 1: expected SELECT, ASSOCIATORS OF or REFERENCES OF"));
    free(x);
    unsigned ws = 0;
    x = wsman_enumerate(f, "SELECT * FROM Win32_Share WHERE ((Name = 'a'", &ws);
    assert_int_equal(ws, 500);
    assert_non_null(strstr(x, "n:CannotProcessFilter"));
    assert_non_null(strstr(x, "The filter cannot be processed: WBEM_E_INVALID_QUERY: at column "
                              "45: expected &apos;)&apos;, found end of query"));
    free(x);
    x = wsman_enumerate(f, "SELECT * FROM __InstanceCreationEvent WITHIN 5", &ws);
    assert_int_equal(ws, 500);
    assert_non_null(strstr(x, "WBEM_E_NOT_SUPPORTED: event queries are not answered by "
                              "Enumerate"));
    free(x);

    alarm(0);
    signal(SIGALRM, old);
    pthread_mutex_lock(&h.m);
    h.release = true;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.m);
    pthread_join(t, NULL);
    pthread_cond_destroy(&h.cv);
    pthread_mutex_destroy(&h.m);
    srv_state_release(srv_cache_of(f->s), st);
    /* and with the lock free, queries that parse are answered */
    x = call(f, &admin, "ExecQuery", VALUE("QueryLanguage", "WQL")
             VALUE("Query", "SELECT Name FROM Win32_Share WHERE Name = 'IPC$'"), &code, NULL);
    assert_int_equal(code_of(x), 0);
    assert_int_equal(count(x, "<VALUE.OBJECTWITHPATH>"), 1);
    free(x);
    x = wsman_enumerate(f, "SELECT Name FROM Win32_Share WHERE Name = 'IPC$'", &ws);
    assert_int_equal(ws, 200);
    assert_int_equal(count(x, "<p:Name>IPC$</p:Name>"), 1);
    free(x);
}

static void test_cache(void **state)
{
    (void)state;
    char src[1024], tmp[] = "/tmp/smbcimd-cache.XXXXXX";
    snprintf(src, sizeof src, "%s/tests/fixtures/fs01.json", srcdir());
    int fd = mkstemp(tmp);
    FILE *in = fopen(src, "r");
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(write(fd, buf, n), (ssize_t)n);
    fclose(in);
    close(fd);
    fx f = {0};
    const char *args[] = {"--https", "none", "--snapshot", tmp};
    assert_int_equal(load(&f.cfg, "", 4, args), 0);
    /* no subscriptions of this machine's (indicate.c) */
    f.cfg.state_dir = "/nonexistent/smbcim-unit-test";
    f.s = srv_new(&f.cfg);
    int st;
    char *a1 = call(&f, &admin, "EnumerateInstanceNames", CLASSNAME("Win32_ConnectionShare"), &st,
                    NULL);
    char *a2 = call(&f, &admin, "EnumerateInstanceNames", CLASSNAME("Win32_ConnectionShare"), &st,
                    NULL);
    assert_string_equal(a1, a2);
    assert_int_equal(count(a1, "<INSTANCENAME CLASSNAME=\"Win32_ConnectionShare\""), 8);
    char *u = call(&f, &user, "EnumerateInstanceNames", CLASSNAME("Win32_ConnectionShare"), &st,
                   NULL);
    assert_int_equal(code_of(u), 2);
    free(u);
    const char *body = "<?xml version=\"1.0\"?><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">"
                       "<MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL "
                       "NAME=\"EnumerateClassNames\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/>"
                       "<NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH></IMETHODCALL></SIMPLEREQ>"
                       "</MESSAGE></CIM>";
    srv_response r;
    srv_handle(f.s, &admin, "EnumerateClassNames", "root/cimv2", body, strlen(body), &r);
    assert_int_equal(r.http_status, 200);
    sc_buf_free(&r.body);
    /* The cache counts the requests it keeps, not only the answers: a
     * request padded with 200 KB of white space to a short answer. */
    {
        size_t before = srv_response_cache_bytes(f.s);
        size_t pad = 200000;
        char *big = malloc(strlen(body) + pad + 1);
        const char *split = strstr(body, "<MESSAGE");
        size_t head = (size_t)(split - body);
        memcpy(big, body, head);
        memset(big + head, ' ', pad);
        strcpy(big + head + pad, split);
        srv_handle(f.s, &admin, "EnumerateClassNames", "root/cimv2", big, strlen(big), &r);
        assert_int_equal(r.http_status, 200);
        size_t answer = r.body.len;
        sc_buf_free(&r.body);
        /* the key is the body plus the CIMMethod and CIMObject headers */
        size_t grew = srv_response_cache_bytes(f.s) - before;
        assert_true(grew >= strlen(big) + answer && grew <= strlen(big) + answer + 64);
        free(big);
    }
    srv_handle(f.s, &admin, "EnumerateClassNames", "root/other", body, strlen(body), &r);
    assert_int_equal(r.http_status, 400); /* not the cached 200 */
    sc_buf_free(&r.body);
    /* A new snapshot (one connection fewer): a new answer. */
    sleep(1);
    FILE *o = fopen(tmp, "w");
    fputs("{\"smbcim_snapshot\": 1, \"server\": {\"name\": \"X\", \"taken_at\": "
          "\"2026-11-24T12:00:00Z\"}, \"shares\": [], \"smbstatus\": {}}", o);
    fclose(o);
    char *a3 = call(&f, &admin, "EnumerateInstanceNames", CLASSNAME("Win32_ConnectionShare"), &st,
                    NULL);
    assert_int_equal(count(a3, "<INSTANCENAME"), 0);
    free(a1);
    free(a2);
    free(a3);
    srv_free(f.s);
    srv_config_free(&f.cfg);
    unlink(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_decode),
        cmocka_unit_test(test_config),
        cmocka_unit_test_setup_teardown(test_operations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authorization, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_oracle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pull_quota, setup_quota, teardown),
        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pull, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_parsed_unlocked, setup, teardown),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests_name("srvd_core", tests, NULL, NULL);
}
