/*
 * test_samba_ndr.c - the decoders of smbd's records, over records recorded
 * from a real smbd 4.17.12 (tests/fixtures/tdb/, one .hex file each, captured with
 * tdbdump while the holder of tests/e2e kept two sessions open; the
 * expected values are what smbstatus printed at that moment), plus
 * truncation and corruption of each: every prefix and every single-byte
 * change must be rejected or decoded without reading out of bounds.
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

static const char *srcdir(void)
{
    const char *d = getenv("SMBCIM_SRCDIR");
    return d ? d : ".";
}

/* Reads a .hex fixture (hex digits, newlines) into a malloc'd buffer. */
static uint8_t *load_hex(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/tdb/%s", srcdir(), name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    uint8_t *buf = malloc(65536);
    size_t n = 0;
    int hi = -1, c;
    while ((c = fgetc(f)) != EOF) {
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            buf[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void test_session(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = load_hex("session-1696702403.hex", &len);
    sc_arena *a = sc_arena_new();
    sc_ndr_session s;
    char why[256] = "";
    assert_true(sc_ndr_decode_session(a, b, len, &s, why, sizeof why));
    assert_false(s.deleted);
    assert_int_equal(s.session_id, 1696702403u);
    assert_int_equal(s.pid, 3803);
    assert_true(s.unique_id == 1851675317109769554ull);
    assert_int_equal(s.dialect, 0x0300);
    assert_true(s.authenticated);
    assert_int_equal(s.uid, 1002);
    assert_int_equal(s.gid, 1002);
    assert_string_equal(s.unix_name, "smbcim_bob");
    assert_string_equal(s.remote_address, "ipv4:127.0.0.1:34872");
    assert_string_equal(s.remote_name, "127.0.0.1");
    assert_string_equal(s.local_address, "ipv4:127.0.0.1:55597");
    assert_int_equal(s.signing_flags, 0x06);    /* "partial" */
    assert_int_equal(s.encryption_flags, 0x0c); /* "partial" */
    assert_true(s.creation_time > 116444736000000000ull);
    free(b);

    b = load_hex("session-1087260867.hex", &len);
    assert_true(sc_ndr_decode_session(a, b, len, &s, why, sizeof why));
    assert_int_equal(s.session_id, 1087260867u);
    assert_int_equal(s.pid, 3802);
    assert_int_equal(s.uid, 1001);
    assert_string_equal(s.unix_name, "smbcim_alice");
    assert_string_equal(s.remote_address, "ipv4:127.0.0.1:34866");
    free(b);
    sc_arena_free(a);
}

static void test_tcon(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        uint32_t id, session;
        uint64_t pid;
        const char *share;
    } t[] = {
        {"tcon-2570229693.hex", 2570229693u, 1696702403u, 3803, "smbcim_bob"},
        {"tcon-717574905.hex", 717574905u, 1696702403u, 3803, "Finance Data"},
        {"tcon-2972087930.hex", 2972087930u, 1087260867u, 3802, "Projects"},
        {"tcon-955939797.hex", 955939797u, 1087260867u, 3802, "Finance Data"},
        {"tcon-2699933923.hex", 2699933923u, 1696702403u, 3803, "IPC$"},
    };
    sc_arena *a = sc_arena_new();
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t len;
        uint8_t *b = load_hex(t[i].file, &len);
        sc_ndr_tcon tc;
        char why[256] = "";
        assert_true(sc_ndr_decode_tcon(a, b, len, &tc, why, sizeof why));
        assert_int_equal(tc.tcon_id, t[i].id);
        assert_int_equal(tc.session_id, t[i].session);
        assert_int_equal(tc.pid, t[i].pid);
        assert_string_equal(tc.share_name, t[i].share);
        free(b);
    }
    sc_arena_free(a);
}

static void test_locking(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        const char *name;
        uint64_t pid;
        uint32_t access, uid;
        const char *dir;
    } t[] = {
        {"locking-10953067.hex", "plan.txt", 3802, 0x3, 1001, "projects"},
        {"locking-10953116.hex", "all.txt", 3802, 0x1f01ff, 1001, "projects"},
        {"locking-10953068.hex", "budget.xlsx", 3803, 0x3, 1002, "finance"},
    };
    sc_arena *a = sc_arena_new();
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t len;
        uint8_t *b = load_hex(t[i].file, &len);
        sc_ndr_file f;
        char why[256] = "";
        assert_true(sc_ndr_decode_locking(a, b, len, &f, why, sizeof why));
        assert_string_equal(f.base_name, t[i].name);
        assert_null(f.stream_name);
        assert_non_null(strstr(f.service_path, t[i].dir));
        assert_int_equal(f.nopens, 1);
        assert_int_equal(f.opens[0].pid, t[i].pid);
        assert_int_equal(f.opens[0].access_mask, t[i].access);
        assert_int_equal(f.opens[0].uid, t[i].uid);
        assert_true(f.opens[0].time_sec > 1795000000);
        free(b);
    }
    sc_arena_free(a);
}

/* Every truncation and every one-byte corruption of every fixture: the
 * decoders must fail cleanly (a message, no crash) or decode. */
static void test_damage(void **state)
{
    (void)state;
    static const char *files[] = {
        "session-1696702403.hex", "tcon-717574905.hex", "locking-10953116.hex",
    };
    for (size_t fi = 0; fi < 3; fi++) {
        size_t len;
        uint8_t *b = load_hex(files[fi], &len);
        size_t rejected = 0;
        for (size_t cut = 0; cut <= len; cut++) {
            sc_arena *a = sc_arena_new();
            uint8_t *c = malloc(cut ? cut : 1);
            memcpy(c, b, cut);
            char why[256] = "";
            bool ok;
            sc_ndr_session s;
            sc_ndr_tcon t;
            sc_ndr_file f;
            if (fi == 0)
                ok = sc_ndr_decode_session(a, c, cut, &s, why, sizeof why) && (s.deleted || cut == len);
            else if (fi == 1)
                ok = sc_ndr_decode_tcon(a, c, cut, &t, why, sizeof why) && (t.deleted || cut == len);
            else
                ok = sc_ndr_decode_locking(a, c, cut, &f, why, sizeof why);
            if (!ok) {
                rejected++;
                assert_true(why[0] != '\0' || fi == 2);
            }
            free(c);
            sc_arena_free(a);
        }
        /* Only the empty record (deleted) and the whole one decode. */
        if (fi < 2)
            assert_int_equal(rejected, len - 1);
        for (size_t i = 0; i < len; i++) {
            sc_arena *a = sc_arena_new();
            uint8_t *c = malloc(len);
            memcpy(c, b, len);
            c[i] ^= 0xA5;
            char why[256];
            sc_ndr_session s;
            sc_ndr_tcon t;
            sc_ndr_file f;
            if (fi == 0)
                (void)sc_ndr_decode_session(a, c, len, &s, why, sizeof why);
            else if (fi == 1)
                (void)sc_ndr_decode_tcon(a, c, len, &t, why, sizeof why);
            else
                (void)sc_ndr_decode_locking(a, c, len, &f, why, sizeof why);
            free(c);
            sc_arena_free(a);
        }
        free(b);
    }
}

static void test_messages(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = load_hex("tcon-717574905.hex", &len);
    sc_arena *a = sc_arena_new();
    sc_ndr_tcon t;
    char why[256] = "";
    b[0] = 1; /* version 1: unknown */
    assert_false(sc_ndr_decode_tcon(a, b, len, &t, why, sizeof why));
    assert_string_equal(why, "tree connect record: unknown smbXsrv record version at byte 12 of 97");
    b[0] = 0;
    assert_false(sc_ndr_decode_tcon(a, b, 40, &t, why, sizeof why));
    assert_non_null(strstr(why, "record ends early"));
    free(b);
    sc_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_tcon),
        cmocka_unit_test(test_locking),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests_name("samba_ndr", tests, NULL, NULL);
}
