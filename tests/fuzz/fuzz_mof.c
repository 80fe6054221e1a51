/* fuzz_mof.c - the MOF parser on arbitrary text, twice: after small base
 * classes and no qualifier declarations (mofcomp's way: qualifiers as
 * written), and after the whole shipped schema (the MOF files of schema/, embedded in
 * the library: qualifiers declared by 00_qualifiers.mof, so the parser is
 * strict).  When the text parses, every qualifier declaration and every
 * class (methods included) is printed; the printed text must parse into a
 * fresh schema, and each class must print the same again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mof/mof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The schema text tools/embed compiles into the library. */
struct sc_schema_file {
    const char *name;
    const char *text;
    size_t len;
};
extern const struct sc_schema_file sc_schema_files[];
extern const size_t sc_schema_nfiles;

static const char base[] =
    "[Abstract] class CIM_ManagedSystemElement { string Caption; string Name; };\n"
    "[Association, Abstract] class CIM_Dependency { CIM_ManagedSystemElement Ref Antecedent;"
    " CIM_ManagedSystemElement Ref Dependent; };\n";

static void round_trip(const cim_schema *s)
{
    sc_buf b;
    sc_buf_init(&b);
    for (size_t i = 0; i < s->nqualdecls; i++)
        mof_print_qualifier_decl(&b, s->qualdecls[i]);
    for (size_t i = 0; i < s->nclasses; i++)
        mof_print_class(&b, s->classes[i]);
    sc_arena *a = sc_arena_new();
    cim_schema s2;
    cim_schema_init(&s2, a);
    smbcim_error err = {0};
    if (mof_parse(&s2, b.data ? b.data : "", b.len, "printed", &err) != WBEM_S_NO_ERROR) {
        fprintf(stderr, "printed schema does not parse: %s\n%s\n", err.msg, b.data);
        abort();
    }
    if (s2.nclasses != s->nclasses || s2.nqualdecls != s->nqualdecls)
        abort();
    for (size_t i = 0; i < s->nclasses; i++) {
        sc_buf x, y;
        sc_buf_init(&x);
        sc_buf_init(&y);
        mof_print_class(&x, s->classes[i]);
        mof_print_class(&y, s2.classes[i]);
        if (x.len != y.len || memcmp(x.data, y.data, x.len) != 0) {
            fprintf(stderr, "class printed as\n%s\nprints back as\n%s\n", x.data, y.data);
            abort();
        }
        sc_buf_free(&x);
        sc_buf_free(&y);
    }
    cim_schema_free(&s2);
    sc_arena_free(a);
    sc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int strict = 0; strict < 2; strict++) {
        sc_arena *a = sc_arena_new();
        cim_schema s;
        cim_schema_init(&s, a);
        smbcim_error err = {0};
        if (strict) {
            for (size_t i = 0; i < sc_schema_nfiles; i++)
                if (mof_parse(&s, sc_schema_files[i].text, sc_schema_files[i].len,
                              sc_schema_files[i].name, &err) != WBEM_S_NO_ERROR)
                    abort();
        } else if (mof_parse(&s, base, sizeof(base) - 1, "base", &err) != WBEM_S_NO_ERROR) {
            abort();
        }
        smbcim_error e2 = {0};
        smbcim_status st = mof_parse(&s, (const char *)data, size, "fuzz", &e2);
        /* A text that declares qualifiers after classes of the permissive
         * run mixes both modes: only the strict run can check those. */
        if (st == WBEM_S_NO_ERROR && (strict || s.nqualdecls == 0))
            round_trip(&s);
        cim_schema_free(&s);
        sc_arena_free(a);
    }
    return 0;
}
