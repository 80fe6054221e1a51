/*
 * state.c - filling the parts of a source state that its source reads on
 * demand (sources.h, SC_PART_*).
 */
#include "sources/sources.h"

#include <stdlib.h>
#include <string.h>

smbcim_status sc_state_fill(sc_state *st, unsigned parts, smbcim_error *err)
{
    parts &= SC_PARTS_ALL;
    if ((parts & ~st->have) && st->fill && st->sessions_status == WBEM_S_NO_ERROR) {
        /* A fill that fails records why in sessions_status and
         * sessions_note, and is not tried again: every later request gets
         * the same answer. */
        st->fill(st, parts & ~st->have, st->fill_priv, err);
        *err = (smbcim_error){0};
    }
    if (st->sessions_status != WBEM_S_NO_ERROR)
        return smbcim_error_set(err, st->sessions_status, "%s",
                                st->sessions_note ? st->sessions_note : "no session state");
    return WBEM_S_NO_ERROR;
}

bool sc_server_pid_parse(const char *text, uint32_t *vnn, uint64_t *pid)
{
    const char *colon = strchr(text, ':');
    uint64_t v = SC_NO_VNN, p;
    if (colon) {
        if (!sc_parse_u64(text, (size_t)(colon - text), &v) || v >= SC_NO_VNN)
            return false;
        text = colon + 1;
    }
    if (!sc_parse_u64(text, strlen(text), &p))
        return false;
    *vnn = (uint32_t)v;
    *pid = p;
    return true;
}
