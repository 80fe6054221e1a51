/*
 * test_srvd_priv.c - privilege separation (src/smbcimd/priv.c): the
 * protocol's parsers, the PAM helpers started in process, and, when run as
 * root, a real split: the worker is the user it was told, reads the state
 * through the privileged part, and cannot make it kill a process it did
 * not start.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "smbcimd/smbcimd.h"

static void req(unsigned char *b, char type, unsigned char flag, unsigned char pad,
                unsigned long arg)
{
    b[0] = (unsigned char)type;
    b[1] = flag;
    b[2] = pad;
    b[3] = 0;
    b[4] = (unsigned char)arg;
    b[5] = (unsigned char)(arg >> 8);
    b[6] = (unsigned char)(arg >> 16);
    b[7] = (unsigned char)(arg >> 24);
}

static void test_parse_request(void **state)
{
    (void)state;
    unsigned char b[PRIV_REQ_LEN];
    srv_priv_req r;
    req(b, PRIV_STATE, 0, 0, 0);
    assert_true(srv_priv_parse_request(b, sizeof b, &r));
    assert_int_equal(r.type, PRIV_STATE);
    req(b, PRIV_HELPER_START, 0, 0, 0);
    assert_true(srv_priv_parse_request(b, sizeof b, &r));
    req(b, PRIV_HELPER_END, 1, 0, 4242);
    assert_true(srv_priv_parse_request(b, sizeof b, &r));
    assert_int_equal(r.pid, 4242);
    assert_true(r.now);
    /* refused: short or long, unknown type, padding, flags where none
     * belong, an argument where none belongs, pid 0 or negative */
    assert_false(srv_priv_parse_request(b, sizeof b - 1, &r));
    req(b, 'X', 0, 0, 0);
    assert_false(srv_priv_parse_request(b, sizeof b, &r));
    req(b, PRIV_STATE, 0, 1, 0);
    assert_false(srv_priv_parse_request(b, sizeof b, &r));
    req(b, PRIV_STATE, 1, 0, 0);
    assert_false(srv_priv_parse_request(b, sizeof b, &r));
    req(b, PRIV_HELPER_START, 0, 0, 7);
    assert_false(srv_priv_parse_request(b, sizeof b, &r));
    req(b, PRIV_HELPER_END, 2, 0, 7);
    assert_false(srv_priv_parse_request(b, sizeof b, &r));
    req(b, PRIV_HELPER_END, 0, 0, 0);
    assert_false(srv_priv_parse_request(b, sizeof b, &r));
    req(b, PRIV_HELPER_END, 0, 0, 0xffffffffUL);
    assert_false(srv_priv_parse_request(b, sizeof b, &r));
}

static void test_parse_state(void **state)
{
    (void)state;
    srv_priv_state s;
    static const char ok[] = "\0\0\0\0tdb\0\0smbd warns\0\0{\"x\":1}";
    assert_true(srv_priv_parse_state(ok, sizeof ok - 1, &s));
    assert_int_equal(s.status, 0);
    assert_string_equal(s.route, "tdb");
    assert_string_equal(s.why, "");
    assert_string_equal(s.warning, "smbd warns");
    assert_int_equal(s.doc_len, 7);
    assert_memory_equal(s.doc, "{\"x\":1}", 7);
    static const char failed[] = "\x04\0\0\0none\0\0\0cannot read\0";
    assert_true(srv_priv_parse_state(failed, sizeof failed - 1, &s));
    assert_int_equal(s.status, 4);
    assert_string_equal(s.message, "cannot read");
    /* refused: too short, a missing NUL, a success without a document, a
     * failure with one or without a message */
    assert_false(srv_priv_parse_state(ok, 3, &s));
    assert_false(srv_priv_parse_state(ok, 12, &s));
    static const char nodoc[] = "\0\0\0\0tdb\0\0\0\0";
    assert_false(srv_priv_parse_state(nodoc, sizeof nodoc - 1, &s));
    static const char faildoc[] = "\x04\0\0\0\0\0\0x\0{}";
    assert_false(srv_priv_parse_state(faildoc, sizeof faildoc - 1, &s));
    static const char nomsg[] = "\x04\0\0\0\0\0\0\0";
    assert_false(srv_priv_parse_state(nomsg, sizeof nomsg - 1, &s));
}

/* In process (no split): a "helper" that echoes what it is sent. */
static void test_helper_in_process(void **state)
{
    (void)state;
    assert_false(srv_priv_active());
    char path[] = "/tmp/smbcimd-echo.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "#!/bin/sh\nexec cat\n", 20), 20);
    close(fd);
    assert_int_equal(chmod(path, 0700), 0);
    long id = 0;
    int to = -1, from = -1;
    char why[200];
    assert_true(srv_priv_helper_start(path, "smbcimd", &id, &to, &from, why, sizeof why));
    assert_true(id > 0);
    assert_int_equal(write(to, "ping", 4), 4);
    char buf[8] = {0};
    assert_int_equal(read(from, buf, 4), 4);
    assert_string_equal(buf, "ping");
    close(to);
    close(from);
    srv_priv_helper_end(id, false);
    assert_int_equal(kill((pid_t)id, 0), -1); /* reaped */
    unlink(path);
}

static unsigned count_checks(const srv_config *c, void (*report)(const char *, void *),
                             void *arg)
{
    (void)c;
    report(geteuid() == 0 ? "as root" : "not root", arg);
    return geteuid() == 0 ? 0 : 1;
}

static void collect_line(const char *line, void *arg)
{
    snprintf(arg, 64, "%s", line);
}

/* Root only: a real split, the worker as `nobody`. */
static void test_split(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        skip();
        return;
    }
    char dir[] = "/tmp/smbcimd-priv.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char conf[300];
    snprintf(conf, sizeof conf, "%s/smb.conf", dir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "[global]\n  lock directory = %s\n  state directory = %s\n"
               "  cache directory = %s\n  pid directory = %s\n[PrivShare]\n  path = %s\n",
            dir, dir, dir, dir, dir);
    fclose(f);
    srv_config c;
    memset(&c, 0, sizeof c);
    c.user = "nobody";
    c.smb_conf = conf;
    c.pam_service = "smbcimd";
    /* the checks as the worker's user run in a process of that user */
    char line[64] = "";
    assert_int_equal(srv_priv_check_as_user(&c, count_checks, collect_line, line), 1);
    assert_string_equal(line, "not root");

    pid_t victim = fork();
    if (victim == 0) {
        pause();
        _exit(0);
    }
    pid_t test = fork();
    assert_true(test >= 0);
    if (test == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        int code = 0, ready = -1;
        int r = srv_priv_split(&c, &ready, NULL, &code);
        if (r == 1) /* the privileged part: the worker's status */
            _exit(code);
        if (r != 0 || !srv_priv_active() || geteuid() == 0 || getuid() == 0)
            _exit(10);
        size_t len = 0;
        smbcim_error err = {0};
        char *buf = srv_priv_read_state(&len, &err);
        srv_priv_state ps;
        if (!buf || !srv_priv_parse_state(buf, len, &ps) || ps.status != 0 ||
            !memmem(ps.doc, ps.doc_len, "PrivShare", 9))
            _exit(11);
        free(buf);
        /* not one of its helpers: nothing is killed */
        srv_priv_helper_end(victim, true);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(test, &st, 0), test);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(kill(victim, 0), 0); /* still there */
    kill(victim, SIGKILL);
    waitpid(victim, NULL, 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_request),
        cmocka_unit_test(test_parse_state),
        cmocka_unit_test(test_helper_in_process),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
