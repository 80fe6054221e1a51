/*
 * cimxml_resp.c - CIM-XML response writer (DSP0200/DSP0201) in the dialect
 * every tested client parses (wbem-protocols.md §2.5): an XML declaration
 * with version and encoding only, no xml:lang, PROPERTY* and IRETURNVALUE
 * never self-closed, plain ERROR, KEYVALUE with VALUETYPE and TYPE, full
 * INSTANCEPATHs (with HOST) in references.  Contract: cimxml.h.
 */
#include "server/cimxml.h"
#include "cim/cim.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nested references (a REF key whose value names an association) are
 * written as references up to this depth, then as strings. */
#define MAX_REF_NEST 8

/* ---- escaping ------------------------------------------------------------ */
static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at p (1..4) encoding a character XML
 * 1.0 allows, or 0. */
static size_t utf8_ok(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    uint32_t cp;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0; /* overlong or out of range */
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0; /* surrogates and non-characters XML 1.0 excludes */
    return n;
}

void cimxml_escape(sc_buf *b, const char *s, bool attr)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    const unsigned char *run = p;
    while (*p) {
        unsigned char c = *p;
        const char *rep = NULL;
        size_t adv = 1;
        if (c == '&')
            rep = "&amp;";
        else if (c == '<')
            rep = "&lt;";
        else if (c == '>')
            rep = "&gt;";
        else if (c == '"')
            rep = "&quot;";
        else if (c == '\r')
            rep = "&#13;";
        else if (c == '\n')
            rep = attr ? "&#10;" : NULL;
        else if (c == '\t')
            rep = attr ? "&#9;" : NULL;
        else if (c < 0x20)
            rep = REPLACEMENT;
        else if (c >= 0x80) {
            adv = utf8_ok(p);
            if (!adv) {
                rep = REPLACEMENT;
                adv = 1;
            }
        }
        if (rep) {
            sc_buf_add(b, (const char *)run, (size_t)(p - run));
            sc_buf_puts(b, rep);
            p += adv;
            run = p;
        } else {
            p += adv;
        }
    }
    sc_buf_add(b, (const char *)run, (size_t)(p - run));
}

static void attr_kv(sc_buf *b, const char *name, const char *value)
{
    sc_buf_putc(b, ' ');
    sc_buf_puts(b, name);
    sc_buf_puts(b, "=\"");
    cimxml_escape(b, value, true);
    sc_buf_putc(b, '"');
}

/* ---- writer -------------------------------------------------------------- */
static bool failed(const cimxml_writer *w)
{
    return w->err.code != WBEM_S_NO_ERROR;
}

void cimxml_writer_init(cimxml_writer *w, sc_buf *out, const smbcim_ctx *ctx,
                        const char *host)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->ctx = ctx;
    w->host = host ? host : ctx ? smbcim_server_name(ctx) : "localhost";
    w->nspace = "root/cimv2";
    w->scratch = sc_arena_new();
}

void cimxml_writer_free(cimxml_writer *w)
{
    sc_arena_free(w->scratch);
    w->scratch = NULL;
}

bool cimxml_writer_ok(const cimxml_writer *w)
{
    return !failed(w);
}

/* The scratch arena holds parsed paths; it is emptied between items once
 * it has grown, so a long enumeration does not accumulate. */
static void scratch_trim(cimxml_writer *w)
{
    if (sc_arena_bytes(w->scratch) > 256 * 1024) {
        sc_arena_free(w->scratch);
        w->scratch = sc_arena_new();
    }
}

/* ---- envelope ------------------------------------------------------------ */
static void begin_doc(sc_buf *b, const char *id, const char *method, bool extrinsic)
{
    sc_buf_puts(b, "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
                   "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE");
    attr_kv(b, "ID", id ? id : "");
    sc_buf_puts(b, " PROTOCOLVERSION=\"1.0\"><SIMPLERSP><");
    sc_buf_puts(b, extrinsic ? "METHODRESPONSE" : "IMETHODRESPONSE");
    attr_kv(b, "NAME", method ? method : "");
    sc_buf_putc(b, '>');
}

static void end_doc(sc_buf *b, bool extrinsic)
{
    sc_buf_puts(b, extrinsic ? "</METHODRESPONSE>" : "</IMETHODRESPONSE>");
    sc_buf_puts(b, "</SIMPLERSP></MESSAGE></CIM>\n");
}

void cimxml_begin_response(cimxml_writer *w, const char *id, const char *method,
                           bool extrinsic)
{
    begin_doc(w->out, id, method, extrinsic);
}

void cimxml_end_response(cimxml_writer *w, bool extrinsic)
{
    end_doc(w->out, extrinsic);
}

void cimxml_begin_ireturn(cimxml_writer *w)
{
    sc_buf_puts(w->out, "<IRETURNVALUE>");
}

void cimxml_end_ireturn(cimxml_writer *w)
{
    sc_buf_puts(w->out, "</IRETURNVALUE>");
}

void cimxml_put_pull_tail(cimxml_writer *w, const char *context, bool end_of_sequence)
{
    sc_buf *b = w->out;
    sc_buf_puts(b, "<PARAMVALUE NAME=\"EnumerationContext\" PARAMTYPE=\"string\">");
    if (context) {
        sc_buf_puts(b, "<VALUE>");
        cimxml_escape(b, context, false);
        sc_buf_puts(b, "</VALUE>");
    }
    sc_buf_puts(b, "</PARAMVALUE><PARAMVALUE NAME=\"EndOfSequence\" PARAMTYPE=\"boolean\"><VALUE>");
    sc_buf_puts(b, end_of_sequence ? "TRUE" : "FALSE");
    sc_buf_puts(b, "</VALUE></PARAMVALUE>");
}

void cimxml_write_error(sc_buf *out, const char *id, const char *method, bool extrinsic,
                        int cim_code, const char *description)
{
    begin_doc(out, id, method, extrinsic);
    sc_buf_printf(out, "<ERROR CODE=\"%d\"", cim_code);
    if (description)
        attr_kv(out, "DESCRIPTION", description);
    sc_buf_puts(out, "/>");
    end_doc(out, extrinsic);
}

void cimxml_write_void(sc_buf *out, const char *id, const char *method)
{
    begin_doc(out, id, method, false);
    end_doc(out, false);
}

/* ---- values -------------------------------------------------------------- */
/* A real as DSP0004 writes it: digits, '.', digits, optional exponent. */
static void put_real(sc_buf *b, double r, bool single)
{
    if (isnan(r)) {
        sc_buf_puts(b, "NaN");
        return;
    }
    if (isinf(r)) {
        sc_buf_puts(b, r < 0 ? "-INF" : "INF");
        return;
    }
    /* the shortest text that reads back as the same value */
    char t[64];
    if (single) {
        float f = (float)r;
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(t, sizeof t, "%.*g", prec, (double)f);
            if (strtof(t, NULL) == f)
                break;
        }
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(t, sizeof t, "%.*g", prec, r);
            if (strtod(t, NULL) == r)
                break;
        }
    }
    char *e = strpbrk(t, "eE");
    if (strchr(t, '.')) {
        sc_buf_puts(b, t);
    } else if (e) {
        sc_buf_add(b, t, (size_t)(e - t));
        sc_buf_puts(b, ".0");
        sc_buf_puts(b, e);
    } else {
        sc_buf_puts(b, t);
        sc_buf_puts(b, ".0");
    }
}

/* Scalar value text (not reference), escaped. */
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
        put_real(b, v->v.r, v->type == CIM_T_REAL32);
        break;
    case CIM_T_CHAR16: case CIM_T_STRING: case CIM_T_DATETIME: case CIM_T_REFERENCE:
        cimxml_escape(b, v->v.s, false);
        break;
    case CIM_T_INSTANCE: /* not text: put_embedded() */
    case CIM_T_NONE:
        break;
    }
}

static void put_ref_path(cimxml_writer *w, const char *path, int depth);

/* <NAMESPACEPATH><HOST/><LOCALNAMESPACEPATH/></NAMESPACEPATH> */
static void put_nspath(cimxml_writer *w, const char *nspace)
{
    sc_buf *b = w->out;
    sc_buf_puts(b, "<NAMESPACEPATH><HOST>");
    cimxml_escape(b, w->host, false);
    sc_buf_puts(b, "</HOST><LOCALNAMESPACEPATH>");
    const char *ns = nspace && *nspace ? nspace : w->nspace;
    const char *s = ns;
    for (const char *p = ns;; p++) {
        if (*p == '\\' || *p == '/' || *p == '\0') {
            if (p > s) {
                sc_buf_puts(b, "<NAMESPACE NAME=\"");
                char *seg = sc_strndup(w->scratch, s, (size_t)(p - s));
                cimxml_escape(b, seg, true);
                sc_buf_puts(b, "\"/>");
            }
            if (!*p)
                break;
            s = p + 1;
        }
    }
    sc_buf_puts(b, "</LOCALNAMESPACEPATH></NAMESPACEPATH>");
}

/* One key value: KEYVALUE, or VALUE.REFERENCE for a reference. */
static void put_keyvalue(cimxml_writer *w, const cim_value *v, int depth)
{
    sc_buf *b = w->out;
    if (v->type == CIM_T_REFERENCE && depth < MAX_REF_NEST) {
        put_ref_path(w, v->v.s, depth + 1);
        return;
    }
    const char *vt, *type;
    if (v->type == CIM_T_BOOLEAN) {
        vt = "boolean";
        type = "boolean";
    } else if (cim_type_is_integer(v->type) || v->type == CIM_T_REAL32 ||
               v->type == CIM_T_REAL64) {
        vt = "numeric";
        type = cim_type_name(v->type);
    } else {
        vt = "string";
        type = v->type == CIM_T_REFERENCE ? "string" : cim_type_name(v->type);
    }
    sc_buf_printf(b, "<KEYVALUE VALUETYPE=\"%s\" TYPE=\"%s\">", vt, type);
    scalar_text(b, v);
    sc_buf_puts(b, "</KEYVALUE>");
}

/* INSTANCENAME from a parsed path (keys typed through the class when the
 * context knows it). */
static void put_instancename_parsed(cimxml_writer *w, cim_objpath *p, int depth)
{
    sc_buf *b = w->out;
    const cim_class *cls = w->ctx ? smbcim_class_find(w->ctx, p->class_name) : NULL;
    if (cls && !p->singleton && p->nkeys)
        (void)cim_path_resolve(w->scratch, p, cls, NULL);
    sc_buf_puts(b, "<INSTANCENAME");
    attr_kv(b, "CLASSNAME", p->class_name);
    sc_buf_putc(b, '>');
    for (size_t i = 0; i < p->nkeys && !p->singleton; i++) {
        if (p->keys[i].name[0]) {
            sc_buf_puts(b, "<KEYBINDING");
            attr_kv(b, "NAME", p->keys[i].name);
            sc_buf_putc(b, '>');
        }
        put_keyvalue(w, &p->keys[i].value, depth);
        if (p->keys[i].name[0])
            sc_buf_puts(b, "</KEYBINDING>");
    }
    sc_buf_puts(b, "</INSTANCENAME>");
}

/* VALUE.REFERENCE for a WMI path string. */
static void put_ref_path(cimxml_writer *w, const char *path, int depth)
{
    cim_objpath p;
    smbcim_error e = {0};
    if (cim_path_parse(w->scratch, path, &p, &e) != WBEM_S_NO_ERROR) {
        smbcim_error_set(&w->err, WBEM_E_INVALID_OBJECT_PATH,
                         "reference value \"%.200s\" is not an object path: %s", path ? path : "",
                         e.msg);
        return;
    }
    sc_buf *b = w->out;
    sc_buf_puts(b, "<VALUE.REFERENCE>");
    if (p.is_class) {
        sc_buf_puts(b, "<CLASSPATH>");
        put_nspath(w, p.nspace);
        sc_buf_puts(b, "<CLASSNAME");
        attr_kv(b, "NAME", p.class_name);
        sc_buf_puts(b, "/></CLASSPATH>");
    } else {
        sc_buf_puts(b, "<INSTANCEPATH>");
        put_nspath(w, p.nspace);
        put_instancename_parsed(w, &p, depth);
        sc_buf_puts(b, "</INSTANCEPATH>");
    }
    sc_buf_puts(b, "</VALUE.REFERENCE>");
}

static void put_instance_el(cimxml_writer *w, const cim_instance *inst, const cimxml_objopts *o);

/* Embedded instances inside embedded instances, at most: events nest one
 * (an indication's SourceInstance); the cap stops an instance that holds
 * itself. */
#define MAX_EMBED_DEPTH 4

/* An embedded instance as DSP0201 carries it: a VALUE whose text is the
 * XML of its INSTANCE (all properties, no qualifiers), escaped once more.
 * The INSTANCE is built apart and then escaped as a whole. */
static void put_embedded(cimxml_writer *w, const cim_instance *inst)
{
    if (!inst) {
        smbcim_error_set(&w->err, WBEM_E_FAILED, "an embedded object value without its "
                         "instance");
        return;
    }
    if (w->embed_depth >= MAX_EMBED_DEPTH) {
        smbcim_error_set(&w->err, WBEM_E_FAILED, "embedded instances nested deeper than %d "
                         "levels (an instance of %s)", MAX_EMBED_DEPTH, inst->cls->name);
        return;
    }
    sc_buf inner;
    sc_buf_init(&inner);
    sc_buf *outer = w->out;
    w->out = &inner;
    w->embed_depth++;
    put_instance_el(w, inst, NULL);
    w->embed_depth--;
    w->out = outer;
    sc_buf_puts(outer, "<VALUE>");
    cimxml_escape(outer, inner.data ? inner.data : "", false);
    sc_buf_puts(outer, "</VALUE>");
    sc_buf_free(&inner);
}

static void put_value_depth(cimxml_writer *w, const cim_value *v)
{
    sc_buf *b = w->out;
    if (v->null)
        return;
    if (v->array) {
        bool refs = v->type == CIM_T_REFERENCE;
        sc_buf_puts(b, refs ? "<VALUE.REFARRAY>" : "<VALUE.ARRAY>");
        for (uint32_t i = 0; i < v->count; i++) {
            const cim_value *e = &v->v.elems[i];
            if (e->null) {
                sc_buf_puts(b, "<VALUE.NULL/>");
            } else if (refs) {
                put_ref_path(w, e->v.s, 0);
            } else if (e->type == CIM_T_INSTANCE) {
                put_embedded(w, e->v.o);
            } else {
                sc_buf_puts(b, "<VALUE>");
                scalar_text(b, e);
                sc_buf_puts(b, "</VALUE>");
            }
        }
        sc_buf_puts(b, refs ? "</VALUE.REFARRAY>" : "</VALUE.ARRAY>");
        return;
    }
    if (v->type == CIM_T_REFERENCE) {
        put_ref_path(w, v->v.s, 0);
        return;
    }
    if (v->type == CIM_T_INSTANCE) {
        put_embedded(w, v->v.o);
        return;
    }
    sc_buf_puts(b, "<VALUE>");
    scalar_text(b, v);
    sc_buf_puts(b, "</VALUE>");
}

void cimxml_put_value(cimxml_writer *w, const cim_value *v)
{
    put_value_depth(w, v);
    scratch_trim(w);
}

/* Array values inside a PROPERTY.ARRAY: references are written as their
 * path strings (DSP0201 has no reference-array properties). */
static void put_prop_array_value(cimxml_writer *w, const cim_value *v)
{
    if (v->null)
        return;
    if (v->type != CIM_T_REFERENCE) {
        put_value_depth(w, v);
        return;
    }
    sc_buf *b = w->out;
    sc_buf_puts(b, "<VALUE.ARRAY>");
    for (uint32_t i = 0; i < v->count; i++) {
        if (v->v.elems[i].null) {
            sc_buf_puts(b, "<VALUE.NULL/>");
        } else {
            sc_buf_puts(b, "<VALUE>");
            cimxml_escape(b, v->v.elems[i].v.s, false);
            sc_buf_puts(b, "</VALUE>");
        }
    }
    sc_buf_puts(b, "</VALUE.ARRAY>");
}

/* ---- paths of instances ---------------------------------------------------- */
static void sorted_keys(const cim_class *cls, size_t *idx, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < cls->nprops; i++) {
        if (!cls->props[i].key)
            continue;
        size_t j = (*n)++;
        while (j > 0 && sc_stricmp(cls->props[idx[j - 1]].name, cls->props[i].name) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
}

static bool keys_available(const cim_instance *inst)
{
    const cim_class *cls = inst->cls;
    for (size_t i = 0; i < cls->nprops; i++) {
        if (!cls->props[i].key)
            continue;
        const cim_value *v = &inst->values[i];
        cim_type t = cls->props[i].type;
        if (v->null || v->array || v->type == CIM_T_NONE ||
            cim_type_is_stringlike(t) != cim_type_is_stringlike(v->type) ||
            (cim_type_is_stringlike(t) && !v->v.s))
            return false;
    }
    return true;
}

static void put_instancename_inst(cimxml_writer *w, const cim_instance *inst)
{
    const cim_class *cls = inst->cls;
    if (!keys_available(inst)) {
        /* the keys were left out: fall back to the path the engine made */
        cim_objpath p;
        if (!inst->path || cim_path_parse(w->scratch, inst->path, &p, NULL) != WBEM_S_NO_ERROR ||
            p.is_class) {
            smbcim_error_set(&w->err, WBEM_E_INVALID_OBJECT,
                             "an instance of %s lacks key values and a path", cls->name);
            return;
        }
        put_instancename_parsed(w, &p, 0);
        return;
    }
    sc_buf *b = w->out;
    size_t idx[cls->nprops ? cls->nprops : 1];
    size_t n;
    sorted_keys(cls, idx, &n);
    sc_buf_puts(b, "<INSTANCENAME");
    attr_kv(b, "CLASSNAME", cls->name);
    sc_buf_putc(b, '>');
    for (size_t k = 0; k < n; k++) {
        const cim_property *pr = &cls->props[idx[k]];
        cim_value v = inst->values[idx[k]];
        v.type = pr->type; /* the declaration decides (REF vs string) */
        sc_buf_puts(b, "<KEYBINDING");
        attr_kv(b, "NAME", pr->name);
        sc_buf_putc(b, '>');
        put_keyvalue(w, &v, 0);
        sc_buf_puts(b, "</KEYBINDING>");
    }
    sc_buf_puts(b, "</INSTANCENAME>");
}

static const char *inst_nspace(cimxml_writer *w, const cim_instance *inst)
{
    cim_objpath p;
    if (inst->path && cim_path_parse(w->scratch, inst->path, &p, NULL) == WBEM_S_NO_ERROR)
        return p.nspace;
    return NULL;
}

static void put_instancepath_inst(cimxml_writer *w, const cim_instance *inst)
{
    sc_buf_puts(w->out, "<INSTANCEPATH>");
    put_nspath(w, inst_nspace(w, inst));
    put_instancename_inst(w, inst);
    sc_buf_puts(w->out, "</INSTANCEPATH>");
}

void cimxml_put_instancename(cimxml_writer *w, const cim_instance *inst)
{
    put_instancename_inst(w, inst);
    scratch_trim(w);
}

void cimxml_put_instancepath(cimxml_writer *w, const cim_instance *inst)
{
    put_instancepath_inst(w, inst);
    scratch_trim(w);
}

static bool parse_instance_path(cimxml_writer *w, const char *path, cim_objpath *p)
{
    smbcim_error e = {0};
    if (cim_path_parse(w->scratch, path, p, &e) != WBEM_S_NO_ERROR) {
        smbcim_error_set(&w->err, WBEM_E_INVALID_OBJECT_PATH, "%s", e.msg);
        return false;
    }
    if (p->is_class) {
        smbcim_error_set(&w->err, WBEM_E_INVALID_OBJECT_PATH,
                         "\"%.200s\" names a class, not an instance", path);
        return false;
    }
    return true;
}

void cimxml_put_instancename_path(cimxml_writer *w, const char *path)
{
    cim_objpath p;
    if (parse_instance_path(w, path, &p))
        put_instancename_parsed(w, &p, 0);
    scratch_trim(w);
}

void cimxml_put_instancepath_path(cimxml_writer *w, const char *path)
{
    cim_objpath p;
    if (parse_instance_path(w, path, &p)) {
        sc_buf_puts(w->out, "<INSTANCEPATH>");
        put_nspath(w, p.nspace);
        put_instancename_parsed(w, &p, 0);
        sc_buf_puts(w->out, "</INSTANCEPATH>");
    }
    scratch_trim(w);
}

/* ---- classes and instances ------------------------------------------------- */
static bool in_plist(const cimxml_objopts *o, const char *name)
{
    if (!o || !o->has_property_list)
        return true;
    for (size_t i = 0; i < o->nproperty_list; i++)
        if (o->property_list[i] && sc_streqi(o->property_list[i], name))
            return true;
    return false;
}

/* QUALIFIER: its flavors as attributes only where they differ from
 * DSP0201's defaults (OVERRIDABLE true, TOSUBCLASS true, TRANSLATABLE
 * false). */
static void put_qualifier(cimxml_writer *w, const cim_qualifier *q, bool propagated)
{
    sc_buf *b = w->out;
    cim_type t = q->value.type == CIM_T_NONE ? CIM_T_STRING : q->value.type;
    sc_buf_puts(b, "<QUALIFIER");
    attr_kv(b, "NAME", q->name);
    attr_kv(b, "TYPE", cim_type_name(t));
    if (propagated)
        sc_buf_puts(b, " PROPAGATED=\"true\"");
    if (!q->overridable)
        sc_buf_puts(b, " OVERRIDABLE=\"false\"");
    if (!q->tosubclass)
        sc_buf_puts(b, " TOSUBCLASS=\"false\"");
    if (q->translatable)
        sc_buf_puts(b, " TRANSLATABLE=\"true\"");
    sc_buf_putc(b, '>');
    if (q->value.type != CIM_T_NONE && q->value.type != CIM_T_REFERENCE)
        put_value_depth(w, &q->value);
    sc_buf_puts(b, "</QUALIFIER>");
}

static bool qual_in(const cim_qualifier *q, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (sc_streqi(q[i].name, name))
            return true;
    return false;
}

/* The class's own qualifiers, then (unless local_only) those its
 * superclasses propagate and nothing nearer overrides. */
static void put_class_quals(cimxml_writer *w, const cim_class *cls, bool local_only)
{
    for (size_t i = 0; i < cls->nquals; i++)
        put_qualifier(w, &cls->quals[i], false);
    if (local_only)
        return;
    for (const cim_class *c = cls->super; c; c = c->super) {
        for (size_t i = 0; i < c->nquals; i++) {
            const cim_qualifier *q = &c->quals[i];
            if (!q->tosubclass)
                continue;
            bool nearer = false;
            for (const cim_class *d = cls; d != c && !nearer; d = d->super)
                nearer = qual_in(d->quals, d->nquals, q->name);
            if (!nearer)
                put_qualifier(w, q, true);
        }
    }
}

/* The qualifiers of one element (a property or a method) declared at
 * several levels of a class and its superclasses: decls[0] the nearest.
 * Each level's qualifiers are written unless a nearer level has one of
 * the same name; those of other levels only if they propagate. */
typedef struct qual_level {
    const cim_qualifier *quals;
    size_t nquals;
    bool own; /* the declaration in the class being written */
} qual_level;

static void put_level_quals(cimxml_writer *w, const qual_level *lv, size_t n)
{
    for (size_t d = 0; d < n; d++) {
        for (size_t i = 0; i < lv[d].nquals; i++) {
            const cim_qualifier *q = &lv[d].quals[i];
            if (!lv[d].own && !q->tosubclass)
                continue;
            bool nearer = false;
            for (size_t e = 0; e < d && !nearer; e++)
                nearer = qual_in(lv[e].quals, lv[e].nquals, q->name);
            if (!nearer)
                put_qualifier(w, q, !lv[d].own);
        }
    }
}

/* Qualifiers of property `prop` of cls: those of its declaration in cls
 * (if it is local), then those the overridden declarations propagate. */
static void put_prop_quals(cimxml_writer *w, const cim_class *cls, size_t prop, bool local_only)
{
    const char *pname = cls->props[prop].name;
    qual_level lv[16];
    size_t nd = 0;
    for (const cim_class *c = cls; c && nd < 16; c = c->super) {
        int i = cim_class_prop_index(c, pname);
        if (i < 0)
            break;
        if (c->props[i].local) {
            if (local_only && c != cls)
                break;
            lv[nd++] = (qual_level){c->props[i].quals, c->props[i].nquals,
                                    &c->props[i] == &cls->props[prop]};
        }
    }
    put_level_quals(w, lv, nd);
}

/* Qualifiers of method `m` of cls, as put_prop_quals does for properties. */
static void put_method_quals(cimxml_writer *w, const cim_class *cls, size_t m, bool local_only)
{
    const char *mname = cls->methods[m].name;
    qual_level lv[16];
    size_t nd = 0;
    for (const cim_class *c = cls; c && nd < 16; c = c->super) {
        int i = cim_class_method_index(c, mname);
        if (i < 0)
            break;
        if (c->methods[i].local) {
            if (local_only && c != cls)
                break;
            lv[nd++] = (qual_level){c->methods[i].quals, c->methods[i].nquals,
                                    &c->methods[i] == &cls->methods[m]};
        }
    }
    put_level_quals(w, lv, nd);
}

/* One PARAMETER / PARAMETER.REFERENCE / PARAMETER.ARRAY /
 * PARAMETER.REFARRAY (DSP0201 3.2.4.x) with its qualifiers. */
static void put_parameter(cimxml_writer *w, const cim_parameter *p, bool quals, bool propagated)
{
    sc_buf *b = w->out;
    bool ref = p->type == CIM_T_REFERENCE;
    const char *el = ref ? (p->array ? "PARAMETER.REFARRAY" : "PARAMETER.REFERENCE")
                         : (p->array ? "PARAMETER.ARRAY" : "PARAMETER");
    sc_buf_putc(b, '<');
    sc_buf_puts(b, el);
    attr_kv(b, "NAME", p->name);
    if (ref) {
        if (p->ref_class)
            attr_kv(b, "REFERENCECLASS", p->ref_class);
    } else {
        attr_kv(b, "TYPE", cim_type_name(p->type));
    }
    sc_buf_putc(b, '>');
    for (size_t i = 0; quals && i < p->nquals; i++)
        put_qualifier(w, &p->quals[i], propagated);
    sc_buf_puts(b, "</");
    sc_buf_puts(b, el);
    sc_buf_putc(b, '>');
}

/* One METHOD of a CLASS: TYPE unless void, CLASSORIGIN when asked,
 * PROPAGATED for an inherited one; qualifiers (and those of the
 * parameters) only with IncludeQualifiers (DSP0200 GetClass). */
static void put_method(cimxml_writer *w, const cim_class *cls, size_t i, const cimxml_objopts *o)
{
    sc_buf *b = w->out;
    const cim_method_decl *m = &cls->methods[i];
    sc_buf_puts(b, "<METHOD");
    attr_kv(b, "NAME", m->name);
    if (m->type != CIM_T_NONE)
        attr_kv(b, "TYPE", cim_type_name(m->type));
    if (o && o->include_class_origin && m->origin)
        attr_kv(b, "CLASSORIGIN", m->origin);
    if (!m->local)
        sc_buf_puts(b, " PROPAGATED=\"true\"");
    sc_buf_putc(b, '>');
    bool quals = o && o->include_qualifiers;
    if (quals)
        put_method_quals(w, cls, i, o->local_only);
    for (size_t k = 0; k < m->nparams; k++)
        put_parameter(w, &m->params[k], quals, !m->local);
    sc_buf_puts(b, "</METHOD>");
}

/* One PROPERTY / PROPERTY.ARRAY / PROPERTY.REFERENCE: a declaration (in a
 * CLASS, value = default) or a value (in an INSTANCE). */
static void put_property(cimxml_writer *w, const cim_class *cls, size_t i, const cim_value *v,
                         const cimxml_objopts *o, bool in_class)
{
    sc_buf *b = w->out;
    const cim_property *p = &cls->props[i];
    const char *el = p->type == CIM_T_REFERENCE && !p->array ? "PROPERTY.REFERENCE"
                     : p->array                              ? "PROPERTY.ARRAY"
                                                             : "PROPERTY";
    sc_buf_putc(b, '<');
    sc_buf_puts(b, el);
    attr_kv(b, "NAME", p->name);
    if (p->type == CIM_T_REFERENCE && !p->array) {
        if (p->ref_class)
            attr_kv(b, "REFERENCECLASS", p->ref_class);
    } else {
        attr_kv(b, "TYPE", p->type == CIM_T_REFERENCE ? "string" : cim_type_name(p->type));
    }
    /* DSP0201: a property holding an embedded object says so; "instance"
     * when the value is one, "object" for a declaration (or a NULL) with
     * the EmbeddedObject qualifier */
    if (!v->null && v->type == CIM_T_INSTANCE)
        sc_buf_puts(b, " EmbeddedObject=\"instance\"");
    else if (cim_property_qualifier(cls, i, "EmbeddedObject"))
        sc_buf_puts(b, " EmbeddedObject=\"object\"");
    if (o && o->include_class_origin && p->origin)
        attr_kv(b, "CLASSORIGIN", p->origin);
    if (in_class && !p->local)
        sc_buf_puts(b, " PROPAGATED=\"true\"");
    sc_buf_putc(b, '>');
    if (o && o->include_qualifiers)
        put_prop_quals(w, cls, i, in_class && o->local_only);
    if (!v->null) {
        if (p->array && v->array)
            put_prop_array_value(w, v);
        else if (!p->array && !v->array)
            put_value_depth(w, v);
        else
            smbcim_error_set(&w->err, WBEM_E_TYPE_MISMATCH,
                             "property %s.%s: value and declaration disagree on array-ness",
                             cls->name, p->name);
    }
    sc_buf_puts(b, "</");
    sc_buf_puts(b, el);
    sc_buf_putc(b, '>');
}

void cimxml_put_classname(cimxml_writer *w, const char *name)
{
    sc_buf_puts(w->out, "<CLASSNAME");
    attr_kv(w->out, "NAME", name);
    sc_buf_puts(w->out, "/>");
}

void cimxml_put_class(cimxml_writer *w, const cim_class *cls, const cimxml_objopts *o)
{
    sc_buf *b = w->out;
    sc_buf_puts(b, "<CLASS");
    attr_kv(b, "NAME", cls->name);
    if (cls->super_name)
        attr_kv(b, "SUPERCLASS", cls->super_name);
    if (o && o->derivation && cls->super) {
        sc_buf chain;
        sc_buf_init(&chain);
        for (const cim_class *k = cls->super; k; k = k->super)
            sc_buf_printf(&chain, "%s%s", k == cls->super ? "" : ",", k->name);
        attr_kv(b, "DERIVATION", chain.data);
        sc_buf_free(&chain);
    }
    sc_buf_putc(b, '>');
    bool local_only = o && o->local_only;
    if (o && o->include_qualifiers)
        put_class_quals(w, cls, local_only);
    for (size_t i = 0; i < cls->nprops; i++) {
        if (local_only && !cls->props[i].local)
            continue;
        if (!in_plist(o, cls->props[i].name))
            continue;
        put_property(w, cls, i, &cls->props[i].defval, o, true);
    }
    /* methods: LocalOnly leaves out the inherited ones; a PropertyList
     * filters properties only (DSP0200) */
    for (size_t i = 0; i < cls->nmethods; i++) {
        if (local_only && !cls->methods[i].local)
            continue;
        put_method(w, cls, i, o);
    }
    sc_buf_puts(b, "</CLASS>");
    scratch_trim(w);
}

static void put_instance_el(cimxml_writer *w, const cim_instance *inst, const cimxml_objopts *o)
{
    sc_buf *b = w->out;
    const cim_class *cls = inst->cls;
    sc_buf_puts(b, "<INSTANCE");
    attr_kv(b, "CLASSNAME", cls->name);
    sc_buf_putc(b, '>');
    for (size_t i = 0; i < cls->nprops; i++) {
        if (inst->present && !inst->present[i])
            continue;
        if (!in_plist(o, cls->props[i].name))
            continue;
        put_property(w, cls, i, &inst->values[i], o, false);
    }
    sc_buf_puts(b, "</INSTANCE>");
}

void cimxml_write_export_indication(cimxml_writer *w, const char *id,
                                    const cim_instance *indication)
{
    sc_buf *b = w->out;
    sc_buf_puts(b, "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
                   "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE");
    attr_kv(b, "ID", id ? id : "");
    sc_buf_puts(b, " PROTOCOLVERSION=\"1.0\"><SIMPLEEXPREQ>"
                   "<EXPMETHODCALL NAME=\"ExportIndication\">"
                   "<EXPPARAMVALUE NAME=\"NewIndication\">");
    put_instance_el(w, indication, NULL);
    sc_buf_puts(b, "</EXPPARAMVALUE></EXPMETHODCALL></SIMPLEEXPREQ></MESSAGE></CIM>\n");
    scratch_trim(w);
}

void cimxml_put_instance(cimxml_writer *w, const cim_instance *inst, const cimxml_objopts *o)
{
    put_instance_el(w, inst, o);
    scratch_trim(w);
}

void cimxml_put_named_instance(cimxml_writer *w, const cim_instance *inst,
                               const cimxml_objopts *o)
{
    sc_buf_puts(w->out, "<VALUE.NAMEDINSTANCE>");
    put_instancename_inst(w, inst);
    put_instance_el(w, inst, o);
    sc_buf_puts(w->out, "</VALUE.NAMEDINSTANCE>");
    scratch_trim(w);
}

void cimxml_put_object_with_path(cimxml_writer *w, const cim_instance *inst,
                                 const cimxml_objopts *o)
{
    sc_buf_puts(w->out, "<VALUE.OBJECTWITHPATH>");
    put_instancepath_inst(w, inst);
    put_instance_el(w, inst, o);
    sc_buf_puts(w->out, "</VALUE.OBJECTWITHPATH>");
    scratch_trim(w);
}

void cimxml_put_object_path(cimxml_writer *w, const cim_instance *inst)
{
    sc_buf_puts(w->out, "<OBJECTPATH>");
    put_instancepath_inst(w, inst);
    sc_buf_puts(w->out, "</OBJECTPATH>");
    scratch_trim(w);
}

void cimxml_put_instance_with_path(cimxml_writer *w, const cim_instance *inst,
                                   const cimxml_objopts *o)
{
    sc_buf_puts(w->out, "<VALUE.INSTANCEWITHPATH>");
    put_instancepath_inst(w, inst);
    put_instance_el(w, inst, o);
    sc_buf_puts(w->out, "</VALUE.INSTANCEWITHPATH>");
    scratch_trim(w);
}
