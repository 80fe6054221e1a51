/* fuzz_objpath.c - object paths: parse; a parsed path must format and
 * parse again to the same canonical key.  And the other way: the input cut
 * at its first NUL into two string key values, the paths written for an
 * instance holding them (cim_instance_paths, cim_keys_relpath_spelled)
 * must parse back to exactly those values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim/cim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Win32_ServerSession-like: two string keys and a property. */
static const cim_property props[] = {
    {.name = "UserName", .type = CIM_T_STRING, .key = true},
    {.name = "ComputerName", .type = CIM_T_STRING, .key = true},
    {.name = "ActiveTime", .type = CIM_T_UINT64},
};
static const cim_class cls = {.name = "Win32_ServerSession", .props = props,
                              .nprops = 3, .nkeys = 2};

static void check_written(sc_arena *a, const char *v1, const char *v2)
{
    cim_instance *inst = cim_instance_new(a, &cls);
    inst->values[0] = cim_str(CIM_T_STRING, v1);
    inst->values[1] = cim_str(CIM_T_STRING, v2);
    const char *rel = NULL;
    const char *full = cim_instance_paths(a, inst, "FS01", "root\\cimv2", &rel);
    const char *names[] = {"computername", "username"};
    cim_value vals[] = {cim_str(CIM_T_STRING, v2), cim_str(CIM_T_STRING, v1)};
    const char *bykeys = cim_keys_relpath_spelled(a, &cls, 2, names, vals, NULL);
    if (!full || !rel || !bykeys || strcmp(rel, bykeys) != 0 ||
        strcmp(rel, cim_instance_relpath(a, inst)) != 0) {
        fprintf(stderr, "the ways to a path differ: %s / %s\n", rel ? rel : "(null)",
                bykeys ? bykeys : "(null)");
        abort();
    }
    const char *texts[] = {full, rel};
    for (int t = 0; t < 2; t++) {
        cim_objpath p;
        if (cim_path_parse(a, texts[t], &p, NULL) != WBEM_S_NO_ERROR || p.nkeys != 2 ||
            strcmp(p.keys[0].value.v.s, v2) != 0 || strcmp(p.keys[1].value.v.s, v1) != 0) {
            fprintf(stderr, "a written path does not parse back to its values: %s\n", texts[t]);
            abort();
        }
    }
}

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
    /* the input up to its first NUL, and what follows it */
    size_t cut = strlen(text);
    check_written(a, text, cut < size ? text + cut + 1 : "");
    sc_arena_free(a);
    free(text);
    return 0;
}
