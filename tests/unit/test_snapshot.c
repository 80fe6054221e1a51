/*
 * test_snapshot.c - the snapshot reader: timestamps, the fixtures' record
 * counts and fields, and every kind of fault with its JSON path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "sources/sources.h"

static const char *srcdir(void)
{
    const char *d = getenv("SMBCIM_SRCDIR");
    return d ? d : ".";
}

static void test_time(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
        int64_t sec;
        int32_t usec;
    } t[] = {
        {"1970-01-01T00:00:00Z", true, 0, 0},
        {"2026-11-24T12:00:00.000000+00:00", true, 1795521600, 0},
        {"2026-11-24T13:00:00.5+01:00", true, 1795521600, 500000},
        {"2026-11-24T10:56:03.476902+0000", true, 1795517763, 476902},
        {"2026-11-24T07:00:00-05:00", true, 1795521600, 0},
        {"2026-11-24 12:00:00Z", true, 1795521600, 0},
        {"2024-02-29T00:00:00Z", true, 1709164800, 0},
        {"2026-11-24T12:00:00.123456789Z", true, 1795521600, 123456},
        {"2026-02-29T00:00:00Z", false, 0, 0},
        {"2026-02-30T12:00:00Z", false, 0, 0},
        {"2026-13-01T00:00:00Z", false, 0, 0},
        {"2026-11-24T24:00:00Z", false, 0, 0},
        {"2026-11-24T12:00:00", false, 0, 0},
        {"2026-11-24T12:00:00.Z", false, 0, 0},
        {"2026-11-24T12:00:00+1", false, 0, 0},
        {"2026-11-24T12:00:00Zjunk", false, 0, 0},
        {"yesterday", false, 0, 0},
        {"", false, 0, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        sc_time tm;
        bool ok = sc_time_parse(t[i].s, &tm);
        if (ok != t[i].ok)
            fail_msg("%s: parse %s", t[i].s, ok ? "accepted" : "rejected");
        if (ok && (tm.sec != t[i].sec || tm.usec != t[i].usec))
            fail_msg("%s: %lld.%06d", t[i].s, (long long)tm.sec, tm.usec);
    }
}

static void test_fs01(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/fs01.json", srcdir());
    sc_arena *a = sc_arena_new();
    sc_state *st;
    smbcim_error err = {0};
    if (sc_snapshot_load(a, path, &st, &err) != WBEM_S_NO_ERROR)
        fail_msg("%s", err.msg);
    assert_string_equal(st->server_name, "fs01");
    assert_int_equal(st->nshares, 8);
    assert_int_equal(st->nsessions, 7);
    assert_int_equal(st->ntcons, 9);
    assert_int_equal(st->nopens, 6);
    assert_string_equal(st->shares[2].name, "Finance Data");
    assert_int_equal(st->shares[2].max_connections, 10);
    assert_true(st->shares[0].administrative);
    assert_int_equal(st->shares[0].kind, SC_SHARE_IPC);
    assert_int_equal(st->shares[5].kind, SC_SHARE_PRINTER);
    assert_string_equal(st->sessions[2].username, "CORP\\bob");
    assert_int_equal(st->sessions[6].uid, -1);
    assert_string_equal(st->sessions[0].server.pid, "2001");
    assert_non_null(st->sessions[0].server.unique_id);
    assert_string_equal(st->tcons[4].service, "Données");
    assert_int_equal(st->tcons[4].connected_at.usec, 500000);
    int found = 0;
    for (size_t i = 0; i < st->nopens; i++) {
        if (st->opens[i].access_mask == 0x001F01FF) {
            found++;
            assert_string_equal(st->opens[i].service_path, "/srv/finance");
            assert_string_equal(st->opens[i].filename, "q4.xlsx");
        }
    }
    assert_int_equal(found, 1);
    sc_arena_free(a);
}

static const struct {
    const char *file;
    const char *msg;
} bad_files[] = {
    {"not-json.json", "line 1, column 35: unexpected end of the document"},
    {"version-2.json", "$.smbcim_snapshot: unsupported snapshot version 2"},
    {"no-server-name.json", "$.server: missing \"name\""},
    {"connected-at-number.json", "$.smbstatus.tcons[\"1\"].connected_at: expected an ISO 8601 timestamp, found 5"},
    {"shares-not-array.json", "$.shares: expected an array, found an object"},
    {"kind-floppy.json", "$.shares[0].kind: expected \"disk\", \"printer\", \"device\" or \"ipc\", found \"floppy\""},
    {"max-negative.json", "$.shares[0].max_connections: expected an integer from 0 (unlimited) to 4294967295, found -1"},
    {"bad-date.json", "$.server.taken_at: expected an ISO 8601 timestamp, found \"2026-02-30T12:00:00Z\""},
    {"trailing-garbage.json", "text after the end of the document"},
    {"session-no-uid.json", "$.smbstatus.sessions[\"7\"]: missing \"uid\""},
    {"no-smbstatus.json", "$: missing \"smbstatus\""},
    {"empty.json", "line 1, column 1: unexpected end of the document"},
};

static void test_bad_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/fixtures/bad/%s", srcdir(), bad_files[i].file);
        sc_arena *a = sc_arena_new();
        sc_state *st = (sc_state *)1;
        smbcim_error err = {0};
        smbcim_status code = sc_snapshot_load(a, path, &st, &err);
        if (code != WBEM_E_INVALID_PARAMETER || !strstr(err.msg, bad_files[i].msg) ||
            !strstr(err.msg, bad_files[i].file))
            fail_msg("%s: got %s '%s', want '%s'", bad_files[i].file, smbcim_status_name(code),
                     err.msg, bad_files[i].msg);
        assert_null(st);
        sc_arena_free(a);
    }
    sc_arena *a = sc_arena_new();
    sc_state *st;
    smbcim_error err = {0};
    assert_int_equal(sc_snapshot_load(a, "/nonexistent/x.json", &st, &err), WBEM_E_INVALID_PARAMETER);
    assert_non_null(strstr(err.msg, "cannot open snapshot /nonexistent/x.json"));
    sc_arena_free(a);
}

#define HEAD "{\"smbcim_snapshot\": 1, \"server\": {\"name\": \"s\", \"taken_at\": \"2026-11-24T12:00:00Z\"}, "

static const struct {
    const char *doc;
    const char *msg; /* NULL: accepted */
} inline_docs[] = {
    {HEAD "\"shares\": [], \"smbstatus\": {}}", NULL},
    {HEAD "\"shares\": [], \"smbstatus\": {}, \"extra\": [1, {\"x\": null}]}", NULL},
    {HEAD "\"shares\": [{\"name\": \"a\", \"kind\": \"disk\", \"administrative\": false, \"max_connections\": 0, \"path\": null}], \"smbstatus\": {}}", NULL},
    {"[]", "$: expected an object, found an array"},
    {"{\"smbcim_snapshot\": \"1\"}", "$.smbcim_snapshot: expected the snapshot format version (an integer), found \"1\""},
    {HEAD "\"shares\": [{\"name\": \"\", \"kind\": \"disk\", \"administrative\": false, \"max_connections\": 0}], \"smbstatus\": {}}",
     "$.shares[0].name: expected a non-empty string, found \"\""},
    {HEAD "\"shares\": [{\"name\": \"a\", \"kind\": \"disk\", \"administrative\": 1, \"max_connections\": 0}], \"smbstatus\": {}}",
     "$.shares[0].administrative: expected true or false, found 1"},
    {HEAD "\"shares\": [{\"name\": \"a\", \"kind\": \"disk\", \"administrative\": false}], \"smbstatus\": {}}",
     "$.shares[0]: missing \"max_connections\""},
    {HEAD "\"shares\": [{\"name\": \"a\", \"kind\": \"disk\", \"administrative\": false, \"max_connections\": 4294967296}], \"smbstatus\": {}}",
     "max_connections: expected an integer"},
    {HEAD "\"shares\": [], \"smbstatus\": {\"sessions\": []}}", "$.smbstatus.sessions: expected an object, found an array"},
    {HEAD "\"shares\": [], \"smbstatus\": {\"open_files\": {\"/a b\": {\"service_path\": \"/a\", \"filename\": \"b\", \"opens\": {\"1/2\": {\"server_id\": {\"pid\": \"1\"}, \"uid\": 0, \"access_mask\": {\"hex\": \"0xZZ\"}}}}}}}",
     "$.smbstatus.open_files[\"/a b\"].opens[\"1/2\"].access_mask.hex: expected a hexadecimal mask"},
    {HEAD "\"shares\": [], \"smbstatus\": {\"tcons\": {\"1\": {\"service\": \"a\", \"server_id\": {\"task_id\": \"0\"}}}}}",
     "$.smbstatus.tcons[\"1\"].server_id: missing \"pid\""},
    {HEAD "\"shares\": [], \"smbstatus\": {\"tcons\": {\"1\": {\"service\": \"a\\u0000b\"}}}}",
     "expected a string without NUL characters"},
    {HEAD "\"shares\": [], \"smbstatus\": {}} {}", "text after the end of the document"},
    {"{\"a\": 1,}", "line 1, column 9"},
};

static void test_inline(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(inline_docs) / sizeof(inline_docs[0]); i++) {
        sc_arena *a = sc_arena_new();
        sc_state *st;
        smbcim_error err = {0};
        smbcim_status code = sc_snapshot_parse(a, inline_docs[i].doc, strlen(inline_docs[i].doc),
                                               "doc", &st, &err);
        if (!inline_docs[i].msg) {
            if (code != WBEM_S_NO_ERROR)
                fail_msg("%s: %s", inline_docs[i].doc, err.msg);
        } else if (code != WBEM_E_INVALID_PARAMETER || !strstr(err.msg, inline_docs[i].msg) ||
                   strncmp(err.msg, "doc: ", 5) != 0) {
            fail_msg("%s\n got '%s'\n want '%s'", inline_docs[i].doc, err.msg, inline_docs[i].msg);
        }
        sc_arena_free(a);
    }
}

/* Starts a process that writes len bytes of text (repeated) into the FIFO
 * at path, then exits. */
static pid_t fifo_writer(const char *path, const char *text, size_t len)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        size_t n = strlen(text);
        for (size_t done = 0; fd >= 0 && done < len;) {
            ssize_t w = write(fd, text, len - done < n ? len - done : n);
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        _exit(0);
    }
    return pid;
}

/* What is not a snapshot file must not hang or exhaust the reader:
 * /dev/zero is refused unopened, a regular file over the cap by its size
 * (a sparse one: it costs nothing), a pipe once it has given more than
 * the cap; a pipe within the cap still works (`--snapshot <(cat x)`).
 * alarm() turns a hang into a failure. */
static void test_unsafe_files(void **state)
{
    (void)state;
    alarm(20);
    sc_arena *a = sc_arena_new();
    sc_state *st;
    smbcim_error err = {0};
    assert_int_equal(sc_snapshot_load(a, "/dev/zero", &st, &err), WBEM_E_INVALID_PARAMETER);
    assert_string_equal(err.msg, "cannot read snapshot /dev/zero: it is a character device, "
                                 "not a regular file or a pipe");
    assert_null(st);

    char dir[] = "/tmp/smbcim-snap-unsafe.XXXXXX";
    assert_non_null(mkdtemp(dir));
    smbcim_error_clear(&err);
    assert_int_equal(sc_snapshot_load(a, dir, &st, &err), WBEM_E_INVALID_PARAMETER);
    assert_non_null(strstr(err.msg, "it is a directory, not a regular file or a pipe"));

    char big[300], fifo[300], want[600];
    snprintf(big, sizeof big, "%s/big.json", dir);
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)SC_SNAPSHOT_MAX_FILE + 1), 0);
    close(fd);
    smbcim_error_clear(&err);
    assert_int_equal(sc_snapshot_load(a, big, &st, &err), WBEM_E_INVALID_PARAMETER);
    snprintf(want, sizeof want, "cannot read snapshot %s: 536870913 bytes, more than the limit "
                                "of 536870912 bytes (512 MiB)", big);
    assert_string_equal(err.msg, want);

    /* A FIFO within the cap: read as before. */
    snprintf(fifo, sizeof fifo, "%s/snap.fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *doc = "{\"smbcim_snapshot\": 1, \"server\": {\"name\": \"p\", \"taken_at\": "
                      "\"2026-11-24T12:00:00Z\"}, \"shares\": [], \"smbstatus\": {}}";
    pid_t pid = fifo_writer(fifo, doc, strlen(doc));
    smbcim_error_clear(&err);
    if (sc_snapshot_load(a, fifo, &st, &err) != WBEM_S_NO_ERROR)
        fail_msg("%s", err.msg);
    assert_string_equal(st->server_name, "p");
    waitpid(pid, NULL, 0);

    /* A FIFO that gives more than the cap: stopped, with an error. */
    pid = fifo_writer(fifo, "                ", 4096);
    smbcim_error_clear(&err);
    assert_int_equal(sc_snapshot_load_limit(a, fifo, 1000, &st, &err), WBEM_E_INVALID_PARAMETER);
    snprintf(want, sizeof want, "cannot read snapshot %s: more than the limit of 1000 bytes; "
                                "stopped reading", fifo);
    assert_string_equal(err.msg, want);
    waitpid(pid, NULL, 0);
    alarm(0);
    sc_arena_free(a);
    unlink(big), unlink(fifo), rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_fs01),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_unsafe_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
