/*
 * state.c - filling the parts of a source state that its source reads on
 * demand (sources.h, SC_PART_*).
 */
#include "sources/sources.h"

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
