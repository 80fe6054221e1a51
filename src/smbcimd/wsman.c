/*
 * wsman.c - one WS-Management request to libsmbcim and back
 * (docs/wsman.md).
 *
 * Operations: Identify (without credentials: the protocol only, no
 * product version), Get of an instance by its key selectors (REF keys as
 * endpoint references) and of a class through the CIM-XML schema URI,
 * Enumerate (a class; a WQL filter; the association filter, both kinds),
 * Pull and Release.  Every other Action is a:ActionNotSupported.  The
 * engine is reached through srv_engine() (the caller's authorization, as
 * for CIM-XML); associations through smbcim_associators/references with
 * the filter's names, no query text is built.  Enumeration contexts live in
 * dispatch.c's store (limits, expiry, owner).
 *
 * Memory: each request owns an arena (the parsed request, the paths it
 * builds, the options an enumeration context keeps, which then takes the
 * arena) and the output buffer the caller passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cim/cim.h"
#include "server/cimxml.h"
#include "server/wsman.h"
#include "smbcimd/smbcimd.h"

#define ACT_ADDR_FAULT "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
#define ACT_WSMAN_FAULT "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
#define ACT_ENUM_FAULT "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
#define DETAIL "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"

/* The server's largest envelope when the request names none (Windows'
 * MaxEnvelopeSizekb default, 500 KiB), and the smallest a client may ask
 * for (MS-WSMV 3.1.4.1.7). */
#define ENVELOPE_DEFAULT 512000u
#define ENVELOPE_MIN 8192u
#define MAX_BATCH 32000u

typedef struct wcall {
    srv *s;
    const srv_identity *who;
    const wsman_request *r;
    sc_arena *a;
    unsigned *status;
    sc_buf *out;
    /* the resource */
    wsman_out o;
    const cim_class *cls;      /* NULL for the all-classes URIs */
    bool cls_resolved;         /* the request's own resource is resolved:
                                * EPRs in it default to its namespace */
} wcall;

/* What an enumeration context keeps between pulls (in its arena). */
typedef struct wenum {
    wsman_out o;
    wsman_mode mode;
} wenum;

static void fault(wcall *c, const char *action, const char *code, const char *subcode,
                  const char *detail, int cim, uint32_t wbem, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void fault(wcall *c, const char *action, const char *code, const char *subcode,
                  const char *detail, int cim, uint32_t wbem, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sc_buf_reset(c->out);
    wsman_fault f = {.action = action, .code = code, .subcode = subcode, .reason = msg,
                     .detail = detail, .cim_status = cim, .wbem_code = wbem, .message = msg};
    wsman_write_fault(c->out, c->r ? c->r->message_id : NULL, &f);
    *c->status = 500;
}

static void engine_fault(wcall *c, const smbcim_error *err, bool filter)
{
    int cim = smbcim_status_cim(err->code);
    uint32_t wbem = (uint32_t)err->code;
    switch (err->code) {
    case WBEM_E_ACCESS_DENIED:
        srv_log(LOG_NOTICE, "user '%s' denied (WS-Management): %s", c->who->user, err->msg);
        fault(c, ACT_WSMAN_FAULT, "s:Sender", "w:AccessDenied", NULL, cim, wbem,
              "Access is denied: %s (these classes are readable only by members of the group "
              "'%s')", err->msg, srv_config_of(c->s)->admin_group);
        return;
    case WBEM_E_NOT_FOUND:
        fault(c, ACT_ADDR_FAULT, "s:Sender", "a:DestinationUnreachable", NULL, cim, wbem,
              "The WS-Management service cannot process the request because the instance "
              "does not exist: %s", err->msg);
        return;
    case WBEM_E_INVALID_CLASS:
    case WBEM_E_INVALID_NAMESPACE:
        if (!filter) {
            fault(c, ACT_ADDR_FAULT, "s:Sender", "a:DestinationUnreachable",
                  DETAIL "InvalidResourceURI", cim, wbem, "%s", err->msg);
            return;
        }
        break;
    default:
        break;
    }
    if (filter && (err->code == WBEM_E_INVALID_QUERY || err->code == WBEM_E_INVALID_CLASS ||
                   err->code == WBEM_E_INVALID_QUERY_TYPE || err->code == WBEM_E_NOT_SUPPORTED ||
                   err->code == WBEM_E_INVALID_OBJECT_PATH || err->code == WBEM_E_INVALID_PARAMETER ||
                   err->code == WBEM_E_QUOTA_VIOLATION)) {
        fault(c, ACT_ENUM_FAULT, "s:Sender", "n:CannotProcessFilter", NULL, cim, wbem,
              "The filter cannot be processed: %s: %s", smbcim_status_name(err->code),
              err->msg);
        return;
    }
    if (err->code == WBEM_E_INVALID_OBJECT_PATH || err->code == WBEM_E_INVALID_PARAMETER) {
        fault(c, ACT_WSMAN_FAULT, "s:Sender", "w:InvalidSelectors", DETAIL "InvalidValue", cim,
              wbem, "%s", err->msg);
        return;
    }
    fault(c, ACT_WSMAN_FAULT, "s:Receiver", "w:InternalError", NULL, cim, wbem, "%s: %s",
          smbcim_status_name(err->code), err->msg);
}

static bool prefixed(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static const char *selector(const wsman_selector *sel, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(sel[i].name, name) == 0 && sel[i].value)
            return sel[i].value;
    return NULL;
}

/* The class and namespace a resource URI names (with the selectors that
 * come with it): false after a fault.  cim-xml: the schema URI of GetClass
 * (class from the ClassName selector). */
static bool resolve(wcall *c, const char *uri, const wsman_selector *sel, size_t nsel,
                    bool all_ok, bool *cimxml)
{
    smbcim_ctx *schema = srv_schema_of(c->s);
    const char *cls = NULL;
    const char *ns_sel = selector(sel, nsel, "__cimnamespace");
    const char *ns = NULL;
    *cimxml = false;
    if (!uri) {
        fault(c, ACT_ADDR_FAULT, "s:Sender", "a:DestinationUnreachable",
              DETAIL "InvalidResourceURI", 0, 0, "The request has no ResourceURI header");
        return false;
    }
    if (prefixed(uri, WSMAN_URI_DMTF) || prefixed(uri, "http://schemas.microsoft.com/wbem/wscim/1/cim-schema/2/")) {
        c->o.family = WSMAN_FAMILY_DMTF;
        cls = strrchr(uri, '/') + 1;
        ns = ns_sel;
    } else if (strcasecmp(uri, WSMAN_URI_DMTF_ALL) == 0) {
        c->o.family = WSMAN_FAMILY_DMTF;
        ns = ns_sel;
    } else if (strcasecmp(uri, WSMAN_URI_CIMXML) == 0) {
        c->o.family = WSMAN_FAMILY_DMTF;
        *cimxml = true;
        cls = selector(sel, nsel, "ClassName");
        ns = ns_sel;
        if (!cls) {
            fault(c, ACT_WSMAN_FAULT, "s:Sender", "w:InvalidSelectors",
                  DETAIL "InsufficientSelectors", 0, 0,
                  "The CIM-XML schema resource needs a ClassName selector");
            return false;
        }
    } else if (prefixed(uri, WSMAN_URI_WMI)) {
        c->o.family = WSMAN_FAMILY_WMI;
        const char *path = uri + strlen(WSMAN_URI_WMI);
        const char *slash = strrchr(path, '/');
        if (!slash || slash == path) {
            fault(c, ACT_ADDR_FAULT, "s:Sender", "a:DestinationUnreachable",
                  DETAIL "InvalidResourceURI", 3, WBEM_E_INVALID_NAMESPACE,
                  "The resource URI %s names no namespace and class", uri);
            return false;
        }
        ns = sc_strndup(c->a, path, (size_t)(slash - path));
        cls = slash[1] == '*' && !slash[2] ? NULL : slash + 1;
        /* Windows: a __cimnamespace selector must name the URI's own
         * namespace (MS-WSMV note <46>). */
        if (ns_sel && !srv_ns_equal(ns_sel, ns)) {
            fault(c, ACT_WSMAN_FAULT, "s:Receiver", "w:InternalError", NULL, 3,
                  WBEM_E_INVALID_NAMESPACE,
                  "The __cimnamespace selector (%s) differs from the namespace of the "
                  "resource URI (%s)", ns_sel, ns);
            return false;
        }
    } else {
        fault(c, ACT_ADDR_FAULT, "s:Sender", "a:DestinationUnreachable",
              DETAIL "InvalidResourceURI", 0, 0,
              "The WS-Management service cannot process the request because the resource URI "
              "%s is not served here (smbcimd serves the classes of root/cimv2 it lists)",
              uri);
        return false;
    }
    if (!ns && c->o.ns && c->cls_resolved)
        ns = c->o.ns; /* an EPR inside the request: the request's namespace */
    if (!ns) {
        /* Windows looks in root\hardware then, where none of these classes
         * is: say what to add rather than guess. */
        fault(c, ACT_ADDR_FAULT, "s:Sender", "a:DestinationUnreachable",
              DETAIL "InvalidResourceURI", 3, WBEM_E_INVALID_NAMESPACE,
              "The resource URI %s needs a __cimnamespace selector (root/cimv2)", uri);
        return false;
    }
    if (!srv_ns_equal(ns, "root/cimv2")) {
        fault(c, ACT_ADDR_FAULT, "s:Sender", "a:DestinationUnreachable",
              DETAIL "InvalidResourceURI", 3, WBEM_E_INVALID_NAMESPACE,
              "The namespace %s does not exist here (root/cimv2 does)", ns);
        return false;
    }
    c->o.ns = "root/cimv2";
    c->cls_resolved = true;
    if (!cls || !*cls) {
        if (!all_ok) {
            fault(c, ACT_ADDR_FAULT, "s:Sender", "a:DestinationUnreachable",
                  DETAIL "InvalidResourceURI", 5, WBEM_E_INVALID_CLASS,
                  "This operation needs the resource URI of one class, not %s", uri);
            return false;
        }
        c->cls = NULL;
        return true;
    }
    c->cls = smbcim_class_find(schema, cls);
    if (!c->cls) {
        fault(c, ACT_ADDR_FAULT, "s:Sender", "a:DestinationUnreachable",
              DETAIL "InvalidResourceURI", 5, WBEM_E_INVALID_CLASS,
              "The class %s does not exist in the namespace root/cimv2", cls);
        return false;
    }
    return true;
}

/* The object path of an endpoint reference (its resource URI and key
 * selectors; REF keys nested), into b.  false with *why set. */
static bool epr_path(wcall *c, const char *uri, const wsman_selector *sel, size_t nsel,
                     sc_buf *b, int depth, const char **why, const char **detail)
{
    if (depth > WSMAN_MAX_EPR_DEPTH) {
        *why = "references nested too deep";
        *detail = DETAIL "InvalidValue";
        return false;
    }
    wcall sub = *c;
    sc_buf scratch;
    sc_buf_init(&scratch);
    sub.out = &scratch;
    unsigned st = 200;
    sub.status = &st;
    bool cimxml;
    bool ok = uri && resolve(&sub, uri, sel, nsel, false, &cimxml) && !cimxml;
    sc_buf_free(&scratch);
    if (!ok) {
        *why = sc_sprintf(c->a, "the reference to %s names no class served here",
                          uri ? uri : "(no ResourceURI)");
        *detail = DETAIL "InvalidValue";
        return false;
    }
    const cim_class *cls = sub.cls;
    sc_buf_puts(b, cls->name);
    size_t keys = 0;
    for (size_t i = 0; i < nsel; i++) {
        if (strcasecmp(sel[i].name, "__cimnamespace") == 0)
            continue;
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(sel[j].name, sel[i].name) == 0) {
                *why = sc_sprintf(c->a, "the selector %s is given twice", sel[i].name);
                *detail = DETAIL "DuplicateSelectors";
                return false;
            }
        int k = cim_class_prop_index(cls, sel[i].name);
        if (k < 0 || !cls->props[k].key) {
            *why = sc_sprintf(c->a, "%s is not a key of %s", sel[i].name, cls->name);
            *detail = DETAIL "UnexpectedSelectors";
            return false;
        }
        sc_buf_putc(b, keys++ ? ',' : '.');
        sc_buf_puts(b, cls->props[k].name);
        sc_buf_putc(b, '=');
        if (sel[i].epr) {
            if (cls->props[k].type != CIM_T_REFERENCE) {
                *why = sc_sprintf(c->a, "the key %s of %s is not a reference", sel[i].name,
                                  cls->name);
                *detail = DETAIL "TypeMismatch";
                return false;
            }
            sc_buf inner;
            sc_buf_init(&inner);
            const wsman_epr *e = sel[i].epr;
            bool ok2 = epr_path(c, e->resource_uri, e->selectors, e->nselectors, &inner,
                                depth + 1, why, detail);
            if (ok2)
                cim_append_quoted(b, inner.data ? inner.data : "");
            sc_buf_free(&inner);
            if (!ok2)
                return false;
        } else {
            /* a REF key given as text is taken as an object path */
            cim_append_quoted(b, sel[i].value ? sel[i].value : "");
        }
    }
    if (keys < cls->nkeys) {
        *why = sc_sprintf(c->a, "%s has %zu keys; %zu given", cls->name, cls->nkeys, keys);
        *detail = DETAIL "InsufficientSelectors";
        return false;
    }
    return true;
}

/* ---- answers ------------------------------------------------------------------- */

static void identify(wcall *c, bool full)
{
    sc_buf_puts(c->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<s:Envelope xmlns:s=\""
                WSMAN_NS_SOAP "\" xmlns:wsmid=\"" WSMAN_NS_IDENTITY "\"><s:Header/><s:Body>"
                "<wsmid:IdentifyResponse><wsmid:ProtocolVersion>" WSMAN_NS_WSMAN
                "</wsmid:ProtocolVersion>");
    if (full) {
        sc_buf_puts(c->out, "<wsmid:ProductVendor>smbcim</wsmid:ProductVendor>"
                            "<wsmid:ProductVersion>smbcimd ");
        wsman_escape(c->out, smbcim_version());
        sc_buf_puts(c->out, "</wsmid:ProductVersion><wsmid:SecurityProfiles>"
                            "<wsmid:SecurityProfileName>http://schemas.dmtf.org/wbem/wsman/1/"
                            "wsman/secprofile/https/basic</wsmid:SecurityProfileName>"
                            "</wsmid:SecurityProfiles><wsmb:Capability_FaultIncludesCIMError "
                            "xmlns:wsmb=\"" WSMAN_NS_CIMBINDING "\"/>");
    }
    sc_buf_puts(c->out, "</wsmid:IdentifyResponse></s:Body></s:Envelope>\n");
    *c->status = 200;
}

static void put_item(sc_buf *b, const wsman_out *o, wsman_mode mode, const cim_instance *inst)
{
    switch (mode) {
    case WSMAN_M_OBJECTS:
        wsman_put_instance(b, o, inst);
        break;
    case WSMAN_M_EPR:
        wsman_put_epr(b, o, inst, "a:EndpointReference");
        break;
    case WSMAN_M_OBJECT_AND_EPR:
        sc_buf_puts(b, "<w:Item>");
        wsman_put_instance(b, o, inst);
        wsman_put_epr(b, o, inst, "a:EndpointReference");
        sc_buf_puts(b, "</w:Item>");
        break;
    }
}

/* Items from *pos on, at most max and within the envelope limit, into b;
 * false when not even the first one fits (EncodingLimit). */
static bool put_items(sc_buf *b, const wsman_out *o, wsman_mode mode, const smbcim_result *res,
                      size_t *pos, uint64_t max, size_t room)
{
    size_t start = b->len, n = 0;
    while (*pos < res->count && n < max) {
        size_t before = b->len;
        put_item(b, o, mode, res->instances[*pos]);
        if (b->len - start > room) {
            b->len = before;
            b->data[before] = '\0';
            return n > 0;
        }
        (*pos)++;
        n++;
    }
    return true;
}

/* Items per answer: MaxElements, 1 when absent (DSP0226 R8.2.3), at most
 * MAX_BATCH. */
static uint64_t batch_size(const wsman_request *r)
{
    uint64_t max = r->has_max_elements ? r->max_elements : 1;
    return max == 0 ? 1 : max > MAX_BATCH ? MAX_BATCH : max;
}

static uint64_t envelope_room(const wsman_request *r)
{
    uint64_t env = r->has_max_envelope && r->max_envelope ? r->max_envelope : ENVELOPE_DEFAULT;
    if (env > ENVELOPE_DEFAULT * 4)
        env = ENVELOPE_DEFAULT * 4;
    return env > 2048 ? env - 2048 : 0; /* the envelope around the items */
}

/* The options smbcimd acts on (docs/wsman.md, "Options"); any other
 * with MustComply="true" is refused (w:InvalidOptions). */
static const char *const known_options[] = {
    "IncludeQualifiers", "IncludeInheritedElements", "IncludeInheritanceHierarchy",
    "IncludeClassOrigin", "msftwinrm:UsePreciseArrays",
};

static const wsman_option *unknown_must_comply(const wsman_request *r)
{
    for (size_t i = 0; i < r->noptions; i++) {
        if (!r->options[i].must_comply)
            continue;
        bool known = false;
        for (size_t k = 0; k < sizeof known_options / sizeof known_options[0]; k++)
            known = known || sc_streqi(r->options[i].name, known_options[k]);
        if (!known)
            return &r->options[i];
    }
    return NULL;
}

/* An xs:boolean option's value; dflt when absent or not a boolean. */
static bool opt_bool(const wsman_request *r, const char *name, bool dflt)
{
    for (size_t i = 0; i < r->noptions; i++) {
        if (!sc_streqi(r->options[i].name, name))
            continue;
        const char *v = r->options[i].value;
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
            return true;
        if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
            return false;
    }
    return dflt;
}

static void get_class(wcall *c)
{
    sc_buf_reset(c->out);
    wsman_begin(c->out, "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse",
                c->r->message_id);
    cimxml_writer w;
    cimxml_writer_init(&w, c->out, srv_schema_of(c->s), NULL);
    /* What Windows' client asks for (IncludeInheritanceHierarchy,
     * IncludeInheritedElements and IncludeQualifiers all true); absent, the
     * whole class with qualifiers and origins, without DERIVATION. */
    const wsman_request *r = c->r;
    cimxml_objopts o = {.local_only = !opt_bool(r, "IncludeInheritedElements", true),
                        .include_qualifiers = opt_bool(r, "IncludeQualifiers", true),
                        .include_class_origin = opt_bool(r, "IncludeClassOrigin", true),
                        .derivation = opt_bool(r, "IncludeInheritanceHierarchy", false)};
    cimxml_put_class(&w, c->cls, &o);
    bool ok = cimxml_writer_ok(&w);
    cimxml_writer_free(&w);
    if (!ok) {
        fault(c, ACT_WSMAN_FAULT, "s:Receiver", "w:InternalError", NULL, 1, WBEM_E_FAILED,
              "the class %s cannot be written", c->cls->name);
        return;
    }
    wsman_end(c->out);
    *c->status = 200;
}

typedef struct eargs {
    const char *path;
    const smbcim_query *query; /* parsed before the state is taken (op_enumerate) */
    smbcim_assoc_filter f;
    bool refs;
} eargs;

static smbcim_status e_get(smbcim_ctx *ctx, void *arg, smbcim_result **res, smbcim_error *err)
{
    return smbcim_get_object(ctx, ((eargs *)arg)->path, res, err);
}

static smbcim_status e_enum(smbcim_ctx *ctx, void *arg, smbcim_result **res, smbcim_error *err)
{
    return smbcim_enum_instances(ctx, ((eargs *)arg)->path, res, err);
}

static smbcim_status e_query(smbcim_ctx *ctx, void *arg, smbcim_result **res,
                             smbcim_error *err)
{
    return smbcim_exec_parsed(ctx, ((eargs *)arg)->query, res, err);
}

static smbcim_status e_assoc(smbcim_ctx *ctx, void *arg, smbcim_result **res,
                             smbcim_error *err)
{
    eargs *e = arg;
    return e->refs ? smbcim_references(ctx, e->path, &e->f, res, err)
                   : smbcim_associators(ctx, e->path, &e->f, res, err);
}

/* Runs fn on the current state: the result, with the state's reference
 * (released by the caller), or NULL after a fault. */
static smbcim_result *run(wcall *c, srv_engine_fn fn, eargs *e, bool filter, srv_state **stp)
{
    smbcim_error err = {0};
    srv_state *st = srv_state_get(srv_cache_of(c->s), &err);
    if (!st) {
        fault(c, ACT_WSMAN_FAULT, "s:Receiver", "w:InternalError", NULL, 1, WBEM_E_FAILED,
              "the server state cannot be read: %s", err.msg);
        return NULL;
    }
    smbcim_result *res = NULL;
    if (srv_engine(c->s, c->who, st, fn, e, &res, &err) != WBEM_S_NO_ERROR) {
        engine_fault(c, &err, filter);
        srv_state_release(srv_cache_of(c->s), st);
        return NULL;
    }
    if (res->is_classes) {
        smbcim_result_free(res);
        srv_state_release(srv_cache_of(c->s), st);
        fault(c, ACT_ENUM_FAULT, "s:Sender", "n:CannotProcessFilter", NULL, 7, WBEM_E_NOT_SUPPORTED,
              "the query returns class declarations, which Enumerate does not carry");
        return NULL;
    }
    *stp = st;
    return res;
}

static void op_get(wcall *c)
{
    bool cimxml;
    if (!resolve(c, c->r->resource_uri, c->r->selectors, c->r->nselectors, false, &cimxml))
        return;
    if (cimxml) {
        get_class(c);
        return;
    }
    sc_buf path;
    sc_buf_init(&path);
    const char *why = NULL, *detail = NULL;
    if (!epr_path(c, c->r->resource_uri, c->r->selectors, c->r->nselectors, &path, 0, &why,
                  &detail)) {
        sc_buf_free(&path);
        fault(c, ACT_WSMAN_FAULT, "s:Sender", "w:InvalidSelectors", detail, 4,
              WBEM_E_INVALID_PARAMETER,
              "The WS-Management service cannot process the request because the request "
              "contained invalid selectors for the resource: %s", why);
        return;
    }
    eargs e = {.path = sc_strdup(c->a, path.data)};
    sc_buf_free(&path);
    srv_state *st = NULL;
    smbcim_result *res = run(c, e_get, &e, false, &st);
    if (!res)
        return;
    sc_buf_reset(c->out);
    wsman_begin(c->out, "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse",
                c->r->message_id);
    if (res->count)
        wsman_put_instance(c->out, &c->o, res->instances[0]);
    wsman_end(c->out);
    *c->status = 200;
    smbcim_result_free(res);
    srv_state_release(srv_cache_of(c->s), st);
}

static void op_enumerate(wcall *c)
{
    const wsman_request *r = c->r;
    bool cimxml;
    bool all_ok = r->filter != WSMAN_F_NONE;
    if (!resolve(c, r->resource_uri, r->selectors, r->nselectors, all_ok, &cimxml))
        return;
    if (cimxml) {
        fault(c, ACT_WSMAN_FAULT, "s:Sender", "w:UnsupportedFeature", NULL, 7, WBEM_E_NOT_SUPPORTED,
              "Enumerating classes (Get-CimClass without -ClassName) is not supported; "
              "get one class by name");
        return;
    }
    if (r->bad_mode) {
        fault(c, ACT_WSMAN_FAULT, "s:Sender", "w:UnsupportedFeature",
              DETAIL "EnumerationMode", 0, 0, "The enumeration mode is not supported");
        return;
    }
    if (r->bad_max_elements) {
        fault(c, ACT_WSMAN_FAULT, "s:Sender", "w:SchemaValidationError", NULL, 0, 0,
              "MaxElements is not a number");
        return;
    }
    eargs e = {0};
    srv_engine_fn fn = e_enum;
    bool filter = false;
    smbcim_query *query = NULL;
    smbcim_error perr = {0};
    switch (r->filter) {
    case WSMAN_F_NONE:
        e.path = c->cls->name;
        break;
    case WSMAN_F_WQL:
        if (!r->filter_text || !*r->filter_text) {
            fault(c, ACT_ENUM_FAULT, "s:Sender", "n:CannotProcessFilter", NULL, 15,
                  WBEM_E_INVALID_QUERY, "The WQL filter is empty");
            return;
        }
        /* Told apart and parsed here, before the state is taken and its
         * lock held: a long query (up to 64 KiB) holds no other request
         * up while it is read.  An event query is known by its FROM class
         * in the schema (its WITHIN would not parse as a data query). */
        if (smbcim_is_event_query(srv_schema_of(c->s), r->filter_text)) {
            smbcim_error_set(&perr, WBEM_E_NOT_SUPPORTED,
                             "event queries are not answered by Enumerate (use smbcim watch)");
            engine_fault(c, &perr, true);
            return;
        }
        if (smbcim_query_parse(r->filter_text, &query, &perr) != WBEM_S_NO_ERROR) {
            engine_fault(c, &perr, true);
            return;
        }
        e.query = query;
        fn = e_query;
        filter = true;
        break;
    case WSMAN_F_ASSOCIATED:
    case WSMAN_F_ASSOCIATION: {
        const wsman_epr *obj = r->assoc_object;
        if (!obj) {
            fault(c, ACT_ENUM_FAULT, "s:Sender", "n:CannotProcessFilter", NULL, 4,
                  WBEM_E_INVALID_PARAMETER, "The association filter names no Object");
            return;
        }
        sc_buf path;
        sc_buf_init(&path);
        const char *why = NULL, *detail = NULL;
        if (!epr_path(c, obj->resource_uri, obj->selectors, obj->nselectors, &path, 0, &why,
                      &detail)) {
            sc_buf_free(&path);
            fault(c, ACT_ENUM_FAULT, "s:Sender", "n:CannotProcessFilter", NULL, 4, WBEM_E_INVALID_PARAMETER,
                  "The Object of the association filter is not usable: %s", why);
            return;
        }
        e.path = sc_strdup(c->a, path.data);
        sc_buf_free(&path);
        e.refs = r->filter == WSMAN_F_ASSOCIATION;
        if (e.refs && (r->assoc_class || r->result_role)) {
            fault(c, ACT_ENUM_FAULT, "s:Sender", "n:CannotProcessFilter", NULL, 4,
                  WBEM_E_INVALID_PARAMETER,
                  "AssociationInstances takes ResultClassName and Role only");
            return;
        }
        e.f = (smbcim_assoc_filter){.assoc_class = r->assoc_class,
                                    .result_class = r->result_class, .role = r->role,
                                    .result_role = r->result_role};
        fn = e_assoc;
        filter = true;
        break;
    }
    case WSMAN_F_OTHER:
        fault(c, ACT_ENUM_FAULT, "s:Sender", "n:FilterDialectRequestedUnavailable", NULL, 14,
              WBEM_E_INVALID_QUERY, "The filter dialect %s is not supported (WQL and the association "
              "filter are)", r->filter_dialect ? r->filter_dialect : "(none)");
        return;
    }
    srv_state *st = NULL;
    smbcim_result *res = run(c, fn, &e, filter, &st);
    smbcim_query_free(query); /* the result does not borrow from it */
    if (!res)
        return;
    sc_arena *ea = sc_arena_new();
    wenum *w = sc_alloc(ea, sizeof *w);
    w->o = c->o;
    w->mode = r->mode;
    if (res->select_props) {
        const char **p = sc_alloc_array(ea, res->nselect_props, sizeof(char *));
        for (size_t i = 0; i < res->nselect_props; i++)
            p[i] = sc_strdup(ea, res->select_props[i]);
        w->o.props = p;
        w->o.nprops = res->nselect_props;
    }
    sc_buf_reset(c->out);
    wsman_begin(c->out, "http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse",
                r->message_id);
    size_t pos = 0;
    sc_buf items;
    sc_buf_init(&items);
    if (r->optimize) {
        if (!put_items(&items, &w->o, w->mode, res, &pos, batch_size(r), envelope_room(r))) {
            sc_buf_free(&items);
            smbcim_result_free(res);
            srv_state_release(srv_cache_of(c->s), st);
            sc_arena_free(ea);
            fault(c, ACT_WSMAN_FAULT, "s:Sender", "w:EncodingLimit",
                  DETAIL "ServiceEnvelopeLimit", 0, 0,
                  "One instance does not fit in MaxEnvelopeSize");
            return;
        }
    }
    bool eos = r->optimize && pos == res->count;
    char id[64] = "";
    if (!eos) {
        int refused = 0;
        srv_enum *en = srv_enum_open(c->s, c->who->user, st, res, pos,
                                     srv_config_of(c->s)->default_operation_timeout, ea, w,
                                     &refused);
        if (!en) {
            sc_buf_free(&items);
            smbcim_result_free(res);
            srv_state_release(srv_cache_of(c->s), st);
            sc_arena_free(ea);
            fault(c, ACT_WSMAN_FAULT, "s:Receiver", "w:QuotaLimit", NULL, 27, WBEM_E_QUOTA_VIOLATION,
                  refused == 2 ? "You have too many open enumerations; release some"
                               : "The server has too many open enumerations; retry later");
            return;
        }
        snprintf(id, sizeof id, "uuid:%s", srv_enum_id(en));
        srv_enum_put_back(c->s, en, pos);
    } else {
        /* finished at once: an id that names nothing (a Pull on it is
         * InvalidEnumerationContext) keeps the response's schema */
        snprintf(id, sizeof id, "uuid:00000000-0000-0000-0000-000000000000");
    }
    sc_buf_puts(c->out, "<n:EnumerateResponse><n:EnumerationContext>");
    sc_buf_puts(c->out, id);
    sc_buf_puts(c->out, "</n:EnumerationContext>");
    if (r->optimize) {
        sc_buf_puts(c->out, "<w:Items>");
        sc_buf_add(c->out, items.data ? items.data : "", items.len);
        sc_buf_puts(c->out, "</w:Items>");
        if (eos)
            sc_buf_puts(c->out, "<w:EndOfSequence/>");
    }
    sc_buf_puts(c->out, "</n:EnumerateResponse>");
    wsman_end(c->out);
    *c->status = 200;
    sc_buf_free(&items);
    if (eos) {
        smbcim_result_free(res);
        srv_state_release(srv_cache_of(c->s), st);
        sc_arena_free(ea);
    }
}

static srv_enum *take(wcall *c)
{
    const char *id = c->r->context;
    if (id && strncasecmp(id, "uuid:", 5) == 0)
        id += 5;
    srv_enum *e = id ? srv_enum_take(c->s, id, c->who->user) : NULL;
    if (!e)
        fault(c, ACT_ENUM_FAULT, "s:Receiver", "n:InvalidEnumerationContext", NULL, 21,
              WBEM_E_FAILED,
              "The enumeration context %s is not open (released, finished, expired or not "
              "yours)", c->r->context ? c->r->context : "(none)");
    return e;
}

static void op_pull(wcall *c)
{
    srv_enum *e = take(c);
    if (!e)
        return;
    srv_state *st;
    smbcim_result *res;
    size_t pos;
    void *data;
    srv_enum_get(e, &st, &res, &pos, &data);
    wenum *w = data;
    sc_buf items;
    sc_buf_init(&items);
    if (!put_items(&items, &w->o, w->mode, res, &pos, batch_size(c->r), envelope_room(c->r))) {
        sc_buf_free(&items);
        srv_enum_put_back(c->s, e, pos);
        fault(c, ACT_WSMAN_FAULT, "s:Sender", "w:EncodingLimit", DETAIL "ServiceEnvelopeLimit",
              0, 0, "One instance does not fit in MaxEnvelopeSize");
        return;
    }
    bool eos = pos == res->count;
    sc_buf_reset(c->out);
    wsman_begin(c->out, "http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse",
                c->r->message_id);
    sc_buf_puts(c->out, "<n:PullResponse>");
    if (!eos)
        sc_buf_printf(c->out, "<n:EnumerationContext>uuid:%s</n:EnumerationContext>",
                      srv_enum_id(e));
    /* the items as instances, EPRs or w:Item pairs: the mode of the Enumerate */
    sc_buf_puts(c->out, "<n:Items>");
    sc_buf_add(c->out, items.data ? items.data : "", items.len);
    sc_buf_puts(c->out, "</n:Items>");
    if (eos)
        sc_buf_puts(c->out, "<n:EndOfSequence/>");
    sc_buf_puts(c->out, "</n:PullResponse>");
    wsman_end(c->out);
    *c->status = 200;
    sc_buf_free(&items);
    if (eos)
        srv_enum_drop(c->s, e);
    else
        srv_enum_put_back(c->s, e, pos);
}

static void op_release(wcall *c)
{
    srv_enum *e = take(c);
    if (!e)
        return;
    srv_enum_drop(c->s, e);
    sc_buf_reset(c->out);
    wsman_begin(c->out, "http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse",
                c->r->message_id);
    wsman_end(c->out);
    *c->status = 200;
}

/* xs:duration as WS-Management uses it: P[nD][T[nH][nM][n[.n]S]]. */
static bool is_duration(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p++ != 'P' || !*p)
        return false;
    bool t = false, digits = false, any = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digits = true;
        } else if (*p == '.') {
            if (!digits)
                return false;
        } else if (*p == 'T' && !t && !digits) {
            t = true;
        } else if (strchr(t ? "HMS" : "YMD", *p) && digits) {
            digits = false;
            any = true;
        } else {
            return false;
        }
    }
    return any && !digits;
}

void srv_wsman_handle(srv *s, const srv_identity *who, const char *body, size_t len,
                      unsigned *http_status, sc_buf *out)
{
    sc_arena *a = sc_arena_new();
    wcall c = {.s = s, .who = who, .a = a, .status = http_status, .out = out};
    *http_status = 500;
    wsman_request *r = NULL;
    wsman_parse_error perr = {0};
    wsman_parse_status ps = wsman_parse_request(a, body, len, &r, &perr);
    if (ps != WSMAN_OK) {
        if (!who) {
            *http_status = 401; /* nothing but an Identify without credentials */
        } else if (ps == WSMAN_E_LIMIT) {
            fault(&c, ACT_WSMAN_FAULT, "s:Sender", "w:EncodingLimit", NULL, 0, 0,
                  "The request is over a limit: %s", perr.msg);
        } else {
            fault(&c, ACT_WSMAN_FAULT, "s:Sender", "w:SchemaValidationError", NULL, 0, 0,
                  "The request is not a WS-Management message: %s", perr.msg);
        }
        sc_arena_free(a);
        return;
    }
    c.r = r;
    if (!who) {
        /* Without credentials only an Identify, answered from constants. */
        if (r->identify && r->action == WSMAN_A_NONE)
            identify(&c, false);
        else
            *http_status = 401;
        sc_arena_free(a);
        return;
    }
    const wsman_option *bad_option = unknown_must_comply(r);
    if (r->not_understood_name) {
        sc_buf_reset(out);
        wsman_fault f = {.action = ACT_ADDR_FAULT, .code = "s:MustUnderstand",
                         .reason = "The WS-Management service cannot process a SOAP header "
                                   "in the request that is marked as mustUnderstand",
                         .not_understood_ns = r->not_understood_ns,
                         .not_understood_name = r->not_understood_name};
        wsman_write_fault(out, r->message_id, &f);
        *http_status = 500;
    } else if (r->data_locale_must) {
        fault(&c, ACT_WSMAN_FAULT, "s:Sender", "w:UnsupportedFeature", DETAIL "DataLocale", 0,
              0, "DataLocale with mustUnderstand is not supported (values are en-US)");
    } else if (r->has_max_envelope && r->max_envelope && r->max_envelope < ENVELOPE_MIN) {
        /* (0 means the server's maximum, MS-WSMV 3.1.4.1.7) */
        fault(&c, ACT_WSMAN_FAULT, "s:Sender", "w:EncodingLimit",
              DETAIL "MinimumEnvelopeLimit", 0, 0,
              "MaxEnvelopeSize %llu is below the minimum of %u bytes",
              (unsigned long long)r->max_envelope, ENVELOPE_MIN);
    } else if (bad_option) {
        fault(&c, ACT_WSMAN_FAULT, "s:Sender", "w:InvalidOptions", DETAIL "NotSupported", 7,
              WBEM_E_NOT_SUPPORTED, "The option %s (MustComply) is not supported", bad_option->name);
    } else if (r->operation_timeout && !is_duration(r->operation_timeout)) {
        fault(&c, ACT_ADDR_FAULT, "s:Sender", "a:InvalidMessageInformationHeader", NULL, 0, 0,
              "OperationTimeout '%s' is not an xs:duration", r->operation_timeout);
    } else {
        switch (r->action) {
        case WSMAN_A_NONE:
            if (r->identify)
                identify(&c, true);
            else
                fault(&c, ACT_ADDR_FAULT, "s:Sender", "a:MessageInformationHeaderRequired",
                      NULL, 0, 0, "The request has no Action header");
            break;
        case WSMAN_A_GET: op_get(&c); break;
        case WSMAN_A_ENUMERATE: op_enumerate(&c); break;
        case WSMAN_A_PULL: op_pull(&c); break;
        case WSMAN_A_RELEASE: op_release(&c); break;
        case WSMAN_A_OTHER:
            fault(&c, ACT_ADDR_FAULT, "s:Sender", "a:ActionNotSupported", NULL, 7, WBEM_E_NOT_SUPPORTED,
                  "The action %s is not supported (smbcimd answers Identify, Get, Enumerate, "
                  "Pull and Release)", r->action_uri);
            break;
        }
    }
    sc_arena_free(a);
}
