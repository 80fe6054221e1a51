/*
 * test_ctdb.c - the parsers of what ctdbd sends (src/sources/ctdb.c):
 * control replies, traverse records and the end marker, node and database
 * maps, and the ways such bytes can be wrong; and the client's behaviour
 * against ctdbd that cannot be reached.  The whole route against a real
 * cluster is tests/e2e/run_ctdb_e2e.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "sources/sources.h"

#define MAGIC 0x43544442u

static size_t put32(uint8_t *b, size_t off, uint32_t v)
{
    memcpy(b + off, &v, 4);
    return off + 4;
}

static size_t put64(uint8_t *b, size_t off, uint64_t v)
{
    memcpy(b + off, &v, 8);
    return off + 8;
}

/* A header at b; the length is set by finish(). */
static size_t header(uint8_t *b, uint32_t op, uint32_t reqid)
{
    memset(b, 0, 32);
    put32(b, 4, MAGIC);
    put32(b, 8, 1);
    put32(b, 16, op);
    put32(b, 28, reqid);
    return 32;
}

/* ctdbd pads to 8 bytes and puts the padded length in the header. */
static size_t finish(uint8_t *b, size_t len)
{
    size_t n = (len + 7) / 8 * 8;
    memset(b + len, 0, n - len);
    put32(b, 0, (uint32_t)n);
    return n;
}

static void test_reply(void **state)
{
    (void)state;
    uint8_t b[256];
    char why[160];
    sc_ctdb_packet k;
    size_t o = header(b, 8, 42);
    o = put32(b, o, (uint32_t)-1);
    o = put32(b, o, 4);
    o = put32(b, o, 3);
    o = put32(b, o, 0x11223344);
    memcpy(b + o, "bad", 3);
    size_t n = finish(b, o + 3);
    assert_true(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    assert_int_equal(k.operation, 8);
    assert_int_equal(k.reqid, 42);
    assert_int_equal(k.status, -1);
    assert_int_equal(k.datalen, 4);
    assert_int_equal(k.errorlen, 3);
    assert_memory_equal(k.error, "bad", 3);
    /* data and error longer than the packet */
    put32(b, 40, 200);
    assert_false(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    assert_non_null(strstr(why, "control reply"));
    put32(b, 40, 3);
    /* the length field must be the packet's */
    assert_false(sc_ctdb_parse_packet(b, n - 8, &k, why, sizeof why));
    assert_non_null(strstr(why, "length field says"));
    /* shorter than a header; a wrong magic */
    assert_false(sc_ctdb_parse_packet(b, 10, &k, why, sizeof why));
    put32(b, 4, 0x12345678);
    assert_false(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    assert_non_null(strstr(why, "not a CTDB packet"));
}

static size_t record(uint8_t *b, uint32_t rreqid, const char *key, const char *val)
{
    size_t kl = strlen(key), vl = strlen(val);
    size_t o = header(b, 5, 0);
    o = put64(b, o, 0xBE00000000000001ull);
    o = put32(b, o, (uint32_t)(16 + kl + vl));
    o = put32(b, o, (uint32_t)(16 + kl + vl));
    o = put32(b, o, rreqid);
    o = put32(b, o, (uint32_t)kl);
    o = put32(b, o, (uint32_t)vl);
    memcpy(b + o, key, kl);
    memcpy(b + o + kl, val, vl);
    return finish(b, o + kl + vl);
}

static void test_records(void **state)
{
    (void)state;
    uint8_t b[512];
    char why[160];
    sc_ctdb_packet k;
    size_t n = record(b, 7, "KEY1", "0123456789abcdef01234567value");
    assert_true(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    assert_true(k.is_record);
    assert_false(k.end);
    assert_int_equal(k.srvid, 0xBE00000000000001ull);
    assert_int_equal(k.rec_reqid, 7);
    assert_int_equal(k.keylen, 4);
    assert_memory_equal(k.key, "KEY1", 4);
    assert_int_equal(k.valuelen, 29);
    assert_memory_equal(k.value + 24, "value", 5);
    /* the end marker: no key, no data */
    n = record(b, 7, "", "");
    assert_true(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    assert_true(k.is_record && k.end);
    /* lengths that do not add up */
    n = record(b, 7, "KEY1", "v");
    put32(b, 44 + 8, 400); /* keylen */
    assert_false(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    assert_non_null(strstr(why, "do not add up"));
    n = record(b, 7, "KEY1", "v");
    put32(b, 44, 99); /* the record's own length */
    assert_false(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    n = record(b, 7, "KEY1", "v");
    put32(b, 40, 4000); /* the message's datalen beyond the packet */
    assert_false(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    /* a message too short to be a record is some other message */
    size_t o = header(b, 5, 0);
    o = put64(b, o, 1);
    o = put32(b, o, 3);
    n = finish(b, o + 3);
    assert_true(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    assert_false(k.is_record);
    /* other operations are passed on untouched */
    n = finish(b, header(b, 9, 5));
    assert_true(sc_ctdb_parse_packet(b, n, &k, why, sizeof why));
    assert_int_equal(k.operation, 9);
}

static void test_maps(void **state)
{
    (void)state;
    uint8_t b[4 + 3 * 36];
    char why[160];
    memset(b, 0, sizeof b);
    put32(b, 0, 3);
    for (uint32_t i = 0; i < 3; i++) {
        put32(b, 4 + 36 * i, i);
        put32(b, 8 + 36 * i, i == 1 ? 0x20 : 0);
    }
    uint32_t pnn[4], fl[4];
    size_t n = 0;
    assert_true(sc_ctdb_parse_nodemap(b, sizeof b, pnn, fl, 4, &n, why, sizeof why));
    assert_int_equal(n, 3);
    assert_int_equal(pnn[2], 2);
    assert_int_equal(fl[1], 0x20);
    assert_false(sc_ctdb_parse_nodemap(b, sizeof b, pnn, fl, 2, &n, why, sizeof why));
    assert_false(sc_ctdb_parse_nodemap(b, sizeof b - 1, pnn, fl, 4, &n, why, sizeof why));
    assert_false(sc_ctdb_parse_nodemap(b, 2, pnn, fl, 4, &n, why, sizeof why));
    uint8_t d[4 + 2 * 8];
    memset(d, 0, sizeof d);
    put32(d, 0, 2);
    put32(d, 4, 0xAAAA);
    put32(d, 12, 0xBBBB);
    uint32_t ids[2];
    assert_true(sc_ctdb_parse_dbmap(d, sizeof d, ids, 2, &n, why, sizeof why));
    assert_int_equal(n, 2);
    assert_int_equal(ids[1], 0xBBBB);
    put32(d, 0, 0x40000000); /* a count whose size overflows nothing */
    assert_false(sc_ctdb_parse_dbmap(d, sizeof d, ids, 2, &n, why, sizeof why));
}

static void test_unreachable(void **state)
{
    (void)state;
    static const char *const names[3] = {"a.tdb", "b.tdb", "c.tdb"};
    smbcim_error err;
    smbcim_error_clear(&err);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    bool to = true;
    sc_ctdb *x = sc_ctdb_open("/nonexistent/ctdbd.socket", names,
                              (double)ts.tv_sec + 5, &to, &err);
    assert_null(x);
    assert_false(to);
    assert_int_equal(err.code, WBEM_E_FAILED);
    assert_non_null(strstr(err.msg, "cannot connect to ctdbd (/nonexistent/ctdbd.socket)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
