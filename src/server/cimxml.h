/*
 * cimxml.h - the CIM-XML message layer of smbcimd (DMTF DSP0200 operations
 * encoded as DSP0201 XML): a request parser (cimxml_req.c, on expat) and a
 * response writer (cimxml_resp.c).  The HTTP layer hands the parser the
 * body of a POST, dispatches the typed request to libsmbcim, and builds the
 * answer with the writer.  The requests read are the intrinsic operations
 * smbcimd serves: reads of classes and instances, associations, queries,
 * the pulled enumerations, and CreateInstance / DeleteInstance (the
 * instance a client sends is decoded to text, cimxml_instance, for a
 * provider that knows its class to type).
 *
 * The other direction, smbcimd as the client of a CIM listener (DSP0200
 * export, indications): cimxml_write_export_indication() builds the
 * ExportIndication request and cimxml_parse_export_response() reads the
 * listener's answer, with the request parser's hardening.
 *
 * Ownership
 * ---------
 * - cimxml_parse_request() allocates everything it returns (the
 *   cimxml_request and every string and array reachable from it) in the
 *   sc_arena the caller passes; the caller frees it all with
 *   sc_arena_free().  The parser keeps no pointer into the input buffer
 *   and nothing else to free, whether it succeeds or fails.  The error is a
 *   plain struct filled in place.
 * - The writer appends to an sc_buf owned by the caller (sc_buf_free() it,
 *   or sc_buf_take() the text).  A cimxml_writer borrows the buffer, the
 *   smbcim_ctx and the host string (they must outlive it) and owns one
 *   scratch arena, freed by cimxml_writer_free().  Nothing the writer
 *   returns needs freeing.
 * - Instances and classes given to the writer are only read.
 *
 * Errors
 * ------
 * A request can fail at two levels (DSP0200 §3, wbem-protocols.md §1.4):
 * - protocol level: the body is not XML, not CIM-XML, or asks for
 *   something the transport refuses; the HTTP layer answers with the status
 *   of cimxml_http_status() and the header `CIMError:
 *   cimxml_cimerror_header()`, no body.
 * - CIM level (CIMXML_E_CIM): the request is a well-formed single intrinsic
 *   or extrinsic call, but a parameter is wrong or the method is not
 *   supported; the server answers HTTP 200 with an <ERROR CODE=".."> built
 *   by cimxml_write_error(), using req->id / req->method / req->extrinsic,
 *   which the parser fills before it reports such an error.
 * Every error message starts with "line L, column C: " (1-based) and says
 * what was expected.
 */
#ifndef SMBCIM_SERVER_CIMXML_H
#define SMBCIM_SERVER_CIMXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smbcim.h"
#include "base/base.h"

/* DSP0200 CIM status codes (ERROR/@CODE). */
#define CIM_ERR_FAILED 1
#define CIM_ERR_ACCESS_DENIED 2
#define CIM_ERR_INVALID_NAMESPACE 3
#define CIM_ERR_INVALID_PARAMETER 4
#define CIM_ERR_INVALID_CLASS 5
#define CIM_ERR_NOT_FOUND 6
#define CIM_ERR_NOT_SUPPORTED 7
#define CIM_ERR_ALREADY_EXISTS 11
#define CIM_ERR_NO_SUCH_PROPERTY 12
#define CIM_ERR_INVALID_QUERY 15
#define CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED 14
#define CIM_ERR_INVALID_ENUMERATION_CONTEXT 21
#define CIM_ERR_INVALID_OPERATION_TIMEOUT 22
#define CIM_ERR_FILTERED_ENUMERATION_NOT_SUPPORTED 25
#define CIM_ERR_CONTINUATION_ON_ERROR_NOT_SUPPORTED 26
#define CIM_ERR_SERVER_LIMITS_EXCEEDED 27

/* Parser limits.  Deeper nesting and more elements are refused while
 * expat reads (protocol level, CIMXML_E_NOT_VALID); the others when the
 * tree is walked, as a CIM-level CIM_ERR_INVALID_PARAMETER, before the
 * parts beyond the limit are looked at. */
#define CIMXML_MAX_DEPTH 32          /* element nesting */
#define CIMXML_MAX_ELEMENTS 20000    /* elements in one request */
#define CIMXML_MAX_REF_DEPTH 4       /* reference keys inside reference keys */
#define CIMXML_MAX_PATH 65536        /* bytes of one object path built */
#define CIMXML_MAX_PARAMS 64         /* (I)PARAMVALUEs of one method call */
#define CIMXML_MAX_PROPS 256         /* properties of one INSTANCE sent */

/* ------------------------------------------------------------------------
 * Request parsing
 */
/* The operations.  Open* to CloseEnumeration stay last, the Open ones
 * first among them: the dispatcher tests ranges (the pulled operations are
 * op >= CIMXML_OP_OPEN_ENUMERATE_INSTANCES, the Open ones end at
 * CIMXML_OP_OPEN_QUERY_INSTANCES), so a new operation goes before them. */
typedef enum cimxml_op {
    CIMXML_OP_UNKNOWN = 0,       /* IMETHODCALL name DSP0200 does not define */
    CIMXML_OP_UNSUPPORTED,       /* DSP0200 intrinsic smbcimd does not offer
                                  * (ModifyInstance, GetProperty, ...) */
    CIMXML_OP_EXTRINSIC,         /* METHODCALL */
    CIMXML_OP_GET_CLASS,
    CIMXML_OP_ENUMERATE_CLASSES,
    CIMXML_OP_ENUMERATE_CLASS_NAMES,
    CIMXML_OP_GET_INSTANCE,
    CIMXML_OP_ENUMERATE_INSTANCES,
    CIMXML_OP_ENUMERATE_INSTANCE_NAMES,
    CIMXML_OP_ASSOCIATORS,
    CIMXML_OP_ASSOCIATOR_NAMES,
    CIMXML_OP_REFERENCES,
    CIMXML_OP_REFERENCE_NAMES,
    CIMXML_OP_EXEC_QUERY,
    CIMXML_OP_CREATE_INSTANCE,
    CIMXML_OP_DELETE_INSTANCE,
    CIMXML_OP_OPEN_ENUMERATE_INSTANCES,
    CIMXML_OP_OPEN_ENUMERATE_INSTANCE_PATHS,
    CIMXML_OP_OPEN_ASSOCIATOR_INSTANCES,
    CIMXML_OP_OPEN_ASSOCIATOR_INSTANCE_PATHS,
    CIMXML_OP_OPEN_REFERENCE_INSTANCES,
    CIMXML_OP_OPEN_REFERENCE_INSTANCE_PATHS,
    CIMXML_OP_OPEN_QUERY_INSTANCES,
    CIMXML_OP_PULL_INSTANCES_WITH_PATH,
    CIMXML_OP_PULL_INSTANCE_PATHS,
    CIMXML_OP_PULL_INSTANCES,
    CIMXML_OP_CLOSE_ENUMERATION,
} cimxml_op;

/* DSP0200 spelling of an operation ("EnumerateInstances"); "" for
 * UNKNOWN/UNSUPPORTED/EXTRINSIC. */
const char *cimxml_op_name(cimxml_op op);

/* What an IPARAMVALUE held. */
typedef enum cimxml_pkind {
    CIMXML_P_NULL = 0,     /* empty IPARAMVALUE: the NULL value */
    CIMXML_P_VALUE,        /* VALUE: text */
    CIMXML_P_ARRAY,        /* VALUE.ARRAY: items (NULL for VALUE.NULL) */
    CIMXML_P_CLASSNAME,    /* CLASSNAME: text = class name */
    CIMXML_P_INSTANCENAME, /* INSTANCENAME or VALUE.REFERENCE to an instance:
                            * text = WMI object path */
    CIMXML_P_CLASSPATH,    /* VALUE.REFERENCE to a class: text = class name */
    CIMXML_P_INSTANCE,     /* INSTANCE: inst (CreateInstance's NewInstance) */
    CIMXML_P_OTHER,        /* CLASS, VALUE.NAMEDINSTANCE,
                            * QUALIFIER.DECLARATION: not decoded */
} cimxml_pkind;

/* A property of an INSTANCE a client sent (CreateInstance).  Values stay
 * text, as sent: whoever knows the class types them.  QUALIFIERs are read
 * past. */
typedef struct cimxml_prop {
    const char *name;            /* NAME as sent (an identifier) */
    const char *type;            /* TYPE ("string", "uint16", ...: one of
                                  * DSP0201's); "reference" for
                                  * PROPERTY.REFERENCE; NULL if absent */
    const char *reference_class; /* REFERENCECLASS of PROPERTY.REFERENCE,
                                  * or NULL */
    bool is_array;               /* PROPERTY.ARRAY */
    bool is_ref;                 /* PROPERTY.REFERENCE */
    bool embedded;               /* EmbeddedObject (or EMBEDDEDOBJECT)
                                  * "object" / "instance": the text (once
                                  * decoded, as every text) is the XML of
                                  * an object */
    bool is_null;                /* no VALUE / VALUE.ARRAY / VALUE.REFERENCE */
    const char *value;           /* scalar: the VALUE text (not trimmed);
                                  * reference: the instance's WMI path, in
                                  * the form of cimxml_request.instance_name;
                                  * NULL for arrays and NULL */
    const char **items;          /* arrays: the items (not trimmed), NULL
                                  * for VALUE.NULL */
    size_t nitems;
    unsigned line, col;          /* of the property element */
} cimxml_prop;

/* An INSTANCE a client sent. */
typedef struct cimxml_instance {
    const char *class_name;      /* CLASSNAME (an identifier) */
    const cimxml_prop *props;    /* in request order, names unique
                                  * (case-insensitive) */
    size_t nprops;
    unsigned line, col;          /* of the INSTANCE element */
} cimxml_instance;

typedef struct cimxml_param {
    const char *name;      /* as spelled in the request */
    cimxml_pkind kind;
    const char *text;      /* see cimxml_pkind; NULL for NULL, ARRAY,
                            * INSTANCE and OTHER */
    const char **items;    /* CIMXML_P_ARRAY */
    size_t nitems;
    const cimxml_instance *inst; /* CIMXML_P_INSTANCE */
    unsigned line, col;    /* of the IPARAMVALUE */
} cimxml_param;

/* A boolean parameter: absent (or NULL) leaves CIMXML_UNSET and the
 * operation's DSP0200 default applies (cimxml_flag()). */
typedef enum cimxml_tri {
    CIMXML_UNSET = -1,
    CIMXML_FALSE = 0,
    CIMXML_TRUE = 1,
} cimxml_tri;

typedef struct cimxml_request {
    /* envelope */
    const char *cim_version;      /* CIM/@CIMVERSION ("2.0") */
    const char *dtd_version;      /* CIM/@DTDVERSION */
    const char *id;               /* MESSAGE/@ID, echoed in the response */
    const char *protocol_version; /* MESSAGE/@PROTOCOLVERSION ("1.0") */
    const char *method;           /* IMETHODCALL or METHODCALL NAME, as sent */
    cimxml_op op;
    bool extrinsic;               /* METHODCALL (answer with METHODRESPONSE) */
    const char *nspace;           /* "root/cimv2": NAMESPACE names joined by '/' */
    /* extrinsic calls: the target, a WMI path relative to nspace
     * (Win32_Share.Name="IPC$" or a class name); target_is_class for
     * LOCALCLASSPATH */
    const char *target;
    bool target_is_class;

    /* Typed intrinsic parameters (NULL / CIMXML_UNSET / has_* false when
     * absent).  Object paths are WMI paths in the form the engine parses
     * (docs/object-paths.md): relative for the top level,
     * Win32_Share.Name="IPC$"; reference keys hold the full path of the
     * referenced object, quoted and escaped: Win32_ConnectionShare.
     * Antecedent="\\\\HOST\\root\\cimv2:Win32_Share.Name=\"IPC$\"",... */
    const char *class_name;       /* ClassName */
    const char *instance_name;    /* InstanceName, or ObjectName naming an
                                   * instance */
    const char **string_keys;     /* its keys given as a string <KEYVALUE>
                                   * (not <VALUE.REFERENCE>): a server that
                                   * knows the class refuses them for REF
                                   * keys (DSP0201) */
    size_t nstring_keys;
    const char *object_class;     /* ObjectName naming a class (CLASSNAME) */
    const char *assoc_class;      /* AssocClass */
    const char *result_class;     /* ResultClass */
    const char *role;             /* Role */
    const char *result_role;      /* ResultRole */
    cimxml_tri local_only;
    cimxml_tri deep_inheritance;
    cimxml_tri include_qualifiers;
    cimxml_tri include_class_origin;
    cimxml_tri continue_on_error;
    cimxml_tri return_query_result_class;
    bool has_property_list;       /* PropertyList given and not NULL */
    const char **property_list;   /* its names (no NULL entries) */
    size_t nproperty_list;
    const char *query_language;   /* QueryLanguage (ExecQuery) */
    const char *query;            /* Query (ExecQuery) */
    const char *filter_query_language; /* FilterQueryLanguage (Open*) */
    const char *filter_query;     /* FilterQuery (Open*) */
    const char *enumeration_context;   /* EnumerationContext */
    bool has_max_object_count;
    uint32_t max_object_count;    /* MaxObjectCount */
    bool has_operation_timeout;   /* false: NULL/absent = server default */
    uint32_t operation_timeout;   /* OperationTimeout (seconds, 0 = none) */
    const cimxml_instance *new_instance; /* NewInstance (CreateInstance;
                                          * DeleteInstance's target is
                                          * instance_name) */

    /* every IPARAMVALUE as given, in request order */
    cimxml_param *params;
    size_t nparams;
} cimxml_request;

typedef enum cimxml_errkind {
    CIMXML_OK = 0,
    CIMXML_E_CIM,                         /* HTTP 200 + ERROR CODE=cim_code */
    CIMXML_E_NOT_WELL_FORMED,             /* 400 request-not-well-formed */
    CIMXML_E_NOT_VALID,                   /* 400 request-not-valid */
    CIMXML_E_UNSUPPORTED_CIM_VERSION,     /* 501 unsupported-cim-version */
    CIMXML_E_UNSUPPORTED_DTD_VERSION,     /* 501 unsupported-dtd-version */
    CIMXML_E_UNSUPPORTED_PROTOCOL_VERSION,/* 501 unsupported-protocol-version */
    CIMXML_E_MULTIPLE_REQUESTS,           /* 501 multiple-requests-unsupported */
} cimxml_errkind;

typedef struct cimxml_error {
    cimxml_errkind kind;
    int cim_code;        /* DSP0200 code for CIMXML_E_CIM, else 0 */
    unsigned line, col;  /* 1-based position of the fault, 0 if none */
    char msg[512];
} cimxml_error;

/* Parses one CIM-XML request body (len bytes, need not be NUL-ended).
 * On success returns true with *out set.  On failure returns false with err
 * filled; *out is still set (partially filled: id, method, op, extrinsic
 * as far as they were read) when err->kind == CIMXML_E_CIM, else NULL.
 * Refuses DOCTYPE/entity declarations, deeper nesting than
 * CIMXML_MAX_DEPTH and more elements than CIMXML_MAX_ELEMENTS.  The
 * namespace is reported, not judged (the dispatcher checks it). */
bool cimxml_parse_request(sc_arena *a, const char *body, size_t len,
                          cimxml_request **out, cimxml_error *err);

/* HTTP status for a failed parse: 200 (CIM), 400 or 501. */
int cimxml_http_status(cimxml_errkind kind);
/* CIMError header value for a protocol-level failure ("request-not-valid"),
 * NULL for CIMXML_OK / CIMXML_E_CIM. */
const char *cimxml_cimerror_header(cimxml_errkind kind);

/* The parameter named `name` (case-insensitive), or NULL. */
const cimxml_param *cimxml_request_param(const cimxml_request *req, const char *name);

/* A boolean parameter's value, or the default when unset. */
static inline bool cimxml_flag(cimxml_tri t, bool dflt)
{
    return t == CIMXML_UNSET ? dflt : t == CIMXML_TRUE;
}

/* ------------------------------------------------------------------------
 * Response writing
 */

/* What to put in a CLASS or INSTANCE. */
typedef struct cimxml_objopts {
    bool local_only;            /* CLASS: only local properties, methods and
                                 * qualifiers */
    bool include_qualifiers;    /* QUALIFIER elements (class, property,
                                 * method, parameter) */
    bool include_class_origin;  /* CLASSORIGIN attributes */
    bool derivation;            /* CLASS: DERIVATION="Super,SuperSuper,..." (the
                                 * attribute WS-Management's Windows client asks
                                 * for with IncludeInheritanceHierarchy) */
    const char *const *property_list; /* names to keep (case-insensitive);
                                       * methods are never filtered */
    size_t nproperty_list;
    bool has_property_list;     /* false: all properties */
} cimxml_objopts;

/* The options a request asks for, with the DSP0200 defaults of its
 * operation (GetClass/EnumerateClasses: LocalOnly and IncludeQualifiers
 * true; instance operations: LocalOnly ignored, IncludeQualifiers false;
 * IncludeClassOrigin false).  Borrows req's property list. */
cimxml_objopts cimxml_request_objopts(const cimxml_request *req);

typedef struct cimxml_writer {
    sc_buf *out;              /* borrowed: the document being built */
    const smbcim_ctx *ctx;    /* borrowed, may be NULL: classes for key types */
    const char *host;         /* HOST of every path written: the snapshot
                               * describes this one server, so the server
                               * part of a reference is not repeated */
    const char *nspace;       /* namespace of paths that name none
                               * ("root/cimv2") */
    sc_arena *scratch;        /* owned */
    smbcim_error err;         /* first failure; output is then unusable */
    int embed_depth;          /* embedded instances being written */
} cimxml_writer;

/* host NULL: the context's server name, or "localhost" without one. */
void cimxml_writer_init(cimxml_writer *w, sc_buf *out, const smbcim_ctx *ctx,
                        const char *host);
void cimxml_writer_free(cimxml_writer *w);
/* true while nothing has failed (a failed writer must not be sent: answer
 * with cimxml_write_error(..., CIM_ERR_FAILED, w->err.msg) instead). */
bool cimxml_writer_ok(const cimxml_writer *w);

/* Document skeleton: <?xml?><CIM><MESSAGE><SIMPLERSP><IMETHODRESPONSE NAME>
 * (or METHODRESPONSE when extrinsic) ... and the matching end. */
void cimxml_begin_response(cimxml_writer *w, const char *id, const char *method,
                           bool extrinsic);
void cimxml_end_response(cimxml_writer *w, bool extrinsic);
/* <IRETURNVALUE> ... </IRETURNVALUE> (never self-closed). */
void cimxml_begin_ireturn(cimxml_writer *w);
void cimxml_end_ireturn(cimxml_writer *w);
/* The two output PARAMVALUEs of Open and Pull operations, after
 * IRETURNVALUE: EnumerationContext (empty when context is NULL) and
 * EndOfSequence. */
void cimxml_put_pull_tail(cimxml_writer *w, const char *context, bool end_of_sequence);

/* A whole error response (IMETHODRESPONSE or METHODRESPONSE with one
 * <ERROR CODE DESCRIPTION/>) appended to out; works without a writer. */
void cimxml_write_error(sc_buf *out, const char *id, const char *method, bool extrinsic,
                        int cim_code, const char *description);
/* A void success (CloseEnumeration): an empty IMETHODRESPONSE. */
void cimxml_write_void(sc_buf *out, const char *id, const char *method);

/* ------------------------------------------------------------------------
 * Export messages (DSP0200 "CIM export": smbcimd as the client of a
 * listener).
 */
/* A whole ExportIndication request body: the XML declaration, <CIM
 * CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID=id PROTOCOLVERSION="1.0">
 * <SIMPLEEXPREQ><EXPMETHODCALL NAME="ExportIndication"><EXPPARAMVALUE
 * NAME="NewIndication"><INSTANCE>...</INSTANCE> and the matching ends.
 * The INSTANCE is written as for a read without qualifiers and class
 * origin (a NULL property is an empty PROPERTY); an embedded instance
 * (CIM_T_INSTANCE) as cimxml_put_value() writes one.  Check
 * cimxml_writer_ok() before sending. */
void cimxml_write_export_indication(cimxml_writer *w, const char *id,
                                    const cim_instance *indication);
/* Reads a listener's answer to ExportIndication: <CIM><MESSAGE>
 * <SIMPLEEXPRSP><EXPMETHODRESPONSE NAME="ExportIndication"> holding
 * nothing, an empty <IRETURNVALUE> or one <ERROR CODE=.. DESCRIPTION=..>.
 * true with *cim_code 0 (msg "") for success; true with *cim_code the
 * ERROR's CODE (> 0) and msg its DESCRIPTION for a refusal; false with msg
 * saying what and where ("line L, column C: ...") when the body is not
 * such an answer.  Refuses DOCTYPE and entity declarations and the
 * request parser's depth and size (CIMXML_MAX_DEPTH, CIMXML_MAX_ELEMENTS);
 * the CIM and MESSAGE attributes are not judged.  Allocates nothing the
 * caller frees; msg (msgsize bytes) is always NUL-ended; msgsize 0 (msg
 * may then be NULL) asks for no message. */
bool cimxml_parse_export_response(const char *body, size_t len, int *cim_code, char *msg,
                                  size_t msgsize);

/* IRETURNVALUE items. */
void cimxml_put_classname(cimxml_writer *w, const char *name);
/* CLASS: qualifiers, properties, then METHODs with their PARAMETER /
 * PARAMETER.REFERENCE / PARAMETER.ARRAY / PARAMETER.REFARRAY (DSP0201);
 * a QUALIFIER states OVERRIDABLE / TOSUBCLASS / TRANSLATABLE only where
 * they differ from the DTD's defaults. */
void cimxml_put_class(cimxml_writer *w, const cim_class *cls, const cimxml_objopts *o);
void cimxml_put_instance(cimxml_writer *w, const cim_instance *inst, const cimxml_objopts *o);
/* INSTANCENAME of an instance, from its key values (keys in __RELPATH
 * order), falling back to inst->path. */
void cimxml_put_instancename(cimxml_writer *w, const cim_instance *inst);
/* INSTANCENAME / INSTANCEPATH from a WMI path string (any form
 * cim_path_parse takes); REF keys are recognised through the class. */
void cimxml_put_instancename_path(cimxml_writer *w, const char *path);
void cimxml_put_instancepath_path(cimxml_writer *w, const char *path);
/* INSTANCEPATH (NAMESPACEPATH + INSTANCENAME) of an instance. */
void cimxml_put_instancepath(cimxml_writer *w, const cim_instance *inst);
/* VALUE.NAMEDINSTANCE (EnumerateInstances). */
void cimxml_put_named_instance(cimxml_writer *w, const cim_instance *inst,
                               const cimxml_objopts *o);
/* VALUE.OBJECTWITHPATH (Associators, References, ExecQuery). */
void cimxml_put_object_with_path(cimxml_writer *w, const cim_instance *inst,
                                 const cimxml_objopts *o);
/* OBJECTPATH (AssociatorNames, ReferenceNames). */
void cimxml_put_object_path(cimxml_writer *w, const cim_instance *inst);
/* VALUE.INSTANCEWITHPATH (OpenXxxInstances, PullInstancesWithPath). */
void cimxml_put_instance_with_path(cimxml_writer *w, const cim_instance *inst,
                                   const cimxml_objopts *o);
/* A value: VALUE, VALUE.ARRAY or VALUE.REFERENCE (VALUE.REFARRAY for
 * reference arrays); nothing for NULL.  An embedded instance (CIM_T_INSTANCE)
 * is a VALUE whose text is the XML of its INSTANCE (DSP0201: escaped once
 * more, every property, no qualifiers); a PROPERTY holding one says
 * EmbeddedObject="instance".  Embedded instances nest at most 4 deep
 * (deeper fails the writer). */
void cimxml_put_value(cimxml_writer *w, const cim_value *v);

/* Text helpers: XML-escaped text (element content, or an attribute value
 * when attr) appended to b.  Invalid UTF-8 and characters XML 1.0 forbids
 * become U+FFFD. */
void cimxml_escape(sc_buf *b, const char *s, bool attr);

#endif
