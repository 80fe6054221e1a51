/* fuzz_snapshot.c - the snapshot reader on arbitrary bytes, and, when a
 * document is accepted, the whole engine over it (every class enumerated,
 * associations traversed). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smbcim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smbcim_error err = {0};
    smbcim_ctx *ctx = smbcim_open_snapshot_buffer((const char *)data, size, "fuzz", &err);
    if (!ctx)
        return 0;
    static const char *const queries[] = {
        "SELECT * FROM CIM_ManagedSystemElement",
        "SELECT * FROM CIM_Dependency",
    };
    for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
        smbcim_result *res;
        smbcim_error e = {0};
        if (smbcim_exec_query(ctx, queries[q], &res, &e) != WBEM_S_NO_ERROR)
            abort(); /* an accepted snapshot must always be queryable */
        for (size_t i = 0; i < res->count && i < 50; i++) {
            const cim_instance *inst = res->instances[i];
            if (!inst->path)
                continue;
            smbcim_result *one;
            smbcim_error e3 = {0};
            if (smbcim_get_object(ctx, inst->path, &one, &e3) != WBEM_S_NO_ERROR)
                abort(); /* every instance resolves by its own path */
            smbcim_result_free(one);
        }
        smbcim_result_free(res);
    }
    smbcim_close(ctx);
    return 0;
}
