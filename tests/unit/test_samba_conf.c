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
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

/* Whether one of c's warnings holds both a and b. */
static bool warned(const sc_smbconf *c, const char *a, const char *b)
{
    for (size_t i = 0; i < c->nwarnings; i++)
        if (strstr(c->warnings[i], a) && strstr(c->warnings[i], b))
            return true;
    return false;
}

/* What a member of `sambashare` can put in the usershare directory, and
 * what anyone who can name a file can give as smb.conf or an include: a
 * FIFO, a symlink to /dev/zero, a symlink to a valid file, a file over
 * smbd's size limit, a world-writable file.  Nothing may block (alarm()
 * turns a hang into a failure); smbd refuses each of them, and so does
 * smbcim, with a warning naming the file. */
static void test_hostile_files(void **state)
{
    (void)state;
    alarm(20);
    char dir[] = "/tmp/smbcim-conf-hostile.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char us[300], p[400], q[1024];
    snprintf(us, sizeof us, "%s/usershares", dir);
    assert_int_equal(mkdir(us, 0755), 0);
    free(write_file(us, "pub", "#VERSION 2\npath=/srv/pub\ncomment=Public\n"
                               "usershare_acl=S-1-1-0:R\nguest_ok=n\nsharename=Pub\n"));
    snprintf(p, sizeof p, "%s/fifo", us);
    assert_int_equal(mkfifo(p, 0644), 0);
    snprintf(p, sizeof p, "%s/zero", us);
    assert_int_equal(symlink("/dev/zero", p), 0);
    free(write_file(dir, "elsewhere", "#VERSION 2\npath=/srv/linked\ncomment=\n"
                                      "usershare_acl=S-1-1-0:R\nguest_ok=n\nsharename=Linked\n"));
    snprintf(p, sizeof p, "%s/linked", us);
    snprintf(q, sizeof q, "%s/elsewhere", dir);
    assert_int_equal(symlink(q, p), 0);
    char big[SC_USERSHARE_MAX_FILE + 2];
    memset(big, '#', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "#VERSION 2\npath=/srv/big\nsharename=Big\n", 39);
    free(write_file(us, "big", big));
    char *open_file = write_file(us, "open", "#VERSION 2\npath=/srv/open\nsharename=Open\n");
    assert_int_equal(chmod(open_file, 0666), 0);
    free(open_file);

    char text[2048];
    snprintf(text, sizeof text,
             "[global]\n  usershare path = %s\n  usershare max shares = 100\n"
             "  include = %s\n[Local]\n  path = /srv/local\n", us, us);
    char *conf = write_file(dir, "smb.conf", text);
    sc_arena *a = sc_arena_new();
    smbcim_error err = {0};
    sc_smbconf *c = NULL;
    if (sc_smbconf_load(a, conf, &c, &err) != WBEM_S_NO_ERROR)
        fail_msg("%s", err.msg);
    assert_non_null(find(c, "Pub"));
    assert_non_null(find(c, "Local"));
    assert_null(find(c, "Linked"));
    assert_null(find(c, "Big"));
    assert_null(find(c, "Open"));
    assert_int_equal(c->nshares, 3); /* Local, Pub, IPC$ */
    snprintf(p, sizeof p, "%s/fifo ", us);
    assert_true(warned(c, p, "skipped: a FIFO (named pipe), not a regular file"));
    snprintf(p, sizeof p, "%s/zero ", us);
    assert_true(warned(c, p, "skipped: a symbolic link, not a regular file"));
    snprintf(p, sizeof p, "%s/linked ", us);
    assert_true(warned(c, p, "skipped: a symbolic link, not a regular file"));
    snprintf(p, sizeof p, "%s/big ", us);
    assert_true(warned(c, p, "skipped: 10241 bytes, more than the 10240 smbd accepts"));
    snprintf(p, sizeof p, "%s/open ", us);
    assert_true(warned(c, p, "skipped: writable by anyone"));
    /* the include of a directory: skipped, as smbd skips it */
    assert_true(warned(c, "smb.conf:4: include file", "skipped: a directory, not a regular file"));
    assert_int_equal(c->nwarnings, 6);

    /* More bad entries than 20% of `usershare max shares`: the scan stops,
     * as smbd's does. */
    snprintf(text, sizeof text, "[global]\n  usershare path = %s\n  usershare max shares = 10\n", us);
    char *conf10 = write_file(dir, "smb10.conf", text);
    assert_int_equal(sc_smbconf_load(a, conf10, &c, &err), WBEM_S_NO_ERROR);
    assert_true(warned(c, "usershare directory", "more than 2 bad entries; the rest not read"));

    /* smb.conf itself as a FIFO, as /dev/zero, too large: refused, named. */
    snprintf(p, sizeof p, "%s/fifo.conf", dir);
    assert_int_equal(mkfifo(p, 0644), 0);
    smbcim_error_clear(&err);
    assert_int_equal(sc_smbconf_load(a, p, &c, &err), WBEM_E_NOT_AVAILABLE);
    snprintf(q, sizeof q, "cannot read the Samba configuration %s: a FIFO (named pipe), not a "
                          "regular file", p);
    assert_string_equal(err.msg, q);
    smbcim_error_clear(&err);
    assert_int_equal(sc_smbconf_load(a, "/dev/zero", &c, &err), WBEM_E_NOT_AVAILABLE);
    assert_string_equal(err.msg, "cannot read the Samba configuration /dev/zero: a character "
                                 "device, not a regular file");
    char *huge = write_file(dir, "huge.conf", ""); /* sparse: costs no disk */
    assert_int_equal(truncate(huge, (off_t)SC_SMBCONF_MAX_FILE + 1), 0);
    smbcim_error_clear(&err);
    assert_int_equal(sc_smbconf_load(a, huge, &c, &err), WBEM_E_NOT_AVAILABLE);
    assert_non_null(strstr(err.msg, "huge.conf: 16777217 bytes, more than the 16777216"));

    /* A symlink to a regular smb.conf keeps working (admins do that). */
    snprintf(p, sizeof p, "%s/link.conf", dir);
    assert_int_equal(symlink(conf, p), 0);
    smbcim_error_clear(&err);
    assert_int_equal(sc_smbconf_load(a, p, &c, &err), WBEM_S_NO_ERROR);
    assert_non_null(find(c, "Local"));

    /* An include of a FIFO: smbd would open it (Samba's file_exist() takes
     * a FIFO for a file) and wait for a writer; smbcim fails the load
     * naming the include, as smbd fails on an include it cannot read. */
    snprintf(text, sizeof text, "[global]\n  include = %s/fifo.conf\n", dir);
    char *incf = write_file(dir, "inc-fifo.conf", text);
    smbcim_error_clear(&err);
    assert_int_equal(sc_smbconf_load(a, incf, &c, &err), WBEM_E_NOT_AVAILABLE);
    snprintf(q, sizeof q, "%s:2: cannot read the included file %s/fifo.conf: a FIFO (named "
                          "pipe), not a regular file", incf, dir);
    assert_string_equal(err.msg, q);
    sc_arena_free(a);
    alarm(0);

    const char *names[] = {"usershares/pub", "usershares/fifo", "usershares/zero",
                           "usershares/linked", "usershares/big", "usershares/open",
                           "elsewhere", "smb.conf", "smb10.conf", "fifo.conf", "huge.conf",
                           "link.conf", "inc-fifo.conf"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(us);
    rmdir(dir);
    free(conf), free(conf10), free(incf), free(huge);
}

/* clustering = yes and the ctdbd socket (issue 13): the live source reads
 * a cluster node's state cluster-wide, never from the lock directory. */
static void test_clustering(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    smbcim_error err;
    sc_smbconf *c = parse(a, "[global]\nnetbios name = x\n", &err);
    assert_non_null(c);
    assert_false(c->clustering);
    assert_string_equal(c->ctdbd_socket, SC_CTDBD_SOCKET);
    c = parse(a, "[global]\n  Clustering = Yes\n  ctdbd_socket = /var/lib/ctdb/%h.sock\n", &err);
    assert_non_null(c);
    assert_true(c->clustering);
    assert_non_null(strstr(c->ctdbd_socket, "/var/lib/ctdb/"));
    assert_null(strstr(c->ctdbd_socket, "%h")); /* macros expanded as smbd does */
    c = parse(a, "[global]\nclustering = no\nctdbd socket =\n", &err);
    assert_non_null(c);
    assert_false(c->clustering);
    assert_string_equal(c->ctdbd_socket, SC_CTDBD_SOCKET); /* empty: the default */
    sc_arena_free(a);
}

/* A child that does not finish is killed after SMBCIM_RUN_TIMEOUT seconds
 * (a smbstatus waiting on a CTDB node that does not answer). */
static void test_run_timeout(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    setenv("SMBCIM_RUN_TIMEOUT", "1", 1);
    assert_int_equal(sc_run_timeout(), 1);
    char *argv[] = {"sh", "-c", "echo started; exec sleep 20", NULL};
    size_t len = 0;
    char *errtext = NULL;
    int status = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errno = 0;
    char *out = sc_run_capture(a, argv, NULL, &len, &errtext, &status);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_null(out);
    assert_int_equal(errno, ETIMEDOUT);
    assert_true(dt >= 0.9 && dt < 5.0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* out of range or not a number: the default */
    setenv("SMBCIM_RUN_TIMEOUT", "0", 1);
    assert_int_equal(sc_run_timeout(), SC_RUN_TIMEOUT);
    setenv("SMBCIM_RUN_TIMEOUT", "5s", 1);
    assert_int_equal(sc_run_timeout(), SC_RUN_TIMEOUT);
    unsetenv("SMBCIM_RUN_TIMEOUT");
    /* a quick child is not affected */
    char *argv2[] = {"sh", "-c", "printf abc", NULL};
    out = sc_run_capture(a, argv2, NULL, &len, &errtext, &status);
    assert_non_null(out);
    assert_string_equal(out, "abc");
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    sc_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_hostile_files),
        cmocka_unit_test(test_clustering),
        cmocka_unit_test(test_run_timeout),
    };
    return cmocka_run_group_tests_name("samba_conf", tests, NULL, NULL);
}
