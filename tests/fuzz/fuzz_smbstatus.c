/* fuzz_smbstatus.c - the parser of text `smbstatus -n` output and the
 * tree-connect linker on arbitrary text.  The input is the main output; each
 * uid the linker asks about gets the same parsed text as its `-S -u`
 * listing.  A parsed result must be consistent: every record's strings set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sources/sources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"/srv/projects", "/srv/old   stuff"};
    sc_arena *a = sc_arena_new();
    smbcim_error err = {0};
    sc_smbstatus_text t;
    if (sc_smbstatus_text_parse(a, (const char *)data, size, "fuzz", paths, 2, &t, &err) ==
        WBEM_S_NO_ERROR) {
        for (size_t i = 0; i < t.ntcons; i++)
            if (!t.tcons[i].service)
                abort();
        for (size_t i = 0; i < t.nopens; i++)
            if (!t.opens[i].service_path || !t.opens[i].filename)
                abort();
        int64_t *uids = NULL;
        size_t n = sc_smbstatus_text_uids_needed(a, &t, &uids);
        sc_smbstatus_text *lists = sc_alloc_array(a, n ? n : 1, sizeof *lists);
        for (size_t i = 0; i < n; i++)
            lists[i] = t;
        sc_smbstatus_text_link(a, &t, uids, lists, n);
        for (size_t i = 0; i < t.ntcons; i++)
            if (t.tcons[i].session_id && !*t.tcons[i].session_id)
                abort();
    } else if (!err.msg[0]) {
        abort(); /* an error always says what and where */
    }
    sc_arena_free(a);
    return 0;
}
