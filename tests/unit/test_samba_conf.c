/*
 * test_samba_conf.c - the smb.conf reader: syntax, synonyms, [global]
 * defaults, copy, repeated sections, available, templates, IPC$, % macros,
 * includes (followed, missing, looping), usershares, and errors with their
 * file and line.
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

#include "sources/sources.h"

static const sc_share *find(const sc_smbconf *c, const char *name)
{
    for (size_t i = 0; i < c->nshares; i++)
        if (strcmp(c->shares[i].name, name) == 0)
            return &c->shares[i];
    return NULL;
}

static sc_smbconf *parse(sc_arena *a, const char *text, smbcim_error *err)
{
    sc_smbconf *c = NULL;
    smbcim_error_clear(err);
    if (sc_smbconf_parse_text(a, text, strlen(text), "t.conf", &c, err) != WBEM_S_NO_ERROR)
        return NULL;
    return c;
}

static void test_syntax(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    smbcim_error err;
    sc_smbconf *c = parse(a,
        "; leading comment\n"
        "[global]\n"
        "   netbios name = fs01\n"
        "   server string = Files on %L\n"
        "   Max_Connections = 7\n"
        "   comment = everyone's default\n"
        "[Projects]\n"
        "  directory = /srv/projects\n"
        "  comment = Team \\\n"
        "      projects\r\n"
        "[hidden$]\n"
        "  path = /srv/hidden\n"
        "  administrative share = yes\n"
        "  browsable = no\n"
        "[off]\n"
        "  path = /srv/off\n"
        "  available = no\n"
        "[copy]\n"
        "  copy = Projects\n"
        "  max connections = 0\n"
        "[lp]\n"
        "  print ok = yes\n"
        "  path = /var/spool/lp\n"
        "[homes]\n"
        "  path = /home/%U\n"
        "[printers]\n"
        "  printable = yes\n"
        "[PROJECTS]\n"
        "  max connections = 12\n", &err);
    assert_non_null(c);
    assert_string_equal(c->netbios_name, "FS01");
    assert_string_equal(c->server_string, "Files on FS01");
    const sc_share *p = find(c, "Projects");
    assert_non_null(p);
    assert_string_equal(p->path, "/srv/projects");
    assert_string_equal(p->comment, "Team projects");
    assert_int_equal(p->max_connections, 12); /* repeated section merged, last wins */
    const sc_share *h = find(c, "hidden$");
    assert_true(h->administrative);
    assert_string_equal(h->comment, "everyone's default"); /* [global] default */
    assert_int_equal(h->max_connections, 7);
    assert_null(find(c, "off"));
    const sc_share *cp = find(c, "copy");
    assert_string_equal(cp->path, "/srv/projects");
    assert_int_equal(cp->max_connections, 0);
    assert_int_equal(find(c, "lp")->kind, SC_SHARE_PRINTER);
    assert_null(find(c, "homes"));
    assert_null(find(c, "printers"));
    assert_true(c->homes);
    assert_string_equal(c->homes_path, "/home/%U");
    const sc_share *ipc = find(c, "IPC$");
    assert_int_equal(ipc->kind, SC_SHARE_IPC);
    assert_true(ipc->administrative);
    assert_string_equal(ipc->comment, "IPC Service (Files on FS01)");
    assert_string_equal(c->shares[c->nshares - 1].name, "IPC$");
    sc_arena_free(a);
}

static void test_errors(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    smbcim_error err;
    assert_null(parse(a, "[global]\n  x = 1\n[broken\n", &err));
    assert_int_equal(err.code, WBEM_E_INVALID_PARAMETER);
    assert_string_equal(err.msg, "t.conf:3: missing ']' in section header");
    assert_null(parse(a, "[a]\npath /srv\n", &err));
    assert_string_equal(err.msg, "t.conf:2: expected 'name = value' or '[section]', found \"path /srv\"");
    assert_null(parse(a, "[a]\n = x\n", &err));
    assert_string_equal(err.msg, "t.conf:2: parameter without a name");
    assert_null(parse(a, "[ ]\n", &err));
    assert_string_equal(err.msg, "t.conf:1: empty section name");
    /* Continuation lines count: the error is at the logical line's start. */
    assert_null(parse(a, "[a]\ncomment = x \\\n y\n[b\n", &err));
    assert_string_equal(err.msg, "t.conf:4: missing ']' in section header");
    /* Parameters before any section belong to [global]. */
    sc_smbconf *c = parse(a, "netbios name = early\n", &err);
    assert_non_null(c);
    assert_string_equal(c->netbios_name, "EARLY");
    /* An [IPC$] section is the IPC share, whatever it says (found by the
     * fuzz target). */
    c = parse(a, "[IpC$]\n  path = /srv/x\n", &err);
    assert_non_null(c);
    assert_int_equal(c->nshares, 1);
    assert_string_equal(c->shares[0].name, "IPC$");
    assert_int_equal(c->shares[0].kind, SC_SHARE_IPC);
    /* An empty file is a valid configuration: IPC$ only. */
    c = parse(a, "", &err);
    assert_non_null(c);
    assert_int_equal(c->nshares, 1);
    sc_arena_free(a);
}

static char *write_file(const char *dir, const char *name, const char *text)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/smbcim-conf-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char us[300];
    snprintf(us, sizeof us, "%s/usershares", dir);
    mkdir(us, 0755);
    char *u1 = write_file(us, "pub", "#VERSION 2\npath=/srv/pub\ncomment=Public\n"
                                     "usershare_acl=S-1-1-0:R\nguest_ok=n\nsharename=Pub\n");
    char *u2 = write_file(us, "old", "path=/srv/old\n"); /* no #VERSION 2: ignored */
    char *inc = write_file(dir, "inc.conf", "[Included]\n  path = /srv/inc\n");
    char main_text[2048];
    snprintf(main_text, sizeof main_text,
             "[global]\n  netbios name = srv\n  usershare path = %s\n"
             "  usershare max shares = 10\n  include = %s/inc.conf\n"
             "  include = %s/missing.conf\n  include = %s/per-%%m.conf\n"
             "[Local]\n  path = /srv/local\n", us, dir, dir, dir);
    char *mainp = write_file(dir, "smb.conf", main_text);
    sc_arena *a = sc_arena_new();
    smbcim_error err = {0};
    sc_smbconf *c = NULL;
    assert_int_equal(sc_smbconf_load(a, mainp, &c, &err), WBEM_S_NO_ERROR);
    assert_non_null(find(c, "Included"));
    assert_string_equal(find(c, "Included")->path, "/srv/inc");
    assert_non_null(find(c, "Local"));
    const sc_share *pub = find(c, "Pub");
    assert_non_null(pub);
    assert_string_equal(pub->path, "/srv/pub");
    assert_string_equal(pub->comment, "Public");
    assert_null(find(c, "old"));
    /* An include loop is an error naming the file and line. */
    char loop_text[512];
    snprintf(loop_text, sizeof loop_text, "[a]\n  include = %s/loop.conf\n", dir);
    char *loop = write_file(dir, "loop.conf", loop_text);
    smbcim_error_clear(&err);
    assert_int_equal(sc_smbconf_load(a, loop, &c, &err), WBEM_E_INVALID_PARAMETER);
    assert_non_null(strstr(err.msg, "loop.conf:2: includes nested deeper than"));
    /* A missing main file. */
    smbcim_error_clear(&err);
    assert_int_equal(sc_smbconf_load(a, "/nonexistent/smb.conf", &c, &err),
                     WBEM_E_NOT_AVAILABLE);
    assert_string_equal(err.msg, "cannot read the Samba configuration /nonexistent/smb.conf: "
                                 "No such file or directory");
    sc_arena_free(a);
    unlink(u1), unlink(u2), unlink(inc), unlink(mainp), unlink(loop);
    rmdir(us);
    rmdir(dir);
    free(u1), free(u2), free(inc), free(mainp), free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests_name("samba_conf", tests, NULL, NULL);
}
