/*
 * wsman_resp.c - WS-Management responses: the envelope, instances as
 * DSP0230 maps them (as Windows writes them, MS-WSMV 4.1), endpoint
 * references, faults.  docs/wsman.md says what each answer looks like.
 */
#include "server/wsman.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "cim/cim.h"

/* Every namespace a response uses, declared once on the Envelope. */
#define ENVELOPE_OPEN                                                                      \
    "<s:Envelope xml:lang=\"en-US\" xmlns:s=\"" WSMAN_NS_SOAP "\" xmlns:a=\"" WSMAN_NS_ADDR \
    "\" xmlns:n=\"" WSMAN_NS_ENUM "\" xmlns:x=\"" WSMAN_NS_XFER "\" xmlns:w=\"" WSMAN_NS_WSMAN \
    "\" xmlns:b=\"" WSMAN_NS_CIMBINDING "\" xmlns:wsmid=\"" WSMAN_NS_IDENTITY                 \
    "\" xmlns:cim=\"" WSMAN_NS_CIM "\" xmlns:xsi=\"" WSMAN_NS_XSI "\">"

void wsman_escape(sc_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        const unsigned char *q = p;
        while (*q && *q != '&' && *q != '<' && *q != '>' && *q != '"' && *q != '\'' &&
               (*q >= 0x20 || *q == '\t' || *q == '\n') && *q != 0x7F)
            q++;
        sc_buf_add(b, (const char *)p, (size_t)(q - p));
        p = q;
        if (!*p)
            break;
        switch (*p) {
        case '&': sc_buf_puts(b, "&amp;"); break;
        case '<': sc_buf_puts(b, "&lt;"); break;
        case '>': sc_buf_puts(b, "&gt;"); break;
        case '"': sc_buf_puts(b, "&quot;"); break;
        case '\'': sc_buf_puts(b, "&apos;"); break;
        case '\r': sc_buf_puts(b, "&#13;"); break;
        default:
            /* XML 1.0 cannot carry other C0 controls even as references:
             * they are shown as U+FFFD, as the CIM-XML writer does. */
            sc_buf_puts(b, "\xEF\xBF\xBD");
            break;
        }
        p++;
    }
}

static void message_id(sc_buf *b)
{
    unsigned char r[16] = {0};
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0F) | 0x40); /* RFC 4122 version 4 */
    r[8] = (unsigned char)((r[8] & 0x3F) | 0x80);
    sc_buf_printf(b,
                  "uuid:%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
                  r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11],
                  r[12], r[13], r[14], r[15]);
}

/* The envelope's start and the header up to (not including) </s:Header>:
 * Action, a fresh MessageID, To anonymous, RelatesTo. */
static void header_open(sc_buf *b, const char *action, const char *relates_to)
{
    sc_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" ENVELOPE_OPEN "<s:Header>");
    sc_buf_puts(b, "<a:Action>");
    wsman_escape(b, action);
    sc_buf_puts(b, "</a:Action><a:MessageID>");
    message_id(b);
    sc_buf_puts(b, "</a:MessageID><a:To>" WSMAN_ANONYMOUS "</a:To>");
    if (relates_to) {
        sc_buf_puts(b, "<a:RelatesTo>");
        wsman_escape(b, relates_to);
        sc_buf_puts(b, "</a:RelatesTo>");
    }
}

void wsman_begin(sc_buf *b, const char *action, const char *relates_to)
{
    header_open(b, action, relates_to);
    sc_buf_puts(b, "</s:Header><s:Body>");
}

void wsman_end(sc_buf *b)
{
    sc_buf_puts(b, "</s:Body></s:Envelope>\n");
}

static void put_class_uri(sc_buf *b, const wsman_out *o, const char *cls)
{
    if (o->family == WSMAN_FAMILY_WMI) {
        sc_buf_puts(b, WSMAN_URI_WMI);
        for (const char *p = o->ns; *p; p++)
            sc_buf_putc(b, *p == '\\' ? '/' : *p);
        sc_buf_putc(b, '/');
    } else {
        sc_buf_puts(b, WSMAN_URI_DMTF);
    }
    wsman_escape(b, cls);
}

char *wsman_class_uri(sc_arena *a, const wsman_out *o, const char *cls)
{
    sc_buf b;
    sc_buf_init(&b);
    put_class_uri(&b, o, cls);
    char *s = sc_strndup(a, b.data ? b.data : "", b.len);
    sc_buf_free(&b);
    return s;
}

/* DSP0004 datetime text -> xs:dateTime (timestamps) or xs:duration
 * (intervals); false for a value with wildcards or of a wrong shape. */
static bool put_datetime(sc_buf *b, const char *s)
{
    if (!s || strlen(s) != 25 || s[14] != '.')
        return false;
    for (int i = 0; i < 25; i++)
        if (i != 14 && i != 21 && (s[i] < '0' || s[i] > '9'))
            return false;
    if (s[21] == ':') { /* interval ddddddddHHMMSS.mmmmmm:000 */
        unsigned long days = 0;
        for (int i = 0; i < 8; i++)
            days = days * 10 + (unsigned long)(s[i] - '0');
        sc_buf_printf(b, "<cim:Interval>P%luDT%.2sH%.2sM%.2s.%.6sS</cim:Interval>", days, s + 8,
                      s + 10, s + 12, s + 15);
        return true;
    }
    if (s[21] != '+' && s[21] != '-')
        return false;
    int off = (s[22] - '0') * 100 + (s[23] - '0') * 10 + (s[24] - '0');
    sc_buf_printf(b, "<cim:Datetime>%.4s-%.2s-%.2sT%.2s:%.2s:%.2s.%.6s", s, s + 4, s + 6, s + 8,
                  s + 10, s + 12, s + 15);
    if (off == 0)
        sc_buf_putc(b, 'Z');
    else
        sc_buf_printf(b, "%c%02d:%02d", s[21], off / 60, off % 60);
    sc_buf_puts(b, "</cim:Datetime>");
    return true;
}

static void put_epr_path(sc_buf *b, const wsman_out *o, const char *path, const char *wrap,
                         int depth);

static void put_selectors(sc_buf *b, const wsman_out *o, const cim_keybinding *keys,
                          size_t nkeys, int depth)
{
    sc_buf_puts(b, "<w:SelectorSet>");
    if (o->family == WSMAN_FAMILY_DMTF) {
        sc_buf_puts(b, "<w:Selector Name=\"__cimnamespace\">");
        wsman_escape(b, o->ns);
        sc_buf_puts(b, "</w:Selector>");
    }
    for (size_t i = 0; i < nkeys; i++) {
        sc_buf_puts(b, "<w:Selector Name=\"");
        wsman_escape(b, keys[i].name);
        sc_buf_puts(b, "\">");
        const cim_value *v = &keys[i].value;
        if (v->type == CIM_T_REFERENCE && depth < WSMAN_MAX_EPR_DEPTH) {
            put_epr_path(b, o, v->v.s, "a:EndpointReference", depth + 1);
        } else if (cim_type_is_stringlike(v->type)) {
            wsman_escape(b, v->v.s);
        } else {
            sc_buf t;
            sc_buf_init(&t);
            cim_value_append_text(&t, v);
            wsman_escape(b, t.data ? t.data : "");
            sc_buf_free(&t);
        }
        sc_buf_puts(b, "</w:Selector>");
    }
    sc_buf_puts(b, "</w:SelectorSet>");
}

/* An endpoint reference to the object at `path` (an object path text, as
 * REF values hold them), in element `wrap`, or its children alone when
 * wrap is NULL (a REF property's element holds them directly).  An
 * unparsable path gives an EPR with no selectors (it cannot happen with the
 * paths the providers write). */
static void put_epr_path(sc_buf *b, const wsman_out *o, const char *path, const char *wrap,
                         int depth)
{
    sc_arena *a = sc_arena_new();
    cim_objpath p;
    smbcim_error err = {0};
    bool ok = cim_path_parse(a, path ? path : "", &p, &err) == WBEM_S_NO_ERROR;
    if (wrap)
        sc_buf_printf(b, "<%s>", wrap);
    sc_buf_puts(b, "<a:Address>" WSMAN_ANONYMOUS "</a:Address><a:ReferenceParameters>"
                   "<w:ResourceURI>");
    if (ok)
        put_class_uri(b, o, p.class_name);
    sc_buf_puts(b, "</w:ResourceURI>");
    if (ok)
        put_selectors(b, o, p.keys, p.nkeys, depth);
    sc_buf_puts(b, "</a:ReferenceParameters>");
    if (wrap)
        sc_buf_printf(b, "</%s>", wrap);
    sc_arena_free(a);
}

void wsman_put_epr(sc_buf *b, const wsman_out *o, const cim_instance *inst, const char *wrap)
{
    sc_buf_printf(b, "<%s><a:Address>" WSMAN_ANONYMOUS "</a:Address><a:ReferenceParameters>",
                  wrap);
    sc_buf_puts(b, "<w:ResourceURI>");
    put_class_uri(b, o, inst->cls->name);
    sc_buf_puts(b, "</w:ResourceURI>");
    size_t n = 0;
    cim_keybinding keys[inst->cls->nkeys ? inst->cls->nkeys : 1];
    for (size_t i = 0; i < inst->cls->nprops && n < inst->cls->nkeys; i++) {
        if (!inst->cls->props[i].key || inst->values[i].null)
            continue;
        keys[n].name = inst->cls->props[i].name;
        keys[n].value = inst->values[i];
        n++;
    }
    put_selectors(b, o, keys, n, 0);
    sc_buf_printf(b, "</a:ReferenceParameters></%s>", wrap);
}

static bool selected(const wsman_out *o, const char *name)
{
    if (!o->props)
        return true;
    for (size_t i = 0; i < o->nprops; i++)
        if (sc_streqi(o->props[i], name))
            return true;
    return false;
}

static void put_scalar(sc_buf *b, const wsman_out *o, const char *name, const cim_value *v)
{
    sc_buf_printf(b, "<p:%s>", name);
    switch (v->type) {
    case CIM_T_BOOLEAN:
        sc_buf_puts(b, v->v.b ? "true" : "false");
        break;
    case CIM_T_REFERENCE: /* the EPR's children directly inside the element */
        put_epr_path(b, o, v->v.s, NULL, 0);
        break;
    case CIM_T_DATETIME:
        put_datetime(b, v->v.s); /* callers checked it converts */
        break;
    default:
        if (cim_type_is_stringlike(v->type)) {
            wsman_escape(b, v->v.s);
        } else {
            sc_buf t;
            sc_buf_init(&t);
            cim_value_append_text(&t, v);
            wsman_escape(b, t.data ? t.data : "");
            sc_buf_free(&t);
        }
    }
    sc_buf_printf(b, "</p:%s>", name);
}

static bool datetime_ok(const char *s)
{
    sc_buf t;
    sc_buf_init(&t);
    bool ok = put_datetime(&t, s);
    sc_buf_free(&t);
    return ok;
}

void wsman_put_instance(sc_buf *b, const wsman_out *o, const cim_instance *inst)
{
    const cim_class *cls = inst->cls;
    sc_buf_printf(b, "<p:%s xmlns:p=\"", cls->name);
    put_class_uri(b, o, cls->name);
    sc_buf_printf(b, "\" xsi:type=\"p:%s_Type\">", cls->name);
    for (size_t i = 0; i < cls->nprops; i++) {
        const cim_property *pr = &cls->props[i];
        if ((inst->present && !inst->present[i]) || !selected(o, pr->name))
            continue;
        const cim_value *v = &inst->values[i];
        bool nil = v->null || v->type == CIM_T_INSTANCE ||
                   (v->type == CIM_T_DATETIME && !v->array && !datetime_ok(v->v.s));
        if (nil || (v->array && v->count == 0)) {
            sc_buf_printf(b, "<p:%s xsi:nil=\"true\"/>", pr->name);
            continue;
        }
        if (!v->array) {
            put_scalar(b, o, pr->name, v);
            continue;
        }
        for (uint32_t k = 0; k < v->count; k++) /* arrays: the element repeated */
            put_scalar(b, o, pr->name, &v->v.elems[k]);
    }
    sc_buf_printf(b, "</p:%s>", cls->name);
}

void wsman_write_fault(sc_buf *b, const char *relates_to, const wsman_fault *f)
{
    header_open(b, f->action, relates_to);
    if (f->not_understood_name) {
        /* a header in no namespace: an unprefixed QName (xmlns:nu="" is
         * not allowed) */
        bool ns = f->not_understood_ns && *f->not_understood_ns;
        sc_buf_puts(b, ns ? "<s:NotUnderstood qname=\"nu:" : "<s:NotUnderstood qname=\"");
        wsman_escape(b, f->not_understood_name);
        if (ns) {
            sc_buf_puts(b, "\" xmlns:nu=\"");
            wsman_escape(b, f->not_understood_ns);
        }
        sc_buf_puts(b, "\"/>");
    }
    sc_buf_puts(b, "</s:Header><s:Body><s:Fault><s:Code><s:Value>");
    wsman_escape(b, f->code);
    sc_buf_puts(b, "</s:Value>");
    if (f->subcode) {
        sc_buf_puts(b, "<s:Subcode><s:Value>");
        wsman_escape(b, f->subcode);
        sc_buf_puts(b, "</s:Value></s:Subcode>");
    }
    sc_buf_puts(b, "</s:Code><s:Reason><s:Text xml:lang=\"en-US\">");
    wsman_escape(b, f->reason);
    sc_buf_puts(b, "</s:Text></s:Reason>");
    if (f->detail || f->message || f->cim_status) {
        sc_buf_puts(b, "<s:Detail>");
        if (f->detail) {
            sc_buf_puts(b, "<w:FaultDetail>");
            wsman_escape(b, f->detail);
            sc_buf_puts(b, "</w:FaultDetail>");
        }
        if (f->message) {
            sc_buf_printf(b, "<f:WSManFault xmlns:f=\"" WSMAN_NS_FAULT "\" Code=\"%" PRIu32
                             "\" Machine=\"localhost\"><f:Message>",
                          f->wbem_code);
            wsman_escape(b, f->message);
            sc_buf_puts(b, "</f:Message></f:WSManFault>");
        }
        if (f->cim_status) {
            /* CIM_Error as WMI's MSFT_WmiError (docs/wsman.md, "Faults") */
            sc_buf_puts(b, "<p:MSFT_WmiError b:IsCIM_Error=\"true\" xmlns:p=\"" WSMAN_URI_DMTF
                           "MSFT_WmiError\">");
            sc_buf_printf(b, "<p:CIMStatusCode>%d</p:CIMStatusCode>", f->cim_status);
            sc_buf_puts(b, "<p:Message>");
            wsman_escape(b, f->message ? f->message : f->reason);
            sc_buf_puts(b, "</p:Message>");
            sc_buf_printf(b, "<p:MessageID>HRESULT 0x%08" PRIx32 "</p:MessageID>", f->wbem_code);
            sc_buf_puts(b, "<p:OwningEntity>smbcimd</p:OwningEntity>"
                           "<p:PerceivedSeverity>7</p:PerceivedSeverity>"
                           "<p:ProbableCause>0</p:ProbableCause>");
            sc_buf_printf(b, "<p:error_Code>%" PRIu32 "</p:error_Code>", f->wbem_code);
            sc_buf_puts(b, "<p:error_Type>HRESULT</p:error_Type></p:MSFT_WmiError>");
        }
        sc_buf_puts(b, "</s:Detail>");
    }
    sc_buf_puts(b, "</s:Fault></s:Body></s:Envelope>\n");
}
