/*
 * cim.c - status codes, CIM types and values, the schema container, class
 * look-ups and instances.  Object paths are in objpath.c.
 */
#include "cim/cim.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- status codes -------------------------------------------------------- */
static const struct {
    smbcim_status code;
    const char *name;
    int cim; /* DSP0200 */
} status_table[] = {
    {WBEM_S_NO_ERROR, "WBEM_S_NO_ERROR", 0},
    {WBEM_E_FAILED, "WBEM_E_FAILED", 1},
    {WBEM_E_NOT_FOUND, "WBEM_E_NOT_FOUND", 6},
    {WBEM_E_ACCESS_DENIED, "WBEM_E_ACCESS_DENIED", 2},
    {WBEM_E_PROVIDER_FAILURE, "WBEM_E_PROVIDER_FAILURE", 1},
    {WBEM_E_TYPE_MISMATCH, "WBEM_E_TYPE_MISMATCH", 13},
    {WBEM_E_OUT_OF_MEMORY, "WBEM_E_OUT_OF_MEMORY", 1},
    {WBEM_E_INVALID_PARAMETER, "WBEM_E_INVALID_PARAMETER", 4},
    {WBEM_E_NOT_AVAILABLE, "WBEM_E_NOT_AVAILABLE", 1},
    {WBEM_E_NOT_SUPPORTED, "WBEM_E_NOT_SUPPORTED", 7},
    {WBEM_E_INVALID_NAMESPACE, "WBEM_E_INVALID_NAMESPACE", 3},
    {WBEM_E_INVALID_OBJECT, "WBEM_E_INVALID_OBJECT", 4},
    {WBEM_E_INVALID_CLASS, "WBEM_E_INVALID_CLASS", 5},
    {WBEM_E_INVALID_QUERY, "WBEM_E_INVALID_QUERY", 15},
    {WBEM_E_INVALID_QUERY_TYPE, "WBEM_E_INVALID_QUERY_TYPE", 14},
    {WBEM_E_INVALID_SYNTAX, "WBEM_E_INVALID_SYNTAX", 1},
    {WBEM_E_INVALID_PROPERTY, "WBEM_E_INVALID_PROPERTY", 12},
    {WBEM_E_INVALID_OBJECT_PATH, "WBEM_E_INVALID_OBJECT_PATH", 4},
    {WBEM_E_INVALID_QUALIFIER, "WBEM_E_INVALID_QUALIFIER", 1},
    {WBEM_E_QUOTA_VIOLATION, "WBEM_E_QUOTA_VIOLATION", 27}, /* SERVER_LIMITS_EXCEEDED */
    /* event queries: every refusal of a filter query is DSP0200's
     * CIM_ERR_INVALID_QUERY (DSP1054 answers a bad filter Query so) */
    {WBEM_E_UNPARSABLE_QUERY, "WBEM_E_UNPARSABLE_QUERY", 15},
    {WBEM_E_NOT_EVENT_CLASS, "WBEM_E_NOT_EVENT_CLASS", 15},
    {WBEM_E_MISSING_GROUP_WITHIN, "WBEM_E_MISSING_GROUP_WITHIN", 15},
    {WBEM_E_PROPERTY_NOT_AN_OBJECT, "WBEM_E_PROPERTY_NOT_AN_OBJECT", 15},
    {WBEM_E_AGGREGATING_BY_OBJECT, "WBEM_E_AGGREGATING_BY_OBJECT", 15},
    {WBEMESS_E_REGISTRATION_TOO_PRECISE, "WBEMESS_E_REGISTRATION_TOO_PRECISE", 15},
};

const char *smbcim_status_name(smbcim_status st)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].code == st)
            return status_table[i].name;
    return "WBEM_E_UNKNOWN";
}

int smbcim_status_cim(smbcim_status st)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].code == st)
            return status_table[i].cim;
    return 1;
}

smbcim_status smbcim_error_set(smbcim_error *err, smbcim_status code,
                               const char *fmt, ...)
{
    if (!err || err->code != WBEM_S_NO_ERROR)
        return err && err->code ? err->code : code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void smbcim_error_clear(smbcim_error *err)
{
    if (err) {
        err->code = WBEM_S_NO_ERROR;
        err->msg[0] = '\0';
    }
}

/* ---- types --------------------------------------------------------------- */
const char *cim_type_name(cim_type t)
{
    switch (t) {
    case CIM_T_BOOLEAN: return "boolean";
    case CIM_T_SINT8: return "sint8";
    case CIM_T_UINT8: return "uint8";
    case CIM_T_SINT16: return "sint16";
    case CIM_T_UINT16: return "uint16";
    case CIM_T_SINT32: return "sint32";
    case CIM_T_UINT32: return "uint32";
    case CIM_T_SINT64: return "sint64";
    case CIM_T_UINT64: return "uint64";
    case CIM_T_REAL32: return "real32";
    case CIM_T_REAL64: return "real64";
    case CIM_T_CHAR16: return "char16";
    case CIM_T_STRING: return "string";
    case CIM_T_DATETIME: return "datetime";
    case CIM_T_REFERENCE: return "ref";
    case CIM_T_INSTANCE: return "object"; /* WMI's name; DSP0201 EmbeddedObject */
    case CIM_T_NONE: break;
    }
    return "none";
}

bool cim_type_is_signed(cim_type t)
{
    return t == CIM_T_SINT8 || t == CIM_T_SINT16 || t == CIM_T_SINT32 || t == CIM_T_SINT64;
}

bool cim_type_is_unsigned(cim_type t)
{
    return t == CIM_T_UINT8 || t == CIM_T_UINT16 || t == CIM_T_UINT32 || t == CIM_T_UINT64;
}

bool cim_type_is_integer(cim_type t)
{
    return cim_type_is_signed(t) || cim_type_is_unsigned(t);
}

bool cim_type_is_stringlike(cim_type t)
{
    return t == CIM_T_STRING || t == CIM_T_DATETIME || t == CIM_T_REFERENCE || t == CIM_T_CHAR16;
}

/* ---- values -------------------------------------------------------------- */
cim_value cim_null(cim_type t)
{
    cim_value v = {.type = t, .null = true};
    return v;
}

cim_value cim_str(cim_type t, const char *s)
{
    cim_value v = {.type = t, .null = (s == NULL)};
    v.v.s = s;
    return v;
}

cim_value cim_u(cim_type t, uint64_t u)
{
    cim_value v = {.type = t};
    v.v.u = u;
    return v;
}

cim_value cim_i(cim_type t, int64_t i)
{
    cim_value v = {.type = t};
    v.v.i = i;
    return v;
}

cim_value cim_bool(bool b)
{
    cim_value v = {.type = CIM_T_BOOLEAN};
    v.v.b = b;
    return v;
}

cim_value cim_value_copy(sc_arena *a, const cim_value *v)
{
    cim_value c = *v;
    if (v->null)
        return c;
    if (v->array) {
        cim_value *e = sc_alloc_array(a, v->count, sizeof(cim_value));
        for (uint32_t i = 0; i < v->count; i++)
            e[i] = cim_value_copy(a, &v->v.elems[i]);
        c.v.elems = e;
    } else if (cim_type_is_stringlike(v->type)) {
        c.v.s = sc_strdup(a, v->v.s);
    }
    return c;
}

static void scalar_text(sc_buf *b, const cim_value *v)
{
    switch (v->type) {
    case CIM_T_BOOLEAN:
        sc_buf_puts(b, v->v.b ? "TRUE" : "FALSE");
        break;
    case CIM_T_SINT8: case CIM_T_SINT16: case CIM_T_SINT32: case CIM_T_SINT64:
        sc_buf_printf(b, "%" PRId64, v->v.i);
        break;
    case CIM_T_UINT8: case CIM_T_UINT16: case CIM_T_UINT32: case CIM_T_UINT64:
        sc_buf_printf(b, "%" PRIu64, v->v.u);
        break;
    case CIM_T_REAL32: case CIM_T_REAL64:
        sc_buf_printf(b, "%.17g", v->v.r);
        break;
    case CIM_T_CHAR16: case CIM_T_STRING: case CIM_T_DATETIME: case CIM_T_REFERENCE:
        sc_buf_puts(b, v->v.s ? v->v.s : "");
        break;
    case CIM_T_INSTANCE:
        /* an embedded object: its relative path, or its class (the nested
         * text is the MOF writer's: smbcim_instance_mof) */
        if (v->v.o)
            sc_buf_puts(b, v->v.o->relpath ? v->v.o->relpath : v->v.o->cls->name);
        break;
    case CIM_T_NONE:
        break;
    }
}

static bool scalar_equal(const cim_value *a, const cim_value *b)
{
    if (a->null != b->null)
        return false;
    if (a->null)
        return true;
    switch (a->type) {
    case CIM_T_BOOLEAN:
        return a->v.b == b->v.b;
    case CIM_T_SINT8: case CIM_T_SINT16: case CIM_T_SINT32: case CIM_T_SINT64:
        return a->v.i == b->v.i;
    case CIM_T_UINT8: case CIM_T_UINT16: case CIM_T_UINT32: case CIM_T_UINT64:
        return a->v.u == b->v.u;
    case CIM_T_REAL32: case CIM_T_REAL64:
        /* bit for bit: NaN equals NaN, so that an unchanged value is no change */
        return memcmp(&a->v.r, &b->v.r, sizeof(double)) == 0;
    case CIM_T_CHAR16: case CIM_T_STRING: case CIM_T_DATETIME: case CIM_T_REFERENCE:
        return (a->v.s == NULL) == (b->v.s == NULL) && (!a->v.s || strcmp(a->v.s, b->v.s) == 0);
    case CIM_T_INSTANCE:
        return a->v.o == b->v.o;
    case CIM_T_NONE:
        break;
    }
    return true;
}

bool cim_value_equal(const cim_value *a, const cim_value *b)
{
    if (a->type != b->type || a->null != b->null || a->array != b->array)
        return false;
    if (a->null || !a->array)
        return scalar_equal(a, b);
    if (a->count != b->count)
        return false;
    for (uint32_t i = 0; i < a->count; i++)
        if (!scalar_equal(&a->v.elems[i], &b->v.elems[i]))
            return false;
    return true;
}

bool cim_value_append_text(sc_buf *b, const cim_value *v)
{
    if (v->null)
        return false;
    if (v->array) {
        sc_buf_putc(b, '{');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                sc_buf_putc(b, ',');
            scalar_text(b, &v->v.elems[i]);
        }
        sc_buf_putc(b, '}');
        return true;
    }
    scalar_text(b, v);
    return true;
}

static void value_fill(sc_buf *b, const void *v)
{
    cim_value_append_text(b, v);
}

char *smbcim_value_text(const cim_value *v)
{
    return v->null ? NULL : sc_buf_text(value_fill, v); /* NULL too: out of memory */
}

void cim_append_quoted(sc_buf *b, const char *s)
{
    sc_buf_putc(b, '"');
    for (const char *p = s; *p;) {
        size_t run = strcspn(p, "\\\"");
        sc_buf_add(b, p, run); /* the plain run at once */
        p += run;
        if (*p) {
            sc_buf_putc(b, '\\');
            sc_buf_putc(b, *p++);
        }
    }
    sc_buf_putc(b, '"');
}

char *cim_datetime_from_epoch(sc_arena *a, int64_t sec, int32_t usec)
{
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return NULL;
    return sc_sprintf(a, "%04d%02d%02d%02d%02d%02d.%06d+000", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      (int)usec);
}

/* ---- schema -------------------------------------------------------------- */
void cim_schema_init(cim_schema *s, sc_arena *arena)
{
    memset(s, 0, sizeof(*s));
    s->arena = arena;
    sc_map_init(&s->by_name);
    sc_map_init(&s->qual_by_name);
}

void cim_schema_free(cim_schema *s)
{
    free(s->classes);
    free(s->qualdecls);
    sc_map_free(&s->by_name);
    sc_map_free(&s->qual_by_name);
    s->classes = NULL;
    s->nclasses = s->cap = 0;
    s->qualdecls = NULL;
    s->nqualdecls = s->qualcap = 0;
}

const cim_qualifier_decl *cim_schema_find_qualdecl(const cim_schema *s, const char *name)
{
    return name ? sc_map_get(&s->qual_by_name, name) : NULL;
}

void cim_schema_add_qualdecl(cim_schema *s, cim_qualifier_decl *q)
{
    if (s->nqualdecls == s->qualcap) {
        s->qualcap = s->qualcap ? s->qualcap * 2 : 32;
        s->qualdecls = sc_xrealloc(s->qualdecls, s->qualcap * sizeof(*s->qualdecls));
    }
    s->qualdecls[s->nqualdecls++] = q;
    sc_map_put(&s->qual_by_name, q->name, q);
}

const cim_class *cim_schema_find(const cim_schema *s, const char *name)
{
    return name ? sc_map_get(&s->by_name, name) : NULL;
}

void cim_schema_add(cim_schema *s, cim_class *cls)
{
    if (s->nclasses == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->classes = sc_xrealloc(s->classes, s->cap * sizeof(*s->classes));
    }
    s->classes[s->nclasses++] = cls;
    sc_map_put(&s->by_name, cls->name, cls);
}

size_t cim_schema_subclasses(const cim_schema *s, const cim_class *cls,
                             const cim_class **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nclasses; i++) {
        if (cim_class_is_a(s->classes[i], cls->name)) {
            if (n < max)
                out[n] = s->classes[i];
            n++;
        }
    }
    return n;
}

int cim_class_prop_index(const cim_class *cls, const char *name)
{
    /* Providers name properties as the MOF spells them: an exact match
     * first, the case-insensitive rule (WMI's) only when that fails. */
    for (size_t i = 0; i < cls->nprops; i++)
        if (strcmp(cls->props[i].name, name) == 0)
            return (int)i;
    for (size_t i = 0; i < cls->nprops; i++)
        if (sc_streqi(cls->props[i].name, name))
            return (int)i;
    return -1;
}

int cim_class_method_index(const cim_class *cls, const char *name)
{
    for (size_t i = 0; i < cls->nmethods; i++)
        if (sc_streqi(cls->methods[i].name, name))
            return (int)i;
    return -1;
}

bool cim_class_is_a(const cim_class *cls, const char *ancestor)
{
    for (const cim_class *c = cls; c; c = c->super)
        if (sc_streqi(c->name, ancestor))
            return true;
    return false;
}

static const cim_qualifier *find_qual(const cim_qualifier *q, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (sc_streqi(q[i].name, name))
            return &q[i];
    return NULL;
}

const cim_qualifier *cim_class_qualifier(const cim_class *cls, const char *name)
{
    const cim_qualifier *q = find_qual(cls->quals, cls->nquals, name);
    if (q)
        return q;
    for (const cim_class *c = cls->super; c; c = c->super) {
        q = find_qual(c->quals, c->nquals, name);
        if (q)
            return q->tosubclass ? q : NULL;
    }
    return NULL;
}

const cim_qualifier *cim_property_qualifier(const cim_class *cls, size_t prop,
                                            const char *name)
{
    const char *pname = cls->props[prop].name;
    bool own = true;
    for (const cim_class *c = cls; c; c = c->super, own = false) {
        int i = cim_class_prop_index(c, pname);
        if (i < 0)
            break;
        const cim_property *p = &c->props[i];
        if (!p->local)
            continue;
        const cim_qualifier *q = find_qual(p->quals, p->nquals, name);
        if (q)
            return (own || q->tosubclass) ? q : NULL;
    }
    return NULL;
}

const cim_qualifier *cim_method_qualifier(const cim_class *cls, size_t method,
                                          const char *name)
{
    const char *mname = cls->methods[method].name;
    bool own = true;
    for (const cim_class *c = cls; c; c = c->super, own = false) {
        int i = cim_class_method_index(c, mname);
        if (i < 0)
            break;
        const cim_method_decl *m = &c->methods[i];
        if (!m->local)
            continue;
        const cim_qualifier *q = find_qual(m->quals, m->nquals, name);
        if (q)
            return (own || q->tosubclass) ? q : NULL;
    }
    return NULL;
}

/* ---- instances ----------------------------------------------------------- */
cim_instance *cim_instance_new(sc_arena *a, const cim_class *cls)
{
    cim_instance *inst = sc_alloc(a, sizeof(*inst));
    inst->cls = cls;
    inst->values = sc_alloc_array(a, cls->nprops, sizeof(cim_value));
    for (size_t i = 0; i < cls->nprops; i++)
        inst->values[i] = cim_null(cls->props[i].type);
    return inst;
}

void cim_instance_set(cim_instance *inst, const char *name, cim_value v)
{
    int i = cim_class_prop_index(inst->cls, name);
    if (i < 0) {
        fprintf(stderr, "smbcim: internal error: %s has no property %s\n",
                inst->cls->name, name);
        abort();
    }
    v.type = inst->cls->props[i].type;
    inst->values[i] = v;
}

void cim_instance_put(cim_instance *inst, const char *name, cim_value v)
{
    int i = cim_class_prop_index(inst->cls, name);
    if (i >= 0)
        inst->values[i] = v;
}

const cim_value *cim_instance_get(const cim_instance *inst, const char *name)
{
    int i = cim_class_prop_index(inst->cls, name);
    return i < 0 ? NULL : &inst->values[i];
}

const cim_value *smbcim_instance_get(const cim_instance *inst, const char *name)
{
    if (!inst || !name)
        return NULL;
    int i = cim_class_prop_index(inst->cls, name);
    if (i < 0 || (inst->present && !inst->present[i]))
        return NULL;
    return &inst->values[i];
}
