/* fuzz_wql.c - WQL parser and evaluator on arbitrary text: parse as a data
 * query and as an event query (WITHIN, GROUP, HAVING, dotted names); when
 * it parses, evaluate the WHERE (and HAVING) over an object that has every
 * property (with values of several types, an embedded object among them);
 * the FROM class as smbcim_is_event_query reads it; LIKE with both halves
 * of the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wql/wql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool get(void *obj, const char *name, cim_value *out)
{
    (void)obj;
    static const cim_instance embedded = {0};
    switch (strlen(name) % 6) {
    case 0: *out = cim_str(CIM_T_STRING, "Données 5"); break;
    case 1: *out = cim_u(CIM_T_UINT32, 42); break;
    case 2: *out = cim_bool(true); break;
    case 3: *out = cim_null(CIM_T_UINT32); break;
    case 4:
        /* an embedded object (TargetInstance): only ISA and IS NULL take it */
        *out = (cim_value){.type = CIM_T_INSTANCE};
        out->v.o = &embedded;
        break;
    default: *out = cim_str(CIM_T_REFERENCE, "\\\\S\\root\\cimv2:Win32_Share.Name=\"x\""); break;
    }
    return name[0] != 'Z';
}

static int isa(void *obj, const char *prop, const char *cls)
{
    (void)obj;
    (void)prop;
    return cls[0] == 'Q' ? -1 : cls[0] == 'W';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    sc_arena *a = sc_arena_new();
    wql_query *q;
    smbcim_error err = {0};
    wql_object_ops ops = {.get = get, .isa = isa};
    if (wql_parse(a, text, &q, &err) == WBEM_S_NO_ERROR && q->where) {
        smbcim_error e2 = {0};
        (void)wql_eval(q->where, &ops, NULL, &e2);
    }
    err = (smbcim_error){0};
    if (wql_parse_event(a, text, &q, &err) == WBEM_S_NO_ERROR) {
        smbcim_error e2 = {0};
        if (q->where)
            (void)wql_eval(q->where, &ops, NULL, &e2);
        if (q->having)
            (void)wql_eval(q->having, &ops, NULL, &e2);
    }
    (void)wql_from_class(a, text);
    /* LIKE: the first half as text, the second half as pattern */
    size_t half = size / 2;
    char *second = text + half;
    char *first = malloc(half + 1);
    memcpy(first, text, half);
    first[half] = '\0';
    (void)wql_like(first, second);
    (void)wql_like(second, first);
    free(first);
    sc_arena_free(a);
    free(text);
    return 0;
}
