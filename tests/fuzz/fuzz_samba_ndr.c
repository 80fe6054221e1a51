/* fuzz_samba_ndr.c - the decoders of smbd's records on arbitrary bytes.
 * The first byte picks the decoder (0 session, 1 tree connect, 2 locking)
 * and, in its high bits, the layout set (0: every layout, as for a
 * database's first record); the rest is the record.  Accepted records must
 * have sane strings and counts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sources/sources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    sc_arena *a = sc_arena_new();
    char why[256];
    const uint8_t *rec = data + 1;
    size_t len = size - 1;
    unsigned layouts = data[0] >> 2; /* 0..63: a set of the six newest layouts */
    switch (data[0] & 3) {
    case 0: {
        sc_ndr_session s;
        if (sc_ndr_decode_session(a, rec, len, &s, &layouts, why, sizeof why) && !s.deleted &&
            s.remote_address && strlen(s.remote_address) > len)
            abort();
        break;
    }
    case 1: {
        sc_ndr_tcon t;
        if (sc_ndr_decode_tcon(a, rec, len, &t, &layouts, why, sizeof why) && !t.deleted &&
            (!t.share_name || strlen(t.share_name) > len))
            abort();
        break;
    }
    default: {
        sc_ndr_file f;
        if (sc_ndr_decode_locking(a, rec, len, &f, &layouts, why, sizeof why) && f.nopens * 124 > len)
            abort();
    }
    }
    sc_arena_free(a);
    return 0;
}
