/*
 * fuzz_ctdb.c - the parsers of what ctdbd sends (src/sources/ctdb.c): a
 * packet (control reply, message, traverse record), a node map, a
 * database map.  The first byte picks the parser.  Whatever is accepted
 * must point inside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sources/sources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *p, size_t n, const uint8_t *lo, size_t size)
{
    if (n && (p < lo || p + n > lo + size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    char why[160];
    switch (data[0] % 3) {
    case 0: {
        sc_ctdb_packet k;
        if (sc_ctdb_parse_packet(p, n, &k, why, sizeof why)) {
            inside(k.data, k.datalen, p, n);
            inside(k.error, k.errorlen, p, n);
            if (k.is_record) {
                inside(k.key, k.keylen, p, n);
                inside(k.value, k.valuelen, p, n);
                if (k.end != (k.keylen == 0 && k.valuelen == 0))
                    abort();
            }
        }
        break;
    }
    case 1: {
        uint32_t pnns[64], flags[64];
        size_t m = 0;
        if (sc_ctdb_parse_nodemap(p, n, pnns, flags, 64, &m, why, sizeof why) &&
            (m > 64 || 4 + m * 36 != n))
            abort();
        break;
    }
    default: {
        uint32_t ids[1024];
        size_t m = 0;
        if (sc_ctdb_parse_dbmap(p, n, ids, 1024, &m, why, sizeof why) &&
            (m > 1024 || 4 + m * 8 != n))
            abort();
        break;
    }
    }
    return 0;
}
