/*
 * cim.h - the object model inside libsmbcim: the schema (a set of class
 * declarations), values, instances and WMI object paths (MS-WMI 2.2.2).
 * The public types themselves (cim_value, cim_class, cim_instance, status
 * codes) are declared in include/smbcim.h; this header adds what the
 * modules share but users of the library do not need.
 *
 * Ownership: every function taking an sc_arena allocates its results there;
 * nothing here frees anything.
 */
#ifndef SMBCIM_CIM_H
#define SMBCIM_CIM_H

#include "smbcim.h"
#include "base/base.h"

/* ---- schema: the classes of one namespace ------------------------------- */
typedef struct cim_schema {
    sc_arena *arena;        /* owns the classes and qualifier declarations */
    cim_class **classes;    /* in declaration order */
    size_t nclasses;
    size_t cap;
    sc_map by_name;         /* name -> cim_class* */
    /* Qualifier type declarations, in declaration order.  A schema with
     * at least one is strict (DSP0004): every qualifier used afterwards
     * must be declared (docs/schema.md, "Qualifier declarations"). */
    cim_qualifier_decl **qualdecls;
    size_t nqualdecls;
    size_t qualcap;
    sc_map qual_by_name;    /* name -> cim_qualifier_decl* */
} cim_schema;

void cim_schema_init(cim_schema *s, sc_arena *arena);
void cim_schema_free(cim_schema *s); /* frees the maps, not the arena */
const cim_class *cim_schema_find(const cim_schema *s, const char *name);
/* Adds a finished class (the MOF parser calls this). */
void cim_schema_add(cim_schema *s, cim_class *cls);
/* Qualifier declarations: look-up (case-insensitive) and adding one (the
 * MOF parser does, after checking the name is new). */
const cim_qualifier_decl *cim_schema_find_qualdecl(const cim_schema *s, const char *name);
void cim_schema_add_qualdecl(cim_schema *s, cim_qualifier_decl *q);
/* Subclasses of `cls` including itself, depth first in schema order. */
size_t cim_schema_subclasses(const cim_schema *s, const cim_class *cls,
                             const cim_class **out, size_t max);

/* ---- values ------------------------------------------------------------- */
cim_value cim_null(cim_type t);
cim_value cim_str(cim_type t, const char *s); /* s NULL -> null value */
cim_value cim_u(cim_type t, uint64_t u);
cim_value cim_i(cim_type t, int64_t i);
cim_value cim_bool(bool b);
/* Deep copy into arena (an embedded object, CIM_T_INSTANCE, is shared,
 * not copied). */
cim_value cim_value_copy(sc_arena *a, const cim_value *v);
/* The same value: type, NULL, array length and every element; strings
 * byte for byte (a change of case is a change); embedded objects by
 * identity.  What makes an __InstanceModificationEvent. */
bool cim_value_equal(const cim_value *a, const cim_value *b);
/* Appends the value as text (smbcim_value_text rules) to b; NULL adds
 * nothing and returns false. */
bool cim_value_append_text(sc_buf *b, const cim_value *v);
/* Appends a string as a double-quoted MOF/path literal: \ -> \\, " -> \" */
void cim_append_quoted(sc_buf *b, const char *s);
/* Formats a time (seconds since the epoch, UTC, with microseconds) as a DMTF
 * datetime "yyyymmddHHMMSS.mmmmmm+000". */
char *cim_datetime_from_epoch(sc_arena *a, int64_t sec, int32_t usec);

/* ---- object paths ------------------------------------------------------- */
/* One key binding.  value.type is CIM_T_STRING for a quoted value,
 * CIM_T_SINT64 / CIM_T_UINT64 for a number, CIM_T_BOOLEAN for TRUE/FALSE,
 * CIM_T_REFERENCE when the binding is known to hold an object path (set by
 * cim_path_resolve from the class).  name is "" for the shorthand
 * Class="v" form until resolved. */
typedef struct cim_keybinding {
    const char *name;
    cim_value value;
} cim_keybinding;

typedef struct cim_objpath {
    const char *server;     /* "FS01", "." or NULL when absent */
    const char *nspace;     /* "root\\cimv2" (separators as given) or NULL */
    const char *class_name;
    bool singleton;         /* Class=@ */
    bool is_class;          /* no key part: a class path */
    cim_keybinding *keys;   /* as given (parse) or sorted (after resolve) */
    size_t nkeys;
} cim_objpath;

/* Parses any WMI path form: \\server\ns:Class.k="v",k2=1 ; ns:Class... ;
 * Class.k="v" ; Class="v" ; Class=@ ; Class.  Accepts '/' for '\' in the
 * namespace part, single or double quotes around values, \\ and \" (and
 * \') escapes inside them.  On failure returns WBEM_E_INVALID_OBJECT_PATH
 * with err->msg naming the 1-based character position and what was
 * expected there.  At most CIM_PATH_MAX_KEYS keys (the duplicate check
 * scans the keys before). */
#define CIM_PATH_MAX_KEYS 256
smbcim_status cim_path_parse(sc_arena *a, const char *text, cim_objpath *out,
                             smbcim_error *err);

/* Checks a parsed instance path against its class: fills the shorthand
 * key name, requires every key exactly once and nothing else, converts
 * value types (a quoted number for a numeric key is accepted), marks REF
 * keys, sorts keys by name.  Errors: WBEM_E_INVALID_OBJECT_PATH. */
smbcim_status cim_path_resolve(sc_arena *a, cim_objpath *p,
                               const cim_class *cls, smbcim_error *err);

/* Relative path (__RELPATH) of an instance: Class.k1="v",k2=5 with keys in
 * alphabetical order (case-insensitive), strings/REFs quoted and escaped,
 * booleans TRUE/FALSE.  NULL if a key is missing or NULL. */
char *cim_instance_relpath(sc_arena *a, const cim_instance *inst);
/* The same with key names spelled as in `spellings` (NULL-terminated;
 * matched case-insensitively, the class's spelling for any not listed):
 * for REF values written as a provider spells them. */
char *cim_instance_relpath_spelled(sc_arena *a, const cim_instance *inst,
                                   const char *const *spellings);
/* The same path of an instance of cls that is known by its keys alone:
 * names[i] = values[i] (n of them, names matched case-insensitively, in any
 * order; every key of cls must be among them, others are ignored).  For a
 * REF to an endpoint without building the endpoint.  NULL as above. */
char *cim_keys_relpath_spelled(sc_arena *a, const cim_class *cls, size_t n,
                               const char *const *names, const cim_value *values,
                               const char *const *spellings);
/* Both paths of an instance at once: returns its full path
 * (\\SERVER\<nspace>:<relpath>) and sets *relpath to its relative path,
 * the tail of the same text (one allocation in a).  NULL (and *relpath
 * NULL) when cim_instance_relpath would give NULL. */
char *cim_instance_paths(sc_arena *a, const cim_instance *inst, const char *server,
                         const char *nspace, const char **relpath);
/* \\SERVER\<nspace>:<relpath> (nspace "root\\cimv2") */
char *cim_full_path(sc_arena *a, const char *server, const char *nspace, const char *relpath);
/* Formats a parsed path back (keys in their current order). full=true
 * includes server/namespace when present. */
char *cim_path_format(sc_arena *a, const cim_objpath *p, bool full);

/* Canonical comparison key for a path: server and namespace dropped, class
 * and key names and string values case-folded, keys sorted, REF-valued (or
 * path-looking) string values normalised recursively.  Two paths that WMI
 * considers the same object give the same key.  NULL if text is not a
 * valid path. */
char *cim_path_normkey(sc_arena *a, const char *text);
/* The same key computed from an instance's key values, without printing
 * and parsing its path: equal to cim_path_normkey(a, inst->relpath). */
char *cim_instance_normkey(sc_arena *a, const cim_instance *inst);
char *cim_objpath_normkey(sc_arena *a, const cim_objpath *p);

/* ---- instances ---------------------------------------------------------- */
cim_instance *cim_instance_new(sc_arena *a, const cim_class *cls);
/* Sets property `name` (must exist; abort otherwise: a schema/provider bug
 * caught by the tests). */
void cim_instance_set(cim_instance *inst, const char *name, cim_value v);
/* The same, keeping v's type: an embedded instance (CIM_T_INSTANCE) in a
 * property declared string with EmbeddedObject.  Unknown names: no-op. */
void cim_instance_put(cim_instance *inst, const char *name, cim_value v);
const cim_value *cim_instance_get(const cim_instance *inst, const char *name);

#endif
