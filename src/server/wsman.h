/*
 * wsman.h - the WS-Management message layer of smbcimd (DMTF DSP0226 and
 * DSP0227 as Windows speaks them, MS-WSMV; docs/wsman.md): a request
 * parser (wsman_req.c, on expat, namespace-aware) and a response writer
 * (wsman_resp.c).  The HTTP layer hands the parser the body of a POST
 * /wsman; smbcimd's wsman.c turns the typed request into libsmbcim calls
 * and builds the answer with the writer.
 *
 * Ownership
 * ---------
 * - wsman_parse_request() allocates everything it returns (the request and
 *   every string and array reachable from it) in the sc_arena the caller
 *   passes; sc_arena_free() frees it all.  Nothing points into the input
 *   buffer.  The error is a plain struct filled in place.
 * - The writer appends to an sc_buf owned by the caller; instances and
 *   classes given to it are only read.
 *
 * Namespaces are matched by URI, never by prefix (senders differ: s:,
 * soap:, SOAP-ENV:, env:, a default namespace).
 */
#ifndef SMBCIM_SERVER_WSMAN_H
#define SMBCIM_SERVER_WSMAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "smbcim.h"

/* Namespace URIs. */
#define WSMAN_NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define WSMAN_NS_ADDR "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define WSMAN_NS_ENUM "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
#define WSMAN_NS_XFER "http://schemas.xmlsoap.org/ws/2004/09/transfer"
#define WSMAN_NS_WSMAN "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
#define WSMAN_NS_MSWSMAN "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
#define WSMAN_NS_CIMBINDING "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
#define WSMAN_NS_IDENTITY "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
#define WSMAN_NS_CIM "http://schemas.dmtf.org/wbem/wscim/1/common"
#define WSMAN_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define WSMAN_NS_FAULT "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"

/* Action URIs. */
#define WSMAN_ACTION_GET "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
#define WSMAN_ACTION_ENUMERATE "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
#define WSMAN_ACTION_PULL "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
#define WSMAN_ACTION_RELEASE "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"
#define WSMAN_ANONYMOUS "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

/* Filter dialects (compared case-insensitively). */
#define WSMAN_DIALECT_WQL "http://schemas.microsoft.com/wbem/wsman/1/WQL"
#define WSMAN_DIALECT_ASSOC "http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter"

/* Parser limits: beyond them the request is refused (WSMAN_E_LIMIT). */
#define WSMAN_MAX_DEPTH 32         /* element nesting */
#define WSMAN_MAX_ELEMENTS 4096    /* elements in one request */
#define WSMAN_MAX_SELECTORS 32     /* selectors in one SelectorSet */
#define WSMAN_MAX_OPTIONS 64       /* w:Option elements in the w:OptionSet */
#define WSMAN_MAX_EPR_DEPTH 4      /* an EPR in a selector in an EPR ... */
#define WSMAN_MAX_TEXT 65536       /* bytes of one element's text */

typedef enum wsman_action {
    WSMAN_A_NONE = 0,    /* no Action header (an Identify, if the body is one) */
    WSMAN_A_GET,
    WSMAN_A_ENUMERATE,
    WSMAN_A_PULL,
    WSMAN_A_RELEASE,
    WSMAN_A_OTHER,       /* any other Action (Put, Create, Invoke, ...): action_uri */
} wsman_action;

typedef struct wsman_epr wsman_epr;

/* One w:Selector: a text value, or (REF keys) an endpoint reference. */
/* One w:Option of the header's w:OptionSet (DSP0226 6.4): its Name, its
 * text (trimmed) and whether the client insists (MustComply="true"). */
typedef struct wsman_option {
    const char *name;
    const char *value;
    bool must_comply;
} wsman_option;

typedef struct wsman_selector {
    const char *name;
    const char *value;         /* NULL when epr is set */
    const wsman_epr *epr;
} wsman_selector;

/* An endpoint reference: a:Address, a:ReferenceParameters/w:ResourceURI
 * and its w:SelectorSet. */
struct wsman_epr {
    const char *address;       /* NULL if absent */
    const char *resource_uri;  /* NULL if absent */
    const wsman_selector *selectors;
    size_t nselectors;
};

typedef enum wsman_filter {
    WSMAN_F_NONE = 0,
    WSMAN_F_WQL,               /* filter_text holds the query */
    WSMAN_F_ASSOCIATED,        /* b:AssociatedInstances (associators) */
    WSMAN_F_ASSOCIATION,       /* b:AssociationInstances (references) */
    WSMAN_F_OTHER,             /* a dialect we do not know: filter_dialect */
} wsman_filter;

typedef enum wsman_mode {
    WSMAN_M_OBJECTS = 0,       /* no w:EnumerationMode */
    WSMAN_M_EPR,               /* EnumerateEPR */
    WSMAN_M_OBJECT_AND_EPR,    /* EnumerateObjectAndEPR */
} wsman_mode;

typedef struct wsman_request {
    wsman_action action;
    const char *action_uri;    /* verbatim, trimmed; NULL if absent */
    const char *message_id;    /* NULL if absent */
    const char *resource_uri;  /* trimmed; NULL if absent */
    const wsman_selector *selectors; /* the header's w:SelectorSet */
    size_t nselectors;
    bool has_max_envelope;
    uint64_t max_envelope;     /* w:MaxEnvelopeSize (saturated at UINT64_MAX) */
    const char *operation_timeout; /* w:OperationTimeout text, NULL if absent */
    const wsman_option *options; /* the header's w:OptionSet, in order */
    size_t noptions;
    /* The first header with s:mustUnderstand="true" (or "1") that is not
     * understood: its namespace URI and local name; NULL if none. */
    const char *not_understood_ns;
    const char *not_understood_name;
    bool data_locale_must;     /* p:DataLocale with mustUnderstand true */
    /* Body. */
    bool identify;             /* wsmid:Identify */
    bool has_body_element;     /* the Body has an element child */
    /* Enumerate (also Pull: has_max_elements / max_elements). */
    bool optimize;             /* w:OptimizeEnumeration */
    bool has_max_elements;
    uint64_t max_elements;     /* w:MaxElements / n:MaxElements */
    bool bad_max_elements;     /* present but not a number */
    wsman_mode mode;
    bool bad_mode;             /* an EnumerationMode we do not know */
    wsman_filter filter;
    const char *filter_dialect; /* NULL: none given (WQL is then assumed for text) */
    const char *filter_text;   /* WQL: the text, XML-unescaped */
    const wsman_epr *assoc_object; /* b:Object */
    const char *assoc_class;   /* b:AssociationClassName */
    const char *result_class;  /* b:ResultClassName */
    const char *role;          /* b:Role */
    const char *result_role;   /* b:ResultRole */
    /* Pull and Release. */
    const char *context;       /* n:EnumerationContext, trimmed */
} wsman_request;

typedef enum wsman_parse_status {
    WSMAN_OK = 0,
    WSMAN_E_NOT_XML,           /* not well-formed, a DTD or an entity */
    WSMAN_E_NOT_SOAP,          /* not a SOAP 1.2 Envelope with a Body */
    WSMAN_E_LIMIT,             /* a limit above */
    WSMAN_E_INVALID,           /* well-formed SOAP, but a part is malformed */
} wsman_parse_status;

typedef struct wsman_parse_error {
    wsman_parse_status status;
    char msg[256];             /* "line L, column C: what was expected" */
} wsman_parse_error;

/* Parses one request body.  WSMAN_OK with *out set, or the status with err
 * filled (and *out NULL). */
wsman_parse_status wsman_parse_request(sc_arena *a, const char *body, size_t len,
                                       wsman_request **out, wsman_parse_error *err);

/* ------------------------------------------------------------------------
 * Response writing (wsman_resp.c)
 */

/* Where a class's resource URI points: the DMTF form
 * (http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/<Class>, namespace in a
 * __cimnamespace selector) or the WMI form
 * (http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/<Class>). */
typedef enum wsman_family { WSMAN_FAMILY_DMTF = 0, WSMAN_FAMILY_WMI } wsman_family;

#define WSMAN_URI_DMTF "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
#define WSMAN_URI_DMTF_ALL "http://schemas.dmtf.org/wbem/wscim/1/*"
#define WSMAN_URI_WMI "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
#define WSMAN_URI_CIMXML "http://schemas.dmtf.org/wbem/cim-xml/2/cim-schema/2/*"

/* How instances are written: the URI family, the namespace (for the DMTF
 * __cimnamespace selector and the WMI URI), and the selected properties
 * (NULL: all). */
typedef struct wsman_out {
    wsman_family family;
    const char *ns;            /* "root/cimv2" */
    const char *const *props;  /* a SELECT list, or NULL */
    size_t nprops;
} wsman_out;

/* The envelope around a response: the header (Action, a fresh MessageID,
 * To anonymous, RelatesTo = the request's MessageID when it had one) and
 * the opening of the Body; wsman_end closes both. */
void wsman_begin(sc_buf *b, const char *action, const char *relates_to);
void wsman_end(sc_buf *b);
/* The class's resource URI in family f. */
char *wsman_class_uri(sc_arena *a, const wsman_out *o, const char *cls);
/* An instance element (p:<Class> in the class URI's namespace, xsi:type,
 * every property in class order, NULL as xsi:nil, REFs as EPRs). */
void wsman_put_instance(sc_buf *b, const wsman_out *o, const cim_instance *inst);
/* An EPR (wrapped in element `wrap`, e.g. "a:EndpointReference") to the
 * instance: its class URI and key selectors (REF keys as nested EPRs). */
void wsman_put_epr(sc_buf *b, const wsman_out *o, const cim_instance *inst, const char *wrap);
/* Text escaped for XML element content or attributes. */
void wsman_escape(sc_buf *b, const char *s);

/* A SOAP fault (HTTP 500): the whole envelope.  code is "s:Sender",
 * "s:Receiver" or "s:MustUnderstand"; subcode a prefixed QName from the
 * namespaces declared on the envelope (a:, w:, n:) or NULL; detail a
 * w:FaultDetail URI or NULL; cim_status/wbem_code for the MSFT_WmiError
 * detail (0: none); not_understood_ns/name for s:NotUnderstood. */
typedef struct wsman_fault {
    const char *action;
    const char *code;
    const char *subcode;
    const char *reason;
    const char *detail;
    int cim_status;
    uint32_t wbem_code;
    const char *message;
    const char *not_understood_ns;
    const char *not_understood_name;
} wsman_fault;
void wsman_write_fault(sc_buf *b, const char *relates_to, const wsman_fault *f);

#endif
