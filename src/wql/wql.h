/*
 * wql.h - WQL text to syntax tree, and evaluation of a WHERE tree over one
 * object through callbacks.  Pure: knows nothing of providers or the engine,
 * only of cim values.  Grammar and semantics: MS-WMI 2.2.1 and the notes in
 * docs/wql.md.
 *
 * Ownership: wql_parse allocates the whole tree in the caller's arena.
 */
#ifndef SMBCIM_WQL_H
#define SMBCIM_WQL_H

#include "cim/cim.h"

typedef enum wql_kind {
    WQL_SELECT = 1,
    WQL_ASSOCIATORS,
    WQL_REFERENCES,
} wql_kind;

typedef enum wql_op {
    WQL_OP_EQ = 1, /* = */
    WQL_OP_NE,     /* <> or != */
    WQL_OP_LT,
    WQL_OP_GT,
    WQL_OP_LE,
    WQL_OP_GE,
    WQL_OP_LIKE,        /* prop LIKE 'pattern' */
    WQL_OP_NOT_LIKE,    /* prop NOT LIKE 'pattern' */
    WQL_OP_ISA,         /* prop ISA 'Class' */
    WQL_OP_IS_NULL,     /* prop IS NULL (also prop = NULL) */
    WQL_OP_IS_NOT_NULL, /* prop IS NOT NULL (also prop <> NULL) */
    WQL_OP_AND,
    WQL_OP_OR,
    WQL_OP_NOT,
} wql_op;

typedef enum wql_lit_kind {
    WQL_LIT_STRING = 1,
    WQL_LIT_INT,   /* decimal or 0x hex integer; value in i (or u if > INT64_MAX) */
    WQL_LIT_REAL,
    WQL_LIT_BOOL,
    WQL_LIT_NULL,
} wql_lit_kind;

typedef struct wql_literal {
    wql_lit_kind kind;
    bool big;          /* WQL_LIT_INT too large for int64: use u */
    int64_t i;
    uint64_t u;
    double r;
    bool b;
    const char *s;     /* unescaped string */
    size_t pos;        /* 1-based column in the query */
} wql_literal;

/* A WHERE node.  Comparisons always have the property on the left: the
 * parser turns "5 < DriveType" into "DriveType > 5". */
typedef struct wql_expr {
    wql_op op;
    struct wql_expr **kids; /* AND, OR: nkids >= 2 operands, in query order */
    size_t nkids;
    struct wql_expr *left;  /* NOT: its operand */
    const char *prop;       /* comparisons: property name as written */
    size_t prop_pos;        /* 1-based column of the property name */
    wql_literal lit;        /* comparisons except IS [NOT] NULL */
} wql_expr;

typedef struct wql_query {
    wql_kind kind;
    /* SELECT */
    bool star;
    const char **props;     /* property list (NULL when star) */
    size_t *props_pos;      /* their columns */
    size_t nprops;
    const char *class_name;
    size_t class_pos;
    wql_expr *where;        /* NULL when no WHERE */
    /* ASSOCIATORS OF / REFERENCES OF */
    const char *path;       /* text between the braces */
    size_t path_pos;        /* column of the first character of the path */
    const char *assoc_class;          /* ASSOCIATORS only */
    const char *result_class;
    const char *result_role;          /* ASSOCIATORS only */
    const char *role;
    const char *required_qualifier;
    const char *required_assoc_qualifier; /* ASSOCIATORS only */
    size_t assoc_class_pos, result_class_pos, result_role_pos, role_pos;
    bool class_defs_only;
    bool keys_only;
    bool schema_only;
    /* Event queries (wql_parse_event); property names there may be dotted
     * ("TargetInstance.ShareName"), as written, in props, group_by and the
     * WHERE and HAVING trees. */
    bool event;             /* parsed by wql_parse_event */
    bool has_within;        /* WITHIN n */
    double within;          /* the polling interval, seconds (> 0) */
    size_t within_pos;      /* column of WITHIN */
    bool has_group;         /* GROUP WITHIN n */
    double group_within;    /* the grouping interval, seconds (> 0) */
    size_t group_pos;       /* column of GROUP */
    const char **group_by;  /* BY names; NULL when none */
    size_t *group_by_pos;
    size_t ngroup_by;
    wql_expr *having;       /* HAVING condition; NULL when none */
} wql_query;

/* Parses a WQL query.  Empty or blank text -> WBEM_E_INVALID_PARAMETER.
 * Syntax errors -> WBEM_E_INVALID_QUERY with "at column N: expected X,
 * found Y".  Keywords are case-insensitive; whitespace is space, tab, CR,
 * LF.  Strings take single or double quotes with \\ \" \' escapes.
 * REFERENCES OF rejects AssocClass / ResultRole / RequiredAssocQualifier;
 * ClassDefsOnly with ResultClass, ClassDefsOnly with KeysOnly and
 * ClassDefsOnly with SchemaOnly are rejected (WBEM_E_INVALID_QUERY).
 * Limits (WBEM_E_QUOTA_VIOLATION, as WMI answers for too many ANDs and
 * ORs): 65,536 bytes of text, 1,000 comparisons, 1,000 names in a SELECT
 * list; parentheses and NOT nest at most 200 deep (WBEM_E_INVALID_QUERY).
 * Parsing is linear in the length of the text. */
smbcim_status wql_parse(sc_arena *a, const char *text, wql_query **out,
                        smbcim_error *err);

/* Parses an event query (MS-WMI 2.2.1.2, docs/wql.md "Event queries"):
 *   SELECT * | name *( "," name ) FROM class [ WITHIN n ] [ WHERE cond ]
 *     [ GROUP WITHIN n [ BY name *( "," name ) ] [ HAVING cond ] ]
 * where a name may be dotted (TargetInstance.ShareName, at most 200
 * parts) and n is a number of seconds (fractions allowed), more than 0 and
 * at most 4294967295 (else WBEM_E_INVALID_QUERY).  Syntax errors are
 * WBEM_E_UNPARSABLE_QUERY, WMI's code for a filtering query that does not
 * parse ("at column N: expected X, found Y"); GROUP BY without GROUP
 * WITHIN is WBEM_E_MISSING_GROUP_WITHIN.  The limits of wql_parse apply
 * (the comparisons of WHERE and HAVING count together).  Whether the class
 * is an event class, the properties and WITHIN's presence are for the
 * caller to check against the schema (src/engine/watch.c). */
smbcim_status wql_parse_event(sc_arena *a, const char *text, wql_query **out,
                              smbcim_error *err);

/* The class a SELECT names in FROM ("SELECT ... FROM Class ..."), read
 * without parsing the rest, in a; NULL when text does not start so.  Tells
 * an event query from a data query before either parser runs. */
const char *wql_from_class(sc_arena *a, const char *text);

/* What the evaluator needs to know about the object being tested. */
typedef struct wql_object_ops {
    /* Value of property `name` (case-insensitive; system properties such as
     * __CLASS included).  Returns false if the object has no such
     * property. */
    bool (*get)(void *obj, const char *name, cim_value *out);
    /* `prop ISA cls`: for __THIS/__CLASS the object's own class, for a REF
     * property the referenced object's class.  1 yes, 0 no, -1 unknown
     * class (an error). */
    int (*isa)(void *obj, const char *prop, const char *cls);
    /* Optional: the canonical key (cim_objpath_normkey) of an object path
     * given in a query, resolved against the schema so that the shorthand
     * Class="v" and numeric keys compare right; NULL if it is not a valid
     * path.  Without it, cim_path_normkey() is used. */
    const char *(*path_key)(void *obj, sc_arena *a, const char *path);
} wql_object_ops;

/* Evaluates `e` over obj: 1 true, 0 false, -1 error (err set, e.g.
 * WBEM_E_INVALID_QUERY for an unknown property, with its column).
 * Semantics: a comparison with a NULL property value is false (IS NULL is
 * the way to test for NULL); strings compare case-insensitively; a number
 * literal against a string property compares as text; a string literal
 * against a numeric property is converted (error if it is not a number);
 * TRUE/FALSE only with =, <>, !=; REF properties compare as object paths
 * (cim_path_normkey). */
int wql_eval(const wql_expr *e, const wql_object_ops *ops, void *obj,
             smbcim_error *err);

/* LIKE matching (case-insensitive): % any run, _ one character, [abc],
 * [a-z], [^...] sets; a literal %, _ or [ goes in brackets. */
bool wql_like(const char *text, const char *pattern);

#endif
