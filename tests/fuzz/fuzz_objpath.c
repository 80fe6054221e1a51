/* fuzz_objpath.c - object paths: parse; a parsed path must format and
 * parse again to the same canonical key. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim/cim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    sc_arena *a = sc_arena_new();
    cim_objpath p;
    smbcim_error err = {0};
    if (cim_path_parse(a, text, &p, &err) == WBEM_S_NO_ERROR) {
        char *again = cim_path_format(a, &p, true);
        cim_objpath p2;
        if (cim_path_parse(a, again, &p2, NULL) != WBEM_S_NO_ERROR) {
            fprintf(stderr, "formatted path does not parse: %s\n", again);
            abort();
        }
        const char *k1 = cim_objpath_normkey(a, &p), *k2 = cim_objpath_normkey(a, &p2);
        if (!k1 || !k2 || strcmp(k1, k2) != 0) {
            fprintf(stderr, "round trip changed the key: %s / %s\n", k1, k2);
            abort();
        }
    }
    (void)cim_path_normkey(a, text);
    sc_arena_free(a);
    free(text);
    return 0;
}
