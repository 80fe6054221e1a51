/* fuzz_mof.c - the MOF parser on arbitrary text, after the real base
 * classes; every class parsed is printed and must parse back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mof/mof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] =
    "[Abstract] class CIM_ManagedSystemElement { string Caption; string Name; };\n"
    "[Association, Abstract] class CIM_Dependency { CIM_ManagedSystemElement Ref Antecedent;"
    " CIM_ManagedSystemElement Ref Dependent; };\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_arena *a = sc_arena_new();
    cim_schema s;
    cim_schema_init(&s, a);
    smbcim_error err = {0};
    if (mof_parse(&s, base, sizeof(base) - 1, "base", &err) != WBEM_S_NO_ERROR)
        abort();
    size_t before = s.nclasses;
    smbcim_error e2 = {0};
    (void)mof_parse(&s, (const char *)data, size, "fuzz", &e2);
    for (size_t i = before; i < s.nclasses; i++) {
        sc_buf b;
        sc_buf_init(&b);
        mof_print_class(&b, s.classes[i]);
        sc_buf_free(&b);
    }
    cim_schema_free(&s);
    sc_arena_free(a);
    return 0;
}
