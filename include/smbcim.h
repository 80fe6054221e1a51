/*
 * smbcim.h - the one public header of libsmbcim.
 *
 * libsmbcim answers WMI questions (WQL SELECT, ASSOCIATORS OF, REFERENCES OF,
 * GetObject, and event queries by polling) about Win32_ConnectionShare and
 * its neighbours over the state of an SMB server.  Everything a front end
 * (the smbcim CLI, the smbcimd server, a third-party program) needs is
 * declared here: CIM types and values, class declarations, instances,
 * status codes and the session/request API.
 *
 * Memory (who frees what):
 *  - A result (smbcim_result) is freed with smbcim_result_free().  It
 *    borrows from its context: the instances it lists are built once per
 *    context and shared by its requests, and class declarations belong to
 *    the context.  So a result, and every instance, class, value and string
 *    reachable from it, is valid until smbcim_result_free() *or*
 *    smbcim_close() of its context, whichever comes first: close the
 *    context last.
 *  - The strings of smbcim_class_mof(), smbcim_instance_mof(),
 *    smbcim_value_text() and smbcim_snapshot_text() are malloc()ed and the
 *    caller free()s them.
 *  - A parsed query (smbcim_query_parse) is the caller's, freed with
 *    smbcim_query_free(); results run from it do not borrow from it.
 *  - A watcher (smbcim_watch_open) takes the contexts given to it and
 *    closes them; the events of smbcim_watch_poll() belong to the watcher
 *    and stay valid until smbcim_result_free() or smbcim_watch_close().
 *  - Every other string returned (status names, the route, the server
 *    name, the namespace, the live warning) is owned by the library or the
 *    context: do not free it; it lives as long as the context (or, for
 *    names of constants, for ever).
 *
 * Threads: a context is not thread-safe.  Different contexts may be used
 * by different threads at once; a context shared between threads needs
 * the caller's own lock around every call that takes it, results
 * included (smbcimd holds one mutex per context).
 *
 * Errors: every function taking an smbcim_error clears it first, so an
 * uninitialised or reused one is never read.
 *
 * Out of memory: no call aborts or prints.  It answers WBEM_E_OUT_OF_MEMORY
 * (NULL for the calls that return text or a context), and the context or
 * watcher it ran on is then unusable: every later call on it answers
 * WBEM_E_OUT_OF_MEMORY until smbcim_close / smbcim_watch_close.  Memory
 * the failed call held may be lost (docs/decisions.md, "Out of memory").
 * The library reads the environment and starts processes only for the
 * live source (smbcim_open_live).
 *
 * Versions: the library's file name is libsmbcim.so.MAJOR.MINOR.PATCH with
 * SONAME libsmbcim.so.MAJOR; SMBCIM_VERSION_* give the version this header
 * describes and smbcim_version() the one running.  Only the functions
 * declared here are exported.
 *
 * Structs and later versions (within one MAJOR; tests/abi checks the
 * layouts against tests/abi/layout.txt):
 *  - smbcim_ctx and smbcim_watch are opaque.
 *  - cim_class, cim_instance and smbcim_result are made by the library and
 *    handed out by pointer: a later version may add members at their end.
 *    Never allocate, copy or take the size of one.
 *  - Structs the library hands out in arrays (cim_property, cim_qualifier,
 *    cim_qualifier_decl, cim_parameter, cim_method_decl) end in reserved
 *    members, where a later version puts what it adds without changing
 *    the array's stride.  Ignore them.
 *  - smbcim_assoc_filter is filled by the caller: its reserved members
 *    must be zero (initialise it with = {0} or designated initialisers),
 *    and a later version gives them a meaning only with zero meaning "as
 *    before".
 *  - cim_value, smbcim_error and smbcim_sysprop keep their layout for the
 *    whole MAJOR version (a new kind of value is a new cim_type in the
 *    same union).
 */
#ifndef SMBCIM_H
#define SMBCIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMBCIM_VERSION_MAJOR 0
#define SMBCIM_VERSION_MINOR 1
#define SMBCIM_VERSION_PATCH 0

/* Everything declared in this header, and nothing else, is exported from
 * the shared library (the rest is built with -fvisibility=hidden). */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* "MAJOR.MINOR.PATCH" of the library in use (which may be newer than the
 * header a program was built with, within the same MAJOR). */
const char *smbcim_version(void);

/* ------------------------------------------------------------------------
 * Status codes.  These are Windows' WBEM HRESULTs (wbemcli.h), used end to
 * end; smbcim_status_cim() maps each to its DMTF DSP0200 CIM status code.
 */
typedef uint32_t smbcim_status;

#define WBEM_S_NO_ERROR                 0x00000000u
#define WBEM_E_FAILED                   0x80041001u
#define WBEM_E_NOT_FOUND                0x80041002u
#define WBEM_E_ACCESS_DENIED            0x80041003u
#define WBEM_E_PROVIDER_FAILURE         0x80041004u
#define WBEM_E_TYPE_MISMATCH            0x80041005u
#define WBEM_E_OUT_OF_MEMORY            0x80041006u
#define WBEM_E_INVALID_PARAMETER        0x80041008u
#define WBEM_E_NOT_AVAILABLE            0x80041009u
#define WBEM_E_NOT_SUPPORTED            0x8004100Cu
#define WBEM_E_INVALID_NAMESPACE        0x8004100Eu
#define WBEM_E_INVALID_OBJECT           0x8004100Fu
#define WBEM_E_INVALID_CLASS            0x80041010u
#define WBEM_E_INVALID_QUERY            0x80041017u
#define WBEM_E_INVALID_QUERY_TYPE       0x80041018u
#define WBEM_E_INVALID_SYNTAX           0x80041021u
#define WBEM_E_INVALID_PROPERTY         0x80041031u
#define WBEM_E_INVALID_OBJECT_PATH      0x8004103Au
#define WBEM_E_INVALID_QUALIFIER        0x8004100Du
#define WBEM_E_QUOTA_VIOLATION          0x8004106Cu
/* Event queries (smbcim_watch_open); docs/wql.md, "Event queries". */
#define WBEM_E_UNPARSABLE_QUERY         0x80041058u /* an event query's syntax */
#define WBEM_E_NOT_EVENT_CLASS          0x80041059u /* FROM names no __Event subclass */
#define WBEM_E_MISSING_GROUP_WITHIN     0x8004105Au /* GROUP BY without GROUP WITHIN */
#define WBEM_E_PROPERTY_NOT_AN_OBJECT   0x8004105Cu /* X.Y where X is no embedded object */
#define WBEM_E_AGGREGATING_BY_OBJECT    0x8004105Du /* GROUP BY an embedded object */
#define WBEMESS_E_REGISTRATION_TOO_PRECISE 0x80042002u /* polling needs WITHIN */

/* Text made safe to show (docs/decisions.md, "Control characters in
 * output"): nothing in the result can steer a terminal, start a line or
 * reorder what is seen, and it decodes back to the original.  VISIBLE for
 * plain text (C0/DEL/bad bytes as \xNN, C1, bidi and U+2028/9 as \uNNNN,
 * a backslash before x or u as \x5c); CSV the same but keeping TAB, CR and
 * LF (for quoted cells); MOF for DSP0004 string literals.  A malloc()ed
 * string the caller free()s; NULL is taken as "". */
typedef enum smbcim_text_mode {
    SMBCIM_TEXT_VISIBLE,
    SMBCIM_TEXT_CSV,
    SMBCIM_TEXT_MOF,
} smbcim_text_mode;
char *smbcim_escape_text(const char *s, smbcim_text_mode mode);

/* Symbolic name ("WBEM_E_NOT_FOUND") of a status; "WBEM_E_UNKNOWN" if none. */
const char *smbcim_status_name(smbcim_status st);
/* DSP0200 CIM status code (CIM_ERR_NOT_FOUND = 6, ...) for a status. */
int smbcim_status_cim(smbcim_status st);

/* An error: the first failure of an operation, with a message that says what
 * and where (column in a query, position in a path, JSON path in a file).
 * Every function of this header that takes one clears it first, so it need
 * not be initialised and never reports an earlier call's failure; on
 * success it is left cleared (code WBEM_S_NO_ERROR, msg "").  Within one
 * call it is sticky: once code is set, later smbcim_error_set calls are
 * ignored. */
typedef struct smbcim_error {
    smbcim_status code;
    char msg[1024];
} smbcim_error;

/* Sets err (if not yet set) and returns code, so callers can
 * `return smbcim_error_set(err, WBEM_E_..., "fmt", ...)`. err may be NULL. */
smbcim_status smbcim_error_set(smbcim_error *err, smbcim_status code,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void smbcim_error_clear(smbcim_error *err);

/* ------------------------------------------------------------------------
 * CIM types and values (DSP0004).
 */
typedef enum cim_type {
    CIM_T_NONE = 0,
    CIM_T_BOOLEAN,
    CIM_T_SINT8,
    CIM_T_UINT8,
    CIM_T_SINT16,
    CIM_T_UINT16,
    CIM_T_SINT32,
    CIM_T_UINT32,
    CIM_T_SINT64,
    CIM_T_UINT64,
    CIM_T_REAL32,
    CIM_T_REAL64,
    CIM_T_CHAR16,
    CIM_T_STRING,
    CIM_T_DATETIME,  /* DMTF string yyyymmddHHMMSS.mmmmmmsUUU in v.s */
    CIM_T_REFERENCE, /* object path string in v.s */
    /* An embedded object (WMI's CIM type "object"), the instance in v.o.
     * Only event objects hold one (smbcim_watch_poll: TargetInstance,
     * PreviousInstance, Representative); their classes declare such a
     * property as DSP0004 spells an untyped embedded object,
     * [EmbeddedObject] string, so the property's type is CIM_T_STRING and
     * the value's CIM_T_INSTANCE.  cim_type_name() calls it "object". */
    CIM_T_INSTANCE,
} cim_type;

/* "uint32", "string", "datetime", "ref", ... */
const char *cim_type_name(cim_type t);
bool cim_type_is_signed(cim_type t);
bool cim_type_is_unsigned(cim_type t);
bool cim_type_is_integer(cim_type t);
bool cim_type_is_stringlike(cim_type t); /* string, datetime, reference, char16 */

/* A tagged value.  null = true means NULL (v unused).  For arrays
 * (array = true) v.elems points to count values of the same type, none of
 * them arrays.  Strings are UTF-8 and NUL-terminated; char16 is kept as a
 * one-character UTF-8 string. */
typedef struct cim_value {
    cim_type type;
    bool null;
    bool array;
    uint32_t count;
    union {
        bool b;
        int64_t i;  /* signed integer types */
        uint64_t u; /* unsigned integer types */
        double r;   /* real32, real64 */
        const char *s;
        const struct cim_value *elems;
        const struct cim_instance *o; /* CIM_T_INSTANCE */
    } v;
} cim_value;

/* ------------------------------------------------------------------------
 * Class declarations, built from the MOF under schema/ (the single source of
 * truth) when a context opens.  Read-only for users of the API.  Every
 * array and string reachable from a cim_class belongs to its context
 * (like the class itself): nothing here is freed by the caller, and
 * nothing outlives smbcim_close().
 */

/* Scopes of a qualifier type (DSP0004): the kinds of element it may
 * qualify.  An association is not a "class" for this purpose. */
#define CIM_SCOPE_CLASS       0x01u
#define CIM_SCOPE_ASSOCIATION 0x02u
#define CIM_SCOPE_INDICATION  0x04u
#define CIM_SCOPE_PROPERTY    0x08u
#define CIM_SCOPE_REFERENCE   0x10u
#define CIM_SCOPE_METHOD      0x20u
#define CIM_SCOPE_PARAMETER   0x40u
#define CIM_SCOPE_ANY         0x7Fu

/* A qualifier type declaration (DSP0004 "Qualifier Name : type [= value],
 * Scope(...), Flavor(...);"), read from schema/00_qualifiers.mof: the
 * type every use of the qualifier is converted to, where it may be used
 * and the flavors a use gets unless it gives its own. */
typedef struct cim_qualifier_decl {
    const char *name;
    cim_type type;           /* never CIM_T_REFERENCE or CIM_T_NONE */
    bool array;
    cim_value defval;        /* the default; null if none */
    unsigned scope;          /* CIM_SCOPE_* bits */
    bool tosubclass;         /* ToSubclass (true) or Restricted */
    bool overridable;        /* EnableOverride (true) or DisableOverride */
    bool translatable;       /* Translatable */
    const char *mof_file;
    unsigned mof_line;
    void *reserved[2];       /* for later versions; ignore */
} cim_qualifier_decl;

typedef struct cim_qualifier {
    const char *name;  /* as spelled in the MOF */
    /* Of the declared type (an array for an array type; a bare qualifier
     * is TRUE for a boolean, the declaration's default otherwise).  In a
     * schema without qualifier declarations, the type follows the value
     * as written (an integer is sint64/uint64) and a bare one is TRUE. */
    cim_value value;
    /* DSP0004 flavors: the declaration's unless the use gives its own
     * (": Restricted", ": DisableOverride", ...). */
    bool tosubclass;   /* propagates to subclasses */
    bool overridable;  /* a subclass may give another value */
    bool translatable; /* the value may be localized */
    const cim_qualifier_decl *decl; /* NULL when the schema declares none */
    void *reserved[2];       /* for later versions; ignore */
} cim_qualifier;

typedef struct cim_property {
    const char *name;
    cim_type type;
    bool array;
    const char *ref_class;   /* class a REF property points to, else NULL */
    const cim_qualifier *quals; /* qualifiers given on this declaration */
    size_t nquals;
    const char *origin;      /* class that first declared the property */
    bool local;              /* declared or overridden in this class */
    bool key;                /* has Key (possibly through override) */
    cim_value defval;        /* default value; null if none */
    void *reserved[2];       /* for later versions; ignore */
} cim_property;

/* A method parameter.  An embedded object is a string parameter with the
 * EmbeddedInstance("Class") (or EmbeddedObject) qualifier, as DSP0004
 * writes what Windows' MOF declares as `Class Name`. */
typedef struct cim_parameter {
    const char *name;
    cim_type type;           /* CIM_T_REFERENCE for `Class REF Name` */
    bool array;
    const char *ref_class;   /* class a REF parameter points to, else NULL */
    const cim_qualifier *quals;
    size_t nquals;
    void *reserved[2];       /* for later versions; ignore */
} cim_parameter;

/* A method declaration.  The schema only describes methods: calling one
 * is not supported (smbcimd answers CIM_ERR_NOT_SUPPORTED). */
typedef struct cim_method_decl {
    const char *name;
    cim_type type;           /* return type; CIM_T_NONE for void */
    const cim_parameter *params; /* in declaration order */
    size_t nparams;
    const cim_qualifier *quals;  /* qualifiers given on this declaration */
    size_t nquals;
    const char *origin;      /* class that first declared the method */
    bool local;              /* declared or overridden in this class */
    void *reserved[2];       /* for later versions; ignore */
} cim_method_decl;

typedef struct cim_class {
    const char *name;
    const char *super_name;       /* NULL for a root class */
    const struct cim_class *super;
    const cim_qualifier *quals;   /* qualifiers given on this class */
    size_t nquals;
    const cim_property *props;    /* all properties, inherited first, in MOF order */
    size_t nprops;
    size_t nkeys;
    bool abstract;
    bool association;             /* Association qualifier, here or inherited */
    const char *mof_file;         /* schema file it came from */
    unsigned mof_line;
    const cim_method_decl *methods; /* all methods, inherited first, in MOF order */
    size_t nmethods;
} cim_class;

/* Index of property `name` (case-insensitive) in cls->props, or -1. */
int cim_class_prop_index(const cim_class *cls, const char *name);
/* Index of method `name` (case-insensitive) in cls->methods, or -1. */
int cim_class_method_index(const cim_class *cls, const char *name);
/* true when cls is `ancestor` or derives from it (case-insensitive). */
bool cim_class_is_a(const cim_class *cls, const char *ancestor);
/* Qualifier `name` on the class (searching superclasses for propagated
 * ones), or NULL. */
const cim_qualifier *cim_class_qualifier(const cim_class *cls, const char *name);
/* Qualifier on a property declaration (searching the overridden
 * declarations in superclasses), or NULL. */
const cim_qualifier *cim_property_qualifier(const cim_class *cls, size_t prop,
                                            const char *name);
/* Qualifier on a method declaration (searching the overridden
 * declarations in superclasses), or NULL. */
const cim_qualifier *cim_method_qualifier(const cim_class *cls, size_t method,
                                          const char *name);

/* ------------------------------------------------------------------------
 * Instances.  values[i] belongs to cls->props[i].  A property left out by a
 * SELECT property list has present[i] == false (and is printed by no
 * formatter); present == NULL means all properties are present.
 * relpath/path are the WMI __RELPATH/__PATH, NULL when the instance cannot be
 * identified (a property list without all the keys).
 */
typedef struct cim_instance {
    const cim_class *cls;
    cim_value *values;
    const bool *present;
    const char *relpath;
    const char *path;
} cim_instance;

/* The value of property `name` (case-insensitive) of inst, or NULL when
 * the class has no such property or a SELECT list left it out.  Prefer it
 * to indexing values[]: the index of a property may change between
 * versions of the schema. */
const cim_value *smbcim_instance_get(const cim_instance *inst, const char *name);

/* The WMI system properties of an object, in the order Windows lists them
 * (__GENUS, __CLASS, __SUPERCLASS, __DYNASTY, __RELPATH, __PROPERTY_COUNT,
 * __DERIVATION, __SERVER, __NAMESPACE, __PATH). */
#define SMBCIM_NSYSPROPS 10
typedef struct smbcim_sysprop {
    const char *name;
    cim_value value;
} smbcim_sysprop;

/* ------------------------------------------------------------------------
 * Contexts and requests.
 */
typedef struct smbcim_ctx smbcim_ctx;

/* Opens a context over a snapshot file (format: docs/snapshot-format.md;
 * "-" = standard input): a regular file, a pipe or a socket of at most
 * 512 MiB; a device or a larger file is refused (WBEM_E_INVALID_PARAMETER).
 * Returns NULL with err set on failure. */
smbcim_ctx *smbcim_open_snapshot(const char *path, smbcim_error *err);
/* Same, from a snapshot held in memory (len bytes, need not be NUL-ended);
 * `origin` names it in error messages. */
smbcim_ctx *smbcim_open_snapshot_buffer(const char *buf, size_t len,
                                        const char *origin, smbcim_error *err);
/* A context with the schema only (classes, class queries); every instance
 * enumeration is empty.  Used for `smbcim classes` / `smbcim class`. */
smbcim_ctx *smbcim_open_schema_only(smbcim_error *err);
/* The live local Samba: its configuration (smb_conf; NULL = Samba's
 * default /etc/samba/smb.conf) and the sessions, tree connects and open
 * files smbd records in its lock directory (docs/live-source.md).  The
 * configuration is read when the context opens; smbd's databases when a
 * request first needs them, each once per context (a GetObject of a
 * configured share reads none; Win32_Share reads the sessions and tree
 * connects, not the open files).  Errors of the open: WBEM_E_NOT_AVAILABLE
 * (configuration unreadable, not a regular file or over 16 MiB, or an
 * include that is a FIFO), WBEM_E_INVALID_PARAMETER (a syntax error,
 * with file and line).  Errors of a request that needs smbd's state:
 * WBEM_E_ACCESS_DENIED (not root; Win32_Share then answers from the
 * configuration alone), WBEM_E_FAILED (a database or the smbstatus
 * fallback failed).  When smbd is not running the session classes have no
 * instances (see smbcim_live_warning). */
smbcim_ctx *smbcim_open_live(const char *smb_conf, smbcim_error *err);
/* Why a live context has no sessions, tree connects or open files although
 * it opened: "smbd is not running (...)"; NULL when the state was read
 * (and when it could not be read: then the requests that need it fail
 * with the reason), and for other contexts.  It also carries what reading
 * the configuration skipped, joined with "; ": "usershare FILE (owner uid
 * N) skipped: a FIFO (named pipe), not a regular file" (usershare files
 * smbd would refuse: docs/live-source.md). */
const char *smbcim_live_warning(const smbcim_ctx *ctx);
/* How the live state was read so far: "config" (no request has needed
 * smbd's databases yet), "tdb" (smbd's databases decoded in process),
 * "smbstatus" (the fallback, for some part or all) or "none" (smbd not
 * running or its state not readable: smbcim_live_warning says why); NULL
 * for other contexts.  When the fallback was taken because a record did
 * not decode, *why (if non-NULL) is set to the reason, else to "". */
const char *smbcim_live_route(const smbcim_ctx *ctx, const char **why);
/* The context's state as a snapshot document (docs/snapshot-format.md), a
 * malloc()ed string the caller free()s.  A live context reads every part
 * of smbd's state first; NULL with err set when it cannot (not root:
 * WBEM_E_ACCESS_DENIED) and for a schema-only context. */
char *smbcim_snapshot_text(smbcim_ctx *ctx, smbcim_error *err);
/* The version of the Samba installed on this machine, as `smbd --version`
 * prints it without its "Version " ("4.17.12-Debian"), in a malloc()ed
 * string the caller free()s.  It runs smbd (found through PATH, killed
 * after SMBCIM_RUN_TIMEOUT seconds), so call it seldom: smbcim itself never
 * chooses anything by it (record layouts are told apart by their content).
 * NULL with err set: WBEM_E_NOT_AVAILABLE when smbd is not installed,
 * WBEM_E_FAILED when it fails or prints something unexpected. */
char *smbcim_samba_version(smbcim_error *err);
/* One CTDB node's part of a cluster's state, from the server ids of smbd's
 * records (VNN:PID on a cluster): the session, tree-connect and open-file
 * records its smbd processes hold.  These are records, not instances: a
 * user connected from one client to two nodes is one Win32_ServerConnection
 * and counts on both nodes here. */
typedef struct smbcim_node_load {
    uint32_t node;            /* the node's number (CTDB's PNN, smbstatus' vnn) */
    uint64_t sessions;
    uint64_t tree_connects;
    uint64_t open_files;
    uint64_t reserved[4];     /* zero */
} smbcim_node_load;
/* The nodes named by the context's state (live, or a snapshot taken on a
 * cluster), sorted by number, in a malloc()ed array the caller free()s;
 * *n = 0 and *out = NULL on a single server (no server id names a node).
 * A node whose smbds hold no record is not listed.  Reads every part of a
 * live context's state first, as smbcim_snapshot_text does (and fails as
 * it does); a schema-only context is WBEM_E_NOT_SUPPORTED. */
smbcim_status smbcim_node_loads(smbcim_ctx *ctx, smbcim_node_load **out, size_t *n,
                                smbcim_error *err);
void smbcim_close(smbcim_ctx *ctx);

/* ------------------------------------------------------------------------
 * root\\interop (docs/smbcimd.md, "root/interop"): what a WBEM client
 * looks for to discover a server (DMTF DSP1033: CIM_ObjectManager,
 * CIM_Namespace, CIM_RegisteredProfile and their associations) and the
 * indication subscriptions of DSP1054 (CIM_IndicationFilter,
 * CIM_ListenerDestinationCIMXML, CIM_IndicationSubscription), described by
 * the caller (smbcimd keeps the subscriptions) as the plain records below.
 * Every string is copied; the records may be freed after the call.
 * Reserved members must be zero (WBEM_E_INVALID_PARAMETER otherwise). */
typedef struct smbcim_interop_filter {
    const char *name;             /* Name (key) */
    const char *query;            /* Query */
    const char *query_language;   /* QueryLanguage ("WQL") */
    const char *source_namespace; /* SourceNamespace ("root/cimv2"), or NULL */
    uint32_t reserved[4];
} smbcim_interop_filter;

typedef struct smbcim_interop_destination {
    const char *name;             /* Name (key) */
    const char *destination;      /* Destination: the listener's URL */
    uint16_t persistence_type;    /* PersistenceType: 2 permanent, 3 transient; 0 NULL */
    uint32_t reserved[4];
} smbcim_interop_destination;

typedef struct smbcim_interop_subscription {
    const char *filter;           /* the Name of one of the filters */
    const char *destination;      /* the Name of one of the destinations */
    uint16_t state;               /* SubscriptionState: 2 enabled, 3 enabled
                                   * degraded (deliveries failing), 4 disabled */
    int64_t start_time;           /* SubscriptionStartTime, seconds since
                                   * 1970-01-01 UTC; 0 = NULL */
    int64_t state_time;           /* TimeOfLastStateChange, the same */
    uint32_t reserved[4];
} smbcim_interop_subscription;

typedef struct smbcim_interop {
    const char *system_name;      /* SystemName of every instance, and the
                                   * server of their paths: the host's name */
    const char *product;          /* ElementName of the CIM_ObjectManager
                                   * ("smbcimd 1.2.0"), or NULL */
    uint16_t delivery_retry_attempts; /* CIM_IndicationService's */
    uint32_t delivery_retry_interval; /* seconds */
    const smbcim_interop_filter *filters;
    size_t nfilters;
    const smbcim_interop_destination *destinations;
    size_t ndestinations;
    const smbcim_interop_subscription *subscriptions;
    size_t nsubscriptions;
    uint32_t reserved[4];
} smbcim_interop;

/* Opens a root\\interop context over these records (in NULL: the schema
 * only, no instances).  The same requests as any context (enumerations,
 * GetObject, WQL, associations) answer from them.  Errors:
 * WBEM_E_INVALID_PARAMETER (a NULL name or system_name, two filters or
 * two destinations with one name, a subscription naming neither a filter
 * nor a destination given, two subscriptions of one filter and
 * destination, reserved members set). */
smbcim_ctx *smbcim_open_interop(const smbcim_interop *in, smbcim_error *err);

/* Access control, for a server answering several users from one context.
 * may_read(cls, data) says whether the caller may see instances of cls;
 * the library asks it for every class a request names or would return,
 * and applies one rule to every request (GetObject, enumerations, SELECT,
 * ASSOCIATORS OF, REFERENCES OF, by query or through the API):
 *  - naming an unreadable class fails with WBEM_E_ACCESS_DENIED, whether or
 *    not the instance exists: the class of a GetObject path or of the
 *    source instance of an association, the class enumerated or selected
 *    from, AssocClass, ResultClass;
 *  - an association request that could go through an unreadable
 *    association class fails the same way, decided from the schema alone
 *    (never from whether such links exist), and so does one that would
 *    return an instance of an unreadable class;
 *  - enumerating or selecting from a readable superclass leaves the
 *    unreadable subclasses out, and a path naming a readable superclass
 *    never finds an instance of an unreadable one (WBEM_E_NOT_FOUND, as if
 *    there were none);
 *  - class declarations (GetClass, ClassDefsOnly, class paths) are never
 *    filtered.
 * NULL may_read (the default) lets everything through.  The setting stays
 * until changed; a server sharing a context between users sets it for each
 * request while it holds the context. */
typedef bool (*smbcim_may_read)(const cim_class *cls, void *data);
void smbcim_set_access(smbcim_ctx *ctx, smbcim_may_read may_read, void *data);

/* Server name used in __SERVER / __PATH (upper case). */
const char *smbcim_server_name(const smbcim_ctx *ctx);
/* The namespace of the session classes: "root\\cimv2". */
const char *smbcim_namespace(void);
/* The namespace a context serves: "root\\cimv2" for every context but
 * those of smbcim_open_interop(), "root\\interop" for these.  Paths the
 * context writes carry it; paths given to it may name it (any case, '/'
 * or '\\') or none, any other is WBEM_E_INVALID_NAMESPACE. */
const char *smbcim_ctx_namespace(const smbcim_ctx *ctx);

/* All classes, in schema order. */
size_t smbcim_class_count(const smbcim_ctx *ctx);
const cim_class *smbcim_class_at(const smbcim_ctx *ctx, size_t i);
/* Class by name (case-insensitive) or NULL. */
const cim_class *smbcim_class_find(const smbcim_ctx *ctx, const char *name);

/* A request's answer: instances, or class declarations (ClassDefsOnly). */
typedef struct smbcim_result {
    size_t count;
    const cim_instance **instances; /* count entries, or NULL when classes */
    const cim_class **classes;      /* count entries when is_classes */
    bool is_classes;
    /* Properties the request asked for, in request order (a SELECT list);
     * NULL for SELECT * and non-SELECT requests. */
    const char **select_props;
    size_t nselect_props;
    /* SELECT and enumerations: the class asked for (a CSV header is printed
     * from it when nothing matched); NULL for other requests. */
    const cim_class *query_class;
} smbcim_result;

/* Runs a WQL query (SELECT, ASSOCIATORS OF, REFERENCES OF).  On success
 * *out owns everything it points to.  An empty result is success.  The
 * same as smbcim_query_parse() then smbcim_exec_parsed() (what it answers
 * for a query that does not parse is what smbcim_query_parse answers). */
smbcim_status smbcim_exec_query(smbcim_ctx *ctx, const char *wql,
                                smbcim_result **out, smbcim_error *err);

/* A parsed WQL query (SELECT, ASSOCIATORS OF, REFERENCES OF), opaque.  It
 * holds its syntax tree in memory of its own and refers to no context: it
 * may be run any number of times, on any context (classes, properties and
 * paths are checked against that context's schema at each run, with the
 * errors smbcim_exec_query gives), and by several threads at once, each
 * on its own context; smbcimd parses before it takes a state's lock.
 *
 * Memory: *out of smbcim_query_parse() is the caller's, freed with
 * smbcim_query_free().  A result of smbcim_exec_parsed() does not borrow
 * from the query (its select_props are its own copies): the query may be
 * freed before or after the result. */
typedef struct smbcim_query smbcim_query;

/* Parses wql; needs no context.  Errors are smbcim_exec_query's for the
 * same text, with the same codes and columns: WBEM_E_INVALID_PARAMETER
 * (NULL, empty or blank text; out NULL), WBEM_E_INVALID_QUERY ("at column
 * N: expected X, found Y"; WITHIN, GROUP and HAVING, which belong to
 * event queries), WBEM_E_QUOTA_VIOLATION (the parser's limits: 64 KiB of
 * text, 1,000 comparisons, 1,000 names), WBEM_E_OUT_OF_MEMORY.  On failure
 * *out is NULL and nothing is held.  A SELECT from an event class without
 * WITHIN parses, and runs as smbcim_exec_query runs it (no instances). */
smbcim_status smbcim_query_parse(const char *wql, smbcim_query **out, smbcim_error *err);
/* Runs a parsed query on ctx: what smbcim_exec_query(ctx, its text) would
 * answer, short of the parse.  q is only read.  ctx, q or out NULL is
 * WBEM_E_INVALID_PARAMETER. */
smbcim_status smbcim_exec_parsed(smbcim_ctx *ctx, const smbcim_query *q,
                                 smbcim_result **out, smbcim_error *err);
/* Frees a parsed query.  NULL is fine. */
void smbcim_query_free(smbcim_query *q);
/* GetObject: an instance path (full, namespace-relative or relative) gives
 * one instance, a class path gives a class declaration. */
smbcim_status smbcim_get_object(smbcim_ctx *ctx, const char *path,
                                smbcim_result **out, smbcim_error *err);
/* The filters of ASSOCIATORS OF / REFERENCES OF (and of DSP0200's
 * Associators / References), each NULL when not given.  For references,
 * result_class names the association class (as in WQL and DSP0200) and
 * assoc_class / result_role must be NULL. */
typedef struct smbcim_assoc_filter {
    const char *assoc_class;
    const char *result_class;
    const char *role;
    const char *result_role;
    bool keys_only;
    const void *reserved[4]; /* must be zero (see "Structs and later versions") */
} smbcim_assoc_filter;
/* The instances associated with the object at `path` (both directions,
 * every filter honoured), evaluated from the associations' reference keys
 * as ASSOCIATORS OF is, without any query text.  A class path is a schema
 * query (class declarations).  f may be NULL (no filter). */
smbcim_status smbcim_associators(smbcim_ctx *ctx, const char *path,
                                 const smbcim_assoc_filter *f, smbcim_result **out,
                                 smbcim_error *err);
/* The association instances that refer to the object at `path`. */
smbcim_status smbcim_references(smbcim_ctx *ctx, const char *path,
                                const smbcim_assoc_filter *f, smbcim_result **out,
                                smbcim_error *err);
/* Enumerates a class and its subclasses (= SELECT * FROM cls). */
smbcim_status smbcim_enum_instances(smbcim_ctx *ctx, const char *cls,
                                    smbcim_result **out, smbcim_error *err);
void smbcim_result_free(smbcim_result *res);

/* System properties of instance i of res (10 entries, see above); the
 * strings live in res. */
void smbcim_instance_sysprops(const smbcim_ctx *ctx, const smbcim_result *res,
                              const cim_instance *inst,
                              smbcim_sysprop out[SMBCIM_NSYSPROPS]);
/* Same for a class object (__GENUS 1). */
void smbcim_class_sysprops(const smbcim_ctx *ctx, const cim_class *cls,
                           smbcim_sysprop out[SMBCIM_NSYSPROPS]);

/* ------------------------------------------------------------------------
 * Event queries (WMI's ExecNotificationQuery, polled): docs/wql.md, "Event
 * queries".  A watcher holds one event query, such as
 *   SELECT * FROM __InstanceCreationEvent WITHIN 1
 *     WHERE TargetInstance ISA 'Win32_ServerConnection'
 *       AND TargetInstance.ShareName != 'IPC$'
 * and a state of the server; each poll is given a newly opened context (a
 * new live read, the next snapshot), compares its instances with the
 * previous state's by key (object path; a hash of the keys, linear in the
 * states) and answers the events the query selects: every creation,
 * deletion and modification once, as instances of __InstanceCreationEvent,
 * __InstanceDeletionEvent or __InstanceModificationEvent (schema/
 * 30_events.mof) whose TargetInstance (and PreviousInstance) hold
 * CIM_T_INSTANCE values, TIME_CREATED the state's time in 100-ns intervals
 * since 1601-01-01 UTC, SECURITY_DESCRIPTOR NULL and __PATH, __RELPATH,
 * __SERVER and __NAMESPACE NULL; with GROUP WITHIN, __AggregateEvent
 * instances (NumberOfEvents, Representative) instead.
 *
 * Memory: the watcher owns the contexts given to it (below) and closes
 * them.  A result of smbcim_watch_poll() belongs to the watcher's own
 * schema context (smbcim_watch_context), not to the polled ones: it stays
 * valid after later polls, until smbcim_result_free() or
 * smbcim_watch_close(), whichever comes first.
 */
typedef struct smbcim_watch smbcim_watch;

/* Whether wql is an event query: a SELECT from a class of ctx's schema
 * derived from __Event (__InstanceCreationEvent, ...), valid or not
 * otherwise.  Such a query goes to smbcim_watch_open(); smbcim_exec_query()
 * answers SELECT from an event class as from any class without instances
 * (empty) and refuses WITHIN and GROUP. */
bool smbcim_is_event_query(const smbcim_ctx *ctx, const char *wql);

/* Parses and checks an event query against ctx's schema and takes ctx as
 * the first state, the one the first poll compares with.  On success the
 * watcher owns ctx (never use or close it again); on failure (NULL, err
 * set) ctx is still the caller's.  Errors: WBEM_E_UNPARSABLE_QUERY (syntax,
 * with the column), WBEM_E_NOT_EVENT_CLASS (FROM names a class that is not
 * an event class), WBEM_E_INVALID_CLASS (unknown class in FROM or ISA),
 * WBEMESS_E_REGISTRATION_TOO_PRECISE (no WITHIN: these classes have no
 * event provider, WMI must poll), WBEM_E_INVALID_QUERY (unknown property,
 * a bad interval, a comparison an embedded object cannot take),
 * WBEM_E_PROPERTY_NOT_AN_OBJECT, WBEM_E_MISSING_GROUP_WITHIN,
 * WBEM_E_AGGREGATING_BY_OBJECT, WBEM_E_QUOTA_VIOLATION (the parser's
 * limits), WBEM_E_NOT_SUPPORTED (an event class other than
 * __InstanceOperationEvent and its subclasses); and what reading the first
 * state gives (WBEM_E_ACCESS_DENIED for the session classes when not
 * root). */
smbcim_watch *smbcim_watch_open(smbcim_ctx *ctx, const char *wql, smbcim_error *err);

/* The polling interval of the query (WITHIN), in seconds. */
double smbcim_watch_interval(const smbcim_watch *w);
/* The grouping interval (GROUP WITHIN n: the query answers
 * __AggregateEvent instances), in seconds; 0 without GROUP. */
double smbcim_watch_group_interval(const smbcim_watch *w);

/* One poll: compares state with the previous state and sets *events to the
 * events the query selects (possibly none; never NULL on success).  The
 * watcher takes state in every case: on success it becomes the state the
 * next poll compares with and the previous one is closed; on failure it is
 * closed and the previous state kept, so that a failed read (smbd
 * restarting, an unreadable snapshot) reports nothing and the next good
 * one is compared with the last good one.  state NULL (an open that
 * failed) is WBEM_E_INVALID_PARAMETER.  Aggregation (GROUP WITHIN n) ends
 * a group at the first poll whose state is n seconds or more younger than
 * the group's first event. */
smbcim_status smbcim_watch_poll(smbcim_watch *w, smbcim_ctx *state, smbcim_result **events,
                                smbcim_error *err);

/* The context the events' classes belong to: give it to
 * smbcim_instance_sysprops() for an event or an embedded object.  Owned by
 * the watcher (its schema only; requests on it find no instances). */
const smbcim_ctx *smbcim_watch_context(const smbcim_watch *w);

/* Closes the watcher, its states and its schema context; every result of
 * smbcim_watch_poll() must have been freed before.  NULL is fine. */
void smbcim_watch_close(smbcim_watch *w);

/* ------------------------------------------------------------------------
 * Text forms, each returned as a malloc()ed string the caller free()s.
 */
/* A class as MOF source (qualifiers, local properties). */
char *smbcim_class_mof(const cim_class *cls);
/* An instance as GetObjectText prints it (NULL properties omitted; an
 * embedded object as a nested "instance of"). */
char *smbcim_instance_mof(const cim_instance *inst);
/* A value as text: NULL -> NULL; booleans TRUE/FALSE; integers decimal;
 * strings and paths raw; arrays {a,b}; an embedded object (CIM_T_INSTANCE)
 * its __RELPATH, or its class name when it has none. */
char *smbcim_value_text(const cim_value *v);

#ifdef __cplusplus
}
#endif

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif
#endif
