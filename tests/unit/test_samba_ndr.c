/*
 * test_samba_ndr.c - the decoders of smbd's records, over records captured
 * from real smbd releases (tests/fixtures/tdb/<release>/, made by
 * tools/capture-records.sh: two users, four tree connects, files held
 * open, one with WRITE_OWNER and one with delete-on-close set).  The
 * expected values of each record are what that release's own ndrdump reads
 * from it (expected.txt, tools/ndr-expect.py), so the decoders are checked
 * against Samba's generated code, not against themselves.  Plus every
 * truncation and every one-byte corruption of one record of each kind and
 * release: each must be rejected with a message or decoded without reading
 * out of bounds; and a record of one release read as another's is refused.
 * Security tokens with claims and device SIDs come from records built with
 * each release's own NDR code (idl-claims-*), plus hand-made damage.
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

#define NTTIME_EPOCH 116444736000000000ull

static const char *srcdir(void)
{
    const char *d = getenv("SMBCIM_SRCDIR");
    return d ? d : ".";
}

/* Reads a .hex fixture (hex digits, newlines) into a malloc'd buffer. */
static uint8_t *load_hex(const char *rel, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/tdb/%s/%s", srcdir(), rel, name);
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
            assert_true(n < 65536);
            buf[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* The value of key= in an expected.txt line (copied into out). */
static const char *field(const char *line, const char *key, char *out, size_t len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\t%s=", key);
    const char *p = strstr(line, pat);
    assert_non_null(p);
    p += strlen(pat);
    size_t n = strcspn(p, "\t\n");
    assert_true(n < len);
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

static unsigned long long num(const char *line, const char *key)
{
    char v[64];
    return strtoull(field(line, key, v, sizeof v), NULL, 10);
}

static void expect_str(const char *line, const char *key, const char *got)
{
    char v[512];
    field(line, key, v, sizeof v);
    if (strcmp(v, "None") == 0)
        assert_null(got);
    else
        assert_string_equal(got, v);
}

/* Seconds since 1970, rounded as Samba's nt_time_to_unix (and so
 * ndrdump) rounds. */
static uint64_t unix_secs(uint64_t nt)
{
    return (nt - NTTIME_EPOCH + 5000000u) / 10000000u;
}

/* "Samba 4.17-4.19" covers release "4.18"? */
static bool covers(const char *name, const char *release)
{
    int lo = 0, hi = 0, r = 0;
    if (sscanf(release, "4.%d", &r) != 1)
        return false;
    if (sscanf(name, "Samba 4.%d-4.%d", &lo, &hi) == 2)
        return lo <= r && r <= hi;
    if (sscanf(name, "Samba 4.%d", &lo) == 1)
        return lo == r;
    return false;
}


/* Every record of a release against its expected.txt, with one layout set
 * per kind shared by the records of that kind (as the live source does per
 * database). */
static void check_dir(const char *rel, const char *release)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/tdb/%s/expected.txt", srcdir(), rel);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    unsigned layouts[3] = {0, 0, 0};
    size_t seen[3] = {0, 0, 0};
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char name[256];
        size_t n = strcspn(line, "\t");
        assert_true(n < sizeof name);
        memcpy(name, line, n);
        name[n] = '\0';
        size_t len;
        uint8_t *b = load_hex(rel, name, &len);
        sc_arena *a = sc_arena_new();
        char why[256] = "";
        if (strncmp(name, "session-", 8) == 0) {
            sc_ndr_session s;
            if (!sc_ndr_decode_session(a, b, len, &s, &layouts[SC_NDR_SESSION], why, sizeof why))
                fail_msg("%s/%s: %s", rel, name, why);
            assert_false(s.deleted);
            assert_int_equal(s.session_id, num(line, "session_id"));
            assert_int_equal(s.pid, num(line, "pid"));
            assert_true(s.authenticated);
            assert_int_equal(s.uid, (int64_t)num(line, "uid"));
            expect_str(line, "unix_name", s.unix_name);
            expect_str(line, "remote_address", s.remote_address);
            expect_str(line, "remote_name", s.remote_name);
            assert_int_equal(s.dialect, num(line, "dialect"));
            assert_int_equal(unix_secs(s.creation_time), num(line, "creation"));
            seen[SC_NDR_SESSION]++;
        } else if (strncmp(name, "tcon-", 5) == 0) {
            sc_ndr_tcon t;
            if (!sc_ndr_decode_tcon(a, b, len, &t, &layouts[SC_NDR_TCON], why, sizeof why))
                fail_msg("%s/%s: %s", rel, name, why);
            assert_false(t.deleted);
            assert_int_equal(t.tcon_id, num(line, "tcon_id"));
            assert_int_equal(t.session_id, num(line, "session_id"));
            assert_int_equal(t.pid, num(line, "pid"));
            expect_str(line, "share_name", t.share_name);
            assert_int_equal(unix_secs(t.creation_time), num(line, "creation"));
            seen[SC_NDR_TCON]++;
        } else {
            sc_ndr_file fl;
            if (!sc_ndr_decode_locking(a, b, len, &fl, &layouts[SC_NDR_LOCKING], why, sizeof why))
                fail_msg("%s/%s: %s", rel, name, why);
            expect_str(line, "service_path", fl.service_path);
            expect_str(line, "base_name", fl.base_name);
            assert_int_equal(fl.inode, num(line, "inode"));
            char opens[1024] = "", one[64], want[1024];
            for (size_t i = 0; i < fl.nopens; i++) {
                snprintf(one, sizeof one, "%s%llu/%u/%u", i ? ";" : "",
                         (unsigned long long)fl.opens[i].pid, fl.opens[i].uid,
                         fl.opens[i].access_mask);
                strncat(opens, one, sizeof opens - strlen(opens) - 1);
            }
            assert_string_equal(opens, field(line, "opens", want, sizeof want));
            seen[SC_NDR_LOCKING]++;
        }
        free(b);
        sc_arena_free(a);
    }
    fclose(f);
    /* Every kind was seen, and the layouts the records fitted include the
     * release they came from. */
    for (int k = 0; k < 3; k++) {
        char nb[64];
        assert_true(seen[k] > 0);
        const char *nm = sc_ndr_layout_name((sc_ndr_kind)k, layouts[k], nb, sizeof nb);
        if (!covers(nm, release))
            fail_msg("%s: kind %d decoded as %s", rel, k, nm);
    }
}

static void check_release(const char *rel)
{
    check_dir(rel, rel);
}

/* Records built with the pidl and NDR runtime of releases we cannot run
 * (tools/idl-records.sh), checked as that release. */
static void test_idl_releases(void **state)
{
    (void)state;
    static const char *const dirs[][2] = {
        {"idl-4.15.0", "4.15"},  {"idl-4.15.13", "4.15"}, {"idl-4.16.0", "4.16"},
        {"idl-4.16.11", "4.16"}, {"idl-4.18.11", "4.18"}, {"idl-4.19.9", "4.19"},
        {"idl-4.20.8", "4.20"},  {"idl-4.21.10", "4.21"}, {"idl-4.23.11", "4.23"},
        {"idl-4.24.5", "4.24"},
        /* the same records with claims and device SIDs in every token
         * (IDLR_CLAIMS=1) */
        {"idl-claims-4.20.8", "4.20"}, {"idl-claims-4.24.5", "4.24"},
        {"idl-claims-4.25.0pre1", "4.25"},
    };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        check_dir(dirs[i][0], dirs[i][1]);
}

static void test_release_417(void **state)
{
    (void)state;
    check_release("4.17");
}

static void test_release_422(void **state)
{
    (void)state;
    check_release("4.22");
}

static void test_release_425(void **state)
{
    (void)state;
    check_release("4.25");
}

/* The newest layout that fits names the record's release range: a 4.22
 * session fits only the 4.20-4.22 row, a 4.25 one only the 4.25 row, a
 * 4.22 record with a delete token only 4.22's locking row. */
static void test_layout_names(void **state)
{
    (void)state;
    static const struct {
        const char *rel, *file;
        sc_ndr_kind kind;
        const char *name;
    } t[] = {
        {"4.22", "session-1004610719.hex", SC_NDR_SESSION, "Samba 4.20-4.22"},
        {"4.25", "session-2015965962.hex", SC_NDR_SESSION, "Samba 4.25"},
        {"4.17", "session-1478548964.hex", SC_NDR_SESSION, "Samba 4.15-4.19"},
        {"4.25", "tcon-1223812173.hex", SC_NDR_TCON, "Samba 4.25"},
        {"4.22", "tcon-184989600.hex", SC_NDR_TCON, "Samba 4.15-4.24"},
        {"4.22", "locking-1245627.hex", SC_NDR_LOCKING, "Samba 4.22"},
        {"4.17", "locking-10953359.hex", SC_NDR_LOCKING, "Samba 4.17-4.19"},
        {"4.25", "locking-1245572.hex", SC_NDR_LOCKING, "Samba 4.25"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t len;
        uint8_t *b = load_hex(t[i].rel, t[i].file, &len);
        sc_arena *a = sc_arena_new();
        unsigned lay = 0;
        char why[256], nb[64];
        sc_ndr_session s;
        sc_ndr_tcon tc;
        sc_ndr_file f;
        bool ok = t[i].kind == SC_NDR_SESSION ? sc_ndr_decode_session(a, b, len, &s, &lay, why, sizeof why)
                  : t[i].kind == SC_NDR_TCON  ? sc_ndr_decode_tcon(a, b, len, &tc, &lay, why, sizeof why)
                                              : sc_ndr_decode_locking(a, b, len, &f, &lay, why, sizeof why);
        assert_true(ok);
        assert_string_equal(sc_ndr_layout_name(t[i].kind, lay, nb, sizeof nb), t[i].name);
        free(b);
        sc_arena_free(a);
    }
}

/* A database's layout is fixed by its first record: a record of another
 * release is then refused with a message, never misread. */
static void test_mixed_releases(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    size_t len;
    char why[256] = "";
    unsigned lay = 0;
    sc_ndr_session s;
    uint8_t *b = load_hex("4.17", "session-1478548964.hex", &len);
    assert_true(sc_ndr_decode_session(a, b, len, &s, &lay, why, sizeof why));
    free(b);
    b = load_hex("4.25", "session-2015965962.hex", &len);
    assert_false(sc_ndr_decode_session(a, b, len, &s, &lay, why, sizeof why));
    assert_non_null(strstr(why, "session record: "));
    free(b);
    lay = 0;
    sc_ndr_file f;
    b = load_hex("4.25", "locking-1245571.hex", &len);
    assert_true(sc_ndr_decode_locking(a, b, len, &f, &lay, why, sizeof why));
    free(b);
    b = load_hex("4.22", "locking-1245626.hex", &len);
    assert_false(sc_ndr_decode_locking(a, b, len, &f, &lay, why, sizeof why));
    assert_true(why[0] != '\0');
    free(b);
    sc_arena_free(a);
}

/* Every truncation and every one-byte corruption of one record of each
 * kind and release: the decoders must fail cleanly (a message, no crash)
 * or decode. */
static void test_damage(void **state)
{
    (void)state;
    static const struct {
        const char *rel, *file;
    } files[] = {
        {"4.17", "session-1696702403.hex"}, {"4.17", "tcon-717574905.hex"},
        {"4.17", "locking-10953359.hex"},   {"4.22", "session-1004610719.hex"},
        {"4.22", "tcon-3506186755.hex"},    {"4.22", "locking-1245627.hex"},
        {"4.25", "session-2015965962.hex"}, {"4.25", "tcon-1910422955.hex"},
        {"4.25", "locking-1245572.hex"},
        /* tokens with claims: alice's session (every claim value type in
         * all three lists), bob's, alice's delete token */
        {"idl-claims-4.20.8", "session-1832847905.hex"},
        {"idl-claims-4.20.8", "session-2588637123.hex"},
        {"idl-claims-4.20.8", "locking-1310730.hex"},
        {"idl-claims-4.24.5", "session-1832847905.hex"},
        {"idl-claims-4.25.0pre1", "session-1832847905.hex"},
        {"idl-claims-4.25.0pre1", "locking-1310730.hex"},
    };
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        size_t len;
        uint8_t *b = load_hex(files[fi].rel, files[fi].file, &len);
        char kind = files[fi].file[0];
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
            if (kind == 's')
                ok = sc_ndr_decode_session(a, c, cut, &s, NULL, why, sizeof why) &&
                     (s.deleted || cut == len);
            else if (kind == 't')
                ok = sc_ndr_decode_tcon(a, c, cut, &t, NULL, why, sizeof why) &&
                     (t.deleted || cut == len);
            else
                ok = sc_ndr_decode_locking(a, c, cut, &f, NULL, why, sizeof why);
            if (!ok) {
                rejected++;
                assert_true(why[0] != '\0' || kind == 'l');
            }
            free(c);
            sc_arena_free(a);
        }
        /* Only the empty record (deleted) and the whole one decode. */
        if (kind != 'l')
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
            if (kind == 's')
                (void)sc_ndr_decode_session(a, c, len, &s, NULL, why, sizeof why);
            else if (kind == 't')
                (void)sc_ndr_decode_tcon(a, c, len, &t, NULL, why, sizeof why);
            else
                (void)sc_ndr_decode_locking(a, c, len, &f, NULL, why, sizeof why);
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
    uint8_t *b = load_hex("4.17", "tcon-717574905.hex", &len);
    sc_arena *a = sc_arena_new();
    sc_ndr_tcon t;
    char why[256] = "";
    b[0] = 2; /* version 2: no Samba has it */
    assert_false(sc_ndr_decode_tcon(a, b, len, &t, NULL, why, sizeof why));
    assert_string_equal(why, "tree connect record: unknown smbXsrv record version at byte 12 of 97");
    b[0] = 0;
    assert_false(sc_ndr_decode_tcon(a, b, 40, &t, NULL, why, sizeof why));
    assert_non_null(strstr(why, "record ends early"));
    free(b);
    sc_arena_free(a);
}

/* Where pat first occurs in b; unique: it must occur only there. */
static size_t find_in(const uint8_t *b, size_t len, const void *pat, size_t plen, bool unique)
{
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + plen <= len; i++) {
        if (memcmp(b + i, pat, plen) == 0) {
            if (at == SIZE_MAX)
                at = i;
            else if (unique)
                fail_msg("pattern found at bytes %zu and %zu", at, i);
        }
    }
    assert_true(at != SIZE_MAX);
    return at;
}

static size_t find(const uint8_t *b, size_t len, const void *pat, size_t plen)
{
    return find_in(b, len, pat, plen, true);
}

/* The UTF-16LE form of an ASCII string, with its NUL. */
static size_t utf16(const char *s, uint8_t *out)
{
    size_t n = 0;
    do {
        out[n++] = (uint8_t)*s;
        out[n++] = 0;
    } while (*s++);
    return n;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* Decodes a copy of b with one change (off: 4 bytes set to v, or with
 * bytes: k bytes copied) in the layout set lay; expects it refused with a
 * message containing want. */
static void expect_refused(const uint8_t *b, size_t len, unsigned lay, size_t off,
                           const void *bytes, size_t k, const char *want)
{
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    memcpy(c + off, bytes, k);
    sc_arena *a = sc_arena_new();
    sc_ndr_session s;
    char why[256] = "";
    unsigned l = lay;
    if (sc_ndr_decode_session(a, c, len, &s, &l, why, sizeof why))
        fail_msg("a corruption at byte %zu was accepted", off);
    if (!strstr(why, "session record: ") || !strstr(why, want))
        fail_msg("corruption at byte %zu: \"%s\", expected \"%s\"", off, why, want);
    sc_arena_free(a);
    free(c);
}

static void expect_refused32(const uint8_t *b, size_t len, unsigned lay, size_t off, uint32_t v,
                             const char *want)
{
    uint8_t x[4];
    put32(x, v);
    expect_refused(b, len, lay, off, x, 4, want);
}

/* A session whose token carries claims (Samba 4.20's own push, every value
 * type in the local, user and device lists, two device SIDs) decodes with
 * the user's values; hand-made damage to the claims is refused with a
 * message, in the layout the intact record fitted. */
static void test_claims(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = load_hex("idl-claims-4.20.8", "session-1832847905.hex", &len);
    sc_arena *a = sc_arena_new();
    sc_ndr_session s;
    char why[256] = "", nb[64];
    unsigned lay = 0;
    if (!sc_ndr_decode_session(a, b, len, &s, &lay, why, sizeof why))
        fail_msg("%s", why);
    assert_string_equal(sc_ndr_layout_name(SC_NDR_SESSION, lay, nb, sizeof nb), "Samba 4.20-4.22");
    assert_true(s.authenticated);
    assert_int_equal(s.uid, 1000);
    assert_int_equal(s.gid, 100);
    assert_string_equal(s.unix_name, "alice");
    assert_string_equal(s.remote_address, "ipv4:192.168.10.37:50122");
    sc_arena_free(a);

    /* The four counts (8 local, 6 user, 6 device claims, 2 device SIDs),
     * then the size of the local claims' array. */
    static const uint8_t counts[20] = {8, 0, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0};
    size_t c = find(b, len, counts, sizeof counts);
    size_t claim0 = c + 20; /* name pointer, type, flags, value count, values */
    expect_refused32(b, len, lay, c, 9, "claim or device-SID array size differs from its count");
    expect_refused32(b, len, lay, c + 12, 3, "claim or device-SID array size differs");
    uint8_t big[20];
    memcpy(big, counts, sizeof big);
    put32(big, 5000);
    put32(big + 16, 5000);
    expect_refused(b, len, lay, c, big, sizeof big, "too many claims or device SIDs");
    put32(big, 7); /* one claim fewer, consistently: the scalars no longer fit */
    put32(big + 16, 7);
    expect_refused(b, len, lay, c, big, sizeof big, "");
    expect_refused32(b, len, lay, claim0 + 12, 3, "");    /* value_count 2 -> 3 */
    expect_refused32(b, len, lay, claim0 + 12, 1, "");    /* value_count 2 -> 1 */
    expect_refused32(b, len, lay, claim0 + 12, 70000, "too many values in a claim");
    expect_refused32(b, len, lay, claim0 + 4, 4, "unknown claim value type");
    uint32_t name = b[claim0] | (uint32_t)b[claim0 + 1] << 8 | (uint32_t)b[claim0 + 2] << 16 |
                    (uint32_t)b[claim0 + 3] << 24;
    expect_refused32(b, len, lay, claim0, name + 2, "claim data is not where its relative pointer says");
    expect_refused32(b, len, lay, claim0, 0xFFFFFFFFu, "claim data is not where its relative pointer says");
    expect_refused32(b, len, lay, claim0, 0, ""); /* no name: the data is left over */

    /* The first claim's name, "smbcim:int64": its NUL made an 'x' runs
     * the string into the values. */
    uint8_t u[64];
    size_t ul = utf16("smbcim:int64", u);
    size_t at = find(b, len, u, ul);
    assert_int_equal(at - 4, name); /* the record's blob starts after the 4-byte watch header */
    expect_refused(b, len, lay, at + ul - 2, "x", 1, "claim");
    /* An unpaired surrogate in a string value (U+1D11E is D834 DD1E). */
    static const uint8_t clef[4] = {0x34, 0xd8, 0x1e, 0xdd};
    at = find(b, len, clef, sizeof clef);
    expect_refused(b, len, lay, at + 3, "A", 1, "claim string is not valid UTF-16");
    expect_refused(b, len, lay, at, "\x1e\xdd", 2, "claim string is not valid UTF-16");
    /* The first octet string {de ad be} (a local claim; a device claim has
     * another): its length (uint32, unaligned) longer, shorter, past the
     * record. */
    static const uint8_t oct[7] = {3, 0, 0, 0, 0xde, 0xad, 0xbe};
    at = find_in(b, len, oct, sizeof oct, false);
    expect_refused32(b, len, lay, at, 4, "claim data is not where its relative pointer says");
    expect_refused32(b, len, lay, at, 2, "claim data is not where its relative pointer says");
    expect_refused32(b, len, lay, at, 0xFFFFFFF0u, "record ends early");
    /* evaluate_claims (uint16 after the device SIDs) out of range: the
     * last device SID is S-1-5-21-...-515 */
    static const uint8_t dc[6] = {0x03, 0x02, 0, 0, 2, 0};
    at = find(b, len, dc, sizeof dc);
    expect_refused(b, len, lay, at + 4, "\x03", 1, "malformed security token");
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_417),  cmocka_unit_test(test_release_422),
        cmocka_unit_test(test_release_425),  cmocka_unit_test(test_idl_releases),
        cmocka_unit_test(test_layout_names),
        cmocka_unit_test(test_mixed_releases), cmocka_unit_test(test_damage),
        cmocka_unit_test(test_messages),     cmocka_unit_test(test_claims),
    };
    return cmocka_run_group_tests_name("samba_ndr", tests, NULL, NULL);
}
