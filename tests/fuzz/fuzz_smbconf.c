/* fuzz_smbconf.c - the smb.conf reader on arbitrary text (no includes,
 * registry or usershares are followed: sc_smbconf_parse_text).  An accepted
 * configuration always has IPC$ and a netbios name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sources/sources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_arena *a = sc_arena_new();
    smbcim_error err = {0};
    sc_smbconf *c = NULL;
    if (sc_smbconf_parse_text(a, (const char *)data, size, "fuzz.conf", &c, &err) ==
        WBEM_S_NO_ERROR) {
        bool ipc = false;
        for (size_t i = 0; i < c->nshares; i++)
            ipc |= strcmp(c->shares[i].name, "IPC$") == 0 || c->shares[i].kind == SC_SHARE_IPC;
        if (!ipc || !c->netbios_name)
            abort();
    } else if (err.code == 0 || strncmp(err.msg, "fuzz.conf", 9) != 0) {
        abort(); /* every failure says where */
    }
    sc_arena_free(a);
    return 0;
}
