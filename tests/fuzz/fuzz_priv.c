/*
 * fuzz_priv.c - the two parsers of smbcimd's privilege separation
 * (src/smbcimd/priv.c): the privileged part's request parser (what a
 * compromised worker could send it) and the worker's parser of the state
 * answer.  Every accepted answer's strings must end inside the buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smbcimd/smbcimd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    srv_priv_req r;
    if (srv_priv_parse_request(data, size, &r)) {
        if (size != PRIV_REQ_LEN)
            abort();
        if (r.type != PRIV_STATE && r.type != PRIV_HELPER_START && r.type != PRIV_HELPER_END)
            abort();
        if (r.type == PRIV_HELPER_END && r.pid <= 0)
            abort();
    }
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    srv_priv_state s;
    if (srv_priv_parse_state(copy, size, &s)) {
        const char *fields[4] = {s.route, s.why, s.warning, s.message};
        for (int i = 0; i < 4; i++)
            if (fields[i] < copy || fields[i] >= copy + size ||
                !memchr(fields[i], '\0', (size_t)(copy + size - fields[i])))
                abort();
        if (s.doc < copy || s.doc + s.doc_len != copy + size)
            abort();
    }
    free(copy);
    return 0;
}
