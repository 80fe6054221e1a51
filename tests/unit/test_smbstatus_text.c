/*
 * test_smbstatus_text.c - the smbstatus route's parser and linker
 * (samba_live.c): text `smbstatus -n` of Samba 4.15-4.25.  The fixtures
 * are written with Samba's own printf formats (source3/utils/status.c of
 * each release; the 4.17 and 4.25 tables also match what the real 4.17.12,
 * 4.22.11 and 4.25.1 print, bench/live.py --check --dump): overflowing
 * columns, names with spaces, a machine with spaces, an empty machine,
 * CTDB pids, leases, the 4.25 Persistent column, the 4.15/4.16 open
 * lines, unknown times and dialects; the linking of tree connects to
 * sessions, also when one smbd serves several users; and strictness:
 * every line of an unknown layout is an error naming its line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sources/sources.h"

#define T_1128 1795848630 /* Sat Nov 28 06:50:30 2026 UTC */
#define T_1101 1793491200 /* Sun Nov  1 00:00:00 2026 UTC */
#define T_1102 1793610301 /* Mon Nov  2 09:05:01 2026 UTC */

static const char T417[] =
    "\n"
    "Samba version 4.17.12-Debian\n"
    "PID     Username     Group        Machine                                   Protocol Version  Encryption           Signing              \n"
    "----------------------------------------------------------------------------------------------------------------------------------------\n"
    "497     1001         1001         127.0.0.11 (ipv4:127.0.0.11:36321)        SMB3_00           partial(AES-128-CCM) partial(AES-128-CMAC)\n"
    "496     1001         1001         127.0.0.11 (ipv4:127.0.0.11:53981)        SMB3_11           partial(AES-128-CCM) partial(AES-128-CMAC)\n"
    "498     1002         1002         127.0.0.12 (ipv4:127.0.0.12:53103)        SMB3_00           -                    -                    \n"
    "500     4294967295   4294967295   127.0.0.13 (ipv4:127.0.0.13:40000)        SMB3_11           -                    -                    \n"
    "501     1003         100          MY OLD PC (ipv4:10.0.0.9:139)             NT1               -                    -                    \n"
    "502     1003         100          fe80::1 (ipv6:fe80::1:51000)              Unknown (0x0abc)  -                    -                    \n"
    "\n"
    "Service      pid     Machine       Connected at                     Encryption   Signing     \n"
    "---------------------------------------------------------------------------------------------\n"
    "Finance Data 496     127.0.0.11    Sat Nov 28 06:50:30 2026 UTC     AES-128-CCM  AES-128-CMAC\n"
    "IPC$         498     127.0.0.12    Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "a_long_share_name 498     127.0.0.12    Sun Nov  1 00:00:00 2026 UTC     -            -           \n"
    "Projects     497     127.0.0.11    Sat Nov 28 06:50:30 2026 UTC     AES-128-CCM  AES-128-CMAC\n"
    "Old Stuff    501     MY OLD PC     Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "Backup 2024  502     fe80::1       Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "Backup 2024  499                   Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "\n"
    "\n"
    "Locked files:\n"
    "Pid          User(ID)   DenyMode   Access      R/W        Oplock           SharePath   Name   Time\n"
    "--------------------------------------------------------------------------------------------------\n"
    "496          1001       DENY_NONE  0x3         RDWR       NONE             /srv/projects   a2.txt   Sat Nov 28 06:50:30 2026\n"
    "496          1001       DENY_NONE  0x3         RDWR       NONE             /srv/finance   f 1.txt   Sat Nov 28 06:50:30 2026\n"
    "498          1002       DENY_NONE  0x1f01ff    RDWR       BATCH            /srv/finance   owner.txt   Sat Nov 28 06:50:30 2026\n"
    "497          1001       DENY_WRITE 0x12019f    RDWR       LEASE(RWH)       /srv/projects   b.txt   Sat Nov 28 06:50:30 2026\n"
    "497          1001       DENY_NONE  0x120089    RDONLY     LEASE(R)         /srv/projects   c.txt:s:$DATA   Mon Nov  2 09:05:01 2026\n"
    "497          1001       UNKNOWN(0x00000007) 0x1         RDONLY     LEASE STATE UNKNOWN   /srv/projects   d   e.txt   Sat Nov 28 06:50:30 2026\n"
    "501          1003       DENY_NONE  0x1         RDONLY     LEVEL_II         /srv/old   stuff   x.txt   Sat Nov 28 06:50:30 2026\n"
    "501          1003       DENY_NONE  0x1         RDONLY     EXCLUSIVE        /srv/old   .   unknown time\n"
    "\n";

static const char T425_OPENS[] =
    "\n"
    "Locked files:\n"
    "Pid          User(ID)   DenyMode   Access      R/W        Oplock           Persistent SharePath   Name   Time\n"
    "------------------------------------------------------------------------------------------------------\n"
    "746          1000       DENY_NONE  0x3         RDWR       NONE             no         /srv/finance   f 1.txt   Sat Nov 28 06:50:30 2026\n"
    "748          1001       DENY_NONE  0x1f01ff    RDWR       LEASE(RH)        yes        /srv/finance   owner.txt   Sat Nov 28 06:50:30 2026\n"
    "\n";

static const char T415[] =
    "\n"
    "Samba version 4.15.13-Debian\n"
    "PID     Username     Group        Machine                                   Protocol Version  Encryption           Signing              \n"
    "----------------------------------------------------------------------------------------------------------------------------------------\n"
    "1234    1000         1000         10.1.2.3 (ipv4:10.1.2.3:50000)            SMB3_11           -                    -                    \n"
    "\n"
    "Service      pid     Machine       Connected at                     Encryption   Signing     \n"
    "---------------------------------------------------------------------------------------------\n"
    "Projects     1234    10.1.2.3      Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "\n"
    "Locked files:\n"
    "Pid          User(ID)   DenyMode   Access      R/W        Oplock           SharePath   Name   Time\n"
    "--------------------------------------------------------------------------------------------------\n"
    "1234         1000       DENY_NONE  0x3         RDWR       EXCLUSIVE+BATCH  /srv/p   a.txt   Sat Nov 28 06:50:30 2026\n"
    "1234         1000       DENY_WRITE 0x12019f    RDWR       LEASE(RWH)       /srv/p   b.txt   Sat Nov 28 06:50:30 2026\n"
    "1234         1000       DENY_NONE  0x1         RDONLY     LEASE(R)         /srv/p   c.txt   Sat Nov 28 06:50:30 2026\n"
    "1234         1000       DENY_NONE  0x1         RDONLY     LEASE STATE UNKNOWN /srv/p   d.txt   Sat Nov 28 06:50:30 2026\n"
    "1234         1000       DENY_NONE  0x1         RDONLY     NONE             /srv/p   e.txt   Sat Nov 28 06:50:30 2026\n"
    "\n";

static const char T416_EMPTY[] =
    "\n"
    "Samba version 4.16.11\n"
    "PID     Username     Group        Machine                                   Protocol Version  Encryption           Signing              \n"
    "----------------------------------------------------------------------------------------------------------------------------------------\n"
    "\n"
    "Service      pid     Machine       Connected at                     Encryption   Signing     \n"
    "---------------------------------------------------------------------------------------------\n"
    "\n"
    "No locked files\n"
    "\n";

static const char T416_NOTINIT[] =
    "\n"
    "Samba version 4.16.11\n"
    "PID     Username     Group        Machine                                   Protocol Version  Encryption           Signing              \n"
    "----------------------------------------------------------------------------------------------------------------------------------------\n"
    "\n"
    "Service      pid     Machine       Connected at                     Encryption   Signing     \n"
    "---------------------------------------------------------------------------------------------\n"
    "\n"
    "/run/samba/locking.tdb not initialised\n"
    "This is normal if an SMB client has never connected to your server.\n";

static const char TCTDB[] =
    "\n"
    "Samba version 4.22.11\n"
    "PID     Username     Group        Machine                                   Protocol Version  Encryption           Signing              \n"
    "----------------------------------------------------------------------------------------------------------------------------------------\n"
    "0:14006 2000         2000         10.0.0.5 (ipv4:10.0.0.5:50000)            SMB3_11           -                    -                    \n"
    "1:14006 2001         2001         10.0.0.6 (ipv4:10.0.0.6:50000)            SMB3_11           -                    -                    \n"
    "\n"
    "Service      pid     Machine       Connected at                     Encryption   Signing     \n"
    "---------------------------------------------------------------------------------------------\n"
    "data         0:14006 10.0.0.5      Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "data         1:14006 10.0.0.6      Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "data         14007.2 10.0.0.7      Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "\n"
    "\n"
    "Locked files:\n"
    "Pid          User(ID)   DenyMode   Access      R/W        Oplock           SharePath   Name   Time\n"
    "--------------------------------------------------------------------------------------------------\n"
    "0:14006      2000       DENY_NONE  0x3         RDWR       NONE             /srv/data   a   Sat Nov 28 06:50:30 2026\n"
    "1:14006      2001       DENY_NONE  0x3         RDWR       NONE             /srv/data   b   Sat Nov 28 06:50:30 2026\n"
    "\n";

static const char TTS[] =
    "\n"
    "Samba version 4.25.1\n"
    "PID     Username     Group        Machine                                   Protocol Version  Encryption           Signing              \n"
    "----------------------------------------------------------------------------------------------------------------------------------------\n"
    "700     1000         1000         ts1 (ipv4:10.0.0.20:50000)                SMB3_11           -                    -                    \n"
    "700     1001         1001         ts1 (ipv4:10.0.0.20:50000)                SMB3_11           -                    -                    \n"
    "700     1002         1002         ts1 (ipv4:10.0.0.20:50000)                SMB3_11           -                    -                    \n"
    "701     1000         1000         pc2 (ipv4:10.0.0.21:50000)                SMB3_11           -                    -                    \n"
    "\n"
    "Service      pid     Machine       Connected at                     Encryption   Signing     \n"
    "---------------------------------------------------------------------------------------------\n"
    "Projects     700     ts1           Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "Projects     700     ts1           Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "Projects     700     ts1           Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "Finance      700     ts1           Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "Projects     701     pc2           Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "\n";

static const char TTS_1001[] =
    "\n"
    "Service      pid     Machine       Connected at                     Encryption   Signing     \n"
    "---------------------------------------------------------------------------------------------\n"
    "Projects     700     ts1           Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "Finance      700     ts1           Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "\n";

static const char TTS_1002[] =
    "\n"
    "Service      pid     Machine       Connected at                     Encryption   Signing     \n"
    "---------------------------------------------------------------------------------------------\n"
    "Projects     700     ts1           Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "Projects     9999    gone          Sat Nov 28 06:50:30 2026 UTC     -            -           \n"
    "\n";


static const char *const PATHS[] = {"/srv/projects", "/srv/finance", "/srv/old   stuff",
                                    "/srv/old"};

static void parse_ok(sc_arena *a, const char *text, const char *const *paths, size_t npaths,
                     sc_smbstatus_text *t)
{
    smbcim_error err = {0};
    smbcim_status st = sc_smbstatus_text_parse(a, text, strlen(text), "test", paths, npaths, t,
                                               &err);
    if (st != WBEM_S_NO_ERROR)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, WBEM_S_NO_ERROR);
}

/* The error message of parsing text (which must fail). */
static const char *parse_err(sc_arena *a, const char *text)
{
    static smbcim_error err;
    sc_smbstatus_text t;
    memset(&err, 0, sizeof err);
    assert_int_equal(sc_smbstatus_text_parse(a, text, strlen(text), "smbstatus -n", NULL, 0, &t,
                                             &err),
                     WBEM_E_FAILED);
    return err.msg;
}

static void test_sessions(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_smbstatus_text t;
    parse_ok(a, T417, PATHS, 4, &t);
    assert_true(t.has_sessions && t.has_tcons && t.has_opens);
    assert_string_equal(t.version, "4.17.12-Debian");
    assert_int_equal(t.nsessions, 6);
    const sc_session *s = t.sessions;
    assert_string_equal(s[0].session_id, "s1");
    assert_string_equal(s[0].server.pid, "497");
    assert_null(s[0].server.unique_id);
    assert_int_equal(s[0].uid, 1001);
    assert_null(s[0].username);
    assert_string_equal(s[0].remote_machine, "127.0.0.11");
    assert_string_equal(s[0].hostname, "ipv4:127.0.0.11:36321");
    assert_string_equal(s[0].dialect, "SMB3_00");
    assert_false(s[0].creation_time.valid);
    assert_string_equal(s[1].dialect, "SMB3_11");
    assert_string_equal(s[5].session_id, "s6");
    /* (uid_t)-1: still authenticating */
    assert_int_equal(s[3].uid, -1);
    /* a NetBIOS name with spaces, SMB1 */
    assert_string_equal(s[4].remote_machine, "MY OLD PC");
    assert_string_equal(s[4].hostname, "ipv4:10.0.0.9:139");
    assert_string_equal(s[4].dialect, "NT1");
    /* IPv6, and a dialect smbstatus does not know */
    assert_string_equal(s[5].remote_machine, "fe80::1");
    assert_string_equal(s[5].hostname, "ipv6:fe80::1:51000");
    assert_null(s[5].dialect);
    sc_arena_free(a);
}

static void test_tcons(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_smbstatus_text t;
    parse_ok(a, T417, PATHS, 4, &t);
    assert_int_equal(t.ntcons, 7);
    const sc_tcon *c = t.tcons;
    assert_string_equal(c[0].tcon_id, "t1");
    assert_string_equal(c[0].service, "Finance Data");
    assert_string_equal(c[0].server.pid, "496");
    assert_string_equal(c[0].machine, "127.0.0.11");
    assert_null(c[0].session_id);
    assert_true(c[0].connected_at.valid);
    assert_int_equal(c[0].connected_at.sec, T_1128);
    /* a name longer than its column; "%e" day */
    assert_string_equal(c[2].service, "a_long_share_name");
    assert_string_equal(c[2].server.pid, "498");
    assert_int_equal(c[2].connected_at.sec, T_1101);
    /* the machine holds spaces: its session says where the pid is */
    assert_string_equal(c[4].service, "Old Stuff");
    assert_string_equal(c[4].server.pid, "501");
    assert_string_equal(c[4].machine, "MY OLD PC");
    /* a service ending in a number, then an IPv6 machine */
    assert_string_equal(c[5].service, "Backup 2024");
    assert_string_equal(c[5].server.pid, "502");
    assert_string_equal(c[5].machine, "fe80::1");
    /* no machine: smbstatus did not find the session */
    assert_string_equal(c[6].service, "Backup 2024");
    assert_string_equal(c[6].server.pid, "499");
    assert_null(c[6].machine);
    assert_string_equal(t.tcon_lines[0],
                        "Finance Data 496     127.0.0.11    Sat Nov 28 06:50:30 2026 UTC     "
                        "AES-128-CCM  AES-128-CMAC");
    sc_arena_free(a);
}

static void test_opens(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_smbstatus_text t;
    parse_ok(a, T417, PATHS, 4, &t);
    assert_int_equal(t.nopens, 8);
    const sc_open *o = t.opens;
    assert_string_equal(o[0].server.pid, "496");
    assert_int_equal(o[0].uid, 1001);
    assert_string_equal(o[0].service_path, "/srv/projects");
    assert_string_equal(o[0].filename, "a2.txt");
    assert_int_equal(o[0].access_mask, 3);
    assert_int_equal(o[0].opened_at.sec, T_1128);
    assert_string_equal(o[1].filename, "f 1.txt");
    assert_string_equal(o[1].service_path, "/srv/finance");
    /* WRITE_OWNER */
    assert_int_equal(o[2].access_mask, 0x1f01ff);
    assert_string_equal(o[3].filename, "b.txt");
    assert_int_equal(o[3].access_mask, 0x12019f);
    /* "LEASE(R)  ", a stream, a day under 10 */
    assert_string_equal(o[4].filename, "c.txt:s:$DATA");
    assert_int_equal(o[4].opened_at.sec, T_1102);
    /* "LEASE STATE UNKNOWN", an unknown deny mode, "   " in the name */
    assert_string_equal(o[5].service_path, "/srv/projects");
    assert_string_equal(o[5].filename, "d   e.txt");
    /* "   " in the share path: the known path decides */
    assert_string_equal(o[6].service_path, "/srv/old   stuff");
    assert_string_equal(o[6].filename, "x.txt");
    /* the share's root directory, "unknown time" */
    assert_string_equal(o[7].service_path, "/srv/old");
    assert_string_equal(o[7].filename, ".");
    assert_false(o[7].opened_at.valid);

    /* without the known paths, the first "   " ends the path */
    parse_ok(a, T417, NULL, 0, &t);
    assert_string_equal(t.opens[6].service_path, "/srv/old");
    assert_string_equal(t.opens[6].filename, "stuff   x.txt");
    assert_string_equal(t.opens[5].filename, "d   e.txt");
    sc_arena_free(a);
}

/* 4.25 prints a Persistent column before SharePath. */
static void test_persistent(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_smbstatus_text t;
    parse_ok(a, T425_OPENS, NULL, 0, &t);
    assert_false(t.has_sessions);
    assert_true(t.has_opens);
    assert_int_equal(t.nopens, 2);
    assert_string_equal(t.opens[0].service_path, "/srv/finance");
    assert_string_equal(t.opens[0].filename, "f 1.txt");
    assert_string_equal(t.opens[1].service_path, "/srv/finance");
    assert_string_equal(t.opens[1].filename, "owner.txt");
    assert_int_equal(t.opens[1].access_mask, 0x1f01ff);
    assert_int_equal(t.opens[1].uid, 1001);
    sc_arena_free(a);
}

/* 4.15 and 4.16 print the open lines piece by piece, "EXCLUSIVE+BATCH",
 * and say "No locked files" (or that locking.tdb does not exist yet) on
 * standard output. */
static void test_415_416(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_smbstatus_text t;
    parse_ok(a, T415, NULL, 0, &t);
    assert_int_equal(t.nsessions, 1);
    assert_int_equal(t.ntcons, 1);
    assert_int_equal(t.nopens, 5);
    static const char *const names[] = {"a.txt", "b.txt", "c.txt", "d.txt", "e.txt"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(t.opens[i].service_path, "/srv/p");
        assert_string_equal(t.opens[i].filename, names[i]);
        assert_string_equal(t.opens[i].server.pid, "1234");
    }
    assert_int_equal(t.opens[1].access_mask, 0x12019f);
    parse_ok(a, T416_EMPTY, NULL, 0, &t);
    assert_true(t.has_sessions && t.has_tcons && t.has_opens);
    assert_int_equal(t.nsessions + t.ntcons + t.nopens, 0);
    parse_ok(a, T416_NOTINIT, NULL, 0, &t);
    assert_int_equal(t.nsessions + t.ntcons + t.nopens, 0);
    sc_arena_free(a);
}

/* CTDB: "vnn:pid" (and "pid.task") in every table. */
static void test_ctdb(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_smbstatus_text t;
    parse_ok(a, TCTDB, NULL, 0, &t);
    assert_int_equal(t.nsessions, 2);
    assert_string_equal(t.sessions[0].server.pid, "0:14006");
    assert_string_equal(t.sessions[1].server.pid, "1:14006");
    assert_int_equal(t.ntcons, 3);
    assert_string_equal(t.tcons[2].server.pid, "14007.2");
    assert_int_equal(t.nopens, 2);
    assert_string_equal(t.opens[1].server.pid, "1:14006");
    assert_string_equal(t.opens[1].filename, "b");
    int64_t *uids = NULL;
    assert_int_equal(sc_smbstatus_text_uids_needed(a, &t, &uids), 0);
    sc_smbstatus_text_link(a, &t, uids, NULL, 0);
    /* same pid on two nodes: two smbds; the third has no session */
    assert_int_equal(t.ntcons, 2);
    assert_string_equal(t.tcons[0].session_id, "s1");
    assert_string_equal(t.tcons[1].session_id, "s2");
    sc_arena_free(a);
}

static void test_link(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_smbstatus_text t;
    parse_ok(a, T417, PATHS, 4, &t);
    int64_t *uids = NULL;
    assert_int_equal(sc_smbstatus_text_uids_needed(a, &t, &uids), 0);
    sc_smbstatus_text_link(a, &t, uids, NULL, 0);
    /* the one without a machine (no session) is dropped */
    assert_int_equal(t.ntcons, 6);
    static const char *const want[][2] = {{"t1", "s2"}, {"t2", "s3"}, {"t3", "s3"},
                                          {"t4", "s1"}, {"t5", "s5"}, {"t6", "s6"}};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(t.tcons[i].tcon_id, want[i][0]);
        assert_string_equal(t.tcons[i].session_id, want[i][1]);
    }
    assert_string_equal(t.tcon_lines[5],
                        "Backup 2024  502     fe80::1       Sat Nov 28 06:50:30 2026 UTC     -"
                        "            -");
    sc_arena_free(a);
}

/* One smbd serving three users (a terminal server): the listings of two
 * of them say whose each tree connect is; the rest is the third's. */
static void test_link_several_users(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_smbstatus_text t, lists[2];
    parse_ok(a, TTS, NULL, 0, &t);
    int64_t *uids = NULL;
    assert_int_equal(sc_smbstatus_text_uids_needed(a, &t, &uids), 2);
    assert_int_equal(uids[0], 1001);
    assert_int_equal(uids[1], 1002);
    parse_ok(a, TTS_1001, NULL, 0, &lists[0]);
    parse_ok(a, TTS_1002, NULL, 0, &lists[1]);
    sc_smbstatus_text_link(a, &t, uids, lists, 2);
    assert_int_equal(t.ntcons, 5);
    static const char *const want[][3] = {{"Projects", "700", "s2"}, {"Projects", "700", "s3"},
                                          {"Projects", "700", "s1"}, {"Finance", "700", "s2"},
                                          {"Projects", "701", "s4"}};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(t.tcons[i].service, want[i][0]);
        assert_string_equal(t.tcons[i].server.pid, want[i][1]);
        assert_string_equal(t.tcons[i].session_id, want[i][2]);
    }
    /* without the listings, only the unlisted user's are known: none here,
     * since two users are unlisted */
    parse_ok(a, TTS, NULL, 0, &t);
    sc_smbstatus_text_link(a, &t, uids, NULL, 0);
    assert_int_equal(t.ntcons, 1);
    assert_string_equal(t.tcons[0].server.pid, "701");
    sc_arena_free(a);
}

/* A user in more ambiguous smbds than the others is the one left unlisted;
 * sessions still authenticating do not make an smbd ambiguous. */
static void test_uids_needed(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    static const char text[] =
        "PID     Username     Group        Machine                                   Protocol Version  Encryption           Signing\n"
        "1       7            7            m (ipv4:1.1.1.1:1)                        SMB3_11           -                    -\n"
        "1       5            5            m (ipv4:1.1.1.1:1)                        SMB3_11           -                    -\n"
        "2       5            5            m (ipv4:1.1.1.1:2)                        SMB3_11           -                    -\n"
        "2       9            9            m (ipv4:1.1.1.1:2)                        SMB3_11           -                    -\n"
        "3       9            9            n (ipv4:1.1.1.2:2)                        SMB3_11           -                    -\n"
        "3       4294967295   4294967295   n (ipv4:1.1.1.2:2)                        SMB3_11           -                    -\n";
    sc_smbstatus_text t;
    parse_ok(a, text, NULL, 0, &t);
    int64_t *uids = NULL;
    assert_int_equal(sc_smbstatus_text_uids_needed(a, &t, &uids), 2);
    assert_int_equal(uids[0], 7);
    assert_int_equal(uids[1], 9);
    sc_arena_free(a);
}

static void test_errors(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    const char *m;
    /* a new column in a header */
    m = parse_err(a, "\nSamba version 4.99.0\n"
                     "PID     Username     Group        Machine    Protocol Version  Encryption  Signing  Compression\n");
    assert_non_null(strstr(m, "smbstatus -n: line 3: a table header with other columns"));
    /* a line before any table */
    m = parse_err(a, "hello\n");
    assert_non_null(strstr(m, "line 1: a line outside any table"));
    /* names instead of numbers: run without -n */
    m = parse_err(a, "PID     Username     Group        Machine                                   Protocol Version  Encryption           Signing\n"
                     "497     smbcim_bench smbcim_bench 127.0.0.11 (ipv4:127.0.0.11:36321)        SMB3_00           -                    -\n");
    assert_non_null(strstr(m, "line 2: no numeric uid and gid"));
    /* a date in another zone */
    m = parse_err(a, "Service      pid     Machine       Connected at                     Encryption   Signing\n"
                     "-----\n"
                     "IPC$         498     127.0.0.12    Sat Nov 28 06:50:30 2026 CET     -            -\n");
    assert_non_null(strstr(m, "line 3: no date in UTC"));
    assert_non_null(strstr(m, "\"IPC$         498"));
    /* an open line cut short */
    m = parse_err(a, "Pid          User(ID)   DenyMode   Access      R/W        Oplock           SharePath   Name   Time\n"
                     "496          1001       DENY_NONE  0x3         RDWR       NONE\n");
    assert_non_null(strstr(m, "line 2:"));
    /* 4.15: an unknown deny mode breaks the line */
    m = parse_err(a, "Pid          User(ID)   DenyMode   Access      R/W        Oplock           SharePath   Name   Time\n"
                     "496          1001       unknown-please report ! e->share_access = 0x8, e->private_options = 0x0\n");
    assert_non_null(strstr(m, "line 2: no deny mode"));
    m = parse_err(a, "Pid          User(ID)   DenyMode   Access      R/W        Oplock           SharePath   Name   Time\n"
                     "locked file list truncated\n");
    assert_non_null(strstr(m, "line 2: smbstatus could not read every open"));
    /* the 4.25 layout under the 4.17 header: "no" is not a share path
     * (the fallback's old parser read it as one) */
    m = parse_err(a, "Pid          User(ID)   DenyMode   Access      R/W        Oplock           SharePath   Name   Time\n"
                     "746          1000       DENY_NONE  0x3         RDWR       NONE             no         /srv/finance   f 1.txt   Sat Nov 28 06:50:32 2026\n");
    assert_non_null(strstr(m, "line 2: no share path"));
    m = parse_err(a, "Pid          User(ID)   DenyMode   Access      R/W        Oplock           Persistent SharePath   Name   Time\n"
                     "746          1000       DENY_NONE  0x3         RDWR       NONE             /srv/finance   f 1.txt   Sat Nov 28 06:50:32 2026\n");
    assert_non_null(strstr(m, "line 2: no Persistent"));
    /* a NUL byte */
    static const char nul[] = "Pid          User(ID)   DenyMode   Access      R/W        Oplock           SharePath   Name   Time\n496 \0 x\n";
    sc_smbstatus_text t;
    smbcim_error err = {0};
    assert_int_equal(sc_smbstatus_text_parse(a, nul, sizeof nul - 1, "x", NULL, 0, &t, &err),
                     WBEM_E_FAILED);
    assert_non_null(strstr(err.msg, "line 2: a NUL byte"));
    sc_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_tcons),
        cmocka_unit_test(test_opens),
        cmocka_unit_test(test_persistent),
        cmocka_unit_test(test_415_416),
        cmocka_unit_test(test_ctdb),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_link_several_users),
        cmocka_unit_test(test_uids_needed),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
